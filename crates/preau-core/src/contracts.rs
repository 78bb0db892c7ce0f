//! Maintenance contracts (marchés): the contractor holding them, their lots, each lot's
//! perimeter (schools × device categories) and SLA grid (GTI, GTR and penalties per
//! priority), and the calendar the clocks count on.
//!
//! Tickets copy their lot's grid line when they are opened (`tickets::open`): editing a
//! grid here changes the tickets opened afterwards, never the deadlines already running,
//! and `set_grid` says how many open tickets keep their former terms.

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::calendar::Span;
use preau_domain::device::euros_to_cents;
use preau_domain::sla::{CalendarKind, ContractorHours, PenaltyUnit, SlaLine};
use preau_domain::ticket::Priority;
use preau_domain::{FieldError, Principal, Role, text};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, Errors, expect_one_row, unique};
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Contract {
    pub id: i64,
    pub contractor_id: i64,
    pub contractor_name: String,
    pub reference: String,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub calendar: String,
    pub work_days: String,
    pub work_start: String,
    pub work_end: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contract {
    pub fn calendar_kind(&self) -> CalendarKind {
        CalendarKind::from_db(&self.calendar)
    }

    /// The contractor's hours as stored (`1,2,3,4,5;08:00;18:00`), for tickets' snapshot.
    pub fn hours_code(&self) -> String {
        format!("{};{};{}", self.work_days, self.work_start, self.work_end)
    }

    pub fn is_active(&self, on: NaiveDate) -> bool {
        self.starts_on <= on && on <= self.ends_on
    }

    pub fn to_input(&self) -> ContractInput {
        ContractInput {
            contractor_id: self.contractor_id.to_string(),
            reference: self.reference.clone(),
            title: self.title.clone(),
            starts_on: self.starts_on.to_string(),
            ends_on: self.ends_on.to_string(),
            calendar: self.calendar.clone(),
            work_days: Some(self.work_days.clone()),
            work_start: Some(self.work_start.clone()),
            work_end: Some(self.work_end.clone()),
        }
    }
}

/// A contract as a form or the API sends it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContractInput {
    pub contractor_id: String,
    pub reference: String,
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub calendar: String,
    #[serde(default)]
    pub work_days: Option<String>,
    #[serde(default)]
    pub work_start: Option<String>,
    #[serde(default)]
    pub work_end: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidContract {
    pub contractor_id: i64,
    pub reference: String,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub calendar: CalendarKind,
    pub hours: ContractorHours,
}

fn date(field: &str, v: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v.trim(), "%d/%m/%Y"))
        .map_err(|_| {
            if v.trim().is_empty() {
                FieldError::new(field, "required")
            } else {
                FieldError::new(field, "date_format")
            }
        })
}

