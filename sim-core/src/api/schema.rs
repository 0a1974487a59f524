//! The object schemas of every served kind, as Kubernetes publishes them: k8s-openapi's
//! schemars schemas (Kubernetes' own descriptions and schema names, such as
//! `io.k8s.api.apps.v1.DeploymentSpec`), collected once.
//!
//! They are the one source of field types for the OpenAPI documents `kubectl explain` reads
//! and for the strategic merge patch's walk through an object; the patch strategies and merge
//! keys the schemas lack live in [`super::strategy`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v1::Scale;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, Namespace, Node, Pod, Secret, Service,
};
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIResourceList, DeleteOptions, Patch, Status, WatchEvent,
};
use k8s_openapi::schemars::SchemaGenerator;
use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::api::resource::RESOURCES;
use crate::store::Kind;

/// Every schema reachable from the served kinds, their lists, `autoscaling/v1 Scale` and the
/// `meta/v1` types the API's operations take and return (`Status`, `DeleteOptions`, `Patch`,
/// `WatchEvent`, `APIResourceList`), by name, with `required` as Kubernetes has it.
pub fn definitions() -> &'static BTreeMap<String, Value> {
    static DEFS: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let mut g = SchemaGenerator::new(SchemaSettings::openapi3());
        g.subschema_for::<Namespace>();
        g.subschema_for::<Node>();
        g.subschema_for::<Pod>();
        g.subschema_for::<ReplicaSet>();
        g.subschema_for::<Deployment>();
        g.subschema_for::<Service>();
        g.subschema_for::<Endpoints>();
        g.subschema_for::<Event>();
        g.subschema_for::<Ingress>();
        g.subschema_for::<IngressClass>();
        g.subschema_for::<HorizontalPodAutoscaler>();
        g.subschema_for::<ConfigMap>();
        g.subschema_for::<Secret>();
        g.subschema_for::<k8s_openapi::api::discovery::v1::EndpointSlice>();
        g.subschema_for::<k8s_openapi::api::policy::v1::PodDisruptionBudget>();
        g.subschema_for::<k8s_openapi::api::coordination::v1::Lease>();
        g.subschema_for::<k8s_openapi::api::policy::v1::Eviction>();
        g.subschema_for::<k8s_openapi::api::batch::v1::Job>();
        g.subschema_for::<k8s_openapi::api::batch::v1::CronJob>();
        g.subschema_for::<k8s_openapi::api::core::v1::ResourceQuota>();
        g.subschema_for::<k8s_openapi::api::core::v1::LimitRange>();
        g.subschema_for::<Scale>();
        g.subschema_for::<Status>();
        g.subschema_for::<DeleteOptions>();
        g.subschema_for::<Patch>();
        g.subschema_for::<WatchEvent<Pod>>();
        g.subschema_for::<APIResourceList>();
        let mut defs: BTreeMap<String, Value> = g.take_definitions(true).into_iter().collect();
        for r in RESOURCES {
            let (name, schema) = list_schema(r.kind, &defs);
            defs.insert(name, schema);
        }
        as_kubernetes(&mut defs);
        defs
    })
}

/// Fields that k8s-openapi's Rust types make required (a plain `String` or `ObjectMeta`, not
/// an `Option`) but Kubernetes does not: its Go fields are `omitempty`, or default to `""`.
const NOT_REQUIRED: &[(&str, &str)] = &[
    ("io.k8s.api.apps.v1.Deployment", "metadata"),
    ("io.k8s.api.apps.v1.ReplicaSet", "metadata"),
    ("io.k8s.api.autoscaling.v1.Scale", "metadata"),
    ("io.k8s.api.core.v1.Endpoints", "metadata"),
    ("io.k8s.api.discovery.v1.EndpointSlice", "metadata"),
    ("io.k8s.api.policy.v1.PodDisruptionBudget", "metadata"),
    ("io.k8s.api.coordination.v1.Lease", "metadata"),
    ("io.k8s.api.policy.v1.Eviction", "metadata"),
    ("io.k8s.api.batch.v1.Job", "metadata"),
    ("io.k8s.api.batch.v1.CronJob", "metadata"),
    ("io.k8s.api.core.v1.ResourceQuota", "metadata"),
    ("io.k8s.api.core.v1.LimitRange", "metadata"),
    ("io.k8s.api.core.v1.Namespace", "metadata"),
    ("io.k8s.api.core.v1.Node", "metadata"),
    ("io.k8s.api.core.v1.Pod", "metadata"),
    ("io.k8s.api.core.v1.Service", "metadata"),
    ("io.k8s.api.networking.v1.Ingress", "metadata"),
    ("io.k8s.api.networking.v1.IngressClass", "metadata"),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        "metadata",
    ),
    ("io.k8s.api.core.v1.ConfigMap", "metadata"),
    ("io.k8s.api.core.v1.Secret", "metadata"),
    ("io.k8s.api.core.v1.ConfigMapEnvSource", "name"),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", "name"),
    ("io.k8s.api.core.v1.ConfigMapProjection", "name"),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", "name"),
    ("io.k8s.api.core.v1.LocalObjectReference", "name"),
    ("io.k8s.api.core.v1.SecretEnvSource", "name"),
    ("io.k8s.api.core.v1.SecretKeySelector", "name"),
    ("io.k8s.api.core.v1.SecretProjection", "name"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Status", "metadata"),
];

