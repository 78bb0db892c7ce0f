//! The agents' requests and the replies they accept.
//!
//! Legacy XML (OCS Inventory agent, FusionInventory, GLPI Agent's first contact):
//! `<REQUEST><QUERY>PROLOG|INVENTORY</QUERY><DEVICEID>…</DEVICEID>…`, answered with
//! `<REPLY>…</REPLY>` in the request's own encoding. GLPI Agent's native protocol: a JSON
//! object with `action` (`contact`, `inventory`…), answered in JSON.

use serde_json::{Value, json};

use sha2::{Digest, Sha256};

use crate::normalize::RawSoftware;
use crate::tree::{self, Tree};
use crate::{Inventory, InventoryError};

/// How the request was written, which decides how the reply is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Legacy XML, with the encoding its declaration named (lower-case).
    Xml {
        encoding: String,
    },
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// "Shall I send an inventory?" (legacy XML).
    Prolog {
        device_id: String,
    },
    /// GLPI Agent's `contact` action: the same question, in JSON.
    Contact {
        device_id: String,
    },
    Inventory(Box<Inventory>),
    /// A network discovery or SNMP inventory: the devices an agent found on the network.
    Network(Vec<Inventory>),
    /// Any other query or action (`UPDATE`, `getConfig`…), answered politely and ignored.
    Other {
        kind: String,
    },
}

/// Parses an inflated request body, software included.
pub fn parse(body: &[u8]) -> Result<(Request, Format), InventoryError> {
    let (mut request, format) = parse_lazy(body)?;
    if let Request::Inventory(inv) = &mut request {
        inv.resolve_software()?;
    }
    Ok((request, format))
}

