//! The `insitu` command line: the operator's and the plugin author's tool. `main.rs` parses
//! the arguments and calls [`cli::main`]; the demo (`insitu-demo`) reuses its printing.
//!
//! See `ARCHITECTURE.md` at the repository root for the map of the crates.

pub mod cli;
