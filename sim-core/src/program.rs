//! Programs that containers run: the seam where the WebAssembly inference workers plug in.
//!
//! A [`Program`] is invoked CGI-style (the kubesim worker ABI, `docs/worker-abi.md`): once when
//! its container starts, and once per HTTP request (a probe, a request to a Service, a sample of
//! traffic). Every invocation is a pure function of its inputs: environment, stdin, the virtual
//! clock and a seed. The host that runs the module (crate `inference-worker`) meters the work in
//! fuel, and [`service_time`] turns fuel into virtual time, so nothing here depends on how fast
//! the machine is and a run stays byte-for-byte repeatable.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::time::SimDuration;

/// One run of a program.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// `argv`, program name first.
    pub args: &'a [String],
    /// Environment, in order (later entries win, as in a pod spec).
    pub env: &'a [(String, String)],
    /// Standard input (a request's body).
    pub stdin: &'a [u8],
    /// Linear-memory cap in bytes (`resources.limits.memory`), if any.
    pub memory_limit: Option<u64>,
    /// Fuel budget: a program that burns it all is stopped (a hung program).
    pub fuel: u64,
    /// Virtual Unix time in nanoseconds, for `clock_time_get`.
    pub clock_unix_ns: u64,
    /// Seed for `random_get`.
    pub seed: u64,
    /// The container's read-only files by absolute path (its ConfigMap and Secret volumes,
    /// `kubelet::mounts::files`), opened through WASI's preopened directory `/`.
    pub files: &'a std::collections::BTreeMap<String, Vec<u8>>,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The program returned or called `proc_exit`.
    Code(i32),
    /// It needed more memory than its limit allows.
    OutOfMemory,
    /// It burned its whole fuel budget (an endless loop, or far too much work).
    OutOfFuel,
    /// It trapped (a panic, `unreachable`, a bad memory access).
    Trap(String),
    /// The module cannot run at all: not WebAssembly, or missing the ABI's exports.
    Invalid(String),
}

/// What an invocation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub exit: Exit,
    /// Everything written to fd 1.
    pub stdout: Vec<u8>,
    /// Everything written to fd 2.
    pub stderr: Vec<u8>,
    /// Fuel the program itself burned (not the Services it called).
    pub fuel: u64,
}

impl Outcome {
    /// An outcome for a program that could not run.
    pub fn invalid(why: impl Into<String>) -> Outcome {
        Outcome {
            exit: Exit::Invalid(why.into()),
            stdout: Vec::new(),
            stderr: Vec::new(),
            fuel: 0,
        }
    }

    /// stdout then stderr, as log lines (a container's log interleaves both).
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for stream in [&self.stdout, &self.stderr] {
            let text = String::from_utf8_lossy(stream);
            lines.extend(text.lines().map(str::to_string));
        }
        lines
    }
}

