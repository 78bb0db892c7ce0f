//! The fleet over time: ages per category, devices past their lifespan, warranties
//! ending, pupils per tablet and per computer, and the renewal plan of the coming years
//! under the collectivité's yearly cap. Devices in service only (as for coverage); a device
//! without a purchase date cannot be planned and is counted apart.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use preau_domain::renewal::{self, AGE_BRACKETS, Aging, YearPlan};
use preau_domain::{FieldError, Principal, SchoolScope, paris};
use serde::Serialize;

use super::coverage::{IN_SERVICE, REPAIR_GRACE_DAYS, unit_prices};
use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use crate::{with_db, with_tx, years};

/// One category of the fleet.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryAges {
    pub category: String,
    pub lifespan_years: Option<i64>,
    /// Devices per age bracket (`AGE_BRACKETS`).
    pub brackets: Vec<i64>,
    pub past_lifespan: i64,
    pub total: i64,
}

/// Pupils per tablet and per computer at one school (or overall, `school_id` 0).
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub school_id: i64,
    pub name: String,
    pub pupils: i64,
    pub tablets: i64,
    pub computers: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenewalReport {
    pub from: i32,
    pub yearly_cap_cents: Option<i64>,
    /// The plan; budgets are 0 for those who may not see costs.
    pub years: Vec<YearPlan>,
    pub categories: Vec<CategoryAges>,
    /// In service without a purchase date: not planned.
    pub undated: i64,
    pub warranties_ending: i64,
    pub ratios: Vec<Ratio>,
    /// Accepted needs of the schools, per plan year: devices and their estimate (0 for
    /// those who do not see costs), in `years` order.
    pub needs: Vec<(i32, i64, i64)>,
    /// This year so far, per category: what the plan had (devices reaching the end of
    /// their life this year, whatever became of them, and the accepted needs of the year)
    /// against what was bought.
    pub this_year: Vec<PlannedBought>,
    pub costs_shown: bool,
}

/// One category's plan for the year against its purchases.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedBought {
    pub category: String,
    pub planned: i64,
    pub bought: i64,
    /// What was bought, at purchase price (0 for those who do not see costs).
    pub bought_cents: i64,
}

/// School, category id, purchase date, devices, of which warranties end soon, their price.
type DeviceRow = (i64, i64, Option<NaiveDate>, i64, i64, i64);

/// Who sees the fleet over time: those who follow several schools — administrator, élu,
/// technician, ERUN/IEN (the last without amounts).
fn scope(p: &Principal) -> AppResult<SchoolScope> {
    if !p.can_see_dashboard() {
        return Err(AppError::Forbidden);
    }
    Ok(p.coverage_schools())
}

