//! Insitu's plugin host: compiles, installs and runs plugins under wasmtime, with no ambient
//! capability and every run bounded (invariants 1 and 3).
//!
//! This module narrows wasmtime to what Insitu needs: one engine with the component model,
//! fuel, epoch interruption and a pooling allocator; a linker holding only the Insitu
//! interfaces and a locked subset of WASI, each a capability of `cap/` with its own per-run
//! state; compiled components cached on disk by digest and
//! instantiated cheaply through pre-instantiated `PluginPre`s. Fuel pays for the host's work
//! as well as the plugin's instructions (`fuel.rs`), and the record ids a plugin sees are
//! per-grant pseudonyms (`pseudonym.rs`).
//!
//! This crate knows nothing of the store, of packages or of consent beyond a grant's check: it
//! reads records through the [`DataSource`] its caller gives each run (checked against the
//! run's grant by [`data::DataAccess`]), and keeps installed components and its compiled
//! code's hashes through [`CodeStore`]. `insitu-core` implements both over the store.
//!
//! May touch: the plugin and compiled-cache directories, and what its two traits reach.

pub mod bindings;
mod cache;
pub mod cap;
mod fuel;
pub mod source;
/// Run limits and host costs are data (`insitu-model`).
pub use insitu_model::limits;
pub mod pool;
pub mod pseudonym;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Trap};

pub use bindings::PluginPre;
pub use cap::clock::AsOf;
pub use cap::data;
pub use cap::log::LogSink;
pub use cap::{RunInputs, Shared};
pub use limits::{HostCosts, Limits};
pub use pool::PoolSettings;
pub use source::{Batches, CodeStore, DataSource, SourceError, UnderGrant};

use insitu_model::audit::hex;
use insitu_model::meter::{FailureReason, Usage};
use insitu_model::output::PluginOutput;

/// Largest component accepted at install.
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;

/// Epoch tick period: the resolution of the wall-clock deadline inside WebAssembly.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Fuel between cooperative yields to the async executor, so one long run never starves the
/// others sharing a thread.
const FUEL_YIELD: u64 = 1_000_000;

/// How the sandbox is set up.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where compiled code (`compiled/`) lives, and where components were installed
    /// (`<digest>.wasm`) before the store kept them.
    pub dir: PathBuf,
    /// Largest limits any run may have.
    pub max: Limits,
    /// Runs that may be instantiated at once (the pooling allocator's slots). Default 128;
    /// `INSITU_POOL_SLOTS` in [`SandboxConfig::from_env`].
    pub pool: u32,
    /// The pooling allocator's per-component and per-slot limits.
    pub pool_settings: PoolSettings,
    /// What host work costs each run in fuel. Default [`HostCosts::default`].
    pub costs: HostCosts,
}

impl SandboxConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SandboxConfig {
            dir: dir.into(),
            max: Limits::operator_max(),
            pool: 128,
            pool_settings: PoolSettings::default(),
            costs: HostCosts::default(),
        }
    }

    /// [`SandboxConfig::new`] with the operator's settings from the environment: the pool's
    /// slots (`INSITU_POOL_SLOTS`) and limits ([`PoolSettings::from_env`]). What the CLI and
    /// the server use.
    pub fn from_env(dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let mut c = SandboxConfig::new(dir);
        c.pool_settings = PoolSettings::from_env()?;
        pool::read(&|k| std::env::var(k).ok(), pool::ENV_SLOTS, &mut c.pool)?;
        Ok(c)
    }
}

/// The store data of one run: what every capability shares, each capability's own state
/// (found by type, `cap::Caps`), and the memory limiter. Names no capability.
pub struct RunState {
    run: Shared,
    caps: cap::Caps,
    limiter: Limiter,
}

/// The memory (or table) cap was hit: the typed reason a run fails with.
#[derive(Debug, thiserror::Error)]
#[error("the plugin tried to grow its {what} to {wanted} but its limit is {limit}")]
pub struct LimitExceeded {
    what: &'static str,
    wanted: usize,
    limit: u64,
}

