//! How Kubernetes merges each list and union field: the `patchStrategy`/`patchMergeKey` struct
//! tags and `+listType`/`+listMapKey` markers of the API types (`k8s.io/api`), which
//! k8s-openapi's schemas do not carry.
//!
//! One table serves the strategic merge patch, server-side apply's field sets and the
//! `x-kubernetes-*` extensions of the OpenAPI documents, so the three cannot disagree.
//! A field that is not listed is atomic (a list replaced whole) or a plain map.

use std::collections::BTreeMap;
use std::sync::OnceLock;

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

/// A list merged by key: `patchStrategy:"merge" patchMergeKey:"key"`, `+listType=map`.
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

/// A list of primitives merged as a set: `patchStrategy:"merge"`, `+listType=set`.
const fn merge_set(schema: &'static str, field: &'static str) -> FieldStrategy {
    FieldStrategy {
        schema,
        field,
        patch_strategy: "merge",
        merge_key: None,
        list_type: Some("set"),
        list_map_keys: &[],
    }
}

/// A list replaced whole, by both patches and server-side apply: `+listType=atomic`.
const fn atomic(schema: &'static str, field: &'static str) -> FieldStrategy {
    FieldStrategy {
        schema,
        field,
        patch_strategy: "",
        merge_key: None,
        list_type: Some("atomic"),
        list_map_keys: &[],
    }
}

/// A set for server-side apply that a strategic merge patch still replaces whole
/// (`+listType=set` without a patch strategy).
const fn set(schema: &'static str, field: &'static str) -> FieldStrategy {
    FieldStrategy {
        schema,
        field,
        patch_strategy: "",
        merge_key: None,
        list_type: Some("set"),
        list_map_keys: &[],
    }
}

/// A keyed list for server-side apply that a strategic merge patch still replaces whole
/// (`+listType=map` and `+listMapKey` without a patch strategy).
const fn map(
    schema: &'static str,
    field: &'static str,
    map_keys: &'static [&'static str],
) -> FieldStrategy {
    FieldStrategy {
        schema,
        field,
        patch_strategy: "",
        merge_key: None,
        list_type: Some("map"),
        list_map_keys: map_keys,
    }
}

