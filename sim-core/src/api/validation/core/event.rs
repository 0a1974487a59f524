//! Events: `ValidateEvent` (`pkg/apis/core/validation/events.go`), the v1 parts.

use k8s_openapi::api::core::v1::Event;

use crate::api::validation::Errs;
use crate::api::validation::meta::{NameRule, validate_object_meta};

pub(in crate::api::validation) fn validate_event(ev: &Event, e: &mut Errs) {
    validate_object_meta(&ev.metadata, true, NameRule::Subdomain, e);
    let ns = ev.metadata.namespace.as_deref().unwrap_or("");
    if let Some(ins) = ev.involved_object.namespace.as_deref()
        && !ins.is_empty()
        && ins != ns
    {
        e.invalid_str(
            "involvedObject.namespace",
            ins,
            "does not match event.namespace",
        );
    }
}
