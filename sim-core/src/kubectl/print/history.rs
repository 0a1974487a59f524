//! `kubectl rollout history` for Deployments, built from their ReplicaSets.
//!
//! Port of `DeploymentHistoryViewer.ViewHistory` in
//! `staging/src/k8s.io/kubectl/pkg/polymorphichelpers/history.go` and of the name printer that
//! `pkg/cmd/rollout/rollout_history.go` wraps it in (`<kind>/<name> <operation>\n`, where the
//! operation is `"with revision #N" + "\n" + history`, or `"" + "\n" + history`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::PodTemplateSpec;

use super::describe::{PrefixWriter, describe_pod_template};
use super::table::DESCRIBE;

const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE_ANNOTATION: &str = "kubernetes.io/change-cause";

/// `kubectl rollout history deployment/NAME`: a REVISION / CHANGE-CAUSE table.
///
/// `kind_and_name` is what kubectl prints first, such as `deployment.apps/credit-scoring-api`
/// (followed by a space). `rss` are the Deployment's ReplicaSets (old and new, those whose
/// controller is the Deployment). One row per revision; a ReplicaSet without the revision
/// annotation counts as revision 0, one with an unparsable annotation is skipped, and when two
/// share a number the later one in `rss` wins, as with kubectl's map. With no ReplicaSets the
/// body is `No rollout history found.`
pub fn rollout_history(kind_and_name: &str, rss: &[ReplicaSet]) -> String {
    let history = history_info(rss);
    let body = if history.is_empty() {
        "No rollout history found.".to_string()
    } else {
        let mut text = String::from("REVISION\tCHANGE-CAUSE\n");
        for (rev, (_, cause)) in &history {
            let cause = if cause.is_empty() {
                "<none>"
            } else {
                cause.as_str()
            };
            text.push_str(&format!("{rev}\t{cause}\n"));
        }
        DESCRIBE.format(&text)
    };
    format!("{kind_and_name} \n{body}\n")
}

/// `kubectl rollout history deployment/NAME --revision=N`: the header line and the pod template
/// of that revision, as `describe.DescribePodTemplate` writes it to a plain buffer (history.go's
/// `printTemplate` uses no tabwriter, so the tabs stay).
///
/// `rs` is the ReplicaSet of revision `revision`; the caller reports
/// `error: unable to find the specified revision` when there is none.
pub fn rollout_history_revision(kind_and_name: &str, rs: &ReplicaSet, revision: i64) -> String {
    let mut template: PodTemplateSpec = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    // ViewHistory copies the ReplicaSet's change-cause into the template annotations.
    if let Some(cause) = change_cause(rs).filter(|c| !c.is_empty()) {
        template
            .metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(CHANGE_CAUSE_ANNOTATION.to_string(), cause.to_string());
    }
    let mut w = PrefixWriter::new();
    describe_pod_template(Some(&template), &mut w);
    format!(
        "{kind_and_name} with revision #{revision}\n{}\n",
        w.into_raw()
    )
}

/// Finds the ReplicaSet of a revision among `rss`, as `--revision=N` and `rollout undo
/// --to-revision=N` do (the last one wins when numbers repeat).
pub fn replicaset_for_revision(rss: &[ReplicaSet], revision: i64) -> Option<&ReplicaSet> {
    rss.iter()
        .rev()
        .find(|rs| parse_revision(rs) == Some(revision))
}

/// `deploymentutil.Revision`: the revision annotation, 0 when absent, `None` when unparsable.
fn parse_revision(rs: &ReplicaSet) -> Option<i64> {
    match rs
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
    {
        None => Some(0),
        Some(v) => v.parse().ok(),
    }
}

fn change_cause(rs: &ReplicaSet) -> Option<&str> {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CHANGE_CAUSE_ANNOTATION))
        .map(String::as_str)
}

/// Revision → (ReplicaSet, change cause), sorted by revision.
fn history_info(rss: &[ReplicaSet]) -> BTreeMap<i64, (&ReplicaSet, String)> {
    let mut info: BTreeMap<i64, (&ReplicaSet, String)> = BTreeMap::new();
    for rs in rss {
        let Some(rev) = parse_revision(rs) else {
            continue;
        };
        // The template's own change-cause annotation survives unless the RS has one.
        let template_cause = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(CHANGE_CAUSE_ANNOTATION))
            .cloned()
            .unwrap_or_default();
        let cause = change_cause(rs)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .unwrap_or(template_cause);
        info.insert(rev, (rs, cause));
    }
    info
}

#[cfg(test)]
mod tests {
    //! Output shapes from rollout_history.go and history.go (measured in kubectl-surface.md §4.8).
    use super::*;
    use crate::kubectl::print::fixtures::*;

    fn check(actual: String, expected: &str) {
        assert_eq!(
            actual, expected,
            "\n--- actual ---\n{actual}\n--- expected ---\n{expected}"
        );
    }

    #[test]
    fn two_revisions_sorted_with_change_cause() {
        let mut new = new_rs();
        new.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(
                CHANGE_CAUSE_ANNOTATION.to_string(),
                "release v2".to_string(),
            );
        check(
            rollout_history("deployment.apps/credit-scoring-api", &[new, old_rs()]),
            "deployment.apps/credit-scoring-api \nREVISION  CHANGE-CAUSE\n1         <none>\n2         release v2\n\n",
        );
    }

    #[test]
    fn empty_history() {
        check(
            rollout_history("deployment.apps/credit-scoring-api", &[]),
            "deployment.apps/credit-scoring-api \nNo rollout history found.\n",
        );
    }

    #[test]
    fn revision_detail_keeps_raw_tabs() {
        let rss = [old_rs(), new_rs()];
        let rs = replicaset_for_revision(&rss, 2).expect("revision 2");
        check(
            rollout_history_revision("deployment.apps/credit-scoring-api", rs, 2),
            "\
deployment.apps/credit-scoring-api with revision #2
Pod Template:
  Labels:\tapp=credit-scoring-api
\tpod-template-hash=5d8c7b9f4
  Containers:
   api:
    Image:\tregistry.local/credit-scoring-api:single
    Port:\t8080/TCP
    Host Port:\t0/TCP
    Readiness:\thttp-get http://:8080/ delay=0s timeout=5s period=5s #success=1 #failure=3
    Environment:\t<none>
    Mounts:\t<none>
  Volumes:\t<none>
  Node-Selectors:\t<none>
  Tolerations:\t<none>

",
        );
    }
}
