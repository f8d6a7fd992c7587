//! The port contract (`wit/ports.wit`), written once and run against every host: over
//! HTTP (`POST /__test/ports`, the test build's port routes) against each running host,
//! and in-process against the harness's own storage driver (`learner-storage` over
//! rusqlite: `hosts/wasmtime/tests/port_contract.rs`). Every test reaches the ports
//! through [`crate::port_call`], which goes through the [`PortCaller`] installed for
//! the test binary — HTTP unless one installs another.
//!
//! A new contract test is a `pub fn` in one of the modules below and a line in
//! [`port_contract!`](crate::port_contract), which every test binary expands.

pub mod audit_config;
pub mod key_value;
pub mod sql;

use std::sync::OnceLock;

use serde_json::Value;

/// How a test binary reaches the ports: one call of the port routes' protocol
/// (`{"port": …, "op": …}` in, `{"ok": …}` or `{"err": …}` out).
pub trait PortCaller: Send + Sync {
    /// Makes one port call.
    fn call(&self, call: &Value) -> Value;
}

static CALLER: OnceLock<Box<dyn PortCaller>> = OnceLock::new();

/// Installs the caller this test binary uses; the first installation stays.
pub fn install(caller: impl FnOnce() -> Box<dyn PortCaller>) {
    CALLER.get_or_init(caller);
}

/// The installed caller, if any (none: over HTTP).
pub(crate) fn installed() -> Option<&'static dyn PortCaller> {
    CALLER.get().map(Box::as_ref)
}

/// Nothing to install: the contract runs over HTTP against `LEARNER_BASE_URL`.
pub fn over_http() {}

/// Expands the whole port contract as `#[test]`s in a module `port_contract`, each
/// first calling `$install` (an absolute path: `crate::…`), which installs the binary's
/// [`PortCaller`] ([`over_http`] for none).
#[macro_export]
macro_rules! port_contract {
    ($install:path) => {
        mod port_contract {
            $crate::port_contract!(@tests $install);
        }
    };
    (@tests $install:path) => {
        $crate::port_contract!(@module $install, key_value, [
            put_then_get_returns_the_bytes_and_version,
            absent_key_reads_as_none,
            every_write_increases_the_version,
            entries_expire_after_their_ttl,
            compare_and_swap_writes_only_at_the_expected_version,
            take_returns_the_entry_once,
            delete_reports_whether_a_live_entry_existed,
            keys_outside_the_size_limits_are_refused,
            take_under_concurrent_callers_has_exactly_one_winner,
            compare_and_swap_under_concurrent_callers_has_exactly_one_winner,
            add_counts_from_zero_and_never_below_it,
            add_under_concurrent_callers_counts_every_call,
            wait_returns_a_present_entry_at_once_and_none_when_time_is_up,
            a_waiter_is_woken_by_a_write_from_another_request,
        ]);
        $crate::port_contract!(@module $install, sql, [
            every_value_type_round_trips_through_a_table,
            parameters_round_trip_without_a_table,
            writes_report_rows_affected_and_last_insert_rowid,
            refused_statements_are_statement_errors_and_change_nothing,
            a_batch_commits_all_its_statements,
            a_failing_batch_rolls_back_every_statement,
        ]);
        $crate::port_contract!(@module $install, audit_config, [
            appended_records_read_back_in_sequence,
            the_whole_trail_is_one_unbroken_hash_chain,
            config_values_and_secrets_are_read_by_name,
        ]);
    };
    (@module $install:path, $module:ident, [$($test:ident),* $(,)?]) => {
        mod $module {
            $(
                #[test]
                fn $test() {
                    $install();
                    $crate::contract::$module::$test();
                }
            )*
        }
    };
}
