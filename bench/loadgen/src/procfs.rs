//! What the server costs, read from /proc: resident memory and CPU time, summed over
//! every process of the server (Nginx has a master and workers).

use anyhow::{Context, Result, bail};

/// Clock ticks per second for /proc/PID/stat; 100 on every Linux this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// A reading of a set of processes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Usage {
    pub rss_kib: u64,
    pub cpu_seconds: f64,
}

/// Sums the usage of `pids`; `None` of them is an empty reading.
pub fn read(pids: &[u32]) -> Result<Usage> {
    let mut total = Usage::default();
    for &pid in pids {
        total.rss_kib += rss_kib(&format!("/proc/{pid}/status"))?;
        total.cpu_seconds += cpu_seconds(&format!("/proc/{pid}/stat"))?;
    }
    Ok(total)
}

/// This process's own CPU time.
pub fn own_cpu_seconds() -> Result<f64> {
    cpu_seconds("/proc/self/stat")
}

fn rss_kib(path: &str) -> Result<u64> {
    let status = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    parse_rss_kib(&status).with_context(|| format!("no VmRSS in {path}"))
}

fn cpu_seconds(path: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let ticks = parse_cpu_ticks(&stat).with_context(|| format!("unexpected format of {path}"))?;
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

fn parse_rss_kib(status: &str) -> Result<u64> {
    let Some(line) = status.lines().find(|line| line.starts_with("VmRSS:")) else {
        bail!("no VmRSS line");
    };
    let kib = line
        .split_whitespace()
        .nth(1)
        .context("VmRSS without a value")?;
    Ok(kib.parse()?)
}

/// utime + stime: fields 14 and 15, counted after the command name, which is in
/// parentheses and may itself contain spaces.
fn parse_cpu_ticks(stat: &str) -> Result<u64> {
    let after_name = &stat[stat.rfind(')').context("no command name")? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state), so field n is at index n - 3.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_stat() -> Result<()> {
        assert_eq!(parse_rss_kib("Name:\tx\nVmRSS:\t   12345 kB\n")?, 12345);
        let stat = "42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(stat)?, 325);
        Ok(())
    }

    #[test]
    fn reads_this_process() -> Result<()> {
        let usage = read(&[std::process::id()])?;
        assert!(usage.rss_kib > 0);
        assert!(own_cpu_seconds()? >= 0.0);
        Ok(())
    }
}
