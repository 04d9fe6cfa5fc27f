//! Verifying the audit chains a store holds, page by page, and anchoring them to a checkpoint
//! (`insitu_model::checkpoint`): what `insitu audit verify` and the conformance suite run.
//!
//! May touch: the store it is given, read only.

use insitu_model::audit::{AuditEntry, Chain, ChainError, ChainHead, verify_chain};
use insitu_model::checkpoint::{Checkpoint, CheckpointError, check_anchor};

use crate::{AuditStore, StoreError};

/// How many entries a page of a chain holds when one is read to verify it.
pub const PAGE: usize = 1024;

/// What verifying one chain found.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainReport {
    pub chain: Chain,
    /// How many entries it has.
    pub entries: u64,
    /// The last entry the checkpoint anchors (`None`: the chain is newer than it, or there
    /// is no checkpoint); the entries after it are not anchored yet.
    pub anchored: Option<u64>,
}

impl ChainReport {
    /// How many entries no checkpoint anchors yet.
    pub fn unanchored(&self) -> u64 {
        self.entries - self.anchored.map_or(0, |s| s + 1)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}: {1}")]
    Chain(Chain, ChainError),
    #[error(
        "{0}: the chain does not end at the head the store records for it (cut short or rewritten)"
    )]
    Head(Chain),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Verifies `chain` from its start (linked to the store's origin, the legacy chain's last
/// hash) and, if `checkpoint` holds a head for it, that the chain still has that entry.
pub fn verify_chain_in(
    store: &dyn AuditStore,
    chain: Chain,
    checkpoint: Option<&Checkpoint>,
) -> Result<ChainReport, VerifyError> {
    verify_chain_after(store, chain, checkpoint, None)
}

/// [`verify_chain_in`] for the entries after `after` (from the start when `None`): `after`
/// must be the chain's entry at its place, with its hash; the entries after it must link to
/// it and to each other up to the head the store records; and the chain must still have the
/// entry `checkpoint` anchors (read on its own when it is at or before `after`). The entries
/// before `after` are neither read nor checked: what one entry's place in the chain needs (a
/// proof's entry, taking `after` from its `prev`) is that it links back to the entry before
/// it and forward to the head and its anchor, which reads only what follows it. The report
/// counts the entries up to `after` as the chain's.
pub fn verify_chain_after(
    store: &dyn AuditStore,
    chain: Chain,
    checkpoint: Option<&Checkpoint>,
    after: Option<&ChainHead>,
) -> Result<ChainReport, VerifyError> {
    let origin = if chain.is_legacy() {
        insitu_model::audit::GENESIS.to_string()
    } else {
        store.audit_origin()?
    };
    let anchored = checkpoint.and_then(|c| c.head(chain).map(|h| (c.signed.number, h)));
    let mut at_anchor: Option<AuditEntry> = None;
    if let Some(a) = after {
        let stored = store.audit_chain(chain, a.seq.checked_sub(1), 1)?;
        if !stored.iter().any(|e| e.seq == a.seq && e.hash == a.hash) {
            return Err(VerifyError::Chain(
                chain,
                ChainError::Broken { seq: a.seq + 1 },
            ));
        }
    }
    let mut last: Option<ChainHead> = after.cloned();
    let mut entries = after.map_or(0, |h| h.seq + 1);
    loop {
        let page = store.audit_chain(chain, last.as_ref().map(|h| h.seq), PAGE)?;
        if page.is_empty() {
            break;
        }
        verify_chain(chain, &origin, last.as_ref(), &page)
            .map_err(|e| VerifyError::Chain(chain, e))?;
        if let Some((_, h)) = anchored
            && let Some(e) = page.iter().find(|e| e.seq == h.seq)
        {
            at_anchor = Some(e.clone());
        }
        entries += page.len() as u64;
        last = page.last().map(AuditEntry::head);
    }
    if store.audit_head(chain)? != last {
        return Err(VerifyError::Head(chain));
    }
    if let Some((number, h)) = anchored {
        // An anchor at or before `after` is not among the entries read: read it alone.
        if at_anchor.is_none() && after.is_some_and(|a| h.seq <= a.seq) {
            at_anchor = store
                .audit_chain(chain, h.seq.checked_sub(1), 1)?
                .into_iter()
                .find(|e| e.seq == h.seq);
        }
        check_anchor(number, h, at_anchor.as_ref(), entries)?;
    }
    Ok(ChainReport {
        chain,
        entries,
        anchored: anchored.map(|(_, h)| h.seq),
    })
}

/// Verifies every chain the store has or the checkpoint anchors (a chain the checkpoint holds
/// and the store lost entirely is truncation), and that the checkpoint's root is that of its
/// heads (its signature is the domain's to check: `insitu_core::audit`).
pub fn verify_all(
    store: &dyn AuditStore,
    checkpoint: Option<&Checkpoint>,
) -> Result<Vec<ChainReport>, VerifyError> {
    if let Some(c) = checkpoint {
        c.check_root()?;
    }
    let mut chains: Vec<Chain> = store.audit_heads()?.into_iter().map(|h| h.chain).collect();
    if let Some(c) = checkpoint {
        chains.extend(c.heads.iter().map(|h| h.chain));
    }
    chains.sort();
    chains.dedup();
    chains
        .into_iter()
        .map(|c| verify_chain_in(store, c, checkpoint))
        .collect()
}

/// Every entry of `chain`, oldest first, read a page at a time: for one person's export or
/// history (one chain, never the whole log).
pub fn read_chain(store: &dyn AuditStore, chain: Chain) -> Result<Vec<AuditEntry>, StoreError> {
    let mut all: Vec<AuditEntry> = Vec::new();
    loop {
        let page = store.audit_chain(chain, all.last().map(|e| e.seq), PAGE)?;
        if page.is_empty() {
            return Ok(all);
        }
        all.extend(page);
    }
}

/// A person's audit trail: the entries about them in the legacy chain (a store written before
/// per-person chains), then their own chain, oldest first.
pub fn person_trail(
    store: &dyn AuditStore,
    person: insitu_model::records::PersonId,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut trail: Vec<AuditEntry> = read_chain(store, Chain::Legacy)?
        .into_iter()
        .filter(|e| e.event.person() == Some(person))
        .collect();
    trail.extend(read_chain(store, Chain::Person(person))?);
    Ok(trail)
}
