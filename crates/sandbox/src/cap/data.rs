//! Host side of `insitu:plugin/data`: the only way a plugin reads records (invariant 1).
//!
//! The grant is enforced here, on every call, never by the plugin:
//! - a collection outside the grant answers `unknown-collection`, exactly as one that does not
//!   exist, so a plugin cannot even probe for it;
//! - a field outside the grant answers `unknown-field`, and is never in a batch;
//! - the scan's key range is the grant's window intersected with the query's, so records
//!   outside the window are never read from disk;
//! - before each batch the grant is read again: once revoked or expired, the run gets
//!   `access-ended` and no further record;
//! - the `ids` of a batch are per-grant pseudonyms, never the stored ids ([`super::pseudonym`]).
//!
//! Each `open` and `next-batch`, and each record and byte delivered, is charged in fuel
//! ([`super::super::fuel`]).
//!
//! The capability's per-run state is [`DataAccess`], given to the run as one of its inputs;
//! after the run, what it read goes into the run's result ([`finish`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, Resource};

use super::super::Execution;
use super::super::bindings::insitu::plugin::data::{
    self as wit, Batch, Column, ColumnValues as WitValues, DataError, Host, HostQuery, MoneyColumn,
    QuerySpec, TextColumn,
};
use super::super::bindings::insitu::plugin::types::{CollectionInfo, FieldInfo, FieldKind};
use super::super::pseudonym::{Delivered, Pseudonymizer};
use super::{Capability, Caps, RunInputs, Shared, State, View};
use crate::source::{Batches, DataSource, SourceError};
use insitu_model::consent::Grant;
use insitu_model::records::{
    ColumnBatch, ColumnValues, Field, FieldType, PersonId, Schema, TimeRange,
};

/// Default and largest records per batch.
pub const DEFAULT_BATCH: usize = 4096;
pub const MAX_BATCH: usize = 65_536;

/// An open query, held in the run's resource table.
pub struct QueryCursor {
    cursor: Box<dyn Batches>,
    batch_size: usize,
    collection: String,
    ids: Pseudonymizer,
    /// Whether the answer `next-batch` delivered last was the query's last (`was-last`): set
    /// with a batch delivered under a live grant, from what the source knew then, or by `none`.
    last: bool,
}

/// What a run may read, and what it has read.
pub struct DataAccess {
    source: Arc<dyn DataSource>,
    person: PersonId,
    grant: Grant,
    /// Schemas of the granted collections that exist.
    schemas: HashMap<String, Schema>,
    max_records: u64,
    max_bytes: u64,
    max_open: u32,
    open: u32,
    /// The store's secret for record-id pseudonyms.
    pseudonym_key: [u8; 32],
    /// Collections read, with the fields delivered (for the audit entry).
    pub read: BTreeMap<String, BTreeSet<String>>,
    /// Every record delivered, by the pseudonym the plugin saw.
    pub delivered: Delivered,
}

impl DataAccess {
    pub fn new(
        source: Arc<dyn DataSource>,
        person: PersonId,
        grant: Grant,
        limits: &super::super::Limits,
    ) -> Result<Self, SourceError> {
        let mut schemas = HashMap::new();
        for c in &grant.collections {
            if let Some(s) = source.schema(&c.name)? {
                schemas.insert(c.name.clone(), s);
            }
        }
        let pseudonym_key = source.pseudonym_key()?;
        Ok(DataAccess {
            source,
            person,
            grant,
            schemas,
            max_records: limits.records,
            max_bytes: limits.read_bytes,
            max_open: limits.open_queries,
            open: 0,
            pseudonym_key,
            read: BTreeMap::new(),
            delivered: Delivered::default(),
        })
    }

    /// The granted fields of `collection` that its schema has, in schema order.
    fn visible_fields(&self, collection: &str) -> Option<(&Schema, Vec<&Field>)> {
        let granted = self.grant.collection(collection)?;
        let schema = self.schemas.get(collection)?;
        let fields = schema
            .fields
            .iter()
            .filter(|f| granted.fields.contains(&f.name))
            .collect();
        Some((schema, fields))
    }
}

