//! The OpenAPI v2 (Swagger 2.0) document of `/openapi/v2`: every served group-version's v3
//! document merged into one, converted as kube-openapi converts between the two (schemas
//! under `definitions`, `$ref`s to `#/definitions/`, request bodies as `in: body`
//! parameters, response content as `schema`), so it carries the same registry, schemas and
//! merge extensions as v3. kubectl asks for it as protobuf (gnostic's `openapi.v2.Document`,
//! `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) when a v3 document lacks a
//! kind; [`protobuf`] encodes its `swagger`, `info` and `definitions` (the part kubectl's
//! validation and patching read), leaving out the paths.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::{all, fnv64a};

/// The document as served: JSON, its protobuf encoding, and a content hash for the ETag.
#[derive(Debug)]
pub struct SwaggerV2 {
    /// The document.
    pub document: Value,
    /// Compact JSON.
    pub json: String,
    /// gnostic's protobuf encoding.
    pub protobuf: Vec<u8>,
    /// FNV-1a of `json`, in hex.
    pub hash: String,
}

/// The v2 document, built on first use.
pub fn swagger() -> &'static SwaggerV2 {
    static DOC: OnceLock<SwaggerV2> = OnceLock::new();
    DOC.get_or_init(|| {
        let document = build();
        let json = document.to_string();
        let protobuf = protobuf(&document);
        let hash = format!("{:016X}", fnv64a(json.as_bytes()));
        SwaggerV2 {
            document,
            json,
            protobuf,
            hash,
        }
    })
}

fn build() -> Value {
    let mut paths = Map::new();
    let mut definitions = Map::new();
    for p in all() {
        for (path, item) in p.document["paths"].as_object().into_iter().flatten() {
            paths.insert(path.clone(), path_item(item));
        }
        let schemas = p.document["components"]["schemas"].as_object();
        for (name, schema) in schemas.into_iter().flatten() {
            definitions.insert(name.clone(), schema_v2(schema));
        }
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.35.0"},
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "type": "apiKey",
                "name": "authorization",
                "in": "header"
            }
        },
        "security": [{"BearerToken": []}]
    })
}

/// A v3 schema as v2 writes it: `$ref`s into `#/definitions/`, an `allOf` of one reference
/// (v3's way of describing a reference) folded back into the reference, no `nullable`, and
/// the `oneOf` of IntOrString and Quantity a `string`, as kube-openapi publishes them in v2.
fn schema_v2(s: &Value) -> Value {
    match s {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                match k.as_str() {
                    "$ref" => {
                        let r = v.as_str().unwrap_or("");
                        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
                        out.insert(k.clone(), json!(format!("#/definitions/{name}")));
                    }
                    "nullable" | "anyOf" => {}
                    // IntOrString and Quantity: v2 has them as strings (`int-or-string`).
                    "oneOf" if !m.contains_key("type") => {
                        out.insert("type".into(), json!("string"));
                    }
                    "oneOf" => {}
                    "allOf" if v.as_array().is_some_and(|a| a.len() == 1) => {
                        if let Some(Value::Object(inner)) = v.get(0).map(schema_v2) {
                            out.extend(inner);
                        }
                    }
                    // A property named like a keyword is still a property.
                    "properties" => {
                        let props: Map<String, Value> = v
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(name, p)| (name.clone(), schema_v2(p)))
                            .collect();
                        out.insert(k.clone(), Value::Object(props));
                    }
                    "default" | "enum" | "example" => {
                        out.insert(k.clone(), v.clone());
                    }
                    _ => {
                        out.insert(k.clone(), schema_v2(v));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(schema_v2).collect()),
        other => other.clone(),
    }
}

