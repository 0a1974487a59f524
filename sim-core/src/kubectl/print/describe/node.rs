//! `kubectl describe node`, with the resource quantities it adds up.
//!
//! Port of `describeNode`, `describeNodeResource` and `describeNodeLease` in
//! `staging/src/k8s.io/kubectl/pkg/describe/describe.go`, with the parts of
//! `apimachinery/pkg/api/resource` (parsing and canonical printing) the tables need.

use std::collections::BTreeMap;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;

use super::{PrefixWriter, describe_events, print_annotations_multiline, print_labels_multiline};
use crate::kubectl::print::duration::age;
use crate::kubectl::print::get::node_roles;
use crate::kubectl::print::util::{rfc1123z_opt, s};

/// `kubectl describe node`. `pods` may be all pods; those bound to the node and not finished are
/// listed, as kubectl's field selector does. `lease` is the node's Lease in `kube-node-lease`.
pub fn describe_node(
    node: &Node,
    lease: Option<&Lease>,
    pods: &[Pod],
    events: &[Event],
    now: Timestamp,
) -> String {
    let mut w = PrefixWriter::new();
    let meta = &node.metadata;
    let spec = node.spec.as_ref();
    let st = node.status.as_ref();
    w.write(0, &format!("Name:\t{}\n", s(&meta.name)));
    let roles = node_roles(node);
    w.write(
        0,
        &format!(
            "Roles:\t{}\n",
            if roles.is_empty() {
                "<none>".to_string()
            } else {
                roles.join(",")
            }
        ),
    );
    print_labels_multiline(&mut w, "Labels", meta.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", meta.annotations.as_ref());
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z_opt(meta.creation_timestamp.as_ref())
        ),
    );
    let mut taints: Vec<_> = spec.and_then(|s| s.taints.clone()).unwrap_or_default();
    w.write(0, "Taints:\t");
    if taints.is_empty() {
        w.write(0, "<none>\n");
    } else {
        taints.sort_by(|a, b| {
            format!("{},{}", a.effect, a.key).cmp(&format!("{},{}", b.effect, b.key))
        });
        for (i, t) in taints.iter().enumerate() {
            if i != 0 {
                w.write(0, "\t");
            }
            match t.value.as_deref().filter(|v| !v.is_empty()) {
                Some(v) => w.write(0, &format!("{}={v}:{}\n", t.key, t.effect)),
                None => w.write(0, &format!("{}:{}\n", t.key, t.effect)),
            }
        }
    }
    w.write(
        0,
        &format!(
            "Unschedulable:\t{}\n",
            spec.and_then(|s| s.unschedulable).unwrap_or(false)
        ),
    );
    let conditions = st.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    // describeNodeLease: the node's Lease in kube-node-lease.
    let lease_spec = lease.and_then(|l| l.spec.as_ref());
    w.write(0, "Lease:\n");
    w.write(
        1,
        &format!(
            "HolderIdentity:\t{}\n",
            lease_spec
                .and_then(|l| l.holder_identity.as_deref())
                .unwrap_or("<unset>")
        ),
    );
    let micro = |t: Option<&MicroTime>| {
        t.map(|t| rfc1123z_opt(Some(&Time(t.0))))
            .unwrap_or_else(|| "<unset>".to_string())
    };
    w.write(
        1,
        &format!(
            "AcquireTime:\t{}\n",
            micro(lease_spec.and_then(|l| l.acquire_time.as_ref()))
        ),
    );
    w.write(
        1,
        &format!(
            "RenewTime:\t{}\n",
            micro(lease_spec.and_then(|l| l.renew_time.as_ref()))
        ),
    );
    if !conditions.is_empty() {
        w.write(
            0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        );
        w.write(
            1,
            "----\t------\t-----------------\t------------------\t------\t-------\n",
        );
        for c in conditions {
            w.write(
                1,
                &format!(
                    "{} \t{} \t{} \t{} \t{} \t{}\n",
                    c.type_,
                    c.status,
                    rfc1123z_opt(c.last_heartbeat_time.as_ref()),
                    rfc1123z_opt(c.last_transition_time.as_ref()),
                    s(&c.reason),
                    s(&c.message)
                ),
            );
        }
    }
    w.write(0, "Addresses:\n");
    for a in st.and_then(|s| s.addresses.as_deref()).unwrap_or(&[]) {
        w.write(1, &format!("{}:\t{}\n", a.type_, a.address));
    }
    let empty = BTreeMap::new();
    let capacity = st.and_then(|s| s.capacity.as_ref()).unwrap_or(&empty);
    let allocatable_list = st.and_then(|s| s.allocatable.as_ref()).unwrap_or(&empty);
    for (title, list) in [("Capacity", capacity), ("Allocatable", allocatable_list)] {
        if !list.is_empty() {
            w.write(0, &format!("{title}:\n"));
            for (name, q) in list {
                w.write(0, &format!("  {name}:\t{}\n", q.0));
            }
        }
    }
    let info = st.and_then(|s| s.node_info.clone()).unwrap_or_default();
    w.write(0, "System Info:\n");
    for (k, v) in [
        ("Machine ID", &info.machine_id),
        ("System UUID", &info.system_uuid),
        ("Boot ID", &info.boot_id),
        ("Kernel Version", &info.kernel_version),
        ("OS Image", &info.os_image),
        ("Operating System", &info.operating_system),
        ("Architecture", &info.architecture),
        ("Container Runtime Version", &info.container_runtime_version),
        ("Kubelet Version", &info.kubelet_version),
    ] {
        w.write(0, &format!("  {k}:\t{v}\n"));
    }
    if let Some(cidr) = spec
        .and_then(|s| s.pod_cidr.as_deref())
        .filter(|c| !c.is_empty())
    {
        w.write(0, &format!("PodCIDR:\t{cidr}\n"));
    }
    if let Some(cidrs) = spec
        .and_then(|s| s.pod_cidrs.as_deref())
        .filter(|c| !c.is_empty())
    {
        w.write(0, &format!("PodCIDRs:\t{}\n", cidrs.join(",")));
    }
    if let Some(p) = spec
        .and_then(|s| s.provider_id.as_deref())
        .filter(|p| !p.is_empty())
    {
        w.write(0, &format!("ProviderID:\t{p}\n"));
    }
    let allocatable = if allocatable_list.is_empty() {
        capacity
    } else {
        allocatable_list
    };
    let node_pods: Vec<&Pod> = pods
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == meta.name.as_deref())
        .filter(|p| {
            !matches!(
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Succeeded" | "Failed")
            )
        })
        .collect();
    describe_node_resource(&node_pods, allocatable, &mut w, now);
    describe_events(events, &mut w, now);
    w.finish()
}

