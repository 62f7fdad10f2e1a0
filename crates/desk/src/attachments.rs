//! Attachments: files on tickets, on comments (public and internal) and on
//! knowledge-base articles.
//!
//! Attaching is two steps, so that no transaction waits for a slow upload:
//! [`Desk::store_file`] writes the bytes to the content-addressed store ([`Files`]) and
//! returns a [`StoredFile`]; a change then records it — [`Desk::attach`], or a new
//! ticket or comment that carries `files` — in one transaction with its one event.
//! The bytes are therefore always written before the record commits. Bytes without a
//! record (a refused change, a deleted attachment) are orphans, removed by
//! [`Desk::sweep_orphan_files`], which the server runs as a supervised task.
//!
//! Who may see a file is who may see what it is attached to: the ticket (its requester
//! and staff), an internal note (staff), an article (its visibility). Anyone else gets
//! "not found", so that ids reveal nothing.

use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use crate::{
    articles::Visibility,
    desk::{Desk, Outcome, require_active, require_staff},
    error::{Error, Result},
    events::{ArticleUpdated, DeskEvent, TicketUpdated},
    files::{Files, Sha256Hex},
    history::{Changes, EntityKind},
    storage::Transaction,
    tickets::{self},
    timestamps,
    users::User,
};

/// A recorded file, as lists, pages and events show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, schemars::JsonSchema)]
pub struct Attachment {
    pub id: i64,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub created_at: String,
    pub ticket_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub article_id: Option<i64>,
    pub uploader_id: i64,
    pub uploader_name: String,
    /// Attached to an internal note: staff only.
    #[serde(skip)]
    pub internal: bool,
}

impl Attachment {
    /// Shown in the page rather than downloaded: raster images, whose type was checked
    /// against their bytes when stored (never SVG or HTML, which could run script).
    pub fn is_image(&self) -> bool {
        RASTER_TYPES.contains(&self.content_type.as_str())
    }
}

/// A file as it arrives: a name, the type the sender claims, the bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// A file whose bytes are in the store, ready to be recorded by a change.
#[derive(Debug, Clone)]
pub struct StoredFile {
    name: String,
    content_type: String,
    sha256: Sha256Hex,
    /// Kept with the store to write the bytes again in the rare case the sweeper
    /// removed them between storing and recording (see [`ensure_stored`]).
    bytes: Bytes,
    files: Files,
}

impl StoredFile {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn sha256(&self) -> &Sha256Hex {
        &self.sha256
    }

    fn size(&self) -> i64 {
        i64::try_from(self.bytes.len()).unwrap_or(i64::MAX)
    }
}

/// Where files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// On the ticket itself, or on one of its comments.
    Ticket {
        id: i64,
        comment_id: Option<i64>,
    },
    Article(i64),
}

/// The attachment settings: where bytes live and how large one file may be.
#[derive(Debug, Clone)]
pub struct FileOptions {
    pub files: Files,
    pub max_upload_size: u64,
}

impl FileOptions {
    pub const DEFAULT_MAX_UPLOAD_SIZE: u64 = 20 * 1024 * 1024;
}

impl Default for FileOptions {
    /// In memory: for tests. The server always names a folder or a bucket.
    fn default() -> Self {
        Self {
            files: Files::in_memory(),
            max_upload_size: Self::DEFAULT_MAX_UPLOAD_SIZE,
        }
    }
}

