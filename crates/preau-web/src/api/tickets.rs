//! `/api/v1/tickets` and `/api/v1/contracts`: reports, their handling, and the contracts
//! they count on. Each ticket carries its `deadlines` (GTI and GTR, with `breached`).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use preau_core::reports::{self, Month};
use preau_core::tickets::{self, Ticket, TicketFilter, TicketInput};
use preau_core::{contracts, write_tx};
use preau_domain::sla::{ClockState, Clocks};
use preau_domain::ticket::{Assignee, Priority, TicketStatus};
use preau_domain::{FieldError, Principal};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiResult, Created, body, created, list, query, to_json};
use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

#[derive(Serialize)]
struct Deadline {
    due: Option<DateTime<Utc>>,
    span: Option<String>,
    stopped_at: Option<DateTime<Utc>>,
    breached: bool,
    at_risk: bool,
    late_working_minutes: Option<i64>,
}

#[derive(Serialize)]
struct Deadlines {
    gti: Deadline,
    gtr: Deadline,
    /// Waiting on the school: the clocks stand still.
    paused: bool,
}

#[derive(Serialize)]
struct TicketJson<'a> {
    id: i64,
    number: i64,
    school_id: i64,
    school_name: &'a str,
    room_id: Option<i64>,
    room_name: Option<&'a str>,
    category: &'a str,
    priority: &'a str,
    status: &'a str,
    title: &'a str,
    description: &'a str,
    reporter_name: &'a str,
    assignee: Option<Assignee>,
    assignee_user_id: Option<i64>,
    assignee_name: Option<&'a str>,
    lot_id: Option<i64>,
    lot: Option<&'a str>,
    contractor: Option<&'a str>,
    opened_at: DateTime<Utc>,
    clocks_started_at: DateTime<Utc>,
    taken_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    deadlines: Deadlines,
    #[serde(skip_serializing_if = "Option::is_none")]
    penalties: Option<Value>,
    version: i64,
    updated_at: DateTime<Utc>,
}

fn live(span: Option<&str>, c: Option<&ClockState>) -> Deadline {
    Deadline {
        due: c.map(|c| c.due),
        span: span.map(str::to_string),
        stopped_at: c.and_then(|c| c.stopped_at),
        breached: c.is_some_and(|c| c.breached),
        at_risk: c.is_some_and(|c| c.at_risk),
        late_working_minutes: c.map(|c| c.late_minutes),
    }
}

/// A ticket as JSON; `clocks` computed now for a single ticket, or taken from the
/// stored deadlines for lists (and then checked against `now`).
fn ticket_json<'a>(
    p: &Principal,
    t: &'a Ticket,
    clocks: Option<&Clocks>,
    now: DateTime<Utc>,
) -> TicketJson<'a> {
    let paused = t.status().pauses_clock();
    let deadlines = match clocks {
        Some(c) => Deadlines {
            gti: live(t.sla_gti.as_deref(), c.gti.as_ref()),
            gtr: live(t.sla_gtr.as_deref(), c.gtr.as_ref()),
            paused,
        },
        None => {
            let stored = |due: Option<DateTime<Utc>>,
                          stop: Option<DateTime<Utc>>,
                          breached: bool,
                          span: Option<&String>| Deadline {
                due,
                span: span.cloned(),
                stopped_at: stop,
                breached: due.is_some()
                    && (breached || (stop.is_none() && !paused && due.is_some_and(|d| d < now))),
                at_risk: t.at_risk && stop.is_none(),
                late_working_minutes: None,
            };
            Deadlines {
                gti: stored(t.gti_due_at, t.taken_at, t.gti_breached, t.sla_gti.as_ref()),
                gtr: stored(
                    t.gtr_due_at,
                    t.resolved_at,
                    t.gtr_breached,
                    t.sla_gtr.as_ref(),
                ),
                paused,
            }
        }
    };
    TicketJson {
        id: t.id,
        number: t.number,
        school_id: t.school_id,
        school_name: &t.school_name,
        room_id: t.room_id,
        room_name: t.room_name.as_deref(),
        category: &t.category,
        priority: &t.priority,
        status: &t.status,
        title: &t.title,
        description: &t.description,
        reporter_name: &t.reporter_name,
        assignee: t
            .lot_id
            .map(Assignee::Lot)
            .or(t.assignee_user_id.map(Assignee::User)),
        assignee_user_id: t.assignee_user_id,
        assignee_name: t.assignee_name.as_deref(),
        lot_id: t.lot_id,
        lot: t.lot_label.as_deref(),
        contractor: t.contractor_name.as_deref(),
        opened_at: t.opened_at,
        clocks_started_at: t.sla_start_at,
        taken_at: t.taken_at,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        deadlines,
        penalties: p.can_see_sla_report().then(|| {
            json!({
                "unit": t.sla_unit,
                "gti_cents_per_unit": t.sla_gti_penalty_cents,
                "gtr_cents_per_unit": t.sla_gtr_penalty_cents,
                "cap_cents": t.sla_cap_cents,
            })
        }),
        version: t.version,
        updated_at: t.updated_at,
    }
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

