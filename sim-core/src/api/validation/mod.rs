//! Create and update validation, with the API server's field paths, order and messages.
//!
//! Ports of kubernetes `pkg/apis/apps/validation/validation.go` (Deployment, ReplicaSet),
//! `pkg/apis/core/validation/validation.go` (ObjectMeta, PodSpec, containers, probes, resources,
//! Service, Namespace, Node, Endpoints), the registry strategies' update rules, and the message
//! helpers of apimachinery `pkg/util/validation/validation.go` and `field/errors.go`.
//!
//! Every function appends to one error list and never stops at the first error, so a student
//! sees everything the API server would list. Where Go iterates a map (labels, resources) the
//! order is random in Go; we use the map's sorted order.
//! Bad values are rendered as the current `field.Error.ErrorBody` prints them: `%v` for
//! int32/int64/bool, `%q` for strings, and JSON for everything else (kubernetes PR #132314,
//! v1.34+). So an IntOrString prints as `0` or `"25%"`, a label map as
//! `{"app":"x"}`, and internal types (which have no json tags) with Go field names, e.g.
//! `{"Type":"BlueGreen","RollingUpdate":null}`. Older servers (≤ 1.33) printed `%#v`,
//! e.g. `intstr.IntOrString{Type:0, IntVal:0, StrVal:""}`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, ReplicaSet};
use k8s_openapi::api::core::v1::{
    Container, Endpoints, Event, Namespace, Node, Pod, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Object;
use super::quantity::parse_quantity;
use super::selector::Selector;

/// The kind of a field error, as apimachinery `field.ErrorType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// `Not found`.
    NotFound,
    /// `Required value`.
    Required,
    /// `Duplicate value`.
    Duplicate,
    /// `Invalid value`.
    Invalid,
    /// `Unsupported value` (a value outside an enumerated set).
    NotSupported,
    /// `Forbidden`.
    Forbidden,
    /// `Too long`.
    TooLong,
    /// `Too many`.
    TooMany,
    /// `Too few`.
    TooFew,
    /// `Too short`.
    TooShort,
    /// `Internal error`.
    Internal,
    /// `Invalid value` for a value of the wrong type.
    TypeInvalid,
}

/// One field error, as apimachinery `field.Error`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// The field path, e.g. `spec.template.spec.containers[0].image`.
    pub field: String,
    /// What is wrong with it.
    pub error_type: ErrorType,
    /// The bad value rendered as the API server prints it (`"Never"`, `-1`, `0` for an
    /// IntOrString, `{"app":"x"}` for a map); `None` when not shown.
    pub bad_value: Option<String>,
    /// The explanation, e.g. `must be greater than or equal to 0`.
    pub detail: String,
}

/// An object failed validation; `Display` is what kubectl prints for the 422 Invalid Status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Invalid {
    /// The object's kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// The object's name.
    pub name: String,
    /// Every field error, in the API server's order.
    pub causes: Vec<FieldError>,
}

impl ErrorType {
    /// The text Go prints for the type (`ErrorType.String()`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::TooFew => "Too few",
            ErrorType::TooShort => "Too short",
            ErrorType::Internal => "Internal error",
        }
    }

    /// The Status cause `reason` (`metav1.CauseType`), e.g. `FieldValueInvalid`.
    pub fn cause_type(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::TooFew => "FieldValueTooFew",
            ErrorType::TooShort => "FieldValueTooShort",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }
}

