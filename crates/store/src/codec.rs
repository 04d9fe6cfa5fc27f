//! The byte layout of records and their keys.
//!
//! Key: `person (u64 BE) | collection (u32 BE) | time (i64, sign-flipped BE) | id (u64 BE)`, so
//! that one person's collection is a contiguous range ordered by time, and a time window is a
//! key range. Value: the fields in schema order, each a presence byte then its payload.
//! Decoding goes straight into columns, skipping fields outside the projection.

use super::schema::{FieldType, Record, Schema, Value};
use super::{ColumnBatch, ColumnData, ColumnValues, MoneyColumn, TextColumn};

pub const KEY_LEN: usize = 8 + 4 + 8 + 8;

fn flip(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn unflip(b: [u8; 8]) -> i64 {
    (u64::from_be_bytes(b) ^ (1 << 63)) as i64
}

pub fn record_key(person: u64, coll: u32, time: i64, id: u64) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    k[..8].copy_from_slice(&person.to_be_bytes());
    k[8..12].copy_from_slice(&coll.to_be_bytes());
    k[12..20].copy_from_slice(&flip(time));
    k[20..].copy_from_slice(&id.to_be_bytes());
    k
}

/// (time, id) of a record key.
pub fn split_key(k: &[u8]) -> (i64, u64) {
    let mut t = [0u8; 8];
    t.copy_from_slice(&k[12..20]);
    let mut id = [0u8; 8];
    id.copy_from_slice(&k[20..28]);
    (unflip(t), u64::from_be_bytes(id))
}

pub fn encode(record: &Record, out: &mut Vec<u8>) {
    out.clear();
    for v in record {
        match v {
            Value::Null => out.push(0),
            Value::Text(s) => {
                out.push(1);
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Value::Integer(i) | Value::Timestamp(i) => {
                out.push(1);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Value::Float(f) => {
                out.push(1);
                out.extend_from_slice(&f.to_le_bytes());
            }
            Value::Money { minor, currency } => {
                out.push(1);
                out.extend_from_slice(&minor.to_le_bytes());
                out.push(currency.len() as u8);
                out.extend_from_slice(currency.as_bytes());
            }
            Value::Boolean(b) => {
                out.push(1);
                out.push(*b as u8);
            }
        }
    }
}

/// The stored bytes did not match the schema: the store is damaged.
#[derive(Debug, thiserror::Error)]
#[error("a stored record of `{0}` does not decode under its schema (damaged store)")]
pub struct Corrupt(pub String);

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at + n)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn i64(&mut self) -> Option<i64> {
        self.take(8)
            .map(|s| i64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
    }
    fn str(&mut self, n: usize) -> Option<&'a str> {
        std::str::from_utf8(self.take(n)?).ok()
    }
}

/// Column builders for a projection: `targets[field] = Some(column index)`.
pub struct Projection {
    pub targets: Vec<Option<usize>>,
}

impl Projection {
    /// Builds the projection of `fields` (names, in delivery order) over `schema`.
    pub fn new(schema: &Schema, fields: &[String]) -> Self {
        let targets = schema
            .fields
            .iter()
            .map(|f| fields.iter().position(|n| *n == f.name))
            .collect();
        Projection { targets }
    }

