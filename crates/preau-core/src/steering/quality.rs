//! Is the money well spent: each maintenance contract's SLA month by month over the last
//! twelve months (share within GTI and GTR, penalties), tickets per 100 devices by category
//! and by model over a year (the least reliable models first), and tablets broken or lost
//! on loan per school, each operator's links online in class time month by month, and the
//! lessons by visio lost to the equipment or the network.
//! Figures only, no names: the administrator, the élu and the
//! technicians read it (those who read the SLA report).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use preau_domain::Principal;
use serde::Serialize;

use super::coverage::{IN_SERVICE, REPAIR_GRACE_DAYS};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::reports::{self, Month, rate};
use crate::{contracts, with_db};

/// One month of one contract.
#[derive(Debug, Clone, Serialize)]
pub struct MonthSla {
    pub month: Month,
    pub tickets: usize,
    /// Percent within GTI / GTR, `None` when no ticket was counted.
    pub gti_rate: Option<f64>,
    pub gtr_rate: Option<f64>,
    pub penalties_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContractSla {
    pub contract_id: i64,
    pub reference: String,
    pub contractor: String,
    pub months: Vec<MonthSla>,
    pub tickets: usize,
    pub gtr_rate: Option<f64>,
    pub penalties_cents: i64,
}

/// Tickets per 100 devices of a category or a model.
#[derive(Debug, Clone, Serialize)]
pub struct Reliability {
    pub label: String,
    pub devices: i64,
    pub tickets: i64,
}

impl Reliability {
    pub fn per_100(&self) -> f64 {
        if self.devices == 0 {
            0.0
        } else {
            (self.tickets as f64 * 1000.0 / self.devices as f64).round() / 10.0
        }
    }
}

/// Tablets on loan at a school over the year: lent, returned broken, lost or stolen.
#[derive(Debug, Clone, Serialize)]
pub struct TabletLosses {
    pub school_id: i64,
    pub name: String,
    pub loans: i64,
    pub broken: i64,
    pub lost: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    pub contracts: Vec<ContractSla>,
    pub categories: Vec<Reliability>,
    /// Models with at least `MIN_MODEL_DEVICES` devices, the most tickets per device first.
    pub models: Vec<Reliability>,
    pub tablets: Vec<TabletLosses>,
    /// Each operator's links: class time online month by month, against its contract.
    pub links: Vec<crate::connectivity::OperatorAvailability>,
    /// Lessons by visio over the twelve months: what became of them, per school and class.
    pub visio: crate::visio::Outcomes,
}

/// A model needs this many devices in service to be ranked (fewer say nothing).
pub const MIN_MODEL_DEVICES: i64 = 5;

/// The service of the twelve months up to `now`'s.
pub async fn report(db: &Db, p: &Principal, now: DateTime<Utc>) -> AppResult<Quality> {
    if !p.can_see_sla_report() {
        return Err(AppError::Forbidden);
    }
    let cid = p.collectivite_id;
    let mut first = Month::of(now);
    for _ in 0..11 {
        first = first.previous();
    }
    let mut out = Vec::new();
    for c in contracts::list(db, p).await? {
        let mut months = Vec::new();
        let mut m = first;
        let (mut met, mut counted) = (0, 0);
        for _ in 0..12 {
            let r = reports::monthly(db, p, c.id, m, now).await?;
            let sum = |f: fn(&reports::LotReport) -> usize| r.lots.iter().map(f).sum::<usize>();
            met += sum(|l| l.gtr_met);
            counted += sum(|l| l.gtr_counted);
            months.push(MonthSla {
                month: m,
                tickets: sum(|l| l.tickets),
                gti_rate: rate(sum(|l| l.gti_met), sum(|l| l.gti_counted)),
                gtr_rate: rate(sum(|l| l.gtr_met), sum(|l| l.gtr_counted)),
                penalties_cents: r.total_cents,
            });
            m = m.next();
        }
        out.push(ContractSla {
            contract_id: c.id,
            reference: c.reference,
            contractor: c.contractor_name,
            tickets: months.iter().map(|m| m.tickets).sum(),
            penalties_cents: months.iter().map(|m| m.penalties_cents).sum(),
            gtr_rate: rate(met, counted),
            months,
        });
    }
    let since = now - Duration::days(365);
    let repair_since = preau_domain::paris::day(now) - Duration::days(REPAIR_GRACE_DAYS);
    let devices_sql = format!(
        "SELECT c.code, COALESCE(d.brand, ''), COALESCE(d.model, ''), COUNT(*) FROM devices d JOIN device_categories c ON c.id = d.category_id WHERE {IN_SERVICE} GROUP BY c.code, d.brand, d.model"
    );
    let devices: Vec<(String, String, String, i64)> = with_db!(db, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(devices_sql)).bind(cid).bind(repair_since).fetch_all(pool).await?
    });
    let tickets: Vec<(String, String, String, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT c.code, COALESCE(d.brand, ''), COALESCE(d.model, ''), COUNT(DISTINCT t.id) FROM tickets t JOIN ticket_devices td ON td.ticket_id = t.id JOIN devices d ON d.id = td.device_id JOIN device_categories c ON c.id = d.category_id WHERE t.collectivite_id = $1 AND t.opened_at >= $2 GROUP BY c.code, d.brand, d.model")
            .bind(cid).bind(since).fetch_all(pool).await?
    });
    let mut categories: BTreeMap<String, Reliability> = BTreeMap::new();
    let mut models: BTreeMap<String, Reliability> = BTreeMap::new();
    let model_of = |brand: &str, model: &str| format!("{brand} {model}").trim().to_string();
    for (code, brand, model, n) in &devices {
        let c = categories
            .entry(code.clone())
            .or_insert_with(|| Reliability {
                label: code.clone(),
                devices: 0,
                tickets: 0,
            });
        c.devices += n;
        let name = model_of(brand, model);
        if !name.is_empty() {
            models
                .entry(name.clone())
                .or_insert_with(|| Reliability {
                    label: name,
                    devices: 0,
                    tickets: 0,
                })
                .devices += n;
        }
    }
    for (code, brand, model, n) in &tickets {
        if let Some(c) = categories.get_mut(code) {
            c.tickets += n;
        }
        if let Some(m) = models.get_mut(&model_of(brand, model)) {
            m.tickets += n;
        }
    }
    let mut models: Vec<Reliability> = models
        .into_values()
        .filter(|m| m.devices >= MIN_MODEL_DEVICES && m.tickets > 0)
        .collect();
    models.sort_by(|a, b| {
        b.per_100()
            .total_cmp(&a.per_100())
            .then(a.label.cmp(&b.label))
    });
    models.truncate(10);
    let since_day = preau_domain::paris::day(since);
    let tablets: Vec<(i64, String, i64, i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT s.id, s.name, COUNT(l.id), CAST(COALESCE(SUM(CASE WHEN l.return_state IN ('ecran_casse', 'hors_service') THEN 1 ELSE 0 END), 0) AS BIGINT), CAST(COALESCE(SUM(CASE WHEN l.return_state IN ('perdu', 'vole') THEN 1 ELSE 0 END), 0) AS BIGINT) FROM schools s JOIN loans l ON l.school_id = s.id WHERE s.collectivite_id = $1 AND (l.returned_on IS NULL OR l.returned_on >= $2) GROUP BY s.id, s.name ORDER BY s.name")
            .bind(cid).bind(since_day).fetch_all(pool).await?
    });
    let scope = p.coverage_schools();
    let links = crate::connectivity::operators_availability(db, p, &scope, now).await?;
    let visio = crate::visio::outcomes(db, p, first.start(), now).await?;
    Ok(Quality {
        links,
        visio,
        contracts: out,
        categories: categories.into_values().filter(|c| c.devices > 0).collect(),
        models,
        tablets: tablets
            .into_iter()
            .filter(|t| scope.contains(t.0))
            .map(|(school_id, name, loans, broken, lost)| TabletLosses {
                school_id,
                name,
                loans,
                broken,
                lost,
            })
            .collect(),
    })
}
