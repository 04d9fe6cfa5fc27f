//! Insitu's core: the store, the sandbox and the domain (consent, requests, contracts, runs,
//! campaigns, studies, the ledger, licences, peers, accounts and a person's rights), behind
//! [`pds::Pds`]. The server (`insitu-server`) and the command line (`insitu`) sit on top.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of the crates.

pub mod account;
pub mod audit;
pub mod campaign;
pub mod codesign;
pub mod contract;
pub mod generate;
pub mod import;
pub mod job;
pub mod ledger;
pub mod licence;
pub mod noise;
pub mod package;
pub mod pds;
pub mod peer;
pub mod request;
pub mod rights;
pub mod run;
pub mod sandbox;
pub mod study;
pub mod view;

/// Pure data and rules, shared with the store and the sandbox (`insitu-model`).
pub use insitu_model::{clock, consent, meter, output};
/// The store: its trait, the redb backend and the conformance suite (`insitu-store`).
pub use insitu_store as store;
