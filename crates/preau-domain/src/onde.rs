//! Reading the ONDE pupil export a directeur downloads, keeping the least possible: the
//! class label, its level, and a minimal pupil label (first name and the initial of the
//! last name). Birth dates, INE, sex, addresses, guardians and every other column are
//! never copied out of the line they were read from: only the names of the columns left
//! aside are reported, so that the page can say what was dropped. Pure.

use crate::error::FieldError;
use crate::org::Levels;
use crate::text::search_key;

/// The header of the pupil extraction as EOLE Scribe's import tests and directeurs' files
/// show it (domain brief §3.3): every column an export may carry.
pub const EXPORT_HEADER: &str = "Nom élève;Nom d'usage élève;Prénom élève;Date naissance;Sexe;INE;Adresse1;Cp1;Commune1;Pays1;Adresse2;Cp2;Commune2;Pays2; Cycle;Niveau;Libellé classe;Identifiant classe;Attestation fournie;Autorisation associations;Autorisation photo;Décision de passage";

/// One pupil as Préau keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OndePupil {
    /// The line of the file (1 is the header), for error messages.
    pub line: usize,
    pub class_label: String,
    /// Levels as Préau writes them (`CE1`, `CE1-CE2`).
    pub levels: String,
    /// `Lina B.`
    pub label: String,
    /// What recognises the same pupil in the next export: the caller's keyed digest of
    /// the folded first and family names (see `parse_keyed`); the names themselves are
    /// not kept.
    pub key: String,
}

/// What a file held, once reduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OndeFile {
    pub pupils: Vec<OndePupil>,
    /// The headers of the columns that were read and dropped (`Date naissance`, `INE`…).
    pub dropped_columns: Vec<String>,
}

/// The pupil label: the first name as written, and the initial of the name in use (or
/// of the family name). "  lina " + "Bernard" → "Lina B.".
pub fn pupil_label(first: &str, last: &str) -> String {
    let first = first.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = first.chars();
    let first = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    match last.trim().chars().find(|c| c.is_alphabetic()) {
        Some(i) => format!("{first} {}.", i.to_uppercase()),
        None => first,
    }
}

/// The level of an ONDE line: its `Niveau` (`CE2`, `GS`…), checked as Préau's levels.
fn levels_of(line: usize, v: &str) -> Result<String, FieldError> {
    Levels::parse(&format!("line {line}"), v).map(|l| l.code())
}

/// Reads an export (`;`-separated, the caller has decoded ISO-8859-1 or UTF-8). Every bad
/// line is reported, naming it; nothing is returned when any line is bad. The match key
/// is the folded label itself (see `parse_keyed` for a digest of the full names).
pub fn parse(text: &str) -> Result<OndeFile, Vec<FieldError>> {
    parse_keyed(text, &|_, _| String::new())
}

