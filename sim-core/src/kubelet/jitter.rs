//! The spread of a real node's latencies: how long this pod's image pull, container creation
//! and program start take, and when its probe workers tick.
//!
//! On a real cluster the pods of one batch never do anything at the same instant: pulls differ
//! by a few hundred milliseconds, the container runtime creates and starts each container in its
//! own time, and each prober worker ticks from the moment it was started
//! (`pkg/kubelet/prober/worker.go`), so pods become ready milliseconds apart and a
//! RollingUpdate moves one pod at a time. kubesim derives each of these latencies by hashing
//! the run's seed with the pod's namespace and name, the container, its restart count and what
//! the latency is for: nothing is drawn from the shared generator, so a pod's timings do not
//! change when another pod is added, and the same seed gives the same run.
//!
//! Spreads are symmetric around a declared mean (an image's `pullSeconds` and `startSeconds`
//! stay its means) or, for latencies nobody declares, small fixed ranges.

use super::probe::ProbeKind;
use crate::rng::mix64;
use crate::runtime::ImageBehavior;
use crate::sim::Sim;
use crate::store::ObjId;
use crate::time::{SimDuration, SimTime};

/// What a latency is for (part of the hash, so each is independent of the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum What {
    /// An image pull that downloads the layers (the node does not have the image).
    Pull = 1,
    /// A pull of an image the node has: the registry resolves the manifest, nothing is fetched.
    CachedPull = 2,
    /// `CreateContainer` plus `StartContainer` in the container runtime.
    CreateStart = 3,
    /// The program's own start, until it answers (an image's `startSeconds`).
    ProgramStart = 4,
    /// The kubelet's `HandlePodAdditions` after the bind: when the pod's probe workers start.
    WorkerStart = 5,
    /// A probe worker's random sleep when the kubelet has just started (`worker.run`).
    RestartSleep = 6,
}

/// How far a pull of layers may stray from the image's `pullSeconds` (±20 %).
pub(crate) const PULL_SPREAD: f64 = 0.2;
/// How far a cached pull may stray from its mean (±50 %: one registry round trip).
pub(crate) const CACHED_PULL_SPREAD: f64 = 0.5;
/// How far a program's start may stray from the image's `startSeconds` (±20 %).
pub(crate) const PROGRAM_START_SPREAD: f64 = 0.2;
/// Milliseconds the runtime takes to create and start a container (containerd and runc: a
/// few tens of milliseconds each, more on a busy node).
pub(crate) const CREATE_START_MS: (u64, u64) = (60, 300);
/// Milliseconds between the bind and the kubelet starting the pod's probe workers: the watch
/// delivers the pods of a batch one at a time, as the scheduler binds them.
pub(crate) const WORKER_START_MS: (u64, u64) = (0, 100);

/// The generic PLEG relists containers every second (`plegRelistPeriod`): the kubelet sees a
/// container running at the first relist after it started.
pub(crate) const PLEG_RELIST_MS: u64 = 1_000;
/// A pull of an image the node already has, on average: only the manifest is resolved.
pub(crate) const CACHED_PULL_MEAN: SimDuration = SimDuration(500);

/// A stable identity for one run of one container: the pod's namespace and name (not its
/// object id, which depends on how many objects came before), the container's index and its
/// restart count.
pub(crate) fn container_key(namespace: &str, name: &str, ci: usize, restarts: u32) -> u64 {
    let mut words = vec![namespace.len() as u64, name.len() as u64];
    for chunk in namespace
        .as_bytes()
        .chunks(8)
        .chain(name.as_bytes().chunks(8))
    {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        words.push(u64::from_le_bytes(b));
    }
    words.push(ci as u64);
    words.push(u64::from(restarts));
    mix64(&words)
}

