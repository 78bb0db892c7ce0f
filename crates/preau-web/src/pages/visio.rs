//! Visio pages: the sessions each person follows (the coming two weeks with each room's
//! readiness, or the past ones with what became of them), a session's page with what may
//! be done to it, and the programmes page where the administrator or the directeur plans
//! weekly series; a directeur declares a day the school is closed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Duration, Utc};
use preau_core::visio::{self, Change, SeriesPlace, SessionFilter};
use preau_core::{AppError, write_tx};
use preau_domain::visio::{Reason, SeriesInput, SessionStatus};
use preau_domain::{FieldError, Lang, Role};
use serde::Deserialize;

use super::form::FlashQuery;
use super::parts::charts::euros;
use super::{Ctx, LangTitle, flash_key, paris, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

/// One session as the lists show it.
pub struct Line {
    pub id: i64,
    pub when: String,
    pub school: String,
    pub class: String,
    pub room: String,
    pub intervenant: String,
    pub status_code: &'static str,
    pub status: String,
    pub ready: Option<bool>,
    pub missing: String,
}

fn status_words(s: &visio::Session, lang: Lang) -> String {
    let mut w = s.status().label(lang).to_string();
    if let Some(r) = s.reason() {
        w.push_str(" — ");
        w.push_str(r.label(lang));
    }
    w
}

fn lines(
    list: &[visio::Session],
    ready: &std::collections::HashMap<i64, preau_domain::visio::Readiness>,
    lang: Lang,
    upcoming: bool,
) -> Vec<Line> {
    list.iter()
        .map(|s| {
            let r = ready.get(&s.id).filter(|_| upcoming);
            Line {
                id: s.id,
                when: format!(
                    "{} – {}",
                    paris(s.starts_at),
                    preau_domain::paris::local(s.ends_at).format("%H:%M")
                ),
                school: s.school.clone(),
                class: s.class_label.clone(),
                room: s.room.clone(),
                intervenant: s.intervenant.clone().unwrap_or_default(),
                status_code: s.status().code(),
                status: status_words(s, lang),
                ready: r.map(|r| r.ready),
                missing: r.map(|r| r.missing_words(lang)).unwrap_or_default(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "visio.html")]
struct ListPage {
    ctx: Ctx,
    upcoming: bool,
    lines: Vec<Line>,
    /// Held, not held, cancelled, lost to equipment or network, its share (past view).
    counts: Option<(i64, i64, i64, i64, String)>,
    schools: Vec<(i64, String)>,
    today: String,
    can_plan: bool,
    can_statement: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    when: String,
    flash: Option<String>,
}

/// The sessions the person follows: the coming two weeks (with readiness) or the last
/// three months (with outcomes).
pub async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let now = Utc::now();
    let upcoming = q.when != "past";
    let f = if upcoming {
        SessionFilter {
            from: Some(now - Duration::hours(1)),
            to: Some(now + Duration::days(15)),
            ..SessionFilter::default()
        }
    } else {
        SessionFilter {
            from: Some(now - Duration::days(92)),
            to: Some(now),
            ..SessionFilter::default()
        }
    };
    let mut list = visio::sessions(&s.db, p, &f, 0, 500).await?;
    if !upcoming {
        list.reverse();
    }
    let places: Vec<visio::SessionPlace> = list.iter().map(Into::into).collect();
    let ready = if upcoming {
        visio::session_readiness(&s.db, &places).await?
    } else {
        Default::default()
    };
    let counts = if upcoming {
        None
    } else {
        let o = visio::outcomes(&s.db, p, now - Duration::days(92), now).await?;
        let t = o.total;
        Some((
            t.held,
            t.not_held,
            t.cancelled,
            t.technical,
            t.technical_share()
                .map(|x| format!("{x:.1} %").replace('.', ","))
                .unwrap_or_else(|| "—".into()),
        ))
    };
    let schools = visio::plannable_schools(&s.db, p).await?;
    render(&ListPage {
        ctx: Ctx::page(&a, p.lang_title("visio.title"), "visio")
            .flash(flash_key(q.flash.as_deref())),
        upcoming,
        lines: lines(&list, &ready, lang, upcoming),
        counts,
        can_plan: !schools.is_empty(),
        can_statement: p.is_admin() || p.has(Role::Elu) || p.has(Role::Prestataire),
        schools,
        today: super::today().to_string(),
    })
}

#[derive(Template)]
#[template(path = "visio_session.html")]
struct SessionPage {
    ctx: Ctx,
    s: Line,
    link: String,
    note: String,
    version: i64,
    upcoming: bool,
    started: bool,
    /// May record it held or not / cancel it; may move it.
    can_record: bool,
    can_move: bool,
    reasons: Vec<(&'static str, &'static str)>,
    /// Broken devices keeping the room from being ready, with their page.
    broken: Vec<(String, i64)>,
    date: String,
    start: String,
    errors: Vec<String>,
}

async fn session_page(
    s: &AppState,
    a: &Auth,
    id: i64,
    flash: Option<&str>,
    errors: &[FieldError],
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let x = visio::session(&s.db, p, id).await?;
    let now = Utc::now();
    let upcoming = x.status() == SessionStatus::Prevue && x.ends_at > now;
    let ready = visio::session_readiness(&s.db, &[(&x).into()]).await?;
    let own = p.has(Role::Intervenant) && x.intervenant_id == Some(p.user_id);
    let school_side = p.can_record_visio(x.school_id);
    let local = preau_domain::paris::local(x.starts_at);
    let r = ready.get(&x.id);
    let mut page = SessionPage {
        ctx: Ctx::page(a, format!("{} — {}", x.programme, x.class_label), "visio")
            .crumb("/visio", p.lang_title("visio.title"))
            .flash(flash_key(flash)),
        s: lines(std::slice::from_ref(&x), &ready, lang, upcoming).remove(0),
        link: x.link.clone(),
        note: x.note.clone(),
        version: x.version,
        upcoming,
        started: x.starts_at <= now,
        can_record: own || school_side,
        can_move: school_side && !p.has_only(Role::Enseignant),
        reasons: Reason::ALL
            .iter()
            .map(|r| (r.code(), r.label(lang)))
            .collect(),
        broken: r
            .map(|r| {
                r.broken
                    .iter()
                    .map(|(n, d)| (n.label(lang).to_string(), *d))
                    .collect()
            })
            .unwrap_or_default(),
        date: local.date_naive().to_string(),
        start: local.format("%H:%M").to_string(),
        errors: errors.iter().map(|e| e.message(lang)).collect(),
    };
    // An intervenant sees no device: only the words of what is missing.
    if p.has_only(Role::Intervenant) {
        page.broken.clear();
    }
    let mut resp = render(&page)?;
    if !errors.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

pub async fn session(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    session_page(&s, &a, id, q.flash(), &[]).await
}

#[derive(Deserialize)]
pub struct SessionForm {
    action: String,
    version: i64,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
}

/// Held, not held, cancelled or moved, from the session's page.
pub async fn session_post(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<SessionForm>,
) -> PageResult {
    let p = &a.p;
    let reason = || Reason::parse("reason", &f.reason);
    let what = match f.action.as_str() {
        "held" => Ok(Change::Held),
        "not_held" => reason().map(|r| Change::NotHeld(r, f.note.clone())),
        "cancel" => reason().map(|r| Change::Cancel(r, f.note.clone())),
        "move" => {
            let day = preau_domain::device::date("date", Some(&f.date));
            let at = preau_domain::visio::time_of_day("start", &f.start);
            match (day, at) {
                (Ok(Some(d)), Ok(t)) => Ok(Change::Move(preau_domain::paris::at(
                    d,
                    chrono::Timelike::hour(&t),
                    chrono::Timelike::minute(&t),
                ))),
                (Err(e), _) | (_, Err(e)) => Err(e),
                (Ok(None), _) => Err(FieldError::new("date", "required")),
            }
        }
        _ => Err(FieldError::new("action", "unknown_value")),
    };
    let result = match what {
        Ok(w) => write_tx!(s.db, tx => visio::change(tx, p, id, f.version, &w, Utc::now()).await?),
        Err(e) => Err(AppError::Invalid(vec![e])),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/visio/sessions/{id}"), "saved")),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            session_page(&s, &a, id, None, &errors).await
        }
    }
}

#[derive(Deserialize)]
pub struct ClosedForm {
    school_id: i64,
    day: String,
    #[serde(default)]
    reason: String,
}

/// A day the school is closed: its sessions cancelled, their intervenants told.
pub async fn closed_day(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<ClosedForm>,
) -> PageResult {
    let p = &a.p;
    let day = preau_domain::device::date("day", Some(&f.day))
        .map_err(|e| AppError::Invalid(vec![e]))?
        .ok_or_else(|| AppError::Invalid(vec![FieldError::new("day", "required")]))?;
    write_tx!(s.db, tx => visio::close_day(tx, p, f.school_id, day, &f.reason, Utc::now()).await?)?;
    Ok(see_other("/visio", "saved"))
}

#[derive(Template)]
#[template(path = "visio_programmes.html")]
struct ProgrammesPage {
    ctx: Ctx,
    programmes: Vec<(i64, String, String, String, i64)>,
    providers: Vec<(i64, String)>,
    classes: Vec<(i64, String)>,
    intervenants: Vec<(i64, String)>,
    weekdays: Vec<(u32, &'static str)>,
    is_admin: bool,
    errors: Vec<String>,
    series: SeriesInput,
}

async fn programmes_page(
    s: &AppState,
    a: &Auth,
    flash: Option<&str>,
    errors: &[FieldError],
    series: SeriesInput,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let now = Utc::now();
    let classes = visio::plannable_classes(&s.db, p, now).await?;
    if classes.is_empty() && !p.is_admin() {
        return Err(AppError::Forbidden.into());
    }
    let programmes = visio::programmes(&s.db, p).await?;
    let page = ProgrammesPage {
        ctx: Ctx::page(a, p.lang_title("visio.programmes"), "visio")
            .crumb("/visio", p.lang_title("visio.title"))
            .flash(flash_key(flash)),
        programmes: programmes
            .iter()
            .map(|g| {
                (
                    g.id,
                    g.name.clone(),
                    g.provider.clone(),
                    g.session_price_cents.map(euros).unwrap_or_default(),
                    g.series,
                )
            })
            .collect(),
        providers: if p.is_admin() {
            preau_core::users::contractors(&s.db, p)
                .await?
                .into_iter()
                .map(|c| (c.id, c.name))
                .collect()
        } else {
            Vec::new()
        },
        classes: classes
            .into_iter()
            .filter(|c| c.4.is_some())
            .map(|(id, school, label, _, _)| (id, format!("{school} — {label}")))
            .collect(),
        intervenants: visio::intervenants(&s.db, p)
            .await?
            .into_iter()
            .map(|(id, name, _)| (id, name))
            .collect(),
        weekdays: (1..=5)
            .map(|d| (d, preau_domain::visio::weekday_label(d, lang)))
            .collect(),
        is_admin: p.is_admin(),
        errors: errors
            .iter()
            .map(|e| format!("{} : {}", e.field, e.message(lang)))
            .collect(),
        series,
    };
    let mut resp = render(&page)?;
    if !errors.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

pub async fn programmes(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<FlashQuery>,
) -> PageResult {
    let series = SeriesInput {
        duration_min: "45".into(),
        start: "10:15".into(),
        ..SeriesInput::default()
    };
    programmes_page(&s, &a, q.flash(), &[], series).await
}

#[derive(Deserialize)]
pub struct ProgrammeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    price: String,
}

pub async fn programme_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<ProgrammeForm>,
) -> PageResult {
    let p = &a.p;
    let result = write_tx!(s.db, tx => {
        let provider = f.provider_id.trim().parse::<i64>().map_err(|_| AppError::Invalid(vec![FieldError::new("provider_id", "required")]))?;
        let price = preau_domain::device::euros_to_cents("session_price", Some(&f.price)).map_err(|e| AppError::Invalid(vec![e]))?;
        visio::create_programme(tx, p, &f.name, provider, price, Utc::now()).await?
    });
    match result {
        Ok(_) => Ok(see_other("/visio/programmes", "created")),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            programmes_page(&s, &a, None, &errors, SeriesInput::default()).await
        }
    }
}

#[derive(Deserialize)]
pub struct SeriesForm {
    programme_id: i64,
    class_id: i64,
    #[serde(default)]
    intervenant_id: String,
    #[serde(flatten)]
    series: SeriesInput,
}

pub async fn series_create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<SeriesForm>,
) -> PageResult {
    let p = &a.p;
    let now = Utc::now();
    let room = visio::plannable_classes(&s.db, p, now)
        .await?
        .into_iter()
        .find(|c| c.0 == f.class_id)
        .and_then(|c| c.4);
    let result = write_tx!(s.db, tx => {
        let series = f.series.check().map_err(AppError::Invalid)?;
        let room_id = room.ok_or_else(|| AppError::Invalid(vec![FieldError::new("class_id", "unknown_value")]))?;
        let at = SeriesPlace {
            programme_id: f.programme_id,
            class_id: f.class_id,
            room_id,
            intervenant_id: f.intervenant_id.trim().parse().ok(),
        };
        visio::create_series(tx, p, &at, &series, now).await?
    });
    match result {
        Ok(_) => Ok(see_other("/visio", "created")),
        Err(e) => {
            let errors = super::form::form_errors(e)?;
            programmes_page(&s, &a, None, &errors, f.series.clone()).await
        }
    }
}

#[derive(Deserialize)]
pub struct StatementQuery {
    programme: Option<i64>,
    #[serde(default)]
    month: String,
}

#[derive(Template)]
#[template(path = "visio_statement.html")]
struct StatementPage {
    ctx: Ctx,
    programmes: Vec<(i64, String)>,
    programme_id: i64,
    month: String,
    provider: String,
    held: i64,
    price: String,
    total: String,
    /// When, school, class, intervenant.
    lines: Vec<(String, String, String, String)>,
}

/// The provider's monthly statement: the sessions held in a month at the programme's
/// price (the administrator, the élu, the provider's staff).
async fn statement_of(
    s: &AppState,
    p: &preau_domain::Principal,
    q: &StatementQuery,
) -> Result<
    (
        Vec<visio::Programme>,
        i64,
        preau_core::reports::Month,
        visio::Statement,
    ),
    PageError,
> {
    let programmes = visio::programmes(&s.db, p).await?;
    let id = q
        .programme
        .or_else(|| programmes.first().map(|g| g.id))
        .ok_or(AppError::NotFound)?;
    let month = if q.month.trim().is_empty() {
        preau_core::reports::Month::of(Utc::now()).previous()
    } else {
        preau_core::reports::Month::parse(&q.month).map_err(|e| AppError::Invalid(vec![e]))?
    };
    let st = visio::statement(&s.db, p, id, month).await?;
    Ok((programmes, id, month, st))
}

pub async fn statement(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<StatementQuery>,
) -> PageResult {
    let p = &a.p;
    let (programmes, id, month, st) = statement_of(&s, p, &q).await?;
    render(&StatementPage {
        ctx: Ctx::page(&a, p.lang_title("visio.statement"), "visio")
            .crumb("/visio", p.lang_title("visio.title")),
        programmes: programmes.iter().map(|g| (g.id, g.name.clone())).collect(),
        programme_id: id,
        month: month.code(),
        provider: st.provider.clone(),
        held: st.held,
        price: st.price_cents.map(euros).unwrap_or_else(|| "—".into()),
        total: st.total_cents.map(euros).unwrap_or_else(|| "—".into()),
        lines: st
            .sessions
            .iter()
            .map(|x| {
                (
                    paris(x.starts_at),
                    x.school.clone(),
                    x.class_label.clone(),
                    x.intervenant.clone().unwrap_or_default(),
                )
            })
            .collect(),
    })
}

/// The statement's sessions as a spreadsheet (`csv` or `xlsx`).
pub async fn statement_export(
    State(s): State<AppState>,
    a: Auth,
    Path(format): Path<String>,
    Query(q): Query<StatementQuery>,
) -> PageResult {
    let p = &a.p;
    let (_, _, month, st) = statement_of(&s, p, &q).await?;
    let t = |k| crate::i18n::t(p.lang, k).to_string();
    let mut rows = vec![vec![
        t("visio.when"),
        t("field.school"),
        t("visio.class"),
        t("visio.intervenant"),
        t("visio.price"),
    ]];
    let cents = preau_domain::device::plain_euros;
    for x in &st.sessions {
        rows.push(vec![
            paris(x.starts_at),
            x.school.clone(),
            x.class_label.clone(),
            x.intervenant.clone().unwrap_or_default(),
            st.price_cents.map(cents).unwrap_or_default(),
        ]);
    }
    crate::export::table(
        &format,
        &format!("releve-visio-{}", month.code()),
        &st.programme,
        &rows,
    )
}
