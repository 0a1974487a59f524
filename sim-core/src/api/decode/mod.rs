//! Decoding manifests: YAML text → `serde_json::Value` → typed [`Object`], strictly.
//!
//! There is one decode path (YAML → JSON value → k8s-openapi type through `serde_ignored`), so
//! each kind is monomorphised once. What the API server and kubectl do that the types alone do
//! not, and which this module reproduces:
//!
//! * Documents are split on `---` lines as kubectl's `YAMLReader` does; empty documents are
//!   skipped, and a `v1 List` expands to its items.
//! * Unknown fields anywhere in the object are reported together, like strict field validation
//!   (`unknown field "spec.replcas", unknown field "spec.template.spec.containers[0].imagee"`).
//!   They are listed in sorted key order (`serde_json::Value` maps are sorted), where Go lists
//!   them in document order.
//! * A value of the wrong type is reported with Go's `encoding/json` wording, naming the Go
//!   struct and the field path (`json: cannot unmarshal string into Go struct field
//!   DeploymentSpec.spec.replicas of type int32`). serde's errors carry no path, so the path is
//!   found by deleting subtrees until the error goes away (see [`locate`]); the struct and type
//!   names come from re-decoding with probe values and reading serde's "expected …".
//! * A malformed resource quantity fails decoding, as Go's `Quantity.UnmarshalJSON` does.
//!
//! A JSON value is decoded as the API server decodes a request body: no coercion, so
//! `"replicas": "10"` is refused (`json: cannot unmarshal string into Go struct field
//! DeploymentSpec.spec.replicas of type int32`). YAML is first read into JSON as kubectl reads
//! it before sending (sigs.k8s.io/yaml over go-yaml v2, so YAML 1.1): a *plain* scalar is a
//! boolean when it is `yes`/`no`/`on`/`off`/`y`/`n` in any of their cases, an integer when Go's
//! `strconv.ParseInt(s, 0, 64)` reads it without its underscores (`0644` is octal 420, `0x1F`,
//! `1_000`), a float by YAML 1.1's pattern (written as an integer when whole, as Go's
//! `json.Marshal` writes it); a quoted or block scalar is always a string. So `replicas: "10"` is
//! refused as a real cluster refuses it, `readOnly: yes` is `true`, and a label value `enabled:
//! yes` is refused as a boolean. yaml_serde parses YAML 1.2, which keeps quoting out of its
//! values; the reader tells a plain scalar from a quoted one by where its text lies in the
//! document (see [`yaml_to_json`]). [`to_yaml`] quotes the strings YAML 1.1 would read as
//! something else, so what it writes reads back unchanged.

// DecodeError is the shared interface's error type and carries the messages' parts by value;
// decoding errors are the cold path, so the size of the Err variant does not matter.
#![allow(clippy::result_large_err)]

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::Object;
use super::quantity::parse_quantity;

/// One document of a manifest file.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The decoded object.
    pub object: Object,
    /// 1-based line where the document starts in the source text (its first line that is not
    /// blank, a comment or a `---` separator).
    pub line: usize,
}

