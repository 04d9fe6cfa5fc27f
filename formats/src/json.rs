//! JSON formats: JSON Lines into any collection, receipts, and usage events.
//!
//! - **JSON Lines**: one object per line whose keys are the schema's field names. Money is
//!   `{"minor": -1234, "currency": "EUR"}` or `"-12.34 EUR"`; times follow
//!   [`crate::time::parse_time`] or are epoch milliseconds.
//! - **Receipts** (`receipts.items`): one receipt object, an array of them, or one per line:
//!
//!   ```json
//!   {"shop": "Carrefour Market Lyon 3", "date": "2024-03-02T17:21:00+01:00",
//!    "currency": "EUR", "id": "T-0042", "total": "4.20",
//!    "items": [{"product": "Lait demi-écrémé 1L", "barcode": "3560070123456",
//!               "quantity": 2, "unit": "piece", "unit_price": "1.09", "total": "2.18"},
//!              {"product": "Tomates", "quantity": 0.532, "unit": "kg", "unit_price": "3.79"}]}
//!   ```
//!
//!   Each item becomes a record. `quantity` defaults to 1 and `unit` to `piece`. Prices are
//!   strings or numbers read from their decimal text, never through a float; so is `quantity`,
//!   a positive decimal (`2`, `0.532`, `"0.532"`; not `1e-3`), stored as a float since it is
//!   not money. The arithmetic is exact: quantity × unit price, in the currency's minor units,
//!   may have more decimals than the currency (0.532 kg × 3.79 = 2.01628 EUR).
//!   - A line `total` given must equal the product when the product fits in minor units, else
//!     the product rounded to the nearest minor unit (at an exact half, either neighbour: the
//!     shop's rounding decides); anything else is refused, one minor unit off included.
//!   - With no line `total`, it is the product, rounded half to even when it does not fit in
//!     minor units, with a note naming the line.
//!   - The receipt's `total`, when given, must equal the sum of its line totals.
//!
//!   A receipt that does not add up, or with any bad field, is one bad record naming each bad
//!   field, and none of its items is imported.
//! - **Usage events** (`usage.events`): one object per line with `at`, `product`, `activity`
//!   and optionally `place_kind` (or `place`), `time_of_day`, `device`, `duration_s`. When
//!   `time_of_day` is absent and `at` carries an offset, it is derived from the local hour:
//!   night (0-5), morning (6-11), afternoon (12-17), evening (18-23).

use serde_json::{Map, Value as J};

use crate::schema::{FieldType, RECEIPT_ITEMS, Schema, USAGE_EVENTS, Value, parse_value};
use crate::{BadFields, BadRecord, FormatError, Item, Note, Options, Parsed, money, text, time};

type Object = Map<String, J>;

/// The objects of a JSON Lines file, with their line numbers; a line that is not an object is
/// a bad record.
fn lines(bytes: &[u8], out: &mut Parsed) -> Result<Vec<(u64, Object)>, FormatError> {
    let (text, _) = text::decode(bytes, None).map_err(|e| FormatError::new(0, e))?;
    let mut objects = Vec::new();
    for (line, l) in text::numbered_lines(&text) {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Object>(l) {
            Ok(o) => objects.push((line, o)),
            Err(e) => out.bad.push(BadRecord {
                line,
                element: None,
                field: "-".into(),
                reason: format!("not a JSON object: {e}"),
            }),
        }
    }
    Ok(objects)
}

/// JSON Lines into `opts.schema`.
pub fn parse_lines(bytes: &[u8], opts: &Options) -> Result<Parsed, FormatError> {
    let schema = opts.schema.as_ref().ok_or_else(|| {
        FormatError::new(0, "a JSON Lines file needs a collection: pass --collection")
    })?;
    let mut out = Parsed::new(&schema.name);
    for (line, obj) in lines(bytes, &mut out)? {
        out.push(line, record(schema, &obj));
    }
    Ok(out)
}

