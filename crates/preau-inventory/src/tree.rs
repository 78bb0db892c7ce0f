//! Legacy inventory XML read into a light tree that borrows the document's text, and the
//! [`Tree`] view that both that tree and GLPI Agent's JSON offer to the normaliser.
//!
//! A 926-software OCS inventory is about 9 000 elements: the tree makes one allocation per
//! element that has children, none per leaf whose text has no entity. Attributes are not
//! used by any inventory format and are skipped. The XML declaration's encoding is honoured
//! (UTF-8, ISO-8859-1, Windows-1252…); bytes not valid in it are refused, never stored as
//! mojibake.

use quick_xml::events::Event;
use serde_json::Value;
use std::borrow::Cow;

use crate::InventoryError;

/// Deepest nesting accepted; real inventories are 4 or 5 levels deep.
pub const MAX_DEPTH: usize = 32;

/// Most elements (XML) or values (JSON) one document may hold: a 926-software OCS
/// inventory has about 9 000 elements, the largest real ones stay well under 100 000. A
/// body of 60 MB of `<A/>` is refused when this count is passed, before the tree grows.
pub const MAX_NODES: usize = 200_000;

/// Checks a JSON document's size in values and its depth without building it (one pass,
/// strings skipped): `serde_json` would otherwise allocate a value for each of millions
/// of `0,` before anything could look at them.
pub fn check_json_shape(bytes: &[u8]) -> Result<(), InventoryError> {
    let (mut depth, mut values, mut in_string, mut escaped) = (0usize, 1usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                values += 1;
                if depth > MAX_DEPTH {
                    return Err(InventoryError::TooDeep(MAX_DEPTH));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if values > MAX_NODES {
            return Err(InventoryError::TooManyNodes(MAX_NODES));
        }
    }
    Ok(())
}

/// An element: its name as sent, its text (leaves), its child elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    pub name: &'a str,
    pub text: Cow<'a, str>,
    pub children: Vec<Node<'a>>,
}

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

/// The document as UTF-8 text, decoded according to its declaration (borrowed when it
/// already is UTF-8).
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, InventoryError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let label = declared_encoding(bytes);
    let enc = encoding_rs::Encoding::for_label(label.as_bytes())
        .ok_or_else(|| InventoryError::Encoding(label.clone()))?;
    if enc == encoding_rs::UTF_8 {
        return std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|_| InventoryError::Encoding("UTF-8".into()));
    }
    let (text, _, had_errors) = enc.decode(bytes);
    if had_errors {
        return Err(InventoryError::Encoding(enc.name().into()));
    }
    Ok(Cow::Owned(text.into_owned()))
}

/// The text an entity or character reference stands for (XML's five, and `#…` references).
pub fn entity(name: &str) -> Option<Cow<'static, str>> {
    Some(match name {
        "amp" => Cow::Borrowed("&"),
        "lt" => Cow::Borrowed("<"),
        "gt" => Cow::Borrowed(">"),
        "quot" => Cow::Borrowed("\""),
        "apos" => Cow::Borrowed("'"),
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix('x').or_else(|| n.strip_prefix('X')) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => n.parse().ok()?,
            };
            Cow::Owned(char::from_u32(code)?.to_string())
        }
    })
}

fn append<'a>(text: &mut Cow<'a, str>, more: Cow<'a, str>) {
    if text.is_empty() {
        *text = more;
    } else {
        text.to_mut().push_str(&more);
    }
}

