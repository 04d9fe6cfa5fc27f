//! Records' values in chunks (`migrations/V7__record_chunks.sql`): the records of one
//! person's collection, a few dozen at a time, in one row of `record_chunks`. PostgreSQL's cost
//! of reading is per row (an index entry, a heap tuple, a message), so a scan that reads one
//! row per chunk instead of one per record does a fraction of the server's work; `records`
//! keeps one row per record, its key and its chunk, for what a key decides.
//!
//! A chunk's bytes are, per record in (time, id) order: the time and the stored id (8 bytes
//! each, big-endian, as PostgreSQL's `int8send`), the value's length (4 bytes, `int4send`) and
//! the value (the store's codec). Chunks of one collection may overlap in (time, id) (a later
//! import of earlier records); [`Merge`] reads them in order.

use std::collections::VecDeque;

use insitu_store::StoreError;
use insitu_store::codec::Corrupt;

/// A chunk closes before its bytes pass this (unless it holds a single record), so that its
/// row stays under PostgreSQL's `toast_tuple_target` (8,160 bytes): in the table's own page,
/// uncompressed.
pub(crate) const CHUNK_BYTES: usize = 7 * 1024;
/// And before it holds more records than this.
pub(crate) const CHUNK_RECORDS: usize = 256;
/// The bytes before each value: time, id, length.
const HEADER: usize = 20;

/// A record's key as stored and ordered: its time and its stored id (`record_id`).
pub(crate) type Key = (i64, i64);

fn corrupt() -> StoreError {
    StoreError::Corrupt(Corrupt("a record chunk".into()))
}

/// Appends a record to a chunk's bytes.
pub(crate) fn push(data: &mut Vec<u8>, key: Key, value: &[u8]) {
    data.extend_from_slice(&key.0.to_be_bytes());
    data.extend_from_slice(&key.1.to_be_bytes());
    // A value's length fits: the codec's values are bounded far below 4 GiB.
    data.extend_from_slice(&(value.len() as u32).to_be_bytes());
    data.extend_from_slice(value);
}

/// A record of a chunk: its key, its value, and where the next record starts.
pub(crate) type At<'a> = (Key, &'a [u8], usize);

/// The record at `pos` of a chunk's bytes; `None` at the end.
pub(crate) fn at(data: &[u8], pos: usize) -> Result<Option<At<'_>>, StoreError> {
    if pos == data.len() {
        return Ok(None);
    }
    let header = data.get(pos..pos + HEADER).ok_or_else(corrupt)?;
    let int = |b: &[u8]| -> Result<i64, StoreError> {
        Ok(i64::from_be_bytes(b.try_into().map_err(|_| corrupt())?))
    };
    let time = int(&header[0..8])?;
    let id = int(&header[8..16])?;
    let len = u32::from_be_bytes(header[16..20].try_into().map_err(|_| corrupt())?) as usize;
    let start = pos + HEADER;
    let value = data.get(start..start + len).ok_or_else(corrupt)?;
    Ok(Some(((time, id), value, start + len)))
}

/// Which of `sizes` (records' value lengths, in key order) go to which chunk: the index at
/// which each chunk starts.
pub(crate) fn split(sizes: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut starts = Vec::new();
    let (mut bytes, mut n) = (0usize, 0usize);
    for (i, size) in sizes.enumerate() {
        let size = HEADER + size;
        if n == 0 || n == CHUNK_RECORDS || bytes + size > CHUNK_BYTES {
            starts.push(i);
            bytes = 0;
            n = 0;
        }
        bytes += size;
        n += 1;
    }
    starts
}

/// A chunk being read: its row and where its next record is.
struct Reading<R> {
    row: R,
    pos: usize,
    key: Key,
}

/// Reads chunks that arrive in order of their first key, and gives their records in key
/// order. A chunk is started when the records read so far reach its first key, so chunks that
/// do not overlap are read one after the other, and overlapping ones are merged.
pub(crate) struct Merge<R> {
    /// Chunks arrived and not started, with their first key.
    pending: VecDeque<(Key, R)>,
    /// Chunks started and not finished; usually one.
    reading: Vec<Reading<R>>,
    /// The bytes of a chunk's row.
    bytes: fn(&R) -> Result<&[u8], StoreError>,
}

impl<R> Merge<R> {
    pub(crate) fn new(bytes: fn(&R) -> Result<&[u8], StoreError>) -> Self {
        Merge {
            pending: VecDeque::new(),
            reading: Vec::new(),
            bytes,
        }
    }

    /// Adds the chunks that come next, in order of their first key.
    pub(crate) fn extend(&mut self, rows: impl IntoIterator<Item = R>) -> Result<(), StoreError> {
        for row in rows {
            let first = match at((self.bytes)(&row)?, 0)? {
                Some((key, _, _)) => key,
                None => continue, // an empty chunk is never written; nothing to read in one
            };
            self.pending.push_back((first, row));
        }
        Ok(())
    }

