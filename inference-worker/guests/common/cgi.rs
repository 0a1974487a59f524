//! kubesim worker ABI v1, guest side: environment, CGI request and response, logs (docs/worker-abi.md).
//!
//! A guest's `main` is `cgi::serve(start, handle)`. Both callbacks are plain functions of the
//! environment (and the request), so native tests call them without a WASI host.
#![allow(dead_code)]

use crate::json::{obj, Json};

/// The variables the guests read (Service variables are looked up by name on demand).
const NAMES: &[&str] = &[
    "BROKEN", "CONTENT_TYPE", "DECISION_THRESHOLD", "FAIL_READINESS_AFTER_REQUESTS",
    "KUBESIM_REQUESTS_SERVED", "KUBESIM_UPTIME_SECONDS", "LEAK_BYTES_PER_REQUEST", "MODEL_HOST",
    "MODEL_NAME", "MODEL_PORT", "MODEL_VERSION", "PATH_INFO", "PORT", "POSTGRES_HOST",
    "POSTGRES_PORT", "QUERY_STRING", "REDIS_HOST", "REDIS_PORT", "REMOTE_ADDR", "REMOTE_PORT",
    "REQUEST_METHOD", "REQUIRE_SERVICES", "STARTUP_SECONDS", "HOSTNAME",
];

/// Whether `key` is one of [`NAMES`] (a match: a switch on the length, then a compare).
fn wanted(key: &[u8]) -> bool {
    matches!(
        key,
        b"BROKEN"
            | b"CONTENT_TYPE"
            | b"DECISION_THRESHOLD"
            | b"FAIL_READINESS_AFTER_REQUESTS"
            | b"KUBESIM_REQUESTS_SERVED"
            | b"KUBESIM_UPTIME_SECONDS"
            | b"LEAK_BYTES_PER_REQUEST"
            | b"MODEL_HOST"
            | b"MODEL_NAME"
            | b"MODEL_PORT"
            | b"MODEL_VERSION"
            | b"PATH_INFO"
            | b"PORT"
            | b"POSTGRES_HOST"
            | b"POSTGRES_PORT"
            | b"QUERY_STRING"
            | b"REDIS_HOST"
            | b"REDIS_PORT"
            | b"REMOTE_ADDR"
            | b"REMOTE_PORT"
            | b"REQUEST_METHOD"
            | b"REQUIRE_SERVICES"
            | b"STARTUP_SECONDS"
            | b"HOSTNAME"
    )
}

/// The process environment, as an ordered list (no HashMap: it would import `random_get`).
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: Vec<(String, String)>,
    /// Every `NAME=value` entry, NUL-separated, for names looked up on demand.
    raw: Vec<u8>,
}

impl Env {
    /// The real environment of this invocation. Only the variables the guests read are
    /// copied, in one pass over the raw block: copying every one (a namespace with many
    /// Services has many) would make a request's CPU cost, and so its simulated latency,
    /// depend on how many Services exist.
    pub fn from_process() -> Env {
        let raw = raw_environ();
        let mut vars = Vec::new();
        for entry in raw.split(|b| *b == 0) {
            let eq = match entry.iter().position(|b| *b == b'=') {
                Some(i) => i,
                None => continue,
            };
            let key = &entry[..eq];
            if wanted(key) {
                vars.push((
                    String::from_utf8_lossy(key).into_owned(),
                    String::from_utf8_lossy(&entry[eq + 1..]).into_owned(),
                ));
            }
        }
        Env { vars, raw }
    }

    /// An environment for tests.
    pub fn new(pairs: &[(&str, &str)]) -> Env {
        let mut raw = Vec::new();
        for (k, v) in pairs {
            raw.extend_from_slice(k.as_bytes());
            raw.push(b'=');
            raw.extend_from_slice(v.as_bytes());
            raw.push(0);
        }
        Env {
            vars: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            raw,
        }
    }

