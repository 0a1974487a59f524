//! Containers whose image runs a worker program (a WebAssembly module, `crate::program`).
//!
//! The kubelet runs the program's start invocation when the container starts: what it prints
//! is the container's log, and a non-zero exit is a crash (so `credit-scoring-api:with-services`
//! crash-loops until Redis and Postgres Services exist, because its environment is computed at
//! each start, as the kubelet's `makeEnvironmentVariables` does). HTTP probes are real requests
//! to the program, every period; a request that burns more fuel than the probe's
//! `timeoutSeconds` allows times out; a program that outgrows `resources.limits.memory` is
//! OOMKilled.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::probe::{ProbeKind, ProbeTiming};
use crate::program::{Exit, HttpResponse, Invocation, Network, NoNetwork, Outcome, service_ms};
use crate::sim::{Sim, Step};
use crate::store::ObjId;
use crate::store::pod::{CState, WorkerRun, ip_string};
use crate::time::{SimDuration, SimTime};

/// Fuel for a start invocation (a program that needs more never finishes starting).
const START_FUEL: u64 = 2_000_000_000;
/// Requests time out after this long when nothing sets a timeout (a client's 30 s).
pub(crate) const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// A crash at start is seen no sooner than this (the process has to come up first).
const MIN_CRASH_MS: u64 = 1_000;

/// A Service as its environment variables need it: name, ClusterIP, ports (name, port).
type ServiceVars = (String, String, Vec<(Option<String>, i32)>);

/// What a request to a container's program got.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerReply {
    /// An HTTP response, with its virtual service time in milliseconds.
    Response(HttpResponse, f64),
    /// Nothing listens (not started yet, or never will).
    Refused,
    /// The program ran past the timeout.
    Timeout,
    /// The program died handling the request (a trap or an exit); the reason for the log.
    Reset(String),
    /// The program outgrew its memory limit: the container is OOMKilled.
    OutOfMemory,
}

/// A request to a program.
#[derive(Debug, Clone, Copy)]
pub struct WorkerRequest<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// Path and query (`/predict?x=1`).
    pub path: &'a str,
    /// Body.
    pub body: &'a [u8],
    /// The client's address, for the access log (`10.244.0.1`).
    pub client: &'a str,
    /// Give up after this many virtual milliseconds.
    pub timeout_ms: u64,
    /// Whether this is a served request (counted in `KUBESIM_REQUESTS_SERVED`), not a probe.
    pub counts: bool,
}

impl Sim {
    /// The container's spec, borrowed (the kubelet's other modules read it in place).
    pub(super) fn container(&self, pod: ObjId, ci: usize) -> Option<&Container> {
        self.store
            .pods
            .get(pod)?
            .template
            .spec
            .as_ref()?
            .containers
            .get(ci)
    }

    /// The container's spec.
    fn container_spec(&self, pod: ObjId, ci: usize) -> Option<Container> {
        self.container(pod, ci).cloned()
    }

    /// Millicores the container may use: its CPU limit, else its request, else one core.
    pub(crate) fn container_millicores(&self, pod: ObjId, ci: usize) -> u64 {
        let Some(c) = self.container_spec(pod, ci) else {
            return 1000;
        };
        let r = c.resources.as_ref();
        let pick = |m: Option<
            &std::collections::BTreeMap<
                String,
                k8s_openapi::apimachinery::pkg::api::resource::Quantity,
            >,
        >| {
            m.and_then(|m| m.get("cpu"))
                .and_then(|q| crate::api::quantity::cpu_millis(q).ok())
                .filter(|&v| v > 0)
        };
        pick(r.and_then(|r| r.limits.as_ref()))
            .or_else(|| pick(r.and_then(|r| r.requests.as_ref())))
            .unwrap_or(1000) as u64
    }

    fn container_memory_limit(&self, pod: ObjId, ci: usize) -> Option<u64> {
        let c = self.container_spec(pod, ci)?;
        let q = c.resources.as_ref()?.limits.as_ref()?.get("memory")?;
        crate::api::quantity::memory_bytes(q)
            .ok()
            .filter(|&v| v > 0)
            .map(|v| v as u64)
    }

