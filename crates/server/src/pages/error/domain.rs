//! What a page says for each domain error, variant by variant. The status is the API's
//! (`crate::error`, `crate::jobs`, `crate::limit`); the arguments are fields the API's message
//! shows too.

use axum::http::StatusCode;

use super::PageError;
use crate::auth::Denied;
use crate::limit::LoginError;
use insitu_core::account::AccountError;
use insitu_core::campaign::CampaignError;
use insitu_core::codesign::{CodesignError, Invalid, Refusal};
use insitu_core::import::ImportError;
use insitu_core::request::RequestError;
use insitu_core::rights::ExportError;
use insitu_core::store::StoreError;
use insitu_formats::schema::SchemaError;
use insitu_formats::zip::ArchiveError;

fn bad(key: &'static str) -> PageError {
    PageError::say(StatusCode::BAD_REQUEST, key)
}

fn missing(key: &'static str) -> PageError {
    PageError::say(StatusCode::NOT_FOUND, key)
}

fn conflict(key: &'static str) -> PageError {
    PageError::say(StatusCode::CONFLICT, key)
}

fn forbidden(key: &'static str) -> PageError {
    PageError::say(StatusCode::FORBIDDEN, key)
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        use StoreError as S;
        match e {
            S::NoPerson(id) => missing("error-no-person").with("id", id),
            S::NoCollection(name) => missing("error-no-collection").with("name", name),
            S::SchemaConflict(name) => conflict("error-schema-conflict").with("name", name),
            S::Schema(e) => e.into(),
            S::NoPlugin(digest) => missing("error-no-plugin").with("digest", digest),
            S::NoPublisher(name) => missing("error-no-publisher").with("name", name),
            S::NoRequest(id) => missing("error-no-request").with("id", id),
            S::NoGrant(id) => missing("error-no-grant").with("id", id),
            S::NoRun(id) => missing("error-no-run").with("id", id),
            S::NotRunning(id) => conflict("error-not-running").with("id", id),
            S::NameTaken(name) => conflict("error-name-taken").with("name", name),
            S::NoToken(id) => missing("error-no-token").with("id", id),
            S::NoAccount(id) => missing("error-no-account").with("id", id),
            S::NoReception(id) => missing("error-no-reception").with("id", id),
            S::NoJob(id) => missing("error-no-job").with("id", id),
            S::JobClosed(id) => conflict("error-job-closed").with("id", id),
            S::NoInvitation { job, .. } => missing("error-no-invitation").with("job", job),
            S::Answered { job, .. } => conflict("error-invitation-answered").with("job", job),
            S::CheckpointTaken(n) => conflict("error-checkpoint-taken").with("number", n),
            S::NoProposal(id) => missing("error-no-proposal").with("id", id),
            S::NoPledge { proposal, pledge } => missing("error-no-pledge")
                .with("proposal", proposal)
                .with("pledge", pledge),
            // The store's words for a co-design step its rules refuse.
            S::Codesign(why) => conflict("error-codesign-refused").detail(why),
            S::Corrupt(_) | S::Db(_) => PageError::internal(e),
        }
    }
}

impl From<SchemaError> for PageError {
    fn from(e: SchemaError) -> Self {
        match e {
            SchemaError::BadName(name) => bad("error-schema-bad-name").with("name", name),
            SchemaError::NoFields(name) => bad("error-schema-no-fields").with("name", name),
            SchemaError::DuplicateField(field) => {
                bad("error-schema-duplicate-field").with("field", field)
            }
            SchemaError::BadTimeField(field) => {
                bad("error-schema-bad-time-field").with("field", field)
            }
        }
    }
}

impl From<Denied> for PageError {
    fn from(e: Denied) -> Self {
        match e {
            Denied::Role(_) => forbidden("error-role"),
            Denied::Scope(_) => forbidden("error-scope"),
        }
    }
}

