//! The InterPodAffinity plugin, its basics: the pod's required pod affinity and anti-affinity
//! terms and the required anti-affinity of the pods already placed (as a filter), the pod's
//! preferred terms (as a score). Port of `pkg/scheduler/framework/plugins/interpodaffinity`
//! (`filtering.go`: `satisfyPodAffinity`, `satisfyPodAntiAffinity`,
//! `satisfyExistingPodsAntiAffinity`; `scoring.go`).
//!
//! A pod without affinity terms costs one check of the (usually empty) set of placed pods with
//! required anti-affinity; one with terms counts the cluster's placed pods once.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{PodAffinityTerm, PodSpec};

use crate::api::selector::Selector;
use crate::sim::Sim;
use crate::store::{ObjId, PodState};

/// `ErrReasonAffinityRulesNotMatch`.
pub(crate) const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// `ErrReasonAntiAffinityRulesNotMatch`.
pub(crate) const REASON_ANTI: &str = "node(s) didn't match pod anti-affinity rules";
/// `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub(crate) const REASON_EXISTING_ANTI: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// One term as the framework keeps it (`AffinityTerm`): namespaces, selector, topology key.
#[derive(Debug, Clone)]
struct Term {
    /// `None`: every namespace (an empty `namespaceSelector`).
    namespaces: Option<BTreeSet<String>>,
    selector: Selector,
    key: String,
}

impl Term {
    fn matches(&self, p: &PodState) -> bool {
        self.namespaces
            .as_ref()
            .is_none_or(|ns| ns.contains(&*p.namespace))
            && self.selector.matches(p.labels())
    }
}

/// A topology pair: a label key and the value a node has for it.
type Pair = (String, String);

/// The pod's terms and what was counted for them (`preFilterState`, `preScoreState`).
#[derive(Debug, Default)]
pub(crate) struct PodAffinity {
    affinity: Vec<Term>,
    anti: Vec<Term>,
    affinity_counts: BTreeMap<Pair, i64>,
    anti_counts: BTreeMap<Pair, i64>,
    existing_anti: BTreeMap<Pair, i64>,
    /// Whether the pod matches all its own affinity terms (the first of a group may land).
    self_match: bool,
    /// The preferred terms' weights per topology pair (`topologyScore`).
    scores: BTreeMap<Pair, i64>,
    scored: bool,
}

impl PodAffinity {
    /// Whether the filter has anything to check.
    pub(crate) fn filters(&self) -> bool {
        !self.affinity.is_empty() || !self.anti.is_empty() || !self.existing_anti.is_empty()
    }

    /// Whether the score has anything to add (`PreScore` skips otherwise).
    pub(crate) fn scores(&self) -> bool {
        self.scored
    }

    /// The filter for one node's labels; the error is the reason.
    pub(crate) fn filter(&self, labels: &BTreeMap<String, String>) -> Result<(), &'static str> {
        // satisfyPodAffinity
        let mut pods_exist = true;
        for t in &self.affinity {
            let Some(v) = labels.get(&t.key) else {
                return Err(REASON_AFFINITY);
            };
            if self
                .affinity_counts
                .get(&(t.key.clone(), v.clone()))
                .copied()
                .unwrap_or(0)
                <= 0
            {
                pods_exist = false;
            }
        }
        if !(pods_exist || self.affinity_counts.is_empty() && self.self_match) {
            return Err(REASON_AFFINITY);
        }
        // satisfyPodAntiAffinity
        for t in &self.anti {
            if let Some(v) = labels.get(&t.key)
                && self
                    .anti_counts
                    .get(&(t.key.clone(), v.clone()))
                    .copied()
                    .unwrap_or(0)
                    > 0
            {
                return Err(REASON_ANTI);
            }
        }
        // satisfyExistingPodsAntiAffinity
        for ((k, v), c) in &self.existing_anti {
            if *c > 0 && labels.get(k) == Some(v) {
                return Err(REASON_EXISTING_ANTI);
            }
        }
        Ok(())
    }

    /// `InterPodAffinity.Score`: the weights of the node's topology pairs.
    pub(crate) fn score(&self, labels: &BTreeMap<String, String>) -> i64 {
        self.scores
            .iter()
            .filter(|((k, v), _)| labels.get(k) == Some(v))
            .map(|(_, w)| *w)
            .sum()
    }
}