/// `describeNodeResource`: per-pod requests and limits, then the node's totals.
fn describe_node_resource(
    pods: &[&Pod],
    allocatable: &BTreeMap<String, Quantity>,
    w: &mut PrefixWriter,
    now: Timestamp,
) {
    w.write(
        0,
        &format!("Non-terminated Pods:\t({} in total)\n", pods.len()),
    );
    w.write(
        1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    );
    w.write(
        1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    );
    let alloc = |name: &str| {
        allocatable
            .get(name)
            .and_then(|q| Amount::parse(&q.0))
            .map(|a| a.milli)
            .unwrap_or(0)
    };
    let fraction = |a: &Amount, name: &str| {
        let total = alloc(name);
        if total == 0 {
            0
        } else {
            (a.milli as f64 / total as f64 * 100.0) as i64
        }
    };
    let mut total_req: BTreeMap<&str, Amount> = BTreeMap::new();
    let mut total_lim: BTreeMap<&str, Amount> = BTreeMap::new();
    for pod in pods {
        let (req, lim) = pod_requests_and_limits(pod);
        let cell = |m: &BTreeMap<&str, Amount>, name: &str| {
            let a = m.get(name).cloned().unwrap_or_default();
            format!("{} ({}%)", a, fraction(&a, name))
        };
        w.write(
            1,
            &format!(
                "{}\t{}\t\t{}\t{}\t{}\t{}\t{}\n",
                s(&pod.metadata.namespace),
                s(&pod.metadata.name),
                cell(&req, "cpu"),
                cell(&lim, "cpu"),
                cell(&req, "memory"),
                cell(&lim, "memory"),
                age(pod.metadata.creation_timestamp.as_ref(), now)
            ),
        );
        for (k, v) in req {
            total_req.entry(k).or_default().add(&v);
        }
        for (k, v) in lim {
            total_lim.entry(k).or_default().add(&v);
        }
    }
    w.write(
        0,
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    );
    w.write(1, "Resource\tRequests\tLimits\n");
    w.write(1, "--------\t--------\t------\n");
    for name in ["cpu", "memory", "ephemeral-storage"] {
        let r = total_req.get(name).cloned().unwrap_or_default();
        let l = total_lim.get(name).cloned().unwrap_or_default();
        w.write(
            1,
            &format!(
                "{name}\t{r} ({}%)\t{l} ({}%)\n",
                fraction(&r, name),
                fraction(&l, name)
            ),
        );
    }
}

