//! Ported from `util/deployment_util_test.go`: TestNewRSNewReplicas,
//! TestGetReplicaCountForReplicaSets, TestMaxUnavailable, TestMinAvailable,
//! TestDeploymentComplete, TestDeploymentProgressing, TestDeploymentTimedOut,
//! TestAnnotationUtils, TestReplicasAnnotationsNeedUpdate, TestGetReplicaSetFraction and
//! TestGetNonNegativeInt32FromAnnotation (as seen through its callers).
//!
//! TestResolveFenceposts is in `util.rs` itself. Not ported: TestGetNewRS, TestGetOldRSs and
//! TestGetDeploymentsForReplicaSet list through a client or informer, which kubesim does not
//! have; the ownership they exercise lives in `replica_sets_for_deployment`.

use super::*;
use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus};

use crate::controller::deployment::sync::new_rs_new_replicas;
use crate::controller::deployment::util::reason;

/// TestNewRSNewReplicas: the other ReplicaSet has 5 replicas and the new one is not counted
/// (Go passes only `rs5` as allRSs); maxUnavailable 1.
mod new_rs_new_replicas {
    use super::*;

    fn check(strategy: &str, replicas: i32, new: i32, surge: i32, want: i32) {
        let mut d = rolling(replicas, int(surge), int(1));
        if let Some(s) = d.spec.as_mut().and_then(|s| s.strategy.as_mut()) {
            s.type_ = Some(strategy.into());
        }
        assert_eq!(new_rs_new_replicas(&d, 5, new), want);
    }

    #[test]
    fn can_not_scale_up_stays_at_new_rs_replicas() {
        check("RollingUpdate", 1, 5, 1, 5);
    }

    #[test]
    fn scale_up_to_deployment_replicas() {
        check("RollingUpdate", 6, 2, 10, 6);
    }

    #[test]
    fn recreate_to_deployment_replicas() {
        check("Recreate", 3, 1, 1, 3);
    }
}

/// TestGetReplicaCountForReplicaSets, through `calculate_status`: `replicas` is the actual
/// count (Σ status.replicas) and `unavailableReplicas` is Σ spec − available, with nothing
/// available here. ReplicaSets are `(spec, status.replicas)`. The `terminatingReplicas`
/// column (feature gate DeploymentReplicaSetTerminatingReplicas) is not modelled: kubesim
/// always reports it absent.
mod replica_count_for_replica_sets {
    use super::*;

    const RS1: (i32, i32) = (1, 2);
    const RS2: (i32, i32) = (2, 3);
    const RS3: (i32, i32) = (3, 0);
    const RS4: (i32, i32) = (1, 1);

    fn check(sets: &[(i32, i32)], want_count: i32, want_actual: i32) {
        let mut fx = Fx::new(rolling(1, int(0), int(0)));
        let ids: Vec<ObjId> = sets
            .iter()
            .enumerate()
            .map(|(i, &(spec, status))| fx.rs_with_status(&format!("rs{i}"), spec, status, 0))
            .collect();
        let st = fx.sim.calculate_status(&fx.cx, &ids, None);
        assert_eq!(st.replicas.unwrap_or(0), want_actual, "actual");
        assert_eq!(st.unavailable_replicas.unwrap_or(0), want_count, "count");
        assert_eq!(st.terminating_replicas, None);
    }

    #[test]
    fn scaling_down_rs1() {
        check(&[RS1], 1, 2);
    }

    #[test]
    fn scaling_down_rs1_and_rs2() {
        check(&[RS1, RS2], 3, 5);
    }

    #[test]
    fn scaling_up_rs3() {
        check(&[RS3], 3, 0);
    }

    #[test]
    fn scaling_down_rs1_and_rs2_and_scaling_up_rs3() {
        check(&[RS1, RS2, RS3], 6, 5);
    }

    #[test]
    fn rs4() {
        check(&[RS4], 1, 1);
    }

    #[test]
    fn rs1_to_rs4() {
        check(&[RS1, RS2, RS3, RS4], 7, 6);
    }
}

/// TestMaxUnavailable and TestMinAvailable: maxSurge 1.
mod max_and_min_available {
    use super::*;

    fn check(d: Deployment, want_max_unavailable: i32, want_min_available: i32) {
        assert_eq!(
            dutil::max_unavailable(&d),
            want_max_unavailable,
            "maxUnavailable"
        );
        assert_eq!(dutil::min_available(&d), want_min_available, "minAvailable");
    }

    #[test]
    fn max_unavailable_less_than_replicas() {
        check(rolling(10, int(1), int(5)), 5, 5);
    }

