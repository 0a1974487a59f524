//! The API's write verbs over typed calls, as kube-apiserver's REST handlers run them:
//! decode, default, admit, validate, then store — or, for a dry run, everything but the store.
//!
//! [`Sim::api`] is the one entry point; the HTTP layer, the script runner and replays all
//! call it with an [`ApiCall`], and get back the object as stored (or as it would be) or the
//! [`ApiError`] whose code, reason and causes are the API server's `Status`.

use serde_json::{Value, json};

use super::call::{ApiCall, FieldValidation, Verb, WriteOptions, WriteResult};
use super::patch::{PatchType, SchemaMeta, apply_patch, apply_patch_with};
use crate::api::Object;
use crate::api::decode::{DecodeError, decode_value};
use crate::api::defaults::set_defaults;
use crate::api::resource::Resource;
use crate::api::validation::{ErrorType, FieldError, Invalid, validate, validate_update};
use crate::controller::gc::Propagation;
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::Kind;

/// A write's options, and the warnings it collects for the answer.
pub(super) struct Written<'a> {
    /// The request's options.
    pub(super) opts: &'a WriteOptions,
    /// Warnings for the answer.
    pub(super) warnings: &'a mut Vec<String>,
    /// `metadata.managedFields` as the request set them (a body's, or a patch's result when
    /// the patch changed them).
    pub(super) sent_managers: Option<Value>,
}

/// Metadata the API server keeps from the stored object whatever an update's body says.
const SYSTEM_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "ownerReferences",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

impl Sim {
    /// Runs one write. On an error, or with `dryRun`, the cluster is unchanged: no object,
    /// event, resourceVersion or controller work is written.
    pub fn api(&mut self, call: &ApiCall) -> Result<Value, ApiError> {
        self.api_with_warnings(call).map(|(v, _)| v)
    }

    /// [`Sim::api`], with the warnings the API server sends beside the answer (`Warning:`
    /// headers): the unknown fields a `fieldValidation=Warn` write dropped.
    pub fn api_with_warnings(&mut self, call: &ApiCall) -> WriteResult {
        let mut warnings = Vec::new();
        let v = self.api_call(call, &mut warnings)?;
        Ok((v, warnings))
    }

