//! Campaign, study and policy commands. Scans and studies show a progress bar on a terminal
//! and a line per second otherwise, and resume where an interrupted one stopped.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;

use super::commands::parse_param;
use super::{CampaignCmd, LedgerCmd, LicenceCmd, PeerCmd, PolicyCmd, StudyCmd};
use insitu_core::campaign::{self, NewCampaign};
use insitu_core::import::format_date;
use insitu_core::job::{Answer, Job, JobStatus, Progress};
use insitu_core::output::{Money, Scalar};
use insitu_core::pds::Pds;
use insitu_core::study::{self, NewStudy};

/// Shows `progress` until `work` ends: a bar on a terminal, else a line each second (so that
/// logs and the crash test can follow it).
pub async fn with_progress<T>(
    what: &str,
    progress: &Progress,
    work: impl std::future::Future<Output = T>,
) -> T {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::new(0);
    if tty {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {pos}/{len} members ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(what.to_string());
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    tokio::pin!(work);
    let mut tick = tokio::time::interval(Duration::from_millis(if tty { 100 } else { 1000 }));
    let out = loop {
        tokio::select! {
            out = &mut work => break out,
            _ = tick.tick() => {
                let (done, total) = progress.snapshot();
                if tty {
                    bar.set_length(total);
                    bar.set_position(done);
                } else if total > 0 {
                    eprintln!("{what}: {done}/{total} members");
                }
            }
        }
    };
    bar.finish_and_clear();
    let (done, total) = progress.snapshot();
    eprintln!("{what}: {done}/{total} members");
    out
}

fn status_line(job: &Job) -> String {
    match &job.status {
        JobStatus::Running => format!("running, released from {}", format_time(job.release_ms)),
        JobStatus::Finished { at_ms } => format!("finished {}", format_date(*at_ms)),
        JobStatus::Released { at_ms } => format!("released {}", format_date(*at_ms)),
        JobStatus::Withheld { reason, .. } => format!("withheld: {reason}"),
        JobStatus::Settled { at_ms } => format!("settled {}", format_date(*at_ms)),
    }
}

fn money(s: &str) -> anyhow::Result<Money> {
    match Scalar::parse(s) {
        Scalar::Money(m) => Ok(m),
        _ => bail!("`{s}` is not an amount with its currency, like `1200.00 EUR`"),
    }
}

/// Prints what the initiator and the association see of a campaign now.
pub fn print_counts(pds: &Pds, job: &Job) -> anyhow::Result<()> {
    let now = pds.store.now_ms();
    let c = campaign::counts(pds.store.as_ref(), job, now)?;
    if !job.released_at(now) {
        println!(
            "campaign {} ({}, opened {}): nothing is shown before its release time, {}",
            job.id,
            job.state_shown(now),
            format_time(job.created_ms),
            format_time(job.release_ms)
        );
        return Ok(());
    }
    println!(
        "campaign {} ({}): {} members scanned, {} matched, {} accepted (with noise, ε {} per member; counts below {} are not shown)",
        job.id,
        status_line(job),
        c.scanned,
        c.matched,
        c.accepted,
        c.epsilon_micro as f64 / 1e6,
        c.k
    );
    Ok(())
}

/// Prints the exact counts, which only the operator sees.
pub fn print_exact_counts(pds: &Pds, job: &Job) -> anyhow::Result<()> {
    let (scanned, matched) = campaign::exact_counts(&pds.store.members(job.id)?);
    println!(
        "campaign {} (operator's view): {scanned} members scanned, {matched} matched; shown to the organisation from {}",
        job.id,
        format_time(job.release_ms)
    );
    Ok(())
}

/// A time as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn format_time(ms: i64) -> String {
    let s = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        format_date(ms),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

pub async fn campaign_cmd(pds: &Pds, cmd: CampaignCmd) -> anyhow::Result<()> {
    match cmd {
        CampaignCmd::Open {
            owner,
            description,
            brand,
            association,
            scanner,
            params,
            k,
        } => {
            let job = campaign::open(
                pds.store.as_ref(),
                NewCampaign {
                    owner,
                    description,
                    brand,
                    association,
                    plugin_digest: pds.find_plugin(&scanner)?,
                    params: params
                        .iter()
                        .map(|p| parse_param(p))
                        .collect::<anyhow::Result<_>>()?,
                    k,
                },
            )?;
            println!(
                "campaign {} opened; scan it with `insitu campaign scan {}`",
                job.id, job.id
            );
        }
        CampaignCmd::Scan { id } => {
            let progress = Progress::default();
            let runner = Arc::clone(&pds.runner);
            let job = with_progress(
                "scanning",
                &progress,
                campaign::scan(&runner, id, &progress),
            )
            .await?;
            print_exact_counts(pds, &job)?;
            print_counts(pds, &job)?;
        }
        CampaignCmd::Status { id } => {
            let job = pds.store.job(id)?;
            if job.status != JobStatus::Running {
                print_exact_counts(pds, &job)?;
            }
            print_counts(pds, &job)?;
        }
        CampaignCmd::List => {
            for j in pds.store.jobs()?.iter().filter(|j| j.is_campaign()) {
                println!(
                    "{:>4}  {}  {}  by {}",
                    j.id,
                    status_line(j),
                    j.title(),
                    j.owner
                );
            }
        }
        CampaignCmd::Claimants { id } => {
            let job = pds.store.job(id)?;
            for c in campaign::claimants(pds.store.as_ref(), &job, pds.store.now_ms())? {
                let loss: Vec<String> = c.loss.iter().map(|m| m.to_string()).collect();
                println!(
                    "person {} ({}): {} findings released, loss {}",
                    c.person,
                    c.name,
                    c.findings.len(),
                    loss.join(" + ")
                );
            }
        }
        CampaignCmd::Invitations { person } => {
            for i in campaign::invitations(pds.store.as_ref(), person)? {
                let state = match &i.answer {
                    None => "waiting for your answer".to_string(),
                    Some(Answer::Accepted { shared, .. }) => {
                        format!("accepted, {} findings shared", shared.len())
                    }
                    Some(Answer::Declined { .. }) => "declined".into(),
                };
                println!(
                    "campaign {} by {} against {}: {} ({state})",
                    i.job, i.association, i.brand, i.description
                );
                for (n, f) in i.findings.iter().enumerate() {
                    let loss = f.loss.as_ref().map(|m| m.to_string()).unwrap_or_default();
                    println!(
                        "  [{n}] {}  {}  {}  {loss}",
                        format_date(f.time),
                        f.label,
                        f.reason
                    );
                }
            }
        }
        CampaignCmd::Answer {
            id,
            person,
            accept,
            decline,
            findings,
        } => {
            if accept == decline {
                bail!("say --accept or --decline");
            }
            let chosen = (!findings.is_empty()).then_some(findings.as_slice());
            let m = campaign::answer(pds.store.as_ref(), id, person, accept, chosen)?;
            match m.answer {
                Some(Answer::Accepted { shared, loss, .. }) => {
                    let loss: Vec<String> = loss.iter().map(|m| m.to_string()).collect();
                    println!(
                        "person {person} joined campaign {id}: {} findings released to the association (loss {})",
                        shared.len(),
                        loss.join(" + ")
                    );
                }
                _ => println!("person {person} declined campaign {id}"),
            }
        }
        CampaignCmd::Settle {
            id,
            amount,
            association_share,
        } => {
            let amount = money(&amount)?;
            let records = campaign::settle(
                pds.store.as_ref(),
                id,
                amount,
                (association_share * 100.0).round() as u32,
            )?;
            for r in &records {
                println!("{}  {} -> {}  {}", r.amount, r.from, r.to, r.memo);
            }
        }
    }
    Ok(())
}

pub async fn study_cmd(pds: &Pds, cmd: StudyCmd) -> anyhow::Result<()> {
    match cmd {
        StudyCmd::Open {
            owner,
            description,
            plugin,
            params,
            min_cohort,
            epsilon,
            reward,
        } => {
            let job = study::open(
                pds.store.as_ref(),
                NewStudy {
                    owner,
                    description,
                    plugin_digest: pds.find_plugin(&plugin)?,
                    params: params
                        .iter()
                        .map(|p| parse_param(p))
                        .collect::<anyhow::Result<_>>()?,
                    min_cohort,
                    epsilon,
                    reward: money(&reward)?,
                },
            )?;
            println!(
                "study {} opened; run it with `insitu study run {}`",
                job.id, job.id
            );
        }
        StudyCmd::Run { id } => {
            let progress = Progress::default();
            let runner = Arc::clone(&pds.runner);
            let job = with_progress(
                "running the study",
                &progress,
                study::run(&runner, id, &progress),
            )
            .await?;
            print_release(&job, "");
        }
        StudyCmd::Status { id } => print_release(&pds.store.job(id)?, ""),
        StudyCmd::List => {
            for j in pds.store.jobs()?.iter().filter(|j| !j.is_campaign()) {
                println!(
                    "{:>4}  {}  {}  by {}",
                    j.id,
                    status_line(j),
                    j.title(),
                    j.owner
                );
            }
        }
    }
    Ok(())
}

/// Prints a study's release, or why there is none.
pub fn print_release(job: &Job, indent: &str) {
    println!(
        "{indent}study {} ({}): {}",
        job.id,
        job.title(),
        status_line(job)
    );
    if let Some(r) = &job.release {
        println!(
            "{indent}  cohort (noisy): {}; ε spent per member run: {}; noise on the sums: discrete Laplace, scale {:.1} (sensitivity {}); {} members left out, their budget spent",
            r.cohort,
            r.epsilon_micro as f64 / 1e6,
            r.scale,
            r.sensitivity,
            r.excluded_for_budget
        );
        for (name, v) in &r.values {
            println!("{indent}  {name:<12} {v:>8}");
        }
    }
}

pub fn policy_cmd(pds: &Pds, cmd: PolicyCmd) -> anyhow::Result<()> {
    let mut p = pds.store.policy()?;
    if let PolicyCmd::Set {
        k_floor,
        campaign_gap_days,
        epsilon_per_month,
        campaign_epsilon,
        member_deadline_ms,
        release_margin_ms,
        commission,
    } = cmd
    {
        if let Some(v) = k_floor {
            if v < 2 {
                bail!("a k floor below 2 would show single members' results");
            }
            p.k_floor = v;
        }
        if let Some(v) = campaign_gap_days {
            p.campaign_gap_days = v;
        }
        if let Some(v) = epsilon_per_month {
            if !(v > 0.0 && v <= 10.0) {
                bail!("ε per month must be above 0 and at most 10");
            }
            p.epsilon_per_month_micro = (v * 1e6).round() as u64;
        }
        if let Some(v) = campaign_epsilon {
            let micro = (v * 1e6).round();
            if !(micro >= 1.0 && micro <= p.epsilon_per_month_micro as f64) {
                bail!(
                    "the ε per campaign must be above 0 and at most the monthly budget ({})",
                    p.epsilon_per_month_micro as f64 / 1e6
                );
            }
            p.campaign_epsilon_micro = micro as u64;
        }
        if let Some(v) = member_deadline_ms {
            if v == 0 {
                bail!("a member run needs a deadline above 0 ms");
            }
            p.member_deadline_ms = v;
        }
        if let Some(v) = release_margin_ms {
            p.release_margin_ms = v;
        }
        if let Some(v) = commission {
            if !(0.0..=100.0).contains(&v) {
                bail!("the commission is a percentage between 0 and 100");
            }
            p.commission_bps = (v * 100.0).round() as u32;
        }
        pds.store.set_policy(&p)?;
    }
    println!(
        "k floor {}; {} days between campaigns with one scanner or initiator; ε {} per member per month, {} per campaign; commission {}%; {} member runs at once, each within {} ms; release margin {} ms",
        p.k_floor,
        p.campaign_gap_days,
        p.epsilon_per_month_micro as f64 / 1e6,
        p.campaign_epsilon_micro as f64 / 1e6,
        p.commission_bps as f64 / 100.0,
        p.concurrency,
        p.member_deadline_ms,
        p.release_margin_ms
    );
    Ok(())
}

pub fn ledger_cmd(pds: &Pds, cmd: LedgerCmd) -> anyhow::Result<()> {
    use insitu_core::ledger::{self, Party, decimal};
    let store = pds.store.as_ref();
    match cmd {
        LedgerCmd::Balances => {
            for ((party, currency), v) in ledger::balances(&store.ledger()?) {
                println!(
                    "{:<32} {:>14} {currency}",
                    party.to_string(),
                    decimal(v, &currency)
                );
            }
        }
        LedgerCmd::TrialBalance => {
            let entries = store.ledger()?;
            let t = ledger::trial_balance(&entries);
            for (currency, v) in &t {
                println!(
                    "{currency}: {} over {} entries",
                    decimal(*v, currency),
                    entries.len()
                );
            }
            if t.values().any(|v| *v != 0) {
                bail!("the ledger does not balance");
            }
            println!("the trial balance is zero");
        }
        LedgerCmd::Invoice {
            organisation,
            month,
            format,
        } => {
            let start = match &month {
                Some(m) => insitu_core::import::parse_time(&format!("{m}-01"))
                    .map_err(|e| anyhow::anyhow!("`{m}` is not a month like 2026-11: {e}"))?,
                None => pds.store.now_ms(),
            };
            let (m0, m1) = insitu_core::ledger::month_bounds(start);
            let party = Party::Organisation(organisation);
            print_statement(
                &ledger::statement(&store.ledger_of(&party)?, &party, m0, m1),
                &party,
                &format,
            )?;
        }
        LedgerCmd::Statement {
            account,
            from,
            until,
            format,
        } => {
            let party: Party = account.parse().map_err(anyhow::Error::msg)?;
            let (m0, m1) = insitu_core::ledger::month_bounds(pds.store.now_ms());
            let day = |s: &Option<String>, d: i64| -> anyhow::Result<i64> {
                s.as_deref()
                    .map(insitu_core::import::parse_time)
                    .transpose()
                    .map_err(anyhow::Error::msg)
                    .map(|v| v.unwrap_or(d))
            };
            let (since, until) = (day(&from, m0)?, day(&until, m1)?);
            let st = ledger::statement(&store.ledger_of(&party)?, &party, since, until);
            print_statement(&st, &party, &format)?;
        }
        LedgerCmd::Reconcile => {
            let n = ledger::reconcile(store)?;
            println!("{n} postings made");
        }
        LedgerCmd::Membership { brand, year } => {
            let e = ledger::bill_membership(store, &brand, year)?;
            for e in e {
                println!(
                    "{} pays {} {}: {}",
                    e.debit,
                    decimal(e.amount.minor, &e.amount.currency),
                    e.amount.currency,
                    e.memo
                );
            }
        }
        LedgerCmd::Tariff {
            commission,
            member_share,
            passage,
            access_fee,
            membership,
        } => {
            let mut t = store.tariff()?;
            let bps = |v: f64| -> anyhow::Result<u32> {
                if !(0.0..=100.0).contains(&v) {
                    bail!("a rate is a percentage between 0 and 100");
                }
                Ok((v * 100.0).round() as u32)
            };
            let changed = commission.is_some()
                || member_share.is_some()
                || passage.is_some()
                || access_fee.is_some()
                || membership.is_some();
            if let Some(v) = commission {
                t.commission_bps = bps(v)?;
            }
            if let Some(v) = member_share {
                t.member_share_bps = bps(v)?;
            }
            if t.commission_bps + t.member_share_bps > 10_000 {
                bail!("the commission and the member's share together exceed 100%");
            }
            for (v, slot) in [
                (passage, &mut t.passage_per_run),
                (access_fee, &mut t.access_fee),
                (membership, &mut t.membership_per_year),
            ] {
                if let Some(v) = v {
                    if v < 0 {
                        bail!("an amount cannot be negative");
                    }
                    *slot = v;
                }
            }
            if changed {
                store.set_tariff(&t)?;
            }
            println!(
                "commission {}%, member's share {}%, passage {} per run, access fee {} per grant, membership {} a year ({} minor units)",
                t.commission_bps as f64 / 100.0,
                t.member_share_bps as f64 / 100.0,
                t.passage_per_run,
                t.access_fee,
                t.membership_per_year,
                t.currency
            );
        }
    }
    Ok(())
}

pub fn licence_cmd(pds: &Pds, cmd: LicenceCmd) -> anyhow::Result<()> {
    use insitu_core::licence::{self, Licence, LicenceKind};
    let store = pds.store.as_ref();
    match cmd {
        LicenceCmd::Add {
            organisation,
            plugin,
            white_label,
            members,
            seats,
            quota,
            from,
            until,
            price,
        } => {
            let now = pds.store.now_ms();
            let time = |s: &Option<String>, d: i64| -> anyhow::Result<i64> {
                s.as_deref()
                    .map(insitu_core::import::parse_time)
                    .transpose()
                    .map_err(anyhow::Error::msg)
                    .map(|v| v.unwrap_or(d))
            };
            let since_ms = time(&from, now)?;
            let (l, entries) = licence::grant(
                store,
                Licence {
                    id: 0,
                    organisation,
                    kind: match white_label {
                        Some(display_name) => LicenceKind::WhiteLabel { display_name },
                        None => LicenceKind::Sponsorship,
                    },
                    plugin,
                    seats: seats.unwrap_or(members.len() as u32),
                    members,
                    run_quota: quota,
                    since_ms,
                    until_ms: time(&until, since_ms + 365 * 86_400_000)?,
                    price: money(&price)?,
                },
            )?;
            println!(
                "licence {}: {} pays for {} members' runs of {}; {} ledger entries",
                l.id,
                l.organisation,
                l.members.len(),
                l.plugin,
                entries.len()
            );
        }
        LicenceCmd::List => {
            for l in store.licences()? {
                let name = match &l.kind {
                    LicenceKind::WhiteLabel { display_name } => format!("as \"{display_name}\""),
                    LicenceKind::Sponsorship => "sponsorship".into(),
                };
                println!(
                    "{:>4}  {} {}  {name}  {} of {} seats  {} to {}  {}",
                    l.id,
                    l.organisation,
                    l.plugin,
                    l.members.len(),
                    l.seats,
                    format_date(l.since_ms),
                    format_date(l.until_ms),
                    l.price
                );
            }
        }
    }
    Ok(())
}

pub fn peer_cmd(pds: &Pds, cmd: PeerCmd) -> anyhow::Result<()> {
    use insitu_core::peer;
    let store = pds.store.as_ref();
    match cmd {
        PeerCmd::Offer {
            person,
            occupation,
            note,
        } => {
            let o = peer::offer(store, person, &occupation, &note)?;
            println!(
                "offer {}: person {person} may be asked about {}",
                o.id, o.occupation
            );
        }
        PeerCmd::Ask { person, occupation } => {
            let c = peer::ask(store, person, &occupation)?;
            println!(
                "contact {}: someone who took {} is asked; names are shown once they accept",
                c.id, c.occupation
            );
        }
        PeerCmd::Answer {
            id,
            person,
            accept,
            decline,
        } => {
            if accept == decline {
                bail!("say --accept or --decline");
            }
            let c = peer::answer(store, person, id, accept)?;
            println!("contact {}: {:?}", c.id, c.status);
        }
        PeerCmd::List { person } => {
            for c in peer::contacts_of(store, person)? {
                println!(
                    "{:>4}  {} as {}  {:?}  {}{}",
                    c.id,
                    c.occupation,
                    c.role,
                    c.status,
                    c.other
                        .as_deref()
                        .unwrap_or("(name shown once both accept)"),
                    if c.note.is_empty() {
                        String::new()
                    } else {
                        format!("  \"{}\"", c.note)
                    }
                );
            }
        }
    }
    Ok(())
}

/// Prints a statement (an invoice) as text, CSV or JSON.
fn print_statement(
    st: &insitu_core::ledger::Statement,
    party: &insitu_core::ledger::Party,
    format: &str,
) -> anyhow::Result<()> {
    use insitu_core::ledger::decimal;
    match format {
        "csv" => print!("{}", st.to_csv()),
        "json" => println!("{}", serde_json::to_string_pretty(st)?),
        "text" => {
            println!(
                "statement of {} from {} to {}",
                st.party,
                format_date(st.since_ms),
                format_date(st.until_ms)
            );
            for e in &st.lines {
                let sign = if e.credit == *party { "+" } else { "-" };
                println!(
                    "  {}  {sign}{:>10} {}  {}",
                    format_date(e.at_ms),
                    decimal(e.amount.minor, &e.amount.currency),
                    e.amount.currency,
                    e.memo
                );
            }
            for (c, (open, paid, received, close)) in &st.totals {
                println!(
                    "  {c}: opening {}, paid {}, received {}, closing {}",
                    decimal(*open, c),
                    decimal(*paid, c),
                    decimal(*received, c),
                    decimal(*close, c)
                );
            }
        }
        other => bail!("unknown format `{other}`: use text, csv or json"),
    }
    Ok(())
}
