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
use k8s_openapi::api::core::v1::{Endpoints, Event, Namespace, Node, Pod, Service};
use k8s_openapi::schemars::SchemaGenerator;
use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::store::Kind;

/// Every schema reachable from the served kinds (and `autoscaling/v1 Scale`), by name.
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
        g.subschema_for::<Scale>();
        g.take_definitions(true).into_iter().collect()
    })
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
    }
}
