//! Insitu: a personal data store that runs third parties' algorithms in place.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of this crate.

pub mod account;
pub mod audit;
pub mod campaign;
pub mod cli;
pub mod consent;
pub mod contract;
pub mod generate;
pub mod import;
pub mod job;
pub mod ledger;
pub mod licence;
pub mod meter;
pub mod noise;
pub mod output;
pub mod package;
pub mod pds;
pub mod peer;
pub mod request;
pub mod rights;
pub mod run;
pub mod sandbox;
pub mod server;
pub mod store;
pub mod study;
pub mod view;
