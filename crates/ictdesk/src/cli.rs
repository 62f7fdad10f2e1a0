//! The command line. Every setting is a flag, most with an environment variable behind
//! it (the original system's names where it had one); flags win over environment, and
//! both over the defaults.

use std::{num::NonZeroU64, path::PathBuf};

use clap::{ArgAction, Args, Parser, Subcommand, builder::BoolishValueParser};
use ictdesk_hub::PusherApp;
use ictdesk_web::origin::Origin;
use ipnet::IpNet;

#[derive(Debug, Parser)]
#[command(
    name = "ictdesk",
    version,
    about = "IT service desk whose every page is live"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service desk: pages, JSON API and the real-time hub on one port.
    Serve(ServeArgs),
    /// Run only the real-time hub, for applications that publish through POST /broadcast.
    Hub(HubArgs),
    /// Manage user accounts from the command line.
    User(UserArgs),
    /// Bring the database schema up to date and exit.
    Migrate(DatabaseArgs),
    /// Fill a database with a desk at scale (for measuring): people, equipment, articles, tickets.
    Seed(SeedArgs),
    /// Take one e-mail message from standard input (for an MTA's pipe): a new ticket, or a comment on the ticket it answers.
    MailIn(crate::mail::MailInArgs),
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Tickets to add, each with its comments and history.
    #[arg(long, default_value_t = 1000)]
    pub tickets: u64,

    /// People to add (one in ~100 an agent, one in 5000 an admin).
    #[arg(long, default_value_t = 100)]
    pub users: u64,

    /// Pieces of equipment to add.
    #[arg(long, default_value_t = 100)]
    pub equipment: u64,

    /// Knowledge-base articles to add.
    #[arg(long, default_value_t = 50)]
    pub articles: u64,

    /// Add to a database that already holds tickets (refused otherwise).
    #[arg(long)]
    pub append: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub listen: ListenArgs,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// On an empty database, create a realistic IT department and print the demo logins.
    #[arg(long)]
    pub demo: bool,

    /// How long a login lasts; its open pages are disconnected when it ends.
    #[arg(
        long,
        env = "ICTDESK_SESSION_LIFETIME",
        default_value = "2592000",
        value_name = "SECONDS"
    )]
    pub session_lifetime: NonZeroU64,

    /// Mark session cookies Secure and expect https origins (set this when users reach the desk over https).
    #[arg(long, env = "ICTDESK_SECURE_COOKIES", default_value = "false", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub secure_cookies: bool,

    /// Origins (comma-separated, e.g. https://desk.example.org) allowed besides the desk's own for logins, WebSockets and polls.
    #[arg(long, env = "ICTDESK_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub allowed_origins: Vec<Origin>,

    /// Failed logins allowed per client address and account within --login-window.
    #[arg(long, env = "ICTDESK_LOGIN_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_attempts: u32,

    /// Failed logins allowed per client address, at any accounts, within --login-window.
    #[arg(long, env = "ICTDESK_LOGIN_ADDRESS_ATTEMPTS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub login_address_attempts: u32,

    /// Seconds over which failed logins are counted.
    #[arg(
        long,
        env = "ICTDESK_LOGIN_WINDOW",
        default_value = "300",
        value_name = "SECONDS"
    )]
    pub login_window: NonZeroU64,

    #[command(flatten)]
    pub attachments: AttachmentArgs,

    #[command(flatten)]
    pub mail: crate::mail::MailArgs,

    #[command(flatten)]
    pub hub: HubSettings,
}

/// Where attachments' bytes live; shared by every command that stores files.
#[derive(Debug, Args)]
pub struct AttachmentArgs {
    /// Folder for attachments' bytes (created if missing); several nodes need one shared folder.
    #[arg(
        long,
        env = "ICTDESK_ATTACHMENTS_DIR",
        default_value = "ictdesk-attachments",
        value_name = "DIR"
    )]
    pub attachments_dir: PathBuf,

    /// Largest file (and largest upload request) in bytes; larger ones get 413.
    #[arg(long, env = "ICTDESK_MAX_UPLOAD_SIZE", default_value_t = 20 * 1024 * 1024, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_upload_size: u64,
}

