//! The NodeAffinity plugin: the pod's `nodeSelector` and required node affinity as a filter,
//! its preferred terms as a score. Port of `pkg/scheduler/framework/plugins/nodeaffinity` and
//! `k8s.io/component-helpers/scheduling/corev1/nodeaffinity` (`RequiredNodeAffinity`,
//! `nodeSelectorRequirementsAsSelector`, `nodeSelectorRequirementsAsFieldSelector`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PreferredSchedulingTerm,
};

/// The filter's reason (`ErrReasonPod`).
pub(crate) const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

/// `GetRequiredNodeAffinity`: the `nodeSelector` and the required terms, both must match.
#[derive(Debug, Default, Clone)]
pub(crate) struct RequiredNodeAffinity {
    selector: BTreeMap<String, String>,
    /// The required terms, ORed; `None` when the pod has none.
    terms: Option<Vec<NodeSelectorTerm>>,
}

impl RequiredNodeAffinity {
    pub(crate) fn from_spec(spec: Option<&PodSpec>) -> RequiredNodeAffinity {
        RequiredNodeAffinity {
            selector: spec
                .and_then(|s| s.node_selector.clone())
                .unwrap_or_default(),
            terms: spec
                .and_then(|s| s.affinity.as_ref())
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|a| {
                    a.required_during_scheduling_ignored_during_execution
                        .as_ref()
                })
                .map(|r| r.node_selector_terms.clone()),
        }
    }

    /// Whether the pod constrains nodes at all (most do not: the filter is then skipped).
    pub(crate) fn is_empty(&self) -> bool {
        self.selector.is_empty() && self.terms.is_none()
    }

    /// `RequiredNodeAffinity.Match`.
    pub(crate) fn matches(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        if !self.selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            return false;
        }
        match &self.terms {
            None => true,
            Some(terms) => terms.iter().any(|t| term_matches(t, name, labels)),
        }
    }
}

/// One node selector term: every expression and every field requirement; a term with
/// neither matches nothing, and a term that does not parse matches nothing.
pub(crate) fn term_matches(
    term: &NodeSelectorTerm,
    name: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels) == Some(true))
        && fields.iter().all(|r| field_matches(r, name) == Some(true))
}

/// `nodeSelectorRequirementsAsSelector` for one requirement, then its match; `None` when it
/// does not parse (In/NotIn without values, Exists/DoesNotExist with values, Gt/Lt without
/// exactly one integer).
pub(crate) fn requirement_matches(
    r: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Option<bool> {
    let values = r.values.as_deref().unwrap_or(&[]);
    let have = labels.get(&r.key);
    match r.operator.as_str() {
        "In" if !values.is_empty() => Some(have.is_some_and(|v| values.contains(v))),
        "NotIn" if !values.is_empty() => Some(have.is_none_or(|v| !values.contains(v))),
        "Exists" if values.is_empty() => Some(have.is_some()),
        "DoesNotExist" if values.is_empty() => Some(have.is_none()),
        op @ ("Gt" | "Lt") if values.len() == 1 => {
            let want: i64 = values[0].parse().ok()?;
            Some(
                have.and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| if op == "Gt" { v > want } else { v < want }),
            )
        }
        _ => None,
    }
}

/// `nodeSelectorRequirementsAsFieldSelector`: `metadata.name` with In or NotIn and one value.
fn field_matches(r: &NodeSelectorRequirement, name: &str) -> Option<bool> {
    let values = r.values.as_deref().unwrap_or(&[]);
    if values.len() != 1 {
        return None;
    }
    let value = if r.key == "metadata.name" { name } else { "" };
    match r.operator.as_str() {
        "In" => Some(value == values[0]),
        "NotIn" => Some(value != values[0]),
        _ => None,
    }
}

/// The pod's preferred terms (the score is skipped when there are none).
pub(crate) fn preferred_terms(spec: Option<&PodSpec>) -> Vec<PreferredSchedulingTerm> {
    spec.and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .clone()
        })
        .unwrap_or_default()
}

