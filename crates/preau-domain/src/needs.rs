//! The schools' needs (recensement des besoins): a campaign the administrator opens with
//! dates, the requests each directeur enters while it is open, the ERUN's opinion and the
//! administrator's decision (accepted into the plan for a year, deferred or refused with a
//! reason).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Lang};
use crate::org::code_enum;
use crate::text;

code_enum!(
    /// How much the school needs it.
    Priority {
        Haute = "haute" => ("Haute", "High"),
        Moyenne = "moyenne" => ("Moyenne", "Medium"),
        Basse = "basse" => ("Basse", "Low"),
    }
);

code_enum!(
    /// Where a request stands.
    Status {
        Soumise = "soumise" => ("En attente de décision", "Awaiting decision"),
        Acceptee = "acceptee" => ("Acceptée", "Accepted"),
        Differee = "differee" => ("Reportée", "Deferred"),
        Refusee = "refusee" => ("Refusée", "Refused"),
    }
);

/// A campaign as entered.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CampaignInput {
    pub title: String,
    pub opens_on: String,
    pub closes_on: String,
    pub plan_year: String,
}

/// A campaign, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub title: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub plan_year: i32,
}

fn year(field: &str, v: &str) -> Result<i32, FieldError> {
    let y: i32 = v
        .trim()
        .parse()
        .map_err(|_| FieldError::new(field, "not_a_number"))?;
    if !(2000..=2100).contains(&y) {
        return Err(FieldError::new(field, "out_of_range"));
    }
    Ok(y)
}

fn day(field: &str, v: &str) -> Result<NaiveDate, FieldError> {
    crate::device::date(field, Some(v))?.ok_or_else(|| FieldError::new(field, "required"))
}

impl CampaignInput {
    /// Every field's error at once.
    pub fn check(&self) -> Result<Campaign, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = text::required("title", &self.title, 200).map_err(|e| errors.push(e));
        let opens = day("opens_on", &self.opens_on).map_err(|e| errors.push(e));
        let closes = day("closes_on", &self.closes_on).map_err(|e| errors.push(e));
        let plan_year = year("plan_year", &self.plan_year).map_err(|e| errors.push(e));
        if let (Ok(o), Ok(c)) = (&opens, &closes)
            && c < o
        {
            errors.push(FieldError::new("closes_on", "dates_order"));
        }
        match (title, opens, closes, plan_year) {
            (Ok(title), Ok(opens_on), Ok(closes_on), Ok(plan_year)) if errors.is_empty() => {
                Ok(Campaign {
                    title,
                    opens_on,
                    closes_on,
                    plan_year,
                })
            }
            _ => Err(errors),
        }
    }
}

impl Campaign {
    /// Schools may enter requests from the opening day to the closing day, both included.
    pub fn is_open(&self, today: NaiveDate) -> bool {
        (self.opens_on..=self.closes_on).contains(&today)
    }
}

/// A school's request as entered: a device category (its code) or, for what no category
/// says, a free item; how many, why, how urgent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RequestInput {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub item: String,
    pub quantity: String,
    pub reason: String,
    pub priority: String,
}

/// A request, checked (the category still to be found in the collectivité's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub category: Option<String>,
    pub item: String,
    pub quantity: i64,
    pub reason: String,
    pub priority: Priority,
}

pub const MAX_QUANTITY: i64 = 1000;

impl RequestInput {
    pub fn check(&self) -> Result<Request, Vec<FieldError>> {
        let mut errors = Vec::new();
        let category = Some(self.category.trim().to_string()).filter(|c| !c.is_empty());
        let item = text::optional("item", Some(&self.item), 200)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if category.is_none() && item.is_none() {
            errors.push(FieldError::new("item", "required"));
        }
        let quantity = match self.quantity.trim().parse::<i64>() {
            Ok(q) if (1..=MAX_QUANTITY).contains(&q) => q,
            Ok(_) => {
                errors.push(FieldError::new("quantity", "out_of_range"));
                0
            }
            Err(_) => {
                errors.push(FieldError::new("quantity", "not_a_number"));
                0
            }
        };
        let reason = text::required("reason", &self.reason, 2000).map_err(|e| errors.push(e));
        let priority = Priority::parse("priority", &self.priority).map_err(|e| errors.push(e));
        match (reason, priority) {
            (Ok(reason), Ok(priority)) if errors.is_empty() => Ok(Request {
                category,
                item: item.unwrap_or_default(),
                quantity,
                reason,
                priority,
            }),
            _ => Err(errors),
        }
    }
}

