//! What the server costs, read from /proc: resident memory and CPU time, summed over
//! every process of the server (Nginx has a master and workers).

use anyhow::{Context, Result, bail};

/// Clock ticks per second for /proc/PID/stat; 100 on every Linux this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// A reading of a set of processes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Usage {
    pub rss_kib: u64,
    /// CPU time in user space and in the kernel (on loopback the kernel time includes
    /// the receiving side's TCP work, charged to the sender).
    pub user_seconds: f64,
    pub system_seconds: f64,
}

impl Usage {
    pub fn cpu_seconds(&self) -> f64 {
        self.user_seconds + self.system_seconds
    }
}

/// Sums the usage of `pids`; `None` of them is an empty reading.
pub fn read(pids: &[u32]) -> Result<Usage> {
    let mut total = Usage::default();
    for &pid in pids {
        total.rss_kib += rss_kib(&format!("/proc/{pid}/status"))?;
        let (user, system) = cpu_times(&format!("/proc/{pid}/stat"))?;
        total.user_seconds += user;
        total.system_seconds += system;
    }
    Ok(total)
}

/// This process's own CPU time.
pub fn own_cpu_seconds() -> Result<f64> {
    let (user, system) = cpu_times("/proc/self/stat")?;
    Ok(user + system)
}

/// Busy CPU seconds of the whole machine (every core) since boot: with the server's and
/// the load generator's own, it tells how much else ran during a run.
pub fn machine_busy_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = stat.lines().next().context("empty /proc/stat")?;
    parse_busy_ticks(line).map(|ticks| ticks as f64 / TICKS_PER_SECOND)
}

/// The `cpu` line's ticks except idle and iowait (and guest, already in user).
fn parse_busy_ticks(line: &str) -> Result<u64> {
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal, ..] = ticks[..] else {
        bail!("short cpu line in /proc/stat");
    };
    Ok(user + nice + system + irq + softirq + steal)
}

fn rss_kib(path: &str) -> Result<u64> {
    let status = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    parse_rss_kib(&status).with_context(|| format!("no VmRSS in {path}"))
}

/// (user, system) seconds.
fn cpu_times(path: &str) -> Result<(f64, f64)> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let (user, system) =
        parse_cpu_ticks(&stat).with_context(|| format!("unexpected format of {path}"))?;
    Ok((
        user as f64 / TICKS_PER_SECOND,
        system as f64 / TICKS_PER_SECOND,
    ))
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

/// (utime, stime): fields 14 and 15, counted after the command name, which is in
/// parentheses and may itself contain spaces.
fn parse_cpu_ticks(stat: &str) -> Result<(u64, u64)> {
    let after_name = &stat[stat.rfind(')').context("no command name")? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state), so field n is at index n - 3.
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok((utime, stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_stat() -> Result<()> {
        assert_eq!(parse_rss_kib("Name:\tx\nVmRSS:\t   12345 kB\n")?, 12345);
        let stat = "42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(stat)?, (250, 75));
        Ok(())
    }

    #[test]
    fn counts_busy_ticks() -> Result<()> {
        assert_eq!(parse_busy_ticks("cpu  10 1 5 1000 7 2 3 4 0 0")?, 25);
        assert!(parse_busy_ticks("cpu 1 2").is_err());
        assert!(machine_busy_seconds()? > 0.0);
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