/// Like `parse`, with `key(first, family)` computing each pupil's match key from the
/// folded first and family names (a keyed digest: the names never leave the line). An
/// empty key falls back to the folded label.
pub fn parse_keyed(
    text: &str,
    key: &dyn Fn(&str, &str) -> String,
) -> Result<OndeFile, Vec<FieldError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    let header: Vec<String> = match lines.next() {
        Some((_, h)) => h.split(';').map(|c| c.trim().to_string()).collect(),
        None => return Err(vec![FieldError::new("file", "onde_columns")]),
    };
    let keys: Vec<String> = header.iter().map(|h| search_key(h)).collect();
    let col = |names: &[&str]| keys.iter().position(|k| names.contains(&k.as_str()));
    let first = col(&["prenom eleve", "prenom"]);
    let usage = col(&["nom d'usage eleve", "nom d usage eleve", "nom d'usage"]);
    let family = col(&["nom eleve", "nom de famille eleve", "nom"]);
    let level = col(&["niveau"]);
    let class = col(&["libelle classe", "classe"]);
    let (Some(first), Some(level), Some(class)) = (first, level, class) else {
        return Err(vec![FieldError::new("file", "onde_columns")]);
    };
    let kept = [Some(first), usage, family, Some(level), Some(class)];
    let dropped_columns = header
        .iter()
        .enumerate()
        .filter(|(i, h)| !kept.contains(&Some(*i)) && !h.is_empty())
        .map(|(_, h)| h.clone())
        .collect();
    let mut pupils = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in lines {
        let n = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split(';').collect();
        let get = |c: Option<usize>| {
            c.and_then(|c| fields.get(c))
                .map(|v| v.trim())
                .unwrap_or("")
        };
        let (f, c, l) = (get(Some(first)), get(Some(class)), get(Some(level)));
        if f.is_empty() || c.is_empty() {
            errors.push(FieldError::new(format!("line {n}"), "onde_line"));
            continue;
        }
        let levels = match levels_of(n, l) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let last = match get(usage) {
            "" => get(family),
            u => u,
        };
        let family_name = match get(family) {
            "" => last,
            v => v,
        };
        let label: String = pupil_label(f, last).chars().take(80).collect();
        let digest = key(&search_key(f), &search_key(family_name));
        pupils.push(OndePupil {
            line: n,
            class_label: c.chars().take(80).collect(),
            levels,
            key: if digest.is_empty() {
                search_key(&label)
            } else {
                digest
            },
            label,
        });
    }
    if errors.is_empty() {
        Ok(OndeFile {
            pupils,
            dropped_columns,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = "Nom élève;Nom d'usage élève;Prénom élève;Date naissance;Sexe;INE;Adresse1;Cp1;Commune1;Pays1;Adresse2;Cp2;Commune2;Pays2; Cycle;Niveau;Libellé classe;Identifiant classe;Attestation fournie;Autorisation associations;Autorisation photo;Décision de passage\n\
        BERNARD;;lina;14/03/2018;F;1234567890A;12 rue des Lilas;78990;Val-d'Élancourt;FRANCE;;;;; CYCLE II;CE2;CE2 — Mme Martin;99999;Oui;Non;Oui;\n\
        DUPONT;MARTIN-DUPONT;Noé;02/11/2017;M;0987654321B;3 allée des Chênes;78990;Val-d'Élancourt;FRANCE;;;;; CYCLE III;CM1;CM1-CM2 — M. Petit;99998;Oui;Oui;Oui;\n";

    #[test]
    fn a_full_export_keeps_only_class_level_and_label() {
        let f = parse(EXPORT).unwrap();
        assert_eq!(f.pupils.len(), 2);
        assert_eq!(f.pupils[0].label, "Lina B.");
        assert_eq!(f.pupils[0].class_label, "CE2 — Mme Martin");
        assert_eq!(f.pupils[0].levels, "CE2");
        assert_eq!(f.pupils[1].label, "Noé M.", "the name in use wins");
        // Nothing else survives: not the birth date, the INE, the address or the sex.
        let kept = format!("{:?}", f.pupils);
        for gone in [
            "14/03/2018",
            "1234567890A",
            "0987654321B",
            "Lilas",
            "78990",
            "BERNARD",
            "DUPONT",
            "Oui",
        ] {
            assert!(!kept.contains(gone), "{gone} kept: {kept}");
        }
        assert!(f.dropped_columns.iter().any(|c| c == "Date naissance"));
        assert!(f.dropped_columns.iter().any(|c| c == "INE"));
    }

    #[test]
    fn bad_lines_are_named_and_nothing_is_returned() {
        let text = "Nom élève;Prénom élève;Niveau;Libellé classe\nA;Zoé;CE1;CE1 A\nB;;CE1;CE1 A\nC;Léo;6e bis;CE1 A\n";
        let errs = parse(text).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["line 3", "line 4"]);
        assert_eq!(parse("a;b\n1;2\n").unwrap_err()[0].code, "onde_columns");
        assert_eq!(pupil_label("  jean  paul ", "é"), "Jean paul É.");
    }
}
