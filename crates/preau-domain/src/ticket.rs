//! Tickets (signalements) and the rules of their life: what a teacher can report, how
//! bad it is, the statuses a ticket goes through and who may move it where. The SLA
//! clocks and penalties that run on tickets are in `sla`.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Lang};
use crate::org::code_enum;

code_enum!(
    /// What is wrong, in the words a teacher uses (each with a picture in the form).
    TicketCategory {
        Ecran = "ecran" => ("Écran, TNI ou vidéoprojecteur", "Screen, whiteboard or projector"),
        Ordinateur = "ordinateur" => ("Ordinateur", "Computer"),
        Tablette = "tablette" => ("Tablette ou classe mobile", "Tablet or mobile classroom"),
        Reseau = "reseau" => ("Internet ou Wi-Fi", "Internet or Wi-Fi"),
        Imprimante = "imprimante" => ("Imprimante", "Printer"),
        SonVisio = "son_visio" => ("Son ou visio", "Sound or video call"),
        Autre = "autre" => ("Autre chose", "Something else"),
    }
);

impl TicketCategory {
    /// The device categories (inventory codes) a report of this kind is about: routing
    /// looks for the contract lot whose perimeter covers one of them.
    pub fn device_categories(self) -> &'static [&'static str] {
        match self {
            TicketCategory::Ecran => &["tni", "vpi", "eni", "videoprojecteur", "visualiseur"],
            TicketCategory::Ordinateur => &["poste_enseignant", "portable", "pc_fixe"],
            TicketCategory::Tablette => &["tablette", "classe_mobile"],
            TicketCategory::Reseau => &["borne_wifi", "switch", "routeur"],
            TicketCategory::Imprimante => &["imprimante"],
            TicketCategory::SonVisio => &["kit_visio"],
            TicketCategory::Autre => &["robot", "telephone", "autre"],
        }
    }

    /// The report category a device's inventory category suggests.
    pub fn for_device_category(code: &str) -> TicketCategory {
        TicketCategory::ALL
            .iter()
            .copied()
            .find(|c| c.device_categories().contains(&code))
            .unwrap_or(TicketCategory::Autre)
    }
}

code_enum!(
    /// How bad it is. The first three are what a teacher chooses; `P4` is planned work
    /// the collectivité opens itself (a lamp to change, a preventive visit).
    Priority {
        P1 = "p1" => ("La classe ne peut pas travailler", "The class cannot work"),
        P2 = "p2" => ("Gênant", "A nuisance"),
        P3 = "p3" => ("Une demande", "A request"),
        P4 = "p4" => ("Travaux planifiés", "Planned work"),
    }
);

impl Priority {
    /// The short label support staff use (P1 classe bloquée…).
    pub fn short(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Priority::P1, Lang::Fr) => "P1 · classe bloquée",
            (Priority::P2, Lang::Fr) => "P2 · dégradé",
            (Priority::P3, Lang::Fr) => "P3 · demande",
            (Priority::P4, Lang::Fr) => "P4 · planifié",
            (Priority::P1, Lang::En) => "P1 · class blocked",
            (Priority::P2, Lang::En) => "P2 · degraded",
            (Priority::P3, Lang::En) => "P3 · request",
            (Priority::P4, Lang::En) => "P4 · planned",
        }
    }

    /// What a reporter may choose (planned work is not reported, it is planned).
    pub const REPORTED: &'static [Priority] = &[Priority::P1, Priority::P2, Priority::P3];
}

code_enum!(
    /// Where a ticket stands.
    TicketStatus {
        Nouveau = "nouveau" => ("Nouveau", "New"),
        PrisEnCharge = "pris_en_charge" => ("Pris en charge", "Acknowledged"),
        Planifie = "planifie" => ("Intervention planifiée", "Visit planned"),
        EnCours = "en_cours" => ("En cours", "In progress"),
        AttenteEcole = "attente_ecole" => ("En attente de l'école", "Waiting on the school"),
        AttentePiece = "attente_piece" => ("En attente d'une pièce", "Waiting for a part"),
        AttentePrestataire = "attente_prestataire" => ("En attente du prestataire", "Waiting on the contractor"),
        Resolu = "resolu" => ("Résolu", "Resolved"),
        Clos = "clos" => ("Clos", "Closed"),
    }
);

impl TicketStatus {
    /// Statuses where someone still has work to do.
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolu | TicketStatus::Clos)
    }

    /// Only waiting on the school stops the contract's clocks: a missing part or a late
    /// contractor is the contractor's own delay.
    pub fn pauses_clock(self) -> bool {
        self == TicketStatus::AttenteEcole
    }

    /// Whether the ticket has been taken in charge (the GTI clock stops there).
    pub fn is_taken(self) -> bool {
        self != TicketStatus::Nouveau
    }

    /// The statuses a handler (technician, contractor, administrator) may set from this
    /// one. Resolving is one of them; closing and reopening belong to the school.
    pub fn handler_moves(self) -> &'static [TicketStatus] {
        use TicketStatus::*;
        match self {
            Nouveau => &[PrisEnCharge, Planifie, EnCours, AttenteEcole, Resolu],
            PrisEnCharge | Planifie | EnCours | AttenteEcole | AttentePiece
            | AttentePrestataire => &[
                PrisEnCharge,
                Planifie,
                EnCours,
                AttenteEcole,
                AttentePiece,
                AttentePrestataire,
                Resolu,
            ],
            Resolu | Clos => &[],
        }
    }

    /// Checks a handler's move; the error names the status field.
    pub fn check_move(self, to: TicketStatus) -> Result<(), FieldError> {
        if self == to || !self.handler_moves().contains(&to) {
            return Err(FieldError::new("status", "status_move"));
        }
        Ok(())
    }
}

