//! The bell: what Préau told the signed-in person by e-mail, newest first; opening one
//! marks it read and goes where it points.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use preau_core::notifications;
use preau_core::write_tx;
use serde::Deserialize;

use super::{Ctx, Empty, LangTitle, render, see_other};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    page: i64,
    flash: Option<String>,
}

/// One line: id, when, subject, read.
pub struct Line {
    id: i64,
    when: String,
    subject: String,
    read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct ListPage {
    ctx: Ctx,
    lines: Vec<Line>,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> PageResult {
    let p = &a.p;
    let page = q.page.clamp(0, 1000);
    let mut items = notifications::list(&s.db, p, page * PAGE, PAGE + 1).await?;
    let more = preau_core::db::more_than(&mut items, PAGE);
    render(&ListPage {
        ctx: Ctx::page(&a, p.lang_title("notifications.title"), "notifications").flash(
            q.flash
                .as_deref()
                .filter(|f| *f == "read")
                .map(|_| "notifications.all_read"),
        ),
        lines: items
            .into_iter()
            .map(|n| Line {
                id: n.id,
                when: super::paris(n.created_at),
                subject: n.subject,
                read: n.read_at.is_some(),
            })
            .collect(),
        prev: (page > 0).then(|| format!("/notifications?page={}", page - 1)),
        next: more.then(|| format!("/notifications?page={}", page + 1)),
    })
}

/// Opens one: read, then where it points (the list when it points nowhere).
pub async fn open(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let link = write_tx!(s.db, tx => notifications::open(tx, &a.p, id, Utc::now()).await?)?;
    // Only the application's own paths: a link is written by Préau, never by a visitor.
    let target = link
        .filter(|l| l.starts_with('/') && !l.starts_with("//"))
        .unwrap_or_else(|| "/notifications".into());
    Ok(Redirect::to(&target).into_response())
}

pub async fn read_all(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    write_tx!(s.db, tx => notifications::read_all(tx, &a.p, Utc::now()).await?)?;
    Ok(see_other("/notifications", "read"))
}
