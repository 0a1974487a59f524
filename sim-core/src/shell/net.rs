//! The shell's network tools: `curl`, busybox `wget` and `nslookup`, through the sandbox's
//! network: a Service (by name, `name.ns`, `name.ns.svc.cluster.local` or ClusterIP) through
//! [`Sim::service_request`], a pod IP, or the container itself (`localhost`) straight to the
//! pod's program. Every request is a real run of the program, so it moves the cluster (the
//! program's request counter, its log): an exec that sends one is recorded.

use super::fs::{CLUSTER_DNS, CLUSTER_DOMAIN};
use super::{Io, Shell};
use crate::network::{ServiceReply, split_url};
use crate::program::HttpResponse;
use crate::store::ObjId;
use crate::store::pod::ip_string;

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq)]
enum NetFail {
    /// The URL has no host, or a bad port.
    BadUrl,
    /// No such name.
    Resolve(String),
    /// Nothing listens (or no ready endpoint).
    Refused,
    /// The program ran past the client's timeout.
    Timeout,
    /// The program died handling the request.
    Empty,
    /// `https://` to a program that speaks plain HTTP.
    Tls,
}

/// A response, or why not, and the address it went to.
struct Fetched {
    result: Result<HttpResponse, NetFail>,
    host: String,
    ip: String,
    port: i32,
}

/// The reason phrase of an HTTP status, as Go's `http.StatusText`.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

