//! Insitu's core: the store, the sandbox and the domain (consent, requests, contracts, runs,
//! campaigns, studies, the ledger, licences, peers, accounts and a person's rights), behind
//! [`pds::Pds`]. The server (`insitu-server`) and the command line (`insitu`) sit on top.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of the crates.

pub mod account;
pub mod audit;
pub mod campaign;
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
pub mod store;
pub mod study;
pub mod view;
