//! API objects: decoding manifests, defaults, validation, selectors and quantities.
//!
//! The object schema is k8s-openapi's (the complete v1.35 schema, so strict decoding can tell a
//! typo from a field we merely do not simulate). What the API server adds on top of the schema
//! lives here: [`decode`] (YAML and strict field checking), [`defaults`] (the `SetDefaults_*`
//! functions), [`validation`] (the `Validate*` functions, with the API server's messages),
//! [`selector`] (`labels.Selector`) and [`quantity`] (`resource.Quantity`).

pub mod admission;
pub mod batch_defaults;
pub mod decode;
pub mod defaults;
pub mod hpa_defaults;
pub mod limitranger;
pub mod quantity;
pub mod quota;
pub mod resource;
pub mod schema;
pub mod selector;
pub mod strategy;
pub mod validation;

pub use k8s_openapi;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, LimitRange, Namespace, Node, Pod, ResourceQuota, Secret, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// One API object of a kind kubesim serves.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    /// `v1 Namespace` (cluster-scoped).
    Namespace(Namespace),
    /// `v1 Node` (cluster-scoped).
    Node(Node),
    /// `v1 Pod`.
    Pod(Pod),
    /// `apps/v1 ReplicaSet`.
    ReplicaSet(ReplicaSet),
    /// `apps/v1 Deployment`.
    Deployment(Deployment),
    /// `v1 Service`.
    Service(Service),
    /// `v1 Endpoints`.
    Endpoints(Endpoints),
    /// `v1 Event` (the core group's Event, as `kubectl get events` lists).
    Event(Event),
    /// `networking.k8s.io/v1 Ingress`.
    Ingress(Ingress),
    /// `networking.k8s.io/v1 IngressClass` (cluster-scoped).
    IngressClass(IngressClass),
    /// `autoscaling/v2 HorizontalPodAutoscaler`.
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
    /// `v1 ConfigMap`.
    ConfigMap(ConfigMap),
    /// `v1 Secret`.
    Secret(Secret),
    /// `discovery.k8s.io/v1 EndpointSlice`.
    EndpointSlice(EndpointSlice),
    /// `policy/v1 PodDisruptionBudget`.
    PodDisruptionBudget(PodDisruptionBudget),
    /// `batch/v1 Job` (boxed: the batch types are the largest).
    Job(Box<k8s_openapi::api::batch::v1::Job>),
    /// `batch/v1 CronJob` (boxed).
    CronJob(Box<k8s_openapi::api::batch::v1::CronJob>),
    /// `v1 ResourceQuota`.
    ResourceQuota(ResourceQuota),
    /// `v1 LimitRange`.
    LimitRange(LimitRange),
    /// `coordination.k8s.io/v1 Lease` (the kubelets' node leases, read only).
    Lease(Lease),
}

/// Calls `$body` with `$inner` bound to the typed object inside any variant.
macro_rules! with_inner {
    ($obj:expr, $inner:ident => $body:expr) => {
        match $obj {
            Object::Namespace($inner) => $body,
            Object::Node($inner) => $body,
            Object::Pod($inner) => $body,
            Object::ReplicaSet($inner) => $body,
            Object::Deployment($inner) => $body,
            Object::Service($inner) => $body,
            Object::Endpoints($inner) => $body,
            Object::Event($inner) => $body,
            Object::Ingress($inner) => $body,
            Object::IngressClass($inner) => $body,
            Object::HorizontalPodAutoscaler($inner) => $body,
            Object::ConfigMap($inner) => $body,
            Object::Secret($inner) => $body,
            Object::EndpointSlice($inner) => $body,
            Object::PodDisruptionBudget($inner) => $body,
            Object::Job($inner) => $body,
            Object::CronJob($inner) => $body,
            Object::ResourceQuota($inner) => $body,
            Object::LimitRange($inner) => $body,
            Object::Lease($inner) => $body,
        }
    };
}

