//! The `LimitRanger` admission plugin (`plugin/pkg/admission/limitranger/admission.go`) and
//! a LimitRange's defaults (`SetDefaults_LimitRangeItem`): pure functions over a pod's spec
//! and the namespace's LimitRanges; `apiserver/admission.rs` runs them on every pod create,
//! the pods controllers create included.
//!
//! Not modelled: PersistentVolumeClaim limits (kubesim serves no claims).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, LimitRange, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;

use super::quantity::{Quantity, parse_quantity};

/// The annotation the plugin leaves on a pod it defaulted.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// `SetDefaults_LimitRangeItem`: a Container item's `default` falls back to its `max`, its
/// `defaultRequest` to its `default`, then to its `min`.
pub fn limit_range_defaults(lr: &mut LimitRange) {
    for item in lr.spec.iter_mut().flat_map(|s| s.limits.iter_mut()) {
        if item.type_ != "Container" {
            continue;
        }
        let default = item.default.get_or_insert_with(BTreeMap::new);
        for (k, v) in item.max.iter().flatten() {
            default.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let request = item.default_request.get_or_insert_with(BTreeMap::new);
        for (k, v) in default.iter() {
            request.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in item.min.iter().flatten() {
            request.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

/// `PodMutateLimitFunc` for each LimitRange in turn: the Container items' defaults filled
/// into every container that does not set them, and the annotation saying what was set.
pub fn mutate_pod(
    ranges: &[&LimitRange],
    spec: &mut PodSpec,
    annotations: &mut Option<BTreeMap<String, String>>,
) {
    for lr in ranges {
        let (mut requests, mut limits) = (BTreeMap::new(), BTreeMap::new());
        for item in lr.spec.iter().flat_map(|s| &s.limits) {
            if item.type_ == "Container" {
                requests.extend(item.default_request.clone().into_iter().flatten());
                limits.extend(item.default.clone().into_iter().flatten());
            }
        }
        let mut notes = Vec::new();
        for c in &mut spec.containers {
            merge_container(c, &requests, &limits, "container", &mut notes);
        }
        for c in spec.init_containers.iter_mut().flatten() {
            merge_container(c, &requests, &limits, "init container", &mut notes);
        }
        if !notes.is_empty() {
            annotations.get_or_insert_with(BTreeMap::new).insert(
                ANNOTATION.into(),
                format!("LimitRanger plugin set: {}", notes.join("; ")),
            );
        }
    }
}

/// `mergeContainerResources`.
fn merge_container(
    c: &mut Container,
    requests: &BTreeMap<String, Q>,
    limits: &BTreeMap<String, Q>,
    what: &str,
    notes: &mut Vec<String>,
) {
    if requests.is_empty() && limits.is_empty() {
        return;
    }
    let r = c
        .resources
        .get_or_insert_with(ResourceRequirements::default);
    let (mut set_requests, mut set_limits) = (Vec::new(), Vec::new());
    let have = r.limits.get_or_insert_with(BTreeMap::new);
    for (k, v) in limits {
        if !have.contains_key(k) {
            have.insert(k.clone(), v.clone());
            set_limits.push(k.as_str());
        }
    }
    let have = r.requests.get_or_insert_with(BTreeMap::new);
    for (k, v) in requests {
        if !have.contains_key(k) {
            have.insert(k.clone(), v.clone());
            set_requests.push(k.as_str());
        }
    }
    if !set_requests.is_empty() {
        notes.push(format!(
            "{} request for {what} {}",
            set_requests.join(", "),
            c.name
        ));
    }
    if !set_limits.is_empty() {
        notes.push(format!(
            "{} limit for {what} {}",
            set_limits.join(", "),
            c.name
        ));
    }
    // An empty list the plugin created stays out of the stored pod, as Go's omitempty does.
    if r.limits.as_ref().is_some_and(BTreeMap::is_empty) {
        r.limits = None;
    }
    if r.requests.as_ref().is_some_and(BTreeMap::is_empty) {
        r.requests = None;
    }
}

fn list(l: Option<&BTreeMap<String, Q>>) -> BTreeMap<&str, Quantity> {
    l.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str(), parse_quantity(v.0.trim()).ok()?)))
        .collect()
}

/// `requestLimitEnforcedValues`: milli values (the quantities kubesim meets never overflow).
fn milli(q: Option<&Quantity>) -> i64 {
    q.map_or(0, Quantity::milli_value)
}

/// `minConstraint`.
fn min_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    req: &BTreeMap<&str, Quantity>,
    lim: &BTreeMap<&str, Quantity>,
) -> Option<String> {
    let (r, l) = (req.get(name), lim.get(name));
    let e = enforced.milli_value();
    match r {
        None => Some(format!(
            "minimum {name} usage per {ty} is {enforced}.  No request is specified"
        )),
        Some(r) if milli(Some(r)) < e => Some(format!(
            "minimum {name} usage per {ty} is {enforced}, but request is {r}"
        )),
        _ => match l {
            Some(l) if milli(Some(l)) < e => Some(format!(
                "minimum {name} usage per {ty} is {enforced}, but limit is {l}"
            )),
            _ => None,
        },
    }
}

/// `maxConstraint`.
fn max_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    req: &BTreeMap<&str, Quantity>,
    lim: &BTreeMap<&str, Quantity>,
) -> Option<String> {
    let (r, l) = (req.get(name), lim.get(name));
    let e = enforced.milli_value();
    match l {
        None => Some(format!(
            "maximum {name} usage per {ty} is {enforced}.  No limit is specified"
        )),
        Some(l) if milli(Some(l)) > e => Some(format!(
            "maximum {name} usage per {ty} is {enforced}, but limit is {l}"
        )),
        _ => match r {
            Some(r) if milli(Some(r)) > e => Some(format!(
                "maximum {name} usage per {ty} is {enforced}, but request is {r}"
            )),
            _ => None,
        },
    }
}

