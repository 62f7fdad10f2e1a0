//! The one body of both backends: every query, written once in SQL that SQLite and
//! PostgreSQL both accept. This file is compiled once per backend, as the `body` module
//! of `sqlite.rs` and of `postgres.rs` (`#[path = "body.rs"] mod body;`); there
//! `super::Store` is that backend's storage type, and what differs between the two
//! databases is asked of its [`Dialect`] hooks. Why this and not a macro or a generic
//! over `sqlx::Database`: docs/architecture.md, "One storage body".

use async_trait::async_trait;
use ictdesk_hub::NewEvent;
use sqlx::{Database, QueryBuilder};

use super::Store;
use crate::{
    articles::{Article, ArticleQuery},
    attachments::Attachment,
    categories::{Category, CategoryScope},
    comments::Comment,
    equipment::{Equipment, EquipmentQuery},
    error::{Error, Result, unique_as_field},
    history::{EntityKind, HistoryEntry, NewHistory},
    inbox::{InboxEntry, NewEntry, Recipients},
    locations::Location,
    mail::{MailKind, MailRecipient, OutboxMail, delivery::Delivery},
    notifications::{Notification, NotificationRow},
    storage::{
        ARTICLE_SELECT, ATTACHMENT_SELECT, AWAITING_STAFF, ActiveSession, COMMENT_SELECT,
        COUNT_BY_STATUS_SQL, Dialect, EQUIPMENT_FROM, EQUIPMENT_SELECT, HISTORY_SELECT,
        INBOX_SELECT, LoginRow, NOTIFICATION_SELECT, OUTBOX_COLUMNS, Page, Paged, Storage,
        TEAM_MEMBERS_SQL, TEAM_SELECT, TICKET_SELECT, Transaction, USER_COLUMNS, USER_FROM,
        like_pattern, like_pattern_as_typed, stats_all_sql, stats_sql,
    },
    teams::{Team, TeamMember},
    tickets::{Ticket, TicketOrder, TicketQuery, TicketStats},
    users::{ApiToken, Session, User, UserQuery},
};

type Db = <Store as Dialect>::Db;
type Builder<'a> = QueryBuilder<'a, Db>;

/// A change in progress on this backend's writer.
pub struct BodyTransaction {
    tx: sqlx::Transaction<'static, Db>,
}

impl BodyTransaction {
    fn conn(&mut self) -> &mut <Db as Database>::Connection {
        &mut self.tx
    }
}

