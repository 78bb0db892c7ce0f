//! `/api/v1` for pupils and loans: a class's pupils with their tablets, loans (list,
//! lend, return) and a device's loans. The same rules as the pages: pupil labels only for
//! the school's staff, its technician and the administrator, and every answer that names
//! pupils is written in the audit log.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::Utc;
use preau_core::loans::{self, Loan, LoanFilter, LoanInput, ReturnInput};
use preau_core::{pupils, write_tx};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiResult, Created, body, created, list, query};
use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

fn loan_json(l: &Loan) -> Value {
    let mut v = serde_json::to_value(l).unwrap_or(Value::Null);
    v["pupil_deleted"] = json!(l.pupil_deleted());
    v["accessories"] = json!(l.accessory_list());
    v
}

pub(super) async fn class_pupils(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    let (class, rows) = pupils::class_pupils(&s.db, &p, id, Utc::now()).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "label": r.label,
                "arrived_on": r.arrived_on,
                "left_on": r.left_on,
                "label_deleted_on": r.purge_on,
                "loan_id": r.loan_id,
                "device": r.device_id.map(|d| json!({"id": d, "asset_tag": r.asset_tag, "serial": r.serial, "model": r.model})),
                "given_on": r.given_on,
                "agreement_signed_on": r.signed_on,
            })
        })
        .collect();
    Ok(Json(json!({
        "class": {"id": class.id, "label": class.label, "levels": class.levels, "school_id": class.school_id, "school_year_id": class.school_year_id},
        "items": items,
        "next": null,
    })))
}

pub(super) async fn loans_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<LoanFilter>, QueryRejection>,
) -> ApiResult {
    let f = query(q)?;
    let rows = loans::list(&s.db, &p, &f, 5000, Utc::now()).await?;
    let items: Vec<Value> = rows.iter().map(loan_json).collect();
    Ok(list(&items, None))
}

/// A new loan: `school_id`, `device` (asset tag, serial or QR label), `kind` (`eleve`,
/// `enseignant`, `classe`) with `pupil_id`, `holder_name` or `class_id`.
#[derive(Deserialize)]
pub(super) struct NewLoan {
    school_id: Option<i64>,
    #[serde(flatten)]
    input: LoanInput,
}

pub(super) async fn loan_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<NewLoan>, JsonRejection>,
) -> Created {
    let n = body(b)?;
    let Some(school_id) = n.school_id else {
        return Err(ApiError::invalid(vec![preau_domain::FieldError::new(
            "school_id",
            "required",
        )]));
    };
    let v = n.input.parse()?;
    let now = Utc::now();
    let l = write_tx!(s.db, tx => {
        let l = loans::lend(tx, &p, school_id, &v, now).await?;
        loans::record_shown(tx, &p, &l, now).await?;
        l
    })?;
    created(loan_json(&l))
}

/// The return: `state` (`ok`, `ecran_casse`, `hors_service`, `perdu`, `vole`), optional
/// `returned_on` and `note`, `version`. Damage or loss answers with the `ticket_id` opened.
pub(super) async fn loan_return(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<ReturnInput>, JsonRejection>,
) -> ApiResult {
    let v = body(b)?.parse()?;
    let now = Utc::now();
    let l = write_tx!(s.db, tx => {
        let l = loans::give_back(tx, &p, id, &v, now).await?;
        loans::record_shown(tx, &p, &l, now).await?;
        l
    })?;
    Ok(Json(loan_json(&l)))
}

pub(super) async fn device_loans(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> ApiResult {
    let rows = loans::for_device(&s.db, &p, id, Utc::now()).await?;
    let items: Vec<Value> = rows.iter().map(loan_json).collect();
    Ok(list(&items, None))
}
