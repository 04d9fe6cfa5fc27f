//! The pooling allocator's limits, as operator settings ([`PoolSettings`]), and the plain
//! words for a component that passes one of them.
//!
//! The pool reserves, when the sandbox starts, the virtual address space of every slot: that
//! is what makes a run's instantiation cheap, and what each setting costs. Components built
//! by componentize-py and componentize-js hold far more core instances, memories and tables
//! than a Rust plugin (measured in ARCHITECTURE.md, "Sandbox pool"), so the defaults fit them.

use wasmtime::PoolingAllocationConfig;

/// Limits of the pooling allocator. Each has an environment variable the CLI and the server
/// read ([`PoolSettings::from_env`]); a component passing one is refused at install with the
/// setting named ([`explain`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Core module instances in one component, counted transitively
    /// (`INSITU_POOL_MAX_CORE_INSTANCES`). Default 64: a componentize-py plugin holds 38,
    /// a componentize-js one 4, a Rust one 3. Costs no reserved memory (instances are
    /// allocated when a run starts).
    pub max_core_instances: u32,
    /// Linear memories in one component (`INSITU_POOL_MAX_MEMORIES`). Default 2: the Rust,
    /// Python and JavaScript plugins have 1.
    pub max_memories: u32,
    /// Tables in one component (`INSITU_POOL_MAX_TABLES`). Default 8: all three have 2.
    pub max_tables: u32,
    /// Bytes of one component instance's host-side context plus its core instances'
    /// (`INSITU_POOL_MAX_COMPONENT_INSTANCE_BYTES`). Default 1 MiB: Python needs 402 KiB,
    /// JavaScript 204 KiB, Rust 7 KiB. Allocated per run, not reserved.
    pub max_component_instance_bytes: usize,
    /// Bytes of one core instance's host-side context
    /// (`INSITU_POOL_MAX_CORE_INSTANCE_BYTES`). Default 1 MiB.
    pub max_core_instance_bytes: usize,
    /// Core instances the pool holds per slot (`INSITU_POOL_CORE_INSTANCES_PER_SLOT`):
    /// the pool's total is this times the slots. Default 64 (a count, no reservation).
    pub core_instances_per_slot: u32,
    /// Memories per slot (`INSITU_POOL_MEMORIES_PER_SLOT`). Default 2. Each is a full memory
    /// reservation (about 4 GiB of address space): nearly all of the pool's.
    pub memories_per_slot: u32,
    /// Tables per slot (`INSITU_POOL_TABLES_PER_SLOT`). Default 8. Each reserves 8 bytes per
    /// element of [`super::Limits::table_elements`] (7.6 MiB at the operator's maximum).
    pub tables_per_slot: u32,
    /// Bytes at the start of each pooled linear memory kept resident between runs and reset
    /// with `memset` instead of being decommitted (`INSITU_POOL_KEEP_RESIDENT_BYTES`).
    /// Default 256 KiB: the whole memory of a small plugin linked with a 64 KiB stack (the
    /// no-op's 128 KiB, the Rust template's 192 KiB), so that its runs take no page fault; the
    /// `memset` covers only what the run's memory holds, and each slot keeps up to this much
    /// resident (32 MiB for 128 slots). Measured in `benches/sandbox.rs`, `overhead`
    /// (docs/BENCHMARKS.md).
    pub keep_resident_bytes: usize,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_core_instances: 64,
            max_memories: 2,
            max_tables: 8,
            max_component_instance_bytes: 1 << 20,
            max_core_instance_bytes: 1 << 20,
            core_instances_per_slot: 64,
            memories_per_slot: 2,
            tables_per_slot: 8,
            keep_resident_bytes: 256 << 10,
        }
    }
}

/// The environment variable of each setting, in the order of [`PoolSettings`]'s fields, and
/// the variable of the slot count ([`super::SandboxConfig::pool`]).
pub const ENV_SLOTS: &str = "INSITU_POOL_SLOTS";
const ENV_CORE: &str = "INSITU_POOL_MAX_CORE_INSTANCES";
const ENV_MEMORIES: &str = "INSITU_POOL_MAX_MEMORIES";
const ENV_TABLES: &str = "INSITU_POOL_MAX_TABLES";
const ENV_COMPONENT_BYTES: &str = "INSITU_POOL_MAX_COMPONENT_INSTANCE_BYTES";
const ENV_CORE_BYTES: &str = "INSITU_POOL_MAX_CORE_INSTANCE_BYTES";
const ENV_CORE_SLOT: &str = "INSITU_POOL_CORE_INSTANCES_PER_SLOT";
const ENV_MEMORIES_SLOT: &str = "INSITU_POOL_MEMORIES_PER_SLOT";
const ENV_TABLES_SLOT: &str = "INSITU_POOL_TABLES_PER_SLOT";
const ENV_KEEP_RESIDENT: &str = "INSITU_POOL_KEEP_RESIDENT_BYTES";

