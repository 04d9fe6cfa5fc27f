//! Plugin packages: a component, its manifest and its publisher's signature in one artifact
//! (invariant 4: consent is bound to code).
//!
//! Layout: the component's own bytes, then a component-level custom section `insitu-manifest`
//! (the manifest as JSON), then, last, a custom section `insitu-signature`. The package's
//! **digest** is the SHA-256 of everything before the signature section, so it covers code and
//! manifest together; grants name that digest. The signature is ed25519 over
//! `"insitu-package-v1" || digest`, by a publisher key the operator trusts.
//!
//! Every manifest value is bounded (`bounds.rs`), at pack and at install; the upgrade rule
//! compares two manifests field by field (`narrow.rs`).
//!
//! May touch: nothing; bytes in, bytes out (`install` writes through the sandbox and the
//! request rules).

pub use insitu_model::manifest::*;

mod imports;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::hex;

pub use imports::{check_at_pack, component_imports, declared_for};

pub const MANIFEST_SECTION: &str = "insitu-manifest";
pub const SIGNATURE_SECTION: &str = "insitu-signature";
const DOMAIN: &[u8] = b"insitu-package-v1";

/// A manifest's JSON made ready to pack with `component`: a manifest without `imports` gets
/// them from the component ([`declared_for`]); either way they are checked against it
/// ([`check_at_pack`]). Returns the manifest and whether `imports` were filled in.
pub fn manifest_for_pack(component: &[u8], json: &[u8]) -> Result<(Manifest, bool), PackageError> {
    let actual = component_imports(component)?;
    let mut value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| PackageError::BadManifest(e.to_string()))?;
    let filled = match value.as_object_mut() {
        Some(fields) if !fields.contains_key("imports") => {
            fields.insert("imports".into(), declared_for(&actual).into());
            true
        }
        _ => false,
    };
    let json = serde_json::to_vec(&value).map_err(|e| PackageError::BadManifest(e.to_string()))?;
    let manifest = Manifest::read(&json)?;
    check_at_pack(&manifest.imports, &actual)?;
    Ok((manifest, filled))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SignatureBlock {
    publisher: String,
    key: String,
    signature: String,
}

/// A parsed package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The signed bytes: component plus manifest section (the signature section removed).
    pub bytes: Vec<u8>,
    pub digest: String,
    pub manifest: Manifest,
    pub signature: Option<(String, VerifyingKey, Signature)>,
}

fn leb(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let (mut result, mut shift) = (0u32, 0);
    loop {
        let b = *bytes.get(*at)?;
        *at += 1;
        result |= ((b & 0x7f) as u32).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(result);
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
}

fn put_leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A top-level custom section: (name, data, start offset of the section).
type Section<'a> = (String, &'a [u8], usize);

fn custom_sections(bytes: &[u8]) -> Result<Vec<Section<'_>>, PackageError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(PackageError::NotWasm);
    }
    let mut at = 8;
    let mut out = Vec::new();
    while at < bytes.len() {
        let start = at;
        let id = bytes[at];
        at += 1;
        let size = leb(bytes, &mut at).ok_or(PackageError::Malformed(start))? as usize;
        let end = at
            .checked_add(size)
            .filter(|e| *e <= bytes.len())
            .ok_or(PackageError::Malformed(start))?;
        if id == 0 {
            let mut p = at;
            let n = leb(bytes, &mut p).ok_or(PackageError::Malformed(start))? as usize;
            // The name must fit inside its section, not merely inside the file.
            let name = p
                .checked_add(n)
                .filter(|e| *e <= end)
                .and_then(|e| bytes.get(p..e))
                .ok_or(PackageError::Malformed(start))?;
            let name = std::str::from_utf8(name).map_err(|_| PackageError::Malformed(start))?;
            out.push((name.to_string(), &bytes[p + n..end], start));
        }
        at = end;
    }
    Ok(out)
}

