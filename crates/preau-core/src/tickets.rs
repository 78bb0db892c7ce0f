//! Tickets: a problem reported in a school, routed to the technician or to the contract
//! lot that covers it, worked until the school confirms the fix.
//!
//! Every action is one function taking the instant it happens at (`now`), so that tests
//! drive the clocks without sleeping. The contract's terms are copied onto the ticket
//! when it is opened (or sent to another lot); its deadlines are computed by
//! `preau_domain::sla` on the school's calendar or the contractor's hours, stored on the
//! row for lists, and recomputed after every change.

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

/// A report as a form or the API sends it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TicketInput {
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub school_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub room_id: Option<i64>,
    /// The devices concerned (the form sends one; the API a list).
    #[serde(default)]
    pub device_ids: Vec<i64>,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidTicket {
    pub school_id: Option<i64>,
    pub room_id: Option<i64>,
    pub device_ids: Vec<i64>,
    pub category: TicketCategory,
    pub priority: Priority,
    pub title: Option<String>,
    pub description: String,
}

impl TicketInput {
    pub fn parse(&self) -> Result<ValidTicket, AppError> {
        let mut e = Errors::default();
        let category = e.check(TicketCategory::parse("category", &self.category));
        let priority = e.check(Priority::parse("priority", &self.priority));
        let title = e.check(text::optional("title", self.title.as_deref(), 120));
        let description = e.check(text::optional(
            "description",
            self.description.as_deref(),
            4000,
        ));
        if self.school_id.is_none() && self.room_id.is_none() && self.device_ids.is_empty() {
            e.push(FieldError::new("school_id", "required"));
        }
        if self.device_ids.len() > 20 {
            e.push(FieldError::new("device_ids", "too_many"));
        }
        e.finish()?;
        match (category, priority, title, description) {
            (Some(category), Some(priority), Some(title), Some(description)) => Ok(ValidTicket {
                school_id: self.school_id,
                room_id: self.room_id,
                device_ids: self.device_ids.clone(),
                category,
                priority,
                title,
                description: description.unwrap_or_default(),
            }),
            _ => Err(FieldError::new("ticket", "invalid").into()),
        }
    }
}

/// Where routing sent a ticket, and why (shown in its history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub assignee_user_id: Option<i64>,
    pub lot_id: Option<i64>,
    pub reason: &'static str,
}

/// Finds who takes a new ticket: an explicit rule (school and category, then category,
/// then school), else the active lot whose perimeter covers the device's category (or,
/// without a device, the report's kind of equipment) in that school, else the school's
/// technician, else nobody (the administrator's queue).
pub async fn route(
    tx: &mut Tx,
    cid: i64,
    school_id: i64,
    category: TicketCategory,
    device_categories: &[String],
    on: NaiveDate,
) -> AppResult<Route> {
    let rule: Option<(Option<i64>, Option<i64>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT assignee_user_id, lot_id FROM routing_rules WHERE collectivite_id = $1 AND (school_id = $2 OR school_id IS NULL) AND (category = $3 OR category IS NULL) ORDER BY CASE WHEN school_id IS NULL THEN 1 ELSE 0 END, CASE WHEN category IS NULL THEN 1 ELSE 0 END, id LIMIT 1")
            .bind(cid).bind(school_id).bind(category.code()).fetch_optional(&mut *c).await?
    });
    if let Some((user, lot)) = rule {
        return Ok(Route {
            assignee_user_id: user,
            lot_id: lot,
            reason: "rule",
        });
    }
    let device_codes: Vec<&str> = device_categories.iter().map(String::as_str).collect();
    for codes in [device_codes.as_slice(), category.device_categories()] {
        if let Some(lot) = contracts::covering_lot(tx, cid, school_id, codes, on).await? {
            return Ok(Route {
                assignee_user_id: None,
                lot_id: Some(lot),
                reason: "perimeter",
            });
        }
    }
    let tech: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id WHERE ra.role = 'technicien' AND ra.school_id = $1 AND u.active = TRUE ORDER BY ra.user_id LIMIT 1")
            .bind(school_id).fetch_optional(&mut *c).await?
    });
    Ok(Route {
        assignee_user_id: tech,
        lot_id: None,
        reason: if tech.is_some() {
            "school_technician"
        } else {
            "unassigned"
        },
    })
}

/// The terms a ticket counts on: its lot's grid line for its priority and the
/// contract's calendar, or in house the default grid on the school's calendar.
struct Terms {
    line: SlaLine,
    cap_cents: Option<i64>,
    calendar: CalendarKind,
    hours: String,
}

