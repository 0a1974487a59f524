//! credit-scoring-api: a FastAPI-like credit scorer (logistic regression), kubesim worker ABI v1.
//!
//! `POST /predict` `{"age","income","loan_amount","loan_term_months","credit_history_years","existing_debt"}`
//! → `{"probability_of_default": p, "decision": "approve"|"reject"}` (reject when p >= DECISION_THRESHOLD).
//! The course's fault images are this module with image-default env vars: REQUIRE_SERVICES,
//! STARTUP_SECONDS, LEAK_BYTES_PER_REQUEST, FAIL_READINESS_AFTER_REQUESTS, BROKEN (docs/worker-abi.md).

#[path = "../common/arena.rs"]
pub(crate) mod arena;
#[path = "../common/api.rs"]
mod api;
#[path = "../common/cgi.rs"]
pub(crate) mod cgi;
#[path = "../common/json.rs"]
pub(crate) mod json;
mod weights;

use cgi::{Env, Log, Request, Response};
use json::{obj, Json};

/// The six inputs, in the order of the API and of the model's raw features.
pub const FIELDS: [&str; 6] =
    ["age", "income", "loan_amount", "loan_term_months", "credit_history_years", "existing_debt"];

const MIB: u64 = 1024 * 1024;

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

/// A port from a `*_PORT` variable. For a Service named `redis`, Kubernetes itself sets
/// `REDIS_PORT=tcp://10.96.0.7:6379` (the Docker-links style variables), which shadows a
/// plain port number an app expects; the port is the part after the last colon.
fn port_of(value: &str) -> &str {
    if value.contains("://") {
        value.rsplit(':').next().unwrap_or(value)
    } else {
        value
    }
}

/// The start invocation: check the Services a `with-services` image needs, then log like uvicorn.
pub fn start(env: &Env, log: &mut Log) -> i32 {
    if env.flag("REQUIRE_SERVICES") {
        let redis = env.get_or("REDIS_HOST", "redis");
        let redis_port = port_of(env.get_or("REDIS_PORT", "6379"));
        if !env.service_exists(redis) {
            redis_traceback(redis, redis_port, log);
            return 1;
        }
        let postgres = env.get_or("POSTGRES_HOST", "postgres");
        if !env.service_exists(postgres) {
            postgres_traceback(postgres, log);
            return 1;
        }
        cgi::uvicorn_starting(log);
        log.err(&format!("INFO:     Connected to Redis at {}:{}", redis, redis_port));
        log.err(&format!(
            "INFO:     Connected to PostgreSQL at {}:{}",
            postgres,
            port_of(env.get_or("POSTGRES_PORT", "5432"))
        ));
    } else {
        cgi::uvicorn_starting(log);
    }
    if env.flag("BROKEN") {
        log.err("ERROR:    Could not load model: [Errno 2] No such file or directory: '/models/model.pkl'");
        log.err("WARNING:  Serving without a model; /healthz will fail");
    } else {
        log.err(&format!(
            "INFO:     Loaded credit-scoring model {} (logistic regression, {} features)",
            model_version(env),
            weights::COEF.len()
        ));
    }
    if let Some(secs) = env.f64("STARTUP_SECONDS") {
        log.err(&format!("INFO:     Warming up the model in the background (about {} s)", secs));
    }
    cgi::uvicorn_started(env, log);
    0
}

/// A request invocation.
pub fn handle(env: &Env, req: &Request, log: &mut Log) -> Response {
    let served = env.u64("KUBESIM_REQUESTS_SERVED").unwrap_or(0);
    let leak_per_request = env.u64("LEAK_BYTES_PER_REQUEST").unwrap_or(0);
    // Held until the response is written: the leak is memory this invocation really uses.
    let _leak = leak(leak_per_request.saturating_mul(served), log);
    let resp = route(env, req);
    log.err(&cgi::access_log(env, req, resp.status));
    resp
}

fn route(env: &Env, req: &Request) -> Response {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => health(env, true),
        ("GET", "/healthz") => health(env, false),
        ("POST", "/predict") => predict(env, req),
        (_, "/") | (_, "/healthz") | (_, "/predict") => api::method_not_allowed(),
        _ => api::not_found(),
    }
}