/// `NodeAffinity.Score`: the sum of the weights of the preferred terms the node matches
/// (a term with weight 0 is skipped), normalised later by `DefaultNormalizeScore`.
pub(crate) fn preferred_score(
    terms: &[PreferredSchedulingTerm],
    name: &str,
    labels: &BTreeMap<String, String>,
) -> i64 {
    terms
        .iter()
        .filter(|t| t.weight != 0 && term_matches(&t.preference, name, labels))
        .map(|t| i64::from(t.weight))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Affinity, NodeAffinity, NodeSelector};

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: if values.is_empty() {
                None
            } else {
                Some(values.iter().map(|v| v.to_string()).collect())
            },
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: Some(exprs),
            match_fields: None,
        }
    }

    fn required(terms: Vec<NodeSelectorTerm>) -> RequiredNodeAffinity {
        RequiredNodeAffinity::from_spec(Some(&PodSpec {
            affinity: Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: terms,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    // From node_affinity_test.go's TestNodeAffinity table (the cases without selectors).
    #[test]
    fn operators() {
        let l = labels(&[("foo", "bar"), ("kernel-version", "0206")]);
        let cases = [
            (req("foo", "In", &["value1", "bar"]), Some(true)),
            (req("foo", "In", &["value1"]), Some(false)),
            (req("foo", "NotIn", &["value1", "value2"]), Some(true)),
            (req("foo", "NotIn", &["bar"]), Some(false)),
            (req("missing", "NotIn", &["bar"]), Some(true)),
            (req("foo", "Exists", &[]), Some(true)),
            (req("foo", "DoesNotExist", &[]), Some(false)),
            (req("missing", "DoesNotExist", &[]), Some(true)),
            (req("kernel-version", "Gt", &["0204"]), Some(true)),
            (req("kernel-version", "Lt", &["0204"]), Some(false)),
            (req("kernel-version", "Gt", &["0206"]), Some(false)),
            (req("foo", "Gt", &["1"]), Some(false)),
            (req("kernel-version", "Gt", &["1", "2"]), None),
            (req("kernel-version", "Gt", &["x"]), None),
            (req("foo", "In", &[]), None),
            (req("foo", "Exists", &["bar"]), None),
            (req("foo", "Bogus", &["bar"]), None),
        ];
        for (r, want) in cases {
            assert_eq!(requirement_matches(&r, &l), want, "{r:?}");
        }
    }

    #[test]
    fn terms_are_ored_and_expressions_anded() {
        let l = labels(&[("foo", "bar"), ("zone", "a")]);
        // "Pod with multiple matchExpressions ANDed that doesn't match the existing node".
        let a = required(vec![term(vec![
            req("foo", "In", &["bar"]),
            req("zone", "In", &["b"]),
        ])]);
        assert!(!a.matches("node-1", &l));
        // "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels".
        let a = required(vec![
            term(vec![req("zone", "In", &["b"])]),
            term(vec![req("foo", "Exists", &[])]),
        ]);
        assert!(a.matches("node-1", &l));
        // "Pod with an empty NodeSelectorTerm in affinity, can't schedule onto the node".
        let a = required(vec![NodeSelectorTerm::default()]);
        assert!(!a.matches("node-1", &l));
        // "Pod with no NodeSelectorTerms": nothing matches.
        assert!(!required(vec![]).matches("node-1", &l));
        // A term that fails to parse does not stop the next one.
        let a = required(vec![
            term(vec![req("foo", "In", &[])]),
            term(vec![req("foo", "In", &["bar"])]),
        ]);
        assert!(a.matches("node-1", &l));
    }

    #[test]
    fn match_fields_on_the_node_name() {
        let field = |op: &str, v: &str| NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![req("metadata.name", op, &[v])]),
        };
        let l = labels(&[]);
        assert!(required(vec![field("In", "node-1")]).matches("node-1", &l));
        assert!(!required(vec![field("In", "node-1")]).matches("node-2", &l));
        assert!(required(vec![field("NotIn", "node-1")]).matches("node-2", &l));
        assert!(!required(vec![field("Exists", "node-1")]).matches("node-1", &l));
    }

    #[test]
    fn node_selector_and_affinity_must_both_match() {
        let mut spec = PodSpec {
            node_selector: Some(labels(&[("disk", "ssd")])),
            ..Default::default()
        };
        let a = RequiredNodeAffinity::from_spec(Some(&spec));
        assert!(a.matches("n", &labels(&[("disk", "ssd")])));
        assert!(!a.matches("n", &labels(&[("disk", "hdd")])));
        spec.affinity = required(vec![term(vec![req("zone", "In", &["a"])])])
            .terms
            .map(|t| Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: t,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        let a = RequiredNodeAffinity::from_spec(Some(&spec));
        assert!(!a.matches("n", &labels(&[("disk", "ssd")])));
        assert!(a.matches("n", &labels(&[("disk", "ssd"), ("zone", "a")])));
        assert!(RequiredNodeAffinity::from_spec(None).is_empty());
    }

    // TestNodeAffinityPriority: the weights of the matching preferred terms add up.
    #[test]
    fn preferred_weights_add_up() {
        let pref = |w: i32, k: &str, v: &str| PreferredSchedulingTerm {
            weight: w,
            preference: term(vec![req(k, "In", &[v])]),
        };
        let terms = vec![
            pref(2, "foo", "bar"),
            pref(4, "key", "value"),
            pref(0, "a", "b"),
        ];
        assert_eq!(preferred_score(&terms, "n", &labels(&[("foo", "bar")])), 2);
        assert_eq!(
            preferred_score(
                &terms,
                "n",
                &labels(&[("foo", "bar"), ("key", "value"), ("a", "b")])
            ),
            6
        );
        assert_eq!(preferred_score(&terms, "n", &labels(&[])), 0);
    }
}
