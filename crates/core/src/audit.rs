//! The audit log's events, entries and chain are data (`insitu_model::audit`); this module adds
//! what needs the store: an event in words with its import source's name.

pub use insitu_model::audit::*;

/// The event in plain words, with the import source's name looked up beside the chain.
pub fn describe_in(store: &dyn crate::store::Store, e: &AuditEvent) -> String {
    if let AuditEvent::RecordsImported { source, .. } = e
        && source.starts_with("sha256:")
    {
        let name = describe_source(store, e).unwrap_or_else(|| "an erased source".into());
        let mut named = e.clone();
        if let AuditEvent::RecordsImported { source, .. } = &mut named {
            *source = name;
        }
        return named.describe();
    }
    e.describe()
}

/// The source an import entry names: the file's name, kept beside the chain (`None` once the
/// person was erased), or what the entry says for another source.
pub fn describe_source(store: &dyn crate::store::Store, e: &AuditEvent) -> Option<String> {
    let AuditEvent::RecordsImported { person, source, .. } = e else {
        return None;
    };
    match source.strip_prefix("sha256:") {
        Some(digest) => store.source_name(*person, digest).ok().flatten(),
        None => Some(source.clone()),
    }
}

pub use insitu_model::checkpoint::{self, Checkpoint, InclusionProof, SignedRoot};
pub use insitu_store::verify::{
    ChainReport, VerifyError, person_trail, read_chain, verify_all, verify_chain_after,
    verify_chain_in,
};

use crate::store::StoreError;

/// Checkpoint `number` at `at_ms` over `heads` under the blinding secret `secret`, signed with
/// the operator's `key` (the message of `insitu_model::checkpoint`'s module doc).
pub fn sign(
    number: u64,
    at_ms: i64,
    heads: Vec<ChainHead>,
    secret: [u8; 32],
    key: &ed25519_dalek::SigningKey,
) -> Checkpoint {
    use ed25519_dalek::Signer;
    let mut cp = Checkpoint::unsigned(number, at_ms, heads, secret);
    cp.signed.key = hex(key.verifying_key().as_bytes());
    cp.signed.signature = hex(&key.sign(&cp.signed.signed_message()).to_bytes());
    cp
}

/// Checks a checkpoint's signature with its own key.
pub fn verify_signature(signed: &SignedRoot) -> Result<(), checkpoint::CheckpointError> {
    use ed25519_dalek::Verifier;
    let bad = || checkpoint::CheckpointError::Signature(signed.number);
    let key = checkpoint::unhex32(&signed.key).ok_or_else(bad)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| bad())?;
    let sig: [u8; 64] = checkpoint::unhex(&signed.signature)
        .and_then(|v| v.try_into().ok())
        .ok_or_else(bad)?;
    key.verify(
        &signed.signed_message(),
        &ed25519_dalek::Signature::from_bytes(&sig),
    )
    .map_err(|_| bad())
}

