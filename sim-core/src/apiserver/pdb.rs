//! PodDisruptionBudgets in the store, as the `policy/v1` registry strategy writes them: the
//! status is dropped on create and kept on update, the generation moves with the spec.

use std::sync::Arc;

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};

use crate::controller::Work;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, ObjId};

impl Sim {
    pub(crate) fn create_pdb(&mut self, mut p: PodDisruptionBudget) -> ObjId {
        let id = self.store.next_id();
        let ns: Arc<str> = p.metadata.namespace.as_deref().unwrap_or("default").into();
        let name: Arc<str> = p.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::PodDisruptionBudget, id, &ns, &name, ChangeType::Added);
        p.metadata.uid = Some(self.store.uid(id));
        p.metadata.resource_version = Some(rv.to_string());
        p.metadata.generation = Some(1);
        // `PrepareForCreate`: the status starts empty, but for the fields the API requires.
        p.status = Some(PodDisruptionBudgetStatus::default());
        self.store.pdbs.insert(id, ns, name, (id, p));
        self.work.add(Work::Disruption(id));
        id
    }

    pub(crate) fn update_pdb(
        &mut self,
        old: PodDisruptionBudget,
        new: PodDisruptionBudget,
    ) -> bool {
        let ns = old.metadata.namespace.clone().unwrap_or_default();
        let name = old.metadata.name.clone().unwrap_or_default();
        let Some(id) = self.store.pdbs.lookup(&ns, &name) else {
            return false;
        };
        if old.spec == new.spec
            && old.metadata.labels == new.metadata.labels
            && old.metadata.annotations == new.metadata.annotations
        {
            return false;
        }
        let mut generation = old.metadata.generation.unwrap_or(1);
        if old.spec != new.spec {
            generation += 1;
        }
        let (nsa, na): (Arc<str>, Arc<str>) = (ns.as_str().into(), name.as_str().into());
        let rv = self.store.touch(
            Kind::PodDisruptionBudget,
            id,
            &nsa,
            &na,
            ChangeType::Modified,
        );
        if let Some((_, p)) = self.store.pdbs.get_mut(id) {
            p.spec = new.spec;
            p.metadata.labels = new.metadata.labels;
            p.metadata.annotations = new.metadata.annotations;
            p.metadata.generation = Some(generation);
            p.metadata.resource_version = Some(rv.to_string());
        }
        self.work.add(Work::Disruption(id));
        true
    }

    /// The disruption controller's status write (`updatePdbStatus`), skipped when equal.
    pub(crate) fn write_pdb_status(&mut self, id: ObjId, status: PodDisruptionBudgetStatus) {
        let Some((_, p)) = self.store.pdbs.get(id) else {
            return;
        };
        if p.status.as_ref() == Some(&status) {
            return;
        }
        let ns: Arc<str> = p.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = p.metadata.name.as_deref().unwrap_or("").into();
        let rv = self.store.touch(
            Kind::PodDisruptionBudget,
            id,
            &ns,
            &name,
            ChangeType::Modified,
        );
        if let Some((_, p)) = self.store.pdbs.get_mut(id) {
            p.status = Some(status);
            p.metadata.resource_version = Some(rv.to_string());
        }
    }

    pub(crate) fn delete_pdb(&mut self, id: ObjId, namespace: &str, name: &str) {
        let (nsa, na): (Arc<str>, Arc<str>) = (namespace.into(), name.into());
        self.store.touch(
            Kind::PodDisruptionBudget,
            id,
            &nsa,
            &na,
            ChangeType::Deleted,
        );
        self.store.pdbs.remove(id, namespace, name);
    }
}