/// The fleet and its renewal plan for `years` years from `from`, as of `now`.
pub async fn report(
    db: &Db,
    p: &Principal,
    from: i32,
    years: usize,
    now: DateTime<Utc>,
) -> AppResult<RenewalReport> {
    let scope = scope(p)?;
    if !(1..=15).contains(&years) {
        return Err(FieldError::new("years", "out_of_range").into());
    }
    let today = paris::day(now);
    if !(today.year() - 1..=today.year() + 20).contains(&from) {
        return Err(FieldError::new("from", "out_of_range").into());
    }
    let cid = p.collectivite_id;
    let repair_since = today - Duration::days(REPAIR_GRACE_DAYS);
    let horizon = today + Duration::days(183);
    let costs_shown = p.can_see_costs();
    // Independent reads, side by side on PostgreSQL's pool: the fleet in service grouped by
    // school, category and purchase day; the devices no longer (or not yet) in service,
    // for this year's purchases; categories, prices, the cap and the accepted needs.
    let (devices, others, category_rows, prices, cap, accepted) = tokio::try_join!(
        async {
            let rows: Vec<DeviceRow> = with_db!(db, pool => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT d.school_id, d.category_id, d.purchase_date, COUNT(*), CAST(SUM(CASE WHEN d.warranty_end >= $3 AND d.warranty_end <= $4 THEN 1 ELSE 0 END) AS BIGINT), CAST(COALESCE(SUM(d.price_cents), 0) AS BIGINT) FROM devices d WHERE {IN_SERVICE} GROUP BY d.school_id, d.category_id, d.purchase_date")))
                    .bind(cid).bind(repair_since).bind(today).bind(horizon).fetch_all(pool).await?
            });
            Ok::<_, AppError>(rows)
        },
        async {
            let rows: Vec<BoughtRow> = with_db!(db, pool => {
                sqlx::query_as("SELECT d.school_id, d.category_id, d.purchase_date, COUNT(*), CAST(COALESCE(SUM(d.price_cents), 0) AS BIGINT) FROM devices d WHERE d.collectivite_id = $1 AND d.purchase_date IS NOT NULL AND (d.school_id IS NULL OR d.state NOT IN ('en_service', 'prete', 'en_reparation') OR (d.state = 'en_reparation' AND d.state_since < $2)) GROUP BY d.school_id, d.category_id, d.purchase_date")
                    .bind(cid).bind(repair_since).fetch_all(pool).await?
            });
            Ok::<_, AppError>(rows)
        },
        async {
            let rows: Vec<(i64, String, Option<i64>)> = with_db!(db, pool => {
                sqlx::query_as("SELECT id, code, lifespan_years FROM device_categories WHERE collectivite_id = $1")
                    .bind(cid).fetch_all(pool).await?
            });
            Ok::<_, AppError>(rows)
        },
        async {
            if costs_shown {
                unit_prices(db, cid, today).await
            } else {
                Ok(BTreeMap::new())
            }
        },
        async {
            let cap: Option<Option<i64>> = with_db!(db, pool => {
                sqlx::query_scalar("SELECT yearly_cap_cents FROM renewal_settings WHERE collectivite_id = $1")
                    .bind(cid).fetch_optional(pool).await?
            });
            Ok::<_, AppError>(cap.flatten())
        },
        super::needs::accepted(db, cid),
    )?;
    let devices: Vec<DeviceRow> = devices
        .into_iter()
        .filter(|d| scope.contains(d.0))
        .collect();
    let categories_of: BTreeMap<i64, (String, Option<i64>)> = category_rows
        .into_iter()
        .map(|(id, code, years)| {
            let years = years.or_else(|| renewal::default_lifespan(&code));
            (id, (code, years))
        })
        .collect();

    let mut categories: BTreeMap<String, CategoryAges> = BTreeMap::new();
    let mut aging: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut undated = 0;
    let mut warranties_ending = 0;
    for (_, category, bought, count, soon, _) in &devices {
        let Some((code, lifespan)) = categories_of.get(category) else {
            continue;
        };
        let c = categories
            .entry(code.clone())
            .or_insert_with(|| CategoryAges {
                category: code.clone(),
                lifespan_years: *lifespan,
                brackets: vec![0; AGE_BRACKETS.len()],
                past_lifespan: 0,
                total: 0,
            });
        c.total += count;
        warranties_ending += soon;
        let Some(bought) = bought else {
            undated += count;
            continue;
        };
        let age = i64::from(today.year() - bought.year())
            - i64::from((today.month(), today.day()) < (bought.month(), bought.day()));
        c.brackets[renewal::bracket(age.max(0))] += count;
        if let Some(l) = lifespan {
            if age >= *l {
                c.past_lifespan += count;
            }
            *aging
                .entry((code.clone(), bought.year() + *l as i32))
                .or_default() += count;
        }
    }
    let aging: Vec<Aging> = aging
        .into_iter()
        .map(|((category, end_of_life), count)| Aging {
            price_cents: prices.get(&category).copied().flatten(),
            category,
            end_of_life,
            count,
        })
        .collect();
    let mut plan = renewal::plan(&aging, from, years, if costs_shown { cap } else { None });
    if !costs_shown {
        for y in &mut plan {
            y.budget_cents = 0;
        }
    }
    let mut needs: Vec<(i32, i64, i64)> = plan.iter().map(|y| (y.year, 0, 0)).collect();
    for (year, school, code, n) in accepted.iter().cloned() {
        if !scope.contains(school) {
            continue;
        }
        if let Some(line) = needs.iter_mut().find(|l| i64::from(l.0) == year) {
            line.1 += n;
            line.2 += prices.get(&code).copied().flatten().map_or(0, |u| u * n);
        }
    }
    let this_year = planned_bought(
        &scope,
        &devices,
        others,
        &accepted,
        &categories_of,
        today,
        costs_shown,
    );
    Ok(RenewalReport {
        this_year,
        needs,
        from,
        yearly_cap_cents: if costs_shown { cap } else { None },
        years: plan,
        categories: categories.into_values().collect(),
        undated,
        warranties_ending,
        ratios: ratios(db, p, &scope, &devices, &categories_of, today).await?,
        costs_shown,
    })
}

/// School (`None`: not placed), category id, purchase date, devices, their price.
type BoughtRow = (Option<i64>, i64, Option<NaiveDate>, i64, i64);