/// Publishes the next checkpoint over every chain's head, under a fresh blinding secret,
/// signed with the operator's `key`, stamped by the store's clock; unless the latest is less
/// than `min_age_ms` old (`None`). Whether one is published never depends on whether a head
/// moved: a checkpoint number that advanced only on activity would tell every person that
/// someone's chain moved. Another node publishing the same number first is not an error: its
/// checkpoint stands.
pub fn publish_checkpoint(
    store: &dyn crate::store::Store,
    key: &ed25519_dalek::SigningKey,
    min_age_ms: u64,
) -> Result<Option<Checkpoint>, StoreError> {
    let latest = store.latest_checkpoint()?;
    let now = store.now_ms();
    if latest
        .as_ref()
        .is_some_and(|c| now.saturating_sub(c.signed.at_ms) < min_age_ms as i64)
    {
        return Ok(None);
    }
    let heads = store.audit_heads()?;
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret)
        .map_err(|e| StoreError::Db(format!("no randomness for a checkpoint: {e}")))?;
    let number = latest.map_or(1, |c| c.signed.number + 1);
    let cp = sign(number, now, heads, secret, key);
    match store.put_checkpoint(&cp) {
        Ok(()) => Ok(Some(cp)),
        Err(StoreError::CheckpointTaken(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a person downloads to check their chain against the latest checkpoint: its signed
/// root and their head's inclusion proof with its blind (`None` if their chain is newer than
/// it). Nothing about anyone else: not the other heads, not how many there are, not whether
/// they moved (`insitu_model::checkpoint`'s module doc).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PersonCheckpoint {
    pub checkpoint: SignedRoot,
    pub proof: Option<InclusionProof>,
}

/// The latest checkpoint with its tree, kept between downloads. A checkpoint holds every
/// chain's head, and its tree a node per head and level: read and built for each download,
/// each would cost in proportion to the number of people. Kept, a download reads the latest
/// number (the key alone), and the checkpoint only when another was published since.
#[derive(Default)]
pub struct LatestCheckpoint {
    kept: std::sync::Mutex<Option<std::sync::Arc<checkpoint::Prover>>>,
}

impl LatestCheckpoint {
    /// The latest checkpoint for `chain` (a person's, or the operator's), if one was published.
    pub fn proof_for(
        &self,
        store: &dyn crate::store::Store,
        chain: Chain,
    ) -> Result<Option<PersonCheckpoint>, StoreError> {
        Ok(self.latest(store)?.map(|prover| PersonCheckpoint {
            proof: prover.prove(chain),
            checkpoint: prover.checkpoint().signed.clone(),
        }))
    }

    /// Reads the latest checkpoint and builds its tree if it is not the one kept: what `serve`
    /// does on its checkpoint schedule, so that a person's download finds it kept whether or
    /// not anyone downloaded before them (a download's time says nothing of other people's).
    pub fn refresh(&self, store: &dyn crate::store::Store) -> Result<(), StoreError> {
        self.latest(store).map(drop)
    }

    /// The latest checkpoint with its tree: the one kept if it is still the latest, else read
    /// by its number (a checkpoint published since is read at the next call) and kept.
    pub fn latest(
        &self,
        store: &dyn crate::store::Store,
    ) -> Result<Option<std::sync::Arc<checkpoint::Prover>>, StoreError> {
        let Some(number) = store.latest_checkpoint_number()? else {
            return Ok(None);
        };
        if let Some(kept) = self
            .kept()
            .filter(|p| p.checkpoint().signed.number == number)
        {
            return Ok(Some(kept));
        }
        Ok(store.checkpoint(number)?.map(|c| self.keep(c.prover())))
    }

    fn kept(&self) -> Option<std::sync::Arc<checkpoint::Prover>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Keeps `prover` unless a later checkpoint is kept already (two downloads may read two
    /// checkpoints at once); the one to prove from.
    fn keep(&self, prover: checkpoint::Prover) -> std::sync::Arc<checkpoint::Prover> {
        let prover = std::sync::Arc::new(prover);
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let number = |p: &checkpoint::Prover| p.checkpoint().signed.number;
        if kept.as_ref().is_none_or(|k| number(k) < number(&prover)) {
            *kept = Some(prover.clone());
        }
        prover
    }
}

/// Verifies `person`'s chain and its anchor in the latest checkpoint: the checkpoint's
/// signature, the inclusion proof of the head it holds for them, and that their chain still
/// has that entry. `expected_key` (the operator's public key, hex), when given, must be the
/// checkpoint's.
pub fn verify_person(
    store: &dyn crate::store::Store,
    person: crate::store::PersonId,
    expected_key: Option<&str>,
) -> Result<(ChainReport, Option<u64>), VerifyError> {
    let chain = Chain::Person(person);
    let latest = store.latest_checkpoint()?;
    if let Some(c) = &latest {
        verify_signature(&c.signed)?;
        check_key(&c.signed, expected_key)?;
        if let Some(p) = c.prove(chain)
            && !p.leads_to(&c.signed)
        {
            return Err(checkpoint::CheckpointError::Proof(c.signed.number).into());
        }
    }
    let report = verify_chain_in(store, chain, latest.as_ref())?;
    Ok((report, latest.map(|c| c.signed.number)))
}

/// Verifies every chain and the latest checkpoint (signature, root, every anchor).
pub fn verify_store(
    store: &dyn crate::store::Store,
    expected_key: Option<&str>,
) -> Result<(Vec<ChainReport>, Option<u64>), VerifyError> {
    let latest = store.latest_checkpoint()?;
    if let Some(c) = &latest {
        verify_signature(&c.signed)?;
        check_key(&c.signed, expected_key)?;
    }
    let reports = verify_all(store, latest.as_ref())?;
    Ok((reports, latest.map(|c| c.signed.number)))
}

fn check_key(signed: &SignedRoot, expected: Option<&str>) -> Result<(), VerifyError> {
    match expected {
        Some(k) if k != signed.key => Err(checkpoint::CheckpointError::Key(signed.number).into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_is_caught() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let heads = vec![ChainHead {
            chain: Chain::Person(2),
            seq: 3,
            hash: "ab".repeat(32),
        }];
        let cp = sign(4, 1_764_000_000_000, heads, [1; 32], &key);
        assert_eq!(verify_signature(&cp.signed), Ok(()));
        assert_eq!(cp.check_root(), Ok(()));
        let mut later = cp.signed.clone();
        later.at_ms += 1;
        assert_eq!(
            verify_signature(&later),
            Err(checkpoint::CheckpointError::Signature(4))
        );
        let mut other_root = cp.signed.clone();
        other_root.root = "cd".repeat(32);
        assert!(verify_signature(&other_root).is_err());
        let mut other_key = cp.signed.clone();
        other_key.key = hex(ed25519_dalek::SigningKey::from_bytes(&[8; 32])
            .verifying_key()
            .as_bytes());
        assert!(verify_signature(&other_key).is_err());
    }
}