fn custom_section(name: &str, data: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    put_leb(&mut payload, name.len() as u32);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    let mut out = vec![0u8];
    put_leb(&mut out, payload.len() as u32);
    out.extend_from_slice(&payload);
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Appends `manifest` to `component` (replacing no section: packing twice is refused). The
/// manifest is validated first, so nothing is packed that install would refuse.
pub fn pack(component: &[u8], manifest: &Manifest) -> Result<Vec<u8>, PackageError> {
    manifest.validate()?;
    if custom_sections(component)?
        .iter()
        .any(|(n, _, _)| n == MANIFEST_SECTION || n == SIGNATURE_SECTION)
    {
        return Err(PackageError::Duplicate(MANIFEST_SECTION));
    }
    let json =
        serde_json::to_vec(manifest).map_err(|e| PackageError::BadManifest(e.to_string()))?;
    let mut out = component.to_vec();
    out.extend(custom_section(MANIFEST_SECTION, &json));
    Ok(out)
}

/// Packs `component` with `manifest` and signs it as the manifest's publisher.
pub fn pack_and_sign(
    component: &[u8],
    manifest: &Manifest,
    key: &SigningKey,
) -> Result<Vec<u8>, PackageError> {
    sign(&pack(component, manifest)?, &manifest.publisher, key)
}

/// Signs a packed component, replacing any earlier signature.
pub fn sign(packed: &[u8], publisher: &str, key: &SigningKey) -> Result<Vec<u8>, PackageError> {
    let p = parse(packed)?;
    let digest = Sha256::digest(&p.bytes);
    let sig = key.sign(&[DOMAIN, digest.as_slice()].concat());
    let block = SignatureBlock {
        publisher: publisher.to_string(),
        key: hex(key.verifying_key().as_bytes()),
        signature: hex(&sig.to_bytes()),
    };
    let mut out = p.bytes;
    out.extend(custom_section(
        SIGNATURE_SECTION,
        &serde_json::to_vec(&block).unwrap_or_default(),
    ));
    Ok(out)
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Parses a verifying key from hex.
pub fn verifying_key(hex_key: &str) -> Option<VerifyingKey> {
    VerifyingKey::from_bytes(&unhex::<32>(hex_key)?).ok()
}

/// Parses a package: its manifest, digest and signature (not yet verified).
pub fn parse(bytes: &[u8]) -> Result<Package, PackageError> {
    let sections = custom_sections(bytes)?;
    let mut manifest = None;
    let mut signature = None;
    let mut signed_end = bytes.len();
    for (name, data, start) in &sections {
        match name.as_str() {
            MANIFEST_SECTION => {
                if manifest.is_some() {
                    return Err(PackageError::Duplicate(MANIFEST_SECTION));
                }
                manifest = Some(Manifest::read(data)?);
            }
            SIGNATURE_SECTION => {
                if signature.is_some() {
                    return Err(PackageError::Duplicate(SIGNATURE_SECTION));
                }
                // The signature must be the last thing in the file: nothing unsigned follows it.
                if data.as_ptr() as usize + data.len() != bytes.as_ptr() as usize + bytes.len() {
                    return Err(PackageError::BadSignature);
                }
                let block: SignatureBlock =
                    serde_json::from_slice(data).map_err(|_| PackageError::BadSignature)?;
                let key = verifying_key(&block.key).ok_or(PackageError::BadSignature)?;
                let sig = unhex::<64>(&block.signature)
                    .map(|b| Signature::from_bytes(&b))
                    .ok_or(PackageError::BadSignature)?;
                signature = Some((block.publisher, key, sig));
                signed_end = *start;
            }
            _ => {}
        }
    }
    let manifest = manifest.ok_or(PackageError::NoManifest)?;
    let signed = bytes[..signed_end].to_vec();
    Ok(Package {
        digest: sha256_hex(&signed),
        bytes: signed,
        manifest,
        signature,
    })
}

impl Package {
    /// Checks the signature against the package bytes; returns the signer's name and key.
    pub fn verify(&self) -> Result<(&str, &VerifyingKey), PackageError> {
        let (publisher, key, sig) = self.signature.as_ref().ok_or(PackageError::Unsigned)?;
        let digest = Sha256::digest(&self.bytes);
        key.verify(&[DOMAIN, digest.as_slice()].concat(), sig)
            .map_err(|_| PackageError::BadSignature)?;
        if *publisher != self.manifest.publisher {
            return Err(PackageError::PublisherMismatch {
                manifest: self.manifest.publisher.clone(),
                signer: publisher.clone(),
            });
        }
        Ok((publisher, key))
    }
}

/// Checks the manifest's `imports` against the component's actual imports, at install: the
/// rule of pack ([`imports::check_declared`]).
pub fn check_imports(declared: &[String], actual: &[String]) -> Result<(), PackageError> {
    imports::check_declared(declared, actual)
}

/// How strictly a package is checked at install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallMode {
    /// A valid signature by a trusted, unrevoked publisher is required (the default).
    Verified,
    /// Local development: an unsigned package is accepted and marked as such everywhere it is
    /// shown. A signed package is still verified.
    Development,
}

/// Installs a package: parse, verify the signature against the store's trusted publishers
/// (unless in development mode and unsigned), then check and install the component.
pub fn install(
    store: &dyn crate::store::Store,
    sandbox: &crate::sandbox::Sandbox,
    bytes: &[u8],
    mode: InstallMode,
) -> Result<crate::store::PluginRecord, crate::sandbox::InstallError> {
    use crate::sandbox::InstallError;
    crate::sandbox::check_bytes(bytes).map_err(InstallError::Component)?;
    let pkg = parse(bytes)?;
    let publisher = match (&pkg.signature, mode) {
        (None, InstallMode::Development) => None,
        _ => {
            let (name, key) = pkg.verify()?;
            let trusted = store
                .publisher(name)?
                .ok_or_else(|| PackageError::UnknownPublisher(name.to_string()))?;
            if trusted.key != hex(key.as_bytes()) {
                return Err(PackageError::UnknownPublisher(name.to_string()).into());
            }
            if trusted.revoked_ms.is_some() {
                return Err(PackageError::RevokedPublisher(name.to_string()).into());
            }
            Some(name.to_string())
        }
    };
    let compiled = sandbox.compile(&pkg.bytes)?;
    check_imports(&pkg.manifest.imports, &compiled.imports)?;
    let record = crate::store::PluginRecord {
        digest: compiled.digest.clone(),
        name: pkg.manifest.id.clone(),
        size: compiled.size(),
        installed_at_ms: store.now_ms(),
        imports: compiled.imports.clone(),
        manifest: Some(pkg.manifest.clone()),
        development: publisher.is_none(),
        publisher,
    };
    sandbox.install(compiled)?;
    store.put_plugin(&record)?;
    // A new version keeps its predecessor's grants only if it narrows what they were given for.
    let upgrade = crate::request::upgrade(store, &record).map_err(|e| match e {
        crate::request::RequestError::Store(s) => InstallError::Store(s),
        other => InstallError::Upgrade(other),
    })?;
    if upgrade != crate::request::Upgrade::default() {
        tracing::info!(digest = %record.digest, carried = ?upgrade.carried, requests = ?upgrade.requests, widened = ?upgrade.widened, "upgrade");
    }
    Ok(record)
}

/// A fresh publisher signing key.
pub fn generate_key() -> Result<SigningKey, getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The signing key in a key file (64 hex characters), as written by [`key_file`].
pub fn read_key(text: &str) -> Option<SigningKey> {
    unhex::<32>(text.trim()).map(|b| SigningKey::from_bytes(&b))
}

pub fn key_file(key: &SigningKey) -> String {
    format!("{}\n", hex(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The smallest component header: magic and the component-model layer.
    const COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

    fn fee_scanner() -> Manifest {
        Manifest::from_file(std::path::Path::new(insitu_plugins::FEE_SCANNER_MANIFEST))
            .expect("fee-scanner's manifest")
    }

    #[test]
    fn a_section_name_longer_than_its_section_is_malformed_not_a_panic() {
        // A custom section of 1 byte whose name claims 5, followed by more file.
        let bytes = [COMPONENT, &[0, 1, 5], &[0, 3, 2, b'a', b'b']].concat();
        assert_eq!(parse(&bytes).unwrap_err(), PackageError::Malformed(8));
    }

    #[test]
    fn the_consent_screen_says_when_a_plugin_learns_the_date() {
        let mut m = fee_scanner();
        assert!(
            !m.describe().contains("learns the date"),
            "{}",
            m.describe()
        );
        m.imports.push(imports::CLOCK.into());
        assert!(
            m.describe()
                .contains("learns the date its run is as of (the day the run is requested"),
            "{}",
            m.describe()
        );
    }

    #[test]
    fn pack_refuses_what_install_would_refuse() {
        let mut m = fee_scanner();
        m.data[0].months = Some(4_000_000_000);
        let err = pack(COMPONENT, &m).unwrap_err();
        assert!(
            matches!(&err, PackageError::OutOfRange(o) if o.field == "data[0].months"),
            "{err}"
        );
        let mut m = fee_scanner();
        m.data.push(m.data[0].clone());
        assert!(matches!(
            pack(COMPONENT, &m),
            Err(PackageError::BadManifest(e)) if e.contains("requested twice")
        ));
    }

    #[test]
    fn an_oversized_manifest_section_is_refused_before_it_is_parsed() {
        let json = vec![b' '; MAX_MANIFEST_BYTES + 1];
        let bytes = [COMPONENT, &custom_section(MANIFEST_SECTION, &json)].concat();
        assert_eq!(
            parse(&bytes).unwrap_err(),
            PackageError::ManifestTooLarge(MAX_MANIFEST_BYTES + 1)
        );
    }

    /// Any JSON value, with manifest keys, to feed the reader.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::from),
        ];
        let keys = prop_oneof![
            Just("id"),
            Just("data"),
            Just("months"),
            Just("output"),
            Just("max_items"),
            Just("limits"),
            Just("fuel"),
            Just("pricing"),
            Just("use"),
            Just("aggregate"),
            Just("lower"),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map(keys.clone().prop_map(String::from), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic_the_package_reader(
            tail in prop::collection::vec(any::<u8>(), 0..256),
        ) {
            let _ = Manifest::read(&tail);
            let _ = parse(&[COMPONENT, &tail].concat());
            let _ = parse(&[COMPONENT, &custom_section(MANIFEST_SECTION, &tail)].concat());
        }

        #[test]
        fn any_json_never_panics_the_manifest_reader(v in json()) {
            let _ = Manifest::read(v.to_string().as_bytes());
        }

        /// Whatever a manifest holds, reading it either refuses it with a reason or accepts
        /// one that describes itself, packs and reads back the same.
        #[test]
        fn any_manifest_is_refused_or_read_back_whole(m in arb::manifest()) {
            let json = serde_json::to_vec(&m).unwrap();
            match Manifest::read(&json) {
                Err(e) => prop_assert!(!e.to_string().is_empty()),
                Ok(read) => {
                    prop_assert_eq!(&read, &m);
                    prop_assert!(read.describe().contains(RECORD_DATES) || read.data.is_empty());
                    let packed = pack(COMPONENT, &read).unwrap();
                    prop_assert_eq!(parse(&packed).unwrap().manifest, m);
                }
            }
        }
    }

    #[test]
    fn an_unknown_manifest_field_is_refused_by_its_path() {
        let good: serde_json::Value =
            serde_json::from_slice(&std::fs::read(insitu_plugins::FEE_SCANNER_MANIFEST).unwrap())
                .unwrap();
        assert!(Manifest::read(good.to_string().as_bytes()).is_ok());
        let mut typo = good.clone();
        typo["data"][0]["month"] = typo["data"][0]["months"].take();
        typo["data"][0].as_object_mut().unwrap().remove("months");
        typo["colour"] = "blue".into();
        let err = Manifest::read(typo.to_string().as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`data.0.month`") && err.contains("`colour`"),
            "{err}"
        );
    }

    #[test]
    fn imports_must_match_exactly_at_interface_or_package_level() {
        let actual = vec![
            "insitu:plugin/data@0.2.0".to_string(),
            "wasi:cli/stderr@0.2.6".to_string(),
        ];
        let ok = vec!["insitu:plugin/data".to_string(), "wasi:cli".to_string()];
        assert_eq!(check_imports(&ok, &actual), Ok(()));
        let err = check_imports(
            &["insitu:plugin/data".into(), "wasi:sockets".into()],
            &actual,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(
                "the component imports wasi:cli (wasi:cli/stderr) but the manifest does not list it"
            ),
            "{err}"
        );
        assert!(
            err.contains("the manifest lists wasi:sockets but the component does not import it"),
            "{err}"
        );
    }

    #[test]
    fn the_window_is_shown_with_the_dates_a_grant_approved_then_covers() {
        let mut m = fee_scanner();
        let now = insitu_formats::time::ymd(2026, 11, 30).unwrap() + 12 * 3_600_000;
        assert_eq!(
            describe_window(&m, now),
            "bank.transactions: the last 24 months: 2024-11-30 to 2026-11-30"
        );
        m.data[0].months = Some(1);
        m.data.push(DataRequest {
            collection: "receipts.items".into(),
            fields: vec!["total".into()],
            months: None,
            purpose: "p".into(),
        });
        assert_eq!(
            describe_window(&m, now),
            "bank.transactions: the last month: 2026-10-31 to 2026-11-30\n\
             receipts.items: all the records"
        );
    }
}
