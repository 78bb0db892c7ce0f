//! Validation errors that name the offending field, in French and English.

use serde::Serialize;
use std::fmt;

/// The two interface languages. French is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fr" | "fr-fr" => Some(Lang::Fr),
            "en" | "en-gb" | "en-us" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
}

/// One invalid field: `field` is the input's name as the caller sent it, `code` a stable
/// machine-readable reason, `max` the limit where one applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
    /// What the message names beyond the field: who already holds a slot, say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> FieldError {
        FieldError {
            field: field.into(),
            code,
            max: None,
            detail: None,
        }
    }

    pub fn too_long(field: impl Into<String>, max: usize) -> FieldError {
        FieldError {
            field: field.into(),
            code: "too_long",
            max: Some(max),
            detail: None,
        }
    }

    /// Adds what the message names (the holder of a slot, the class a kit is lent to).
    pub fn with_detail(mut self, detail: impl Into<String>) -> FieldError {
        self.detail = Some(detail.into());
        self
    }

    /// Renames the field, for callers whose input names differ from the domain's.
    pub fn at(mut self, field: impl Into<String>) -> FieldError {
        self.field = field.into();
        self
    }

    /// The human message in the given language.
    pub fn message(&self, lang: Lang) -> String {
        let max = self.max.unwrap_or(0);
        let detail = self.detail.as_deref().unwrap_or("");
        let (fr, en): (String, String) = match self.code {
            "required" => ("Ce champ est obligatoire.".into(), "This field is required.".into()),
            "too_long" => (
                format!("Ce champ dépasse {max} caractères."),
                format!("This field is longer than {max} characters."),
            ),
            "uai_format" => (
                "Un UAI compte 7 chiffres suivis d'une lettre (ex. 0781234X).".into(),
                "A UAI is 7 digits followed by a letter (e.g. 0781234X).".into(),
            ),
            "uai_check_letter" => (
                "La lettre de contrôle de cet UAI est fausse.".into(),
                "This UAI's check letter is wrong.".into(),
            ),
            "uai_taken" => (
                "Une école porte déjà cet UAI.".into(),
                "A school already has this UAI.".into(),
            ),
            "unknown_value" => (
                "Valeur inconnue pour ce champ.".into(),
                "Unknown value for this field.".into(),
            ),
            "not_a_number" => (
                "Un nombre entier est attendu.".into(),
                "A whole number is expected.".into(),
            ),
            "out_of_range" => (
                "Cette valeur est hors des limites permises.".into(),
                "This value is out of the allowed range.".into(),
            ),
            "not_a_date" => (
                "Une date au format AAAA-MM-JJ est attendue.".into(),
                "A date in the YYYY-MM-DD format is expected.".into(),
            ),
            "dates_order" => (
                "La date de fin doit suivre la date de début.".into(),
                "The end date must come after the start date.".into(),
            ),
            "name_taken" => (
                "Ce nom est déjà utilisé ici.".into(),
                "This name is already used here.".into(),
            ),
            "login_taken" => (
                "Cet identifiant est déjà pris.".into(),
                "This login is already taken.".into(),
            ),
            "login_format" => (
                "Identifiant : lettres minuscules, chiffres, points, tirets (3 à 64).".into(),
                "Login: lower-case letters, digits, dots, dashes (3 to 64).".into(),
            ),
            "password_too_short" => (
                "Le mot de passe doit compter au moins 10 caractères.".into(),
                "The password must be at least 10 characters long.".into(),
            ),
            "secret_too_short" => (
                "Le secret des agents doit compter au moins 16 caractères (laissez vide pour que Préau en crée un).".into(),
                "The agents' secret must be at least 16 characters long (leave it empty for Préau to make one).".into(),
            ),
            "password_mismatch" => (
                "Les deux mots de passe diffèrent.".into(),
                "The two passwords differ.".into(),
            ),
            "wrong_password" => (
                "Mot de passe actuel incorrect.".into(),
                "Current password is wrong.".into(),
            ),
            "scope_required" => (
                "Ce rôle demande un périmètre (école ou prestataire).".into(),
                "This role needs a scope (school or contractor).".into(),
            ),
            "not_in_collectivite" => (
                "Cet objet n'existe pas dans votre collectivité.".into(),
                "This object does not exist in your collectivité.".into(),
            ),
            "version_conflict" => (
                "Quelqu'un a modifié cette fiche entre-temps. Rechargez-la et refaites vos changements.".into(),
                "Someone changed this record in the meantime. Reload it and make your changes again.".into(),
            ),
            "bad_encoding" => (
                "Le fichier n'est pas en UTF-8 (enregistré par Excel en Windows-1252 ?). Réenregistrez-le en « CSV UTF-8 ».".into(),
                "The file is not UTF-8 (saved by Excel as Windows-1252?). Save it again as \"CSV UTF-8\".".into(),
            ),
            "insee_format" => (
                "Code INSEE invalide : 5 caractères (ex. 78208, ou 2A004 en Corse).".into(),
                "Invalid INSEE code: 5 characters (e.g. 78208, or 2A004 in Corsica).".into(),
            ),
            "price_format" => (
                "Montant invalide : en euros, par exemple 399,90.".into(),
                "Invalid amount: in euros, for example 399.90.".into(),
            ),
            "date_format" => (
                "Date invalide : JJ/MM/AAAA ou AAAA-MM-JJ.".into(),
                "Invalid date: DD/MM/YYYY or YYYY-MM-DD.".into(),
            ),
            "ip_range_format" => (
                "Plage d'adresses invalide : par exemple 10.78.12.0/24.".into(),
                "Invalid address range: for example 10.78.12.0/24.".into(),
            ),
            "invalid_characters" => (
                "Caractères non autorisés.".into(),
                "Characters not allowed.".into(),
            ),
            "too_many" => ("Trop de valeurs.".into(), "Too many values.".into()),
            "changed_since" => (
                "La classe ou les tablettes ont changé depuis l'aperçu : voici le nouveau, à vérifier."
                    .into(),
                "The class or the tablets changed since the preview: here is the new one, to check."
                    .into(),
            ),
            "undo_too_late" => (
                "Ces prêts ne peuvent plus être annulés ici (plus de 30 minutes, déjà rendus, ou faits par quelqu'un d'autre) : rendez-les un par un."
                    .into(),
                "These loans can no longer be undone here (over 30 minutes, already returned, or made by someone else): return them one by one."
                    .into(),
            ),
            "room_other_school" => (
                "Cette salle n'est pas dans l'école choisie.".into(),
                "This room is not in the chosen school.".into(),
            ),
            "asset_tag_taken" => (
                "Ce numéro d'inventaire est déjà utilisé.".into(),
                "This asset tag is already used.".into(),
            ),
            "before_purchase" => (
                "La fin de garantie précède la date d'achat.".into(),
                "The warranty ends before the purchase date.".into(),
            ),
            "not_a_container" => (
                "Ce matériel n'est pas une classe mobile.".into(),
                "This device is not a mobile classroom.".into(),
            ),
            "calendar_columns" => (
                "Ce fichier n'a pas les colonnes du calendrier scolaire officiel (description;start_date;end_date;zones…).".into(),
                "This file lacks the official school calendar columns (description;start_date;end_date;zones…).".into(),
            ),
            "duration_format" => (
                "Durée invalide : par exemple 4h, 90m ou 2d (jours ouvrés).".into(),
                "Invalid duration: for example 4h, 90m or 2d (working days).".into(),
            ),
            "email_format" => (
                "Adresse e-mail invalide (exemple : prenom.nom@mairie.fr).".into(),
                "Invalid e-mail address (example: first.last@town.fr).".into(),
            ),
            "in_use" => (
                "Cet objet est encore utilisé ailleurs.".into(),
                "This object is still used elsewhere.".into(),
            ),
            "room_in_use" => (
                "Cette salle a encore des classes, du matériel, des signalements, des séances de visio ou une ressource réservable : déplacez-les avant de la supprimer.".into(),
                "This room still has classes, equipment, tickets, visio sessions or a bookable resource: move them before deleting it.".into(),
            ),
            "class_in_use" => (
                "Cette classe a des séances de visio ou des réservations : elle ne peut pas être supprimée.".into(),
                "This class has visio sessions or bookings: it cannot be deleted.".into(),
            ),
            "status_move" => (
                "Ce changement d'état n'est pas possible depuis l'état actuel.".into(),
                "This change of status is not possible from the current one.".into(),
            ),
            "already_taken" => (
                "Quelqu'un d'autre vient de prendre ce ticket en charge. Rechargez la page pour voir qui.".into(),
                "Someone else has just taken this ticket. Reload the page to see who.".into(),
            ),
            "ticket_closed" => (
                "Ce ticket est résolu ou clos.".into(),
                "This ticket is resolved or closed.".into(),
            ),
            "file_too_large" => (
                "Fichier trop lourd : 8 Mo au plus.".into(),
                "File too large: 8 MB at most.".into(),
            ),
            "file_type" => (
                "Type de fichier refusé : photo (JPEG, PNG, WebP) ou PDF seulement.".into(),
                "File type refused: photo (JPEG, PNG, WebP) or PDF only.".into(),
            ),
            "time_format" => (
                "Heure invalide : par exemple 08:00.".into(),
                "Invalid time: for example 08:00.".into(),
            ),
            "month_format" => (
                "Mois invalide : par exemple 2026-03.".into(),
                "Invalid month: for example 2026-03.".into(),
            ),
            "one_school" => (
                "Une intervention regroupe des signalements d'une seule école.".into(),
                "A visit groups reports of one school only.".into(),
            ),
            "onde_columns" => (
                "Ce fichier n'a pas les colonnes d'une extraction ONDE des élèves (Prénom élève;Niveau;Libellé classe…).".into(),
                "This file lacks the columns of an ONDE pupil export (Prénom élève;Niveau;Libellé classe…).".into(),
            ),
            "onde_line" => (
                "Ligne incomplète : prénom et classe sont nécessaires.".into(),
                "Incomplete line: first name and class are needed.".into(),
            ),
            "device_unknown" => (
                "Aucun appareil n'a ce numéro d'inventaire ou de série.".into(),
                "No device has this asset tag or serial number.".into(),
            ),
            "device_other_school" => (
                "Cet appareil est inventorié dans une autre école.".into(),
                "This device is in another school's inventory.".into(),
            ),
            "device_ambiguous" => (
                "Plusieurs appareils ont ce numéro : scannez l'étiquette Préau ou tapez le numéro d'inventaire.".into(),
                "Several devices have this number: scan the Préau label or type the asset tag.".into(),
            ),
            "device_unavailable" => (
                "Cet appareil n'est pas disponible (en réparation, commandé, perdu, volé ou réformé).".into(),
                "This device is not available (under repair, ordered, lost, stolen or retired).".into(),
            ),
            "cart_to_class" => (
                "Une classe mobile se prête à une classe, pas à une personne.".into(),
                "A mobile classroom is lent to a class, not to a person.".into(),
            ),
            "device_on_loan" => (
                "Cet appareil est déjà prêté : enregistrez d'abord son retour.".into(),
                "This device is already on loan: record its return first.".into(),
            ),
            "pupil_gone" => (
                "Cet élève a quitté l'école ou n'est plus connu.".into(),
                "This pupil has left the school or is no longer known.".into(),
            ),
            "pupil_has_device" => (
                "Cet élève a déjà une tablette.".into(),
                "This pupil already has a tablet.".into(),
            ),
            "loan_returned" => (
                "Ce prêt est déjà terminé.".into(),
                "This loan has already ended.".into(),
            ),
            "class_has_pupils" => (
                "Cette classe a des élèves ou des prêts : elle ne peut pas être supprimée.".into(),
                "This class has pupils or loans: it cannot be deleted.".into(),
            ),
            "duplicate" => (
                "Cette valeur est en double.".into(),
                "This value is duplicated.".into(),
            ),
            "password_contains_login" => (
                "Le mot de passe ne doit contenir ni l'identifiant ni le nom de la personne.".into(),
                "The password must not contain the person's login or name.".into(),
            ),
            "password_common" => (
                "Ce mot de passe est trop courant : un mot du dictionnaire ou des listes de mots de passe volés, même entouré de chiffres ou de symboles.".into(),
                "This password is too common: a dictionary word or one from leaked password lists, even with digits or symbols around it.".into(),
            ),
            "password_weak" => (
                "Ce mot de passe se devine trop facilement (répétitions, suites comme « 1234 » ou « azer ») : allongez-le ou mélangez davantage les caractères, une phrase de quatre mots convient.".into(),
                "This password is too easy to guess (repeats, runs such as \"1234\" or \"qwer\"): make it longer or mix the characters more; a four-word sentence will do.".into(),
            ),
            "bandwidth_format" => (
                "Un débit en Mbit/s est attendu (ex. 100 ou 8,5).".into(),
                "A bandwidth in Mbit/s is expected (e.g. 100 or 8.5).".into(),
            ),
            "campaign_closed" => (
                "Ce recensement est clos : il ne reçoit plus de demandes.".into(),
                "This needs campaign is closed: it takes no more requests.".into(),
            ),
            "already_decided" => (
                "Cette demande a déjà reçu une décision, ou le recensement est clos.".into(),
                "This request has already been decided, or the campaign is closed.".into(),
            ),
            "probe_format" => (
                "Adresse de sonde invalide : tcp://hôte:port (ex. tcp://203.0.113.10:443) ou http://hôte[:port]/chemin.".into(),
                "Invalid probe address: tcp://host:port (e.g. tcp://203.0.113.10:443) or http://host[:port]/path.".into(),
            ),
            "not_started" => (
                "Cette séance n'a pas encore commencé : elle sera notée tenue ou non tenue ensuite.".into(),
                "This session has not started yet: record it held or not afterwards.".into(),
            ),
            "not_class_time" => (
                "Ce créneau n'est pas un temps de classe de l'école (vacances, jour férié, mercredi sans classe, soir…).".into(),
                "This slot is not class time at the school (holidays, public holiday, Wednesday without class, evening…).".into(),
            ),
            "link_format" => (
                "Lien de réunion invalide : une adresse https://… sans espace (celle de l'outil de visio).".into(),
                "Invalid meeting link: an https://… address without spaces (the visio tool's).".into(),
            ),
            "slot_format" => (
                "Créneau invalide : une heure de début et de fin, par exemple 08:30-09:30.".into(),
                "Invalid slot: a start and an end time, for example 08:30-09:30.".into(),
            ),
            "slots_overlap" => (
                "Deux créneaux se chevauchent.".into(),
                "Two slots overlap.".into(),
            ),
            "too_many_slots" => (
                "Trop de créneaux : 12 par jour au plus.".into(),
                "Too many slots: 12 a day at most.".into(),
            ),
            "not_a_slot" => (
                "Ce créneau n'existe pas ce jour-là dans l'école (vacances, jour férié, jour sans classe ou heure hors des créneaux).".into(),
                "This slot does not exist that day at the school (holidays, public holiday, day without class, or a time outside its slots).".into(),
            ),
            "in_past" => (
                "Ce créneau est déjà passé.".into(),
                "This slot is already over.".into(),
            ),
            "before_start" => (
                "Cette date précède la première.".into(),
                "This date is before the first one.".into(),
            ),
            "slot_taken" => (
                format!("Ce créneau est déjà réservé : {detail}."),
                format!("This slot is already booked: {detail}."),
            ),
            "lent_to_class" => (
                format!("Indisponible : prêtée à une classe ({detail})."),
                format!("Unavailable: lent to a class ({detail})."),
            ),
            "not_shared" => (
                "Cette ressource n'est pas partagée avec cette école.".into(),
                "This resource is not shared with this school.".into(),
            ),
            "not_bookable_kind" => (
                "Seul un matériel en service ou une salle peut être réservé.".into(),
                "Only a device in service or a room can be booked.".into(),
            ),
            "already_bookable" => (
                "Ce matériel ou cette salle est déjà réservable.".into(),
                "This device or room is already bookable.".into(),
            ),
            "visit_not_started" => (
                format!("Cette visite est prévue le {detail} : elle pourra être notée réalisée une fois commencée (ou déplacée si elle a eu lieu plus tôt)."),
                format!("This visit is planned on {detail}: it can be recorded done once begun (or moved if it took place earlier)."),
            ),
            "cancelled" => (
                "Cette réservation est déjà annulée.".into(),
                "This booking is already cancelled.".into(),
            ),
            "address_format" => (
                format!("Adresse e-mail invalide : {detail} (exemple : prenom.nom@ac-versailles.fr)."),
                format!("Invalid e-mail address: {detail} (example: first.last@ac-versailles.fr)."),
            ),
            "too_many_addresses" => (
                format!("Au plus {max} adresses à la fois."),
                format!("At most {max} addresses at a time."),
            ),
            "https_url" => (
                "Adresse invalide : https://… (http:// seulement pour un serveur sur cette machine).".into(),
                "Invalid address: https://… (http:// only for a server on this machine).".into(),
            ),
            "ldap_url" => (
                "Adresse de l'annuaire invalide : ldaps://serveur:636 ou ldap://serveur:389 (avec StartTLS).".into(),
                "Invalid directory address: ldaps://server:636 or ldap://server:389 (with StartTLS).".into(),
            ),
            "ldap_tls_required" => (
                "Les mots de passe ne passent jamais en clair : utilisez ldaps:// ou cochez StartTLS.".into(),
                "Passwords never travel in clear: use ldaps:// or tick StartTLS.".into(),
            ),
            "ldap_filter" => (
                "Le filtre doit être entre parenthèses et contenir {login}, par exemple (uid={login}) ou (sAMAccountName={login}).".into(),
                "The filter must be in parentheses and contain {login}, for example (uid={login}) or (sAMAccountName={login}).".into(),
            ),
            "pem_format" => (
                "Certificat illisible : collez un ou plusieurs certificats PEM (-----BEGIN CERTIFICATE-----).".into(),
                "Unreadable certificate: paste one or more PEM certificates (-----BEGIN CERTIFICATE-----).".into(),
            ),
            other => (format!("Valeur invalide ({other})."), format!("Invalid value ({other}).")),
        };
        match lang {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message(Lang::Fr))
    }
}

impl std::error::Error for FieldError {}
