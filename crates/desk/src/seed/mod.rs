//! `ictdesk seed`: fills a database with a desk at scale — people, equipment, articles,
//! and tickets with their comments and history — fast enough for a million tickets in
//! minutes, for measuring the desk (`bench/desk.sh`).
//!
//! On an empty database it first creates the demo department through the services
//! (`crate::demo`: real events, inbox entries, and the demo logins), then adds the rest
//! in bulk (`storage::Bulk`): many rows a statement, one transaction a batch, with ids
//! it chooses so that comments and history name their ticket without reading it back.
//! Bulk rows are the rows the services would have written (the same columns, the same
//! `search_text`, history in the same words) but have no events: a year-old change's
//! event would have been pruned from the log long ago.

mod generate;

use ictdesk_hub::Database;
use time::Duration;
use tokio::sync::mpsc;

use crate::{
    Desk, Page,
    articles::Visibility,
    categories::CategoryScope,
    demo::{DEMO_PASSWORD, TICKET_CATEGORIES},
    equipment::{EquipmentKind, EquipmentStatus},
    error::Error,
    history::NewHistory,
    storage::{Bulk, bulk_for_database},
    tickets::{Ticket, TicketQuery},
    timestamps,
    users::{Locale, Role},
};

/// How many of each to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedPlan {
    pub tickets: u64,
    pub users: u64,
    pub equipment: u64,
    pub articles: u64,
}

/// Told how far seeding is, e.g. to draw progress bars.
pub trait Progress: Send + Sync {
    /// A new stage (`"tickets"`) of `total` items begins.
    fn begin(&self, stage: &'static str, total: u64);
    /// `count` more items of the current stage are written.
    fn advance(&self, count: u64);
    /// The current stage is done.
    fn end(&self);
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "the database already holds {0} tickets; seed adds to a desk in use only when told to (--append)"
    )]
    HasTickets(i64),
    #[error("no active agent or admin to work the tickets: seed some users first (--users)")]
    NoStaff,
    #[error("no active requester to file the tickets: seed some users first (--users)")]
    NoRequesters,
    #[error(transparent)]
    Desk(#[from] Error),
}

/// What seeding added (the demo department's rows included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedSummary {
    pub demo: bool,
    pub users: u64,
    pub equipment: u64,
    pub articles: u64,
    pub tickets: u64,
    pub comments: u64,
    pub history: u64,
}

/// Rows of one transaction.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub password_hash: String,
    pub users: Vec<NewUserRow>,
    pub equipment: Vec<NewEquipmentRow>,
    pub articles: Vec<NewArticleRow>,
    pub tickets: Vec<Ticket>,
    pub comments: Vec<NewCommentRow>,
    pub history: Vec<NewHistory>,
}

#[derive(Debug)]
pub(crate) struct NewUserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub locale: Locale,
    pub created_at: String,
}

#[derive(Debug)]
pub(crate) struct NewEquipmentRow {
    pub id: i64,
    pub inventory_number: String,
    pub name: &'static str,
    pub kind: EquipmentKind,
    pub serial: String,
    pub status: EquipmentStatus,
    pub location_id: Option<i64>,
    pub assigned_user_id: Option<i64>,
    pub created_at: String,
    pub created_by: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct NewArticleRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub category_id: Option<i64>,
    pub visibility: Visibility,
    pub author_id: i64,
    pub created_at: String,
}

#[derive(Debug)]
pub(crate) struct NewCommentRow {
    pub id: i64,
    pub ticket_id: i64,
    pub author_id: i64,
    pub body: &'static str,
    pub internal: bool,
    pub created_at: String,
}

/// An active user as the seeder assigns work.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Person {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// Rows a batch: large enough that a statement carries thousands of rows, small
/// enough that a batch's transaction stays short and its rows fit in memory twice.
const BATCH: u64 = 5_000;

/// How far back the seeded tickets reach.
const TICKET_SPAN: Duration = Duration::days(730);

