//! Legacy inventory XML turned into a JSON tree with lower-case keys — the shape of GLPI
//! Agent's native JSON — so that one reader handles both formats.
//!
//! An element with child elements becomes an object; a leaf becomes its text; a repeated
//! element becomes an array. Attributes are not used by any inventory format and are
//! dropped. The XML declaration's encoding is honoured (UTF-8, ISO-8859-1,
//! Windows-1252…); bytes that are not valid in it are refused, never stored as mojibake.

use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::InventoryError;

/// Deepest nesting accepted; real inventories are 4 or 5 levels deep.
pub const MAX_DEPTH: usize = 32;

/// The encoding an XML declaration names, lower-cased (`utf-8` when there is none).
pub fn declared_encoding(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    if let Some(decl) = head.trim_start().strip_prefix("<?xml")
        && let Some(end) = decl.find("?>")
    {
        let decl = &decl[..end];
        if let Some(i) = decl.find("encoding") {
            let rest = decl[i + 8..]
                .trim_start()
                .trim_start_matches('=')
                .trim_start();
            let quote = rest.chars().next().unwrap_or('"');
            let value: String = rest.chars().skip(1).take_while(|c| *c != quote).collect();
            return value.to_ascii_lowercase();
        }
    }
    "utf-8".into()
}

/// Decodes the document to UTF-8 text according to its declaration.
pub fn decode(bytes: &[u8]) -> Result<String, InventoryError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let label = declared_encoding(bytes);
    let enc = encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| InventoryError::Encoding(label.clone()))?;
    if enc == encoding_rs::UTF_8 {
        return String::from_utf8(bytes.to_vec())
            .map_err(|_| InventoryError::Encoding("UTF-8".into()));
    }
    let (text, _, had_errors) = enc.decode(bytes);
    if had_errors {
        return Err(InventoryError::Encoding(enc.name().into()));
    }
    Ok(text.into_owned())
}

fn insert(map: &mut Map<String, Value>, key: String, value: Value) {
    match map.get_mut(&key) {
        None => {
            map.insert(key, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

fn entity(name: &str) -> Option<String> {
    Some(match name {
        "amp" => "&".into(),
        "lt" => "<".into(),
        "gt" => ">".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix('x').or_else(|| n.strip_prefix('X')) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)?.to_string()
        }
    })
}

/// Parses an XML document into its root element's name (upper-case, as sent) and tree.
pub fn parse(bytes: &[u8]) -> Result<(String, Value), InventoryError> {
    let text = decode(bytes)?;
    let mut reader = quick_xml::Reader::from_str(&text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.trim_text(false);
    // (lower-case name, children, text)
    let mut stack: Vec<(String, Map<String, Value>, String)> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    let xml_err =
        |e: &dyn std::fmt::Display, pos: u64| InventoryError::Xml(format!("{e} (at byte {pos})"));
    loop {
        let pos = reader.buffer_position();
        match reader.read_event() {
            Err(e) => return Err(xml_err(&e, pos)),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                if root.is_some() {
                    return Err(InventoryError::Xml("content after the root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(InventoryError::TooDeep(MAX_DEPTH));
                }
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                stack.push((name, Map::new(), String::new()));
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_lowercase();
                match stack.last_mut() {
                    Some(top) => insert(&mut top.1, name, Value::String(String::new())),
                    None => root = Some((name.to_uppercase(), Value::Object(Map::new()))),
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.decode().map_err(|e| xml_err(&e, pos))?;
                    top.2.push_str(&s);
                } else if !t.iter().all(u8::is_ascii_whitespace) {
                    return Err(InventoryError::Xml("text outside the root element".into()));
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let value = entity(&name)
                    .ok_or_else(|| InventoryError::Xml(format!("unknown entity &{name};")))?;
                if let Some(top) = stack.last_mut() {
                    top.2.push_str(&value);
                }
            }
            Ok(Event::End(_)) => {
                let Some((name, children, text)) = stack.pop() else {
                    return Err(InventoryError::Xml("unbalanced end tag".into()));
                };
                let value = if children.is_empty() {
                    Value::String(text.trim().to_string())
                } else {
                    Value::Object(children)
                };
                match stack.last_mut() {
                    Some(parent) => insert(&mut parent.1, name.to_lowercase(), value),
                    None => root = Some((name.to_uppercase(), value)),
                }
            }
            Ok(Event::DocType(_)) => {
                return Err(InventoryError::Xml("DOCTYPE is not accepted".into()));
            }
            Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_)) => {}
        }
    }
    if !stack.is_empty() {
        return Err(InventoryError::Xml(
            "document ends inside an element".into(),
        ));
    }
    root.ok_or(InventoryError::Xml("no root element".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_elements_become_arrays_and_keys_lower_case() {
        let (root, v) = parse(
            b"<?xml version=\"1.0\"?><REQUEST><CONTENT><SOFTWARES><NAME>a &amp; b</NAME></SOFTWARES><SOFTWARES><NAME>c</NAME></SOFTWARES><BIOS/></CONTENT><DEVICEID>x</DEVICEID></REQUEST>",
        )
        .unwrap();
        assert_eq!(root, "REQUEST");
        assert_eq!(v["deviceid"], "x");
        assert_eq!(v["content"]["softwares"][0]["name"], "a & b");
        assert_eq!(v["content"]["softwares"][1]["name"], "c");
        assert_eq!(v["content"]["bios"], "");
    }

    #[test]
    fn latin1_is_decoded_and_bad_utf8_refused() {
        let mut doc = b"<?xml version='1.0' encoding='ISO-8859-1'?><R><N>".to_vec();
        doc.extend([0xC9, b'c', b'o', b'l', b'e']);
        doc.extend(b"</N></R>");
        assert_eq!(parse(&doc).unwrap().1["n"], "École");
        let mut bad = b"<R><N>".to_vec();
        bad.extend([0xC9, b'c']);
        bad.extend(b"</N></R>");
        assert_eq!(parse(&bad), Err(InventoryError::Encoding("UTF-8".into())));
    }

    #[test]
    fn malformed_documents_are_refused() {
        for doc in [
            &b"<R><A></B></R>"[..],
            b"<R><A>",
            b"",
            b"<!DOCTYPE r [<!ENTITY x \"y\">]><R>&x;</R>",
            b"<R>&bogus;</R>",
        ] {
            assert!(parse(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
        let deep = format!("{}{}", "<A>".repeat(40), "</A>".repeat(40));
        assert_eq!(
            parse(deep.as_bytes()),
            Err(InventoryError::TooDeep(MAX_DEPTH))
        );
    }
}
