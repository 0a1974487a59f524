//! Kubernetes' protobuf encoding of objects, read into the API's JSON. kubectl's generators
//! (`kubectl create deployment`, `create namespace`, `create service ...`) send their object
//! as `application/vnd.kubernetes.protobuf`, as client-go's typed clients do; a real API
//! server accepts it, so kubesim reads it too, then handles the JSON like any other body.
//!
//! The format: the magic `k8s\0`, then a `runtime.Unknown` message whose `typeMeta` names the
//! kind and whose `raw` holds the object's message. Field numbers and types come from
//! Kubernetes' own `generated.proto` files (apps/v1, core/v1, meta/v1, networking/v1's
//! Ingress and IngressClass messages, `kubectl create ingress`), compiled into
//! `proto/schema.txt` by `proto/gen_schema.py`. Go's encoder writes every non-pointer field,
//! zero values included; those are dropped here, as the API server's Go structs cannot tell
//! them from unset either (except `replicas`, a pointer, where 0 means 0).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

/// The magic prefix of a protobuf-encoded Kubernetes object.
const MAGIC: &[u8] = b"k8s\0";

/// The content type kubectl names.
pub(crate) const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// One field of a message.
struct Field {
    name: &'static str,
    /// `o` optional, `r` repeated, `m` map<string, ty>.
    label: u8,
    ty: &'static str,
}

/// Message name -> field number -> field.
type Schema = BTreeMap<&'static str, BTreeMap<u64, Field>>;

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let mut s: Schema = BTreeMap::new();
    for line in include_str!("../proto/schema.txt").lines() {
        if line.starts_with('#') {
            continue;
        }
        let w: Vec<&'static str> = line.split(' ').collect();
        if let [msg, num, name, label, ty] = w.as_slice()
            && let Ok(n) = num.parse()
        {
            s.entry(msg).or_default().insert(
                n,
                Field {
                    name,
                    label: label.as_bytes()[0],
                    ty,
                },
            );
        }
    }
    s
});

/// Decodes a protobuf body into the object's JSON (with `apiVersion` and `kind`).
pub(crate) fn decode(body: &[u8]) -> Result<Value, String> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("the body is not a Kubernetes protobuf object (no k8s magic prefix)")?;
    // runtime.Unknown: typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2.
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    let mut r = Reader(rest);
    while let Some((num, wire)) = r.tag()? {
        match (num, wire) {
            (1, 2) => {
                let mut t = Reader(r.bytes()?);
                while let Some((n, w)) = t.tag()? {
                    match (n, w) {
                        (1, 2) => api_version = t.string()?,
                        (2, 2) => kind = t.string()?,
                        _ => t.skip(w)?,
                    }
                }
            }
            (2, 2) => raw = r.bytes()?,
            _ => r.skip(wire)?,
        }
    }
    if kind.is_empty() {
        return Err("the protobuf object names no kind".into());
    }
    if !SCHEMA.contains_key(kind.as_str()) {
        return Err(format!(
            "kubesim cannot read a {kind} sent as protobuf; send it as JSON (kubectl apply -f)"
        ));
    }
    let mut obj = match message(raw, &kind, 0)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    obj.insert("apiVersion".into(), Value::String(api_version));
    obj.insert("kind".into(), Value::String(kind));
    Ok(Value::Object(obj))
}

/// Fields that are Go structs embedded with `json:",inline"`: their message's fields are the
/// parent's in JSON (`IngressRule.http`, not `IngressRule.ingressRuleValue.http`).
const INLINE: &[(&str, &str)] = &[("IngressRule", "ingressRuleValue")];

/// The JSON name of a field whose protobuf name go-to-protobuf derived from the Go name
/// (`IngressClassParametersReference.APIGroup` is `aPIGroup` in networking/v1's proto).
fn json_name(proto: &str) -> &str {
    match proto {
        "aPIGroup" => "apiGroup",
        other => other,
    }
}

