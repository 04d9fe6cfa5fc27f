//! `insitu demo`: the product end to end on a fresh data directory. Synthetic people import
//! their bank statements, grant the fee-scanner plugin, and the scanner runs in each store;
//! only its findings leave, with each run's usage. Then a revocation, and one person's audit.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;

use super::DemoArgs;
use super::commands::{describe, print_run};
use crate::audit;
use crate::consent::{Grant, GrantedCollection, now_ms};
use crate::import::{self, OnError, days_from_civil, format_date};
use crate::meter::Outcome;
use crate::output::{Money, Scalar};
use crate::package::{self, InstallMode, Manifest};
use crate::pds::Pds;
use crate::request;
use crate::run::{LocalScheduler, RunRequest, Scheduler};
use crate::store::Publisher;
use crate::store::TimeRange;

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

/// Two years of a person's bank statement, as CSV.
fn statement(i: usize) -> String {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((i as u64 + 1) * 0x1234_5678));
    let kind = victim(i);
    let mut csv = String::from("account,booked,amount,counterparty,label,reference\n");
    let account = format!("FR76300040000{:05}", 31_000 + i);
    let mut row = |day: i64, minor: i64, cp: &str, label: &str| {
        let abs = minor.unsigned_abs();
        let sign = if minor < 0 { "-" } else { "" };
        let _ = writeln!(
            csv,
            "{account},{},{sign}{}.{:02} EUR,{cp},{label},",
            format_date(day * 86_400_000),
            abs / 100,
            abs % 100
        );
    };
    let start = days_from_civil(2023, 1, 1);
    let shops = [
        "Carrefour Market",
        "Monoprix",
        "Boulangerie Paul",
        "Pharmacie du Centre",
        "SNCF",
        "Fnac",
    ];
    for month in 0..24 {
        let (y, m) = (2023 + month / 12, month % 12 + 1);
        let first = days_from_civil(y, m, 1);
        row(
            first + 1,
            245_000 + rng.range(0, 20_000),
            "ACME SA",
            "SALAIRE",
        );
        row(first + 4, -85_000, "Agence Dupont Immobilier", "LOYER");
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
        row(first + 9, -1_999, "Free Mobile", "FORFAIT MOBILE");
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
    let _ = start;
    csv
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

    println!("1. People import their bank statements (CSV, two years each)");
    let mut people = Vec::new();
    for (i, name) in NAMES
        .iter()
        .enumerate()
        .take(args.people.clamp(1, NAMES.len()))
    {
        let id = pds.store.add_person(name)?;
        let file = dir.join(format!("statement-{id}.csv"));
        std::fs::write(&file, statement(i))
            .with_context(|| format!("cannot write {}", file.display()))?;
        let r = import::import_file(
            pds.store.as_ref(),
            id,
            "bank.transactions",
            &file,
            None,
            OnError::Reject,
            &mut |_, _| {},
        )?;
        println!("   {:<16} {} transactions imported", name, r.added);
        people.push((id, *name, file));
    }
    let (id0, name0, file0) = &people[0];
    let again = import::import_file(
        pds.store.as_ref(),
        *id0,
        "bank.transactions",
        file0,
        None,
        OnError::Reject,
        &mut |_, _| {},
    )?;
    println!(
        "   {name0} imports the same statement again: {} added, {} already present\n",
        again.added, again.duplicates
    );

    println!("2. A developer's plugin arrives: fee-scanner, packed with its manifest and signed");
    let key =
        package::generate_key().map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    let manifest = Manifest::from_file(std::path::Path::new(insitu_plugins::FEE_SCANNER_MANIFEST))?;
    let component = std::fs::read(insitu_plugins::FEE_SCANNER)
        .context("the fee-scanner component is missing; build the workspace")?;
    let signed = package::pack_and_sign(&component, &manifest, &key)?;
    pds.store.trust_publisher(&Publisher {
        name: manifest.publisher.clone(),
        key: crate::audit::hex(key.verifying_key().as_bytes()),
        trusted_ms: now_ms(),
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

    println!("3. Each person grants it amount, label and counterparty of 2023-2024, for 30 days");
    let window = TimeRange {
        since: Some(days_from_civil(2023, 1, 1) * 86_400_000),
        until: Some(days_from_civil(2025, 1, 1) * 86_400_000),
    };
    let mut grants = Vec::new();
    for (id, _, _) in &people {
        let g = pds.store.add_grant(Grant {
            id: 0,
            person: *id,
            plugin_digest: plugin.digest.clone(),
            collections: vec![GrantedCollection {
                name: "bank.transactions".into(),
                fields: vec!["amount".into(), "label".into(), "counterparty".into()],
            }],
            window,
            created_ms: now_ms(),
            expires_ms: Some(now_ms() + 30 * 86_400_000),
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
    for ((id, name, _), grant) in people.iter().zip(&grants) {
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
                })
                .await?;
            let matched = match &run.output {
                Some(crate::output::PluginOutput::Findings { findings, .. }) => findings.len(),
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

    let (id1, name1, _) = &people[people.len().min(2) - 1];
    let g1 = grants[people.len().min(2) - 1];
    println!("5. {name1} revokes the grant; the next run is refused and nothing is read");
    pds.store.revoke_grant(g1, now_ms())?;
    let refused = pds
        .runner
        .run(RunRequest {
            person: *id1,
            grant: g1,
            digest: plugin.digest.clone(),
            params: vec![("rule".into(), Scalar::Text("duplicate".into()))],
            limits: None,
        })
        .await?;
    print_run(&refused, "   ");
    println!();

    let (id2, name2, _) = &people[people.len().min(3) - 1];
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
    for line in super::commands::consent_screen(&pds, &req)?.lines() {
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
    let run = pds
        .runner
        .run(RunRequest {
            person: *id2,
            grant: narrowed.id,
            digest: plugin.digest.clone(),
            params: vec![
                ("rule".into(), Scalar::Text("agency-fee".into())),
                ("pattern".into(), Scalar::Text("frais de gestion".into())),
                ("agreed".into(), eur(3_000)),
                ("max-findings".into(), Scalar::Integer(2)),
            ],
            limits: None,
        })
        .await?;
    print_run(&run, "   ");
    println!(
        "   the run read only {:?}, for {}\n",
        run.read,
        run.requester.as_deref().unwrap_or("-")
    );

    println!("7. {name0}'s access history, newest first");
    let log = pds.store.audit_log()?;
    for e in log
        .iter()
        .rev()
        .filter(|e| e.event.person() == Some(*id0))
        .take(6)
    {
        println!("   {:>4}  {}", e.seq, describe(&e.event));
    }
    audit::verify(&log).context("the audit chain does not verify")?;
    println!(
        "   audit chain verified: {} entries, each hash-linked to the one before\n",
        log.len()
    );

    if args.keep {
        println!("Data kept in {}", dir.display());
    } else {
        drop(pds);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
