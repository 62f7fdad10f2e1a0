//! Bulk loading for `ictdesk seed` (`crate::seed`): rows written many to one `INSERT …
//! VALUES (…), (…)` with ids the seeder chose, so that comments and history can name
//! their ticket without reading it back. Compiled once per backend, like `body.rs`.
//! Only the seeder uses this: the desk's own changes go through `Transaction`.

use async_trait::async_trait;
use sqlx::{Database, QueryBuilder, query_builder::Separated};

use super::Store;
use crate::{
    error::Result,
    seed::{Batch, Person},
    storage::{Bulk, Dialect, NextIds},
};

type Db = <Store as Dialect>::Db;
type Connection = <Db as Database>::Connection;

/// Binds in one statement: under SQLite's limit (32 766), PostgreSQL's is higher.
const BINDS_PER_STATEMENT: usize = 32_000;

/// The tables whose ids the seeder chooses.
const SEEDED_TABLES: [&str; 5] = [
    "users",
    "equipment",
    "articles",
    "tickets",
    "ticket_comments",
];

#[async_trait]
impl Bulk for Store {
    async fn next_ids(&self) -> Result<NextIds> {
        let mut next = [0; SEEDED_TABLES.len()];
        for (table, id) in SEEDED_TABLES.iter().zip(&mut next) {
            let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}");
            *id = sqlx::query_scalar(&sql).fetch_one(self.writer()).await?;
        }
        let [user, equipment, article, ticket, comment] = next;
        Ok(NextIds {
            user,
            equipment,
            article,
            ticket,
            comment,
        })
    }

    async fn people(&self) -> Result<Vec<Person>> {
        Ok(
            sqlx::query_as("SELECT id, name, role FROM users WHERE status = 'active' ORDER BY id")
                .fetch_all(self.writer())
                .await?,
        )
    }

    async fn ids(&self, table: &'static str) -> Result<Vec<i64>> {
        let sql = format!("SELECT id FROM {table} ORDER BY id");
        Ok(sqlx::query_scalar(&sql).fetch_all(self.writer()).await?)
    }

    async fn load(&self, batch: &Batch) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        insert_users(&mut tx, batch).await?;
        insert_equipment(&mut tx, batch).await?;
        insert_articles(&mut tx, batch).await?;
        insert_tickets(&mut tx, batch).await?;
        insert_comments(&mut tx, batch).await?;
        insert_history(&mut tx, batch).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn finish(&self) -> Result<()> {
        for table in SEEDED_TABLES {
            if let Some(sql) = Store::follow_explicit_ids(table) {
                sqlx::query(&sql).execute(self.writer()).await?;
            }
        }
        // Fresh statistics, so that the planner knows the tables' new sizes at once.
        sqlx::query("ANALYZE").execute(self.writer()).await?;
        Ok(())
    }
}

