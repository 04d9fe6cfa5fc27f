//! The demo's second half: many stores at once. A class-action campaign over a neighbourhood
//! of tenants (invitations at once, the association's noisy thresholded counts from the
//! release time, acceptances, a settlement), a campaign whose count stays below k, and a
//! study released with differential privacy, until the members' privacy budgets run out.

use std::sync::Arc;

use anyhow::Context;
use ed25519_dalek::SigningKey;

use insitu::cli::jobs::{
    format_time, print_counts, print_exact_counts, print_release, with_progress,
};
use insitu_core::account::{self, Role};
use insitu_core::campaign::{self, NewCampaign};
use insitu_core::import::format_date;
use insitu_core::job::{Job, JobStatus, Progress};
use insitu_core::output::{Money, Scalar};
use insitu_core::package::{self, InstallMode, Manifest};
use insitu_core::pds::Pds;
use insitu_core::request::{self, Narrowing};
use insitu_core::store::{KeyedRecord, PersonId, PluginRecord, Schema, Source, Value};
use insitu_core::study::{self, NewStudy};
use insitu_formats::time::DAY_MS;

const ASSOCIATION: &str = "ufc-que-choisir";
const CONSUMERS: &str = "clcv";
const AGENCY: &str = "Agence Dupont Immobilier";
pub const LAB: &str = "thermo-rnd";

fn eur(minor: i64) -> Money {
    Money {
        minor,
        currency: "EUR".into(),
    }
}

/// A record of `schema` from named values; fields not named are null.
fn record(schema: &Schema, id: u64, time: i64, named: &[(&str, Value)]) -> KeyedRecord {
    let values = schema
        .fields
        .iter()
        .map(|f| {
            named
                .iter()
                .find(|(n, _)| *n == f.name)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null)
        })
        .collect();
    KeyedRecord { id, time, values }
}

fn install(
    pds: &Pds,
    key: &SigningKey,
    component: &str,
    manifest: &str,
) -> anyhow::Result<PluginRecord> {
    let m = Manifest::from_file(std::path::Path::new(manifest))?;
    let bytes = std::fs::read(component)
        .with_context(|| format!("the component {component} is missing; build the workspace"))?;
    let signed = package::pack_and_sign(&bytes, &m, key)?;
    Ok(package::install(
        pds.store.as_ref(),
        pds.runner.sandbox(),
        &signed,
        InstallMode::Verified,
    )?)
}

/// The association asks `person` for standing access for `plugin`, and the person approves.
fn standing_grant(
    pds: &Pds,
    requester: &str,
    person: PersonId,
    plugin: &PluginRecord,
    purpose: &str,
) -> anyhow::Result<()> {
    let req = request::ask(pds.store.as_ref(), requester, person, plugin, purpose, 365)?;
    request::approve(pds.store.as_ref(), req.id, &Narrowing::default())?;
    Ok(())
}

/// Twelve months of a tenant's bank transactions; a victim is also charged a notice fee and,
/// some months, a reminder fee by the letting agency.
fn tenant_transactions(schema: &Schema, i: u64, victim: bool, now_ms: i64) -> Vec<KeyedRecord> {
    let mut out = Vec::new();
    let mut id = 0;
    let mut push = |day: i64, minor: i64, cp: &str, label: &str| {
        id += 1;
        out.push(record(
            schema,
            id,
            day * DAY_MS,
            &[
                ("account", Value::Text(format!("FR76300040001{i:05}"))),
                ("booked", Value::Timestamp(day * DAY_MS)),
                (
                    "amount",
                    Value::Money {
                        minor,
                        currency: "EUR".into(),
                    },
                ),
                ("counterparty", Value::Text(cp.into())),
                ("label", Value::Text(label.into())),
            ],
        ));
    };
    // The last twelve months, so that the scanner's window (24 months back) covers them.
    let today = now_ms / DAY_MS;
    for m in 1..=12u32 {
        let first = today - 365 + m as i64 * 30;
        push(
            first + 1,
            210_000 + (i as i64 % 7) * 1_000,
            "ACME SA",
            "VIR SEPA SALAIRE",
        );
        push(first + 4, -72_000, AGENCY, "PRLV LOYER");
        push(
            first + 11,
            -4_210,
            "Carrefour Market",
            "CB CARREFOUR MARKET",
        );
        if victim {
            push(first + 5, -250, AGENCY, "FRAIS ENVOI QUITTANCE");
            if (m + i as u32).is_multiple_of(4) {
                push(first + 20, -1_500, AGENCY, "FRAIS DE RELANCE");
            }
        }
    }
    out
}

