//! Tickets: a problem reported in a school, routed to the technician or to the contract
//! lot that covers it, worked until the school confirms the fix.
//!
//! Every action is one function taking the instant it happens at (`now`), so that tests
//! drive the clocks without sleeping. The contract's terms are copied onto the ticket
//! when it is opened (or sent to another lot); its deadlines are computed by
//! `preau_domain::sla` on the school's calendar or the contractor's hours, stored on the
//! row for lists, and recomputed after every change.
//!
//! Here: the ticket row, its reads and the in-transaction helpers every action shares
//! (clocks, events, audit). `open` (reporting and routing), `queue` (filters, pages),
//! `workflow` (take, status, assign, priority, messages, confirm, reopen),
//! `notifications` (the e-mails), `attachments`, `tick` (the periodic pass).

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::calendar::{Calendar, Span};
use preau_domain::paris;
use preau_domain::sla::{self, CalendarKind, Clocks, ContractorHours, PenaltyUnit, SlaLine};
use preau_domain::ticket::{Assignee, Priority, TicketCategory, TicketStatus, attachment_type};
use preau_domain::{FieldError, Principal, text};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::{self, Actor, Entry};
use crate::db::{Backend, Db, Param, Sql, Tx, more_than};
use crate::error::{AppError, AppResult, Errors};
use crate::{bind_params, calendar, contracts, jobs, with_db, with_tx};

mod attachments;
mod notifications;
mod open;
mod queue;
mod tick;
mod workflow;

pub use attachments::*;
use notifications::*;
pub use open::*;
pub use queue::*;
pub use tick::*;
pub use workflow::*;

/// A ticket as lists and pages show it, with the names joined in.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Ticket {
    pub id: i64,
    pub collectivite_id: i64,
    pub number: i64,
    pub school_id: i64,
    pub school_name: String,
    pub room_id: Option<i64>,
    pub room_name: Option<String>,
    pub category: String,
    pub priority: String,
    pub status: String,
    pub title: String,
    pub description: String,
    pub reporter_user_id: Option<i64>,
    pub reporter_name: String,
    pub assignee_user_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub lot_id: Option<i64>,
    pub lot_label: Option<String>,
    pub lot_number: Option<i64>,
    pub contractor_name: Option<String>,
    pub sla_gti: Option<String>,
    pub sla_gtr: Option<String>,
    pub sla_unit: String,
    pub sla_gti_penalty_cents: i64,
    pub sla_gtr_penalty_cents: i64,
    pub sla_cap_cents: Option<i64>,
    pub sla_calendar: String,
    pub sla_hours: String,
    pub opened_at: DateTime<Utc>,
    pub sla_start_at: DateTime<Utc>,
    pub taken_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub gti_due_at: Option<DateTime<Utc>>,
    pub gtr_due_at: Option<DateTime<Utc>>,
    pub gti_breached: bool,
    pub gtr_breached: bool,
    pub at_risk: bool,
    pub escalated_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl Ticket {
    pub fn status(&self) -> TicketStatus {
        TicketStatus::from_db(&self.status)
    }
    pub fn priority(&self) -> Priority {
        Priority::from_db(&self.priority)
    }
    pub fn category(&self) -> TicketCategory {
        TicketCategory::from_db(&self.category)
    }

    /// The grid line the ticket was opened with.
    pub fn line(&self) -> SlaLine {
        SlaLine {
            gti: self.sla_gti.as_deref().and_then(|s| Span::parse(s).ok()),
            gtr: self.sla_gtr.as_deref().and_then(|s| Span::parse(s).ok()),
            unit: PenaltyUnit::from_db(&self.sla_unit),
            gti_penalty_cents: self.sla_gti_penalty_cents,
            gtr_penalty_cents: self.sla_gtr_penalty_cents,
        }
    }

    /// Penalty amounts are the collectivité's business, not the contractor's staff's nor
    /// the school's.
    pub fn redacted_for(mut self, p: &Principal) -> Ticket {
        if !p.can_see_sla_report() {
            self.sla_gti_penalty_cents = 0;
            self.sla_gtr_penalty_cents = 0;
            self.sla_cap_cents = None;
        }
        self
    }
}

