//! A Markdown table of result lines, the runs of one matrix cell next to each other.

use std::{
    io::{BufRead, BufReader, Write},
    path::PathBuf,
};

use anyhow::{Context, Result};
use serde_json::Value;

/// Shows one cell from a result line.
type Show = fn(&Value) -> String;

/// Column title and how to show it.
const COLUMNS: &[(&str, Show)] = &[
    ("target", |v| text(&v["target"])),
    ("N", |v| text(&v["clients"])),
    ("R/s", |v| text(&v["rate"])),
    ("published/s", |v| text(&v["publish_rate"])),
    ("connected", |v| text(&v["connected"])),
    ("lost", |v| text(&v["lost"])),
    ("dup", |v| text(&v["duplicated"])),
    ("ooo", |v| text(&v["out_of_order"])),
    ("closed", closed),
    ("p50 ms", |v| text(&v["latency_ms_p50"])),
    ("p99 ms", |v| text(&v["latency_ms_p99"])),
    ("max ms", |v| text(&v["latency_ms_max"])),
    ("p99 from due ms", |v| text(&v["due_latency_ms_p99"])),
    ("deliveries/s", |v| text(&v["deliveries_per_second"])),
    ("connect s", |v| text(&v["connect_seconds"])),
    ("KiB/conn", |v| text(&v["kib_per_connection"])),
    ("KiB/conn after", |v| text(&v["kib_per_connection_after"])),
    ("server CPU s (user+sys)", server_cpu),
    ("loadgen CPU s", |v| text(&v["loadgen_cpu_s"])),
    ("other CPU s", |v| text(&v["other_cpu_s"])),
];

pub fn print(files: &[PathBuf]) -> Result<()> {
    let mut rows = Vec::new();
    for file in files {
        rows.extend(read(file)?);
    }
    // Stable: within a cell the targets keep the order they ran in.
    rows.sort_by(|a, b| {
        let key = |v: &Value| (v["clients"].as_u64(), v["rate"].as_f64().map(f64::to_bits));
        key(a).cmp(&key(b))
    });
    // Written with errors returned, not println!, so that a closed pipe is no panic.
    let mut out = std::io::stdout().lock();
    let titles: Vec<&str> = COLUMNS.iter().map(|(title, _)| *title).collect();
    writeln!(out, "| {} |", titles.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(COLUMNS.len()))?;
    for row in &rows {
        let cells: Vec<String> = COLUMNS.iter().map(|(_, show)| show(row)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

/// The JSON objects among a file's lines; other lines (logs, blanks) are skipped.
fn read(file: &PathBuf) -> Result<Vec<Value>> {
    let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let opened =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        Box::new(BufReader::new(opened))
    };
    let mut rows = Vec::new();
    for line in reader.lines() {
        let line = line?;
        if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(&line) {
            rows.push(value);
        }
    }
    Ok(rows)
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => "–".into(),
        Value::String(s) => s.clone(),
        // 5.0 → 5
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
            format!("{:.0}", n.as_f64().unwrap_or_default())
        }
        other => other.to_string(),
    }
}

fn server_cpu(value: &Value) -> String {
    format!(
        "{} ({}+{})",
        text(&value["server_cpu_s"]),
        text(&value["server_cpu_user_s"]),
        text(&value["server_cpu_system_s"])
    )
}

/// Connections the server closed, by code: `1013×3`.
fn closed(value: &Value) -> String {
    let Some(codes) = value["closed_by_server"].as_object() else {
        return "–".into();
    };
    if codes.is_empty() {
        return "0".into();
    }
    codes
        .iter()
        .map(|(code, count)| format!("{code}×{count}"))
        .collect::<Vec<_>>()
        .join(" ")
}
