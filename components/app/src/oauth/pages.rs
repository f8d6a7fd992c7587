//! The HTML the authorization endpoint shows: sign-in, consent and error pages. Plain,
//! accessible HTML and CSS that works without JavaScript, sent with a strict Content
//! Security Policy (no script at all; the one stylesheet allowed by its hash).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use http::{HeaderValue, StatusCode, header};
use learner_core::Response;
use learner_oauth::consent;
use sha2::{Digest, Sha256};

use super::limits::rate_limited;
use crate::headers::set_static;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f24}\
main{max-width:32rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem;font-weight:600}\
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;font:inherit;border:1px solid #8a939c;border-radius:4px}\
button{font:inherit;padding:.6rem 1.2rem;margin:1rem .5rem 0 0;border-radius:4px;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}\
button.secondary{background:#fff;color:#1d4ed8}ul{padding-left:1.2rem}li{margin:.4rem 0}\
fieldset{border:0;padding:0;margin:0}legend{padding:0}\
label.choice{display:flex;gap:.6rem;align-items:flex-start;font-weight:400;margin:.6rem 0}\
input[type=checkbox]{width:1.2rem;height:1.2rem;margin:.2rem 0 0;flex:none}\
.error{background:#fde8e8;border:1px solid #c81e1e;padding:.6rem;border-radius:4px}.muted{color:#4b5563;font-size:.9rem}\
:focus{outline:3px solid #f59e0b;outline-offset:2px}";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A page with the security headers every HTML response carries. `form_targets` are
/// the origins a form on the page may end up at (the consent decision redirects to
/// the client).
pub fn page(status: StatusCode, title: &str, body: &str, form_targets: &[&str]) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Learner DNA</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    );
    let style_hash = B64.encode(Sha256::digest(STYLE.as_bytes()));
    let mut form_action = String::from("'self'");
    for target in form_targets {
        form_action.push(' ');
        form_action.push_str(target);
    }
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{style_hash}'; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = http::Response::new(html.into_bytes());
    *response.status_mut() = status;
    // The policy goes between the type and the other headers, where it always was.
    set_static(
        &mut response,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    set_static(
        &mut response,
        [
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
    );
    response
}

/// 429 as a page, with `Retry-After`.
pub fn too_many_requests(retry_after_s: u64) -> Response {
    let page = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests from your network. Wait a minute and try again.",
    );
    rate_limited(page, retry_after_s)
}

/// An error the person sees (never a redirect to an unvalidated URI).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Cannot continue",
        &format!(
            "<h1>This sign-in request cannot continue</h1><p class=\"error\" role=\"alert\">{}</p>\
             <p class=\"muted\">Return to the application you came from and try again.</p>",
            escape(message)
        ),
        &[],
    )
}

/// The sign-in form for a pending authorization request.
pub fn sign_in(request_id: &str, csrf: &str, client_name: &str, error: Option<&str>) -> Response {
    let alert = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))
    });
    let body = format!(
        "<h1>Sign in to Learner DNA</h1>\
         <p><strong>{client}</strong> is asking to read learner data on your behalf.</p>{alert}\
         <form method=\"post\" action=\"/oauth/authorize\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"action\" value=\"sign_in\">\
         <label for=\"username\">Username</label>\
         <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        client = escape(client_name),
        id = escape(request_id),
        csrf = escape(csrf),
    );
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    page(status, "Sign in", &body, &[])
}

/// One requested scope as the consent page offers it.
pub struct ScopeChoice<'a> {
    /// The scope.
    pub scope: &'a str,
    /// What it lets the client read, in plain language.
    pub text: &'a str,
    /// The checkbox's field name.
    pub field: String,
    /// Whether the box is ticked.
    pub ticked: bool,
}

/// What the consent page shows about the request.
pub struct ConsentView<'a> {
    /// The pending request.
    pub request_id: &'a str,
    /// Its CSRF token.
    pub csrf: &'a str,
    /// The client's name (or id).
    pub client_name: &'a str,
    /// Where the answer goes (shown, so the person can spot an impostor).
    pub redirect_uri: &'a str,
    /// The signed-in person.
    pub person: &'a str,
    /// Their role, in words.
    pub role: &'a str,
    /// Which learners the access would cover, in words.
    pub learners: &'a str,
    /// The requested scopes, each a checkbox.
    pub scopes: &'a [ScopeChoice<'a>],
    /// The short names of the requested scopes that start unticked (the page says they
    /// are allowed only if ticked).
    pub opt_in: &'a [&'a str],
    /// Why an earlier answer was not taken, if it was not.
    pub error: Option<&'a str>,
    /// Origin the decision redirects to (allowed as a form target).
    pub redirect_origin: &'a str,
}

