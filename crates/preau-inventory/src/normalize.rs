//! One inventory, whatever agent sent it: identity, operating system, components,
//! installed software and addresses, read from the tree of [`crate::tree`] or from GLPI
//! Agent's JSON.
//!
//! A partial inventory (GLPI Agent sends only what changed) leaves the sections it does
//! not carry as `None`: the store replaces only the sections present.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::InventoryError;
use crate::tree::Tree;

/// What kind of equipment the agent says it inventoried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Computer,
    Phone,
    NetworkEquipment,
    Printer,
    Unmanaged,
}

impl ItemType {
    fn parse(s: Option<&str>) -> ItemType {
        match s.map(str::to_ascii_lowercase).as_deref() {
            Some("phone") => ItemType::Phone,
            Some("networkequipment") => ItemType::NetworkEquipment,
            Some("printer") => ItemType::Printer,
            Some("unmanaged") => ItemType::Unmanaged,
            _ => ItemType::Computer,
        }
    }
}

/// Who the device is: the fields reconciliation matches on, and what a person recognises.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub name: Option<String>,
    pub system_uuid: Option<String>,
    pub serial: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub chassis: Option<String>,
    pub bios: Option<String>,
    pub memory_mb: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Os {
    pub name: Option<String>,
    pub version: Option<String>,
    pub arch: Option<String>,
}

/// A part of the device: a processor, a memory module, a disk, a network interface, a
/// monitor, a battery, a volume.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Component {
    pub name: String,
    pub detail: String,
    pub serial: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Software {
    pub name: String,
    pub publisher: String,
    pub version: String,
}

impl Software {
    /// A stable key for the catalogue: the same name, publisher and version give the same
    /// key on every agent.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        for part in [&self.name, &self.publisher, &self.version] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        hex(&h.finalize()[..16])
    }
}

/// The component kinds Préau keeps, in display order.
pub const COMPONENT_KINDS: &[&str] = &[
    "cpu", "memory", "storage", "volume", "network", "monitor", "battery",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    /// The agent's own id for this machine (`DEVICEID`, or the JSON `deviceid`).
    pub device_id: String,
    pub item_type: ItemType,
    pub partial: bool,
    /// The agent's TAG: Préau expects the school's UAI there.
    pub tag: Option<String>,
    /// The agent and its version (`VERSIONCLIENT`).
    pub agent: Option<String>,
    pub identity: Identity,
    pub os: Option<Os>,
    /// Per kind (see [`COMPONENT_KINDS`]); a kind absent from the map was not sent.
    pub components: BTreeMap<String, Vec<Component>>,
    pub software: Option<Vec<Software>>,
    pub ips: Option<Vec<String>>,
    /// For legacy XML: a fingerprint of the software section's raw text, and that text
    /// while it is not parsed yet. Most re-inventories send the very same software list:
    /// when the stored fingerprint matches, the list need not be parsed at all.
    pub software_raw: Option<RawSoftware>,
}

/// The raw `<SOFTWARES>` elements of a legacy XML inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawSoftware {
    pub hash: String,
    /// The elements' text, until [`Inventory::resolve_software`] parses it.
    #[serde(skip)]
    pub xml: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fingerprint<T: Serialize>(v: &T) -> String {
    let json = serde_json::to_vec(v).unwrap_or_default();
    hex(&Sha256::digest(&json)[..16])
}

/// The trimmed, non-empty text of the first of `keys` present.
fn first<T: Tree>(o: &T, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| o.text(k))
}

fn text<T: Tree>(o: &T, key: &str) -> Option<String> {
    o.text(key)
}

fn number<T: Tree>(o: &T, key: &str) -> Option<i64> {
    let s = o.text(key)?;
    s.parse::<i64>()
        .ok()
        .or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
}

/// The software list of a `CONTENT` element: sorted, without duplicates.
fn software_of<T: Tree>(content: &T) -> Vec<Software> {
    let mut list: Vec<Software> = content
        .all("softwares")
        .into_iter()
        .filter_map(|s| {
            Some(Software {
                name: text(s, "name")?,
                publisher: text(s, "publisher").unwrap_or_default(),
                version: text(s, "version").unwrap_or_default(),
            })
        })
        .collect();
    list.sort();
    list.dedup();
    list
}

/// Serials and UUIDs that firmware fills with placeholders: never an identity.
pub fn is_placeholder(v: &str) -> bool {
    let l = v.trim().to_ascii_lowercase();
    let digits: String = l.chars().filter(char::is_ascii_alphanumeric).collect();
    l.is_empty()
        || digits.chars().all(|c| c == '0')
        || digits.chars().all(|c| c == 'f')
        || digits == "0123456789"
        || digits == "03000200040005000006000700080009"
        || [
            "to be filled by o.e.m.",
            "default string",
            "system serial number",
            "not specified",
            "not available",
            "none",
            "n/a",
            "na",
            "123456789",
            "chassis serial number",
            "invalid",
            "unknown",
            "serial",
            "0",
        ]
        .contains(&l.as_str())
}

