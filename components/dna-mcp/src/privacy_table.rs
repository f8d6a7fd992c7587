//! The privacy table: for every role × relationship × age × consent state × scope in
//! the fixture, exactly what each resource and operation returns — which fields, under
//! which ids — or which refusal; and that each decision reached the audit trail.

mod bed;
mod check;

use std::collections::BTreeSet;

use learner_core::ports::{Sql, Statement};
use learner_dna::privacy::{self, Category, Role};
use learner_dna::service::Failure;
use learner_mcp_server::catalogue::Catalogue;
use learner_testkit::{TestClock, run};
use serde_json::{Value, json};

use crate::LearnerCatalogue;
use crate::revocations::Revocations;
use bed::{Bed, FULL, NOW, member, requester};
use check::{Reads, grid, keys};

const LEARNERS: [&str; 11] = [
    "l14", "l10", "l10n", "l10s", "lold", "lw", "f1", "f2", "f3", "f4", "x",
];

/// What each requester may see of each learner (the notation is `check::grid`'s). An
/// administrator is refused any single learner before any lookup, so another tenant's
/// learner is refused the same way (and reveals nothing).
const TABLE: &str = "
                      l14    l10   l10n   l10s   lold   lw     f1     f2     f3     f4     x
teacher               PBASI  PS    coppa  coppa  -      none   PBAS   PBAS   PBAS   PBAS   -
teacher/profile       P      P     coppa  coppa  -      none   P      P      P      P      -
teacher/other-client  PBAS   PS    coppa  coppa  -      none   PBAS   PBAS   PBAS   PBAS   -
guardian              -      PS    coppa  coppa  -      -      -      -      -      -      -
student               PBASI  -     -      -      -      -      -      -      -      -      -
admin                 agg    agg   agg    agg    agg    agg    agg    agg    agg    agg    agg
other-tenant          -      -     -      -      -      -      -      -      -      -      PBAS
";

