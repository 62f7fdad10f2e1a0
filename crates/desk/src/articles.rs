//! Knowledge base articles: visibility, and turning a search box into a full-text query
//! that finds Russian and English words by their stem.

use serde::Deserialize;

use crate::{
    categories::CategoryScope,
    choice::choice,
    desk::{Desk, Outcome, check_version, require_active, require_staff},
    error::{Error, Fields, Result, required_text},
    events::{ArticleCreated, ArticleUpdated, DeskEvent},
    storage::{Page, Paged, Transaction},
    timestamps,
    users::User,
};

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
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
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

/// `POST /articles`: `{title, body, category_id?, visibility}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewArticle {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub category_id: Option<i64>,
    #[serde(default)]
    pub visibility: Option<String>,
}

/// `PATCH /articles/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ArticleChange {
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub category_id: Option<Option<i64>>,
    #[serde(default)]
    pub visibility: Option<String>,
}

async fn check_article_category(tx: &mut dyn Transaction, id: i64) -> Result<(), String> {
    match tx.category(id).await {
        Ok(Some(category)) if category.scope == CategoryScope::Article => Ok(()),
        Ok(_) => Err("no such article category".into()),
        Err(_) => Err("cannot be checked now".into()),
    }
}

/// Writes an article and appends `knowledge_article_created` to everyone or agents.
pub(crate) async fn create_article_in(
    tx: &mut dyn Transaction,
    actor: &User,
    input: &NewArticle,
    at: &str,
) -> Result<Outcome<Article>> {
    require_staff(actor, "write articles")?;
    let mut fields = Fields::new();
    let title = fields.check("title", required_text(&input.title, 200));
    let body = fields.check("body", required_text(&input.body, 100_000));
    let visibility = fields.check(
        "visibility",
        Visibility::parse(input.visibility.as_deref().unwrap_or("everyone")),
    );
    if let Some(id) = input.category_id {
        fields.check("category_id", check_article_category(tx, id).await);
    }
    fields.finish()?;
    let (Some(title), Some(body), Some(visibility)) = (title, body, visibility) else {
        return Err(Error::Internal("a parsed article lost a field".into()));
    };
    let draft = Article {
        id: 0,
        title,
        body,
        category_id: input.category_id,
        category_name: None,
        visibility,
        author_id: actor.id,
        author_name: actor.name.clone(),
        created_at: at.to_owned(),
        updated_at: at.to_owned(),
        version: 1,
        updated_by: Some(actor.id),
        updated_by_name: None,
    };
    let id = tx.insert_article(&draft).await?;
    let article = tx.article(id).await?.ok_or(Error::NotFound("article"))?;
    let event = DeskEvent::KnowledgeArticleCreated(ArticleCreated {
        article: article.summary(),
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(article, event))
}

/// Edits an article and appends `knowledge_article_updated`, to the audience of its
/// new visibility: an article made agents-only stops reaching requesters at once.
pub(crate) async fn change_article_in(
    tx: &mut dyn Transaction,
    actor: &User,
    id: i64,
    change: &ArticleChange,
    at: &str,
) -> Result<Outcome<Article>> {
    require_staff(actor, "edit articles")?;
    let old = tx.article(id).await?.ok_or(Error::NotFound("article"))?;
    check_version(change.version, old.version, old.updated_by_name.as_deref())?;
    let mut fields = Fields::new();
    let title = change
        .title
        .as_deref()
        .and_then(|t| fields.check("title", required_text(t, 200)));
    let body = change
        .body
        .as_deref()
        .and_then(|b| fields.check("body", required_text(b, 100_000)));
    let visibility = change
        .visibility
        .as_deref()
        .and_then(|v| fields.check("visibility", Visibility::parse(v)));
    if let Some(Some(category_id)) = change.category_id {
        fields.check("category_id", check_article_category(tx, category_id).await);
    }
    fields.finish()?;
    let mut new = old.clone();
    new.title = title.unwrap_or(new.title);
    new.body = body.unwrap_or(new.body);
    new.visibility = visibility.unwrap_or(new.visibility);
    new.category_id = change.category_id.unwrap_or(new.category_id);
    new.updated_at = at.to_owned();
    let changed: Vec<&'static str> = [
        ("title", old.title != new.title),
        ("body", old.body != new.body),
        ("visibility", old.visibility != new.visibility),
        ("category", old.category_id != new.category_id),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect();
    if changed.is_empty() {
        return Ok(Outcome::Unchanged(old));
    }
    tx.update_article(&new, actor.id).await?;
    let article = tx.article(id).await?.ok_or(Error::NotFound("article"))?;
    let event = DeskEvent::KnowledgeArticleUpdated(ArticleUpdated {
        article: article.summary(),
        changed_fields: &changed,
        attachments: &[],
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(article, event))
}

impl Desk {
    pub async fn create_article(&self, actor: &User, input: &NewArticle) -> Result<Article> {
        let now = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let outcome = create_article_in(work.tx(), actor, input, &now).await?;
        work.finish(outcome).await
    }

    pub async fn change_article(
        &self,
        actor: &User,
        id: i64,
        change: &ArticleChange,
    ) -> Result<Article> {
        let now = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let outcome = change_article_in(work.tx(), actor, id, change, &now).await?;
        work.finish(outcome).await
    }

    /// Articles `actor` may read; `q` searches full text (best matches first).
    pub async fn list_articles(
        &self,
        actor: &User,
        query: &ArticleQuery,
        page: Page,
    ) -> Result<Paged<Article>> {
        require_active(actor)?;
        let mut query = query.clone();
        query.with_agents_only = actor.role.is_staff();
        self.store.articles(&query, page).await
    }

    pub async fn get_article(&self, actor: &User, id: i64) -> Result<Article> {
        require_active(actor)?;
        let article = self
            .store
            .article(id)
            .await?
            .ok_or(Error::NotFound("article"))?;
        if article.visibility == Visibility::Agents && !actor.role.is_staff() {
            return Err(Error::NotFound("article"));
        }
        Ok(article)
    }
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