    #[test]
    fn max_unavailable_equal_replicas() {
        check(rolling(10, int(1), int(10)), 10, 0);
    }

    #[test]
    fn max_unavailable_greater_than_replicas() {
        check(rolling(5, int(1), int(10)), 5, 0);
    }

    #[test]
    fn replicas_is_0() {
        check(rolling(0, int(1), int(10)), 0, 0);
    }

    #[test]
    fn recreate_strategy() {
        check(recreate(10), 0, 0);
    }

    #[test]
    fn percent_less_than_replicas() {
        check(rolling(10, int(1), pct("50%")), 5, 5);
        check(rolling(10, int(1), pct("60%")), 6, 4);
    }

    #[test]
    fn percent_equal_replicas() {
        check(rolling(10, int(1), pct("100%")), 10, 0);
    }

    #[test]
    fn percent_greater_than_replicas() {
        check(rolling(5, int(1), pct("100%")), 5, 0);
    }
}

fn status(replicas: i32, updated: i32, ready: i32, available: i32) -> DeploymentStatus {
    DeploymentStatus {
        replicas: Some(replicas),
        updated_replicas: Some(updated),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        observed_generation: Some(1),
        ..Default::default()
    }
}

/// TestDeploymentComplete: `(desired, current, updated, available, maxUnavailable, maxSurge)`.
mod deployment_complete {
    use super::*;

    fn check(row: (i32, i32, i32, i32, i32, i32), want: bool) {
        let (desired, current, updated, available, unavailable, surge) = row;
        let d = rolling(desired, int(surge), int(unavailable));
        let st = status(current, updated, 0, available);
        assert_eq!(dutil::deployment_complete(&d, &st), want);
    }

    #[test]
    fn min_but_not_all_pods_available() {
        check((5, 5, 5, 4, 1, 0), false);
    }

    #[test]
    fn min_availability_not_honored() {
        check((5, 5, 5, 3, 1, 0), false);
    }

    #[test]
    fn complete() {
        check((5, 5, 5, 5, 0, 0), true);
    }

    #[test]
    fn all_available_but_not_updated() {
        check((5, 5, 4, 5, 0, 0), false);
    }

    #[test]
    fn still_running_old_pods() {
        check((1, 2, 1, 1, 0, 1), false);
    }

    #[test]
    fn one_replica_never_comes_up() {
        check((1, 1, 1, 0, 1, 1), false);
    }
}

/// TestDeploymentProgressing: old and new `(current, updated, ready, available)`.
mod deployment_progressing {
    use super::*;

    fn check(old: (i32, i32, i32, i32), new: (i32, i32, i32, i32), want: bool) {
        let o = status(old.0, old.1, old.2, old.3);
        let n = status(new.0, new.1, new.2, new.3);
        assert_eq!(dutil::deployment_progressing(&o, &n), want);
    }

    #[test]
    fn updated_pods() {
        check((10, 4, 4, 4), (10, 6, 4, 4), true);
    }

    #[test]
    fn not_progressing() {
        check((10, 4, 4, 4), (10, 4, 4, 4), false);
    }

    #[test]
    fn old_pods_removed() {
        check((10, 4, 6, 6), (8, 4, 6, 6), true);
    }

    #[test]
    fn less_new_pods() {
        check((10, 7, 3, 3), (10, 6, 3, 3), false);
    }

    #[test]
    fn less_overall_but_more_new_pods() {
        check((10, 4, 7, 7), (8, 8, 5, 5), true);
    }

    #[test]
    fn more_ready_pods() {
        check((10, 10, 9, 8), (10, 10, 10, 8), true);
    }

    #[test]
    fn more_available_pods() {
        check((10, 10, 10, 9), (10, 10, 10, 10), true);
    }
}

/// TestDeploymentTimedOut: a Progressing=True condition last updated at `from_secs`,
/// checked at `now_secs` (Go's 00:01:09 is 69 s).
mod deployment_timed_out {
    use super::*;

