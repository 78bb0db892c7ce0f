//! Money: the subsidy dossiers (what each funds — the devices of some orders, some
//! accepted requests, other spending entered — what the funder's rate and cap give, and
//! what remains to the collectivité) and the spending of the last years per school, per
//! category and per pupil (purchases as recorded on devices, maintenance contracts at their
//! yearly cost spread over the months they run). The administrator and the élu read it;
//! the administrator edits it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use preau_domain::subsidy::{self, Dossier, Funder, Status};
use preau_domain::{FieldError, Principal, paris};
use serde::Serialize;

use super::coverage::unit_prices;
use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, expect_one_row};
use crate::{with_db, with_tx};

/// A dossier with what it funds and the figures that follow.
#[derive(Debug, Clone, Serialize)]
pub struct Subsidy {
    pub id: i64,
    pub version: i64,
    pub dossier: Dossier,
    /// Order references whose devices are eligible.
    pub orders: Vec<String>,
    /// Accepted requests funded: id, school, item, quantity.
    pub requests: Vec<(i64, String, String, i64)>,
    /// Devices of the orders (their prices) plus the requests' estimates.
    pub linked_cents: i64,
    pub eligible_cents: i64,
    /// What the funder's rate and cap give on the eligible spending.
    pub expected_cents: i64,
    /// What to count on as the dossier stands.
    pub aid_cents: i64,
    pub remaining_cents: i64,
    /// The next deadline not yet passed for the dossier's status: (what, day).
    pub next_deadline: Option<(&'static str, NaiveDate)>,
}

fn reader(p: &Principal) -> AppResult<()> {
    if p.can_see_funding() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    version: i64,
    funder: String,
    title: String,
    year: i64,
    rate_percent: Option<i64>,
    cap_cents: Option<i64>,
    other_eligible_cents: i64,
    status: String,
    deposit_due: Option<NaiveDate>,
    justify_due: Option<NaiveDate>,
    requested_cents: i64,
    granted_cents: Option<i64>,
    received_cents: i64,
    notes: String,
}

const SELECT: &str = "SELECT id, version, funder, title, year, rate_percent, cap_cents, other_eligible_cents, status, deposit_due, justify_due, requested_cents, granted_cents, received_cents, notes FROM subsidies";

fn dossier(r: &Row) -> Dossier {
    Dossier {
        funder: Funder::from_db(&r.funder),
        title: r.title.clone(),
        year: r.year as i32,
        rate_percent: r.rate_percent,
        cap_cents: r.cap_cents,
        other_eligible_cents: r.other_eligible_cents,
        status: Status::from_db(&r.status),
        deposit_due: r.deposit_due,
        justify_due: r.justify_due,
        requested_cents: r.requested_cents,
        granted_cents: r.granted_cents,
        received_cents: r.received_cents,
        notes: r.notes.clone(),
    }
}

fn next_deadline(d: &Dossier, today: NaiveDate) -> Option<(&'static str, NaiveDate)> {
    let (what, day) = match d.status {
        Status::ADeposer => ("deposit", d.deposit_due?),
        Status::Accorde => ("justify", d.justify_due?),
        _ => return None,
    };
    (day >= today).then_some((what, day))
}

/// What a request asks, for a list: its item, else its category's label in the reader's
/// language (`c` is the category joined).
fn item_sql(p: &Principal) -> &'static str {
    match p.lang {
        preau_domain::Lang::Fr => {
            "CASE WHEN r.item = '' THEN COALESCE(c.label_fr, '') ELSE r.item END"
        }
        preau_domain::Lang::En => {
            "CASE WHEN r.item = '' THEN COALESCE(c.label_en, '') ELSE r.item END"
        }
    }
}

