//! Routing rules a collectivité sets on top of the contracts' perimeters: "the printers
//! of this school go to that technician", "Wi-Fi goes to lot 2". The most specific rule
//! wins (school and category, then category, then school); without one, the perimeter
//! of the lots, then the school's technician (`tickets::route`).

use chrono::{DateTime, Utc};
use preau_domain::ticket::{Assignee, TicketCategory};
use preau_domain::{FieldError, Principal};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Rule {
    pub id: i64,
    pub school_id: Option<i64>,
    pub school_name: Option<String>,
    pub category: Option<String>,
    pub assignee_user_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub lot_id: Option<i64>,
}

pub async fn list(db: &Db, p: &Principal) -> AppResult<Vec<Rule>> {
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Rule>("SELECT r.id, r.school_id, s.name AS school_name, r.category, r.assignee_user_id, u.display_name AS assignee_name, r.lot_id FROM routing_rules r LEFT JOIN schools s ON s.id = r.school_id LEFT JOIN users u ON u.id = r.assignee_user_id WHERE r.collectivite_id = $1 ORDER BY s.name, r.category, r.id")
            .bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

/// Adds a rule: for a school (or all), a kind of problem (or all), to a technician or a
/// lot of the collectivité.
pub async fn add(
    tx: &mut Tx,
    p: &Principal,
    school_id: Option<i64>,
    category: Option<TicketCategory>,
    to: Assignee,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    let cid = p.collectivite_id;
    if let Some(s) = school_id {
        let ok: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT id FROM schools WHERE id = $1 AND collectivite_id = $2").bind(s).bind(cid).fetch_optional(&mut *c).await?
        });
        ok.ok_or_else(|| AppError::from(FieldError::new("school_id", "not_in_collectivite")))?;
    }
    let (user, lot) = match to {
        Assignee::User(u) => {
            let ok: Option<i64> = with_tx!(tx, c => {
                sqlx::query_scalar("SELECT u.id FROM users u JOIN role_assignments ra ON ra.user_id = u.id WHERE u.id = $1 AND u.collectivite_id = $2 AND ra.role = 'technicien' LIMIT 1").bind(u).bind(cid).fetch_optional(&mut *c).await?
            });
            ok.ok_or_else(|| AppError::from(FieldError::new("assignee", "unknown_value")))?;
            (Some(u), None)
        }
        Assignee::Lot(l) => {
            crate::contracts::lot_in_tx(tx, cid, l)
                .await
                .map_err(|_| AppError::from(FieldError::new("assignee", "unknown_value")))?;
            (None, Some(l))
        }
    };
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO routing_rules (collectivite_id, school_id, category, assignee_user_id, lot_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(cid).bind(school_id).bind(category.map(|c| c.code())).bind(user).bind(lot).bind(now)
            .fetch_one(&mut *c).await?
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "routing_rule",
            object_id: id,
            object_label: "règle d'affectation",
            changes: json!({"school_id": [null, school_id], "category": [null, category.map(|c| c.code())], "assignee": [null, to.code()]}),
        },
    )
    .await?;
    Ok(id)
}

pub async fn delete(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    let n = with_tx!(tx, c => {
        sqlx::query("DELETE FROM routing_rules WHERE id = $1 AND collectivite_id = $2").bind(id).bind(p.collectivite_id).execute(&mut *c).await?.rows_affected()
    });
    if n == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "delete",
            object_type: "routing_rule",
            object_id: id,
            object_label: "règle d'affectation",
            changes: json!({}),
        },
    )
    .await
}

/// After how many school days a resolved ticket the school did not confirm is closed.
pub async fn auto_close_days(db: &Db, p: &Principal) -> AppResult<i64> {
    Ok(with_db!(db, pool => {
        sqlx::query_scalar("SELECT auto_close_days FROM collectivites WHERE id = $1").bind(p.collectivite_id).fetch_one(pool).await?
    }))
}

pub async fn set_auto_close_days(
    tx: &mut Tx,
    p: &Principal,
    days: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden);
    }
    if !(1..=30).contains(&days) {
        return Err(FieldError::new("auto_close_days", "out_of_range").into());
    }
    let before: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT auto_close_days FROM collectivites WHERE id = $1").bind(p.collectivite_id).fetch_one(&mut *c).await?
    });
    with_tx!(tx, c => {
        sqlx::query("UPDATE collectivites SET auto_close_days = $1 WHERE id = $2").bind(days).bind(p.collectivite_id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "collectivite",
            object_id: p.collectivite_id,
            object_label: "clôture automatique des tickets",
            changes: json!({"auto_close_days": [before, days]}),
        },
    )
    .await
}
