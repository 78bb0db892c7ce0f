//! Interface text in French (first) and English. Templates ask `ctx.t("key")`; a test
//! checks that every key used in a template exists here.

use preau_domain::Lang;

/// `(key, français, English)`.
pub const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "app.tagline",
        "Le numérique des écoles, au rythme des enseignants",
        "School IT, at the teachers' pace",
    ),
    ("nav.skip", "Aller au contenu", "Skip to content"),
    ("nav.home", "Accueil", "Home"),
    ("nav.schools", "Écoles", "Schools"),
    ("nav.years", "Années scolaires", "School years"),
    ("nav.users", "Utilisateurs", "Users"),
    ("nav.audit", "Journal", "Audit log"),
    ("nav.account", "Mon compte", "My account"),
    ("nav.logout", "Se déconnecter", "Log out"),
    ("nav.main", "Navigation principale", "Main navigation"),
    ("nav.breadcrumb", "Fil d'Ariane", "Breadcrumb"),
    ("login.title", "Connexion", "Log in"),
    ("login.login", "Identifiant", "Login"),
    ("login.password", "Mot de passe", "Password"),
    ("login.submit", "Se connecter", "Log in"),
    (
        "login.failed",
        "Identifiant ou mot de passe incorrect.",
        "Wrong login or password.",
    ),
    (
        "login.blocked",
        "Trop de tentatives. Réessayez dans 15 minutes.",
        "Too many attempts. Try again in 15 minutes.",
    ),
    (
        "login.help",
        "Pas de compte ? Demandez-le au service numérique de votre collectivité.",
        "No account? Ask your local authority's IT department.",
    ),
    ("home.title", "Accueil", "Home"),
    ("home.hello", "Bonjour", "Hello"),
    ("home.your_roles", "Vos rôles", "Your roles"),
    ("home.figures", "Chiffres clés", "Key figures"),
    ("home.your_schools", "Vos écoles", "Your schools"),
    ("home.your_school", "Votre école", "Your school"),
    (
        "home.no_perimeter",
        "Aucun marché ne vous donne encore de périmètre : les tickets et matériels de vos lots apparaîtront ici.",
        "No contract gives you a perimeter yet: the tickets and devices of your lots will appear here.",
    ),
    ("home.year", "Année scolaire", "School year"),
    ("count.schools", "écoles ouvertes", "open schools"),
    ("count.rooms", "salles", "rooms"),
    ("count.classes", "classes", "classes"),
    ("count.pupils", "élèves", "pupils"),
    ("schools.title", "Écoles", "Schools"),
    (
        "schools.search",
        "Rechercher (nom, UAI)",
        "Search (name, UAI)",
    ),
    ("schools.kind_any", "Tous les types", "All kinds"),
    ("schools.filter", "Filtrer", "Filter"),
    ("schools.new", "Ajouter une école", "Add a school"),
    (
        "schools.none",
        "Aucune école ne correspond.",
        "No school matches.",
    ),
    ("schools.count", "école(s)", "school(s)"),
    ("schools.export", "Exporter (CSV)", "Export (CSV)"),
    ("page.prev", "Page précédente", "Previous page"),
    ("page.next", "Page suivante", "Next page"),
    ("page.of", "sur", "of"),
    ("page.label", "Page", "Page"),
    ("field.uai", "UAI", "UAI"),
    ("field.name", "Nom", "Name"),
    ("field.kind", "Type", "Kind"),
    ("field.address", "Adresse", "Address"),
    ("field.postal_code", "Code postal", "Postcode"),
    ("field.city", "Commune", "Town"),
    ("field.zone", "Zone de vacances", "Holiday zone"),
    ("field.status", "État", "Status"),
    ("field.rooms", "Salles", "Rooms"),
    ("field.building", "Bâtiment", "Building"),
    ("field.floor", "Étage", "Floor"),
    ("field.label", "Libellé", "Label"),
    ("field.levels", "Niveaux", "Levels"),
    (
        "field.levels_hint",
        "Un ou plusieurs, ex. CE1-CE2",
        "One or more, e.g. CE1-CE2",
    ),
    ("field.head_count", "Effectif", "Head count"),
    ("field.teacher", "Enseignant·e", "Teacher"),
    ("field.room", "Salle", "Room"),
    ("field.no_room", "— aucune —", "— none —"),
    ("field.year", "Année scolaire", "School year"),
    ("field.starts_on", "Début", "Start"),
    ("field.ends_on", "Fin", "End"),
    ("field.login", "Identifiant", "Login"),
    ("field.display_name", "Nom affiché", "Display name"),
    ("field.email", "Courriel", "E-mail"),
    (
        "field.password",
        "Mot de passe (10 caractères au moins)",
        "Password (at least 10 characters)",
    ),
    ("field.role", "Rôle", "Role"),
    ("field.scope", "Périmètre", "Scope"),
    ("field.school", "École", "School"),
    ("field.contractor", "Prestataire", "Contractor"),
    ("field.active", "Actif", "Active"),
    ("field.lang", "Langue", "Language"),
    ("field.optional", "facultatif", "optional"),
    ("form.save", "Enregistrer", "Save"),
    ("form.create", "Créer", "Create"),
    ("form.cancel", "Annuler", "Cancel"),
    ("form.delete", "Supprimer", "Delete"),
    ("form.edit", "Modifier", "Edit"),
    (
        "form.errors",
        "Le formulaire contient des erreurs :",
        "The form has errors:",
    ),
    ("form.required", "obligatoire", "required"),
    ("school.rooms", "Salles", "Rooms"),
    ("school.classes", "Classes", "Classes"),
    ("school.people", "Personnes", "People"),
    (
        "school.no_rooms",
        "Aucune salle enregistrée.",
        "No room recorded.",
    ),
    (
        "school.no_classes",
        "Aucune classe pour cette année.",
        "No class for this year.",
    ),
    ("school.new_room", "Ajouter une salle", "Add a room"),
    ("school.new_class", "Ajouter une classe", "Add a class"),
    ("school.edit", "Modifier l'école", "Edit the school"),
    ("school.new_title", "Nouvelle école", "New school"),
    ("school.edit_title", "Modifier l'école", "Edit the school"),
    ("school.info", "Fiche de l'école", "School record"),
    ("room.title", "Salle", "Room"),
    (
        "room.classes",
        "Classes dans cette salle",
        "Classes in this room",
    ),
    ("room.new_title", "Nouvelle salle", "New room"),
    ("room.edit_title", "Modifier la salle", "Edit the room"),
    (
        "room.delete_confirm",
        "Supprimer cette salle",
        "Delete this room",
    ),
    ("room.equipment", "Équipement", "Equipment"),
    (
        "room.equipment_soon",
        "L'inventaire des matériels de cette salle apparaîtra ici.",
        "This room's equipment inventory will appear here.",
    ),
    ("class.title", "Classe", "Class"),
    ("class.new_title", "Nouvelle classe", "New class"),
    ("class.edit_title", "Modifier la classe", "Edit the class"),
    ("years.title", "Années scolaires", "School years"),
    ("years.new", "Nouvelle année scolaire", "New school year"),
    ("years.label_hint", "ex. 2027-2028", "e.g. 2027-2028"),
    ("users.title", "Utilisateurs et rôles", "Users and roles"),
    ("users.new", "Nouvel utilisateur", "New user"),
    ("users.roles", "Rôles", "Roles"),
    ("users.add_role", "Ajouter un rôle", "Add a role"),
    ("users.remove_role", "Retirer", "Remove"),
    (
        "users.reset_password",
        "Définir un nouveau mot de passe",
        "Set a new password",
    ),
    (
        "users.deactivate",
        "Désactiver le compte",
        "Deactivate the account",
    ),
    (
        "users.activate",
        "Réactiver le compte",
        "Reactivate the account",
    ),
    ("users.inactive", "désactivé", "deactivated"),
    (
        "users.no_roles",
        "Aucun rôle : ce compte ne voit rien.",
        "No role: this account sees nothing.",
    ),
    (
        "users.scope_hint",
        "École pour technicien, directeur, enseignant, ERUN ; prestataire pour un prestataire ; rien pour administrateur et élu.",
        "School for technician, head teacher, teacher, ERUN; contractor for a contractor; nothing for administrator and elected official.",
    ),
    ("users.none", "— aucun —", "— none —"),
    ("audit.title", "Journal des modifications", "Audit log"),
    ("audit.when", "Quand", "When"),
    ("audit.who", "Qui", "Who"),
    ("audit.action", "Action", "Action"),
    ("audit.object", "Objet", "Object"),
    ("audit.changes", "Modifications", "Changes"),
    ("audit.any", "Tous", "All"),
    ("audit.since", "Depuis le", "Since"),
    ("audit.older", "Entrées plus anciennes", "Older entries"),
    ("audit.empty", "Aucune entrée.", "No entry."),
    ("account.title", "Mon compte", "My account"),
    (
        "account.password",
        "Changer mon mot de passe",
        "Change my password",
    ),
    ("account.current", "Mot de passe actuel", "Current password"),
    (
        "account.new",
        "Nouveau mot de passe (10 caractères au moins)",
        "New password (at least 10 characters)",
    ),
    (
        "account.confirm",
        "Confirmez le nouveau mot de passe",
        "Confirm the new password",
    ),
    (
        "account.lang",
        "Langue de l'interface",
        "Interface language",
    ),
    ("account.tokens", "Jetons d'API", "API tokens"),
    (
        "account.token_name",
        "Nom du jeton (usage)",
        "Token name (purpose)",
    ),
    ("account.token_create", "Créer un jeton", "Create a token"),
    (
        "account.token_shown_once",
        "Copiez ce jeton maintenant : il ne sera plus affiché.",
        "Copy this token now: it will not be shown again.",
    ),
    ("account.token_revoke", "Révoquer", "Revoke"),
    ("account.token_revoked", "révoqué", "revoked"),
    ("account.token_last_used", "Dernier usage", "Last used"),
    ("account.never", "jamais", "never"),
    (
        "flash.saved",
        "Modifications enregistrées.",
        "Changes saved.",
    ),
    ("flash.created", "Créé.", "Created."),
    ("flash.deleted", "Supprimé.", "Deleted."),
    (
        "flash.password_changed",
        "Mot de passe changé. Reconnectez-vous.",
        "Password changed. Log in again.",
    ),
    ("error.title", "Erreur", "Error"),
    (
        "error.not_found",
        "Cette page n'existe pas, ou vous n'y avez pas accès.",
        "This page does not exist, or you have no access to it.",
    ),
    (
        "error.forbidden",
        "Votre rôle ne permet pas cette action.",
        "Your role does not allow this action.",
    ),
    (
        "error.csrf",
        "Le formulaire a expiré. Revenez en arrière, rechargez la page et recommencez.",
        "The form has expired. Go back, reload the page and try again.",
    ),
    ("error.bad_request", "Requête incorrecte.", "Bad request."),
    ("error.invalid", "Données invalides.", "Invalid data."),
    (
        "error.conflict",
        "Conflit avec les données enregistrées.",
        "Conflict with stored data.",
    ),
    (
        "error.internal",
        "Une erreur interne s'est produite. Elle a été consignée.",
        "An internal error occurred. It has been logged.",
    ),
    ("error.back_home", "Retour à l'accueil", "Back to home"),
    (
        "footer.licence",
        "Préau — logiciel libre sous licence AGPL-3.0-or-later",
        "Préau — free software under the AGPL-3.0-or-later licence",
    ),
    ("nav.dashboard", "Tableau de bord", "Dashboard"),
    ("nav.admin", "Administration", "Administration"),
    (
        "dashboard.title",
        "Tableau de bord des écoles",
        "Schools dashboard",
    ),
    (
        "dashboard.intro",
        "Les chiffres de chaque école ouverte de votre périmètre, pour l'année choisie.",
        "Figures for each open school in your scope, for the chosen year.",
    ),
    ("dashboard.show", "Afficher", "Show"),
    ("dashboard.export", "Exporter (CSV)", "Export (CSV)"),
    ("dashboard.classrooms", "salles de classe", "classrooms"),
    (
        "dashboard.class_size",
        "élèves par classe",
        "pupils per class",
    ),
    ("dashboard.total", "Total", "Total"),
    ("field.school_year", "Année scolaire", "School year"),
    ("field.insee_code", "Code INSEE", "INSEE code"),
    (
        "collectivite.edit_title",
        "Modifier la collectivité",
        "Edit the local authority",
    ),
    (
        "collectivite.insee_hint",
        "Code de la commune (5 caractères) : il filtre l'import de l'annuaire de l'Éducation nationale.",
        "Municipality code (5 characters): it filters the national school directory import.",
    ),
    (
        "users.edit_title",
        "Modifier le nom et l'e-mail",
        "Edit name and e-mail",
    ),
    (
        "users.edit",
        "Modifier le nom ou l'e-mail",
        "Edit name or e-mail",
    ),
    ("users.email", "E-mail", "E-mail"),
    (
        "admin.collectivite",
        "La collectivité",
        "The local authority",
    ),
    (
        "admin.collectivite_text",
        "Nom, type et code INSEE.",
        "Name, kind and INSEE code.",
    ),
    ("admin.years", "Années scolaires", "School years"),
    (
        "admin.years_text",
        "Les années et leurs dates, pour les classes.",
        "Years and their dates, for the classes.",
    ),
    ("admin.import", "Importer des écoles", "Import schools"),
    (
        "admin.import_text",
        "Depuis l'annuaire de l'Éducation nationale ou un fichier CSV.",
        "From the national school directory or a CSV file.",
    ),
    ("admin.users", "Utilisateurs et rôles", "Users and roles"),
    (
        "admin.users_text",
        "Comptes, rôles, périmètres, mots de passe.",
        "Accounts, roles, scopes, passwords.",
    ),
    ("admin.audit", "Journal des modifications", "Audit log"),
    (
        "admin.audit_text",
        "Qui a changé quoi, et quand.",
        "Who changed what, and when.",
    ),
    ("import.title", "Importer des écoles", "Import schools"),
    (
        "import.intro",
        "Choisissez l'export de l'annuaire de l'Éducation nationale (fr-en-annuaire-education, séparateur « ; ») ou un fichier « uai;nom;type;adresse ». Rien n'est enregistré avant votre confirmation.",
        "Choose the national school directory export (fr-en-annuaire-education, \";\"-separated) or a \"uai;nom;type;adresse\" file. Nothing is saved before you confirm.",
    ),
    ("import.file", "Fichier CSV", "CSV file"),
    (
        "import.file_hint",
        "UTF-8 de préférence ; un fichier Excel en Windows-1252 est reconnu.",
        "UTF-8 preferably; an Excel file in Windows-1252 is recognised.",
    ),
    (
        "import.commune",
        "Code INSEE de la commune",
        "Municipality INSEE code",
    ),
    (
        "import.commune_hint",
        "Pour l'annuaire national : seules les écoles de cette commune sont importées.",
        "For the national directory: only this municipality's schools are imported.",
    ),
    ("import.submit", "Prévisualiser", "Preview"),
    ("import.no_file", "Choisissez un fichier.", "Choose a file."),
    (
        "import.expired",
        "Cet aperçu a expiré : envoyez le fichier de nouveau.",
        "This preview has expired: send the file again.",
    ),
    ("import.preview", "Aperçu", "Preview"),
    ("import.done", "Import terminé", "Import done"),
    ("import.to_create", "écoles à créer", "schools to create"),
    (
        "import.to_update",
        "écoles à mettre à jour",
        "schools to update",
    ),
    ("import.created", "écoles créées", "schools created"),
    ("import.updated", "écoles mises à jour", "schools updated"),
    ("import.unchanged", "inchangées", "unchanged"),
    (
        "import.skipped",
        "lignes ignorées (autre commune)",
        "lines skipped (other municipality)",
    ),
    ("import.encoding", "Encodage", "Encoding"),
    ("import.format", "Format", "Format"),
    ("import.confirm", "Confirmer l'import", "Confirm the import"),
    ("import.see_schools", "Voir les écoles", "See the schools"),
    (
        "import.has_errors",
        "Le fichier contient des erreurs ; rien n'a été enregistré.",
        "The file has errors; nothing was saved.",
    ),
    ("import.line", "Ligne", "Line"),
    ("schools.import", "Importer", "Import"),
    (
        "error.too_large",
        "Fichier trop volumineux.",
        "File too large.",
    ),
    ("yes", "oui", "yes"),
    ("no", "non", "no"),
];

/// The text for `key` in `lang`; an unknown key shows itself, which the tests forbid.
pub fn t(lang: Lang, key: &str) -> &'static str {
    match MESSAGES.iter().find(|(k, _, _)| *k == key) {
        Some((_, fr, en)) => match lang {
            Lang::Fr => fr,
            Lang::En => en,
        },
        None => {
            tracing::warn!(key, "missing interface text");
            "⟨?⟩"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_key_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if !MESSAGES.iter().any(|(k, _, _)| *k == key) {
                    missing.push(key.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "missing keys: {missing:?}");
    }

    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<_> = MESSAGES.iter().map(|m| m.0).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
    }
}
