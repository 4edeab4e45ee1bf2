//! Medians and percentiles of measured durations, a load run's trace, the machine's description.

use std::time::Duration;

/// Latencies of one load run.
#[derive(Debug, Clone, Default)]
pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    pub fn percentile(&self, p: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        sorted[rank.min(sorted.len() - 1)]
    }
}

pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// The rates at which an import wrote the first and the last tenth of its households, in
/// households per second, from its progress: `(seconds, households written)` points, the
/// first one the start of the writing with none written, the last one all of them. The
/// moment a count was reached is read off the points by linear interpolation, so where a
/// batch of the import is larger than a tenth, the tenth's rate is its batch's. `None`
/// without progress to read.
pub fn tenth_rates(progress: &[(f64, usize)]) -> Option<(f64, f64)> {
    let total = progress.last()?.1;
    if progress.len() < 2 || total == 0 {
        return None;
    }
    // When the `count`-th household was written.
    let at = |count: f64| {
        let after = progress.iter().position(|&(_, done)| done as f64 >= count).unwrap_or(progress.len() - 1);
        if after == 0 {
            return progress[0].0;
        }
        let ((t0, d0), (t1, d1)) = (progress[after - 1], progress[after]);
        t0 + (t1 - t0) * (count - d0 as f64) / (d1 - d0) as f64
    };
    let tenth = total as f64 / 10.0;
    let rate = |from: f64, to: f64| tenth / (at(to) - at(from)).max(f64::EPSILON);
    Some((rate(0.0, tenth), rate(total as f64 - tenth, total as f64)))
}

/// Peak resident memory (VmHWM) of a process, in MB, from /proc; 0 where unknown.
pub fn peak_memory_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// "2 cores, Intel(R) Xeon(R) …, 23.4 GiB": what the figures were measured on.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
        .unwrap_or("unknown CPU")
        .to_owned();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cores} cores, {model}, {memory:.1} GiB")
}

/// With `GUANAI_BENCH_TRACE=DIR`, each request of a load run as a line of `DIR/<what>.csv`:
/// when it was sent (ms since the run began) and how long it took, in the order sent, to
/// see whether the slow ones come together (a stall) or one by one.
pub fn write_trace(what: &str, mut sent_and_taken: Vec<(Duration, Duration)>) -> anyhow::Result<()> {
    let Some(dir) = std::env::var_os("GUANAI_BENCH_TRACE") else { return Ok(()) };
    sent_and_taken.sort();
    let mut csv = String::from("sent_ms,took_ms\n");
    for (sent, took) in sent_and_taken {
        csv.push_str(&format!("{:.3},{:.3}\n", sent.as_secs_f64() * 1000.0, took.as_secs_f64() * 1000.0));
    }
    std::fs::create_dir_all(&dir)?;
    std::fs::write(std::path::Path::new(&dir).join(format!("{}.csv", what.replace(' ', "-"))), csv)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_medians() {
        let l = Latencies((1..=100).map(Duration::from_millis).collect());
        assert_eq!(l.percentile(50.0), Duration::from_millis(51));
        assert_eq!(l.percentile(99.0), Duration::from_millis(99));
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(Latencies::default().percentile(99.0), Duration::ZERO);
    }

    #[test]
    fn tenth_rates_show_a_slowing_import() {
        // 1,000 households in batches of 100: the first written in 1 s, each next one
        // taking a second longer (a cost growing with the table).
        let mut progress = vec![(0.0, 0)];
        let mut t = 0.0;
        for batch in 1..=10 {
            t += batch as f64;
            progress.push((t, batch * 100));
        }
        let (first, last) = tenth_rates(&progress).unwrap();
        assert!((first - 100.0).abs() < 1e-9, "{first}");
        assert!((last - 10.0).abs() < 1e-9, "{last}");
        // Batches of a third: a tenth is read inside its batch, at that batch's rate.
        let (first, last) = tenth_rates(&[(5.0, 0), (6.0, 300), (8.0, 600), (12.0, 900)]).unwrap();
        assert!((first - 300.0).abs() < 1e-9, "{first}");
        assert!((last - 75.0).abs() < 1e-9, "{last}");
        assert_eq!(tenth_rates(&[(1.0, 0)]), None);
        assert_eq!(tenth_rates(&[]), None);
    }
}