/// The JSON of message `name` encoded in `buf`.
fn message(buf: &[u8], name: &str, depth: usize) -> Result<Value, String> {
    if depth > 64 {
        return Err("the protobuf object is nested too deeply".into());
    }
    let mut r = Reader(buf);
    // Special messages with a JSON form of their own.
    match name {
        "Time" | "MicroTime" => {
            let (mut secs, mut nanos) = (0i64, 0i64);
            while let Some((n, w)) = r.tag()? {
                match (n, w) {
                    (1, 0) => secs = r.varint()? as i64,
                    (2, 0) => nanos = r.varint()? as i64,
                    _ => r.skip(w)?,
                }
            }
            if secs == 0 && nanos == 0 {
                return Ok(Value::Null);
            }
            return Ok(Value::String(rfc3339(secs, nanos, name == "MicroTime")));
        }
        "Quantity" => {
            let mut s = String::new();
            while let Some((n, w)) = r.tag()? {
                match (n, w) {
                    (1, 2) => s = r.string()?,
                    _ => r.skip(w)?,
                }
            }
            return Ok(Value::String(s));
        }
        "IntOrString" => {
            let (mut ty, mut int, mut s) = (0u64, 0i64, String::new());
            while let Some((n, w)) = r.tag()? {
                match (n, w) {
                    (1, 0) => ty = r.varint()?,
                    (2, 0) => int = i64::from(r.varint()? as i32),
                    (3, 2) => s = r.string()?,
                    _ => r.skip(w)?,
                }
            }
            return Ok(if ty == 1 {
                Value::String(s)
            } else {
                Value::from(int)
            });
        }
        "RawExtension" => {
            let mut raw = Value::Null;
            while let Some((n, w)) = r.tag()? {
                match (n, w) {
                    (1, 2) => raw = serde_json::from_slice(r.bytes()?).unwrap_or(Value::Null),
                    _ => r.skip(w)?,
                }
            }
            return Ok(raw);
        }
        _ => {}
    }
    let fields = SCHEMA
        .get(name)
        .ok_or_else(|| format!("kubesim cannot read the protobuf message {name}"))?;
    let mut out = Map::new();
    while let Some((num, wire)) = r.tag()? {
        let Some(f) = fields.get(&num) else {
            return Err(format!(
                "kubesim cannot read field {num} of {name} in protobuf (a field newer than its schema); send the object as JSON"
            ));
        };
        match f.label {
            b'm' => {
                // A map entry: key = 1, value = 2.
                let mut e = Reader(r.bytes()?);
                let (mut key, mut val) = (String::new(), Value::Null);
                while let Some((n, w)) = e.tag()? {
                    match n {
                        1 => key = e.string()?,
                        2 => val = value(&mut e, w, f.ty, depth)?,
                        _ => e.skip(w)?,
                    }
                }
                if val.is_null() {
                    val = zero(f.ty);
                }
                let m = out
                    .entry(f.name)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = m {
                    m.insert(key, val);
                }
            }
            b'r' => {
                let items = if wire == 2 && is_varint(f.ty) {
                    // Packed scalars.
                    let mut p = Reader(r.bytes()?);
                    let mut v = Vec::new();
                    while !p.0.is_empty() {
                        v.push(value(&mut p, 0, f.ty, depth)?);
                    }
                    v
                } else {
                    vec![value(&mut r, wire, f.ty, depth)?]
                };
                let list = out
                    .entry(f.name)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(l) = list {
                    l.extend(items);
                }
            }
            _ => {
                let v = value(&mut r, wire, f.ty, depth)?;
                let keep = match &v {
                    Value::Null => false,
                    Value::String(s) => !s.is_empty(),
                    Value::Bool(b) => *b,
                    Value::Number(n) => f.name == "replicas" || n.as_f64() != Some(0.0),
                    _ => true,
                };
                if !keep {
                    continue;
                }
                match (INLINE.contains(&(name, f.name)), v) {
                    // An embedded struct whose fields JSON writes in the parent.
                    (true, Value::Object(inner)) => out.extend(inner),
                    (_, v) => {
                        out.insert(json_name(f.name).to_string(), v);
                    }
                }
            }
        }
    }
    Ok(Value::Object(out))
}

fn is_varint(ty: &str) -> bool {
    matches!(ty, "int32" | "int64" | "uint32" | "uint64" | "bool")
}

/// The JSON zero of a type (a map value sent empty).
fn zero(ty: &str) -> Value {
    match ty {
        "string" | "bytes" | "Quantity" => Value::String(String::new()),
        "bool" => Value::Bool(false),
        t if is_varint(t) => Value::from(0),
        _ => Value::Object(Map::new()),
    }
}

