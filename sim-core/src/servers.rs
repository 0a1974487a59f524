//! Native programs for public images (`crate::families`): the web servers nginx and httpd,
//! and MySQL's start. They implement [`Program`] like the WebAssembly workers, so requests,
//! probes, Services, the traffic model and the access log reach them the same way; their work
//! is a fixed amount of fuel per request, so their service time is deterministic.

use std::collections::BTreeMap;

use crate::families::WebServer;
use crate::program::{Exit, Invocation, Network, Outcome, Program};

/// Fuel an answered request burns (0.1 ms of one core, plus the request overhead).
const REQUEST_FUEL: u64 = 1_000;
/// Fuel a start burns: none, so the server listens as the container starts (nginx and httpd
/// are up well before the kubelet's first probe).
const START_FUEL: u64 = 0;

/// nginx's default `index.html` (`/usr/share/nginx/html/index.html` in the image).
pub const NGINX_INDEX: &str = "<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href=\"http://nginx.org/\">nginx.org</a>.<br/>
Commercial support is available at
<a href=\"http://nginx.com/\">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
";

/// httpd's default `index.html` (`/usr/local/apache2/htdocs/index.html`).
pub const HTTPD_INDEX: &str = "<html><body><h1>It works!</h1></body></html>\n";

/// A web server serving its document root.
#[derive(Debug)]
pub struct Web {
    server: WebServer,
    /// `nginx/1.27.5` or `Apache/2.4.65 (Unix)`: what the error pages and logs name.
    version: String,
}

impl Web {
    /// The server an image tag runs (the tag's version when it names one).
    pub fn new(server: WebServer, tag: &str) -> Web {
        let first = tag.split('-').next().unwrap_or("");
        let numbers: Vec<&str> = first.split('.').collect();
        let is_version = numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let version = match server {
            WebServer::Nginx => {
                let v = match (is_version, numbers.as_slice()) {
                    (true, [a, b, c]) => format!("{a}.{b}.{c}"),
                    (true, [a, b]) => format!("{a}.{b}.0"),
                    _ => "1.29.0".to_string(),
                };
                format!("nginx/{v}")
            }
            WebServer::Httpd => {
                let v = match (is_version, numbers.as_slice()) {
                    (true, [a, b, c]) => format!("{a}.{b}.{c}"),
                    (true, [a, b]) => format!("{a}.{b}.0"),
                    _ => "2.4.65".to_string(),
                };
                format!("Apache/{v} (Unix)")
            }
        };
        Web { server, version }
    }