/// One object's values in schema order, or each bad field and why.
fn record(schema: &Schema, obj: &Object) -> Result<Vec<Value>, Vec<(String, String)>> {
    let mut bad = Vec::new();
    let values = schema
        .fields
        .iter()
        .map(|f| {
            value(f.ty, f.optional, obj.get(&f.name)).unwrap_or_else(|reason| {
                bad.push((f.name.clone(), reason));
                Value::Null
            })
        })
        .collect();
    if bad.is_empty() { Ok(values) } else { Err(bad) }
}

/// A JSON value as a field of type `ty`.
pub fn value(ty: FieldType, optional: bool, v: Option<&J>) -> Result<Value, String> {
    match (ty, v) {
        (_, None | Some(J::Null)) if optional => Ok(Value::Null),
        (_, None | Some(J::Null)) => Err("missing value".into()),
        (FieldType::Integer | FieldType::Timestamp, Some(J::Number(n))) => n
            .as_i64()
            .map(|i| {
                if ty == FieldType::Integer {
                    Value::Integer(i)
                } else {
                    Value::Timestamp(i)
                }
            })
            .ok_or_else(|| format!("`{n}` is not an integer")),
        (FieldType::Float, Some(J::Number(n))) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Value::Float)
            .ok_or_else(|| format!("`{n}` is not a number")),
        (FieldType::Boolean, Some(J::Bool(b))) => Ok(Value::Boolean(*b)),
        (FieldType::Money, Some(J::Object(o))) => match (
            o.get("minor").and_then(J::as_i64),
            o.get("currency").and_then(J::as_str),
        ) {
            (Some(minor), Some(c)) => Ok(Value::Money {
                minor,
                currency: money::currency(c)?,
            }),
            _ => Err(
                "money must be {\"minor\": integer, \"currency\": \"EUR\"} or \"-12.34 EUR\""
                    .into(),
            ),
        },
        (_, Some(J::String(s))) => parse_value(ty, optional, s.trim()),
        (_, Some(other)) => Err(format!("`{other}` is not a {}", ty.name())),
    }
}

/// Receipts with line items into `receipts.items`.
pub fn parse_receipts(bytes: &[u8], _opts: &Options) -> Result<Parsed, FormatError> {
    let mut out = Parsed::new(RECEIPT_ITEMS);
    let (text, _) = text::decode(bytes, None).map_err(|e| FormatError::new(0, e))?;
    let receipts: Vec<(u64, String, Object)> = match serde_json::from_str::<J>(&text) {
        Ok(J::Object(o)) => vec![(1, "receipt".into(), o)],
        Ok(J::Array(a)) => a
            .into_iter()
            .enumerate()
            .map(|(i, r)| match r {
                J::Object(o) => Ok((0, format!("receipt {}", i + 1), o)),
                _ => Err(FormatError::new(
                    0,
                    format!("receipt {} is not a JSON object", i + 1),
                )),
            })
            .collect::<Result<_, _>>()?,
        Ok(_) => return Err(FormatError::new(1, "receipts must be JSON objects")),
        Err(whole) => {
            let objs = lines(bytes, &mut out)?;
            if objs.is_empty() && !out.bad.is_empty() {
                return Err(FormatError::new(
                    whole.line() as u64,
                    format!("not JSON: {whole}"),
                ));
            }
            objs.into_iter()
                .map(|(line, o)| (line, "receipt".into(), o))
                .collect()
        }
    };
    for (line, element, r) in receipts {
        let mut bad = BadFields::default();
        let mut notes = Vec::new();
        let rows = receipt(&r, &element, &mut bad, &mut notes);
        match bad.check(line, Some(element.clone())) {
            Ok(()) => {
                out.items.extend(rows.into_iter().map(|values| Item {
                    line,
                    key: None,
                    values,
                }));
                out.notes.append(&mut notes);
            }
            Err(b) => out.bad.push(b),
        }
    }
    Ok(out)
}

