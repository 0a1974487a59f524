//! Probes. A probe runs at `start + initialDelaySeconds + k × periodSeconds`; its result
//! flips readiness after `successThreshold` successes or `failureThreshold` failures in a row
//! (`pkg/kubelet/prober/worker.go`). Failed probes are `Unhealthy` events.
//!
//! When a probe's outcome is a function of time (the image starts serving after N seconds,
//! never, or breaks after N seconds) nothing needs to run every period: the moment readiness
//! flips is computed and only that is scheduled, and the failed probes are recorded as one
//! standing event series whose count follows from time. With 150,000 pods probed every 10 s
//! this is the difference between 15,000 events per virtual second and none.
//! [`crate::ProbeMode::EveryTick`] runs every period instead; both give the same run.

use k8s_openapi::api::core::v1::Probe;

use crate::runtime::{ImageBehavior, Readiness};
use crate::sim::{ProbeMode, Sim, Step};
use crate::store::pod::ip_string;
use crate::store::{NewEvent, ObjId};
use crate::time::{SimDuration, SimTime};

/// The probe's timing parameters, defaulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeTiming {
    /// First probe after start.
    pub initial: SimDuration,
    /// Between probes.
    pub period: SimDuration,
    /// Successes in a row to pass.
    pub success: u32,
    /// Failures in a row to fail.
    pub failure: u32,
}

impl ProbeTiming {
    /// From a probe spec (defaults: period 10 s, thresholds 1 and 3).
    pub fn of(p: &Probe) -> ProbeTiming {
        ProbeTiming {
            initial: SimDuration::from_secs(p.initial_delay_seconds.unwrap_or(0).max(0) as u64),
            period: SimDuration::from_secs(p.period_seconds.unwrap_or(10).max(1) as u64),
            success: p.success_threshold.unwrap_or(1).max(1) as u32,
            failure: p.failure_threshold.unwrap_or(3).max(1) as u32,
        }
    }

    /// Time of probe `k` for a container started at `start`, with the ticker started then
    /// too: ticks younger than initialDelaySeconds are skipped, so the first real probe is at
    /// the first multiple of the period at or after the delay.
    pub fn tick(&self, start: SimTime, k: u64) -> SimTime {
        self.ticks(start, start).tick(k)
    }

    /// The first probe index at or after `t`.
    pub fn first_tick_at_or_after(&self, start: SimTime, t: SimTime) -> u64 {
        self.ticks(start, start).first_at_or_after(t)
    }

    /// The real probes of a ticker anchored at `anchor` for a container started at `start`,
    /// from `anchor` on: ticks younger than initialDelaySeconds (counted from the container's
    /// start) are skipped.
    pub fn ticks(&self, anchor: SimTime, start: SimTime) -> Ticks {
        self.ticks_from(anchor, anchor, start)
    }

    /// The real probes of a worker whose ticker started at `phase` (`worker.run`: one tick
    /// every period from then on, whatever the container does), for a container that started
    /// at `start` and that the kubelet saw running at `seen`. A tick before `seen` finds no
    /// running container in the status manager and does nothing; one younger than
    /// initialDelaySeconds is skipped (`doProbe`).
    ///
    /// For example, period 5 s, a worker started at 10.040 s, a container started at
    /// 12.300 s and seen at 12.700 s, no initial delay: the probes are at 15.040, 20.040, ….
    pub fn ticks_from(&self, phase: SimTime, seen: SimTime, start: SimTime) -> Ticks {
        let period = self.period.millis();
        let from = seen.max(start + self.initial);
        let k0 = from
            .millis()
            .saturating_sub(phase.millis())
            .div_ceil(period);
        Ticks {
            lead: None,
            first: phase + SimDuration(period * k0),
            period: self.period,
        }
    }

    /// The next tick of a worker whose ticker started at `phase`, strictly after `now`.
    pub fn next_tick(&self, phase: SimTime, now: SimTime) -> SimTime {
        let period = self.period.millis();
        if now < phase {
            return phase;
        }
        phase + SimDuration(period * ((now.millis() - phase.millis()) / period + 1))
    }
}