    /// Whether a variable is set, for names outside the list the guests read up front.
    pub fn has(&self, name: &str) -> bool {
        let mut want = name.as_bytes().to_vec();
        want.push(b'=');
        self.raw.split(|b| *b == 0).any(|e| e.starts_with(&want))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn get_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        match self.get(name) {
            Some(v) if !v.is_empty() => v,
            _ => default,
        }
    }

    /// True for `1`, `true`, `yes` or `on` (any case).
    pub fn flag(&self, name: &str) -> bool {
        matches!(
            self.get(name).map(|v| v.trim().to_ascii_lowercase()).as_deref(),
            Some("1") | Some("true") | Some("yes") | Some("on")
        )
    }

    /// A number, or None when unset or not a number.
    pub fn f64(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|v| v.trim().parse::<f64>().ok()).filter(|x| x.is_finite())
    }

    /// A non-negative integer, or None when unset or not one.
    pub fn u64(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(|v| v.trim().parse::<u64>().ok())
    }

    /// Whether the Service called `host` existed when the container started: Kubernetes sets
    /// `<NAME>_SERVICE_HOST` for it, NAME upper-cased with '-' turned into '_'.
    pub fn service_exists(&self, host: &str) -> bool {
        let name = host.split('.').next().unwrap_or(host);
        self.has(&service_env_prefix(name, "_SERVICE_HOST"))
    }
}

/// The environment block as WASI gives it: `NAME=value` entries, each ending in NUL.
#[cfg(target_arch = "wasm32")]
fn raw_environ() -> Vec<u8> {
    // The same imports (and signatures) the standard library uses.
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn environ_sizes_get(count: i32, size: i32) -> i32;
        fn environ_get(environ: i32, buf: i32) -> i32;
    }
    let mut count: usize = 0;
    let mut size: usize = 0;
    // SAFETY: the host writes two u32s to the addresses given, then `count` pointers and
    // `size` bytes into buffers of exactly those sizes.
    unsafe {
        if environ_sizes_get(&mut count as *mut usize as i32, &mut size as *mut usize as i32) != 0 {
            return Vec::new();
        }
        let mut ptrs: Vec<u32> = vec![0; count];
        let mut buf: Vec<u8> = vec![0; size];
        if environ_get(ptrs.as_mut_ptr() as i32, buf.as_mut_ptr() as i32) != 0 {
            return Vec::new();
        }
        buf
    }
}

/// Natively (the guests' unit tests), the process environment in the same form.
#[cfg(not(target_arch = "wasm32"))]
fn raw_environ() -> Vec<u8> {
    let mut raw = Vec::new();
    for (k, v) in std::env::vars_os() {
        raw.extend_from_slice(k.to_string_lossy().as_bytes());
        raw.push(b'=');
        raw.extend_from_slice(v.to_string_lossy().as_bytes());
        raw.push(0);
    }
    raw
}

/// `clothes-model` + `_SERVICE_HOST` → `CLOTHES_MODEL_SERVICE_HOST`.
pub fn service_env_prefix(service: &str, suffix: &str) -> String {
    let mut name: String =
        service.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }).collect();
    name.push_str(suffix);
    name
}

/// One HTTP request, from the CGI variables of RFC 3875 and the body on stdin.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Request {
    /// The request of this invocation, or None for the start invocation (no `REQUEST_METHOD`).
    pub fn from_env(env: &Env, body: Vec<u8>) -> Option<Request> {
        let method = env.get("REQUEST_METHOD")?.to_string();
        let path = match env.get("PATH_INFO") {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => "/".to_string(),
        };
        Some(Request {
            method,
            path,
            query: env.get("QUERY_STRING").unwrap_or("").to_string(),
            content_type: env.get("CONTENT_TYPE").unwrap_or("").to_string(),
            body,
        })
    }

    /// A request for tests.
    pub fn new(method: &str, path: &str, body: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            query: String::new(),
            content_type: "application/json".to_string(),
            body: body.as_bytes().to_vec(),
        }
    }
}

