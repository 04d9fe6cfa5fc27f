//! The plugin side of Insitu: everything a plugin author needs, with wit-bindgen hidden.
//!
//! A plugin is a Rust library crate built as a `cdylib` for `wasm32-wasip2`. It depends on this
//! crate alone, implements [`Plugin`], and exports it with [`export_plugin!`]. Inside the store
//! it sees only the collections, fields and time window that the person granted; everything
//! else does not exist for it.
//!
//! # Example
//!
//! A complete plugin that counts a person's transactions and sums their amounts:
//!
//! ```no_run
//! use insitu_sdk::{Metric, Output, Params, Plugin, PluginError, Query, Scalar, Money};
//!
//! struct Totals;
//!
//! impl Plugin for Totals {
//!     fn run(params: Params) -> Result<Output, PluginError> {
//!         let currency = params.text_or("currency", "EUR")?;
//!         let mut count = 0i64;
//!         let mut total = 0i64;
//!         let mut rows = Query::new("bank.transactions").fields(&["amount"]).open()?;
//!         while let Some(batch) = rows.next_batch()? {
//!             for row in batch.rows() {
//!                 count += 1;
//!                 if let Some(m) = row.money("amount") {
//!                     if m.currency == currency {
//!                         total += m.minor;
//!                     }
//!                 }
//!             }
//!         }
//!         Ok(Output::Metrics(vec![
//!             Metric { name: "count".into(), value: Scalar::Integer(count) },
//!             Metric { name: "total".into(), value: Scalar::Money(Money { minor: total, currency }) },
//!         ]))
//!     }
//! }
//!
//! insitu_sdk::export_plugin!(Totals);
//! ```
//!
//! The crate's `Cargo.toml` sets `crate-type = ["cdylib"]`; `cargo build --target wasm32-wasip2
//! --release` then produces the component to install.

mod batch;
mod params;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        // `plugin` and the optional interfaces (`clock`): a plugin imports only what it calls,
        // so one that never asks for the date does not import `clock`.
        world: "insitu:plugin/host",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "insitu_sdk::bindings",
    });
}

pub use batch::{Batch, MoneyView, Query, Row, Rows, TextView};
pub use bindings::insitu::plugin::data::DataError;
pub use bindings::insitu::plugin::output::{
    Evidence, Finding, FindingsReport, Metric, Param, PluginError, PluginOutput as Output, Table,
};
pub use bindings::insitu::plugin::types::{CollectionInfo, FieldInfo, FieldKind, Money, Scalar};
pub use params::Params;

/// What a plugin implements: one entry point, called once per run.
pub trait Plugin {
    /// Runs the algorithm. `params` are given by whoever started the run; return the output
    /// that the manifest's contract declares, or a [`PluginError`].
    fn run(params: Params) -> Result<Output, PluginError>;
}

/// The collections this run may read, with their granted fields and time windows.
pub fn collections() -> Vec<CollectionInfo> {
    bindings::insitu::plugin::data::collections()
}

/// The longest texts the host accepts in a finding, in bytes; a finding over any of them
/// withholds the whole output (a campaign member releases every byte of a finding they tick).
pub const MAX_RULE_BYTES: usize = 64;
pub const MAX_LABEL_BYTES: usize = 256;
pub const MAX_REASON_BYTES: usize = 512;

/// `text` cut to at most `max` bytes at a character boundary, ending with `…` when cut: for
/// labels copied from records, which banks sometimes make long.
pub fn fit(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The run's as-of date (`insitu:plugin/clock`).
pub mod clock {
    /// The day the run is as of, in milliseconds since the Unix epoch at 00:00 UTC: the day
    /// the run was requested, or the day its campaign or study opened. Use it to end windows
    /// that count back from "today"; it is never the current time (the WASI clocks are
    /// frozen). Calling it makes the plugin import `insitu:plugin/clock`, which its manifest
    /// must list by name (`"imports": ["insitu:plugin", "insitu:plugin/clock", ...]`); the
    /// person is told the plugin learns this date.
    pub fn today() -> i64 {
        crate::bindings::insitu::plugin::clock::today()
    }
}

/// Log levels for [`log`].
pub use bindings::insitu::plugin::log::Level;

/// Writes a diagnostic line to the run's log. The host caps the log per run and drops (and
/// counts) what exceeds the cap, so logging never fails.
pub fn log(level: Level, message: &str) {
    bindings::insitu::plugin::log::log(level, message)
}

impl From<DataError> for PluginError {
    fn from(e: DataError) -> Self {
        PluginError::Data(match e {
            DataError::UnknownCollection(c) => format!("unknown collection `{c}`"),
            DataError::UnknownField(f) => format!("unknown field `{f}`"),
            DataError::AccessEnded => "access ended during the run".into(),
            DataError::LimitReached(what) => format!("limit reached: {what}"),
            DataError::TooManyQueries => "too many queries open".into(),
        })
    }
}

#[doc(hidden)]
pub struct Adapter<P>(std::marker::PhantomData<P>);

impl<P: Plugin> bindings::Guest for Adapter<P> {
    fn run(params: Vec<Param>) -> Result<Output, PluginError> {
        P::run(Params::new(params))
    }
}

/// Exports a [`Plugin`] implementation as the component's `run`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        type __InsituAdapter = $crate::Adapter<$plugin>;
        $crate::bindings::__export_world!(__InsituAdapter with_types_in $crate::bindings);
    };
}

#[cfg(test)]
mod fit_tests {
    use super::fit;

    #[test]
    fn fit_cuts_at_a_character_boundary_within_the_cap() {
        assert_eq!(fit("short", 256), "short");
        let long = "é".repeat(300);
        let cut = fit(&long, 256);
        assert!(cut.len() <= 256 && cut.ends_with('…'), "{}", cut.len());
        assert!(fit("abcdef", 4).len() <= 4);
    }
}
