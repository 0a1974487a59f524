//! Quota arithmetic as the `ResourceQuota` admission plugin and the quota controller share
//! it: the evaluators of `pkg/quota/v1/evaluator/core` (what a pod, a Service or any other
//! object uses), `pkg/quota/v1/resources.go` (lists added, masked, compared) and
//! `checkRequest` of `plugin/pkg/admission/resourcequota/controller.go`. Pure functions;
//! `apiserver/admission.rs` and `controller/resourcequota.rs` feed them the store.
//!
//! Scopes (`Terminating`, `NotTerminating`, `BestEffort`, `NotBestEffort`, `PriorityClass`)
//! pick the pods a quota counts. Not modelled: `scopeSelector` (ignored: the quota matches as
//! if it had none), the `CrossNamespacePodAffinity` scope, hugepages and extended resources.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PodSpec, Service};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;

use super::limitranger::pod_totals;
use super::quantity::{Quantity, parse_quantity};

/// A resource list with parsed quantities.
pub type ResourceList = BTreeMap<String, Quantity>;

/// The compute resources a pod's quota covers (`podResources`, without the hugepages and
/// extended prefixes).
const POD_RESOURCES: &[&str] = &[
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "pods",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
];

/// The resources every container must set when a quota tracks them (`validationSet`).
const VALIDATION_SET: &[&str] = &[
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

/// What an object is to quota: its kind's evaluator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Evaluated<'a> {
    /// A pod, and whether it still counts (not Succeeded or Failed, not long gone).
    Pod(&'a PodSpec, bool),
    /// A Service.
    Service(&'a Service),
    /// Any other object: counted as `count/<resource>` (`deployments.apps`, `configmaps`),
    /// plus the legacy name core kinds had before (`configmaps`, `secrets`, `resourcequotas`).
    Object(&'a str),
}

fn one() -> Quantity {
    Quantity::from_int(1)
}

/// The names a core resource was counted under before `count/` (`generic.ObjectCountQuotaResourceNameFor`
/// plus the legacy evaluators).
fn legacy_name(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "pods" => "pods",
        "services" => "services",
        "configmaps" => "configmaps",
        "secrets" => "secrets",
        "resourcequotas" => "resourcequotas",
        "replicationcontrollers" => "replicationcontrollers",
        "persistentvolumeclaims" => "persistentvolumeclaims",
        _ => return None,
    })
}

impl Evaluated<'_> {
    /// `generic.Matches`' scope half: every scope of the quota matches the object
    /// (`podMatchesScopeFunc`); objects other than pods match no scope.
    pub fn in_scopes(&self, scopes: &[String]) -> bool {
        scopes.iter().all(|scope| {
            let Evaluated::Pod(spec, _) = self else {
                return false;
            };
            let terminating = spec.active_deadline_seconds.is_some_and(|d| d >= 0);
            match scope.as_str() {
                "Terminating" => terminating,
                "NotTerminating" => !terminating,
                "BestEffort" => best_effort(spec),
                "NotBestEffort" => !best_effort(spec),
                "PriorityClass" => spec
                    .priority_class_name
                    .as_deref()
                    .is_some_and(|p| !p.is_empty()),
                _ => false,
            }
        })
    }

    /// `MatchingResources`: which of `names` this kind's evaluator tracks.
    pub fn matching(&self, names: &[&str]) -> Vec<String> {
        let tracked = |n: &str| match self {
            Evaluated::Pod(..) => POD_RESOURCES.contains(&n),
            Evaluated::Service(_) => matches!(
                n,
                "services" | "count/services" | "services.nodeports" | "services.loadbalancers"
            ),
            Evaluated::Object(resource) => {
                n.strip_prefix("count/") == Some(resource) || legacy_name(resource) == Some(n)
            }
        };
        names
            .iter()
            .filter(|n| tracked(n))
            .map(|n| (*n).to_string())
            .collect()
    }

    /// `Usage`: what the object uses.
    pub fn usage(&self) -> ResourceList {
        let mut u = ResourceList::new();
        match self {
            Evaluated::Pod(spec, counts) => {
                u.insert("count/pods".into(), one());
                if *counts {
                    let (requests, limits) = pod_totals(spec);
                    u.extend(compute_usage(&requests, &limits));
                }
            }
            Evaluated::Service(s) => {
                u.insert("services".into(), one());
                u.insert("count/services".into(), one());
                let spec = s.spec.clone().unwrap_or_default();
                let ty = spec.type_.as_deref().unwrap_or("ClusterIP");
                let ports = spec.ports.as_ref().map_or(0, Vec::len);
                let ports = i64::try_from(ports).unwrap_or(i64::MAX);
                let (node_ports, lbs) = match ty {
                    "NodePort" => (ports, 0),
                    "LoadBalancer" => (ports, 1),
                    _ => (0, 0),
                };
                u.insert("services.nodeports".into(), Quantity::from_int(node_ports));
                u.insert("services.loadbalancers".into(), Quantity::from_int(lbs));
            }
            Evaluated::Object(resource) => {
                u.insert(format!("count/{resource}"), one());
                if let Some(l) = legacy_name(resource) {
                    u.insert(l.into(), one());
                }
            }
        }
        u
    }

    /// `Constraints`: a pod under a quota of cpu or memory must say so in every container
    /// (`must specify limits.cpu for: c; limits.memory for: c`).
    pub fn constraints(&self, required: &[String]) -> Result<(), String> {
        let Evaluated::Pod(spec, _) = self else {
            return Ok(());
        };
        let required: Vec<&str> = required
            .iter()
            .map(String::as_str)
            .filter(|r| VALIDATION_SET.contains(r))
            .collect();
        let mut missing: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            let r = c.resources.as_ref();
            let parse = |l: Option<&BTreeMap<String, Q>>| -> ResourceList {
                l.into_iter()
                    .flatten()
                    .filter_map(|(k, v)| Some((k.clone(), parse_quantity(v.0.trim()).ok()?)))
                    .collect()
            };
            let has = compute_usage(
                &parse(r.and_then(|r| r.requests.as_ref())),
                &parse(r.and_then(|r| r.limits.as_ref())),
            );
            for name in &required {
                if !has.contains_key(*name) {
                    let names = missing.entry(name).or_default();
                    if !names.contains(&c.name.as_str()) {
                        names.push(&c.name);
                    }
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let parts: Vec<String> = missing
            .into_iter()
            .map(|(r, mut names)| {
                names.sort_unstable();
                format!("{r} for: {}", names.join(","))
            })
            .collect();
        Err(format!("must specify {}", parts.join("; ")))
    }
}

/// `qos.GetPodQOS(pod) == BestEffort`: no container requests or limits any cpu or memory.
fn best_effort(spec: &PodSpec) -> bool {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .all(|c| {
            let r = c.resources.as_ref();
            [
                r.and_then(|r| r.requests.as_ref()),
                r.and_then(|r| r.limits.as_ref()),
            ]
            .into_iter()
            .flatten()
            .flatten()
            .filter(|(k, _)| matches!(k.as_str(), "cpu" | "memory"))
            .all(|(_, v)| parse_quantity(v.0.trim()).map_or(true, |q| q <= Quantity::from_int(0)))
        })
}

/// `podComputeUsageHelper`.
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut u = ResourceList::new();
    u.insert("pods".into(), one());
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(q) = requests.get(r) {
            u.insert(r.into(), *q);
            u.insert(format!("requests.{r}"), *q);
        }
        if let Some(q) = limits.get(r) {
            u.insert(format!("limits.{r}"), *q);
        }
    }
    u
}

