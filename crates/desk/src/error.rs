//! The desk's one error type. The web layer maps each variant to a status code
//! (`Error::kind`) and shows `Display` to the client, except for the infrastructure
//! variants, whose details are logged, never shown.

use std::collections::BTreeMap;

/// Field name → message, e.g. `inventory_number` → `already used`.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The same message whether the email is unknown or the password wrong.
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("invalid input: {}", describe(fields))]
    Validation { fields: FieldErrors },
    /// A stale version, naming who changed the object since it was read and, where the
    /// object keeps that apart (tickets), which of the request's fields they changed:
    /// field → `changed by <names>`, the same shape as a validation error's fields.
    #[error(
        "changed by {changed_by} since you opened it{}",
        changed_fields(fields)
    )]
    Conflict {
        changed_by: String,
        fields: FieldErrors,
    },
    #[error("cannot change status from {from} to {to}: {reason}")]
    InvalidTransition {
        from: String,
        to: String,
        reason: String,
    },
    /// The login attempt limit: try again after `retry_after`.
    #[error("too many failed logins; try again in {} s", .retry_after.as_secs().max(1))]
    TooManyAttempts { retry_after: std::time::Duration },
    /// Too many passwords are being checked at once (see `passwords`).
    #[error("the server is busy checking other passwords; try again in a moment")]
    Busy,
    /// A file larger than `--max-upload-size`.
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Files(#[from] crate::files::FilesError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What kind of failure, for the web layer's status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Unauthenticated,
    Forbidden,
    Validation,
    Conflict,
    TooManyRequests,
    TooLarge,
    Unavailable,
    Internal,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InvalidCredentials => ErrorKind::Unauthenticated,
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::Validation { .. } => ErrorKind::Validation,
            // Both a stale version and an invalid status transition are a 409.
            Error::Conflict { .. } | Error::InvalidTransition { .. } => ErrorKind::Conflict,
            Error::TooManyAttempts { .. } => ErrorKind::TooManyRequests,
            Error::Busy => ErrorKind::Unavailable,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::Files(_) | Error::Database(_) | Error::Migrate(_) | Error::Internal(_) => {
                ErrorKind::Internal
            }
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_owned(), message.into());
        Error::Validation { fields }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }

    /// How long the client should wait before trying again, when that is known.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::TooManyAttempts { retry_after } => Some(*retry_after),
            Error::Busy => Some(std::time::Duration::from_secs(1)),
            _ => None,
        }
    }

    /// Who changed the object since it was read, when this is a stale version.
    pub fn changed_by(&self) -> Option<&str> {
        match self {
            Error::Conflict { changed_by, .. } => Some(changed_by),
            _ => None,
        }
    }

    /// The field errors of a validation error, or the fields someone else changed
    /// meanwhile of a stale version.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            Error::Validation { fields } | Error::Conflict { fields, .. } => Some(fields),
            _ => None,
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::Internal(format!("event data: {error}"))
    }
}

fn changed_fields(fields: &FieldErrors) -> String {
    if fields.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
        format!(" ({})", names.join(", "))
    }
}

fn describe(fields: &FieldErrors) -> String {
    fields
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects field errors while a request is parsed, so the client learns about every
/// bad field at once rather than one per attempt.
#[derive(Debug, Default)]
pub struct Fields {
    errors: FieldErrors,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value if it parsed, remembers the message under `field` if not.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// `Ok` when nothing was wrong.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation {
                fields: self.errors,
            })
        }
    }
}

/// Turns a unique-constraint violation on `column` into "`field`: already used"; any
/// other database error stays what it is. Both backends name the column in the message
/// (SQLite: `UNIQUE constraint failed: equipment.inventory_number`; PostgreSQL: the
/// constraint `equipment_inventory_number_key`).
pub(crate) fn unique_as_field(
    column: &'static str,
    field: &'static str,
) -> impl Fn(sqlx::Error) -> Error {
    move |error| match &error {
        sqlx::Error::Database(db)
            if db.is_unique_violation()
                && (db.message().contains(column)
                    || db.constraint().is_some_and(|c| c.contains(column))) =>
        {
            Error::field(field, "already used")
        }
        _ => Error::Database(error),
    }
}

/// Checks a required text: trimmed, not empty, at most `max` characters.
pub(crate) fn required_text(value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(value.to_owned())
}

/// An optional text: blank becomes `None`.
pub(crate) fn optional_text(value: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => required_text(value, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_collect_every_bad_field() {
        let mut fields = Fields::new();
        fields.check::<(), _>("title", Err("must not be empty"));
        fields.check::<(), _>("priority", Err("unknown"));
        let error = fields.finish().expect_err("two bad fields");
        let fields = error.fields().expect("a validation error");
        assert_eq!(fields.len(), 2);
        assert_eq!(fields["title"], "must not be empty");
    }

    #[test]
    fn required_text_is_trimmed_and_bounded() {
        assert_eq!(required_text("  hi ", 5), Ok("hi".to_owned()));
        assert!(required_text("   ", 5).is_err());
        assert!(required_text("абвгде", 5).is_err());
    }

    #[test]
    fn blank_optional_text_is_none() {
        assert_eq!(optional_text(Some("  "), 5), Ok(None));
        assert_eq!(optional_text(None, 5), Ok(None));
        assert_eq!(optional_text(Some(" x "), 5), Ok(Some("x".to_owned())));
    }

    #[test]
    fn transitions_and_conflicts_are_both_409s() {
        let conflict = Error::Conflict {
            changed_by: "Anna".into(),
            fields: FieldErrors::new(),
        };
        assert_eq!(conflict.kind(), ErrorKind::Conflict);
        assert_eq!(conflict.to_string(), "changed by Anna since you opened it");
    }
}
