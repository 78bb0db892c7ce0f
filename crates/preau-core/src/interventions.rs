//! Interventions: a visit planned on one ticket, or on several tickets of one school
//! grouped into one trip, in a window agreed with the school. The technician's and the
//! contractor's week, the school's list, and the private calendar feeds.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use preau_domain::planning::{self, Window};
use preau_domain::ticket::TicketStatus;
use preau_domain::{FieldError, Principal, Role, text};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Param, Sql, Tx};
use crate::error::{AppError, AppResult, Errors};
use crate::{bind_params, jobs, tickets, with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Intervention {
    pub id: i64,
    pub school_id: i64,
    pub school_name: String,
    pub school_address: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub technician_user_id: Option<i64>,
    pub technician_name: Option<String>,
    pub lot_id: Option<i64>,
    pub contractor_name: Option<String>,
    pub status: String,
    pub notes: String,
    pub planned_by: String,
    pub version: i64,
}

/// An intervention with the tickets it handles: `(id, number, title)`.
#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    #[serde(flatten)]
    pub intervention: Intervention,
    pub tickets: Vec<(i64, i64, String)>,
}

const SELECT: &str = "SELECT i.id, i.school_id, s.name AS school_name, s.address AS school_address, i.starts_at, i.ends_at, i.technician_user_id, u.display_name AS technician_name, i.lot_id, k.name AS contractor_name, i.status, i.notes, i.planned_by, i.version FROM interventions i JOIN schools s ON s.id = i.school_id LEFT JOIN users u ON u.id = i.technician_user_id LEFT JOIN lots l ON l.id = i.lot_id LEFT JOIN contracts c ON c.id = l.contract_id LEFT JOIN contractors k ON k.id = c.contractor_id";

/// A visit to plan, as a form or the API sends it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct InterventionInput {
    #[serde(default)]
    pub ticket_ids: Vec<i64>,
    /// Europe/Paris local times: `2026-03-18T09:00`.
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidIntervention {
    pub ticket_ids: Vec<i64>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub notes: String,
}

impl InterventionInput {
    pub fn parse(&self) -> Result<ValidIntervention, AppError> {
        let mut e = Errors::default();
        let time = |field: &str, v: &str| {
            preau_domain::paris::parse(v)
                .or_else(|| {
                    DateTime::parse_from_rfc3339(v.trim())
                        .ok()
                        .map(|t| t.with_timezone(&Utc))
                })
                .ok_or_else(|| {
                    FieldError::new(
                        field,
                        if v.trim().is_empty() {
                            "required"
                        } else {
                            "date_format"
                        },
                    )
                })
        };
        let starts_at = e.check(time("starts_at", &self.starts_at));
        let ends_at = e.check(time("ends_at", &self.ends_at));
        if let (Some(a), Some(b)) = (starts_at, ends_at) {
            if b <= a {
                e.push(FieldError::new("ends_at", "dates_order"));
            } else if b - a > Duration::days(14) {
                e.push(FieldError::new("ends_at", "out_of_range"));
            }
        }
        let notes = e.check(text::optional("notes", self.notes.as_deref(), 2000));
        if self.ticket_ids.is_empty() {
            e.push(FieldError::new("ticket_ids", "required"));
        }
        if self.ticket_ids.len() > 30 {
            e.push(FieldError::new("ticket_ids", "too_many"));
        }
        e.finish()?;
        match (starts_at, ends_at, notes) {
            (Some(starts_at), Some(ends_at), Some(notes)) => Ok(ValidIntervention {
                ticket_ids: self.ticket_ids.clone(),
                starts_at,
                ends_at,
                notes: notes.unwrap_or_default(),
            }),
            _ => Err(FieldError::new("intervention", "invalid").into()),
        }
    }
}

fn when(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let a = preau_domain::paris::local(start);
    let b = preau_domain::paris::local(end);
    if a.date_naive() == b.date_naive() {
        format!(
            "le {} de {} à {}",
            a.format("%d/%m/%Y"),
            a.format("%H:%M"),
            b.format("%H:%M")
        )
    } else {
        format!(
            "du {} au {}",
            a.format("%d/%m/%Y %H:%M"),
            b.format("%d/%m/%Y %H:%M")
        )
    }
}