fn kind(t: FieldType) -> FieldKind {
    match t {
        FieldType::Text => FieldKind::Text,
        FieldType::Integer => FieldKind::Integer,
        FieldType::Float => FieldKind::Float,
        FieldType::Money => FieldKind::Money,
        FieldType::Timestamp => FieldKind::Timestamp,
        FieldType::Boolean => FieldKind::Boolean,
    }
}

fn to_wit(b: ColumnBatch) -> Batch {
    Batch {
        ids: b.ids,
        times: b.times,
        columns: b
            .columns
            .into_iter()
            .map(|c| Column {
                name: c.name,
                valid: c.valid,
                values: match c.values {
                    ColumnValues::Text(t) => WitValues::Text(TextColumn {
                        data: t.data,
                        ends: t.ends,
                    }),
                    ColumnValues::Integer(v) => WitValues::Integer(v),
                    ColumnValues::Float(v) => WitValues::Float(v),
                    ColumnValues::Money(m) => WitValues::Money(MoneyColumn {
                        minor: m.minor,
                        currencies: m.currencies,
                        currency: m.currency,
                    }),
                    ColumnValues::Timestamp(v) => WitValues::Timestamp(v),
                    ColumnValues::Boolean(v) => WitValues::Boolean(v),
                },
            })
            .collect(),
    }
}

/// `insitu:plugin/data`: linked with the run's [`DataAccess`], which it takes from the run's
/// inputs.
pub(crate) const CAPABILITY: Capability = Capability {
    link: |l| add_to_linker(l, super::view),
    state,
    finish,
};

fn state(inputs: &mut RunInputs, _: &Shared) -> State {
    let data = inputs
        .take::<DataAccess>()
        .ok_or_else(|| anyhow::anyhow!("the run was given no data access"))?;
    Ok(Some(Box::new(data)))
}

/// What the run read, for its record and its audit entry.
fn finish(caps: &mut Caps, exec: &mut Execution) {
    let d = caps.get::<DataAccess>();
    exec.read = std::mem::take(&mut d.read)
        .into_iter()
        .map(|(c, f)| (c, f.into_iter().collect()))
        .collect();
    exec.delivered = std::mem::take(&mut d.delivered);
}

/// The view `data`'s host functions run on.
pub type DataView<'a> = View<'a, DataAccess>;

/// `data`'s [`HasData`]: its host functions get a [`DataView`].
pub struct Data;

impl HasData for Data {
    type Data<'a> = DataView<'a>;
}

/// Adds `insitu:plugin/data` to `linker`, reaching each run's view through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> DataView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, Data>(linker, get)
}

