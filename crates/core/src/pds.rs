//! One PDS instance on a data directory: the store, the sandbox and the runner, wired together.
//!
//! Layout of a data directory: `insitu.redb` (the store, unless another is given) and
//! `plugins/compiled/`, this node's compiled-code cache. Installed components live in the
//! store, which every node of a shared store reads; a data directory from before that keeps
//! them as `plugins/<digest>.wasm`, read once and moved into the store.
//!
//! May touch: the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::clock::{Clock, SystemClock};
use crate::run::Runner;
use crate::sandbox::SandboxConfig;
use crate::store::redb::RedbStore;
use crate::store::{Schema, Store};

pub struct Pds {
    pub dir: PathBuf,
    pub store: Arc<dyn Store>,
    pub runner: Arc<Runner>,
    /// The latest audit checkpoint with its tree, kept between people's downloads.
    pub checkpoint: Arc<crate::audit::LatestCheckpoint>,
}

/// How to open a [`Pds`]: the data directory, and what may differ from the defaults (the
/// clock, the store, the sandbox's settings). `Pds::builder(dir).clock(c).open()`.
pub struct PdsBuilder {
    dir: PathBuf,
    clock: Option<Arc<dyn Clock>>,
    store: Option<Arc<dyn Store>>,
    sandbox: Option<SandboxConfig>,
}

impl PdsBuilder {
    /// The clock the default store (`insitu.redb` in the data directory) stamps its times with
    /// and every layer reads "now" from (`store.now_ms()`); the system's by default. Tests pass a
    /// `ManualClock` to move time. A store passed with [`PdsBuilder::store`] brings its own.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// A store opened elsewhere (another backend, or one shared with other nodes) instead of
    /// the data directory's `insitu.redb`. The data directory still holds this node's
    /// compiled-code cache.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The sandbox's settings (limits, pool, host costs) instead of
    /// [`SandboxConfig::from_env`] over the data directory's `plugins/`.
    pub fn sandbox(mut self, config: SandboxConfig) -> Self {
        self.sandbox = Some(config);
        self
    }

    /// Opens (creating if needed) the PDS, with the standard collections defined.
    pub fn open(self) -> anyhow::Result<Pds> {
        let dir = self.dir.as_path();
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        let store: Arc<dyn Store> = match (self.store, self.clock) {
            (Some(_), Some(_)) => anyhow::bail!(
                "a store passed to the builder stamps times by its own clock: open it with the clock instead"
            ),
            (Some(store), None) => store,
            (None, clock) => Arc::new(RedbStore::open_with_clock(
                &dir.join("insitu.redb"),
                clock.unwrap_or_else(|| Arc::new(SystemClock)),
            )?),
        };
        for name in crate::store::schema::STANDARD {
            let schema = Schema::standard(name).expect("a standard collection");
            store.define_collection(&schema).with_context(|| {
                format!("this store was made by an earlier Insitu whose `{name}` differs")
            })?;
        }
        let config = match self.sandbox {
            Some(config) => config,
            None => SandboxConfig::from_env(crate::sandbox::dir_in(dir))?,
        };
        let sandbox = Arc::new(crate::sandbox::open(store.clone(), config)?);
        let runner = Arc::new(Runner::new(store.clone(), sandbox));
        Ok(Pds {
            dir: dir.to_path_buf(),
            store,
            runner,
            checkpoint: Arc::default(),
        })
    }
}

impl Pds {
    /// Opens (creating if needed) the PDS in `dir` on the system clock: `Pds::builder(dir).open()`.
    pub fn open(dir: &Path) -> anyhow::Result<Pds> {
        Pds::builder(dir).open()
    }

    /// A builder for the PDS in `dir`, to set its clock, store or sandbox before opening it.
    pub fn builder(dir: &Path) -> PdsBuilder {
        PdsBuilder {
            dir: dir.to_path_buf(),
            clock: None,
            store: None,
            sandbox: None,
        }
    }

    /// The installed plugin whose digest is `prefix` or starts with it (it must be unique).
    pub fn find_plugin(&self, prefix: &str) -> anyhow::Result<String> {
        let matches: Vec<String> = self
            .store
            .plugins()?
            .into_iter()
            .filter(|p| p.digest.starts_with(prefix) || p.name == prefix)
            .map(|p| p.digest)
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => anyhow::bail!(
                "no installed plugin matches `{prefix}`\nhint: list them with `insitu plugin list`"
            ),
            _ => anyhow::bail!(
                "`{prefix}` matches {} plugins; give more of the digest",
                matches.len()
            ),
        }
    }
}
