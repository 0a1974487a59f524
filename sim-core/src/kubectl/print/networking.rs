//! `kubectl get ingress` and `kubectl get ingressclass`: `printIngress`, `printIngressClass`,
//! `formatHosts`, `formatPorts` and `ingressLoadBalancerStatusStringer` of
//! `pkg/printers/internalversion/printers.go`.

use k8s_openapi::api::networking::v1::{Ingress, IngressClass, IngressLoadBalancerStatus};
use k8s_openapi::jiff::Timestamp;

use super::GetOptions;
use super::duration::age;
use super::get::{Column, Row, print_table};
use super::util::s;

/// `loadBalancerWidth`: an ADDRESS longer than this is cut unless `-o wide`.
const LOAD_BALANCER_WIDTH: usize = 16;

/// `kubectl get ingress`: NAME, CLASS, HOSTS, ADDRESS, PORTS, AGE.
pub fn get_ingresses(ings: &[Ingress], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Class", false),
        ("Hosts", false),
        ("Address", false),
        ("Ports", false),
        ("Age", false),
    ];
    let rows = ings
        .iter()
        .map(|ing| {
            let spec = ing.spec.clone().unwrap_or_default();
            let class = spec
                .ingress_class_name
                .clone()
                .unwrap_or_else(|| "<none>".to_owned());
            let lb = ing.status.as_ref().and_then(|s| s.load_balancer.as_ref());
            Row {
                meta: &ing.metadata,
                cells: vec![
                    s(&ing.metadata.name).to_owned(),
                    class,
                    format_hosts(&spec),
                    ingress_load_balancer_status(lb, opts.wide),
                    format_ports(&spec).to_owned(),
                    age(ing.metadata.creation_timestamp.as_ref(), now),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "ingress.networking.k8s.io", opts)
}

/// `kubectl get ingressclass`: NAME, CONTROLLER, PARAMETERS, AGE.
pub fn get_ingress_classes(classes: &[IngressClass], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("Controller", false),
        ("Parameters", false),
        ("Age", false),
    ];
    let rows = classes
        .iter()
        .map(|c| {
            let spec = c.spec.clone().unwrap_or_default();
            let parameters = match &spec.parameters {
                None => "<none>".to_owned(),
                Some(p) => match &p.api_group {
                    Some(g) => format!("{}.{g}/{}", p.kind, p.name),
                    None => format!("{}/{}", p.kind, p.name),
                },
            };
            Row {
                meta: &c.metadata,
                cells: vec![
                    s(&c.metadata.name).to_owned(),
                    spec.controller.unwrap_or_default(),
                    parameters,
                    age(c.metadata.creation_timestamp.as_ref(), now),
                ],
            }
        })
        .collect();
    print_table(COLUMNS, rows, 0, "ingressclass.networking.k8s.io", opts)
}

/// `formatHosts`: up to three rule hosts, then `+ N more...`; `*` when no rule names one.
fn format_hosts(spec: &k8s_openapi::api::networking::v1::IngressSpec) -> String {
    let rules = spec.rules.as_deref().unwrap_or(&[]);
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        let host = rule.host.as_deref().unwrap_or("");
        if !more && !host.is_empty() {
            list.push(host);
        }
    }
    if list.is_empty() {
        return "*".to_owned();
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", rules.len() - MAX)
    } else {
        ret
    }
}

/// `formatPorts`: 80, and 443 when the Ingress has TLS.
fn format_ports(spec: &k8s_openapi::api::networking::v1::IngressSpec) -> &'static str {
    if spec.tls.as_ref().is_some_and(|t| !t.is_empty()) {
        "80, 443"
    } else {
        "80"
    }
}

/// `ingressLoadBalancerStatusStringer`: sorted unique IPs (else hostnames), cut unless wide.
pub(super) fn ingress_load_balancer_status(
    lb: Option<&IngressLoadBalancerStatus>,
    wide: bool,
) -> String {
    let mut set = std::collections::BTreeSet::new();
    for i in lb.and_then(|l| l.ingress.as_deref()).unwrap_or(&[]) {
        if let Some(ip) = i.ip.as_deref().filter(|ip| !ip.is_empty()) {
            set.insert(ip.to_owned());
        } else if let Some(h) = i.hostname.as_deref().filter(|h| !h.is_empty()) {
            set.insert(h.to_owned());
        }
    }
    let r = set.into_iter().collect::<Vec<_>>().join(",");
    if !wide && r.len() > LOAD_BALANCER_WIDTH {
        let cut: String = r.chars().take(LOAD_BALANCER_WIDTH - 3).collect();
        return format!("{cut}...");
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::api::decode::parse_manifests;

    fn ingress(yaml: &str) -> Ingress {
        match parse_manifests(yaml).expect("decodes").remove(0).object {
            Object::Ingress(i) => i,
            other => panic!("not an Ingress: {}", other.kind()),
        }
    }

    #[test]
    fn hosts_ports_and_address() {
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().expect("timestamp");
        let mut ing = ingress(
            "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default, creationTimestamp: '2026-11-23T11:59:00Z'}
spec:
  ingressClassName: kubesim
  tls: [{hosts: [a.local]}]
  rules:
  - {host: a.local}
  - {host: b.local}
  - {}
  - {host: c.local}
  - {host: d.local}
",
        );
        let out = get_ingresses(std::slice::from_ref(&ing), &GetOptions::default(), now);
        assert_eq!(
            out,
            "NAME   CLASS     HOSTS                                 ADDRESS   PORTS     AGE\n\
             web    kubesim   a.local,b.local,c.local + 2 more...             80, 443   60s\n"
        );
        ing.spec = Some(Default::default());
        ing.status = Some(k8s_openapi::api::networking::v1::IngressStatus {
            load_balancer: Some(IngressLoadBalancerStatus {
                ingress: Some(vec![
                    k8s_openapi::api::networking::v1::IngressLoadBalancerIngress {
                        ip: Some("127.0.0.1".into()),
                        ..Default::default()
                    },
                ]),
            }),
        });
        let out = get_ingresses(&[ing], &GetOptions::default(), now);
        assert_eq!(
            out,
            "NAME   CLASS    HOSTS   ADDRESS     PORTS   AGE\n\
             web    <none>   *       127.0.0.1   80      60s\n"
        );
    }
}