struct Limiter {
    memory: u64,
    table_elements: u64,
    peak: u64,
    /// The store's counts, the same as the pool's per-component maxima ([`PoolSettings`]).
    instances: usize,
    tables: usize,
    memories: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory {
            return Err(LimitExceeded {
                what: "memory",
                wanted: desired,
                limit: self.memory,
            }
            .into());
        }
        self.peak = self.peak.max(desired as u64);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.table_elements {
            return Err(LimitExceeded {
                what: "table",
                wanted: desired,
                limit: self.table_elements,
            }
            .into());
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }
    fn tables(&self) -> usize {
        self.tables
    }
    fn memories(&self) -> usize {
        self.memories
    }
}

/// Why a component was refused.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {0} bytes; the largest plugin accepted is {MAX_COMPONENT_BYTES} bytes")]
    TooLarge(usize),
    #[error("not a WebAssembly file (it does not start with `\\0asm`)")]
    NotWasm,
    #[error(
        "this is a core WebAssembly module, not a component; build the plugin for `wasm32-wasip2` (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule,
    #[error("the component is invalid: {0}")]
    Invalid(String),
    /// A valid component that passes one of the operator's pool limits ([`PoolSettings`]):
    /// the message names the setting and its value.
    #[error("{0}")]
    HostLimit(String),
    #[error("the plugin imports an interface Insitu does not provide: {0}")]
    UnsupportedImport(String),
    #[error(
        "the component is not an Insitu plugin (it does not export `run` as `insitu:plugin@0.2.0` defines it): {0}"
    )]
    NotAPlugin(String),
    #[error("cannot write the plugin to {path}: {reason}")]
    Io { path: String, reason: String },
}

/// The cheap checks on raw bytes, before anything parses them: size, magic, and that this is
/// a component rather than a core module.
pub fn check_bytes(bytes: &[u8]) -> Result<(), ComponentError> {
    if bytes.is_empty() {
        return Err(ComponentError::Empty);
    }
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(ComponentError::TooLarge(bytes.len()));
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(ComponentError::NotWasm);
    }
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(ComponentError::CoreModule);
    }
    Ok(())
}

/// A component checked and compiled by [`Sandbox::compile`], not yet installed.
pub struct Compiled<'a> {
    /// The SHA-256 of its bytes, in hex: what it is installed and found under.
    pub digest: String,
    /// The interfaces it imports, as the component names them.
    pub imports: Vec<String>,
    bytes: &'a [u8],
    component: Component,
    pre: PluginPre<RunState>,
}

impl Compiled<'_> {
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// The result of executing a plugin once.
#[derive(Debug)]
pub struct Execution {
    pub usage: Usage,
    pub outcome: Result<PluginOutput, (FailureReason, String)>,
    pub log: String,
    pub read: Vec<(String, Vec<String>)>,
    /// Every record the plugin was given, by the pseudonym it saw: what an id in its output
    /// may refer to. Stays in the host.
    pub delivered: pseudonym::Delivered,
}