#[test]
fn every_role_relationship_age_consent_and_scope_gets_exactly_its_due() {
    let requesters = [
        ("teacher", member("a:teacher", Role::Teacher, FULL)),
        (
            "teacher/profile",
            member("a:teacher", Role::Teacher, &["learner.profile"]),
        ),
        (
            "teacher/other-client",
            requester("a", "a:teacher", Role::Teacher, "client-2", FULL),
        ),
        ("guardian", member("a:guardian", Role::Guardian, FULL)),
        ("student", member("a:student", Role::Student, FULL)),
        ("admin", member("a:admin", Role::TenantAdmin, FULL)),
        (
            "other-tenant",
            requester("b", "b:teacher", Role::Teacher, "client-1", FULL),
        ),
    ];
    let (learners, table) = grid(TABLE);
    assert_eq!(learners, LEARNERS);
    let clock = TestClock(NOW.into());
    let bed = Bed::new(&clock);
    let host = &bed.host;
    let catalogue = LearnerCatalogue::new(host, Revocations::default());
    let mut checks = 0usize;
    for (name, row) in &table {
        let (_, who) = requesters
            .iter()
            .find(|(n, _)| n == name)
            .expect("a requester");
        let service = bed.open(who.clone());
        let key = bed.key(who.tenant());
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
                matches!(expect, check::Expect::Sees(_)),
                "{context}: list"
            );
            // The contents as they go on the wire.
            let read = |template: &str| {
                let uri = template.replace("{id}", &pseudonym);
                run(catalogue.read_resource(&uri, &who.principal)).map(|found| {
                    found.map(|contents| {
                        contents
                            .iter()
                            .map(|c| serde_json::to_value(c).expect("contents serialize"))
                            .collect::<Vec<Value>>()
                    })
                })
            };
            let reads = Reads {
                profile: read(crate::PROFILE),
                struggles: read(crate::STRUGGLES),
                mastery: read(crate::MASTERY),
                dna: run(service.dna("dna.tool.get_learner_dna", &pseudonym, None, None)),
                steps: run(service.next_steps(&pseudonym)),
            };
            reads.check(&context, expect, &listed, learner, &pseudonym);
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
    let bed = Bed::new(&clock);
    let teacher = bed.open(member("a:teacher", Role::Teacher, FULL));
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
    for class in ["c2", "cb"] {
        assert!(matches!(
            run(teacher.class_insights(class)),
            Err(Failure::NotFound(_))
        ));
    }
    let unscoped = bed.open(member("a:teacher", Role::Teacher, &["learner.profile"]));
    assert_eq!(
        run(unscoped.class_insights("c")),
        Err(Failure::Refused("needs the class.aggregates scope".into()))
    );
    // The administrator sees every class of the tenant, as aggregates only.
    let admin = bed.open(member("a:admin", Role::TenantAdmin, FULL));
    assert_eq!(
        run(admin.class_insights("c")).expect("insights")["concepts"],
        insights["concepts"]
    );
    assert!(matches!(
        run(admin.struggling("c", "fractions")),
        Err(Failure::Refused(_))
    ));
    // Guardians and students see no class.
    let guardian = bed.open(member("a:guardian", Role::Guardian, FULL));
    assert!(matches!(
        run(guardian.class_insights("c")),
        Err(Failure::NotFound(_))
    ));
    // Below five learners nothing is shown, not even the count.
    run(bed.host.sql.execute(&Statement::new(
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
    let bed = Bed::new(&clock);
    let pseudonym_for = |learner: &str| bed.pseudonym("a", "client-1", learner);
    // The guardian exports their child without consent on file (it is the parent asking).
    let guardian = bed.open(member("a:guardian", Role::Guardian, FULL));
    let export = run(guardian.export(&pseudonym_for("l10n"))).expect("exported");
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
        run(guardian.export(&pseudonym_for("l14"))),
        Err(Failure::NotFound(_))
    ));
    // Without the export scope: refused.
    let narrow = bed.open(member("a:guardian", Role::Guardian, &["learner.profile"]));
    assert_eq!(
        run(narrow.export(&pseudonym_for("l10"))),
        Err(Failure::Refused("needs the learner.export scope".into()))
    );
    // A teacher cannot export; the administrator can, by record id, in their tenant only.
    let teacher = bed.open(member("a:teacher", Role::Teacher, FULL));
    assert!(matches!(
        run(teacher.export(&pseudonym_for("l14"))),
        Err(Failure::Refused(_))
    ));
    let admin = bed.open(member("a:admin", Role::TenantAdmin, FULL));
    assert!(run(admin.export("l14")).is_ok());
    assert!(matches!(run(admin.export("x")), Err(Failure::NotFound(_))));

    // Withdrawal by the guardian: reads stop at once; the grants of the learner's and
    // guardians' accounts asking for those categories are revoked.
    let l10 = pseudonym_for("l10");
    let withdrawn = run(guardian.withdraw(&l10, &[Category::Struggles])).expect("withdrawn");
    assert_eq!(withdrawn["consents_withdrawn"], 1);
    assert_eq!(
        bed.revocations.0.borrow().last().cloned(),
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
    let plain_admin = bed.open(member("a:admin", Role::TenantAdmin, &["class.aggregates"]));
    assert!(matches!(
        run(plain_admin.erase("l14")),
        Err(Failure::Refused(_))
    ));
    assert!(matches!(
        run(teacher.erase(&pseudonym_for("l14"))),
        Err(Failure::Refused(_))
    ));
    let erased = run(admin.erase("l14")).expect("erased");
    assert_eq!(erased["deleted"]["learners"], 1);
    assert_eq!(
        bed.revocations.0.borrow().last().cloned(),
        Some((vec!["a:student".to_owned()], None))
    );
    assert!(matches!(
        run(teacher.dna("t", &pseudonym_for("l14"), None, None)),
        Err(Failure::NotFound(_))
    ));
    let trail = bed.host.audit.0.borrow();
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
