//! What the API answers and reads, one type per shape, with its schema (see `schema.rs`).
//! Answers are copied field by field from the stored rows of preau-core, so the API only
//! changes when this file does.

use chrono::{DateTime, NaiveDate, Utc};
use preau_core::pupils::loans;
use preau_core::steering::coverage;
use preau_core::{classes, collectivites, contracts, interventions, rooms, schools};
use preau_core::{inventory, reports, tickets, users, years};
use preau_domain::Principal;
use preau_domain::referentiel::Rule;
use serde_json::Value;

use super::schema::{input, object};

object! {
    /// The caller, as its bearer token authenticates it.
    Me {
        id: i64,
        login: String,
        display_name: String,
        collectivite_id: i64,
        roles: Vec<Assignment>,
    }
}

object! {
    /// One role of a user, with the school or contractor it is scoped to.
    Assignment {
        role: String,
        school_id: Option<i64>,
        contractor_id: Option<i64>,
    }
}

impl From<&Principal> for Me {
    fn from(p: &Principal) -> Self {
        Me {
            id: p.user_id,
            login: p.login.clone(),
            display_name: p.display_name.clone(),
            collectivite_id: p.collectivite_id,
            roles: p
                .assignments
                .iter()
                .map(|a| Assignment {
                    role: a.role.code().to_string(),
                    school_id: a.school_id,
                    contractor_id: a.contractor_id,
                })
                .collect(),
        }
    }
}

object! {
    /// A commune, département or région.
    Collectivite from collectivites::Collectivite {
        id: i64,
        kind: String,
        name: String,
        insee_code: Option<String>,
        version: i64,
        created_at: DateTime<Utc>,
    }
}

object! {
    /// A school as lists show it.
    SchoolSummary from schools::SchoolListItem {
        id: i64,
        uai: String,
        name: String,
        kind: String,
        city: Option<String>,
        holiday_zone: String,
        status: String,
        room_count: i64,
    }
}

