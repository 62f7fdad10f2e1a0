//! Paging of the long lists (tickets, users, equipment, articles): where the reader is,
//! the links around it, and the URL of that page's rows for the live list.

use ictdesk_desk::Paged;

use super::{i18n::Tr, percent_encode};

/// Rows a page of users, equipment or articles shows.
pub const PER_PAGE: u32 = 50;

pub struct Pager {
    pub page: u32,
    pub pages: u32,
    pub total: i64,
    /// The list's path, e.g. `/users`.
    path: &'static str,
    /// The list's filters as a query string, without the page.
    filters: String,
}

impl Pager {
    pub fn new<T>(
        found: &Paged<T>,
        path: &'static str,
        filters: &[(&str, Option<String>)],
    ) -> Self {
        let filters = filters
            .iter()
            .filter_map(|(key, value)| Some((key, value.as_deref().filter(|v| !v.is_empty())?)))
            .map(|(key, value)| format!("{key}={}", percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        Self {
            page: found.page,
            pages: u32::try_from(found.total.max(1) - 1).unwrap_or(0) / found.per_page.max(1) + 1,
            total: found.total,
            path,
            filters,
        }
    }

    /// "Page 2 of 8 · 150 in all".
    pub fn summary(&self, t: &Tr) -> String {
        let page = t
            .t("common.page")
            .replace("{0}", &self.page.to_string())
            .replace("{1}", &self.pages.to_string());
        let total = t.t("common.total").replace("{0}", &self.total.to_string());
        format!("{page} · {total}")
    }

    /// The list at `page`, with the same filters.
    pub fn link(&self, page: u32) -> String {
        self.url(self.path, page)
    }

    /// This page's rows as they are now: the live list re-fetches them on an event.
    pub fn rows_url(&self) -> String {
        self.url(&format!("{}/rows", self.path), self.page)
    }

    fn url(&self, path: &str, page: u32) -> String {
        if self.filters.is_empty() {
            format!("{path}?page={page}")
        } else {
            format!("{path}?{}&page={page}", self.filters)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(total: i64, page: u32) -> Paged<()> {
        Paged {
            items: Vec::new(),
            total,
            page,
            per_page: 50,
        }
    }

    #[test]
    fn counts_pages_and_keeps_the_filters_in_its_links() {
        let pager = Pager::new(&found(101, 2), "/users", &[("q", Some("анна".into()))]);
        assert_eq!(pager.pages, 3);
        assert_eq!(pager.link(3), "/users?q=%D0%B0%D0%BD%D0%BD%D0%B0&page=3");
        assert_eq!(
            pager.rows_url(),
            "/users/rows?q=%D0%B0%D0%BD%D0%BD%D0%B0&page=2"
        );
    }

    #[test]
    fn an_empty_list_has_one_page_and_plain_links() {
        let pager = Pager::new(&found(0, 1), "/kb", &[("q", None)]);
        assert_eq!(pager.pages, 1);
        assert_eq!(pager.link(1), "/kb?page=1");
    }
}
