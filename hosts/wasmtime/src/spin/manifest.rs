//! The parts of a Spin 3 manifest (`spin_manifest_version = 2`) the Spin profile uses:
//! the HTTP component, its SQLite databases, variables and outbound hosts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use learner_core::outbound::AllowedHost;
use serde::Deserialize;
use wasmtime::error::Context as _;

#[derive(Deserialize)]
struct Manifest {
    spin_manifest_version: u32,
    #[serde(default)]
    variables: BTreeMap<String, AppVariable>,
    trigger: Triggers,
    component: BTreeMap<String, Component>,
}

#[derive(Deserialize)]
struct AppVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    #[allow(dead_code)] // Read for validation only: secrecy changes nothing here.
    secret: bool,
}

#[derive(Deserialize)]
struct Triggers {
    http: Vec<HttpTrigger>,
}

#[derive(Deserialize)]
struct HttpTrigger {
    route: String,
    component: String,
}

#[derive(Deserialize)]
struct Component {
    source: PathBuf,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// What the Spin profile serves, resolved from a manifest.
#[derive(Debug, Clone)]
pub struct SpinApp {
    /// The component's `.wasm`, relative paths resolved against the manifest.
    pub source: PathBuf,
    /// SQLite database labels the component may open.
    pub sqlite_databases: Vec<String>,
    /// Component variables with templates expanded.
    pub variables: BTreeMap<String, String>,
    /// Destinations the component may reach.
    pub allowed_outbound_hosts: Vec<AllowedHost>,
}

/// Expands `{{ name }}` references to application variables.
fn expand(template: &str, values: &BTreeMap<String, String>) -> wasmtime::Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .with_context(|| format!("unclosed '{{{{' in {template:?}"))?;
        let name = after[..end].trim();
        let value = values
            .get(name)
            .with_context(|| format!("variable {name:?} is not defined in [variables]"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Loads `manifest_path`. Application variables come from `SPIN_VARIABLE_<NAME>`
/// environment variables (Spin's environment provider) — set, even empty, they win —
/// else their defaults; a variable neither set nor given a non-empty default takes
/// its value from `fallbacks`, if it has one there.
pub fn load(
    manifest_path: &Path,
    fallbacks: &BTreeMap<String, String>,
) -> wasmtime::Result<SpinApp> {
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let manifest: Manifest =
        toml::from_str(&text).with_context(|| format!("parsing {}", manifest_path.display()))?;
    if manifest.spin_manifest_version != 2 {
        wasmtime::bail!("only spin_manifest_version = 2 (Spin 2/3) is supported");
    }
    let [trigger] = manifest.trigger.http.as_slice() else {
        wasmtime::bail!("the Spin profile serves exactly one [[trigger.http]]");
    };
    if trigger.route != "/..." {
        wasmtime::bail!(
            "the HTTP trigger must route \"/...\" (got {:?})",
            trigger.route
        );
    }
    let component = manifest
        .component
        .get(&trigger.component)
        .with_context(|| format!("no [component.{}]", trigger.component))?;
    if !component.key_value_stores.is_empty() {
        wasmtime::bail!("key_value_stores are not provided by the Spin profile");
    }
    let mut app_values = BTreeMap::new();
    for (name, variable) in &manifest.variables {
        let from_env = std::env::var(format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())).ok();
        let value = from_env.or_else(|| {
            variable
                .default
                .clone()
                .filter(|v| !v.is_empty())
                .or_else(|| fallbacks.get(name).cloned())
                .or_else(|| variable.default.clone())
        });
        match value {
            Some(value) => {
                app_values.insert(name.clone(), value);
            }
            None if variable.required => {
                wasmtime::bail!(
                    "required variable {name:?} is not set (SPIN_VARIABLE_{})",
                    name.to_ascii_uppercase()
                )
            }
            None => {}
        }
    }
    let variables = component
        .variables
        .iter()
        .map(|(name, template)| Ok((name.clone(), expand(template, &app_values)?)))
        .collect::<wasmtime::Result<_>>()?;
    let allowed_outbound_hosts = component
        .allowed_outbound_hosts
        .iter()
        .map(|pattern| {
            pattern
                .parse()
                .map_err(|e: String| wasmtime::format_err!(e))
        })
        .collect::<wasmtime::Result<_>>()?;
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    Ok(SpinApp {
        source: base.join(&component.source),
        sqlite_databases: component.sqlite_databases.clone(),
        variables,
        allowed_outbound_hosts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_and_undefined_names_fail() {
        let values = BTreeMap::from([("a".to_string(), "1".to_string())]);
        assert_eq!(expand("x{{ a }}y{{a}}", &values).unwrap(), "x1y1");
        assert!(expand("{{ b }}", &values).is_err());
        assert!(expand("{{ a", &values).is_err());
    }

    #[test]
    fn the_project_manifest_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin/spin.toml");
        let fallbacks = BTreeMap::from([("demo_password".to_owned(), "pw".to_owned())]);
        let app = load(&path, &fallbacks).expect("hosts/spin/spin.toml is valid");
        assert_eq!(app.sqlite_databases, vec!["default".to_string()]);
        // An empty variable takes its fallback; one without a fallback stays empty.
        assert_eq!(
            app.variables
                .get("secret_demo_password")
                .map(String::as_str),
            Some("pw")
        );
        assert_eq!(
            app.variables
                .get("secret_conformance_secret")
                .map(String::as_str),
            Some("")
        );
        assert_eq!(
            app.variables.get("config_host_name").map(String::as_str),
            Some("spin")
        );
        assert!(
            app.source.ends_with("build/spin-app.wasm"),
            "{:?}",
            app.source
        );
    }
}
