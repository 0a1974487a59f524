//! ResourceQuotas and LimitRanges in the store, as their core/v1 registry strategies write
//! them: a quota's status is dropped on create and kept on update (the quota controller and
//! the admission plugin write it); a LimitRange is plain data the LimitRanger reads.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{LimitRange, ResourceQuota, ResourceQuotaStatus};

use crate::api::Object;
use crate::error::ApiError;
use crate::sim::Sim;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::store::{ChangeType, Kind, ObjId, Store, Table};

impl Sim {
    pub(crate) fn create_quota(&mut self, mut q: ResourceQuota) -> ObjId {
        let id = self.store.next_id();
        let ns: Arc<str> = q.metadata.namespace.as_deref().unwrap_or("default").into();
        let name: Arc<str> = q.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::ResourceQuota, id, &ns, &name, ChangeType::Added);
        q.metadata.uid = Some(self.store.uid(id));
        q.metadata.resource_version = Some(rv.to_string());
        // `PrepareForCreate`: the status is the controller's.
        q.status = None;
        self.store.quotas.insert(id, ns.clone(), name, (id, q));
        self.store.quota_dirty.insert(ns);
        id
    }

    /// A spec, label or annotation change; the status stays the stored one until the
    /// controller recomputes it.
    pub(crate) fn update_quota(&mut self, new: ResourceQuota) -> bool {
        let changed =
            self.update_spec_and_meta(Kind::ResourceQuota, |s| &mut s.quotas, |q| &mut q.spec, new);
        if let Some(ns) = &changed {
            self.store.quota_dirty.insert(ns.clone());
        }
        changed.is_some()
    }

    /// A status write (the controller's recount, or admission charging a create); skipped
    /// when equal.
    pub(crate) fn write_quota_status(&mut self, id: ObjId, status: ResourceQuotaStatus) {
        let Some((_, q)) = self.store.quotas.get(id) else {
            return;
        };
        if q.status.as_ref() == Some(&status) {
            return;
        }
        let ns: Arc<str> = q.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = q.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::ResourceQuota, id, &ns, &name, ChangeType::Modified);
        if let Some((_, q)) = self.store.quotas.get_mut(id) {
            q.status = Some(status);
            q.metadata.resource_version = Some(rv.to_string());
        }
    }

    pub(crate) fn create_limit_range(&mut self, mut lr: LimitRange) -> ObjId {
        let id = self.store.next_id();
        let ns: Arc<str> = lr.metadata.namespace.as_deref().unwrap_or("default").into();
        let name: Arc<str> = lr.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::LimitRange, id, &ns, &name, ChangeType::Added);
        lr.metadata.uid = Some(self.store.uid(id));
        lr.metadata.resource_version = Some(rv.to_string());
        self.store.limit_ranges.insert(id, ns, name, (id, lr));
        id
    }

    pub(crate) fn update_limit_range(&mut self, new: LimitRange) -> bool {
        self.update_spec_and_meta(
            Kind::LimitRange,
            |s| &mut s.limit_ranges,
            |l| &mut l.spec,
            new,
        )
        .is_some()
    }

    /// The update both registry strategies make: spec, labels and annotations taken from
    /// `new`, a new resourceVersion, the rest (status, uid) kept. `None` when the object is
    /// missing or nothing changed; else its namespace.
    fn update_spec_and_meta<T, S: PartialEq>(
        &mut self,
        kind: Kind,
        table: fn(&mut Store) -> &mut Table<(ObjId, T)>,
        spec: fn(&mut T) -> &mut Option<S>,
        mut new: T,
    ) -> Option<Arc<str>>
    where
        T: k8s_openapi::Metadata<Ty = ObjectMeta>,
    {
        let ns: Arc<str> = new.metadata().namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = new.metadata().name.as_deref().unwrap_or("").into();
        let id = table(&mut self.store).lookup(&ns, &name)?;
        let (_, old) = table(&mut self.store).get_mut(id)?;
        if spec(old) == spec(&mut new)
            && old.metadata().labels == new.metadata().labels
            && old.metadata().annotations == new.metadata().annotations
        {
            return None;
        }
        let rv = self.store.touch(kind, id, &ns, &name, ChangeType::Modified);
        let (_, old) = table(&mut self.store).get_mut(id)?;
        *spec(old) = spec(&mut new).take();
        let (m, n) = (old.metadata_mut(), new.metadata_mut());
        m.labels = n.labels.take();
        m.annotations = n.annotations.take();
        m.resource_version = Some(rv.to_string());
        Some(ns)
    }

    /// Deletes a ResourceQuota or LimitRange (nothing depends on either).
    pub(crate) fn delete_quota_object(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let not_found = || ApiError::not_found(super::resource_of(kind), name);
        let id = match kind {
            Kind::ResourceQuota => self.store.quotas.lookup(namespace, name),
            Kind::LimitRange => self.store.limit_ranges.lookup(namespace, name),
            _ => None,
        }
        .ok_or_else(not_found)?;
        let (nsa, na): (Arc<str>, Arc<str>) = (namespace.into(), name.into());
        self.store.touch(kind, id, &nsa, &na, ChangeType::Deleted);
        match kind {
            Kind::ResourceQuota => {
                self.store.quotas.remove(id, namespace, name);
            }
            _ => {
                self.store.limit_ranges.remove(id, namespace, name);
            }
        }
        Ok(())
    }

    /// Removes every ResourceQuota and LimitRange of a namespace being deleted.
    pub(crate) fn delete_quota_objects_in(&mut self, namespace: &str) {
        for kind in [Kind::ResourceQuota, Kind::LimitRange] {
            let names: Vec<String> = match kind {
                Kind::ResourceQuota => self
                    .store
                    .quotas
                    .names_in(namespace)
                    .map(|(n, _)| n.to_string())
                    .collect(),
                _ => self
                    .store
                    .limit_ranges
                    .names_in(namespace)
                    .map(|(n, _)| n.to_string())
                    .collect(),
            };
            for n in names {
                let _ = self.delete_quota_object(kind, namespace, &n);
            }
        }
    }

    /// The stored object of either kind.
    pub(crate) fn quota_object(&self, kind: Kind, namespace: &str, name: &str) -> Option<Object> {
        match kind {
            Kind::ResourceQuota => self
                .store
                .quotas
                .get(self.store.quotas.lookup(namespace, name)?)
                .map(|(_, q)| Object::ResourceQuota(q.clone())),
            Kind::LimitRange => self
                .store
                .limit_ranges
                .get(self.store.limit_ranges.lookup(namespace, name)?)
                .map(|(_, l)| Object::LimitRange(l.clone())),
            _ => None,
        }
    }
}
