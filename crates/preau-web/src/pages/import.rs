//! Importing schools from a file in the browser: upload, preview what would change, then
//! confirm. The same use case as `preau import schools`: all or nothing, idempotent.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use preau_core::import::{self, ImportReport};
use preau_core::{AppError, collectivites};
use serde::Deserialize;

use super::LangTitle;
use super::upload::{Flow, ImportWords, import_view};
use super::{Ctx, render};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm, CsrfMultipart};

type PageResult = Result<Response, PageError>;

/// The largest file accepted: a département's extract of the national directory is a few
/// megabytes; the whole country is about 70.
pub const MAX_UPLOAD: usize = 32 * 1024 * 1024;

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    ctx: Ctx,
    commune: String,
    file_error: Option<&'static str>,
    report: Option<ImportReport>,
    file_name: String,
    /// Set on a clean preview: the key that confirms it.
    confirm_key: Option<String>,
    applied: bool,
    words: ImportWords,
}

fn page(a: &Auth, commune: String) -> ImportPage {
    let p = &a.p;
    ImportPage {
        ctx: Ctx::page(a, p.lang_title("import.title"), "admin")
            .crumb("/admin", p.lang_title("nav.admin")),
        commune,
        file_error: None,
        report: None,
        file_name: String::new(),
        confirm_key: None,
        applied: false,
        words: ImportWords::new(p.lang, "/schools", "import"),
    }
}

pub async fn form(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let c = collectivites::get(&s.db, p, p.collectivite_id).await?;
    render(&page(&a, c.insee_code.unwrap_or_default()))
}

import_view!(ImportPage, ImportReport, applied);

/// The upload: runs the import without writing and shows the result.
pub async fn preview(State(s): State<AppState>, a: Auth, form: CsrfMultipart) -> PageResult {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let flow = Flow::new(&s, &a, "schools");
    let commune = form.text("commune").unwrap_or_default();
    let view = page(&a, commune.clone());
    let Some(file) = form.file("file") else {
        return flow.no_file(view);
    };
    let filter = Some(commune.as_str()).filter(|c| !c.is_empty());
    let report = import::import_schools(&s.db, p, &file.bytes, filter, true, Utc::now()).await?;
    flow.previewed(view, file, commune, report)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    key: String,
}

/// The confirmation: applies the previewed file, in one transaction.
pub async fn apply(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> PageResult {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let flow = Flow::new(&s, &a, "schools");
    let Some((bytes, commune)) = flow.take(&f.key) else {
        return flow.expired(page(&a, String::new()));
    };
    let filter = Some(commune.as_str()).filter(|c| !c.is_empty());
    let report = import::import_schools(&s.db, p, &bytes, filter, false, Utc::now()).await?;
    flow.applied(page(&a, commune), report)
}
