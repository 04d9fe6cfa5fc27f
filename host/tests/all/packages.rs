//! Signed packages (invariant 4): one digest over code and manifest, a trusted publisher's
//! signature, and every way of getting around it refused with its reason.

use insitu_core::package::{self, InstallMode, Manifest, PackageError};
use insitu_core::sandbox::InstallError;
use insitu_core::store::Publisher;
use insitu_testkit::*;

fn manifest(path: &str) -> Manifest {
    Manifest::from_file(std::path::Path::new(insitu_plugins::manifest_for(path))).unwrap()
}

fn refused(f: &TestPds, bytes: &[u8], mode: InstallMode) -> String {
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
    let f = TestPds::new();
    let signed = f.package(insitu_plugins::FEE_SCANNER);
    let rec = f.install_bytes(&signed, InstallMode::Verified).unwrap();
    assert_eq!(rec.digest, package::parse(&signed).unwrap().digest);
    assert_eq!(rec.publisher.as_deref(), Some("insitu-examples"));
    assert!(!rec.development);
    assert_eq!(rec.manifest.unwrap().id, "fee-scanner");
}

#[test]
fn unsigned_packages_need_the_explicit_development_mode() {
    let f = TestPds::new();
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
    let f = TestPds::new();
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
    let f = TestPds::new();
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
            key: insitu_core::audit::hex(stranger.verifying_key().as_bytes()),
            trusted_ms: 0,
            revoked_ms: None,
        })
        .unwrap();
    assert!(refused(&f, &by_stranger, InstallMode::Verified).contains("does not trust"));
}

#[test]
fn a_manifest_whose_imports_do_not_match_the_component_is_refused_with_the_difference() {
    let f = TestPds::new();
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
        err.contains(
            "the component imports wasi:random (wasi:random/insecure-seed) but the manifest does \
             not list it"
        ),
        "{err}"
    );
    assert!(
        err.contains("the manifest lists wasi:sockets but the component does not import it"),
        "{err}"
    );
}

/// A package around `m` without the checks `pack` makes: what a hostile publisher could ship.
fn pack_unchecked(component: &[u8], m: &Manifest) -> Vec<u8> {
    fn leb(out: &mut Vec<u8>, mut v: usize) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                return out.push(b);
            }
            out.push(b | 0x80);
        }
    }
    let json = serde_json::to_vec(m).unwrap();
    let mut payload = Vec::new();
    leb(&mut payload, package::MANIFEST_SECTION.len());
    payload.extend_from_slice(package::MANIFEST_SECTION.as_bytes());
    payload.extend_from_slice(&json);
    let mut out = component.to_vec();
    out.push(0);
    leb(&mut out, payload.len());
    out.extend(payload);
    out
}

type Edit = fn(&mut Manifest);