/// Seeds `plan` into `database`, which `desk` was opened on. Refuses a database that
/// holds tickets unless `append`.
pub async fn seed(
    database: &Database,
    desk: &Desk,
    plan: SeedPlan,
    append: bool,
    progress: &dyn Progress,
) -> Result<SeedSummary, SeedError> {
    let existing = desk
        .storage()
        .tickets(&TicketQuery::default(), Page::new(Some(1), Some(1)))
        .await?
        .total;
    if existing > 0 && !append {
        return Err(SeedError::HasTickets(existing));
    }
    let mut summary = SeedSummary::default();
    if let Some(demo) = desk.seed_demo().await? {
        summary.demo = true;
        summary.users += demo.users as u64;
        summary.equipment += demo.equipment as u64;
        summary.articles += demo.articles as u64;
        summary.tickets += demo.tickets as u64;
        summary.comments += demo.comments as u64;
    }
    let bulk = bulk_for_database(database);
    // One hash for every seeded account (hashing is deliberately slow): the demo's password.
    let password_hash = desk.passwords.hash(DEMO_PASSWORD).await?;
    let now = timestamps::now();

    summary.users += stage(progress, "users", plan.users, |count| {
        let bulk = bulk.as_ref();
        let password_hash = password_hash.clone();
        async move {
            let first_id = bulk.next_ids().await?.user;
            let users = generate::users(first_id, count, now);
            bulk.load(&Batch {
                password_hash,
                users,
                ..Batch::default()
            })
            .await
        }
    })
    .await?;

    let people = bulk.people().await?;
    let locations: Vec<i64> = desk
        .storage()
        .locations()
        .await?
        .into_iter()
        .map(|location| location.id)
        .collect();
    summary.equipment += stage(progress, "equipment", plan.equipment, |count| {
        let (bulk, people, locations) = (bulk.as_ref(), &people, &locations);
        async move {
            let first_id = bulk.next_ids().await?.equipment;
            let equipment = generate::equipment(first_id, count, people, locations, now);
            bulk.load(&Batch {
                equipment,
                ..Batch::default()
            })
            .await
        }
    })
    .await?;

    let staff: Vec<Person> = people
        .iter()
        .filter(|person| person.role.is_staff())
        .cloned()
        .collect();
    let authors: Vec<i64> = staff.iter().map(|person| person.id).collect();
    let article_categories = category_ids(desk, CategoryScope::Article).await?;
    summary.articles += stage(progress, "articles", plan.articles, |count| {
        let (bulk, authors, categories) = (bulk.as_ref(), &authors, &article_categories);
        async move {
            let first_id = bulk.next_ids().await?.article;
            let articles = generate::articles(first_id, count, authors, categories, now);
            bulk.load(&Batch {
                articles,
                ..Batch::default()
            })
            .await
        }
    })
    .await?;

    if plan.tickets > 0 {
        if staff.is_empty() {
            return Err(SeedError::NoStaff);
        }
        let requesters: Vec<i64> = people
            .iter()
            .filter(|person| person.role == Role::Requester)
            .map(|person| person.id)
            .collect();
        if requesters.is_empty() {
            return Err(SeedError::NoRequesters);
        }
        let world = generate::World {
            staff,
            requesters,
            categories: ticket_categories(desk).await?,
            equipment: bulk.ids("equipment").await?,
            now,
            span: TICKET_SPAN,
        };
        let (tickets, comments, history) =
            seed_tickets(bulk.as_ref(), world, plan.tickets, progress).await?;
        summary.tickets += tickets;
        summary.comments += comments;
        summary.history += history;
    }
    bulk.finish().await?;
    Ok(summary)
}

/// Runs `load(count)` batch by batch over `total` items, reporting progress;
/// returns `total`.
async fn stage<F, Fut>(
    progress: &dyn Progress,
    name: &'static str,
    total: u64,
    mut load: F,
) -> Result<u64, Error>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    if total == 0 {
        return Ok(0);
    }
    progress.begin(name, total);
    let mut done = 0;
    while done < total {
        let count = BATCH.min(total - done);
        load(count as usize).await?;
        done += count;
        progress.advance(count);
    }
    progress.end();
    Ok(total)
}

/// Tickets are made on a thread of their own while the previous batch is written, so
/// that generating and writing overlap on two cores.
async fn seed_tickets(
    bulk: &dyn Bulk,
    world: generate::World,
    total: u64,
    progress: &dyn Progress,
) -> Result<(u64, u64, u64), Error> {
    let next = bulk.next_ids().await?;
    let (sender, mut receiver) = mpsc::channel(2);
    let maker = tokio::task::spawn_blocking(move || {
        let mut ids = generate::TicketIds {
            index: 0,
            total: total as i64,
            ticket: next.ticket,
            comment: next.comment,
        };
        while (ids.index as u64) < total {
            let count = BATCH.min(total - ids.index as u64) as usize;
            let batch = generate::tickets(ids, count, &world);
            ids.index += count as i64;
            ids.ticket += count as i64;
            ids.comment += batch.comments.len() as i64;
            if sender.blocking_send(batch).is_err() {
                // The writer stopped (it failed); its error is the one to report.
                return;
            }
        }
    });
    progress.begin("tickets", total);
    let (mut comments, mut history) = (0, 0);
    while let Some(batch) = receiver.recv().await {
        bulk.load(&batch).await?;
        comments += batch.comments.len() as u64;
        history += batch.history.len() as u64;
        progress.advance(batch.tickets.len() as u64);
    }
    progress.end();
    maker
        .await
        .map_err(|error| Error::Internal(format!("making tickets: {error}")))?;
    Ok((total, comments, history))
}

/// The ids of the demo's ticket categories, in its order (its tickets' texts name
/// them by index); a desk with other categories has its own taken in turn.
async fn ticket_categories(desk: &Desk) -> Result<Vec<i64>, Error> {
    let categories = desk
        .storage()
        .categories(Some(CategoryScope::Ticket))
        .await?;
    let active: Vec<_> = categories.iter().filter(|c| c.active).collect();
    if active.is_empty() {
        return Ok(Vec::new());
    }
    Ok(TICKET_CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let named = active.iter().find(|category| category.name == *name);
            named.unwrap_or(&active[i % active.len()]).id
        })
        .collect())
}

async fn category_ids(desk: &Desk, scope: CategoryScope) -> Result<Vec<i64>, Error> {
    Ok(desk
        .storage()
        .categories(Some(scope))
        .await?
        .into_iter()
        .filter(|category| category.active)
        .map(|category| category.id)
        .collect())
}
