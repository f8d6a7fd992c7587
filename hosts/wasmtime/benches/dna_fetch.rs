//! A Learner DNA fetch on a 10,000-learner seeded set: one teacher reading one
//! learner's whole DNA through the service (privacy decision, pseudonyms, the reads and
//! the audit record), over the harness's SQLite. Prints p50/p95/p99 of 2,000 fetches
//! before criterion's own statistics.

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use learner_core::ports::{Sql, Statement};
use learner_dna::gdpr::{AccessRevocation, Revoked};
use learner_dna::privacy::{Requester, Role};
use learner_dna::service::Service;
use learner_testkit::{MemoryHost, TestClock, principal, run};

const LEARNERS: u32 = 10_000;

struct NoRevocation;
impl AccessRevocation for NoRevocation {
    async fn revoke(&self, _s: &[String], _c: Option<&[&str]>) -> Result<Revoked, String> {
        Ok(Revoked::default())
    }
}

fn dna_fetch(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sql = learner_wasmtime::native::sql::open(&dir.path().join("app.db")).expect("sql");
    let now_ms = 1_795_600_000_000;
    run(learner_dna::migrations::migrate(&sql, now_ms)).expect("migrated");
    let started = Instant::now();
    let report = run(learner_dna::seed::seed(
        &sql,
        &learner_dna::seed::Plan {
            seed: 7,
            tenants: 1,
            learners: LEARNERS,
            demo: false,
            now_ms,
        },
    ))
    .expect("seeded");
    eprintln!(
        "seeded {} learners, {} events in {:.1} s",
        report.learners,
        report.events,
        started.elapsed().as_secs_f64()
    );
    // A teacher of the generated tenant gets a sign-in subject.
    run(Sql::execute(
        &sql,
        &Statement::new(
            "UPDATE staff SET subject = 'bench:teacher' WHERE id = 't001-tch0'",
            Vec::new(),
        ),
    ))
    .expect("teacher linked");
    let clock = TestClock(now_ms.into());
    let host = MemoryHost::new(&clock, sql);
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
    let ids: Vec<String> = visible["learners"]
        .as_array()
        .expect("learners")
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(!ids.is_empty(), "the teacher sees learners");
    eprintln!("the teacher may read {} learners", ids.len());
    let fetch = |i: usize| {
        // Each fetch is a request: the service is opened for it, as the catalogue does.
        let service = run(Service::open(&host, &revocation, requester.clone())).expect("service");
        run(service.dna("dna.bench", &ids[i % ids.len()], None, None)).expect("DNA")
    };
    let mut samples: Vec<f64> = (0..2_000)
        .map(|i| {
            let started = Instant::now();
            std::hint::black_box(fetch(i));
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    // The q-quantile's index: a fraction of the length, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    eprintln!(
        "DNA fetch over {} fetches: p50 {:.0} µs, p95 {:.0} µs, p99 {:.0} µs",
        samples.len(),
        at(0.50),
        at(0.95),
        at(0.99)
    );
    let mut i = 0;
    c.bench_function(
        "Learner DNA fetch (10,000 learners, teacher, all fields)",
        |b| {
            b.iter(|| {
                i += 1;
                fetch(i)
            });
        },
    );
}

criterion_group!(benches, dna_fetch);
criterion_main!(benches);