/// Fields that Kubernetes' published documents list as required but k8s-openapi's Rust types
/// make optional (`+required` on a struct field, such as an HPA's `spec` since 1.36).
const REQUIRED: &[(&str, &str)] = &[("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", "spec")];

/// Brings k8s-openapi's schemas to Kubernetes' published ones where they differ: `required`
/// (see [`NOT_REQUIRED`]), and `IntOrString` and `Quantity`, which Kubernetes publishes as a
/// `oneOf` of their two JSON types.
fn as_kubernetes(defs: &mut BTreeMap<String, Value>) {
    for (schema, field) in NOT_REQUIRED {
        let Some(def) = defs.get_mut(*schema).and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(Value::Array(req)) = def.get_mut("required") {
            req.retain(|f| f != field);
            if req.is_empty() {
                def.remove("required");
            }
        }
    }
    // Fields Kubernetes publishes as required that k8s-openapi models as optional.
    for (schema, field) in REQUIRED {
        if let Some(def) = defs.get_mut(*schema).and_then(Value::as_object_mut) {
            let req = def.entry("required").or_insert_with(|| json!([]));
            if let Some(req) = req.as_array_mut()
                && !req.iter().any(|f| f == field)
            {
                req.push(json!(field));
            }
        }
    }
    let mut one_of = |name: &str, format: Option<&str>, types: [&str; 2]| {
        if let Some(def) = defs.get_mut(name).and_then(Value::as_object_mut) {
            def.remove("x-kubernetes-int-or-string");
            if let Some(f) = format {
                def.insert("format".into(), json!(f));
            }
            def.insert(
                "oneOf".into(),
                json!([{"type": types[0]}, {"type": types[1]}]),
            );
        }
    };
    one_of(
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        Some("int-or-string"),
        ["integer", "string"],
    );
    one_of(
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        None,
        ["string", "number"],
    );
}

