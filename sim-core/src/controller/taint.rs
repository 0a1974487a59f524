//! Taints and tolerations: the rules Kubernetes keeps in `k8s.io/api/core/v1`
//! (`toleration.go` `ToleratesTaint`, `pkg/apis/core/v1/helper` `FindMatchingUntoleratedTaint`,
//! `GetMatchingTolerations`), the taints the node lifecycle controller owns
//! (`node.kubernetes.io/unschedulable` while `spec.unschedulable`, `…/unreachable` NoSchedule and
//! NoExecute while the kubelet is silent), the `DefaultTolerationSeconds` admission plugin, and
//! the taint eviction controller (`pkg/controller/tainteviction`): a pod on a node with a
//! NoExecute taint it does not tolerate is deleted now, one that tolerates it for
//! `tolerationSeconds` when that time has passed.

use k8s_openapi::api::core::v1::{PodSpec, Taint, Toleration};

use crate::sim::{Sim, Timer};
use crate::store::{NewEvent, ObjId};
use crate::time::{SimDuration, SimTime};

/// `v1.TaintNodeUnschedulable`.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// `v1.TaintNodeUnreachable`.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// `v1.TaintNodeNotReady`.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// `--default-not-ready-toleration-seconds` and `--default-unreachable-toleration-seconds`.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// The taint keys the node lifecycle controller manages (`nodeConditionToTaintKeyStatusMap`,
/// the unschedulable and the NoExecute taints): it adds and removes them from the node's
/// state, so a user's edit of them does not last.
const CONTROLLER_KEYS: [&str; 7] = [
    TAINT_UNSCHEDULABLE,
    TAINT_UNREACHABLE,
    TAINT_NOT_READY,
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
];

/// Whether the node lifecycle controller owns this taint.
pub fn controller_owned(t: &Taint) -> bool {
    CONTROLLER_KEYS.contains(&t.key.as_str())
}

/// `Toleration.ToleratesTaint`: an empty effect matches every effect, an empty key with
/// `Exists` every key; `Equal` (or no operator) compares values.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    if t.key
        .as_deref()
        .is_some_and(|k| !k.is_empty() && k != taint.key)
    {
        return false;
    }
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// `FindMatchingUntoleratedTaint` over the NoSchedule and NoExecute taints (the TaintToleration
/// filter's `doNotScheduleTaintsFilterFunc`): the first taint no toleration tolerates.
pub fn untolerated_for_scheduling<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
}

/// The TaintToleration score's raw count: PreferNoSchedule taints the pod does not tolerate
/// (counting only its tolerations with an empty or PreferNoSchedule effect).
pub fn intolerable_prefer_no_schedule(taints: &[Taint], tolerations: &[Toleration]) -> i64 {
    let prefer: Vec<&Toleration> = tolerations
        .iter()
        .filter(|t| {
            matches!(
                t.effect.as_deref(),
                None | Some("") | Some("PreferNoSchedule")
            )
        })
        .collect();
    taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule")
        .filter(|t| !prefer.iter().any(|tol| tolerates(tol, t)))
        .count() as i64
}

/// The `DefaultTolerationSeconds` admission plugin: a pod that tolerates neither
/// `not-ready:NoExecute` nor `unreachable:NoExecute` (by key, or by an empty key or effect)
/// gets `Exists` tolerations of them for 300 s, not-ready first.
pub fn default_toleration_seconds(spec: &mut PodSpec) {
    let (not_ready, unreachable) = tolerates_defaults(spec.tolerations.as_deref().unwrap_or(&[]));
    if not_ready && unreachable {
        return;
    }
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    for (has, key) in [
        (not_ready, TAINT_NOT_READY),
        (unreachable, TAINT_UNREACHABLE),
    ] {
        if !has {
            list.push(Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
                value: None,
            });
        }
    }
}

fn tolerates_defaults(tolerations: &[Toleration]) -> (bool, bool) {
    let mut out = (false, false);
    for t in tolerations {
        let key = t.key.as_deref().unwrap_or("");
        let effect_ok = matches!(t.effect.as_deref(), None | Some("") | Some("NoExecute"));
        if effect_ok && (key.is_empty() || key == TAINT_NOT_READY) {
            out.0 = true;
        }
        if effect_ok && (key.is_empty() || key == TAINT_UNREACHABLE) {
            out.1 = true;
        }
    }
    out
}