/// One value of type `ty` at the reader.
fn value(r: &mut Reader<'_>, wire: u64, ty: &str, depth: usize) -> Result<Value, String> {
    let mismatch = || format!("protobuf wire type {wire} does not fit a {ty}");
    Ok(match (ty, wire) {
        ("string", 2) => Value::String(r.string()?),
        // JSON carries bytes in base64 (a Secret's `data`, a ConfigMap's `binaryData`), as
        // k8s-openapi's ByteString writes them.
        ("bytes", 2) => {
            serde_json::to_value(sim_core::api::k8s_openapi::ByteString(r.bytes()?.to_vec()))
                .map_err(|e| e.to_string())?
        }
        ("bool", 0) => Value::Bool(r.varint()? != 0),
        ("int32", 0) => Value::from(r.varint()? as i32),
        ("int64", 0) => Value::from(r.varint()? as i64),
        ("uint32" | "uint64", 0) => Value::from(r.varint()?),
        ("double", 1) => Value::from(f64::from_le_bytes(r.fixed::<8>()?)),
        ("float", 5) => Value::from(f64::from(f32::from_le_bytes(r.fixed::<4>()?))),
        (_, 2) if !is_varint(ty) => message(r.bytes()?, ty, depth + 1)?,
        _ => return Err(mismatch()),
    })
}

/// `2026-11-24T21:50:46Z` (MicroTime: six decimals) from Unix seconds and nanoseconds.
fn rfc3339(secs: i64, nanos: i64, micro: bool) -> String {
    let Ok(t) = k8s_openapi::jiff::Timestamp::from_second(secs) else {
        return String::new();
    };
    let whole = t.strftime("%Y-%m-%dT%H:%M:%S");
    if micro {
        format!("{whole}.{:06}Z", nanos / 1000)
    } else {
        format!("{whole}Z")
    }
}

