//! Inventory pages: the device list with its filters and exports, a device's page
//! (components, software, history), the device form, the "à affecter" queue, suspected
//! duplicates and their merge.

use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use preau_core::inventory::categories::{self};
use preau_core::inventory::devices::{self, Device, DeviceFilter, DeviceInput};
use preau_core::{AppError, rooms, schools, write_tx};
use preau_domain::Lang;
use preau_domain::device::{DeviceState, format_euros};
use preau_domain::pupils::{LoanKind, ReturnState};
use serde::Deserialize;

use super::parts::devices::{DeviceRow, age, category_label, place_of, row};
use super::{Column, Ctx, Field, Versioned, flash_key, options, paris, render, see_other, today};
use super::{FormSpec, LangTitle, save};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Auth, CsrfForm};

type PageResult = Result<Response, PageError>;

const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    ctx: Ctx,
    f: DeviceFilter,
    schools: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    states: Vec<(String, String)>,
    rows: Vec<DeviceRow>,
    total: i64,
    prev: Option<String>,
    next: Option<String>,
    query: String,
    can_create: bool,
    can_sort: bool,
    /// Ticking devices to change them together (not in the "à affecter" queue, which
    /// places them).
    can_bulk: bool,
    /// The rooms of the school the list is filtered on, for a bulk move.
    rooms: Vec<(i64, String)>,
    /// Where to come back after a bulk edit: this page.
    back: String,
    columns: Vec<Column>,
    page: i64,
    pages: i64,
}

