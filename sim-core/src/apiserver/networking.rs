//! The store writes of `networking.k8s.io/v1`: Ingresses and IngressClasses as their
//! registries' strategies store them (`pkg/registry/networking/ingress/strategy.go`: status
//! cleared on create, generation 1 and bumped when the spec changes, status kept on update),
//! the `DefaultIngressClass` admission plugin (`plugin/pkg/admission/network/defaultingressclass`),
//! and the IngressClass the cluster starts with.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::networking::v1::{Ingress, IngressClass, IngressClassSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::Object;
use crate::controller::Work;
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, ObjId};

/// The annotation that makes an IngressClass the default (`networking.AnnotationIsDefaultIngressClass`).
pub const IS_DEFAULT_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";
/// The controller name kubesim's ingress controller answers to: ingress-nginx's, so the class
/// minikube's and kind's ingress-nginx install (`nginx`) is the one real manifests name.
pub const CONTROLLER: &str = "k8s.io/ingress-nginx";
/// The IngressClass every cluster starts with, as minikube's `ingress` addon creates it.
pub const DEFAULT_CLASS: &str = "nginx";
/// The object id of the IngressClass the cluster starts with: reserved, outside the ids
/// [`crate::store::Store::next_id`] hands out, so adding it renumbered no other object
/// (UIDs, ClusterIPs and nodePorts are hashes of ids) and runs recorded before it replay
/// the same.
pub const DEFAULT_CLASS_ID: ObjId = 1 << 48;

impl Sim {
    /// Creates the IngressClass `nginx` (controller `k8s.io/ingress-nginx`, the default class),
    /// as `minikube addons enable ingress` does.
    pub(crate) fn create_default_ingress_class(&mut self) {
        let name: Arc<str> = DEFAULT_CLASS.into();
        let rv = self.store.touch(
            Kind::IngressClass,
            DEFAULT_CLASS_ID,
            &"".into(),
            &name,
            ChangeType::Added,
        );
        let labels = BTreeMap::from([
            (
                "app.kubernetes.io/component".to_owned(),
                "controller".to_owned(),
            ),
            (
                "app.kubernetes.io/instance".to_owned(),
                "ingress-nginx".to_owned(),
            ),
            (
                "app.kubernetes.io/name".to_owned(),
                "ingress-nginx".to_owned(),
            ),
        ]);
        let class = IngressClass {
            metadata: ObjectMeta {
                name: Some(DEFAULT_CLASS.into()),
                uid: Some(self.store.uid(DEFAULT_CLASS_ID)),
                resource_version: Some(rv.to_string()),
                creation_timestamp: Some(self.store.time(self.store.now)),
                labels: Some(labels),
                annotations: Some(BTreeMap::from([(
                    IS_DEFAULT_CLASS.to_owned(),
                    "true".to_owned(),
                )])),
                ..Default::default()
            },
            spec: Some(IngressClassSpec {
                controller: Some(CONTROLLER.into()),
                parameters: None,
            }),
        };
        self.store.ingress_classes.insert(
            DEFAULT_CLASS_ID,
            "".into(),
            name,
            (DEFAULT_CLASS_ID, class),
        );
    }