    fn api_call(&mut self, call: &ApiCall, warnings: &mut Vec<String>) -> Result<Value, ApiError> {
        let res = call.resource()?;
        let ns = call.namespace.as_deref().filter(|_| res.namespaced);
        let opts = &call.options;
        let sent_managers = match call.verb {
            Verb::Create | Verb::Update => call.body.pointer("/metadata/managedFields").cloned(),
            _ => None,
        };
        let mut w = Written {
            opts,
            warnings,
            sent_managers,
        };
        let name = call.name.as_deref();
        let before = match (call.verb, name) {
            (Verb::Create, _) | (_, None) => None,
            (_, Some(name)) => self.api_get(res, ns, name).ok(),
        };
        let mut v = match (
            call.verb,
            name,
            call.subresource.as_deref(),
            call.patch_type,
        ) {
            (Verb::Patch, Some(name), None, Some(PatchType::Apply)) => {
                return self.api_apply(res, ns, name, call, &mut w);
            }
            (Verb::Create, None, None, _) => self.api_create(res, ns, call.body.clone(), &mut w),
            (Verb::Update, Some(name), None, _) => {
                let live = self.api_get(res, ns, name)?;
                self.api_update(res, ns, name, &live, call.body.clone(), &mut w)
            }
            (Verb::Patch, Some(name), None, _) => {
                let live = self.api_get(res, ns, name)?;
                // The patch sees the managers, as a client reads them, and may change them.
                let mut original = live.to_value();
                self.with_managed_fields(&mut original);
                let merged = apply_patch(
                    res.kind,
                    patch_type(call)?,
                    &original,
                    &body_bytes(&call.body)?,
                )?;
                let sent = merged.pointer("/metadata/managedFields");
                if sent != original.pointer("/metadata/managedFields") {
                    w.sent_managers = Some(sent.cloned().unwrap_or(Value::Array(Vec::new())));
                }
                self.api_update(res, ns, name, &live, merged, &mut w)
            }
            (Verb::Update, Some(name), Some("scale"), _) => {
                self.api_update_scale(res, ns, name, &call.body, opts)
            }
            (Verb::Patch, Some(_), Some("scale" | "status"), Some(PatchType::Apply)) => {
                Err(ApiError::MethodNotAllowed(format!(
                    "kubesim does not support server-side apply on {}/{}",
                    res.plural,
                    call.subresource.as_deref().unwrap_or("")
                )))
            }
            (Verb::Patch, Some(name), Some("scale"), _) => {
                let scale = self.api_scale(res, ns, name)?;
                let merged = apply_patch_with(
                    &SchemaMeta::named("io.k8s.api.autoscaling.v1.Scale")
                        .unwrap_or(SchemaMeta::Unknown),
                    patch_type(call)?,
                    &scale,
                    &body_bytes(&call.body)?,
                )?;
                self.api_update_scale(res, ns, name, &merged, opts)
            }
            (Verb::Update | Verb::Patch, Some(name), Some("status"), _) => {
                self.api_status(res, ns, name, call, &mut w)
            }
            (Verb::Delete, Some(name), None, _) => self.api_delete(res, ns, name, opts),
            (Verb::Create, Some(name), Some("eviction"), _) if res.kind == Kind::Pod => {
                return self.api_evict(ns.unwrap_or("default"), name, &call.body, opts);
            }
            _ => Err(ApiError::MethodNotAllowed(format!(
                "kubesim does not support {:?} on {}{}",
                call.verb,
                res.plural,
                call.subresource
                    .as_deref()
                    .map(|s| format!("/{s}"))
                    .unwrap_or_default()
            ))),
        }?;
        if !opts.dry_run {
            self.record_manager(res, call, before.as_ref(), w.sent_managers.as_ref(), &v);
            if call.subresource.as_deref() != Some("scale") {
                self.with_managed_fields(&mut v);
            }
        }
        Ok(v)
    }

