//! Storage: one use-case trait pair, chosen once from the hub's [`Database`].
//!
//! [`Storage`] answers the read side (lists, pages, sessions) from the read pool;
//! [`Transaction`] is the unit of work of a change: the service reads what it changes
//! (locked, on PostgreSQL), writes and records history through it; the desk's change
//! path then commits it with the change's event — or drops it, which rolls everything
//! back.
//!
//! Both backends share one body of native SQL (`body.rs`); `sqlite.rs` and
//! `postgres.rs` hold only their [`Dialect`]: what the two databases do differently.

mod bulk;
pub mod postgres;
pub mod sqlite;

pub(crate) use bulk::{Bulk, NextIds, bulk_for_database};

use std::sync::Arc;

use async_trait::async_trait;
use ictdesk_hub::{Database, NewEvent};
use sqlx::{Pool, QueryBuilder, migrate::Migrator};

use crate::{
    articles::{Article, ArticleQuery},
    attachments::Attachment,
    categories::{Category, CategoryScope},
    comments::Comment,
    equipment::{Equipment, EquipmentQuery},
    error::Result,
    history::{EntityKind, HistoryEntry, NewHistory},
    inbox::{InboxEntry, NewEntry, Recipients},
    locations::Location,
    mail::{MailKind, MailRecipient, OutboxMail, delivery::Delivery},
    notifications::Notification,
    teams::Team,
    tickets::{Ticket, TicketQuery, TicketStats},
    users::{ApiToken, Session, User, UserQuery},
};

/// Picks the backend once.
pub fn for_database(database: &Database) -> Arc<dyn Storage> {
    match database {
        Database::Sqlite(db) => Arc::new(sqlite::SqliteStorage::new(db.clone())),
        Database::Postgres(db) => Arc::new(postgres::PostgresStorage::new(db.clone())),
    }
}

/// Which page of a list: 1-based, 1–200 items a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub const MAX_PER_PAGE: u32 = 200;

    /// Out-of-range values are clamped rather than refused: a list is always answerable.
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(25).clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub fn all() -> Self {
        Self::new(Some(1), Some(Self::MAX_PER_PAGE))
    }

    pub(crate) fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    pub(crate) fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// One page of a list and how many items there are in all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Paged<T> {
    pub(crate) fn new(items: Vec<T>, total: i64, page: Page) -> Self {
        Self {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        }
    }

    /// The same page with every item converted; fails at the first that does not.
    pub(crate) fn try_map<U, E>(
        self,
        convert: impl FnMut(T) -> std::result::Result<U, E>,
    ) -> std::result::Result<Paged<U>, E> {
        Ok(Paged {
            items: self
                .items
                .into_iter()
                .map(convert)
                .collect::<std::result::Result<_, _>>()?,
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        })
    }
}

/// A valid session: its user, its CSRF token and when it ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveSession {
    #[sqlx(flatten)]
    pub user: User,
    pub csrf_token: String,
    pub expires_at: String,
}

/// A user with what only logging in needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRow {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}