async fn terms(tx: &mut Tx, cid: i64, lot_id: Option<i64>, priority: Priority) -> AppResult<Terms> {
    let usual = ContractorHours::usual();
    let in_house = || Terms {
        line: contracts::default_grid()
            .into_iter()
            .find(|(p, _)| *p == priority)
            .map(|(_, l)| l)
            .unwrap_or(SlaLine {
                gti: None,
                gtr: None,
                unit: PenaltyUnit::Heure,
                gti_penalty_cents: 0,
                gtr_penalty_cents: 0,
            }),
        cap_cents: None,
        calendar: CalendarKind::Ecole,
        hours: format!("{};08:00;18:00", usual.days_code()),
    };
    let Some(lot_id) = lot_id else {
        return Ok(in_house());
    };
    let (lot, contract) = contracts::lot_in_tx(tx, cid, lot_id).await?;
    let line = contracts::line_in_tx(tx, lot_id, priority)
        .await?
        .unwrap_or(SlaLine {
            gti: None,
            gtr: None,
            unit: PenaltyUnit::Heure,
            gti_penalty_cents: 0,
            gtr_penalty_cents: 0,
        });
    Ok(Terms {
        line,
        cap_cents: lot.cap_ticket_cents,
        calendar: contract.calendar_kind(),
        hours: contract.hours_code(),
    })
}

/// The calendar of a ticket's terms.
fn terms_calendar(kind: &str, hours: &str, school: Calendar) -> Calendar {
    match CalendarKind::from_db(kind) {
        CalendarKind::Ecole => school,
        CalendarKind::Prestataire => {
            let mut parts = hours.split(';');
            let (d, s, e) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            ContractorHours::parse(d, s, e)
                .unwrap_or_else(|_| ContractorHours::usual())
                .calendar()
        }
    }
}

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

/// Opens a ticket: checks where it is (school, room, devices in the caller's reach),
/// routes it, copies the terms, numbers it, and computes its deadlines.
pub async fn open(
    tx: &mut Tx,
    p: &Principal,
    v: &ValidTicket,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let cid = p.collectivite_id;
    // Where: the room gives the school, a device gives both.
    let mut school_id = v.school_id;
    let mut room_id = v.room_id;
    let mut device_categories = Vec::new();
    for d in &v.device_ids {
        let row: Option<(Option<i64>, Option<i64>, String)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT d.school_id, d.room_id, k.code FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.id = $1 AND d.collectivite_id = $2")
                .bind(*d).bind(cid).fetch_optional(&mut *c).await?
        });
        let Some((Some(ds), dr, code)) = row else {
            return Err(FieldError::new("device_ids", "not_in_collectivite").into());
        };
        if school_id.is_some_and(|s| s != ds) {
            return Err(FieldError::new("device_ids", "room_other_school").into());
        }
        school_id = Some(ds);
        if room_id.is_none() {
            room_id = dr;
        }
        device_categories.push(code);
    }
    if let Some(r) = room_id {
        let rs: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT r.school_id FROM rooms r JOIN schools s ON s.id = r.school_id WHERE r.id = $1 AND s.collectivite_id = $2").bind(r).bind(cid).fetch_optional(&mut *c).await?
        });
        match (rs, school_id) {
            (None, _) => return Err(FieldError::new("room_id", "not_in_collectivite").into()),
            (Some(rs), Some(s)) if rs != s => {
                return Err(FieldError::new("room_id", "room_other_school").into());
            }
            (Some(rs), _) => school_id = Some(rs),
        }
    }
    let Some(school_id) = school_id else {
        return Err(FieldError::new("school_id", "required").into());
    };
    let school: Option<(String, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT name, status FROM schools WHERE id = $1 AND collectivite_id = $2").bind(school_id).bind(cid).fetch_optional(&mut *c).await?
    });
    let Some((_school_name, _)) = school else {
        return Err(AppError::NotFound);
    };
    if !p.readable_schools().contains(school_id) {
        return Err(AppError::NotFound);
    }
    if !p.can_report(school_id) {
        return Err(AppError::Forbidden);
    }
    if v.priority == Priority::P4 && !p.can_assign_ticket(school_id) {
        return Err(FieldError::new("priority", "unknown_value").into());
    }
    let today = paris::day(now);
    let route = route(tx, cid, school_id, v.category, &device_categories, today).await?;
    let terms = terms(tx, cid, route.lot_id, v.priority).await?;
    let number: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("UPDATE collectivites SET ticket_seq = ticket_seq + 1 WHERE id = $1 RETURNING ticket_seq").bind(cid).fetch_one(&mut *c).await?
    });
    let room_name: Option<String> = match room_id {
        Some(r) => with_tx!(tx, c => {
            sqlx::query_scalar("SELECT name FROM rooms WHERE id = $1").bind(r).fetch_optional(&mut *c).await?
        }),
        None => None,
    };
    let title = v.title.clone().unwrap_or_else(|| match &room_name {
        Some(r) => format!("{} — {r}", v.category.label(p.lang)),
        None => v.category.label(p.lang).to_string(),
    });
    let search = text::search_key(&format!("{number} {title} {}", v.description));
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO tickets (collectivite_id, number, school_id, room_id, category, priority, status, title, description, reporter_user_id, reporter_name, assignee_user_id, lot_id, sla_gti, sla_gtr, sla_unit, sla_gti_penalty_cents, sla_gtr_penalty_cents, sla_cap_cents, sla_calendar, sla_hours, opened_at, sla_start_at, search_key, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'nouveau', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22, 1, $21) RETURNING id")
            .bind(cid).bind(number).bind(school_id).bind(room_id).bind(v.category.code()).bind(v.priority.code())
            .bind(&title).bind(&v.description).bind((p.user_id != 0).then_some(p.user_id)).bind(&p.display_name)
            .bind(route.assignee_user_id).bind(route.lot_id)
            .bind(terms.line.gti.map(|s| s.code())).bind(terms.line.gtr.map(|s| s.code())).bind(terms.line.unit.code())
            .bind(terms.line.gti_penalty_cents).bind(terms.line.gtr_penalty_cents).bind(terms.cap_cents)
            .bind(terms.calendar.code()).bind(&terms.hours)
            .bind(now).bind(search)
            .fetch_one(&mut *c).await?
    });
    for d in &v.device_ids {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO ticket_devices (ticket_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(*d).execute(&mut *c).await?;
        });
    }
    event(
        tx,
        id,
        p,
        now,
        "created",
        true,
        None,
        json!({"route": route.reason, "lot_id": route.lot_id, "assignee_user_id": route.assignee_user_id}),
    )
    .await?;
    refresh_in_tx(tx, cid, id, now).await?;
    let t = fetch_in_tx(tx, cid, id).await?;
    notify_new(tx, cid, &t, &route, now).await?;
    audit_ticket(
        tx,
        p,
        &t,
        "create",
        json!({"category": [null, t.category], "priority": [null, t.priority], "school_id": [null, t.school_id], "route": [null, route.reason]}), now,
    )
    .await?;
    Ok(t)
}