/// Why a manifest could not be decoded; `Display` is the text kubectl prints (without kubectl's
/// `error: ` or `Error from server (BadRequest): error when creating "<file>": ` prefixes, which
/// the caller adds).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum DecodeError {
    /// The text is not valid YAML.
    #[error("{}error converting YAML to JSON: yaml: {}{message}", source_prefix(.file), line_prefix(*.line))]
    Yaml {
        /// 1-based line of the problem in the whole text, when known.
        line: Option<usize>,
        /// 1-based column of the problem, when known.
        column: Option<usize>,
        /// The parser's description, e.g. `mapping values are not allowed in this context`.
        message: String,
        /// The file name, for the message (see [`DecodeError::with_source`]).
        file: String,
    },
    /// A document is not a mapping (kubectl's decoder cannot find apiVersion and kind in it).
    #[error("{}json: cannot unmarshal {found} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}", unable_prefix(.file))]
    NotAnObject {
        /// The JSON type found instead (`string`, `array`, `number`, `bool`).
        found: &'static str,
        /// 1-based line of the document, when known.
        line: Option<usize>,
        /// The file name, for the message.
        file: String,
    },
    /// `apiVersion` and/or `kind` are missing (kubectl's client-side check).
    #[error("{}error validating data: {}; if you choose to ignore these errors, turn validation off with --validate=false", validating_prefix(.file), missing_list(.missing))]
    MissingTypeInfo {
        /// `apiVersion not set`, `kind not set`.
        missing: Vec<String>,
        /// 1-based line of the document, when known.
        line: Option<usize>,
        /// The file name, for the message.
        file: String,
    },
    /// No served kind matches the apiVersion/kind pair.
    #[error(
        "resource mapping not found for name: {name:?} namespace: {namespace:?} from {file:?}: no matches for kind {kind:?} in version {api_version:?}\nensure CRDs are installed first"
    )]
    NoKindMatch {
        /// The document's `kind`.
        kind: String,
        /// The document's `apiVersion`.
        api_version: String,
        /// `metadata.name`, or `""`.
        name: String,
        /// `metadata.namespace`, or `""`.
        namespace: String,
        /// 1-based line of the document, when known.
        line: Option<usize>,
        /// The file name, for the message.
        file: String,
    },
    /// Strict decoding found fields the schema does not have.
    #[error("{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}", unknown_list(.fields))]
    UnknownFields {
        /// The object's kind.
        kind: String,
        /// The version part of apiVersion (`v1`).
        version: String,
        /// Field paths as the API server writes them (`spec.template.spec.containers[0].imagee`).
        fields: Vec<String>,
        /// 1-based line of the document, when known.
        line: Option<usize>,
    },
    /// A field has a value of the wrong type, or a quantity does not parse.
    #[error("{kind} in version {version:?} cannot be handled as a {kind}: {detail}")]
    Malformed {
        /// The object's kind.
        kind: String,
        /// The version part of apiVersion (`v1`).
        version: String,
        /// Go's message, e.g. `json: cannot unmarshal string into Go struct field
        /// DeploymentSpec.spec.replicas of type int32`.
        detail: String,
        /// The offending field with indexes (`spec.template.spec.containers[0].ports[0].containerPort`),
        /// when found.
        field: Option<String>,
        /// 1-based line of the document, when known.
        line: Option<usize>,
    },
}

fn source_prefix(file: &str) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("error parsing {file}: ")
    }
}

fn unable_prefix(file: &str) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("unable to decode {file:?}: ")
    }
}

fn validating_prefix(file: &str) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!("error validating {file:?}: ")
    }
}

fn line_prefix(line: Option<usize>) -> String {
    line.map(|l| format!("line {l}: ")).unwrap_or_default()
}

fn missing_list(missing: &[String]) -> String {
    // utilerrors.Aggregate: a single error bare, several in brackets.
    if missing.len() == 1 {
        missing[0].clone()
    } else {
        format!("[{}]", missing.join(", "))
    }
}

fn unknown_list(fields: &[String]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| format!("unknown field {f:?}"))
        .collect();
    parts.join(", ")
}

impl DecodeError {
    /// Names the file the manifest came from, for the messages that quote it.
    #[must_use]
    pub fn with_source(mut self, file: &str) -> DecodeError {
        match &mut self {
            DecodeError::Yaml { file: f, .. }
            | DecodeError::NotAnObject { file: f, .. }
            | DecodeError::MissingTypeInfo { file: f, .. }
            | DecodeError::NoKindMatch { file: f, .. } => *f = file.to_owned(),
            DecodeError::UnknownFields { .. } | DecodeError::Malformed { .. } => {}
        }
        self
    }