/// Tickets lead the join (schools are a LEFT JOIN, though every ticket has one): with
/// planner statistics, SQLite would otherwise start from the 23 schools and sort a whole
/// history to show the last 50 tickets.
const SELECT: &str = "SELECT t.id, t.collectivite_id, t.number, t.school_id, s.name AS school_name, t.room_id, r.name AS room_name, t.category, t.priority, t.status, t.title, t.description, t.reporter_user_id, t.reporter_name, t.assignee_user_id, u.display_name AS assignee_name, t.lot_id, CASE WHEN l.id IS NULL THEN NULL ELSE c.reference || ' lot ' || CAST(l.number AS TEXT) || ' — ' || l.label END AS lot_label, l.number AS lot_number, k.name AS contractor_name, t.sla_gti, t.sla_gtr, t.sla_unit, t.sla_gti_penalty_cents, t.sla_gtr_penalty_cents, t.sla_cap_cents, t.sla_calendar, t.sla_hours, t.opened_at, t.sla_start_at, t.taken_at, t.resolved_at, t.closed_at, t.gti_due_at, t.gtr_due_at, t.gti_breached, t.gtr_breached, t.at_risk, t.escalated_at, t.version, t.updated_at FROM tickets t LEFT JOIN schools s ON s.id = t.school_id LEFT JOIN rooms r ON r.id = t.room_id LEFT JOIN users u ON u.id = t.assignee_user_id LEFT JOIN lots l ON l.id = t.lot_id LEFT JOIN contracts c ON c.id = l.contract_id LEFT JOIN contractors k ON k.id = c.contractor_id";

type Pause = (DateTime<Utc>, Option<DateTime<Utc>>);

/// An instant in words for e-mails: `18/03/2026 à 15:30`.
fn paris_words(t: DateTime<Utc>) -> String {
    paris::local(t).format("%d/%m/%Y à %H:%M").to_string()
}

/// The ticket's clocks at `now`, given its pauses and the school calendar.
pub fn clocks_of(t: &Ticket, school: &Calendar, pauses: &[Pause], now: DateTime<Utc>) -> Clocks {
    let cal = terms_calendar(&t.sla_calendar, &t.sla_hours, school.clone());
    // Waits before the clocks (re)started do not count.
    let pauses: Vec<Pause> = pauses
        .iter()
        .filter(|(_, b)| b.is_none_or(|b| b > t.sla_start_at))
        .map(|(a, b)| ((*a).max(t.sla_start_at), *b))
        .collect();
    sla::clocks(
        &cal,
        &t.line(),
        &sla::TicketTimes {
            opened_at: t.sla_start_at,
            taken_at: t.taken_at,
            resolved_at: t.resolved_at,
            pauses: &pauses,
        },
        now,
    )
}

async fn fetch_in_tx(tx: &mut Tx, cid: i64, id: i64) -> AppResult<Ticket> {
    let sql = format!("{SELECT} WHERE t.id = $1 AND t.collectivite_id = $2");
    with_tx!(tx, c => {
        sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql)).bind(id).bind(cid).fetch_optional(&mut *c).await?
    })
    .ok_or(AppError::NotFound)
}

/// A ticket the caller may read, in a transaction (404 otherwise).
pub async fn get_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<Ticket> {
    let t = fetch_in_tx(tx, p.collectivite_id, id).await?;
    if !p.can_read_ticket(t.school_id, t.reporter_user_id, t.lot_id) {
        return Err(AppError::NotFound);
    }
    Ok(t)
}

const PAUSES: &str =
    "SELECT started_at, ended_at FROM ticket_pauses WHERE ticket_id = $1 ORDER BY started_at";

async fn pauses_in_tx(tx: &mut Tx, id: i64) -> AppResult<Vec<Pause>> {
    Ok(with_tx!(tx, c => {
        sqlx::query_as(PAUSES).bind(id).fetch_all(&mut *c).await?
    }))
}

/// Recomputes and stores a ticket's deadlines and flags (after any change).
async fn refresh_in_tx(tx: &mut Tx, cid: i64, id: i64, now: DateTime<Utc>) -> AppResult<Clocks> {
    let t = fetch_in_tx(tx, cid, id).await?;
    let cal = calendar::of_school_in_tx(tx, t.school_id).await?;
    let pauses = pauses_in_tx(tx, id).await?;
    let c = clocks_of(&t, &cal, &pauses, now);
    store_clocks(tx, id, &c).await?;
    Ok(c)
}

async fn store_clocks(tx: &mut Tx, id: i64, c: &Clocks) -> AppResult<()> {
    let at_risk =
        c.gti.as_ref().is_some_and(|s| s.at_risk) || c.gtr.as_ref().is_some_and(|s| s.at_risk);
    with_tx!(tx, conn => {
        sqlx::query("UPDATE tickets SET gti_due_at = $1, gtr_due_at = $2, gti_breached = $3, gtr_breached = $4, at_risk = $5 WHERE id = $6")
            .bind(c.gti.as_ref().map(|s| s.due)).bind(c.gtr.as_ref().map(|s| s.due))
            .bind(c.gti.as_ref().is_some_and(|s| s.breached)).bind(c.gtr.as_ref().is_some_and(|s| s.breached))
            .bind(at_risk).bind(id)
            .execute(&mut *conn).await?;
    });
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut Tx,
    ticket_id: i64,
    p: &Principal,
    now: DateTime<Utc>,
    kind: &str,
    public: bool,
    body: Option<&str>,
    detail: Value,
) -> AppResult<()> {
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO ticket_events (ticket_id, occurred_at, actor_user_id, actor_name, kind, public, body, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(ticket_id).bind(now).bind((p.user_id != 0).then_some(p.user_id)).bind(&p.display_name)
            .bind(kind).bind(public).bind(body).bind(detail.to_string())
            .execute(&mut *c).await?;
    });
    Ok(())
}

