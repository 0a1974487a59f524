//! Ported from `sync_test.go`: TestScale, TestDeploymentController_cleanupDeployment and
//! TestDeploymentController_cleanupDeploymentOrder.

use super::*;

/// TestScale. Every ReplicaSet carries the replica annotations the previous Deployment
/// (`old_replicas`, `old_surge`) wrote; `scale` then runs for the Deployment (`replicas`,
/// `surge`). ReplicaSets are `(name, size, created_secs)`; `want` holds the sizes after,
/// new first.
mod scale {
    use super::*;

    const NEW: u64 = 7200;
    const OLD: u64 = 3600;
    const OLDER: u64 = 0;

    struct Case<'a> {
        replicas: i32,
        surge: i32,
        old_replicas: i32,
        old_surge: i32,
        new: Option<(&'a str, i32, u64)>,
        olds: &'a [(&'a str, i32, u64)],
        /// Per-ReplicaSet desired-replicas annotation overriding `old_replicas`.
        desired_annotation: &'a [(&'a str, i32)],
        want_new: Option<i32>,
        want_old: &'a [i32],
    }

    fn check(c: Case<'_>) {
        let mut fx = Fx::new(rolling(c.replicas, int(c.surge), int(0)));
        let old_d = rolling(c.old_replicas, int(c.old_surge), int(0));
        let make = |fx: &mut Fx, (name, size, created): (&str, i32, u64)| {
            let id = fx.rs(name, size, created);
            let desired = c
                .desired_annotation
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(c.old_replicas, |(_, d)| *d);
            let max = desired + dutil::max_surge(&old_d);
            fx.edit(id, |rs| {
                dutil::set_replicas_annotations(rs, desired, max);
            });
            id
        };
        let new = c.new.map(|n| make(&mut fx, n));
        let olds: Vec<ObjId> = c.olds.iter().map(|&o| make(&mut fx, o)).collect();
        fx.sim.proportional_scale(&fx.cx, new, &olds);
        assert_eq!(new.map(|n| fx.spec(n)), c.want_new.map(Some), "new size");
        let got: Vec<Option<i32>> = olds.iter().map(|&o| fx.spec(o)).collect();
        let want: Vec<Option<i32>> = c.want_old.iter().copied().map(Some).collect();
        assert_eq!(got, want, "old sizes");
    }

    #[test]
    fn normal_scaling_event_10_to_12() {
        check(Case {
            replicas: 12,
            surge: 0,
            old_replicas: 10,
            old_surge: 0,
            new: Some(("foo-v1", 10, NEW)),
            olds: &[],
            desired_annotation: &[],
            want_new: Some(12),
            want_old: &[],
        });
    }

    #[test]
    fn normal_scaling_event_10_to_5() {
        check(Case {
            replicas: 5,
            surge: 0,
            old_replicas: 10,
            old_surge: 0,
            new: Some(("foo-v1", 10, NEW)),
            olds: &[],
            desired_annotation: &[],
            want_new: Some(5),
            want_old: &[],
        });
    }

    #[test]
    fn proportional_5_to_10() {
        check(Case {
            replicas: 10,
            surge: 0,
            old_replicas: 5,
            old_surge: 0,
            new: Some(("foo-v2", 2, NEW)),
            olds: &[("foo-v1", 3, OLD)],
            desired_annotation: &[],
            want_new: Some(4),
            want_old: &[6],
        });
    }

    #[test]
    fn proportional_5_to_3() {
        check(Case {
            replicas: 3,
            surge: 0,
            old_replicas: 5,
            old_surge: 0,
            new: Some(("foo-v2", 2, NEW)),
            olds: &[("foo-v1", 3, OLD)],
            desired_annotation: &[],
            want_new: Some(1),
            want_old: &[2],
        });
    }

    #[test]
    fn proportional_9_to_4() {
        check(Case {
            replicas: 4,
            surge: 0,
            old_replicas: 9,
            old_surge: 0,
            new: Some(("foo-v2", 8, NEW)),
            olds: &[("foo-v1", 1, OLD)],
            desired_annotation: &[],
            want_new: Some(4),
            want_old: &[0],
        });
    }

    #[test]
    fn proportional_7_to_10() {
        check(Case {
            replicas: 10,
            surge: 0,
            old_replicas: 7,
            old_surge: 0,
            new: Some(("foo-v3", 2, NEW)),
            olds: &[("foo-v2", 3, OLD), ("foo-v1", 2, OLDER)],
            desired_annotation: &[],
            want_new: Some(3),
            want_old: &[4, 3],
        });
    }

    #[test]
    fn proportional_13_to_8() {
        check(Case {
            replicas: 8,
            surge: 0,
            old_replicas: 13,
            old_surge: 0,
            new: Some(("foo-v3", 2, NEW)),
            olds: &[("foo-v2", 8, OLD), ("foo-v1", 3, OLDER)],
            desired_annotation: &[],
            want_new: Some(1),
            want_old: &[5, 2],
        });
    }

    /// Scales up the new replica set.
    #[test]
    fn leftover_distribution_3_to_4() {
        check(Case {
            replicas: 4,
            surge: 0,
            old_replicas: 3,
            old_surge: 0,
            new: Some(("foo-v3", 1, NEW)),
            olds: &[("foo-v2", 1, OLD), ("foo-v1", 1, OLDER)],
            desired_annotation: &[],
            want_new: Some(2),
            want_old: &[1, 1],
        });
    }

    /// Scales down the older replica set.
    #[test]
    fn leftover_distribution_3_to_2() {
        check(Case {
            replicas: 2,
            surge: 0,
            old_replicas: 3,
            old_surge: 0,
            new: Some(("foo-v3", 1, NEW)),
            olds: &[("foo-v2", 1, OLD), ("foo-v1", 1, OLDER)],
            desired_annotation: &[],
            want_new: Some(1),
            want_old: &[1, 0],
        });
    }

    /// Scales up the latest replica set first.
    #[test]
    fn proportional_no_new_rs_4_to_5() {
        check(Case {
            replicas: 5,
            surge: 0,
            old_replicas: 4,
            old_surge: 0,
            new: None,
            olds: &[("foo-v2", 2, OLD), ("foo-v1", 2, OLDER)],
            desired_annotation: &[],
            want_new: None,
            want_old: &[3, 2],
        });
    }

    #[test]
    fn proportional_6_to_0() {
        check(Case {
            replicas: 0,
            surge: 0,
            old_replicas: 6,
            old_surge: 0,
            new: Some(("foo-v3", 3, NEW)),
            olds: &[("foo-v2", 2, OLD), ("foo-v1", 1, OLDER)],
            desired_annotation: &[],
            want_new: Some(0),
            want_old: &[0, 0],
        });
    }

    #[test]
    fn proportional_0_to_6() {
        check(Case {
            replicas: 6,
            surge: 0,
            old_replicas: 6,
            old_surge: 0,
            new: Some(("foo-v3", 0, NEW)),
            olds: &[("foo-v2", 0, OLD), ("foo-v1", 0, OLDER)],
            desired_annotation: &[],
            want_new: Some(6),
            want_old: &[0, 0],
        });
    }

    /// Go's "failed rs update": foo-v3 and foo-v1 fail to update there. Their computed
    /// sizes equal their current sizes (foo-v2's stale desired-replicas annotation of 3 makes
    /// it take the whole +1), so kubesim, which never fails a write, ends the same.
    #[test]
    fn failed_rs_update() {
        check(Case {
            replicas: 5,
            surge: 0,
            old_replicas: 5,
            old_surge: 0,
            new: Some(("foo-v3", 2, NEW)),
            olds: &[("foo-v2", 1, OLD), ("foo-v1", 1, OLDER)],
            desired_annotation: &[("foo-v2", 3)],
            want_new: Some(2),
            want_old: &[2, 1],
        });
    }

    #[test]
    fn deployment_with_surge_pods() {
        check(Case {
            replicas: 20,
            surge: 2,
            old_replicas: 10,
            old_surge: 2,
            new: Some(("foo-v2", 6, NEW)),
            olds: &[("foo-v1", 6, OLD)],
            desired_annotation: &[],
            want_new: Some(11),
            want_old: &[11],
        });
    }

    #[test]
    fn change_both_surge_and_size() {
        check(Case {
            replicas: 50,
            surge: 6,
            old_replicas: 10,
            old_surge: 3,
            new: Some(("foo-v2", 5, NEW)),
            olds: &[("foo-v1", 8, OLD)],
            desired_annotation: &[],
            want_new: Some(22),
            want_old: &[34],
        });
    }

    /// The template changed too, so there is no new ReplicaSet yet: the old ones are scaled
    /// proportionally and the new one appears on a later sync.
    #[test]
    fn change_both_size_and_template() {
        check(Case {
            replicas: 14,
            surge: 0,
            old_replicas: 10,
            old_surge: 0,
            new: None,
            olds: &[("foo-v2", 7, NEW), ("foo-v1", 3, OLD)],
            desired_annotation: &[],
            want_new: None,
            want_old: &[10, 4],
        });
    }

    /// The new ReplicaSet is at full size but none of its pods is available.
    #[test]
    fn saturated_but_broken_new_rs_does_not_affect_old_pods() {
        let mut fx = Fx::new(rolling(2, int(1), int(1)));
        let new = fx.rs("foo-v2", 2, NEW);
        let old = fx.rs("foo-v1", 1, OLD);
        for id in [new, old] {
            fx.edit(id, |rs| {
                dutil::set_replicas_annotations(rs, 2, 3);
            });
        }
        fx.sim.proportional_scale(&fx.cx, Some(new), &[old]);
        assert_eq!((fx.spec(new), fx.spec(old)), (Some(2), Some(1)));
    }
}

