//! Record ids: what makes an import idempotent without ever dropping a record whose natural
//! key is not unique.
//!
//! - A record without a natural key is keyed by a hash of its values and its occurrence among
//!   identical records of the file: two identical coffees on one day stay two.
//! - A record with a natural key that no other record of the file shares, and that the store
//!   does not hold with other content, is keyed by the key alone (its *primary* id): an
//!   overlapping statement gives the same id again, and the store counts it as present.
//! - Natural keys are not unique in real files (a bank repeats `AcctSvcrRef` or `FITID` for
//!   entries that differ). Within one file every entry is imported: of the records sharing a
//!   key (and a booking date, the store's time), the one whose content the store already holds
//!   under the primary id takes it, else the first one; each other is keyed by the key, its
//!   content and its occurrence among identical ones (an *alternate* id). Re-importing the
//!   file, or a statement that lists the same entries in another order, gives the same ids.
//! - Across files, a key the store holds with other content is a clash: the new record is
//!   imported under its alternate id, and a note names the key and the line.
//! - Content means the values the file gives, not what a parser derives from the rest of the
//!   file: a bank record's running balance is left out, since one statement may fill it and an
//!   overlapping one not.
//!
//! May touch: the store, reading the records at primary ids ([`Store::records_at`]).

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use insitu_formats::Item;
use insitu_formats::schema::BANK_TRANSACTIONS;

use crate::store::{KeyedRecord, PersonId, Record, Schema, Store, StoreError, Value};

/// The natural keys that more than one record of `items` carries.
pub fn repeated_keys(items: &[Item]) -> HashSet<String> {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for k in items.iter().filter_map(|i| i.key.as_deref()) {
        *seen.entry(k).or_default() += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k.to_string())
        .collect()
}

/// Gives each record its id and time (see the module doc).
pub struct Keys<'a> {
    schema: &'a Schema,
    time_idx: Option<usize>,
    /// Derived fields, left out of a record's content (see the module doc).
    derived: Option<usize>,
    seen: HashMap<[u8; 32], u32>,
    buf: Vec<u8>,
}

impl<'a> Keys<'a> {
    pub fn new(schema: &'a Schema) -> Self {
        let derived = (schema.name == BANK_TRANSACTIONS)
            .then(|| schema.fields.iter().position(|f| f.name == "balance"))
            .flatten();
        Keys {
            schema,
            time_idx: schema.time_index(),
            derived,
            seen: HashMap::new(),
            buf: Vec::new(),
        }
    }

    /// The record keyed by its natural key's primary id, or by its content.
    pub fn key(&mut self, key: Option<&str>, values: Record) -> KeyedRecord {
        let id = match key {
            Some(k) => self.primary(k),
            None => {
                let mut h = self.hasher(b"values");
                crate::store::codec::encode(&values, &mut self.buf);
                h.update(&self.buf);
                self.nth(h.finalize().into())
            }
        };
        self.record(id, values)
    }

    /// The id of the first record with natural key `key`.
    pub fn primary(&self, key: &str) -> u64 {
        let mut h = self.hasher(b"key");
        h.update(key.as_bytes());
        let digest: [u8; 32] = h.finalize().into();
        id_of(&digest, 0)
    }

    /// The id of a record sharing `key` with another: the key, its content, and its
    /// occurrence among the identical ones of this import.
    fn alternate(&mut self, key: &str, content: &Record) -> u64 {
        let mut h = self.hasher(b"clash");
        h.update(key.as_bytes());
        h.update(b"\0");
        crate::store::codec::encode(content, &mut self.buf);
        h.update(&self.buf);
        self.nth(h.finalize().into())
    }

    /// The values that say whether two records are the same one: all but the derived.
    pub fn content(&self, values: &Record) -> Record {
        let mut c = values.clone();
        if let Some(v) = self.derived.and_then(|i| c.get_mut(i)) {
            *v = Value::Null;
        }
        c
    }

