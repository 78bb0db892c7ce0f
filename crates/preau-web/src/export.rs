//! Spreadsheet exports of any list: CSV (`;`, UTF-8 with BOM, as French Excel expects,
//! written by `preau_core::spreadsheet` so that the CLI's exports share it) and XLSX (a
//! minimal Office Open XML workbook, one sheet, text cells), written here rather than with
//! a spreadsheet library: the format needs a zip container and four XML parts.

use flate2::Crc;
use flate2::write::DeflateEncoder;
use std::io::Write;

use axum::http::header;
use axum::response::{IntoResponse, Response};

pub use preau_core::spreadsheet::csv;

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Characters XML 1.0 forbids are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn column(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Rows as an XLSX workbook with one sheet named `title`; the first row (the header) is
/// bold and frozen.
pub fn xlsx(title: &str, rows: &[Vec<String>]) -> Vec<u8> {
    workbook(&[(title.to_string(), rows.to_vec())])
}

/// A cell that is a whole number or an amount with a decimal comma (`1234`, `-5`,
/// `749,00`) and no leading zero (which identifiers keep): stored as a number, so that a
/// spreadsheet sums it.
fn as_number(value: &str) -> Option<String> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (units, decimals) = digits.split_once(',').unwrap_or((digits, ""));
    let units_ok = !units.is_empty()
        && units.len() <= 12
        && units.bytes().all(|b| b.is_ascii_digit())
        && (units == "0" || !units.starts_with('0'));
    let decimals_ok = !value.contains(',')
        || (!decimals.is_empty()
            && decimals.len() <= 2
            && decimals.bytes().all(|b| b.is_ascii_digit()));
    (units_ok && decimals_ok).then(|| value.replace(',', "."))
}

/// How a cell is stored: text, or a value a spreadsheet computes with, shown in its
/// format (a style of `styles.xml`).
#[derive(Debug, PartialEq)]
enum Typed {
    Number(String),
    /// An amount as the pages write it (`2 450,00 €`, groups of three digits).
    Euros(String),
    /// `dd/mm/yyyy`, as a date serial.
    Date(i64),
    /// `dd/mm/yyyy HH:MM`, as a date serial with the time as its fraction.
    DateTime(String),
}

const DATE_STYLE: u8 = 2;
const DATETIME_STYLE: u8 = 3;
const EUROS_STYLE: u8 = 4;

/// The serial a spreadsheet counts days by (1 = 1900-01-01, with its 1900 leap day).
fn serial(d: chrono::NaiveDate) -> i64 {
    (d - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default()).num_days()
}

fn typed(value: &str) -> Option<Typed> {
    if let Some(n) = as_number(value) {
        return Some(Typed::Number(n));
    }
    if let Some(amount) = value
        .strip_suffix('€')
        .map(|v| v.trim_end_matches([' ', '\u{a0}', '\u{202f}']))
    {
        let (sign, body) = match amount.strip_prefix('-') {
            Some(b) => ("-", b),
            None => ("", amount),
        };
        let (units, decimals) = body.split_once(',').unwrap_or((body, ""));
        let groups: Vec<&str> = units.split([' ', '\u{a0}', '\u{202f}']).collect();
        let grouped = groups.iter().enumerate().all(|(i, g)| {
            g.bytes().all(|b| b.is_ascii_digit())
                && if i == 0 {
                    (1..=3).contains(&g.len())
                } else {
                    g.len() == 3
                }
        });
        let decimals_ok = decimals.is_empty()
            || (decimals.len() == 2 && decimals.bytes().all(|b| b.is_ascii_digit()));
        if grouped && decimals_ok && groups.len() <= 5 {
            let joined: String = groups.concat();
            let n = if decimals.is_empty() {
                format!("{sign}{joined}")
            } else {
                format!("{sign}{joined}.{decimals}")
            };
            return Some(Typed::Euros(n));
        }
    }
    let (day, time) = match value.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (value, None),
    };
    if day.len() != 10 {
        return None;
    }
    let d = chrono::NaiveDate::parse_from_str(day, "%d/%m/%Y").ok()?;
    match time {
        None => Some(Typed::Date(serial(d))),
        Some(t) => {
            let t = chrono::NaiveTime::parse_from_str(t, "%H:%M").ok()?;
            let minutes = chrono::Timelike::hour(&t) * 60 + chrono::Timelike::minute(&t);
            let fraction = f64::from(minutes) / 1440.0;
            Some(Typed::DateTime(format!(
                "{:.6}",
                serial(d) as f64 + fraction
            )))
        }
    }
}

