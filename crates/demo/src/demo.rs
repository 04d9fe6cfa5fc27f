//! The demo: the product end to end on a fresh data directory. Synthetic people import
//! their bank statements (OFX and CAMT.053, through the same importers as real files) and
//! receipts, grant the fee-scanner plugin, and the scanner runs in each store;
//! only its findings leave, with each run's usage. Then a revocation, and one person's audit.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use crate::DemoArgs;
use insitu::cli::commands::print_run;
use insitu_core::audit;
use insitu_core::clock::{Clock, SystemClock};
use insitu_core::consent::{Grant, GrantedCollection};
use insitu_core::import::{self, days_from_civil, format_date};
use insitu_core::meter::Outcome;
use insitu_core::output::{Money, Scalar};
use insitu_core::package::{self, InstallMode, Manifest};
use insitu_core::pds::Pds;
use insitu_core::request;
use insitu_core::run::{LocalScheduler, RunRequest, Scheduler};
use insitu_core::store::Publisher;
use insitu_core::store::TimeRange;
use insitu_formats::bank::BankTx;
use insitu_formats::time::DAY_MS;
use insitu_formats::write;

const NAMES: [&str; 8] = [
    "Amélie Martin",
    "Bruno Lefèvre",
    "Chloé Bernard",
    "David Petit",
    "Emma Roux",
    "Farid Haddad",
    "Gaëlle Morel",
    "Hugo Fontaine",
];

/// What kind of wrong charge a synthetic person suffers.
#[derive(Clone, Copy, PartialEq)]
enum Victim {
    AgencyFees,
    BankFees,
    Duplicate,
    None,
}

fn victim(i: usize) -> Victim {
    match i % 6 {
        0 | 3 => Victim::AgencyFees,
        1 => Victim::BankFees,
        2 => Victim::AgencyFees,
        4 => Victim::Duplicate,
        _ => Victim::None,
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
}

/// Two years of a person's bank transactions, in booking order.
/// The demo's two years: the 24 whole months before this one, so that a manifest's window
/// ("the last 24 months", counted back from today) sees them. `month(0)` is the first.
/// Dated by the system clock, the one the demo's store runs on (`Pds::open`): the data are
/// written before any store call could answer the time.
fn month(k: i64) -> (i64, i64) {
    let (y, m, _) = insitu_formats::time::civil_from_days(SystemClock.now_ms() / DAY_MS);
    let n = y * 12 + (m - 1) - 24 + k;
    (n.div_euclid(12), n.rem_euclid(12) + 1)
}

/// Midnight UTC on the first day of the demo's month `k`, in ms.
fn month_start(k: i64) -> i64 {
    let (y, m) = month(k);
    days_from_civil(y, m, 1) * DAY_MS
}

fn transactions(i: usize) -> Vec<BankTx> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((i as u64 + 1) * 0x1234_5678));
    let kind = victim(i);
    let mut txs = Vec::new();
    let mut row = |day: i64, minor: i64, cp: &str, label: &str| {
        txs.push(BankTx {
            account: account(i),
            booked: day * DAY_MS,
            value_date: Some((day + 1) * DAY_MS),
            amount: minor,
            currency: "EUR".into(),
            counterparty: Some(cp.into()),
            label: label.into(),
            ..Default::default()
        })
    };
    let shops = [
        "Carrefour Market",
        "Monoprix",
        "Boulangerie Paul",
        "Pharmacie du Centre",
        "SNCF",
        "Fnac",
    ];
    for month in 0..24 {
        let first = month_start(month) / DAY_MS;
        row(
            first + 1,
            245_000 + rng.range(0, 20_000),
            "ACME SA",
            "VIR SEPA SALAIRE",
        );
        row(first + 4, -85_000, "Agence Dupont Immobilier", "PRLV LOYER");
        // The lease says 30.00 EUR of management fees a month.
        let fee = if kind == Victim::AgencyFees && month % 3 != 0 {
            -4_500
        } else {
            -3_000
        };
        row(
            first + 4,
            fee,
            "Agence Dupont Immobilier",
            "FRAIS DE GESTION",
        );
        row(first + 9, -1_999, "Free Mobile", "PRLV SEPA FREE MOBILE");
        row(first + 12, -2_599, "FitClub", "ABONNEMENT SALLE");
        if kind == Victim::Duplicate && month == 7 {
            row(first + 13, -2_599, "FitClub", "ABONNEMENT SALLE");
        }
        if kind == Victim::BankFees {
            row(first + 27, -250, "Banque", "FRAIS TENUE DE COMPTE");
        }
        for _ in 0..rng.range(10, 16) {
            let shop = shops[rng.next() as usize % shops.len()];
            row(
                first + rng.range(0, 28),
                -rng.range(180, 9_000),
                shop,
                &format!("CB {}", shop.to_uppercase()),
            );
        }
    }
    txs.sort_by_key(|t| t.booked);
    for (n, t) in txs.iter_mut().enumerate() {
        // The bank's transaction id, the same in every statement that lists it.
        t.key = Some(format!("{}-{n:05}", format_date(t.booked)));
    }
    txs
}

