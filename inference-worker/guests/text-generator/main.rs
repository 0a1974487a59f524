//! text-generator: continues a prompt with a character 6-gram model (interpolated Kneser-Ney),
//! kubesim worker ABI v1.
//!
//! `POST /generate` `{"prompt": str, "max_tokens"?: int (default 20, at most 200), "seed"?: int,
//! "temperature"?: number}` → `{"text": prompt + continuation, "tokens": n}`. A token is one
//! character. Sampling is seeded (xorshift64*): the same seed and prompt give the same text. Without
//! a seed the request number (`KUBESIM_REQUESTS_SERVED`) is the seed. The model is `model.bin`,
//! written by inference-worker/train/train.py (format below, in `Model::parse`).

#[path = "../common/arena.rs"]
mod arena;
#[path = "../common/api.rs"]
mod api;
#[path = "../common/cgi.rs"]
mod cgi;
#[path = "../common/json.rs"]
mod json;

use cgi::{Env, Log, Request, Response};
use json::{obj, Json};

static MODEL: &[u8] = include_bytes!("model.bin");

/// Symbols: printable ASCII 32..=126 are 0..=94, newline is 95.
const VOCAB: usize = 96;
const NEWLINE: u8 = 95;
const DEFAULT_MAX_TOKENS: i64 = 20;
const MAX_TOKENS: i64 = 200;
const MAX_PROMPT_CHARS: usize = 4000;

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

/// The start invocation: check the model, log like uvicorn.
pub fn start(env: &Env, log: &mut Log) -> i32 {
    cgi::uvicorn_starting(log);
    match Model::parse(MODEL) {
        Ok(m) => log.err(&format!(
            "INFO:     Loaded character {}-gram model ({} contexts, {} bytes, discount {})",
            m.orders.len(),
            m.orders.iter().map(|o| o.n_ctx).sum::<usize>(),
            MODEL.len(),
            m.discount
        )),
        Err(e) => {
            log.err(&format!("ERROR:    Could not load model.bin: {}", e));
            return 3;
        }
    }
    cgi::uvicorn_started(env, log);
    0
}

/// A request invocation.
pub fn handle(env: &Env, req: &Request, log: &mut Log) -> Response {
    let resp = match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => Response::json(
            200,
            &obj(vec![("status", Json::from("ok")), ("model", Json::from("char-6gram-kn"))]),
        ),
        ("GET", "/healthz") => Response::json(200, &obj(vec![("status", Json::from("ok"))])),
        ("POST", "/generate") => generate(env, req),
        (_, "/") | (_, "/healthz") | (_, "/generate") => api::method_not_allowed(),
        _ => api::not_found(),
    };
    log.err(&cgi::access_log(env, req, resp.status));
    resp
}

fn generate(env: &Env, req: &Request) -> Response {
    let body = match api::json_object_body(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut v = api::Validation::new();
    let prompt = v.string(&body, "prompt").unwrap_or("");
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        v.error(
            &[Json::from("prompt")],
            &format!("ensure this value has at most {} characters", MAX_PROMPT_CHARS),
            "value_error.any_str.max_length",
            Some(obj(vec![("limit_value", Json::from(MAX_PROMPT_CHARS))])),
        );
    }
    let max_tokens = v.opt_integer(&body, "max_tokens").unwrap_or(DEFAULT_MAX_TOKENS);
    if v.at_least("max_tokens", max_tokens as f64, 0.0) {
        v.at_most("max_tokens", max_tokens as f64, MAX_TOKENS as f64);
    }
    let seed = v.opt_integer(&body, "seed");
    let temperature = v.opt_number(&body, "temperature").unwrap_or(0.8);
    if v.at_least("temperature", temperature, 0.0) {
        v.at_most("temperature", temperature, 10.0);
    }
    if let Err(resp) = v.finish() {
        return resp;
    }
    let model = match Model::parse(MODEL) {
        Ok(m) => m,
        Err(e) => return Response::detail(500, &format!("model.bin is damaged: {}", e)),
    };
    let seed = match seed {
        Some(s) => s as u64,
        None => env.u64("KUBESIM_REQUESTS_SERVED").unwrap_or(0),
    };
    let continuation = model.generate(prompt, max_tokens as usize, seed, temperature);
    Response::json(
        200,
        &obj(vec![
            ("text", Json::from(format!("{}{}", prompt, continuation))),
            ("tokens", Json::from(continuation.chars().count())),
        ]),
    )
}

