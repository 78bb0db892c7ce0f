//! Bounded text fields and the accent-folded search key shared by both databases.

use crate::error::FieldError;

/// A required, trimmed text of at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    bounded(field, v, max)
}

/// An optional trimmed text: empty becomes `None`.
pub fn optional(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => bounded(field, v, max).map(Some),
    }
}

fn bounded(field: &str, v: &str, max: usize) -> Result<String, FieldError> {
    if v.chars().count() > max {
        return Err(FieldError::too_long(field, max));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "control_characters"));
    }
    Ok(v.to_string())
}

/// Whether a class's teacher (as the school typed it: "Mme Durand", "Durand") is the
/// person with this account name ("Claire Durand"): the same words, or one name ending
/// the other, accents and case aside.
pub fn same_person(teacher: &str, account: &str) -> bool {
    let (t, a) = (search_key(teacher), search_key(account));
    let strip = |s: &str| {
        s.strip_prefix("mme ")
            .or_else(|| s.strip_prefix("m. "))
            .or_else(|| s.strip_prefix("m "))
            .unwrap_or(s)
            .trim()
            .to_string()
    };
    let (t, a) = (strip(&t), strip(&a));
    !t.is_empty()
        && !a.is_empty()
        && (t == a || a.ends_with(&format!(" {t}")) || t.ends_with(&format!(" {a}")))
}

/// Lower-case, accents removed, blanks folded: the same key on SQLite and PostgreSQL, so
/// that "ecole" finds "École" whatever the database's collation.
pub fn search_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = true;
    let mut push = |f: char, out: &mut String| {
        if f.is_whitespace() || matches!(f, '-' | '\'' | '’' | '_') {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.extend(f.to_lowercase());
            last_space = false;
        }
    };
    for c in s.chars() {
        match fold_char(c) {
            Some(folded) => folded.chars().for_each(|f| push(f, &mut out)),
            None => push(c, &mut out),
        }
    }
    out.trim_end().to_string()
}

fn fold_char(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ÿ' | 'Ÿ' | 'ý' | 'Ý' => "y",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        _ => return None,
    })
}

/// Deserializes a number given either as a JSON number or as text (a form field), into
/// its text, so that one input type serves both the API and the forms; the parse that
/// follows reports a bad value against the field.
pub fn number_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum NumOrText {
        Int(i64),
        Float(f64),
        Text(String),
    }
    let v: Option<NumOrText> = serde::Deserialize::deserialize(d)?;
    Ok(v.map(|v| match v {
        NumOrText::Int(i) => i.to_string(),
        NumOrText::Float(f) => f.to_string(),
        NumOrText::Text(s) => s,
    }))
}

/// An optional integer from JSON (a number or null) or from a form or query string
/// (text; empty means none). Anything else is an error naming the value.
pub fn opt_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match number_or_text(d)?.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("not a whole number: {s:?}"))),
    }
}

/// An optional yes/no from JSON (a boolean) or from a form or query string ("true",
/// "false", "on", "1", "oui"…; empty means unknown).
pub fn opt_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    let v: Option<B> = serde::Deserialize::deserialize(d)?;
    match v {
        None => Ok(None),
        Some(B::Bool(b)) => Ok(Some(b)),
        Some(B::Text(t)) => match t.trim().to_lowercase().as_str() {
            "" => Ok(None),
            "true" | "1" | "on" | "oui" | "yes" => Ok(Some(true)),
            "false" | "0" | "off" | "non" | "no" => Ok(Some(false)),
            other => Err(serde::de::Error::custom(format!(
                "not yes or no: {other:?}"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_teacher_is_matched_by_name_not_by_a_fragment() {
        assert!(same_person("Mme Durand", "Claire Durand"));
        assert!(same_person("DURAND", "Claire Durand"));
        assert!(same_person("M. Pétit", "Luc Petit"));
        assert!(!same_person("Mme Durand", "Claire Durandal"));
        assert!(!same_person("", "Claire Durand"));
        assert!(!same_person("Mme Martin", "Luc Enseignant"));
    }

    #[test]
    fn folds_accents_and_blanks() {
        assert_eq!(
            search_key("  École  Élémentaire Jean-Jaurès "),
            "ecole elementaire jean jaures"
        );
        assert_eq!(search_key("Cœur"), "coeur");
    }

    #[test]
    fn bounded_text() {
        assert_eq!(required("nom", "  a ", 3).unwrap(), "a");
        assert_eq!(required("nom", "   ", 3).unwrap_err().code, "required");
        assert_eq!(required("nom", "abcd", 3).unwrap_err().code, "too_long");
        assert_eq!(optional("x", Some(""), 3).unwrap(), None);
    }
}