/// A pod's tolerations as the API server stored them (its own plus the admission defaults).
pub fn admitted_tolerations(spec: Option<&PodSpec>) -> Vec<Toleration> {
    let mut s = PodSpec {
        tolerations: spec.and_then(|s| s.tolerations.clone()),
        ..Default::default()
    };
    default_toleration_seconds(&mut s);
    s.tolerations.unwrap_or_default()
}

/// When the taint eviction controller deletes a pod.
#[derive(Debug, PartialEq, Eq)]
enum Due {
    /// Every NoExecute taint is tolerated forever (or there is none).
    Never,
    /// A NoExecute taint is not tolerated.
    Now,
    /// After the shortest `tolerationSeconds` among the tolerations used (0 for a
    /// non-positive one).
    After(u64),
}

/// `GetMatchingTolerations` (the first toleration of each NoExecute taint) and
/// `getMinTolerationTime`.
fn min_toleration(taints: &[Taint], tolerations: &[Toleration]) -> Due {
    let mut used = Vec::new();
    for taint in taints.iter().filter(|t| t.effect == "NoExecute") {
        match tolerations.iter().find(|tol| tolerates(tol, taint)) {
            Some(tol) => used.push(tol),
            None => return Due::Now,
        }
    }
    let mut min: Option<u64> = None;
    for t in used {
        if let Some(s) = t.toleration_seconds {
            if s <= 0 {
                return Due::After(0);
            }
            let s = s as u64;
            min = Some(min.map_or(s, |m| m.min(s)));
        }
    }
    min.map_or(Due::Never, Due::After)
}

impl Sim {
    /// The node lifecycle controller's taints for the node's state (`doNoScheduleTaintingPass`,
    /// `doNoExecuteTaintingPass`): each kept with its `timeAdded` while it stays, added with
    /// the current time when it appears, removed when its cause is gone; the user's taints are
    /// kept in their order. Returns whether the taints changed.
    pub(crate) fn sync_controller_taints(&mut self, id: ObjId) -> bool {
        let now = self.store.time(self.store.now);
        let Some(n) = self.store.nodes.get_mut(id) else {
            return false;
        };
        let spec = n.node.spec.get_or_insert_with(Default::default);
        let mut wanted: Vec<(&str, &str)> = Vec::new();
        if spec.unschedulable == Some(true) {
            wanted.push((TAINT_UNSCHEDULABLE, "NoSchedule"));
        }
        if !n.ready {
            wanted.push((TAINT_UNREACHABLE, "NoSchedule"));
        }
        if n.no_execute {
            wanted.push((TAINT_UNREACHABLE, "NoExecute"));
        }
        let old = spec.taints.clone().unwrap_or_default();
        let mut taints: Vec<Taint> = old
            .iter()
            .filter(|t| {
                !controller_owned(t) || wanted.iter().any(|(k, e)| t.key == *k && t.effect == *e)
            })
            .cloned()
            .collect();
        for (k, e) in wanted {
            if !taints.iter().any(|t| t.key == k && t.effect == e) {
                taints.push(Taint {
                    key: k.into(),
                    effect: e.into(),
                    time_added: Some(now.clone()),
                    value: None,
                });
            }
        }
        if taints == old {
            return false;
        }
        spec.taints = (!taints.is_empty()).then_some(taints);
        true
    }

    /// The taint eviction controller's `processPodOnNode` for every pod on the node.
    pub(crate) fn taint_eviction_node(&mut self, node: ObjId) {
        let pods: Vec<ObjId> = self
            .store
            .nodes
            .get(node)
            .map(|n| n.pods.iter().copied().collect())
            .unwrap_or_default();
        for p in pods {
            self.taint_eviction_pod(p);
        }
    }