/// One value out of range per row: (field named in the error, plugin, edit).
const OUT_OF_RANGE: &[(&str, &str, Edit)] = &[
    ("id", "fee-scanner", |m| m.id = String::new()),
    ("version", "fee-scanner", |m| m.version = "v".repeat(129)),
    ("publisher", "fee-scanner", |m| {
        m.publisher = "insitu\u{1b}[2J".into()
    }),
    ("description", "fee-scanner", |m| {
        m.description = "d".repeat(4097)
    }),
    ("data", "fee-scanner", |m| {
        m.data = vec![m.data[0].clone(); 33]
    }),
    ("data[0].collection", "fee-scanner", |m| {
        m.data[0].collection = String::new()
    }),
    ("data[0].fields", "fee-scanner", |m| {
        m.data[0].fields.clear()
    }),
    ("data[0].fields[1]", "fee-scanner", |m| {
        m.data[0].fields[1] = "f".repeat(129)
    }),
    ("data[0].months", "fee-scanner", |m| {
        m.data[0].months = Some(4_000_000_000)
    }),
    ("data[0].months", "fee-scanner", |m| {
        m.data[0].months = Some(0)
    }),
    ("data[0].purpose", "fee-scanner", |m| {
        m.data[0].purpose = String::new()
    }),
    ("data[0].purpose", "fee-scanner", |m| {
        m.data[0].purpose = "a\nb".into()
    }),
    ("output.max_bytes", "fee-scanner", |m| {
        m.output.max_bytes = u64::MAX
    }),
    ("output.max_items", "fee-scanner", |m| {
        m.output.max_items = u32::MAX
    }),
    ("output.min_cohort", "usage-analytics", |m| {
        m.output.min_cohort = Some(0)
    }),
    ("output.min_cohort", "usage-analytics", |m| {
        m.output.min_cohort = Some(u32::MAX)
    }),
    ("limits.fuel", "fee-scanner", |m| {
        m.limits.fuel = Some(u64::MAX)
    }),
    ("limits.fuel", "fee-scanner", |m| m.limits.fuel = Some(0)),
    ("limits.memory_mib", "fee-scanner", |m| {
        m.limits.memory_mib = Some(1 << 44)
    }),
    ("limits.deadline_ms", "fee-scanner", |m| {
        m.limits.deadline_ms = Some(u64::MAX)
    }),
    ("pricing.per_run", "fee-scanner", |m| m.pricing.per_run = -1),
    ("pricing.per_million_fuel", "fee-scanner", |m| {
        m.pricing.per_million_fuel = i64::MAX
    }),
    ("pricing.per_thousand_records", "fee-scanner", |m| {
        m.pricing.per_thousand_records = i64::MIN
    }),
    ("pricing.currency", "fee-scanner", |m| {
        m.pricing.currency = "euro".into()
    }),
    ("pricing.currency", "fee-scanner", |m| {
        m.pricing.currency = String::new()
    }),
    ("imports", "fee-scanner", |m| {
        m.imports = vec!["wasi:io".into(); 65]
    }),
    ("imports[0]", "fee-scanner", |m| {
        m.imports[0] = String::new()
    }),
    ("aggregate", "usage-analytics", |m| {
        m.aggregate = vec![m.aggregate[0].clone(); 129]
    }),
    ("aggregate[0].name", "usage-analytics", |m| {
        m.aggregate[0].name = String::new()
    }),
    ("aggregate[0].description", "usage-analytics", |m| {
        m.aggregate[0].description = "x".repeat(4097)
    }),
    ("aggregate[0].lower", "usage-analytics", |m| {
        m.aggregate[0].lower = i64::MIN
    }),
    ("aggregate[0].upper", "usage-analytics", |m| {
        m.aggregate[0].upper = i64::MAX
    }),
    ("aggregate[0].lower", "usage-analytics", |m| {
        m.aggregate[0].lower = 10;
        m.aggregate[0].upper = 5;
    }),
];

#[test]
fn every_manifest_value_out_of_range_is_refused_at_pack_and_at_install_with_its_field() {
    let f = TestPds::new();
    for (field, plugin, edit) in OUT_OF_RANGE {
        let path = insitu_plugins::ALL
            .iter()
            .find(|(name, _)| name == plugin)
            .map(|(_, path)| *path)
            .unwrap();
        let component = insitu_plugins::bytes(path);
        let mut m = manifest(path);
        edit(&mut m);
        let named = |e: &PackageError| {
            matches!(e, PackageError::OutOfRange(o) if o.field == *field)
                && e.to_string().contains(&format!("`{field}`"))
                && e.to_string().contains("allowed")
        };
        let Err(at_pack) = package::pack(&component, &m) else {
            panic!("{field}: packed");
        };
        assert!(named(&at_pack), "{field} at pack: {at_pack}");
        let Err(at_install) =
            f.install_bytes(&pack_unchecked(&component, &m), InstallMode::Verified)
        else {
            panic!("{field}: installed");
        };
        assert!(
            matches!(&at_install, InstallError::Package(e) if named(e)),
            "{field} at install: {at_install}"
        );
    }
    assert!(
        f.store.plugins().unwrap().is_empty(),
        "a refused package was recorded"
    );
}
