//! The `pods/eviction` subresource: a POST of a `policy/v1` Eviction deletes the pod unless
//! its PodDisruptionBudget forbids it, in which case the answer is 429 TooManyRequests with a
//! `DisruptionBudget` cause and kubectl drain retries.
//! Port of `pkg/registry/core/pod/storage/eviction.go` (`Create`, `checkAndDecrement`,
//! `canIgnorePDB`).
//!
//! Not modelled: `disruptedPods` (the pod is deleted in the same call, so the controller's
//! next count already leaves it out) and the 500 for a PDB whose `disruptionsAllowed` is
//! negative.

use serde_json::{Value, json};

use crate::apiserver::call::WriteOptions;
use crate::controller::disruption::selects;
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::Kind;
use crate::store::pod::Phase;

/// The message of every eviction a budget refuses.
pub(crate) const EVICTION_REFUSED: &str =
    "Cannot evict pod as it would violate the pod's disruption budget.";
/// `policyv1.DisruptionBudgetCause`.
const DISRUPTION_BUDGET_CAUSE: &str = "DisruptionBudget";

fn too_many_requests(cause: String) -> ApiError {
    ApiError::TooManyRequests {
        message: EVICTION_REFUSED.into(),
        causes: vec![(DISRUPTION_BUDGET_CAUSE.into(), cause)],
    }
}

impl Sim {
    /// Evicts pod `ns/name` as the API server's eviction REST handler does.
    pub(crate) fn api_evict(
        &mut self,
        ns: &str,
        name: &str,
        body: &Value,
        opts: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let not_found = || ApiError::not_found("pods", name);
        let pid = self.store.pods.lookup(ns, name).ok_or_else(not_found)?;
        if let Some(sent) = body.pointer("/metadata/name").and_then(Value::as_str)
            && !sent.is_empty()
            && sent != name
        {
            return Err(ApiError::BadRequest(
                "name in URL does not match name in Eviction object".into(),
            ));
        }
        let delete_options = body.get("deleteOptions");
        let grace = delete_options
            .and_then(|d| d.get("gracePeriodSeconds"))
            .and_then(Value::as_i64)
            .or(opts.grace_period_seconds);
        let dry_run = opts.dry_run
            || delete_options
                .and_then(|d| d.get("dryRun"))
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == "All"));
        let Some(p) = self.store.pods.get(pid) else {
            return Err(not_found());
        };
        // `canIgnorePDB`: a pod already terminal, pending or being deleted goes without
        // asking its budget.
        let ignore_pdb = p.deletion.is_some()
            || matches!(p.phase, Phase::Succeeded | Phase::Failed | Phase::Pending);
        let pod_ready = p.ready;
        let budgets: Vec<_> = self
            .store
            .pdbs
            .ids_in(ns)
            .into_iter()
            .filter(|id| self.store.pdbs.get(*id).is_some_and(|(_, b)| selects(b, p)))
            .collect();
        if !ignore_pdb {
            if budgets.len() > 1 {
                return Err(ApiError::Unclassified(
                    "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.".into(),
                ));
            }
            if let Some(&bid) = budgets.first() {
                let Some((_, pdb)) = self.store.pdbs.get(bid) else {
                    return Err(not_found());
                };
                let pdb_name = pdb.metadata.name.clone().unwrap_or_default();
                let status = pdb.status.clone().unwrap_or_default();
                let always_allow = pdb
                    .spec
                    .as_ref()
                    .and_then(|s| s.unhealthy_pod_eviction_policy.as_deref())
                    == Some("AlwaysAllow");
                // An unready pod goes without spending the budget when the policy allows it,
                // or (IfHealthyBudget) while the budget is met.
                let unhealthy_free = !pod_ready
                    && (always_allow
                        || (status.current_healthy >= status.desired_healthy
                            && status.desired_healthy > 0));
                if !unhealthy_free {
                    // `checkAndDecrement`.
                    if status.observed_generation < pdb.metadata.generation {
                        return Err(too_many_requests(format!(
                            "The disruption budget {pdb_name} is still being processed by the server."
                        )));
                    }
                    if status.disruptions_allowed == 0 {
                        return Err(too_many_requests(format!(
                            "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                            status.desired_healthy, status.current_healthy
                        )));
                    }
                    if !dry_run {
                        let mut status = status;
                        status.disruptions_allowed -= 1;
                        self.write_pdb_status(bid, status);
                    }
                }
            }
        }
        if !dry_run {
            self.delete_with_grace(
                Kind::Pod,
                ns,
                name,
                crate::controller::gc::Propagation::default(),
                grace,
            )?;
        }
        Ok(json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201,
        }))
    }
}
