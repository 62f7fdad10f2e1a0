//! What Pusher keeps in the database beside the log: the members of presence
//! channels (`pusher_members`), changed in the same transaction as the log event that
//! announces the change; and reads of one channel's events (history, resume). The SQL
//! is the same on both databases (`$n` parameters work in SQLite too).

use serde_json::value::RawValue;

use super::{
    members::{MEMBER_ADDED, MEMBER_REMOVED, MemberEvent},
    subscriptions::ChannelKey,
};
use crate::{
    audience::Audience,
    event::{EventType, NewEvent, StoredEvent, Topic},
    log::{Database, EventLog, LogError},
};

/// Runs `$body` in a write transaction on either backend, with `$append` the
/// backend's in-transaction append; commits and wakes the tailer.
macro_rules! in_transaction {
    ($log:expr, |$tx:ident, $append:ident| $body:block) => {{
        let result = match $log.database() {
            Database::Sqlite(db) => {
                let mut $tx = db.writer.begin().await?;
                use crate::log::sqlite::append as $append;
                let value = $body;
                $tx.commit().await?;
                value
            }
            Database::Postgres(db) => {
                let mut $tx = db.pool.begin().await?;
                use crate::log::postgres::append as $append;
                let value = $body;
                $tx.commit().await?;
                value
            }
        };
        $log.committed();
        Ok::<_, LogError>(result)
    }};
}

/// Runs a read `$body` with `$pool` the backend's reading pool.
macro_rules! reading {
    ($log:expr, |$pool:ident| $body:block) => {{
        match $log.database() {
            Database::Sqlite(db) => {
                let $pool = &db.reader;
                $body
            }
            Database::Postgres(db) => {
                let $pool = &db.pool;
                $body
            }
        }
    }};
}

/// A row of `pusher_members`.
#[derive(sqlx::FromRow)]
pub(crate) struct MemberRow {
    pub app: String,
    pub channel: String,
    pub socket_id: String,
    pub user_id: String,
    pub user_info: Option<String>,
}

impl MemberRow {
    pub fn into_event(self) -> MemberEvent {
        MemberEvent {
            user_id: self.user_id,
            user_info: self
                .user_info
                .and_then(|info| RawValue::from_string(info).ok()),
            socket_id: self.socket_id,
        }
    }
}

fn member_event(kind: &str, key: &ChannelKey, member: &MemberEvent) -> NewEvent {
    NewEvent {
        kind: EventType::pusher(kind).expect("the member event names are valid"),
        data: serde_json::value::to_raw_value(member).expect("member data always serializes"),
        audience: Audience::everyone(),
        topic: Some(Topic {
            app: key.0.clone(),
            channel: key.1.as_str().to_owned(),
            except_socket: Some(member.socket_id.clone()),
            user_id: None,
        }),
    }
}

/// Records a connection on a presence channel and announces it; returns the event id.
pub(crate) async fn join(
    log: &EventLog,
    key: &ChannelKey,
    member: &MemberEvent,
    node: &str,
) -> Result<i64, LogError> {
    let event = member_event(MEMBER_ADDED, key, member);
    in_transaction!(log, |tx, append| {
        sqlx::query(
            "INSERT INTO pusher_members (app, channel, socket_id, user_id, user_info, node) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.0)
        .bind(key.1.as_str())
        .bind(&member.socket_id)
        .bind(&member.user_id)
        .bind(member.user_info.as_ref().map(|info| info.get()))
        .bind(node)
        .execute(&mut *tx)
        .await?;
        append(&mut tx, &event).await?
    })
}

/// Removes a connection from a presence channel and announces it, if it was there.
pub(crate) async fn leave(
    log: &EventLog,
    key: &ChannelKey,
    socket_id: &str,
) -> Result<Option<i64>, LogError> {
    in_transaction!(log, |tx, append| {
        let user_id: Option<String> = sqlx::query_scalar(
            "DELETE FROM pusher_members WHERE app = $1 AND channel = $2 AND socket_id = $3 \
             RETURNING user_id",
        )
        .bind(&key.0)
        .bind(key.1.as_str())
        .bind(socket_id)
        .fetch_optional(&mut *tx)
        .await?;
        match user_id {
            Some(user_id) => {
                let member = MemberEvent {
                    user_id,
                    user_info: None,
                    socket_id: socket_id.to_owned(),
                };
                Some(append(&mut tx, &member_event(MEMBER_REMOVED, key, &member)).await?)
            }
            None => None,
        }
    })
}

/// Removes every member a node had (it died, or this is its name restarting) and
/// announces each; a row another node removed first is not announced twice.
pub(crate) async fn remove_node(log: &EventLog, node: &str) -> Result<usize, LogError> {
    in_transaction!(log, |tx, append| {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "DELETE FROM pusher_members WHERE node = $1 \
             RETURNING app, channel, socket_id, user_id, user_info",
        )
        .bind(node)
        .fetch_all(&mut *tx)
        .await?;
        let removed = rows.len();
        for row in rows {
            let Ok(channel) = super::channel::ChannelName::parse(&row.channel) else {
                continue;
            };
            let key = (row.app.clone(), channel);
            let mut member = row.into_event();
            member.user_info = None;
            append(&mut tx, &member_event(MEMBER_REMOVED, &key, &member)).await?;
        }
        removed
    })
}

/// The nodes that have members on presence channels.
pub(crate) async fn member_nodes(log: &EventLog) -> Result<Vec<String>, LogError> {
    reading!(log, |pool| {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT node FROM pusher_members")
                .fetch_all(pool)
                .await?,
        )
    })
}

pub(crate) async fn all_members(log: &EventLog) -> Result<Vec<MemberRow>, LogError> {
    reading!(log, |pool| {
        Ok(
            sqlx::query_as(
                "SELECT app, channel, socket_id, user_id, user_info FROM pusher_members",
            )
            .fetch_all(pool)
            .await?,
        )
    })
}

/// A channel's events (presence changes left out) with `after < id <= through`, in
/// id order, at most `limit`.
pub(crate) async fn channel_events(
    log: &EventLog,
    key: &ChannelKey,
    after: i64,
    through: i64,
    limit: u32,
) -> Result<Vec<StoredEvent>, LogError> {
    reading!(log, |pool| {
        Ok(sqlx::query_as(
            "SELECT id, type, created_at, data, audience, app, channel, except_socket, user_id FROM events \
             WHERE app = $1 AND channel = $2 AND id > $3 AND id <= $4 AND type <> $5 AND type <> $6 \
             ORDER BY id LIMIT $7",
        )
        .bind(&key.0)
        .bind(key.1.as_str())
        .bind(after)
        .bind(through)
        .bind(MEMBER_ADDED)
        .bind(MEMBER_REMOVED)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?)
    })
}

/// Appends events (a publish to several channels, a batch) in one transaction.
pub(crate) async fn append_all(log: &EventLog, events: &[NewEvent]) -> Result<(), LogError> {
    in_transaction!(log, |tx, append| {
        for event in events {
            append(&mut tx, event).await?;
        }
    })
}
