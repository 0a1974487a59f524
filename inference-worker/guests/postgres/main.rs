//! postgres: a stand-in for the `postgres` image, kubesim worker ABI v1. Not PostgreSQL: just
//! enough of its start-up and of the v3 wire protocol for an app to connect and run a query.
//!
//! Start: the image's entrypoint refuses to initialise without `POSTGRES_PASSWORD` (unless
//! `POSTGRES_HOST_AUTH_METHOD=trust`), with the real entrypoint's message, and exits 1.
//! A request's body is one connection's frontend messages, sent in one go: a StartupMessage
//! (`user`, `database`), a PasswordMessage (`p`) if the client has a password, Query messages
//! (`Q`), Terminate (`X`). The response body is the backend messages PostgreSQL would send:
//! AuthenticationCleartextPassword (the real image asks for SCRAM-SHA-256), AuthenticationOk,
//! ParameterStatus, BackendKeyData, ReadyForQuery, and per query RowDescription, DataRow,
//! CommandComplete; or an ErrorResponse (`28P01` password authentication failed, `3D000`
//! database does not exist). Queries: `SELECT` of integer or string literals and `version()`.

#[path = "../common/arena.rs"]
mod arena;
#[path = "../common/cgi.rs"]
mod cgi;
#[path = "../common/host.rs"]
mod host;
#[path = "../common/json.rs"]
mod json;

use cgi::{Env, Log};

const VERSION: &str = "PostgreSQL 16.4 (Debian 16.4-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit";
/// The protocol version 3.0 in a StartupMessage.
pub const PROTOCOL_3: u32 = 196_608;

fn main() {
    // Not `cgi::serve`: the answer is binary, and its `Response` body is text.
    use std::io::{Read, Write};
    let mut log = Log::default();
    if std::env::var("REQUEST_METHOD").is_err() {
        let code = start(&Env::default(), &mut log);
        flush(&log);
        if code != 0 {
            std::process::exit(code);
        }
        return;
    }
    let mut input = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut input);
    let body = serve(&Config::from_vars(&var), &input, &mut log);
    flush(&log);
    let mut out = b"Status: 200 OK\nContent-Type: application/x-postgresql\n\n".to_vec();
    out.extend_from_slice(&body);
    let _ = std::io::stdout().write_all(&out);
    let _ = std::io::stdout().flush();
}

