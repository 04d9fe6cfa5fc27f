//! Checkpoints: the operator's signed statement of every audit chain's head at one time, the
//! anchor that makes cutting entries off a chain's end, or rewriting its last entries with
//! recomputed hashes, evident (a chain alone cannot show either).
//!
//! # The exact encoding
//! - A **leaf** is `SHA-256(0x00 ‖ chain key ‖ seq ‖ hash)` for one chain's head: the chain key
//!   as [`Chain::key_bytes`] (0 legacy; 1 operator; 2 then the person, a big-endian u64), `seq`
//!   a big-endian u64, `hash` the head's 64 lowercase hex characters as ASCII.
//! - Leaves are sorted by chain key (the order of [`Chain`]); an **inner node** is
//!   `SHA-256(0x01 ‖ left ‖ right)`. A level with an odd count carries its last node up
//!   unchanged. The **root** of no leaves is 32 zero bytes.
//! - The **signed message** is `"insitu-checkpoint-v1" ‖ number ‖ at_ms ‖ root`: the number a
//!   big-endian u64, the time a big-endian i64 (ms since the epoch), the root's 32 bytes. The
//!   signature is ed25519 by the operator's key; `key` and `signature` are lowercase hex.
//! - An **inclusion proof** lists, from the leaf up, each sibling's hash and whether it is on
//!   the left; a carried node has no step.
//!
//! # What it anchors
//! A chain whose head a checkpoint holds at `seq` must still have an entry `seq` with that
//! hash: fewer entries is truncation, another hash a rewrite ([`check_anchor`]). Entries after
//! `seq` are not anchored until the next checkpoint.
//!
//! Signing and checking the signature are the domain's (`insitu_core::audit`): this crate does
//! no cryptography beyond hashing.
//!
//! May touch: nothing; pure data and hashing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{AuditEntry, Chain, ChainHead, hex};

const DOMAIN: &[u8] = b"insitu-checkpoint-v1";

/// The signed part of a checkpoint: what a person downloads with their inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedRoot {
    /// 1 for the first checkpoint, then one more each time.
    pub number: u64,
    pub at_ms: i64,
    /// Hex Merkle root over every chain's head.
    pub root: String,
    /// The operator's ed25519 public key, hex.
    pub key: String,
    /// Hex ed25519 signature of the message in the module doc.
    pub signature: String,
}

/// A checkpoint as the store keeps it: the signed root and the heads it was computed over
/// (the operator's; a person is given only their own head and its proof).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub signed: SignedRoot,
    pub heads: Vec<ChainHead>,
}

/// One step of an inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProofStep {
    /// Whether the sibling is on the left of the path.
    pub left: bool,
    /// The sibling's hash, hex.
    pub hash: String,
}

/// Proof that one chain's head is a leaf under a checkpoint's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InclusionProof {
    pub head: ChainHead,
    pub path: Vec<ProofStep>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CheckpointError {
    #[error("checkpoint {0}: its signature does not verify with its key")]
    Signature(u64),
    #[error("checkpoint {0}: its root is not the root of its heads")]
    Root(u64),
    #[error("checkpoint {0}: the inclusion proof does not lead to its root")]
    Proof(u64),
    #[error("checkpoint {0}: its key is not the operator's key")]
    Key(u64),
    #[error(
        "{chain}: checkpoint {number} anchors entry {anchored}, but the chain has {stored} entries (cut off its end)"
    )]
    Truncated {
        chain: Chain,
        number: u64,
        anchored: u64,
        stored: u64,
    },
    #[error(
        "{chain}: entry {seq} is not the one checkpoint {number} anchored (rewritten with recomputed hashes)"
    )]
    Rewritten { chain: Chain, number: u64, seq: u64 },
}

/// The leaf of one head.
pub fn leaf(head: &ChainHead) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(head.chain.key_bytes());
    h.update(head.seq.to_be_bytes());
    h.update(head.hash.as_bytes());
    h.finalize().into()
}

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The heads sorted by chain key, as the tree takes them.
pub fn sorted(mut heads: Vec<ChainHead>) -> Vec<ChainHead> {
    heads.sort_by_key(|h| h.chain);
    heads
}

