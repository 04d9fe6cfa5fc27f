//! `insitu proposal ...` and `insitu pledge ...`: co-design from the command line, for the
//! operator's tools, the demo and scripts. Each command names the party it acts for
//! (`--org`, `--officer`, `--person`), like the campaign and study commands.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;

use insitu_core::codesign::{
    self, Ballot, Content, Decision, Kind, Proof, ProposalView, Reader, Tier,
};
use insitu_core::import::format_date;
use insitu_core::noise::Noise;
use insitu_core::output::Money;
use insitu_core::pds::Pds;
use insitu_core::store::walk;
use insitu_formats::money::{decimal, parse_money};

use super::jobs::format_time;

const DAY_MS: i64 = 86_400_000;

/// What a proposal says, from flags or from a JSON file (`Content`).
#[derive(clap::Args, Debug)]
pub struct ContentArgs {
    /// The whole content as JSON (title, description, options, studies, goal, deadline_ms,
    /// tiers); the other flags are then ignored.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long, default_value = "")]
    pub description: String,
    /// An option members choose between (repeat).
    #[arg(long = "option")]
    pub options: Vec<String>,
    /// A study it builds on, by id (repeat).
    #[arg(long = "study")]
    pub studies: Vec<u64>,
    /// The funding goal, like `5000.00 EUR`.
    #[arg(long)]
    pub goal: Option<String>,
    /// The deadline, `YYYY-MM-DD` (midnight UTC), or ...
    #[arg(long, conflicts_with = "days")]
    pub deadline: Option<String>,
    /// ... days from now.
    #[arg(long)]
    pub days: Option<u32>,
    /// A reward tier, `NAME:AMOUNT:REWARD` like `Backer:25.00:the thermostat` (repeat, from
    /// the smallest pledge up).
    #[arg(long = "tier")]
    pub tiers: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum ProposalCmd {
    /// An organisation submits a proposal; it waits for the patent officer.
    Submit {
        #[arg(long)]
        org: String,
        /// Proposals sharing a contest compete: members vote between them.
        #[arg(long)]
        contest: Option<String>,
        #[command(flatten)]
        content: ContentArgs,
    },
    /// The organisation submits a new version (back to the patent officer; earlier pledgers
    /// may withdraw).
    Revise {
        id: u64,
        #[arg(long)]
        org: String,
        #[command(flatten)]
        content: ContentArgs,
    },
    /// The patent officer decides on the current version.
    Review {
        id: u64,
        #[arg(long)]
        officer: String,
        /// approve, request-changes or reject.
        #[arg(long)]
        decision: String,
        /// Needed to ask for changes or reject; the proposer sees it.
        #[arg(long, default_value = "")]
        reasons: String,
        /// The version reviewed, as read (`proposal show`): refused if it changed since.
        #[arg(long)]
        version: Option<u32>,
    },
    /// The proposals one party sees (`--as person:ID`, `org:NAME`, `officer:NAME`; the
    /// operator's view by default).
    List {
        #[arg(long = "as")]
        reader: Option<String>,
    },
    /// A proposal as one party sees it.
    Show {
        id: u64,
        #[arg(long = "as")]
        reader: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The patent officer's queue: proposals waiting for a review.
    Queue,
    /// A member comments (or, with --suggest, suggests an option).
    Comment {
        id: u64,
        #[arg(long)]
        person: u64,
        #[arg(long)]
        text: String,
        #[arg(long)]
        suggest: bool,
        /// The name to show instead of the per-proposal pseudonym.
        #[arg(long)]
        sign_as: Option<String>,
    },
    /// A member votes for one of a proposal's options (by number, from 0) or, with
    /// --contest, for one of the contest's proposals (by id).
    Vote {
        /// The proposal (without --contest).
        id: Option<u64>,
        #[arg(long)]
        contest: Option<String>,
        #[arg(long)]
        person: u64,
        #[arg(long)]
        choice: u64,
    },
    /// Settles every proposal whose deadline has come (escrow paid or refunded) and
    /// releases the votes that closed.
    Settle,
    /// Writes the proof of what version N said and when it was submitted (JSON).
    Prove {
        id: u64,
        #[arg(long, default_value_t = 1)]
        version: u32,
        #[arg(long)]
        org: String,
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Checks a proof against the audit chain.
    Verify { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum PledgeCmd {
    /// A member pledges an amount (in the goal's currency) to a public proposal.
    Add {
        proposal: u64,
        #[arg(long)]
        person: u64,
        /// Like `25.00`.
        #[arg(long)]
        amount: String,
    },
    /// A member withdraws a pledge (before the deadline, or after a change), refunded.
    Withdraw {
        proposal: u64,
        pledge: u64,
        #[arg(long)]
        person: u64,
    },
    /// A member's pledges.
    List {
        #[arg(long)]
        person: u64,
    },
}

/// `person:ID`, `org:NAME`, `officer:NAME`, or the operator when absent.
fn reader(s: Option<&str>) -> anyhow::Result<Reader> {
    Ok(match s.map(|s| s.split_once(':')) {
        None => Reader::Operator,
        Some(Some(("person", id))) => Reader::Person(
            id.parse()
                .with_context(|| format!("`{id}` is not a person's id"))?,
        ),
        Some(Some(("org", n))) if !n.is_empty() => Reader::Organisation(n.into()),
        Some(Some(("officer", n))) if !n.is_empty() => Reader::Officer(n.into()),
        _ => bail!("say who reads: person:ID, org:NAME or officer:NAME"),
    })
}

/// An amount written in `currency`'s units (`25.00`), in its minor units.
fn amount(raw: &str, currency: &str) -> anyhow::Result<i64> {
    insitu_formats::money::parse_decimal(raw.trim(), insitu_formats::money::exponent(currency), '.')
        .map_err(|e| anyhow::anyhow!("`{raw}`: {e}"))
}

/// A tier `NAME:AMOUNT:REWARD`, its amount in `currency`.
fn tier(s: &str, currency: &str) -> anyhow::Result<Tier> {
    let mut parts = s.splitn(3, ':');
    let (Some(name), Some(amount), Some(reward)) = (parts.next(), parts.next(), parts.next())
    else {
        bail!("`{s}` is not a tier: use NAME:AMOUNT:REWARD, like `Backer:25.00:the thermostat`");
    };
    let min_minor = self::amount(amount, currency).with_context(|| format!("tier `{name}`"))?;
    Ok(Tier {
        name: name.trim().into(),
        min_minor,
        reward: reward.trim().into(),
    })
}

impl ContentArgs {
    fn content(self, now_ms: i64) -> anyhow::Result<Content> {
        if let Some(f) = &self.file {
            let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
            return serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a proposal's content", f.display()));
        }
        let title = self.title.context("give --title (or --file)")?;
        let goal = self.goal.context("give --goal, like `5000.00 EUR`")?;
        let (minor, currency) = parse_money(&goal).map_err(|e| anyhow::anyhow!("--goal: {e}"))?;
        let deadline_ms = match (&self.deadline, self.days) {
            (Some(d), _) => insitu_formats::time::parse_time(d)
                .map_err(|e| anyhow::anyhow!("--deadline: {e}"))?,
            (None, Some(days)) => now_ms + i64::from(days) * DAY_MS,
            (None, None) => bail!("give --deadline YYYY-MM-DD or --days N"),
        };
        let tiers = self
            .tiers
            .iter()
            .map(|t| tier(t, &currency))
            .collect::<anyhow::Result<_>>()?;
        Ok(Content {
            title,
            description: self.description,
            options: self.options,
            studies: self.studies,
            goal: Money { minor, currency },
            deadline_ms,
            tiers,
        })
    }
}

/// Prints a proposal as `reader` sees it.
pub fn print_view(v: &ProposalView, indent: &str) {
    let c = &v.content;
    println!(
        "{indent}proposal {} by {} (version {}, {:?}): {}",
        v.id, v.organisation, v.version, v.status, c.title
    );
    println!(
        "{indent}  goal {} by {}; pledged {} in {} pledges",
        c.goal,
        format_time(c.deadline_ms),
        v.pledged,
        v.pledges
    );
    for r in &v.reviews {
        println!(
            "{indent}  review of version {} by {}: {:?}{}",
            r.version,
            r.officer,
            r.decision,
            if r.reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.reasons)
            }
        );
    }
    for x in &v.ballot.counts {
        println!("{indent}  option {} \"{}\": {}", x.choice, x.label, x.count);
    }
    for x in &v.contributions {
        println!(
            "{indent}  #{} {} {}: {}",
            x.n,
            match x.kind {
                Kind::Comment => "comment by",
                Kind::Suggestion => "suggestion by",
            },
            x.author,
            x.text
        );
    }
    for p in &v.my_pledges {
        println!(
            "{indent}  your pledge {}: {} {:?}{}{}",
            p.id,
            p.amount,
            p.status,
            p.tier
                .as_ref()
                .map(|t| format!(", tier {t}"))
                .unwrap_or_default(),
            if p.changed && p.withdrawable {
                format!(
                    "; the proposal changed since you pledged to version {}: you may withdraw (`insitu pledge withdraw {} {}`)",
                    p.version, v.id, p.id
                )
            } else {
                String::new()
            }
        );
    }
    if let Some(s) = &v.settlement {
        let cur = &c.goal.currency;
        if s.funded {
            let rewards: Vec<String> = s
                .rewards
                .iter()
                .zip(&c.tiers)
                .map(|(n, t)| format!("{n} × {} ({})", t.name, t.reward))
                .collect();
            println!(
                "{indent}  funded on {}: {} {cur} held, {} {cur} paid to {}, {} {cur} commission; rewards: {}",
                format_date(s.at_ms),
                decimal(s.held_minor, cur),
                decimal(s.paid_minor, cur),
                v.organisation,
                decimal(s.commission_minor, cur),
                if rewards.is_empty() {
                    "none".into()
                } else {
                    rewards.join(", ")
                }
            );
        } else {
            println!(
                "{indent}  not funded on {}: {} {cur} refunded to the cent",
                format_date(s.at_ms),
                decimal(s.held_minor, cur)
            );
        }
    }
}

pub fn proposal_cmd(pds: &Pds, cmd: ProposalCmd) -> anyhow::Result<()> {
    let store = pds.store.as_ref();
    match cmd {
        ProposalCmd::Submit {
            org,
            contest,
            content,
        } => {
            let p = codesign::submit(store, &org, contest, content.content(store.now_ms())?)?;
            println!(
                "proposal {} submitted by {org}, waiting for the patent officer; commitment {}",
                p.id,
                p.current().commitment
            );
        }
        ProposalCmd::Revise { id, org, content } => {
            let p = codesign::revise(store, id, &org, content.content(store.now_ms())?)?;
            println!(
                "proposal {id}: version {} submitted, waiting for the patent officer; commitment {}",
                p.version(),
                p.current().commitment
            );
        }
        ProposalCmd::Review {
            id,
            officer,
            decision,
            reasons,
            version,
        } => {
            let d = match decision.as_str() {
                "approve" => Decision::Approve,
                "request-changes" | "request_changes" => Decision::RequestChanges,
                "reject" => Decision::Reject,
                other => bail!("`{other}`: decide approve, request-changes or reject"),
            };
            let p = codesign::review_version(store, id, &officer, version, d, &reasons)?;
            println!("proposal {id}: {:?}", p.status);
        }
        ProposalCmd::List { reader: r } => {
            let who = reader(r.as_deref())?;
            for p in walk(
                256,
                |p: &codesign::Proposal| p.id,
                |page| codesign::list(store, &who, page),
            )? {
                println!(
                    "{:>4}  {:?}  {}  by {}  deadline {}",
                    p.id,
                    p.status,
                    p.content().title,
                    p.organisation,
                    format_date(p.content().deadline_ms)
                );
            }
        }
        ProposalCmd::Show {
            id,
            reader: r,
            json,
        } => {
            let v = codesign::view(store, id, &reader(r.as_deref())?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print_view(&v, "");
            }
        }
        ProposalCmd::Queue => {
            for p in walk(
                256,
                |p: &codesign::Proposal| p.id,
                |page| codesign::queue(store, page),
            )? {
                println!(
                    "{:>4}  version {}  {}  by {}",
                    p.id,
                    p.version(),
                    p.content().title,
                    p.organisation
                );
            }
        }
        ProposalCmd::Comment {
            id,
            person,
            text,
            suggest,
            sign_as,
        } => {
            let kind = if suggest {
                Kind::Suggestion
            } else {
                Kind::Comment
            };
            let c = codesign::contribute(store, id, person, kind, &text, sign_as.as_deref())?;
            match &c.commitment {
                Some(h) => println!("suggestion recorded on proposal {id}; commitment {h}"),
                None => println!("comment recorded on proposal {id}"),
            }
        }
        ProposalCmd::Vote {
            id,
            contest,
            person,
            choice,
        } => {
            let ballot = match (id, contest) {
                (Some(id), None) => Ballot::Options(id),
                (None, Some(c)) => Ballot::Contest(c),
                _ => bail!("vote on a proposal's options (ID) or a contest (--contest NAME)"),
            };
            codesign::vote(store, &ballot, person, choice)?;
            println!("vote recorded on {ballot}; counts are shown with noise once it closes");
        }
        ProposalCmd::Settle => {
            let settled = codesign::settle_due(store, Noise::OpenDp)?;
            if settled.is_empty() {
                println!("no proposal's deadline has come");
            }
            for p in settled {
                let s = p.settlement.as_ref().expect("settled");
                println!(
                    "proposal {}: {}",
                    p.id,
                    if s.funded {
                        "funded, escrow paid out"
                    } else {
                        "not funded, every pledge refunded"
                    }
                );
            }
        }
        ProposalCmd::Prove {
            id,
            version,
            org,
            out,
        } => {
            let proof = codesign::prove(store, id, version, &Reader::Organisation(org))?;
            let json = serde_json::to_string_pretty(&proof)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, json)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!(
                        "proof of proposal {id} version {version} written to {}",
                        path.display()
                    );
                }
                None => println!("{json}"),
            }
        }
        ProposalCmd::Verify { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let proof: Proof = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a proof", file.display()))?;
            let at = codesign::verify_proof(store, &pds.checkpoint, &proof)?;
            println!(
                "proof holds: {} submitted \"{}\" (proposal {} version {}) at {}{}",
                proof.organisation,
                proof.content.title,
                proof.proposal,
                proof.version,
                format_time(at),
                match codesign::anchored_in(store, &proof)? {
                    Some(n) => format!("; under checkpoint {n}"),
                    None => "; not under a checkpoint yet".into(),
                }
            );
        }
    }
    Ok(())
}

