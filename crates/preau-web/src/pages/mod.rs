//! Server-rendered pages. Every core flow works without JavaScript; `preau.js` only adds
//! confirmations and focus. Forms go through `CsrfForm`, which refuses a missing token.

mod admin;
mod assistance;
mod contracts;
mod dashboard;
mod device_import;
pub mod devices;
mod import;
mod labels;
mod org;
mod planning;
pub mod pupils;
mod tickets;
mod user;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use preau_domain::{FieldError, Lang, Principal, Role};

use crate::AppState;
use crate::error::PageError;
use crate::i18n;
use crate::session::Caller;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(org::home))
        .route("/login", get(user::login_page).post(user::login))
        .route("/logout", post(user::logout))
        .route("/account", get(user::account))
        .route("/account/password", post(user::change_password))
        .route("/account/lang", post(user::change_lang))
        .route("/account/tokens", post(user::create_token))
        .route("/account/tokens/{id}/revoke", post(user::revoke_token))
        .route("/schools", get(org::schools).post(org::school_create))
        .route("/schools/new", get(org::school_new))
        .route(
            "/schools/import",
            get(import::form)
                .post(import::preview)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
        )
        .route("/schools/import/apply", post(import::apply))
        .route("/devices", get(devices::list).post(devices::create))
        .route("/devices/new", get(devices::new))
        .route(
            "/devices/import",
            get(device_import::form)
                .post(device_import::preview)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
        )
        .route("/devices/import/apply", post(device_import::apply))
        .route("/devices/place", post(devices::place))
        .route("/devices/duplicates", get(devices::duplicates))
        .route("/devices/merge", post(devices::merge))
        .route("/devices/export/{format}", get(devices::export))
        .route("/devices/{id}", get(devices::show_device))
        .route(
            "/devices/{id}/edit",
            get(devices::edit).post(devices::update),
        )
        .route("/labels", get(labels::labels))
        .route(
            "/tickets",
            get(tickets::list)
                .post(tickets::create)
                .layer(axum::extract::DefaultBodyLimit::max(tickets::MAX_REPORT)),
        )
        .route("/tickets/new", get(tickets::new_form))
        .route("/tickets/{id}", get(tickets::show))
        .route("/tickets/{id}/take", post(tickets::take))
        .route("/tickets/{id}/status", post(tickets::status))
        .route("/tickets/{id}/assign", post(tickets::assign))
        .route("/tickets/{id}/priority", post(tickets::priority))
        .route("/tickets/{id}/comments", post(tickets::comment))
        .route("/tickets/{id}/confirm", post(tickets::confirm))
        .route("/tickets/{id}/reopen", post(tickets::reopen))
        .route(
            "/tickets/{id}/attachments",
            post(tickets::attach).layer(axum::extract::DefaultBodyLimit::max(tickets::MAX_REPORT)),
        )
        .route("/tickets/{id}/attachments/{aid}", get(tickets::attachment))
        .route("/q/{id}", get(tickets::qr))
        .route("/tickets/{id}/plan", post(planning::plan))
        .route("/interventions/{id}/status", post(planning::set_status))
        .route("/planning", get(planning::week))
        .route("/planning/feed", post(planning::create_feed))
        .route("/ical/{file}", get(planning::feed))
        .route("/contracts", get(contracts::list).post(contracts::create))
        .route("/contracts/new", get(contracts::new))
        .route("/contractors", post(contracts::contractor_create))
        .route("/contracts/{id}", get(contracts::show))
        .route(
            "/contracts/{id}/edit",
            get(contracts::edit).post(contracts::update),
        )
        .route("/contracts/{id}/lots/new", get(contracts::lot_new))
        .route("/contracts/{id}/lots", post(contracts::lot_create))
        .route(
            "/lots/{id}/grid",
            get(contracts::grid_form).post(contracts::grid_save),
        )
        .route(
            "/lots/{id}/perimeter",
            get(contracts::perimeter_form).post(contracts::perimeter_save),
        )
        .route("/reports/sla", get(contracts::report))
        .route("/reports/sla/{format}", get(contracts::report_export))
        .route("/schools/{id}/networks", post(org::school_networks))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/dashboard.csv", get(dashboard::dashboard_csv))
        .route("/admin", get(admin::index))
        .route(
            "/admin/agents",
            get(admin::agents_show).post(admin::agents_set),
        )
        .route(
            "/admin/categories",
            get(admin::categories_show).post(admin::category_create),
        )
        .route(
            "/admin/collectivite/edit",
            get(admin::collectivite_edit).post(admin::collectivite_update),
        )
        .route(
            "/admin/users/{id}/edit",
            get(admin::user_edit).post(admin::user_update),
        )
        .route("/schools/export.csv", get(org::schools_export))
        .route("/schools/{id}", get(org::school))
        .route(
            "/schools/{id}/edit",
            get(org::school_edit).post(org::school_update),
        )
        .route(
            "/schools/{id}/rooms/new",
            get(org::room_new).post(org::room_create),
        )
        .route(
            "/schools/{id}/classes/new",
            get(org::class_new).post(org::class_create),
        )
        .route("/rooms/{id}", get(org::room))
        .route(
            "/rooms/{id}/edit",
            get(org::room_edit).post(org::room_update),
        )
        .route("/rooms/{id}/delete", post(org::room_delete))
        .route("/classes/{id}", get(org::class))
        .route(
            "/classes/{id}/edit",
            get(org::class_edit).post(org::class_update),
        )
        .route("/classes/{id}/delete", post(org::class_delete))
        .route("/school-years", get(admin::years).post(admin::year_create))
        .route("/school-years/new", get(admin::year_new))
        .route("/admin/users", get(admin::users).post(admin::user_create))
        .route("/admin/users/new", get(admin::user_new))
        .route("/admin/users/{id}", get(admin::user))
        .route("/admin/users/{id}/roles", post(admin::role_add))
        .route(
            "/admin/users/{id}/roles/{rid}/delete",
            post(admin::role_remove),
        )
        .route("/admin/users/{id}/password", post(admin::password_reset))
        .route("/admin/users/{id}/active", post(admin::set_active))
        .route("/admin/audit", get(admin::audit))
        .route(
            "/admin/pupils",
            get(pupils::settings).post(pupils::settings_save),
        )
        .route("/admin/pupils/rollover", post(pupils::rollover_save))
        .route("/admin/registre", get(pupils::registre))
        .route(
            "/schools/{id}/onde",
            get(pupils::onde_form)
                .post(pupils::onde_preview)
                .layer(axum::extract::DefaultBodyLimit::max(pupils::MAX_UPLOAD)),
        )
        .route("/schools/{id}/onde/apply", post(pupils::onde_apply))
        .route(
            "/schools/{id}/loans",
            get(pupils::school_loans).post(pupils::school_lend),
        )
        .route(
            "/schools/{id}/loans/{format}",
            get(pupils::school_loans_export),
        )
        .route(
            "/classes/{id}/tablets",
            get(pupils::bulk).post(pupils::bulk_scan),
        )
        .route("/classes/{id}/tablets/pair", post(pupils::bulk_pair))
        .route("/classes/{id}/pupils/{format}", get(pupils::class_export))
        .route("/loans/{id}", get(pupils::loan))
        .route("/loans/{id}/return", post(pupils::loan_return))
        .route(
            "/loans/{id}/sign",
            post(pupils::loan_sign).layer(axum::extract::DefaultBodyLimit::max(pupils::MAX_UPLOAD)),
        )
        .route("/loans/{id}/document", get(pupils::loan_document))
        .route("/pupils/{id}", get(pupils::pupil))
        .route("/pupils/{id}/export", get(pupils::pupil_export))
        .route("/pupils/{id}/erase", post(pupils::pupil_erase))
        .route("/tablets", get(pupils::tablets))
        .route("/tablets/{format}", get(pupils::tablets_export))
        .route("/admin/assistance", get(assistance::show))
        .route("/admin/assistance/settings", post(assistance::settings))
        .route("/admin/routing", post(assistance::add_rule))
        .route("/admin/routing/{id}/delete", post(assistance::delete_rule))
        .route(
            "/admin/calendar",
            post(assistance::import_calendar).layer(axum::extract::DefaultBodyLimit::max(
                assistance::MAX_CALENDAR,
            )),
        )
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct UserBox {
    pub display_name: String,
    pub collectivite: String,
}