/// Parses an XML document (already decoded to UTF-8) into its root element.
pub fn parse_document(text: &str) -> Result<Node<'_>, InventoryError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.trim_text(false);
    let mut stack: Vec<Node<'_>> = Vec::new();
    let mut root: Option<Node<'_>> = None;
    let mut nodes = 0usize;
    let xml_err =
        |e: &dyn std::fmt::Display, pos: u64| InventoryError::Xml(format!("{e} (at byte {pos})"));
    // Element names are slices of `text` (a `from_str` reader borrows them): find each
    // slice back in `text`, so that the tree borrows instead of copying.
    let name_of = |raw: &[u8], pos: u64| -> Result<&str, InventoryError> {
        let base = text.as_ptr() as usize;
        let at = raw.as_ptr() as usize;
        at.checked_sub(base)
            .and_then(|start| text.get(start..start + raw.len()))
            .ok_or_else(|| InventoryError::Xml(format!("bad element name (at byte {pos})")))
    };
    loop {
        let pos = reader.buffer_position();
        match reader.read_event() {
            Err(e) => return Err(xml_err(&e, pos)),
            Ok(Event::Eof) => break,
            Ok(Event::Start(_) | Event::Empty(_)) if nodes >= MAX_NODES => {
                return Err(InventoryError::TooManyNodes(MAX_NODES));
            }
            Ok(Event::Start(e)) => {
                nodes += 1;
                if root.is_some() {
                    return Err(InventoryError::Xml("content after the root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(InventoryError::TooDeep(MAX_DEPTH));
                }
                let name = name_of(e.name().as_ref(), pos)?;
                stack.push(Node {
                    name,
                    text: Cow::Borrowed(""),
                    children: Vec::new(),
                });
            }
            Ok(Event::Empty(e)) => {
                nodes += 1;
                let name = name_of(e.name().as_ref(), pos)?;
                let node = Node {
                    name,
                    text: Cow::Borrowed(""),
                    children: Vec::new(),
                };
                match stack.last_mut() {
                    Some(top) => top.children.push(node),
                    None => root = Some(node),
                }
            }
            Ok(Event::Text(t)) => match stack.last_mut() {
                // Text between child elements (indentation) is dropped.
                Some(top) if top.children.is_empty() => {
                    let s = t.decode().map_err(|e| xml_err(&e, pos))?;
                    append(&mut top.text, s);
                }
                Some(_) => {}
                None if !t.iter().all(u8::is_ascii_whitespace) => {
                    return Err(InventoryError::Xml("text outside the root element".into()));
                }
                None => {}
            },
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    let s = String::from_utf8_lossy(&t).into_owned();
                    append(&mut top.text, Cow::Owned(s));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let value = entity(&name)
                    .ok_or_else(|| InventoryError::Xml(format!("unknown entity &{name};")))?;
                if let Some(top) = stack.last_mut() {
                    append(&mut top.text, value);
                }
            }
            Ok(Event::End(_)) => {
                let Some(mut node) = stack.pop() else {
                    return Err(InventoryError::Xml("unbalanced end tag".into()));
                };
                if !node.children.is_empty() {
                    node.text = Cow::Borrowed("");
                }
                match stack.last_mut() {
                    Some(parent) => {
                        // Indentation before the first child was kept as text: drop it.
                        if parent.children.is_empty() {
                            parent.text = Cow::Borrowed("");
                        }
                        parent.children.push(node);
                    }
                    None => root = Some(node),
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

/// What the normaliser asks of an inventory, whether it came as legacy XML (upper-case
/// element names, repeated elements) or as GLPI Agent's JSON (lower-case keys, arrays).
pub trait Tree {
    /// Every child named `key` (case-insensitive): repeated elements, or the items of a
    /// JSON array, or the one object.
    fn all(&self, key: &str) -> Vec<&Self>;
    /// The text of a leaf: an element without children, a JSON string, number or boolean.
    fn leaf(&self) -> Option<Cow<'_, str>>;
    /// Whether a child named `key` was sent at all (for partial inventories).
    fn has(&self, key: &str) -> bool;

    /// The first child named `key`.
    fn get(&self, key: &str) -> Option<&Self> {
        self.all(key).into_iter().next()
    }

    /// The trimmed, non-empty text of the child `key`.
    fn text(&self, key: &str) -> Option<String> {
        let t = self.get(key)?.leaf()?;
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_string())
    }
}

impl Tree for Node<'_> {
    fn all(&self, key: &str) -> Vec<&Self> {
        self.children
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(key))
            .collect()
    }

    fn leaf(&self) -> Option<Cow<'_, str>> {
        self.children
            .is_empty()
            .then(|| Cow::Borrowed(self.text.as_ref()))
    }

    fn has(&self, key: &str) -> bool {
        self.children
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(key))
    }
}