/// Outbound HTTP from a program (the `kubesim.http_request` import): the cluster resolves the
/// Service and runs the program behind it. It is handed to the program by value (a wasm store
/// owns its data), and handed back with the outcome.
pub trait Network: Any {
    /// Sends a request; `Ok((status, body))`, or `Err(why)` when no connection could be made.
    fn http_request(
        &mut self,
        method: &str,
        url: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String>;
    /// For getting the concrete network back after the invocation.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// A network with nothing on it.
#[derive(Debug, Default)]
pub struct NoNetwork;

impl Network for NoNetwork {
    fn http_request(&mut self, _: &str, url: &str, _: &[u8]) -> Result<(u16, Vec<u8>), String> {
        Err(format!("dial tcp: lookup {url}: no such host"))
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// A program a container image runs.
pub trait Program: fmt::Debug + Send + Sync {
    /// The module's name (for messages).
    fn name(&self) -> &str;
    /// Whether it may call other Services (imports `kubesim.http_request`); only then does
    /// the cluster prepare a network for it.
    fn calls_out(&self) -> bool {
        false
    }
    /// Runs it once; `net` serves its outbound calls and comes back with the outcome.
    fn invoke(&self, inv: &Invocation<'_>, net: Box<dyn Network>) -> (Outcome, Box<dyn Network>);
    /// A process to serve one container's requests, for a program that can keep one between
    /// requests (the worker ABI's `kubesim_handle`); `None`: every request is an [`invoke`].
    ///
    /// A process must answer exactly as [`invoke`] would (the same outcome, output and fuel),
    /// so whether a request ran in one never shows in a run; it is only faster.
    ///
    /// [`invoke`]: Program::invoke
    fn process(&self) -> Option<Box<dyn Process>> {
        None
    }
}

/// A program kept running for one container's requests (see [`Program::process`]).
pub trait Process: Send {
    /// Serves one request invocation, with the same result [`Program::invoke`] would give.
    fn invoke(
        &mut self,
        inv: &Invocation<'_>,
        net: Box<dyn Network>,
    ) -> (Outcome, Box<dyn Network>);
}

/// The process of one container run, if its program has one: created at the run's first
/// request, dropped with the run (a restart starts a new run, so a new process). The kubelet's
/// snapshots of the run ([`crate::kubelet::worker::Target`]) share it.
#[derive(Clone, Default)]
pub struct ProcessSlot(Arc<std::sync::Mutex<SlotState>>);

#[derive(Default)]
enum SlotState {
    /// No request yet.
    #[default]
    Unasked,
    /// The program keeps no process.
    None,
    /// The container's process.
    Running(Box<dyn Process>),
}

impl fmt::Debug for ProcessSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProcessSlot")
    }
}

impl ProcessSlot {
    /// Runs a request of `program` in this container's process (created on first use), or
    /// invokes it afresh when there is none or it is busy (a request that reaches its own
    /// container through a Service while it runs).
    pub fn invoke(
        &self,
        program: &dyn Program,
        inv: &Invocation<'_>,
        net: Box<dyn Network>,
    ) -> (Outcome, Box<dyn Network>) {
        let Ok(mut slot) = self.0.try_lock() else {
            return program.invoke(inv, net);
        };
        if matches!(*slot, SlotState::Unasked) {
            *slot = match program.process() {
                Some(p) => SlotState::Running(p),
                None => SlotState::None,
            };
        }
        match &mut *slot {
            SlotState::Running(p) => p.invoke(inv, net),
            _ => program.invoke(inv, net),
        }
    }
}

/// A shared program, compared by identity.
#[derive(Clone)]
pub struct ProgramRef(pub Arc<dyn Program>);

impl PartialEq for ProgramRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for ProgramRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Program({})", self.0.name())
    }
}

/// Where named modules come from (the built-in inference workers, or an instructor's own).
pub trait Programs: fmt::Debug + Send + Sync {
    /// The program called `module`, if there is one.
    fn program(&self, module: &str) -> Option<Arc<dyn Program>>;
    /// Whether there is a program called `module` (without compiling it, where that costs).
    fn has(&self, module: &str) -> bool {
        self.program(module).is_some()
    }
}

/// Fuel a simulated pod burns per virtual millisecond with one CPU.
///
/// Calibration (docs/performance.md): one unit of fuel is about one WebAssembly instruction.
/// The course's services are Python (FastAPI and scikit-learn), which spend far more per request
/// than our Rust workers, so the simulated CPU is deliberately slow: ten thousand instructions
/// per millisecond of one core (a hundred times slower than the wasm really runs). The credit scorer's request then costs a few milliseconds, the
/// order of magnitude of the real service.
pub const FUEL_PER_CPU_MS: u64 = 10_000;

/// Fixed cost of one HTTP request in the server (accept, parse, framework), in microseconds.
pub const REQUEST_OVERHEAD_US: u64 = 500;

/// Virtual milliseconds a request takes on a pod with `millicores` of CPU, given the fuel it
/// burned.
pub fn service_ms(fuel: u64, millicores: u64) -> f64 {
    let cores = millicores.max(10) as f64 / 1000.0;
    REQUEST_OVERHEAD_US as f64 / 1000.0 + fuel as f64 / (FUEL_PER_CPU_MS as f64 * cores)
}

/// [`service_ms`] rounded up to the simulator's millisecond clock.
pub fn service_time(fuel: u64, millicores: u64) -> SimDuration {
    SimDuration(service_ms(fuel, millicores).ceil() as u64)
}

/// An HTTP response parsed from a CGI program's stdout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, if given.
    pub content_type: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Parses `Status:`/`Content-Type:` header lines, a blank line, then the body (RFC 3875
    /// §6). Output with no header block is a 200 with that output as the body; output that is
    /// not a response at all is an error that says why.
    pub fn from_cgi(out: &[u8]) -> Result<HttpResponse, String> {
        let split = find_blank_line(out);
        let Some((head_end, body_start)) = split else {
            if out.is_empty() {
                return Err("the program wrote no response".into());
            }
            return Ok(HttpResponse {
                status: 200,
                content_type: None,
                body: out.to_vec(),
            });
        };
        let head = std::str::from_utf8(&out[..head_end])
            .map_err(|_| "the response headers are not UTF-8".to_string())?;
        let mut status = 200;
        let mut content_type = None;
        for line in head.lines() {
            let Some((name, value)) = line.split_once(':') else {
                return Err(format!(
                    "malformed CGI header line {:?}",
                    truncate(line, 60)
                ));
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "status" => {
                    let code = value.split_whitespace().next().unwrap_or("");
                    status = code
                        .parse::<u16>()
                        .ok()
                        .filter(|c| (100..=599).contains(c))
                        .ok_or_else(|| format!("bad CGI Status {:?}", truncate(value, 40)))?;
                }
                "content-type" => content_type = Some(value.to_string()),
                _ => {}
            }
        }
        Ok(HttpResponse {
            status,
            content_type,
            body: out[body_start..].to_vec(),
        })
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Where a program finds the state it kept ([`cgi_state`]) in its read-only file system.
pub const STATE_PATH: &str = "/var/lib/kubesim/state";

/// The state a request invocation asks the host to keep for its container, from a
/// `Kubesim-State:` header line of its CGI response: given back as the file [`STATE_PATH`] to
/// the container's next invocations, until the container restarts. `None` when the response
/// has no such line (the state stays as it was); an empty value keeps an empty state.
pub fn cgi_state(out: &[u8]) -> Option<Vec<u8>> {
    let (head_end, _) = find_blank_line(out)?;
    out[..head_end].split(|b| *b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|b| *b == b':')?;
        let name = std::str::from_utf8(&line[..colon]).ok()?;
        name.trim()
            .eq_ignore_ascii_case("kubesim-state")
            .then(|| line[colon + 1..].trim_ascii().to_vec())
    })
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Where the header block ends and the body starts (`\n\n` or `\r\n\r\n`).
fn find_blank_line(out: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < out.len() {
        if out[i] == b'\n' {
            if out.get(i + 1) == Some(&b'\n') {
                return Some((i, i + 2));
            }
            if out.get(i + 1) == Some(&b'\r') && out.get(i + 2) == Some(&b'\n') {
                return Some((i, i + 3));
            }
        }
        i += 1;
    }
    None
}

/// The reason phrase kubectl and curl users know for a status.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        422 => "Unprocessable Entity",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_responses_parse() {
        let r = HttpResponse::from_cgi(
            b"Status: 422 Unprocessable Entity\r\nContent-Type: application/json\r\n\r\n{}",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (422, &b"{}"[..]));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        let r = HttpResponse::from_cgi(b"Content-Type: text/plain\n\nhi").unwrap();
        assert_eq!((r.status, r.text().as_str()), (200, "hi"));
        // No header block: the whole output is the body.
        let r = HttpResponse::from_cgi(b"{\"ok\":true}").unwrap();
        assert_eq!(r.status, 200);
        assert!(HttpResponse::from_cgi(b"").is_err());
        let e = HttpResponse::from_cgi(b"garbage garbage\n\nbody").unwrap_err();
        assert!(e.contains("malformed CGI header"), "{e}");
        assert!(HttpResponse::from_cgi(b"Status: 999\n\n").is_err());
    }