impl ContractInput {
    pub fn parse(&self) -> Result<ValidContract, AppError> {
        let mut e = Errors::default();
        let contractor_id = e.check(
            self.contractor_id
                .trim()
                .parse::<i64>()
                .map_err(|_| FieldError::new("contractor_id", "required")),
        );
        let reference = e.check(text::required("reference", &self.reference, 60));
        let title = e.check(text::required("title", &self.title, 200));
        let starts_on = e.check(date("starts_on", &self.starts_on));
        let ends_on = e.check(date("ends_on", &self.ends_on));
        if let (Some(a), Some(b)) = (starts_on, ends_on)
            && b < a
        {
            e.push(FieldError::new("ends_on", "dates_order"));
        }
        let calendar = e.check(CalendarKind::parse("calendar", &self.calendar));
        let usual = ContractorHours::usual();
        let hours = e.check(ContractorHours::parse(
            self.work_days
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or(&usual.days_code()),
            self.work_start
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or("08:00"),
            self.work_end
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or("18:00"),
        ));
        e.finish()?;
        match (
            contractor_id,
            reference,
            title,
            starts_on,
            ends_on,
            calendar,
            hours,
        ) {
            (Some(c), Some(r), Some(t), Some(s), Some(en), Some(k), Some(h)) => Ok(ValidContract {
                contractor_id: c,
                reference: r,
                title: t,
                starts_on: s,
                ends_on: en,
                calendar: k,
                hours: h,
            }),
            _ => Err(FieldError::new("contract", "invalid").into()),
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Lot {
    pub id: i64,
    pub contract_id: i64,
    pub number: i64,
    pub label: String,
    pub cap_ticket_cents: Option<i64>,
    pub cap_month_cents: Option<i64>,
    pub version: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LotInput {
    pub number: String,
    pub label: String,
    /// In euros, as typed (« 500 », « 1 500,00 »); empty: no cap.
    #[serde(default)]
    pub cap_ticket: Option<String>,
    #[serde(default)]
    pub cap_month: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidLot {
    pub number: i64,
    pub label: String,
    pub cap_ticket_cents: Option<i64>,
    pub cap_month_cents: Option<i64>,
}

impl LotInput {
    pub fn parse(&self) -> Result<ValidLot, AppError> {
        let mut e = Errors::default();
        let number = e.check(
            self.number
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=99).contains(n))
                .ok_or_else(|| FieldError::new("number", "out_of_range")),
        );
        let label = e.check(text::required("label", &self.label, 200));
        let cap_ticket = e.check(euros_to_cents("cap_ticket", self.cap_ticket.as_deref()));
        let cap_month = e.check(euros_to_cents("cap_month", self.cap_month.as_deref()));
        e.finish()?;
        match (number, label, cap_ticket, cap_month) {
            (Some(number), Some(label), Some(cap_ticket_cents), Some(cap_month_cents)) => {
                Ok(ValidLot {
                    number,
                    label,
                    cap_ticket_cents,
                    cap_month_cents,
                })
            }
            _ => Err(FieldError::new("lot", "invalid").into()),
        }
    }
}

/// One priority's line of a grid as a form sends it: spans (`4h`, `2d`, empty for
/// none) and amounts in euros.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SlaLineInput {
    pub priority: String,
    #[serde(default)]
    pub gti: Option<String>,
    #[serde(default)]
    pub gtr: Option<String>,
    pub unit: String,
    #[serde(default)]
    pub gti_penalty: Option<String>,
    #[serde(default)]
    pub gtr_penalty: Option<String>,
}

/// Checks a whole grid; errors name `p1.gti`, `p2.gtr_penalty`…
pub fn parse_grid(lines: &[SlaLineInput]) -> Result<Vec<(Priority, SlaLine)>, AppError> {
    let mut e = Errors::default();
    let mut out = Vec::new();
    for l in lines {
        let Some(priority) = e.check(Priority::parse("priority", &l.priority)) else {
            continue;
        };
        let f = |name: &str| format!("{}.{name}", priority.code());
        let span = |name: &str, v: &Option<String>| -> Result<Option<Span>, FieldError> {
            match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => Span::parse(v).map(Some).map_err(|e| e.at(f(name))),
            }
        };
        let gti = e.check(span("gti", &l.gti));
        let gtr = e.check(span("gtr", &l.gtr));
        let unit = e.check(PenaltyUnit::parse(&f("unit"), &l.unit));
        let gti_pen = e.check(euros_to_cents(&f("gti_penalty"), l.gti_penalty.as_deref()));
        let gtr_pen = e.check(euros_to_cents(&f("gtr_penalty"), l.gtr_penalty.as_deref()));
        if out.iter().any(|(p, _)| *p == priority) {
            e.push(FieldError::new(f("priority"), "duplicate"));
        }
        if let (Some(gti), Some(gtr), Some(unit), Some(a), Some(b)) =
            (gti, gtr, unit, gti_pen, gtr_pen)
        {
            out.push((
                priority,
                SlaLine {
                    gti,
                    gtr,
                    unit,
                    gti_penalty_cents: a.unwrap_or(0),
                    gtr_penalty_cents: b.unwrap_or(0),
                },
            ));
        }
    }
    e.finish()?;
    Ok(out)
}

/// The grid the domain brief proposes, and what tickets handled in house count on:
/// P1 4 h / J+1, P2 J+1 / J+3, P3 J+5, P4 none. No penalties.
pub fn default_grid() -> Vec<(Priority, SlaLine)> {
    let line = |gti, gtr| SlaLine {
        gti,
        gtr,
        unit: PenaltyUnit::Heure,
        gti_penalty_cents: 0,
        gtr_penalty_cents: 0,
    };
    vec![
        (
            Priority::P1,
            line(Some(Span::Minutes(240)), Some(Span::Days(1))),
        ),
        (Priority::P2, line(Some(Span::Days(1)), Some(Span::Days(3)))),
        (Priority::P3, line(Some(Span::Days(5)), None)),
        (Priority::P4, line(None, None)),
    ]
}

/// A lot with its grid and perimeter, as a contract page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LotDetail {
    pub lot: Lot,
    pub grid: Vec<(Priority, SlaLine)>,
    /// `(school_id, category_id)` pairs.
    pub perimeter: Vec<(i64, i64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContractDetail {
    pub contract: Contract,
    pub lots: Vec<LotDetail>,
    /// False for a contractor's staff: caps and penalty amounts were cleared.
    pub amounts_shown: bool,
}

const SELECT: &str = "SELECT c.id, c.contractor_id, k.name AS contractor_name, c.reference, c.title, c.starts_on, c.ends_on, c.calendar, c.work_days, c.work_start, c.work_end, c.version, c.created_at, c.updated_at FROM contracts c JOIN contractors k ON k.id = c.contractor_id";

/// The contracts the caller may read: all of the collectivité's for its staff, its own
/// for a contractor.
pub async fn list(db: &Db, p: &Principal) -> AppResult<Vec<Contract>> {
    if !p.can_read_contracts() {
        return Err(AppError::Forbidden);
    }
    let sql =
        format!("{SELECT} WHERE c.collectivite_id = $1 ORDER BY c.starts_on DESC, c.reference");
    let all: Vec<Contract> = with_db!(db, pool => {
        sqlx::query_as::<_, Contract>(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).fetch_all(pool).await?
    });
    Ok(all.into_iter().filter(|c| may_read(p, c)).collect())
}

fn may_read(p: &Principal, c: &Contract) -> bool {
    p.can_read_contracts()
        && (!p.has(Role::Prestataire)
            || p.is_admin()
            || p.has(Role::Elu)
            || p.has(Role::Technicien)
            || p.contractor_ids().contains(&c.contractor_id))
}

/// Whether the caller sees amounts (caps, penalties): not a contractor's staff.
fn shows_amounts(p: &Principal) -> bool {
    p.can_see_sla_report()
}

async fn fetch(tx: &mut Tx, cid: i64, id: i64) -> AppResult<Contract> {
    let sql = format!("{SELECT} WHERE c.id = $1 AND c.collectivite_id = $2");
    with_tx!(tx, c => {
        sqlx::query_as::<_, Contract>(sqlx::AssertSqlSafe(sql)).bind(id).bind(cid).fetch_optional(&mut *c).await?
    })
    .ok_or(AppError::NotFound)
}

pub async fn get(db: &Db, p: &Principal, id: i64) -> AppResult<ContractDetail> {
    if !p.can_read_contracts() {
        return Err(AppError::Forbidden);
    }
    let sql = format!("{SELECT} WHERE c.id = $1 AND c.collectivite_id = $2");
    let contract = with_db!(db, pool => {
        sqlx::query_as::<_, Contract>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    })
    .filter(|c| may_read(p, c))
    .ok_or(AppError::NotFound)?;
    let lots: Vec<Lot> = with_db!(db, pool => {
        sqlx::query_as::<_, Lot>("SELECT id, contract_id, number, label, cap_ticket_cents, cap_month_cents, version FROM lots WHERE contract_id = $1 ORDER BY number")
            .bind(id).fetch_all(pool).await?
    });
    let amounts = shows_amounts(p);
    let mut out = Vec::new();
    for mut lot in lots {
        let mut grid = grid_of(db, lot.id).await?;
        let perimeter: Vec<(i64, i64)> = with_db!(db, pool => {
            sqlx::query_as("SELECT school_id, category_id FROM lot_perimeters WHERE lot_id = $1 ORDER BY school_id, category_id")
                .bind(lot.id).fetch_all(pool).await?
        });
        if !amounts {
            lot.cap_month_cents = None;
            lot.cap_ticket_cents = None;
            for (_, l) in &mut grid {
                l.gti_penalty_cents = 0;
                l.gtr_penalty_cents = 0;
            }
        }
        out.push(LotDetail {
            lot,
            grid,
            perimeter,
        });
    }
    Ok(ContractDetail {
        contract,
        lots: out,
        amounts_shown: amounts,
    })
}

type GridRow = (String, Option<String>, Option<String>, String, i64, i64);

fn grid_rows(rows: Vec<GridRow>) -> Vec<(Priority, SlaLine)> {
    let mut grid: Vec<(Priority, SlaLine)> = rows
        .into_iter()
        .map(|(prio, gti, gtr, unit, a, b)| {
            (
                Priority::from_db(&prio),
                SlaLine {
                    gti: gti.and_then(|s| Span::parse(&s).ok()),
                    gtr: gtr.and_then(|s| Span::parse(&s).ok()),
                    unit: PenaltyUnit::from_db(&unit),
                    gti_penalty_cents: a,
                    gtr_penalty_cents: b,
                },
            )
        })
        .collect();
    grid.sort_by_key(|(p, _)| *p);
    grid
}

const GRID: &str = "SELECT priority, gti, gtr, unit, gti_penalty_cents, gtr_penalty_cents FROM sla_lines WHERE lot_id = $1";

async fn grid_of(db: &Db, lot_id: i64) -> AppResult<Vec<(Priority, SlaLine)>> {
    let rows: Vec<GridRow> = with_db!(db, pool => {
        sqlx::query_as(GRID).bind(lot_id).fetch_all(pool).await?
    });
    Ok(grid_rows(rows))
}

/// A lot's grid line for a priority, inside a transaction (ticket opening).
pub async fn line_in_tx(
    tx: &mut Tx,
    lot_id: i64,
    priority: Priority,
) -> AppResult<Option<SlaLine>> {
    let rows: Vec<GridRow> = with_tx!(tx, c => {
        sqlx::query_as(GRID).bind(lot_id).fetch_all(&mut *c).await?
    });
    Ok(grid_rows(rows)
        .into_iter()
        .find(|(p, _)| *p == priority)
        .map(|(_, l)| l))
}

/// A lot with its contract, inside a transaction, in the caller's collectivité.
pub async fn lot_in_tx(tx: &mut Tx, cid: i64, lot_id: i64) -> AppResult<(Lot, Contract)> {
    let lot: Lot = with_tx!(tx, c => {
        sqlx::query_as::<_, Lot>("SELECT l.id, l.contract_id, l.number, l.label, l.cap_ticket_cents, l.cap_month_cents, l.version FROM lots l JOIN contracts c ON c.id = l.contract_id WHERE l.id = $1 AND c.collectivite_id = $2")
            .bind(lot_id).bind(cid).fetch_optional(&mut *c).await?
    })
    .ok_or(AppError::NotFound)?;
    let contract = fetch(tx, cid, lot.contract_id).await?;
    Ok((lot, contract))
}

/// The lots of the collectivité, with their contract's reference and contractor, for
/// assignment menus: `(lot id, "Marché 2025-07 lot 1 — Armor…")`.
pub async fn lot_choices(db: &Db, p: &Principal) -> AppResult<Vec<(i64, String)>> {
    let rows: Vec<(i64, i64, String, String, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT l.id, l.number, l.label, c.reference, k.name FROM lots l JOIN contracts c ON c.id = l.contract_id JOIN contractors k ON k.id = c.contractor_id WHERE c.collectivite_id = $1 ORDER BY c.reference, l.number")
            .bind(p.collectivite_id).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, n, label, r, k)| (id, format!("{k} — {r} lot {n} ({label})")))
        .collect())
}

