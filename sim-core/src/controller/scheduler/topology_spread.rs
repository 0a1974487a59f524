//! The PodTopologySpread plugin: the pod's `topologySpreadConstraints` (DoNotSchedule ones as a
//! filter, ScheduleAnyway ones as a score) or, when it has none, the system default
//! constraints (ScheduleAnyway, maxSkew 3 by zone and 5 by hostname) over the pods its
//! ReplicaSet or Services select. Port of `pkg/scheduler/framework/plugins/podtopologyspread`
//! (`filtering.go`, `scoring.go`, `common.go`, `plugin.go`'s `systemDefaultConstraints`).
//!
//! Pods with an owner are counted by owner, as `nodeInfo.PodsWithOwnerRef` does; those counts
//! are kept up to date as pods are bound and removed ([`OwnerCounts`]), per node and per zone,
//! so scoring a node is two map lookups, not a walk over its pods.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::api::selector::Selector;
use crate::sim::Sim;
use crate::store::{ObjId, PodState};

/// `v1.LabelTopologyZone`.
pub(crate) const ZONE: &str = "topology.kubernetes.io/zone";
/// `v1.LabelHostname`.
pub(crate) const HOSTNAME: &str = "kubernetes.io/hostname";
/// `ErrReasonConstraintsNotMatch`.
pub(crate) const REASON: &str = "node(s) didn't match pod topology spread constraints";
/// `ErrReasonNodeLabelNotMatch`.
pub(crate) const REASON_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// `systemDefaultConstraints`.
const SYSTEM_DEFAULTS: [(&str, i32); 2] = [(ZONE, 3), (HOSTNAME, 5)];

/// Bound pods per owner, per node and per zone, kept as pods are bound and removed.
#[derive(Debug, Default)]
pub(crate) struct OwnerCounts {
    by_node: BTreeMap<ObjId, BTreeMap<ObjId, u32>>,
    by_zone: BTreeMap<ObjId, BTreeMap<Arc<str>, u32>>,
}

impl OwnerCounts {
    /// One pod of `owner` bound to (`up`) or gone from `node`, in `zone`.
    pub(crate) fn add(&mut self, owner: ObjId, node: ObjId, zone: Option<&Arc<str>>, up: bool) {
        fn step<K: Ord>(m: &mut BTreeMap<K, u32>, k: K, up: bool) {
            if up {
                *m.entry(k).or_default() += 1;
            } else if let Some(c) = m.get_mut(&k) {
                *c = c.saturating_sub(1);
                if *c == 0 {
                    m.remove(&k);
                }
            }
        }
        let nodes = self.by_node.entry(owner).or_default();
        step(nodes, node, up);
        if nodes.is_empty() {
            self.by_node.remove(&owner);
        }
        if let Some(z) = zone {
            let zones = self.by_zone.entry(owner).or_default();
            step(zones, z.clone(), up);
            if zones.is_empty() {
                self.by_zone.remove(&owner);
            }
        }
    }

    fn on_node(&self, owner: ObjId, node: ObjId) -> i64 {
        self.by_node
            .get(&owner)
            .and_then(|m| m.get(&node))
            .map_or(0, |c| i64::from(*c))
    }

    fn in_zone(&self, owner: ObjId, zone: &str) -> i64 {
        self.by_zone
            .get(&owner)
            .and_then(|m| m.get(zone))
            .map_or(0, |c| i64::from(*c))
    }

    /// The owner's pods per node.
    pub(crate) fn owner_nodes(&self, owner: ObjId) -> Option<&BTreeMap<ObjId, u32>> {
        self.by_node.get(&owner)
    }

    /// The owner's pods per zone.
    pub(crate) fn owner_zones(&self, owner: ObjId) -> Option<&BTreeMap<Arc<str>, u32>> {
        self.by_zone.get(&owner)
    }

    /// Recounts the zones from the per-node counts after nodes changed (a zone label may have).
    pub(crate) fn rezone(&mut self, zone_of: impl Fn(ObjId) -> Option<Arc<str>>) {
        self.by_zone.clear();
        for (owner, nodes) in &self.by_node {
            for (node, c) in nodes {
                if let Some(z) = zone_of(*node) {
                    *self
                        .by_zone
                        .entry(*owner)
                        .or_default()
                        .entry(z)
                        .or_default() += *c;
                }
            }
        }
    }
}