impl DevicesPage {
    fn sel(&self, v: &Option<String>, o: &str) -> bool {
        v.as_deref() == Some(o)
    }
    fn school_sel(&self, o: &str) -> bool {
        self.f.school_id.map(|i| i.to_string()).as_deref() == Some(o)
    }
    fn num(v: &Option<i64>) -> String {
        v.map(|n| n.to_string()).unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    page: Option<i64>,
    flash: Option<String>,
}

/// The query string without `page=` and `flash=` (and `sort=` when `sort` is false), to
/// build page links, column links and exports.
fn base_query(raw: Option<&str>, sort: bool) -> String {
    raw.unwrap_or("")
        .split('&')
        .filter(|kv| {
            !kv.is_empty()
                && !kv.starts_with("page=")
                && !kv.starts_with("flash=")
                && (sort || !kv.starts_with("sort="))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The list's headings, each sorting by its column (again: the other way).
fn device_columns(lang: Lang, raw: Option<&str>, current: &str) -> Vec<Column> {
    let rest = base_query(raw, false);
    let sep = if rest.is_empty() { "" } else { "&" };
    super::sort_columns(
        lang,
        current,
        &[
            ("field.name", Some("name")),
            ("field.category", Some("category")),
            ("devices.place", Some("place")),
            ("field.state", Some("state")),
            ("field.asset_tag", None),
            ("devices.age", Some("purchase")),
            ("devices.last_seen", Some("seen")),
        ],
        |next| format!("/devices?{rest}{sep}sort={next}"),
    )
}

pub async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(mut f): Query<DeviceFilter>,
    Query(q): Query<PageQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let page = q.page.unwrap_or(1).max(1);
    let today = today();
    // An order the page does not know falls back to the usual one.
    let sort = f
        .sort
        .clone()
        .filter(|s| devices::DEVICE_SORTS.contains(&s.trim_start_matches('-')))
        .unwrap_or_else(|| "place".into());
    f.sort = Some(sort.clone());
    let result = devices::list(&s.db, p, &f, Utc::now(), (page - 1) * PAGE_SIZE, PAGE_SIZE).await?;
    let cats = categories::list(&s.db, p).await?;
    let query = base_query(raw.as_deref(), true);
    let link = |n: i64| {
        format!(
            "/devices?{query}{}page={n}",
            if query.is_empty() { "" } else { "&" }
        )
    };
    let mut school_opts = vec![(
        String::new(),
        crate::i18n::t(lang, "devices.all_schools").to_string(),
    )];
    school_opts.extend(
        schools::all_readable(&s.db, p)
            .await?
            .into_iter()
            .map(|s| (s.id.to_string(), s.name)),
    );
    let mut cat_opts = vec![(
        String::new(),
        crate::i18n::t(lang, "devices.all_categories").to_string(),
    )];
    cat_opts.extend(
        cats.iter()
            .map(|c| (c.code.clone(), c.label(lang).to_string())),
    );
    let mut state_opts = vec![(
        String::new(),
        crate::i18n::t(lang, "devices.all_states").to_string(),
    )];
    state_opts.extend(options(DeviceState::ALL, DeviceState::code, |s| {
        s.label(lang)
    }));
    let title = if f.unplaced == Some(true) {
        "devices.unplaced_title"
    } else {
        "devices.title"
    };
    render(&DevicesPage {
        ctx: Ctx::page(&a, p.lang_title(title), "devices").flash(flash_key(q.flash.as_deref())),
        rows: result
            .items
            .iter()
            .map(|d| row(d, &cats, lang, today))
            .collect(),
        columns: device_columns(lang, raw.as_deref(), &sort),
        page,
        pages: ((result.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        total: result.total,
        prev: (page > 1).then(|| link(page - 1)),
        next: result.next_offset.map(|_| link(page + 1)),
        query,
        schools: school_opts,
        categories: cat_opts,
        states: state_opts,
        can_create: p.can_edit_devices(f.school_id) || p.is_admin(),
        can_sort: f.unplaced == Some(true) && p.can_read_unplaced(),
        can_bulk: (p.is_admin() || p.has(preau_domain::Role::Technicien))
            && f.unplaced != Some(true),
        rooms: match f.school_id {
            Some(sid) if p.can_edit_devices(Some(sid)) => rooms::list_for_school(&s.db, p, sid)
                .await?
                .into_iter()
                .map(|r| (r.id, r.name))
                .collect(),
            _ => Vec::new(),
        },
        back: format!("/devices?{}", base_query(raw.as_deref(), true)),
        f,
    })
}

/// Every device of the filtered list (not only the page shown), as CSV or XLSX.
pub async fn export(
    State(s): State<AppState>,
    a: Auth,
    Path(format): Path<String>,
    Query(f): Query<DeviceFilter>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let cats = categories::list(&s.db, p).await?;
    let page = devices::list(&s.db, p, &f, Utc::now(), 0, 100_000).await?;
    let t = |k| crate::i18n::t(lang, k);
    let costs = p.can_see_costs();
    let mut header = vec![
        t("field.asset_tag"),
        t("field.category"),
        t("field.name"),
        t("field.brand"),
        t("field.model"),
        t("field.serial"),
        t("field.school"),
        t("field.room"),
        t("field.state"),
        t("field.purchase_date"),
        t("field.warranty_end"),
        t("field.os"),
        t("devices.last_seen"),
    ];
    if costs {
        header.extend([t("field.price"), t("field.supplier"), t("field.funding")]);
    }
    let mut rows: Vec<Vec<String>> = vec![header.into_iter().map(String::from).collect()];
    for d in &page.items {
        let mut r = vec![
            d.asset_tag.clone().unwrap_or_default(),
            category_label(&cats, &d.category, lang),
            d.name.clone().unwrap_or_default(),
            d.brand.clone().unwrap_or_default(),
            d.model.clone().unwrap_or_default(),
            d.serial.clone().unwrap_or_default(),
            d.school_name.clone().unwrap_or_default(),
            d.room_name.clone().unwrap_or_default(),
            DeviceState::from_db(&d.state).label(lang).to_string(),
            d.purchase_date
                .map(|x| x.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
            d.warranty_end
                .map(|x| x.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
            [d.os_name.clone(), d.os_version.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            d.last_inventory_at.map(paris).unwrap_or_default(),
        ];
        if costs {
            r.extend([
                d.price_cents
                    .map(preau_domain::device::plain_euros)
                    .unwrap_or_default(),
                d.supplier.clone().unwrap_or_default(),
                d.funding.clone().unwrap_or_default(),
            ]);
        }
        rows.push(r);
    }
    match format.as_str() {
        "materiel.csv" => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"materiel.csv\"",
                ),
            ],
            crate::export::csv(&rows),
        )
            .into_response()),
        "materiel.xlsx" => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"materiel.xlsx\"",
                ),
            ],
            crate::export::xlsx(crate::i18n::t(lang, "devices.title"), &rows),
        )
            .into_response()),
        _ => Err(AppError::NotFound.into()),
    }
}

