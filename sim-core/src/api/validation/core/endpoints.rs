//! Endpoints: `ValidateEndpoints` and its subsets' addresses and ports.

use k8s_openapi::api::core::v1::Endpoints;

use super::validate_protocol;
use crate::api::validation::Errs;
use crate::api::validation::meta::{NameRule, validate_object_meta};
use crate::api::validation::names::{is_dns1123_label, is_dns1123_subdomain, is_valid_port_num};

/// `ValidateEndpoints`: metadata, then `validateEndpointSubsets`.
pub(in crate::api::validation) fn validate_endpoints(ep: &Endpoints, e: &mut Errs) {
    validate_object_meta(&ep.metadata, true, NameRule::Subdomain, e);
    for (i, subset) in ep.subsets.iter().flatten().enumerate() {
        let p = format!("subsets[{i}]");
        let addresses = subset.addresses.as_deref().unwrap_or(&[]);
        let not_ready = subset.not_ready_addresses.as_deref().unwrap_or(&[]);
        if addresses.is_empty() && not_ready.is_empty() {
            e.required(&p, "must specify `addresses` or `notReadyAddresses`");
        }
        for (list, addrs) in [("addresses", addresses), ("notReadyAddresses", not_ready)] {
            for (j, addr) in addrs.iter().enumerate() {
                let ap = format!("{p}.{list}[{j}]");
                validate_endpoint_ip(&addr.ip, &format!("{ap}.ip"), e);
                if let Some(h) = addr.hostname.as_deref().filter(|h| !h.is_empty()) {
                    for m in is_dns1123_label(h) {
                        e.invalid_str(&format!("{ap}.hostname"), h, &m);
                    }
                }
                if let Some(n) = addr.node_name.as_deref() {
                    for m in is_dns1123_subdomain(n) {
                        e.invalid_str(&format!("{ap}.nodeName"), n, &m);
                    }
                }
            }
        }
        let ports = subset.ports.as_deref().unwrap_or(&[]);
        for (j, port) in ports.iter().enumerate() {
            let pp = format!("{p}.ports[{j}]");
            let name = port.name.as_deref().unwrap_or("");
            if ports.len() > 1 && name.is_empty() {
                e.required(&format!("{pp}.name"), "");
            } else if !name.is_empty() {
                for m in is_dns1123_label(name) {
                    e.invalid_str(&format!("{pp}.name"), name, &m);
                }
            }
            for m in is_valid_port_num(i64::from(port.port)) {
                e.invalid(&format!("{pp}.port"), port.port.to_string(), &m);
            }
            validate_protocol(port.protocol.as_deref(), &format!("{pp}.protocol"), e);
        }
    }
}

/// `IsValidIP` and `ValidateNonSpecialIP` for an endpoint address.
fn validate_endpoint_ip(ip: &str, path: &str, e: &mut Errs) {
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
        e.invalid_str(
            path,
            ip,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        );
        return;
    };
    let (unspecified, loopback, link_local, link_local_multicast) = match addr {
        std::net::IpAddr::V4(a) => (
            a.is_unspecified(),
            a.is_loopback(),
            a.is_link_local(),
            a.octets()[..3] == [224, 0, 0],
        ),
        std::net::IpAddr::V6(a) => (
            a.is_unspecified(),
            a.is_loopback(),
            a.segments()[0] & 0xffc0 == 0xfe80,
            a.segments()[0] & 0xffcf == 0xff02,
        ),
    };
    if unspecified {
        e.invalid_str(path, ip, "may not be unspecified (0.0.0.0)");
    }
    if loopback {
        e.invalid_str(
            path,
            ip,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        );
    }
    if link_local {
        e.invalid_str(
            path,
            ip,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        );
    }
    if link_local_multicast {
        e.invalid_str(
            path,
            ip,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        );
    }
}

#[cfg(test)]
mod tests {
    //! Cases of `TestValidateEndpoints…`.

    use crate::api::validation::tests::check;

    #[test]
    fn endpoints_rules() {
        let y = "{apiVersion: v1, kind: Endpoints, metadata: {name: e, namespace: d}, subsets: [{ports: [{port: 80}]}, {addresses: [{ip: 10.0.0.300}, {ip: 127.0.0.1}], ports: [{port: 80}, {name: b, port: 0}]}]}";
        assert_eq!(
            check(y),
            [
                "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`",
                "subsets[1].addresses[0].ip: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                "subsets[1].addresses[1].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                "subsets[1].ports[0].name: Required value",
                "subsets[1].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            ]
        );
    }
}
