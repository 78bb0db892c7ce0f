//! Roles, their scopes, and the access rules: who may read or change what.
//!
//! This is the one place where "may this person see that school?" is decided. Handlers ask
//! the `Principal`; the store then filters its queries with the resulting `SchoolScope`, so
//! that an object outside the caller's scope is never read at all (and answers 404).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::error::{FieldError, Lang};
use crate::org::code_enum;

code_enum!(
    /// A role; each assignment of a role carries its scope (see `Role::scope`).
    Role {
        Administrateur = "administrateur" => ("Administrateur collectivité", "Local-authority administrator"),
        Elu = "elu" => ("Élu / direction", "Elected official / management"),
        Technicien = "technicien" => ("Technicien", "Technician"),
        Prestataire = "prestataire" => ("Prestataire", "Contractor"),
        Directeur = "directeur" => ("Directeur d'école", "Head teacher"),
        Enseignant = "enseignant" => ("Enseignant", "Teacher"),
        Erun = "erun" => ("ERUN / IEN", "ERUN / district inspector"),
        Intervenant = "intervenant" => ("Intervenant (visio)", "Remote speaker (visio)"),
    }
);

/// What a role's assignment is scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// The user's whole collectivité.
    Collectivite,
    /// One school per assignment (a technician with 23 schools has 23 assignments).
    School,
    /// A contractor company.
    Contractor,
}

impl Role {
    pub fn scope(self) -> ScopeKind {
        match self {
            Role::Administrateur | Role::Elu => ScopeKind::Collectivite,
            Role::Technicien | Role::Directeur | Role::Enseignant | Role::Erun => ScopeKind::School,
            Role::Prestataire | Role::Intervenant => ScopeKind::Contractor,
        }
    }
}

/// One role assignment of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub role: Role,
    pub school_id: Option<i64>,
    pub contractor_id: Option<i64>,
}

impl Assignment {
    /// Checks that the scope matches the role: a directeur needs a school, an élu none.
    pub fn new(
        role: Role,
        school_id: Option<i64>,
        contractor_id: Option<i64>,
    ) -> Result<Assignment, FieldError> {
        let ok = match role.scope() {
            ScopeKind::Collectivite => school_id.is_none() && contractor_id.is_none(),
            ScopeKind::School => school_id.is_some() && contractor_id.is_none(),
            ScopeKind::Contractor => contractor_id.is_some() && school_id.is_none(),
        };
        if !ok {
            return Err(FieldError::new("scope", "scope_required"));
        }
        Ok(Assignment {
            role,
            school_id,
            contractor_id,
        })
    }
}

/// The schools a caller may read, inside its own collectivité.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchoolScope {
    All,
    Only(BTreeSet<i64>),
}

impl SchoolScope {
    pub fn contains(&self, school_id: i64) -> bool {
        match self {
            SchoolScope::All => true,
            SchoolScope::Only(ids) => ids.contains(&school_id),
        }
    }

    /// No school at all (a contractor's staff, a remote speaker).
    pub fn is_empty(&self) -> bool {
        matches!(self, SchoolScope::Only(s) if s.is_empty())
    }

    /// The explicit list, or `None` for "every school of the collectivité".
    pub fn ids(&self) -> Option<Vec<i64>> {
        match self {
            SchoolScope::All => None,
            SchoolScope::Only(ids) => Some(ids.iter().copied().collect()),
        }
    }
}

/// The visio sessions a person reads: every one, or those of some schools, of some
/// providers' programmes, and an intervenant's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisioReach {
    pub all: bool,
    pub schools: Vec<i64>,
    pub providers: Vec<i64>,
    /// The intervenant's user id: their own sessions.
    pub intervenant: Option<i64>,
}

impl VisioReach {
    pub fn is_empty(&self) -> bool {
        !self.all
            && self.schools.is_empty()
            && self.providers.is_empty()
            && self.intervenant.is_none()
    }

    pub fn contains(&self, school_id: i64, provider_id: i64, intervenant_id: Option<i64>) -> bool {
        self.all
            || self.schools.contains(&school_id)
            || self.providers.contains(&provider_id)
            || (self.intervenant.is_some() && intervenant_id == self.intervenant)
    }
}

/// An authenticated caller: a user of one collectivité with its role assignments.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    pub collectivite_id: i64,
    pub lang: Lang,
    pub assignments: Vec<Assignment>,
    /// For a contractor's staff: the lots of its contracts (tickets routed to them, and
    /// the devices of their perimeter, are what it sees).
    pub lots: Vec<i64>,
    /// For a contractor's staff: the schools its lots' perimeters cover, whose address,
    /// access and contacts it reads (not their classes, people or pupils).
    pub perimeter: Vec<i64>,
}