impl From<AccountError> for PageError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::BadCredentials => {
                PageError::say(StatusCode::UNAUTHORIZED, "error-bad-credentials")
            }
            AccountError::ScopeNotAllowed { .. } => forbidden("error-scope-not-allowed"),
            // Escaped as the API shows it, so that nothing in the name hides.
            AccountError::BadName { ref name, .. } => {
                let name = name.escape_debug().to_string();
                bad("error-bad-name").with("name", name).detail(e)
            }
            AccountError::NameTaken { name, existing } => conflict("error-account-name-taken")
                .with("name", name)
                .with("existing", existing),
            AccountError::WeakPassword => bad("error-weak-password").count("min", 10),
            AccountError::Entropy(_) => PageError::internal(e),
            AccountError::Store(e) => e.into(),
        }
    }
}

impl From<LoginError> for PageError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Throttled(wait) => {
                let mut p =
                    PageError::say(StatusCode::TOO_MANY_REQUESTS, "error-sign-in-throttled")
                        .count("seconds", wait);
                p.retry_after = Some(wait);
                p
            }
            LoginError::Account(e) => e.into(),
        }
    }
}

impl From<RequestError> for PageError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Decided(id) => conflict("error-request-decided").with("id", id),
            RequestError::Widening(ref why) => {
                let why = why.clone();
                bad("error-widening").detail(why)
            }
            RequestError::NoManifest(digest) => bad("error-no-manifest").with("digest", digest),
            RequestError::Store(e) => e.into(),
        }
    }
}

impl From<ImportError> for PageError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Io { .. } => PageError::internal(e),
            ImportError::Undetected { file, why } => bad("error-import-undetected")
                .with("file", file)
                .detail(why),
            ImportError::Archive { file, error } => archive(file, error),
            ImportError::Format {
                file,
                format,
                error,
            } => {
                let p = if error.line > 0 {
                    bad("error-import-format-line").with("line", error.line)
                } else {
                    bad("error-import-format")
                };
                p.with("file", file)
                    .with("format", format)
                    .detail(error.reason)
            }
            ImportError::Record { first, count } => bad("error-import-record")
                .with("file", first.file)
                .with("line", first.bad.line)
                .count("others", count.saturating_sub(1))
                .detail(first.bad.reason),
            ImportError::Collection(why) => bad("error-import-collection").detail(why),
            ImportError::Store(e) => e.into(),
        }
    }
}

/// A zip archive refused whole.
fn archive(file: String, e: ArchiveError) -> PageError {
    match e {
        ArchiveError::Malformed(why) => bad("error-zip-malformed").with("file", file).detail(why),
        ArchiveError::Path { name } => bad("error-zip-path").with("file", file).with("name", name),
        ArchiveError::Nested { name } => bad("error-zip-nested")
            .with("file", file)
            .with("name", name),
        ArchiveError::Unsupported { name, what } => bad("error-zip-unsupported")
            .with("file", file)
            .with("name", name)
            .detail(what),
        ArchiveError::TooManyEntries { max } => bad("error-zip-too-many")
            .with("file", file)
            .count("max", max),
        ArchiveError::TooLarge { max } => bad("error-zip-too-large")
            .with("file", file)
            .count("mib", max >> 20),
        ArchiveError::Ratio {
            name, max_ratio, ..
        } => bad("error-zip-ratio")
            .with("file", file)
            .with("name", name)
            .count("ratio", max_ratio),
    }
}

impl From<ExportError> for PageError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Store(e) => e.into(),
            ExportError::Archive(_) => PageError::internal(e),
        }
    }
}

