//! The ReplicaSet controller: create or delete pods until the active count matches
//! `spec.replicas`, deleting the least valuable pods first, and report status.
//! Port of kubernetes `pkg/controller/replicaset/replica_set.go` and the pod ranking of
//! `pkg/controller/controller_utils.go` (`ActivePodsWithRanks`).

use std::cmp::Ordering;
use std::sync::Arc;

use crate::api::selector::label_selector_matches;
use crate::controller::Work;
use crate::sim::{Sim, Timer};
use crate::store::pod::{Deletion, Phase};
use crate::store::{ChangeType, Kind, NewEvent, ObjId, PodState};
use crate::time::{SimDuration, SimTime};
use k8s_openapi::api::apps::v1::ReplicaSetCondition;

/// Pods created or deleted per sync at most (`burstReplicas`).
const BURST_REPLICAS: i32 = 500;
/// The first slow-start batch (`controller.SlowStartInitialBatchSize`); each next batch is
/// twice as large.
const SLOW_START_INITIAL_BATCH_SIZE: i32 = 1;
/// How long a ReplicaSet that used its whole burst waits for its next pass: the real
/// controller acts again once its informer has observed the writes it made (expectations),
/// which takes the API server's round trips. Here one virtual second per burst of 500, so a
/// write of `replicas: 1000000` stores the object and at most one burst in the request, and
/// the rest is created by later syncs as time runs.
const BURST_OBSERVED: SimDuration = SimDuration::from_secs(1);
/// The rate-limited requeue after a failed pass (client-go's `DefaultControllerRateLimiter`:
/// 5 ms doubling per consecutive failure, at most 1000 s).
const FAILURE_BASE_MS: u64 = 5;
const FAILURE_MAX_MS: u64 = 1_000_000;

/// What this sync's create or delete pass did (`manageReplicas` and its error).
enum Managed {
    /// No pass: the ReplicaSet waits for earlier writes, or is being deleted.
    Waiting,
    /// A pass without error.
    Ok,
    /// A create failed (`FailedCreate`, with the API server's message).
    FailedCreate(String),
}

impl Sim {
    /// `syncReplicaSet`.
    pub(crate) fn sync_replica_set(&mut self, id: ObjId) {
        let Some(e) = self.store.replicasets.get(id) else {
            self.rs_backoff.remove(&id);
            return;
        };
        let rs_deleting = e.rs.metadata.deletion_timestamp.is_some();
        let want = e.rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let min_ready =
            e.rs.spec
                .as_ref()
                .and_then(|s| s.min_ready_seconds)
                .unwrap_or(0);
        self.claim_orphan_pods(id);
        let active = self.store.pod_counts(id).map_or(0, |c| c.active);
        let waiting = self
            .rs_backoff
            .get(&id)
            .is_some_and(|(until, _)| self.store.now < *until);
        let mut managed = Managed::Waiting;
        if !rs_deleting && !waiting {
            managed = Managed::Ok;
            let diff = i64::from(active) - i64::from(want);
            let mut more = false;
            if diff < 0 {
                let n = (-diff).min(i64::from(BURST_REPLICAS)) as i32;
                more = -diff > i64::from(n);
                if let Err(e) = self.slow_start_batch(id, n) {
                    managed = Managed::FailedCreate(e);
                }
            } else if diff > 0 {
                let n = diff.min(i64::from(BURST_REPLICAS)) as usize;
                more = diff > n as i64;
                let active: Vec<ObjId> = self
                    .store
                    .owners
                    .dependents(id)
                    .into_iter()
                    .filter(|p| self.store.pods.get(*p).is_some_and(PodState::is_active))
                    .collect();
                let victims = self.pods_to_delete(id, &active, n);
                for p in victims {
                    self.delete_pod_by_controller(id, p);
                }
            }
            self.after_pass(id, &managed, more);
        }
        self.update_rs_status(id, min_ready, &managed);
    }