/// What every page's layout needs: language, user, navigation, CSRF token, flash.
pub struct Ctx {
    pub lang: Lang,
    pub title: String,
    pub user: Option<UserBox>,
    pub nav: Vec<NavItem>,
    pub crumbs: Vec<(String, String)>,
    pub csrf: String,
    pub flash: Option<String>,
}

impl Ctx {
    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "en",
            Lang::En => "fr",
        }
    }
    pub fn other_lang_label(&self) -> &'static str {
        match self.lang {
            Lang::Fr => "English",
            Lang::En => "Français",
        }
    }

    /// The layout for a logged-in user; `section` marks the current menu entry.
    pub fn for_user(p: &Principal, csrf: &str, title: impl Into<String>, section: &str) -> Ctx {
        let lang = p.lang;
        let mut nav = vec![
            ("/", "nav.home", "home"),
            ("/schools", "nav.schools", "schools"),
            ("/devices", "nav.devices", "devices"),
        ];
        if p.can_use_tickets() {
            nav.push(("/tickets", "nav.tickets", "tickets"));
        }
        if p.is_admin()
            || p.has(Role::Technicien)
            || p.has(Role::Prestataire)
            || p.has(Role::Directeur)
        {
            nav.push(("/planning", "nav.planning", "planning"));
        }
        if !p.has(Role::Prestataire) || p.assignments.iter().any(|a| a.role != Role::Prestataire) {
            nav.push(("/tablets", "nav.tablets", "tablets"));
        }
        if p.can_read_contracts() {
            nav.push(("/contracts", "nav.contracts", "contracts"));
        }
        if p.can_see_dashboard() {
            nav.push(("/dashboard", "nav.dashboard", "dashboard"));
        }
        if p.can_manage_collectivite() || p.can_manage_users() || p.can_read_audit() {
            nav.push(("/admin", "nav.admin", "admin"));
        }
        nav.push(("/account", "nav.account", "account"));
        Ctx {
            lang,
            title: title.into(),
            user: Some(UserBox {
                display_name: p.display_name.clone(),
                collectivite: String::new(),
            }),
            nav: nav
                .into_iter()
                .map(|(href, key, id)| NavItem {
                    href,
                    label: i18n::t(lang, key),
                    current: id == section,
                })
                .collect(),
            crumbs: Vec::new(),
            csrf: csrf.to_string(),
            flash: None,
        }
    }

    pub fn anonymous(lang: Lang, csrf: &str, title: impl Into<String>) -> Ctx {
        Ctx {
            lang,
            title: title.into(),
            user: None,
            nav: Vec::new(),
            crumbs: Vec::new(),
            csrf: csrf.to_string(),
            flash: None,
        }
    }

    pub fn crumb(mut self, href: impl Into<String>, label: impl Into<String>) -> Ctx {
        self.crumbs.push((href.into(), label.into()));
        self
    }

    pub fn flash(mut self, key: Option<&str>) -> Ctx {
        self.flash = key.map(|k| i18n::t(self.lang, k).to_string());
        self
    }
}

