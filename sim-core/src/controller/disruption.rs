//! The disruption controller: each PodDisruptionBudget's status from the pods its selector
//! matches: `expectedPods`, `desiredHealthy`, `currentHealthy`, `disruptionsAllowed` and the
//! `DisruptionAllowed` condition, recomputed whenever one of those pods changes.
//! Port of `pkg/controller/disruption/disruption.go` (`trySync`, `getExpectedPodCount`,
//! `getExpectedScale`, `countHealthyPods`, `updatePdbStatus`) and
//! `pkg/apis/policy/helper` (`UpdateDisruptionAllowedCondition`).
//!
//! Not modelled: `disruptedPods` (an eviction deletes its pod at once here, and a pod being
//! deleted no longer counts as healthy, so the map has nothing to bridge), the `NoPods` and
//! unmanaged-pod events, and controllers other than Deployments and ReplicaSets.

use std::collections::BTreeSet;

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Work;
use crate::api::selector::label_selector_matches;
use crate::sim::Sim;
use crate::store::{ObjId, PodState};

/// `policy.DisruptionAllowedCondition`.
pub const DISRUPTION_ALLOWED: &str = "DisruptionAllowed";

/// Whether `pdb` selects `pod` (`getPodsForPdb`: a missing selector selects nothing, an empty
/// one every pod of the namespace).
pub(crate) fn selects(pdb: &PodDisruptionBudget, pod: &PodState) -> bool {
    pdb.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|sel| label_selector_matches(sel, pod.labels()))
}

/// `intstr.GetScaledValueFromIntOrPercent` with rounding up.
fn scaled_value(v: &IntOrString, total: i32) -> i32 {
    match v {
        IntOrString::Int(i) => *i,
        IntOrString::String(s) => {
            let p: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            ((p * i64::from(total) + 99) / 100) as i32
        }
    }
}

impl Sim {
    /// The budgets in `ns` that select pod `pod` are queued (the pod informer's handlers).
    pub(crate) fn pdbs_selecting(&mut self, ns: &str, pod: ObjId) {
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        let hits: Vec<ObjId> = self
            .store
            .pdbs
            .ids_in(ns)
            .into_iter()
            .filter(|id| self.store.pdbs.get(*id).is_some_and(|(_, b)| selects(b, p)))
            .collect();
        for id in hits {
            self.work.add(Work::Disruption(id));
        }
    }

    /// `trySync`: one budget's status.
    pub(crate) fn sync_pdb(&mut self, id: ObjId) {
        let Some((_, pdb)) = self.store.pdbs.get(id) else {
            return;
        };
        let status = self.pdb_status(pdb);
        self.write_pdb_status(id, status);
    }

