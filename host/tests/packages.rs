//! Signed packages (invariant 4): one digest over code and manifest, a trusted publisher's
//! signature, and every way of getting around it refused with its reason.

mod common;

use common::*;
use insitu::package::{self, InstallMode, Manifest, PackageError};
use insitu::sandbox::InstallError;
use insitu::store::Publisher;

fn manifest(path: &str) -> Manifest {
    Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap()
}

fn refused(f: &Fixture, bytes: &[u8], mode: InstallMode) -> String {
    let before = f.store.plugins().unwrap().len();
    let err = f.install_bytes(bytes, mode).expect_err("installed");
    assert_eq!(
        f.store.plugins().unwrap().len(),
        before,
        "a refused package was recorded"
    );
    err.to_string()
}

#[test]
fn a_signed_package_installs_under_its_digest_with_its_manifest() {
    let f = Fixture::new();
    let signed = f.package(insitu_plugins::FEE_SCANNER);
    let rec = f.install_bytes(&signed, InstallMode::Verified).unwrap();
    assert_eq!(rec.digest, package::parse(&signed).unwrap().digest);
    assert_eq!(rec.publisher.as_deref(), Some("insitu-examples"));
    assert!(!rec.development);
    assert_eq!(rec.manifest.unwrap().id, "fee-scanner");
}

#[test]
fn unsigned_packages_need_the_explicit_development_mode() {
    let f = Fixture::new();
    let packed = package::pack(
        &insitu_plugins::bytes(insitu_plugins::NOOP),
        &manifest(insitu_plugins::NOOP),
    )
    .unwrap();
    assert!(refused(&f, &packed, InstallMode::Verified).contains("not signed"));
    let rec = f.install_bytes(&packed, InstallMode::Development).unwrap();
    assert!(
        rec.development && rec.publisher.is_none(),
        "a development install is not marked"
    );
}

#[test]
fn tampering_with_code_or_manifest_breaks_the_signature() {
    let f = Fixture::new();
    let signed = f.package(insitu_plugins::FEE_SCANNER);
    let mut code = signed.clone();
    code[100] ^= 1;
    assert!(refused(&f, &code, InstallMode::Verified).contains("signature does not match"));
    // Widen the data request inside the manifest and re-pack around the same signature.
    let mut m = manifest(insitu_plugins::FEE_SCANNER);
    m.data[0].fields.push("account".into());
    let widened = package::pack(&insitu_plugins::bytes(insitu_plugins::FEE_SCANNER), &m).unwrap();
    let sig_section = &signed[package::parse(&signed).unwrap().bytes.len()..];
    let forged = [widened, sig_section.to_vec()].concat();
    assert!(refused(&f, &forged, InstallMode::Verified).contains("signature does not match"));
    // Development mode verifies a signature that is there: it does not bypass tampering.
    assert!(refused(&f, &code, InstallMode::Development).contains("signature does not match"));
    // Bytes appended after the signature are refused too.
    let appended = [signed, b"\0\x06\x05extra".to_vec()].concat();
    assert!(refused(&f, &appended, InstallMode::Verified).contains("signature"));
}

#[test]
fn unknown_revoked_and_impersonated_publishers_are_refused() {
    let f = Fixture::new();
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let m = manifest(insitu_plugins::NOOP);
    let by_stranger =
        package::pack_and_sign(&insitu_plugins::bytes(insitu_plugins::NOOP), &m, &stranger)
            .unwrap();
    // Signed as `insitu-examples` but with a key the store does not trust for that name.
    assert!(refused(&f, &by_stranger, InstallMode::Verified).contains("does not trust"));
    // Signed under another publisher's name than the manifest's.
    let packed = package::pack(&insitu_plugins::bytes(insitu_plugins::NOOP), &m).unwrap();
    let mislabelled = package::sign(&packed, "someone-else", &f.key).unwrap();
    let err = f
        .install_bytes(&mislabelled, InstallMode::Verified)
        .unwrap_err();
    assert!(
        matches!(
            err,
            InstallError::Package(PackageError::PublisherMismatch { .. })
        ),
        "{err}"
    );
    // A revoked key.
    f.store.revoke_publisher("insitu-examples", 1).unwrap();
    assert!(
        refused(&f, &f.package(insitu_plugins::NOOP), InstallMode::Verified).contains("revoked")
    );
    // Trust is per name and key: trusting the stranger's key under another name does not help.
    f.store
        .trust_publisher(&Publisher {
            name: "other".into(),
            key: insitu::audit::hex(stranger.verifying_key().as_bytes()),
            trusted_ms: 0,
            revoked_ms: None,
        })
        .unwrap();
    assert!(refused(&f, &by_stranger, InstallMode::Verified).contains("does not trust"));
}

#[test]
fn a_manifest_whose_imports_do_not_match_the_component_is_refused_with_the_difference() {
    let f = Fixture::new();
    let mut m = manifest(insitu_plugins::FEE_SCANNER);
    m.imports.retain(|i| i != "wasi:random");
    m.imports.push("wasi:sockets".into());
    let signed = package::pack_and_sign(
        &insitu_plugins::bytes(insitu_plugins::FEE_SCANNER),
        &m,
        &f.key,
    )
    .unwrap();
    let err = refused(&f, &signed, InstallMode::Verified);
    assert!(
        err.contains("imported but not declared: wasi:random/insecure-seed"),
        "{err}"
    );
    assert!(
        err.contains("declared but not imported: wasi:sockets"),
        "{err}"
    );
}