/// `InterPodAffinity.NormalizeScore`: `100 * (s - min) / (max - min)`, all 0 when equal.
pub(crate) fn normalize(scores: &[i64]) -> impl Fn(i64) -> i64 {
    let min = scores.iter().copied().min().unwrap_or(0);
    let max = scores.iter().copied().max().unwrap_or(0);
    move |s| {
        if max > min {
            (super::resources::MAX_NODE_SCORE as f64 * ((s - min) as f64 / (max - min) as f64))
                as i64
        } else {
            0
        }
    }
}

/// The required anti-affinity terms of a pod's spec.
fn required_anti(spec: Option<&PodSpec>) -> &[PodAffinityTerm] {
    spec.and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or(&[])
}

/// Whether a placed pod joins the set the filter checks against every incoming pod.
pub(crate) fn has_required_anti(p: &PodState) -> bool {
    !required_anti(p.template.spec.as_ref()).is_empty()
}

impl Sim {
    /// `newAffinityTerm`: the term's namespaces (its own list, the namespaces its
    /// `namespaceSelector` selects, or the pod's namespace when it has neither) and selector
    /// (a missing selector matches nothing).
    fn term(&self, pod_ns: &str, t: &PodAffinityTerm) -> Option<Term> {
        let selector = Selector::from_label_selector(t.label_selector.as_ref()?).ok()?;
        let mut namespaces: BTreeSet<String> = t.namespaces.iter().flatten().cloned().collect();
        match &t.namespace_selector {
            Some(sel)
                if sel.match_labels.as_ref().is_none_or(|m| m.is_empty())
                    && sel.match_expressions.as_ref().is_none_or(|m| m.is_empty()) =>
            {
                return Some(Term {
                    namespaces: None,
                    selector,
                    key: t.topology_key.clone(),
                });
            }
            Some(sel) => {
                if let Ok(s) = Selector::from_label_selector(sel) {
                    let empty = BTreeMap::new();
                    for (_, ns) in self.store.namespaces.iter() {
                        if s.matches(ns.metadata.labels.as_ref().unwrap_or(&empty)) {
                            namespaces.extend(ns.metadata.name.clone());
                        }
                    }
                }
            }
            None if namespaces.is_empty() => {
                namespaces.insert(pod_ns.to_string());
            }
            None => {}
        }
        Some(Term {
            namespaces: Some(namespaces),
            selector,
            key: t.topology_key.clone(),
        })
    }

    fn terms(&self, pod_ns: &str, terms: &[PodAffinityTerm]) -> Vec<Term> {
        terms.iter().filter_map(|t| self.term(pod_ns, t)).collect()
    }

    /// The label value of `key` on the node a pod is bound to.
    fn pod_node_label(&self, p: &PodState, key: &str) -> Option<String> {
        let n = self.store.nodes.get(p.node?)?;
        n.node.metadata.labels.as_ref()?.get(key).cloned()
    }