    fn hasher(&self, kind: &[u8]) -> Sha256 {
        let mut h = Sha256::new();
        h.update(self.schema.name.as_bytes());
        h.update(b"\0");
        h.update(kind);
        h.update(b"\0");
        h
    }

    /// The id of the n-th record of this import with `digest`: same content, its own id.
    fn nth(&mut self, digest: [u8; 32]) -> u64 {
        let n = self.seen.entry(digest).or_insert(0);
        *n += 1;
        id_of(&digest, *n - 1)
    }

    /// The record's time: its schema's time field, else 0.
    pub fn time(&self, values: &Record) -> i64 {
        match self.time_idx.and_then(|i| values.get(i)) {
            Some(Value::Timestamp(t)) => *t,
            _ => 0,
        }
    }

    pub fn record(&self, id: u64, values: Record) -> KeyedRecord {
        KeyedRecord {
            id,
            time: self.time(&values),
            values,
        }
    }
}

fn id_of(digest: &[u8; 32], occurrence: u32) -> u64 {
    u64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8]))
        .wrapping_add(u64::from(occurrence).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A keyed record whose id waits for what the store holds: one that shares its natural key
/// with another record of the file, or whose primary id the store holds with other values.
pub struct Later {
    pub line: u64,
    pub key: String,
    pub values: Record,
}

/// A record of [`settle`]'s answer: keyed, with its line, and whether it clashes with a
/// record an earlier import gave the same natural key.
pub struct Settled {
    pub line: u64,
    pub key: String,
    pub record: KeyedRecord,
    pub clash: bool,
}

/// Gives each of `later` its id (see the module doc), reading the records the store holds at
/// their primary ids in one transaction.
pub fn settle(
    store: &dyn Store,
    person: PersonId,
    keys: &mut Keys,
    later: Vec<Later>,
) -> Result<Vec<Settled>, StoreError> {
    let at: Vec<(i64, u64)> = later
        .iter()
        .map(|l| (keys.time(&l.values), keys.primary(&l.key)))
        .collect();
    let stored = store.records_at(person, &keys.schema.name, &at)?;
    let entries: Vec<(Record, Option<Record>)> = later
        .iter()
        .zip(stored)
        .map(|(l, s)| (keys.content(&l.values), s.map(|s| keys.content(&s))))
        .collect();
    // Per key, the times at which a record of this import takes the primary id: first the
    // records the store already holds there, then, if none did, the first record of the key
    // at a time the store holds nothing for it.
    let mut taken: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut primary = vec![false; later.len()];
    for (i, (l, (content, stored))) in later.iter().zip(&entries).enumerate() {
        let times = taken.entry(l.key.as_str()).or_default();
        if stored.as_ref() == Some(content) && !times.contains(&at[i].0) {
            times.push(at[i].0);
            primary[i] = true;
        }
    }
    for (i, (l, (_, stored))) in later.iter().zip(&entries).enumerate() {
        let times = taken.entry(l.key.as_str()).or_default();
        if stored.is_none() && times.is_empty() {
            times.push(at[i].0);
            primary[i] = true;
        }
    }
    // A clash: the store holds other content at the primary id, and no record of this file
    // is that content.
    let clash: Vec<bool> = later
        .iter()
        .zip(&entries)
        .enumerate()
        .map(|(i, (l, (_, stored)))| {
            let held = taken
                .get(l.key.as_str())
                .is_some_and(|t| t.contains(&at[i].0));
            !primary[i] && stored.is_some() && !held
        })
        .collect();
    drop(taken);
    let mut out = Vec::with_capacity(later.len());
    for (i, (l, (content, _))) in later.into_iter().zip(entries).enumerate() {
        let id = if primary[i] {
            at[i].1
        } else {
            keys.alternate(&l.key, &content)
        };
        let clash = clash[i];
        out.push(Settled {
            line: l.line,
            key: l.key,
            record: keys.record(id, l.values),
            clash,
        });
    }
    Ok(out)
}
