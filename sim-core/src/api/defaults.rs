//! API-server defaults (interim).

use super::Object;
use k8s_openapi::api::apps::v1::{DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Applies the API server's defaults.
pub fn set_defaults(obj: &mut Object) {
    if let Object::Deployment(d) = obj {
        let spec = d.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        spec.revision_history_limit.get_or_insert(10);
        spec.progress_deadline_seconds.get_or_insert(600);
        let st = spec
            .strategy
            .get_or_insert_with(DeploymentStrategy::default);
        let ty = st.type_.get_or_insert_with(|| "RollingUpdate".into());
        if ty == "RollingUpdate" {
            let ru = st
                .rolling_update
                .get_or_insert_with(RollingUpdateDeployment::default);
            ru.max_surge
                .get_or_insert(IntOrString::String("25%".into()));
            ru.max_unavailable
                .get_or_insert(IntOrString::String("25%".into()));
        }
    }
}