/// TestDeploymentController_cleanupDeployment: old ReplicaSets `(spec, status.replicas)`
/// named foo-1, foo-2, ...; `want` is how many get deleted.
mod cleanup_deployment {
    use super::*;

    fn check(olds: &[(i32, i32)], limit: i32, already_deleted: bool, want: usize) {
        let mut d = rolling(1, int(0), int(0));
        if let Some(s) = d.spec.as_mut() {
            s.revision_history_limit = Some(limit);
        }
        let mut fx = Fx::new(d);
        let ids: Vec<ObjId> = olds
            .iter()
            .enumerate()
            .map(|(i, &(spec, status))| {
                fx.rs_with_status(&format!("foo-{}", i + 1), spec, status, 0)
            })
            .collect();
        if already_deleted {
            let t = fx.time(0);
            fx.edit(ids[0], |rs| rs.metadata.deletion_timestamp = Some(t));
        }
        fx.sim.cleanup_deployment(&fx.cx, &ids);
        let deleted = ids.iter().filter(|&&id| fx.spec(id).is_none()).count();
        assert_eq!(deleted, want, "deletions");
    }

    #[test]
    fn limit_1_of_3_empty_deletes_2() {
        check(&[(0, 0), (0, 0), (0, 0)], 1, false, 2);
    }