fn flush(log: &Log) {
    use std::io::Write;
    for line in &log.stdout {
        println!("{}", line);
    }
    let mut err = std::io::stderr();
    for line in &log.stderr {
        let _ = writeln!(err, "{}", line);
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The server's settings, from the image's environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub user: String,
    pub password: Option<String>,
    pub db: String,
    pub trust: bool,
}

impl Config {
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Config {
        let user = get("POSTGRES_USER").unwrap_or_else(|| "postgres".to_string());
        Config {
            db: get("POSTGRES_DB").unwrap_or_else(|| user.clone()),
            password: get("POSTGRES_PASSWORD"),
            trust: get("POSTGRES_HOST_AUTH_METHOD").as_deref() == Some("trust"),
            user,
        }
    }
}

/// `2026-12-07 10:00:01.000 UTC [1] `, PostgreSQL's default log line prefix.
fn stamp(pid: u32) -> String {
    let (y, m, d, hh, mm, ss, ms) = host::parts(host::now_ms());
    format!("{}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC [{}] ", y, m, d, hh, mm, ss, ms, pid)
}

/// The start invocation: the entrypoint's checks, then the server's start-up lines.
pub fn start(_env: &Env, log: &mut Log) -> i32 {
    let cfg = Config::from_vars(&var);
    start_with(&cfg, log)
}

pub fn start_with(cfg: &Config, log: &mut Log) -> i32 {
    if cfg.password.is_none() && !cfg.trust {
        for line in [
            "Error: Database is uninitialized and superuser password is not specified.",
            "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
            "       superuser. For example, \"-e POSTGRES_PASSWORD=password\" on \"docker run\".",
            "",
            "       You may also use \"POSTGRES_HOST_AUTH_METHOD=trust\" to allow all",
            "       connections without a password. This is *not* recommended.",
            "",
            "       See PostgreSQL documentation about \"trust\":",
            "       https://www.postgresql.org/docs/current/auth-trust.html",
        ] {
            log.err(line);
        }
        return 1;
    }
    log.out("The files belonging to this database system will be owned by user \"postgres\".");
    log.out("Success. You can now start the database server using:");
    log.out("");
    log.out("PostgreSQL init process complete; ready for start up.");
    log.out("");
    log.err(&format!("{}LOG:  starting {}", stamp(1), VERSION));
    log.err(&format!("{}LOG:  listening on IPv4 address \"0.0.0.0\", port 5432", stamp(1)));
    log.err(&format!("{}LOG:  database system is ready to accept connections", stamp(1)));
    0
}

/// Answers one connection.
pub fn serve(cfg: &Config, input: &[u8], log: &mut Log) -> Vec<u8> {
    let mut out = Vec::new();
    let (params, mut rest) = match startup(input) {
        Some(x) => x,
        None => {
            log.err(&format!("{}LOG:  invalid length of startup packet", stamp(68)));
            return out;
        }
    };
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let user = match param("user") {
        Some(u) => u,
        None => {
            fatal(&mut out, log, "28000", "no PostgreSQL user name specified in startup packet");
            return out;
        }
    };
    let db = param("database").unwrap_or_else(|| user.clone());
    if !cfg.trust {
        message(&mut out, b'R', &3u32.to_be_bytes());
        let password = match next_message(rest) {
            Some((b'p', body, after)) => {
                rest = after;
                cstr(body)
            }
            // The client closed the connection: it had no password to send.
            _ => return out,
        };
        if user != cfg.user || cfg.password.as_deref() != Some(password.as_str()) {
            let msg = format!("password authentication failed for user \"{}\"", user);
            fatal(&mut out, log, "28P01", &msg);
            log.err(&format!(
                "{}DETAIL:  Connection matched file \"/var/lib/postgresql/data/pg_hba.conf\" line 128: \"host all all all scram-sha-256\"",
                stamp(68)
            ));
            return out;
        }
    }
    if db != cfg.db && db != "postgres" && db != "template1" {
        fatal(&mut out, log, "3D000", &format!("database \"{}\" does not exist", db));
        return out;
    }
    message(&mut out, b'R', &0u32.to_be_bytes());
    for (k, v) in [("server_version", "16.4 (Debian 16.4-1.pgdg120+1)"), ("client_encoding", "UTF8"), ("DateStyle", "ISO, MDY")] {
        let mut b = Vec::new();
        push_cstr(&mut b, k);
        push_cstr(&mut b, v);
        message(&mut out, b'S', &b);
    }
    let mut key = 68u32.to_be_bytes().to_vec();
    key.extend_from_slice(&4_242_424u32.to_be_bytes());
    message(&mut out, b'K', &key);
    message(&mut out, b'Z', b"I");
    while let Some((tag, body, after)) = next_message(rest) {
        rest = after;
        match tag {
            b'Q' => query(&mut out, log, &cstr(body)),
            b'X' => break,
            _ => {
                fatal(&mut out, log, "08P01", &format!("invalid frontend message type {}", tag));
                break;
            }
        }
    }
    out
}

/// A simple query: `SELECT` of literals and `version()`, each a column `?column?` (`version`).
fn query(out: &mut Vec<u8>, log: &mut Log, sql: &str) {
    let text = sql.trim().trim_end_matches(';').trim();
    if text.is_empty() {
        message(out, b'I', b"");
        message(out, b'Z', b"I");
        return;
    }
    let lower = text.to_ascii_lowercase();
    let cols: Option<Vec<(String, String, u32)>> = lower.strip_prefix("select ").map(|list| {
        let original = &text[text.len() - list.len()..];
        original
            .split(',')
            .map(|c| c.trim())
            .map(|c| {
                if c.eq_ignore_ascii_case("version()") {
                    Some(("version".to_string(), VERSION.to_string(), 25))
                } else if c.parse::<i32>().is_ok() {
                    Some(("?column?".to_string(), c.to_string(), 23))
                } else if c.len() >= 2 && c.starts_with('\'') && c.ends_with('\'') {
                    Some(("?column?".to_string(), c[1..c.len() - 1].to_string(), 25))
                } else {
                    None
                }
            })
            .collect::<Option<Vec<_>>>()
    }).flatten();
    let cols = match cols {
        Some(c) => c,
        None => {
            error(out, log, "ERROR", "0A000", "kubesim's postgres stand-in answers only SELECT of literals and version()");
            message(out, b'Z', b"I");
            return;
        }
    };
    let mut desc = (cols.len() as u16).to_be_bytes().to_vec();
    let mut row = (cols.len() as u16).to_be_bytes().to_vec();
    for (name, value, oid) in &cols {
        push_cstr(&mut desc, name);
        desc.extend_from_slice(&0u32.to_be_bytes());
        desc.extend_from_slice(&0u16.to_be_bytes());
        desc.extend_from_slice(&oid.to_be_bytes());
        desc.extend_from_slice(&(if *oid == 23 { 4i16 } else { -1i16 }).to_be_bytes());
        desc.extend_from_slice(&(-1i32).to_be_bytes());
        desc.extend_from_slice(&0u16.to_be_bytes());
        row.extend_from_slice(&(value.len() as u32).to_be_bytes());
        row.extend_from_slice(value.as_bytes());
    }
    message(out, b'T', &desc);
    message(out, b'D', &row);
    let mut done = Vec::new();
    push_cstr(&mut done, "SELECT 1");
    message(out, b'C', &done);
    message(out, b'Z', b"I");
}

fn fatal(out: &mut Vec<u8>, log: &mut Log, code: &str, msg: &str) {
    error(out, log, "FATAL", code, msg);
}

/// An ErrorResponse, and the server's log line for it.
fn error(out: &mut Vec<u8>, log: &mut Log, severity: &str, code: &str, msg: &str) {
    let mut b = Vec::new();
    for (f, v) in [(b'S', severity), (b'V', severity), (b'C', code), (b'M', msg)] {
        b.push(f);
        push_cstr(&mut b, v);
    }
    b.push(0);
    message(out, b'E', &b);
    log.err(&format!("{}{}:  {}", stamp(68), severity, msg));
}

/// Appends a message: tag, length (itself included), body.
pub fn message(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
}

fn push_cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes([*b.first()?, *b.get(1)?, *b.get(2)?, *b.get(3)?]))
}