async fn check_contractor(tx: &mut Tx, cid: i64, contractor_id: i64) -> AppResult<()> {
    let ok: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT id FROM contractors WHERE id = $1 AND collectivite_id = $2").bind(contractor_id).bind(cid).fetch_optional(&mut *c).await?
    });
    ok.map(|_| ())
        .ok_or_else(|| FieldError::new("contractor_id", "not_in_collectivite").into())
}

pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    v: &ValidContract,
    now: DateTime<Utc>,
) -> AppResult<Contract> {
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    check_contractor(tx, p.collectivite_id, v.contractor_id).await?;
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO contracts (collectivite_id, contractor_id, reference, title, starts_on, ends_on, calendar, work_days, work_start, work_end, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) RETURNING id")
            .bind(p.collectivite_id).bind(v.contractor_id).bind(&v.reference).bind(&v.title)
            .bind(v.starts_on).bind(v.ends_on).bind(v.calendar.code())
            .bind(v.hours.days_code()).bind(v.hours.start.format("%H:%M").to_string()).bind(v.hours.end.format("%H:%M").to_string())
            .bind(now)
            .fetch_one(&mut *c).await.map_err(unique("reference", "name_taken"))?
    });
    let contract = fetch(tx, p.collectivite_id, id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "contract",
            object_id: id,
            object_label: &format!("{} — {}", v.reference, v.title),
            changes: audit::created(v),
        },
    )
    .await?;
    Ok(contract)
}