    #[test]
    fn only_spec_and_status_0_is_deleted() {
        check(&[(0, 0), (0, 1), (1, 0), (1, 1)], 0, false, 1);
    }

    #[test]
    fn limit_0_deletes_both_empty() {
        check(&[(0, 0), (0, 0)], 0, false, 2);
    }

    #[test]
    fn limit_0_keeps_non_empty() {
        check(&[(1, 1), (1, 1)], 0, false, 0);
    }

    #[test]
    fn already_being_deleted_is_left_alone() {
        check(&[(0, 0)], 0, true, 0);
    }

    #[test]
    fn unlimited_history_deletes_nothing() {
        check(&[(0, 0), (0, 0), (0, 0)], i32::MAX, false, 0);
    }

    /// Not a Go row: the RS controller has not yet observed the scale-down
    /// (generation > observedGeneration), so the ReplicaSet is kept (sync.go cleanupDeployment).
    #[test]
    fn unobserved_scale_down_is_kept() {
        let mut d = rolling(1, int(0), int(0));
        if let Some(s) = d.spec.as_mut() {
            s.revision_history_limit = Some(0);
        }
        let mut fx = Fx::new(d);
        let id = fx.rs_with_status("foo-1", 0, 0, 0);
        fx.edit(id, |rs| rs.metadata.generation = Some(2));
        fx.sim.cleanup_deployment(&fx.cx, &[id]);
        assert_eq!(fx.spec(id), Some(0));
    }
}

/// TestDeploymentController_cleanupDeploymentOrder: creation order is always
/// foo-1 < foo-2 < foo-3 < foo-4 (one minute apart); ReplicaSets are `(size, revision)`.
mod cleanup_deployment_order {
    use super::*;

    fn check(olds: &[(i32, &str)], limit: i32, want_deleted: &[&str]) {
        let mut d = rolling(1, int(0), int(0));
        if let Some(s) = d.spec.as_mut() {
            s.revision_history_limit = Some(limit);
        }
        let mut fx = Fx::new(d);
        let ids: Vec<(String, ObjId)> = olds
            .iter()
            .enumerate()
            .map(|(i, &(size, revision))| {
                let name = format!("foo-{}", i + 1);
                let id = fx.rs(&name, size, 60 * i as u64);
                fx.edit(id, |rs| {
                    rs.status.get_or_insert_with(Default::default).replicas = size
                });
                if !revision.is_empty() {
                    fx.annotate(id, dutil::REVISION, revision);
                }
                (name, id)
            })
            .collect();
        let old: Vec<ObjId> = ids.iter().map(|(_, id)| *id).collect();
        fx.sim.cleanup_deployment(&fx.cx, &old);
        let deleted: Vec<&str> = ids
            .iter()
            .filter(|(_, id)| fx.spec(*id).is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(deleted, want_deleted);
    }

    #[test]
    fn revision_order_rs1_rs2_deletes_rs1() {
        check(&[(0, "1"), (0, "2")], 1, &["foo-1"]);
    }

    #[test]
    fn revision_order_rs2_rs1_deletes_rs2() {
        check(&[(0, "2"), (0, "1")], 1, &["foo-2"]);
    }

    #[test]
    fn rs2_without_revision_is_deleted() {
        check(&[(0, "1"), (0, "")], 1, &["foo-2"]);
    }

    #[test]
    fn rs1_without_revision_is_deleted() {
        check(&[(0, ""), (0, "2")], 1, &["foo-1"]);
    }

    #[test]
    fn rs1_has_replicas_so_only_rs2_is_deleted() {
        check(&[(1, "1"), (0, "2"), (0, "3")], 1, &["foo-2"]);
    }

    #[test]
    fn rs1_and_rs2_have_replicas_nothing_is_deleted() {
        check(&[(1, "1"), (1, "2"), (0, "3")], 1, &[]);
    }

    #[test]
    fn revision_order_rs2_rs4_rs1_rs3_deletes_rs2_and_rs4() {
        check(
            &[(0, "3"), (0, "1"), (0, "4"), (0, "2")],
            2,
            &["foo-2", "foo-4"],
        );
    }
}
