//! Notifications the server sends.

use serde::Serialize;
use serde_json::Value;

use crate::session::LogLevel;

/// `notifications/message`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggingMessage {
    /// Severity.
    pub level: LogLevel,
    /// Which part of the server speaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// The message.
    pub data: Value,
}

/// `notifications/progress`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The token the request gave.
    pub progress_token: Value,
    /// How far.
    pub progress: f64,
    /// Of how much.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// What is happening.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `notifications/resources/updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceUpdated {
    /// The resource.
    pub uri: String,
}
