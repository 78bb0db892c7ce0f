//! The ticket queue: filters written from `Principal::ticket_reach`, pages and counts.

use super::*;

/// What a list is filtered on (the queue page and `/api/v1/tickets` alike).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TicketFilter {
    /// `open` (the default), `all`, or one status code.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub school_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub room_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub device_id: Option<i64>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// `me`, `none`, `user:N`, `lot:N`.
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub breached: Option<bool>,
    /// Open tickets whose deadline is near (a quarter of the time left, or less).
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub at_risk: Option<bool>,
    #[serde(default, deserialize_with = "text::opt_bool")]
    pub mine: Option<bool>,
    #[serde(default)]
    pub q: Option<String>,
    /// `deadline` (the next deadline first), `recent` (the newest first, the default),
    /// `priority`, `school`, `status` or `updated` (see [`TicketSort`]).
    #[serde(default)]
    pub sort: Option<String>,
}

/// A page of tickets, newest first, and the cursor of the next one.
#[derive(Debug, Clone, Serialize)]
pub struct TicketPage {
    pub items: Vec<Ticket>,
    pub next: Option<i64>,
}

impl TicketFilter {
    fn to_sql(&self, p: &Principal, backend: Backend) -> AppResult<Sql> {
        let mut f = Sql::new(" WHERE t.collectivite_id = ");
        f.bind(Param::I64(p.collectivite_id));
        let reach = p.ticket_reach();
        if !reach.all {
            // Only the parts of the reach that apply are written, so that each can use its
            // index (a teacher's list is read from the reporter index).
            // A broad reach (a technician's 23 schools, a contractor's lots) is most of
            // the history: its terms are written `+col` so that SQLite walks the open or
            // id index in order instead of gathering every match of the school index and
            // sorting them (PostgreSQL reads `+` as the identity it is). A narrow one (a
            // teacher, a head) is the few ids its own indexes give.
            // PostgreSQL combines the indexes of an OR by itself (a bitmap OR): the plain
            // OR serves it for every reach; the `+col` and the ids are SQLite's.
            let pg = backend == Backend::Postgres;
            let broad = reach.schools.len() > 3 || !reach.lots.is_empty() || pg;
            if broad {
                let mut parts = 0;
                f.push(" AND (");
                if !reach.schools.is_empty() {
                    f.push(if pg {
                        "t.school_id IN "
                    } else {
                        "+t.school_id IN "
                    })
                    .bind_list(&reach.schools);
                    parts += 1;
                }
                if let Some(me) = reach.reporter {
                    f.push(if parts > 0 { " OR " } else { "" })
                        .push(if pg {
                            "t.reporter_user_id = "
                        } else {
                            "+t.reporter_user_id = "
                        })
                        .bind(Param::I64(me));
                    parts += 1;
                }
                if !reach.lots.is_empty() {
                    f.push(if parts > 0 { " OR " } else { "" })
                        .push(if pg { "t.lot_id IN " } else { "+t.lot_id IN " })
                        .bind_list(&reach.lots);
                    parts += 1;
                }
                if parts == 0 {
                    f.push("FALSE");
                }
                f.push(")");
            } else {
                // Narrow: the ids its indexes give (a head's school, what it reported).
                f.push(" AND t.id IN (");
                let mut parts = 0;
                if !reach.schools.is_empty() {
                    f.push("SELECT id FROM tickets WHERE school_id IN ")
                        .bind_list(&reach.schools);
                    parts += 1;
                }
                if let Some(me) = reach.reporter {
                    f.push(if parts > 0 { " UNION " } else { "" })
                        .push("SELECT id FROM tickets WHERE reporter_user_id = ")
                        .bind(Param::I64(me));
                    parts += 1;
                }
                if parts == 0 {
                    f.push("SELECT NULL");
                }
                f.push(")");
            }
        }
        match self.status.as_deref().filter(|s| !s.is_empty()) {
            None | Some("open") => {
                // `is_open` is derived from the status; its index is in ticket order.
                f.push(" AND t.is_open = TRUE");
            }
            Some("all") => {}
            Some(s) => {
                let st = TicketStatus::parse("status", s)?;
                f.push(" AND t.status = ")
                    .bind(Param::Text(st.code().into()));
            }
        }
        if let Some(id) = self.school_id {
            f.push(" AND t.school_id = ").bind(Param::I64(id));
        }
        if let Some(id) = self.room_id {
            f.push(" AND t.room_id = ").bind(Param::I64(id));
        }
        if let Some(id) = self.device_id {
            f.push(" AND t.id IN (SELECT ticket_id FROM ticket_devices WHERE device_id = ")
                .bind(Param::I64(id))
                .push(")");
        }
        if let Some(pr) = self.priority.as_deref().filter(|s| !s.is_empty()) {
            let pr = Priority::parse("priority", pr)?;
            f.push(" AND t.priority = ")
                .bind(Param::Text(pr.code().into()));
        }
        if let Some(c) = self.category.as_deref().filter(|s| !s.is_empty()) {
            let c = TicketCategory::parse("category", c)?;
            f.push(" AND t.category = ")
                .bind(Param::Text(c.code().into()));
        }
        match self
            .assignee
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => {}
            Some("me") => {
                f.push(" AND (t.assignee_user_id = ")
                    .bind(Param::I64(p.user_id))
                    .push(" OR (t.assignee_user_id IS NULL AND t.lot_id IN ")
                    .bind_list(&p.lots)
                    .push("))");
            }
            Some("none") => {
                f.push(" AND t.assignee_user_id IS NULL AND t.lot_id IS NULL");
            }
            Some(other) => match Assignee::parse("assignee", other)? {
                Some(Assignee::User(u)) => {
                    f.push(" AND t.assignee_user_id = ").bind(Param::I64(u));
                }
                Some(Assignee::Lot(l)) => {
                    f.push(" AND t.lot_id = ").bind(Param::I64(l));
                }
                None => {}
            },
        }
        if self.breached == Some(true) {
            f.push(" AND (t.gti_breached = TRUE OR t.gtr_breached = TRUE)");
        }
        if self.at_risk == Some(true) {
            f.push(" AND t.at_risk = TRUE");
        }
        if self.mine == Some(true) {
            f.push(" AND t.reporter_user_id = ")
                .bind(Param::I64(p.user_id));
        }
        if let Some(q) = self
            .q
            .as_deref()
            .map(text::search_key)
            .filter(|q| !q.is_empty())
        {
            f.push(" AND t.search_key ").bind_contains(&q);
        }
        Ok(f)
    }
}

