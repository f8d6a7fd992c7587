//! Discovery: authorization server metadata (RFC 8414) and protected resource
//! metadata (RFC 9728), built from one issuer.

use http::{HeaderValue, StatusCode, header};
use learner_core::{Response, json_response};
use learner_oauth::catalogue;
use learner_oauth::metadata::Issuer;

use crate::settings::Settings;

/// `GET /.well-known/oauth-authorization-server`.
pub fn authorization_server_metadata(settings: &Settings, issuer: &Issuer) -> Response {
    let documents = !settings.client_metadata_documents.is_empty();
    cacheable(json_response(
        StatusCode::OK,
        &issuer.authorization_server_metadata(&catalogue::names(), documents),
    ))
}

/// `GET /.well-known/oauth-protected-resource[/mcp]`.
pub fn protected_resource_metadata(issuer: &Issuer) -> Response {
    cacheable(json_response(
        StatusCode::OK,
        &issuer.protected_resource_metadata(&catalogue::names()),
    ))
}

/// Discovery documents change only with configuration: let clients cache them.
fn cacheable(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
