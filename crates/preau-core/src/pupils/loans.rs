//! Devices lent: a tablet to a pupil (1:1), to a teacher, or to a class as a set (a cart
//! and the tablets in it), with the loan agreement's facts (date given, date the family
//! signed, an optional scan, the accessories), and the return (its state moves the
//! device to stock, repair or out of the fleet; damage or loss opens a ticket). Counts
//! per school for everybody who follows the fleet. Every answer that names pupils is
//! written in the audit log as a read.

use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::device::DeviceState;
use preau_domain::paris;
use preau_domain::pupils::{Accessory, LoanKind, ReturnState, accessories};
use preau_domain::ticket::{Priority, TicketCategory};
use preau_domain::{FieldError, Principal, text};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Actor, Entry};
use crate::db::{Db, Param, Sql, Tx};
use crate::error::{AppError, AppResult, Errors, expect_one_row};
use crate::inventory::devices::record_event;
use crate::tickets::{self, ValidTicket};
use crate::{bind_params, schools, with_db, with_tx, write_tx};

/// A loan as lists and pages show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Loan {
    pub id: i64,
    pub school_id: i64,
    pub school_name: String,
    pub device_id: i64,
    pub asset_tag: Option<String>,
    pub serial: Option<String>,
    pub model: Option<String>,
    pub category: String,
    pub kind: String,
    pub pupil_id: Option<i64>,
    /// `None` for a loan to a class or a teacher, and once the pupil's label is deleted.
    pub pupil_label: Option<String>,
    pub class_id: Option<i64>,
    pub class_label: Option<String>,
    pub holder_name: Option<String>,
    pub given_on: NaiveDate,
    pub signed_on: Option<NaiveDate>,
    pub has_document: bool,
    pub accessories: String,
    pub returned_on: Option<NaiveDate>,
    pub return_state: Option<String>,
    pub return_note: Option<String>,
    pub ticket_id: Option<i64>,
    pub version: i64,
}

impl Loan {
    pub fn kind(&self) -> LoanKind {
        LoanKind::from_db(&self.kind)
    }
    pub fn return_state(&self) -> Option<ReturnState> {
        self.return_state.as_deref().map(ReturnState::from_db)
    }
    pub fn accessory_list(&self) -> Vec<Accessory> {
        accessories("", &self.accessories).unwrap_or_default()
    }
    pub fn is_open(&self) -> bool {
        self.returned_on.is_none()
    }
    /// A pupil loan whose pupil's label was deleted.
    pub fn pupil_deleted(&self) -> bool {
        self.pupil_id.is_some() && self.pupil_label.is_none()
    }
}

const SELECT: &str = "SELECT l.id, l.school_id, s.name AS school_name, l.device_id, d.asset_tag, d.serial, d.model, k.code AS category, l.kind, l.pupil_id, p.label AS pupil_label, l.class_id, c.label AS class_label, l.holder_name, l.given_on, l.signed_on, EXISTS (SELECT 1 FROM loan_documents x WHERE x.loan_id = l.id) AS has_document, l.accessories, l.returned_on, l.return_state, l.return_note, l.ticket_id, l.version FROM loans l JOIN schools s ON s.id = l.school_id JOIN devices d ON d.id = l.device_id JOIN device_categories k ON k.id = d.category_id LEFT JOIN pupils p ON p.id = l.pupil_id LEFT JOIN classes c ON c.id = l.class_id";

/// A new loan as a form or the API sends it. `device` is what a person scans or types:
/// the asset tag, the serial number, or the device's QR label (`…/q/123`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LoanInput {
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub pupil_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub class_id: Option<i64>,
    #[serde(default)]
    pub holder_name: Option<String>,
    #[serde(default)]
    pub given_on: Option<String>,
    #[serde(default)]
    pub signed_on: Option<String>,
    /// Codes separated by spaces or commas (`etui chargeur`).
    #[serde(default)]
    pub accessories: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidLoan {
    pub device: String,
    pub kind: LoanKind,
    pub pupil_id: Option<i64>,
    pub class_id: Option<i64>,
    pub holder_name: Option<String>,
    pub given_on: Option<NaiveDate>,
    pub signed_on: Option<NaiveDate>,
    pub accessories: Vec<Accessory>,
}

fn opt_date(field: &str, s: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| FieldError::new(field, "not_a_date")),
    }
}

impl LoanInput {
    pub fn parse(&self) -> AppResult<ValidLoan> {
        let mut e = Errors::default();
        let device = e.check(text::required("device", &self.device, 200));
        let kind = e.check(LoanKind::parse("kind", &self.kind));
        let holder = e.check(text::optional(
            "holder_name",
            self.holder_name.as_deref(),
            120,
        ));
        let given_on = e.check(opt_date("given_on", self.given_on.as_deref()));
        let signed_on = e.check(opt_date("signed_on", self.signed_on.as_deref()));
        let acc = e.check(accessories(
            "accessories",
            self.accessories.as_deref().unwrap_or(""),
        ));
        match kind {
            Some(LoanKind::Eleve) if self.pupil_id.is_none() => {
                e.push(FieldError::new("pupil_id", "required"))
            }
            Some(LoanKind::Classe) if self.class_id.is_none() => {
                e.push(FieldError::new("class_id", "required"))
            }
            Some(LoanKind::Enseignant) if holder.as_ref().is_some_and(|h| h.is_none()) => {
                e.push(FieldError::new("holder_name", "required"))
            }
            _ => {}
        }
        e.finish()?;
        match (device, kind, holder, given_on, signed_on, acc) {
            (
                Some(device),
                Some(kind),
                Some(holder),
                Some(given_on),
                Some(signed_on),
                Some(acc),
            ) => Ok(ValidLoan {
                device,
                kind,
                pupil_id: self.pupil_id.filter(|_| kind == LoanKind::Eleve),
                class_id: self.class_id,
                holder_name: holder.filter(|_| kind == LoanKind::Enseignant),
                given_on,
                signed_on,
                accessories: acc,
            }),
            _ => Err(FieldError::new("loan", "invalid").into()),
        }
    }
}

