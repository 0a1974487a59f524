//! The `LimitRanger` and `ResourceQuota` admission plugins at the API server: the namespace's
//! LimitRanges and quotas read from the store, the pure rules of `api::limitranger` and
//! `api::quota` applied, and a create that fits charged to its quotas' `status.used` at once
//! (as the plugin does), so a burst of creates between two controller passes cannot overrun
//! a quota. Every pod create goes through here: the API's (`Sim::create`) and the ones the
//! ReplicaSet controller makes from its template (`create_pod_for_rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{LimitRange, PodSpec, PodTemplateSpec, ResourceQuotaStatus};

use crate::api::Object;
use crate::api::limitranger;
use crate::api::quota::{self, Evaluated, QuotaView, ResourceList};
use crate::sim::Sim;
use crate::store::ObjId;

/// The quotas a create will charge, with their new `used`.
pub(crate) type Charges = Vec<(ObjId, ResourceList)>;

/// The quota evaluator of an object.
pub(crate) fn evaluated(obj: &Object) -> Evaluated<'_> {
    match obj {
        Object::Pod(p) => {
            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
            let counts = !matches!(phase, Some("Succeeded" | "Failed"));
            Evaluated::Pod(p.spec.as_ref().unwrap_or(empty_spec()), counts)
        }
        Object::Service(s) => Evaluated::Service(s),
        other => Evaluated::Object(other.resource()),
    }
}

fn empty_spec() -> &'static PodSpec {
    static EMPTY: std::sync::OnceLock<PodSpec> = std::sync::OnceLock::new();
    EMPTY.get_or_init(PodSpec::default)
}

impl Sim {
    fn limit_ranges_in(&self, ns: &str) -> Vec<&LimitRange> {
        self.store
            .limit_ranges
            .names_in(ns)
            .filter_map(|(_, id)| self.store.limit_ranges.get(id).map(|(_, l)| l))
            .collect()
    }

    /// LimitRanger's `Admit` then `Validate` for a pod being created in `ns`: defaults filled
    /// into `spec` (and the annotation), then the min/max/ratio checks. The error is the text
    /// after `pods "x" is forbidden: `.
    pub(crate) fn limit_pod(
        &self,
        ns: &str,
        spec: &mut PodSpec,
        annotations: &mut Option<BTreeMap<String, String>>,
    ) -> Result<(), String> {
        let ranges = self.limit_ranges_in(ns);
        if ranges.is_empty() {
            return Ok(());
        }
        limitranger::mutate_pod(&ranges, spec, annotations);
        limitranger::validate_pod(&ranges, spec)
    }

    /// ResourceQuota's `Validate` for a create in `ns`: what it would charge, or the
    /// refusal's text (`exceeded quota: q, requested: …`).
    pub(crate) fn quota_check(&self, ns: &str, obj: &Evaluated<'_>) -> Result<Charges, String> {
        let ids: Vec<ObjId> = self.store.quotas.names_in(ns).map(|(_, id)| id).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let views: Vec<QuotaView> = ids
            .iter()
            .filter_map(|id| self.store.quotas.get(*id))
            .map(|(_, q)| {
                let status = q.status.as_ref();
                QuotaView {
                    name: q.metadata.name.clone().unwrap_or_default(),
                    hard: quota::parse_list(status.and_then(|s| s.hard.as_ref())),
                    used: quota::parse_list(status.and_then(|s| s.used.as_ref())),
                    scopes: q
                        .spec
                        .as_ref()
                        .and_then(|s| s.scopes.clone())
                        .unwrap_or_default(),
                }
            })
            .collect();
        let charged = quota::check_request(&views, obj)?;
        Ok(charged
            .into_iter()
            .filter_map(|(i, used)| Some((*ids.get(i)?, used)))
            .collect())
    }

    /// Writes what a create that was let in used to its quotas.
    pub(crate) fn charge_quotas(&mut self, charges: Charges) {
        for (id, used) in charges {
            let Some((_, q)) = self.store.quotas.get(id) else {
                continue;
            };
            let status = ResourceQuotaStatus {
                hard: q.status.as_ref().and_then(|s| s.hard.clone()),
                used: Some(quota::to_api(&used)),
            };
            self.write_quota_status(id, status);
        }
    }

    /// The mutating half for an API create (LimitRanger's defaults and checks on a pod); the
    /// refusal is the API server's 403.
    pub(crate) fn admit_limits(&self, obj: &mut Object) -> Result<(), crate::ApiError> {
        let Object::Pod(p) = obj else {
            return Ok(());
        };
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let name = p.metadata.name.clone().unwrap_or_default();
        let spec = p.spec.get_or_insert_with(PodSpec::default);
        self.limit_pod(&ns, spec, &mut p.metadata.annotations)
            .map_err(|e| forbidden("pods", &name, &e))
    }

    /// The quota half for an API create: what to charge once stored, or the 403.
    pub(crate) fn admit_quota(&self, obj: &Object) -> Result<Charges, crate::ApiError> {
        let Some(ns) = obj.namespace().filter(|_| obj.is_namespaced()) else {
            return Ok(Vec::new());
        };
        self.quota_check(ns, &evaluated(obj))
            .map_err(|e| forbidden(obj.resource(), obj.name(), &e))
    }

    /// Admission for a pod a controller creates from `template` in `ns` (named `name`, the
    /// generateName prefix): the sandbox's pod limit, then LimitRanger (a template it
    /// changes becomes the pod's own copy) and the quotas. The refusal is the API server's
    /// message, which the controller puts in its `FailedCreate` event.
    pub(crate) fn admit_template_pod(
        &self,
        ns: &str,
        name: &str,
        template: &Arc<PodTemplateSpec>,
    ) -> Result<(Arc<PodTemplateSpec>, Charges), String> {
        self.pod_quota(name)?;
        let ranges = self.store.limit_ranges.names_in(ns).next().is_some();
        let mut ranges_changed = false;
        let quotas = self.store.quotas.names_in(ns).next().is_some();
        if !ranges && !quotas {
            return Ok((template.clone(), Vec::new()));
        }
        // The pod as the API server admits it: decoded and defaulted (requests from limits).
        let mut own = (**template).clone();
        let PodTemplateSpec { metadata, spec } = &mut own;
        let spec = spec.get_or_insert_with(PodSpec::default);
        crate::api::defaults::requests_from_limits(spec);
        if ranges {
            let before = spec.clone();
            let meta = metadata.get_or_insert_with(Default::default);
            self.limit_pod(ns, spec, &mut meta.annotations)
                .map_err(|e| format!("pods {name:?} is forbidden: {e}"))?;
            ranges_changed = *spec != before;
        }
        let charges = self
            .quota_check(ns, &Evaluated::Pod(spec, true))
            .map_err(|e| format!("pods {name:?} is forbidden: {e}"))?;
        // A pod LimitRanger changed gets its own template; the others keep sharing theirs.
        let template = if ranges_changed {
            Arc::new(own)
        } else {
            template.clone()
        };
        Ok((template, charges))
    }
}

/// `admission.NewForbidden`: `pods "x" is forbidden: <why>`.
fn forbidden(resource: &str, name: &str, why: &str) -> crate::ApiError {
    crate::ApiError::Forbidden(format!("{resource} {name:?} is forbidden: {why}"))
}
