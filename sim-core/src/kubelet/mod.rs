//! The kubelet, one per node: pull images, start containers, run probes, restart crashed
//! containers with back-off, stop pods gracefully. Follows `pkg/kubelet` (kuberuntime manager,
//! prober workers, `flowcontrol.Backoff`); see `probe.rs` for the probe timeline.

mod admission;
pub mod config;
mod jitter;
pub mod lease;
pub mod mounts;
pub mod probe;
pub mod process;
pub mod worker;

use std::sync::Arc;

use crate::sim::{Sim, Step, Timer};
use crate::store::pod::{Backoff, CState, Terminated, WaitReason};
use crate::store::{NewEvent, ObjId};
use crate::time::{SimDuration, SimTime};

/// Initial back-off (`backOffPeriod`).
pub const BACKOFF_INITIAL: SimDuration = SimDuration::from_secs(10);
/// Back-off cap (`MaxContainerBackOff`).
pub const BACKOFF_MAX: SimDuration = SimDuration::from_secs(300);

/// Period of the `BackOff` events while a container waits: the pod worker requeues a sync
/// that failed with back-off after `backOffPeriod` (10 s, before jitter), and each sync's
/// `doBackOff` records the event again.
pub const BACKOFF_EVENT_PERIOD: SimDuration = SimDuration::from_secs(10);
/// Lines a container's log keeps before the oldest half is rotated away.
pub const MAX_LOG_LINES: usize = 100_000;

/// `flowcontrol.Backoff.Next` at `now`: start at 10 s, or double (cap 300 s); an entry older
/// than twice the cap is treated as expired.
pub fn backoff_next(entry: Option<Backoff>, now: SimTime) -> Backoff {
    backoff_next_since(entry, now, now)
}

/// `flowcontrol.Backoff.Next(id, eventTime)` called at `now`: the expiry check compares
/// `eventTime` (the dead container's `FinishedAt`) with the entry's last update, which then
/// becomes `now` (`Clock.Now()`).
pub fn backoff_next_since(entry: Option<Backoff>, event_time: SimTime, now: SimTime) -> Backoff {
    match entry {
        Some(b) if event_time.since(b.last_update).millis() <= 2 * BACKOFF_MAX.millis() => {
            Backoff {
                delay_ms: (b.delay_ms * 2).min(BACKOFF_MAX.millis()),
                last_update: now,
            }
        }
        _ => Backoff {
            delay_ms: BACKOFF_INITIAL.millis(),
            last_update: now,
        },
    }
}

/// `IsInBackOffSince(eventTime)` evaluated at `now`.
pub fn in_backoff(entry: Option<Backoff>, event_time: SimTime, now: SimTime) -> bool {
    match entry {
        None => false,
        Some(b) => {
            if event_time.since(b.last_update).millis() > 2 * BACKOFF_MAX.millis() {
                return false;
            }
            now.since(event_time).millis() < b.delay_ms
        }
    }
}

