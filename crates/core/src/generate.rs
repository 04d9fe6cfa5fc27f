//! Generated data: plausible records for any collection, from its schema, a count, a seed and
//! a "today", so that a plugin author can test without anyone's data (`insitu plugin test
//! --generate`, `insitu generate`). Documented in `docs/GENERATED-DATA.md`.
//!
//! Pure: the same schema, count, seed and today give the same records, byte for byte. The
//! random stream is ChaCha8 seeded from the seed and the collection's name (so two collections
//! generated with one seed do not share draws); names, companies, cities and job titles come
//! from the `fake` crate's French and English locales; the rest (amounts, calendars, recurring
//! charges) are drawn here from distributions chosen to look like a person's year.
//!
//! Every record falls inside [`window`]: whole days from just after `today` less the window's
//! months to `today`, so that a grant of the same months made during `today` covers them all.
//!
//! May touch: nothing; pure data.

use fake::Fake;
use fake::faker::address::raw::CityName;
use fake::faker::company::raw::{Bs, CompanyName, Industry};
use fake::faker::job::raw::{Field as JobField, Position};
use fake::faker::lorem::raw::Word;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{EN, FR_FR};
use rand::rngs::ChaCha8Rng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};

use insitu_formats::schema::{
    BANK_TRANSACTIONS, CAREER_EDUCATION, CAREER_POSITIONS, CAREER_SKILLS, FieldType,
    PROFILE_ANSWERS, PURCHASED_PRODUCTS, RECEIPT_ITEMS, USAGE_EVENTS,
};
use insitu_formats::time::{DAY_MS, civil_from_days, days_from_civil};

use crate::store::{Record, Schema, Value};

/// The seed when none is given.
pub const DEFAULT_SEED: u64 = 42;
/// The window, in months, of a collection the manifest asks for over all time.
pub const DEFAULT_MONTHS: u32 = 24;
/// The most records one call generates.
pub const MAX_COUNT: usize = 10_000_000;
/// The length of a month in a grant's window, as requests count it.
pub use crate::request::MONTH_MS;

type Rng = ChaCha8Rng;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub count: usize,
    pub seed: u64,
    /// Any instant of the day the data ends on (milliseconds since the epoch, UTC).
    pub today_ms: i64,
    /// How far back the data goes; `None` for [`DEFAULT_MONTHS`].
    pub months: Option<u32>,
}

/// Why nothing was generated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenerateError {
    #[error("{0} records asked; at most {MAX_COUNT} are generated at once")]
    TooMany(usize),
    #[error("`{0}` is not COLLECTION=COUNT (like bank.transactions=1000)")]
    BadSpec(String),
}

/// The days generated records fall on: `[from, to]`, both midnight UTC. `to` is `today`'s
/// midnight; `from` is two days after `today` less `months` grant months, so that a grant
/// window of `months` opened at any moment of `today` covers every generated record.
pub fn window(today_ms: i64, months: Option<u32>) -> (i64, i64) {
    let to = today_ms.div_euclid(DAY_MS) * DAY_MS;
    let months = i64::from(months.unwrap_or(DEFAULT_MONTHS).max(1));
    let since = to.saturating_sub(months.saturating_mul(MONTH_MS));
    let from = (since.div_euclid(DAY_MS) + 2) * DAY_MS;
    (from.min(to), to)
}

/// Reads `COLLECTION=COUNT`.
pub fn parse_spec(s: &str) -> Result<(String, usize), GenerateError> {
    let bad = || GenerateError::BadSpec(s.to_string());
    let (c, n) = s.split_once('=').ok_or_else(bad)?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if c.trim().is_empty() {
        return Err(bad());
    }
    Ok((c.trim().to_string(), n))
}

/// `spec.count` records of `schema`, in time order. Standard collections get their own
/// generators (see `docs/GENERATED-DATA.md`); any other schema gets values by field type.
pub fn generate(schema: &Schema, spec: &Spec) -> Result<Vec<Record>, GenerateError> {
    if spec.count > MAX_COUNT {
        return Err(GenerateError::TooMany(spec.count));
    }
    let mut g = Gen::new(schema, spec);
    if Schema::standard(&schema.name).as_ref() != Some(schema) {
        return Ok(g.generic(schema));
    }
    let rows: Vec<Record> = match schema.name.as_str() {
        BANK_TRANSACTIONS => g.bank(),
        RECEIPT_ITEMS => g.receipts(),
        PURCHASED_PRODUCTS => g.purchases(),
        CAREER_POSITIONS => g.positions(),
        CAREER_EDUCATION => g.education(),
        CAREER_SKILLS => g.skills(),
        PROFILE_ANSWERS => g.answers(),
        USAGE_EVENTS => g.usage(),
        _ => return Ok(g.generic(schema)),
    }
    .into_iter()
    .map(|row| g.shape(schema, row))
    .collect();
    Ok(rows)
}

/// The records as JSON Lines, one object per record with the schema's field names (money as
/// `{"minor": .., "currency": ..}`, times in RFC 3339 UTC), as `insitu import` reads them.
pub fn jsonl(schema: &Schema, records: &[Record]) -> String {
    let mut out = String::new();
    for r in records {
        let mut obj = serde_json::Map::new();
        for (f, v) in schema.fields.iter().zip(r) {
            let j = match v {
                Value::Null => continue,
                Value::Text(s) => serde_json::Value::from(s.as_str()),
                Value::Integer(i) => serde_json::Value::from(*i),
                Value::Float(x) => serde_json::Value::from(*x),
                Value::Boolean(b) => serde_json::Value::from(*b),
                Value::Money { minor, currency } => {
                    serde_json::json!({"minor": minor, "currency": currency})
                }
                Value::Timestamp(t) => {
                    serde_json::Value::from(insitu_formats::time::format_instant(*t))
                }
            };
            obj.insert(f.name.clone(), j);
        }
        out.push_str(&serde_json::Value::Object(obj).to_string());
        out.push('\n');
    }
    out
}

