//! Scaling, revisions, the new ReplicaSet, cleanup and status. Port of `sync.go`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::util::{self, reason};
use super::{NewRsMemo, SyncCtx, controller_ref};
use crate::controller::Work;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, NewEvent, ObjId, RsEntry};

impl Sim {
    pub(crate) fn rs_obj(&self, id: ObjId) -> Option<&ReplicaSet> {
        self.store.replicasets.get(id).map(|e| &e.rs)
    }

    fn rs_spec(&self, id: ObjId) -> i32 {
        self.rs_obj(id).map_or(0, util::rs_replicas)
    }

    /// `ReplicaSetsByCreationTimestamp`: oldest first, then by name.
    pub(crate) fn sort_by_creation(&self, ids: &mut [ObjId]) {
        // Compared by reference: the keys are the ReplicaSets' own timestamp and name.
        let key = |id: ObjId| {
            let rs = self.rs_obj(id);
            (
                rs.and_then(|r| r.metadata.creation_timestamp.as_ref())
                    .map(|t| &t.0),
                rs.and_then(|r| r.metadata.name.as_deref()),
                id,
            )
        };
        ids.sort_by(|&a, &b| key(a).cmp(&key(b)));
    }

    /// `FindNewReplicaSet` and `FindOldReplicaSets`: (new, old) for the sync's ReplicaSets.
    pub(crate) fn find_new_and_old(&mut self, cx: &SyncCtx) -> (Option<ObjId>, Vec<ObjId>) {
        let new = self.find_new_rs(cx);
        let old = cx
            .rs_list
            .iter()
            .copied()
            .filter(|&id| Some(id) != new)
            .collect();
        (new, old)
    }

    /// `FindNewReplicaSet`, remembered: the answer of the last comparison stands while the
    /// Deployment's generation (so its template), the set of ReplicaSets and each one's
    /// template (the same `Arc`) are what they were then.
    fn find_new_rs(&mut self, cx: &SyncCtx) -> Option<ObjId> {
        let memo = self
            .deployment_memory
            .get(&cx.id)
            .and_then(|m| m.new_rs.as_ref());
        if let Some(m) = memo
            && m.generation == cx.generation
            && m.rs.len() == cx.rs_list.len()
            && m.rs.iter().zip(&cx.rs_list).all(|((id, t), rs)| {
                id == rs
                    && match (t, self.store.replicasets.get(*rs)) {
                        (Some(t), Some(e)) => Arc::ptr_eq(t, &e.template),
                        (None, None) => true,
                        _ => false,
                    }
            })
        {
            #[cfg(test)]
            assert_eq!(
                m.new,
                self.find_new_rs_by_comparing(cx),
                "the remembered new ReplicaSet of Deployment {} is stale",
                cx.id
            );
            return m.new;
        }
        let new = self.find_new_rs_by_comparing(cx);
        let rs = cx
            .rs_list
            .iter()
            .map(|&id| {
                (
                    id,
                    self.store.replicasets.get(id).map(|e| e.template.clone()),
                )
            })
            .collect();
        self.deployment_memory.entry(cx.id).or_default().new_rs = Some(NewRsMemo {
            generation: cx.generation,
            rs,
            new,
        });
        new
    }

    /// `FindNewReplicaSet` itself: the oldest ReplicaSet whose template equals the
    /// Deployment's, the pod-template-hash label aside.
    fn find_new_rs_by_comparing(&self, cx: &SyncCtx) -> Option<ObjId> {
        let template = self
            .deployment(cx.id)
            .and_then(|d| d.spec.as_ref())
            .map(|s| &s.template)?;
        let mut sorted = cx.rs_list.clone();
        self.sort_by_creation(&mut sorted);
        sorted.into_iter().find(|&id| {
            self.store
                .replicasets
                .get(id)
                .is_some_and(|e| util::equal_ignore_hash(&e.template, template))
        })
    }

    /// `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created when asked and
    /// missing) and the old ones.
    pub(crate) fn get_all_rs_and_sync_revision(
        &mut self,
        cx: &mut SyncCtx,
        create: bool,
    ) -> (Option<ObjId>, Vec<ObjId>) {
        let (existing, old) = self.find_new_and_old(cx);
        let new = self.get_new_rs(cx, existing, &old, create);
        (new, old)
    }

