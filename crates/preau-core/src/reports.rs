//! The monthly SLA report of a contract: per lot, the tickets opened in the month, the
//! share handled within GTI and GTR, each late ticket with its working-time delay, and
//! the penalties due, computed line by line as the contract states them (per unit late,
//! capped per ticket, then per month).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use preau_domain::calendar::Calendar;
use preau_domain::paris;
use preau_domain::sla::{self, MonthPenalty, TicketPenalty};
use preau_domain::{FieldError, Principal};
use serde::Serialize;
use std::collections::HashMap;

use crate::contracts::{self, Contract, Lot};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::tickets::{self, Ticket};
use crate::with_db;

/// A month, as `2026-03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn parse(s: &str) -> Result<Month, FieldError> {
        let bad = || FieldError::new("month", "month_format");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    pub fn of(t: DateTime<Utc>) -> Month {
        let l = paris::local(t);
        Month {
            year: l.year(),
            month: l.month(),
        }
    }

    pub fn code(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    pub fn next(&self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(&self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Local midnight of the first day, as an instant.
    pub fn start(&self) -> DateTime<Utc> {
        preau_domain::paris::instant(self.first_day().and_hms_opt(0, 0, 0).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// One ticket of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub ticket: Ticket,
    pub gti_due: Option<DateTime<Utc>>,
    pub gtr_due: Option<DateTime<Utc>>,
    pub gti_late_minutes: i64,
    pub gtr_late_minutes: i64,
    pub gti_late_days: i64,
    pub gtr_late_days: i64,
    pub gti_met: Option<bool>,
    pub gtr_met: Option<bool>,
    /// Still open: its penalty may grow.
    pub provisional: bool,
    pub penalty: TicketPenalty,
}

impl Line {
    pub fn late(&self) -> bool {
        self.gti_met == Some(false) || self.gtr_met == Some(false)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LotReport {
    pub lot: Lot,
    pub tickets: usize,
    pub gti_counted: usize,
    pub gti_met: usize,
    pub gtr_counted: usize,
    pub gtr_met: usize,
    pub lines: Vec<Line>,
    pub total: MonthPenalty,
}

impl LotReport {
    /// Percentage, one decimal, of tickets within the GTI (`None` when none counted).
    pub fn gti_rate(&self) -> Option<f64> {
        rate(self.gti_met, self.gti_counted)
    }
    pub fn gtr_rate(&self) -> Option<f64> {
        rate(self.gtr_met, self.gtr_counted)
    }
}

pub(crate) fn rate(met: usize, counted: usize) -> Option<f64> {
    (counted > 0).then(|| (met as f64 * 1000.0 / counted as f64).round() / 10.0)
}

#[derive(Debug, Clone, Serialize)]
pub struct SlaReport {
    pub contract: Contract,
    pub month: Month,
    pub computed_at: DateTime<Utc>,
    pub lots: Vec<LotReport>,
    pub total_cents: i64,
}

type Pause = (DateTime<Utc>, Option<DateTime<Utc>>);

/// Computes the report of `contract_id` for `month`, as of `now`.
pub async fn monthly(
    db: &Db,
    p: &Principal,
    contract_id: i64,
    month: Month,
    now: DateTime<Utc>,
) -> AppResult<SlaReport> {
    if !p.can_see_sla_report() {
        return Err(AppError::Forbidden);
    }
    let detail = contracts::get(db, p, contract_id).await?;
    let (from, to) = (month.start(), month.next().start());
    let calendars = crate::calendar::by_school(db, Some(p.collectivite_id)).await?;
    let mut lots = Vec::new();
    let mut total_cents = 0;
    for l in detail.lots {
        let list: Vec<Ticket> = tickets::for_lot_between(db, p, l.lot.id, from, to).await?;
        let ids: Vec<i64> = list.iter().map(|t| t.id).collect();
        let mut pauses: HashMap<i64, Vec<Pause>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql = crate::db::Sql::new(
                "SELECT ticket_id, started_at, ended_at FROM ticket_pauses WHERE ticket_id IN ",
            );
            sql.bind_list(chunk).push(" ORDER BY started_at");
            let rows: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = with_db!(db, pool => {
                crate::bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
            });
            for (t, a, b) in rows {
                pauses.entry(t).or_default().push((a, b));
            }
        }
        let mut lines = Vec::new();
        let fallback = Calendar::school(preau_domain::calendar::WeekHours::four_days(), vec![]);
        for t in list {
            let cal = calendars.get(&t.school_id).unwrap_or(&fallback);
            let c = tickets::clocks_of(
                &t,
                cal,
                pauses.get(&t.id).map(Vec::as_slice).unwrap_or(&[]),
                now,
            );
            let penalty = sla::ticket_penalty(&t.line(), &c, t.sla_cap_cents);
            lines.push(Line {
                gti_due: c.gti.as_ref().map(|s| s.due),
                gtr_due: c.gtr.as_ref().map(|s| s.due),
                gti_late_minutes: c.gti.as_ref().map_or(0, |s| s.late_minutes),
                gtr_late_minutes: c.gtr.as_ref().map_or(0, |s| s.late_minutes),
                gti_late_days: c.gti.as_ref().map_or(0, |s| s.late_days),
                gtr_late_days: c.gtr.as_ref().map_or(0, |s| s.late_days),
                gti_met: c
                    .gti
                    .as_ref()
                    .filter(|s| s.breached || s.stopped_at.is_some())
                    .map(|s| !s.breached),
                gtr_met: c
                    .gtr
                    .as_ref()
                    .filter(|s| s.breached || s.stopped_at.is_some())
                    .map(|s| !s.breached),
                provisional: t.resolved_at.is_none(),
                penalty,
                ticket: t,
            });
        }
        let penalties: Vec<TicketPenalty> = lines.iter().map(|l| l.penalty.clone()).collect();
        let total = sla::month_penalty(&penalties, l.lot.cap_month_cents);
        total_cents += total.cents;
        lots.push(LotReport {
            tickets: lines.len(),
            gti_counted: lines.iter().filter(|l| l.gti_met.is_some()).count(),
            gti_met: lines.iter().filter(|l| l.gti_met == Some(true)).count(),
            gtr_counted: lines.iter().filter(|l| l.gtr_met.is_some()).count(),
            gtr_met: lines.iter().filter(|l| l.gtr_met == Some(true)).count(),
            lot: l.lot,
            lines,
            total,
        });
    }
    Ok(SlaReport {
        contract: detail.contract,
        month,
        computed_at: now,
        lots,
        total_cents,
    })
}