/// Which pods a constraint counts.
#[derive(Debug, Clone)]
enum Matcher {
    /// The pods of the same owner (`PodsWithOwnerRef`).
    Owner(ObjId),
    /// The pods of the namespace the selector matches, terminating ones left out
    /// (`countPodsMatchSelector`).
    Selector(Arc<str>, Selector),
}

/// One constraint as the plugin keeps it (`topologySpreadConstraint`).
#[derive(Debug, Clone)]
pub(crate) struct Constraint {
    key: String,
    max_skew: i64,
    min_domains: i64,
    hard: bool,
    matcher: Matcher,
}

/// The constraints of one pod and what was counted for them before filtering and scoring.
#[derive(Debug, Default)]
pub(crate) struct Spread {
    /// Constraints from the pod's spec (nodes missing a key are then ignored when scoring).
    user: bool,
    constraints: Vec<Constraint>,
    /// DoNotSchedule constraints' counts per topology value (`TpValueToMatchNum`) and the
    /// global minimum (`minMatchNum`), with whether the pod matches its own selector.
    hard: Vec<(usize, BTreeMap<String, i64>, i64, i64)>,
    /// ScheduleAnyway constraints' normalising weights, set by `prepare_score`.
    weights: Vec<f64>,
    /// ScheduleAnyway selector constraints' counts per topology value (not hostname).
    soft_counts: BTreeMap<usize, BTreeMap<String, i64>>,
}

impl Spread {
    pub(crate) fn has_hard(&self) -> bool {
        !self.hard.is_empty()
    }

    pub(crate) fn has_soft(&self) -> bool {
        self.constraints.iter().any(|c| !c.hard)
    }

    /// The owner, when these are the system defaults counted by owner (the common case,
    /// scored from the snapshot alone).
    pub(crate) fn default_owner(&self) -> Option<ObjId> {
        if self.user {
            return None;
        }
        match self.constraints.first().map(|c| &c.matcher) {
            Some(Matcher::Owner(o)) => Some(*o),
            _ => None,
        }
    }

    /// `initPreScoreState`'s weights for the system defaults: (hostname, zone), the hostname
    /// domains being the feasible nodes and the zone domains their distinct zone values ("" for
    /// a node without one, as the Go map keys it).
    pub(crate) fn default_weights<'a>(
        &self,
        feasible: impl Iterator<Item = &'a super::SchedNode>,
    ) -> (f64, f64) {
        // Called for every pod over every feasible node: clusters have a few zones, so the
        // distinct ones are a short list (no tree, no allocation while there is no zone).
        let mut hosts = 0usize;
        let mut zoneless = false;
        let mut zones: Vec<&str> = Vec::new();
        for n in feasible {
            hosts += 1;
            match n.zone.as_deref() {
                None | Some("") => zoneless = true,
                Some(z) => {
                    if !zones.contains(&z) {
                        zones.push(z);
                    }
                }
            }
        }
        (
            topology_normalizing_weight(hosts),
            topology_normalizing_weight(zones.len() + usize::from(zoneless)),
        )
    }

    /// The filter (`PodTopologySpread.Filter`) for one node's labels.
    pub(crate) fn filter(&self, labels: &BTreeMap<String, String>) -> Result<(), &'static str> {
        for (i, counts, min, self_match) in &self.hard {
            let c = &self.constraints[*i];
            let Some(value) = labels.get(&c.key) else {
                return Err(REASON_LABEL);
            };
            let matched = counts.get(value).copied().unwrap_or(0);
            if matched + self_match - min > c.max_skew {
                return Err(REASON);
            }
        }
        Ok(())
    }

    /// `initPreScoreState`'s weights over the nodes that passed the filters.
    pub(crate) fn prepare_score<'a>(
        &mut self,
        feasible: impl Iterator<Item = &'a BTreeMap<String, String>>,
    ) {
        let soft: Vec<&Constraint> = self.constraints.iter().filter(|c| !c.hard).collect();
        let mut values: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); soft.len()];
        let mut hosts = 0usize;
        for labels in feasible {
            if self.user && !soft.iter().all(|c| labels.contains_key(&c.key)) {
                continue;
            }
            hosts += 1;
            for (i, c) in soft.iter().enumerate() {
                if c.key != HOSTNAME {
                    values[i].insert(labels.get(&c.key).map_or("", |v| v.as_str()));
                }
            }
        }
        self.weights = soft
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let size = if c.key == HOSTNAME {
                    hosts
                } else {
                    values[i].len()
                };
                topology_normalizing_weight(size)
            })
            .collect();
    }

    /// `PodTopologySpread.Score` for one node: `None` for a node the score ignores.
    pub(crate) fn score(
        &self,
        sim: &Sim,
        node: ObjId,
        labels: &BTreeMap<String, String>,
    ) -> Option<i64> {
        let soft = self.constraints.iter().enumerate().filter(|(_, c)| !c.hard);
        if self.user && !soft.clone().all(|(_, c)| labels.contains_key(&c.key)) {
            return None;
        }
        let mut score = 0f64;
        for (k, (i, c)) in soft.enumerate() {
            let Some(value) = labels.get(&c.key) else {
                continue;
            };
            let cnt = match &c.matcher {
                Matcher::Owner(o) if c.key == HOSTNAME => sim.sched.counts.on_node(*o, node),
                Matcher::Owner(o) if c.key == ZONE => sim.sched.counts.in_zone(*o, value),
                Matcher::Selector(ns, sel) if c.key == HOSTNAME => {
                    count_on_node(sim, node, ns, sel)
                }
                _ => self
                    .soft_counts
                    .get(&i)
                    .and_then(|m| m.get(value))
                    .copied()
                    .unwrap_or(0),
            };
            let w = self.weights.get(k).copied().unwrap_or(1.0);
            score += score_for_count(cnt, c.max_skew, w);
        }
        Some(score.round() as i64)
    }
}

