//! The resource quota controller (`pkg/controller/resourcequota`): each quota's
//! `status.hard` (its spec) and `status.used` (`CalculateUsage` over the namespace's objects,
//! with the evaluators of `api::quota`). It runs when the quota is created or changed and
//! whenever an object in a namespace with a quota changes: `Store::touch` marks the
//! namespace in `Store::quota_dirty`, and once the work queue is empty `Sim::settle` queues
//! `Work::ResourceQuota` for each of its quotas, as the controller's informers do.

use k8s_openapi::api::core::v1::ResourceQuotaStatus;

use crate::api::quantity::Quantity;
use crate::api::quota::{self, Evaluated, ResourceList};
use crate::api::resource::RESOURCES;
use crate::controller::Work;
use crate::sim::Sim;
use crate::store::pod::Phase;
use crate::store::{Kind, ObjId};
use crate::time::SimDuration;

impl Sim {
    /// Queues every quota of the namespaces marked since the last pass.
    pub(crate) fn queue_dirty_quotas(&mut self) {
        let dirty = std::mem::take(&mut self.store.quota_dirty);
        for ns in dirty {
            for id in self.store.quotas.ids_in(&ns) {
                self.work.add(Work::ResourceQuota(id));
            }
        }
    }

    /// `syncResourceQuota`.
    pub(crate) fn sync_quota(&mut self, id: ObjId) {
        let Some((_, q)) = self.store.quotas.get(id) else {
            return;
        };
        let ns = q.metadata.namespace.clone().unwrap_or_default();
        let hard = quota::parse_list(q.spec.as_ref().and_then(|s| s.hard.as_ref()));
        let names: Vec<&str> = hard.keys().map(String::as_str).collect();
        let scopes = q
            .spec
            .as_ref()
            .and_then(|s| s.scopes.clone())
            .unwrap_or_default();
        let used = self.usage_in(&ns, &names, &scopes);
        let status = ResourceQuotaStatus {
            hard: Some(quota::to_api(&hard)),
            used: Some(quota::to_api(&used)),
        };
        self.write_quota_status(id, status);
    }

    /// `CalculateUsage`: every tracked resource of `names` starts at 0, and each object of
    /// the namespace in the quota's `scopes` adds what its evaluator says it uses.
    fn usage_in(&self, ns: &str, names: &[&str], scopes: &[String]) -> ResourceList {
        let mut used: ResourceList = names
            .iter()
            .map(|n| ((*n).to_string(), Quantity::from_int(0)))
            .collect();
        let mut add = |ev: &Evaluated<'_>| {
            let matched = ev.matching(names);
            if !matched.is_empty() && ev.in_scopes(scopes) {
                used = quota::add(&used, &quota::mask(&ev.usage(), &matched));
            }
        };
        let now = self.store.now;
        if !Evaluated::Pod(empty_spec(), true)
            .matching(names)
            .is_empty()
        {
            for (_, pid) in self.store.pods.names_in(ns) {
                let Some(p) = self.store.pods.get(pid) else {
                    continue;
                };
                // `QuotaV1Pod`: terminal pods, and pods past twice their grace period while
                // deleted (deletionTimestamp + grace), no longer count.
                let terminal = matches!(p.phase, Phase::Succeeded | Phase::Failed);
                let gone = p.deletion.is_some_and(|d| {
                    let grace = SimDuration::from_secs(u64::try_from(d.grace_seconds).unwrap_or(0));
                    now > d.deadline + grace
                });
                let spec = p.template.spec.as_ref().unwrap_or(empty_spec());
                // The pod as stored by the API server: requests defaulted from limits.
                if crate::api::defaults::lacks_requests_from_limits(spec) {
                    let mut defaulted = spec.clone();
                    crate::api::defaults::requests_from_limits(&mut defaulted);
                    add(&Evaluated::Pod(&defaulted, !terminal && !gone));
                } else {
                    add(&Evaluated::Pod(spec, !terminal && !gone));
                }
            }
        }
        for (_, sid) in self.store.services.names_in(ns) {
            if let Some((_, s)) = self.store.services.get(sid) {
                add(&Evaluated::Service(s));
            }
        }
        for r in RESOURCES.iter().filter(|r| r.namespaced) {
            if matches!(r.kind, Kind::Pod | Kind::Service) {
                continue;
            }
            let ev = Evaluated::Object(r.qualified_name());
            if ev.matching(names).is_empty() {
                continue;
            }
            for _ in 0..self.count_in(r.kind, ns) {
                add(&ev);
            }
        }
        used
    }

    /// How many objects of `kind` the namespace holds.
    fn count_in(&self, kind: Kind, ns: &str) -> usize {
        let s = &self.store;
        match kind {
            Kind::Pod => s.pods.names_in(ns).count(),
            Kind::ReplicaSet => s.replicasets.names_in(ns).count(),
            Kind::Deployment => s.deployments.names_in(ns).count(),
            Kind::Service => s.services.names_in(ns).count(),
            Kind::Endpoints => s.endpoints.names_in(ns).count(),
            Kind::Ingress => s.ingresses.names_in(ns).count(),
            Kind::HorizontalPodAutoscaler => s.hpas.names_in(ns).count(),
            Kind::ConfigMap => s.configmaps.names_in(ns).count(),
            Kind::Secret => s.secrets.names_in(ns).count(),
            Kind::EndpointSlice => s.endpoint_slices.names_in(ns).count(),
            Kind::PodDisruptionBudget => s.pdbs.names_in(ns).count(),
            Kind::ResourceQuota => s.quotas.names_in(ns).count(),
            Kind::LimitRange => s.limit_ranges.names_in(ns).count(),
            Kind::Job => s.jobs.names_in(ns).count(),
            Kind::CronJob => s.cronjobs.names_in(ns).count(),
            // Node leases are the kubelets', derived from the nodes: never created by a user.
            Kind::Lease => 0,
            // Events are not counted here; the rest are cluster-scoped.
            Kind::Event | Kind::Namespace | Kind::Node | Kind::IngressClass => 0,
        }
    }
}

/// An empty pod spec, to ask the pod evaluator which resources it tracks.
fn empty_spec() -> &'static k8s_openapi::api::core::v1::PodSpec {
    static EMPTY: std::sync::OnceLock<k8s_openapi::api::core::v1::PodSpec> =
        std::sync::OnceLock::new();
    EMPTY.get_or_init(Default::default)
}