/// One generated record before it is put in schema order: field name and value.
type Row = Vec<(&'static str, Value)>;

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn eur(minor: i64) -> Value {
    Value::Money {
        minor,
        currency: "EUR".into(),
    }
}

/// `(year, month)` of a day number.
fn ym(day: i64) -> (i64, i64) {
    let (y, m, _) = civil_from_days(day);
    (y, m)
}

/// Month names as French bank labels print them.
const MOIS: [&str; 12] = [
    "JANVIER",
    "FEVRIER",
    "MARS",
    "AVRIL",
    "MAI",
    "JUIN",
    "JUILLET",
    "AOUT",
    "SEPTEMBRE",
    "OCTOBRE",
    "NOVEMBRE",
    "DECEMBRE",
];

struct Gen {
    rng: Rng,
    count: usize,
    /// First and last day (day numbers since the epoch), inclusive.
    first: i64,
    last: i64,
    months: u32,
}

impl Gen {
    fn new(schema: &Schema, spec: &Spec) -> Gen {
        let mut h = Sha256::new();
        h.update(spec.seed.to_le_bytes());
        h.update(schema.name.as_bytes());
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&h.finalize());
        let (from, to) = window(spec.today_ms, spec.months);
        Gen {
            rng: Rng::from_seed(seed),
            count: spec.count,
            first: from / DAY_MS,
            last: to / DAY_MS,
            months: spec.months.unwrap_or(DEFAULT_MONTHS).max(1),
        }
    }

    /// Puts a row's values in schema order (absent fields are null).
    fn shape(&self, schema: &Schema, mut row: Row) -> Record {
        schema
            .fields
            .iter()
            .map(|f| {
                row.iter()
                    .position(|(n, _)| *n == f.name)
                    .map(|i| row.swap_remove(i).1)
                    .unwrap_or(Value::Null)
            })
            .collect()
    }

    fn normal(&mut self) -> f64 {
        // Box-Muller.
        let u1: f64 = self.rng.random_range(f64::EPSILON..1.0);
        let u2: f64 = self.rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A log-normal amount in minor units with the given median (minor units) and spread.
    fn lognormal(&mut self, median: f64, sigma: f64) -> i64 {
        (median * (sigma * self.normal()).exp()).round().max(1.0) as i64
    }

    fn day_in(&mut self, first: i64, last: i64) -> i64 {
        if last <= first {
            first
        } else {
            self.rng.random_range(first..=last)
        }
    }

    /// A day of the window, weekdays twice as likely as weekends for shopping.
    fn shopping_day(&mut self, first: i64) -> i64 {
        loop {
            let d = self.day_in(first, self.last);
            // 1970-01-01 was a Thursday: (d + 3) % 7 is 0 on Mondays.
            let weekday = (d + 3).rem_euclid(7);
            if weekday < 5 || self.rng.random_bool(0.5) {
                return d;
            }
        }
    }

    fn first_name(&mut self) -> String {
        FirstName(FR_FR).fake_with_rng(&mut self.rng)
    }

    fn last_name(&mut self) -> String {
        LastName(FR_FR).fake_with_rng(&mut self.rng)
    }

    fn city(&mut self) -> String {
        CityName(FR_FR).fake_with_rng(&mut self.rng)
    }

    fn company(&mut self) -> String {
        CompanyName(EN).fake_with_rng(&mut self.rng)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items
            .choose(&mut self.rng)
            .cloned()
            .expect("a non-empty list")
    }

    /// The first day of data for a collection of `count` records at about `per_month` a
    /// month: recent months first, so that a small count is not spread thin over years.
    fn span_start(&self, per_month: usize) -> i64 {
        let months = self
            .count
            .div_ceil(per_month.max(1))
            .clamp(1, self.months as usize) as i64;
        let start = self.last - (months * MONTH_MS) / DAY_MS;
        start.max(self.first)
    }

    // ---- bank.transactions ----------------------------------------------------------------

    fn bank(&mut self) -> Vec<Row> {
        let account = iban(&mut self.rng);
        let first = self.span_start(40);
        let employer = self.company().to_uppercase();
        let salary = self.lognormal(265_000.0, 0.25).clamp(150_000, 900_000);
        let salary_day = self.rng.random_range(25..=28);
        let agency = format!("Agence {} Immobilier", self.last_name());
        let rent = self.lognormal(85_000.0, 0.3).clamp(35_000, 250_000);
        let agency_fee = self.rng.random_range(1_500..=4_500);
        let bank_fee = self.pick(&[199i64, 250, 290, 350]);
        let card_fee = self.pick(&[380i64, 450, 520]);
        // Monthly direct debits: (counterparty, label, median minor units, spread, day).
        let bills: [(&str, &str, i64, f64); 8] = [
            ("EDF", "PRLV SEPA EDF ELECTRICITE", 6_500, 0.3),
            ("Veolia Eau", "PRLV SEPA VEOLIA EAU", 2_800, 0.2),
            ("Orange", "PRLV SEPA ORANGE BOX INTERNET", 3_999, 0.0),
            ("Free Mobile", "PRLV SEPA FREE MOBILE", 1_999, 0.0),
            ("Netflix", "PRLV SEPA NETFLIX.COM", 1_349, 0.0),
            ("Spotify", "PRLV SEPA SPOTIFY", 1_199, 0.0),
            ("MAIF", "PRLV SEPA MAIF ASSURANCE HABITATION", 2_150, 0.0),
            ("Basic-Fit", "PRLV SEPA BASIC FIT ABONNEMENT", 2_999, 0.0),
        ];
        let n_bills = self.rng.random_range(4..=bills.len());
        let mut chosen: Vec<(&str, &str, i64, f64, i64)> = Vec::new();
        for (cp, label, median, spread) in bills.iter().take(n_bills) {
            let day = self.rng.random_range(3..=20);
            chosen.push((cp, label, *median, *spread, day));
        }
        let mut txs: Vec<(i64, Row)> = Vec::new();
        let mut seq = 0u64;
        let mut reference = |rng: &mut Rng| {
            seq += 1;
            format!("E2E{:08X}{seq:06}", rng.random::<u32>())
        };
        // Every month of the span, from the first one that starts inside it.
        let (y0, m0) = ym(first);
        let (y1, m1) = ym(self.last);
        let mut month = y0 * 12 + m0 - 1;
        while month < y1 * 12 + m1 {
            let (y, m) = (month.div_euclid(12), month.rem_euclid(12) + 1);
            let at = |d: i64| days_from_civil(y, m, d);
            let mois = MOIS[(m - 1) as usize];
            let mut monthly: Vec<(i64, Row)> = Vec::new();
            let pay = salary + self.rng.random_range(-3_000..=3_000);
            monthly.push((
                at(salary_day),
                vec![
                    ("amount", eur(pay)),
                    ("counterparty", text(employer.clone())),
                    (
                        "label",
                        text(format!("VIR SEPA SALAIRE {employer} {mois} {y}")),
                    ),
                    ("reference", text(reference(&mut self.rng))),
                ],
            ));
            monthly.push((
                at(self.rng.random_range(1..=5)),
                vec![
                    ("amount", eur(-rent)),
                    ("counterparty", text(agency.clone())),
                    ("label", text(format!("PRLV SEPA LOYER {mois} {y}"))),
                    ("reference", text(reference(&mut self.rng))),
                ],
            ));
            monthly.push((
                at(self.rng.random_range(1..=5)),
                vec![
                    ("amount", eur(-agency_fee)),
                    ("counterparty", text(agency.clone())),
                    ("label", text(format!("FRAIS DE GESTION {mois}"))),
                    ("reference", text(reference(&mut self.rng))),
                ],
            ));
            // Letting-agency micro-fees some months: a notice, a receipt, a reminder.
            if self.rng.random_bool(0.3) {
                let (label, amount) = self.pick(&[
                    ("FRAIS AVIS D'ECHEANCE", 250i64),
                    ("FRAIS QUITTANCE", 300),
                    ("FRAIS RELANCE", 1_500),
                ]);
                monthly.push((
                    at(self.rng.random_range(6..=15)),
                    vec![
                        ("amount", eur(-amount)),
                        ("counterparty", text(agency.clone())),
                        ("label", text(format!("{label} {mois}"))),
                        ("reference", text(reference(&mut self.rng))),
                    ],
                ));
            }
            for (cp, label, median, spread, day) in chosen.clone() {
                let amount = if spread == 0.0 {
                    median
                } else {
                    self.lognormal(median as f64, spread)
                };
                monthly.push((
                    at(day),
                    vec![
                        ("amount", eur(-amount)),
                        ("counterparty", text(cp)),
                        ("label", text(label)),
                        ("reference", text(reference(&mut self.rng))),
                    ],
                ));
            }
            monthly.push((
                at(self.rng.random_range(1..=3)),
                vec![
                    ("amount", eur(-bank_fee)),
                    ("label", text("FRAIS TENUE DE COMPTE")),
                ],
            ));
            if m == 1 {
                monthly.push((
                    at(10),
                    vec![
                        ("amount", eur(-card_fee * 12)),
                        ("label", text("COTISATION CARTE VISA PREMIER")),
                    ],
                ));
            }
            if self.rng.random_bool(0.05) {
                monthly.push((
                    at(self.rng.random_range(10..=25)),
                    vec![
                        ("amount", eur(-800)),
                        ("label", text("COMMISSION D'INTERVENTION")),
                    ],
                ));
            }
            txs.extend(
                monthly
                    .into_iter()
                    .filter(|(d, _)| (first..=self.last).contains(d)),
            );
            month += 1;
        }
        // Fewer records than the recurring ones: keep the most recent.
        txs.sort_by_key(|(d, _)| *d);
        if txs.len() > self.count {
            txs.drain(..txs.len() - self.count);
        }
        let cards = self.count - txs.len();
        for _ in 0..cards {
            txs.push(self.card_purchase(first));
        }
        // A card charge taken twice now and then (the duplicate rule's case).
        if cards > 50 {
            let dups = cards / 200 + 1;
            for _ in 0..dups {
                let i = self.rng.random_range(0..txs.len());
                let (d, row) = txs[i].clone();
                if is_card(&row) {
                    let j = self.rng.random_range(0..txs.len());
                    if is_card(&txs[j].1) {
                        txs[j] = ((d + self.rng.random_range(0..=1)).min(self.last), row);
                    }
                }
            }
        }
        txs.sort_by_key(|(d, _)| *d);
        let mut balance = self.rng.random_range(80_000..=400_000i64);
        txs.into_iter()
            .map(|(d, mut row)| {
                let booked = d * DAY_MS;
                let amount = row
                    .iter()
                    .find_map(|(n, v)| match (n, v) {
                        (&"amount", Value::Money { minor, .. }) => Some(*minor),
                        _ => None,
                    })
                    .unwrap_or(0);
                balance += amount;
                let value_date = if is_card(&row) {
                    (d + self.rng.random_range(0..=2)).min(self.last) * DAY_MS
                } else {
                    booked
                };
                row.push(("account", text(account.clone())));
                row.push(("booked", Value::Timestamp(booked)));
                row.push(("value_date", Value::Timestamp(value_date)));
                row.push(("balance", eur(balance)));
                row
            })
            .collect()
    }

    /// A card purchase, a cash withdrawal or a transfer from a friend.
    fn card_purchase(&mut self, first: i64) -> (i64, Row) {
        let d = self.shopping_day(first);
        let (dd, mm) = {
            let (_, m, day) = civil_from_days(d);
            (day, m)
        };
        let roll: f64 = self.rng.random();
        let (label, cp, amount) = if roll < 0.05 {
            let amount = self.pick(&[2_000i64, 4_000, 5_000, 10_000]);
            (
                format!("RETRAIT DAB {dd:02}/{mm:02} {}", self.city().to_uppercase()),
                None,
                -amount,
            )
        } else if roll < 0.08 {
            let who = format!("{} {}", self.first_name(), self.last_name());
            let amount = self.lognormal(3_000.0, 0.8);
            (
                format!("VIR SEPA {} REMBOURSEMENT", who.to_uppercase()),
                Some(who),
                amount,
            )
        } else {
            // (merchant pattern, median minor units, spread, weight)
            let kinds: [(&str, f64, f64, u32); 10] = [
                ("supermarket", 4_500.0, 0.6, 30),
                ("bakery", 650.0, 0.4, 18),
                ("restaurant", 2_800.0, 0.5, 12),
                ("fuel", 6_000.0, 0.3, 6),
                ("pharmacy", 1_800.0, 0.6, 5),
                ("online", 3_500.0, 0.9, 10),
                ("train", 5_500.0, 0.6, 3),
                ("clothes", 4_500.0, 0.6, 5),
                ("cafe", 450.0, 0.3, 8),
                ("diy", 3_200.0, 0.8, 3),
            ];
            let total: u32 = kinds.iter().map(|k| k.3).sum();
            let mut r = self.rng.random_range(0..total);
            let mut kind = kinds[0];
            for k in kinds {
                if r < k.3 {
                    kind = k;
                    break;
                }
                r -= k.3;
            }
            let city = self.city().to_uppercase();
            let name = self.last_name().to_uppercase();
            let merchant = match kind.0 {
                "supermarket" => format!(
                    "{} {city}",
                    self.pick(&[
                        "CARREFOUR MARKET",
                        "E.LECLERC",
                        "LIDL",
                        "MONOPRIX",
                        "INTERMARCHE",
                        "AUCHAN"
                    ])
                ),
                "bakery" => format!("BOULANGERIE {name}"),
                "restaurant" => format!("RESTAURANT {name}"),
                "fuel" => format!(
                    "{} {city}",
                    self.pick(&["TOTALENERGIES", "ESSO", "STATION U"])
                ),
                "pharmacy" => format!("PHARMACIE {name}"),
                "online" => self
                    .pick(&[
                        "AMAZON EU SARL",
                        "FNAC.COM",
                        "CDISCOUNT",
                        "VINTED",
                        "ZALANDO",
                    ])
                    .to_string(),
                "train" => "SNCF VOYAGEURS".to_string(),
                "clothes" => format!(
                    "{} {city}",
                    self.pick(&["DECATHLON", "KIABI", "H&M", "ZARA"])
                ),
                "cafe" => format!("CAFE {name}"),
                _ => format!(
                    "{} {city}",
                    self.pick(&["LEROY MERLIN", "CASTORAMA", "BRICOMARCHE"])
                ),
            };
            let amount = self.lognormal(kind.1, kind.2);
            (
                format!("CB {merchant} {dd:02}/{mm:02}"),
                Some(merchant),
                -amount,
            )
        };
        let mut row = vec![("amount", eur(amount)), ("label", text(label))];
        if let Some(cp) = cp {
            row.push(("counterparty", text(cp)));
        }
        (d, row)
    }

    // ---- receipts.items -------------------------------------------------------------------

    fn receipts(&mut self) -> Vec<Row> {
        let city = self.city();
        let shops: Vec<String> = ["Carrefour Market", "Monoprix", "Lidl", "Biocoop"]
            .iter()
            .map(|s| format!("{s} {city}"))
            .collect();
        // About two receipts a week of about eight lines.
        let first = self.span_start(70);
        let mut rows = Vec::with_capacity(self.count);
        let mut n = 0u32;
        while rows.len() < self.count {
            n += 1;
            let shop = self.pick(&shops);
            let day = self.shopping_day(first);
            let minute = self.rng.random_range(8 * 60..20 * 60);
            let at = day * DAY_MS + minute * 60_000;
            let receipt = format!("T-{:04}-{n:05}", day.rem_euclid(10_000));
            let lines = self.rng.random_range(3..=14).min(self.count - rows.len());
            for _ in 0..lines {
                let p = self.pick(PRODUCTS);
                let drift = 1.0 + 0.04 * self.normal();
                let unit_price = ((p.price as f64) * drift).round().max(1.0) as i64;
                let quantity = if p.unit == "kg" {
                    (self.rng.random_range(150..1_500) as f64) / 1000.0
                } else {
                    f64::from(*[1u32, 1, 1, 2, 2, 3].choose(&mut self.rng).expect("list"))
                };
                let total = round_half_even(quantity * unit_price as f64);
                rows.push(vec![
                    ("shop", text(shop.clone())),
                    ("date", Value::Timestamp(at)),
                    ("receipt", text(receipt.clone())),
                    ("product", text(p.name)),
                    ("barcode", p.barcode().map(text).unwrap_or(Value::Null)),
                    ("quantity", Value::Float(quantity)),
                    ("unit", text(p.unit)),
                    ("unit_price", eur(unit_price)),
                    ("total", eur(total)),
                ]);
            }
        }
        sort_by_time(&mut rows, "date");
        rows
    }

    // ---- purchases.products ---------------------------------------------------------------

    fn purchases(&mut self) -> Vec<Row> {
        let first = self.span_start(20);
        let mut rows = Vec::with_capacity(self.count);
        for _ in 0..self.count {
            let p = self.pick(PACKED);
            let day = self.shopping_day(first);
            let at = day * DAY_MS + self.rng.random_range(8 * 3_600_000..21 * 3_600_000);
            // Most packs are weighed about right; about one in ten is short by 3 to 8 %.
            let measured = if self.rng.random_bool(0.6) {
                let ratio = if self.rng.random_bool(0.1) {
                    1.0 - self.rng.random_range(0.03..0.08)
                } else {
                    1.0 + 0.01 * self.normal()
                };
                Value::Float(((p.declared * ratio) * 10.0).round() / 10.0)
            } else {
                Value::Null
            };
            rows.push(vec![
                ("recorded", Value::Timestamp(at)),
                ("product", text(p.name)),
                ("barcode", text(ean13(p.code))),
                ("declared_quantity", Value::Float(p.declared)),
                ("unit", text(p.unit)),
                ("measured_quantity", measured),
            ]);
        }
        sort_by_time(&mut rows, "recorded");
        rows
    }

    // ---- career ---------------------------------------------------------------------------

    /// A career path: consecutive positions, each more senior, the last one current.
    fn positions(&mut self) -> Vec<Row> {
        let n = self.count as i64;
        let field: String = JobField(EN).fake_with_rng(&mut self.rng);
        let position: String = Position(EN).fake_with_rng(&mut self.rng);
        let span = self.last - self.first;
        // Each position lasts 1 to 5 years, squeezed into the window when it is shorter.
        let lengths: Vec<i64> = (0..n)
            .map(|_| self.rng.random_range(365..=5 * 365))
            .collect();
        let total: i64 = lengths.iter().sum::<i64>().max(1);
        let scale = if total > span {
            span as f64 / total as f64
        } else {
            1.0
        };
        let mut start = self.last - ((total as f64 * scale) as i64);
        let mut rows = Vec::new();
        for (i, len) in lengths.iter().enumerate() {
            let len = ((*len as f64) * scale).max(1.0) as i64;
            let level =
                SENIORITY[(i * SENIORITY.len() / self.count.max(1)).min(SENIORITY.len() - 1)];
            let title = format!("{level} {field} {position}").trim().to_string();
            let company = self.company();
            let current = i as i64 == n - 1;
            let ended = (!current).then(|| Value::Timestamp((start + len).min(self.last) * DAY_MS));
            let what: String = Bs(EN).fake_with_rng(&mut self.rng);
            let industry: String = Industry(EN).fake_with_rng(&mut self.rng);
            rows.push(vec![
                ("company", text(company)),
                ("title", text(title)),
                ("location", text(self.city())),
                ("started", Value::Timestamp(start.max(self.first) * DAY_MS)),
                ("ended", ended.unwrap_or(Value::Null)),
                ("description", text(format!("{industry}: {what}."))),
            ]);
            start = (start + len).min(self.last);
        }
        rows
    }

    /// Degrees one after the other, from the baccalauréat up.
    fn education(&mut self) -> Vec<Row> {
        let degrees = [
            ("Baccalauréat général", 3 * 365),
            ("Licence", 3 * 365),
            ("Master", 2 * 365),
            ("Doctorat", 3 * 365),
            ("MBA", 365),
        ];
        let n = self.count;
        let lengths: Vec<i64> = (0..n).map(|i| degrees[i % degrees.len()].1).collect();
        let total: i64 = lengths.iter().sum::<i64>().max(1);
        let span = self.last - self.first;
        let scale = if total > span {
            span as f64 / total as f64
        } else {
            1.0
        };
        let mut start = self.first + ((span as f64 - total as f64 * scale) as i64) / 2;
        let mut rows = Vec::new();
        for (i, len) in lengths.iter().enumerate() {
            let len = ((*len as f64) * scale).max(1.0) as i64;
            let city = self.city();
            let school = if i == 0 {
                format!("Lycée {} {}", self.last_name(), city)
            } else {
                format!("Université de {city}")
            };
            let subject: String = JobField(EN).fake_with_rng(&mut self.rng);
            let (degree, _) = degrees[i % degrees.len()];
            let club: String = Word(EN).fake_with_rng(&mut self.rng);
            rows.push(vec![
                ("school", text(school)),
                ("degree", text(format!("{degree} {subject}"))),
                ("started", Value::Timestamp(start.min(self.last) * DAY_MS)),
                (
                    "ended",
                    Value::Timestamp((start + len).min(self.last) * DAY_MS),
                ),
                (
                    "notes",
                    text(format!(
                        "Mention {}",
                        self.pick(&["assez bien", "bien", "très bien"])
                    )),
                ),
                ("activities", text(format!("Club {club}"))),
            ]);
            start = (start + len).min(self.last);
        }
        rows
    }

    /// Distinct skills.
    fn skills(&mut self) -> Vec<Row> {
        let mut pool: Vec<String> = SKILLS.iter().map(|s| s.to_string()).collect();
        let mut out = Vec::new();
        while out.len() < self.count {
            if pool.is_empty() {
                let field: String = JobField(EN).fake_with_rng(&mut self.rng);
                pool.push(format!("{field} ({})", out.len()));
            }
            let i = self.rng.random_range(0..pool.len());
            out.push(vec![("skill", text(pool.swap_remove(i)))]);
        }
        out
    }

    // ---- profile.answers ------------------------------------------------------------------

    /// Questionnaires answered whole, at one moment each.
    fn answers(&mut self) -> Vec<Row> {
        let first = self.span_start(QUESTIONS.len() * 2);
        let mut rows = Vec::new();
        let household = self.rng.random_range(1..=5u32);
        while rows.len() < self.count {
            let day = self.day_in(first, self.last - 1);
            let at = day * DAY_MS + self.rng.random_range(7 * 3_600_000..23 * 3_600_000);
            for (q, answers) in QUESTIONS {
                if rows.len() == self.count {
                    break;
                }
                let answer = if *q == "Household size" {
                    household.to_string()
                } else {
                    self.pick(answers).to_string()
                };
                rows.push(vec![
                    ("answered", Value::Timestamp(at)),
                    ("questionnaire", text("Household profile v1")),
                    ("question", text(*q)),
                    ("answer", text(answer)),
                ]);
            }
        }
        sort_by_time(&mut rows, "answered");
        rows
    }

    // ---- usage.events ---------------------------------------------------------------------

    /// A household's devices used through the day, mornings and evenings most.
    fn usage(&mut self) -> Vec<Row> {
        let first = self.span_start(300);
        let mut rows = Vec::with_capacity(self.count);
        for _ in 0..self.count {
            let (product, place, activities) = self.pick(DEVICES);
            let (activity, median_s) = self.pick(activities);
            let day = self.day_in(first, self.last - 1);
            // Hours weighted towards 7-9 and 18-22.
            let hour = self.pick(&[
                0, 6, 7, 7, 7, 8, 8, 9, 10, 11, 12, 12, 13, 14, 15, 16, 17, 18, 18, 19, 19, 19, 20,
                20, 20, 21, 21, 22, 23,
            ]);
            let at = day * DAY_MS + hour * 3_600_000 + self.rng.random_range(0..3_600_000);
            let time_of_day = match hour {
                0..=5 => "night",
                6..=11 => "morning",
                12..=17 => "afternoon",
                _ => "evening",
            };
            let duration = self.lognormal(median_s as f64, 0.5);
            rows.push(vec![
                ("at", Value::Timestamp(at)),
                ("product", text(product)),
                ("activity", text(activity)),
                ("place_kind", text(place)),
                ("time_of_day", text(time_of_day)),
                ("device", text(format!("{}-1", product.replace(' ', "-")))),
                ("duration_s", Value::Integer(duration)),
            ]);
        }
        sort_by_time(&mut rows, "at");
        rows
    }

    // ---- any other schema -----------------------------------------------------------------

    /// Records of a schema that is not standard: a value per field, by type, spread evenly
    /// over the window and in time order.
    fn generic(&mut self, schema: &Schema) -> Vec<Record> {
        let first = self.span_start(100);
        let mut rows: Vec<Record> = (0..self.count)
            .map(|_| generic_record(schema, &mut self.rng, first, self.last))
            .collect();
        if let Some(i) = schema.time_index() {
            rows.sort_by_key(|r| match r[i] {
                Value::Timestamp(t) => t,
                _ => 0,
            });
        }
        rows
    }
}

/// A record of any schema: a value per field, by type.
fn generic_record(schema: &Schema, rng: &mut Rng, first: i64, last: i64) -> Record {
    schema
        .fields
        .iter()
        .map(|f| {
            if f.optional && rng.random_bool(0.1) {
                // Optional fields are empty one time in ten.
                return Value::Null;
            }
            match f.ty {
                FieldType::Text => Value::Text(Word(EN).fake_with_rng(rng)),
                FieldType::Integer => Value::Integer(rng.random_range(0..1_000)),
                FieldType::Float => Value::Float((rng.random_range(0..100_000) as f64) / 100.0),
                FieldType::Money => Value::Money {
                    minor: rng.random_range(-50_000..50_000),
                    currency: "EUR".into(),
                },
                FieldType::Timestamp => {
                    Value::Timestamp(rng.random_range(first * DAY_MS..(last + 1) * DAY_MS - 1))
                }
                FieldType::Boolean => Value::Boolean(rng.random_bool(0.5)),
            }
        })
        .collect()
}

/// Whether a bank row is a card purchase (`CB ...`).
fn is_card(row: &Row) -> bool {
    row.iter()
        .any(|(n, v)| *n == "label" && matches!(v, Value::Text(t) if t.starts_with("CB ")))
}

fn sort_by_time(rows: &mut [Row], field: &str) {
    rows.sort_by_key(|r| {
        r.iter()
            .find_map(|(n, v)| match v {
                Value::Timestamp(t) if *n == field => Some(*t),
                _ => None,
            })
            .unwrap_or(0)
    });
}

fn round_half_even(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        (r - x.signum()) as i64
    } else {
        r as i64
    }
}