    /// The 1-based line the error refers to, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            DecodeError::Yaml { line, .. }
            | DecodeError::NotAnObject { line, .. }
            | DecodeError::MissingTypeInfo { line, .. }
            | DecodeError::NoKindMatch { line, .. }
            | DecodeError::UnknownFields { line, .. }
            | DecodeError::Malformed { line, .. } => *line,
        }
    }

    fn set_line(mut self, l: usize) -> DecodeError {
        match &mut self {
            DecodeError::Yaml { line, .. }
            | DecodeError::NotAnObject { line, .. }
            | DecodeError::MissingTypeInfo { line, .. }
            | DecodeError::NoKindMatch { line, .. }
            | DecodeError::UnknownFields { line, .. }
            | DecodeError::Malformed { line, .. } => {
                line.get_or_insert(l);
            }
        }
        self
    }
}

/// Parses a (multi-document) manifest file into objects, in file order.
pub fn parse_manifests(yaml: &str) -> Result<Vec<Manifest>, DecodeError> {
    parse_manifests_each(yaml)?.into_iter().collect()
}

/// Like [`parse_manifests`], but an object the API server itself would refuse (unknown or
/// malformed fields: a 400 BadRequest under `fieldValidation=Strict`) is returned in its
/// place as an error, so the other documents can still be sent, as kubectl does.
/// Errors kubectl finds before sending anything (YAML, missing kind...) still fail it all.
pub fn parse_manifests_each(yaml: &str) -> Result<Vec<Result<Manifest, DecodeError>>, DecodeError> {
    let mut out = Vec::new();
    for doc in split_documents(yaml)? {
        let value = yaml_to_json(&doc.text).map_err(|e| yaml_error(&e, &doc))?;
        if value.is_null() {
            continue;
        }
        let line = doc.content_line;
        let is_list = value.get("kind").and_then(Value::as_str) == Some("List")
            && value.get("apiVersion").and_then(Value::as_str) == Some("v1");
        if is_list {
            let items = match value.get("items") {
                Some(Value::Array(items)) => items.clone(),
                None | Some(Value::Null) => Vec::new(),
                Some(other) => {
                    return Err(DecodeError::Malformed {
                        kind: "List".into(),
                        version: "v1".into(),
                        detail: format!(
                            "json: cannot unmarshal {} into Go struct field List.items of type []runtime.RawExtension",
                            json_kind(other)
                        ),
                        field: Some("items".into()),
                        line: Some(line),
                    });
                }
            };
            for item in items {
                out.push(server_side(decode_value(item), line)?);
            }
        } else {
            out.push(server_side(decode_value(value), line)?);
        }
    }
    Ok(out)
}

/// Keeps the server's strict-decoding refusals per object; fails on kubectl's own errors.
fn server_side(
    decoded: Result<Object, DecodeError>,
    line: usize,
) -> Result<Result<Manifest, DecodeError>, DecodeError> {
    match decoded {
        Ok(object) => Ok(Ok(Manifest { object, line })),
        Err(e @ (DecodeError::UnknownFields { .. } | DecodeError::Malformed { .. })) => {
            Ok(Err(e.set_line(line)))
        }
        Err(e) => Err(e.set_line(line)),
    }
}

