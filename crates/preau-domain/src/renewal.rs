//! Renewal: when devices reach the end of their life, and what replacing them costs year
//! by year under a yearly cap. Pure: the caller gathers the devices in service.

use serde::Serialize;

/// Years a device of the category is expected to serve, when the collectivité has not
/// set its own: tablets 5, laptops 6, desktops 7, boards and displays 8, printers 6,
/// network 10.
pub fn default_lifespan(category: &str) -> Option<i64> {
    Some(match category {
        "tablette" => 5,
        "portable" | "poste_enseignant" => 6,
        "pc_fixe" => 7,
        "tni" | "vpi" | "eni" | "videoprojecteur" => 8,
        "imprimante" => 6,
        "borne_wifi" | "switch" | "routeur" => 10,
        "visualiseur" | "kit_visio" | "webcam" | "micro" | "enceintes" => 6,
        "classe_mobile" => 8,
        _ => return None,
    })
}

/// Devices in service of one category whose life ends the same year, to be replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aging {
    pub category: String,
    /// The year their life ends (purchase year + lifespan).
    pub end_of_life: i32,
    /// What a replacement costs (`None`: no price known, counted as 0).
    pub price_cents: Option<i64>,
    pub count: i64,
}

/// One year of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearPlan {
    pub year: i32,
    /// Devices replaced that year.
    pub devices: i64,
    pub budget_cents: i64,
    /// Devices due that year or before that the cap pushed to later years.
    pub deferred: i64,
    /// Replacements per category that year.
    pub by_category: Vec<(String, i64)>,
}

/// The replacements of `years` years from `from`: each device is due the year its life
/// ends (those already past it, in `from`); the oldest are replaced first and, when a
/// yearly `cap` is set, what does not fit waits for the next year.
pub fn plan(devices: &[Aging], from: i32, years: usize, cap: Option<i64>) -> Vec<YearPlan> {
    let mut due: Vec<Aging> = devices.iter().filter(|d| d.count > 0).cloned().collect();
    due.sort_by(|a, b| {
        a.end_of_life
            .cmp(&b.end_of_life)
            .then_with(|| a.category.cmp(&b.category))
    });
    let mut waiting: Vec<Aging> = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for year in (from..).take(years) {
        while next < due.len() && due[next].end_of_life <= year {
            waiting.push(due[next].clone());
            next += 1;
        }
        let mut budget = 0i64;
        let mut replaced = 0;
        let mut by_category: Vec<(String, i64)> = Vec::new();
        for d in &mut waiting {
            let price = d.price_cents.unwrap_or(0);
            let fit = match cap {
                None => d.count,
                Some(_) if price == 0 => d.count,
                Some(c) => d.count.min(((c - budget) / price).max(0)),
            };
            if fit == 0 {
                continue;
            }
            budget += fit * price;
            replaced += fit;
            d.count -= fit;
            match by_category.iter_mut().find(|(c, _)| *c == d.category) {
                Some((_, n)) => *n += fit,
                None => by_category.push((d.category.clone(), fit)),
            }
        }
        waiting.retain(|d| d.count > 0);
        by_category.sort();
        out.push(YearPlan {
            year,
            devices: replaced,
            budget_cents: budget,
            deferred: waiting.iter().map(|d| d.count).sum(),
            by_category,
        });
    }
    out
}

/// Age brackets of the age pyramid, in whole years since purchase.
pub const AGE_BRACKETS: &[(i64, Option<i64>)] = &[
    (0, Some(1)),
    (2, Some(3)),
    (4, Some(5)),
    (6, Some(7)),
    (8, Some(9)),
    (10, None),
];

/// The bracket of a device `age` years old.
pub fn bracket(age: i64) -> usize {
    AGE_BRACKETS
        .iter()
        .position(|(lo, hi)| age >= *lo && hi.is_none_or(|h| age <= h))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(category: &str, end: i32, euros: i64) -> Aging {
        Aging {
            category: category.into(),
            end_of_life: end,
            price_cents: Some(euros * 100),
            count: 1,
        }
    }

    #[test]
    fn devices_are_due_when_their_life_ends_and_the_backlog_first() {
        let devices = vec![
            d("vpi", 2024, 1_000),
            d("tablette", 2027, 300),
            d("tablette", 2028, 300),
            d("eni", 2035, 3_000),
        ];
        let p = plan(&devices, 2027, 3, None);
        assert_eq!(
            p.iter().map(|y| y.year).collect::<Vec<_>>(),
            vec![2027, 2028, 2029]
        );
        assert_eq!(
            (p[0].devices, p[0].budget_cents),
            (2, 130_000),
            "the 2024 VPI is replaced in 2027"
        );
        assert_eq!(
            p[0].by_category,
            vec![("tablette".to_string(), 1), ("vpi".to_string(), 1)]
        );
        assert_eq!((p[1].devices, p[1].budget_cents), (1, 30_000));
        assert_eq!(p[2].devices, 0);
        assert!(p.iter().all(|y| y.deferred == 0));
    }

    #[test]
    fn a_yearly_cap_pushes_the_rest_to_later_years_oldest_first() {
        let devices: Vec<Aging> = (0..10)
            .map(|i| d("tablette", 2026 + (i % 2), 300))
            .collect();
        // 10 tablets due by 2027, 1 000 € a year: 3 a year.
        let p = plan(&devices, 2027, 5, Some(100_000));
        let replaced: Vec<i64> = p.iter().map(|y| y.devices).collect();
        assert_eq!(replaced, vec![3, 3, 3, 1, 0]);
        assert_eq!(p[0].deferred, 7);
        assert_eq!(p[3].deferred, 0);
        assert!(p.iter().all(|y| y.budget_cents <= 100_000));
        // The same tablets counted by batch plan the same.
        let batched = vec![
            Aging {
                count: 5,
                ..d("tablette", 2026, 300)
            },
            Aging {
                count: 5,
                ..d("tablette", 2027, 300)
            },
        ];
        assert_eq!(plan(&batched, 2027, 5, Some(100_000)), p);
        // A device dearer than the cap never fits: it stays deferred.
        let p = plan(&[d("eni", 2027, 5_000)], 2027, 2, Some(100_000));
        assert_eq!((p[1].devices, p[1].deferred), (0, 1));
    }

    #[test]
    fn ages_fall_in_brackets() {
        assert_eq!(bracket(0), 0);
        assert_eq!(bracket(1), 0);
        assert_eq!(bracket(5), 2);
        assert_eq!(bracket(9), 4);
        assert_eq!(bracket(23), 5);
        assert_eq!(default_lifespan("tablette"), Some(5));
        assert_eq!(default_lifespan("vpi"), Some(8));
        assert_eq!(default_lifespan("autre"), None);
    }
}
