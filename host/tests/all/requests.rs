//! Requests and grants (invariants 1 and 4): a person approves with narrowing or denies; the
//! narrowed grant is what the plugin sees; a new version keeps grants only if everything its
//! consent screen shows is equal or narrower.

use crate::common;

use common::*;
use insitu_core::consent::GrantError;
use insitu_core::meter::{FailureReason, Outcome};
use insitu_core::output::{PluginOutput, Scalar};
use insitu_core::package::{self, Audience, InstallMode, Manifest, PluginUse};
use insitu_core::request::{self, Narrowing, RequestError, Status};
use insitu_testkit::*;

/// The probe, asking for three fields over 24 months.
fn probe_manifest(version: &str, fields: &[&str]) -> Manifest {
    let mut m = Manifest::from_file(std::path::Path::new(insitu_plugins::PROBE_MANIFEST)).unwrap();
    m.version = version.into();
    m.data[0].fields = fields.iter().map(|f| f.to_string()).collect();
    m.data[0].months = Some(24);
    m
}

/// A person with transactions from the last weeks (inside any months-based window).
fn person(f: &TestPds) -> u64 {
    let p = f.store.add_person("alice").unwrap();
    let today = (insitu_testkit::now_ms() - T0) / DAY;
    let txs: Vec<_> = (1..5)
        .map(|d| tx(today - d * 7, -500 * d, "CB SHOP", Some("Shop")))
        .collect();
    f.store
        .write_records(
            p,
            "bank.transactions",
            &txs,
            insitu_core::store::Source::File("t"),
        )
        .unwrap();
    p
}

fn install(f: &TestPds, m: &Manifest) -> insitu_core::store::PluginRecord {
    let signed =
        package::pack_and_sign(&insitu_plugins::bytes(insitu_plugins::PROBE), m, &f.key).unwrap();
    f.install_bytes(&signed, InstallMode::Verified).unwrap()
}

/// `p`'s grants naming `digest`.
fn grants_for(f: &TestPds, p: u64, digest: &str) -> Vec<insitu_core::consent::Grant> {
    let mut all = f.store.grants(Some(p)).unwrap();
    all.retain(|g| g.plugin_digest == digest);
    all
}

/// The requests asking `p` about `digest`.
fn requests_for(f: &TestPds, p: u64, digest: &str) -> Vec<request::AccessRequest> {
    let mut all = f.store.requests(Some(p)).unwrap();
    all.retain(|r| r.plugin_digest == digest);
    all
}