/// The plugin host. Cheap to share behind an `Arc`; runs may execute concurrently.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<RunState>,
    code: Arc<dyn CodeStore>,
    config: SandboxConfig,
    loaded: Mutex<HashMap<String, PluginPre<RunState>>>,
    /// Held while a plugin is read from the compiled cache or compiled, so that the runs of a
    /// job that all start on a cold cache wait for one compile instead of each compiling.
    loading: Mutex<()>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl Sandbox {
    /// A sandbox over `config.dir`, keeping components and compiled code's hashes in `code`.
    pub fn new(code: Arc<dyn CodeStore>, config: SandboxConfig) -> anyhow::Result<Self> {
        let mut cfg = Config::new();
        cfg.wasm_component_model(true);
        cfg.consume_fuel(true);
        cfg.epoch_interruption(true);
        // Deep recursion traps at this depth instead of overflowing the host's stack.
        cfg.max_wasm_stack(1 << 20);
        cfg.async_stack_size(2 << 20);
        let mut pool = PoolingAllocationConfig::default();
        config.pool_settings.apply(&mut pool, config.pool.max(1));
        pool.max_memory_size(config.max.memory as usize);
        pool.table_elements(config.max.table_elements as usize);
        // Reset reused slots with memset rather than madvise up to these sizes: fewer page
        // faults and TLB shootdowns per run (measured in benches/sandbox.rs, `overhead`). The
        // linear memory's part is a pool setting (`keep_resident_bytes`).
        pool.table_keep_resident(64 << 10);
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&cfg)?;

        let mut linker = Linker::new(&engine);
        cap::link(&mut linker)?;

        std::fs::create_dir_all(config.dir.join("compiled"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (e, s) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("insitu-epoch".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    e.increment_epoch();
                }
            })?;
        Ok(Sandbox {
            engine,
            linker,
            code,
            config,
            loaded: Mutex::new(HashMap::new()),
            loading: Mutex::new(()),
            stop_ticker: stop,
        })
    }

    pub fn max_limits(&self) -> &Limits {
        &self.config.max
    }

    /// Where a component installed before components were kept in the store lies.
    fn legacy_path(&self, digest: &str) -> PathBuf {
        self.config.dir.join(format!("{digest}.wasm"))
    }

    /// Checks and compiles a component: refuses anything that is not a valid Insitu plugin,
    /// with the reason. Nothing is written: [`Sandbox::install`] does that, once the caller
    /// has checked what it needs to (a package's signature and declared imports).
    pub fn compile<'a>(&self, bytes: &'a [u8]) -> Result<Compiled<'a>, ComponentError> {
        check_bytes(bytes)?;
        let component = Component::new(&self.engine, bytes).map_err(|e| {
            let msg = format!("{e:#}");
            match pool::explain(&msg, &self.config.pool_settings) {
                Some(limit) => ComponentError::HostLimit(limit),
                None => ComponentError::Invalid(msg),
            }
        })?;
        let pre = self.prepare(&component)?;
        let imports = component
            .component_type()
            .imports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        Ok(Compiled {
            digest: hex(&Sha256::digest(bytes)),
            imports,
            bytes,
            component,
            pre,
        })
    }

    /// Installs a compiled component under its digest: the component and its compiled code
    /// are written, and it is ready to run. Installing the same bytes twice is harmless.
    pub fn install(&self, c: Compiled<'_>) -> Result<(), ComponentError> {
        self.code
            .put_component(&c.digest, c.bytes)
            .map_err(|e| ComponentError::Io {
                path: "the store".into(),
                reason: e.to_string(),
            })?;
        cache::store_compiled(
            &self.engine,
            self.code.as_ref(),
            &self.config.dir,
            &c.digest,
            &c.component,
        )
        .map_err(|e| ComponentError::Io {
            path: self.config.dir.display().to_string(),
            reason: format!("{e:#}"),
        })?;
        self.lock_loaded().insert(c.digest, c.pre);
        Ok(())
    }

    fn prepare(&self, component: &Component) -> Result<PluginPre<RunState>, ComponentError> {
        let ipre = self.linker.instantiate_pre(component).map_err(|e| {
            let msg = format!("{e:#}");
            if msg.contains("matching implementation was not found") || msg.contains("import") {
                ComponentError::UnsupportedImport(msg)
            } else {
                ComponentError::Invalid(msg)
            }
        })?;
        PluginPre::new(ipre).map_err(|e| ComponentError::NotAPlugin(format!("{e:#}")))
    }

    fn lock_loaded(&self) -> std::sync::MutexGuard<'_, HashMap<String, PluginPre<RunState>>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The ready-to-instantiate plugin with this digest: from memory, else from the compiled
    /// cache (verified), else compiled again from the installed component (verified). Loads
    /// that miss memory at once wait for each other: the first compiles, the others find its
    /// result in memory.
    pub fn load(&self, digest: &str) -> anyhow::Result<PluginPre<RunState>> {
        if let Some(p) = self.lock_loaded().get(digest) {
            return Ok(p.clone());
        }
        let _loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = self.lock_loaded().get(digest) {
            return Ok(p.clone());
        }
        let component = cache::load(
            &self.engine,
            self.code.as_ref(),
            &self.config.dir,
            digest,
            &self.legacy_path(digest),
        )
        .map_err(|e| {
            match pool::explain(&format!("{e:#}"), &self.config.pool_settings) {
                // Installed under larger settings than today's.
                Some(limit) => anyhow::anyhow!("{limit}"),
                None => e,
            }
        })?;
        let pre = self.prepare(&component)?;
        self.lock_loaded().insert(digest.to_string(), pre.clone());
        Ok(pre)
    }

    /// Forgets the in-memory instance cache (the next load reads the compiled cache).
    pub fn forget_loaded(&self) {
        self.lock_loaded().clear();
    }

    /// `limits` lowered to the operator's maxima: what a run with them executes under.
    pub fn clamp(&self, limits: Limits) -> Limits {
        limits.clamp(&self.config.max)
    }

    /// Runs `pre` once, bounded by `limits`, with `inputs` for its capabilities: the data
    /// access ([`data::DataAccess`], which converts into inputs on its own) and the as-of date
    /// ([`AsOf`]; the day it executes if none).
    pub async fn execute(
        &self,
        pre: &PluginPre<RunState>,
        inputs: impl Into<RunInputs>,
        limits: Limits,
        params: &[bindings::insitu::plugin::output::Param],
    ) -> Execution {
        let limits = limits.clamp(&self.config.max);
        let log = LogSink::new(limits.log_bytes);
        let run = Shared {
            table: ResourceTable::new(),
            meter: fuel::HostMeter::new(self.config.costs),
            usage: Usage::default(),
            log: log.clone(),
        };
        let caps = match cap::states(inputs.into(), &run) {
            Ok(caps) => caps,
            Err(e) => {
                return Execution {
                    usage: Usage::default(),
                    outcome: Err((FailureReason::Host, format!("{e:#}"))),
                    log: String::new(),
                    read: Vec::new(),
                    delivered: Default::default(),
                };
            }
        };
        let state = RunState {
            run,
            caps,
            limiter: Limiter {
                memory: limits.memory,
                table_elements: limits.table_elements,
                peak: 0,
                instances: self.config.pool_settings.max_core_instances as usize,
                tables: self.config.pool_settings.max_tables as usize,
                memories: self.config.pool_settings.max_memories as usize,
            },
        };
        let mut store = wasmtime::Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.call_hook(fuel::hook);
        let setup = store
            .set_fuel(limits.fuel)
            .and_then(|_| store.fuel_async_yield_interval(Some(FUEL_YIELD)));
        store.set_epoch_deadline(
            (limits.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64,
        );
        store.epoch_deadline_trap();

        let started = Instant::now();
        let outcome = match setup {
            Err(e) => Err((FailureReason::Host, format!("{e:#}"))),
            Ok(()) => {
                let call = async {
                    let plugin = pre
                        .instantiate_async(&mut store)
                        .await
                        .map_err(|e| (true, e))?;
                    plugin
                        .call_run(&mut store, params)
                        .await
                        .map_err(|e| (false, e))
                };
                match tokio::time::timeout(limits.deadline + EPOCH_TICK * 4, call).await {
                    Err(_) => Err((
                        FailureReason::Deadline,
                        format!("the run passed its {:?} deadline", limits.deadline),
                    )),
                    Ok(Err((instantiating, e))) => Err(classify(&e, instantiating)),
                    Ok(Ok(Err(plugin_err))) => {
                        Err((FailureReason::PluginError, plugin_error_text(plugin_err)))
                    }
                    Ok(Ok(Ok(out))) => {
                        let out = PluginOutput::from(out);
                        let size = out.size();
                        store.data_mut().run.usage.output_bytes = size;
                        if size > limits.output_bytes {
                            Err((
                                FailureReason::OutputTooLarge,
                                format!(
                                    "the output is {size} bytes, over its cap of {} bytes; it was withheld",
                                    limits.output_bytes
                                ),
                            ))
                        } else {
                            Ok(out)
                        }
                    }
                }
            }
        };
        let wall = started.elapsed();
        let fuel_left = store.get_fuel().unwrap_or(0);
        let mut state = store.into_data();
        let mut usage = std::mem::take(&mut state.run.usage);
        usage.fuel = limits.fuel.saturating_sub(fuel_left);
        usage.wall_us = wall.as_micros() as u64;
        usage.peak_memory = state.limiter.peak;
        let (log_text, kept, dropped) = log.snapshot();
        usage.log_bytes = kept;
        usage.log_dropped = dropped;
        let outcome = outcome.map_err(|(r, m)| (r, with_log_hint(r, m, &log_text)));
        let mut exec = Execution {
            usage,
            outcome,
            log: log_text,
            read: Vec::new(),
            delivered: Default::default(),
        };
        cap::finish(&mut state.caps, &mut exec);
        exec
    }
}

