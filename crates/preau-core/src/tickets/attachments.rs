//! Photos and documents attached to a ticket, their type checked by their bytes.

use super::*;

/// Adds a photo or a scan to a ticket: its type is read from its bytes (JPEG, PNG,
/// WebP, PDF), never from its name; 8 MB at most, 10 per ticket.
pub async fn attach(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    file_name: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> AppResult<i64> {
    get_in_tx(tx, p, id).await?;
    if bytes.len() > preau_domain::ticket::MAX_ATTACHMENT {
        return Err(FieldError::new("photo", "file_too_large").into());
    }
    let Some(kind) = attachment_type(bytes) else {
        return Err(FieldError::new("photo", "file_type").into());
    };
    let count: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM ticket_attachments WHERE ticket_id = $1").bind(id).fetch_one(&mut *c).await?
    });
    if count >= 10 {
        return Err(FieldError::new("photo", "too_many").into());
    }
    let name = preau_domain::ticket::upload_name(file_name, kind, "photo");
    let aid: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO ticket_attachments (ticket_id, file_name, content_type, size, data, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(id).bind(&name).bind(kind).bind(bytes.len() as i64).bind(bytes).bind(now)
            .fetch_one(&mut *c).await?
    });
    event(
        tx,
        id,
        p,
        now,
        "attachment",
        true,
        None,
        json!({"attachment_id": aid, "name": name}),
    )
    .await?;
    Ok(aid)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn attachments(db: &Db, p: &Principal, id: i64) -> AppResult<Vec<Attachment>> {
    get(db, p, id).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Attachment>("SELECT id, file_name, content_type, size, created_at FROM ticket_attachments WHERE ticket_id = $1 ORDER BY id").bind(id).fetch_all(pool).await?
    }))
}

/// One attachment's type, name and bytes.
pub async fn attachment(
    db: &Db,
    p: &Principal,
    id: i64,
    aid: i64,
) -> AppResult<(String, String, Vec<u8>)> {
    get(db, p, id).await?;
    with_db!(db, pool => {
        sqlx::query_as("SELECT content_type, file_name, data FROM ticket_attachments WHERE id = $1 AND ticket_id = $2").bind(aid).bind(id).fetch_optional(pool).await?
    })
    .ok_or(AppError::NotFound)
}
