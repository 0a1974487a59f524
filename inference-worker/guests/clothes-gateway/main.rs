//! clothes-gateway: the cheap tier in front of clothes-model, kubesim worker ABI v1.
//!
//! `POST /predict` `{"image": [[grey 0..255, ...], ...]}` (rectangular, 1x1 to 256x256) or
//! `{"pgm": "P2 ..."}` (ASCII PGM) → area-average to 8x8, scale to 0..16, call the model Service
//! at `http://$MODEL_HOST:$MODEL_PORT/v1/models/$MODEL_NAME:predict` through the host import
//! `kubesim.http_request` → `{"label": name, "class": n, "scores": [10 numbers]}`.
//! 503 when the model cannot be reached, 502 when it answers with an error, 422 for bad images.

#[path = "../common/arena.rs"]
mod arena;
#[path = "../common/api.rs"]
mod api;
#[path = "../common/cgi.rs"]
mod cgi;
#[path = "../common/classes.rs"]
mod classes;
#[path = "../common/json.rs"]
mod json;

use cgi::{Env, Log, Request, Response};
use json::{obj, Json};

/// Largest accepted image side, in pixels.
pub const MAX_SIDE: usize = 256;
/// Buffer for the model's answer; a longer answer is an error (the model's is about 200 bytes).
#[cfg(target_arch = "wasm32")]
const RESPONSE_CAP: usize = 64 * 1024;

/// What an outbound call gave: the HTTP status and body, or the host's negative error code.
pub type HttpResult = Result<(u16, Vec<u8>), i32>;

fn main() {
    cgi::serve(start, handle_request);
}

/// Every invocation allocates from a fresh arena, so a kept instance burns what a fresh one
/// does (`common/arena.rs`).
#[global_allocator]
static ALLOC: arena::Arena = arena::Arena;

/// The reactor entry of the worker ABI (docs/worker-abi.md): kubesim calls it once per request
/// on one instance per container, instead of `_start` on a fresh instance.
#[no_mangle]
pub extern "C" fn kubesim_handle() {
    cgi::invocation(start, handle_request);
}

/// A request, with the host's `kubesim.http_request` for calls to the model.
fn handle_request(env: &Env, req: &Request, log: &mut Log) -> Response {
    handle(env, req, log, &mut host_http_request)
}

#[cfg(target_arch = "wasm32")]
mod host {
    #[link(wasm_import_module = "kubesim")]
    extern "C" {
        pub fn http_request(
            method_ptr: *const u8,
            method_len: usize,
            url_ptr: *const u8,
            url_len: usize,
            body_ptr: *const u8,
            body_len: usize,
            out_ptr: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> i32;
    }
}

/// `kubesim.http_request`: the host sends the request to a ready endpoint of the Service.
#[cfg(target_arch = "wasm32")]
fn host_http_request(method: &str, url: &str, body: &[u8]) -> HttpResult {
    let mut out = vec![0u8; RESPONSE_CAP];
    let mut out_len = 0usize;
    // SAFETY: every pointer/length pair describes a live buffer of this invocation, and the host
    // writes at most `out.len()` bytes to `out` and one usize to `out_len`.
    let status = unsafe {
        host::http_request(
            method.as_ptr(),
            method.len(),
            url.as_ptr(),
            url.len(),
            body.as_ptr(),
            body.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        )
    };
    if status < 0 {
        return Err(status);
    }
    if out_len > out.len() {
        return Err(-1000 - (out_len.min(1_000_000) as i32));
    }
    out.truncate(out_len);
    Ok((status as u16, out))
}

/// Outside wasm (native tests) there is no host: every call fails as "no such Service".
#[cfg(not(target_arch = "wasm32"))]
fn host_http_request(_method: &str, _url: &str, _body: &[u8]) -> HttpResult {
    Err(-1)
}

fn model_url(env: &Env) -> String {
    format!(
        "http://{}:{}/v1/models/{}:predict",
        env.get_or("MODEL_HOST", "clothes-model"),
        env.get_or("MODEL_PORT", "8501"),
        env.get_or("MODEL_NAME", "clothes-model")
    )
}

/// The start invocation: log like uvicorn, naming the model Service.
pub fn start(env: &Env, log: &mut Log) -> i32 {
    cgi::uvicorn_starting(log);
    log.err(&format!("INFO:     Model endpoint: {}", model_url(env)));
    cgi::uvicorn_started(env, log);
    0
}

/// A request invocation; `http` makes the outbound call to the model.
pub fn handle(
    env: &Env,
    req: &Request,
    log: &mut Log,
    http: &mut dyn FnMut(&str, &str, &[u8]) -> HttpResult,
) -> Response {
    let resp = match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => Response::json(
            200,
            &obj(vec![("status", Json::from("ok")), ("model_url", Json::from(model_url(env)))]),
        ),
        ("GET", "/healthz") => Response::json(200, &obj(vec![("status", Json::from("ok"))])),
        ("POST", "/predict") => predict(env, req, log, http),
        (_, "/") | (_, "/healthz") | (_, "/predict") => api::method_not_allowed(),
        _ => api::not_found(),
    };
    log.err(&cgi::access_log(env, req, resp.status));
    resp
}

