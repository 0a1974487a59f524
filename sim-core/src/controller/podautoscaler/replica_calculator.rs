//! A port of `pkg/controller/podautoscaler/replica_calculator.go` for resource metrics
//! (`GetResourceReplicas`, `groupPods`, `calculatePodRequests`) and of
//! `metrics/utilization.go` (`GetResourceUtilizationRatio`): from the pods' usage and
//! requests, how many replicas bring the utilization to its target.

use std::collections::BTreeMap;

use crate::time::SimTime;

/// `--horizontal-pod-autoscaler-tolerance`: no change while the usage ratio is within 10 %.
pub const TOLERANCE: f64 = 0.1;
/// `--horizontal-pod-autoscaler-cpu-initialization-period`.
pub const CPU_INITIALIZATION_PERIOD_MS: u64 = 5 * 60 * 1000;
/// `--horizontal-pod-autoscaler-initial-readiness-delay`.
pub const DELAY_OF_INITIAL_READINESS_STATUS_MS: u64 = 30 * 1000;

/// A pod's metric: usage in milli-units, with the window it was averaged over.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PodMetric {
    /// Usage (millicores for CPU).
    pub value: i64,
    /// End of the window.
    pub timestamp: SimTime,
    /// The window's length (ms).
    pub window_ms: u64,
}

/// Pod phases as the calculator reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Pending.
    Pending,
    /// Running (or anything else live).
    Running,
    /// Failed.
    Failed,
}

/// What `groupPods` reads of a pod.
#[derive(Clone, Debug, PartialEq)]
pub struct PodInfo {
    /// Name.
    pub name: String,
    /// Phase.
    pub phase: Phase,
    /// Being deleted.
    pub deleting: bool,
    /// `status.startTime`.
    pub start: Option<SimTime>,
    /// The Ready condition: status and last transition.
    pub ready: Option<(bool, SimTime)>,
    /// Sum of the containers' requests of the resource (milli), or the first container
    /// without one.
    pub request: Result<i64, String>,
}

/// The outcome of [`get_resource_replicas`], with the arithmetic for the "why" panel.
#[derive(Clone, Debug, PartialEq)]
pub struct Replicas {
    /// The proposed replica count.
    pub count: i32,
    /// Current utilization (percent of request) over the pods with metrics.
    pub utilization: i32,
    /// Average raw usage (milli).
    pub raw: i64,
    /// The usage ratio (utilization / target).
    pub ratio: f64,
    /// How the count came about, in words.
    pub reasoning: String,
}

/// `groupPods`: (ready count, unready, missing, ignored).
pub fn group_pods(
    pods: &[PodInfo],
    metrics: &BTreeMap<String, PodMetric>,
    cpu: bool,
    now: SimTime,
) -> (usize, Vec<String>, Vec<String>, Vec<String>) {
    let (mut ready, mut unready, mut missing, mut ignored) =
        (0, Vec::new(), Vec::new(), Vec::new());
    for pod in pods {
        if pod.deleting || pod.phase == Phase::Failed {
            ignored.push(pod.name.clone());
            continue;
        }
        if pod.phase == Phase::Pending {
            unready.push(pod.name.clone());
            continue;
        }
        let Some(metric) = metrics.get(&pod.name) else {
            missing.push(pod.name.clone());
            continue;
        };
        if cpu {
            let is_unready = match (pod.ready, pod.start) {
                (Some((status, transition)), Some(start)) => {
                    if start.millis() + CPU_INITIALIZATION_PERIOD_MS > now.millis() {
                        // Still initialising: a sample must cover a whole window since the
                        // last readiness change.
                        !status
                            || metric.timestamp.millis() < transition.millis() + metric.window_ms
                    } else {
                        // Unready and never ready since start.
                        !status
                            && start.millis() + DELAY_OF_INITIAL_READINESS_STATUS_MS
                                > transition.millis()
                    }
                }
                _ => true,
            };
            if is_unready {
                unready.push(pod.name.clone());
                continue;
            }
        }
        ready += 1;
    }
    (ready, unready, missing, ignored)
}

