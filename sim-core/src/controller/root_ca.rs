//! The root CA certificate publisher (`pkg/controller/certificates/rootcacertpublisher`):
//! every namespace holds a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster's CA
//! bundle, which the pods' token volumes project (`api/admission.rs`). It is created with the
//! namespace, recreated when deleted and put back when edited, as the controller's `syncNamespace`
//! does on every change it watches. kubesim has no real CA: the certificate is a fixed,
//! well-formed PEM block whose body says it is fake.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::Object;
use crate::api::admission::ROOT_CA_CONFIGMAP;
use crate::sim::Sim;

/// `DescriptionAnnotation`.
const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
/// `Description`.
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// The cluster's CA certificate: PEM-shaped, and its base64 decodes to a sentence saying it
/// is not a certificate.
pub const ROOT_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
a3ViZXNpbTogYSBzaW11bGF0ZWQgY2x1c3RlciBoYXMgbm8gcmVhbCBjZXJ0aWZp
Y2F0ZSBhdXRob3JpdHkuIFRoaXMgaXMgbm90IGEgY2VydGlmaWNhdGU7IGl0IG9u
bHkgbG9va3MgbGlrZSBvbmUgc28gdGhhdCBjbGllbnRzIHNlZSBhIHdlbGwtZm9y
bWVkIFBFTSBibG9jayBpbiBrdWJlLXJvb3QtY2EuY3J0Lg==
-----END CERTIFICATE-----
";

impl Sim {
    /// `syncNamespace`: the namespace's `kube-root-ca.crt` created, or its data and
    /// description put back; nothing for a namespace that is gone or terminating.
    pub(crate) fn sync_root_ca(&mut self, namespace: &str) {
        let active = self
            .store
            .namespaces
            .lookup("", namespace)
            .and_then(|id| self.store.namespaces.get(id))
            .is_some_and(|n| n.metadata.deletion_timestamp.is_none());
        if !active {
            return;
        }
        let data = BTreeMap::from([("ca.crt".to_string(), ROOT_CA_PEM.to_string())]);
        let live = self
            .store
            .configmaps
            .lookup(namespace, ROOT_CA_CONFIGMAP)
            .and_then(|id| self.store.configmaps.get(id))
            .map(|(_, cm)| cm.clone());
        match live {
            None => {
                let now = self.store.time(self.store.now);
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(ROOT_CA_CONFIGMAP.into()),
                        namespace: Some(namespace.into()),
                        creation_timestamp: Some(now),
                        annotations: Some(BTreeMap::from([(
                            DESCRIPTION_ANNOTATION.to_string(),
                            DESCRIPTION.to_string(),
                        )])),
                        ..Default::default()
                    },
                    data: Some(data),
                    ..Default::default()
                };
                self.create_config_object(Object::ConfigMap(cm));
            }
            Some(mut cm) => {
                let described = cm
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
                    .is_some_and(|d| !d.is_empty());
                if cm.data.as_ref() == Some(&data) && described {
                    return;
                }
                cm.data = Some(data);
                cm.binary_data = None;
                cm.metadata
                    .annotations
                    .get_or_insert_default()
                    .insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
                self.update_config_object(Object::ConfigMap(cm));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{NoFiles, run};
    use crate::sim::{Sim, SimConfig};

    fn sh(sim: &mut Sim, cmd: &str) -> String {
        let o = run(sim, cmd, &NoFiles);
        assert_eq!(o.code, 0, "{cmd}: {}", o.stderr);
        o.stdout
    }

    /// `kubectl get ... -o json` read at `pointer`.
    fn field(sim: &mut Sim, cmd: &str, pointer: &str) -> String {
        let v: serde_json::Value =
            serde_json::from_str(&sh(sim, &format!("{cmd} -o json"))).expect("json");
        match v.pointer(pointer) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }

    #[test]
    fn every_namespace_has_the_ca_config_map_which_comes_back() {
        let mut sim = Sim::new(SimConfig::default());
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            assert_eq!(
                sh(
                    &mut sim,
                    &format!("get cm kube-root-ca.crt -n {ns} -o name")
                ),
                "configmap/kube-root-ca.crt\n"
            );
        }
        sh(&mut sim, "create namespace team");
        sh(&mut sim, "create quota q --hard=configmaps=2 -n team");
        let got = field(&mut sim, "get cm kube-root-ca.crt -n team", "/data/ca.crt");
        assert_eq!(got, super::ROOT_CA_PEM);
        // A quota counts it, as on a real cluster.
        let used = field(&mut sim, "get quota q -n team", "/status/used/configmaps");
        assert_eq!(used, "1");

        let uid = |sim: &mut Sim| field(sim, "get cm kube-root-ca.crt -n team", "/metadata/uid");
        let before = uid(&mut sim);
        sh(&mut sim, "delete cm kube-root-ca.crt -n team");
        let after = uid(&mut sim);
        assert!(!after.is_empty() && after != before);

        // An edit is put back.
        let o = crate::kubectl::apply_text(
            &mut sim,
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: kube-root-ca.crt}, data: {ca.crt: mine}}",
            "STDIN",
            "team",
            false,
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        let got = field(&mut sim, "get cm kube-root-ca.crt -n team", "/data/ca.crt");
        assert_eq!(got, super::ROOT_CA_PEM);

        // Not recreated in a namespace being deleted.
        sh(&mut sim, "delete namespace team");
        let o = run(&mut sim, "get cm -n team -o name", &NoFiles);
        assert_eq!(o.stdout, "", "{}", o.stderr);
    }
}
