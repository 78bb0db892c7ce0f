//! Device categories. The built-in ones (`preau_domain::device::BUILTIN_CATEGORIES`) are
//! created for every collectivité; an administrator adds others.

use chrono::{DateTime, Utc};
use preau_domain::device::BUILTIN_CATEGORIES;
use preau_domain::{FieldError, Lang, Principal, text};
use serde::Serialize;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, unique};
use crate::{with_db, with_tx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub label_fr: String,
    pub label_en: String,
    pub is_container: bool,
    pub has_wifi_switch: bool,
    /// What a gap in the référentiel is costed at (`None`: the recent purchases' average).
    pub unit_price_cents: Option<i64>,
}

impl Category {
    pub fn label(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.label_fr,
            Lang::En => &self.label_en,
        }
    }
}

const SELECT: &str = "SELECT id, code, label_fr, label_en, is_container, has_wifi_switch, unit_price_cents FROM device_categories";

/// Creates the built-in categories a collectivité does not have yet (at start-up and when
/// a collectivité is created); idempotent.
pub async fn ensure_builtin(tx: &mut Tx, collectivite_id: i64) -> AppResult<()> {
    for (i, (code, fr, en, container, wifi)) in BUILTIN_CATEGORIES.iter().enumerate() {
        with_tx!(tx, c => {
            sqlx::query("INSERT INTO device_categories (collectivite_id, code, label_fr, label_en, is_container, has_wifi_switch, position) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (collectivite_id, code) DO NOTHING")
                .bind(collectivite_id).bind(*code).bind(*fr).bind(*en).bind(*container).bind(*wifi).bind(i as i64 * 10)
                .execute(&mut *c).await?;
        });
    }
    Ok(())
}

/// `ensure_builtin` for every collectivité of the deployment.
pub async fn ensure_builtin_everywhere(db: &Db) -> AppResult<()> {
    let ids: Vec<i64> = with_db!(db, pool => {
        sqlx::query_scalar("SELECT c.id FROM collectivites c WHERE (SELECT COUNT(*) FROM device_categories d WHERE d.collectivite_id = c.id) < $1")
            .bind(BUILTIN_CATEGORIES.len() as i64)
            .fetch_all(pool).await?
    });
    for id in ids {
        crate::write_tx!(db, tx => ensure_builtin(tx, id).await?)?;
    }
    Ok(())
}

/// The caller's collectivité's categories, in display order.
pub async fn list(db: &Db, p: &Principal) -> AppResult<Vec<Category>> {
    let sql = format!("{SELECT} WHERE collectivite_id = $1 ORDER BY position, label_fr");
    Ok(with_db!(db, pool => {
        sqlx::query_as::<_, Category>(sqlx::AssertSqlSafe(sql)).bind(p.collectivite_id).fetch_all(pool).await?
    }))
}

pub async fn by_code_in_tx(
    tx: &mut Tx,
    collectivite_id: i64,
    code: &str,
) -> AppResult<Option<Category>> {
    let sql = format!("{SELECT} WHERE collectivite_id = $1 AND code = $2");
    Ok(with_tx!(tx, c => {
        sqlx::query_as::<_, Category>(sqlx::AssertSqlSafe(sql)).bind(collectivite_id).bind(code).fetch_optional(&mut *c).await?
    }))
}

/// Adds a category (administrators): a label in French, optionally in English; the code
/// is derived from the label.
pub async fn create(
    tx: &mut Tx,
    p: &Principal,
    label_fr: &str,
    label_en: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Category> {
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden);
    }
    let fr = text::required("label_fr", label_fr, 80)?;
    let en = text::optional("label_en", label_en, 80)?.unwrap_or_else(|| fr.clone());
    let code: String = text::search_key(&fr)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if code.is_empty() {
        return Err(FieldError::new("label_fr", "required").into());
    }
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO device_categories (collectivite_id, code, label_fr, label_en, position) VALUES ($1, $2, $3, $4, 500) RETURNING id")
            .bind(p.collectivite_id).bind(&code).bind(&fr).bind(&en)
            .fetch_one(&mut *c).await.map_err(unique("label_fr", "name_taken"))?
    });
    audit::record(tx, &Actor::from(p), now, Entry {
        action: "create",
        object_type: "device_category",
        object_id: id,
        object_label: &fr,
        changes: serde_json::json!({"code": [null, code], "label_fr": [null, fr], "label_en": [null, en]}),
    })
    .await?;
    Ok(Category {
        id,
        code,
        label_fr: fr,
        label_en: en,
        is_container: false,
        has_wifi_switch: false,
        unit_price_cents: None,
    })
}
