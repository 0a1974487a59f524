//! What the strategic merge patch knows about each place in an object: apimachinery's
//! `LookupPatchMeta` (`strategicpatch/meta.go`), which the Go code answers from struct tags.
//! Here [`SchemaMeta`] answers from the schemas of the served kinds ([`schema`]) and the
//! strategy table ([`strategy`]); the tests answer from a table mirroring apimachinery's test
//! struct `mergeItem`.

use serde_json::Value;

use crate::api::schema;
use crate::api::strategy::{self, FieldStrategy};
use crate::store::Kind;

/// The type information the strategic merge patch walks with, one value per place in an
/// object.
pub trait Meta: Sized {
    /// The meta of field `field`'s value: an object field's own type, or the type of the items
    /// of a list or a map field. A field the type does not know gives a meta that knows
    /// nothing, so unknown fields merge as plain maps and their lists are replaced (for
    /// built-in kinds the API server drops unknown fields when it decodes the result).
    fn child(&self, field: &str) -> Self;

    /// The merge rules of `field` (`patchStrategy`, `patchMergeKey`), if it has any.
    fn strategy(&self, field: &str) -> Option<FieldStrategy>;

    /// The type's name in `cannot merge lists without merge key for ...`.
    fn name(&self) -> String {
        "struct".to_owned()
    }
}

/// A place in an object of a served kind, located in the schemas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaMeta {
    /// An object of the schema with this name (`io.k8s.api.core.v1.PodSpec`).
    Schema(&'static str),
    /// The values of a map field (`labels`, `resources.limits`): each has this meta's type.
    MapOf(Option<&'static str>),
    /// A value the schemas say nothing more about (a string, a free-form object).
    Unknown,
}

impl SchemaMeta {
    /// The meta of a whole object of `kind`.
    pub fn of(kind: Kind) -> SchemaMeta {
        SchemaMeta::Schema(schema::root(kind))
    }

    /// The meta of an object of the schema `name` (`io.k8s.api.autoscaling.v1.Scale`), if
    /// the served kinds' schemas have it.
    pub fn named(name: &str) -> Option<SchemaMeta> {
        schema::definitions()
            .get_key_value(name)
            .map(|(k, _)| SchemaMeta::Schema(k.as_str()))
    }
}

impl Meta for SchemaMeta {
    fn child(&self, field: &str) -> SchemaMeta {
        match *self {
            SchemaMeta::Schema(name) => {
                let prop = schema::definitions()
                    .get(name)
                    .and_then(|d| d.get("properties"))
                    .and_then(|p| p.get(field));
                let Some(prop) = prop else {
                    return SchemaMeta::Unknown;
                };
                let item = schema::field_type(name, field);
                if prop
                    .get("additionalProperties")
                    .is_some_and(Value::is_object)
                {
                    SchemaMeta::MapOf(item)
                } else {
                    item.map_or(SchemaMeta::Unknown, SchemaMeta::Schema)
                }
            }
            SchemaMeta::MapOf(Some(item)) => SchemaMeta::Schema(item),
            SchemaMeta::MapOf(None) | SchemaMeta::Unknown => SchemaMeta::Unknown,
        }
    }

    fn strategy(&self, field: &str) -> Option<FieldStrategy> {
        match *self {
            SchemaMeta::Schema(name) => strategy::field(name, field).copied(),
            SchemaMeta::MapOf(_) | SchemaMeta::Unknown => None,
        }
    }

    fn name(&self) -> String {
        match self {
            SchemaMeta::Schema(name) => (*name).to_owned(),
            SchemaMeta::MapOf(_) => "map".to_owned(),
            SchemaMeta::Unknown => "unknown".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_follows_the_schemas() {
        let pod_spec = SchemaMeta::of(Kind::Deployment)
            .child("spec")
            .child("template")
            .child("spec");
        assert_eq!(pod_spec, SchemaMeta::Schema("io.k8s.api.core.v1.PodSpec"));
        let containers = pod_spec.strategy("containers");
        assert_eq!(containers.and_then(|s| s.merge_key), Some("name"));
        let container = pod_spec.child("containers");
        assert_eq!(
            container,
            SchemaMeta::Schema("io.k8s.api.core.v1.Container")
        );
        assert_eq!(
            container.strategy("ports").and_then(|s| s.merge_key),
            Some("containerPort")
        );
        assert_eq!(
            container.child("resources").child("limits"),
            SchemaMeta::MapOf(Some("io.k8s.apimachinery.pkg.api.resource.Quantity"))
        );
        let labels = SchemaMeta::of(Kind::Pod).child("metadata").child("labels");
        assert_eq!(labels, SchemaMeta::MapOf(None));
        assert_eq!(labels.child("app"), SchemaMeta::Unknown);
        assert_eq!(pod_spec.child("noSuchField"), SchemaMeta::Unknown);
        assert_eq!(
            SchemaMeta::named("io.k8s.api.autoscaling.v1.Scale"),
            Some(SchemaMeta::Schema("io.k8s.api.autoscaling.v1.Scale"))
        );
    }
}
