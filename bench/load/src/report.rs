//! What a run measured (saved as JSON, one file per server) and the side-by-side
//! table of several runs, the first being the baseline the others are compared with.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::flow::{Calls, Stack};
use crate::stats::Percentiles;

/// One server's measurements.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The server's name in the table (`reference`, `worker`, `harness`, …).
    pub label: String,
    /// Which kind of server.
    pub stack: Stack,
    /// Flows timed.
    pub iterations: usize,
    /// Untimed flows run before the measurement.
    pub prior_flows: usize,
    /// Per step of the flow.
    pub steps: Vec<StepReport>,
    /// `tools/call` at several connection counts.
    pub throughput: Vec<Throughput>,
    /// The server's resident memory at the end, bytes (when its processes were given).
    pub rss_bytes: Option<u64>,
}

/// One step of the flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepReport {
    /// The step.
    pub name: String,
    /// Its wall time, milliseconds.
    pub latency: Percentiles,
    /// The server's CPU time per step, milliseconds (all its processes).
    pub cpu_ms: Option<f64>,
    /// Port calls (key-value, SQL, audit, fetch) in the first timed flow…
    pub calls_first: Option<Calls>,
    /// …in the last…
    pub calls_last: Option<Calls>,
    /// …and the most in any flow.
    pub calls_max: Option<Calls>,
}

/// `tools/call` from several connections at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Throughput {
    /// Connections (clients) at once.
    pub connections: usize,
    /// Successful calls per second.
    pub requests_per_second: f64,
    /// Latency of the successful calls, milliseconds.
    pub latency: Percentiles,
    /// Calls that failed.
    pub errors: usize,
    /// The server's CPU time per successful call, milliseconds.
    pub cpu_ms_per_request: Option<f64>,
}

fn calls_text(calls: Option<Calls>) -> String {
    calls.map_or_else(
        || "—".to_owned(),
        |[kv, sql, audit, fetch]| {
            let mut text = format!("kv {kv} · sql {sql} · audit {audit}");
            if fetch > 0 {
                text.push_str(&format!(" · fetch {fetch}"));
            }
            text
        },
    )
}

fn ratio(value: f64, base: f64) -> String {
    if base > 0.0 && value > 0.0 {
        format!(" ({:.2}×)", value / base)
    } else {
        String::new()
    }
}

/// The side-by-side tables (Markdown) of `reports`; ratios are to the first.
pub fn table(reports: &[Report]) -> String {
    let mut out = String::new();
    let Some(base) = reports.first() else {
        return out;
    };
    let header = |out: &mut String, first: &str| {
        out.push_str(&format!("| {first} |"));
        for report in reports {
            out.push_str(&format!(" {} |", report.label));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(reports.len()));
        out.push('\n');
    };
    let _ = writeln!(
        out,
        "Latency per step, p50 / p95 ms (ratio of p50 to {}):\n",
        base.label
    );
    header(&mut out, "step");
    let names: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.steps.iter().map(|s| s.name.as_str()))
        .fold(Vec::new(), |mut names, name| {
            if !names.contains(&name) {
                names.push(name);
            }
            names
        });
    let step = |report: &Report, name: &str| report.steps.iter().find(|s| s.name == name).cloned();
    for name in &names {
        out.push_str(&format!("| {name} |"));
        let base_p50 = step(base, name).map_or(0.0, |s| s.latency.p50);
        for report in reports {
            match step(report, name) {
                Some(s) => out.push_str(&format!(
                    " {:.1} / {:.1}{} |",
                    s.latency.p50,
                    s.latency.p95,
                    ratio(s.latency.p50, base_p50)
                )),
                None => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nServer CPU per step, ms (all the server's processes):\n"
    );
    header(&mut out, "step");
    for name in &names {
        out.push_str(&format!("| {name} |"));
        for report in reports {
            match step(report, name).and_then(|s| s.cpu_ms) {
                Some(cpu) => out.push_str(&format!(" {cpu:.2} |")),
                None => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nPort calls per step (Server-Timing), first flow → last flow (most in any):\n"
    );
    header(&mut out, "step");
    for name in &names {
        out.push_str(&format!("| {name} |"));
        for report in reports {
            match step(report, name) {
                Some(s) if s.calls_first.is_some() => {
                    let grew = s.calls_last != s.calls_first;
                    out.push_str(&format!(
                        " {}{} (max {}) |",
                        calls_text(s.calls_first),
                        if grew {
                            format!(" → {}", calls_text(s.calls_last))
                        } else {
                            String::new()
                        },
                        calls_text(s.calls_max)
                    ));
                }
                _ => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\ntools/call throughput, req/s · p50 / p99 ms · server CPU ms per call:\n"
    );
    header(&mut out, "connections");
    let counts: Vec<usize> = base.throughput.iter().map(|t| t.connections).collect();
    for connections in counts {
        out.push_str(&format!("| {connections} |"));
        let base_rps = base
            .throughput
            .iter()
            .find(|t| t.connections == connections)
            .map_or(0.0, |t| t.requests_per_second);
        for report in reports {
            match report
                .throughput
                .iter()
                .find(|t| t.connections == connections)
            {
                Some(t) => out.push_str(&format!(
                    " {:.1}{} · {:.1} / {:.1} · {}{} |",
                    t.requests_per_second,
                    ratio(t.requests_per_second, base_rps),
                    t.latency.p50,
                    t.latency.p99,
                    t.cpu_ms_per_request
                        .map_or_else(|| "—".to_owned(), |c| format!("{c:.2}")),
                    if t.errors > 0 {
                        format!(" · {} errors", t.errors)
                    } else {
                        String::new()
                    }
                )),
                None => out.push_str(" — |"),
            }
        }
        out.push('\n');
    }
    out.push('\n');
    header(&mut out, "server");
    out.push_str("| resident memory at the end |");
    for report in reports {
        match report.rss_bytes {
            Some(bytes) => out.push_str(&format!(" {:.0} MB |", bytes as f64 / 1e6)),
            None => out.push_str(" — |"),
        }
    }
    out.push('\n');
    out
}