/// A device found from what was scanned or typed, in one school.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Found {
    id: i64,
    school_id: Option<i64>,
    state: String,
    is_container: bool,
    parent_id: Option<i64>,
    label: String,
}

const FOUND: &str = "SELECT d.id, d.school_id, d.state, k.is_container, d.parent_id, COALESCE(d.asset_tag, d.serial, d.name, '') AS label FROM devices d JOIN device_categories k ON k.id = d.category_id";

/// Finds a device of the school by asset tag, serial number or QR label.
async fn find(tx: &mut Tx, cid: i64, school_id: i64, code: &str) -> AppResult<Found> {
    let code = code.trim();
    let by_id = code
        .rsplit_once("/q/")
        .and_then(|(_, id)| id.trim_end_matches('/').parse::<i64>().ok());
    let mut sql = Sql::new(FOUND);
    sql.push(" WHERE d.collectivite_id = ");
    sql.bind(Param::I64(cid));
    match by_id {
        Some(id) => {
            sql.push(" AND d.id = ");
            sql.bind(Param::I64(id));
        }
        None => {
            sql.push(" AND (d.asset_tag = ");
            sql.bind(Param::Text(code.to_uppercase()));
            sql.push(" OR d.asset_tag = ");
            sql.bind(Param::Text(code.to_string()));
            sql.push(" OR d.serial = ");
            sql.bind(Param::Text(code.to_string()));
            // Serials are printed in capitals; a scanner or a hand may give them in lower case.
            sql.push(" OR d.serial = ");
            sql.bind(Param::Text(code.to_uppercase()));
            sql.push(")");
        }
    }
    sql.push(" ORDER BY d.id LIMIT 2");
    let rows: Vec<Found> = with_tx!(tx, c => {
        bind_params!(sqlx::query_as::<_, Found>(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(&mut *c).await?
    });
    match rows.as_slice() {
        [] => Err(FieldError::new("device", "device_unknown").into()),
        [d] if d.school_id == Some(school_id) => Ok(d.clone()),
        [_] => Err(FieldError::new("device", "device_other_school").into()),
        _ => Err(FieldError::new("device", "device_ambiguous").into()),
    }
}

async fn set_state(
    tx: &mut Tx,
    device_id: i64,
    from: &str,
    to: DeviceState,
    actor: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if from == to.code() {
        return Ok(());
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET state = $1, state_since = $2, version = version + 1, updated_at = $3 WHERE id = $4")
            .bind(to.code()).bind(paris::day(now)).bind(now).bind(device_id).execute(&mut *c).await?;
    });
    record_event(
        tx,
        device_id,
        now,
        "state",
        actor,
        json!({"from": from, "to": to.code()}),
    )
    .await
}

/// A device is with one holder at a time.
async fn ensure_free(tx: &mut Tx, device_id: i64) -> AppResult<()> {
    let open: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT COUNT(*) FROM loans WHERE device_id = $1 AND returned_on IS NULL").bind(device_id).fetch_one(&mut *c).await?
    });
    if open > 0 {
        return Err(AppError::Conflict(FieldError::new(
            "device",
            "device_on_loan",
        )));
    }
    Ok(())
}

/// A tablet taken out of stock for a class set is in service.
async fn into_service(tx: &mut Tx, d: &Found, actor: &str, now: DateTime<Utc>) -> AppResult<()> {
    if DeviceState::from_db(&d.state) == DeviceState::EnStock {
        set_state(tx, d.id, &d.state, DeviceState::EnService, actor, now).await?;
    }
    Ok(())
}

