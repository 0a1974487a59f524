//! Scaling, revisions, the new ReplicaSet, cleanup and status. Port of `sync.go`.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::util::{self, reason};
use super::{SyncCtx, controller_ref};
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
        ids.sort_by_key(|&id| {
            let rs = self.rs_obj(id);
            (
                rs.and_then(|r| r.metadata.creation_timestamp.clone())
                    .map(|t| t.0),
                rs.and_then(|r| r.metadata.name.clone()),
                id,
            )
        });
    }

    /// `FindNewReplicaSet` and `FindOldReplicaSets`: (new, old) for the sync's ReplicaSets.
    pub(crate) fn find_new_and_old(&self, cx: &SyncCtx) -> (Option<ObjId>, Vec<ObjId>) {
        let mut sorted = cx.rs_list.clone();
        self.sort_by_creation(&mut sorted);
        let template = cx.d.spec.as_ref().map(|s| &s.template);
        let new = sorted.iter().copied().find(|&id| {
            let t = self.store.replicasets.get(id).map(|e| &*e.template);
            matches!((t, template), (Some(a), Some(b)) if util::equal_ignore_hash(a, b))
        });
        let old = cx
            .rs_list
            .iter()
            .copied()
            .filter(|&id| Some(id) != new)
            .collect();
        (new, old)
    }

    /// `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created when asked and
    /// missing) and the old ones.
    pub(crate) fn get_all_rs_and_sync_revision(
        &mut self,
        cx: &mut SyncCtx,
        create: bool,
    ) -> (Option<ObjId>, Vec<ObjId>) {
        let (_, old) = self.find_new_and_old(cx);
        let new = self.get_new_rs(cx, &old, create);
        (new, old)
    }

    /// `getNewReplicaSet`.
    fn get_new_rs(&mut self, cx: &mut SyncCtx, old: &[ObjId], create: bool) -> Option<ObjId> {
        let (existing, _) = self.find_new_and_old(cx);
        let max_old = old
            .iter()
            .filter_map(|&id| self.rs_obj(id))
            .map(util::rs_revision)
            .max()
            .unwrap_or(0);
        let new_revision = max_old + 1;
        let now = self.store.time(self.store.now);
        let d_name = cx.d.metadata.name.clone().unwrap_or_default();

        if let Some(rs_id) = existing {
            let min_ready = cx.d.spec.as_ref().and_then(|s| s.min_ready_seconds);
            // Only the metadata can change here; copying the whole ReplicaSet (template and
            // all) on every sync is what made large clusters slow.
            let current = self.rs_obj(rs_id)?;
            let min_ready_update =
                current.spec.as_ref().and_then(|s| s.min_ready_seconds) != min_ready;
            let mut rs_copy = ReplicaSet {
                metadata: current.metadata.clone(),
                spec: None,
                status: None,
            };
            let old_rev = util::rs_revision(&rs_copy);
            let annotations_updated =
                util::set_new_rs_annotations(&cx.d, &mut rs_copy, new_revision, true);
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
            let mut needs_update = set_deployment_revision(&mut cx.d, &rev);
            let has_deadline = util::has_progress_deadline(&cx.d);
            let status = cx.d.status.get_or_insert_with(Default::default);
            if has_deadline && util::get_condition(status, "Progressing").is_none() {
                let rs_name = rs_copy.metadata.name.clone().unwrap_or_default();
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
            return Some(rs_id);
        }
        if !create {
            return None;
        }

        // Create the new ReplicaSet.
        let spec = cx.d.spec.clone()?;
        let collision = cx.d.status.as_ref().and_then(|s| s.collision_count);
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
        let ns = cx.d.metadata.namespace.clone().unwrap_or_default();
        if let Some(existing) = self.store.replicasets.lookup(&ns, &name) {
            // A hash collision: the name is taken by a ReplicaSet with another template.
            let same = self.store.replicasets.get(existing).is_some_and(|e| {
                e.owner == Some(cx.id) && util::equal_ignore_hash(&e.template, &spec.template)
            });
            if !same {
                let status = cx.d.status.get_or_insert_with(Default::default);
                status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
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
                min_ready_seconds: spec.min_ready_seconds,
                selector,
                template: Some(template.clone()),
            }),
            status: None,
        };
        let new_id = self.store.next_id();
        let mut all: Vec<ObjId> = old.to_vec();
        let current_total: i32 = all.iter().map(|&id| self.rs_spec(id)).sum();
        let count = new_rs_new_replicas(&cx.d, current_total, 0);
        all.push(new_id);
        if let Some(s) = rs.spec.as_mut() {
            s.replicas = Some(count);
        }
        util::set_new_rs_annotations(&cx.d, &mut rs, new_revision, false);
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
            let why = if util::is_rolling(&cx.d) {
                let r = util::replicas(&cx.d);
                let surge = util::max_surge(&cx.d);
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
        let mut needs_update = set_deployment_revision(&mut cx.d, &new_revision.to_string());
        if util::has_progress_deadline(&cx.d) {
            let status = cx.d.status.get_or_insert_with(Default::default);
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
        cx.rs_list.push(new_id);
        Some(new_id)
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
        let desired = util::replicas(&cx.d);
        let max = desired + util::max_surge(&cx.d);
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
        if cx.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
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
        let replicas = util::replicas(&cx.d);
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
        let replicas = util::replicas(&cx.d);
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
        if !util::is_rolling(&cx.d) {
            return;
        }
        let surge = util::max_surge(&cx.d);
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
        let replicas = util::replicas(&cx.d);
        let spec = self.rs_spec(rs);
        if replicas == 0 {
            return -spec;
        }
        let deployment_max = replicas + util::max_surge(&cx.d);
        let annotated = self
            .rs_obj(rs)
            .and_then(|r| util::non_negative_i32_annotation(r, util::MAX_REPLICAS))
            .filter(|v| *v != 0)
            .or_else(|| {
                cx.d.status
                    .as_ref()
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
        let Some(limit) = cx.d.spec.as_ref().and_then(|s| s.revision_history_limit) else {
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

    /// `calculateStatus`.
    pub(crate) fn calculate_status(
        &self,
        cx: &SyncCtx,
        all: &[ObjId],
        new: Option<ObjId>,
    ) -> DeploymentStatus {
        let mut replicas = 0;
        let mut ready = 0;
        let mut available = 0;
        let mut total_spec = 0;
        for &id in all {
            if let Some(rs) = self.rs_obj(id) {
                let (r, rd, av) = util::rs_status(rs);
                replicas += r;
                ready += rd;
                available += av;
                total_spec += util::rs_replicas(rs);
            }
        }
        let updated = new
            .and_then(|n| self.rs_obj(n))
            .map_or(0, |r| util::rs_status(r).0);
        let unavailable = (total_spec - available).max(0);
        let prev = cx.d.status.clone().unwrap_or_default();
        let nz = |v: i32| (v != 0).then_some(v);
        let mut status = DeploymentStatus {
            observed_generation: cx.d.metadata.generation,
            replicas: nz(replicas),
            updated_replicas: nz(updated),
            ready_replicas: nz(ready),
            available_replicas: nz(available),
            unavailable_replicas: nz(unavailable),
            collision_count: prev.collision_count,
            conditions: prev.conditions.clone(),
            terminating_replicas: None,
        };
        let now = self.store.time(self.store.now);
        let d = &cx.d;
        if available >= util::replicas(d) - util::max_unavailable(d) {
            util::set_condition(
                &mut status,
                util::new_condition(
                    "Available",
                    "True",
                    reason::MIN_AVAILABLE,
                    "Deployment has minimum availability.".into(),
                    &now,
                ),
            );
        } else {
            util::set_condition(
                &mut status,
                util::new_condition(
                    "Available",
                    "False",
                    reason::MIN_UNAVAILABLE,
                    "Deployment does not have minimum availability.".into(),
                    &now,
                ),
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
        let status = self.calculate_status(cx, all, new);
        if cx.d.status.as_ref() == Some(&status) {
            return;
        }
        cx.d.status = Some(status);
        self.write_deployment_status(cx);
    }
}

/// `SetDeploymentRevision`.
fn set_deployment_revision(d: &mut k8s_openapi::api::apps::v1::Deployment, revision: &str) -> bool {
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
pub(crate) fn new_rs_new_replicas(
    d: &k8s_openapi::api::apps::v1::Deployment,
    current_total: i32,
    new_spec: i32,
) -> i32 {
    let replicas = util::replicas(d);
    if !util::is_rolling(d) {
        return replicas;
    }
    let surge = util::max_surge(d);
    let max_total = replicas + surge;
    if current_total >= max_total {
        return new_spec;
    }
    new_spec + (max_total - current_total).min(replicas - new_spec)
}
