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

#[cfg(test)]
mod tests {
    use crate::api::Object;
    use crate::api::decode::parse_manifests;
    use crate::kubectl::{NoFiles, run};
    use crate::store::Kind;
    use crate::{Sim, SimConfig};

    fn create(sim: &mut Sim, yaml: &str) {
        for d in parse_manifests(yaml).expect("decodes") {
            sim.create(d.object).expect("created");
        }
    }

    fn ingress(sim: &Sim, name: &str) -> serde_json::Value {
        sim.get_object(Kind::Ingress, "default", name)
            .expect("stored")
            .to_value()
    }

    const ING: &str = "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: NAME, namespace: default}
spec:
  CLASS
  rules: [{host: a.local, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
";

    #[test]
    fn ours_get_the_default_class_and_an_address_others_do_not() {
        let mut sim = Sim::new(SimConfig::default());
        assert_eq!(sim.default_ingress_class().as_deref(), Some("nginx"));
        create(&mut sim, &ING.replace("NAME", "plain").replace("CLASS", ""));
        let v = ingress(&sim, "plain");
        assert_eq!(v["spec"]["ingressClassName"], "nginx");
        assert_eq!(v["status"]["loadBalancer"]["ingress"][0]["ip"], "127.0.0.1");
        assert_eq!(v["metadata"]["generation"], 1);
        // Another controller's class: left alone.
        create(
            &mut sim,
            "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: traefik}\nspec: {controller: traefik.io/ingress-controller}\n",
        );
        create(
            &mut sim,
            &ING.replace("NAME", "theirs")
                .replace("CLASS", "ingressClassName: traefik"),
        );
        let v = ingress(&sim, "theirs");
        assert_eq!(v["spec"]["ingressClassName"], "traefik");
        assert!(v["status"].is_null(), "{v}");
        assert_eq!(sim.served_ingresses().len(), 1);
        // Without a default class, a new Ingress keeps no class (and is still served).
        let o = run(&mut sim, "delete ingressclass nginx", &NoFiles);
        assert_eq!(
            o.stdout, "ingressclass.networking.k8s.io \"nginx\" deleted\n",
            "{}",
            o.stderr
        );
        create(
            &mut sim,
            &ING.replace("NAME", "classless").replace("CLASS", ""),
        );
        let v = ingress(&sim, "classless");
        assert!(v["spec"]["ingressClassName"].is_null(), "{v}");
        assert_eq!(v["status"]["loadBalancer"]["ingress"][0]["ip"], "127.0.0.1");
        // The console prints what kubectl prints.
        let o = run(&mut sim, "get ing", &NoFiles);
        assert!(
            o.stdout.starts_with("NAME        CLASS     HOSTS     ADDRESS     PORTS   AGE\nclassless   <none>    a.local   127.0.0.1   80      "),
            "{}",
            o.stdout
        );
        // A namespace's deletion takes its Ingresses.
        create(
            &mut sim,
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: gone}\n",
        );
        create(
            &mut sim,
            &ING.replace("NAME", "x")
                .replace("namespace: default", "namespace: gone")
                .replace("CLASS", ""),
        );
        let o = run(&mut sim, "delete namespace gone", &NoFiles);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(sim.store.ingresses.lookup("gone", "x").is_none());
        assert!(matches!(
            sim.get_object(Kind::IngressClass, "", "traefik"),
            Some(Object::IngressClass(_))
        ));
    }
}
