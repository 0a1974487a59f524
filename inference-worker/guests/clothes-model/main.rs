//! clothes-model: a TF-Serving-style model server for the clothes classifier, kubesim worker ABI v1.
//!
//! `POST /v1/models/clothes-model:predict` `{"instances": [[64 values 0..16]]}` (an 8x8 grey
//! image, flat or as 8 rows of 8) → `{"predictions": [[10 class scores summing to 1]]}`;
//! `GET /v1/models/clothes-model` → TF Serving's model status. The model is an MLP 64-128-64-10
//! trained on scikit-learn's 8x8 digits (the "clothes" classes are the digits 0-9; docs/models.md).
//! It is the expensive tier: about 17 000 multiply-adds per image, against the gateway's resize.

#[path = "../common/arena.rs"]
mod arena;
#[path = "../common/cgi.rs"]
mod cgi;
#[path = "../common/classes.rs"]
mod classes;
#[path = "../common/json.rs"]
mod json;
mod weights;

use cgi::{Env, Log, Request, Response};
use json::{obj, Json};

/// At most this many images per request, to bound a request's memory and fuel.
const MAX_INSTANCES: usize = 256;

fn main() {
    cgi::serve(start, handle);
}

/// Every invocation allocates from a fresh arena, so a kept instance burns what a fresh one
/// does (`common/arena.rs`).
#[global_allocator]
static ALLOC: arena::Arena = arena::Arena;

/// The reactor entry of the worker ABI (docs/worker-abi.md): kubesim calls it once per request
/// on one instance per container, instead of `_start` on a fresh instance.
#[no_mangle]
pub extern "C" fn kubesim_handle() {
    cgi::invocation(start, handle);
}

fn model_name(env: &Env) -> &str {
    env.get_or("MODEL_NAME", "clothes-model")
}

/// The start invocation: log like TensorFlow Serving.
pub fn start(env: &Env, log: &mut Log) -> i32 {
    let name = model_name(env);
    log.err(&format!(
        "I tensorflow_serving/model_servers/server.cc:77] Building single TensorFlow model file config:  model_name: {} model_base_path: /models/{}",
        name, name
    ));
    log.err(&format!(
        "I tensorflow_serving/core/loader_harness.cc:95] Successfully loaded servable version {{name: {} version: 1}} (MLP {}-{}-{}-{}, classes: {})",
        name,
        weights::IN1,
        weights::OUT1,
        weights::OUT2,
        weights::OUT3,
        classes::CLASS_NAMES.join(", ")
    ));
    log.err("I tensorflow_serving/model_servers/server.cc:428] Running gRPC ModelServer at 0.0.0.0:8500 ...");
    log.err(&format!(
        "I tensorflow_serving/model_servers/server.cc:449] Exporting HTTP/REST API at:localhost:{} ...",
        env.get_or("PORT", "8501")
    ));
    0
}

/// A request invocation.
pub fn handle(env: &Env, req: &Request, _log: &mut Log) -> Response {
    let name = model_name(env);
    let model_path = format!("/v1/models/{}", name);
    let predict_path = format!("/v1/models/{}:predict", name);
    let path = req.path.as_str();
    match req.method.as_str() {
        "GET" if path == "/" || path == "/healthz" => {
            Response::json(200, &obj(vec![("status", Json::from("ok"))]))
        }
        "GET" if path == model_path => Response::json(200, &model_status()),
        "POST" if path == predict_path => predict(req),
        _ if path == "/" || path == "/healthz" || path == model_path || path == predict_path => {
            error(405, &format!("Method {} is not allowed for {}", req.method, path))
        }
        _ if path.starts_with("/v1/models/") => {
            let requested = path["/v1/models/".len()..].split(|c| c == ':' || c == '/').next().unwrap_or("");
            error(404, &format!("Servable not found for request: Latest({})", requested))
        }
        _ => error(404, &format!("Malformed request: {} {}", req.method, path)),
    }
}

