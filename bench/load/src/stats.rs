//! Percentiles of latency samples, and the CPU time and memory of the server under
//! test, read from `/proc` (Linux).

use std::fs;

use serde::{Deserialize, Serialize};

/// The 50th, 95th and 99th percentiles of a set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// How many samples.
    pub count: usize,
}

/// The percentiles of `samples` (nearest rank); all zero when there are none.
pub fn percentiles(samples: &[f64]) -> Percentiles {
    if samples.is_empty() {
        return Percentiles::default();
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    // The q-quantile's index: a fraction of the length, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let at =
        |q: f64| sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1];
    Percentiles {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        count: sorted.len(),
    }
}

/// Linux reports process times in ticks of 1/100 s (`USER_HZ`) and memory in pages.
const TICKS_PER_SECOND: f64 = 100.0;
const PAGE_BYTES: u64 = 4096;

/// The processes of one process group: a host started under `setsid` (wrangler's node
/// and its workerd, or the harness).
#[derive(Debug, Clone)]
pub struct Group {
    pids: Vec<u32>,
}

/// CPU time and resident memory of a [`Group`] at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User and system CPU time, milliseconds.
    pub cpu_ms: f64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
}

/// `(process group, utime + stime ticks, rss pages)` from a `/proc/<pid>/stat` line.
fn parse_stat(line: &str) -> Option<(u32, u64, u64)> {
    // The command name is in parentheses and may hold spaces: fields follow the last ')'.
    let rest = &line[line.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) pgrp(2) … utime(11) stime(12) … rss(21).
    let pgrp = fields.get(2)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let rss = fields.get(21)?.parse().ok()?;
    Some((pgrp, utime + stime, rss))
}

impl Group {
    /// The live processes whose process group is `pgid`.
    pub fn find(pgid: u32) -> Self {
        let pids = fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                fs::read_to_string(format!("/proc/{pid}/stat"))
                    .ok()
                    .and_then(|line| parse_stat(&line))
                    .is_some_and(|(group, _, _)| group == pgid)
            })
            .collect();
        Self { pids }
    }

    /// How many processes the group has.
    pub fn len(&self) -> usize {
        self.pids.len()
    }

    /// Whether the group has no processes.
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty()
    }

    /// The group's CPU time so far and its resident memory now (processes that have
    /// ended count as nothing).
    pub fn usage(&self) -> Usage {
        let mut usage = Usage::default();
        for pid in &self.pids {
            let Some((_, ticks, pages)) = fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|line| parse_stat(&line))
            else {
                continue;
            };
            usage.cpu_ms += ticks as f64 * 1e3 / TICKS_PER_SECOND;
            usage.rss_bytes += pages * PAGE_BYTES;
        }
        usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = percentiles(&samples);
        assert_eq!((p.p50, p.p95, p.p99, p.count), (50.0, 95.0, 99.0, 100));
        let one = percentiles(&[7.0]);
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        assert_eq!(percentiles(&[]).count, 0);
    }

    #[test]
    fn a_stat_line_with_spaces_in_the_name_is_read() {
        let line = "4242 (work er d) S 1 4200 4200 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 \
                    12 0 900 1000000 3000 18446744073709551615";
        assert_eq!(parse_stat(line), Some((4200, 300, 3000)));
        assert_eq!(parse_stat("garbage"), None);
    }
}