/// Waits for `job`'s release time, saying what its organisation sees until then, and returns
/// the job as stored then.
async fn until_release(pds: &Pds, job: &Job, who: &str) -> anyhow::Result<Job> {
    println!(
        "   until {}, {who} sees only that the job exists, when it opened and its parameters: no state, progress or count, whenever the members finish",
        format_time(job.release_ms)
    );
    let wait = job.release_ms - pds.store.now_ms();
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
    }
    Ok(pds.store.job(job.id)?)
}

/// Runs the campaign part of the demo.
pub async fn campaigns(
    pds: &Pds,
    key: &SigningKey,
    fee_scanner: &PluginRecord,
    first: &[(PersonId, &str)],
) -> anyhow::Result<()> {
    let store = pds.store.as_ref();
    // Release times come within seconds: member runs within 1 s, many at once.
    let mut policy = store.policy()?;
    policy.member_deadline_ms = 1_000;
    policy.release_margin_ms = 500;
    policy.concurrency = 64;
    store.set_policy(&policy)?;
    println!(
        "8. Cass' Action: {} notices a 2.50 EUR \"FRAIS ENVOI QUITTANCE\" from {AGENCY}",
        first[0].1
    );
    account::create(
        store,
        ASSOCIATION,
        "demo-password-not-used",
        Role::Organisation,
    )?;
    let schema = store.collection("bank.transactions")?;
    let tenants = 60u64;
    let (mut granted, mut victims_granted) = (Vec::new(), 0);
    for i in 0..tenants {
        let victim = i % 4 == 1 || i % 9 == 2;
        let p = store.add_person(&format!("Tenant {i:02}"))?;
        store.write_records(
            p,
            "bank.transactions",
            &tenant_transactions(&schema, i, victim, store.now_ms()),
            Source::File("bank-export.ofx"),
        )?;
        // Five in six hold a standing grant for campaign scanning; the others are never touched.
        if i % 6 != 5 {
            standing_grant(
                pds,
                ASSOCIATION,
                p,
                fee_scanner,
                "scan for unlawful letting-agency fees when a campaign is opened",
            )?;
            granted.push(p);
            victims_granted += victim as u64;
        }
    }
    println!(
        "   {tenants} tenants of the agency have stores; {} gave {ASSOCIATION} a standing grant for campaign scanning by fee-scanner ({victims_granted} of them were charged); the others are never touched",
        granted.len()
    );
    let job = campaign::open(
        store,
        NewCampaign {
            owner: ASSOCIATION.into(),
            description: "Unlawful notice and reminder fees charged to tenants".into(),
            brand: AGENCY.into(),
            association: ASSOCIATION.into(),
            plugin_digest: fee_scanner.digest.clone(),
            params: vec![
                ("rule".into(), Scalar::Text("micro-fees".into())),
                ("pattern".into(), Scalar::Text("Agence Dupont".into())),
                ("max".into(), Scalar::Money(eur(2_000))),
            ],
            k: None,
        },
    )?;
    println!(
        "   campaign {} opened by {ASSOCIATION} against {AGENCY}, k = {}, ε {} per member scanned; results released at {} (fixed now: ⌈members / {} at once⌉ × (1 s deadline + 0.25 s) + 0.5 s)",
        job.id,
        policy.k_floor,
        policy.campaign_epsilon_micro as f64 / 1e6,
        format_time(job.release_ms),
        policy.concurrency
    );
    let targets = insitu_core::job::targets(
        store,
        &fee_scanner.digest,
        job.created_ms,
        &job.requesters(),
    )?
    .len();
    println!(
        "   {targets} stores hold a live grant for the scanner given to {ASSOCIATION}; the first people's grants from step 3 are for their own runs, and a campaign never uses them"
    );
    let progress = Progress::default();
    let runner = Arc::clone(&pds.runner);
    let job = with_progress(
        "   scanning",
        &progress,
        campaign::scan(&runner, job.id, &progress),
    )
    .await?;
    print!("   the operator's bar above, and ");
    print_exact_counts(pds, &job)?;
    print!("   what the association sees now: ");
    print_counts(pds, &job)?;

    let invited: Vec<PersonId> = store
        .members(job.id)?
        .into_iter()
        .filter(|m| matches!(m.outcome, insitu_core::job::MemberOutcome::Matched { .. }))
        .map(|m| m.person)
        .collect();
    let who = invited[0];
    let inv = campaign::invitations(store, who)?;
    let inv = inv
        .iter()
        .find(|i| i.job == job.id)
        .context("an invitation")?;
    println!(
        "   {}'s inbox (only they see the evidence): \"your data shows this happened to you too; join?\"",
        store.person(who)?.name
    );
    for (n, f) in inv.findings.iter().enumerate().take(4) {
        let loss = f.loss.as_ref().map(|m| m.to_string()).unwrap_or_default();
        println!(
            "     [{n}] {}  {:<24} loss {loss}",
            format_date(f.time),
            f.label
        );
    }
    if inv.findings.len() > 4 {
        println!("     ... {} findings in all", inv.findings.len());
    }
    let job = until_release(pds, &job, ASSOCIATION).await?;
    print!("   at the release time, what the association sees (noise of scale 4 on each count): ");
    print_counts(pds, &job)?;
    let (mut accepted, mut declined) = (0, 0);
    for (n, p) in invited.iter().enumerate() {
        match n % 5 {
            // One shares only the first two findings, one declines, one does not answer yet.
            1 => {
                campaign::answer(store, job.id, *p, true, Some(&[0, 1]))?;
                accepted += 1;
            }
            3 => {
                campaign::answer(store, job.id, *p, false, None)?;
                declined += 1;
            }
            4 => {}
            _ => {
                campaign::answer(store, job.id, *p, true, None)?;
                accepted += 1;
            }
        }
    }
    println!(
        "   {accepted} members accept (one shares only two findings), {declined} decline, the rest have not answered"
    );
    print!("   the association now sees: ");
    print_counts(pds, &store.job(job.id)?)?;
    for c in campaign::claimants(store, &store.job(job.id)?, store.now_ms())?
        .iter()
        .take(3)
    {
        let loss: Vec<String> = c.loss.iter().map(|m| m.to_string()).collect();
        println!(
            "     {} released {} findings, loss {}",
            c.name,
            c.findings.len(),
            loss.join(" + ")
        );
    }
    println!("     ... (each release is in the member's audit log)");
    let amount = eur(200_000);
    println!(
        "   {AGENCY} pays {amount} in compensation; commission {}%, association 5%:",
        policy.commission_bps as f64 / 100.0
    );
    let split = campaign::settle(store, job.id, amount.clone(), 500)?;
    for r in split.iter().take(5) {
        println!(
            "     {:>12}  -> {:<20} {}",
            r.amount.to_string(),
            r.to.to_string(),
            r.memo
        );
    }
    let total: i64 = split.iter().map(|r| r.amount.minor).sum();
    println!(
        "     ... {} settlement records, summing to {} exactly (kept for the billing ledger)\n",
        split.len(),
        eur(total)
    );
    debug_assert_eq!(total, amount.minor);

    println!(
        "   A second campaign: {CONSUMERS}, another consumer group, compares shelf prices with till\n   \
         receipts among the first demo people, who gave it standing access"
    );
    account::create(
        store,
        CONSUMERS,
        "demo-password-not-used",
        Role::Organisation,
    )?;
    let shelf = install(
        pds,
        key,
        insitu_plugins::SHELF_PRICE,
        insitu_plugins::SHELF_PRICE_MANIFEST,
    )?;
    for (p, _) in first {
        standing_grant(
            pds,
            CONSUMERS,
            *p,
            &shelf,
            "compare your receipts with shelf prices when a campaign is opened",
        )?;
    }
    let job = campaign::open(
        store,
        NewCampaign {
            owner: CONSUMERS.into(),
            description: "Coffee rang up above its shelf price".into(),
            brand: "Carrefour Market Lyon 3".into(),
            association: CONSUMERS.into(),
            plugin_digest: shelf.digest.clone(),
            params: vec![(
                "prices".into(),
                Scalar::Text("3017620422003=3.69 EUR".into()),
            )],
            k: None,
        },
    )?;
    let progress = Progress::default();
    let job = with_progress(
        "   scanning",
        &progress,
        campaign::scan(&runner, job.id, &progress),
    )
    .await?;
    let job = until_release(pds, &job, "the initiator").await?;
    print!("   what the initiator sees: ");
    print_counts(pds, &job)?;
    println!("   too few matches to show: no one can be singled out, and no identity leaves\n");
    Ok(())
}

