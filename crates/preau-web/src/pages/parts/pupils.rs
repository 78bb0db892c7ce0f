//! Pupils and loans as pages show them: a class's pupils with their tablets (the class
//! page, the bulk screen), a device's loans, and the words for holders and returns.

use chrono::Utc;
use preau_core::classes;
use preau_core::pupils::loans::{self, Loan};
use preau_core::pupils::{self, PupilRow};
use preau_domain::pupils::LoanKind;
use preau_domain::{Lang, Principal};

use crate::AppState;
use crate::error::PageError;

/// A pupil line with its tablet.
pub struct PupilView {
    pub id: i64,
    pub name: String,
    pub left: Option<String>,
    pub loan_id: Option<i64>,
    pub device: String,
    pub signed: Option<String>,
}

pub(crate) fn pupil_views(rows: &[PupilRow], lang: Lang) -> Vec<PupilView> {
    rows.iter()
        .map(|r| PupilView {
            id: r.id,
            name: pupil_name(r.label.as_deref(), lang),
            left: r.left_on.map(date),
            loan_id: r.loan_id,
            device: r
                .asset_tag
                .clone()
                .or_else(|| r.serial.clone())
                .unwrap_or_default(),
            signed: r.signed_on.map(date),
        })
        .collect()
}

/// The pupils of a class for the class page (`None` for those who may not see them).
pub async fn for_class_page(
    s: &AppState,
    p: &Principal,
    class: &classes::Class,
) -> Result<Option<Vec<PupilView>>, PageError> {
    if !p.can_see_pupils(class.school_id) {
        return Ok(None);
    }
    let (_, rows) = pupils::class_pupils(&s.db, p, class.id, Utc::now()).await?;
    Ok(Some(pupil_views(&rows, p.lang)))
}

/// A device's loans for its page: `None` when it never was lent.
pub async fn for_device_page(
    s: &AppState,
    p: &Principal,
    device_id: i64,
) -> Result<Vec<(i64, String, String, String)>, PageError> {
    let list = loans::for_device(&s.db, p, device_id, Utc::now()).await?;
    let lang = p.lang;
    Ok(list
        .iter()
        .map(|l| {
            let who = match l.kind() {
                LoanKind::Eleve if !p.can_see_pupils(l.school_id) => {
                    t(lang, "loans.a_pupil").to_string()
                }
                _ => holder(l, lang),
            };
            let when = match l.returned_on {
                Some(r) => format!("{} → {}", date(l.given_on), date(r)),
                None => format!("{} →", date(l.given_on)),
            };
            (l.id, who, when, state_label(l, lang))
        })
        .collect())
}

pub(crate) fn t(lang: Lang, key: &str) -> &'static str {
    crate::i18n::t(lang, key)
}

pub(crate) fn date(d: chrono::NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// "Lina B.", or "élève (supprimé)" once the label is gone.
pub(crate) fn pupil_name(label: Option<&str>, lang: Lang) -> String {
    label
        .map(str::to_string)
        .unwrap_or_else(|| t(lang, "pupils.deleted").to_string())
}

/// Who holds a loan, in words.
pub(crate) fn holder(l: &Loan, lang: Lang) -> String {
    match l.kind() {
        LoanKind::Eleve => pupil_name(l.pupil_label.as_deref(), lang),
        LoanKind::Enseignant => l.holder_name.clone().unwrap_or_default(),
        LoanKind::Classe => format!(
            "{} {}",
            t(lang, "loans.class_set"),
            l.class_label.as_deref().unwrap_or("")
        ),
    }
}

pub(crate) fn state_label(l: &Loan, lang: Lang) -> String {
    match l.return_state() {
        Some(s) => s.label(lang).to_string(),
        None => t(lang, "loans.open").to_string(),
    }
}