/// What a list is filtered on (the queue page and `/api/v1/tickets` alike).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TicketFilter {
    /// `open` (the default), `all`, or one status code.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub school_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub room_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub device_id: Option<i64>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// `me`, `none`, `user:N`, `lot:N`.
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub breached: Option<bool>,
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub mine: Option<bool>,
    #[serde(default)]
    pub q: Option<String>,
}

/// A page of tickets, newest first, and the cursor of the next one.
#[derive(Debug, Clone, Serialize)]
pub struct TicketPage {
    pub items: Vec<Ticket>,
    pub next: Option<i64>,
}

impl TicketFilter {
    fn to_sql(&self, p: &Principal, backend: Backend) -> AppResult<Sql> {
        let mut f = Sql::new(" WHERE t.collectivite_id = ");
        f.bind(Param::I64(p.collectivite_id));
        let reach = p.ticket_reach();
        if !reach.all {
            // Only the parts of the reach that apply are written, so that each can use its
            // index (a teacher's list is read from the reporter index).
            // A broad reach (a technician's 23 schools, a contractor's lots) is most of
            // the history: its terms are written `+col` so that SQLite walks the open or
            // id index in order instead of gathering every match of the school index and
            // sorting them (PostgreSQL reads `+` as the identity it is). A narrow one (a
            // teacher, a head) is the few ids its own indexes give.
            // PostgreSQL combines the indexes of an OR by itself (a bitmap OR): the plain
            // OR serves it for every reach; the `+col` and the ids are SQLite's.
            let pg = backend == Backend::Postgres;
            let broad = reach.schools.len() > 3 || !reach.lots.is_empty() || pg;
            if broad {
                let mut parts = 0;
                f.push(" AND (");
                if !reach.schools.is_empty() {
                    f.push(if pg {
                        "t.school_id IN "
                    } else {
                        "+t.school_id IN "
                    })
                    .bind_list(&reach.schools);
                    parts += 1;
                }
                if let Some(me) = reach.reporter {
                    f.push(if parts > 0 { " OR " } else { "" })
                        .push(if pg {
                            "t.reporter_user_id = "
                        } else {
                            "+t.reporter_user_id = "
                        })
                        .bind(Param::I64(me));
                    parts += 1;
                }
                if !reach.lots.is_empty() {
                    f.push(if parts > 0 { " OR " } else { "" })
                        .push(if pg { "t.lot_id IN " } else { "+t.lot_id IN " })
                        .bind_list(&reach.lots);
                    parts += 1;
                }
                if parts == 0 {
                    f.push("FALSE");
                }
                f.push(")");
            } else {
                // Narrow: the ids its indexes give (a head's school, what it reported).
                f.push(" AND t.id IN (");
                let mut parts = 0;
                if !reach.schools.is_empty() {
                    f.push("SELECT id FROM tickets WHERE school_id IN ")
                        .bind_list(&reach.schools);
                    parts += 1;
                }
                if let Some(me) = reach.reporter {
                    f.push(if parts > 0 { " UNION " } else { "" })
                        .push("SELECT id FROM tickets WHERE reporter_user_id = ")
                        .bind(Param::I64(me));
                    parts += 1;
                }
                if parts == 0 {
                    f.push("SELECT NULL");
                }
                f.push(")");
            }
        }
        match self.status.as_deref().filter(|s| !s.is_empty()) {
            None | Some("open") => {
                // `is_open` is derived from the status; its index is in ticket order.
                f.push(" AND t.is_open = TRUE");
            }
            Some("all") => {}
            Some(s) => {
                let st = TicketStatus::parse("status", s)?;
                f.push(" AND t.status = ")
                    .bind(Param::Text(st.code().into()));
            }
        }
        if let Some(id) = self.school_id {
            f.push(" AND t.school_id = ").bind(Param::I64(id));
        }
        if let Some(id) = self.room_id {
            f.push(" AND t.room_id = ").bind(Param::I64(id));
        }
        if let Some(id) = self.device_id {
            f.push(" AND t.id IN (SELECT ticket_id FROM ticket_devices WHERE device_id = ")
                .bind(Param::I64(id))
                .push(")");
        }
        if let Some(pr) = self.priority.as_deref().filter(|s| !s.is_empty()) {
            let pr = Priority::parse("priority", pr)?;
            f.push(" AND t.priority = ")
                .bind(Param::Text(pr.code().into()));
        }
        if let Some(c) = self.category.as_deref().filter(|s| !s.is_empty()) {
            let c = TicketCategory::parse("category", c)?;
            f.push(" AND t.category = ")
                .bind(Param::Text(c.code().into()));
        }
        match self
            .assignee
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => {}
            Some("me") => {
                f.push(" AND (t.assignee_user_id = ")
                    .bind(Param::I64(p.user_id))
                    .push(" OR (t.assignee_user_id IS NULL AND t.lot_id IN ")
                    .bind_list(&p.lots)
                    .push("))");
            }
            Some("none") => {
                f.push(" AND t.assignee_user_id IS NULL AND t.lot_id IS NULL");
            }
            Some(other) => match Assignee::parse("assignee", other)? {
                Some(Assignee::User(u)) => {
                    f.push(" AND t.assignee_user_id = ").bind(Param::I64(u));
                }
                Some(Assignee::Lot(l)) => {
                    f.push(" AND t.lot_id = ").bind(Param::I64(l));
                }
                None => {}
            },
        }
        if self.breached == Some(true) {
            f.push(" AND (t.gti_breached = TRUE OR t.gtr_breached = TRUE)");
        }
        if self.mine == Some(true) {
            f.push(" AND t.reporter_user_id = ")
                .bind(Param::I64(p.user_id));
        }
        if let Some(q) = self
            .q
            .as_deref()
            .map(text::search_key)
            .filter(|q| !q.is_empty())
        {
            f.push(" AND t.search_key ").bind_contains(&q);
        }
        Ok(f)
    }
}