/// Types served inline, each with the bytes a file of that type starts with.
const RASTER_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The raster image type the bytes really are, if any.
fn sniff_raster(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The type recorded for a file: a raster type only when the bytes are one (whatever
/// was claimed), else the claimed type if it is a well-formed `type/subtype`, else
/// `application/octet-stream`. A claim of a raster type the bytes do not bear out is
/// dropped, so nothing else is ever shown inline.
fn content_type(claimed: Option<&str>, bytes: &[u8]) -> String {
    if let Some(raster) = sniff_raster(bytes) {
        return raster.to_owned();
    }
    let essence = claimed
        .and_then(|claimed| claimed.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .filter(|essence| is_media_type(essence) && !RASTER_TYPES.contains(&essence.as_str()));
    essence.unwrap_or_else(|| "application/octet-stream".to_owned())
}

fn is_media_type(text: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part.len() <= 127
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    matches!(text.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
}

/// A file name safe to store and show: no folders (either slash), no control or
/// direction-override characters, at most 200 characters; `file` if nothing is left.
pub fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(200)
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim();
    if clean.is_empty() {
        "file".to_owned()
    } else {
        clean.to_owned()
    }
}

/// Characters that reorder text, with which `gpj.exe` can be made to look like `exe.jpg`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Writes the stored files' records (the bytes are already in the store).
pub(crate) async fn record_files(
    tx: &mut dyn Transaction,
    actor: &User,
    target: Target,
    stored: &[StoredFile],
    at: &str,
) -> Result<Vec<Attachment>> {
    let mut recorded = Vec::with_capacity(stored.len());
    for file in stored {
        ensure_stored(tx, file).await?;
        let (ticket_id, comment_id, article_id) = match target {
            Target::Ticket { id, comment_id } => (Some(id), comment_id, None),
            Target::Article(id) => (None, None, Some(id)),
        };
        let draft = Attachment {
            id: 0,
            name: file.name.clone(),
            size: file.size(),
            content_type: file.content_type.clone(),
            sha256: file.sha256.as_str().to_owned(),
            created_at: at.to_owned(),
            ticket_id,
            comment_id,
            article_id,
            uploader_id: actor.id,
            uploader_name: actor.name.clone(),
            internal: false,
        };
        let id = tx.insert_attachment(&draft).await?;
        recorded.push(
            tx.attachment(id)
                .await?
                .ok_or(Error::NotFound("attachment"))?,
        );
    }
    Ok(recorded)
}

/// Under the file's lock (which the sweeper takes too), makes sure its bytes are still
/// there: the sweeper may have removed identical old bytes nobody recorded just before
/// this upload wrote them again. Afterwards the record holds them.
async fn ensure_stored(tx: &mut dyn Transaction, file: &StoredFile) -> Result<()> {
    tx.lock_file(file.sha256.as_str()).await?;
    if !file.files.contains(&file.sha256).await? {
        file.files.put(file.bytes.clone()).await?;
    }
    Ok(())
}

/// Attaches files to a ticket, one of its comments, or an article. The event: files on
/// a ticket are a ticket edit (`ticket_updated`, `changes` naming the files; staff only
/// for an internal note's); on an article, `knowledge_article_updated`.
pub(crate) async fn attach_in(
    tx: &mut dyn Transaction,
    actor: &User,
    target: Target,
    stored: &[StoredFile],
    at: &str,
) -> Result<Outcome<Vec<Attachment>>> {
    if stored.is_empty() {
        return Err(Error::field("file", "is required"));
    }
    match target {
        Target::Ticket { id, comment_id } => {
            let ticket = tx.ticket(id).await?.ok_or(Error::NotFound("ticket"))?;
            tickets::check_can_see(actor, &ticket)?;
            let internal = match comment_id {
                Some(comment_id) => check_comment_target(tx, actor, id, comment_id).await?,
                None => false,
            };
            let recorded = record_files(tx, actor, target, stored, at).await?;
            let mut changes = Changes::new(EntityKind::Ticket, id, actor.id, at);
            for file in &recorded {
                changes.field("attachment", None, Some(&file.name));
            }
            // An internal note's files are history only staff read; the list of
            // changes of a ticket is read by its requester too.
            if !internal {
                tx.insert_history(changes.entries()).await?;
            }
            let event = DeskEvent::TicketUpdated(TicketUpdated {
                ticket: ticket.summary(),
                changes: changes.entries(),
                attachments: &recorded,
                internal,
                actor: actor.person(),
            })
            .encode()?;
            Ok(Outcome::changed(recorded, event))
        }
        Target::Article(id) => {
            require_staff(actor, "attach files to articles")?;
            let article = tx.article(id).await?.ok_or(Error::NotFound("article"))?;
            let recorded = record_files(tx, actor, target, stored, at).await?;
            let event = DeskEvent::KnowledgeArticleUpdated(ArticleUpdated {
                article: article.summary(),
                changed_fields: &["attachments"],
                attachments: &recorded,
                actor: actor.person(),
            })
            .encode()?;
            Ok(Outcome::changed(recorded, event))
        }
    }
}

/// A comment files are added to: on this ticket, seen by the actor, and theirs unless
/// they are staff. Returns whether it is an internal note.
async fn check_comment_target(
    tx: &mut dyn Transaction,
    actor: &User,
    ticket_id: i64,
    comment_id: i64,
) -> Result<bool> {
    let comment = tx
        .comment(comment_id)
        .await?
        .filter(|comment| comment.ticket_id == ticket_id)
        .filter(|comment| !comment.internal || actor.role.is_staff())
        .ok_or(Error::NotFound("comment"))?;
    if comment.author_id != actor.id && !actor.role.is_staff() {
        return Err(Error::forbidden(
            "only the comment's author or an agent can add files to it",
        ));
    }
    Ok(comment.internal)
}

/// Removes an attachment's record (its bytes go with the next sweep, unless another
/// record holds the same bytes): by its uploader or staff.
pub(crate) async fn delete_in(
    tx: &mut dyn Transaction,
    actor: &User,
    id: i64,
    at: &str,
) -> Result<Outcome<Attachment>> {
    let attachment = tx
        .attachment(id)
        .await?
        .ok_or(Error::NotFound("attachment"))?;
    check_can_see_in(tx, actor, &attachment).await?;
    if attachment.uploader_id != actor.id && !actor.role.is_staff() {
        return Err(Error::forbidden(
            "only whoever attached the file or an agent can delete it",
        ));
    }
    tx.delete_attachment(id).await?;
    let event = match (attachment.ticket_id, attachment.article_id) {
        (Some(ticket_id), _) => {
            let ticket = tx
                .ticket(ticket_id)
                .await?
                .ok_or(Error::NotFound("ticket"))?;
            let mut changes = Changes::new(EntityKind::Ticket, ticket_id, actor.id, at);
            changes.field("attachment", Some(&attachment.name), None);
            if !attachment.internal {
                tx.insert_history(changes.entries()).await?;
            }
            DeskEvent::TicketUpdated(TicketUpdated {
                ticket: ticket.summary(),
                changes: changes.entries(),
                attachments: &[],
                internal: attachment.internal,
                actor: actor.person(),
            })
            .encode()?
        }
        (None, Some(article_id)) => {
            let article = tx
                .article(article_id)
                .await?
                .ok_or(Error::NotFound("article"))?;
            DeskEvent::KnowledgeArticleUpdated(ArticleUpdated {
                article: article.summary(),
                changed_fields: &["attachments"],
                attachments: &[],
                actor: actor.person(),
            })
            .encode()?
        }
        (None, None) => return Err(Error::Internal("an attachment on nothing".into())),
    };
    Ok(Outcome::changed(attachment, event))
}

/// Whether `actor` may see what the attachment is on; "not found" if not.
async fn check_can_see_in(
    tx: &mut dyn Transaction,
    actor: &User,
    attachment: &Attachment,
) -> Result<()> {
    let visible = match (attachment.ticket_id, attachment.article_id) {
        (Some(ticket_id), _) => match tx.ticket(ticket_id).await? {
            Some(ticket) => {
                tickets::check_can_see(actor, &ticket).is_ok()
                    && (!attachment.internal || actor.role.is_staff())
            }
            None => false,
        },
        (None, Some(article_id)) => match tx.article(article_id).await? {
            Some(article) => article.visibility == Visibility::Everyone || actor.role.is_staff(),
            None => false,
        },
        (None, None) => false,
    };
    if visible {
        Ok(())
    } else {
        Err(Error::NotFound("attachment"))
    }
}

impl Desk {
    /// Writes an upload's bytes to the store: the first step of attaching. An empty
    /// file is refused naming `file`, a file over the limit as too large.
    pub async fn store_file(&self, upload: Upload) -> Result<StoredFile> {
        if upload.bytes.is_empty() {
            return Err(Error::field("file", "is empty"));
        }
        let limit = self.file_options.max_upload_size;
        if u64::try_from(upload.bytes.len()).unwrap_or(u64::MAX) > limit {
            return Err(Error::TooLarge { limit });
        }
        let sha256 = self.file_options.files.put(upload.bytes.clone()).await?;
        Ok(StoredFile {
            name: sanitize_name(&upload.name),
            content_type: content_type(upload.content_type.as_deref(), &upload.bytes),
            sha256,
            bytes: upload.bytes,
            files: self.file_options.files.clone(),
        })
    }

    /// Records stored files on a ticket, a comment or an article: one change, one event.
    pub async fn attach(
        &self,
        actor: &User,
        target: Target,
        stored: &[StoredFile],
    ) -> Result<Vec<Attachment>> {
        require_active(actor)?;
        let mut work = self.begin_change().await?;
        let outcome = attach_in(work.tx(), actor, target, stored, &now()).await?;
        work.finish(outcome).await
    }

    pub async fn delete_attachment(&self, actor: &User, id: i64) -> Result<Attachment> {
        require_active(actor)?;
        let mut work = self.begin_change().await?;
        let outcome = delete_in(work.tx(), actor, id, &now()).await?;
        work.finish(outcome).await
    }

    /// The attachment if `actor` may see it; "not found" otherwise.
    pub async fn get_attachment(&self, actor: &User, id: i64) -> Result<Attachment> {
        require_active(actor)?;
        let attachment = self
            .store
            .attachment(id)
            .await?
            .ok_or(Error::NotFound("attachment"))?;
        let visible = match (attachment.ticket_id, attachment.article_id) {
            (Some(ticket_id), _) => {
                self.may_see_ticket(actor, ticket_id).await
                    && (!attachment.internal || actor.role.is_staff())
            }
            (None, Some(article_id)) => self.get_article(actor, article_id).await.is_ok(),
            (None, None) => false,
        };
        if visible {
            Ok(attachment)
        } else {
            Err(Error::NotFound("attachment"))
        }
    }

    /// The attachment and its bytes, if `actor` may see it.
    pub async fn read_attachment(&self, actor: &User, id: i64) -> Result<(Attachment, Bytes)> {
        let attachment = self.get_attachment(actor, id).await?;
        let digest = Sha256Hex::parse(&attachment.sha256)
            .ok_or_else(|| Error::Internal(format!("attachment {id} has a bad digest")))?;
        let bytes = self.file_options.files.get(&digest).await?;
        Ok((attachment, bytes))
    }

    /// The files of an article, if `actor` may read it.
    pub async fn article_attachments(&self, actor: &User, id: i64) -> Result<Vec<Attachment>> {
        self.get_article(actor, id).await?;
        self.store.article_attachments(id).await
    }

    /// Removes stored bytes that no attachment records and that were written longer
    /// than `grace` ago (an upload on its way to its transaction is younger). Each is
    /// checked and removed under its lock, which recording takes too; returns how many
    /// were removed.
    pub async fn sweep_orphan_files(&self, grace: Duration) -> Result<usize> {
        let files = &self.file_options.files;
        let mut removed = 0;
        for digest in files.sweep_candidates(grace).await? {
            let mut work = self.begin_change().await?;
            work.tx().lock_file(digest.as_str()).await?;
            if !work.tx().file_in_use(digest.as_str()).await? {
                files.delete(&digest).await?;
                removed += 1;
            }
            work.commit().await?;
        }
        Ok(removed)
    }
}

fn now() -> String {
    timestamps::format(timestamps::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_control_characters_leave_a_name() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\Users\\ivan\\отчёт.pdf"), "отчёт.pdf");
        assert_eq!(sanitize_name("a\r\nb\u{0}.txt"), "ab.txt");
        assert_eq!(sanitize_name("photo\u{202e}gpj.exe"), "photogpj.exe");
        assert_eq!(sanitize_name("..."), "file");
        assert_eq!(sanitize_name(""), "file");
    }

    #[test]
    fn only_bytes_that_are_an_image_are_typed_as_one() {
        let png = b"\x89PNG\r\n\x1a\n....";
        assert_eq!(content_type(Some("text/plain"), png), "image/png");
        assert_eq!(
            content_type(Some("image/png"), b"<svg onload=alert(1)>"),
            "application/octet-stream"
        );
        assert_eq!(
            content_type(Some("image/svg+xml"), b"<svg/>"),
            "image/svg+xml"
        );
        assert_eq!(
            content_type(Some("text/html; charset=utf-8"), b"<p>"),
            "text/html"
        );
        assert_eq!(
            content_type(Some("nonsense"), b"x"),
            "application/octet-stream"
        );
    }
}
