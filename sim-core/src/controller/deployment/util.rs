//! Pure helpers of the deployment controller: fenceposts, revisions, template hashes,
//! conditions. Port of kubernetes `pkg/controller/deployment/util/deployment_util.go`.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Annotation: the revision of a ReplicaSet or Deployment.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Annotation: earlier revisions of a re-activated ReplicaSet.
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// Annotation: the Deployment's replicas when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// Annotation: replicas + maxSurge when the ReplicaSet was last scaled.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// Label that ties pods and ReplicaSets to a template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The longest revision-history annotation kept.
pub const MAX_REV_HISTORY_LEN: usize = 2000;

/// Annotations a Deployment never copies onto its ReplicaSets.
const ANNOTATIONS_TO_SKIP: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// Condition reasons, as `deployment_util.go` spells them.
pub mod reason {
    #![allow(missing_docs)]
    pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
    pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
    pub const RS_UPDATED: &str = "ReplicaSetUpdated";
    pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
    pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
    pub const PAUSED: &str = "DeploymentPaused";
    pub const RESUMED: &str = "DeploymentResumed";
    pub const MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
    pub const MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
}

/// `spec.replicas` (defaulted to 1).
pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// A ReplicaSet's `spec.replicas`.
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

/// A ReplicaSet's status counts (replicas, ready, available).
pub fn rs_status(rs: &ReplicaSet) -> (i32, i32, i32) {
    rs.status.as_ref().map_or((0, 0, 0), |s| {
        (
            s.replicas,
            s.ready_replicas.unwrap_or(0),
            s.available_replicas.unwrap_or(0),
        )
    })
}

/// Whether the strategy is RollingUpdate.
pub fn is_rolling(d: &Deployment) -> bool {
    strategy_type(d) == "RollingUpdate"
}

/// `spec.strategy.type`.
pub fn strategy_type(d: &Deployment) -> &str {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
}

fn rolling_params(d: &Deployment) -> (Option<&IntOrString>, Option<&IntOrString>) {
    let ru = d
        .spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.rolling_update.as_ref());
    (
        ru.and_then(|r| r.max_surge.as_ref()),
        ru.and_then(|r| r.max_unavailable.as_ref()),
    )
}

/// `intstr.GetScaledValueFromIntOrPercent`: an int as is, a percentage of `total` rounded up
/// or down.
pub fn scaled_value(v: Option<&IntOrString>, total: i32, round_up: bool) -> Result<i32, String> {
    match v {
        None => Ok(0),
        Some(IntOrString::Int(i)) => Ok(*i),
        Some(IntOrString::String(s)) => {
            let pct = s
                .strip_suffix('%')
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| {
                    "invalid value for IntOrString: invalid type: string is not a percentage"
                        .to_string()
                })?;
            let x = pct * i64::from(total);
            let v = if round_up {
                (x + 99).div_euclid(100)
            } else {
                x.div_euclid(100)
            };
            Ok(v as i32)
        }
    }
}

/// `ResolveFenceposts`: (surge, unavailable); both zero becomes unavailable 1.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), String> {
    let surge = scaled_value(max_surge, desired, true)?;
    let unavailable = scaled_value(max_unavailable, desired, false)?;
    if surge == 0 && unavailable == 0 {
        // Validation stops 0/0; a rounding 0 would block the rollout (maybe a quota on surge).
        return Ok((0, 1));
    }
    Ok((surge, unavailable))
}

/// `MaxSurge(d)`: 0 unless RollingUpdate.
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling(d) {
        return 0;
    }
    let (s, u) = rolling_params(d);
    resolve_fenceposts(s, u, replicas(d))
        .map(|(s, _)| s)
        .unwrap_or(0)
}

/// `MaxUnavailable(d)`: 0 unless RollingUpdate with replicas > 0; capped at replicas.
pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling(d) || replicas(d) == 0 {
        return 0;
    }
    let (s, u) = rolling_params(d);
    let (_, unavailable) = resolve_fenceposts(s, u, replicas(d)).unwrap_or((0, 0));
    unavailable.min(replicas(d))
}

/// `MinAvailable(d)`.
pub fn min_available(d: &Deployment) -> i32 {
    if !is_rolling(d) {
        return 0;
    }
    replicas(d) - max_unavailable(d)
}