/// `PodTopologySpread.Score` for the system defaults (hostname maxSkew 5, zone maxSkew 3) by
/// owner: a node without the label of a constraint gets nothing for it.
pub(crate) fn default_score(
    n: &super::SchedNode,
    by_node: Option<&BTreeMap<ObjId, u32>>,
    by_zone: Option<&BTreeMap<Arc<str>, u32>>,
    (host_weight, zone_weight): (f64, f64),
) -> i64 {
    let mut score = 0f64;
    if let Some(z) = &n.zone {
        let cnt = by_zone.and_then(|m| m.get(z)).map_or(0, |c| i64::from(*c));
        score += score_for_count(cnt, i64::from(SYSTEM_DEFAULTS[0].1), zone_weight);
    }
    if n.hostname {
        let cnt = by_node
            .and_then(|m| m.get(&n.id))
            .map_or(0, |c| i64::from(*c));
        score += score_for_count(cnt, i64::from(SYSTEM_DEFAULTS[1].1), host_weight);
    }
    score.round() as i64
}

/// `topologyNormalizingWeight`.
fn topology_normalizing_weight(size: usize) -> f64 {
    ((size + 2) as f64).ln()
}

/// `scoreForCount`.
fn score_for_count(cnt: i64, max_skew: i64, weight: f64) -> f64 {
    cnt as f64 * weight + (max_skew - 1) as f64
}

/// `PodTopologySpread.NormalizeScore`: `100 * (max + min - s) / max` over the scored nodes;
/// an ignored node scores 0, and all score 100 when the highest is 0.
pub(crate) fn normalize(scores: &[Option<i64>]) -> impl Fn(Option<i64>) -> i64 {
    let min = scores.iter().flatten().copied().min().unwrap_or(i64::MAX);
    let max = scores.iter().flatten().copied().max().unwrap_or(0);
    move |s| match s {
        None => 0,
        Some(_) if max == 0 => super::resources::MAX_NODE_SCORE,
        Some(s) => super::resources::MAX_NODE_SCORE * (max + min - s) / max,
    }
}

/// Pods on the node in `ns` the selector matches, terminating ones left out.
fn count_on_node(sim: &Sim, node: ObjId, ns: &str, sel: &Selector) -> i64 {
    let Some(n) = sim.store.nodes.get(node) else {
        return 0;
    };
    n.pods
        .iter()
        .filter_map(|p| sim.store.pods.get(*p))
        .filter(|p| p.deletion.is_none() && &*p.namespace == ns && sel.matches(p.labels()))
        .count() as i64
}

/// A constraint's selector with `matchLabelKeys` merged in (the pod's values for those keys).
fn constraint_selector(c: &TopologySpreadConstraint, pod: &PodState) -> Option<Selector> {
    let mut sel: LabelSelector = c.label_selector.clone()?;
    for k in c.match_label_keys.iter().flatten() {
        if let Some(v) = pod.labels().get(k) {
            sel.match_labels
                .get_or_insert_with(Default::default)
                .insert(k.clone(), v.clone());
        }
    }
    Selector::from_label_selector(&sel).ok()
}