/// Decodes one JSON object (with `apiVersion` and `kind`) strictly into an [`Object`].
pub fn decode_value(value: Value) -> Result<Object, DecodeError> {
    let Value::Object(map) = &value else {
        return Err(DecodeError::NotAnObject {
            found: json_kind(&value),
            line: None,
            file: String::new(),
        });
    };
    let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut missing = Vec::new();
    if api_version.is_empty() {
        missing.push("apiVersion not set".to_owned());
    }
    if kind.is_empty() {
        missing.push("kind not set".to_owned());
    }
    if !missing.is_empty() {
        return Err(DecodeError::MissingTypeInfo {
            missing,
            line: None,
            file: String::new(),
        });
    }
    Ok(match (api_version, kind) {
        ("v1", "Namespace") => Object::Namespace(typed(&value, kind)?),
        ("v1", "Node") => Object::Node(typed(&value, kind)?),
        ("v1", "Pod") => Object::Pod(typed(&value, kind)?),
        ("apps/v1", "ReplicaSet") => Object::ReplicaSet(typed(&value, kind)?),
        ("apps/v1", "Deployment") => Object::Deployment(typed(&value, kind)?),
        ("v1", "Service") => Object::Service(typed(&value, kind)?),
        ("v1", "Endpoints") => Object::Endpoints(typed(&value, kind)?),
        ("v1", "Event") => Object::Event(typed(&value, kind)?),
        ("networking.k8s.io/v1", "Ingress") => Object::Ingress(typed(&value, kind)?),
        ("networking.k8s.io/v1", "IngressClass") => Object::IngressClass(typed(&value, kind)?),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => {
            Object::HorizontalPodAutoscaler(typed(&value, kind)?)
        }
        ("v1", "ConfigMap") => Object::ConfigMap(typed(&value, kind)?),
        ("v1", "Secret") => Object::Secret(typed(&value, kind)?),
        ("discovery.k8s.io/v1", "EndpointSlice") => Object::EndpointSlice(typed(&value, kind)?),
        ("policy/v1", "PodDisruptionBudget") => Object::PodDisruptionBudget(typed(&value, kind)?),
        ("batch/v1", "Job") => Object::Job(Box::new(typed(&value, kind)?)),
        ("batch/v1", "CronJob") => Object::CronJob(Box::new(typed(&value, kind)?)),
        ("v1", "ResourceQuota") => Object::ResourceQuota(typed(&value, kind)?),
        ("v1", "LimitRange") => Object::LimitRange(typed(&value, kind)?),
        ("coordination.k8s.io/v1", "Lease") => Object::Lease(typed(&value, kind)?),
        _ => {
            let meta = |k: &str| {
                value
                    .get("metadata")
                    .and_then(|m| m.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            return Err(DecodeError::NoKindMatch {
                kind: kind.to_owned(),
                api_version: api_version.to_owned(),
                name: meta("name"),
                namespace: meta("namespace"),
                line: None,
                file: String::new(),
            });
        }
    })
    .and_then(check_quantities)
}

/// Renders a JSON value as YAML (block style), which [`parse_manifests`] reads back as the same
/// value: a string YAML 1.1 would read as something else (`"yes"`, `"on"`, `"1_000"`) is
/// double-quoted, as go-yaml writes it.
pub fn to_yaml(value: &Value) -> String {
    // yaml_serde quotes only what YAML 1.2 would misread. The strings YAML 1.1 misreads are
    // wrapped in two private-use characters, which the emitter leaves as they are (they are
    // printable and not indicators), and which become the quotes afterwards.
    const OPEN: char = '\u{E000}';
    const CLOSE: char = '\u{E001}';
    fn mark(v: &Value) -> Value {
        let wrap = |s: &str| {
            if yaml11_plain(s).is_string() {
                s.to_owned()
            } else {
                format!("{OPEN}{s}{CLOSE}")
            }
        };
        match v {
            Value::String(s) => Value::String(wrap(s)),
            Value::Array(a) => Value::Array(a.iter().map(mark).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (wrap(k), mark(v))).collect()),
            other => other.clone(),
        }
    }
    let text = value.to_string();
    if text.contains([OPEN, CLOSE]) {
        return serde_yaml::to_string(value).unwrap_or_default();
    }
    serde_yaml::to_string(&mark(value))
        .unwrap_or_default()
        .replace([OPEN, CLOSE], "\"")
}

// ---------------------------------------------------------------------------------------------
// Documents

struct Document {
    /// The document's text, with lines before it blanked so parser lines are file lines.
    text: String,
    /// First line that is not blank, a comment or a separator.
    content_line: usize,
}

/// Splits on lines that start with `---` followed only by spaces or a comment, as kubectl's
/// `yaml.YAMLReader` does. Each document keeps its original line numbers: the lines before it
/// are replaced by empty lines, so parser positions need no offset.
fn split_documents(yaml: &str) -> Result<Vec<Document>, DecodeError> {
    let mut docs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut start = 0usize; // 0-based line where the current document begins
    let lines: Vec<&str> = yaml.lines().collect();
    let finish = |current: &mut Vec<&str>, start: usize, docs: &mut Vec<Document>| {
        let content_line = current
            .iter()
            .position(|l| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#')
            })
            .map_or(start + 1, |i| start + i + 1);
        let mut text = "\n".repeat(start);
        for l in current.drain(..) {
            text.push_str(l);
            text.push('\n');
        }
        docs.push(Document { text, content_line });
    };
    for (i, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(DecodeError::Yaml {
                    line: Some(i + 1),
                    column: Some(4),
                    message: format!("invalid Yaml document separator: {rest}"),
                    file: String::new(),
                });
            }
            finish(&mut current, start, &mut docs);
            start = i + 1;
            continue;
        }
        current.push(line);
    }
    finish(&mut current, start, &mut docs);
    Ok(docs)
}

