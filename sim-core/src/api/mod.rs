//! API objects: decoding manifests, defaults, validation, selectors and quantities.
//! (Interim minimal version; the full one lands from the api-validation branch.)

pub mod decode;
pub mod defaults;
pub mod quantity;
pub mod selector;
pub mod validation;

pub use k8s_openapi;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Endpoints, Event, Namespace, Node, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// One API object of a kind kubesim serves.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Object {
    Namespace(Namespace),
    Node(Node),
    Pod(Pod),
    ReplicaSet(ReplicaSet),
    Deployment(Deployment),
    Service(Service),
    Endpoints(Endpoints),
    Event(Event),
}

macro_rules! each {
    ($self:expr, $o:ident => $e:expr) => {
        match $self {
            Object::Namespace($o) => $e,
            Object::Node($o) => $e,
            Object::Pod($o) => $e,
            Object::ReplicaSet($o) => $e,
            Object::Deployment($o) => $e,
            Object::Service($o) => $e,
            Object::Endpoints($o) => $e,
            Object::Event($o) => $e,
        }
    };
}

impl Object {
    /// The kind, as in manifests.
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Namespace(_) => "Namespace",
            Object::Node(_) => "Node",
            Object::Pod(_) => "Pod",
            Object::ReplicaSet(_) => "ReplicaSet",
            Object::Deployment(_) => "Deployment",
            Object::Service(_) => "Service",
            Object::Endpoints(_) => "Endpoints",
            Object::Event(_) => "Event",
        }
    }
    /// The apiVersion.
    pub fn api_version(&self) -> &'static str {
        match self {
            Object::ReplicaSet(_) | Object::Deployment(_) => "apps/v1",
            _ => "v1",
        }
    }
    /// The resource name used in API messages (`deployments.apps`).
    pub fn resource(&self) -> &'static str {
        match self {
            Object::Namespace(_) => "namespaces",
            Object::Node(_) => "nodes",
            Object::Pod(_) => "pods",
            Object::ReplicaSet(_) => "replicasets.apps",
            Object::Deployment(_) => "deployments.apps",
            Object::Service(_) => "services",
            Object::Endpoints(_) => "endpoints",
            Object::Event(_) => "events",
        }
    }
    /// Whether objects of this kind live in a namespace.
    pub fn is_namespaced(&self) -> bool {
        !matches!(self, Object::Namespace(_) | Object::Node(_))
    }
    /// The object's metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        each!(self, o => &o.metadata)
    }
    /// The object's metadata, to change.
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        each!(self, o => &mut o.metadata)
    }
    /// The name, or "" when absent.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }
    /// The namespace, when set.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }
    /// The object as the API server sends it.
    pub fn to_value(&self) -> serde_json::Value {
        each!(self, o => serde_json::to_value(o).unwrap_or(serde_json::Value::Null))
    }
}