/// The probes a worker actually runs: perhaps one triggered out of turn (`lead`), then
/// `first + k × period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticks {
    /// A probe the kubelet triggered before the ticker's first real tick
    /// (`manualTriggerCh`: it asks for a readiness result as soon as it sees the container
    /// running).
    pub lead: Option<SimTime>,
    /// The first real probe on the ticker.
    pub first: SimTime,
    /// Between probes.
    pub period: SimDuration,
}

impl Ticks {
    /// The same ticks with a probe triggered at `at` first, if that is before the ticker's
    /// first one.
    pub fn with_lead(self, at: SimTime) -> Ticks {
        Ticks {
            lead: (at < self.first).then_some(at),
            ..self
        }
    }

    /// Time of probe `k`.
    pub fn tick(&self, k: u64) -> SimTime {
        match (self.lead, k) {
            (Some(at), 0) => at,
            (Some(_), k) => self.first + SimDuration(self.period.millis() * (k - 1)),
            (None, k) => self.first + SimDuration(self.period.millis() * k),
        }
    }

    /// The first probe index at or after `t`.
    pub fn first_at_or_after(&self, t: SimTime) -> u64 {
        let skip = match self.lead {
            Some(at) if t <= at => return 0,
            Some(_) => 1,
            None => 0,
        };
        if t <= self.first {
            return skip;
        }
        skip + (t.millis() - self.first.millis()).div_ceil(self.period.millis())
    }
}

/// Which probe (`worker.go` probeType), for event texts and kill messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// `readinessProbe`.
    Readiness = 0,
    /// `livenessProbe`.
    Liveness = 1,
    /// `startupProbe`.
    Startup = 2,
}

impl ProbeKind {
    /// As the kubelet names it in events (`Liveness probe failed: …`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Startup => "Startup",
        }
    }
}

/// Why a probe fails at relative time `r` after start, or `None` if it passes (for outcomes
/// that do not depend on chance).
/// `listen` is this run's start delay (the image's `startSeconds`, spread).
fn failure_kind(
    b: &ImageBehavior,
    r: SimDuration,
    listen: SimDuration,
    readiness: bool,
) -> Option<bool> {
    // Some(true) = connection refused (not listening yet), Some(false) = answers with an error.
    if r < listen {
        return Some(true);
    }
    if let Some(x) = b.liveness_fail_after_seconds
        && r >= SimDuration::from_secs_f64(x)
    {
        return Some(false);
    }
    if readiness {
        match b.ready {
            Readiness::Never => return Some(false),
            Readiness::AfterSeconds(s) if r < SimDuration::from_secs_f64(s) => return Some(false),
            _ => {}
        }
    }
    None
}

impl Sim {
    pub(crate) fn probe_message(
        &self,
        pod: ObjId,
        probe: &Probe,
        what: &str,
        refused: bool,
    ) -> String {
        let ip = self
            .store
            .pods
            .get(pod)
            .map_or_else(String::new, |p| ip_string(p.ip));
        if let Some(h) = &probe.http_get {
            let port = match &h.port {
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
            };
            let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_lowercase();
            let path = h.path.as_deref().unwrap_or("/");
            if refused {
                format!(
                    "{what} probe failed: Get \"{scheme}://{ip}:{port}{path}\": dial tcp {ip}:{port}: connect: connection refused"
                )
            } else {
                format!("{what} probe failed: HTTP probe failed with statuscode: 503")
            }
        } else if let Some(t) = &probe.tcp_socket {
            let port = match &t.port {
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
            };
            format!("{what} probe failed: dial tcp {ip}:{port}: connect: connection refused")
        } else {
            // exec.go: the event carries the command's combined output. For the classic
            // `cat /tmp/healthy` check on busybox that is cat's complaint; for anything else we
            // cannot know the output, and an empty one reads `… probe failed: `.
            let cmd = probe
                .exec
                .as_ref()
                .and_then(|e| e.command.clone())
                .unwrap_or_default();
            match cmd.as_slice() {
                [cat, path] if cat == "cat" => format!(
                    "{what} probe failed: cat: can't open '{path}': No such file or directory"
                ),
                _ => format!("{what} probe failed: "),
            }
        }
    }

