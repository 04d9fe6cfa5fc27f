//! Host side of `insitu:plugin/log`, and the run's capped log buffer that stdout and stderr
//! share (invariant 3: caps on what a plugin can make the host store). Each call, and each
//! byte written whatever the way in, is charged in fuel (`fuel.rs`).
//!
//! The capability keeps no state of its own: the log is the run's ([`Shared::log`]), since
//! stdout and stderr write to it too and the fuel hook counts its bytes.

use std::sync::{Arc, Mutex};

use wasmtime::component::{HasData, Linker};

use super::super::bindings::insitu::plugin::log::{self as wit, Host, Level};
use super::{Capability, Shared};

/// The run's log: stdout, stderr and the log interface, capped. Past the cap bytes are dropped
/// and counted; writing never fails.
#[derive(Clone, Debug, Default)]
pub struct LogSink {
    inner: Arc<Mutex<LogBuf>>,
}

#[derive(Debug, Default)]
struct LogBuf {
    text: Vec<u8>,
    cap: usize,
    dropped: u64,
}

impl LogSink {
    pub fn new(cap: u64) -> Self {
        LogSink {
            inner: Arc::new(Mutex::new(LogBuf {
                cap: cap as usize,
                ..Default::default()
            })),
        }
    }

    pub fn write(&self, bytes: &[u8]) {
        let Ok(mut b) = self.inner.lock() else { return };
        let room = b.cap.saturating_sub(b.text.len());
        let take = room.min(bytes.len());
        b.text.extend_from_slice(&bytes[..take]);
        b.dropped += (bytes.len() - take) as u64;
    }

    /// Bytes written so far, kept or dropped (what the host had to take in).
    pub fn written(&self) -> u64 {
        match self.inner.lock() {
            Ok(b) => b.text.len() as u64 + b.dropped,
            Err(_) => 0,
        }
    }

    /// (the log text, bytes kept, bytes dropped)
    pub fn snapshot(&self) -> (String, u64, u64) {
        match self.inner.lock() {
            Ok(b) => (
                String::from_utf8_lossy(&b.text).into_owned(),
                b.text.len() as u64,
                b.dropped,
            ),
            Err(_) => (String::new(), 0, 0),
        }
    }
}

/// `insitu:plugin/log`.
pub(crate) const CAPABILITY: Capability = Capability {
    link: |l| add_to_linker(l, super::shared),
    state: super::stateless,
    finish: super::nothing,
};

/// `log`'s [`HasData`]: its host function gets the run's [`Shared`] part.
pub struct Log;

impl HasData for Log {
    type Data<'a> = &'a mut Shared;
}

/// Adds `insitu:plugin/log` to `linker`, reaching each run's shared part through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut Shared,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, Log>(linker, get)
}

impl Host for Shared {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.usage.host_calls += 1;
        self.meter.call();
        let tag = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        tracing::debug!(target: "insitu::plugin", level = tag, "{message}");
        self.log.write(format!("[{tag}] {message}\n").as_bytes());
        Ok(())
    }
}