fn yaml_error(e: &serde_yaml::Error, doc: &Document) -> DecodeError {
    let loc = e.location();
    let text = e.to_string();
    // yaml_serde appends " at line L column C" (and sometimes a context); keep the problem.
    let message = text
        .split_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m)
        .to_owned();
    DecodeError::Yaml {
        line: loc.as_ref().map(|l| l.line()).or(Some(doc.content_line)),
        column: loc.as_ref().map(|l| l.column()),
        message,
        file: String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// YAML as kubectl reads it

/// Reads one YAML document into JSON as kubectl does before sending it (see the module docs):
/// YAML 1.1's reading of plain scalars, quoted scalars always strings, map keys as strings,
/// merge keys (`<<`) applied.
fn yaml_to_json(text: &str) -> Result<Value, serde_yaml::Error> {
    use serde::de::DeserializeSeed;
    Yaml11 { src: text }.deserialize(serde_yaml::Deserializer::from_str(text))
}

/// A YAML node as JSON; `src` is the document, to see how a scalar was written.
#[derive(Clone, Copy)]
struct Yaml11<'de> {
    src: &'de str,
}

impl<'de> serde::de::DeserializeSeed<'de> for Yaml11<'de> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Yaml11<'de> {
    /// Whether `s`, a scalar's value borrowed from the document, was written plain: not in
    /// quotes and without an explicit tag such as `!!str`. A value that is not a slice of the
    /// document (quoted with escapes, a block scalar, a folded plain one) never needs YAML 1.1's
    /// reading, so it counts as quoted.
    fn is_plain(&self, s: &str) -> bool {
        let base = self.src.as_ptr() as usize;
        let at = s.as_ptr() as usize;
        let Some(before) = at
            .checked_sub(base)
            .filter(|off| *off <= self.src.len())
            .and_then(|off| self.src.get(..off))
        else {
            return false;
        };
        if before.ends_with(['"', '\'']) {
            return false;
        }
        let token = before
            .trim_end()
            .rsplit(|c: char| c.is_whitespace() || matches!(c, '[' | '{' | ','))
            .next()
            .unwrap_or("");
        !token.starts_with('!')
    }
}

