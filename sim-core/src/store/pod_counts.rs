//! What a ReplicaSet's status counts of its pods, kept up to date as each pod changes.
//!
//! The real controller's `calculateStatus` walks the ReplicaSet's pods on every sync. Here
//! pods of one rollout become ready milliseconds apart and each of those changes syncs the
//! ReplicaSet, so a 100-replica ReplicaSet walked its 100 pods (a table lookup each, twice)
//! about once per pod change: most of a large run's time. Instead each pod remembers what
//! it added to its owner's counts ([`Counted`]), and every pod write (`Sim::pod_changed`)
//! takes back the old share and adds the new one, so a sync reads a handful of numbers.
//!
//! The same shares count each controller family's active pods per node (a Deployment's
//! ReplicaSets, or a ReplicaSet without one): `getPodsToDelete` ranks a pod by how many of its
//! family share its node, which was a walk over the whole family per scale-down.
//!
//! The counts do not depend on time, except availability with `minReadySeconds`, which
//! [`PodCounts::latest_ready`] answers for the common case (every ready pod has been ready
//! long enough) and the caller's walk answers otherwise. Debug builds check the counts
//! against the walk on every status update.

use std::sync::Arc;

use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::{ObjId, Store};
use crate::time::SimTime;

/// One pod's share of its owner's counts, as last added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    /// The owning ReplicaSet the share went to.
    owner: ObjId,
    /// Active: not terminal and not being deleted.
    active: bool,
    /// Active and Ready.
    ready: bool,
    /// Active and carrying every label of the owner's template (`fullyLabeledReplicas`).
    labeled: bool,
    /// The owner's family (its Deployment, or itself) and the pod's node, counted in
    /// [`Store::family_pods_on`] while the pod is active and bound.
    family: ObjId,
    node: Option<ObjId>,
}

/// A ReplicaSet's pods, counted.
#[derive(Clone, Debug)]
pub struct PodCounts {
    /// Active pods (`status.replicas`).
    pub active: i32,
    /// Active and Ready.
    pub ready: i32,
    /// Active with every label of `template` (`status.fullyLabeledReplicas`).
    pub labeled: i32,
    /// An upper bound on the last Ready transition of the ready pods: when it is more than
    /// `minReadySeconds` ago, every ready pod is available.
    pub latest_ready: SimTime,
    /// The owner's template the `labeled` shares were judged against; when the owner's
    /// template is replaced, the counts are taken again ([`Store::pod_counts`]).
    template: Arc<PodTemplateSpec>,
    /// The family the shares went to; when the owner is adopted or orphaned, the counts are
    /// taken again.
    family: ObjId,
}

