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
use serde::Deserialize;

use super::schema::{List, input};
use super::types::{
    self, ContractDetail, Deadline, Deadlines, PenaltyTerms, SlaReport, TicketAssignee,
    TicketDetail, TicketDevice, TicketEvent, Visit,
};
use super::{Answer, Created, all, body, created, query};
use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

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
fn ticket_json(
    p: &Principal,
    t: &Ticket,
    clocks: Option<&Clocks>,
    now: DateTime<Utc>,
) -> types::Ticket {
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
    types::Ticket {
        id: t.id,
        number: t.number,
        school_id: t.school_id,
        school_name: t.school_name.clone(),
        room_id: t.room_id,
        room_name: t.room_name.clone(),
        category: t.category.clone(),
        priority: t.priority.clone(),
        status: t.status.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        reporter_name: t.reporter_name.clone(),
        assignee: t
            .lot_id
            .map(|id| TicketAssignee {
                kind: "lot".into(),
                id,
            })
            .or(t.assignee_user_id.map(|id| TicketAssignee {
                kind: "user".into(),
                id,
            })),
        assignee_user_id: t.assignee_user_id,
        assignee_name: t.assignee_name.clone(),
        lot_id: t.lot_id,
        lot: t.lot_label.clone(),
        contractor: t.contractor_name.clone(),
        opened_at: t.opened_at,
        clocks_started_at: t.sla_start_at,
        taken_at: t.taken_at,
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        deadlines,
        penalties: p.can_see_sla_report().then(|| PenaltyTerms {
            unit: t.sla_unit.clone(),
            gti_cents_per_unit: t.sla_gti_penalty_cents,
            gtr_cents_per_unit: t.sla_gtr_penalty_cents,
            cap_cents: t.sla_cap_cents,
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
) -> Answer<List<types::Ticket>> {
    let f = query(f)?;
    let q = query(q)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let now = Utc::now();
    let sort = match f.sort.as_deref().filter(|s| !s.is_empty()) {
        None => tickets::TicketSort::Recent,
        Some(code) => tickets::TicketSort::parse(code)
            .ok_or_else(|| ApiError::invalid(vec![FieldError::new("sort", "unknown_value")]))?,
    };
    match sort {
        tickets::TicketSort::Recent => {}
        tickets::TicketSort::Deadline => {
            let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
            let (items, next) = tickets::by_deadline(&s.db, &p, &f, cursor, limit)
                .await
                .map_err(|e| match e {
                    preau_core::AppError::Invalid(_) => {
                        ApiError::invalid(vec![FieldError::new("cursor", "unknown_value")])
                    }
                    other => other.into(),
                })?;
            return Ok(Json(List {
                items: items
                    .iter()
                    .map(|t| ticket_json(&p, t, None, now))
                    .collect(),
                next,
            }));
        }
        other => {
            let offset = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
                None => 0,
                Some(c) => c
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (0..=tickets::MAX_OFFSET).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid(vec![FieldError::new("cursor", "unknown_value")])
                    })?,
            };
            let (items, next) = tickets::sorted(&s.db, &p, &f, other, offset, limit).await?;
            return Ok(Json(List {
                items: items
                    .iter()
                    .map(|t| ticket_json(&p, t, None, now))
                    .collect(),
                next: next.map(|n| n.to_string()),
            }));
        }
    }
    let before = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::invalid(vec![FieldError::new("cursor", "unknown_value")]))?,
        ),
    };
    let page = tickets::list(&s.db, &p, &f, before, limit).await?;
    Ok(Json(List {
        items: page
            .items
            .iter()
            .map(|t| ticket_json(&p, t, None, now))
            .collect(),
        next: page.next.map(|n| n.to_string()),
    }))
}

pub(super) async fn ticket_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<TicketDetail> {
    let t = tickets::get(&s.db, &p, id).await?;
    let now = Utc::now();
    let c = tickets::clocks(&s.db, &p, &t, now).await?;
    let devices = tickets::devices(&s.db, &p, id)
        .await?
        .into_iter()
        .map(|(id, category, label, asset_tag)| TicketDevice {
            id,
            category,
            label,
            asset_tag,
        })
        .collect();
    Ok(Json(TicketDetail {
        base: ticket_json(&p, &t, Some(&c), now),
        devices,
    }))
}

