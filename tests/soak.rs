//! The soak and attack suite: the real `kubesim serve` binary, attacked as a hostile web page, a
//! careless student and a slow network would, each case bounded in time. Every test says what a
//! user would notice (a refusal with its reason, a server that keeps answering, nothing lost)
//! and prints the figures `docs/reliability.md` quotes (`cargo test soak -- --nocapture`).

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh folder under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "kubesim-soak-{what}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `kubesim serve` process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `kubesim serve ARGS` on a free loopback port, its journal in `state`.
    fn start(state: &Path, args: &[&str]) -> Server {
        // `KUBESIM_SOAK_BIN` measures another build (the release one, for docs/reliability.md).
        let bin = std::env::var("KUBESIM_SOAK_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_kubesim").to_string());
        let mut child = Command::new(bin)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env("KUBESIM_STATE_DIR", state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("kubesim serve starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("a first line");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Server { child, addr }
    }

    /// Resident memory of the server process now, in bytes (Linux `/proc`).
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// `kill -9`, and wait for the process to be gone.
    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a raw request (with this server's `Host`) and reads the answer.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        raw(
            self.addr,
            method,
            path,
            &self.addr.to_string(),
            headers,
            body,
        )
    }

    fn get(&self, path: &str) -> Answer {
        self.send("GET", path, &[("Accept", "application/json")], "")
    }

    /// A JSON write, as kubectl sends one.
    fn api(&self, method: &str, path: &str, body: &str) -> Answer {
        self.send(
            method,
            path,
            &[
                ("Accept", "application/json"),
                ("Content-Type", "application/json"),
            ],
            body,
        )
    }

    /// The names of the objects a list path returns.
    fn names(&self, path: &str) -> Vec<String> {
        let a = self.get(path);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        let v: serde_json::Value = serde_json::from_str(a.json()).expect("a list");
        v["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer and how long it took.
struct Answer {
    status: u16,
    body: String,
    took: Duration,
}

impl Answer {
    /// The JSON document in the body (a chunked body has it between its chunk sizes).
    fn json(&self) -> &str {
        match (self.body.find(['{', '[']), self.body.rfind(['}', ']'])) {
            (Some(a), Some(b)) if a <= b => &self.body[a..=b],
            _ => &self.body,
        }
    }
}

/// One request on its own connection; a server that does not answer within 10 s is a failure
/// the caller sees as status 0.
fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let start = Instant::now();
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(10)) else {
        return Answer {
            status: 0,
            body: "no connection".into(),
            took: start.elapsed(),
        };
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let _ = s.write_all(req.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    Answer {
        status,
        body,
        took: start.elapsed(),
    }
}

/// The p-th percentile of `xs` (sorted in place).
fn percentile(xs: &mut [Duration], p: f64) -> Duration {
    xs.sort();
    if xs.is_empty() {
        return Duration::ZERO;
    }
    xs[((xs.len() - 1) as f64 * p).round() as usize]
}

const NAMESPACES: &str = "/api/v1/namespaces";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/live-coding/deployments";

fn namespace(name: &str) -> String {
    format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}"}}}}"#)
}

/// A page on another site, a rebinding DNS name and a `text/plain` no-cors fetch each try to
/// change the sandbox or read it: every one is refused with its reason, and afterwards the
/// sandbox has exactly the objects it had.
#[test]
fn cross_site_and_rebinding_requests_are_refused_and_change_nothing() {
    let state = TempDir::new("csrf");
    let s = Server::start(&state.0, &["--speed", "0"]);
    let before = (s.names(NAMESPACES), s.names(DEPLOYMENTS));
    let evil = [("Origin", "http://attacker.example")];
    let cross = [("Sec-Fetch-Site", "cross-site")];
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let cases: Vec<(&str, Answer, u16)> = vec![
        (
            "a form on another site deletes the Deployment through the console",
            s.send(
                "POST",
                "/kubectl",
                &[evil[0], form],
                "cmd=kubectl+delete+deployment+credit-scoring-api+-n+live-coding",
            ),
            403,
        ),
        (
            "a no-cors text/plain fetch creates a namespace through the API",
            s.send(
                "POST",
                NAMESPACES,
                &[cross[0], ("Content-Type", "text/plain")],
                &namespace("from-evil"),
            ),
            403,
        ),
        (
            "kubectl-like client with a content type the API server refuses",
            s.send(
                "POST",
                NAMESPACES,
                &[("Content-Type", "text/plain")],
                &namespace("plain-text"),
            ),
            415,
        ),
        (
            "another site replaces the sandbox with /import",
            s.send(
                "POST",
                "/import",
                &[evil[0], ("Content-Type", "application/yaml")],
                "steps: []",
            ),
            403,
        ),
        (
            "another site starts a scenario (its background.sh)",
            s.send("POST", "/scenarios/05-broken-release/start", &cross, ""),
            403,
        ),
        (
            "a browser that sends no Origin posts a form without the page's form token",
            s.send(
                "POST",
                "/kubectl",
                &[form],
                "cmd=kubectl+delete+deployment+credit-scoring-api+-n+live-coding",
            ),
            403,
        ),
        (
            "another site scales through the page's control routes",
            s.send("POST", "/fault/node-down", &[evil[0], form], "node=node-1"),
            403,
        ),
    ];
    let mut refused = 0;
    for (what, a, want) in &cases {
        assert_eq!(a.status, *want, "{what}: {}", a.body);
        assert!(!a.body.trim().is_empty(), "{what}: the refusal says why");
        refused += 1;
    }
    // DNS rebinding: a name that resolves to 127.0.0.1 but is not this server's.
    for (method, path, body) in [
        ("POST", NAMESPACES, namespace("rebound")),
        ("GET", "/export", String::new()),
        ("GET", "/kubeconfig", String::new()),
    ] {
        let a = raw(
            s.addr,
            method,
            path,
            "attacker.example",
            &[("Content-Type", "application/json")],
            &body,
        );
        assert_eq!(a.status, 403, "Host: attacker.example {method} {path}");
        assert!(a.body.contains("DNS rebinding"), "{}", a.body);
        refused += 1;
    }
    assert_eq!(
        (s.names(NAMESPACES), s.names(DEPLOYMENTS)),
        before,
        "nothing changed"
    );
    // The same requests from the page itself (same origin) or kubectl (no Origin) work.
    let own = format!("http://{}", s.addr);
    let a = s.send(
        "POST",
        NAMESPACES,
        &[
            ("Origin", own.as_str()),
            ("Content-Type", "application/json"),
        ],
        &namespace("from-the-page"),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    eprintln!("soak: {refused} cross-site and rebinding requests refused, none changed anything");
}

/// A careless import (a million nodes, an endless advance), a body over the size limit and
/// an unauthenticated address on the network each get a clear error; the sandbox keeps what it
/// had and keeps serving.
#[test]
fn bad_imports_bodies_and_addresses_get_clear_errors() {
    let state = TempDir::new("imports");
    let s = Server::start(&state.0, &["--speed", "0"]);
    let before = s.names(DEPLOYMENTS);
    for (file, says) in [
        ("cluster: {nodes: 1000000}\nsteps: []\n", "nodes"),
        (
            "cluster: {nodes: 3}\nsteps:\n  - advance: 99999999999999999999h\n",
            "advance",
        ),
        ("steps:\n  - advance: 10\n", "unit"),
        ("steps:\n  - teleport: pods\n", "teleport"),
    ] {
        let a = s.send(
            "POST",
            "/import",
            &[("Content-Type", "application/yaml")],
            file,
        );
        assert!(
            (400..500).contains(&a.status),
            "{file:?} is refused: {} {}",
            a.status,
            a.body
        );
        assert!(a.body.contains(says), "{file:?}: {}", a.body);
        assert!(a.took < Duration::from_secs(5), "{file:?} answered at once");
    }
    let big = "x".repeat(600 * 1024);
    let a = s.api("POST", NAMESPACES, &big);
    assert_eq!(a.status, 413, "a body over 512 KiB: {}", a.body);
    assert_eq!(s.names(DEPLOYMENTS), before, "the sandbox kept its run");
    assert_eq!(s.get("/healthz").status, 200);

    let out = Command::new(env!("CARGO_BIN_EXE_kubesim"))
        .args(["serve", "--addr", "0.0.0.0:0"])
        .env("KUBESIM_STATE_DIR", "")
        .output()
        .expect("kubesim runs");
    assert!(!out.status.success(), "no token off loopback: no server");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--token"), "says what to do: {err}");
}

/// A million replicas posted to the API: the write answers once stored, `/healthz` keeps
/// answering while the ReplicaSet works through them, the pod limit stops them as a full
/// cluster would, and memory stays bounded.
#[test]
fn a_million_replicas_never_stop_healthz_and_memory_stays_bounded() {
    let state = TempDir::new("million");
    let s = Server::start(&state.0, &["--speed", "100"]);
    let huge = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"huge"},
      "spec":{"replicas":1000000,"selector":{"matchLabels":{"app":"huge"}},
      "template":{"metadata":{"labels":{"app":"huge"}},
      "spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}}}"#;
    let a = s.api("POST", DEPLOYMENTS, huge);
    assert_eq!(a.status, 201, "{}", a.body);
    let created = a.took;
    // `KUBESIM_SOAK_SECS` runs each phase longer (to the pod limit, for the docs' figures).
    let secs = std::env::var("KUBESIM_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut health = Vec::new();
    let mut peak_rss = 0;
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        let h = s.get("/healthz");
        assert_eq!(h.status, 200, "healthz answers while the pods are made");
        health.push(h.took);
        peak_rss = peak_rss.max(s.rss());
        std::thread::sleep(Duration::from_millis(100));
    }
    let rs = s.get("/apis/apps/v1/namespaces/live-coding/replicasets?labelSelector=app%3Dhuge");
    let v: serde_json::Value = serde_json::from_str(rs.json()).expect("a list");
    let replicas = v["items"][0]["status"]["replicas"].as_i64().unwrap_or(0);
    assert!(
        replicas > 500,
        "the ReplicaSet went on after the first burst"
    );
    assert!(
        peak_rss < 2 << 30,
        "RSS {} MiB stays under 2 GiB",
        peak_rss >> 20
    );

    // The burst ends: the Deployment is deleted, its pods go, and healthz still answers.
    let d = s.api(
        "DELETE",
        &format!("{DEPLOYMENTS}/huge"),
        r#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}"#,
    );
    assert_eq!(d.status, 200, "{}", d.body);
    let mut after = Vec::new();
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        let h = s.get("/healthz");
        assert_eq!(h.status, 200, "healthz answers while the pods go");
        after.push(h.took);
        peak_rss = peak_rss.max(s.rss());
        std::thread::sleep(Duration::from_millis(100));
    }
    let rss_after = s.rss();
    let left = s
        .names("/api/v1/namespaces/live-coding/pods?labelSelector=app%3Dhuge")
        .len();

    let n = health.len();
    let p99 = percentile(&mut health, 0.99);
    let max = health.last().copied().unwrap_or_default();
    let p99_after = percentile(&mut after, 0.99);
    eprintln!(
        "soak: 1,000,000 replicas: 201 in {created:?}; {replicas} pods after {secs} s at 100x; \
         /healthz {n} times, p99 {p99:?}, max {max:?}; peak RSS {} MiB; \
         {secs} s after the delete: {left} pods left, /healthz p99 {p99_after:?}, RSS {} MiB",
        peak_rss >> 20,
        rss_after >> 20
    );
}

/// Open a TCP connection from a given loopback address (so streams come from several
/// clients, as a class's laptops would).
fn connect_from(local: &str, addr: SocketAddr) -> Option<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .ok()?;
    rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().ok()?;
        sock.bind(format!("{local}:0").parse().ok()?).ok()?;
        let s = sock.connect(addr).await.ok()?;
        s.into_std().ok()
    })
}

