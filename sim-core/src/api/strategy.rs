//! How Kubernetes merges each list and union field: the `patchStrategy`/`patchMergeKey` struct
//! tags and `+listType`/`+listMapKey` markers of the API types (`k8s.io/api`), which
//! k8s-openapi's schemas do not carry.
//!
//! One table serves the strategic merge patch, server-side apply's field sets and the
//! `x-kubernetes-*` extensions of the OpenAPI documents, so the three cannot disagree.
//! A field that is not listed is atomic (a list replaced whole) or a plain map.

/// The merge rules of one field of one schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldStrategy {
    /// The schema the field belongs to (`io.k8s.api.core.v1.PodSpec`).
    pub schema: &'static str,
    /// The field's JSON name.
    pub field: &'static str,
    /// `x-kubernetes-patch-strategy`: `merge`, `retainKeys` or `merge,retainKeys` (`""`: none).
    pub patch_strategy: &'static str,
    /// `x-kubernetes-patch-merge-key`: the key list items merge by.
    pub merge_key: Option<&'static str>,
    /// `x-kubernetes-list-type`: `atomic`, `set` or `map`.
    pub list_type: Option<&'static str>,
    /// `x-kubernetes-list-map-keys` of a `map` list.
    pub list_map_keys: &'static [&'static str],
}

impl FieldStrategy {
    /// Whether lists of this field merge (by `merge_key`, or as a set of primitives).
    pub fn merges(&self) -> bool {
        self.patch_strategy.split(',').any(|s| s == "merge")
    }

    /// Whether a patch that sets this field's union member drops the others (`$retainKeys`).
    pub fn retains_keys(&self) -> bool {
        self.patch_strategy.split(',').any(|s| s == "retainKeys")
    }
}

const fn merge(
    schema: &'static str,
    field: &'static str,
    key: &'static str,
    map_keys: &'static [&'static str],
) -> FieldStrategy {
    FieldStrategy {
        schema,
        field,
        patch_strategy: "merge",
        merge_key: Some(key),
        list_type: Some("map"),
        list_map_keys: map_keys,
    }
}

/// Every field with a patch strategy or a list type, by schema.
pub const STRATEGIES: &[FieldStrategy] = &[
    FieldStrategy {
        schema: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        field: "finalizers",
        patch_strategy: "merge",
        merge_key: None,
        list_type: Some("set"),
        list_map_keys: &[],
    },
    merge(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "ownerReferences",
        "uid",
        &["uid"],
    ),
    FieldStrategy {
        schema: "io.k8s.api.core.v1.PodSpec",
        field: "volumes",
        patch_strategy: "merge,retainKeys",
        merge_key: Some("name"),
        list_type: Some("map"),
        list_map_keys: &["name"],
    },
    merge(
        "io.k8s.api.core.v1.PodSpec",
        "initContainers",
        "name",
        &["name"],
    ),
    merge(
        "io.k8s.api.core.v1.PodSpec",
        "containers",
        "name",
        &["name"],
    ),
    merge(
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        "name",
        &["name"],
    ),
    merge(
        "io.k8s.api.core.v1.PodSpec",
        "imagePullSecrets",
        "name",
        &["name"],
    ),
    merge("io.k8s.api.core.v1.PodSpec", "hostAliases", "ip", &["ip"]),
    merge(
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        "topologyKey",
        &["topologyKey", "whenUnsatisfiable"],
    ),
    merge(
        "io.k8s.api.core.v1.Container",
        "ports",
        "containerPort",
        &["containerPort", "protocol"],
    ),
    merge("io.k8s.api.core.v1.Container", "env", "name", &["name"]),
    merge(
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        "mountPath",
        &["mountPath"],
    ),
    merge(
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        "port",
        &["port", "protocol"],
    ),
    merge(
        "io.k8s.api.core.v1.PodStatus",
        "conditions",
        "type",
        &["type"],
    ),
    merge(
        "io.k8s.api.core.v1.NodeStatus",
        "conditions",
        "type",
        &["type"],
    ),
    merge(
        "io.k8s.api.core.v1.NodeStatus",
        "addresses",
        "type",
        &["type"],
    ),
    FieldStrategy {
        schema: "io.k8s.api.apps.v1.DeploymentSpec",
        field: "strategy",
        patch_strategy: "retainKeys",
        merge_key: None,
        list_type: None,
        list_map_keys: &[],
    },
    merge(
        "io.k8s.api.apps.v1.DeploymentStatus",
        "conditions",
        "type",
        &["type"],
    ),
    merge(
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        "conditions",
        "type",
        &["type"],
    ),
];

/// The merge rules of `field` of `schema`, if it has any.
pub fn field(schema: &str, field: &str) -> Option<&'static FieldStrategy> {
    STRATEGIES
        .iter()
        .find(|s| s.schema == schema && s.field == field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::schema;

    #[test]
    fn every_entry_names_a_real_field() {
        for s in STRATEGIES {
            let def = &schema::definitions()[s.schema];
            assert!(
                def["properties"].get(s.field).is_some(),
                "{}.{}",
                s.schema,
                s.field
            );
            assert!(s.schema.starts_with("io.k8s."));
            assert!(!s.merges() || s.merge_key.is_some() || s.list_type == Some("set"));
        }
        assert!(field("io.k8s.api.core.v1.PodSpec", "containers").is_some_and(|s| s.merges()));
    }
}