/// One context length's table: sorted contexts and, for each, its (next symbol, count) entries.
pub struct Order<'a> {
    k: usize,
    n_ctx: usize,
    keys: &'a [u8],
    starts: &'a [u8],
    syms: &'a [u8],
    counts: &'a [u8],
}

/// The character n-gram model, read in place from `model.bin` (no copying).
pub struct Model<'a> {
    discount: f64,
    orders: Vec<Order<'a>>,
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.b.len() - self.i < n {
            return Err(format!("truncated at byte {}", self.i));
        }
        let s = &self.b[self.i..self.i + n];
        self.i += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<usize, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    }
}

fn read_u32(b: &[u8], i: usize) -> usize {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]) as usize
}

impl<'a> Model<'a> {
    /// Format (little-endian): `KSLM`, u32 version 1, u32 K, u32 vocab (96), f64 discount; then for
    /// each context length k = 0..=K: u32 n_ctx, u32 n_entries, n_ctx keys of k symbol bytes
    /// (sorted), n_ctx + 1 u32 entry offsets, n_entries symbol bytes, n_entries u16 counts.
    pub fn parse(bytes: &'a [u8]) -> Result<Model<'a>, String> {
        let mut c = Cursor { b: bytes, i: 0 };
        if c.take(4)? != b"KSLM" {
            return Err("bad magic".to_string());
        }
        let version = c.u32()?;
        let k_max = c.u32()?;
        let vocab = c.u32()?;
        if version != 1 || vocab != VOCAB || k_max > 16 {
            return Err(format!("unsupported model (version {}, order {}, vocab {})", version, k_max, vocab));
        }
        let d = c.take(8)?;
        let discount = f64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
        let mut orders = Vec::new();
        for k in 0..=k_max {
            let n_ctx = c.u32()?;
            let n_ent = c.u32()?;
            let keys = c.take(n_ctx * k)?;
            let starts = c.take(4 * (n_ctx + 1))?;
            let syms = c.take(n_ent)?;
            let counts = c.take(2 * n_ent)?;
            if read_u32(starts, n_ctx) != n_ent || syms.iter().any(|&s| s as usize >= VOCAB) {
                return Err(format!("inconsistent table for order {}", k));
            }
            orders.push(Order { k, n_ctx, keys, starts, syms, counts });
        }
        if c.i != bytes.len() {
            return Err("trailing bytes".to_string());
        }
        Ok(Model { discount, orders })
    }

    /// The next-symbol distribution after `history` (symbols, oldest first): interpolated
    /// Kneser-Ney, from the uniform distribution up to the longest context the model knows.
    pub fn next_distribution(&self, history: &[u8], p: &mut [f64; VOCAB]) {
        for x in p.iter_mut() {
            *x = 1.0 / VOCAB as f64;
        }
        for order in &self.orders {
            if history.len() < order.k {
                break;
            }
            let idx = match order.find(&history[history.len() - order.k..]) {
                Some(i) => i,
                None => break,
            };
            let (lo, hi) = (read_u32(order.starts, idx), read_u32(order.starts, idx + 1));
            let mut total = 0.0;
            for e in lo..hi {
                total += u16::from_le_bytes([order.counts[2 * e], order.counts[2 * e + 1]]) as f64;
            }
            let gamma = self.discount * (hi - lo) as f64 / total;
            for x in p.iter_mut() {
                *x *= gamma;
            }
            for e in lo..hi {
                let count = u16::from_le_bytes([order.counts[2 * e], order.counts[2 * e + 1]]) as f64;
                let own = count - self.discount;
                if own > 0.0 {
                    p[order.syms[e] as usize] += own / total;
                }
            }
        }
    }

    /// Samples `tokens` characters after `prompt`.
    pub fn generate(&self, prompt: &str, tokens: usize, seed: u64, temperature: f64) -> String {
        let k_max = self.orders.len() - 1;
        // A prompt starts a paragraph, as every paragraph in the corpus follows a newline.
        let mut history: Vec<u8> = vec![NEWLINE];
        history.extend(prompt.chars().map(to_symbol));
        let mut rng = Rng::new(seed);
        let mut p = [0.0f64; VOCAB];
        let mut out = String::new();
        for _ in 0..tokens {
            let start = history.len().saturating_sub(k_max);
            self.next_distribution(&history[start..], &mut p);
            let s = sample(&mut p, temperature, &mut rng);
            history.push(s);
            out.push(from_symbol(s));
        }
        out
    }
}

impl<'a> Order<'a> {
    fn find(&self, ctx: &[u8]) -> Option<usize> {
        if self.k == 0 {
            return if self.n_ctx > 0 { Some(0) } else { None };
        }
        let (mut lo, mut hi) = (0usize, self.n_ctx);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let key = &self.keys[mid * self.k..(mid + 1) * self.k];
            match key.cmp(ctx) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

/// Picks a symbol from `p` sharpened by `temperature` (0 = the most likely symbol).
fn sample(p: &mut [f64; VOCAB], temperature: f64, rng: &mut Rng) -> u8 {
    if temperature < 1e-6 {
        let mut best = 0;
        for i in 1..VOCAB {
            if p[i] > p[best] {
                best = i;
            }
        }
        return best as u8;
    }
    if (temperature - 1.0).abs() > 1e-12 {
        for x in p.iter_mut() {
            *x = (x.ln() / temperature).exp();
        }
    }
    let total: f64 = p.iter().sum();
    let mut r = rng.next_f64() * total;
    for (i, x) in p.iter().enumerate() {
        r -= x;
        if r < 0.0 {
            return i as u8;
        }
    }
    (VOCAB - 1) as u8
}

fn to_symbol(c: char) -> u8 {
    match c {
        '\n' => NEWLINE,
        ' '..='~' => c as u8 - 32,
        _ => 0, // anything else reads as a space
    }
}

fn from_symbol(s: u8) -> char {
    if s == NEWLINE {
        '\n'
    } else {
        (s + 32) as char
    }
}

/// xorshift64* seeded through splitmix64, so every seed (even 0) gives a good stream.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(env: &[(&str, &str)], method: &str, path: &str, body: &str, expect: &str) {
        let mut log = Log::default();
        let resp = handle(&Env::new(env), &Request::new(method, path, body), &mut log);
        assert_eq!(format!("{} {}", resp.status, resp.body), expect);
    }

