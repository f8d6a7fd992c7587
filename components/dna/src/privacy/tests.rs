//! The privacy rules against a small fixture (relationship, age, consent, scope), and
//! the pure decision over every combination of its facts.

use learner_testkit::{principal, run};

use super::*;
use learner_testkit::MemorySql as Memory;

const TODAY: &str = "2026-11-25";
const NOW: u64 = 1_795_000_000_000;

/// Tenant `a`: teacher T teaches class C; learners L14 (14, all consented, the
/// student account), L10 (10, parental consent for profile only), L10N (10, no
/// consent), LOLD (14, enrollment ended), LW (14, consent withdrawn); guardian G
/// of L10 and L10N. Tenant `b`: learner X.
fn fixture() -> Memory {
    let sql = Memory::new();
    run(crate::migrations::migrate(&sql, 0)).expect("migrated");
    let script = "
INSERT INTO tenants VALUES ('a', 'A', 0), ('b', 'B', 0);
INSERT INTO schools VALUES ('sa', 'a', 'School A'), ('sb', 'b', 'School B');
INSERT INTO staff VALUES ('t', 'a', 'sa', 'teacher', 'T', NULL, 'a:teacher'),
  ('adm', 'a', NULL, 'admin', 'Admin', NULL, 'a:admin');
INSERT INTO classes VALUES ('c', 'a', 'sa', 'Math 7', 'math', 7), ('cx', 'b', 'sb', 'Math B', 'math', 7);
INSERT INTO class_teachers VALUES ('a', 'c', 't');
INSERT INTO learners VALUES
  ('l14', 'a', 'sa', 'Ana', 'Lee', 'ana@a', '2012-03-01', 'a:student'),
  ('l10', 'a', 'sa', 'Bo', 'Kim', NULL, '2016-05-01', NULL),
  ('l10n', 'a', 'sa', 'Cy', 'Kim', NULL, '2016-05-01', NULL),
  ('lold', 'a', 'sa', 'Di', 'Ng', NULL, '2012-01-01', NULL),
  ('lw', 'a', 'sa', 'Ed', 'Ng', NULL, '2012-01-01', NULL),
  ('x', 'b', 'sb', 'Xi', 'Wu', NULL, '2012-01-01', NULL);
INSERT INTO enrollments VALUES
  ('e1', 'a', 'c', 'l14', '2026-09-01', NULL), ('e2', 'a', 'c', 'l10', '2026-09-01', NULL),
  ('e3', 'a', 'c', 'l10n', '2026-09-01', NULL), ('e4', 'a', 'c', 'lold', '2026-01-01', '2026-06-30'),
  ('e5', 'a', 'c', 'lw', '2026-09-01', NULL), ('e6', 'b', 'cx', 'x', '2026-09-01', NULL);
INSERT INTO guardians VALUES ('g', 'a', 'G', NULL, 'a:guardian');
INSERT INTO guardianships VALUES ('a', 'g', 'l10', 'parent'), ('a', 'g', 'l10n', 'parent');
INSERT INTO consents VALUES
  ('k1', 'a', 'l14', 'profile', NULL, 'l14', 'school-record', 0, NULL, 'p'),
  ('k2', 'a', 'l14', 'struggles', NULL, 'l14', 'school-record', 0, NULL, 'p'),
  ('k3', 'a', 'l14', 'identity', 'client-1', 'l14', 'school-record', 0, NULL, 'p'),
  ('k4', 'a', 'l10', 'profile', NULL, 'g', 'signed-form', 0, NULL, 'p'),
  ('k5', 'a', 'lw', 'profile', NULL, 'lw', 'school-record', 0, 1000, 'p'),
  ('k6', 'a', 'lold', 'profile', NULL, 'lold', 'school-record', 0, NULL, 'p'),
  ('k7', 'b', 'x', 'profile', NULL, 'x', 'school-record', 0, NULL, 'p');
";
    for statement in learner_core::ports::sql_statements(script) {
        run(sql.execute(&Statement::new(statement, Vec::new()))).expect("fixture row");
    }
    sql
}

fn requester(subject: &str, role: Role, client: &str, scopes: &[&str]) -> Requester {
    Requester::new(principal("a", subject, role, client, scopes)).expect("a member")
}

