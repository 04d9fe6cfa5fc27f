//! The JSON API under `/api`. Every handler names who may call it (roles and scope) and checks
//! that the resource is the caller's: a person's store, an organisation's requests and runs.
//! What is not the caller's answers 404, like what does not exist. No endpoint returns a
//! person's records: organisations get outputs, and only those addressed to them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{Action, Caller};
use super::error::{ApiError, ErrorBody};
use super::extract::{Bytes, Path, Query};
use super::limit::ClientAddr;
use super::paging::{PageQuery, Paged};
use insitu_core::account::{self, Role, Scope};
use insitu_core::audit::{AuditEntry, Chain};
use insitu_core::consent::Grant;
use insitu_core::import::{self, Format, ImportOptions, OnError};
use insitu_core::meter::{FailureReason, Outcome};
use insitu_core::output::Scalar;
use insitu_core::package::InstallMode;
use insitu_core::request::{self, AccessRequest, Narrowing};
use insitu_core::store::PluginRecord;
use insitu_core::view::{RunView, run_view};

/// A JSON body whose rejection is an [`ApiError`] (JSON with the code for its status).
pub use super::extract::Json as Body;

/// A numeric path id whose rejection is an [`ApiError`] (400 `bad_request`).
pub struct Id(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        raw.parse()
            .map(Id)
            .map_err(|_| ApiError::bad_request(format!("`{raw}` is not a numeric id")))
    }
}

/// Runs blocking store or compile work off the async workers: every handler that commits to
/// the store (a durable write waits for the disk), hashes a password, imports or compiles.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

// ---- accounts and tokens -------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    #[schema(example = "carol")]
    pub name: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    /// A subset of the role's scopes; all of them when absent.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    #[serde(default)]
    pub label: String,
    /// Days until it expires; never when absent.
    pub days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    /// The secret, shown this once: send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub id: u64,
    pub scopes: Vec<Scope>,
    pub expires_ms: Option<i64>,
}

/// Issues a token for a name and password.
#[utoipa::path(post, path = "/api/tokens", request_body = TokenRequest, tag = "accounts",
    responses(
        (status = 201, description = "The token; its secret is shown this once", body = IssuedToken),
        (status = 401, description = "`unauthenticated`: wrong name or password", body = ErrorBody),
        (status = 403, description = "`forbidden`: a scope the account's role does not have", body = ErrorBody),
    ))]
pub async fn issue_token(
    State(s): State<AppState>,
    ClientAddr(address): ClientAddr,
    Body(req): Body<TokenRequest>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    blocking(move || {
        let store = s.pds.store.as_ref();
        let account = s
            .limits
            .logins
            .login(store, &req.name, &req.password, address)?;
        let (secret, token) =
            account::issue_token(store, &account, &req.scopes, &req.label, req.days)?;
        Ok((
            StatusCode::CREATED,
            Json(IssuedToken {
                token: secret,
                id: token.id,
                scopes: token.scopes,
                expires_ms: token.expires_ms,
            }),
        ))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: u64,
    pub label: String,
    pub scopes: Vec<Scope>,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

impl From<account::Token> for TokenView {
    fn from(t: account::Token) -> Self {
        TokenView {
            id: t.id,
            label: t.label,
            scopes: t.scopes,
            created_ms: t.created_ms,
            expires_ms: t.expires_ms,
            revoked_ms: t.revoked_ms,
        }
    }
}

/// The caller's tokens (never their secrets), newest first, a page at a time: every sign-in
/// adds one.
#[utoipa::path(get, path = "/api/tokens", tag = "accounts", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's tokens, without their secrets, newest first", body = [TokenView],
            headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
    ))]
pub async fn list_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<TokenView>, ApiError> {
    let rows = s.pds.store.tokens_page(caller.account.id, q.page())?;
    let (rows, next) = q.take("/api/tokens", rows, |t| t.id);
    Ok(Paged {
        rows: rows.into_iter().map(TokenView::from).collect(),
        next,
    })
}

/// Revokes one of the caller's tokens: itself, or another whose scopes it all has.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "accounts", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The token, revoked", body = TokenView),
        (status = 403, description = "`forbidden`: another token with a scope this one lacks", body = ErrorBody),
        (status = 404, description = "`not_found`: no such token, or not the caller's", body = ErrorBody),
    ))]
pub async fn revoke_token(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<TokenView>, ApiError> {
    blocking(move || {
        let tokens = s.pds.store.tokens(caller.account.id)?;
        let Some(target) = tokens.iter().find(|t| t.id == id) else {
            return Err(ApiError::not_found(format!("no token {id}")));
        };
        // A token revokes itself, or one that can do no more than it can: a read-only token
        // cannot sign out the account's full-scope one.
        let covered = target
            .scopes
            .iter()
            .all(|s| caller.token.scopes.contains(s));
        if target.id != caller.token.id && !covered {
            return Err(ApiError::forbidden(format!(
                "token {id} has scopes this token lacks; revoke it with a token that has them all"
            )));
        }
        Ok(Json(s.pds.store.revoke_token(id, s.now_ms())?.into()))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct AccountView {
    pub id: u64,
    pub name: String,
    pub role: Role,
    pub person: Option<u64>,
    pub created_ms: i64,
}

impl From<account::Account> for AccountView {
    fn from(a: account::Account) -> Self {
        AccountView {
            id: a.id,
            name: a.name,
            role: a.role,
            person: a.person,
            created_ms: a.created_ms,
        }
    }
}

/// The caller's account.
#[utoipa::path(get, path = "/api/me", tag = "accounts", security(("token" = [])),
    responses(
        (status = 200, description = "The caller's account", body = AccountView),
    ))]
pub async fn me(caller: Caller) -> Json<AccountView> {
    Json(caller.account.into())
}

#[derive(Deserialize, ToSchema)]
pub struct NewAccount {
    #[schema(example = "carol")]
    pub name: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    pub role: Role,
}

/// Creates an account (operator). A person account gets its own store.
#[utoipa::path(post, path = "/api/accounts", tag = "accounts", security(("token" = [])),
    request_body = NewAccount,
    responses(
        (status = 201, description = "The new account", body = AccountView),
        (status = 400, description = "`bad_request`: a password too weak", body = ErrorBody),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 409, description = "`conflict`: the name is taken", body = ErrorBody),
    ))]