/// Tickets the caller may read, newest first; `before` is the cursor (a ticket id).
pub async fn list(
    db: &Db,
    p: &Principal,
    f: &TicketFilter,
    before: Option<i64>,
    limit: i64,
) -> AppResult<TicketPage> {
    if !p.can_use_tickets() {
        return Err(AppError::Forbidden);
    }
    let mut sql = f.to_sql(p, db.backend())?;
    if let Some(b) = before {
        sql.push(" AND t.id < ").bind(Param::I64(b));
    }
    sql.push(" ORDER BY t.id DESC").limit_plus_one(limit);
    let text = format!("{SELECT}{}", sql.text);
    let mut items: Vec<Ticket> = with_db!(db, pool => {
        bind_params!(sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(text)), &sql.params).fetch_all(pool).await?
    });
    let next = more_than(&mut items, limit)
        .then(|| items.last().map(|t| t.id))
        .flatten();
    Ok(TicketPage {
        items: items.into_iter().map(|t| t.redacted_for(p)).collect(),
        next,
    })
}

/// Counting stops here: past it the queue says « plus de 10 000 ».
pub const COUNT_CAP: i64 = 10_000;

/// How many tickets match (the queue's heading), counted on the same filter, up to
/// `COUNT_CAP` + 1 so that a large history never makes the queue slow.
pub async fn count(db: &Db, p: &Principal, f: &TicketFilter) -> AppResult<i64> {
    if !p.can_use_tickets() {
        return Err(AppError::Forbidden);
    }
    let mut sql = f.to_sql(p, db.backend())?;
    sql.push(" LIMIT ").bind(Param::I64(COUNT_CAP + 1));
    let text = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM tickets t{}) AS matching",
        sql.text
    );
    Ok(with_db!(db, pool => {
        bind_params!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(text)), &sql.params).fetch_one(pool).await?
    }))
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

/// Takes a new ticket in charge. When two people take it at once, the first wins and
/// the second gets a conflict on `status` that says so.
pub async fn take(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_handle_ticket(t.school_id, t.lot_id) {
        return Err(AppError::Forbidden);
    }
    let me = (p.user_id != 0).then_some(p.user_id);
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET status = 'pris_en_charge', taken_at = COALESCE(taken_at, $1), assignee_user_id = COALESCE($2, assignee_user_id), version = version + 1, updated_at = $1 WHERE id = $3 AND status = 'nouveau'")
            .bind(now).bind(me).bind(id).execute(&mut *c).await?.rows_affected()
    });
    if n != 1 {
        return Err(AppError::Conflict(FieldError::new(
            "status",
            "already_taken",
        )));
    }
    event(tx, id, p, now, "taken", true, None, json!({})).await?;
    refresh_in_tx(tx, p.collectivite_id, id, now).await?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    audit_ticket(tx, p, &after, "update", json!({"status": [t.status, after.status], "assignee_user_id": [t.assignee_user_id, after.assignee_user_id]}), now).await?;
    Ok(after)
}

