//! Run parameters, with typed getters that produce the right error for a bad value.

use crate::{Money, Param, PluginError, Scalar};

/// The parameters a run was started with.
#[derive(Debug, Clone, Default)]
pub struct Params {
    items: Vec<Param>,
}

fn missing(name: &str) -> PluginError {
    PluginError::InvalidParams(format!("missing parameter `{name}`"))
}

fn wrong(name: &str, want: &str) -> PluginError {
    PluginError::InvalidParams(format!("parameter `{name}` must be {want}"))
}

impl Params {
    pub fn new(items: Vec<Param>) -> Self {
        Params { items }
    }

    pub fn get(&self, name: &str) -> Option<&Scalar> {
        self.items.iter().find(|p| p.name == name).map(|p| &p.value)
    }

    pub fn text(&self, name: &str) -> Result<String, PluginError> {
        match self.get(name) {
            Some(Scalar::Text(s)) => Ok(s.clone()),
            Some(_) => Err(wrong(name, "text")),
            None => Err(missing(name)),
        }
    }

    pub fn text_or(&self, name: &str, default: &str) -> Result<String, PluginError> {
        match self.get(name) {
            None => Ok(default.to_string()),
            Some(_) => self.text(name),
        }
    }

    pub fn integer(&self, name: &str) -> Result<i64, PluginError> {
        match self.get(name) {
            Some(Scalar::Integer(i)) => Ok(*i),
            Some(_) => Err(wrong(name, "an integer")),
            None => Err(missing(name)),
        }
    }

    pub fn integer_or(&self, name: &str, default: i64) -> Result<i64, PluginError> {
        match self.get(name) {
            None => Ok(default),
            Some(_) => self.integer(name),
        }
    }

    pub fn money(&self, name: &str) -> Result<Money, PluginError> {
        match self.get(name) {
            Some(Scalar::Money(m)) => Ok(m.clone()),
            Some(_) => Err(wrong(name, "an amount of money")),
            None => Err(missing(name)),
        }
    }
}
