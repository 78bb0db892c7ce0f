//! Interface text in French (first) and English, one table per feature, each sorted by
//! key. Templates ask `ctx.t("key")`; tests check that every key used in a template or a
//! handler exists, that keys are unique and that each table stays sorted.

use preau_domain::Lang;

mod admin;
mod bookings;
mod common;
mod devices;
mod money;
mod org;
mod pupils;
mod signin;
mod steering;
mod tickets;
mod visio;

/// Every table: `(key, français, English)`, sorted by key.
const TABLES: &[&[(&str, &str, &str)]] = &[
    admin::MESSAGES,
    bookings::MESSAGES,
    common::MESSAGES,
    devices::MESSAGES,
    money::MESSAGES,
    org::MESSAGES,
    pupils::MESSAGES,
    signin::MESSAGES,
    steering::MESSAGES,
    tickets::MESSAGES,
    visio::MESSAGES,
];

/// Every message of every table.
pub fn messages() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TABLES.iter().flat_map(|t| t.iter())
}

fn find(key: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    TABLES.iter().find_map(|t| {
        t.binary_search_by(|(k, _, _)| k.as_bytes().cmp(key.as_bytes()))
            .ok()
            .map(|i| &t[i])
    })
}

/// The text for `key` in `lang`; an unknown key shows itself, which the tests forbid.
/// The text of `key`, or `fallback` when there is none (a code read from stored data that
/// has no words yet).
pub fn t_or(lang: Lang, key: &str, fallback: &str) -> String {
    match find(key) {
        Some((_, fr, en)) => match lang {
            Lang::Fr => fr,
            Lang::En => en,
        }
        .to_string(),
        None => fallback.to_string(),
    }
}

/// A stored field's name in words: its form label (`field.{name}`) when there is one,
/// else the name with spaces.
pub fn field_label(lang: Lang, name: &str) -> String {
    t_or(lang, &format!("field.{name}"), &name.replace('_', " "))
}

pub fn t(lang: Lang, key: &str) -> &'static str {
    match find(key) {
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
                if find(key).is_none() {
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
        let sections: Vec<&str> = messages()
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
                if shaped && find(lit).is_none() {
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
    fn keys_are_unique_and_tables_sorted() {
        let mut keys: Vec<_> = messages().map(|m| m.0).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
        for table in TABLES {
            for pair in table.windows(2) {
                assert!(
                    pair[0].0.as_bytes() < pair[1].0.as_bytes(),
                    "{} before {}: keep the table sorted",
                    pair[0].0,
                    pair[1].0
                );
            }
        }
        // A section (`school.`, `loans.`…) lives in one table only.
        let section = |k: &str| k.split('.').next().unwrap_or(k).to_string();
        for (i, a) in TABLES.iter().enumerate() {
            for b in &TABLES[i + 1..] {
                for (k, _, _) in a.iter() {
                    assert!(
                        !b.iter().any(|(o, _, _)| section(o) == section(k)),
                        "section of {k} is split between tables"
                    );
                }
            }
        }
        // The lookup finds every key, in both languages.
        for (k, fr, en) in messages() {
            assert_eq!(t(Lang::Fr, k), *fr);
            assert_eq!(t(Lang::En, k), *en);
        }
    }
}
