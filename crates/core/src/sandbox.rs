//! The sandbox (`insitu-sandbox`) over the store: the store is what a run's records are read
//! from ([`DataSource`]) and where components and the compiled code's hashes are kept
//! ([`CodeStore`]).
//! The sandbox itself knows nothing of the store; this module is the only place the two meet.
//!
//! May touch: the store, through the two traits.

use std::sync::Arc;

pub use insitu_sandbox::*;

use crate::consent::{Grant, GrantError};
use crate::store::{Cursor, PersonId, Schema, Store, StoreError, TimeRange};

/// The store, as the sandbox reads it.
struct StoreSource(Arc<dyn Store>);

fn source(e: StoreError) -> SourceError {
    SourceError::new(e)
}

impl DataSource for StoreSource {
    fn schema(&self, collection: &str) -> Result<Option<Schema>, SourceError> {
        match self.0.collection(collection) {
            Ok(s) => Ok(Some(s)),
            Err(StoreError::NoCollection(_)) => Ok(None),
            Err(e) => Err(source(e)),
        }
    }

    fn pseudonym_key(&self) -> Result<[u8; 32], SourceError> {
        self.0.pseudonym_key().map_err(source)
    }

    fn scan(
        &self,
        person: PersonId,
        collection: &str,
        range: TimeRange,
        fields: &[String],
    ) -> Result<Box<dyn Batches>, SourceError> {
        let cursor = self
            .0
            .scan(person, collection, range, fields)
            .map_err(source)?;
        Ok(Box::new(StoreBatches(cursor, Arc::clone(&self.0))))
    }

    fn grant_live(&self, id: u64) -> Result<Result<(), GrantError>, SourceError> {
        let grant = self.0.grant(id).map_err(source)?;
        Ok(grant.check_live(self.0.now_ms()))
    }
}

impl CodeStore for StoreSource {
    fn component(&self, digest: &str) -> Result<Option<Vec<u8>>, SourceError> {
        self.0.component(digest).map_err(source)
    }

    fn put_component(&self, digest: &str, bytes: &[u8]) -> Result<(), SourceError> {
        self.0.put_component(digest, bytes).map_err(source)
    }

    fn compiled_hash(&self, key: &str) -> Result<Option<String>, SourceError> {
        self.0.compiled_hash(key).map_err(source)
    }

    fn set_compiled_hash(&self, key: &str, hash: &str) -> Result<(), SourceError> {
        self.0.set_compiled_hash(key, hash).map_err(source)
    }
}

/// A store's cursor, and the store whose clock says whether a grant read with a batch is live.
struct StoreBatches(Box<dyn Cursor>, Arc<dyn Store>);

impl Batches for StoreBatches {
    fn next_batch(
        &mut self,
        max: usize,
    ) -> Result<Option<(crate::store::ColumnBatch, usize)>, SourceError> {
        self.0.next_batch(max).map_err(source)
    }

    fn next_batch_under(&mut self, max: usize, grant: u64) -> Result<UnderGrant, SourceError> {
        let (next, read) = self.0.next_batch_under(max, grant).map_err(source)?;
        let live = match read {
            Some(g) if g.id != grant => {
                return Err(source(StoreError::Db(format!(
                    "the store read grant {} for grant {grant}",
                    g.id
                ))));
            }
            Some(g) => Some(g.check_live(self.1.now_ms())),
            None => None,
        };
        Ok((next, live))
    }

    fn exhausted(&self) -> bool {
        self.0.exhausted()
    }
}

/// A sandbox over `config.dir` whose compiled code's hashes are kept in `store`.
pub fn open(store: Arc<dyn Store>, config: SandboxConfig) -> anyhow::Result<Sandbox> {
    Sandbox::new(Arc::new(StoreSource(store)), config)
}

/// What a run of `person`'s data under `grant` may read, from `store`.
pub fn data_access(
    store: Arc<dyn Store>,
    person: PersonId,
    grant: Grant,
    limits: &Limits,
) -> Result<data::DataAccess, SourceError> {
    data::DataAccess::new(Arc::new(StoreSource(store)), person, grant, limits)
}

/// Why a package was refused at install, or its install did not complete.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The component is not a valid Insitu plugin, or could not be written.
    #[error(transparent)]
    Component(#[from] ComponentError),
    /// The package around it: its format, signature, publisher or declared imports.
    #[error(transparent)]
    Package(#[from] crate::package::PackageError),
    /// The component installed, but carrying its predecessor's grants over (or asking the
    /// people again) failed: a consent problem, not a component problem.
    #[error(
        "the plugin was installed, but its predecessor's grants could not be carried over: {0}"
    )]
    Upgrade(crate::request::RequestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::redb::RedbStore;
    use crate::store::{ColumnBatch, NextBatch, TimeRange};

    /// A backend's cursor that reads, with each batch, the grant it holds, whatever it was asked.
    struct Reads(Grant);

    impl Cursor for Reads {
        fn next_batch(&mut self, _: usize) -> Result<NextBatch, StoreError> {
            Ok(Some((ColumnBatch::default(), 0)))
        }

        fn next_batch_under(
            &mut self,
            max: usize,
            _: u64,
        ) -> Result<(NextBatch, Option<Grant>), StoreError> {
            Ok((self.next_batch(max)?, Some(self.0.clone())))
        }
    }

    fn grant(id: u64, revoked_ms: Option<i64>) -> Grant {
        Grant {
            id,
            person: 1,
            plugin_digest: "sha256:00".into(),
            collections: vec![],
            window: TimeRange::ALL,
            created_ms: 0,
            expires_ms: None,
            revoked_ms,
            origin: None,
        }
    }

    /// A grant read with a batch answers for the run's grant only: another grant, live or
    /// not, fails the batch as a store error rather than standing in for it.
    #[test]
    fn a_grant_read_with_a_batch_must_be_the_runs() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(RedbStore::open(&dir.path().join("insitu.redb")).unwrap());
        let under = |read: Grant| {
            StoreBatches(Box::new(Reads(read)), store.clone()).next_batch_under(10, 7)
        };
        assert!(
            under(grant(8, None)).is_err(),
            "another, live grant stood in"
        );
        let (_, live) = under(grant(7, None)).unwrap();
        assert_eq!(live, Some(Ok(())));
        let (_, live) = under(grant(7, Some(1))).unwrap();
        assert!(matches!(live, Some(Err(_))), "{live:?}");
    }
}
