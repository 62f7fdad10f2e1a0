//! `ictdesk`: the command line, configuration and wiring. Errors end here as `anyhow`.

mod admin;
mod cli;
mod mail;
mod proxies;
mod seed;
mod server;
mod tls;

use tracing_subscriber::EnvFilter;

use crate::cli::Command;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        // Colour codes only for a person at a terminal, not in log files; the log goes
        // to stdout, so stdout decides.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    match cli.command {
        Command::Serve(args) => {
            server::Server::desk(args)
                .await?
                .run_until_stopped(server::shutdown_signal())
                .await
        }
        Command::User(args) => admin::user(args).await,
        Command::Migrate(args) => admin::migrate(args).await,
        Command::Seed(args) => seed::run(args).await,
        // The MTA reads the exit status: it decides between bounce and retry.
        Command::MailIn(args) => std::process::exit(mail::mail_in(args).await),
        Command::Hub(args) => {
            server::Server::hub(args)
                .await?
                .run_until_stopped(server::shutdown_signal())
                .await
        }
    }
}