fn sheet_xml(rows: &[Vec<String>]) -> String {
    let mut sheet = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews><sheetData>",
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, value) in row.iter().enumerate() {
            let at = format!("{}{}", column(c), r + 1);
            match typed(value).filter(|_| r > 0) {
                Some(Typed::Number(n)) => sheet.push_str(&format!("<c r=\"{at}\"><v>{n}</v></c>")),
                Some(Typed::Euros(n)) => {
                    sheet.push_str(&format!("<c r=\"{at}\" s=\"{EUROS_STYLE}\"><v>{n}</v></c>"))
                }
                Some(Typed::Date(n)) => {
                    sheet.push_str(&format!("<c r=\"{at}\" s=\"{DATE_STYLE}\"><v>{n}</v></c>"))
                }
                Some(Typed::DateTime(n)) => sheet.push_str(&format!(
                    "<c r=\"{at}\" s=\"{DATETIME_STYLE}\"><v>{n}</v></c>"
                )),
                None => {
                    let style = if r == 0 { " s=\"1\"" } else { "" };
                    sheet.push_str(&format!(
                        "<c r=\"{at}\" t=\"inlineStr\"{style}><is><t xml:space=\"preserve\">{}</t></is></c>",
                        xml_escape(value)
                    ));
                }
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    sheet
}

/// Several tables as one XLSX workbook, one sheet per `(name, rows)`.
pub fn workbook(sheets: &[(String, Vec<Vec<String>>)]) -> Vec<u8> {
    let mut names: Vec<String> = Vec::new();
    for (title, _) in sheets {
        let base: String = title
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(28)
            .collect();
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base} {n}");
            n += 1;
        }
        names.push(name);
    }
    let overrides: String = (1..=sheets.len())
        .map(|i| format!("<Override PartName=\"/xl/worksheets/sheet{i}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"))
        .collect();
    let sheet_list: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(
                "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>",
                xml_escape(n),
                i + 1,
                i + 1
            )
        })
        .collect();
    let rels: String = (1..=sheets.len())
        .map(|i| format!("<Relationship Id=\"rId{i}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{i}.xml\"/>"))
        .collect();
    let styles_id = sheets.len() + 1;
    let mut parts: Vec<(String, String)> = vec![
        ("[Content_Types].xml".into(), format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>{overrides}<Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/></Types>")),
        ("_rels/.rels".into(), "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>".into()),
        ("xl/workbook.xml".into(), format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>{sheet_list}</sheets></workbook>")),
        ("xl/_rels/workbook.xml.rels".into(), format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{rels}<Relationship Id=\"rId{styles_id}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>")),
        ("xl/styles.xml".into(), "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"dd/mm/yyyy\\ hh:mm\"/><numFmt numFmtId=\"165\" formatCode=\"#,##0.00\\ &quot;€&quot;\"/></numFmts><fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font><font><b/><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts><fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills><borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs><cellXfs count=\"5\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/><xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/><xf numFmtId=\"14\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/><xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/><xf numFmtId=\"165\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/></cellXfs></styleSheet>".into()),
    ];
    for (i, (_, rows)) in sheets.iter().enumerate() {
        parts.push((format!("xl/worksheets/sheet{}.xml", i + 1), sheet_xml(rows)));
    }
    zip(&parts
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_bytes()))
        .collect::<Vec<_>>())
}