    /// `processPodOnNode`: no NoExecute taint cancels a scheduled eviction; an untolerated one
    /// deletes the pod now; else the eviction is due after the shortest toleration, counted
    /// from when it was first scheduled.
    pub(crate) fn taint_eviction_pod(&mut self, pod: ObjId) {
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        if p.deletion.is_some() {
            self.taint_evictions.remove(&pod);
            return;
        }
        let Some(n) = p.node.and_then(|n| self.store.nodes.get(n)) else {
            return;
        };
        let taints = n
            .node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or(&[]);
        let due = if taints.iter().any(|t| t.effect == "NoExecute") {
            min_toleration(taints, &admitted_tolerations(p.template.spec.as_ref()))
        } else {
            Due::Never
        };
        let now = self.store.now;
        match due {
            Due::Never => self.cancel_taint_eviction(pod),
            Due::Now => {
                // Not tolerated: deleted now, as the controller's queue does within
                // milliseconds, before the write that tainted the node answers.
                self.taint_evictions.insert(pod, (now, now));
                self.taint_evict(pod);
            }
            Due::After(secs) => {
                // A scheduled eviction keeps its start and its time (`if
                // startTime.Add(minTolerationTime).Before(triggerTime) { return }`), unless it
                // was scheduled at this same instant.
                if self
                    .taint_evictions
                    .get(&pod)
                    .is_some_and(|&(created, _)| created < now)
                {
                    return;
                }
                let at = now + SimDuration::from_secs(secs);
                self.taint_evictions.insert(pod, (now, at));
                self.at(at, Timer::TaintEvict { pod });
            }
        }
    }

    fn cancel_taint_eviction(&mut self, pod: ObjId) {
        if self.taint_evictions.remove(&pod).is_none() {
            return;
        }
        if let Some(r) = self.pod_ref(pod) {
            let msg = format!("Cancelling deletion of Pod {}/{}", r.namespace, r.name);
            self.store.event(NewEvent {
                object: r,
                warning: false,
                reason: "TaintManagerEviction",
                message: msg,
                source: "taint-eviction-controller",
                host: None,
            });
        }
    }

    /// A scheduled eviction is due: if it is still the one scheduled for now, delete the pod
    /// (`addConditionAndDeletePod`: the DisruptionTarget condition first).
    pub(crate) fn taint_evict(&mut self, pod: ObjId) {
        let now: SimTime = self.store.now;
        match self.taint_evictions.get(&pod) {
            Some(&(_, at)) if at == now => {}
            _ => return,
        }
        self.taint_evictions.remove(&pod);
        // A pod deleted meanwhile (scaled down, drained) cancels the work without an event.
        if self
            .store
            .pods
            .get(pod)
            .is_none_or(|p| p.deletion.is_some())
        {
            return;
        }
        if let Some(p) = self.store.pods.get_mut(pod)
            && p.disruption.is_none()
        {
            p.disruption = Some((
                now,
                "DeletionByTaintManager",
                "Taint manager: deleting due to NoExecute taint",
            ));
            self.write_pod(pod);
        }
        if let Some(r) = self.pod_ref(pod) {
            let msg = format!("Marking for deletion Pod {}/{}", r.namespace, r.name);
            self.store.event(NewEvent {
                object: r,
                warning: false,
                reason: "TaintManagerEviction",
                message: msg,
                source: "taint-eviction-controller",
                host: None,
            });
        }
        self.delete_pod(pod, None);
    }
}

#[cfg(test)]
mod tests {
    //! Cases of `TestTolerationToleratesTaint`, `TestGetMinTolerationTime` and the
    //! `DefaultTolerationSeconds` admission tests.

