//! The `--trace` record: one JSON object each time a Deployment's or ReplicaSet's visible
//! numbers change, with the keys the issue fixes (`time`, `deployments[]` with counts,
//! conditions and `replicaSets[]`).

use std::sync::Arc;

use serde::Serialize;

use crate::controller::deployment::util;
use crate::sim::Sim;

/// One line of the trace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceRecord {
    /// Virtual seconds.
    pub time: f64,
    /// Every Deployment, by namespace then name. Shared with the records before it while it
    /// has not changed: traffic adds a record every virtual second, and a copy of every
    /// Deployment's numbers in each made a long run's trace grow by about a kilobyte a second.
    pub deployments: Arc<Vec<DeploymentTrace>>,
    /// Traffic per Service over the seconds that ended since the previous record.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<crate::traffic::ServiceSecond>,
    /// A `request` step's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestTrace>,
}

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct RequestTrace {
    pub namespace: String,
    pub url: String,
    pub method: String,
    /// 0 when the connection failed.
    pub status: u16,
    /// The response body, or curl's error.
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// A Deployment's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct DeploymentTrace {
    pub namespace: String,
    pub name: String,
    pub revision: i64,
    pub replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub unavailable_replicas: i32,
    pub conditions: Vec<ConditionTrace>,
    pub replica_sets: Vec<ReplicaSetTrace>,
    /// The HorizontalPodAutoscaler that sizes it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaler: Option<AutoscalerTrace>,
}

/// An HPA's view of its target: what it wants and the utilization it saw (first metric).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct AutoscalerTrace {
    pub name: String,
    pub desired_replicas: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_utilization: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_utilization: Option<i32>,
}

/// The first HPA in `ns` whose target is the Deployment `name`, as traced.
fn autoscaler_of(sim: &Sim, ns: &str, name: &str) -> Option<AutoscalerTrace> {
    sim.store.hpas.names_in(ns).find_map(|(_, id)| {
        let (_, h) = sim.store.hpas.get(id)?;
        let spec = h.spec.as_ref()?;
        if spec.scale_target_ref.kind != "Deployment" || spec.scale_target_ref.name != name {
            return None;
        }
        let status = h.status.clone().unwrap_or_default();
        Some(AutoscalerTrace {
            name: h.metadata.name.clone().unwrap_or_default(),
            desired_replicas: status.desired_replicas,
            current_utilization: status
                .current_metrics
                .iter()
                .flatten()
                .next()
                .and_then(|m| m.resource.as_ref())
                .and_then(|r| r.current.average_utilization),
            target_utilization: spec
                .metrics
                .iter()
                .flatten()
                .next()
                .and_then(|m| m.resource.as_ref())
                .and_then(|r| r.target.average_utilization),
        })
    })
}

/// A condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ConditionTrace {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
}

/// A ReplicaSet's numbers (`replicas` is its spec.replicas).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ReplicaSetTrace {
    pub name: String,
    pub revision: i64,
    pub replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
}

/// Collects records, keeping only changes.
#[derive(Debug, Default)]
pub struct Tracer {
    last: Option<Arc<Vec<DeploymentTrace>>>,
    /// Traffic seconds already recorded (counting dropped ones).
    seconds_seen: usize,
    /// Records so far.
    pub records: Vec<TraceRecord>,
}

impl Tracer {
    /// Looks at the cluster; records a line if anything traced changed.
    pub fn observe(&mut self, sim: &mut Sim) {
        let total = sim.traffic.seconds.len() + sim.traffic.dropped;
        let fresh_traffic = total > self.seconds_seen;
        if !sim.store.workloads_dirty && self.last.is_some() && !fresh_traffic {
            return;
        }
        sim.store.workloads_dirty = false;
        let now = snapshot(sim);
        let changed = self.last.as_deref() != Some(&now);
        if changed || fresh_traffic {
            let skip = self.seconds_seen.saturating_sub(sim.traffic.dropped);
            let services = sim.traffic.seconds.iter().skip(skip).cloned().collect();
            self.seconds_seen = total;
            let deployments = match &self.last {
                Some(last) if !changed => Arc::clone(last),
                _ => Arc::new(now),
            };
            self.records.push(TraceRecord {
                time: sim.now().as_secs_f64(),
                deployments: Arc::clone(&deployments),
                services,
                request: None,
            });
            self.last = Some(deployments);
        }
    }

