//! Printers that render API objects the way kubectl does.
//!
//! Every function here is pure: objects and the current time go in, the exact text kubectl
//! would print comes out. Start with [`get_pods`] for tables, [`describe_deployment`] for
//! `kubectl describe`, [`rollout_history`] and [`to_yaml`].
//!
//! Sources ported (kubernetes/kubernetes): `pkg/printers/internalversion/printers.go` (server-side
//! table columns), `cli-runtime/pkg/printers/tableprinter.go` and Go's `text/tabwriter` (layout),
//! `apimachinery/pkg/util/duration/duration.go` (ages), `kubectl/pkg/describe/describe.go`
//! (describe) and `kubectl/pkg/polymorphichelpers/history.go` (rollout history).

mod batch;
mod config;
mod coordination;
mod describe;
mod discovery;
mod duration;
mod get;
mod history;
mod networking;
mod output;
mod policy;
mod quota;
mod table;
mod top;
mod util;

#[cfg(test)]
mod fixtures;

pub use batch::{get_cronjobs, get_jobs};
pub use config::{describe_configmap, describe_secret, get_configmaps, get_secrets};
pub use coordination::get_leases;
pub use describe::describe_hpa;
pub use describe::{BackendLookup, describe_ingress, describe_ingress_class};
pub use describe::{describe_cronjob, describe_job};
pub use describe::{
    describe_deployment, describe_node, describe_pod, describe_replicaset, describe_service,
    describe_service_at,
};
pub use discovery::{format_endpoint_slices, get_endpoint_slices};
pub use duration::{age, human_duration, short_human_duration};
pub use get::{format_hpa_metrics, get_hpas};
pub use get::{
    get_deployments, get_endpoints, get_events, get_namespaces, get_nodes, get_pods,
    get_replicasets, get_services, pod_status_cells,
};
pub use history::{replicaset_for_revision, rollout_history, rollout_history_revision};
pub use networking::{get_ingress_classes, get_ingresses};
pub use output::{to_json, to_yaml};
pub use policy::get_pdbs;
pub use quota::{describe_limit_range, describe_quota, get_limit_ranges, get_quotas};
pub use top::{NodeTop, PodTop, top_nodes, top_pods};

/// Options shared by `kubectl get` printers.
#[derive(Clone, Debug, Default)]
pub struct GetOptions {
    /// `-o wide`: also print the priority-1 columns.
    pub wide: bool,
    /// Prefix names with the resource, as kubectl does for multi-type gets (`deployment.apps/x`,
    /// `pod/x`).
    pub with_kind: bool,
    /// `-A`: a NAMESPACE column first. kubectl ignores it for cluster-scoped kinds (nodes,
    /// namespaces), so callers should leave it off for those.
    pub with_namespace: bool,
    /// `--no-headers`.
    pub no_headers: bool,
    /// `--show-labels`: a LABELS column last.
    pub show_labels: bool,
    /// Return the server-side Table instead of text: a JSON document
    /// `{"columns": [[header, wide], ...], "rows": [[cell, ...], ...]}` with every column
    /// (wide ones included) and no decoration. The HTTP API serves it for `as=Table`.
    pub cells: bool,
}

/// Joins the tables of a multi-type `kubectl get` (`get deploy,rs,pods`): each type is its own
/// tabwriter block (get.go flushes and forgets widths between types), separated by one blank
/// line; types with no rows print nothing and add no separator.
pub fn join_get_blocks(blocks: &[String]) -> String {
    blocks
        .iter()
        .filter(|b| !b.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::*;

    #[test]
    fn multi_type_get_blocks() {
        let opts = GetOptions {
            with_kind: true,
            ..Default::default()
        };
        let out = join_get_blocks(&[
            get_deployments(&[course_deployment()], &opts, now()),
            get_services(&[], &opts, now()),
            get_replicasets(&[new_rs()], &opts, now()),
        ]);
        assert_eq!(
            out,
            "\
NAME                                 READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/credit-scoring-api   10/10   2            10          60m

NAME                                           DESIRED   CURRENT   READY   AGE
replicaset.apps/credit-scoring-api-5d8c7b9f4   2         2         0       2m
"
        );
    }
}
