//! Reading the environment: each value trimmed (blank counts as unset), each parse or range
//! error naming its variable. A leaf: it knows no other part of the crate, so every part's
//! configuration (`HecConfig::from_env`, …) can use it without a cycle.

/// A bad or missing setting, naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error in {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

/// The error about `var`.
pub fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { var, message: message.into() }
}

/// The variables, through a lookup (the process environment, or a map in tests).
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

/// A secret given directly, or as the ARN of a Secrets Manager secret that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    Value(String),
    Arn(String),
}

impl<'a> Env<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Env<'a> {
        Env { lookup }
    }

    /// The trimmed value; None when unset or blank.
    pub fn get(&self, var: &'static str) -> Option<String> {
        (self.lookup)(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A number in `min..=max`, `default` when unset.
    pub fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
        &self,
        var: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError> {
        let Some(text) = self.get(var) else { return Ok(default) };
        let n: T = text.parse().map_err(|_| err(var, format!("{text:?} is not a number")))?;
        if n < min || n > max {
            return Err(err(var, format!("{n} is outside {min}..={max}")));
        }
        Ok(n)
    }

    /// `true`/`1`/`yes` or `false`/`0`/`no`, any case; `default` when unset.
    pub fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(var).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(other) => Err(err(var, format!("{other:?} is not true or false"))),
        }
    }

    /// One of `choices` (`default` when unset), as the value paired with it.
    pub fn choice<T: Copy>(&self, var: &'static str, default: &str, choices: &[(&str, T)]) -> Result<T, ConfigError> {
        let text = self.get(var).unwrap_or_else(|| default.to_owned());
        choices.iter().find(|(name, _)| *name == text).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            err(var, format!("{text:?} is not one of {}", names.join(", ")))
        })
    }

    /// Exactly one of `var` and `arn_var`; `sink` names the sink that needs it.
    pub fn value_or_arn(&self, var: &'static str, arn_var: &'static str, sink: &str) -> Result<Given, ConfigError> {
        match (self.get(var), self.get(arn_var)) {
            (Some(v), None) => Ok(Given::Value(v)),
            (None, Some(arn)) => Ok(Given::Arn(arn)),
            (Some(_), Some(_)) => Err(err(var, format!("set {var} or {arn_var}, not both"))),
            (None, None) => Err(err(var, format!("{var} or {arn_var} is required when SINKS includes {sink}"))),
        }
    }

    pub fn required(&self, var: &'static str, why: &str) -> Result<String, ConfigError> {
        self.get(var).ok_or_else(|| err(var, format!("required {why}")))
    }

    /// An `http://` or `https://` URL, required.
    pub fn url(&self, var: &'static str, why: &str) -> Result<String, ConfigError> {
        let url = self.required(var, why)?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(err(var, "must be an http:// or https:// URL"));
        }
        Ok(url)
    }

    /// A relative key prefix without `..`, ending in `/` unless empty.
    pub fn prefix(&self, var: &'static str, default: &str) -> Result<String, ConfigError> {
        let p = self.get(var).unwrap_or_else(|| default.to_owned());
        if p.split('/').any(|seg| seg == "..") || p.starts_with('/') {
            return Err(err(var, "must be a relative prefix without '..'"));
        }
        Ok(if p.is_empty() || p.ends_with('/') { p } else { format!("{p}/") })
    }
}

/// The secret in a Secrets Manager value: the whole (trimmed) string, or, when it is a JSON
/// object, the first of `keys` it has as a string.
pub fn secret_field(value: &str, keys: &[&str]) -> Option<String> {
    let trimmed = value.trim();
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(trimmed) {
        return keys.iter().find_map(|k| map.get(*k).and_then(|v| v.as_str())).map(str::to_owned);
    }
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_trimmed_and_checked() {
        let lookup = |k: &str| match k {
            "N" => Some(" 12 ".to_owned()),
            "BLANK" => Some("  ".to_owned()),
            "F" => Some("Yes".to_owned()),
            "P" => Some("audit".to_owned()),
            "UP" => Some("a/../b".to_owned()),
            "C" => Some("two".to_owned()),
            _ => None,
        };
        let env = Env::new(&lookup);
        assert_eq!(env.number("N", 1, 0, 20), Ok(12));
        assert_eq!(env.number("N", 1, 0, 10).unwrap_err().var, "N");
        assert_eq!(env.number("BLANK", 7, 0, 10), Ok(7));
        assert_eq!(env.flag("F", false), Ok(true));
        assert_eq!(env.prefix("P", "das/").as_deref(), Ok("audit/"));
        assert_eq!(env.prefix("UNSET", "das/").as_deref(), Ok("das/"));
        assert_eq!(env.prefix("UP", "").unwrap_err().var, "UP");
        let choices = [("one", 1), ("two", 2)];
        assert_eq!(env.choice("C", "one", &choices), Ok(2));
        assert_eq!(env.choice("UNSET", "one", &choices), Ok(1));
        let e = env.choice("P", "one", &choices).unwrap_err();
        assert_eq!(e.message, "\"audit\" is not one of one, two");
    }
}