impl From<CampaignError> for PageError {
    fn from(e: CampaignError) -> Self {
        use CampaignError as C;
        match e {
            C::Store(e) => e.into(),
            C::NotACampaign(id) => bad("error-not-a-campaign").with("id", id),
            C::NotFinished(id) => conflict("error-campaign-not-finished").with("id", id),
            C::Settled(id) => conflict("error-campaign-settled").with("id", id),
            C::NoneAccepted(id) => bad("error-campaign-none-accepted").with("id", id),
            C::NoFinding { index, count } => bad("error-no-finding")
                .with("index", index)
                .count("count", count),
            C::Amount => bad("error-amount-positive"),
            C::NoAssociation(name) => bad("error-no-association").with("name", name),
            C::NotAnOrganisation(name) => bad("error-not-an-organisation").with("name", name),
            C::KBelowFloor { asked, floor } => bad("error-k-below-floor")
                .count("asked", asked)
                .count("floor", floor),
            // Opening and settling campaigns is the API's: said generally, with its words.
            C::TooSoon { .. } => conflict("error-campaign-refused").detail(e),
            C::NotAScanner(_) | C::Epsilon { .. } | C::Shares { .. } => {
                bad("error-campaign-refused").detail(e)
            }
            C::Noise(_) | C::Billing(_) => PageError::internal(e),
        }
    }
}

impl From<CodesignError> for PageError {
    fn from(e: CodesignError) -> Self {
        use CodesignError as E;
        match e {
            E::Invalid(i) => i.into(),
            E::NoProposal(id) => missing("error-no-proposal").with("id", id),
            E::NotYours(id) => forbidden("error-proposal-not-yours").with("id", id),
            E::Refused(why) => why.into(),
            E::Noise(_) => PageError::internal(e),
            E::Store(e) => e.into(),
        }
    }
}

/// A co-design step refused where the proposal stands: a 409, as the API's.
impl From<Refusal> for PageError {
    fn from(e: Refusal) -> Self {
        use Refusal as R;
        match e {
            R::ContestName(name) => conflict("error-contest-name").with("name", name),
            R::NotYourStudy { study, .. } => conflict("error-not-your-study").with("study", study),
            R::Settled(id) => conflict("error-proposal-settled").with("id", id),
            R::Rejected(id) => conflict("error-proposal-rejected").with("id", id),
            R::Unchanged => conflict("error-proposal-unchanged"),
            R::OptionsVoted(id) => conflict("error-options-voted").with("id", id),
            R::NotInReview(id) => conflict("error-not-in-review").with("id", id),
            R::Stale { id, read, now } => conflict("error-review-stale")
                .with("id", id)
                .with("read", read)
                .with("now", now),
            R::NotAChoice { choice, .. } => {
                conflict("error-not-a-choice-of").with("choice", choice)
            }
            R::NoVersion { id, version } => conflict("error-no-version")
                .with("id", id)
                .with("version", version),
            R::NoCommitment { id, version } => conflict("error-no-commitment")
                .with("id", id)
                .with("version", version),
            R::ProofAltered => conflict("error-proof-altered"),
            R::ProofEntry(seq) => conflict("error-proof-entry").with("seq", seq),
            R::Chain(_) => conflict("error-chain").detail(e),
            // The store's words for a step its rules refuse.
            R::Store(why) => conflict("error-codesign-refused").detail(why),
        }
    }
}