/// TF Serving's error shape: `{"error": "..."}`.
fn error(status: u16, msg: &str) -> Response {
    Response::json(status, &obj(vec![("error", Json::from(msg))]))
}

fn model_status() -> Json {
    obj(vec![(
        "model_version_status",
        Json::Arr(vec![obj(vec![
            ("version", Json::from("1")),
            ("state", Json::from("AVAILABLE")),
            ("status", obj(vec![("error_code", Json::from("OK")), ("error_message", Json::from(""))])),
        ])]),
    )])
}

fn predict(req: &Request) -> Response {
    let body = match json::parse_bytes(&req.body) {
        Ok(b) => b,
        Err(e) => return error(400, &format!("JSON Parse error: {}", e)),
    };
    let instances = match body.get("instances").and_then(|v| v.as_array()) {
        Some(items) => items,
        None => return error(400, "Missing 'instances' key: expected {\"instances\": [[64 numbers]]}"),
    };
    if instances.len() > MAX_INSTANCES {
        return error(400, &format!("Too many instances: {} (at most {})", instances.len(), MAX_INSTANCES));
    }
    let mut predictions = Vec::with_capacity(instances.len());
    for (i, inst) in instances.iter().enumerate() {
        let x = match pixels(inst) {
            Ok(x) => x,
            Err(msg) => return error(400, &format!("instances[{}]: {}", i, msg)),
        };
        let scores = classify(&x);
        predictions.push(Json::Arr(scores.iter().map(|&s| Json::from_f32(s)).collect()));
    }
    Response::json(200, &obj(vec![("predictions", Json::Arr(predictions))]))
}

/// 64 pixel values from a flat list of 64 numbers or 8 rows of 8.
fn pixels(inst: &Json) -> Result<[f32; 64], String> {
    let items = inst.as_array().ok_or_else(|| format!("expected an array, got {}", inst.type_name()))?;
    let mut flat: Vec<&Json> = Vec::with_capacity(64);
    if items.len() == 8 && items.iter().all(|r| r.as_array().is_some()) {
        for row in items {
            let row = row.as_array().unwrap_or(&[]);
            if row.len() != 8 {
                return Err(format!("expected 8 rows of 8 values, got a row of {}", row.len()));
            }
            flat.extend(row.iter());
        }
    } else {
        flat.extend(items.iter());
    }
    if flat.len() != 64 {
        return Err(format!("expected 64 values (an 8x8 image), got {}", flat.len()));
    }
    let mut x = [0f32; 64];
    for (i, v) in flat.iter().enumerate() {
        x[i] = v.as_f64().ok_or_else(|| format!("value {} is {}, not a number", i, v.type_name()))? as f32;
    }
    Ok(x)
}

/// Class scores (softmax) for one image of 64 values 0..16.
pub fn classify(pixels: &[f32; 64]) -> [f32; 10] {
    let mut x = [0f32; weights::IN1];
    for i in 0..64 {
        x[i] = pixels[i] / 16.0;
    }
    let mut h1 = [0f32; weights::OUT1];
    dense(&weights::W1, &weights::B1, &x, &mut h1, true);
    let mut h2 = [0f32; weights::OUT2];
    dense(&weights::W2, &weights::B2, &h1, &mut h2, true);
    let mut out = [0f32; weights::OUT3];
    dense(&weights::W3, &weights::B3, &h2, &mut out, false);
    softmax(&mut out);
    out
}

