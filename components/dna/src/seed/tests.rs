//! The generator against an in-memory database: consistent rows, a stopped run written
//! again whole, every tenant table cleared, and the same seed giving the same rows.

use super::*;
use crate::dates::civil_from_days;

#[test]
fn a_seeded_database_holds_consistent_rows() {
    use learner_testkit::run;

    // Foreign keys are on: every reference must resolve.
    let (sql, plan, report) = seeded_in_memory(1, 2, 25, 1_790_000_000_000);
    assert_eq!((report.tenants, report.learners), (3, 75));
    // Again: nothing new, nothing duplicated.
    assert_eq!(
        run(seed(&sql, &plan)).expect("seeded again"),
        Report::default()
    );
    let count = |query: &str| sql.count(query);
    assert_eq!(count("SELECT COUNT(*) FROM learners"), 75);
    assert_eq!(
        count("SELECT COUNT(*) FROM learning_events") as u64,
        report.events
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM staff WHERE subject = 'demo:teacher'"),
        1
    );
    // The demo teacher's class has at least five active learners, the demo student
    // among them; the demo guardian has two children, one of them under 13
    // without consent.
    assert!(
        count("SELECT COUNT(*) FROM enrollments WHERE class_id = 'demo-cls0' AND ends_on IS NULL")
            >= 5
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM guardianships g JOIN guardians p ON p.id = g.guardian_id WHERE p.subject = 'demo:guardian'"
        ),
        2
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM consents WHERE learner_id = 'demo-lrn00001'"),
        0
    );
    assert_eq!(count("SELECT COUNT(*) FROM dna_traits"), 75 * 5);
}

#[test]
fn a_tenant_cut_short_is_written_again_whole() {
    use learner_testkit::run;

    let (sql, plan, whole) = seeded_in_memory(1, 0, 12, 1_790_000_000_000);
    let count = |query: &str| sql.count(query);
    assert_eq!(
        count("SELECT COUNT(*) FROM seed_runs WHERE tenant_id = 'demo'"),
        1
    );
    // As if the run had stopped after its first transactions: later rows and the
    // record of completion missing.
    for query in [
        "DELETE FROM seed_runs",
        "DELETE FROM consents",
        "DELETE FROM struggles",
        "DELETE FROM learning_events WHERE rowid % 2 = 0",
    ] {
        run(sql.execute(&Statement::new(query, Vec::new()))).expect("cut");
    }
    let again = run(seed(&sql, &plan)).expect("written again");
    assert_eq!(again, whole);
    assert_eq!(
        count("SELECT COUNT(*) FROM learning_events") as u64,
        whole.events
    );
    assert!(count("SELECT COUNT(*) FROM consents") > 0);
    assert_eq!(
        count("SELECT COUNT(*) FROM seed_runs WHERE tenant_id = 'demo'"),
        1
    );
}

#[test]
fn clearing_a_tenant_reaches_every_table_but_the_ledgers() {
    use learner_testkit::run;

    let sql = learner_testkit::MemorySql::new();
    run(crate::migrations::migrate(&sql, 0)).expect("migrated");
    let mut cleared: Vec<&str> = TENANT_TABLES.to_vec();
    cleared.extend(["tenants", "seed_runs", "schema_migrations"]);
    cleared.sort_unstable();
    assert_eq!(
        run(crate::migrations::tables(&sql)).expect("tables"),
        cleared
    );
}

#[test]
fn dates_are_civil_dates() {
    assert_eq!(civil_from_days(0), "1970-01-01");
    assert_eq!(civil_from_days(19_723), "2024-01-01");
    assert_eq!(civil_from_days(20_513), "2026-03-01");
}

#[test]
fn the_same_seed_gives_the_same_rows() {
    let plan = Plan {
        seed: 7,
        tenants: 1,
        learners: 30,
        demo: true,
        now_ms: 1_790_000_000_000,
    };
    let generate = |plan: &Plan| {
        let mut rows = Rows::new();
        let mut report = Report::default();
        let mut rng = Rng(plan.seed);
        generate_tenant(&mut rng, &mut rows, &mut report, "demo", plan);
        (rows.take(), report)
    };
    let (a, report) = generate(&plan);
    let (b, _) = generate(&plan);
    assert_eq!(a, b);
    let (c, _) = generate(&Plan {
        seed: 8,
        ..plan.clone()
    });
    assert_ne!(a, c);
    assert_eq!(report.learners, 30);
    // Rows share statements, none past the parameter limit.
    assert!(a.iter().all(|s| s.params.len() <= MAX_PARAMS));
    assert!(
        a.len() * 4 < usize::try_from(report.events).unwrap_or(0),
        "{}",
        a.len()
    );
    assert!(
        report.under_13 > 0 && report.under_13_with_consent < report.under_13,
        "{report:?}"
    );
    assert!(report.events > 30 * 6, "{report:?}");
}
