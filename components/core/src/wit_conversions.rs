//! The one mapping between the port types of `wit/ports.wit` and the core's.
//!
//! Three places meet the WIT types, each through its own bindings generator: the
//! gateway imports the ports (wit-bindgen), the Spin adapter exports them (wit-bindgen)
//! and the harness provides them to the component (wasmtime's bindgen). The generated
//! types have the same names and shapes everywhere, so one macro writes the `From`
//! conversions, both ways, for whichever bindings it is invoked beside.

/// Writes `From` conversions both ways between the core's port types and the WIT
/// bindings of the interfaces `key-value`, `sql`, `audit` and `fetch`, given as the
/// names of the four generated modules in scope where it is invoked.
#[macro_export]
macro_rules! wit_conversions {
    ($kv:ident, $sql:ident, $audit:ident, $fetch:ident) => {
        $crate::wit_conversions!(@record $crate::ports::KvEntry, $kv::Entry { value, version });
        $crate::wit_conversions!(@record $crate::ports::Statement, $sql::Statement {
            sql, params: list });
        $crate::wit_conversions!(@record $crate::ports::QueryResult, $sql::QueryResult {
            columns, rows: rows, rows_affected, last_insert_rowid });
        $crate::wit_conversions!(@record $crate::ports::AuditRecord, $audit::AuditRecord {
            at_ms, kind, actor, outcome, detail_json });
        $crate::wit_conversions!(@record $crate::ports::AuditEntry, $audit::AuditEntry {
            sequence, record: into, prev_hash, hash });
        $crate::wit_conversions!(@record $crate::ports::OutboundRequest, $fetch::OutboundRequest {
            method, url, headers, body, timeout_ms, max_response_bytes });
        $crate::wit_conversions!(@record $crate::ports::OutboundResponse, $fetch::OutboundResponse {
            status, headers, body });
        $crate::wit_conversions!(@variant $crate::ports::KvError, $kv::KvError {
            InvalidArgument(message), Conflict(current), Backend(message) });
        $crate::wit_conversions!(@variant $crate::ports::SqlValue, $sql::Value {
            Null, Integer(value), Real(value), Text(value), Blob(value) });
        $crate::wit_conversions!(@variant $crate::ports::SqlError, $sql::SqlError {
            Statement(message), Backend(message) });
        $crate::wit_conversions!(@variant $crate::ports::FetchError, $fetch::FetchError {
            Denied(message), Timeout, TooLarge, Transport(message) });
    };
    // A record: the same fields on both sides. A field is copied as it is, or
    // converted (`into`), element by element (`list`), or row by row (`rows`).
    (@record $core:ty, $wit:ty { $($field:ident $(: $how:ident)?),+ $(,)? }) => {
        impl From<$wit> for $core {
            fn from(wit: $wit) -> Self {
                Self { $($field: $crate::wit_conversions!(@field wit.$field $(, $how)?)),+ }
            }
        }
        impl From<$core> for $wit {
            fn from(core: $core) -> Self {
                Self { $($field: $crate::wit_conversions!(@field core.$field $(, $how)?)),+ }
            }
        }
    };
    (@field $value:expr) => { $value };
    (@field $value:expr, into) => { ::core::convert::Into::into($value) };
    (@field $value:expr, list) => {
        $value.into_iter().map(::core::convert::Into::into).collect()
    };
    (@field $value:expr, rows) => {
        $value
            .into_iter()
            .map(|row| row.into_iter().map(::core::convert::Into::into).collect())
            .collect()
    };
    // A variant: the same cases on both sides, each with at most one payload, which is
    // the same type on both.
    (@variant $core:ty, $wit:ty { $($case:ident $(($payload:ident))?),+ $(,)? }) => {
        impl From<$wit> for $core {
            fn from(wit: $wit) -> Self {
                type Wit = $wit;
                match wit {
                    $(Wit::$case $(($payload))? => Self::$case $(($payload))?),+
                }
            }
        }
        impl From<$core> for $wit {
            fn from(core: $core) -> Self {
                type Core = $core;
                match core {
                    $(Core::$case $(($payload))? => Self::$case $(($payload))?),+
                }
            }
        }
    };
}

#[cfg(test)]
#[allow(clippy::needless_pass_by_value)] // Helpers take JSON by value, as a call writes it.
mod tests {
    //! The macro over the very types wit-bindgen generates from `wit/ports.wit` (the
    //! `ports` world, as the Spin adapter sees it; the other generators name and shape
    //! them alike).

    #[allow(missing_docs, clippy::pedantic, unsafe_code)]
    mod bindings {
        wit_bindgen::generate!({ world: "ports", path: "../../wit" });
    }

    use bindings::exports::learner_dna::app::{audit, fetch, key_value, sql};

    crate::wit_conversions!(key_value, sql, audit, fetch);

    use crate::ports::{
        AuditEntry, AuditRecord, FetchError, KvError, QueryResult, SqlError, SqlValue, Statement,
    };

    fn round_trip<Core, Wit>(core: Core)
    where
        Core: Clone + PartialEq + std::fmt::Debug + From<Wit>,
        Wit: From<Core>,
    {
        let wit: Wit = core.clone().into();
        assert_eq!(Core::from(wit), core);
    }

    #[test]
    fn every_port_type_survives_the_round_trip() {
        let values = vec![
            SqlValue::Null,
            SqlValue::Integer(-7),
            SqlValue::Real(1.5),
            SqlValue::Text("t".into()),
            SqlValue::Blob(vec![0, 255]),
        ];
        round_trip::<_, sql::Statement>(Statement::new("SELECT ?", values.clone()));
        round_trip::<_, sql::QueryResult>(QueryResult {
            columns: vec!["a".into()],
            rows: vec![values.clone(), values],
            rows_affected: 3,
            last_insert_rowid: Some(9),
        });
        round_trip::<_, sql::SqlError>(SqlError::Statement("no".into()));
        round_trip::<_, sql::SqlError>(SqlError::Backend("down".into()));
        for error in [
            KvError::InvalidArgument("k".into()),
            KvError::Conflict(Some(4)),
            KvError::Conflict(None),
            KvError::Backend("b".into()),
        ] {
            round_trip::<_, key_value::KvError>(error);
        }
        let record = AuditRecord {
            at_ms: 1,
            kind: "k".into(),
            actor: "a".into(),
            outcome: "allowed".into(),
            detail_json: "{}".into(),
        };
        round_trip::<_, audit::AuditEntry>(AuditEntry {
            sequence: 2,
            record,
            prev_hash: "p".into(),
            hash: "h".into(),
        });
        for error in [
            FetchError::Denied("d".into()),
            FetchError::Timeout,
            FetchError::TooLarge,
            FetchError::Transport("t".into()),
        ] {
            round_trip::<_, fetch::FetchError>(error);
        }
    }
}
