//! A Learner DNA fetch on a 10,000-learner seeded set: one teacher reading one
//! learner's whole DNA through the service (privacy decision, pseudonyms, the reads and
//! the audit record), over the harness's SQLite. Prints p50/p95/p99 of 2,000 fetches
//! before criterion's own statistics.

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use learner_dna::gdpr::{AccessRevocation, Revoked};
use learner_dna::privacy::{Requester, Role};
use learner_dna::service::Service;
use learner_testkit::{TestClock, memory_host, principal, run};

const LEARNERS: u32 = 10_000;

struct NoRevocation;
impl AccessRevocation for NoRevocation {
    async fn revoke(&self, _s: &[String], _c: Option<&[&str]>) -> Result<Revoked, String> {
        Ok(Revoked::default())
    }
}

fn dna_fetch(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let now_ms = 1_795_600_000_000;
    let plan = learner_dna::seed::Plan {
        seed: 7,
        tenants: 1,
        learners: LEARNERS,
        demo: false,
        now_ms,
    };
    let sql = support::seeded(dir.path(), &plan);
    // A teacher of the generated tenant gets a sign-in subject.
    support::execute(
        &sql,
        "UPDATE staff SET subject = 'bench:teacher' WHERE id = 't001-tch0'",
    );
    let clock = TestClock(now_ms.into());
    let host = memory_host(&clock, sql);
    let requester = Requester::new(principal(
        "t001",
        "bench:teacher",
        Role::Teacher,
        "bench-client",
        &[
            "learner.profile",
            "learner.behavioral",
            "learner.assessment",
            "learner.struggles",
        ],
    ))
    .expect("a member");
    let revocation = NoRevocation;
    let service = run(Service::open(&host, &revocation, requester.clone())).expect("service");
    let visible = run(service.learners()).expect("learners");
    let ids = support::learner_ids(&visible);
    assert!(!ids.is_empty(), "the teacher sees learners");
    eprintln!("the teacher may read {} learners", ids.len());
    let fetch = |i: usize| {
        // Each fetch is a request: the service is opened for it, as the catalogue does.
        let service = run(Service::open(&host, &revocation, requester.clone())).expect("service");
        run(service.dna("dna.bench", &ids[i % ids.len()], None, None)).expect("DNA")
    };
    support::percentiles("DNA fetch", 2_000, |i| {
        std::hint::black_box(fetch(i));
    });
    support::bench_indexed(
        c,
        "Learner DNA fetch (10,000 learners, teacher, all fields)",
        fetch,
    );
}

criterion_group!(benches, dna_fetch);
criterion_main!(benches);
