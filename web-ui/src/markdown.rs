//! Scenario text (steps, goals, hints) from Markdown to HTML, safely: pulldown-cmark with
//! raw HTML escaped.

/// A step's Markdown as HTML: CommonMark plus tables; raw HTML is shown as text, links to
/// `javascript:` go nowhere, and each code block gets a copy button.
pub(crate) fn markdown(text: &str) -> String {
    use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let events = parser.flat_map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => vec![Event::Text(h)],
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let safe = !dest_url
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("javascript:");
            vec![Event::Start(Tag::Link {
                link_type,
                dest_url: if safe { dest_url } else { CowStr::from("#") },
                title,
                id,
            })]
        }
        Event::Start(Tag::CodeBlock(k)) => vec![
            Event::Html(CowStr::from(
                "<div class=\"code\"><button type=\"button\" class=\"copy\" title=\"copy to the clipboard\">copy</button>",
            )),
            Event::Start(Tag::CodeBlock(k)),
        ],
        Event::End(TagEnd::CodeBlock) => {
            vec![Event::End(TagEnd::CodeBlock), Event::Html("</div>".into())]
        }
        e => vec![e],
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// One line of Markdown (a goal, a hint) without the surrounding paragraph.
pub(crate) fn markdown_inline(text: &str) -> String {
    let html = markdown(text);
    let t = html.trim();
    match t
        .strip_prefix("<p>")
        .and_then(|s| s.strip_suffix("</p>"))
        .filter(|s| !s.contains("<p>"))
    {
        Some(inner) => inner.to_string(),
        None => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_html_and_marks_code_blocks() {
        let html = markdown(
            "Run <script>alert(1)</script> [x](javascript:alert(1)):\n\n```\nkubectl get pods\n```\n",
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(
            html.contains("<div class=\"code\"><button type=\"button\" class=\"copy\""),
            "{html}"
        );
        assert!(
            html.contains("<pre><code>kubectl get pods\n</code></pre>\n</div>"),
            "{html}"
        );
        assert_eq!(markdown_inline("use `kubectl`"), "use <code>kubectl</code>");
    }
}