/// The read side.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    async fn migrate(&self) -> Result<()>;
    async fn begin(&self) -> Result<Box<dyn Transaction>>;

    async fn user(&self, id: i64) -> Result<Option<User>>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn user_for_login(&self, email: &str) -> Result<Option<LoginRow>>;
    async fn users(&self, query: &UserQuery, page: Page) -> Result<Paged<User>>;
    async fn count_users(&self) -> Result<i64>;
    /// The database's clock, in the stored format: every node takes the times of the
    /// login limit and of sessions from it, so that nodes whose clocks differ agree.
    async fn now(&self) -> Result<String>;
    /// The session, if it exists, has not expired by the database's clock, and its user
    /// is active.
    async fn session(&self, token_hash: &str) -> Result<Option<ActiveSession>>;
    async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>>;
    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>>;
    /// When `key`'s login attempts after `since` happened, newest first, `newest` at most.
    async fn login_attempts(&self, key: &str, since: &str, newest: i64) -> Result<Vec<String>>;

    async fn tickets(&self, query: &TicketQuery, page: Page) -> Result<Paged<Ticket>>;
    /// Counts over the tickets `requester_id` may see (all of them for `None`).
    async fn ticket_stats(
        &self,
        requester_id: Option<i64>,
        me: i64,
        day_start: &str,
    ) -> Result<TicketStats>;
    async fn ticket(&self, id: i64) -> Result<Option<Ticket>>;
    async fn comments(&self, ticket_id: i64, with_internal: bool) -> Result<Vec<Comment>>;
    async fn attachment(&self, id: i64) -> Result<Option<Attachment>>;
    /// The ticket's files, its comments' included (internal notes' only `with_internal`).
    async fn ticket_attachments(
        &self,
        ticket_id: i64,
        with_internal: bool,
    ) -> Result<Vec<Attachment>>;
    async fn article_attachments(&self, article_id: i64) -> Result<Vec<Attachment>>;

    /// A person's inbox, newest first.
    async fn inbox(&self, user_id: i64, unread_only: bool, page: Page)
    -> Result<Paged<InboxEntry>>;
    async fn unread_count(&self, user_id: i64) -> Result<i64>;
    async fn history(&self, kind: EntityKind, id: i64) -> Result<Vec<HistoryEntry>>;
    /// When `user_id` last looked at each of `ticket_ids` (those they ever looked at).
    async fn ticket_reads(&self, user_id: i64, ticket_ids: &[i64]) -> Result<Vec<(i64, String)>>;

    async fn equipment_list(&self, query: &EquipmentQuery, page: Page) -> Result<Paged<Equipment>>;
    async fn equipment(&self, id: i64) -> Result<Option<Equipment>>;
    async fn locations(&self) -> Result<Vec<Location>>;
    async fn categories(&self, scope: Option<CategoryScope>) -> Result<Vec<Category>>;

    // Teams (`crate::teams`).
    /// Every team with its members, by name.
    async fn teams(&self) -> Result<Vec<Team>>;
    async fn team(&self, id: i64) -> Result<Option<Team>>;

    async fn articles(&self, query: &ArticleQuery, page: Page) -> Result<Paged<Article>>;
    async fn article(&self, id: i64) -> Result<Option<Article>>;

    /// Notifications for an actor (`None`: every notification, for admins managing
    /// them), newest first, only those active at `now` (unexpired, not withdrawn) unless
    /// `with_expired`.
    async fn notifications(
        &self,
        actor: Option<&User>,
        now: &str,
        with_expired: bool,
        page: Page,
    ) -> Result<Paged<Notification>>;

    // E-mail (`crate::mail`).
    async fn mail_opt_outs(&self, user_id: i64) -> Result<Vec<MailKind>>;
    /// The oldest mail due at `now` that no live claim holds, claimed for `owner` until
    /// `until` (an attempt more). Two claimers never get the same mail: PostgreSQL
    /// skips a row another claim has locked, SQLite has one writer.
    async fn claim_mail(&self, owner: &str, now: &str, until: &str) -> Result<Option<OutboxMail>>;
    /// Records how an attempt of `owner`'s went; `false` when its claim was lost.
    async fn record_delivery(
        &self,
        id: i64,
        owner: &str,
        now: &str,
        delivery: &Delivery,
    ) -> Result<bool>;
    /// The outbox after `after_id`, oldest first.
    async fn mail_outbox(&self, after_id: i64, limit: i64) -> Result<Vec<OutboxMail>>;
}

/// A change in progress. Dropping it without `commit` rolls it back.
#[async_trait]
pub trait Transaction: Send {
    async fn user(&mut self, id: i64) -> Result<Option<User>>;
    /// Inserts `user` (its id, version and joined names are ignored).
    async fn insert_user(&mut self, user: &User, password_hash: &str) -> Result<i64>;
    /// Writes the editable fields, bumps the version.
    async fn update_user(&mut self, user: &User, actor_id: i64) -> Result<()>;
    async fn set_password(&mut self, user_id: i64, password_hash: &str) -> Result<()>;
    async fn record_login(&mut self, user_id: i64, at: &str) -> Result<()>;
    async fn count_users(&mut self) -> Result<i64>;

