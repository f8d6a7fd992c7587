//! RFC 6570 level-1 URI templates, as resource templates use them.

use serde_json::{Map, Value};

/// Matches `uri` against an RFC 6570 level-1 template whose variables each stand for
/// one non-empty path segment; the variables' values when it matches.
pub fn match_template(template: &str, uri: &str) -> Option<Map<String, Value>> {
    let mut values = Map::new();
    let mut rest = uri;
    let mut pattern = template;
    while let Some(open) = pattern.find('{') {
        let literal = &pattern[..open];
        rest = rest.strip_prefix(literal)?;
        let close = pattern[open..].find('}')? + open;
        let name = &pattern[open + 1..close];
        pattern = &pattern[close + 1..];
        let stop = pattern.chars().next();
        let end = rest
            .find(|c: char| c == '/' || Some(c) == stop || c == '?' || c == '#')
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        values.insert(name.to_owned(), Value::String(rest[..end].to_owned()));
        rest = &rest[end..];
    }
    (rest == pattern).then_some(values)
}
