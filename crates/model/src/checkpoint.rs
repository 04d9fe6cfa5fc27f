//! Checkpoints: the operator's signed statement of every audit chain's head at one time, the
//! anchor that makes cutting entries off a chain's end, or rewriting its last entries with
//! recomputed hashes, evident (a chain alone cannot show either).
//!
//! A person downloads the signed root and the proof of their own head. That proof must tell
//! them nothing about anyone else: not whether another chain moved since the last checkpoint,
//! not how many chains there are, not where theirs ranks. Hence a sparse tree with blinded
//! leaves (version 2): every chain has a fixed place, every sibling hash is new at every
//! checkpoint, and an empty subtree is indistinguishable from a full one.
//!
//! # The exact encoding (version 2)
//! - Each checkpoint has a host-only 32-byte **blinding secret** `s`, random, kept with the
//!   checkpoint and never given out.
//! - A chain's **place** is a 65-bit number: 0 for the legacy chain, 1 for the operator's,
//!   2^64 + N for person N. The tree has [`DEPTH`] levels of inner nodes above the leaves.
//! - A chain's **blind** is `SHA-256(0x03 ‖ s ‖ chain key)`, the chain key as
//!   [`Chain::key_bytes`] (0 legacy; 1 operator; 2 then the person, a big-endian u64). Its
//!   owner receives it with the proof.
//! - A **leaf** is `SHA-256(0x00 ‖ chain key ‖ seq ‖ hash ‖ blind)` for one chain's head: `seq`
//!   a big-endian u64, `hash` the head's 64 lowercase hex characters as ASCII.
//! - An **inner node** is `SHA-256(0x01 ‖ left ‖ right)`. A subtree with no chain in it, at
//!   level `l` (0 for leaves) and prefix `q` (the places under it, shifted right by `l`), is
//!   `SHA-256(0x02 ‖ s ‖ l as one byte ‖ q as a big-endian u128)`.
//! - The **root** is the node at level [`DEPTH`].
//! - The **signed message** is `"insitu-checkpoint-v2" ‖ number ‖ at_ms ‖ root`: the number a
//!   big-endian u64, the time a big-endian i64 (ms since the epoch), the root's 32 bytes. The
//!   signature is ed25519 by the operator's key; `key` and `signature` are lowercase hex.
//! - An **inclusion proof** is the head, its blind, and [`DEPTH`] steps from the leaf up: each
//!   sibling's hash and whether it is on the left, which must be the place's bit at that level.
//!
//! Version 1 (checkpoints published before version 2, still verified): leaves
//! `SHA-256(0x00 ‖ chain key ‖ seq ‖ hash)` sorted by chain key, inner nodes as above, a level
//! with an odd count carrying its last node up, the root of no leaves 32 zero bytes, the
//! message starting `"insitu-checkpoint-v1"`, proofs without a blind and with a step per level
//! that has a sibling.
//!
//! # What it anchors
//! A chain whose head a checkpoint holds at `seq` must still have an entry `seq` with that
//! hash: fewer entries is truncation, another hash a rewrite ([`check_anchor`]). Entries after
//! `seq` are not anchored until the next checkpoint.
//!
//! Signing, checking the signature and drawing the secret are the domain's
//! (`insitu_core::audit`): this crate does no cryptography beyond hashing.
//!
//! May touch: nothing; pure data and hashing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{AuditEntry, Chain, ChainHead, hex};

const DOMAIN_V1: &[u8] = b"insitu-checkpoint-v1";
const DOMAIN_V2: &[u8] = b"insitu-checkpoint-v2";

/// Levels of inner nodes in a version-2 tree: a place has 65 bits.
pub const DEPTH: usize = 65;

/// The version a checkpoint is built with now.
pub const VERSION: u32 = 2;

fn version_1() -> u32 {
    1
}

/// The signed part of a checkpoint: what a person downloads with their inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedRoot {
    /// The tree's encoding (module doc): 2; 1 for checkpoints published before it.
    #[serde(default = "version_1")]
    pub version: u32,
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