/// Starts a long request (an SSE stream or a watch) and reads its status line.
fn hold(local: &str, addr: SocketAddr, path: &str) -> Option<(u16, TcpStream)> {
    let accept = if path.starts_with("/api") {
        "application/json"
    } else {
        "text/event-stream"
    };
    let mut s = connect_from(local, addr)?;
    s.set_nonblocking(false).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    let status = String::from_utf8_lossy(&head[9..12]).parse().ok()?;
    Some((status, s))
}

/// 200 page streams and 50 watches from four clients, and 300 connections that never finish
/// their headers: the page still answers, a client over its stream limit is told 429, and the
/// half-sent connections are closed by the server.
#[test]
fn streams_watches_and_half_sent_requests_do_not_take_the_server() {
    let state = TempDir::new("streams");
    let s = Server::start(&state.0, &["--speed", "30"]);
    let clients = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    let mut held = Vec::new();
    for i in 0..200 {
        let (status, conn) =
            hold(clients[i % 4], s.addr, "/stream").expect("a stream opens from a new client");
        assert_eq!(status, 200, "stream {i}");
        held.push(conn);
    }
    for i in 0..50 {
        let (status, conn) = hold(
            clients[i % 4],
            s.addr,
            "/api/v1/namespaces/live-coding/pods?watch=true",
        )
        .expect("a watch opens");
        assert_eq!(status, 200, "watch {i}");
        held.push(conn);
    }
    // 127.0.0.2 now holds 50 streams and 13 watches: its 64th is served, its 65th refused.
    let mut over = 0;
    for _ in 0..2 {
        if let Some((status, conn)) = hold("127.0.0.2", s.addr, "/stream") {
            if status == 429 {
                over += 1;
            }
            held.push(conn);
        }
    }
    assert_eq!(over, 1, "the 65th stream of one client is refused");
    let mut half = Vec::new();
    for _ in 0..300 {
        if let Ok(mut c) = TcpStream::connect(s.addr) {
            let _ = write!(c, "GET / HTTP/1.1\r\nHost: {}\r\nX-Slow: ", s.addr);
            half.push(c);
        }
    }
    let mut page = Vec::new();
    for _ in 0..40 {
        let a = s.send("GET", "/", &[], "");
        assert_eq!(a.status, 200, "the page answers under load");
        page.push(a.took);
    }
    let p99 = percentile(&mut page, 0.99);
    // The header timeout (10 s) closes the half-sent ones.
    std::thread::sleep(Duration::from_secs(11));
    let closed = half
        .iter_mut()
        .map(|c| {
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 256];
            !matches!(c.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
                || e.kind() == std::io::ErrorKind::TimedOut)
        })
        .filter(|&closed| closed)
        .count();
    assert_eq!(closed, half.len(), "every half-sent request was closed");
    eprintln!(
        "soak: 200 streams + 50 watches from 4 clients, {} half-sent connections: GET / p99 {p99:?}; \
         the 65th stream of a client got 429; all half-sent connections closed after the 10 s header timeout",
        half.len()
    );
    drop(held);
}

