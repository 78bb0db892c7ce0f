//! Préau's use cases and persistence.
//!
//! One module per domain (`schools`, `rooms`, `classes`…), each with one function per
//! action (`schools::create`, `rooms::update`…). The web handlers, the JSON API, the
//! command line and the demo loader all call these same functions, so that each rule —
//! scope, validation, audit — is written once. SQL lives only in this crate.

pub mod audit;
pub mod backup;
pub mod bookings;
pub mod calendar;
pub mod classes;
pub mod collectivites;
pub mod connectivity;
pub mod contracts;
pub mod copy;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod http;
pub mod import;
pub mod interventions;
pub mod inventory;
pub mod jobs;
pub mod mail;
pub mod notifications;
pub mod pupils;
pub mod reports;
pub mod rooms;
pub mod routing;
pub mod schools;
pub mod secrets;
pub mod signin;
pub mod spreadsheet;
pub mod steering;
pub mod tickets;
pub mod users;
pub mod visio;
pub mod years;

pub use db::{Db, Tx};
pub use error::{AppError, AppResult};