/// `a`, `a and b`, `a, b and c`.
fn in_words(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The consent screen: each requested scope a checkbox the person may untick.
pub fn consent(view: &ConsentView<'_>) -> Response {
    let items = view.scopes.iter().fold(String::new(), |mut items, choice| {
        items.push_str(&format!(
                "<label class=\"choice\"><input type=\"checkbox\" name=\"{field}\" value=\"{ticked}\"{checked}>\
                 <span>{text} <span class=\"muted\">({scope})</span></span></label>",
                field = escape(&choice.field),
                ticked = consent::TICKED,
                checked = if choice.ticked { " checked" } else { "" },
                text = escape(choice.text),
                scope = escape(choice.scope),
        ));
        items
    });
    let alert = view.error.map_or(String::new(), |e| {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))
    });
    let opt_in = if view.opt_in.is_empty() {
        String::new()
    } else {
        // The short names are plural nouns ("names", "full exports").
        format!(
            "<p class=\"muted\">{} are allowed only if you tick them.</p>",
            escape(&capitalized(&in_words(view.opt_in))),
        )
    };
    let body = format!(
        "<h1>Allow access to learner data?</h1>\
         <p>Signed in as <strong>{person}</strong> ({role}).</p>{alert}\
         <form method=\"post\" action=\"/oauth/authorize\">\
         <fieldset><legend><strong>{client}</strong> wants to read, for {learners}:</legend>\
         {items}</fieldset>{opt_in}\
         <p class=\"muted\">Untick what it should not have. Your answer goes to {redirect}. \
         Access follows the consent on file for each learner and ends when you revoke it or \
         consent is withdrawn.</p>\
         <input type=\"hidden\" name=\"request_id\" value=\"{id}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"action\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\" class=\"secondary\">Deny</button></form>",
        person = escape(view.person),
        role = escape(view.role),
        client = escape(view.client_name),
        learners = escape(view.learners),
        redirect = escape(view.redirect_uri),
        id = escape(view.request_id),
        csrf = escape(view.csrf),
    );
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(status, "Allow access", &body, &[view.redirect_origin])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        assert_eq!(
            escape("<script>\"x\"&'y'</script>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
        let response = sign_in("id\"><x", "c", "<img src=x onerror=alert(1)>", None);
        let html = String::from_utf8(response.body().clone()).unwrap();
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("id\"><x"));
    }

    fn consent_html(error: Option<&str>) -> (StatusCode, String) {
        let scopes = [
            ScopeChoice {
                scope: "learner.profile",
                text: "the profile",
                field: consent::field_name("learner.profile"),
                ticked: true,
            },
            ScopeChoice {
                scope: "identity",
                text: "names <b>",
                field: consent::field_name("identity"),
                ticked: false,
            },
        ];
        let response = consent(&ConsentView {
            request_id: "r",
            csrf: "c",
            client_name: "Client",
            redirect_uri: "http://127.0.0.1/cb",
            person: "P",
            role: "teacher",
            learners: "your classes",
            scopes: &scopes,
            opt_in: &["names"],
            error,
            redirect_origin: "http://127.0.0.1",
        });
        let status = response.status();
        (status, String::from_utf8(response.body().clone()).unwrap())
    }

    #[test]
    fn consent_offers_each_scope_as_a_box_ticked_as_told() {
        let (status, html) = consent_html(None);
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(
            "<input type=\"checkbox\" name=\"grant:learner.profile\" value=\"yes\" checked>"
        ));
        assert!(html.contains("<input type=\"checkbox\" name=\"grant:identity\" value=\"yes\">"));
        assert!(html.contains("names &lt;b&gt;") && !html.contains("<b>"));
        assert!(
            html.contains("Names are allowed only if you tick them."),
            "{html}"
        );
        assert!(!html.contains("role=\"alert\""));
        let (status, html) = consent_html(Some("Tick one."));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("<p class=\"error\" role=\"alert\">Tick one.</p>"));
    }

    #[test]
    fn lists_read_as_words() {
        assert_eq!(in_words(&["names"]), "names");
        assert_eq!(
            in_words(&["names", "full exports"]),
            "names and full exports"
        );
        assert_eq!(
            capitalized(&in_words(&["names", "full exports", "privacy requests"])),
            "Names, full exports and privacy requests"
        );
    }

    #[test]
    fn pages_carry_the_security_headers() {
        let response = error_page(StatusCode::BAD_REQUEST, "nope");
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none'; style-src 'sha256-"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
        assert!(!csp.contains("unsafe"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
    }
}
