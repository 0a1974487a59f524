//! The store side of ConfigMaps and Secrets: plain data objects that no controller owns.
//! Writes keep the object's identity (uid, creation time) and move its resourceVersion; the
//! kubelet reads them when it starts containers and when it syncs mounted volumes
//! (`kubelet/config.rs`).

use std::sync::Arc;

use crate::api::Object;
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, ObjId};

impl Sim {
    /// Stores a new ConfigMap or Secret (already defaulted and validated); `None` for any
    /// other kind.
    pub(crate) fn create_config_object(&mut self, obj: Object) -> Option<ObjId> {
        let id = self.store.next_id();
        let ns: Arc<str> = obj.namespace().unwrap_or("default").into();
        let name: Arc<str> = obj.name().into();
        let kind = match &obj {
            Object::ConfigMap(_) => Kind::ConfigMap,
            Object::Secret(_) => Kind::Secret,
            _ => return None,
        };
        let rv = self.store.touch(kind, id, &ns, &name, ChangeType::Added);
        let uid = self.store.uid(id);
        match obj {
            Object::ConfigMap(mut cm) => {
                cm.metadata.uid = Some(uid);
                cm.metadata.resource_version = Some(rv.to_string());
                self.store.configmaps.insert(id, ns, name, (id, cm));
            }
            Object::Secret(mut s) => {
                s.metadata.uid = Some(uid);
                s.metadata.resource_version = Some(rv.to_string());
                self.store.secrets.insert(id, ns, name, (id, s));
            }
            _ => return None,
        }
        Some(id)
    }

    /// Replaces a stored ConfigMap's or Secret's data and its labels and annotations (the rest
    /// of its metadata is the live object's); returns whether anything changed.
    pub(crate) fn update_config_object(&mut self, new: Object) -> bool {
        let ns = new.namespace().unwrap_or("default").to_string();
        let name = new.name().to_string();
        let (nsa, na): (Arc<str>, Arc<str>) = (ns.as_str().into(), name.as_str().into());
        match new {
            Object::ConfigMap(mut cm) => {
                let Some(id) = self.store.configmaps.lookup(&ns, &name) else {
                    return false;
                };
                let Some((_, old)) = self.store.configmaps.get(id) else {
                    return false;
                };
                cm.metadata = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    labels: cm.metadata.labels,
                    annotations: cm.metadata.annotations,
                    ..old.metadata.clone()
                };
                if cm == *old {
                    return false;
                }
                let rv = self
                    .store
                    .touch(Kind::ConfigMap, id, &nsa, &na, ChangeType::Modified);
                cm.metadata.resource_version = Some(rv.to_string());
                if let Some(e) = self.store.configmaps.get_mut(id) {
                    e.1 = cm;
                }
                true
            }
            Object::Secret(mut s) => {
                let Some(id) = self.store.secrets.lookup(&ns, &name) else {
                    return false;
                };
                let Some((_, old)) = self.store.secrets.get(id) else {
                    return false;
                };
                s.metadata = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    labels: s.metadata.labels,
                    annotations: s.metadata.annotations,
                    ..old.metadata.clone()
                };
                if s == *old {
                    return false;
                }
                let rv = self
                    .store
                    .touch(Kind::Secret, id, &nsa, &na, ChangeType::Modified);
                s.metadata.resource_version = Some(rv.to_string());
                if let Some(e) = self.store.secrets.get_mut(id) {
                    e.1 = s;
                }
                true
            }
            _ => false,
        }
    }

    /// Deletes a ConfigMap or Secret (nothing depends on them: a pod that uses one keeps what
    /// it read, and a later start of one of its containers fails as the kubelet's does).
    pub(crate) fn delete_config_object(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let not_found = || ApiError::not_found(super::resource_of(kind), name);
        let (nsa, na): (Arc<str>, Arc<str>) = (namespace.into(), name.into());
        match kind {
            Kind::ConfigMap => {
                let id = self
                    .store
                    .configmaps
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.store
                    .touch(Kind::ConfigMap, id, &nsa, &na, ChangeType::Deleted);
                self.store.configmaps.remove(id, namespace, name);
            }
            Kind::Secret => {
                let id = self
                    .store
                    .secrets
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.store
                    .touch(Kind::Secret, id, &nsa, &na, ChangeType::Deleted);
                self.store.secrets.remove(id, namespace, name);
            }
            _ => return Err(not_found()),
        }
        Ok(())
    }

    /// Removes every ConfigMap and Secret of a namespace being deleted.
    pub(crate) fn delete_config_objects_in(&mut self, namespace: &str) {
        for kind in [Kind::ConfigMap, Kind::Secret] {
            let names: Vec<String> = match kind {
                Kind::ConfigMap => self
                    .store
                    .configmaps
                    .names_in(namespace)
                    .map(|(n, _)| n.to_string())
                    .collect(),
                _ => self
                    .store
                    .secrets
                    .names_in(namespace)
                    .map(|(n, _)| n.to_string())
                    .collect(),
            };
            for n in names {
                // Listed just now, so each is there.
                let _ = self.delete_config_object(kind, namespace, &n);
            }
        }
    }
}