/// The revision annotation of an object (missing or unparsable counts as 0).
pub fn revision_of(annotations: Option<&BTreeMap<String, String>>) -> i64 {
    annotations
        .and_then(|a| a.get(REVISION))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A ReplicaSet's revision.
pub fn rs_revision(rs: &ReplicaSet) -> i64 {
    revision_of(rs.metadata.annotations.as_ref())
}

/// `EqualIgnoreHash`: templates equal once the pod-template-hash label is removed.
/// Compared field by field, without copying either template (this runs for every
/// ReplicaSet on every sync).
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    if a.spec != b.spec {
        return false;
    }
    let default_meta = Default::default();
    let ma = a.metadata.as_ref().unwrap_or(&default_meta);
    let mb = b.metadata.as_ref().unwrap_or(&default_meta);
    // Everything else in the metadata must match exactly.
    labels_equal_ignoring_hash(ma.labels.as_ref(), mb.labels.as_ref())
        && ma.annotations == mb.annotations
        && ma.name == mb.name
        && ma.namespace == mb.namespace
        && ma.generate_name == mb.generate_name
        && ma.finalizers == mb.finalizers
        && ma.owner_references == mb.owner_references
}

fn labels_equal_ignoring_hash(
    a: Option<&BTreeMap<String, String>>,
    b: Option<&BTreeMap<String, String>>,
) -> bool {
    fn strip(m: Option<&BTreeMap<String, String>>) -> impl Iterator<Item = (&String, &String)> {
        m.into_iter()
            .flatten()
            .filter(|(k, _)| k.as_str() != POD_TEMPLATE_HASH)
    }
    strip(a).eq(strip(b))
}

/// `ComputeHash`: FNV-32a over the template (and the collision count), in the safe alphabet.
/// Kubernetes hashes Go's deep-printed struct; we hash the canonical JSON, so the value differs
/// from a real cluster's but has the same form and the same behaviour.
pub fn compute_hash(t: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(t).unwrap_or_default();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(c.to_string().as_bytes());
    }
    crate::rng::safe_encode(crate::rng::fnv32a(&bytes))
}

/// `copyDeploymentAnnotationsToReplicaSet`: returns whether anything changed.
pub fn copy_annotations_to_rs(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let mut changed = false;
    let target = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    for (k, v) in d.metadata.annotations.iter().flatten() {
        if ANNOTATIONS_TO_SKIP.contains(&k.as_str()) || target.get(k) == Some(v) {
            continue;
        }
        target.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// Whether `SetNewReplicaSetAnnotations(d, rs, new_revision, exists = true)` would report a
/// change, decided without copying the ReplicaSet's metadata: an annotation of the
/// Deployment that the ReplicaSet lacks, or a revision below `new_revision` (an unparsable
/// revision stops it with no change reported, as there).
pub fn new_rs_annotations_need_update(d: &Deployment, rs: &ReplicaSet, new_revision: i64) -> bool {
    let a = rs.metadata.annotations.as_ref();
    let old_revision = a.and_then(|a| a.get(REVISION)).map_or("", String::as_str);
    let old_int = if old_revision.is_empty() {
        0
    } else {
        match old_revision.parse::<i64>() {
            Ok(v) => v,
            Err(_) => return false,
        }
    };
    let copies = d.metadata.annotations.iter().flatten().any(|(k, v)| {
        !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) && a.and_then(|a| a.get(k)) != Some(v)
    });
    copies || old_int < new_revision
}

/// `getNonNegativeInt32FromAnnotation`: a replica annotation as a non-negative int32.
/// Kubernetes parses it with `strconv.ParseUint(v, 10, 32)` and rejects values above
/// MaxInt32, so a sign, "-1" or "2147483648" count as missing.
pub fn non_negative_i32_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    let v = rs.metadata.annotations.as_ref()?.get(key)?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u64>().ok().and_then(|n| i32::try_from(n).ok())
}

/// `SetReplicasAnnotations`: returns whether anything changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let a = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if a.get(k) != Some(&v) {
            a.insert(k.into(), v);
            changed = true;
        }
    }
    changed
}

