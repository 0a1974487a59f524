//! A port of `pkg/controller/podautoscaler/horizontal.go`: `reconcileAutoscaler` for
//! Resource metrics with utilization or average-value targets, its conditions (`AbleToScale`,
//! `ScalingActive`, `ScalingLimited`) and events, `normalizeDesiredReplicas` (no `behavior`:
//! the 5-minute downscale window and the 2×/4-pod scale-up limit) and
//! `normalizeDesiredReplicasWithBehaviors` (stabilization windows, policies, `selectPolicy`).
//! The target's `/scale` is read and written through `Sim::api`, as the controller's scale
//! client does; each rescale is a decision with its arithmetic, on the target's "why".

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, MetricSpec,
    MetricStatus, MetricValueStatus, ResourceMetricStatus,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::{Value, json};

use super::replica_calculator::{self, PodInfo, PodMetric};
use super::{DOWNSCALE_STABILIZATION_MS, HpaMemory, SYNC_PERIOD_MS, ScaleEvent};
use crate::api::hpa_defaults::{default_scale_down, default_scale_up, merge_rules};
use crate::api::resource::RESOURCES;
use crate::apiserver::call::{ApiCall, Verb, WriteOptions};
use crate::controller::Work;
use crate::sim::{Sim, Timer};
use crate::store::{Kind, NewEvent, ObjId, ObjRef};
use crate::time::{SimDuration, SimTime};

/// `scaleUpLimitFactor` and `scaleUpLimitMinimum` (no `behavior`).
const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

const SOURCE: &str = "horizontal-pod-autoscaler";