pub(crate) async fn get_in_tx(tx: &mut Tx, p: &Principal, id: i64) -> AppResult<Loan> {
    let sql = format!("{SELECT} WHERE l.id = $1 AND l.collectivite_id = $2");
    let row = with_tx!(tx, c => {
        sqlx::query_as::<_, Loan>(sqlx::AssertSqlSafe(sql)).bind(id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    match row {
        Some(l) if p.readable_schools().contains(l.school_id) => Ok(l),
        _ => Err(AppError::NotFound),
    }
}

/// Lends a device of the school. A pupil holds one device at a time, and a device is with
/// one holder at a time.
pub async fn lend(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    v: &ValidLoan,
    now: DateTime<Utc>,
) -> AppResult<Loan> {
    if !p.readable_schools().contains(school_id) {
        return Err(AppError::NotFound);
    }
    let school = schools::get_in_tx(tx, p.collectivite_id, school_id).await?;
    if !p.can_manage_loans(school_id) {
        return Err(AppError::Forbidden);
    }
    let d = find(tx, p.collectivite_id, school_id, &v.device).await?;
    let state = DeviceState::from_db(&d.state);
    if state.is_out() || state == DeviceState::EnReparation || state == DeviceState::Commande {
        return Err(FieldError::new("device", "device_unavailable").into());
    }
    if d.is_container && v.kind != LoanKind::Classe {
        return Err(FieldError::new("device", "cart_to_class").into());
    }
    ensure_free(tx, d.id).await?;
    let mut class_id = v.class_id;
    let mut class_label = None;
    if let Some(pid) = v.pupil_id {
        let row: Option<(i64, Option<NaiveDate>, Option<String>, String)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT p.class_id, p.left_on, p.label, c.label FROM pupils p JOIN classes c ON c.id = p.class_id WHERE p.id = $1 AND p.school_id = $2")
                .bind(pid).bind(school_id).fetch_optional(&mut *c).await?
        });
        let Some((cid, left, label, clabel)) = row else {
            return Err(FieldError::new("pupil_id", "not_in_collectivite").into());
        };
        if left.is_some() || label.is_none() {
            return Err(FieldError::new("pupil_id", "pupil_gone").into());
        }
        let has: i64 = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT COUNT(*) FROM loans WHERE pupil_id = $1 AND returned_on IS NULL").bind(pid).fetch_one(&mut *c).await?
        });
        if has > 0 {
            return Err(AppError::Conflict(FieldError::new(
                "pupil_id",
                "pupil_has_device",
            )));
        }
        class_id = Some(cid);
        class_label = Some(clabel);
    } else if let Some(cid) = class_id {
        let label: Option<String> = with_tx!(tx, c => {
            sqlx::query_scalar("SELECT label FROM classes WHERE id = $1 AND school_id = $2").bind(cid).bind(school_id).fetch_optional(&mut *c).await?
        });
        class_label =
            Some(label.ok_or_else(|| FieldError::new("class_id", "not_in_collectivite"))?);
    }
    let given_on = v.given_on.unwrap_or_else(|| paris::day(now));
    let acc: Vec<&str> = v.accessories.iter().map(|a| a.code()).collect();
    let id: i64 = with_tx!(tx, c => {
        sqlx::query_scalar("INSERT INTO loans (collectivite_id, school_id, device_id, kind, pupil_id, class_id, holder_name, given_on, signed_on, accessories, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id")
            .bind(p.collectivite_id).bind(school_id).bind(d.id).bind(v.kind.code()).bind(v.pupil_id).bind(class_id)
            .bind(&v.holder_name).bind(given_on).bind(v.signed_on).bind(acc.join(" ")).bind(&p.login).bind(now)
            .fetch_one(&mut *c).await.map_err(crate::error::unique("device", "device_on_loan"))?
    });
    // The device's history says who holds it in kind and class, never the pupil's name.
    record_event(
        tx,
        d.id,
        now,
        "loan",
        &p.display_name,
        json!({"kind": v.kind.code(), "class": class_label, "given_on": given_on}),
    )
    .await?;
    if v.kind != LoanKind::Classe {
        set_state(tx, d.id, &d.state, DeviceState::Prete, &p.display_name, now).await?;
    } else {
        into_service(tx, &d, &p.display_name, now).await?;
    }
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "create",
            object_type: "loan",
            object_id: id,
            object_label: &format!("{} — {}", d.label, school.name),
            changes: json!({"kind": v.kind.code(), "device_id": d.id, "pupil_id": v.pupil_id, "class_id": class_id, "given_on": given_on, "signed_on": v.signed_on, "accessories": acc}),
        },
    )
    .await?;
    get_in_tx(tx, p, id).await
}

/// The return of a device.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReturnInput {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub returned_on: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidReturn {
    pub state: ReturnState,
    pub returned_on: Option<NaiveDate>,
    pub note: Option<String>,
    pub version: Option<i64>,
}

impl ReturnInput {
    pub fn parse(&self) -> AppResult<ValidReturn> {
        let mut e = Errors::default();
        let state = e.check(ReturnState::parse("state", &self.state));
        let on = e.check(opt_date("returned_on", self.returned_on.as_deref()));
        let note = e.check(text::optional("note", self.note.as_deref(), 1000));
        e.finish()?;
        match (state, on, note) {
            (Some(state), Some(returned_on), Some(note)) => Ok(ValidReturn {
                state,
                returned_on,
                note,
                version: self.version,
            }),
            _ => Err(FieldError::new("return", "invalid").into()),
        }
    }
}