    #[test]
    fn a_kept_state_comes_from_its_header_line() {
        assert_eq!(
            cgi_state(b"Status: 200 OK\r\nKubesim-State: 6b 76 -\r\n\r\n+OK\r\n"),
            Some(b"6b 76 -".to_vec())
        );
        assert_eq!(
            cgi_state(b"kubesim-state:\nContent-Type: x\n\nbody"),
            Some(Vec::new())
        );
        assert_eq!(
            cgi_state(b"Status: 200 OK\n\nKubesim-State: in the body"),
            None
        );
        assert_eq!(cgi_state(b"no header block"), None);
    }

    #[test]
    fn fuel_becomes_time_by_cpu() {
        // 10,000 fuel is 1 ms on one core; half a core takes twice as long.
        assert_eq!(service_ms(0, 1000), 0.5);
        assert_eq!(service_ms(10_000, 1000), 1.5);
        assert_eq!(service_ms(10_000, 500), 2.5);
        assert_eq!(service_time(10_000, 500), SimDuration(3));
    }

    /// A program whose process counts the requests it served (a guest keeping state between
    /// requests, which a real one must not show): it writes the count, so a test sees which
    /// process served a request.
    #[derive(Debug)]
    struct Counting;

    struct Count(u64);

    impl Process for Count {
        fn invoke(
            &mut self,
            _: &Invocation<'_>,
            net: Box<dyn Network>,
        ) -> (Outcome, Box<dyn Network>) {
            self.0 += 1;
            let mut out = Outcome::invalid("");
            out.stdout = format!("kept {}", self.0).into_bytes();
            (out, net)
        }
    }

    impl Program for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        fn invoke(&self, _: &Invocation<'_>, net: Box<dyn Network>) -> (Outcome, Box<dyn Network>) {
            let mut out = Outcome::invalid("");
            out.stdout = b"fresh".to_vec();
            (out, net)
        }
        fn process(&self) -> Option<Box<dyn Process>> {
            Some(Box::new(Count(0)))
        }
    }

    /// One process per container run: the run's snapshots share it, another run (a restart,
    /// another pod) has its own, and a request reaching a run whose process is busy runs fresh.
    #[test]
    fn a_process_belongs_to_one_container_run() {
        let files = std::collections::BTreeMap::new();
        let inv = Invocation {
            args: &[],
            env: &[],
            stdin: b"",
            memory_limit: None,
            fuel: 1,
            clock_unix_ns: 0,
            seed: 0,
            files: &files,
        };
        let served = |slot: &ProcessSlot| {
            String::from_utf8(slot.invoke(&Counting, &inv, Box::new(NoNetwork)).0.stdout)
                .unwrap_or_default()
        };
        let run = ProcessSlot::default();
        let snapshot = run.clone();
        assert_eq!(served(&run), "kept 1");
        assert_eq!(served(&snapshot), "kept 2");
        let restarted = ProcessSlot::default();
        assert_eq!(served(&restarted), "kept 1");
        let busy = run.0.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(served(&snapshot), "fresh");
        drop(busy);
        assert_eq!(served(&run), "kept 3");
    }
}