    pub(crate) fn probe_event(&self, pod: ObjId, message: String) -> Option<NewEvent> {
        let object = self.pod_ref(pod)?;
        let host = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.node)
            .and_then(|n| self.store.nodes.get(n))
            .map(|n| n.name.clone());
        Some(NewEvent {
            object,
            warning: true,
            reason: "Unhealthy",
            message,
            source: "kubelet",
            host,
        })
    }

    fn add_series(
        &mut self,
        pod: ObjId,
        ci: usize,
        first: SimTime,
        period: SimDuration,
        until: Option<SimTime>,
        message: String,
    ) {
        let Some(ev) = self.probe_event(pod, message) else {
            return;
        };
        let seq = self.store.events.record_series(first, period, until, ev);
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.series.push(seq);
        }
    }

    /// Ends every open probe series of a container at now (it stopped).
    pub(crate) fn end_probe_series(&mut self, pod: ObjId, ci: usize) {
        let now = self.store.now;
        let open = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
            .map(|c| std::mem::take(&mut c.series));
        for seq in open.into_iter().flatten() {
            self.store.events.end_series(seq, now);
        }
    }

    /// Plans the probes of a container that has just started: the startup probe first when
    /// there is one (`worker.go` disables the other probes until the container has started),
    /// otherwise readiness and liveness at once.
    pub(crate) fn plan_probes(&mut self, pod: ObjId, ci: usize, b: &ImageBehavior) {
        let Some(spec) = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref())
            .and_then(|s| s.containers.get(ci))
            .cloned()
        else {
            return;
        };
        match &spec.startup_probe {
            Some(probe) => self.plan_startup(pod, ci, b, probe),
            None => self.plan_started_probes(pod, ci, b),
        }
    }

    /// The container has started (no startup probe, or it passed now): `started` turns true and
    /// readiness and liveness begin, on their workers' tickers. The kubelet also asks for a
    /// readiness result as soon as it sees the container running, or started
    /// (`prober_manager.UpdatePodStatus` triggers the worker out of turn while readiness is not
    /// yet Success). Only a trigger that passes is modelled: one that fails changes nothing
    /// (readiness starts as Failure), so its single `Unhealthy` occurrence is left out.
    pub(crate) fn plan_started_probes(&mut self, pod: ObjId, ci: usize, b: &ImageBehavior) {
        let now = self.store.now;
        let Some(spec) = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref())
            .and_then(|s| s.containers.get(ci))
            .cloned()
        else {
            return;
        };
        let Some(start) = self.running_since(pod, ci) else {
            return;
        };
        // Without a startup probe this runs as the container starts, and the kubelet sees it
        // at its next relist; after a startup probe passed, the kubelet has seen it all along.
        let seen = if spec.startup_probe.is_some() {
            now
        } else {
            self.pleg_seen(pod, start)
        };
        let listen = self.program_start_delay(pod, ci, b);
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.started = true;
        }
        match &spec.readiness_probe {
            None => {
                if let Some(c) = self
                    .store
                    .pods
                    .get_mut(pod)
                    .and_then(|p| p.containers.get_mut(ci))
                {
                    c.ready = true;
                }
            }
            Some(probe) => {
                let timing = ProbeTiming::of(probe);
                let phase = self.probe_phase(pod, ci, ProbeKind::Readiness, timing.period);
                let mut ticks = timing.ticks_from(phase, seen, start);
                let chance = matches!(b.ready, Readiness::Probability(_));
                let worker = self.runs_worker(pod, ci);
                // The trigger as the kubelet sees the container: a worker program is asked for
                // real (a failure is then dropped); declared behaviour says whether it passes.
                let trigger_passes = worker
                    || (!chance && failure_kind(b, seen.since(start), listen, true).is_none());
                if seen >= start + timing.initial && trigger_passes {
                    ticks = ticks.with_lead(seen);
                }
                if chance
                    || self.config.probe_mode == ProbeMode::EveryTick
                    || self.runs_worker(pod, ci)
                {
                    self.container_timer(pod, ci, ticks.tick(0), Step::ReadinessProbe);
                } else {
                    let run = (timing, ticks, start, listen);
                    self.plan_standing_readiness(pod, ci, b, probe, run);
                }
            }
        }
        if let Some(probe) = &spec.liveness_probe {
            let timing = ProbeTiming::of(probe);
            let phase = self.probe_phase(pod, ci, ProbeKind::Liveness, timing.period);
            let ticks = timing.ticks_from(phase, seen, start);
            if self.runs_worker(pod, ci) {
                self.container_timer(pod, ci, ticks.tick(0), Step::LivenessProbe);
            } else {
                self.plan_liveness(pod, ci, b, probe, ProbeKind::Liveness, ticks, start, listen);
            }
        }
    }

    fn running_since(&self, pod: ObjId, ci: usize) -> Option<SimTime> {
        match self.store.pods.get(pod)?.containers.get(ci)?.state {
            crate::store::pod::CState::Running { started } => Some(started),
            _ => None,
        }
    }

    /// The startup probe: like liveness it fails ("connection refused") until the program
    /// listens, and kills the container at the failure threshold; the first passing probe
    /// marks the container started.
    fn plan_startup(&mut self, pod: ObjId, ci: usize, b: &ImageBehavior, probe: &Probe) {
        let start = self.store.now;
        let t = ProbeTiming::of(probe);
        let phase = self.probe_phase(pod, ci, ProbeKind::Startup, t.period);
        let ticks = t.ticks_from(phase, self.pleg_seen(pod, start), start);
        if self.runs_worker(pod, ci) {
            self.container_timer(pod, ci, ticks.tick(0), Step::StartupProbe);
            return;
        }
        let listen = self.program_start_delay(pod, ci, b);
        let killed =
            self.plan_liveness(pod, ci, b, probe, ProbeKind::Startup, ticks, start, listen);
        if killed.is_some() {
            return;
        }
        // Not killed: the program listens (and answers) before the threshold; the probe passes
        // at the first tick after that (successThreshold is always 1 for startup probes).
        let listening = start + listen;
        let ok = ticks.tick(ticks.first_at_or_after(listening));
        self.container_timer(pod, ci, ok, Step::Started);
    }

    /// Readiness as a function of time: the moment it flips and its failed probes as standing
    /// series. `run` is the probe's timing, its ticks, the container's start and this run's
    /// start delay.
    fn plan_standing_readiness(
        &mut self,
        pod: ObjId,
        ci: usize,
        b: &ImageBehavior,
        probe: &Probe,
        run: (ProbeTiming, Ticks, SimTime, SimDuration),
    ) {
        let (t, ticks, start, listen) = run;
        let rel = |s: f64| start + SimDuration::from_secs_f64(s);
        let listening = start + listen;
        let ok_from = match b.ready {
            Readiness::Never => None,
            Readiness::AfterSeconds(s) => Some(listening.max(rel(s))),
            _ => Some(listening),
        };
        let bad_from = b.liveness_fail_after_seconds.map(rel);
        // Ready at the success-threshold-th passing probe, if that happens before it breaks.
        let ready_at = ok_from.and_then(|ok| {
            let k0 = ticks.first_at_or_after(ok);
            let at = ticks.tick(k0 + u64::from(t.success) - 1);
            match bad_from {
                Some(bad) if at >= bad => None,
                _ => Some((k0, at)),
            }
        });
        // Failed probes before that: "connection refused" until listening, then 503.
        let first_ok_tick = ready_at.map(|(k0, _)| k0);
        let refused_end = ticks.first_at_or_after(listening);
        let refused_until = first_ok_tick.map_or(refused_end, |k| k.min(refused_end));
        if refused_until > 0 {
            let msg = self.probe_message(pod, probe, "Readiness", true);
            self.add_series(
                pod,
                ci,
                ticks.tick(0),
                t.period,
                Some(ticks.tick(refused_until - 1)),
                msg,
            );
        }
        let serves_error_until = match (first_ok_tick, bad_from) {
            (Some(k), _) => Some(k),
            (None, _) => None,
        };
        if serves_error_until.is_none_or(|k| k > refused_until) {
            let msg = self.probe_message(pod, probe, "Readiness", false);
            let until = serves_error_until.map(|k| ticks.tick(k - 1));
            self.add_series(pod, ci, ticks.tick(refused_until), t.period, until, msg);
        }
        if let Some((_, at)) = ready_at {
            self.container_timer(pod, ci, at, Step::Ready);
            if let Some(bad) = bad_from {
                let kb = ticks.first_at_or_after(bad);
                let unready = ticks.tick(kb + u64::from(t.failure) - 1);
                let msg = self.probe_message(pod, probe, "Readiness", false);
                self.add_series(pod, ci, ticks.tick(kb), t.period, None, msg);
                self.container_timer(pod, ci, unready, Step::NotReady);
            }
        }
    }

    /// One readiness probe period (every-tick mode, or an outcome left to chance).
    pub(crate) fn readiness_tick(&mut self, pod: ObjId, ci: usize) {
        if self.runs_worker(pod, ci) {
            self.worker_probe_tick(pod, ci, ProbeKind::Readiness);
            return;
        }
        let now = self.store.now;
        let Some(b) = self.behavior(pod, ci) else {
            return;
        };
        let Some(probe) = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref())
            .and_then(|s| s.containers.get(ci))
            .and_then(|c| c.readiness_probe.clone())
        else {
            return;
        };
        let t = ProbeTiming::of(&probe);
        let Some(c) = self.store.pods.get(pod).and_then(|p| p.containers.get(ci)) else {
            return;
        };
        let crate::store::pod::CState::Running { started } = c.state else {
            return;
        };
        let r = now.since(started);
        let listen = self.program_start_delay(pod, ci, &b);
        let failure = match failure_kind(&b, r, listen, true) {
            Some(k) => Some(k),
            None => match b.ready {
                Readiness::Probability(p) => (!self.rng.chance(p)).then_some(false),
                _ => None,
            },
        };
        let ready = c.ready;
        let (mut succ, mut fail) = c.probe_counts;
        match failure {
            None => {
                succ += 1;
                fail = 0;
                self.end_probe_series(pod, ci);
            }
            Some(refused) => {
                fail += 1;
                succ = 0;
                let msg = self.probe_message(pod, &probe, "Readiness", refused);
                let same_open = self
                    .store
                    .pods
                    .get(pod)
                    .and_then(|p| p.containers.get(ci))
                    .and_then(|c| c.series.last().copied())
                    .and_then(|seq| self.store.events.get(seq).map(|e| *e.message() == *msg));
                if same_open != Some(true) {
                    // A new message: the previous streak ended at the previous probe.
                    let prev = SimTime(now.millis().saturating_sub(1));
                    let open = self
                        .store
                        .pods
                        .get_mut(pod)
                        .and_then(|p| p.containers.get_mut(ci))
                        .map(|c| std::mem::take(&mut c.series));
                    for seq in open.into_iter().flatten() {
                        self.store.events.end_series(seq, prev);
                    }
                    self.add_series(pod, ci, now, t.period, None, msg);
                }
            }
        }
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.probe_counts = (succ, fail);
        }
        if !ready && succ >= t.success {
            self.set_container_ready(pod, ci, true);
        } else if ready && fail >= t.failure {
            self.set_container_ready(pod, ci, false);
        }
        let phase = self.probe_phase(pod, ci, ProbeKind::Readiness, t.period);
        self.container_timer(pod, ci, t.next_tick(phase, now), Step::ReadinessProbe);
    }

    /// Liveness (or startup) failures as standing series, and the kill at the failure
    /// threshold; returns the kill time.
    #[allow(clippy::too_many_arguments)]
    fn plan_liveness(
        &mut self,
        pod: ObjId,
        ci: usize,
        b: &ImageBehavior,
        probe: &Probe,
        kind: ProbeKind,
        ticks: Ticks,
        start: SimTime,
        listen: SimDuration,
    ) -> Option<SimTime> {
        let t = ProbeTiming::of(probe);
        let what = kind.as_str();
        let listening = start + listen;
        // Probes before the program listens fail ("connection refused").
        let early = ticks.first_at_or_after(listening);
        let kill = if early >= u64::from(t.failure) {
            let msg = self.probe_message(pod, probe, what, true);
            let at = ticks.tick(u64::from(t.failure) - 1);
            self.add_series(pod, ci, ticks.tick(0), t.period, Some(at), msg);
            Some(at)
        } else {
            if early > 0 {
                let msg = self.probe_message(pod, probe, what, true);
                self.add_series(
                    pod,
                    ci,
                    ticks.tick(0),
                    t.period,
                    Some(ticks.tick(early - 1)),
                    msg,
                );
            }
            let breaks = b
                .liveness_fail_after_seconds
                .map(|x| start + SimDuration::from_secs_f64(x));
            // A startup probe is done at its first success; it only sees the program break if
            // that happens before it ever answered.
            let breaks = match kind {
                ProbeKind::Startup => breaks.filter(|&bad| bad <= ticks.tick(early)),
                _ => breaks,
            };
            breaks.map(|bad| {
                let kb = ticks.first_at_or_after(bad).max(early);
                let at = ticks.tick(kb + u64::from(t.failure) - 1);
                let msg = self.probe_message(pod, probe, what, false);
                self.add_series(pod, ci, ticks.tick(kb), t.period, Some(at), msg);
                at
            })
        };
        if let Some(at) = kill {
            let step = match kind {
                ProbeKind::Startup => Step::StartupKill,
                _ => Step::LivenessKill,
            };
            self.container_timer(pod, ci, at, step);
        }
        kill
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_ticks_start_after_the_initial_delay() {
        // worker.go: a ticker every period from start; ticks younger than the delay are skipped.
        let t = ProbeTiming {
            initial: SimDuration::from_secs(5),
            period: SimDuration::from_secs(10),
            success: 1,
            failure: 3,
        };
        let start = SimTime(1_000);
        assert_eq!(t.tick(start, 0), SimTime(11_000));
        assert_eq!(t.tick(start, 2), SimTime(31_000));
        assert_eq!(t.first_tick_at_or_after(start, SimTime(11_000)), 0);
        assert_eq!(t.first_tick_at_or_after(start, SimTime(11_001)), 1);
        assert_eq!(t.first_tick_at_or_after(start, SimTime(21_000)), 1);
        let same = ProbeTiming {
            initial: SimDuration::from_secs(10),
            ..t
        };
        assert_eq!(same.tick(start, 0), SimTime(11_000));
        let none = ProbeTiming {
            initial: SimDuration::ZERO,
            ..t
        };
        assert_eq!(none.tick(start, 0), start);
        // Anchored later (a startup probe passed at 23 s): ticks every period from the anchor,
        // still gated by the delay from the container's start.
        let late = t.ticks(SimTime(23_000), start);
        assert_eq!(
            (late.tick(0), late.tick(1)),
            (SimTime(23_000), SimTime(33_000))
        );
        let gated = same.ticks(SimTime(3_000), start);
        assert_eq!(gated.tick(0), SimTime(13_000));
    }

    #[test]
    fn a_workers_ticker_keeps_its_own_phase() {
        // worker.go: the ticker starts with the worker (at admission), not with the container;
        // ticks before the kubelet saw the container, or younger than the delay, do nothing.
        let t = ProbeTiming {
            initial: SimDuration::ZERO,
            period: SimDuration::from_secs(5),
            success: 1,
            failure: 3,
        };
        let phase = SimTime(10_040);
        let (start, seen) = (SimTime(12_300), SimTime(12_700));
        let ticks = t.ticks_from(phase, seen, start);
        assert_eq!(
            (ticks.tick(0), ticks.tick(1)),
            (SimTime(15_040), SimTime(20_040))
        );
        // The kubelet's trigger as it sees the container comes first, then the ticker.
        let led = ticks.with_lead(seen);
        assert_eq!(
            (led.tick(0), led.tick(1), led.tick(2)),
            (seen, SimTime(15_040), SimTime(20_040))
        );
        assert_eq!(led.first_at_or_after(seen), 0);
        assert_eq!(led.first_at_or_after(SimTime(12_701)), 1);
        assert_eq!(led.first_at_or_after(SimTime(15_041)), 2);
        // A trigger at or after the ticker's first tick adds nothing.
        assert_eq!(ticks.with_lead(SimTime(15_040)), ticks);
        // initialDelaySeconds counts from the container's start.
        let delayed = ProbeTiming {
            initial: SimDuration::from_secs(5),
            ..t
        };
        assert_eq!(
            delayed.ticks_from(phase, seen, start).tick(0),
            SimTime(20_040)
        );
        // The next tick after a trigger or a tick is on the ticker.
        assert_eq!(t.next_tick(phase, seen), SimTime(15_040));
        assert_eq!(t.next_tick(phase, SimTime(15_040)), SimTime(20_040));
        assert_eq!(t.next_tick(phase, SimTime(9_000)), phase);
    }
}
