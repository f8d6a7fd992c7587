//! The application's settings: every one the operator may set, parsed once from the
//! config port into one typed struct and validated, with an error that names the
//! setting, what it holds and what it should hold. The harness refuses to start with
//! invalid settings; on hosts without a start (Spin, Workers) the application answers
//! every request with that error instead (503), so a misconfiguration is never
//! silently replaced by a default.

use learner_core::outbound::{AllowedHost, parse_list};
use learner_core::ports::Config;
use learner_oauth::grants::Lifetimes;
use learner_oauth::metadata::Issuer;
use learner_oauth::rate_limit::RateLimit;
use thiserror::Error;

/// One minute, the window of most limits.
pub const MINUTE_MS: u64 = 60_000;

/// A setting that does not hold what it must.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("setting {name} is {value:?}: expected {expected}")]
pub struct SettingsError {
    /// The setting (`oauth.access_lifetime_s`, …).
    pub name: &'static str,
    /// What it holds.
    pub value: String,
    /// What it should hold.
    pub expected: &'static str,
}

/// How clients may register (`oauth.registration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Anyone may register (the default: MCP clients register themselves).
    Open,
    /// Only with the initial access token in the secret `oauth-registration-token`.
    Token,
    /// Not offered.
    Closed,
}

/// The request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Token requests per client per minute (`oauth.token_requests_per_minute`).
    pub token_requests: RateLimit,
    /// Sign-in attempts per username per minute (`oauth.sign_in_attempts_per_minute`).
    pub sign_in_attempts: RateLimit,
    /// Requests to the OAuth endpoints per client address per minute
    /// (`oauth.requests_per_minute_per_ip`).
    pub requests_per_address: RateLimit,
    /// Client registrations per client address per hour
    /// (`oauth.registrations_per_hour_per_ip`).
    pub registrations_per_address: RateLimit,
}

/// The MCP endpoint's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McpSettings {
    /// A session ends after this long unused (`mcp.session_idle_s`).
    pub session_idle_ms: u64,
    /// A GET or listen stream is closed after this long (`mcp.stream_max_s`).
    pub stream_max_ms: u64,
    /// Definitions per page of a list (`mcp.page_size`).
    pub page_size: usize,
}

/// Every setting, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The issuer and public base URL (`public.url`); `None`: the loopback URL each
    /// request was sent to, for local use only.
    pub public_url: Option<Issuer>,
    /// Client registration.
    pub registration: Registration,
    /// Whose Client ID Metadata Documents are accepted
    /// (`oauth.client_metadata_documents`; empty: none).
    pub client_metadata_documents: Vec<AllowedHost>,
    /// Credential lifetimes (`oauth.code_lifetime_s`, `oauth.access_lifetime_s`,
    /// `oauth.refresh_lifetime_s`).
    pub lifetimes: Lifetimes,
    /// Browser origins allowed to call discovery, registration and token
    /// (`cors.allowed_origins`).
    pub cors_allowed_origins: Vec<String>,
    /// Request limits.
    pub limits: Limits,
    /// The MCP endpoint.
    pub mcp: McpSettings,
    /// Whether every answer carries a `Server-Timing` header with the port calls the
    /// request made and the time spent on them (`diagnostics.server_timing`; off by
    /// default: it tells clients how the server is built).
    pub server_timing: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let defaults = Lifetimes::default();
        Self {
            public_url: None,
            registration: Registration::Open,
            client_metadata_documents: Vec::new(),
            lifetimes: defaults,
            cors_allowed_origins: Vec::new(),
            limits: Limits {
                token_requests: per_minute(120),
                sign_in_attempts: per_minute(10),
                requests_per_address: per_minute(300),
                registrations_per_address: RateLimit {
                    limit: 60,
                    window_ms: 60 * MINUTE_MS,
                },
            },
            mcp: McpSettings {
                session_idle_ms: 30 * MINUTE_MS,
                stream_max_ms: 5 * MINUTE_MS,
                page_size: 50,
            },
            server_timing: false,
        }
    }
}

fn per_minute(limit: u32) -> RateLimit {
    RateLimit {
        limit,
        window_ms: MINUTE_MS,
    }
}

/// Reads settings from the config port, each into its type.
struct Reader<'c, C>(&'c C);