    use super::*;

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: (!value.is_empty()).then(|| value.into()),
            effect: effect.into(),
            time_added: None,
        }
    }

    fn tol(key: &str, op: &str, value: &str, effect: &str, secs: Option<i64>) -> Toleration {
        let s = |v: &str| (!v.is_empty()).then(|| v.to_string());
        Toleration {
            key: s(key),
            operator: s(op),
            value: s(value),
            effect: s(effect),
            toleration_seconds: secs,
        }
    }

    #[test]
    fn tolerates_taint_table() {
        let t = taint("foo", "bar", "NoSchedule");
        let cases = [
            (tol("foo", "Equal", "bar", "NoSchedule", None), true),
            (tol("foo", "", "bar", "NoSchedule", None), true),
            (tol("foo", "Equal", "baz", "NoSchedule", None), false),
            (tol("foo", "Exists", "", "NoSchedule", None), true),
            (tol("foo", "Exists", "", "", None), true),
            (tol("foo", "Exists", "", "NoExecute", None), false),
            (tol("", "Exists", "", "", None), true),
            (tol("other", "Exists", "", "", None), false),
            (tol("foo", "Lt", "1", "", None), false),
        ];
        for (tol, want) in cases {
            assert_eq!(tolerates(&tol, &t), want, "{tol:?}");
        }
    }

    #[test]
    fn first_untolerated_no_schedule_or_no_execute_taint() {
        let taints = [
            taint("soft", "", "PreferNoSchedule"),
            taint("a", "1", "NoSchedule"),
            taint("b", "", "NoExecute"),
        ];
        assert_eq!(
            untolerated_for_scheduling(&taints, &[]).map(|t| t.key.as_str()),
            Some("a")
        );
        let a = [tol("a", "Equal", "1", "NoSchedule", None)];
        assert_eq!(
            untolerated_for_scheduling(&taints, &a).map(|t| t.key.as_str()),
            Some("b")
        );
        let all = [tol("", "Exists", "", "", None)];
        assert_eq!(untolerated_for_scheduling(&taints, &all), None);
        assert_eq!(intolerable_prefer_no_schedule(&taints, &a), 1);
        assert_eq!(intolerable_prefer_no_schedule(&taints, &all), 0);
    }

    #[test]
    fn min_toleration_time() {
        let ne = [taint("x", "", "NoExecute")];
        assert_eq!(
            min_toleration(&[], &[]),
            Due::Never,
            "no taint, nothing to do"
        );
        assert_eq!(min_toleration(&ne, &[]), Due::Now, "untolerated: now");
        let forever = [tol("x", "Exists", "", "", None)];
        assert_eq!(min_toleration(&ne, &forever), Due::Never, "forever");
        let two = [
            tol("x", "Exists", "", "NoExecute", Some(30)),
            tol("", "Exists", "", "", Some(5)),
        ];
        assert_eq!(
            min_toleration(&ne, &two),
            Due::After(30),
            "the first match per taint"
        );
        let negative = [tol("x", "Exists", "", "", Some(-3))];
        assert_eq!(min_toleration(&ne, &negative), Due::After(0));
        let ns = [taint("x", "", "NoSchedule")];
        assert_eq!(
            min_toleration(&ns, &[]),
            Due::Never,
            "NoSchedule never evicts"
        );
    }

    #[test]
    fn default_tolerations_are_added_unless_tolerated() {
        let mut s = PodSpec::default();
        default_toleration_seconds(&mut s);
        let got: Vec<_> = s
            .tolerations
            .iter()
            .flatten()
            .map(|t| (t.key.clone().unwrap_or_default(), t.toleration_seconds))
            .collect();
        assert_eq!(
            got,
            [
                (TAINT_NOT_READY.to_string(), Some(300)),
                (TAINT_UNREACHABLE.to_string(), Some(300))
            ]
        );
        // Idempotent.
        default_toleration_seconds(&mut s);
        assert_eq!(s.tolerations.as_ref().map(Vec::len), Some(2));

        let mut own = PodSpec {
            tolerations: Some(vec![tol(
                TAINT_UNREACHABLE,
                "Exists",
                "",
                "NoExecute",
                Some(10),
            )]),
            ..Default::default()
        };
        default_toleration_seconds(&mut own);
        let keys: Vec<_> = own
            .tolerations
            .iter()
            .flatten()
            .map(|t| t.key.clone())
            .collect();
        assert_eq!(
            keys,
            [Some(TAINT_UNREACHABLE.into()), Some(TAINT_NOT_READY.into())]
        );

        let mut everything = PodSpec {
            tolerations: Some(vec![tol("", "Exists", "", "", None)]),
            ..Default::default()
        };
        default_toleration_seconds(&mut everything);
        assert_eq!(everything.tolerations.as_ref().map(Vec::len), Some(1));
    }
}