    /// The environment a container starts with: the image's, then the Service variables of
    /// the namespace (`{SVC}_SERVICE_HOST`, `{SVC}_SERVICE_PORT`, ...), then the pod spec's
    /// `env` (values, and the downward API's pod name, namespace and IP).
    pub(crate) fn container_env(&self, pod: ObjId, ci: usize) -> Vec<(String, String)> {
        self.make_environment_variables(pod, ci).unwrap_or_default()
    }

    /// [`Sim::container_env`], or why the kubelet cannot build it (`makeEnvironmentVariables`'
    /// error: a ConfigMap, Secret or key that is missing and not optional), which keeps the
    /// container in `CreateContainerConfigError`. `envFrom` comes before `env`, and `env`
    /// overrides it (`kubelet/config.rs`).
    pub(crate) fn make_environment_variables(
        &self,
        pod: ObjId,
        ci: usize,
    ) -> Result<Vec<(String, String)>, String> {
        let mut env: Vec<(String, String)> = Vec::new();
        let Some(p) = self.store.pods.get(pod) else {
            return Ok(env);
        };
        env.push(("HOSTNAME".into(), p.name.to_string()));
        if let Some(b) = p.containers.get(ci).and_then(|c| c.behavior.as_ref()) {
            env.extend(b.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let ns = p.namespace.to_string();
        let mut services: Vec<ServiceVars> = Vec::new();
        for (sns, name, id) in self.store.services.all_names() {
            // The `kubernetes` Service is visible from every namespace (enableServiceLinks
            // adds the master service's variables everywhere).
            if sns != ns && !(sns == "default" && name == "kubernetes") {
                continue;
            }
            let Some((_, svc)) = self.store.services.get(id) else {
                continue;
            };
            let Some(spec) = &svc.spec else { continue };
            let Some(ip) = spec.cluster_ip.clone().filter(|ip| ip != "None") else {
                continue;
            };
            let ports = spec
                .ports
                .iter()
                .flatten()
                .map(|p| (p.name.clone(), p.port))
                .collect();
            services.push((name.to_string(), ip, ports));
        }
        for (name, ip, ports) in services {
            let key = name.to_uppercase().replace('-', "_");
            env.push((format!("{key}_SERVICE_HOST"), ip.clone()));
            if let Some((_, port)) = ports.first() {
                env.push((format!("{key}_SERVICE_PORT"), port.to_string()));
                env.push((format!("{key}_PORT"), format!("tcp://{ip}:{port}")));
            }
            for (pname, port) in &ports {
                if let Some(pname) = pname {
                    let pkey = pname.to_uppercase().replace('-', "_");
                    env.push((format!("{key}_SERVICE_PORT_{pkey}"), port.to_string()));
                }
            }
        }
        let spec = p.template.spec.as_ref().and_then(|s| s.containers.get(ci));
        let mut refs = super::config::Refs::new(self, &ns);
        if let Some(c) = spec {
            refs.env_from(c, &mut env)?;
        }
        for e in spec.and_then(|c| c.env.as_ref()).into_iter().flatten() {
            let value = match (&e.value, &e.value_from) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(from))
                    if from.config_map_key_ref.is_some() || from.secret_key_ref.is_some() =>
                {
                    refs.value_from(from)?
                }
                (None, Some(from)) => {
                    from.field_ref
                        .as_ref()
                        .and_then(|f| match f.field_path.as_str() {
                            "metadata.name" => Some(p.name.to_string()),
                            "metadata.namespace" => Some(ns.clone()),
                            "status.podIP" => Some(ip_string(p.ip)),
                            "spec.nodeName" => p
                                .node
                                .and_then(|n| self.store.nodes.get(n))
                                .map(|n| n.name.to_string()),
                            _ => None,
                        })
                }
                (None, None) => Some(String::new()),
            };
            if let Some(v) = value {
                env.retain(|(k, _)| *k != e.name);
                env.push((e.name.clone(), v));
            }
        }
        Ok(env)
    }

