//! Peer contact: double opt-in, and no identity before both sides said yes.

use insitu_core::audit::AuditEvent;
use insitu_core::peer::{self, ContactStatus, PeerError};
use insitu_core::store::prelude::*;
use insitu_core::store::redb::RedbStore;

#[test]
fn no_identity_is_revealed_before_both_sides_accept() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("p.redb")).unwrap();
    let (lea, marc, nadia, tom) = (
        store.add_person("Léa").unwrap(),
        store.add_person("Marc").unwrap(),
        store.add_person("Nadia").unwrap(),
        store.add_person("Tom").unwrap(),
    );
    const PHARMACIST: &str = "29-1051.00";
    // Nobody offered yet: nobody is proposed, and Tom, who never opted in, never will be.
    assert!(matches!(
        peer::ask(&store, lea, PHARMACIST),
        Err(PeerError::NoMentor(_))
    ));
    peer::offer(&store, marc, PHARMACIST, "hospital pharmacy, ten years").unwrap();
    peer::offer(&store, nadia, PHARMACIST, "community pharmacy").unwrap();

    let c = peer::ask(&store, lea, PHARMACIST).unwrap();
    let mentor = c.mentor;
    assert!(mentor == marc || mentor == nadia);
    assert_ne!(mentor, tom);
    // Asked: the seeker sees the note, not the name; the mentor sees neither.
    let seen = |p| peer::contacts_of(&store, p).unwrap();
    let lea_view = &seen(lea)[0];
    assert_eq!(lea_view.status, ContactStatus::Asked);
    assert_eq!(lea_view.other, None);
    assert!(!lea_view.note.is_empty());
    let mentor_view = &seen(mentor)[0];
    assert_eq!((mentor_view.role, &mentor_view.other), ("mentor", &None));
    assert!(seen(tom).is_empty());
    // Neither side's audit entries name the other.
    for e in store.audit_log().unwrap() {
        match e.event {
            AuditEvent::ContactAsked { person, .. } => assert_eq!(person, lea),
            AuditEvent::ContactAnswered { person, .. } => assert_eq!(person, mentor),
            _ => {}
        }
    }
    // Only the mentor answers, once.
    assert!(matches!(
        peer::answer(&store, lea, c.id, true),
        Err(PeerError::NoContact(_))
    ));
    peer::answer(&store, mentor, c.id, true).unwrap();
    assert!(matches!(
        peer::answer(&store, mentor, c.id, false),
        Err(PeerError::Answered(_))
    ));
    let mentor_name = store.person(mentor).unwrap().name;
    assert_eq!(seen(lea)[0].other.as_deref(), Some(mentor_name.as_str()));
    assert_eq!(seen(mentor)[0].other.as_deref(), Some("Léa"));

    // A second seeker goes to the other mentor (the least asked), who declines: nothing is
    // revealed, ever.
    let c2 = peer::ask(&store, tom, PHARMACIST).unwrap();
    assert_ne!(c2.mentor, mentor);
    peer::answer(&store, c2.mentor, c2.id, false).unwrap();
    let tom_view = &seen(tom)[0];
    assert_eq!(
        (tom_view.status, &tom_view.other),
        (ContactStatus::Declined, &None)
    );
    assert_eq!(seen(c2.mentor)[0].other, None);

    // Erasure removes a person's offers and contacts.
    store.erase_person(mentor, 0).unwrap();
    assert!(seen(lea).is_empty());
}