impl Store {
    /// One page of a list: the rows of `select` that `filter` keeps, in the order
    /// `order` pushes, and how many there are in all (counted over `from` with the same
    /// filter).
    async fn page_of<'a, T>(
        &self,
        from: &str,
        select: &str,
        filter: impl Fn(&mut Builder<'a>),
        order: impl FnOnce(&mut Builder<'a>),
        page: Page,
    ) -> Result<Paged<T>>
    where
        T: for<'r> sqlx::FromRow<'r, <Db as Database>::Row> + Send + Unpin,
    {
        let mut count = QueryBuilder::new(format!("SELECT COUNT(*) FROM {from}"));
        filter(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(self.reader()).await?;
        let items = self.rows_of(select, filter, order, page).await?;
        Ok(Paged::new(items, total, page))
    }

    /// The rows of one page: [`Store::page_of`] without counting.
    async fn rows_of<'a, T>(
        &self,
        select: &str,
        filter: impl Fn(&mut Builder<'a>),
        order: impl FnOnce(&mut Builder<'a>),
        page: Page,
    ) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, <Db as Database>::Row> + Send + Unpin,
    {
        let mut list = QueryBuilder::new(select);
        filter(&mut list);
        order(&mut list);
        list.push(" LIMIT ")
            .push_bind(page.limit())
            .push(" OFFSET ")
            .push_bind(page.offset());
        Ok(list.build_query_as().fetch_all(self.reader()).await?)
    }
}

const UNREAD_SQL: &str =
    "SELECT COUNT(*) FROM inbox_entries WHERE user_id = $1 AND read_at IS NULL";

/// An `order` for [`Store::page_of`] without binds.
fn order_by<'a>(sql: &'static str) -> impl FnOnce(&mut Builder<'a>) {
    move |qb| {
        qb.push(sql);
    }
}

#[async_trait]
impl Storage for Store {
    async fn migrate(&self) -> Result<()> {
        let mut migrator = Store::migrator();
        // The hub keeps its own migrations in the same database.
        migrator.set_ignore_missing(true);
        migrator.run(self.writer()).await?;
        Ok(())
    }

    async fn begin(&self) -> Result<Box<dyn Transaction>> {
        let tx = self.writer().begin().await?;
        Ok(Box::new(BodyTransaction { tx }))
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} {USER_FROM} WHERE u.id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} {USER_FROM} WHERE u.email = $1");
        Ok(sqlx::query_as(&sql)
            .bind(email)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn user_for_login(&self, email: &str) -> Result<Option<LoginRow>> {
        let sql = format!("SELECT u.password_hash, {USER_COLUMNS} {USER_FROM} WHERE u.email = $1");
        Ok(sqlx::query_as(&sql)
            .bind(email)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn users(&self, query: &UserQuery, page: Page) -> Result<Paged<User>> {
        let filter = |qb: &mut Builder<'_>| {
            qb.push(" WHERE 1 = 1");
            if let Some(role) = query.role {
                qb.push(" AND u.role = ").push_bind(role.as_str());
            }
            if let Some(status) = query.status {
                qb.push(" AND u.status = ").push_bind(status.as_str());
            }
            if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
                // lower() folds ASCII only here, so a name is also matched as typed
                // ("Иван" finds "Иван Петров").
                qb.push(" AND (u.email LIKE ")
                    .push_bind(like_pattern(q.trim()))
                    .push(" ESCAPE '\\' OR lower(u.name) LIKE ")
                    .push_bind(like_pattern(q.trim()))
                    .push(" ESCAPE '\\' OR u.name LIKE ")
                    .push_bind(like_pattern_as_typed(q.trim()))
                    .push(" ESCAPE '\\')");
            }
        };
        self.page_of(
            "users u",
            &format!("SELECT {USER_COLUMNS} {USER_FROM}"),
            filter,
            order_by(" ORDER BY u.name, u.id"),
            page,
        )
        .await
    }

    async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.reader())
            .await?)
    }

    async fn now(&self) -> Result<String> {
        Ok(sqlx::query_scalar(&format!("SELECT {}", Store::NOW))
            .fetch_one(self.reader())
            .await?)
    }

    async fn session(&self, token_hash: &str) -> Result<Option<ActiveSession>> {
        let sql = format!(
            "SELECT s.csrf_token, s.expires_at, {USER_COLUMNS} {USER_FROM} \
             JOIN sessions s ON s.user_id = u.id \
             WHERE s.token_hash = $1 AND s.expires_at > {} AND u.status = 'active'",
            Store::NOW
        );
        Ok(sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} {USER_FROM} JOIN api_tokens t ON t.user_id = u.id WHERE t.token_hash = $1 AND u.status = 'active'"
        );
        Ok(sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn login_attempts(&self, key: &str, since: &str, newest: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT at FROM login_attempts WHERE key = $1 AND at > $2 ORDER BY at DESC LIMIT $3",
        )
        .bind(key)
        .bind(since)
        .bind(newest)
        .fetch_all(self.reader())
        .await?)
    }

    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        Ok(sqlx::query_as(
            "SELECT id, user_id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(self.reader())
        .await?)
    }

    async fn tickets(&self, query: &TicketQuery, page: Page) -> Result<Paged<Ticket>> {
        let filter = |qb: &mut Builder<'_>| push_ticket_filters(qb, query);
        let order = order_by(ticket_order(query.order));
        // The whole list, or one status of it: counted by the triggers, not row by row.
        let by_status_only = TicketQuery {
            statuses: query.statuses.clone(),
            order: query.order,
            ..TicketQuery::default()
        };
        if query.statuses.len() > 1 || *query != by_status_only {
            return self
                .page_of("tickets t", TICKET_SELECT, filter, order, page)
                .await;
        }
        let total = sqlx::query_scalar(COUNT_BY_STATUS_SQL)
            .bind(query.statuses.first().map(|status| status.as_str()))
            .fetch_one(self.reader())
            .await?;
        let items = self.rows_of(TICKET_SELECT, filter, order, page).await?;
        Ok(Paged::new(items, total, page))
    }

    async fn ticket_stats(
        &self,
        requester_id: Option<i64>,
        me: i64,
        day_start: &str,
    ) -> Result<TicketStats> {
        let (all, some) = (stats_all_sql(), stats_sql());
        let stats = match requester_id {
            None => sqlx::query_as(&all).bind(me).bind(day_start),
            Some(_) => sqlx::query_as(&some)
                .bind(requester_id)
                .bind(me)
                .bind(day_start),
        };
        Ok(stats.fetch_one(self.reader()).await?)
    }

    async fn ticket(&self, id: i64) -> Result<Option<Ticket>> {
        let sql = format!("{TICKET_SELECT} WHERE t.id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn comments(&self, ticket_id: i64, with_internal: bool) -> Result<Vec<Comment>> {
        let sql = format!(
            "{COMMENT_SELECT} WHERE cm.ticket_id = $1 AND (NOT cm.internal OR $2) ORDER BY cm.id"
        );
        Ok(sqlx::query_as(&sql)
            .bind(ticket_id)
            .bind(with_internal)
            .fetch_all(self.reader())
            .await?)
    }

    async fn attachment(&self, id: i64) -> Result<Option<Attachment>> {
        let sql = format!("{ATTACHMENT_SELECT} WHERE f.id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn ticket_attachments(
        &self,
        ticket_id: i64,
        with_internal: bool,
    ) -> Result<Vec<Attachment>> {
        let sql = format!(
            "{ATTACHMENT_SELECT} WHERE f.ticket_id = $1 \
             AND ($2 OR COALESCE(cm.internal, FALSE) = FALSE) ORDER BY f.id"
        );
        Ok(sqlx::query_as(&sql)
            .bind(ticket_id)
            .bind(with_internal)
            .fetch_all(self.reader())
            .await?)
    }

    async fn article_attachments(&self, article_id: i64) -> Result<Vec<Attachment>> {
        let sql = format!("{ATTACHMENT_SELECT} WHERE f.article_id = $1 ORDER BY f.id");
        Ok(sqlx::query_as(&sql)
            .bind(article_id)
            .fetch_all(self.reader())
            .await?)
    }

    async fn inbox(
        &self,
        user_id: i64,
        unread_only: bool,
        page: Page,
    ) -> Result<Paged<InboxEntry>> {
        let filter = move |qb: &mut Builder<'_>| {
            qb.push(" WHERE ie.user_id = ").push_bind(user_id);
            if unread_only {
                qb.push(" AND ie.read_at IS NULL");
            }
        };
        self.page_of(
            "inbox_entries ie",
            INBOX_SELECT,
            filter,
            order_by(" ORDER BY ie.id DESC"),
            page,
        )
        .await
    }

    async fn unread_count(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(UNREAD_SQL)
            .bind(user_id)
            .fetch_one(self.reader())
            .await?)
    }

    async fn history(&self, kind: EntityKind, id: i64) -> Result<Vec<HistoryEntry>> {
        let sql =
            format!("{HISTORY_SELECT} WHERE h.entity_kind = $1 AND h.entity_id = $2 ORDER BY h.id");
        Ok(sqlx::query_as(&sql)
            .bind(kind.as_str())
            .bind(id)
            .fetch_all(self.reader())
            .await?)
    }

    async fn ticket_reads(&self, user_id: i64, ticket_ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ticket_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = Builder::new("SELECT ticket_id, read_at FROM ticket_reads WHERE user_id = ");
        qb.push_bind(user_id).push(" AND ticket_id IN (");
        let mut ids = qb.separated(", ");
        for id in ticket_ids {
            ids.push_bind(*id);
        }
        qb.push(")");
        Ok(qb.build_query_as().fetch_all(self.reader()).await?)
    }

    async fn equipment_list(&self, query: &EquipmentQuery, page: Page) -> Result<Paged<Equipment>> {
        self.page_of(
            EQUIPMENT_FROM,
            EQUIPMENT_SELECT,
            |qb| push_equipment_filters(qb, query),
            order_by(" ORDER BY q.inventory_number"),
            page,
        )
        .await
    }

    async fn equipment(&self, id: i64) -> Result<Option<Equipment>> {
        let sql = format!("{EQUIPMENT_SELECT} WHERE q.id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn locations(&self) -> Result<Vec<Location>> {
        Ok(sqlx::query_as(
            "SELECT id, name, building, room FROM locations ORDER BY building, room, name",
        )
        .fetch_all(self.reader())
        .await?)
    }

    async fn categories(&self, scope: Option<CategoryScope>) -> Result<Vec<Category>> {
        Ok(sqlx::query_as(
            "SELECT id, name, scope, active, default_team_id FROM categories \
             WHERE ($1 IS NULL OR scope = $1) ORDER BY scope, name",
        )
        .bind(scope.map(CategoryScope::as_str))
        .fetch_all(self.reader())
        .await?)
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        let mut teams: Vec<Team> = sqlx::query_as(&format!("{TEAM_SELECT} ORDER BY tm.name"))
            .fetch_all(self.reader())
            .await?;
        let members: Vec<(i64, i64, String)> = sqlx::query_as(TEAM_MEMBERS_SQL)
            .bind(None::<i64>)
            .fetch_all(self.reader())
            .await?;
        for (team_id, id, name) in members {
            if let Some(team) = teams.iter_mut().find(|team| team.id == team_id) {
                team.members.push(TeamMember { id, name });
            }
        }
        Ok(teams)
    }

    async fn team(&self, id: i64) -> Result<Option<Team>> {
        let team: Option<Team> = sqlx::query_as(&format!("{TEAM_SELECT} WHERE tm.id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        let Some(mut team) = team else {
            return Ok(None);
        };
        team.members = members_of(
            sqlx::query_as(TEAM_MEMBERS_SQL)
                .bind(Some(id))
                .fetch_all(self.reader())
                .await?,
        );
        Ok(Some(team))
    }

    async fn articles(&self, query: &ArticleQuery, page: Page) -> Result<Paged<Article>> {
        let search = query.q.as_deref().and_then(Store::article_search);
        let filter = |qb: &mut Builder<'_>| {
            match &search {
                Some(search) => Store::push_article_match(qb, search),
                None => {
                    qb.push(" WHERE 1 = 1");
                }
            }
            if !query.with_agents_only {
                qb.push(" AND ar.visibility = 'everyone'");
            }
            if let Some(category_id) = query.category_id {
                qb.push(" AND ar.category_id = ").push_bind(category_id);
            }
        };
        let order = |qb: &mut Builder<'_>| match &search {
            Some(search) => Store::push_article_rank(qb, search),
            None => {
                qb.push(" ORDER BY ar.updated_at DESC, ar.id DESC");
            }
        };
        self.page_of("articles ar", ARTICLE_SELECT, filter, order, page)
            .await
    }

    async fn article(&self, id: i64) -> Result<Option<Article>> {
        let sql = format!("{ARTICLE_SELECT} WHERE ar.id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn notifications(
        &self,
        actor: Option<&User>,
        now: &str,
        with_expired: bool,
        page: Page,
    ) -> Result<Paged<Notification>> {
        let filter = |qb: &mut Builder<'_>| {
            qb.push(" WHERE 1 = 1");
            if !with_expired {
                qb.push(" AND n.withdrawn_at IS NULL AND (n.expires_at IS NULL OR n.expires_at > ")
                    .push_bind(now.to_owned())
                    .push(")");
            }
            if let Some(actor) = actor {
                qb.push(" AND (n.audience = 'everyone' OR (n.audience = 'agents' AND ")
                    .push_bind(actor.role.is_staff())
                    .push(") OR (n.audience = 'admins' AND ")
                    .push_bind(actor.role.is_admin())
                    .push(") OR (n.audience = 'user' AND n.audience_user_id = ")
                    .push_bind(actor.id)
                    .push("))");
            }
        };
        let rows: Paged<NotificationRow> = self
            .page_of(
                "notifications n",
                NOTIFICATION_SELECT,
                filter,
                order_by(" ORDER BY n.created_at DESC, n.id DESC"),
                page,
            )
            .await?;
        rows.try_map(Notification::try_from)
    }

    async fn mail_opt_outs(&self, user_id: i64) -> Result<Vec<MailKind>> {
        opt_outs(user_id, self.reader()).await
    }

    async fn claim_mail(&self, owner: &str, now: &str, until: &str) -> Result<Option<OutboxMail>> {
        let sql = format!(
            "UPDATE mail_outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox \
                 WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3 \
                 AND (claimed_until IS NULL OR claimed_until < $3) \
                 ORDER BY id LIMIT 1{}) \
             RETURNING {OUTBOX_COLUMNS}",
            Store::SKIP_LOCKED
        );
        Ok(sqlx::query_as(&sql)
            .bind(owner)
            .bind(until)
            .bind(now)
            .fetch_optional(self.writer())
            .await?)
    }

    async fn record_delivery(
        &self,
        id: i64,
        owner: &str,
        now: &str,
        delivery: &Delivery,
    ) -> Result<bool> {
        let (sent_at, failed_at, next_attempt_at, error) = match delivery {
            Delivery::Sent => (Some(now), None, None, None),
            Delivery::Retry { at, error } => (None, None, Some(at.as_str()), Some(error.as_str())),
            Delivery::Failed { error } => (None, Some(now), None, Some(error.as_str())),
        };
        let done = sqlx::query(
            "UPDATE mail_outbox SET sent_at = $1, failed_at = $2, \
             next_attempt_at = COALESCE($3, next_attempt_at), last_error = COALESCE($4, last_error), \
             claimed_until = NULL \
             WHERE id = $5 AND claimed_by = $6",
        )
        .bind(sent_at)
        .bind(failed_at)
        .bind(next_attempt_at)
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn mail_outbox(&self, after_id: i64, limit: i64) -> Result<Vec<OutboxMail>> {
        let sql =
            format!("SELECT {OUTBOX_COLUMNS} FROM mail_outbox WHERE id > $1 ORDER BY id LIMIT $2");
        Ok(sqlx::query_as(&sql)
            .bind(after_id)
            .bind(limit)
            .fetch_all(self.reader())
            .await?)
    }
}