/// The deadline that matters now: the response's (GTI) until someone takes the ticket,
/// then the fix's (GTR); `None` when no contract sets one.
pub fn next_deadline(t: &Ticket) -> Option<DateTime<Utc>> {
    match (t.taken_at, t.gti_due_at) {
        (None, Some(gti)) => Some(gti),
        _ => t.gtr_due_at,
    }
}

/// The working time left, in minutes, before the next deadline, counted on the
/// contract's calendar (the school's, or the contractor's hours); `None` when no deadline
/// is set or it has passed.
pub fn time_left(t: &Ticket, school: &Calendar, now: DateTime<Utc>) -> Option<i64> {
    let due = next_deadline(t).filter(|d| *d > now)?;
    let cal = open::terms_calendar(&t.sla_calendar, &t.sla_hours, school.clone());
    Some(cal.working_minutes(now, due))
}

/// The same, in SQL.
macro_rules! deadline {
    () => {
        "(CASE WHEN t.taken_at IS NULL AND t.gti_due_at IS NOT NULL THEN t.gti_due_at ELSE t.gtr_due_at END)"
    };
}

/// Tickets the caller may read by their next deadline (the nearest, or the most overdue,
/// first; those without one last, by number); `after` is the cursor the previous page
/// gave (`{deadline}~{id}`).
pub async fn by_deadline(
    db: &Db,
    p: &Principal,
    f: &TicketFilter,
    after: Option<&str>,
    limit: i64,
) -> AppResult<(Vec<Ticket>, Option<String>)> {
    if !p.can_use_tickets() {
        return Err(AppError::Forbidden);
    }
    let mut sql = f.to_sql(p, db.backend())?;
    if let Some(cursor) = after {
        let bad = || AppError::from(FieldError::new("after", "unknown_value"));
        let (due, id) = cursor.rsplit_once('~').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        if due.is_empty() {
            sql.push(concat!(" AND ", deadline!(), " IS NULL AND t.id > "))
                .bind(Param::I64(id));
        } else {
            let due = DateTime::parse_from_rfc3339(due)
                .map_err(|_| bad())?
                .with_timezone(&Utc);
            sql.push(concat!(
                " AND (",
                deadline!(),
                " IS NULL OR ",
                deadline!(),
                " > "
            ))
            .bind(Param::Time(due))
            .push(concat!(" OR (", deadline!(), " = "))
            .bind(Param::Time(due))
            .push(" AND t.id > ")
            .bind(Param::I64(id))
            .push("))");
        }
    }
    sql.push(concat!(
        " ORDER BY CASE WHEN ",
        deadline!(),
        " IS NULL THEN 1 ELSE 0 END, ",
        deadline!(),
        ", t.id"
    ))
    .limit_plus_one(limit);
    let text = format!("{SELECT}{}", sql.text);
    let mut items: Vec<Ticket> = with_db!(db, pool => {
        bind_params!(sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(text)), &sql.params).fetch_all(pool).await?
    });
    let next = more_than(&mut items, limit)
        .then(|| {
            items.last().map(|t| {
                let due = next_deadline(t)
                    .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                    .unwrap_or_default();
                format!("{due}~{}", t.id)
            })
        })
        .flatten();
    Ok((items.into_iter().map(|t| t.redacted_for(p)).collect(), next))
}