impl Shell<'_> {
    /// Sends one request to `url`.
    fn fetch(&mut self, url: &str, method: &str, body: &[u8]) -> Fetched {
        let tls = url.starts_with("https://");
        let plain = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .unwrap_or(url);
        let mut out = Fetched {
            result: Err(NetFail::BadUrl),
            host: String::new(),
            ip: String::new(),
            port: if tls { 443 } else { 80 },
        };
        let Some((host, port, path)) = split_url(plain) else {
            return out;
        };
        out.host = host.clone();
        self.requests += 1;
        let own = matches!(host.as_str(), "localhost" | "127.0.0.1");
        let pod = if own {
            Some(self.pod)
        } else {
            self.sim.pod_by_ip(&host)
        };
        if let Some(pod) = pod {
            out.ip = if own {
                "127.0.0.1".into()
            } else {
                host.clone()
            };
            out.port = port.unwrap_or(out.port);
            out.result = if tls {
                Err(NetFail::Tls)
            } else {
                self.pod_request(pod, out.port, method, &path, body)
            };
            return out;
        }
        let Some(svc) = self.sim.resolve_service(&self.ns, &host) else {
            // The request number moves as it does for a request step that fails to resolve.
            self.sim.store.next_request_seq();
            out.result = Err(NetFail::Resolve(host));
            return out;
        };
        if let Some((_, s)) = self.sim.store.services.get(svc) {
            let spec = s.spec.as_ref();
            out.ip = spec.and_then(|s| s.cluster_ip.clone()).unwrap_or_default();
            let first = spec
                .and_then(|s| s.ports.as_ref())
                .and_then(|p| p.first())
                .map(|p| p.port);
            out.port = port.or(first).unwrap_or(out.port);
        }
        if tls {
            self.sim.store.next_request_seq();
            out.result = Err(NetFail::Tls);
            return out;
        }
        let reply = self
            .sim
            .service_request(&self.ns, &format!("http://{plain}"), method, body);
        out.result = match reply {
            ServiceReply::Response { response, .. } => Ok(response),
            ServiceReply::Failed(why) => Err(match ServiceReply::curl_exit(&why) {
                6 => NetFail::Resolve(host),
                7 => NetFail::Refused,
                28 => NetFail::Timeout,
                3 => NetFail::BadUrl,
                _ => NetFail::Empty,
            }),
        };
        out
    }

    /// A request straight to a pod's program ([`Sim::pod_request`]).
    fn pod_request(
        &mut self,
        pod: ObjId,
        port: i32,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<HttpResponse, NetFail> {
        let seq = self.sim.store.next_request_seq();
        match self
            .sim
            .pod_request(pod, Some(port), method, path, body, seq)
        {
            ServiceReply::Response { response, .. } => Ok(response),
            ServiceReply::Failed(why) => Err(match ServiceReply::curl_exit(&why) {
                7 => NetFail::Refused,
                28 => NetFail::Timeout,
                _ => NetFail::Empty,
            }),
        }
    }

    /// `curl [-sSifL] [-X METHOD] [-d DATA] [-H HEADER] [-o FILE] [-m SECONDS] URL`.
    pub(super) fn curl(&mut self, args: &[String], io: &mut Io) -> i32 {
        let (mut silent, mut show_error, mut include, mut fail) = (false, false, false, false);
        let mut method: Option<String> = None;
        let mut data: Option<String> = None;
        let mut output: Option<String> = None;
        let mut url: Option<String> = None;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            let mut value = |inline: &str| -> Option<String> {
                if !inline.is_empty() {
                    return Some(inline.to_string());
                }
                let v = args.get(i).cloned();
                i += 1;
                v
            };
            if let Some(long) = a.strip_prefix("--") {
                let (name, inline) = long.split_once('=').unwrap_or((long, ""));
                match name {
                    "silent" => silent = true,
                    "show-error" => show_error = true,
                    "include" => include = true,
                    "fail" => fail = true,
                    "location" | "verbose" | "insecure" | "compressed" => {}
                    "request" => method = value(inline),
                    "data" | "data-raw" | "data-binary" | "data-ascii" => data = value(inline),
                    "header" | "max-time" | "connect-timeout" | "user-agent" | "write-out" => {
                        value(inline);
                    }
                    "output" => output = value(inline),
                    _ => {
                        io.err.extend_from_slice(
                            format!("curl: option {a}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n").as_bytes(),
                        );
                        return 2;
                    }
                }
                continue;
            }
            if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
                for (at, c) in flags.char_indices() {
                    let rest = &flags[at + c.len_utf8()..];
                    match c {
                        's' => silent = true,
                        'S' => show_error = true,
                        'i' => include = true,
                        'f' => fail = true,
                        'L' | 'v' | 'k' => {}
                        'X' | 'd' | 'H' | 'o' | 'm' | 'A' | 'w' => {
                            let v = value(rest);
                            match c {
                                'X' => method = v,
                                'd' => data = v,
                                'o' => output = v,
                                _ => {}
                            }
                            break;
                        }
                        _ => {
                            io.err.extend_from_slice(
                                format!("curl: option -{flags}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n").as_bytes(),
                            );
                            return 2;
                        }
                    }
                }
                continue;
            }
            url = Some(a.clone());
        }
        let Some(url) = url else {
            io.err.extend_from_slice(
                b"curl: try 'curl --help' or 'curl --manual' for more information\n",
            );
            return 2;
        };
        let method =
            method.unwrap_or_else(|| if data.is_some() { "POST" } else { "GET" }.to_string());
        let body = data.unwrap_or_default();
        let f = self.fetch(&url, &method.to_uppercase(), body.as_bytes());
        let say = !silent || show_error;
        let (code, msg) = match f.result {
            Ok(r) => {
                if fail && r.status >= 400 {
                    (
                        22,
                        format!("curl: (22) The requested URL returned error: {}", r.status),
                    )
                } else {
                    let mut out = Vec::new();
                    if include {
                        out.extend_from_slice(
                            format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status)).as_bytes(),
                        );
                        if let Some(ct) = &r.content_type {
                            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
                        }
                        out.extend_from_slice(
                            format!("Content-Length: {}\r\n\r\n", r.body.len()).as_bytes(),
                        );
                    }
                    out.extend_from_slice(&r.body);
                    match output.as_deref() {
                        None | Some("-") => io.out.extend_from_slice(&out),
                        Some("/dev/null") => {}
                        Some(file) => {
                            io.err.extend_from_slice(format!("Warning: Failed to open the file {file}: Read-only file system\ncurl: (23) Failure writing output to destination\n").as_bytes());
                            return 23;
                        }
                    }
                    return 0;
                }
            }
            Err(NetFail::BadUrl) => (3, "curl: (3) URL rejected: Bad hostname".to_string()),
            Err(NetFail::Resolve(h)) => (6, format!("curl: (6) Could not resolve host: {h}")),
            Err(NetFail::Refused) => (
                7,
                format!(
                    "curl: (7) Failed to connect to {} port {} after 0 ms: Couldn't connect to server",
                    f.host, f.port
                ),
            ),
            Err(NetFail::Timeout) => (
                28,
                format!(
                    "curl: (28) Operation timed out after {} milliseconds with 0 bytes received",
                    crate::kubelet::worker::REQUEST_TIMEOUT_MS
                ),
            ),
            Err(NetFail::Empty) => (52, "curl: (52) Empty reply from server".to_string()),
            Err(NetFail::Tls) => (
                35,
                "curl: (35) OpenSSL/3.0.15: error:0A00010B:SSL routines::wrong version number"
                    .to_string(),
            ),
        };
        if say {
            io.err.extend_from_slice(format!("{msg}\n").as_bytes());
        }
        code
    }

    /// busybox `wget [-q] [-O FILE] [--post-data=DATA] [-T SECONDS] URL`.
    pub(super) fn wget(&mut self, args: &[String], io: &mut Io) -> i32 {
        let mut quiet = false;
        let mut output: Option<String> = None;
        let mut data: Option<String> = None;
        let mut url: Option<String> = None;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            if let Some(d) = a.strip_prefix("--post-data=") {
                data = Some(d.to_string());
            } else if a == "--post-data" {
                data = args.get(i).cloned();
                i += 1;
            } else if let Some(o) = a.strip_prefix("--output-document=") {
                output = Some(o.to_string());
            } else if a.starts_with("--") {
                // --spider and the like: accepted, without effect.
            } else if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
                for (at, c) in flags.char_indices() {
                    match c {
                        'q' => quiet = true,
                        'O' | 'T' | 'U' | 'Y' => {
                            let rest = &flags[at + 1..];
                            let v = if rest.is_empty() {
                                let v = args.get(i).cloned();
                                i += 1;
                                v
                            } else {
                                Some(rest.to_string())
                            };
                            if c == 'O' {
                                output = v;
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            } else {
                url = Some(a.clone());
            }
        }
        let Some(url) = url else {
            io.err.extend_from_slice(b"BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n");
            return 1;
        };
        let method = if data.is_some() { "POST" } else { "GET" };
        let f = self.fetch(&url, method, data.unwrap_or_default().as_bytes());
        if !quiet && !f.ip.is_empty() {
            io.err.extend_from_slice(
                format!("Connecting to {} ({}:{})\n", f.host, f.ip, f.port).as_bytes(),
            );
        }
        let r = match f.result {
            Ok(r) => r,
            Err(e) => {
                let msg = match e {
                    NetFail::BadUrl => format!("wget: bad address '{url}'"),
                    NetFail::Resolve(h) => format!("wget: bad address '{h}'"),
                    NetFail::Refused => {
                        format!(
                            "wget: can't connect to remote host ({}): Connection refused",
                            f.ip
                        )
                    }
                    NetFail::Timeout => "wget: download timed out".to_string(),
                    NetFail::Empty => {
                        "wget: error getting response: Connection reset by peer".to_string()
                    }
                    NetFail::Tls => "wget: error getting response".to_string(),
                };
                io.err.extend_from_slice(format!("{msg}\n").as_bytes());
                return 1;
            }
        };
        if !(200..300).contains(&r.status) {
            io.err.extend_from_slice(
                format!(
                    "wget: server returned error: HTTP/1.1 {} {}\n",
                    r.status,
                    reason(r.status)
                )
                .as_bytes(),
            );
            return 1;
        }
        match output.as_deref() {
            Some("-") => {
                if !quiet {
                    io.err.extend_from_slice(b"writing to stdout\n");
                }
                io.out.extend_from_slice(&r.body);
                if !quiet {
                    io.err.extend_from_slice(b"written to stdout\n");
                }
                0
            }
            Some("/dev/null") => 0,
            other => {
                let file = other.unwrap_or("index.html");
                if !quiet {
                    io.err
                        .extend_from_slice(format!("saving to '{file}'\n").as_bytes());
                }
                io.err.extend_from_slice(
                    format!("wget: can't open '{file}': Read-only file system\n").as_bytes(),
                );
                1
            }
        }
    }

    /// busybox `nslookup NAME`: a Service's ClusterIP (a headless Service's ready pod IPs) as
    /// the cluster DNS answers it.
    pub(super) fn nslookup(&mut self, args: &[String], io: &mut Io) -> i32 {
        let Some(name) = args.iter().find(|a| !a.starts_with('-')) else {
            io.err.extend_from_slice(b"BusyBox v1.36.1 multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n");
            return 1;
        };
        io.out.extend_from_slice(
            format!("Server:\t\t{CLUSTER_DNS}\nAddress:\t{CLUSTER_DNS}:53\n\n").as_bytes(),
        );
        let found = self.sim.resolve_service(&self.ns, name).and_then(|id| {
            let (_, s) = self.sim.store.services.get(id)?;
            let ns = s.metadata.namespace.clone().unwrap_or_default();
            let svc = s.metadata.name.clone().unwrap_or_default();
            let ip = s.spec.as_ref()?.cluster_ip.clone().unwrap_or_default();
            let ips = if ip == "None" || ip.is_empty() {
                let (targets, declared) = self.sim.service_targets(id);
                let mut ips: Vec<String> = targets.into_iter().map(|t| t.ip).collect();
                ips.extend(
                    declared
                        .into_iter()
                        .filter_map(|p| self.sim.store.pods.get(p))
                        .map(|p| ip_string(p.ip)),
                );
                ips
            } else {
                vec![ip]
            };
            Some((format!("{svc}.{ns}.svc.{CLUSTER_DOMAIN}"), ips))
        });
        match found {
            Some((fqdn, ips)) if !ips.is_empty() => {
                for ip in ips {
                    io.out
                        .extend_from_slice(format!("Name:\t{fqdn}\nAddress: {ip}\n").as_bytes());
                }
                io.out.push(b'\n');
                0
            }
            _ => {
                let fqdn = if name.contains('.') {
                    name.clone()
                } else {
                    format!("{name}.{}.svc.{CLUSTER_DOMAIN}", self.ns)
                };
                io.out.extend_from_slice(
                    format!("** server can't find {fqdn}: NXDOMAIN\n\n").as_bytes(),
                );
                1
            }
        }
    }
}
