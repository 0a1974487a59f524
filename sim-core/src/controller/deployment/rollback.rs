//! Rollback as `kubectl rollout undo` does it (client side): find the target ReplicaSet and
//! copy its template and annotations into the Deployment. The controller then treats it as an
//! ordinary template change and renumbers the re-activated ReplicaSet. Port of kubectl's
//! `polymorphichelpers/rollback.go`; the legacy in-controller `rollback.go` is not needed by
//! any kubectl in use.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::util;
use crate::sim::Sim;
use crate::store::ObjId;

/// Annotations kubectl keeps from the Deployment when it rolls back.
const KEEP_FROM_DEPLOYMENT: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    util::REVISION,
    util::REVISION_HISTORY,
    util::DESIRED_REPLICAS,
    util::MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// What `rollout undo` decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// Patch the Deployment with this template and these annotations.
    RollBack {
        /// The revision rolled back to.
        revision: i64,
        /// New `spec.template`.
        template: Box<PodTemplateSpec>,
        /// New `metadata.annotations`.
        annotations: BTreeMap<String, String>,
    },
    /// The target already is the current template.
    Skipped {
        /// The matching revision.
        revision: i64,
    },
}

/// Why `rollout undo` refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndoError {
    /// `--to-revision` names no ReplicaSet.
    #[error("unable to find specified revision {0} in history")]
    RevisionNotFound(i64),
    /// No previous revision.
    #[error("no rollout history found for deployment {0:?}")]
    NoHistory(String),
    /// The Deployment is paused.
    #[error(
        "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again"
    )]
    Paused,
}

impl Sim {
    /// The owned ReplicaSets of a Deployment with their revisions, ascending.
    pub fn revisions(&self, deployment: ObjId) -> Vec<(i64, ObjId)> {
        let mut out: Vec<(i64, ObjId)> = self
            .store
            .owners
            .dependents(deployment)
            .into_iter()
            .filter_map(|id| {
                self.store
                    .replicasets
                    .get(id)
                    .map(|e| (util::rs_revision(&e.rs), id))
            })
            .collect();
        out.sort();
        out
    }

    /// Decides `kubectl rollout undo [--to-revision=N]` for a Deployment.
    pub fn plan_undo(&self, deployment: ObjId, to_revision: i64) -> Result<Undo, UndoError> {
        let Some((_, d)) = self.store.deployments.get(deployment) else {
            return Err(UndoError::NoHistory(String::new()));
        };
        if to_revision < 0 {
            return Err(UndoError::RevisionNotFound(to_revision));
        }
        let revs = self.revisions(deployment);
        let target = if to_revision == 0 {
            // The second-highest revision.
            let mut distinct: Vec<(i64, ObjId)> = revs.clone();
            distinct.dedup_by_key(|(r, _)| *r);
            if distinct.len() < 2 {
                return Err(UndoError::NoHistory(
                    d.metadata.name.clone().unwrap_or_default(),
                ));
            }
            distinct[distinct.len() - 2]
        } else {
            *revs
                .iter()
                .find(|(r, _)| *r == to_revision)
                .ok_or(UndoError::RevisionNotFound(to_revision))?
        };
        if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
            return Err(UndoError::Paused);
        }
        let rs = &self
            .store
            .replicasets
            .get(target.1)
            .ok_or(UndoError::RevisionNotFound(to_revision))?
            .rs;
        let mut template = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.clone())
            .unwrap_or_default();
        if let Some(l) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            l.remove(util::POD_TEMPLATE_HASH);
        }
        if d.spec
            .as_ref()
            .is_some_and(|s| util::equal_ignore_hash(&s.template, &template))
        {
            return Ok(Undo::Skipped { revision: target.0 });
        }
        Ok(Undo::RollBack {
            revision: target.0,
            template: Box::new(template),
            annotations: rollback_annotations(d, rs),
        })
    }
}

fn rollback_annotations(
    d: &Deployment,
    rs: &k8s_openapi::api::apps::v1::ReplicaSet,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let current = d.metadata.annotations.clone().unwrap_or_default();
    for k in KEEP_FROM_DEPLOYMENT {
        if let Some(v) = current.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    for (k, v) in rs.metadata.annotations.iter().flatten() {
        if !KEEP_FROM_DEPLOYMENT.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}
