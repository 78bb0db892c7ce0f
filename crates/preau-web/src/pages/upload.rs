//! The preview-then-confirm flow every upload shares (schools, devices, ONDE): the file
//! is imported without writing and the page shows what would change; a clean preview keeps
//! the file under a key, the confirmation takes exactly that file back and applies it.
//! A file with errors, a missing file or an expired key answers 422, so that scripts and
//! tests see the refusal.

use askama::Template;
use axum::response::Response;
use preau_core::import::LineError;

use super::page::render;
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, Part};

type PageResult = Result<Response, PageError>;

/// An import page: the form, and after an upload its report.
pub trait ImportView: Template {
    type Report;
    /// The report's line errors: any, and nothing is (or would be) written.
    fn errors(report: &Self::Report) -> &[LineError];
    fn set_file_error(&mut self, message: &'static str);
    fn set_file_name(&mut self, name: String);
    fn set_confirm_key(&mut self, key: String);
    fn set_report(&mut self, report: Self::Report);
    /// The confirmation wrote the file (pages that say so).
    fn set_applied(&mut self, _applied: bool) {}
}

/// One import's flow, for the signed-in user; `kind` keeps one import's files from
/// confirming another's.
pub struct Flow<'a> {
    s: &'a AppState,
    a: &'a Auth,
    kind: &'static str,
}

impl<'a> Flow<'a> {
    pub fn new(s: &'a AppState, a: &'a Auth, kind: &'static str) -> Flow<'a> {
        Flow { s, a, kind }
    }

    /// The form was sent without a file.
    pub fn no_file<V: ImportView>(&self, view: V) -> PageResult {
        self.refuse(view, "import.no_file")
    }

    /// The preview's report: a clean one keeps the file (with `meta`, what the
    /// confirmation needs to run it again) under the key the confirm button sends.
    pub fn previewed<V: ImportView>(
        &self,
        mut view: V,
        file: &Part,
        meta: String,
        report: V::Report,
    ) -> PageResult {
        let failed = !V::errors(&report).is_empty();
        view.set_file_name(file.file_name.clone().unwrap_or_default());
        if !failed {
            let key = self
                .s
                .uploads
                .keep(self.a.p.user_id, self.kind, file.bytes.clone(), meta);
            view.set_confirm_key(key);
        }
        view.set_report(report);
        unprocessable_if(render(&view)?, failed)
    }

    /// The previewed file and its `meta`, once: `None` when the key is unknown, expired,
    /// another user's or another import's.
    pub fn take(&self, key: &str) -> Option<(axum::body::Bytes, String)> {
        self.s.uploads.take(self.a.p.user_id, self.kind, key)
    }

    /// The confirmation came too late (or twice).
    pub fn expired<V: ImportView>(&self, view: V) -> PageResult {
        self.refuse(view, "import.expired")
    }

    /// The confirmation's report.
    pub fn applied<V: ImportView>(&self, mut view: V, report: V::Report) -> PageResult {
        let failed = !V::errors(&report).is_empty();
        view.set_applied(!failed);
        view.set_report(report);
        unprocessable_if(render(&view)?, failed)
    }

    fn refuse<V: ImportView>(&self, mut view: V, key: &'static str) -> PageResult {
        view.set_file_error(crate::i18n::t(self.a.p.lang, key));
        unprocessable_if(render(&view)?, true)
    }
}

/// Implements [`ImportView`] for a page with the usual fields (`file_error`, `file_name`,
/// `confirm_key`, `report`, and `applied` when the page has it).
macro_rules! import_view {
    ($page:ty, $report:ty $(, $applied:ident)?) => {
        impl $crate::pages::upload::ImportView for $page {
            type Report = $report;
            fn errors(r: &$report) -> &[preau_core::import::LineError] {
                &r.errors
            }
            fn set_file_error(&mut self, message: &'static str) {
                self.file_error = Some(message);
            }
            fn set_file_name(&mut self, name: String) {
                self.file_name = name;
            }
            fn set_confirm_key(&mut self, key: String) {
                self.confirm_key = Some(key);
            }
            fn set_report(&mut self, report: $report) {
                self.report = Some(report);
            }
            $(fn set_applied(&mut self, applied: bool) {
                self.$applied = applied;
            })?
        }
    };
}

pub(crate) use import_view;

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
