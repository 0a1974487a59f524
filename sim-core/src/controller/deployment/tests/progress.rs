//! Ported from `progress_test.go`: TestRequeueStuckDeployment and TestSyncRolloutStatus.
//!
//! Go's tests fix the clock with `nowFn`; here the virtual clock is set instead, and the Go
//! instants are moved next to virtual time zero (18:49:00 becomes 0 s).

use super::*;
use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus};

use crate::controller::Work;
use crate::controller::deployment::util::reason;
use crate::sim::Timer;

/// progress_test.go's `currentDeployment`: a Recreate Deployment with a status.
fn current(
    pds: Option<i32>,
    replicas: i32,
    status: (i32, i32, i32),
    conditions: Vec<DeploymentCondition>,
) -> Deployment {
    let mut d = recreate(replicas);
    if let Some(s) = d.spec.as_mut() {
        s.progress_deadline_seconds = pds;
    }
    d.status = Some(DeploymentStatus {
        replicas: Some(status.0),
        updated_replicas: Some(status.1),
        available_replicas: Some(status.2),
        conditions: Some(conditions),
        ..Default::default()
    });
    d
}

fn progressing(status: &str, reason: &str, at: Option<Time>) -> DeploymentCondition {
    DeploymentCondition {
        type_: "Progressing".into(),
        status: status.into(),
        reason: Some(reason.into()),
        last_update_time: at.clone(),
        last_transition_time: at,
        message: None,
    }
}

/// TestRequeueStuckDeployment: `want` is when the Deployment is looked at again, in ms after
/// now (`None`: not requeued). Go returns the time left; kubesim schedules a timer at the
/// deadline plus one second, or 5 ms (the rate limiter) when less than a second is left.
mod requeue_stuck_deployment {
    use super::*;

    fn check(d: Deployment, status: (i32, i32, i32), now_ms: u64, want: Option<u64>) {
        let mut fx = Fx::new(d);
        fx.sim.store.now = SimTime(now_ms);
        let new_status = DeploymentStatus {
            replicas: Some(status.0),
            updated_replicas: Some(status.1),
            available_replicas: Some(status.2),
            observed_generation: fx.cx.generation,
            ..Default::default()
        };
        fx.sim.requeue_stuck_deployment(&fx.cx, &new_status);
        let mut at = None;
        while let Some((t, timer)) = fx.sim.timers.pop_due(SimTime(u64::MAX)) {
            if timer == Timer::Requeue(Work::Deployment(fx.cx.id)) {
                at = Some(t.millis() - now_ms);
            }
        }
        assert_eq!(at, want);
    }

    fn stuck() -> Vec<DeploymentCondition> {
        vec![progressing("True", "", Some(at(0)))]
    }

    #[test]
    fn nil_progress_deadline_seconds() {
        check(current(None, 4, (3, 3, 2), vec![]), (3, 3, 2), 0, None);
    }

    #[test]
    fn infinite_progress_deadline_seconds() {
        check(
            current(Some(i32::MAX), 4, (3, 3, 2), vec![]),
            (3, 3, 2),
            0,
            None,
        );
    }

    #[test]
    fn no_progressing_condition_found() {
        check(current(Some(60), 4, (3, 3, 2), vec![]), (3, 3, 2), 0, None);
    }

    #[test]
    fn complete_deployment_is_not_requeued() {
        check(current(Some(60), 3, (3, 3, 3), stuck()), (3, 3, 3), 0, None);
    }

    #[test]
    fn already_failed_deployment_is_not_requeued() {
        let failed = vec![progressing("False", reason::TIMED_OUT, None)];
        check(current(Some(60), 3, (3, 3, 0), failed), (3, 3, 0), 0, None);
    }

    #[test]
    fn stuck_deployment_30s_left() {
        check(
            current(Some(60), 3, (3, 3, 1), stuck()),
            (3, 3, 1),
            30_000,
            Some(31_000),
        );
    }

    #[test]
    fn stuck_deployment_1s_left() {
        check(
            current(Some(60), 3, (3, 3, 1), stuck()),
            (3, 3, 1),
            59_000,
            Some(2_000),
        );
    }

