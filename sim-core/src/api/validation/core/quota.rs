//! ResourceQuota and LimitRange: `ValidateResourceQuota` and `ValidateLimitRange` of
//! `pkg/apis/core/validation/validation.go`, with the resource name rules of
//! `pkg/apis/core/helper` they use.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{LimitRange, ResourceQuota};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;

use super::super::Errs;
use super::super::go_fmt::go_quote;
use super::super::meta::{IS_NEGATIVE, NameRule, validate_object_meta};
use super::super::names::is_qualified_name;
use crate::api::quantity::{Quantity, parse_quantity};

/// `standardResources` of `pkg/apis/core/helper/helpers.go`.
const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
    "configmaps",
];

/// `standardQuotaResources`.
const STANDARD_QUOTA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
    "configmaps",
];

/// `integerResources`: quota values that must be whole numbers.
const INTEGER_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// `standardLimitRangeTypes`.
const LIMIT_TYPES: &[&str] = &["Pod", "Container", "PersistentVolumeClaim"];

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("requests.hugepages-")
        || name.starts_with("limits.hugepages-")
}

/// `validateResourceName`.
fn validate_resource_name(name: &str, path: &str, e: &mut Errs) -> bool {
    let msgs = is_qualified_name(name);
    for m in &msgs {
        e.invalid_str(path, name, m);
    }
    if !msgs.is_empty() {
        return false;
    }
    if !name.contains('/') && !STANDARD_RESOURCES.contains(&name) && !is_hugepages(name) {
        e.invalid_str(
            path,
            name,
            "must be a standard resource type or fully qualified",
        );
        return false;
    }
    true
}

/// `ValidateResourceQuotaResourceName`.
fn validate_quota_resource_name(name: &str, path: &str, e: &mut Errs) {
    validate_resource_name(name, path, e);
    // Go appends to whatever validateResourceName returned.
    if !name.contains('/') && !STANDARD_QUOTA_RESOURCES.contains(&name) && !is_hugepages(name) {
        e.invalid_str(path, name, "must be a standard resource for quota");
    }
}

/// `validateContainerResourceName` (a LimitRange's Pod and Container types).
fn validate_container_resource_name(name: &str, path: &str, e: &mut Errs) {
    if !validate_resource_name(name, path, e) {
        return;
    }
    let standard =
        matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-");
    if !name.contains('/') && !standard {
        e.invalid_str(path, name, "must be a standard resource for containers");
    }
}

/// `ValidateResourceQuantityValue`: not negative, and whole for the counted resources.
fn validate_quantity_value(name: &str, q: &Q, path: &str, e: &mut Errs) {
    let Ok(v) = parse_quantity(q.0.trim()) else {
        e.invalid_str(path, &q.0, "quantities must match the regular expression");
        return;
    };
    if v.is_negative() {
        e.invalid_str(path, &v.to_string(), IS_NEGATIVE);
    }
    let integer = INTEGER_RESOURCES.contains(&name) || name.starts_with("count/");
    if integer && v.milli_value() % 1000 != 0 {
        e.invalid_str(path, &v.to_string(), "must be an integer");
    }
}

/// `ValidateResourceQuota`: metadata, then `spec.hard` (names and values) and the scopes.
pub(in crate::api::validation) fn validate_resource_quota(q: &ResourceQuota, e: &mut Errs) {
    validate_object_meta(&q.metadata, true, NameRule::Subdomain, e);
    let spec = q.spec.clone().unwrap_or_default();
    for (k, v) in spec.hard.iter().flatten() {
        let path = format!("spec.hard[{k}]");
        validate_quota_resource_name(k, &path, e);
        validate_quantity_value(k, v, &path, e);
    }
    const SCOPES: &[&str] = &[
        "Terminating",
        "NotTerminating",
        "BestEffort",
        "NotBestEffort",
        "PriorityClass",
        "CrossNamespacePodAffinity",
    ];
    for s in spec.scopes.iter().flatten() {
        if !SCOPES.contains(&s.as_str()) {
            e.invalid_str("spec.scopes", s, "unsupported scope");
        }
    }
}

fn parsed(list: Option<&BTreeMap<String, Q>>) -> BTreeMap<&str, Quantity> {
    list.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str(), parse_quantity(v.0.trim()).ok()?)))
        .collect()
}

