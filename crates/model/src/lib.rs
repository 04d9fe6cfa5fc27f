//! Insitu's data and pure rules: people and records, grants and their check, manifests and
//! limits, run records and usage, audit events and their chain, accounts and roles, jobs and
//! the policy, ledger entries and parties, licences, offers and access requests.
//!
//! Every layer above shares these types: the store keeps them, the sandbox and the domain
//! compute with them. This crate does no I/O and knows nothing of storage, WebAssembly or
//! HTTP. The layers above are given the time through [`clock::Clock`]: [`clock::SystemClock`]
//! is the one place that reads the system's clock, [`clock::ManualClock`] the tests' clock.

pub mod account;
pub mod audit;
pub mod checkpoint;
pub mod clock;
pub mod codesign;
pub mod consent;
pub mod job;
pub mod ledger;
pub mod licence;
pub mod limits;
pub mod manifest;
pub mod meter;
pub mod output;
pub mod peer;
pub mod records;
pub mod request;