    /// The stored object, or NotFound as the API server words it.
    pub fn api_get(
        &self,
        res: &Resource,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Object, ApiError> {
        self.get_object(res.kind, ns.unwrap_or(""), name)
            .ok_or_else(|| ApiError::not_found(&res.qualified(), name))
    }

    /// POST: the object of `body` created in `ns` (the URL's namespace).
    pub(super) fn api_create(
        &mut self,
        res: &Resource,
        ns: Option<&str>,
        mut body: Value,
        w: &mut Written<'_>,
    ) -> Result<Value, ApiError> {
        if let (Some(ns), Some(meta)) =
            (ns, body.get_mut("metadata").and_then(Value::as_object_mut))
        {
            match meta.get("namespace").and_then(Value::as_str) {
                None | Some("") => {
                    meta.insert("namespace".into(), ns.into());
                }
                Some(n) if n != ns => return Err(namespace_mismatch()),
                Some(_) => {}
            }
        }
        let mut obj = decode_for(res, body, w)?;
        if w.opts.dry_run {
            if obj.is_namespaced() && obj.namespace().is_none() {
                obj.metadata_mut().namespace = Some("default".into());
            }
            self.check_namespace(&obj)?;
            set_defaults(&mut obj);
            self.admit_ingress(&mut obj);
            self.prepare_for_create(&mut obj);
            self.admit_limits(&mut obj)?;
            validate(&obj)?;
            self.admit_quota(&obj)?;
            let name = obj.name().to_string();
            if self
                .get_object(res.kind, obj.namespace().unwrap_or(""), &name)
                .is_some()
            {
                return Err(ApiError::AlreadyExists {
                    resource: res.qualified(),
                    name,
                });
            }
            let now = self.store.time(self.store.now);
            let meta = obj.metadata_mut();
            meta.creation_timestamp = Some(now);
            meta.uid = None;
            meta.resource_version = None;
            if matches!(
                res.kind,
                Kind::Deployment | Kind::ReplicaSet | Kind::Ingress | Kind::Job | Kind::CronJob
            ) {
                meta.generation = Some(1);
            }
            return Ok(obj.to_value());
        }
        let ns = obj.namespace().unwrap_or("default").to_string();
        let name = obj.name().to_string();
        self.create(obj)?;
        self.api_get(res, Some(&ns), &name).map(|o| o.to_value())
    }

    /// PUT (and a patch's result): the whole object `body` replaces `live`.
    pub(super) fn api_update(
        &mut self,
        res: &Resource,
        ns: Option<&str>,
        name: &str,
        live: &Object,
        mut body: Value,
        w: &mut Written<'_>,
    ) -> Result<Value, ApiError> {
        if matches!(
            res.kind,
            Kind::Endpoints | Kind::Event | Kind::EndpointSlice
        ) {
            return Err(ApiError::MethodNotAllowed(format!(
                "kubesim manages {} itself: they cannot be updated",
                res.plural
            )));
        }
        let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(ApiError::BadRequest(
                "Object 'metadata' is missing in the request body".into(),
            ));
        };
        match meta.get("name").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("name".into(), name.into());
            }
            Some(n) if n != name => {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
            Some(_) => {}
        }
        if let Some(ns) = ns {
            match meta.get("namespace").and_then(Value::as_str) {
                None | Some("") => {
                    meta.insert("namespace".into(), ns.into());
                }
                Some(n) if n != ns => return Err(namespace_mismatch()),
                Some(_) => {}
            }
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
        for k in SYSTEM_METADATA {
            meta.remove(*k);
        }
        if let Some(o) = body.as_object_mut() {
            o.remove("status");
        }
        let mut new = decode_for(res, body, w)?;
        set_defaults(&mut new);
        // The stored object as the API server would hold it (kubesim's pods leave some
        // defaults implicit), so that only real changes count.
        let mut old = live.clone();
        set_defaults(&mut old);
        validate_update(&old, &new)?;
        if w.opts.dry_run {
            return Ok(preview_update(live, &new));
        }
        self.update(new)?;
        self.api_get(res, ns, name).map(|o| o.to_value())
    }

    /// The `autoscaling/v1` Scale of a Deployment or ReplicaSet.
    pub fn api_scale(
        &self,
        res: &Resource,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        if !matches!(res.kind, Kind::Deployment | Kind::ReplicaSet) {
            return Err(ApiError::not_found("", ""));
        }
        Ok(scale_of(&self.api_get(res, ns, name)?.to_value()))
    }