fn predict(
    env: &Env,
    req: &Request,
    log: &mut Log,
    http: &mut dyn FnMut(&str, &str, &[u8]) -> HttpResult,
) -> Response {
    let body = match api::json_object_body(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let image = match decode(&body) {
        Ok(img) => img,
        Err(resp) => return resp,
    };
    let pixels = to_model_input(&image);
    let request = obj(vec![(
        "instances",
        Json::Arr(vec![Json::Arr(pixels.iter().map(|&v| Json::from_f32(v)).collect())]),
    )]);
    let url = model_url(env);
    let (status, answer) = match http("POST", &url, request.to_text().as_bytes()) {
        Ok(r) => r,
        Err(code) => {
            let why = match code {
                -1 => "no such Service or no ready endpoint".to_string(),
                c if c <= -1000 => format!("answer too long ({} bytes)", -1000 - c),
                c => format!("call failed (error {})", c),
            };
            log.err(&format!("ERROR:    model call {} failed: {}", url, why));
            return Response::detail(503, &format!("model service unavailable: {}: {}", url, why));
        }
    };
    let text = String::from_utf8_lossy(&answer);
    if status != 200 {
        let snippet: String = text.chars().take(200).collect();
        log.err(&format!("ERROR:    model answered {}: {}", status, snippet));
        return Response::detail(502, &format!("model service answered {}: {}", status, snippet));
    }
    let scores = match parse_scores(&text) {
        Ok(s) => s,
        Err(msg) => {
            log.err(&format!("ERROR:    bad model answer: {}", msg));
            return Response::detail(502, &format!("bad answer from model service: {}", msg));
        }
    };
    let mut best = 0;
    for i in 1..scores.len() {
        if scores[i] > scores[best] {
            best = i;
        }
    }
    Response::json(
        200,
        &obj(vec![
            ("label", Json::from(classes::CLASS_NAMES[best])),
            ("class", Json::from(best)),
            ("scores", Json::Arr(scores.iter().map(|&s| Json::Num(s)).collect())),
        ]),
    )
}

fn parse_scores(text: &str) -> Result<Vec<f64>, String> {
    let v = json::parse(text).map_err(|e| e.to_string())?;
    let first = v
        .get("predictions")
        .and_then(|p| p.as_array())
        .and_then(|p| p.first())
        .and_then(|p| p.as_array())
        .ok_or("no predictions[0] array")?;
    let scores: Option<Vec<f64>> = first.iter().map(|s| s.as_f64()).collect();
    match scores {
        Some(s) if s.len() == classes::CLASS_NAMES.len() => Ok(s),
        Some(s) => Err(format!("{} scores, expected {}", s.len(), classes::CLASS_NAMES.len())),
        None => Err("a score is not a number".to_string()),
    }
}

/// A grey image: `width * height` values 0..=255, row-major.
#[derive(Debug, PartialEq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<f64>,
}