    /// `getNewReplicaSet`: `existing` is `FindNewReplicaSet`'s answer, `old` the others.
    fn get_new_rs(
        &mut self,
        cx: &mut SyncCtx,
        existing: Option<ObjId>,
        old: &[ObjId],
        create: bool,
    ) -> Option<ObjId> {
        let max_old = old
            .iter()
            .filter_map(|&id| self.rs_obj(id))
            .map(util::rs_revision)
            .max()
            .unwrap_or(0);
        let new_revision = max_old + 1;

        if let Some(rs_id) = existing {
            let min_ready = cx.min_ready_seconds;
            let current = self.rs_obj(rs_id)?;
            let d = self.deployment(cx.id)?;
            let min_ready_update =
                current.spec.as_ref().and_then(|s| s.min_ready_seconds) != min_ready;
            if !min_ready_update && !util::new_rs_annotations_need_update(d, current, new_revision)
            {
                // Nothing to write on the ReplicaSet (what `SetNewReplicaSetAnnotations` on
                // a copy would have found, without the copy): its revision stands.
                #[cfg(test)]
                {
                    let mut copy = ReplicaSet {
                        metadata: current.metadata.clone(),
                        spec: None,
                        status: None,
                    };
                    assert!(!util::set_new_rs_annotations(
                        d,
                        &mut copy,
                        new_revision,
                        true
                    ));
                }
                let rev = current
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(util::REVISION))
                    .map_or("", String::as_str);
                if !self.deployment_needs_revision_or_condition(cx, rev) {
                    return Some(rs_id);
                }
                let rev = rev.to_owned();
                self.sync_revision_to_deployment(cx, rs_id, &rev);
                return Some(rs_id);
            }
            // Only the metadata can change here; the template is not copied.
            let mut rs_copy = ReplicaSet {
                metadata: current.metadata.clone(),
                spec: None,
                status: None,
            };
            let old_rev = util::rs_revision(&rs_copy);
            let annotations_updated =
                util::set_new_rs_annotations(d, &mut rs_copy, new_revision, true);
            if annotations_updated || min_ready_update {
                let new_rev = util::rs_revision(&rs_copy);
                if new_rev != old_rev
                    && let (Some(dr), Some(rr)) = (self.deployment_ref(cx.id), self.rs_ref(rs_id))
                {
                    self.store.decide(
                        dr,
                        format!(
                            "The template is back to that of ReplicaSet {}: it is reused, and its revision {old_rev} becomes revision {new_rev}.",
                            rr.name
                        ),
                        format!(
                            "ReplicaSet {} matches the template again: revision {old_rev} becomes {new_rev} (highest old revision {max_old} + 1); {old_rev} moves to revision-history",
                            rr.name
                        ),
                    );
                }
                if let Some(e) = self.store.replicasets.get_mut(rs_id) {
                    e.rs.metadata = rs_copy.metadata;
                    if let Some(spec) = e.rs.spec.as_mut() {
                        spec.min_ready_seconds = min_ready;
                    }
                }
                self.write_rs(rs_id);
                return Some(rs_id);
            }
            let rev = rs_copy
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(util::REVISION))
                .cloned()
                .unwrap_or_default();
            if self.deployment_needs_revision_or_condition(cx, &rev) {
                self.sync_revision_to_deployment(cx, rs_id, &rev);
            }
            return Some(rs_id);
        }
        if !create {
            return None;
        }

        // Create the new ReplicaSet.
        let now = self.store.time(self.store.now);
        let d = self.deployment(cx.id)?;
        let spec = d.spec.as_ref()?;
        let d_name = d.metadata.name.clone().unwrap_or_default();
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let collision = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = util::compute_hash(&spec.template, collision);
        let mut template = spec.template.clone();
        let tm = template.metadata.get_or_insert_with(Default::default);
        tm.labels
            .get_or_insert_with(BTreeMap::new)
            .insert(util::POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(util::POD_TEMPLATE_HASH.into(), hash.clone());
        let name = format!("{d_name}-{hash}");
        // A hash collision: the name is taken by a ReplicaSet with another template.
        let taken = self.store.replicasets.lookup(&ns, &name).map(|existing| {
            self.store.replicasets.get(existing).is_some_and(|e| {
                e.owner == Some(cx.id) && util::equal_ignore_hash(&e.template, &spec.template)
            })
        });
        if let Some(same) = taken {
            if !same {
                if let Some((_, d)) = self.store.deployments.get_mut(cx.id) {
                    let status = d.status.get_or_insert_with(Default::default);
                    status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
                }
                self.write_deployment_status(cx);
                self.work.add(Work::Deployment(cx.id));
            }
            return None;
        }
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(ns.clone()),
                labels: tm.labels.clone(),
                owner_references: Some(vec![controller_ref(
                    "Deployment",
                    &d_name,
                    self.store.uid(cx.id),
                )]),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: cx.min_ready_seconds,
                selector,
                template: Some(template.clone()),
            }),
            status: None,
        };
        let new_id = self.store.next_id();
        let mut all: Vec<ObjId> = old.to_vec();
        let current_total: i32 = all.iter().map(|&id| self.rs_spec(id)).sum();
        let count = cx.new_rs_new_replicas(current_total, 0);
        all.push(new_id);
        if let Some(s) = rs.spec.as_mut() {
            s.replicas = Some(count);
        }
        if let Some(d) = self.deployment(cx.id) {
            util::set_new_rs_annotations(d, &mut rs, new_revision, false);
        }
        self.insert_rs(new_id, rs, Arc::new(template), Some(cx.id));
        let dref = self.deployment_ref(cx.id);
        if let Some(dref) = dref.clone() {
            if count > 0 {
                self.store.event(NewEvent {
                    object: dref.clone(),
                    warning: false,
                    reason: "ScalingReplicaSet",
                    message: format!("Scaled up replica set {name} to {count}"),
                    source: "deployment-controller",
                    host: None,
                });
            }
            let said = format!(
                "Created ReplicaSet {name} for the new template (revision {new_revision}) with {count} pod{}.",
                if count == 1 { "" } else { "s" }
            );
            let why = if cx.rolling {
                let (r, surge) = (cx.replicas, cx.max_surge);
                format!(
                    "created new ReplicaSet {name} (revision {new_revision}) with {count}: min(replicas {r} + maxSurge {surge} − {current_total} existing, {r} needed) = {count}"
                )
            } else {
                format!(
                    "created new ReplicaSet {name} (revision {new_revision}) at full size {count}: Recreate starts the new pods only after every old pod is gone"
                )
            };
            self.store.decide(dref, said, why);
        }
        let has_deadline = cx.has_progress_deadline();
        if let Some((_, d)) = self.store.deployments.get_mut(cx.id) {
            let mut needs_update = set_deployment_revision(d, &new_revision.to_string());
            if has_deadline {
                let status = d.status.get_or_insert_with(Default::default);
                util::set_condition(
                    status,
                    util::new_condition(
                        "Progressing",
                        "True",
                        reason::NEW_RS_CREATED,
                        format!("Created new replica set {name:?}"),
                        &now,
                    ),
                );
                needs_update = true;
            }
            if needs_update {
                self.write_deployment_status(cx);
            }
        }
        cx.rs_list.push(new_id);
        Some(new_id)
    }

    /// Whether `getNewReplicaSet` has to write the Deployment for an existing new
    /// ReplicaSet of revision `rev`: its revision annotation differs, or it has a progress
    /// deadline and no Progressing condition yet.
    fn deployment_needs_revision_or_condition(&self, cx: &SyncCtx, rev: &str) -> bool {
        let Some(d) = self.deployment(cx.id) else {
            return false;
        };
        let revision = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(util::REVISION));
        revision.map(String::as_str) != Some(rev)
            || cx.has_progress_deadline()
                && d.status
                    .as_ref()
                    .is_none_or(|s| util::get_condition(s, "Progressing").is_none())
    }

    /// The end of `getNewReplicaSet` for an existing new ReplicaSet: the Deployment takes
    /// its revision, and a Progressing condition if it has a deadline and none yet.
    fn sync_revision_to_deployment(&mut self, cx: &SyncCtx, rs_id: ObjId, rev: &str) {
        let now = self.store.time(self.store.now);
        let rs_name = self
            .rs_obj(rs_id)
            .and_then(|r| r.metadata.name.clone())
            .unwrap_or_default();
        let has_deadline = cx.has_progress_deadline();
        let Some((_, d)) = self.store.deployments.get_mut(cx.id) else {
            return;
        };
        let mut needs_update = set_deployment_revision(d, rev);
        let status = d.status.get_or_insert_with(Default::default);
        if has_deadline && util::get_condition(status, "Progressing").is_none() {
            util::set_condition(
                status,
                util::new_condition(
                    "Progressing",
                    "True",
                    reason::FOUND_NEW_RS,
                    format!("Found new replica set {rs_name:?}"),
                    &now,
                ),
            );
            needs_update = true;
        }
        if needs_update {
            self.write_deployment_status(cx);
        }
    }

    /// Stores a new ReplicaSet and wakes its controller.
    pub(crate) fn insert_rs(
        &mut self,
        id: ObjId,
        mut rs: ReplicaSet,
        template: Arc<k8s_openapi::api::core::v1::PodTemplateSpec>,
        owner: Option<ObjId>,
    ) {
        let ns: Arc<str> = rs.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = rs.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::ReplicaSet, id, &ns, &name, ChangeType::Added);
        rs.metadata.uid = Some(self.store.uid(id));
        rs.metadata.resource_version = Some(rv.to_string());
        rs.metadata.creation_timestamp = Some(self.store.time(self.store.now));
        rs.metadata.generation = Some(1);
        rs.status = Some(k8s_openapi::api::apps::v1::ReplicaSetStatus {
            replicas: 0,
            ..Default::default()
        });
        self.store.replicasets.insert(
            id,
            ns,
            name,
            RsEntry {
                id,
                rs,
                template,
                owner,
            },
        );
        match owner {
            Some(o) => self.store.owners.link(o, id),
            None => {
                self.orphan_rss.insert(id);
            }
        }
        self.work.add(Work::ReplicaSet(id));
        self.rs_changed(id);
    }

    /// `scaleReplicaSetAndRecordEvent`: scales unless already at `new_scale`.
    pub(crate) fn scale_rs_and_record(
        &mut self,
        cx: &SyncCtx,
        rs: ObjId,
        new_scale: i32,
        why: &str,
        said: &str,
    ) -> bool {
        let cur = self.rs_spec(rs);
        if cur == new_scale {
            return false;
        }
        let op = if cur < new_scale { "up" } else { "down" };
        self.scale_rs(cx, rs, new_scale, op, why, said)
    }

    /// `scaleReplicaSet`: writes size and replica annotations; an event when the size changed.
    pub(crate) fn scale_rs(
        &mut self,
        cx: &SyncCtx,
        rs: ObjId,
        new_scale: i32,
        op: &str,
        why: &str,
        said: &str,
    ) -> bool {
        let desired = cx.replicas;
        let max = desired + cx.max_surge;
        let Some(e) = self.store.replicasets.get(rs) else {
            return false;
        };
        let old = util::rs_replicas(&e.rs);
        let revision = util::rs_revision(&e.rs);
        let size_changed = old != new_scale;
        let ann_changed = util::replicas_annotations_need_update(&e.rs, desired, max);
        if !(size_changed || ann_changed) {
            return false;
        }
        if let Some(e) = self.store.replicasets.get_mut(rs) {
            if let Some(s) = e.rs.spec.as_mut() {
                s.replicas = Some(new_scale);
            }
            util::set_replicas_annotations(&mut e.rs, desired, max);
            if size_changed {
                e.rs.metadata.generation = Some(e.rs.metadata.generation.unwrap_or(1) + 1);
            }
        }
        self.write_rs(rs);
        self.work.add(Work::ReplicaSet(rs));
        if size_changed
            && let (Some(dref), Some(rref)) = (self.deployment_ref(cx.id), self.rs_ref(rs))
        {
            self.store.event(NewEvent {
                object: dref.clone(),
                warning: false,
                reason: "ScalingReplicaSet",
                message: format!(
                    "Scaled {op} replica set {} to {new_scale} from {old}",
                    rref.name
                ),
                source: "deployment-controller",
                host: None,
            });
            let n = (new_scale - old).abs();
            let pods = if n == 1 { "pod" } else { "pods" };
            let done = if new_scale > old {
                "Started"
            } else {
                "Stopped"
            };
            self.store.decide(
                dref,
                format!("{done} {n} {pods} of revision {revision}: {said}."),
                format!(
                    "scaled {op} ReplicaSet {} {old}→{new_scale}: {why}",
                    rref.name
                ),
            );
        }
        size_changed
    }

    /// `sync`: scaling and cleanup only (paused Deployments and scaling events).
    pub(crate) fn sync_scale(&mut self, cx: &mut SyncCtx) {
        let (new, old) = self.get_all_rs_and_sync_revision(cx, false);
        self.proportional_scale(cx, new, &old);
        if cx.paused {
            self.cleanup_deployment(cx, &old);
        }
        let mut all = old.clone();
        all.extend(new);
        self.sync_deployment_status(cx, &all, new);
    }

    /// Status only, for a Deployment being deleted.
    pub(crate) fn sync_status_only(&mut self, cx: &mut SyncCtx) {
        let (new, old) = self.get_all_rs_and_sync_revision(cx, false);
        let mut all = old;
        all.extend(new);
        self.sync_deployment_status(cx, &all, new);
    }

    /// `isScalingEvent`: some active ReplicaSet's desired-replicas annotation differs from
    /// spec.replicas.
    pub(crate) fn is_scaling_event(&mut self, cx: &mut SyncCtx) -> bool {
        let (new, old) = self.get_all_rs_and_sync_revision(cx, false);
        let replicas = cx.replicas;
        old.iter().chain(new.iter()).any(|&id| {
            let Some(rs) = self.rs_obj(id) else {
                return false;
            };
            if util::rs_replicas(rs) <= 0 {
                return false;
            }
            util::non_negative_i32_annotation(rs, util::DESIRED_REPLICAS)
                .is_some_and(|desired| desired != replicas)
        })
    }

    /// `scale`: proportional scaling across the active ReplicaSets.
    pub(super) fn proportional_scale(&mut self, cx: &SyncCtx, new: Option<ObjId>, old: &[ObjId]) {
        let replicas = cx.replicas;
        // FindActiveOrLatest.
        let active: Vec<ObjId> = new
            .iter()
            .chain(old.iter())
            .copied()
            .filter(|&id| self.rs_spec(id) > 0)
            .collect();
        let active_or_latest = match active.len() {
            0 => new.or_else(|| {
                let mut o = old.to_vec();
                self.sort_by_creation(&mut o);
                o.last().copied()
            }),
            1 => Some(active[0]),
            _ => None,
        };
        if let Some(rs) = active_or_latest {
            if self.rs_spec(rs) != replicas {
                let why = format!(
                    "it is the only active ReplicaSet, so it takes all {replicas} replicas"
                );
                self.scale_rs_and_record(
                    cx,
                    rs,
                    replicas,
                    &why,
                    &format!("it is the only ReplicaSet left, so it runs all {replicas}"),
                );
            }
            return;
        }
        // IsSaturated.
        if let Some(n) = new {
            let rs = self.rs_obj(n);
            let desired_ann = rs
                .and_then(|r| r.metadata.annotations.as_ref())
                .and_then(|a| a.get(util::DESIRED_REPLICAS))
                .and_then(|v| v.parse::<i32>().ok());
            let (_, _, available) = rs.map_or((0, 0, 0), util::rs_status);
            if self.rs_spec(n) == replicas && desired_ann == Some(replicas) && available == replicas
            {
                for &o in old {
                    if self.rs_spec(o) > 0 {
                        self.scale_rs_and_record(
                            cx,
                            o,
                            0,
                            "the new ReplicaSet is saturated",
                            "the new revision runs all its pods, all available",
                        );
                    }
                }
                return;
            }
        }
        if !cx.rolling {
            return;
        }
        let surge = cx.max_surge;
        let mut all: Vec<ObjId> = active;
        let total: i32 = all.iter().map(|&id| self.rs_spec(id)).sum();
        let allowed = if replicas > 0 { replicas + surge } else { 0 };
        let to_add = allowed - total;
        // ReplicaSetsBySizeNewer / ReplicaSetsBySizeOlder.
        let key = |s: &Sim, id: ObjId| {
            let rs = s.rs_obj(id);
            (
                s.rs_spec(id),
                rs.and_then(|r| r.metadata.creation_timestamp.clone())
                    .map(|t| t.0),
                rs.and_then(|r| r.metadata.name.clone()),
            )
        };
        if to_add > 0 {
            all.sort_by(|&a, &b| {
                let (ka, kb) = (key(self, a), key(self, b));
                kb.0.cmp(&ka.0).then(kb.1.cmp(&ka.1)).then(kb.2.cmp(&ka.2))
            });
        } else if to_add < 0 {
            all.sort_by(|&a, &b| {
                let (ka, kb) = (key(self, a), key(self, b));
                kb.0.cmp(&ka.0).then(ka.1.cmp(&kb.1)).then(ka.2.cmp(&kb.2))
            });
        }
        let op = if to_add > 0 { "up" } else { "down" };
        let mut added = 0;
        let mut sizes: Vec<(ObjId, i32)> = Vec::new();
        for &id in &all {
            let spec = self.rs_spec(id);
            if to_add != 0 {
                let p = self.proportion(cx, id, to_add, added);
                sizes.push((id, spec + p));
                added += p;
            } else {
                sizes.push((id, spec));
            }
        }
        if let Some(first) = sizes.first_mut()
            && to_add != 0
        {
            first.1 = (first.1 + to_add - added).max(0);
        }
        let max_before = all
            .first()
            .and_then(|&id| self.rs_obj(id))
            .and_then(|r| r.metadata.annotations.as_ref())
            .and_then(|a| a.get(util::MAX_REPLICAS).cloned())
            .unwrap_or_else(|| "?".into());
        for (id, size) in sizes {
            let why = format!(
                "proportional scaling: replicas {replicas} + maxSurge {surge} = {allowed} allowed, {total} before (max-replicas was {max_before}), {to_add:+} shared by size"
            );
            self.scale_rs(
                cx,
                id,
                size,
                op,
                &why,
                "the Deployment was resized during a rollout, and each ReplicaSet takes its share",
            );
        }
    }

    /// `GetProportion`.
    fn proportion(&self, cx: &SyncCtx, rs: ObjId, to_add: i32, added: i32) -> i32 {
        let spec = self.rs_spec(rs);
        if spec == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let fraction = self.replica_set_fraction(cx, rs);
        let allowed = to_add - added;
        if allowed > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    /// `getReplicaSetFraction`.
    pub(super) fn replica_set_fraction(&self, cx: &SyncCtx, rs: ObjId) -> i32 {
        let replicas = cx.replicas;
        let spec = self.rs_spec(rs);
        if replicas == 0 {
            return -spec;
        }
        let deployment_max = replicas + cx.max_surge;
        let annotated = self
            .rs_obj(rs)
            .and_then(|r| util::non_negative_i32_annotation(r, util::MAX_REPLICAS))
            .filter(|v| *v != 0)
            .or_else(|| {
                self.deployment_status(cx.id)
                    .and_then(|s| s.replicas)
                    .filter(|v| *v != 0)
            });
        let Some(max) = annotated else { return 0 };
        let new_size = f64::from(spec) * f64::from(deployment_max) / f64::from(max);
        // math.Round: half away from zero.
        new_size.round() as i32 - spec
    }

    /// `cleanupDeployment`: delete old, empty ReplicaSets beyond revisionHistoryLimit.
    pub(crate) fn cleanup_deployment(&mut self, cx: &SyncCtx, old: &[ObjId]) {
        let Some(limit) = cx.revision_history_limit else {
            return;
        };
        if limit == i32::MAX {
            return;
        }
        let mut cleanable: Vec<ObjId> = old
            .iter()
            .copied()
            .filter(|&id| {
                self.rs_obj(id)
                    .is_some_and(|r| r.metadata.deletion_timestamp.is_none())
            })
            .collect();
        let diff = cleanable.len() as i32 - limit;
        if diff <= 0 {
            return;
        }
        cleanable.sort_by_key(|&id| {
            let rs = self.rs_obj(id);
            (
                rs.map_or(0, util::rs_revision),
                rs.and_then(|r| r.metadata.creation_timestamp.clone())
                    .map(|t| t.0),
                rs.and_then(|r| r.metadata.name.clone()),
            )
        });
        for &id in cleanable.iter().take(diff as usize) {
            let Some(rs) = self.rs_obj(id) else { continue };
            let (status_replicas, _, _) = util::rs_status(rs);
            let observed = rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if status_replicas != 0
                || util::rs_replicas(rs) != 0
                || rs.metadata.generation.unwrap_or(0) > observed
                || rs.metadata.deletion_timestamp.is_some()
            {
                continue;
            }
            if let (Some(dref), Some(rref)) = (self.deployment_ref(cx.id), self.rs_ref(id)) {
                self.store.decide(
                    dref,
                    format!(
                        "Deleted old ReplicaSet {} (revision {}): only {limit} old revisions are kept to roll back to.",
                        rref.name,
                        util::rs_revision(rs)
                    ),
                    format!("deleted old ReplicaSet {} (revision {}): more than revisionHistoryLimit {limit} old ReplicaSets", rref.name, util::rs_revision(rs)),
                );
            }
            self.delete_rs_now(id);
        }
    }

    /// `DeploymentComplete` for the stored status.
    pub(crate) fn deployment_complete(&self, cx: &SyncCtx) -> bool {
        match self.deployment_status(cx.id) {
            Some(status) => cx.complete(status),
            None => cx.complete(&DeploymentStatus::default()),
        }
    }

    /// The counts `calculateStatus` sums over the ReplicaSets.
    pub(crate) fn status_counts(&self, all: &[ObjId], new: Option<ObjId>) -> StatusCounts {
        let mut c = StatusCounts::default();
        let mut total_spec = 0;
        for &id in all {
            if let Some(rs) = self.rs_obj(id) {
                let (r, rd, av) = util::rs_status(rs);
                c.replicas += r;
                c.ready += rd;
                c.available += av;
                total_spec += util::rs_replicas(rs);
            }
        }
        c.updated = new
            .and_then(|n| self.rs_obj(n))
            .map_or(0, |r| util::rs_status(r).0);
        c.unavailable = (total_spec - c.available).max(0);
        c
    }

    /// `calculateStatus` (the controller itself goes through [`Sim::status_counts`] and
    /// [`Sim::status_from_counts`], to look at the counts first).
    #[cfg(test)]
    pub(crate) fn calculate_status(
        &self,
        cx: &SyncCtx,
        all: &[ObjId],
        new: Option<ObjId>,
    ) -> DeploymentStatus {
        let counts = self.status_counts(all, new);
        self.status_from_counts(cx, &counts)
    }

    /// `calculateStatus` from the counts: the stored status with these numbers and the
    /// Available condition.
    pub(crate) fn status_from_counts(&self, cx: &SyncCtx, c: &StatusCounts) -> DeploymentStatus {
        let default = DeploymentStatus::default();
        let prev = self.deployment_status(cx.id).unwrap_or(&default);
        let nz = |v: i32| (v != 0).then_some(v);
        let mut status = DeploymentStatus {
            observed_generation: cx.generation,
            replicas: nz(c.replicas),
            updated_replicas: nz(c.updated),
            ready_replicas: nz(c.ready),
            available_replicas: nz(c.available),
            unavailable_replicas: nz(c.unavailable),
            collision_count: prev.collision_count,
            conditions: prev.conditions.clone(),
            terminating_replicas: None,
        };
        let (st, why, message) = c.available_condition(cx);
        // `SetDeploymentCondition` leaves a condition of the same status and reason alone:
        // the new one is built only when it goes in.
        if !util::get_condition(&status, "Available")
            .is_some_and(|c| c.status == st && c.reason.as_deref() == Some(why))
        {
            let now = self.store.time(self.store.now);
            util::set_condition(
                &mut status,
                util::new_condition("Available", st, why, message.into(), &now),
            );
        }
        status
    }

    /// `syncDeploymentStatus`: write the computed status when it changed.
    pub(crate) fn sync_deployment_status(
        &mut self,
        cx: &mut SyncCtx,
        all: &[ObjId],
        new: Option<ObjId>,
    ) {
        let counts = self.status_counts(all, new);
        if self
            .deployment_status(cx.id)
            .is_some_and(|prev| counts.unchanged(cx, prev))
        {
            #[cfg(test)]
            assert_eq!(
                self.deployment_status(cx.id),
                Some(&self.status_from_counts(cx, &counts))
            );
            return;
        }
        let status = self.status_from_counts(cx, &counts);
        if self.deployment_status(cx.id) == Some(&status) {
            return;
        }
        if let Some((_, d)) = self.store.deployments.get_mut(cx.id) {
            d.status = Some(status);
        }
        self.write_deployment_status(cx);
    }
}