    /// A snapshot of the container's program for running it, if it runs one.
    pub(crate) fn worker_target(&self, pod: ObjId, ci: usize) -> Option<Target> {
        let spec = self.container_spec(pod, ci)?;
        let p = self.store.pods.get(pod)?;
        let c = p.containers.get(ci)?;
        let program = c.behavior.as_ref()?.program.clone()?;
        let w = c.worker.as_ref()?;
        let started = match c.state {
            CState::Running { started } => Some(started),
            _ => None,
        };
        let mut args = vec![program.0.name().to_string()];
        args.extend(spec.command.iter().flatten().skip(1).cloned());
        args.extend(spec.args.iter().flatten().cloned());
        Some(Target {
            pod,
            ci,
            program,
            env: w.env.clone(),
            args,
            served: w.served,
            invocations: w.invocations,
            listening: started.and(w.listening),
            started: started.unwrap_or(self.store.now),
            millicores: self.container_millicores(pod, ci),
            memory_limit: self.container_memory_limit(pod, ci),
            ip: ip_string(p.ip),
            files: Arc::new(super::mounts::files(self, pod, ci)),
            data: w.data.clone(),
            process: w.process.clone(),
        })
    }

    /// The clock a program reads: virtual Unix nanoseconds.
    pub(crate) fn program_clock(&self) -> u64 {
        (self.store.epoch_unix_ms.max(0) as u64 + self.store.now.millis()) * 1_000_000
    }

    /// Applies what runs of a program did to its container: log lines, requests served,
    /// invocations, an OOM kill.
    pub(crate) fn apply_effects(&mut self, pod: ObjId, ci: usize, e: Effects) {
        for line in &e.logs {
            self.container_log(pod, ci, line);
        }
        if let Some(w) = self.worker_run_mut(pod, ci) {
            w.served += e.served;
            w.invocations += e.invocations;
            if let Some(data) = e.data {
                w.data = Some(Arc::new(data));
            }
        }
        if e.oom {
            self.worker_oom(pod, ci);
        }
    }

