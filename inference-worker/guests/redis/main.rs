//! redis: a stand-in for the `redis` image, kubesim worker ABI v1. Not Redis: just enough of
//! its protocol (RESP2) for the course's apps and for a student poking at it.
//!
//! A request's body is one connection's worth of commands (RESP arrays of bulk strings, or
//! inline commands, one per line); the response body is the replies, in RESP, as Redis writes
//! them. Commands: PING, ECHO, AUTH, SELECT, GET, SET (EX/PX/NX/XX), DEL, EXISTS, INCR, DECR,
//! INCRBY, EXPIRE, TTL, QUIT. The key space is kept between requests as the container's state
//! (the ABI's `Kubesim-State` header, given back as a file): in memory, so a restart of the
//! container loses it, as a Redis without persistence does. `--requirepass PASSWORD` in the
//! container's args (as with the real image: `args: ["--requirepass", "secret"]`) makes every
//! command but AUTH answer NOAUTH until the client authenticates.

#[path = "../common/arena.rs"]
mod arena;
#[path = "../common/cgi.rs"]
mod cgi;
#[path = "../common/host.rs"]
mod host;
#[path = "../common/json.rs"]
mod json;

use cgi::{Env, Log};

/// Where the host gives back the state the last request kept (`Kubesim-State`).
const STATE_PATH: &str = "/var/lib/kubesim/state";

fn main() {
    // Not `cgi::serve`: the response carries the key space in a `Kubesim-State` header.
    use std::io::{Read, Write};
    let env = Env::from_process();
    let mut log = Log::default();
    if env.get("REQUEST_METHOD").is_none() {
        start(&env, &mut log);
        for line in &log.stdout {
            println!("{}", line);
        }
        return;
    }
    let mut input = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut input);
    let kept = std::fs::read(STATE_PATH).unwrap_or_default();
    let mut conn = Connection::new(requirepass(&args()), host::now_ms());
    conn.keys = load(&String::from_utf8_lossy(&kept));
    let before = save(&conn.keys);
    let replies = conn.run(&input);
    let after = save(&conn.keys);
    let mut out = String::from("Status: 200 OK\nContent-Type: application/x-redis\n");
    if after != before {
        out.push_str(&format!("Kubesim-State: {}\n", after));
    }
    out.push('\n');
    out.push_str(&replies);
    let _ = std::io::stdout().write_all(out.as_bytes());
    let _ = std::io::stdout().flush();
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{:02x}", b)).collect()
}

fn unhex(s: &str) -> Option<String> {
    if s.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect();
    Some(String::from_utf8_lossy(&bytes?).into_owned())
}

/// The key space as one header value: `hex(key) hex(value) expiry|-`, `;`-separated.
pub fn save(keys: &[(String, String, Option<u64>)]) -> String {
    let items: Vec<String> = keys
        .iter()
        .map(|(k, v, exp)| {
            let exp = exp.map_or("-".to_string(), |e| e.to_string());
            format!("{} {} {}", hex(k), hex(v), exp)
        })
        .collect();
    items.join(";")
}

/// [`save`]'s text back (entries that do not parse are dropped).
pub fn load(text: &str) -> Vec<(String, String, Option<u64>)> {
    text.split(';')
        .filter_map(|item| {
            let mut f = item.split(' ');
            let (k, v, e) = (unhex(f.next()?)?, unhex(f.next()?)?, f.next()?);
            Some((k, v, if e == "-" { None } else { Some(e.parse().ok()?) }))
        })
        .collect()
}

/// The password from `--requirepass X` (or `--requirepass=X`) in argv.
fn requirepass(args: &[String]) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--requirepass" {
            return it.next().cloned();
        }
        if let Some(p) = a.strip_prefix("--requirepass=") {
            return Some(p.to_string());
        }
    }
    None
}

fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// Redis's log prefix: `1:M 07 Dec 2026 10:00:01.000 * `.
fn stamp(role: char, level: char) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (y, m, d, hh, mm, ss, ms) = host::parts(host::now_ms());
    format!(
        "1:{} {:02} {} {} {:02}:{:02}:{:02}.{:03} {} ",
        role,
        d,
        MONTHS[(m as usize + 11) % 12],
        y,
        hh,
        mm,
        ss,
        ms,
        level
    )
}

