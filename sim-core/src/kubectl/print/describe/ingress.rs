//! `kubectl describe ingress` and `kubectl describe ingressclass` (`describeIngressV1`,
//! `describeBackendV1`, `serviceBackendStringer`, `describeIngressTLSV1`,
//! `describeIngressClassV1`).

use k8s_openapi::api::core::v1::{Endpoints, Event, Service};
use k8s_openapi::api::networking::v1::{
    Ingress, IngressBackend, IngressClass, IngressServiceBackend,
};
use k8s_openapi::jiff::Timestamp;

use super::events::describe_events;
use super::service::service_endpoints;
use super::{PrefixWriter, print_annotations_multiline, print_labels_multiline};
use crate::kubectl::print::networking::ingress_load_balancer_status;
use crate::kubectl::print::util::s;

/// What `describeBackendV1` reads for a Service backend: the Service and its endpoints, or
/// `None` when it is not found.
pub type BackendLookup<'a> = dyn Fn(&str) -> Option<(Service, Option<Endpoints>)> + 'a;

/// `kubectl describe ingress`.
pub fn describe_ingress(
    ing: &Ingress,
    lookup: &BackendLookup<'_>,
    events: &[Event],
    now: Timestamp,
) -> String {
    let mut w = PrefixWriter::new();
    let spec = ing.spec.clone().unwrap_or_default();
    w.write(0, &format!("Name:\t{}\n", s(&ing.metadata.name)));
    print_labels_multiline(&mut w, "Labels", ing.metadata.labels.as_ref());
    w.write(0, &format!("Namespace:\t{}\n", s(&ing.metadata.namespace)));
    let lb = ing.status.as_ref().and_then(|st| st.load_balancer.as_ref());
    w.write(
        0,
        &format!("Address:\t{}\n", ingress_load_balancer_status(lb, true)),
    );
    let class = spec.ingress_class_name.as_deref().unwrap_or("<none>");
    w.write(0, &format!("Ingress Class:\t{class}\n"));
    let default_backend = match &spec.default_backend {
        Some(b) => describe_backend(b, lookup),
        None => "<default>".to_owned(),
    };
    w.write(0, &format!("Default backend:\t{default_backend}\n"));
    if let Some(tls) = spec.tls.as_ref().filter(|t| !t.is_empty()) {
        w.write(0, "TLS:\n");
        for t in tls {
            let hosts = t.hosts.clone().unwrap_or_default().join(",");
            match t.secret_name.as_deref().filter(|n| !n.is_empty()) {
                None => w.write(1, &format!("SNI routes {hosts}\n")),
                Some(n) => w.write(1, &format!("{n} terminates {hosts}\n")),
            }
        }
    }
    w.write(0, "Rules:\n  Host\tPath\tBackends\n");
    w.write(1, "----\t----\t--------\n");
    let mut count = 0;
    for rule in spec.rules.iter().flatten() {
        let Some(http) = &rule.http else { continue };
        count += 1;
        let host = rule
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("*");
        w.write(1, &format!("{host}\t\n"));
        for p in &http.paths {
            w.write(
                2,
                &format!(
                    "\t{} \t{}\n",
                    s(&p.path),
                    describe_backend(&p.backend, lookup)
                ),
            );
        }
    }
    if count == 0 {
        w.write(1, &format!("*\t*\t{default_backend}\n"));
    }
    print_annotations_multiline(&mut w, "Annotations", ing.metadata.annotations.as_ref());
    describe_events(events, &mut w, now);
    w.finish()
}

/// `describeBackendV1`: `web:80 (10.244.1.5:8080,...)`, the error when the Service is missing,
/// or a resource backend's reference.
fn describe_backend(b: &IngressBackend, lookup: &BackendLookup<'_>) -> String {
    if let Some(svc) = &b.service {
        let sb = service_backend_stringer(svc);
        let Some((service, endpoints)) = lookup(&svc.name) else {
            return format!("{sb} (<error: services {:?} not found>)", svc.name);
        };
        let port = svc.port.clone().unwrap_or_default();
        let mut sp_name = "";
        for sp in service
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_deref())
            .unwrap_or(&[])
        {
            let number = port.number.unwrap_or(0);
            let name = port.name.as_deref().unwrap_or("");
            if (number != 0 && number == sp.port) || (!name.is_empty() && name == s(&sp.name)) {
                sp_name = s(&sp.name);
            }
        }
        let sp_name = sp_name.to_owned();
        return format!("{sb} ({})", service_endpoints(endpoints.as_ref(), &sp_name));
    }
    if let Some(r) = &b.resource {
        let group = r.api_group.as_deref().unwrap_or("<none>");
        return format!("APIGroup: {group}, Kind: {}, Name: {}", r.kind, r.name);
    }
    String::new()
}

/// `serviceBackendStringer`: `name:port`.
fn service_backend_stringer(b: &IngressServiceBackend) -> String {
    let port = b.port.clone().unwrap_or_default();
    match port.number.filter(|n| *n != 0) {
        Some(n) => format!("{}:{n}", b.name),
        None => format!("{}:{}", b.name, port.name.unwrap_or_default()),
    }
}

/// `kubectl describe ingressclass`.
pub fn describe_ingress_class(c: &IngressClass, events: &[Event], now: Timestamp) -> String {
    let mut w = PrefixWriter::new();
    let spec = c.spec.clone().unwrap_or_default();
    w.write(0, &format!("Name:\t{}\n", s(&c.metadata.name)));
    print_labels_multiline(&mut w, "Labels", c.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", c.metadata.annotations.as_ref());
    w.write(
        0,
        &format!("Controller:\t{}\n", spec.controller.unwrap_or_default()),
    );
    if let Some(p) = &spec.parameters {
        w.write(0, "Parameters:\n");
        if let Some(g) = &p.api_group {
            w.write(1, &format!("APIGroup:\t{g}\n"));
        }
        w.write(1, &format!("Kind:\t{}\n", p.kind));
        w.write(1, &format!("Name:\t{}\n", p.name));
    }
    describe_events(events, &mut w, now);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;
    use crate::api::decode::parse_manifests;
    use crate::kubectl::print::describe::tests::check;
    use crate::kubectl::print::fixtures::*;

    #[test]
    fn rules_with_backends_and_their_endpoints() {
        let Object::Ingress(ing) = parse_manifests(
            "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api, namespace: live-coding}
spec:
  ingressClassName: kubesim
  rules:
  - host: api.local
    http:
      paths:
      - {path: /predict, pathType: Prefix, backend: {service: {name: credit-scoring-np, port: {number: 8080}}}}
      - {path: /other, pathType: Exact, backend: {service: {name: missing, port: {name: http}}}}
",
        )
        .expect("decodes")
        .remove(0)
        .object
        else {
            panic!("not an Ingress")
        };
        let svcs = course_services();
        let lookup = |name: &str| {
            svcs.iter()
                .find(|s| s.metadata.name.as_deref() == Some(name))
                .map(|s| (s.clone(), Some(course_endpoints())))
        };
        check(
            describe_ingress(&ing, &lookup, &[], now()),
            "\
Name:             api
Labels:           <none>
Namespace:        live-coding
Address:          
Ingress Class:    kubesim
Default backend:  <default>
Rules:
  Host        Path  Backends
  ----        ----  --------
  api.local   
              /predict   credit-scoring-np:8080 (10.244.1.5:8080,10.244.1.6:8080,10.244.2.7:8080 + 1 more...)
              /other     missing:http (<error: services \"missing\" not found>)
Annotations:  <none>
Events:       <none>
",
        );
    }
}
