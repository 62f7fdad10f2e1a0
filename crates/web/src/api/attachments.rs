//! Attachments: upload (multipart, field `file`, repeatable, optional `comment_id`),
//! download, delete; and the multipart form of a new comment with its files.
//!
//! Downloads are served so that no file can act as a page of ours: `nosniff`, a
//! sandboxing `Content-Security-Policy`, and `Content-Disposition: attachment` for all
//! but raster images (whose type the desk checked against their bytes), with the name
//! encoded as RFC 6266 says (`filename*=UTF-8''…` for Cyrillic names).

use axum::{
    Json,
    extract::{FromRequest, Multipart, Request, State, multipart::MultipartError},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ictdesk_desk::{
    Desk,
    attachments::{Attachment, StoredFile, Target, Upload},
    comments::NewComment,
};
use serde::Serialize;

use crate::{
    AppState,
    error::{Error, Result},
    identity::Caller,
    requests::{Id, JsonBody},
};

/// Room for the form's other fields and the multipart framing around the files.
pub const FORM_OVERHEAD: usize = 64 * 1024;

/// `201 {"attachment": the first file, "attachments": all of them}`.
#[derive(Serialize)]
struct Uploaded {
    attachment: Attachment,
    attachments: Vec<Attachment>,
}

/// A multipart form's files (already in the store) and its text fields.
#[derive(Default)]
struct Form {
    files: Vec<StoredFile>,
    texts: Vec<(String, String)>,
}

impl Form {
    /// Reads every part: `file` parts are stored as they come, the rest kept as text.
    async fn read(desk: &Desk, mut multipart: Multipart) -> Result<Form> {
        let mut form = Form::default();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|error| refused(desk, &error))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let upload = Upload {
                    name: field.file_name().unwrap_or("file").to_owned(),
                    content_type: field.content_type().map(str::to_owned),
                    bytes: field.bytes().await.map_err(|error| refused(desk, &error))?,
                };
                form.files.push(desk.store_file(upload).await?);
            } else {
                let text = field.text().await.map_err(|error| refused(desk, &error))?;
                form.texts.push((name, text));
            }
        }
        Ok(form)
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// Refuses fields the endpoint does not know, as JSON bodies do.
    fn only(&self, known: &[&str]) -> Result<()> {
        match self
            .texts
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            Some((unknown, _)) => Err(Error::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                unknown,
                "is not a known field",
            )),
            None => Ok(()),
        }
    }

    fn id(&self, name: &str) -> Result<Option<i64>> {
        let Some(text) = self.text(name).map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        text.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Some)
            .ok_or_else(|| Error::field(StatusCode::UNPROCESSABLE_ENTITY, name, "is not an id"))
    }
}

/// A broken or oversized multipart body, in our error shape.
fn refused(desk: &Desk, error: &MultipartError) -> Error {
    match error.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the upload is larger than {} bytes (--max-upload-size)",
                desk.max_upload_size()
            ),
        ),
        status => Error::new(
            status,
            format!("malformed multipart body: {}", error.body_text()),
        ),
    }
}

/// `POST /tickets/{id}/attachments`.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    multipart: Multipart,
) -> Result<Response> {
    // Nothing is stored for a ticket the caller may not see.
    state.desk.get_ticket(&caller.user, id).await?;
    let form = Form::read(&state.desk, multipart).await?;
    form.only(&["comment_id"])?;
    let target = Target::Ticket {
        id,
        comment_id: form.id("comment_id")?,
    };
    record(&state, &caller, target, &form).await
}

