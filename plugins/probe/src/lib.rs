//! `probe`: reports what the grant lets it see, so tests can check the host's enforcement from
//! inside the sandbox. One row per visible collection: its name, the fields delivered, the
//! number of records read, and the earliest and latest record time.
//!
//! Parameters: `batch-size` (integer, records per batch) and `spin` (integer, busy iterations
//! between batches), so tests can hold a query open while they act on the grant; `ids`
//! (integer, 1 to report instead one row per record: its collection and the id it was given),
//! so tests can check the record ids a plugin sees.

use insitu_sdk::{Output, Params, Plugin, PluginError, Query, Scalar, Table};

struct Probe;

impl Plugin for Probe {
    fn run(params: Params) -> Result<Output, PluginError> {
        if params.integer_or("ids", 0)? == 1 {
            return ids();
        }
        let batch_size = params.integer_or("batch-size", 4096)? as u32;
        let spin = params.integer_or("spin", 0)? as u64;
        let mut rows = Vec::new();
        for c in insitu_sdk::collections() {
            let mut delivered: Vec<String> = Vec::new();
            let (mut n, mut first, mut last) = (0i64, i64::MAX, i64::MIN);
            let mut q = Query::new(&c.name).batch_size(batch_size).open()?;
            while let Some(b) = q.next_batch()? {
                if delivered.is_empty()
                    && let Some(names) = c
                        .fields
                        .iter()
                        .map(|f| b.column(&f.name).map(|col| col.name.clone()))
                        .collect::<Option<Vec<_>>>()
                {
                    delivered = names;
                }
                n += b.len() as i64;
                let mut x = 0u64;
                for i in 0..spin {
                    x = std::hint::black_box(x ^ i);
                }
                first = first.min(*b.times().first().unwrap_or(&i64::MAX));
                last = last.max(*b.times().last().unwrap_or(&i64::MIN));
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
