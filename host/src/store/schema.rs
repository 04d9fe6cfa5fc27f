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

    /// The standard schema of bank transactions, used by the fee scanners and the demo.
    pub fn bank_transactions() -> Schema {
        let f = |name: &str, ty, optional| Field {
            name: name.into(),
            ty,
            optional,
        };
        Schema {
            name: "bank.transactions".into(),
            fields: vec![
                f("account", FieldType::Text, false),
                f("booked", FieldType::Timestamp, false),
                f("amount", FieldType::Money, false),
                f("counterparty", FieldType::Text, true),
                f("label", FieldType::Text, false),
                f("reference", FieldType::Text, true),
            ],
            time_field: Some("booked".into()),
        }
    }
}

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
}

/// A record: one value per schema field, in schema order.
pub type Record = Vec<Value>;
