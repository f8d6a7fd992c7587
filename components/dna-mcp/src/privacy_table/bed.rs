//! The fixture every table of this module reads (tenants `a` and `b`, a teacher, a
//! guardian, an administrator, eleven learners of every age and consent state), on an
//! in-memory host.

use learner_core::ports::{Sql, Statement};
use learner_dna::privacy::{self, Requester, Role};
use learner_dna::service::Service;
use learner_testkit::MemorySql as Memory;
use learner_testkit::{MemoryHost, TestClock, memory_host, principal, run};

use crate::revocations::Revocations;

/// 2026-11-25, mid-morning.
pub(super) const NOW: u64 = 1_795_600_000_000;

/// Every scope the server knows.
pub(super) const FULL: &[&str] = &[
    "learner.profile",
    "learner.behavioral",
    "learner.assessment",
    "learner.struggles",
    "identity",
    "class.aggregates",
    "learner.export",
    "privacy.admin",
];

/// Tenant `a`: teacher `t` teaches class `c` (and not `c2`); guardian `g` of `l10`, `l10n`
/// and `l10s`; learners under 13 with and without verified parental consent, an ended
/// enrollment (`lold`), withdrawn consent (`lw`), four more for group sizes. Tenant
/// `b`: its teacher and learner `x`.
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

/// `subject` of `tenant` in `role`, through `client` with `scopes`.
pub(super) fn requester(
    tenant: &str,
    subject: &str,
    role: Role,
    client: &str,
    scopes: &[&str],
) -> Requester {
    Requester::new(principal(tenant, subject, role, client, scopes)).expect("a member")
}

/// `subject` of tenant `a` in `role`, through `client-1` with `scopes`.
pub(super) fn member(subject: &str, role: Role, scopes: &[&str]) -> Requester {
    requester("a", subject, role, "client-1", scopes)
}

/// The fixture on an in-memory host, and the revocations the service asked for.
pub(super) struct Bed<'c> {
    pub host: MemoryHost<'c, Memory>,
    pub revocations: Revocations,
}

impl<'c> Bed<'c> {
    /// A fresh fixture, its time kept by `clock`.
    pub fn new(clock: &'c TestClock) -> Self {
        Self {
            host: memory_host(clock, fixture()),
            revocations: Revocations::default(),
        }
    }

    /// The service as `who` opens it.
    pub fn open(&self, who: Requester) -> Service<'_, MemoryHost<'c, Memory>, Revocations> {
        run(Service::open(&self.host, &self.revocations, who)).expect("opened")
    }

    /// The pseudonym key of `tenant`.
    pub fn key(&self, tenant: &str) -> [u8; 32] {
        run(learner_core::ports::shared_secret(
            &self.host.kv,
            &self.host.random,
            &format!("dna:pseudonym-key:{tenant}"),
        ))
        .expect("key")
    }

    /// The pseudonym `client` knows `learner` of `tenant` by.
    pub fn pseudonym(&self, tenant: &str, client: &str, learner: &str) -> String {
        privacy::pseudonym(&self.key(tenant), client, learner)
    }
}