    /// Records a `request` step's answer.
    pub fn record_request(
        &mut self,
        sim: &Sim,
        namespace: &str,
        url: &str,
        method: &str,
        reply: &crate::network::ServiceReply,
    ) {
        let (status, body, pod, latency_ms) = match reply {
            crate::network::ServiceReply::Response {
                response,
                pod,
                latency_ms,
            } => (
                response.status,
                response.text(),
                Some(pod.clone()),
                Some((latency_ms * 1000.0).round() / 1000.0),
            ),
            crate::network::ServiceReply::Failed(why) => (0, why.clone(), None, None),
        };
        self.records.push(TraceRecord {
            time: sim.now().as_secs_f64(),
            deployments: self.last.clone().unwrap_or_default(),
            services: Vec::new(),
            request: Some(RequestTrace {
                namespace: namespace.to_string(),
                url: url.to_string(),
                method: method.to_string(),
                status,
                body,
                pod,
                latency_ms,
            }),
        });
    }

    /// The records as JSON Lines.
    pub fn to_jsonl(&self) -> String {
        self.records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap_or_default() + "\n")
            .collect()
    }
}

/// The traced numbers of every Deployment now.
pub fn snapshot(sim: &Sim) -> Vec<DeploymentTrace> {
    let mut out = Vec::new();
    for (ns, name, id) in sim.store.deployments.all_names() {
        let Some((_, d)) = sim.store.deployments.get(id) else {
            continue;
        };
        let st = d.status.clone().unwrap_or_default();
        let mut rss = Vec::new();
        for (rev, rid) in sim.revisions(id) {
            let Some(e) = sim.store.replicasets.get(rid) else {
                continue;
            };
            let (_, ready, available) = util::rs_status(&e.rs);
            rss.push(ReplicaSetTrace {
                name: e.rs.metadata.name.clone().unwrap_or_default(),
                revision: rev,
                replicas: util::rs_replicas(&e.rs),
                ready_replicas: ready,
                available_replicas: available,
            });
        }
        out.push(DeploymentTrace {
            namespace: ns.to_string(),
            name: name.to_string(),
            revision: util::revision_of(d.metadata.annotations.as_ref()),
            replicas: st.replicas.unwrap_or(0),
            updated_replicas: st.updated_replicas.unwrap_or(0),
            ready_replicas: st.ready_replicas.unwrap_or(0),
            available_replicas: st.available_replicas.unwrap_or(0),
            unavailable_replicas: st.unavailable_replicas.unwrap_or(0),
            conditions: st
                .conditions
                .iter()
                .flatten()
                .map(|c| ConditionTrace {
                    type_: c.type_.clone(),
                    status: c.status.clone(),
                    reason: c.reason.clone().unwrap_or_default(),
                })
                .collect(),
            replica_sets: rss,
            autoscaler: autoscaler_of(sim, ns, name),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::kubectl::NoFiles;
    use crate::script::{RunOptions, run};

    /// Traffic adds a record every virtual second; while no Deployment changes, those records
    /// share one copy of the Deployments' numbers, so a long run under traffic does not keep
    /// a copy per second (the web UI keeps every record for its timeline).
    #[test]
    fn records_under_steady_traffic_share_the_deployments_they_did_not_change() {
        let text = include_str!("../../scenarios/examples/traffic-rollout.yaml");
        let out = match run(text, RunOptions::default(), &NoFiles) {
            Ok(out) => out,
            Err((_, e)) => panic!("the example runs: {e}"),
        };
        let records = &out.tracer.records;
        let (mut same, mut shared) = (0, 0);
        for pair in records.windows(2) {
            if pair[0].deployments == pair[1].deployments {
                same += 1;
                shared += usize::from(Arc::ptr_eq(&pair[0].deployments, &pair[1].deployments));
            }
        }
        assert!(
            same > 100,
            "a traffic run has many seconds without a change ({same})"
        );
        assert_eq!(
            shared, same,
            "an unchanged record shares its Deployments' numbers"
        );
    }
}