/// The `<SOFTWARES>…</SOFTWARES>` elements of a legacy XML document, cut out: the rest
/// of the document, the elements' text, and its fingerprint. `None` when the document
/// writes them in any other way (attributes, empty elements), which is then parsed whole.
fn cut_software(text: &str) -> Option<(String, RawSoftware)> {
    const OPEN: &str = "<SOFTWARES>";
    const CLOSE: &str = "</SOFTWARES>";
    if text.contains("<SOFTWARES ") || text.contains("<SOFTWARES/") || text.contains("<![CDATA[") {
        return None;
    }
    let mut rest = String::with_capacity(text.len() / 8);
    let mut blocks = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(i) = text[at..].find(OPEN) {
        let start = at + i;
        let end = start + text[start..].find(CLOSE)? + CLOSE.len();
        rest.push_str(&text[at..start]);
        blocks.push_str(&text[start..end]);
        at = end;
    }
    if blocks.is_empty() {
        return None;
    }
    rest.push_str(&text[at..]);
    // An empty <SOFTWARES/> placeholder keeps "the section was sent" for the reader.
    if let Some(i) = rest.find("</CONTENT>") {
        rest.insert_str(i, "<SOFTWARES/>");
    }
    let hash = Sha256::digest(blocks.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some((
        rest,
        RawSoftware {
            hash,
            xml: Some(blocks),
        },
    ))
}

/// Parses an inflated request body; a legacy XML inventory's software list is left raw
/// (see [`RawSoftware`]) until [`Inventory::resolve_software`] is called.
pub fn parse_lazy(body: &[u8]) -> Result<(Request, Format), InventoryError> {
    let trimmed = body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .trim_ascii_start();
    match trimmed.first() {
        Some(b'<') => {
            let encoding = tree::declared_encoding(trimmed);
            let text = tree::decode(trimmed)?;
            let cut = cut_software(&text);
            let tree = match &cut {
                Some((rest, _)) => tree::parse_document(rest)?,
                None => tree::parse_document(&text)?,
            };
            if !tree.name.eq_ignore_ascii_case("REQUEST") {
                return Err(InventoryError::Unsupported(format!(
                    "root element {}",
                    tree.name
                )));
            }
            let query = tree
                .text("query")
                .map(|q| q.to_ascii_uppercase())
                .ok_or(InventoryError::Missing("QUERY"))?;
            let request = match query.as_str() {
                "PROLOG" => Request::Prolog {
                    device_id: device_id(&tree)?,
                },
                "INVENTORY" => {
                    let mut inv = Inventory::from_tree(&tree)?;
                    if let Some((_, raw)) = cut {
                        inv.software = None;
                        inv.software_raw = Some(raw);
                    }
                    Request::Inventory(Box::new(inv))
                }
                "NETDISCOVERY" | "SNMPQUERY" | "SNMP" => Request::Network(
                    tree.get("content")
                        .map(|c| c.all("device"))
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(Inventory::from_network_device)
                        .collect(),
                ),
                other => Request::Other {
                    kind: other.chars().take(40).collect(),
                },
            };
            Ok((request, Format::Xml { encoding }))
        }
        Some(b'{') => {
            tree::check_json_shape(trimmed)?;
            let v: Value =
                serde_json::from_slice(trimmed).map_err(|e| InventoryError::Json(e.to_string()))?;
            let action = v
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("inventory")
                .to_ascii_lowercase();
            let request = match action.as_str() {
                "contact" => Request::Contact {
                    device_id: device_id(&v)?,
                },
                "inventory" | "netinventory" => {
                    Request::Inventory(Box::new(Inventory::from_tree(&v)?))
                }
                other => Request::Other {
                    kind: other.chars().take(40).collect(),
                },
            };
            Ok((request, Format::Json))
        }
        _ => Err(InventoryError::UnknownFormat),
    }
}

fn device_id<T: Tree>(v: &T) -> Result<String, InventoryError> {
    v.text("deviceid")
        .ok_or(InventoryError::Missing("DEVICEID"))
}

/// Encodes a reply document in the request's encoding (UTF-8 when it cannot be).
fn xml_document(encoding: &str, body: &str) -> Vec<u8> {
    let enc = encoding_rs::Encoding::for_label(encoding.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    let enc = enc.output_encoding();
    let doc = format!(
        "<?xml version='1.0' encoding='{}'?>\n<REPLY>\n{body}</REPLY>\n",
        enc.name()
    );
    enc.encode(&doc).0.into_owned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// PROLOG: send an inventory, and come back in `freq_hours`.
pub fn prolog_reply(encoding: &str, freq_hours: u32) -> Vec<u8> {
    xml_document(
        encoding,
        &format!("  <RESPONSE>SEND</RESPONSE>\n  <PROLOG_FREQ>{freq_hours}</PROLOG_FREQ>\n"),
    )
}

/// INVENTORY stored. With `tag`, the agent is told to set its TAG to it (the school the
/// device was placed in), as OCS does with `ACCOUNT_UPDATE`.
pub fn inventory_reply(encoding: &str, tag: Option<&str>) -> Vec<u8> {
    match tag {
        Some(t) => xml_document(
            encoding,
            &format!(
                "  <RESPONSE>ACCOUNT_UPDATE</RESPONSE>\n  <ACCOUNTINFO>\n    <KEYNAME>TAG</KEYNAME>\n    <KEYVALUE>{}</KEYVALUE>\n  </ACCOUNTINFO>\n",
                escape(t)
            ),
        ),
        None => xml_document(encoding, "  <RESPONSE>NO_ACCOUNT_UPDATE</RESPONSE>\n"),
    }
}

/// Any other legacy query: nothing to do.
pub fn other_reply(encoding: &str) -> Vec<u8> {
    xml_document(encoding, "  <RESPONSE>NO_UPDATE</RESPONSE>\n")
}

/// GLPI Agent, `contact` (or its XML PROLOG): run the inventory task, come back in
/// `freq_hours`.
pub fn contact_reply(freq_hours: u32) -> Vec<u8> {
    json!({
        "status": "ok",
        "expiration": freq_hours,
        "tasks": {"inventory": {"server": "glpi", "version": "10.0.16"}}
    })
    .to_string()
    .into_bytes()
}

/// GLPI Agent, after an inventory or an ignored action.
pub fn ok_reply(freq_hours: u32) -> Vec<u8> {
    json!({"status": "ok", "expiration": freq_hours})
        .to_string()
        .into_bytes()
}

/// GLPI Agent, on a refused request: it logs `message`.
pub fn error_reply(message: &str) -> Vec<u8> {
    json!({"status": "error", "message": message})
        .to_string()
        .into_bytes()
}