pub async fn create_account(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<NewAccount>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    caller.may(Action::CreateAccount)?;
    blocking(move || {
        let a = account::create(s.pds.store.as_ref(), &req.name, &req.password, req.role)?;
        Ok((StatusCode::CREATED, Json(a.into())))
    })
    .await
}

/// Everything of the caller's as one archive (tar of JSON Lines and CSV; see `rights.rs`).
#[utoipa::path(get, path = "/api/me/export", tag = "rights", security(("token" = [])),
    responses(
        (status = 200, description = "The archive (ustar)", content_type = "application/x-tar", body = crate::openapi::File),
        (status = 403, description = "`forbidden`: not a person's token with the `read` scope", body = ErrorBody),
    ))]
pub async fn export(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    caller.may(Action::Export)?;
    let person = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    let archive = blocking(move || {
        Ok(insitu_core::rights::export(
            s.pds.store.as_ref(),
            person,
            s.now_ms(),
        )?)
    })
    .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/x-tar"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"insitu-export.tar\"",
            ),
        ],
        archive,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct Erase {
    /// The account's password, again: erasure cannot be undone.
    pub password: String,
}

/// Erases the caller's account and store: records, runs and outputs deleted, grants revoked,
/// the audit log keeps a tombstone with counts only.
#[utoipa::path(delete, path = "/api/me", tag = "rights", security(("token" = [])),
    request_body = Erase,
    responses(
        (status = 200, description = "What the erasure removed (counts only)", body = insitu_core::store::Erasure),
        (status = 401, description = "`unauthenticated`: the wrong password", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a person's token with the `consent` scope", body = ErrorBody),
    ))]
pub async fn erase(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<Erase>,
) -> Result<Json<insitu_core::store::Erasure>, ApiError> {
    caller.may(Action::Erase)?;
    let person = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    blocking(move || {
        let store = s.pds.store.as_ref();
        account::login(store, &caller.account.name, &req.password)?;
        Ok(Json(store.erase_person(person, s.now_ms())?))
    })
    .await
}

// ---- data ----------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct CollectionView {
    pub name: String,
    /// `name: type` per field, `?` for optional.
    pub fields: Vec<String>,
    pub time_field: Option<String>,
    /// The caller's own records, for a person.
    pub records: Option<u64>,
}

/// The collections, with the caller's record counts for a person.
#[utoipa::path(get, path = "/api/collections", tag = "data", security(("token" = [])),
    responses(
        (status = 200, description = "The collections", body = [CollectionView]),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
    ))]
