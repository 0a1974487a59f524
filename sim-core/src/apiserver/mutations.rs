//! The kubectl mutations the page's console runs on the store: `scale`, `set image`,
//! `rollout pause|resume|restart|undo`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

use crate::api::Object;
use crate::controller::deployment::rollback::{Undo, UndoError};
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::ObjId;

impl Sim {
    /// The Deployment `namespace/name`, or NotFound.
    pub fn deployment_id(&self, namespace: &str, name: &str) -> Result<ObjId, ApiError> {
        self.store
            .deployments
            .lookup(namespace, name)
            .ok_or_else(|| ApiError::not_found("deployments.apps", name))
    }

    fn modify_deployment(
        &mut self,
        id: ObjId,
        f: impl FnOnce(&mut Deployment),
    ) -> Result<bool, ApiError> {
        let Some((_, d)) = self.store.deployments.get(id) else {
            return Err(ApiError::not_found("deployments.apps", ""));
        };
        let mut d = d.clone();
        f(&mut d);
        self.update(Object::Deployment(d))
    }

    /// `kubectl scale deployment/x --replicas=N`.
    pub fn scale_deployment(
        &mut self,
        namespace: &str,
        name: &str,
        replicas: i32,
    ) -> Result<(), ApiError> {
        let id = self.deployment_id(namespace, name)?;
        self.modify_deployment(id, |d| {
            if let Some(s) = d.spec.as_mut() {
                s.replicas = Some(replicas);
            }
        })?;
        Ok(())
    }

    /// `kubectl scale replicaset/x --replicas=N`.
    pub fn scale_replica_set(
        &mut self,
        namespace: &str,
        name: &str,
        replicas: i32,
    ) -> Result<(), ApiError> {
        let id = self
            .store
            .replicasets
            .lookup(namespace, name)
            .ok_or_else(|| ApiError::not_found("replicasets.apps", name))?;
        let Some(e) = self.store.replicasets.get(id) else {
            return Ok(());
        };
        let mut rs: ReplicaSet = e.rs.clone();
        if let Some(s) = rs.spec.as_mut() {
            s.replicas = Some(replicas);
        }
        self.update(Object::ReplicaSet(rs))?;
        Ok(())
    }

    /// `kubectl set image deployment/x container=image ...`. Returns whether anything changed.
    pub fn set_image(
        &mut self,
        namespace: &str,
        name: &str,
        images: &[(String, String)],
    ) -> Result<bool, ApiError> {
        let id = self.deployment_id(namespace, name)?;
        let Some((_, d)) = self.store.deployments.get(id) else {
            return Ok(false);
        };
        let containers: Vec<String> = d
            .spec
            .iter()
            .flat_map(|s| s.template.spec.iter())
            .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
            .collect();
        for (c, _) in images {
            if c != "*" && !containers.contains(c) {
                return Err(ApiError::BadRequest(format!(
                    "unable to find container named {c:?}"
                )));
            }
        }
        self.modify_deployment(id, |d| {
            for c in d
                .spec
                .iter_mut()
                .flat_map(|s| s.template.spec.iter_mut())
                .flat_map(|s| s.containers.iter_mut())
            {
                for (name, image) in images {
                    if name == "*" || *name == c.name {
                        c.image = Some(image.clone());
                    }
                }
            }
        })
    }

    /// `kubectl rollout pause|resume`.
    pub fn set_paused(
        &mut self,
        namespace: &str,
        name: &str,
        paused: bool,
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
        self.modify_deployment(id, |d| {
            if let Some(s) = d.spec.as_mut() {
                s.paused = if paused { Some(true) } else { None };
            }
        })
    }

    /// `kubectl rollout restart`: stamps the template with `restartedAt`.
    pub fn rollout_restart(&mut self, namespace: &str, name: &str) -> Result<(), ApiError> {
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
        self.modify_deployment(id, |d| {
            if let Some(s) = d.spec.as_mut() {
                s.template
                    .metadata
                    .get_or_insert_with(Default::default)
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert("kubectl.kubernetes.io/restartedAt".into(), stamp);
            }
        })?;
        Ok(())
    }

    /// `kubectl rollout undo [--to-revision=N]`: what kubectl prints on success.
    pub fn rollout_undo(
        &mut self,
        namespace: &str,
        name: &str,
        to_revision: i64,
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
                self.modify_deployment(id, |d| {
                    if let Some(s) = d.spec.as_mut() {
                        s.template = *template;
                    }
                    d.metadata.annotations = Some(annotations);
                })?;
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
