//! Importing devices from a file in the browser: the collectivité's spreadsheet or an MDM
//! export (Jamf School, Intune); preview, then confirm — like the schools' import.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use preau_core::import::ImportReport;
use preau_core::inventory::csv_import;
use preau_core::{AppError, schools};
use serde::Deserialize;

use super::LangTitle;
use super::upload::{Flow, ImportWords, import_view};
use super::{Ctx, render};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm, CsrfMultipart};

type PageResult = Result<Response, PageError>;

#[derive(Template)]
#[template(path = "device_import.html")]
struct DeviceImportPage {
    ctx: Ctx,
    kind: String,
    school_id: String,
    schools: Vec<(String, String)>,
    file_error: Option<&'static str>,
    report: Option<ImportReport>,
    file_name: String,
    confirm_key: Option<String>,
    applied: bool,
    words: ImportWords,
}

async fn page(
    s: &AppState,
    a: &Auth,
    kind: &str,
    school_id: &str,
) -> Result<DeviceImportPage, PageError> {
    let p = &a.p;
    let mut opts = vec![(
        String::new(),
        crate::i18n::t(p.lang, "devices.unplaced").to_string(),
    )];
    opts.extend(
        schools::all_readable(&s.db, p)
            .await?
            .into_iter()
            .filter(|sc| p.can_edit_devices(Some(sc.id)))
            .map(|sc| (sc.id.to_string(), sc.name)),
    );
    Ok(DeviceImportPage {
        ctx: Ctx::page(a, p.lang_title("device_import.title"), "devices")
            .crumb("/devices", p.lang_title("devices.title")),
        kind: kind.to_string(),
        school_id: school_id.to_string(),
        schools: opts,
        file_error: None,
        report: None,
        file_name: String::new(),
        confirm_key: None,
        applied: false,
        words: ImportWords::new(p.lang, "/devices", "device_import"),
    })
}

fn allowed(a: &Auth) -> Result<(), PageError> {
    if a.p.can_edit_devices(None) || a.p.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden.into())
    }
}

pub async fn form(State(s): State<AppState>, a: Auth) -> PageResult {
    allowed(&a)?;
    render(&page(&s, &a, "devices", "").await?)
}

async fn run(
    s: &AppState,
    a: &Auth,
    kind: &str,
    school: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport, AppError> {
    match kind {
        "mdm" => {
            csv_import::import_mdm(&s.db, &a.p, bytes, school.parse().ok(), dry_run, Utc::now())
                .await
        }
        _ => csv_import::import_devices(&s.db, &a.p, bytes, dry_run, Utc::now()).await,
    }
}

import_view!(DeviceImportPage, ImportReport, applied);

/// The upload: runs the import without writing and shows what would change.
pub async fn preview(State(s): State<AppState>, a: Auth, form: CsrfMultipart) -> PageResult {
    allowed(&a)?;
    let flow = Flow::new(&s, &a, "devices");
    let kind = form.text("kind").unwrap_or_else(|| "devices".into());
    let school = form.text("school_id").unwrap_or_default();
    let view = page(&s, &a, &kind, &school).await?;
    let Some(file) = form.file("file") else {
        return flow.no_file(view);
    };
    let report = run(&s, &a, &kind, &school, &file.bytes, true).await?;
    flow.previewed(view, file, format!("{kind}|{school}"), report)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    key: String,
}

pub async fn apply(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> PageResult {
    allowed(&a)?;
    let flow = Flow::new(&s, &a, "devices");
    let Some((bytes, meta)) = flow.take(&f.key) else {
        return flow.expired(page(&s, &a, "devices", "").await?);
    };
    let (kind, school) = meta.split_once('|').unwrap_or(("devices", ""));
    let report = run(&s, &a, kind, school, &bytes, false).await?;
    flow.applied(page(&s, &a, kind, school).await?, report)
}
