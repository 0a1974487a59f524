//! The read side's request options, read as kube-apiserver reads them: [`ListOptions`] from a
//! list or watch query, [`FieldSelector`]s with each kind's field labels, and the storage
//! layer's checks of `resourceVersion` and `continue` ([`ListOptions::check_list`],
//! [`ListOptions::check_watch`], [`check_get`]). Every bad value gets the API server's answer,
//! as a typed [`ApiError`].
//!
//! Ports of apimachinery `pkg/runtime/conversion.go` (`Convert_Slice_string_To_*`: how query
//! values become booleans and integers), `pkg/apis/meta/internalversion/validation`
//! (`ValidateListOptions`), `pkg/fields/selector.go` (`ParseSelector`), the field label
//! conversion funcs of `pkg/apis/core/v1/conversion.go` with the registries'
//! `ToSelectableFields`, and of apiserver's `pkg/storage/continue.go` (`DecodeContinue`),
//! `pkg/storage/cacher/delegator.go` (`shouldDelegateList`: which LISTs the watch cache serves)
//! and `APIObjectVersioner.ParseResourceVersion`.
//!
//! The checks run in the order of the handler (`handlers/get.go`, `ListResource`): the query's
//! integers as `metav1.ListOptions` declares them (`timeoutSeconds`, then `limit`), the label
//! selector, the field selector's syntax, `ValidateListOptions` (422), the field labels (400),
//! and only then storage, which reads `resourceVersion` and `continue`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::api::Object;
use crate::api::selector::Selector;
use crate::api::validation::{ErrorType, FieldError, go_quote};
use crate::error::{ApiError, InvalidOptions};
use crate::store::Kind;

/// Whether the WatchList feature gate is on. It is off, as on a server without the feature:
/// kubectl 1.37 opens `rollout status` with a watch-list, and the 422 this gives makes it fall
/// back to LIST then WATCH (shared/kubectl-surface.md §4.7).
pub const WATCH_LIST: bool = false;

/// The message of a 410 for a `continue` token the store can no longer serve. kubesim keeps no
/// history of the store, so every token is from a compacted revision.
pub const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";

/// The message of a 410 for an exact read of a revision the store no longer has.
pub const LIST_EXPIRED: &str = "The resourceVersion for the provided list is too old.";

/// `metav1.ResourceVersionMatch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceVersionMatch {
    /// `NotOlderThan`: at least as new as `resourceVersion`.
    NotOlderThan,
    /// `Exact`: exactly at `resourceVersion`.
    Exact,
}

/// The options of a LIST or WATCH, decoded and validated (`metainternalversion.ListOptions`).
#[derive(Clone, Debug, PartialEq)]
pub struct ListOptions {
    /// `labelSelector`.
    pub label_selector: Selector,
    /// `fieldSelector`, with its labels converted for the kind listed.
    pub field_selector: FieldSelector,
    /// `watch`: any value but `0` and `false` (in any case) is true, even `watch=maybe`.
    pub watch: bool,
    /// `allowWatchBookmarks`.
    pub allow_watch_bookmarks: bool,
    /// `resourceVersion` as sent (`""` when absent); storage reads it.
    pub resource_version: String,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// `timeoutSeconds`.
    pub timeout_seconds: Option<i64>,
    /// `limit` (`0`, or any value below, means no limit).
    pub limit: i64,
    /// `continue` as sent (`""` when absent); storage decodes it.
    pub continue_token: String,
    /// `sendInitialEvents`.
    pub send_initial_events: Option<bool>,
}

impl Default for ListOptions {
    fn default() -> ListOptions {
        ListOptions {
            label_selector: Selector::everything(),
            field_selector: FieldSelector::everything(),
            watch: false,
            allow_watch_bookmarks: false,
            resource_version: String::new(),
            resource_version_match: None,
            timeout_seconds: None,
            limit: 0,
            continue_token: String::new(),
            send_initial_events: None,
        }
    }
}