    fn root(&self) -> &'static str {
        match self.server {
            WebServer::Nginx => "/usr/share/nginx/html",
            WebServer::Httpd => "/usr/local/apache2/htdocs",
        }
    }

    /// The document root's files: the image's own, unless a volume is mounted over it.
    fn page(&self, files: &BTreeMap<String, Vec<u8>>, path: &str) -> Option<Vec<u8>> {
        let root = self.root();
        let mounted = files.keys().any(|k| k.starts_with(&format!("{root}/")));
        let mut path = path.to_string();
        if path.ends_with('/') {
            path.push_str("index.html");
        }
        if path.split('/').any(|seg| seg == "..") {
            return None;
        }
        let full = format!("{root}{path}");
        if mounted {
            return files.get(&full).cloned();
        }
        match (self.server, path.as_str()) {
            (WebServer::Nginx, "/index.html") => Some(NGINX_INDEX.as_bytes().to_vec()),
            (WebServer::Nginx, "/50x.html") => Some(NGINX_50X.as_bytes().to_vec()),
            (WebServer::Httpd, "/index.html") => Some(HTTPD_INDEX.as_bytes().to_vec()),
            _ => files.get(&full).cloned(),
        }
    }

    fn not_found(&self) -> String {
        match self.server {
            WebServer::Nginx => format!(
                "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>{}</center>\r\n</body>\r\n</html>\r\n",
                self.version
            ),
            WebServer::Httpd => "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n".to_string(),
        }
    }

    fn start(&self, inv: &Invocation<'_>) -> Outcome {
        let mut out = String::new();
        match self.server {
            WebServer::Nginx => {
                let date = log_date(inv.clock_unix_ns, DateStyle::NginxError);
                for line in [
                    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
                    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
                    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
                    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
                    "/docker-entrypoint.sh: Configuration complete; ready for start up",
                ] {
                    out.push_str(line);
                    out.push('\n');
                }
                for notice in [
                    "using the \"epoll\" event method".to_string(),
                    self.version.clone(),
                    "OS: Linux".to_string(),
                    "start worker processes".to_string(),
                    "start worker process 29".to_string(),
                ] {
                    out.push_str(&format!("{date} [notice] 1#1: {notice}\n"));
                }
            }
            WebServer::Httpd => {
                let date = log_date(inv.clock_unix_ns, DateStyle::Apache);
                out.push_str("AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using 10.244.0.2. Set the 'ServerName' directive globally to suppress this message\n");
                out.push_str(&format!(
                    "[{date}] [mpm_event:notice] [pid 1:tid 1] AH00489: {} configured -- resuming normal operations\n",
                    self.version
                ));
                out.push_str(&format!(
                    "[{date}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'\n"
                ));
            }
        }
        Outcome {
            exit: Exit::Code(0),
            stdout: Vec::new(),
            stderr: out.into_bytes(),
            fuel: START_FUEL,
        }
    }

    fn request(&self, inv: &Invocation<'_>) -> Outcome {
        let var = |k: &str| {
            inv.env
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .map_or("", |(_, v)| v.as_str())
        };
        let method = var("REQUEST_METHOD");
        let path = var("PATH_INFO");
        let query = var("QUERY_STRING");
        let client = var("REMOTE_ADDR");
        let agent = match var("HTTP_USER_AGENT") {
            "" => "-",
            a => a,
        };
        let (status, content_type, body) = match method {
            "GET" | "HEAD" => match self.page(inv.files, path) {
                Some(body) => (200, content_type(path), body),
                None => (404, "text/html", self.not_found().into_bytes()),
            },
            _ => (405, "text/html", self.not_allowed().into_bytes()),
        };
        let sent = if method == "HEAD" { 0 } else { body.len() };
        let target = if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        };
        let log = match self.server {
            WebServer::Nginx => format!(
                "{client} - - [{}] \"{method} {target} HTTP/1.1\" {status} {sent} \"-\" \"{agent}\" \"-\"\n",
                log_date(inv.clock_unix_ns, DateStyle::Access)
            ),
            WebServer::Httpd => format!(
                "{client} - - [{}] \"{method} {target} HTTP/1.1\" {status} {sent}\n",
                log_date(inv.clock_unix_ns, DateStyle::Access)
            ),
        };
        let mut stdout = format!(
            "Status: {status} {}\r\nContent-Type: {content_type}\r\n\r\n",
            crate::program::reason_phrase(status)
        )
        .into_bytes();
        if method != "HEAD" {
            stdout.extend_from_slice(&body);
        }
        Outcome {
            exit: Exit::Code(0),
            stdout,
            stderr: log.into_bytes(),
            fuel: REQUEST_FUEL,
        }
    }

    fn not_allowed(&self) -> String {
        match self.server {
            WebServer::Nginx => format!(
                "<html>\r\n<head><title>405 Not Allowed</title></head>\r\n<body>\r\n<center><h1>405 Not Allowed</h1></center>\r\n<hr><center>{}</center>\r\n</body>\r\n</html>\r\n",
                self.version
            ),
            WebServer::Httpd => "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>405 Method Not Allowed</title>\n</head><body>\n<h1>Method Not Allowed</h1>\n<p>The requested method is not allowed for this URL.</p>\n</body></html>\n".to_string(),
        }
    }
}

/// nginx's `50x.html`.
const NGINX_50X: &str = "<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
";

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "txt" => "text/plain",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ if path.ends_with('/') => "text/html",
        _ => "application/octet-stream",
    }
}

impl Program for Web {
    fn name(&self) -> &str {
        match self.server {
            WebServer::Nginx => "nginx",
            WebServer::Httpd => "httpd",
        }
    }

