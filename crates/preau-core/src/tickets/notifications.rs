//! The e-mails a ticket sends, queued in the change's own transaction.

use super::*;

/// Tells whoever got a new ticket: the technician, the contractor's staff for a lot,
/// the administrators when nobody was found.
pub(super) async fn notify_new(
    tx: &mut Tx,
    cid: i64,
    t: &Ticket,
    route: &Route,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let to = match (route.lot_id, route.assignee_user_id) {
        (Some(l), _) => jobs::lot_addresses(tx, l).await?,
        (None, Some(_)) => jobs::address_of(tx, route.assignee_user_id).await?,
        (None, None) => jobs::addresses(tx, cid, "administrateur", None).await?,
    };
    let due = t
        .gti_due_at
        .map(|d| format!("\nÀ prendre en charge avant le {}.", paris_words(d)))
        .unwrap_or_default();
    let place = match &t.room_name {
        Some(r) => format!("{}, {r}", t.school_name),
        None => t.school_name.clone(),
    };
    let quote = if t.description.is_empty() {
        String::new()
    } else {
        format!("\n« {} »\n", t.description)
    };
    jobs::enqueue_mail(
        tx,
        cid,
        &to,
        &format!(
            "Nouveau signalement n° {} — {} — {}",
            t.number,
            t.school_name,
            t.category().label(preau_domain::Lang::Fr)
        ),
        &format!(
            "Bonjour,\n\n{} signale : {} ({}).\nÉcole : {place}\n{quote}{due}\n",
            t.reporter_name,
            t.title,
            t.priority().short(preau_domain::Lang::Fr),
        ),
        Some(&format!("/tickets/{}", t.id)),
        now,
    )
    .await?;
    Ok(())
}

/// Tells the school a ticket is resolved: whoever reported it and the school's head.
pub(super) async fn notify_resolved(
    tx: &mut Tx,
    cid: i64,
    t: &Ticket,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut who = jobs::address_of(tx, t.reporter_user_id).await?;
    who.extend(jobs::addresses(tx, cid, "directeur", Some(t.school_id)).await?);
    let said = message.map(|m| format!("\n\n« {m} »")).unwrap_or_default();
    jobs::enqueue_mail(
        tx,
        cid,
        &who,
        &format!("Résolu : signalement n° {} — {}", t.number, t.title),
        &format!(
            "Bonjour,\n\nLe signalement n° {} ({}) est résolu.{said}\n\nSi ce n'est pas le cas, rouvrez-le depuis sa page ; sans nouvelle de votre part, il sera clos dans quelques jours d'école.\n",
            t.number, t.title,
        ),
        Some(&format!("/tickets/{}", t.id)),
        now,
    )
    .await?;
    Ok(())
}

/// Tells the administrators a deadline is at risk or breached.
pub(super) async fn notify_escalated(
    tx: &mut Tx,
    cid: i64,
    id: i64,
    breached: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (number, title, school): (i64, String, String) = with_tx!(tx, c => {
        sqlx::query_as("SELECT t.number, t.title, s.name FROM tickets t JOIN schools s ON s.id = t.school_id WHERE t.id = $1").bind(id).fetch_one(&mut *c).await?
    });
    let admins = jobs::addresses(tx, cid, "administrateur", None).await?;
    let what = if breached {
        "délai dépassé"
    } else {
        "délai bientôt dépassé"
    };
    jobs::enqueue_mail(
        tx,
        cid,
        &admins,
        &format!("Alerte : {what} — signalement n° {number} — {school}"),
        &format!("Bonjour,\n\nLe signalement n° {number} ({title}, {school}) : {what}.\n"),
        Some(&format!("/tickets/{id}")),
        now,
    )
    .await?;
    Ok(())
}
