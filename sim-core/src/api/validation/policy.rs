//! PodDisruptionBudget: `ValidatePodDisruptionBudget` and its spec
//! (`pkg/apis/policy/validation/validation.go`).

use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Errs;
use super::go_fmt::json_intstr;
use super::meta::{NameRule, validate_label_selector, validate_object_meta};
use super::names::is_valid_percent;

/// `supportedUnhealthyPodEvictionPolicies`.
const EVICTION_POLICIES: &[&str] = &["AlwaysAllow", "IfHealthyBudget"];

/// `ValidatePodDisruptionBudget`: metadata, then `ValidatePodDisruptionBudgetSpec`.
pub(super) fn validate_pdb(pdb: &PodDisruptionBudget, e: &mut Errs) {
    validate_object_meta(&pdb.metadata, true, NameRule::Subdomain, e);
    let spec = pdb.spec.clone().unwrap_or_default();
    if spec.min_available.is_some() && spec.max_unavailable.is_some() {
        // Go prints the spec struct with its pointers' addresses here; kubesim names the two
        // fields instead.
        let both = format!(
            "{{\"minAvailable\":{},\"maxUnavailable\":{}}}",
            spec.min_available
                .as_ref()
                .map_or_else(String::new, json_intstr),
            spec.max_unavailable
                .as_ref()
                .map_or_else(String::new, json_intstr)
        );
        e.invalid(
            "spec",
            both,
            "minAvailable and maxUnavailable cannot be both set",
        );
    }
    if let Some(v) = &spec.min_available {
        int_or_percent(v, "spec.minAvailable", e);
    }
    if let Some(v) = &spec.max_unavailable {
        int_or_percent(v, "spec.maxUnavailable", e);
    }
    if let Some(sel) = &spec.selector {
        validate_label_selector(sel, "spec.selector", e);
    }
    if let Some(p) = &spec.unhealthy_pod_eviction_policy
        && !EVICTION_POLICIES.contains(&p.as_str())
    {
        e.not_supported(
            "spec.unhealthyPodEvictionPolicy",
            super::go_quote(p),
            EVICTION_POLICIES,
        );
    }
}

/// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent`.
fn int_or_percent(v: &IntOrString, path: &str, e: &mut Errs) {
    match v {
        IntOrString::String(s) => {
            let errs = is_valid_percent(s);
            for m in &errs {
                e.invalid(path, json_intstr(v), m);
            }
            if errs.is_empty() && s[..s.len() - 1].parse::<i64>().is_ok_and(|p| p > 100) {
                e.invalid(path, json_intstr(v), "must not be greater than 100%");
            }
        }
        IntOrString::Int(i) => e.nonnegative(path, i64::from(*i)),
    }
}

#[cfg(test)]
mod tests {
    //! Cases of `TestValidateMinAvailablePodDisruptionBudgetSpec` and
    //! `TestValidatePodDisruptionBudgetSpec`.

    use crate::api::validation::tests::check;

    fn errors(spec: &str) -> Vec<String> {
        check(&format!(
            "{{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {{name: web, namespace: d}}, spec: {spec}}}"
        ))
    }

    #[test]
    fn budgets_as_the_api_server_checks_them() {
        assert!(errors("{minAvailable: 2, selector: {matchLabels: {app: web}}}").is_empty());
        assert!(errors("{maxUnavailable: \"25%\"}").is_empty());
        assert_eq!(
            errors("{minAvailable: -1}"),
            ["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"]
        );
        assert_eq!(
            errors("{maxUnavailable: \"110%\"}"),
            ["spec.maxUnavailable: Invalid value: \"110%\": must not be greater than 100%"]
        );
        let both = errors("{minAvailable: 1, maxUnavailable: 1}");
        assert_eq!(both.len(), 1);
        assert!(
            both[0].ends_with("minAvailable and maxUnavailable cannot be both set"),
            "{both:?}"
        );
        assert_eq!(
            errors("{minAvailable: 1, unhealthyPodEvictionPolicy: Never}"),
            [
                "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\""
            ]
        );
    }
}
