//! `/api/v1/visio`: programmes, series (their sessions generated on the school's
//! calendar), sessions with their room's readiness, and what became of each.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use preau_core::visio::{self, Change, SeriesPlace, SessionFilter};
use preau_core::{AppError, write_tx};
use preau_domain::FieldError;
use preau_domain::visio::{Reason, SeriesInput, SessionStatus};
use serde::{Deserialize, Serialize};

use super::schema::{List, input};
use super::types;
use super::{Answer, Created, Patch, body, created, version};
use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

pub(super) async fn programmes(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> Answer<List<types::VisioProgramme>> {
    let items = visio::programmes(&s.db, &p)
        .await?
        .iter()
        .map(types::VisioProgramme::from)
        .collect();
    Ok(Json(List { items, next: None }))
}

/// A series as the API takes it.
#[derive(Deserialize, Serialize, Default)]
pub(super) struct SeriesBody {
    programme_id: i64,
    class_id: i64,
    room_id: i64,
    #[serde(default)]
    intervenant_id: Option<i64>,
    weekday: i64,
    start: String,
    duration_min: i64,
    from: String,
    to: String,
    link: String,
}

input! {
    /// A weekly series: the class, its room, the weekday (1 = Monday … 5 = Friday), the
    /// start (`HH:MM`) and length in minutes, the first and last days, the meeting link.
    SeriesDoc for SeriesBody {
        programme_id: i64,
        class_id: i64,
        room_id: i64,
        /// A user with the intervenant role for the programme's provider.
        intervenant_id: Option<i64>,
        weekday: i64,
        start: String,
        duration_min: i64,
        from: NaiveDate,
        to: NaiveDate,
        link: String,
    }
}

/// Creates a series and its sessions.
pub(super) async fn series_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<SeriesBody>, JsonRejection>,
) -> Created<types::VisioSeries> {
    let b = body(b)?;
    let input = SeriesInput {
        weekday: b.weekday.to_string(),
        start: b.start.clone(),
        duration_min: b.duration_min.to_string(),
        from: b.from.clone(),
        to: b.to.clone(),
        link: b.link.clone(),
    };
    let at = SeriesPlace {
        programme_id: b.programme_id,
        class_id: b.class_id,
        room_id: b.room_id,
        intervenant_id: b.intervenant_id,
    };
    let (id, _) = write_tx!(s.db, tx => {
        let series = input.check().map_err(AppError::Invalid)?;
        visio::create_series(tx, &p, &at, &series, Utc::now()).await?
    })?;
    let list = series_sessions(&s, &p, id).await?;
    created(types::VisioSeries { id, sessions: list })
}

async fn series_sessions(
    s: &AppState,
    p: &preau_domain::Principal,
    id: i64,
) -> Result<Vec<types::VisioSession>, ApiError> {
    let f = SessionFilter {
        series: Some(id),
        ..SessionFilter::default()
    };
    let list = visio::sessions(&s.db, p, &f, 0, visio::MAX_SESSIONS).await?;
    with_readiness(s, &list).await
}

async fn with_readiness(
    s: &AppState,
    list: &[visio::Session],
) -> Result<Vec<types::VisioSession>, ApiError> {
    let places: Vec<visio::SessionPlace> = list.iter().map(Into::into).collect();
    let ready = visio::session_readiness(&s.db, &places).await?;
    Ok(list
        .iter()
        .map(|x| types::VisioSession::of(x, ready.get(&x.id)))
        .collect())
}

#[derive(Deserialize)]
pub(super) struct SessionsQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    class: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    status: Option<String>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    limit: Option<i64>,
    cursor: Option<String>,
}

input! {
    /// Which sessions: a school's, a class's, between two days (both included), one status
    /// (`prevue`, `tenue`, `non_tenue`, `annulee`); `limit` (default 200) and the `next`
    /// cursor of the previous page.
    SessionsQueryDoc for SessionsQuery {
        school: Option<i64>,
        class: Option<i64>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        status: Option<String>,
        limit: Option<i64>,
        cursor: Option<String>,
    }
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    preau_domain::paris::at(d, 0, 0)
}