/// A uniform number in `[0, 1)` for `key` and `what` in the run with `seed`.
pub(crate) fn unit(seed: u64, key: u64, what: What, salt: u64) -> f64 {
    let h = mix64(&[seed, key, what as u64, salt]);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// `mean` scaled by a factor uniform in `[1 - spread, 1 + spread]`: the mean stays `mean`.
pub(crate) fn around(mean: SimDuration, spread: f64, u: f64) -> SimDuration {
    let factor = 1.0 + spread * (2.0 * u - 1.0);
    SimDuration::from_secs_f64(mean.as_secs_f64() * factor)
}

/// A number of milliseconds uniform in `lo..=hi`.
pub(crate) fn between(lo: u64, hi: u64, u: f64) -> SimDuration {
    SimDuration(lo + ((hi - lo + 1) as f64 * u) as u64)
}

impl Sim {
    /// The hashing key of a container's current run (`None` for a pod that is gone).
    fn run_key(&self, pod: ObjId, ci: usize) -> Option<u64> {
        let p = self.store.pods.get(pod)?;
        let restarts = p.containers.get(ci).map_or(0, |c| c.restarts);
        Some(container_key(&p.namespace, &p.name, ci, restarts))
    }

    fn unit_for(&self, pod: ObjId, ci: usize, what: What, salt: u64) -> f64 {
        self.run_key(pod, ci)
            .map_or(0.5, |k| unit(self.config.seed, k, what, salt))
    }

    /// How long this container's pull takes: the image's `pullSeconds` (±20 %) when the node
    /// has to download it, a manifest check (0.25 to 0.75 s, never more than a full pull) when
    /// it already has the layers.
    pub(crate) fn pull_duration(
        &self,
        pod: ObjId,
        ci: usize,
        b: &ImageBehavior,
        present: bool,
    ) -> SimDuration {
        let full = SimDuration::from_secs_f64(b.pull_seconds);
        if present {
            let u = self.unit_for(pod, ci, What::CachedPull, 0);
            around(full.min(CACHED_PULL_MEAN), CACHED_PULL_SPREAD, u)
        } else {
            around(full, PULL_SPREAD, self.unit_for(pod, ci, What::Pull, 0))
        }
    }

    /// How long the runtime takes to create and start this container once its image is there.
    pub(crate) fn create_start_delay(&self, pod: ObjId, ci: usize) -> SimDuration {
        let (lo, hi) = CREATE_START_MS;
        between(lo, hi, self.unit_for(pod, ci, What::CreateStart, 0))
    }

    /// How long this run of the program takes to answer: the image's `startSeconds` (its
    /// mean), ±20 %.
    pub(crate) fn program_start_delay(
        &self,
        pod: ObjId,
        ci: usize,
        b: &ImageBehavior,
    ) -> SimDuration {
        let u = self.unit_for(pod, ci, What::ProgramStart, 0);
        around(b.start_delay(), PROGRAM_START_SPREAD, u)
    }

    /// When the kubelet sees a container that started at `start` running: the node's next PLEG
    /// relist. Each node relists on its own phase.
    pub(crate) fn pleg_seen(&self, pod: ObjId, start: SimTime) -> SimTime {
        let node = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.node)
            .and_then(|n| self.store.nodes.get(n));
        let Some(n) = node else { return start };
        let phase = mix64(&[self.config.seed, container_key("", &n.name, 0, 0)]) % PLEG_RELIST_MS;
        let wait = (phase + PLEG_RELIST_MS - start.millis() % PLEG_RELIST_MS) % PLEG_RELIST_MS;
        start + SimDuration(wait)
    }

    /// When the pod's probe worker of `kind` for container `ci` started its ticker
    /// (`worker.run`): the kubelet starts the workers as it admits the pod, a little after the
    /// bind; if the kubelet itself started less than a period earlier, each worker first sleeps
    /// a random part of the period so that a restarted kubelet does not probe everything at
    /// once. Probes then run every period from this instant, across container restarts.
    pub(crate) fn probe_phase(
        &self,
        pod: ObjId,
        ci: usize,
        kind: ProbeKind,
        period: SimDuration,
    ) -> SimTime {
        let Some(p) = self.store.pods.get(pod) else {
            return self.store.now;
        };
        // The workers belong to the pod, not to one run of its containers.
        let key = container_key(&p.namespace, &p.name, ci, 0);
        let admitted = p.start_time.unwrap_or(self.store.now);
        let (lo, hi) = WORKER_START_MS;
        let started = admitted + between(lo, hi, unit(self.config.seed, key, What::WorkerStart, 0));
        // A kubelet that came up during the run (not the nodes the run starts with, whose
        // kubelets have been running all along) is "recently started" for one period.
        let kubelet_start = p
            .node
            .and_then(|n| self.store.nodes.get(n))
            .filter(|n| n.ready && n.ready_changed > SimTime::ZERO)
            .map(|n| n.ready_changed);
        match kubelet_start {
            Some(k) if started.since(k) < period => {
                let u = unit(self.config.seed, key, What::RestartSleep, kind as u64);
                started + SimDuration((period.millis() as f64 * u) as u64)
            }
            _ => started,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_pod_gets_the_same_latency_and_others_differ() {
        let a = container_key("default", "web-7d9c-x2kqz", 0, 0);
        assert_eq!(a, container_key("default", "web-7d9c-x2kqz", 0, 0));
        assert_ne!(a, container_key("default", "web-7d9c-x2kqb", 0, 0));
        assert_ne!(a, container_key("default", "web-7d9c-x2kqz", 1, 0));
        assert_ne!(a, container_key("default", "web-7d9c-x2kqz", 0, 1));
        assert_ne!(a, container_key("defaul", "tweb-7d9c-x2kqz", 0, 0));
        assert_eq!(unit(4, a, What::Pull, 0), unit(4, a, What::Pull, 0));
        assert_ne!(unit(4, a, What::Pull, 0), unit(5, a, What::Pull, 0));
        assert_ne!(unit(4, a, What::Pull, 0), unit(4, a, What::CreateStart, 0));
    }

    #[test]
    fn spreads_keep_the_declared_mean() {
        // Over many pods the average pull is the image's pullSeconds, within a percent.
        let mean = SimDuration::from_secs(2);
        let n = 10_000u32;
        let total: u64 = (0..n)
            .map(|i| {
                let key = container_key("ns", &format!("pod-{i}"), 0, 0);
                around(mean, PULL_SPREAD, unit(1, key, What::Pull, 0)).millis()
            })
            .sum();
        let avg = total as f64 / f64::from(n);
        assert!((avg - 2000.0).abs() < 20.0, "{avg}");
        for u in [0.0, 0.5, 0.999_999] {
            let d = around(mean, PULL_SPREAD, u).millis();
            assert!((1600..=2400).contains(&d), "{d}");
            let c = between(CREATE_START_MS.0, CREATE_START_MS.1, u).millis();
            assert!((60..=300).contains(&c), "{c}");
        }
        assert_eq!(around(SimDuration::ZERO, 0.5, 0.9), SimDuration::ZERO);
    }
}