/// A v3 path item as v2: parameters with their type inline, the request body as a `body`
/// parameter and the media types as `consumes`, response content as a `schema` and the
/// media types as `produces`.
fn path_item(item: &Value) -> Value {
    let mut out = Map::new();
    for (k, v) in item.as_object().into_iter().flatten() {
        match k.as_str() {
            "parameters" => {
                out.insert(k.clone(), parameters(v));
            }
            "get" | "put" | "post" | "delete" | "patch" | "head" | "options" => {
                out.insert(k.clone(), operation(v));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

fn parameters(v: &Value) -> Value {
    Value::Array(
        v.as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let mut p = p.as_object().cloned().unwrap_or_default();
                if let Some(Value::Object(schema)) = p.remove("schema") {
                    for (k, v) in schema {
                        p.entry(k).or_insert(v);
                    }
                }
                Value::Object(p)
            })
            .collect(),
    )
}

fn operation(op: &Value) -> Value {
    let mut out = Map::new();
    let mut params = op.get("parameters").map(parameters).unwrap_or(json!([]));
    for (k, v) in op.as_object().into_iter().flatten() {
        match k.as_str() {
            "parameters" => {}
            "requestBody" => {
                let content = v["content"].as_object();
                let types: Vec<Value> = content
                    .into_iter()
                    .flatten()
                    .map(|(t, _)| json!(t))
                    .collect();
                let schema = content
                    .and_then(|c| c.values().next())
                    .map(|m| schema_v2(&m["schema"]))
                    .unwrap_or(json!({}));
                if let Some(a) = params.as_array_mut() {
                    a.push(json!({
                        "name": "body",
                        "in": "body",
                        "required": v["required"].as_bool().unwrap_or(false),
                        "schema": schema,
                    }));
                }
                out.insert("consumes".into(), Value::Array(types));
            }
            "responses" => {
                let mut produces = Vec::new();
                let mut responses = Map::new();
                for (code, r) in v.as_object().into_iter().flatten() {
                    let mut resp = Map::new();
                    resp.insert("description".into(), r["description"].clone());
                    if let Some(content) = r["content"].as_object() {
                        for t in content.keys() {
                            if !produces.contains(&json!(t)) {
                                produces.push(json!(t));
                            }
                        }
                        if let Some(m) = content.values().next() {
                            resp.insert("schema".into(), schema_v2(&m["schema"]));
                        }
                    }
                    responses.insert(code.clone(), Value::Object(resp));
                }
                out.insert("produces".into(), Value::Array(produces));
                out.insert(k.clone(), Value::Object(responses));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if params.as_array().is_some_and(|a| !a.is_empty()) {
        out.insert("parameters".into(), std::mem::take(&mut params));
    }
    Value::Object(out)
}

// ---- gnostic `openapi.v2` protobuf ----

/// Protocol buffer writing: varints, and length-delimited fields.
#[derive(Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn tag(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.tag(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }
    fn message(&mut self, field: u32, m: &Pb) {
        self.bytes(field, &m.0);
    }
    fn boolean(&mut self, field: u32, b: bool) {
        if b {
            self.tag(field, 0);
            self.varint(1);
        }
    }
    fn int(&mut self, field: u32, v: i64) {
        if v != 0 {
            self.tag(field, 0);
            self.varint(v as u64);
        }
    }
    fn double(&mut self, field: u32, v: f64) {
        self.tag(field, 1);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// `Any`: a value as YAML text (JSON is YAML).
fn any(v: &Value) -> Pb {
    let mut a = Pb::default();
    a.string(2, &v.to_string());
    a
}

/// `Document`: `swagger` (1), `info` (2: title, version), `definitions` (9).
pub fn protobuf(doc: &Value) -> Vec<u8> {
    let mut d = Pb::default();
    d.string(1, doc["swagger"].as_str().unwrap_or("2.0"));
    let mut info = Pb::default();
    info.string(1, doc["info"]["title"].as_str().unwrap_or(""));
    info.string(2, doc["info"]["version"].as_str().unwrap_or(""));
    d.message(2, &info);
    let mut defs = Pb::default();
    for (name, s) in doc["definitions"].as_object().into_iter().flatten() {
        defs.message(1, &named_schema(name, s));
    }
    d.message(9, &defs);
    d.0
}

fn named_schema(name: &str, s: &Value) -> Pb {
    let mut n = Pb::default();
    n.string(1, name);
    n.message(2, &schema_pb(s));
    n
}

/// `Schema`, field by field as gnostic numbers them.
fn schema_pb(s: &Value) -> Pb {
    let mut p = Pb::default();
    let str_of = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
    p.string(1, str_of("$ref"));
    p.string(2, str_of("format"));
    p.string(3, str_of("title"));
    p.string(4, str_of("description"));
    if let Some(d) = s.get("default") {
        p.message(5, &any(d));
    }
    if let Some(v) = s.get("maximum").and_then(Value::as_f64) {
        p.double(7, v);
    }
    p.boolean(
        8,
        s.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true),
    );
    if let Some(v) = s.get("minimum").and_then(Value::as_f64) {
        p.double(9, v);
    }
    p.boolean(
        10,
        s.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true),
    );
    p.int(11, s.get("maxLength").and_then(Value::as_i64).unwrap_or(0));
    p.int(12, s.get("minLength").and_then(Value::as_i64).unwrap_or(0));
    p.string(13, str_of("pattern"));
    p.int(14, s.get("maxItems").and_then(Value::as_i64).unwrap_or(0));
    p.int(15, s.get("minItems").and_then(Value::as_i64).unwrap_or(0));
    p.boolean(
        16,
        s.get("uniqueItems").and_then(Value::as_bool) == Some(true),
    );
    for r in s
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        p.string(19, r.as_str().unwrap_or(""));
    }
    for e in s
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        p.message(20, &any(e));
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut a = Pb::default();
            a.tag(2, 0);
            a.varint(u64::from(*b));
            p.message(21, &a);
        }
        Some(v @ Value::Object(_)) => {
            let mut a = Pb::default();
            a.message(1, &schema_pb(v));
            p.message(21, &a);
        }
        _ => {}
    }
    match s.get("type") {
        Some(Value::String(t)) => {
            let mut t2 = Pb::default();
            t2.string(1, t);
            p.message(22, &t2);
        }
        Some(Value::Array(ts)) => {
            let mut t2 = Pb::default();
            for t in ts {
                t2.string(1, t.as_str().unwrap_or(""));
            }
            p.message(22, &t2);
        }
        _ => {}
    }
    if let Some(items) = s.get("items") {
        let mut i = Pb::default();
        match items {
            Value::Array(a) => {
                for it in a {
                    i.message(1, &schema_pb(it));
                }
            }
            one => i.message(1, &schema_pb(one)),
        }
        p.message(23, &i);
    }
    for a in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        p.message(24, &schema_pb(a));
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        let mut pp = Pb::default();
        for (name, v) in props {
            pp.message(1, &named_schema(name, v));
        }
        p.message(25, &pp);
    }
    p.boolean(27, s.get("readOnly").and_then(Value::as_bool) == Some(true));
    for (k, v) in s.as_object().into_iter().flatten() {
        if k.starts_with("x-") {
            let mut n = Pb::default();
            n.string(1, k);
            n.message(2, &any(v));
            p.message(31, &n);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_kind_is_a_definition_with_its_group_version_kind() {
        let doc = &swagger().document;
        assert_eq!(doc["swagger"], "2.0");
        for r in crate::api::resource::RESOURCES {
            let name = crate::api::schema::root(r.kind);
            let def = &doc["definitions"][name];
            let gvk = &def["x-kubernetes-group-version-kind"][0];
            assert_eq!(gvk["kind"], r.kind.as_str(), "{name}");
        }
        let quantity = &doc["definitions"]["io.k8s.apimachinery.pkg.api.resource.Quantity"];
        assert_eq!(quantity["type"], "string");
        let text = &swagger().json;
        assert!(
            !text.contains("#/components/"),
            "every $ref points into definitions"
        );
        assert!(!text.contains("\"requestBody\""));
        let quota = &doc["paths"]["/api/v1/namespaces/{namespace}/resourcequotas"]["post"];
        assert_eq!(
            quota["parameters"]
                .as_array()
                .and_then(|a| a.last())
                .map(|p| &p["in"]),
            Some(&json!("body"))
        );
    }

    #[test]
    fn the_protobuf_is_a_gnostic_document() {
        let pb = &swagger().protobuf;
        // Field 1 (swagger) first: tag 0x0a, length 3, "2.0".
        assert_eq!(&pb[..5], b"\x0a\x032.0");
        // Each definition's name is in it, once per definition.
        let needle = b"io.k8s.api.core.v1.ResourceQuota";
        assert!(pb.windows(needle.len()).any(|w| w == needle));
    }
}