/// A French IBAN with valid check digits (ISO 13616, mod 97).
fn iban(rng: &mut Rng) -> String {
    let bban: String = (0..23)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    // BBAN, then "FR00" as digits (F=15, R=27).
    let digits = format!("{bban}152700");
    let rem = digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    format!("FR{:02}{bban}", 98 - rem)
}

/// An EAN-13 with its check digit, from the 12 first digits.
fn ean13(code: u64) -> String {
    let body = format!("{:012}", code % 1_000_000_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

const SENIORITY: [&str; 5] = ["Junior", "", "Senior", "Lead", "Head of"];

/// A grocery product: its name, unit, typical unit price (minor units) and code.
#[derive(Clone)]
struct Product {
    name: &'static str,
    unit: &'static str,
    price: i64,
    code: u64,
}

impl Product {
    /// Weighed products have no barcode.
    fn barcode(&self) -> Option<String> {
        (self.unit != "kg").then(|| ean13(self.code))
    }
}

const PRODUCTS: &[Product] = &[
    Product {
        name: "Lait demi-écrémé 1L",
        unit: "piece",
        price: 109,
        code: 356_007_012_345,
    },
    Product {
        name: "Baguette tradition",
        unit: "piece",
        price: 120,
        code: 200_000_000_101,
    },
    Product {
        name: "Œufs plein air x6",
        unit: "piece",
        price: 259,
        code: 356_007_012_346,
    },
    Product {
        name: "Beurre doux 250 g",
        unit: "piece",
        price: 249,
        code: 376_012_345_001,
    },
    Product {
        name: "Yaourt nature x4",
        unit: "piece",
        price: 159,
        code: 303_349_001_234,
    },
    Product {
        name: "Comté 200 g",
        unit: "piece",
        price: 429,
        code: 376_012_345_002,
    },
    Product {
        name: "Pâtes penne 500 g",
        unit: "piece",
        price: 119,
        code: 807_680_012_345,
    },
    Product {
        name: "Riz basmati 1 kg",
        unit: "piece",
        price: 299,
        code: 356_007_012_347,
    },
    Product {
        name: "Café moulu 250 g",
        unit: "piece",
        price: 389,
        code: 303_349_001_235,
    },
    Product {
        name: "Huile d'olive 1L",
        unit: "piece",
        price: 899,
        code: 841_012_345_678,
    },
    Product {
        name: "Jus d'orange 1L",
        unit: "piece",
        price: 229,
        code: 356_007_012_348,
    },
    Product {
        name: "Eau minérale 6x1,5L",
        unit: "piece",
        price: 329,
        code: 304_870_012_345,
    },
    Product {
        name: "Chocolat noir 100 g",
        unit: "piece",
        price: 199,
        code: 761_012_345_678,
    },
    Product {
        name: "Lessive 2L",
        unit: "piece",
        price: 1099,
        code: 801_012_345_678,
    },
    Product {
        name: "Papier toilette x12",
        unit: "piece",
        price: 549,
        code: 356_007_012_349,
    },
    Product {
        name: "Tomates",
        unit: "kg",
        price: 379,
        code: 0,
    },
    Product {
        name: "Pommes Golden",
        unit: "kg",
        price: 249,
        code: 0,
    },
    Product {
        name: "Bananes",
        unit: "kg",
        price: 199,
        code: 0,
    },
    Product {
        name: "Carottes",
        unit: "kg",
        price: 149,
        code: 0,
    },
    Product {
        name: "Poulet fermier",
        unit: "kg",
        price: 1150,
        code: 0,
    },
    Product {
        name: "Emmental râpé 200 g",
        unit: "piece",
        price: 229,
        code: 376_012_345_003,
    },
    Product {
        name: "Sucre en poudre 1 kg",
        unit: "piece",
        price: 135,
        code: 311_012_345_678,
    },
];

/// A packed product with its declared net quantity.
#[derive(Clone)]
struct Packed {
    name: &'static str,
    declared: f64,
    unit: &'static str,
    code: u64,
}

const PACKED: &[Packed] = &[
    Packed {
        name: "Café moulu 250 g",
        declared: 250.0,
        unit: "g",
        code: 303_349_001_235,
    },
    Packed {
        name: "Comté 200 g",
        declared: 200.0,
        unit: "g",
        code: 376_012_345_002,
    },
    Packed {
        name: "Pâtes penne 500 g",
        declared: 500.0,
        unit: "g",
        code: 807_680_012_345,
    },
    Packed {
        name: "Riz basmati 1 kg",
        declared: 1000.0,
        unit: "g",
        code: 356_007_012_347,
    },
    Packed {
        name: "Jus d'orange 1L",
        declared: 1000.0,
        unit: "ml",
        code: 356_007_012_348,
    },
    Packed {
        name: "Huile d'olive 1L",
        declared: 1000.0,
        unit: "ml",
        code: 841_012_345_678,
    },
    Packed {
        name: "Chocolat noir 100 g",
        declared: 100.0,
        unit: "g",
        code: 761_012_345_678,
    },
    Packed {
        name: "Emmental râpé 200 g",
        declared: 200.0,
        unit: "g",
        code: 376_012_345_003,
    },
    Packed {
        name: "Lessive 2L",
        declared: 2000.0,
        unit: "ml",
        code: 801_012_345_678,
    },
    Packed {
        name: "Beurre doux 250 g",
        declared: 250.0,
        unit: "g",
        code: 376_012_345_001,
    },
];

const SKILLS: &[&str] = &[
    "Project management",
    "Negotiation",
    "Customer service",
    "Data analysis",
    "SQL",
    "Python",
    "Excel",
    "Public speaking",
    "Team leadership",
    "Accounting",
    "Budgeting",
    "Sales",
    "Marketing",
    "Copywriting",
    "UX design",
    "Recruiting",
    "Logistics",
    "Quality assurance",
    "Rust",
    "Java",
    "Statistics",
    "Teaching",
    "Event planning",
    "Translation (English)",
    "Photography",
    "Procurement",
    "Risk management",
    "Carpentry",
    "Cooking",
    "First aid",
];

const QUESTIONS: &[(&str, &[&str])] = &[
    ("Household size", &[]),
    ("Housing", &["tenant", "owner", "lodged for free"]),
    (
        "Employment",
        &[
            "employee",
            "self-employed",
            "student",
            "job seeker",
            "retired",
        ],
    ),
    (
        "Commute",
        &[
            "car",
            "public transport",
            "bicycle",
            "walking",
            "remote work",
        ],
    ),
    (
        "Satisfaction with your bank (1-5)",
        &["1", "2", "3", "4", "5"],
    ),
    (
        "Interests",
        &[
            "sport",
            "music",
            "cooking",
            "travel",
            "reading",
            "gardening",
        ],
    ),
];

type Device = (&'static str, &'static str, &'static [(&'static str, i64)]);