/// Takes a device back. Its state follows what came back (stock, repair, lost, stolen);
/// damage or loss opens a ticket on the device, linked to the loan.
pub async fn give_back(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    v: &ValidReturn,
    now: DateTime<Utc>,
) -> AppResult<Loan> {
    let loan = get_in_tx(tx, p, id).await?;
    if !p.can_manage_loans(loan.school_id) {
        return Err(AppError::Forbidden);
    }
    if !loan.is_open() {
        return Err(AppError::Conflict(FieldError::new("loan", "loan_returned")));
    }
    if v.version.is_some_and(|ver| ver != loan.version) {
        return Err(AppError::Conflict(FieldError::new(
            "version",
            "version_conflict",
        )));
    }
    let on = v.returned_on.unwrap_or_else(|| paris::day(now));
    if on < loan.given_on {
        return Err(FieldError::new("returned_on", "dates_order").into());
    }
    let ticket_id = if v.state.needs_ticket() {
        let what = v.state.label(p.lang);
        let t = tickets::open(
            tx,
            p,
            &ValidTicket {
                school_id: Some(loan.school_id),
                room_id: None,
                device_ids: vec![loan.device_id],
                category: TicketCategory::Tablette,
                priority: Priority::P3,
                title: Some(format!(
                    "Retour de prêt : {} ({})",
                    what.to_lowercase(),
                    loan.asset_tag
                        .as_deref()
                        .or(loan.serial.as_deref())
                        .unwrap_or("appareil")
                )),
                description: format!(
                    "Appareil rendu le {} : {}.{}",
                    on.format("%d/%m/%Y"),
                    what,
                    v.note
                        .as_deref()
                        .map(|n| format!("\n{n}"))
                        .unwrap_or_default()
                ),
            },
            now,
        )
        .await?;
        Some(t.id)
    } else {
        None
    };
    let n = with_tx!(tx, c => {
        sqlx::query("UPDATE loans SET returned_on = $1, return_state = $2, return_note = $3, ticket_id = $4, version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7 AND returned_on IS NULL")
            .bind(on).bind(v.state.code()).bind(&v.note).bind(ticket_id).bind(now).bind(id).bind(loan.version)
            .execute(&mut *c).await?.rows_affected()
    });
    expect_one_row(n)?;
    record_event(
        tx,
        loan.device_id,
        now,
        "return",
        &p.display_name,
        json!({"kind": loan.kind, "state": v.state.code(), "returned_on": on, "ticket_id": ticket_id}),
    )
    .await?;
    let current: String = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT state FROM devices WHERE id = $1").bind(loan.device_id).fetch_one(&mut *c).await?
    });
    // A class set comes back to the school, still in service; a device lent to someone
    // goes back to stock.
    let to = match (v.state, loan.kind()) {
        (ReturnState::Ok, LoanKind::Classe) => DeviceState::from_db(&current),
        (s, _) => s.device_state(),
    };
    set_state(tx, loan.device_id, &current, to, &p.display_name, now).await?;
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "return",
            object_type: "loan",
            object_id: id,
            object_label: &format!(
                "{} — {}",
                loan.asset_tag.as_deref().unwrap_or("?"),
                loan.school_name
            ),
            changes: json!({"state": v.state.code(), "returned_on": on, "ticket_id": ticket_id}),
        },
    )
    .await?;
    get_in_tx(tx, p, id).await
}

/// Records that the family signed the loan agreement (a fact and a date), with the scan
/// if the school keeps one (PDF or picture, recognised by its bytes).
pub async fn sign(
    tx: &mut Tx,
    p: &Principal,
    id: i64,
    signed_on: NaiveDate,
    scan: Option<(&str, &[u8])>,
    now: DateTime<Utc>,
) -> AppResult<Loan> {
    let loan = get_in_tx(tx, p, id).await?;
    if !p.can_manage_loans(loan.school_id) {
        return Err(AppError::Forbidden);
    }
    if signed_on < loan.given_on - chrono::Duration::days(60) {
        return Err(FieldError::new("signed_on", "dates_order").into());
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE loans SET signed_on = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(signed_on).bind(now).bind(id).execute(&mut *c).await?;
    });
    if let Some((name, bytes)) = scan {
        if bytes.len() > preau_domain::ticket::MAX_ATTACHMENT {
            return Err(FieldError::new("document", "file_too_large").into());
        }
        let Some(kind) = preau_domain::ticket::attachment_type(bytes) else {
            return Err(FieldError::new("document", "file_type").into());
        };
        let name = preau_domain::ticket::upload_name(name, kind, "convention");
        with_tx!(tx, c => {
            sqlx::query("DELETE FROM loan_documents WHERE loan_id = $1").bind(id).execute(&mut *c).await?;
            sqlx::query("INSERT INTO loan_documents (loan_id, file_name, content_type, size, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id).bind(&name).bind(kind).bind(bytes.len() as i64).bind(bytes).bind(now)
                .execute(&mut *c).await?;
        });
    }
    audit::record(
        tx,
        &Actor::from(p),
        now,
        Entry {
            action: "sign",
            object_type: "loan",
            object_id: id,
            object_label: &format!(
                "{} — {}",
                loan.asset_tag.as_deref().unwrap_or("?"),
                loan.school_name
            ),
            changes: json!({"signed_on": signed_on, "scan": scan.is_some()}),
        },
    )
    .await?;
    get_in_tx(tx, p, id).await
}

/// The scanned agreement of a loan: for those who see pupils.
pub async fn document(
    db: &Db,
    p: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<(String, String, Vec<u8>)> {
    write_tx!(db, tx => {
        let loan = get_in_tx(tx, p, id).await?;
        if !p.can_see_pupils(loan.school_id) {
            return Err(AppError::Forbidden);
        }
        audit::pupils_read(tx, p, "loan", id, &format!("convention — {}", loan.school_name), now).await?;
        let row: Option<(String, String, Vec<u8>)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT file_name, content_type, data FROM loan_documents WHERE loan_id = $1").bind(id).fetch_optional(&mut *c).await?
        });
        row.ok_or(AppError::NotFound)?
    })
}

