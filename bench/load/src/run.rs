//! The measurements of one server: the flow's steps one after another (latency, CPU
//! and port calls per step), then `tools/call` from several connections at once
//! (throughput), optionally after many untimed flows (does anything slow down as
//! state accumulates?).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::flow::{Calls, Client, Measured, STEPS, Session, Stack, Target, call_params};
use crate::report::{Report, StepReport, Throughput};
use crate::stats::{Group, Usage, percentiles};

/// What to measure (the `run` command's options).
#[derive(clap::Args)]
pub struct Plan {
    /// Flows timed.
    #[arg(long, default_value_t = 200)]
    pub iterations: usize,
    /// Flows run first and not counted.
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
    /// Untimed flows (without sign-in) run before anything is measured (state a busy
    /// server has).
    #[arg(long, default_value_t = 0)]
    pub prior_flows: usize,
    /// Connections the prior flows are spread over.
    #[arg(long, default_value_t = 16)]
    pub prior_connections: usize,
    /// Connection counts of the tools/call throughput runs.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub connections: Vec<usize>,
    /// Seconds per throughput run.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// The server's process group (CPU time and memory are read from /proc; none: not
    /// measured).
    #[arg(long)]
    pub pgid: Option<u32>,
}

/// Measures `target` by `plan`; `label` names the server in the report.
pub fn measure(target: &Target, plan: &Plan, label: &str) -> Result<Report, String> {
    let group = plan.pgid.map(Group::find).filter(|g| !g.is_empty());
    if let Some(group) = &group {
        eprintln!("{label}: CPU and memory of {} process(es)", group.len());
    }
    let client = Client::new();
    let cookie = client.sign_in(target)?;
    if plan.prior_flows > 0 {
        let started = Instant::now();
        prior_flows(
            target,
            cookie.as_deref(),
            plan.prior_flows,
            plan.prior_connections,
        )?;
        eprintln!(
            "{label}: {} prior flows in {:.1} s",
            plan.prior_flows,
            started.elapsed().as_secs_f64()
        );
    }
    for i in 0..plan.warmup {
        client.flow(target, cookie.as_deref(), i)?;
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); STEPS.len()];
    let mut cpu = vec![0.0; STEPS.len()];
    let mut calls: Vec<Vec<Calls>> = vec![Vec::new(); STEPS.len()];
    for i in 0..plan.iterations {
        let before = group.as_ref().map(Group::usage);
        let (steps, _) = client.flow(target, cookie.as_deref(), i)?;
        // CPU is read per flow and shared out by each step's share of the time: reading
        // /proc between steps would add its own cost to every step.
        if let (Some(group), Some(before)) = (&group, before) {
            let spent = group.usage().cpu_ms - before.cpu_ms;
            let total: f64 = steps.iter().map(|s| s.ms).sum();
            for (slot, step) in cpu.iter_mut().zip(&steps) {
                *slot += spent * step.ms / total.max(f64::MIN_POSITIVE);
            }
        }
        record(&steps, &mut times, &mut calls);
    }
    let steps = STEPS
        .iter()
        .enumerate()
        .filter(|(i, _)| target.stack == Stack::Learner || STEPS[*i] != "sign-in + authorize")
        .map(|(i, name)| StepReport {
            name: (*name).to_owned(),
            latency: percentiles(&times[i]),
            cpu_ms: group
                .as_ref()
                .map(|_| cpu[i] / plan.iterations.max(1) as f64),
            calls_first: calls[i].first().copied(),
            calls_last: calls[i].last().copied(),
            calls_max: calls[i]
                .iter()
                .copied()
                .reduce(|a, b| std::array::from_fn(|k| a[k].max(b[k]))),
        })
        .collect();
    let mut throughput = Vec::new();
    for &connections in &plan.connections {
        let run = throughput_run(
            target,
            cookie.as_deref(),
            connections,
            plan.seconds,
            group.as_ref(),
        )?;
        eprintln!(
            "{label}: tools/call over {connections} connection(s): {:.1} req/s, p50 {:.2} ms, p99 {:.2} ms, {} error(s)",
            run.requests_per_second, run.latency.p50, run.latency.p99, run.errors
        );
        throughput.push(run);
    }
    let usage = group.as_ref().map(Group::usage).unwrap_or_default();
    Ok(Report {
        label: label.to_owned(),
        stack: target.stack,
        iterations: plan.iterations,
        prior_flows: plan.prior_flows,
        steps,
        throughput,
        rss_bytes: group.map(|_| usage.rss_bytes),
    })
}

fn record(steps: &[Measured; 9], times: &mut [Vec<f64>], calls: &mut [Vec<Calls>]) {
    for (i, step) in steps.iter().enumerate() {
        if step.ms > 0.0 {
            times[i].push(step.ms);
        }
        if let Some(counted) = step.calls {
            calls[i].push(counted);
        }
    }
}

/// `count` untimed flows (registration, authorization, exchange, refresh,
/// initialize) over `connections` connections: the state a busy server accumulates.
fn prior_flows(
    target: &Target,
    cookie: Option<&str>,
    count: usize,
    connections: usize,
) -> Result<(), String> {
    let next = AtomicUsize::new(0);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..connections.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let client = Client::new();
                    while next.fetch_add(1, Ordering::Relaxed) < count {
                        client.connect(target, cookie)?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().map_err(|_| "a worker panicked".to_owned())?)
    })
}

/// `tools/call` from `connections` clients at once for `seconds`, each with its own
/// connection, token and MCP session.
fn throughput_run(
    target: &Target,
    cookie: Option<&str>,
    connections: usize,
    seconds: u64,
    group: Option<&Group>,
) -> Result<Throughput, String> {
    let clients: Vec<(Client, Session, Vec<String>)> = (0..connections)
        .map(|_| {
            let client = Client::new();
            let session = client.connect(target, cookie)?;
            let learners = client.learners(target, &session)?;
            Ok((client, session, learners))
        })
        .collect::<Result<_, String>>()?;
    let before = group.map(Group::usage);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let results: Vec<(Vec<f64>, usize)> = thread::scope(|scope| {
        let workers: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(n, (client, session, learners))| {
                scope.spawn(move || {
                    let (mut times, mut errors) = (Vec::new(), 0);
                    let mut i = n;
                    while Instant::now() < deadline {
                        let params = call_params(target.stack, &learners[i % learners.len()]);
                        let mut step = Measured::default();
                        match client.mcp(target, session, "tools/call", &params, &mut step) {
                            Ok(_) => times.push(step.ms),
                            Err(_) => errors += 1,
                        }
                        i += connections;
                    }
                    (times, errors)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let after: Option<Usage> = group.map(Group::usage);
    let times: Vec<f64> = results
        .iter()
        .flat_map(|(t, _)| t.iter().copied())
        .collect();
    let errors = results.iter().map(|(_, e)| e).sum();
    let cpu_ms_per_request = match (before, after) {
        (Some(before), Some(after)) if !times.is_empty() => {
            Some((after.cpu_ms - before.cpu_ms) / times.len() as f64)
        }
        _ => None,
    };
    Ok(Throughput {
        connections,
        requests_per_second: times.len() as f64 / elapsed,
        latency: percentiles(&times),
        errors,
        cpu_ms_per_request,
    })
}