/// A checkpoint as the store keeps it: the signed root, the heads it was computed over and
/// its blinding secret (the operator's; a person is given only their own head, blind and
/// proof).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub signed: SignedRoot,
    pub heads: Vec<ChainHead>,
    /// The blinding secret, hex (version 2; none in version 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blinding: Option<String>,
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
    /// The head's blind, hex (version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blind: Option<String>,
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

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The leaf of one head (`blind`: version 2's; none in version 1).
pub fn leaf(head: &ChainHead, blind: Option<&[u8; 32]>) -> [u8; 32] {
    sha(&[
        &[0u8],
        &head.chain.key_bytes(),
        &head.seq.to_be_bytes(),
        head.hash.as_bytes(),
        blind.map_or(&[][..], |b| &b[..]),
    ])
}

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    sha(&[&[1u8], left, right])
}

/// A chain's place in a version-2 tree.
pub fn place(chain: Chain) -> u128 {
    match chain {
        Chain::Legacy => 0,
        Chain::Operator => 1,
        Chain::Person(p) => (1u128 << 64) | u128::from(p),
    }
}

/// `chain`'s blind under the blinding secret `secret`.
pub fn blind(secret: &[u8; 32], chain: Chain) -> [u8; 32] {
    sha(&[&[3u8], secret, &chain.key_bytes()])
}

/// The hash of an empty subtree at `level` and `prefix`.
fn filler(secret: &[u8; 32], level: usize, prefix: u128) -> [u8; 32] {
    sha(&[&[2u8], secret, &[level as u8], &prefix.to_be_bytes()])
}

/// A version-2 tree: the nodes over some chain, level by level (leaves first, the root
/// last), each keyed by its prefix; every other node is a filler.
struct Sparse {
    secret: [u8; 32],
    levels: Vec<std::collections::BTreeMap<u128, [u8; 32]>>,
}

impl Sparse {
    fn new(heads: &[ChainHead], secret: [u8; 32]) -> Sparse {
        let leaves = heads
            .iter()
            .map(|h| (place(h.chain), leaf(h, Some(&blind(&secret, h.chain)))))
            .collect();
        let mut tree = Sparse {
            secret,
            levels: vec![leaves],
        };
        for level in 0..DEPTH {
            let up = tree.levels[level]
                .keys()
                .map(|q| q >> 1)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|q| {
                    let (l, r) = (tree.at(level, q << 1), tree.at(level, (q << 1) | 1));
                    (q, node(&l, &r))
                })
                .collect();
            tree.levels.push(up);
        }
        tree
    }

    fn at(&self, level: usize, prefix: u128) -> [u8; 32] {
        self.levels[level]
            .get(&prefix)
            .copied()
            .unwrap_or_else(|| filler(&self.secret, level, prefix))
    }

    fn root(&self) -> [u8; 32] {
        self.at(DEPTH, 0)
    }

    fn prove(&self, head: &ChainHead) -> InclusionProof {
        let at = place(head.chain);
        let path = (0..DEPTH)
            .map(|level| {
                let mine = at >> level;
                ProofStep {
                    left: mine & 1 == 1,
                    hash: hex(&self.at(level, mine ^ 1)),
                }
            })
            .collect();
        InclusionProof {
            head: head.clone(),
            blind: Some(hex(&blind(&self.secret, head.chain))),
            path,
        }
    }
}

/// The heads sorted by chain key, as the trees take them.
pub fn sorted(mut heads: Vec<ChainHead>) -> Vec<ChainHead> {
    heads.sort_by_key(|h| h.chain);
    heads
}