/// Every dossier of the collectivité, latest year first, with its figures as of `now`.
pub async fn list(db: &Db, p: &Principal, now: DateTime<Utc>) -> AppResult<Vec<Subsidy>> {
    reader(p)?;
    let cid = p.collectivite_id;
    let sql = format!("{SELECT} WHERE collectivite_id = $1 ORDER BY year DESC, id DESC");
    let rows: Vec<Row> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(cid).fetch_all(pool).await?
    });
    let orders: Vec<(i64, String, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT o.subsidy_id, o.order_ref, CAST(COALESCE((SELECT SUM(d.price_cents) FROM devices d WHERE d.collectivite_id = $1 AND d.order_ref = o.order_ref), 0) AS BIGINT) FROM subsidy_orders o JOIN subsidies s ON s.id = o.subsidy_id WHERE s.collectivite_id = $1 ORDER BY o.order_ref")
            .bind(cid).fetch_all(pool).await?
    });
    let requests: Vec<(i64, i64, String, String, Option<String>, i64)> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT l.subsidy_id, r.id, sc.name, {}, c.code, r.quantity FROM subsidy_requests l JOIN subsidies s ON s.id = l.subsidy_id JOIN needs_requests r ON r.id = l.request_id JOIN schools sc ON sc.id = r.school_id LEFT JOIN device_categories c ON c.id = r.category_id WHERE s.collectivite_id = $1 ORDER BY sc.name, r.id", item_sql(p))))
            .bind(cid).fetch_all(pool).await?
    });
    let today = paris::day(now);
    let prices = unit_prices(db, cid, today).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let d = dossier(r);
            let mut linked = 0;
            let mut order_refs = Vec::new();
            for (_, o, cents) in orders.iter().filter(|o| o.0 == r.id) {
                order_refs.push(o.clone());
                linked += cents;
            }
            let mut funded = Vec::new();
            for (_, id, school, item, code, n) in requests.iter().filter(|q| q.0 == r.id) {
                funded.push((*id, school.clone(), item.clone(), *n));
                linked += code
                    .as_ref()
                    .and_then(|c| prices.get(c).copied().flatten())
                    .map_or(0, |u| u * n);
            }
            let eligible = linked + d.other_eligible_cents;
            Subsidy {
                id: r.id,
                version: r.version,
                orders: order_refs,
                requests: funded,
                linked_cents: linked,
                eligible_cents: eligible,
                expected_cents: subsidy::expected_cents(eligible, d.rate_percent, d.cap_cents),
                aid_cents: subsidy::aid_cents(&d, eligible),
                remaining_cents: subsidy::remaining_cents(&d, eligible),
                next_deadline: next_deadline(&d, today),
                dossier: d,
            }
        })
        .collect())
}

/// One dossier.
pub async fn get(db: &Db, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<Subsidy> {
    list(db, p, now)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound)
}

/// What a dossier may fund: the collectivité's orders (reference, devices, amount, year of
/// the first purchase) and its accepted requests (id, school, item, quantity, year).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Fundable {
    pub orders: Vec<(String, i64, i64, Option<NaiveDate>)>,
    pub requests: Vec<(i64, String, String, i64, Option<i64>)>,
}

pub async fn fundable(db: &Db, p: &Principal) -> AppResult<Fundable> {
    reader(p)?;
    let cid = p.collectivite_id;
    let orders = with_db!(db, pool => {
        sqlx::query_as("SELECT order_ref, COUNT(*), CAST(COALESCE(SUM(price_cents), 0) AS BIGINT), MIN(purchase_date) FROM devices WHERE collectivite_id = $1 AND order_ref IS NOT NULL AND order_ref <> '' GROUP BY order_ref ORDER BY MIN(purchase_date) DESC, order_ref")
            .bind(cid).fetch_all(pool).await?
    });
    let requests = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT r.id, s.name, {}, r.quantity, r.plan_year FROM needs_requests r JOIN schools s ON s.id = r.school_id LEFT JOIN device_categories c ON c.id = r.category_id WHERE s.collectivite_id = $1 AND r.status = 'acceptee' ORDER BY r.plan_year, s.name, r.id", item_sql(p))))
            .bind(cid).fetch_all(pool).await?
    });
    Ok(Fundable { orders, requests })
}

/// Checks that the orders and requests linked are the collectivité's (accepted requests).
async fn check_links(tx: &mut Tx, cid: i64, orders: &[String], requests: &[i64]) -> AppResult<()> {
    for o in orders {
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE collectivite_id = $1 AND order_ref = $2")
                .bind(cid).bind(o).fetch_one(&mut *c).await?
        });
        if n == 0 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "orders",
                "unknown_value",
            )]));
        }
    }
    for r in requests {
        let n: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM needs_requests r JOIN schools s ON s.id = r.school_id WHERE r.id = $1 AND s.collectivite_id = $2 AND r.status = 'acceptee'")
                .bind(r).bind(cid).fetch_one(&mut *c).await?
        });
        if n == 0 {
            return Err(AppError::Invalid(vec![FieldError::new(
                "requests",
                "unknown_value",
            )]));
        }
    }
    Ok(())
}