    /// `slowStartBatch`: creates `count` pods in batches of 1, 2, 4, … (the rest in the
    /// last one); after a batch with a failure the rest are skipped, so a full cluster costs
    /// one failed create, not `count`. Every create of a failed batch was tried (the real
    /// controller runs a batch's creates in parallel), each with its event.
    fn slow_start_batch(&mut self, rs: ObjId, count: i32) -> Result<(), String> {
        let mut remaining = count;
        let mut batch = remaining.min(SLOW_START_INITIAL_BATCH_SIZE);
        while batch > 0 {
            let mut failed = None;
            for _ in 0..batch {
                if let Err(e) = self.create_pod_for_rs(rs) {
                    failed.get_or_insert(e);
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
            remaining -= batch;
            batch = remaining.min(2 * batch);
        }
        Ok(())
    }

    /// After a create or delete pass: wait `BURST_OBSERVED` when a full burst left more to
    /// do, back off (doubling) after a failure, and requeue the sync for then.
    fn after_pass(&mut self, rs: ObjId, managed: &Managed, more: bool) {
        let failures = self.rs_backoff.get(&rs).map_or(0, |b| b.1);
        let (delay, failures) = match managed {
            Managed::FailedCreate(_) => {
                let ms = FAILURE_BASE_MS
                    .saturating_mul(1u64 << failures.min(30))
                    .min(FAILURE_MAX_MS);
                (Some(SimDuration(ms)), failures + 1)
            }
            _ if more => (Some(BURST_OBSERVED), 0),
            _ => (None, 0),
        };
        match delay {
            Some(d) => {
                let until = self.store.now + d;
                self.rs_backoff.insert(rs, (until, failures));
                self.at(until, Timer::Requeue(Work::ReplicaSet(rs)));
            }
            None => {
                self.rs_backoff.remove(&rs);
            }
        }
    }

    /// Adopt orphan pods in the namespace that the ReplicaSet's selector matches.
    fn claim_orphan_pods(&mut self, id: ObjId) {
        if self.orphan_pods.is_empty() {
            return;
        }
        let Some(e) = self.store.replicasets.get(id) else {
            return;
        };
        let Some(sel) = e.rs.spec.as_ref().map(|s| s.selector.clone()) else {
            return;
        };
        let ns = e.rs.metadata.namespace.clone().unwrap_or_default();
        let hits: Vec<ObjId> = self
            .orphan_pods
            .iter()
            .copied()
            .filter(|p| {
                self.store.pods.get(*p).is_some_and(|p| {
                    *p.namespace == *ns && p.is_active() && label_selector_matches(&sel, p.labels())
                })
            })
            .collect();
        for p in hits {
            self.orphan_pods.remove(&p);
            if let Some(pod) = self.store.pods.get_mut(p) {
                pod.owner = Some(id);
            }
            self.store.owners.link(id, p);
            self.write_pod(p);
        }
    }

    /// Creates one pod from the ReplicaSet's template (`PodControl.CreatePods`) through the
    /// API server's admission (the sandbox's pod limit, LimitRanger, ResourceQuota); a
    /// refusal is recorded as a `FailedCreate` event with the API server's message.
    fn create_pod_for_rs(&mut self, rs: ObjId) -> Result<(), String> {
        let Some(e) = self.store.replicasets.get(rs) else {
            return Ok(());
        };
        let template = e.template.clone();
        let ns = e.rs.metadata.namespace.as_deref().unwrap_or("");
        let ns: Arc<str> = self
            .store
            .pods
            .namespace_name(ns)
            .unwrap_or_else(|| ns.into());
        let rs_name = e.rs.metadata.name.clone().unwrap_or_default();
        // generateName: the base is cut to 58 characters, then 5 random ones.
        let base: String = format!("{rs_name}-").chars().take(58).collect();
        let admitted = self.admit_template_pod(&ns, &base, &template);
        let (template, charges) = match admitted {
            Ok(ok) => ok,
            Err(e) => {
                if let Some(r) = self.rs_ref(rs) {
                    self.store.event(NewEvent {
                        object: r,
                        warning: true,
                        reason: "FailedCreate",
                        message: format!("Error creating: {e}"),
                        source: "replicaset-controller",
                        host: None,
                    });
                }
                return Err(e);
            }
        };
        self.charge_quotas(charges);
        let name: Arc<str> = loop {
            let candidate = format!("{base}{}", self.rng.name_suffix());
            if self.store.pods.lookup(&ns, &candidate).is_none() {
                break candidate.into();
            }
        };
        let id = self.store.next_id();
        let pod = PodState::new(
            id,
            name.clone(),
            ns.clone(),
            template,
            Some(rs),
            self.store.now,
        );
        self.insert_pod(pod);
        self.store.owners.link(rs, id);
        if let Some(r) = self.rs_ref(rs) {
            let ev = NewEvent {
                object: r,
                warning: false,
                reason: "SuccessfulCreate",
                message: String::new(),
                source: "replicaset-controller",
                host: None,
            };
            self.store.event_named(ev, "Created pod: ", name);
        }
        Ok(())
    }

    /// The ResourceQuota admission's refusal of one more pod when the sandbox holds its
    /// limit (`name` as the API server names a generateName pod in it: the prefix).
    pub(crate) fn pod_quota(&self, name: &str) -> Result<(), String> {
        let (used, limit) = (self.store.pods.len(), self.limits.pods);
        if used < limit {
            return Ok(());
        }
        Err(format!(
            "pods {name:?} is forbidden: exceeded quota: {}, requested: pods=1, used: pods={used}, limited: pods={limit}",
            crate::sim::Limits::QUOTA
        ))
    }

    /// Stores a new pod and queues it for scheduling.
    pub(crate) fn insert_pod(&mut self, mut pod: PodState) {
        let id = pod.id;
        let rv = self
            .store
            .touch(Kind::Pod, id, &pod.namespace, &pod.name, ChangeType::Added);
        pod.resource_version = rv;
        let (ns, name) = (pod.namespace.clone(), pod.name.clone());
        self.store.pods.insert(id, ns, name, pod);
        self.pods_created += 1;
        self.work.add(Work::Schedule(id));
        self.pod_changed(id);
    }

    /// Records a pod write and wakes whoever watches it.
    pub(crate) fn write_pod(&mut self, id: ObjId) {
        let Some(p) = self.store.pods.get(id) else {
            return;
        };
        let (ns, name) = (p.namespace.clone(), p.name.clone());
        let rv = self
            .store
            .touch(Kind::Pod, id, &ns, &name, ChangeType::Modified);
        if let Some(p) = self.store.pods.get_mut(id) {
            p.resource_version = rv;
        }
        self.pod_changed(id);
        self.release_if_terminal(id);
    }

    /// A pod that reached Succeeded or Failed leaves the scheduler's view of its node: its
    /// requests, its pod slot and the plugins' counts are released (kube-scheduler's cache
    /// treats a pod turning terminal as a delete), though the pod stays until deleted.
    fn release_if_terminal(&mut self, id: ObjId) {
        let Some(p) = self.store.pods.get(id) else {
            return;
        };
        if !matches!(p.phase, Phase::Succeeded | Phase::Failed) || p.rejected.is_some() {
            return;
        }
        let Some(node) = p.node else { return };
        let (cpu, mem) = pod_requests(p);
        let (nz_cpu, nz_mem) = crate::controller::scheduler::pod_nonzero_requests(p);
        let Some(n) = self.store.nodes.get_mut(node) else {
            return;
        };
        if !n.pods.contains(&id) || !n.terminal.insert(id) {
            return;
        }
        n.used_cpu -= cpu;
        n.used_mem -= mem;
        n.nonzero_cpu -= nz_cpu;
        n.nonzero_mem -= nz_mem;
        self.sched_pod_placed(id, node, false);
        self.sched_node_changed(node);
        self.retry_unschedulable();
    }

    fn delete_pod_by_controller(&mut self, rs: ObjId, pod: ObjId) {
        let name = self.store.pods.get(pod).map(|p| p.name.clone());
        self.delete_pod(pod, None);
        if let (Some(r), Some(name)) = (self.rs_ref(rs), name) {
            let ev = NewEvent {
                object: r,
                warning: false,
                reason: "SuccessfulDelete",
                message: String::new(),
                source: "replicaset-controller",
                host: None,
            };
            self.store.event_named(ev, "Deleted pod: ", name);
        }
    }

    /// Starts graceful deletion of a pod (`grace` overrides the pod's
    /// terminationGracePeriodSeconds). Unscheduled pods go at once.
    pub fn delete_pod(&mut self, id: ObjId, grace: Option<i64>) {
        let Some(p) = self.store.pods.get(id) else {
            return;
        };
        if p.deletion.is_some() {
            return;
        }
        let grace = grace.unwrap_or_else(|| {
            p.template
                .spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
                .unwrap_or(30)
        });
        // Unscheduled pods and forced deletions (grace 0) leave the API at once.
        if p.node.is_none() || grace == 0 || p.rejected.is_some() {
            self.remove_pod(id);
            return;
        }
        let deadline = self.store.now + SimDuration::from_secs(grace.max(0) as u64);
        if let Some(p) = self.store.pods.get_mut(id) {
            p.deletion = Some(Deletion {
                deadline,
                grace_seconds: grace,
            });
        }
        self.write_pod(id);
        self.kubelet_terminate(id, grace);
    }

    pub(crate) fn node_kubelet_up(&self, node: Option<ObjId>) -> bool {
        node.and_then(|n| self.store.nodes.get(n))
            .is_some_and(|n| n.kubelet_up)
    }

    /// Removes a pod object for good, releasing its node resources.
    pub(crate) fn remove_pod(&mut self, id: ObjId) {
        let Some(p) = self.store.pods.get(id) else {
            return;
        };
        let (ns, name, node, owner) = (p.namespace.clone(), p.name.clone(), p.node, p.owner);
        let (cpu, mem) = pod_requests(p);
        let (nz_cpu, nz_mem) = crate::controller::scheduler::pod_nonzero_requests(p);
        // A pod the kubelet refused never held anything on its node, and a terminal one
        // released what it held when it finished.
        let released = node
            .and_then(|n| self.store.nodes.get(n))
            .is_some_and(|n| n.terminal.contains(&id));
        let node_held = node.filter(|_| p.rejected.is_none() && !released);
        if let Some(n) = node_held {
            self.sched_pod_placed(id, n, false);
        }
        self.pod_changed(id);
        if let Some(n) = node
            .filter(|_| released)
            .and_then(|n| self.store.nodes.get_mut(n))
        {
            n.pods.remove(&id);
            n.terminal.remove(&id);
        }
        if let Some(n) = node_held.and_then(|n| self.store.nodes.get_mut(n)) {
            n.pods.remove(&id);
            n.used_cpu -= cpu;
            n.used_mem -= mem;
            n.nonzero_cpu -= nz_cpu;
            n.nonzero_mem -= nz_mem;
        }
        if let Some(n) = node_held {
            self.sched_node_changed(n);
        }
        self.store
            .touch(Kind::Pod, id, &ns, &name, ChangeType::Deleted);
        let counted = self
            .store
            .pods
            .remove(id, &ns, &name)
            .and_then(|p| p.counted);
        self.store.uncount_pod(counted);
        self.store.owners.remove(id);
        self.store.events.forget(id);
        self.unschedulable.remove(&id);
        self.orphan_pods.remove(&id);
        self.volumes.remove(&id);
        // The Recreate strategy waits for old pods to disappear (`deletePod` handler).
        if let Some(job) = owner.filter(|o| self.store.jobs.get(*o).is_some()) {
            self.work.add(Work::Job(job));
        } else if let Some(rs) = owner {
            self.work.add(Work::ReplicaSet(rs));
            if let Some(d) = self.store.replicasets.get(rs).and_then(|e| e.owner) {
                self.work.add(Work::Deployment(d));
            }
        }
        if node.is_some() {
            self.retry_unschedulable();
        }
        self.maybe_finish_namespace(&ns);
    }

    /// `getPodsToDelete`: the `n` pods to delete first.
    fn pods_to_delete(&self, rs: ObjId, active: &[ObjId], n: usize) -> Vec<ObjId> {
        if n >= active.len() {
            return active.to_vec();
        }
        // Rank: active pods of the same controller family on the same node, as counted while
        // pods change (`store/pod_counts.rs`).
        let family = self
            .store
            .replicasets
            .get(rs)
            .map_or(rs, |e| e.owner.unwrap_or(rs));
        #[cfg(debug_assertions)]
        self.check_family_counts(rs, active);
        let mut ranked: Vec<(&PodState, u32)> = active
            .iter()
            .filter_map(|id| self.store.pods.get(*id))
            .map(|p| {
                let related = p.node.map_or(0, |n| self.store.family_pods_on(family, n));
                (p, related)
            })
            .collect();
        let now = self.store.now;
        let less =
            |a: &(&PodState, u32), b: &(&PodState, u32)| active_pods_with_ranks_less(a, b, now);
        if n.saturating_mul(8) <= ranked.len() {
            // A few victims (a rolling update scales down one or two pods a step): the
            // least ranked, one pass each, instead of sorting them all. The ranking ends
            // in the pods' ids, so the minimum is the sort's first.
            let mut victims = Vec::with_capacity(n);
            for _ in 0..n {
                let first = ranked
                    .iter()
                    .enumerate()
                    .min_by(|(_, a), (_, b)| less(a, b))
                    .map(|(i, _)| i);
                if let Some(i) = first {
                    victims.push(ranked.swap_remove(i).0.id);
                }
            }
            return victims;
        }
        ranked.sort_by(less);
        ranked.into_iter().take(n).map(|(p, _)| p.id).collect()
    }

    /// `calculateStatus` and its write: counts, and the `ReplicaFailure` condition set by a
    /// failed pass and removed by a pass without error.
    fn update_rs_status(&mut self, id: ObjId, min_ready: i32, managed: &Managed) {
        let now = self.store.now;
        let Some(counts) = self.store.pod_counts(id) else {
            return;
        };
        let (replicas, ready, fully_labeled) = (counts.active, counts.ready, counts.labeled);
        let min_ready_span = SimDuration::from_secs(min_ready.max(0) as u64);
        // Every ready pod is available unless one became ready within `minReadySeconds`;
        // only then are the pods walked for which and until when.
        let (available, next_available) =
            if min_ready <= 0 || ready == 0 || counts.latest_ready + min_ready_span < now {
                (ready, None)
            } else {
                self.availability(id, min_ready, now)
            };
        #[cfg(debug_assertions)]
        self.check_pod_counts(
            id,
            min_ready,
            (replicas, ready, fully_labeled, available, next_available),
        );
        let Some(e) = self.store.replicasets.get(id) else {
            return;
        };
        let nz = |v: i32| (v != 0).then_some(v);
        let generation = e.rs.metadata.generation;
        let mut conditions = e.rs.status.as_ref().and_then(|s| s.conditions.clone());
        let failing = conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "ReplicaFailure");
        match managed {
            Managed::FailedCreate(message) if !failing => {
                conditions
                    .get_or_insert_with(Vec::new)
                    .push(ReplicaSetCondition {
                        type_: "ReplicaFailure".into(),
                        status: "True".into(),
                        reason: Some("FailedCreate".into()),
                        message: Some(message.clone()),
                        last_transition_time: Some(self.store.time(now)),
                    });
            }
            Managed::Ok if failing => {
                if let Some(c) = conditions.as_mut() {
                    c.retain(|c| c.type_ != "ReplicaFailure");
                }
                conditions = conditions.filter(|c| !c.is_empty());
            }
            _ => {}
        }
        let status = k8s_openapi::api::apps::v1::ReplicaSetStatus {
            replicas,
            fully_labeled_replicas: nz(fully_labeled),
            ready_replicas: nz(ready),
            available_replicas: nz(available),
            observed_generation: generation,
            conditions,
            terminating_replicas: None,
        };
        let unchanged = e.rs.status.as_ref() == Some(&status);
        if let Some(at) = next_available {
            self.at(at, Timer::Requeue(Work::ReplicaSet(id)));
        }
        if unchanged {
            return;
        }
        if let Some(e) = self.store.replicasets.get_mut(id) {
            e.rs.status = Some(status);
        }
        self.write_rs(id);
    }

    /// Available ready pods of ReplicaSet `rs` at `now`, and when the next not yet
    /// available one becomes available (a requeue then).
    fn availability(&self, rs: ObjId, min_ready: i32, now: SimTime) -> (i32, Option<SimTime>) {
        let mut available = 0;
        let mut next: Option<SimTime> = None;
        for p in self.store.owners.dependents(rs) {
            let Some(p) = self.store.pods.get(p).filter(|p| p.is_active() && p.ready) else {
                continue;
            };
            if p.is_available(min_ready, now) {
                available += 1;
            } else {
                let at =
                    p.ready_changed + SimDuration::from_secs(min_ready as u64) + SimDuration(1);
                next = Some(next.map_or(at, |t: SimTime| t.min(at)));
            }
        }
        (available, next)
    }

    /// Debug builds: the kept counts equal a walk over the ReplicaSet's pods, as
    /// `calculateStatus` takes them (a pod write that skipped `pod_changed` shows here).
    #[cfg(debug_assertions)]
    fn check_pod_counts(
        &self,
        rs: ObjId,
        min_ready: i32,
        kept: (i32, i32, i32, i32, Option<SimTime>),
    ) {
        let Some(e) = self.store.replicasets.get(rs) else {
            return;
        };
        let (mut replicas, mut ready, mut labeled) = (0, 0, 0);
        for p in self.store.owners.dependents(rs) {
            let Some(p) = self.store.pods.get(p).filter(|p| p.is_active()) else {
                continue;
            };
            replicas += 1;
            ready += i32::from(p.ready);
            labeled += i32::from(crate::store::pod_counts::has_template_labels(
                p,
                &e.template,
            ));
        }
        let (available, next) = self.availability(rs, min_ready, self.store.now);
        assert_eq!(
            kept,
            (replicas, ready, labeled, available, next),
            "ReplicaSet {rs}'s kept pod counts differ from its pods"
        );
    }

    /// Debug builds: the family's kept per-node counts equal a walk over the family's pods
    /// (`getPodsRankedByRelatedPodsOnSameNode`'s related pods).
    #[cfg(debug_assertions)]
    fn check_family_counts(&self, rs: ObjId, active: &[ObjId]) {
        let owner = self.store.replicasets.get(rs).and_then(|e| e.owner);
        let related: Vec<ObjId> = match owner {
            Some(d) => self
                .store
                .owners
                .dependents(d)
                .into_iter()
                .flat_map(|r| self.store.owners.dependents(r))
                .collect(),
            None => active.to_vec(),
        };
        let mut per_node = std::collections::BTreeMap::<ObjId, u32>::new();
        for p in related {
            if let Some(p) = self.store.pods.get(p)
                && p.is_active()
                && let Some(n) = p.node
            {
                *per_node.entry(n).or_default() += 1;
            }
        }
        let family = owner.unwrap_or(rs);
        for (n, count) in per_node {
            assert_eq!(
                self.store.family_pods_on(family, n),
                count,
                "family {family}'s kept count on node {n} differs from its pods"
            );
        }
    }
}

/// The CPU (millicores) and memory (bytes) a pod requests.
pub(crate) fn pod_requests(p: &PodState) -> (i64, i64) {
    let mut cpu = 0;
    let mut mem = 0;
    for c in p.template.spec.iter().flat_map(|s| s.containers.iter()) {
        if let Some(r) = c.resources.as_ref().and_then(|r| r.requests.as_ref()) {
            if let Some(q) = r.get("cpu") {
                cpu += crate::api::quantity::cpu_millis(q).unwrap_or(0);
            }
            if let Some(q) = r.get("memory") {
                mem += crate::api::quantity::memory_bytes(q).unwrap_or(0);
            }
        }
    }
    (cpu, mem)
}

/// `ActivePodsWithRanks.Less` with LogarithmicScaleDown: true when `a` should be deleted
/// before `b`.
fn active_pods_with_ranks_less(
    a: &(&PodState, u32),
    b: &(&PodState, u32),
    now: SimTime,
) -> Ordering {
    let (pa, ra) = (a.0, a.1);
    let (pb, rb) = (b.0, b.1);
    // 1. Unassigned < assigned.
    if pa.node.is_some() != pb.node.is_some() {
        return if pa.node.is_none() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    // 2. Pending < Unknown < Running.
    let phase_rank = |p: Phase| match p {
        Phase::Pending => 0,
        Phase::Unknown => 1,
        Phase::Running => 2,
        _ => 3,
    };
    if phase_rank(pa.phase) != phase_rank(pb.phase) {
        return phase_rank(pa.phase).cmp(&phase_rank(pb.phase));
    }
    // 3. Not ready < ready.
    if pa.ready != pb.ready {
        return if !pa.ready {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    // 4. pod-deletion-cost: lower first.
    let cost = |p: &PodState| {
        p.template
            .metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get("controller.kubernetes.io/pod-deletion-cost"))
            .and_then(|v| v.parse::<i32>().ok())
            .unwrap_or(0)
    };
    if cost(pa) != cost(pb) {
        return cost(pa).cmp(&cost(pb));
    }
    // 5. Doubled-up pods (higher rank) first.
    if ra != rb {
        return rb.cmp(&ra);
    }
    // 6. Ready for a shorter time first (log2 buckets; same bucket: lower UID decides).
    if pa.ready && pb.ready && pa.ready_changed != pb.ready_changed {
        let (ba, bb) = (
            log_bucket(now, pa.ready_changed),
            log_bucket(now, pb.ready_changed),
        );
        if ba != bb {
            return ba.cmp(&bb);
        }
        return pa.id.cmp(&pb.id);
    }
    // 7. More restarts first.
    if pa.max_restarts() != pb.max_restarts() {
        return pb.max_restarts().cmp(&pa.max_restarts());
    }
    // 8. Newer first (log2 buckets).
    if pa.created != pb.created {
        let (ba, bb) = (log_bucket(now, pa.created), log_bucket(now, pb.created));
        if ba != bb {
            return ba.cmp(&bb);
        }
        return pa.id.cmp(&pb.id);
    }
    // Kubernetes leaves ties unordered; we break them by id so every run agrees.
    pa.id.cmp(&pb.id)
}

/// floor(log2(age in ns)), as `getPodsRankedByRelatedPodsOnSameNode` compares ages.
fn log_bucket(now: SimTime, t: SimTime) -> i64 {
    let ns = now.since(t).millis().saturating_mul(1_000_000);
    if ns == 0 {
        -1
    } else {
        63 - i64::from(ns.leading_zeros())
    }
}

#[cfg(test)]
mod tests {
    //! Cases from `controller_utils_test.go` (TestSortingActivePodsWithRanks).
    use super::*;
    use k8s_openapi::api::core::v1::PodTemplateSpec;

    fn pod(id: ObjId, node: Option<ObjId>, phase: Phase, ready: bool) -> PodState {
        let mut p = PodState::new(
            id,
            format!("p{id}").into(),
            "ns".into(),
            Arc::new(PodTemplateSpec::default()),
            None,
            SimTime(0),
        );
        p.node = node;
        p.phase = phase;
        p.ready = ready;
        p
    }

    #[test]
    fn deletion_preference_follows_kubernetes() {
        let now = SimTime(10 * 3_600_000);
        let unscheduled = pod(1, None, Phase::Pending, false);
        let pending = pod(2, Some(1), Phase::Pending, false);
        let unknown = pod(3, Some(1), Phase::Unknown, false);
        let not_ready = pod(4, Some(1), Phase::Running, false);
        let mut ready_short = pod(5, Some(1), Phase::Running, true);
        ready_short.ready_changed = SimTime(now.millis() - 3_600_000);
        let mut ready_long = pod(6, Some(1), Phase::Running, true);
        ready_long.ready_changed = SimTime(now.millis() - 8 * 3_600_000);
        let mut restarts = pod(7, Some(1), Phase::Running, false);
        restarts.containers = vec![];
        let order = [
            &unscheduled,
            &pending,
            &unknown,
            &not_ready,
            &ready_short,
            &ready_long,
        ];
        for w in order.windows(2) {
            let got = active_pods_with_ranks_less(&(w[0], 0), &(w[1], 0), now);
            assert_eq!(got, Ordering::Less, "{} before {}", w[0].name, w[1].name);
        }
        // Doubled-up pods go first.
        assert_eq!(
            active_pods_with_ranks_less(&(&ready_long, 2), &(&ready_short, 1), now),
            Ordering::Less
        );
    }

    #[test]
    fn ages_in_the_same_log_bucket_tie() {
        let now = SimTime(100 * 3_600_000);
        // 5 h and 8 h fall into the same bucket; 2 h does not.
        assert_eq!(
            log_bucket(now, SimTime(now.millis() - 5 * 3_600_000)),
            log_bucket(now, SimTime(now.millis() - 7 * 3_600_000))
        );
        assert!(
            log_bucket(now, SimTime(now.millis() - 2 * 3_600_000))
                < log_bucket(now, SimTime(now.millis() - 5 * 3_600_000))
        );
    }

    // ---- bursts, slow start and the pod limit (replica_set.go `manageReplicas`) ----

    use crate::kubectl::{NoFiles, run};
    use crate::sim::SimConfig;

    fn sim_with(limit: usize) -> Sim {
        let mut s = Sim::new(SimConfig::default());
        s.limits.pods = limit;
        s.advance(SimDuration::from_secs(1));
        s
    }

    fn kubectl(s: &mut Sim, cmd: &str) -> String {
        let o = run(s, cmd, &NoFiles);
        assert_eq!(o.code, 0, "{cmd}: {}", o.stderr);
        o.stdout
    }

    /// (reason, count) of each event of the one ReplicaSet, in order.
    fn rs_events(s: &Sim) -> Vec<(&'static str, u32)> {
        let (rs, _) = s.store.replicasets.iter().next().expect("one ReplicaSet");
        s.store
            .events
            .for_object(rs)
            .iter()
            .map(|e| (e.reason, e.count))
            .collect()
    }

    #[test]
    fn a_large_scale_up_creates_one_burst_per_sync_and_the_rest_later() {
        let mut s = sim_with(150_000);
        kubectl(
            &mut s,
            "create deployment big --image=nginx:1.27 --replicas=1800",
        );
        // The write stored the Deployment and its ReplicaSet and let one sync run: one burst.
        assert_eq!(s.store.pods.len(), 500);
        let mut seen = vec![s.store.pods.len()];
        while s.store.pods.len() < 1800 {
            s.step().expect("the ReplicaSet requeued itself");
            seen.push(s.store.pods.len());
        }
        // Each later sync (one virtual second apart) creates at most 500 more.
        assert!(seen.windows(2).all(|w| w[1] - w[0] <= 500), "{seen:?}");
        assert!(seen.contains(&1000) && seen.contains(&1500), "{seen:?}");
        assert_eq!(s.now(), SimTime(1000 + 3000), "three waits of one second");
        assert!(s.rs_backoff.is_empty());
        // Scaling down deletes at most 500 per sync too.
        kubectl(&mut s, "scale deployment big --replicas=100");
        let active = |s: &Sim| s.store.pods.iter().filter(|(_, p)| p.is_active()).count();
        assert_eq!(active(&s), 1300);
        s.advance(SimDuration::from_secs(1));
        assert_eq!(active(&s), 800);
        s.advance(SimDuration::from_secs(2));
        assert_eq!(active(&s), 100);
    }

    #[test]
    fn at_the_pod_limit_creates_fail_after_one_slow_start_batch() {
        // Room for 10 pods, 20 wanted: batches 1, 2, 4 succeed (7 pods); the batch of 8
        // makes 3 and fails 5 times; the last 5 are skipped.
        let mut s = sim_with(10);
        kubectl(
            &mut s,
            "create deployment big --image=nginx:1.27 --replicas=20",
        );
        assert_eq!(s.store.pods.len(), 10);
        let events = rs_events(&s);
        let created = events.iter().filter(|e| e.0 == "SuccessfulCreate").count();
        assert_eq!(created, 10);
        assert!(events.contains(&("FailedCreate", 5)), "{events:?}");
        let failed = s.store.events.iter().find(|e| e.reason == "FailedCreate");
        let message = failed.map(|e| e.message().into_owned()).unwrap_or_default();
        assert!(
            message.starts_with("Error creating: pods \"big-")
                && message.ends_with(
                    "-\" is forbidden: exceeded quota: sandbox-limits, requested: pods=1, used: pods=10, limited: pods=10"
                ),
            "{message}"
        );
        // The ReplicaSet's condition, copied to the Deployment.
        let describe = kubectl(&mut s, "describe deployment big");
        assert!(
            describe.contains("ReplicaFailure   True    FailedCreate"),
            "{describe}"
        );
        let rs = s.store.replicasets.iter().next().map(|(_, e)| e.rs.clone());
        let cond = rs
            .and_then(|r| r.status?.conditions?.into_iter().next())
            .expect("a condition");
        assert_eq!(
            (cond.type_.as_str(), cond.reason.as_deref()),
            ("ReplicaFailure", Some("FailedCreate"))
        );
        assert_eq!(
            cond.message.as_deref(),
            message.strip_prefix("Error creating: ")
        );
        // Retries back off (one failed create each), and room lets the rest be created.
        s.advance(SimDuration::from_secs(2));
        assert_eq!(s.store.pods.len(), 10);
        s.limits.pods = 20;
        s.advance(SimDuration::from_secs(600));
        assert_eq!(s.store.pods.len(), 20);
        let describe = kubectl(&mut s, "describe deployment big");
        assert!(!describe.contains("ReplicaFailure"), "{describe}");
    }

    #[test]
    fn pods_and_nodes_beyond_the_limits_are_refused_by_the_api() {
        let mut s = sim_with(0);
        let o = run(&mut s, "run lone --image=nginx:1.27", &NoFiles);
        assert_ne!(o.code, 0);
        assert!(
            o.stderr
                .contains("pods \"lone\" is forbidden: exceeded quota: sandbox-limits"),
            "{}",
            o.stderr
        );
        s.limits.nodes = s.store.nodes.len();
        let node = crate::api::decode::decode_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "extra"},
        }));
        let err = s.create(node.expect("a Node")).unwrap_err();
        assert!(
            err.to_string()
                .contains("exceeded quota: sandbox-limits, requested: nodes=1"),
            "{err}"
        );
    }

    #[test]
    fn a_finished_pod_no_longer_holds_its_node() {
        // One node with one core: a Job's pod asks for all of it and succeeds; the pod stays
        // (Completed), but a new pod asking for the core is scheduled on that node, as
        // kube-scheduler's cache drops a terminal pod.
        let script = r#"seed: 1
cluster: {nodes: [{name: only, cpu: "1"}]}
images:
  work:ok: {crash: done, exitCode: 0, crashAfterSeconds: 5}
steps:
  - apply: |
      apiVersion: batch/v1
      kind: Job
      metadata: {name: once}
      spec:
        template:
          spec:
            restartPolicy: Never
            containers: [{name: w, image: "work:ok", resources: {requests: {cpu: "1"}}}]
  - advance: 1m
  - apply: |
      apiVersion: v1
      kind: Pod
      metadata: {name: next}
      spec:
        containers: [{name: w, image: "nginx:1.27", resources: {requests: {cpu: "1"}}}]
  - advance: 30s
"#;
        let (_, mut s) =
            crate::script::run_keeping_sim(script, crate::script::RunOptions::default(), &NoFiles)
                .map_err(|(o, e)| format!("{e}\n{}", o.transcript))
                .unwrap();
        let pods = kubectl(&mut s, "get pods -o wide");
        let line = |name: &str| {
            pods.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_default()
                .to_string()
        };
        assert!(line("once-").contains("Completed"), "{pods}");
        assert!(line("next").contains("Running"), "{pods}");
        assert!(line("next").contains("only"), "{pods}");
        // Deleting the finished pod later releases nothing twice.
        kubectl(&mut s, "delete job once");
        s.advance(SimDuration::from_secs(60));
        let n = s.store.nodes.iter().next().map(|(_, n)| n).unwrap();
        assert_eq!(
            (n.used_cpu, n.active_pods(), n.terminal.len()),
            (1000, 1, 0)
        );
    }
}