/// Who a ticket is with: the collectivité's technician (a user) or a contract lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Assignee {
    User(i64),
    Lot(i64),
}

impl Assignee {
    /// `user:12` / `lot:3`, as forms send it.
    pub fn parse(field: &str, s: &str) -> Result<Option<Assignee>, FieldError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let bad = || FieldError::new(field, "unknown_value");
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        match kind {
            "user" => Ok(Some(Assignee::User(id))),
            "lot" => Ok(Some(Assignee::Lot(id))),
            _ => Err(bad()),
        }
    }

    pub fn code(self) -> String {
        match self {
            Assignee::User(id) => format!("user:{id}"),
            Assignee::Lot(id) => format!("lot:{id}"),
        }
    }
}

/// An attachment's type, recognised by its first bytes (never by the name or the
/// browser's word): photos and PDF scans only.
pub fn attachment_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// The extension a file of a recognised type is saved and offered under.
pub fn extension(kind: &str) -> &'static str {
    match kind {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

/// An uploaded file's name made safe to keep, show and offer: no control, invisible or
/// bidirectional characters (`U+202E` turns `gpj.exe` around), no path or quote, at most
/// 120 characters, and the extension of the type its bytes were recognised as — a JPEG
/// named `poly.html` is kept as `poly.jpg`. `fallback` names a file sent without a name.
pub fn upload_name(name: &str, kind: &str, fallback: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '/' | '\\' | '"' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}')
        })
        .collect();
    let clean = clean.trim();
    // The old extension goes (`photo.JPG`, `poly.html`); a dot inside a name stays.
    let stem = match clean.rsplit_once('.') {
        Some((stem, ext))
            if (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => clean,
    };
    let stem: String = stem
        .trim_start_matches('.')
        .trim()
        .chars()
        .take(110)
        .collect();
    let stem = if stem.trim().is_empty() {
        fallback.to_string()
    } else {
        stem
    };
    format!("{stem}.{}", extension(kind))
}

/// The largest attachment a ticket takes: a phone photo, not a video.
pub const MAX_ATTACHMENT: usize = 8 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_names_lose_what_could_deceive_and_take_their_type() {
        assert_eq!(upload_name("poly.html", "image/jpeg", "photo"), "poly.jpg");
        assert_eq!(
            upload_name("facture\u{202E}fdp.exe", "application/pdf", "x"),
            "facturefdp.pdf"
        );
        assert_eq!(
            upload_name("../../etc/pass\"wd", "image/png", "x"),
            "etcpasswd.png"
        );
        assert_eq!(upload_name("", "image/webp", "photo"), "photo.webp");
        assert_eq!(
            upload_name(".htaccess", "image/jpeg", "photo"),
            "htaccess.jpg"
        );
        assert_eq!(upload_name("...", "image/jpeg", "photo"), "photo.jpg");
        assert_eq!(
            upload_name("Cour d'école.JPG", "image/jpeg", "photo"),
            "Cour d'école.jpg"
        );
        assert!(
            upload_name(&"a".repeat(500), "image/jpeg", "p")
                .chars()
                .count()
                <= 114
        );
    }

    #[test]
    fn reports_find_their_device_categories() {
        assert_eq!(
            TicketCategory::for_device_category("eni"),
            TicketCategory::Ecran
        );
        assert_eq!(
            TicketCategory::for_device_category("classe_mobile"),
            TicketCategory::Tablette
        );
        assert_eq!(
            TicketCategory::for_device_category("inconnu"),
            TicketCategory::Autre
        );
    }

    #[test]
    fn handlers_cannot_close_or_reopen() {
        use TicketStatus::*;
        assert!(Nouveau.check_move(PrisEnCharge).is_ok());
        assert!(EnCours.check_move(Resolu).is_ok());
        assert!(EnCours.check_move(Clos).is_err());
        assert!(Resolu.check_move(EnCours).is_err());
        assert!(Nouveau.check_move(Nouveau).is_err());
        assert!(AttenteEcole.pauses_clock() && !AttentePiece.pauses_clock());
    }

    #[test]
    fn assignees_and_attachments_are_parsed() {
        assert_eq!(
            Assignee::parse("a", "lot:4").unwrap(),
            Some(Assignee::Lot(4))
        );
        assert_eq!(Assignee::parse("a", "").unwrap(), None);
        assert!(Assignee::parse("a", "group:1").is_err());
        assert_eq!(attachment_type(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(attachment_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(attachment_type(b"%PDF-1.7"), Some("application/pdf"));
    }
}