/// Renders a template into an HTML response.
pub fn render<T: Template>(t: &T) -> Result<Response, PageError> {
    match t.render() {
        Ok(html) => Ok(Html(html).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            Err(PageError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                key: "error.internal",
                detail: None,
            })
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: Ctx,
    status: u16,
    key: &'a str,
    detail: Option<String>,
}

/// The error page, in the caller's language.
pub fn render_error(caller: &Caller, err: &PageError) -> Response {
    let csrf = caller.csrf.clone().unwrap_or_default();
    let title = i18n::t(caller.lang, "error.title");
    let ctx = match &caller.principal {
        Some(p) if !caller.via_token => Ctx::for_user(p, &csrf, title, ""),
        _ => Ctx::anonymous(caller.lang, &csrf, title),
    };
    let page = ErrorPage {
        ctx,
        status: err.status.as_u16(),
        key: err.key,
        detail: err.detail.clone(),
    };
    let body = page
        .render()
        .unwrap_or_else(|_| i18n::t(caller.lang, err.key).to_string());
    (err.status, Html(body)).into_response()
}

/// A form input, rendered by `fields.html`.
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    /// `text`, `number`, `date`, `email`, `password`, or `select`.
    pub input: &'static str,
    pub options: Vec<(String, String)>,
    pub required: bool,
    pub error: Option<String>,
    pub hint: Option<String>,
    pub autocomplete: &'static str,
}