/// `limitRequestRatioConstraint`.
fn ratio_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    req: &BTreeMap<&str, Quantity>,
    lim: &BTreeMap<&str, Quantity>,
) -> Option<String> {
    let (r, l) = (milli(req.get(name)), milli(lim.get(name)));
    if r == 0 {
        return Some(format!(
            "{name} max limit to request ratio per {ty} is {enforced}, but no request is specified or request is 0"
        ));
    }
    if l == 0 {
        return Some(format!(
            "{name} max limit to request ratio per {ty} is {enforced}, but no limit is specified or limit is 0"
        ));
    }
    #[allow(clippy::cast_precision_loss)]
    let observed = l as f64 / r as f64;
    #[allow(clippy::cast_precision_loss)]
    let max = enforced.milli_value() as f64;
    (observed * 1000.0 > max).then(|| {
        format!(
            "{name} max limit to request ratio per {ty} is {enforced}, but provided ratio is {observed:.6}"
        )
    })
}

/// Every min, max and ratio check of one item against one set of requests and limits.
fn check_item(
    ty: &str,
    item: &k8s_openapi::api::core::v1::LimitRangeItem,
    req: &BTreeMap<&str, Quantity>,
    lim: &BTreeMap<&str, Quantity>,
    errs: &mut Vec<String>,
) {
    for (k, v) in list(item.min.as_ref()) {
        errs.extend(min_constraint(ty, k, &v, req, lim));
    }
    for (k, v) in list(item.max.as_ref()) {
        errs.extend(max_constraint(ty, k, &v, req, lim));
    }
    for (k, v) in list(item.max_limit_request_ratio.as_ref()) {
        errs.extend(ratio_constraint(ty, k, &v, req, lim));
    }
}

/// `PodValidateLimitFunc` over every LimitRange: each container and init container against
/// the Container items, the pod's totals against the Pod items. The error is the aggregate
/// the API server puts after `pods "x" is forbidden: ` (one message, or `[a, b]`).
pub fn validate_pod(ranges: &[&LimitRange], spec: &PodSpec) -> Result<(), String> {
    for lr in ranges {
        let mut errs = Vec::new();
        for item in lr.spec.iter().flat_map(|s| &s.limits) {
            match item.type_.as_str() {
                "Container" => {
                    for c in spec
                        .containers
                        .iter()
                        .chain(spec.init_containers.iter().flatten())
                    {
                        let r = c.resources.as_ref();
                        let req = list(r.and_then(|r| r.requests.as_ref()));
                        let lim = list(r.and_then(|r| r.limits.as_ref()));
                        check_item("Container", item, &req, &lim, &mut errs);
                    }
                }
                "Pod" => {
                    let (req, lim) = pod_totals(spec);
                    let req = req.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                    let lim = lim.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                    check_item("Pod", item, &req, &lim, &mut errs);
                }
                _ => {}
            }
        }
        match errs.len() {
            0 => {}
            1 => return Err(errs.remove(0)),
            _ => return Err(format!("[{}]", errs.join(", "))),
        }
    }
    Ok(())
}

