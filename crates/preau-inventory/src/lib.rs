//! What the inventory agents and MDM consoles send, read into one normalised
//! [`Inventory`].
//!
//! - [`body`]: the request body as it comes off the wire — zlib (what OCS and
//!   FusionInventory send whatever their `Content-Type` says), gzip, raw deflate or plain —
//!   inflated with a hard bound on the inflated size.
//! - [`tree`]: legacy XML (`<REQUEST><CONTENT>…`) turned into the same JSON-like tree as
//!   GLPI Agent's native JSON, keys lower-cased, so that one reader serves both.
//! - [`normalize`]: the tree read into an [`Inventory`]: identity, OS, components, software,
//!   addresses, with per-section fingerprints so that an unchanged re-inventory can skip
//!   what did not change.
//! - [`protocol`]: the agents' request kinds (PROLOG, INVENTORY, contact…) and the replies
//!   they parse.
//! - [`mdm`]: Jamf School and Intune device exports (CSV).

pub mod body;
pub mod mdm;
pub mod normalize;
pub mod protocol;
pub mod tree;

pub use normalize::{Component, Identity, Inventory, ItemType, Os, Software};

/// Why a request body could not be read. Each variant names what is wrong, for the 4xx
/// answer the agent (and the administrator reading its log) gets.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InventoryError {
    #[error("empty body")]
    Empty,
    #[error("body larger than {0} bytes once inflated")]
    TooLarge(usize),
    #[error("corrupt compressed data ({0})")]
    Compression(String),
    #[error("body is neither XML nor JSON")]
    UnknownFormat,
    #[error("malformed XML: {0}")]
    Xml(String),
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("text is not valid {0}")]
    Encoding(String),
    #[error("nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("more than {0} elements or values")]
    TooManyNodes(usize),
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("unsupported request: {0}")]
    Unsupported(String),
}