/// Puts a tablet in a cart (a class set): scanning it in the bulk screen.
pub async fn put_in_cart(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    cart_id: i64,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    if !p.can_manage_loans(school_id) {
        return Err(AppError::Forbidden);
    }
    let cart: Option<(Option<i64>, bool, Option<String>)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT d.school_id, k.is_container, d.name FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.id = $1 AND d.collectivite_id = $2")
            .bind(cart_id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    match cart {
        Some((Some(s), true, _)) if s == school_id => {}
        _ => return Err(FieldError::new("cart_id", "not_in_collectivite").into()),
    }
    let d = find(tx, p.collectivite_id, school_id, code).await?;
    if d.is_container {
        return Err(FieldError::new("device", "cart_to_class").into());
    }
    ensure_free(tx, d.id).await?;
    if d.parent_id == Some(cart_id) {
        return Ok(d.id);
    }
    with_tx!(tx, c => {
        sqlx::query("UPDATE devices SET parent_id = $1, version = version + 1, updated_at = $2 WHERE id = $3").bind(cart_id).bind(now).bind(d.id).execute(&mut *c).await?;
    });
    record_event(
        tx,
        d.id,
        now,
        "updated",
        &p.display_name,
        json!({"parent_id": [d.parent_id, cart_id]}),
    )
    .await?;
    into_service(tx, &d, &p.display_name, now).await?;
    Ok(d.id)
}

/// One loan a pairing in order would make: the pupil (none for a class set) and the
/// tablet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pairing {
    pub pupil_id: Option<i64>,
    pub pupil_label: Option<String>,
    pub device_id: i64,
    pub asset_tag: Option<String>,
    pub serial: Option<String>,
}

/// What [`pair_in_order`] would do, without doing it: the class's pupils who have no
/// device, in order (by label), facing the free tablets (the cart's, or the school's
/// stock, by asset tag); with `set`, every free tablet for the class as a set. A read of
/// pupil data, recorded as such.
pub async fn pairing_plan(
    db: &Db,
    p: &Principal,
    class_id: i64,
    cart_id: Option<i64>,
    set: bool,
    now: DateTime<Utc>,
) -> AppResult<Vec<Pairing>> {
    write_tx!(db, tx => {
        let (school_id, plan) = plan_in_tx(tx, p, class_id, cart_id, set).await?;
        if !set && !plan.is_empty() {
            audit::pupils_read(tx, p, "class", class_id, &format!("association dans l'ordre — école n° {school_id}"), now).await?;
        }
        plan
    })
}

async fn plan_in_tx(
    tx: &mut Tx,
    p: &Principal,
    class_id: i64,
    cart_id: Option<i64>,
    set: bool,
) -> AppResult<(i64, Vec<Pairing>)> {
    let school_id: Option<i64> = with_tx!(tx, c => {
        sqlx::query_scalar("SELECT c.school_id FROM classes c JOIN schools s ON s.id = c.school_id WHERE c.id = $1 AND s.collectivite_id = $2").bind(class_id).bind(p.collectivite_id).fetch_optional(&mut *c).await?
    });
    let school_id = school_id
        .filter(|s| p.readable_schools().contains(*s))
        .ok_or(AppError::NotFound)?;
    if !p.can_manage_loans(school_id) {
        return Err(AppError::Forbidden);
    }
    let mut pupils: Vec<(i64, String)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT p.id, p.label FROM pupils p WHERE p.class_id = $1 AND p.left_on IS NULL AND p.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM loans l WHERE l.pupil_id = p.id AND l.returned_on IS NULL) ORDER BY p.id")
            .bind(class_id).fetch_all(&mut *c).await?
    });
    pupils.sort_by_cached_key(|(id, label)| (text::search_key(label), *id));
    let free = "SELECT d.id, d.asset_tag, d.serial FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.code = 'tablette' AND NOT EXISTS (SELECT 1 FROM loans l WHERE l.device_id = d.id AND l.returned_on IS NULL)";
    type Free = (i64, Option<String>, Option<String>);
    let tablets: Vec<Free> = match cart_id {
        Some(cart) => with_tx!(tx, c => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{free} AND d.parent_id = $2 AND d.state IN ('en_service', 'en_stock') ORDER BY d.asset_tag, d.id")))
                .bind(school_id).bind(cart).fetch_all(&mut *c).await?
        }),
        None => with_tx!(tx, c => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{free} AND d.state = 'en_stock' ORDER BY d.asset_tag, d.id")))
                .bind(school_id).fetch_all(&mut *c).await?
        }),
    };
    // Class sets take every free tablet; pupils one each, in order.
    let plan = if set {
        tablets
            .into_iter()
            .map(|(device_id, asset_tag, serial)| Pairing {
                pupil_id: None,
                pupil_label: None,
                device_id,
                asset_tag,
                serial,
            })
            .collect()
    } else {
        pupils
            .into_iter()
            .zip(tablets)
            .map(|((pupil, label), (device_id, asset_tag, serial))| Pairing {
                pupil_id: Some(pupil),
                pupil_label: Some(label),
                device_id,
                asset_tag,
                serial,
            })
            .collect()
    };
    Ok((school_id, plan))
}

/// A pairing in order to make: the class, where its tablets come from, a class set or
/// one each, the accessories given with each, and the plan the person confirmed as
/// `(pupil, device)` pairs.
#[derive(Debug, Clone, Default)]
pub struct PairRequest {
    pub class_id: i64,
    pub cart_id: Option<i64>,
    pub set: bool,
    pub accessories: Vec<Accessory>,
    pub expected: Option<Vec<(Option<i64>, i64)>>,
}

