//! The config port: values from the command line, secrets from the environment.

use std::collections::BTreeMap;

use learner_core::ports::secret_binding_name;

/// Prefix of environment variables that hold secrets: `LEARNER_SECRET_SIGNING_KEY`
/// is the secret `signing-key` (and `signing_key`, `signing.key`).
pub const SECRET_ENV_PREFIX: &str = "LEARNER_SECRET_";

/// Configuration values and secrets, fixed at start.
#[derive(Debug, Clone, Default)]
pub struct HostConfig {
    values: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
}

impl HostConfig {
    /// Builds the config from `name=value` pairs and the process environment.
    pub fn new(values: impl IntoIterator<Item = (String, String)>) -> Self {
        let secrets = std::env::vars()
            .filter_map(|(k, v)| {
                k.strip_prefix(SECRET_ENV_PREFIX)
                    .map(|name| (name.to_owned(), v))
            })
            .collect();
        Self {
            values: values.into_iter().collect(),
            secrets,
        }
    }

    /// Sets a secret unless the environment provided it.
    pub fn default_secret(&mut self, name: &str, value: String) {
        self.secrets
            .entry(secret_binding_name(name))
            .or_insert(value);
    }

    /// A value by name.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    /// A secret by name.
    pub fn secret(&self, name: &str) -> Option<String> {
        self.secrets.get(&secret_binding_name(name)).cloned()
    }
}

impl learner_core::ports::Config for HostConfig {
    fn get(&self, name: &str) -> Option<String> {
        HostConfig::get(self, name)
    }
    fn secret(&self, name: &str) -> Option<String> {
        HostConfig::secret(self, name)
    }
}

/// Parses a `name=value` command-line argument.
pub fn parse_pair(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {arg:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_and_reject_missing_names() {
        assert_eq!(parse_pair("a.b=c=d"), Ok(("a.b".into(), "c=d".into())));
        assert!(parse_pair("=x").is_err());
        assert!(parse_pair("novalue").is_err());
    }
}
