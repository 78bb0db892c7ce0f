//! Opening a ticket: the reported problem checked, routed to the technician or the lot
//! that covers the school and category, the contract's terms copied onto it.

use super::*;

/// A report as a form or the API sends it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TicketInput {
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub school_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub room_id: Option<i64>,
    /// The devices concerned (the form sends one; the API a list).
    #[serde(default)]
    pub device_ids: Vec<i64>,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidTicket {
    pub school_id: Option<i64>,
    pub room_id: Option<i64>,
    pub device_ids: Vec<i64>,
    pub category: TicketCategory,
    pub priority: Priority,
    pub title: Option<String>,
    pub description: String,
}

impl TicketInput {
    pub fn parse(&self) -> Result<ValidTicket, AppError> {
        let mut e = Errors::default();
        let category = e.check(TicketCategory::parse("category", &self.category));
        let priority = e.check(Priority::parse("priority", &self.priority));
        let title = e.check(text::optional("title", self.title.as_deref(), 120));
        let description = e.check(text::optional(
            "description",
            self.description.as_deref(),
            4000,
        ));
        if self.school_id.is_none() && self.room_id.is_none() && self.device_ids.is_empty() {
            e.push(FieldError::new("school_id", "required"));
        }
        if self.device_ids.len() > 20 {
            e.push(FieldError::new("device_ids", "too_many"));
        }
        e.finish()?;
        match (category, priority, title, description) {
            (Some(category), Some(priority), Some(title), Some(description)) => Ok(ValidTicket {
                school_id: self.school_id,
                room_id: self.room_id,
                device_ids: self.device_ids.clone(),
                category,
                priority,
                title,
                description: description.unwrap_or_default(),
            }),
            _ => Err(FieldError::new("ticket", "invalid").into()),
        }
    }
}

/// Where routing sent a ticket, and why (shown in its history).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub assignee_user_id: Option<i64>,
    pub lot_id: Option<i64>,
    pub reason: &'static str,
}

/// Finds who takes a new ticket: an explicit rule (school and category, then category,
/// then school), else the active lot whose perimeter covers the device's category (or,
/// without a device, the report's kind of equipment) in that school, else the school's
/// technician, else nobody (the administrator's queue).
pub async fn route(
    tx: &mut Tx,
    cid: i64,
    school_id: i64,
    category: TicketCategory,
    device_categories: &[String],
    on: NaiveDate,
) -> AppResult<Route> {
    let rule: Option<(Option<i64>, Option<i64>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT assignee_user_id, lot_id FROM routing_rules WHERE collectivite_id = $1 AND (school_id = $2 OR school_id IS NULL) AND (category = $3 OR category IS NULL) ORDER BY CASE WHEN school_id IS NULL THEN 1 ELSE 0 END, CASE WHEN category IS NULL THEN 1 ELSE 0 END, id LIMIT 1")
            .bind(cid).bind(school_id).bind(category.code()).fetch_optional(&mut *c).await?
    });
    if let Some((user, lot)) = rule {
        return Ok(Route {
            assignee_user_id: user,
            lot_id: lot,
            reason: "rule",
        });
    }
    let device_codes: Vec<&str> = device_categories.iter().map(String::as_str).collect();
    for codes in [device_codes.as_slice(), category.device_categories()] {
        if let Some(lot) = contracts::covering_lot(tx, cid, school_id, codes, on).await? {
            return Ok(Route {
                assignee_user_id: None,
                lot_id: Some(lot),
                reason: "perimeter",
            });
        }
    }
    let tech: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT ra.user_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id WHERE ra.role = 'technicien' AND ra.school_id = $1 AND u.active = TRUE ORDER BY ra.user_id LIMIT 1")
            .bind(school_id).fetch_optional(&mut *c).await?
    });
    Ok(Route {
        assignee_user_id: tech,
        lot_id: None,
        reason: if tech.is_some() {
            "school_technician"
        } else {
            "unassigned"
        },
    })
}

/// The terms a ticket counts on: its lot's grid line for its priority and the
/// contract's calendar, or in house the default grid on the school's calendar.
pub(super) struct Terms {
    pub(super) line: SlaLine,
    pub(super) cap_cents: Option<i64>,
    pub(super) calendar: CalendarKind,
    pub(super) hours: String,
}

pub(super) async fn terms(
    tx: &mut Tx,
    cid: i64,
    lot_id: Option<i64>,
    priority: Priority,
) -> AppResult<Terms> {
    let usual = ContractorHours::usual();
    let in_house = || Terms {
        line: contracts::default_grid()
            .into_iter()
            .find(|(p, _)| *p == priority)
            .map(|(_, l)| l)
            .unwrap_or(SlaLine {
                gti: None,
                gtr: None,
                unit: PenaltyUnit::Heure,
                gti_penalty_cents: 0,
                gtr_penalty_cents: 0,
            }),
        cap_cents: None,
        calendar: CalendarKind::Ecole,
        hours: format!("{};08:00;18:00", usual.days_code()),
    };
    let Some(lot_id) = lot_id else {
        return Ok(in_house());
    };
    let (lot, contract) = contracts::lot_in_tx(tx, cid, lot_id).await?;
    let line = contracts::line_in_tx(tx, lot_id, priority)
        .await?
        .unwrap_or(SlaLine {
            gti: None,
            gtr: None,
            unit: PenaltyUnit::Heure,
            gti_penalty_cents: 0,
            gtr_penalty_cents: 0,
        });
    Ok(Terms {
        line,
        cap_cents: lot.cap_ticket_cents,
        calendar: contract.calendar_kind(),
        hours: contract.hours_code(),
    })
}

