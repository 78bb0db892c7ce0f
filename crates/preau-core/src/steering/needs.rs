//! The schools' needs campaigns. The administrator opens a campaign with dates; while it
//! is open each directeur enters the school's requests (and may withdraw one not yet
//! decided); the school's ERUN/IEN adds an opinion; the administrator accepts a request
//! into the plan of a year, defers or refuses it with a reason, and the directeur reads the
//! outcome. Requests are read in the caller's coverage scope; estimates (quantity × the
//! category's unit price) only by those who see costs.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::needs::{Campaign, Decision, Priority, Request, Status};
use preau_domain::{FieldError, Principal, paris, text};
use serde::Serialize;

use super::coverage::unit_prices;
use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, expect_one_row};
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub title: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub plan_year: i64,
    pub version: i64,
}

impl CampaignRow {
    pub fn is_open(&self, today: NaiveDate) -> bool {
        (self.opens_on..=self.closes_on).contains(&today)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NeedRequest {
    pub id: i64,
    pub campaign_id: i64,
    pub school_id: i64,
    pub school_name: String,
    /// The device category's code, when the request names one.
    pub category: Option<String>,
    pub item: String,
    pub quantity: i64,
    pub reason: String,
    pub priority: Priority,
    pub status: Status,
    pub decision_reason: Option<String>,
    pub plan_year: Option<i64>,
    pub opinion: Option<String>,
    pub opinion_by: Option<String>,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i64,
    /// Quantity × unit price, for those who see costs and when the price is known.
    pub estimate_cents: Option<i64>,
}

/// A school's requests by status, in `Status::ALL` order.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolCounts {
    pub school_id: i64,
    pub name: String,
    pub by_status: [i64; 4],
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignView {
    pub campaign: CampaignRow,
    pub open: bool,
    pub requests: Vec<NeedRequest>,
    pub schools: Vec<SchoolCounts>,
    pub totals: [i64; 4],
    /// Accepted requests' estimates (0 for those who do not see costs).
    pub accepted_cents: i64,
    pub costs_shown: bool,
}

fn status_index(s: Status) -> usize {
    Status::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

fn reader(p: &Principal) -> AppResult<()> {
    if p.sees_some_coverage() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

const CAMPAIGN: &str =
    "SELECT id, title, opens_on, closes_on, plan_year, version FROM needs_campaigns";

/// The collectivité's campaigns, the latest first.
pub async fn campaigns(db: &Db, p: &Principal) -> AppResult<Vec<CampaignRow>> {
    reader(p)?;
    let sql = format!("{CAMPAIGN} WHERE collectivite_id = $1 ORDER BY opens_on DESC, id DESC");
    Ok(with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

async fn campaign_in_tx(tx: &mut Tx, cid: i64, id: i64) -> AppResult<CampaignRow> {
    let sql = format!("{CAMPAIGN} WHERE collectivite_id = $1 AND id = $2");
    let row: Option<CampaignRow> = with_tx!(tx, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(cid).bind(id).fetch_optional(&mut *c).await?
    });
    row.ok_or(AppError::NotFound)
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    campaign_id: i64,
    school_id: i64,
    school_name: String,
    category: Option<String>,
    item: String,
    quantity: i64,
    reason: String,
    priority: String,
    status: String,
    decision_reason: Option<String>,
    plan_year: Option<i64>,
    opinion: Option<String>,
    opinion_by: Option<String>,
    requested_by: String,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
    version: i64,
}

const REQUEST: &str = "SELECT r.id, r.campaign_id, r.school_id, s.name AS school_name, c.code AS category, r.item, r.quantity, r.reason, r.priority, r.status, r.decision_reason, r.plan_year, r.opinion, r.opinion_by, r.requested_by, r.created_at, r.decided_at, r.version FROM needs_requests r JOIN schools s ON s.id = r.school_id LEFT JOIN device_categories c ON c.id = r.category_id";

fn request_of(r: RequestRow) -> NeedRequest {
    NeedRequest {
        id: r.id,
        campaign_id: r.campaign_id,
        school_id: r.school_id,
        school_name: r.school_name,
        category: r.category,
        item: r.item,
        quantity: r.quantity,
        reason: r.reason,
        priority: Priority::from_db(&r.priority),
        status: Status::from_db(&r.status),
        decision_reason: r.decision_reason,
        plan_year: r.plan_year,
        opinion: r.opinion,
        opinion_by: r.opinion_by,
        requested_by: r.requested_by,
        created_at: r.created_at,
        decided_at: r.decided_at,
        version: r.version,
        estimate_cents: None,
    }
}

/// One campaign with the requests the caller may read (by priority, then school), their
/// counts by school and status, and the accepted requests' estimate.
pub async fn campaign(
    db: &Db,
    p: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<CampaignView> {
    reader(p)?;
    let cid = p.collectivite_id;
    let sql = format!("{CAMPAIGN} WHERE collectivite_id = $1 AND id = $2");
    let campaign: Option<CampaignRow> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(cid).bind(id).fetch_optional(pool).await?
    });
    let campaign = campaign.ok_or(AppError::NotFound)?;
    let sql = format!(
        "{REQUEST} WHERE r.campaign_id = $1 AND s.collectivite_id = $2 ORDER BY s.name, r.id"
    );
    let rows: Vec<RequestRow> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(cid).fetch_all(pool).await?
    });
    let scope = p.needs_schools();
    let today = paris::day(now);
    let costs_shown = p.can_see_costs();
    let prices = if costs_shown {
        unit_prices(db, cid, today).await?
    } else {
        BTreeMap::new()
    };
    let mut requests: Vec<NeedRequest> = rows
        .into_iter()
        .map(request_of)
        .filter(|r| scope.contains(r.school_id))
        .map(|mut r| {
            r.estimate_cents = r
                .category
                .as_ref()
                .and_then(|c| prices.get(c).copied().flatten())
                .map(|u| u * r.quantity);
            r
        })
        .collect();
    requests.sort_by_key(|r| {
        (
            r.status != Status::Soumise,
            r.priority,
            r.school_name.clone(),
            r.id,
        )
    });
    let mut schools: BTreeMap<(String, i64), [i64; 4]> = BTreeMap::new();
    let mut totals = [0; 4];
    let mut accepted_cents = 0;
    for r in &requests {
        let i = status_index(r.status);
        schools
            .entry((r.school_name.clone(), r.school_id))
            .or_default()[i] += 1;
        totals[i] += 1;
        if r.status == Status::Acceptee {
            accepted_cents += r.estimate_cents.unwrap_or(0);
        }
    }
    Ok(CampaignView {
        open: campaign.is_open(today),
        campaign,
        requests,
        schools: schools
            .into_iter()
            .map(|((name, school_id), by_status)| SchoolCounts {
                school_id,
                name,
                by_status,
            })
            .collect(),
        totals,
        accepted_cents,
        costs_shown,
    })
}

/// Opens a campaign; the administrator's.
pub async fn open_campaign(
    tx: &mut Tx,
    p: &Principal,
    c: &Campaign,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if !p.can_decide_needs() {
        return Err(AppError::Forbidden);
    }
    let id: i64 = with_tx!(tx, conn => {
        sqlx::query_scalar("INSERT INTO needs_campaigns (collectivite_id, title, opens_on, closes_on, plan_year, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING id")
            .bind(p.collectivite_id).bind(&c.title).bind(c.opens_on).bind(c.closes_on).bind(i64::from(c.plan_year)).bind(now)
            .fetch_one(&mut *conn).await?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "needs_campaign",
            object_id: id,
            object_label: &c.title,
            changes: serde_json::json!({"opens_on": c.opens_on, "closes_on": c.closes_on, "plan_year": c.plan_year}),
        },
    )
    .await?;
    Ok(id)
}

/// Changes a campaign's title, dates or year (to extend it, or close it early).
pub async fn update_campaign(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    version: i64,
    c: &Campaign,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_decide_needs() {
        return Err(AppError::Forbidden);
    }
    let before = campaign_in_tx(tx, p.collectivite_id, id).await?;
    let affected = with_tx!(tx, conn => {
        sqlx::query("UPDATE needs_campaigns SET title = $1, opens_on = $2, closes_on = $3, plan_year = $4, version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7")
            .bind(&c.title).bind(c.opens_on).bind(c.closes_on).bind(i64::from(c.plan_year)).bind(now).bind(id).bind(version)
            .execute(&mut *conn).await?.rows_affected()
    });
    expect_one_row(affected)?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "needs_campaign",
            object_id: id,
            object_label: &c.title,
            changes: serde_json::json!({
                "opens_on": {"before": before.opens_on, "after": c.opens_on},
                "closes_on": {"before": before.closes_on, "after": c.closes_on},
                "plan_year": {"before": before.plan_year, "after": c.plan_year},
            }),
        },
    )
    .await
}