/// `ValidateLimitRange`: each item's type, its resource names, and that min ≤ default
/// request ≤ default ≤ max with a ratio of at least 1 and at most max/min.
pub(in crate::api::validation) fn validate_limit_range(lr: &LimitRange, e: &mut Errs) {
    validate_object_meta(&lr.metadata, true, NameRule::Subdomain, e);
    let mut types = BTreeSet::new();
    let limits = lr
        .spec
        .as_ref()
        .map(|s| s.limits.as_slice())
        .unwrap_or_default();
    for (i, limit) in limits.iter().enumerate() {
        let idx = format!("spec.limits[{i}]");
        let ty = limit.type_.as_str();
        let type_path = format!("{idx}.type");
        let msgs = is_qualified_name(ty);
        for m in &msgs {
            e.invalid_str(&type_path, ty, m);
        }
        if msgs.is_empty() && !ty.contains('/') && !LIMIT_TYPES.contains(&ty) {
            e.invalid_str(
                &type_path,
                ty,
                "must be a standard limit type or fully qualified",
            );
        }
        if !types.insert(ty) {
            e.duplicate(&type_path, go_quote(ty));
        }
        let name_rule = |k: &str, field: &str, e: &mut Errs| {
            let path = format!("{idx}.{field}[{k}]");
            if matches!(ty, "Pod" | "Container") {
                validate_container_resource_name(k, &path, e);
            } else {
                validate_resource_name(k, &path, e);
            }
        };
        let mut keys: BTreeSet<&str> = BTreeSet::new();
        for k in limit.max.iter().flatten().map(|(k, _)| k.as_str()) {
            name_rule(k, "max", e);
            keys.insert(k);
        }
        for k in limit.min.iter().flatten().map(|(k, _)| k.as_str()) {
            name_rule(k, "min", e);
            keys.insert(k);
        }
        let (mut defaults, mut default_requests) = (BTreeMap::new(), BTreeMap::new());
        if ty == "Pod" {
            if limit.default.as_ref().is_some_and(|d| !d.is_empty()) {
                e.forbidden(
                    &format!("{idx}.default"),
                    "may not be specified when `type` is 'Pod'",
                );
            }
            if limit
                .default_request
                .as_ref()
                .is_some_and(|d| !d.is_empty())
            {
                e.forbidden(
                    &format!("{idx}.defaultRequest"),
                    "may not be specified when `type` is 'Pod'",
                );
            }
        } else {
            for k in limit.default.iter().flatten().map(|(k, _)| k.as_str()) {
                name_rule(k, "default", e);
                keys.insert(k);
            }
            for k in limit
                .default_request
                .iter()
                .flatten()
                .map(|(k, _)| k.as_str())
            {
                name_rule(k, "defaultRequest", e);
                keys.insert(k);
            }
            defaults = parsed(limit.default.as_ref());
            default_requests = parsed(limit.default_request.as_ref());
        }
        if ty == "PersistentVolumeClaim" {
            let has =
                |l: Option<&BTreeMap<String, Q>>| l.is_some_and(|l| l.contains_key("storage"));
            if !has(limit.min.as_ref()) && !has(limit.max.as_ref()) {
                e.required(
                    &format!("{idx}.limits"),
                    "either minimum or maximum storage value is required, but neither was provided",
                );
            }
        }
        for k in limit
            .max_limit_request_ratio
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
        {
            name_rule(k, "maxLimitRequestRatio", e);
            keys.insert(k);
        }
        let (min, max) = (parsed(limit.min.as_ref()), parsed(limit.max.as_ref()));
        let ratios = parsed(limit.max_limit_request_ratio.as_ref());
        for k in keys {
            let q = |v: &Quantity| go_quote(&v.to_string());
            let (mn, mx) = (min.get(k), max.get(k));
            let (d, dr, r) = (defaults.get(k), default_requests.get(k), ratios.get(k));
            if let (Some(mn), Some(mx)) = (mn, mx)
                && mn > mx
            {
                e.invalid(
                    &format!("{idx}.min[{k}]"),
                    q(mn),
                    &format!("min value {mn} is greater than max value {mx}"),
                );
            }
            if let (Some(dr), Some(mn)) = (dr, mn)
                && mn > dr
            {
                e.invalid(
                    &format!("{idx}.defaultRequest[{k}]"),
                    q(dr),
                    &format!("min value {mn} is greater than default request value {dr}"),
                );
            }
            if let (Some(dr), Some(mx)) = (dr, mx)
                && dr > mx
            {
                e.invalid(
                    &format!("{idx}.defaultRequest[{k}]"),
                    q(dr),
                    &format!("default request value {dr} is greater than max value {mx}"),
                );
            }
            if let (Some(dr), Some(d)) = (dr, d)
                && dr > d
            {
                e.invalid(
                    &format!("{idx}.defaultRequest[{k}]"),
                    q(dr),
                    &format!("default request value {dr} is greater than default limit value {d}"),
                );
            }
            if let (Some(d), Some(mn)) = (d, mn)
                && mn > d
            {
                e.invalid(
                    &format!("{idx}.default[{k}]"),
                    q(mn),
                    &format!("min value {mn} is greater than default value {d}"),
                );
            }
            if let (Some(d), Some(mx)) = (d, mx)
                && d > mx
            {
                e.invalid(
                    &format!("{idx}.default[{k}]"),
                    q(mx),
                    &format!("default value {d} is greater than max value {mx}"),
                );
            }
            if let Some(r) = r {
                let one = parse_quantity("1").unwrap_or(*r);
                if *r < one {
                    e.invalid(
                        &format!("{idx}.maxLimitRequestRatio[{k}]"),
                        q(r),
                        &format!("ratio {r} is less than 1"),
                    );
                }
                if let (Some(mn), Some(mx)) = (mn, mx) {
                    #[allow(clippy::cast_precision_loss)]
                    let (ratio, limit) = (
                        r.milli_value() as f64 / 1000.0,
                        mx.milli_value() as f64 / mn.milli_value() as f64,
                    );
                    if ratio > limit {
                        e.invalid(
                            &format!("{idx}.maxLimitRequestRatio[{k}]"),
                            q(r),
                            &format!("ratio {r} is greater than max/min = {limit:.6}"),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::tests::check;

    const QUOTA: &str = "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n  namespace: default\nspec:\n  hard:\n";

    // From `TestValidateResourceQuota`: the success cases and the spec errors.
    #[test]
    fn quota_names_and_values() {
        let ok = format!(
            "{QUOTA}    cpu: \"100\"\n    memory: 10000\n    requests.cpu: \"100\"\n    limits.memory: 10Gi\n    pods: \"10\"\n    services: \"0\"\n    count/deployments.apps: \"3\"\n    services.nodeports: \"1\"\n"
        );
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        assert_eq!(
            check(&format!("{QUOTA}    cpu: \"-10\"\n")),
            ["spec.hard[cpu]: Invalid value: \"-10\": must be greater than or equal to 0"]
        );
        assert_eq!(
            check(&format!("{QUOTA}    pods: 500m\n")),
            ["spec.hard[pods]: Invalid value: \"500m\": must be an integer"]
        );
        assert_eq!(
            check(&format!("{QUOTA}    cpus: \"1\"\n")),
            [
                "spec.hard[cpus]: Invalid value: \"cpus\": must be a standard resource type or fully qualified",
                "spec.hard[cpus]: Invalid value: \"cpus\": must be a standard resource for quota"
            ]
        );
        assert_eq!(
            check(&format!("{QUOTA}    storage: \"1\"\n")),
            [
                "spec.hard[storage]: Invalid value: \"storage\": must be a standard resource for quota"
            ]
        );
    }

    const LR: &str = "apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: l\n  namespace: default\nspec:\n  limits:\n";

    // From `TestValidateLimitRange`.
    #[test]
    fn limit_range_orders_and_types() {
        let ok = format!(
            "{LR}  - type: Container\n    min: {{cpu: 100m}}\n    max: {{cpu: \"1\"}}\n    default: {{cpu: 500m}}\n    defaultRequest: {{cpu: 200m}}\n    maxLimitRequestRatio: {{cpu: \"5\"}}\n  - type: Pod\n    max: {{memory: 1Gi}}\n"
        );
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        assert_eq!(
            check(&format!(
                "{LR}  - type: Container\n    min: {{cpu: \"2\"}}\n    max: {{cpu: \"1\"}}\n"
            )),
            // The defaults (default from max, defaultRequest from default) are set first.
            [
                "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
                "spec.limits[0].defaultRequest[cpu]: Invalid value: \"1\": min value 2 is greater than default request value 1",
                "spec.limits[0].default[cpu]: Invalid value: \"2\": min value 2 is greater than default value 1"
            ]
        );
        assert_eq!(
            check(&format!(
                "{LR}  - type: Container\n    default: {{cpu: 200m}}\n    defaultRequest: {{cpu: 500m}}\n"
            )),
            [
                "spec.limits[0].defaultRequest[cpu]: Invalid value: \"500m\": default request value 500m is greater than default limit value 200m"
            ]
        );
        assert_eq!(
            check(&format!("{LR}  - type: Pod\n    default: {{cpu: 200m}}\n")),
            ["spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"]
        );
        assert_eq!(
            check(&format!("{LR}  - type: Container\n  - type: Container\n")),
            ["spec.limits[1].type: Duplicate value: \"Container\""]
        );
        assert_eq!(
            check(&format!(
                "{LR}  - type: Container\n    maxLimitRequestRatio: {{cpu: 500m}}\n"
            )),
            [
                "spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: \"500m\": ratio 500m is less than 1"
            ]
        );
        assert_eq!(
            check(&format!("{LR}  - type: Pod\n    max: {{pods: \"1\"}}\n")),
            [
                "spec.limits[0].max[pods]: Invalid value: \"pods\": must be a standard resource for containers"
            ]
        );
    }
}