/// A CGI response: status, content type and body.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, body: &Json) -> Response {
        Response { status, content_type: "application/json".to_string(), body: body.to_text() }
    }

    /// `{"detail": msg}`, FastAPI's shape for errors.
    pub fn detail(status: u16, msg: &str) -> Response {
        Response::json(status, &obj(vec![("detail", Json::from(msg))]))
    }

    /// The bytes written to stdout: `Status:` and `Content-Type:` lines, a blank line, the body.
    pub fn to_cgi(&self) -> Vec<u8> {
        let mut out = format!(
            "Status: {} {}\nContent-Type: {}\n\n",
            self.status,
            reason(self.status),
            self.content_type
        )
        .into_bytes();
        out.extend_from_slice(self.body.as_bytes());
        out
    }
}

/// The reason phrase of an HTTP status.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Lines a program logs; stdout and stderr are kept apart as the container runtime keeps them.
#[derive(Clone, Debug, Default)]
pub struct Log {
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

impl Log {
    pub fn out(&mut self, line: &str) {
        self.stdout.push(line.to_string());
    }

    pub fn err(&mut self, line: &str) {
        self.stderr.push(line.to_string());
    }
}

/// Runs one invocation: the start invocation calls `start` (its return value is the exit code),
/// a request invocation calls `handle` and writes the CGI response to stdout.
#[cfg(not(kubesim_bench))]
pub fn serve<S, H>(start: S, handle: H)
where
    S: FnOnce(&Env, &mut Log) -> i32,
    H: FnOnce(&Env, &Request, &mut Log) -> Response,
{
    let code = invocation(start, handle);
    if code != 0 {
        std::process::exit(code);
    }
}

/// One invocation's work, the same whether `_start` runs it on a fresh instance ([`serve`]) or
/// the host calls the reactor export `kubesim_handle` on an instance kept for the container
/// (docs/worker-abi.md): one function (never inlined, so both callers run the very same
/// code), with its allocations in a fresh arena (`arena.rs`), so both burn the same fuel.
/// Returns the exit code.
#[inline(never)]
pub fn invocation<S, H>(start: S, handle: H) -> i32
where
    S: FnOnce(&Env, &mut Log) -> i32,
    H: FnOnce(&Env, &Request, &mut Log) -> Response,
{
    crate::arena::enter();
    let code = invocation_in_arena(start, handle);
    crate::arena::leave();
    code
}

fn invocation_in_arena<S, H>(start: S, handle: H) -> i32
where
    S: FnOnce(&Env, &mut Log) -> i32,
    H: FnOnce(&Env, &Request, &mut Log) -> Response,
{
    let env = Env::from_process();
    let mut log = Log::default();
    if env.get("REQUEST_METHOD").is_none() {
        let code = start(&env, &mut log);
        flush_log(&log);
        return code;
    }
    // A body that cannot be read is treated as empty; the handler then reports what is missing.
    let body = rawio::read_stdin();
    let req = match Request::from_env(&env, body) {
        Some(r) => r,
        None => return 0,
    };
    let resp = handle(&env, &req, &mut log);
    flush_log(&log);
    rawio::write(1, &resp.to_cgi());
    0
}

/// stdin and stdout through WASI's `fd_read` and `fd_write` directly: the standard library's
/// buffered handles keep their buffers between invocations of a kept instance, allocated in
/// an arena that is gone by then (`arena.rs`).
#[cfg(target_arch = "wasm32")]
mod rawio {
    #[repr(C)]
    struct Iovec {
        buf: *const u8,
        len: usize,
    }

    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn fd_read(fd: i32, iovs: *const Iovec, n: usize, read: *mut usize) -> i32;
        fn fd_write(fd: i32, iovs: *const Iovec, n: usize, written: *mut usize) -> i32;
    }

    /// All of stdin; what could be read if it fails midway.
    pub fn read_stdin() -> Vec<u8> {
        let mut body: Vec<u8> = Vec::new();
        loop {
            body.reserve(4096);
            let spare = body.capacity() - body.len();
            let iov = Iovec { buf: body.as_ptr().wrapping_add(body.len()), len: spare };
            let mut read = 0usize;
            // SAFETY: the iovec is the vector's spare capacity; the host writes at most `spare`
            // bytes there and their count to `read`.
            let errno = unsafe { fd_read(0, &iov, 1, &mut read) };
            if errno != 0 || read == 0 {
                return body;
            }
            // SAFETY: the host initialised `read <= spare` bytes past the length.
            unsafe { body.set_len(body.len() + read.min(spare)) };
        }
    }

