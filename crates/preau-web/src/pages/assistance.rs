//! Administration of assistance: routing rules, the automatic closing delay, the school
//! calendar (importing the official `fr-en-calendrier-scolaire` export for later years),
//! and the e-mail queue's state.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use preau_core::{AppError, calendar, contracts, jobs, routing, schools, users, write_tx};
use preau_domain::ticket::{Assignee, TicketCategory};
use preau_domain::{FieldError, Lang};
use serde::Deserialize;

use super::{Ctx, render, see_other};
use super::{FlashQuery, LangTitle};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm, CsrfMultipart};

type PageResult = Result<Response, PageError>;

/// The official calendar export is a few hundred KB; a few MB is plenty.
pub const MAX_CALENDAR: usize = 8 << 20;

struct RuleView {
    id: i64,
    school: String,
    category: String,
    to: String,
}

#[derive(Template)]
#[template(path = "admin_assistance.html")]
struct AssistancePage {
    ctx: Ctx,
    rules: Vec<RuleView>,
    schools: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    targets: Vec<(String, String)>,
    auto_close_days: i64,
    known: Vec<(String, String)>,
    waiting: i64,
    failed: i64,
    calendar_report: Option<String>,
    errors: Vec<String>,
}

async fn page(
    s: &AppState,
    a: &Auth,
    flash: Option<&str>,
    report: Option<String>,
    errors: &[FieldError],
) -> Result<AssistancePage, PageError> {
    let p = &a.p;
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden.into());
    }
    let lang = p.lang;
    let t = |k| crate::i18n::t(lang, k).to_string();
    let lots = contracts::lot_choices(&s.db, p).await?;
    let techs = users::technicians(&s.db, p).await?;
    let rules = routing::list(&s.db, p)
        .await?
        .into_iter()
        .map(|r| RuleView {
            id: r.id,
            school: r.school_name.unwrap_or_else(|| t("assistance.any_school")),
            category: r
                .category
                .as_deref()
                .map(|c| TicketCategory::from_db(c).label(lang).to_string())
                .unwrap_or_else(|| t("assistance.any_category")),
            to: match (r.assignee_name, r.lot_id) {
                (Some(n), _) => n,
                (None, Some(l)) => lots
                    .iter()
                    .find(|(id, _)| *id == l)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            },
        })
        .collect();
    let mut school_opts = vec![(String::new(), t("assistance.any_school"))];
    school_opts.extend(
        schools::all_readable(&s.db, p)
            .await?
            .into_iter()
            .map(|sc| (sc.id.to_string(), sc.name)),
    );
    let mut categories = vec![(String::new(), t("assistance.any_category"))];
    categories.extend(
        TicketCategory::ALL
            .iter()
            .map(|c| (c.code().to_string(), c.label(lang).to_string())),
    );
    let mut targets: Vec<(String, String)> = techs
        .into_iter()
        .map(|(id, n)| (Assignee::User(id).code(), n))
        .collect();
    targets.extend(
        lots.into_iter()
            .map(|(id, n)| (Assignee::Lot(id).code(), n)),
    );
    let known = calendar::known_until(&s.db)
        .await?
        .into_iter()
        .map(|(z, d)| {
            (
                z.label(lang).to_string(),
                d.map(|d| d.format("%d/%m/%Y").to_string())
                    .unwrap_or_else(|| "—".into()),
            )
        })
        .collect();
    let (waiting, failed) = jobs::mail_counts(&s.db, Some(p.collectivite_id)).await?;
    Ok(AssistancePage {
        ctx: Ctx::page(a, p.lang_title("assistance.title"), "admin")
            .crumb("/admin", p.lang_title("nav.admin"))
            .flash(flash.and_then(|f| super::flash_key(Some(f)))),
        rules,
        schools: school_opts,
        categories,
        targets,
        auto_close_days: routing::auto_close_days(&s.db, p).await?,
        known,
        waiting,
        failed,
        calendar_report: report,
        errors: errors.iter().map(|e| e.message(lang)).collect(),
    })
}

pub async fn show(State(s): State<AppState>, a: Auth, Query(q): Query<FlashQuery>) -> PageResult {
    render(&page(&s, &a, q.flash(), None, &[]).await?)
}

async fn again(s: &AppState, a: &Auth, e: AppError) -> PageResult {
    match e {
        AppError::Invalid(errs) => {
            let mut r = render(&page(s, a, None, None, &errs).await?)?;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        other => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    auto_close_days: String,
}

pub async fn settings(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> PageResult {
    let days = f.auto_close_days.trim().parse::<i64>().unwrap_or(0);
    match write_tx!(s.db, tx => routing::set_auto_close_days(tx, &a.p, days, Utc::now()).await?) {
        Ok(()) => Ok(see_other("/admin/assistance", "saved")),
        Err(e) => again(&s, &a, e).await,
    }
}

#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    school_id: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    assignee: String,
}

pub async fn add_rule(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<RuleForm>,
) -> PageResult {
    let parsed = (|| -> Result<_, FieldError> {
        let school = match f.school_id.trim() {
            "" => None,
            v => Some(
                v.parse::<i64>()
                    .map_err(|_| FieldError::new("school_id", "unknown_value"))?,
            ),
        };
        let category = match f.category.trim() {
            "" => None,
            v => Some(TicketCategory::parse("category", v)?),
        };
        let to = Assignee::parse("assignee", &f.assignee)?
            .ok_or_else(|| FieldError::new("assignee", "required"))?;
        Ok((school, category, to))
    })();
    let (school, category, to) = match parsed {
        Ok(v) => v,
        Err(e) => return again(&s, &a, e.into()).await,
    };
    match write_tx!(s.db, tx => routing::add(tx, &a.p, school, category, to, Utc::now()).await?) {
        Ok(_) => Ok(see_other("/admin/assistance", "created")),
        Err(e) => again(&s, &a, e).await,
    }
}

pub async fn delete_rule(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(_f): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    write_tx!(s.db, tx => routing::delete(tx, &a.p, id, Utc::now()).await?)?;
    Ok(see_other("/admin/assistance", "deleted"))
}

/// Imports the official export (all zones, as published); known holidays are left as
/// they are, so sending the same file twice adds nothing.
pub async fn import_calendar(
    State(s): State<AppState>,
    a: Auth,
    form: CsrfMultipart,
) -> PageResult {
    let p = &a.p;
    if !p.can_manage_contracts() {
        return Err(AppError::Forbidden.into());
    }
    let Some(file) = form.file("file") else {
        return again(&s, &a, FieldError::new("file", "required").into()).await;
    };
    let text = match preau_core::import::decode(&file.bytes) {
        Ok((t, _)) => t,
        Err(e) => return again(&s, &a, e.into()).await,
    };
    match write_tx!(s.db, tx => calendar::import(tx, &text).await?) {
        Ok(r) => {
            tracing::info!(added = r.added, known = r.known, "school calendar imported");
            let words = match p.lang {
                Lang::Fr => format!(
                    "{} périodes de vacances ajoutées, {} déjà connues.",
                    r.added, r.known
                ),
                Lang::En => format!(
                    "{} holiday periods added, {} already known.",
                    r.added, r.known
                ),
            };
            render(&page(&s, &a, None, Some(words), &[]).await?)
        }
        Err(e) => again(&s, &a, e).await,
    }
}
