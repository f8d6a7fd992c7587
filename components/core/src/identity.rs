//! Who asks: the typed principal an authenticated request becomes, once, at the
//! resource guard — and the one `Role` every layer speaks of.

use serde::{Deserialize, Serialize};

/// What a person is to the learners' records (ARCHITECTURE.md, "Relationships").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads learners in the classes they teach, while enrolled.
    Teacher,
    /// Reads their own children.
    Guardian,
    /// Reads themself.
    Student,
    /// Reads aggregates and the audit trail of a tenant, never one learner.
    TenantAdmin,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 4] = [
        Self::Teacher,
        Self::Guardian,
        Self::Student,
        Self::TenantAdmin,
    ];

    /// Its name in grants and in the audit trail (`tenant_admin`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Teacher => "teacher",
            Self::Guardian => "guardian",
            Self::Student => "student",
            Self::TenantAdmin => "tenant_admin",
        }
    }

    /// The role named `name` (as [`Role::as_str`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// How pages name the role to a person.
    pub fn label(self) -> &'static str {
        match self {
            Self::TenantAdmin => "tenant administrator",
            other => other.as_str(),
        }
    }
}

/// A person's place in a tenant (school district), as their sign-in established it and
/// their grant keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The tenant.
    pub tenant: String,
    /// Their role in it.
    pub role: Role,
    /// Their name, for pages and summaries (never for decisions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// An authenticated request's principal: the person, the client acting for them, the
/// grant they authorized and its scopes. Made from the access token, never from what
/// the request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The person who authorized the grant.
    pub subject: String,
    /// The client acting for them.
    pub client_id: String,
    /// The grant the token belongs to (sessions are bound to it).
    pub grant_id: String,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// Their tenant and role; `None` for a grant that names no member of a tenant
    /// (such grants may use no tenant's data).
    pub member: Option<Member>,
}

impl Principal {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether something gated by `scope` (none: open to every token) is for this
    /// principal.
    pub fn admits(&self, scope: Option<&str>) -> bool {
        scope.is_none_or(|s| self.has_scope(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names_and_serde() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_value(role).ok(),
                Some(serde_json::Value::String(role.as_str().into()))
            );
        }
        assert_eq!(Role::parse("admin"), None);
        assert_eq!(Role::TenantAdmin.label(), "tenant administrator");
    }

    #[test]
    fn scopes_gate_what_a_principal_may_use() {
        let principal = Principal {
            subject: "demo:teacher".into(),
            client_id: "c".into(),
            grant_id: "g".into(),
            scopes: vec!["learner.profile".into()],
            member: None,
        };
        assert!(principal.has_scope("learner.profile"));
        assert!(!principal.has_scope("learner.export"));
        assert!(principal.admits(None) && principal.admits(Some("learner.profile")));
        assert!(!principal.admits(Some("privacy.admin")));
    }
}
