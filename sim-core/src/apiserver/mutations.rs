//! The kubectl mutations the page's console runs: `scale`, `set image`,
//! `rollout pause|resume|restart|undo`. Each works out, as kubectl does on the client, the
//! request the real kubectl sends, and sends it to [`Sim::api`]: a command typed in the page
//! and the same command from the real kubectl take one path through the API server.

use serde_json::{Value, json};

use crate::apiserver::call::{ApiCall, Verb, WriteOptions};
use crate::apiserver::patch::PatchType;
use crate::controller::deployment::rollback::{Undo, UndoError};
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::{Kind, ObjId};

/// A write as kubectl sends it: built with [`KubectlWrite::patch`], [`KubectlWrite::create`]
/// or [`KubectlWrite::put`], then sent with [`Sim::kubectl_write`].
pub(crate) struct KubectlWrite<'a> {
    verb: Verb,
    kind: Kind,
    namespace: &'a str,
    /// The object's name (none for a create).
    name: Option<&'a str>,
    subresource: Option<&'a str>,
    patch_type: Option<PatchType>,
    body: Value,
    field_manager: Option<&'a str>,
    /// `--dry-run=server`: `dryRun=All`.
    dry_run: bool,
}

impl<'a> KubectlWrite<'a> {
    fn new(verb: Verb, kind: Kind, namespace: &'a str, name: Option<&'a str>, body: Value) -> Self {
        KubectlWrite {
            verb,
            kind,
            namespace,
            name,
            subresource: None,
            patch_type: None,
            body,
            field_manager: None,
            dry_run: false,
        }
    }

    /// A PATCH of `kind` `namespace/name` (the namespace is ignored for cluster-scoped kinds).
    pub(crate) fn patch(
        kind: Kind,
        namespace: &'a str,
        name: &'a str,
        patch_type: PatchType,
        body: Value,
    ) -> Self {
        KubectlWrite {
            patch_type: Some(patch_type),
            ..KubectlWrite::new(Verb::Patch, kind, namespace, Some(name), body)
        }
    }

    /// A POST of `body` in `namespace`.
    pub(crate) fn create(kind: Kind, namespace: &'a str, body: Value) -> Self {
        KubectlWrite::new(Verb::Create, kind, namespace, None, body)
    }

    /// A PUT of `body` as `namespace/name`.
    pub(crate) fn put(kind: Kind, namespace: &'a str, name: &'a str, body: Value) -> Self {
        KubectlWrite::new(Verb::Update, kind, namespace, Some(name), body)
    }