/// The start invocation: Redis 7's start-up lines.
pub fn start(_env: &Env, log: &mut Log) -> i32 {
    log.out(&format!("{}oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo", stamp('C', '#')));
    log.out(&format!(
        "{}Redis version=7.2.4, bits=64, commit=00000000, modified=0, pid=1, just started",
        stamp('C', '#')
    ));
    if args().is_empty() {
        log.out(&format!("{}Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf", stamp('C', '#')));
    } else {
        log.out(&format!("{}Configuration loaded", stamp('C', '#')));
    }
    log.out(&format!("{}monotonic clock: POSIX clock_gettime", stamp('M', '*')));
    log.out(&format!("{}Running mode=standalone, port=6379.", stamp('M', '*')));
    log.out(&format!("{}Server initialized", stamp('M', '*')));
    log.out(&format!("{}Ready to accept connections tcp", stamp('M', '*')));
    0
}

/// One client connection: whether it authenticated, and the key space it sees.
pub struct Connection {
    password: Option<String>,
    authed: bool,
    now_ms: u64,
    /// key → (value, expiry in Unix ms).
    keys: Vec<(String, String, Option<u64>)>,
}

impl Connection {
    pub fn new(password: Option<String>, now_ms: u64) -> Connection {
        let authed = password.is_none();
        Connection { password, authed, now_ms, keys: Vec::new() }
    }

    /// Runs every command of `input`, returns the replies; stops after QUIT.
    pub fn run(&mut self, input: &[u8]) -> String {
        let mut out = String::new();
        let mut rest = input;
        while !rest.is_empty() {
            let (cmd, next) = match parse_command(rest) {
                Ok(x) => x,
                Err(e) => {
                    out.push_str(&format!("-ERR Protocol error: {}\r\n", e));
                    break;
                }
            };
            rest = next;
            if cmd.is_empty() {
                continue;
            }
            let quit = cmd[0].eq_ignore_ascii_case("QUIT");
            out.push_str(&self.command(&cmd));
            if quit {
                break;
            }
        }
        out
    }

    fn find(&mut self, key: &str) -> Option<usize> {
        let now = self.now_ms;
        self.keys.retain(|(_, _, exp)| exp.map_or(true, |at| at > now));
        self.keys.iter().position(|(k, _, _)| k == key)
    }

    /// One command's reply.
    pub fn command(&mut self, cmd: &[String]) -> String {
        let name = cmd[0].to_ascii_lowercase();
        let args = &cmd[1..];
        let arity = |n: usize, exact: bool| if exact { args.len() == n } else { args.len() >= n };
        let wrong = || format!("-ERR wrong number of arguments for '{}' command\r\n", name);
        if name == "auth" {
            return self.auth(args, &name);
        }
        if !self.authed {
            return "-NOAUTH Authentication required.\r\n".to_string();
        }
        match name.as_str() {
            "ping" => match args.len() {
                0 => "+PONG\r\n".to_string(),
                1 => bulk(&args[0]),
                _ => wrong(),
            },
            "echo" if arity(1, true) => bulk(&args[0]),
            "quit" => "+OK\r\n".to_string(),
            "select" if arity(1, true) => match args[0].parse::<i64>() {
                Ok(n) if (0..16).contains(&n) => "+OK\r\n".to_string(),
                Ok(_) => "-ERR DB index is out of range\r\n".to_string(),
                Err(_) => "-ERR value is not an integer or out of range\r\n".to_string(),
            },
            "get" if arity(1, true) => match self.find(&args[0]) {
                Some(i) => bulk(&self.keys[i].1.clone()),
                None => "$-1\r\n".to_string(),
            },
            "set" if arity(2, false) => self.set(args),
            "del" if arity(1, false) => {
                let mut n = 0;
                for k in args {
                    if let Some(i) = self.find(k) {
                        self.keys.remove(i);
                        n += 1;
                    }
                }
                format!(":{}\r\n", n)
            }
            "exists" if arity(1, false) => {
                let n = args.iter().filter(|k| self.find(k).is_some()).count();
                format!(":{}\r\n", n)
            }
            "incr" if arity(1, true) => self.incr_by(&args[0], "1"),
            "decr" if arity(1, true) => self.incr_by(&args[0], "-1"),
            "incrby" if arity(2, true) => self.incr_by(&args[0], &args[1]),
            "expire" if arity(2, true) => match args[1].parse::<i64>() {
                Err(_) => "-ERR value is not an integer or out of range\r\n".to_string(),
                Ok(secs) => match self.find(&args[0]) {
                    None => ":0\r\n".to_string(),
                    Some(i) if secs <= 0 => {
                        self.keys.remove(i);
                        ":1\r\n".to_string()
                    }
                    Some(i) => {
                        self.keys[i].2 = Some(self.now_ms + secs as u64 * 1000);
                        ":1\r\n".to_string()
                    }
                },
            },
            "ttl" if arity(1, true) => match self.find(&args[0]) {
                None => ":-2\r\n".to_string(),
                Some(i) => match self.keys[i].2 {
                    None => ":-1\r\n".to_string(),
                    Some(at) => format!(":{}\r\n", (at - self.now_ms + 500) / 1000),
                },
            },
            "echo" | "select" | "get" | "set" | "del" | "exists" | "incr" | "decr"
            | "incrby" | "expire" | "ttl" => wrong(),
            _ => {
                let mut s = format!("-ERR unknown command '{}', with args beginning with: ", cmd[0]);
                for a in args {
                    s.push_str(&format!("'{}' ", a));
                }
                s.push_str("\r\n");
                s
            }
        }
    }

