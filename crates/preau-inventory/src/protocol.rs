//! The agents' requests and the replies they accept.
//!
//! Legacy XML (OCS Inventory agent, FusionInventory, GLPI Agent's first contact):
//! `<REQUEST><QUERY>PROLOG|INVENTORY</QUERY><DEVICEID>…</DEVICEID>…`, answered with
//! `<REPLY>…</REPLY>` in the request's own encoding. GLPI Agent's native protocol: a JSON
//! object with `action` (`contact`, `inventory`…), answered in JSON.

use serde_json::{Value, json};

use crate::{Inventory, InventoryError, tree};

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

/// Parses an inflated request body.
pub fn parse(body: &[u8]) -> Result<(Request, Format), InventoryError> {
    let trimmed = body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .trim_ascii_start();
    match trimmed.first() {
        Some(b'<') => {
            let encoding = tree::declared_encoding(trimmed);
            let (root, tree) = tree::parse(trimmed)?;
            if root != "REQUEST" {
                return Err(InventoryError::Unsupported(format!("root element {root}")));
            }
            let query = tree
                .get("query")
                .and_then(Value::as_str)
                .map(|q| q.trim().to_ascii_uppercase())
                .ok_or(InventoryError::Missing("QUERY"))?;
            let request = match query.as_str() {
                "PROLOG" => Request::Prolog {
                    device_id: device_id(&tree)?,
                },
                "INVENTORY" => Request::Inventory(Box::new(Inventory::from_tree(&tree)?)),
                "NETDISCOVERY" | "SNMPQUERY" | "SNMP" => {
                    let devices = match tree.get("content").and_then(|c| c.get("device")) {
                        Some(Value::Array(list)) => list.iter().collect(),
                        Some(one) => vec![one],
                        None => vec![],
                    };
                    Request::Network(
                        devices
                            .into_iter()
                            .filter_map(Inventory::from_network_device)
                            .collect(),
                    )
                }
                other => Request::Other {
                    kind: other.chars().take(40).collect(),
                },
            };
            Ok((request, Format::Xml { encoding }))
        }
        Some(b'{') => {
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

fn device_id(v: &Value) -> Result<String, InventoryError> {
    v.get("deviceid")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(String::from)
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
