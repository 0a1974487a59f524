//! Ported from `recreate_test.go`: TestScaleDownOldReplicaSets and TestOldPodsRunning.
//!
//! Not ported: `TestDeploymentController_rolloutRecreate` injects client update failures,
//! which kubesim's in-memory store cannot produce.

use super::*;
use crate::store::pod::{Phase, PodState};

/// TestScaleDownOldReplicaSets: kubesim has no separate `scaleDownOldReplicaSetsForRecreate`;
/// the first step of `rollout_recreate` is that function, and it stops the sync there.
#[test]
fn scale_down_old_replica_sets_recreate_3_to_0() {
    let mut fx = Fx::new(recreate(3));
    let old = fx.rs("foo-0", 3, 0);
    fx.sim.rollout_recreate(&mut fx.cx);
    assert_eq!(fx.spec(old), Some(0));
    assert_eq!(
        fx.cx.rs_list,
        [old],
        "no new ReplicaSet while old pods may run"
    );
}

/// TestOldPodsRunning. Old ReplicaSets are `(status.replicas, pod phases)`. Go keys its pod
/// map by ReplicaSet UID; in kubesim every pod in that map is owned by one of the
/// Deployment's ReplicaSets, so pods are given to the old ReplicaSets here.
mod old_pods_running {
    use super::*;

    fn check(olds: &[(i32, &[Phase])], want: bool) {
        let mut fx = Fx::new(recreate(1));
        let new = fx.rs("foo-new", 0, 0);
        let mut old = Vec::new();
        for (i, &(status_replicas, phases)) in olds.iter().enumerate() {
            let rs = fx.rs_with_status(&format!("rs-{i}"), 0, status_replicas, 0);
            for (j, phase) in phases.iter().enumerate() {
                let id = fx.sim.store.next_id();
                let t = Arc::new(template("foo/old"));
                let mut pod = PodState::new(
                    id,
                    format!("rs-{i}-{j}").into(),
                    "default".into(),
                    t,
                    Some(rs),
                    SimTime::ZERO,
                );
                pod.phase = *phase;
                fx.sim.insert_pod(pod);
                fx.sim.store.owners.link(rs, id);
            }
            old.push(rs);
        }
        assert_eq!(fx.sim.old_pods_running(Some(new), &old), want);
    }

    #[test]
    fn no_old_rss() {
        check(&[], false);
    }

    #[test]
    fn old_rss_with_running_pods() {
        check(
            &[
                (0, &[Phase::Running, Phase::Running]),
                (0, &[Phase::Running, Phase::Running]),
            ],
            true,
        );
    }

    #[test]
    fn old_rss_without_pods_but_with_non_zero_status_replicas() {
        check(&[(1, &[])], true);
    }

    #[test]
    fn old_rss_without_pods_or_non_zero_status_replicas() {
        check(&[(0, &[])], false);
    }

    #[test]
    fn zero_status_replicas_but_pods_in_terminal_state() {
        check(&[(0, &[Phase::Failed, Phase::Succeeded])], false);
    }

    #[test]
    fn zero_status_replicas_but_pod_in_unknown_phase() {
        check(&[(0, &[Phase::Unknown])], true);
    }

    #[test]
    fn zero_status_replicas_with_pending_pod() {
        check(&[(0, &[Phase::Pending])], true);
    }

    #[test]
    fn zero_status_replicas_with_running_pod() {
        check(&[(0, &[Phase::Running])], true);
    }

    #[test]
    fn zero_status_replicas_terminal_and_pending_pods() {
        check(
            &[
                (0, &[Phase::Failed, Phase::Succeeded]),
                (0, &[]),
                (0, &[Phase::Pending]),
            ],
            true,
        );
    }
}