fn real(v: Option<String>) -> Option<String> {
    v.filter(|s| !is_placeholder(s))
}

fn join(parts: &[Option<String>]) -> String {
    parts
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_public_address(ip: &str) -> bool {
    let ip = ip.trim();
    !(ip.is_empty()
        || ip.starts_with("127.")
        || ip == "::1"
        || ip.to_ascii_lowercase().starts_with("fe80")
        || ip == "0.0.0.0")
}

impl Inventory {
    /// Reads a request tree: the legacy XML `<REQUEST>` (as [`crate::tree::parse`] gives
    /// it) or GLPI Agent's JSON object.
    pub fn from_tree<T: Tree>(root: &T) -> Result<Inventory, InventoryError> {
        let device_id = text(root, "deviceid").ok_or(InventoryError::Missing("DEVICEID"))?;
        if device_id.len() > 255 {
            return Err(InventoryError::Unsupported(
                "DEVICEID longer than 255".into(),
            ));
        }
        let content = root.get("content").unwrap_or(root);
        let partial = text(root, "partial").is_some_and(|p| p == "true" || p == "1");
        let item_type = ItemType::parse(text(root, "itemtype").as_deref());
        let tag = text(root, "tag").or_else(|| {
            content
                .all("accountinfo")
                .into_iter()
                .find(|a| text(*a, "keyname").is_some_and(|k| k.eq_ignore_ascii_case("TAG")))
                .and_then(|a| text(a, "keyvalue"))
                .filter(|v| v != "NA")
        });
        let hw = content.get("hardware");
        let bios = content.get("bios");
        let netdev = content.get("network_device");
        let osec = content.get("operatingsystem");
        let get = |o: Option<&T>, keys: &[&str]| o.and_then(|o| first(o, keys));

        let identity = Identity {
            name: get(hw, &["name"])
                .or_else(|| get(netdev, &["name"]))
                .or_else(|| get(osec, &["fqdn"])),
            system_uuid: real(get(hw, &["uuid"])).map(|u| u.to_ascii_lowercase()),
            serial: real(get(bios, &["ssn"]))
                .or_else(|| real(get(netdev, &["serial"])))
                .or_else(|| real(get(bios, &["msn"]))),
            manufacturer: get(bios, &["smanufacturer", "mmanufacturer"])
                .or_else(|| get(netdev, &["manufacturer"])),
            model: get(bios, &["smodel", "mmodel"]).or_else(|| get(netdev, &["model"])),
            chassis: get(hw, &["chassis_type"]),
            bios: {
                let b = join(&[
                    get(bios, &["bmanufacturer"]),
                    get(bios, &["bversion"]),
                    get(bios, &["bdate"]),
                ]);
                if b.is_empty() {
                    get(netdev, &["firmware"])
                } else {
                    Some(b)
                }
            },
            memory_mb: hw
                .and_then(|h| number(h, "memory"))
                .or_else(|| netdev.and_then(|n| number(n, "ram"))),
        };

        let os = match osec {
            Some(o) => Some(Os {
                name: first(o, &["full_name", "name"]),
                version: first(o, &["version", "kernel_version"]),
                arch: first(o, &["arch"]),
            }),
            None => match hw.and_then(|h| text(h, "osname")) {
                Some(name) => Some(Os {
                    name: Some(name),
                    version: get(hw, &["osversion"]),
                    arch: get(hw, &["archname"]),
                }),
                None if partial => None,
                None => Some(Os::default()),
            },
        };

        let mut components = BTreeMap::new();
        let mut section = |kind: &str, key: &str, f: &dyn Fn(&T) -> Option<Component>| {
            if content.has(key) || !partial {
                let mut list: Vec<Component> = content.all(key).into_iter().filter_map(f).collect();
                list.sort();
                list.dedup();
                components.insert(kind.to_string(), list);
            }
        };
        section("cpu", "cpus", &|c| {
            Some(Component {
                name: first(c, &["name", "type", "model"])?,
                detail: join(&[
                    first(c, &["core", "cores"]).map(|n| format!("{n} cœurs")),
                    first(c, &["thread", "threads"]).map(|n| format!("{n} threads")),
                    text(c, "speed").map(|n| format!("{n} MHz")),
                    text(c, "cpuarch").or_else(|| text(c, "arch")),
                ]),
                serial: real(text(c, "serial")),
            })
        });
        section("memory", "memories", &|m| {
            Some(Component {
                name: first(m, &["caption", "description", "type"])
                    .unwrap_or_else(|| "Mémoire".into()),
                detail: join(&[
                    text(m, "capacity").map(|c| format!("{c} Mo")),
                    text(m, "type"),
                    text(m, "speed").map(|s| format!("{s} MHz")),
                    text(m, "numslots").map(|s| format!("emplacement {s}")),
                ]),
                serial: real(text(m, "serialnumber")),
            })
        });
        section("storage", "storages", &|s| {
            Some(Component {
                name: first(s, &["model", "name", "description"])?,
                detail: join(&[
                    number(s, "disksize").map(|d| format!("{d} Mo")),
                    text(s, "interface"),
                    text(s, "manufacturer"),
                    text(s, "type"),
                ]),
                serial: real(text(s, "serial").or_else(|| text(s, "serialnumber"))),
            })
        });
        section("volume", "drives", &|d| {
            Some(Component {
                name: first(d, &["type", "letter", "volumn", "label"])?,
                detail: join(&[
                    text(d, "filesystem"),
                    number(d, "total").map(|t| format!("{t} Mo")),
                    text(d, "volumn"),
                ]),
                serial: real(text(d, "serial")),
            })
        });
        section("monitor", "monitors", &|m| {
            Some(Component {
                name: first(m, &["caption", "name", "description"])?,
                detail: join(&[text(m, "manufacturer"), text(m, "description")]),
                serial: real(text(m, "serial")),
            })
        });
        section("battery", "batteries", &|b| {
            Some(Component {
                name: first(b, &["name", "manufacturer"]).unwrap_or_else(|| "Batterie".into()),
                detail: join(&[
                    text(b, "capacity").map(|c| format!("{c} mWh")),
                    text(b, "real_capacity").map(|c| format!("{c} mWh réels")),
                    text(b, "chemistry"),
                    text(b, "manufacturer"),
                ]),
                serial: real(text(b, "serial")),
            })
        });

        // Network interfaces: one per (name, MAC), addresses gathered; loopback and
        // virtual interfaces left out.
        let nets = content.all("networks");
        let mut ips: Vec<String> = Vec::new();
        if content.has("networks") || !partial {
            let mut by_if: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
            for n in &nets {
                let virtual_dev = text(*n, "virtualdev").is_some_and(|v| v == "1");
                let loopback = text(*n, "type").is_some_and(|t| t == "loopback");
                let addrs: Vec<String> = ["ipaddress", "ipaddress6"]
                    .iter()
                    .filter_map(|k| text(*n, k))
                    .filter(|a| is_public_address(a))
                    .collect();
                ips.extend(addrs.iter().filter(|a| !a.contains(':')).cloned());
                if virtual_dev || loopback {
                    continue;
                }
                let name = first(*n, &["description", "name"]).unwrap_or_default();
                let mac = first(*n, &["macaddr", "mac"])
                    .unwrap_or_default()
                    .to_lowercase();
                by_if.entry((name, mac)).or_default().extend(addrs);
            }
            let list = by_if
                .into_iter()
                .map(|((name, mac), mut addrs)| {
                    addrs.sort();
                    addrs.dedup();
                    Component {
                        name,
                        detail: join(&[
                            (!mac.is_empty()).then(|| mac.clone()),
                            (!addrs.is_empty()).then(|| addrs.join(" ")),
                        ]),
                        serial: (!mac.is_empty()).then_some(mac),
                    }
                })
                .collect();
            components.insert("network".to_string(), list);
        }
        if let Some(h) = hw
            && let Some(a) = text(h, "ipaddr")
        {
            ips.extend(
                a.split('/')
                    .map(str::trim)
                    .filter(|a| is_public_address(a))
                    .map(String::from),
            );
        }
        if let Some(n) = netdev {
            ips.extend(
                n.all("ips")
                    .into_iter()
                    .filter_map(|i| i.leaf().map(|l| l.trim().to_string()))
                    .filter(|a| is_public_address(a)),
            );
        }
        ips.sort();
        ips.dedup();
        let ips = if ips.is_empty() && partial && !content.has("networks") {
            None
        } else {
            Some(ips)
        };

        let software = if content.has("softwares") || !partial {
            Some(software_of(content))
        } else {
            None
        };

        Ok(Inventory {
            device_id,
            item_type,
            partial,
            tag,
            agent: text(content, "versionclient"),
            identity,
            os,
            components,
            software,
            ips,
            software_raw: None,
        })
    }

    /// One device of a network discovery or SNMP inventory (`NETDISCOVERY`, `SNMPQUERY`):
    /// a switch, a printer, an access point, or an unknown host. Its id is derived from its
    /// serial number, else from its MAC address — in a namespace (`snmp:`) of its own, so
    /// that a computer's agent is never matched to it by MAC address.
    pub fn from_network_device<T: Tree>(dev: &T) -> Option<Inventory> {
        let info = dev.get("info");
        let pick = |keys: &[&str]| {
            info.and_then(|i| first(i, keys))
                .or_else(|| first(dev, keys))
        };
        let serial = real(pick(&["serial"]));
        let mac = pick(&["mac"]).map(|m| m.to_lowercase());
        let mut ips: Vec<String> = info
            .map(|i| i.all("ips"))
            .unwrap_or_default()
            .into_iter()
            .flat_map(|i| i.all("ip"))
            .filter_map(|ip| ip.leaf().map(|l| l.trim().to_string()))
            .collect();
        ips.extend(pick(&["ip"]));
        ips.retain(|a| is_public_address(a));
        ips.sort();
        ips.dedup();
        let device_id = match (&serial, &mac) {
            (Some(s), _) => format!("snmp:serial:{s}"),
            (None, Some(m)) if !is_placeholder(m) => format!("snmp:mac:{m}"),
            _ => return None,
        };
        let item_type = match pick(&["type"]).map(|t| t.to_ascii_uppercase()).as_deref() {
            Some("NETWORKING") | Some("NETWORK") => ItemType::NetworkEquipment,
            Some("PRINTER") => ItemType::Printer,
            Some("COMPUTER") => ItemType::Computer,
            _ => ItemType::Unmanaged,
        };
        let mut components = BTreeMap::new();
        if let Some(m) = &mac {
            components.insert(
                "network".to_string(),
                vec![Component {
                    name: "réseau".into(),
                    detail: join(&[Some(m.clone()), (!ips.is_empty()).then(|| ips.join(" "))]),
                    serial: Some(m.clone()),
                }],
            );
        }
        Some(Inventory {
            device_id,
            item_type,
            partial: false,
            tag: None,
            agent: None,
            identity: Identity {
                name: pick(&["name", "snmphostname", "dnshostname", "netbiosname"]),
                system_uuid: None,
                serial,
                manufacturer: pick(&["manufacturer"]),
                model: pick(&["model"]),
                chassis: None,
                bios: pick(&["firmware"]),
                memory_mb: info.and_then(|i| number(i, "ram")),
            },
            os: None,
            components,
            software: None,
            ips: Some(ips),
            software_raw: None,
        })
    }

    /// Parses a software section left raw by [`crate::protocol::parse_lazy`]; a no-op
    /// otherwise. A malformed section is reported like any malformed XML.
    pub fn resolve_software(&mut self) -> Result<(), InventoryError> {
        let Some(xml) = self.software_raw.as_mut().and_then(|r| r.xml.take()) else {
            return Ok(());
        };
        let doc = format!("<CONTENT>{xml}</CONTENT>");
        let root = crate::tree::parse_document(&doc)?;
        self.software = Some(software_of(&root));
        Ok(())
    }

    /// True while the software section is known only by its raw fingerprint.
    pub fn software_deferred(&self) -> bool {
        self.software_raw.as_ref().is_some_and(|r| r.xml.is_some())
    }

    /// A fingerprint per section present: `identity`, `os`, `software`, `ips` and
    /// `component:<kind>` (and `software_raw` for legacy XML). Equal fingerprints mean
    /// the section did not change.
    pub fn fingerprints(&self) -> BTreeMap<String, String> {
        let mut f = BTreeMap::new();
        if let Some(raw) = &self.software_raw {
            f.insert("software_raw".to_string(), raw.hash.clone());
        }
        f.insert("identity".to_string(), fingerprint(&self.identity));
        if let Some(os) = &self.os {
            f.insert("os".to_string(), fingerprint(os));
        }
        if let Some(s) = &self.software {
            f.insert("software".to_string(), fingerprint(s));
        }
        if let Some(ips) = &self.ips {
            f.insert("ips".to_string(), fingerprint(ips));
        }
        for (kind, list) in &self.components {
            f.insert(format!("component:{kind}"), fingerprint(list));
        }
        f
    }

    /// A one-line processor summary ("Intel(R) Core(TM) i5-6200U ×2").
    pub fn cpu_summary(&self) -> Option<String> {
        let cpus = self.components.get("cpu")?;
        let first = cpus.first()?;
        Some(if cpus.len() > 1 {
            format!("{} ×{}", first.name, cpus.len())
        } else {
            first.name.clone()
        })
    }
}
