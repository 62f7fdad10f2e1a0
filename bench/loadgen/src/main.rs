//! Load generator for ictdesk's hub, and for Nginx + Nchan as the yardstick: N WebSocket
//! subscribers, M events published at R per second, one JSON line of results.

mod client;
mod histogram;
mod procfs;
mod publish;
mod pusher;
mod run;
mod scan;
mod table;

use std::{
    path::PathBuf,
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "WebSocket fan-out benchmark (ictdesk hub, Nginx + Nchan)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one benchmark and print one JSON line.
    Run(RunArgs),
    /// Print a Markdown table of result lines (files of JSON lines, or - for stdin).
    Table { files: Vec<PathBuf> },
    /// Print a free TCP port on 127.0.0.1 (for servers that cannot pick their own).
    FreePort,
}

/// How events are published and what the frames look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// POST /broadcast with a bearer token; frames are the hub's envelopes after a welcome.
    Ictdesk,
    /// POST the bare body to an Nchan publisher location; frames are that body.
    Nchan,
    /// The Pusher protocol (ictdesk's `/app/{key}`, or Sockudo): clients subscribe to the
    /// channel `bench`; events go through the signed HTTP API (`--pusher-app`).
    Pusher,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Name of the target in the results.
    #[arg(long)]
    target: Option<String>,
    #[arg(long, value_enum, default_value = "ictdesk")]
    mode: Mode,
    /// WebSocket URL to subscribe at; repeat for several nodes (clients go round-robin).
    #[arg(long = "ws", required = true)]
    ws_urls: Vec<String>,
    /// URL to publish to (ictdesk: http://HOST:PORT/broadcast; Nchan: its publisher
    /// location; Pusher: http://HOST:PORT/apps/ID/events).
    #[arg(long)]
    publish: String,
    /// The Pusher app, `ID:KEY:SECRET`, for `--mode pusher` (signs the HTTP API).
    #[arg(long, env = "LOADGEN_PUSHER_APP", hide_env_values = true)]
    pusher_app: Option<String>,
    /// Bearer token for publishing.
    #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Subscribers (N).
    #[arg(short = 'n', long, default_value_t = 1000)]
    clients: usize,
    /// Events to publish (M).
    #[arg(short = 'm', long, default_value_t = 200)]
    events: u64,
    /// Events per second (R).
    #[arg(short = 'r', long, default_value_t = 5.0)]
    rate: f64,
    /// Size of the event frame the clients receive, in bytes.
    #[arg(long, default_value_t = 150)]
    frame_bytes: usize,
    /// Extra clients that connect but never read (slow consumers).
    #[arg(long, default_value_t = 0)]
    stalled: usize,
    /// WebSocket handshakes in flight at most.
    #[arg(long, default_value_t = 500)]
    handshakes: usize,
    /// Seconds to wait for all connections.
    #[arg(long, default_value_t = 120)]
    connect_timeout: u64,
    /// Seconds to wait, after the last publish, for every client to have every event.
    #[arg(long, default_value_t = 30)]
    drain_timeout: u64,
    /// Server process to measure (RSS, CPU); repeat for several (Nginx master and workers).
    #[arg(long = "server-pid")]
    server_pids: Vec<u32>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => {
            check_loopback(&args)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let report = runtime.block_on(run::run(args))?;
            println!("{report}");
            // Sockets of clients that did not close in time must not hold the exit up.
            runtime.shutdown_background();
            Ok(())
        }
        Command::Table { files } => table::print(&files),
        Command::FreePort => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", listener.local_addr()?.port());
            Ok(())
        }
    }
}

/// The benchmark only ever talks to this machine.
fn check_loopback(args: &RunArgs) -> Result<()> {
    for url in args.ws_urls.iter().chain([&args.publish]) {
        let rest = url
            .strip_prefix("ws://")
            .or_else(|| url.strip_prefix("http://"))
            .unwrap_or("");
        if !rest.starts_with("127.0.0.1:") && !rest.starts_with("127.0.0.1/") {
            bail!("{url}: only ws:// or http:// URLs on 127.0.0.1 are allowed");
        }
    }
    Ok(())
}

/// Wall-clock time in microseconds; publisher and clients share the machine's clock.
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_micros() as u64)
}