/// The orders a list of tickets comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketSort {
    /// The next deadline first (see [`by_deadline`]); `due` in the API.
    Deadline,
    /// The newest first (see [`list`]).
    Recent,
    /// P1 first, then by deadline.
    Priority,
    /// By school name, the newest first within a school.
    School,
    /// As a ticket moves: new first, closed last.
    Status,
    /// The last changed first; `-updated` in the API.
    Updated,
}

impl TicketSort {
    pub const ALL: [TicketSort; 6] = [
        TicketSort::Deadline,
        TicketSort::Priority,
        TicketSort::School,
        TicketSort::Status,
        TicketSort::Updated,
        TicketSort::Recent,
    ];

    pub fn parse(s: &str) -> Option<TicketSort> {
        Some(match s.trim() {
            "deadline" | "due" => TicketSort::Deadline,
            "recent" | "-opened" => TicketSort::Recent,
            "priority" => TicketSort::Priority,
            "school" => TicketSort::School,
            "status" => TicketSort::Status,
            "updated" | "-updated" => TicketSort::Updated,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            TicketSort::Deadline => "deadline",
            TicketSort::Recent => "recent",
            TicketSort::Priority => "priority",
            TicketSort::School => "school",
            TicketSort::Status => "status",
            TicketSort::Updated => "updated",
        }
    }

    /// Whether pages go by offset (the orders without a cursor of their own).
    pub fn by_offset(self) -> bool {
        !matches!(self, TicketSort::Deadline | TicketSort::Recent)
    }
}

/// The furthest a list by offset goes: past it, narrow the filter.
pub const MAX_OFFSET: i64 = 10_000;

/// Tickets the caller may read in one of the orders paged by offset (priority, school,
/// status, last change); the second value is the next page's offset.
pub async fn sorted(
    db: &Db,
    p: &Principal,
    f: &TicketFilter,
    sort: TicketSort,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<Ticket>, Option<i64>)> {
    if !p.can_use_tickets() {
        return Err(AppError::Forbidden);
    }
    if !(0..=MAX_OFFSET).contains(&offset) {
        return Err(FieldError::new("offset", "unknown_value").into());
    }
    let mut sql = f.to_sql(p, db.backend())?;
    let order = match sort {
        TicketSort::Priority => concat!(
            " ORDER BY t.priority, CASE WHEN ",
            deadline!(),
            " IS NULL THEN 1 ELSE 0 END, ",
            deadline!(),
            ", t.id"
        ),
        TicketSort::School => " ORDER BY s.search_key, t.school_id, t.id DESC",
        TicketSort::Status => {
            " ORDER BY CASE t.status WHEN 'nouveau' THEN 0 WHEN 'pris_en_charge' THEN 1 WHEN 'planifie' THEN 2 WHEN 'en_cours' THEN 3 WHEN 'attente_ecole' THEN 4 WHEN 'attente_piece' THEN 5 WHEN 'attente_prestataire' THEN 6 WHEN 'resolu' THEN 7 ELSE 8 END, t.id DESC"
        }
        TicketSort::Updated => " ORDER BY t.updated_at DESC, t.id DESC",
        TicketSort::Deadline | TicketSort::Recent => {
            return Err(FieldError::new("sort", "unknown_value").into());
        }
    };
    sql.push(order).limit_plus_one(limit);
    sql.push(" OFFSET ").bind(Param::I64(offset));
    let text = format!("{SELECT}{}", sql.text);
    let mut items: Vec<Ticket> = with_db!(db, pool => {
        bind_params!(sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(text)), &sql.params).fetch_all(pool).await?
    });
    let next =
        (more_than(&mut items, limit) && offset + limit <= MAX_OFFSET).then_some(offset + limit);
    Ok((items.into_iter().map(|t| t.redacted_for(p)).collect(), next))
}