/// `resourcehelper.PodRequests` / `PodLimits` for cpu, memory and ephemeral storage: the sum
/// over containers, or the largest init container when that is bigger.
fn pod_requests_and_limits(
    pod: &Pod,
) -> (
    BTreeMap<&'static str, Amount>,
    BTreeMap<&'static str, Amount>,
) {
    let mut req = BTreeMap::new();
    let mut lim = BTreeMap::new();
    let Some(spec) = pod.spec.as_ref() else {
        return (req, lim);
    };
    for (out, pick) in [(&mut req, true), (&mut lim, false)] {
        for name in ["cpu", "memory", "ephemeral-storage"] {
            let get = |c: &k8s_openapi::api::core::v1::Container| {
                let r = c.resources.as_ref()?;
                let list = if pick {
                    r.requests.as_ref()
                } else {
                    r.limits.as_ref()
                }?;
                Amount::parse(&list.get(name)?.0)
            };
            let mut sum: Option<Amount> = None;
            for c in &spec.containers {
                if let Some(a) = get(c) {
                    sum.get_or_insert_with(Amount::default).add(&a);
                }
            }
            for c in spec.init_containers.iter().flatten() {
                if let Some(a) = get(c)
                    && sum.as_ref().is_none_or(|s| a.milli > s.milli)
                {
                    sum = Some(a);
                }
            }
            if let Some(sum) = sum {
                out.insert(name, sum);
            }
        }
    }
    (req, lim)
}

/// A resource quantity in thousandths of a unit, with the notation of the first term added.
#[derive(Clone, Debug, Default)]
struct Amount {
    milli: i128,
    binary: bool,
}