/// `quota.Add`.
pub fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (k, v) in b {
        let sum = match out.get(k) {
            Some(have) => have.checked_add(v).unwrap_or(*have),
            None => *v,
        };
        out.insert(k.clone(), sum);
    }
    out
}

/// `quota.Mask`: only the named resources.
pub fn mask(list: &ResourceList, names: &[String]) -> ResourceList {
    list.iter()
        .filter(|(k, _)| names.contains(k))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// `prettyPrint`: `pods=1,requests.cpu=500m`, sorted by name.
pub fn pretty(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A ResourceList of the API as parsed quantities (values that do not parse are left out:
/// validation refused them).
pub fn parse_list(list: Option<&BTreeMap<String, Q>>) -> ResourceList {
    list.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), parse_quantity(v.0.trim()).ok()?)))
        .collect()
}

/// The API's form of a parsed list.
pub fn to_api(list: &ResourceList) -> BTreeMap<String, Q> {
    list.iter()
        .map(|(k, v)| (k.clone(), Q(v.to_string())))
        .collect()
}

/// One quota as admission sees it.
#[derive(Clone, Debug)]
pub struct QuotaView {
    /// Its name.
    pub name: String,
    /// `status.hard`.
    pub hard: ResourceList,
    /// `status.used`.
    pub used: ResourceList,
    /// `spec.scopes`.
    pub scopes: Vec<String>,
}