/// Someone's switched-off kinds of mail, through `executor` (the read pool or a change).
async fn opt_outs<'e>(
    user_id: i64,
    executor: impl sqlx::Executor<'e, Database = Db>,
) -> Result<Vec<MailKind>> {
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM mail_opt_outs WHERE user_id = $1 ORDER BY kind")
            .bind(user_id)
            .fetch_all(executor)
            .await?;
    // A kind this version no longer knows is simply not offered.
    Ok(kinds
        .iter()
        .filter_map(|kind| MailKind::parse(kind).ok())
        .collect())
}

fn members_of(rows: Vec<(i64, i64, String)>) -> Vec<TeamMember> {
    rows.into_iter()
        .map(|(_, id, name)| TeamMember { id, name })
        .collect()
}

fn push_ticket_filters(qb: &mut Builder<'_>, query: &TicketQuery) {
    qb.push(" WHERE 1 = 1");
    if !query.statuses.is_empty() {
        qb.push(" AND t.status IN (");
        let mut statuses = qb.separated(", ");
        for status in &query.statuses {
            statuses.push_bind(status.as_str());
        }
        qb.push(")");
    }
    if let Some(priority) = query.priority {
        qb.push(" AND t.priority = ").push_bind(priority.as_str());
    }
    if let Some(assignee_id) = query.assignee_id {
        qb.push(" AND t.assignee_id = ").push_bind(assignee_id);
    }
    if query.unassigned {
        qb.push(" AND t.assignee_id IS NULL");
    }
    if let Some(requester_id) = query.requester_id {
        qb.push(" AND t.requester_id = ").push_bind(requester_id);
    }
    if let Some(category_id) = query.category_id {
        qb.push(" AND t.category_id = ").push_bind(category_id);
    }
    if let Some(equipment_id) = query.equipment_id {
        qb.push(" AND t.equipment_id = ").push_bind(equipment_id);
    }
    if let Some(team_id) = query.team_id {
        qb.push(" AND t.team_id = ").push_bind(team_id);
    }
    if query.awaiting_staff {
        qb.push(" AND ").push(AWAITING_STAFF);
    }
    if let Some(since) = &query.created_since {
        qb.push(" AND t.created_at >= ").push_bind(since.clone());
    }
    if let Some(since) = &query.resolved_since {
        qb.push(" AND t.resolved_at >= ").push_bind(since.clone());
    }
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        qb.push(" AND ");
        Store::push_ticket_search(qb, q.trim());
    }
}