/// Plans a visit on tickets of one school, all of them the caller's to handle and still
/// open. The tickets move to « intervention planifiée », the school reads when, and its
/// head and the reporters are told by e-mail.
pub async fn plan(
    tx: &mut Tx,
    p: &Principal,
    v: &ValidIntervention,
    now: DateTime<Utc>,
) -> AppResult<Visit> {
    let cid = p.collectivite_id;
    let mut school = None;
    let mut lot = None;
    let mut list = Vec::new();
    for id in &v.ticket_ids {
        let t = tickets::get_in_tx(tx, p, *id).await?;
        if !p.can_handle_ticket(t.school_id, t.lot_id) {
            return Err(AppError::Forbidden);
        }
        if !t.status().is_open() {
            return Err(FieldError::new("ticket_ids", "ticket_closed").into());
        }
        if school.is_some_and(|s| s != t.school_id) {
            return Err(FieldError::new("ticket_ids", "one_school").into());
        }
        school = Some(t.school_id);
        lot = lot.or(t.lot_id);
        list.push(t);
    }
    let Some(school) = school else {
        return Err(FieldError::new("ticket_ids", "required").into());
    };
    let technician = if p.has(Role::Technicien) || p.is_admin() {
        (p.user_id != 0).then_some(p.user_id)
    } else {
        None
    };
    let technician = list
        .iter()
        .find_map(|t| t.assignee_user_id)
        .filter(|_| lot.is_none())
        .or(technician);
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO interventions (collectivite_id, school_id, starts_at, ends_at, technician_user_id, lot_id, status, notes, planned_by, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'planifiee', $7, $8, 1, $9, $9) RETURNING id")
            .bind(cid).bind(school).bind(v.starts_at).bind(v.ends_at).bind(technician).bind(lot)
            .bind(&v.notes).bind(&p.display_name).bind(now)
            .fetch_one(&mut *c).await?
    });
    let words = when(v.starts_at, v.ends_at);
    let mut reporters = Vec::new();
    for t in &list {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO intervention_tickets (intervention_id, ticket_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(t.id).execute(&mut *c).await?;
        });
        if t.status().handler_moves().contains(&TicketStatus::Planifie)
            && t.status() != TicketStatus::Planifie
        {
            tickets::set_status(
                tx,
                p,
                t.id,
                t.version,
                TicketStatus::Planifie,
                Some(&format!("Intervention prévue {words}.")),
                now,
            )
            .await?;
        }
        reporters.extend(jobs::address_of(tx, t.reporter_user_id).await?);
    }
    let mut to = jobs::addresses(tx, cid, "directeur", Some(school)).await?;
    to.extend(reporters);
    let school_name = list
        .first()
        .map(|t| t.school_name.clone())
        .unwrap_or_default();
    let numbers = list
        .iter()
        .map(|t| format!("n° {}", t.number))
        .collect::<Vec<_>>()
        .join(", ");
    jobs::enqueue_mail(
        tx,
        cid,
        &to,
        &format!("Intervention prévue {words} — {school_name}"),
        &format!(
            "Bonjour,\n\nUne intervention est prévue {words} à l'école {school_name}, pour le(s) signalement(s) {numbers}.\n{}\nMerci de prévoir l'accès aux salles concernées.",
            if v.notes.is_empty() { String::new() } else { format!("\n{}\n", v.notes) }
        ),
        Some(&format!("/tickets/{}", list[0].id)),
        now,
    )
    .await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "intervention",
            object_id: id,
            object_label: &format!("Intervention {words} — {school_name}"),
            changes: json!({"tickets": v.ticket_ids, "starts_at": v.starts_at, "ends_at": v.ends_at}),
        },
    )
    .await?;
    get_in_tx(tx, cid, id).await
}

async fn get_in_tx(tx: &mut Tx, cid: i64, id: i64) -> AppResult<Visit> {
    let sql = format!("{SELECT} WHERE i.id = $1 AND i.collectivite_id = $2");
    let i = with_tx!(tx, c => {
        sqlx::query_as::<_, Intervention>(sqlx::AssertSqlSafe(sql)).bind(id).bind(cid).fetch_optional(&mut *c).await?
    })
    .ok_or(AppError::NotFound)?;
    let tickets: Vec<(i64, i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT t.id, t.number, t.title FROM intervention_tickets it JOIN tickets t ON t.id = it.ticket_id WHERE it.intervention_id = $1 ORDER BY t.number").bind(id).fetch_all(&mut *c).await?
    });
    Ok(Visit {
        intervention: i,
        tickets,
    })
}