/// A school's request, while the campaign is open. The category, when named, must be one
/// of the collectivité's (its label, in the reader's language, stands for an empty item).
pub async fn add_request(
    tx: &mut Tx,
    p: &Principal,
    campaign_id: i64,
    school_id: i64,
    r: &Request,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let cid = p.collectivite_id;
    if !p.needs_schools().contains(school_id) {
        return Err(AppError::NotFound);
    }
    let school = crate::schools::get_in_tx(tx, cid, school_id).await?;
    let campaign = campaign_in_tx(tx, cid, campaign_id).await?;
    if !p.can_request_needs(school_id) {
        return Err(AppError::Forbidden);
    }
    if !campaign.is_open(paris::day(now)) {
        return Err(AppError::Conflict(FieldError::new(
            "campaign",
            "campaign_closed",
        )));
    }
    let category: Option<i64> = match &r.category {
        None => None,
        Some(code) => {
            let row: Option<i64> = with_tx!(tx, c => {
                sqlx::query_scalar("SELECT id FROM device_categories WHERE collectivite_id = $1 AND code = $2")
                    .bind(cid).bind(code).fetch_optional(&mut *c).await?
            });
            Some(row.ok_or_else(|| {
                AppError::Invalid(vec![FieldError::new("category", "unknown_value")])
            })?)
        }
    };
    let item = &r.item;
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO needs_requests (campaign_id, school_id, category_id, item, quantity, reason, priority, status, requested_by, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10) RETURNING id")
            .bind(campaign_id).bind(school_id).bind(category).bind(item).bind(r.quantity).bind(&r.reason)
            .bind(r.priority.code()).bind(Status::Soumise.code()).bind(&p.display_name).bind(now)
            .fetch_one(&mut *c).await?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "needs_request",
            object_id: id,
            object_label: &school.name,
            changes: serde_json::json!({"category": r.category, "item": item, "quantity": r.quantity, "priority": r.priority.code()}),
        },
    )
    .await?;
    Ok(id)
}