pub async fn collections(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<CollectionView>>, ApiError> {
    caller.may(Action::Read)?;
    let store = &s.pds.store;
    let mut out = Vec::new();
    for c in store.collections()? {
        let records = match caller.person() {
            Some(p) => Some(store.count(p, &c.name)?),
            None => None,
        };
        out.push(CollectionView {
            fields: c
                .fields
                .iter()
                .map(|f| {
                    let q = if f.optional { "?" } else { "" };
                    format!("{}: {}{q}", f.name, f.ty.name())
                })
                .collect(),
            time_field: c.time_field.clone(),
            name: c.name,
            records,
        });
    }
    Ok(Json(out))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The file's name, for messages and the audit log.
    pub name: Option<String>,
    /// Detected from the content when absent.
    pub format: Option<String>,
    /// Target of a CSV or JSON Lines file.
    pub collection: Option<String>,
    pub currency: Option<String>,
    pub account: Option<String>,
    /// Import the good records and report the bad ones, instead of refusing the file.
    #[serde(default)]
    pub skip_bad: bool,
    /// A statement whose balances do not add up (CAMT, CFONB 120): `refuse` the file (the
    /// default), or `import` its movements without running balances, with a note.
    pub unbalanced: Option<String>,
}

/// What an import did; for a zip archive, the sums over its files (`format` is `zip`,
/// `collection` lists theirs), each file in `files`.
#[derive(Serialize, ToSchema)]
pub struct ImportView {
    pub format: String,
    pub collection: String,
    pub read: u64,
    pub added: u64,
    /// Records already present (same id, same content), not written again.
    pub duplicates: u64,
    /// Their lines, as ranges: `3-7, 9` (for an archive, each file's: `a.xml: 3-7; b.xml: 2`).
    pub duplicate_lines: String,
    /// Records added although the store held their natural key with other content (each
    /// named in `notes`).
    pub clashes: u64,
    /// Each skipped record: `file:line: field: reason`.
    pub skipped: Vec<String>,
    /// What else the person should know, entries left out (pending ones) included, by line;
    /// for an archive, each note starts with its file.
    pub notes: Vec<String>,
    /// Each file imported: the upload, or each file of a zip archive (`archive.zip:entry`).
    pub files: Vec<ImportedFileView>,
}

/// One file of an import.
#[derive(Serialize, ToSchema)]
pub struct ImportedFileView {
    pub file: String,
    pub format: String,
    pub collection: String,
    pub read: u64,
    pub added: u64,
    pub duplicates: u64,
    /// Lines of the records already present, as ranges: `3-7, 9`.
    pub duplicate_lines: String,
    /// Records added under a natural key the store held with other content.
    pub clashes: u64,
}

/// Imports an upload into `person`'s store, off the async workers.
async fn import_into(
    s: &AppState,
    person: u64,
    name: String,
    body: Bytes,
    opts: ImportOptions,
) -> Result<(StatusCode, Json<ImportView>), ApiError> {
    let store = s.pds.store.clone();
    blocking(move || {
        let archive = insitu_formats::zip::is_zip(&body);
        let r = import::import_all(store.as_ref(), person, &name, &body, &opts, &mut |_, _| {})?;
        Ok((StatusCode::CREATED, Json(import_view(archive, r))))
    })
    .await
}

fn import_view(archive: bool, files: Vec<import::Imported>) -> ImportView {
    let mut view = ImportView {
        format: if archive { "zip".into() } else { String::new() },
        collection: String::new(),
        read: 0,
        added: 0,
        duplicates: 0,
        duplicate_lines: String::new(),
        clashes: 0,
        skipped: Vec::new(),
        notes: Vec::new(),
        files: Vec::new(),
    };
    let mut collections: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for import::Imported { file, report: r } in files {
        if !archive {
            view.format = r.format.to_string();
        }
        if !collections.contains(&r.collection) {
            collections.push(r.collection.clone());
        }
        let duplicate_lines = import::line_ranges(&r.duplicate_lines);
        if !duplicate_lines.is_empty() {
            lines.push(match archive {
                true => format!("{file}: {duplicate_lines}"),
                false => duplicate_lines.clone(),
            });
        }
        view.read += r.read;
        view.added += r.added;
        view.duplicates += r.duplicates;
        view.clashes += r.clashes;
        view.skipped
            .extend(r.skipped.iter().map(ToString::to_string));
        view.notes.extend(r.all_notes().map(|n| match archive {
            true => format!("{file}: {n}"),
            false => n.to_string(),
        }));
        view.files.push(ImportedFileView {
            file,
            format: r.format.to_string(),
            collection: r.collection,
            read: r.read,
            added: r.added,
            duplicates: r.duplicates,
            duplicate_lines,
            clashes: r.clashes,
        });
    }
    view.collection = collections.join(", ");
    view.duplicate_lines = lines.join("; ");
    view
}

/// Imports an uploaded file into the caller's store (the body is the file).
#[utoipa::path(post, path = "/api/imports", tag = "data", security(("token" = [])),
    params(ImportQuery), request_body(content = crate::openapi::File, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "What the import read, added and skipped", body = ImportView),
        (status = 400, description = "`bad_request`: a format or a file the importer refuses", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a person's token with the `import` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such collection", body = ErrorBody),
        (status = 409, description = "`conflict`: the file does not fit the collection's schema", body = ErrorBody),
    ))]
pub async fn import(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<ImportView>), ApiError> {
    caller.may(Action::Import)?;
    let person = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    let opts = ImportOptions {
        format: q
            .format
            .as_deref()
            .map(Format::from_name)
            .transpose()
            .map_err(ApiError::bad_request)?,
        collection: q.collection,
        currency: q.currency,
        account: q.account,
        on_error: if q.skip_bad {
            OnError::Skip
        } else {
            OnError::Reject
        },
        unbalanced: q
            .unbalanced
            .as_deref()
            .map(import::Unbalanced::from_name)
            .transpose()
            .map_err(ApiError::bad_request)?
            .unwrap_or_default(),
        ..Default::default()
    };
    let name = q.name.unwrap_or_else(|| "upload".into());
    import_into(&s, person, name, body, opts).await
}

// ---- packages ------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct PackageView {
    pub digest: String,
    pub name: String,
    pub version: String,
    pub publisher: Option<String>,
    /// The manifest in plain words: what it reads and why, what it returns to whom, its price.
    pub description: String,
}

impl From<PluginRecord> for PackageView {
    fn from(p: PluginRecord) -> Self {
        let (name, version, description) = match &p.manifest {
            Some(m) => (m.id.clone(), m.version.clone(), m.describe()),
            None => (p.name.clone(), String::new(), String::new()),
        };
        PackageView {
            digest: p.digest,
            name,
            version,
            publisher: p.publisher,
            description,
        }
    }
}

/// The installed packages.
#[utoipa::path(get, path = "/api/packages", tag = "packages", security(("token" = [])),
    responses(
        (status = 200, description = "The installed packages", body = [PackageView]),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
    ))]
pub async fn packages(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PackageView>>, ApiError> {
    caller.may(Action::Read)?;
    Ok(Json(
        s.pds
            .store
            .plugins()?
            .into_iter()
            .map(PackageView::from)
            .collect(),
    ))
}

/// One package, its manifest in plain words.
#[utoipa::path(get, path = "/api/packages/{digest}", tag = "packages", security(("token" = [])),
    params(("digest" = String, Path, description = "the digest or a unique prefix of it")),
    responses(
        (status = 200, description = "The package", body = PackageView),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no package with this digest or prefix", body = ErrorBody),
    ))]