pub struct ComponentView {
    kind: &'static str,
    name: String,
    detail: String,
    serial: String,
}

pub struct EventView {
    when: String,
    actor: String,
    text: String,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    ctx: Ctx,
    d: Device,
    category: String,
    state: &'static str,
    place: String,
    price: String,
    facts: Vec<(&'static str, String)>,
    components: Vec<ComponentView>,
    software: Vec<devices::SoftwareRow>,
    contents: Vec<DeviceRow>,
    events: Vec<EventView>,
    can_edit: bool,
    can_see_costs: bool,
    can_report: bool,
    loans: Vec<(i64, String, String, String)>,
    can_see_loans: bool,
}

fn component_kind(kind: &str, lang: Lang) -> &'static str {
    crate::i18n::t(
        lang,
        match kind {
            "cpu" => "component.cpu",
            "memory" => "component.memory",
            "storage" => "component.storage",
            "volume" => "component.volume",
            "network" => "component.network",
            "monitor" => "component.monitor",
            "battery" => "component.battery",
            _ => "component.other",
        },
    )
}

/// One line of history in words.
fn describe(kind: &str, detail: &str, lang: Lang) -> String {
    let v: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
    let t = |k| crate::i18n::t(lang, k);
    let list = |x: &serde_json::Value| {
        x.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    match kind {
        "created" => t("history.created").to_string(),
        "state" => format!(
            "{} : {} → {}",
            t("history.state"),
            DeviceState::from_db(v["from"].as_str().unwrap_or("")).label(lang),
            DeviceState::from_db(v["to"].as_str().unwrap_or("")).label(lang)
        ),
        "moved" => {
            let side = |x: &serde_json::Value| {
                x.as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|i| i.as_str())
                            .collect::<Vec<_>>()
                            .join(" — ")
                    })
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| t("devices.unplaced").to_string())
            };
            format!(
                "{} : {} → {}",
                t("history.moved"),
                side(&v["from"]),
                side(&v["to"])
            )
        }
        "component_added" => format!(
            "{} ({}) : {}",
            t("history.component_added"),
            component_kind(v["kind"].as_str().unwrap_or(""), lang),
            list(&v["items"])
        ),
        "component_removed" => format!(
            "{} ({}) : {}",
            t("history.component_removed"),
            component_kind(v["kind"].as_str().unwrap_or(""), lang),
            list(&v["items"])
        ),
        "software" => {
            let part = |key: &str, label: &str| {
                let n = v[key]["count"].as_i64().unwrap_or(0);
                (n > 0).then(|| {
                    let items = list(&v[key]["items"]);
                    let more = if n as usize > v[key]["items"].as_array().map_or(0, |a| a.len()) {
                        " …"
                    } else {
                        ""
                    };
                    format!("{n} {label} : {items}{more}")
                })
            };
            [
                part("installed", t("history.installed")),
                part("removed", t("history.removed")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ; ")
        }
        "merged" => format!(
            "{} : {}",
            t("history.merged"),
            v["merged"].as_str().unwrap_or("")
        ),
        // A loan names what kind and, for a class set, the class; never a pupil.
        "loan" => {
            let kind = LoanKind::from_db(v["kind"].as_str().unwrap_or("")).label(lang);
            let class = v["class"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(|c| format!(" — {c}"))
                .unwrap_or_default();
            format!("{} ({kind}){class}", t("history.loan"))
        }
        "return" => {
            let state = v["state"]
                .as_str()
                .map(|s| ReturnState::from_db(s).label(lang))
                .unwrap_or_default();
            let ticket = v["ticket_id"]
                .as_i64()
                .map(|n| format!(" — {} n° {n}", t("history.ticket")))
                .unwrap_or_default();
            format!("{} : {state}{ticket}", t("history.return"))
        }
        _ => {
            // Each changed field by its label, empty values said as such.
            let fields = v
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(_, x)| x.is_array())
                        .map(|(k, x)| {
                            format!(
                                "{} : {} → {}",
                                field_label(k, lang),
                                show(&x[0], lang),
                                show(&x[1], lang)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ; ")
                })
                .unwrap_or_default();
            if fields.is_empty() {
                t("history.updated").to_string()
            } else {
                format!("{} — {fields}", t("history.updated"))
            }
        }
    }
}

/// A device field's label as the forms show it; a field without one keeps its name.
fn field_label(key: &str, lang: Lang) -> String {
    let key = match key {
        "parent_id" => "history.field_parent",
        "school_id" => "field.school",
        "room_id" => "field.room",
        "price_cents" => "field.price",
        "category_id" => "field.category",
        "os_name" => "field.os",
        other => return crate::i18n::field_label(lang, other),
    };
    crate::i18n::t(lang, key).to_string()
}

fn show(v: &serde_json::Value, lang: Lang) -> String {
    match v {
        serde_json::Value::Null => crate::i18n::t(lang, "history.empty").to_string(),
        serde_json::Value::String(s) if s.is_empty() => {
            crate::i18n::t(lang, "history.empty").to_string()
        }
        // A date as the pages write it.
        serde_json::Value::String(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|_| s.clone()),
        other => other.to_string(),
    }
}

pub async fn show_device(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let d = devices::get(&s.db, p, id, Utc::now()).await?;
    let cats = categories::list(&s.db, p).await?;
    let today = today();
    let t = |k| crate::i18n::t(lang, k);
    let date = |x: Option<NaiveDate>| {
        x.map(|x| x.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let opt = |x: &Option<String>| x.clone().unwrap_or_else(|| "—".into());
    let mut facts = vec![
        (t("field.brand"), opt(&d.brand)),
        (t("field.model"), opt(&d.model)),
        (t("field.serial"), opt(&d.serial)),
        (t("field.asset_tag"), opt(&d.asset_tag)),
        (
            t("field.purchase_date"),
            match d.purchase_date {
                Some(_) => format!(
                    "{} ({})",
                    date(d.purchase_date),
                    age(d.purchase_date, today)
                ),
                None => "—".into(),
            },
        ),
        (
            t("field.warranty_end"),
            match d.warranty_end {
                Some(w) if w < today => {
                    format!("{} — {}", date(Some(w)), t("devices.warranty_over"))
                }
                w => date(w),
            },
        ),
    ];
    if d.wifi_switchable.is_some() {
        facts.push((
            t("field.wifi_switchable"),
            t(if d.wifi_switchable == Some(true) {
                "yes"
            } else {
                "no"
            })
            .into(),
        ));
    }
    if d.last_inventory_at.is_some() {
        facts.extend([
            (
                t("field.os"),
                [d.os_name.clone(), d.os_version.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            (t("field.cpu"), opt(&d.cpu)),
            (
                t("field.memory"),
                d.memory_mb
                    .map(|m| format!("{m} Mo"))
                    .unwrap_or_else(|| "—".into()),
            ),
            (t("field.bios"), opt(&d.bios)),
            (t("field.ips"), opt(&d.ips)),
            (t("field.system_uuid"), opt(&d.system_uuid)),
            (
                t("devices.last_seen"),
                format!(
                    "{} — {}",
                    d.last_inventory_at.map(paris).unwrap_or_default(),
                    opt(&d.inventory_source)
                ),
            ),
        ]);
    }
    let components = devices::components(&s.db, p, id, Utc::now())
        .await?
        .into_iter()
        .map(|c| ComponentView {
            kind: component_kind(&c.kind, lang),
            name: c.name,
            detail: c.detail,
            serial: c.serial.unwrap_or_default(),
        })
        .collect();
    let software = devices::software(&s.db, p, id, Utc::now()).await?;
    let contents = devices::contents(&s.db, p, id, Utc::now())
        .await?
        .iter()
        .map(|c| row(c, &cats, lang, today))
        .collect();
    let events = devices::events(&s.db, p, id, Utc::now())
        .await?
        .into_iter()
        .map(|e| EventView {
            when: paris(e.occurred_at),
            actor: e.actor,
            text: describe(&e.kind, &e.detail, lang),
        })
        .collect();
    let mut ctx = Ctx::page(&a, d.label(), "devices")
        .crumb("/devices", p.lang_title("devices.title"))
        .flash(flash_key(q.flash.as_deref()));
    if let (Some(sid), Some(name)) = (d.school_id, &d.school_name) {
        ctx = ctx.crumb(format!("/devices?school_id={sid}"), name.clone());
    }
    let loans = super::parts::pupils::for_device_page(&s, p, id).await?;
    render(&DevicePage {
        ctx,
        category: category_label(&cats, &d.category, lang),
        state: DeviceState::from_db(&d.state).label(lang),
        place: place_of(&d, lang),
        price: d
            .price_cents
            .map(format_euros)
            .unwrap_or_else(|| "—".into()),
        facts,
        components,
        software,
        contents,
        events,
        can_edit: p.can_edit_devices(d.school_id),
        can_report: d.school_id.is_some_and(|s| p.can_report(s)),
        loans,
        can_see_loans: d.school_id.is_some_and(|s| p.can_see_pupils(s)),
        can_see_costs: p.can_see_costs(),
        d,
    })
}

/// The device form's fields; rooms and carts are those of `school_id`.
async fn device_fields(s: &AppState, a: &Auth, v: &DeviceInput) -> Result<Vec<Field>, PageError> {
    let p = &a.p;
    let lang = p.lang;
    let t = |k: &str| -> &'static str { crate::i18n::t(lang, k) };
    let cats = categories::list(&s.db, p).await?;
    let none = || (String::new(), t("devices.none").to_string());
    let mut school_opts = vec![(String::new(), t("devices.unplaced").to_string())];
    school_opts.extend(
        schools::all_readable(&s.db, p)
            .await?
            .into_iter()
            .filter(|sc| p.can_edit_devices(Some(sc.id)))
            .map(|sc| (sc.id.to_string(), sc.name)),
    );
    let mut room_opts = vec![(String::new(), t("devices.stock").to_string())];
    let mut cart_opts = vec![none()];
    if let Some(school) = v.school_id {
        room_opts.extend(
            rooms::list_for_school(&s.db, p, school)
                .await?
                .into_iter()
                .map(|r| (r.id.to_string(), r.name)),
        );
        let carts = devices::list(
            &s.db,
            p,
            &DeviceFilter {
                school_id: Some(school),
                category: Some("classe_mobile".into()),
                ..Default::default()
            },
            Utc::now(),
            0,
            200,
        )
        .await?;
        cart_opts.extend(
            carts
                .items
                .into_iter()
                .map(|c| (c.id.to_string(), c.label())),
        );
    }
    let text = |name: &'static str, key: &str, value: &Option<String>| {
        Field::text(name, t(key), value.clone().unwrap_or_default())
    };
    let mut fields = vec![
        Field::select(
            "category",
            t("field.category"),
            v.category.clone(),
            cats.iter()
                .map(|c| (c.code.clone(), c.label(lang).to_string()))
                .collect(),
        )
        .required(),
        Field::select(
            "school_id",
            t("field.school"),
            v.school_id.map(|i| i.to_string()).unwrap_or_default(),
            school_opts,
        ),
        Field::select(
            "room_id",
            t("field.room"),
            v.room_id.map(|i| i.to_string()).unwrap_or_default(),
            room_opts,
        )
        .hint(t("devices.room_hint")),
        Field::select(
            "parent_id",
            t("field.parent"),
            v.parent_id.map(|i| i.to_string()).unwrap_or_default(),
            cart_opts,
        ),
        text("name", "field.name", &v.name).hint(t("devices.name_hint")),
        Field::select(
            "state",
            t("field.state"),
            v.state.clone().unwrap_or_else(|| "en_service".into()),
            options(DeviceState::ALL, DeviceState::code, |s| s.label(lang)),
        )
        .required(),
        text("brand", "field.brand", &v.brand),
        text("model", "field.model", &v.model),
        text("serial", "field.serial", &v.serial),
        text("asset_tag", "field.asset_tag", &v.asset_tag).hint(t("devices.asset_tag_hint")),
        text("purchase_date", "field.purchase_date", &v.purchase_date).input("date"),
        text("warranty_end", "field.warranty_end", &v.warranty_end).input("date"),
        Field::select(
            "wifi_switchable",
            t("field.wifi_switchable"),
            v.wifi_switchable.map(|b| b.to_string()).unwrap_or_default(),
            vec![
                (String::new(), t("devices.not_applicable").into()),
                ("true".into(), t("yes").into()),
                ("false".into(), t("no").into()),
            ],
        )
        .hint(t("devices.wifi_hint")),
        text("notes", "field.notes", &v.notes),
    ];
    if p.can_see_costs() {
        let price = v
            .price
            .clone()
            .or_else(|| v.price_cents.map(preau_domain::device::plain_euros));
        fields.extend([
            Field::text("price", t("field.price"), price.unwrap_or_default())
                .hint(t("devices.price_hint")),
            text("supplier", "field.supplier", &v.supplier),
            text("order_ref", "field.order_ref", &v.order_ref),
            text("funding", "field.funding", &v.funding).hint(t("devices.funding_hint")),
        ]);
    }
    Ok(fields)
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school_id: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    room_id: Option<i64>,
}

pub async fn new(State(s): State<AppState>, a: Auth, Query(q): Query<NewQuery>) -> PageResult {
    let p = &a.p;
    if !p.can_edit_devices(q.school_id) {
        return Err(AppError::Forbidden.into());
    }
    let input = DeviceInput {
        category: "tni".into(),
        school_id: q.school_id,
        room_id: q.room_id,
        state: Some("en_service".into()),
        ..Default::default()
    };
    FormSpec::new("devices.new_title", "/devices", "/devices")
        .section("devices")
        .crumb("/devices", p.lang_title("devices.title"))
        .show(&a, device_fields(&s, &a, &input).await?, &[])
}

pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<DeviceInput>,
) -> PageResult {
    let p = &a.p;
    let now = Utc::now();
    save(
        &a,
        write_tx!(s.db, tx => devices::create(tx, p, &f.parse()?, now).await?),
        |d| format!("/devices/{}", d.id),
        FormSpec::new("devices.new_title", "/devices", "/devices").section("devices"),
        device_fields(&s, &a, &f).await?,
    )
}

pub async fn edit(State(s): State<AppState>, a: Auth, Path(id): Path<i64>) -> PageResult {
    let p = &a.p;
    let d = devices::get(&s.db, p, id, Utc::now()).await?;
    if !p.can_edit_devices(d.school_id) {
        return Err(AppError::Forbidden.into());
    }
    FormSpec::edit("devices.edit_title", format!("/devices/{id}"), d.version)
        .section("devices")
        .crumb(format!("/devices/{id}"), d.label())
        .show(&a, device_fields(&s, &a, &d.to_input()).await?, &[])
}

pub async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<Versioned<DeviceInput>>,
) -> PageResult {
    let p = &a.p;
    let version = f.version.unwrap_or(0);
    let now = Utc::now();
    save(
        &a,
        write_tx!(s.db, tx => devices::update(tx, p, id, version, &f.input.parse()?, now).await?),
        |_| format!("/devices/{id}"),
        FormSpec::edit("devices.edit_title", format!("/devices/{id}"), version).section("devices"),
        device_fields(&s, &a, &f.input).await?,
    )
}

#[derive(Deserialize)]
pub struct PlaceForm {
    #[serde(default)]
    device: Vec<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    school_id: Option<i64>,
    #[serde(default, deserialize_with = "preau_domain::text::opt_i64")]
    room_id: Option<i64>,
}

/// Places the ticked devices of the "à affecter" queue in a school (and a room).
/// Repeated `device=` fields: read as pairs (serde_urlencoded has no sequences).
pub async fn place(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let num = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
    };
    let f = PlaceForm {
        device: pairs
            .iter()
            .filter(|(k, _)| k == "device")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        school_id: num("school_id"),
        room_id: num("room_id"),
    };
    let p = &a.p;
    // Who may not place devices is told so before being told what the form lacks.
    if !p.can_edit_devices(None) {
        return Err(AppError::Forbidden.into());
    }
    let Some(school) = f.school_id else {
        return Ok(see_other("/devices?unplaced=true", "choose_school"));
    };
    if f.device.is_empty() {
        return Ok(see_other("/devices?unplaced=true", "nothing_selected"));
    }
    let n = write_tx!(s.db, tx => devices::place(tx, p, &f.device, school, f.room_id, Utc::now()).await?)?;
    tracing::info!(devices = n, "devices placed");
    Ok(see_other("/devices?unplaced=true", "placed"))
}

#[derive(Template)]
#[template(path = "duplicates.html")]
struct DuplicatesPage {
    ctx: Ctx,
    groups: Vec<(String, Vec<DeviceRow>)>,
}

pub async fn duplicates(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    let cats = categories::list(&s.db, p).await?;
    let today = today();
    let groups = devices::duplicates(&s.db, p)
        .await?
        .into_iter()
        .map(|g| {
            let why = format!(
                "{} : {}",
                crate::i18n::t(
                    lang,
                    if g.reason == "serial" {
                        "duplicates.same_serial"
                    } else {
                        "duplicates.same_name"
                    }
                ),
                g.value
            );
            (
                why,
                g.devices
                    .iter()
                    .map(|d| row(d, &cats, lang, today))
                    .collect(),
            )
        })
        .collect();
    render(&DuplicatesPage {
        ctx: Ctx::page(&a, p.lang_title("duplicates.title"), "devices")
            .crumb("/devices", p.lang_title("devices.title"))
            .flash(flash_key(q.flash.as_deref())),
        groups,
    })
}

#[derive(Deserialize)]
pub struct MergeForm {
    keep: i64,
    other: i64,
}

pub async fn merge(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(f): CsrfForm<MergeForm>,
) -> PageResult {
    let p = &a.p;
    if !p.can_edit_devices(None) {
        return Err(AppError::Forbidden.into());
    }
    let kept = write_tx!(s.db, tx => devices::merge(tx, p, f.keep, f.other, Utc::now()).await?)?;
    Ok(see_other(&format!("/devices/{}", kept.id), "merged"))
}

/// A bulk edit as the preview shows it: each device, the value it had, the value it gets,
/// or why it refuses.
pub struct BulkRow {
    id: i64,
    label: String,
    before: String,
    after: String,
    refused: Option<String>,
}

#[derive(Template)]
#[template(path = "devices_bulk.html")]
struct BulkPage {
    ctx: Ctx,
    field: String,
    field_label: &'static str,
    value: String,
    rows: Vec<BulkRow>,
    refused: usize,
    back: String,
}

/// The value a device has for the field a bulk edit changes, in words.
fn bulk_value(
    d: &Device,
    change: &devices::BulkChange,
    cats: &[categories::Category],
    lang: Lang,
) -> String {
    match change {
        devices::BulkChange::State(_) => DeviceState::from_db(&d.state).label(lang).to_string(),
        devices::BulkChange::School(_) | devices::BulkChange::Room(_) => place_of(d, lang),
        devices::BulkChange::Category(_) => category_label(cats, &d.category, lang),
    }
}

/// The ticked devices of the list and the change asked (`field` and its value): the
/// preview of what changes, device by device, then (`confirm`) the change itself, in one
/// transaction — nothing is written while one device refuses.
pub async fn bulk(
    State(s): State<AppState>,
    a: Auth,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let p = &a.p;
    let lang = p.lang;
    if !(p.is_admin() || p.has(preau_domain::Role::Technicien)) {
        return Err(AppError::Forbidden.into());
    }
    let get = |k: &str| super::pair_value(&pairs, k);
    let back = get("back")
        .filter(|b| b.starts_with("/devices") && !b.starts_with("//"))
        .unwrap_or_else(|| "/devices".into());
    let ids: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "device")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect();
    if ids.is_empty() {
        return Ok(see_other(&back, "nothing_selected"));
    }
    let field = get("field").unwrap_or_default();
    let value = get(&field).unwrap_or_default();
    let bad = |name: &str| -> PageError {
        let code = if value.is_empty() {
            "required"
        } else {
            "unknown_value"
        };
        AppError::from(preau_domain::FieldError::new(name, code)).into()
    };
    let change = match field.as_str() {
        "state" => devices::BulkChange::State(
            DeviceState::parse("state", &value).map_err(|_| bad("state"))?,
        ),
        "school_id" => devices::BulkChange::School(value.parse().map_err(|_| bad("school_id"))?),
        "room_id" => devices::BulkChange::Room(value.parse().map_err(|_| bad("room_id"))?),
        "category" if !value.is_empty() => devices::BulkChange::Category(value.clone()),
        "category" => return Err(bad("category")),
        _ => return Err(bad("field")),
    };
    let confirm = get("confirm").is_some();
    let now = Utc::now();
    let lines = devices::bulk(&s.db, p, &ids, &change, confirm, now).await?;
    let refused = lines.iter().filter(|l| l.refused.is_some()).count();
    if confirm && refused == 0 {
        tracing::info!(devices = lines.len(), field = %field, "devices changed in bulk");
        return Ok(see_other(&back, "bulk_done"));
    }
    let cats = categories::list(&s.db, p).await?;
    let rows = lines
        .iter()
        .map(|l| BulkRow {
            id: l.id,
            label: l
                .before
                .as_ref()
                .map(|d| d.label())
                .unwrap_or_else(|| format!("n° {}", l.id)),
            before: l
                .before
                .as_ref()
                .map(|d| bulk_value(d, &change, &cats, lang))
                .unwrap_or_default(),
            after: l
                .after
                .as_ref()
                .map(|d| bulk_value(d, &change, &cats, lang))
                .unwrap_or_default(),
            refused: l.refused.as_ref().map(|r| match r {
                devices::BulkRefusal::NotFound => {
                    crate::i18n::t(lang, "bulk_devices.not_found").to_string()
                }
                devices::BulkRefusal::Forbidden => {
                    crate::i18n::t(lang, "bulk_devices.forbidden").to_string()
                }
                devices::BulkRefusal::Invalid(errs) => super::messages(errs, lang),
            }),
        })
        .collect();
    let mut r = render(&BulkPage {
        ctx: Ctx::page(&a, p.lang_title("bulk_devices.title"), "devices")
            .crumb("/devices", p.lang_title("devices.title")),
        field_label: crate::i18n::t(
            lang,
            match field.as_str() {
                "state" => "field.state",
                "school_id" => "field.school",
                "room_id" => "field.room",
                _ => "field.category",
            },
        ),
        field,
        value,
        rows,
        refused,
        back,
    })?;
    if confirm {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}
