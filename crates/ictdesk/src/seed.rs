//! `ictdesk seed`: a desk at scale for measuring (`ictdesk_desk::seed`), with progress
//! bars on the terminal.

use std::{sync::Mutex, time::Instant};

use anyhow::Context;
use ictdesk_desk::{
    Desk, DeskOptions,
    seed::{Progress, SeedPlan, seed},
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{cli::SeedArgs, server::connect};

pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    let database = connect(&args.database.url).await?;
    let desk = Desk::open(&database, database.event_log(), DeskOptions::default())
        .await
        .context("cannot open the desk's tables")?;
    let plan = SeedPlan {
        tickets: args.tickets,
        users: args.users,
        equipment: args.equipment,
        articles: args.articles,
    };
    let started = Instant::now();
    let summary = seed(&database, &desk, plan, args.append, &Bars::default()).await?;
    if summary.demo {
        println!(
            "Created the demo department (logins: admin@demo.local, agent@demo.local, user@demo.local)."
        );
    }
    println!(
        "Seeded in {:.1} s: {} users, {} pieces of equipment, {} articles, {} tickets with {} comments and {} history entries.",
        started.elapsed().as_secs_f64(),
        summary.users,
        summary.equipment,
        summary.articles,
        summary.tickets,
        summary.comments,
        summary.history
    );
    println!("Every seeded account's password is \"demo\".");
    Ok(())
}

/// One progress bar a stage, on standard error (hidden when it is not a terminal).
#[derive(Default)]
struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    fn with_current(&self, act: impl FnOnce(&mut Option<ProgressBar>)) {
        // A poisoned lock only means a bar panicked mid-draw; keep drawing.
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        act(&mut current);
    }
}

impl Progress for Bars {
    fn begin(&self, stage: &'static str, total: u64) {
        let bar = ProgressBar::new(total).with_prefix(stage);
        if let Ok(style) = ProgressStyle::with_template(
            "{prefix:>10} [{bar:40}] {human_pos}/{human_len} {per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        self.with_current(|current| *current = Some(bar));
    }

    fn advance(&self, count: u64) {
        self.with_current(|current| {
            if let Some(bar) = current {
                bar.inc(count);
            }
        });
    }

    fn end(&self) {
        self.with_current(|current| {
            if let Some(bar) = current.take() {
                bar.finish();
            }
        });
    }
}