impl PoolSettings {
    /// The defaults, each replaced by its environment variable when set. A variable that is
    /// set but not a positive integer is an error naming it.
    pub fn from_env() -> anyhow::Result<PoolSettings> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// As [`PoolSettings::from_env`], reading variables through `get`.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<PoolSettings> {
        let mut s = PoolSettings::default();
        read(&get, ENV_CORE, &mut s.max_core_instances)?;
        read(&get, ENV_MEMORIES, &mut s.max_memories)?;
        read(&get, ENV_TABLES, &mut s.max_tables)?;
        read(
            &get,
            ENV_COMPONENT_BYTES,
            &mut s.max_component_instance_bytes,
        )?;
        read(&get, ENV_CORE_BYTES, &mut s.max_core_instance_bytes)?;
        read(&get, ENV_CORE_SLOT, &mut s.core_instances_per_slot)?;
        read(&get, ENV_MEMORIES_SLOT, &mut s.memories_per_slot)?;
        read(&get, ENV_TABLES_SLOT, &mut s.tables_per_slot)?;
        read(&get, ENV_KEEP_RESIDENT, &mut s.keep_resident_bytes)?;
        Ok(s)
    }

    /// Sets the pool for `slots` runs at once. A per-slot total below the per-component
    /// maximum is raised to it, so that every slot can hold any component that installs.
    pub(crate) fn apply(&self, pool: &mut PoolingAllocationConfig, slots: u32) {
        let per_slot = |n: u32, max: u32| slots.saturating_mul(n.max(max));
        pool.total_component_instances(slots);
        pool.total_core_instances(per_slot(
            self.core_instances_per_slot,
            self.max_core_instances,
        ));
        pool.total_memories(per_slot(self.memories_per_slot, self.max_memories));
        pool.total_tables(per_slot(self.tables_per_slot, self.max_tables));
        pool.total_stacks(slots);
        pool.max_core_instances_per_component(self.max_core_instances);
        pool.max_memories_per_component(self.max_memories);
        pool.max_tables_per_component(self.max_tables);
        pool.max_memories_per_module(self.max_memories);
        pool.max_tables_per_module(self.max_tables);
        pool.max_component_instance_size(self.max_component_instance_bytes);
        pool.max_core_instance_size(self.max_core_instance_bytes);
        pool.linear_memory_keep_resident(self.keep_resident_bytes);
    }
}

/// Reads the positive integer setting `name` through `get` into `into`, if set.
pub(crate) fn read<T: std::str::FromStr + PartialOrd + Default>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    into: &mut T,
) -> anyhow::Result<()> {
    if let Some(v) = get(name) {
        match v.trim().parse::<T>() {
            Ok(n) if n > T::default() => *into = n,
            _ => anyhow::bail!("{name} must be a positive integer, not `{v}`"),
        }
    }
    Ok(())
}

/// The numbers in `text`, in order (wasmtime's messages carry the count and the limit).
fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// When `err` (wasmtime's refusal of a component, or of its instantiation) comes from one of
/// the pool's limits: the plain words, naming the setting and its value. `None` otherwise.
pub fn explain(err: &str, s: &PoolSettings) -> Option<String> {
    let after = |marker: &str| err.split(marker).nth(1).map(numbers).unwrap_or_default();
    let found = |what: &str, has: Option<u64>, limit: u64, var: &str| {
        let has = has.map(|n| n.to_string()).unwrap_or_else(|| "more".into());
        Some(format!(
            "this component has {has} {what}; the host allows {limit} ({var}); the operator can raise it"
        ))
    };
    if err.contains("core module instances, which exceeds") {
        let n = after("transitively contains").first().copied();
        return found("core instances", n, s.max_core_instances.into(), ENV_CORE);
    }
    if err.contains("Wasm linear memories, which exceeds")
        || err.contains("defined memories count of")
    {
        let n = after("contains")
            .first()
            .or(after("memories count of").first())
            .copied();
        return found("memories", n, s.max_memories.into(), ENV_MEMORIES);
    }
    if err.contains("tables, which exceeds") || err.contains("defined tables count of") {
        let n = after("contains")
            .first()
            .or(after("tables count of").first())
            .copied();
        return found("tables", n, s.max_tables.into(), ENV_TABLES);
    }
    if err.contains("`VMComponentContext`") {
        let n = after("requires").first().copied();
        return Some(format!(
            "this component needs {} bytes of instance context; the host allows {} ({ENV_COMPONENT_BYTES}); the operator can raise it",
            n.map(|n| n.to_string()).unwrap_or_else(|| "more".into()),
            s.max_component_instance_bytes
        ));
    }
    if err.contains("instance allocation for this module requires") {
        let n = after("requires").first().copied();
        return Some(format!(
            "a module of this component needs {} bytes of instance context; the host allows {} ({ENV_CORE_BYTES}); the operator can raise it",
            n.map(|n| n.to_string()).unwrap_or_else(|| "more".into()),
            s.max_core_instance_bytes
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_environment_and_bad_values_are_named() {
        let s = PoolSettings::from_vars(|k| (k == ENV_CORE).then(|| "40".to_string())).unwrap();
        assert_eq!(s.max_core_instances, 40);
        assert_eq!(s.max_memories, PoolSettings::default().max_memories);
        let e =
            PoolSettings::from_vars(|k| (k == ENV_TABLES).then(|| "lots".to_string())).unwrap_err();
        assert!(e.to_string().contains(ENV_TABLES), "{e}");
        assert!(PoolSettings::from_vars(|k| (k == ENV_MEMORIES).then(|| "0".into())).is_err());
    }

    #[test]
    fn wasmtime_refusals_name_the_setting() {
        let s = PoolSettings {
            max_core_instances: 16,
            ..PoolSettings::default()
        };
        let e = "The component transitively contains 38 core module instances, which exceeds \
                 the configured maximum of 16 in the pooling allocator";
        assert_eq!(
            explain(e, &s).unwrap(),
            "this component has 38 core instances; the host allows 16 \
             (INSITU_POOL_MAX_CORE_INSTANCES); the operator can raise it"
        );
        let e = "The component transitively contains 5 Wasm linear memories, which exceeds \
                 the configured maximum of 2 in the pooling allocator";
        assert!(
            explain(e, &s)
                .unwrap()
                .contains("5 memories; the host allows 2 (INSITU_POOL_MAX_MEMORIES)")
        );
        assert_eq!(explain("unexpected end of input", &s), None);
    }
}
