//! Host side of `insitu:plugin/clock`: the date a run is "as of", which windows that count
//! back from today end on.
//!
//! Not the time (invariant 1: a plugin holds no clock, and the WASI clocks stay frozen,
//! `wasi.rs`). The date comes with the run's request ([`AsOf`]), at day precision: for a
//! campaign's or a study's members, the day the job opened, the same for every member; for a
//! single run, the day it was requested. It never depends on the person's data, and nothing
//! about when the run executes reaches the plugin through it. A plugin that imports this
//! interface names it in its manifest, and the consent screen says it learns the date
//! (`package::imports`, `Manifest::describe`). Each call is charged like any host call.

use wasmtime::component::{HasData, Linker};

use super::super::bindings::insitu::plugin::clock::{self as wit, Host};
use super::{Capability, RunInputs, Shared, State, View};

/// A day, in milliseconds.
pub use insitu_formats::time::DAY_MS;

/// The day a run is as of: milliseconds since the Unix epoch at 00:00 UTC of that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOf(i64);

impl AsOf {
    /// The day holding `ms` (any time that day: only the day is kept).
    pub fn day_of(ms: i64) -> Self {
        AsOf(ms.div_euclid(DAY_MS) * DAY_MS)
    }

    /// 00:00 UTC of the day, ms since the epoch.
    pub fn ms(self) -> i64 {
        self.0
    }
}

/// `clock`'s per-run state: the run's date.
pub struct ClockState {
    today: AsOf,
}

/// `insitu:plugin/clock`: its state is the run's [`AsOf`] input; a run given none (a sandbox
/// run outside the runner) is as of the day it executes.
pub(crate) const CAPABILITY: Capability = Capability {
    link: |l| add_to_linker(l, super::view),
    state,
    finish: super::nothing,
};

fn state(inputs: &mut RunInputs, _: &Shared) -> State {
    // The one place the sandbox reads the system clock, and only for a run given no as-of date
    // (`Sandbox::execute` called directly, as the sandbox's own tests do): every run through
    // core's runner carries one, from the store's clock.
    let today = inputs.take::<AsOf>().unwrap_or_else(|| {
        AsOf::day_of(insitu_model::clock::Clock::now_ms(
            &insitu_model::clock::SystemClock,
        ))
    });
    Ok(Some(Box::new(ClockState { today })))
}

/// The view `clock`'s host function runs on.
pub type ClockView<'a> = View<'a, ClockState>;

/// `clock`'s [`HasData`].
pub struct Clock;

impl HasData for Clock {
    type Data<'a> = ClockView<'a>;
}

/// Adds `insitu:plugin/clock` to `linker`, reaching each run's view through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> ClockView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, Clock>(linker, get)
}

impl Host for ClockView<'_> {
    fn today(&mut self) -> wasmtime::Result<i64> {
        self.run.usage.host_calls += 1;
        self.run.meter.call();
        Ok(self.state.today.ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_keeps_only_its_day() {
        // 2026-11-30T17:05:00.123Z
        let t = 1_796_058_300_123;
        assert_eq!(AsOf::day_of(t).ms(), 1_795_996_800_000);
        assert_eq!(AsOf::day_of(t).ms() % DAY_MS, 0);
        assert_eq!(AsOf::day_of(1_795_996_800_000), AsOf::day_of(t));
        assert_eq!(AsOf::day_of(-1).ms(), -DAY_MS);
    }
}