/// `PodRequests` and `PodLimits` (`pkg/api/v1/resource`): the containers' sum, at least each
/// init container's (a sidecar, `restartPolicy: Always`, adds to the sum and to the init
/// containers after it).
pub fn pod_totals(spec: &PodSpec) -> (BTreeMap<String, Quantity>, BTreeMap<String, Quantity>) {
    let pick = |c: &Container, limits: bool| {
        let r = c.resources.as_ref();
        let l = if limits {
            r.and_then(|r| r.limits.as_ref())
        } else {
            r.and_then(|r| r.requests.as_ref())
        };
        list(l)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<String, Quantity>>()
    };
    let total = |limits: bool| {
        let mut sum = BTreeMap::new();
        for c in &spec.containers {
            add_into(&mut sum, &pick(c, limits));
        }
        let (mut sidecars, mut init) = (BTreeMap::new(), BTreeMap::new());
        for c in spec.init_containers.iter().flatten() {
            let own = pick(c, limits);
            let this = if c.restart_policy.as_deref() == Some("Always") {
                add_into(&mut sum, &own);
                add_into(&mut sidecars, &own);
                sidecars.clone()
            } else {
                let mut t = own;
                add_into(&mut t, &sidecars);
                t
            };
            max_into(&mut init, &this);
        }
        max_into(&mut sum, &init);
        sum
    };
    (total(false), total(true))
}

/// `addResourceList`.
pub fn add_into(list: &mut BTreeMap<String, Quantity>, add: &BTreeMap<String, Quantity>) {
    for (k, v) in add {
        let sum = match list.get(k) {
            Some(have) => have.checked_add(v).unwrap_or(*have),
            None => *v,
        };
        list.insert(k.clone(), sum);
    }
}