impl Object {
    /// The object's kind, e.g. `"Deployment"`.
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
            Object::Ingress(_) => "Ingress",
            Object::IngressClass(_) => "IngressClass",
            Object::HorizontalPodAutoscaler(_) => "HorizontalPodAutoscaler",
            Object::ConfigMap(_) => "ConfigMap",
            Object::Secret(_) => "Secret",
            Object::EndpointSlice(_) => "EndpointSlice",
            Object::PodDisruptionBudget(_) => "PodDisruptionBudget",
            Object::Job(_) => "Job",
            Object::CronJob(_) => "CronJob",
            Object::ResourceQuota(_) => "ResourceQuota",
            Object::LimitRange(_) => "LimitRange",
            Object::Lease(_) => "Lease",
        }
    }

    /// The object's apiVersion, e.g. `"apps/v1"`.
    pub fn api_version(&self) -> &'static str {
        match self {
            Object::ReplicaSet(_) | Object::Deployment(_) => "apps/v1",
            Object::Ingress(_) | Object::IngressClass(_) => "networking.k8s.io/v1",
            Object::HorizontalPodAutoscaler(_) => "autoscaling/v2",
            Object::EndpointSlice(_) => "discovery.k8s.io/v1",
            Object::PodDisruptionBudget(_) => "policy/v1",
            Object::Job(_) | Object::CronJob(_) => "batch/v1",
            Object::Lease(_) => "coordination.k8s.io/v1",
            _ => "v1",
        }
    }

    /// The resource name as the API server writes it in messages such as NotFound:
    /// `deployments.apps`, `pods`, `namespaces`.
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
            Object::Ingress(_) => "ingresses.networking.k8s.io",
            Object::IngressClass(_) => "ingressclasses.networking.k8s.io",
            Object::HorizontalPodAutoscaler(_) => "horizontalpodautoscalers.autoscaling",
            Object::ConfigMap(_) => "configmaps",
            Object::Secret(_) => "secrets",
            Object::EndpointSlice(_) => "endpointslices.discovery.k8s.io",
            Object::PodDisruptionBudget(_) => "poddisruptionbudgets.policy",
            Object::Job(_) => "jobs.batch",
            Object::CronJob(_) => "cronjobs.batch",
            Object::ResourceQuota(_) => "resourcequotas",
            Object::LimitRange(_) => "limitranges",
            Object::Lease(_) => "leases.coordination.k8s.io",
        }
    }

    /// Whether objects of this kind live in a namespace (Namespace and Node do not).
    pub fn is_namespaced(&self) -> bool {
        !matches!(
            self,
            Object::Namespace(_) | Object::Node(_) | Object::IngressClass(_)
        )
    }

    /// The object's metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        with_inner!(self, o => &o.metadata)
    }

    /// The object's metadata, mutably.
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        with_inner!(self, o => &mut o.metadata)
    }

    /// `metadata.name`, or `""` when absent.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }

    /// `metadata.namespace`, if set.
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// The object as the API server sends it in JSON, with `apiVersion` and `kind`.
    pub fn to_value(&self) -> serde_json::Value {
        // k8s-openapi's Serialize writes apiVersion and kind itself. Serializing plain data into
        // a Value cannot fail (all map keys are strings), so the Null fallback is unreachable.
        with_inner!(self, o => serde_json::to_value(o).unwrap_or(serde_json::Value::Null))
    }
}

/// Manifests shared by the unit tests of the api modules.
#[cfg(test)]
pub(crate) mod fixtures {
    /// The course's Deployment manifest, which must decode, default and validate clean.
    pub(crate) const COURSE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: credit-scoring-api
  namespace: live-coding
  labels: {phase: live-coding, app: rest-api}
spec:
  replicas: 10
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}
  selector:
    matchLabels: {phase: live-coding, app: rest-api}
  template:
    metadata:
      name: credit-scoring-api
      namespace: live-coding
      labels: {phase: live-coding, app: rest-api}
    spec:
      containers:
        - name: api
          image: registry.local/credit-scoring-api:single
          ports: [{containerPort: 8080}]
          readinessProbe:
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: 3
            successThreshold: 1
            httpGet: {port: 8080, path: /}
";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str, kind: &str, api_version: &str, resource: &str, namespaced: bool) {
        let docs = decode::parse_manifests(yaml).expect("test manifest decodes");
        let obj = &docs[0].object;
        assert_eq!(obj.kind(), kind);
        assert_eq!(obj.api_version(), api_version);
        assert_eq!(obj.resource(), resource);
        assert_eq!(obj.is_namespaced(), namespaced);
        let value = obj.to_value();
        assert_eq!(value["kind"], kind);
        assert_eq!(value["apiVersion"], api_version);
        assert_eq!(obj.name(), "x");
    }

    #[test]
    fn identities() {
        check(
            "{apiVersion: v1, kind: Namespace, metadata: {name: x}}",
            "Namespace",
            "v1",
            "namespaces",
            false,
        );
        check(
            "{apiVersion: v1, kind: Node, metadata: {name: x}}",
            "Node",
            "v1",
            "nodes",
            false,
        );
        check(
            "{apiVersion: v1, kind: Pod, metadata: {name: x}}",
            "Pod",
            "v1",
            "pods",
            true,
        );
        check(
            "{apiVersion: apps/v1, kind: Deployment, metadata: {name: x}}",
            "Deployment",
            "apps/v1",
            "deployments.apps",
            true,
        );
        check(
            "{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: x}}",
            "ReplicaSet",
            "apps/v1",
            "replicasets.apps",
            true,
        );
        check(
            "{apiVersion: v1, kind: Service, metadata: {name: x}}",
            "Service",
            "v1",
            "services",
            true,
        );
        check(
            "{apiVersion: v1, kind: Endpoints, metadata: {name: x}}",
            "Endpoints",
            "v1",
            "endpoints",
            true,
        );
        check(
            "{apiVersion: v1, kind: Event, metadata: {name: x}, involvedObject: {}}",
            "Event",
            "v1",
            "events",
            true,
        );
        check(
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: x}}",
            "ConfigMap",
            "v1",
            "configmaps",
            true,
        );
        check(
            "{apiVersion: v1, kind: Secret, metadata: {name: x}}",
            "Secret",
            "v1",
            "secrets",
            true,
        );
    }

    #[test]
    fn name_and_namespace_accessors() {
        let mut obj = decode::decode_value(serde_json::json!({"apiVersion": "v1", "kind": "Pod"}))
            .expect("decodes");
        assert_eq!(obj.name(), "");
        assert_eq!(obj.namespace(), None);
        obj.metadata_mut().namespace = Some("ns".into());
        assert_eq!(obj.namespace(), Some("ns"));
    }
}
