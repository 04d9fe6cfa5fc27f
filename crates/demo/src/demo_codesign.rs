//! The demo's co-design step (the seed's second scenario, past the study): the thermostat
//! maker proposes a product built on the studies it bought, the patent officer asks for a
//! change and then approves it, members comment, suggest, vote between two designs and
//! pledge; at the deadline the escrow pays the maker less the service's commission, the
//! rewards are counted, and the escrow's books are at zero.

use anyhow::Context;

use insitu::cli::codesign::print_view;
use insitu_core::account::{self, Role};
use insitu_core::codesign::{self, Content, Decision, Kind, Reader, Tier};
use insitu_core::ledger::{Party, balances, decimal};
use insitu_core::noise::Noise;
use insitu_core::output::Money;
use insitu_core::pds::Pds;
use insitu_core::store::PersonId;

use crate::demo_jobs::LAB;

const OFFICER: &str = "patent-office";
/// Long enough for every step before the deadline on a slow machine, short enough to wait.
const DEADLINE_MS: i64 = 8_000;

fn eur(minor: i64) -> Money {
    Money {
        minor,
        currency: "EUR".into(),
    }
}

pub async fn codesign(pds: &Pds) -> anyhow::Result<()> {
    let store = pds.store.as_ref();
    println!(
        "10. Co-design: {LAB} proposes a thermostat built on its studies; members discuss, vote and fund it"
    );
    account::create(store, OFFICER, "demo-password-not-used", Role::Officer)?;
    let studies: Vec<u64> = store
        .jobs()?
        .iter()
        .filter(|j| j.owner == LAB && !j.is_campaign())
        .map(|j| j.id)
        .take(2)
        .collect();
    let now = store.now_ms();
    let mut content = Content {
        title: "Thermo Smart 2: a thermostat that learns your evenings".into(),
        description: "Our studies show most heating changes happen between 18:00 and 22:00. \
                      This thermostat learns them and saves energy."
            .into(),
        options: vec!["A round dial".into(), "A touch screen".into()],
        studies,
        goal: eur(300_000),
        deadline_ms: now + DEADLINE_MS,
        tiers: vec![
            Tier {
                name: "Early".into(),
                min_minor: 2_500,
                reward: "early access to the app's new schedule".into(),
            },
            Tier {
                name: "Backer".into(),
                min_minor: 4_000,
                reward: "the thermostat, at cost".into(),
            },
        ],
    };
    let p = codesign::submit(store, LAB, None, content.clone())?;
    println!(
        "   submitted as proposal {}: only {LAB} and the patent officer see it; the audit chain holds its commitment {}…",
        p.id,
        &p.current().commitment[..16]
    );
    let p = codesign::review(
        store,
        p.id,
        OFFICER,
        Decision::RequestChanges,
        "Say which study release the energy claim rests on.",
    )?;
    println!(
        "   the patent officer asks for a change ({:?}): \"{}\"",
        p.status,
        p.reviews.last().map(|r| r.reasons.as_str()).unwrap_or("")
    );
    content.description = format!(
        "{} The evening pattern is in the released sums of studies {:?}.",
        content.description, content.studies
    );
    let p = codesign::revise(store, p.id, LAB, content)?;
    let p = codesign::review(store, p.id, OFFICER, Decision::Approve, "")?;
    println!(
        "   version {} is approved and public; pledges close at {}",
        p.version(),
        insitu::cli::jobs::format_time(p.content().deadline_ms)
    );

    let members: Vec<PersonId> = store
        .people()?
        .into_iter()
        .filter(|x| x.name.starts_with("Member "))
        .map(|x| x.id)
        .collect();
    anyhow::ensure!(members.len() >= 150, "the study's members are missing");
    codesign::contribute(
        store,
        p.id,
        members[0],
        Kind::Comment,
        "Will it work with heat pumps?",
        None,
    )?;
    codesign::contribute(
        store,
        p.id,
        members[1],
        Kind::Comment,
        "The dial is easier for my parents.",
        Some("Camille D."),
    )?;
    let s = codesign::contribute(
        store,
        p.id,
        members[2],
        Kind::Suggestion,
        "A version with a wooden case.",
        None,
    )?;
    println!(
        "   3 members write: two comments (one signed with the name she chose) and a suggestion, committed as {}… so its author can show it was hers",
        &s.commitment.as_deref().unwrap_or_default()[..16]
    );
    for (i, m) in members.iter().take(150).enumerate() {
        codesign::vote(store, &p.ballot(), *m, u64::from(i % 3 == 0))?;
    }
    let mut pledged = 0;
    for (i, m) in members.iter().skip(20).take(121).enumerate() {
        let minor = if i % 4 == 0 { 4_000 } else { 2_500 };
        codesign::pledge(store, p.id, *m, minor)?;
        pledged += 1;
    }
    let last = store.pledges(p.id)?.last().cloned().context("a pledge")?;
    codesign::withdraw(store, p.id, last.id, last.member)?;
    println!(
        "   150 members vote between the two designs; {pledged} pledge, one withdraws and is refunded at once"
    );
    println!("   what {LAB} sees before the deadline (no name, no account, no vote yet):");
    let org = Reader::Organisation(LAB.into());
    print_view(&codesign::view(store, p.id, &org)?, "     ");

    let wait = p.content().deadline_ms - store.now_ms();
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(wait as u64 + 50)).await;
    }
    codesign::settle_due(store, Noise::OpenDp)?;
    println!("   at the deadline, as {LAB} sees it:");
    let v = codesign::view(store, p.id, &org)?;
    print_view(&v, "     ");
    let s = v.settlement.as_ref().context("settled")?;
    anyhow::ensure!(s.funded, "the goal was not reached");
    let escrow = balances(&store.ledger_of(&Party::Escrow(p.id))?)
        .into_iter()
        .find(|((party, _), _)| *party == Party::Escrow(p.id))
        .map_or(0, |(_, v)| v);
    anyhow::ensure!(escrow == 0, "escrow {} is not empty", p.id);
    println!(
        "   escrow {} is back to {} EUR: every cent pledged went to {LAB} or to the commission",
        p.id,
        decimal(escrow, "EUR")
    );
    let proof = codesign::prove(store, p.id, 1, &org)?;
    let at = codesign::verify_proof(store, &pds.checkpoint, &proof)?;
    println!(
        "   {LAB} can prove what version 1 said and that it was submitted at {}, without having published it\n",
        insitu::cli::jobs::format_time(at)
    );
    Ok(())
}