fn model_version(env: &Env) -> &str {
    env.get_or("MODEL_VERSION", "v1")
}

/// Why the app cannot serve yet (or at all), shared by the health checks and /predict.
fn not_serving(env: &Env) -> Option<Response> {
    if env.flag("BROKEN") {
        return Some(Response::detail(500, "model file not found: /models/model.pkl"));
    }
    if let Some(startup) = env.f64("STARTUP_SECONDS") {
        if env.f64("KUBESIM_UPTIME_SECONDS").unwrap_or(0.0) < startup {
            return Some(Response::detail(503, "model loading"));
        }
    }
    None
}

fn health(env: &Env, with_version: bool) -> Response {
    if let Some(resp) = not_serving(env) {
        return resp;
    }
    if let Some(limit) = env.u64("FAIL_READINESS_AFTER_REQUESTS") {
        if env.u64("KUBESIM_REQUESTS_SERVED").unwrap_or(0) >= limit {
            return Response::detail(503, "not ready: request limit reached");
        }
    }
    let mut fields = vec![("status", Json::from("ok"))];
    if with_version {
        fields.push(("model_version", Json::from(model_version(env))));
    }
    Response::json(200, &obj(fields))
}

fn predict(env: &Env, req: &Request) -> Response {
    if let Some(resp) = not_serving(env) {
        return resp;
    }
    let body = match api::json_object_body(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut v = api::Validation::new();
    let mut x = [0.0f64; 6];
    for (i, field) in FIELDS.iter().enumerate() {
        if let Some(value) = v.number(&body, field) {
            let ok = match *field {
                "income" | "loan_amount" | "loan_term_months" => v.greater_than(field, value, 0.0),
                _ => v.at_least(field, value, 0.0),
            };
            if ok {
                x[i] = value;
            }
        }
    }
    if let Err(resp) = v.finish() {
        return resp;
    }
    let p = probability_of_default(&x);
    let threshold = env.f64("DECISION_THRESHOLD").unwrap_or(0.5);
    let decision = if p >= threshold { "reject" } else { "approve" };
    Response::json(
        200,
        &obj(vec![
            ("probability_of_default", Json::from((p * 1e6).round() / 1e6)),
            ("decision", Json::from(decision)),
        ]),
    )
}

/// The logistic regression of weights.rs: features derived from the six inputs, standardized.
pub fn probability_of_default(x: &[f64; 6]) -> f64 {
    let [age, income, loan, term, history, debt] = *x;
    let features = [
        age,
        income.ln(),
        loan.ln(),
        term,
        history,
        debt.ln_1p(),
        loan / income,
        debt / income,
    ];
    let mut z = weights::INTERCEPT;
    for i in 0..features.len() {
        z += weights::COEF[i] * (features[i] - weights::MEAN[i]) / weights::STD[i];
    }
    1.0 / (1.0 + (-z).exp())
}

/// Allocates and touches `bytes` (one write per 4 KiB page, enough to commit the memory).
/// When the host's memory limit refuses the allocation, the guest aborts: OOMKilled.
fn leak(bytes: u64, log: &mut Log) -> Vec<u8> {
    if bytes == 0 {
        return Vec::new();
    }
    if bytes >= 100 * MIB {
        log.err(&format!("WARNING:  request cache holds {} MiB", bytes / MIB));
    }
    let mut buf: Vec<u8> = Vec::with_capacity(bytes as usize);
    let ptr = buf.as_mut_ptr();
    let mut i = 0usize;
    while i < bytes as usize {
        // SAFETY: i < capacity; volatile so the optimizer keeps the writes.
        unsafe { std::ptr::write_volatile(ptr.add(i), 1) };
        i += 4096;
    }
    buf
}

fn redis_traceback(host: &str, port: &str, log: &mut Log) {
    for line in [
        "Traceback (most recent call last):",
        "  File \"/usr/local/lib/python3.11/site-packages/redis/connection.py\", line 707, in connect",
        "    sock = self.retry.call_with_retry(",
        "  File \"/usr/local/lib/python3.11/socket.py\", line 974, in getaddrinfo",
        "    for res in _socket.getaddrinfo(host, port, family, type, proto, flags):",
        "socket.gaierror: [Errno -2] Name or service not known",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        "  File \"/app/main.py\", line 21, in <module>",
        "    cache.ping()",
        "  File \"/usr/local/lib/python3.11/site-packages/redis/commands/core.py\", line 1219, in ping",
        "    return self.execute_command(\"PING\", **kwargs)",
        "  File \"/usr/local/lib/python3.11/site-packages/redis/connection.py\", line 713, in connect",
        "    raise ConnectionError(self._error_message(e))",
    ] {
        log.err(line);
    }
    log.err(&format!(
        "redis.exceptions.ConnectionError: Error -2 connecting to {}:{}. Name or service not known.",
        host, port
    ));
}

fn postgres_traceback(host: &str, log: &mut Log) {
    for line in [
        "Traceback (most recent call last):",
        "  File \"/app/main.py\", line 24, in <module>",
        "    db = psycopg2.connect(host=POSTGRES_HOST, dbname=\"credit\", user=\"app\")",
        "  File \"/usr/local/lib/python3.11/site-packages/psycopg2/__init__.py\", line 122, in connect",
        "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)",
    ] {
        log.err(line);
    }
    log.err(&format!(
        "psycopg2.OperationalError: could not translate host name \"{}\" to address: Name or service not known",
        host
    ));
}

#[cfg(test)]
mod port_tests {
    #[test]
    fn docker_link_style_ports_give_their_port() {
        assert_eq!(super::port_of("tcp://10.96.0.7:6379"), "6379");
        assert_eq!(super::port_of("6380"), "6380");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"age":35,"income":52000,"loan_amount":12000,"loan_term_months":36,"credit_history_years":8,"existing_debt":3000}"#;
    const RISKY: &str = r#"{"age":23,"income":18000,"loan_amount":40000,"loan_term_months":72,"credit_history_years":1,"existing_debt":15000}"#;

    fn check(env: &[(&str, &str)], method: &str, path: &str, body: &str, expect: &str) {
        let mut log = Log::default();
        let resp = handle(&Env::new(env), &Request::new(method, path, body), &mut log);
        assert_eq!(format!("{} {}", resp.status, resp.body), expect);
    }

    fn start_log(env: &[(&str, &str)]) -> (i32, String) {
        let mut log = Log::default();
        let code = start(&Env::new(env), &mut log);
        (code, log.stderr.join("\n"))
    }

    #[test]
    fn predicts_fixed_applicants() {
        // Python's float64 reference values are in docs/models.md.
        check(&[], "POST", "/predict", GOOD, r#"200 {"probability_of_default":0.139101,"decision":"approve"}"#);
        check(&[], "POST", "/predict", RISKY, r#"200 {"probability_of_default":0.997122,"decision":"reject"}"#);
        check(&[("DECISION_THRESHOLD", "0.1")], "POST", "/predict", GOOD,
            r#"200 {"probability_of_default":0.139101,"decision":"reject"}"#);
    }

    #[test]
    fn bad_input_is_422_naming_the_field() {
        check(&[], "POST", "/predict", r#"{"age":35,"income":"lots","loan_amount":12000,"loan_term_months":36,"credit_history_years":8}"#,
            r#"422 {"detail":[{"loc":["body","income"],"msg":"value is not a valid float","type":"type_error.float"},{"loc":["body","existing_debt"],"msg":"field required","type":"value_error.missing"}]}"#);
        check(&[], "POST", "/predict", "{\"age\": 3",
            r#"422 {"detail":[{"loc":["body",9],"msg":"Expecting ',' delimiter: line 1 column 10 (char 9)","type":"value_error.jsondecode","ctx":{"msg":"Expecting ',' delimiter","pos":9,"lineno":1,"colno":10}}]}"#);
        check(&[], "POST", "/predict", "[1]",
            r#"422 {"detail":[{"loc":["body"],"msg":"value is not a valid dict","type":"type_error.dict"}]}"#);
        check(&[], "POST", "/predict", &GOOD.replace("52000", "0"),
            r#"422 {"detail":[{"loc":["body","income"],"msg":"ensure this value is greater than 0","type":"value_error.number.not_gt","ctx":{"limit_value":0}}]}"#);
    }

    #[test]
    fn routes() {
        check(&[], "GET", "/", "", r#"200 {"status":"ok","model_version":"v1"}"#);
        check(&[("MODEL_VERSION", "v2")], "GET", "/", "", r#"200 {"status":"ok","model_version":"v2"}"#);
        check(&[], "GET", "/healthz", "", r#"200 {"status":"ok"}"#);
        check(&[], "GET", "/nope", "", r#"404 {"detail":"Not Found"}"#);
        check(&[], "GET", "/predict", "", r#"405 {"detail":"Method Not Allowed"}"#);
    }

    #[test]
    fn access_log_line() {
        let mut log = Log::default();
        handle(&Env::new(&[]), &Request::new("POST", "/predict", GOOD), &mut log);
        assert_eq!(log.stderr, vec![r#"INFO:     10.244.0.1:0 - "POST /predict HTTP/1.1" 200 OK"#]);
    }

    #[test]
    fn start_logs_like_uvicorn() {
        let (code, log) = start_log(&[]);
        assert_eq!(code, 0);
        assert!(log.starts_with("INFO:     Started server process [1]\n"), "{}", log);
        assert!(log.contains("INFO:     Application startup complete.\n"), "{}", log);
        assert!(log.ends_with("INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)"), "{}", log);
    }

    #[test]
    fn with_services_crashes_until_both_services_exist() {
        let (code, log) = start_log(&[("REQUIRE_SERVICES", "1")]);
        assert_eq!(code, 1);
        assert!(log.ends_with("redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known."), "{}", log);
        let (code, log) = start_log(&[("REQUIRE_SERVICES", "1"), ("REDIS_HOST", "cache-db"), ("CACHE_DB_SERVICE_HOST", "10.96.0.9")]);
        assert_eq!(code, 1);
        assert!(log.ends_with("psycopg2.OperationalError: could not translate host name \"postgres\" to address: Name or service not known"), "{}", log);
        let (code, log) = start_log(&[("REQUIRE_SERVICES", "1"), ("REDIS_SERVICE_HOST", "10.96.0.9"), ("POSTGRES_SERVICE_HOST", "10.96.0.10")]);
        assert_eq!(code, 0);
        assert!(log.contains("INFO:     Connected to Redis at redis:6379"), "{}", log);
    }

    #[test]
    fn slow_start() {
        let env = [("STARTUP_SECONDS", "30"), ("KUBESIM_UPTIME_SECONDS", "12.5")];
        check(&env, "GET", "/healthz", "", r#"503 {"detail":"model loading"}"#);
        check(&env, "POST", "/predict", GOOD, r#"503 {"detail":"model loading"}"#);
        check(&[("STARTUP_SECONDS", "30"), ("KUBESIM_UPTIME_SECONDS", "30")], "GET", "/healthz", "", r#"200 {"status":"ok"}"#);
    }

    #[test]
    fn readiness_fails_after_n_requests() {
        check(&[("FAIL_READINESS_AFTER_REQUESTS", "5"), ("KUBESIM_REQUESTS_SERVED", "4")], "GET", "/healthz", "", r#"200 {"status":"ok"}"#);
        check(&[("FAIL_READINESS_AFTER_REQUESTS", "5"), ("KUBESIM_REQUESTS_SERVED", "5")], "GET", "/healthz", "",
            r#"503 {"detail":"not ready: request limit reached"}"#);
    }

    #[test]
    fn broken_release() {
        let (code, log) = start_log(&[("BROKEN", "1")]);
        assert_eq!(code, 0);
        assert!(log.contains("ERROR:    Could not load model"), "{}", log);
        check(&[("BROKEN", "1")], "GET", "/healthz", "", r#"500 {"detail":"model file not found: /models/model.pkl"}"#);
        check(&[("BROKEN", "1")], "POST", "/predict", GOOD, r#"500 {"detail":"model file not found: /models/model.pkl"}"#);
    }

    #[test]
    fn leak_grows_with_requests_served() {
        let env = [("LEAK_BYTES_PER_REQUEST", "1048576"), ("KUBESIM_REQUESTS_SERVED", "3")];
        check(&env, "GET", "/healthz", "", r#"200 {"status":"ok"}"#);
        let mut log = Log::default();
        assert_eq!(leak(200 * MIB, &mut log).capacity() as u64, 200 * MIB);
        assert_eq!(log.stderr, vec!["WARNING:  request cache holds 200 MiB"]);
    }
}