/// The calendar of a ticket's terms.
pub(super) fn terms_calendar(kind: &str, hours: &str, school: Calendar) -> Calendar {
    match CalendarKind::from_db(kind) {
        CalendarKind::Ecole => school,
        CalendarKind::Prestataire => {
            let mut parts = hours.split(';');
            let (d, s, e) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            ContractorHours::parse(d, s, e)
                .unwrap_or_else(|_| ContractorHours::usual())
                .calendar()
        }
    }
}

/// Opens a ticket: checks where it is (school, room, devices in the caller's reach),
/// routes it, copies the terms, numbers it, and computes its deadlines.
pub async fn open(
    tx: &mut Tx,
    p: &Principal,
    v: &ValidTicket,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let cid = p.collectivite_id;
    // Where: the room gives the school, a device gives both.
    let mut school_id = v.school_id;
    let mut room_id = v.room_id;
    let mut device_categories = Vec::new();
    for d in &v.device_ids {
        let row: Option<(Option<i64>, Option<i64>, String)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT d.school_id, d.room_id, k.code FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.id = $1 AND d.collectivite_id = $2")
                .bind(*d).bind(cid).fetch_optional(&mut *c).await?
        });
        let Some((Some(ds), dr, code)) = row else {
            return Err(FieldError::new("device_ids", "not_in_collectivite").into());
        };
        if school_id.is_some_and(|s| s != ds) {
            return Err(FieldError::new("device_ids", "room_other_school").into());
        }
        school_id = Some(ds);
        if room_id.is_none() {
            room_id = dr;
        }
        device_categories.push(code);
    }
    if let Some(r) = room_id {
        let rs: Option<i64> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT r.school_id FROM rooms r JOIN schools s ON s.id = r.school_id WHERE r.id = $1 AND s.collectivite_id = $2").bind(r).bind(cid).fetch_optional(&mut *c).await?
        });
        match (rs, school_id) {
            (None, _) => return Err(FieldError::new("room_id", "not_in_collectivite").into()),
            (Some(rs), Some(s)) if rs != s => {
                return Err(FieldError::new("room_id", "room_other_school").into());
            }
            (Some(rs), _) => school_id = Some(rs),
        }
    }
    let Some(school_id) = school_id else {
        return Err(FieldError::new("school_id", "required").into());
    };
    let school: Option<(String, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT name, status FROM schools WHERE id = $1 AND collectivite_id = $2").bind(school_id).bind(cid).fetch_optional(&mut *c).await?
    });
    let Some((_school_name, _)) = school else {
        return Err(AppError::NotFound);
    };
    if !p.readable_schools().contains(school_id) {
        return Err(AppError::NotFound);
    }
    if !p.can_report(school_id) {
        return Err(AppError::Forbidden);
    }
    if v.priority == Priority::P4 && !p.can_assign_ticket(school_id) {
        return Err(FieldError::new("priority", "unknown_value").into());
    }
    let today = paris::day(now);
    let route = route(tx, cid, school_id, v.category, &device_categories, today).await?;
    let terms = terms(tx, cid, route.lot_id, v.priority).await?;
    let number: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("UPDATE collectivites SET ticket_seq = ticket_seq + 1 WHERE id = $1 RETURNING ticket_seq").bind(cid).fetch_one(&mut *c).await?
    });
    let room_name: Option<String> = match room_id {
        Some(r) => with_tx!(tx, c => {
            sqlx::query_scalar("SELECT name FROM rooms WHERE id = $1").bind(r).fetch_optional(&mut *c).await?
        }),
        None => None,
    };
    let title = v.title.clone().unwrap_or_else(|| match &room_name {
        Some(r) => format!("{} — {r}", v.category.label(p.lang)),
        None => v.category.label(p.lang).to_string(),
    });
    let search = text::search_key(&format!("{number} {title} {}", v.description));
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO tickets (collectivite_id, number, school_id, room_id, category, priority, status, title, description, reporter_user_id, reporter_name, assignee_user_id, lot_id, sla_gti, sla_gtr, sla_unit, sla_gti_penalty_cents, sla_gtr_penalty_cents, sla_cap_cents, sla_calendar, sla_hours, opened_at, sla_start_at, search_key, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'nouveau', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22, 1, $21) RETURNING id")
            .bind(cid).bind(number).bind(school_id).bind(room_id).bind(v.category.code()).bind(v.priority.code())
            .bind(&title).bind(&v.description).bind((p.user_id != 0).then_some(p.user_id)).bind(&p.display_name)
            .bind(route.assignee_user_id).bind(route.lot_id)
            .bind(terms.line.gti.map(|s| s.code())).bind(terms.line.gtr.map(|s| s.code())).bind(terms.line.unit.code())
            .bind(terms.line.gti_penalty_cents).bind(terms.line.gtr_penalty_cents).bind(terms.cap_cents)
            .bind(terms.calendar.code()).bind(&terms.hours)
            .bind(now).bind(search)
            .fetch_one(&mut *c).await?
    });
    for d in &v.device_ids {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO ticket_devices (ticket_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(*d).execute(&mut *c).await?;
        });
    }
    event(
        tx,
        id,
        p,
        now,
        "created",
        true,
        None,
        json!({"route": route.reason, "lot_id": route.lot_id, "assignee_user_id": route.assignee_user_id}),
    )
    .await?;
    refresh_in_tx(tx, cid, id, now).await?;
    let t = fetch_in_tx(tx, cid, id).await?;
    notify_new(tx, cid, &t, &route, now).await?;
    audit_ticket(
        tx,
        p,
        &t,
        "create",
        json!({"category": [null, t.category], "priority": [null, t.priority], "school_id": [null, t.school_id], "route": [null, route.reason]}), now,
    )
    .await?;
    Ok(t)
}
