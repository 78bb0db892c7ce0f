//! QR labels: a print-ready A4 sheet (3 × 7 labels of 63.5 × 38.1 mm, the common
//! adhesive sheet) for a school, a room or one device. Each label carries the asset tag,
//! what the device is and where, and a QR code to its page.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use preau_core::inventory::categories;
use preau_core::inventory::devices::{self, DeviceFilter};
use preau_core::{AppError, collectivites};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;

use super::LangTitle;
use super::{Ctx, base_url, render};
use crate::AppState;
use crate::error::PageError;
use crate::session::Auth;

/// Labels on one request at most (about 24 sheets).
const MAX_LABELS: i64 = 500;

pub struct Label {
    qr: String,
    tag: String,
    what: String,
    serial: String,
    place: String,
    url: String,
}

#[derive(Template)]
#[template(path = "labels.html")]
struct LabelsPage {
    ctx: Ctx,
    owner: String,
    labels: Vec<Label>,
    truncated: bool,
}

#[derive(Deserialize, Default)]
pub struct LabelsQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school_id: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    room_id: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    device: Option<i64>,
    #[serde(default)]
    category: Option<String>,
}

fn qr_svg(url: &str) -> String {
    match QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color>()
            .quiet_zone(false)
            .min_dimensions(96, 96)
            .build()
            .replacen("<?xml version=\"1.0\" standalone=\"yes\"?>", "", 1),
        Err(_) => String::new(),
    }
}

pub async fn labels(
    State(s): State<AppState>,
    a: Auth,
    headers: HeaderMap,
    Query(q): Query<LabelsQuery>,
) -> Result<Response, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let list = match q.device {
        Some(id) => vec![devices::get(&s.db, p, id, Utc::now()).await?],
        None => {
            if q.school_id.is_none() && q.room_id.is_none() {
                return Err(AppError::Invalid(vec![preau_domain::FieldError::new(
                    "school_id",
                    "required",
                )])
                .into());
            }
            // A school or room outside the caller's scope answers 404, not an empty sheet.
            if let Some(id) = q.school_id {
                preau_core::schools::get(&s.db, p, id).await?;
            }
            if let Some(id) = q.room_id {
                preau_core::rooms::get(&s.db, p, id).await?;
            }
            let f = DeviceFilter {
                school_id: q.school_id,
                room_id: q.room_id,
                category: q.category.clone(),
                ..Default::default()
            };
            devices::list(&s.db, p, &f, Utc::now(), 0, MAX_LABELS + 1)
                .await?
                .items
        }
    };
    let truncated = list.len() as i64 > MAX_LABELS;
    let cats = categories::list(&s.db, p).await?;
    let base = base_url(&s, &headers);
    let owner = collectivites::get(&s.db, p, p.collectivite_id).await?.name;
    let labels = list
        .iter()
        .take(MAX_LABELS as usize)
        .map(|d| {
            // Short, so that the code stays coarse and easy to scan: `/q/{id}` opens the
            // report form for the school's staff and the device's page for technicians.
            let url = format!("{base}/q/{}", d.id);
            Label {
                qr: qr_svg(&url),
                tag: d.asset_tag.clone().unwrap_or_else(|| format!("#{}", d.id)),
                what: format!(
                    "{} — {}",
                    cats.iter()
                        .find(|c| c.code == d.category)
                        .map(|c| c.label(lang))
                        .unwrap_or(&d.category),
                    d.label()
                ),
                serial: d.serial.clone().unwrap_or_default(),
                place: [d.school_name.clone(), d.room_name.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" — "),
                url,
            }
        })
        .collect();
    render(&LabelsPage {
        ctx: Ctx::page(&a, p.lang_title("labels.title"), "devices"),
        owner,
        labels,
        truncated,
    })
}
