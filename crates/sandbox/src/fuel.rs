//! Host work charged in fuel (invariant 3): every call from the plugin into the host, and what
//! the host delivers or takes in, is paid from the run's fuel budget at the rates of
//! [`HostCosts`], so the budget bounds the host's work for a run, not only the plugin's own
//! instructions, and the deadline is not the only bound on a loop of host calls.
//!
//! Component host functions get no handle on the store (they see the run's data only), so each
//! host function only notes what it owes in the run's [`HostMeter`] ([`HostCosts::call`] for
//! every `data`, `log`, `clock` and WASI call, the WASI ones through their view getters in
//! `cap/wasi.rs`; query work, records and bytes delivered in `cap/data.rs`), and the fuel is
//! taken in the store's call hook, which wasmtime runs on every transition between the plugin and the host, when
//! the call returns to the plugin, with the bytes it added to the run's log.
//!
//! Why on the return of a host function, and only there: wasmtime also runs the hook around
//! its own runtime calls (memory growth, the fuel yield) and around those made while it copies
//! a result into the plugin (the plugin's allocator growing its memory). Inside those the
//! plugin's fuel counter may be held in a register, not yet saved, so setting the fuel there
//! would be overwritten and miscount. Before calling an import the plugin always saves it and
//! after reloads it, so the hook charges only when returning from the outermost host call, and
//! only when that call owes something, which runtime calls never do.
//!
//! A charge larger than the fuel left sets the fuel to zero and traps with
//! [`HostFuelExhausted`], which the run reports as `fuel_exhausted`; the call's result is
//! discarded. A call's own work is thus done before it is paid for: one call's worth, at most
//! one batch.
//!
//! May touch: the run's fuel, its meter and its log's byte count; nothing else.

use wasmtime::{CallHook, StoreContextMut};

use super::RunState;
use super::limits::HostCosts;

/// What the current host call owes, charged when it returns to the plugin.
#[derive(Debug)]
pub struct HostMeter {
    costs: HostCosts,
    owed: u64,
    /// Host calls in progress: 1 inside a host function, more inside a runtime call made
    /// while a host function's result is copied into the plugin.
    depth: u32,
    /// Log bytes (kept or dropped) already paid for.
    log_paid: u64,
}

impl HostMeter {
    pub fn new(costs: HostCosts) -> Self {
        HostMeter {
            costs,
            owed: 0,
            depth: 0,
            log_paid: 0,
        }
    }

    fn owe(&mut self, fuel: u64) {
        self.owed = self.owed.saturating_add(fuel);
    }

    /// A call from the plugin into any host function.
    pub fn call(&mut self) {
        self.owe(self.costs.call);
    }

    /// An `open` or `next-batch` that reads the store.
    pub fn query(&mut self) {
        self.owe(self.costs.query);
    }

    /// A batch of `records` records and `bytes` bytes of field data delivered.
    pub fn delivered(&mut self, records: u64, bytes: u64) {
        self.owe(
            records
                .saturating_mul(self.costs.record)
                .saturating_add(bytes.div_ceil(64).saturating_mul(self.costs.read_64_bytes)),
        );
    }

    /// Takes what is owed, with the log bytes written since the last charge (`logged` is the
    /// log's running total).
    fn take(&mut self, logged: u64) -> u64 {
        let new = logged.saturating_sub(self.log_paid);
        self.log_paid = logged.max(self.log_paid);
        std::mem::take(&mut self.owed).saturating_add(new.saturating_mul(self.costs.log_byte))
    }
}

/// The run's fuel could not pay for the host's work: the run fails with `fuel_exhausted`.
#[derive(Debug, thiserror::Error)]
#[error(
    "the plugin used up its fuel budget: a call into the host cost {cost} fuel and {left} was left (host work is charged in fuel; ask for more fuel or call the host less often, e.g. with larger batches)"
)]
pub struct HostFuelExhausted {
    cost: u64,
    left: u64,
}

/// The store's call hook: charges the host's work when the outermost host call returns (see
/// the module doc).
pub fn hook(mut store: StoreContextMut<'_, RunState>, hook: CallHook) -> wasmtime::Result<()> {
    let state = store.data_mut();
    let cost = match hook {
        CallHook::CallingHost => {
            state.run.meter.depth += 1;
            return Ok(());
        }
        CallHook::ReturningFromHost => {
            let depth = state.run.meter.depth;
            state.run.meter.depth = depth.saturating_sub(1);
            if depth != 1 {
                return Ok(());
            }
            let logged = state.run.log.written();
            state.run.meter.take(logged)
        }
        CallHook::CallingWasm | CallHook::ReturningFromWasm => return Ok(()),
    };
    if cost == 0 {
        return Ok(());
    }
    let left = store.get_fuel()?;
    if cost > left {
        store.set_fuel(0)?;
        return Err(HostFuelExhausted { cost, left }.into());
    }
    store.set_fuel(left - cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_owes_its_work_and_the_new_log_bytes_once() {
        let costs = HostCosts {
            call: 1,
            query: 100,
            record: 3,
            read_64_bytes: 5,
            log_byte: 2,
        };
        let mut m = HostMeter::new(costs);
        m.query();
        m.delivered(10, 65);
        assert_eq!(m.take(7), 100 + 30 + 2 * 5 + 7 * 2);
        assert_eq!(m.take(7), 0, "charged twice");
        assert_eq!(m.take(8), 2);
    }
}