/// Inserts `rows` with `INSERT INTO {head} VALUES …`, as many rows a statement as the
/// binds allow (`columns` binds a row).
async fn insert_rows<'a, T>(
    conn: &mut Connection,
    head: &str,
    columns: usize,
    rows: &'a [T],
    mut push: impl FnMut(Separated<'_, 'a, Db, &'static str>, &'a T),
) -> Result<()> {
    for chunk in rows.chunks(BINDS_PER_STATEMENT / columns) {
        let mut qb: QueryBuilder<'a, Db> = QueryBuilder::new(format!("INSERT INTO {head} "));
        qb.push_values(chunk, &mut push);
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_users(conn: &mut Connection, batch: &Batch) -> Result<()> {
    let hash = batch.password_hash.as_str();
    insert_rows(
        conn,
        "users (id, name, email, role, status, locale, password_hash, created_at)",
        8,
        &batch.users,
        |mut row, user| {
            row.push_bind(user.id)
                .push_bind(user.name.as_str())
                .push_bind(user.email.as_str())
                .push_bind(user.role.as_str())
                .push_bind("active")
                .push_bind(user.locale.as_str())
                .push_bind(hash)
                .push_bind(user.created_at.as_str());
        },
    )
    .await
}

async fn insert_equipment(conn: &mut Connection, batch: &Batch) -> Result<()> {
    insert_rows(
        conn,
        "equipment (id, inventory_number, name, kind, serial, status, location_id, \
         assigned_user_id, created_at, updated_at, updated_by)",
        11,
        &batch.equipment,
        |mut row, piece| {
            row.push_bind(piece.id)
                .push_bind(piece.inventory_number.as_str())
                .push_bind(piece.name)
                .push_bind(piece.kind.as_str())
                .push_bind(piece.serial.as_str())
                .push_bind(piece.status.as_str())
                .push_bind(piece.location_id)
                .push_bind(piece.assigned_user_id)
                .push_bind(piece.created_at.as_str())
                .push_bind(piece.created_at.as_str())
                .push_bind(piece.created_by);
        },
    )
    .await
}

async fn insert_articles(conn: &mut Connection, batch: &Batch) -> Result<()> {
    insert_rows(
        conn,
        "articles (id, title, body, category_id, visibility, author_id, created_at, updated_at, \
         updated_by)",
        9,
        &batch.articles,
        |mut row, article| {
            row.push_bind(article.id)
                .push_bind(article.title.as_str())
                .push_bind(article.body.as_str())
                .push_bind(article.category_id)
                .push_bind(article.visibility.as_str())
                .push_bind(article.author_id)
                .push_bind(article.created_at.as_str())
                .push_bind(article.created_at.as_str())
                .push_bind(article.author_id);
        },
    )
    .await
}

async fn insert_tickets(conn: &mut Connection, batch: &Batch) -> Result<()> {
    insert_rows(
        conn,
        "tickets (id, title, description, type, status, priority, category_id, requester_id, \
         assignee_id, equipment_id, resolution, search_text, created_at, updated_at, \
         resolved_at, closed_at, version, updated_by)",
        18,
        &batch.tickets,
        |mut row, ticket| {
            row.push_bind(ticket.id)
                .push_bind(ticket.title.as_str())
                .push_bind(ticket.description.as_str())
                .push_bind(ticket.ticket_type.as_str())
                .push_bind(ticket.status.as_str())
                .push_bind(ticket.priority.as_str())
                .push_bind(ticket.category_id)
                .push_bind(ticket.requester_id)
                .push_bind(ticket.assignee_id)
                .push_bind(ticket.equipment_id)
                .push_bind(ticket.resolution.as_deref())
                .push_bind(ticket.search_text())
                .push_bind(ticket.created_at.as_str())
                .push_bind(ticket.updated_at.as_str())
                .push_bind(ticket.resolved_at.as_deref())
                .push_bind(ticket.closed_at.as_deref())
                .push_bind(ticket.version)
                .push_bind(ticket.updated_by);
        },
    )
    .await
}

async fn insert_comments(conn: &mut Connection, batch: &Batch) -> Result<()> {
    insert_rows(
        conn,
        "ticket_comments (id, ticket_id, author_id, body, internal, created_at)",
        6,
        &batch.comments,
        |mut row, comment| {
            row.push_bind(comment.id)
                .push_bind(comment.ticket_id)
                .push_bind(comment.author_id)
                .push_bind(comment.body)
                .push_bind(comment.internal)
                .push_bind(comment.created_at.as_str());
        },
    )
    .await
}

async fn insert_history(conn: &mut Connection, batch: &Batch) -> Result<()> {
    insert_rows(
        conn,
        "history (entity_kind, entity_id, actor_id, field, old_value, new_value, at)",
        7,
        &batch.history,
        |mut row, entry| {
            row.push_bind(entry.entity_kind.as_str())
                .push_bind(entry.entity_id)
                .push_bind(entry.actor_id)
                .push_bind(entry.field)
                .push_bind(entry.old_value.as_deref())
                .push_bind(entry.new_value.as_deref())
                .push_bind(entry.at.as_str());
        },
    )
    .await
}