pub fn pledge_cmd(pds: &Pds, cmd: PledgeCmd) -> anyhow::Result<()> {
    let store = pds.store.as_ref();
    match cmd {
        PledgeCmd::Add {
            proposal,
            person,
            amount,
        } => {
            let p = store.proposal(proposal)?;
            let currency = p.content().goal.currency.clone();
            let minor = self::amount(&amount, &currency).context("--amount")?;
            let x = codesign::pledge(store, proposal, person, minor)?;
            println!(
                "pledge {}: {} held in escrow for proposal {proposal}{}",
                x.id,
                x.amount,
                x.tier
                    .and_then(|t| p.content().tiers.get(t as usize))
                    .map(|t| format!("; reward: {}", t.reward))
                    .unwrap_or_default()
            );
        }
        PledgeCmd::Withdraw {
            proposal,
            pledge,
            person,
        } => {
            let x = codesign::withdraw(store, proposal, pledge, person)?;
            println!("pledge {}: withdrawn, {} refunded", x.id, x.amount);
        }
        PledgeCmd::List { person } => {
            for x in store.pledges_of(person)? {
                println!(
                    "{:>4}  proposal {}  {}  {:?}  {}",
                    x.id,
                    x.proposal,
                    x.amount,
                    x.status,
                    format_date(x.at_ms)
                );
            }
        }
    }
    Ok(())
}