    /// The `DefaultIngressClass` admission plugin: an Ingress created without a class (no
    /// `spec.ingressClassName` and no `kubernetes.io/ingress.class` annotation) gets the
    /// default IngressClass's name; with several defaults, the newest one's.
    pub(crate) fn admit_ingress(&self, obj: &mut Object) {
        let Object::Ingress(ing) = obj else { return };
        let annotated = ing
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key("kubernetes.io/ingress.class"));
        let spec = ing.spec.get_or_insert_with(Default::default);
        if spec.ingress_class_name.is_some() || annotated {
            return;
        }
        if let Some(default) = self.default_ingress_class() {
            spec.ingress_class_name = Some(default);
        }
    }

    /// The default IngressClass's name: of those annotated `is-default-class: "true"`, the
    /// newest (by creation time, then name, as the plugin sorts them).
    pub fn default_ingress_class(&self) -> Option<String> {
        let mut defaults: Vec<(String, String)> = self
            .store
            .ingress_classes
            .iter()
            .filter(|(_, (_, c))| {
                c.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(IS_DEFAULT_CLASS))
                    .is_some_and(|v| v == "true")
            })
            .map(|(_, (_, c))| {
                let created = c
                    .metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string())
                    .unwrap_or_default();
                (created, c.metadata.name.clone().unwrap_or_default())
            })
            .collect();
        defaults.sort();
        defaults.pop().map(|(_, name)| name)
    }

    /// Stores a new Ingress (its status cleared, generation 1) and queues the controller.
    pub(crate) fn create_ingress(&mut self, mut ing: Ingress) -> ObjId {
        let id = self.store.next_id();
        let ns: Arc<str> = ing
            .metadata
            .namespace
            .as_deref()
            .unwrap_or("default")
            .into();
        let name: Arc<str> = ing.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::Ingress, id, &ns, &name, ChangeType::Added);
        ing.metadata.uid = Some(self.store.uid(id));
        ing.metadata.resource_version = Some(rv.to_string());
        ing.metadata.generation = Some(1);
        ing.status = None;
        self.store.ingresses.insert(id, ns, name, (id, ing));
        self.work.add(Work::Ingress(id));
        id
    }

    /// Stores a new IngressClass; the Ingresses that name it may now be ours.
    pub(crate) fn create_ingress_class(&mut self, mut c: IngressClass) -> ObjId {
        let id = self.store.next_id();
        let name: Arc<str> = c.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::IngressClass, id, &"".into(), &name, ChangeType::Added);
        c.metadata.uid = Some(self.store.uid(id));
        c.metadata.resource_version = Some(rv.to_string());
        c.metadata.namespace = None;
        self.store
            .ingress_classes
            .insert(id, "".into(), name, (id, c));
        self.queue_all_ingresses();
        id
    }

    /// Replaces an Ingress's spec, labels and annotations (status kept, generation bumped
    /// when the spec changed); returns whether anything changed.
    pub(crate) fn update_ingress(&mut self, old: Ingress, mut ing: Ingress) -> bool {
        let ns = old.metadata.namespace.clone().unwrap_or_default();
        let name = old.metadata.name.clone().unwrap_or_default();
        let Some(id) = self.store.ingresses.lookup(&ns, &name) else {
            return false;
        };
        if old.spec == ing.spec
            && old.metadata.labels == ing.metadata.labels
            && old.metadata.annotations == ing.metadata.annotations
        {
            return false;
        }
        let generation = old.metadata.generation.unwrap_or(1) + i64::from(old.spec != ing.spec);
        ing.metadata = ObjectMeta {
            labels: ing.metadata.labels,
            annotations: ing.metadata.annotations,
            generation: Some(generation),
            ..old.metadata.clone()
        };
        ing.status = old.status.clone();
        let (nsa, na): (Arc<str>, Arc<str>) = (ns.as_str().into(), name.as_str().into());
        let rv = self
            .store
            .touch(Kind::Ingress, id, &nsa, &na, ChangeType::Modified);
        ing.metadata.resource_version = Some(rv.to_string());
        if let Some(e) = self.store.ingresses.get_mut(id) {
            e.1 = ing;
        }
        self.work.add(Work::Ingress(id));
        true
    }

    /// Replaces an IngressClass's spec, labels and annotations; returns whether anything
    /// changed.
    pub(crate) fn update_ingress_class(&mut self, old: IngressClass, mut c: IngressClass) -> bool {
        let name = old.metadata.name.clone().unwrap_or_default();
        let Some(id) = self.store.ingress_classes.lookup("", &name) else {
            return false;
        };
        if old.spec == c.spec
            && old.metadata.labels == c.metadata.labels
            && old.metadata.annotations == c.metadata.annotations
        {
            return false;
        }
        c.metadata = ObjectMeta {
            labels: c.metadata.labels,
            annotations: c.metadata.annotations,
            ..old.metadata.clone()
        };
        let na: Arc<str> = name.as_str().into();
        let rv = self.store.touch(
            Kind::IngressClass,
            id,
            &"".into(),
            &na,
            ChangeType::Modified,
        );
        c.metadata.resource_version = Some(rv.to_string());
        if let Some(e) = self.store.ingress_classes.get_mut(id) {
            e.1 = c;
        }
        self.queue_all_ingresses();
        true
    }

    /// Deletes an Ingress or an IngressClass.
    pub(crate) fn delete_networking(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let not_found = || ApiError::not_found(super::resource_of(kind), name);
        let (nsa, na): (Arc<str>, Arc<str>) = (namespace.into(), name.into());
        match kind {
            Kind::Ingress => {
                let id = self
                    .store
                    .ingresses
                    .lookup(namespace, name)
                    .ok_or_else(not_found)?;
                self.store.touch(kind, id, &nsa, &na, ChangeType::Deleted);
                self.store.ingresses.remove(id, namespace, name);
            }
            _ => {
                let id = self
                    .store
                    .ingress_classes
                    .lookup("", name)
                    .ok_or_else(not_found)?;
                self.store
                    .touch(kind, id, &"".into(), &na, ChangeType::Deleted);
                self.store.ingress_classes.remove(id, "", name);
                self.queue_all_ingresses();
            }
        }
        Ok(())
    }

    fn queue_all_ingresses(&mut self) {
        let ids: Vec<ObjId> = self.store.ingresses.iter().map(|(id, _)| id).collect();
        for id in ids {
            self.work.add(Work::Ingress(id));
        }
    }

    /// Deletes every Ingress of a namespace being deleted.
    pub(crate) fn delete_ingresses_in(&mut self, namespace: &str) {
        let names: Vec<String> = self
            .store
            .ingresses
            .names_in(namespace)
            .map(|(n, _)| n.to_owned())
            .collect();
        for n in names {
            let _ = self.delete_networking(Kind::Ingress, namespace, &n);
        }
    }
}
