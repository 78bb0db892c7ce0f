//! A device as lists show it: the inventory, a room's equipment.

use chrono::NaiveDate;
use preau_core::inventory::categories::Category;
use preau_core::inventory::devices::Device;
use preau_domain::Lang;
use preau_domain::device::DeviceState;

use crate::pages::paris;

/// A device as a list shows it.
pub struct DeviceRow {
    pub id: i64,
    pub label: String,
    pub category: String,
    pub place: String,
    pub state: &'static str,
    pub state_code: String,
    pub asset_tag: String,
    pub serial: String,
    pub age: String,
    pub seen: String,
}

pub(crate) fn age(purchase: Option<NaiveDate>, today: NaiveDate) -> String {
    match purchase {
        Some(d) => {
            let years = (today - d).num_days() / 365;
            if years < 1 {
                "< 1 an".into()
            } else {
                format!("{years} an{}", if years > 1 { "s" } else { "" })
            }
        }
        None => "—".into(),
    }
}

pub(crate) fn place_of(d: &Device, lang: Lang) -> String {
    match (&d.school_name, &d.room_name) {
        (Some(s), Some(r)) => format!("{s} — {r}"),
        (Some(s), None) => format!("{s} — {}", crate::i18n::t(lang, "devices.stock")),
        _ => crate::i18n::t(lang, "devices.unplaced").to_string(),
    }
}

pub(crate) fn category_label(cats: &[Category], code: &str, lang: Lang) -> String {
    cats.iter()
        .find(|c| c.code == code)
        .map(|c| c.label(lang).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub(crate) fn row(d: &Device, cats: &[Category], lang: Lang, today: NaiveDate) -> DeviceRow {
    DeviceRow {
        id: d.id,
        label: d.label(),
        category: category_label(cats, &d.category, lang),
        place: place_of(d, lang),
        state: DeviceState::from_db(&d.state).label(lang),
        state_code: d.state.clone(),
        asset_tag: d.asset_tag.clone().unwrap_or_default(),
        serial: d.serial.clone().unwrap_or_default(),
        age: age(d.purchase_date, today),
        seen: d.last_inventory_at.map(paris).unwrap_or_default(),
    }
}