impl Sim {
    /// The pod's constraints and the counts the filter needs (`PreFilter`), the default
    /// constraints when the pod has none of its own (`buildDefaultConstraints`).
    pub(crate) fn spread_for(&self, pod: ObjId) -> Spread {
        let Some(p) = self.store.pods.get(pod) else {
            return Spread::default();
        };
        let own = p
            .template
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_deref())
            .unwrap_or(&[]);
        if own.is_empty() {
            return self.default_spread(p);
        }
        let mut spread = Spread {
            user: true,
            ..Default::default()
        };
        for c in own {
            let Some(sel) = constraint_selector(c, p) else {
                continue;
            };
            spread.constraints.push(Constraint {
                key: c.topology_key.clone(),
                max_skew: i64::from(c.max_skew),
                min_domains: i64::from(c.min_domains.unwrap_or(1)),
                hard: c.when_unsatisfiable != "ScheduleAnyway",
                matcher: Matcher::Selector(p.namespace.clone(), sel),
            });
        }
        self.count_domains(p, &mut spread);
        spread
    }

    /// `buildDefaultConstraints`: none when no Service, ReplicaSet or StatefulSet selects the
    /// pod; counted by owner when the pod has one.
    fn default_spread(&self, p: &PodState) -> Spread {
        let matcher = match p.owner {
            Some(o) => Matcher::Owner(o),
            None => {
                let mut labels = BTreeMap::new();
                for id in self.store.services.ids_in(&p.namespace) {
                    let Some((_, svc)) = self.store.services.get(id) else {
                        continue;
                    };
                    let sel = svc.spec.as_ref().and_then(|s| s.selector.as_ref());
                    if let Some(sel) = sel.filter(|s| !s.is_empty())
                        && sel.iter().all(|(k, v)| p.labels().get(k) == Some(v))
                    {
                        labels.extend(sel.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                }
                if labels.is_empty() {
                    return Spread::default();
                }
                let sel = LabelSelector {
                    match_labels: Some(labels),
                    match_expressions: None,
                };
                match Selector::from_label_selector(&sel) {
                    Ok(s) => Matcher::Selector(p.namespace.clone(), s),
                    Err(_) => return Spread::default(),
                }
            }
        };
        let mut spread = Spread::default();
        for (key, max_skew) in SYSTEM_DEFAULTS {
            spread.constraints.push(Constraint {
                key: key.into(),
                max_skew: i64::from(max_skew),
                min_domains: 1,
                hard: false,
                matcher: matcher.clone(),
            });
        }
        if let Matcher::Selector(..) = matcher {
            self.count_domains(p, &mut spread);
        }
        spread
    }

    /// Counts, over every node that matches the pod's required node affinity and has all the
    /// constraints' keys (`nodeAffinityPolicy: Honor`), the matching pods per topology value.
    fn count_domains(&self, p: &PodState, spread: &mut Spread) {
        let affinity =
            super::node_affinity::RequiredNodeAffinity::from_spec(p.template.spec.as_ref());
        let mut counts: Vec<BTreeMap<String, i64>> =
            vec![BTreeMap::new(); spread.constraints.len()];
        for (_, n) in self.store.nodes.iter() {
            let empty = BTreeMap::new();
            let labels = n.node.metadata.labels.as_ref().unwrap_or(&empty);
            if !affinity.matches(&n.name, labels) {
                continue;
            }
            if spread.user
                && !spread
                    .constraints
                    .iter()
                    .all(|c| labels.contains_key(&c.key))
            {
                continue;
            }
            for (i, c) in spread.constraints.iter().enumerate() {
                if !c.hard && c.key == HOSTNAME {
                    continue;
                }
                let value = labels.get(&c.key).cloned().unwrap_or_default();
                let Matcher::Selector(ns, sel) = &c.matcher else {
                    continue;
                };
                let matched = n
                    .pods
                    .iter()
                    .filter_map(|q| self.store.pods.get(*q))
                    .filter(|q| {
                        q.deletion.is_none() && q.namespace == *ns && sel.matches(q.labels())
                    })
                    .count() as i64;
                *counts[i].entry(value).or_default() += matched;
            }
        }
        for (i, (c, counted)) in spread.constraints.iter().zip(counts).enumerate() {
            if c.hard {
                let domains = counted.len() as i64;
                let min = if domains < c.min_domains {
                    0
                } else {
                    counted.values().copied().min().unwrap_or(0)
                };
                let self_match = match &c.matcher {
                    Matcher::Selector(_, sel) => i64::from(sel.matches(p.labels())),
                    Matcher::Owner(_) => 1,
                };
                spread.hard.push((i, counted, min, self_match));
            } else if c.key != HOSTNAME {
                spread.soft_counts.insert(i, counted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // scoring_test.go's TestPodTopologySpreadScore, "one constraint on node, all 4 nodes are
    // candidates" (maxSkew 1 by hostname, matching pods spread as 2/1/0/3, weight ln 6).
    #[test]
    fn scores_and_normalisation_follow_the_go_table() {
        let w = topology_normalizing_weight(4);
        let raw: Vec<Option<i64>> = [2, 1, 0, 3]
            .iter()
            .map(|c| Some(score_for_count(*c, 1, w).round() as i64))
            .collect();
        let norm = normalize(&raw);
        let got: Vec<i64> = raw.iter().map(|s| norm(*s)).collect();
        assert_eq!(got, vec![20, 60, 100, 0]);
        // "no existing pods": every node scores 100.
        let raw = vec![Some(0), Some(0)];
        let norm = normalize(&raw);
        assert_eq!(norm(Some(0)), 100);
        // An ignored node scores 0.
        assert_eq!(norm(None), 0);
    }

    // The default constraint by hostname (maxSkew 5) on three nodes: ln(5) per pod plus 4.
    #[test]
    fn default_hostname_constraint_waters_down_small_skews() {
        let w = topology_normalizing_weight(3);
        let raw: Vec<Option<i64>> = [3, 3, 3]
            .iter()
            .map(|c| Some(score_for_count(*c, 5, w).round() as i64))
            .collect();
        assert_eq!(raw, vec![Some(9), Some(9), Some(9)]);
        let raw = vec![Some(9), Some(9), Some(4)];
        let norm = normalize(&raw);
        assert_eq!(
            raw.iter().map(|s| norm(*s)).collect::<Vec<_>>(),
            vec![44, 44, 100]
        );
    }

    #[test]
    fn owner_counts_follow_binds_and_removals() {
        let mut c = OwnerCounts::default();
        let (owner, n1, n2): (ObjId, ObjId, ObjId) = (1, 10, 11);
        let a: Arc<str> = "a".into();
        c.add(owner, n1, Some(&a), true);
        c.add(owner, n1, Some(&a), true);
        c.add(owner, n2, None, true);
        assert_eq!(c.on_node(owner, n1), 2);
        assert_eq!(c.in_zone(owner, "a"), 2);
        c.add(owner, n1, Some(&a), false);
        assert_eq!(c.on_node(owner, n1), 1);
        assert_eq!(c.in_zone(owner, "a"), 1);
        let b: Arc<str> = "b".into();
        c.rezone(|n| if n == n2 { Some(b.clone()) } else { None });
        assert_eq!(c.in_zone(owner, "a"), 0);
        assert_eq!(c.in_zone(owner, "b"), 1);
    }

    // filtering_test.go's TestSingleConstraint, "pods spread across zones as 3/3, all nodes
    // fit" and "... 3/1, only zone2 fits" (maxSkew 1).
    #[test]
    fn hard_constraint_skew() {
        let sel = Selector::from_label_selector(&LabelSelector {
            match_labels: Some([("foo".to_string(), String::new())].into()),
            match_expressions: None,
        })
        .unwrap_or_else(|_| Selector::everything());
        let mk = |a: i64, b: i64| Spread {
            user: true,
            constraints: vec![Constraint {
                key: "zone".into(),
                max_skew: 1,
                min_domains: 1,
                hard: true,
                matcher: Matcher::Selector("default".into(), sel.clone()),
            }],
            hard: vec![(
                0,
                [("zone1".to_string(), a), ("zone2".to_string(), b)].into(),
                a.min(b),
                1,
            )],
            ..Default::default()
        };
        let zone =
            |z: &str| -> BTreeMap<String, String> { [("zone".to_string(), z.to_string())].into() };
        let s = mk(3, 3);
        assert!(s.filter(&zone("zone1")).is_ok());
        assert!(s.filter(&zone("zone2")).is_ok());
        let s = mk(3, 1);
        assert_eq!(s.filter(&zone("zone1")), Err(REASON));
        assert!(s.filter(&zone("zone2")).is_ok());
        assert_eq!(s.filter(&BTreeMap::new()), Err(REASON_LABEL));
    }
}