    /// An empty batch with one column per projected field.
    pub fn empty_batch(&self, schema: &Schema, capacity: usize) -> ColumnBatch {
        let mut cols: Vec<(usize, ColumnData)> = Vec::new();
        for (fi, t) in self.targets.iter().enumerate() {
            if let Some(ci) = t {
                let f = &schema.fields[fi];
                let values = match f.ty {
                    FieldType::Text => ColumnValues::Text(TextColumn::with_capacity(capacity)),
                    FieldType::Integer => ColumnValues::Integer(Vec::with_capacity(capacity)),
                    FieldType::Float => ColumnValues::Float(Vec::with_capacity(capacity)),
                    FieldType::Money => ColumnValues::Money(MoneyColumn {
                        minor: Vec::with_capacity(capacity),
                        currencies: Vec::new(),
                        currency: Vec::with_capacity(capacity),
                    }),
                    FieldType::Timestamp => ColumnValues::Timestamp(Vec::with_capacity(capacity)),
                    FieldType::Boolean => ColumnValues::Boolean(Vec::with_capacity(capacity)),
                };
                let valid = f.optional.then(|| Vec::with_capacity(capacity));
                cols.push((
                    *ci,
                    ColumnData {
                        name: f.name.clone(),
                        values,
                        valid,
                    },
                ));
            }
        }
        cols.sort_by_key(|(ci, _)| *ci);
        ColumnBatch {
            ids: Vec::with_capacity(capacity),
            times: Vec::with_capacity(capacity),
            columns: cols.into_iter().map(|(_, c)| c).collect(),
        }
    }

    /// Appends one stored record to `batch`. Returns the bytes of field data delivered.
    pub fn decode_into(
        &self,
        schema: &Schema,
        bytes: &[u8],
        batch: &mut ColumnBatch,
    ) -> Result<usize, Corrupt> {
        let corrupt = || Corrupt(schema.name.clone());
        let mut r = Reader { b: bytes, at: 0 };
        let mut delivered = 0;
        for (fi, f) in schema.fields.iter().enumerate() {
            let present = r.u8().ok_or_else(corrupt)? == 1;
            let target = self.targets[fi].map(|ci| &mut batch.columns[ci]);
            if let Some(col) = &target
                && col.valid.is_none()
                && !present
            {
                return Err(corrupt());
            }
            let (valid, values) = match target {
                Some(c) => (c.valid.as_mut(), Some(&mut c.values)),
                None => (None, None),
            };
            if let Some(v) = valid {
                v.push(present);
            }
            match (f.ty, values) {
                (FieldType::Text, vals) => {
                    let s = if present {
                        let n = r.take(4).ok_or_else(corrupt)?;
                        let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize;
                        r.str(n).ok_or_else(corrupt)?
                    } else {
                        ""
                    };
                    if let Some(ColumnValues::Text(v)) = vals {
                        delivered += s.len();
                        v.push(s);
                    }
                }
                (FieldType::Integer | FieldType::Timestamp | FieldType::Float, vals) => {
                    let i = if present {
                        r.i64().ok_or_else(corrupt)?
                    } else {
                        0
                    };
                    delivered += 8;
                    match vals {
                        Some(ColumnValues::Integer(v)) | Some(ColumnValues::Timestamp(v)) => {
                            v.push(i)
                        }
                        Some(ColumnValues::Float(v)) => v.push(f64::from_bits(i as u64)),
                        _ => delivered -= 8,
                    }
                }
                (FieldType::Money, vals) => {
                    let (minor, cur) = if present {
                        let m = r.i64().ok_or_else(corrupt)?;
                        let n = r.u8().ok_or_else(corrupt)? as usize;
                        (m, r.str(n).ok_or_else(corrupt)?)
                    } else {
                        (0, "")
                    };
                    if let Some(ColumnValues::Money(m)) = vals {
                        delivered += 8 + cur.len();
                        m.push(minor, cur);
                    }
                }
                (FieldType::Boolean, vals) => {
                    let b = if present {
                        r.u8().ok_or_else(corrupt)? == 1
                    } else {
                        false
                    };
                    if let Some(ColumnValues::Boolean(v)) = vals {
                        delivered += 1;
                        v.push(b);
                    }
                }
            }
        }
        Ok(delivered)
    }
}

/// Decodes a whole record (every field), for export and tests.
pub fn decode(schema: &Schema, bytes: &[u8]) -> Result<Record, Corrupt> {
    let all: Vec<String> = schema.fields.iter().map(|f| f.name.clone()).collect();
    let p = Projection::new(schema, &all);
    let mut b = p.empty_batch(schema, 1);
    p.decode_into(schema, bytes, &mut b)?;
    Ok(b.columns.iter().map(|c| c.value(0)).collect())
}