/// The schema of a kind's list (`io.k8s.api.apps.v1.DeploymentList`), which k8s-openapi
/// models as one generic `List<T>` without a schema of its own; the descriptions are
/// Kubernetes' (`k8s.io/api`), and `apiVersion` and `kind` are described as in the kind's own
/// schema.
fn list_schema(kind: Kind, defs: &BTreeMap<String, Value>) -> (String, Value) {
    const MORE: &str = "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md";
    let (description, items) = match kind {
        Kind::Pod => (
            "PodList is a list of Pods.".to_string(),
            format!("List of pods. {MORE}"),
        ),
        Kind::Service => (
            "ServiceList holds a list of services.".into(),
            "List of services".into(),
        ),
        Kind::Endpoints => (
            "EndpointsList is a list of endpoints. Deprecated: This API is deprecated in v1.33+."
                .into(),
            "List of endpoints.".into(),
        ),
        Kind::Event => (
            "EventList is a list of events.".into(),
            "List of events".into(),
        ),
        Kind::Namespace => (
            "NamespaceList is a list of Namespaces.".into(),
            "Items is the list of Namespace objects in the list. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/".into(),
        ),
        Kind::Node => (
            "NodeList is the whole list of all Nodes which have been registered with master."
                .into(),
            "List of nodes".into(),
        ),
        Kind::Deployment => (
            "DeploymentList is a list of Deployments.".into(),
            "Items is the list of Deployments.".into(),
        ),
        Kind::ReplicaSet => (
            "ReplicaSetList is a collection of ReplicaSets.".into(),
            "List of ReplicaSets. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset".into(),
        ),
        Kind::Ingress => (
            "IngressList is a collection of Ingress.".into(),
            "items is the list of Ingress.".into(),
        ),
        Kind::IngressClass => (
            "IngressClassList is a collection of IngressClasses.".into(),
            "items is the list of IngressClasses.".into(),
        ),
        Kind::HorizontalPodAutoscaler => (
            "HorizontalPodAutoscalerList is a list of horizontal pod autoscaler objects.".into(),
            "items is the list of horizontal pod autoscaler objects.".into(),
        ),
        Kind::ConfigMap => (
            "ConfigMapList is a resource containing a list of ConfigMap objects.".into(),
            "Items is the list of ConfigMaps.".into(),
        ),
        Kind::Secret => (
            "SecretList is a list of Secret.".into(),
            "Items is a list of secret objects. More info: https://kubernetes.io/docs/concepts/configuration/secret".into(),
        ),
        Kind::EndpointSlice => (
            "EndpointSliceList represents a list of endpoint slices".into(),
            "items is the list of endpoint slices".into(),
        ),
        Kind::PodDisruptionBudget => (
            "PodDisruptionBudgetList is a collection of PodDisruptionBudgets.".into(),
            "Items is a list of PodDisruptionBudgets".into(),
        ),
        Kind::Job => (
            "JobList is a collection of jobs.".into(),
            "items is the list of Jobs.".into(),
        ),
        Kind::CronJob => (
            "CronJobList is a collection of cron jobs.".into(),
            "items is the list of CronJobs.".into(),
        ),
        Kind::ResourceQuota => (
            "ResourceQuotaList is a list of ResourceQuota items.".into(),
            "Items is a list of ResourceQuota objects. More info: https://kubernetes.io/docs/concepts/policy/resource-quotas/".into(),
        ),
        Kind::LimitRange => (
            "LimitRangeList is a list of LimitRange items.".into(),
            "Items is a list of LimitRange objects. More info: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/".into(),
        ),
        Kind::Lease => (
            "LeaseList is a list of Lease objects.".into(),
            "items is a list of schema objects.".into(),
        ),
    };
    let metadata = match kind {
        Kind::Deployment | Kind::IngressClass => "Standard list metadata.".to_string(),
        Kind::Ingress => format!("Standard object's metadata. {MORE}#metadata"),
        Kind::HorizontalPodAutoscaler => "metadata is the standard list metadata.".to_string(),
        _ => format!("Standard list metadata. {MORE}#types-kinds"),
    };
    let meta = |field: &str| {
        defs.get(root(kind))
            .and_then(|d| d.get("properties")?.get(field))
            .cloned()
            .unwrap_or_else(|| json!({"type": "string"}))
    };
    let schema = json!({
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": meta("apiVersion"),
            "items": {
                "description": items,
                "type": "array",
                "items": {"$ref": format!("#/components/schemas/{}", root(kind))},
            },
            "kind": meta("kind"),
            "metadata": {
                "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"}],
                "description": metadata,
            },
        },
        "required": ["items"],
    });
    (format!("{}List", root(kind)), schema)
}

/// The schema name of a kind's object (`io.k8s.api.apps.v1.Deployment`).
pub fn root(kind: Kind) -> &'static str {
    match kind {
        Kind::Namespace => "io.k8s.api.core.v1.Namespace",
        Kind::Node => "io.k8s.api.core.v1.Node",
        Kind::Pod => "io.k8s.api.core.v1.Pod",
        Kind::ReplicaSet => "io.k8s.api.apps.v1.ReplicaSet",
        Kind::Deployment => "io.k8s.api.apps.v1.Deployment",
        Kind::Service => "io.k8s.api.core.v1.Service",
        Kind::Endpoints => "io.k8s.api.core.v1.Endpoints",
        Kind::Event => "io.k8s.api.core.v1.Event",
        Kind::Ingress => "io.k8s.api.networking.v1.Ingress",
        Kind::IngressClass => "io.k8s.api.networking.v1.IngressClass",
        Kind::HorizontalPodAutoscaler => "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        Kind::ConfigMap => "io.k8s.api.core.v1.ConfigMap",
        Kind::Secret => "io.k8s.api.core.v1.Secret",
        Kind::EndpointSlice => "io.k8s.api.discovery.v1.EndpointSlice",
        Kind::PodDisruptionBudget => "io.k8s.api.policy.v1.PodDisruptionBudget",
        Kind::Job => "io.k8s.api.batch.v1.Job",
        Kind::CronJob => "io.k8s.api.batch.v1.CronJob",
        Kind::ResourceQuota => "io.k8s.api.core.v1.ResourceQuota",
        Kind::LimitRange => "io.k8s.api.core.v1.LimitRange",
        Kind::Lease => "io.k8s.api.coordination.v1.Lease",
    }
}