pub async fn package(
    State(s): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> Result<Json<PackageView>, ApiError> {
    caller.may(Action::Read)?;
    let digest = s
        .pds
        .find_plugin(&digest)
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    Ok(Json(s.pds.store.plugin(&digest)?.into()))
}

/// Publishes a signed package (developer). Its publisher must be trusted by the operator.
#[utoipa::path(post, path = "/api/packages", tag = "packages", security(("token" = [])),
    request_body(content = crate::openapi::File, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "The published package", body = PackageView),
        (status = 400, description = "`bad_request`: not a valid package, or a signature or publisher not trusted", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a developer's token with the `publish` scope", body = ErrorBody),
        (status = 409, description = "`conflict`: the package is already published", body = ErrorBody),
    ))]
pub async fn publish(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<PackageView>), ApiError> {
    caller.may(Action::Publish)?;
    blocking(move || {
        let p = insitu_core::package::install(
            s.pds.store.as_ref(),
            s.pds.runner.sandbox(),
            &body,
            InstallMode::Verified,
        )?;
        Ok((StatusCode::CREATED, Json(p.into())))
    })
    .await
}

// ---- requests and grants -------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct NewRequest {
    pub person: u64,
    /// The plugin's digest, a unique prefix of it, or its name.
    pub plugin: String,
    pub purpose: String,
    pub days: u32,
}

#[derive(Serialize, ToSchema)]
pub struct RequestView {
    pub id: u64,
    pub requester: String,
    pub person: u64,
    pub plugin_digest: String,
    pub purpose: String,
    pub days: u32,
    /// `pending`, `approved` or `denied`.
    pub status: String,
    pub grant: Option<u64>,
    /// The consent screen: who asks, which data and why, for how long, what comes out to
    /// whom, who pays what.
    pub consent_screen: String,
}

fn request_view(s: &AppState, r: AccessRequest) -> RequestView {
    let plugin = s.pds.store.plugin(&r.plugin_digest).ok();
    let consent_screen = request::consent_screen(&r, plugin.as_ref());
    let (status, grant) = match r.status {
        request::Status::Pending => ("pending", None),
        request::Status::Approved { grant, .. } => ("approved", Some(grant)),
        request::Status::Denied { .. } => ("denied", None),
    };
    RequestView {
        id: r.id,
        requester: r.requester,
        person: r.person,
        plugin_digest: r.plugin_digest,
        purpose: r.purpose,
        days: r.days,
        status: status.into(),
        grant,
        consent_screen,
    }
}

/// Asks a person for the data a plugin's manifest names (organisation). A person id that
/// does not exist is answered the same way, and the request goes nowhere; requests are
/// rate-limited per organisation.
#[utoipa::path(post, path = "/api/requests", tag = "consent", security(("token" = [])),
    request_body = NewRequest,
    responses(
        (status = 201, description = "The request, with its consent screen", body = RequestView),
        (status = 400, description = "`bad_request`: a plugin without a manifest", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an organisation's token with the `request` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such person or plugin", body = ErrorBody),
    ))]
pub async fn ask(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<NewRequest>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    caller.may(Action::Ask)?;
    s.limits
        .asks
        .take(&caller.account.name)
        .map_err(super::limit::too_many)?;
    let digest = s
        .pds
        .find_plugin(&req.plugin)
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    blocking(move || {
        let plugin = s.pds.store.plugin(&digest)?;
        let r = request::ask(
            s.pds.store.as_ref(),
            &caller.account.name,
            req.person,
            &plugin,
            &req.purpose,
            req.days,
        )?;
        Ok((StatusCode::CREATED, Json(request_view(&s, r))))
    })
    .await
}

/// The caller's requests, newest first, a page at a time: those asking them (person) or those
/// they made (organisation).
#[utoipa::path(get, path = "/api/requests", tag = "consent", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's requests, newest first", body = [RequestView], headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
    ))]
pub async fn requests(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<RequestView>, ApiError> {
    caller.may(Action::ReadConsent)?;
    let rows = match caller.owner() {
        Some(owner) => s.pds.store.requests_page(&owner, q.page())?,
        None => Vec::new(),
    };
    let (rows, next) = q.take("/api/requests", rows, |r| r.id);
    Ok(Paged {
        rows: rows
            .into_iter()
            .filter(|r| caller.sees_request(r))
            .map(|r| request_view(&s, r))
            .collect(),
        next,
    })
}

/// One request, with its consent screen.
#[utoipa::path(get, path = "/api/requests/{id}", tag = "consent", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The request, with its consent screen", body = RequestView),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such request, or not the caller's", body = ErrorBody),
    ))]
