//! What the sandbox reads a person's records through, and where it keeps installed components
//! and the hashes of its compiled code: traits it defines and the layer above implements (`insitu-core`, over the
//! store). The sandbox never sees the store.

use insitu_model::consent::GrantError;
use insitu_model::records::{ColumnBatch, PersonId, Schema, TimeRange};

/// A failure of what is behind a [`DataSource`] or [`CodeStore`]. A run that meets one
/// fails with `host` ("host storage error: …"), never with the plugin's fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(Box<dyn std::error::Error + Send + Sync>);

impl SourceError {
    pub fn new(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        SourceError(e.into())
    }

    /// The error of the layer behind the source, to be downcast by the layer that made it.
    pub fn into_inner(self) -> Box<dyn std::error::Error + Send + Sync> {
        self.0
    }
}

/// A person's records, as the `data` capability reads them. Every call is made on behalf of a
/// run already checked against its grant: the capability narrows what it asks for to the
/// grant ([`crate::data::DataAccess`]).
pub trait DataSource: Send + Sync {
    /// The schema of `collection`, or `None` if there is no such collection.
    fn schema(&self, collection: &str) -> Result<Option<Schema>, SourceError>;
    /// The secret that keys the record-id pseudonyms (`pseudonym.rs`).
    fn pseudonym_key(&self) -> Result<[u8; 32], SourceError>;
    /// `person`'s records of `collection` in `range`, with `fields` only, in time order.
    fn scan(
        &self,
        person: PersonId,
        collection: &str,
        range: TimeRange,
        fields: &[String],
    ) -> Result<Box<dyn Batches>, SourceError>;
    /// Whether the grant `id` as it stands now is live (not revoked, not expired) by the
    /// source's clock: asked again before each batch, so that a revocation or an expiry takes
    /// effect within the run. The source answers with its own clock (core: the store's), so
    /// the sandbox never reads the system clock to check a grant.
    fn grant_live(&self, id: u64) -> Result<Result<(), GrantError>, SourceError>;
}

/// A batch and its bytes (`None` at the end), with whether the grant was live when read
/// with it (`None` when it was not read with it).
pub type UnderGrant = (Option<(ColumnBatch, usize)>, Option<Result<(), GrantError>>);

/// An open scan: each call returns at most `max` records, with the bytes of field data
/// delivered, or `None` at the end.
pub trait Batches: Send {
    fn next_batch(&mut self, max: usize) -> Result<Option<(ColumnBatch, usize)>, SourceError>;

    /// [`Batches::next_batch`], with whether the grant `grant` is live as read once the batch
    /// was read, when the source could read it with the batch (in the same round trip);
    /// `None` when it did not, and the caller asks [`DataSource::grant_live`].
    fn next_batch_under(&mut self, max: usize, grant: u64) -> Result<UnderGrant, SourceError> {
        let _ = grant;
        Ok((self.next_batch(max)?, None))
    }

    /// Whether the source knows, from what it has read, that no record is left: the next batch
    /// would be `None`. Never true while a record is left; false when it cannot tell. Asked
    /// right after a batch, so that the plugin learns it with that batch (`query.was-last`).
    fn exhausted(&self) -> bool {
        false
    }
}

/// Where the installed components and the SHA-256 of each compiled-code file are kept: the
/// store, in practice, which every node of a shared store reads. Each node keeps the compiled
/// code itself on its own disk (`cache.rs`). The hashes must live outside the plugin
/// directory, so that whoever can change a file there cannot change its recorded hash too.
pub trait CodeStore: Send + Sync {
    /// The bytes of the installed component `digest`, if kept.
    fn component(&self, digest: &str) -> Result<Option<Vec<u8>>, SourceError>;
    /// Keeps a checked component's bytes under its digest.
    fn put_component(&self, digest: &str, bytes: &[u8]) -> Result<(), SourceError>;
    fn compiled_hash(&self, key: &str) -> Result<Option<String>, SourceError>;
    fn set_compiled_hash(&self, key: &str, hash: &str) -> Result<(), SourceError>;
}
