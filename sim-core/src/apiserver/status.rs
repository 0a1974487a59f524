//! The `status` subresource's writes (`PUT`/`PATCH .../deployments/NAME/status`), as the
//! registries' status strategies run them (`pkg/registry/apps/deployment/strategy.go`
//! `deploymentStatusStrategy`, and the ReplicaSet's and Service's): only `status` (and, but for
//! a Deployment's labels, the metadata labels and annotations) is taken from the request; the
//! spec stays as stored; the generation does not move.
//!
//! The controllers then run as usual: a Deployment's next sync recomputes its counts from its
//! ReplicaSets, as on a real cluster, and keeps conditions it does not manage.

use std::sync::Arc;

use serde_json::Value;

use super::call::{ApiCall, Verb};
use super::patch::apply_patch;
use super::rest::{Written, body_bytes, decode_for, namespace_mismatch, patch_type};
use crate::api::Object;
use crate::api::resource::Resource;
use crate::api::validation::validate_status_update;
use crate::controller::Work;
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind};

impl Sim {
    /// PUT or PATCH on `status`: the object with the request's status, as stored (or, for a
    /// dry run, as it would be).
    pub(super) fn api_status(
        &mut self,
        res: &'static Resource,
        ns: Option<&str>,
        name: &str,
        call: &ApiCall,
        w: &mut Written<'_>,
    ) -> Result<Value, ApiError> {
        if !matches!(
            res.kind,
            Kind::Deployment
                | Kind::ReplicaSet
                | Kind::Service
                | Kind::Ingress
                | Kind::HorizontalPodAutoscaler
        ) {
            return Err(ApiError::MethodNotAllowed(format!(
                "kubesim derives the status of {} from its own state: {}/status cannot be written",
                res.plural, res.plural
            )));
        }
        let live = self.api_get(res, ns, name)?;
        let live_v = live.to_value();
        let body = match call.verb {
            Verb::Update => call.body.clone(),
            _ => apply_patch(
                res.kind,
                patch_type(call)?,
                &live_v,
                &body_bytes(&call.body)?,
            )?,
        };
        let Some(meta) = body.get("metadata").and_then(Value::as_object) else {
            return Err(ApiError::BadRequest(
                "Object 'metadata' is missing in the request body".into(),
            ));
        };
        if let (Some(ns), Some(n)) = (ns, meta.get("namespace").and_then(Value::as_str))
            && !n.is_empty()
            && n != ns
        {
            return Err(namespace_mismatch());
        }
        let live_meta = live.metadata();
        if let Some(rv) = meta.get("resourceVersion").and_then(Value::as_str)
            && !rv.is_empty()
            && Some(rv) != live_meta.resource_version.as_deref()
        {
            return Err(ApiError::modified(&res.qualified(), name));
        }
        if let Some(uid) = meta.get("uid").and_then(Value::as_str)
            && !uid.is_empty()
            && Some(uid) != live_meta.uid.as_deref()
        {
            return Err(ApiError::Conflict(format!(
                "Operation cannot be fulfilled on {} {name:?}: Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                res.qualified(),
                live_meta.uid.as_deref().unwrap_or("")
            )));
        }
        let new_v = prepare_for_update(res.kind, &live_v, &body);
        let new = decode_for(res, new_v, w)?;
        validate_status_update(&new)?;
        if w.opts.dry_run {
            return Ok(new.to_value());
        }
        self.write_status(new);
        let written = self.api_get(res, ns, name).map(|o| o.to_value());
        // The controllers see the write, as their informers would.
        self.settle();
        written
    }