/// The StartupMessage's parameters, and the rest of the input.
pub fn startup(input: &[u8]) -> Option<(Vec<(String, String)>, &[u8])> {
    let len = be32(input)? as usize;
    if len < 8 || len > input.len() || be32(&input[4..])? != PROTOCOL_3 {
        return None;
    }
    let mut params = Vec::new();
    let mut fields = input[8..len].split(|b| *b == 0);
    while let (Some(k), Some(v)) = (fields.next(), fields.next()) {
        if k.is_empty() {
            break;
        }
        params.push((String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned()));
    }
    Some((params, &input[len..]))
}

/// The next tagged message: tag, body, rest.
pub fn next_message(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let len = be32(&input[1..])? as usize;
    if len < 4 || 1 + len > input.len() {
        return None;
    }
    Some((tag, &input[5..1 + len], &input[1 + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(password: Option<&str>) -> Config {
        Config { user: "postgres".into(), password: password.map(str::to_string), db: "postgres".into(), trust: false }
    }

    fn connect(user: &str, db: &str, password: Option<&str>, sql: &str) -> Vec<u8> {
        let mut body = PROTOCOL_3.to_be_bytes().to_vec();
        for s in ["user", user, "database", db, ""] {
            push_cstr(&mut body, s);
        }
        let mut input = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        input.extend(body);
        if let Some(p) = password {
            let mut b = Vec::new();
            push_cstr(&mut b, p);
            message(&mut input, b'p', &b);
        }
        let mut q = Vec::new();
        push_cstr(&mut q, sql);
        message(&mut input, b'Q', &q);
        message(&mut input, b'X', b"");
        input
    }

    fn tags(mut out: &[u8]) -> String {
        let mut s = String::new();
        while let Some((t, _, rest)) = next_message(out) {
            s.push(t as char);
            out = rest;
        }
        s
    }

    #[test]
    fn needs_a_password_to_initialise() {
        let mut log = Log::default();
        assert_eq!(start_with(&cfg(None), &mut log), 1);
        assert_eq!(log.stderr[0], "Error: Database is uninitialized and superuser password is not specified.");
        let mut log = Log::default();
        assert_eq!(start_with(&cfg(Some("example")), &mut log), 0);
        assert!(log.stderr.last().unwrap().ends_with("LOG:  database system is ready to accept connections"));
    }

    #[test]
    fn connects_and_answers_a_query() {
        let mut log = Log::default();
        let out = serve(&cfg(Some("example")), &connect("postgres", "postgres", Some("example"), "SELECT 1"), &mut log);
        assert_eq!(tags(&out), "RRSSSKZTDCZ");
        assert!(out.windows(9).any(|w| w == b"SELECT 1\0"));
    }

    #[test]
    fn a_wrong_password_is_fatal() {
        let mut log = Log::default();
        let out = serve(&cfg(Some("example")), &connect("postgres", "postgres", Some("nope"), "SELECT 1"), &mut log);
        assert_eq!(tags(&out), "RE");
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("C28P01\0Mpassword authentication failed for user \"postgres\"\0"), "{:?}", text);
        assert!(log.stderr[0].ends_with("FATAL:  password authentication failed for user \"postgres\""));
    }

    #[test]
    fn no_password_sent_ends_after_the_request_for_one() {
        let mut log = Log::default();
        assert_eq!(tags(&serve(&cfg(Some("example")), &connect("postgres", "postgres", None, "SELECT 1"), &mut log)), "R");
    }

    #[test]
    fn unknown_database_and_unsupported_queries() {
        let mut log = Log::default();
        let out = serve(&cfg(Some("x")), &connect("postgres", "credit", Some("x"), "SELECT 1"), &mut log);
        assert!(String::from_utf8_lossy(&out).contains("database \"credit\" does not exist"));
        let out = serve(&cfg(Some("x")), &connect("postgres", "postgres", Some("x"), "DROP TABLE t"), &mut log);
        assert_eq!(tags(&out), "RRSSSKZEZ");
    }
}