/// A handler's change of status (with an optional public message): waiting on the
/// school opens a pause, leaving that state closes it; resolving stops the GTR clock.
pub async fn set_status(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    to: TicketStatus,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_handle_ticket(t.school_id, t.lot_id) {
        return Err(AppError::Forbidden);
    }
    let message = text::optional("message", message, 4000)?;
    let from = t.status();
    from.check_move(to)?;
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET status = $1, taken_at = CASE WHEN $2 THEN COALESCE(taken_at, $3) ELSE taken_at END, resolved_at = CASE WHEN $4 THEN $3 ELSE resolved_at END, version = version + 1, updated_at = $3 WHERE id = $5 AND version = $6")
            .bind(to.code()).bind(to.is_taken()).bind(now).bind(to == TicketStatus::Resolu).bind(id).bind(expected_version)
            .execute(&mut *c).await?.rows_affected()
    });
    crate::error::expect_one_row(n)?;
    if from.pauses_clock() && !to.pauses_clock() {
        with_tx!(tx, c => {
            sqlx::query("UPDATE ticket_pauses SET ended_at = $1 WHERE ticket_id = $2 AND ended_at IS NULL").bind(now).bind(id).execute(&mut *c).await?;
        });
    }
    if to.pauses_clock() && !from.pauses_clock() {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO ticket_pauses (ticket_id, started_at, reason) VALUES ($1, $2, $3)").bind(id).bind(now).bind(to.code()).execute(&mut *c).await?;
        });
    }
    event(
        tx,
        id,
        p,
        now,
        "status",
        true,
        message.as_deref(),
        json!({"from": from.code(), "to": to.code()}),
    )
    .await?;
    refresh_in_tx(tx, p.collectivite_id, id, now).await?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    if to == TicketStatus::Resolu {
        notify_resolved(tx, p.collectivite_id, &after, message.as_deref(), now).await?;
    }
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"status": [from.code(), to.code()]}),
        now,
    )
    .await?;
    Ok(after)
}

/// Tells whoever got a new ticket: the technician, the contractor's staff for a lot,
/// the administrators when nobody was found.
async fn notify_new(
    tx: &mut Tx,
    cid: i64,
    t: &Ticket,
    route: &Route,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let to = match (route.lot_id, route.assignee_user_id) {
        (Some(l), _) => jobs::lot_addresses(tx, l).await?,
        (None, Some(_)) => jobs::address_of(tx, route.assignee_user_id).await?,
        (None, None) => jobs::addresses(tx, cid, "administrateur", None).await?,
    };
    let due = t
        .gti_due_at
        .map(|d| format!("\nÀ prendre en charge avant le {}.", paris_words(d)))
        .unwrap_or_default();
    let place = match &t.room_name {
        Some(r) => format!("{}, {r}", t.school_name),
        None => t.school_name.clone(),
    };
    let quote = if t.description.is_empty() {
        String::new()
    } else {
        format!("\n« {} »\n", t.description)
    };
    jobs::enqueue_mail(
        tx,
        cid,
        &to,
        &format!(
            "Nouveau signalement n° {} — {} — {}",
            t.number,
            t.school_name,
            t.category().label(preau_domain::Lang::Fr)
        ),
        &format!(
            "Bonjour,\n\n{} signale : {} ({}).\nÉcole : {place}\n{quote}{due}\n",
            t.reporter_name,
            t.title,
            t.priority().short(preau_domain::Lang::Fr),
        ),
        Some(&format!("/tickets/{}", t.id)),
        now,
    )
    .await?;
    Ok(())
}

/// Tells the school a ticket is resolved: whoever reported it and the school's head.
async fn notify_resolved(
    tx: &mut Tx,
    cid: i64,
    t: &Ticket,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut who = jobs::address_of(tx, t.reporter_user_id).await?;
    who.extend(jobs::addresses(tx, cid, "directeur", Some(t.school_id)).await?);
    let said = message.map(|m| format!("\n\n« {m} »")).unwrap_or_default();
    jobs::enqueue_mail(
        tx,
        cid,
        &who,
        &format!("Résolu : signalement n° {} — {}", t.number, t.title),
        &format!(
            "Bonjour,\n\nLe signalement n° {} ({}) est résolu.{said}\n\nSi ce n'est pas le cas, rouvrez-le depuis sa page ; sans nouvelle de votre part, il sera clos dans quelques jours d'école.\n",
            t.number, t.title,
        ),
        Some(&format!("/tickets/{}", t.id)),
        now,
    )
    .await?;
    Ok(())
}

/// Tells the administrators a deadline is at risk or breached.
async fn notify_escalated(
    tx: &mut Tx,
    cid: i64,
    id: i64,
    breached: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (number, title, school): (i64, String, String) = with_tx!(tx, c => {
        sqlx::query_as("SELECT t.number, t.title, s.name FROM tickets t JOIN schools s ON s.id = t.school_id WHERE t.id = $1").bind(id).fetch_one(&mut *c).await?
    });
    let admins = jobs::addresses(tx, cid, "administrateur", None).await?;
    let what = if breached {
        "délai dépassé"
    } else {
        "délai bientôt dépassé"
    };
    jobs::enqueue_mail(
        tx,
        cid,
        &admins,
        &format!("Alerte : {what} — signalement n° {number} — {school}"),
        &format!("Bonjour,\n\nLe signalement n° {number} ({title}, {school}) : {what}.\n"),
        Some(&format!("/tickets/{id}")),
        now,
    )
    .await?;
    Ok(())
}