/// Reads protobuf's wire format.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.0.split_first().ok_or("truncated protobuf varint")?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("protobuf varint too long".into())
    }

    /// The next field's (number, wire type), or `None` at the end.
    fn tag(&mut self) -> Result<Option<(u64, u64)>, String> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let t = self.varint()?;
        Ok(Some((t >> 3, t & 7)))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = usize::try_from(self.varint()?).map_err(|_| "protobuf length too large")?;
        if n > self.0.len() {
            return Err("truncated protobuf field".into());
        }
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(b)
    }

    fn string(&mut self) -> Result<String, String> {
        String::from_utf8(self.bytes()?.to_vec())
            .map_err(|_| "a protobuf string is not UTF-8".into())
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], String> {
        if self.0.len() < N {
            return Err("truncated protobuf field".into());
        }
        let (b, rest) = self.0.split_at(N);
        self.0 = rest;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    fn skip(&mut self, wire: u64) -> Result<(), String> {
        match wire {
            0 => self.varint().map(|_| ()),
            1 => self.fixed::<8>().map(|_| ()),
            2 => self.bytes().map(|_| ()),
            5 => self.fixed::<4>().map(|_| ()),
            w => Err(format!("protobuf wire type {w} is not supported")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protobuf writer, for building bodies as Go's encoder does.
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn field(num: u64, payload: &[u8], out: &mut Vec<u8>) {
        varint(num << 3 | 2, out);
        varint(payload.len() as u64, out);
        out.extend_from_slice(payload);
    }
    fn int(num: u64, v: u64, out: &mut Vec<u8>) {
        varint(num << 3, out);
        varint(v, out);
    }
    fn msg(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    /// A Deployment as `kubectl create deployment web --image=nginx:1.27 --replicas=3` sends it.
    fn deployment_body() -> Vec<u8> {
        let labels = msg(|m| {
            field(1, b"app", m);
            field(2, b"web", m);
        });
        let meta = msg(|m| {
            field(1, b"web", m);
            field(2, b"", m); // generateName, empty: dropped
            field(8, &[], m); // creationTimestamp, zero: dropped
            field(11, &labels, m);
        });
        let port = msg(|m| int(3, 80, m));
        let container = msg(|m| {
            field(1, b"nginx", m);
            field(2, b"nginx:1.27", m);
            field(6, &port, m);
            field(8, &[], m); // resources {}
        });
        let spec = msg(|m| {
            int(1, 3, m); // replicas
            field(2, &msg(|s| field(1, &labels, s)), m);
            field(
                3,
                &msg(|t| {
                    field(1, &msg(|tm| field(11, &labels, tm)), t);
                    field(2, &msg(|ps| field(2, &container, ps)), t);
                }),
                m,
            );
            let max_surge = msg(|i| {
                int(1, 1, i);
                field(3, b"25%", i);
            });
            field(
                4,
                &msg(|st| field(2, &msg(|ru| field(2, &max_surge, ru)), st)),
                m,
            );
        });
        let raw = msg(|m| {
            field(1, &meta, m);
            field(2, &spec, m);
            field(3, &[], m);
        });
        let mut body = MAGIC.to_vec();
        body.extend(msg(|u| {
            field(
                1,
                &msg(|t| {
                    field(1, b"apps/v1", t);
                    field(2, b"Deployment", t);
                }),
                u,
            );
            field(2, &raw, u);
        }));
        body
    }

    #[test]
    fn a_deployment_as_kubectl_create_sends_it() {
        let body = deployment_body();
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{
                            "name": "nginx", "image": "nginx:1.27",
                            "ports": [{"containerPort": 80}], "resources": {},
                        }]},
                    },
                    "strategy": {"rollingUpdate": {"maxSurge": "25%"}},
                },
                "status": {},
            })
        );
    }

    /// A fuzz of the decoder: a real body with bytes flipped, varints stretched, lengths made
    /// huge, ranges cut or repeated — 20,000 seeded mutations, each an answer or an error.
    #[test]
    fn mutated_bodies_decode_or_are_refused_without_a_panic() {
        let good = deployment_body();
        let mut rng = sim_core::rng::SimRng::new(15);
        let (mut decoded, mut refused) = (0, 0);
        for _ in 0..20_000 {
            let mut b = good.clone();
            for _ in 0..1 + rng.below(4) {
                let n = b.len() as u64;
                let i = MAGIC.len() + rng.below(n - MAGIC.len() as u64) as usize;
                match rng.below(6) {
                    0 => b[i] ^= 1 << rng.below(8),
                    1 => b[i] = [0x00, 0x7f, 0x80, 0xff][rng.below(4) as usize],
                    2 => {
                        let len = [0xff, 0xff, 0xff, 0xff, 0x0f];
                        b.splice(i..i, len);
                    }
                    3 => {
                        let end = (i + 1 + rng.below(16) as usize).min(b.len());
                        b.drain(i..end);
                    }
                    4 => {
                        let end = (i + 1 + rng.below(24) as usize).min(b.len());
                        let part = b[i..end].to_vec();
                        b.splice(i..i, part);
                    }
                    _ => b.truncate(i),
                }
                if b.len() <= MAGIC.len() {
                    break;
                }
            }
            match decode(&b) {
                Ok(_) => decoded += 1,
                Err(e) => {
                    assert!(!e.is_empty());
                    refused += 1;
                }
            }
        }
        assert!(
            decoded > 100 && refused > 100,
            "{decoded} decoded, {refused} refused"
        );
    }

    #[test]
    fn a_secrets_bytes_become_base64_as_in_json() {
        let entry = |k: &[u8], v: &[u8]| {
            msg(|e| {
                field(1, k, e);
                if !v.is_empty() {
                    field(2, v, e);
                }
            })
        };
        let raw = msg(|m| {
            field(1, &msg(|meta| field(1, b"db", meta)), m);
            field(2, &entry(b"password", b"s3cr\xff"), m);
            field(2, &entry(b"empty", b""), m);
            field(3, b"Opaque", m);
        });
        let mut body = MAGIC.to_vec();
        body.extend(msg(|u| {
            field(
                1,
                &msg(|t| {
                    field(1, b"v1", t);
                    field(2, b"Secret", t);
                }),
                u,
            );
            field(2, &raw, u);
        }));
        assert_eq!(
            decode(&body).unwrap(),
            serde_json::json!({
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                "data": {"password": "czNjcv8=", "empty": ""}, "type": "Opaque",
            })
        );
    }

    #[test]
    fn bad_bodies_are_errors_not_panics() {
        assert!(decode(b"{}").unwrap_err().contains("magic"));
        let mut body = MAGIC.to_vec();
        body.extend([0x0a, 0x05, 0x01]);
        assert!(decode(&body).is_err());
        let mut body = MAGIC.to_vec();
        body.extend(msg(|u| {
            field(1, &msg(|t| field(2, b"Widget", t)), u);
        }));
        assert!(decode(&body).unwrap_err().contains("Widget"));
        // Every prefix of a valid body fails cleanly.
        let mut body = MAGIC.to_vec();
        body.extend(msg(|u| {
            field(1, &msg(|t| field(2, b"Namespace", t)), u);
            field(2, &msg(|r| field(1, &msg(|m| field(1, b"work", m)), r)), u);
        }));
        assert_eq!(decode(&body).unwrap()["metadata"]["name"], "work");
        for n in 0..body.len() {
            let _ = decode(&body[..n]);
        }
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0, 0, false), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_557_046, 0, false), "2026-11-24T21:50:46Z");
        assert_eq!(
            rfc3339(951_782_400, 123_456_000, true),
            "2000-02-29T00:00:00.123456Z"
        );
    }
}