pub async fn update(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    v: &ValidContract,
    now: DateTime<Utc>,
) -> AppResult<Contract> {
    let before = fetch(tx, p.collectivite_id, id).await?;
    if !p.can_manage_contracts() {
        return Err(if may_read(p, &before) {
            AppError::Forbidden
        } else {
            AppError::NotFound
        });
    }
    check_contractor(tx, p.collectivite_id, v.contractor_id).await?;
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE contracts SET contractor_id = $1, reference = $2, title = $3, starts_on = $4, ends_on = $5, calendar = $6, work_days = $7, work_start = $8, work_end = $9, version = version + 1, updated_at = $10 WHERE id = $11 AND version = $12")
            .bind(v.contractor_id).bind(&v.reference).bind(&v.title).bind(v.starts_on).bind(v.ends_on)
            .bind(v.calendar.code()).bind(v.hours.days_code()).bind(v.hours.start.format("%H:%M").to_string()).bind(v.hours.end.format("%H:%M").to_string())
            .bind(now).bind(id).bind(expected_version)
            .execute(&mut *c).await.map_err(unique("reference", "name_taken"))?.rows_affected()
    });
    expect_one_row(n)?;
    let after = fetch(tx, p.collectivite_id, id).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "contract",
            object_id: id,
            object_label: &format!("{} — {}", after.reference, after.title),
            changes: audit::diff(&before, &after),
        },
    )
    .await?;
    Ok(after)
}

