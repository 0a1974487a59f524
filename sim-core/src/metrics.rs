//! Resource metrics as metrics-server reports them (`metrics.k8s.io/v1beta1` PodMetrics and
//! NodeMetrics), computed from the traffic model's busy time, in virtual time.
//!
//! The model:
//! - each virtual second of traffic, every endpoint's M/M/1 queue (`traffic.rs`) serves some
//!   requests; the time it spent serving them (requests served × service time, at most the
//!   whole second) is that container's *busy time* for the second;
//! - a container's program runs on its CPU limit, else its request, else one core
//!   (`Sim::container_millicores`, which the service time already assumes), so its CPU usage
//!   over a second is `busy fraction × those millicores`; a container that served nothing
//!   still uses [`IDLE_NANOCORES`] (the runtime's own idle cost, 1m);
//! - metrics-server scrapes every kubelet each [`RESOLUTION_MS`] (its `--metric-resolution`,
//!   15 s in the manifests the project ships) and reports the rate between its last two
//!   scrapes of a container's cumulative CPU counter: the average over a 15 s window. So the
//!   usage at virtual time `t` is the average over the window `(s − 15 s, s]`, where `s` is
//!   the last scrape strictly before `t` (a multiple of 15 s), `timestamp` is `s` and `window`
//!   is `15s`;
//! - a container that started (or restarted) after the window's start has only one scrape,
//!   so metrics-server has no rate for it and the pod has no metrics yet (the HPA's "missing
//!   metrics" case); pods that are not running have none either;
//! - memory is not modelled: every running container reports a fixed working set
//!   ([`CONTAINER_MEMORY_BYTES`]);
//! - a node's usage is the sum of its pods' usage plus the system's own
//!   ([`NODE_SYSTEM_NANOCORES`], [`NODE_SYSTEM_MEMORY_BYTES`]: the kubelet, runtime and OS).
//!
//! Everything here is a pure function of the store and the traffic record.

use std::collections::{BTreeMap, VecDeque};

use crate::sim::Sim;
use crate::store::ObjId;
use crate::store::pod::{CState, Phase};
use crate::time::SimTime;

/// metrics-server's `--metric-resolution`: the scrape period and the rate's window.
pub const RESOLUTION_MS: u64 = 15_000;
/// CPU of a container that served nothing in the window (1m).
pub const IDLE_NANOCORES: u64 = 1_000_000;
/// Working set reported for every running container (memory is not modelled).
pub const CONTAINER_MEMORY_BYTES: u64 = 12 * 1024 * 1024;
/// CPU the node's system daemons use.
pub const NODE_SYSTEM_NANOCORES: u64 = 95_000_000;
/// Memory the node's system daemons use.
pub const NODE_SYSTEM_MEMORY_BYTES: u64 = 780 * 1024 * 1024;

/// Seconds of busy time kept per container (two windows).
const KEEP_MS: u64 = 2 * RESOLUTION_MS;

/// Busy time per container and second, for the last two windows.
#[derive(Debug, Default, Clone)]
pub struct CpuLog {
    /// (pod, container index) → (end of second in ms, busy ms), oldest first.
    busy: BTreeMap<(ObjId, usize), VecDeque<(u64, f64)>>,
}

impl CpuLog {
    /// Records that a container was busy `busy_ms` in the second ending at `end`.
    pub fn record(&mut self, pod: ObjId, ci: usize, end: SimTime, busy_ms: f64) {
        let q = self.busy.entry((pod, ci)).or_default();
        match q.back_mut() {
            Some(last) if last.0 == end.millis() => last.1 += busy_ms,
            _ => q.push_back((end.millis(), busy_ms)),
        }
        while q.front().is_some_and(|(t, _)| t + KEEP_MS < end.millis()) {
            q.pop_front();
        }
    }

    /// Forgets containers with nothing recorded since `before` (pods gone or idle).
    pub fn prune(&mut self, now: SimTime) {
        self.busy
            .retain(|_, q| q.back().is_some_and(|(t, _)| t + KEEP_MS >= now.millis()));
    }

    /// Busy milliseconds of a container in the seconds ending in `(from, to]`.
    pub fn busy_between(&self, pod: ObjId, ci: usize, from: u64, to: u64) -> f64 {
        self.busy.get(&(pod, ci)).map_or(0.0, |q| {
            q.iter()
                .filter(|(t, _)| *t > from && *t <= to)
                .map(|(_, b)| b)
                .sum()
        })
    }
}