/// Makes the loans of [`pairing_plan`]. If the class or the tablets changed since the
/// plan the person confirmed, nothing is lent and the conflict is said. Returns the
/// loans made.
pub async fn pair_in_order(
    tx: &mut Tx,
    p: &Principal,
    r: &PairRequest,
    now: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let (class_id, set) = (r.class_id, r.set);
    let (school_id, plan) = plan_in_tx(tx, p, class_id, r.cart_id, set).await?;
    let pairs: Vec<(Option<i64>, i64)> = plan.iter().map(|x| (x.pupil_id, x.device_id)).collect();
    if r.expected.as_ref().is_some_and(|e| *e != pairs) {
        return Err(AppError::Conflict(FieldError::new(
            "pairs",
            "changed_since",
        )));
    }
    let mut made = Vec::with_capacity(pairs.len());
    for (pupil_id, device) in &pairs {
        let v = ValidLoan {
            device: format!("/q/{device}"),
            kind: if set {
                LoanKind::Classe
            } else {
                LoanKind::Eleve
            },
            pupil_id: *pupil_id,
            class_id: Some(class_id),
            holder_name: None,
            given_on: None,
            signed_on: None,
            accessories: r.accessories.clone(),
        };
        made.push(lend(tx, p, school_id, &v, now).await?.id);
    }
    Ok(made)
}

/// The most loans one pairing in order is undone for (a class and then some).
pub const PAIR_MAX: usize = 200;

/// How long a pairing in order can be undone.
pub const UNDO_MINUTES: i64 = 30;

/// Undoes a pairing in order just made: each of these loans, still open, made by the
/// caller in the last [`UNDO_MINUTES`] and in this class, is ended on the day it began
/// (its history keeps both steps). Returns how many were undone.
pub async fn undo_pairing(
    tx: &mut Tx,
    p: &Principal,
    class_id: i64,
    loan_ids: &[i64],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if loan_ids.len() > PAIR_MAX {
        return Err(FieldError::new("loan", "too_many").into());
    }
    let mut undone = 0;
    for id in loan_ids {
        let l = get_in_tx(tx, p, *id).await?;
        if !p.can_manage_loans(l.school_id) {
            return Err(AppError::Forbidden);
        }
        let made: Option<(DateTime<Utc>, String)> = with_tx!(tx, c => {
            sqlx::query_as("SELECT created_at, created_by FROM loans WHERE id = $1").bind(*id).fetch_optional(&mut *c).await?
        });
        let recent = made.is_some_and(|(at, by)| {
            at > now - chrono::Duration::minutes(UNDO_MINUTES) && by == p.login
        });
        if l.class_id != Some(class_id) || !l.is_open() || !recent {
            return Err(AppError::Conflict(FieldError::new("loan", "undo_too_late")));
        }
        give_back(
            tx,
            p,
            *id,
            &ValidReturn {
                state: ReturnState::Ok,
                returned_on: Some(l.given_on),
                note: Some("Association dans l'ordre annulée.".into()),
                version: None,
            },
            now,
        )
        .await?;
        undone += 1;
    }
    Ok(undone)
}

/// At the first import of a new year, for a school whose tablets return to stock: every
/// tablet lent to last year's pupils comes back, in good order unless told otherwise.
pub(crate) async fn close_year(
    tx: &mut Tx,
    p: &Principal,
    school_id: i64,
    year_id: i64,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let open: Vec<(i64, NaiveDate)> = with_tx!(tx, c => {
        sqlx::query_as("SELECT l.id, l.given_on FROM loans l JOIN pupils p ON p.id = l.pupil_id WHERE l.school_id = $1 AND p.school_year_id = $2 AND l.returned_on IS NULL ORDER BY l.id")
            .bind(school_id).bind(year_id).fetch_all(&mut *c).await?
    });
    for (id, given_on) in &open {
        give_back(
            tx,
            p,
            *id,
            &ValidReturn {
                state: ReturnState::Ok,
                returned_on: Some(today.max(*given_on)),
                note: Some("Retour en stock à la rentrée (choix de l'école).".into()),
                version: None,
            },
            now,
        )
        .await?;
    }
    Ok(open.len())
}

/// Which loans a list shows.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LoanFilter {
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub school_id: Option<i64>,
    #[serde(default, deserialize_with = "text::opt_i64")]
    pub class_id: Option<i64>,
    /// `open` (default), `returned` or `all`.
    #[serde(default)]
    pub status: Option<String>,
}