    /// PUT on `scale` (and a patch's result): the object's `spec.replicas` becomes the Scale's.
    fn api_update_scale(
        &mut self,
        res: &Resource,
        ns: Option<&str>,
        name: &str,
        scale: &Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let live = self.api_get(res, ns, name)?;
        if !matches!(res.kind, Kind::Deployment | Kind::ReplicaSet) {
            return Err(ApiError::not_found("", ""));
        }
        let replicas = match scale.pointer("/spec/replicas") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "json: cannot unmarshal {} into Go struct field ScaleSpec.spec.replicas of type int32",
                        crate::api::decode::json_kind(v)
                    ))
                })?,
        };
        if let Some(rv) = scale
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && !rv.is_empty()
            && Some(rv) != live.metadata().resource_version.as_deref()
        {
            return Err(ApiError::modified(&res.qualified(), name));
        }
        if replicas < 0 {
            return Err(ApiError::Invalid(Invalid {
                kind: "Scale",
                name: name.to_string(),
                causes: vec![FieldError {
                    field: "spec.replicas".into(),
                    error_type: ErrorType::Invalid,
                    bad_value: Some(replicas.to_string()),
                    detail: "must be greater than or equal to 0".into(),
                }],
            }));
        }
        let mut body = live.to_value();
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("replicas".into(), replicas.into());
        }
        let after = self.api_update(
            res,
            ns,
            name,
            &live,
            body,
            &mut Written {
                opts,
                warnings: &mut Vec::new(),
                sent_managers: None,
            },
        )?;
        Ok(scale_of(&after))
    }

    /// DELETE: the object goes (its dependents as `propagationPolicy` says); a Success Status.
    fn api_delete(
        &mut self,
        res: &Resource,
        ns: Option<&str>,
        name: &str,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let live = self.api_get(res, ns, name)?;
        let meta = live.metadata();
        let precondition = |what: &str, want: &str, have: Option<&str>| {
            ApiError::Conflict(format!(
                "Operation cannot be fulfilled on {} {name:?}: Precondition failed: {what} in precondition: {want}, {what} in object meta: {}",
                res.qualified(),
                have.unwrap_or("")
            ))
        };
        if let Some(uid) = &opts.precondition_uid
            && Some(uid.as_str()) != meta.uid.as_deref()
        {
            return Err(precondition("UID", uid, meta.uid.as_deref()));
        }
        if let Some(rv) = &opts.precondition_resource_version
            && Some(rv.as_str()) != meta.resource_version.as_deref()
        {
            return Err(precondition(
                "ResourceVersion",
                rv,
                meta.resource_version.as_deref(),
            ));
        }
        let uid = meta.uid.clone().unwrap_or_default();
        if opts.dry_run {
            if res.kind == Kind::Namespace
                && matches!(
                    name,
                    "default" | "kube-system" | "kube-public" | "kube-node-lease"
                )
            {
                return Err(ApiError::Forbidden(format!(
                    "namespaces {name:?} is forbidden: this namespace may not be deleted"
                )));
            }
        } else {
            let propagation = opts
                .propagation_policy
                .map(Propagation::from)
                .unwrap_or_default();
            self.delete_with_grace(
                res.kind,
                ns.unwrap_or(""),
                name,
                propagation,
                opts.grace_period_seconds,
            )?;
        }
        Ok(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": name, "group": res.group, "kind": res.plural, "uid": uid},
        }))
    }
}

/// A patch call's type; a PATCH without one is the 415 the API server gives.
pub(super) fn patch_type(call: &ApiCall) -> Result<PatchType, ApiError> {
    call.patch_type.ok_or_else(|| {
        ApiError::UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json".into(),
        )
    })
}

pub(super) fn body_bytes(body: &Value) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|e| ApiError::BadRequest(e.to_string()))
}

pub(super) fn namespace_mismatch() -> ApiError {
    ApiError::BadRequest(
        "the namespace of the provided object does not match the namespace sent on the request"
            .into(),
    )
}

/// Decodes a body's object, which must be of the URL's resource kind. Unknown fields are an
/// error (`fieldValidation=Strict`), or dropped, with a warning each for `Warn`, as the API
/// server's field validation does.
pub(super) fn decode_for(
    res: &Resource,
    mut body: Value,
    w: &mut Written<'_>,
) -> Result<Object, ApiError> {
    let obj = match decode_value(body.clone()) {
        Err(DecodeError::UnknownFields { fields, .. })
            if w.opts.field_validation != FieldValidation::Strict =>
        {
            for f in &fields {
                remove_field(&mut body, f);
            }
            if w.opts.field_validation == FieldValidation::Warn {
                w.warnings
                    .extend(fields.iter().map(|f| format!("unknown field {f:?}")));
            }
            decode_value(body)
        }
        other => other,
    }
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if obj.kind() != res.kind.as_str() || obj.api_version() != res.api_version() {
        return Err(ApiError::BadRequest(format!(
            "the API version in the data ({}) does not match the expected API version ({})",
            obj.api_version(),
            res.api_version()
        )));
    }
    Ok(obj)
}

