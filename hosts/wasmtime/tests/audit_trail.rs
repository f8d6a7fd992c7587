//! `learner-mcp audit verify` / `export` against a trail someone tampered with: each
//! kind of change is reported at the first broken entry, with exit status 1.

use std::path::Path;
use std::process::{Command, Output};

use learner_core::ports::AuditRecord;
use learner_wasmtime::native::audit::SqliteAudit;
use rusqlite::Connection;

fn record(i: u64) -> AuditRecord {
    AuditRecord {
        at_ms: 1_795_000_000_000 + i,
        kind: "dna.profile.read".into(),
        actor: "demo:teacher".into(),
        outcome: if i.is_multiple_of(2) {
            "denied"
        } else {
            "allowed"
        }
        .into(),
        detail_json: format!("{{\"learner\":\"lp_{i}\"}}"),
    }
}

/// A trail of five entries in `dir/audit.db`.
fn trail(dir: &Path) {
    let audit = SqliteAudit::open(&dir.join("audit.db")).expect("opened");
    for i in 1..=5 {
        assert_eq!(audit.append(&record(i)), Ok(i));
    }
}

/// Runs `learner-mcp audit <args> --data dir`.
fn audit(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_learner-mcp"))
        .arg("audit")
        .args(args)
        .arg("--data")
        .arg(dir)
        .env_remove("LEARNER_DATA")
        .output()
        .expect("ran learner-mcp")
}

/// What a tamperer with the file can do: drop the append-only triggers, then run `sql`.
fn tamper(dir: &Path, sql: &str) {
    let conn = Connection::open(dir.join("audit.db")).expect("opened");
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .expect("triggers dropped");
    conn.execute_batch(sql).expect("tampered");
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn an_untouched_trail_verifies_and_exports_every_entry() {
    let dir = tempfile::tempdir().expect("temp dir");
    trail(dir.path());
    let verified = audit(dir.path(), &["verify"]);
    assert_eq!(verified.status.code(), Some(0), "{verified:?}");
    assert!(
        stdout(&verified).contains(": 5 entries, chain intact, head "),
        "{}",
        stdout(&verified)
    );
    let exported = audit(dir.path(), &["export"]);
    assert_eq!(exported.status.code(), Some(0), "{exported:?}");
    let lines: Vec<serde_json::Value> = stdout(&exported)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[2]["sequence"], 3);
    assert_eq!(lines[2]["detail_json"], "{\"learner\":\"lp_3\"}");
    assert_eq!(lines[3]["prev_hash"], lines[2]["hash"]);
    assert_eq!(
        lines[0]["prev_hash"],
        learner_core::audit_chain::GENESIS,
        "the first entry links to the genesis hash"
    );
}

#[test]
fn the_append_only_triggers_refuse_changes_through_sql() {
    let dir = tempfile::tempdir().expect("temp dir");
    trail(dir.path());
    let conn = Connection::open(dir.path().join("audit.db")).expect("opened");
    for sql in [
        "UPDATE audit_log SET outcome = 'allowed' WHERE sequence = 2",
        "DELETE FROM audit_log WHERE sequence = 2",
    ] {
        let error = conn.execute_batch(sql).expect_err("refused");
        assert!(error.to_string().contains("append-only"), "{error}");
    }
}

#[test]
fn each_kind_of_tampering_is_found_at_the_first_broken_entry() {
    let cases = [
        // A denial rewritten as allowed.
        (
            "UPDATE audit_log SET outcome = 'allowed' WHERE sequence = 4",
            "BROKEN at entry 4: entry 4 does not match its hash",
        ),
        // An entry removed.
        (
            "DELETE FROM audit_log WHERE sequence = 2",
            "BROKEN at entry 3: entry 3 follows entry 1",
        ),
        // An entry changed and given a fresh hash: the next entry no longer links to it.
        (
            "UPDATE audit_log SET actor = 'someone:else', hash = 'f' || substr(hash, 2) WHERE sequence = 3",
            "BROKEN at entry 3: entry 3 does not match its hash",
        ),
        // The two entries swapped.
        (
            "UPDATE audit_log SET sequence = -1 WHERE sequence = 2; \
             UPDATE audit_log SET sequence = 2 WHERE sequence = 3; \
             UPDATE audit_log SET sequence = 3 WHERE sequence = -1",
            "BROKEN at entry 2: entry 2 does not link to the hash of the entry before it",
        ),
    ];
    for (sql, expected) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        trail(dir.path());
        tamper(dir.path(), sql);
        let verified = audit(dir.path(), &["verify"]);
        assert_eq!(verified.status.code(), Some(1), "{sql}: {verified:?}");
        assert!(
            stdout(&verified).contains(expected),
            "{sql}: {}",
            stdout(&verified)
        );
    }
}

#[test]
fn a_rehashed_entry_breaks_the_link_after_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    trail(dir.path());
    // Entry 4, a denial, rewritten as allowed and hashed again.
    let mut changed = record(4);
    changed.outcome = "allowed".into();
    let conn = Connection::open(dir.path().join("audit.db")).expect("opened");
    let prev: String = conn
        .query_row(
            "SELECT prev_hash FROM audit_log WHERE sequence = 4",
            [],
            |r| r.get(0),
        )
        .expect("entry 4");
    let rehashed = learner_core::audit_chain::link(&prev, 4, &changed);
    drop(conn);
    tamper(
        dir.path(),
        &format!(
            "UPDATE audit_log SET outcome = 'allowed', hash = '{rehashed}' WHERE sequence = 4"
        ),
    );
    let verified = audit(dir.path(), &["verify"]);
    assert_eq!(verified.status.code(), Some(1));
    assert!(
        stdout(&verified).contains(
            "BROKEN at entry 5: entry 5 does not link to the hash of the entry before it (4 entries before it verify)"
        ),
        "{}",
        stdout(&verified)
    );
    // Export stops at the break: the four good entries, then status 1.
    let exported = audit(dir.path(), &["export"]);
    assert_eq!(exported.status.code(), Some(1));
    assert_eq!(stdout(&exported).lines().count(), 4);
    assert!(String::from_utf8_lossy(&exported.stderr).contains("BROKEN at entry 5"));
}

#[test]
fn a_missing_trail_is_an_error_not_an_empty_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let verified = audit(dir.path(), &["verify"]);
    assert_eq!(verified.status.code(), Some(1));
    assert!(!dir.path().join("audit.db").exists() || stdout(&verified).is_empty());
    assert!(
        String::from_utf8_lossy(&verified.stderr).contains("opening the audit trail"),
        "{verified:?}"
    );
}
