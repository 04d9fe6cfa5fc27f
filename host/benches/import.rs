//! Import throughput into redb and into PostgreSQL, in records per second: a 1,000,000-row CSV
//! and a 100,000-transaction OFX file, end to end (read, detect, decode, parse, key, write in
//! 10k batches). Baselines measured in the same run: the parser alone, and the store alone
//! writing the same records already keyed. Run with `cargo bench -p insitu --bench import`.
//!
//! `BACKENDS=redb` or `BACKENDS=postgres` for one backend (default both, redb first;
//! PostgreSQL is the test database that `scripts/pg-start` starts, in a schema of the run's
//! own, dropped at the end). `ROWS` sets the CSV's rows (default 1,000,000) and `OFX_ROWS` the
//! OFX file's transactions (default 100,000).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use insitu_core::import::{ImportOptions, import_file, parse_file};
use insitu_core::store::redb::RedbStore;
use insitu_core::store::{KeyedRecord, Schema, Store};
use insitu_formats::bank::BankTx;
use insitu_formats::time::DAY_MS;
use insitu_formats::write;
use insitu_store_pg::testing::Schemas;

const LABELS: [&str; 6] = [
    "CB CARREFOUR MARKET",
    "PRLV SEPA FREE MOBILE",
    "VIR SEPA SALAIRE",
    "FRAIS TENUE DE COMPTE",
    "CB BOULANGERIE PAUL",
    "PRLV LOYER AGENCE DUPONT",
];

fn tx(i: usize) -> BankTx {
    BankTx {
        account: "FR7630004000031234".into(),
        booked: (19_000 + (i / 300) as i64) * DAY_MS,
        value_date: Some((19_001 + (i / 300) as i64) * DAY_MS),
        amount: -((i as i64 * 7919) % 90_000 + 100),
        currency: "EUR".into(),
        counterparty: Some(format!("Shop {}", i % 97)),
        label: LABELS[i % LABELS.len()].into(),
        key: Some(format!("F{i:08}")),
        ..Default::default()
    }
}

fn csv(n: usize) -> String {
    let mut out = String::from("account,booked,value_date,amount,counterparty,label,reference\n");
    for i in 0..n {
        let t = tx(i);
        let _ = writeln!(
            out,
            "{},{},{},{} EUR,{},{},R{i}",
            t.account,
            insitu_formats::time::format_date(t.booked),
            insitu_formats::time::format_date(t.value_date.unwrap_or(0)),
            insitu_formats::money::format_minor(t.amount, "EUR"),
            t.counterparty.unwrap_or_default(),
            t.label
        );
    }
    out
}

fn ofx(n: usize) -> String {
    let txs: Vec<BankTx> = (0..n).map(tx).collect();
    write::ofx(&[write::Statement {
        account: "FR7630004000031234",
        currency: "EUR",
        txs: &txs,
        closing: 0,
    }])
}

/// Where the records go: a redb file per measurement, or a PostgreSQL schema per measurement.
enum Backend {
    Redb,
    Postgres(Schemas),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Redb => "redb",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// A new, empty store named `name` on `backend`, with the bank transactions' collection.
fn store(backend: &Backend, dir: &Path, name: &str) -> Box<dyn Store> {
    let s: Box<dyn Store> = match backend {
        Backend::Redb => {
            Box::new(RedbStore::open(&dir.join(format!("{name}.redb"))).expect("store"))
        }
        Backend::Postgres(schemas) => Box::new(insitu_store_pg::testing::connect(
            &schemas.fresh(),
            insitu_core::clock::SystemClock::shared(),
        )),
    };
    s.define_collection(&Schema::bank_transactions())
        .expect("schema");
    s
}

fn rate(n: usize, secs: f64) -> String {
    format!("{:>9.0} rec/s ({secs:.2} s)", n as f64 / secs)
}

fn measure(backend: &Backend, label: &str, file: &Path, opts: &ImportOptions, dir: &Path) {
    // Parser alone: read, detect, decode, parse.
    let scratch = store(backend, dir, &format!("{label}-parse"));
    let t = Instant::now();
    let (_, parsed) = parse_file(scratch.as_ref(), file, opts).expect("parse");
    let parse_s = t.elapsed().as_secs_f64();
    let n = parsed.items.len();
    // Store alone: the same records, already keyed, in batches of 10k.
    let records: Vec<KeyedRecord> = parsed
        .items
        .into_iter()
        .enumerate()
        .map(|(i, it)| KeyedRecord {
            id: (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            time: match it.values[1] {
                insitu_core::store::Value::Timestamp(t) => t,
                _ => 0,
            },
            values: it.values,
        })
        .collect();
    let s = store(backend, dir, &format!("{label}-store"));
    let p = s.add_person("bench").expect("person");
    let t = Instant::now();
    for chunk in records.chunks(insitu_core::import::BATCH) {
        s.write_records(
            p,
            "bank.transactions",
            chunk,
            insitu_core::store::Source::File("bench"),
        )
        .expect("write");
    }
    let store_s = t.elapsed().as_secs_f64();
    drop(records);
    // End to end.
    let s = store(backend, dir, &format!("{label}-import"));
    let p = s.add_person("bench").expect("person");
    let t = Instant::now();
    let r = import_file(s.as_ref(), p, file, opts, &mut |_, _| {}).expect("import");
    let import_s = t.elapsed().as_secs_f64();
    assert_eq!(r.added as usize, n);
    // Again: every record is already there.
    let t = Instant::now();
    let again = import_file(s.as_ref(), p, file, opts, &mut |_, _| {}).expect("import");
    let again_s = t.elapsed().as_secs_f64();
    assert_eq!(again.duplicates as usize, n);
    let mib = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0) as f64 / (1 << 20) as f64;
    println!("{label} into {}: {n} records, {mib:.0} MiB", backend.name());
    println!("  parse only        {}", rate(n, parse_s));
    println!("  store only        {}", rate(n, store_s));
    println!("  import            {}", rate(n, import_s));
    println!("  import again      {}  (all duplicates)", rate(n, again_s));
    println!("  import / store-only time: {:.2}", import_s / store_s);
}

fn main() {
    // `cargo bench -p insitu --bench import -- ofx` runs only the OFX half (for profiling).
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let count = |var: &str, default: usize| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (rows, ofx_rows) = (count("ROWS", 1_000_000), count("OFX_ROWS", 100_000));
    let backends: Vec<Backend> = std::env::var("BACKENDS")
        .unwrap_or_else(|_| "redb,postgres".into())
        .split(',')
        .map(|b| match b {
            "redb" => Backend::Redb,
            "postgres" => Backend::Postgres(Schemas::new("bench_import")),
            other => panic!("BACKENDS: unknown backend {other}"),
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    if only.as_deref().is_none_or(|o| o == "csv") {
        let csv_file = dir.path().join("statement.csv");
        std::fs::write(&csv_file, csv(rows)).expect("write csv");
        let opts = ImportOptions {
            collection: Some("bank.transactions".into()),
            ..Default::default()
        };
        for backend in &backends {
            measure(
                backend,
                &format!("csv {rows} rows"),
                &csv_file,
                &opts,
                dir.path(),
            );
        }
    }
    if only.as_deref().is_some_and(|o| o != "ofx") {
        return;
    }
    let ofx_file = dir.path().join("statement.ofx");
    std::fs::write(&ofx_file, ofx(ofx_rows)).expect("write ofx");
    for backend in &backends {
        measure(
            backend,
            &format!("ofx {ofx_rows} transactions"),
            &ofx_file,
            &ImportOptions::default(),
            dir.path(),
        );
    }
}