impl Field {
    pub fn text(name: &'static str, label: &str, value: impl Into<String>) -> Field {
        Field {
            name,
            label: label.to_string(),
            value: value.into(),
            input: "text",
            options: Vec::new(),
            required: false,
            error: None,
            hint: None,
            autocomplete: "",
        }
    }
    pub fn select(
        name: &'static str,
        label: &str,
        value: impl Into<String>,
        options: Vec<(String, String)>,
    ) -> Field {
        Field {
            input: "select",
            options,
            ..Field::text(name, label, value)
        }
    }
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub fn input(mut self, input: &'static str) -> Field {
        self.input = input;
        self
    }
    pub fn hint(mut self, hint: &str) -> Field {
        self.hint = Some(hint.to_string());
        self
    }
    pub fn autocomplete(mut self, a: &'static str) -> Field {
        self.autocomplete = a;
        self
    }
    pub fn is_select(&self) -> bool {
        self.input == "select"
    }
}

/// Puts each field error next to its field; errors with no field go to the summary.
pub fn attach_errors(fields: &mut [Field], errors: &[FieldError], lang: Lang) -> Vec<String> {
    let mut other = Vec::new();
    for e in errors {
        match fields.iter_mut().find(|f| f.name == e.field) {
            Some(f) => f.error = Some(e.message(lang)),
            None => other.push(e.message(lang)),
        }
    }
    other
}

#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub ctx: Ctx,
    pub action: String,
    pub fields: Vec<Field>,
    pub hidden: Vec<(String, String)>,
    pub submit: String,
    pub cancel: String,
    pub has_errors: bool,
    pub other_errors: Vec<String>,
}

impl FormPage {
    /// Renders the form, with a 422 status when it carries errors.
    pub fn respond(mut self, errors: &[FieldError]) -> Result<Response, PageError> {
        self.other_errors = attach_errors(&mut self.fields, errors, self.ctx.lang);
        self.has_errors = !errors.is_empty();
        let mut resp = render(&self)?;
        if errors.iter().any(|e| e.code == "version_conflict") {
            *resp.status_mut() = StatusCode::CONFLICT;
        } else if self.has_errors {
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        Ok(resp)
    }
}

/// A form for an input type plus the `version` it was read at (edit forms send it back
/// for optimistic concurrency; creation forms have none).
#[derive(serde::Deserialize)]
pub struct Versioned<T> {
    #[serde(flatten)]
    pub input: T,
    pub version: Option<i64>,
}

/// Options for a closed set of codes, labelled in the given language.
pub fn options<T: Copy>(
    all: &[T],
    code: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (code(*v).to_string(), label(*v).to_string()))
        .collect()
}

/// A 303 redirect after a successful form, with a flash key in the query.
pub fn see_other(path: &str, flash: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{path}{sep}flash={flash}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Maps `?flash=` to a known message key (anything else shows nothing).
pub fn flash_key(flash: Option<&str>) -> Option<&'static str> {
    match flash? {
        "saved" => Some("flash.saved"),
        "created" => Some("flash.created"),
        "deleted" => Some("flash.deleted"),
        "password_changed" => Some("flash.password_changed"),
        "placed" => Some("flash.placed"),
        "merged" => Some("flash.merged"),
        "choose_school" => Some("flash.choose_school"),
        "nothing_selected" => Some("flash.nothing_selected"),
        _ => None,
    }
}

pub fn role_labels(p: &Principal) -> String {
    let mut roles: Vec<Role> = p.assignments.iter().map(|a| a.role).collect();
    roles.sort();
    roles.dedup();
    roles
        .iter()
        .map(|r| r.label(p.lang))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/preau.css"),
    )
}

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/preau.js"),
    )
}

/// Today's date in Europe/Paris, the calendar every page and list speaks.
pub fn today() -> chrono::NaiveDate {
    preau_domain::paris::day(chrono::Utc::now())
}

/// Field errors as one sentence, for forms that show them in a single box.
pub fn messages(errs: &[FieldError], lang: Lang) -> String {
    errs.iter()
        .map(|e| e.message(lang))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A UTC instant as people read it, in Europe/Paris.
pub fn paris(t: chrono::DateTime<chrono::Utc>) -> String {
    preau_domain::paris::display(t)
}
