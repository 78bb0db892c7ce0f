//! Pure domain types and rules of Préau.
//!
//! Everything here is plain data and pure functions: no IO, no database, no HTTP, no clock.
//! Values are parsed at the boundary (`Uai::parse`, `SchoolKind::parse`…) so that the rest
//! of the code never holds an unchecked string where a domain value is meant.

pub mod access;
pub mod booking;
pub mod calendar;
pub mod connectivity;
pub mod device;
pub mod error;
pub mod needs;
pub mod onde;
pub mod org;
pub mod paris;
pub mod password;
pub mod planning;
pub mod pupils;
pub mod referentiel;
pub mod renewal;
pub mod sla;
pub mod subsidy;
pub mod text;
pub mod ticket;
pub mod uai;
pub mod visio;

pub use access::{Assignment, Principal, Role, SchoolScope};
pub use error::{FieldError, Lang};
pub use uai::Uai;
