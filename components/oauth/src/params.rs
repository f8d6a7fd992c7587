//! `application/x-www-form-urlencoded` parameters (query strings and request bodies)
//! as OAuth reads them: every parameter at most once (RFC 6749 §3.1, §3.2), and a
//! parameter sent empty treated as absent (RFC 6749 §3.1).

use std::collections::BTreeMap;

use crate::error::{ErrorCode, OAuthError};

/// Most parameters one request may carry.
pub const MAX_PARAMS: usize = 64;

/// Parsed parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `input`, refusing a repeated parameter name — even with an empty value —
    /// with `invalid_request` naming it.
    /// Malformed encoding — a `%` not followed by two hex digits, or bytes that do not
    /// decode to UTF-8 — is `invalid_request` too, rather than being read leniently
    /// into a value the client did not send.
    pub fn parse(input: &[u8]) -> Result<Self, OAuthError> {
        check_encoding(input)?;
        let mut map = BTreeMap::new();
        for (count, (name, value)) in form_urlencoded::parse(input).enumerate() {
            if count >= MAX_PARAMS {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    "too many parameters",
                ));
            }
            if map.contains_key(name.as_ref()) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidRequest,
                    format!("parameter {name:?} is repeated"),
                ));
            }
            map.insert(name.into_owned(), value.into_owned());
        }
        Ok(Self(map))
    }

    /// A parameter's value; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Every parameter as sent (empty values included), in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// A parameter that must be present, else `invalid_request` naming it.
    pub fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidRequest,
                format!("parameter {name:?} is required"),
            )
        })
    }
}

/// Refuses what `form_urlencoded::parse` would otherwise repair silently.
fn check_encoding(input: &[u8]) -> Result<(), OAuthError> {
    let malformed = |what: &str| {
        Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            format!("the parameters are not valid form encoding: {what}"),
        ))
    };
    let mut decoded = Vec::with_capacity(input.len());
    let mut bytes = input.iter().copied();
    while let Some(byte) = bytes.next() {
        if byte != b'%' {
            decoded.push(byte);
            continue;
        }
        let hex = |b: Option<u8>| b.and_then(|b| (b as char).to_digit(16));
        match (hex(bytes.next()), hex(bytes.next())) {
            // Two hex digits: at most 0xff, so the cast cannot truncate.
            (Some(high), Some(low)) => decoded.push(u8::try_from(high * 16 + low).unwrap_or(0)),
            _ => return malformed("a % must be followed by two hex digits"),
        }
    }
    if std::str::from_utf8(&decoded).is_err() {
        return malformed("the decoded bytes are not UTF-8");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_encoding_is_refused() {
        for bad in [&b"a=%ZZ"[..], b"a=%4", b"a=%", b"a=%FF%FE", b"a=\xff"] {
            let error = Params::parse(bad).expect_err("malformed");
            assert_eq!(error.code, ErrorCode::InvalidRequest, "{bad:?}");
        }
        let good = Params::parse(b"a=%C3%A9+b&c=%2B").expect("valid");
        assert_eq!(good.get("a"), Some("\u{e9} b"));
        assert_eq!(good.get("c"), Some("+"));
    }

    #[test]
    fn parameters_decode_and_empty_counts_as_absent() {
        let params = Params::parse(b"grant_type=authorization_code&code=a%2Bb+c&state=").unwrap();
        assert_eq!(params.get("grant_type"), Some("authorization_code"));
        assert_eq!(params.get("code"), Some("a+b c"));
        assert_eq!(params.get("state"), None);
        assert_eq!(params.get("missing"), None);
        let error = params.required("redirect_uri").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequest);
        assert!(error.description.contains("redirect_uri"));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        for body in [
            &b"code=a&code=b"[..],
            b"code=a&code=a",
            b"code=&code=b",
            b"scope=x&state=1&scope=y",
            b"code%3D=a&code%3D=b",
        ] {
            let error = Params::parse(body).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidRequest, "{body:?}");
            assert!(
                error.description.contains("repeated"),
                "{}",
                error.description
            );
        }
    }

    #[test]
    fn too_many_parameters_are_refused() {
        let body: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=v")).collect();
        assert_eq!(
            Params::parse(body.join("&").as_bytes()).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }
}
