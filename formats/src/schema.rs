//! Collection schemas and the values records hold.
//!
//! A schema names its fields and their types, and which timestamp field orders the collection
//! (so that one person's collection is range-scanned by time and a grant's time window is a key
//! range, not a filter).

use serde::{Deserialize, Serialize};

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Integer,
    Float,
    /// Exact money: integer minor units plus an ISO 4217 currency code.
    Money,
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp,
    Boolean,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Float => "float",
            FieldType::Money => "money",
            FieldType::Timestamp => "timestamp",
            FieldType::Boolean => "boolean",
        }
    }

    pub fn parse(s: &str) -> Option<FieldType> {
        Some(match s {
            "text" => FieldType::Text,
            "integer" => FieldType::Integer,
            "float" => FieldType::Float,
            "money" => FieldType::Money,
            "timestamp" => FieldType::Timestamp,
            "boolean" => FieldType::Boolean,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default)]
    pub optional: bool,
}

/// A collection's schema. Immutable once defined: redefining a collection with other fields is
/// refused, so records written under a schema always decode under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Dotted name, e.g. `bank.transactions`.
    pub name: String,
    pub fields: Vec<Field>,
    /// The timestamp field that orders records; `None` for collections with no time.
    #[serde(default)]
    pub time_field: Option<String>,
}

/// Why a schema was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SchemaError {
    #[error("collection name `{0}` is invalid: use lowercase letters, digits, `_` and `.`")]
    BadName(String),
    #[error("collection `{0}` has no fields")]
    NoFields(String),
    #[error("field `{0}` appears twice")]
    DuplicateField(String),
    #[error("time field `{0}` is not a required timestamp field of the schema")]
    BadTimeField(String),
}

impl Schema {
    pub fn validate(&self) -> Result<(), SchemaError> {
        let ok_name = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        };
        if !ok_name(&self.name) {
            return Err(SchemaError::BadName(self.name.clone()));
        }
        if self.fields.is_empty() {
            return Err(SchemaError::NoFields(self.name.clone()));
        }
        for (i, f) in self.fields.iter().enumerate() {
            if !ok_name(&f.name) {
                return Err(SchemaError::BadName(f.name.clone()));
            }
            if self.fields[..i].iter().any(|g| g.name == f.name) {
                return Err(SchemaError::DuplicateField(f.name.clone()));
            }
        }
        if let Some(t) = &self.time_field {
            match self.field(t) {
                Some((_, f)) if f.ty == FieldType::Timestamp && !f.optional => {}
                _ => return Err(SchemaError::BadTimeField(t.clone())),
            }
        }
        Ok(())
    }

    /// The field named `name` and its position.
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }

    /// Position of the time field, if any.
    pub fn time_index(&self) -> Option<usize> {
        self.time_field
            .as_deref()
            .and_then(|t| self.field(t))
            .map(|(i, _)| i)
    }

    /// The schema of a standard collection, by name (see [`STANDARD`]).
    pub fn standard(name: &str) -> Option<Schema> {
        use FieldType::*;
        let (fields, time): (&[(&str, FieldType, bool)], Option<&str>) = match name {
            BANK_TRANSACTIONS => (
                &[
                    ("account", Text, false),
                    ("booked", Timestamp, false),
                    ("value_date", Timestamp, true),
                    ("amount", Money, false),
                    ("counterparty", Text, true),
                    ("label", Text, false),
                    ("reference", Text, true),
                    ("balance", Money, true),
                ],
                Some("booked"),
            ),
            RECEIPT_ITEMS => (
                &[
                    ("shop", Text, false),
                    ("date", Timestamp, false),
                    ("receipt", Text, true),
                    ("product", Text, false),
                    ("barcode", Text, true),
                    ("quantity", Float, false),
                    ("unit", Text, false),
                    ("unit_price", Money, false),
                    ("total", Money, false),
                ],
                Some("date"),
            ),
            PURCHASED_PRODUCTS => (
                &[
                    ("recorded", Timestamp, false),
                    ("product", Text, false),
                    ("barcode", Text, true),
                    ("declared_quantity", Float, false),
                    ("unit", Text, false),
                    ("measured_quantity", Float, true),
                ],
                Some("recorded"),
            ),
            CAREER_POSITIONS => (
                &[
                    ("company", Text, false),
                    ("title", Text, false),
                    ("location", Text, true),
                    ("started", Timestamp, false),
                    ("ended", Timestamp, true),
                    ("description", Text, true),
                ],
                Some("started"),
            ),
            CAREER_EDUCATION => (
                &[
                    ("school", Text, false),
                    ("degree", Text, true),
                    ("started", Timestamp, false),
                    ("ended", Timestamp, true),
                    ("notes", Text, true),
                    ("activities", Text, true),
                ],
                Some("started"),
            ),
            CAREER_SKILLS => (&[("skill", Text, false)], None),
            PROFILE_ANSWERS => (
                &[
                    ("answered", Timestamp, false),
                    ("questionnaire", Text, false),
                    ("question", Text, false),
                    ("answer", Text, false),
                ],
                Some("answered"),
            ),
            USAGE_EVENTS => (
                &[
                    ("at", Timestamp, false),
                    ("product", Text, false),
                    ("activity", Text, false),
                    ("place_kind", Text, true),
                    ("time_of_day", Text, true),
                    ("device", Text, true),
                    ("duration_s", Integer, true),
                ],
                Some("at"),
            ),
            _ => return None,
        };
        Some(Schema {
            name: name.to_string(),
            fields: fields
                .iter()
                .map(|&(name, ty, optional)| Field {
                    name: name.into(),
                    ty,
                    optional,
                })
                .collect(),
            time_field: time.map(str::to_string),
        })
    }

    /// The standard schema of bank transactions, used by the fee scanners and the demo.
    pub fn bank_transactions() -> Schema {
        Schema::standard(BANK_TRANSACTIONS).expect("a standard collection")
    }
}

