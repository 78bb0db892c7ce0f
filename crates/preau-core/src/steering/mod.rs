//! Steering: where the schools stand against the collectivité's référentiel, and what it
//! would cost to close the gap. `referentiel` keeps the rules (the socle until the
//! administrator edits them) and the categories' unit prices; `coverage` gathers each
//! school's facts in a handful of queries for the whole collectivité and lets
//! `preau_domain::referentiel::evaluate` give the verdicts; `renewal` ages the fleet and plans
//! its replacement year by year under the collectivité's cap.

pub mod coverage;
pub mod funding;
pub mod needs;
pub mod quality;
pub mod referentiel;
pub mod renewal;

use chrono::{DateTime, Utc};
use preau_domain::{FieldError, Principal};

use crate::audit::{self, Actor, Entry};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::with_tx;

/// A figure the collectivité sets on a device category for steering.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CategoryFigure {
    /// What a gap in the référentiel, or a replacement, costs.
    UnitPriceCents,
    /// How many years a device serves.
    LifespanYears,
}

impl CategoryFigure {
    fn column(self) -> &'static str {
        match self {
            CategoryFigure::UnitPriceCents => "unit_price_cents",
            CategoryFigure::LifespanYears => "lifespan_years",
        }
    }
    fn accepts(self, v: i64) -> bool {
        match self {
            CategoryFigure::UnitPriceCents => (0..=100_000_000).contains(&v),
            CategoryFigure::LifespanYears => (1..=30).contains(&v),
        }
    }
}

/// Sets (or clears, `None`) a category's figure, audited; the administrator's. `field`
/// names the input in errors.
pub(crate) async fn set_category_figure(
    tx: &mut Tx,
    p: &Principal,
    category: &str,
    figure: CategoryFigure,
    value: Option<i64>,
    field: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_edit_referentiel() {
        return Err(AppError::Forbidden);
    }
    if value.is_some_and(|v| !figure.accepts(v)) {
        return Err(FieldError::new(field, "out_of_range").into());
    }
    let column = figure.column();
    let read = format!(
        "SELECT id, {column} FROM device_categories WHERE collectivite_id = $1 AND code = $2"
    );
    let row: Option<(i64, Option<i64>)> = with_tx!(tx, c => {
        sqlx::query_as(sqlx::AssertSqlSafe(read)).bind(p.collectivite_id).bind(category).fetch_optional(&mut *c).await?
    });
    let Some((id, before)) = row else {
        return Err(FieldError::new("category", "unknown_value").into());
    };
    if before == value {
        return Ok(());
    }
    let write = format!("UPDATE device_categories SET {column} = $1 WHERE id = $2");
    with_tx!(tx, c => {
        sqlx::query(sqlx::AssertSqlSafe(write)).bind(value).bind(id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "device_category",
            object_id: id,
            object_label: category,
            changes: serde_json::json!({ column: {"before": before, "after": value} }),
        },
    )
    .await
}
