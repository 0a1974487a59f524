//! The core group's kinds: kubernetes `pkg/apis/core/validation/validation.go`, one file per
//! kind, with the helpers they share.

mod config;
mod endpoints;
mod event;
mod namespace;
mod node;
mod pod;
pub(super) mod quota;
mod service;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Errs;
use super::go_fmt::go_quote;
use super::names::{is_valid_port_name, is_valid_port_num};

pub(super) use config::{
    validate_config_map, validate_config_map_update, validate_secret, validate_secret_update,
};
pub(super) use endpoints::validate_endpoints;
pub(super) use event::validate_event;
pub(super) use namespace::validate_namespace;
pub(super) use node::validate_node;
pub(super) use pod::{validate_pod, validate_pod_template_spec, validate_pod_update};
pub(super) use service::{validate_node_port_range, validate_service, validate_service_body};

fn validate_protocol(proto: Option<&str>, path: &str, e: &mut Errs) {
    match proto.unwrap_or("") {
        "" => e.required(path, ""),
        "TCP" | "UDP" | "SCTP" => {}
        other => e.not_supported(path, go_quote(other), &["SCTP", "TCP", "UDP"]),
    }
}

/// `ValidatePortNumOrName`.
fn validate_port_num_or_name(port: &IntOrString, path: &str, e: &mut Errs) {
    match port {
        IntOrString::Int(i) => {
            for m in is_valid_port_num(i64::from(*i)) {
                e.invalid(path, i.to_string(), &m);
            }
        }
        IntOrString::String(s) => {
            for m in is_valid_port_name(s) {
                e.invalid_str(path, s, &m);
            }
        }
    }
}
