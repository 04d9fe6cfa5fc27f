//! `dated`: reports the date its run is as of (`insitu:plugin/clock`), so tests can check what
//! the host gives a plugin that asks for it. Metrics: `today` (the as-of date), `wasi-now` (the
//! WASI wall clock, which stays frozen at the epoch whatever the plugin imports) and
//! `collections` (how many it may read).

use std::time::{SystemTime, UNIX_EPOCH};

use insitu_sdk::{Metric, Output, Params, Plugin, PluginError, Scalar};

struct Dated;

impl Plugin for Dated {
    fn run(_: Params) -> Result<Output, PluginError> {
        let wasi_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(-1, |d| d.as_millis() as i64);
        let metric = |name: &str, value| Metric {
            name: name.into(),
            value,
        };
        Ok(Output::Metrics(vec![
            metric("today", Scalar::Timestamp(insitu_sdk::clock::today())),
            metric("wasi-now", Scalar::Timestamp(wasi_now)),
            metric(
                "collections",
                Scalar::Integer(insitu_sdk::collections().len() as i64),
            ),
        ]))
    }
}

insitu_sdk::export_plugin!(Dated);