/// The levels of the tree over `heads` (sorted), leaves first.
fn levels(heads: &[ChainHead]) -> Vec<Vec<[u8; 32]>> {
    let mut levels = vec![heads.iter().map(leaf).collect::<Vec<_>>()];
    while levels.last().is_some_and(|l| l.len() > 1) {
        let below = levels.last().cloned().unwrap_or_default();
        let up = below
            .chunks(2)
            .map(|p| {
                if p.len() == 2 {
                    node(&p[0], &p[1])
                } else {
                    p[0]
                }
            })
            .collect();
        levels.push(up);
    }
    levels
}

/// The Merkle root over `heads` (sorted by chain key), hex.
pub fn root(heads: &[ChainHead]) -> String {
    let top = levels(heads)
        .last()
        .and_then(|l| l.first().copied())
        .unwrap_or([0; 32]);
    hex(&top)
}

/// The proof that `chain`'s head is in the tree over `heads` (sorted), if it is there.
pub fn prove(heads: &[ChainHead], chain: Chain) -> Option<InclusionProof> {
    let mut at = heads.binary_search_by_key(&chain, |h| h.chain).ok()?;
    let levels = levels(heads);
    let mut path = Vec::new();
    for level in &levels[..levels.len() - 1] {
        let sibling = at ^ 1;
        if let Some(s) = level.get(sibling) {
            path.push(ProofStep {
                left: sibling < at,
                hash: hex(s),
            });
        }
        at /= 2;
    }
    Some(InclusionProof {
        head: heads[heads.binary_search_by_key(&chain, |h| h.chain).ok()?].clone(),
        path,
    })
}

/// The bytes of a hex text of exactly 32 bytes.
pub fn unhex32(s: &str) -> Option<[u8; 32]> {
    unhex(s)?.try_into().ok()
}

/// The bytes of a hex text.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl InclusionProof {
    /// Whether the proof leads from its head to `root` (hex).
    pub fn leads_to(&self, root: &str) -> bool {
        let mut h = leaf(&self.head);
        for step in &self.path {
            let Some(s) = unhex32(&step.hash) else {
                return false;
            };
            h = if step.left {
                node(&s, &h)
            } else {
                node(&h, &s)
            };
        }
        hex(&h) == root
    }
}

impl SignedRoot {
    /// The bytes the operator signs (module doc).
    pub fn message(number: u64, at_ms: i64, root: &str) -> Vec<u8> {
        let mut m = DOMAIN.to_vec();
        m.extend_from_slice(&number.to_be_bytes());
        m.extend_from_slice(&at_ms.to_be_bytes());
        m.extend_from_slice(&unhex32(root).unwrap_or([0; 32]));
        m
    }

    /// The bytes of this root's message.
    pub fn signed_message(&self) -> Vec<u8> {
        Self::message(self.number, self.at_ms, &self.root)
    }
}

impl Checkpoint {
    /// Checkpoint `number` at `at_ms` over `heads`, with its root, to be signed (`key` and
    /// `signature` empty until then).
    pub fn unsigned(number: u64, at_ms: i64, heads: Vec<ChainHead>) -> Checkpoint {
        let heads = sorted(heads);
        Checkpoint {
            signed: SignedRoot {
                number,
                at_ms,
                root: root(&heads),
                key: String::new(),
                signature: String::new(),
            },
            heads,
        }
    }

    /// Checks that the root is that of the heads (the signature is checked by the domain).
    pub fn check_root(&self) -> Result<(), CheckpointError> {
        if root(&sorted(self.heads.clone())) != self.signed.root {
            return Err(CheckpointError::Root(self.signed.number));
        }
        Ok(())
    }

    /// The head the checkpoint holds for `chain`, if any.
    pub fn head(&self, chain: Chain) -> Option<&ChainHead> {
        self.heads.iter().find(|h| h.chain == chain)
    }

