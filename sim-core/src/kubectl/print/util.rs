//! Small formatting helpers shared by the printers: labels, selectors, owner references, times.
//!
//! Ports of `labels.FormatLabels`, `metav1.FormatLabelSelector`, `LabelSelectorAsSelector(..).String()`
//! and Go's `time.RFC1123Z` layout.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use k8s_openapi::jiff::tz::TimeZone;

/// `labels.FormatLabels`: `k=v` pairs sorted by key and joined by commas, or `<none>`.
pub(crate) fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let s = join_labels(labels);
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s
    }
}

/// `k=v` pairs sorted by key and joined by commas (a BTreeMap is already sorted).
fn join_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    labels
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key; empty for an
/// empty or missing selector.
pub(crate) fn selector_string(sel: Option<&LabelSelector>) -> String {
    let Some(sel) = sel else {
        return String::new();
    };
    // (key, rendered requirement); a stable sort by key keeps matchLabels before expressions.
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(ml) = &sel.match_labels {
        for (k, v) in ml {
            reqs.push((k.clone(), format!("{k}={v}")));
        }
    }
    for e in sel.match_expressions.iter().flatten() {
        let mut values: Vec<String> = e.values.clone().unwrap_or_default();
        values.sort();
        values.dedup();
        let rendered = match e.operator.as_str() {
            "In" => format!("{} in ({})", e.key, values.join(",")),
            "NotIn" => format!("{} notin ({})", e.key, values.join(",")),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            other => format!("{} {} ({})", e.key, other.to_lowercase(), values.join(",")),
        };
        reqs.push((e.key.clone(), rendered));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter()
        .map(|(_, r)| r)
        .collect::<Vec<_>>()
        .join(",")
}

/// `metav1.FormatLabelSelector`: the selector string, or `<none>` when it is empty.
pub(crate) fn format_label_selector(sel: Option<&LabelSelector>) -> String {
    let s = selector_string(sel);
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s
    }
}

/// The owner reference with `controller: true`, as `metav1.GetControllerOf`.
pub(crate) fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// `intstr.IntOrString.String()`.
pub(crate) fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// Go's `time.RFC1123Z` layout (`Mon, 02 Jan 2006 15:04:05 -0700`), in UTC.
///
/// kubectl uses the student's local zone; kubesim prints UTC so output is deterministic.
pub(crate) fn rfc1123z(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC)
        .strftime("%a, %d %b %Y %H:%M:%S %z")
        .to_string()
}

/// [`rfc1123z`] of an optional time; Go prints the zero time for an unset one.
pub(crate) fn rfc1123z_opt(t: Option<&Time>) -> String {
    match t {
        Some(t) => rfc1123z(t.0),
        None => "Mon, 01 Jan 0001 00:00:00 +0000".to_string(),
    }
}

/// The string, or `""` when unset.
pub(crate) fn s(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn labels_sorted_and_none() {
        let mut m = BTreeMap::new();
        m.insert("pod-template-hash".to_string(), "5d8c7b9f4".to_string());
        m.insert("app".to_string(), "credit-scoring-api".to_string());
        assert_eq!(
            format_labels(Some(&m)),
            "app=credit-scoring-api,pod-template-hash=5d8c7b9f4"
        );
        assert_eq!(format_labels(None), "<none>");
        assert_eq!(format_labels(Some(&BTreeMap::new())), "<none>");
    }

    #[test]
    fn selector_with_expressions() {
        let sel = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".to_string(),
                    operator: "In".to_string(),
                    values: Some(vec!["front".to_string(), "back".to_string()]),
                },
                LabelSelectorRequirement {
                    key: "canary".to_string(),
                    operator: "DoesNotExist".to_string(),
                    values: None,
                },
            ]),
        };
        assert_eq!(
            selector_string(Some(&sel)),
            "app=web,!canary,tier in (back,front)"
        );
        assert_eq!(format_label_selector(None), "<none>");
    }

    #[test]
    fn rfc1123z_layout() {
        let t: Timestamp = "2026-11-23T09:05:03Z".parse().expect("timestamp");
        assert_eq!(rfc1123z(t), "Mon, 23 Nov 2026 09:05:03 +0000");
    }
}
