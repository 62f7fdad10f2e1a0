//! Administration from the command line: first run, `ictdesk user …`, `ictdesk migrate`.

use anyhow::Context;
use ictdesk_desk::{
    Desk, DeskOptions,
    first_run::random_password,
    users::{NewUser, UserChange},
};

use crate::{
    cli::{DatabaseArgs, UserAction, UserArgs},
    server::connect,
};

/// On an empty database: the demo department with `--demo`, else one admin with a
/// random password. Either way the logins are printed once, on standard output.
pub async fn first_run(desk: &Desk, demo: bool) -> anyhow::Result<()> {
    if demo {
        if let Some(summary) = desk
            .seed_demo()
            .await
            .context("cannot create the demo data")?
        {
            println!(
                "Demo data created: {} users, {} tickets, {} pieces of equipment, {} articles.",
                summary.users, summary.tickets, summary.equipment, summary.articles
            );
            println!(
                "Demo logins (password: demo): admin@demo.local, agent@demo.local, user@demo.local"
            );
        } else {
            println!("The database already has users; --demo added nothing.");
            println!(
                "Demo logins, if it was created with --demo (password: demo): admin@demo.local, agent@demo.local, user@demo.local"
            );
        }
        return Ok(());
    }
    if let Some(admin) = desk
        .ensure_admin()
        .await
        .context("cannot create the first admin")?
    {
        println!("Created the first administrator. This password is shown only once:");
        println!("  email:    {}", admin.email);
        println!("  password: {}", admin.password);
    }
    Ok(())
}

async fn open(database: &DatabaseArgs) -> anyhow::Result<Desk> {
    let database = connect(&database.url).await?;
    Desk::open(&database, database.event_log(), DeskOptions::default())
        .await
        .context("cannot open the desk's tables")
}

pub async fn migrate(database: DatabaseArgs) -> anyhow::Result<()> {
    open(&database).await?;
    println!("The database schema is up to date.");
    Ok(())
}

pub async fn user(args: UserArgs) -> anyhow::Result<()> {
    let desk = open(&args.database).await?;
    match args.action {
        UserAction::Add {
            email,
            name,
            role,
            password,
        } => {
            let generated = password.is_none();
            let password = password.unwrap_or_else(random_password);
            let input = NewUser {
                name,
                email,
                role,
                password: password.clone(),
                locale: None,
            };
            let user = desk.create_user_by_system(&input).await.map_err(describe)?;
            println!(
                "Created user {} <{}> ({}).",
                user.id,
                user.email,
                user.role.as_str()
            );
            if generated {
                println!("Password (shown only once): {password}");
            }
        }
        UserAction::Block { email } => set_status(&desk, &email, "blocked").await?,
        UserAction::Unblock { email } => set_status(&desk, &email, "active").await?,
    }
    Ok(())
}

async fn set_status(desk: &Desk, email: &str, status: &str) -> anyhow::Result<()> {
    let user = desk
        .find_user_by_email(email)
        .await
        .map_err(describe)?
        .with_context(|| format!("no user with the email {email}"))?;
    let change = UserChange {
        status: Some(status.to_owned()),
        ..UserChange::default()
    };
    desk.change_user_by_system(user.id, &change)
        .await
        .map_err(describe)?;
    println!("{email} is now {status}.");
    Ok(())
}

/// Validation errors list their fields; the rest say what failed.
fn describe(error: ictdesk_desk::Error) -> anyhow::Error {
    match error.fields() {
        Some(fields) => {
            let list: Vec<String> = fields
                .iter()
                .map(|(field, problem)| format!("{field}: {problem}"))
                .collect();
            anyhow::anyhow!("{}", list.join("; "))
        }
        None => anyhow::anyhow!(error),
    }
}
