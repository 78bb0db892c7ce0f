//! Interface text in French (first) and English. Templates ask `ctx.t("key")`; a test
//! checks that every key used in a template exists here.

use preau_domain::Lang;

/// `(key, français, English)`.
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("tickets.more_than", "plus de", "more than"),
    ("contracts.contractors", "Prestataires", "Contractors"),
    (
        "contracts.contractors_help",
        "Les titulaires des marchés. Leurs techniciens sont des utilisateurs au rôle « Prestataire » rattachés à l'entreprise (Administration → Utilisateurs).",
        "The contract holders. Their technicians are users with the Contractor role attached to the company (Administration → Users).",
    ),
    (
        "contracts.contractor_name",
        "Raison sociale",
        "Company name",
    ),
    (
        "contracts.contractor_add",
        "Ajouter le prestataire",
        "Add the contractor",
    ),
    (
        "admin.assistance",
        "Assistance et calendrier",
        "Support and calendar",
    ),
    (
        "admin.assistance_text",
        "Règles d'affectation des signalements, clôture automatique, calendrier scolaire officiel, courriels en attente.",
        "Routing rules for reports, automatic closing, the official school calendar, e-mails waiting.",
    ),
    (
        "assistance.title",
        "Assistance et calendrier",
        "Support and calendar",
    ),
    ("assistance.rules", "Règles d'affectation", "Routing rules"),
    (
        "assistance.rules_help",
        "Une règle envoie les signalements d'une école, ou d'un type de problème, à un technicien ou à un lot. La plus précise l'emporte ; sans règle, le lot dont le périmètre couvre le matériel, puis le technicien de l'école.",
        "A rule sends the reports of a school, or of a kind of problem, to a technician or a lot. The most specific wins; without a rule, the lot whose perimeter covers the equipment, then the school's technician.",
    ),
    (
        "assistance.no_rules",
        "Aucune règle : les périmètres des marchés et les techniciens des écoles décident.",
        "No rule: the contracts' perimeters and the schools' technicians decide.",
    ),
    ("assistance.any_school", "Toutes les écoles", "All schools"),
    (
        "assistance.any_category",
        "Tous les problèmes",
        "All problems",
    ),
    ("assistance.add_rule", "Ajouter la règle", "Add the rule"),
    (
        "assistance.auto_close",
        "Clôture automatique",
        "Automatic closing",
    ),
    (
        "assistance.auto_close_days",
        "Jours d'école avant de clore un ticket résolu que l'école n'a pas confirmé",
        "School days before closing a resolved ticket the school did not confirm",
    ),
    (
        "assistance.calendar",
        "Calendrier scolaire",
        "School calendar",
    ),
    (
        "assistance.calendar_known",
        "Vacances scolaires connues jusqu'au :",
        "School holidays known until:",
    ),
    (
        "assistance.calendar_file",
        "Export officiel fr-en-calendrier-scolaire (CSV)",
        "Official fr-en-calendrier-scolaire export (CSV)",
    ),
    (
        "assistance.calendar_hint",
        "Le fichier publié sur data.education.gouv.fr, toutes zones ; les périodes déjà connues sont ignorées.",
        "The file published on data.education.gouv.fr, all zones; periods already known are skipped.",
    ),
    (
        "assistance.calendar_import",
        "Importer le calendrier",
        "Import the calendar",
    ),
    ("assistance.mail", "Courriels", "E-mails"),
    (
        "assistance.mail_waiting",
        "en attente d'envoi",
        "waiting to be sent",
    ),
    (
        "assistance.mail_failed",
        "abandonné(s) après plusieurs essais",
        "given up after several tries",
    ),
    ("nav.planning", "Planning", "Schedule"),
    (
        "planning.title",
        "Planning des interventions",
        "Visit schedule",
    ),
    ("planning.prev", "Semaine précédente", "Previous week"),
    ("planning.next", "Semaine suivante", "Next week"),
    ("planning.whose", "Planning de", "Schedule of"),
    ("planning.mine", "Mes interventions", "My visits"),
    ("planning.everyone", "Tout le monde", "Everyone"),
    ("planning.week_of", "Semaine du", "Week of"),
    ("planning.none", "Rien de prévu.", "Nothing planned."),
    ("planning.planned", "Prévue", "Planned"),
    ("planning.done", "Réalisée", "Done"),
    ("planning.cancelled", "Annulée", "Cancelled"),
    ("planning.mark_done", "Marquer réalisée", "Mark as done"),
    ("planning.cancel", "Annuler", "Cancel"),
    (
        "planning.cancel_confirm",
        "Annuler cette intervention ?",
        "Cancel this visit?",
    ),
    (
        "planning.feed_title",
        "Abonnement agenda (iCalendar)",
        "Calendar subscription (iCalendar)",
    ),
    (
        "planning.feed_help",
        "Une adresse privée à ajouter dans votre agenda (téléphone, Thunderbird, Outlook) : vos interventions y apparaissent et s'y mettent à jour.",
        "A private address to add to your calendar (phone, Thunderbird, Outlook): your visits appear and stay up to date there.",
    ),
    (
        "planning.feed_once",
        "Voici votre adresse d'abonnement. Elle ne sera plus affichée : copiez-la maintenant.",
        "Here is your subscription address. It will not be shown again: copy it now.",
    ),
    (
        "planning.feed_create",
        "Créer mon adresse d'abonnement",
        "Create my subscription address",
    ),
    (
        "planning.feed_replace",
        "Remplacer mon adresse d'abonnement",
        "Replace my subscription address",
    ),
    (
        "planning.feed_replace_confirm",
        "L'ancienne adresse cessera de fonctionner. Continuer ?",
        "The old address will stop working. Continue?",
    ),
    (
        "school.open_tickets",
        "Signalements en cours",
        "Open reports",
    ),
    ("school.visits", "Interventions prévues", "Planned visits"),
    ("ticket.visits", "Interventions", "Visits"),
    ("ticket.plan", "Planifier une intervention", "Plan a visit"),
    (
        "ticket.plan_help",
        "Créneaux hors des heures de classe, d'après le calendrier de l'école.",
        "Slots outside class hours, from the school's calendar.",
    ),
    ("ticket.plan_other", "Un autre créneau", "Another slot"),
    ("ticket.plan_start", "Début", "Start"),
    ("ticket.plan_end", "Fin", "End"),
    (
        "ticket.plan_group",
        "Traiter aussi pendant ce passage",
        "Also handle during this visit",
    ),
    (
        "ticket.plan_notes",
        "Note pour l'école",
        "Note for the school",
    ),
    (
        "ticket.plan_button",
        "Planifier et prévenir l'école",
        "Plan and tell the school",
    ),
    (
        "flash.planned",
        "Intervention planifiée ; l'école est prévenue.",
        "Visit planned; the school has been told.",
    ),
    ("nav.contracts", "Marchés", "Contracts"),
    (
        "contracts.title",
        "Marchés de maintenance",
        "Maintenance contracts",
    ),
    ("contracts.contract", "Marché", "Contract"),
    ("contracts.new_title", "Nouveau marché", "New contract"),
    (
        "contracts.edit_title",
        "Modifier le marché",
        "Edit the contract",
    ),
    (
        "contracts.none",
        "Aucun marché enregistré.",
        "No contract yet.",
    ),
    ("contracts.reference", "N° de marché", "Contract number"),
    (
        "contracts.reference_hint",
        "Tel qu'il figure sur l'acte d'engagement, ex. 2025-014.",
        "As on the signed contract, e.g. 2025-014.",
    ),
    ("contracts.object", "Objet", "Subject"),
    ("contracts.period", "Validité", "Validity"),
    ("contracts.inactive", "hors période", "out of period"),
    (
        "contracts.calendar",
        "Délais comptés sur",
        "Deadlines counted on",
    ),
    (
        "contracts.work_hours",
        "Heures ouvrées du prestataire",
        "Contractor's working hours",
    ),
    (
        "contracts.work_days",
        "Jours ouvrés du prestataire",
        "Contractor's working days",
    ),
    (
        "contracts.work_days_hint",
        "Numéros des jours, 1 = lundi : 1,2,3,4,5 pour du lundi au vendredi.",
        "Day numbers, 1 = Monday: 1,2,3,4,5 for Monday to Friday.",
    ),
    ("contracts.work_start", "Début de journée", "Day starts"),
    ("contracts.work_end", "Fin de journée", "Day ends"),
    (
        "contracts.no_lots",
        "Ce marché n'a pas encore de lot.",
        "This contract has no lot yet.",
    ),
    ("contracts.lot_new_title", "Ajouter un lot", "Add a lot"),
    ("contracts.lot_number", "N° du lot", "Lot number"),
    (
        "contracts.cap_ticket",
        "Plafond des pénalités par ticket",
        "Penalty cap per ticket",
    ),
    (
        "contracts.cap_month",
        "Plafond des pénalités par mois",
        "Penalty cap per month",
    ),
    (
        "contracts.cap_hint",
        "En euros ; vide : pas de plafond.",
        "In euros; empty: no cap.",
    ),
    ("contracts.no_cap", "pas de plafond", "no cap"),
    ("contracts.perimeter", "Périmètre", "Perimeter"),
    (
        "contracts.perimeter_edit",
        "Modifier le périmètre",
        "Edit the perimeter",
    ),
    (
        "contracts.perimeter_title",
        "Périmètre du lot",
        "Lot perimeter",
    ),
    (
        "contracts.perimeter_help",
        "Le lot couvre chaque catégorie cochée dans chaque école cochée : les signalements qui s'y rapportent lui sont confiés.",
        "The lot covers each ticked category in each ticked school: reports about them are sent to it.",
    ),
    (
        "contracts.grid",
        "Grille des délais (GTI : intervention, GTR : rétablissement)",
        "Deadline grid (GTI: intervention, GTR: restoration)",
    ),
    ("contracts.grid_edit", "Modifier la grille", "Edit the grid"),
    ("contracts.grid_title", "Grille des délais", "Deadline grid"),
    (
        "contracts.grid_help",
        "Délais en heures ouvrées (4h, 90m) ou en jours ouvrés (1d, 3d) ; vide : pas d'engagement. Pénalités en euros par unité de retard.",
        "Deadlines in working hours (4h, 90m) or working days (1d, 3d); empty: no commitment. Penalties in euros per unit late.",
    ),
    (
        "contracts.grid_warning",
        "Les tickets déjà ouverts gardent les délais de leur ouverture : seule la suite est concernée.",
        "Tickets already open keep the terms they were opened with: only new ones are affected.",
    ),
    ("contracts.grid_saved", "Grille enregistrée.", "Grid saved."),
    (
        "contracts.grid_kept",
        "ticket(s) ouvert(s) de ce lot gardent leurs délais d'origine ; les nouveaux tickets suivront la nouvelle grille.",
        "open ticket(s) of this lot keep their original deadlines; new tickets follow the new grid.",
    ),
    (
        "contracts.penalty_unit",
        "Pénalité comptée",
        "Penalty counted",
    ),
    (
        "contracts.penalty_gti",
        "Pénalité GTI (€)",
        "GTI penalty (€)",
    ),
    (
        "contracts.penalty_gtr",
        "Pénalité GTR (€)",
        "GTR penalty (€)",
    ),
    ("flash.grid_saved", "Grille enregistrée.", "Grid saved."),
    (
        "flash.perimeter_saved",
        "Périmètre enregistré.",
        "Perimeter saved.",
    ),
    (
        "report.sla_title",
        "Rapport mensuel des délais",
        "Monthly SLA report",
    ),
    ("report.month", "Mois", "Month"),
    ("report.show", "Afficher", "Show"),
    ("report.print", "Imprimer", "Print"),
    (
        "report.scope",
        "Tickets dont les délais ont commencé dans le mois ; ceux encore ouverts sont comptés à ce jour (provisoire).",
        "Tickets whose clocks started in the month; those still open are counted as of now (provisional).",
    ),
    ("report.computed_at", "Calculé le", "Computed on"),
    (
        "report.within_gti",
        "dans le délai d'intervention (GTI)",
        "within the intervention time (GTI)",
    ),
    (
        "report.within_gtr",
        "dans le délai de rétablissement (GTR)",
        "within the restoration time (GTR)",
    ),
    ("report.penalties_due", "de pénalités", "of penalties"),
    (
        "report.no_late",
        "Aucun ticket en retard ce mois-ci.",
        "No late ticket this month.",
    ),
    (
        "report.late_tickets",
        "Tickets en retard et calcul des pénalités",
        "Late tickets and penalty computation",
    ),
    ("report.computation", "Calcul", "Computation"),
    ("report.penalty", "Pénalité", "Penalty"),
    ("report.provisional", "provisoire", "provisional"),
    ("report.month_total", "Total du mois", "Month total"),
    ("report.capped_month", "plafonné à", "capped at"),
    ("report.before_cap", "avant plafond :", "before the cap:"),
    (
        "report.capped_ticket",
        "Plafond par ticket :",
        "Cap per ticket:",
    ),
    (
        "report.contract_total",
        "Total des pénalités du marché pour le mois",
        "Contract penalties for the month",
    ),
    ("report.in_time", "tenue", "met"),
    ("report.due", "Échéance", "Due"),
    (
        "report.days_started",
        "jour(s) de retard commencé(s)",
        "day(s) late started",
    ),
    ("report.hours", "h", "h"),
    ("report.days", "j", "d"),
    ("report.lot", "Lot", "Lot"),
    ("report.gti_due", "Échéance GTI", "GTI due"),
    (
        "report.gti_late",
        "Retard GTI (min ouvrées)",
        "GTI late (working min)",
    ),
    ("report.gtr_due", "Échéance GTR", "GTR due"),
    (
        "report.gtr_late",
        "Retard GTR (min ouvrées)",
        "GTR late (working min)",
    ),
    ("report.late_days", "Jours de retard", "Days late"),
    ("report.penalty_gti", "Pénalité GTI (€)", "GTI penalty (€)"),
    ("report.penalty_gtr", "Pénalité GTR (€)", "GTR penalty (€)"),
    ("nav.tickets", "Assistance", "Support"),
    ("report.title", "Signaler un problème", "Report a problem"),
    ("report.about", "Concerne :", "About:"),
    (
        "report.device_page",
        "voir la fiche du matériel",
        "see the device's page",
    ),
    ("report.where", "Où ?", "Where?"),
    ("report.what", "Qu'est-ce qui ne va pas ?", "What is wrong?"),
    (
        "report.choose_category",
        "Choisissez ce qui ne va pas.",
        "Choose what is wrong.",
    ),
    ("report.how_bad", "Est-ce grave ?", "How bad is it?"),
    (
        "report.p1_hint",
        "Rien ne fonctionne, la séance est bloquée.",
        "Nothing works, the lesson is blocked.",
    ),
    (
        "report.p2_hint",
        "On peut faire classe, mais c'est pénible.",
        "The class can go on, but it is a nuisance.",
    ),
    (
        "report.p3_hint",
        "Une installation, un déplacement, une question.",
        "An installation, a move, a question.",
    ),
    ("report.description", "En quelques mots", "In a few words"),
    ("report.photo", "Une photo", "A photo"),
    (
        "report.photo_hint",
        "JPEG, PNG, WebP ou PDF, 8 Mo au plus.",
        "JPEG, PNG, WebP or PDF, 8 MB at most.",
    ),
    ("report.send", "Envoyer le signalement", "Send the report"),
    ("tickets.title", "Assistance", "Support"),
    ("tickets.my_title", "Mes signalements", "My reports"),
    (
        "tickets.search",
        "Rechercher (n°, mots)",
        "Search (number, words)",
    ),
    (
        "tickets.open",
        "En cours (non résolus)",
        "Open (not resolved)",
    ),
    ("tickets.all", "Tous", "All"),
    ("tickets.any", "Toutes", "Any"),
    ("tickets.anyone", "Tout le monde", "Anyone"),
    ("tickets.me", "Moi", "Me"),
    ("tickets.unassigned", "Personne encore", "Nobody yet"),
    (
        "tickets.breached_only",
        "Délais dépassés seulement",
        "Breached deadlines only",
    ),
    ("tickets.count", "ticket(s)", "ticket(s)"),
    (
        "tickets.none",
        "Aucun ticket ne correspond.",
        "No ticket matches.",
    ),
    ("tickets.first_page", "Première page", "First page"),
    (
        "tickets.of_device",
        "Tickets de ce matériel",
        "This device's tickets",
    ),
    ("ticket.number", "N°", "No."),
    ("ticket.what", "Problème", "Problem"),
    ("ticket.where", "École — salle", "School — room"),
    ("ticket.priority", "Priorité", "Priority"),
    ("ticket.category", "Catégorie", "Category"),
    ("ticket.assignee", "Confié à", "Assigned to"),
    ("ticket.due", "Échéance", "Due"),
    ("ticket.opened", "ouvert le", "opened"),
    ("ticket.devices", "Matériel", "Equipment"),
    ("ticket.reported_by", "Signalé par", "Reported by"),
    ("ticket.description", "Description", "Description"),
    ("ticket.deadlines", "Délais du marché", "Contract deadlines"),
    (
        "ticket.terms_note",
        "Délais comptés en heures ou jours ouvrés du calendrier prévu (semaine scolaire, vacances de la zone, jours fériés), hors attente de l'école. Ils sont ceux en vigueur à l'ouverture du ticket : une modification ultérieure de la grille ne les change pas.",
        "Counted in working hours or days of the agreed calendar (school week, zone holidays, public holidays), not counting waits on the school. They are the terms in force when the ticket was opened: a later change of the grid does not change them.",
    ),
    ("ticket.history", "Historique", "History"),
    ("ticket.internal", "interne", "internal"),
    ("ticket.attachments", "Pièces jointes", "Attachments"),
    ("ticket.take", "Prendre en charge", "Take it"),
    (
        "ticket.take_help",
        "Personne ne s'en occupe encore.",
        "Nobody is on it yet.",
    ),
    ("ticket.new_status", "Nouvel état", "New status"),
    (
        "ticket.message_school",
        "Message à l'école",
        "Message to the school",
    ),
    ("ticket.send_to", "Confier à", "Assign to"),
    (
        "ticket.send_to_hint",
        "Confier à un autre lot redémarre les délais, aux conditions de ce lot.",
        "Sending it to another lot restarts the clocks, on that lot's terms.",
    ),
    ("ticket.send", "Confier", "Assign"),
    ("ticket.is_it_fixed", "C'est réparé ?", "Is it fixed?"),
    ("ticket.confirm", "Oui, c'est réparé", "Yes, it is fixed"),
    (
        "ticket.reopen_reason",
        "Ce qui ne va toujours pas",
        "What is still wrong",
    ),
    (
        "ticket.reopen",
        "Non, rouvrir le ticket",
        "No, reopen the ticket",
    ),
    ("ticket.write", "Écrire un message", "Write a message"),
    (
        "ticket.internal_note",
        "Note interne (invisible pour l'école)",
        "Internal note (the school does not see it)",
    ),
    ("ticket.send_message", "Envoyer", "Send"),
    (
        "ticket.add_photo",
        "Ajouter une photo ou un document",
        "Add a photo or a document",
    ),
    ("ticket.upload", "Ajouter", "Add"),
    ("clock.met", "Tenu :", "Met:"),
    ("clock.met_late", "Tenu en retard :", "Met late:"),
    ("clock.late_by", "dépassé de", "late by"),
    ("clock.late", "en retard", "late"),
    (
        "clock.paused",
        "En pause : en attente de l'école",
        "Paused: waiting on the school",
    ),
    ("clock.at_risk", "bientôt dépassé", "at risk"),
    ("clock.running", "En cours", "Running"),
    (
        "event.created",
        "a signalé le problème",
        "reported the problem",
    ),
    ("event.taken", "a pris en charge", "took it in charge"),
    ("event.status", "a changé l'état :", "changed the status:"),
    (
        "event.assigned",
        "a confié le ticket",
        "assigned the ticket",
    ),
    (
        "event.priority",
        "a changé la priorité :",
        "changed the priority:",
    ),
    ("event.reply", "a écrit", "wrote"),
    ("event.note", "note interne", "internal note"),
    (
        "event.confirmed",
        "a confirmé la réparation",
        "confirmed the fix",
    ),
    (
        "event.reopened",
        "a rouvert le ticket",
        "reopened the ticket",
    ),
    (
        "event.closed_auto",
        "clos automatiquement, sans retour de l'école après résolution",
        "closed automatically, no word from the school after the fix",
    ),
    (
        "event.escalated",
        "échéance en danger ou dépassée : signalé aux administrateurs",
        "deadline at risk or breached: escalated to the administrators",
    ),
    (
        "event.attachment",
        "a ajouté une pièce jointe",
        "added an attachment",
    ),
    (
        "flash.ticket_created",
        "Merci ! Votre signalement est enregistré ; vous suivez ici chaque étape.",
        "Thank you! Your report is saved; follow every step here.",
    ),
    (
        "flash.taken",
        "Ticket pris en charge.",
        "Ticket taken in charge.",
    ),
    ("flash.sent", "Envoyé.", "Sent."),
    (
        "flash.confirmed",
        "Merci, le ticket est clos.",
        "Thank you, the ticket is closed.",
    ),
    (
        "flash.reopened",
        "Le ticket est rouvert.",
        "The ticket is reopened.",
    ),
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
    ("field.week", "Semaine scolaire", "School week"),
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
