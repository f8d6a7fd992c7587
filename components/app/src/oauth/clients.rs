//! Finding and authenticating clients, whichever way they identify themselves: an id
//! this server issued at registration (RFC 7591), or the URL of a Client ID Metadata
//! Document, accepted from the hosts the operator lists in
//! `oauth.client_metadata_documents` (none by default).

use learner_core::ports::{Clock, Host, KvError};
use learner_oauth::client_documents::{ClientDocuments, DocumentFailure, is_document_url};
use learner_oauth::clients::{AuthFailure, Client, ClientCredentials, Clients};
use learner_oauth::error::{ErrorCode, OAuthError};

use crate::settings::Settings;

/// What a client id turned out to be.
#[derive(Debug)]
pub enum Lookup {
    /// A client this server knows or whose document it accepted.
    Found(Client),
    /// No such registered client.
    Unknown,
    /// A document client that cannot be accepted, and why.
    Refused(OAuthError),
}

/// Looks a client up by id; `Err` when storage fails.
pub async fn find<H: Host>(
    host: &H,
    settings: &Settings,
    client_id: &str,
) -> Result<Lookup, KvError> {
    if !is_document_url(client_id) {
        let clients = Clients::new(host.key_value(), host.random());
        return Ok(clients
            .get(client_id)
            .await?
            .map_or(Lookup::Unknown, Lookup::Found));
    }
    let allowed = &settings.client_metadata_documents;
    if allowed.is_empty() {
        return Ok(Lookup::Refused(OAuthError::new(
            ErrorCode::InvalidClient,
            "this server does not accept client metadata documents; register the client instead",
        )));
    }
    let documents = ClientDocuments::new(host.key_value(), host.fetch(), allowed);
    match documents.resolve(client_id, host.clock().now_ms()).await {
        Ok(client) => Ok(Lookup::Found(client)),
        Err(DocumentFailure::Refused(error)) => Ok(Lookup::Refused(error)),
        Err(DocumentFailure::Storage(error)) => Err(error),
    }
}

/// Authenticates a client at the token, revocation or introspection endpoint. A
/// document client is public: it sends its id alone, never a secret.
pub async fn authenticate<H: Host>(
    host: &H,
    settings: &Settings,
    credentials: &ClientCredentials,
) -> Result<Client, AuthFailure> {
    if !is_document_url(credentials.client_id()) {
        return Clients::new(host.key_value(), host.random())
            .authenticate(credentials)
            .await;
    }
    let refused = |description: &str| {
        AuthFailure::Refused(OAuthError::new(ErrorCode::InvalidClient, description))
    };
    if !matches!(credentials, ClientCredentials::None { .. }) {
        return Err(refused(
            "a client identified by a metadata document authenticates with its client_id alone",
        ));
    }
    match find(host, settings, credentials.client_id()).await? {
        Lookup::Found(client) => Ok(client),
        Lookup::Unknown => Err(refused("client authentication failed")),
        Lookup::Refused(error) => Err(AuthFailure::Refused(error)),
    }
}

/// The name the consent page shows: the client's own name, and for a document client
/// the host that vouches for it, since anyone can put any name in a document.
pub fn display_name(client: &Client) -> String {
    let host = is_document_url(&client.client_id)
        .then(|| client.client_id.parse::<http::Uri>().ok())
        .flatten()
        .and_then(|uri| uri.host().map(str::to_owned));
    match (&client.metadata.client_name, host) {
        (Some(name), Some(host)) => format!("{name} ({host})"),
        (None, Some(host)) => host,
        (Some(name), None) => name.clone(),
        (None, None) => client.client_id.clone(),
    }
}