/// Removes the field at a path as the decoder writes it (`spec.template.spec.containers[0].x`).
fn remove_field(v: &mut Value, path: &str) {
    let mut steps: Vec<&str> = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        while let Some(open) = rest.find('[') {
            if open > 0 {
                steps.push(&rest[..open]);
            }
            let close = rest[open..].find(']').map_or(rest.len(), |c| open + c);
            steps.push(&rest[open..=close.min(rest.len() - 1)]);
            rest = &rest[(close + 1).min(rest.len())..];
        }
        if !rest.is_empty() {
            steps.push(rest);
        }
    }
    let Some((last, parents)) = steps.split_last() else {
        return;
    };
    let mut cur = v;
    for s in parents {
        let next = match s.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(i) => i.parse::<usize>().ok().and_then(|i| cur.get_mut(i)),
            None => cur.get_mut(*s),
        };
        let Some(next) = next else { return };
        cur = next;
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(*last);
    }
}

/// What an update would store: the new spec, labels and annotations on the live object's
/// identity and status, its generation moved as the registry's `PrepareForUpdate` moves it.
fn preview_update(live: &Object, new: &Object) -> Value {
    let mut old = live.clone();
    set_defaults(&mut old);
    let old = old.to_value();
    let mut out = new.to_value();
    let mut meta = old["metadata"].clone();
    for k in ["labels", "annotations"] {
        match out["metadata"].get(k) {
            Some(v) => meta[k] = v.clone(),
            None => {
                if let Some(m) = meta.as_object_mut() {
                    m.remove(k);
                }
            }
        }
    }
    let bumps = old.get("spec") != out.get("spec")
        || (matches!(live, Object::Deployment(_))
            && old["metadata"].get("annotations") != out["metadata"].get("annotations"));
    if bumps && let Some(g) = meta.get("generation").and_then(Value::as_i64) {
        meta["generation"] = (g + 1).into();
    }
    out["metadata"] = meta;
    if let Some(status) = old.get("status") {
        out["status"] = status.clone();
    }
    out
}