impl ListOptions {
    /// Decodes the query of a list or watch of `kind`, as the API server does before it does any
    /// work: the first value of each parameter counts, and unknown parameters are ignored.
    pub fn parse<'a>(
        query: impl IntoIterator<Item = (&'a str, &'a str)>,
        kind: Kind,
    ) -> Result<ListOptions, ApiError> {
        let mut values: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in query {
            values.entry(k).or_insert(v);
        }
        let get = |k: &str| values.get(k).copied();
        // url.Values → metav1.ListOptions, in the struct's field order: only the integers fail.
        let timeout_seconds = get("timeoutSeconds")
            .map(go_parse_int64)
            .transpose()
            .map_err(ApiError::BadRequest)?;
        let limit = get("limit")
            .map(go_parse_int64)
            .transpose()
            .map_err(ApiError::BadRequest)?
            .unwrap_or(0);
        // metav1 → internal: the selectors are parsed.
        let label_selector = Selector::parse(get("labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let field_selector = FieldSelector::parse(get("fieldSelector").unwrap_or(""))
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let raw_match = get("resourceVersionMatch").unwrap_or("");
        let mut opts = ListOptions {
            label_selector,
            field_selector,
            watch: get("watch").is_some_and(go_bool),
            allow_watch_bookmarks: get("allowWatchBookmarks").is_some_and(go_bool),
            resource_version: get("resourceVersion").unwrap_or("").to_owned(),
            resource_version_match: None,
            timeout_seconds,
            limit,
            continue_token: get("continue").unwrap_or("").to_owned(),
            send_initial_events: get("sendInitialEvents").map(go_bool),
        };
        let causes = opts.validate(raw_match, WATCH_LIST);
        if !causes.is_empty() {
            return Err(ApiError::InvalidOptions(InvalidOptions {
                group: "meta.k8s.io",
                kind: "ListOptions",
                causes,
            }));
        }
        opts.resource_version_match = match raw_match {
            "Exact" => Some(ResourceVersionMatch::Exact),
            "NotOlderThan" => Some(ResourceVersionMatch::NotOlderThan),
            _ => None,
        };
        opts.field_selector = opts
            .field_selector
            .convert(kind)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        Ok(opts)
    }

    /// `ValidateListOptions` (with `validateWatchOptions` for a watch): every field error.
    fn validate(&self, raw_match: &str, watch_list: bool) -> Vec<FieldError> {
        let forbidden = |field: &str, detail: &str| FieldError {
            field: field.to_owned(),
            error_type: ErrorType::Forbidden,
            bad_value: None,
            detail: detail.to_owned(),
        };
        let not_supported = |supported: &[&str]| FieldError {
            field: "resourceVersionMatch".to_owned(),
            error_type: ErrorType::NotSupported,
            bad_value: Some(go_quote(raw_match)),
            detail: format!(
                "supported values: {}",
                supported
                    .iter()
                    .map(|s| go_quote(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut errs = Vec::new();
        if self.watch {
            if self.send_initial_events.is_some() {
                if raw_match != "NotOlderThan" {
                    errs.push(forbidden(
                        "resourceVersionMatch",
                        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                    ));
                }
                if !watch_list {
                    errs.push(forbidden(
                        "sendInitialEvents",
                        "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
                    ));
                }
            }
            if !raw_match.is_empty() {
                if self.send_initial_events.is_none() {
                    errs.push(forbidden(
                        "resourceVersionMatch",
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                if raw_match != "NotOlderThan" {
                    errs.push(not_supported(&["NotOlderThan"]));
                }
                if !self.continue_token.is_empty() {
                    errs.push(forbidden(
                        "resourceVersionMatch",
                        "resourceVersionMatch is forbidden when continue is provided",
                    ));
                }
            }
            return errs;
        }
        if !raw_match.is_empty() {
            if self.resource_version.is_empty() {
                errs.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if !self.continue_token.is_empty() {
                errs.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if raw_match != "Exact" && raw_match != "NotOlderThan" {
                errs.push(not_supported(&["Exact", "NotOlderThan", ""]));
            }
            if raw_match == "Exact" && self.resource_version == "0" {
                errs.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if self.send_initial_events.is_some() {
            errs.push(forbidden(
                "sendInitialEvents",
                "sendInitialEvents is forbidden for list",
            ));
        }
        errs
    }

    /// Whether the API server sends this LIST to etcd rather than answering from its watch
    /// cache (`shouldDelegateList`), which decides how a bad `resourceVersion` is answered.
    /// An unset `resourceVersion` is a consistent read from the cache (ConsistentListFromCache).
    pub fn served_from_storage(&self) -> bool {
        match self.resource_version_match {
            Some(ResourceVersionMatch::Exact) => return true,
            Some(ResourceVersionMatch::NotOlderThan) => {}
            None => {
                if self.limit > 0
                    && !self.resource_version.is_empty()
                    && self.resource_version != "0"
                {
                    return true;
                }
            }
        }
        !self.continue_token.is_empty()
    }

    /// The storage layer's answer to this LIST with the store at resourceVersion `current`:
    /// `Ok` when the current state answers it.
    ///
    /// From the watch cache: a `resourceVersion` that is not a number is a 500 with no reason
    /// (kubernetes issue 139485, still so in 1.37), one in the future a 504 after which the
    /// client may retry. From etcd: not a number is a 400, a future revision a 500 (issue
    /// 132358), and a past one the 410 of a compacted revision, as kubesim keeps no history;
    /// so is every well-formed `continue` token (kubesim never pages: it always returns the
    /// whole list, which a client must accept).
    pub fn check_list(&self, current: u64) -> Result<(), ApiError> {
        if !self.served_from_storage() {
            let rv = parse_resource_version(&self.resource_version)
                .map_err(|e| ApiError::Unclassified(e.to_string()))?;
            if rv > current {
                return Err(ApiError::TooLargeResourceVersion {
                    requested: rv,
                    current,
                    retry_after_seconds: 1,
                });
            }
            return Ok(());
        }
        if !self.continue_token.is_empty() {
            decode_continue(&self.continue_token)
                .map_err(|e| ApiError::BadRequest(format!("invalid continue token: {e}")))?;
            if !self.resource_version.is_empty() && self.resource_version != "0" {
                return Err(ApiError::BadRequest(
                    "specifying resource version is not allowed when using continue".to_owned(),
                ));
            }
            return Err(ApiError::Expired(CONTINUE_EXPIRED.to_owned()));
        }
        let rv = parse_resource_version(&self.resource_version)
            .map_err(|e| ApiError::BadRequest(format!("invalid resource version: {e}")))?;
        match rv.cmp(&current) {
            std::cmp::Ordering::Greater => Err(ApiError::Unclassified(
                "etcdserver: mvcc: required revision is a future revision".to_owned(),
            )),
            std::cmp::Ordering::Less if rv > 0 => Err(ApiError::Expired(LIST_EXPIRED.to_owned())),
            _ => Ok(()),
        }
    }

    /// The storage layer's answer to this WATCH: the resourceVersion to start after (`0`: send
    /// the current state first). A `resourceVersion` that is not a number is the watch cache's
    /// 500. One ahead of the store is accepted: kubesim's store goes back when the run is
    /// rebuilt (the scrubber, a reset step), and a watcher then relists.
    pub fn check_watch(&self) -> Result<u64, ApiError> {
        parse_resource_version(&self.resource_version)
            .map_err(|e| ApiError::Unclassified(e.to_string()))
    }

    /// How long the watch lasts: `timeoutSeconds`, or the server's default when absent or `0`;
    /// `None` when negative (the watch ends at once).
    pub fn watch_timeout_seconds(&self, default: u64) -> Option<u64> {
        match self.timeout_seconds {
            None | Some(0) => Some(default),
            Some(n) => u64::try_from(n).ok(),
        }
    }
}

/// The storage layer's answer to a GET of one object with `resourceVersion` (`GetOptions`): an
/// unset one reads etcd; any other is read from the watch cache, which answers a value that is
/// not a number with a 500 and one in the future with a 504.
pub fn check_get(resource_version: Option<&str>, current: u64) -> Result<(), ApiError> {
    let Some(rv) = resource_version.filter(|rv| !rv.is_empty()) else {
        return Ok(());
    };
    let rv = parse_resource_version(rv).map_err(|e| ApiError::Unclassified(e.to_string()))?;
    if rv > current {
        return Err(ApiError::TooLargeResourceVersion {
            requested: rv,
            current,
            retry_after_seconds: 1,
        });
    }
    Ok(())
}

/// `APIObjectVersioner.ParseResourceVersion`: `""` and `"0"` are 0; anything else must be an
/// unsigned decimal, or it is the storage's field error
/// (`resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax`).
pub fn parse_resource_version(rv: &str) -> Result<u64, FieldError> {
    if rv.is_empty() || rv == "0" {
        return Ok(0);
    }
    go_parse_uint64(rv).map_err(|detail| FieldError {
        field: "resourceVersion".to_owned(),
        error_type: ErrorType::Invalid,
        bad_value: Some(go_quote(rv)),
        detail,
    })
}

/// `Convert_Slice_string_To_bool`: only `0` and `false` (in any case) are false.
fn go_bool(v: &str) -> bool {
    !(v == "0" || v.eq_ignore_ascii_case("false"))
}

/// `strconv.ParseInt(s, 10, 64)`, with its error text.
fn go_parse_int64(s: &str) -> Result<i64, String> {
    s.parse::<i64>()
        .map_err(|e| go_num_error("ParseInt", s, e.kind()))
}

/// `strconv.ParseUint(s, 10, 64)`, with its error text (no sign allowed, not even `+`).
fn go_parse_uint64(s: &str) -> Result<u64, String> {
    if s.starts_with('+') {
        return Err(go_num_error(
            "ParseUint",
            s,
            &std::num::IntErrorKind::InvalidDigit,
        ));
    }
    s.parse::<u64>()
        .map_err(|e| go_num_error("ParseUint", s, e.kind()))
}

fn go_num_error(func: &str, s: &str, kind: &std::num::IntErrorKind) -> String {
    use std::num::IntErrorKind;
    let why = match kind {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "value out of range",
        _ => "invalid syntax",
    };
    format!("strconv.{func}: parsing {}: {why}", go_quote(s))
}

// ---------------------------------------------------------------------------------------------
// Field selectors

/// A field selector (`fields.Selector`): terms ANDed, in the sorted order Go keeps them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

/// One `field=value` or `field!=value` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldTerm {
    /// The field label, e.g. `status.phase`.
    pub field: String,
    /// The value, unescaped.
    pub value: String,
    /// `=` or `==` (true), `!=` (false).
    pub equal: bool,
}

/// Why a field selector does not parse (`fields.ParseSelector`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldSelectorError {
    /// A term without an operator.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    Syntax {
        /// The whole selector.
        selector: String,
        /// The term.
        term: String,
    },
    /// A backslash before anything but `\`, `,` or `=` (or at the end).
    #[error("invalid field selector: invalid escape sequence: {0}")]
    InvalidEscape(String),
    /// An unescaped `,` or `=` in a value; Go prints the character as its number.
    #[error("invalid field selector: unescaped character in value: {}", u32::from(*.0))]
    Unescaped(char),
}

/// A field label the kind cannot be selected by (the scheme's field label conversion func).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldLabelError {
    /// From a kind's own conversion func (Pod, Node, Namespace, Event).
    #[error("field label not supported: {0}")]
    NotSupported(String),
    /// From `DefaultMetaV1FieldSelectorConversion`, for kinds without their own.
    #[error("{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"", go_quote(.0))]
    NotKnown(String),
}

impl FieldSelector {
    /// The selector that matches everything.
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// Parses `field=value,field!=value` as `fields.ParseSelector`: terms split on unescaped
    /// commas and sorted, each split at its first `!=`, `==` or `=`; `\`, `,` and `=` in a value
    /// escaped with a backslash. The field is taken as written, spaces included.
    pub fn parse(selector: &str) -> Result<FieldSelector, FieldSelectorError> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let Some((field, equal, rhs)) = split_term(part) else {
                return Err(FieldSelectorError::Syntax {
                    selector: selector.to_owned(),
                    term: part.to_owned(),
                });
            };
            terms.push(FieldTerm {
                field: field.to_owned(),
                value: unescape_value(rhs)?,
                equal,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether an object known only by its namespace and name (one that is gone) is selected:
    /// false when a term reads any other field, which a gone object no longer has.
    pub fn selects_name(&self, namespace: &str, name: &str) -> bool {
        self.terms.iter().all(|t| {
            let v = match t.field.as_str() {
                "metadata.name" => name,
                "metadata.namespace" => namespace,
                _ => return false,
            };
            (v == t.value) == t.equal
        })
    }

    /// The terms, in Go's order.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// Whether the selector has no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value a term requires `field` to equal (`RequiresExactMatch`).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.equal && t.field == field)
            .map(|t| t.value.as_str())
    }

    /// Converts every label for `kind` (`Transform` with `ConvertFieldLabel`): the first one
    /// the kind does not support fails it all.
    pub fn convert(self, kind: Kind) -> Result<FieldSelector, FieldLabelError> {
        let terms = self
            .terms
            .into_iter()
            .map(|t| {
                Ok(FieldTerm {
                    field: convert_field_label(kind, &t.field)?.to_owned(),
                    ..t
                })
            })
            .collect::<Result<_, FieldLabelError>>()?;
        Ok(FieldSelector { terms })
    }

    /// Whether `obj` matches: a field its kind does not expose reads as `""`.
    pub fn matches(&self, obj: &Object) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        let fields = selectable_fields(obj);
        self.terms.iter().all(|t| {
            let got = fields.get(t.field.as_str()).map_or("", String::as_str);
            (got == t.value) == t.equal
        })
    }
}

impl fmt::Display for FieldSelector {
    /// `fields.Selector.String()`: `a=b,c!=d`, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = if t.equal { "=" } else { "!=" };
            let value = t
                .value
                .replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('=', "\\=");
            write!(f, "{}{op}{value}", t.field)?;
        }
        Ok(())
    }
}

/// Splits on commas not escaped by a backslash (`splitTerms`); the backslashes stay.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// `splitTerm`: the field, whether the operator is an equality, and the raw value, at the first
/// place one of `!=`, `==`, `=` starts.
fn split_term(term: &str) -> Option<(&str, bool, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, equal) in [("!=", false), ("==", true), ("=", true)] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], equal, value));
            }
        }
    }
    None
}

