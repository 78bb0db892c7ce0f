//! Inventory: every device in every room.
//!
//! - [`categories`]: device categories, data per collectivité (built-ins plus the
//!   administrator's own).
//! - [`devices`]: devices typed by hand or imported: read with scope, list with filters,
//!   create, update, place, merge; their history ([`devices::events`]).
//! - [`ingest`]: what the agents send, reconciled with what is stored, section by section.
//! - [`agents`]: the collectivité's agent credentials.
//! - [`csv_import`]: device CSV and MDM exports.

pub mod agents;
pub mod categories;
pub mod csv_import;
pub mod devices;
pub mod ingest;