fn delivered(run: &insitu_core::meter::RunRecord) -> String {
    assert_eq!(run.outcome, Outcome::Succeeded, "{:?}", run.outcome);
    match &run.output {
        Some(PluginOutput::Table { rows, .. }) => match &rows[0][2] {
            Scalar::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_approval_with_narrowing_is_exactly_what_the_plugin_sees() {
    let f = TestPds::new();
    let p = person(&f);
    let plugin = install(
        &f,
        &probe_manifest("1.0.0", &["amount", "label", "counterparty"]),
    );
    let req = request::ask(
        f.store.as_ref(),
        "ACME Research",
        p,
        &plugin,
        "spending study",
        30,
    )
    .unwrap();
    assert_eq!(req.status, Status::Pending);
    let narrow = Narrowing {
        fields: Some(vec![("bank.transactions".into(), vec!["amount".into()])]),
        months: Some(6),
        days: Some(7),
    };
    let g = request::approve(f.store.as_ref(), req.id, &narrow).unwrap();
    assert_eq!(g.collections[0].fields, vec!["amount".to_string()]);
    let expires = g.expires_ms.unwrap() - g.created_ms;
    assert_eq!(expires, 7 * DAY);
    assert_eq!(g.origin.as_ref().unwrap().requester, "ACME Research");
    let run = f.run(p, g.id, &plugin.digest, &[], None).await;
    assert_eq!(
        delivered(&run),
        "amount",
        "narrowed-away fields reached the plugin"
    );
    // The person started it: the run is hers, not the organisation's (it neither sees nor pays
    // for it).
    assert_eq!(run.requester, None);
    // A decided request cannot be decided again.
    assert!(matches!(
        request::deny(f.store.as_ref(), req.id),
        Err(RequestError::Decided(_))
    ));
}

#[tokio::test]
async fn narrowing_can_only_take_away() {
    let f = TestPds::new();
    let p = person(&f);
    let plugin = install(&f, &probe_manifest("1.0.0", &["amount", "label"]));
    let req = request::ask(f.store.as_ref(), "ACME", p, &plugin, "study", 30).unwrap();
    let wider = [
        Narrowing {
            fields: Some(vec![("bank.transactions".into(), vec!["account".into()])]),
            ..Default::default()
        },
        Narrowing {
            fields: Some(vec![("profile.secrets".into(), vec!["secret".into()])]),
            ..Default::default()
        },
        Narrowing {
            months: Some(36),
            ..Default::default()
        },
        Narrowing {
            days: Some(31),
            ..Default::default()
        },
    ];
    for n in wider {
        let err = request::approve(f.store.as_ref(), req.id, &n).unwrap_err();
        assert!(matches!(err, RequestError::Widening(_)), "{n:?}: {err}");
    }
    assert_eq!(
        f.store.grants(Some(p)).unwrap().len(),
        0,
        "a widening approval created a grant"
    );
    assert_eq!(f.store.request(req.id).unwrap().status, Status::Pending);
}

#[tokio::test]
async fn a_denied_request_grants_nothing() {
    let f = TestPds::new();
    let p = person(&f);
    let plugin = install(&f, &probe_manifest("1.0.0", &["amount"]));
    let req = request::ask(f.store.as_ref(), "ACME", p, &plugin, "study", 30).unwrap();
    let denied = request::deny(f.store.as_ref(), req.id).unwrap();
    assert!(matches!(denied.status, Status::Denied { .. }));
    assert!(f.store.grants(Some(p)).unwrap().is_empty());
    let log = f.store.audit_log().unwrap();
    assert!(
        log.iter()
            .any(|e| format!("{:?}", e.event).contains("RequestDecided")
                && format!("{:?}", e.event).contains("approved: false"))
    );
}

#[tokio::test]
async fn an_upgrade_that_asks_for_more_is_blocked_until_approved() {
    let f = TestPds::new();
    let p = person(&f);
    let v1 = install(&f, &probe_manifest("1.0.0", &["amount", "label"]));
    let req = request::ask(f.store.as_ref(), "ACME", p, &v1, "study", 30).unwrap();
    request::approve(f.store.as_ref(), req.id, &Narrowing::default()).unwrap();

    // Same data: the grant is carried over to the new digest.
    let v2 = install(&f, &probe_manifest("1.1.0", &["amount"]));
    let carried = grants_for(&f, p, &v2.digest).pop().expect("carried over");
    assert_eq!(
        delivered(&f.run(p, carried.id, &v2.digest, &[], None).await),
        "amount,label"
    );
    // Installing v2 again carries nothing more: it has its live grant already.
    assert_eq!(
        install(&f, &probe_manifest("1.1.0", &["amount"])).digest,
        v2.digest
    );
    assert_eq!(
        grants_for(&f, p, &v2.digest),
        vec![carried.clone()],
        "a reinstall carried the grant again"
    );

    // More data: no grant for v3, a new pending request instead, and runs are refused.
    let v3 = install(
        &f,
        &probe_manifest("2.0.0", &["amount", "label", "counterparty"]),
    );
    assert!(
        grants_for(&f, p, &v3.digest).is_empty(),
        "the upgrade kept a grant while asking for more"
    );
    let for_v3 = requests_for(&f, p, &v3.digest);
    assert_eq!(
        for_v3.len(),
        1,
        "one decision per person and requester, not one per earlier version"
    );
    let pending = for_v3[0].clone();
    assert_eq!(pending.status, Status::Pending);
    // Installing the same version again opens nothing more and carries nothing.
    install(
        &f,
        &probe_manifest("2.0.0", &["amount", "label", "counterparty"]),
    );
    assert_eq!(f.store.requests(Some(p)).unwrap().len(), 2);
    assert!(grants_for(&f, p, &v3.digest).is_empty());
    let refused = f.run(p, carried.id, &v3.digest, &[], None).await;
    let (reason, msg) = failure(&refused);
    assert_eq!(reason, FailureReason::Grant);
    assert!(
        msg.contains(
            &GrantError::DigestMismatch {
                grant: carried.id,
                granted: v2.digest.clone(),
                running: v3.digest.clone()
            }
            .to_string()
        ),
        "{msg}"
    );

    let g3 = request::approve(f.store.as_ref(), pending.id, &Narrowing::default()).unwrap();
    assert_eq!(
        delivered(&f.run(p, g3.id, &v3.digest, &[], None).await),
        "amount,counterparty,label"
    );
}

#[tokio::test]
async fn the_consent_screen_says_the_plugin_gets_the_date_of_each_record() {
    let f = TestPds::new();
    let p = person(&f);
    let plugin = install(&f, &probe_manifest("1.0.0", &["amount"]));
    let req = request::ask(f.store.as_ref(), "ACME", p, &plugin, "study", 30).unwrap();
    let screen = request::consent_screen(&req, Some(&plugin));
    assert!(
        screen.contains(
            "reads amount of bank.transactions over the last 24 months, and the date of each \
             record: "
        ),
        "{screen}"
    );
}

/// fee-scanner as a single-run plugin at `version`, changed by `edit`.
fn scanner(version: &str, edit: impl FnOnce(&mut Manifest)) -> Manifest {
    let mut m =
        Manifest::from_file(std::path::Path::new(insitu_plugins::FEE_SCANNER_MANIFEST)).unwrap();
    m.version = version.into();
    m.usage = PluginUse::Run;
    edit(&mut m);
    m
}

#[tokio::test]
async fn an_upgrade_that_widens_anything_on_the_consent_screen_asks_again() {
    let f = TestPds::new();
    let p = f.person_with_transactions("alice");
    let install = |m: &Manifest| {
        let bytes = insitu_plugins::bytes(insitu_plugins::FEE_SCANNER);
        let signed = package::pack_and_sign(&bytes, m, &f.key).unwrap();
        f.install_bytes(&signed, InstallMode::Verified).unwrap()
    };
    let v1 = install(&scanner("1.0.0", |_| {}));
    let req = request::ask(f.store.as_ref(), "UFC", p, &v1, "class action", 30).unwrap();
    let only_amount = Narrowing {
        fields: Some(vec![("bank.transactions".into(), vec!["amount".into()])]),
        ..Default::default()
    };
    request::approve(f.store.as_ref(), req.id, &only_amount).unwrap();

    // Narrower (fewer items, cheaper): carried, with the person's own narrowing.
    let narrower = |m: &mut Manifest| {
        m.output.max_items = 100;
        m.pricing.per_run = 1;
    };
    let v2 = install(&scanner("1.1.0", narrower));
    let carried = grants_for(&f, p, &v2.digest)
        .pop()
        .expect("a narrower version keeps the grant");
    assert_eq!(carried.collections[0].fields, vec!["amount".to_string()]);

    // Each of these widens one thing over 1.1.0, the version the live grant is for.
    type Edit = fn(&mut Manifest);
    let widened: [(&str, Edit); 4] = [
        ("audience person -> requester", |m| {
            m.output.audience = Audience::Requester
        }),
        ("use run -> campaign", |m| m.usage = PluginUse::Campaign),
        ("a higher price per run", |m| m.pricing.per_run = 2),
        ("more fuel", |m| m.limits.fuel = Some(30_000_000_000)),
    ];
    for (i, (what, edit)) in widened.into_iter().enumerate() {
        let v = install(&scanner(&format!("2.{i}.0"), |m| {
            narrower(m);
            edit(m)
        }));
        assert!(
            grants_for(&f, p, &v.digest).is_empty(),
            "{what}: the grant was carried over"
        );
        let asked = requests_for(&f, p, &v.digest);
        assert_eq!(asked.len(), 1, "{what}: no new request");
        assert_eq!(asked[0].status, Status::Pending);
        assert_eq!(
            (asked[0].requester.as_str(), asked[0].purpose.as_str()),
            ("UFC", "class action"),
            "{what}"
        );
        let refused = f.run(p, carried.id, &v.digest, &[], None).await;
        assert_eq!(failure(&refused).0, FailureReason::Grant, "{what}");
    }
}