    fn check(reason: &str, pds: Option<i32>, from_secs: u64, now_secs: u64, want: bool) {
        let mut d = rolling(1, int(0), int(0));
        if let Some(s) = d.spec.as_mut() {
            s.progress_deadline_seconds = pds;
        }
        let mut fx = Fx::new(d);
        fx.sim.store.now = SimTime(now_secs * 1000);
        let st = DeploymentStatus {
            conditions: Some(vec![DeploymentCondition {
                type_: "Progressing".into(),
                status: "True".into(),
                reason: Some(reason.into()),
                last_update_time: Some(at(from_secs)),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(fx.sim.timed_out(&fx.cx, &st), want);
    }

    #[test]
    fn nil_progress_deadline_seconds_never_times_out() {
        check("", None, 69, 80, false);
    }

    #[test]
    fn infinite_progress_deadline_seconds_never_times_out() {
        check("", Some(i32::MAX), 69, 80, false);
    }

    #[test]
    fn ten_seconds_deadline_11s_passed() {
        check("", Some(10), 69, 80, true);
    }

    #[test]
    fn ten_seconds_deadline_9s_passed() {
        check("", Some(10), 71, 80, false);
    }

    /// Not a Go row: `from + deadline` must be strictly before now.
    #[test]
    fn ten_seconds_deadline_exactly_10s_passed() {
        check("", Some(10), 70, 80, false);
    }

    #[test]
    fn previous_status_was_a_complete_deployment() {
        check(reason::NEW_RS_AVAILABLE, None, 0, 80, false);
        check(reason::NEW_RS_AVAILABLE, Some(10), 0, 80, false);
    }
}

/// TestAnnotationUtils/SetNewReplicaSetAnnotations. Go runs it with a history limit of 5
/// characters; kubesim's limit is the real 2000, so the same drop-the-oldest rule is checked
/// at that limit.
#[test]
fn annotation_utils_revision_history() {
    let mut d = rolling(1, int(0), int(0));
    d.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(dutil::REVISION.into(), "1".into());
    let mut rs = ReplicaSet::default();
    for i in 10..20 {
        dutil::set_new_rs_annotations(&d, &mut rs, i + 1, true);
        let a = rs.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(a[dutil::REVISION], (i + 1).to_string(), "revision");
        if i >= 11 {
            let want: Vec<String> = (11..=i).map(|r| r.to_string()).collect();
            assert_eq!(a[dutil::REVISION_HISTORY], want.join(","), "history");
        }
    }
    // A history at the limit drops its oldest entries to make room.
    let full = vec!["999"; 500].join(",");
    assert_eq!(full.len(), 1999);
    let mut a = BTreeMap::new();
    a.insert(dutil::REVISION.to_string(), "1000".to_string());
    a.insert(dutil::REVISION_HISTORY.to_string(), full);
    rs.metadata.annotations = Some(a);
    dutil::set_new_rs_annotations(&d, &mut rs, 1001, true);
    let a = rs.metadata.annotations.unwrap_or_default();
    let history = &a[dutil::REVISION_HISTORY];
    assert!(history.ends_with(",999,1000"), "{history}");
    assert_eq!(history.len(), dutil::MAX_REV_HISTORY_LEN);
    assert_eq!(history.split(',').count(), 500);
}

/// TestAnnotationUtils/SetReplicasAnnotations and /IsSaturated, and
/// TestReplicasAnnotationsNeedUpdate (desired 10, max 20).
#[test]
fn annotation_utils_replicas_annotations() {
    let mut rs = ReplicaSet::default();
    assert!(dutil::set_replicas_annotations(&mut rs, 10, 11));
    let a = rs.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        (
            a[dutil::DESIRED_REPLICAS].as_str(),
            a[dutil::MAX_REPLICAS].as_str()
        ),
        ("10", "11")
    );
    assert!(
        !dutil::set_replicas_annotations(&mut rs, 10, 11),
        "unchanged"
    );

    let with = |desired: &str, max: &str| {
        let mut rs = ReplicaSet::default();
        rs.metadata.annotations = Some(BTreeMap::from([
            (dutil::DESIRED_REPLICAS.to_string(), desired.to_string()),
            (dutil::MAX_REPLICAS.to_string(), max.to_string()),
        ]));
        rs
    };
    assert!(
        dutil::replicas_annotations_need_update(&ReplicaSet::default(), 10, 20),
        "nil"
    );
    assert!(
        dutil::replicas_annotations_need_update(&with("8", "20"), 10, 20),
        "desired"
    );
    assert!(
        dutil::replicas_annotations_need_update(&with("10", "16"), 10, 20),
        "max"
    );
    assert!(
        !dutil::replicas_annotations_need_update(&with("10", "20"), 10, 20),
        "needn't"
    );
}

/// TestAnnotationUtils/IsSaturated: a new ReplicaSet at spec 1, desired-replicas 1 and 1
/// available makes `scale` scale every old ReplicaSet to 0.
#[test]
fn annotation_utils_is_saturated() {
    let mut fx = Fx::new(rolling(1, int(1), int(0)));
    let old = fx.rs("old", 1, 0);
    let new = fx.rs_with_status("new", 1, 1, 1);
    fx.annotate(new, dutil::DESIRED_REPLICAS, "1");
    fx.sim.proportional_scale(&fx.cx, Some(new), &[old]);
    assert_eq!((fx.spec(new), fx.spec(old)), (Some(1), Some(0)));
}

/// TestGetReplicaSetFraction, plus the TestGetNonNegativeInt32FromAnnotation values
/// read through the max-replicas annotation: maxUnavailable 1; `status` is the
/// Deployment's status.replicas.
mod replica_set_fraction {
    use super::*;

    fn check(replicas: i32, status: i32, surge: i32, rs: i32, max: Option<&str>, want: i32) {
        let mut d = rolling(replicas, int(surge), int(1));
        d.status = Some(DeploymentStatus {
            replicas: Some(status),
            ..Default::default()
        });
        let mut fx = Fx::new(d);
        let id = fx.rs("rs", rs, 0);
        if let Some(m) = max {
            fx.annotate(id, dutil::MAX_REPLICAS, m);
        }
        assert_eq!(fx.sim.replica_set_fraction(&fx.cx, id), want);
    }

    #[test]
    fn empty_deployment_always_scales_to_0() {
        check(0, 0, 0, 10, None, -10);
    }

    #[test]
    fn unsynced_deployment_missing_annotation_does_not_scale() {
        check(10, 0, 0, 5, None, 0);
    }

    #[test]
    fn unsynced_deployment_annotation_0_does_not_scale() {
        check(10, 0, 0, 5, Some("0"), 0);
    }

    #[test]
    fn missing_annotation_falls_back_to_status_replicas() {
        check(120, 100, 0, 50, None, 10);
    }

    #[test]
    fn annotation_0_falls_back_to_status_replicas() {
        check(120, 100, 0, 50, Some("0"), 10);
    }

    #[test]
    fn scale_up_by_a_fifth() {
        check(120, 0, 0, 50, Some("100"), 10);
    }

    #[test]
    fn scale_up_with_max_surge_by_about_a_fifth() {
        check(120, 0, 10, 50, Some("110"), 9);
    }

    #[test]
    fn scale_down_by_a_sixth() {
        check(10, 0, 0, 6, Some("12"), -1);
    }

    #[test]
    fn scale_down_with_max_surge_by_about_a_sixth() {
        check(100, 0, 10, 50, Some("130"), -8);
    }

    /// TestGetNonNegativeInt32FromAnnotation "invalid": not a number is ignored.
    #[test]
    fn invalid_annotation_falls_back_to_status_replicas() {
        check(120, 100, 0, 50, Some("invalid"), 10);
    }

    /// TestGetNonNegativeInt32FromAnnotation "invalid negative": "-1" is not a valid
    /// annotation value, so the Deployment's status.replicas is used instead.
    #[test]
    fn negative_annotation_falls_back_to_status_replicas() {
        check(120, 100, 0, 50, Some("-1"), 10);
    }

    /// TestGetNonNegativeInt32FromAnnotation "invalid max out of range".
    #[test]
    fn out_of_range_annotation_falls_back_to_status_replicas() {
        check(120, 100, 0, 50, Some("2147483648"), 10);
    }

    /// TestGetNonNegativeInt32FromAnnotation "valid max".
    #[test]
    fn max_int32_annotation_is_valid() {
        check(120, 100, 0, 50, Some("2147483647"), -50);
    }
}

/// TestGetNonNegativeInt32FromAnnotation through `GetDesiredReplicasAnnotation`, which
/// `isScalingEvent` reads: an invalid or negative desired-replicas annotation is ignored,
/// so it does not make a scaling event.
mod desired_replicas_annotation {
    use super::*;

    fn check(value: &str, want_scaling_event: bool) {
        let mut fx = Fx::new(rolling(3, int(1), int(0)));
        let id = fx.rs("rs", 3, 0);
        let t = fx
            .sim
            .deployment(fx.cx.id)
            .and_then(|d| d.spec.as_ref())
            .map(|s| s.template.clone());
        fx.sim.store.replicasets.get_mut(id).expect("rs").template = Arc::new(t.expect("template"));
        fx.annotate(id, dutil::DESIRED_REPLICAS, value);
        assert_eq!(fx.sim.is_scaling_event(&mut fx.cx), want_scaling_event);
    }

    #[test]
    fn same_as_replicas_is_not_a_scaling_event() {
        check("3", false);
    }

    #[test]
    fn different_from_replicas_is_a_scaling_event() {
        check("5", true);
    }

    #[test]
    fn invalid_is_ignored() {
        check("invalid", false);
    }

    #[test]
    fn negative_is_ignored() {
        check("-1", false);
    }

    #[test]
    fn out_of_range_is_ignored() {
        check("4294967296", false);
    }
}
