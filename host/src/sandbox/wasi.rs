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

use std::time::Duration;

use bytes::Bytes;
use wasmtime::component::Linker;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder};

use super::RunState;
use super::log::LogSink;

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

/// Links the WASI interfaces plugins may import (not sockets, not HTTP).
pub fn add_to_linker(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};
    use wasmtime_wasi::random::{WasiRandom, WasiRandomView};

    wasmtime_wasi_io::add_to_linker_async(linker)?;
    let l = linker;
    clocks::wall_clock::add_to_linker::<RunState, WasiClocks>(l, RunState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<RunState, WasiClocks>(l, RunState::clocks)?;
    filesystem::types::add_to_linker::<RunState, WasiFilesystem>(l, RunState::filesystem)?;
    filesystem::preopens::add_to_linker::<RunState, WasiFilesystem>(l, RunState::filesystem)?;
    random::random::add_to_linker::<RunState, WasiRandom>(l, RunState::random)?;
    random::insecure::add_to_linker::<RunState, WasiRandom>(l, RunState::random)?;
    random::insecure_seed::add_to_linker::<RunState, WasiRandom>(l, RunState::random)?;
    cli::exit::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::environment::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::stdin::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::stdout::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::stderr::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::terminal_input::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::terminal_output::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::terminal_stdin::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::terminal_stdout::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    cli::terminal_stderr::add_to_linker::<RunState, WasiCli>(l, RunState::cli)?;
    Ok(())
}