    fn invoke(&self, inv: &Invocation<'_>, net: Box<dyn Network>) -> (Outcome, Box<dyn Network>) {
        let is_request = inv.env.iter().any(|(k, _)| k == "REQUEST_METHOD");
        let out = if is_request {
            self.request(inv)
        } else {
            self.start(inv)
        };
        (out, net)
    }
}

/// MySQL as far as its entrypoint goes: the root password check, then "ready for
/// connections". It answers no queries (an HTTP request to it is reset, as a MySQL server
/// hangs up on one).
#[derive(Debug)]
pub struct MySql;

impl Program for MySql {
    fn name(&self) -> &str {
        "mysql"
    }

    fn invoke(&self, inv: &Invocation<'_>, net: Box<dyn Network>) -> (Outcome, Box<dyn Network>) {
        let set = |k: &str| inv.env.iter().any(|(n, v)| n == k && !v.is_empty());
        let date = log_date(inv.clock_unix_ns, DateStyle::Rfc3339);
        let is_request = inv.env.iter().any(|(k, _)| k == "REQUEST_METHOD");
        let mut out = Outcome {
            exit: Exit::Code(0),
            stdout: Vec::new(),
            stderr: Vec::new(),
            fuel: START_FUEL,
        };
        if is_request {
            out.exit = Exit::Code(1);
            return (out, net);
        }
        let head =
            format!("{date} [Note] [Entrypoint]: Entrypoint script for MySQL Server started.\n");
        if !set("MYSQL_ROOT_PASSWORD")
            && !set("MYSQL_ALLOW_EMPTY_PASSWORD")
            && !set("MYSQL_RANDOM_ROOT_PASSWORD")
        {
            out.stderr = format!(
                "{head}{date} [ERROR] [Entrypoint]: Database is uninitialized and password option is not specified\n    You need to specify one of the following as an environment variable:\n    - MYSQL_ROOT_PASSWORD\n    - MYSQL_ALLOW_EMPTY_PASSWORD\n    - MYSQL_RANDOM_ROOT_PASSWORD\n"
            )
            .into_bytes();
            out.exit = Exit::Code(1);
            return (out, net);
        }
        out.stderr = format!(
            "{head}{date} [Note] [Entrypoint]: Initializing database files\n{date} [Note] [Entrypoint]: MySQL init process done. Ready for start up.\n[System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '8.4.0'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.\n"
        )
        .into_bytes();
        (out, net)
    }
}

/// How a log line writes its date.
#[derive(Clone, Copy)]
pub enum DateStyle {
    /// `07/Dec/2026:12:53:43 +0000` (access logs).
    Access,
    /// `2026/12/07 12:53:43` (nginx's error log).
    NginxError,
    /// `Mon Dec 07 12:53:43.000000 2026` (Apache's error log).
    Apache,
    /// `2026-12-07 12:53:43+00:00` (MySQL's entrypoint).
    Rfc3339,
    /// `Mon Dec  7 12:53:43 UTC 2026` (`date`).
    Date,
}

/// A virtual Unix time in nanoseconds, written as a log line dates it.
pub(crate) fn log_date(unix_ns: u64, style: DateStyle) -> String {
    let secs = unix_ns / 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let (y, mo, d) = civil_from_days(days);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let mon = MONTHS[(mo - 1) as usize];
    let wd = DAYS[(days.rem_euclid(7)) as usize];
    match style {
        DateStyle::Access => format!("{d:02}/{mon}/{y}:{h:02}:{m:02}:{s:02} +0000"),
        DateStyle::NginxError => format!("{y}/{mo:02}/{d:02} {h:02}:{m:02}:{s:02}"),
        DateStyle::Apache => format!("{wd} {mon} {d:02} {h:02}:{m:02}:{s:02}.000000 {y}"),
        DateStyle::Rfc3339 => format!("{y}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}+00:00"),
        DateStyle::Date => format!("{wd} {mon} {d:>2} {h:02}:{m:02}:{s:02} UTC {y}"),
    }
}