    #[test]
    fn less_than_a_second_left_is_now() {
        check(
            current(Some(60), 3, (3, 3, 1), stuck()),
            (3, 3, 1),
            59_001,
            Some(5),
        );
    }

    #[test]
    fn at_the_deadline_is_now() {
        check(
            current(Some(60), 3, (3, 3, 1), stuck()),
            (3, 3, 1),
            60_000,
            Some(5),
        );
    }

    #[test]
    fn one_second_after_the_deadline_is_now() {
        check(
            current(Some(60), 3, (3, 3, 1), stuck()),
            (3, 3, 1),
            61_000,
            Some(5),
        );
    }

    #[test]
    fn sixty_seconds_after_the_deadline_is_now() {
        check(
            current(Some(60), 3, (3, 3, 1), stuck()),
            (3, 3, 1),
            120_000,
            Some(5),
        );
    }
}

/// TestSyncRolloutStatus. ReplicaSets are `(name, spec, status.replicas, available)`; the
/// sync runs an hour after the test time. `want` is the Progressing condition's
/// (status, reason) and whether its update and transition times are still the test time.
mod sync_rollout_status {
    use super::*;

    const HOUR_MS: u64 = 3_600_000;

    #[derive(Clone, Copy)]
    enum Cond {
        None,
        Empty,
        NewRsAvailable,
        RsUpdated,
        TimedOut,
    }

