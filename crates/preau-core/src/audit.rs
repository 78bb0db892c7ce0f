//! The audit log: every create, update and delete records who, when, which object and
//! what changed. It is written in the same transaction as the change it describes.

use chrono::{DateTime, Utc};
use preau_domain::Principal;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::db::{Db, Param, Sql, Tx};
use crate::error::AppResult;
use crate::{bind_params, with_db, with_tx};

/// Who did it: a user, or the command line / demo loader acting for a collectivité.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub login: String,
    pub collectivite_id: i64,
}

impl Actor {
    pub fn system(label: &str, collectivite_id: i64) -> Actor {
        Actor {
            user_id: None,
            login: label.to_string(),
            collectivite_id,
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Actor {
        Actor {
            user_id: (p.user_id != 0).then_some(p.user_id),
            login: p.login.clone(),
            collectivite_id: p.collectivite_id,
        }
    }
}

pub struct Entry<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: i64,
    pub object_label: &'a str,
    pub changes: Value,
}

/// Writes one audit entry, at the instant the use case acts at.
pub async fn record(tx: &mut Tx, actor: &Actor, now: DateTime<Utc>, e: Entry<'_>) -> AppResult<()> {
    let changes = e.changes.to_string();
    with_tx!(tx, c => {
        sqlx::query(
            "INSERT INTO audit_log (collectivite_id, occurred_at, actor_user_id, actor_login, action, object_type, object_id, object_label, changes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(actor.collectivite_id)
        .bind(now)
        .bind(actor.user_id)
        .bind(&actor.login)
        .bind(e.action)
        .bind(e.object_type)
        .bind(e.object_id)
        .bind(e.object_label)
        .bind(&changes)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// `{"field": [old, new]}` for every field that differs between two serialisations.
pub fn diff<T: Serialize>(before: &T, after: &T) -> Value {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Value::Null;
    };
    let mut out = Map::new();
    for (k, new) in &b {
        let old = a.get(k).cloned().unwrap_or(Value::Null);
        if &old != new && k != "version" && k != "updated_at" {
            out.insert(k.clone(), json!([old, new]));
        }
    }
    Value::Object(out)
}

/// The serialisation of a created object, as `{"field": [null, value]}`.
pub fn created<T: Serialize>(after: &T) -> Value {
    whole(after, |v| json!([null, v]))
}

/// The serialisation of a deleted object, as `{"field": [value, null]}`.
pub fn deleted<T: Serialize>(before: &T) -> Value {
    whole(before, |v| json!([v, null]))
}

fn whole<T: Serialize>(value: &T, pair: impl Fn(Value) -> Value) -> Value {
    match serde_json::to_value(value) {
        Ok(Value::Object(b)) => Value::Object(
            b.into_iter()
                .filter(|(k, _)| k != "version" && k != "updated_at" && k != "created_at")
                .map(|(k, v)| (k, pair(v)))
                .collect(),
        ),
        _ => Value::Null,
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_login: String,
    pub action: String,
    pub object_type: String,
    pub object_id: i64,
    pub object_label: String,
    pub changes: String,
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Entries older than this id (keyset pagination, newest first).
    pub before_id: Option<i64>,
}

/// Newest first, `limit` entries at most, inside one collectivité.
pub async fn list(
    db: &Db,
    collectivite_id: i64,
    f: &AuditFilter,
    limit: i64,
) -> AppResult<Vec<AuditRow>> {
    let mut sql = Sql::new(
        "SELECT id, occurred_at, actor_login, action, object_type, object_id, object_label, changes FROM audit_log WHERE collectivite_id = ",
    );
    sql.bind(Param::I64(collectivite_id));
    if let Some(t) = &f.object_type {
        sql.push(" AND object_type = ").bind(Param::Text(t.clone()));
    }
    if let Some(id) = f.object_id {
        sql.push(" AND object_id = ").bind(Param::I64(id));
    }
    if let Some(a) = &f.actor {
        sql.push(" AND actor_login = ").bind(Param::Text(a.clone()));
    }
    if let Some(a) = &f.action {
        sql.push(" AND action = ").bind(Param::Text(a.clone()));
    }
    if let Some(id) = f.before_id {
        sql.push(" AND id < ").bind(Param::I64(id));
    }
    if let Some(t) = f.since {
        sql.push(" AND occurred_at >= ").bind(Param::Time(t));
    }
    if let Some(t) = f.until {
        sql.push(" AND occurred_at < ").bind(Param::Time(t));
    }
    sql.push(" ORDER BY id DESC LIMIT ").bind(Param::I64(limit));
    let rows = with_db!(db, p => {
        bind_params!(sqlx::query_as::<_, AuditRow>(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params)
            .fetch_all(p)
            .await?
    });
    Ok(rows)
}

/// Writes that `p` read pupil labels: which school and class (or device), never the
/// labels themselves. Called by every page and API answer that shows them.
pub async fn pupils_read(
    tx: &mut Tx,
    p: &Principal,
    object_type: &str,
    object_id: i64,
    what: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "read_pupils",
            object_type,
            object_id,
            object_label: what,
            changes: serde_json::Value::Null,
        },
    )
    .await
}