/// Howard Hinnant's `civil_from_days`: (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{HttpResponse, NoNetwork};

    fn get(web: &Web, path: &str, files: &BTreeMap<String, Vec<u8>>) -> (HttpResponse, String) {
        let env: Vec<(String, String)> = vec![
            ("REQUEST_METHOD".into(), "GET".into()),
            ("PATH_INFO".into(), path.into()),
            ("QUERY_STRING".into(), String::new()),
            ("REMOTE_ADDR".into(), "10.244.0.1".into()),
        ];
        let inv = Invocation {
            args: &[],
            env: &env,
            stdin: b"",
            memory_limit: None,
            fuel: 1_000_000,
            // 2026-12-07 12:53:43 UTC.
            clock_unix_ns: 1_796_648_023 * 1_000_000_000,
            seed: 0,
            files,
        };
        let (out, _) = web.invoke(&inv, Box::new(NoNetwork));
        let r = HttpResponse::from_cgi(&out.stdout).expect("a response");
        (r, String::from_utf8_lossy(&out.stderr).into_owned())
    }

    #[test]
    fn nginx_serves_its_welcome_page_and_logs_the_request() {
        let web = Web::new(WebServer::Nginx, "1.21-alpine");
        let (r, log) = get(&web, "/", &BTreeMap::new());
        assert_eq!(r.status, 200);
        assert_eq!(r.body.len(), 615, "the real page's size");
        assert!(r.text().contains("<h1>Welcome to nginx!</h1>"));
        assert_eq!(
            log,
            "10.244.0.1 - - [07/Dec/2026:12:53:43 +0000] \"GET / HTTP/1.1\" 200 615 \"-\" \"-\" \"-\"\n"
        );
        let (r, _) = get(&web, "/nope.html", &BTreeMap::new());
        assert_eq!(r.status, 404);
        assert!(r.text().contains("<hr><center>nginx/1.21.0</center>"));
    }

    #[test]
    fn a_mounted_document_root_replaces_the_images_pages() {
        let web = Web::new(WebServer::Nginx, "latest");
        let mut files = BTreeMap::new();
        files.insert(
            "/usr/share/nginx/html/index.html".to_string(),
            b"<h1>mine</h1>".to_vec(),
        );
        let (r, _) = get(&web, "/", &files);
        assert_eq!((r.status, r.text().as_str()), (200, "<h1>mine</h1>"));
        let (r, _) = get(&web, "/50x.html", &files);
        assert_eq!(r.status, 404, "the mount hides the image's own files");
        let httpd = Web::new(WebServer::Httpd, "2.4");
        let (r, log) = get(&httpd, "/", &BTreeMap::new());
        assert_eq!(r.text(), HTTPD_INDEX);
        assert!(log.ends_with("\"GET / HTTP/1.1\" 200 45\n"), "{log}");
        let (r, _) = get(&httpd, "/x", &BTreeMap::new());
        assert_eq!(r.status, 404);
        assert!(r.text().contains("<h1>Not Found</h1>"));
    }

    #[test]
    fn mysql_needs_a_root_password_as_its_entrypoint_does() {
        let files = BTreeMap::new();
        let start = |env: &[(String, String)]| {
            let inv = Invocation {
                args: &[],
                env,
                stdin: b"",
                memory_limit: None,
                fuel: 1_000_000,
                clock_unix_ns: 0,
                seed: 0,
                files: &files,
            };
            MySql.invoke(&inv, Box::new(NoNetwork)).0
        };
        let out = start(&[]);
        assert_eq!(out.exit, Exit::Code(1));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("- MYSQL_ROOT_PASSWORD\n"),
            "{out:?}"
        );
        let out = start(&[("MYSQL_ROOT_PASSWORD".into(), "s3cr3t".into())]);
        assert_eq!(out.exit, Exit::Code(0));
        assert!(String::from_utf8_lossy(&out.stderr).contains("ready for connections"));
    }

    #[test]
    fn dates_are_written_as_the_logs_write_them() {
        let ns = 1_796_648_023 * 1_000_000_000;
        assert_eq!(log_date(ns, DateStyle::NginxError), "2026/12/07 12:53:43");
        assert_eq!(
            log_date(ns, DateStyle::Date),
            "Mon Dec  7 12:53:43 UTC 2026"
        );
        assert_eq!(log_date(0, DateStyle::Access), "01/Jan/1970:00:00:00 +0000");
    }
}