/// `ReplicasAnnotationsNeedUpdate`.
pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    let a = rs.metadata.annotations.as_ref();
    a.and_then(|a| a.get(DESIRED_REPLICAS)) != Some(&desired.to_string())
        || a.and_then(|a| a.get(MAX_REPLICAS)) != Some(&max.to_string())
}

/// `SetNewReplicaSetAnnotations`: copies annotations, raises the revision (keeping the old
/// number in revision-history) and, for a ReplicaSet about to be created, sets the replica
/// annotations. Returns whether anything changed.
pub fn set_new_rs_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations_to_rs(d, rs);
    let a = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let old_revision = a.get(REVISION).cloned().unwrap_or_default();
    let old_int = if old_revision.is_empty() {
        0
    } else {
        match old_revision.parse::<i64>() {
            Ok(v) => v,
            Err(_) => return false,
        }
    };
    if old_int < new_revision {
        a.insert(REVISION.into(), new_revision.to_string());
        changed = true;
    }
    if !old_revision.is_empty() && old_int < new_revision {
        let history = a.get(REVISION_HISTORY).cloned().unwrap_or_default();
        if history.is_empty() {
            a.insert(REVISION_HISTORY.into(), old_revision);
        } else {
            let mut olds: Vec<&str> = history.split(',').collect();
            let mut total = history.len() + old_revision.len() + 1;
            let mut start = 0;
            while total > MAX_REV_HISTORY_LEN && start < olds.len() {
                total -= olds[start].len() + 1;
                start += 1;
            }
            if total <= MAX_REV_HISTORY_LEN {
                olds = olds.split_off(start);
                olds.push(&old_revision);
                let joined = olds.join(",");
                a.insert(REVISION_HISTORY.into(), joined);
            }
        }
    }
    if !exists && set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

/// `DeploymentComplete`.
pub fn deployment_complete(d: &Deployment, status: &DeploymentStatus) -> bool {
    let r = replicas(d);
    status.updated_replicas.unwrap_or(0) == r
        && status.replicas.unwrap_or(0) == r
        && status.available_replicas.unwrap_or(0) == r
        && status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// `DeploymentProgressing`: did the new status move compared with the old one?
pub fn deployment_progressing(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let old_old = old.replicas.unwrap_or(0) - old.updated_replicas.unwrap_or(0);
    let new_old = new.replicas.unwrap_or(0) - new.updated_replicas.unwrap_or(0);
    new.updated_replicas.unwrap_or(0) > old.updated_replicas.unwrap_or(0)
        || new_old < old_old
        || new.ready_replicas.unwrap_or(0) > old.ready_replicas.unwrap_or(0)
        || new.available_replicas.unwrap_or(0) > old.available_replicas.unwrap_or(0)
}

/// `HasProgressDeadline`.
pub fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .is_some_and(|s| s != i32::MAX)
}

/// The condition of `type_`.
pub fn get_condition<'a>(
    status: &'a DeploymentStatus,
    type_: &str,
) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// A new condition stamped `now`.
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: &Time,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(now.clone()),
        last_transition_time: Some(now.clone()),
    }
}

/// `SetDeploymentCondition`: same status and reason leaves it alone; same status keeps the
/// transition time; the new condition goes to the end of the list.
pub fn set_condition(status: &mut DeploymentStatus, mut cond: DeploymentCondition) {
    if let Some(cur) = get_condition(status, &cond.type_) {
        if cur.status == cond.status && cur.reason == cond.reason {
            return;
        }
        if cur.status == cond.status {
            cond.last_transition_time = cur.last_transition_time.clone();
        }
    }
    remove_condition(status, &cond.type_);
    status.conditions.get_or_insert_with(Vec::new).push(cond);
}

/// `RemoveDeploymentCondition`.
pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(c) = status.conditions.as_mut() {
        c.retain(|c| c.type_ != type_);
    }
}

#[cfg(test)]
mod tests {
    //! Ported from `deployment_util_test.go` (TestResolveFenceposts, TestMaxUnavailable,
    //! TestNewRSNewReplicas' arithmetic) and the digest's fencepost table.
    use super::*;