    /// Stores a status write: the new status, labels and annotations on the stored object, a
    /// new resourceVersion when anything changed, and the object's controller woken.
    fn write_status(&mut self, new: Object) {
        let ns: Arc<str> = new.namespace().unwrap_or("").into();
        let name: Arc<str> = new.name().into();
        match new {
            Object::HorizontalPodAutoscaler(h) => {
                // ValidateHorizontalPodAutoscalerStatusUpdate's strategy keeps the spec; the
                // controller overwrites the status at its next sync, as on a real cluster.
                if let Some(id) = self.store.hpas.lookup(&ns, &name) {
                    self.write_hpa_status(id, h.status.unwrap_or_default());
                }
            }
            Object::Deployment(d) => {
                let Some(id) = self.store.deployments.lookup(&ns, &name) else {
                    return;
                };
                let Some((_, stored)) = self.store.deployments.get_mut(id) else {
                    return;
                };
                if stored.status == d.status
                    && stored.metadata.annotations == d.metadata.annotations
                {
                    return;
                }
                stored.status = d.status;
                stored.metadata.annotations = d.metadata.annotations;
                let rv = self
                    .store
                    .touch(Kind::Deployment, id, &ns, &name, ChangeType::Modified);
                if let Some((_, stored)) = self.store.deployments.get_mut(id) {
                    stored.metadata.resource_version = Some(rv.to_string());
                }
                self.store.workloads_dirty = true;
                self.work.add(Work::Deployment(id));
            }
            Object::ReplicaSet(rs) => {
                let Some(id) = self.store.replicasets.lookup(&ns, &name) else {
                    return;
                };
                let Some(e) = self.store.replicasets.get_mut(id) else {
                    return;
                };
                if e.rs.status == rs.status
                    && e.rs.metadata.labels == rs.metadata.labels
                    && e.rs.metadata.annotations == rs.metadata.annotations
                {
                    return;
                }
                e.rs.status = rs.status;
                e.rs.metadata.labels = rs.metadata.labels;
                e.rs.metadata.annotations = rs.metadata.annotations;
                self.write_rs(id);
            }
            Object::Service(s) => {
                let Some(id) = self.store.services.lookup(&ns, &name) else {
                    return;
                };
                let Some((_, stored)) = self.store.services.get_mut(id) else {
                    return;
                };
                if stored.status == s.status
                    && stored.metadata.labels == s.metadata.labels
                    && stored.metadata.annotations == s.metadata.annotations
                {
                    return;
                }
                stored.status = s.status;
                stored.metadata.labels = s.metadata.labels;
                stored.metadata.annotations = s.metadata.annotations;
                let rv = self
                    .store
                    .touch(Kind::Service, id, &ns, &name, ChangeType::Modified);
                if let Some((_, stored)) = self.store.services.get_mut(id) {
                    stored.metadata.resource_version = Some(rv.to_string());
                }
            }
            Object::Ingress(i) => {
                let Some(id) = self.store.ingresses.lookup(&ns, &name) else {
                    return;
                };
                let Some((_, stored)) = self.store.ingresses.get_mut(id) else {
                    return;
                };
                if stored.status == i.status
                    && stored.metadata.labels == i.metadata.labels
                    && stored.metadata.annotations == i.metadata.annotations
                {
                    return;
                }
                stored.status = i.status;
                stored.metadata.labels = i.metadata.labels;
                stored.metadata.annotations = i.metadata.annotations;
                let rv = self
                    .store
                    .touch(Kind::Ingress, id, &ns, &name, ChangeType::Modified);
                if let Some((_, stored)) = self.store.ingresses.get_mut(id) {
                    stored.metadata.resource_version = Some(rv.to_string());
                }
            }
            _ => {}
        }
    }
}