/// A zip archive of `files`, each deflated.
fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let mut crc = Crc::new();
        crc.update(data);
        let mut enc = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = enc.write_all(data);
        let packed = enc.finish().unwrap_or_default();
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend(0x0800u16.to_le_bytes()); // UTF-8 names
            h.extend(8u16.to_le_bytes()); // deflate
            h.extend(0u16.to_le_bytes()); // time
            h.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            h.extend(crc.sum().to_le_bytes());
            h.extend((packed.len() as u32).to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend(0u16.to_le_bytes()); // comment
                h.extend(0u16.to_le_bytes()); // disk
                h.extend(0u16.to_le_bytes()); // internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(&packed);
        central.extend(header(0x0201_4b50, true));
    }
    let start = out.len() as u32;
    let size = central.len() as u32;
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((files.len() as u16).to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// A file to download, never cached (exports may name pupils or carry amounts).
pub fn download(name: &str, content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// A table as CSV or XLSX, by the extension asked for.
pub fn table(
    format: &str,
    stem: &str,
    title: &str,
    rows: &[Vec<String>],
) -> Result<Response, crate::error::PageError> {
    match format {
        "csv" => Ok(download(
            &format!("{stem}.csv"),
            "text/csv; charset=utf-8",
            crate::export::csv(rows),
        )),
        "xlsx" => Ok(download(
            &format!("{stem}.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            crate::export::xlsx(title, rows),
        )),
        _ => Err(preau_core::AppError::NotFound.into()),
    }
}

/// A file someone uploaded (a photo, a scan), served as the type its bytes were
/// recognised as: never sniffed, never cached (a school's shared PC keeps nothing after
/// logout), in a sandbox that runs nothing, and a PDF as a download rather than in the
/// browser's viewer.
pub fn uploaded(kind: &str, name: &str, body: Vec<u8>) -> Response {
    let kind = match kind {
        "application/pdf" => "application/pdf",
        "image/png" => "image/png",
        "image/webp" => "image/webp",
        _ => "image/jpeg",
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| !matches!(c, '"' | '\\' | ';'))
        .collect();
    let how = if kind == "application/pdf" {
        "attachment"
    } else {
        "inline"
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("{how}; filename=\"{ascii}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; img-src 'self'; frame-ancestors 'none'".to_string(),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_spreadsheet_letters() {
        assert_eq!(column(0), "A");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(27), "AB");
        assert_eq!(column(701), "ZZ");
        assert_eq!(column(702), "AAA");
    }

    #[test]
    fn an_xlsx_is_a_zip_of_its_parts_with_escaped_text() {
        let book = xlsx(
            "Matériel",
            &[
                vec!["Nom".into(), "Prix".into()],
                vec!["TNI <salle 1> & co".into(), "2 450,00".into()],
            ],
        );
        assert!(book.starts_with(b"PK\x03\x04"));
        let eocd = book.len() - 22;
        assert_eq!(&book[eocd..eocd + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([book[eocd + 10], book[eocd + 11]]), 6);
        let csv = csv(&[vec!["a;b".into(), "c".into()]]);
        assert_eq!(csv, "\u{feff}\"a;b\";c\n".as_bytes());
    }

    /// The parts of a zip written by `zip`, inflated: (name, text).
    fn unzip(book: &[u8]) -> Vec<(String, String)> {
        use std::io::Read;
        let mut out = Vec::new();
        let mut at = 0;
        while book[at..].starts_with(b"PK\x03\x04") {
            let le16 = |i: usize| u16::from_le_bytes([book[at + i], book[at + i + 1]]) as usize;
            let packed = u32::from_le_bytes(book[at + 18..at + 22].try_into().unwrap()) as usize;
            let (name_len, extra) = (le16(26), le16(28));
            let name = String::from_utf8(book[at + 30..at + 30 + name_len].to_vec()).unwrap();
            let start = at + 30 + name_len + extra;
            let mut text = String::new();
            flate2::read::DeflateDecoder::new(&book[start..start + packed])
                .read_to_string(&mut text)
                .unwrap();
            out.push((name, text));
            at = start + packed;
        }
        out
    }

    /// What finance staff sum and sort: amounts as the pages write them, dates and times;
    /// identifiers and words stay text.
    #[test]
    fn amounts_and_dates_are_typed() {
        for (cell, want) in [
            (
                "2\u{202f}450,00\u{a0}€",
                Some(Typed::Euros("2450.00".into())),
            ),
            ("-12,50 €", Some(Typed::Euros("-12.50".into()))),
            ("1 234 567,89 €", Some(Typed::Euros("1234567.89".into()))),
            ("749 €", Some(Typed::Euros("749".into()))),
            ("12 34,00 €", None),
            ("1234 567,00 €", None),
            ("01/09/2026", Some(Typed::Date(46266))),
            ("29/02/2024", Some(Typed::Date(45351))),
            ("31/02/2026", None),
            (
                "06/12/2026 08:30",
                Some(Typed::DateTime("46362.354167".into())),
            ),
            ("06/12/2026 25:00", None),
            ("1/9/2026", None),
            ("0781234X", None),
            ("Jules Ferry", None),
        ] {
            assert_eq!(typed(cell), want, "{cell:?}");
        }
        let book = xlsx(
            "t",
            &[
                vec!["Quand".into(), "Prix".into()],
                vec!["01/09/2026".into(), "2\u{202f}450,00\u{a0}€".into()],
            ],
        );
        let sheet = unzip(&book)
            .into_iter()
            .find(|p| p.0 == "xl/worksheets/sheet1.xml")
            .unwrap()
            .1;
        assert!(
            sheet.contains("<c r=\"A2\" s=\"2\"><v>46266</v></c>"),
            "{sheet}"
        );
        assert!(
            sheet.contains("<c r=\"B2\" s=\"4\"><v>2450.00</v></c>"),
            "{sheet}"
        );
    }

    #[test]
    fn amounts_and_counts_are_numbers_and_identifiers_stay_text() {
        for (cell, number) in [
            ("749,00", Some("749.00")),
            ("12", Some("12")),
            ("-5", Some("-5")),
            ("0", Some("0")),
            ("0,5", Some("0.5")),
            ("0781234X", None),
            ("007", None),
            ("12,345", None),
            ("1 234,00", None),
            ("", None),
            ("2,", None),
        ] {
            assert_eq!(as_number(cell).as_deref(), number, "{cell:?}");
        }
        let book = workbook(&[
            (
                "Dépenses".into(),
                vec![
                    vec!["École".into(), "2026".into()],
                    vec!["Jules Ferry".into(), "2 450,00".into()],
                    vec!["Total".into(), "2450,50".into()],
                ],
            ),
            (
                "Dépenses".into(),
                vec![vec!["UAI".into()], vec!["0781234X".into()]],
            ),
        ]);
        let parts = unzip(&book);
        let names: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "[Content_Types].xml",
                "_rels/.rels",
                "xl/workbook.xml",
                "xl/_rels/workbook.xml.rels",
                "xl/styles.xml",
                "xl/worksheets/sheet1.xml",
                "xl/worksheets/sheet2.xml"
            ]
        );
        let workbook = &parts[2].1;
        assert!(
            workbook.contains("name=\"Dépenses\"") && workbook.contains("name=\"Dépenses 2\""),
            "{workbook}"
        );
        let first = &parts[5].1;
        // The header stays text (a year in a header is a label), the total is a number.
        assert!(
            first.contains("<t xml:space=\"preserve\">2026</t>"),
            "{first}"
        );
        assert!(first.contains("<c r=\"B3\"><v>2450.50</v></c>"), "{first}");
        assert!(
            first.contains("<t xml:space=\"preserve\">2 450,00</t>"),
            "{first}"
        );
        assert!(
            parts[6]
                .1
                .contains("<t xml:space=\"preserve\">0781234X</t>")
        );
    }
}