pub(super) async fn sessions(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<SessionsQuery>, QueryRejection>,
) -> Answer<List<types::VisioSession>> {
    let q = super::query(q)?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(v) => Some(SessionStatus::parse("status", v).map_err(|e| ApiError::invalid(vec![e]))?),
    };
    let offset =
        match q.cursor.as_deref() {
            None | Some("") => 0,
            Some(c) => c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::invalid(vec![FieldError::new("cursor", "unknown_value")])
            })?,
        };
    let limit = q.limit.unwrap_or(200);
    if !(1..=visio::MAX_SESSIONS).contains(&limit) {
        return Err(ApiError::invalid(vec![FieldError::new(
            "limit",
            "out_of_range",
        )]));
    }
    let f = SessionFilter {
        school: q.school,
        class: q.class,
        series: None,
        programme: None,
        from: q.from.map(day_start),
        to: q.to.map(|d| day_start(d + chrono::Duration::days(1))),
        status,
    };
    let mut list = visio::sessions(&s.db, &p, &f, offset, limit + 1).await?;
    let next = (list.len() as i64 > limit).then(|| (offset + limit).to_string());
    list.truncate(limit as usize);
    Ok(Json(List {
        items: with_readiness(&s, &list).await?,
        next,
    }))
}

/// What a PATCH of a session may say.
#[derive(Deserialize, Serialize, Default)]
pub(super) struct SessionBody {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    starts_at: Option<DateTime<Utc>>,
}

input! {
    /// `status`: `tenue`, `non_tenue` (with a `reason`) once the session has started,
    /// `annulee` (with a `reason`) before; or a new `starts_at` for this session alone.
    /// `reason`: `equipement`, `reseau`, `enseignant_absent`, `intervenant_absent`,
    /// `ecole_fermee`, `autre`. `version` is required.
    SessionDoc for SessionBody {
        status: Option<String>,
        reason: Option<String>,
        note: Option<String>,
        starts_at: Option<DateTime<Utc>>,
    }
}

pub(super) async fn session_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<Patch>, JsonRejection>,
) -> Answer<types::VisioSession> {
    let patch = body(b)?;
    let ver = version(&patch)?;
    let b: SessionBody = serde_json::from_value(serde_json::Value::Object(patch.fields.clone()))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let what = change_of(&b).map_err(ApiError::invalid)?;
    write_tx!(s.db, tx => visio::change(tx, &p, id, ver, &what, Utc::now()).await?)?;
    let x = visio::session(&s.db, &p, id).await?;
    let mut one = with_readiness(&s, std::slice::from_ref(&x)).await?;
    Ok(Json(one.remove(0)))
}

/// The change a body asks for; errors name the field.
fn change_of(b: &SessionBody) -> Result<Change, Vec<FieldError>> {
    let reason = |b: &SessionBody| match b.reason.as_deref() {
        Some(r) if !r.trim().is_empty() => Reason::parse("reason", r).map_err(|e| vec![e]),
        _ => Err(vec![FieldError::new("reason", "required")]),
    };
    let note = b.note.clone().unwrap_or_default();
    match (b.status.as_deref(), b.starts_at) {
        (Some(_), Some(_)) => Err(vec![FieldError::new("starts_at", "one_change")]),
        (None, Some(t)) => Ok(Change::Move(t)),
        (None, None) => Err(vec![FieldError::new("status", "required")]),
        (Some(st), None) => match SessionStatus::parse("status", st).map_err(|e| vec![e])? {
            SessionStatus::Tenue => Ok(Change::Held),
            SessionStatus::NonTenue => Ok(Change::NotHeld(reason(b)?, note)),
            SessionStatus::Annulee => Ok(Change::Cancel(reason(b)?, note)),
            SessionStatus::Prevue => Err(vec![FieldError::new("status", "status_move")]),
        },
    }
}
