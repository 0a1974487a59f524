//! The garbage collector: deleting an owner deletes its dependents (background propagation)
//! or leaves them ownerless (orphan). Walks the owner graph, as
//! `pkg/controller/garbagecollector` does.

use crate::controller::Work;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, ObjId};

/// How deletion treats dependents (`propagationPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Delete the owner now, its dependents right after (kubectl's default).
    #[default]
    Background,
    /// Wait for dependents first; kubesim deletes them in the same instant.
    Foreground,
    /// Keep dependents, without their ownerReference.
    Orphan,
}

impl Sim {
    /// Deletes a Deployment and, unless orphaning, its ReplicaSets and their pods.
    pub(crate) fn delete_deployment(&mut self, id: ObjId, propagation: Propagation) {
        let Some((_, d)) = self.store.deployments.get(id) else {
            return;
        };
        let (ns, name) = (
            d.metadata.namespace.as_deref().unwrap_or("").into(),
            d.metadata.name.as_deref().unwrap_or("").into(),
        );
        let dependents = self.store.owners.dependents(id);
        self.store
            .touch(Kind::Deployment, id, &ns, &name, ChangeType::Deleted);
        self.store.deployments.remove(id, &ns, &name);
        self.store.owners.remove(id);
        for rs in dependents {
            match propagation {
                Propagation::Orphan => {
                    if let Some(e) = self.store.replicasets.get_mut(rs) {
                        e.owner = None;
                        e.rs.metadata.owner_references = None;
                    }
                    self.orphan_rss.insert(rs);
                    self.write_rs(rs);
                }
                _ => self.delete_rs_now(rs),
            }
        }
    }

    /// Deletes a ReplicaSet; its pods start graceful termination.
    pub(crate) fn delete_rs_now(&mut self, id: ObjId) {
        self.delete_rs(id, Propagation::Background);
    }

    /// Deletes a ReplicaSet with the given propagation.
    pub(crate) fn delete_rs(&mut self, id: ObjId, propagation: Propagation) {
        let Some(e) = self.store.replicasets.get(id) else {
            return;
        };
        let (ns, name) = (
            e.rs.metadata.namespace.as_deref().unwrap_or("").into(),
            e.rs.metadata.name.as_deref().unwrap_or("").into(),
        );
        let owner = e.owner;
        let pods = self.store.owners.dependents(id);
        self.store
            .touch(Kind::ReplicaSet, id, &ns, &name, ChangeType::Deleted);
        self.store.replicasets.remove(id, &ns, &name);
        self.store.owners.remove(id);
        self.orphan_rss.remove(&id);
        if let Some(d) = owner {
            self.work.add(Work::Deployment(d));
        }
        for p in pods {
            match propagation {
                Propagation::Orphan => {
                    if let Some(pod) = self.store.pods.get_mut(p) {
                        pod.owner = None;
                    }
                    self.orphan_pods.insert(p);
                    self.write_pod(p);
                }
                _ => {
                    if let Some(pod) = self.store.pods.get_mut(p) {
                        pod.owner = None;
                    }
                    self.delete_pod(p, None);
                }
            }
        }
    }

    /// Removes a namespace once it is Terminating and holds no pods.
    pub(crate) fn maybe_finish_namespace(&mut self, ns: &str) {
        let Some(id) = self.store.namespaces.lookup("", ns) else {
            return;
        };
        let terminating = self
            .store
            .namespaces
            .get(id)
            .is_some_and(|n| n.metadata.deletion_timestamp.is_some());
        if terminating && self.store.pods.ids_in(ns).is_empty() {
            let name = ns.into();
            self.store
                .touch(Kind::Namespace, id, &"".into(), &name, ChangeType::Deleted);
            self.store.namespaces.remove(id, "", ns);
        }
    }
}