impl Tree for Value {
    fn all(&self, key: &str) -> Vec<&Self> {
        match self.as_object().and_then(|o| o.get(key)) {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(v) => vec![v],
        }
    }

    fn leaf(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::String(s) => Some(Cow::Borrowed(s)),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        }
    }

    fn has(&self, key: &str) -> bool {
        self.as_object().is_some_and(|o| o.contains_key(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &[u8]) -> Result<String, InventoryError> {
        let text = decode(doc)?;
        let root = parse_document(&text)?;
        Ok(format!("{root:?}"))
    }

    #[test]
    fn repeated_elements_and_case_insensitive_lookups() {
        let text = "<?xml version=\"1.0\"?><REQUEST><CONTENT><SOFTWARES><NAME>a &amp; b</NAME></SOFTWARES>\n  <SOFTWARES><NAME>c</NAME></SOFTWARES><BIOS/></CONTENT><DEVICEID> x </DEVICEID></REQUEST>";
        let root = parse_document(text).unwrap();
        assert_eq!(root.name, "REQUEST");
        assert_eq!(root.text("deviceid").as_deref(), Some("x"));
        let content = root.get("content").unwrap();
        let sw = content.all("softwares");
        assert_eq!(sw.len(), 2);
        assert_eq!(sw[0].text("name").as_deref(), Some("a & b"));
        assert_eq!(sw[1].text("NAME").as_deref(), Some("c"));
        assert!(content.has("bios") && content.text("bios").is_none());
        assert!(content.text.is_empty(), "indentation is not text");
    }

    #[test]
    fn latin1_is_decoded_and_bad_utf8_refused() {
        let mut doc = b"<?xml version='1.0' encoding='ISO-8859-1'?><R><N>".to_vec();
        doc.extend([0xC9, b'c', b'o', b'l', b'e']);
        doc.extend(b"</N></R>");
        let text = decode(&doc).unwrap();
        assert_eq!(
            parse_document(&text).unwrap().text("n").as_deref(),
            Some("École")
        );
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
            b"<R></R><S></S>",
        ] {
            assert!(parse(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
        let deep = format!("{}{}", "<A>".repeat(40), "</A>".repeat(40));
        assert_eq!(
            parse(deep.as_bytes()),
            Err(InventoryError::TooDeep(MAX_DEPTH))
        );
    }

    #[test]
    fn documents_with_too_many_nodes_are_refused_before_they_are_built() {
        let many = |n: usize| format!("<REQUEST>{}</REQUEST>", "<A/>".repeat(n));
        assert!(parse(many(MAX_NODES - 1).as_bytes()).is_ok());
        assert_eq!(
            parse(many(MAX_NODES).as_bytes()),
            Err(InventoryError::TooManyNodes(MAX_NODES))
        );
        let nested = format!("<R>{}</R>", "<A><B>x</B></A>".repeat(MAX_NODES / 2));
        assert_eq!(
            parse(nested.as_bytes()),
            Err(InventoryError::TooManyNodes(MAX_NODES))
        );
        let zeros = |n: usize| format!("{{\"content\":[{}]}}", vec!["0"; n].join(","));
        assert_eq!(check_json_shape(zeros(MAX_NODES - 2).as_bytes()), Ok(()));
        assert_eq!(
            check_json_shape(zeros(MAX_NODES + 1).as_bytes()),
            Err(InventoryError::TooManyNodes(MAX_NODES))
        );
        // Commas and brackets inside strings are text, not values.
        let text = format!(
            "{{\"name\":\"{}\\\"{}\"}}",
            ",".repeat(MAX_NODES * 2),
            "[".repeat(100)
        );
        assert_eq!(check_json_shape(text.as_bytes()), Ok(()));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            check_json_shape(deep.as_bytes()),
            Err(InventoryError::TooDeep(MAX_DEPTH))
        );
    }
}
