//! EndpointSlices: `kubectl get endpointslices` columns (`printEndpointSlice`,
//! `formatDiscoveryPorts`, `formatDiscoveryEndpoints` in
//! `pkg/printers/internalversion/printers.go`) and the endpoints line `kubectl describe svc`
//! prints from them (`formatEndpointSlices` in kubectl's `describe.go`).

use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::jiff::Timestamp;

use super::GetOptions;
use super::duration::age;
use super::get::{Column, Row, join_host_port, print_table};
use super::util::s;

/// `kubectl get endpointslices`: NAME, ADDRESSTYPE, PORTS, ENDPOINTS, AGE.
pub fn get_endpoint_slices(slices: &[EndpointSlice], opts: &GetOptions, now: Timestamp) -> String {
    const COLUMNS: &[Column] = &[
        ("Name", false),
        ("AddressType", false),
        ("Ports", false),
        ("Endpoints", false),
        ("Age", false),
    ];
    let rows = slices
        .iter()
        .map(|e| Row {
            meta: &e.metadata,
            cells: vec![
                s(&e.metadata.name).to_string(),
                e.address_type.clone(),
                format_discovery_ports(e),
                format_discovery_endpoints(e),
                age(e.metadata.creation_timestamp.as_ref(), now),
            ],
        })
        .collect();
    print_table(COLUMNS, rows, 0, "endpointslice.discovery.k8s.io", opts)
}

const MAX: usize = 3;

/// `listWithMoreString`: `<unset>` for nothing.
fn list_with_more(list: &[String], more: bool, count: usize) -> String {
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count - MAX);
    }
    if ret.is_empty() {
        return "<unset>".into();
    }
    ret
}

/// `formatDiscoveryPorts`: up to three port numbers (a name, or `*`, without one).
fn format_discovery_ports(e: &EndpointSlice) -> String {
    let mut list = Vec::new();
    let mut more = false;
    let mut count = 0;
    for p in e.ports.iter().flatten() {
        if list.len() < MAX {
            list.push(match (p.port, &p.name) {
                (Some(n), _) => n.to_string(),
                (None, Some(name)) => name.clone(),
                (None, None) => "*".into(),
            });
        } else if list.len() == MAX {
            more = true;
        }
        count += 1;
    }
    list_with_more(&list, more, count)
}

/// `formatDiscoveryEndpoints`: up to three addresses, ready or not.
fn format_discovery_endpoints(e: &EndpointSlice) -> String {
    let mut list = Vec::new();
    let mut more = false;
    let mut count = 0;
    for a in e.endpoints.iter().flat_map(|ep| ep.addresses.iter()) {
        if list.len() < MAX {
            list.push(a.clone());
        } else if list.len() == MAX {
            more = true;
        }
        count += 1;
    }
    list_with_more(&list, more, count)
}

/// `formatEndpointSlices` for one Service port name (`describe svc`'s `Endpoints:` line):
/// the ready endpoints (a missing `ready` counts as ready) as `ip:port`, three at most then
/// `+ N more...`; `<none>` without any slice. `slices` are the Service's, sorted by name.
pub fn format_endpoint_slices(slices: &[EndpointSlice], port_name: Option<&str>) -> String {
    if slices.is_empty() {
        return "<none>".into();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    let ready = |c: &k8s_openapi::api::discovery::v1::Endpoint| {
        c.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true)
    };
    for slice in slices {
        let ports = slice.ports.as_deref().unwrap_or(&[]);
        if ports.is_empty() {
            // Headless services may have no ports.
            for ep in &slice.endpoints {
                if list.len() == MAX {
                    more = true;
                }
                if !ready(ep) {
                    continue;
                }
                if !more && let Some(a) = ep.addresses.first() {
                    list.push(a.clone());
                }
                count += 1;
            }
            continue;
        }
        for port in ports {
            if port_name.is_some_and(|n| port.name.as_deref().unwrap_or("") != n) {
                continue;
            }
            for ep in &slice.endpoints {
                if list.len() == MAX {
                    more = true;
                }
                if !ready(ep) {
                    continue;
                }
                if !more && let Some(a) = ep.addresses.first() {
                    list.push(join_host_port(a, port.port.unwrap_or(0)));
                }
                count += 1;
            }
        }
    }
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count - MAX);
    }
    ret
}

#[cfg(test)]
mod tests {
    //! Cases after `TestPrintEndpointSlice` (printers_test.go) and `formatEndpointSlices`.

    use super::*;
    use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};

    fn slice(ports: &[(Option<&str>, Option<i32>)], eps: &[(&str, Option<bool>)]) -> EndpointSlice {
        EndpointSlice {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("abcslice.123".into()),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            ports: Some(
                ports
                    .iter()
                    .map(|(n, p)| EndpointPort {
                        name: n.map(Into::into),
                        port: *p,
                        ..Default::default()
                    })
                    .collect(),
            ),
            endpoints: eps
                .iter()
                .map(|(a, ready)| Endpoint {
                    addresses: vec![(*a).into()],
                    conditions: Some(EndpointConditions {
                        ready: *ready,
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
        }
    }

    #[test]
    fn get_columns_as_the_printer() {
        let one = slice(
            &[
                (Some("http"), Some(80)),
                (Some("https"), Some(443)),
                (None, None),
                (Some("x"), None),
            ],
            &[
                ("10.1.2.3", Some(true)),
                ("2001:db8::1", Some(false)),
                ("10.1.2.4", None),
                ("10.1.2.5", None),
            ],
        );
        assert_eq!(format_discovery_ports(&one), "80,443,* + 1 more...");
        assert_eq!(
            format_discovery_endpoints(&one),
            "10.1.2.3,2001:db8::1,10.1.2.4 + 1 more..."
        );
        let empty = slice(&[], &[]);
        assert_eq!(format_discovery_ports(&empty), "<unset>");
        assert_eq!(format_discovery_endpoints(&empty), "<unset>");
    }

    #[test]
    fn describe_lists_ready_endpoints_of_the_port() {
        let s = slice(
            &[(Some(""), Some(8080))],
            &[
                ("10.0.0.1", Some(true)),
                ("10.0.0.2", Some(false)),
                ("10.0.0.3", None),
            ],
        );
        assert_eq!(
            format_endpoint_slices(std::slice::from_ref(&s), Some("")),
            "10.0.0.1:8080,10.0.0.3:8080"
        );
        assert_eq!(
            format_endpoint_slices(std::slice::from_ref(&s), Some("web")),
            ""
        );
        assert_eq!(format_endpoint_slices(&[], Some("")), "<none>");
        let many = slice(
            &[(Some(""), Some(80))],
            &[
                ("10.0.0.1", Some(true)),
                ("10.0.0.2", Some(true)),
                ("10.0.0.3", Some(true)),
                ("10.0.0.4", Some(true)),
                ("10.0.0.5", Some(true)),
            ],
        );
        assert_eq!(
            format_endpoint_slices(&[many], Some("")),
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more..."
        );
        // A placeholder slice (no ports, no endpoints) prints nothing.
        let placeholder = EndpointSlice {
            ports: None,
            ..slice(&[], &[])
        };
        assert_eq!(format_endpoint_slices(&[placeholder], Some("")), "");
    }
}
