//! What a job leaves the ledger: a campaign's settlement, a study's rewards. Each line is typed
//! as the ledger's own parties and movement from the moment the job writes it, so the ledger
//! posts it as it is, and nothing is read back from a name or a memo.

use serde::{Deserialize, Serialize, Serializer};

use crate::ledger::{Movement, Party};
use crate::output::Money;

/// One line of what a job owes: `from` pays `to` `amount`, for `movement`. Written by the job
/// when it closes (`JobStore::close_job`), posted by the ledger as it is (`insitu-core`'s
/// `ledger::take_over`, members paid through the operator).
///
/// As JSON (stored, and answered by the API), each party is in its printed form (`person:3`,
/// `org:NAME`, `operator`, `developer:NAME`) and the movement in the ledger's words
/// (`settlement`, `reward`). A record written before parties were typed has no `movement`
/// and names instead of parties: it still reads, as the ledger read it then (the payer an
/// organisation by name, the movement a reward when the memo began with "reward", else a
/// settlement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "StoredBillingRecord")]
pub struct BillingRecord {
    /// Assigned when stored.
    pub id: u64,
    pub job: u64,
    pub at_ms: i64,
    /// Who pays: the brand a campaign concerns, or the organisation that opened a study.
    #[serde(serialize_with = "printed")]
    #[schema(value_type = String, example = "org:Agence Dupont")]
    pub from: Party,
    /// Who is paid: a member, the campaign's association, or the operator.
    #[serde(serialize_with = "printed")]
    #[schema(value_type = String, example = "person:3")]
    pub to: Party,
    pub amount: Money,
    /// Why money moves, as the ledger posts it.
    pub movement: Movement,
    /// Why, in plain words, for people: nothing is derived from it.
    pub memo: String,
}

fn printed<S: Serializer>(party: &Party, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(party)
}

/// A billing record as stored: today's shape (with a `movement`), or the untyped one before it.
#[derive(Deserialize)]
struct StoredBillingRecord {
    id: u64,
    job: u64,
    at_ms: i64,
    from: String,
    to: String,
    amount: Money,
    #[serde(default)]
    movement: Option<Movement>,
    memo: String,
}

impl TryFrom<StoredBillingRecord> for BillingRecord {
    type Error = String;

    fn try_from(r: StoredBillingRecord) -> Result<BillingRecord, String> {
        let Some(movement) = r.movement else {
            return Ok(r.untyped());
        };
        Ok(BillingRecord {
            id: r.id,
            job: r.job,
            at_ms: r.at_ms,
            from: unprinted(&r.from)?,
            to: unprinted(&r.to)?,
            amount: r.amount,
            movement,
            memo: r.memo,
        })
    }
}

/// The party `s` prints (the inverse of `Party`'s `Display`). `Party::from_str` refuses an
/// empty name, which on the command line is a typo; a stored record keeps what it was given.
fn unprinted(s: &str) -> Result<Party, String> {
    s.parse().or_else(|e| match s {
        "org:" => Ok(Party::Organisation(String::new())),
        "developer:" => Ok(Party::Developer(String::new())),
        _ => Err(e),
    })
}

impl StoredBillingRecord {
    /// A record written before parties were typed, read as the ledger then took it over. Such a
    /// record named its payer organisation (a brand, a study's owner); its payee as
    /// `person:<id>`, `operator`, or an organisation's bare name; and had no movement: a
    /// study's rewards, the only records whose memo began with "reward", were rewards, and
    /// everything else was a campaign's settlement. Only such records are read this way.
    fn untyped(self) -> BillingRecord {
        let to = match self.to.split_once(':') {
            None if self.to == "operator" => Party::Operator,
            Some(("person", p)) => p
                .parse()
                .map_or_else(|_| Party::Organisation(self.to.clone()), Party::Person),
            _ => Party::Organisation(self.to.clone()),
        };
        let movement = if self.memo.starts_with("reward") {
            Movement::Reward
        } else {
            Movement::Settlement
        };
        BillingRecord {
            id: self.id,
            job: self.job,
            at_ms: self.at_ms,
            from: Party::Organisation(self.from),
            to,
            amount: self.amount,
            movement,
            memo: self.memo,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eur(minor: i64) -> Money {
        Money {
            minor,
            currency: "EUR".into(),
        }
    }

    /// Parties and movements are what the job wrote, whatever the memo says or the names look
    /// like: an organisation named like another kind of party stays an organisation, and a
    /// reward whose memo says nothing of rewards is still a reward.
    #[test]
    fn a_record_reads_back_as_written_whatever_its_memo_and_names() {
        for (from, to, movement, memo) in [
            (
                Party::Organisation("acme".into()),
                Party::Person(3),
                Movement::Reward,
                "thank you for study 2",
            ),
            (
                Party::Organisation("operator".into()),
                Party::Organisation("person:3".into()),
                Movement::Settlement,
                "reward-like memo, settlement all the same",
            ),
            (
                Party::Organisation("bank".into()),
                Party::Operator,
                Movement::Commission,
                "",
            ),
            (
                Party::Organisation(String::new()),
                Party::Developer("dev:x".into()),
                Movement::RunPrice,
                "empty and colon-laden names",
            ),
        ] {
            let r = BillingRecord {
                id: 7,
                job: 2,
                at_ms: 5,
                from,
                to,
                amount: eur(50),
                movement,
                memo: memo.into(),
            };
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(json["to"], r.to.to_string(), "printed as people read it");
            let back: BillingRecord = serde_json::from_value(json).unwrap();
            assert_eq!(back, r);
        }
    }

    /// A record stored before parties were typed (names, no movement) still reads.
    #[test]
    fn an_untyped_record_from_an_older_store_still_reads() {
        let old = |to: &str, memo: &str| {
            serde_json::from_value::<BillingRecord>(json!({
                "id": 4, "job": 2, "at_ms": 5, "from": "Agence Dupont", "to": to,
                "amount": {"minor": 100, "currency": "EUR"}, "memo": memo,
            }))
            .unwrap()
        };
        let r = old("person:3", "reward for taking part in study 2");
        assert_eq!(
            (r.from, r.to, r.movement),
            (
                Party::Organisation("Agence Dupont".into()),
                Party::Person(3),
                Movement::Reward
            )
        );
        let r = old("operator", "commission on campaign 2");
        assert_eq!((r.to, r.movement), (Party::Operator, Movement::Settlement));
        let r = old("UFC Que Choisir", "association's share of campaign 2");
        assert_eq!(r.to, Party::Organisation("UFC Que Choisir".into()));
        assert_eq!(r.amount, eur(100));
    }

    /// A typed record whose party does not read is an error, not a guess.
    #[test]
    fn a_typed_record_with_an_unreadable_party_is_refused() {
        let bad = json!({
            "id": 4, "job": 2, "at_ms": 5, "from": "Agence Dupont", "to": "person:3",
            "amount": {"minor": 100, "currency": "EUR"}, "movement": "settlement", "memo": "",
        });
        let e = serde_json::from_value::<BillingRecord>(bad).unwrap_err();
        assert!(e.to_string().contains("Agence Dupont"), "{e}");
    }
}