    async fn insert_session(&mut self, session: &Session) -> Result<()>;
    async fn delete_session(&mut self, token_hash: &str) -> Result<bool>;
    /// Ends every session of the user but `except` (a token hash).
    async fn delete_sessions_of(&mut self, user_id: i64, except: Option<&str>) -> Result<()>;
    async fn insert_login_attempt(&mut self, key: &str, at: &str) -> Result<i64>;
    async fn delete_login_attempts(&mut self, ids: &[i64]) -> Result<()>;
    /// Forgets the login attempts before `before`.
    async fn forget_login_attempts(&mut self, before: &str) -> Result<()>;
    async fn insert_api_token(
        &mut self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        at: &str,
    ) -> Result<i64>;
    async fn delete_api_token(&mut self, user_id: i64, id: i64) -> Result<bool>;

    async fn location(&mut self, id: i64) -> Result<Option<Location>>;
    async fn insert_location(&mut self, location: &Location) -> Result<i64>;
    async fn category(&mut self, id: i64) -> Result<Option<Category>>;
    async fn insert_category(&mut self, category: &Category) -> Result<i64>;

    // Teams (`crate::teams`).
    /// The team with its members, locked against concurrent changes (and round-robin
    /// choices) until commit.
    async fn team(&mut self, id: i64) -> Result<Option<Team>>;
    /// Inserts `team` (its id, members and joined names are ignored).
    async fn insert_team(&mut self, team: &Team, actor_id: i64) -> Result<i64>;
    /// Writes the editable fields, bumps the version.
    async fn update_team(&mut self, team: &Team, actor_id: i64) -> Result<()>;
    /// Makes `user_ids` the team's members.
    async fn set_team_members(&mut self, team_id: i64, user_ids: &[i64]) -> Result<()>;
    /// The team's members who are active agents or admins, in id order: whom
    /// round-robin chooses from.
    async fn available_team_members(&mut self, team_id: i64) -> Result<Vec<i64>>;
    async fn set_team_last_assigned(&mut self, team_id: i64, user_id: i64) -> Result<()>;

    /// The ticket, locked against concurrent changes until commit.
    async fn ticket(&mut self, id: i64) -> Result<Option<Ticket>>;
    async fn insert_ticket(&mut self, ticket: &Ticket) -> Result<i64>;
    async fn update_ticket(&mut self, ticket: &Ticket, actor_id: i64) -> Result<()>;
    async fn insert_comment(&mut self, comment: &Comment) -> Result<i64>;
    async fn comment(&mut self, id: i64) -> Result<Option<Comment>>;

    /// Inserts `attachment` (its id, uploader name and `internal` are ignored).
    async fn insert_attachment(&mut self, attachment: &Attachment) -> Result<i64>;
    async fn attachment(&mut self, id: i64) -> Result<Option<Attachment>>;
    async fn delete_attachment(&mut self, id: i64) -> Result<()>;
    /// Locks the stored file `sha256` until the transaction ends: the sweeper and a
    /// change recording the file take it, so that neither sees the other half done.
    async fn lock_file(&mut self, sha256: &str) -> Result<()>;
    /// Whether any attachment records the stored file `sha256`.
    async fn file_in_use(&mut self, sha256: &str) -> Result<bool>;

    /// One inbox entry for each active recipient but the entry's actor.
    async fn insert_inbox_entries(
        &mut self,
        recipients: &Recipients,
        entry: &NewEntry,
    ) -> Result<()>;
    /// Marks the user's unread entries read (those of `ids`, or all); how many changed.
    async fn mark_inbox_read(&mut self, user_id: i64, ids: Option<&[i64]>, at: &str)
    -> Result<u64>;
    async fn unread_count(&mut self, user_id: i64) -> Result<i64>;