/// What `calculateStatus` counts over a Deployment's ReplicaSets.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatusCounts {
    pub(crate) replicas: i32,
    pub(crate) updated: i32,
    pub(crate) ready: i32,
    pub(crate) available: i32,
    pub(crate) unavailable: i32,
}

impl StatusCounts {
    /// The Available condition's status, reason and message for these counts.
    fn available_condition(&self, cx: &SyncCtx) -> (&'static str, &'static str, &'static str) {
        if self.available >= cx.replicas - cx.max_unavailable {
            (
                "True",
                reason::MIN_AVAILABLE,
                "Deployment has minimum availability.",
            )
        } else {
            (
                "False",
                reason::MIN_UNAVAILABLE,
                "Deployment does not have minimum availability.",
            )
        }
    }

    /// Whether `calculateStatus` would give `prev` back unchanged: the same numbers, and an
    /// Available condition that `SetDeploymentCondition` would leave alone (same status and
    /// reason). Decided without building the status.
    pub(crate) fn unchanged(&self, cx: &SyncCtx, prev: &DeploymentStatus) -> bool {
        let nz = |v: i32| (v != 0).then_some(v);
        let (st, why, _) = self.available_condition(cx);
        prev.observed_generation == cx.generation
            && prev.replicas == nz(self.replicas)
            && prev.updated_replicas == nz(self.updated)
            && prev.ready_replicas == nz(self.ready)
            && prev.available_replicas == nz(self.available)
            && prev.unavailable_replicas == nz(self.unavailable)
            && prev.terminating_replicas.is_none()
            && util::get_condition(prev, "Available")
                .is_some_and(|c| c.status == st && c.reason.as_deref() == Some(why))
    }
}

/// `SetDeploymentRevision`.
fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let a = d.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if a.get(util::REVISION).map(String::as_str) != Some(revision) {
        a.insert(util::REVISION.into(), revision.into());
        true
    } else {
        false
    }
}

/// `NewRSNewReplicas` for a rolling update: grow the new ReplicaSet up to replicas + maxSurge
/// in total, counting spec sizes only (readiness plays no part).
#[cfg(test)]
pub(crate) fn new_rs_new_replicas(d: &Deployment, current_total: i32, new_spec: i32) -> i32 {
    SyncCtx::new(0, d, Vec::new()).new_rs_new_replicas(current_total, new_spec)
}

impl SyncCtx {
    /// `NewRSNewReplicas` (see [`new_rs_new_replicas`]).
    pub(crate) fn new_rs_new_replicas(&self, current_total: i32, new_spec: i32) -> i32 {
        let replicas = self.replicas;
        if !self.rolling {
            return replicas;
        }
        let max_total = replicas + self.max_surge;
        if current_total >= max_total {
            return new_spec;
        }
        new_spec + (max_total - current_total).min(replicas - new_spec)
    }
}