async fn write_links(tx: &mut Tx, id: i64, orders: &[String], requests: &[i64]) -> AppResult<()> {
    let orders: BTreeSet<&String> = orders.iter().collect();
    let requests: BTreeSet<i64> = requests.iter().copied().collect();
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM subsidy_orders WHERE subsidy_id = $1").bind(id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM subsidy_requests WHERE subsidy_id = $1").bind(id).execute(&mut *c).await?;
        for o in &orders {
            sqlx::query("INSERT INTO subsidy_orders (subsidy_id, order_ref) VALUES ($1, $2)").bind(id).bind(*o).execute(&mut *c).await?;
        }
        for r in &requests {
            sqlx::query("INSERT INTO subsidy_requests (subsidy_id, request_id) VALUES ($1, $2)").bind(id).bind(*r).execute(&mut *c).await?;
        }
    });
    Ok(())
}

/// What a dossier funds: the devices of some orders and some accepted requests.
#[derive(Debug, Clone, Default)]
pub struct Funds {
    pub orders: Vec<String>,
    pub requests: Vec<i64>,
}

/// Creates a dossier with what it funds; the administrator's.
pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    d: &Dossier,
    funds: &Funds,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let (orders, requests) = (&funds.orders, &funds.requests);
    if !p.can_decide_needs() {
        return Err(AppError::Forbidden);
    }
    check_links(tx, p.collectivite_id, orders, requests).await?;
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO subsidies (collectivite_id, funder, title, year, rate_percent, cap_cents, other_eligible_cents, status, deposit_due, justify_due, requested_cents, granted_cents, received_cents, notes, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15) RETURNING id")
            .bind(p.collectivite_id).bind(d.funder.code()).bind(&d.title).bind(i64::from(d.year)).bind(d.rate_percent).bind(d.cap_cents)
            .bind(d.other_eligible_cents).bind(d.status.code()).bind(d.deposit_due).bind(d.justify_due).bind(d.requested_cents)
            .bind(d.granted_cents).bind(d.received_cents).bind(&d.notes).bind(now)
            .fetch_one(&mut *c).await?
    });
    write_links(tx, id, orders, requests).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "subsidy",
            object_id: id,
            object_label: &d.title,
            changes: serde_json::json!({"dossier": d, "orders": orders, "requests": requests}),
        },
    )
    .await?;
    Ok(id)
}

/// Replaces a dossier and its links; `version` is the one read.
pub async fn update(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    version: i64,
    d: &Dossier,
    funds: &Funds,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (orders, requests) = (&funds.orders, &funds.requests);
    if !p.can_decide_needs() {
        return Err(AppError::Forbidden);
    }
    let sql = format!("{SELECT} WHERE collectivite_id = $1 AND id = $2");
    let before: Option<Row> = with_tx!(tx, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).bind(id).fetch_optional(&mut *c).await?
    });
    let before = dossier(&before.ok_or(AppError::NotFound)?);
    check_links(tx, p.collectivite_id, orders, requests).await?;
    let affected = with_tx!(tx, c => {
        sqlx::query("UPDATE subsidies SET funder = $1, title = $2, year = $3, rate_percent = $4, cap_cents = $5, other_eligible_cents = $6, status = $7, deposit_due = $8, justify_due = $9, requested_cents = $10, granted_cents = $11, received_cents = $12, notes = $13, version = version + 1, updated_at = $14 WHERE id = $15 AND version = $16")
            .bind(d.funder.code()).bind(&d.title).bind(i64::from(d.year)).bind(d.rate_percent).bind(d.cap_cents)
            .bind(d.other_eligible_cents).bind(d.status.code()).bind(d.deposit_due).bind(d.justify_due).bind(d.requested_cents)
            .bind(d.granted_cents).bind(d.received_cents).bind(&d.notes).bind(now).bind(id).bind(version)
            .execute(&mut *c).await?.rows_affected()
    });
    expect_one_row(affected)?;
    write_links(tx, id, orders, requests).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "subsidy",
            object_id: id,
            object_label: &d.title,
            changes: serde_json::json!({"before": before, "after": d, "orders": orders, "requests": requests}),
        },
    )
    .await
}

/// One year's spending.
#[derive(Debug, Clone, Serialize)]
pub struct YearSpending {
    pub year: i32,
    pub purchases_cents: i64,
    pub maintenance_cents: i64,
    /// The schools' internet links, at their monthly price, for the months they ran
    /// (up to today).
    pub links_cents: i64,
    /// Subsidies received on dossiers of that year.
    pub received_cents: i64,
    /// Pupils of the school year that starts in that year (or the latest before it).
    pub pupils: i64,
}

impl YearSpending {
    pub fn total_cents(&self) -> i64 {
        self.purchases_cents + self.maintenance_cents + self.links_cents
    }
    /// Spending per pupil, `None` without pupils.
    pub fn per_pupil_cents(&self) -> Option<i64> {
        (self.pupils > 0).then(|| self.total_cents() / self.pupils)
    }
}