pub async fn lot_create(
    tx: &mut Tx,
    p: &Principal,
    contract_id: i64,
    v: &ValidLot,
    now: DateTime<Utc>,
) -> AppResult<Lot> {
    let contract = fetch(tx, p.collectivite_id, contract_id).await?;
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO lots (contract_id, number, label, cap_ticket_cents, cap_month_cents, version) VALUES ($1, $2, $3, $4, $5, 1) RETURNING id")
            .bind(contract_id).bind(v.number).bind(&v.label).bind(v.cap_ticket_cents).bind(v.cap_month_cents)
            .fetch_one(&mut *c).await.map_err(unique("number", "name_taken"))?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "lot",
            object_id: id,
            object_label: &format!("{} lot {} — {}", contract.reference, v.number, v.label),
            changes: audit::created(v),
        },
    )
    .await?;
    Ok(lot_in_tx(tx, p.collectivite_id, id).await?.0)
}

pub async fn lot_update(
    tx: &mut Tx,
    p: &Principal,
    lot_id: i64,
    expected_version: i64,
    v: &ValidLot,
    now: DateTime<Utc>,
) -> AppResult<Lot> {
    let (before, contract) = lot_in_tx(tx, p.collectivite_id, lot_id).await?;
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE lots SET number = $1, label = $2, cap_ticket_cents = $3, cap_month_cents = $4, version = version + 1 WHERE id = $5 AND version = $6")
            .bind(v.number).bind(&v.label).bind(v.cap_ticket_cents).bind(v.cap_month_cents).bind(lot_id).bind(expected_version)
            .execute(&mut *c).await.map_err(unique("number", "name_taken"))?.rows_affected()
    });
    expect_one_row(n)?;
    let after = lot_in_tx(tx, p.collectivite_id, lot_id).await?.0;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "lot",
            object_id: lot_id,
            object_label: &format!(
                "{} lot {} — {}",
                contract.reference, after.number, after.label
            ),
            changes: audit::diff(&before, &after),
        },
    )
    .await?;
    Ok(after)
}