pub async fn request_one(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<RequestView>, ApiError> {
    caller.may(Action::ReadConsent)?;
    let r = caller.request(&s, id)?;
    Ok(Json(request_view(&s, r)))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct Approval {
    /// Fields kept, per collection; a collection left out is not granted. All asked when absent.
    pub keep: Option<BTreeMap<String, Vec<String>>>,
    /// Months of history kept (at most what was asked).
    pub months: Option<u32>,
    /// Days the grant lasts (at most what was asked).
    pub days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct GrantView {
    pub id: u64,
    pub person: u64,
    pub plugin_digest: String,
    /// `collection: field, field`.
    pub scope: Vec<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub requester: Option<String>,
    pub purpose: Option<String>,
}

impl From<Grant> for GrantView {
    fn from(g: Grant) -> Self {
        GrantView {
            scope: g
                .collections
                .iter()
                .map(|c| format!("{}: {}", c.name, c.fields.join(", ")))
                .collect(),
            id: g.id,
            person: g.person,
            since_ms: g.window.since,
            until_ms: g.window.until,
            created_ms: g.created_ms,
            expires_ms: g.expires_ms,
            revoked_ms: g.revoked_ms,
            requester: g.origin.as_ref().map(|o| o.requester.clone()),
            purpose: g.origin.as_ref().map(|o| o.purpose.clone()),
            plugin_digest: g.plugin_digest,
        }
    }
}

/// Approves a request asking the caller, possibly narrowed (fewer fields, months or days).
#[utoipa::path(post, path = "/api/requests/{id}/approve", tag = "consent", security(("token" = [])),
    params(("id" = u64, Path)), request_body = Approval,
    responses(
        (status = 201, description = "The grant", body = GrantView),
        (status = 400, description = "`bad_request`: a narrowing that widens the request", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a person's token with the `consent` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such request, or not the caller's", body = ErrorBody),
        (status = 409, description = "`conflict`: the request is already decided", body = ErrorBody),
    ))]
pub async fn approve(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(a): Body<Approval>,
) -> Result<(StatusCode, Json<GrantView>), ApiError> {
    caller.may(Action::Decide)?;
    caller.asked_request(&s, id)?;
    let narrow = Narrowing {
        fields: a.keep.map(|k| k.into_iter().collect()),
        months: a.months,
        days: a.days,
    };
    blocking(move || {
        let g = request::approve(s.pds.store.as_ref(), id, &narrow)?;
        Ok((StatusCode::CREATED, Json(g.into())))
    })
    .await
}

/// Denies a request asking the caller.
#[utoipa::path(post, path = "/api/requests/{id}/deny", tag = "consent", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The request, denied", body = RequestView),
        (status = 403, description = "`forbidden`: not a person's token with the `consent` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such request, or not the caller's", body = ErrorBody),
        (status = 409, description = "`conflict`: the request is already decided", body = ErrorBody),
    ))]
pub async fn deny(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<RequestView>, ApiError> {
    caller.may(Action::Decide)?;
    caller.asked_request(&s, id)?;
    blocking(move || {
        let r = request::deny(s.pds.store.as_ref(), id)?;
        Ok(Json(request_view(&s, r)))
    })
    .await
}

/// The caller's grants, newest first, a page at a time: those they gave (person) or obtained
/// (organisation).
#[utoipa::path(get, path = "/api/grants", tag = "consent", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's grants, newest first", body = [GrantView], headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
    ))]
pub async fn grants(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<GrantView>, ApiError> {
    caller.may(Action::ReadConsent)?;
    let rows = match caller.owner() {
        Some(owner) => s.pds.store.grants_page(&owner, q.page())?,
        None => Vec::new(),
    };
    let (rows, next) = q.take("/api/grants", rows, |g| g.id);
    Ok(Paged {
        rows: rows
            .into_iter()
            .filter(|g| caller.sees_grant(g))
            .map(GrantView::from)
            .collect(),
        next,
    })
}

#[derive(Serialize, ToSchema)]
pub struct GrantCheck {
    #[serde(flatten)]
    pub grant: GrantView,
    /// Whether a run may start under it now (not revoked, not expired).
    pub live: bool,
    /// Why not, when it may not.
    pub reason: Option<String>,
}

/// One grant, and whether a run may start under it now.
#[utoipa::path(get, path = "/api/grants/{id}", tag = "consent", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The grant, and whether a run may start under it", body = GrantCheck),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such grant, or not the caller's", body = ErrorBody),
    ))]
pub async fn grant_one(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<GrantCheck>, ApiError> {
    caller.may(Action::ReadConsent)?;
    let g = caller.grant(&s, id)?;
    let check = g.check_live(s.now_ms());
    Ok(Json(GrantCheck {
        live: check.is_ok(),
        reason: check.err().map(|e| e.to_string()),
        grant: g.into(),
    }))
}

/// Revokes a grant the caller gave. A run in progress stops at its next batch.
#[utoipa::path(post, path = "/api/grants/{id}/revoke", tag = "consent", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The grant, revoked", body = GrantView),
        (status = 403, description = "`forbidden`: not a person's token with the `consent` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such grant, or not the caller's", body = ErrorBody),
    ))]
pub async fn revoke_grant(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<GrantView>, ApiError> {
    caller.may(Action::Decide)?;
    caller.given_grant(&s, id)?;
    blocking(move || Ok(Json(s.pds.store.revoke_grant(id, s.now_ms())?.into()))).await
}

// ---- runs ----------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct NewRun {
    pub grant: u64,
    /// Parameters: integers, `12.34 EUR` amounts, booleans or text.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// Runs the plugin of a grant: the person's own run, answered when it is done (201, with how
/// it went); or an organisation's run under a grant it obtained, answered as soon as it is
/// admitted (202), with what the organisation may ever see of it: its id, start, declared
/// limits, price and release time (`release_ms`), from when `GET /api/runs/{id}/output`
/// answers if the contract addresses the output to the organisation. Neither the answer nor
/// its timing depends on the person's data.
#[utoipa::path(post, path = "/api/runs", tag = "runs", security(("token" = [])),
    request_body = NewRun,
    responses(
        (status = 201, description = "The person's run, done", body = RunView),
        (status = 202, description = "The organisation's run, admitted", body = RunView),
        (status = 403, description = "`forbidden`: the role, the scope, or no live grant for this code and organisation", body = ErrorBody),
        (status = 404, description = "`not_found`: no such grant, or not the caller's", body = ErrorBody),
        (status = 409, description = "`conflict`: the run was refused at admission", body = ErrorBody),
    ))]
