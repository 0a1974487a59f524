//! Simulated load on Services, and what it costs: requests, errors and latency per Service and
//! per virtual second.
//!
//! The model, each virtual second, for each Service under load:
//! - the second's requests (rate × time, fractions carried over) are spread evenly over the
//!   ready endpoints, as kube-proxy's random choice does on average; with none, every request
//!   fails (the connection is refused);
//! - each endpoint really runs one of them in its program (the *sample*): its status decides
//!   whether that endpoint's requests succeed, and the fuel it burned gives the service time
//!   `S` on that pod's CPU (`program::service_ms`);
//! - each pod is a single-server queue with arrival rate `λ` and service rate `μ = 1/S`:
//!   a backlog carries over when `λ > μ`, and the wait inside the second follows M/M/1
//!   (`P(W > w) = ρ·e^{-(μ-λ)w}`); a request's latency is `S` + backlog wait + that wait;
//!   requests that would wait past the client's 30 s timeout fail, and leave the queue;
//! - p50 and p99 are the quantiles of the mixture over the endpoints, weighted by requests;
//! - a program that calls another Service (the gateway) sends it the same number of
//!   requests, and the callee's latency adds to the caller's.
//!
//! Only the samples run in wasm (`sampled` in the record), so fast-forward stays fast; the
//! numbers come from the model and fuel, never from the wall clock, so a run's trace is the
//! same at any speed. With [`TrafficState::real_requests`] on (the web UI at 1×), every
//! request also really runs, and changes nothing in the record.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::kubelet::worker::{REQUEST_TIMEOUT_MS, WorkerReply, WorkerRequest};
use crate::network::{Call, RouteService};
use crate::program::{Network, NoNetwork};
use crate::sim::{Sim, Timer};
use crate::store::ObjId;
use crate::time::{SimDuration, SimTime};

/// Service time of a pod whose image declares no program (milliseconds).
pub const DECLARED_SERVICE_MS: f64 = 5.0;

/// Per-second records kept (older ones are dropped).
const MAX_SECONDS: usize = 50_000;

/// Real requests per pod and second beyond the sample, in `real_requests` mode.
const MAX_REAL_PER_POD: u64 = 200;

/// A load generator aimed at a Service (like `hey -z 60s -q 50 http://svc/path`).
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Namespace of the Service.
    pub namespace: String,
    /// The Service's name.
    pub service: String,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Body.
    pub body: Vec<u8>,
    /// Requests per second.
    pub rps: f64,
    /// Start.
    pub from: SimTime,
    /// End.
    pub until: SimTime,
    carry: f64,
}

/// One Service's numbers over one virtual second.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSecond {
    /// End of the second (virtual seconds).
    pub time: f64,
    /// Namespace.
    pub namespace: String,
    /// Service.
    pub service: String,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed (refused, 5xx, reset, timed out).
    pub errors: u64,
    /// Median latency of the successful requests (ms), if any succeeded.
    pub p50_ms: Option<f64>,
    /// 99th percentile latency of the successful requests (ms).
    pub p99_ms: Option<f64>,
    /// Ready endpoints.
    pub endpoints: u32,
    /// Requests that really ran in wasm (the samples).
    pub sampled: u64,
}

/// The load on the cluster.
#[derive(Debug, Default)]
pub struct TrafficState {
    /// Active and finished flows.
    pub flows: Vec<Flow>,
    /// Backlog (requests) per pod container.
    queues: BTreeMap<(ObjId, usize), f64>,
    /// Per-second records, oldest first.
    pub seconds: Vec<ServiceSecond>,
    /// Records dropped from the front of `seconds`.
    pub dropped: usize,
    /// Whether a tick is scheduled.
    ticking: bool,
    /// Run every request in wasm, not only the samples (results are the same).
    pub real_requests: bool,
    /// Requests that really ran in wasm, in all.
    pub real_runs: u64,
    /// Single requests (through the ingress) per Service since the last tick, written with
    /// the next tick's records.
    pending: BTreeMap<ServiceKey, ServiceSecond>,
    /// Busy time per container and second, for the resource metrics (`metrics.rs`).
    pub cpu: crate::metrics::CpuLog,
}