    fn auth(&mut self, args: &[String], name: &str) -> String {
        let (user, pass) = match args.len() {
            1 => ("default", args[0].as_str()),
            2 => (args[0].as_str(), args[1].as_str()),
            _ => return format!("-ERR wrong number of arguments for '{}' command\r\n", name),
        };
        match &self.password {
            None if args.len() == 1 => "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n".to_string(),
            None if user == "default" => {
                self.authed = true;
                "+OK\r\n".to_string()
            }
            Some(p) if user == "default" && p == pass => {
                self.authed = true;
                "+OK\r\n".to_string()
            }
            _ => "-WRONGPASS invalid username-password pair or user is disabled.\r\n".to_string(),
        }
    }

    fn set(&mut self, args: &[String]) -> String {
        let (key, value) = (args[0].clone(), args[1].clone());
        let mut expiry = None;
        let (mut nx, mut xx) = (false, false);
        let mut i = 2;
        while i < args.len() {
            let opt = args[i].to_ascii_uppercase();
            match opt.as_str() {
                "NX" => nx = true,
                "XX" => xx = true,
                "EX" | "PX" => {
                    let n = match args.get(i + 1).map(|v| v.parse::<i64>()) {
                        Some(Ok(n)) => n,
                        Some(Err(_)) => return "-ERR value is not an integer or out of range\r\n".to_string(),
                        None => return "-ERR syntax error\r\n".to_string(),
                    };
                    if n <= 0 {
                        return "-ERR invalid expire time in 'set' command\r\n".to_string();
                    }
                    let ms = if opt == "EX" { n as u64 * 1000 } else { n as u64 };
                    expiry = Some(self.now_ms + ms);
                    i += 1;
                }
                _ => return "-ERR syntax error\r\n".to_string(),
            }
            i += 1;
        }
        if nx && xx {
            return "-ERR syntax error\r\n".to_string();
        }
        let existing = self.find(&key);
        if (nx && existing.is_some()) || (xx && existing.is_none()) {
            return "$-1\r\n".to_string();
        }
        match existing {
            Some(i) => self.keys[i] = (key, value, expiry),
            None => self.keys.push((key, value, expiry)),
        }
        "+OK\r\n".to_string()
    }

    fn incr_by(&mut self, key: &str, by: &str) -> String {
        let not_int = "-ERR value is not an integer or out of range\r\n".to_string();
        let by = match by.parse::<i64>() {
            Ok(b) => b,
            Err(_) => return not_int,
        };
        let i = self.find(key);
        let current = match i {
            Some(i) => match self.keys[i].1.parse::<i64>() {
                Ok(v) => v,
                Err(_) => return not_int,
            },
            None => 0,
        };
        let next = match current.checked_add(by) {
            Some(n) => n,
            None => return "-ERR increment or decrement would overflow\r\n".to_string(),
        };
        match i {
            Some(i) => self.keys[i].1 = next.to_string(),
            None => self.keys.push((key.to_string(), next.to_string(), None)),
        }
        format!(":{}\r\n", next)
    }
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{}\r\n", s.len(), s)
}

/// The next command: a RESP array of bulk strings, or an inline command (a line of words).
/// Returns the words and the rest of the input.
pub fn parse_command(input: &[u8]) -> Result<(Vec<String>, &[u8]), String> {
    if input[0] != b'*' {
        let end = input.iter().position(|b| *b == b'\n').map_or(input.len(), |i| i + 1);
        let line = String::from_utf8_lossy(&input[..end]);
        let words = line.split_whitespace().map(str::to_string).collect();
        return Ok((words, &input[end..]));
    }
    let (n, mut rest) = header(&input[1..], "multibulk")?;
    let mut words = Vec::new();
    for _ in 0..n {
        if rest.first() != Some(&b'$') {
            let got = rest.first().map_or(String::new(), |b| (*b as char).to_string());
            return Err(format!("expected '$', got '{}'", got));
        }
        let (len, after) = header(&rest[1..], "bulk")?;
        if after.len() < len + 2 || &after[len..len + 2] != b"\r\n" {
            return Err("unbalanced bulk string".to_string());
        }
        words.push(String::from_utf8_lossy(&after[..len]).into_owned());
        rest = &after[len + 2..];
    }
    Ok((words, rest))
}