async fn request_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<NeedRequest> {
    let sql = format!("{REQUEST} WHERE r.id = $1 AND s.collectivite_id = $2");
    let row: Option<RequestRow> = with_tx!(tx, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let r = row.map(request_of).ok_or(AppError::NotFound)?;
    if !p.needs_schools().contains(r.school_id) {
        return Err(AppError::NotFound);
    }
    Ok(r)
}

/// The campaign of a request the caller may read.
pub async fn campaign_of(db: &Db, p: &Principal, id: i64) -> AppResult<i64> {
    reader(p)?;
    let row: Option<(i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT r.campaign_id, r.school_id FROM needs_requests r JOIN needs_campaigns k ON k.id = r.campaign_id WHERE r.id = $1 AND k.collectivite_id = $2")
            .bind(id).bind(p.collectivite_id).fetch_optional(pool).await?
    });
    match row {
        Some((campaign, school)) if p.needs_schools().contains(school) => Ok(campaign),
        _ => Err(AppError::NotFound),
    }
}

/// The school withdraws a request not yet decided, while the campaign is open.
pub async fn withdraw(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    let r = request_in_tx(tx, p, id).await?;
    if !p.can_request_needs(r.school_id) {
        return Err(AppError::Forbidden);
    }
    let campaign = campaign_in_tx(tx, p.collectivite_id, r.campaign_id).await?;
    if r.status != Status::Soumise || !campaign.is_open(paris::day(now)) {
        return Err(AppError::Conflict(FieldError::new(
            "status",
            "already_decided",
        )));
    }
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM subsidy_requests WHERE request_id = $1").bind(id).execute(&mut *c).await?;
        sqlx::query("DELETE FROM needs_requests WHERE id = $1").bind(id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "delete",
            object_type: "needs_request",
            object_id: id,
            object_label: &r.school_name,
            changes: serde_json::json!({"item": r.item, "quantity": r.quantity}),
        },
    )
    .await
}

