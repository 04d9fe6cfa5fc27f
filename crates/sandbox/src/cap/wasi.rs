//! The locked WASI context every plugin gets (invariant 1: no ambient capability).
//!
//! Plugins built with Rust's standard library for `wasm32-wasip2` import parts of WASI even
//! when they never use them (`wasi:cli`, `wasi:io`, and for a panic, stderr). We link the
//! interfaces such a plugin needs, each locked down:
//! - no preopened directories, so the filesystem interfaces reach nothing;
//! - no environment variables and no arguments;
//! - stdin is closed; stdout and stderr go to the run's capped log;
//! - the wall clock is frozen at the Unix epoch and the monotonic clock at zero, so a plugin
//!   cannot time anything or learn when it runs;
//! - "randomness" is a fixed byte cycle: deterministic per run, and no secret.
//!
//! Sockets (`wasi:sockets`) and HTTP are not linked at all: a plugin that imports them is
//! refused at install, with the missing interface named.
//!
//! Every WASI call is charged [`HostCosts::call`](super::HostCosts::call) in fuel, through the
//! getters below that each call goes through (`fuel.rs`), so even calls that do next to
//! nothing (a frozen clock, a stream check) cannot be looped for free.
//!
//! The capability's per-run state is the locked [`WasiCtx`]; its streams live in the run's
//! shared resource table. wasmtime-wasi's bindings take its own view types (`WasiClocksCtxView`
//! and the like), so the getters here build those from the run's view rather than taking one.

use std::time::Duration;

use bytes::Bytes;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::cli::{WasiCli, WasiCliCtxView};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksCtxView};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemCtxView};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::random::{WasiRandom, WasiRandomCtx};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

use super::super::RunState;
use super::log::LogSink;
use super::{Capability, RunInputs, Shared, State};

struct FrozenWall;
impl HostWallClock for FrozenWall {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

struct FrozenMonotonic;
impl HostMonotonicClock for FrozenMonotonic {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// stdout/stderr into the run's log.
struct LogStream(LogSink);

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LogOutput(self.0.clone()))
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(tokio::io::sink())
    }
}

struct LogOutput(LogSink);

#[wasmtime_wasi::async_trait]
impl Pollable for LogOutput {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for LogOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.0.write(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

/// A fresh locked context whose stdout and stderr write to `log`.
pub fn locked_ctx(log: &LogSink) -> WasiCtx {
    WasiCtxBuilder::new()
        .stdout(LogStream(log.clone()))
        .stderr(LogStream(log.clone()))
        .wall_clock(FrozenWall)
        .monotonic_clock(FrozenMonotonic)
        .secure_random(wasmtime_wasi::Deterministic::new(vec![
            0x5a, 0x17, 0xc3, 0x8e,
        ]))
        .insecure_random(wasmtime_wasi::Deterministic::new(vec![0x21, 0x9b, 0x44]))
        .insecure_random_seed(0x0001_7517_u128)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

/// The WASI subset: its state is a fresh locked context writing to the run's log.
pub(crate) const CAPABILITY: Capability = Capability {
    link: add_to_linker,
    state,
    finish: super::nothing,
};

fn state(_: &mut RunInputs, run: &Shared) -> State {
    Ok(Some(Box::new(locked_ctx(&run.log))))
}

/// `wasi:io`'s view of the run: its resource table.
struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}

// The getters every WASI call goes through, once per call: each notes the call's fuel.
fn io_table(s: &mut RunState) -> &mut ResourceTable {
    let run = super::shared(s);
    run.meter.call();
    &mut run.table
}

fn clocks_view(s: &mut RunState) -> WasiClocksCtxView<'_> {
    let v = super::view::<WasiCtx>(s);
    v.run.meter.call();
    WasiClocksCtxView {
        ctx: v.state.clocks(),
        table: &mut v.run.table,
    }
}

fn filesystem_view(s: &mut RunState) -> WasiFilesystemCtxView<'_> {
    let v = super::view::<WasiCtx>(s);
    v.run.meter.call();
    WasiFilesystemCtxView {
        ctx: v.state.filesystem(),
        table: &mut v.run.table,
    }
}

fn random_ctx(s: &mut RunState) -> &mut WasiRandomCtx {
    let v = super::view::<WasiCtx>(s);
    v.run.meter.call();
    v.state.random()
}

fn cli_view(s: &mut RunState) -> WasiCliCtxView<'_> {
    let v = super::view::<WasiCtx>(s);
    v.run.meter.call();
    WasiCliCtxView {
        ctx: v.state.cli(),
        table: &mut v.run.table,
    }
}

/// Links the WASI interfaces plugins may import (not sockets, not HTTP).
pub fn add_to_linker(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};
    use wasmtime_wasi_io::bindings::wasi::io;

    let l = linker;
    io::error::add_to_linker::<RunState, Io>(l, io_table)?;
    io::poll::add_to_linker::<RunState, Io>(l, io_table)?;
    io::streams::add_to_linker::<RunState, Io>(l, io_table)?;
    clocks::wall_clock::add_to_linker::<RunState, WasiClocks>(l, clocks_view)?;
    clocks::monotonic_clock::add_to_linker::<RunState, WasiClocks>(l, clocks_view)?;
    filesystem::types::add_to_linker::<RunState, WasiFilesystem>(l, filesystem_view)?;
    filesystem::preopens::add_to_linker::<RunState, WasiFilesystem>(l, filesystem_view)?;
    random::random::add_to_linker::<RunState, WasiRandom>(l, random_ctx)?;
    random::insecure::add_to_linker::<RunState, WasiRandom>(l, random_ctx)?;
    random::insecure_seed::add_to_linker::<RunState, WasiRandom>(l, random_ctx)?;
    cli::exit::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::environment::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::stdin::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::stdout::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::stderr::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::terminal_input::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::terminal_output::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::terminal_stdin::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::terminal_stdout::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    cli::terminal_stderr::add_to_linker::<RunState, WasiCli>(l, cli_view)?;
    Ok(())
}