/// The image from `image` (2-D array) or `pgm` (P2 text), or a 422 naming what is wrong.
fn decode(body: &Json) -> Result<Image, Response> {
    let mut v = api::Validation::new();
    let result = match (body.get("image"), body.get("pgm")) {
        (Some(image), _) => decode_array(image, &mut v),
        (None, Some(Json::Str(text))) => match decode_pgm(text) {
            Ok(img) => Some(img),
            Err(msg) => {
                v.error(&[Json::from("pgm")], &msg, "value_error.pgm", None);
                None
            }
        },
        (None, Some(_)) => {
            v.error(&[Json::from("pgm")], "str type expected", "type_error.str", None);
            None
        }
        (None, None) => {
            v.error(
                &[Json::from("image")],
                "field required: send \"image\" (rows of grey values 0..255) or \"pgm\" (P2 text)",
                "value_error.missing",
                None,
            );
            None
        }
    };
    match (result, v.finish()) {
        (Some(img), Ok(())) => Ok(img),
        (_, Err(resp)) => Err(resp),
        (None, Ok(())) => Err(Response::detail(422, "invalid image")),
    }
}

fn decode_array(image: &Json, v: &mut api::Validation) -> Option<Image> {
    let loc = |extra: &[usize]| {
        let mut l = vec![Json::from("image")];
        l.extend(extra.iter().map(|&i| Json::from(i)));
        l
    };
    let rows = match image.as_array() {
        Some(r) => r,
        None => {
            v.error(&loc(&[]), "value is not a valid list", "type_error.list", None);
            return None;
        }
    };
    if rows.is_empty() || rows.len() > MAX_SIDE {
        let msg = format!("image must have 1 to {} rows, got {}", MAX_SIDE, rows.len());
        v.error(&loc(&[]), &msg, "value_error.image_size", None);
        return None;
    }
    let width = match rows[0].as_array() {
        Some(r) => r.len(),
        None => 0,
    };
    let mut pixels = Vec::with_capacity(width * rows.len());
    for (y, row) in rows.iter().enumerate() {
        let row = match row.as_array() {
            Some(r) => r,
            None => {
                v.error(&loc(&[y]), "value is not a valid list", "type_error.list", None);
                return None;
            }
        };
        if row.is_empty() || row.len() > MAX_SIDE || row.len() != width {
            let msg = if row.len() != width {
                format!("rows must have equal lengths: row {} has {} values, row 0 has {}", y, row.len(), width)
            } else {
                format!("rows must have 1 to {} values, got {}", MAX_SIDE, row.len())
            };
            v.error(&loc(&[y]), &msg, "value_error.image_size", None);
            return None;
        }
        for (x, p) in row.iter().enumerate() {
            match p.as_f64() {
                Some(g) if (0.0..=255.0).contains(&g) => pixels.push(g),
                Some(_) => {
                    v.error(&loc(&[y, x]), "grey value must be between 0 and 255", "value_error.grey", None);
                    return None;
                }
                None => {
                    v.error(&loc(&[y, x]), "value is not a valid float", "type_error.float", None);
                    return None;
                }
            }
        }
    }
    Some(Image { width, height: rows.len(), pixels })
}

/// Reads an ASCII PGM ("P2"): magic, width, height, maxval, then the values; `#` starts a comment.
pub fn decode_pgm(text: &str) -> Result<Image, String> {
    let mut tokens = text
        .lines()
        .map(|l| match l.find('#') {
            Some(i) => &l[..i],
            None => l,
        })
        .flat_map(|l| l.split_whitespace());
    match tokens.next() {
        Some("P2") => {}
        Some(other) => return Err(format!("not an ASCII PGM: magic is {:?}, expected \"P2\"", other)),
        None => return Err("empty PGM".to_string()),
    }
    let mut number = |what: &str| -> Result<usize, String> {
        let t = tokens.next().ok_or_else(|| format!("PGM ends before the {}", what))?;
        t.parse::<usize>().map_err(|_| format!("PGM {} is not a whole number: {:?}", what, t))
    };
    let width = number("width")?;
    let height = number("height")?;
    let maxval = number("maxval")?;
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!("PGM size {}x{} is outside 1x1..{}x{}", width, height, MAX_SIDE, MAX_SIDE));
    }
    if maxval == 0 || maxval > 65535 {
        return Err(format!("PGM maxval {} is outside 1..65535", maxval));
    }
    let mut pixels = Vec::with_capacity(width * height);
    for i in 0..width * height {
        let v = number(&format!("pixel {}", i))?;
        if v > maxval {
            return Err(format!("PGM pixel {} is {}, above maxval {}", i, v, maxval));
        }
        pixels.push(v as f64 * 255.0 / maxval as f64);
    }
    Ok(Image { width, height, pixels })
}