    async fn equipment(&mut self, id: i64) -> Result<Option<Equipment>>;
    async fn insert_equipment(&mut self, equipment: &Equipment, actor_id: i64) -> Result<i64>;
    async fn update_equipment(&mut self, equipment: &Equipment, actor_id: i64) -> Result<()>;

    async fn article(&mut self, id: i64) -> Result<Option<Article>>;
    async fn insert_article(&mut self, article: &Article) -> Result<i64>;
    async fn update_article(&mut self, article: &Article, actor_id: i64) -> Result<()>;

    async fn insert_notification(&mut self, notification: &Notification) -> Result<i64>;
    async fn notification(&mut self, id: i64) -> Result<Option<Notification>>;
    async fn withdraw_notification(&mut self, id: i64, at: &str) -> Result<()>;

    async fn insert_history(&mut self, entries: &[NewHistory]) -> Result<()>;
    /// The entries that produced versions after `version` of the object, oldest first.
    async fn history_since(
        &mut self,
        kind: EntityKind,
        id: i64,
        version: i64,
    ) -> Result<Vec<HistoryEntry>>;
    /// Remembers that `user_id` looked at the ticket at `at`.
    async fn mark_ticket_read(&mut self, user_id: i64, ticket_id: i64, at: &str) -> Result<()>;

    // E-mail (`crate::mail`).
    /// The person with their e-mail preferences (not locked: nothing about them changes).
    async fn mail_recipient(&mut self, user_id: i64) -> Result<Option<MailRecipient>>;
    /// The Message-IDs of the mails about the ticket to `address`, oldest first: the
    /// thread a new one continues.
    async fn mail_thread(&mut self, ticket_id: i64, address: &str) -> Result<Vec<String>>;
    /// Puts a mail into the outbox (its id and delivery fields are ignored).
    async fn insert_mail(&mut self, mail: &OutboxMail) -> Result<i64>;
    async fn set_mail_opt_outs(&mut self, user_id: i64, kinds: &[MailKind]) -> Result<()>;
    /// Records an incoming message's id; `false` if it was received before.
    async fn remember_received_mail(&mut self, message_id: &str, at: &str) -> Result<bool>;

    /// Appends the change's events to the hub's log, in order, and commits. Only the
    /// desk's change path holds the boxed transaction this needs (services get
    /// `&mut dyn Transaction`), so no service commits without its event. Appending
    /// last matters on PostgreSQL: the log's lock is held from the append to the end.
    async fn commit(self: Box<Self>, events: &[NewEvent]) -> Result<()>;
}

/// What differs between the databases; the shared body (`body.rs`) asks these hooks
/// and nothing else.
pub(crate) trait Dialect {
    type Db: sqlx::Database;

