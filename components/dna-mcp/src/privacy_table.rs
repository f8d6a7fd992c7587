//! The privacy table: for every role × relationship × age × consent state × scope in
//! the fixture, exactly what each resource and operation returns — which fields, under
//! which ids — or which refusal; and that each decision reached the audit trail.

use std::collections::BTreeSet;

use learner_core::identity::Principal;
use learner_core::ports::{Sql, Statement};
use learner_dna::privacy::{self, Category, Requester, Role};
use learner_dna::service::{Failure, Service};
use learner_mcp_server::catalogue::Catalogue;
use learner_testkit::MemorySql as Memory;
use learner_testkit::{MemoryHost, TestClock, principal, run};
use serde_json::{Value, json};

use crate::revocations::Revocations;
use crate::{ACCESS_DENIED, LearnerCatalogue};

/// 2026-11-25, mid-morning.
const NOW: u64 = 1_795_600_000_000;

const FULL: &[&str] = &[
    "learner.profile",
    "learner.behavioral",
    "learner.assessment",
    "learner.struggles",
    "identity",
    "class.aggregates",
    "learner.export",
    "privacy.admin",
];

fn fixture() -> Memory {
    let sql = Memory::new();
    run(learner_dna::migrations::migrate(&sql, 0)).expect("migrated");
    let mut script = String::from(
        "
INSERT INTO tenants VALUES ('a', 'A', 0), ('b', 'B', 0);
INSERT INTO schools VALUES ('sa', 'a', 'School A'), ('sb', 'b', 'School B');
INSERT INTO staff VALUES ('t', 'a', 'sa', 'teacher', 'T', NULL, 'a:teacher'),
  ('adm', 'a', NULL, 'admin', 'Admin', NULL, 'a:admin'),
  ('tb', 'b', 'sb', 'teacher', 'TB', NULL, 'b:teacher');
INSERT INTO classes VALUES ('c', 'a', 'sa', 'Math 7', 'math', 7), ('c2', 'a', 'sa', 'Math 8', 'math', 8),
  ('cb', 'b', 'sb', 'Math B', 'math', 7);
INSERT INTO class_teachers VALUES ('a', 'c', 't'), ('b', 'cb', 'tb');
INSERT INTO guardians VALUES ('g', 'a', 'G', NULL, 'a:guardian');
",
    );
    // (id, tenant, birth date, account, enrollment end, guardian)
    let learners: [(&str, &str, &str, &str, &str, bool); 11] = [
        ("l14", "a", "2012-03-01", "'a:student'", "NULL", false),
        ("l10", "a", "2016-05-01", "NULL", "NULL", true),
        ("l10n", "a", "2016-05-01", "NULL", "NULL", true),
        ("l10s", "a", "2016-05-01", "NULL", "NULL", true),
        ("lold", "a", "2012-01-01", "NULL", "'2026-06-30'", false),
        ("lw", "a", "2012-01-01", "NULL", "NULL", false),
        ("f1", "a", "2012-02-01", "NULL", "NULL", false),
        ("f2", "a", "2012-02-01", "NULL", "NULL", false),
        ("f3", "a", "2012-02-01", "NULL", "NULL", false),
        ("f4", "a", "2012-02-01", "NULL", "NULL", false),
        ("x", "b", "2012-01-01", "NULL", "NULL", false),
    ];
    for (id, tenant, birth, account, ends, guarded) in learners {
        let (school, class) = if tenant == "a" {
            ("sa", "c")
        } else {
            ("sb", "cb")
        };
        script.push_str(&format!(
            "INSERT INTO learners VALUES ('{id}', '{tenant}', '{school}', 'Given{id}', 'Family{id}', '{id}@mail', '{birth}', {account});
INSERT INTO enrollments VALUES ('e-{id}', '{tenant}', '{class}', '{id}', '2026-01-01', {ends});
INSERT INTO struggles VALUES ('{tenant}', '{id}', 'fractions', 'adds-denominators', 0.6, 0.5, 4, 1);
INSERT INTO concept_mastery VALUES ('{tenant}', '{id}', 'fractions', 0.4, 0.5, 10, 1);
"
        ));
        for t in [
            "learning_velocity",
            "retention_curve",
            "comprehension_style",
            "interaction_timing",
            "engagement",
        ] {
            script.push_str(&format!(
                "INSERT INTO dna_traits VALUES ('{tenant}', '{id}', '{t}', '{{\"v\":1}}', 0.5, 10, 1);\n"
            ));
        }
        if guarded {
            script.push_str(&format!(
                "INSERT INTO guardianships VALUES ('a', 'g', '{id}', 'parent');\n"
            ));
        }
    }
    script.push_str(
        "INSERT INTO struggles VALUES ('a', 'f1', 'fractions', 'rare-one', 0.2, 0.3, 2, 1);\n",
    );
    // (learner, category, recipient, granted by, method, withdrawn)
    let mut consents: Vec<(&str, &str, &str, &str, &str, &str)> = Vec::new();
    for learner in ["l14", "lold", "lw", "f1", "f2", "f3", "f4", "x"] {
        for category in ["profile", "behavioral", "assessment", "struggles"] {
            let withdrawn = if learner == "lw" { "1000" } else { "NULL" };
            consents.push((
                learner,
                category,
                "NULL",
                learner,
                "school-record",
                withdrawn,
            ));
        }
    }
    consents.push((
        "l14",
        "identity",
        "'client-1'",
        "l14",
        "school-record",
        "NULL",
    ));
    consents.push(("l10", "profile", "NULL", "g", "signed-form", "NULL"));
    consents.push(("l10", "struggles", "NULL", "g", "signed-form", "NULL"));
    // Under 13, consent given by the learner, not a verified parent: COPPA refuses it.
    consents.push(("l10s", "profile", "NULL", "l10s", "school-record", "NULL"));
    for (n, (learner, category, recipient, by, method, withdrawn)) in consents.iter().enumerate() {
        let tenant = if *learner == "x" { "b" } else { "a" };
        script.push_str(&format!(
            "INSERT INTO consents VALUES ('k{n}', '{tenant}', '{learner}', '{category}', {recipient}, '{by}', '{method}', 0, {withdrawn}, 'p');\n"
        ));
    }
    for statement in learner_core::ports::sql_statements(&script) {
        run(sql.execute(&Statement::new(statement, Vec::new()))).expect("fixture row");
    }
    sql
}

