//! The ingress controller's status side, as ingress-nginx runs it in minikube and kind: every
//! Ingress of a class whose controller is `k8s.io/ingress-nginx` (or with no class at all, as
//! with `--watch-ingress-without-class`) gets the controller's address in
//! `status.loadBalancer.ingress` (what `kubectl get ingress` shows as ADDRESS) and a `Sync`
//! event. The routing itself is [`crate::ingress`].

use std::sync::Arc;

use k8s_openapi::api::networking::v1::{
    Ingress, IngressLoadBalancerIngress, IngressLoadBalancerStatus, IngressStatus,
};

use crate::apiserver::networking::CONTROLLER;
use crate::sim::Sim;
use crate::store::{ChangeType, Kind, NewEvent, ObjId, ObjRef};

/// The address the controller publishes: where `kubesim serve`'s ingress listener answers
/// by default (`--ingress-addr 127.0.0.1:8081`). It is a constant, not the listener's
/// address, so a run's objects never depend on how it was served.
pub const INGRESS_ADDRESS: &str = "127.0.0.1";

/// The component ingress-nginx's events name.
const COMPONENT: &str = "nginx-ingress-controller";

impl Sim {
    /// Whether kubesim's ingress controller serves `ing`: its class (`spec.ingressClassName`,
    /// else the `kubernetes.io/ingress.class` annotation) is an IngressClass whose controller
    /// is ingress-nginx's, or it names no class.
    pub fn ingress_is_ours(&self, ing: &Ingress) -> bool {
        let class = ing
            .spec
            .as_ref()
            .and_then(|s| s.ingress_class_name.clone())
            .or_else(|| {
                ing.metadata
                    .annotations
                    .as_ref()?
                    .get("kubernetes.io/ingress.class")
                    .cloned()
            });
        let Some(class) = class else {
            return true;
        };
        self.store
            .ingress_classes
            .lookup("", &class)
            .and_then(|id| self.store.ingress_classes.get(id))
            .and_then(|(_, c)| c.spec.as_ref()?.controller.as_deref())
            == Some(CONTROLLER)
    }

    /// One Ingress's sync: publish the address when it is ours and not published yet.
    pub(crate) fn sync_ingress(&mut self, id: ObjId) {
        let Some((_, ing)) = self.store.ingresses.get(id) else {
            return;
        };
        if !self.ingress_is_ours(ing) {
            return;
        }
        let status = IngressStatus {
            load_balancer: Some(IngressLoadBalancerStatus {
                ingress: Some(vec![IngressLoadBalancerIngress {
                    ip: Some(INGRESS_ADDRESS.into()),
                    ..Default::default()
                }]),
            }),
        };
        if ing.status.as_ref() == Some(&status) {
            return;
        }
        let ns: Arc<str> = ing.metadata.namespace.as_deref().unwrap_or("").into();
        let name: Arc<str> = ing.metadata.name.as_deref().unwrap_or("").into();
        let rv = self
            .store
            .touch(Kind::Ingress, id, &ns, &name, ChangeType::Modified);
        if let Some((_, ing)) = self.store.ingresses.get_mut(id) {
            ing.status = Some(status);
            ing.metadata.resource_version = Some(rv.to_string());
        }
        self.store.event(NewEvent {
            object: ObjRef {
                kind: Kind::Ingress,
                id,
                name,
                namespace: ns,
            },
            warning: false,
            reason: "Sync",
            message: "Scheduled for sync".into(),
            source: COMPONENT,
            host: None,
        });
    }
}