/// A month of a member's smart-thermostat app usage.
fn usage_events(schema: &Schema, i: u64, now_ms: i64) -> Vec<KeyedRecord> {
    let mut out = Vec::new();
    // The last 30 days: the plugin asks for one month.
    let start = now_ms / DAY_MS - 30;
    let uses = 10 + (i * 7 % 41);
    for n in 0..uses {
        let day = start + (n * 3 + i) as i64 % 30;
        let slot = ["morning", "evening", "evening", "night", "afternoon"][((n + i) % 5) as usize];
        let place = ["home", "home", "home", "office", "car"][((n * 2 + i) % 5) as usize];
        let at = day * DAY_MS + (7 + (n % 14) as i64) * 3_600_000;
        out.push(record(
            schema,
            n + 1,
            at,
            &[
                ("at", Value::Timestamp(at)),
                ("product", Value::Text("Thermo Smart app".into())),
                ("activity", Value::Text("adjust temperature".into())),
                ("place_kind", Value::Text(place.into())),
                ("time_of_day", Value::Text(slot.into())),
                ("duration_s", Value::Integer(20 + (n * 13 % 90) as i64)),
            ],
        ));
    }
    out
}

/// Runs the study part of the demo.
pub async fn studies(pds: &Pds, key: &SigningKey) -> anyhow::Result<()> {
    let store = pds.store.as_ref();
    println!(
        "9. A co-design study: {LAB} wants to know when and where people use its thermostat app"
    );
    account::create(store, LAB, "demo-password-not-used", Role::Organisation)?;
    let plugin = install(
        pds,
        key,
        insitu_plugins::USAGE_ANALYTICS,
        insitu_plugins::USAGE_ANALYTICS_MANIFEST,
    )?;
    let manifest = plugin.manifest.clone().context("a manifest")?;
    let schema = store.collection("usage.events")?;
    let members = 200u64;
    let mut true_sums = vec![0i64; manifest.aggregate.len()];
    let mut consenting = 0;
    for i in 0..members {
        let p = store.add_person(&format!("Member {i:03}"))?;
        let events = usage_events(&schema, i, pds.store.now_ms());
        store.write_records(
            p,
            "usage.events",
            &events,
            Source::File("thermo-export.jsonl"),
        )?;
        if i % 10 != 9 {
            standing_grant(
                pds,
                LAB,
                p,
                &plugin,
                "contribute to co-design studies of the Thermo Smart app",
            )?;
            consenting += 1;
            // The true sums, for the demo's eyes only: the organisation never sees them.
            let n = events.len() as i64;
            for (s, f) in true_sums.iter_mut().zip(&manifest.aggregate) {
                if f.name == "events" {
                    *s += n.clamp(f.lower, f.upper);
                }
            }
        }
    }
    println!(
        "   {members} members share usage traces; {consenting} consent to studies; each may spend ε {} a month",
        store.policy()?.epsilon_per_month_micro as f64 / 1e6
    );
    let runner = Arc::clone(&pds.runner);
    for round in 1..=3 {
        let job = study::open(
            store,
            NewStudy {
                owner: LAB.into(),
                description: format!("Thermostat app usage, question {round}"),
                plugin_digest: plugin.digest.clone(),
                params: vec![],
                min_cohort: Some(50),
                epsilon: 1.0,
                reward: eur(50),
            },
        )?;
        let progress = Progress::default();
        let job = with_progress(
            "   running members",
            &progress,
            study::run(&runner, job.id, &progress),
        )
        .await?;
        let job = until_release(pds, &job, LAB).await?;
        print_release(&job, "   ");
        if round == 1 {
            if let Some(r) = &job.release {
                let noisy = r.values.iter().find(|(n, _)| n == "events").map(|v| v.1);
                let exact = manifest
                    .aggregate
                    .iter()
                    .position(|f| f.name == "events")
                    .map(|i| true_sums[i]);
                println!(
                    "   (for the demo only: the exact `events` sum is {}, the release says {}; the noise hides any one member)",
                    exact.unwrap_or_default(),
                    noisy.unwrap_or_default()
                );
            }
            let rewards = store.billing(Some(job.id))?;
            println!(
                "   {} rewards of 0.50 EUR recorded for billing, one per member run (a failed run too: it spent the member's ε)",
                rewards.len()
            );
        }
        if let JobStatus::Withheld { .. } = job.status {
            println!(
                "   every member's budget for the month is spent: nobody is run, and the noisy cohort is below the minimum, so nothing is released"
            );
        }
    }
    let someone = store
        .people()?
        .into_iter()
        .find(|p| p.name == "Member 000")
        .context("member")?;
    println!(
        "   Member 000 has spent ε {} of {} this month\n",
        store.budget_spent(someone.id, &insitu_core::job::period_of(store.now_ms()))? as f64 / 1e6,
        store.policy()?.epsilon_per_month_micro as f64 / 1e6
    );
    Ok(())
}

