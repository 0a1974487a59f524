//! Ported from `rolling_test.go`.
//!
//! Not ported: `TestDeploymentController_rolloutRolling` and the `updateErr` rows of
//! `TestDeploymentController_reconcileOldReplicaSets` inject client update failures, which
//! kubesim's in-memory store cannot produce.

use super::*;

/// TestDeploymentController_reconcileNewReplicaSet: maxUnavailable 0, one old and one new
/// ReplicaSet; `want` is the new size written, `None` when nothing may be written.
mod reconcile_new_replica_set {
    use super::*;

    fn check(replicas: i32, surge: i32, old: i32, new: i32, want: Option<i32>) {
        let mut fx = Fx::new(rolling(replicas, int(surge), int(0)));
        let new_rs = fx.rs("foo-v2", new, 0);
        let old_rs = fx.rs("foo-v1", old, 0);
        let rv = fx.sim.store.resource_version();
        let scaled = fx
            .sim
            .reconcile_new_replica_set(&fx.cx, &[new_rs, old_rs], new_rs);
        assert_eq!(scaled, want.is_some(), "scaled");
        assert_eq!(fx.spec(new_rs), Some(want.unwrap_or(new)), "new size");
        assert_eq!(
            fx.spec(old_rs),
            Some(old),
            "the old ReplicaSet is not touched"
        );
        if want.is_none() {
            assert_eq!(fx.sim.store.resource_version(), rv, "no write at all");
        }
    }

    #[test]
    fn surge_0_does_not_scale_up() {
        check(10, 0, 10, 0, None);
    }

    #[test]
    fn surge_2_old_10_new_0_scales_to_2() {
        check(10, 2, 10, 0, Some(2));
    }

    #[test]
    fn surge_2_old_5_new_0_scales_to_7() {
        check(10, 2, 5, 0, Some(7));
    }

    #[test]
    fn surge_2_old_10_new_2_is_at_max_total() {
        check(10, 2, 10, 2, None);
    }

    #[test]
    fn new_11_above_replicas_scales_down_to_10() {
        check(10, 2, 2, 11, Some(10));
    }
}

/// TestDeploymentController_reconcileOldReplicaSets: maxSurge 0; `want` is the old size after
/// the call (`None`: nothing scaled).
mod reconcile_old_replica_sets {
    use super::*;

    struct Case {
        replicas: i32,
        max_unavailable: i32,
        old: i32,
        new: i32,
        old_available: i32,
        new_available: i32,
        want: Option<i32>,
    }

    fn check(c: Case) {
        let mut fx = Fx::new(rolling(c.replicas, int(0), int(c.max_unavailable)));
        let old_rs = fx.rs_with_status("foo-old", c.old, c.old, c.old_available);
        let new_rs = fx.rs_with_status("foo-new", c.new, c.new, c.new_available);
        let scaled =
            fx.sim
                .reconcile_old_replica_sets(&fx.cx, &[old_rs, new_rs], vec![old_rs], new_rs);
        assert_eq!(scaled, c.want.is_some(), "scaled");
        assert_eq!(fx.spec(old_rs), Some(c.want.unwrap_or(c.old)), "old size");
        assert_eq!(
            fx.spec(new_rs),
            Some(c.new),
            "the new ReplicaSet is not touched"
        );
    }

    #[test]
    fn max_unavailable_0_takes_one() {
        check(Case {
            replicas: 10,
            max_unavailable: 0,
            old: 10,
            new: 0,
            old_available: 10,
            new_available: 0,
            want: Some(9),
        });
    }

    #[test]
    fn max_unavailable_2_takes_two() {
        check(Case {
            replicas: 10,
            max_unavailable: 2,
            old: 10,
            new: 0,
            old_available: 10,
            new_available: 0,
            want: Some(8),
        });
    }

    #[test]
    fn unhealthy_old_replicas_are_cleaned_up() {
        check(Case {
            replicas: 10,
            max_unavailable: 2,
            old: 10,
            new: 0,
            old_available: 8,
            new_available: 0,
            want: Some(8),
        });
    }

    #[test]
    fn one_unhealthy_cleaned_and_one_ready_scaled_down() {
        check(Case {
            replicas: 10,
            max_unavailable: 2,
            old: 10,
            new: 0,
            old_available: 9,
            new_available: 0,
            want: Some(8),
        });
    }

    #[test]
    fn unavailable_new_pods_block_further_scale_down() {
        check(Case {
            replicas: 10,
            max_unavailable: 2,
            old: 8,
            new: 2,
            old_available: 8,
            new_available: 0,
            want: None,
        });
    }
}

/// TestDeploymentController_cleanupUnhealthyReplicas: one old ReplicaSet of 10 in a
/// Deployment of 10 with maxSurge 2, maxUnavailable 2.
mod cleanup_unhealthy_replicas {
    use super::*;

    fn check(available: i32, max_cleanup: i32, want_cleaned: i32) {
        let mut fx = Fx::new(rolling(10, int(2), int(2)));
        let old_rs = fx.rs_with_status("foo-v2", 10, 10, available);
        let cleaned = fx
            .sim
            .cleanup_unhealthy_replicas(&fx.cx, &mut [old_rs], max_cleanup);
        assert_eq!(cleaned.unwrap_or(0), want_cleaned, "cleanup count");
        assert_eq!(cleaned.is_err(), available > 10, "invalid request refused");
        assert_eq!(fx.spec(old_rs), Some(10 - want_cleaned), "old size");
    }

    #[test]
    fn two_unhealthy_budget_1_cleans_1() {
        check(8, 1, 1);
    }

    #[test]
    fn two_unhealthy_budget_3_cleans_2() {
        check(8, 3, 2);
    }

    #[test]
    fn two_unhealthy_budget_0_cleans_0() {
        check(8, 0, 0);
    }

    #[test]
    fn all_healthy_cleans_0() {
        check(10, 3, 0);
    }

    /// Not a Go row: status lags a scale-down (available 12 > spec 10). rolling.go refuses
    /// the "invalid request to scale down" (it would be a scale-up) and scales nothing.
    #[test]
    fn available_above_spec_is_never_a_scale_up() {
        check(12, 3, 0);
    }
}

/// TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate: maxSurge 0, the old
/// ReplicaSet is the only one; `want` is its size after the call (`None`: nothing scaled).
mod scale_down_old_replica_sets_for_rolling_update {
    use super::*;

    fn check(max_unavailable: i32, available: i32, old: i32, want: Option<i32>) {
        let mut fx = Fx::new(rolling(10, int(0), int(max_unavailable)));
        let old_rs = fx.rs_with_status("foo-v2", old, old, available);
        let scaled = fx
            .sim
            .scale_down_old_for_rolling_update(&fx.cx, &[old_rs], &[old_rs], "test");
        assert_eq!(scaled, old - want.unwrap_or(old), "scaled down");
        assert_eq!(fx.spec(old_rs), Some(want.unwrap_or(old)), "old size");
    }

    #[test]
    fn max_unavailable_0_all_ready_scales_to_9() {
        check(0, 10, 10, Some(9));
    }

    #[test]
    fn max_unavailable_2_all_ready_scales_to_8() {
        check(2, 10, 10, Some(8));
    }

    #[test]
    fn eight_ready_is_at_min_available() {
        check(2, 8, 10, None);
    }

    #[test]
    fn old_already_at_0() {
        check(2, 10, 0, None);
    }

    #[test]
    fn one_ready_is_below_min_available() {
        check(2, 1, 10, None);
    }
}