/// The tickets a person reads (see [`Principal::ticket_reach`]): every ticket, or those
/// of some schools, those one user reported, and those routed to some lots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketReach {
    pub all: bool,
    pub schools: Vec<i64>,
    /// The user whose own reports are readable, when they are.
    pub reporter: Option<i64>,
    pub lots: Vec<i64>,
}

impl TicketReach {
    pub fn contains(&self, school_id: i64, reporter_id: Option<i64>, lot_id: Option<i64>) -> bool {
        self.all
            || self.schools.contains(&school_id)
            || (self.reporter.is_some() && reporter_id == self.reporter)
            || lot_id.is_some_and(|l| self.lots.contains(&l))
    }
}

impl Principal {
    /// The command line or the demo loader acting as administrator of a collectivité.
    /// Its `user_id` is 0: it is no user, and the audit log shows `label` instead.
    pub fn system(collectivite_id: i64, label: &str) -> Principal {
        Principal {
            user_id: 0,
            login: label.to_string(),
            display_name: label.to_string(),
            collectivite_id,
            lang: Lang::Fr,
            assignments: vec![Assignment {
                role: Role::Administrateur,
                school_id: None,
                contractor_id: None,
            }],
            lots: Vec::new(),
            perimeter: Vec::new(),
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.assignments.iter().any(|a| a.role == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Administrateur)
    }

    fn has_at(&self, role: Role, school_id: i64) -> bool {
        self.assignments
            .iter()
            .any(|a| a.role == role && a.school_id == Some(school_id))
    }

    fn schools_for(&self, roles: &[Role]) -> BTreeSet<i64> {
        self.assignments
            .iter()
            .filter(|a| roles.contains(&a.role))
            .filter_map(|a| a.school_id)
            .collect()
    }

    /// Schools whose organisation (school, rooms, classes) the caller may read.
    /// Contractors see nothing here until a contract gives them a perimeter.
    pub fn readable_schools(&self) -> SchoolScope {
        if self.has(Role::Administrateur) || self.has(Role::Elu) {
            return SchoolScope::All;
        }
        SchoolScope::Only(self.schools_for(&[
            Role::Technicien,
            Role::Directeur,
            Role::Enseignant,
            Role::Erun,
        ]))
    }

    /// Schools the caller may look up (name, address, access, rooms, the head's contact):
    /// those it reads, and for a contractor those of its lots' perimeters.
    pub fn directory_schools(&self) -> SchoolScope {
        match self.readable_schools() {
            SchoolScope::All => SchoolScope::All,
            SchoolScope::Only(mut ids) => {
                if self.has(Role::Prestataire) {
                    ids.extend(self.perimeter.iter().copied());
                }
                SchoolScope::Only(ids)
            }
        }
    }

    /// The primary role, for the home page: the most powerful one held.
    pub fn primary_role(&self) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| self.has(*r))
    }

    /// Creating, editing and closing schools, school years: the collectivité's administrator.
    pub fn can_manage_collectivite(&self) -> bool {
        self.is_admin()
    }

    /// Rooms belong to the building: the administrator and the school's technician.
    pub fn can_edit_rooms(&self, school_id: i64) -> bool {
        self.is_admin() || self.has_at(Role::Technicien, school_id)
    }

    /// Classes are the school's own organisation: the administrator and the school's director.
    pub fn can_edit_classes(&self, school_id: i64) -> bool {
        self.is_admin() || self.has_at(Role::Directeur, school_id)
    }

    /// Named people (teachers, staff accounts): never the élu, never a contractor.
    pub fn can_see_people(&self, school_id: i64) -> bool {
        self.is_admin()
            || [
                Role::Technicien,
                Role::Directeur,
                Role::Enseignant,
                Role::Erun,
            ]
            .iter()
            .any(|r| self.has_at(*r, school_id))
    }

    /// The aggregate dashboard (figures per school, no names): those who steer or follow
    /// several schools — administrator, élu, technician, ERUN/IEN.
    pub fn can_see_dashboard(&self) -> bool {
        [
            Role::Administrateur,
            Role::Elu,
            Role::Technicien,
            Role::Erun,
        ]
        .iter()
        .any(|r| self.has(*r))
    }

    /// Devices are read where their school is readable; the "à affecter" queue (devices no
    /// school claims yet) by the administrator and the technicians who sort it.
    pub fn can_read_unplaced(&self) -> bool {
        self.is_admin() || self.has(Role::Technicien)
    }

    /// Devices are kept by the administrator and the technicians of their school; a device
    /// not yet placed (`None`) by any technician.
    pub fn can_edit_devices(&self, school_id: Option<i64>) -> bool {
        match school_id {
            _ if self.is_admin() => true,
            Some(id) => self.has_at(Role::Technicien, id),
            None => self.has(Role::Technicien),
        }
    }

    /// Prices, suppliers, orders and funding: the administrator, the élu and the
    /// technicians; never the Éducation nationale, the schools' staff or a contractor.
    pub fn can_see_costs(&self) -> bool {
        self.is_admin() || self.has(Role::Elu) || self.has(Role::Technicien)
    }

    /// Coverage against the référentiel: the administrator and the élu for every school;
    /// the technician, the ERUN/IEN and the directeur for their schools (costs only for
    /// those who see costs). Never a teacher or a contractor.
    pub fn coverage_schools(&self) -> SchoolScope {
        if self.is_admin() || self.has(Role::Elu) {
            return SchoolScope::All;
        }
        SchoolScope::Only(self.schools_for(&[Role::Technicien, Role::Erun, Role::Directeur]))
    }

    /// Whether the caller sees the coverage of at least one school (the menu entry, the
    /// référentiel's pages).
    pub fn sees_some_coverage(&self) -> bool {
        match self.coverage_schools() {
            SchoolScope::All => true,
            SchoolScope::Only(s) => !s.is_empty(),
        }
    }

    /// The référentiel and unit prices are the collectivité's choice: its administrator.
    pub fn can_edit_referentiel(&self) -> bool {
        self.is_admin()
    }

    /// What a school declares it has (its ENT): its directeur, or the administrator.
    /// The visits' planning and its calendar feed: the administrator, technicians,
    /// contractors' staff and directeurs.
    pub fn can_read_planning(&self) -> bool {
        self.is_admin()
            || self.has(Role::Technicien)
            || self.has(Role::Prestataire)
            || self.has(Role::Directeur)
    }

    pub fn can_declare(&self, school_id: i64) -> bool {
        self.is_admin() || self.has_at(Role::Directeur, school_id)
    }

    /// The schools whose needs the caller reads: as for coverage (administrator and élu
    /// every school; technician, ERUN/IEN and directeur theirs).
    pub fn needs_schools(&self) -> SchoolScope {
        self.coverage_schools()
    }

    /// Entering a school's requests during a campaign: its directeur, or the administrator.
    pub fn can_request_needs(&self, school_id: i64) -> bool {
        self.is_admin() || self.has_at(Role::Directeur, school_id)
    }

    /// The Éducation nationale's opinion on a school's requests: its ERUN/IEN.
    pub fn can_give_opinion(&self, school_id: i64) -> bool {
        self.has_at(Role::Erun, school_id)
    }

    /// Campaigns, decisions on requests and subsidy dossiers: the administrator.
    pub fn can_decide_needs(&self) -> bool {
        self.is_admin()
    }

    /// Subsidies and spending are money: those who see costs (administrator, élu,
    /// technician); only the administrator edits dossiers.
    pub fn can_see_funding(&self) -> bool {
        self.is_admin() || self.has(Role::Elu)
    }

    /// Inviting a school's teachers to sign in by e-mail (an account with the teacher's
    /// role there, nothing else): its directeur, or the administrator.
    pub fn can_invite_teachers(&self, school_id: i64) -> bool {
        self.is_admin() || self.has_at(Role::Directeur, school_id)
    }

    pub fn can_manage_users(&self) -> bool {
        self.is_admin()
    }

    pub fn can_read_audit(&self) -> bool {
        self.is_admin()
    }

    /// Reporting a problem in a school: its staff, its technician, the administrator.
    pub fn can_report(&self, school_id: i64) -> bool {
        self.is_admin()
            || [Role::Technicien, Role::Directeur, Role::Enseignant]
                .iter()
                .any(|r| self.has_at(*r, school_id))
    }

    /// Which tickets this person reads: the one rule both [`Principal::can_read_ticket`]
    /// and the queue's SQL are derived from. The administrator reads them all; a school's
    /// head and technician every ticket of the school; the school's staff (teachers, heads,
    /// technicians) the tickets they reported; a contractor those routed to its lots.
    /// Élus and the Éducation nationale see figures, not tickets (they name people).
    pub fn ticket_reach(&self) -> TicketReach {
        if self.is_admin() {
            return TicketReach {
                all: true,
                ..TicketReach::default()
            };
        }
        TicketReach {
            all: false,
            schools: self
                .assignments
                .iter()
                .filter(|a| matches!(a.role, Role::Technicien | Role::Directeur))
                .filter_map(|a| a.school_id)
                .collect(),
            reporter: (self.user_id != 0
                && self.assignments.iter().any(|a| {
                    matches!(
                        a.role,
                        Role::Enseignant | Role::Directeur | Role::Technicien
                    )
                }))
            .then_some(self.user_id),
            lots: self.lots.clone(),
        }
    }

    /// Reading a ticket: see [`Principal::ticket_reach`].
    pub fn can_read_ticket(
        &self,
        school_id: i64,
        reporter_id: Option<i64>,
        lot_id: Option<i64>,
    ) -> bool {
        self.ticket_reach().contains(school_id, reporter_id, lot_id)
    }

    /// Who may see some tickets at all (the menu entry, the queue page).
    pub fn can_use_tickets(&self) -> bool {
        [
            Role::Administrateur,
            Role::Technicien,
            Role::Prestataire,
            Role::Directeur,
            Role::Enseignant,
        ]
        .iter()
        .any(|r| self.has(*r))
    }

    /// Working a ticket (taking it, changing its status, planning, internal notes): the
    /// administrator, the school's technician, the contractor holding its lot.
    pub fn can_handle_ticket(&self, school_id: i64, lot_id: Option<i64>) -> bool {
        self.is_admin()
            || self.has_at(Role::Technicien, school_id)
            || lot_id.is_some_and(|l| self.lots.contains(&l))
    }

    /// Sending a ticket to someone else: the collectivité's own staff only.
    pub fn can_assign_ticket(&self, school_id: i64) -> bool {
        self.is_admin() || self.has_at(Role::Technicien, school_id)
    }

    /// Internal notes are between those who handle tickets.
    pub fn can_see_internal_notes(&self) -> bool {
        self.is_admin() || self.has(Role::Technicien) || self.has(Role::Prestataire)
    }

    /// Confirming a fix, closing, reopening: the school (its head, or whoever reported)
    /// and the administrator.
    pub fn can_confirm_ticket(&self, school_id: i64, reporter_id: Option<i64>) -> bool {
        self.is_admin()
            || self.has_at(Role::Directeur, school_id)
            || (reporter_id == Some(self.user_id) && self.user_id != 0)
    }

    /// Contracts (marchés, lots, SLA grids): kept by the administrator; read by those who
    /// follow them; a contractor reads its own, without amounts.
    pub fn can_manage_contracts(&self) -> bool {
        self.is_admin()
    }

    pub fn can_read_contracts(&self) -> bool {
        self.is_admin()
            || self.has(Role::Elu)
            || self.has(Role::Technicien)
            || self.has(Role::Prestataire)
    }

    /// The monthly SLA report with its penalties (money): the collectivité's side.
    pub fn can_see_sla_report(&self) -> bool {
        self.is_admin() || self.has(Role::Elu) || self.has(Role::Technicien)
    }

    /// Pupil labels (class lists, the tablet each pupil holds): the school's head and
    /// teachers, its technician when handling loans, the administrator. Never the élu,
    /// a contractor or the Éducation nationale's inspection (they see counts).
    pub fn can_see_pupils(&self, school_id: i64) -> bool {
        self.is_admin()
            || [Role::Directeur, Role::Enseignant, Role::Technicien]
                .iter()
                .any(|r| self.has_at(*r, school_id))
    }

    /// Lending and taking back devices, importing the ONDE export, erasing a pupil: the
    /// school's head, its technician, the administrator.
    pub fn can_manage_loans(&self, school_id: i64) -> bool {
        self.is_admin()
            || self.has_at(Role::Directeur, school_id)
            || self.has_at(Role::Technicien, school_id)
    }

    /// Tablet counts per school (no names): whoever reads the school.
    pub fn can_see_tablet_counts(&self, school_id: i64) -> bool {
        self.readable_schools().contains(school_id) && !self.has_only(Role::Prestataire)
    }

    /// Whether every role held is `role` (a contractor's staff and nothing else, say).
    pub fn has_only(&self, role: Role) -> bool {
        !self.assignments.is_empty() && self.assignments.iter().all(|a| a.role == role)
    }

    /// The visio sessions the caller reads (see [`VisioReach`]).
    pub fn visio_reach(&self) -> VisioReach {
        if self.is_admin() || self.has(Role::Elu) {
            return VisioReach {
                all: true,
                ..VisioReach::default()
            };
        }
        VisioReach {
            all: false,
            schools: self
                .schools_for(&[
                    Role::Technicien,
                    Role::Directeur,
                    Role::Enseignant,
                    Role::Erun,
                ])
                .into_iter()
                .collect(),
            providers: self.contractor_ids(),
            intervenant: self.has(Role::Intervenant).then_some(self.user_id),
        }
    }

    /// Planning visio series and declaring a school closed: the administrator and the
    /// school's directeur.
    pub fn can_plan_visio(&self, school_id: i64) -> bool {
        self.is_admin() || self.has_at(Role::Directeur, school_id)
    }

    /// Recording a session held or not, or cancelling it, for the school: the
    /// administrator, the school's directeur and teachers.
    pub fn can_record_visio(&self, school_id: i64) -> bool {
        self.is_admin()
            || self.has_at(Role::Directeur, school_id)
            || self.has_at(Role::Enseignant, school_id)
    }

    /// Booking a shared kit or room for the school: its teachers, its directeur, its
    /// technician, the administrator.
    pub fn can_book(&self, school_id: i64) -> bool {
        self.is_admin()
            || [Role::Technicien, Role::Directeur, Role::Enseignant]
                .iter()
                .any(|r| self.has_at(*r, school_id))
    }

    /// Making the school's devices and rooms bookable, its booking slots, cancelling any
    /// booking of the school: the administrator, the school's directeur and technician.
    /// Sharing a resource with other schools is the administrator's.
    pub fn can_manage_bookables(&self, school_id: i64) -> bool {
        self.is_admin()
            || self.has_at(Role::Directeur, school_id)
            || self.has_at(Role::Technicien, school_id)
    }

    /// The contractor companies whose staff this principal is.
    pub fn contractor_ids(&self) -> Vec<i64> {
        self.assignments
            .iter()
            .filter(|a| a.role == Role::Prestataire)
            .filter_map(|a| a.contractor_id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(assignments: Vec<Assignment>) -> Principal {
        Principal {
            user_id: 1,
            login: "x".into(),
            display_name: "X".into(),
            collectivite_id: 1,
            lang: Lang::Fr,
            assignments,
            lots: Vec::new(),
            perimeter: Vec::new(),
        }
    }

    #[test]
    fn scopes_follow_roles() {
        let dir = p(vec![
            Assignment::new(Role::Directeur, Some(7), None).unwrap(),
        ]);
        assert!(dir.readable_schools().contains(7));
        assert!(!dir.readable_schools().contains(8));
        assert!(dir.can_edit_classes(7) && !dir.can_edit_classes(8));
        assert!(!dir.can_edit_rooms(7));
        let elu = p(vec![Assignment::new(Role::Elu, None, None).unwrap()]);
        assert_eq!(elu.readable_schools(), SchoolScope::All);
        assert!(!elu.can_see_people(7));
        let presta = p(vec![
            Assignment::new(Role::Prestataire, None, Some(3)).unwrap(),
        ]);
        assert_eq!(
            presta.readable_schools(),
            SchoolScope::Only(BTreeSet::new())
        );
    }

    #[test]
    fn pupil_labels_stay_in_the_school() {
        let at = |role| p(vec![Assignment::new(role, Some(7), None).unwrap()]);
        for role in [Role::Directeur, Role::Enseignant, Role::Technicien] {
            assert!(at(role).can_see_pupils(7) && !at(role).can_see_pupils(8));
        }
        assert!(!at(Role::Erun).can_see_pupils(7));
        assert!(at(Role::Erun).can_see_tablet_counts(7));
        assert!(!at(Role::Enseignant).can_manage_loans(7));
        let elu = p(vec![Assignment::new(Role::Elu, None, None).unwrap()]);
        assert!(!elu.can_see_pupils(7) && elu.can_see_tablet_counts(7));
        let presta = p(vec![
            Assignment::new(Role::Prestataire, None, Some(3)).unwrap(),
        ]);
        assert!(!presta.can_see_pupils(7) && !presta.can_see_tablet_counts(7));
    }

    #[test]
    fn assignment_scope_must_match_role() {
        assert!(Assignment::new(Role::Directeur, None, None).is_err());
        assert!(Assignment::new(Role::Elu, Some(1), None).is_err());
        assert!(Assignment::new(Role::Prestataire, Some(1), None).is_err());
    }
}
