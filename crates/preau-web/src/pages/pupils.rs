//! Pupils and tablets in the browser: the ONDE import of a school (preview, then confirm),
//! the bulk assignment screen of a class (scan tablet after tablet, or pair in order),
//! loans (return, agreement signed), a pupil's page (export, erasure), the counts per
//! school, the collectivité's settings and the generated record of processing.
//! Every page that shows pupil labels goes through a use case that logs the read.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use preau_core::pupils::loans::{self, Loan, LoanFilter, LoanInput, ReturnInput, TabletCounts};
use preau_core::pupils::{self, OndeReport, SettingsInput};
use preau_core::{AppError, classes, schools, write_tx, years};
use preau_domain::pupils::{LabelMode, LoanKind, ReturnState};
use preau_domain::{FieldError, Lang, Principal, Role};
use serde::Deserialize;

use super::LangTitle;
use super::parts::pupils::{PupilView, date, holder, pupil_name, pupil_views, state_label, t};
use super::upload::{Flow, import_view};
use super::{Ctx, flash_key, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::export::{download, table};
use crate::session::{Auth, CsrfForm, CsrfMultipart};

type PageResult = Result<Response, PageError>;

/// An ONDE export of a whole school is well under a megabyte; scans of agreements are
/// photos or PDFs of a few megabytes.
pub const MAX_UPLOAD: usize = 10 * 1024 * 1024;

// ---------------------------------------------------------------- ONDE import

#[derive(Template)]
#[template(path = "onde.html")]
struct OndePage {
    ctx: Ctx,
    school: schools::School,
    years: Vec<(i64, String, bool)>,
    report: Option<OndeReport>,
    file_error: Option<&'static str>,
    file_name: String,
    confirm_key: Option<String>,
}

async fn onde_page(s: &AppState, a: &Auth, school_id: i64) -> Result<OndePage, PageError> {
    let p = &a.p;
    let school = schools::get(&s.db, p, school_id).await?;
    if !p.can_edit_classes(school_id) {
        return Err(AppError::Forbidden.into());
    }
    let current = years::current(&s.db, p, super::today())
        .await?
        .map(|y| y.id);
    let years = years::list(&s.db, p)
        .await?
        .into_iter()
        .map(|y| (y.id, y.label, Some(y.id) == current))
        .collect();
    Ok(OndePage {
        ctx: Ctx::page(a, p.lang_title("onde.title"), "schools")
            .crumb("/schools", p.lang_title("nav.schools"))
            .crumb(format!("/schools/{school_id}"), school.name.clone()),
        school,
        years,
        report: None,
        file_error: None,
        file_name: String::new(),
        confirm_key: None,
    })
}

pub async fn onde_form(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    render(&onde_page(&s, &a, id).await?)
}

fn unprocessable(mut r: Response) -> PageResult {
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

import_view!(OndePage, OndeReport);

/// The upload: the whole import runs and is rolled back; the page shows what it would do.
pub async fn onde_preview(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    form: CsrfMultipart,
) -> PageResult {
    let p = &a.p;
    let flow = Flow::new(&s, &a, "onde");
    let mut view = onde_page(&s, &a, id).await?;
    let year: Option<i64> = form.text("school_year_id").and_then(|y| y.parse().ok());
    let Some(file) = form.file("file") else {
        return flow.no_file(view);
    };
    let report = pupils::import_onde(&s.db, p, id, year, &file.bytes, true, Utc::now()).await?;
    for y in &mut view.years {
        y.2 = report.school_year == y.1;
    }
    let meta = format!("{id}:{}", year.unwrap_or(0));
    flow.previewed(view, file, meta, report)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    key: String,
}

/// The confirmation: applies exactly the previewed file.
pub async fn onde_apply(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ConfirmForm>,
) -> PageResult {
    let p = &a.p;
    let flow = Flow::new(&s, &a, "onde");
    let view = onde_page(&s, &a, id).await?;
    let Some((bytes, meta)) = flow.take(&f.key) else {
        return flow.expired(view);
    };
    let (school, year) = meta.split_once(':').unwrap_or(("", ""));
    if school != id.to_string() {
        return Err(AppError::NotFound.into());
    }
    let year = year.parse::<i64>().ok().filter(|y| *y > 0);
    let report = pupils::import_onde(&s.db, p, id, year, &bytes, false, Utc::now()).await?;
    flow.applied(view, report)
}

// ---------------------------------------------------------------- class: pupils and the bulk screen

#[derive(Template)]
#[template(path = "bulk.html")]
struct BulkPage {
    ctx: Ctx,
    class: classes::Class,
    school_name: String,
    set_mode: bool,
    pupils: Vec<PupilView>,
    /// The pupil the next scan goes to.
    next: Option<(i64, String)>,
    carts: Vec<(i64, String, bool)>,
    cart_id: Option<i64>,
    /// The tablets lent to the class as a set.
    set: Vec<(i64, i64, String, String)>,
    error: Option<String>,
    done: Option<String>,
    /// The loans just made in order, which the person may still undo.
    undo: Vec<i64>,
    with_tablet: usize,
}

#[derive(Deserialize, Default)]
pub struct BulkQuery {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    cart_id: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    pupil_id: Option<i64>,
    #[serde(default)]
    done: Option<String>,
    /// The loans a pairing in order just made, comma-separated: offered for undoing.
    #[serde(default)]
    undo: Option<String>,
}

async fn bulk_page(
    s: &AppState,
    a: &Auth,
    id: i64,
    q: &BulkQuery,
    error: Option<String>,
) -> Result<BulkPage, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let class = classes::get(&s.db, p, id).await?;
    if !p.can_manage_loans(class.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let school = schools::get(&s.db, p, class.school_id).await?;
    let (_, rows) = pupils::class_pupils(&s.db, p, id, Utc::now()).await?;
    let pupils = pupil_views(&rows, lang);
    let current: Vec<&PupilView> = pupils.iter().filter(|v| v.left.is_none()).collect();
    let next = q
        .pupil_id
        .and_then(|pid| current.iter().find(|v| v.id == pid && v.loan_id.is_none()))
        .or_else(|| current.iter().find(|v| v.loan_id.is_none()))
        .map(|v| (v.id, v.name.clone()));
    let carts = loans::carts(&s.db, p, class.school_id)
        .await?
        .into_iter()
        .map(|(cid, name, free)| {
            (
                cid,
                format!("{name} — {free} {}", t(lang, "bulk.free")),
                Some(cid) == q.cart_id,
            )
        })
        .collect();
    // A maternelle lends its tablets to a class as a set: its screen opens in that mode.
    let set_mode = match q.mode.as_deref() {
        Some(m) => m == "classe",
        None => {
            preau_domain::org::SchoolKind::from_db(&school.kind)
                == preau_domain::org::SchoolKind::Maternelle
        }
    };
    // The class set is shown (and read) only in its own mode: the 1:1 screen, reloaded at
    // every scan, does not list it.
    let set = if set_mode {
        loans::list(
            &s.db,
            p,
            &LoanFilter {
                school_id: Some(class.school_id),
                class_id: Some(id),
                status: None,
            },
            2000,
            Utc::now(),
        )
        .await?
        .into_iter()
        .filter(|l| l.kind() == LoanKind::Classe)
        .map(|l| {
            (
                l.id,
                l.device_id,
                l.asset_tag.clone().unwrap_or_default(),
                l.serial.clone().unwrap_or_default(),
            )
        })
        .collect()
    } else {
        Vec::new()
    };
    let with_tablet = current.iter().filter(|v| v.loan_id.is_some()).count();
    Ok(BulkPage {
        ctx: Ctx::page(
            a,
            format!("{} — {}", t(lang, "bulk.title"), class.label),
            "schools",
        )
        .crumb(format!("/schools/{}", school.id), school.name.clone())
        .crumb(format!("/classes/{id}"), class.label.clone()),
        school_name: school.name,
        set_mode,
        next,
        carts,
        cart_id: q.cart_id,
        set,
        error,
        done: q.done.clone(),
        undo: q
            .undo
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .take(loans::PAIR_MAX)
            .collect(),
        with_tablet,
        pupils,
        class,
    })
}

pub async fn bulk(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<BulkQuery>,
) -> PageResult {
    render(&bulk_page(&s, &a, id, &q, None).await?)
}

#[derive(Deserialize, Default)]
pub struct ScanForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    pupil_id: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    cart_id: Option<i64>,
    #[serde(default)]
    accessories: Option<String>,
}

fn bulk_url(id: i64, set: bool, cart: Option<i64>) -> String {
    let mut u = format!(
        "/classes/{id}/tablets?mode={}",
        if set { "classe" } else { "eleve" }
    );
    if let Some(c) = cart {
        u.push_str(&format!("&cart_id={c}"));
    }
    u
}

fn error_text(e: &AppError, lang: Lang) -> Option<String> {
    match e {
        AppError::Invalid(errs) => Some(
            errs.iter()
                .map(|e| e.message(lang))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        AppError::Conflict(f) => Some(f.message(lang)),
        _ => None,
    }
}

/// One scan (or typed number): the tablet goes to the next pupil, or into the class set.
/// On a mistake the same screen comes back with the message, the field ready again.
pub async fn bulk_scan(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ScanForm>,
) -> PageResult {
    let p = &a.p;
    let class = classes::get(&s.db, p, id).await?;
    let set = f.mode.as_deref() == Some("classe");
    let now = Utc::now();
    let input = LoanInput {
        device: f.code.clone(),
        kind: if set { "classe" } else { "eleve" }.into(),
        pupil_id: if set { None } else { f.pupil_id },
        class_id: Some(id),
        accessories: f.accessories.clone(),
        ..LoanInput::default()
    };
    let result = async {
        let v = input.parse()?;
        write_tx!(s.db, tx => {
            if let (true, Some(cart)) = (set, f.cart_id) {
                loans::put_in_cart(tx, p, class.school_id, cart, &v.device, now).await?;
            }
            loans::lend(tx, p, class.school_id, &v, now).await?
        })
    }
    .await;
    match result {
        Ok(l) => {
            let done = format!(
                "{} → {}",
                l.asset_tag.as_deref().or(l.serial.as_deref()).unwrap_or(""),
                holder(&l, p.lang)
            );
            let url = format!(
                "{}&done={}",
                bulk_url(id, set, f.cart_id),
                crate::session::url_encode(&done)
            );
            Ok(axum::response::Redirect::to(&url).into_response())
        }
        Err(e) => match error_text(&e, p.lang) {
            Some(msg) => {
                let q = BulkQuery {
                    mode: f.mode.clone(),
                    cart_id: f.cart_id,
                    pupil_id: f.pupil_id,
                    done: None,
                    undo: None,
                };
                unprocessable(render(&bulk_page(&s, &a, id, &q, Some(msg)).await?)?)
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "bulk_pair.html")]
struct PairPage {
    ctx: Ctx,
    class_id: i64,
    set: bool,
    cart_id: Option<i64>,
    accessories: Vec<(String, &'static str, bool)>,
    /// (pupil id or 0, pupil's label, device id, asset tag or serial)
    plan: Vec<(i64, String, i64, String)>,
    error: Option<String>,
    back: String,
}

/// Pairs in order: the free tablets of the cart (or of the stock) with the pupils who
/// have none, or all of them with the class as a set. First a preview — who gets which
/// tablet, with the accessories given —, then (`confirm`) the loans, made only if the
/// class and the tablets are still as previewed; the screen then offers to undo them.
/// Repeated `accessories` and `plan` fields: read as pairs.
pub async fn bulk_pair(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let get = |k: &str| super::pair_value(&pairs, k);
    let set = get("mode").as_deref() == Some("classe");
    let cart_id = get("cart_id").and_then(|c| c.parse::<i64>().ok());
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "accessories")
        .flat_map(|(_, v)| v.split([' ', ',']).map(str::to_string).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect();
    let accessories = preau_domain::pupils::accessories("accessories", &chosen.join(" "))
        .map_err(AppError::from)?;
    let now = Utc::now();
    let back = bulk_url(id, set, cart_id);
    let mut error = None;
    if get("confirm").is_some() {
        let expected: Vec<(Option<i64>, i64)> = pairs
            .iter()
            .filter(|(k, _)| k == "plan")
            .filter_map(|(_, v)| {
                let (pupil, device) = v.split_once('-')?;
                let pupil: i64 = pupil.parse().ok()?;
                Some(((pupil > 0).then_some(pupil), device.parse().ok()?))
            })
            .collect();
        let request = loans::PairRequest {
            class_id: id,
            cart_id,
            set,
            accessories: accessories.clone(),
            expected: Some(expected),
        };
        let made = write_tx!(s.db, tx => loans::pair_in_order(tx, p, &request, now).await?);
        match made {
            Ok(made) => {
                let done = format!("{} {}", made.len(), t(lang, "bulk.paired"));
                let undo = made
                    .iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                return Ok(axum::response::Redirect::to(&format!(
                    "{back}&done={}&undo={undo}",
                    crate::session::url_encode(&done)
                ))
                .into_response());
            }
            Err(AppError::Conflict(e)) => error = Some(e.message(lang)),
            Err(e) => return Err(e.into()),
        }
    }
    let plan = loans::pairing_plan(&s.db, p, id, cart_id, set, now).await?;
    let page = PairPage {
        ctx: Ctx::page(&a, t(lang, "bulk.pair_title").to_string(), "schools"),
        class_id: id,
        set,
        cart_id,
        accessories: preau_domain::pupils::Accessory::ALL
            .iter()
            .map(|x| {
                (
                    x.code().to_string(),
                    x.label(lang),
                    accessories.contains(x)
                        || (chosen.is_empty()
                            && get("confirm").is_none()
                            && !set
                            && matches!(
                                x,
                                preau_domain::pupils::Accessory::Etui
                                    | preau_domain::pupils::Accessory::Chargeur
                            )),
                )
            })
            .collect(),
        plan: plan
            .into_iter()
            .map(|x| {
                (
                    x.pupil_id.unwrap_or(0),
                    x.pupil_label.unwrap_or_default(),
                    x.device_id,
                    x.asset_tag
                        .or(x.serial)
                        .unwrap_or_else(|| format!("n° {}", x.device_id)),
                )
            })
            .collect(),
        error,
        back,
    };
    let mut r = render(&page)?;
    if page.error.is_some() {
        *r.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    Ok(r)
}

/// Undoes the pairing just made (the loans listed, within half an hour, by whoever made
/// them).
pub async fn bulk_undo(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    let class = classes::get(&s.db, p, id).await?;
    if !p.can_manage_loans(class.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let set = pairs.iter().any(|(k, v)| k == "mode" && v == "classe");
    let cart_id = pairs
        .iter()
        .find(|(k, _)| k == "cart_id")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let ids: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "loan")
        .filter_map(|(_, v)| v.parse().ok())
        .take(loans::PAIR_MAX)
        .collect();
    let n = write_tx!(s.db, tx => loans::undo_pairing(tx, p, id, &ids, Utc::now()).await?)?;
    let done = format!("{n} {}", t(p.lang, "bulk.undone"));
    Ok(axum::response::Redirect::to(&format!(
        "{}&done={}",
        bulk_url(id, set, cart_id),
        crate::session::url_encode(&done)
    ))
    .into_response())
}

/// The class's pupils and their tablets as a spreadsheet (for those who see pupils).
pub async fn class_export(
    State(s): State<AppState>,
    a: Auth,
    Path((id, format)): Path<(i64, String)>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let (class, rows) = pupils::class_pupils(&s.db, p, id, Utc::now()).await?;
    let mut out = vec![vec![
        t(lang, "pupils.pupil").to_string(),
        t(lang, "field.asset_tag").to_string(),
        t(lang, "field.serial").to_string(),
        t(lang, "loans.given_on").to_string(),
        t(lang, "loans.signed_on").to_string(),
        t(lang, "pupils.left_on").to_string(),
    ]];
    for r in &rows {
        out.push(vec![
            pupil_name(r.label.as_deref(), lang),
            r.asset_tag.clone().unwrap_or_default(),
            r.serial.clone().unwrap_or_default(),
            r.given_on.map(date).unwrap_or_default(),
            r.signed_on.map(date).unwrap_or_default(),
            r.left_on.map(date).unwrap_or_default(),
        ]);
    }
    table(&format, "eleves", &class.label, &out)
}

// ---------------------------------------------------------------- loans

#[derive(Template)]
#[template(path = "loan.html")]
struct LoanPage {
    ctx: Ctx,
    l: Loan,
    who: String,
    state: String,
    accessories: String,
    can_manage: bool,
    states: Vec<(&'static str, &'static str)>,
    today: String,
    error: Option<String>,
}

async fn loan_page(
    s: &AppState,
    a: &Auth,
    id: i64,
    error: Option<String>,
) -> Result<LoanPage, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let l = loans::get(&s.db, p, id, Utc::now()).await?;
    Ok(LoanPage {
        ctx: Ctx::page(
            a,
            format!(
                "{} {}",
                t(lang, "loans.loan"),
                l.asset_tag.as_deref().unwrap_or("")
            ),
            "schools",
        )
        .crumb(format!("/schools/{}", l.school_id), l.school_name.clone())
        .crumb(
            format!("/schools/{}/loans", l.school_id),
            t(lang, "loans.title"),
        ),
        who: holder(&l, lang),
        state: state_label(&l, lang),
        accessories: l
            .accessory_list()
            .iter()
            .map(|a| a.label(lang))
            .collect::<Vec<_>>()
            .join(", "),
        can_manage: p.can_manage_loans(l.school_id),
        states: ReturnState::ALL
            .iter()
            .map(|s| (s.code(), s.label(lang)))
            .collect(),
        today: super::today().format("%Y-%m-%d").to_string(),
        error,
        l,
    })
}

pub async fn loan(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<super::FlashQuery>,
) -> PageResult {
    let mut page = loan_page(&s, &a, id, None).await?;
    page.ctx = page.ctx.flash(flash_key(q.flash()));
    render(&page)
}

/// The return: the device's state follows, damage or loss opens a ticket.
pub async fn loan_return(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ReturnInput>,
) -> PageResult {
    let p = &a.p;
    let now = Utc::now();
    let result = async {
        let v = f.parse()?;
        write_tx!(s.db, tx => loans::give_back(tx, p, id, &v, now).await?)
    }
    .await;
    match result {
        Ok(l) => match l.ticket_id {
            Some(t) => Ok(see_other(&format!("/tickets/{t}"), "created")),
            None => Ok(see_other(&format!("/loans/{id}"), "saved")),
        },
        Err(e) => match error_text(&e, p.lang) {
            Some(msg) => unprocessable(render(&loan_page(&s, &a, id, Some(msg)).await?)?),
            None => Err(e.into()),
        },
    }
}

/// The family signed the agreement: the date, and the scan if the school keeps one.
pub async fn loan_sign(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    form: CsrfMultipart,
) -> PageResult {
    let p = &a.p;
    let now = Utc::now();
    let result = async {
        let on = form.text("signed_on").unwrap_or_default();
        let on = chrono::NaiveDate::parse_from_str(&on, "%Y-%m-%d")
            .map_err(|_| AppError::from(FieldError::new("signed_on", "not_a_date")))?;
        let scan = form
            .file("document")
            .map(|f| (f.file_name.clone().unwrap_or_default(), f.bytes.clone()));
        write_tx!(s.db, tx => loans::sign(tx, p, id, on, scan.as_ref().map(|(n, b)| (n.as_str(), &b[..])), now).await?)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/loans/{id}"), "saved")),
        Err(e) => match error_text(&e, p.lang) {
            Some(msg) => unprocessable(render(&loan_page(&s, &a, id, Some(msg)).await?)?),
            None => Err(e.into()),
        },
    }
}

pub async fn loan_document(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let (name, kind, bytes) = loans::document(&s.db, &a.p, id, Utc::now()).await?;
    Ok(crate::export::uploaded(&kind, &name, bytes))
}

#[derive(Template)]
#[template(path = "loans.html")]
struct LoansPage {
    ctx: Ctx,
    school: schools::School,
    can_lend: bool,
    error: Option<String>,
    rows: Vec<(i64, String, String, String, String, String, String)>,
    status: String,
    can_import: bool,
    columns: Vec<super::Column>,
    unsigned: bool,
    /// How many loans match, the page shown and how many pages.
    total: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoansQuery {
    #[serde(default)]
    status: Option<String>,
    /// `device`, `holder`, `class`, `given`, `signed`, `state`; `-` reverses.
    #[serde(default)]
    sort: Option<String>,
    /// Only pupils' loans whose charter is not signed.
    #[serde(default, deserialize_with = "preau_domain::text::opt_bool")]
    unsigned: Option<bool>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    page: Option<i64>,
}

const LOAN_SORTS: [&str; 6] = ["device", "holder", "class", "given", "signed", "state"];
const LOANS_PER_PAGE: usize = 50;

/// Sorts a school's loans as the list asks (`-` first: the other way).
fn sort_loans(list: &mut [Loan], sort: &str, lang: Lang) {
    let (desc, code) = super::sort_parts(sort);
    let key = |l: &Loan| -> String {
        match code {
            "device" => l
                .asset_tag
                .clone()
                .or_else(|| l.serial.clone())
                .unwrap_or_default(),
            "holder" => preau_domain::text::search_key(&holder(l, lang)),
            "class" => preau_domain::text::search_key(l.class_label.as_deref().unwrap_or("")),
            "signed" => l.signed_on.map(|d| d.to_string()).unwrap_or_default(),
            "state" => state_label(l, lang),
            _ => l.given_on.to_string(),
        }
    };
    list.sort_by_cached_key(|l| (key(l), l.id));
    if desc {
        list.reverse();
    }
}

fn loan_rows(
    list: &[Loan],
    lang: Lang,
) -> Vec<(i64, String, String, String, String, String, String)> {
    list.iter()
        .map(|l| {
            (
                l.id,
                l.asset_tag
                    .clone()
                    .or_else(|| l.serial.clone())
                    .unwrap_or_default(),
                holder(l, lang),
                l.class_label.clone().unwrap_or_default(),
                date(l.given_on),
                l.signed_on.map(date).unwrap_or_else(|| "—".into()),
                match l.returned_on {
                    Some(d) => format!("{} ({})", state_label(l, lang), date(d)),
                    None => state_label(l, lang),
                },
            )
        })
        .collect()
}

pub async fn school_loans(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<LoansQuery>,
) -> PageResult {
    render(&loans_page(&s, &a, id, &q, None).await?)
}

async fn loans_page(
    s: &AppState,
    a: &Auth,
    id: i64,
    q: &LoansQuery,
    error: Option<String>,
) -> Result<LoansPage, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let school = schools::get(&s.db, p, id).await?;
    if !p.can_see_pupils(id) {
        return Err(AppError::Forbidden.into());
    }
    let status = q.status.clone().unwrap_or_else(|| "open".into());
    let mut list = loans::list(
        &s.db,
        p,
        &LoanFilter {
            school_id: Some(id),
            class_id: None,
            status: Some(status.clone()),
        },
        5000,
        Utc::now(),
    )
    .await?;
    let unsigned = q.unsigned == Some(true);
    if unsigned {
        list.retain(|l| l.kind() == LoanKind::Eleve && l.signed_on.is_none());
    }
    let sort = q
        .sort
        .clone()
        .filter(|s| LOAN_SORTS.contains(&s.trim_start_matches('-')))
        .unwrap_or_else(|| "-given".into());
    sort_loans(&mut list, &sort, lang);
    let total = list.len();
    let pages = total.div_ceil(LOANS_PER_PAGE).max(1);
    let page = (q.page.unwrap_or(1).max(1) as usize).min(pages);
    let shown: Vec<Loan> = list
        .into_iter()
        .skip((page - 1) * LOANS_PER_PAGE)
        .take(LOANS_PER_PAGE)
        .collect();
    let base = format!(
        "/schools/{id}/loans?status={status}{}",
        if unsigned { "&unsigned=true" } else { "" }
    );
    let columns = super::sort_columns(
        lang,
        &sort,
        &[
            ("field.asset_tag", Some("device")),
            ("loans.holder", Some("holder")),
            ("field.class", Some("class")),
            ("loans.given_on", Some("given")),
            ("loans.signed_on", Some("signed")),
            ("loans.state", Some("state")),
        ],
        |next| format!("{base}&sort={next}"),
    );
    let link = |n: usize| format!("{base}&sort={sort}&page={n}");
    Ok(LoansPage {
        columns,
        unsigned,
        total,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        can_lend: p.can_manage_loans(id),
        error,
        ctx: Ctx::page(
            a,
            format!("{} — {}", t(lang, "loans.title"), school.name),
            "schools",
        )
        .crumb("/schools", p.lang_title("nav.schools"))
        .crumb(format!("/schools/{id}"), school.name.clone()),
        rows: loan_rows(&shown, lang),
        status,
        can_import: p.can_edit_classes(id),
        school,
    })
}

#[derive(Deserialize, Default)]
pub struct TeacherLoanForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    holder_name: Option<String>,
}

/// A device lent to a teacher from the school's loans page.
pub async fn school_lend(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<TeacherLoanForm>,
) -> PageResult {
    let p = &a.p;
    let now = Utc::now();
    let input = LoanInput {
        device: f.code,
        kind: LoanKind::Enseignant.code().into(),
        holder_name: f.holder_name,
        ..LoanInput::default()
    };
    let result = async {
        let v = input.parse()?;
        write_tx!(s.db, tx => loans::lend(tx, p, id, &v, now).await?)
    }
    .await;
    match result {
        Ok(l) => Ok(see_other(&format!("/loans/{}", l.id), "created")),
        Err(e) => match error_text(&e, p.lang) {
            Some(msg) => {
                let page = loans_page(&s, &a, id, &LoansQuery::default(), Some(msg)).await?;
                unprocessable(render(&page)?)
            }
            None => Err(e.into()),
        },
    }
}

pub async fn school_loans_export(
    State(s): State<AppState>,
    a: Auth,
    Path((id, format)): Path<(i64, String)>,
    Query(q): Query<LoansQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let school = schools::get(&s.db, p, id).await?;
    let list = loans::list(
        &s.db,
        p,
        &LoanFilter {
            school_id: Some(id),
            class_id: None,
            status: q.status.clone(),
        },
        5000,
        Utc::now(),
    )
    .await?;
    let mut rows = vec![
        [
            "field.asset_tag",
            "loans.holder",
            "field.class",
            "loans.given_on",
            "loans.signed_on",
            "loans.state",
        ]
        .iter()
        .map(|k| t(lang, k).to_string())
        .collect::<Vec<_>>(),
    ];
    rows.extend(
        loan_rows(&list, lang)
            .into_iter()
            .map(|r| vec![r.1, r.2, r.3, r.4, r.5, r.6]),
    );
    table(&format, "prets", &school.name, &rows)
}

// ---------------------------------------------------------------- one pupil

#[derive(Template)]
#[template(path = "pupil.html")]
struct PupilPage {
    ctx: Ctx,
    pupil: PupilView,
    class: classes::Class,
    purge_on: String,
    loans: Vec<(i64, String, String, String, String, String, String)>,
    can_erase: bool,
}

pub async fn pupil(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<super::FlashQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let row = pupils::get(&s.db, p, id, Utc::now()).await?;
    let class = classes::get(&s.db, p, row.class_id).await?;
    let list = loans::for_pupil(&s.db, p, id).await?;
    let view = pupil_views(std::slice::from_ref(&row), lang).remove(0);
    render(&PupilPage {
        ctx: Ctx::page(&a, view.name.clone(), "schools")
            .crumb(
                format!("/schools/{}", class.school_id),
                t(lang, "nav.schools"),
            )
            .crumb(format!("/classes/{}", class.id), class.label.clone())
            .flash(flash_key(q.flash())),
        purge_on: date(row.purge_on),
        loans: loan_rows(&list, lang),
        can_erase: p.can_manage_loans(class.school_id) && row.label.is_some(),
        pupil: view,
        class,
    })
}

pub async fn pupil_export(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let v = pupils::export(&s.db, &a.p, id, Utc::now()).await?;
    Ok(download(
        &format!("eleve-{id}.json"),
        "application/json",
        serde_json::to_vec_pretty(&v).unwrap_or_default(),
    ))
}

pub async fn pupil_erase(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    pupils::erase(&s.db, &a.p, id, Utc::now()).await?;
    Ok(see_other(&format!("/pupils/{id}"), "deleted"))
}

// ---------------------------------------------------------------- counts

#[derive(Template)]
#[template(path = "tablets.html")]
struct TabletsPage {
    ctx: Ctx,
    year: String,
    years: Vec<(i64, String, bool)>,
    rows: Vec<TabletCounts>,
    total: TabletCounts,
    see_loans: Vec<i64>,
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    year: Option<i64>,
}

async fn tablet_counts(
    s: &AppState,
    p: &Principal,
    q: &YearQuery,
) -> Result<
    (
        years::SchoolYear,
        Vec<years::SchoolYear>,
        Vec<TabletCounts>,
        TabletCounts,
    ),
    PageError,
> {
    let all = years::list(&s.db, p).await?;
    let year = match q.year {
        Some(id) => years::get(&s.db, p, id).await?,
        None => years::current(&s.db, p, super::today())
            .await?
            .ok_or(AppError::NotFound)?,
    };
    let rows = loans::counts(&s.db, p, &year).await?;
    let mut total = TabletCounts {
        school_name: t(p.lang, "tablets.total").to_string(),
        ..TabletCounts::default()
    };
    for r in &rows {
        total.fleet += r.fleet;
        total.in_service += r.in_service;
        total.assigned += r.assigned;
        total.available += r.available;
        total.in_repair += r.in_repair;
        total.pupils += r.pupils;
        total.pupils_without += r.pupils_without;
        total.lent_in_year += r.lent_in_year;
        total.broken += r.broken;
        total.lost += r.lost;
        total.stolen += r.stolen;
    }
    Ok((year, all, rows, total))
}

pub async fn tablets(State(s): State<AppState>, a: Auth, Query(q): Query<YearQuery>) -> PageResult {
    let p = &a.p;
    let (year, all, rows, total) = tablet_counts(&s, p, &q).await?;
    render(&TabletsPage {
        ctx: Ctx::page(&a, p.lang_title("tablets.title"), "tablets"),
        see_loans: rows
            .iter()
            .map(|r| r.school_id)
            .filter(|id| p.can_see_pupils(*id))
            .collect(),
        years: all
            .iter()
            .map(|y| (y.id, y.label.clone(), y.id == year.id))
            .collect(),
        year: year.label,
        rows,
        total,
    })
}

pub async fn tablets_export(
    State(s): State<AppState>,
    a: Auth,
    Path(format): Path<String>,
    Query(q): Query<YearQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let (year, _, rows, total) = tablet_counts(&s, p, &q).await?;
    let mut out = vec![
        [
            "field.school",
            "tablets.fleet",
            "tablets.in_service",
            "tablets.assigned",
            "tablets.available",
            "tablets.in_repair",
            "tablets.pupils",
            "tablets.without",
            "tablets.lent",
            "tablets.broken",
            "tablets.lost",
            "tablets.stolen",
        ]
        .iter()
        .map(|k| t(lang, k).to_string())
        .collect::<Vec<_>>(),
    ];
    for r in rows.iter().chain(std::iter::once(&total)) {
        out.push(vec![
            r.school_name.clone(),
            r.fleet.to_string(),
            r.in_service.to_string(),
            r.assigned.to_string(),
            r.available.to_string(),
            r.in_repair.to_string(),
            r.pupils.to_string(),
            r.pupils_without.to_string(),
            r.lent_in_year.to_string(),
            r.broken.to_string(),
            r.lost.to_string(),
            r.stolen.to_string(),
        ]);
    }
    table(
        &format,
        &format!("tablettes-{}", year.label),
        &year.label,
        &out,
    )
}

// ---------------------------------------------------------------- settings and the record of processing

#[derive(Template)]
#[template(path = "admin_pupils.html")]
struct SettingsPage {
    ctx: Ctx,
    settings: pupils::Settings,
    modes: Vec<(&'static str, &'static str)>,
    schools: Vec<(i64, String, bool)>,
    holdings: pupils::Holdings,
    errors: Vec<String>,
}

async fn settings_page(
    s: &AppState,
    a: &Auth,
    errors: Vec<String>,
) -> Result<SettingsPage, PageError> {
    let p = &a.p;
    if !p.can_manage_collectivite() {
        return Err(AppError::Forbidden.into());
    }
    Ok(SettingsPage {
        ctx: Ctx::page(a, p.lang_title("pupils.settings"), "admin")
            .crumb("/admin", p.lang_title("nav.admin")),
        settings: pupils::settings(&s.db, p).await?,
        modes: LabelMode::ALL
            .iter()
            .map(|m| (m.code(), m.label(p.lang)))
            .collect(),
        schools: pupils::rollover_choices(&s.db, p).await?,
        holdings: pupils::holdings(&s.db, p, Utc::now()).await?,
        errors,
    })
}

pub async fn settings(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<super::FlashQuery>,
) -> PageResult {
    let mut page = settings_page(&s, &a, Vec::new()).await?;
    page.ctx = page.ctx.flash(flash_key(q.flash()));
    render(&page)
}

#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(flatten)]
    input: SettingsInput,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    version: Option<i64>,
}

pub async fn settings_save(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> PageResult {
    let p = &a.p;
    let result = async {
        let v = f.input.parse()?;
        write_tx!(s.db, tx => pupils::set_settings(tx, p, f.version.unwrap_or(0), &v, Utc::now()).await?)
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/pupils", "saved")),
        Err(e) => match error_text(&e, p.lang) {
            Some(msg) => unprocessable(render(&settings_page(&s, &a, vec![msg]).await?)?),
            None => Err(e.into()),
        },
    }
}

/// The rollover choice of every school at once: `follow_{id}` present for those whose
/// tablets follow their pupils.
pub async fn rollover_save(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    let p = &a.p;
    let schools = pupils::rollover_choices(&s.db, p).await?;
    write_tx!(s.db, tx => {
        for (id, _, _) in &schools {
            let follow = f.get(&format!("follow_{id}")).is_some_and(|v| v == "1");
            pupils::set_rollover(tx, p, *id, follow, Utc::now()).await?;
        }
    })?;
    Ok(see_other("/admin/pupils", "saved"))
}

#[derive(Template)]
#[template(path = "registre.html")]
struct RegistrePage {
    ctx: Ctx,
    collectivite: String,
    settings: pupils::Settings,
    mode: &'static str,
    holdings: pupils::Holdings,
    /// `(role, what it sees)`
    recipients: Vec<(&'static str, &'static str)>,
    generated: String,
}

/// The record-of-processing entry for the loans of devices to pupils, from what this
/// deployment actually keeps and who actually sees it.
pub async fn registre(State(s): State<AppState>, a: Auth) -> PageResult {
    let p = &a.p;
    if !(p.can_manage_collectivite() || p.has(Role::Directeur)) {
        return Err(AppError::Forbidden.into());
    }
    let lang = p.lang;
    let settings = pupils::settings(&s.db, p).await?;
    let c = preau_core::collectivites::get(&s.db, p, p.collectivite_id).await?;
    let recipients = Role::ALL
        .iter()
        .map(|r| {
            let sees = match r {
                Role::Administrateur | Role::Directeur | Role::Enseignant | Role::Technicien => {
                    "registre.sees_labels"
                }
                Role::Elu | Role::Erun => "registre.sees_counts",
                Role::Prestataire | Role::Intervenant => "registre.sees_nothing",
            };
            (r.label(lang), t(lang, sees))
        })
        .collect();
    render(&RegistrePage {
        ctx: Ctx::page(&a, p.lang_title("registre.title"), "admin"),
        collectivite: c.name,
        mode: settings.mode().label(lang),
        holdings: pupils::holdings(&s.db, p, Utc::now()).await?,
        settings,
        recipients,
        generated: date(super::today()),
    })
}