/// Every field with a patch strategy or a list type, by schema, in the Go types' order:
/// generated from the struct tags and markers of `k8s.io/api` and `k8s.io/apimachinery`
/// v0.35.7 (Kubernetes 1.35, the version of k8s-openapi's `v1_35` schemas), inline
/// structs (`VolumeSource`, `ProbeHandler`, `EphemeralContainerCommon`) flattened into
/// the schema that embeds them. In 1.35 every list field carries a marker, so a list
/// that is missing here is a mistake (a test checks it).
pub const STRATEGIES: &[FieldStrategy] = &[
    // LabelSelector
    atomic(
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "matchExpressions",
    ),
    // LabelSelectorRequirement
    atomic(
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        "values",
    ),
    // ObjectMeta
    merge(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "ownerReferences",
        "uid",
        &["uid"],
    ),
    merge_set(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
    ),
    atomic(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "managedFields",
    ),
    // Capabilities
    atomic("io.k8s.api.core.v1.Capabilities", "add"),
    atomic("io.k8s.api.core.v1.Capabilities", "drop"),
    // CephFSVolumeSource
    atomic("io.k8s.api.core.v1.CephFSVolumeSource", "monitors"),
    // ConfigMapProjection
    atomic("io.k8s.api.core.v1.ConfigMapProjection", "items"),
    // ConfigMapVolumeSource
    atomic("io.k8s.api.core.v1.ConfigMapVolumeSource", "items"),
    // Container
    atomic("io.k8s.api.core.v1.Container", "command"),
    atomic("io.k8s.api.core.v1.Container", "args"),
    merge(
        "io.k8s.api.core.v1.Container",
        "ports",
        "containerPort",
        &["containerPort", "protocol"],
    ),
    atomic("io.k8s.api.core.v1.Container", "envFrom"),
    merge("io.k8s.api.core.v1.Container", "env", "name", &["name"]),
    atomic("io.k8s.api.core.v1.Container", "resizePolicy"),
    atomic("io.k8s.api.core.v1.Container", "restartPolicyRules"),
    merge(
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        "mountPath",
        &["mountPath"],
    ),
    merge(
        "io.k8s.api.core.v1.Container",
        "volumeDevices",
        "devicePath",
        &["devicePath"],
    ),
    // ContainerImage
    atomic("io.k8s.api.core.v1.ContainerImage", "names"),
    // ContainerRestartRuleOnExitCodes
    set(
        "io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes",
        "values",
    ),
    // ContainerStatus
    merge(
        "io.k8s.api.core.v1.ContainerStatus",
        "volumeMounts",
        "mountPath",
        &["mountPath"],
    ),
    merge(
        "io.k8s.api.core.v1.ContainerStatus",
        "allocatedResourcesStatus",
        "name",
        &["name"],
    ),
    // DownwardAPIProjection
    atomic("io.k8s.api.core.v1.DownwardAPIProjection", "items"),
    // DownwardAPIVolumeSource
    atomic("io.k8s.api.core.v1.DownwardAPIVolumeSource", "items"),
    // core/v1 ResourceQuotaSpec, ScopeSelector, LimitRangeSpec: atomic lists
    atomic("io.k8s.api.core.v1.ResourceQuotaSpec", "scopes"),
    atomic("io.k8s.api.core.v1.ScopeSelector", "matchExpressions"),
    atomic(
        "io.k8s.api.core.v1.ScopedResourceSelectorRequirement",
        "values",
    ),
    atomic("io.k8s.api.core.v1.LimitRangeSpec", "limits"),
    // policy/v1 PodDisruptionBudgetStatus
    merge(
        "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
        "conditions",
        "type",
        &["type"],
    ),
    // discovery.k8s.io/v1 EndpointSlice, Endpoint, EndpointHints
    atomic("io.k8s.api.discovery.v1.EndpointSlice", "endpoints"),
    atomic("io.k8s.api.discovery.v1.EndpointSlice", "ports"),
    set("io.k8s.api.discovery.v1.Endpoint", "addresses"),
    atomic("io.k8s.api.discovery.v1.EndpointHints", "forNodes"),
    atomic("io.k8s.api.discovery.v1.EndpointHints", "forZones"),
    // EndpointSubset
    atomic("io.k8s.api.core.v1.EndpointSubset", "addresses"),
    atomic("io.k8s.api.core.v1.EndpointSubset", "notReadyAddresses"),
    atomic("io.k8s.api.core.v1.EndpointSubset", "ports"),
    // Endpoints
    atomic("io.k8s.api.core.v1.Endpoints", "subsets"),
    // EphemeralContainer
    atomic("io.k8s.api.core.v1.EphemeralContainer", "command"),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "args"),
    merge(
        "io.k8s.api.core.v1.EphemeralContainer",
        "ports",
        "containerPort",
        &["containerPort", "protocol"],
    ),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "envFrom"),
    merge(
        "io.k8s.api.core.v1.EphemeralContainer",
        "env",
        "name",
        &["name"],
    ),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "resizePolicy"),
    atomic(
        "io.k8s.api.core.v1.EphemeralContainer",
        "restartPolicyRules",
    ),
    merge(
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeMounts",
        "mountPath",
        &["mountPath"],
    ),
    merge(
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeDevices",
        "devicePath",
        &["devicePath"],
    ),
    // ExecAction
    atomic("io.k8s.api.core.v1.ExecAction", "command"),
    // FCVolumeSource
    atomic("io.k8s.api.core.v1.FCVolumeSource", "targetWWNs"),
    atomic("io.k8s.api.core.v1.FCVolumeSource", "wwids"),
    // HTTPGetAction
    atomic("io.k8s.api.core.v1.HTTPGetAction", "httpHeaders"),
    // HostAlias
    atomic("io.k8s.api.core.v1.HostAlias", "hostnames"),
    // ISCSIVolumeSource
    atomic("io.k8s.api.core.v1.ISCSIVolumeSource", "portals"),
    // LinuxContainerUser
    atomic(
        "io.k8s.api.core.v1.LinuxContainerUser",
        "supplementalGroups",
    ),
    // LoadBalancerIngress
    atomic("io.k8s.api.core.v1.LoadBalancerIngress", "ports"),
    // LoadBalancerStatus
    atomic("io.k8s.api.core.v1.LoadBalancerStatus", "ingress"),
    // NamespaceSpec
    atomic("io.k8s.api.core.v1.NamespaceSpec", "finalizers"),
    // NamespaceStatus
    merge(
        "io.k8s.api.core.v1.NamespaceStatus",
        "conditions",
        "type",
        &["type"],
    ),
    // NodeAffinity
    atomic(
        "io.k8s.api.core.v1.NodeAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
    ),
    // NodeSelector
    atomic("io.k8s.api.core.v1.NodeSelector", "nodeSelectorTerms"),
    // NodeSelectorRequirement
    atomic("io.k8s.api.core.v1.NodeSelectorRequirement", "values"),
    // NodeSelectorTerm
    atomic("io.k8s.api.core.v1.NodeSelectorTerm", "matchExpressions"),
    atomic("io.k8s.api.core.v1.NodeSelectorTerm", "matchFields"),
    // NodeSpec
    merge_set("io.k8s.api.core.v1.NodeSpec", "podCIDRs"),
    atomic("io.k8s.api.core.v1.NodeSpec", "taints"),
    // NodeStatus
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
    atomic("io.k8s.api.core.v1.NodeStatus", "images"),
    atomic("io.k8s.api.core.v1.NodeStatus", "volumesInUse"),
    atomic("io.k8s.api.core.v1.NodeStatus", "volumesAttached"),
    atomic("io.k8s.api.core.v1.NodeStatus", "runtimeHandlers"),
    atomic("io.k8s.api.core.v1.NodeStatus", "declaredFeatures"),
    // PersistentVolumeClaimSpec
    atomic(
        "io.k8s.api.core.v1.PersistentVolumeClaimSpec",
        "accessModes",
    ),
    // PodAffinity
    atomic(
        "io.k8s.api.core.v1.PodAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
    ),
    atomic(
        "io.k8s.api.core.v1.PodAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
    ),
    // PodAffinityTerm
    atomic("io.k8s.api.core.v1.PodAffinityTerm", "namespaces"),
    atomic("io.k8s.api.core.v1.PodAffinityTerm", "matchLabelKeys"),
    atomic("io.k8s.api.core.v1.PodAffinityTerm", "mismatchLabelKeys"),
    // PodAntiAffinity
    atomic(
        "io.k8s.api.core.v1.PodAntiAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
    ),
    atomic(
        "io.k8s.api.core.v1.PodAntiAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
    ),
    // PodDNSConfig
    atomic("io.k8s.api.core.v1.PodDNSConfig", "nameservers"),
    atomic("io.k8s.api.core.v1.PodDNSConfig", "searches"),
    atomic("io.k8s.api.core.v1.PodDNSConfig", "options"),
    // PodExtendedResourceClaimStatus
    atomic(
        "io.k8s.api.core.v1.PodExtendedResourceClaimStatus",
        "requestMappings",
    ),
    // PodSecurityContext
    atomic(
        "io.k8s.api.core.v1.PodSecurityContext",
        "supplementalGroups",
    ),
    atomic("io.k8s.api.core.v1.PodSecurityContext", "sysctls"),
    // PodSpec
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
    atomic("io.k8s.api.core.v1.PodSpec", "tolerations"),
    merge("io.k8s.api.core.v1.PodSpec", "hostAliases", "ip", &["ip"]),
    atomic("io.k8s.api.core.v1.PodSpec", "readinessGates"),
    merge(
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        "topologyKey",
        &["topologyKey", "whenUnsatisfiable"],
    ),
    merge(
        "io.k8s.api.core.v1.PodSpec",
        "schedulingGates",
        "name",
        &["name"],
    ),
    FieldStrategy {
        schema: "io.k8s.api.core.v1.PodSpec",
        field: "resourceClaims",
        patch_strategy: "merge,retainKeys",
        merge_key: Some("name"),
        list_type: Some("map"),
        list_map_keys: &["name"],
    },
    // PodStatus
    merge(
        "io.k8s.api.core.v1.PodStatus",
        "conditions",
        "type",
        &["type"],
    ),
    FieldStrategy {
        schema: "io.k8s.api.core.v1.PodStatus",
        field: "hostIPs",
        patch_strategy: "merge",
        merge_key: Some("ip"),
        list_type: Some("atomic"),
        list_map_keys: &[],
    },
    merge("io.k8s.api.core.v1.PodStatus", "podIPs", "ip", &["ip"]),
    atomic("io.k8s.api.core.v1.PodStatus", "initContainerStatuses"),
    atomic("io.k8s.api.core.v1.PodStatus", "containerStatuses"),
    atomic("io.k8s.api.core.v1.PodStatus", "ephemeralContainerStatuses"),
    FieldStrategy {
        schema: "io.k8s.api.core.v1.PodStatus",
        field: "resourceClaimStatuses",
        patch_strategy: "merge,retainKeys",
        merge_key: Some("name"),
        list_type: Some("map"),
        list_map_keys: &["name"],
    },
    // ProjectedVolumeSource
    atomic("io.k8s.api.core.v1.ProjectedVolumeSource", "sources"),
    // RBDVolumeSource
    atomic("io.k8s.api.core.v1.RBDVolumeSource", "monitors"),
    // ResourceRequirements
    map(
        "io.k8s.api.core.v1.ResourceRequirements",
        "claims",
        &["name"],
    ),
    // ResourceStatus
    map(
        "io.k8s.api.core.v1.ResourceStatus",
        "resources",
        &["resourceID"],
    ),
    // SecretProjection
    atomic("io.k8s.api.core.v1.SecretProjection", "items"),
    // SecretVolumeSource
    atomic("io.k8s.api.core.v1.SecretVolumeSource", "items"),
    // ServiceSpec
    merge(
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        "port",
        &["port", "protocol"],
    ),
    atomic("io.k8s.api.core.v1.ServiceSpec", "clusterIPs"),
    atomic("io.k8s.api.core.v1.ServiceSpec", "externalIPs"),
    atomic("io.k8s.api.core.v1.ServiceSpec", "loadBalancerSourceRanges"),
    atomic("io.k8s.api.core.v1.ServiceSpec", "ipFamilies"),
    // ServiceStatus
    merge(
        "io.k8s.api.core.v1.ServiceStatus",
        "conditions",
        "type",
        &["type"],
    ),
    // TopologySpreadConstraint
    atomic(
        "io.k8s.api.core.v1.TopologySpreadConstraint",
        "matchLabelKeys",
    ),
    // DeploymentSpec
    FieldStrategy {
        schema: "io.k8s.api.apps.v1.DeploymentSpec",
        field: "strategy",
        patch_strategy: "retainKeys",
        merge_key: None,
        list_type: None,
        list_map_keys: &[],
    },
    // DeploymentStatus
    merge(
        "io.k8s.api.apps.v1.DeploymentStatus",
        "conditions",
        "type",
        &["type"],
    ),
    // ReplicaSetStatus
    merge(
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        "conditions",
        "type",
        &["type"],
    ),
    // batch/v1 Job, CronJob: conditions merge by type for patches but are atomic for
    // server-side apply; every other list atomic (`onExitCodes.values` a set).
    FieldStrategy {
        schema: "io.k8s.api.batch.v1.JobStatus",
        field: "conditions",
        patch_strategy: "merge",
        merge_key: Some("type"),
        list_type: Some("atomic"),
        list_map_keys: &[],
    },
    atomic("io.k8s.api.batch.v1.PodFailurePolicy", "rules"),
    atomic(
        "io.k8s.api.batch.v1.PodFailurePolicyRule",
        "onPodConditions",
    ),
    set(
        "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement",
        "values",
    ),
    atomic("io.k8s.api.batch.v1.SuccessPolicy", "rules"),
    atomic("io.k8s.api.batch.v1.CronJobStatus", "active"),
    set("io.k8s.api.batch.v1.UncountedTerminatedPods", "succeeded"),
    set("io.k8s.api.batch.v1.UncountedTerminatedPods", "failed"),
    // networking.k8s.io/v1 Ingress: every list atomic.
    atomic("io.k8s.api.networking.v1.HTTPIngressRuleValue", "paths"),
    atomic(
        "io.k8s.api.networking.v1.IngressLoadBalancerIngress",
        "ports",
    ),
    atomic(
        "io.k8s.api.networking.v1.IngressLoadBalancerStatus",
        "ingress",
    ),
    atomic("io.k8s.api.networking.v1.IngressSpec", "rules"),
    atomic("io.k8s.api.networking.v1.IngressSpec", "tls"),
    atomic("io.k8s.api.networking.v1.IngressTLS", "hosts"),
    // autoscaling/v2: HPAScalingRules, HorizontalPodAutoscalerSpec and Status
    atomic("io.k8s.api.autoscaling.v2.HPAScalingRules", "policies"),
    atomic(
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
        "metrics",
    ),
    merge(
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        "conditions",
        "type",
        &["type"],
    ),
    atomic(
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        "currentMetrics",
    ),
];