/// The last scrape strictly before `now`, if a whole window lies before it.
pub fn last_scrape(now: SimTime) -> Option<SimTime> {
    let t = now.millis().checked_sub(1)?;
    let s = t / RESOLUTION_MS * RESOLUTION_MS;
    (s >= RESOLUTION_MS).then_some(SimTime(s))
}

/// One container's usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUsage {
    /// Container name.
    pub name: String,
    /// CPU, nanocores.
    pub cpu_nanocores: u64,
    /// Working set, bytes.
    pub memory_bytes: u64,
}

/// A pod's usage over one window, as PodMetrics reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodUsage {
    /// The scrape the rate ends at.
    pub timestamp: SimTime,
    /// The window's length (ms).
    pub window_ms: u64,
    /// Per container, in the pod's order.
    pub containers: Vec<ContainerUsage>,
}

impl PodUsage {
    /// The pod's CPU in millicores (the sum of its containers', as the HPA reads it).
    pub fn cpu_millis(&self) -> i64 {
        (self.containers.iter().map(|c| c.cpu_nanocores).sum::<u64>() / 1_000_000) as i64
    }
}

/// A node's usage over one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeUsage {
    /// The scrape the rate ends at.
    pub timestamp: SimTime,
    /// The window's length (ms).
    pub window_ms: u64,
    /// CPU, nanocores.
    pub cpu_nanocores: u64,
    /// Working set, bytes.
    pub memory_bytes: u64,
}

impl Sim {
    /// The pod's metrics as metrics-server reports them now, or `None` when it has none
    /// (not running, or a container started after the window began).
    pub fn pod_usage(&self, pod: ObjId) -> Option<PodUsage> {
        let s = last_scrape(self.store.now)?;
        let from = s.millis() - RESOLUTION_MS;
        let p = self.store.pods.get(pod)?;
        if p.phase != Phase::Running || p.deletion.is_some() {
            return None;
        }
        let spec = p.template.spec.as_ref()?;
        let mut containers = Vec::new();
        for (ci, run) in p.containers.iter().enumerate() {
            let CState::Running { started } = run.state else {
                return None;
            };
            if started.millis() > from {
                return None;
            }
            let mut busy = self.traffic.cpu.busy_between(pod, ci, from, s.millis());
            if ci == 0 {
                // Pods whose image declares no program are queued as one server.
                busy += self
                    .traffic
                    .cpu
                    .busy_between(pod, usize::MAX, from, s.millis());
            }
            let fraction = (busy / RESOLUTION_MS as f64).min(1.0);
            let millicores = self.container_millicores(pod, ci) as f64;
            let nanocores = (fraction * millicores * 1_000_000.0).round() as u64;
            containers.push(ContainerUsage {
                name: spec
                    .containers
                    .get(ci)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                cpu_nanocores: nanocores.max(IDLE_NANOCORES),
                memory_bytes: CONTAINER_MEMORY_BYTES,
            });
        }
        if containers.is_empty() {
            return None;
        }
        Some(PodUsage {
            timestamp: s,
            window_ms: RESOLUTION_MS,
            containers,
        })
    }

