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

mod describe;
mod duration;
mod get;
mod history;
mod node;
mod output;
mod table;
mod util;

#[cfg(test)]
mod fixtures;

pub use describe::{
    describe_deployment, describe_pod, describe_replicaset, describe_service, describe_service_at,
};
pub use duration::{age, human_duration, short_human_duration};
pub use get::{
    get_deployments, get_endpoints, get_events, get_namespaces, get_nodes, get_pods,
    get_replicasets, get_services,
};
pub use history::{replicaset_for_revision, rollout_history, rollout_history_revision};
pub use node::describe_node;
pub use output::{to_json, to_yaml};

/// Options shared by `kubectl get` printers.
#[derive(Clone, Debug, Default)]
pub struct GetOptions {
    /// `-o wide`: also print the priority-1 columns.
    pub wide: bool,
    /// Prefix names with the resource, as kubectl does for multi-type gets (`deployment.apps/x`,
    /// `pod/x`).
    pub with_kind: bool,
    /// `-A`: a NAMESPACE column first.
    pub with_namespace: bool,
    /// `--no-headers`.
    pub no_headers: bool,
    /// `--show-labels`: a LABELS column last.
    pub show_labels: bool,
}
