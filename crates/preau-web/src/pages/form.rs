//! Form machinery every feature's pages share: fields and their errors, the create/edit
//! form page (`FormSpec`, `save`), redirects with a flash message, select options.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use preau_core::AppError;
use preau_domain::{FieldError, Lang};
use serde::Deserialize;

use super::page::{Ctx, LangTitle, render};
use crate::error::PageError;
use crate::session::Auth;

type PageResult = Result<Response, PageError>;

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
/// A form read as pairs (repeated fields): the first non-empty value of `name`, trimmed.
pub fn pair_value(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(n, v)| n == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
}

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
        "booked" => Some("flash.booked"),
        "booking_cancelled" => Some("flash.booking_cancelled"),
        "bulk_done" => Some("bulk_devices.done"),
        _ => None,
    }
}

/// Amounts in euros posted as `{prefix}{key}` fields (a price per category, a cost per
/// contract): each key with its cents (`None` when left empty), or every wrong field.
pub fn euros_by_key(
    pairs: &[(String, String)],
    prefix: &str,
) -> Result<Vec<(String, Option<i64>)>, AppError> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for (k, v) in pairs {
        let Some(key) = k.strip_prefix(prefix) else {
            continue;
        };
        match preau_domain::device::euros_to_cents(k, Some(v)) {
            Ok(c) => values.push((key.to_string(), c)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Field errors as one sentence, for forms that show them in a single box.
pub fn messages(errs: &[FieldError], lang: Lang) -> String {
    errs.iter()
        .map(|e| e.message(lang))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

impl FlashQuery {
    pub fn flash(&self) -> Option<&str> {
        self.flash.as_deref()
    }
}

fn form_page(
    ctx: Ctx,
    action: String,
    fields: Vec<Field>,
    hidden: Vec<(String, String)>,
    submit: &str,
    cancel: String,
) -> FormPage {
    FormPage {
        ctx,
        action,
        fields,
        hidden,
        submit: submit.to_string(),
        cancel,
        has_errors: false,
        other_errors: Vec::new(),
    }
}

/// A create or edit form: its title, where it posts, where "cancel" goes, and for an
/// edit the version it was read at (sent back for optimistic concurrency).
pub(crate) struct FormSpec {
    title: &'static str,
    action: String,
    cancel: String,
    version: Option<i64>,
    crumb: Option<(String, String)>,
    section: &'static str,
}

impl FormSpec {
    /// A creation form posting to `action`.
    pub(crate) fn new(
        title: &'static str,
        action: impl Into<String>,
        cancel: impl Into<String>,
    ) -> FormSpec {
        FormSpec {
            title,
            action: action.into(),
            cancel: cancel.into(),
            version: None,
            crumb: None,
            section: "schools",
        }
    }

    /// An edit form for the object whose page is `page` (it posts to `page/edit`).
    pub(crate) fn edit(title: &'static str, page: String, version: i64) -> FormSpec {
        FormSpec {
            version: Some(version),
            ..FormSpec::new(title, format!("{page}/edit"), page)
        }
    }

    pub(crate) fn crumb(mut self, href: impl Into<String>, label: impl Into<String>) -> FormSpec {
        self.crumb = Some((href.into(), label.into()));
        self
    }

    pub(crate) fn section(mut self, section: &'static str) -> FormSpec {
        self.section = section;
        self
    }

    /// Renders the form with `fields`, marking `errors` beside the fields they name.
    pub(crate) fn show(
        self,
        a: &Auth,
        fields: Vec<Field>,
        errors: &[preau_domain::FieldError],
    ) -> PageResult {
        let p = &a.p;
        let mut ctx = Ctx::page(a, p.lang_title(self.title), self.section);
        if let Some((href, label)) = self.crumb {
            ctx = ctx.crumb(href, label);
        }
        let (hidden, submit) = match self.version {
            Some(v) => (vec![("version".to_string(), v.to_string())], "form.save"),
            None => (Vec::new(), "form.create"),
        };
        form_page(
            ctx,
            self.action,
            fields,
            hidden,
            crate::i18n::t(p.lang, submit),
            self.cancel,
        )
        .respond(errors)
    }
}

/// Ends a form's write (run with `write_tx!`). On success it redirects to the page `done` names, with a "created" or "saved" flash; on invalid or
/// conflicting input it shows the form again with what was typed and the errors.
pub(crate) fn save<T>(
    a: &Auth,
    result: preau_core::AppResult<T>,
    done: impl FnOnce(T) -> String,
    spec: FormSpec,
    fields: Vec<Field>,
) -> PageResult {
    match result {
        Ok(v) => Ok(see_other(
            &done(v),
            if spec.version.is_some() {
                "saved"
            } else {
                "created"
            },
        )),
        Err(e) => spec.show(a, fields, &form_errors(e)?),
    }
}

/// Splits a use-case error: field errors go back to the form, the rest to the error page.
pub(crate) fn form_errors(e: AppError) -> Result<Vec<preau_domain::FieldError>, PageError> {
    match e {
        AppError::Invalid(errs) => Ok(errs),
        AppError::Conflict(f) => Ok(vec![f]),
        other => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct Empty {}