    /// Whether every chunk that could hold the next record has arrived: the next record is
    /// then known. False when no chunk is pending, so the caller fetches more first (unless
    /// there is no more, when [`Merge::next`] gives what is left).
    pub(crate) fn ready(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether every chunk arrived was read to its end.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.reading.is_empty()
    }

    /// Gives the next record, in key order, to `take` (key and value); `None` when the chunks
    /// arrived are read. While more chunks may arrive, call only when [`Merge::ready`].
    pub(crate) fn next<T>(
        &mut self,
        take: impl FnOnce(Key, &[u8]) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        // Start every chunk that begins before the smallest key being read.
        let least = |reading: &[Reading<R>]| reading.iter().map(|r| r.key).min();
        while let Some((first, _)) = self.pending.front() {
            if least(&self.reading).is_some_and(|k| k < *first) {
                break;
            }
            let Some((key, row)) = self.pending.pop_front() else {
                break;
            };
            self.reading.push(Reading { row, pos: 0, key });
        }
        let Some(i) = (0..self.reading.len()).min_by_key(|&i| self.reading[i].key) else {
            return Ok(None);
        };
        let r = &mut self.reading[i];
        let data = (self.bytes)(&r.row)?;
        let (key, value, next) = at(data, r.pos)?.ok_or_else(corrupt)?;
        let out = take(key, value)?;
        match at(data, next)? {
            Some((key, _, _)) => {
                r.pos = next;
                r.key = key;
            }
            None => {
                self.reading.swap_remove(i);
            }
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(keys: &[Key]) -> Vec<u8> {
        let mut d = Vec::new();
        for &k in keys {
            push(&mut d, k, format!("v{}.{}", k.0, k.1).as_bytes());
        }
        d
    }

    fn read_all(chunks: Vec<Vec<u8>>, arrive: usize) -> Vec<Key> {
        let mut m = Merge::new(|d: &Vec<u8>| Ok(d.as_slice()));
        let mut chunks = chunks.into_iter();
        let mut out = Vec::new();
        let mut more = true;
        loop {
            if !m.ready() && more {
                let next: Vec<_> = chunks.by_ref().take(arrive).collect();
                more = !next.is_empty();
                m.extend(next).unwrap();
                continue;
            }
            let got = m
                .next(|k, v| {
                    assert_eq!(v, format!("v{}.{}", k.0, k.1).as_bytes());
                    Ok(k)
                })
                .unwrap();
            match got {
                Some(k) => out.push(k),
                None if more => {}
                None => break,
            }
        }
        out
    }

    #[test]
    fn chunks_that_overlap_are_merged_in_key_order() {
        let a = chunk(&[(1, 1), (3, 0), (5, 0), (9, 0)]);
        let b = chunk(&[(2, 0), (3, 1), (4, 0)]);
        let c = chunk(&[(4, 5), (10, 0)]);
        let d = chunk(&[(11, 0)]);
        let want = vec![
            (1, 1),
            (2, 0),
            (3, 0),
            (3, 1),
            (4, 0),
            (4, 5),
            (5, 0),
            (9, 0),
            (10, 0),
            (11, 0),
        ];
        for arrive in 1..=4 {
            assert_eq!(
                read_all(vec![a.clone(), b.clone(), c.clone(), d.clone()], arrive),
                want,
                "{arrive} chunks a fetch"
            );
        }
    }

    #[test]
    fn a_cut_chunk_is_corrupt_not_a_panic() {
        let d = chunk(&[(1, 1), (2, 2)]);
        for cut in 1..d.len() {
            let mut pos = 0;
            let mut failed = false;
            while pos < cut {
                match at(&d[..cut], pos) {
                    Ok(Some((_, _, next))) => pos = next,
                    Ok(None) => break,
                    Err(StoreError::Corrupt(_)) => {
                        failed = true;
                        break;
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            let one_whole_record = cut == HEADER + "v1.1".len();
            assert!(failed || one_whole_record, "cut at {cut}");
        }
    }

    #[test]
    fn chunks_close_on_bytes_or_records() {
        assert_eq!(split([10, 10, 10].into_iter()), vec![0]);
        let big = CHUNK_BYTES - HEADER;
        assert_eq!(split([big, 1, big, big].into_iter()), vec![0, 1, 2, 3]);
        let many = split(std::iter::repeat_n(0, CHUNK_RECORDS + 1));
        assert_eq!(many, vec![0, CHUNK_RECORDS]);
        assert!(split(std::iter::empty()).is_empty());
    }
}