/// The current year's plan against its purchases, per category. Every device bought
/// counts: those in service (`in_service`) and the others (`others`) — retired, lost, long
/// under repair or not yet placed (a device replaced this year is retired by now); those
/// are few, so their grouping stays small.
fn planned_bought(
    scope: &SchoolScope,
    in_service: &[DeviceRow],
    others: Vec<BoughtRow>,
    accepted: &[(i64, i64, String, i64)],
    categories: &BTreeMap<i64, (String, Option<i64>)>,
    today: NaiveDate,
    costs_shown: bool,
) -> Vec<PlannedBought> {
    let year = today.year();
    let rows = in_service
        .iter()
        .map(|d| (Some(d.0), d.1, d.2, d.3, d.5))
        .chain(others.into_iter().filter(|d| match d.0 {
            Some(s) => scope.contains(s),
            None => matches!(scope, SchoolScope::All),
        }));
    let mut out: BTreeMap<String, PlannedBought> = BTreeMap::new();
    for (_, category, bought, count, cents) in rows {
        let Some(bought) = bought else { continue };
        let Some((code, lifespan)) = categories.get(&category) else {
            continue;
        };
        let line = out.entry(code.clone()).or_insert_with(|| PlannedBought {
            category: code.clone(),
            planned: 0,
            bought: 0,
            bought_cents: 0,
        });
        if lifespan.is_some_and(|l| bought.year() + l as i32 == year) {
            line.planned += count;
        }
        if bought.year() == year {
            line.bought += count;
            if costs_shown {
                line.bought_cents += cents;
            }
        }
    }
    for (y, school, code, n) in accepted.iter().cloned() {
        if y == i64::from(year) && scope.contains(school) {
            out.entry(code.clone())
                .or_insert_with(|| PlannedBought {
                    category: code,
                    planned: 0,
                    bought: 0,
                    bought_cents: 0,
                })
                .planned += n;
        }
    }
    out.into_values()
        .filter(|l| l.planned > 0 || l.bought > 0)
        .collect()
}

/// Pupils (the current year's head counts) per tablet and per computer, school by school
/// and overall (first line, `school_id` 0).
async fn ratios(
    db: &Db,
    p: &Principal,
    scope: &SchoolScope,
    devices: &[DeviceRow],
    categories: &BTreeMap<i64, (String, Option<i64>)>,
    today: NaiveDate,
) -> AppResult<Vec<Ratio>> {
    let year = years::current(db, p, today).await?;
    let heads: Vec<(i64, String, i64)> = match year {
        None => Vec::new(),
        Some(y) => with_db!(db, pool => {
            sqlx::query_as("SELECT s.id, s.name, CAST(COALESCE(SUM(c.head_count), 0) AS BIGINT) FROM schools s LEFT JOIN classes c ON c.school_id = s.id AND c.school_year_id = $2 WHERE s.collectivite_id = $1 AND s.status = 'active' GROUP BY s.id, s.name ORDER BY s.name, s.id")
                .bind(p.collectivite_id).bind(y.id).fetch_all(pool).await?
        }),
    };
    let mut out = vec![Ratio {
        school_id: 0,
        name: String::new(),
        pupils: 0,
        tablets: 0,
        computers: 0,
    }];
    // Tablets and computers per school, in one pass over the counted devices.
    let mut per_school: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (school, category, _, count, _, _) in devices {
        let e = per_school.entry(*school).or_default();
        match categories.get(category).map(|(c, _)| c.as_str()) {
            Some("tablette") => e.0 += count,
            Some("portable" | "pc_fixe") => e.1 += count,
            _ => {}
        }
    }
    for (id, name, pupils) in heads.into_iter().filter(|h| scope.contains(h.0)) {
        let (tablets, computers) = per_school.get(&id).copied().unwrap_or_default();
        let r = Ratio {
            school_id: id,
            name,
            pupils,
            tablets,
            computers,
        };
        out[0].pupils += r.pupils;
        out[0].tablets += r.tablets;
        out[0].computers += r.computers;
        out.push(r);
    }
    Ok(out)
}

/// Sets the yearly cap on replacements (`None`: none).
pub async fn set_cap(
    tx: &mut Tx,
    p: &Principal,
    cents: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if !p.can_edit_referentiel() {
        return Err(AppError::Forbidden);
    }
    if cents.is_some_and(|c| !(0..=10_000_000_000).contains(&c)) {
        return Err(FieldError::new("yearly_cap", "out_of_range").into());
    }
    let cid = p.collectivite_id;
    let before: Option<Option<i64>> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT yearly_cap_cents FROM renewal_settings WHERE collectivite_id = $1")
            .bind(cid).fetch_optional(&mut *c).await?
    });
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM renewal_settings WHERE collectivite_id = $1").bind(cid).execute(&mut *c).await?;
        sqlx::query("INSERT INTO renewal_settings (collectivite_id, yearly_cap_cents, updated_at) VALUES ($1, $2, $3)")
            .bind(cid).bind(cents).bind(now).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "renewal",
            object_id: cid,
            object_label: "plafond annuel de renouvellement",
            changes: serde_json::json!({"yearly_cap_cents": {"before": before.flatten(), "after": cents}}),
        },
    )
    .await
}

/// Sets how many years a category serves (`None`: Préau's default).
pub async fn set_lifespan(
    tx: &mut Tx,
    p: &Principal,
    category: &str,
    years: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    super::set_category_figure(
        tx,
        p,
        category,
        super::CategoryFigure::LifespanYears,
        years,
        &format!("lifespan_{category}"),
        now,
    )
    .await
}