fn text_field(o: &Object, name: &str, required: bool) -> Result<Option<String>, String> {
    match o.get(name) {
        Some(J::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(J::Number(n)) => Ok(Some(n.to_string())),
        None | Some(J::Null) if !required => Ok(None),
        Some(J::String(_)) | None | Some(J::Null) => Err("missing value".into()),
        Some(other) => Err(format!("`{other}` is not text")),
    }
}

/// A price as exact minor units: a string or a JSON number, read from its decimal text.
fn price(o: &Object, name: &str, currency: &str) -> Result<Option<i64>, String> {
    let raw = match o.get(name) {
        None | Some(J::Null) => return Ok(None),
        Some(J::String(s)) => s.trim().to_string(),
        Some(J::Number(n)) => n.to_string(),
        Some(other) => return Err(format!("`{other}` is not an amount")),
    };
    let raw = raw
        .strip_suffix(currency)
        .map_or(raw.as_str(), str::trim_end);
    money::parse_decimal(raw, money::exponent(currency), '.').map(Some)
}

/// A quantity as written: `digits` × 10^-`scale`, exactly.
#[derive(Debug, Clone, Default)]
struct Quantity {
    text: String,
    digits: i128,
    scale: u32,
}

/// Decimals a quantity may have (a gram of a kilogram price needs 3).
const MAX_QUANTITY_DECIMALS: u32 = 9;

/// A positive decimal quantity from its text; 1 when absent.
fn quantity(v: Option<&J>) -> Result<Quantity, String> {
    let text = match v {
        None | Some(J::Null) => "1".to_string(),
        Some(J::Number(n)) => n.to_string(),
        Some(J::String(s)) => s.trim().to_string(),
        Some(other) => other.to_string(),
    };
    let bad = || format!("`{text}` is not a positive decimal quantity like `0.532`");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || int.len() > 9 {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > MAX_QUANTITY_DECIMALS as usize {
        return Err(format!(
            "`{text}` has more than {MAX_QUANTITY_DECIMALS} decimals"
        ));
    }
    let digits: i128 = format!("{int}{frac}").parse().map_err(|_| bad())?;
    if digits == 0 {
        return Err(bad());
    }
    Ok(Quantity {
        scale: frac.len() as u32,
        digits,
        text,
    })
}

/// `num` / 10^`scale` minor units of `currency` as decimal text (`4.475`).
fn exact_text(num: i128, scale: u32, currency: &str) -> String {
    let places = money::exponent(currency) + scale;
    let sign = if num < 0 { "-" } else { "" };
    let digits = format!("{:0>w$}", num.unsigned_abs(), w = places as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - places as usize);
    let keep = money::exponent(currency) as usize;
    let frac = frac.trim_end_matches('0');
    let frac = format!("{frac:0<keep$}");
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A line's total from its quantity, unit price and the total printed, if any (see the module
/// doc for the rule); `note` says when it was rounded.
fn line_total(
    q: &Quantity,
    unit_price: i64,
    given: Option<i64>,
    currency: &str,
    note: &mut Option<(String, i64)>,
) -> Result<i64, String> {
    let f = |m: i64| money::format_minor(m, currency);
    let num = i128::from(unit_price) * q.digits;
    let den = 10i128.pow(q.scale);
    let product = format!("{} × {}", q.text, f(unit_price));
    let exact = exact_text(num, q.scale, currency);
    let fit = |v: i128| i64::try_from(v).map_err(|_| format!("{product} is too large"));
    let (floor, rem) = (num.div_euclid(den), num.rem_euclid(den));
    if rem == 0 {
        let total = fit(floor)?;
        return match given {
            Some(t) if t != total => Err(format!(
                "line total {} {currency} is not {product} = {}",
                f(t),
                f(total)
            )),
            _ => Ok(total),
        };
    }
    let nearest: Vec<i128> = match (2 * rem).cmp(&den) {
        std::cmp::Ordering::Less => vec![floor],
        std::cmp::Ordering::Greater => vec![floor + 1],
        std::cmp::Ordering::Equal => vec![floor, floor + 1],
    };
    match given {
        Some(t) if nearest.contains(&i128::from(t)) => Ok(t),
        Some(t) => {
            let options: Vec<String> = nearest
                .iter()
                .map(|&n| fit(n).map(f))
                .collect::<Result<_, _>>()?;
            Err(format!(
                "line total {} {currency} is not {product} = {exact} rounded to {}",
                f(t),
                options.join(" or ")
            ))
        }
        None => {
            // Half to even: the last candidate is floor + 1, the first floor.
            let even = nearest
                .iter()
                .copied()
                .find(|n| nearest.len() == 1 || n % 2 == 0)
                .unwrap_or(floor);
            let total = fit(even)?;
            *note = Some((exact, total));
            Ok(total)
        }
    }
}

/// A receipt's rows; every bad field goes to `bad` (and the rows are then not used).
fn receipt(
    r: &Object,
    element: &str,
    bad: &mut BadFields,
    notes: &mut Vec<Note>,
) -> Vec<Vec<Value>> {
    let required =
        |r: &Object, name: &str| text_field(r, name, true).map(Option::unwrap_or_default);
    let shop = bad.read("shop", required(r, "shop"));
    let date = bad.read(
        "date",
        required(r, "date").and_then(|d| time::parse_time(&d)),
    );
    let currency = bad.read(
        "currency",
        required(r, "currency").and_then(|c| money::currency(&c).map(Some)),
    );
    let id = bad.read("id", text_field(r, "id", false));
    let id = id.or_else(|| bad.read("receipt", text_field(r, "receipt", false)));
    let items = match r.get("items") {
        Some(J::Array(a)) if !a.is_empty() => a.as_slice(),
        _ => {
            let why = "a receipt needs a non-empty `items` list";
            bad.read::<()>("items", Err(why.into()));
            &[]
        }
    };
    let mut sum = Some(0i64);
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let name = |f: &str| format!("items[{i}].{f}");
        let J::Object(item) = item else {
            bad.read::<()>(&format!("items[{i}]"), Err("not a JSON object".into()));
            continue;
        };
        let product = bad.read(&name("product"), required(item, "product"));
        let barcode = bad.read(&name("barcode"), text_field(item, "barcode", false));
        let q = quantity(item.get("quantity"));
        let q_ok = q.is_ok();
        let q = bad.read(&name("quantity"), q);
        let unit = bad.read(&name("unit"), text_field(item, "unit", false));
        // Prices need the currency's exponent.
        let Some(currency) = &currency else {
            continue;
        };
        let unit_price = price(item, "unit_price", currency)
            .and_then(|p| p.ok_or_else(|| "missing value".to_string()));
        let unit_price = bad.read(&name("unit_price"), unit_price.map(Some));
        let given = price(item, "total", currency);
        let given_ok = given.is_ok();
        let given = bad.read(&name("total"), given);
        let (Some(unit_price), true, true) = (unit_price, q_ok, given_ok) else {
            sum = None;
            continue;
        };
        let mut rounded = None;
        let total = line_total(&q, unit_price, given, currency, &mut rounded);
        let total = bad.read(&name("total"), total.map(Some));
        notes.extend(rounded.map(|(exact, total)| Note::Rounded {
            element: element.to_string(),
            item: i,
            quantity: q.text.clone(),
            unit_price,
            exact,
            currency: currency.clone(),
            total,
        }));
        sum = sum.zip(total).and_then(|(s, t)| s.checked_add(t));
        let money = |minor| Value::Money {
            minor,
            currency: currency.clone(),
        };
        rows.push(vec![
            Value::Text(shop.clone()),
            Value::Timestamp(date),
            id.clone().map_or(Value::Null, Value::Text),
            Value::Text(product),
            barcode.map_or(Value::Null, Value::Text),
            Value::Float(q.text.parse().unwrap_or_default()),
            Value::Text(unit.unwrap_or_else(|| "piece".into())),
            money(unit_price),
            money(total.unwrap_or_default()),
        ]);
    }
    if let (Some(currency), Some(sum)) = (&currency, sum)
        && bad.is_empty()
    {
        let total = bad.read("total", price(r, "total", currency));
        if let Some(total) = total
            && total != sum
        {
            bad.read::<()>(
                "total",
                Err(format!(
                    "the receipt's total {} {currency} is not the sum of its lines, {}",
                    money::format_minor(total, currency),
                    money::format_minor(sum, currency)
                )),
            );
        }
    } else if sum.is_none() && bad.is_empty() {
        bad.read::<()>(
            "total",
            Err("the line totals are too large to add up".into()),
        );
    }
    rows
}

/// Usage events into `usage.events`.
pub fn parse_usage(bytes: &[u8], _opts: &Options) -> Result<Parsed, FormatError> {
    let schema = Schema::standard(USAGE_EVENTS).expect("a standard collection");
    let mut out = Parsed::new(USAGE_EVENTS);
    for (line, mut obj) in lines(bytes, &mut out)? {
        if let Some(place) = obj.remove("place")
            && !obj.contains_key("place_kind")
        {
            obj.insert("place_kind".into(), place);
        }
        if !obj.contains_key("time_of_day")
            && let Some(J::String(at)) = obj.get("at")
            && let Ok((ms, Some(offset))) = time::parse_instant(at)
        {
            let hour = (ms + offset * 60_000).rem_euclid(time::DAY_MS) / 3_600_000;
            let part = match hour {
                0..=5 => "night",
                6..=11 => "morning",
                12..=17 => "afternoon",
                _ => "evening",
            };
            obj.insert("time_of_day".into(), J::String(part.into()));
        }
        out.push(line, record(&schema, &obj));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_add_up_or_are_refused() {
        let ok = br#"{"shop":"Carrefour","date":"2024-03-02T17:21:00+01:00","currency":"EUR",
            "total":"4.20","items":[{"product":"Lait","quantity":2,"unit_price":"1.09","total":"2.18"},
            {"product":"Tomates","quantity":0.532,"unit":"kg","unit_price":3.79}]}"#;
        let p = parse_receipts(ok, &Options::default()).unwrap();
        assert!(p.bad.is_empty(), "{:?}", p.bad);
        assert_eq!(p.items.len(), 2);
        let eur = |minor| Value::Money {
            minor,
            currency: "EUR".into(),
        };
        assert_eq!(p.items[1].values[8], eur(202));
        assert_eq!(p.items[1].values[5], Value::Float(0.532));
        assert_eq!(p.items[0].values[6], Value::Text("piece".into()));
        let wrong = br#"{"shop":"A","date":"2024-03-02","currency":"EUR","total":"5.00",
            "items":[{"product":"Lait","quantity":2,"unit_price":"1.09"}]}"#;
        let p = parse_receipts(wrong, &Options::default()).unwrap();
        assert!(p.items.is_empty());
        assert_eq!(p.bad[0].field, "total");
        assert!(
            p.bad[0].reason.contains("not the sum of its lines, 2.18"),
            "{}",
            p.bad[0].reason
        );
        let line = br#"{"shop":"A","date":"2024-03-02","currency":"EUR",
            "items":[{"product":"Lait","quantity":2,"unit_price":"1.09","total":"3.00"}]}"#;
        let p = parse_receipts(line, &Options::default()).unwrap();
        assert_eq!(p.bad[0].field, "items[0].total");
    }

    #[test]
    fn usage_time_of_day_comes_from_the_local_hour() {
        let lines = b"{\"at\":\"2024-03-02T07:30:00+01:00\",\"product\":\"app\",\"activity\":\"open\",\"place\":\"home\"}\n\
            {\"at\":\"2024-03-02T23:30:00Z\",\"product\":\"app\",\"activity\":\"open\",\"time_of_day\":\"late\"}\n\
            {\"at\":\"2024-03-02\",\"product\":\"app\"}\n";
        let p = parse_usage(lines, &Options::default()).unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.items[0].values[3], Value::Text("home".into()));
        assert_eq!(p.items[0].values[4], Value::Text("morning".into()));
        assert_eq!(p.items[1].values[4], Value::Text("late".into()));
        assert_eq!((p.bad[0].line, p.bad[0].field.as_str()), (3, "activity"));
    }
}