#[test]
fn relationship_age_consent_and_scope_decide_together() {
    use Access::{Allowed, Denied};
    use Category::*;
    let sql = fixture();
    let all = [
        "learner.profile",
        "learner.behavioral",
        "learner.assessment",
        "learner.struggles",
        "identity",
    ];
    let teacher = requester("a:teacher", Role::Teacher, "client-1", &all);
    let other_client = requester("a:teacher", Role::Teacher, "client-2", &all);
    let profile_only = requester("a:teacher", Role::Teacher, "client-1", &["learner.profile"]);
    let guardian = requester("a:guardian", Role::Guardian, "client-1", &all);
    let student = requester("a:student", Role::Student, "client-1", &all);
    let admin = requester("a:admin", Role::TenantAdmin, "client-1", &all);
    let cases: Vec<(&Requester, &str, Access)> = vec![
        // Scope ∩ consent; identity consented to client-1 only.
        (&teacher, "l14", Allowed(vec![Profile, Struggles, Identity])),
        (&other_client, "l14", Allowed(vec![Profile, Struggles])),
        (&profile_only, "l14", Allowed(vec![Profile])),
        // Under 13: parental consent decides, and then consent per category.
        (&teacher, "l10", Allowed(vec![Profile])),
        (&teacher, "l10n", Denied(Denial::NoParentalConsent)),
        (&guardian, "l10n", Denied(Denial::NoParentalConsent)),
        // Enrollment ended: no longer the teacher's learner.
        (&teacher, "lold", Denied(Denial::NotVisible)),
        // Consent withdrawn.
        (&teacher, "lw", Denied(Denial::NothingConsented)),
        // Guardians see their own children only; students themselves only.
        (&guardian, "l10", Allowed(vec![Profile])),
        (&guardian, "l14", Denied(Denial::NotVisible)),
        (&student, "l14", Allowed(vec![Profile, Struggles, Identity])),
        (&student, "l10", Denied(Denial::NotVisible)),
        // Administrators: aggregates only.
        (&admin, "l14", Denied(Denial::AggregatesOnly)),
        // Another tenant's learner does not exist here.
        (&teacher, "x", Denied(Denial::NotVisible)),
        (&teacher, "nobody", Denied(Denial::NotVisible)),
    ];
    for (who, learner, expected) in cases {
        let got = run(learner_access(&sql, who, learner, TODAY, NOW)).expect("decided");
        assert_eq!(got, expected, "{} → {learner}", who.subject());
    }
    // The tenant comes from the token: the same person in tenant b sees nothing of a.
    let mut elsewhere = teacher.clone();
    elsewhere.member.tenant = "b".into();
    assert_eq!(
        run(learner_access(&sql, &elsewhere, "l14", TODAY, NOW)).expect("decided"),
        Denied(Denial::NotVisible)
    );
}

#[test]
fn ages_are_whole_years_and_pseudonyms_are_pairwise() {
    assert_eq!(age_on("2012-11-25", "2026-11-25"), Some(14));
    assert_eq!(age_on("2012-11-26", "2026-11-25"), Some(13));
    assert_eq!(age_on("2013-11-26", "2026-11-25"), Some(12));
    assert_eq!(age_on("not-a-date", "2026-11-25"), None);
    assert_eq!(age_on("2030-01-01", "2026-11-25"), None);
    let key = [9u8; 32];
    let a = pseudonym(&key, "client-1", "l14");
    assert_eq!(a, pseudonym(&key, "client-1", "l14"));
    assert_ne!(a, pseudonym(&key, "client-2", "l14"));
    assert_ne!(a, pseudonym(&[8u8; 32], "client-1", "l14"));
    assert!(a.starts_with("lp_") && a.len() == 35, "{a}");
    assert!(!a.contains("l14"));
    assert!(aggregate_allowed(5) && !aggregate_allowed(4));
}

#[test]
fn the_decision_is_a_pure_function_of_the_facts() {
    use Access::{Allowed, Denied};
    use Category::*;
    use Denial::{AggregatesOnly, NoParentalConsent, NotVisible, NothingConsented};
    use Purpose::{Aggregate, Read};
    use Role::{Guardian, Student, Teacher, TenantAdmin};
    let consent = |age: Option<u32>, parental: bool, consented: &[Category]| ConsentFacts {
        age,
        parental_consent: parental,
        consented: consented.to_vec(),
    };
    let adult = consent(Some(14), false, &[Profile, Struggles, Identity]);
    let child_verified = consent(Some(10), true, &[Profile]);
    let child_unverified = consent(Some(10), false, &[Profile]);
    let unknown_age = consent(None, false, &[Profile]);
    let nothing = consent(Some(14), false, &[]);
    let all: Vec<String> = Category::ALL.iter().map(|c| c.scope().to_owned()).collect();
    let profile_only = vec!["learner.profile".to_owned()];
    let none: Vec<String> = Vec::new();
    // (role, purpose, in tenant, related, consent, scopes, decision): one case a line.
    type Case<'a> = (
        Role,
        Purpose,
        bool,
        bool,
        &'a ConsentFacts,
        &'a [String],
        Access,
    );
    #[rustfmt::skip]
    let cases: Vec<Case<'_>> = vec![
        (Teacher, Read, true, true, &adult, &all, Allowed(vec![Profile, Struggles, Identity])),
        (Teacher, Read, true, true, &adult, &profile_only, Allowed(vec![Profile])),
        (Teacher, Read, true, true, &adult, &none, Denied(NothingConsented)),
        (Teacher, Read, true, false, &adult, &all, Denied(NotVisible)),
        (Teacher, Read, false, true, &adult, &all, Denied(NotVisible)),
        (Guardian, Read, true, true, &child_verified, &all, Allowed(vec![Profile])),
        (Guardian, Read, true, true, &child_unverified, &all, Denied(NoParentalConsent)),
        (Student, Read, true, true, &unknown_age, &all, Denied(NoParentalConsent)),
        (Student, Read, true, true, &nothing, &all, Denied(NothingConsented)),
        // An administrator is refused one learner before anything else is weighed.
        (TenantAdmin, Read, false, false, &adult, &all, Denied(AggregatesOnly)),
        // Aggregates: consent decides, whatever the scopes; COPPA still applies.
        (TenantAdmin, Aggregate, true, false, &adult, &none,
            Allowed(vec![Profile, Struggles, Identity])),
        (Teacher, Aggregate, true, false, &child_unverified, &all, Denied(NoParentalConsent)),
        (Teacher, Aggregate, true, true, &nothing, &all, Denied(NothingConsented)),
        (Teacher, Aggregate, false, true, &adult, &all, Denied(NotVisible)),
    ];
    for (role, purpose, in_tenant, related, consent, scopes, expected) in cases {
        let facts = Facts {
            role,
            purpose,
            in_tenant,
            related,
            consent,
            scopes,
        };
        assert_eq!(decide(&facts), expected, "{facts:?}");
    }
}