/// `maxResourceList`.
fn max_into(list: &mut BTreeMap<String, Quantity>, other: &BTreeMap<String, Quantity>) {
    for (k, v) in other {
        if list.get(k).is_none_or(|have| v > have) {
            list.insert(k.clone(), *v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{LimitRangeItem, LimitRangeSpec};

    fn rl(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, Q>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), Q((*v).to_string())))
                .collect(),
        )
    }

    fn container(name: &str, req: &[(&str, &str)], lim: &[(&str, &str)]) -> Container {
        Container {
            name: name.into(),
            resources: Some(ResourceRequirements {
                requests: rl(req).filter(|m| !m.is_empty()),
                limits: rl(lim).filter(|m| !m.is_empty()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn range(items: Vec<LimitRangeItem>) -> LimitRange {
        let mut lr = LimitRange {
            spec: Some(LimitRangeSpec { limits: items }),
            ..Default::default()
        };
        limit_range_defaults(&mut lr);
        lr
    }

    /// `createLimitRange(api.LimitTypeContainer, min 50m/1Mi... )` of admission_test.go,
    /// simplified to cpu and memory: min, max, default, defaultRequest.
    fn container_range() -> LimitRange {
        range(vec![LimitRangeItem {
            type_: "Container".into(),
            min: rl(&[("cpu", "50m"), ("memory", "5Mi")]),
            max: rl(&[("cpu", "100m"), ("memory", "10Mi")]),
            default: rl(&[("cpu", "75m"), ("memory", "10Mi")]),
            default_request: rl(&[("cpu", "50m"), ("memory", "5Mi")]),
            ..Default::default()
        }])
    }

    // `TestDefaultContainerResourceRequirements` / `TestMergePodResourceRequirements`:
    // defaults fill only what a container leaves unset, and the annotation says which.
    #[test]
    fn defaults_fill_unset_requests_and_limits() {
        let lr = container_range();
        let mut spec = PodSpec {
            containers: vec![
                container("a", &[], &[]),
                container("b", &[("cpu", "60m")], &[("cpu", "90m")]),
            ],
            ..Default::default()
        };
        let mut ann = None;
        mutate_pod(&[&lr], &mut spec, &mut ann);
        let a = spec.containers[0].resources.clone().unwrap_or_default();
        assert_eq!(a.requests, rl(&[("cpu", "50m"), ("memory", "5Mi")]));
        assert_eq!(a.limits, rl(&[("cpu", "75m"), ("memory", "10Mi")]));
        let b = spec.containers[1].resources.clone().unwrap_or_default();
        assert_eq!(b.requests, rl(&[("cpu", "60m"), ("memory", "5Mi")]));
        assert_eq!(b.limits, rl(&[("cpu", "90m"), ("memory", "10Mi")]));
        assert_eq!(
            ann.unwrap_or_default().get(ANNOTATION).map(String::as_str),
            Some(
                "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a; memory request for container b; memory limit for container b"
            )
        );
        assert_eq!(validate_pod(&[&lr], &spec), Ok(()));
    }

    // `TestMergePodResourceRequirements`' init container case: defaulted too, and named as
    // one in the annotation; a container that sets everything is left alone.
    #[test]
    fn init_containers_are_defaulted_and_named_as_such() {
        let lr = container_range();
        let mut spec = PodSpec {
            containers: vec![container(
                "main",
                &[("cpu", "60m"), ("memory", "6Mi")],
                &[("cpu", "90m"), ("memory", "9Mi")],
            )],
            init_containers: Some(vec![container("setup", &[], &[])]),
            ..Default::default()
        };
        let mut ann = None;
        mutate_pod(&[&lr], &mut spec, &mut ann);
        assert_eq!(
            ann.unwrap_or_default().get(ANNOTATION).map(String::as_str),
            Some(
                "LimitRanger plugin set: cpu, memory request for init container setup; cpu, memory limit for init container setup"
            )
        );
        let init = spec.init_containers.unwrap_or_default();
        let r = init[0].resources.clone().unwrap_or_default();
        assert_eq!(r.limits, rl(&[("cpu", "75m"), ("memory", "10Mi")]));
    }

    // `SetDefaults_LimitRangeItem`: default from max, defaultRequest from default, then min.
    #[test]
    fn item_defaults_follow_max_then_default_then_min() {
        let lr = range(vec![LimitRangeItem {
            type_: "Container".into(),
            max: rl(&[("cpu", "1")]),
            min: rl(&[("memory", "1Mi")]),
            ..Default::default()
        }]);
        let item = &lr
            .spec
            .as_ref()
            .map(|s| s.limits[0].clone())
            .unwrap_or_default();
        assert_eq!(item.default, rl(&[("cpu", "1")]));
        assert_eq!(item.default_request, rl(&[("cpu", "1"), ("memory", "1Mi")]));
    }

    // `TestPodLimitFunc`'s failures: under min, over max, ratio, with the real messages.
    #[test]
    fn min_max_and_ratio_refusals_say_what_was_asked() {
        let lr = range(vec![LimitRangeItem {
            type_: "Container".into(),
            min: rl(&[("cpu", "100m")]),
            max: rl(&[("memory", "1Gi")]),
            ..Default::default()
        }]);
        let spec = PodSpec {
            containers: vec![container("c", &[("cpu", "50m")], &[("memory", "2Gi")])],
            ..Default::default()
        };
        assert_eq!(
            validate_pod(&[&lr], &spec),
            Err("[minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi]".into())
        );
        let spec = PodSpec {
            containers: vec![container("c", &[], &[])],
            ..Default::default()
        };
        assert_eq!(
            validate_pod(&[&lr], &spec),
            Err("[minimum cpu usage per Container is 100m.  No request is specified, maximum memory usage per Container is 1Gi.  No limit is specified]".into())
        );
        let ratio = range(vec![LimitRangeItem {
            type_: "Container".into(),
            max_limit_request_ratio: rl(&[("cpu", "2")]),
            ..Default::default()
        }]);
        let spec = PodSpec {
            containers: vec![container("c", &[("cpu", "100m")], &[("cpu", "300m")])],
            ..Default::default()
        };
        assert_eq!(
            validate_pod(&[&ratio], &spec),
            Err(
                "cpu max limit to request ratio per Container is 2, but provided ratio is 3.000000"
                    .into()
            )
        );
        let pod_max = range(vec![LimitRangeItem {
            type_: "Pod".into(),
            max: rl(&[("cpu", "1")]),
            ..Default::default()
        }]);
        let spec = PodSpec {
            containers: vec![
                container("a", &[], &[("cpu", "600m")]),
                container("b", &[], &[("cpu", "600m")]),
            ],
            ..Default::default()
        };
        assert_eq!(
            validate_pod(&[&pod_max], &spec),
            Err("maximum cpu usage per Pod is 1, but limit is 1200m".into())
        );
    }
}
