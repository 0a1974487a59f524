//! Label selectors (interim).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// Whether `sel` selects `labels` (matchLabels only in the interim version).
pub fn label_selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    sel.match_labels
        .as_ref()
        .is_some_and(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// A parsed selector.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Selector(Vec<(String, String)>);

/// Why a selector is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse requirement: {0}")]
pub struct SelectorError(pub String);

impl Selector {
    /// Selects everything.
    pub fn everything() -> Selector {
        Selector::default()
    }
    /// From an API selector.
    pub fn from_label_selector(sel: &LabelSelector) -> Result<Selector, SelectorError> {
        Ok(Selector(
            sel.match_labels
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        ))
    }
    /// Parses `a=b,c=d`.
    pub fn parse(s: &str) -> Result<Selector, SelectorError> {
        let mut v = Vec::new();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let (k, val) = part
                .split_once('=')
                .ok_or_else(|| SelectorError(part.into()))?;
            v.push((
                k.trim_end_matches('=').into(),
                val.trim_start_matches('=').into(),
            ));
        }
        Ok(Selector(v))
    }
    /// Whether it matches.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
    /// Whether it selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<_> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(","))
    }
}