    struct Want<'a> {
        status: &'a str,
        reason: &'a str,
        update_kept: bool,
        transition_kept: bool,
    }

    fn check(
        pds: Option<i32>,
        replicas: i32,
        status: (i32, i32, i32),
        cond: Cond,
        olds: &[(&str, i32, i32, i32)],
        new: Option<(&str, i32, i32, i32)>,
        want: Option<Want<'_>>,
    ) {
        let test_time = at(0);
        let conditions = match cond {
            Cond::None | Cond::Empty => vec![],
            Cond::NewRsAvailable => vec![progressing(
                "True",
                reason::NEW_RS_AVAILABLE,
                Some(test_time.clone()),
            )],
            Cond::RsUpdated => vec![progressing(
                "True",
                reason::RS_UPDATED,
                Some(test_time.clone()),
            )],
            Cond::TimedOut => vec![progressing("False", reason::TIMED_OUT, None)],
        };
        let mut fx = Fx::new(current(pds, replicas, status, conditions));
        fx.sim.store.now = SimTime(HOUR_MS);
        let mut all: Vec<ObjId> = olds
            .iter()
            .map(|&(n, s, r, a)| fx.rs_with_status(n, s, r, a))
            .collect();
        let new = new.map(|(n, s, r, a)| fx.rs_with_status(n, s, r, a));
        all.extend(new);
        fx.sim.sync_rollout_status(&mut fx.cx, &all, new);
        let st = fx.status();
        let got = dutil::get_condition(&st, "Progressing");
        match (want, got) {
            (None, None) => {}
            (Some(w), Some(c)) => {
                assert_eq!(
                    (c.status.as_str(), c.reason.as_deref()),
                    (w.status, Some(w.reason)),
                    "Progressing condition"
                );
                if w.update_kept {
                    assert_eq!(c.last_update_time.as_ref(), Some(&test_time), "lastUpdate");
                }
                if w.transition_kept {
                    assert_eq!(
                        c.last_transition_time.as_ref(),
                        Some(&test_time),
                        "lastTransition"
                    );
                } else {
                    assert_ne!(
                        c.last_transition_time.as_ref(),
                        Some(&test_time),
                        "lastTransition moves"
                    );
                }
            }
            (w, c) => panic!("want condition {}, got {c:?}", w.is_some()),
        }
    }

    #[test]
    fn no_progress_deadline_removes_progressing() {
        check(
            None,
            3,
            (2, 2, 2),
            Cond::RsUpdated,
            &[("bar", 0, 1, 1)],
            Some(("foo", 3, 2, 2)),
            None,
        );
    }

    #[test]
    fn only_one_active_rs_is_not_estimated() {
        check(
            Some(60),
            3,
            (3, 3, 3),
            Cond::NewRsAvailable,
            &[("bar", 3, 3, 3)],
            None,
            Some(Want {
                status: "True",
                reason: reason::NEW_RS_AVAILABLE,
                update_kept: true,
                transition_kept: true,
            }),
        );
    }

    #[test]
    fn progressing_keeps_transition_time_when_already_true() {
        check(
            Some(60),
            3,
            (2, 2, 2),
            Cond::RsUpdated,
            &[("bar", 0, 1, 1)],
            Some(("foo", 3, 2, 2)),
            Some(Want {
                status: "True",
                reason: reason::RS_UPDATED,
                update_kept: false,
                transition_kept: true,
            }),
        );
    }

    #[test]
    fn progressing_updates_everything_when_false() {
        check(
            Some(60),
            3,
            (2, 2, 2),
            Cond::TimedOut,
            &[("bar", 0, 1, 1)],
            Some(("foo", 3, 2, 2)),
            Some(Want {
                status: "True",
                reason: reason::RS_UPDATED,
                update_kept: false,
                transition_kept: false,
            }),
        );
    }

    #[test]
    fn progressing_creates_the_condition() {
        check(
            Some(60),
            3,
            (2, 2, 2),
            Cond::Empty,
            &[("bar", 0, 1, 1)],
            Some(("foo", 3, 2, 2)),
            Some(Want {
                status: "True",
                reason: reason::RS_UPDATED,
                update_kept: false,
                transition_kept: false,
            }),
        );
    }

    #[test]
    fn complete_keeps_transition_time_when_already_true() {
        check(
            Some(60),
            3,
            (3, 3, 3),
            Cond::RsUpdated,
            &[],
            Some(("foo", 3, 3, 3)),
            Some(Want {
                status: "True",
                reason: reason::NEW_RS_AVAILABLE,
                update_kept: false,
                transition_kept: true,
            }),
        );
    }

    #[test]
    fn complete_updates_everything_when_false() {
        check(
            Some(60),
            3,
            (3, 3, 3),
            Cond::TimedOut,
            &[],
            Some(("foo", 3, 3, 3)),
            Some(Want {
                status: "True",
                reason: reason::NEW_RS_AVAILABLE,
                update_kept: false,
                transition_kept: false,
            }),
        );
    }

    #[test]
    fn complete_creates_the_condition() {
        check(
            Some(60),
            3,
            (3, 3, 3),
            Cond::None,
            &[],
            Some(("foo", 3, 3, 3)),
            Some(Want {
                status: "True",
                reason: reason::NEW_RS_AVAILABLE,
                update_kept: false,
                transition_kept: false,
            }),
        );
    }

    #[test]
    fn complete_without_new_rs() {
        check(
            Some(60),
            0,
            (3, 3, 3),
            Cond::RsUpdated,
            &[("foo", 0, 0, 0)],
            None,
            Some(Want {
                status: "True",
                reason: reason::NEW_RS_AVAILABLE,
                update_kept: false,
                transition_kept: true,
            }),
        );
    }

    #[test]
    fn timed_out_when_past_the_deadline() {
        check(
            Some(60),
            3,
            (2, 2, 2),
            Cond::RsUpdated,
            &[],
            Some(("foo", 3, 2, 2)),
            Some(Want {
                status: "False",
                reason: reason::TIMED_OUT,
                update_kept: false,
                transition_kept: false,
            }),
        );
    }

    #[test]
    fn existing_timed_out_condition_is_not_updated() {
        let mut fx = Fx::new(current(
            Some(60),
            3,
            (2, 2, 2),
            vec![progressing("False", reason::TIMED_OUT, None)],
        ));
        fx.sim.store.now = SimTime(HOUR_MS);
        let new = fx.rs_with_status("foo", 3, 2, 2);
        fx.sim.sync_rollout_status(&mut fx.cx, &[new], Some(new));
        let st = fx.status();
        let c = dutil::get_condition(&st, "Progressing").expect("kept");
        assert_eq!(
            (
                c.status.as_str(),
                c.reason.as_deref(),
                c.last_update_time.as_ref()
            ),
            ("False", Some(reason::TIMED_OUT), None)
        );
    }
}