/// Area-averages the image to 8x8 and scales 0..255 to 0..16 (the digits' range).
///
/// Each output cell covers width/8 x height/8 source pixels, fractions included: for a 12-wide
/// image, output column 0 covers source columns 0 and half of 1 (weights 1 and 0.5, over 1.5).
pub fn to_model_input(img: &Image) -> [f32; 64] {
    let wx = axis_weights(img.width);
    let wy = axis_weights(img.height);
    // Horizontal pass: each source row reduced to 8 columns.
    let mut rows = vec![[0f64; 8]; img.height];
    for y in 0..img.height {
        let line = &img.pixels[y * img.width..(y + 1) * img.width];
        for &(src, dst, w) in &wx {
            rows[y][dst] += w * line[src];
        }
    }
    let mut out = [0f32; 64];
    let mut acc = [[0f64; 8]; 8];
    for &(src, dst, w) in &wy {
        for x in 0..8 {
            acc[dst][x] += w * rows[src][x];
        }
    }
    let area = (img.width as f64 / 8.0) * (img.height as f64 / 8.0);
    for y in 0..8 {
        for x in 0..8 {
            out[y * 8 + x] = (acc[y][x] / area * 16.0 / 255.0) as f32;
        }
    }
    out
}

/// (source index, output index, overlap length) for every overlapping pair along one axis.
fn axis_weights(n: usize) -> Vec<(usize, usize, f64)> {
    let scale = n as f64 / 8.0;
    let mut out = Vec::new();
    for dst in 0..8 {
        let (lo, hi) = (dst as f64 * scale, (dst + 1) as f64 * scale);
        let first = lo.floor() as usize;
        let last = (hi.ceil() as usize).min(n);
        for src in first..last {
            let overlap = hi.min(src as f64 + 1.0) - lo.max(src as f64);
            if overlap > 0.0 {
                out.push((src, dst, overlap));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(env: &[(&str, &str)], method: &str, path: &str, body: &str, http: &mut dyn FnMut(&str, &str, &[u8]) -> HttpResult) -> String {
        let mut log = Log::default();
        let resp = handle(&Env::new(env), &Request::new(method, path, body), &mut log, http);
        format!("{} {}", resp.status, resp.body)
    }

    fn check(body: &str, expect: &str) {
        let mut no_model = |_: &str, _: &str, _: &[u8]| -> HttpResult { Err(-1) };
        assert_eq!(call(&[], "POST", "/predict", body, &mut no_model), expect);
    }

    #[test]
    fn resize_averages_areas() {
        let img = Image { width: 16, height: 16, pixels: (0..256).map(|i| if i % 16 < 2 { 255.0 } else { 0.0 }).collect() };
        let x = to_model_input(&img);
        assert_eq!(x[0], 16.0);
        assert_eq!(x[1], 0.0);
        assert_eq!(x[56], 16.0);
        let one = Image { width: 1, height: 1, pixels: vec![127.5] };
        assert!(to_model_input(&one).iter().all(|&v| v == 8.0));
        let odd = Image { width: 12, height: 8, pixels: (0..96).map(|i| if i % 12 == 1 { 255.0 } else { 0.0 }).collect() };
        let x = to_model_input(&odd);
        // Output column 0 covers source column 0 and half of column 1: 0.5 * 255 / 1.5.
        assert!((x[0] - 16.0 / 3.0).abs() < 1e-5, "{}", x[0]);
        assert!((x[1] - 16.0 / 3.0).abs() < 1e-5, "{}", x[1]);
    }

    #[test]
    fn pgm_decodes() {
        let img = decode_pgm("P2\n# a comment\n2 2\n15\n0 15\n15 0 # end\n").unwrap();
        assert_eq!(img, Image { width: 2, height: 2, pixels: vec![0.0, 255.0, 255.0, 0.0] });
        assert_eq!(decode_pgm("P5 1 1 255 0").unwrap_err(), "not an ASCII PGM: magic is \"P5\", expected \"P2\"");
        assert_eq!(decode_pgm("P2 2 2 255 0 1 2").unwrap_err(), "PGM ends before the pixel 3");
    }

    #[test]
    fn calls_the_model_and_labels_the_answer() {
        let mut seen = Vec::new();
        let mut model = |method: &str, url: &str, body: &[u8]| -> HttpResult {
            seen.push(format!("{} {} {}", method, url, String::from_utf8_lossy(body)));
            Ok((200, br#"{"predictions":[[0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.62,0.05,0.05]]}"#.to_vec()))
        };
        let got = call(&[("MODEL_HOST", "clothes-model.shop")], "POST", "/predict", r#"{"image":[[255,0],[0,255]]}"#, &mut model);
        assert_eq!(got, r#"200 {"label":"seven","class":7,"scores":[0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.62,0.05,0.05]}"#);
        let quad = "[16,16,16,16,0,0,0,0]";
        let zero = "[0,0,0,0,16,16,16,16]";
        let expect_rows = format!("{q},{q},{q},{q},{z},{z},{z},{z}", q = &quad[1..quad.len() - 1], z = &zero[1..zero.len() - 1]);
        assert_eq!(seen, vec![format!("POST http://clothes-model.shop:8501/v1/models/clothes-model:predict {{\"instances\":[[{}]]}}", expect_rows)]);
    }

    #[test]
    fn model_failures() {
        check(r#"{"image":[[1]]}"#,
            r#"503 {"detail":"model service unavailable: http://clothes-model:8501/v1/models/clothes-model:predict: no such Service or no ready endpoint"}"#);
        let mut broken = |_: &str, _: &str, _: &[u8]| -> HttpResult { Ok((500, br#"{"error":"boom"}"#.to_vec())) };
        assert_eq!(call(&[], "POST", "/predict", r#"{"image":[[1]]}"#, &mut broken),
            r#"502 {"detail":"model service answered 500: {\"error\":\"boom\"}"}"#);
    }

    #[test]
    fn bad_images_are_422() {
        check(r#"{}"#, r#"422 {"detail":[{"loc":["body","image"],"msg":"field required: send \"image\" (rows of grey values 0..255) or \"pgm\" (P2 text)","type":"value_error.missing"}]}"#);
        check(r#"{"image":[[1,2],[3]]}"#, r#"422 {"detail":[{"loc":["body","image",1],"msg":"rows must have equal lengths: row 1 has 1 values, row 0 has 2","type":"value_error.image_size"}]}"#);
        check(r#"{"image":[[1,300]]}"#, r#"422 {"detail":[{"loc":["body","image",0,1],"msg":"grey value must be between 0 and 255","type":"value_error.grey"}]}"#);
        check(r#"{"image":[]}"#, r#"422 {"detail":[{"loc":["body","image"],"msg":"image must have 1 to 256 rows, got 0","type":"value_error.image_size"}]}"#);
        check(r#"{"pgm":"P2 1 1"}"#, r#"422 {"detail":[{"loc":["body","pgm"],"msg":"PGM ends before the maxval","type":"value_error.pgm"}]}"#);
    }

    #[test]
    fn routes() {
        let mut no_model = |_: &str, _: &str, _: &[u8]| -> HttpResult { panic!("health checks never call the model") };
        assert_eq!(call(&[], "GET", "/healthz", "", &mut no_model), r#"200 {"status":"ok"}"#);
        assert_eq!(call(&[], "GET", "/", "", &mut no_model),
            r#"200 {"status":"ok","model_url":"http://clothes-model:8501/v1/models/clothes-model:predict"}"#);
        assert_eq!(call(&[], "GET", "/predict", "", &mut no_model), r#"405 {"detail":"Method Not Allowed"}"#);
    }
}
