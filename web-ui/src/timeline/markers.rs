//! The timeline's action markers: what each says (the command in a few words) and where
//! its label goes, so labels never run past the chart or over each other.

use std::fmt::Write;

use super::{Grown, LEFT, RIGHT, TOP, W, esc, num};

/// What a marker says: what changed, in the words of the command without the program, the
/// object and the namespace (`set image api=…:v2`, `rollout undo --to-revision=1`,
/// `scale --replicas=12`), an image's registry and path shortened to `…`. The whole command
/// is the marker's tooltip.
pub(super) fn marker_words(full: &str) -> String {
    let Some(rest) = full.strip_prefix("kubectl ") else {
        return full.to_string();
    };
    const KINDS: [&str; 6] = [
        "deployment",
        "deployments",
        "deploy",
        "deployment.apps",
        "rs",
        "replicaset",
    ];
    let mut out: Vec<String> = Vec::new();
    let mut words = rest.split_whitespace().peekable();
    // The verb (`scale`; `set image`, `rollout undo`: with its sub-command), after which the
    // first bare word is the object's name (`set image web api=…`).
    let verb = match words.peek().copied() {
        Some("set" | "rollout") => 2,
        Some("scale" | "autoscale" | "label" | "annotate") => 1,
        _ => 0,
    };
    for _ in 0..verb {
        if let Some(w) = words.next() {
            out.push(w.to_string());
        }
    }
    let mut named = verb == 0;
    while let Some(w) = words.next() {
        if !named && !w.starts_with('-') && !w.contains('=') && !KINDS.contains(&w) {
            named = true;
            if !w.contains('/') {
                continue;
            }
        }
        if matches!(w, "-n" | "--namespace") {
            words.next();
            continue;
        }
        if w.starts_with("--namespace=")
            || (w.starts_with("-n") && w.len() > 2 && !w.starts_with("--"))
        {
            continue;
        }
        if KINDS.contains(&w) {
            named = true;
            // `deployment NAME`: the object, not what changed.
            if words
                .peek()
                .is_some_and(|n| !n.starts_with('-') && !n.contains('='))
            {
                words.next();
            }
            continue;
        }
        if w.contains('/') && !w.contains('=') {
            continue;
        }
        out.push(short_image(w));
    }
    out.join(" ")
}

/// `api=registry.local/credit-scoring-api:v2` as `api=…:v2`; other words as they are.
fn short_image(w: &str) -> String {
    let Some((name, image)) = w.split_once('=') else {
        return w.to_string();
    };
    if name.starts_with('-') || !image.contains('/') {
        return w.to_string();
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => format!("{name}=…:{tag}"),
        None => format!("{name}=…/{last}"),
    }
}

/// Width of a marker label's text in the chart's units (10 px DejaVu Sans, rounded up), for
/// placing it.
fn label_width(text: &str) -> f64 {
    6.2 * text.chars().count() as f64
}

/// Rows of marker labels at the top of a chart.
const LABEL_ROWS: usize = 7;

/// The longest marker label shown; a longer one ends in `…` (the tooltip has it whole).
pub(super) const MAX_LABEL: usize = 36;

/// Each marker's label, beside its line where the window puts it: after the line, or before
/// it when it would run past the chart's right edge; a label that would run into another goes
/// a line lower. Each has the whole command as its tooltip (`<title>`), so no label is cut.
pub(super) fn marker_labels(
    out: &mut Grown,
    chart: &str,
    marks: &[&(f64, String)],
    t0: f64,
    now: f64,
) {
    let x = |t: f64| LEFT + (t - t0) / (now - t0).max(1e-9) * (W - LEFT - RIGHT);
    let mut rows: Vec<Vec<(f64, f64)>> = Vec::new();
    for (i, (at, full)) in marks.iter().enumerate() {
        let mut text = marker_words(full);
        if text.chars().count() > MAX_LABEL {
            text = text.chars().take(MAX_LABEL - 1).collect::<String>() + "…";
        }
        let width = label_width(&text);
        let line = x(*at);
        let before = line + 3.0 + width > W - RIGHT;
        let (from, to) = if before {
            (line - 3.0 - width, line - 3.0)
        } else {
            (line + 3.0, line + 3.0 + width)
        };
        let free = |r: &Vec<(f64, f64)>| r.iter().all(|(a, b)| to < *a || from > *b);
        let row = rows.iter().position(free).unwrap_or(rows.len());
        // Beyond the last row a label is left out (its line's tooltip says it), never drawn
        // over another.
        let shown = *at >= t0 && row < LABEL_ROWS;
        if shown {
            if row == rows.len() {
                rows.push(Vec::new());
            }
            rows[row].push((from, to));
        }
        let _ = write!(
            out,
            r#"<text class="marker-label{}" data-at="{}""#,
            if before { " before" } else { "" },
            num(*at)
        );
        let place = format!(
            "translate({:.1} {:.1}){}",
            if before { line - 3.0 } else { line + 3.0 },
            TOP + 10.0 + 11.0 * row.min(LABEL_ROWS - 1) as f64,
            if shown { "" } else { " scale(0)" }
        );
        out.live_attr(&format!("{chart}/mark-{i}"), "transform", place);
        let _ = write!(out, "><title>{}</title>{}</text>", esc(full), esc(&text));
    }
}