/// A length line (`3\r\n`) after a `*` or `$`.
fn header<'a>(input: &'a [u8], what: &str) -> Result<(usize, &'a [u8]), String> {
    let end = input
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or_else(|| format!("unbalanced {} length", what))?;
    let n = std::str::from_utf8(&input[..end])
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n <= 512 * 1024 * 1024)
        .ok_or_else(|| format!("invalid {} length", what))?;
    Ok((n, &input[end + 2..]))
}

/// A command as a RESP array (what a client library sends).
pub fn encode(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len());
    for w in words {
        out.push_str(&format!("${}\r\n{}\r\n", w.len(), w));
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(password: Option<&str>, cmds: &[&[&str]]) -> String {
        let mut input = Vec::new();
        for c in cmds {
            input.extend(encode(c));
        }
        Connection::new(password.map(str::to_string), 1_000_000).run(&input)
    }

    #[test]
    fn ping_get_set_incr_expire() {
        assert_eq!(run(None, &[&["PING"]]), "+PONG\r\n");
        assert_eq!(run(None, &[&["ping", "hi"]]), "$2\r\nhi\r\n");
        assert_eq!(
            run(None, &[&["SET", "n", "41"], &["INCR", "n"], &["GET", "n"], &["GET", "x"]]),
            "+OK\r\n:42\r\n$2\r\n42\r\n$-1\r\n"
        );
        assert_eq!(
            run(None, &[&["INCR", "c"], &["INCRBY", "c", "5"], &["EXPIRE", "c", "10"], &["TTL", "c"], &["TTL", "nope"]]),
            ":1\r\n:6\r\n:1\r\n:10\r\n:-2\r\n"
        );
        assert_eq!(run(None, &[&["SET", "s", "abc"], &["INCR", "s"]]), "+OK\r\n-ERR value is not an integer or out of range\r\n");
        assert_eq!(run(None, &[&["SET", "k", "v", "NX"], &["SET", "k", "w", "NX"], &["GET", "k"]]), "+OK\r\n$-1\r\n$1\r\nv\r\n");
    }

    #[test]
    fn errors_are_redis_own() {
        assert_eq!(run(None, &[&["GET"]]), "-ERR wrong number of arguments for 'get' command\r\n");
        assert_eq!(
            run(None, &[&["FLY", "a", "b"]]),
            "-ERR unknown command 'FLY', with args beginning with: 'a' 'b' \r\n"
        );
        assert_eq!(run(None, &[&["SET", "k", "v", "EX", "0"]]), "-ERR invalid expire time in 'set' command\r\n");
        assert_eq!(Connection::new(None, 0).run(b"*1\r\n$4\r\nPIN"), "-ERR Protocol error: unbalanced bulk string\r\n");
    }

    #[test]
    fn inline_commands() {
        assert_eq!(Connection::new(None, 0).run(b"PING\r\nECHO hello\r\n"), "+PONG\r\n$5\r\nhello\r\n");
    }

    #[test]
    fn requirepass() {
        assert_eq!(run(Some("s3cret"), &[&["PING"]]), "-NOAUTH Authentication required.\r\n");
        assert_eq!(run(Some("s3cret"), &[&["AUTH", "s3cret"], &["PING"]]), "+OK\r\n+PONG\r\n");
        assert_eq!(
            run(Some("s3cret"), &[&["AUTH", "wrong"], &["PING"]]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n-NOAUTH Authentication required.\r\n"
        );
        assert!(run(None, &[&["AUTH", "x"]]).starts_with("-ERR AUTH <password> called without any password configured"));
        assert_eq!(super::requirepass(&["--requirepass".to_string(), "p".to_string()]), Some("p".to_string()));
    }

    #[test]
    fn the_key_space_survives_its_header_form() {
        let keys = vec![("a b".to_string(), "x;y".to_string(), None), ("n".to_string(), "".to_string(), Some(5))];
        assert_eq!(save(&keys), "612062 783b79 -;6e  5");
        assert_eq!(load(&save(&keys)), keys);
        assert_eq!(load(""), vec![]);
    }

    #[test]
    fn expired_keys_are_gone() {
        let mut c = Connection::new(None, 1_000);
        assert_eq!(c.run(&encode(&["SET", "k", "v", "PX", "100"])), "+OK\r\n");
        c.now_ms = 1_200;
        assert_eq!(c.run(&encode(&["GET", "k"])), "$-1\r\n");
    }
}