/// The Scale of an object's JSON.
fn scale_of(v: &Value) -> Value {
    let selector = v
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let meta = &v["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": v.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {
            "replicas": v.pointer("/status/replicas").cloned().unwrap_or(json!(0)),
            "selector": selector,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimConfig;
    use crate::apiserver::call::WriteOptions;
    use crate::store::Kind;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "api", "image": image}]},
                },
            },
        })
    }

    fn call(verb: Verb, name: Option<&str>, body: Value) -> ApiCall {
        ApiCall {
            verb,
            resource: "deployments".into(),
            group: "apps".into(),
            namespace: Some("default".into()),
            name: name.map(str::to_string),
            subresource: None,
            patch_type: None,
            body,
            options: WriteOptions::default(),
        }
    }

    fn dry(mut c: ApiCall) -> ApiCall {
        c.options.dry_run = true;
        c
    }

    fn patch(ty: PatchType, body: Value) -> ApiCall {
        ApiCall {
            patch_type: Some(ty),
            ..call(Verb::Patch, Some("web"), body)
        }
    }

    fn sim_with_web() -> Sim {
        let mut sim = Sim::new(SimConfig::default());
        sim.api(&call(Verb::Create, None, deployment(3, "nginx:1")))
            .unwrap();
        sim
    }

    /// Everything a dry run could have written: the store's version and the event log.
    fn fingerprint(sim: &Sim) -> (u64, usize) {
        (sim.store.resource_version(), sim.store.events.len())
    }

    #[test]
    fn dry_runs_of_every_verb_write_nothing_and_answer_as_the_write_would() {
        let mut sim = sim_with_web();
        let before = fingerprint(&sim);
        let created = sim
            .api(&dry(ApiCall {
                body: json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "other"}, "spec": deployment(1, "x")["spec"]}),
                ..call(Verb::Create, None, Value::Null)
            }))
            .unwrap();
        assert_eq!(created["metadata"]["namespace"], "default");
        assert_eq!(created["spec"]["strategy"]["type"], "RollingUpdate");
        let patched = sim
            .api(&dry(patch(
                PatchType::Merge,
                json!({"spec": {"replicas": 7}}),
            )))
            .unwrap();
        assert_eq!(patched["spec"]["replicas"], 7);
        assert_eq!(patched["metadata"]["generation"], 2);
        let scaled = sim
            .api(&dry(ApiCall {
                subresource: Some("scale".into()),
                ..patch(PatchType::Merge, json!({"spec": {"replicas": 9}}))
            }))
            .unwrap();
        assert_eq!(scaled["spec"]["replicas"], 9);
        let deleted = sim.api(&dry(call(Verb::Delete, Some("web"), Value::Null)));
        assert_eq!(deleted.unwrap()["status"], "Success");
        assert_eq!(fingerprint(&sim), before, "a dry run wrote");
        let live = sim.get_object(Kind::Deployment, "default", "web").unwrap();
        assert_eq!(live.to_value()["spec"]["replicas"], 3);
        assert!(
            sim.get_object(Kind::Deployment, "default", "other")
                .is_none()
        );
    }

    #[test]
    fn a_negative_replicas_patch_is_invalid_as_the_api_server_says_it() {
        let mut sim = sim_with_web();
        let before = fingerprint(&sim);
        let e = sim
            .api(&patch(PatchType::Merge, json!({"spec": {"replicas": -1}})))
            .unwrap_err();
        assert_eq!(e.code(), 422);
        assert_eq!(
            e.to_string(),
            "The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        let e = sim
            .api(&ApiCall {
                subresource: Some("scale".into()),
                ..patch(PatchType::Merge, json!({"spec": {"replicas": -1}}))
            })
            .unwrap_err();
        assert_eq!(e.code(), 422);
        assert_eq!(fingerprint(&sim), before);
    }

    #[test]
    fn a_changed_selector_is_immutable_and_a_stale_resource_version_conflicts() {
        let mut sim = sim_with_web();
        let e = sim
            .api(&patch(
                PatchType::Merge,
                json!({"spec": {"selector": {"matchLabels": {"app": "other"}},
                    "template": {"metadata": {"labels": {"app": "other"}}}}}),
            ))
            .unwrap_err();
        assert_eq!(e.code(), 422, "{e}");
        assert!(e.to_string().contains("field is immutable"), "{e}");
        let e = sim
            .api(&patch(
                PatchType::Merge,
                json!({"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 4}}),
            ))
            .unwrap_err();
        assert_eq!((e.code(), e.reason()), (409, "Conflict"));
        assert!(
            e.to_string().contains("the object has been modified"),
            "{e}"
        );
    }

    #[test]
    fn a_value_is_stored_as_sent_never_read_as_arguments() {
        let mut sim = sim_with_web();
        let image = "nginx:9 -n default";
        sim.api(&patch(
            PatchType::Strategic,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}}}),
        ))
        .unwrap();
        let live = sim.get_object(Kind::Deployment, "default", "web").unwrap();
        assert_eq!(
            live.to_value()["spec"]["template"]["spec"]["containers"][0]["image"],
            image
        );
    }

    #[test]
    fn errors_name_the_resource_as_the_api_server_does() {
        let mut sim = sim_with_web();
        let e = sim
            .api(&call(Verb::Create, None, deployment(1, "x")))
            .unwrap_err();
        assert_eq!(
            (e.code(), e.to_string()),
            (409, "deployments.apps \"web\" already exists".to_string())
        );
        let e = sim
            .api(&call(Verb::Delete, Some("nope"), Value::Null))
            .unwrap_err();
        assert_eq!(
            (e.code(), e.to_string()),
            (404, "deployments.apps \"nope\" not found".to_string())
        );
        let e = sim
            .api(&call(Verb::Patch, Some("web"), json!({})))
            .unwrap_err();
        assert_eq!(e.code(), 415);
        let e = sim
            .api(&patch(PatchType::Json, json!({"op": "remove"})))
            .unwrap_err();
        assert_eq!(e.code(), 400);
    }
}

#[cfg(test)]
mod undo_tests {
    use super::*;
    use crate::SimConfig;
    use crate::api::selector::Selector;