fn plugin_error_text(e: bindings::insitu::plugin::output::PluginError) -> String {
    use bindings::insitu::plugin::output::PluginError as E;
    match e {
        E::InvalidParams(m) => format!("invalid parameters: {m}"),
        E::Data(m) => format!("data access refused: {m}"),
        E::Failed(m) => m,
    }
}

/// The longest log line quoted in a failure reason, bytes (the whole reason is capped again
/// with the run record, [`insitu_model::meter::MAX_MESSAGE_BYTES`]).
const MAX_QUOTED_LINE: usize = 1024;

/// What a failure reason appends when the log names no error: the plugin's last line.
pub const LAST_LOG_LINE: &str = "; the plugin's last log line: ";

/// The first error a plugin's log reports.
enum GuestError<'a> {
    /// A Rust panic: the `panicked at <place>:` line, its place and the message after it.
    Panic {
        line: &'a str,
        place: &'a str,
        message: &'a str,
    },
    /// Any other error line (JavaScript, Python, an `error`-level log line).
    Line(&'a str),
}

/// The log's first error. A Rust panic writes `panicked at <place>:` and then its message to
/// stderr before aborting, and wins over anything logged before it; else the first line
/// logged at `error` level or naming an error or exception (`TypeError: x`, `Uncaught Error:
/// x`, `error: x`); for a Python traceback, its exception line (the first unindented line
/// after the frames). The first, not the last: what follows an error is often its
/// consequences.
fn first_error<'a>(lines: &[&'a str]) -> Option<GuestError<'a>> {
    if let Some(i) = lines.iter().position(|l| l.contains("panicked at")) {
        let place = lines[i]
            .split("panicked at")
            .nth(1)
            .unwrap_or("")
            .trim()
            .trim_end_matches(':');
        return Some(GuestError::Panic {
            line: lines[i].trim(),
            place,
            message: lines.get(i + 1).map_or("", |l| l.trim()),
        });
    }
    let is_error = |l: &str| {
        let t = l.trim_start();
        let head = t.split(':').next().unwrap_or("");
        t.starts_with("[error]")
            || (t.contains(':')
                && (head.ends_with("Error")
                    || head.ends_with("Exception")
                    || head.eq_ignore_ascii_case("error")
                    || head.starts_with("Uncaught")))
    };
    let i = lines
        .iter()
        .position(|l| is_error(l) || l.starts_with("Traceback (most recent call last)"))?;
    let line = lines[i];
    if line.contains("Traceback (most recent call last)") {
        // Frames are indented; the exception line is not.
        let tail = lines[i + 1..]
            .iter()
            .map(|l| l.trim_start_matches("[error] "))
            .find(|l| !l.starts_with(' ') && !l.starts_with("Traceback"));
        return Some(GuestError::Line(tail.unwrap_or(line).trim()));
    }
    Some(GuestError::Line(line.trim()))
}

