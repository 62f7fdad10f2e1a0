//! Categories: tickets and articles each have their own list.

use crate::choice::choice;

choice!(
    /// Which list a category belongs to.
    CategoryScope {
        Ticket = "ticket",
        Article = "article",
    }
);