impl Host for DataView<'_> {
    fn collections(&mut self) -> wasmtime::Result<Vec<CollectionInfo>> {
        self.run.usage.host_calls += 1;
        self.run.meter.call();
        let d = &*self.state;
        let mut out = Vec::new();
        for c in &d.grant.collections {
            if let Some((_, fields)) = d.visible_fields(&c.name) {
                out.push(CollectionInfo {
                    name: c.name.clone(),
                    fields: fields
                        .iter()
                        .map(|f| FieldInfo {
                            name: f.name.clone(),
                            kind: kind(f.ty),
                            optional: f.optional,
                        })
                        .collect(),
                    since: d.grant.window.since,
                    until: d.grant.window.until,
                });
            }
        }
        Ok(out)
    }

    fn open(
        &mut self,
        spec: QuerySpec,
    ) -> wasmtime::Result<Result<Resource<QueryCursor>, DataError>> {
        self.run.usage.host_calls += 1;
        self.run.meter.call();
        let d = &mut *self.state;
        let Some((_, visible)) = d.visible_fields(&spec.collection) else {
            return Ok(Err(DataError::UnknownCollection(spec.collection)));
        };
        let fields: Vec<String> = match spec.fields {
            None => visible.iter().map(|f| f.name.clone()).collect(),
            Some(asked) => {
                if let Some(bad) = asked
                    .iter()
                    .find(|a| !visible.iter().any(|f| f.name == **a))
                {
                    return Ok(Err(DataError::UnknownField(bad.clone())));
                }
                asked
            }
        };
        if d.open >= d.max_open {
            return Ok(Err(DataError::TooManyQueries));
        }
        let range = d.grant.window.intersect(TimeRange {
            since: spec.since,
            until: spec.until,
        });
        self.run.meter.query();
        let cursor = d.source.scan(d.person, &spec.collection, range, &fields)?;
        d.open += 1;
        d.read
            .entry(spec.collection.clone())
            .or_default()
            .extend(fields);
        let batch_size = spec
            .batch_size
            .map(|b| b as usize)
            .unwrap_or(DEFAULT_BATCH)
            .clamp(1, MAX_BATCH);
        let q = QueryCursor {
            cursor,
            batch_size,
            ids: Pseudonymizer::new(&d.pseudonym_key, d.grant.id, &spec.collection),
            collection: spec.collection,
            last: false,
        };
        Ok(Ok(self.run.table.push(q)?))
    }
}

impl HostQuery for DataView<'_> {
    fn next_batch(
        &mut self,
        q: Resource<QueryCursor>,
    ) -> wasmtime::Result<Result<Option<Batch>, DataError>> {
        self.run.usage.host_calls += 1;
        self.run.meter.call();
        self.run.meter.query();
        let left = self
            .state
            .max_records
            .saturating_sub(self.run.usage.records_read);
        if left == 0 {
            return Ok(Err(DataError::LimitReached(format!(
                "{} records read",
                self.run.usage.records_read
            ))));
        }
        if self.run.usage.bytes_read >= self.state.max_bytes {
            return Ok(Err(DataError::LimitReached(format!(
                "{} bytes read",
                self.run.usage.bytes_read
            ))));
        }
        let cursor = self.run.table.get_mut(&q)?;
        let max = (cursor.batch_size as u64).min(left) as usize;
        tracing::trace!(collection = %cursor.collection, max, "next batch");
        let grant = self.state.grant.id;
        let (next, live) = cursor.cursor.next_batch_under(max, grant)?;
        // Revocation and expiry take effect at the next batch: the grant is read again after
        // the batch is read and before it is delivered, the end of the data too (that there
        // is no more is also the person's data); with the batch when the source can.
        let live = match live {
            Some(live) => live,
            None => self.state.source.grant_live(grant)?,
        };
        if live.is_err() {
            return Ok(Err(DataError::AccessEnded));
        }
        // Known now, with the batch and under the grant just checked: never learned later.
        cursor.last = next.is_none() || cursor.cursor.exhausted();
        match next {
            None => Ok(Ok(None)),
            Some((mut batch, bytes)) => {
                self.run.usage.records_read += batch.len() as u64;
                self.run.usage.bytes_read += bytes as u64;
                self.run.meter.delivered(batch.len() as u64, bytes as u64);
                self.state.delivered.pseudonymise(
                    &cursor.ids,
                    &cursor.collection,
                    &mut batch.ids,
                    &batch.times,
                );
                Ok(Ok(Some(to_wit(batch))))
            }
        }
    }

    fn was_last(&mut self, q: Resource<QueryCursor>) -> wasmtime::Result<bool> {
        self.run.usage.host_calls += 1;
        self.run.meter.call();
        Ok(self.run.table.get(&q)?.last)
    }

    fn drop(&mut self, q: Resource<QueryCursor>) -> wasmtime::Result<()> {
        self.run.meter.call();
        self.run.table.delete(q)?;
        self.state.open = self.state.open.saturating_sub(1);
        Ok(())
    }
}
