//! Fragments several features' pages show: a device row (the inventory, a room's page),
//! visits and the windows to plan one (the planner, a ticket's page, a school's page),
//! pupils and loans (a class's page, the bulk screen, a device's page); amounts and charts
//! (the steering pages). They live here so
//! that no feature's page module imports another's.

pub mod charts;
pub mod devices;
pub mod pupils;
pub mod spending;
pub mod visits;