pub async fn start_run(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<NewRun>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    caller.may(Action::Run)?;
    let g = caller.grant(&s, req.grant)?;
    let viewer = caller.viewer().ok_or_else(ApiError::unauthenticated)?;
    let (status, r) = match caller.person() {
        Some(_) => (
            StatusCode::CREATED,
            s.run_grant(&g, params(&req.params))
                .await
                .map_err(ApiError::internal)?,
        ),
        None => (
            StatusCode::ACCEPTED,
            s.start_for(&g, params(&req.params), &caller.account.name)
                .await
                .map_err(ApiError::internal)?,
        ),
    };
    // A run refused at admission (no live grant for this code and organisation, a campaign
    // grant, no manifest) read nothing: its reason depends on the grant and the code only, so
    // the caller is told.
    if let (None, Outcome::Failed { reason, message }) = (&r.price, &r.outcome) {
        return Err(match reason {
            FailureReason::Grant => ApiError::forbidden(message.clone()),
            _ => ApiError::conflict(message.clone()),
        });
    }
    let view = run_view(&r, &viewer)
        .ok_or_else(|| ApiError::internal("a started run is not visible to its starter"))?;
    Ok((status, Json(view)))
}

/// Run parameters from JSON: strings are parsed like the command line's (`12.34 EUR` is
/// money), booleans stay booleans, numbers become integers (or text).
pub fn params(p: &BTreeMap<String, serde_json::Value>) -> Vec<(String, Scalar)> {
    p.iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => Scalar::parse(s),
                serde_json::Value::Bool(b) => Scalar::Boolean(*b),
                other => Scalar::parse(&other.to_string()),
            };
            (k.clone(), v)
        })
        .collect()
}

/// The caller's runs, newest first, a page at a time: the runs on their data (person, with how
/// each went), the runs an organisation started outside a campaign or study (without how they
/// went: that is the person's).
#[utoipa::path(get, path = "/api/runs", tag = "runs", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the caller's runs, newest first", body = [RunView], headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
    ))]
pub async fn runs(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<RunView>, ApiError> {
    caller.may(Action::ReadRuns)?;
    let viewer = caller.viewer().ok_or_else(ApiError::unauthenticated)?;
    let owner = caller.owner().ok_or_else(ApiError::unauthenticated)?;
    let rows = s.pds.store.runs_page(&owner, q.page())?;
    let (rows, next) = q.take("/api/runs", rows, |r| r.id);
    Ok(Paged {
        rows: rows.iter().filter_map(|r| run_view(r, &viewer)).collect(),
        next,
    })
}

/// One run: with how it went for the person whose data it read; without, for the organisation
/// that started it.
#[utoipa::path(get, path = "/api/runs/{id}", tag = "runs", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The run, as the caller may see it", body = RunView),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such run, or not the caller's", body = ErrorBody),
    ))]
pub async fn run_one(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<RunView>, ApiError> {
    caller.may(Action::ReadRuns)?;
    let viewer = caller.viewer().ok_or_else(ApiError::unauthenticated)?;
    let r = caller.run(&s, id)?;
    run_view(&r, &viewer)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no run {id}")))
}

/// A run's output, for its audience only (the contract's); anyone else gets 404.
#[utoipa::path(get, path = "/api/runs/{id}/output", tag = "runs", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The run's output", body = insitu_core::output::PluginOutput),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no such run, or no output for the caller", body = ErrorBody),
    ))]
pub async fn run_output(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.may(Action::ReadRuns)?;
    let viewer = caller
        .viewer()
        .ok_or_else(|| ApiError::not_found(format!("run {id} has no output for you")))?;
    match insitu_core::contract::output_for(s.pds.store.as_ref(), id, &viewer) {
        Ok(out) => serde_json::to_value(out)
            .map(Json)
            .map_err(ApiError::internal),
        Err(insitu_core::contract::ReadError::NotYours(_)) => Err(ApiError::not_found(format!(
            "run {id} has no output for you"
        ))),
        Err(insitu_core::contract::ReadError::Store(e)) => Err(e.into()),
    }
}

// ---- restitution --------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct NewReception {
    /// The organisation's account name.
    pub organisation: String,
    pub collection: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReceptionView {
    pub id: u64,
    pub person: u64,
    pub organisation: String,
    pub collection: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

impl From<insitu_core::store::Reception> for ReceptionView {
    fn from(r: insitu_core::store::Reception) -> Self {
        ReceptionView {
            id: r.id,
            person: r.person,
            organisation: r.organisation,
            collection: r.collection,
            created_ms: r.created_ms,
            revoked_ms: r.revoked_ms,
        }
    }
}

/// Agrees to receive, into one collection, data an organisation holds about the caller.
#[utoipa::path(post, path = "/api/receptions", tag = "restitution", security(("token" = [])),
    request_body = NewReception,
    responses(
        (status = 201, description = "The agreement", body = ReceptionView),
        (status = 400, description = "`bad_request`: no organisation of that name", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a person's token with the `consent` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such collection", body = ErrorBody),
    ))]
pub async fn accept_returns(
    State(s): State<AppState>,
    caller: Caller,
    Body(req): Body<NewReception>,
) -> Result<(StatusCode, Json<ReceptionView>), ApiError> {
    caller.may(Action::Decide)?;
    let person = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    blocking(move || {
        let store = s.pds.store.as_ref();
        // Any spelling finds the account; the reception keeps its stored name, the one
        // `return_data` compares with.
        let organisation = match store.account_by_name(&req.organisation)? {
            Some(a) if a.role == Role::Organisation => a.name,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "no organisation named `{}`",
                    req.organisation
                )));
            }
        };
        store.collection(&req.collection)?;
        let r = store.add_reception(insitu_core::store::Reception {
            id: 0,
            person,
            organisation,
            collection: req.collection,
            created_ms: s.now_ms(),
            revoked_ms: None,
        })?;
        Ok((StatusCode::CREATED, Json(r.into())))
    })
    .await
}

