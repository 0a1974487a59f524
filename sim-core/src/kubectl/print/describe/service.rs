//! `kubectl describe service` (`ServiceDescriber`), with the endpoints of each port.

use k8s_openapi::api::core::v1::{Endpoints, Event, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::jiff::Timestamp;

use super::events::describe_events;
use super::{PrefixWriter, print_annotations_multiline, print_labels_multiline};
use crate::kubectl::print::get::{join_host_port, service_type};
use crate::kubectl::print::util::{format_labels, int_or_string, s};

/// `kubectl describe service` without a clock: event ages are measured from the newest event's
/// last timestamp. Prefer [`describe_service_at`], which takes "now" like the other describers.
pub fn describe_service(svc: &Service, slices: &[EndpointSlice], events: &[Event]) -> String {
    let now = events
        .iter()
        .filter_map(|e| {
            e.last_timestamp
                .as_ref()
                .or(e.first_timestamp.as_ref())
                .map(|t| t.0)
        })
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    describe_service_at(svc, slices, events, now)
}

/// `kubectl describe service`, from the Service's EndpointSlices (those labelled
/// `kubernetes.io/service-name`, by name) as kubectl 1.37 reads them: each port's `Endpoints:`
/// line is `formatEndpointSlices` (empty for the placeholder slice of a Service that selects
/// nothing, `<none>` without any slice).
pub fn describe_service_at(
    svc: &Service,
    slices: &[EndpointSlice],
    events: &[Event],
    now: Timestamp,
) -> String {
    let mut w = PrefixWriter::new();
    let spec = svc.spec.as_ref();
    w.write(0, &format!("Name:\t{}\n", s(&svc.metadata.name)));
    w.write(0, &format!("Namespace:\t{}\n", s(&svc.metadata.namespace)));
    print_labels_multiline(&mut w, "Labels", svc.metadata.labels.as_ref());
    print_annotations_multiline(&mut w, "Annotations", svc.metadata.annotations.as_ref());
    w.write(
        0,
        &format!(
            "Selector:\t{}\n",
            format_labels(spec.and_then(|s| s.selector.as_ref()))
        ),
    );
    w.write(0, &format!("Type:\t{}\n", service_type(svc)));
    if let Some(p) = spec.and_then(|s| s.ip_family_policy.as_deref()) {
        w.write(0, &format!("IP Family Policy:\t{p}\n"));
    }
    let families = spec.and_then(|s| s.ip_families.as_deref()).unwrap_or(&[]);
    let families = if families.is_empty() {
        "<none>".to_string()
    } else {
        families.join(",")
    };
    w.write(0, &format!("IP Families:\t{families}\n"));
    w.write(
        0,
        &format!("IP:\t{}\n", spec.map(|x| s(&x.cluster_ip)).unwrap_or("")),
    );
    let ips = spec.and_then(|s| s.cluster_ips.as_deref()).unwrap_or(&[]);
    w.write(
        0,
        &format!(
            "IPs:\t{}\n",
            if ips.is_empty() {
                "<none>".to_string()
            } else {
                ips.join(",")
            }
        ),
    );
    if let Some(ext) = spec
        .and_then(|s| s.external_ips.as_deref())
        .filter(|e| !e.is_empty())
    {
        w.write(0, &format!("External IPs:\t{}\n", ext.join(",")));
    }
    if let Some(lb) = spec
        .and_then(|s| s.load_balancer_ip.as_deref())
        .filter(|e| !e.is_empty())
    {
        w.write(0, &format!("Desired LoadBalancer IP:\t{lb}\n"));
    }
    if let Some(n) = spec
        .and_then(|s| s.external_name.as_deref())
        .filter(|e| !e.is_empty())
    {
        w.write(0, &format!("External Name:\t{n}\n"));
    }
    let ingress = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or(&[]);
    if !ingress.is_empty() {
        let list: Vec<String> = ingress
            .iter()
            .map(|i| match i.ip.as_deref().filter(|ip| !ip.is_empty()) {
                Some(ip) => match &i.ip_mode {
                    Some(mode) => format!("{ip} ({mode})"),
                    None => ip.to_string(),
                },
                None => s(&i.hostname).to_string(),
            })
            .collect();
        w.write(0, &format!("LoadBalancer Ingress:\t{}\n", list.join(", ")));
    }
    for sp in spec.and_then(|s| s.ports.as_deref()).unwrap_or(&[]) {
        let port_name = s(&sp.name);
        let name = if port_name.is_empty() {
            "<unset>"
        } else {
            port_name
        };
        let proto = sp.protocol.as_deref().unwrap_or("TCP");
        w.write(0, &format!("Port:\t{name}\t{}/{proto}\n", sp.port));
        let target = sp
            .target_port
            .as_ref()
            .map(int_or_string)
            .unwrap_or_else(|| sp.port.to_string());
        w.write(0, &format!("TargetPort:\t{target}/{proto}\n"));
        if let Some(ap) = &sp.app_protocol {
            w.write(0, &format!("AppProtocol:\t{ap}\n"));
        }
        if let Some(np) = sp.node_port.filter(|np| *np != 0) {
            w.write(0, &format!("NodePort:\t{name}\t{np}/{proto}\n"));
        }
        w.write(
            0,
            &format!(
                "Endpoints:\t{}\n",
                crate::kubectl::print::discovery::format_endpoint_slices(slices, Some(port_name))
            ),
        );
    }
    w.write(
        0,
        &format!(
            "Session Affinity:\t{}\n",
            spec.map(|x| s(&x.session_affinity)).unwrap_or("")
        ),
    );
    if let Some(p) = spec
        .and_then(|s| s.external_traffic_policy.as_deref())
        .filter(|p| !p.is_empty())
    {
        w.write(0, &format!("External Traffic Policy:\t{p}\n"));
    }
    if let Some(p) = spec.and_then(|s| s.internal_traffic_policy.as_deref()) {
        w.write(0, &format!("Internal Traffic Policy:\t{p}\n"));
    }
    if let Some(p) = spec
        .and_then(|s| s.health_check_node_port)
        .filter(|p| *p != 0)
    {
        w.write(0, &format!("HealthCheck NodePort:\t{p}\n"));
    }
    if let Some(r) = spec
        .and_then(|s| s.load_balancer_source_ranges.as_deref())
        .filter(|r| !r.is_empty())
    {
        w.write(
            0,
            &format!("LoadBalancer Source Ranges:\t{}\n", r.join(",")),
        );
    }
    if let Some(t) = spec.and_then(|s| s.traffic_distribution.as_deref()) {
        w.write(0, &format!("Traffic Distribution:\t{t}\n"));
    }
    describe_events(events, &mut w, now);
    w.finish()
}

/// `formatEndpoints` (the ingress describer still reads Endpoints) for one service port: up to
/// three ready `ip:port`, then `+ N more...`; `<none>` when there are no endpoints at all.
pub(super) fn service_endpoints(endpoints: Option<&Endpoints>, port_name: &str) -> String {
    let subsets = endpoints.and_then(|e| e.subsets.as_deref()).unwrap_or(&[]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for ss in subsets {
        let addresses = ss.addresses.as_deref().unwrap_or(&[]);
        let ports = ss.ports.as_deref().unwrap_or(&[]);
        if ports.is_empty() {
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                }
                if !more {
                    list.push(a.ip.clone());
                }
                count += 1;
            }
            continue;
        }
        for port in ports.iter().filter(|p| s(&p.name) == port_name) {
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                }
                if !more {
                    list.push(join_host_port(&a.ip, port.port));
                }
                count += 1;
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::print::describe::tests::check;
    use crate::kubectl::print::fixtures::*;
    use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};

    /// The slice the EndpointSlice controller makes of the same ready addresses.
    fn slice_of(e: &Endpoints) -> EndpointSlice {
        let ss = &e.subsets.as_deref().unwrap_or(&[])[0];
        EndpointSlice {
            address_type: "IPv4".into(),
            endpoints: ss
                .addresses
                .iter()
                .flatten()
                .map(|a| Endpoint {
                    addresses: vec![a.ip.clone()],
                    conditions: Some(EndpointConditions {
                        ready: Some(true),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
            ports: Some(
                ss.ports
                    .iter()
                    .flatten()
                    .map(|p| EndpointPort {
                        name: Some(p.name.clone().unwrap_or_default()),
                        port: Some(p.port),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn a_service_selecting_nothing_has_an_empty_endpoints_line() {
        let svcs = course_services();
        let placeholder = EndpointSlice {
            address_type: "IPv4".into(),
            ..Default::default()
        };
        let out = describe_service_at(&svcs[1], &[placeholder], &[], now());
        assert!(out.contains("\nEndpoints:                \n"), "{out}");
        let out = describe_service_at(&svcs[1], &[], &[], now());
        assert!(
            out.contains("\nEndpoints:                <none>\n"),
            "{out}"
        );
    }

    #[test]
    fn service_with_endpoints() {
        let svcs = course_services();
        check(
            describe_service_at(&svcs[1], &[slice_of(&course_endpoints())], &[], now()),
            "\
Name:                     credit-scoring-np
Namespace:                live-coding
Labels:                   app=credit-scoring-api
Annotations:              <none>
Selector:                 app=credit-scoring-api
Type:                     NodePort
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.45.13
IPs:                      10.96.45.13
Port:                     <unset>  8080/TCP
TargetPort:               8080/TCP
NodePort:                 <unset>  30080/TCP
Endpoints:                10.244.1.5:8080,10.244.1.6:8080,10.244.2.7:8080 + 1 more...
Session Affinity:         None
Internal Traffic Policy:  Cluster
Events:                   <none>
",
        );
    }
}
