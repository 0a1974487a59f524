//! credit-scoring-api-services: the credit scorer of `credit-scoring-api:with-services`, which
//! connects to Redis and PostgreSQL when it starts, as the course's real API does at import
//! time (`cache.ping()`, `psycopg2.connect(...)`), through the Service network
//! (`kubesim.http_request`; the stand-in images `redis` and `postgres` answer).
//!
//! A failed connection prints the client library's traceback (redis-py, psycopg2) and the API's
//! own error line (`RedisConnectionError`, `PostgresConnectionError`), and exits 1: the pod
//! crash-loops until the Service exists, has a ready endpoint and accepts the credentials.
//! Env: `REDIS_HOST` (redis), `REDIS_PORT` (6379), `REDIS_PASSWORD` (none: no AUTH),
//! `POSTGRES_HOST` (postgres), `POSTGRES_PORT` (5432), `POSTGRES_USER` (postgres),
//! `POSTGRES_PASSWORD`, `POSTGRES_DB` (postgres). Requests are the credit scorer's.

#[allow(dead_code)]
#[path = "../credit-scoring-api/main.rs"]
mod app;
#[path = "../common/host.rs"]
mod host;

// The shared guest code names its siblings `crate::cgi` and `crate::json`.
use app::{arena, cgi, json};

use cgi::{service_env_prefix, Env, Log};

fn main() {
    cgi::serve(start, app::handle);
}

/// A variable of the invocation (beyond the few `Env` copies up front).
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The start invocation: Redis, then PostgreSQL, then the app as uvicorn starts it.
pub fn start(env: &Env, log: &mut Log) -> i32 {
    match connect_all(&var, &mut host::call) {
        Ok(lines) => {
            for l in lines {
                log.err(&l);
            }
            app::start(env, log)
        }
        Err(lines) => {
            for l in lines {
                log.err(&l);
            }
            1
        }
    }
}

type Call<'a> = dyn FnMut(&str, &str, &[u8]) -> host::Reply + 'a;