/// y = W x + b (W row-major [OUT][IN]), then ReLU if asked. Four accumulators per row break the
/// addition chain so the loop unrolls and pipelines (f32 adds are not reassociated otherwise).
fn dense<const IN: usize, const OUT: usize>(w: &[f32], b: &[f32], x: &[f32; IN], y: &mut [f32; OUT], relu: bool) {
    for o in 0..OUT {
        let row = &w[o * IN..(o + 1) * IN];
        let mut acc = [0f32; 4];
        let mut i = 0;
        while i + 4 <= IN {
            acc[0] += row[i] * x[i];
            acc[1] += row[i + 1] * x[i + 1];
            acc[2] += row[i + 2] * x[i + 2];
            acc[3] += row[i + 3] * x[i + 3];
            i += 4;
        }
        while i < IN {
            acc[0] += row[i] * x[i];
            i += 1;
        }
        let v = b[o] + ((acc[0] + acc[1]) + (acc[2] + acc[3]));
        y[o] = if relu && v < 0.0 { 0.0 } else { v };
    }
}

fn softmax(v: &mut [f32; 10]) {
    let max = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Held-out image 0 of the digits split (label 1), as listed in docs/models.md.
    const FIXTURE: [f32; 64] = [
        0., 0., 8., 16., 15., 8., 0., 0., 0., 1., 16., 16., 16., 2., 0., 0., 0., 2., 16., 16., 10., 0.,
        0., 0., 0., 2., 16., 16., 12., 0., 0., 0., 0., 6., 16., 16., 13., 0., 0., 0., 0., 1., 16., 16.,
        11., 0., 0., 0., 0., 0., 16., 16., 10., 0., 0., 0., 0., 0., 7., 15., 15., 0., 0., 0.,
    ];
    /// scikit-learn's float64 scores for FIXTURE (docs/models.md).
    const SKLEARN: [f32; 10] = [0.000165, 0.887368, 8e-06, 0.0, 0.001287, 0.025259, 0.008749, 0.000149, 0.077014, 0.0];

    #[test]
    fn classifies_the_fixture_like_sklearn() {
        let scores = classify(&FIXTURE);
        let sum: f32 = scores.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "{}", sum);
        for i in 0..10 {
            assert!((scores[i] - SKLEARN[i]).abs() < 2e-6, "{:?}", scores);
        }
        let body = format!("{{\"instances\":[{:?}]}}", FIXTURE.iter().map(|&v| v as i32).collect::<Vec<_>>());
        let mut log = Log::default();
        let resp = handle(&Env::new(&[]), &Request::new("POST", "/v1/models/clothes-model:predict", &body), &mut log);
        assert_eq!(resp.body, FIXTURE_RESPONSE);
    }

    const FIXTURE_RESPONSE: &str = r#"{"predictions":[[0.00016479043,0.88736844,0.000007713108,0.000000004434927,0.0012873455,0.025259465,0.008749317,0.00014904223,0.077013746,0.00000007543838]]}"#;

    fn check(method: &str, path: &str, body: &str, expect: &str) {
        let mut log = Log::default();
        let resp = handle(&Env::new(&[]), &Request::new(method, path, body), &mut log);
        assert_eq!(format!("{} {}", resp.status, resp.body), expect);
    }

    #[test]
    fn routes() {
        check("GET", "/healthz", "", r#"200 {"status":"ok"}"#);
        check("GET", "/v1/models/clothes-model", "",
            r#"200 {"model_version_status":[{"version":"1","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]}"#);
        check("GET", "/v1/models/shoes:predict", "", r#"404 {"error":"Servable not found for request: Latest(shoes)"}"#);
        check("GET", "/v1/models/clothes-model:predict", "",
            r#"405 {"error":"Method GET is not allowed for /v1/models/clothes-model:predict"}"#);
    }

    #[test]
    fn bad_input_is_400() {
        check("POST", "/v1/models/clothes-model:predict", "{}",
            r#"400 {"error":"Missing 'instances' key: expected {\"instances\": [[64 numbers]]}"}"#);
        check("POST", "/v1/models/clothes-model:predict", r#"{"instances":[[1,2,3]]}"#,
            r#"400 {"error":"instances[0]: expected 64 values (an 8x8 image), got 3"}"#);
        check("POST", "/v1/models/clothes-model:predict", "{",
            r#"400 {"error":"JSON Parse error: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}"#);
    }
}
