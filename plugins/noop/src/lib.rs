//! `noop`: returns an empty metrics output at once. Used to measure per-run overhead.

use insitu_sdk::{Output, Params, Plugin, PluginError};

struct Noop;

impl Plugin for Noop {
    fn run(_: Params) -> Result<Output, PluginError> {
        Ok(Output::Metrics(Vec::new()))
    }
}

insitu_sdk::export_plugin!(Noop);