/// Connects to both; the log lines of success, or those up to and including the first failure.
pub fn connect_all(get: &dyn Fn(&str) -> Option<String>, call: &mut Call<'_>) -> Result<Vec<String>, Vec<String>> {
    let mut lines = Vec::new();
    let steps: [&dyn Fn(&mut Call<'_>) -> Result<String, Vec<String>>; 2] =
        [&|c| redis(get, c), &|c| postgres(get, c)];
    for step in steps {
        match step(call) {
            Ok(line) => lines.push(line),
            Err(failed) => {
                lines.extend(failed);
                return Err(lines);
            }
        }
    }
    Ok(lines)
}

/// `tcp://10.96.0.7:6379` (the Docker-links variable Kubernetes sets for a Service `redis`)
/// or `6379` → `6379`.
fn port_of(value: &str) -> String {
    if value.contains("://") {
        value.rsplit(':').next().unwrap_or(value).to_string()
    } else {
        value.to_string()
    }
}

const SITE: &str = "/usr/local/lib/python3.11/site-packages";

/// What the host's failure text says happened to the connection.
enum Failure {
    NoHost,
    Refused,
    Timeout,
    Reset,
}

fn failure(why: &str) -> Failure {
    if why.contains("no such host") || why.contains("bad URL") {
        Failure::NoHost
    } else if why.contains("refused") {
        Failure::Refused
    } else if why.contains("deadline") {
        Failure::Timeout
    } else {
        Failure::Reset
    }
}

fn redis(get: &dyn Fn(&str) -> Option<String>, call: &mut Call<'_>) -> Result<String, Vec<String>> {
    let host = get("REDIS_HOST").unwrap_or_else(|| "redis".to_string());
    let port = port_of(&get("REDIS_PORT").unwrap_or_else(|| "6379".to_string()));
    let mut body = Vec::new();
    if let Some(p) = get("REDIS_PASSWORD") {
        body.extend(resp(&["AUTH", &p]));
    }
    body.extend(resp(&["PING"]));
    let url = format!("http://{}:{}/", host, port);
    let head = [
        "Traceback (most recent call last):".to_string(),
        "  File \"/app/main.py\", line 21, in <module>".to_string(),
        "    cache.ping()".to_string(),
        format!("  File \"{}/redis/commands/core.py\", line 1219, in ping", SITE),
        "    return self.execute_command(\"PING\", **kwargs)".to_string(),
        format!("  File \"{}/redis/connection.py\", line 713, in connect", SITE),
    ];
    let (exc, mut lines) = match call("POST", &url, &body) {
        Ok((_, reply)) => {
            let reply = String::from_utf8_lossy(&reply).into_owned();
            let error = reply.lines().find(|l| l.starts_with('-')).map(|l| l[1..].to_string());
            match error {
                None if reply.starts_with('+') || reply.starts_with('$') => {
                    return Ok(format!("INFO:     Connected to Redis at {}:{}", host, port));
                }
                None => ("redis.exceptions.ConnectionError: Connection closed by server.".to_string(), head.to_vec()),
                Some(e) => {
                    let exc = if let Some(rest) = e.strip_prefix("WRONGPASS ") {
                        format!("redis.exceptions.AuthenticationError: {}", rest)
                    } else if e.starts_with("NOAUTH") {
                        "redis.exceptions.AuthenticationError: Authentication required.".to_string()
                    } else if let Some(rest) = e.strip_prefix("ERR AUTH <password> called without") {
                        format!("redis.exceptions.AuthenticationError: AUTH <password> called without{}", rest)
                    } else {
                        format!("redis.exceptions.ResponseError: {}", e.strip_prefix("ERR ").unwrap_or(&e))
                    };
                    let mut l = head.to_vec();
                    l.pop();
                    l.push(format!("  File \"{}/redis/connection.py\", line 802, in on_connect", SITE));
                    l.push("    auth_response = self.read_response()".to_string());
                    l.push(format!("  File \"{}/redis/connection.py\", line 1025, in read_response", SITE));
                    l.push("    raise response".to_string());
                    (exc, l)
                }
            }
        }
        Err(why) => {
            let (cause, exc) = match failure(&why) {
                Failure::NoHost => (
                    "socket.gaierror: [Errno -2] Name or service not known".to_string(),
                    format!("redis.exceptions.ConnectionError: Error -2 connecting to {}:{}. Name or service not known.", host, port),
                ),
                Failure::Refused => (
                    "ConnectionRefusedError: [Errno 111] Connection refused".to_string(),
                    format!("redis.exceptions.ConnectionError: Error 111 connecting to {}:{}. Connection refused.", host, port),
                ),
                Failure::Timeout => (
                    "TimeoutError: timed out".to_string(),
                    "redis.exceptions.TimeoutError: Timeout connecting to server".to_string(),
                ),
                Failure::Reset => (
                    "ConnectionResetError: [Errno 104] Connection reset by peer".to_string(),
                    format!("redis.exceptions.ConnectionError: Error 104 while writing to socket. Connection reset by peer."),
                ),
            };
            let mut l = vec![
                "Traceback (most recent call last):".to_string(),
                format!("  File \"{}/redis/connection.py\", line 707, in connect", SITE),
                "    sock = self.retry.call_with_retry(".to_string(),
                format!("  File \"{}/redis/connection.py\", line 1048, in _connect", SITE),
                "    sock.connect(socket_address)".to_string(),
                cause,
                String::new(),
                "During handling of the above exception, another exception occurred:".to_string(),
                String::new(),
            ];
            l.extend(head.iter().cloned());
            l.push("    raise ConnectionError(self._error_message(e))".to_string());
            (exc, l)
        }
    };
    let why = exc.split_once(": ").map_or(exc.clone(), |(_, w)| w.to_string());
    lines.push(exc);
    lines.push(format!("ERROR:    RedisConnectionError: cannot use Redis at {}:{}: {}", host, port, why));
    Err(lines)
}

/// A command as a RESP array.
fn resp(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len());
    for w in words {
        out.push_str(&format!("${}\r\n{}\r\n", w.len(), w));
    }
    out.into_bytes()
}

fn pg_message(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
}

fn postgres(get: &dyn Fn(&str) -> Option<String>, call: &mut Call<'_>) -> Result<String, Vec<String>> {
    let host = get("POSTGRES_HOST").unwrap_or_else(|| "postgres".to_string());
    let port = port_of(&get("POSTGRES_PORT").unwrap_or_else(|| "5432".to_string()));
    let user = get("POSTGRES_USER").unwrap_or_else(|| "postgres".to_string());
    let db = get("POSTGRES_DB").unwrap_or_else(|| user.clone());
    let password = get("POSTGRES_PASSWORD");
    // StartupMessage, PasswordMessage, Query, Terminate: one connection sent in one go.
    let mut startup = 196_608u32.to_be_bytes().to_vec();
    for s in ["user", &user, "database", &db, ""] {
        startup.extend_from_slice(s.as_bytes());
        startup.push(0);
    }
    let mut body = ((startup.len() + 4) as u32).to_be_bytes().to_vec();
    body.extend(startup);
    if let Some(p) = &password {
        let mut b = p.as_bytes().to_vec();
        b.push(0);
        pg_message(&mut body, b'p', &b);
    }
    pg_message(&mut body, b'Q', b"SELECT 1\0");
    pg_message(&mut body, b'X', b"");
    let url = format!("http://{}:{}/", host, port);
    let name = host.split('.').next().unwrap_or(&host);
    let mut ip = get(&service_env_prefix(name, "_SERVICE_HOST"));
    let msg = match call("POST", &url, &body) {
        Ok((_, reply)) => match backend(&reply) {
            Backend::Ready => {
                return Ok(format!("INFO:     Connected to PostgreSQL at {}:{} (database {})", host, port, db));
            }
            Backend::Error(m) => format!("{}\n", m),
            Backend::WantsPassword if password.is_none() => "fe_sendauth: no password supplied\n".to_string(),
            _ => "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.".to_string(),
        },
        Err(why) => {
            if ip.is_none() {
                // `dial tcp 10.96.0.7:5432: connect: connection refused`
                ip = why.strip_prefix("dial tcp ").and_then(|r| r.split(':').next()).map(str::to_string);
            }
            match failure(&why) {
                Failure::NoHost => format!("could not translate host name \"{}\" to address: Name or service not known\n", host),
                Failure::Refused => "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\n".to_string(),
                Failure::Timeout => "timeout expired\n".to_string(),
                Failure::Reset => "server closed the connection unexpectedly\n".to_string(),
            }
        }
    };
    let full = if msg.starts_with("could not translate") {
        msg
    } else {
        match &ip {
            Some(ip) if ip != &host => format!("connection to server at \"{}\" ({}), port {} failed: {}", host, ip, port, msg),
            _ => format!("connection to server at \"{}\", port {} failed: {}", host, port, msg),
        }
    };
    let mut lines = vec![
        "Traceback (most recent call last):".to_string(),
        "  File \"/app/main.py\", line 24, in <module>".to_string(),
        "    db = psycopg2.connect(host=POSTGRES_HOST, port=POSTGRES_PORT, dbname=POSTGRES_DB, user=POSTGRES_USER, password=POSTGRES_PASSWORD)".to_string(),
        format!("  File \"{}/psycopg2/__init__.py\", line 122, in connect", SITE),
        "    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)".to_string(),
    ];
    let mut text = full.lines();
    let first = text.next().unwrap_or("").to_string();
    lines.push(format!("psycopg2.OperationalError: {}", first));
    lines.extend(text.map(str::to_string));
    if full.ends_with('\n') {
        lines.push(String::new());
    }
    lines.push(format!("ERROR:    PostgresConnectionError: cannot use PostgreSQL at {}:{}: {}", host, port, first));
    Err(lines)
}

enum Backend {
    Ready,
    WantsPassword,
    Error(String),
    Closed,
}

/// What the server's answer to the connection says.
fn backend(mut b: &[u8]) -> Backend {
    let mut wants_password = false;
    while b.len() >= 5 {
        let tag = b[0];
        let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
        if len < 4 || 1 + len > b.len() {
            break;
        }
        let body = &b[5..1 + len];
        match tag {
            b'R' if body == [0, 0, 0, 3] => wants_password = true,
            b'Z' => return Backend::Ready,
            b'E' => {
                let (mut severity, mut message) = (String::new(), String::new());
                for field in body.split(|c| *c == 0) {
                    match field.first() {
                        Some(b'S') => severity = String::from_utf8_lossy(&field[1..]).into_owned(),
                        Some(b'M') => message = String::from_utf8_lossy(&field[1..]).into_owned(),
                        _ => {}
                    }
                }
                return Backend::Error(format!("{}:  {}", severity, message));
            }
            _ => {}
        }
        b = &b[1 + len..];
    }
    if wants_password {
        Backend::WantsPassword
    } else {
        Backend::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn pg_ready() -> Vec<u8> {
        let mut out = Vec::new();
        pg_message(&mut out, b'R', &[0, 0, 0, 0]);
        pg_message(&mut out, b'Z', b"I");
        out
    }

    #[test]
    fn no_service_is_the_resolver_error() {
        let mut call = |_: &str, url: &str, _: &[u8]| -> host::Reply { Err(format!("dial tcp: lookup {}: no such host", url)) };
        let lines = connect_all(&vars(&[]), &mut call).unwrap_err();
        assert_eq!(lines[lines.len() - 2], "redis.exceptions.ConnectionError: Error -2 connecting to redis:6379. Name or service not known.");
        assert!(lines[lines.len() - 1].starts_with("ERROR:    RedisConnectionError: "), "{:?}", lines);
    }

    #[test]
    fn no_endpoint_is_connection_refused() {
        let mut call = |_: &str, _: &str, _: &[u8]| -> host::Reply { Err("dial tcp 10.96.0.7:6379: connect: connection refused".into()) };
        let lines = connect_all(&vars(&[]), &mut call).unwrap_err();
        assert_eq!(lines[lines.len() - 2], "redis.exceptions.ConnectionError: Error 111 connecting to redis:6379. Connection refused.");
    }

    #[test]
    fn a_wrong_redis_password_is_an_authentication_error() {
        let mut sent = Vec::new();
        let mut call = |_: &str, _: &str, body: &[u8]| -> host::Reply {
            sent = body.to_vec();
            Ok((200, b"-WRONGPASS invalid username-password pair or user is disabled.\r\n-NOAUTH Authentication required.\r\n".to_vec()))
        };
        let lines = connect_all(&vars(&[("REDIS_PASSWORD", "nope")]), &mut call).unwrap_err();
        assert_eq!(lines[lines.len() - 2], "redis.exceptions.AuthenticationError: invalid username-password pair or user is disabled.");
        assert!(sent.starts_with(b"*2\r\n$4\r\nAUTH\r\n$4\r\nnope\r\n"));
    }

    #[test]
    fn postgres_errors_read_like_libpq() {
        let call = |url: &str| -> host::Reply {
            if url.contains("6379") {
                return Ok((200, b"+PONG\r\n".to_vec()));
            }
            let mut out = Vec::new();
            pg_message(&mut out, b'R', &[0, 0, 0, 3]);
            pg_message(&mut out, b'E', b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user \"postgres\"\0\0");
            Ok((200, out))
        };
        let mut c = |_: &str, url: &str, _: &[u8]| call(url);
        let lines = connect_all(&vars(&[("POSTGRES_PASSWORD", "x"), ("POSTGRES_SERVICE_HOST", "10.96.0.12")]), &mut c).unwrap_err();
        assert_eq!(lines[0], "INFO:     Connected to Redis at redis:6379");
        assert!(lines.contains(&"psycopg2.OperationalError: connection to server at \"postgres\" (10.96.0.12), port 5432 failed: FATAL:  password authentication failed for user \"postgres\"".to_string()), "{:?}", lines);
        assert!(lines.last().unwrap().starts_with("ERROR:    PostgresConnectionError: "));
        let refused = |url: &str, _: &[u8]| -> host::Reply {
            if url.contains("6379") { Ok((200, b"+PONG\r\n".to_vec())) } else { Err("dial tcp 10.96.0.12:5432: connect: connection refused".into()) }
        };
        let mut c = |_: &str, url: &str, b: &[u8]| refused(url, b);
        let lines = connect_all(&vars(&[]), &mut c).unwrap_err();
        assert!(lines.contains(&"psycopg2.OperationalError: connection to server at \"postgres\" (10.96.0.12), port 5432 failed: Connection refused".to_string()), "{:?}", lines);
    }

    #[test]
    fn both_up_connects() {
        let mut c = |_: &str, url: &str, _: &[u8]| -> host::Reply {
            if url.contains("6379") { Ok((200, b"+PONG\r\n".to_vec())) } else { Ok((200, pg_ready())) }
        };
        let lines = connect_all(&vars(&[]), &mut c).unwrap();
        assert_eq!(lines, vec!["INFO:     Connected to Redis at redis:6379", "INFO:     Connected to PostgreSQL at postgres:5432 (database postgres)"]);
    }
}