/// `UnescapeValue`.
fn unescape_value(s: &str) -> Result<String, FieldSelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(FieldSelectorError::InvalidEscape(format!("\\{c}")));
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => return Err(FieldSelectorError::Unescaped(c)),
            c => out.push(c),
        }
    }
    if in_slash {
        return Err(FieldSelectorError::InvalidEscape("\\".to_owned()));
    }
    Ok(out)
}

/// The scheme's field label conversion for `kind` (`ConvertFieldLabel`): the label to match,
/// or why the kind cannot be selected by it. Pods, nodes, namespaces and events have their own
/// conversion funcs (`pkg/apis/core/v1/conversion.go`); the other kinds served here have none,
/// so `DefaultMetaV1FieldSelectorConversion` allows only `metadata.name` and
/// `metadata.namespace`. That includes ReplicaSets: `status.replicas` is among their selectable
/// fields, but apps/v1 registers no conversion for it, so the API server refuses it
/// (kubernetes issue 135136), though the documentation lists it.
pub fn convert_field_label(kind: Kind, label: &str) -> Result<&str, FieldLabelError> {
    let own: Option<&[&str]> = match kind {
        Kind::Pod => {
            // Old v1 clients send `spec.host`.
            if label == "spec.host" {
                return Ok("spec.nodeName");
            }
            Some(&[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.podIPs",
                "status.nominatedNodeName",
            ])
        }
        Kind::Node => Some(&["metadata.name", "spec.unschedulable"]),
        Kind::Namespace => Some(&["status.phase", "metadata.name"]),
        Kind::Event => Some(&[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
            "metadata.namespace",
            "metadata.name",
        ]),
        Kind::Deployment
        | Kind::ReplicaSet
        | Kind::Service
        | Kind::Endpoints
        | Kind::Ingress
        | Kind::IngressClass
        | Kind::HorizontalPodAutoscaler
        | Kind::EndpointSlice
        | Kind::PodDisruptionBudget
        | Kind::ResourceQuota
        | Kind::LimitRange
        | Kind::Lease => None,
        Kind::Secret => Some(&["type", "metadata.namespace", "metadata.name"]),
        Kind::ConfigMap | Kind::CronJob => None,
        Kind::Job => Some(&["metadata.name", "metadata.namespace", "status.successful"]),
    };
    match own {
        Some(labels) if labels.contains(&label) => Ok(label),
        Some(_) => Err(FieldLabelError::NotSupported(label.to_owned())),
        None if label == "metadata.name" || label == "metadata.namespace" => Ok(label),
        None => Err(FieldLabelError::NotKnown(label.to_owned())),
    }
}