/// `kill -9` right after the answers: every namespace the API acknowledged and every scale
/// the console acknowledged is there when the server starts again.
#[test]
fn kill_9_loses_nothing_acknowledged() {
    let state = TempDir::new("kill9");
    let s = Server::start(&state.0, &["--speed", "10"]);
    let mut acknowledged = Vec::new();
    for i in 0..25 {
        let name = format!("team-{i}");
        let a = s.api("POST", NAMESPACES, &namespace(&name));
        assert_eq!(a.status, 201, "{}", a.body);
        acknowledged.push(name);
    }
    // The page's console form, with the form token the page carries.
    let page = s.send("GET", "/", &[], "").body;
    let token = page
        .split("name=\"kubesim-form\" content=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the page's form token")
        .to_string();
    let a = s.send(
        "POST",
        "/kubectl",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!(
            "cmd=kubectl+scale+deployment+credit-scoring-api+--replicas%3D4+-n+live-coding&_form={token}"
        ),
    );
    assert!(a.status < 400, "{} {}", a.status, a.body);
    s.kill9();

    let again = Server::start(&state.0, &["--speed", "0"]);
    let names = again.names(NAMESPACES);
    let lost: Vec<_> = acknowledged.iter().filter(|n| !names.contains(n)).collect();
    assert!(lost.is_empty(), "lost after kill -9: {lost:?}");
    let d = again.get(&format!("{DEPLOYMENTS}/credit-scoring-api"));
    let v: serde_json::Value = serde_json::from_str(d.json()).expect("the Deployment");
    assert_eq!(v["spec"]["replicas"], 4, "the console's scale survived");
    eprintln!(
        "soak: kill -9 after {} acknowledged writes: all {} back after restart",
        acknowledged.len() + 1,
        acknowledged.len() + 1
    );
}
