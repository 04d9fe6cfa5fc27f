//! Typed rows over the host's columnar batches.
//!
//! The host sends one list per field, which is what makes moving records into the sandbox
//! cheap. Plugins mostly want rows, so [`Batch::rows`] gives a view of each record that reads
//! straight from those columns, without copying.

use crate::Money;
use crate::bindings::insitu::plugin::data::{
    self, Column, ColumnValues, DataError, MoneyColumn, QuerySpec, TextColumn,
};

/// A query on one granted collection; [`Query::open`] starts it.
#[derive(Debug, Clone)]
pub struct Query {
    spec: QuerySpec,
}

impl Query {
    /// A query over every granted field of `collection`, across the whole granted window.
    pub fn new(collection: &str) -> Self {
        Query {
            spec: QuerySpec {
                collection: collection.to_string(),
                fields: None,
                since: None,
                until: None,
                batch_size: None,
            },
        }
    }

    /// Delivers only these fields. Asking for a field outside the grant fails the open.
    pub fn fields(mut self, fields: &[&str]) -> Self {
        self.spec.fields = Some(fields.iter().map(|f| f.to_string()).collect());
        self
    }

    /// Narrows to records at or after `ms` (ms since the epoch). The granted window still applies.
    pub fn since(mut self, ms: i64) -> Self {
        self.spec.since = Some(ms);
        self
    }

    /// Narrows to records before `ms` (ms since the epoch). The granted window still applies.
    pub fn until(mut self, ms: i64) -> Self {
        self.spec.until = Some(ms);
        self
    }

    /// Records per batch (the host caps it; default 4096).
    pub fn batch_size(mut self, n: u32) -> Self {
        self.spec.batch_size = Some(n);
        self
    }

    /// Opens the query.
    pub fn open(self) -> Result<Rows, DataError> {
        Ok(Rows {
            query: data::open(&self.spec)?,
            done: false,
        })
    }
}

/// An open query: pull batches until `None`.
pub struct Rows {
    query: data::Query,
    done: bool,
}

impl Rows {
    /// The next batch, or `None` once the query is exhausted. When the host says a batch was
    /// the last (`was-last`), the `None` after it is answered here, without asking the host
    /// again (a round trip to the database, on some stores).
    pub fn next_batch(&mut self) -> Result<Option<Batch>, DataError> {
        if self.done {
            return Ok(None);
        }
        match self.query.next_batch()? {
            Some(b) => {
                self.done = self.query.was_last();
                Ok(Some(Batch { inner: b }))
            }
            None => {
                self.done = true;
                Ok(None)
            }
        }
    }

    /// Calls `f` on every remaining row.
    pub fn for_each(mut self, mut f: impl FnMut(Row<'_>)) -> Result<(), DataError> {
        while let Some(batch) = self.next_batch()? {
            batch.rows().for_each(&mut f);
        }
        Ok(())
    }
}

/// A batch of records, as columns.
pub struct Batch {
    inner: data::Batch,
}

impl Batch {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.inner.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column of field `name`, if delivered.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.inner.columns.iter().find(|c| c.name == name)
    }

    /// The records' ids (for evidence references), in order: per-grant pseudonyms, stable
    /// across runs under one grant, never derived from the records' content.
    pub fn ids(&self) -> &[u64] {
        &self.inner.ids
    }

    /// The records' times (ms since epoch), in order.
    pub fn times(&self) -> &[i64] {
        &self.inner.times
    }

    /// Row views over the batch, in time order.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        (0..self.len()).map(move |i| Row { batch: self, i })
    }

    /// The text field `name` as a column view (the fastest way to read many values).
    pub fn text(&self, name: &str) -> Option<TextView<'_>> {
        let c = self.column(name)?;
        match &c.values {
            ColumnValues::Text(t) => Some(TextView {
                col: t,
                valid: c.valid.as_deref(),
            }),
            _ => None,
        }
    }

    /// The money field `name` as a column view.
    pub fn money(&self, name: &str) -> Option<MoneyView<'_>> {
        let c = self.column(name)?;
        match &c.values {
            ColumnValues::Money(m) => Some(MoneyView {
                col: m,
                valid: c.valid.as_deref(),
            }),
            _ => None,
        }
    }
}

/// A text column of a batch: value `i` is a slice of one shared buffer, no copy.
#[derive(Clone, Copy)]
pub struct TextView<'a> {
    col: &'a TextColumn,
    valid: Option<&'a [bool]>,
}

impl<'a> TextView<'a> {
    /// Value `i`, or `None` where the record has no value.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        if self.valid.is_some_and(|v| !v[i]) {
            return None;
        }
        let end = *self.col.ends.get(i)? as usize;
        let start = if i == 0 {
            0
        } else {
            self.col.ends[i - 1] as usize
        };
        self.col.data.get(start..end)
    }
}

/// A money column of a batch.
#[derive(Clone, Copy)]
pub struct MoneyView<'a> {
    col: &'a MoneyColumn,
    valid: Option<&'a [bool]>,
}

impl<'a> MoneyView<'a> {
    /// Minor units and currency code of value `i`, or `None` where the record has no value.
    pub fn get(&self, i: usize) -> Option<(i64, &'a str)> {
        if self.valid.is_some_and(|v| !v[i]) {
            return None;
        }
        let code = self
            .col
            .currencies
            .get(*self.col.currency.get(i)? as usize)?;
        Some((self.col.minor[i], code.as_str()))
    }
}

/// One record of a batch. Getters return `None` when the field was not delivered, has another
/// type, or has no value in this record. For tight loops over many records, prefer the column
/// views ([`Batch::text`], [`Batch::money`]), which look the field up once per batch.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    batch: &'a Batch,
    i: usize,
}

impl<'a> Row<'a> {
    pub fn id(&self) -> u64 {
        self.batch.inner.ids[self.i]
    }

    /// The record's time, ms since the epoch.
    pub fn time(&self) -> i64 {
        self.batch.inner.times[self.i]
    }

    fn present(&self, name: &str) -> Option<&'a Column> {
        let col = self.batch.column(name)?;
        match &col.valid {
            Some(v) if !v[self.i] => None,
            _ => Some(col),
        }
    }

    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.batch.text(name)?.get(self.i)
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        match &self.present(name)?.values {
            ColumnValues::Integer(v) | ColumnValues::Timestamp(v) => Some(v[self.i]),
            _ => None,
        }
    }

    pub fn float(&self, name: &str) -> Option<f64> {
        match &self.present(name)?.values {
            ColumnValues::Float(v) => Some(v[self.i]),
            _ => None,
        }
    }

    pub fn boolean(&self, name: &str) -> Option<bool> {
        match &self.present(name)?.values {
            ColumnValues::Boolean(v) => Some(v[self.i]),
            _ => None,
        }
    }

    /// Minor units and currency of a money field.
    pub fn money_minor(&self, name: &str) -> Option<(i64, &'a str)> {
        self.batch.money(name)?.get(self.i)
    }

    pub fn money(&self, name: &str) -> Option<Money> {
        self.money_minor(name).map(|(minor, currency)| Money {
            minor,
            currency: currency.to_string(),
        })
    }
}