impl Store {
    /// Takes back pod `id`'s last share of its owner's counts and adds its current one.
    /// Called on every pod write; a pod without a ReplicaSet owner counts nowhere.
    pub(crate) fn count_pod(&mut self, id: ObjId) {
        let Some(p) = self.pods.get(id) else {
            return;
        };
        let owner = p.owner.and_then(|o| self.replicasets.get(o));
        let new = owner.map(|e| {
            let active = p.is_active();
            Counted {
                owner: e.id,
                active,
                ready: active && p.ready,
                labeled: active && has_template_labels(p, &e.template),
                family: e.owner.unwrap_or(e.id),
                node: p.node.filter(|_| active),
            }
        });
        let (old, ready_changed) = (p.counted, p.ready_changed);
        if let Some(c) = new.filter(|c| c.ready)
            && let Some(counts) = self.pod_counts.get_mut(&c.owner)
        {
            counts.latest_ready = counts.latest_ready.max(ready_changed);
        }
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.add_share(old, -1, ready_changed);
        }
        if let Some(new) = new {
            if !self.pod_counts.contains_key(&new.owner)
                && let Some(e) = self.replicasets.get(new.owner)
            {
                let counts = PodCounts::new(e.template.clone(), new.family);
                self.pod_counts.insert(new.owner, counts);
            }
            self.add_share(new, 1, ready_changed);
        }
        if let Some(p) = self.pods.get_mut(id) {
            p.counted = new;
        }
    }

    /// Takes back the share of a pod that is gone (`remove_pod`, after the table dropped it).
    pub(crate) fn uncount_pod(&mut self, counted: Option<Counted>) {
        if let Some(c) = counted {
            self.add_share(c, -1, SimTime::ZERO);
        }
    }

    fn add_share(&mut self, c: Counted, sign: i32, ready_changed: SimTime) {
        if let Some(node) = c.node {
            let key = (c.family, node);
            let n = self.family_nodes.entry(key).or_default();
            *n = n.saturating_add_signed(sign);
            if *n == 0 {
                self.family_nodes.remove(&key);
            }
        }
        let Some(counts) = self.pod_counts.get_mut(&c.owner) else {
            return;
        };
        counts.active += sign * i32::from(c.active);
        counts.ready += sign * i32::from(c.ready);
        counts.labeled += sign * i32::from(c.labeled);
        if sign > 0 && c.ready {
            counts.latest_ready = counts.latest_ready.max(ready_changed);
        }
    }

    /// ReplicaSet `rs`'s counts. If its template was replaced or it changed family since its
    /// pods were judged, every pod of it is judged again first.
    pub(crate) fn pod_counts(&mut self, rs: ObjId) -> Option<&PodCounts> {
        let e = self.replicasets.get(rs)?;
        let (template, family) = (e.template.clone(), e.owner.unwrap_or(rs));
        let fresh = self
            .pod_counts
            .get(&rs)
            .is_some_and(|c| Arc::ptr_eq(&c.template, &template) && c.family == family);
        if !fresh {
            let pods = self.owners.dependents(rs);
            for &id in &pods {
                let old = self.pods.get(id).and_then(|p| p.counted);
                if let Some(old) = old.filter(|c| c.owner == rs) {
                    self.add_share(old, -1, SimTime::ZERO);
                    if let Some(p) = self.pods.get_mut(id) {
                        p.counted = None;
                    }
                }
            }
            self.pod_counts.insert(rs, PodCounts::new(template, family));
            for p in pods {
                self.count_pod(p);
            }
        }
        self.pod_counts.get(&rs)
    }

    /// Active pods of `family` (a Deployment, or a ReplicaSet without one) bound to `node`.
    pub(crate) fn family_pods_on(&self, family: ObjId, node: ObjId) -> u32 {
        self.family_nodes.get(&(family, node)).copied().unwrap_or(0)
    }

    /// Forgets a deleted ReplicaSet's counts (call before the owner graph forgets it).
    /// Its pods leave their family's counts too (the family's walk no longer finds them).
    pub(crate) fn forget_pod_counts(&mut self, rs: ObjId) {
        for id in self.owners.dependents(rs) {
            let old = self.pods.get(id).and_then(|p| p.counted);
            if let Some(old) = old.filter(|c| c.owner == rs) {
                self.add_share(old, -1, SimTime::ZERO);
                if let Some(p) = self.pods.get_mut(id) {
                    p.counted = None;
                }
            }
        }
        self.pod_counts.remove(&rs);
    }
}

impl PodCounts {
    fn new(template: Arc<PodTemplateSpec>, family: ObjId) -> PodCounts {
        PodCounts {
            family,
            active: 0,
            ready: 0,
            labeled: 0,
            latest_ready: SimTime::ZERO,
            template,
        }
    }
}

/// `fullyLabeledReplicas`: the pod carries every label of the template. A pod made from
/// this very template has them (the common case, no comparison).
pub(crate) fn has_template_labels(p: &super::PodState, template: &Arc<PodTemplateSpec>) -> bool {
    if Arc::ptr_eq(&p.template, template) {
        return true;
    }
    let labels = p.labels();
    template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref())
        .is_none_or(|want| want.iter().all(|(k, v)| labels.get(k) == Some(v)))
}
