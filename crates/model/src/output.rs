//! Plugin outputs on the host side: the documented output kinds, serialisable, with the size
//! that the output caps apply to.
//!
//! These mirror the WIT `output` interface; the sandbox converts the guest's values into them
//! before anything else sees the output.
//!
//! May touch: nothing; pure data.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    pub minor: i64,
    pub currency: String,
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let amount = insitu_formats::money::decimal(self.minor, &self.currency);
        write!(f, "{amount} {}", self.currency)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Money(Money),
    Timestamp(i64),
    Boolean(bool),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Text(s) => write!(f, "{s}"),
            Scalar::Integer(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Money(m) => write!(f, "{m}"),
            Scalar::Timestamp(t) => write!(f, "{}", insitu_formats::time::format_date(*t)),
            Scalar::Boolean(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evidence {
    pub collection: String,
    pub id: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub rule: String,
    pub time: i64,
    pub amount: Option<Money>,
    /// What it cost the person (positive), when the plugin documents it.
    #[serde(default)]
    pub loss: Option<Money>,
    pub label: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Metric {
    pub name: String,
    pub value: Scalar,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PluginOutput {
    Findings {
        findings: Vec<Finding>,
        summary: Vec<Metric>,
    },
    Metrics {
        metrics: Vec<Metric>,
    },
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<Scalar>>,
    },
}

impl PluginOutput {
    /// The size the output caps apply to: its canonical JSON encoding, in bytes.
    pub fn size(&self) -> u64 {
        serde_json::to_vec(self)
            .map(|v| v.len() as u64)
            .unwrap_or(u64::MAX)
    }
}

impl Scalar {
    /// A parameter's value from text: an integer, an amount with its currency (`30.00 EUR`),
    /// `true` or `false`, else text.
    pub fn parse(v: &str) -> Scalar {
        if let Ok(i) = v.parse::<i64>() {
            Scalar::Integer(i)
        } else if let Ok((minor, currency)) = insitu_formats::money::parse_money(v) {
            Scalar::Money(Money { minor, currency })
        } else if v == "true" || v == "false" {
            Scalar::Boolean(v == "true")
        } else {
            Scalar::Text(v.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn money_is_shown_with_its_currencys_digits() {
        let m = |minor, currency: &str| {
            Money {
                minor,
                currency: currency.into(),
            }
            .to_string()
        };
        assert_eq!(m(-4500, "EUR"), "-45.00 EUR");
        assert_eq!(m(1200, "JPY"), "1200 JPY");
        assert_eq!(m(1250, "KWD"), "1.250 KWD");
    }
}