const SCHOOL: &str = "lycee-jean-moulin";

/// A pupil's career orientation, under the school's white-label licence.
pub async fn coaching(pds: &Pds, key: &SigningKey) -> anyhow::Result<()> {
    use insitu_core::licence::{self, Licence, LicenceKind};
    let store = pds.store.as_ref();
    println!("11. Career coaching, licensed white-label by a school for its pupils");
    account::create(store, SCHOOL, "demo-password-not-used", Role::Organisation)?;
    let plugin = install(
        pds,
        key,
        insitu_plugins::COACHING,
        insitu_plugins::COACHING_MANIFEST,
    )?;
    let pupil = store.add_person("Léa Dubois")?;
    let year = |y: i64| pds.store.now_ms() - y * 365 * DAY_MS;
    let text = |s: &str| Value::Text(s.into());
    let write = |collection: &str, rows: Vec<Vec<(&str, Value)>>| -> anyhow::Result<()> {
        let schema = store.collection(collection)?;
        let recs: Vec<KeyedRecord> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let time = r
                    .iter()
                    .find_map(|(_, v)| match v {
                        Value::Timestamp(t) => Some(*t),
                        _ => None,
                    })
                    .unwrap_or(0);
                record(&schema, i as u64 + 1, time, r)
            })
            .collect();
        store.write_records(pupil, collection, &recs, Source::File("linkedin-export"))?;
        Ok(())
    };
    write(
        "career.skills",
        [
            "biology",
            "chemistry",
            "first aid",
            "teamwork",
            "laboratory",
        ]
        .iter()
        .map(|s| vec![("skill", text(s))])
        .collect(),
    )?;
    write(
        "career.positions",
        vec![vec![
            ("company", text("Pharmacie du Centre")),
            ("title", text("Pharmacy Aide")),
            ("started", Value::Timestamp(year(1))),
            (
                "description",
                text("summer job: stock, customers, prescriptions"),
            ),
        ]],
    )?;
    write(
        "career.education",
        vec![vec![
            ("school", text("Lycée Jean Moulin")),
            ("degree", text("Baccalauréat, biology and chemistry")),
            ("started", Value::Timestamp(year(2))),
        ]],
    )?;
    let answers = [
        ("R1", 3),
        ("I1", 5),
        ("I2", 4),
        ("A1", 2),
        ("S1", 5),
        ("S2", 4),
        ("E1", 2),
        ("C1", 3),
    ];
    write(
        "profile.answers",
        answers
            .iter()
            .enumerate()
            .map(|(i, (q, a))| {
                vec![
                    ("answered", Value::Timestamp(year(0) - i as i64)),
                    ("questionnaire", text("riasec")),
                    ("question", text(q)),
                    ("answer", text(&a.to_string())),
                ]
            })
            .collect(),
    )?;
    let (l, paid) = licence::grant(
        store,
        Licence {
            id: 0,
            organisation: SCHOOL.into(),
            kind: LicenceKind::WhiteLabel {
                display_name: "Parcours Avenir".into(),
            },
            plugin: "coaching".into(),
            members: vec![pupil],
            seats: 120,
            run_quota: Some(360),
            since_ms: pds.store.now_ms() - DAY_MS,
            until_ms: pds.store.now_ms() + 300 * DAY_MS,
            price: eur(60_000),
        },
    )?;
    println!(
        "   {SCHOOL} licenses coaching as \"Parcours Avenir\" for 120 pupils, 360 runs, {} (paid up front: {} entries)",
        l.price,
        paid.len()
    );
    // The school asks the pupil for her career data, for the coaching plugin; she approves,
    // and the school starts her run.
    let asked = request::ask(
        store,
        SCHOOL,
        pupil,
        &plugin,
        "career guidance for our pupils",
        30,
    )?;
    let grant = request::approve(store, asked.id, &Narrowing::default())?;
    let run = pds
        .runner
        .run(insitu_core::run::RunRequest {
            person: pupil,
            grant: grant.id,
            digest: plugin.digest.clone(),
            params: vec![("count".into(), Scalar::Integer(6))],
            limits: None,
            requester: Some(SCHOOL.into()),
            as_of: None,
        })
        .await?;
    let school_view = insitu_core::view::run_view(
        &run,
        &insitu_core::contract::Viewer::Requester(SCHOOL.into()),
    )
    .context("the school sees the run it started")?;
    println!(
        "   what {SCHOOL} sees of the run it started (no outcome, no usage: they depend on her data):\n     {}",
        insitu_core::view::run_line(&school_view)
    );
    if let insitu_core::meter::Outcome::Failed { message, .. } = &run.outcome {
        anyhow::bail!("the coaching run failed: {message}");
    }
    println!("   \"Parcours Avenir\" for Léa Dubois (only she sees this):");
    if let Some(insitu_core::output::PluginOutput::Table { rows, .. }) = &run.output {
        for r in rows {
            let reasons: String = r[4].to_string().chars().take(100).collect();
            println!(
                "     {:<10} {:<40} {:<10} {:>3}  {reasons}",
                r[0].to_string(),
                r[1].to_string(),
                r[2].to_string(),
                r[3].to_string()
            );
        }
    }
    // Peer contact: someone who became a pharmacist offered to talk about it.
    let mentor = store
        .people()?
        .into_iter()
        .find(|p| p.name == "Tenant 03")
        .context("a tenant")?;
    insitu_core::peer::offer(
        store,
        mentor.id,
        "29-1051.00",
        "pharmacist for twelve years",
    )?;
    let c = insitu_core::peer::ask(store, pupil, "29-1051.00")?;
    let before = insitu_core::peer::contacts_of(store, pupil)?;
    println!(
        "   Léa asks to talk with a pharmacist: \"{}\", name hidden ({:?})",
        before[0].note, before[0].other
    );
    insitu_core::peer::answer(store, mentor.id, c.id, true)?;
    let after = insitu_core::peer::contacts_of(store, pupil)?;
    println!(
        "   the pharmacist accepts: now each sees the other ({})",
        after[0].other.as_deref().unwrap_or("?")
    );
    let billed = store
        .posting(&format!("run:{}", run.id))?
        .unwrap_or_default();
    let total: i64 = billed.iter().map(|e| e.amount.minor).sum();
    println!(
        "   the run is billed to {SCHOOL} under licence {}: {} EUR, to the developer and the operator",
        l.id,
        insitu_core::ledger::decimal(total, "EUR")
    );
    trend_report(pds, key).await
}

