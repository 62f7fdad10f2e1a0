//! Knowledge articles are Markdown written by agents: rendered to HTML, then cleaned by
//! ammonia (scripts, event handlers and `javascript:` links removed), because an article
//! is read by everyone. Images may come only from the desk itself (a path on this
//! site): an image from elsewhere would tell its server who reads what, when (issue 9
//! point 6). The pages' Content-Security-Policy says the same to the browser.

use pulldown_cmark::{Options, Parser, html};

pub fn to_safe_html(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    );
    let mut unsafe_html = String::new();
    html::push_html(&mut unsafe_html, parser);
    ammonia::Builder::default()
        .attribute_filter(|element, attribute, value| {
            let foreign_image = element == "img" && attribute == "src" && !is_local_path(value);
            (!foreign_image).then_some(value.into())
        })
        .clean(&unsafe_html)
        .to_string()
}

/// `/attachments/7`, not `//tracker.example/x.gif`, `https://…` or `data:`.
fn is_local_path(url: &str) -> bool {
    url.starts_with('/') && !url.starts_with("//") && !url.contains('\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered() {
        assert!(to_safe_html("# Hi\n\n*x*").contains("<h1>Hi</h1>"));
    }

    #[test]
    fn only_the_desks_own_images_are_kept() {
        let html = to_safe_html(
            "![a](https://tracker.example/p.gif) ![b](//tracker.example/q.gif) \
             ![c](/attachments/7) <img src=\"http://tracker.example/r.gif\">",
        );
        assert!(!html.contains("tracker.example"), "{html}");
        assert!(html.contains(r#"src="/attachments/7""#), "{html}");
    }

    #[test]
    fn scripts_handlers_and_script_links_are_removed() {
        let html = to_safe_html(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1))",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
    }
}