fn ticket_order(order: TicketOrder) -> &'static str {
    match order {
        TicketOrder::Recent => " ORDER BY t.updated_at DESC, t.id DESC",
        TicketOrder::Triage => {
            " ORDER BY CASE t.priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 \
             WHEN 'medium' THEN 2 ELSE 3 END, t.created_at, t.id"
        }
        TicketOrder::OpenFirst => {
            " ORDER BY CASE WHEN t.status IN ('new', 'in_progress', 'waiting') THEN 0 ELSE 1 END, \
             t.updated_at DESC, t.id DESC"
        }
    }
}

fn push_equipment_filters(qb: &mut Builder<'_>, query: &EquipmentQuery) {
    qb.push(" WHERE 1 = 1");
    if let Some(status) = query.status {
        qb.push(" AND q.status = ").push_bind(status.as_str());
    }
    if let Some(kind) = query.kind {
        qb.push(" AND q.kind = ").push_bind(kind.as_str());
    }
    if let Some(location_id) = query.location_id {
        qb.push(" AND q.location_id = ").push_bind(location_id);
    }
    if let Some(user_id) = query.assigned_user_id {
        qb.push(" AND q.assigned_user_id = ").push_bind(user_id);
    }
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let (pattern, as_typed) = (like_pattern(q.trim()), like_pattern_as_typed(q.trim()));
        // The piece itself, its holder (`au`) and where it stands (`l`); lower() folds
        // ASCII only on SQLite, so each is also matched as typed ("Иван" finds "Иван").
        let columns = [
            "q.inventory_number",
            "q.name",
            "q.serial",
            "au.name",
            "au.email",
            "l.name",
            "l.building",
            "l.room",
        ];
        qb.push(" AND (");
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push(format!("lower({column}) LIKE "))
                .push_bind(pattern.clone())
                .push(format!(" ESCAPE '\\' OR {column} LIKE "))
                .push_bind(as_typed.clone())
                .push(" ESCAPE '\\'");
        }
        qb.push(")");
    }
}