impl<C: Config> Reader<'_, C> {
    /// Setting `name` read by `parse`, or `default` when unset (an empty value counts
    /// as unset, as hosts that cannot unset a variable write it); a value `parse`
    /// refuses is an error saying what was `expected`.
    fn setting<T>(
        &self,
        name: &'static str,
        default: T,
        expected: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, SettingsError> {
        let value = self
            .0
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        match value {
            None => Ok(default),
            Some(text) => parse(&text).ok_or(SettingsError {
                name,
                value: text,
                expected,
            }),
        }
    }

    /// A whole number of seconds above 0, as milliseconds.
    fn seconds(&self, name: &'static str, default_ms: u64) -> Result<u64, SettingsError> {
        let parse = |text: &str| {
            let seconds = text.parse::<u64>().ok().filter(|s| *s > 0)?;
            Some(seconds.saturating_mul(1_000))
        };
        self.setting(name, default_ms, "a whole number of seconds above 0", parse)
    }

    /// A limit: a whole number of requests (0 refuses all).
    fn limit(&self, name: &'static str, default: RateLimit) -> Result<RateLimit, SettingsError> {
        let parse = |text: &str| {
            Some(RateLimit {
                limit: text.parse::<u32>().ok()?,
                ..default
            })
        };
        self.setting(name, default, "a whole number of requests", parse)
    }
}

/// An origin: `scheme://host[:port]`, nothing after it.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@'])
        && !rest
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
}