/// Structs that are owned whole by server-side apply (`+structType=atomic`,
/// `x-kubernetes-map-type: atomic` in the OpenAPI documents): a label selector is one field,
/// not one per label.
pub const ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.EndpointAddress",
    "io.k8s.api.core.v1.EndpointPort",
    "io.k8s.api.core.v1.FileKeySelector",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.ScopeSelector",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.SecretReference",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
];

/// The value a `map` list's key field has when an item leaves it out (the schema's default):
/// a container port without `protocol` is keyed `protocol: "TCP"`.
pub fn list_map_key_default(key: &str) -> Option<&'static str> {
    (key == "protocol").then_some("TCP")
}

/// The merge rules of `field` of `schema`, if it has any.
pub fn field(schema: &str, field: &str) -> Option<&'static FieldStrategy> {
    // The strategic merge patch asks once per key of a patch; an index keeps that a lookup.
    static INDEX: OnceLock<BTreeMap<(&'static str, &'static str), &'static FieldStrategy>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| {
            STRATEGIES
                .iter()
                .map(|s| ((s.schema, s.field), s))
                .collect()
        })
        .get(&(schema, field))
        .copied()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::api::schema;

    fn property(s: &FieldStrategy) -> &'static serde_json::Value {
        let def = schema::definitions()
            .get(s.schema)
            .unwrap_or_else(|| panic!("no schema {}", s.schema));
        def["properties"]
            .get(s.field)
            .unwrap_or_else(|| panic!("{} has no field {}", s.schema, s.field))
    }

    #[test]
    fn every_entry_names_a_real_field() {
        let mut seen = BTreeSet::new();
        for s in STRATEGIES {
            let prop = property(s);
            let at = format!("{}.{}", s.schema, s.field);
            assert!(seen.insert((s.schema, s.field)), "{at} is listed twice");
            assert_eq!(field(s.schema, s.field), Some(s), "{at}");
            let is_list = prop.get("type").and_then(|t| t.as_str()) == Some("array");
            assert_eq!(
                is_list,
                s.list_type.is_some(),
                "{at}: list type on a non-list"
            );
            assert!(
                matches!(s.list_type, None | Some("atomic" | "set" | "map")),
                "{at}"
            );
            assert!(
                matches!(
                    s.patch_strategy,
                    "" | "merge" | "retainKeys" | "merge,retainKeys"
                ),
                "{at}"
            );
            assert_eq!(
                s.list_type == Some("map"),
                !s.list_map_keys.is_empty(),
                "{at}"
            );
            // A merge key and the map keys name fields of the item type.
            let item = schema::field_type(s.schema, s.field);
            for key in s.merge_key.iter().chain(s.list_map_keys) {
                let item = item.unwrap_or_else(|| panic!("{at}: keyed list of primitives"));
                assert!(
                    schema::definitions()[item]["properties"]
                        .get(*key)
                        .is_some(),
                    "{at}: {item} has no key {key}"
                );
            }
            // Merging lists either have a key or hold primitives (merged as a set).
            if s.merges() && is_list {
                assert_eq!(s.merge_key.is_some(), item.is_some(), "{at}");
            }
            // A retainKeys union is a struct (or a list of them).
            if s.retains_keys() {
                assert!(item.is_some(), "{at}");
            }
        }
        assert!(field("io.k8s.api.core.v1.PodSpec", "containers").is_some_and(|s| s.merges()));
        assert_eq!(
            field("io.k8s.api.core.v1.ServiceSpec", "ports").and_then(|s| s.merge_key),
            Some("port")
        );
        assert_eq!(field("io.k8s.api.core.v1.PodSpec", "nodeName"), None);
    }

    /// In Kubernetes 1.35 every list field of the API types has a list type or a patch
    /// strategy, so a list the table lacks is one it forgot. Only the schemas an object of a
    /// served kind reaches count: the list wrappers and meta/v1 request types the OpenAPI
    /// documents add are not merged into objects.
    #[test]
    fn every_list_field_is_listed() {
        use crate::api::resource::RESOURCES;
        let mut reachable: Vec<&str> = RESOURCES.iter().map(|r| schema::root(r.kind)).collect();
        let mut i = 0;
        while i < reachable.len() {
            let name = reachable[i];
            if let Some(props) = schema::definitions()[name]
                .get("properties")
                .and_then(|p| p.as_object())
            {
                for f in props.keys() {
                    if let Some(t) = schema::field_type(name, f)
                        && !reachable.contains(&t)
                    {
                        reachable.push(t);
                    }
                }
            }
            i += 1;
        }
        let mut missing = Vec::new();
        for (name, def) in schema::definitions()
            .iter()
            .filter(|(n, _)| reachable.contains(&n.as_str()))
        {
            let Some(props) = def.get("properties").and_then(|p| p.as_object()) else {
                continue;
            };
            for (f, prop) in props {
                if prop.get("type").and_then(|t| t.as_str()) == Some("array")
                    && field(name, f).is_none()
                {
                    missing.push(format!("{name}.{f}"));
                }
            }
        }
        assert!(missing.is_empty(), "lists without a strategy: {missing:#?}");
    }
}