fn non_empty_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// The first error line of a plugin's log (a panic with its message), for the person and the
/// operator to read beside the failure reason (`insitu runs show`, `plugin test`).
pub fn first_error_line(log: &str) -> Option<String> {
    match first_error(&non_empty_lines(log))? {
        GuestError::Panic { line, message, .. } => Some(format!("{line} {message}")),
        GuestError::Line(l) => Some(l.to_string()),
    }
}

/// A trap's failure reason, with what the log says of it: the panic, else the plugin's first
/// error line, else its last log line.
fn with_log_hint(reason: FailureReason, msg: String, log: &str) -> String {
    if reason != FailureReason::Trap {
        return msg;
    }
    let cap = |t: &str| insitu_model::meter::cap_text(t.trim().to_string(), MAX_QUOTED_LINE);
    let lines = non_empty_lines(log);
    match first_error(&lines) {
        Some(GuestError::Panic { place, message, .. }) => {
            format!("the plugin panicked at {}: {}", cap(place), cap(message))
        }
        Some(GuestError::Line(line)) => {
            format!("{msg}; the plugin's first error: {}", cap(line))
        }
        None => match lines.last() {
            Some(last) => format!("{msg}{LAST_LOG_LINE}{}", cap(last)),
            None => msg,
        },
    }
}