    /// Starts the container's program, if its image has one. Returns whether it did (the
    /// caller then plans nothing from declared behaviour but probes).
    pub(crate) fn start_worker(&mut self, pod: ObjId, ci: usize) -> bool {
        let has_program = self.behavior(pod, ci).is_some_and(|b| b.program.is_some());
        if !has_program {
            return false;
        }
        let env: Arc<[(String, String)]> = self.container_env(pod, ci).into();
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.worker = Some(Box::new(WorkerRun {
                env,
                served: 0,
                listening: None,
                exit: None,
                invocations: 0,
                probe_counts: [(0, 0); 3],
                data: None,
                process: Default::default(),
            }));
        }
        let Some(mut target) = self.worker_target(pod, ci) else {
            return false;
        };
        let millicores = target.millicores;
        let (now, clock, seed) = (self.store.now, self.program_clock(), self.config.seed);
        // A program that calls Services may do so as it starts (the credit API connects to
        // Redis and PostgreSQL). The calls' endpoint picks hash this start's identity, not the
        // cluster's request counter, so no other request is picked differently for it.
        let net: Box<dyn Network> = if target.calls_out() {
            let (ns, epoch) = self.store.pods.get(pod).map_or((String::new(), 0), |p| {
                let epoch = p.containers.get(ci).map_or(0, |c| c.epoch);
                (p.namespace.to_string(), epoch)
            });
            // Small, as request numbers are: nested calls multiply it by 1,000 per level.
            let seq = crate::rng::mix64(&[pod, ci as u64, u64::from(epoch)]) % 1_000_000;
            Box::new(self.routes(&ns, 1, seq))
        } else {
            NoNetwork::boxed()
        };
        let (out, net) = target.run(now, clock, seed, &[], b"", START_FUEL, net, false);
        let upstream_ms = self.apply_routes(net);
        self.apply_effects(
            pod,
            ci,
            Effects {
                logs: out.log_lines(),
                invocations: 1,
                ..Effects::default()
            },
        );
        // A program whose start does no work (a native server) listens as it starts.
        let took = if out.fuel == 0 && upstream_ms == 0.0 {
            SimDuration::ZERO
        } else {
            SimDuration((service_ms(out.fuel, millicores) + upstream_ms).ceil() as u64)
        };
        let declared = self
            .behavior(pod, ci)
            .map_or(SimDuration::ZERO, |b| self.program_start_delay(pod, ci, &b));
        let (listening, exit) = match &out.exit {
            Exit::Code(0) => (Some(now + declared + took), None),
            Exit::Code(code) => (None, Some((*code, "Error"))),
            Exit::OutOfMemory => (None, Some((137, "OOMKilled"))),
            // Still busy starting when its budget ran out: it never listens.
            Exit::OutOfFuel => (None, None),
            Exit::Trap(why) => {
                self.container_log(pod, ci, &format!("Error: {why}"));
                (None, Some((134, "Error")))
            }
            Exit::Invalid(why) => {
                let name = self.container_name(pod, ci);
                self.kubelet_event(
                    pod,
                    true,
                    "Failed",
                    format!(
                        "Error: failed to create containerd task: failed to start container {name:?}: exec format error: {why}"
                    ),
                );
                (None, Some((128, "StartError")))
            }
        };
        if let Some(w) = self.worker_run_mut(pod, ci) {
            w.listening = listening;
            w.exit = exit;
        }
        if exit.is_some() {
            let at = now + declared.max(SimDuration(MIN_CRASH_MS)).max(took);
            self.container_timer(pod, ci, at, Step::Exit);
        }
        true
    }

    fn worker_run_mut(&mut self, pod: ObjId, ci: usize) -> Option<&mut WorkerRun> {
        self.store
            .pods
            .get_mut(pod)?
            .containers
            .get_mut(ci)?
            .worker
            .as_deref_mut()
    }

    /// The exit a failed start planned (code, reason), if any.
    pub(crate) fn worker_exit(&self, pod: ObjId, ci: usize) -> Option<(i32, &'static str)> {
        self.store
            .pods
            .get(pod)?
            .containers
            .get(ci)?
            .worker
            .as_ref()?
            .exit
    }

    /// Whether the container runs a program (its probes are then real requests).
    pub(crate) fn runs_worker(&self, pod: ObjId, ci: usize) -> bool {
        self.store
            .pods
            .get(pod)
            .and_then(|p| p.containers.get(ci))
            .is_some_and(|c| c.worker.is_some())
    }

    /// Sends one HTTP request to a container's program.
    pub fn worker_request(
        &mut self,
        pod: ObjId,
        ci: usize,
        req: WorkerRequest<'_>,
        net: Box<dyn Network>,
    ) -> (WorkerReply, Box<dyn Network>) {
        let Some(mut target) = self.worker_target(pod, ci) else {
            return (WorkerReply::Refused, net);
        };
        let (now, clock, seed) = (self.store.now, self.program_clock(), self.config.seed);
        let (reply, net, effects) = target.request(now, clock, seed, req, net);
        self.apply_effects(pod, ci, effects);
        (reply, net)
    }

    /// The program outgrew its memory limit: the kernel kills the container (exit 137,
    /// reason OOMKilled) and the restart policy takes over.
    fn worker_oom(&mut self, pod: ObjId, ci: usize) {
        let running = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.containers.get(ci))
            .is_some_and(|c| matches!(c.state, CState::Running { .. }));
        if running {
            self.container_exited(pod, ci, 137, "OOMKilled");
        }
    }

    /// One HTTP probe of a worker: `None` when it passes, else the failure message. Probes
    /// that are not HTTP pass once the program listens (TCP) or follow declared behaviour.
    pub(crate) fn worker_probe(
        &mut self,
        pod: ObjId,
        ci: usize,
        probe: &Probe,
        what: &str,
    ) -> Option<String> {
        let ip = self
            .store
            .pods
            .get(pod)
            .map_or_else(String::new, |p| ip_string(p.ip));
        let Some(h) = &probe.http_get else {
            let listening = self
                .store
                .pods
                .get(pod)
                .and_then(|p| p.containers.get(ci))
                .and_then(|c| c.worker.as_ref())
                .and_then(|w| w.listening)
                .is_some_and(|at| self.store.now >= at);
            return (!listening).then(|| self.probe_message(pod, probe, what, true));
        };
        let port = match &h.port {
            IntOrString::Int(i) => i.to_string(),
            IntOrString::String(s) => s.clone(),
        };
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_lowercase();
        let path = h.path.as_deref().unwrap_or("/");
        let timeout_ms = probe.timeout_seconds.unwrap_or(1).max(1) as u64 * 1000;
        let node_ip = "10.244.0.1";
        let (reply, _) = self.worker_request(
            pod,
            ci,
            WorkerRequest {
                method: "GET",
                path,
                body: b"",
                client: node_ip,
                timeout_ms,
                counts: false,
            },
            NoNetwork::boxed(),
        );
        let url = format!("{scheme}://{ip}:{port}{path}");
        match reply {
            WorkerReply::Response(r, _) if (200..400).contains(&r.status) => None,
            WorkerReply::Response(r, _) => Some(format!(
                "{what} probe failed: HTTP probe failed with statuscode: {}",
                r.status
            )),
            WorkerReply::Refused => Some(self.probe_message(pod, probe, what, true)),
            WorkerReply::Timeout => Some(format!(
                "{what} probe failed: Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            )),
            WorkerReply::Reset(_) | WorkerReply::OutOfMemory => {
                Some(format!("{what} probe failed: Get \"{url}\": EOF"))
            }
        }
    }

    /// One period of a worker's probe: a real request, counted against the thresholds as
    /// `prober/worker.go` does; each failure is an `Unhealthy` event (aggregated like the
    /// event recorder's).
    pub(crate) fn worker_probe_tick(&mut self, pod: ObjId, ci: usize, kind: ProbeKind) {
        let Some(spec) = self.container_spec(pod, ci) else {
            return;
        };
        let probe = match kind {
            ProbeKind::Readiness => spec.readiness_probe,
            ProbeKind::Liveness => spec.liveness_probe,
            ProbeKind::Startup => spec.startup_probe,
        };
        let Some(probe) = probe else { return };
        let t = ProbeTiming::of(&probe);
        let phase = self.probe_phase(pod, ci, kind, t.period);
        let next = t.next_tick(phase, self.store.now);
        // Off the ticker: the kubelet's trigger as it saw the container (`plan_started_probes`).
        let triggered = self.store.now < phase
            || !(self.store.now.millis() - phase.millis()).is_multiple_of(t.period.millis());
        let epoch = self.container_epoch(pod, ci);
        let failure = self.worker_probe(pod, ci, &probe, kind.as_str());
        // The request may have got the container OOMKilled.
        if self.container_epoch(pod, ci) != epoch {
            return;
        }
        if triggered && failure.is_some() {
            // A failed trigger changes nothing (readiness starts as Failure); as in the
            // standing model, only the ticker's failures count and are recorded.
            let step = match kind {
                ProbeKind::Readiness => Step::ReadinessProbe,
                ProbeKind::Liveness => Step::LivenessProbe,
                ProbeKind::Startup => Step::StartupProbe,
            };
            self.container_timer(pod, ci, next, step);
            return;
        }
        let slot = kind as usize;
        let Some(w) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
            .and_then(|c| c.worker.as_mut())
        else {
            return;
        };
        let (mut succ, mut fail) = w.probe_counts[slot];
        match &failure {
            None => {
                succ += 1;
                fail = 0;
            }
            Some(_) => {
                fail += 1;
                succ = 0;
            }
        }
        w.probe_counts[slot] = (succ, fail);
        if let Some(msg) = failure
            && let Some(ev) = self.probe_event(pod, msg)
        {
            self.store.event(ev);
        }
        let step = match kind {
            ProbeKind::Readiness => {
                let ready = self
                    .store
                    .pods
                    .get(pod)
                    .and_then(|p| p.containers.get(ci))
                    .is_some_and(|c| c.ready);
                if !ready && succ >= t.success {
                    self.set_container_ready(pod, ci, true);
                } else if ready && fail >= t.failure {
                    self.set_container_ready(pod, ci, false);
                }
                Step::ReadinessProbe
            }
            ProbeKind::Liveness => {
                if fail >= t.failure {
                    self.probe_kill(pod, ci, ProbeKind::Liveness);
                    return;
                }
                Step::LivenessProbe
            }
            ProbeKind::Startup => {
                if succ >= 1 {
                    self.container_step_started(pod, ci);
                    return;
                }
                if fail >= t.failure {
                    self.probe_kill(pod, ci, ProbeKind::Startup);
                    return;
                }
                Step::StartupProbe
            }
        };
        self.container_timer(pod, ci, next, step);
    }

    fn container_epoch(&self, pod: ObjId, ci: usize) -> Option<u32> {
        Some(self.store.pods.get(pod)?.containers.get(ci)?.epoch)
    }
}

impl<'a> WorkerRequest<'a> {
    /// A client's request to a Service (counted as served, the client's 30 s timeout).
    pub fn to_service(method: &'a str, path: &'a str, body: &'a [u8]) -> WorkerRequest<'a> {
        WorkerRequest {
            method,
            path,
            body,
            client: "10.244.0.1",
            timeout_ms: REQUEST_TIMEOUT_MS,
            counts: true,
        }
    }
}

impl NoNetwork {
    /// A boxed empty network.
    pub fn boxed() -> Box<dyn Network> {
        Box::new(NoNetwork)
    }
}

/// A container's program with what it needs to run, detached from the cluster (so the
/// Services a program calls can run while the caller's invocation is under way).
#[derive(Clone, Debug)]
pub struct Target {
    /// The pod.
    pub pod: ObjId,
    /// The container.
    pub ci: usize,
    program: crate::program::ProgramRef,
    env: Arc<[(String, String)]>,
    args: Vec<String>,
    served: u64,
    invocations: u64,
    started: SimTime,
    /// When it answers (`None`: not running, or never will).
    pub listening: Option<SimTime>,
    millicores: u64,
    memory_limit: Option<u64>,
    /// The pod's IP.
    pub ip: String,
    /// The container's ConfigMap and Secret files as the kubelet last synced them.
    files: Arc<std::collections::BTreeMap<String, Vec<u8>>>,
    /// The state the program keeps (`program::cgi_state`), as of this snapshot.
    data: Option<Arc<Vec<u8>>>,
    /// The container run's process, shared with the run (requests only: a start is an
    /// invocation of its own).
    process: crate::program::ProcessSlot,
}

/// What runs of a program did, for [`Sim::apply_effects`].
#[derive(Debug, Default, Clone)]
pub struct Effects {
    /// Log lines written.
    pub logs: Vec<String>,
    /// Requests served.
    pub served: u64,
    /// Invocations made.
    pub invocations: u64,
    /// It ran out of memory.
    pub oom: bool,
    /// The state the program asked to keep, the last one if several runs did.
    pub data: Option<Vec<u8>>,
}

impl Effects {
    /// Adds `other` to these.
    pub fn merge(&mut self, other: Effects) {
        self.logs.extend(other.logs);
        self.served += other.served;
        self.invocations += other.invocations;
        self.oom |= other.oom;
        if other.data.is_some() {
            self.data = other.data;
        }
    }
}

impl Target {
    /// The program's name.
    pub fn program_name(&self) -> &str {
        self.program.0.name()
    }

    /// Whether the program may make outbound calls.
    pub fn calls_out(&self) -> bool {
        self.program.0.calls_out()
    }

    /// Runs the program once.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run(
        &mut self,
        now: SimTime,
        clock_unix_ns: u64,
        sim_seed: u64,
        extra_env: &[(String, String)],
        stdin: &[u8],
        fuel: u64,
        net: Box<dyn Network>,
        request: bool,
    ) -> (Outcome, Box<dyn Network>) {
        self.invocations += 1;
        let mut env: Vec<(String, String)> = self.env.to_vec();
        env.push((
            "KUBESIM_UPTIME_SECONDS".into(),
            format!("{:.3}", now.since(self.started).as_secs_f64()),
        ));
        env.push(("KUBESIM_REQUESTS_SERVED".into(), self.served.to_string()));
        env.extend(extra_env.iter().cloned());
        let seed = crate::rng::mix64(&[sim_seed, self.pod, self.ci as u64, self.invocations]);
        // The kept state is one more read-only file; only programs that keep one pay the copy.
        let with_data = self.data.as_ref().map(|d| {
            let mut files = (*self.files).clone();
            files.insert(crate::program::STATE_PATH.to_string(), d.to_vec());
            files
        });
        let inv = Invocation {
            args: &self.args,
            env: &env,
            stdin,
            memory_limit: self.memory_limit,
            fuel,
            clock_unix_ns,
            seed,
            files: with_data.as_ref().unwrap_or(&self.files),
        };
        if request {
            self.process.invoke(&*self.program.0, &inv, net)
        } else {
            self.program.0.invoke(&inv, net)
        }
    }

    /// Sends one HTTP request; returns the reply and what it did to the container.
    pub(crate) fn request(
        &mut self,
        now: SimTime,
        clock_unix_ns: u64,
        sim_seed: u64,
        req: WorkerRequest<'_>,
        net: Box<dyn Network>,
    ) -> (WorkerReply, Box<dyn Network>, Effects) {
        let mut effects = Effects::default();
        if self.listening.is_none_or(|at| now < at) {
            return (WorkerReply::Refused, net, effects);
        }
        let (path, query) = req.path.split_once('?').unwrap_or((req.path, ""));
        let cgi: Vec<(String, String)> = vec![
            ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
            ("SERVER_PROTOCOL".into(), "HTTP/1.1".into()),
            ("REQUEST_METHOD".into(), req.method.to_string()),
            ("PATH_INFO".into(), path.to_string()),
            ("QUERY_STRING".into(), query.to_string()),
            ("CONTENT_TYPE".into(), "application/json".into()),
            ("CONTENT_LENGTH".into(), req.body.len().to_string()),
            ("REMOTE_ADDR".into(), req.client.to_string()),
            ("SERVER_NAME".into(), self.ip.clone()),
            ("HTTP_HOST".into(), self.ip.clone()),
        ];
        // Fuel for the timeout: what the pod's CPU could burn in that time.
        let fuel = (req.timeout_ms as f64
            * crate::program::FUEL_PER_CPU_MS as f64
            * self.millicores as f64
            / 1000.0) as u64;
        let (out, net) = self.run(
            now,
            clock_unix_ns,
            sim_seed,
            &cgi,
            req.body,
            fuel.max(1),
            net,
            true,
        );
        effects.invocations = 1;
        if req.counts {
            self.served += 1;
            effects.served = 1;
        }
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        effects.logs = stderr.lines().map(str::to_string).collect();
        let ms = service_ms(out.fuel, self.millicores);
        if out.exit == Exit::Code(0)
            && let Some(data) = crate::program::cgi_state(&out.stdout)
        {
            self.data = Some(Arc::new(data.clone()));
            effects.data = Some(data);
        }
        let reply = match out.exit {
            Exit::Code(0) => match HttpResponse::from_cgi(&out.stdout) {
                Ok(r) => WorkerReply::Response(r, ms),
                Err(why) => WorkerReply::Response(
                    HttpResponse {
                        status: 502,
                        content_type: Some("text/plain".into()),
                        body: format!("bad response from the program: {why}").into_bytes(),
                    },
                    ms,
                ),
            },
            Exit::Code(code) => WorkerReply::Reset(format!("the program exited with {code}")),
            Exit::OutOfFuel => WorkerReply::Timeout,
            Exit::OutOfMemory => {
                effects.oom = true;
                WorkerReply::OutOfMemory
            }
            Exit::Trap(why) | Exit::Invalid(why) => WorkerReply::Reset(why),
        };
        (reply, net, effects)
    }
}