impl Sim {
    pub(crate) fn kubelet_event(
        &mut self,
        pod: ObjId,
        warning: bool,
        reason: &'static str,
        message: String,
    ) {
        let Some(r) = self.pod_ref(pod) else { return };
        let host = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.node)
            .and_then(|n| self.store.nodes.get(n))
            .map(|n| n.name.clone());
        self.store.event(NewEvent {
            object: r,
            warning,
            reason,
            message,
            source: "kubelet",
            host,
        });
    }

    pub(crate) fn container_name(&self, pod: ObjId, ci: usize) -> String {
        self.store
            .pods
            .get(pod)
            .and_then(|p| {
                p.template
                    .spec
                    .as_ref()
                    .and_then(|s| s.containers.get(ci))
                    .map(|c| c.name.clone())
            })
            .unwrap_or_default()
    }

    fn container_image(&self, pod: ObjId, ci: usize) -> (String, String) {
        let c = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref()?.containers.get(ci));
        let image = c.and_then(|c| c.image.clone()).unwrap_or_default();
        let policy = c
            .and_then(|c| c.image_pull_policy.clone())
            .unwrap_or_else(|| {
                if image.ends_with(":latest")
                    || !image.rsplit('/').next().unwrap_or("").contains(':')
                {
                    "Always".into()
                } else {
                    "IfNotPresent".into()
                }
            });
        (image, policy)
    }

    fn bump(&mut self, pod: ObjId, ci: usize) -> u32 {
        self.store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
            .map_or(0, |c| {
                c.epoch += 1;
                c.epoch
            })
    }

    pub(crate) fn container_timer(&mut self, pod: ObjId, ci: usize, at: SimTime, step: Step) {
        let epoch = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.containers.get(ci))
            .map_or(0, |c| c.epoch);
        self.at(
            at,
            Timer::Container {
                pod,
                ci,
                epoch,
                step,
            },
        );
    }

    /// A pod was bound to this node: set up its sandbox and start pulling.
    pub(crate) fn kubelet_admit(&mut self, pod: ObjId) {
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        let Some(node) = p.node else { return };
        if !self.node_kubelet_up(Some(node)) {
            return;
        }
        let n = p.containers.len();
        let ip = self.store.nodes.get_mut(node).map(|n| {
            let base = u32::from(std::net::Ipv4Addr::new(10, 244, 0, 0)) + (n.cidr_index << 8);
            let ip = base + (n.next_pod_ip % 254).max(2);
            n.next_pod_ip += 1;
            ip
        });
        if let Some(p) = self.store.pods.get_mut(pod) {
            p.start_time = Some(self.store.now);
            p.ip = ip.unwrap_or(0);
        }
        self.write_pod(pod);
        // Containers start once the pod's ConfigMap and Secret volumes are mounted.
        if !self.mount_volumes(pod) {
            return;
        }
        for ci in 0..n {
            self.begin_pull(pod, ci);
        }
    }

    fn begin_pull(&mut self, pod: ObjId, ci: usize) {
        let (image, policy) = self.container_image(pod, ci);
        let behavior = self.runtime.lookup(&image);
        let node = self.store.pods.get(pod).and_then(|p| p.node);
        let present = node
            .and_then(|n| self.store.nodes.get(n))
            .is_some_and(|n| n.images.contains(&crate::runtime::normalize(&image)));
        if let Some(b) = &behavior
            && present
            && policy != "Always"
        {
            if let Some(c) = self
                .store
                .pods
                .get_mut(pod)
                .and_then(|p| p.containers.get_mut(ci))
            {
                c.behavior = Some(b.clone());
            }
            self.kubelet_event(
                pod,
                false,
                "Pulled",
                format!("Container image {image:?} already present on machine"),
            );
            let at = self.store.now + self.create_start_delay(pod, ci);
            self.container_timer(pod, ci, at, Step::Create);
            return;
        }
        self.kubelet_event(pod, false, "Pulling", format!("Pulling image {image:?}"));
        let now = self.store.now;
        let key = crate::runtime::normalize(&image);
        // Another pod's pull of the same image may be downloading the layers right now: this
        // one resolves the manifest and waits for that download.
        let in_flight = node
            .and_then(|n| self.store.nodes.get(n))
            .and_then(|n| n.pulls.get(&key).copied())
            .filter(|&done| done > now);
        let took = match &behavior {
            None => SimDuration::from_secs(1),
            Some(b) => {
                let own = self.pull_duration(pod, ci, b, present || in_flight.is_some());
                in_flight.map_or(own, |done| own.max(done.since(now)))
            }
        };
        if let Some(n) = node.and_then(|n| self.store.nodes.get_mut(n)) {
            n.pulls.retain(|_, done| *done > now);
            if behavior.is_some() && !present && in_flight.is_none() {
                n.pulls.insert(key, now + took);
            }
        }
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.pull_began = Some(now);
        }
        self.container_timer(pod, ci, now + took, Step::PullDone);
    }

    /// A restart: `EnsureImageExists` runs on every container start, so with `Always` the
    /// image is pulled again (quickly, the layers are present) before the container starts.
    fn restart_container(&mut self, pod: ObjId, ci: usize) {
        let (image, policy) = self.container_image(pod, ci);
        if policy == "Always" {
            self.begin_pull(pod, ci);
            return;
        }
        self.kubelet_event(
            pod,
            false,
            "Pulled",
            format!("Container image {image:?} already present on machine"),
        );
        let at = self.store.now + self.create_start_delay(pod, ci);
        self.container_timer(pod, ci, at, Step::Create);
    }

    /// Runs one container step, unless it is stale.
    pub(crate) fn container_step(&mut self, pod: ObjId, ci: usize, epoch: u32, step: Step) {
        if step == Step::OrphanedPodGc {
            // Not the kubelet's: the pod garbage collector, riding on a pod timer.
            self.orphaned_pod_gc(pod);
            return;
        }
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        let Some(c) = p.containers.get(ci) else {
            return;
        };
        if c.epoch != epoch || p.deletion.is_some() || !self.node_kubelet_up(p.node) {
            return;
        }
        // A retry after CreateContainerConfigError ensures the image again, as a restart does.
        let restarting = c.has_started()
            || matches!(
                c.state,
                CState::Waiting {
                    reason: WaitReason::CreateContainerConfigError,
                    ..
                }
            );
        match step {
            Step::PullDone => self.pull_done(pod, ci),
            Step::PullRetry => self.pull_retry(pod, ci),
            Step::Start if restarting => self.restart_container(pod, ci),
            Step::Start | Step::Create => self.start_container(pod, ci),
            Step::Ready => self.set_container_ready(pod, ci, true),
            Step::Started => self.container_step_started(pod, ci),
            Step::LivenessProbe => self.worker_probe_tick(pod, ci, probe::ProbeKind::Liveness),
            Step::StartupProbe => self.worker_probe_tick(pod, ci, probe::ProbeKind::Startup),
            Step::OrphanedPodGc => {}
            Step::ProbeKilled => {
                let code = c.kill_code.unwrap_or(137);
                self.container_stopped(pod, ci, code, "Error", true);
            }
            Step::NotReady => self.set_container_ready(pod, ci, false),
            Step::ReadinessProbe => self.readiness_tick(pod, ci),
            Step::Wake => self.process_wake(pod, ci),
            Step::Exit => {
                if let Some((code, reason)) = self.process_exit(pod, ci) {
                    self.container_exited(pod, ci, code, reason);
                    return;
                }
                if let Some((code, reason)) = self.worker_exit(pod, ci) {
                    self.container_exited(pod, ci, code, reason);
                    return;
                }
                let code = c.behavior.as_ref().map_or(1, |b| b.exit_code);
                let line = c.behavior.as_ref().and_then(|b| b.crash.clone());
                if let Some(line) = line {
                    self.container_log(pod, ci, &line);
                }
                self.container_exited(pod, ci, code, if code == 0 { "Completed" } else { "Error" });
            }
            Step::LivenessKill => self.probe_kill(pod, ci, probe::ProbeKind::Liveness),
            Step::StartupKill => self.probe_kill(pod, ci, probe::ProbeKind::Startup),
        }
    }

    /// The startup probe passed: readiness and liveness begin.
    pub(crate) fn container_step_started(&mut self, pod: ObjId, ci: usize) {
        if let Some(b) = self.behavior(pod, ci) {
            self.plan_started_probes(pod, ci, &b);
        }
        self.update_pod_ready(pod);
        self.write_pod(pod);
    }

    /// A liveness or startup probe reached its failure threshold (`computePodActions`): kill
    /// the container, and restart it unless the restart policy is Never.
    fn probe_kill(&mut self, pod: ObjId, ci: usize, kind: probe::ProbeKind) {
        let name = self.container_name(pod, ci);
        let spec = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref());
        let restart = spec.and_then(|s| s.restart_policy.as_deref()) != Some("Never");
        let what = match kind {
            probe::ProbeKind::Startup => "startup",
            _ => "liveness",
        };
        let tail = if restart { ", will be restarted" } else { "" };
        // The kubelet stops the container like any other: SIGTERM, then SIGKILL when
        // the grace period runs out; the restart follows in the same pod sync. The
        // probe's own terminationGracePeriodSeconds wins (`setTerminationGracePeriod`).
        let grace = spec
            .and_then(|s| {
                let c = s.containers.get(ci);
                let probe = match kind {
                    probe::ProbeKind::Startup => c.and_then(|c| c.startup_probe.as_ref()),
                    _ => c.and_then(|c| c.liveness_probe.as_ref()),
                };
                probe
                    .and_then(|p| p.termination_grace_period_seconds)
                    .or(s.termination_grace_period_seconds)
            })
            .unwrap_or(30)
            .max(0) as f64;
        self.kubelet_event(
            pod,
            false,
            "Killing",
            format!("Container {name} failed {what} probe{tail}"),
        );
        let stop = self.behavior(pod, ci).map_or(1.0, |b| b.stop_seconds);
        let code = if stop > grace { 137 } else { 143 };
        self.end_probe_series(pod, ci);
        self.bump(pod, ci);
        let at = self.store.now + SimDuration::from_secs_f64(stop.min(grace));
        self.pending_probe_kill_code(pod, ci, code);
        self.container_timer(pod, ci, at, Step::ProbeKilled);
    }

    fn pull_done(&mut self, pod: ObjId, ci: usize) {
        let (image, _) = self.container_image(pod, ci);
        match self.runtime.lookup(&image) {
            Some(b) => {
                let size = b.size_bytes;
                let mut pulled_new = false;
                if let Some(n) = self
                    .store
                    .pods
                    .get(pod)
                    .and_then(|p| p.node)
                    .and_then(|n| self.store.nodes.get_mut(n))
                {
                    pulled_new = n.images.insert(crate::runtime::normalize(&image));
                }
                if pulled_new {
                    self.sched_image_pulled(&crate::runtime::normalize(&image));
                }
                let now = self.store.now;
                let mut secs = SimDuration::ZERO;
                if let Some(c) = self
                    .store
                    .pods
                    .get_mut(pod)
                    .and_then(|p| p.containers.get_mut(ci))
                {
                    secs = now.since(c.pull_began.take().unwrap_or(now));
                    c.behavior = Some(b);
                    c.pull_backoff = None;
                }
                self.kubelet_event(
                    pod,
                    false,
                    "Pulled",
                    format!("Successfully pulled image {image:?} in {secs} ({secs} including waiting). Image size: {size} bytes."),
                );
                let at = self.store.now + self.create_start_delay(pod, ci);
                self.container_timer(pod, ci, at, Step::Create);
            }
            None => {
                let now = self.store.now;
                let msg = format!(
                    "rpc error: code = NotFound desc = failed to pull and unpack image {image:?}: failed to resolve reference {image:?}: {image}: not found"
                );
                if let Some(c) = self
                    .store
                    .pods
                    .get_mut(pod)
                    .and_then(|p| p.containers.get_mut(ci))
                {
                    c.state = CState::Waiting {
                        reason: WaitReason::ErrImagePull,
                        message: Some(msg.clone().into_boxed_str()),
                    };
                    c.pull_backoff = Some(backoff_next(c.pull_backoff, now));
                }
                self.kubelet_event(
                    pod,
                    true,
                    "Failed",
                    // The registry is kubesim's: its answer says where its images are listed.
                    format!(
                        "Failed to pull image {image:?}: {msg}. kubesim's registry has the images `kubesim images` lists (and {})",
                        crate::images::CATALOG_PAGE
                    ),
                );
                self.kubelet_event(pod, true, "Failed", "Error: ErrImagePull".into());
                self.write_pod(pod);
                // The next pod sync (about a second later) finds the pull in back-off.
                self.container_timer(pod, ci, now + SimDuration::from_secs(1), Step::PullRetry);
            }
        }
    }

    fn pull_retry(&mut self, pod: ObjId, ci: usize) {
        let Some(c) = self.store.pods.get(pod).and_then(|p| p.containers.get(ci)) else {
            return;
        };
        let (image, _) = self.container_image(pod, ci);
        match c.state {
            CState::Waiting {
                reason: WaitReason::ErrImagePull,
                ..
            } => {
                let delay = c
                    .pull_backoff
                    .map_or(BACKOFF_INITIAL.millis(), |b| b.delay_ms);
                let last = c.pull_backoff.map_or(self.store.now, |b| b.last_update);
                let msg = format!("Back-off pulling image {image:?}");
                if let Some(c) = self
                    .store
                    .pods
                    .get_mut(pod)
                    .and_then(|p| p.containers.get_mut(ci))
                {
                    c.state = CState::Waiting {
                        reason: WaitReason::ImagePullBackOff,
                        message: Some(msg.clone().into_boxed_str()),
                    };
                }
                self.kubelet_event(pod, false, "BackOff", msg);
                self.kubelet_event(pod, true, "Failed", "Error: ImagePullBackOff".into());
                self.write_pod(pod);
                self.container_timer(pod, ci, last + SimDuration(delay), Step::PullRetry);
            }
            _ => self.begin_pull(pod, ci),
        }
    }

    pub(crate) fn container_log(&mut self, pod: ObjId, ci: usize, line: &str) {
        let now = self.store.now;
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            // The kubelet rotates a container's log (`containerLogMaxSize`); `kubectl logs`
            // reads the newest file: the oldest half goes when the log reaches its cap.
            if c.logs.len() >= MAX_LOG_LINES {
                c.logs.drain(..MAX_LOG_LINES / 2);
            }
            c.logs.push((now, line.into()));
        }
    }

    fn start_container(&mut self, pod: ObjId, ci: usize) {
        if let Some(why) = self.container_config_error(pod, ci) {
            self.container_config_failed(pod, ci, why);
            return;
        }
        let now = self.store.now;
        let name = self.container_name(pod, ci);
        let Some(p) = self.store.pods.get_mut(pod) else {
            return;
        };
        let Some(c) = p.containers.get_mut(ci) else {
            return;
        };
        let restarting = c.has_started();
        if matches!(
            c.state,
            CState::Waiting {
                reason: WaitReason::CrashLoopBackOff,
                ..
            }
        ) {
            // doBackOff's `Next(key, FinishedAt)` at the sync that restarts it.
            let finished = c.last.as_ref().map_or(now, |l| l.finished);
            c.backoff = Some(backoff_next_since(c.backoff, finished, now));
        }
        // The BackOff events stop with the wait (their series ends at the last sync before).
        let backoff_series = c.backoff_event.as_ref().map(|&(seq, _)| seq);
        if restarting {
            if let CState::Terminated(t) = &c.state {
                c.last = Some(t.clone());
            }
            c.restarts += 1;
            c.previous_logs = std::mem::take(&mut c.logs);
        }
        c.state = CState::Running { started: now };
        c.ready = false;
        c.started = false;
        c.epoch += 1;
        c.probe_counts = (0, 0);
        c.process = None;
        c.process_exit = None;
        let behavior = c.behavior.clone();
        p.recompute_phase();
        if let Some(seq) = backoff_series {
            self.store
                .events
                .end_series(seq, SimTime(now.millis().saturating_sub(1)));
        }
        self.remember_env(pod, ci);
        self.kubelet_event(pod, false, "Created", format!("Created container: {name}"));
        self.kubelet_event(pod, false, "Started", format!("Started container {name}"));
        let Some(b) = behavior else { return };
        if let Some(argv) = self.process_argv(pod, ci, &b) {
            self.plan_probes(pod, ci, &b);
            self.update_pod_ready(pod);
            self.write_pod(pod);
            self.start_process(pod, ci, argv);
            return;
        }
        if self.start_worker(pod, ci) {
            self.plan_probes(pod, ci, &b);
            self.update_pod_ready(pod);
            self.write_pod(pod);
            return;
        }
        for line in &b.logs {
            self.container_log(pod, ci, line);
        }
        if b.crash.is_some() {
            let at = now + SimDuration::from_secs_f64(b.crash_after_seconds);
            self.container_timer(pod, ci, at, Step::Exit);
        }
        self.plan_probes(pod, ci, &b);
        self.update_pod_ready(pod);
        self.write_pod(pod);
    }

    /// A container stopped by itself or was killed: restart it under the restart policy,
    /// after the back-off if it crashed recently.
    pub(crate) fn container_exited(
        &mut self,
        pod: ObjId,
        ci: usize,
        exit_code: i32,
        reason: &'static str,
    ) {
        self.container_stopped(pod, ci, exit_code, reason, false);
    }

    fn pending_probe_kill_code(&mut self, pod: ObjId, ci: usize, code: i32) {
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.kill_code = Some(code);
        }
    }

    /// A container stopped. After a probe kill the kubelet's back-off looks at the previous
    /// dead instance (`doBackOff` finds the last *exited* status from before the kill), so the
    /// first probe restart is immediate and creates no back-off entry.
    fn container_stopped(
        &mut self,
        pod: ObjId,
        ci: usize,
        exit_code: i32,
        reason: &'static str,
        probe_kill: bool,
    ) {
        let now = self.store.now;
        self.end_probe_series(pod, ci);
        self.bump(pod, ci);
        let name = self.container_name(pod, ci);
        let Some(p) = self.store.pods.get_mut(pod) else {
            return;
        };
        let policy = p
            .template
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.clone())
            .unwrap_or_else(|| "Always".into());
        let pod_name = p.name.clone();
        let ns = p.namespace.clone();
        let Some(c) = p.containers.get_mut(ci) else {
            return;
        };
        let started = match c.state {
            CState::Running { started } => started,
            _ => now,
        };
        c.state = CState::Terminated(Terminated {
            exit_code,
            reason,
            started,
            finished: now,
        });
        c.ready = false;
        let restart = policy == "Always" || (policy == "OnFailure" && exit_code != 0);
        let mut wait = None;
        let reference = if probe_kill {
            c.last.as_ref().map(|l| l.finished)
        } else {
            Some(now)
        };
        if restart && let Some(reference) = reference {
            if in_backoff(c.backoff, reference, now) {
                let delay = c.backoff.map_or(0, |b| b.delay_ms);
                wait = Some(SimDuration(
                    (reference.millis() + delay).saturating_sub(now.millis()),
                ));
            } else {
                c.backoff = Some(backoff_next_since(c.backoff, reference, now));
            }
        }
        p.recompute_phase();
        self.update_pod_ready(pod);
        if !restart {
            self.write_pod(pod);
            return;
        }
        match wait {
            None => {
                // The status manager posts the terminated run (Ready false) before the
                // restart: the ReplicaSet and the Service's endpoints see it at once.
                self.write_pod(pod);
                self.restart_container(pod, ci);
            }
            Some(delay) => {
                let uid = self.store.uid(pod);
                let msg = format!(
                    "back-off {delay} restarting failed container={name} pod={pod_name}_{ns}({uid})"
                );
                if let Some(c) = self
                    .store
                    .pods
                    .get_mut(pod)
                    .and_then(|p| p.containers.get_mut(ci))
                {
                    c.state = CState::Waiting {
                        reason: WaitReason::CrashLoopBackOff,
                        message: Some(msg.into_boxed_str()),
                    };
                    // Keep the finished run visible as lastState.
                    c.last = Some(Terminated {
                        exit_code,
                        reason,
                        started,
                        finished: now,
                    });
                }
                let message = format!(
                    "Back-off restarting failed container {name} in pod {pod_name}_{ns}({uid})"
                );
                self.backoff_events(pod, ci, now, delay, message);
                self.write_pod(pod);
                self.container_timer(pod, ci, now + delay, Step::Start);
            }
        }
    }

    /// Sets a container's readiness and recomputes the pod's.
    pub(crate) fn set_container_ready(&mut self, pod: ObjId, ci: usize, ready: bool) {
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            if c.ready == ready {
                return;
            }
            c.ready = ready;
        }
        self.update_pod_ready(pod);
        self.write_pod(pod);
    }

    fn update_pod_ready(&mut self, pod: ObjId) {
        let now = self.store.now;
        let Some(p) = self.store.pods.get_mut(pod) else {
            return;
        };
        let containers_ready = !p.containers.is_empty() && p.containers.iter().all(|c| c.ready);
        let was_containers_ready = p.ready || (p.node_lost && containers_ready);
        let ready = !p.node_lost && containers_ready;
        if ready != p.ready {
            p.ready = ready;
            p.ready_changed = now;
        }
        if containers_ready != was_containers_ready {
            p.containers_ready_changed = now;
        }
        // Some callers change readiness without a pod write (a container restarted at
        // once); the ReplicaSet's counts follow the pod all the same.
        self.store.count_pod(pod);
    }

    /// The `BackOff` events of one wait, as a standing series: one at the crash, then one
    /// per pod-worker resync every 10 s until the restart. client-go's correlator folds them
    /// all, over every wait, into one event whose count keeps growing; so the series of this
    /// wait replaces the previous one, its first occurrence set back by the earlier count
    /// (count and last occurrence exact; `firstTimestamp` leaves out the time spent running).
    fn backoff_events(
        &mut self,
        pod: ObjId,
        ci: usize,
        now: SimTime,
        delay: SimDuration,
        message: String,
    ) {
        let Some(object) = self.pod_ref(pod) else {
            return;
        };
        let host = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.node)
            .and_then(|n| self.store.nodes.get(n))
            .map(|n| n.name.clone());
        let previous = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.containers.get(ci))
            .and_then(|c| c.backoff_event);
        let earlier = match previous {
            Some((seq, count)) => {
                // Hide the previous wait's record; its occurrences carry over in the count.
                self.store.events.end_series(seq, SimTime(0));
                count
            }
            None => 0,
        };
        let period = BACKOFF_EVENT_PERIOD.millis();
        let first = SimTime(now.millis().saturating_sub(period * u64::from(earlier)));
        let seq = self.store.events.record_series(
            first,
            BACKOFF_EVENT_PERIOD,
            None,
            NewEvent {
                object,
                warning: true,
                reason: "BackOff",
                message,
                source: "kubelet",
                host,
            },
        );
        // Occurrences of this wait: at now, now + 10 s, … before the restart.
        let this_wait = delay.millis().div_ceil(period).max(1) as u32;
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.backoff_event = Some((seq, earlier + this_wait));
            c.series.push(seq);
        }
    }

    /// The pod is being deleted: stop its containers (SIGTERM, then the grace period).
    pub(crate) fn kubelet_terminate(&mut self, pod: ObjId, grace: i64) {
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        let node_up = self.node_kubelet_up(p.node);
        let n = p.containers.len();
        let mut longest = SimDuration::ZERO;
        for ci in 0..n {
            self.end_probe_series(pod, ci);
            self.bump(pod, ci);
            let Some(c) = self.store.pods.get(pod).and_then(|p| p.containers.get(ci)) else {
                continue;
            };
            if matches!(c.state, CState::Running { .. }) {
                let stop = c
                    .behavior
                    .as_ref()
                    .map_or(1.0, |b| b.stop_seconds)
                    .min(grace as f64);
                longest = longest.max(SimDuration::from_secs_f64(stop));
                let name = self.container_name(pod, ci);
                if node_up {
                    self.kubelet_event(pod, false, "Killing", format!("Stopping container {name}"));
                }
            }
        }
        if node_up {
            self.after(longest, Timer::PodStopped { pod });
        }
    }

    /// Graceful termination finished.
    pub(crate) fn pod_stopped(&mut self, pod: ObjId) {
        if self
            .store
            .pods
            .get(pod)
            .is_some_and(|p| p.deletion.is_some())
            && self.node_kubelet_up(self.store.pods.get(pod).and_then(|p| p.node))
        {
            self.remove_pod(pod);
        }
    }

    /// The image behaviour of a running container.
    pub(crate) fn behavior(
        &self,
        pod: ObjId,
        ci: usize,
    ) -> Option<Arc<crate::runtime::ImageBehavior>> {
        self.store
            .pods
            .get(pod)?
            .containers
            .get(ci)?
            .behavior
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_loop_gaps_are_0_10_20_40_then_capped() {
        // Ported from the kubelet's doBackOff behaviour (client-go flowcontrol.Backoff).
        let mut entry = None;
        let mut t = SimTime(0);
        let mut gaps = Vec::new();
        for _ in 0..9 {
            // The container ran 1 s and exited at t.
            t = t + SimDuration::from_secs(1);
            let gap = if in_backoff(entry, t, t) {
                SimDuration(entry.map_or(0, |b: Backoff| b.delay_ms))
            } else {
                SimDuration::ZERO
            };
            t = t + gap;
            entry = Some(backoff_next(entry, t));
            gaps.push(gap.millis() / 1000);
        }
        assert_eq!(gaps, [0, 10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn backoff_resets_after_ten_quiet_minutes() {
        let e = Some(Backoff {
            delay_ms: 80_000,
            last_update: SimTime(0),
        });
        assert!(in_backoff(e, SimTime(600_000), SimTime(600_000)));
        assert!(!in_backoff(e, SimTime(600_001), SimTime(600_001)));
        assert_eq!(backoff_next(e, SimTime(700_000)).delay_ms, 10_000);
        assert_eq!(backoff_next(e, SimTime(100_000)).delay_ms, 160_000);
        // Next(id, FinishedAt): the expiry is judged on the finish time, not on when the
        // restart sync runs; last_update becomes the sync time.
        let n = backoff_next_since(e, SimTime(590_000), SimTime(610_000));
        assert_eq!((n.delay_ms, n.last_update), (160_000, SimTime(610_000)));
    }
}
