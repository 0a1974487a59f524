//! A step's Markdown for a terminal (`scenario play`): paragraphs wrapped at 88 columns,
//! code blocks indented as they are, lists with dashes, inline code in backticks so a
//! student can see what to type, links with their address.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

const WIDTH: usize = 88;

/// `text` (Markdown) as plain lines for a terminal.
pub(crate) fn markdown(text: &str) -> String {
    let mut out = String::new();
    let mut para = String::new();
    let mut in_code = false;
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut link: Option<String> = None;
    let flush = |out: &mut String, para: &mut String, indent: &str, first: &str| {
        let words: Vec<&str> = para.split_whitespace().collect();
        if words.is_empty() {
            para.clear();
            return;
        }
        let mut line = first.to_string();
        let mut empty = true;
        for w in words {
            if !empty && line.chars().count() + 1 + w.chars().count() > WIDTH {
                out.push_str(line.trim_end());
                out.push('\n');
                line = indent.to_string();
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(w);
            empty = false;
        }
        out.push_str(line.trim_end());
        out.push('\n');
        para.clear();
    };
    let mut item_first: Option<String> = None;
    for ev in Parser::new(text) {
        match ev {
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                out.push('\n');
            }
            Event::Text(t) if in_code => {
                for line in t.lines() {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Event::Start(Tag::Heading { .. }) => {}
            Event::End(TagEnd::Heading(_)) => {
                let title = std::mem::take(&mut para);
                out.push_str(title.trim());
                out.push('\n');
                out.push_str(&"-".repeat(title.trim().chars().count().min(WIDTH)));
                out.push_str("\n\n");
            }
            Event::Start(Tag::List(start)) => {
                if !para.trim().is_empty() {
                    let (indent, first) = item_prefix(&lists, &mut item_first);
                    flush(&mut out, &mut para, &indent, &first);
                }
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                let depth = lists.len().saturating_sub(1);
                let marker = match lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}.");
                        *n += 1;
                        m
                    }
                    _ => "-".into(),
                };
                item_first = Some(format!("{}{marker} ", "  ".repeat(depth + 1)));
            }
            Event::End(TagEnd::Item) => {
                let (indent, first) = item_prefix(&lists, &mut item_first);
                flush(&mut out, &mut para, &indent, &first);
            }
            Event::End(TagEnd::Paragraph) => {
                if lists.is_empty() {
                    flush(&mut out, &mut para, "", "");
                    out.push('\n');
                } else {
                    let (indent, first) = item_prefix(&lists, &mut item_first);
                    flush(&mut out, &mut para, &indent, &first);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => link = Some(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = link.take()
                    && !para.ends_with(url.as_str())
                {
                    para.push_str(&format!(" ({url})"));
                }
            }
            Event::Text(t) => para.push_str(&t),
            Event::Code(c) => {
                para.push('`');
                para.push_str(&c);
                para.push('`');
            }
            Event::SoftBreak | Event::HardBreak => para.push(' '),
            Event::Html(h) | Event::InlineHtml(h) => para.push_str(&h),
            _ => {}
        }
    }
    if !para.trim().is_empty() {
        flush(&mut out, &mut para, "", "");
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The first line's prefix of the current list item (once), and the indent of the rest.
fn item_prefix(lists: &[Option<u64>], first: &mut Option<String>) -> (String, String) {
    let indent = "  ".repeat(lists.len() + 1);
    let first = first.take().unwrap_or_else(|| indent.clone());
    (indent, first)
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn code_stays_as_typed_and_prose_is_wrapped() {
        let md = "A **pod** is the smallest thing Kubernetes runs: one or more containers that share a network address. Apply it with `kubectl apply -f pod.yaml`:\n\n```yaml\napiVersion: v1\nkind: Pod\n```\n\n- one\n- two `x`\n\n1. first\n2. second\n";
        let out = markdown(md);
        assert!(out.lines().all(|l| l.chars().count() <= 88), "{out}");
        assert!(out.contains("`kubectl apply -f pod.yaml`"), "{out}");
        assert!(out.contains("    apiVersion: v1\n    kind: Pod\n"), "{out}");
        assert!(out.contains("  - one\n  - two `x`\n"), "{out}");
        assert!(out.contains("  1. first\n  2. second\n"), "{out}");
        assert!(!out.contains("**"), "{out}");
    }
}