    /// kubectl drain's `EvictPod`: a POST of a `policy/v1` Eviction to `pods/NAME/eviction`,
    /// with the grace period as its delete options.
    pub(crate) fn evict(namespace: &'a str, name: &'a str, grace: Option<i64>) -> Self {
        let mut body = serde_json::json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": namespace},
        });
        if let Some(g) = grace {
            body["deleteOptions"] = serde_json::json!({"gracePeriodSeconds": g});
        }
        KubectlWrite::new(Verb::Create, Kind::Pod, namespace, Some(name), body).on("eviction")
    }

    /// On a subresource (`scale`).
    pub(crate) fn on(mut self, subresource: &'a str) -> Self {
        self.subresource = Some(subresource);
        self
    }

    /// With kubectl's field manager for the command (`kubectl-set`, `kubectl-rollout`...).
    pub(crate) fn manager(mut self, field_manager: &'a str) -> Self {
        self.field_manager = Some(field_manager);
        self
    }

    /// The request as an [`ApiCall`], to send or to record.
    pub(crate) fn into_call(self) -> ApiCall {
        let res = crate::api::resource::of(self.kind);
        ApiCall {
            verb: self.verb,
            resource: res.plural.into(),
            group: res.group.into(),
            namespace: Some(self.namespace.to_string()).filter(|_| res.namespaced),
            name: self.name.map(str::to_string),
            subresource: self.subresource.map(str::to_string),
            patch_type: self.patch_type,
            body: self.body,
            options: WriteOptions {
                field_manager: self.field_manager.map(str::to_string),
                dry_run: self.dry_run,
                ..WriteOptions::default()
            },
        }
    }

    /// With `dryRun=All` when `dry_run`.
    pub(crate) fn dry(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

impl Sim {
    /// The Deployment `namespace/name`, or NotFound.
    pub fn deployment_id(&self, namespace: &str, name: &str) -> Result<ObjId, ApiError> {
        self.store
            .deployments
            .lookup(namespace, name)
            .ok_or_else(|| ApiError::not_found("deployments.apps", name))
    }

    /// Sends a write to the API server, as the real kubectl would.
    pub(crate) fn kubectl_write(&mut self, p: KubectlWrite<'_>) -> Result<Value, ApiError> {
        self.api(&p.into_call())
    }

    /// `kubectl scale KIND/x --replicas=N`: a merge patch of the `scale` subresource.
    pub fn scale(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
        replicas: i32,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        let body = json!({"spec": {"replicas": replicas}});
        let write = KubectlWrite::patch(kind, namespace, name, PatchType::Merge, body);
        self.kubectl_write(write.on("scale").dry(dry_run))
            .map(|_| ())
    }

    /// `kubectl set image deployment/x container=image ...`. Returns whether anything changed.
    pub fn set_image(
        &mut self,
        namespace: &str,
        name: &str,
        images: &[(String, String)],
        dry_run: bool,
    ) -> Result<bool, ApiError> {
        let Some(mut call) = self.set_image_call(namespace, name, images)? else {
            return Ok(false);
        };
        call.options.dry_run = dry_run;
        self.api(&call)?;
        Ok(true)
    }

    /// The request `kubectl set image` sends, worked out from the live Deployment as kubectl
    /// does (`None` when no image changes), for a caller that records it as an `api` action
    /// (the page's image faults, the compare view).
    pub fn set_image_call(
        &self,
        namespace: &str,
        name: &str,
        images: &[(String, String)],
    ) -> Result<Option<ApiCall>, ApiError> {
        let id = self.deployment_id(namespace, name)?;
        let Some((_, d)) = self.store.deployments.get(id) else {
            return Ok(None);
        };
        let containers = || {
            d.spec
                .iter()
                .flat_map(|s| s.template.spec.iter())
                .flat_map(|s| s.containers.iter())
        };
        for (c, _) in images {
            if c != "*" && !containers().any(|k| k.name == *c) {
                return Err(ApiError::BadRequest(format!(
                    "unable to find container named {c:?}"
                )));
            }
        }
        // set_image.go patches the containers whose image changes, in the order of all.
        let mut changed = Vec::new();
        let mut order = Vec::new();
        for c in containers() {
            order.push(json!({"name": c.name}));
            if let Some((_, image)) = images.iter().rev().find(|(n, _)| n == "*" || *n == c.name)
                && c.image.as_deref() != Some(image.as_str())
            {
                changed.push(json!({"image": image, "name": c.name}));
            }
        }
        if changed.is_empty() {
            return Ok(None);
        }
        let body = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": order,
            "containers": changed,
        }}}});
        let write = KubectlWrite::patch(
            Kind::Deployment,
            namespace,
            name,
            PatchType::Strategic,
            body,
        );
        Ok(Some(write.manager("kubectl-set").into_call()))
    }

    /// `kubectl rollout pause|resume`.
    pub fn set_paused(
        &mut self,
        namespace: &str,
        name: &str,
        paused: bool,
        dry_run: bool,
    ) -> Result<bool, ApiError> {
        let id = self.deployment_id(namespace, name)?;
        let current = self
            .store
            .deployments
            .get(id)
            .and_then(|(_, d)| d.spec.as_ref()?.paused)
            .unwrap_or(false);
        if current == paused {
            return Ok(false);
        }
        // objectpauser.go / objectresumer.go: a strategic patch of `spec.paused` (false is
        // Go's zero value, omitted, so resuming deletes the key).
        let body = json!({"spec": {"paused": if paused { json!(true) } else { Value::Null }}});
        self.rollout_patch(namespace, name, body, dry_run)?;
        Ok(true)
    }

    /// `kubectl rollout restart`: stamps the template with `restartedAt`.
    pub fn rollout_restart(
        &mut self,
        namespace: &str,
        name: &str,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        let id = self.deployment_id(namespace, name)?;
        if self
            .store
            .deployments
            .get(id)
            .and_then(|(_, d)| d.spec.as_ref()?.paused)
            .unwrap_or(false)
        {
            // objectrestarter.go refuses; rollout_restart.go wraps the error with the
            // resource and name: `error: %s %q %v`.
            return Err(ApiError::BadRequest(format!(
                "deployments.apps {name:?} can't restart paused deployment (run rollout resume first)"
            )));
        }
        let stamp = self
            .store
            .now_timestamp()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        // The stamp has a resolution of seconds: a second restart within the same second makes
        // an empty patch, which rollout_restart.go refuses.
        let same = self.store.deployments.get(id).is_some_and(|(_, d)| {
            d.spec
                .as_ref()
                .and_then(|s| s.template.metadata.as_ref())
                .and_then(|m| m.annotations.as_ref())
                .and_then(|a| a.get("kubectl.kubernetes.io/restartedAt"))
                == Some(&stamp)
        });
        if same {
            return Err(ApiError::BadRequest(format!(
                "failed to create patch for {name}: if restart has already been triggered within the past second, please wait before attempting to trigger another"
            )));
        }
        let body = json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": stamp,
        }}}}});
        self.rollout_patch(namespace, name, body, dry_run)?;
        Ok(())
    }

    /// The strategic patch of a Deployment `kubectl rollout pause|resume|restart` sends.
    fn rollout_patch(
        &mut self,
        namespace: &str,
        name: &str,
        body: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let write = KubectlWrite::patch(
            Kind::Deployment,
            namespace,
            name,
            PatchType::Strategic,
            body,
        );
        self.kubectl_write(write.manager("kubectl-rollout").dry(dry_run))
    }

    /// `kubectl rollout undo [--to-revision=N]`: what kubectl prints on success.
    pub fn rollout_undo(
        &mut self,
        namespace: &str,
        name: &str,
        to_revision: i64,
        dry_run: bool,
    ) -> Result<String, UndoOrApiError> {
        let id = self.deployment_id(namespace, name)?;
        match self.plan_undo(id, to_revision)? {
            // rollback.go prints the requested toRevision (0 for a bare undo), not the
            // revision it found.
            Undo::Skipped { .. } => Ok(format!(
                "deployment.apps/{name} skipped rollback (current template already matches revision {to_revision})"
            )),
            Undo::RollBack {
                template,
                annotations,
                ..
            } => {
                // rollback.go sends a JSON patch of two replaces, computed on the client.
                let template = serde_json::to_value(&*template)
                    .map_err(|e| ApiError::Unclassified(e.to_string()))?;
                let body = json!([
                        {"op": "replace", "path": "/spec/template", "value": template},
                        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
                ]);
                let write =
                    KubectlWrite::patch(Kind::Deployment, namespace, name, PatchType::Json, body);
                self.kubectl_write(write.dry(dry_run))?;
                Ok(format!("deployment.apps/{name} rolled back"))
            }
        }
    }
}

/// `rollout undo` fails either in kubectl or at the API server.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UndoOrApiError {
    /// kubectl's own check.
    #[error(transparent)]
    Undo(#[from] UndoError),
    /// The server's answer.
    #[error(transparent)]
    Api(#[from] ApiError),
}