/// The status strategy's `PrepareForUpdate`: the stored object with the request's status, and
/// its labels (never a Deployment's) and annotations; everything else as stored.
pub(super) fn prepare_for_update(kind: Kind, live: &Value, request: &Value) -> Value {
    let mut out = live.clone();
    let Some(o) = out.as_object_mut() else {
        return out;
    };
    match request.get("status") {
        Some(s) if !s.is_null() => {
            o.insert("status".into(), s.clone());
        }
        _ => {
            o.remove("status");
        }
    }
    let keys: &[&str] = if kind == Kind::Deployment {
        &["annotations"]
    } else {
        &["labels", "annotations"]
    };
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in keys {
            match request.pointer(&format!("/metadata/{k}")) {
                Some(v) if !v.is_null() => {
                    meta.insert((*k).to_string(), v.clone());
                }
                _ => {
                    meta.remove(*k);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::SimConfig;
    use crate::apiserver::call::WriteOptions;
    use crate::apiserver::patch::PatchType;

    fn call(verb: Verb, sub: Option<&str>, body: Value) -> ApiCall {
        ApiCall {
            verb,
            resource: "deployments".into(),
            group: "apps".into(),
            namespace: Some("default".into()),
            name: (verb != Verb::Create).then(|| "web".to_string()),
            subresource: sub.map(str::to_string),
            patch_type: (verb == Verb::Patch).then_some(PatchType::Merge),
            body,
            options: WriteOptions::default(),
        }
    }

    fn sim_with_web() -> Sim {
        let mut sim = Sim::new(SimConfig::default());
        sim.api(&call(
            Verb::Create,
            None,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "api", "image": "a:1"}]}}},
            }),
        ))
        .unwrap();
        sim
    }

    #[test]
    fn a_status_write_keeps_the_spec_labels_and_generation() {
        let mut sim = sim_with_web();
        let v = sim
            .api(&call(
                Verb::Patch,
                Some("status"),
                json!({
                    "metadata": {"labels": {"app": "other"}, "annotations": {"note": "x"}},
                    "spec": {"replicas": 7},
                    "status": {"conditions": [{"type": "Audited", "status": "True"}]},
                }),
            ))
            .unwrap();
        assert_eq!(v["spec"]["replicas"], 2);
        assert_eq!(v["metadata"]["labels"]["app"], "web");
        assert_eq!(v["metadata"]["annotations"]["note"], "x");
        assert_eq!(v["metadata"]["generation"], 1);
        // The controller synced after the write: its counts are back, the foreign condition
        // stays.
        let live = sim
            .get_object(Kind::Deployment, "default", "web")
            .unwrap()
            .to_value();
        let types: Vec<&str> = live["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["type"].as_str())
            .collect();
        assert!(types.contains(&"Audited"), "{types:?}");
        assert_eq!(live["status"]["replicas"], 2);
        // The status writer owns the fields it set, with its subresource.
        let mf = &v["metadata"]["managedFields"];
        let entry = mf
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["subresource"] == "status")
            .expect("the status writer's entry");
        assert_eq!(entry["operation"], "Update");
    }

    #[test]
    fn status_writes_are_validated_preconditioned_and_dry_run() {
        let mut sim = sim_with_web();
        let rv = sim.store.resource_version();
        let e = sim
            .api(&call(
                Verb::Patch,
                Some("status"),
                json!({"status": {"replicas": 5, "readyReplicas": 6}}),
            ))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "The Deployment \"web\" is invalid: status.readyReplicas: Invalid value: 6: cannot be greater than status.replicas"
        );
        let e = sim
            .api(&call(
                Verb::Patch,
                Some("status"),
                json!({"metadata": {"resourceVersion": "1"}, "status": {"replicas": 1}}),
            ))
            .unwrap_err();
        assert_eq!(e.code(), 409);
        let mut dry = call(
            Verb::Patch,
            Some("status"),
            json!({"status": {"observedGeneration": 0}}),
        );
        dry.options.dry_run = true;
        assert_eq!(sim.api(&dry).unwrap()["status"]["observedGeneration"], 0);
        assert_eq!(sim.store.resource_version(), rv, "nothing was written");
        let mut pod = call(Verb::Patch, Some("status"), json!({}));
        pod.resource = "pods".into();
        pod.group = String::new();
        assert_eq!(sim.api(&pod).unwrap_err().code(), 405);
    }
}