/// Sends a ticket to a technician or a lot. Changing the lot restarts the clocks on the
/// new lot's terms, from now, as a new ticket for its holder.
pub async fn assign(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    to: Option<Assignee>,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_assign_ticket(t.school_id) {
        return Err(AppError::Forbidden);
    }
    if !t.status().is_open() {
        return Err(FieldError::new("assignee", "ticket_closed").into());
    }
    let cid = p.collectivite_id;
    let (user, lot) = match to {
        None => (None, None),
        Some(Assignee::User(u)) => {
            let ok: Option<i64> = with_tx!(tx, c => {
                sqlx::query_scalar("SELECT u.id FROM users u JOIN role_assignments ra ON ra.user_id = u.id WHERE u.id = $1 AND u.collectivite_id = $2 AND u.active = TRUE AND ra.role IN ('technicien', 'administrateur') LIMIT 1")
                    .bind(u).bind(cid).fetch_optional(&mut *c).await?
            });
            if ok.is_none() {
                return Err(FieldError::new("assignee", "unknown_value").into());
            }
            (Some(u), None)
        }
        Some(Assignee::Lot(l)) => {
            contracts::lot_in_tx(tx, cid, l).await.map_err(|_| {
                AppError::Invalid(vec![FieldError::new("assignee", "unknown_value")])
            })?;
            (None, Some(l))
        }
    };
    if lot != t.lot_id {
        let terms = terms(tx, cid, lot, t.priority()).await?;
        let n = with_tx!(tx, c => {
            sqlx::query("UPDATE tickets SET assignee_user_id = $1, lot_id = $2, status = 'nouveau', taken_at = NULL, sla_gti = $3, sla_gtr = $4, sla_unit = $5, sla_gti_penalty_cents = $6, sla_gtr_penalty_cents = $7, sla_cap_cents = $8, sla_calendar = $9, sla_hours = $10, sla_start_at = $11, version = version + 1, updated_at = $11 WHERE id = $12 AND version = $13")
                .bind(user).bind(lot)
                .bind(terms.line.gti.map(|s| s.code())).bind(terms.line.gtr.map(|s| s.code())).bind(terms.line.unit.code())
                .bind(terms.line.gti_penalty_cents).bind(terms.line.gtr_penalty_cents).bind(terms.cap_cents)
                .bind(terms.calendar.code()).bind(&terms.hours).bind(now).bind(id).bind(expected_version)
                .execute(&mut *c).await?.rows_affected()
        });
        crate::error::expect_one_row(n)?;
        with_tx!(tx, c => {
            sqlx::query("UPDATE ticket_pauses SET ended_at = $1 WHERE ticket_id = $2 AND ended_at IS NULL").bind(now).bind(id).execute(&mut *c).await?;
        });
    } else {
        let n = with_tx!(tx, c => {
            sqlx::query("UPDATE tickets SET assignee_user_id = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
                .bind(user).bind(now).bind(id).bind(expected_version)
                .execute(&mut *c).await?.rows_affected()
        });
        crate::error::expect_one_row(n)?;
    }
    event(
        tx,
        id,
        p,
        now,
        "assigned",
        true,
        None,
        json!({"assignee_user_id": user, "lot_id": lot, "restarted": lot != t.lot_id}),
    )
    .await?;
    refresh_in_tx(tx, cid, id, now).await?;
    let after = fetch_in_tx(tx, cid, id).await?;
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"assignee_user_id": [t.assignee_user_id, user], "lot_id": [t.lot_id, lot]}),
        now,
    )
    .await?;
    Ok(after)
}

/// Changes how bad it is (the reporter may have misjudged): the terms follow the new
/// priority's line, from the ticket's own start.
pub async fn set_priority(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    to: Priority,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_assign_ticket(t.school_id) {
        return Err(AppError::Forbidden);
    }
    let cid = p.collectivite_id;
    let terms = terms(tx, cid, t.lot_id, to).await?;
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET priority = $1, sla_gti = $2, sla_gtr = $3, sla_unit = $4, sla_gti_penalty_cents = $5, sla_gtr_penalty_cents = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9")
            .bind(to.code()).bind(terms.line.gti.map(|s| s.code())).bind(terms.line.gtr.map(|s| s.code())).bind(terms.line.unit.code())
            .bind(terms.line.gti_penalty_cents).bind(terms.line.gtr_penalty_cents).bind(now).bind(id).bind(expected_version)
            .execute(&mut *c).await?.rows_affected()
    });
    crate::error::expect_one_row(n)?;
    event(
        tx,
        id,
        p,
        now,
        "priority",
        true,
        None,
        json!({"from": t.priority, "to": to.code()}),
    )
    .await?;
    refresh_in_tx(tx, cid, id, now).await?;
    let after = fetch_in_tx(tx, cid, id).await?;
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"priority": [t.priority, to.code()]}),
        now,
    )
    .await?;
    Ok(after)
}

