//! Errors as the two kinds of clients see them: JSON problem details (RFC 9457) for the
//! API, a readable page for the browser. Both name the offending field.

use crate::api::types::{Problem, ProblemField};
use crate::i18n;
use crate::pages::Ctx;
use crate::session::Caller;
use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::Html;
use axum::response::{IntoResponse, Response};
use preau_core::AppError;
use preau_domain::{FieldError, Lang};

/// An API error, rendered as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub errors: Vec<FieldError>,
    pub detail: Option<String>,
}

impl ApiError {
    pub fn unauthenticated() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            title: "authentication required",
            errors: vec![],
            detail: Some("send Authorization: Bearer <token>".into()),
        }
    }
    pub fn invalid(errors: Vec<FieldError>) -> ApiError {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            title: "invalid input",
            errors,
            detail: None,
        }
    }
    pub fn bad_request(detail: String) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            title: "malformed request",
            errors: vec![],
            detail: Some(detail),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        match e {
            AppError::NotFound => ApiError {
                status: StatusCode::NOT_FOUND,
                title: "not found",
                errors: vec![],
                detail: None,
            },
            AppError::Forbidden => ApiError {
                status: StatusCode::FORBIDDEN,
                title: "forbidden",
                errors: vec![],
                detail: Some("your role does not allow this".into()),
            },
            AppError::Invalid(errors) => ApiError::invalid(errors),
            AppError::Conflict(f) => ApiError {
                status: StatusCode::CONFLICT,
                title: "conflict",
                errors: vec![f],
                detail: None,
            },
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    title: "internal error",
                    errors: vec![],
                    detail: None,
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let errors = self
            .errors
            .iter()
            .map(|e| ProblemField {
                field: e.field.to_string(),
                code: e.code.to_string(),
                message: e.message(Lang::En),
                message_fr: e.message(Lang::Fr),
            })
            .collect();
        let detail = self.detail.clone().or_else(|| {
            self.errors
                .first()
                .map(|e| format!("{}: {}", e.field, e.message(Lang::En)))
        });
        let body = Problem {
            r#type: "about:blank".into(),
            title: self.title.to_string(),
            status: self.status.as_u16().into(),
            detail,
            errors,
        };
        let mut resp = (self.status, Json(body)).into_response();
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"preau\""),
            );
        }
        resp
    }
}

/// A page error; the authentication layer renders it in the caller's language.
#[derive(Debug, Clone)]
pub struct PageError {
    pub status: StatusCode,
    /// A key of the error messages (`error.not_found`…), or a literal detail.
    pub key: &'static str,
    pub detail: Option<String>,
}

impl PageError {
    pub fn bad_request(detail: &str) -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            key: "error.bad_request",
            detail: Some(detail.to_string()),
        }
    }
    pub fn too_large() -> PageError {
        PageError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            key: "error.too_large",
            detail: None,
        }
    }
    pub fn csrf() -> PageError {
        PageError {
            status: StatusCode::FORBIDDEN,
            key: "error.csrf",
            detail: None,
        }
    }
    pub fn not_found() -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            key: "error.not_found",
            detail: None,
        }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        match e {
            AppError::NotFound => PageError::not_found(),
            AppError::Forbidden => PageError {
                status: StatusCode::FORBIDDEN,
                key: "error.forbidden",
                detail: None,
            },
            AppError::Invalid(errs) => PageError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                key: "error.invalid",
                detail: Some(
                    errs.iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            },
            AppError::Conflict(f) => PageError {
                status: StatusCode::CONFLICT,
                key: "error.conflict",
                detail: Some(f.message(Lang::Fr)),
            },
            other => {
                tracing::error!(error = %other, "page failed");
                PageError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    key: "error.internal",
                    detail: None,
                }
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut resp = self.status.into_response();
        resp.extensions_mut().insert(self);
        resp
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