/// Purchases of a school (or a category) year by year, in `Spending::years` order.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub id: i64,
    pub label: String,
    pub cents: Vec<i64>,
    /// Pupils of the last year (schools only).
    pub pupils: i64,
}

/// A maintenance contract and what it costs a year.
#[derive(Debug, Clone, Serialize)]
pub struct ContractCost {
    pub id: i64,
    pub reference: String,
    pub contractor: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub yearly_cents: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Spending {
    pub years: Vec<YearSpending>,
    pub schools: Vec<Line>,
    pub categories: Vec<Line>,
    pub contracts: Vec<ContractCost>,
    /// Devices bought in these years with no price recorded.
    pub unpriced: i64,
}

/// Months of `[start, end]` falling in `year`, counting started months.
fn months_in(year: i32, start: NaiveDate, end: NaiveDate) -> i64 {
    (1..=12u32)
        .filter(|m| {
            let first = NaiveDate::from_ymd_opt(year, *m, 1).unwrap_or_default();
            let last = if *m == 12 {
                NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default()
            } else {
                NaiveDate::from_ymd_opt(year, m + 1, 1).unwrap_or_default()
                    - chrono::Duration::days(1)
            };
            first <= end && last >= start
        })
        .count() as i64
}

/// Spending of the `count` years up to this one: purchases (the devices' recorded prices),
/// maintenance contracts (their yearly cost over the months they run) and the schools'
/// links (their monthly price over the months they ran).
pub async fn spending(
    db: &Db,
    p: &Principal,
    count: usize,
    now: DateTime<Utc>,
) -> AppResult<Spending> {
    reader(p)?;
    if !(1..=10).contains(&count) {
        return Err(FieldError::new("years", "out_of_range").into());
    }
    let cid = p.collectivite_id;
    let this = paris::day(now).year();
    let years: Vec<i32> = (this - count as i32 + 1..=this).collect();
    let since = NaiveDate::from_ymd_opt(years[0], 1, 1).unwrap_or_default();
    let until = NaiveDate::from_ymd_opt(this, 12, 31).unwrap_or_default();
    let index = |d: NaiveDate| years.iter().position(|y| *y == d.year());
    // Purchases grouped by day: at most a few thousand rows whatever the fleet's size.
    let bought: Vec<(Option<i64>, i64, NaiveDate, i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT school_id, category_id, purchase_date, CAST(COALESCE(SUM(price_cents), 0) AS BIGINT), CAST(SUM(CASE WHEN price_cents IS NULL THEN 1 ELSE 0 END) AS BIGINT) FROM devices WHERE collectivite_id = $1 AND purchase_date >= $2 AND purchase_date <= $3 GROUP BY school_id, category_id, purchase_date")
            .bind(cid).bind(since).bind(until).fetch_all(pool).await?
    });
    let schools: Vec<(i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, name FROM schools WHERE collectivite_id = $1 ORDER BY name")
            .bind(cid).fetch_all(pool).await?
    });
    let categories: Vec<(i64, String)> = with_db!(db, pool => {
        sqlx::query_as("SELECT id, code FROM device_categories WHERE collectivite_id = $1 ORDER BY code")
            .bind(cid).fetch_all(pool).await?
    });
    let contracts: Vec<(i64, String, String, NaiveDate, NaiveDate, Option<i64>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT c.id, c.reference, k.name, c.starts_on, c.ends_on, c.yearly_cents FROM contracts c JOIN contractors k ON k.id = c.contractor_id WHERE c.collectivite_id = $1 ORDER BY c.starts_on, c.reference")
            .bind(cid).fetch_all(pool).await?
    });
    let links: Vec<(Option<NaiveDate>, DateTime<Utc>, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT l.commissioned_on, l.created_at, l.monthly_cents FROM school_links l JOIN schools s ON s.id = l.school_id WHERE s.collectivite_id = $1 AND l.monthly_cents IS NOT NULL")
            .bind(cid).fetch_all(pool).await?
    });
    let received: Vec<(i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT year, CAST(COALESCE(SUM(received_cents), 0) AS BIGINT) FROM subsidies WHERE collectivite_id = $1 GROUP BY year")
            .bind(cid).fetch_all(pool).await?
    });
    let school_years: Vec<(NaiveDate, i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT y.starts_on, c.school_id, CAST(COALESCE(SUM(c.head_count), 0) AS BIGINT) FROM school_years y JOIN classes c ON c.school_year_id = y.id WHERE y.collectivite_id = $1 GROUP BY y.starts_on, c.school_id")
            .bind(cid).fetch_all(pool).await?
    });
    let n = years.len();
    let mut by_school: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut by_category: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut purchases = vec![0; n];
    let mut unpriced = 0;
    for (school, category, day, cents, missing) in bought {
        let Some(i) = index(day) else { continue };
        purchases[i] += cents;
        unpriced += missing;
        by_school
            .entry(school.unwrap_or(0))
            .or_insert_with(|| vec![0; n])[i] += cents;
        by_category.entry(category).or_insert_with(|| vec![0; n])[i] += cents;
    }
    let today = paris::day(now);
    let mut link_costs = vec![0; n];
    for (i, y) in years.iter().enumerate() {
        for (commissioned, created, monthly) in &links {
            let start = commissioned.unwrap_or_else(|| paris::day(*created));
            link_costs[i] += monthly * months_in(*y, start, today);
        }
    }
    let mut maintenance = vec![0; n];
    for (i, y) in years.iter().enumerate() {
        for c in &contracts {
            if let Some(cents) = c.5 {
                maintenance[i] += cents * months_in(*y, c.3, c.4) / 12;
            }
        }
    }
    // Pupils of a calendar year: the school year starting in it, else the latest before.
    let pupils_in = |y: i32, school: Option<i64>| -> i64 {
        let start = school_years
            .iter()
            .map(|r| r.0)
            .filter(|d| d.year() <= y)
            .max();
        start.map_or(0, |s| {
            school_years
                .iter()
                .filter(|r| r.0 == s && school.is_none_or(|id| id == r.1))
                .map(|r| r.2)
                .sum()
        })
    };
    let year_lines = years
        .iter()
        .enumerate()
        .map(|(i, y)| YearSpending {
            year: *y,
            purchases_cents: purchases[i],
            maintenance_cents: maintenance[i],
            links_cents: link_costs[i],
            received_cents: received
                .iter()
                .filter(|r| r.0 == i64::from(*y))
                .map(|r| r.1)
                .sum(),
            pupils: pupils_in(*y, None),
        })
        .collect();
    let mut school_lines: Vec<Line> = schools
        .into_iter()
        .map(|(id, name)| Line {
            cents: by_school.remove(&id).unwrap_or_else(|| vec![0; n]),
            pupils: pupils_in(this, Some(id)),
            id,
            label: name,
        })
        .collect();
    if let Some(cents) = by_school.remove(&0) {
        school_lines.push(Line {
            id: 0,
            label: String::new(),
            cents,
            pupils: 0,
        });
    }
    Ok(Spending {
        years: year_lines,
        schools: school_lines,
        categories: categories
            .into_iter()
            .filter_map(|(id, code)| {
                by_category.remove(&id).map(|cents| Line {
                    id,
                    label: code,
                    cents,
                    pupils: 0,
                })
            })
            .collect(),
        contracts: contracts
            .into_iter()
            .map(|c| ContractCost {
                id: c.0,
                reference: c.1,
                contractor: c.2,
                starts_on: c.3,
                ends_on: c.4,
                yearly_cents: c.5,
            })
            .collect(),
        unpriced,
    })
}