async fn audit_ticket(
    tx: &mut Tx,
    p: &Principal,
    t: &Ticket,
    action: &str,
    changes: Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action,
            object_type: "ticket",
            object_id: t.id,
            object_label: &format!("Ticket n° {} — {}", t.number, t.school_name),
            changes,
        },
    )
    .await
}

pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<Ticket> {
    let sql = format!("{SELECT} WHERE t.id = $1 AND t.collectivite_id = $2");
    let t = with_db!(db, pool => {
        sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    })
    .ok_or(AppError::NotFound)?;
    if !p.can_read_ticket(t.school_id, t.reporter_user_id, t.lot_id) {
        return Err(AppError::NotFound);
    }
    Ok(t.redacted_for(p))
}

/// The ticket of this number (as people quote it), when the caller may read it.
pub async fn by_number(db: &Db, p: &Principal, number: i64) -> AppResult<Option<Ticket>> {
    let sql = format!("{SELECT} WHERE t.collectivite_id = $1 AND t.number = $2");
    let t = with_db!(db, pool => {
        sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).bind(number).fetch_optional(pool).await?
    });
    Ok(
        t.filter(|t| p.can_read_ticket(t.school_id, t.reporter_user_id, t.lot_id))
            .map(|t| t.redacted_for(p)),
    )
}

/// A readable ticket's clocks, computed now (the page and the API show them live).
pub async fn clocks(db: &Db, p: &Principal, t: &Ticket, now: DateTime<Utc>) -> AppResult<Clocks> {
    if !p.can_read_ticket(t.school_id, t.reporter_user_id, t.lot_id) {
        return Err(AppError::NotFound);
    }
    let cal = calendar::of_school(db, t.school_id).await?;
    let pauses: Vec<Pause> = with_db!(db, pool => {
        sqlx::query_as(PAUSES).bind(t.id).fetch_all(pool).await?
    });
    Ok(clocks_of(t, &cal, &pauses, now))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_name: String,
    pub kind: String,
    pub public: bool,
    pub body: Option<String>,
    pub detail: String,
}

/// A ticket's history, oldest first; internal notes only for those who handle tickets.
pub async fn events(db: &Db, p: &Principal, id: i64) -> AppResult<Vec<Event>> {
    get(db, p, id).await?;
    let all: Vec<Event> = with_db!(db, pool => {
        sqlx::query_as::<_, Event>("SELECT id, occurred_at, actor_name, kind, public, body, detail FROM ticket_events WHERE ticket_id = $1 ORDER BY id")
            .bind(id).fetch_all(pool).await?
    });
    let internal = p.can_see_internal_notes();
    Ok(all.into_iter().filter(|e| e.public || internal).collect())
}

/// The devices a ticket is about: `(id, category label, name or model, asset tag)`.
pub async fn devices(
    db: &Db,
    p: &Principal,
    id: i64,
) -> AppResult<Vec<(i64, String, String, Option<String>)>> {
    get(db, p, id).await?;
    type Row = (
        i64,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = with_db!(db, pool => {
        sqlx::query_as("SELECT d.id, k.label_fr, d.name, d.brand, d.model, d.asset_tag FROM ticket_devices td JOIN devices d ON d.id = td.device_id JOIN device_categories k ON k.id = d.category_id WHERE td.ticket_id = $1 ORDER BY d.id")
            .bind(id).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, cat, name, brand, model, tag)| {
            let label = name.unwrap_or_else(|| {
                [brand, model]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            (id, cat, label, tag)
        })
        .collect())
}

/// The tickets of a lot whose clocks started in `[from, to)`, for the monthly report.
pub async fn for_lot_between(
    db: &Db,
    p: &Principal,
    lot_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Ticket>> {
    if !p.can_see_sla_report() {
        return Err(AppError::Forbidden);
    }
    let sql = format!(
        "{SELECT} WHERE t.collectivite_id = $1 AND t.lot_id = $2 AND t.sla_start_at >= $3 AND t.sla_start_at < $4 ORDER BY t.number"
    );
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).bind(lot_id).bind(from).bind(to).fetch_all(pool).await?
    }))
}