/// The schema name a `$ref` points at (`#/components/schemas/NAME`), also when it stands
/// alone in an `allOf` beside a description, as OpenAPI 3.0 wants it.
pub fn ref_name(schema: &Value) -> Option<&str> {
    let r = schema.get("$ref").or_else(|| {
        schema
            .get("allOf")?
            .as_array()
            .filter(|a| a.len() == 1)?
            .first()?
            .get("$ref")
    })?;
    r.as_str()?.rsplit('/').next()
}

/// The schema name of field `field` of the object schema `schema` (for a list or a map,
/// of its items), if it is an object type of its own.
pub fn field_type(schema: &str, field: &str) -> Option<&'static str> {
    let prop = definitions().get(schema)?.get("properties")?.get(field)?;
    let inner = prop
        .get("items")
        .or_else(|| prop.get("additionalProperties"))
        .unwrap_or(prop);
    let name = ref_name(inner)?;
    definitions().get_key_value(name).map(|(k, _)| k.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_schema_and_fields_lead_to_their_types() {
        for kind in [
            Kind::Namespace,
            Kind::Node,
            Kind::Pod,
            Kind::ReplicaSet,
            Kind::Deployment,
            Kind::Service,
            Kind::Endpoints,
            Kind::Event,
            Kind::Ingress,
            Kind::IngressClass,
            Kind::ConfigMap,
            Kind::Secret,
            Kind::EndpointSlice,
            Kind::PodDisruptionBudget,
            Kind::Job,
            Kind::CronJob,
            Kind::ResourceQuota,
            Kind::LimitRange,
            Kind::Lease,
        ] {
            assert!(definitions().contains_key(root(kind)), "{kind:?}");
        }
        let d = root(Kind::Deployment);
        assert_eq!(
            field_type(d, "spec"),
            Some("io.k8s.api.apps.v1.DeploymentSpec")
        );
        assert_eq!(
            field_type("io.k8s.api.core.v1.PodSpec", "containers"),
            Some("io.k8s.api.core.v1.Container")
        );
        assert_eq!(
            field_type("io.k8s.api.apps.v1.DeploymentSpec", "replicas"),
            None
        );
        let spec = &definitions()["io.k8s.api.apps.v1.DeploymentSpec"];
        assert!(
            spec["description"]
                .as_str()
                .is_some_and(|s| s.contains("desired behavior of the Deployment"))
        );
        // Kubernetes' `required`, not the Rust types' (`metadata` and a reference's `name`
        // are optional), and the list kinds k8s-openapi has no schema for.
        assert_eq!(definitions()[d].get("required"), None);
        assert_eq!(
            definitions()["io.k8s.api.core.v1.Event"]["required"],
            json!(["involvedObject", "metadata"])
        );
        assert_eq!(
            definitions()["io.k8s.api.core.v1.SecretKeySelector"]["required"],
            json!(["key"])
        );
        let list = &definitions()["io.k8s.api.core.v1.PodList"];
        assert_eq!(list["required"], json!(["items"]));
        assert_eq!(
            list["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.Pod"
        );
        assert_eq!(list["description"], "PodList is a list of Pods.");
        for meta in [
            "Status",
            "DeleteOptions",
            "Patch",
            "WatchEvent",
            "APIResourceList",
        ] {
            let name = format!("io.k8s.apimachinery.pkg.apis.meta.v1.{meta}");
            assert!(definitions().contains_key(&name), "{name}");
        }
    }
}