/// `GetResourceUtilizationRatio`: (ratio, utilization %, average raw value).
pub fn utilization_ratio(
    metrics: &BTreeMap<String, PodMetric>,
    requests: &BTreeMap<String, i64>,
    target: i32,
) -> Result<(f64, i32, i64), String> {
    let (mut total, mut req_total, mut n) = (0i64, 0i64, 0i64);
    for (name, m) in metrics {
        let Some(r) = requests.get(name) else {
            continue;
        };
        total += m.value;
        req_total += r;
        n += 1;
    }
    if req_total == 0 {
        return Err("no metrics returned matched known pods".into());
    }
    let utilization = ((total * 100) / req_total) as i32;
    Ok((
        f64::from(utilization) / f64::from(target),
        utilization,
        total / n,
    ))
}

fn within(ratio: f64) -> bool {
    ((1.0 - TOLERANCE)..=(1.0 + TOLERANCE)).contains(&ratio)
}

/// `GetResourceReplicas`: the replica count for a utilization target.
pub fn get_resource_replicas(
    current: i32,
    target: i32,
    resource: &str,
    pods: &[PodInfo],
    mut metrics: BTreeMap<String, PodMetric>,
    now: SimTime,
) -> Result<Replicas, String> {
    if metrics.is_empty() {
        return Err(format!(
            "unable to get metrics for resource {resource}: no metrics returned from resource metrics API"
        ));
    }
    if pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".into());
    }
    let (ready, unready, missing, ignored) = group_pods(pods, &metrics, resource == "cpu", now);
    for name in ignored.iter().chain(&unready) {
        metrics.remove(name);
    }
    if metrics.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    }
    let mut requests = BTreeMap::new();
    for p in pods {
        requests.insert(p.name.clone(), p.request.clone()?);
    }
    let (ratio, utilization, raw) = utilization_ratio(&metrics, &requests, target)?;
    let done = |count: i32, reasoning: String| {
        Ok(Replicas {
            count,
            utilization,
            raw,
            ratio,
            reasoning,
        })
    };
    let scale_up_with_unready = !unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if within(ratio) {
            return done(
                current,
                format!("ratio {ratio:.2} within tolerance {TOLERANCE}: keep {current}"),
            );
        }
        let count = (ratio * ready as f64).ceil() as i32;
        return done(
            count,
            format!("ceil({ratio:.2} × {ready} ready pods) = {count}"),
        );
    }
    let mut notes = Vec::new();
    if !missing.is_empty() {
        if ratio < 1.0 {
            let fallback = i64::from(target.max(100));
            for name in &missing {
                let v = requests.get(name).copied().unwrap_or(0) * fallback / 100;
                metrics.insert(
                    name.clone(),
                    PodMetric {
                        value: v,
                        timestamp: now,
                        window_ms: 0,
                    },
                );
            }
            notes.push(format!(
                "{} pods without metrics counted at {fallback}% (scale down)",
                missing.len()
            ));
        } else if ratio > 1.0 {
            for name in &missing {
                metrics.insert(
                    name.clone(),
                    PodMetric {
                        value: 0,
                        timestamp: now,
                        window_ms: 0,
                    },
                );
            }
            notes.push(format!(
                "{} pods without metrics counted at 0% (scale up)",
                missing.len()
            ));
        }
    }
    if scale_up_with_unready {
        for name in &unready {
            metrics.insert(
                name.clone(),
                PodMetric {
                    value: 0,
                    timestamp: now,
                    window_ms: 0,
                },
            );
        }
        notes.push(format!(
            "{} unready pods counted at 0% (scale up)",
            unready.len()
        ));
    }
    let (new_ratio, _, _) = utilization_ratio(&metrics, &requests, target)?;
    let notes = notes.join(", ");
    if within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        return done(
            current,
            format!(
                "{notes}: ratio {new_ratio:.2} is within tolerance or changes direction: keep {current}"
            ),
        );
    }
    let count = (new_ratio * metrics.len() as f64).ceil() as i32;
    if (new_ratio < 1.0 && count > current) || (new_ratio > 1.0 && count < current) {
        return done(
            current,
            format!(
                "{notes}: ceil({new_ratio:.2} × {}) = {count} would change direction: keep {current}",
                metrics.len()
            ),
        );
    }
    done(
        count,
        format!(
            "{notes}: ceil({new_ratio:.2} × {} pods) = {count}",
            metrics.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    //! Cases of `replica_calculator_test.go` (resource metrics), each with the Go test's name.

    use super::*;

    const NOW: SimTime = SimTime(3_600_000);

    struct Case {
        replicas: i32,
        target: i32,
        /// Per pod: request (m), usage (m, None = no metric), ready, phase.
        pods: Vec<(i64, Option<i64>, bool, Phase)>,
        /// Pods started long ago (outside the CPU initialization period) unless set.
        start: Option<SimTime>,
        expect: Result<(i32, i32), &'static str>,
    }

    fn run(c: Case) {
        let start = c.start.unwrap_or(SimTime(0));
        let mut pods = Vec::new();
        let mut metrics = BTreeMap::new();
        for (i, (req, usage, ready, phase)) in c.pods.iter().enumerate() {
            let name = format!("test-pod-{i}");
            pods.push(PodInfo {
                name: name.clone(),
                phase: *phase,
                deleting: false,
                start: Some(start),
                // Ready (or not) since the pod started.
                ready: Some((*ready, start)),
                request: Ok(*req),
            });
            if let Some(u) = usage {
                metrics.insert(
                    name,
                    PodMetric {
                        value: *u,
                        timestamp: SimTime(NOW.millis() - 1000),
                        window_ms: 15_000,
                    },
                );
            }
        }
        let got = get_resource_replicas(c.replicas, c.target, "cpu", &pods, metrics, NOW)
            .map(|r| (r.count, r.utilization));
        match c.expect {
            Ok(want) => assert_eq!(got, Ok(want)),
            Err(msg) => assert_eq!(got.unwrap_err(), msg),
        }
    }

    fn ready(req: i64, usage: i64) -> (i64, Option<i64>, bool, Phase) {
        (req, Some(usage), true, Phase::Running)
    }

    #[test]
    fn scale_up() {
        // TestReplicaCalcScaleUp
        run(Case {
            replicas: 3,
            target: 30,
            pods: vec![ready(1000, 300), ready(1000, 500), ready(1000, 700)],
            start: None,
            expect: Ok((5, 50)),
        });
    }

    #[test]
    fn scale_up_with_unready_pods_counts_them_at_zero() {
        // TestReplicaCalcScaleUpUnreadyLessScale
        run(Case {
            replicas: 3,
            target: 30,
            pods: vec![
                (1000, Some(300), false, Phase::Running),
                ready(1000, 500),
                ready(1000, 700),
            ],
            start: Some(SimTime(NOW.millis() - 60_000)),
            expect: Ok((4, 60)),
        });
        // TestReplicaCalcScaleUpUnreadyNoScale
        run(Case {
            replicas: 3,
            target: 30,
            pods: vec![
                ready(1000, 400),
                (1000, Some(500), false, Phase::Running),
                (1000, Some(700), false, Phase::Running),
            ],
            start: Some(SimTime(NOW.millis() - 60_000)),
            expect: Ok((3, 40)),
        });
    }

    #[test]
    fn pending_pods_are_unready() {
        // TestReplicaCalcScaleUpIgnoresFailedPods's sibling: a pending pod counts as 0 % on
        // a scale up.
        run(Case {
            replicas: 3,
            target: 30,
            pods: vec![
                ready(1000, 500),
                ready(1000, 700),
                (1000, None, false, Phase::Pending),
            ],
            start: None,
            expect: Ok((4, 60)),
        });
        // Failed pods are ignored altogether (TestReplicaCalcScaleUpIgnoresFailedPods).
        run(Case {
            replicas: 2,
            target: 30,
            pods: vec![
                ready(1000, 500),
                ready(1000, 700),
                (1000, Some(4000), false, Phase::Failed),
            ],
            start: None,
            expect: Ok((4, 60)),
        });
    }

    #[test]
    fn scale_down() {
        // TestReplicaCalcScaleDown
        run(Case {
            replicas: 5,
            target: 50,
            pods: vec![
                ready(1000, 100),
                ready(1000, 300),
                ready(1000, 500),
                ready(1000, 250),
                ready(1000, 250),
            ],
            start: None,
            expect: Ok((3, 28)),
        });
    }

    #[test]
    fn tolerance() {
        // TestReplicaCalcTolerance: 102 % of a 100 % target is within 10 %.
        run(Case {
            replicas: 3,
            target: 100,
            pods: vec![ready(900, 1010), ready(1000, 1030), ready(1100, 1020)],
            start: None,
            expect: Ok((3, 102)),
        });
    }

    #[test]
    fn missing_metrics() {
        // TestReplicaCalcMissingMetricsNoChangeEq: the missing pod at 100 % keeps 2.
        run(Case {
            replicas: 2,
            target: 100,
            pods: vec![ready(1000, 1000), (1000, None, true, Phase::Running)],
            start: None,
            expect: Ok((2, 100)),
        });
        // TestReplicaCalcMissingMetricsScaleUp: scale up, the missing pod counts as 0 %.
        run(Case {
            replicas: 2,
            target: 50,
            pods: vec![ready(1000, 2000), (1000, None, true, Phase::Running)],
            start: None,
            expect: Ok((4, 200)),
        });
        run(Case {
            replicas: 3,
            target: 50,
            pods: vec![
                ready(1000, 2000),
                ready(1000, 2000),
                (1000, None, true, Phase::Running),
            ],
            start: None,
            expect: Ok((8, 200)),
        });
        // TestReplicaCalcMissingMetricsScaleDown: scale down, the missing pod counts as 100 %.
        run(Case {
            replicas: 4,
            target: 50,
            pods: vec![
                ready(1000, 100),
                ready(1000, 100),
                ready(1000, 100),
                (1000, None, true, Phase::Running),
            ],
            start: None,
            expect: Ok((3, 10)),
        });
    }

    #[test]
    fn errors() {
        // TestReplicaCalcEmptyMetrics
        run(Case {
            replicas: 4,
            target: 100,
            pods: vec![(1000, None, true, Phase::Running)],
            start: None,
            expect: Err(
                "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
            ),
        });
        // TestReplicaCalcAllUnready... every pod with a metric is unready.
        run(Case {
            replicas: 2,
            target: 50,
            pods: vec![
                (1000, Some(800), false, Phase::Running),
                (1000, Some(800), false, Phase::Running),
            ],
            start: Some(SimTime(NOW.millis() - 60_000)),
            expect: Err("did not receive metrics for targeted pods (pods might be unready)"),
        });
    }

    #[test]
    fn a_sample_must_cover_a_window_after_readiness_during_initialization() {
        // Ready only 30 s ago, within the 5 min initialization period, and the window is
        // 60 s: the sample still includes start-up CPU, so the pod counts as unready.
        let start = SimTime(NOW.millis() - 120_000);
        let pods = vec![PodInfo {
            name: "p".into(),
            phase: Phase::Running,
            deleting: false,
            start: Some(start),
            ready: Some((true, SimTime(NOW.millis() - 30_000))),
            request: Ok(1000),
        }];
        let metrics = BTreeMap::from([(
            "p".to_string(),
            PodMetric {
                value: 900,
                timestamp: SimTime(NOW.millis() - 1000),
                window_ms: 60_000,
            },
        )]);
        let (ready, unready, _, _) = group_pods(&pods, &metrics, true, NOW);
        assert_eq!((ready, unready.len()), (0, 1));
    }
}
