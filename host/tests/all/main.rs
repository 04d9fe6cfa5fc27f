//! The host's integration tests, linked as one test binary (one link instead of one per
//! file: issue #16). Each former `tests/<name>.rs` is a module here; run one with
//! `cargo test -p insitu --test all <name>::`.

mod cli_common;
mod common;
mod outside;

mod accounts;
mod archives;
mod browser;
mod cache;
mod campaigns;
mod cli;
mod clock;
mod coaching;
mod codesign;
mod contracts;
mod docs;
mod fee_scanner;
mod grants;
mod guide;
mod hostile;
mod http;
mod import;
mod kit;
mod languages;
mod layers;
mod ledger;
mod listings;
mod nodes;
mod noninterference;
mod openapi;
mod packages;
mod pages;
mod peer;
mod plugin_test;
mod requests;
mod rights;
mod server;
mod store;
mod studies;