    /// `chain`'s head with its inclusion proof.
    pub fn prove(&self, chain: Chain) -> Option<InclusionProof> {
        prove(&sorted(self.heads.clone()), chain)
    }
}

/// Checks a chain against the head a checkpoint anchored for it: `at` is the chain's stored
/// entry at the anchored `seq` (none if the chain is shorter), `stored` how many entries the
/// chain has.
pub fn check_anchor(
    number: u64,
    anchored: &ChainHead,
    at: Option<&AuditEntry>,
    stored: u64,
) -> Result<(), CheckpointError> {
    match at {
        None => Err(CheckpointError::Truncated {
            chain: anchored.chain,
            number,
            anchored: anchored.seq,
            stored,
        }),
        Some(e) if e.seq != anchored.seq || e.hash != anchored.hash => {
            Err(CheckpointError::Rewritten {
                chain: anchored.chain,
                number,
                seq: anchored.seq,
            })
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(chain: Chain, seq: u64) -> ChainHead {
        ChainHead {
            chain,
            seq,
            hash: hex(&Sha256::digest(format!("{chain}{seq}"))),
        }
    }

    fn heads(n: u64) -> Vec<ChainHead> {
        let mut v = vec![head(Chain::Operator, 3)];
        v.extend((1..n).map(|p| head(Chain::Person(p), p)));
        v
    }

    #[test]
    fn every_head_has_a_proof_to_the_root_and_another_head_has_none() {
        for n in 1..12 {
            let hs = sorted(heads(n));
            let r = root(&hs);
            for h in &hs {
                let p = prove(&hs, h.chain).unwrap();
                assert!(p.leads_to(&r), "{n} leaves, {}", h.chain);
                let mut moved = p.clone();
                moved.head.seq += 1;
                assert!(!moved.leads_to(&r));
                let mut other = p.clone();
                other.head.chain = Chain::Person(999);
                assert!(!other.leads_to(&r));
            }
            assert!(prove(&hs, Chain::Person(999)).is_none());
        }
        assert_eq!(root(&[]), "0".repeat(64));
    }

    #[test]
    fn the_leaf_and_node_bytes_are_the_ones_the_module_doc_spells_out() {
        let h = ChainHead {
            chain: Chain::Person(5),
            seq: 7,
            hash: "ab".repeat(32),
        };
        let mut bytes = vec![0u8, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 7];
        bytes.extend_from_slice("ab".repeat(32).as_bytes());
        assert_eq!(leaf(&h), <[u8; 32]>::from(Sha256::digest(&bytes)));
        let o = head(Chain::Operator, 0);
        let two = sorted(vec![h.clone(), o.clone()]);
        let mut inner = vec![1u8];
        inner.extend_from_slice(&leaf(&o));
        inner.extend_from_slice(&leaf(&h));
        assert_eq!(root(&two), hex(&Sha256::digest(&inner)));
        // Three leaves: the third is carried up.
        let three = sorted(vec![h.clone(), o.clone(), head(Chain::Person(9), 1)]);
        let mut top = vec![1u8];
        top.extend_from_slice(&Sha256::digest(&inner));
        top.extend_from_slice(&leaf(&three[2]));
        assert_eq!(root(&three), hex(&Sha256::digest(&top)));
    }

    #[test]
    fn a_checkpoint_s_root_is_that_of_its_heads() {
        let cp = Checkpoint::unsigned(4, 1_764_000_000_000, heads(5));
        assert_eq!(cp.check_root(), Ok(()));
        let mut other_heads = cp.clone();
        other_heads.heads[1].seq += 1;
        assert_eq!(other_heads.check_root(), Err(CheckpointError::Root(4)));
        let p = cp.prove(Chain::Person(2)).unwrap();
        assert!(p.leads_to(&cp.signed.root));
        let m = cp.signed.signed_message();
        assert_eq!(&m[..20], b"insitu-checkpoint-v1");
        assert_eq!(&m[20..28], &4u64.to_be_bytes());
        assert_eq!(&m[28..36], &1_764_000_000_000i64.to_be_bytes());
        assert_eq!(hex(&m[36..]), cp.signed.root);
    }
}