impl AttachmentArgs {
    pub fn file_options(&self) -> anyhow::Result<ictdesk_desk::attachments::FileOptions> {
        let files = ictdesk_desk::files::Files::local(&self.attachments_dir).map_err(|error| {
            anyhow::anyhow!(
                "--attachments-dir {}: {error}",
                self.attachments_dir.display()
            )
        })?;
        Ok(ictdesk_desk::attachments::FileOptions {
            files,
            max_upload_size: self.max_upload_size,
        })
    }
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH (one node) or postgres://USER:PASSWORD@HOST/DB (several).
    #[arg(
        long = "database",
        env = "DATABASE_URL",
        default_value = "sqlite://ictdesk.db",
        global = true
    )]
    pub url: String,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(subcommand)]
    pub action: UserAction,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account; without --password a random one is generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// requester, agent or admin.
        #[arg(long, default_value = "requester")]
        role: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Block an account: it can no longer log in, and its open connections are closed.
    Block { email: String },
    /// Unblock an account.
    Unblock { email: String },
}

#[derive(Debug, Args)]
pub struct HubArgs {
    #[command(flatten)]
    pub listen: ListenArgs,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub hub: HubSettings,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address to listen on.
    #[arg(long, env = "WEBSOCKET_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, env = "WEBSOCKET_PORT", default_value_t = 8080)]
    pub port: u16,

    /// PEM certificate chain; with --tls-key, serve https:// and wss:// directly.
    #[arg(long, env = "ICTDESK_TLS_CERT", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "ICTDESK_TLS_KEY", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,

    /// With TLS: max-age of Strict-Transport-Security, in seconds (0 tells browsers to forget it).
    #[arg(
        long,
        env = "ICTDESK_HSTS_MAX_AGE",
        default_value_t = 31_536_000,
        value_name = "SECONDS"
    )]
    pub hsts_max_age: u64,
}

#[derive(Debug, Args)]
pub struct HubSettings {
    /// Bearer token that POST /broadcast requires; publishing is refused without one.
    #[arg(long, env = "ICTDESK_BROADCAST_TOKEN", hide_env_values = true)]
    pub broadcast_token: Option<String>,

    /// Secret for the HS256 tokens (claims sub, role, exp) that identify viewers on /ws and /messages.
    #[arg(long, env = "ICTDESK_HUB_SECRET", hide_env_values = true)]
    pub hub_secret: Option<String>,

