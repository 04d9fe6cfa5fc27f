//! Peer offers and contacts.

use super::*;
use insitu_model::peer::{Contact, ContactStatus, Offer};
use insitu_store::PeerStore;

impl PeerStore for PgStore {
    fn put_offer(&self, mut o: Offer) -> Result<Offer, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited_for(&mut c, &cx, &[Chain::Person(o.person)]).await?;
            require_person(&tx, o.person).await?;
            if o.id == 0 {
                o.id = next_id(&tx, "offer").await?;
            }
            // An offer replaced under its id, whoever it was filed under before.
            tx.execute("DELETE FROM offers WHERE id = $1", &[&key(o.id)])
                .await
                .map_err(db)?;
            tx.execute(
                "INSERT INTO offers (person, id, value) VALUES ($1, $2, $3)",
                &[&key(o.person), &key(o.id), &json(&o)],
            )
            .await
            .map_err(db)?;
            append(
                &tx,
                AuditEvent::PeerOffer {
                    offer: o.id,
                    person: o.person,
                    occupation: o.occupation.clone(),
                    withdrawn: o.withdrawn_ms.is_some(),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(o)
        })
    }

    fn offers(&self) -> Result<Vec<Offer>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(&c, "SELECT value FROM offers ORDER BY id", &[]).await
        })
    }

    fn put_contact(&self, mut ct: Contact) -> Result<Contact, StoreError> {
        self.with(|cx| async move {
            let mut c = cx.conn().await?;
            let tx = Tx::audited(&mut c, &cx).await?;
            let event = if ct.id == 0 {
                ct.id = next_id(&tx, "contact").await?;
                AuditEvent::ContactAsked {
                    contact: ct.id,
                    person: ct.seeker,
                    occupation: ct.occupation.clone(),
                }
            } else {
                AuditEvent::ContactAnswered {
                    contact: ct.id,
                    person: ct.mentor,
                    accepted: ct.status == ContactStatus::Connected,
                }
            };
            tx.execute("DELETE FROM contacts WHERE id = $1", &[&key(ct.id)])
                .await
                .map_err(db)?;
            tx.execute(
                "INSERT INTO contacts (person, id, mentor, value) VALUES ($1, $2, $3, $4)",
                &[&key(ct.seeker), &key(ct.id), &key(ct.mentor), &json(&ct)],
            )
            .await
            .map_err(db)?;
            append(&tx, event).await?;
            tx.commit().await?;
            Ok(ct)
        })
    }

    fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        self.with(|cx| async move {
            let c = cx.conn().await?;
            all(&c, "SELECT value FROM contacts ORDER BY id", &[]).await
        })
    }
}