    /// The node's metrics now: its pods' usage plus the system's.
    pub fn node_usage(&self, node: ObjId) -> Option<NodeUsage> {
        let s = last_scrape(self.store.now)?;
        let n = self.store.nodes.get(node)?;
        if !n.kubelet_up {
            return None;
        }
        let mut cpu = NODE_SYSTEM_NANOCORES;
        let mut mem = NODE_SYSTEM_MEMORY_BYTES;
        for &pod in &n.pods {
            if let Some(u) = self.pod_usage(pod) {
                cpu += u.containers.iter().map(|c| c.cpu_nanocores).sum::<u64>();
                mem += u.containers.iter().map(|c| c.memory_bytes).sum::<u64>();
            }
        }
        Some(NodeUsage {
            timestamp: s,
            window_ms: RESOLUTION_MS,
            cpu_nanocores: cpu,
            memory_bytes: mem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrapes_fall_on_the_resolution_and_need_a_whole_window() {
        assert_eq!(last_scrape(SimTime(0)), None);
        assert_eq!(last_scrape(SimTime(15_000)), None);
        assert_eq!(last_scrape(SimTime(15_001)), Some(SimTime(15_000)));
        assert_eq!(last_scrape(SimTime(30_000)), Some(SimTime(15_000)));
        assert_eq!(last_scrape(SimTime(44_999)), Some(SimTime(30_000)));
    }

    #[test]
    fn busy_time_is_summed_over_the_window_and_old_seconds_are_dropped() {
        let mut log = CpuLog::default();
        for s in 1..=40u64 {
            log.record(7, 0, SimTime(s * 1000), 500.0);
        }
        // (15 s, 30 s]: fifteen half-busy seconds.
        assert_eq!(log.busy_between(7, 0, 15_000, 30_000), 7_500.0);
        // Only two windows are kept.
        assert_eq!(log.busy_between(7, 0, 0, 9_000), 0.0);
        log.prune(SimTime(100_000));
        assert_eq!(log.busy_between(7, 0, 0, 100_000), 0.0);
    }
}

/// A CPU quantity in nanocores as metrics-server writes it (`resource.NewScaledQuantity(n,
/// Nano)`, canonical: `1m` for a million nanocores, `1234567n` otherwise).
pub fn cpu_quantity(nanocores: u64) -> String {
    if nanocores == 0 {
        "0".into()
    } else if nanocores.is_multiple_of(1_000_000_000) {
        format!("{}", nanocores / 1_000_000_000)
    } else if nanocores.is_multiple_of(1_000_000) {
        format!("{}m", nanocores / 1_000_000)
    } else if nanocores.is_multiple_of(1_000) {
        format!("{}u", nanocores / 1_000)
    } else {
        format!("{nanocores}n")
    }
}

/// A memory quantity in bytes as metrics-server writes it (`BinarySI`: `12Mi`, `8192Ki`).
pub fn memory_quantity(bytes: u64) -> String {
    for (suffix, unit) in [("Gi", 1u64 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
        if bytes >= unit && bytes.is_multiple_of(unit) {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// `window` as metrics-server prints a Go duration (`15s`).
fn window(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}ms", ms)
    }
}

impl Sim {
    /// `metrics.k8s.io/v1beta1` PodMetrics of a pod, as metrics-server serves it (`None`:
    /// no metrics for it yet).
    pub fn pod_metrics_value(&self, pod: ObjId) -> Option<serde_json::Value> {
        let u = self.pod_usage(pod)?;
        let p = self.store.pods.get(pod)?;
        let now = self.store.time(self.store.now);
        let containers: Vec<serde_json::Value> = u
            .containers
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "usage": {
                        "cpu": cpu_quantity(c.cpu_nanocores),
                        "memory": memory_quantity(c.memory_bytes),
                    },
                })
            })
            .collect();
        Some(serde_json::json!({
            "kind": "PodMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {
                "name": &*p.name,
                "namespace": &*p.namespace,
                "creationTimestamp": now,
                "labels": p.labels(),
            },
            "timestamp": self.store.time(u.timestamp),
            "window": window(u.window_ms),
            "containers": containers,
        }))
    }

    /// `metrics.k8s.io/v1beta1` NodeMetrics of a node.
    pub fn node_metrics_value(&self, node: ObjId) -> Option<serde_json::Value> {
        let u = self.node_usage(node)?;
        let n = self.store.nodes.get(node)?;
        let now = self.store.time(self.store.now);
        Some(serde_json::json!({
            "kind": "NodeMetrics",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {
                "name": n.node.metadata.name,
                "creationTimestamp": now,
                "labels": n.node.metadata.labels,
            },
            "timestamp": self.store.time(u.timestamp),
            "window": window(u.window_ms),
            "usage": {
                "cpu": cpu_quantity(u.cpu_nanocores),
                "memory": memory_quantity(u.memory_bytes),
            },
        }))
    }
}

#[cfg(test)]
mod quantity_tests {
    use super::*;

    #[test]
    fn quantities_print_as_metrics_server_prints_them() {
        assert_eq!(cpu_quantity(1_000_000), "1m");
        assert_eq!(cpu_quantity(2_000_000_000), "2");
        assert_eq!(cpu_quantity(123_456_789), "123456789n");
        assert_eq!(cpu_quantity(5_000), "5u");
        assert_eq!(memory_quantity(12 * 1024 * 1024), "12Mi");
        assert_eq!(memory_quantity(3 * 1024), "3Ki");
        assert_eq!(memory_quantity(1000), "1000");
    }
}