/// The agreements to receive data, newest first, a page at a time: a person's own, or those
/// naming the calling organisation.
#[utoipa::path(get, path = "/api/receptions", tag = "restitution", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of the agreements, newest first", body = [ReceptionView], headers(("Link" = String, description = "`<path?after=N&limit=M>; rel=\"next\"`: the next page, when there is one"))),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
    ))]
pub async fn receptions(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Paged<ReceptionView>, ApiError> {
    caller.may(Action::ReadReceptions)?;
    let rows = match caller.owner() {
        Some(owner) => s.pds.store.receptions_page(&owner, q.page())?,
        None => Vec::new(),
    };
    let (rows, next) = q.take("/api/receptions", rows, |r| r.id);
    Ok(Paged {
        rows: rows
            .into_iter()
            .filter(|r| {
                caller.person() == Some(r.person) || caller.is_requester(Some(&r.organisation))
            })
            .map(ReceptionView::from)
            .collect(),
        next,
    })
}

/// Withdraws an agreement to receive data.
#[utoipa::path(post, path = "/api/receptions/{id}/revoke", tag = "restitution", security(("token" = [])),
    params(("id" = u64, Path)),
    responses(
        (status = 200, description = "The agreement, withdrawn", body = ReceptionView),
        (status = 403, description = "`forbidden`: not a person's token with the `consent` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: no such agreement, or not the caller's", body = ErrorBody),
    ))]
pub async fn revoke_reception(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<ReceptionView>, ApiError> {
    caller.may(Action::Decide)?;
    let owned = s
        .pds
        .store
        .receptions(caller.person())?
        .iter()
        .any(|r| r.id == id && caller.person() == Some(r.person));
    if !owned {
        return Err(ApiError::not_found(format!("no reception {id}")));
    }
    blocking(move || Ok(Json(s.pds.store.revoke_reception(id, s.now_ms())?.into()))).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReturnQuery {
    pub person: u64,
    pub collection: String,
    /// Detected from the content when absent (JSON Lines, CSV, a statement...).
    pub format: Option<String>,
}

/// Returns data the calling organisation holds about a person into their store: only into a
/// collection they agreed to receive from it; a repeated push adds nothing.
#[utoipa::path(post, path = "/api/returns", tag = "restitution", security(("token" = [])),
    params(ReturnQuery), request_body(content = crate::openapi::File, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "What was read from the file and what its parser refused: the same whatever the person's store held", body = ReturnView),
        (status = 400, description = "`bad_request`: a format or a file the importer refuses", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an organisation's token with the `request` scope", body = ErrorBody),
        (status = 404, description = "`not_found`: the person has not agreed to receive this collection from the caller (or does not exist)", body = ErrorBody),
        (status = 409, description = "`conflict`: the file does not fit the collection's schema", body = ErrorBody),
    ))]
pub async fn return_data(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ReturnQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<ReturnView>), ApiError> {
    caller.may(Action::Ask)?;
    let org = caller.account.name.clone();
    let agreed =
        s.pds.store.receptions(Some(q.person))?.iter().any(|r| {
            r.revoked_ms.is_none() && r.organisation == org && r.collection == q.collection
        });
    if !agreed {
        // The same answer whether the person exists or not.
        return Err(ApiError::not_found(format!(
            "person {} has not agreed to receive {} from {org}",
            q.person, q.collection
        )));
    }
    let opts = ImportOptions {
        format: q
            .format
            .as_deref()
            .map(Format::from_name)
            .transpose()
            .map_err(ApiError::bad_request)?,
        collection: Some(q.collection),
        returned_by: Some(org.clone()),
        ..Default::default()
    };
    let store = s.pds.store.clone();
    let name = format!("returned by {org}");
    blocking(move || {
        let files = import::import_all(
            store.as_ref(),
            q.person,
            &name,
            &body,
            &opts,
            &mut |_, _| {},
        )?;
        Ok((StatusCode::CREATED, Json(ReturnView::of(files))))
    })
    .await
}

/// What an organisation learns of its return: only what its own file determines. What was
/// added, already there or clashing depends on what the person's store held, and so reaches
/// only the person (noninterference: the returning organisation is not the store's audience).
#[derive(Serialize, ToSchema)]
pub struct ReturnView {
    pub format: String,
    pub collection: String,
    /// Records read from the file (or from each file of a zip archive).
    pub read: u64,
    /// Records the parser refused: `file:line: field: reason`.
    pub skipped: Vec<String>,
    /// The parser's notes on the file (pending entries left out, say).
    pub notes: Vec<String>,
}

impl ReturnView {
    fn of(files: Vec<import::Imported>) -> ReturnView {
        let mut collections: Vec<String> = Vec::new();
        let mut formats: Vec<String> = Vec::new();
        let mut view = ReturnView {
            format: String::new(),
            collection: String::new(),
            read: 0,
            skipped: Vec::new(),
            notes: Vec::new(),
        };
        for import::Imported { report: r, .. } in files {
            for (list, v) in [
                (&mut formats, r.format.to_string()),
                (&mut collections, r.collection.clone()),
            ] {
                if !list.contains(&v) {
                    list.push(v);
                }
            }
            view.read += r.read;
            view.skipped
                .extend(r.skipped.iter().map(ToString::to_string));
            view.notes.extend(r.notes.iter().map(ToString::to_string));
        }
        view.format = formats.join(", ");
        view.collection = collections.join(", ");
        view
    }
}