    #[test]
    fn rollout_undo_as_kubectl_patches_it_reuses_the_old_replica_set() {
        let mut sim = Sim::new(SimConfig::default());
        let mut c = ApiCall {
            verb: Verb::Create,
            resource: "deployments".into(),
            group: "apps".into(),
            namespace: Some("default".into()),
            name: None,
            subresource: None,
            patch_type: None,
            body: json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "api", "image": "a:1"}]}}},
            }),
            options: WriteOptions::default(),
        };
        sim.api(&c).unwrap();
        sim.advance(crate::SimDuration::from_secs(60));
        c.verb = Verb::Patch;
        c.name = Some("web".into());
        c.patch_type = Some(PatchType::Strategic);
        c.body = json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "a:2"}]}}}});
        sim.api(&c).unwrap();
        sim.advance(crate::SimDuration::from_secs(60));
        let rss = crate::kubectl::list(
            &sim,
            Kind::ReplicaSet,
            Some("default"),
            &Selector::everything(),
        );
        assert_eq!(rss.len(), 2);
        let old = rss
            .iter()
            .map(|o| o.to_value())
            .find(|v| v["spec"]["template"]["spec"]["containers"][0]["image"] == "a:1")
            .unwrap();
        let mut template = old["spec"]["template"].clone();
        template["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("pod-template-hash");
        // As kubectl re-encodes it from Go types.
        template["spec"]["containers"][0]["resources"] = json!({});
        let d = sim
            .get_object(Kind::Deployment, "default", "web")
            .unwrap()
            .to_value();
        let mut annotations = d["metadata"]["annotations"].clone();
        annotations
            .as_object_mut()
            .unwrap()
            .remove("deployment.kubernetes.io/revision");
        c.patch_type = Some(PatchType::Json);
        c.body = json!([
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]);
        sim.api(&c).unwrap();
        sim.advance(crate::SimDuration::from_secs(60));
        let rss = crate::kubectl::list(
            &sim,
            Kind::ReplicaSet,
            Some("default"),
            &Selector::everything(),
        );
        let revs: Vec<String> = rss
            .iter()
            .map(|o| {
                o.to_value()["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                    .to_string()
            })
            .collect();
        assert_eq!(
            rss.len(),
            2,
            "{revs:?}\n{:#}",
            rss[rss.len() - 1].to_value()["spec"]["template"]
        );
    }
}

#[cfg(test)]
mod field_validation_tests {
    use super::*;
    use crate::SimConfig;
    use crate::apiserver::call::{FieldValidation, WriteOptions};

    fn create(validation: FieldValidation) -> Result<(Value, Vec<String>), ApiError> {
        let mut sim = Sim::new(SimConfig::default());
        sim.api_with_warnings(&ApiCall {
            verb: Verb::Create,
            resource: "deployments".into(),
            group: "apps".into(),
            namespace: Some("default".into()),
            name: None,
            subresource: None,
            patch_type: None,
            body: json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": {"replcas": 3, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "api", "image": "a:1", "imagee": "b"}]}}},
            }),
            options: WriteOptions {
                field_validation: validation,
                ..WriteOptions::default()
            },
        })
    }

    #[test]
    fn unknown_fields_are_refused_warned_about_or_dropped_as_field_validation_says() {
        let e = create(FieldValidation::Strict).unwrap_err();
        assert_eq!(e.code(), 400);
        assert!(
            e.to_string()
                .contains("strict decoding error: unknown field \"spec.replcas\""),
            "{e}"
        );
        let (v, warnings) = create(FieldValidation::Warn).unwrap();
        assert_eq!(
            warnings,
            vec![
                "unknown field \"spec.replcas\"".to_string(),
                "unknown field \"spec.template.spec.containers[0].imagee\"".to_string(),
            ]
        );
        assert_eq!(v["spec"]["replicas"], 1, "defaulted, the typo dropped");
        let (_, warnings) = create(FieldValidation::Ignore).unwrap();
        assert!(warnings.is_empty());
    }
}
