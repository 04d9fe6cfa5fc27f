//! `hostile-start`: loops forever in a static constructor, which runs when the component
//! starts, before `run` is entered. The run's fuel and deadline must cover start-up too.

use insitu_sdk::{Output, Params, Plugin, PluginError};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
extern "C" fn spin_at_start() {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

// Only in the component: a native build of this crate (tests, clippy) must not spin at start.
#[cfg(target_arch = "wasm32")]
#[used]
#[unsafe(link_section = ".init_array")]
static START: extern "C" fn() = spin_at_start;

struct Start;

impl Plugin for Start {
    fn run(_: Params) -> Result<Output, PluginError> {
        Ok(Output::Metrics(Vec::new()))
    }
}

insitu_sdk::export_plugin!(Start);