// ---- audit ---------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub seq: u64,
    pub at_ms: i64,
    /// In plain words.
    pub event: String,
}

impl AuditView {
    fn of(store: &dyn insitu_core::store::Store, e: &AuditEntry) -> Self {
        AuditView {
            seq: e.seq,
            at_ms: e.at_ms,
            event: insitu_core::audit::describe_in(store, &e.event),
        }
    }
}

/// Which chain an audit request reads, and where.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The person whose chain to read: a person reads only their own (the default); the
    /// operator any, or the operator's chain when absent.
    pub person: Option<u64>,
    /// `/api/audit`: entries before this seq (the cursor: the last seq of the previous page).
    pub before: Option<u64>,
    /// `/api/audit/chain`: entries after this seq (the cursor: `next` of the previous page).
    pub after: Option<u64>,
    /// At most this many entries (default and most: 500).
    pub limit: Option<usize>,
}

/// Most entries in one page of the audit.
const AUDIT_PAGE: usize = 500;

/// The chain `q` names for `caller`: a person's own chain (another person's is not found),
/// or for the operator the person's named or the operator's.
fn audit_chain_of(caller: &Caller, q: &AuditQuery) -> Result<Chain, ApiError> {
    if caller.account.role == Role::Operator {
        return Ok(q.person.map_or(Chain::Operator, Chain::Person));
    }
    let own = caller
        .person()
        .ok_or_else(|| ApiError::forbidden("no store"))?;
    match q.person {
        Some(p) if p != own => Err(ApiError::not_found(format!("no audit chain {p}"))),
        _ => Ok(Chain::Person(own)),
    }
}

/// The audit log: a page of the caller's own chain, newest first (the operator's chain, or a
/// person's with `person`, for the operator). The next page: `before` the last seq shown.
#[utoipa::path(get, path = "/api/audit", tag = "audit", security(("token" = [])), params(AuditQuery),
    responses(
        (status = 200, description = "The audit entries, newest first", body = [AuditView]),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: another person's chain", body = ErrorBody),
    ))]
pub async fn audit(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    caller.may(Action::Audit)?;
    let chain = audit_chain_of(&caller, &q)?;
    let store = s.pds.store.as_ref();
    let limit = q.limit.unwrap_or(AUDIT_PAGE).clamp(1, AUDIT_PAGE) as u64;
    let end = match q.before {
        Some(b) => b,
        None => store.audit_head(chain)?.map_or(0, |h| h.seq + 1),
    };
    let start = end.saturating_sub(limit);
    let page = store.audit_chain(chain, start.checked_sub(1), (end - start) as usize)?;
    Ok(Json(
        page.iter().rev().map(|e| AuditView::of(store, e)).collect(),
    ))
}

/// One page of an audit chain, as stored: each entry with its hashes, to verify.
#[derive(Serialize, ToSchema)]
pub struct ChainPage {
    pub chain: Chain,
    /// The hash the chain starts from (the legacy chain's last, or all zeros).
    pub origin: String,
    /// Oldest first.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<AuditEntry>,
    /// The cursor of the next page (`after`), if there is one.
    pub next: Option<u64>,
}

/// A page of an audit chain with its hashes, oldest first: a person's own (the operator: any
/// person's, or the operator's), to verify and to check against the latest checkpoint.
#[utoipa::path(get, path = "/api/audit/chain", tag = "audit", security(("token" = [])), params(AuditQuery),
    responses(
        (status = 200, description = "A page of the chain, oldest first", body = ChainPage),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: another person's chain", body = ErrorBody),
    ))]
pub async fn audit_chain(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<ChainPage>, ApiError> {
    caller.may(Action::Audit)?;
    let chain = audit_chain_of(&caller, &q)?;
    let store = s.pds.store.as_ref();
    let limit = q.limit.unwrap_or(AUDIT_PAGE).clamp(1, AUDIT_PAGE);
    let entries = store.audit_chain(chain, q.after, limit + 1)?;
    let more = entries.len() > limit;
    let entries: Vec<AuditEntry> = entries.into_iter().take(limit).collect();
    Ok(Json(ChainPage {
        chain,
        origin: store.audit_origin()?,
        next: more.then(|| entries.last().map(|e| e.seq)).flatten(),
        entries,
    }))
}

/// The latest checkpoint's signed root and the inclusion proof of the caller's chain head (a
/// person's own; the operator: any person's, or the operator's). Nothing about other chains.
#[utoipa::path(get, path = "/api/audit/checkpoint", tag = "audit", security(("token" = [])), params(AuditQuery),
    responses(
        (status = 200, description = "The signed root and the chain's inclusion proof (none if the chain is newer)", body = insitu_core::audit::PersonCheckpoint),
        (status = 403, description = "`forbidden`: the account's role or the token's scopes do not allow this", body = ErrorBody),
        (status = 404, description = "`not_found`: no checkpoint yet, or another person's chain", body = ErrorBody),
    ))]
pub async fn audit_checkpoint(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<insitu_core::audit::PersonCheckpoint>, ApiError> {
    caller.may(Action::Audit)?;
    let chain = audit_chain_of(&caller, &q)?;
    s.pds
        .checkpoint
        .proof_for(s.pds.store.as_ref(), chain)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no checkpoint yet"))
}
