//! Peer offers and contacts.

use super::*;

impl PeerStore for RedbStore {
    fn put_offer(&self, mut o: Offer) -> Result<Offer, StoreError> {
        self.write(|tx| {
            require_person(tx, o.person)?;
            if o.id == 0 {
                o.id = next_id(tx, "offer")?;
            }
            put_json(tx, OFFERS, o.id, &o)?;
            append(
                tx,
                AuditEvent::PeerOffer {
                    offer: o.id,
                    person: o.person,
                    occupation: o.occupation.clone(),
                    withdrawn: o.withdrawn_ms.is_some(),
                },
            )?;
            Ok(o)
        })
    }

    fn offers(&self) -> Result<Vec<Offer>, StoreError> {
        self.all_json(OFFERS)
    }

    fn put_contact(&self, mut c: Contact) -> Result<Contact, StoreError> {
        self.write(|tx| {
            let event = if c.id == 0 {
                c.id = next_id(tx, "contact")?;
                AuditEvent::ContactAsked {
                    contact: c.id,
                    person: c.seeker,
                    occupation: c.occupation.clone(),
                }
            } else {
                AuditEvent::ContactAnswered {
                    contact: c.id,
                    person: c.mentor,
                    accepted: c.status == ContactStatus::Connected,
                }
            };
            put_json(tx, CONTACTS, c.id, &c)?;
            append(tx, event)?;
            Ok(c)
        })
    }

    fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        self.all_json(CONTACTS)
    }
}