fn requester(tenant: &str, subject: &str, role: Role, client: &str, scopes: &[&str]) -> Requester {
    Requester::new(principal(tenant, subject, role, client, scopes)).expect("a member")
}

fn caller(r: &Requester) -> Principal {
    r.principal.clone()
}

/// What a requester may see of a learner: the categories, or the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Sees(&'static str),
    NotVisible,
    Coppa,
    NothingConsented,
    AggregatesOnly,
}
use Expect::*;

fn categories(letters: &str) -> BTreeSet<Category> {
    letters
        .chars()
        .map(|c| match c {
            'P' => Category::Profile,
            'B' => Category::Behavioral,
            'A' => Category::Assessment,
            'S' => Category::Struggles,
            'I' => Category::Identity,
            other => panic!("{other}"),
        })
        .collect()
}

fn traits_for(seen: &BTreeSet<Category>) -> BTreeSet<String> {
    let mut traits = BTreeSet::new();
    if seen.contains(&Category::Profile) {
        traits.extend(
            [
                "learning_velocity",
                "retention_curve",
                "comprehension_style",
            ]
            .map(String::from),
        );
    }
    if seen.contains(&Category::Behavioral) {
        traits.extend(["interaction_timing", "engagement"].map(String::from));
    }
    traits
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

const LEARNERS: [&str; 11] = [
    "l14", "l10", "l10n", "l10s", "lold", "lw", "f1", "f2", "f3", "f4", "x",
];

#[test]
fn every_role_relationship_age_consent_and_scope_gets_exactly_its_due() {
    let teacher = requester("a", "a:teacher", Role::Teacher, "client-1", FULL);
    let teacher_profile = requester(
        "a",
        "a:teacher",
        Role::Teacher,
        "client-1",
        &["learner.profile"],
    );
    let teacher_other_client = requester("a", "a:teacher", Role::Teacher, "client-2", FULL);
    let guardian = requester("a", "a:guardian", Role::Guardian, "client-1", FULL);
    let student = requester("a", "a:student", Role::Student, "client-1", FULL);
    let admin = requester("a", "a:admin", Role::TenantAdmin, "client-1", FULL);
    let other_tenant = requester("b", "b:teacher", Role::Teacher, "client-1", FULL);
    // One row per requester: what it may see of each learner, in LEARNERS order. An
    // administrator is refused any single learner before any lookup, so another
    // tenant's learner is refused the same way (and reveals nothing).
    let table: Vec<(&Requester, [Expect; 11])> = vec![
        (
            &teacher,
            [
                Sees("PBASI"),
                Sees("PS"),
                Coppa,
                Coppa,
                NotVisible,
                NothingConsented,
                Sees("PBAS"),
                Sees("PBAS"),
                Sees("PBAS"),
                Sees("PBAS"),
                NotVisible,
            ],
        ),
        (
            &teacher_profile,
            [
                Sees("P"),
                Sees("P"),
                Coppa,
                Coppa,
                NotVisible,
                NothingConsented,
                Sees("P"),
                Sees("P"),
                Sees("P"),
                Sees("P"),
                NotVisible,
            ],
        ),
        (
            &teacher_other_client,
            [
                Sees("PBAS"),
                Sees("PS"),
                Coppa,
                Coppa,
                NotVisible,
                NothingConsented,
                Sees("PBAS"),
                Sees("PBAS"),
                Sees("PBAS"),
                Sees("PBAS"),
                NotVisible,
            ],
        ),
        (
            &guardian,
            [
                NotVisible,
                Sees("PS"),
                Coppa,
                Coppa,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
            ],
        ),
        (
            &student,
            [
                Sees("PBASI"),
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
            ],
        ),
        (
            &admin,
            [
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
                AggregatesOnly,
            ],
        ),
        (
            &other_tenant,
            [
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                NotVisible,
                Sees("PBAS"),
            ],
        ),
    ];
    let clock = TestClock(NOW.into());
    let host = MemoryHost::new(&clock, fixture());
    let revocations = Revocations::default();
    let catalogue = LearnerCatalogue::new(&host, Revocations::default());
    let mut checks = 0usize;
    for (who, row) in &table {
        let service = run(Service::open(&host, &revocations, (*who).clone())).expect("opened");
        let key = run(learner_core::ports::shared_secret(
            &host.kv,
            &host.random,
            &format!("dna:pseudonym-key:{}", who.tenant()),
        ))
        .expect("key");
        let listed: Vec<Value> = run(service.learners()).expect("listed")["learners"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let listed_ids: BTreeSet<String> = listed
            .iter()
            .map(|l| l["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        for (learner, expect) in LEARNERS.iter().zip(row.iter()) {
            let context = format!(
                "{} ({:?}, {}) → {learner}",
                who.subject(),
                who.principal.scopes.len(),
                who.client_id()
            );
            let pseudonym = privacy::pseudonym(&key, who.client_id(), learner);
            let audit_before = host.audit.0.borrow().len();
            // The list: exactly the learners it may read, by pseudonym only.
            assert_eq!(
                listed_ids.contains(&pseudonym),
                matches!(expect, Sees(_)),
                "{context}: list"
            );
            // The contents as they go on the wire.
            let read = |template: &str| {
                let uri = template.replace("{id}", &pseudonym);
                run(catalogue.read_resource(&uri, &caller(who))).map(|found| {
                    found.map(|contents| {
                        contents
                            .iter()
                            .map(|c| serde_json::to_value(c).expect("contents serialize"))
                            .collect::<Vec<Value>>()
                    })
                })
            };
            let body_of = |contents: Option<Vec<Value>>| -> Value {
                let text = contents.expect("found")[0]["text"]
                    .as_str()
                    .expect("text")
                    .to_owned();
                serde_json::from_str(&text).expect("JSON")
            };
            let profile = read(crate::PROFILE);
            let struggles = read(crate::STRUGGLES);
            let mastery = read(crate::MASTERY);
            let dna = run(service.dna("dna.tool.get_learner_dna", &pseudonym, None, None));
            let steps = run(service.next_steps(&pseudonym));
            match expect {
                Sees(letters) => {
                    let seen = categories(letters);
                    let traits = traits_for(&seen);
                    match profile {
                        Ok(contents) if !traits.is_empty() => {
                            let body = body_of(contents);
                            assert_eq!(keys(&body["traits"]), traits, "{context}: profile traits");
                            assert_eq!(body["learner"], json!(pseudonym));
                        }
                        Err(e) if traits.is_empty() => {
                            assert_eq!(e.code, ACCESS_DENIED, "{context}");
                        }
                        other => panic!("{context}: profile {other:?}"),
                    }
                    for (result, category) in [
                        (&struggles, Category::Struggles),
                        (&mastery, Category::Assessment),
                    ] {
                        match result {
                            Ok(contents) if seen.contains(&category) => {
                                let body = body_of(contents.clone());
                                assert_eq!(
                                    keys(&body),
                                    BTreeSet::from([
                                        "learner".to_owned(),
                                        if category == Category::Struggles {
                                            "struggles"
                                        } else {
                                            "mastery"
                                        }
                                        .to_owned(),
                                        "withheld".to_owned()
                                    ]),
                                    "{context}"
                                );
                            }
                            Err(e) if !seen.contains(&category) => {
                                assert_eq!(e.code, ACCESS_DENIED, "{context}");
                                assert!(
                                    e.message.contains(category.consent_name()),
                                    "{context}: {}",
                                    e.message
                                );
                            }
                            other => panic!("{context}: {category:?} {other:?}"),
                        }
                    }
                    let dna = dna.expect("DNA");
                    let mut expected = BTreeSet::from(["learner".to_owned()]);
                    if !traits.is_empty() {
                        expected.insert("traits".into());
                    }
                    if seen.contains(&Category::Assessment) {
                        expected.insert("mastery".into());
                    }
                    if seen.contains(&Category::Struggles) {
                        expected.insert("struggles".into());
                    }
                    if seen.contains(&Category::Identity) {
                        expected.insert("identity".into());
                    }
                    assert_eq!(keys(&dna), expected, "{context}: DNA fields");
                    // Names and emails only with identity; never the record id.
                    let text = dna.to_string();
                    assert_eq!(
                        text.contains(&format!("Given{learner}")),
                        seen.contains(&Category::Identity),
                        "{context}"
                    );
                    assert!(
                        !text.contains(&format!("\"{learner}\"")),
                        "{context}: the record id leaked"
                    );
                    let listed_entry = listed
                        .iter()
                        .find(|l| l["id"] == json!(pseudonym))
                        .expect("listed");
                    assert_eq!(
                        listed_entry.get("name").is_some(),
                        seen.contains(&Category::Identity),
                        "{context}"
                    );
                    match steps {
                        Ok(body) => assert!(
                            seen.contains(&Category::Assessment)
                                || seen.contains(&Category::Struggles),
                            "{context}: {body}"
                        ),
                        Err(Failure::Refused(_)) => assert!(
                            !seen.contains(&Category::Assessment)
                                && !seen.contains(&Category::Struggles),
                            "{context}"
                        ),
                        Err(other) => panic!("{context}: {other:?}"),
                    }
                }
                NotVisible => {
                    for result in [&profile, &struggles, &mastery] {
                        assert_eq!(result, &Ok(None), "{context}: not found");
                    }
                    assert!(
                        matches!(dna, Err(Failure::NotFound(_))),
                        "{context}: {dna:?}"
                    );
                    assert!(matches!(steps, Err(Failure::NotFound(_))), "{context}");
                }
                refused => {
                    let reason = match refused {
                        Coppa => privacy::Denial::NoParentalConsent.reason(),
                        NothingConsented => privacy::Denial::NothingConsented.reason(),
                        _ => privacy::Denial::AggregatesOnly.reason(),
                    };
                    for result in [&profile, &struggles, &mastery] {
                        let error = result.as_ref().expect_err("refused");
                        assert_eq!(error.code, ACCESS_DENIED, "{context}");
                        assert_eq!(error.data, Some(json!({"reason": reason})), "{context}");
                    }
                    assert_eq!(dna, Err(Failure::Refused(reason.into())), "{context}");
                    assert_eq!(steps, Err(Failure::Refused(reason.into())), "{context}");
                }
            }
            // Each of the five reads left its decision, with a reason when refused.
            let trail = host.audit.0.borrow();
            let decisions = &trail[audit_before..];
            assert_eq!(decisions.len(), 5, "{context}: {decisions:?}");
            for record in decisions {
                let detail: Value = serde_json::from_str(&record.detail_json).expect("detail");
                assert_eq!(detail["tenant"], json!(who.tenant()));
                assert_eq!(record.actor, who.subject());
                assert_eq!(
                    record.outcome == "denied",
                    detail.get("reason").is_some(),
                    "{context}: {record:?}"
                );
            }
            checks += 1;
        }
    }
    assert_eq!(checks, table.len() * LEARNERS.len());
}

#[test]
fn class_aggregates_respect_consent_and_k_anonymity() {
    let clock = TestClock(NOW.into());
    let host = MemoryHost::new(&clock, fixture());
    let revocations = Revocations::default();
    let open = |r: Requester| run(Service::open(&host, &revocations, r)).expect("opened");
    let teacher = open(requester("a", "a:teacher", Role::Teacher, "client-1", FULL));
    let insights = run(teacher.class_insights("c")).expect("insights");
    // l14 and f1..f4 allow assessment (5: shown); l14, l10 and f1..f4 allow struggles
    // (6): the shared misconception is shown, f1's own one is suppressed.
    assert_eq!(insights["learners_included"], 6, "{insights}");
    assert_eq!(
        insights["concepts"],
        json!([{"concept": "fractions", "learners": 5, "mean_mastery": 0.4,
                "common_misconceptions": [{"misconception": "adds-denominators", "learners": 6}]}])
    );
    assert!(!insights.to_string().contains("rare-one"));
    // Another client has no more consent (all here is for any client) — but the
    // under-13 without parental consent and the withdrawn learner never count.
    let struggling = run(teacher.struggling("c", "fractions")).expect("listed");
    assert_eq!(struggling["learners"].as_array().map(Vec::len), Some(6));
    assert!(
        struggling["learners"]
            .as_array()
            .expect("learners")
            .iter()
            .all(|l| l["learner"]
                .as_str()
                .is_some_and(|id| id.starts_with("lp_")))
    );
    // Not their class; a class of another tenant; no scope for aggregates.
    assert!(matches!(
        run(teacher.class_insights("c2")),
        Err(Failure::NotFound(_))
    ));
    assert!(matches!(
        run(teacher.class_insights("cb")),
        Err(Failure::NotFound(_))
    ));
    let unscoped = open(requester(
        "a",
        "a:teacher",
        Role::Teacher,
        "client-1",
        &["learner.profile"],
    ));
    assert_eq!(
        run(unscoped.class_insights("c")),
        Err(Failure::Refused("needs the class.aggregates scope".into()))
    );
    // The administrator sees every class of the tenant, as aggregates only.
    let admin = open(requester(
        "a",
        "a:admin",
        Role::TenantAdmin,
        "client-1",
        FULL,
    ));
    assert_eq!(
        run(admin.class_insights("c")).expect("insights")["concepts"],
        insights["concepts"]
    );
    assert!(matches!(
        run(admin.struggling("c", "fractions")),
        Err(Failure::Refused(_))
    ));
    // Guardians and students see no class.
    let guardian = open(requester(
        "a",
        "a:guardian",
        Role::Guardian,
        "client-1",
        FULL,
    ));
    assert!(matches!(
        run(guardian.class_insights("c")),
        Err(Failure::NotFound(_))
    ));
    // Below five learners nothing is shown, not even the count.
    run(host.sql.execute(&Statement::new(
        "UPDATE consents SET withdrawn_at_ms = 1 WHERE learner_id IN ('f1', 'f2')",
        Vec::new(),
    )))
    .expect("withdrawn");
    let small = run(teacher.class_insights("c")).expect("insights");
    assert_eq!(small["suppressed"], true, "{small}");
    assert_eq!(small["concepts"], json!([]));
    assert!(small.get("learners_included").is_none());
}

#[test]
fn gdpr_requests_go_to_the_learner_their_guardian_and_the_administrator() {
    let clock = TestClock(NOW.into());
    let host = MemoryHost::new(&clock, fixture());
    let revocations = Revocations::default();
    let open = |r: Requester| run(Service::open(&host, &revocations, r)).expect("opened");
    let pseudonym_for = |tenant: &str, client: &str, learner: &str| {
        let key = run(learner_core::ports::shared_secret(
            &host.kv,
            &host.random,
            &format!("dna:pseudonym-key:{tenant}"),
        ))
        .expect("key");
        privacy::pseudonym(&key, client, learner)
    };
    // The guardian exports their child without consent on file (it is the parent asking).
    let guardian = open(requester(
        "a",
        "a:guardian",
        Role::Guardian,
        "client-1",
        FULL,
    ));
    let export = run(guardian.export(&pseudonym_for("a", "client-1", "l10n"))).expect("exported");
    assert_eq!(export["record"]["learner"]["given_name"], "Givenl10n");
    assert_eq!(
        keys(&export["record"]),
        BTreeSet::from(
            [
                "learner",
                "enrollments",
                "guardians",
                "consents",
                "learning_events",
                "dna_traits",
                "concept_mastery",
                "struggles"
            ]
            .map(String::from)
        )
    );
    assert!(matches!(
        run(guardian.export(&pseudonym_for("a", "client-1", "l14"))),
        Err(Failure::NotFound(_))
    ));
    // Without the export scope: refused.
    let narrow = open(requester(
        "a",
        "a:guardian",
        Role::Guardian,
        "client-1",
        &["learner.profile"],
    ));
    assert_eq!(
        run(narrow.export(&pseudonym_for("a", "client-1", "l10"))),
        Err(Failure::Refused("needs the learner.export scope".into()))
    );
    // A teacher cannot export; the administrator can, by record id, in their tenant only.
    let teacher = open(requester("a", "a:teacher", Role::Teacher, "client-1", FULL));
    assert!(matches!(
        run(teacher.export(&pseudonym_for("a", "client-1", "l14"))),
        Err(Failure::Refused(_))
    ));
    let admin = open(requester(
        "a",
        "a:admin",
        Role::TenantAdmin,
        "client-1",
        FULL,
    ));
    assert!(run(admin.export("l14")).is_ok());
    assert!(matches!(run(admin.export("x")), Err(Failure::NotFound(_))));

    // Withdrawal by the guardian: reads stop at once; the grants of the learner's and
    // guardians' accounts asking for those categories are revoked.
    let l10 = pseudonym_for("a", "client-1", "l10");
    let withdrawn = run(guardian.withdraw(&l10, &[Category::Struggles])).expect("withdrawn");
    assert_eq!(withdrawn["consents_withdrawn"], 1);
    assert_eq!(
        revocations.0.borrow().last().cloned(),
        Some((
            vec!["a:guardian".to_owned()],
            Some(vec!["learner.struggles".to_owned()])
        ))
    );
    let dna = run(teacher.dna("t", &l10, None, None)).expect("still profile");
    assert!(
        dna.get("struggles").is_none() && dna.get("traits").is_some(),
        "{dna}"
    );

    // Erasure: administrator with privacy.admin only; everything goes; a tombstone stays.
    let plain_admin = open(requester(
        "a",
        "a:admin",
        Role::TenantAdmin,
        "client-1",
        &["class.aggregates"],
    ));
    assert!(matches!(
        run(plain_admin.erase("l14")),
        Err(Failure::Refused(_))
    ));
    assert!(matches!(
        run(teacher.erase(&pseudonym_for("a", "client-1", "l14"))),
        Err(Failure::Refused(_))
    ));
    let erased = run(admin.erase("l14")).expect("erased");
    assert_eq!(erased["deleted"]["learners"], 1);
    assert_eq!(
        revocations.0.borrow().last().cloned(),
        Some((vec!["a:student".to_owned()], None))
    );
    assert!(matches!(
        run(teacher.dna("t", &pseudonym_for("a", "client-1", "l14"), None, None)),
        Err(Failure::NotFound(_))
    ));
    let trail = host.audit.0.borrow();
    let tombstone = trail
        .iter()
        .find(|r| r.kind == "dna.erased")
        .expect("tombstone");
    assert!(
        !tombstone.detail_json.contains("l14") && !tombstone.detail_json.contains("Givenl14"),
        "{}",
        tombstone.detail_json
    );
    assert!(
        tombstone
            .detail_json
            .contains(erased["tombstone"].as_str().expect("hash"))
    );
}
