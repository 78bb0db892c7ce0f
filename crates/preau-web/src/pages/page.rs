//! What every page shares: its context (language, user, navigation, CSRF token, flash),
//! rendering, and how dates and times read (Europe/Paris).

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use preau_domain::{Lang, Principal, Role};

use crate::AppState;
use crate::error::PageError;
use crate::i18n;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct UserBox {
    pub display_name: String,
    pub collectivite: String,
    /// The header's search box (not for a remote speaker, who has nothing to look up).
    pub search: bool,
    /// Notifications not opened yet (the bell), up to `notifications::COUNT_CAP`.
    pub unread: i64,
}

impl UserBox {
    /// The bell's count as shown: `99+` past the cap.
    pub fn unread_label(&self) -> String {
        if self.unread >= preau_core::notifications::COUNT_CAP {
            format!("{}+", preau_core::notifications::COUNT_CAP - 1)
        } else {
            self.unread.to_string()
        }
    }
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
    /// A standing warning above the page (a school year's holidays not loaded, on pages
    /// that show deadlines).
    pub notice: Option<String>,
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

    /// The layout of a signed-in person's page, with their unread notifications.
    pub fn page(a: &crate::session::Auth, title: impl Into<String>, section: &str) -> Ctx {
        let mut ctx = Ctx::for_user(&a.p, &a.csrf, title, section);
        if let Some(u) = ctx.user.as_mut() {
            u.unread = a.unread;
        }
        ctx
    }

    /// The layout for a logged-in user; `section` marks the current menu entry.
    pub fn for_user(p: &Principal, csrf: &str, title: impl Into<String>, section: &str) -> Ctx {
        if p.has_only(Role::Intervenant) {
            // A remote speaker: their sessions, nothing of the schools' fleet.
            let nav = vec![
                ("/", "nav.home", "home"),
                ("/visio", "nav.visio", "visio"),
                ("/account", "nav.account", "account"),
            ];
            return Ctx::with_nav(p, csrf, title.into(), section, nav);
        }
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
        if !p.visio_reach().is_empty() {
            nav.push(("/visio", "nav.visio", "visio"));
        }
        if !p.readable_schools().is_empty() {
            nav.push(("/reservations", "nav.bookings", "bookings"));
        }
        if p.can_read_contracts() {
            nav.push(("/contracts", "nav.contracts", "contracts"));
        }
        if p.can_see_dashboard() {
            nav.push(("/dashboard", "nav.dashboard", "dashboard"));
        }
        if p.sees_some_coverage() {
            nav.push(("/coverage", "nav.coverage", "coverage"));
        }
        if p.can_see_dashboard() {
            nav.push(("/renewal", "nav.renewal", "renewal"));
        }
        if p.sees_some_coverage() {
            nav.push(("/needs", "nav.needs", "needs"));
        }
        // Contractors and operators read the connection of their lots' schools.
        nav.push(("/connectivity", "nav.connectivity", "connectivity"));
        if p.can_see_funding() {
            nav.push(("/funding", "nav.funding", "funding"));
            nav.push(("/council", "nav.council", "council"));
        }
        if p.can_manage_collectivite() || p.can_manage_users() || p.can_read_audit() {
            nav.push(("/admin", "nav.admin", "admin"));
        }
        nav.push(("/account", "nav.account", "account"));
        Ctx::with_nav(p, csrf, title.into(), section, nav)
    }

    fn with_nav(
        p: &Principal,
        csrf: &str,
        title: String,
        section: &str,
        nav: Vec<(&'static str, &'static str, &'static str)>,
    ) -> Ctx {
        let lang = p.lang;
        Ctx {
            lang,
            title,
            user: Some(UserBox {
                search: !p.has_only(Role::Intervenant),
                unread: 0,
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
            notice: None,
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
            notice: None,
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

    pub fn notice(mut self, text: Option<String>) -> Ctx {
        self.notice = text;
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

/// A UTC instant as people read it, in Europe/Paris.
pub fn paris(t: chrono::DateTime<chrono::Utc>) -> String {
    preau_domain::paris::display(t)
}

/// Short-hand for a translated page title.
pub(crate) trait LangTitle {
    fn lang_title(&self, key: &str) -> String;
}
impl LangTitle for Principal {
    fn lang_title(&self, key: &str) -> String {
        crate::i18n::t(self.lang, key).to_string()
    }
}

/// The address QR codes point to: the configured public URL, else this request's host.
pub fn base_url(s: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &s.config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// A list's column heading: a link that sorts by it when it can, and which way it is
/// sorted now (`aria-sort`).
pub struct Column {
    pub label: &'static str,
    pub href: Option<String>,
    pub aria_sort: Option<&'static str>,
}

/// A list's order as its address writes it: `name`, or `-name` the other way. Returns
/// whether it is reversed, and the column's code.
pub fn sort_parts(sort: &str) -> (bool, &str) {
    match sort.strip_prefix('-') {
        Some(code) => (true, code),
        None => (false, sort),
    }
}

/// Column headings for a list sorted by `current`: each column with a code links to the
/// list in that order (`href_of` writes the address for an order), the current one marked
/// and, clicked again, reversed.
pub fn sort_columns(
    lang: Lang,
    current: &str,
    columns: &[(&str, Option<&str>)],
    href_of: impl Fn(&str) -> String,
) -> Vec<Column> {
    let (desc, now) = sort_parts(current);
    columns
        .iter()
        .map(|(key, code)| {
            let label = i18n::t(lang, key);
            match code {
                None => Column {
                    label,
                    href: None,
                    aria_sort: None,
                },
                Some(code) => {
                    let here = *code == now;
                    let next = if here && !desc {
                        format!("-{code}")
                    } else {
                        code.to_string()
                    };
                    Column {
                        label,
                        href: Some(href_of(&next)),
                        aria_sort: here.then_some(if desc { "descending" } else { "ascending" }),
                    }
                }
            }
        })
        .collect()
}
