//! The one integration-test binary (one binary links once; do not add files under
//! `tests/` beside this folder). Every test gets a fresh database: a temporary SQLite
//! file, or its own PostgreSQL schema when `PREAU_TEST_DATABASE_URL` is set.

mod admin;
mod agents;
mod api;
mod backup;
mod binary;
mod bookings;
mod browser;
mod cli;
mod connectivity;
mod devices;
mod funding;
mod fuzz;
mod hardening;
mod harness;
mod home;
mod inventory;
mod nodes;
mod org;
mod pupils;
mod roles;
mod signin;
mod steering;
mod tickets;
mod upgrade;
mod visio;