impl FieldError {
    /// The error without its field (Go's `ErrorBody`); this is a Status cause's `message`.
    pub fn body(&self) -> String {
        let mut s = self.error_type.as_str().to_owned();
        let hides_value = matches!(
            self.error_type,
            ErrorType::Required
                | ErrorType::Forbidden
                | ErrorType::TooLong
                | ErrorType::TooShort
                | ErrorType::Internal
        );
        if !hides_value && let Some(v) = &self.bad_value {
            s.push_str(": ");
            s.push_str(v);
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    /// `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl Invalid {
    /// The Status `message` the API server sends:
    /// `Deployment.apps "x" is invalid: [cause, cause]` (brackets only for several causes).
    pub fn status_message(&self) -> String {
        let group = match self.kind {
            "Deployment" | "ReplicaSet" => ".apps",
            _ => "",
        };
        let causes: Vec<String> = self.causes.iter().map(ToString::to_string).collect();
        let list = if causes.len() == 1 {
            causes[0].clone()
        } else {
            format!("[{}]", causes.join(", "))
        };
        format!(
            "{}{group} {} is invalid: {list}",
            self.kind,
            go_quote(&self.name)
        )
    }
}

impl fmt::Display for Invalid {
    /// kubectl's rendering: `The Deployment "x" is invalid: <cause>` for one cause; for several,
    /// the same prefix followed by one `\n* <cause>` line per cause.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "The {} {} is invalid: ", self.kind, go_quote(&self.name))?;
        if self.causes.len() == 1 {
            write!(f, "{}", self.causes[0])
        } else {
            for c in &self.causes {
                write!(f, "\n* {c}")?;
            }
            Ok(())
        }
    }
}

/// Validates an object for create; `obj` must already carry its defaults.
pub fn validate(obj: &Object) -> Result<(), Invalid> {
    let mut e = Errs::default();
    match obj {
        Object::Deployment(d) => validate_deployment(d, &mut e),
        Object::ReplicaSet(rs) => validate_replica_set(rs, &mut e),
        Object::Pod(p) => validate_pod(p, &mut e),
        Object::Service(s) => validate_service(s, &mut e),
        Object::Namespace(ns) => validate_namespace(ns, &mut e),
        Object::Node(n) => validate_node(n, &mut e),
        Object::Endpoints(ep) => validate_endpoints(ep, &mut e),
        Object::Event(ev) => validate_event(ev, &mut e),
    }
    e.finish(obj)
}

/// Validates an update of `old` into `new`: the create rules plus immutability (metadata name
/// and namespace, Deployment/ReplicaSet `spec.selector`, most of a Pod's spec, a Service's
/// cluster IP).
pub fn validate_update(old: &Object, new: &Object) -> Result<(), Invalid> {
    let mut e = Errs::default();
    validate_object_meta_update(new.metadata(), old.metadata(), &mut e);
    match (old, new) {
        (Object::Deployment(o), Object::Deployment(n)) => {
            let spec = n.spec.clone().unwrap_or_default();
            validate_deployment_spec(&spec, "spec", &mut e);
            let old_sel = o.spec.as_ref().map(|s| &s.selector);
            if old_sel != Some(&spec.selector) {
                e.invalid(
                    "spec.selector",
                    json_label_selector(&spec.selector),
                    IMMUTABLE,
                );
            }
        }
        (Object::ReplicaSet(o), Object::ReplicaSet(n)) => {
            let spec = n.spec.clone().unwrap_or_default();
            validate_replica_set_spec(&spec, "spec", &mut e);
            let old_sel = o.spec.as_ref().map(|s| &s.selector);
            if old_sel != Some(&spec.selector) {
                e.invalid(
                    "spec.selector",
                    json_label_selector(&spec.selector),
                    IMMUTABLE,
                );
            }
        }
        (Object::Pod(o), Object::Pod(n)) => validate_pod_update(o, n, &mut e),
        (Object::Service(o), Object::Service(n)) => {
            // ValidateServiceUpdate: cluster IPs first, then the whole of ValidateService.
            let ip = |s: &Service| {
                s.spec
                    .as_ref()
                    .and_then(|s| s.cluster_ip.clone())
                    .unwrap_or_default()
            };
            let (old_ip, new_ip) = (ip(o), ip(n));
            if !old_ip.is_empty() && !new_ip.is_empty() && old_ip != new_ip {
                e.invalid(
                    "spec.clusterIPs[0]",
                    json_strings(&[new_ip]),
                    "may not change once set",
                );
            }
            validate_service_body(n, &mut e);
            if e.0.is_empty() {
                validate_node_port_range(n, &mut e);
            }
        }
        (_, n) => {
            // Kinds without extra update rules re-run their create rules minus metadata.name
            // (whose immutability was checked above).
            let mut create = Errs::default();
            match n {
                Object::Namespace(ns) => validate_namespace(ns, &mut create),
                Object::Node(node) => validate_node(node, &mut create),
                Object::Endpoints(ep) => validate_endpoints(ep, &mut create),
                Object::Event(ev) => validate_event(ev, &mut create),
                _ => {}
            }
            e.0.extend(
                create
                    .0
                    .into_iter()
                    .filter(|c| !c.field.starts_with("metadata.")),
            );
        }
    }
    e.finish(new)
}

// ---------------------------------------------------------------------------------------------
// Message helpers (apimachinery pkg/util/validation/validation.go)

const IMMUTABLE: &str = "field is immutable";
const IS_NEGATIVE: &str = "must be greater than or equal to 0";
const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const PERCENT_FMT: &str = "[0-9]+%";
const PERCENT_MSG: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";

/// `validation.RegexError`: the message, the examples and the regular expression.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, ex) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push_str(&format!("'{ex}', "));
    }
    s.push_str(&format!("regex used for validation is '{fmt}')"));
    s
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (`extra` adds characters allowed inside).
fn matches_label_like(s: &str, first_alpha_only: bool) -> bool {
    let b = s.as_bytes();
    let Some((&first, _)) = b.split_first() else {
        return false;
    };
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let first_ok = if first_alpha_only {
        first.is_ascii_lowercase()
    } else {
        alnum(first)
    };
    first_ok && alnum(b[b.len() - 1]) && b.iter().all(|&c| alnum(c) || c == b'-')
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn matches_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    let Some((&first, _)) = b.split_first() else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `IsDNS1123Label`.
pub fn is_dns1123_label(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !matches_label_like(v, false) {
        errs.push(regex_error(
            DNS1123_LABEL_MSG,
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errs
}

/// `IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 253 {
        errs.push(max_len_error(253));
    }
    if !v.split('.').all(|p| matches_label_like(p, false)) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `IsDNS1035Label`.
pub fn is_dns1035_label(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !matches_label_like(v, true) {
        errs.push(regex_error(
            DNS1035_LABEL_MSG,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `IsQualifiedName`: label and annotation keys, `[prefix/]name`.
pub fn is_qualified_name(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = v.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                for m in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !matches_qualified_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_MSG,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// `IsValidLabelValue`.
pub fn is_valid_label_value(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !v.is_empty() && !matches_qualified_part(v) {
        errs.push(regex_error(
            LABEL_VALUE_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `IsValidPortName` (IANA_SVC_NAME).
pub fn is_valid_port_name(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 15 {
        errs.push(max_len_error(15));
    }
    if v.is_empty()
        || !v
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned(),
        );
    }
    if !v.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_owned());
    }
    if v.contains("--") {
        errs.push("must not contain consecutive hyphens".to_owned());
    }
    if v.starts_with('-') || v.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_owned());
    }
    errs
}

/// `IsValidPortNum`.
fn is_valid_port_num(p: i64) -> Vec<String> {
    if (1..=65535).contains(&p) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// `IsValidPercent`.
fn is_valid_percent(v: &str) -> Vec<String> {
    let ok = v
        .strip_suffix('%')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
    if ok {
        Vec::new()
    } else {
        vec![regex_error(PERCENT_MSG, PERCENT_FMT, &["1%", "93%"])]
    }
}

// ---------------------------------------------------------------------------------------------
// Go value rendering (what `%q` / `%#v` print in field.Error)

/// Go's `strconv.Quote`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `json.Marshal` of a string: JSON with `<`, `>` and `&` escaped, as Go does by default.
fn json_str(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// JSON of a `map[string]string` (keys sorted, as Go's encoder sorts them; nil is `null`).
fn json_map(m: Option<&BTreeMap<String, String>>) -> String {
    match m {
        None => "null".to_owned(),
        Some(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", json_str(k), json_str(v)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

/// JSON of a `[]string`.
fn json_strings(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| json_str(s)).collect();
    format!("[{}]", items.join(","))
}

/// JSON of an `intstr.IntOrString` (its MarshalJSON: the bare int or the string).
fn json_intstr(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => json_str(s),
    }
}

/// JSON of a `metav1.LabelSelector` (both fields `omitempty`, in declaration order).
fn json_label_selector(sel: &LabelSelector) -> String {
    let mut parts = Vec::new();
    if let Some(m) = sel.match_labels.as_ref().filter(|m| !m.is_empty()) {
        parts.push(format!("\"matchLabels\":{}", json_map(Some(m))));
    }
    if let Some(list) = sel.match_expressions.as_ref().filter(|l| !l.is_empty()) {
        let items: Vec<String> = list
            .iter()
            .map(|r| {
                let mut s = format!(
                    "{{\"key\":{},\"operator\":{}",
                    json_str(&r.key),
                    json_str(&r.operator)
                );
                if let Some(v) = r.values.as_ref().filter(|v| !v.is_empty()) {
                    s.push_str(&format!(",\"values\":{}", json_strings(v)));
                }
                s.push('}');
                s
            })
            .collect();
        parts.push(format!("\"matchExpressions\":[{}]", items.join(",")));
    }
    format!("{{{}}}", parts.join(","))
}

// ---------------------------------------------------------------------------------------------
// The error list

#[derive(Default)]
struct Errs(Vec<FieldError>);

impl Errs {
    fn push(&mut self, field: &str, t: ErrorType, bad: Option<String>, detail: &str) {
        self.0.push(FieldError {
            field: field.to_owned(),
            error_type: t,
            bad_value: bad,
            detail: detail.to_owned(),
        });
    }
    fn invalid(&mut self, field: &str, bad: String, detail: &str) {
        self.push(field, ErrorType::Invalid, Some(bad), detail);
    }
    fn invalid_str(&mut self, field: &str, bad: &str, detail: &str) {
        self.invalid(field, go_quote(bad), detail);
    }
    fn required(&mut self, field: &str, detail: &str) {
        self.push(field, ErrorType::Required, None, detail);
    }
    fn forbidden(&mut self, field: &str, detail: &str) {
        self.push(field, ErrorType::Forbidden, None, detail);
    }
    fn duplicate(&mut self, field: &str, bad: String) {
        self.push(field, ErrorType::Duplicate, Some(bad), "");
    }
    /// `field.NotSupported`: the detail lists the quoted valid values.
    fn not_supported(&mut self, field: &str, bad: String, valid: &[&str]) {
        let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
        let detail = format!("supported values: {}", quoted.join(", "));
        self.push(field, ErrorType::NotSupported, Some(bad), &detail);
    }
    /// `ValidateNonnegativeField`.
    fn nonnegative(&mut self, field: &str, v: i64) {
        if v < 0 {
            self.invalid(field, v.to_string(), IS_NEGATIVE);
        }
    }
    fn finish(self, obj: &Object) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid {
                kind: obj.kind(),
                name: obj.name().to_owned(),
                causes: self.0,
            })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ObjectMeta, labels, annotations, label selectors

/// Which name rule an object kind uses (`ValidateNameFunc`).
#[derive(Clone, Copy)]
enum NameRule {
    Subdomain,
    Label,
    Dns1035,
}

impl NameRule {
    fn check(self, name: &str, prefix: bool) -> Vec<String> {
        // A generateName prefix may end in '-' (Go's maskTrailingDash).
        let masked;
        let name = if prefix && name.len() > 1 && name.ends_with('-') {
            masked = format!("{}a", &name[..name.len() - 1]);
            masked.as_str()
        } else {
            name
        };
        match self {
            NameRule::Subdomain => is_dns1123_subdomain(name),
            NameRule::Label => is_dns1123_label(name),
            NameRule::Dns1035 => is_dns1035_label(name),
        }
    }
}

/// `ValidateObjectMeta`.
fn validate_object_meta(meta: &ObjectMeta, namespaced: bool, rule: NameRule, e: &mut Errs) {
    if let Some(g) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
        for m in rule.check(g, true) {
            e.invalid_str("metadata.generateName", g, &m);
        }
    }
    match meta.name.as_deref().unwrap_or("") {
        "" => e.required("metadata.name", "name or generateName is required"),
        name => {
            for m in rule.check(name, false) {
                e.invalid_str("metadata.name", name, &m);
            }
        }
    }
    // A cluster-scoped object's namespace is cleared by the API server before validation
    // (`rest.BeforeCreate` → `EnsureObjectNamespaceMatchesRequestNamespace`), so Go's
    // "not allowed on this type" is never seen through kubectl; it is not reported here either.
    let ns = meta.namespace.as_deref().unwrap_or("");
    if namespaced {
        if ns.is_empty() {
            e.required("metadata.namespace", "");
        } else {
            for m in is_dns1123_label(ns) {
                e.invalid_str("metadata.namespace", ns, &m);
            }
        }
    }
    e.nonnegative("metadata.generation", meta.generation.unwrap_or(0));
    validate_labels(meta.labels.as_ref(), "metadata.labels", e);
    validate_annotations(meta.annotations.as_ref(), "metadata.annotations", e);
}

/// `ValidateObjectMetaUpdate` (the parts kubesim's objects can violate).
fn validate_object_meta_update(new: &ObjectMeta, old: &ObjectMeta, e: &mut Errs) {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    if s(&new.name) != s(&old.name) {
        e.invalid_str("metadata.name", &s(&new.name), IMMUTABLE);
    }
    if s(&new.namespace) != s(&old.namespace) {
        e.invalid_str("metadata.namespace", &s(&new.namespace), IMMUTABLE);
    }
    if new.uid.is_some() && s(&new.uid) != s(&old.uid) {
        e.invalid_str("metadata.uid", &s(&new.uid), IMMUTABLE);
    }
    validate_labels(new.labels.as_ref(), "metadata.labels", e);
    validate_annotations(new.annotations.as_ref(), "metadata.annotations", e);
}

/// `ValidateLabels`: each key is a qualified name, each value a label value.
fn validate_labels(labels: Option<&BTreeMap<String, String>>, path: &str, e: &mut Errs) {
    for (k, v) in labels.into_iter().flatten() {
        for m in is_qualified_name(k) {
            e.invalid_str(path, k, &m);
        }
        for m in is_valid_label_value(v) {
            e.invalid_str(path, v, &m);
        }
    }
}

/// `ValidateAnnotations` (keys only; the 256 KiB total is not checked).
fn validate_annotations(ann: Option<&BTreeMap<String, String>>, path: &str, e: &mut Errs) {
    for k in ann.into_iter().flatten().map(|(k, _)| k) {
        for m in is_qualified_name(&k.to_lowercase()) {
            e.invalid_str(path, k, &m);
        }
    }
}

/// `ValidateLabelSelector`.
fn validate_label_selector(sel: &LabelSelector, path: &str, e: &mut Errs) {
    validate_labels(sel.match_labels.as_ref(), &format!("{path}.matchLabels"), e);
    for (i, r) in sel.match_expressions.iter().flatten().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let n_values = r.values.as_ref().map_or(0, Vec::len);
        match r.operator.as_str() {
            "In" | "NotIn" => {
                if n_values == 0 {
                    e.required(
                        &format!("{p}.values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    );
                }
            }
            "Exists" | "DoesNotExist" => {
                if n_values > 0 {
                    e.forbidden(
                        &format!("{p}.values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    );
                }
            }
            op => e.invalid_str(
                &format!("{p}.operator"),
                op,
                "not a valid selector operator",
            ),
        }
        for m in is_qualified_name(&r.key) {
            e.invalid_str(&format!("{p}.key"), &r.key, &m);
        }
        for (j, v) in r.values.iter().flatten().enumerate() {
            for m in is_valid_label_value(v) {
                e.invalid_str(&format!("{p}.values[{j}]"), v, &m);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deployment and ReplicaSet (pkg/apis/apps/validation/validation.go)

fn validate_deployment(d: &Deployment, e: &mut Errs) {
    validate_object_meta(&d.metadata, true, NameRule::Subdomain, e);
    validate_deployment_spec(&d.spec.clone().unwrap_or_default(), "spec", e);
}

/// `ValidateDeploymentSpec`.
fn validate_deployment_spec(spec: &DeploymentSpec, path: &str, e: &mut Errs) {
    e.nonnegative(
        &format!("{path}.replicas"),
        i64::from(spec.replicas.unwrap_or(1)),
    );
    let selector = validate_workload_selector(&spec.selector, path, e);
    if let Some(selector) = selector {
        validate_pod_template_for_replica_set(
            &spec.template,
            selector.as_ref(),
            &format!("{path}.template"),
            e,
        );
    }
    validate_deployment_strategy(
        &spec.strategy.clone().unwrap_or_default(),
        &format!("{path}.strategy"),
        e,
    );
    let min_ready = i64::from(spec.min_ready_seconds.unwrap_or(0));
    e.nonnegative(&format!("{path}.minReadySeconds"), min_ready);
    if let Some(r) = spec.revision_history_limit {
        e.nonnegative(&format!("{path}.revisionHistoryLimit"), i64::from(r));
    }
    if let Some(p) = spec.progress_deadline_seconds {
        let field = format!("{path}.progressDeadlineSeconds");
        e.nonnegative(&field, i64::from(p));
        if i64::from(p) <= min_ready {
            e.invalid(
                &field,
                p.to_string(),
                "must be greater than minReadySeconds",
            );
        }
    }
}

/// The selector checks shared by Deployment and ReplicaSet. Returns what to match the template
/// against: `None` when the selector cannot be built (template matching is skipped, as in Go),
/// `Some(None)` for Go's nil selector (`labels.Nothing()`, which matches no template), else the
/// selector. k8s-openapi's selector is not optional, so a selector with neither matchLabels nor
/// matchExpressions stands for the nil one (`Required value`).
fn validate_workload_selector(
    sel: &LabelSelector,
    path: &str,
    e: &mut Errs,
) -> Option<Option<Selector>> {
    let field = format!("{path}.selector");
    if sel.match_labels.is_none() && sel.match_expressions.is_none() {
        e.required(&field, "");
        return Some(None);
    }
    validate_label_selector(sel, &field, e);
    let n = sel.match_labels.as_ref().map_or(0, BTreeMap::len)
        + sel.match_expressions.as_ref().map_or(0, Vec::len);
    if n == 0 {
        e.invalid(
            &field,
            json_label_selector(sel),
            "empty selector is invalid for deployment",
        );
    }
    match Selector::from_label_selector(sel) {
        Ok(s) => Some(Some(s)),
        Err(_) => {
            e.invalid(&field, json_label_selector(sel), "invalid label selector");
            None
        }
    }
}

/// `ValidatePodTemplateSpecForReplicaSet`.
fn validate_pod_template_for_replica_set(
    template: &PodTemplateSpec,
    selector: Option<&Selector>,
    path: &str,
    e: &mut Errs,
) {
    let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
    // `None` is labels.Nothing(): not empty, and matches nothing.
    if selector.is_none_or(|s| !s.is_empty()) {
        let empty = BTreeMap::new();
        if !selector.is_some_and(|s| s.matches(labels.unwrap_or(&empty))) {
            e.invalid(
                &format!("{path}.metadata.labels"),
                json_map(labels),
                "`selector` does not match template `labels`",
            );
        }
    }
    validate_pod_template_spec(template, path, e);
    let spec = template.spec.clone().unwrap_or_default();
    let policy = spec.restart_policy.as_deref().unwrap_or("");
    if policy != "Always" {
        e.not_supported(
            &format!("{path}.spec.restartPolicy"),
            go_quote(policy),
            &["Always"],
        );
    }
    if spec.active_deadline_seconds.is_some() {
        e.forbidden(
            &format!("{path}.spec.activeDeadlineSeconds"),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        );
    }
}

/// `ValidatePodTemplateSpec` (note Go's path for template labels: `template.labels`).
fn validate_pod_template_spec(template: &PodTemplateSpec, path: &str, e: &mut Errs) {
    let meta = template.metadata.clone().unwrap_or_default();
    validate_labels(meta.labels.as_ref(), &format!("{path}.labels"), e);
    validate_annotations(meta.annotations.as_ref(), &format!("{path}.annotations"), e);
    validate_pod_spec(
        &template.spec.clone().unwrap_or_default(),
        &format!("{path}.spec"),
        e,
    );
}

/// `ValidateDeploymentStrategy`.
fn validate_deployment_strategy(strategy: &DeploymentStrategy, path: &str, e: &mut Errs) {
    let t = strategy.type_.as_deref().unwrap_or("");
    match t {
        "Recreate" => {
            if strategy.rolling_update.is_some() {
                e.forbidden(
                    &format!("{path}.rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                );
            }
        }
        "RollingUpdate" => match &strategy.rolling_update {
            None => e.required(
                &format!("{path}.rollingUpdate"),
                "this should be defaulted and never be nil",
            ),
            Some(ru) => {
                let zero = IntOrString::Int(0);
                let max_unavailable = ru.max_unavailable.as_ref().unwrap_or(&zero);
                let max_surge = ru.max_surge.as_ref().unwrap_or(&zero);
                let mu_path = format!("{path}.rollingUpdate.maxUnavailable");
                validate_positive_int_or_percent(max_unavailable, &mu_path, e);
                validate_positive_int_or_percent(
                    max_surge,
                    &format!("{path}.rollingUpdate.maxSurge"),
                    e,
                );
                if int_or_percent_value(max_unavailable) == 0
                    && int_or_percent_value(max_surge) == 0
                {
                    e.invalid(
                        &mu_path,
                        json_intstr(max_unavailable),
                        "may not be 0 when `maxSurge` is 0",
                    );
                }
                if let Some(p) = percent_value(max_unavailable)
                    && p > 100
                {
                    e.invalid(
                        &mu_path,
                        json_intstr(max_unavailable),
                        "must not be greater than 100%",
                    );
                }
            }
        },
        _ => {
            // Go renders the internal apps.DeploymentStrategy as JSON; internal types have no
            // json tags, so the keys are Go field names.
            let ru = match &strategy.rolling_update {
                None => "null".to_owned(),
                Some(ru) => {
                    let zero = IntOrString::Int(0);
                    format!(
                        "{{\"MaxUnavailable\":{},\"MaxSurge\":{}}}",
                        json_intstr(ru.max_unavailable.as_ref().unwrap_or(&zero)),
                        json_intstr(ru.max_surge.as_ref().unwrap_or(&zero))
                    )
                }
            };
            e.not_supported(
                path,
                format!("{{\"Type\":{},\"RollingUpdate\":{ru}}}", json_str(t)),
                &["Recreate", "RollingUpdate"],
            );
        }
    }
}

/// `ValidatePositiveIntOrPercent`.
fn validate_positive_int_or_percent(v: &IntOrString, path: &str, e: &mut Errs) {
    match v {
        IntOrString::String(s) => {
            for m in is_valid_percent(s) {
                e.invalid(path, json_intstr(v), &m);
            }
        }
        IntOrString::Int(i) => e.nonnegative(path, i64::from(*i)),
    }
}

/// `getPercentValue`: the number of a well-formed percent string.
fn percent_value(v: &IntOrString) -> Option<i64> {
    match v {
        IntOrString::String(s) if is_valid_percent(s).is_empty() => {
            s[..s.len() - 1].parse().ok().or(Some(i64::MAX))
        }
        _ => None,
    }
}

/// `getIntOrPercentValue`: a percent's number, else `IntValue()` (which parses a string with
/// Atoi, so `"1"` is 1 and `"abc"` is 0).
fn int_or_percent_value(v: &IntOrString) -> i64 {
    if let Some(p) = percent_value(v) {
        return p;
    }
    match v {
        IntOrString::Int(i) => i64::from(*i),
        IntOrString::String(s) => s.parse::<i64>().unwrap_or(0),
    }
}

fn validate_replica_set(rs: &ReplicaSet, e: &mut Errs) {
    validate_object_meta(&rs.metadata, true, NameRule::Subdomain, e);
    validate_replica_set_spec(&rs.spec.clone().unwrap_or_default(), "spec", e);
}

/// `ValidateReplicaSetSpec`.
fn validate_replica_set_spec(
    spec: &k8s_openapi::api::apps::v1::ReplicaSetSpec,
    path: &str,
    e: &mut Errs,
) {
    e.nonnegative(
        &format!("{path}.replicas"),
        i64::from(spec.replicas.unwrap_or(1)),
    );
    e.nonnegative(
        &format!("{path}.minReadySeconds"),
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
    );
    if let Some(selector) = validate_workload_selector(&spec.selector, path, e) {
        validate_pod_template_for_replica_set(
            &spec.template.clone().unwrap_or_default(),
            selector.as_ref(),
            &format!("{path}.template"),
            e,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Pods (pkg/apis/core/validation/validation.go)

/// `validatePodMetadataAndSpec`: the template rules plus the Pod-only image whitespace check.
fn validate_pod(p: &Pod, e: &mut Errs) {
    validate_object_meta(&p.metadata, true, NameRule::Subdomain, e);
    let spec = p.spec.clone().unwrap_or_default();
    validate_pod_spec(&spec, "spec", e);
    let lists = [
        ("containers", spec.containers.as_slice()),
        (
            "initContainers",
            spec.init_containers.as_deref().unwrap_or(&[]),
        ),
    ];
    for (list, containers) in lists {
        for (i, c) in containers.iter().enumerate() {
            let image = c.image.as_deref().unwrap_or("");
            if image.len() != image.trim().len() {
                e.invalid_str(
                    &format!("spec.{list}[{i}].image"),
                    image,
                    "must not have leading or trailing whitespace",
                );
            }
        }
    }
}

/// `ValidatePodSpec`, the parts a course manifest can reach, in Go's order.
fn validate_pod_spec(spec: &PodSpec, path: &str, e: &mut Errs) {
    if spec.termination_grace_period_seconds.is_none() {
        e.required(&format!("{path}.terminationGracePeriodSeconds"), "");
    }
    validate_volumes(spec, path, e);
    validate_containers(spec.containers.as_slice(), &format!("{path}.containers"), e);
    validate_init_containers(spec, &format!("{path}.initContainers"), e);
    let policy = spec.restart_policy.as_deref().unwrap_or("");
    let rp_path = format!("{path}.restartPolicy");
    match policy {
        "Always" | "OnFailure" | "Never" => {}
        "" => e.required(&rp_path, ""),
        other => e.not_supported(&rp_path, go_quote(other), &["Always", "OnFailure", "Never"]),
    }
    let dns = spec.dns_policy.as_deref().unwrap_or("");
    let dns_path = format!("{path}.dnsPolicy");
    match dns {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => e.required(&dns_path, ""),
        other => e.not_supported(
            &dns_path,
            go_quote(other),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        ),
    }
    validate_labels(
        spec.node_selector.as_ref(),
        &format!("{path}.nodeSelector"),
        e,
    );
    if let Some(sa) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        for m in is_dns1123_subdomain(sa) {
            e.invalid_str(&format!("{path}.serviceAccountName"), sa, &m);
        }
    }
    if let Some(node) = spec.node_name.as_deref().filter(|s| !s.is_empty()) {
        for m in is_dns1123_subdomain(node) {
            e.invalid_str(&format!("{path}.nodeName"), node, &m);
        }
    }
    if let Some(ads) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        e.invalid(
            &format!("{path}.activeDeadlineSeconds"),
            ads.to_string(),
            &inclusive_range_error(1, i64::from(i32::MAX)),
        );
    }
    if let Some(h) = spec.hostname.as_deref().filter(|s| !s.is_empty()) {
        for m in is_dns1123_label(h) {
            e.invalid_str(&format!("{path}.hostname"), h, &m);
        }
    }
    if let Some(s) = spec.subdomain.as_deref().filter(|s| !s.is_empty()) {
        for m in is_dns1123_label(s) {
            e.invalid_str(&format!("{path}.subdomain"), s, &m);
        }
    }
}

/// `validateInitContainers`: names are unique across init and regular containers, and probes
/// and lifecycle hooks are only allowed on restartable (sidecar) init containers.
fn validate_init_containers(spec: &PodSpec, path: &str, e: &mut Errs) {
    let mut names: BTreeSet<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        let p = format!("{path}[{i}]");
        validate_container_common(c, &p, e);
        let mut restart_always = false;
        if let Some(rp) = c.restart_policy.as_deref() {
            if rp != "Always" {
                e.not_supported(&format!("{p}.restartPolicy"), go_quote(rp), &["Always"]);
            }
            restart_always = rp == "Always";
        }
        if names.contains(c.name.as_str()) {
            e.duplicate(&format!("{p}.name"), go_quote(&c.name));
        } else if !c.name.is_empty() {
            names.insert(c.name.as_str());
        }
        if restart_always {
            validate_lifecycle(c, &p, e);
            validate_probes(c, &p, e);
        } else {
            const NOT_SIDECAR: &str =
                "may not be set for init containers without restartPolicy=Always";
            if c.lifecycle.is_some() {
                e.forbidden(&format!("{p}.lifecycle"), NOT_SIDECAR);
            }
            if c.liveness_probe.is_some() {
                e.forbidden(&format!("{p}.livenessProbe"), NOT_SIDECAR);
            }
            if c.readiness_probe.is_some() {
                e.forbidden(&format!("{p}.readinessProbe"), NOT_SIDECAR);
            }
            if c.startup_probe.is_some() {
                e.forbidden(&format!("{p}.startupProbe"), NOT_SIDECAR);
            }
        }
    }
}

/// `validateLifecycle`: each hook needs exactly one handler.
fn validate_lifecycle(c: &Container, path: &str, e: &mut Errs) {
    let Some(l) = &c.lifecycle else { return };
    for (name, hook) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
        let Some(h) = hook else { continue };
        let probe_like = Probe {
            exec: h.exec.clone(),
            http_get: h.http_get.clone(),
            tcp_socket: h.tcp_socket.clone(),
            ..Probe::default()
        };
        validate_handler(
            &probe_like,
            h.sleep.is_some(),
            &format!("{path}.lifecycle.{name}"),
            e,
        );
    }
}

/// The three probes of a container, in Go's order.
fn validate_probes(c: &Container, p: &str, e: &mut Errs) {
    if let Some(pr) = &c.liveness_probe {
        let path = format!("{p}.livenessProbe");
        validate_probe(pr, &path, e);
        check_success_threshold_one(pr, &path, e);
    }
    if let Some(pr) = &c.readiness_probe {
        let path = format!("{p}.readinessProbe");
        validate_probe(pr, &path, e);
        if let Some(t) = pr.termination_grace_period_seconds {
            e.invalid(
                &format!("{path}.terminationGracePeriodSeconds"),
                t.to_string(),
                "must not be set for readinessProbes",
            );
        }
    }
    if let Some(pr) = &c.startup_probe {
        let path = format!("{p}.startupProbe");
        validate_probe(pr, &path, e);
        check_success_threshold_one(pr, &path, e);
    }
}

/// `ValidateVolumes`: names (required, DNS-1123 label, unique).
fn validate_volumes(spec: &PodSpec, path: &str, e: &mut Errs) {
    let mut seen = BTreeSet::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let p = format!("{path}.volumes[{i}].name");
        if v.name.is_empty() {
            e.required(&p, "");
        } else {
            for m in is_dns1123_label(&v.name) {
                e.invalid_str(&p, &v.name, &m);
            }
            if !seen.insert(v.name.as_str()) {
                e.duplicate(&p, go_quote(&v.name));
            }
        }
    }
}

/// `validateContainers`.
fn validate_containers(containers: &[Container], path: &str, e: &mut Errs) {
    if containers.is_empty() {
        e.required(path, "");
        return;
    }
    let mut names = BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = format!("{path}[{i}]");
        validate_container_common(c, &p, e);
        if !names.insert(c.name.as_str()) {
            e.duplicate(&format!("{p}.name"), go_quote(&c.name));
        }
        validate_lifecycle(c, &p, e);
        validate_probes(c, &p, e);
        if c.restart_policy.is_some() {
            e.forbidden(
                &format!("{p}.restartPolicy"),
                "may not be set for non-init containers",
            );
        }
    }
}

fn check_success_threshold_one(probe: &Probe, path: &str, e: &mut Errs) {
    let st = probe.success_threshold.unwrap_or(1);
    if st != 1 {
        e.invalid(
            &format!("{path}.successThreshold"),
            st.to_string(),
            "must be 1",
        );
    }
}

/// `validateContainerCommon`.
fn validate_container_common(c: &Container, path: &str, e: &mut Errs) {
    let name_path = format!("{path}.name");
    if c.name.is_empty() {
        e.required(&name_path, "");
    } else {
        for m in is_dns1123_label(&c.name) {
            e.invalid_str(&name_path, &c.name, &m);
        }
    }
    if c.image.as_deref().unwrap_or("").is_empty() {
        e.required(&format!("{path}.image"), "");
    }
    let tmp = format!("{path}.terminationMessagePolicy");
    match c.termination_message_policy.as_deref().unwrap_or("") {
        "File" | "FallbackToLogsOnError" => {}
        "" => e.required(&tmp, ""),
        other => e.not_supported(&tmp, go_quote(other), &["File", "FallbackToLogsOnError"]),
    }
    validate_container_ports(c, &format!("{path}.ports"), e);
    for (i, env) in c.env.iter().flatten().enumerate() {
        if env.name.is_empty() {
            e.required(&format!("{path}.env[{i}].name"), "");
        }
    }
    let pp = format!("{path}.imagePullPolicy");
    match c.image_pull_policy.as_deref().unwrap_or("") {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => e.required(&pp, ""),
        other => e.not_supported(&pp, go_quote(other), &["Always", "IfNotPresent", "Never"]),
    }
    if let Some(r) = &c.resources {
        validate_resources(r, &format!("{path}.resources"), e);
    }
}

/// `validateContainerPorts`.
fn validate_container_ports(c: &Container, path: &str, e: &mut Errs) {
    let mut names = BTreeSet::new();
    for (i, port) in c.ports.iter().flatten().enumerate() {
        let p = format!("{path}[{i}]");
        if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    e.invalid_str(&format!("{p}.name"), name, &m);
                }
            } else if !names.insert(name) {
                e.duplicate(&format!("{p}.name"), go_quote(name));
            }
        }
        if port.container_port == 0 {
            e.required(&format!("{p}.containerPort"), "");
        } else {
            for m in is_valid_port_num(i64::from(port.container_port)) {
                e.invalid(
                    &format!("{p}.containerPort"),
                    port.container_port.to_string(),
                    &m,
                );
            }
        }
        if let Some(hp) = port.host_port.filter(|h| *h != 0) {
            for m in is_valid_port_num(i64::from(hp)) {
                e.invalid(&format!("{p}.hostPort"), hp.to_string(), &m);
            }
        }
        validate_protocol(port.protocol.as_deref(), &format!("{p}.protocol"), e);
    }
}

fn validate_protocol(proto: Option<&str>, path: &str, e: &mut Errs) {
    match proto.unwrap_or("") {
        "" => e.required(path, ""),
        "TCP" | "UDP" | "SCTP" => {}
        other => e.not_supported(path, go_quote(other), &["SCTP", "TCP", "UDP"]),
    }
}

/// `validateHandler`: exactly one of exec, httpGet, tcpSocket, grpc (and sleep, for hooks).
fn validate_handler(probe: &Probe, has_sleep: bool, path: &str, e: &mut Errs) {
    let mut handlers = 0;
    let mut handler = |e: &mut Errs, name: &str| -> bool {
        if handlers > 0 {
            e.forbidden(
                &format!("{path}.{name}"),
                "may not specify more than 1 handler type",
            );
            false
        } else {
            handlers += 1;
            true
        }
    };
    if let Some(exec) = &probe.exec
        && handler(e, "exec")
        && exec.command.as_ref().is_none_or(Vec::is_empty)
    {
        e.required(&format!("{path}.exec.command"), "");
    }
    if let Some(http) = &probe.http_get
        && handler(e, "httpGet")
    {
        let p = format!("{path}.httpGet");
        if http.path.as_deref().unwrap_or("").is_empty() {
            e.required(&format!("{p}.path"), "");
        }
        validate_port_num_or_name(&http.port, &format!("{p}.port"), e);
        let scheme = http.scheme.as_deref().unwrap_or("");
        if scheme != "HTTP" && scheme != "HTTPS" {
            e.not_supported(&format!("{p}.scheme"), go_quote(scheme), &["HTTP", "HTTPS"]);
        }
    }
    if let Some(tcp) = &probe.tcp_socket
        && handler(e, "tcpSocket")
    {
        validate_port_num_or_name(&tcp.port, &format!("{path}.tcpSocket.port"), e);
    }
    if let Some(grpc) = &probe.grpc
        && handler(e, "grpc")
    {
        validate_port_num_or_name(
            &IntOrString::Int(grpc.port),
            &format!("{path}.grpc.port"),
            e,
        );
    }
    // A sleep action's own bounds depend on the grace period; only its count is checked here.
    if has_sleep {
        handler(e, "sleep");
    }
    if handlers == 0 {
        e.required(path, "must specify a handler type");
    }
}

/// `validateProbe`.
fn validate_probe(probe: &Probe, path: &str, e: &mut Errs) {
    validate_handler(probe, false, path, e);
    for (field, v) in [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ] {
        e.nonnegative(&format!("{path}.{field}"), i64::from(v.unwrap_or(0)));
    }
    if let Some(t) = probe.termination_grace_period_seconds
        && t <= 0
    {
        e.invalid(
            &format!("{path}.terminationGracePeriodSeconds"),
            t.to_string(),
            "must be greater than 0",
        );
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

/// `ValidateResourceRequirements` for cpu, memory and the other standard resources.
fn validate_resources(r: &ResourceRequirements, path: &str, e: &mut Errs) {
    let lim_path = format!("{path}.limits");
    let req_path = format!("{path}.requests");
    for (name, q) in r.limits.iter().flatten() {
        let p = format!("{lim_path}[{name}]");
        validate_resource_name(name, &p, e);
        validate_quantity_value(&q.0, &p, e);
    }
    for (name, q) in r.requests.iter().flatten() {
        let p = format!("{req_path}[{name}]");
        validate_resource_name(name, &p, e);
        validate_quantity_value(&q.0, &p, e);
        let limit = r.limits.as_ref().and_then(|l| l.get(name));
        if let (Some(limit), Ok(req_q)) = (limit, parse_quantity(q.0.trim()))
            && let Ok(lim_q) = parse_quantity(limit.0.trim())
            && req_q > lim_q
        {
            // Both quantities print in Go's canonical form (`Quantity.String()`).
            e.invalid(
                &req_path,
                go_quote(&req_q.to_string()),
                &format!("must be less than or equal to {name} limit of {lim_q}"),
            );
        }
    }
}

fn validate_resource_name(name: &str, path: &str, e: &mut Errs) {
    let standard =
        matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-");
    if !name.contains('/') && !standard {
        e.invalid_str(path, name, "must be a standard resource for containers");
    }
}

/// `ValidateResourceQuantityValue`. A quantity that does not parse never gets here in Kubernetes
/// (it fails to decode; see `decode`), but objects built in code can carry one.
fn validate_quantity_value(q: &str, path: &str, e: &mut Errs) {
    match parse_quantity(q.trim()) {
        Ok(v) if v.is_negative() => e.invalid_str(path, &v.to_string(), IS_NEGATIVE),
        Ok(_) => {}
        Err(err) => e.invalid_str(path, q, &err.to_string()),
    }
}

/// `ValidatePodUpdate`: only images, activeDeadlineSeconds, tolerations (additions) and
/// terminationGracePeriodSeconds may change; labels and annotations are metadata.
fn validate_pod_update(old: &Pod, new: &Pod, e: &mut Errs) {
    let new_spec = new.spec.clone().unwrap_or_default();
    validate_pod_spec(&new_spec, "spec", e);
    let mut old_spec = old.spec.clone().unwrap_or_default();
    // Copy the mutable fields from new to old; anything else that differs is forbidden.
    for (o, n) in old_spec.containers.iter_mut().zip(&new_spec.containers) {
        o.image.clone_from(&n.image);
    }
    if let (Some(o), Some(n)) = (old_spec.init_containers.as_mut(), &new_spec.init_containers) {
        for (o, n) in o.iter_mut().zip(n) {
            o.image.clone_from(&n.image);
        }
    }
    old_spec.active_deadline_seconds = new_spec.active_deadline_seconds;
    old_spec.tolerations.clone_from(&new_spec.tolerations);
    old_spec.termination_grace_period_seconds = new_spec.termination_grace_period_seconds;
    if old_spec != new_spec {
        e.forbidden(
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`,\
             `spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` \
             (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` \
             (allow it to be set to 1 if it was previously negative)",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Service, Namespace, Node, Endpoints, Event

fn validate_service(s: &Service, e: &mut Errs) {
    validate_object_meta(&s.metadata, true, NameRule::Dns1035, e);
    validate_service_body(s, e);
    if e.0.is_empty() {
        validate_node_port_range(s, e);
    }
}

/// `ValidateService` after ObjectMeta.
fn validate_service_body(s: &Service, e: &mut Errs) {
    let spec = s.spec.clone().unwrap_or_default();
    let ports = spec.ports.as_deref().unwrap_or(&[]);
    let t = spec.type_.as_deref().unwrap_or("");
    let headless = spec.cluster_ip.as_deref() == Some("None");
    if ports.is_empty() && !headless && t != "ExternalName" {
        e.required("spec.ports", "");
    }
    if t == "ExternalName" {
        let cname = spec.external_name.as_deref().unwrap_or("");
        let cname = cname.strip_suffix('.').unwrap_or(cname);
        if cname.is_empty() {
            e.required("spec.externalName", "");
        } else {
            for m in is_dns1123_subdomain(cname) {
                e.invalid_str("spec.externalName", cname, &m);
            }
        }
    }
    let mut names = BTreeSet::new();
    for (i, sp) in ports.iter().enumerate() {
        let p = format!("spec.ports[{i}]");
        let name = sp.name.as_deref().unwrap_or("");
        if ports.len() > 1 && name.is_empty() {
            e.required(&format!("{p}.name"), "");
        } else if !name.is_empty() {
            for m in is_dns1123_label(name) {
                e.invalid_str(&format!("{p}.name"), name, &m);
            }
            if !names.insert(name) {
                e.duplicate(&format!("{p}.name"), go_quote(name));
            }
        }
        for m in is_valid_port_num(i64::from(sp.port)) {
            e.invalid(&format!("{p}.port"), sp.port.to_string(), &m);
        }
        validate_protocol(sp.protocol.as_deref(), &format!("{p}.protocol"), e);
        let target = sp.target_port.clone().unwrap_or(IntOrString::Int(0));
        validate_port_num_or_name(&target, &format!("{p}.targetPort"), e);
        if let Some(ap) = &sp.app_protocol {
            for m in is_qualified_name(ap) {
                e.invalid_str(&format!("{p}.appProtocol"), ap, &m);
            }
        }
    }
    validate_labels(spec.selector.as_ref(), "spec.selector", e);
    match spec.session_affinity.as_deref().unwrap_or("") {
        "" => e.required("spec.sessionAffinity", ""),
        "ClientIP" | "None" => {}
        other => e.not_supported(
            "spec.sessionAffinity",
            go_quote(other),
            &["ClientIP", "None"],
        ),
    }
    match t {
        "" => e.required("spec.type", ""),
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName" => {}
        other => e.not_supported(
            "spec.type",
            go_quote(other),
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        ),
    }
    if t == "ClusterIP" {
        for (i, sp) in ports.iter().enumerate() {
            if sp.node_port.unwrap_or(0) != 0 {
                e.forbidden(
                    &format!("spec.ports[{i}].nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                );
            }
        }
    }
    let mut node_ports = BTreeSet::new();
    for (i, sp) in ports.iter().enumerate() {
        let np = sp.node_port.unwrap_or(0);
        if np != 0 && !node_ports.insert((sp.protocol.clone().unwrap_or_default(), np)) {
            e.duplicate(&format!("spec.ports[{i}].nodePort"), np.to_string());
        }
    }
    let mut seen = BTreeSet::new();
    for (i, sp) in ports.iter().enumerate() {
        let proto = sp.protocol.clone().unwrap_or_default();
        if !seen.insert((proto.clone(), sp.port)) {
            e.duplicate(
                &format!("spec.ports[{i}]"),
                format!(
                    "{{\"Name\":\"\",\"Protocol\":{},\"AppProtocol\":null,\"Port\":{},\"TargetPort\":0,\"NodePort\":0}}",
                    json_str(&proto),
                    sp.port
                ),
            );
        }
    }
    let externally_accessible = t == "LoadBalancer"
        || t == "NodePort"
        || (t == "ClusterIP" && spec.external_ips.as_ref().is_some_and(|v| !v.is_empty()));
    let etp = spec.external_traffic_policy.as_deref().unwrap_or("");
    if !externally_accessible {
        if !etp.is_empty() {
            e.invalid_str(
                "spec.externalTrafficPolicy",
                etp,
                "may only be set for externally-accessible services",
            );
        }
    } else if etp.is_empty() {
        e.required("spec.externalTrafficPolicy", "");
    } else if etp != "Cluster" && etp != "Local" {
        e.not_supported(
            "spec.externalTrafficPolicy",
            go_quote(etp),
            &["Cluster", "Local"],
        );
    }
    match spec.internal_traffic_policy.as_deref() {
        None if matches!(t, "NodePort" | "LoadBalancer" | "ClusterIP") => {
            e.required("spec.internalTrafficPolicy", "");
        }
        Some(itp) if itp != "Cluster" && itp != "Local" => {
            e.not_supported(
                "spec.internalTrafficPolicy",
                go_quote(itp),
                &["Cluster", "Local"],
            );
        }
        _ => {}
    }
}

/// The node-port allocator's range check, which runs in the registry after validation passed
/// and reports through its own Invalid error.
fn validate_node_port_range(s: &Service, e: &mut Errs) {
    let ports = s
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[]);
    for (i, sp) in ports.iter().enumerate() {
        let np = sp.node_port.unwrap_or(0);
        if np != 0 && !(30000..=32767).contains(&np) {
            e.invalid(
                &format!("spec.ports[{i}].nodePort"),
                np.to_string(),
                "provided port is not in the valid range. The range of valid ports is 30000-32767",
            );
        }
    }
}

fn validate_namespace(ns: &Namespace, e: &mut Errs) {
    validate_object_meta(&ns.metadata, false, NameRule::Label, e);
}

fn validate_node(n: &Node, e: &mut Errs) {
    validate_object_meta(&n.metadata, false, NameRule::Subdomain, e);
}

/// `ValidateEndpoints`: metadata, then `validateEndpointSubsets`.
fn validate_endpoints(ep: &Endpoints, e: &mut Errs) {
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

fn validate_event(ev: &Event, e: &mut Errs) {
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

#[cfg(test)]
mod tests {
    //! Named cases ported from `pkg/apis/apps/validation/validation_test.go`
    //! (`TestValidateDeployment`, `TestValidateRollingUpdate…`, `TestValidateReplicaSet`),
    //! `pkg/apis/core/validation/validation_test.go` (`TestValidateContainers`,
    //! `TestValidateProbe`, `TestValidateResourceRequirements`, `TestValidateService`) and
    //! apimachinery `util/validation/validation_test.go` (`TestIsDNS1123Label`,
    //! `TestIsQualifiedName`, `TestIsValidLabelValue`, `TestIsValidPortName`).
    use super::*;
    use crate::api::decode::parse_manifests;
    use crate::api::defaults::set_defaults;

    use crate::api::fixtures::COURSE;

    /// Decodes, defaults and validates `yaml`; returns the rendered causes (empty when valid).
    fn check(yaml: &str) -> Vec<String> {
        let docs = parse_manifests(yaml).unwrap_or_else(|e| panic!("decode failed: {e}"));
        let mut out = Vec::new();
        for d in docs {
            let mut obj = d.object;
            set_defaults(&mut obj);
            if let Err(inv) = validate(&obj) {
                out.extend(inv.causes.iter().map(ToString::to_string));
            }
        }
        out
    }

    fn course_with(from: &str, to: &str) -> String {
        assert!(COURSE.contains(from), "fixture lacks {from:?}");
        COURSE.replacen(from, to, 1)
    }

    fn invalid_of(yaml: &str) -> Invalid {
        let mut obj = parse_manifests(yaml).expect("decodes").remove(0).object;
        set_defaults(&mut obj);
        validate(&obj).expect_err("should be invalid")
    }

    #[test]
    fn course_manifest_is_valid() {
        assert_eq!(check(COURSE), Vec::<String>::new());
    }

    #[test]
    fn course_manifest_recreate_is_valid() {
        let y = course_with(
            "    type: RollingUpdate\n    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}\n",
            "    type: Recreate\n",
        );
        assert_eq!(check(&y), Vec::<String>::new());
        let y = course_with(
            "  strategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}\n",
            "  strategy: {type: Recreate}\n",
        );
        assert_eq!(check(&y), Vec::<String>::new());
    }

    #[test]
    fn other_kinds_are_valid() {
        let y = "\
apiVersion: v1
kind: Namespace
metadata: {name: live-coding}
---
apiVersion: v1
kind: Service
metadata: {name: credit-scoring-api, namespace: live-coding}
spec:
  type: NodePort
  selector: {app: rest-api}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
---
apiVersion: v1
kind: Pod
metadata: {name: bare, namespace: live-coding}
spec:
  containers: [{name: c, image: nginx, resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: '1', memory: 128Mi}}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: live-coding}
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
---
apiVersion: v1
kind: Endpoints
metadata: {name: credit-scoring-api, namespace: live-coding}
subsets: [{addresses: [{ip: 10.0.0.1}], ports: [{port: 8080}]}]
";
        assert_eq!(check(y), Vec::<String>::new());
    }

    #[test]
    fn negative_replicas() {
        assert_eq!(
            check(&course_with("replicas: 10", "replicas: -1")),
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
    }

    #[test]
    fn both_zero_surge_and_unavailable() {
        assert_eq!(
            check(&course_with(
                "{maxSurge: 2, maxUnavailable: 0}",
                "{maxSurge: 0, maxUnavailable: 0}"
            )),
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
            ]
        );
        // "0%" counts as 0 too.
        assert_eq!(
            check(&course_with(
                "{maxSurge: 2, maxUnavailable: 0}",
                "{maxSurge: '0%', maxUnavailable: 0}"
            ))
            .len(),
            1
        );
    }

    #[test]
    fn rolling_update_value_cases() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "surge_one_unavailable_one_percent",
                "{maxSurge: 0, maxUnavailable: '1%'}",
                &[],
            ),
            (
                "surge_200_percent_has_no_cap",
                "{maxSurge: '200%', maxUnavailable: 0}",
                &[],
            ),
            (
                "negative_surge",
                "{maxSurge: -1, maxUnavailable: 1}",
                &[
                    "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0",
                ],
            ),
            (
                "string_without_percent",
                "{maxSurge: '1', maxUnavailable: 1}",
                &[
                    "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"1\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                ],
            ),
            (
                "unavailable_over_100_percent",
                "{maxSurge: 1, maxUnavailable: '120%'}",
                &[
                    "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"120%\": must not be greater than 100%",
                ],
            ),
        ];
        for (name, ru, want) in cases {
            let got = check(&course_with("{maxSurge: 2, maxUnavailable: 0}", ru));
            assert_eq!(got, *want, "case {name}");
        }
    }

    #[test]
    fn recreate_with_rolling_update_is_forbidden() {
        assert_eq!(
            check(&course_with("type: RollingUpdate", "type: Recreate")),
            [
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
            ]
        );
    }

    #[test]
    fn unknown_strategy_type() {
        let y = course_with(
            "    type: RollingUpdate\n    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}\n",
            "    type: BlueGreen\n",
        );
        assert_eq!(
            check(&y),
            [
                "spec.strategy: Unsupported value: {\"Type\":\"BlueGreen\",\"RollingUpdate\":null}: supported values: \"Recreate\", \"RollingUpdate\""
            ]
        );
    }

    #[test]
    fn selector_does_not_match_template() {
        let y = course_with(
            "    matchLabels: {phase: live-coding, app: rest-api}",
            "    matchLabels: {app: other}",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.metadata.labels: Invalid value: {\"app\":\"rest-api\",\"phase\":\"live-coding\"}: `selector` does not match template `labels`"
            ]
        );
    }

    #[test]
    fn missing_selector() {
        let y = course_with(
            "  selector:\n    matchLabels: {phase: live-coding, app: rest-api}\n",
            "",
        );
        assert_eq!(
            check(&y),
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: {\"app\":\"rest-api\",\"phase\":\"live-coding\"}: `selector` does not match template `labels`",
            ]
        );
    }

    #[test]
    fn empty_match_labels() {
        let y = course_with(
            "    matchLabels: {phase: live-coding, app: rest-api}",
            "    matchLabels: {}",
        );
        assert_eq!(
            check(&y),
            ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"]
        );
    }

    #[test]
    fn restart_policy_never_in_deployment() {
        let y = course_with(
            "    spec:\n      containers:",
            "    spec:\n      restartPolicy: Never\n      containers:",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
            ]
        );
    }

    #[test]
    fn bad_name_and_message_rendering() {
        let inv = invalid_of(&course_with(
            "name: credit-scoring-api\n  namespace",
            "name: Bad_Name\n  namespace",
        ));
        assert_eq!(inv.kind, "Deployment");
        assert_eq!(
            inv.to_string(),
            "The Deployment \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
    }

    #[test]
    fn several_causes_render_as_a_list() {
        let y = course_with("replicas: 10", "replicas: -1").replace(
            "{maxSurge: 2, maxUnavailable: 0}",
            "{maxSurge: 0, maxUnavailable: 0}",
        );
        let inv = invalid_of(&y);
        assert_eq!(
            inv.to_string(),
            "The Deployment \"credit-scoring-api\" is invalid: \n\
             * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n\
             * spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
        );
        assert!(inv.status_message().starts_with(
            "Deployment.apps \"credit-scoring-api\" is invalid: [spec.replicas: Invalid value: -1"
        ));
        assert_eq!(
            inv.causes[0].body(),
            "Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(inv.causes[0].error_type.cause_type(), "FieldValueInvalid");
    }

    #[test]
    fn progress_deadline_and_friends() {
        let y = course_with(
            "replicas: 10",
            "replicas: 1\n  minReadySeconds: 600\n  revisionHistoryLimit: -1",
        );
        assert_eq!(
            check(&y),
            [
                "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
            ]
        );
    }

    #[test]
    fn container_rules() {
        let y = course_with(
            "        - name: api\n          image: registry.local/credit-scoring-api:single\n",
            "        - name: API\n        - name: API\n          image: x\n",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].name: Invalid value: \"API\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.template.spec.containers[0].image: Required value",
                "spec.template.spec.containers[1].name: Invalid value: \"API\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.template.spec.containers[1].name: Duplicate value: \"API\"",
            ]
        );
        let y = course_with("containerPort: 8080", "containerPort: 70000, name: HTTP");
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].ports[0].name: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "spec.template.spec.containers[0].ports[0].name: Invalid value: \"HTTP\": must contain at least one letter (a-z)",
                "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            ]
        );
        let head = COURSE
            .split("      containers:\n")
            .next()
            .unwrap_or_default();
        let y = format!("{head}      containers: []\n");
        assert_eq!(check(&y), ["spec.template.spec.containers: Required value"]);
    }

    #[test]
    fn probe_rules() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "no_handler",
                "httpGet: {port: 8080, path: /}",
                &[
                    "spec.template.spec.containers[0].readinessProbe: Required value: must specify a handler type",
                ],
            ),
            (
                "two_handlers",
                "httpGet: {port: 8080, path: /}\n            tcpSocket: {port: 8080}",
                &[
                    "spec.template.spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
                ],
            ),
            (
                "negative_period",
                "httpGet: {port: 8080, path: /}\n            initialDelaySeconds: -3",
                &[
                    "spec.template.spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -3: must be greater than or equal to 0",
                ],
            ),
            (
                "port_out_of_range",
                "httpGet: {port: 0, path: /}",
                &[
                    "spec.template.spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
                ],
            ),
        ];
        for (name, handler, want) in cases {
            let h = if *name == "no_handler" {
                "initialDelaySeconds: 1".to_owned()
            } else {
                (*handler).to_owned()
            };
            let y = course_with("httpGet: {port: 8080, path: /}", &h);
            assert_eq!(check(&y), *want, "case {name}");
        }
        let y = course_with("readinessProbe:", "livenessProbe:")
            .replace("successThreshold: 1", "successThreshold: 2");
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"
            ]
        );
    }

    #[test]
    fn resources_requests_over_limits() {
        let y = course_with(
            "ports: [{containerPort: 8080}]",
            "ports: [{containerPort: 8080}]\n          resources: {requests: {cpu: '2', memory: 1Gi}, limits: {cpu: 0.5, memory: 1024Mi}}",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 500m"
            ]
        );
        let y = course_with(
            "ports: [{containerPort: 8080}]",
            "ports: [{containerPort: 8080}]\n          resources: {requests: {gpu: '1', cpu: '-1'}}",
        );
        assert_eq!(
            check(&y),
            [
                "spec.template.spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                "spec.template.spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
            ]
        );
    }

    #[test]
    fn bad_labels() {
        let y = course_with(
            "labels: {phase: live-coding, app: rest-api}\nspec",
            "labels: {'a/b/c': x, ok: -bad}\nspec",
        );
        assert_eq!(
            check(&y),
            [
                "metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                "metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ]
        );
    }

    #[test]
    fn service_rules() {
        let y = "\
apiVersion: v1
kind: Service
metadata: {name: 1svc, namespace: default}
spec:
  type: Fancy
  ports: [{port: 0, nodePort: 80}, {port: 0, protocol: HTTP}]
";
        assert_eq!(
            check(y),
            [
                "metadata.name: Invalid value: \"1svc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
                "spec.ports[0].name: Required value",
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].name: Required value",
                "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.type: Unsupported value: \"Fancy\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
            ]
        );
        let y = "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: d}, spec: {type: NodePort, ports: [{port: 80, nodePort: 80}]}}";
        assert_eq!(
            check(y),
            [
                "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
            ]
        );
        let y = "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: d}, spec: {ports: [{port: 80, nodePort: 30001}, {name: b, port: 80}], sessionAffinity: Sticky}}";
        assert_eq!(
            check(y),
            [
                "spec.ports[0].name: Required value",
                "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"",
                "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
                "spec.ports[1]: Duplicate value: {\"Name\":\"\",\"Protocol\":\"TCP\",\"AppProtocol\":null,\"Port\":80,\"TargetPort\":0,\"NodePort\":0}",
            ]
        );
        let y = "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: d}, spec: {}}";
        assert_eq!(check(y), ["spec.ports: Required value"]);
    }

    #[test]
    fn namespace_and_node_rules() {
        assert_eq!(
            check("{apiVersion: v1, kind: Namespace, metadata: {name: a.b}}"),
            [
                "metadata.name: Invalid value: \"a.b\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        assert_eq!(
            check("{apiVersion: v1, kind: Namespace, metadata: {namespace: x}}"),
            ["metadata.name: Required value: name or generateName is required"]
        );
        assert_eq!(
            check("{apiVersion: v1, kind: Node, metadata: {name: node.a}}"),
            Vec::<String>::new()
        );
        assert_eq!(
            check(
                "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: i}]}}"
            ),
            ["metadata.namespace: Required value"]
        );
    }

    #[test]
    fn update_rules() {
        let load = |y: &str| {
            let mut o = parse_manifests(y).expect("decodes").remove(0).object;
            set_defaults(&mut o);
            o
        };
        let old = load(COURSE);
        let new = load(&course_with(
            "image: registry.local/credit-scoring-api:single",
            "image: x:2",
        ));
        assert_eq!(validate_update(&old, &new), Ok(()));
        let moved = load(&course_with(
            "    matchLabels: {phase: live-coding, app: rest-api}",
            "    matchLabels: {app: rest-api}",
        ));
        let err = validate_update(&old, &moved).expect_err("selector is immutable");
        assert_eq!(
            err.causes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"rest-api\"}}: field is immutable"
            ]
        );
        let pod = "{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: d}, spec: {containers: [{name: c, image: i}]}}";
        let old = load(pod);
        assert_eq!(
            validate_update(&old, &load(&pod.replace("image: i", "image: j"))),
            Ok(())
        );
        let err = validate_update(&old, &load(&pod.replace("name: c", "name: d")))
            .expect_err("forbidden");
        assert_eq!(err.causes[0].field, "spec");
        assert_eq!(err.causes[0].error_type, ErrorType::Forbidden);
        let err =
            validate_update(&old, &load(&pod.replace("name: p", "name: q"))).expect_err("rename");
        assert_eq!(
            err.causes[0].to_string(),
            "metadata.name: Invalid value: \"q\": field is immutable"
        );
        let svc = "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: d}, spec: {clusterIP: 10.0.0.1, ports: [{port: 80}]}}";
        let err = validate_update(&load(svc), &load(&svc.replace("10.0.0.1", "10.0.0.2")))
            .expect_err("ip");
        assert_eq!(
            err.causes[0].to_string(),
            "spec.clusterIPs[0]: Invalid value: [\"10.0.0.2\"]: may not change once set"
        );
    }

    /// `TestValidateReplicaSet` error cases.
    #[test]
    fn replica_set_rules() {
        let rs = |spec: &str| {
            format!(
                "{{apiVersion: apps/v1, kind: ReplicaSet, metadata: {{name: rs, namespace: d}}, spec: {spec}}}"
            )
        };
        let tmpl =
            "template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}";
        assert_eq!(
            check(&rs(&format!(
                "{{selector: {{matchLabels: {{a: b}}}}, {tmpl}}}"
            ))),
            Vec::<String>::new()
        );
        assert_eq!(
            check(&rs(&format!(
                "{{replicas: -1, minReadySeconds: -1, selector: {{matchLabels: {{a: c}}}}, {tmpl}}}"
            ))),
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: {\"a\":\"b\"}: `selector` does not match template `labels`",
            ]
        );
        assert_eq!(
            check(&rs(&format!(
                "{{selector: {{matchExpressions: [{{key: a, operator: In}}, {{key: b, operator: Exists, values: [x]}}, {{key: c, operator: Bad}}]}}, {tmpl}}}"
            ))),
            [
                "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                "spec.selector.matchExpressions[2].operator: Invalid value: \"Bad\": not a valid selector operator",
                "spec.selector: Invalid value: {\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"},{\"key\":\"b\",\"operator\":\"Exists\",\"values\":[\"x\"]},{\"key\":\"c\",\"operator\":\"Bad\"}]}: invalid label selector",
            ]
        );
    }

    #[test]
    fn bare_pod_rules() {
        let pod = |spec: &str| {
            format!(
                "{{apiVersion: v1, kind: Pod, metadata: {{name: p, namespace: d}}, spec: {spec}}}"
            )
        };
        assert_eq!(
            check(&pod(
                "{restartPolicy: Never, containers: [{name: c, image: i}]}"
            )),
            Vec::<String>::new()
        );
        assert_eq!(
            check(&pod(
                "{restartPolicy: Sometimes, dnsPolicy: Google, containers: [{name: c, image: ' i', imagePullPolicy: Sometimes}]}"
            )),
            [
                "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
                "spec.dnsPolicy: Unsupported value: \"Google\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
                "spec.containers[0].image: Invalid value: \" i\": must not have leading or trailing whitespace",
            ]
        );
        assert_eq!(
            check(&pod(
                "{containers: [{name: c, image: i}], initContainers: [{name: c, image: i, readinessProbe: {tcpSocket: {port: 1}}}, {name: s, image: i, restartPolicy: Always, readinessProbe: {tcpSocket: {port: 0}}}]}"
            )),
            [
                "spec.initContainers[0].name: Duplicate value: \"c\"",
                "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
                "spec.initContainers[1].readinessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive",
            ]
        );
    }

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

    #[test]
    fn odd_input_never_panics() {
        for y in [
            "{apiVersion: v1, kind: Pod, metadata: {name: \"ü\", namespace: \"-\"}, spec: {containers: [{name: \"\", resources: {limits: {cpu: 99999999999999999999999999999999999E}, requests: {cpu: 1e1000}}}]}}",
            "{apiVersion: v1, kind: Service, metadata: {name: \"\"}, spec: {type: ExternalName, ports: [{port: -5, targetPort: \"\"}]}}",
            "{apiVersion: apps/v1, kind: Deployment, metadata: {generateName: x-}, spec: {strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: \"99999999999999999999%\", maxUnavailable: \"%\"}}}}",
        ] {
            if let Ok(docs) = parse_manifests(y) {
                for d in docs {
                    let mut o = d.object;
                    set_defaults(&mut o);
                    let _ = validate(&o).map_err(|e| e.to_string());
                    let _ = validate_update(&o, &o);
                }
            }
        }
    }

    #[test]
    fn name_rule_tables() {
        for good in [
            "a",
            "ab",
            "abc",
            "a1",
            "a-1",
            "a--1--2--b",
            "0",
            "01",
            "012",
            "1a",
            "1-a",
            "1--a--b--2",
        ] {
            assert!(is_dns1123_label(good).is_empty(), "{good}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "A",
            "ABC",
            "aBc",
            "A1",
            "A-1",
            "1-A",
            "-",
            "a-",
            "-a",
            "1-",
            "-1",
            "_",
            "a_",
            "_a",
            "a_b",
            "1_",
            "_1",
            "1_2",
            ".",
            "a.",
            ".a",
            "a.b",
            "1.",
            ".1",
            "1.2",
            " ",
            "a ",
            " a",
            "a b",
            "1 ",
            " 1",
            "1 2",
            long.as_str(),
        ] {
            assert!(!is_dns1123_label(bad).is_empty(), "{bad:?}");
        }
        for good in ["a", "a.b", "a.b.c", "1.2.3", "a-1.b-2", "0.a", "a1.b2"] {
            assert!(is_dns1123_subdomain(good).is_empty(), "{good}");
        }
        for bad in ["", "A", "a..b", "a.", ".a", "a_b", "-a.b", "a.b-"] {
            assert!(!is_dns1123_subdomain(bad).is_empty(), "{bad:?}");
        }
        for good in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "1234",
            "simple/simple",
            "now-with-dashes/simple",
            "now-with-dashes/now-with-dashes",
            "now.with.dots/simple",
            "now-with.dashes-and.dots/simple",
            "1-num.2-num/3-num",
            "1234/5678",
            "1.2.3.4/5678",
            "Uppercase_Is_OK_123",
            "example.com/Uppercase_Is_OK_123",
        ] {
            assert!(is_qualified_name(good).is_empty(), "{good}");
        }
        for bad in [
            "nospecialchars%^=@",
            "cantendwithadash-",
            "-cantstartwithadash-",
            "only/one/slash",
            "Example.com/abc",
            "example_com/abc",
            "example.com/",
            "/simple",
            &"a".repeat(64),
        ] {
            assert!(!is_qualified_name(bad).is_empty(), "{bad:?}");
        }
        for good in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "end-with-num-1",
            "1234",
            "",
            "A.B.C",
            "underscores_are_ok",
        ] {
            assert!(is_valid_label_value(good).is_empty(), "{good:?}");
        }
        for bad in [
            "nospecialchars%^=@",
            "Tama-nui-te-rā.is_Māori.ma",
            "-cantstartwithadash",
            "cantendwithadash-",
            &"a".repeat(64),
        ] {
            assert!(!is_valid_label_value(bad).is_empty(), "{bad:?}");
        }
        for good in [
            "telnet",
            "re-mail-ck",
            "pop3",
            "a",
            "a-1",
            "1-a",
            "a-1-b-2-c",
            "1-a-2-b-3",
        ] {
            assert!(is_valid_port_name(good).is_empty(), "{good}");
        }
        for bad in [
            "longerthan15characters",
            "",
            "12345",
            "1-2-3-4",
            "-begin",
            "end-",
            "two--hyphens",
            "whois++",
        ] {
            assert!(!is_valid_port_name(bad).is_empty(), "{bad:?}");
        }
    }
}