/// The coaching service's second revenue line: a careers office buys a trend report on which
/// occupation groups coaching suggests first, as a study over the pupils who consent.
async fn trend_report(pds: &Pds, key: &SigningKey) -> anyhow::Result<()> {
    const OFFICE: &str = "onisep-region";
    let store = pds.store.as_ref();
    account::create(store, OFFICE, "demo-password-not-used", Role::Organisation)?;
    let plugin = install(
        pds,
        key,
        insitu_plugins::COACHING_TRENDS,
        insitu_plugins::COACHING_TRENDS_MANIFEST,
    )?;
    let schema = store.collection("career.skills")?;
    let profiles: [&[&str]; 3] = [
        &["biology", "chemistry", "laboratory", "first aid"],
        &["python", "statistics", "software"],
        &["carpentry", "construction", "blueprints"],
    ];
    // The cohort is counted with a tenth of ε (discrete Laplace of scale 10 at ε 1) against
    // the plugin's minimum of 20: over 60 pupils the report would be withheld about once in
    // 120 demos (it was, once, in CI); over 120, about once in 40,000.
    let pupils = 120u64;
    for i in 0..pupils {
        let p = store.add_person(&format!("Pupil {i:02}"))?;
        let skills = profiles[(i % 3) as usize];
        let recs: Vec<KeyedRecord> = skills
            .iter()
            .enumerate()
            .map(|(n, s)| {
                record(
                    &schema,
                    n as u64 + 1,
                    store.now_ms() - DAY_MS,
                    &[("skill", Value::Text((*s).into()))],
                )
            })
            .collect();
        store.write_records(p, "career.skills", &recs, Source::File("linkedin-export"))?;
        standing_grant(
            pds,
            OFFICE,
            p,
            &plugin,
            "count, with others, which occupations coaching suggests first",
        )?;
    }
    let job = study::open(
        store,
        NewStudy {
            owner: OFFICE.into(),
            description: "Occupations coaching suggests first, this term".into(),
            plugin_digest: plugin.digest.clone(),
            params: vec![],
            min_cohort: None,
            epsilon: 1.0,
            reward: eur(20),
        },
    )?;
    let progress = Progress::default();
    let runner = Arc::clone(&pds.runner);
    let job = with_progress(
        "   running members",
        &progress,
        study::run(&runner, job.id, &progress),
    )
    .await?;
    let job = until_release(pds, &job, OFFICE).await?;
    println!(
        "   {OFFICE} buys a trend report over {pupils} consenting pupils: which group of occupations coaching suggests first"
    );
    match &job.release {
        Some(r) => {
            let top: Vec<String> = r
                .values
                .iter()
                .filter(|(_, v)| *v >= 5)
                .map(|(n, v)| format!("{n} about {v}"))
                .collect();
            println!(
                "   released with noise of scale {:.1} (one member adds 1 to one group): {}",
                r.scale,
                top.join(", ")
            );
        }
        None => print_release(&job, "   "),
    }
    println!();
    Ok(())
}