    #[test]
    fn model_parses_and_distributions_sum_to_one() {
        let m = Model::parse(MODEL).unwrap();
        let mut p = [0.0; VOCAB];
        for h in ["", "K", "Kubernetes", "the Pod is", "zzzzqqq"] {
            let hist: Vec<u8> = h.chars().map(to_symbol).collect();
            let start = hist.len().saturating_sub(m.orders.len() - 1);
            m.next_distribution(&hist[start..], &mut p);
            let sum: f64 = p.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "{:?}: {}", h, sum);
        }
    }

    #[test]
    fn same_seed_same_text() {
        let body = r#"{"prompt":"Kubernetes","seed":1,"max_tokens":60}"#;
        let mut a = Log::default();
        let first = handle(&Env::new(&[]), &Request::new("POST", "/generate", body), &mut a);
        let second = handle(&Env::new(&[]), &Request::new("POST", "/generate", body), &mut a);
        assert_eq!(first, second);
        assert_eq!(first.status, 200);
    }

    #[test]
    fn fixed_output() {
        check(&[], "POST", "/generate", r#"{"prompt":"Kubernetes","seed":1}"#, FIXED_SEED_1);
        check(&[], "POST", "/generate", r#"{"prompt":"The kubelet","seed":7,"max_tokens":0}"#,
            r#"200 {"text":"The kubelet","tokens":0}"#);
    }

    const FIXED_SEED_1: &str = r#"200 {"text":"Kubernetes value is a resize i","tokens":20}"#;

    #[test]
    fn bad_input_is_422() {
        check(&[], "POST", "/generate", r#"{"max_tokens":500,"temperature":"hot"}"#,
            r#"422 {"detail":[{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"},{"loc":["body","max_tokens"],"msg":"ensure this value is less than or equal to 200","type":"value_error.number.not_le","ctx":{"limit_value":200}},{"loc":["body","temperature"],"msg":"value is not a valid float","type":"type_error.float"}]}"#);
        check(&[], "POST", "/generate", r#"{"prompt":"x","max_tokens":2.5}"#,
            r#"422 {"detail":[{"loc":["body","max_tokens"],"msg":"value is not a valid integer","type":"type_error.integer"}]}"#);
    }

    #[test]
    fn routes() {
        check(&[], "GET", "/healthz", "", r#"200 {"status":"ok"}"#);
        check(&[], "GET", "/", "", r#"200 {"status":"ok","model":"char-6gram-kn"}"#);
        check(&[], "GET", "/generate", "", r#"405 {"detail":"Method Not Allowed"}"#);
        check(&[], "POST", "/v1/x", "", r#"404 {"detail":"Not Found"}"#);
    }

    #[test]
    fn start_logs() {
        let mut log = Log::default();
        assert_eq!(start(&Env::new(&[]), &mut log), 0);
        assert!(log.stderr[2].starts_with("INFO:     Loaded character 6-gram model"), "{:?}", log);
    }
}
