//! Record ids as a plugin sees them: per-grant pseudonyms (invariant 2, noninterference).
//!
//! A stored record id is derived from the record's content (its natural key, else a hash of
//! its values; `import.rs`), so handing it to a plugin would let the plugin test guesses about
//! fields it was not granted (a hash of all the values, account number included, is checkable
//! by brute force from the granted ones). The `ids` column of every batch therefore carries
//! pseudonyms instead:
//! - keyed by the store's secret ([`DataSource::pseudonym_key`](crate::DataSource::pseudonym_key)),
//!   so nothing outside the host can compute or invert them;
//! - per grant: two grants over the same records see unrelated ids, so two plugins (or two
//!   organisations) cannot join what they saw;
//! - stable under one grant: two runs under a grant see the same id for the same record, so a
//!   plugin can still cite a record as evidence.
//!
//! The run keeps [`Delivered`], the map from each pseudonym it handed out back to the stored
//! record, so the host can check that an id a plugin returns is one it read, and find that
//! record again; the map never leaves the host.
//!
//! May touch: nothing; pure computation over the secret, the grant and the ids.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// Computes the pseudonyms of one collection's records under one grant.
///
/// The construction: a 128-bit key per (grant, collection), the first 16 bytes of
/// `SHA-256(secret[32] ‖ grant[8] ‖ SHA-256(collection)[32])` (fixed-length inputs, computed
/// once per query), then SipHash-2-4 under that key of the stored id. SipHash-2-4 is a
/// pseudo-random function designed for short inputs: without the key a plugin can neither
/// invert a pseudonym nor recompute one from the fields it was granted, and keys of two grants
/// are unrelated. Every delivered record is pseudonymised, so the per-record cost matters: one
/// SipHash of 8 bytes is a few nanoseconds, where the SHA-256 block this replaced took about
/// 100 ns and added a quarter to a million-record scan.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: [u8; 16],
}

impl Pseudonymizer {
    pub fn new(secret: &[u8; 32], grant: u64, collection: &str) -> Self {
        let mut h = Sha256::new();
        h.update(secret);
        h.update(grant.to_be_bytes());
        h.update(Sha256::digest(collection.as_bytes()));
        let digest = h.finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        Pseudonymizer { key }
    }

    /// The pseudonym of the stored record id `id`.
    pub fn pseudonym(&self, id: u64) -> u64 {
        use std::hash::Hasher;
        let mut h = siphasher::sip::SipHasher24::new_with_key(&self.key);
        h.write(&id.to_be_bytes());
        h.finish()
    }
}

/// A record a run was given, as the store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveredRecord<'a> {
    pub collection: &'a str,
    /// The stored record id (the store's key, with the person, collection and time).
    pub id: u64,
    pub time: i64,
}

/// Every record delivered to a run, by the pseudonym the plugin saw. A scan only appends to a
/// list (a few bytes copied per record); the index by pseudonym is built on the first lookup,
/// so a run whose ids nobody checks pays nothing for it. Bounded by the records the run read
/// (at most [`Limits::records`](super::Limits::records) entries of 32 bytes, and 4 more per
/// entry once indexed).
///
/// Pseudonyms are 64 bits: among the n records of one run, two share a pseudonym with
/// probability about n²/2⁶⁵ (under 10⁻⁷ for a million records). The first record delivered
/// under a pseudonym keeps it; a record delivered twice is one entry.
#[derive(Default)]
pub struct Delivered {
    collections: Vec<String>,
    /// (pseudonym, collection index, stored id, time), in delivery order.
    records: Vec<(u64, u32, u64, i64)>,
    /// Positions in `records` of the first delivery of each pseudonym, sorted by pseudonym.
    index: OnceLock<Vec<u32>>,
}

/// Counts only: the stored ids stay out of logs and error messages.
impl std::fmt::Debug for Delivered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivered")
            .field("collections", &self.collections)
            .field("deliveries", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl Delivered {
    fn index(&self) -> &[u32] {
        self.index.get_or_init(|| {
            let mut at: Vec<u32> = (0..self.records.len() as u32).collect();
            // Stable: among equal pseudonyms the first delivery stays first, and is kept.
            at.sort_by_key(|&i| self.records[i as usize].0);
            at.dedup_by_key(|i| self.records[*i as usize].0);
            at
        })
    }

    /// The stored record behind `pseudonym`, if this run was given it.
    pub fn get(&self, pseudonym: u64) -> Option<DeliveredRecord<'_>> {
        let index = self.index();
        let found = index
            .binary_search_by_key(&pseudonym, |&i| self.records[i as usize].0)
            .ok()?;
        let (_, c, id, time) = self.records[index[found] as usize];
        Some(DeliveredRecord {
            collection: self.collections.get(c as usize)?,
            id,
            time,
        })
    }

    /// How many distinct records were delivered.
    pub fn len(&self) -> usize {
        self.index().len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Replaces the stored ids of a batch of `collection` by their pseudonyms, remembering
    /// each. `times[i]` is record `i`'s time.
    pub(crate) fn pseudonymise(
        &mut self,
        p: &Pseudonymizer,
        collection: &str,
        ids: &mut [u64],
        times: &[i64],
    ) {
        let c = match self.collections.iter().position(|n| n == collection) {
            Some(c) => c,
            None => {
                self.collections.push(collection.to_string());
                self.collections.len() - 1
            }
        } as u32;
        self.index.take();
        self.records.reserve(ids.len());
        for (id, &time) in ids.iter_mut().zip(times) {
            let stored = *id;
            *id = p.pseudonym(stored);
            self.records.push((*id, c, stored, time));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [9; 32];

    #[test]
    fn pseudonyms_are_stable_per_grant_and_differ_across_grants_and_collections() {
        let a = Pseudonymizer::new(&SECRET, 1, "bank.transactions");
        let again = Pseudonymizer::new(&SECRET, 1, "bank.transactions");
        let b = Pseudonymizer::new(&SECRET, 2, "bank.transactions");
        let other = Pseudonymizer::new(&SECRET, 1, "receipts.lines");
        let rekeyed = Pseudonymizer::new(&[8; 32], 1, "bank.transactions");
        for id in [0, 1, 42, u64::MAX] {
            assert_eq!(a.pseudonym(id), again.pseudonym(id));
            assert_ne!(a.pseudonym(id), b.pseudonym(id), "same id under two grants");
            assert_ne!(a.pseudonym(id), other.pseudonym(id));
            assert_ne!(
                a.pseudonym(id),
                rekeyed.pseudonym(id),
                "the secret is not used"
            );
            assert_ne!(a.pseudonym(id), id);
        }
    }

    #[test]
    fn a_delivered_batch_maps_each_pseudonym_back_to_its_record() {
        let p = Pseudonymizer::new(&SECRET, 7, "bank.transactions");
        let mut d = Delivered::default();
        let mut ids = vec![10, 20, 10];
        d.pseudonymise(&p, "bank.transactions", &mut ids, &[100, 200, 100]);
        assert_eq!(ids[0], ids[2], "one record, one pseudonym");
        assert_eq!(d.len(), 2);
        let got = d.get(ids[1]).expect("delivered");
        assert_eq!(
            got,
            DeliveredRecord {
                collection: "bank.transactions",
                id: 20,
                time: 200
            }
        );
        assert!(d.get(20).is_none(), "a stored id is not a pseudonym");
    }
}