/// The ledger after everything above: who paid whom, invoices, and the trial balance.
pub fn ledger(pds: &Pds) -> anyhow::Result<()> {
    use insitu_core::ledger::{self, Party, decimal};
    let store = pds.store.as_ref();
    println!(
        "12. The billing ledger: every run, licence, access fee, settlement and reward, in double entry"
    );
    let reconciled = ledger::reconcile(store)?;
    let entries = store.ledger()?;
    let balances = ledger::balances(&entries);
    let show = |p: Party| {
        let v = balances
            .iter()
            .filter(|((q, _), _)| *q == p)
            .map(|((_, c), v)| format!("{} {c}", decimal(*v, c)))
            .collect::<Vec<_>>()
            .join(", ");
        println!("   {:<28} {v}", p.to_string());
    };
    show(Party::Operator);
    show(Party::Developer("insitu-examples".into()));
    show(Party::Organisation(ASSOCIATION.into()));
    show(Party::Organisation(AGENCY.into()));
    show(Party::Organisation(LAB.into()));
    show(Party::Organisation(SCHOOL.into()));
    let proposals = insitu_core::store::walk(
        256,
        |p: &insitu_core::codesign::Proposal| p.id,
        |page| store.proposals_page(&insitu_core::store::Proposals::All, page),
    )?;
    for p in proposals {
        show(Party::Escrow(p.id));
    }
    println!("   this month's invoices (`insitu ledger statement ACCOUNT --format csv|json`):");
    let now = pds.store.now_ms();
    let (since, until) = (now - 31 * DAY_MS, now + DAY_MS);
    for org in [ASSOCIATION, AGENCY, LAB, SCHOOL] {
        let st = ledger::statement(&entries, &Party::Organisation(org.into()), since, until);
        for (c, (_, paid, received, _)) in &st.totals {
            println!(
                "     {org:<26} {:>5} lines, paid {:>9} {c}, received {:>8} {c}",
                st.lines.len(),
                decimal(*paid, c),
                decimal(*received, c)
            );
        }
    }
    let t = ledger::trial_balance(&entries);
    let sums: Vec<String> = t
        .iter()
        .map(|(c, v)| format!("{} {c}", decimal(*v, c)))
        .collect();
    println!(
        "   {} entries ({} postings reconciled); the trial balance: {}",
        entries.len(),
        reconciled,
        sums.join(", ")
    );
    anyhow::ensure!(t.values().all(|v| *v == 0), "the ledger does not balance");
    println!();
    Ok(())
}