/// Loans in the schools where the caller sees pupils; audit-logged as a read.
pub async fn list(
    db: &Db,
    p: &Principal,
    f: &LoanFilter,
    limit: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<Loan>> {
    let visible: Vec<(i64, String)> = schools::all_readable(db, p)
        .await?
        .into_iter()
        .filter(|s| p.can_see_pupils(s.id))
        .filter(|s| f.school_id.is_none_or(|x| x == s.id))
        .map(|s| (s.id, s.name))
        .collect();
    let schools: Vec<i64> = visible.iter().map(|(id, _)| *id).collect();
    if schools.is_empty() {
        // A school the caller reads without seeing its pupils is forbidden; another
        // collectivité's, or one outside the caller's scope, does not exist.
        if let Some(s) = f.school_id {
            schools::get(db, p, s).await?;
        }
        return Err(AppError::Forbidden);
    }
    let mut sql = Sql::new(SELECT);
    sql.push(" WHERE l.collectivite_id = ");
    sql.bind(Param::I64(p.collectivite_id));
    sql.push(" AND l.school_id IN ");
    sql.bind_list(&schools);
    if let Some(c) = f.class_id {
        sql.push(" AND l.class_id = ");
        sql.bind(Param::I64(c));
    }
    match f.status.as_deref().unwrap_or("open") {
        "all" => {}
        "returned" => {
            sql.push(" AND l.returned_on IS NOT NULL");
        }
        _ => {
            sql.push(" AND l.returned_on IS NULL");
        }
    }
    sql.push(" ORDER BY l.id DESC LIMIT ");
    sql.bind(Param::I64(limit.clamp(1, 5000)));
    let what = match (f.school_id, visible.as_slice()) {
        (Some(_), [(_, name)]) => name.clone(),
        _ => format!("{} école(s)", schools.len()),
    };
    write_tx!(db, tx => {
        audit::pupils_read(tx, p, "loans", f.school_id.unwrap_or(0), &format!("prêts — {what}"), now).await?;
        with_tx!(tx, c => {
            bind_params!(sqlx::query_as::<_, Loan>(sqlx::AssertSqlSafe(sql.text.clone())), &sql.params).fetch_all(&mut *c).await?
        })
    })
}

/// A device's loans, newest first. Pupil labels only for those who see the school's
/// pupils (audit-logged); the others learn that it was lent, to whom in kind.
pub async fn for_device(
    db: &Db,
    p: &Principal,
    device_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<Loan>> {
    let d = crate::inventory::devices::get(db, p, device_id, now).await?;
    let sql =
        format!("{SELECT} WHERE l.device_id = $1 AND l.collectivite_id = $2 ORDER BY l.id DESC");
    let sees = d.school_id.is_some_and(|s| p.can_see_pupils(s));
    let label = d.label();
    write_tx!(db, tx => {
        let mut rows = with_tx!(tx, c => {
            sqlx::query_as::<_, Loan>(sqlx::AssertSqlSafe(sql.clone())).bind(device_id).bind(p.collectivite_id).fetch_all(&mut *c).await?
        });
        if sees && rows.iter().any(|l| l.pupil_label.is_some()) {
            audit::pupils_read(tx, p, "device", device_id, &format!("prêts — {label}"), now).await?;
        }
        if !sees {
            // Who the pupil is stays hidden, and "deleted" is not claimed of a label that is
            // only withheld.
            for l in &mut rows {
                l.pupil_id = None;
                l.pupil_label = None;
                l.return_note = None;
                l.holder_name = None;
            }
        }
        rows
    })
}

/// The tablets of one school, as everybody asks for them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TabletCounts {
    pub school_id: i64,
    pub school_name: String,
    /// In the fleet (not lost, stolen or retired).
    pub fleet: i64,
    pub in_service: i64,
    /// Lent to a pupil or a teacher, or in a cart bound to a class.
    pub assigned: i64,
    /// Usable and held by no one: in the stock cupboard or free in a cart.
    pub available: i64,
    pub in_stock: i64,
    pub in_repair: i64,
    pub pupils: i64,
    /// Pupils with no tablet of their own and no class set in their class.
    pub pupils_without: i64,
    /// Loans that ran during the year, and how they came back.
    pub lent_in_year: i64,
    pub broken: i64,
    pub lost: i64,
    pub stolen: i64,
}

impl TabletCounts {
    pub fn broken_rate(&self) -> String {
        self.rate(self.broken)
    }
    pub fn lost_rate(&self) -> String {
        self.rate(self.lost)
    }
    pub fn stolen_rate(&self) -> String {
        self.rate(self.stolen)
    }

    /// Breakage, loss and theft per hundred loans of the year, with one decimal.
    fn rate(&self, n: i64) -> String {
        if self.lent_in_year == 0 {
            return "—".into();
        }
        format!("{:.1} %", n as f64 * 100.0 / self.lent_in_year as f64).replace('.', ",")
    }
}

/// Counts per school for a school year (the loans that ran in it, its pupils).
pub async fn counts(
    db: &Db,
    p: &Principal,
    year: &crate::years::SchoolYear,
) -> AppResult<Vec<TabletCounts>> {
    let readable: Vec<(i64, String)> = schools::all_readable(db, p)
        .await?
        .into_iter()
        .filter(|s| p.can_see_tablet_counts(s.id))
        .map(|s| (s.id, s.name))
        .collect();
    if readable.is_empty() {
        return Err(AppError::Forbidden);
    }
    let cid = p.collectivite_id;
    let devices: Vec<(i64, String, i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT d.school_id, d.state, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM loans l WHERE l.device_id = d.id AND l.returned_on IS NULL) OR EXISTS (SELECT 1 FROM loans l WHERE l.device_id = d.parent_id AND l.returned_on IS NULL AND l.kind = 'classe') THEN 1 ELSE 0 END) FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.collectivite_id = $1 AND k.code = 'tablette' AND d.school_id IS NOT NULL GROUP BY d.school_id, d.state")
            .bind(cid).fetch_all(pool).await?
    });
    let pupils: Vec<(i64, i64, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT p.school_id, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM loans l WHERE l.pupil_id = p.id AND l.returned_on IS NULL) OR EXISTS (SELECT 1 FROM loans l WHERE l.class_id = p.class_id AND l.kind = 'classe' AND l.returned_on IS NULL) THEN 0 ELSE 1 END) FROM pupils p WHERE p.collectivite_id = $1 AND p.school_year_id = $2 AND p.left_on IS NULL AND p.purged_at IS NULL GROUP BY p.school_id")
            .bind(cid).bind(year.id).fetch_all(pool).await?
    });
    let returns: Vec<(i64, Option<String>, i64)> = with_db!(db, pool => {
        sqlx::query_as("SELECT l.school_id, l.return_state, COUNT(*) FROM loans l JOIN devices d ON d.id = l.device_id JOIN device_categories k ON k.id = d.category_id WHERE l.collectivite_id = $1 AND k.code = 'tablette' AND l.given_on <= $3 AND (l.returned_on IS NULL OR l.returned_on >= $2) GROUP BY l.school_id, l.return_state")
            .bind(cid).bind(year.starts_on).bind(year.ends_on).fetch_all(pool).await?
    });
    let mut out: Vec<TabletCounts> = readable
        .into_iter()
        .map(|(school_id, school_name)| TabletCounts {
            school_id,
            school_name,
            ..TabletCounts::default()
        })
        .collect();
    for c in &mut out {
        for (_, state, n, assigned) in devices.iter().filter(|d| d.0 == c.school_id) {
            let s = DeviceState::from_db(state);
            if !s.is_out() {
                c.fleet += n;
                c.assigned += assigned;
            }
            if matches!(
                s,
                DeviceState::EnService | DeviceState::Prete | DeviceState::EnStock
            ) {
                c.available += n - assigned;
            }
            match s {
                DeviceState::EnService | DeviceState::Prete => c.in_service += n,
                DeviceState::EnStock => c.in_stock += n,
                DeviceState::EnReparation => c.in_repair += n,
                _ => {}
            }
        }
        if let Some((_, n, without)) = pupils.iter().find(|x| x.0 == c.school_id) {
            c.pupils = *n;
            c.pupils_without = *without;
        }
        for (_, state, n) in returns.iter().filter(|r| r.0 == c.school_id) {
            c.lent_in_year += n;
            match state.as_deref().map(ReturnState::from_db) {
                Some(s) if s.is_breakage() => c.broken += n,
                Some(ReturnState::Perdu) => c.lost += n,
                Some(ReturnState::Vole) => c.stolen += n,
                _ => {}
            }
        }
    }
    Ok(out)
}