/// One metric's proposal: replica count, metric name, status, arithmetic.
type MetricProposal = (i32, String, MetricStatus, String);
/// Why one metric has no proposal: the condition reason, the inner error, the error.
type MetricFailure = (&'static str, String, String);

/// `setConditionInList`: the transition time moves only when the status does.
pub fn set_condition(
    conditions: &mut Vec<HorizontalPodAutoscalerCondition>,
    type_: &str,
    status: bool,
    reason: &str,
    message: String,
    now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) {
    let status = if status { "True" } else { "False" };
    let i = match conditions.iter().position(|c| c.type_ == type_) {
        Some(i) => i,
        None => {
            conditions.push(HorizontalPodAutoscalerCondition {
                type_: type_.into(),
                ..Default::default()
            });
            conditions.len() - 1
        }
    };
    let c = &mut conditions[i];
    if c.status != status {
        c.last_transition_time = Some(now.clone());
    }
    c.status = status.into();
    c.reason = Some(reason.into());
    c.message = Some(message);
}

/// A milli-quantity as `resource.NewMilliQuantity(v, DecimalSI).String()` prints it.
pub fn milli_quantity(v: i64) -> Quantity {
    if v % 1000 == 0 {
        Quantity((v / 1000).to_string())
    } else {
        Quantity(format!("{v}m"))
    }
}

/// The target's scale as the controller reads it.
struct Target {
    kind: Kind,
    id: ObjId,
    scale: Value,
    replicas: i32,
    selector: String,
}

/// What one sync works out (for the status, the decision and the events).
struct Outcome {
    desired: i32,
    rescale: bool,
    reason: String,
    arithmetic: String,
}

impl Sim {
    /// One sync of an HPA (`reconcileKey`), and the next one a period later.
    pub(crate) fn sync_hpa(&mut self, id: ObjId) {
        let Some((_, h)) = self.store.hpas.get(id).cloned() else {
            self.hpa_state.remove(&id);
            return;
        };
        self.after(SimDuration(SYNC_PERIOD_MS), Timer::Requeue(Work::Hpa(id)));
        self.reconcile_hpa(id, &h);
    }

    /// Queues an HPA's first sync, one resync period after it was created.
    pub(crate) fn hpa_created(&mut self, id: ObjId) {
        self.after(SimDuration(SYNC_PERIOD_MS), Timer::Requeue(Work::Hpa(id)));
    }

    fn hpa_ref(&self, id: ObjId, h: &HorizontalPodAutoscaler) -> ObjRef {
        ObjRef {
            kind: Kind::HorizontalPodAutoscaler,
            id,
            name: h.metadata.name.as_deref().unwrap_or("").into(),
            namespace: h.metadata.namespace.as_deref().unwrap_or("").into(),
        }
    }

    fn hpa_event(&mut self, object: &ObjRef, warning: bool, reason: &'static str, message: String) {
        self.store.event(NewEvent {
            object: object.clone(),
            warning,
            reason,
            message,
            source: SOURCE,
            host: None,
        });
    }

    /// `scaleForResourceMappings` through the API: the target's Scale, or the error text.
    fn hpa_target(&self, ns: &str, h: &HorizontalPodAutoscaler) -> Result<Target, String> {
        let r = &h
            .spec
            .as_ref()
            .map(|s| s.scale_target_ref.clone())
            .unwrap_or_default();
        let api_version = r.api_version.as_deref().unwrap_or("");
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let res = RESOURCES
            .iter()
            .find(|res| res.group == group && res.kind.as_str() == r.kind)
            .filter(|res| matches!(res.kind, Kind::Deployment | Kind::ReplicaSet))
            .ok_or_else(|| format!("no matches for kind {:?} in group {:?}", r.kind, group))?;
        let scale = self
            .api_scale(res, Some(ns), &r.name)
            .map_err(|e| e.to_string())?;
        let id = match res.kind {
            Kind::Deployment => self.store.deployments.lookup(ns, &r.name),
            _ => self.store.replicasets.lookup(ns, &r.name),
        }
        .ok_or_else(|| format!("{} {:?} not found", res.qualified(), r.name))?;
        let replicas = scale
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0) as i32;
        let selector = scale
            .pointer("/status/selector")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        Ok(Target {
            kind: res.kind,
            id,
            scale,
            replicas,
            selector,
        })
    }

    /// `reconcileAutoscaler`.
    fn reconcile_hpa(&mut self, id: ObjId, h: &HorizontalPodAutoscaler) {
        let now_t = self.store.time(self.store.now);
        let hpa = self.hpa_ref(id, h);
        let ns = hpa.namespace.to_string();
        let spec = h.spec.clone().unwrap_or_default();
        let mut status = h.status.clone().unwrap_or_default();
        status.observed_generation = h.metadata.generation;
        let target = match self.hpa_target(&ns, h) {
            Ok(t) => t,
            Err(msg) => {
                self.hpa_event(&hpa, true, "FailedGetScale", msg.clone());
                set_condition(
                    status.conditions.get_or_insert_default(),
                    "AbleToScale",
                    false,
                    "FailedGetScale",
                    format!(
                        "the HPA controller was unable to get the target's current scale: {msg}"
                    ),
                    &now_t,
                );
                self.write_hpa_status(id, status);
                return;
            }
        };
        let conditions = status.conditions.get_or_insert_default();
        set_condition(
            conditions,
            "AbleToScale",
            true,
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale".into(),
            &now_t,
        );
        let current = target.replicas;
        let min = spec.min_replicas.unwrap_or(1);
        let mut statuses: Vec<MetricStatus> = Vec::new();
        let outcome = if current == 0 && min != 0 {
            set_condition(
                conditions,
                "ScalingActive",
                false,
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero".into(),
                &now_t,
            );
            Outcome {
                desired: 0,
                rescale: false,
                reason: String::new(),
                arithmetic: String::new(),
            }
        } else if current > spec.max_replicas {
            Outcome {
                desired: spec.max_replicas,
                rescale: true,
                reason: "Current number of replicas above Spec.MaxReplicas".into(),
                arithmetic: format!(
                    "{current} replicas are above maxReplicas {}",
                    spec.max_replicas
                ),
            }
        } else if current < min {
            Outcome {
                desired: min,
                rescale: true,
                reason: "Current number of replicas below Spec.MinReplicas".into(),
                arithmetic: format!("{current} replicas are below minReplicas {min}"),
            }
        } else {
            let metrics = spec.metrics.clone().unwrap_or_default();
            let computed = self.replicas_for_metrics(&hpa, &target, &metrics, &mut statuses);
            let conditions = status.conditions.get_or_insert_default();
            match computed {
                Err((condition, err)) => {
                    if let Some((reason, message)) = condition {
                        set_condition(conditions, "ScalingActive", false, &reason, message, &now_t);
                    }
                    status.current_replicas = Some(current);
                    status.current_metrics = Some(statuses);
                    self.write_hpa_status(id, status);
                    self.hpa_event(&hpa, true, "FailedComputeMetricsReplicas", err);
                    return;
                }
                Ok((proposed, metric, arithmetic)) => {
                    set_condition(
                        conditions,
                        "ScalingActive",
                        true,
                        "ValidMetricFound",
                        format!(
                            "the HPA was able to successfully calculate a replica count from {metric}"
                        ),
                        &now_t,
                    );
                    let mut reason = String::new();
                    if proposed > current {
                        reason = format!("{metric} above target");
                    }
                    if proposed < current {
                        reason = "All metrics below target".into();
                    }
                    let memory = self.hpa_state.entry(id).or_default();
                    let (desired, norm) = match &spec.behavior {
                        None => normalize_desired_replicas(
                            memory,
                            conditions,
                            &now_t,
                            self.store.now,
                            current,
                            proposed,
                            min,
                            spec.max_replicas,
                        ),
                        Some(b) => {
                            let up = merge_rules(b.scale_up.as_ref(), default_scale_up());
                            let mut down = merge_rules(b.scale_down.as_ref(), default_scale_down());
                            down.stabilization_window_seconds
                                .get_or_insert((DOWNSCALE_STABILIZATION_MS / 1000) as i32);
                            normalize_with_behaviors(
                                memory,
                                conditions,
                                &now_t,
                                self.store.now,
                                &up,
                                &down,
                                current,
                                proposed,
                                min,
                                spec.max_replicas,
                            )
                        }
                    };
                    Outcome {
                        desired,
                        rescale: desired != current,
                        reason,
                        arithmetic: format!("{arithmetic}; {norm}"),
                    }
                }
            }
        };
        let mut desired = outcome.desired;
        let conditions = status.conditions.get_or_insert_default();
        if outcome.rescale {
            let mut scale = target.scale.clone();
            if let Some(s) = scale.get_mut("spec").and_then(Value::as_object_mut) {
                s.insert("replicas".into(), json!(desired));
            }
            let res = crate::api::resource::of(target.kind);
            let call = ApiCall {
                verb: Verb::Update,
                resource: res.plural.into(),
                group: res.group.into(),
                namespace: Some(ns.clone()),
                name: Some(
                    h.spec
                        .as_ref()
                        .map(|s| s.scale_target_ref.name.clone())
                        .unwrap_or_default(),
                ),
                subresource: Some("scale".into()),
                patch_type: None,
                body: scale,
                options: WriteOptions {
                    field_manager: Some("kube-controller-manager".into()),
                    ..WriteOptions::default()
                },
            };
            // The decision first, so the "why" reads cause before effect.
            let target_ref = ObjRef {
                kind: target.kind,
                id: target.id,
                name: spec.scale_target_ref.name.as_str().into(),
                namespace: ns.as_str().into(),
            };
            self.store.decide(
                target_ref,
                format!(
                    "HorizontalPodAutoscaler {} scaled {} {} from {current} to {desired} replicas: {}.",
                    hpa.name,
                    spec.scale_target_ref.name,
                    if desired > current { "up" } else { "down" },
                    outcome.reason
                ),
                format!(
                    "HorizontalPodAutoscaler {}: {}; scaled {current} → {desired} ({})",
                    hpa.name, outcome.arithmetic, outcome.reason
                ),
            );
            if let Err(e) = self.api(&call) {
                let conditions = status.conditions.get_or_insert_default();
                self.hpa_event(
                    &hpa,
                    true,
                    "FailedRescale",
                    format!(
                        "New size: {desired}; reason: {}; error: {e}",
                        outcome.reason
                    ),
                );
                set_condition(
                    conditions,
                    "AbleToScale",
                    false,
                    "FailedUpdateScale",
                    format!("the HPA controller was unable to update the target scale: {e}"),
                    &now_t,
                );
                status.current_replicas = Some(current);
                status.current_metrics = Some(statuses);
                self.write_hpa_status(id, status);
                return;
            }
            let conditions = status.conditions.get_or_insert_default();
            set_condition(
                conditions,
                "AbleToScale",
                true,
                "SucceededRescale",
                format!("the HPA controller was able to update the target scale to {desired}"),
                &now_t,
            );
            self.hpa_event(
                &hpa,
                false,
                "SuccessfulRescale",
                format!("New size: {desired}; reason: {}", outcome.reason),
            );
            if spec.behavior.is_some() {
                let longest = longest_policy_period(&spec);
                let memory = self.hpa_state.entry(id).or_default();
                store_scale_event(memory, self.store.now, longest, current, desired);
            }
            status.last_scale_time = Some(now_t);
        } else {
            let _ = conditions;
            desired = current;
        }
        // setStatus
        status.current_replicas = Some(current);
        status.desired_replicas = desired;
        status.current_metrics = Some(statuses).filter(|s| !s.is_empty());
        self.write_hpa_status(id, status);
    }

    /// `computeReplicasForMetrics`: the largest proposal over the metrics, its metric's
    /// name and arithmetic; or the condition and error when no metric could be computed.
    #[allow(clippy::type_complexity)]
    fn replicas_for_metrics(
        &mut self,
        hpa: &ObjRef,
        target: &Target,
        metrics: &[MetricSpec],
        statuses: &mut Vec<MetricStatus>,
    ) -> Result<(i32, String, String), (Option<(String, String)>, String)> {
        let selector = match crate::api::selector::Selector::parse(&target.selector) {
            Ok(s) if !target.selector.is_empty() => s,
            _ => {
                let msg = "selector is required".to_string();
                return Err((
                    Some((
                        "InvalidSelector".into(),
                        "the HPA target's scale is missing a selector".into(),
                    )),
                    msg,
                ));
            }
        };
        *statuses = vec![MetricStatus::default(); metrics.len()];
        let mut best: Option<(i32, String, String)> = None;
        let mut invalid = 0;
        let mut first_error: Option<(Option<(String, String)>, String)> = None;
        for (i, m) in metrics.iter().enumerate() {
            match self.replicas_for_metric(&hpa.namespace, target, &selector, m) {
                Ok((count, name, status, arithmetic)) => {
                    statuses[i] = status;
                    if best.as_ref().is_none_or(|b| b.0 == 0 || count > b.0) {
                        best = Some((count, name, arithmetic));
                    }
                }
                Err((reason, inner, err)) => {
                    // getUnableComputeReplicaCountCondition: the event and the condition
                    // carry the inner error, the returned error wraps it.
                    self.hpa_event(hpa, true, reason, inner.clone());
                    if first_error.is_none() {
                        let message =
                            format!("the HPA was unable to compute the replica count: {inner}");
                        first_error = Some((Some((reason.to_string(), message)), err));
                    }
                    invalid += 1;
                }
            }
        }
        let replicas = best.as_ref().map_or(0, |b| b.0);
        if invalid >= metrics.len() || (invalid > 0 && replicas < target.replicas) {
            let (cond, err) = first_error.unwrap_or((None, "no metrics".into()));
            return Err((
                cond,
                format!(
                    "invalid metrics ({invalid} invalid out of {}), first error is: {err}",
                    metrics.len()
                ),
            ));
        }
        Ok(best.unwrap_or((0, String::new(), String::new())))
    }

    /// `computeReplicasForMetric` for one metric: (count, metric name, status, arithmetic),
    /// or (condition reason, inner error, error).
    fn replicas_for_metric(
        &self,
        ns: &str,
        target: &Target,
        selector: &crate::api::selector::Selector,
        m: &MetricSpec,
    ) -> Result<MetricProposal, MetricFailure> {
        let Some(r) = m.resource.as_ref().filter(|_| m.type_ == "Resource") else {
            let e = format!("kubesim serves only Resource metrics, not {:?}", m.type_);
            return Err(("FailedGetMetric", e.clone(), e));
        };
        let resource = r.name.as_str();
        let fail = |e: String| {
            (
                "FailedGetResourceMetric",
                e.clone(),
                format!("failed to get {resource} resource metric value: {e}"),
            )
        };
        let (pods, metrics) = self.hpa_pods(ns, selector, resource);
        let current = target.replicas;
        if let Some(util) = r.target.average_utilization {
            let got = replica_calculator::get_resource_replicas(
                current,
                util,
                resource,
                &pods,
                metrics,
                self.store.now,
            )
            .map_err(|e| fail(format!("failed to get {resource} utilization: {e}")))?;
            let status = MetricStatus {
                type_: "Resource".into(),
                resource: Some(ResourceMetricStatus {
                    name: resource.into(),
                    current: MetricValueStatus {
                        average_utilization: Some(got.utilization),
                        average_value: Some(milli_quantity(got.raw)),
                        value: None,
                    },
                }),
                ..Default::default()
            };
            let arithmetic = format!(
                "{resource} {}% of request vs target {util}% (ratio {:.2}): {}",
                got.utilization, got.ratio, got.reasoning
            );
            return Ok((
                got.count,
                format!("{resource} resource utilization (percentage of request)"),
                status,
                arithmetic,
            ));
        }
        // An average value target (`GetRawResourceReplicas`): usage per pod against it.
        let target_milli = r
            .target
            .average_value
            .as_ref()
            .and_then(|q| crate::api::quantity::parse_quantity(&q.0).ok())
            .map(|q| q.milli_value())
            .unwrap_or(0)
            .max(1);
        let metrics_n = metrics.len() as i64;
        if metrics_n == 0 {
            return Err(fail(format!(
                "failed to get {resource} usage: unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
            )));
        }
        let total: i64 = metrics.values().map(|m| m.value).sum();
        let ratio = total as f64 / (target_milli as f64 * metrics_n as f64);
        let count = if (1.0 - replica_calculator::TOLERANCE..=1.0 + replica_calculator::TOLERANCE)
            .contains(&ratio)
        {
            current
        } else {
            (total as f64 / target_milli as f64).ceil() as i32
        };
        let status = MetricStatus {
            type_: "Resource".into(),
            resource: Some(ResourceMetricStatus {
                name: resource.into(),
                current: MetricValueStatus {
                    average_value: Some(milli_quantity(total / metrics_n)),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        Ok((
            count,
            format!("{resource} resource"),
            status,
            format!(
                "{resource} {}m per pod vs target {target_milli}m: {count}",
                total / metrics_n
            ),
        ))
    }

    /// The pods the target's selector picks, as `groupPods` reads them, and their metrics.
    fn hpa_pods(
        &self,
        ns: &str,
        selector: &crate::api::selector::Selector,
        resource: &str,
    ) -> (Vec<PodInfo>, BTreeMap<String, PodMetric>) {
        let mut pods = Vec::new();
        let mut metrics = BTreeMap::new();
        for pid in self.store.pods.ids_in(ns) {
            let Some(p) = self.store.pods.get(pid) else {
                continue;
            };
            if !selector.matches(p.labels()) {
                continue;
            }
            let name = p.name.to_string();
            let phase = match p.phase {
                crate::store::pod::Phase::Pending => replica_calculator::Phase::Pending,
                crate::store::pod::Phase::Failed => replica_calculator::Phase::Failed,
                _ => replica_calculator::Phase::Running,
            };
            let mut request: Result<i64, String> = Ok(0);
            for c in p
                .template
                .spec
                .as_ref()
                .map(|s| s.containers.as_slice())
                .unwrap_or_default()
            {
                let q = c
                    .resources
                    .as_ref()
                    .and_then(|r| r.requests.as_ref())
                    .and_then(|r| r.get(resource));
                let milli = q.and_then(|q| crate::api::quantity::parse_quantity(&q.0).ok());
                match (milli, &mut request) {
                    (Some(v), Ok(sum)) => *sum += v.milli_value(),
                    (None, Ok(_)) => {
                        request = Err(format!(
                            "missing request for {resource} in container {} of Pod {name}",
                            c.name
                        ));
                    }
                    _ => {}
                }
            }
            pods.push(PodInfo {
                name: name.clone(),
                phase,
                deleting: p.deletion.is_some(),
                start: p.start_time,
                ready: p.node.map(|_| (p.ready, p.ready_changed)),
                request,
            });
            if resource == "cpu"
                && let Some(u) = self.pod_usage(pid)
            {
                let value = u
                    .containers
                    .iter()
                    .map(|c| c.cpu_nanocores.div_ceil(1_000_000) as i64)
                    .sum();
                metrics.insert(
                    name,
                    PodMetric {
                        value,
                        timestamp: u.timestamp,
                        window_ms: u.window_ms,
                    },
                );
            } else if resource == "memory"
                && let Some(u) = self.pod_usage(pid)
            {
                let value = u
                    .containers
                    .iter()
                    .map(|c| c.memory_bytes as i64 * 1000)
                    .sum();
                metrics.insert(
                    name,
                    PodMetric {
                        value,
                        timestamp: u.timestamp,
                        window_ms: u.window_ms,
                    },
                );
            }
        }
        (pods, metrics)
    }
}

fn longest_policy_period(
    spec: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerSpec,
) -> i32 {
    let b = spec.behavior.as_ref();
    let up = merge_rules(b.and_then(|b| b.scale_up.as_ref()), default_scale_up());
    let down = merge_rules(b.and_then(|b| b.scale_down.as_ref()), default_scale_down());
    up.policies
        .iter()
        .chain(down.policies.iter())
        .flatten()
        .map(|p| p.period_seconds)
        .max()
        .unwrap_or(0)
}

/// `storeScaleEvent`: remembers a rescale, reusing an outdated slot.
pub fn store_scale_event(
    memory: &mut HpaMemory,
    now: SimTime,
    longest_s: i32,
    prev: i32,
    new: i32,
) {
    let cutoff = now.millis().saturating_sub(longest_s as u64 * 1000);
    let (events, change) = if new > prev {
        (&mut memory.scale_up_events, new - prev)
    } else {
        (&mut memory.scale_down_events, prev - new)
    };
    let mut slot = None;
    for (i, e) in events.iter_mut().enumerate() {
        if e.time.millis() < cutoff {
            e.outdated = true;
        }
        if e.outdated && slot.is_none() {
            slot = Some(i);
        }
    }
    let ev = ScaleEvent {
        change,
        time: now,
        outdated: false,
    };
    match slot {
        Some(i) => events[i] = ev,
        None => events.push(ev),
    }
}

/// `getReplicasChangePerPeriod`.
fn change_per_period(period_s: i32, events: &[ScaleEvent], now: SimTime) -> i32 {
    let cutoff = now.millis() as i64 - i64::from(period_s) * 1000;
    events
        .iter()
        .filter(|e| e.time.millis() as i64 > cutoff)
        .map(|e| e.change)
        .sum()
}

/// `calculateScaleUpLimitWithScalingRules`.
pub fn scale_up_limit(
    current: i32,
    memory: &HpaMemory,
    rules: &HPAScalingRules,
    now: SimTime,
) -> i32 {
    let select = rules.select_policy.as_deref().unwrap_or("Max");
    if select == "Disabled" {
        return current;
    }
    let min_policy = select == "Min";
    let mut result = if min_policy { i32::MAX } else { i32::MIN };
    for p in rules.policies.iter().flatten() {
        let added = change_per_period(p.period_seconds, &memory.scale_up_events, now);
        let deleted = change_per_period(p.period_seconds, &memory.scale_down_events, now);
        let start = current - added + deleted;
        let proposed = if p.type_ == "Pods" {
            start + p.value
        } else {
            (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32
        };
        result = if min_policy {
            result.min(proposed)
        } else {
            result.max(proposed)
        };
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`.
pub fn scale_down_limit(
    current: i32,
    memory: &HpaMemory,
    rules: &HPAScalingRules,
    now: SimTime,
) -> i32 {
    let select = rules.select_policy.as_deref().unwrap_or("Max");
    if select == "Disabled" {
        return current;
    }
    let min_policy = select == "Min";
    let mut result = if min_policy { i32::MIN } else { i32::MAX };
    for p in rules.policies.iter().flatten() {
        let added = change_per_period(p.period_seconds, &memory.scale_up_events, now);
        let deleted = change_per_period(p.period_seconds, &memory.scale_down_events, now);
        let start = current - added + deleted;
        let proposed = if p.type_ == "Pods" {
            start - p.value
        } else {
            (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32
        };
        result = if min_policy {
            result.max(proposed)
        } else {
            result.min(proposed)
        };
    }
    result
}

/// `normalizeDesiredReplicas` (no `behavior`): the highest recommendation of the last five
/// minutes, then at most max(2 × current, 4) and within min/max. Returns the count and its
/// arithmetic.
#[allow(clippy::too_many_arguments)]
pub fn normalize_desired_replicas(
    memory: &mut HpaMemory,
    conditions: &mut Vec<HorizontalPodAutoscalerCondition>,
    now_t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    now: SimTime,
    current: i32,
    proposed: i32,
    min: i32,
    max: i32,
) -> (i32, String) {
    // stabilizeRecommendation
    let cutoff = now.millis() as i64 - DOWNSCALE_STABILIZATION_MS as i64;
    let mut stabilized = proposed;
    let mut old = None;
    for (i, (t, r)) in memory.recommendations.iter().enumerate() {
        if (t.millis() as i64) < cutoff {
            old = Some(i);
        } else if *r > stabilized {
            stabilized = *r;
        }
    }
    match old {
        Some(i) => memory.recommendations[i] = (now, proposed),
        None => memory.recommendations.push((now, proposed)),
    }
    if stabilized != proposed {
        set_condition(conditions, "AbleToScale", true, "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation".into(), now_t);
    } else {
        set_condition(
            conditions,
            "AbleToScale",
            true,
            "ReadyForNewScale",
            "recommended size matches current size".into(),
            now_t,
        );
    }
    // convertDesiredReplicasWithRules
    let up_limit = (SCALE_UP_LIMIT_FACTOR * f64::from(current)).max(SCALE_UP_LIMIT_MINIMUM) as i32;
    let (max_allowed, mut cond, mut msg) = if max > up_limit {
        (
            up_limit,
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    } else {
        (
            max,
            "TooManyReplicas",
            "the desired replica count is more than the maximum replica count",
        )
    };
    let desired = if stabilized < min {
        cond = "TooFewReplicas";
        msg = "the desired replica count is less than the minimum replica count";
        min
    } else if stabilized > max_allowed {
        max_allowed
    } else {
        cond = "DesiredWithinRange";
        msg = "the desired count is within the acceptable range";
        stabilized
    };
    set_condition(
        conditions,
        "ScalingLimited",
        desired != stabilized,
        cond,
        msg.into(),
        now_t,
    );
    let mut why = String::new();
    if stabilized != proposed {
        why.push_str(&format!(
            "highest recommendation of the last 300 s is {stabilized}; "
        ));
    }
    why.push_str(&format!(
        "limits (min {min}, max {max}, at most {up_limit} now): {desired}"
    ));
    (desired, why)
}

/// `normalizeDesiredReplicasWithBehaviors`: the stabilization windows, then the policies'
/// rate limits and min/max. Returns the count and its arithmetic.
#[allow(clippy::too_many_arguments)]
pub fn normalize_with_behaviors(
    memory: &mut HpaMemory,
    conditions: &mut Vec<HorizontalPodAutoscalerCondition>,
    now_t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    now: SimTime,
    up: &HPAScalingRules,
    down: &HPAScalingRules,
    current: i32,
    proposed: i32,
    min: i32,
    max: i32,
) -> (i32, String) {
    // stabilizeRecommendationWithBehaviors
    let now_ms = now.millis() as i64;
    let up_cutoff = now_ms - i64::from(up.stabilization_window_seconds.unwrap_or(0)) * 1000;
    let down_cutoff = now_ms - i64::from(down.stabilization_window_seconds.unwrap_or(0)) * 1000;
    let (mut up_rec, mut down_rec) = (proposed, proposed);
    let mut old = None;
    for (i, (t, r)) in memory.recommendations.iter().enumerate() {
        let t = t.millis() as i64;
        if t > up_cutoff {
            up_rec = up_rec.min(*r);
        }
        if t > down_cutoff {
            down_rec = down_rec.max(*r);
        }
        if t < up_cutoff && t < down_cutoff {
            old = Some(i);
        }
    }
    let mut stabilized = current.max(up_rec);
    stabilized = stabilized.min(down_rec);
    match old {
        Some(i) => memory.recommendations[i] = (now, proposed),
        None => memory.recommendations.push((now, proposed)),
    }
    let (reason, message) = if proposed >= current {
        (
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent recommendation",
        )
    } else {
        (
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
    };
    if stabilized != proposed {
        set_condition(
            conditions,
            "AbleToScale",
            true,
            reason,
            message.into(),
            now_t,
        );
    } else {
        set_condition(
            conditions,
            "AbleToScale",
            true,
            "ReadyForNewScale",
            "recommended size matches current size".into(),
            now_t,
        );
    }
    // convertDesiredReplicasWithBehaviorRate
    let mut limit_note = String::new();
    let (mut desired, mut cond, mut msg) = (
        stabilized,
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    );
    if stabilized > current {
        let limit = scale_up_limit(current, memory, up, now).max(current);
        limit_note = format!("scale-up policies allow {limit}");
        let (max_allowed, c, m) = if max > limit {
            (
                limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        } else {
            (
                max,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        };
        if stabilized > max_allowed {
            (desired, cond, msg) = (max_allowed, c, m);
        }
    } else if stabilized < current {
        let limit = scale_down_limit(current, memory, down, now).min(current);
        limit_note = format!("scale-down policies allow {limit}");
        let (min_allowed, c, m) = if min < limit {
            (
                limit,
                "ScaleDownLimit",
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        } else {
            (
                min,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        };
        if stabilized < min_allowed {
            (desired, cond, msg) = (min_allowed, c, m);
        }
    }
    set_condition(
        conditions,
        "ScalingLimited",
        desired != stabilized,
        cond,
        msg.into(),
        now_t,
    );
    let mut why = String::new();
    if stabilized != proposed {
        let window = if proposed >= current {
            up.stabilization_window_seconds.unwrap_or(0)
        } else {
            down.stabilization_window_seconds.unwrap_or(0)
        };
        why.push_str(&format!(
            "stabilization window {window} s holds the recommendation at {stabilized}; "
        ));
    }
    if !limit_note.is_empty() {
        why.push_str(&format!("{limit_note}; "));
    }
    why.push_str(&format!("min {min}, max {max}: {desired}"));
    (desired, why)
}

#[cfg(test)]
mod tests;
