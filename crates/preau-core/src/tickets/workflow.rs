//! Working a ticket: take, status, assignment, priority, messages, the school's
//! confirmation and reopening.

use super::*;

/// Takes a new ticket in charge. When two people take it at once, the first wins and
/// the second gets a conflict on `status` that says so.
pub async fn take(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_handle_ticket(t.school_id, t.lot_id) {
        return Err(AppError::Forbidden);
    }
    let me = (p.user_id != 0).then_some(p.user_id);
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET status = 'pris_en_charge', taken_at = COALESCE(taken_at, $1), assignee_user_id = COALESCE($2, assignee_user_id), version = version + 1, updated_at = $1 WHERE id = $3 AND status = 'nouveau'")
            .bind(now).bind(me).bind(id).execute(&mut *c).await?.rows_affected()
    });
    if n != 1 {
        return Err(AppError::Conflict(FieldError::new(
            "status",
            "already_taken",
        )));
    }
    event(tx, id, p, now, "taken", true, None, json!({})).await?;
    refresh_in_tx(tx, p.collectivite_id, id, now).await?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    audit_ticket(tx, p, &after, "update", json!({"status": [t.status, after.status], "assignee_user_id": [t.assignee_user_id, after.assignee_user_id]}), now).await?;
    Ok(after)
}

/// A handler's change of status (with an optional public message): waiting on the
/// school opens a pause, leaving that state closes it; resolving stops the GTR clock.
pub async fn set_status(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    to: TicketStatus,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_handle_ticket(t.school_id, t.lot_id) {
        return Err(AppError::Forbidden);
    }
    let message = text::optional("message", message, 4000)?;
    let from = t.status();
    from.check_move(to)?;
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET status = $1, taken_at = CASE WHEN $2 THEN COALESCE(taken_at, $3) ELSE taken_at END, resolved_at = CASE WHEN $4 THEN $3 ELSE resolved_at END, version = version + 1, updated_at = $3 WHERE id = $5 AND version = $6")
            .bind(to.code()).bind(to.is_taken()).bind(now).bind(to == TicketStatus::Resolu).bind(id).bind(expected_version)
            .execute(&mut *c).await?.rows_affected()
    });
    crate::error::expect_one_row(n)?;
    if from.pauses_clock() && !to.pauses_clock() {
        with_tx!(tx, c => {
            sqlx::query("UPDATE ticket_pauses SET ended_at = $1 WHERE ticket_id = $2 AND ended_at IS NULL").bind(now).bind(id).execute(&mut *c).await?;
        });
    }
    if to.pauses_clock() && !from.pauses_clock() {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO ticket_pauses (ticket_id, started_at, reason) VALUES ($1, $2, $3)").bind(id).bind(now).bind(to.code()).execute(&mut *c).await?;
        });
    }
    event(
        tx,
        id,
        p,
        now,
        "status",
        true,
        message.as_deref(),
        json!({"from": from.code(), "to": to.code()}),
    )
    .await?;
    refresh_in_tx(tx, p.collectivite_id, id, now).await?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    if to == TicketStatus::Resolu {
        notify_resolved(tx, p.collectivite_id, &after, message.as_deref(), now).await?;
    }
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"status": [from.code(), to.code()]}),
        now,
    )
    .await?;
    Ok(after)
}

/// Sends a ticket to a technician or a lot. Changing the lot restarts the clocks on the
/// new lot's terms, from now, as a new ticket for its holder.
pub async fn assign(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    to: Option<Assignee>,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_assign_ticket(t.school_id) {
        return Err(AppError::Forbidden);
    }
    if !t.status().is_open() {
        return Err(FieldError::new("assignee", "ticket_closed").into());
    }
    let cid = p.collectivite_id;
    let (user, lot) = match to {
        None => (None, None),
        Some(Assignee::User(u)) => {
            let ok: Option<i64> = with_tx!(tx, c => {
                sqlx::query_scalar("SELECT u.id FROM users u JOIN role_assignments ra ON ra.user_id = u.id WHERE u.id = $1 AND u.collectivite_id = $2 AND u.active = TRUE AND ra.role IN ('technicien', 'administrateur') LIMIT 1")
                    .bind(u).bind(cid).fetch_optional(&mut *c).await?
            });
            if ok.is_none() {
                return Err(FieldError::new("assignee", "unknown_value").into());
            }
            (Some(u), None)
        }
        Some(Assignee::Lot(l)) => {
            contracts::lot_in_tx(tx, cid, l).await.map_err(|_| {
                AppError::Invalid(vec![FieldError::new("assignee", "unknown_value")])
            })?;
            (None, Some(l))
        }
    };
    if lot != t.lot_id {
        let terms = terms(tx, cid, lot, t.priority()).await?;
        let n = with_tx!(tx, c => {
            sqlx::query("UPDATE tickets SET assignee_user_id = $1, lot_id = $2, status = 'nouveau', taken_at = NULL, sla_gti = $3, sla_gtr = $4, sla_unit = $5, sla_gti_penalty_cents = $6, sla_gtr_penalty_cents = $7, sla_cap_cents = $8, sla_calendar = $9, sla_hours = $10, sla_start_at = $11, version = version + 1, updated_at = $11 WHERE id = $12 AND version = $13")
                .bind(user).bind(lot)
                .bind(terms.line.gti.map(|s| s.code())).bind(terms.line.gtr.map(|s| s.code())).bind(terms.line.unit.code())
                .bind(terms.line.gti_penalty_cents).bind(terms.line.gtr_penalty_cents).bind(terms.cap_cents)
                .bind(terms.calendar.code()).bind(&terms.hours).bind(now).bind(id).bind(expected_version)
                .execute(&mut *c).await?.rows_affected()
        });
        crate::error::expect_one_row(n)?;
        with_tx!(tx, c => {
            sqlx::query("UPDATE ticket_pauses SET ended_at = $1 WHERE ticket_id = $2 AND ended_at IS NULL").bind(now).bind(id).execute(&mut *c).await?;
        });
    } else {
        let n = with_tx!(tx, c => {
            sqlx::query("UPDATE tickets SET assignee_user_id = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
                .bind(user).bind(now).bind(id).bind(expected_version)
                .execute(&mut *c).await?.rows_affected()
        });
        crate::error::expect_one_row(n)?;
    }
    event(
        tx,
        id,
        p,
        now,
        "assigned",
        true,
        None,
        json!({"assignee_user_id": user, "lot_id": lot, "restarted": lot != t.lot_id}),
    )
    .await?;
    refresh_in_tx(tx, cid, id, now).await?;
    let after = fetch_in_tx(tx, cid, id).await?;
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"assignee_user_id": [t.assignee_user_id, user], "lot_id": [t.lot_id, lot]}),
        now,
    )
    .await?;
    Ok(after)
}

