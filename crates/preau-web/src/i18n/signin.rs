//! Signing in without a Préau password: e-mail links, directories, access requests,
//! invitations.

/// `(key, français, English)`, sorted by key.
pub(super) const MESSAGES: &[(&str, &str, &str)] = &[
    (
        "signin.access_intro",
        "Ces personnes se sont identifiées par un annuaire de la collectivité et n'ont pas encore de compte dans Préau. Rattachez-les à un compte existant ou créez le leur avec un rôle, ou refusez.",
        "These people signed in through a directory of the collectivité and have no Préau account yet. Link them to an existing account or create theirs with a role, or refuse.",
    ),
    (
        "signin.access_none",
        "Aucune demande d'accès.",
        "No access request.",
    ),
    ("signin.access_title", "Demandes d'accès", "Access requests"),
    ("signin.admin_title", "Connexion", "Sign-in"),
    (
        "signin.ask_again",
        "Recevoir un nouveau lien",
        "Get a new link",
    ),
    ("signin.asked_on", "Demandé le", "Asked on"),
    (
        "signin.back_to_login",
        "Retour à la connexion",
        "Back to sign-in",
    ),
    (
        "signin.base_dn",
        "Base de recherche (DN)",
        "Search base (DN)",
    ),
    (
        "signin.bind_dn",
        "Compte de service (DN)",
        "Service account (DN)",
    ),
    (
        "signin.bind_password",
        "Mot de passe du compte de service",
        "Service account password",
    ),
    (
        "signin.by_email",
        "Pas de mot de passe ? Recevoir un lien de connexion par e-mail",
        "No password? Get a sign-in link by e-mail",
    ),
    (
        "signin.ca_pem",
        "Certificat de l'autorité (facultatif)",
        "Authority certificate (optional)",
    ),
    (
        "signin.ca_pem_hint",
        "Si l'annuaire a un certificat de votre propre autorité, collez-la ici (format PEM). Sinon, les autorités du système sont utilisées.",
        "If the directory's certificate comes from your own authority, paste it here (PEM). Otherwise, the system's authorities are used.",
    ),
    (
        "signin.cas_url_hint",
        "L'adresse de base du serveur CAS, sans /login.",
        "The CAS server's base address, without /login.",
    ),
    (
        "signin.directories",
        "Annuaires (LDAP, Active Directory)",
        "Directories (LDAP, Active Directory)",
    ),
    (
        "signin.directory_down",
        "L'annuaire ne répond pas pour le moment. Réessayez dans quelques minutes, ou demandez un lien de connexion par e-mail.",
        "The directory is not answering right now. Try again in a few minutes, or ask for a sign-in link by e-mail.",
    ),
    (
        "signin.email_intro",
        "Saisissez votre adresse e-mail : si elle correspond à un compte, vous recevrez un lien de connexion valable 15 minutes.",
        "Enter your e-mail address: if it matches an account, you will receive a sign-in link valid for 15 minutes.",
    ),
    (
        "signin.email_links",
        "Connexion par lien envoyé par e-mail",
        "Sign-in by a link sent by e-mail",
    ),
    (
        "signin.email_links_hint",
        "Pour les enseignants et toute personne sans compte dans l'annuaire : un lien à usage unique, valable 15 minutes.",
        "For teachers and anyone without a directory account: a one-time link, valid for 15 minutes.",
    ),
    (
        "signin.email_sent",
        "C'est envoyé. Si cette adresse correspond à un compte, un lien de connexion vient de partir : il est valable 15 minutes. Pensez à regarder dans les indésirables.",
        "Sent. If this address matches an account, a sign-in link is on its way: it is valid for 15 minutes. Check your spam folder too.",
    ),
    (
        "signin.email_submit",
        "Recevoir le lien",
        "Send me the link",
    ),
    (
        "signin.email_title",
        "Connexion par e-mail",
        "Sign in by e-mail",
    ),
    (
        "signin.email_unavailable",
        "Les liens par e-mail ont besoin de l'adresse publique du serveur (--public-url) : demandez-la à la direction du numérique.",
        "E-mail links need the server's public address (--public-url): ask the IT department.",
    ),
    (
        "signin.enabled",
        "Annuaire proposé à la connexion",
        "Directory offered at sign-in",
    ),
    ("signin.filter", "Filtre de recherche", "Search filter"),
    (
        "signin.filter_hint",
        "{login} est remplacé par l'identifiant saisi, protégé. Active Directory : (sAMAccountName={login}).",
        "{login} is replaced by the login typed, escaped. Active Directory: (sAMAccountName={login}).",
    ),
    ("signin.grant", "Accorder l'accès", "Grant access"),
    ("signin.grant_existing", "Compte", "Account"),
    (
        "signin.grant_new_account",
        "Créer un nouveau compte",
        "Create a new account",
    ),
    (
        "signin.grant_role",
        "Rôle (pour un nouveau compte)",
        "Role (for a new account)",
    ),
    (
        "signin.invite_addresses",
        "Adresses e-mail",
        "E-mail addresses",
    ),
    (
        "signin.invite_hint",
        "Une adresse par ligne (ou séparées par des virgules), 40 au plus. Par exemple prenom.nom@ac-versailles.fr.",
        "One address per line (or comma-separated), 40 at most. For example first.last@ac-versailles.fr.",
    ),
    (
        "signin.invite_intro",
        "Chaque personne invitée reçoit un e-mail : elle se connecte avec un lien envoyé à son adresse, sans mot de passe. Elle pourra signaler les problèmes de l'école et réserver le matériel.",
        "Each person invited gets an e-mail: they sign in with a link sent to their address, no password. They can report the school's problems and book equipment.",
    ),
    (
        "signin.invite_none",
        "Aucun enseignant n'a encore de compte.",
        "No teacher has an account yet.",
    ),
    ("signin.invite_submit", "Inviter", "Invite"),
    (
        "signin.invite_teachers",
        "Enseignants de l'école dans Préau",
        "The school's teachers in Préau",
    ),
    (
        "signin.invite_title",
        "Inviter des enseignants",
        "Invite teachers",
    ),
    ("signin.invite_who", "Qui inviter ?", "Whom to invite?"),
    (
        "signin.invited_added",
        "compte existant, rôle d'enseignant ajouté",
        "existing account, teacher role added",
    ),
    (
        "signin.invited_already",
        "avait déjà accès",
        "already had access",
    ),
    ("signin.invited_created", "invité(e)", "invited"),
    (
        "signin.issuer_hint",
        "L'adresse de l'émetteur (issuer) : Préau y lit /.well-known/openid-configuration.",
        "The issuer's address: Préau reads /.well-known/openid-configuration there.",
    ),
    ("signin.kind_cas", "CAS", "CAS"),
    (
        "signin.kind_ldap",
        "Annuaire LDAP / Active Directory",
        "LDAP / Active Directory directory",
    ),
    ("signin.kind_oidc", "OpenID Connect", "OpenID Connect"),
    (
        "signin.label_hint",
        "Ce que les personnes voient sur la page de connexion, par exemple « Compte de la mairie » ou « ENT ».",
        "What people see on the sign-in page, for example “Town hall account” or “ENT”.",
    ),
    (
        "signin.link_expired",
        "Ce lien a expiré (il était valable 15 minutes). Demandez-en un nouveau.",
        "This link has expired (it was valid for 15 minutes). Ask for a new one.",
    ),
    (
        "signin.link_text",
        "Ce lien vous connecte à Préau. Il ne sert qu'une fois.",
        "This link signs you in to Préau. It works only once.",
    ),
    ("signin.link_title", "Lien de connexion", "Sign-in link"),
    (
        "signin.link_unknown",
        "Ce lien n'ouvre rien. Demandez un nouveau lien.",
        "This link opens nothing. Ask for a new link.",
    ),
    (
        "signin.link_used",
        "Ce lien a déjà servi. Demandez-en un nouveau.",
        "This link has already been used. Ask for a new one.",
    ),
    (
        "signin.local_account",
        "Compte Préau (mot de passe Préau)",
        "Préau account (Préau password)",
    ),
    (
        "signin.local_passwords",
        "Mots de passe Préau pour tous",
        "Préau passwords for everyone",
    ),
    (
        "signin.local_passwords_hint",
        "Décoché, seuls les administrateurs gardent leur mot de passe Préau (l'accès de secours si l'annuaire est indisponible) ; les autres passent par l'annuaire ou un lien par e-mail.",
        "Unticked, only administrators keep their Préau password (the way in if the directory is down); everyone else goes through the directory or an e-mail link.",
    ),
    (
        "signin.login_attribute",
        "Attribut identifiant",
        "Login attribute",
    ),
    (
        "signin.mail_attribute",
        "Attribut e-mail",
        "E-mail attribute",
    ),
    (
        "signin.match_by",
        "Reconnaître les personnes par",
        "Recognise people by",
    ),
    (
        "signin.match_email",
        "leur adresse e-mail",
        "their e-mail address",
    ),
    (
        "signin.match_login",
        "leur identifiant (le même dans Préau)",
        "their login (the same in Préau)",
    ),
    (
        "signin.match_subject",
        "personne : chaque première connexion devient une demande d'accès",
        "nobody: each first sign-in becomes an access request",
    ),
    (
        "signin.methods",
        "Façons de se connecter",
        "Ways to sign in",
    ),
    (
        "signin.name_attribute",
        "Attribut nom affiché",
        "Display name attribute",
    ),
    (
        "signin.no_directory",
        "Aucun annuaire ni fournisseur : chacun se connecte avec son mot de passe Préau ou un lien par e-mail.",
        "No directory: everyone signs in with their Préau password or an e-mail link.",
    ),
    (
        "signin.or_password",
        "ou avec un identifiant et un mot de passe :",
        "or with a login and password:",
    ),
    ("signin.provider", "Annuaire", "Directory"),
    (
        "signin.provider_new",
        "Ajouter un annuaire",
        "Add a directory",
    ),
    (
        "signin.provider_new_cas",
        "Ajouter un serveur CAS",
        "Add a CAS server",
    ),
    (
        "signin.provider_new_oidc",
        "Ajouter un fournisseur OpenID Connect",
        "Add an OpenID Connect provider",
    ),
    ("signin.provider_title", "Annuaire", "Directory"),
    (
        "signin.redirect_uri",
        "Adresse de retour à déclarer chez le fournisseur :",
        "Redirect address to register with the provider:",
    ),
    ("signin.refuse", "Refuser", "Refuse"),
    (
        "signin.refused_text",
        "Votre accès à Préau n'est pas ouvert. Si c'est une erreur, contactez la direction du numérique de votre collectivité.",
        "Your access to Préau is not open. If this is a mistake, contact your collectivité's IT department.",
    ),
    (
        "signin.refused_title",
        "Accès non ouvert",
        "Access not open",
    ),
    (
        "signin.requested_text",
        "L'annuaire vous a bien reconnu(e), mais vous n'avez pas encore de compte dans Préau. Votre demande d'accès est transmise à l'administrateur : vous recevrez un e-mail quand elle sera acceptée.",
        "The directory recognised you, but you have no Préau account yet. Your access request has been passed to the administrator: you will get an e-mail once it is accepted.",
    ),
    (
        "signin.requested_title",
        "Demande d'accès envoyée",
        "Access request sent",
    ),
    (
        "signin.secret_kept",
        "Laissez vide pour garder le secret enregistré.",
        "Leave empty to keep the stored secret.",
    ),
    ("signin.source", "Se connecter avec", "Sign in with"),
    (
        "signin.sso_expired",
        "Cette connexion a expiré ou a déjà servi (10 minutes au plus). Recommencez depuis la page de connexion.",
        "This sign-in has expired or was already used (10 minutes at most). Start again from the sign-in page.",
    ),
    (
        "signin.sso_failed",
        "La connexion n'a pas abouti. Réessayez, ou connectez-vous autrement.",
        "The sign-in did not go through. Try again, or sign in another way.",
    ),
    ("signin.sso_title", "Connexion", "Sign-in"),
    (
        "signin.sso_unavailable",
        "Cette connexion a besoin de l'adresse publique du serveur (--public-url) : demandez-la à la direction du numérique.",
        "This sign-in needs the server's public address (--public-url): ask the IT department.",
    ),
    ("signin.sso_with", "Se connecter avec", "Sign in with"),
    (
        "signin.starttls",
        "StartTLS (pour une adresse ldap://)",
        "StartTLS (for an ldap:// address)",
    ),
    ("signin.status_granted", "accordée", "granted"),
    ("signin.status_refused", "refusée", "refused"),
    ("signin.status_waiting", "en attente", "waiting"),
];