impl Amount {
    /// Parses `100m`, `1.5`, `128Mi`, `1G`, `1e3`.
    fn parse(q: &str) -> Option<Amount> {
        let q = q.trim();
        let split = q
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
            .unwrap_or(q.len());
        let (num, suffix) = q.split_at(split);
        let (mult_num, mult_den, binary): (i128, i128, bool) = match suffix {
            "" => (1, 1, false),
            "n" => (1, 1_000_000_000, false),
            "u" => (1, 1_000_000, false),
            "m" => (1, 1_000, false),
            "k" => (1_000, 1, false),
            "M" => (1_000_000, 1, false),
            "G" => (1_000_000_000, 1, false),
            "T" => (1_000_000_000_000, 1, false),
            "Ki" => (1 << 10, 1, true),
            "Mi" => (1 << 20, 1, true),
            "Gi" => (1 << 30, 1, true),
            "Ti" => (1 << 40, 1, true),
            s if s.starts_with(['e', 'E']) => {
                let exp: u32 = s[1..].parse().ok()?;
                (10i128.checked_pow(exp)?, 1, false)
            }
            _ => return None,
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        let neg = int.starts_with('-');
        let int: i128 = int.trim_start_matches(['-', '+']).parse().unwrap_or(0);
        let frac_digits = frac.len().min(9) as u32;
        let frac_val: i128 = if frac_digits == 0 {
            0
        } else {
            frac[..frac_digits as usize].parse().ok()?
        };
        let scale = 10i128.pow(frac_digits);
        // value * 1000, rounded up as Go rounds quantities up to the milli scale.
        let numerator = (int * scale + frac_val) * mult_num * 1000;
        let denominator = scale * mult_den;
        let milli = (numerator + denominator - 1) / denominator;
        Some(Amount {
            milli: if neg { -milli } else { milli },
            binary,
        })
    }

    /// `Quantity.Add`: the notation of the first non-zero term is kept.
    fn add(&mut self, other: &Amount) {
        if self.milli == 0 {
            self.binary = other.binary;
        }
        self.milli += other.milli;
    }
}

impl std::fmt::Display for Amount {
    /// `Quantity.String()` in canonical form: `0`, `250m`, `2`, `1500m`, `256Mi`, `1G`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.milli;
        if m == 0 {
            return write!(f, "0");
        }
        if m % 1000 != 0 {
            return write!(f, "{m}m");
        }
        let units = m / 1000;
        if self.binary && units >= 1024 {
            let mut v = units;
            let mut i = 0;
            while v % 1024 == 0 && i < 4 {
                v /= 1024;
                i += 1;
            }
            if i > 0 {
                return write!(f, "{v}{}", ["", "Ki", "Mi", "Gi", "Ti"][i]);
            }
        }
        let mut v = units;
        let mut i = 0;
        while v % 1000 == 0 && i < 4 {
            v /= 1000;
            i += 1;
        }
        write!(f, "{v}{}", ["", "k", "M", "G", "T"][i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::print::fixtures::*;

    fn check(actual: String, expected: &str) {
        assert_eq!(
            actual, expected,
            "\n--- actual ---\n{actual}\n--- expected ---\n{expected}"
        );
    }

    #[test]
    fn quantities_round_trip() {
        for (input, want) in [
            ("100m", "100m"),
            ("0.5", "500m"),
            ("2", "2"),
            ("128Mi", "128Mi"),
            ("1Gi", "1Gi"),
            ("1G", "1G"),
            ("1500m", "1500m"),
        ] {
            assert_eq!(
                Amount::parse(input).expect("quantity").to_string(),
                want,
                "{input}"
            );
        }
        let mut a = Amount::parse("128Mi").expect("quantity");
        a.add(&Amount::parse("128Mi").expect("quantity"));
        assert_eq!(a.to_string(), "256Mi");
    }

    #[test]
    fn cordoned_worker_with_pods() {
        let nodes = course_nodes();
        let mut pods = course_pods();
        pods[0].spec.as_mut().expect("spec").containers[0].resources = Some(
            serde_json::from_value(serde_json::json!({
                "requests": {"cpu": "250m", "memory": "128Mi"},
                "limits": {"cpu": "500m", "memory": "256Mi"}
            }))
            .expect("resources"),
        );
        let lease = Lease {
            spec: Some(k8s_openapi::api::coordination::v1::LeaseSpec {
                holder_identity: Some("node-1".into()),
                renew_time: Some(MicroTime("2026-11-23T11:59:50Z".parse().expect("time"))),
                ..Default::default()
            }),
            ..Default::default()
        };
        check(describe_node(&nodes[1], Some(&lease), &pods, &[], now()),
"\
Name:               node-1
Roles:              <none>
Labels:             kubernetes.io/hostname=node-1
Annotations:        <none>
CreationTimestamp:  Sat, 21 Nov 2026 12:00:00 +0000
Taints:             <none>
Unschedulable:      true
Lease:
  HolderIdentity:  node-1
  AcquireTime:     <unset>
  RenewTime:       Mon, 23 Nov 2026 11:59:50 +0000
Conditions:
  Type    Status  LastHeartbeatTime                 LastTransitionTime                Reason         Message
  ----    ------  -----------------                 ------------------                ------         -------
  Ready   True    Mon, 23 Nov 2026 11:59:50 +0000   Sat, 21 Nov 2026 12:00:00 +0000   KubeletReady   kubelet is posting ready status
Addresses:
  InternalIP:  172.18.0.3
  Hostname:    node-1
Capacity:
  cpu:     4
  memory:  8Gi
  pods:    110
Allocatable:
  cpu:     4
  memory:  8Gi
  pods:    110
System Info:
  Machine ID:                 m
  System UUID:                s
  Boot ID:                    b
  Kernel Version:             6.8.0-kubesim
  OS Image:                   kubesim OS
  Operating System:           linux
  Architecture:               amd64
  Container Runtime Version:  containerd://2.1.0
  Kubelet Version:            v1.35.0
PodCIDR:                      10.244.0.0/24
Non-terminated Pods:          (5 in total)
  Namespace                   Name                                  CPU Requests  CPU Limits  Memory Requests  Memory Limits  Age
  ---------                   ----                                  ------------  ----------  ---------------  -------------  ---
  live-coding                 credit-scoring-api-7c9d8f6b5-x2x7q    250m (6%)     500m (12%)  128Mi (1%)       256Mi (3%)     60m
  live-coding                 credit-scoring-api-5d8c7b9f4-pull1    0 (0%)        0 (0%)      0 (0%)           0 (0%)         30s
  live-coding                 credit-scoring-api-5d8c7b9f4-pull2    0 (0%)        0 (0%)      0 (0%)           0 (0%)         2m10s
  live-coding                 credit-scoring-api-7c9d8f6b5-term1    0 (0%)        0 (0%)      0 (0%)           0 (0%)         60m
  live-coding                 sidecar-demo                          0 (0%)        0 (0%)      0 (0%)           0 (0%)         4m
Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests    Limits
  --------           --------    ------
  cpu                250m (6%)   500m (12%)
  memory             128Mi (1%)  256Mi (3%)
  ephemeral-storage  0 (0%)      0 (0%)
Events:              <none>
");
    }
}
