//! `/api/v1` for pupils and loans: a class's pupils with their tablets, loans (list,
//! lend, return) and a device's loans. The same rules as the pages: pupil labels only for
//! the school's staff, its technician and the administrator, and every answer that names
//! pupils is written in the audit log.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::Utc;
use preau_core::pupils::loans::{self, LoanFilter, LoanInput, ReturnInput};
use preau_core::{pupils, write_tx};
use serde::Deserialize;

use super::schema::{List, input};
use super::types::{self, ClassPupils, ClassRef};
use super::{Answer, Created, all, body, created, query};
use crate::AppState;
use crate::error::ApiError;
use crate::session::ApiAuth;

pub(super) async fn class_pupils(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<ClassPupils> {
    let (class, rows) = pupils::class_pupils(&s.db, &p, id, Utc::now()).await?;
    Ok(Json(ClassPupils {
        class: ClassRef {
            id: class.id,
            label: class.label,
            levels: class.levels,
            school_id: class.school_id,
            school_year_id: class.school_year_id,
        },
        items: all(&rows),
        next: None,
    }))
}

pub(super) async fn loans_list(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    q: Result<Query<LoanFilter>, QueryRejection>,
) -> Answer<List<types::Loan>> {
    let f = query(q)?;
    let rows = loans::list(&s.db, &p, &f, 5000, Utc::now()).await?;
    Ok(Json(List::all(all(&rows))))
}

/// A new loan: `school_id`, `device` (asset tag, serial or QR label), `kind` (`eleve`,
/// `enseignant`, `classe`) with `pupil_id`, `holder_name` or `class_id`.
#[derive(Deserialize)]
pub(super) struct NewLoan {
    school_id: Option<i64>,
    #[serde(flatten)]
    input: LoanInput,
}

input! {
    /// A device to lend at a school.
    NewLoanDoc for NewLoan [input]; with types::LoanInput {
        school_id: i64,
    }
}

pub(super) async fn loan_create(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    b: Result<Json<NewLoan>, JsonRejection>,
) -> Created<types::Loan> {
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
    created((&l).into())
}

/// The return: `state` (`ok`, `ecran_casse`, `hors_service`, `perdu`, `vole`), optional
/// `returned_on` and `note`, `version`. Damage or loss answers with the `ticket_id` opened.
pub(super) async fn loan_return(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
    b: Result<Json<ReturnInput>, JsonRejection>,
) -> Answer<types::Loan> {
    let v = body(b)?.parse()?;
    let now = Utc::now();
    let l = write_tx!(s.db, tx => {
        let l = loans::give_back(tx, &p, id, &v, now).await?;
        loans::record_shown(tx, &p, &l, now).await?;
        l
    })?;
    Ok(Json((&l).into()))
}

pub(super) async fn device_loans(
    State(s): State<AppState>,
    ApiAuth(p): ApiAuth,
    Path(id): Path<i64>,
) -> Answer<List<types::Loan>> {
    let rows = loans::for_device(&s.db, &p, id, Utc::now()).await?;
    Ok(Json(List::all(all(&rows))))
}