    fn pct(s: &str) -> IntOrString {
        IntOrString::String(s.into())
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let table = [
            (0, (0, 1)),
            (1, (1, 0)),
            (2, (1, 0)),
            (3, (1, 0)),
            (4, (1, 1)),
            (5, (2, 1)),
            (8, (2, 2)),
            (10, (3, 2)),
            (100, (25, 25)),
        ];
        for (replicas, want) in table {
            let got = resolve_fenceposts(Some(&pct("25%")), Some(&pct("25%")), replicas);
            assert_eq!(got, Ok(want), "replicas {replicas}");
        }
        assert_eq!(
            resolve_fenceposts(Some(&pct("39%")), Some(&pct("39%")), 10),
            Ok((4, 3))
        );
    }

    #[test]
    fn fencepost_cases_from_kubernetes() {
        // TestResolveFenceposts
        type Case = (
            Option<IntOrString>,
            Option<IntOrString>,
            i32,
            Result<(i32, i32), ()>,
        );
        let cases: [Case; 6] = [
            (Some(pct("0%")), Some(pct("0%")), 0, Ok((0, 1))),
            (Some(pct("39%")), Some(pct("39%")), 10, Ok((4, 3))),
            (Some(pct("oops")), Some(pct("0%")), 10, Err(())),
            (Some(pct("55%")), Some(pct("urg")), 10, Err(())),
            (None, Some(pct("39%")), 10, Ok((0, 3))),
            (Some(pct("39%")), None, 10, Ok((4, 0))),
        ];
        for (s, u, n, want) in cases {
            let got = resolve_fenceposts(s.as_ref(), u.as_ref(), n).map_err(|_| ());
            assert_eq!(got, want, "{s:?} {u:?} {n}");
        }
        assert_eq!(resolve_fenceposts(None, None, 10), Ok((0, 1)));
        assert_eq!(
            resolve_fenceposts(Some(&IntOrString::Int(2)), Some(&IntOrString::Int(0)), 10),
            Ok((2, 0))
        );
    }

    fn hist(d_rev: &str, existing_history: Option<&str>, new_rev: i64) -> (String, Option<String>) {
        let d = Deployment::default();
        let mut rs = ReplicaSet::default();
        let mut a = BTreeMap::new();
        a.insert(REVISION.to_string(), d_rev.to_string());
        if let Some(h) = existing_history {
            a.insert(REVISION_HISTORY.to_string(), h.to_string());
        }
        rs.metadata.annotations = Some(a);
        set_new_rs_annotations(&d, &mut rs, new_rev, true);
        let a = rs.metadata.annotations.unwrap_or_default();
        (a[REVISION].clone(), a.get(REVISION_HISTORY).cloned())
    }

    #[test]
    fn reactivated_revision_moves_to_history() {
        assert_eq!(hist("1", None, 4), ("4".into(), Some("1".into())));
        assert_eq!(hist("3", Some("1"), 5), ("5".into(), Some("1,3".into())));
        // Never lowered.
        assert_eq!(hist("5", None, 4), ("5".into(), None));
    }

    #[test]
    fn conditions_keep_transition_time_when_status_stays() {
        let t0 = Time(k8s_openapi::jiff::Timestamp::from_second(0).unwrap());
        let t1 = Time(k8s_openapi::jiff::Timestamp::from_second(10).unwrap());
        let mut st = DeploymentStatus::default();
        set_condition(
            &mut st,
            new_condition("Available", "True", reason::MIN_AVAILABLE, "a".into(), &t0),
        );
        set_condition(
            &mut st,
            new_condition(
                "Progressing",
                "True",
                reason::NEW_RS_CREATED,
                "b".into(),
                &t0,
            ),
        );
        set_condition(
            &mut st,
            new_condition("Progressing", "True", reason::RS_UPDATED, "c".into(), &t1),
        );
        let p = get_condition(&st, "Progressing").unwrap();
        assert_eq!(
            (p.last_transition_time.clone(), p.last_update_time.clone()),
            (Some(t0.clone()), Some(t1.clone()))
        );
        // Same status and reason: untouched.
        set_condition(
            &mut st,
            new_condition("Available", "True", reason::MIN_AVAILABLE, "x".into(), &t1),
        );
        assert_eq!(
            get_condition(&st, "Available").unwrap().message.as_deref(),
            Some("a")
        );
        let order: Vec<_> = st
            .conditions
            .unwrap()
            .iter()
            .map(|c| c.type_.clone())
            .collect();
        assert_eq!(order, ["Available", "Progressing"]);
    }
}