pub const BANK_TRANSACTIONS: &str = "bank.transactions";
pub const RECEIPT_ITEMS: &str = "receipts.items";
pub const PURCHASED_PRODUCTS: &str = "purchases.products";
pub const CAREER_POSITIONS: &str = "career.positions";
pub const CAREER_EDUCATION: &str = "career.education";
pub const CAREER_SKILLS: &str = "career.skills";
pub const PROFILE_ANSWERS: &str = "profile.answers";
pub const USAGE_EVENTS: &str = "usage.events";

/// The standard collections, documented in `docs/COLLECTIONS.md`. Organisations define their
/// own with `insitu collection define`.
pub const STANDARD: [&str; 8] = [
    BANK_TRANSACTIONS,
    RECEIPT_ITEMS,
    PURCHASED_PRODUCTS,
    CAREER_POSITIONS,
    CAREER_EDUCATION,
    CAREER_SKILLS,
    PROFILE_ANSWERS,
    USAGE_EVENTS,
];

/// One field's value in a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    Float(f64),
    Money { minor: i64, currency: String },
    Timestamp(i64),
    Boolean(bool),
}

impl Value {
    pub fn ty(&self) -> Option<FieldType> {
        Some(match self {
            Value::Null => return None,
            Value::Text(_) => FieldType::Text,
            Value::Integer(_) => FieldType::Integer,
            Value::Float(_) => FieldType::Float,
            Value::Money { .. } => FieldType::Money,
            Value::Timestamp(_) => FieldType::Timestamp,
            Value::Boolean(_) => FieldType::Boolean,
        })
    }

    /// The value as [`parse_value`] reads it back: money as `-12.34 EUR`, times in RFC 3339,
    /// null as the empty string.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Text(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Boolean(b) => b.to_string(),
            Value::Money { minor, currency } => {
                format!(
                    "{} {currency}",
                    crate::money::format_minor(*minor, currency)
                )
            }
            Value::Timestamp(t) => crate::time::format_instant(*t),
        }
    }
}

/// A record: one value per schema field, in schema order.
pub type Record = Vec<Value>;

/// Longest text value accepted, in bytes.
pub const MAX_TEXT: usize = 1 << 20;

/// Parses one text value of type `ty`; empty means null for an optional field. Money is
/// `-12.34 EUR` ([`crate::money::parse_money`]), times follow [`crate::time::parse_time`].
pub fn parse_value(ty: FieldType, optional: bool, raw: &str) -> Result<Value, String> {
    if raw.is_empty() {
        return match (optional, ty) {
            (true, _) => Ok(Value::Null),
            (false, FieldType::Text) => Ok(Value::Text(String::new())),
            (false, _) => Err("missing value".into()),
        };
    }
    match ty {
        FieldType::Text if raw.len() > MAX_TEXT => Err(format!(
            "text of {} bytes; the largest accepted is {MAX_TEXT}",
            raw.len()
        )),
        FieldType::Text => Ok(Value::Text(raw.to_string())),
        FieldType::Integer => raw
            .parse()
            .map(Value::Integer)
            .map_err(|_| format!("`{raw}` is not an integer")),
        FieldType::Float => match raw.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Value::Float(v)),
            _ => Err(format!("`{raw}` is not a number")),
        },
        FieldType::Boolean => match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Boolean(true)),
            "false" | "no" | "0" => Ok(Value::Boolean(false)),
            _ => Err(format!("`{raw}` is not a boolean (true/false)")),
        },
        FieldType::Timestamp => crate::time::parse_time(raw).map(Value::Timestamp),
        FieldType::Money => {
            crate::money::parse_money(raw).map(|(minor, currency)| Value::Money { minor, currency })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_schemas_are_valid() {
        for name in STANDARD {
            let s = Schema::standard(name).unwrap();
            assert_eq!(s.name, name);
            s.validate().unwrap();
        }
        assert!(Schema::standard("bank.other").is_none());
    }
}
