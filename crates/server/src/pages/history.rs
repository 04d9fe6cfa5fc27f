//! The access history's lines in the person's language: each kind of entry of a person's
//! audit chain as a sentence written to them ("ufc asked you for access to ..."), from the
//! catalogues (`history.ftl`), with plugins named by their manifest's id rather than their
//! digest ([`Names`], which the data page uses too). An entry of another kind (never in a person's chain) falls back to the audit log's
//! own English description.

use std::collections::BTreeMap;

use insitu_core::audit::AuditEvent;
use insitu_core::store::Store;

use super::locale::{Arg, L10n};

/// Names plugins by digest for one page, reading each once.
pub struct Names<'a> {
    store: &'a dyn Store,
    plugins: BTreeMap<String, String>,
}

impl<'a> Names<'a> {
    pub fn new(store: &'a dyn Store) -> Names<'a> {
        Names {
            store,
            plugins: BTreeMap::new(),
        }
    }

    /// The plugin's manifest id (`fee-scanner`), else the digest's first 12 characters.
    pub fn plugin(&mut self, digest: &str) -> String {
        if let Some(n) = self.plugins.get(digest) {
            return n.clone();
        }
        let name = self
            .store
            .plugin(digest)
            .ok()
            .and_then(|p| p.manifest.map(|m| m.id))
            .unwrap_or_else(|| digest.chars().take(12).collect());
        self.plugins.insert(digest.to_string(), name.clone());
        name
    }
}

/// The entry's line in `l`'s language.
pub fn describe(l: &L10n, names: &mut Names<'_>, e: &AuditEvent) -> String {
    use AuditEvent as E;
    let n = |v: u64| Arg::Count(v as i64);
    match e {
        E::PersonAdded { .. } => l.t("ev-person-added"),
        E::AccountCreated { .. } => l.t("ev-account-created"),
        E::RecordsImported {
            collection,
            added,
            duplicates,
            returned_by,
            ..
        } => match returned_by {
            Some(org) => l.ta(
                "ev-records-returned",
                &[
                    ("organisation", org.as_str().into()),
                    ("added", n(*added)),
                    (
                        "collection",
                        super::collections::label(l, collection).as_str().into(),
                    ),
                ],
            ),
            None => {
                let source = insitu_core::audit::describe_source(names.store, e)
                    .unwrap_or_else(|| l.t("ev-source-erased"));
                l.ta(
                    "ev-records-imported",
                    &[
                        ("added", n(*added)),
                        ("duplicates", n(*duplicates)),
                        (
                            "collection",
                            super::collections::label(l, collection).as_str().into(),
                        ),
                        ("source", source.as_str().into()),
                    ],
                )
            }
        },
        E::RequestOpened {
            request,
            requester,
            digest,
            ..
        } => {
            let plugin = names.plugin(digest);
            l.ta(
                "ev-request-opened",
                &[
                    ("requester", requester.as_str().into()),
                    ("plugin", plugin.as_str().into()),
                    ("request", n(*request)),
                ],
            )
        }
        E::RequestDecided {
            request, approved, ..
        } => l.ta(
            if *approved {
                "ev-request-approved"
            } else {
                "ev-request-denied"
            },
            &[("request", n(*request))],
        ),
        E::GrantCreated {
            grant,
            digest,
            collections,
            ..
        } => {
            let plugin = names.plugin(digest);
            let collections: Vec<String> = collections
                .iter()
                .map(|c| super::collections::label(l, c))
                .collect();
            let collections = collections.join(", ");
            l.ta(
                "ev-grant-created",
                &[
                    ("plugin", plugin.as_str().into()),
                    ("collections", collections.as_str().into()),
                    ("grant", n(*grant)),
                ],
            )
        }
        E::GrantRevoked { grant, .. } => l.ta("ev-grant-revoked", &[("grant", n(*grant))]),
        E::Run {
            run,
            digest,
            read,
            records_read,
            outcome,
            job,
            ..
        } => {
            let plugin = names.plugin(digest);
            let what = read
                .iter()
                .map(|(c, f)| {
                    let fields = super::fields::labels(l, c, f);
                    format!("{} ({fields})", super::collections::label(l, c))
                })
                .collect::<Vec<_>>()
                .join("; ");
            let how = if outcome == "succeeded" {
                l.t("ev-run-succeeded")
            } else if let Some(reason) = outcome.strip_prefix("failed: ") {
                l.ta("ev-run-failed", &[("reason", reason.into())])
            } else {
                outcome.clone()
            };
            l.ta(
                match job {
                    Some(_) => "ev-run-job",
                    None => "ev-run",
                },
                &[
                    ("plugin", plugin.as_str().into()),
                    ("records", n(*records_read)),
                    ("read", what.as_str().into()),
                    ("run", n(*run)),
                    ("job", n(job.unwrap_or(0))),
                    ("outcome", how.as_str().into()),
                ],
            )
        }
        E::MemberRunClaimed { job, run, .. } => l.ta(
            "ev-member-run-claimed",
            &[("job", n(*job)), ("run", n(*run))],
        ),
        E::BudgetReserved {
            job,
            epsilon_micro,
            reserved,
            ..
        } => {
            let epsilon = format!("{}", *epsilon_micro as f64 / 1e6);
            l.ta(
                if *reserved {
                    "ev-budget-reserved"
                } else {
                    "ev-budget-refused"
                },
                &[("job", n(*job)), ("epsilon", epsilon.as_str().into())],
            )
        }
        E::EvidenceReleased {
            job,
            association,
            findings,
            ..
        } => l.ta(
            "ev-evidence-released",
            &[
                ("job", n(*job)),
                ("association", association.as_str().into()),
                ("findings", n(u64::from(*findings))),
            ],
        ),
        E::InvitationDeclined { job, .. } => l.ta("ev-invitation-declined", &[("job", n(*job))]),
        E::PeerOffer {
            occupation,
            withdrawn,
            ..
        } => l.ta(
            if *withdrawn {
                "ev-offer-withdrawn"
            } else {
                "ev-offer-made"
            },
            &[("occupation", occupation.as_str().into())],
        ),
        E::ContactAsked { occupation, .. } => l.ta(
            "ev-contact-asked",
            &[("occupation", occupation.as_str().into())],
        ),
        E::ContactAnswered { accepted, .. } => l.t(if *accepted {
            "ev-contact-accepted"
        } else {
            "ev-contact-declined"
        }),
        E::ReceptionAccepted {
            organisation,
            collection,
            ..
        } => l.ta(
            "ev-reception-accepted",
            &[
                ("organisation", organisation.as_str().into()),
                (
                    "collection",
                    super::collections::label(l, collection).as_str().into(),
                ),
            ],
        ),
        E::ReceptionRevoked { reception, .. } => {
            l.ta("ev-reception-revoked", &[("reception", n(*reception))])
        }
        E::Contributed {
            proposal,
            suggestion,
            ..
        } => l.ta(
            if *suggestion {
                "ev-suggested"
            } else {
                "ev-commented"
            },
            &[("proposal", n(*proposal))],
        ),
        // The ballot as the store keys it (`Ballot`'s `Display`): a proposal's options or a
        // contest, said in words.
        E::VoteCast { ballot, .. } => {
            let options = ballot
                .strip_prefix("proposal:")
                .and_then(|id| id.parse::<u64>().ok());
            match (options, ballot.strip_prefix("contest:")) {
                (Some(id), _) => l.ta("ev-voted-options", &[("proposal", n(id))]),
                (None, contest) => l.ta(
                    "ev-voted-contest",
                    &[("contest", contest.unwrap_or(ballot).into())],
                ),
            }
        }
        E::Pledged {
            proposal,
            minor,
            currency,
            ..
        } => {
            let amount = l.money(*minor, currency);
            l.ta(
                "ev-pledged",
                &[
                    ("amount", amount.as_str().into()),
                    ("proposal", n(*proposal)),
                ],
            )
        }
        E::PledgeWithdrawn { proposal, .. } => {
            l.ta("ev-pledge-withdrawn", &[("proposal", n(*proposal))])
        }
        other => insitu_core::audit::describe_in(names.store, other),
    }
}