/// A message on a ticket: public (the school reads it) or an internal note between
/// those who handle it.
pub async fn comment(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    body: &str,
    public: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let t = get_in_tx(tx, p, id).await?;
    if !public && !p.can_handle_ticket(t.school_id, t.lot_id) {
        return Err(AppError::Forbidden);
    }
    let body = text::required("body", body, 4000)?;
    event(
        tx,
        id,
        p,
        now,
        if public { "reply" } else { "note" },
        public,
        Some(&body),
        json!({}),
    )
    .await?;
    with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *c).await?;
    });
    audit_ticket(tx, p, &t, "comment", json!({"public": public}), now).await
}

/// The school confirms the fix: the ticket is closed.
pub async fn confirm(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_confirm_ticket(t.school_id, t.reporter_user_id) {
        return Err(AppError::Forbidden);
    }
    if t.status() != TicketStatus::Resolu {
        return Err(FieldError::new("status", "status_move").into());
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET status = 'clos', closed_at = $1, version = version + 1, updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *c).await?;
    });
    event(tx, id, p, now, "confirmed", true, None, json!({})).await?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"status": ["resolu", "clos"]}),
        now,
    )
    .await?;
    Ok(after)
}

/// The school says it is not fixed. The ticket goes back to work; the time it sat
/// resolved counts as a wait, and the GTR clock runs again.
pub async fn reopen(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_confirm_ticket(t.school_id, t.reporter_user_id) {
        return Err(AppError::Forbidden);
    }
    let reason = text::required("reason", reason, 4000)?;
    let Some(resolved_at) = t.resolved_at.filter(|_| !t.status().is_open()) else {
        return Err(FieldError::new("status", "status_move").into());
    };
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO ticket_pauses (ticket_id, started_at, ended_at, reason) VALUES ($1, $2, $3, 'resolu')").bind(id).bind(resolved_at).bind(now).execute(&mut *c).await?;
        sqlx::query("UPDATE tickets SET status = 'en_cours', resolved_at = NULL, closed_at = NULL, version = version + 1, updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *c).await?;
    });
    event(
        tx,
        id,
        p,
        now,
        "reopened",
        true,
        Some(&reason),
        json!({"from": t.status}),
    )
    .await?;
    refresh_in_tx(tx, p.collectivite_id, id, now).await?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"status": [t.status, "en_cours"]}),
        now,
    )
    .await?;
    Ok(after)
}

/// Adds a photo or a scan to a ticket: its type is read from its bytes (JPEG, PNG,
/// WebP, PDF), never from its name; 8 MB at most, 10 per ticket.
pub async fn attach(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    file_name: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> AppResult<i64> {
    get_in_tx(tx, p, id).await?;
    if bytes.len() > preau_domain::ticket::MAX_ATTACHMENT {
        return Err(FieldError::new("photo", "file_too_large").into());
    }
    let Some(kind) = attachment_type(bytes) else {
        return Err(FieldError::new("photo", "file_type").into());
    };
    let count: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM ticket_attachments WHERE ticket_id = $1").bind(id).fetch_one(&mut *c).await?
    });
    if count >= 10 {
        return Err(FieldError::new("photo", "too_many").into());
    }
    let name: String = file_name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"'))
        .take(120)
        .collect();
    let name = if name.trim().is_empty() {
        "photo".to_string()
    } else {
        name
    };
    let aid: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO ticket_attachments (ticket_id, file_name, content_type, size, data, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(id).bind(&name).bind(kind).bind(bytes.len() as i64).bind(bytes).bind(now)
            .fetch_one(&mut *c).await?
    });
    event(
        tx,
        id,
        p,
        now,
        "attachment",
        true,
        None,
        json!({"attachment_id": aid, "name": name}),
    )
    .await?;
    Ok(aid)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn attachments(db: &Db, p: &Principal, id: i64) -> AppResult<Vec<Attachment>> {
    get(db, p, id).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Attachment>("SELECT id, file_name, content_type, size, created_at FROM ticket_attachments WHERE ticket_id = $1 ORDER BY id").bind(id).fetch_all(pool).await?
    }))
}

/// One attachment's type, name and bytes.
pub async fn attachment(
    db: &Db,
    p: &Principal,
    id: i64,
    aid: i64,
) -> AppResult<(String, String, Vec<u8>)> {
    get(db, p, id).await?;
    with_db!(db, pool => {
        sqlx::query_as("SELECT content_type, file_name, data FROM ticket_attachments WHERE id = $1 AND ticket_id = $2").bind(aid).bind(id).fetch_optional(pool).await?
    })
    .ok_or(AppError::NotFound)
}

/// What the periodic pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tick {
    pub closed: usize,
    pub escalated: usize,
    pub refreshed: usize,
}