/// The administrator's decision as entered.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DecisionInput {
    pub status: String,
    #[serde(default)]
    pub plan_year: String,
    #[serde(default)]
    pub reason: String,
}

/// A decision, checked: an accepted request goes into the plan of a year; a deferred or
/// refused one says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub status: Status,
    pub plan_year: Option<i32>,
    pub reason: Option<String>,
}

impl DecisionInput {
    pub fn check(&self) -> Result<Decision, Vec<FieldError>> {
        let status = Status::parse("status", &self.status).map_err(|e| vec![e])?;
        let reason = text::optional("reason", Some(&self.reason), 2000).map_err(|e| vec![e])?;
        match status {
            Status::Soumise => Err(vec![FieldError::new("status", "unknown_value")]),
            Status::Acceptee => {
                let y = year("plan_year", &self.plan_year).map_err(|e| vec![e])?;
                Ok(Decision {
                    status,
                    plan_year: Some(y),
                    reason,
                })
            }
            Status::Differee | Status::Refusee => match reason {
                Some(r) => Ok(Decision {
                    status,
                    plan_year: None,
                    reason: Some(r),
                }),
                None => Err(vec![FieldError::new("reason", "required")]),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(q: &str) -> RequestInput {
        RequestInput {
            category: "tablette".into(),
            item: String::new(),
            quantity: q.into(),
            reason: "Une classe mobile pour le cycle 3".into(),
            priority: "haute".into(),
        }
    }

    #[test]
    fn a_request_needs_a_quantity_a_reason_and_something_asked() {
        let r = request("12").check().unwrap();
        assert_eq!(
            (r.category.as_deref(), r.quantity, r.priority),
            (Some("tablette"), 12, Priority::Haute)
        );
        let fields = |i: RequestInput| -> Vec<String> {
            i.check()
                .unwrap_err()
                .into_iter()
                .map(|e| format!("{}:{}", e.field, e.code))
                .collect()
        };
        assert_eq!(fields(request("0")), ["quantity:out_of_range"]);
        assert_eq!(fields(request("douze")), ["quantity:not_a_number"]);
        let mut bare = request("1");
        bare.category.clear();
        bare.reason = "  ".into();
        bare.priority = "urgente".into();
        assert_eq!(
            fields(bare),
            ["item:required", "reason:required", "priority:unknown_value"]
        );
    }

    #[test]
    fn a_decision_says_the_year_or_why() {
        let d = |s: &str, y: &str, r: &str| {
            DecisionInput {
                status: s.into(),
                plan_year: y.into(),
                reason: r.into(),
            }
            .check()
        };
        assert_eq!(d("acceptee", "2027", "").unwrap().plan_year, Some(2027));
        assert_eq!(d("acceptee", "", "").unwrap_err()[0].field, "plan_year");
        assert_eq!(d("refusee", "", "").unwrap_err()[0].field, "reason");
        assert_eq!(
            d("differee", "", "Budget 2027").unwrap().reason.as_deref(),
            Some("Budget 2027")
        );
        assert_eq!(d("soumise", "", "").unwrap_err()[0].field, "status");
    }

    #[test]
    fn a_campaign_closes_after_it_opens() {
        let c = CampaignInput {
            title: "Besoins 2027".into(),
            opens_on: "2026-11-02".into(),
            closes_on: "2026-12-18".into(),
            plan_year: "2027".into(),
        }
        .check()
        .unwrap();
        assert!(c.is_open(NaiveDate::from_ymd_opt(2026, 12, 18).unwrap()));
        assert!(!c.is_open(NaiveDate::from_ymd_opt(2026, 12, 19).unwrap()));
        let e = CampaignInput {
            title: "x".into(),
            opens_on: "2026-12-18".into(),
            closes_on: "2026-11-02".into(),
            plan_year: "27".into(),
        }
        .check()
        .unwrap_err();
        let f: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(f, ["plan_year", "closes_on"]);
    }
}