/// Whether the caller sees an intervention: the school's people (head, technician),
/// the contractor holding its lot, the administrator.
fn may_read(p: &Principal, i: &Intervention) -> bool {
    p.is_admin()
        || i.lot_id.is_some_and(|l| p.lots.contains(&l))
        || p.assignments.iter().any(|a| {
            matches!(a.role, Role::Technicien | Role::Directeur) && a.school_id == Some(i.school_id)
        })
}

/// For each planned visit, the other planned visits of the same person (the same
/// technician, or the same contractor's lot) whose times overlap it: nobody is in two
/// places at once, and two visits at one school at the same hour are one trip.
pub fn overlaps(visits: &[Visit]) -> std::collections::HashMap<i64, Vec<i64>> {
    let planned: Vec<&Intervention> = visits
        .iter()
        .map(|v| &v.intervention)
        .filter(|i| i.status == "planifiee")
        .collect();
    let same_person = |a: &Intervention, b: &Intervention| {
        (a.technician_user_id.is_some() && a.technician_user_id == b.technician_user_id)
            || (a.lot_id.is_some() && a.lot_id == b.lot_id)
    };
    let mut out: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for (n, a) in planned.iter().enumerate() {
        for b in &planned[n + 1..] {
            if same_person(a, b) && a.starts_at < b.ends_at && b.starts_at < a.ends_at {
                out.entry(a.id).or_default().push(b.id);
                out.entry(b.id).or_default().push(a.id);
            }
        }
    }
    out
}

/// Which interventions to list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InterventionFilter {
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub school_id: Option<i64>,
    /// `user:N`, `lot:N`, or `me`.
    #[serde(default)]
    pub who: Option<String>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub ticket_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub cancelled: Option<bool>,
}

/// The interventions the caller may see between `from` and `to`, in time order.
pub async fn list(
    db: &Db,
    p: &Principal,
    f: &InterventionFilter,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Visit>> {
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE i.collectivite_id = ")
        .bind(Param::I64(p.collectivite_id))
        .push(" AND i.ends_at > ")
        .bind(Param::Time(from))
        .push(" AND i.starts_at < ")
        .bind(Param::Time(to));
    if f.cancelled != Some(true) {
        sql.push(" AND i.status <> 'annulee'");
    }
    if let Some(s) = f.school_id {
        sql.push(" AND i.school_id = ").bind(Param::I64(s));
    }
    if let Some(t) = f.ticket_id {
        sql.push(
            " AND i.id IN (SELECT intervention_id FROM intervention_tickets WHERE ticket_id = ",
        )
        .bind(Param::I64(t))
        .push(")");
    }
    match f.who.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        None => {}
        Some("me") => {
            sql.push(" AND (i.technician_user_id = ")
                .bind(Param::I64(p.user_id))
                .push(" OR i.lot_id IN ")
                .bind_list(&p.lots)
                .push(")");
        }
        Some(w) => match preau_domain::ticket::Assignee::parse("who", w)? {
            Some(preau_domain::ticket::Assignee::User(u)) => {
                sql.push(" AND i.technician_user_id = ").bind(Param::I64(u));
            }
            Some(preau_domain::ticket::Assignee::Lot(l)) => {
                sql.push(" AND i.lot_id = ").bind(Param::I64(l));
            }
            None => {}
        },
    }
    sql.push(" ORDER BY i.starts_at, i.id LIMIT 2000");
    let rows: Vec<Intervention> = with_db!(db, pool => {
        bind_params!(sqlx::query_as::<_, Intervention>(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(pool).await?
    });
    let rows: Vec<Intervention> = rows.into_iter().filter(|i| may_read(p, i)).collect();
    let ids: Vec<i64> = rows.iter().map(|i| i.id).collect();
    let mut links: Vec<(i64, i64, i64, String)> = Vec::new();
    for chunk in ids.chunks(500) {
        let mut q = Sql::new(
            "SELECT it.intervention_id, t.id, t.number, t.title FROM intervention_tickets it JOIN tickets t ON t.id = it.ticket_id WHERE it.intervention_id IN ",
        );
        q.bind_list(chunk).push(" ORDER BY t.number");
        let part: Vec<(i64, i64, i64, String)> = with_db!(db, pool => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(q.text.clone())), &q.params).fetch_all(pool).await?
        });
        links.extend(part);
    }
    Ok(rows
        .into_iter()
        .map(|i| Visit {
            tickets: links
                .iter()
                .filter(|l| l.0 == i.id)
                .map(|l| (l.1, l.2, l.3.clone()))
                .collect(),
            intervention: i,
        })
        .collect())
}