impl Settings {
    /// Reads and validates every setting from `config`; the first invalid one is the
    /// error.
    pub fn from_config<C: Config>(config: &C) -> Result<Self, SettingsError> {
        let defaults = Self::default();
        let read = Reader(config);
        let public_url = read.setting(
            "public.url",
            None,
            "https://host[:port][/path] without query or fragment (http only on loopback)",
            |url| Issuer::new(url).ok().map(Some),
        )?;
        let registration = read.setting(
            "oauth.registration",
            Registration::Open,
            "open, token or closed",
            |text| match text {
                "open" => Some(Registration::Open),
                "token" => Some(Registration::Token),
                "closed" => Some(Registration::Closed),
                _ => None,
            },
        )?;
        let client_metadata_documents = read.setting(
            "oauth.client_metadata_documents",
            Vec::new(),
            "scheme://host[:port] patterns separated by commas, e.g. https://*",
            |list| parse_list(list).ok(),
        )?;
        let lifetimes = Lifetimes {
            code_ms: read.seconds("oauth.code_lifetime_s", defaults.lifetimes.code_ms)?,
            access_ms: read.seconds("oauth.access_lifetime_s", defaults.lifetimes.access_ms)?,
            refresh_ms: read.seconds("oauth.refresh_lifetime_s", defaults.lifetimes.refresh_ms)?,
        };
        let cors_allowed_origins = read.setting(
            "cors.allowed_origins",
            Vec::new(),
            "origins (scheme://host[:port], no path) separated by commas",
            |list| {
                let origins: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect();
                origins.iter().all(|o| is_origin(o)).then_some(origins)
            },
        )?;
        // The limits' defaults; a setting replaces only the count, never the window.
        let base = defaults.limits;
        let limits = Limits {
            token_requests: read.limit("oauth.token_requests_per_minute", base.token_requests)?,
            sign_in_attempts: read
                .limit("oauth.sign_in_attempts_per_minute", base.sign_in_attempts)?,
            requests_per_address: read.limit(
                "oauth.requests_per_minute_per_ip",
                base.requests_per_address,
            )?,
            registrations_per_address: read.limit(
                "oauth.registrations_per_hour_per_ip",
                base.registrations_per_address,
            )?,
        };
        let page_size = read.setting(
            "mcp.page_size",
            defaults.mcp.page_size,
            "a whole number above 0",
            |text| text.parse::<usize>().ok().filter(|n| *n > 0),
        )?;
        let mcp = McpSettings {
            session_idle_ms: read.seconds("mcp.session_idle_s", defaults.mcp.session_idle_ms)?,
            stream_max_ms: read.seconds("mcp.stream_max_s", defaults.mcp.stream_max_ms)?,
            page_size,
        };
        let server_timing = read.setting(
            "diagnostics.server_timing",
            false,
            "true or false",
            |text| match text {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
        )?;
        Ok(Self {
            public_url,
            registration,
            client_metadata_documents,
            lifetimes,
            cors_allowed_origins,
            limits,
            mcp,
            server_timing,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    struct Values(BTreeMap<&'static str, &'static str>);

    impl Config for Values {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| (*v).to_owned())
        }
        fn secret(&self, _: &str) -> Option<String> {
            None
        }
    }

    fn parse(pairs: &[(&'static str, &'static str)]) -> Result<Settings, SettingsError> {
        Settings::from_config(&Values(pairs.iter().copied().collect()))
    }

    #[test]
    fn nothing_set_is_the_defaults_and_empty_counts_as_unset() {
        assert_eq!(parse(&[]), Ok(Settings::default()));
        assert_eq!(
            parse(&[("oauth.access_lifetime_s", ""), ("public.url", " ")]),
            Ok(Settings::default())
        );
    }

    #[test]
    fn every_setting_is_read_into_its_field() {
        let settings = parse(&[
            ("public.url", "https://learner.example.org/"),
            ("oauth.registration", "token"),
            (
                "oauth.client_metadata_documents",
                "https://*.vscode.dev, https://claude.ai",
            ),
            ("oauth.code_lifetime_s", "30"),
            ("oauth.access_lifetime_s", "3"),
            ("oauth.refresh_lifetime_s", "600"),
            (
                "cors.allowed_origins",
                "http://localhost:6274, https://inspector.example",
            ),
            ("oauth.token_requests_per_minute", "5"),
            ("oauth.sign_in_attempts_per_minute", "0"),
            ("oauth.requests_per_minute_per_ip", "7"),
            ("oauth.registrations_per_hour_per_ip", "2"),
            ("mcp.session_idle_s", "60"),
            ("mcp.stream_max_s", "10"),
            ("mcp.page_size", "5"),
            ("diagnostics.server_timing", "true"),
        ])
        .expect("valid");
        assert_eq!(
            settings.public_url.as_ref().map(Issuer::as_str),
            Some("https://learner.example.org")
        );
        assert_eq!(settings.registration, Registration::Token);
        assert_eq!(settings.client_metadata_documents.len(), 2);
        assert_eq!(
            (
                settings.lifetimes.code_ms,
                settings.lifetimes.access_ms,
                settings.lifetimes.refresh_ms
            ),
            (30_000, 3_000, 600_000)
        );
        assert_eq!(
            settings.cors_allowed_origins,
            ["http://localhost:6274", "https://inspector.example"]
        );
        assert_eq!(settings.limits.token_requests, per_minute(5));
        assert_eq!(settings.limits.sign_in_attempts, per_minute(0));
        assert_eq!(settings.limits.requests_per_address, per_minute(7));
        assert_eq!(settings.limits.registrations_per_address.limit, 2);
        assert_eq!(
            settings.limits.registrations_per_address.window_ms,
            60 * MINUTE_MS
        );
        assert_eq!(
            settings.mcp,
            McpSettings {
                session_idle_ms: 60_000,
                stream_max_ms: 10_000,
                page_size: 5
            }
        );
        assert!(settings.server_timing);
    }

    #[test]
    fn an_invalid_setting_is_refused_by_name_never_replaced_by_a_default() {
        for (name, value) in [
            ("public.url", "http://learner.example.org"),
            ("public.url", "https://learner.example.org/?x"),
            ("oauth.registration", "clsoed"),
            ("oauth.client_metadata_documents", "*"),
            ("oauth.code_lifetime_s", "0"),
            ("oauth.access_lifetime_s", "an hour"),
            ("oauth.refresh_lifetime_s", "-1"),
            ("cors.allowed_origins", "https://app.example/"),
            ("cors.allowed_origins", "app.example"),
            ("oauth.token_requests_per_minute", "many"),
            ("oauth.requests_per_minute_per_ip", "-3"),
            ("mcp.session_idle_s", "1.5"),
            ("mcp.page_size", "0"),
            ("diagnostics.server_timing", "yes"),
        ] {
            let error = parse(&[(name, value)]).expect_err(name);
            assert_eq!((error.name, error.value.as_str()), (name, value));
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("setting {name} is ")),
                "{error}"
            );
        }
    }
}