/// The fields an object can be selected by, with their values as the registry renders them
/// (`ToSelectableFields`/`GetAttrs`): booleans as `true`/`false`, integers in decimal. A label
/// the conversion accepts but the set lacks (a pod's `status.podIPs`) reads as `""`.
pub fn selectable_fields(obj: &Object) -> BTreeMap<&'static str, String> {
    let mut f = BTreeMap::new();
    let meta = obj.metadata();
    f.insert("metadata.name", meta.name.clone().unwrap_or_default());
    if obj.is_namespaced() {
        f.insert(
            "metadata.namespace",
            meta.namespace.clone().unwrap_or_default(),
        );
    }
    match obj {
        Object::Pod(p) => {
            let spec = p.spec.clone().unwrap_or_default();
            let status = p.status.clone().unwrap_or_default();
            f.insert("spec.nodeName", spec.node_name.unwrap_or_default());
            f.insert(
                "spec.restartPolicy",
                spec.restart_policy.unwrap_or_default(),
            );
            f.insert(
                "spec.schedulerName",
                spec.scheduler_name.unwrap_or_default(),
            );
            // An empty serviceAccountName takes the deprecated serviceAccount (v1 conversion).
            f.insert(
                "spec.serviceAccountName",
                spec.service_account_name
                    .filter(|s| !s.is_empty())
                    .or(spec.service_account)
                    .unwrap_or_default(),
            );
            f.insert(
                "spec.hostNetwork",
                spec.host_network.unwrap_or(false).to_string(),
            );
            f.insert("status.phase", status.phase.unwrap_or_default());
            let first_ip = status
                .pod_ips
                .and_then(|ips| ips.into_iter().next().map(|ip| ip.ip))
                .or(status.pod_ip)
                .unwrap_or_default();
            f.insert("status.podIP", first_ip);
            f.insert(
                "status.nominatedNodeName",
                status.nominated_node_name.unwrap_or_default(),
            );
        }
        Object::Node(n) => {
            let unschedulable = n.spec.as_ref().and_then(|s| s.unschedulable);
            f.insert(
                "spec.unschedulable",
                unschedulable.unwrap_or(false).to_string(),
            );
        }
        Object::Namespace(ns) => {
            let phase = ns.status.as_ref().and_then(|s| s.phase.clone());
            f.insert("status.phase", phase.unwrap_or_default());
            // The registry's own backward-compatibility field; no conversion allows it.
            f.insert("name", meta.name.clone().unwrap_or_default());
        }
        Object::ReplicaSet(rs) => {
            let replicas = rs.status.as_ref().map_or(0, |s| s.replicas);
            f.insert("status.replicas", replicas.to_string());
        }
        Object::Event(e) => {
            let o = &e.involved_object;
            let s = |v: &Option<String>| v.clone().unwrap_or_default();
            f.insert("involvedObject.kind", s(&o.kind));
            f.insert("involvedObject.namespace", s(&o.namespace));
            f.insert("involvedObject.name", s(&o.name));
            f.insert("involvedObject.uid", s(&o.uid));
            f.insert("involvedObject.apiVersion", s(&o.api_version));
            f.insert("involvedObject.resourceVersion", s(&o.resource_version));
            f.insert("involvedObject.fieldPath", s(&o.field_path));
            f.insert("reason", s(&e.reason));
            f.insert("reportingComponent", s(&e.reporting_component));
            f.insert(
                "source",
                e.source
                    .as_ref()
                    .and_then(|src| src.component.clone())
                    .unwrap_or_default(),
            );
            f.insert("type", s(&e.type_));
        }
        Object::Deployment(_)
        | Object::Service(_)
        | Object::Endpoints(_)
        | Object::Ingress(_)
        | Object::IngressClass(_)
        | Object::HorizontalPodAutoscaler(_)
        | Object::EndpointSlice(_)
        | Object::PodDisruptionBudget(_)
        | Object::CronJob(_)
        | Object::ResourceQuota(_)
        | Object::LimitRange(_)
        | Object::Lease(_) => {}
        Object::Job(j) => {
            let n = j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0);
            f.insert("status.successful", n.to_string());
        }
        Object::Secret(secret) => {
            f.insert("type", secret.type_.clone().unwrap_or_default());
        }
        Object::ConfigMap(_) => {}
    }
    f
}

