//! The Learner DNA schema on every host's database: the same migrations apply through
//! the SQL port (SQLite in the harness and in Spin, a Durable Object's on Cloudflare), once.

use learner_conformance::{agent, base_url};
use serde_json::{Value, json};

fn migrate() -> Value {
    let mut response = agent()
        .post(format!("{}/__test/dna/migrate", base_url()))
        .send("")
        .expect("reachable");
    let status = response.status().as_u16();
    let body: Value = response.body_mut().read_json().expect("JSON");
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn the_learner_dna_schema_applies_once_on_this_host() {
    let first = migrate();
    assert_eq!(first["version"], 2, "{first}");
    for table in [
        "tenants",
        "schools",
        "staff",
        "classes",
        "class_teachers",
        "learners",
        "enrollments",
        "guardians",
        "guardianships",
        "learning_events",
        "dna_traits",
        "concept_mastery",
        "struggles",
        "consents",
        "seed_runs",
        "schema_migrations",
    ] {
        assert!(
            first["tables"]
                .as_array()
                .is_some_and(|t| t.contains(&json!(table))),
            "{table} missing: {first}"
        );
    }
    // Whether this call or an earlier one applied it, applying again applies nothing.
    let again = migrate();
    assert_eq!(again["applied"], json!([]));
    assert_eq!(again["version"], 2);
}

#[test]
fn synthetic_data_writes_through_every_hosts_sql_port() {
    // Every host instance starts with an empty database: tenant t001 is new here.
    migrate();
    let mut response = agent()
        .post(format!("{}/__test/dna/seed", base_url()))
        .send_json(json!({"seed": 42, "tenants": 1, "learners": 24}))
        .expect("reachable");
    let status = response.status().as_u16();
    let report: Value = response.body_mut().read_json().expect("JSON");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["tenants"], 1, "{report}");
    assert_eq!(report["learners"], 24);
    assert!(
        report["events"].as_u64().is_some_and(|n| n >= 24 * 6),
        "{report}"
    );
    assert!(
        report["under_13"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
}
