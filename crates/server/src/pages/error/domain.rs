//! What a page says for each domain error, variant by variant. The status is the API's
//! (`crate::error`, `crate::jobs`, `crate::limit`); the arguments are fields the API's message
//! shows too.

use axum::http::StatusCode;

use super::PageError;
use crate::auth::Denied;
use crate::limit::LoginError;
use insitu_core::account::AccountError;
use insitu_core::campaign::CampaignError;
use insitu_core::codesign::{CodesignError, Invalid};
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
            AccountError::BadName { ref name, .. } => {
                let name = name.clone();
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
                let mut p = PageError::say(StatusCode::TOO_MANY_REQUESTS, "error-sign-in-throttled")
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
        ArchiveError::Path { name } => bad("error-zip-path")
            .with("file", file)
            .with("name", name),
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
            E::Refused(why) => conflict("error-codesign-refused").detail(why),
            E::Noise(_) => PageError::internal(e),
            E::Store(e) => e.into(),
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