/// Records a form's files: `201 {"attachment", "attachments"}`, or 422 without any.
async fn record(
    state: &AppState,
    caller: &Caller,
    target: Target,
    form: &Form,
) -> Result<Response> {
    if form.files.is_empty() {
        return Err(Error::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file",
            "is required",
        ));
    }
    let attachments = state.desk.attach(&caller.user, target, &form.files).await?;
    let Some(first) = attachments.first().cloned() else {
        return Err(Error::from(ictdesk_desk::Error::Internal(
            "no file recorded".into(),
        )));
    };
    let body = Uploaded {
        attachment: first,
        attachments,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /articles/{id}/attachments` (agents and admins).
pub async fn upload_to_article(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    multipart: Multipart,
) -> Result<Response> {
    state.desk.get_article(&caller.user, id).await?;
    if !caller.user.role.is_staff() {
        return Err(ictdesk_desk::Error::forbidden(
            "only agents and admins can attach files to articles",
        )
        .into());
    }
    let form = Form::read(&state.desk, multipart).await?;
    form.only(&[])?;
    record(&state, &caller, Target::Article(id), &form).await
}

/// A new comment: JSON `{body, internal?}`, or multipart with `body`, `internal` and
/// any number of `file` parts.
pub struct CommentInput(pub NewComment);

impl FromRequest<AppState> for CommentInput {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self> {
        let multipart_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("multipart/form-data"));
        if !multipart_form {
            let JsonBody(input) = JsonBody::<NewComment>::from_request(request, state).await?;
            return Ok(CommentInput(input));
        }
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| Error::new(rejection.status(), rejection.body_text()))?;
        let form = Form::read(&state.desk, multipart).await?;
        form.only(&["body", "internal"])?;
        let internal = match form.text("internal").map(str::trim) {
            None | Some("" | "false" | "0" | "off") => false,
            Some("true" | "1" | "on") => true,
            Some(_) => {
                return Err(Error::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "internal",
                    "must be true or false",
                ));
            }
        };
        Ok(CommentInput(NewComment {
            body: form.text("body").unwrap_or_default().to_owned(),
            internal,
            files: form.files,
        }))
    }
}

/// `GET /attachments/{id}`: the bytes, if the caller may see what they are on.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    headers: HeaderMap,
) -> Result<Response> {
    let attachment = state.desk.get_attachment(&caller.user, id).await?;
    let etag = format!("\"{}\"", attachment.sha256);
    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (_, bytes) = state.desk.read_attachment(&caller.user, id).await?;
        bytes.into_response()
    };
    let disposition = content_disposition(&attachment);
    let set = response.headers_mut();
    let content_type = HeaderValue::from_str(&attachment.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    set.insert(header::CONTENT_TYPE, content_type);
    set.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
        ),
    );
    // The bytes behind an id never change, but who may read them can: the browser asks
    // every time, and an unchanged file costs a 304.
    set.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        set.insert(header::ETAG, etag);
    }
    if let Ok(disposition) = HeaderValue::from_str(&disposition) {
        set.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag))
}

/// `DELETE /attachments/{id}`: by whoever attached it, or staff.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<StatusCode> {
    state.desk.delete_attachment(&caller.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `inline` for raster images, `attachment` for everything else; the name as an ASCII
/// fallback and, when it is not plain ASCII, as RFC 5987 UTF-8 too (RFC 6266).
pub fn content_disposition(attachment: &Attachment) -> String {
    let kind = if attachment.is_image() {
        "inline"
    } else {
        "attachment"
    };
    let name = &attachment.name;
    let fallback: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    if fallback == *name {
        return format!("{kind}; filename=\"{fallback}\"");
    }
    format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        rfc5987(name)
    )
}

/// Percent-encodes all but RFC 5987's `attr-char`.
fn rfc5987(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'!'
            | b'#'
            | b'$'
            | b'&'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, content_type: &str) -> Attachment {
        Attachment {
            id: 1,
            name: name.to_owned(),
            size: 1,
            content_type: content_type.to_owned(),
            sha256: String::new(),
            created_at: String::new(),
            ticket_id: Some(1),
            comment_id: None,
            article_id: None,
            uploader_id: 1,
            uploader_name: String::new(),
            internal: false,
        }
    }

    #[test]
    fn a_cyrillic_name_is_encoded_as_rfc_6266_says() {
        let header = content_disposition(&named("отчёт 1.pdf", "application/pdf"));
        assert_eq!(
            header,
            "attachment; filename=\"_____ 1.pdf\"; \
             filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82%201.pdf"
        );
    }

    #[test]
    fn only_raster_images_are_inline() {
        assert!(content_disposition(&named("a.png", "image/png")).starts_with("inline;"));
        assert!(content_disposition(&named("a.svg", "image/svg+xml")).starts_with("attachment;"));
        assert!(content_disposition(&named("a.html", "text/html")).starts_with("attachment;"));
    }

    #[test]
    fn quotes_cannot_end_the_name_early() {
        let header = content_disposition(&named("a\".txt", "text/plain"));
        assert!(header.starts_with("attachment; filename=\"a_.txt\"; filename*=UTF-8''a%22.txt"));
    }
}