/// `checkRequest`: for each quota the object matches, the evaluator's constraints, then its
/// usage added to the quota's; the first quota it would exceed refuses it. On success, the
/// new `used` of each quota charged (index into `quotas`).
pub fn check_request(
    quotas: &[QuotaView],
    obj: &Evaluated<'_>,
) -> Result<Vec<(usize, ResourceList)>, String> {
    let mut interesting = Vec::new();
    for (i, q) in quotas.iter().enumerate() {
        let names: Vec<&str> = q.hard.keys().map(String::as_str).collect();
        let required = obj.matching(&names);
        if required.is_empty() || !obj.in_scopes(&q.scopes) {
            continue;
        }
        obj.constraints(&required)
            .map_err(|e| format!("failed quota: {}: {e}", q.name))?;
        if q.hard.keys().any(|k| !q.used.contains_key(k)) {
            return Err(format!("status unknown for quota: {}", q.name));
        }
        interesting.push(i);
    }
    if interesting.is_empty() {
        return Ok(Vec::new());
    }
    let delta = obj.usage();
    let mut out = Vec::new();
    for i in interesting {
        let q = &quotas[i];
        let hard_names: Vec<String> = q.hard.keys().cloned().collect();
        let requested = mask(&delta, &hard_names);
        let new_used = add(&q.used, &requested);
        let requested_names: Vec<String> = requested.keys().cloned().collect();
        let exceeded: Vec<String> = mask(&new_used, &requested_names)
            .iter()
            .filter(|(k, v)| q.hard.get(*k).is_some_and(|h| *v > h))
            .map(|(k, _)| k.clone())
            .collect();
        if !exceeded.is_empty() {
            return Err(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                q.name,
                pretty(&mask(&requested, &exceeded)),
                pretty(&mask(&q.used, &exceeded)),
                pretty(&mask(&q.hard, &exceeded)),
            ));
        }
        out.push((i, new_used));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ResourceRequirements};

    fn list(pairs: &[(&str, &str)]) -> ResourceList {
        pairs
            .iter()
            .filter_map(|(k, v)| Some(((*k).to_string(), parse_quantity(v).ok()?)))
            .collect()
    }

    /// A container: name, requests, limits.
    type C<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [(&'a str, &'a str)]);

    fn pod(containers: &[C<'_>]) -> PodSpec {
        let api = |p: &[(&str, &str)]| {
            (!p.is_empty()).then(|| {
                p.iter()
                    .map(|(k, v)| ((*k).to_string(), Q((*v).to_string())))
                    .collect()
            })
        };
        PodSpec {
            containers: containers
                .iter()
                .map(|(n, req, lim)| Container {
                    name: (*n).into(),
                    resources: Some(ResourceRequirements {
                        requests: api(req),
                        limits: api(lim),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn quota(name: &str, hard: &[(&str, &str)], used: &[(&str, &str)]) -> QuotaView {
        QuotaView {
            name: name.into(),
            hard: list(hard),
            used: list(used),
            scopes: Vec::new(),
        }
    }

    // `TestPodEvaluatorUsage`: requests and limits summed, `pods` and `count/pods`; a
    // terminal pod only in `count/pods`.
    #[test]
    fn pod_usage_sums_containers_and_skips_terminal_pods() {
        let spec = pod(&[
            (
                "a",
                &[("cpu", "100m"), ("memory", "1Gi")],
                &[("cpu", "200m")],
            ),
            ("b", &[("cpu", "1")], &[("memory", "2Gi")]),
        ]);
        let u = Evaluated::Pod(&spec, true).usage();
        assert_eq!(
            pretty(&u),
            "count/pods=1,cpu=1100m,limits.cpu=200m,limits.memory=2Gi,memory=1Gi,pods=1,requests.cpu=1100m,requests.memory=1Gi"
        );
        assert_eq!(
            pretty(&Evaluated::Pod(&spec, false).usage()),
            "count/pods=1"
        );
    }

    // `TestPodEvaluatorConstraints` / `TestAdmitBelowBestEffortQuotaLimit`'s refusals.
    #[test]
    fn a_quota_of_limits_needs_every_container_to_set_them() {
        let spec = pod(&[("c", &[("cpu", "1")], &[])]);
        let q = quota(
            "q",
            &[("limits.cpu", "2"), ("limits.memory", "1Gi")],
            &[("limits.cpu", "0"), ("limits.memory", "0")],
        );
        assert_eq!(
            check_request(&[q], &Evaluated::Pod(&spec, true)),
            Err("failed quota: q: must specify limits.cpu for: c; limits.memory for: c".into())
        );
    }

    // `TestAdmitExceedQuotaLimit`: the first quota exceeded names what was asked, used and
    // limited, only for the resources over.
    #[test]
    fn exceeding_names_the_resources_over() {
        let spec = pod(&[("c", &[("cpu", "500m")], &[])]);
        let q = quota(
            "q",
            &[("pods", "2"), ("requests.cpu", "1")],
            &[("pods", "2"), ("requests.cpu", "200m")],
        );
        assert_eq!(
            check_request(&[q], &Evaluated::Pod(&spec, true)),
            Err("exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2".into())
        );
        let q = quota(
            "q",
            &[("pods", "3"), ("requests.cpu", "1")],
            &[("pods", "1"), ("requests.cpu", "200m")],
        );
        let ok = check_request(&[q], &Evaluated::Pod(&spec, true));
        assert_eq!(
            ok.map(|v| v
                .into_iter()
                .map(|(i, u)| (i, pretty(&u)))
                .collect::<Vec<_>>()),
            Ok(vec![(0, "pods=2,requests.cpu=700m".to_string())])
        );
    }

    // `TestAdmitBelowBestEffortQuotaLimit`: a BestEffort quota ignores a pod with requests.
    #[test]
    fn scopes_pick_the_pods_a_quota_counts() {
        let mut q = quota("be", &[("pods", "1")], &[("pods", "1")]);
        q.scopes = vec!["BestEffort".into()];
        let burstable = pod(&[("c", &[("cpu", "100m")], &[])]);
        assert_eq!(
            check_request(std::slice::from_ref(&q), &Evaluated::Pod(&burstable, true)),
            Ok(vec![])
        );
        let best = pod(&[("c", &[], &[])]);
        assert_eq!(
            check_request(&[q], &Evaluated::Pod(&best, true)),
            Err("exceeded quota: be, requested: pods=1, used: pods=1, limited: pods=1".into())
        );
    }

    // `TestServiceEvaluatorUsage`: a NodePort Service uses a node port per port.
    #[test]
    fn a_node_port_service_uses_one_node_port_per_port() {
        let svc: Service = serde_json::from_value(serde_json::json!({
            "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 443}]}
        }))
        .unwrap_or_default();
        let q = quota(
            "np",
            &[("services.nodeports", "1")],
            &[("services.nodeports", "0")],
        );
        assert_eq!(
            check_request(&[q], &Evaluated::Service(&svc)),
            Err("exceeded quota: np, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1".into())
        );
    }

    // Object counts: `count/deployments.apps`, and the legacy `configmaps`; a quota that
    // tracks nothing of the object does not look at it, even without status.
    #[test]
    fn object_counts_and_unrelated_quotas() {
        let q = quota(
            "q",
            &[("count/deployments.apps", "1")],
            &[("count/deployments.apps", "1")],
        );
        assert_eq!(
            check_request(&[q], &Evaluated::Object("deployments.apps")),
            Err("exceeded quota: q, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1".into())
        );
        let fresh = quota("fresh", &[("configmaps", "1")], &[]);
        assert_eq!(
            check_request(
                std::slice::from_ref(&fresh),
                &Evaluated::Object("configmaps")
            ),
            Err("status unknown for quota: fresh".into())
        );
        assert_eq!(
            check_request(&[fresh], &Evaluated::Object("secrets")),
            Ok(vec![])
        );
    }
}