#[async_trait]
impl Transaction for BodyTransaction {
    async fn user(&mut self, id: i64) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} {USER_FROM} WHERE u.id = $1{}",
            Store::lock_row("u")
        );
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?)
    }

    async fn insert_user(&mut self, user: &User, password_hash: &str) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO users (name, email, role, status, locale, password_hash, created_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.role.as_str())
        .bind(user.status.as_str())
        .bind(user.locale.as_str())
        .bind(password_hash)
        .bind(&user.created_at)
        .bind(user.updated_by)
        .fetch_one(self.conn())
        .await
        .map_err(unique_as_field("email", "email"))
    }

    async fn update_user(&mut self, user: &User, actor_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE users SET name = $1, email = $2, role = $3, status = $4, locale = $5, \
             version = version + 1, updated_by = $6 WHERE id = $7",
        )
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.role.as_str())
        .bind(user.status.as_str())
        .bind(user.locale.as_str())
        .bind(actor_id)
        .bind(user.id)
        .execute(self.conn())
        .await
        .map_err(unique_as_field("email", "email"))?;
        Ok(())
    }

    async fn set_password(&mut self, user_id: i64, password_hash: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn record_login(&mut self, user_id: i64, at: &str) -> Result<()> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(at)
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn count_users(&mut self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.conn())
            .await?)
    }

    async fn insert_session(&mut self, session: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.token_hash)
        .bind(session.user_id)
        .bind(&session.csrf_token)
        .bind(&session.created_at)
        .bind(&session.expires_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn delete_session(&mut self, token_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_login_attempt(&mut self, key: &str, at: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("INSERT INTO login_attempts (key, at) VALUES ($1, $2) RETURNING id")
                .bind(key)
                .bind(at)
                .fetch_one(self.conn())
                .await?,
        )
    }

    async fn delete_login_attempts(&mut self, ids: &[i64]) -> Result<()> {
        for id in ids {
            sqlx::query("DELETE FROM login_attempts WHERE id = $1")
                .bind(id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    async fn forget_login_attempts(&mut self, before: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_attempts WHERE at < $1")
            .bind(before)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn delete_sessions_of(&mut self, user_id: i64, except: Option<&str>) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2")
            .bind(user_id)
            .bind(except)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn insert_api_token(
        &mut self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        at: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(at)
        .fetch_one(self.conn())
        .await?)
    }

    async fn delete_api_token(&mut self, user_id: i64, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn location(&mut self, id: i64) -> Result<Option<Location>> {
        Ok(
            sqlx::query_as("SELECT id, name, building, room FROM locations WHERE id = $1")
                .bind(id)
                .fetch_optional(self.conn())
                .await?,
        )
    }

    async fn insert_location(&mut self, location: &Location) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO locations (name, building, room) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(&location.name)
        .bind(&location.building)
        .bind(&location.room)
        .fetch_one(self.conn())
        .await
        .map_err(unique_as_field("name", "name"))
    }

    async fn category(&mut self, id: i64) -> Result<Option<Category>> {
        Ok(sqlx::query_as(
            "SELECT id, name, scope, active, default_team_id FROM categories WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?)
    }

    async fn insert_category(&mut self, category: &Category) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO categories (name, scope, active, default_team_id) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(&category.name)
        .bind(category.scope.as_str())
        .bind(category.active)
        .bind(category.default_team_id)
        .fetch_one(self.conn())
        .await
        .map_err(unique_as_field("name", "name"))
    }

    async fn team(&mut self, id: i64) -> Result<Option<Team>> {
        let sql = format!("{TEAM_SELECT} WHERE tm.id = $1{}", Store::lock_row("tm"));
        let team: Option<Team> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        let Some(mut team) = team else {
            return Ok(None);
        };
        team.members = members_of(
            sqlx::query_as(TEAM_MEMBERS_SQL)
                .bind(Some(id))
                .fetch_all(self.conn())
                .await?,
        );
        Ok(Some(team))
    }

    async fn insert_team(&mut self, team: &Team, actor_id: i64) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO teams (name, lead_id, auto_assign, active, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&team.name)
        .bind(team.lead_id)
        .bind(team.auto_assign)
        .bind(team.active)
        .bind(&team.created_at)
        .bind(&team.updated_at)
        .bind(actor_id)
        .fetch_one(self.conn())
        .await
        .map_err(unique_as_field("name", "name"))
    }

    async fn update_team(&mut self, team: &Team, actor_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE teams SET name = $1, lead_id = $2, auto_assign = $3, active = $4, \
             updated_at = $5, updated_by = $6, version = version + 1 WHERE id = $7",
        )
        .bind(&team.name)
        .bind(team.lead_id)
        .bind(team.auto_assign)
        .bind(team.active)
        .bind(&team.updated_at)
        .bind(actor_id)
        .bind(team.id)
        .execute(self.conn())
        .await
        .map_err(unique_as_field("name", "name"))?;
        Ok(())
    }

    async fn set_team_members(&mut self, team_id: i64, user_ids: &[i64]) -> Result<()> {
        sqlx::query("DELETE FROM team_members WHERE team_id = $1")
            .bind(team_id)
            .execute(self.conn())
            .await?;
        for user_id in user_ids {
            sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
                .bind(team_id)
                .bind(user_id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    async fn available_team_members(&mut self, team_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT u.id FROM team_members m JOIN users u ON u.id = m.user_id \
             WHERE m.team_id = $1 AND u.status = 'active' AND u.role IN ('agent', 'admin') \
             ORDER BY u.id",
        )
        .bind(team_id)
        .fetch_all(self.conn())
        .await?)
    }

    async fn set_team_last_assigned(&mut self, team_id: i64, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE teams SET last_assigned_id = $1 WHERE id = $2")
            .bind(user_id)
            .bind(team_id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn ticket(&mut self, id: i64) -> Result<Option<Ticket>> {
        let sql = format!("{TICKET_SELECT} WHERE t.id = $1{}", Store::lock_row("t"));
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?)
    }

    async fn insert_ticket(&mut self, ticket: &Ticket) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO tickets (title, description, type, status, priority, category_id, requester_id, \
             assignee_id, equipment_id, resolution, search_text, created_at, updated_at, resolved_at, \
             closed_at, updated_by, requester_replied_at, staff_replied_at, team_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             RETURNING id",
        )
        .bind(&ticket.title)
        .bind(&ticket.description)
        .bind(ticket.ticket_type.as_str())
        .bind(ticket.status.as_str())
        .bind(ticket.priority.as_str())
        .bind(ticket.category_id)
        .bind(ticket.requester_id)
        .bind(ticket.assignee_id)
        .bind(ticket.equipment_id)
        .bind(&ticket.resolution)
        .bind(ticket.search_text())
        .bind(&ticket.created_at)
        .bind(&ticket.updated_at)
        .bind(&ticket.resolved_at)
        .bind(&ticket.closed_at)
        .bind(ticket.updated_by)
        .bind(&ticket.requester_replied_at)
        .bind(&ticket.staff_replied_at)
        .bind(ticket.team_id)
        .fetch_one(self.conn())
        .await?)
    }

    async fn update_ticket(&mut self, ticket: &Ticket, actor_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE tickets SET title = $1, description = $2, type = $3, status = $4, priority = $5, \
             category_id = $6, assignee_id = $7, equipment_id = $8, resolution = $9, search_text = $10, \
             updated_at = $11, resolved_at = $12, closed_at = $13, version = version + 1, updated_by = $14, \
             requester_replied_at = $15, staff_replied_at = $16, team_id = $17 WHERE id = $18",
        )
        .bind(&ticket.title)
        .bind(&ticket.description)
        .bind(ticket.ticket_type.as_str())
        .bind(ticket.status.as_str())
        .bind(ticket.priority.as_str())
        .bind(ticket.category_id)
        .bind(ticket.assignee_id)
        .bind(ticket.equipment_id)
        .bind(&ticket.resolution)
        .bind(ticket.search_text())
        .bind(&ticket.updated_at)
        .bind(&ticket.resolved_at)
        .bind(&ticket.closed_at)
        .bind(actor_id)
        .bind(&ticket.requester_replied_at)
        .bind(&ticket.staff_replied_at)
        .bind(ticket.team_id)
        .bind(ticket.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn insert_comment(&mut self, comment: &Comment) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO ticket_comments (ticket_id, author_id, body, internal, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(comment.ticket_id)
        .bind(comment.author_id)
        .bind(&comment.body)
        .bind(comment.internal)
        .bind(&comment.created_at)
        .fetch_one(self.conn())
        .await?)
    }

    async fn comment(&mut self, id: i64) -> Result<Option<Comment>> {
        let sql = format!("{COMMENT_SELECT} WHERE cm.id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?)
    }

    async fn insert_attachment(&mut self, attachment: &Attachment) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO attachments (ticket_id, comment_id, article_id, name, size, \
             content_type, sha256, uploader_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(attachment.ticket_id)
        .bind(attachment.comment_id)
        .bind(attachment.article_id)
        .bind(&attachment.name)
        .bind(attachment.size)
        .bind(&attachment.content_type)
        .bind(&attachment.sha256)
        .bind(attachment.uploader_id)
        .bind(&attachment.created_at)
        .fetch_one(self.conn())
        .await?)
    }

    async fn attachment(&mut self, id: i64) -> Result<Option<Attachment>> {
        let sql = format!("{ATTACHMENT_SELECT} WHERE f.id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?)
    }

    async fn delete_attachment(&mut self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM attachments WHERE id = $1")
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn lock_file(&mut self, sha256: &str) -> Result<()> {
        Store::lock_named(self.conn(), &format!("file:{sha256}")).await
    }

    async fn file_in_use(&mut self, sha256: &str) -> Result<bool> {
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = $1)")
                .bind(sha256)
                .fetch_one(self.conn())
                .await?,
        )
    }

    async fn insert_inbox_entries(
        &mut self,
        recipients: &Recipients,
        entry: &NewEntry,
    ) -> Result<()> {
        let mut qb = Builder::new(
            "INSERT INTO inbox_entries (user_id, kind, title, ticket_id, actor_id, created_at) \
             SELECT u.id, ",
        );
        qb.push_bind(entry.kind.clone())
            .push(", ")
            .push_bind(entry.title.clone())
            .push(", ")
            .push_bind(entry.ticket_id)
            .push(", ")
            .push_bind(entry.actor_id)
            .push(", ")
            .push_bind(entry.created_at.clone())
            .push(" FROM users u WHERE u.status = 'active'");
        if let Some(actor_id) = entry.actor_id {
            qb.push(" AND u.id <> ").push_bind(actor_id);
        }
        let (roles, users): (&[String], &[i64]) = match recipients {
            Recipients::Users(ids) => (&[], ids),
            Recipients::Audience(audience) if audience.is_everyone() => {
                qb.build().execute(self.conn()).await?;
                return Ok(());
            }
            Recipients::Audience(audience) => (&audience.roles, &audience.users),
        };
        qb.push(" AND (1 = 0");
        for role in roles {
            qb.push(" OR u.role = ").push_bind(role.clone());
        }
        for user in users {
            qb.push(" OR u.id = ").push_bind(*user);
        }
        qb.push(")");
        qb.build().execute(self.conn()).await?;
        Ok(())
    }

    async fn mark_inbox_read(
        &mut self,
        user_id: i64,
        ids: Option<&[i64]>,
        at: &str,
    ) -> Result<u64> {
        let mut qb = Builder::new("UPDATE inbox_entries SET read_at = ");
        qb.push_bind(at.to_owned())
            .push(" WHERE user_id = ")
            .push_bind(user_id)
            .push(" AND read_at IS NULL");
        if let Some(ids) = ids {
            qb.push(" AND id IN (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            list.push_unseparated(")");
        }
        Ok(qb.build().execute(self.conn()).await?.rows_affected())
    }

    async fn unread_count(&mut self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(UNREAD_SQL)
            .bind(user_id)
            .fetch_one(self.conn())
            .await?)
    }

    async fn equipment(&mut self, id: i64) -> Result<Option<Equipment>> {
        let sql = format!("{EQUIPMENT_SELECT} WHERE q.id = $1{}", Store::lock_row("q"));
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?)
    }

    async fn insert_equipment(&mut self, equipment: &Equipment, actor_id: i64) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO equipment (inventory_number, name, kind, serial, status, location_id, \
             assigned_user_id, notes, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&equipment.inventory_number)
        .bind(&equipment.name)
        .bind(equipment.kind.as_str())
        .bind(&equipment.serial)
        .bind(equipment.status.as_str())
        .bind(equipment.location_id)
        .bind(equipment.assigned_user_id)
        .bind(&equipment.notes)
        .bind(&equipment.created_at)
        .bind(&equipment.updated_at)
        .bind(actor_id)
        .fetch_one(self.conn())
        .await
        .map_err(unique_as_field("inventory_number", "inventory_number"))
    }

    async fn update_equipment(&mut self, equipment: &Equipment, actor_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE equipment SET inventory_number = $1, name = $2, kind = $3, serial = $4, status = $5, \
             location_id = $6, assigned_user_id = $7, notes = $8, updated_at = $9, \
             version = version + 1, updated_by = $10 WHERE id = $11",
        )
        .bind(&equipment.inventory_number)
        .bind(&equipment.name)
        .bind(equipment.kind.as_str())
        .bind(&equipment.serial)
        .bind(equipment.status.as_str())
        .bind(equipment.location_id)
        .bind(equipment.assigned_user_id)
        .bind(&equipment.notes)
        .bind(&equipment.updated_at)
        .bind(actor_id)
        .bind(equipment.id)
        .execute(self.conn())
        .await
        .map_err(unique_as_field("inventory_number", "inventory_number"))?;
        Ok(())
    }

    async fn article(&mut self, id: i64) -> Result<Option<Article>> {
        let sql = format!("{ARTICLE_SELECT} WHERE ar.id = $1{}", Store::lock_row("ar"));
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?)
    }

    async fn insert_article(&mut self, article: &Article) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO articles (title, body, category_id, visibility, author_id, created_at, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $5) RETURNING id",
        )
        .bind(&article.title)
        .bind(&article.body)
        .bind(article.category_id)
        .bind(article.visibility.as_str())
        .bind(article.author_id)
        .bind(&article.created_at)
        .bind(&article.updated_at)
        .fetch_one(self.conn())
        .await?)
    }

    async fn update_article(&mut self, article: &Article, actor_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE articles SET title = $1, body = $2, category_id = $3, visibility = $4, updated_at = $5, \
             version = version + 1, updated_by = $6 WHERE id = $7",
        )
        .bind(&article.title)
        .bind(&article.body)
        .bind(article.category_id)
        .bind(article.visibility.as_str())
        .bind(&article.updated_at)
        .bind(actor_id)
        .bind(article.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn insert_notification(&mut self, notification: &Notification) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO notifications (title, message, level, audience, audience_user_id, author_id, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(&notification.title)
        .bind(&notification.message)
        .bind(notification.level.as_str())
        .bind(notification.audience.kind())
        .bind(notification.audience.user_id())
        .bind(notification.author_id)
        .bind(&notification.created_at)
        .bind(&notification.expires_at)
        .fetch_one(self.conn())
        .await?)
    }

    async fn notification(&mut self, id: i64) -> Result<Option<Notification>> {
        let sql = format!("{NOTIFICATION_SELECT} WHERE n.id = $1");
        let row: Option<NotificationRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.map(Notification::try_from).transpose()
    }

    async fn withdraw_notification(&mut self, id: i64, at: &str) -> Result<()> {
        sqlx::query("UPDATE notifications SET withdrawn_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn insert_history(&mut self, entries: &[NewHistory]) -> Result<()> {
        for entry in entries {
            sqlx::query(
                "INSERT INTO history (entity_kind, entity_id, actor_id, field, old_value, new_value, at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(entry.entity_kind.as_str())
            .bind(entry.entity_id)
            .bind(entry.actor_id)
            .bind(entry.field)
            .bind(&entry.old_value)
            .bind(&entry.new_value)
            .bind(&entry.at)
            .bind(entry.version)
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    async fn mail_recipient(&mut self, user_id: i64) -> Result<Option<MailRecipient>> {
        let recipient: Option<MailRecipient> =
            sqlx::query_as("SELECT id, name, email, locale, status FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(self.conn())
                .await?;
        let Some(mut recipient) = recipient else {
            return Ok(None);
        };
        recipient.opted_out = opt_outs(user_id, self.conn()).await?;
        Ok(Some(recipient))
    }

    async fn mail_thread(&mut self, ticket_id: i64, address: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT message_id FROM mail_outbox WHERE ticket_id = $1 AND to_address = $2 \
             ORDER BY id",
        )
        .bind(ticket_id)
        .bind(address)
        .fetch_all(self.conn())
        .await?)
    }

    async fn insert_mail(&mut self, mail: &OutboxMail) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO mail_outbox (message_id, kind, ticket_id, recipient_id, from_address, \
             to_address, message, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(&mail.message_id)
        .bind(mail.kind.as_str())
        .bind(mail.ticket_id)
        .bind(mail.recipient_id)
        .bind(&mail.from_address)
        .bind(&mail.to_address)
        .bind(&mail.message)
        .bind(&mail.created_at)
        .fetch_one(self.conn())
        .await?)
    }

    async fn set_mail_opt_outs(&mut self, user_id: i64, kinds: &[MailKind]) -> Result<()> {
        sqlx::query("DELETE FROM mail_opt_outs WHERE user_id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        for kind in kinds {
            sqlx::query("INSERT INTO mail_opt_outs (user_id, kind) VALUES ($1, $2)")
                .bind(user_id)
                .bind(kind.as_str())
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    async fn remember_received_mail(&mut self, message_id: &str, at: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO mail_received (message_id, received_at) VALUES ($1, $2) \
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(at)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn history_since(
        &mut self,
        kind: EntityKind,
        id: i64,
        version: i64,
    ) -> Result<Vec<HistoryEntry>> {
        let sql = format!(
            "{HISTORY_SELECT} WHERE h.entity_kind = $1 AND h.entity_id = $2 AND h.version > $3 \
             ORDER BY h.id"
        );
        Ok(sqlx::query_as(&sql)
            .bind(kind.as_str())
            .bind(id)
            .bind(version)
            .fetch_all(self.conn())
            .await?)
    }

    async fn mark_ticket_read(&mut self, user_id: i64, ticket_id: i64, at: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO ticket_reads (user_id, ticket_id, read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, ticket_id) DO UPDATE SET read_at = excluded.read_at",
        )
        .bind(user_id)
        .bind(ticket_id)
        .bind(at)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn commit(mut self: Box<Self>, events: &[NewEvent]) -> Result<()> {
        for event in events {
            Store::append(self.conn(), event).await?;
        }
        self.tx.commit().await.map_err(Error::from)
    }
}