pub(super) async fn tickets_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    f: Result<Query<TicketFilter>, QueryRejection>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult {
    let f = query(f)?;
    let q = query(q)?;
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::invalid(vec![FieldError::new("cursor", "unknown_value")]))?,
        ),
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let page = tickets::list(&s.db, &p, &f, before, limit).await?;
    let now = Utc::now();
    let items: Vec<TicketJson> = page
        .items
        .iter()
        .map(|t| ticket_json(&p, t, None, now))
        .collect();
    Ok(list(&items, page.next.map(|n| n.to_string())))
}

pub(super) async fn ticket_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    let t = tickets::get(&s.db, &p, id).await?;
    let now = Utc::now();
    let c = tickets::clocks(&s.db, &p, &t, now).await?;
    let devices: Vec<Value> = tickets::devices(&s.db, &p, id)
        .await?
        .into_iter()
        .map(|(id, cat, label, tag)| json!({"id": id, "category": cat, "label": label, "asset_tag": tag}))
        .collect();
    let mut v = serde_json::to_value(ticket_json(&p, &t, Some(&c), now)).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("devices".into(), json!(devices));
    }
    Ok(Json(v))
}

pub(super) async fn ticket_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<TicketInput>, JsonRejection>,
) -> Created {
    let input = body(b)?;
    let now = Utc::now();
    let t = write_tx!(s.db, tx => tickets::open(tx, &p, &input.parse()?, now).await?)?;
    created(ticket_json(&p, &t, None, now))
}

/// A change to a ticket: any of `status` (with an optional public `message`),
/// `assignee` (`user:N`, `lot:N` or empty), `priority`; `version` is required.
#[derive(Deserialize)]
pub(super) struct TicketPatch {
    version: Option<i64>,
    status: Option<String>,
    message: Option<String>,
    assignee: Option<String>,
    priority: Option<String>,
}

pub(super) async fn ticket_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<TicketPatch>, JsonRejection>,
) -> ApiResult {
    let patch = body(b)?;
    let Some(version) = patch.version else {
        return Err(ApiError::invalid(vec![FieldError::new(
            "version", "required",
        )]));
    };
    let mut errors = Vec::new();
    let status = patch
        .status
        .as_deref()
        .map(|v| TicketStatus::parse("status", v))
        .transpose()
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    let priority = patch
        .priority
        .as_deref()
        .map(|v| Priority::parse("priority", v))
        .transpose()
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    let assignee = patch
        .assignee
        .as_deref()
        .map(|v| Assignee::parse("assignee", v))
        .transpose()
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        });
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let now = Utc::now();
    let t = write_tx!(s.db, tx => {
        let mut v = version;
        let mut current = None;
        if let Some(a) = assignee {
            let t = tickets::assign(tx, &p, id, v, a, now).await?;
            v = t.version;
            current = Some(t);
        }
        if let Some(pr) = priority {
            let t = tickets::set_priority(tx, &p, id, v, pr, now).await?;
            v = t.version;
            current = Some(t);
        }
        if let Some(st) = status {
            current = Some(tickets::set_status(tx, &p, id, v, st, patch.message.as_deref(), now).await?);
        }
        current
    })?;
    let t = match t {
        Some(t) => t.redacted_for(&p),
        None => tickets::get(&s.db, &p, id).await?,
    };
    Ok(to_json(&ticket_json(&p, &t, None, now)))
}

pub(super) async fn ticket_take(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    let now = Utc::now();
    let t = write_tx!(s.db, tx => tickets::take(tx, &p, id, now).await?)?.redacted_for(&p);
    Ok(to_json(&ticket_json(&p, &t, None, now)))
}