/// Replaces a lot's grid. Returns how many open tickets of the lot keep the terms they
/// were opened with (the page says so: their deadlines do not move).
pub async fn set_grid(
    tx: &mut Tx,
    p: &Principal,
    lot_id: i64,
    grid: &[(Priority, SlaLine)],
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let (lot, contract) = lot_in_tx(tx, p.collectivite_id, lot_id).await?;
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    let before: Vec<GridRow> = with_tx!(tx, c => {
        sqlx::query_as(GRID).bind(lot_id).fetch_all(&mut *c).await?
    });
    let before = grid_rows(before);
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM sla_lines WHERE lot_id = $1").bind(lot_id).execute(&mut *c).await?;
    });
    for (prio, l) in grid {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO sla_lines (lot_id, priority, gti, gtr, unit, gti_penalty_cents, gtr_penalty_cents) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(lot_id).bind(prio.code()).bind(l.gti.map(|s| s.code())).bind(l.gtr.map(|s| s.code()))
                .bind(l.unit.code()).bind(l.gti_penalty_cents).bind(l.gtr_penalty_cents)
                .execute(&mut *c).await?;
        });
    }
    let kept: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE lot_id = $1 AND status NOT IN ('resolu', 'clos')").bind(lot_id).fetch_one(&mut *c).await?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "sla_grid",
            object_id: lot_id,
            object_label: &format!("{} lot {} — {}", contract.reference, lot.number, lot.label),
            changes: serde_json::json!({"grid": [before, grid], "open_tickets_keep_former_terms": kept}),
        },
    )
    .await?;
    Ok(kept)
}

/// Replaces a lot's perimeter with every pair of the given schools and categories.
pub async fn set_perimeter(
    tx: &mut Tx,
    p: &Principal,
    lot_id: i64,
    school_ids: &[i64],
    category_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let (lot, contract) = lot_in_tx(tx, p.collectivite_id, lot_id).await?;
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    let cid = p.collectivite_id;
    for s in school_ids {
        let ok: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT id FROM schools WHERE id = $1 AND collectivite_id = $2").bind(*s).bind(cid).fetch_optional(&mut *c).await?
        });
        if ok.is_none() {
            return Err(FieldError::new("school_ids", "not_in_collectivite").into());
        }
    }
    for k in category_ids {
        let ok: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT id FROM device_categories WHERE id = $1 AND collectivite_id = $2").bind(*k).bind(cid).fetch_optional(&mut *c).await?
        });
        if ok.is_none() {
            return Err(FieldError::new("category_ids", "not_in_collectivite").into());
        }
    }
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM lot_perimeters WHERE lot_id = $1").bind(lot_id).execute(&mut *c).await?;
    });
    let rows: Vec<Vec<crate::db::Param>> = school_ids
        .iter()
        .flat_map(|s| {
            category_ids.iter().map(move |k| {
                vec![
                    crate::db::Param::I64(lot_id),
                    crate::db::Param::I64(*s),
                    crate::db::Param::I64(*k),
                ]
            })
        })
        .collect();
    let n = rows.len();
    crate::db::insert_rows(
        tx,
        "INSERT INTO lot_perimeters (lot_id, school_id, category_id)",
        rows,
        " ON CONFLICT DO NOTHING",
    )
    .await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "lot_perimeter",
            object_id: lot_id,
            object_label: &format!("{} lot {} — {}", contract.reference, lot.number, lot.label),
            changes: serde_json::json!({"schools": school_ids, "categories": category_ids}),
        },
    )
    .await?;
    Ok(n)
}

/// The active lot whose perimeter covers this school and one of these device categories
/// (routing), with its contract.
pub async fn covering_lot(
    tx: &mut Tx,
    cid: i64,
    school_id: i64,
    category_codes: &[&str],
    on: NaiveDate,
) -> AppResult<Option<i64>> {
    if category_codes.is_empty() {
        return Ok(None);
    }
    let mut sql = crate::db::Sql::new(
        "SELECT lp.lot_id FROM lot_perimeters lp JOIN lots l ON l.id = lp.lot_id JOIN contracts c ON c.id = l.contract_id JOIN device_categories k ON k.id = lp.category_id WHERE c.collectivite_id = ",
    );
    sql.bind(crate::db::Param::I64(cid))
        .push(" AND lp.school_id = ")
        .bind(crate::db::Param::I64(school_id))
        .push(" AND c.starts_on <= ")
        .bind(crate::db::Param::Date(on))
        .push(" AND c.ends_on >= ")
        .bind(crate::db::Param::Date(on))
        .push(" AND k.code IN (");
    for (i, code) in category_codes.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(crate::db::Param::Text((*code).to_string()));
    }
    sql.push(") ORDER BY l.number, lp.lot_id LIMIT 1");
    Ok(with_tx!(tx, c => {
        crate::bind_params!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params)
            .fetch_optional(&mut *c).await?
    }))
}