/// The levels of a version-1 tree over `heads` (sorted), leaves first.
fn levels_v1(heads: &[ChainHead]) -> Vec<Vec<[u8; 32]>> {
    let mut levels = vec![heads.iter().map(|h| leaf(h, None)).collect::<Vec<_>>()];
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

/// The version-1 Merkle root over `heads` (sorted by chain key), hex.
pub fn root_v1(heads: &[ChainHead]) -> String {
    let top = levels_v1(heads)
        .last()
        .and_then(|l| l.first().copied())
        .unwrap_or([0; 32]);
    hex(&top)
}

/// The version-1 proof that `chain`'s head is in the tree over `heads` (sorted).
pub fn prove_v1(heads: &[ChainHead], chain: Chain) -> Option<InclusionProof> {
    let mut at = heads.binary_search_by_key(&chain, |h| h.chain).ok()?;
    let head = heads[at].clone();
    let levels = levels_v1(heads);
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
        head,
        blind: None,
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
    /// Whether the proof leads from its head to `signed`'s root, by `signed`'s version: in
    /// version 2, with the head's blind and one step per level, each on the side the head's
    /// place says.
    pub fn leads_to(&self, signed: &SignedRoot) -> bool {
        let (mut h, at) = match (signed.version, &self.blind) {
            (1, None) => (leaf(&self.head, None), None),
            (2, Some(b)) if self.path.len() == DEPTH => match unhex32(b) {
                Some(b) => (leaf(&self.head, Some(&b)), Some(place(self.head.chain))),
                None => return false,
            },
            _ => return false,
        };
        for (level, step) in self.path.iter().enumerate() {
            if at.is_some_and(|at| step.left != ((at >> level) & 1 == 1)) {
                return false;
            }
            let Some(s) = unhex32(&step.hash) else {
                return false;
            };
            h = if step.left {
                node(&s, &h)
            } else {
                node(&h, &s)
            };
        }
        hex(&h) == signed.root
    }
}

impl SignedRoot {
    /// The bytes the operator signs for `version` (module doc).
    pub fn message(version: u32, number: u64, at_ms: i64, root: &str) -> Vec<u8> {
        let mut m = if version == 1 { DOMAIN_V1 } else { DOMAIN_V2 }.to_vec();
        m.extend_from_slice(&number.to_be_bytes());
        m.extend_from_slice(&at_ms.to_be_bytes());
        m.extend_from_slice(&unhex32(root).unwrap_or([0; 32]));
        m
    }

    /// The bytes of this root's message.
    pub fn signed_message(&self) -> Vec<u8> {
        Self::message(self.version, self.number, self.at_ms, &self.root)
    }
}

impl Checkpoint {
    /// Checkpoint `number` at `at_ms` over `heads` under the blinding secret `secret`, with
    /// its root, to be signed (`key` and `signature` empty until then).
    pub fn unsigned(
        number: u64,
        at_ms: i64,
        heads: Vec<ChainHead>,
        secret: [u8; 32],
    ) -> Checkpoint {
        let heads = sorted(heads);
        Checkpoint {
            signed: SignedRoot {
                version: VERSION,
                number,
                at_ms,
                root: hex(&Sparse::new(&heads, secret).root()),
                key: String::new(),
                signature: String::new(),
            },
            heads,
            blinding: Some(hex(&secret)),
        }
    }

    /// The tree of a version-2 checkpoint (`None`: version 1, or no valid secret).
    fn sparse(&self) -> Option<Sparse> {
        let secret = unhex32(self.blinding.as_deref()?)?;
        Some(Sparse::new(&self.heads, secret))
    }

    /// Checks that the root is that of the heads, one head per chain (the signature is
    /// checked by the domain).
    pub fn check_root(&self) -> Result<(), CheckpointError> {
        let bad = Err(CheckpointError::Root(self.signed.number));
        if !self.heads.windows(2).all(|w| w[0].chain < w[1].chain) {
            return bad;
        }
        let root = match self.signed.version {
            1 => root_v1(&self.heads),
            2 => match self.sparse() {
                Some(t) => hex(&t.root()),
                None => return bad,
            },
            _ => return bad,
        };
        if root != self.signed.root {
            return bad;
        }
        Ok(())
    }

    /// The head the checkpoint holds for `chain`, if any.
    pub fn head(&self, chain: Chain) -> Option<&ChainHead> {
        // Sorted by chain when built ([`Checkpoint::unsigned`]); a search that misses looks
        // at every head, in case a stored one is not.
        match self.heads.binary_search_by_key(&chain, |h| h.chain) {
            Ok(i) => self.heads.get(i),
            Err(_) => self.heads.iter().find(|h| h.chain == chain),
        }
    }

    /// `chain`'s head with its inclusion proof. Builds the tree: to prove several chains'
    /// heads, [`Checkpoint::prover`] builds it once.
    pub fn prove(&self, chain: Chain) -> Option<InclusionProof> {
        match self.signed.version {
            1 => prove_v1(&sorted(self.heads.clone()), chain),
            _ => Some(self.sparse()?.prove(self.head(chain)?)),
        }
    }

    /// This checkpoint with its tree built, to prove any chain's head without building it
    /// again: what a server keeps of the latest checkpoint between its people's downloads.
    pub fn prover(self) -> Prover {
        let tree = match self.signed.version {
            1 => None,
            _ => self.sparse(),
        };
        Prover {
            checkpoint: self,
            tree,
        }
    }
}

/// A checkpoint and its tree ([`Checkpoint::prover`]).
pub struct Prover {
    checkpoint: Checkpoint,
    /// Version 2's tree (`None`: version 1, whose proofs build theirs, or no valid secret).
    tree: Option<Sparse>,
}

impl Prover {
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// [`Checkpoint::prove`], from the tree built once.
    pub fn prove(&self, chain: Chain) -> Option<InclusionProof> {
        match (&self.tree, self.checkpoint.signed.version) {
            (Some(tree), _) => Some(tree.prove(self.checkpoint.head(chain)?)),
            (None, 1) => self.checkpoint.prove(chain),
            (None, _) => None,
        }
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

    /// A version-1 checkpoint as stored before version 2.
    fn v1(number: u64, heads: Vec<ChainHead>) -> Checkpoint {
        let heads = sorted(heads);
        Checkpoint {
            signed: SignedRoot {
                version: 1,
                number,
                at_ms: 1,
                root: root_v1(&heads),
                key: String::new(),
                signature: String::new(),
            },
            heads,
            blinding: None,
        }
    }

    #[test]
    fn every_head_has_a_proof_to_the_root_and_another_head_has_none() {
        for n in 1..12 {
            for cp in [
                Checkpoint::unsigned(1, 1, heads(n), [n as u8; 32]),
                v1(1, heads(n)),
            ] {
                assert_eq!(cp.check_root(), Ok(()));
                for h in &cp.heads {
                    let p = cp.prove(h.chain).unwrap();
                    assert!(p.leads_to(&cp.signed), "{n} leaves, {}", h.chain);
                    let mut moved = p.clone();
                    moved.head.seq += 1;
                    assert!(!moved.leads_to(&cp.signed));
                    let mut other = p.clone();
                    other.head.chain = Chain::Person(999);
                    assert!(!other.leads_to(&cp.signed));
                    let mut other_version = cp.signed.clone();
                    other_version.version = 3 - cp.signed.version;
                    assert!(!p.leads_to(&other_version));
                }
                assert!(cp.prove(Chain::Person(999)).is_none());
                // The tree built once proves what each call's own tree does.
                let prover = cp.clone().prover();
                for h in &cp.heads {
                    assert_eq!(prover.prove(h.chain), cp.prove(h.chain), "{n} leaves");
                }
                assert!(prover.prove(Chain::Person(999)).is_none());
            }
        }
        assert_eq!(root_v1(&[]), "0".repeat(64));
    }

    #[test]
    fn a_proof_cannot_be_moved_to_another_place_or_blind() {
        let cp = Checkpoint::unsigned(1, 1, heads(6), [9; 32]);
        let p = cp.prove(Chain::Person(3)).unwrap();
        assert!(p.leads_to(&cp.signed));
        let mut flipped = p.clone();
        flipped.path[0].left = !flipped.path[0].left;
        assert!(!flipped.leads_to(&cp.signed), "the side is the place's bit");
        let mut unblinded = p.clone();
        unblinded.blind = None;
        assert!(!unblinded.leads_to(&cp.signed));
        let mut short = p.clone();
        short.path.pop();
        assert!(!short.leads_to(&cp.signed));
        let mut twice = cp.clone();
        twice.heads.push(twice.heads[2].clone());
        assert_eq!(twice.check_root(), Err(CheckpointError::Root(1)));
    }

    /// What a person downloads says nothing about the others: the same shape whoever else
    /// is in the tree, and no sibling hash seen twice across checkpoints, whether or not the
    /// others' chains moved (a moved sibling used to show as a changed hash).
    #[test]
    fn a_proof_s_shape_and_hashes_say_nothing_about_other_chains() {
        let me = Chain::Person(2);
        let few = vec![head(me, 4), head(Chain::Person(3), 1)];
        let mut many = few.clone();
        many.extend((4..300).map(|p| head(Chain::Person(p), p)));
        many.push(head(Chain::Operator, 8));
        let shape = |p: &InclusionProof| p.path.iter().map(|s| s.left).collect::<Vec<_>>();
        let a = Checkpoint::unsigned(1, 1, few.clone(), [1; 32])
            .prove(me)
            .unwrap();
        let b = Checkpoint::unsigned(1, 1, many, [1; 32]).prove(me).unwrap();
        assert_eq!(shape(&a), shape(&b));
        assert_eq!(a.path.len(), DEPTH);
        // Nobody moved between checkpoint 1 and 2, yet every sibling is new.
        let next = Checkpoint::unsigned(2, 2, few, [2; 32]).prove(me).unwrap();
        for (x, y) in a.path.iter().zip(&next.path) {
            assert_ne!(x.hash, y.hash);
        }
        assert_eq!(a.head, next.head);
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
        assert_eq!(leaf(&h, None), <[u8; 32]>::from(Sha256::digest(&bytes)));
        // Version 2: the blind after the hash; one chain alone, every sibling a filler.
        let secret = [4u8; 32];
        let mut b = vec![3u8];
        b.extend_from_slice(&secret);
        b.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 5]);
        let blind_bytes: [u8; 32] = Sha256::digest(&b).into();
        assert_eq!(blind(&secret, h.chain), blind_bytes);
        let mut with_blind = bytes.clone();
        with_blind.extend_from_slice(&blind_bytes);
        let mut up: [u8; 32] = Sha256::digest(&with_blind).into();
        let at = (1u128 << 64) | 5;
        for level in 0..DEPTH {
            let mut f = vec![2u8];
            f.extend_from_slice(&secret);
            f.push(level as u8);
            f.extend_from_slice(&((at >> level) ^ 1).to_be_bytes());
            let sibling: [u8; 32] = Sha256::digest(&f).into();
            let mut n = vec![1u8];
            if (at >> level) & 1 == 1 {
                n.extend_from_slice(&sibling);
                n.extend_from_slice(&up);
            } else {
                n.extend_from_slice(&up);
                n.extend_from_slice(&sibling);
            }
            up = Sha256::digest(&n).into();
        }
        let cp = Checkpoint::unsigned(4, 9, vec![h.clone()], secret);
        assert_eq!(cp.signed.root, hex(&up));
        // Version 1 as it was.
        let o = head(Chain::Operator, 0);
        let two = sorted(vec![h.clone(), o.clone()]);
        let mut inner = vec![1u8];
        inner.extend_from_slice(&leaf(&o, None));
        inner.extend_from_slice(&leaf(&h, None));
        assert_eq!(root_v1(&two), hex(&Sha256::digest(&inner)));
        let three = sorted(vec![h.clone(), o.clone(), head(Chain::Person(9), 1)]);
        let mut top = vec![1u8];
        top.extend_from_slice(&Sha256::digest(&inner));
        top.extend_from_slice(&leaf(&three[2], None));
        assert_eq!(root_v1(&three), hex(&Sha256::digest(&top)));
    }

    #[test]
    fn a_checkpoint_s_root_is_that_of_its_heads() {
        let cp = Checkpoint::unsigned(4, 1_764_000_000_000, heads(5), [6; 32]);
        assert_eq!(cp.check_root(), Ok(()));
        let mut other_heads = cp.clone();
        other_heads.heads[1].seq += 1;
        assert_eq!(other_heads.check_root(), Err(CheckpointError::Root(4)));
        let mut other_secret = cp.clone();
        other_secret.blinding = Some(hex(&[7; 32]));
        assert_eq!(other_secret.check_root(), Err(CheckpointError::Root(4)));
        let p = cp.prove(Chain::Person(2)).unwrap();
        assert!(p.leads_to(&cp.signed));
        let m = cp.signed.signed_message();
        assert_eq!(&m[..20], b"insitu-checkpoint-v2");
        assert_eq!(&m[20..28], &4u64.to_be_bytes());
        assert_eq!(&m[28..36], &1_764_000_000_000i64.to_be_bytes());
        assert_eq!(hex(&m[36..]), cp.signed.root);
        assert_eq!(
            &v1(4, heads(5)).signed.signed_message()[..20],
            b"insitu-checkpoint-v1"
        );
        // A version-1 checkpoint as stored then (no version, no blinding) still reads.
        let old =
            r#"{"signed":{"number":1,"at_ms":1,"root":"00","key":"","signature":""},"heads":[]}"#;
        let old: Checkpoint = serde_json::from_str(old).unwrap();
        assert_eq!((old.signed.version, old.blinding), (1, None));
    }
}