pub(super) async fn ticket_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<TicketInput>, JsonRejection>,
) -> Created<types::Ticket> {
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

input! {
    /// A change to a ticket: its status (with a message), priority or assignee.
    TicketPatchDoc for TicketPatch {
        /// The version read; a stale one answers 409.
        version: i64,
        /// `nouveau`, `pris`, `attente_ecole`, `resolu`, `clos`…
        status: Option<String>,
        /// Sent with the status change (required to wait on the school or reopen).
        message: Option<String>,
        /// `user:N` or `lot:N`.
        assignee: Option<String>,
        priority: Option<String>,
    }
}

pub(super) async fn ticket_patch(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<TicketPatch>, JsonRejection>,
) -> Answer<types::Ticket> {
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
    Ok(Json(ticket_json(&p, &t, None, now)))
}

pub(super) async fn ticket_take(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<types::Ticket> {
    let now = Utc::now();
    let t = write_tx!(s.db, tx => tickets::take(tx, &p, id, now).await?)?.redacted_for(&p);
    Ok(Json(ticket_json(&p, &t, None, now)))
}

pub(super) async fn ticket_events(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<List<TicketEvent>> {
    let events = tickets::events(&s.db, &p, id).await?;
    Ok(Json(List::all(all(&events))))
}

#[derive(Deserialize)]
pub(super) struct CommentBody {
    body: String,
    #[serde(default)]
    internal: bool,
}

input! {
    /// A message on a ticket's thread.
    CommentDoc for CommentBody {
        body: String,
        /// Seen by the team only, not by the school.
        internal: Option<bool>,
    }
}

pub(super) async fn ticket_comment(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<CommentBody>, JsonRejection>,
) -> Created<TicketEvent> {
    let c = body(b)?;
    let now = Utc::now();
    write_tx!(s.db, tx => tickets::comment(tx, &p, id, &c.body, !c.internal, now).await?)?;
    let events = tickets::events(&s.db, &p, id).await?;
    let last = events.last().ok_or(preau_core::AppError::NotFound)?;
    created(last.into())
}

pub(super) async fn contracts_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
) -> Answer<List<types::Contract>> {
    let rows = contracts::list(&s.db, &p).await?;
    Ok(Json(List::all(all(&rows))))
}

pub(super) async fn contract_get(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<ContractDetail> {
    Ok(Json((&contracts::get(&s.db, &p, id).await?).into()))
}

#[derive(Deserialize)]
pub(super) struct ReportQuery {
    /// `2026-03`; by default the previous month.
    month: Option<String>,
}

input! {
    /// Which month.
    ReportQueryDoc for ReportQuery {
        /// `2026-03`; by default the previous month.
        month: Option<String>,
    }
}

pub(super) async fn contract_report(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Answer<SlaReport> {
    let q = query(q)?;
    let month = match q.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m).map_err(|e| ApiError::invalid(vec![e]))?,
        None => Month::of(Utc::now()).previous(),
    };
    let r = reports::monthly(&s.db, &p, id, month, Utc::now()).await?;
    Ok(Json((&r).into()))
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

input! {
    /// The week (or any span up to 400 days) to list.
    InterventionsQueryDoc for InterventionsQuery [filter] {
        /// `2026-03-16`; by default today.
        from: Option<chrono::NaiveDate>,
        /// By default seven days after `from`.
        to: Option<chrono::NaiveDate>,
    }
}

pub(super) async fn interventions_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<InterventionsQuery>, QueryRejection>,
) -> Answer<List<Visit>> {
    let q = query(q)?;
    let day = |field: &str, v: Option<&str>| -> Result<Option<chrono::NaiveDate>, ApiError> {
        match v.filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ApiError::invalid(vec![FieldError::new(field, "not_a_date")])),
        }
    };
    let from =
        day("from", q.from.as_deref())?.unwrap_or_else(|| preau_domain::paris::day(Utc::now()));
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
    Ok(Json(List::all(all(&visits))))
}

pub(super) async fn intervention_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<preau_core::interventions::InterventionInput>, JsonRejection>,
) -> Created<Visit> {
    let input = body(b)?;
    let v = write_tx!(s.db, tx => preau_core::interventions::plan(tx, &p, &input.parse()?, Utc::now()).await?)?;
    created((&v).into())
}