pub(super) async fn ticket_events(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    let events = tickets::events(&s.db, &p, id).await?;
    Ok(list(&events, None))
}

#[derive(Deserialize)]
pub(super) struct CommentBody {
    body: String,
    #[serde(default)]
    internal: bool,
}

pub(super) async fn ticket_comment(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<CommentBody>, JsonRejection>,
) -> Created {
    let c = body(b)?;
    let now = Utc::now();
    write_tx!(s.db, tx => tickets::comment(tx, &p, id, &c.body, !c.internal, now).await?)?;
    let events = tickets::events(&s.db, &p, id).await?;
    created(events.last().cloned())
}

pub(super) async fn contracts_list(State(s): State<AppState>, ApiAuth(p): ApiAuth) -> ApiResult {
    Ok(list(&contracts::list(&s.db, &p).await?, None))
}

pub(super) async fn contract_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    Ok(to_json(&contracts::get(&s.db, &p, id).await?))
}

#[derive(Deserialize)]
pub(super) struct ReportQuery {
    /// `2026-03`; by default the previous month.
    month: Option<String>,
}

pub(super) async fn contract_report(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    let month = match q.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m).map_err(|e| ApiError::invalid(vec![e]))?,
        None => Month::of(Utc::now()).previous(),
    };
    let r = reports::monthly(&s.db, &p, id, month, Utc::now()).await?;
    let lots: Vec<Value> = r
        .lots
        .iter()
        .map(|l| {
            json!({
                "lot_id": l.lot.id,
                "number": l.lot.number,
                "label": l.lot.label,
                "tickets": l.tickets,
                "gti": {"counted": l.gti_counted, "met": l.gti_met, "rate": l.gti_rate()},
                "gtr": {"counted": l.gtr_counted, "met": l.gtr_met, "rate": l.gtr_rate()},
                "penalty_cents": l.total.cents,
                "penalty_before_cap_cents": l.total.gross_cents,
                "capped": l.total.capped,
                "late": l.lines.iter().filter(|x| x.late()).map(|x| json!({
                    "ticket_id": x.ticket.id,
                    "number": x.ticket.number,
                    "priority": x.ticket.priority,
                    "gti_due": x.gti_due,
                    "gtr_due": x.gtr_due,
                    "gti_late_working_minutes": x.gti_late_minutes,
                    "gtr_late_working_minutes": x.gtr_late_minutes,
                    "gti_late_days": x.gti_late_days,
                    "gtr_late_days": x.gtr_late_days,
                    "penalty": x.penalty,
                    "provisional": x.provisional,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({
        "contract_id": r.contract.id,
        "reference": r.contract.reference,
        "month": r.month.code(),
        "computed_at": r.computed_at,
        "total_penalty_cents": r.total_cents,
        "lots": lots,
    })))
}

#[derive(Deserialize)]
pub(super) struct InterventionsQuery {
    /// `2026-03-16`; by default today.
    from: Option<String>,
    /// By default seven days after `from`.
    to: Option<String>,
    #[serde(flatten)]
    filter: preau_core::interventions::InterventionFilter,
}

pub(super) async fn interventions_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<InterventionsQuery>, QueryRejection>,
) -> ApiResult {
    let q = query(q)?;
    let day = |field: &str, v: Option<&str>| -> Result<Option<chrono::NaiveDate>, ApiError> {
        match v.filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ApiError::invalid(vec![FieldError::new(field, "not_a_date")])),
        }
    };
    let from = day("from", q.from.as_deref())?.unwrap_or_else(crate::pages::today);
    let to = day("to", q.to.as_deref())?.unwrap_or(from + chrono::Duration::days(7));
    if to <= from || (to - from).num_days() > 400 {
        return Err(ApiError::invalid(vec![FieldError::new(
            "to",
            "out_of_range",
        )]));
    }
    let at = |d: chrono::NaiveDate| {
        preau_domain::paris::instant(d.and_hms_opt(0, 0, 0).unwrap_or_default()).unwrap_or_default()
    };
    let visits = preau_core::interventions::list(&s.db, &p, &q.filter, at(from), at(to)).await?;
    Ok(list(&visits, None))
}

pub(super) async fn intervention_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<preau_core::interventions::InterventionInput>, JsonRejection>,
) -> Created {
    let input = body(b)?;
    let v = write_tx!(s.db, tx => preau_core::interventions::plan(tx, &p, &input.parse()?, Utc::now()).await?)?;
    created(v)
}