fn account(i: usize) -> String {
    format!("FR76300040000{:05}", 31_000 + i)
}

/// The bank's statements of person `i`: the demo's months 0 to 13, then 12 to 23 (two months
/// overlap), in OFX for some people and CAMT.053 for the others.
fn statements(i: usize) -> [(String, String); 2] {
    let txs = transactions(i);
    let split = |from: i64, to: i64| {
        let (a, b) = (month_start(from), month_start(to));
        let lo = txs.partition_point(|t| t.booked < a);
        let hi = txs.partition_point(|t| t.booked < b);
        let closing = 150_000 + txs[..hi].iter().map(|t| t.amount).sum::<i64>();
        (lo..hi, closing)
    };
    let acct = account(i);
    [(0, 14), (12, 24)].map(|(from, to)| {
        let (range, closing) = split(from, to);
        let st = [write::Statement {
            account: &acct,
            currency: "EUR",
            txs: &txs[range],
            closing,
        }];
        let (y, m) = month(from);
        let name = format!("{y}-{m:02}");
        if i.is_multiple_of(2) {
            (format!("{name}.ofx"), write::ofx(&st))
        } else {
            (format!("{name}.camt053.xml"), write::camt053(&st))
        }
    })
}

/// A few supermarket receipts of person `i`, as JSON.
fn receipts(i: usize) -> String {
    let mut rng = Rng(0x5eed ^ ((i as u64 + 7) * 0x9e37_79b9));
    let products = [
        ("Lait demi-écrémé 1L", "3560070123456", "piece", 109),
        ("Pâtes Penne 500 g", "3038350012005", "piece", 145),
        ("Tomates grappe", "", "kg", 379),
        ("Café moulu 250 g", "3017620422003", "piece", 389),
        ("Yaourt nature x4", "3033490004521", "piece", 189),
    ];
    let list: Vec<serde_json::Value> = (0..3)
        .map(|r| {
            let items: Vec<serde_json::Value> = (0..rng.range(2, 5))
                .map(|k| {
                    let (product, barcode, unit, price) =
                        products[(r + k as usize) % products.len()];
                    let quantity = if unit == "kg" {
                        // Weighed: an exact decimal, as a scale prints it (never a float).
                        let grams = 250 + rng.range(0, 750);
                        serde_json::json!(format!("{}.{:03}", grams / 1000, grams % 1000))
                    } else {
                        serde_json::json!(rng.range(1, 4))
                    };
                    let mut item = serde_json::json!({
                        "product": product, "quantity": quantity, "unit": unit,
                        "unit_price": format!("{}.{:02}", price / 100, price % 100),
                    });
                    if !barcode.is_empty() {
                        item["barcode"] = barcode.into();
                    }
                    item
                })
                .collect();
            let (y, m) = month(14 + r as i64);
            let date = format!("{y}-{m:02}-1{}T17:2{}:00+01:00", i % 9, r);
            serde_json::json!({
                "shop": "Carrefour Market Lyon 3",
                "date": date,
                "currency": "EUR",
                "id": format!("T-{i}{r:03}"),
                "items": items,
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_default()
}

fn eur(minor: i64) -> Scalar {
    Scalar::Money(Money {
        minor,
        currency: "EUR".into(),
    })
}

pub async fn run(data_dir: Option<PathBuf>, args: DemoArgs) -> anyhow::Result<()> {
    let dir = data_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("insitu-demo-{}", std::process::id()))
    });
    if dir.join("insitu.redb").exists() {
        anyhow::bail!(
            "{} already holds a store; the demo needs a fresh directory\nhint: pass another --data-dir",
            dir.display()
        );
    }
    let pds = Pds::open(&dir)?;
    println!("Insitu demo. Data directory: {}\n", dir.display());

    println!(
        "1. People import the statements their banks gave them (OFX or CAMT.053) and receipts"
    );
    let mut people = Vec::new();
    let opts = import::ImportOptions::default();
    for (i, name) in NAMES
        .iter()
        .enumerate()
        .take(args.people.clamp(1, NAMES.len()))
    {
        let id = pds.store.add_person(name)?;
        let mut line = format!("   {name:<16}");
        for (file, text) in statements(i)
            .into_iter()
            .chain([("receipts.json".to_string(), receipts(i))])
        {
            let path = dir.join(format!("person-{id}-{file}"));
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let r = import::import_file(pds.store.as_ref(), id, &path, &opts, &mut |_, _| {})?;
            let _ = write!(line, " {file} ({}): {} added", r.format, r.added);
            if r.duplicates > 0 {
                let _ = write!(line, ", {} already there;", r.duplicates);
            } else {
                line.push(';');
            }
        }
        println!("{}", line.trim_end_matches(';'));
        people.push((id, *name));
    }
    println!(
        "   the two statements overlap by two months: those transactions are not imported twice\n"
    );
    let (id0, name0) = &people[0];

    println!("2. A developer's plugin arrives: fee-scanner, packed with its manifest and signed");
    let key =
        package::generate_key().map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    let manifest = Manifest::from_file(std::path::Path::new(insitu_plugins::FEE_SCANNER_MANIFEST))?;
    let component = std::fs::read(insitu_plugins::FEE_SCANNER)
        .context("the fee-scanner component is missing; build the workspace")?;
    let signed = package::pack_and_sign(&component, &manifest, &key)?;
    pds.store.trust_publisher(&Publisher {
        name: manifest.publisher.clone(),
        key: insitu_core::audit::hex(key.verifying_key().as_bytes()),
        trusted_ms: pds.store.now_ms(),
        revoked_ms: None,
    })?;
    let mut tampered = signed.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 1;
    let refused = package::install(
        pds.store.as_ref(),
        pds.runner.sandbox(),
        &tampered,
        InstallMode::Verified,
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    println!("   a copy altered by one bit is refused: {refused}");
    let plugin = package::install(
        pds.store.as_ref(),
        pds.runner.sandbox(),
        &signed,
        InstallMode::Verified,
    )?;
    println!(
        "   installed as sha256:{} ({} KiB), signed by {}, compiled once and cached",
        &plugin.digest[..16],
        plugin.size >> 10,
        manifest.publisher
    );
    for line in manifest.describe().lines() {
        println!("   | {line}");
    }
    println!();

    let window = TimeRange {
        since: Some(month_start(0)),
        until: Some(month_start(24)),
    };
    let ((y0, m0), (y1, m1)) = (month(0), month(23));
    println!(
        "3. Each person grants it amount, label and counterparty of {y0}-{m0:02} to {y1}-{m1:02}, \
         for 30 days"
    );
    let mut grants = Vec::new();
    for (id, _) in &people {
        let g = pds.store.add_grant(Grant {
            id: 0,
            person: *id,
            plugin_digest: plugin.digest.clone(),
            collections: vec![GrantedCollection {
                name: "bank.transactions".into(),
                fields: vec!["amount".into(), "label".into(), "counterparty".into()],
            }],
            window,
            created_ms: pds.store.now_ms(),
            expires_ms: Some(pds.store.now_ms() + 30 * 86_400_000),
            revoked_ms: None,
            origin: None,
        })?;
        grants.push(g.id);
    }
    println!(
        "   {} grants, each bound to the plugin's digest; the account number is not granted\n",
        grants.len()
    );

    println!("4. The scanner runs inside each store; only its findings come out");
    let rules: [(&str, Vec<(String, Scalar)>); 3] = [
        (
            "agency-fee",
            vec![
                ("pattern".into(), Scalar::Text("frais de gestion".into())),
                ("agreed".into(), eur(3_000)),
            ],
        ),
        (
            "recurring-small",
            vec![
                ("pattern".into(), Scalar::Text("frais tenue".into())),
                ("max".into(), eur(500)),
            ],
        ),
        (
            "duplicate",
            vec![("window-days".into(), Scalar::Integer(3))],
        ),
    ];
    let scheduler = LocalScheduler::new(pds.runner.clone(), 2);
    for ((id, name), grant) in people.iter().zip(&grants) {
        for (rule, extra) in &rules {
            let mut params = vec![
                ("rule".to_string(), Scalar::Text(rule.to_string())),
                ("max-findings".to_string(), Scalar::Integer(4)),
            ];
            params.extend(extra.iter().cloned());
            let run = scheduler
                .submit(RunRequest {
                    person: *id,
                    grant: *grant,
                    digest: plugin.digest.clone(),
                    params,
                    limits: None,
                    requester: None,
                    as_of: None,
                })
                .await?;
            let matched = match &run.output {
                Some(insitu_core::output::PluginOutput::Findings { findings, .. }) => {
                    findings.len()
                }
                _ => 0,
            };
            if matched > 0 || *rule == "agency-fee" {
                println!("   {name}, rule {rule}:");
                print_run(&run, "     ");
            }
            if let Outcome::Failed { message, .. } = &run.outcome {
                anyhow::bail!("a demo run failed: {message}");
            }
        }
    }
    println!();

    let (id1, name1) = &people[people.len().min(2) - 1];
    let g1 = grants[people.len().min(2) - 1];
    println!("5. {name1} revokes the grant; the next run is refused and nothing is read");
    pds.store.revoke_grant(g1, pds.store.now_ms())?;
    let refused = pds
        .runner
        .run(RunRequest {
            person: *id1,
            grant: g1,
            digest: plugin.digest.clone(),
            params: vec![("rule".into(), Scalar::Text("duplicate".into()))],
            limits: None,
            requester: None,
            as_of: None,
        })
        .await?;
    print_run(&refused, "   ");
    println!();

    let (id2, name2) = &people[people.len().min(3) - 1];
    println!(
        "6. A consumer association asks {name2} for access; the consent screen, then an approval with narrowing"
    );
    let req = request::ask(
        pds.store.as_ref(),
        "UFC Que Choisir",
        *id2,
        &plugin,
        "gather evidence for a class action on letting-agency fees",
        90,
    )?;
    let plugin_rec = pds.store.plugin(&req.plugin_digest)?;
    for line in request::consent_screen(&req, Some(&plugin_rec)).lines() {
        println!("   > {line}");
    }
    let narrowed = request::approve(
        pds.store.as_ref(),
        req.id,
        &request::Narrowing {
            fields: Some(vec![(
                "bank.transactions".into(),
                vec!["amount".into(), "label".into()],
            )]),
            months: None,
            days: Some(14),
        },
    )?;
    println!(
        "   {name2} keeps only amount and label (no counterparty), for 14 days instead of 90: grant {}",
        narrowed.id
    );
    let params = vec![
        ("rule".to_string(), Scalar::Text("agency-fee".into())),
        ("pattern".into(), Scalar::Text("frais de gestion".into())),
        ("agreed".into(), eur(3_000)),
        ("max-findings".into(), Scalar::Integer(2)),
    ];
    let refused = pds
        .runner
        .run(RunRequest {
            person: *id2,
            grant: narrowed.id,
            digest: plugin.digest.clone(),
            params: params.clone(),
            limits: None,
            requester: Some("UFC Que Choisir".into()),
            as_of: None,
        })
        .await?;
    if let Outcome::Failed { message, .. } = &refused.outcome {
        println!("   the association tries a run of its own, refused: {message}");
    }
    let run = pds
        .runner
        .run(RunRequest {
            person: *id2,
            grant: narrowed.id,
            digest: plugin.digest.clone(),
            params,
            limits: None,
            requester: None,
            as_of: None,
        })
        .await?;
    println!("   {name2} runs it herself, under the narrowed grant:");
    print_run(&run, "   ");
    println!(
        "   the run read only {:?}; the association sees nothing of it (it is hers), and will\n   \
         learn only what she chooses to release if a campaign finds her\n",
        run.read
    );

    println!("7. {name0}'s access history, newest first");
    let log = audit::person_trail(pds.store.as_ref(), *id0)?;
    for e in log.iter().rev().take(6) {
        println!(
            "   {:>4}  {}",
            e.seq,
            audit::describe_in(pds.store.as_ref(), &e.event)
        );
    }
    let (report, _) = audit::verify_person(pds.store.as_ref(), *id0, None)
        .context("the audit chain does not verify")?;
    println!(
        "   audit chain verified: {} entries in {name0}'s own chain, each hash-linked to the one before\n",
        report.entries
    );

    let first: Vec<(u64, &str)> = people.iter().take(4).map(|(i, n)| (*i, *n)).collect();
    crate::demo_jobs::campaigns(&pds, &key, &plugin, &first).await?;
    crate::demo_jobs::studies(&pds, &key).await?;
    crate::demo_codesign::codesign(&pds).await?;
    crate::demo_jobs::coaching(&pds, &key).await?;
    crate::demo_jobs::ledger(&pds)?;

    if args.keep {
        println!("Data kept in {}", dir.display());
        println!(
            "   explore it with the command line: cargo run -p insitu -- --data-dir {} audit",
            dir.display()
        );
    } else {
        drop(pds);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