    /// Longest a hub token may still be valid for: one whose exp lies further ahead is refused.
    #[arg(
        long,
        env = "ICTDESK_HUB_TOKEN_MAX_LIFETIME",
        default_value = "86400",
        value_name = "SECONDS"
    )]
    pub hub_token_max_lifetime: NonZeroU64,

    /// Networks (CIDR, comma-separated) allowed to POST /broadcast besides loopback.
    #[arg(long, env = "ICTDESK_ALLOWED_IPS", value_delimiter = ',', value_parser = parse_network)]
    pub allowed_ips: Vec<IpNet>,

    /// Reverse proxies (CIDR, comma-separated) whose X-Forwarded-For / X-Real-IP name the client.
    #[arg(long, env = "ICTDESK_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,

    /// Accept WebSocket connections; false makes clients use HTTP (long) polling.
    #[arg(long, env = "WEBSOCKET_ENABLED", default_value = "true", action = ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub websocket_enabled: bool,

    /// Seconds a client waits for WebSocket before falling back to polling; also the publish timeout.
    #[arg(
        long,
        env = "WEBSOCKET_TIMEOUT",
        default_value = "5",
        value_name = "SECONDS"
    )]
    pub websocket_timeout: NonZeroU64,

    /// Seconds between server pings; a connection silent for two of them is dropped.
    #[arg(
        long,
        env = "ICTDESK_HEARTBEAT",
        default_value = "25",
        value_name = "SECONDS"
    )]
    pub heartbeat: NonZeroU64,

    /// Largest client message and /broadcast body, in bytes.
    #[arg(long, env = "ICTDESK_MAX_MESSAGE_SIZE", default_value_t = 64 * 1024, value_parser = clap::value_parser!(u32).range(1024..=16_777_216))]
    pub max_message_size: u32,

    /// Writes a connection may have waiting for its socket before it is dropped as too slow (it then resumes).
    #[arg(long, env = "ICTDESK_QUEUE_CAPACITY", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(16..=1_000_000))]
    pub queue_capacity: u32,

    /// WebSocket connections allowed from one address (0 = unlimited).
    #[arg(long, env = "ICTDESK_MAX_CONNECTIONS_PER_IP", default_value_t = 1000)]
    pub max_connections_per_ip: u32,

    /// Connections still speaking HTTP (not WebSockets) one address may hold; more are closed at once (0 = unlimited; trusted proxies exempt).
    #[arg(
        long,
        env = "ICTDESK_MAX_HTTP_CONNECTIONS_PER_IP",
        default_value_t = 256
    )]
    pub max_http_connections_per_ip: u32,

    /// Seconds a connection may take to send a request's headers, from when it opens or its previous answer ended (so also the idle keep-alive limit).
    #[arg(
        long,
        env = "ICTDESK_HEADER_TIMEOUT",
        default_value = "15",
        value_name = "SECONDS"
    )]
    pub header_timeout: NonZeroU64,

    /// Messages per second one connection may send.
    #[arg(long, env = "ICTDESK_CLIENT_RATE", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub client_rate: u32,

    /// A Pusher app served at /app/{key} and /apps/{id}/ (repeatable; commas between several in the environment).
    #[arg(
        long = "pusher-app",
        env = "ICTDESK_PUSHER_APPS",
        value_name = "ID:KEY:SECRET",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub pusher_apps: Vec<PusherApp>,

    /// This node's name in /status (default: host name and process id).
    #[arg(long, env = "ICTDESK_NODE")]
    pub node: Option<String>,

    /// Delete events older than this many days from the event log (0 = no age limit).
    /// A client resuming from before what is left is told to reset and re-fetches.
    #[arg(long, env = "ICTDESK_RETAIN_DAYS", default_value_t = 30)]
    pub retain_days: u32,

    /// Keep only the newest this many events in the log (0 = no count limit).
    #[arg(long, env = "ICTDESK_RETAIN_EVENTS", default_value_t = 0)]
    pub retain_events: u64,

    /// Write the listening address to this file once ready (for scripts that start on port 0).
    #[arg(long, env = "ICTDESK_ADDR_FILE")]
    pub addr_file: Option<PathBuf>,
}

/// Parses the command line; a bad value that came from the environment is reported
/// with the variable's name, since the flag named by clap is not what the user typed.
pub fn parse() -> Cli {
    Cli::try_parse().unwrap_or_else(|error| {
        let from_env = environment_behind(&error);
        let _ = error.print();
        if let Some(variable) = from_env {
            eprintln!("note: the value came from the environment variable {variable}");
        }
        std::process::exit(error.exit_code());
    })
}

fn environment_behind(error: &clap::Error) -> Option<String> {
    use clap::{CommandFactory, error::ContextKind, error::ContextValue};
    let Some(ContextValue::String(invalid)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = invalid
        .trim_start_matches("--")
        .split([' ', '='])
        .next()?
        .to_owned();
    if std::env::args()
        .any(|arg| arg == format!("--{long}") || arg.starts_with(&format!("--{long}=")))
    {
        return None;
    }
    let command = Cli::command();
    command
        .get_subcommands()
        .flat_map(|sub| sub.get_arguments())
        .find(|arg| arg.get_long() == Some(long.as_str()))
        .and_then(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .filter(|env| std::env::var_os(env).is_some())
}

fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("'{text}' is not an IP address or CIDR network (e.g. 10.0.0.0/8)"))
}

fn parse_origin(text: &str) -> Result<Origin, String> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_accept_cidrs_and_single_addresses() {
        assert_eq!(
            parse_network("10.0.0.0/8").map(|n| n.to_string()),
            Ok("10.0.0.0/8".into())
        );
        assert_eq!(
            parse_network(" 192.168.1.7 ").map(|n| n.to_string()),
            Ok("192.168.1.7/32".into())
        );
        assert!(parse_network("10.0.0.0/99").is_err());
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