const DEVICES: &[Device] = &[
    ("thermostat", "home", &[("heat", 5_400), ("set", 20)]),
    ("washing machine", "home", &[("wash", 5_400)]),
    ("coffee machine", "home", &[("brew", 60)]),
    ("smart tv", "home", &[("watch", 4_500)]),
    ("car", "car", &[("drive", 1_800), ("charge", 7_200)]),
    (
        "laptop",
        "office",
        &[("work", 9_000), ("video call", 2_700)],
    ),
    ("banking app", "home", &[("open", 90), ("transfer", 120)]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_and_ean_check_digits() {
        let mut rng = Rng::seed_from_u64(1);
        let i = iban(&mut rng);
        assert_eq!(i.len(), 27);
        // Moving the country code and check digits to the end gives 1 mod 97.
        let moved = format!("{}152700", &i[4..]);
        let digits = format!("{}{}", &moved[..moved.len() - 2], &i[2..4]);
        let rem = digits
            .bytes()
            .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
        assert_eq!(rem, 1, "{i}");
        assert_eq!(ean13(400_638_133_393), "4006381333931");
    }

    /// 2026-11-30T15:00:00Z.
    const TODAY: i64 = 1_796_050_800_000;

    fn spec(count: usize, seed: u64, months: Option<u32>) -> Spec {
        Spec {
            count,
            seed,
            today_ms: TODAY,
            months,
        }
    }

    fn gen_std(name: &str, s: &Spec) -> (Schema, Vec<Record>) {
        let schema = Schema::standard(name).expect("standard");
        let records = generate(&schema, s).expect("generated");
        (schema, records)
    }

    fn field<'a>(schema: &Schema, r: &'a Record, name: &str) -> &'a Value {
        &r[schema.field(name).expect("field").0]
    }

    fn money(v: &Value) -> i64 {
        match v {
            Value::Money { minor, .. } => *minor,
            other => panic!("not money: {other:?}"),
        }
    }

    fn label(v: &Value) -> &str {
        match v {
            Value::Text(t) => t,
            _ => "",
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_other_data() {
        for name in insitu_formats::schema::STANDARD {
            let schema = Schema::standard(name).unwrap();
            let a = jsonl(&schema, &generate(&schema, &spec(300, 7, None)).unwrap());
            let b = jsonl(&schema, &generate(&schema, &spec(300, 7, None)).unwrap());
            let c = jsonl(&schema, &generate(&schema, &spec(300, 8, None)).unwrap());
            assert_eq!(a, b, "{name}: same seed, different data");
            assert_ne!(a, c, "{name}: another seed gave the same data");
        }
    }

    #[test]
    fn records_import_without_a_skip_count_exact_and_fall_in_the_window() {
        for name in insitu_formats::schema::STANDARD {
            for (count, months) in [(1, Some(24)), (7, Some(1)), (1000, Some(24)), (250, None)] {
                let (schema, records) = gen_std(name, &spec(count, 3, months));
                assert_eq!(records.len(), count, "{name}");
                let text = jsonl(&schema, &records);
                let keyed = crate::import::key_jsonl("generated", text.as_bytes(), &schema, TODAY)
                    .expect("parsed");
                assert!(keyed.bad.is_empty(), "{name}: {:?}", keyed.bad.first());
                assert_eq!(keyed.records.len(), count, "{name}");
                // Read back as written: the importer's values are the generator's.
                let back: Vec<&Record> = keyed.records.iter().map(|k| &k.values).collect();
                assert_eq!(back, records.iter().collect::<Vec<_>>(), "{name}");
                let Some(t) = schema.time_index() else {
                    continue;
                };
                // A grant of `months` opened at any moment of today covers every record.
                let day_end = (TODAY / DAY_MS + 1) * DAY_MS - 1;
                let since = day_end - i64::from(months.unwrap_or(DEFAULT_MONTHS)) * MONTH_MS;
                for r in &records {
                    let Value::Timestamp(at) = r[t] else {
                        panic!("{name}: no time")
                    };
                    assert!(at >= since && at <= day_end, "{name}: {at} outside");
                }
            }
        }
    }

    #[test]
    fn bank_transactions_have_a_monthly_salary_and_monthly_recurring_charges() {
        let (schema, records) = gen_std(BANK_TRANSACTIONS, &spec(1000, 11, Some(24)));
        let month = |r: &Record| match field(&schema, r, "booked") {
            Value::Timestamp(t) => ym(t / DAY_MS),
            _ => panic!("no date"),
        };
        let months: std::collections::BTreeSet<(i64, i64)> = records.iter().map(month).collect();
        // Whole months only: the first and last may be cut by the window.
        let whole: Vec<_> = months.iter().skip(1).take(months.len() - 2).collect();
        assert!(whole.len() >= 20, "{} months", whole.len());
        let in_month = |m: &(i64, i64), pred: &dyn Fn(&Record) -> bool| {
            records.iter().filter(|r| month(r) == *m && pred(r)).count()
        };
        let salary = |r: &Record| {
            money(field(&schema, r, "amount")) >= 150_000
                && label(field(&schema, r, "label")).contains("SALAIRE")
        };
        let rent = |r: &Record| label(field(&schema, r, "label")).starts_with("PRLV SEPA LOYER");
        let account_fee = |r: &Record| label(field(&schema, r, "label")) == "FRAIS TENUE DE COMPTE";
        for m in &whole {
            assert_eq!(in_month(m, &salary), 1, "salary in {m:?}");
            assert_eq!(in_month(m, &rent), 1, "rent in {m:?}");
            assert_eq!(in_month(m, &account_fee), 1, "account fee in {m:?}");
        }
        // One employer, one rent amount: the same counterparty and amount every month.
        let rents: std::collections::BTreeSet<i64> = records
            .iter()
            .filter(|r| rent(r))
            .map(|r| money(field(&schema, r, "amount")))
            .collect();
        assert_eq!(rents.len(), 1, "{rents:?}");
        // Card purchases make most of the rest, debits of plausible size.
        let cards: Vec<i64> = records
            .iter()
            .filter(|r| label(field(&schema, r, "label")).starts_with("CB "))
            .map(|r| money(field(&schema, r, "amount")))
            .collect();
        assert!(cards.len() > 600, "{} card purchases", cards.len());
        assert!(cards.iter().all(|a| *a < 0 && *a > -200_000));
        let mut sorted = cards.clone();
        sorted.sort();
        let median = -sorted[sorted.len() / 2];
        assert!(
            (500..10_000).contains(&median),
            "median card purchase {median}"
        );
        // The running balance adds up.
        let balances: Vec<i64> = records
            .iter()
            .map(|r| money(field(&schema, r, "balance")))
            .collect();
        for (i, r) in records.iter().enumerate().skip(1) {
            assert_eq!(
                balances[i] - balances[i - 1],
                money(field(&schema, r, "amount"))
            );
        }
    }

    #[test]
    fn receipts_add_up_and_careers_follow_each_other() {
        let (schema, items) = gen_std(RECEIPT_ITEMS, &spec(500, 5, Some(12)));
        for r in &items {
            let Value::Float(q) = field(&schema, r, "quantity") else {
                panic!("quantity")
            };
            let price = money(field(&schema, r, "unit_price"));
            let total = money(field(&schema, r, "total"));
            assert!((total as f64 - q * price as f64).abs() <= 0.5, "{r:?}");
        }
        let (schema, positions) = gen_std(CAREER_POSITIONS, &spec(5, 5, None));
        let time = |r: &Record, f: &str| match field(&schema, r, f) {
            Value::Timestamp(t) => Some(*t),
            _ => None,
        };
        for w in positions.windows(2) {
            assert_eq!(time(&w[0], "ended"), time(&w[1], "started"), "{w:?}");
        }
        assert_eq!(
            time(positions.last().unwrap(), "ended"),
            None,
            "current job"
        );
        let (schema, skills) = gen_std(CAREER_SKILLS, &spec(40, 5, None));
        let distinct: std::collections::BTreeSet<_> = skills
            .iter()
            .map(|r| field(&schema, r, "skill").clone().to_text())
            .collect();
        assert_eq!(distinct.len(), 40);
        // About one pack in ten weighed is short by 3 % or more.
        let (schema, packs) = gen_std(PURCHASED_PRODUCTS, &spec(2000, 5, Some(24)));
        let (mut weighed, mut short) = (0, 0);
        for r in &packs {
            if let (Value::Float(d), Value::Float(m)) = (
                field(&schema, r, "declared_quantity"),
                field(&schema, r, "measured_quantity"),
            ) {
                weighed += 1;
                if m / d < 0.975 {
                    short += 1;
                }
            }
        }
        assert!(
            weighed > 1000 && short > weighed / 20 && short < weighed / 5,
            "{short}/{weighed}"
        );
    }

    #[test]
    fn round_half_even_rounds_halves_to_even() {
        assert_eq!(round_half_even(2.5), 2);
        assert_eq!(round_half_even(3.5), 4);
        assert_eq!(round_half_even(2.4), 2);
    }
}