    /// `PreFilter` and `PreScore` for one pod.
    pub(crate) fn pod_affinity_for(&self, pod: ObjId) -> PodAffinity {
        let mut out = PodAffinity::default();
        let Some(p) = self.store.pods.get(pod) else {
            return out;
        };
        // The placed pods whose required anti-affinity the incoming pod would break.
        for id in &self.sched.anti_pods {
            let Some(e) = self.store.pods.get(*id) else {
                continue;
            };
            for t in self.terms(&e.namespace, required_anti(e.template.spec.as_ref())) {
                if t.matches(p)
                    && let Some(v) = self.pod_node_label(e, &t.key)
                {
                    *out.existing_anti.entry((t.key.clone(), v)).or_default() += 1;
                }
            }
        }
        let spec = p.template.spec.as_ref();
        let aff = spec.and_then(|s| s.affinity.as_ref());
        let pa = aff.and_then(|a| a.pod_affinity.as_ref());
        let paa = aff.and_then(|a| a.pod_anti_affinity.as_ref());
        out.affinity = self.terms(
            &p.namespace,
            pa.and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_deref()
            })
            .unwrap_or(&[]),
        );
        out.anti = self.terms(&p.namespace, required_anti(spec));
        let mut preferred: Vec<(i64, Term)> = Vec::new();
        for (sign, list) in [
            (
                1,
                pa.and_then(|a| {
                    a.preferred_during_scheduling_ignored_during_execution
                        .as_deref()
                }),
            ),
            (
                -1,
                paa.and_then(|a| {
                    a.preferred_during_scheduling_ignored_during_execution
                        .as_deref()
                }),
            ),
        ] {
            for w in list.unwrap_or(&[]) {
                if let Some(t) = self.term(&p.namespace, &w.pod_affinity_term) {
                    preferred.push((sign * i64::from(w.weight), t));
                }
            }
        }
        out.self_match = out.affinity.iter().all(|t| t.matches(p));
        out.scored = !preferred.is_empty();
        if out.affinity.is_empty() && out.anti.is_empty() && preferred.is_empty() {
            return out;
        }
        for (_, e) in self.store.pods.iter() {
            if e.node.is_none() || e.id == pod {
                continue;
            }
            if !out.affinity.is_empty() && out.affinity.iter().all(|t| t.matches(e)) {
                for t in &out.affinity {
                    if let Some(v) = self.pod_node_label(e, &t.key) {
                        *out.affinity_counts.entry((t.key.clone(), v)).or_default() += 1;
                    }
                }
            }
            for t in &out.anti {
                if t.matches(e)
                    && let Some(v) = self.pod_node_label(e, &t.key)
                {
                    *out.anti_counts.entry((t.key.clone(), v)).or_default() += 1;
                }
            }
            for (w, t) in &preferred {
                if t.matches(e)
                    && let Some(v) = self.pod_node_label(e, &t.key)
                {
                    *out.scores.entry((t.key.clone(), v)).or_default() += w;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(key: &str) -> Term {
        Term {
            namespaces: None,
            selector: Selector::everything(),
            key: key.into(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn pair(k: &str, v: &str) -> Pair {
        (k.to_string(), v.to_string())
    }

    // filtering_test.go's TestRequiredAffinitySingleNode: a matching pod in the node's zone
    // satisfies affinity, none fails it, a node without the key fails it.
    #[test]
    fn required_affinity() {
        let mut a = PodAffinity {
            affinity: vec![term("zone")],
            ..Default::default()
        };
        a.affinity_counts.insert(pair("zone", "z1"), 1);
        assert!(a.filter(&labels(&[("zone", "z1")])).is_ok());
        assert_eq!(a.filter(&labels(&[("zone", "z2")])), Err(REASON_AFFINITY));
        assert_eq!(a.filter(&labels(&[])), Err(REASON_AFFINITY));
        // "satisfies the PodAffinity with itself": no pod matches anywhere and the pod
        // matches its own term.
        let a = PodAffinity {
            affinity: vec![term("zone")],
            self_match: true,
            ..Default::default()
        };
        assert!(a.filter(&labels(&[("zone", "z2")])).is_ok());
        assert_eq!(a.filter(&labels(&[])), Err(REASON_AFFINITY));
    }

    #[test]
    fn required_anti_affinity_both_ways() {
        let mut a = PodAffinity {
            anti: vec![term("kubernetes.io/hostname")],
            ..Default::default()
        };
        a.anti_counts
            .insert(pair("kubernetes.io/hostname", "n1"), 1);
        assert_eq!(
            a.filter(&labels(&[("kubernetes.io/hostname", "n1")])),
            Err(REASON_ANTI)
        );
        assert!(
            a.filter(&labels(&[("kubernetes.io/hostname", "n2")]))
                .is_ok()
        );
        let mut b = PodAffinity::default();
        b.existing_anti.insert(pair("zone", "z1"), 1);
        assert!(b.filters());
        assert_eq!(
            b.filter(&labels(&[("zone", "z1")])),
            Err(REASON_EXISTING_ANTI)
        );
        assert!(b.filter(&labels(&[("zone", "z2")])).is_ok());
    }

    // scoring_test.go: scores normalised between the lowest and the highest.
    #[test]
    fn preferred_scores_normalise_between_min_and_max() {
        let mut a = PodAffinity::default();
        a.scores.insert(pair("zone", "z1"), 5);
        a.scores.insert(pair("zone", "z2"), -5);
        let raw: Vec<i64> = ["z1", "z2", "z3"]
            .iter()
            .map(|z| a.score(&labels(&[("zone", z)])))
            .collect();
        assert_eq!(raw, vec![5, -5, 0]);
        let n = normalize(&raw);
        assert_eq!(
            raw.iter().map(|s| n(*s)).collect::<Vec<_>>(),
            vec![100, 0, 50]
        );
        let n = normalize(&[3, 3]);
        assert_eq!(n(3), 0);
    }
}