/// Maps a wasmtime error to the typed reason a run fails with.
fn classify(e: &wasmtime::Error, instantiating: bool) -> (FailureReason, String) {
    if let Some(f) = e.downcast_ref::<fuel::HostFuelExhausted>() {
        return (FailureReason::FuelExhausted, f.to_string());
    }
    if let Some(l) = e.downcast_ref::<LimitExceeded>() {
        return (FailureReason::MemoryLimit, l.to_string());
    }
    if let Some(s) = e.downcast_ref::<SourceError>() {
        return (FailureReason::Host, format!("host storage error: {s}"));
    }
    if let Some(t) = e.downcast_ref::<Trap>() {
        return match t {
            Trap::OutOfFuel => (
                FailureReason::FuelExhausted,
                "the plugin used up its fuel budget".into(),
            ),
            Trap::Interrupt => (
                FailureReason::Deadline,
                "the plugin passed its wall-clock deadline".into(),
            ),
            Trap::StackOverflow => (
                FailureReason::StackOverflow,
                "the plugin overflowed its call stack".into(),
            ),
            Trap::UnreachableCodeReached => (
                FailureReason::Trap,
                "the plugin aborted (a panic or `unreachable`)".into(),
            ),
            Trap::MemoryOutOfBounds => (
                FailureReason::Trap,
                "the plugin accessed memory out of bounds (often its in-memory stack overflowing)"
                    .into(),
            ),
            other => (FailureReason::Trap, format!("the plugin trapped: {other}")),
        };
    }
    if instantiating {
        (
            FailureReason::Instantiate,
            format!("the plugin could not be instantiated: {e:#}"),
        )
    } else {
        (FailureReason::Trap, format!("the plugin failed: {e:#}"))
    }
}

/// Where the sandbox keeps its files under a data directory.
pub fn dir_in(data_dir: &Path) -> PathBuf {
    data_dir.join("plugins")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trap_quotes_the_first_error_line_of_the_log() {
        let js =
            "starting\nError: threshold must be positive\n    at run (app.js:3)\nlater noise\n";
        assert_eq!(
            with_log_hint(FailureReason::Trap, "the plugin trapped".into(), js),
            "the plugin trapped; the plugin's first error: Error: threshold must be positive"
        );
        let py = "Traceback (most recent call last):\n  File \"app.py\", line 3, in run\n    boom()\nRuntimeError: Übergebühr\nafter\n";
        assert!(
            with_log_hint(FailureReason::Trap, "t".into(), py)
                .ends_with("first error: RuntimeError: Übergebühr")
        );
        let rust = "panicked at src/lib.rs:3:5:\nfirst\npanicked at src/lib.rs:9:1:\nsecond\n";
        assert_eq!(
            with_log_hint(FailureReason::Trap, "t".into(), rust),
            "the plugin panicked at src/lib.rs:3:5: first"
        );
        let long = format!("Error: {}\n", "é".repeat(4000));
        assert!(with_log_hint(FailureReason::Trap, "t".into(), &long).len() < 1100);
        assert_eq!(
            with_log_hint(FailureReason::Trap, "t".into(), "just info\nlast\n"),
            "t; the plugin's last log line: last"
        );
        assert_eq!(
            with_log_hint(FailureReason::FuelExhausted, "f".into(), js),
            "f"
        );
    }
}
