//! The store side of `autoscaling/v2` HorizontalPodAutoscalers: create, update (spec,
//! labels, annotations; a spec change bumps `generation`), status writes and delete. Their
//! behaviour is `controller/podautoscaler/`.

use std::sync::Arc;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

use crate::sim::Sim;
use crate::store::{ChangeType, Kind, ObjId};

impl Sim {
    /// Stores a new HPA (generation 1, no status) and queues its first sync.
    pub(crate) fn create_hpa(&mut self, mut h: HorizontalPodAutoscaler) -> ObjId {
        let id = self.store.next_id();
        let ns: Arc<str> = h.metadata.namespace.as_deref().unwrap_or("default").into();
        let name: Arc<str> = h.metadata.name.as_deref().unwrap_or("").into();
        let rv = self.store.touch(
            Kind::HorizontalPodAutoscaler,
            id,
            &ns,
            &name,
            ChangeType::Added,
        );
        h.metadata.uid = Some(self.store.uid(id));
        h.metadata.resource_version = Some(rv.to_string());
        h.metadata.generation = Some(1);
        h.status = None;
        self.store.hpas.insert(id, ns, name, (id, h));
        self.hpa_created(id);
        id
    }

    /// Replaces an HPA's spec, labels and annotations; returns whether anything changed.
    pub(crate) fn update_hpa(
        &mut self,
        old: HorizontalPodAutoscaler,
        new: HorizontalPodAutoscaler,
    ) -> bool {
        let ns = old.metadata.namespace.clone().unwrap_or_default();
        let name = old.metadata.name.clone().unwrap_or_default();
        let Some(id) = self.store.hpas.lookup(&ns, &name) else {
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
            Kind::HorizontalPodAutoscaler,
            id,
            &nsa,
            &na,
            ChangeType::Modified,
        );
        if let Some((_, h)) = self.store.hpas.get_mut(id) {
            h.spec = new.spec;
            h.metadata.labels = new.metadata.labels;
            h.metadata.annotations = new.metadata.annotations;
            h.metadata.generation = Some(generation);
            h.metadata.resource_version = Some(rv.to_string());
        }
        // A sync is always queued (every resync period): the change is seen at the next.
        true
    }

    /// Writes an HPA's status (its controller, or a `status` subresource write).
    pub(crate) fn write_hpa_status(
        &mut self,
        id: ObjId,
        status: k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerStatus,
    ) {
        let Some((_, h)) = self.store.hpas.get(id) else {
            return;
        };
        if h.status.as_ref() == Some(&status) {
            return;
        }
        let ns: Arc<str> = h.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = h.metadata.name.as_deref().unwrap_or("").into();
        let rv = self.store.touch(
            Kind::HorizontalPodAutoscaler,
            id,
            &ns,
            &name,
            ChangeType::Modified,
        );
        if let Some((_, h)) = self.store.hpas.get_mut(id) {
            h.status = Some(status);
            h.metadata.resource_version = Some(rv.to_string());
        }
    }

    /// Removes an HPA.
    pub(crate) fn delete_hpa(&mut self, id: ObjId, namespace: &str, name: &str) {
        let (nsa, na): (Arc<str>, Arc<str>) = (namespace.into(), name.into());
        self.store.touch(
            Kind::HorizontalPodAutoscaler,
            id,
            &nsa,
            &na,
            ChangeType::Deleted,
        );
        self.store.hpas.remove(id, namespace, name);
        self.hpa_state.remove(&id);
    }
}
