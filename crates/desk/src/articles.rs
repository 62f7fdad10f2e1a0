//! Knowledge base articles: visibility, and turning a search box into a full-text query
//! that finds Russian and English words by their stem.

use crate::choice::choice;

choice!(
    /// Who may read an article.
    Visibility {
        Everyone = "everyone",
        /// Agents and admins only (internal procedures, passwords policy, …).
        Agents = "agents",
    }
);

/// A knowledge base article; `body` is Markdown (rendered, sanitized, by the web layer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Article {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub category_id: Option<i64>,
    pub category_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub visibility: Visibility,
    pub author_id: i64,
    pub author_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub updated_by: Option<i64>,
    pub updated_by_name: Option<String>,
}

/// What an event carries about an article (not its body).
#[derive(Debug, serde::Serialize)]
pub struct ArticleSummary<'a> {
    pub id: i64,
    pub title: &'a str,
    pub category_id: Option<i64>,
    pub category_name: Option<&'a str>,
    pub visibility: Visibility,
    pub author_id: i64,
    pub author_name: &'a str,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    pub version: i64,
}

impl Article {
    pub fn summary(&self) -> ArticleSummary<'_> {
        ArticleSummary {
            id: self.id,
            title: &self.title,
            category_id: self.category_id,
            category_name: self.category_name.as_deref(),
            visibility: self.visibility,
            author_id: self.author_id,
            author_name: &self.author_name,
            created_at: &self.created_at,
            updated_at: &self.updated_at,
            version: self.version,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleQuery {
    /// Full-text search words.
    pub q: Option<String>,
    pub category_id: Option<i64>,
    /// Set by the service for agents and admins only.
    pub with_agents_only: bool,
}

/// The words of a search box, stemmed for SQLite FTS5.
///
/// The FTS5 table uses `porter unicode61 remove_diacritics 2`: unicode61 splits and
/// case-folds words of any script, and porter reduces English words to their stem both
/// when indexing and when querying ("printers" and "printer" both become "printer").
/// Porter leaves Cyrillic words alone, so Russian words get a light suffix stripper
/// here and are searched as prefixes: "принтеры" → `принтер*`, which matches "принтер",
/// "принтера", "принтеров". A light stemmer errs on the side of stripping too little,
/// and the prefix search makes up for it — more robust than a full Snowball stemmer
/// for the short technical words of a service desk, and without a native extension.
pub fn fts5_query(text: &str) -> Option<String> {
    let terms: Vec<String> = words(text)
        .map(|word| {
            if is_cyrillic(&word) {
                format!("\"{}\"*", russian_stem(&word))
            } else {
                format!("\"{word}\"")
            }
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// Lower-cased words of letters and digits; everything else separates words. Quotes and
/// FTS5 operators therefore never reach the query.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(16)
        .map(str::to_lowercase)
}

fn is_cyrillic(word: &str) -> bool {
    word.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

/// Common Russian inflectional endings, longest first.
const RUSSIAN_ENDINGS: &[&str] = &[
    "иями", "ями", "ами", "ого", "его", "ому", "ему", "ыми", "ими", "ией", "ией", "ия", "ие", "ий",
    "ый", "ой", "ая", "яя", "ое", "ее", "ые", "ую", "юю", "ов", "ев", "ей", "ам", "ям", "ах", "ях",
    "ом", "ем", "ать", "ять", "ить", "еть", "ет", "ит", "ут", "ют", "ат", "ят", "а", "я", "о", "е",
    "ы", "и", "у", "ю", "ь", "й",
];

/// Strips one inflectional ending, keeping a stem of at least four letters so that
/// short words are not reduced to meaningless prefixes.
pub fn russian_stem(word: &str) -> String {
    let word = word.replace('ё', "е");
    let length = word.chars().count();
    for ending in RUSSIAN_ENDINGS {
        let ending_length = ending.chars().count();
        if word.ends_with(ending) && length - ending_length >= 4 {
            return word.chars().take(length - ending_length).collect();
        }
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_and_singular_russian_nouns_share_a_stem() {
        assert_eq!(russian_stem("принтеры"), "принтер");
        assert_eq!(russian_stem("принтер"), "принтер");
        assert_eq!(russian_stem("принтеров"), "принтер");
        assert_eq!(russian_stem("принтера"), "принтер");
    }

    #[test]
    fn short_russian_words_are_left_alone() {
        assert_eq!(russian_stem("сеть"), "сеть");
        assert_eq!(russian_stem("vpn"), "vpn");
    }

    #[test]
    fn russian_words_become_prefix_terms_and_english_words_stay_whole() {
        assert_eq!(
            fts5_query("Принтеры printers").as_deref(),
            Some("\"принтер\"* AND \"printers\"")
        );
    }

    #[test]
    fn fts_operators_and_quotes_never_reach_the_query() {
        assert_eq!(
            fts5_query("vpn\" OR NEAR(x) *").as_deref(),
            Some("\"vpn\" AND \"or\" AND \"near\" AND \"x\"")
        );
    }

    #[test]
    fn a_query_without_words_is_no_query() {
        assert_eq!(fts5_query("  !? "), None);
    }

    #[test]
    fn visibility_parses() {
        assert_eq!(Visibility::parse("agents"), Ok(Visibility::Agents));
        assert!(Visibility::parse("public").is_err());
    }
}
