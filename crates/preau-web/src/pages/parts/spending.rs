//! The spending's tables as the funding page and the council report show them: per year
//! (purchases, maintenance, subsidies received, pupils, per pupil), per school and per
//! category, with the chart of the yearly totals.

use preau_core::steering::funding::Spending;
use preau_domain::Principal;

use super::charts::{bar_chart, euros, whole_euros};
use super::devices::category_label;
use crate::AppState;
use crate::error::PageError;

pub struct YearRow {
    pub year: i32,
    pub purchases: String,
    pub maintenance: String,
    pub links: String,
    pub total: String,
    pub received: String,
    pub pupils: i64,
    pub per_pupil: String,
}

pub struct SpendRow {
    pub label: String,
    pub cells: Vec<String>,
    pub per_pupil: String,
}

/// The spending's tables, shared by the page and the council report.
pub struct SpendingView {
    pub chart: String,
    pub years: Vec<YearRow>,
    pub year_labels: Vec<i32>,
    pub schools: Vec<SpendRow>,
    pub categories: Vec<SpendRow>,
}

pub async fn spending_view(
    s: &AppState,
    p: &Principal,
    sp: &Spending,
) -> Result<SpendingView, PageError> {
    let lang = p.lang;
    let cats = preau_core::inventory::categories::list(&s.db, p).await?;
    let last = sp.years.len().saturating_sub(1);
    Ok(SpendingView {
        chart: bar_chart(
            &sp.years
                .iter()
                .map(|y| {
                    (
                        y.year.to_string(),
                        y.total_cents(),
                        whole_euros(y.total_cents()),
                    )
                })
                .collect::<Vec<_>>(),
        ),
        years: sp
            .years
            .iter()
            .map(|y| YearRow {
                year: y.year,
                purchases: whole_euros(y.purchases_cents),
                maintenance: whole_euros(y.maintenance_cents),
                links: whole_euros(y.links_cents),
                total: whole_euros(y.total_cents()),
                received: whole_euros(y.received_cents),
                pupils: y.pupils,
                per_pupil: y.per_pupil_cents().map(euros).unwrap_or_else(|| "—".into()),
            })
            .collect(),
        year_labels: sp.years.iter().map(|y| y.year).collect(),
        schools: sp
            .schools
            .iter()
            .map(|l| SpendRow {
                label: if l.id == 0 {
                    crate::i18n::t(lang, "funding.unplaced").to_string()
                } else {
                    l.label.clone()
                },
                cells: l.cents.iter().map(|c| whole_euros(*c)).collect(),
                per_pupil: match (l.pupils, l.cents.get(last)) {
                    (n, Some(c)) if n > 0 => euros(c / n),
                    _ => "—".into(),
                },
            })
            .collect(),
        categories: sp
            .categories
            .iter()
            .map(|l| SpendRow {
                label: category_label(&cats, &l.label, lang),
                cells: l.cents.iter().map(|c| whole_euros(*c)).collect(),
                per_pupil: String::new(),
            })
            .collect(),
    })
}