/// Marks a visit done or cancelled (the handler who may work its tickets).
pub async fn set_status(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    status: &str,
    now: DateTime<Utc>,
) -> AppResult<Visit> {
    let cid = p.collectivite_id;
    let v = get_in_tx(tx, cid, id).await?;
    if !may_read(p, &v.intervention) {
        return Err(AppError::NotFound);
    }
    if !p.can_handle_ticket(v.intervention.school_id, v.intervention.lot_id) {
        return Err(AppError::Forbidden);
    }
    let status = match status {
        "realisee" | "annulee" | "planifiee" => status,
        _ => return Err(FieldError::new("status", "unknown_value").into()),
    };
    // A visit planned for later cannot be done yet: it is moved, or marked once begun.
    if status == "realisee" && v.intervention.starts_at > now {
        return Err(FieldError::new("status", "visit_not_started")
            .with_detail(preau_domain::paris::display(v.intervention.starts_at))
            .into());
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE interventions SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3").bind(status).bind(now).bind(id).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "update",
            object_type: "intervention",
            object_id: id,
            object_label: &format!("Intervention — {}", v.intervention.school_name),
            changes: json!({"status": [v.intervention.status, status]}),
        },
    )
    .await?;
    get_in_tx(tx, cid, id).await
}

/// The windows to propose for a ticket's school over the next `days` days.
pub async fn windows_for(
    db: &Db,
    p: &Principal,
    ticket: &tickets::Ticket,
    from: NaiveDate,
    days: i64,
    heavy: bool,
) -> AppResult<Vec<Window>> {
    if !p.can_handle_ticket(ticket.school_id, ticket.lot_id) {
        return Err(AppError::Forbidden);
    }
    let cal = crate::calendar::of_school(db, ticket.school_id).await?;
    Ok(planning::windows(&cal, from, days, heavy, 30))
}

/// Creates a private calendar feed for the caller and returns its secret token (shown
/// once; only its hash is kept).
pub async fn create_feed(tx: &mut Tx, p: &Principal, now: DateTime<Utc>) -> AppResult<String> {
    if p.user_id == 0 || !p.can_read_planning() {
        return Err(AppError::Forbidden);
    }
    let token = format!("cal_{}", crate::secrets::random_token());
    with_tx!(tx, c => {
        sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1").bind(p.user_id).execute(&mut *c).await?;
        sqlx::query("INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3)").bind(p.user_id).bind(crate::secrets::token_hash(&token)).bind(now).execute(&mut *c).await?;
    });
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "calendar_feed",
            object_id: p.user_id,
            object_label: &p.login,
            changes: json!({}),
        },
    )
    .await?;
    Ok(token)
}

/// Whether the caller has a feed.
pub async fn has_feed(db: &Db, p: &Principal) -> AppResult<bool> {
    let n: i64 = with_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM calendar_feeds WHERE user_id = $1").bind(p.user_id).fetch_one(pool).await?
    });
    Ok(n > 0)
}

/// The interventions a feed's token shows: its owner's own (as technician, or its
/// lots'), from a month back to six months ahead. `None` for an unknown token.
pub async fn feed(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<(Principal, Vec<Visit>)>> {
    let user: Option<i64> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT user_id FROM calendar_feeds WHERE token_hash = $1").bind(crate::secrets::token_hash(token)).fetch_optional(pool).await?
    });
    let Some(user) = user else {
        return Ok(None);
    };
    let Some(p) = crate::users::principal(db, user).await? else {
        return Ok(None);
    };
    let f = InterventionFilter {
        who: (!p.is_admin() && !p.has(Role::Directeur)).then(|| "me".to_string()),
        ..Default::default()
    };
    let visits = list(
        db,
        &p,
        &f,
        now - Duration::days(31),
        now + Duration::days(183),
    )
    .await?;
    Ok(Some((p, visits)))
}