object! {
    /// A school: its UAI, kind, address, holiday zone and school week.
    School from schools::School {
        id: i64,
        collectivite_id: i64,
        uai: String,
        name: String,
        kind: String,
        address: Option<String>,
        postal_code: Option<String>,
        city: Option<String>,
        holiday_zone: String,
        status: String,
        /// `4` or `4.5`: the school week its deadlines follow.
        week: String,
        version: i64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}

object! {
    /// A room of a school.
    Room from rooms::Room {
        id: i64,
        school_id: i64,
        kind: String,
        name: String,
        building: Option<String>,
        floor: Option<String>,
        version: i64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}

object! {
    /// A class of a school year.
    Class from classes::Class {
        id: i64,
        school_id: i64,
        school_year_id: i64,
        label: String,
        levels: String,
        head_count: i64,
        teacher_name: Option<String>,
        room_id: Option<i64>,
        room_name: Option<String>,
        version: i64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}

object! {
    /// A school year of the collectivité.
    SchoolYear from years::SchoolYear {
        id: i64,
        collectivite_id: i64,
        label: String,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        created_at: DateTime<Utc>,
    }
}

object! {
    /// A user account of the collectivité.
    User from users::User {
        id: i64,
        collectivite_id: i64,
        login: String,
        display_name: String,
        email: Option<String>,
        lang: String,
        active: bool,
        version: i64,
        created_at: DateTime<Utc>,
    }
}

object! {
    /// A user with their roles.
    UserDetail: User {
        roles: Vec<UserRole>,
    }
}

object! {
    /// One role of a user, with the names of its school or contractor.
    UserRole from users::RoleRow {
        id: i64,
        user_id: i64,
        role: String,
        school_id: Option<i64>,
        school_name: Option<String>,
        contractor_id: Option<i64>,
        contractor_name: Option<String>,
    }
}

object! {
    /// A device of the inventory. Purchase details are `null` for those who may not see them.
    Device from inventory::devices::Device {
        id: i64,
        category_id: i64,
        category: String,
        school_id: Option<i64>,
        school_name: Option<String>,
        school_uai: Option<String>,
        room_id: Option<i64>,
        room_name: Option<String>,
        /// The cart or case it sits in.
        parent_id: Option<i64>,
        name: Option<String>,
        state: String,
        state_since: NaiveDate,
        brand: Option<String>,
        model: Option<String>,
        serial: Option<String>,
        asset_tag: Option<String>,
        purchase_date: Option<NaiveDate>,
        price_cents: Option<i64>,
        supplier: Option<String>,
        order_ref: Option<String>,
        warranty_end: Option<NaiveDate>,
        funding: Option<String>,
        notes: Option<String>,
        wifi_switchable: Option<bool>,
        agent_device_id: Option<String>,
        system_uuid: Option<String>,
        os_name: Option<String>,
        os_version: Option<String>,
        cpu: Option<String>,
        memory_mb: Option<i64>,
        bios: Option<String>,
        ips: Option<String>,
        software_count: i64,
        last_inventory_at: Option<DateTime<Utc>>,
        inventory_source: Option<String>,
        agent_version: Option<String>,
        version: i64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}

object! {
    /// A device with the components and software its last inventory listed.
    DeviceDetail: Device {
        components: Vec<Component>,
        software: Vec<Software>,
    }
}

object! {
    /// A component an agent reported (disk, memory, network card…).
    Component from inventory::devices::ComponentRow {
        kind: String,
        name: String,
        detail: String,
        serial: Option<String>,
    }
}

object! {
    /// An installed software.
    Software from inventory::devices::SoftwareRow {
        name: String,
        publisher: String,
        version: String,
    }
}

object! {
    /// One entry of a device's history.
    DeviceEvent {
        id: i64,
        occurred_at: DateTime<Utc>,
        kind: String,
        actor: String,
        /// What changed, as the event kind describes it.
        detail: Value,
    }
}

impl From<&inventory::devices::Event> for DeviceEvent {
    fn from(e: &inventory::devices::Event) -> Self {
        DeviceEvent {
            id: e.id,
            occurred_at: e.occurred_at,
            kind: e.kind.clone(),
            actor: e.actor.clone(),
            detail: serde_json::from_str(&e.detail).unwrap_or_default(),
        }
    }
}

object! {
    /// A device category (tablet, interactive display, cart…).
    Category from inventory::categories::Category {
        id: i64,
        code: String,
        label_fr: String,
        label_en: String,
        /// Holds other devices (a cart, a case).
        is_container: bool,
        has_wifi_switch: bool,
    }
}

object! {
    /// One deadline of a ticket: the time to take it (GTI) or to fix it (GTR).
    Deadline {
        due: Option<DateTime<Utc>>,
        /// The contract's span, `4h`, `2d`…
        span: Option<String>,
        stopped_at: Option<DateTime<Utc>>,
        breached: bool,
        at_risk: bool,
        /// Working minutes past the deadline (on a single ticket's reading only).
        late_working_minutes: Option<i64>,
    }
}

object! {
    /// The ticket's two deadlines.
    Deadlines {
        gti: Deadline,
        gtr: Deadline,
        /// The clocks are stopped while the ticket waits on the school.
        paused: bool,
    }
}

object! {
    /// Who the ticket is with: a user (the technician) or a contract lot.
    TicketAssignee {
        kind: String,
        id: i64,
    }
}

object! {
    /// The contract's penalty terms frozen on the ticket when it was routed.
    PenaltyTerms {
        unit: String,
        gti_cents_per_unit: i64,
        gtr_cents_per_unit: i64,
        cap_cents: Option<i64>,
    }
}

object! {
    /// A reported problem, with its deadlines.
    Ticket {
        id: i64,
        number: i64,
        school_id: i64,
        school_name: String,
        room_id: Option<i64>,
        room_name: Option<String>,
        category: String,
        priority: String,
        status: String,
        title: String,
        description: String,
        reporter_name: String,
        assignee: Option<TicketAssignee>,
        assignee_user_id: Option<i64>,
        assignee_name: Option<String>,
        lot_id: Option<i64>,
        lot: Option<String>,
        contractor: Option<String>,
        opened_at: DateTime<Utc>,
        clocks_started_at: DateTime<Utc>,
        taken_at: Option<DateTime<Utc>>,
        resolved_at: Option<DateTime<Utc>>,
        closed_at: Option<DateTime<Utc>>,
        deadlines: Deadlines,
        /// `null` for those who may not see the contract's amounts.
        penalties: Option<PenaltyTerms>,
        version: i64,
        updated_at: DateTime<Utc>,
    }
}

object! {
    /// A ticket with the devices it is about.
    TicketDetail: Ticket {
        devices: Vec<TicketDevice>,
    }
}

object! {
    /// A device a ticket is about.
    TicketDevice {
        id: i64,
        category: String,
        label: String,
        asset_tag: Option<String>,
    }
}

object! {
    /// One entry of a ticket's thread: a message, a status change, an assignment…
    TicketEvent from tickets::Event {
        id: i64,
        occurred_at: DateTime<Utc>,
        actor_name: String,
        kind: String,
        /// Seen by the school; `false` for the team's internal notes.
        public: bool,
        body: Option<String>,
        detail: String,
    }
}

object! {
    /// A maintenance contract.
    Contract from contracts::Contract {
        id: i64,
        contractor_id: i64,
        contractor_name: String,
        reference: String,
        title: String,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        calendar: String,
        work_days: String,
        work_start: String,
        work_end: String,
        version: i64,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    }
}

object! {
    /// A contract with its lots.
    ContractDetail: Contract {
        lots: Vec<LotDetail>,
        /// `false` for a contractor's staff: caps and penalty amounts are cleared.
        amounts_shown: bool,
    }
}

object! {
    /// A lot of a contract.
    Lot from contracts::Lot {
        id: i64,
        contract_id: i64,
        number: i64,
        label: String,
        cap_ticket_cents: Option<i64>,
        cap_month_cents: Option<i64>,
        version: i64,
    }
}

object! {
    /// A lot with its deadlines grid and perimeter.
    LotDetail: Lot {
        grid: Vec<GridLine>,
        perimeter: Vec<PerimeterPair>,
    }
}

object! {
    /// The deadlines and penalties of one priority.
    GridLine {
        priority: String,
        gti: Option<String>,
        gtr: Option<String>,
        unit: String,
        gti_penalty_cents: i64,
        gtr_penalty_cents: i64,
    }
}

object! {
    /// A school and a device category the lot covers.
    PerimeterPair {
        school_id: i64,
        category_id: i64,
    }
}

impl From<&contracts::ContractDetail> for ContractDetail {
    fn from(d: &contracts::ContractDetail) -> Self {
        ContractDetail {
            base: (&d.contract).into(),
            lots: d
                .lots
                .iter()
                .map(|l| LotDetail {
                    base: (&l.lot).into(),
                    grid: l
                        .grid
                        .iter()
                        .map(|(p, line)| GridLine {
                            priority: p.code().to_string(),
                            gti: line.gti.map(|s| s.code()),
                            gtr: line.gtr.map(|s| s.code()),
                            unit: line.unit.code().to_string(),
                            gti_penalty_cents: line.gti_penalty_cents,
                            gtr_penalty_cents: line.gtr_penalty_cents,
                        })
                        .collect(),
                    perimeter: l
                        .perimeter
                        .iter()
                        .map(|&(school_id, category_id)| PerimeterPair {
                            school_id,
                            category_id,
                        })
                        .collect(),
                })
                .collect(),
            amounts_shown: d.amounts_shown,
        }
    }
}

object! {
    /// A contract's month: deadlines met and penalties, per lot.
    SlaReport {
        contract_id: i64,
        reference: String,
        /// `2026-03`.
        month: String,
        computed_at: DateTime<Utc>,
        total_penalty_cents: i64,
        lots: Vec<LotReport>,
    }
}

object! {
    /// One lot of the monthly report.
    LotReport {
        lot_id: i64,
        number: i64,
        label: String,
        tickets: usize,
        gti: Rate,
        gtr: Rate,
        penalty_cents: i64,
        penalty_before_cap_cents: i64,
        capped: bool,
        late: Vec<LateTicket>,
    }
}

object! {
    /// How many tickets were counted, how many met the deadline, the percentage.
    Rate {
        counted: usize,
        met: usize,
        rate: Option<f64>,
    }
}

object! {
    /// A ticket past a deadline in the month.
    LateTicket {
        ticket_id: i64,
        number: i64,
        priority: String,
        gti_due: Option<DateTime<Utc>>,
        gtr_due: Option<DateTime<Utc>>,
        gti_late_working_minutes: i64,
        gtr_late_working_minutes: i64,
        gti_late_days: i64,
        gtr_late_days: i64,
        penalty: TicketPenalty,
        /// Still open: its penalty may grow.
        provisional: bool,
    }
}

object! {
    /// A ticket's penalty: both deadlines, before and after the cap.
    TicketPenalty {
        gti: PenaltyPart,
        gtr: PenaltyPart,
        gross_cents: i64,
        cents: i64,
        capped: bool,
    }
}

object! {
    /// Units late times the rate.
    PenaltyPart {
        units: i64,
        rate_cents: i64,
        cents: i64,
    }
}

impl From<&reports::SlaReport> for SlaReport {
    fn from(r: &reports::SlaReport) -> Self {
        let part = |p: &preau_domain::sla::PenaltyPart| PenaltyPart {
            units: p.units,
            rate_cents: p.rate_cents,
            cents: p.cents,
        };
        SlaReport {
            contract_id: r.contract.id,
            reference: r.contract.reference.clone(),
            month: r.month.code(),
            computed_at: r.computed_at,
            total_penalty_cents: r.total_cents,
            lots: r
                .lots
                .iter()
                .map(|l| LotReport {
                    lot_id: l.lot.id,
                    number: l.lot.number,
                    label: l.lot.label.clone(),
                    tickets: l.tickets,
                    gti: Rate {
                        counted: l.gti_counted,
                        met: l.gti_met,
                        rate: l.gti_rate(),
                    },
                    gtr: Rate {
                        counted: l.gtr_counted,
                        met: l.gtr_met,
                        rate: l.gtr_rate(),
                    },
                    penalty_cents: l.total.cents,
                    penalty_before_cap_cents: l.total.gross_cents,
                    capped: l.total.capped,
                    late: l
                        .lines
                        .iter()
                        .filter(|x| x.late())
                        .map(|x| LateTicket {
                            ticket_id: x.ticket.id,
                            number: x.ticket.number,
                            priority: x.ticket.priority.clone(),
                            gti_due: x.gti_due,
                            gtr_due: x.gtr_due,
                            gti_late_working_minutes: x.gti_late_minutes,
                            gtr_late_working_minutes: x.gtr_late_minutes,
                            gti_late_days: x.gti_late_days,
                            gtr_late_days: x.gtr_late_days,
                            penalty: TicketPenalty {
                                gti: part(&x.penalty.gti),
                                gtr: part(&x.penalty.gtr),
                                gross_cents: x.penalty.gross_cents,
                                cents: x.penalty.cents,
                                capped: x.penalty.capped,
                            },
                            provisional: x.provisional,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

object! {
    /// A planned visit to a school, with the tickets it is for.
    Intervention from interventions::Intervention {
        id: i64,
        school_id: i64,
        school_name: String,
        school_address: Option<String>,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        technician_user_id: Option<i64>,
        technician_name: Option<String>,
        lot_id: Option<i64>,
        contractor_name: Option<String>,
        status: String,
        notes: String,
        planned_by: String,
        version: i64,
    }
}

object! {
    /// A visit and its tickets.
    Visit: Intervention {
        tickets: Vec<VisitTicket>,
    }
}

object! {
    /// A ticket a visit is for.
    VisitTicket {
        id: i64,
        number: i64,
        title: String,
    }
}

impl From<&interventions::Visit> for Visit {
    fn from(v: &interventions::Visit) -> Self {
        Visit {
            base: (&v.intervention).into(),
            tickets: v
                .tickets
                .iter()
                .map(|(id, number, title)| VisitTicket {
                    id: *id,
                    number: *number,
                    title: title.clone(),
                })
                .collect(),
        }
    }
}

object! {
    /// A device lent to a pupil, a teacher or a class. Pupil labels are `null` for those
    /// who may not see pupils.
    Loan {
        id: i64,
        school_id: i64,
        school_name: String,
        device_id: i64,
        asset_tag: Option<String>,
        serial: Option<String>,
        model: Option<String>,
        category: String,
        /// `eleve`, `enseignant` or `classe`.
        kind: String,
        pupil_id: Option<i64>,
        pupil_label: Option<String>,
        /// The pupil's record was erased (the loan stays, unnamed).
        pupil_deleted: bool,
        class_id: Option<i64>,
        class_label: Option<String>,
        holder_name: Option<String>,
        given_on: NaiveDate,
        signed_on: Option<NaiveDate>,
        has_document: bool,
        accessories: Vec<String>,
        returned_on: Option<NaiveDate>,
        return_state: Option<String>,
        return_note: Option<String>,
        /// The ticket opened by a damaged or lost return.
        ticket_id: Option<i64>,
        version: i64,
    }
}

impl From<&loans::Loan> for Loan {
    fn from(l: &loans::Loan) -> Self {
        Loan {
            id: l.id,
            school_id: l.school_id,
            school_name: l.school_name.clone(),
            device_id: l.device_id,
            asset_tag: l.asset_tag.clone(),
            serial: l.serial.clone(),
            model: l.model.clone(),
            category: l.category.clone(),
            kind: l.kind.clone(),
            pupil_id: l.pupil_id,
            pupil_label: l.pupil_label.clone(),
            pupil_deleted: l.pupil_deleted(),
            class_id: l.class_id,
            class_label: l.class_label.clone(),
            holder_name: l.holder_name.clone(),
            given_on: l.given_on,
            signed_on: l.signed_on,
            has_document: l.has_document,
            accessories: l
                .accessory_list()
                .iter()
                .map(|a| a.code().to_string())
                .collect(),
            returned_on: l.returned_on,
            return_state: l.return_state.clone(),
            return_note: l.return_note.clone(),
            ticket_id: l.ticket_id,
            version: l.version,
        }
    }
}

object! {
    /// A class and its pupils, each with the device lent to them.
    ClassPupils {
        class: ClassRef,
        items: Vec<PupilLoan>,
        next: Option<String>,
    }
}

object! {
    /// The class a pupil list is for.
    ClassRef {
        id: i64,
        label: String,
        levels: String,
        school_id: i64,
        school_year_id: i64,
    }
}

object! {
    /// A pupil (a label, never a full name) and their current loan.
    PupilLoan {
        id: i64,
        /// `null` once the pupil's record was erased.
        label: Option<String>,
        arrived_on: NaiveDate,
        left_on: Option<NaiveDate>,
        /// The day the label will be erased.
        label_deleted_on: NaiveDate,
        loan_id: Option<i64>,
        device: Option<LentDevice>,
        given_on: Option<NaiveDate>,
        agreement_signed_on: Option<NaiveDate>,
    }
}

object! {
    /// The device a pupil holds.
    LentDevice {
        id: i64,
        asset_tag: Option<String>,
        serial: Option<String>,
        model: Option<String>,
    }
}

impl From<&preau_core::pupils::PupilRow> for PupilLoan {
    fn from(r: &preau_core::pupils::PupilRow) -> Self {
        PupilLoan {
            id: r.id,
            label: r.label.clone(),
            arrived_on: r.arrived_on,
            left_on: r.left_on,
            label_deleted_on: r.purge_on,
            loan_id: r.loan_id,
            device: r.device_id.map(|id| LentDevice {
                id,
                asset_tag: r.asset_tag.clone(),
                serial: r.serial.clone(),
                model: r.model.clone(),
            }),
            given_on: r.given_on,
            agreement_signed_on: r.signed_on,
        }
    }
}

object! {
    /// An error, as RFC 9457 problem details; `errors` names each invalid field.
    Problem {
        /// Always `about:blank`: `title` and `status` say it all.
        r#type: String,
        title: String,
        status: i64,
        detail: Option<String>,
        errors: Vec<ProblemField>,
    }
}

object! {
    /// An invalid field and why.
    ProblemField {
        field: String,
        code: String,
        message: String,
        message_fr: String,
    }
}

object! {
    /// A rule of the référentiel.
    ReferentielRule {
        /// Stable key, `affichage_collectif`.
        key: String,
        label: String,
        /// `salle` (each classroom), `ecole` or `direction`.
        scope: String,
        /// `requis` or `recommande`.
        level: String,
        /// `nombre`, `mdm`, `debrayable` or `declaration`.
        measure: String,
        /// Device categories that satisfy it; the first is the one a plan buys.
        categories: Vec<String>,
        quantity: i64,
        /// `unite`, `eleves` or `classes`.
        per: String,
        per_n: i64,
        /// Empty: every kind of school.
        school_kinds: Vec<String>,
    }
}

impl From<&Rule> for ReferentielRule {
    fn from(r: &Rule) -> Self {
        ReferentielRule {
            key: r.key.clone(),
            label: r.label.clone(),
            scope: r.scope.code().into(),
            level: r.level.code().into(),
            measure: r.measure.code().into(),
            categories: r.categories.clone(),
            quantity: r.quantity,
            per: r.per.code().into(),
            per_n: r.per_n,
            school_kinds: r.school_kinds.iter().map(|k| k.code().into()).collect(),
        }
    }
}

object! {
    /// The référentiel in force.
    Referentiel {
        /// 0 while the socle applies (never edited); send it back to change the rules.
        version: i64,
        is_socle: bool,
        updated_at: Option<DateTime<Utc>>,
        rules: Vec<ReferentielRule>,
    }
}

impl From<&preau_core::steering::referentiel::Referentiel> for Referentiel {
    fn from(r: &preau_core::steering::referentiel::Referentiel) -> Self {
        Referentiel {
            version: r.version,
            is_socle: r.is_socle(),
            updated_at: r.updated_at,
            rules: r.rules.iter().map(ReferentielRule::from).collect(),
        }
    }
}

object! {
    /// One rule at one school (classroom rules summed over its classrooms).
    CoverageRule {
        key: String,
        label: String,
        scope: String,
        level: String,
        /// `conforme`, `partiel` or `non_conforme`.
        verdict: String,
        /// Devices (or declarations) missing.
        missing: i64,
        /// The category a plan buys to close the gap.
        category: Option<String>,
        /// `null` for those who may not see costs, or when no price is known.
        cost_cents: Option<i64>,
    }
}

object! {
    /// A classroom and the classes taught in it.
    CoverageClassroom {
        room_id: i64,
        name: String,
        class_ids: Vec<i64>,
        verdict: String,
        /// Keys of the rules it fails.
        missing: Vec<String>,
    }
}

object! {
    /// A school against the référentiel.
    SchoolCoverage {
        school_id: i64,
        name: String,
        uai: String,
        kind: String,
        /// `conforme`, `partiel`, `non_conforme`, or `non_evalue` (no rule applies).
        verdict: String,
        /// What the purchases closing every gap cost (known prices only); `null` for those
        /// who may not see costs.
        missing_cost_cents: Option<i64>,
        rules: Vec<CoverageRule>,
        classrooms: Vec<CoverageClassroom>,
    }
}

impl From<&coverage::SchoolCoverage> for SchoolCoverage {
    fn from(s: &coverage::SchoolCoverage) -> Self {
        let cost = |key: &str| {
            s.purchases
                .iter()
                .find(|p| p.rule_key == key)
                .and_then(|p| p.cost_cents)
        };
        SchoolCoverage {
            school_id: s.school_id,
            name: s.name.clone(),
            uai: s.uai.clone(),
            kind: s.kind.code().into(),
            verdict: s.coverage.verdict.code().into(),
            missing_cost_cents: s.missing_cost_cents,
            rules: s
                .coverage
                .rules
                .iter()
                .map(|r| CoverageRule {
                    key: r.key.clone(),
                    label: r.label.clone(),
                    scope: r.scope.code().into(),
                    level: r.level.code().into(),
                    verdict: r.verdict.code().into(),
                    missing: r.missing,
                    category: r.category.clone(),
                    cost_cents: cost(&r.key),
                })
                .collect(),
            classrooms: s
                .coverage
                .classrooms
                .iter()
                .map(|c| CoverageClassroom {
                    room_id: c.room_id,
                    name: c.name.clone(),
                    class_ids: c.class_ids.clone(),
                    verdict: c.verdict.code().into(),
                    missing: c.missing.clone(),
                })
                .collect(),
        }
    }
}

object! {
    /// The fleet over time and its renewal plan.
    Renewal {
        from: i32,
        /// `null`: no cap, or not shown to the caller.
        yearly_cap_cents: Option<i64>,
        years: Vec<RenewalYear>,
        categories: Vec<FleetCategory>,
        /// Devices in service without a purchase date, which cannot be planned.
        undated: i64,
        /// Warranties ending in the next six months.
        warranties_ending: i64,
        /// The first line is the whole collectivité (`school_id` 0).
        ratios: Vec<PupilRatio>,
    }
}

object! {
    /// One year of the plan.
    RenewalYear {
        year: i32,
        devices: i64,
        /// 0 for those who may not see costs.
        budget_cents: i64,
        /// Due that year or before, pushed to later years by the cap.
        deferred: i64,
        by_category: Vec<CategoryCount>,
    }
}

object! {
    /// Devices of one category.
    CategoryCount {
        category: String,
        devices: i64,
    }
}

object! {
    /// A category's devices in service by age.
    FleetCategory {
        category: String,
        lifespan_years: Option<i64>,
        /// Devices aged 0–1, 2–3, 4–5, 6–7, 8–9 and 10 years or more.
        ages: Vec<i64>,
        past_lifespan: i64,
        total: i64,
    }
}

object! {
    /// Pupils, tablets and computers of a school.
    PupilRatio {
        school_id: i64,
        name: String,
        pupils: i64,
        tablets: i64,
        computers: i64,
    }
}

impl From<&preau_core::steering::renewal::RenewalReport> for Renewal {
    fn from(r: &preau_core::steering::renewal::RenewalReport) -> Self {
        Renewal {
            from: r.from,
            yearly_cap_cents: r.yearly_cap_cents,
            years: r
                .years
                .iter()
                .map(|y| RenewalYear {
                    year: y.year,
                    devices: y.devices,
                    budget_cents: y.budget_cents,
                    deferred: y.deferred,
                    by_category: y
                        .by_category
                        .iter()
                        .map(|(category, devices)| CategoryCount {
                            category: category.clone(),
                            devices: *devices,
                        })
                        .collect(),
                })
                .collect(),
            categories: r
                .categories
                .iter()
                .map(|c| FleetCategory {
                    category: c.category.clone(),
                    lifespan_years: c.lifespan_years,
                    ages: c.brackets.clone(),
                    past_lifespan: c.past_lifespan,
                    total: c.total,
                })
                .collect(),
            undated: r.undated,
            warranties_ending: r.warranties_ending,
            ratios: r
                .ratios
                .iter()
                .map(|x| PupilRatio {
                    school_id: x.school_id,
                    name: x.name.clone(),
                    pupils: x.pupils,
                    tablets: x.tablets,
                    computers: x.computers,
                })
                .collect(),
        }
    }
}

// ---- What the API reads ----

input! {
    /// A new school.
    SchoolInput for schools::SchoolInput {
        /// The national identifier, `0750655E`.
        uai: String,
        name: String,
        /// `maternelle`, `elementaire`, `primaire`, `college`, `lycee`…
        kind: String,
        address: Option<String>,
        postal_code: Option<String>,
        city: Option<String>,
        /// `A`, `B` or `C`; by default the collectivité's.
        holiday_zone: Option<String>,
        status: Option<String>,
        /// `4` or `4.5`.
        week: Option<String>,
    }
}

input! {
    /// A new room.
    RoomInput for rooms::RoomInput {
        kind: String,
        name: String,
        building: Option<String>,
        floor: Option<String>,
    }
}

input! {
    /// A new class.
    ClassInput for classes::ClassInput {
        /// By default the current school year.
        school_year_id: Option<i64>,
        label: String,
        /// `CP`, `CE1-CE2`…
        levels: String,
        head_count: Option<i64>,
        teacher_name: Option<String>,
        room_id: Option<i64>,
    }
}

input! {
    /// A new school year.
    SchoolYearInput for years::SchoolYearInput {
        /// `2026-2027`.
        label: String,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    }
}

input! {
    /// A new device, or the fields of one to change.
    DeviceInput for inventory::devices::DeviceInput {
        /// A category code (`tablette`, `vpi`…).
        category: String,
        school_id: Option<i64>,
        room_id: Option<i64>,
        /// The cart or case it goes in.
        parent_id: Option<i64>,
        name: Option<String>,
        /// `en_service` by default.
        state: Option<String>,
        brand: Option<String>,
        model: Option<String>,
        serial: Option<String>,
        asset_tag: Option<String>,
        purchase_date: Option<NaiveDate>,
        /// In euros, `349,90`; or `price_cents`.
        price: Option<String>,
        price_cents: Option<i64>,
        supplier: Option<String>,
        order_ref: Option<String>,
        warranty_end: Option<NaiveDate>,
        funding: Option<String>,
        notes: Option<String>,
        wifi_switchable: Option<bool>,
    }
}

input! {
    /// The inventory's filters.
    DeviceQuery for inventory::devices::DeviceFilter {
        /// Name, serial, asset tag, model…
        search: Option<String>,
        school_id: Option<i64>,
        room_id: Option<i64>,
        stock: Option<bool>,
        unplaced: Option<bool>,
        category: Option<String>,
        state: Option<String>,
        older_than_years: Option<i64>,
        warranty_within_days: Option<i64>,
        not_seen_days: Option<i64>,
        /// `place` (the default), `name`, `category`, `state`, `purchase`, `seen`; `-`
        /// before it reverses the order.
        sort: Option<String>,
    }
}

input! {
    /// A problem to report.
    TicketInput for tickets::TicketInput {
        school_id: Option<i64>,
        room_id: Option<i64>,
        device_ids: Option<Vec<i64>>,
        /// `materiel`, `reseau`, `logiciel`…
        category: String,
        /// `p1` (blocks the class) to `p4`.
        priority: String,
        title: Option<String>,
        description: Option<String>,
    }
}

input! {
    /// The ticket queue's filters.
    TicketQuery for tickets::TicketFilter {
        status: Option<String>,
        school_id: Option<i64>,
        room_id: Option<i64>,
        device_id: Option<i64>,
        priority: Option<String>,
        category: Option<String>,
        /// `user:N`, `lot:N`, `me` or `none`.
        assignee: Option<String>,
        breached: Option<bool>,
        /// Open tickets whose deadline is near.
        at_risk: Option<bool>,
        mine: Option<bool>,
        q: Option<String>,
        /// `deadline` (or `due`): the next deadline first (the response's until someone
        /// takes the ticket, then the fix's), those without one last; `recent` (the
        /// default): the newest first; `priority` (P1 first, then by deadline), `school`,
        /// `status` (new first, closed last), `updated` (or `-updated`: the last changed
        /// first). Each has its own `cursor`; for the last four it is the next offset.
        sort: Option<String>,
    }
}

input! {
    /// A visit to plan for some tickets of one school.
    InterventionInput for interventions::InterventionInput {
        ticket_ids: Vec<i64>,
        /// Local time, `2026-03-18T10:00`.
        starts_at: String,
        ends_at: String,
        notes: Option<String>,
    }
}

input! {
    /// The visits' filters.
    InterventionFilter for interventions::InterventionFilter {
        school_id: Option<i64>,
        /// `user:N`, `lot:N` or `me`.
        who: Option<String>,
        ticket_id: Option<i64>,
        cancelled: Option<bool>,
    }
}

input! {
    /// A device to lend.
    LoanInput for loans::LoanInput {
        /// Asset tag, serial or QR label.
        device: String,
        /// `eleve`, `enseignant` or `classe`.
        kind: String,
        pupil_id: Option<i64>,
        class_id: Option<i64>,
        holder_name: Option<String>,
        given_on: Option<NaiveDate>,
        signed_on: Option<NaiveDate>,
        /// Comma-separated: `etui`, `chargeur`, `clavier`, `stylet`…
        accessories: Option<String>,
    }
}

input! {
    /// A device handed back.
    ReturnInput for loans::ReturnInput {
        /// `ok`, `ecran_casse`, `hors_service`, `perdu`, `vole`.
        state: String,
        returned_on: Option<NaiveDate>,
        note: Option<String>,
        version: Option<i64>,
    }
}

input! {
    /// The loans' filters.
    LoanQuery for loans::LoanFilter {
        school_id: Option<i64>,
        class_id: Option<i64>,
        /// `en_cours` or `rendus`.
        status: Option<String>,
    }
}

input! {
    /// A rule of the référentiel, as sent to replace them.
    RuleInput for preau_domain::referentiel::RuleInput {
        /// Lowercase letters, digits and `_`, unique.
        key: String,
        label: String,
        /// `salle`, `ecole` or `direction`.
        scope: String,
        /// `requis` or `recommande`.
        level: String,
        /// `nombre`, `mdm`, `debrayable` or `declaration`.
        measure: String,
        /// Device category codes (none for a declaration).
        categories: Option<Vec<String>>,
        /// By default 1.
        quantity: Option<i64>,
        /// `unite` (default), `eleves` or `classes`.
        per: Option<String>,
        /// By default 1.
        per_n: Option<i64>,
        /// Kinds of school; none: every kind.
        school_kinds: Option<Vec<String>>,
    }
}

object! {
    /// A needs campaign with the requests the caller may read.
    NeedsCampaign {
        id: i64,
        title: String,
        opens_on: NaiveDate,
        closes_on: NaiveDate,
        plan_year: i64,
        /// Schools may still enter requests today.
        open: bool,
        requests: Vec<NeedRequest>,
    }
}

object! {
    /// A school's request.
    NeedRequest {
        id: i64,
        school_id: i64,
        /// The device category's code, when the request names one.
        category: Option<String>,
        /// What is asked, when no category says it.
        item: String,
        quantity: i64,
        reason: String,
        /// `haute`, `moyenne` or `basse`.
        priority: String,
        /// `soumise`, `acceptee`, `differee` or `refusee`.
        status: String,
        /// The plan year of an accepted request.
        plan_year: Option<i64>,
        decision_reason: Option<String>,
        opinion: Option<String>,
        /// Quantity × unit price; `null` for those who do not see costs, or without a price.
        estimate_cents: Option<i64>,
    }
}

impl From<&preau_core::steering::needs::CampaignView> for NeedsCampaign {
    fn from(v: &preau_core::steering::needs::CampaignView) -> Self {
        NeedsCampaign {
            id: v.campaign.id,
            title: v.campaign.title.clone(),
            opens_on: v.campaign.opens_on,
            closes_on: v.campaign.closes_on,
            plan_year: v.campaign.plan_year,
            open: v.open,
            requests: v
                .requests
                .iter()
                .map(|r| NeedRequest {
                    id: r.id,
                    school_id: r.school_id,
                    category: r.category.clone(),
                    item: r.item.clone(),
                    quantity: r.quantity,
                    reason: r.reason.clone(),
                    priority: r.priority.code().into(),
                    status: r.status.code().into(),
                    plan_year: r.plan_year,
                    decision_reason: r.decision_reason.clone(),
                    opinion: r.opinion.clone(),
                    estimate_cents: r.estimate_cents,
                })
                .collect(),
        }
    }
}

object! {
    /// A subsidy dossier and what follows from it.
    Subsidy {
        id: i64,
        /// `snee`, `detr`, `dsil`, `departement`, `region`, `tne` or `autre`.
        funder: String,
        title: String,
        year: i32,
        /// `a_deposer`, `depose`, `accorde`, `verse` or `refuse`.
        status: String,
        rate_percent: Option<i64>,
        cap_cents: Option<i64>,
        /// The devices of its orders, its plan lines' estimates and other spending entered.
        eligible_cents: i64,
        requested_cents: i64,
        granted_cents: Option<i64>,
        received_cents: i64,
        /// What to count on as the dossier stands.
        aid_cents: i64,
        remaining_cents: i64,
        deposit_due: Option<NaiveDate>,
        justify_due: Option<NaiveDate>,
        orders: Vec<String>,
        /// Ids of the accepted requests it funds.
        requests: Vec<i64>,
    }
}

impl From<&preau_core::steering::funding::Subsidy> for Subsidy {
    fn from(s: &preau_core::steering::funding::Subsidy) -> Self {
        let d = &s.dossier;
        Subsidy {
            id: s.id,
            funder: d.funder.code().into(),
            title: d.title.clone(),
            year: d.year,
            status: d.status.code().into(),
            rate_percent: d.rate_percent,
            cap_cents: d.cap_cents,
            eligible_cents: s.eligible_cents,
            requested_cents: d.requested_cents,
            granted_cents: d.granted_cents,
            received_cents: d.received_cents,
            aid_cents: s.aid_cents,
            remaining_cents: s.remaining_cents,
            deposit_due: d.deposit_due,
            justify_due: d.justify_due,
            orders: s.orders.clone(),
            requests: s.requests.iter().map(|r| r.0).collect(),
        }
    }
}

object! {
    /// A school's link to the internet.
    SchoolLink {
        id: i64,
        school_id: i64,
        /// `ftth`, `ftto`, `vdsl`, `adsl`, `4g5g`, `satellite` or `radio`.
        technology: String,
        /// `principal` or `secours`.
        role: String,
        operator_id: Option<i64>,
        operator: Option<String>,
        contract_ref: String,
        line_number: String,
        down_kbps: i64,
        up_kbps: i64,
        /// `null` for those who do not see costs.
        monthly_cents: Option<i64>,
        commissioned_on: Option<NaiveDate>,
        version: i64,
    }
}

impl From<&preau_core::connectivity::SchoolLink> for SchoolLink {
    fn from(l: &preau_core::connectivity::SchoolLink) -> Self {
        SchoolLink {
            id: l.id,
            school_id: l.school_id,
            technology: l.technology.code().into(),
            role: l.role.code().into(),
            operator_id: l.operator_id,
            operator: l.operator.clone(),
            contract_ref: l.contract_ref.clone(),
            line_number: l.line_number.clone(),
            down_kbps: l.down_kbps,
            up_kbps: l.up_kbps,
            monthly_cents: l.monthly_cents,
            commissioned_on: l.commissioned_on,
            version: l.version,
        }
    }
}

object! {
    /// Whether a school reaches Préau.
    SchoolConnectivity {
        school_id: i64,
        /// `en_ligne`, `hors_ligne` or `inconnu` (no agent).
        status: String,
        /// Since when, as last judged.
        since: Option<DateTime<Utc>>,
        /// Its agents' (or MDM's) last report.
        last_contact: Option<DateTime<Utc>>,
    }
}

impl From<&preau_core::connectivity::SchoolStatus> for SchoolConnectivity {
    fn from(s: &preau_core::connectivity::SchoolStatus) -> Self {
        SchoolConnectivity {
            school_id: s.school_id,
            status: s.status.code().into(),
            since: s.since,
            last_contact: s.last_contact,
        }
    }
}

object! {
    /// A school's probe: the address the server checks every five minutes, and what it
    /// last found. A probed school is judged by its probe alone.
    SchoolProbe {
        school_id: i64,
        /// `tcp://host:port` or `http://host[:port]/path`; `null` when there is none.
        target: Option<String>,
        last_checked_at: Option<DateTime<Utc>>,
        last_ok_at: Option<DateTime<Utc>>,
        /// Failed checks in a row (two make the school offline).
        failures: i64,
        failing_since: Option<DateTime<Utc>>,
        /// Why the last check failed: `name`, `refused`, `timeout`, `not_http`, `unreachable`.
        last_error: Option<String>,
    }
}

impl SchoolProbe {
    pub fn of(school_id: i64, s: Option<&preau_core::connectivity::probes::ProbeState>) -> Self {
        SchoolProbe {
            school_id,
            target: s.map(|s| s.target.clone()),
            last_checked_at: s.and_then(|s| s.last_checked_at),
            last_ok_at: s.and_then(|s| s.last_ok_at),
            failures: s.map_or(0, |s| s.failures),
            failing_since: s.and_then(|s| s.failing_since),
            last_error: s.and_then(|s| s.last_error.clone()),
        }
    }
}

object! {
    /// An outage of a school: when its agents fell silent for two class hours, when it was
    /// heard again, how much class time it took, and the ticket it opened.
    Outage {
        school_id: i64,
        started_at: DateTime<Utc>,
        ended_at: Option<DateTime<Utc>>,
        class_minutes: Option<i64>,
        ticket_id: Option<i64>,
    }
}

impl From<&preau_core::connectivity::OutageLine> for Outage {
    fn from(o: &preau_core::connectivity::OutageLine) -> Self {
        Outage {
            school_id: o.school_id,
            started_at: o.started_at,
            ended_at: o.ended_at,
            class_minutes: o.class_minutes,
            ticket_id: o.ticket_id,
        }
    }
}

object! {
    /// An access point of a school's Wi-Fi register (loi Abeille).
    AccessPoint {
        device_id: i64,
        name: String,
        asset_tag: Option<String>,
        room: Option<String>,
        switchable: Option<bool>,
        /// `interrupteur`, `programmation` or `controleur`.
        method: Option<String>,
        /// The rooms it covers.
        covers: Vec<i64>,
        council_informed_on: Option<NaiveDate>,
        installed_on: Option<NaiveDate>,
        /// `non_debrayable`, `mode_inconnu`, `conseil_non_informe`: what is not in order.
        flags: Vec<String>,
    }
}

impl From<&preau_core::connectivity::AccessPoint> for AccessPoint {
    fn from(a: &preau_core::connectivity::AccessPoint) -> Self {
        AccessPoint {
            device_id: a.device_id,
            name: a.name.clone(),
            asset_tag: a.asset_tag.clone(),
            room: a.room.clone(),
            switchable: a.switchable,
            method: a.method.map(|m| m.code().to_string()),
            covers: a.covers.iter().map(|c| c.0).collect(),
            council_informed_on: a.council_informed_on,
            installed_on: a.installed_on,
            flags: a.flags.iter().map(|f| f.code().to_string()).collect(),
        }
    }
}

object! {
    /// A visio programme and its provider (the price per session held only for those who
    /// see costs).
    VisioProgramme {
        id: i64,
        name: String,
        provider_id: i64,
        provider: String,
        session_price_cents: Option<i64>,
        series: i64,
    }
}

impl From<&preau_core::visio::Programme> for VisioProgramme {
    fn from(g: &preau_core::visio::Programme) -> Self {
        VisioProgramme {
            id: g.id,
            name: g.name.clone(),
            provider_id: g.provider_id,
            provider: g.provider.clone(),
            session_price_cents: g.session_price_cents,
            series: g.series,
        }
    }
}

object! {
    /// Whether the room is ready: a display, camera, micro and speakers working (no urgent
    /// ticket open on them) and the school online.
    VisioReadiness {
        ready: bool,
        /// `affichage`, `camera`, `micro`, `haut_parleurs`, `reseau`.
        missing: Vec<String>,
    }
}

object! {
    /// A session: when, which class and room, the meeting link, what became of it.
    VisioSession {
        id: i64,
        series_id: i64,
        programme: String,
        school_id: i64,
        class_id: i64,
        class_label: String,
        room_id: i64,
        room: String,
        intervenant_id: Option<i64>,
        date: NaiveDate,
        start: String,
        end: String,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        link: String,
        /// `prevue`, `tenue`, `non_tenue` or `annulee`.
        status: String,
        reason: Option<String>,
        /// `ecole`, `prestataire` or `preau`.
        cancelled_by: Option<String>,
        readiness: VisioReadiness,
        version: i64,
    }
}

impl VisioSession {
    pub fn of(s: &preau_core::visio::Session, r: Option<&preau_domain::visio::Readiness>) -> Self {
        let local = |t: DateTime<Utc>| preau_domain::paris::local(t);
        VisioSession {
            id: s.id,
            series_id: s.series_id,
            programme: s.programme.clone(),
            school_id: s.school_id,
            class_id: s.class_id,
            class_label: s.class_label.clone(),
            room_id: s.room_id,
            room: s.room.clone(),
            intervenant_id: s.intervenant_id,
            date: local(s.starts_at).date_naive(),
            start: local(s.starts_at).format("%H:%M").to_string(),
            end: local(s.ends_at).format("%H:%M").to_string(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            link: s.link.clone(),
            status: s.status.clone(),
            reason: s.reason.clone(),
            cancelled_by: s.cancelled_by.clone(),
            readiness: VisioReadiness {
                ready: r.is_some_and(|r| r.ready),
                missing: r
                    .map(|r| r.missing.iter().map(|n| n.code().to_string()).collect())
                    .unwrap_or_default(),
            },
            version: s.version,
        }
    }
}

object! {
    /// A series created, with its sessions.
    VisioSeries {
        id: i64,
        sessions: Vec<VisioSession>,
    }
}

object! {
    /// A device (with the devices under it) or a room that can be booked by slot: its home
    /// school, the schools it is shared with and the minutes it takes to move between them,
    /// and the class its tablets are lent to as a set (not bookable then).
    Bookable {
        id: i64,
        school_id: i64,
        name: String,
        device_id: Option<i64>,
        room_id: Option<i64>,
        /// The device's category code, or `salle`.
        kind: String,
        shared_with: Vec<i64>,
        move_minutes: i64,
        active: bool,
        lent_to_class: Option<String>,
        /// The address of its iCalendar feed, for those who may book it.
        feed: Option<String>,
        version: i64,
    }
}

impl From<&preau_core::bookings::Bookable> for Bookable {
    fn from(b: &preau_core::bookings::Bookable) -> Self {
        Bookable {
            id: b.id,
            school_id: b.school_id,
            name: b.name.clone(),
            device_id: b.device_id,
            room_id: b.room_id,
            kind: b.kind.clone(),
            shared_with: b.shared.iter().map(|s| s.0).collect(),
            move_minutes: b.move_minutes,
            active: b.active,
            lent_to_class: b.lent.as_ref().map(|l| l.0.clone()),
            feed: (!b.feed_token.is_empty()).then(|| format!("/calendrier/{}.ics", b.feed_token)),
            version: b.version,
        }
    }
}

object! {
    /// A booking of one slot of a class day (`slot`: local `HH:MM-HH:MM`), for a school and
    /// possibly a class; those of a weekly repeat share `repeat_id`.
    Booking {
        id: i64,
        bookable_id: i64,
        bookable: String,
        school_id: i64,
        class_id: Option<i64>,
        class_label: Option<String>,
        day: NaiveDate,
        slot: String,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        repeat_id: Option<i64>,
        note: String,
        /// Empty for those who do not see the school's people.
        booked_by: String,
        cancelled: bool,
    }
}

impl From<&preau_core::bookings::Booking> for Booking {
    fn from(b: &preau_core::bookings::Booking) -> Self {
        let local = |t: DateTime<Utc>| preau_domain::paris::local(t).format("%H:%M").to_string();
        Booking {
            id: b.id,
            bookable_id: b.bookable_id,
            bookable: b.bookable.clone(),
            school_id: b.school_id,
            class_id: b.class_id,
            class_label: b.class_label.clone(),
            day: b.day,
            slot: format!("{}-{}", local(b.starts_at), local(b.ends_at)),
            starts_at: b.starts_at,
            ends_at: b.ends_at,
            repeat_id: b.repeat_id,
            note: b.note.clone(),
            booked_by: b.booked_by_name.clone(),
            cancelled: b.cancelled_at.is_some(),
        }
    }
}
