//! Steering: where the schools stand against the collectivité's référentiel, and what it
//! would cost to close the gap. `referentiel` keeps the rules (the socle until the
//! administrator edits them) and the categories' unit prices; `coverage` gathers each
//! school's facts in a handful of queries for the whole collectivité and lets
//! `preau_domain::referentiel::evaluate` give the verdicts; `renewal` ages the fleet and plans
//! its replacement year by year under the collectivité's cap.

pub mod coverage;
pub mod referentiel;
pub mod renewal;