// ---------------------------------------------------------------------------------------------
// Continue tokens

/// Why a `continue` token is refused (`storage.DecodeContinue`); the API server prefixes
/// `invalid continue token: `.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContinueError {
    /// Not base64 (URL alphabet, no padding), or not the token's JSON.
    #[error("continue key is not valid: {0}")]
    Malformed(String),
    /// `rv` is 0.
    #[error(
        "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
    )]
    StartResourceVersion,
    /// `start` is empty.
    #[error("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")]
    EmptyStartKey,
    /// `v` is not `meta.k8s.io/v1`.
    #[error("continue key is not valid: server does not recognize this encoded version {0}")]
    Version(String),
}

/// A decoded `continue` token (`continueToken`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinueToken {
    /// `rv`: the revision the list is continued at (`-1`: the latest).
    pub resource_version: i64,
    /// `start`: the key to continue from, relative to the listed prefix.
    pub start_key: String,
}

/// `storage.DecodeContinue`: base64 (URL alphabet, unpadded) of `{"v","rv","start"}`.
pub fn decode_continue(token: &str) -> Result<ContinueToken, ContinueError> {
    let data = go_base64_raw_url(token.as_bytes()).map_err(|at| {
        ContinueError::Malformed(format!("illegal base64 data at input byte {at}"))
    })?;
    let (version, resource_version, start_key) =
        continue_token_json(&data).map_err(ContinueError::Malformed)?;
    if version != "meta.k8s.io/v1" {
        return Err(ContinueError::Version(version));
    }
    if resource_version == 0 {
        return Err(ContinueError::StartResourceVersion);
    }
    if start_key.is_empty() {
        return Err(ContinueError::EmptyStartKey);
    }
    // Path traversal: the key must already be clean (`path.Clean`).
    let key = if start_key.starts_with('/') {
        start_key.clone()
    } else {
        format!("/{start_key}")
    };
    if clean_rooted(&key) != key {
        return Err(ContinueError::Malformed(start_key));
    }
    Ok(ContinueToken {
        resource_version,
        start_key,
    })
}