impl From<Invalid> for PageError {
    fn from(e: Invalid) -> Self {
        match e {
            Invalid::Empty(part) => bad("error-text-empty").with("part", part.tag()),
            Invalid::TooLong { what, len, max } => bad("error-text-too-long")
                .with("part", what.tag())
                .count("len", len)
                .count("max", max),
            Invalid::TooMany { what, n, max } => bad("error-too-many-items")
                .with("part", what.tag())
                .count("n", n)
                .count("max", max),
            Invalid::Goal => bad("error-goal"),
            Invalid::Tier(name) => bad("error-tier").with("name", name),
            Invalid::DeadlinePassed => bad("error-deadline-passed"),
            Invalid::DeadlineTooFar => bad("error-deadline-too-far"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::pages::locale::{L10n, Lang, Owned};
    use insitu_core::account::{Role, Scope};
    use insitu_core::codesign::Part;
    use insitu_core::import::RecordError;
    use insitu_formats::{BadRecord, Format, FormatError, detect::Undetected};

    /// What a page and the API say for the same error (built twice: errors are not `Clone`).
    macro_rules! case {
        ($e:expr) => {
            (PageError::from($e), ApiError::from($e), stringify!($e))
        };
    }

    fn record() -> RecordError {
        RecordError {
            file: "march.csv".into(),
            bad: BadRecord {
                line: 14,
                element: None,
                field: "amount".into(),
                reason: "`12,x` is not an amount".into(),
            },
        }
    }

    /// One of every variant a page maps, and the API's errors known only by their status.
    fn cases() -> Vec<(PageError, ApiError, &'static str)> {
        use CampaignError as C;
        use StoreError as S;
        let mut cases = vec![
            case!(S::NoPerson(3)),
            case!(S::NoCollection("bank.other".into())),
            case!(S::SchemaConflict("bank.other".into())),
            case!(S::Schema(SchemaError::BadName("Bank!".into()))),
            case!(S::Schema(SchemaError::NoFields("bank.other".into()))),
            case!(S::Schema(SchemaError::DuplicateField("amount".into()))),
            case!(S::Schema(SchemaError::BadTimeField("booked".into()))),
            case!(S::NoPlugin("ab12cd".into())),
            case!(S::NoPublisher("acme".into())),
            case!(S::NoRequest(7)),
            case!(S::NoGrant(8)),
            case!(S::NoRun(9)),
            case!(S::NotRunning(9)),
            case!(S::NameTaken("acme".into())),
            case!(S::NoToken(11)),
            case!(S::NoAccount(12)),
            case!(S::NoReception(13)),
            case!(S::NoJob(14)),
            case!(S::JobClosed(14)),
            case!(S::NoInvitation { job: 14, person: 3 }),
            case!(S::Answered { job: 14, person: 3 }),
            case!(S::CheckpointTaken(5)),
            case!(S::NoProposal(15)),
            case!(S::NoPledge {
                proposal: 15,
                pledge: 2
            }),
            case!(S::Codesign("the vote on proposal 15 is closed".into())),
            case!(S::Corrupt(insitu_core::store::codec::Corrupt(
                "bad tag".into()
            ))),
            case!(S::Db("disk full".into())),
            case!(Denied::Role(Role::Developer)),
            case!(Denied::Scope(Scope::Consent)),
            case!(AccountError::BadCredentials),
            case!(AccountError::ScopeNotAllowed {
                role: Role::Person,
                scope: Scope::Admin
            }),
            case!(AccountError::BadName {
                name: "a\u{202e}b".into(),
                why: "it holds a control character".into()
            }),
            case!(AccountError::NameTaken {
                name: "Acme".into(),
                existing: "acme".into()
            }),
            case!(AccountError::WeakPassword),
            case!(AccountError::Entropy("no device".into())),
            case!(AccountError::Store(S::NoAccount(12))),
            case!(LoginError::Throttled(30)),
            case!(LoginError::Account(AccountError::BadCredentials)),
            case!(RequestError::Decided(7)),
            case!(RequestError::Widening(
                "output.audience: the output would go to the organisation".into()
            )),
            case!(RequestError::NoManifest("ab12cd".into())),
            case!(RequestError::Store(S::NoRequest(7))),
            case!(ImportError::Io {
                file: "march.csv".into(),
                reason: "gone".into()
            }),
            case!(ImportError::Undetected {
                file: "scan.pdf".into(),
                why: Undetected {
                    what: Some("a PDF document".into()),
                    rejected: vec![],
                }
            }),
            case!(ImportError::Format {
                file: "march.ofx".into(),
                format: Format::Ofx,
                error: FormatError::new(12, "no closing tag for STMTTRN"),
            }),
            case!(ImportError::Format {
                file: "march.qif".into(),
                format: Format::Qif,
                error: FormatError::new(0, "no currency: pass one"),
            }),
            case!(ImportError::Record {
                first: record(),
                count: 3
            }),
            case!(ImportError::Record {
                first: record(),
                count: 1
            }),
            case!(ImportError::Collection(
                "collection `x` is a standard collection of another shape".into()
            )),
            case!(ImportError::Store(S::NoPerson(3))),
            case!(ExportError::Store(S::NoPerson(3))),
            case!(ExportError::Archive("name too long".into())),
            case!(C::NotAScanner("ab12cd".into())),
            case!(C::KBelowFloor {
                asked: 5,
                floor: 20
            }),
            case!(C::TooSoon {
                other: 14,
                scanner: "fee-scanner".into(),
                days: 30,
                after: "2099-01-05".into()
            }),
            case!(C::Epsilon {
                asked: 2.0,
                budget: 1.0
            }),
            case!(C::NoAssociation("nobody".into())),
            case!(C::NotAnOrganisation("alice".into())),
            case!(C::NotACampaign(14)),
            case!(C::NotFinished(14)),
            case!(C::Settled(14)),
            case!(C::NoneAccepted(14)),
            case!(C::Shares {
                commission: 6000,
                association: 5000
            }),
            case!(C::NoFinding { index: 4, count: 2 }),
            case!(C::Amount),
            case!(C::Store(S::NoJob(14))),
            case!(C::Noise(insitu_core::noise::NoiseError(
                "no entropy".into()
            ))),
            case!(C::Billing(insitu_core::ledger::BillingError::Licence(
                1,
                "no price".into()
            ))),
            case!(CodesignError::NoProposal(15)),
            case!(CodesignError::NotYours(15)),
            case!(CodesignError::Refused(Refusal::ContestName("a b".into()))),
            case!(CodesignError::Refused(Refusal::NotYourStudy {
                study: 21,
                organisation: "ufc".into()
            })),
            case!(CodesignError::Refused(Refusal::Settled(15))),
            case!(CodesignError::Refused(Refusal::Rejected(15))),
            case!(CodesignError::Refused(Refusal::Unchanged)),
            case!(CodesignError::Refused(Refusal::OptionsVoted(15))),
            case!(CodesignError::Refused(Refusal::NotInReview(15))),
            case!(CodesignError::Refused(Refusal::Stale {
                id: 15,
                read: 1,
                now: 2
            })),
            case!(CodesignError::Refused(Refusal::NotAChoice {
                choice: 7,
                ballot: "proposal 15".into(),
                choices: "0 (Round), 1 (Square)".into()
            })),
            case!(CodesignError::Refused(Refusal::NoVersion {
                id: 15,
                version: 4
            })),
            case!(CodesignError::Refused(Refusal::NoCommitment {
                id: 15,
                version: 4
            })),
            case!(CodesignError::Refused(Refusal::ProofAltered)),
            case!(CodesignError::Refused(Refusal::ProofEntry(99))),
            case!(CodesignError::Refused(Refusal::Chain(
                "entry 3's hash does not match".into()
            ))),
            case!(CodesignError::Refused(Refusal::Store(
                "the vote on proposal 15 is closed".into()
            ))),
            case!(CodesignError::Noise(insitu_core::noise::NoiseError(
                "no entropy".into()
            ))),
            case!(CodesignError::Store(S::NoPledge {
                proposal: 15,
                pledge: 2
            })),
            case!(CodesignError::Invalid(Invalid::Goal)),
            case!(CodesignError::Invalid(Invalid::Tier("Early".into()))),
            case!(CodesignError::Invalid(Invalid::DeadlinePassed)),
            case!(CodesignError::Invalid(Invalid::DeadlineTooFar)),
        ];
        for part in Part::ALL {
            cases.push(case!(CodesignError::Invalid(Invalid::Empty(part))));
            cases.push(case!(CodesignError::Invalid(Invalid::TooLong {
                what: part,
                len: 300,
                max: 200
            })));
            cases.push(case!(CodesignError::Invalid(Invalid::TooMany {
                what: part,
                n: 13,
                max: 12
            })));
        }
        let archives = [
            ArchiveError::Malformed("no end of central directory".into()),
            ArchiveError::Path {
                name: "a/b.csv".into(),
            },
            ArchiveError::Nested {
                name: "inner.zip".into(),
            },
            ArchiveError::Unsupported {
                name: "scan.pdf".into(),
                what: "a PDF document".into(),
            },
            ArchiveError::TooManyEntries { max: 1000 },
            ArchiveError::TooLarge { max: 512 << 20 },
            ArchiveError::Ratio {
                name: "bomb.csv".into(),
                compressed: 1000,
                max_ratio: 100,
            },
        ];
        for error in archives {
            cases.push(case!(ImportError::Archive {
                file: "export.zip".into(),
                error: error.clone(),
            }));
        }
        // What only the API's words describe: an extractor's rejection, the rate limiter.
        for status in [
            400u16, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500,
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            let api = || ApiError::with_status(status, "Failed to deserialize query string");
            cases.push((PageError::from(api()), api(), "an ApiError"));
        }
        let limited = || crate::limit::too_many(7);
        cases.push((PageError::from(limited()), limited(), "too_many(7)"));
        cases
    }

    #[test]
    fn every_error_a_page_meets_is_said_in_both_languages_and_no_more_than_the_api_says() {
        let (fr, en) = (L10n { lang: Lang::Fr }, L10n { lang: Lang::En });
        let mut used = std::collections::BTreeSet::new();
        for (page, api, what) in cases() {
            used.insert(page.key);
            assert_eq!(page.status, api.status, "{what}: the API's status");
            // Both catalogues have the message and every argument it names.
            let said_fr = page
                .try_message(&fr)
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            let said_en = page
                .try_message(&en)
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            assert!(!said_fr.contains("{$") && !said_en.contains("{$"), "{what}");
            assert_ne!(said_fr, said_en, "{what}: French is its own sentence");
            // The French page's sentence is not the domain's English one.
            assert!(
                !said_fr.contains(&api.message),
                "{what}: the French page says the English {:?}",
                api.message
            );
            // No more than the API: each argument and the detail are in its message (what a
            // person wrote on a proposal is named by a tag, not data; "no others" is said by
            // the API's saying none).
            for (name, value) in &page.args {
                let shown = match value {
                    Owned::Text(t) => t.clone(),
                    Owned::Count(n) => n.to_string(),
                };
                if *name != "part" && *value != Owned::Count(0) {
                    assert!(
                        api.message.contains(&shown),
                        "{what}: `{name}` = {shown:?} is not in the API's {:?}",
                        api.message
                    );
                }
            }
            if let Some(detail) = &page.detail {
                assert!(api.message.contains(detail.as_str()), "{what}: {detail:?}");
            }
            if page.status.is_server_error() {
                assert!(page.args.is_empty() && page.detail.is_none(), "{what}");
            }
        }
        // Every message of the errors' catalogue is one a case above gives (so none is left
        // untested), but those of a form upload's errors and the detail's heading.
        let catalogue = include_str!("../../../locales/en/errors.ftl");
        let untested: Vec<&str> = catalogue
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
            .filter(|k| k.starts_with("error-") && !used.contains(k))
            .filter(|k| !["error-detail", "error-upload-too-large", "error-bad-upload"].contains(k))
            .collect();
        assert!(untested.is_empty(), "no case gives {untested:?}");
    }

    #[test]
    fn every_part_of_a_proposal_is_named_in_both_languages() {
        // A part the catalogue's selectors do not name would read "this text".
        for lang in [Lang::Fr, Lang::En] {
            let l = L10n { lang };
            for part in Part::ALL {
                let (key, p) = match part {
                    Part::Options | Part::Tiers | Part::Studies => (
                        "error-too-many-items",
                        PageError::from(Invalid::TooMany {
                            what: part,
                            n: 13,
                            max: 12,
                        }),
                    ),
                    _ => ("error-text-empty", PageError::from(Invalid::Empty(part))),
                };
                let mut fallback = PageError::say(StatusCode::BAD_REQUEST, key);
                fallback.args = p.args.clone();
                fallback.args[0].1 = Owned::Text("no-such-part".into());
                assert_ne!(p.message(&l), fallback.message(&l), "{part:?} in {lang:?}");
            }
        }
    }
}