/// One loan for its page: a read of pupil data when it names a pupil.
pub async fn get(db: &Db, p: &Principal, id: i64, now: DateTime<Utc>) -> AppResult<Loan> {
    write_tx!(db, tx => {
        let l = get_in_tx(tx, p, id).await?;
        if !p.can_see_pupils(l.school_id) {
            return Err(AppError::Forbidden);
        }
        record_shown(tx, p, &l, now).await?;
        l
    })
}

/// Logs that an answer shows this loan's pupil label (when it names one), in the
/// transaction that wrote or read the loan.
pub async fn record_shown(
    tx: &mut Tx,
    p: &Principal,
    l: &Loan,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if l.pupil_label.is_some() {
        audit::pupils_read(
            tx,
            p,
            "loan",
            l.id,
            &format!("prêt n° {} — {}", l.id, l.school_name),
            now,
        )
        .await?;
    }
    Ok(())
}

/// The loans of one pupil (the caller has read the pupil, which was logged).
pub async fn for_pupil(db: &Db, p: &Principal, pupil_id: i64) -> AppResult<Vec<Loan>> {
    let sql =
        format!("{SELECT} WHERE l.pupil_id = $1 AND l.collectivite_id = $2 ORDER BY l.id DESC");
    let rows = with_db!(db, pool => {
        sqlx::query_as::<_, Loan>(sqlx::AssertSqlSafe(sql)).bind(pupil_id).bind(p.collectivite_id).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .filter(|l| p.can_see_pupils(l.school_id))
        .collect())
}

/// The school's carts (classes mobiles), each with how many of its tablets are free.
pub async fn carts(db: &Db, p: &Principal, school_id: i64) -> AppResult<Vec<(i64, String, i64)>> {
    schools::get(db, p, school_id).await?;
    Ok(with_db!(db, pool => {
        sqlx::query_as("SELECT d.id, COALESCE(d.name, d.asset_tag, '') AS name, (SELECT COUNT(*) FROM devices t WHERE t.parent_id = d.id AND t.state IN ('en_service', 'en_stock') AND NOT EXISTS (SELECT 1 FROM loans l WHERE l.device_id = t.id AND l.returned_on IS NULL)) AS free FROM devices d JOIN device_categories k ON k.id = d.category_id WHERE d.school_id = $1 AND k.is_container = TRUE ORDER BY d.name, d.id")
            .bind(school_id).fetch_all(pool).await?
    }))
}

/// What a school's open loans still ask of it, in counts (no pupil is named, nothing is
/// read of them): pupils' loans whose charter is not signed, and loans held by pupils who
/// have left the school.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToSettle {
    pub unsigned: i64,
    pub pupil_left: i64,
}

pub async fn to_settle(db: &Db, p: &Principal, school_id: i64) -> AppResult<ToSettle> {
    if !p.can_manage_loans(school_id) {
        return Err(AppError::Forbidden);
    }
    let (unsigned, left): (Option<i64>, Option<i64>) = with_db!(db, pool => {
        sqlx::query_as("SELECT SUM(CASE WHEN l.kind = 'eleve' AND l.signed_on IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN l.pupil_id IS NOT NULL AND (p.left_on IS NOT NULL OR p.purged_at IS NOT NULL) THEN 1 ELSE 0 END) FROM loans l LEFT JOIN pupils p ON p.id = l.pupil_id WHERE l.collectivite_id = $1 AND l.school_id = $2 AND l.returned_on IS NULL")
            .bind(p.collectivite_id).bind(school_id).fetch_one(pool).await?
    });
    Ok(ToSettle {
        unsigned: unsigned.unwrap_or(0),
        pupil_left: left.unwrap_or(0),
    })
}