    /// Where reads go (SQLite: its read pool).
    fn reader(&self) -> &Pool<Self::Db>;
    /// Where changes and migrations go (SQLite: its single writer connection).
    fn writer(&self) -> &Pool<Self::Db>;
    /// This backend's migrations folder.
    fn migrator() -> Migrator;
    /// SQL for the database's clock in the stored format (see `crate::timestamps`).
    const NOW: &'static str;
    /// What follows a transaction's `SELECT … WHERE alias.id = $1` of a row it is about
    /// to change, so that a concurrent change waits for this one.
    fn lock_row(alias: &str) -> String;
    /// Takes a lock named `key` until the transaction ends.
    async fn lock_named(
        conn: &mut <Self::Db as sqlx::Database>::Connection,
        key: &str,
    ) -> Result<()>;
    /// What follows a subquery choosing rows to claim, so that concurrent claimers
    /// pass over each other's rows instead of waiting for them.
    const SKIP_LOCKED: &'static str;
    /// Appends the change's event to the hub's log inside the transaction.
    async fn append(
        conn: &mut <Self::Db as sqlx::Database>::Connection,
        event: &NewEvent,
    ) -> Result<i64>;
    /// The text of a knowledge-base search as this database's full-text query; `None`
    /// when it has no words to search for.
    fn article_search(text: &str) -> Option<String>;
    /// Pushes, after `FROM articles ar`, the join and `WHERE` that keep the articles
    /// matching `search` (further conditions follow with `AND`).
    fn push_article_match(qb: &mut QueryBuilder<'_, Self::Db>, search: &str);
    /// Pushes the `ORDER BY` of search results, best match first.
    fn push_article_rank(qb: &mut QueryBuilder<'_, Self::Db>, search: &str);
    /// Pushes the condition (after `AND`) that keeps the tickets whose stored
    /// lower-cased text contains `text`, lower-cased: what `LIKE '%…%'` keeps, through
    /// the database's trigram index.
    fn push_ticket_search(qb: &mut QueryBuilder<'_, Self::Db>, text: &str);
    /// SQL that makes `table`'s next generated id follow the ids a bulk load chose
    /// itself; `None` where the database does that on its own.
    fn follow_explicit_ids(table: &str) -> Option<String>;
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`, lower-cases, and wraps the text
/// in `%…%`.
pub(crate) fn like_pattern(text: &str) -> String {
    like_pattern_as_typed(&text.to_lowercase())
}

/// [`like_pattern`] without folding case.
pub(crate) fn like_pattern_as_typed(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The columns of a ticket with the names of what it refers to; the same SQL on both
/// backends (no placeholders).
pub(crate) const TICKET_SELECT: &str = "SELECT t.id, t.title, t.description, t.type AS ticket_type, \
    t.status, t.priority, t.category_id, c.name AS category_name, \
    t.requester_id, r.name AS requester_name, t.assignee_id, a.name AS assignee_name, \
    t.equipment_id, e.inventory_number AS equipment_inventory_number, e.name AS equipment_name, \
    t.resolution, t.created_at, t.updated_at, t.resolved_at, t.closed_at, \
    t.version, t.updated_by, ub.name AS updated_by_name, \
    t.requester_replied_at, t.staff_replied_at, t.team_id, tt.name AS team_name \
    FROM tickets t JOIN users r ON r.id = t.requester_id \
    LEFT JOIN teams tt ON tt.id = t.team_id \
    LEFT JOIN users a ON a.id = t.assignee_id \
    LEFT JOIN categories c ON c.id = t.category_id \
    LEFT JOIN equipment e ON e.id = t.equipment_id \
    LEFT JOIN users ub ON ub.id = t.updated_by";

/// A team's columns with its lead's name (members are read apart: `TEAM_MEMBERS_SQL`).
pub(crate) const TEAM_SELECT: &str = "SELECT tm.id, tm.name, tm.lead_id, l.name AS lead_name, \
    tm.auto_assign, tm.active, tm.created_at, tm.updated_at, tm.version, \
    ub.name AS updated_by_name, tm.last_assigned_id \
    FROM teams tm LEFT JOIN users l ON l.id = tm.lead_id \
    LEFT JOIN users ub ON ub.id = tm.updated_by";

/// `(team_id, id, name)` of the members of team `$1` (NULL: of every team), by name.
pub(crate) const TEAM_MEMBERS_SQL: &str = "SELECT m.team_id, u.id, u.name \
    FROM team_members m JOIN users u ON u.id = m.user_id \
    WHERE ($1 IS NULL OR m.team_id = $1) ORDER BY u.name, u.id";

/// A user's columns, as `u`; queries that need more (the password hash, a session's
/// CSRF token) list theirs before these.
pub(crate) const USER_COLUMNS: &str = "u.id, u.name, u.email, u.role, u.status, u.locale, \
    u.created_at, u.last_login_at, u.version, u.updated_by, ub.name AS updated_by_name";

pub(crate) const USER_FROM: &str = "FROM users u LEFT JOIN users ub ON ub.id = u.updated_by";

pub(crate) const EQUIPMENT_SELECT: &str = "SELECT q.id, q.inventory_number, q.name, q.kind, q.serial, \
    q.status, q.location_id, l.name AS location_name, l.building AS location_building, \
    l.room AS location_room, q.assigned_user_id, au.name AS assigned_user_name, q.notes, \
    q.created_at, q.updated_at, q.version, q.updated_by, ub.name AS updated_by_name \
    FROM equipment q LEFT JOIN locations l ON l.id = q.location_id \
    LEFT JOIN users au ON au.id = q.assigned_user_id \
    LEFT JOIN users ub ON ub.id = q.updated_by";

/// What the equipment list's filters read (the search looks at the holder and the
/// location too): the joins of [`EQUIPMENT_SELECT`] without the last editor's.
pub(crate) const EQUIPMENT_FROM: &str = "equipment q LEFT JOIN locations l ON l.id = q.location_id \
    LEFT JOIN users au ON au.id = q.assigned_user_id";

pub(crate) const ARTICLE_SELECT: &str = "SELECT ar.id, ar.title, ar.body, ar.category_id, \
    c.name AS category_name, ar.visibility, ar.author_id, au.name AS author_name, \
    ar.created_at, ar.updated_at, ar.version, ar.updated_by, ub.name AS updated_by_name \
    FROM articles ar LEFT JOIN categories c ON c.id = ar.category_id \
    JOIN users au ON au.id = ar.author_id \
    LEFT JOIN users ub ON ub.id = ar.updated_by";

pub(crate) const COMMENT_SELECT: &str = "SELECT cm.id, cm.ticket_id, cm.author_id, \
    u.name AS author_name, u.role AS author_role, cm.body, cm.internal, cm.created_at \
    FROM ticket_comments cm JOIN users u ON u.id = cm.author_id";

/// An attachment with its uploader's name and whether its comment is internal.
pub(crate) const ATTACHMENT_SELECT: &str = "SELECT f.id, f.name, f.size, f.content_type, \
    f.sha256, f.created_at, f.ticket_id, f.comment_id, f.article_id, f.uploader_id, \
    u.name AS uploader_name, COALESCE(cm.internal, FALSE) AS internal \
    FROM attachments f JOIN users u ON u.id = f.uploader_id \
    LEFT JOIN ticket_comments cm ON cm.id = f.comment_id";

/// An inbox entry with the name of whoever made the change.
pub(crate) const INBOX_SELECT: &str = "SELECT ie.id, ie.kind, ie.title, ie.ticket_id, \
    ie.created_at, ie.read_at, u.name AS actor_name \
    FROM inbox_entries ie LEFT JOIN users u ON u.id = ie.actor_id";

pub(crate) const NOTIFICATION_SELECT: &str = "SELECT n.id, n.title, n.message, n.level, \
    n.audience, n.audience_user_id, n.author_id, u.name AS author_name, n.created_at, n.expires_at, \
    n.withdrawn_at FROM notifications n LEFT JOIN users u ON u.id = n.author_id";

/// An outbox row's columns (`crate::mail::OutboxMail`).
pub(crate) const OUTBOX_COLUMNS: &str = "id, message_id, kind, ticket_id, recipient_id, \
    from_address, to_address, message, attempts, created_at, next_attempt_at, sent_at, \
    failed_at, last_error, claimed_by";

pub(crate) const HISTORY_SELECT: &str = "SELECT h.id, h.entity_kind, h.entity_id, h.actor_id, \
    u.name AS actor_name, h.field, h.old_value, h.new_value, h.at, h.version \
    FROM history h LEFT JOIN users u ON u.id = h.actor_id";

/// Open tickets whose last public comment is the requester's: waiting for IT to answer
/// («Ждёт ответа ИТ»). Over tickets as `t`.
pub(crate) const AWAITING_STAFF: &str = "t.status IN ('new', 'in_progress', 'waiting') \
    AND t.requester_replied_at IS NOT NULL \
    AND (t.staff_replied_at IS NULL OR t.requester_replied_at > t.staff_replied_at)";

/// Counts per status and the other cards over every ticket, for staff: the statuses'
/// counts from `ticket_counts` (kept by triggers), the rest through indexes, so that no
/// card counts a million rows (`$1`: the actor, `$2`: where today starts).
pub(crate) fn stats_all_sql() -> String {
    format!(
        "SELECT \
    (SELECT CAST(COALESCE(SUM(tickets), 0) AS BIGINT) FROM ticket_counts) AS total, \
    (SELECT CAST(COALESCE(SUM(tickets), 0) AS BIGINT) FROM ticket_counts \
        WHERE status IN ('new', 'in_progress', 'waiting')) AS open, \
    (SELECT tickets FROM ticket_counts WHERE status = 'new') AS new, \
    (SELECT tickets FROM ticket_counts WHERE status = 'in_progress') AS in_progress, \
    (SELECT tickets FROM ticket_counts WHERE status = 'waiting') AS waiting, \
    (SELECT tickets FROM ticket_counts WHERE status = 'resolved') AS resolved, \
    (SELECT tickets FROM ticket_counts WHERE status = 'closed') AS closed, \
    (SELECT COUNT(*) FROM tickets WHERE status IN ('new', 'in_progress', 'waiting') \
        AND assignee_id IS NULL) AS unassigned, \
    (SELECT COUNT(*) FROM tickets WHERE assignee_id = $1 \
        AND status IN ('new', 'in_progress', 'waiting')) AS mine, \
    (SELECT COUNT(*) FROM tickets WHERE created_at >= $2) AS created_today, \
    (SELECT COUNT(*) FROM tickets t WHERE {AWAITING_STAFF}) AS awaiting_staff, \
    (SELECT COUNT(*) FROM tickets WHERE resolved_at >= $2) AS resolved_today"
    )
}

/// How many tickets have status `$1` (NULL: all), from `ticket_counts`.
pub(crate) const COUNT_BY_STATUS_SQL: &str = "SELECT CAST(COALESCE(SUM(tickets), 0) AS BIGINT) \
    FROM ticket_counts WHERE ($1 IS NULL OR status = $1)";

/// Counts per status and the other cards, over the tickets of `$1` (NULL: all).
pub(crate) fn stats_sql() -> String {
    format!(
        "SELECT COUNT(*) AS total, \
        COUNT(*) FILTER (WHERE status IN ('new', 'in_progress', 'waiting')) AS open, \
        COUNT(*) FILTER (WHERE status = 'new') AS new, \
        COUNT(*) FILTER (WHERE status = 'in_progress') AS in_progress, \
        COUNT(*) FILTER (WHERE status = 'waiting') AS waiting, \
        COUNT(*) FILTER (WHERE status = 'resolved') AS resolved, \
        COUNT(*) FILTER (WHERE status = 'closed') AS closed, \
        COUNT(*) FILTER (WHERE assignee_id IS NULL AND status IN ('new', 'in_progress', 'waiting')) AS unassigned, \
        COUNT(*) FILTER (WHERE (assignee_id = $2 OR ($1 IS NOT NULL AND requester_id = $2)) \
            AND status IN ('new', 'in_progress', 'waiting')) AS mine, \
        COUNT(*) FILTER (WHERE {AWAITING_STAFF}) AS awaiting_staff, \
        COUNT(*) FILTER (WHERE created_at >= $3) AS created_today, \
        COUNT(*) FILTER (WHERE resolved_at >= $3) AS resolved_today \
        FROM tickets t WHERE ($1 IS NULL OR requester_id = $1)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_fold_case() {
        assert_eq!(like_pattern("50%_Off"), "%50\\%\\_off%");
        assert_eq!(like_pattern("Принтер"), "%принтер%");
    }

    #[test]
    fn pages_are_clamped_to_sane_values() {
        let page = Page::new(Some(0), Some(10_000));
        assert_eq!(
            page,
            Page {
                page: 1,
                per_page: 200
            }
        );
        assert_eq!(Page::new(Some(3), Some(10)).offset(), 20);
    }
}
