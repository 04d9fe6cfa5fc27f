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
        world: "insitu:plugin/plugin",
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
