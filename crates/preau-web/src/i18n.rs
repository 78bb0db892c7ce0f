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
    ("import.see", "Voir les écoles", "See the schools"),
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
    ("nav.devices", "Matériel", "Equipment"),
    ("devices.title", "Matériel", "Equipment"),
    ("devices.unplaced_title", "À affecter", "To place"),
    ("devices.new", "Ajouter un matériel", "Add equipment"),
    ("devices.new_title", "Nouveau matériel", "New equipment"),
    (
        "devices.edit_title",
        "Modifier le matériel",
        "Edit equipment",
    ),
    ("devices.export_csv", "Exporter (CSV)", "Export (CSV)"),
    ("devices.export_xlsx", "Exporter (Excel)", "Export (Excel)"),
    (
        "devices.not_seen_30",
        "Agents muets depuis 30 jours",
        "Agents silent for 30 days",
    ),
    (
        "devices.warranty_90",
        "Garanties finissant sous 90 jours",
        "Warranties ending within 90 days",
    ),
    ("devices.search", "Rechercher", "Search"),
    (
        "devices.search_hint",
        "nom, n° de série, n° d'inventaire, logiciel installé",
        "name, serial, asset tag, installed software",
    ),
    (
        "devices.older_than",
        "Achetés il y a au moins (ans)",
        "Bought at least (years) ago",
    ),
    (
        "devices.warranty_within",
        "Garantie finissant sous (jours)",
        "Warranty ending within (days)",
    ),
    (
        "devices.not_seen",
        "Sans inventaire depuis (jours)",
        "No inventory for (days)",
    ),
    ("devices.count", "matériels", "devices"),
    (
        "devices.none_found",
        "Aucun matériel ne correspond.",
        "No equipment matches.",
    ),
    (
        "devices.unplaced_help",
        "Ces matériels ont été inventoriés par un agent sans TAG ni adresse connue. Cochez-les, choisissez leur école, puis « Placer ». L'agent recevra l'UAI de l'école comme TAG.",
        "These devices were inventoried by an agent with no TAG or known address. Tick them, choose their school, then \"Place\". The agent will receive the school's UAI as its TAG.",
    ),
    ("devices.select", "Sélectionner", "Select"),
    ("devices.place_in", "Placer dans l'école", "Place in school"),
    ("devices.place_button", "Placer", "Place"),
    ("devices.place", "Emplacement", "Location"),
    ("devices.age", "Âge", "Age"),
    ("devices.last_seen", "Dernier inventaire", "Last inventory"),
    ("devices.stock", "réserve", "storage"),
    ("devices.unplaced", "à affecter", "to place"),
    ("devices.all_schools", "Toutes les écoles", "All schools"),
    ("devices.all_categories", "Toutes", "All"),
    ("devices.all_states", "Tous", "All"),
    ("devices.none", "— aucun —", "— none —"),
    (
        "devices.room_hint",
        "Laissez « réserve » pour un matériel en stock à l'école.",
        "Leave \"storage\" for equipment kept in stock at the school.",
    ),
    (
        "devices.name_hint",
        "Le nom d'hôte pour un ordinateur, ou un nom parlant (« TNI classe 3 »).",
        "The host name of a computer, or a telling name (\"Board classroom 3\").",
    ),
    (
        "devices.asset_tag_hint",
        "Le numéro d'inventaire de la collectivité, collé sur le matériel.",
        "The authority's asset tag, stuck on the device.",
    ),
    (
        "devices.wifi_hint",
        "Pour une borne Wi-Fi : peut-elle être coupée hors des temps d'usage (loi Abeille) ?",
        "For a Wi-Fi access point: can it be switched off outside use (loi Abeille)?",
    ),
    ("devices.not_applicable", "sans objet", "not applicable"),
    (
        "devices.price_hint",
        "En euros TTC, par exemple 1 890,00.",
        "In euros incl. VAT, for example 1 890.00.",
    ),
    (
        "devices.funding_hint",
        "Budget ou subvention (SNEE, DETR…).",
        "Budget or grant (SNEE, DETR…).",
    ),
    ("devices.warranty_over", "terminée", "ended"),
    (
        "devices.see_cart",
        "Voir la classe mobile",
        "See the mobile classroom",
    ),
    (
        "devices.state_since",
        "Dans cet état depuis le",
        "In this state since",
    ),
    ("devices.contents", "Contenu", "Contents"),
    ("devices.components", "Composants", "Components"),
    ("devices.detail", "Détail", "Detail"),
    (
        "devices.software",
        "Logiciels installés",
        "Installed software",
    ),
    (
        "devices.show_software",
        "Afficher la liste",
        "Show the list",
    ),
    ("devices.history", "Historique", "History"),
    ("field.category", "Catégorie", "Category"),
    ("field.state", "État", "State"),
    ("field.brand", "Marque", "Brand"),
    ("field.model", "Modèle", "Model"),
    ("field.serial", "N° de série", "Serial number"),
    ("field.asset_tag", "N° d'inventaire", "Asset tag"),
    ("field.purchase_date", "Date d'achat", "Purchase date"),
    ("field.warranty_end", "Fin de garantie", "Warranty end"),
    ("field.price", "Prix d'achat", "Purchase price"),
    ("field.supplier", "Fournisseur", "Supplier"),
    (
        "field.order_ref",
        "Référence de commande",
        "Order reference",
    ),
    ("field.funding", "Financement", "Funding"),
    ("field.notes", "Notes", "Notes"),
    ("field.parent", "Classe mobile", "Mobile classroom"),
    (
        "field.wifi_switchable",
        "Wi-Fi coupable",
        "Wi-Fi can be switched off",
    ),
    ("field.os", "Système", "Operating system"),
    ("field.cpu", "Processeur", "Processor"),
    ("field.memory", "Mémoire", "Memory"),
    ("field.bios", "BIOS / micrologiciel", "BIOS / firmware"),
    ("field.ips", "Adresses IP", "IP addresses"),
    ("field.system_uuid", "UUID système", "System UUID"),
    ("field.version", "Version", "Version"),
    ("field.publisher", "Éditeur", "Publisher"),
    (
        "field.ip_ranges",
        "Plages d'adresses de l'école",
        "School address ranges",
    ),
    ("component.cpu", "Processeur", "Processor"),
    ("component.memory", "Mémoire", "Memory"),
    ("component.storage", "Disque", "Disk"),
    ("component.volume", "Volume", "Volume"),
    ("component.network", "Réseau", "Network"),
    ("component.monitor", "Écran", "Monitor"),
    ("component.battery", "Batterie", "Battery"),
    ("component.other", "Autre", "Other"),
    (
        "history.created",
        "Ajouté à l'inventaire",
        "Added to the inventory",
    ),
    ("history.state", "Changement d'état", "State change"),
    ("history.moved", "Déplacé", "Moved"),
    (
        "history.component_added",
        "Composant ajouté",
        "Component added",
    ),
    (
        "history.component_removed",
        "Composant retiré",
        "Component removed",
    ),
    (
        "history.installed",
        "logiciel(s) installé(s)",
        "software installed",
    ),
    (
        "history.removed",
        "logiciel(s) désinstallé(s)",
        "software removed",
    ),
    ("history.merged", "Fusionné avec", "Merged with"),
    ("history.updated", "Modifié", "Changed"),
    (
        "duplicates.title",
        "Doublons possibles",
        "Possible duplicates",
    ),
    (
        "duplicates.intro",
        "Des fiches qui partagent un numéro de série, ou le nom et le modèle d'un même agent. Fusionnez-les : la fiche gardée reprend ce qui lui manque et l'historique de l'autre.",
        "Records sharing a serial number, or an agent's name and model. Merge them: the kept record takes what it lacks and the other's history.",
    ),
    (
        "duplicates.none",
        "Aucun doublon possible.",
        "No possible duplicate.",
    ),
    (
        "duplicates.same_serial",
        "Même numéro de série",
        "Same serial number",
    ),
    (
        "duplicates.same_name",
        "Même nom et modèle (agents)",
        "Same name and model (agents)",
    ),
    ("duplicates.merge", "Fusionner", "Merge"),
    ("duplicates.keep", "Garder", "Keep"),
    (
        "duplicates.other",
        "Fusionner dans la fiche gardée",
        "Merge into the kept record",
    ),
    (
        "duplicates.confirm",
        "Fusionner ces deux fiches ? La seconde sera supprimée.",
        "Merge these two records? The second one will be deleted.",
    ),
    ("labels.title", "Étiquettes QR", "QR labels"),
    ("labels.one", "Étiquette QR", "QR label"),
    ("labels.room", "Étiquettes de la salle", "Room labels"),
    ("labels.school", "Étiquettes de l'école", "School labels"),
    ("labels.print", "Imprimer", "Print"),
    (
        "labels.help",
        "Planche A4 de 3 × 7 étiquettes (63,5 × 38,1 mm). Imprimez à 100 %, sans mise à l'échelle.",
        "A4 sheet of 3 × 7 labels (63.5 × 38.1 mm). Print at 100 %, without scaling.",
    ),
    (
        "labels.truncated",
        "Seules les 500 premières étiquettes sont sur cette planche : filtrez par salle ou par catégorie.",
        "Only the first 500 labels are on this sheet: filter by room or category.",
    ),
    ("school.equipment", "Matériel", "Equipment"),
    (
        "school.see_devices",
        "Voir le matériel",
        "See the equipment",
    ),
    (
        "school.ip_ranges_hint",
        "Une plage par ligne (ex. 10.78.12.0/24) : un agent sans TAG qui inventorie depuis ces adresses est placé dans cette école.",
        "One range per line (e.g. 10.78.12.0/24): an agent with no TAG reporting from these addresses is placed in this school.",
    ),
    (
        "room.no_equipment",
        "Aucun matériel dans cette salle.",
        "No equipment in this room.",
    ),
    (
        "categories.title",
        "Catégories de matériel",
        "Equipment categories",
    ),
    (
        "categories.intro",
        "Les catégories de base sont fournies ; ajoutez les vôtres (elles s'ajoutent aux listes et aux filtres).",
        "Basic categories are provided; add your own (they join the lists and filters).",
    ),
    ("categories.code", "Code", "Code"),
    ("categories.origin", "Origine", "Origin"),
    ("categories.builtin", "fournie", "built in"),
    ("categories.added", "ajoutée", "added"),
    ("categories.add", "Ajouter une catégorie", "Add a category"),
    (
        "categories.label_fr",
        "Libellé (français)",
        "Label (French)",
    ),
    (
        "categories.label_en",
        "Libellé (anglais, facultatif)",
        "Label (English, optional)",
    ),
    ("agents.title", "Agents d'inventaire", "Inventory agents"),
    (
        "agents.intro",
        "Les agents OCS Inventory, FusionInventory et GLPI Agent des écoles envoient leurs inventaires à Préau avec l'identifiant et le secret de la collectivité.",
        "The schools' OCS Inventory, FusionInventory and GLPI agents send their inventories to Préau with the authority's login and secret.",
    ),
    (
        "agents.secret_once",
        "Notez ce secret maintenant : il ne sera plus affiché.",
        "Write this secret down now: it will not be shown again.",
    ),
    ("agents.secret", "Secret", "Secret"),
    (
        "agents.current",
        "Identifiants actuels",
        "Current credentials",
    ),
    ("agents.since", "Depuis le", "Since"),
    (
        "agents.devices",
        "Matériels inventoriés par un agent",
        "Devices inventoried by an agent",
    ),
    (
        "agents.none",
        "Aucun identifiant : les agents sont refusés.",
        "No credentials: agents are refused.",
    ),
    ("agents.setup", "Configurer les agents", "Set up the agents"),
    (
        "agents.urls",
        "Adresses que les agents peuvent utiliser :",
        "Addresses the agents may use:",
    ),
    (
        "agents.ocs",
        "OCS Inventory agent (il lit l'identifiant et le secret en base64) :",
        "OCS Inventory agent (it reads the login and secret base64-encoded):",
    ),
    (
        "agents.fusion",
        "FusionInventory et GLPI Agent :",
        "FusionInventory and GLPI Agent:",
    ),
    (
        "agents.tag_hint",
        "Le TAG est l'UAI de l'école (ex. 0781234X) : le matériel y est placé directement.",
        "The TAG is the school's UAI (e.g. 0781234X): the device is placed there directly.",
    ),
    ("agents.rotate", "Changer le secret", "Change the secret"),
    (
        "agents.create",
        "Créer les identifiants",
        "Create the credentials",
    ),
    (
        "agents.secret_hint",
        "Laissez vide pour un secret aléatoire ; ou saisissez celui déjà déployé dans les écoles.",
        "Leave empty for a random secret, or type the one already deployed in the schools.",
    ),
    (
        "agents.rotate_confirm",
        "Changer le secret ? Les agents déjà configurés seront refusés jusqu'à leur mise à jour.",
        "Change the secret? Agents already set up will be refused until updated.",
    ),
    ("admin.agents", "Agents d'inventaire", "Inventory agents"),
    (
        "admin.agents_text",
        "Identifiants des agents OCS, FusionInventory et GLPI.",
        "Credentials of the OCS, FusionInventory and GLPI agents.",
    ),
    (
        "admin.categories",
        "Catégories de matériel",
        "Equipment categories",
    ),
    (
        "admin.categories_text",
        "TNI, tablettes… et les vôtres.",
        "Boards, tablets… and your own.",
    ),
    ("flash.placed", "Matériel placé.", "Equipment placed."),
    ("flash.merged", "Fiches fusionnées.", "Records merged."),
    (
        "flash.choose_school",
        "Choisissez une école.",
        "Choose a school.",
    ),
    (
        "flash.nothing_selected",
        "Cochez au moins un matériel.",
        "Tick at least one device.",
    ),
    (
        "device_import.title",
        "Importer du matériel",
        "Import equipment",
    ),
    ("device_import.button", "Importer", "Import"),
    ("device_import.kind", "Type de fichier", "File type"),
    (
        "device_import.kind_devices",
        "Tableau du matériel (CSV)",
        "Equipment spreadsheet (CSV)",
    ),
    (
        "device_import.kind_mdm",
        "Export d'une console MDM des tablettes (Jamf School, Intune)",
        "Tablet MDM console export (Jamf School, Intune)",
    ),
    (
        "device_import.columns",
        "Tableau du matériel : une ligne par matériel, colonnes categorie ; uai ; salle ; nom ; etat ; marque ; modele ; numero_serie ; numero_inventaire ; date_achat ; prix ; fournisseur ; reference_commande ; fin_garantie ; financement ; notes (catégorie et n° d'inventaire ou de série obligatoires). Un matériel déjà connu par son n° d'inventaire (ou de série) est mis à jour. Export MDM : reconnu par ses colonnes (Serial Number, Device Name, Model, OS Version, Last Check-in).",
        "Equipment spreadsheet: one line per device, columns categorie; uai; salle; nom; etat; marque; modele; numero_serie; numero_inventaire; date_achat; prix; fournisseur; reference_commande; fin_garantie; financement; notes (category and asset tag or serial required). A device already known by its asset tag (or serial) is updated. MDM export: recognised by its columns (Serial Number, Device Name, Model, OS Version, Last Check-in).",
    ),
    (
        "device_import.school",
        "École des nouvelles tablettes (export MDM)",
        "School of new tablets (MDM export)",
    ),
    (
        "device_import.school_hint",
        "Les tablettes de l'export que l'inventaire ne connaît pas encore y sont ajoutées ; sinon elles vont dans « à affecter ».",
        "Tablets of the export the inventory does not know yet are added there; otherwise they go to \"to place\".",
    ),
    (
        "device_import.to_create",
        "matériels à créer",
        "devices to create",
    ),
    (
        "device_import.to_update",
        "matériels à mettre à jour",
        "devices to update",
    ),
    (
        "device_import.created",
        "matériels créés",
        "devices created",
    ),
    (
        "device_import.updated",
        "matériels mis à jour",
        "devices updated",
    ),
    ("device_import.see", "Voir le matériel", "See the equipment"),
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
            for part in text.split(".t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if !MESSAGES.iter().any(|(k, _, _)| *k == key) {
                    missing.push(key.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "missing keys: {missing:?}");
    }

    /// Every literal in the handlers shaped like a key (`section.name`) is a key.
    #[test]
    fn every_code_key_exists() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
            &mut files,
        );
        let sections: Vec<&str> = MESSAGES
            .iter()
            .filter_map(|(k, _, _)| k.split_once('.').map(|(s, _)| s))
            .collect();
        let mut missing = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for lit in text.split('"').skip(1).step_by(2) {
                let Some((section, rest)) = lit.split_once('.') else {
                    continue;
                };
                let shaped = !rest.is_empty()
                    && rest != "html"
                    && sections.contains(&section)
                    && lit.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'
                    });
                if shaped && !MESSAGES.iter().any(|(k, _, _)| *k == lit) {
                    missing.push(format!(
                        "{}: {lit}",
                        f.file_name().unwrap().to_string_lossy()
                    ));
                }
            }
        }
        missing.sort();
        missing.dedup();
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
