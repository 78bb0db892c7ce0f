//! The periodic pass: clocks refreshed, at-risk and breached tickets escalated, resolved
//! tickets closed after the school's delay.

use super::*;

/// What the periodic pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tick {
    pub closed: usize,
    pub escalated: usize,
    pub refreshed: usize,
}

/// The periodic pass (every few minutes from `preau serve`; tests call it with the
/// instant they want): refreshes the clocks of open tickets, escalates those newly at
/// risk or breached, and closes the tickets resolved N school days ago that the school
/// did not confirm.
pub async fn tick(db: &Db, now: DateTime<Utc>) -> AppResult<Tick> {
    let mut out = Tick::default();
    // Computed outside any transaction; only the tickets whose stored deadlines or flags
    // change are written, so that the pass never holds the writer for long.
    let sql = format!("{SELECT} WHERE t.is_open = TRUE ORDER BY t.id");
    let open: Vec<Ticket> = with_db!(db, pool => {
        sqlx::query_as::<_, Ticket>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
    });
    let calendars = calendar::by_school(db, None).await?;
    let pauses: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = with_db!(db, pool => {
        sqlx::query_as("SELECT p.ticket_id, p.started_at, p.ended_at FROM ticket_pauses p JOIN tickets t ON t.id = p.ticket_id WHERE t.is_open = TRUE ORDER BY p.started_at").fetch_all(pool).await?
    });
    let mut by_ticket: std::collections::HashMap<i64, Vec<Pause>> = Default::default();
    for (t, a, b) in pauses {
        by_ticket.entry(t).or_default().push((a, b));
    }
    let mut changed = Vec::new();
    for t in &open {
        let Some(cal) = calendars.get(&t.school_id) else {
            continue;
        };
        let c = clocks_of(
            t,
            cal,
            by_ticket.get(&t.id).map(Vec::as_slice).unwrap_or(&[]),
            now,
        );
        let breached = |s: &Option<sla::ClockState>| s.as_ref().is_some_and(|s| s.breached);
        let risk =
            c.gti.as_ref().is_some_and(|s| s.at_risk) || c.gtr.as_ref().is_some_and(|s| s.at_risk);
        let same = c.gti.as_ref().map(|s| s.due) == t.gti_due_at
            && c.gtr.as_ref().map(|s| s.due) == t.gtr_due_at
            && breached(&c.gti) == t.gti_breached
            && breached(&c.gtr) == t.gtr_breached
            && risk == t.at_risk;
        out.refreshed += 1;
        if !same {
            let newly_breached =
                (breached(&c.gti) || breached(&c.gtr)) && !(t.gti_breached || t.gtr_breached);
            let newly_at_risk = risk && !t.at_risk && t.escalated_at.is_none();
            changed.push((
                t.id,
                t.collectivite_id,
                t.version,
                c,
                newly_breached,
                newly_at_risk,
            ));
        }
    }
    for chunk in changed.chunks(200) {
        let n = crate::write_tx!(db, tx => {
            let mut escalated = 0;
            for (id, cid, version, clocks, newly_breached, newly_at_risk) in chunk {
                // Changed meanwhile (taken, resolved…): its own change recomputed it.
                let still: Option<i64> = with_tx!(tx, c => {
                    sqlx::query_scalar("SELECT id FROM tickets WHERE id = $1 AND version = $2 AND is_open = TRUE").bind(*id).bind(*version).fetch_optional(&mut *c).await?
                });
                if still.is_none() {
                    continue;
                }
                store_clocks(tx, *id, clocks).await?;
                if *newly_breached || *newly_at_risk {
                    let breached = *newly_breached;
                    with_tx!(tx, c => {
                        sqlx::query("UPDATE tickets SET escalated_at = $1 WHERE id = $2").bind(now).bind(*id).execute(&mut *c).await?;
                        sqlx::query("INSERT INTO ticket_events (ticket_id, occurred_at, actor_user_id, actor_name, kind, public, body, detail) VALUES ($1, $2, NULL, 'Préau', 'escalated', FALSE, NULL, $3)")
                            .bind(*id).bind(now).bind(json!({"breached": breached, "at_risk": *newly_at_risk}).to_string()).execute(&mut *c).await?;
                    });
                    notify_escalated(tx, *cid, *id, breached, now).await?;
                    escalated += 1;
                }
            }
            escalated
        })?;
        out.escalated += n;
    }
    let resolved: Vec<(i64, i64, DateTime<Utc>, i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT t.id, t.collectivite_id, t.resolved_at, t.school_id, c.auto_close_days FROM tickets t JOIN collectivites c ON c.id = t.collectivite_id WHERE t.status = 'resolu' AND t.resolved_at IS NOT NULL ORDER BY t.id").fetch_all(pool).await?
    });
    let mut due = Vec::new();
    for (id, cid, at, school, days) in resolved {
        let Some(cal) = calendars.get(&school) else {
            continue;
        };
        if cal.deadline(at, Span::Days(days.max(1)), &[]) <= now {
            due.push((id, cid));
        }
    }
    for chunk in due.chunks(200) {
        crate::write_tx!(db, tx => {
            for (id, cid) in chunk {
                let n = with_tx!(tx, c => {
                    sqlx::query("UPDATE tickets SET status = 'clos', closed_at = $1, version = version + 1, updated_at = $1 WHERE id = $2 AND status = 'resolu'").bind(now).bind(*id).execute(&mut *c).await?.rows_affected()
                });
                if n == 1 {
                    with_tx!(tx, c => {
                        sqlx::query("INSERT INTO ticket_events (ticket_id, occurred_at, actor_user_id, actor_name, kind, public, body, detail) VALUES ($1, $2, NULL, 'Préau', 'closed_auto', TRUE, NULL, '{}')")
                            .bind(*id).bind(now).execute(&mut *c).await?;
                    });
                    let actor = Actor::system("préau", *cid);
                    audit::record(tx, &actor, now, Entry { action: "update", object_type: "ticket", object_id: *id, object_label: "fermeture automatique", changes: json!({"status": ["resolu", "clos"]}) }).await?;
                }
            }
        })?;
        out.closed += chunk.len();
    }
    Ok(out)
}