/// Sets (or clears) what a maintenance contract costs a year; the administrator's.
pub async fn set_contract_cost(
    tx: &mut Tx,
    p: &Principal,
    contract_id: i64,
    cents: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_decide_needs() {
        return Err(AppError::Forbidden);
    }
    if cents.is_some_and(|c| !(0..=1_000_000_000).contains(&c)) {
        return Err(FieldError::new(format!("yearly_{contract_id}"), "out_of_range").into());
    }
    let before: Option<(String, Option<i64>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT reference, yearly_cents FROM contracts WHERE id = $1 AND collectivite_id = $2")
            .bind(contract_id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let (reference, before) = before.ok_or(AppError::NotFound)?;
    if before == cents {
        return Ok(());
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE contracts SET yearly_cents = $1 WHERE id = $2").bind(cents).bind(contract_id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "contract",
            object_id: contract_id,
            object_label: &reference,
            changes: serde_json::json!({"yearly_cents": {"before": before, "after": cents}}),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contract_costs_the_months_it_runs() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(months_in(2026, d(2025, 9, 1), d(2029, 8, 31)), 12);
        assert_eq!(months_in(2025, d(2025, 9, 1), d(2029, 8, 31)), 4);
        assert_eq!(months_in(2029, d(2025, 9, 1), d(2029, 8, 31)), 8);
        assert_eq!(months_in(2030, d(2025, 9, 1), d(2029, 8, 31)), 0);
    }
}
