//! `hostile-import`: tries to open a network connection. On `wasm32-wasip2` this makes the
//! component import `wasi:sockets`, which Insitu never links: install must refuse it.

use insitu_sdk::{Output, Params, Plugin, PluginError};

struct Exfiltrate;

impl Plugin for Exfiltrate {
    fn run(_: Params) -> Result<Output, PluginError> {
        match std::net::TcpStream::connect("127.0.0.1:9") {
            Ok(_) => Err(PluginError::Failed("connected out of the sandbox".into())),
            Err(e) => Err(PluginError::Failed(format!("connect failed: {e}"))),
        }
    }
}

insitu_sdk::export_plugin!(Exfiltrate);