/// Go's `path.Clean` of a path starting with `/`.
fn clean_rooted(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `base64.RawURLEncoding.DecodeString`, or the offset Go's `CorruptInputError` names.
fn go_base64_raw_url(src: &[u8]) -> Result<Vec<u8>, usize> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(src.len() * 3 / 4);
    let mut si = 0;
    while si < src.len() {
        // `decodeQuantum`: up to four symbols; newlines are skipped.
        let mut quantum = [0u8; 4];
        let mut len = 0;
        while len < 4 {
            let Some(&c) = src.get(si) else {
                if len == 1 {
                    return Err(si - 1);
                }
                break;
            };
            si += 1;
            match value(c) {
                Some(v) => {
                    quantum[len] = v;
                    len += 1;
                }
                None if c == b'\n' || c == b'\r' => {}
                None => return Err(si - 1),
            }
        }
        let v = u32::from(quantum[0]) << 18
            | u32::from(quantum[1]) << 12
            | u32::from(quantum[2]) << 6
            | u32::from(quantum[3]);
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..len.saturating_sub(1)]);
    }
    Ok(out)
}

/// `json.Unmarshal` of the token into `continueToken{v string; rv int64; start string}`, with
/// Go's messages for what a client is likely to send: bytes that are not JSON, JSON that is not
/// an object, and fields of the wrong type. Go matches field names without regard to case.
fn continue_token_json(data: &[u8]) -> Result<(String, i64, String), String> {
    let value: Value = serde_json::from_slice(data).map_err(|e| go_json_syntax_error(data, &e))?;
    let struct_kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let map = match value {
        Value::Object(m) => m,
        Value::Null => return Ok((String::new(), 0, String::new())),
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type storage.continueToken",
                struct_kind(&other)
            ));
        }
    };
    let field = |name: &str| {
        map.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .next_back()
    };
    let type_error = |found: String, name: &str, ty: &str| {
        format!(
            "json: cannot unmarshal {found} into Go struct field continueToken.{name} of type {ty}"
        )
    };
    let string = |name: &str| match field(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(type_error(struct_kind(other).to_owned(), name, "string")),
    };
    let version = string("v")?;
    let resource_version = match field("rv") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| type_error(format!("number {n}"), "rv", "int64"))?,
        Some(other) => return Err(type_error(struct_kind(other).to_owned(), "rv", "int64")),
    };
    let start = string("start")?;
    Ok((version, resource_version, start))
}

/// Go's `encoding/json` syntax error for the likely cases: input that ends early, a character
/// that cannot begin a value, one after the value.
fn go_json_syntax_error(data: &[u8], e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "unexpected end of JSON input".to_owned();
    }
    // serde's column counts bytes on the line, from 1.
    let offset: usize = data
        .split(|&b| b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum::<usize>()
        + e.column().saturating_sub(1);
    let at = data.get(offset).copied().unwrap_or(b' ');
    let first = data.iter().position(|b| !b" \t\r\n".contains(b));
    let context = if first.is_some_and(|f| f < offset) && e.to_string().starts_with("trailing") {
        "after top-level value"
    } else {
        "looking for beginning of value"
    };
    format!("invalid character {} {context}", go_quote_char(at))
}

/// Go's `quoteChar`: `'x'`, `'\''`, `'"'`, `'\x00'`.
fn go_quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        c => {
            let q = go_quote(&char::from(c).to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

#[cfg(test)]
mod tests;
