//! The mutating admission plugins every pod passes through on a default API server, as the
//! stored pod shows them: `Priority` (no class: `priority: 0`), `ServiceAccount` (the
//! namespace's `default` account; the v1 conversion copies it to the deprecated
//! `serviceAccount`) and `DefaultTolerationSeconds` (`controller/taint.rs`). They change pods
//! only, never templates. Idempotent, so an update compares like with like.
//!
//! Not modelled: the `ServiceAccount` plugin's projected token volume
//! (`kube-api-access-…`) and its mounts.

use k8s_openapi::api::core::v1::PodSpec;

/// Runs the three plugins over a pod's spec.
pub fn admit_pod(spec: &mut PodSpec) {
    if spec.priority.is_none() && spec.priority_class_name.as_deref().unwrap_or("").is_empty() {
        spec.priority = Some(0);
    }
    if spec
        .service_account_name
        .as_deref()
        .unwrap_or("")
        .is_empty()
    {
        let sa = spec
            .service_account
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into());
        spec.service_account_name = Some(sa);
    }
    spec.service_account.clone_from(&spec.service_account_name);
    crate::controller::taint::default_toleration_seconds(spec);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_pod_gets_priority_account_and_tolerations() {
        let mut s = PodSpec::default();
        admit_pod(&mut s);
        assert_eq!(s.priority, Some(0));
        assert_eq!(s.service_account_name.as_deref(), Some("default"));
        assert_eq!(s.service_account.as_deref(), Some("default"));
        assert_eq!(s.tolerations.as_ref().map(Vec::len), Some(2));
        let once = s.clone();
        admit_pod(&mut s);
        assert_eq!(s, once, "idempotent");
    }

    #[test]
    fn a_named_account_and_class_are_kept() {
        let mut s = PodSpec {
            service_account_name: Some("builder".into()),
            priority_class_name: Some("high".into()),
            ..Default::default()
        };
        admit_pod(&mut s);
        assert_eq!(s.priority, None);
        assert_eq!(s.service_account.as_deref(), Some("builder"));
    }
}