    /// Writes all of `bytes` to `fd` (1 stdout, 2 stderr); stops at an error.
    pub fn write(fd: i32, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let iov = Iovec { buf: bytes.as_ptr(), len: bytes.len() };
            let mut written = 0usize;
            // SAFETY: the iovec describes `bytes`, which the host only reads.
            let errno = unsafe { fd_write(fd, &iov, 1, &mut written) };
            if errno != 0 || written == 0 {
                return;
            }
            bytes = &bytes[written.min(bytes.len())..];
        }
    }
}

/// Natively (the guests' unit tests), the standard library's handles.
#[cfg(not(target_arch = "wasm32"))]
mod rawio {
    use std::io::{Read, Write};

    pub fn read_stdin() -> Vec<u8> {
        let mut body = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut body);
        body
    }

    pub fn write(fd: i32, bytes: &[u8]) {
        if fd == 1 {
            let _ = std::io::stdout().write_all(bytes);
            let _ = std::io::stdout().flush();
        } else {
            let _ = std::io::stderr().write_all(bytes);
        }
    }
}

/// The native benchmark (`kubesim bench --workers` compiles the guest with
/// `--cfg kubesim_bench`): the request in the environment and on stdin is handled
/// `KUBESIM_BENCH_N` times, each as a request invocation does it (environment, request,
/// handler, CGI response), and the median in nanoseconds is printed.
#[cfg(kubesim_bench)]
pub fn serve<S, H>(_start: S, handle: H)
where
    S: FnOnce(&Env, &mut Log) -> i32,
    H: Fn(&Env, &Request, &mut Log) -> Response,
{
    use std::io::Read;
    let n: usize = std::env::var("KUBESIM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .max(1);
    let mut body = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut body);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = std::time::Instant::now();
        let env = Env::from_process();
        if let Some(req) = Request::from_env(&env, body.clone()) {
            let mut log = Log::default();
            let out = handle(&env, &req, &mut log).to_cgi();
            std::hint::black_box(out);
        }
        times.push(t.elapsed().as_nanos());
    }
    times.sort();
    println!("{}", times[n / 2]);
}

fn flush_log(log: &Log) {
    let mut out = String::new();
    for line in &log.stdout {
        out.push_str(line);
        out.push('\n');
    }
    let mut err = String::new();
    for line in &log.stderr {
        err.push_str(line);
        err.push('\n');
    }
    rawio::write(1, out.as_bytes());
    rawio::write(2, err.as_bytes());
}

/// uvicorn's first start lines: `INFO:     Started server process [1]` and `Waiting for application startup.`
pub fn uvicorn_starting(log: &mut Log) {
    log.err("INFO:     Started server process [1]");
    log.err("INFO:     Waiting for application startup.");
}

/// uvicorn's lines once the app is up, on port `PORT` (default 8000).
pub fn uvicorn_started(env: &Env, log: &mut Log) {
    log.err("INFO:     Application startup complete.");
    log.err(&format!(
        "INFO:     Uvicorn running on http://0.0.0.0:{} (Press CTRL+C to quit)",
        env.get_or("PORT", "8000")
    ));
}

/// uvicorn's access-log line: `INFO:     10.244.0.1:0 - "POST /predict HTTP/1.1" 200 OK`.
pub fn access_log(env: &Env, req: &Request, status: u16) -> String {
    let target = if req.query.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, req.query)
    };
    format!(
        "INFO:     {}:{} - \"{} {} HTTP/1.1\" {} {}",
        env.get_or("REMOTE_ADDR", "10.244.0.1"),
        env.get_or("REMOTE_PORT", "0"),
        req.method,
        target,
        status,
        reason(status)
    )
}