/// Changes how bad it is (the reporter may have misjudged): the terms follow the new
/// priority's line, from the ticket's own start.
pub async fn set_priority(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    expected_version: i64,
    to: Priority,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_assign_ticket(t.school_id) {
        return Err(AppError::Forbidden);
    }
    let cid = p.collectivite_id;
    let terms = terms(tx, cid, t.lot_id, to).await?;
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET priority = $1, sla_gti = $2, sla_gtr = $3, sla_unit = $4, sla_gti_penalty_cents = $5, sla_gtr_penalty_cents = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9")
            .bind(to.code()).bind(terms.line.gti.map(|s| s.code())).bind(terms.line.gtr.map(|s| s.code())).bind(terms.line.unit.code())
            .bind(terms.line.gti_penalty_cents).bind(terms.line.gtr_penalty_cents).bind(now).bind(id).bind(expected_version)
            .execute(&mut *c).await?.rows_affected()
    });
    crate::error::expect_one_row(n)?;
    event(
        tx,
        id,
        p,
        now,
        "priority",
        true,
        None,
        json!({"from": t.priority, "to": to.code()}),
    )
    .await?;
    refresh_in_tx(tx, cid, id, now).await?;
    let after = fetch_in_tx(tx, cid, id).await?;
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"priority": [t.priority, to.code()]}),
        now,
    )
    .await?;
    Ok(after)
}

/// A message on a ticket: public (the school reads it) or an internal note between
/// those who handle it.
pub async fn comment(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    body: &str,
    public: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let t = get_in_tx(tx, p, id).await?;
    if !public && !p.can_handle_ticket(t.school_id, t.lot_id) {
        return Err(AppError::Forbidden);
    }
    let body = text::required("body", body, 4000)?;
    event(
        tx,
        id,
        p,
        now,
        if public { "reply" } else { "note" },
        public,
        Some(&body),
        json!({}),
    )
    .await?;
    with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *c).await?;
    });
    audit_ticket(tx, p, &t, "comment", json!({"public": public}), now).await
}

/// The school confirms the fix: the ticket is closed.
pub async fn confirm(tx: &mut Tx, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_confirm_ticket(t.school_id, t.reporter_user_id) {
        return Err(AppError::Forbidden);
    }
    if t.status() != TicketStatus::Resolu {
        return Err(FieldError::new("status", "status_move").into());
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE tickets SET status = 'clos', closed_at = $1, version = version + 1, updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *c).await?;
    });
    event(tx, id, p, now, "confirmed", true, None, json!({})).await?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"status": ["resolu", "clos"]}),
        now,
    )
    .await?;
    Ok(after)
}

/// The school says it is not fixed. The ticket goes back to work; the time it sat
/// resolved counts as a wait, and the GTR clock runs again.
pub async fn reopen(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<Ticket> {
    let t = get_in_tx(tx, p, id).await?;
    if !p.can_confirm_ticket(t.school_id, t.reporter_user_id) {
        return Err(AppError::Forbidden);
    }
    let reason = text::required("reason", reason, 4000)?;
    let Some(resolved_at) = t.resolved_at.filter(|_| !t.status().is_open()) else {
        return Err(FieldError::new("status", "status_move").into());
    };
    with_tx!(tx, c => {
        sqlx::query("INSERT INTO ticket_pauses (ticket_id, started_at, ended_at, reason) VALUES ($1, $2, $3, 'resolu')").bind(id).bind(resolved_at).bind(now).execute(&mut *c).await?;
        sqlx::query("UPDATE tickets SET status = 'en_cours', resolved_at = NULL, closed_at = NULL, version = version + 1, updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(&mut *c).await?;
    });
    event(
        tx,
        id,
        p,
        now,
        "reopened",
        true,
        Some(&reason),
        json!({"from": t.status}),
    )
    .await?;
    refresh_in_tx(tx, p.collectivite_id, id, now).await?;
    let after = fetch_in_tx(tx, p.collectivite_id, id).await?;
    audit_ticket(
        tx,
        p,
        &after,
        "update",
        json!({"status": [t.status, "en_cours"]}),
        now,
    )
    .await?;
    Ok(after)
}