impl<'de> serde::de::Visitor<'de> for Yaml11<'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(go_float(v as f64))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(go_float(v as f64))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        if v.is_finite() {
            Ok(go_float(v))
        } else {
            // `json.Marshal` refuses infinities and NaN.
            Err(E::custom(format!(
                "json: unsupported value: {}",
                go_float_name(v)
            )))
        }
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value, E> {
        Ok(if self.is_plain(v) {
            yaml11_plain(v)
        } else {
            Value::String(v.to_owned())
        })
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        use serde::de::Error as _;
        let mut out = Map::new();
        let mut merged: Vec<Value> = Vec::new();
        while let Some(key) = map.next_key_seed(self)? {
            let value = map.next_value_seed(self)?;
            // sigs.k8s.io/yaml writes every key as a string.
            let key = match key {
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Null => "null".to_owned(),
                other => {
                    return Err(A::Error::custom(format!(
                        "unsupported map key of type {}",
                        json_kind(&other)
                    )));
                }
            };
            if key == "<<" {
                merged.push(value);
            } else {
                out.insert(key, value);
            }
        }
        // `<<: *base` or `<<: [*a, *b]`: keys written in the mapping win, then earlier sources.
        for source in merged {
            let sources = match source {
                Value::Array(a) => a,
                other => vec![other],
            };
            for m in sources {
                let Value::Object(m) = m else {
                    return Err(A::Error::custom(
                        "map merge requires map or sequence of maps as the value",
                    ));
                };
                for (k, v) in m {
                    out.entry(k).or_insert(v);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// The YAML 1.1 (go-yaml v2) reading of a plain scalar that yaml_serde left as a string.
fn yaml11_plain(s: &str) -> Value {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Value::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    // Numbers start with a digit or a sign (go-yaml's resolve table).
    if !s.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') {
        return Value::String(s.to_owned());
    }
    let plain = s.replace('_', "");
    if let Some(n) = go_parse_int_base0(&plain) {
        return n;
    }
    if yaml11_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return go_float(f);
    }
    Value::String(s.to_owned())
}

/// `strconv.ParseInt(s, 0, 64)`, else `strconv.ParseUint(s, 0, 64)`: a sign, then `0x`, `0o`,
/// `0b` or a leading `0` (octal) for the base.
fn go_parse_int_base0(s: &str) -> Option<Value> {
    let (neg, signed, body) = match s.as_bytes().first() {
        Some(b'-') => (true, true, &s[1..]),
        Some(b'+') => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if body.len() >= 3 && lower.starts_with("0x") {
        (16, &body[2..])
    } else if body.len() >= 3 && lower.starts_with("0o") {
        (8, &body[2..])
    } else if body.len() >= 3 && lower.starts_with("0b") {
        (2, &body[2..])
    } else if let Some(octal) = body.strip_prefix('0') {
        (8, octal)
    } else {
        (10, body)
    };
    if body.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let magnitude = if digits.is_empty() {
        0
    } else {
        u128::from_str_radix(digits, radix).ok()?
    };
    if neg {
        let v = -i128::try_from(magnitude).ok()?;
        return i64::try_from(v).ok().map(Value::from);
    }
    if let Ok(v) = i64::try_from(magnitude) {
        return Some(Value::from(v));
    }
    // ParseUint takes no sign.
    u64::try_from(magnitude)
        .ok()
        .filter(|_| !signed)
        .map(Value::from)
}

/// go-yaml v2's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml11_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && digits(frac),
        Some((int, frac)) => !int.is_empty() && digits(int) && digits(frac),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// A float as Go's `json.Marshal` writes a float64 and the API server then reads it: a whole
/// number below 1e21 is an integer (`3.0` is `3`, which an int32 field accepts).
fn go_float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e21 && f >= i64::MIN as f64 && f <= i64::MAX as f64 {
        Value::from(f as i64)
    } else {
        Value::from(f)
    }
}

fn go_float_name(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

// ---------------------------------------------------------------------------------------------
// Typed decoding

/// Decodes `value` as `T`, collecting ignored (unknown) fields; no value is coerced.
fn typed<T: DeserializeOwned>(value: &Value, kind: &str) -> Result<T, DecodeError> {
    let mut unknown = Vec::new();
    let result: Result<T, serde_json::Error> =
        serde_ignored::deserialize(value, |path| unknown.push(render_path(&path)));
    match result {
        Ok(obj) if unknown.is_empty() => Ok(obj),
        Ok(_) => Err(DecodeError::UnknownFields {
            kind: kind.to_owned(),
            version: version_of(value),
            fields: unknown,
            line: None,
        }),
        Err(err) => {
            let err = err.to_string();
            let path = locate::<T>(value, &err);
            let (detail, field) = describe_type_error::<T>(value, &err, &path);
            Err(DecodeError::Malformed {
                kind: kind.to_owned(),
                version: version_of(value),
                detail,
                field,
                line: None,
            })
        }
    }
}

fn version_of(value: &Value) -> String {
    let av = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    av.rsplit('/').next().unwrap_or(av).to_owned()
}

/// `spec.?.template.?.spec.?.containers.?.0.imagee` → `spec.template.spec.containers[0].imagee`.
fn render_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", render_path(parent)),
        Path::Map { parent, key } => {
            let p = render_path(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => render_path(parent),
    }
}

/// One step of a path into a JSON value.
#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn get<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The error message decoding `value` as `T` gives, or `None` when it decodes.
fn decode_error<T: DeserializeOwned>(value: &Value) -> Option<String> {
    serde_json::from_value::<T>(value.clone())
        .err()
        .map(|e| e.to_string())
}

/// Finds the deepest node whose removal makes the error `target` go away: the offending field.
///
/// serde reports the first error met while walking the object, and a struct reports missing
/// fields only after all present ones, so deleting a node changes the error exactly when the
/// error is inside that node. The root's `apiVersion` and `kind` are never candidates.
fn locate<T: DeserializeOwned>(value: &Value, target: &str) -> Vec<Seg> {
    let mut path: Vec<Seg> = Vec::new();
    loop {
        let Some(node) = get(value, &path) else {
            return path;
        };
        let children: Vec<Seg> = match node {
            Value::Object(m) => m
                .keys()
                .filter(|k| !(path.is_empty() && (*k == "apiVersion" || *k == "kind")))
                .map(|k| Seg::Key(k.clone()))
                .collect(),
            Value::Array(a) => (0..a.len()).map(Seg::Index).collect(),
            _ => return path,
        };
        let found = children.into_iter().find(|child| {
            let mut trial = value.clone();
            if let Some(parent) = get_mut(&mut trial, &path) {
                match (parent, child) {
                    (Value::Object(m), Seg::Key(k)) => {
                        m.remove(k);
                    }
                    (Value::Array(a), Seg::Index(i)) => {
                        a.remove(*i);
                    }
                    _ => {}
                }
            }
            decode_error::<T>(&trial).as_deref() != Some(target)
        });
        match found {
            Some(c) => path.push(c),
            None => return path,
        }
    }
}

/// What serde expects at `path`: first probed with `[]` (wrong for everything but sequences),
/// then with `false` (which names the sequence).
fn expected_kind_at<T: DeserializeOwned>(value: &Value, path: &[Seg]) -> String {
    expected_at::<T>(value, path, Value::Array(Vec::new()))
        .or_else(|| expected_at::<T>(value, path, Value::Bool(false)))
        .unwrap_or_default()
}

/// What serde says it expected when the node at `path` is replaced by `probe`.
fn expected_at<T: DeserializeOwned>(value: &Value, path: &[Seg], probe: Value) -> Option<String> {
    let mut trial = value.clone();
    *get_mut(&mut trial, path)? = probe;
    let msg = decode_error::<T>(&trial)?;
    msg.rsplit_once(", expected ").map(|(_, e)| e.to_owned())
}

/// Go's name for the type serde describes as `expected` (`i32` → `int32`,
/// `DeploymentSpec` → `v1.DeploymentSpec`); containers are resolved by probing their element.
fn go_type_at<T: DeserializeOwned>(value: &Value, path: &[Seg]) -> String {
    let expected = expected_kind_at::<T>(value, path);
    match expected.as_str() {
        "a sequence" => {
            let elem = expected_at::<T>(value, path, Value::Array(vec![Value::Bool(false)]));
            format!("[]{}", go_name(elem.as_deref().unwrap_or("")))
        }
        "a map" => {
            let mut m = Map::new();
            m.insert("k".into(), Value::Bool(false));
            let elem = expected_at::<T>(value, path, Value::Object(m));
            format!("map[string]{}", go_name(elem.as_deref().unwrap_or("")))
        }
        other => go_name(other),
    }
}

fn go_name(serde_expected: &str) -> String {
    match serde_expected {
        "i32" | "a 32-bit integer" | "IntOrString" => "int32".into(),
        "i64" => "int64".into(),
        "u32" => "uint32".into(),
        "u64" => "uint64".into(),
        "f64" | "f32" => "float64".into(),
        "a string" | "Quantity" => "string".into(),
        "a boolean" | "bool" => "bool".into(),
        "a sequence" => "[]interface {}".into(),
        "a map" => "map[string]string".into(),
        s if s.starts_with("struct ") => format!("v1.{}", &s["struct ".len()..]),
        s if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) => format!("v1.{s}"),
        s => s.to_owned(),
    }
}

/// The word encoding/json's `UnmarshalTypeError` uses for a JSON value
/// (`json: cannot unmarshal object into Go value of type ...`).
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Builds Go's `UnmarshalTypeError` text for a failed decode, and the field path with indexes.
fn describe_type_error<T: DeserializeOwned>(
    value: &Value,
    msg: &str,
    path: &[Seg],
) -> (String, Option<String>) {
    let Some(bad) = get(value, path).filter(|_| !path.is_empty()) else {
        return (format!("json: {msg}"), None);
    };
    let field_type = go_type_at::<T>(value, path);
    // The innermost struct holding the field: walk up past sequences and maps.
    let mut struct_name = String::new();
    let mut go_path: Vec<&str> = Vec::new();
    for depth in (0..path.len()).rev() {
        let parent = &path[..depth];
        let expected = expected_kind_at::<T>(value, parent);
        match expected.as_str() {
            "a sequence" | "a map" => {}
            s => {
                struct_name = s.strip_prefix("struct ").unwrap_or(s).to_owned();
                break;
            }
        }
    }
    // Go's field stack lists struct fields only (no indexes; map keys end the path).
    for (i, seg) in path.iter().enumerate() {
        if let Seg::Key(k) = seg {
            let parent_is_map = expected_kind_at::<T>(value, &path[..i]) == "a map";
            if parent_is_map {
                break;
            }
            go_path.push(k);
        }
    }
    let mut found = json_kind(bad).to_owned();
    if let Value::Number(n) = bad
        && field_type.starts_with("int")
    {
        found = format!("number {n}");
    }
    let field = render_segs(path);
    (
        format!(
            "json: cannot unmarshal {found} into Go struct field {struct_name}.{} of type {field_type}",
            go_path.join(".")
        ),
        Some(field),
    )
}

fn render_segs(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Fails decoding on a resource quantity that does not parse, as Go's `Quantity.UnmarshalJSON`.
fn check_quantities(obj: Object) -> Result<Object, DecodeError> {
    use k8s_openapi::api::core::v1::PodSpec;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use std::collections::BTreeMap;

    fn bad_in(map: Option<&BTreeMap<String, Quantity>>) -> bool {
        map.into_iter()
            .flatten()
            .any(|(_, q)| parse_quantity(q.0.trim()).is_err())
    }
    fn bad_pod(spec: Option<&PodSpec>) -> bool {
        spec.into_iter().any(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
                .filter_map(|c| c.resources.as_ref())
                .any(|r| bad_in(r.limits.as_ref()) || bad_in(r.requests.as_ref()))
        })
    }
    let bad = match &obj {
        Object::Pod(p) => bad_pod(p.spec.as_ref()),
        Object::Deployment(d) => bad_pod(d.spec.as_ref().and_then(|s| s.template.spec.as_ref())),
        Object::ReplicaSet(rs) => bad_pod(
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .and_then(|t| t.spec.as_ref()),
        ),
        Object::Node(n) => n
            .status
            .as_ref()
            .is_some_and(|s| bad_in(s.capacity.as_ref()) || bad_in(s.allocatable.as_ref())),
        _ => false,
    };
    if bad {
        return Err(DecodeError::Malformed {
            kind: obj.kind().to_owned(),
            version: "v1".to_owned(),
            detail: super::quantity::QuantityError::FormatWrong.to_string(),
            field: None,
            line: None,
        });
    }
    Ok(obj)
}

impl fmt::Display for Manifest {
    /// `Deployment/credit-scoring-api (line 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} (line {})",
            self.object.kind(),
            self.object.name(),
            self.line
        )
    }
}

#[cfg(test)]
mod tests;