/// Tickets the caller may read, newest first; `before` is the cursor (a ticket id).
pub async fn list(
    db: &Db,
    p: &Principal,
    f: &TicketFilter,
    before: Option<i64>,
    limit: i64,
) -> AppResult<TicketPage> {
    if !p.can_use_tickets() {
        return Err(AppError::Forbidden);
    }
    let mut sql = f.to_sql(p, db.backend())?;
    if let Some(b) = before {
        sql.push(" AND t.id < ").bind(Param::I64(b));
    }
    sql.push(" ORDER BY t.id DESC").limit_plus_one(limit);
    let text = format!("{SELECT}{}", sql.text);
    let mut items: Vec<Ticket> = with_db!(db, pool => {
        bind_params!(sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(text)), &sql.params).fetch_all(pool).await?
    });
    let next = more_than(&mut items, limit)
        .then(|| items.last().map(|t| t.id))
        .flatten();
    Ok(TicketPage {
        items: items.into_iter().map(|t| t.redacted_for(p)).collect(),
        next,
    })
}

/// Counting stops here: past it the queue says « plus de 10 000 ».
pub const COUNT_CAP: i64 = 10_000;

/// How many tickets match (the queue's heading), counted on the same filter, up to
/// `COUNT_CAP` + 1 so that a large history never makes the queue slow.
pub async fn count(db: &Db, p: &Principal, f: &TicketFilter) -> AppResult<i64> {
    if !p.can_use_tickets() {
        return Err(AppError::Forbidden);
    }
    let mut sql = f.to_sql(p, db.backend())?;
    sql.push(" LIMIT ").bind(Param::I64(COUNT_CAP + 1));
    let text = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM tickets t{}) AS matching",
        sql.text
    );
    Ok(with_db!(db, pool => {
        bind_params!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(text)), &sql.params).fetch_one(pool).await?
    }))
}
