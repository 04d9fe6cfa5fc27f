//! Peer contact: people who took a path (an occupation, by its code in the coaching catalogue)
//! and opted in can be proposed as contacts to people exploring it. Double opt-in: the mentor
//! opted in to be asked, and accepts each request; the seeker asked. Neither learns who the
//! other is until both have said yes; a refusal reveals nothing, ever.
//!
//! May touch: the store.

pub use insitu_model::peer::*;

use serde::Serialize;

use crate::store::{PersonId, Store, StoreError};

/// A contact as one side sees it: the other's name only once connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactView {
    pub id: u64,
    pub occupation: String,
    pub status: ContactStatus,
    /// `seeker` or `mentor`: the side the viewer is on.
    pub role: &'static str,
    /// The mentor's note (for a seeker), or nothing.
    pub note: String,
    pub other: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("no one who took the path {0} offers to talk about it yet")]
    NoMentor(String),
    #[error("no contact {0} for you")]
    NoContact(u64),
    #[error("contact {0} was already answered")]
    Answered(u64),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// `person` offers to talk about `occupation`.
pub fn offer(
    store: &dyn Store,
    person: PersonId,
    occupation: &str,
    note: &str,
) -> Result<Offer, PeerError> {
    store.person(person)?;
    Ok(store.put_offer(Offer {
        id: 0,
        person,
        occupation: occupation.trim().to_string(),
        note: note.to_string(),
        withdrawn_ms: None,
    })?)
}

/// `seeker` asks to talk with someone who took `occupation`: the live offer (not their own)
/// that has been asked least, so that no mentor is flooded. The mentor sees the request
/// without the seeker's name.
pub fn ask(store: &dyn Store, seeker: PersonId, occupation: &str) -> Result<Contact, PeerError> {
    let contacts = store.contacts()?;
    let asked = |o: &Offer| contacts.iter().filter(|c| c.offer == o.id).count();
    let offer = store
        .offers()?
        .into_iter()
        .filter(|o| o.occupation == occupation.trim() && o.withdrawn_ms.is_none())
        .filter(|o| o.person != seeker)
        .filter(|o| {
            !contacts
                .iter()
                .any(|c| c.offer == o.id && c.seeker == seeker)
        })
        .min_by_key(|o| (asked(o), o.id))
        .ok_or_else(|| PeerError::NoMentor(occupation.to_string()))?;
    Ok(store.put_contact(Contact {
        id: 0,
        offer: offer.id,
        seeker,
        mentor: offer.person,
        occupation: offer.occupation,
        status: ContactStatus::Asked,
        at_ms: store.now_ms(),
    })?)
}

/// The mentor accepts or declines a request.
pub fn answer(
    store: &dyn Store,
    mentor: PersonId,
    contact: u64,
    accept: bool,
) -> Result<Contact, PeerError> {
    let mut c = store
        .contacts()?
        .into_iter()
        .find(|c| c.id == contact && c.mentor == mentor)
        .ok_or(PeerError::NoContact(contact))?;
    if c.status != ContactStatus::Asked {
        return Err(PeerError::Answered(contact));
    }
    c.status = if accept {
        ContactStatus::Connected
    } else {
        ContactStatus::Declined
    };
    c.at_ms = store.now_ms();
    Ok(store.put_contact(c)?)
}

/// A person's contacts, as they may see them.
pub fn contacts_of(store: &dyn Store, person: PersonId) -> Result<Vec<ContactView>, PeerError> {
    let offers = store.offers()?;
    let mut out = Vec::new();
    for c in store.contacts()? {
        let (role, other) = if c.seeker == person {
            ("seeker", c.mentor)
        } else if c.mentor == person {
            ("mentor", c.seeker)
        } else {
            continue;
        };
        let name = match c.status {
            ContactStatus::Connected => Some(store.person(other)?.name),
            _ => None,
        };
        let note = match role {
            "seeker" => offers
                .iter()
                .find(|o| o.id == c.offer)
                .map(|o| o.note.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        out.push(ContactView {
            id: c.id,
            occupation: c.occupation,
            status: c.status,
            role,
            note,
            other: name,
        });
    }
    Ok(out)
}
