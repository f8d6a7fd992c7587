//! Configuration from the `LEARNER_CONFIG` var (a JSON object); secrets from secret
//! bindings.

use std::collections::BTreeMap;

use learner_core::ports as core;
use worker::Env;

/// Config from vars, secrets from secret bindings.
pub struct CfConfig {
    env: Env,
    values: BTreeMap<String, String>,
}

impl CfConfig {
    /// Configuration from `env`.
    pub fn new(env: Env) -> Self {
        let values = env
            .var("LEARNER_CONFIG")
            .ok()
            .and_then(|v| serde_json::from_str(&v.to_string()).ok())
            .unwrap_or_default();
        Self { env, values }
    }
}

impl core::Config for CfConfig {
    fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
    fn secret(&self, name: &str) -> Option<String> {
        let binding = core::secret_binding_name(name);
        // Only secret bindings count: a plain var of the same name is not a secret.
        if binding == "LEARNER_CONFIG" {
            return None;
        }
        self.env.secret(&binding).ok().map(|s| s.to_string())
    }
}