/// The ERUN/IEN's opinion on a request of one of their schools (empty withdraws it).
pub async fn give_opinion(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    opinion: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let r = request_in_tx(tx, p, id).await?;
    if !p.can_give_opinion(r.school_id) {
        return Err(AppError::Forbidden);
    }
    let opinion =
        text::optional("opinion", Some(opinion), 2000).map_err(|e| AppError::Invalid(vec![e]))?;
    let by = opinion.as_ref().map(|_| p.display_name.clone());
    with_tx!(tx, c => {
        sqlx::query("UPDATE needs_requests SET opinion = $1, opinion_by = $2, version = version + 1, updated_at = $3 WHERE id = $4")
            .bind(&opinion).bind(&by).bind(now).bind(id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "needs_request",
            object_id: id,
            object_label: &r.school_name,
            changes: serde_json::json!({"opinion": {"before": r.opinion, "after": opinion}}),
        },
    )
    .await
}

/// The administrator's decision; `version` is the one read (a stale one is a conflict).
pub async fn decide(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    version: i64,
    d: &Decision,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_decide_needs() {
        return Err(AppError::Forbidden);
    }
    let r = request_in_tx(tx, p, id).await?;
    let affected = with_tx!(tx, c => {
        sqlx::query("UPDATE needs_requests SET status = $1, plan_year = $2, decision_reason = $3, decided_at = $4, version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6")
            .bind(d.status.code()).bind(d.plan_year.map(i64::from)).bind(&d.reason).bind(now).bind(id).bind(version)
            .execute(&mut *c).await?.rows_affected()
    });
    expect_one_row(affected)?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "decide",
            object_type: "needs_request",
            object_id: id,
            object_label: &r.school_name,
            changes: serde_json::json!({
                "status": {"before": r.status.code(), "after": d.status.code()},
                "plan_year": {"before": r.plan_year, "after": d.plan_year},
                "reason": d.reason,
            }),
        },
    )
    .await
}

/// Accepted requests that name a category: (plan year, school, category code, quantity).
/// What the renewal plan adds to its replacements.
pub async fn accepted(db: &Db, cid: i64) -> AppResult<Vec<(i64, i64, String, i64)>> {
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT r.plan_year, r.school_id, c.code, CAST(SUM(r.quantity) AS BIGINT) FROM needs_requests r JOIN needs_campaigns k ON k.id = r.campaign_id JOIN device_categories c ON c.id = r.category_id WHERE k.collectivite_id = $1 AND r.status = 'acceptee' AND r.plan_year IS NOT NULL GROUP BY r.plan_year, r.school_id, c.code")
            .bind(cid).fetch_all(pool).await?
    }))
}
