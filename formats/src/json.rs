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
//!   strings or numbers read from their decimal text, never through a float. A line `total`
//!   must equal quantity × unit price to the nearest minor unit, and the receipt's `total` the
//!   sum of its lines; a receipt that does not add up is one bad record and none of its items
//!   is imported.
//! - **Usage events** (`usage.events`): one object per line with `at`, `product`, `activity`
//!   and optionally `place_kind` (or `place`), `time_of_day`, `device`, `duration_s`. When
//!   `time_of_day` is absent and `at` carries an offset, it is derived from the local hour:
//!   night (0-5), morning (6-11), afternoon (12-17), evening (18-23).

use serde_json::{Map, Value as J};

use crate::schema::{FieldType, RECEIPT_ITEMS, Schema, USAGE_EVENTS, Value, parse_value};
use crate::{BadRecord, FormatError, Item, Options, Parsed, money, text, time};

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
        out.push(line, record(schema, &obj).map_err(|e| vec![e]));
    }
    Ok(out)
}

/// One object's values in schema order, or the first bad field and why.
fn record(schema: &Schema, obj: &Object) -> Result<Vec<Value>, (String, String)> {
    schema
        .fields
        .iter()
        .map(|f| value(f.ty, f.optional, obj.get(&f.name)).map_err(|r| (f.name.clone(), r)))
        .collect()
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
        match receipt(&r) {
            Ok(items) => out.items.extend(items.into_iter().map(|values| Item {
                line,
                key: None,
                values,
            })),
            Err((field, reason)) => out.bad.push(BadRecord {
                line,
                element: Some(element),
                field,
                reason,
            }),
        }
    }
    Ok(out)
}

type Bad = (String, String);

fn text_field(o: &Object, name: &str, required: bool) -> Result<Option<String>, Bad> {
    match o.get(name) {
        Some(J::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        Some(J::Number(n)) => Ok(Some(n.to_string())),
        None | Some(J::Null) if !required => Ok(None),
        Some(J::String(_)) | None | Some(J::Null) => Err((name.into(), "missing value".into())),
        Some(other) => Err((name.into(), format!("`{other}` is not text"))),
    }
}

/// A price as exact minor units: a string or a JSON number, read from its decimal text.
fn price(o: &Object, name: &str, currency: &str) -> Result<Option<i64>, Bad> {
    let raw = match o.get(name) {
        None | Some(J::Null) => return Ok(None),
        Some(J::String(s)) => s.trim().to_string(),
        Some(J::Number(n)) => n.to_string(),
        Some(other) => return Err((name.into(), format!("`{other}` is not an amount"))),
    };
    let raw = raw
        .strip_suffix(currency)
        .map_or(raw.as_str(), str::trim_end);
    money::parse_decimal(raw, money::exponent(currency), '.')
        .map(Some)
        .map_err(|e| (name.into(), e))
}

fn receipt(r: &Object) -> Result<Vec<Vec<Value>>, Bad> {
    let shop = text_field(r, "shop", true)?.unwrap_or_default();
    let date = text_field(r, "date", true)?.unwrap_or_default();
    let date = time::parse_time(&date).map_err(|e| ("date".to_string(), e))?;
    let currency = text_field(r, "currency", true)?.unwrap_or_default();
    let currency = money::currency(&currency).map_err(|e| ("currency".to_string(), e))?;
    let id = text_field(r, "id", false)?.or(text_field(r, "receipt", false)?);
    let items = match r.get("items") {
        Some(J::Array(a)) if !a.is_empty() => a,
        _ => {
            return Err((
                "items".into(),
                "a receipt needs a non-empty `items` list".into(),
            ));
        }
    };
    let money = |minor| Value::Money {
        minor,
        currency: currency.clone(),
    };
    let mut sum = 0i64;
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |(f, why): Bad| (format!("items[{i}].{f}"), why);
        let J::Object(item) = item else {
            return Err((format!("items[{i}]"), "not a JSON object".into()));
        };
        let product = text_field(item, "product", true).map_err(at)?;
        let barcode = text_field(item, "barcode", false).map_err(at)?;
        let quantity = match item.get("quantity") {
            None | Some(J::Null) => 1.0,
            Some(J::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
            Some(J::String(s)) => s.trim().parse().unwrap_or(f64::NAN),
            Some(_) => f64::NAN,
        };
        if !(quantity.is_finite() && quantity > 0.0) {
            return Err(at(("quantity".into(), "not a positive number".into())));
        }
        let unit = text_field(item, "unit", false)
            .map_err(at)?
            .unwrap_or_else(|| "piece".into());
        let unit_price = price(item, "unit_price", &currency)
            .map_err(at)?
            .ok_or_else(|| at(("unit_price".into(), "missing value".into())))?;
        let expected = (unit_price as f64 * quantity).round();
        let total = match price(item, "total", &currency).map_err(at)? {
            Some(t) if (t as f64 - expected).abs() > 1.0 => {
                return Err(at((
                    "total".into(),
                    format!(
                        "line total {} {currency} is not {quantity} × {} = {}",
                        money::format_minor(t, &currency),
                        money::format_minor(unit_price, &currency),
                        money::format_minor(expected as i64, &currency)
                    ),
                )));
            }
            Some(t) => t,
            None if expected.abs() < 9e15 => expected as i64,
            None => return Err(at(("total".into(), "too large".into()))),
        };
        sum = sum
            .checked_add(total)
            .ok_or_else(|| at(("total".into(), "too large".into())))?;
        rows.push(vec![
            Value::Text(shop.clone()),
            Value::Timestamp(date),
            id.clone().map_or(Value::Null, Value::Text),
            Value::Text(product.unwrap_or_default()),
            barcode.map_or(Value::Null, Value::Text),
            Value::Float(quantity),
            Value::Text(unit),
            money(unit_price),
            money(total),
        ]);
    }
    if let Some(total) = price(r, "total", &currency)?
        && total != sum
    {
        return Err((
            "total".into(),
            format!(
                "the receipt's total {} {currency} is not the sum of its lines, {}",
                money::format_minor(total, &currency),
                money::format_minor(sum, &currency)
            ),
        ));
    }
    Ok(rows)
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
        out.push(line, record(&schema, &obj).map_err(|e| vec![e]));
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