/// The periodic pass (every few minutes from `preau serve`; tests call it with the
/// instant they want): refreshes the clocks of open tickets, escalates those newly at
/// risk or breached, and closes the tickets resolved N school days ago that the school
/// did not confirm.
pub async fn tick(db: &Db, now: DateTime<Utc>) -> AppResult<Tick> {
    let mut out = Tick::default();
    // Computed outside any transaction; only the tickets whose stored deadlines or flags
    // change are written, so that the pass never holds the writer for long.
    let sql = format!("{SELECT} WHERE t.is_open = TRUE ORDER BY t.id");
    let open: Vec<Ticket> = with_db!(db, pool => {
        sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
    });
    let calendars = calendar::by_school(db, None).await?;
    let pauses: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT p.ticket_id, p.started_at, p.ended_at FROM ticket_pauses p JOIN tickets t ON t.id = p.ticket_id WHERE t.is_open = TRUE ORDER BY p.started_at").fetch_all(pool).await?
    });
    let mut by_ticket: std::collections::HashMap<i64, Vec<Pause>> = Default::default();
    for (t, a, b) in pauses {
        by_ticket.entry(t).or_default().push((a, b));
    }
    let mut changed = Vec::new();
    for t in &open {
        let Some(cal) = calendars.get(&t.school_id) else {
            continue;
        };
        let c = clocks_of(
            t,
            cal,
            by_ticket.get(&t.id).map(Vec::as_slice).unwrap_or(&[]),
            now,
        );
        let breached = |s: &Option<sla::ClockState>| s.as_ref().is_some_and(|s| s.breached);
        let risk =
            c.gti.as_ref().is_some_and(|s| s.at_risk) || c.gtr.as_ref().is_some_and(|s| s.at_risk);
        let same = c.gti.as_ref().map(|s| s.due) == t.gti_due_at
            && c.gtr.as_ref().map(|s| s.due) == t.gtr_due_at
            && breached(&c.gti) == t.gti_breached
            && breached(&c.gtr) == t.gtr_breached
            && risk == t.at_risk;
        out.refreshed += 1;
        if !same {
            let newly_breached =
                (breached(&c.gti) || breached(&c.gtr)) && !(t.gti_breached || t.gtr_breached);
            let newly_at_risk = risk && !t.at_risk && t.escalated_at.is_none();
            changed.push((
                t.id,
                t.collectivite_id,
                t.version,
                c,
                newly_breached,
                newly_at_risk,
            ));
        }
    }
    for chunk in changed.chunks(200) {
        let n = crate::write_tx!(db, tx => {
            let mut escalated = 0;
            for (id, cid, version, clocks, newly_breached, newly_at_risk) in chunk {
                // Changed meanwhile (taken, resolved…): its own change recomputed it.
                let still: Option<i64> = with_tx!(tx, c => {
                    sqlx::query_scalar("SELECT id FROM tickets WHERE id = $1 AND version = $2 AND is_open = TRUE").bind(*id).bind(*version).fetch_optional(&mut *c).await?
                });
                if still.is_none() {
                    continue;
                }
                store_clocks(tx, *id, clocks).await?;
                if *newly_breached || *newly_at_risk {
                    let breached = *newly_breached;
                    with_tx!(tx, c => {
                        sqlx::query("UPDATE tickets SET escalated_at = $1 WHERE id = $2").bind(now).bind(*id).execute(&mut *c).await?;
                        sqlx::query("INSERT INTO ticket_events (ticket_id, occurred_at, actor_user_id, actor_name, kind, public, body, detail) VALUES ($1, $2, NULL, 'Préau', 'escalated', FALSE, NULL, $3)")
                            .bind(*id).bind(now).bind(json!({"breached": breached, "at_risk": *newly_at_risk}).to_string()).execute(&mut *c).await?;
                    });
                    notify_escalated(tx, *cid, *id, breached, now).await?;
                    escalated += 1;
                }
            }
            escalated
        })?;
        out.escalated += n;
    }
    let resolved: Vec<(i64, i64, DateTime<Utc>, i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT t.id, t.collectivite_id, t.resolved_at, t.school_id, c.auto_close_days FROM tickets t JOIN collectivites c ON c.id = t.collectivite_id WHERE t.status = 'resolu' AND t.resolved_at IS NOT NULL ORDER BY t.id").fetch_all(pool).await?
    });
    let mut due = Vec::new();
    for (id, cid, at, school, days) in resolved {
        let Some(cal) = calendars.get(&school) else {
            continue;
        };
        if cal.deadline(at, Span::Days(days.max(1)), &[]) <= now {
            due.push((id, cid));
        }
    }
    for chunk in due.chunks(200) {
        crate::write_tx!(db, tx => {
            for (id, cid) in chunk {
                let n = with_tx!(tx, c => {
                    sqlx::query("UPDATE tickets SET status = 'clos', closed_at = $1, version = version + 1, updated_at = $1 WHERE id = $2 AND status = 'resolu'").bind(now).bind(*id).execute(&mut *c).await?.rows_affected()
                });
                if n == 1 {
                    with_tx!(tx, c => {
                        sqlx::query("INSERT INTO ticket_events (ticket_id, occurred_at, actor_user_id, actor_name, kind, public, body, detail) VALUES ($1, $2, NULL, 'Préau', 'closed_auto', TRUE, NULL, '{}')")
                            .bind(*id).bind(now).execute(&mut *c).await?;
                    });
                    let actor = Actor::system("préau", *cid);
                    audit::record(tx, &actor, now, Entry { action: "update", object_type: "ticket", object_id: *id, object_label: "fermeture automatique", changes: json!({"status": ["resolu", "clos"]}) }).await?;
                }
            }
        })?;
        out.closed += chunk.len();
    }
    Ok(out)
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