/// Load on one endpoint for one second.
#[derive(Debug, Clone, Copy)]
struct PodLoad {
    weight: f64,
    /// Minimum latency: service time plus backlog wait (ms).
    base_ms: f64,
    rho: f64,
    /// μ − λ per millisecond.
    drain_per_ms: f64,
}

impl PodLoad {
    fn cdf(&self, x: f64) -> f64 {
        if x < self.base_ms {
            return 0.0;
        }
        1.0 - self.rho * (-(self.drain_per_ms) * (x - self.base_ms)).exp()
    }
}

/// The `q` quantile of a mixture of pod latency distributions.
fn mixture_quantile(loads: &[PodLoad], q: f64) -> Option<f64> {
    let loads: Vec<PodLoad> = loads.iter().copied().filter(|l| l.weight > 0.0).collect();
    let total: f64 = loads.iter().map(|l| l.weight).sum();
    if total <= 0.0 {
        return None;
    }
    let loads = &loads;
    let f = |x: f64| loads.iter().map(|l| l.weight * l.cdf(x)).sum::<f64>() / total;
    let mut lo = loads
        .iter()
        .map(|l| l.base_ms)
        .fold(f64::INFINITY, f64::min);
    let mut hi = lo.max(1.0);
    while f(hi) < q && hi < 1e9 {
        hi *= 2.0;
    }
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if f(mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some((hi * 10.0).round() / 10.0)
}

/// A Service by namespace and name.
type ServiceKey = (String, String);

/// Requests arriving at one Service in one second.
#[derive(Debug, Clone)]
struct Arrivals {
    namespace: String,
    service: String,
    method: String,
    path: String,
    body: Vec<u8>,
    count: u64,
}

impl Sim {
    /// Starts sending `rps` requests per second to a Service for `duration`.
    #[allow(clippy::too_many_arguments)]
    pub fn start_traffic(
        &mut self,
        namespace: &str,
        service: &str,
        method: &str,
        path: &str,
        body: &[u8],
        rps: f64,
        duration: SimDuration,
    ) -> Result<(), String> {
        if self.store.services.lookup(namespace, service).is_none() {
            return Err(format!(
                "services \"{service}\" not found in namespace \"{namespace}\""
            ));
        }
        if !(rps > 0.0 && rps <= 1_000_000.0) {
            return Err(format!(
                "rps must be above 0 and at most 1000000, not {rps}"
            ));
        }
        let now = self.store.now;
        self.traffic.flows.push(Flow {
            namespace: namespace.to_string(),
            service: service.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            body: body.to_vec(),
            rps,
            from: now,
            until: now + duration,
            carry: 0.0,
        });
        if !self.traffic.ticking {
            self.traffic.ticking = true;
            let next = (now.millis() / 1000 + 1) * 1000;
            self.timers.push(SimTime(next), Timer::TrafficTick);
        }
        Ok(())
    }

    /// Stops every flow aimed at a Service (all flows when `service` is `None`).
    pub fn stop_traffic(&mut self, namespace: &str, service: Option<&str>) {
        let now = self.store.now;
        for f in &mut self.traffic.flows {
            if f.namespace == namespace && service.is_none_or(|s| s == f.service) {
                f.until = f.until.min(now);
            }
        }
    }

    /// One virtual second of traffic, ending now.
    pub(crate) fn traffic_tick(&mut self) {
        let now = self.store.now;
        let from = SimTime(now.millis().saturating_sub(1000));
        let mut arrivals: Vec<Arrivals> = Vec::new();
        for f in &mut self.traffic.flows {
            let start = f.from.max(from);
            let end = f.until.min(now);
            if end <= start {
                continue;
            }
            f.carry += f.rps * end.since(start).as_secs_f64();
            let count = f.carry.floor();
            f.carry -= count;
            arrivals.push(Arrivals {
                namespace: f.namespace.clone(),
                service: f.service.clone(),
                method: f.method.clone(),
                path: f.path.clone(),
                body: f.body.clone(),
                count: count as u64,
            });
        }
        self.traffic.flows.retain(|f| f.until > now);
        // Services called by programs get their callers' requests; up to four hops.
        let mut latency_of: BTreeMap<(String, String), (Option<f64>, Option<f64>)> =
            BTreeMap::new();
        let mut calls: Vec<(ServiceKey, Vec<ServiceKey>)> = Vec::new();
        let mut wave = merge_arrivals(arrivals);
        for _ in 0..4 {
            if wave.is_empty() {
                break;
            }
            let mut next: Vec<Arrivals> = Vec::new();
            for a in wave {
                let (record, downstream) = self.load_service(&a, now);
                let key = (a.namespace.clone(), a.service.clone());
                latency_of.insert(key.clone(), (record.p50_ms, record.p99_ms));
                let mut called = Vec::new();
                for c in downstream {
                    called.push((c.namespace.clone(), c.service.clone()));
                    next.push(Arrivals {
                        namespace: c.namespace,
                        service: c.service,
                        method: c.method,
                        path: c.path,
                        body: c.body,
                        count: record.requests - record.errors,
                    });
                }
                calls.push((key, called));
                self.push_second(record);
            }
            wave = merge_arrivals(next);
        }
        // A caller's latency includes its callees'.
        for (key, called) in calls.iter().rev() {
            let extra: (f64, f64) = called.iter().fold((0.0, 0.0), |acc, k| {
                let (p50, p99) = latency_of.get(k).copied().unwrap_or((None, None));
                (acc.0 + p50.unwrap_or(0.0), acc.1 + p99.unwrap_or(0.0))
            });
            if extra == (0.0, 0.0) {
                continue;
            }
            if let Some(r) =
                self.traffic.seconds.iter_mut().rev().find(|r| {
                    r.time == now.as_secs_f64() && r.namespace == key.0 && r.service == key.1
                })
            {
                r.p50_ms = r.p50_ms.map(|v| ((v + extra.0) * 10.0).round() / 10.0);
                r.p99_ms = r.p99_ms.map(|v| ((v + extra.1) * 10.0).round() / 10.0);
                let updated = (r.p50_ms, r.p99_ms);
                latency_of.insert(key.clone(), updated);
            }
        }
        // Services that got single requests and no load this second.
        let now_s = now.as_secs_f64();
        for (_, mut record) in std::mem::take(&mut self.traffic.pending) {
            record.time = now_s;
            self.push_second(record);
        }
        if now.millis().is_multiple_of(crate::metrics::RESOLUTION_MS) {
            self.traffic.cpu.prune(now);
        }
        if self.traffic.flows.is_empty() {
            self.traffic.ticking = false;
        } else {
            self.timers
                .push(now + SimDuration(1000), Timer::TrafficTick);
        }
    }

    /// Counts one request sent outside the load generators (through the ingress) in its
    /// Service's numbers for the second it falls in, so the traffic chart shows it: a
    /// failure (no answer, or a 5xx) is an error, and its latency joins the second's.
    pub fn count_single_request(
        &mut self,
        namespace: &str,
        service: &str,
        reply: &crate::network::ServiceReply,
    ) {
        let time = (self.store.now.millis() / 1000 + 1) as f64;
        let latency = match reply {
            crate::network::ServiceReply::Response {
                response,
                latency_ms,
                ..
            } if response.status < 500 => Some((latency_ms * 10.0).round() / 10.0),
            _ => None,
        };
        let endpoints = self
            .store
            .services
            .lookup(namespace, service)
            .map_or(0, |id| {
                let (t, d) = self.service_targets(id);
                (t.len() + d.len()) as u32
            });
        let record = self
            .traffic
            .pending
            .entry((namespace.to_owned(), service.to_owned()))
            .or_insert_with(|| ServiceSecond {
                time,
                namespace: namespace.to_owned(),
                service: service.to_owned(),
                requests: 0,
                errors: 0,
                p50_ms: None,
                p99_ms: None,
                endpoints,
                sampled: 0,
            });
        let ok_before = (record.requests - record.errors) as f64;
        record.requests += 1;
        record.sampled += 1;
        record.endpoints = endpoints;
        match latency {
            None => record.errors += 1,
            Some(l) => {
                let mean = record
                    .p50_ms
                    .map_or(l, |p| (p * ok_before + l) / (ok_before + 1.0));
                record.p50_ms = Some((mean * 10.0).round() / 10.0);
                record.p99_ms = Some(record.p99_ms.map_or(l, |p| p.max(l)));
            }
        }
        // The second's record is written at its tick, with the load generators' (so the
        // trace and the charts see each second once).
        if !self.traffic.ticking {
            self.traffic.ticking = true;
            self.timers
                .push(SimTime(time as u64 * 1000), Timer::TrafficTick);
        }
    }

    fn push_second(&mut self, mut record: ServiceSecond) {
        // Single requests (through the ingress) this Service got during the second.
        let key = (record.namespace.clone(), record.service.clone());
        if let Some(single) = self.traffic.pending.remove(&key) {
            record.requests += single.requests;
            record.errors += single.errors;
            record.sampled += single.sampled;
            record.p50_ms = record.p50_ms.or(single.p50_ms);
            record.p99_ms = record.p99_ms.or(single.p99_ms);
        }
        self.traffic.seconds.push(record);
        if self.traffic.seconds.len() > MAX_SECONDS {
            let drop = self.traffic.seconds.len() - MAX_SECONDS;
            self.traffic.seconds.drain(..drop);
            self.traffic.dropped += drop;
        }
    }

    /// One Service's second: samples, queues, the record, and the Services its programs
    /// called.
    fn load_service(&mut self, a: &Arrivals, now: SimTime) -> (ServiceSecond, Vec<Call>) {
        let mut record = ServiceSecond {
            time: now.as_secs_f64(),
            namespace: a.namespace.clone(),
            service: a.service.clone(),
            requests: a.count,
            errors: 0,
            p50_ms: None,
            p99_ms: None,
            endpoints: 0,
            sampled: 0,
        };
        let route = self
            .store
            .services
            .lookup(&a.namespace, &a.service)
            .and_then(|id| self.route_for_traffic(id));
        let Some(route) = route else {
            record.errors = a.count;
            return (record, Vec::new());
        };
        let n_endpoints = route.targets.len() + route.declared.len();
        record.endpoints = n_endpoints as u32;
        if n_endpoints == 0 {
            record.errors = a.count;
            return (record, Vec::new());
        }
        // Even split; the remainder goes to endpoints in turn, moving with the second.
        let base = a.count / n_endpoints as u64;
        let rem = (a.count % n_endpoints as u64) as usize;
        let shift = (now.millis() / 1000) as usize % n_endpoints;
        let share = |i: usize| base + u64::from((i + n_endpoints - shift) % n_endpoints < rem);
        let mut loads: Vec<PodLoad> = Vec::new();
        let mut downstream: Vec<Call> = Vec::new();
        let (clock, seed) = (self.program_clock(), self.config.seed);
        for (i, target) in route.targets.iter().enumerate() {
            let n = share(i);
            if n == 0 {
                continue;
            }
            let mut target = target.clone();
            let req_seq = self.store.next_request_seq();
            let net: Box<dyn Network> = if target.calls_out() {
                Box::new(self.routes(&a.namespace, 1, req_seq))
            } else {
                NoNetwork::boxed()
            };
            let path = if a.path.is_empty() { "/" } else { &a.path };
            let req = WorkerRequest::to_service(&a.method, path, &a.body);
            let (reply, net, mut effects) = target.request(now, clock, seed, req, net);
            record.sampled += 1;
            self.traffic.real_runs += 1;
            let called = net_called(&*net);
            self.apply_routes(net);
            for c in called {
                if !downstream
                    .iter()
                    .any(|d| d.namespace == c.namespace && d.service == c.service)
                {
                    downstream.push(c);
                }
            }
            if self.traffic.real_requests {
                let extra = (n - 1).min(MAX_REAL_PER_POD);
                let mut copy = target.clone();
                for _ in 0..extra {
                    let (_, _, e) = copy.request(now, clock, seed, req, NoNetwork::boxed());
                    self.traffic.real_runs += 1;
                    effects.invocations += e.invocations;
                }
            }
            // The sample was one of the n requests; the others were served too.
            effects.served += n - 1;
            let key = (target.pod, target.ci);
            let ok_ms = match &reply {
                WorkerReply::Response(r, ms) if r.status < 500 => Some(*ms),
                _ => None,
            };
            self.apply_effects(target.pod, target.ci, effects);
            match ok_ms {
                Some(s) => {
                    let (load, timed_out) = self.queue_step(key, n, s);
                    record.errors += timed_out;
                    loads.push(load);
                }
                None => {
                    record.errors += n;
                    self.traffic.queues.remove(&key);
                }
            }
        }
        for (j, pod) in route.declared.iter().enumerate() {
            let n = share(route.targets.len() + j);
            if n > 0 {
                let (load, timed_out) = self.queue_step((*pod, usize::MAX), n, DECLARED_SERVICE_MS);
                record.errors += timed_out;
                loads.push(load);
            }
        }
        record.p50_ms = mixture_quantile(&loads, 0.5);
        record.p99_ms = mixture_quantile(&loads, 0.99);
        (record, downstream)
    }

    /// Advances one pod's queue by a second with `n` arrivals and service time `s_ms`;
    /// returns its latency distribution and how many requests timed out. The backlog never
    /// holds more than the pod can serve within the client's timeout: beyond that, requests
    /// wait past it and fail, and are not served later (so the queue drains as soon as the
    /// load drops, as a server whose clients gave up).
    fn queue_step(&mut self, key: (ObjId, usize), n: u64, s_ms: f64) -> (PodLoad, u64) {
        let s_ms = s_ms.max(0.001);
        let mu = 1000.0 / s_ms; // per second
        let lambda = n as f64;
        let cap = mu * REQUEST_TIMEOUT_MS as f64 / 1000.0;
        let backlog = self.traffic.queues.get(&key).copied().unwrap_or(0.0);
        let raw = backlog + lambda - mu;
        let overflow = (raw - cap).max(0.0).round();
        let after = raw.clamp(0.0, cap);
        self.traffic.queues.insert(key, after);
        // What the pod served this second kept its CPU busy (at most the whole second).
        let served = (backlog + lambda - after - overflow).max(0.0);
        let busy_ms = (served * s_ms).min(1000.0);
        let now = self.store.now;
        self.traffic.cpu.record(key.0, key.1, now, busy_ms);
        // Requests this second wait behind the average backlog.
        let wait_ms = (backlog + after) / 2.0 * s_ms;
        let rho = (lambda / mu).min(0.99);
        let load = PodLoad {
            weight: (lambda - overflow).max(0.0),
            base_ms: s_ms + wait_ms,
            rho,
            drain_per_ms: (mu - rho * mu) / 1000.0,
        };
        (load, overflow as u64)
    }

    fn route_for_traffic(&self, svc: ObjId) -> Option<RouteService> {
        let (_, s) = self.store.services.get(svc)?;
        let (targets, declared) = self.service_targets(svc);
        Some(RouteService {
            namespace: s.metadata.namespace.clone().unwrap_or_default(),
            name: s.metadata.name.clone().unwrap_or_default(),
            cluster_ip: String::new(),
            ports: Vec::new(),
            targets,
            declared,
        })
    }
}

/// The calls a program made during the invocation behind `net`.
fn net_called(net: &dyn Network) -> Vec<Call> {
    let any: &dyn std::any::Any = net;
    any.downcast_ref::<crate::network::Routes>()
        .map(|r| r.called.clone())
        .unwrap_or_default()
}

/// Arrivals at the same Service in the same second, summed (the first flow's request is
/// the one sampled).
fn merge_arrivals(list: Vec<Arrivals>) -> Vec<Arrivals> {
    let mut out: Vec<Arrivals> = Vec::new();
    for a in list {
        match out
            .iter_mut()
            .find(|o| o.namespace == a.namespace && o.service == a.service)
        {
            Some(o) => o.count += a.count,
            None => out.push(a),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(weight: f64, s: f64, rho: f64) -> PodLoad {
        let mu = 1000.0 / s;
        PodLoad {
            weight,
            base_ms: s,
            rho,
            drain_per_ms: (mu - rho * mu) / 1000.0,
        }
    }

    #[test]
    fn latency_quantiles_follow_the_queue() {
        // Lightly loaded: p50 is the service time, p99 a little above.
        let light = [load(10.0, 5.0, 0.1)];
        assert_eq!(mixture_quantile(&light, 0.5), Some(5.0));
        let p99_light = mixture_quantile(&light, 0.99).unwrap();
        // Heavily loaded: both rise.
        let heavy = [load(10.0, 5.0, 0.9)];
        let p50_heavy = mixture_quantile(&heavy, 0.5).unwrap();
        let p99_heavy = mixture_quantile(&heavy, 0.99).unwrap();
        assert!(
            p50_heavy > 5.0 && p99_heavy > 3.0 * p99_light,
            "{p50_heavy} {p99_heavy} {p99_light}"
        );
        // M/M/1 wait: P(W > w) = ρ e^{-(μ-λ)w}; p99 at ρ=0.9, S=5 ms: w = ln(90)/(0.02/ms).
        let expect = 5.0 + (0.9f64 / 0.01).ln() / 0.02;
        assert!((p99_heavy - expect).abs() < 0.2, "{p99_heavy} vs {expect}");
        assert_eq!(mixture_quantile(&[], 0.5), None);
    }

    #[test]
    fn an_overloaded_queue_times_out_and_drains_when_the_load_drops() {
        let mut sim = Sim::new(Default::default());
        let key = (1, 0);
        // 10 ms per request: 100/s capacity; 200/s for a minute.
        let mut timed_out = 0;
        for _ in 0..60 {
            let (load, t) = sim.queue_step(key, 200, 10.0);
            timed_out += t;
            // Nobody waits past the 30 s timeout.
            assert!(load.base_ms <= 30_010.0, "{}", load.base_ms);
        }
        assert!(timed_out > 2_000, "{timed_out}");
        // Load halves: the backlog (at most 30 s of work, 3,000 requests) drains at 50/s.
        let mut last = 0.0;
        for _ in 0..61 {
            let (load, t) = sim.queue_step(key, 50, 10.0);
            assert_eq!(t, 0);
            last = load.base_ms;
        }
        assert!(last < 20.0, "{last}");
    }

    #[test]
    fn a_mixture_weights_its_parts() {
        // 99 requests on a fast pod, 1 on a slow one: p50 is fast; p99 is at the edge.
        let m = [load(99.0, 1.0, 0.0), load(1.0, 100.0, 0.0)];
        assert_eq!(mixture_quantile(&m, 0.5), Some(1.0));
        assert_eq!(mixture_quantile(&m, 0.995), Some(100.0));
    }
}
