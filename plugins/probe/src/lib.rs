//! `probe`: reports what the grant lets it see, so tests can check the host's enforcement from
//! inside the sandbox. One row per visible collection: its name, the fields delivered, the
//! number of records read, and the earliest and latest record time.
//!
//! Parameters: `batch-size` (integer, records per batch) and `spin` (integer, busy iterations
//! between batches), so tests can hold a query open while they act on the grant; `ids`
//! (integer, 1 to report instead one row per record: its collection and the id it was given),
//! so tests can check the record ids a plugin sees; `past-last` (integer, 1 to ask the host for
//! another batch even after it said the batch was the last, as a plugin without the SDK may),
//! so tests can check what such a call is answered.

use insitu_sdk::bindings::insitu::plugin::data::{self, DataError, QuerySpec};
use insitu_sdk::{CollectionInfo, Output, Params, Plugin, PluginError, Query, Rows, Scalar, Table};

/// Where the probe's batches come from: the SDK's rows, which stop at the batch the host said
/// was the last, or (`past-last`) the host's query itself, asked until it answers none.
enum Pull {
    Rows(Rows),
    Host(data::Query),
}

/// What the probe keeps of a batch: its length, its times, and the granted fields delivered
/// (in the collection's order, when every one is).
type Seen = (usize, Vec<i64>, Option<Vec<String>>);

impl Pull {
    fn next(&mut self, c: &CollectionInfo) -> Result<Option<Seen>, DataError> {
        Ok(match self {
            Pull::Rows(rows) => rows.next_batch()?.map(|b| {
                let delivered = c
                    .fields
                    .iter()
                    .map(|f| b.column(&f.name).map(|col| col.name.clone()))
                    .collect();
                (b.len(), b.times().to_vec(), delivered)
            }),
            Pull::Host(q) => q.next_batch()?.map(|b| {
                let delivered = c
                    .fields
                    .iter()
                    .map(|f| b.columns.iter().find(|col| col.name == f.name))
                    .map(|col| col.map(|col| col.name.clone()))
                    .collect();
                (b.times.len(), b.times, delivered)
            }),
        })
    }
}

struct Probe;

impl Plugin for Probe {
    fn run(params: Params) -> Result<Output, PluginError> {
        if params.integer_or("ids", 0)? == 1 {
            return ids();
        }
        let batch_size = params.integer_or("batch-size", 4096)? as u32;
        let spin = params.integer_or("spin", 0)? as u64;
        let past_last = params.integer_or("past-last", 0)? == 1;
        let mut rows = Vec::new();
        for c in insitu_sdk::collections() {
            let mut delivered: Vec<String> = Vec::new();
            let (mut n, mut first, mut last) = (0i64, i64::MAX, i64::MIN);
            let mut q = if past_last {
                Pull::Host(data::open(&QuerySpec {
                    collection: c.name.clone(),
                    fields: None,
                    since: None,
                    until: None,
                    batch_size: Some(batch_size),
                })?)
            } else {
                Pull::Rows(Query::new(&c.name).batch_size(batch_size).open()?)
            };
            while let Some((len, times, names)) = q.next(&c)? {
                if delivered.is_empty()
                    && let Some(names) = names
                {
                    delivered = names;
                }
                n += len as i64;
                let mut x = 0u64;
                for i in 0..spin {
                    x = std::hint::black_box(x ^ i);
                }
                first = first.min(*times.first().unwrap_or(&i64::MAX));
                last = last.max(*times.last().unwrap_or(&i64::MIN));
            }
            let listed: Vec<String> = c.fields.iter().map(|f| f.name.clone()).collect();
            rows.push(vec![
                Scalar::Text(c.name),
                Scalar::Text(listed.join(",")),
                Scalar::Text(delivered.join(",")),
                Scalar::Integer(n),
                Scalar::Timestamp(if n > 0 { first } else { 0 }),
                Scalar::Timestamp(if n > 0 { last } else { 0 }),
            ]);
        }
        Ok(Output::Table(Table {
            columns: [
                "collection",
                "fields",
                "delivered",
                "records",
                "first",
                "last",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        }))
    }
}

/// One row per record of every visible collection: (collection, id as delivered).
fn ids() -> Result<Output, PluginError> {
    let mut rows = Vec::new();
    for c in insitu_sdk::collections() {
        let mut q = Query::new(&c.name).open()?;
        while let Some(b) = q.next_batch()? {
            for id in b.ids() {
                rows.push(vec![
                    Scalar::Text(c.name.clone()),
                    Scalar::Integer(*id as i64),
                ]);
            }
        }
    }
    Ok(Output::Table(Table {
        columns: ["collection", "id"].map(String::from).to_vec(),
        rows,
    }))
}

insitu_sdk::export_plugin!(Probe);