    fn pdb_status(&self, pdb: &PodDisruptionBudget) -> PodDisruptionBudgetStatus {
        let ns = pdb.metadata.namespace.as_deref().unwrap_or("");
        let pods: Vec<&PodState> = self
            .store
            .pods
            .ids_in(ns)
            .into_iter()
            .filter_map(|id| self.store.pods.get(id))
            .filter(|p| selects(pdb, p))
            .collect();
        let spec = pdb.spec.clone().unwrap_or_default();
        // `getExpectedPodCount`.
        let (expected, desired) = match (&spec.max_unavailable, &spec.min_available) {
            (Some(max), _) => {
                let expected = self.expected_scale(&pods);
                (expected, (expected - scaled_value(max, expected)).max(0))
            }
            (None, Some(IntOrString::Int(min))) => (pods.len() as i32, *min),
            (None, Some(min)) => {
                let expected = self.expected_scale(&pods);
                (expected, scaled_value(min, expected))
            }
            (None, None) => (0, 0),
        };
        // `countHealthyPods`: ready and not being deleted.
        let healthy = pods
            .iter()
            .filter(|p| p.deletion.is_none() && p.ready)
            .count() as i32;
        let mut allowed = healthy - desired;
        if expected <= 0 || allowed <= 0 {
            allowed = 0;
        }
        let observed = pdb.metadata.generation;
        let old = pdb.status.clone().unwrap_or_default();
        let (status, reason) = if allowed > 0 {
            ("True", "SufficientPods")
        } else {
            ("False", "InsufficientPods")
        };
        // `meta.SetStatusCondition`: the transition time moves only with the status.
        let previous = old
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == DISRUPTION_ALLOWED);
        let last_transition_time = match previous {
            Some(c) if c.status == status => c.last_transition_time.clone(),
            _ => self.store.time(self.store.now),
        };
        PodDisruptionBudgetStatus {
            current_healthy: healthy,
            desired_healthy: desired,
            expected_pods: expected,
            disruptions_allowed: allowed,
            observed_generation: observed,
            disrupted_pods: None,
            conditions: Some(vec![Condition {
                type_: DISRUPTION_ALLOWED.into(),
                status: status.into(),
                reason: reason.into(),
                message: String::new(),
                observed_generation: observed,
                last_transition_time,
            }]),
        }
    }

    /// `getExpectedScale`: the summed scale of the pods' controllers, each counted once (a
    /// Deployment's ReplicaSets count as their Deployment); pods without one add nothing.
    fn expected_scale(&self, pods: &[&PodState]) -> i32 {
        let mut seen: BTreeSet<(bool, ObjId)> = BTreeSet::new();
        let mut total = 0;
        for p in pods {
            let Some(rs_id) = p.owner else { continue };
            let Some(rs) = self.store.replicasets.get(rs_id) else {
                continue;
            };
            let (key, scale) = match rs.owner.and_then(|d| self.store.deployments.get(d)) {
                Some((d_id, d)) => (
                    (true, *d_id),
                    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ),
                None => (
                    (false, rs_id),
                    rs.rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ),
            };
            if seen.insert(key) {
                total += scale;
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    //! The status rules after `disruption_test.go` (`TestNoSelector`, `TestUnavailable`,
    //! `TestIntegerMaxUnavailable`, `TestReplicaSet`...), and the eviction subresource's
    //! answers after `eviction_test.go` (`TestEviction`).

    use serde_json::{Value, json};

    use crate::apiserver::call::{ApiCall, Verb};
    use crate::error::ApiError;
    use crate::sim::{Sim, SimConfig};
    use crate::time::SimDuration;

    const WEB: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
";

    fn sim_with(pdb_spec: &str) -> Sim {
        let mut sim = Sim::new(SimConfig::default());
        let y = format!(
            "{WEB}---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: default}}\nspec: {pdb_spec}\n"
        );
        let out = crate::kubectl::apply_text(&mut sim, &y, "STDIN", "default", false);
        assert_eq!(out.code, 0, "{}", out.stderr);
        sim.advance(SimDuration(60_000));
        sim
    }

    /// (currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, condition reason).
    fn status(sim: &Sim) -> (i32, i32, i32, i32, String) {
        let id = sim.store.pdbs.lookup("default", "web").unwrap_or(0);
        let s = sim
            .store
            .pdbs
            .get(id)
            .and_then(|(_, p)| p.status.clone())
            .unwrap_or_default();
        let reason = s
            .conditions
            .unwrap_or_default()
            .first()
            .map(|c| c.reason.clone())
            .unwrap_or_default();
        (
            s.current_healthy,
            s.desired_healthy,
            s.expected_pods,
            s.disruptions_allowed,
            reason,
        )
    }

    fn evict(sim: &mut Sim, pod: &str, dry_run: bool) -> Result<Value, ApiError> {
        let mut call = ApiCall {
            verb: Verb::Create,
            resource: "pods".into(),
            group: String::new(),
            namespace: Some("default".into()),
            name: Some(pod.into()),
            subresource: Some("eviction".into()),
            patch_type: None,
            body: json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod}}),
            options: Default::default(),
        };
        call.options.dry_run = dry_run;
        sim.api(&call)
    }

    fn pods(sim: &Sim) -> Vec<String> {
        let mut v: Vec<String> = sim
            .store
            .pods
            .iter()
            .filter(|(_, p)| p.deletion.is_none())
            .map(|(_, p)| p.name.to_string())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn status_by_min_available_and_max_unavailable() {
        let sim = sim_with("{minAvailable: 2, selector: {matchLabels: {app: web}}}");
        assert_eq!(status(&sim), (3, 2, 3, 1, "SufficientPods".into()));
        let sim = sim_with("{minAvailable: 3, selector: {matchLabels: {app: web}}}");
        assert_eq!(status(&sim), (3, 3, 3, 0, "InsufficientPods".into()));
        // A percent counts from the Deployment's scale, rounded up: 34% of 3 is 2.
        let sim = sim_with("{minAvailable: \"34%\", selector: {matchLabels: {app: web}}}");
        assert_eq!(status(&sim), (3, 2, 3, 1, "SufficientPods".into()));
        let sim = sim_with("{maxUnavailable: 1, selector: {matchLabels: {app: web}}}");
        assert_eq!(status(&sim), (3, 2, 3, 1, "SufficientPods".into()));
        // No selector selects nothing.
        let sim = sim_with("{minAvailable: 1}");
        assert_eq!(status(&sim), (0, 1, 0, 0, "InsufficientPods".into()));
    }

    #[test]
    fn an_eviction_spends_the_budget_then_is_refused_with_429() {
        let mut sim = sim_with("{minAvailable: 2, selector: {matchLabels: {app: web}}}");
        let names = pods(&sim);
        // A dry run answers as the eviction would and changes nothing.
        let rv = sim.store.resource_version();
        let ok = evict(&mut sim, &names[0], true).expect("allowed");
        assert_eq!(ok["status"], "Success");
        assert_eq!(sim.store.resource_version(), rv);
        let ok = evict(&mut sim, &names[0], false).expect("allowed");
        assert_eq!(
            (ok["status"].as_str(), ok["code"].as_i64()),
            (Some("Success"), Some(201))
        );
        assert!(!pods(&sim).contains(&names[0]), "the pod is being deleted");
        // Two healthy of two wanted now: the next eviction is refused and deletes nothing.
        assert_eq!(status(&sim).3, 0);
        let before = pods(&sim);
        let err = evict(&mut sim, &names[1], false).expect_err("refused");
        assert_eq!(err.code(), 429);
        assert_eq!(err.reason(), "TooManyRequests");
        assert_eq!(
            err.to_string(),
            "Cannot evict pod as it would violate the pod's disruption budget."
        );
        let ApiError::TooManyRequests { causes, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(
            causes,
            &[(
                "DisruptionBudget".to_string(),
                "The disruption budget web needs 2 healthy pods and has 2 currently".to_string()
            )]
        );
        assert_eq!(pods(&sim), before);
        // Unknown pods are NotFound.
        let err = evict(&mut sim, "nope", false).expect_err("missing");
        assert_eq!(err.to_string(), "pods \"nope\" not found");
    }
}
