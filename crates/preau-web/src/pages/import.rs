//! Importing schools from a file in the browser: upload, preview what would change, then
//! confirm. The same use case as `preau import schools`: all or nothing, idempotent.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use preau_core::import::{self, ImportReport};
use preau_core::{AppError, collectivites};
use serde::Deserialize;

use super::org::LangTitle;
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

/// What an import report calls things, and where its forms post.
pub struct ImportWords {
    pub base: &'static str,
    pub to_create: &'static str,
    pub to_update: &'static str,
    pub created: &'static str,
    pub updated: &'static str,
    pub see: &'static str,
}

impl ImportWords {
    /// `base` is the list page (`/schools`); `prefix` the messages' section (`import`).
    pub fn new(lang: preau_domain::Lang, base: &'static str, prefix: &str) -> ImportWords {
        let t = |k: &str| crate::i18n::t(lang, &format!("{prefix}.{k}"));
        ImportWords {
            base,
            to_create: t("to_create"),
            to_update: t("to_update"),
            created: t("created"),
            updated: t("updated"),
            see: t("see"),
        }
    }
}

/// 422 when the file had errors, so that scripts and tests see the refusal.
pub fn unprocessable_if(mut r: Response, failed: bool) -> PageResult {
    if failed {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

fn page(a: &Auth, commune: String) -> ImportPage {
    let p = &a.p;
    ImportPage {
        ctx: Ctx::for_user(p, &a.csrf, p.lang_title("import.title"), "admin")
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

/// The upload: runs the import without writing and shows the result.
pub async fn preview(State(s): State<AppState>, a: Auth, form: CsrfMultipart) -> PageResult {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    let commune = form.text("commune").unwrap_or_default();
    let mut view = page(&a, commune.clone());
    let Some(file) = form.file("file") else {
        view.file_error = Some(crate::i18n::t(p.lang, "import.no_file"));
        return unprocessable(render(&view)?);
    };
    let filter = Some(commune.as_str()).filter(|c| !c.is_empty());
    let report = import::import_schools(&s.db, p, &file.bytes, filter, true, Utc::now()).await?;
    view.file_name = file.file_name.clone().unwrap_or_default();
    if report.errors.is_empty() {
        view.confirm_key = Some(
            s.uploads
                .keep(p.user_id, "schools", file.bytes.clone(), commune),
        );
    }
    show_report(view, report)
}

/// The page with an import's report: 422 when the file had errors.
fn show_report(mut view: ImportPage, report: ImportReport) -> PageResult {
    let failed = !report.errors.is_empty();
    view.report = Some(report);
    let resp = render(&view)?;
    if failed {
        unprocessable(resp)
    } else {
        Ok(resp)
    }
}

fn unprocessable(r: Response) -> PageResult {
    unprocessable_if(r, true)
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
    let Some((bytes, commune)) = s.uploads.take(p.user_id, "schools", &f.key) else {
        let mut view = page(&a, String::new());
        view.file_error = Some(crate::i18n::t(p.lang, "import.expired"));
        return unprocessable(render(&view)?);
    };
    let filter = Some(commune.as_str()).filter(|c| !c.is_empty());
    let report = import::import_schools(&s.db, p, &bytes, filter, false, Utc::now()).await?;
    let mut view = page(&a, commune.clone());
    view.applied = report.errors.is_empty();
    show_report(view, report)
}
