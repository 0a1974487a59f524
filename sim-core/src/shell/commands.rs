//! The shell's programs that read the container (busybox's texts): `env`, `printenv`, `cat`,
//! `ls`, `echo`, `hostname`, `ps`, `grep`, `head`, `pwd`, `whoami`, `true`, `false`, `sleep`,
//! `date`, `test` and `[`.

use super::fs::{Entry, normalize};
use super::{Io, Shell};

impl Shell<'_> {
    /// Runs program `p` (one of `super::PROGRAMS`).
    pub(super) fn command(&mut self, p: &str, args: &[String], stdin: &[u8], io: &mut Io) -> i32 {
        match p {
            "true" => 0,
            "false" => 1,
            // Within an exec (one instant) or a pipe, a sleep returns at once; a container's
            // own `sleep` waits in virtual time (`machine.rs`).
            "sleep" => match super::machine::sleep_ms(args) {
                Ok(_) => 0,
                Err(e) => {
                    io.err.extend_from_slice(e.as_bytes());
                    1
                }
            },
            "date" => {
                let now = self.sim.program_clock();
                let style = crate::servers::DateStyle::Date;
                let line = crate::servers::log_date(now, style);
                io.out.extend_from_slice(format!("{line}\n").as_bytes());
                0
            }
            "test" => test(args, self),
            "[" => match args.split_last() {
                Some((last, rest)) if last == "]" => test(rest, self),
                _ => {
                    io.err.extend_from_slice(b"sh: [: missing ]\n");
                    2
                }
            },
            "echo" => {
                let (newline, words) = match args.first().map(String::as_str) {
                    Some("-n") => (false, &args[1..]),
                    _ => (true, args),
                };
                io.out.extend_from_slice(words.join(" ").as_bytes());
                if newline {
                    io.out.push(b'\n');
                }
                0
            }
            "env" => {
                let assigns = args.iter().take_while(|a| a.contains('=')).count();
                if assigns < args.len() {
                    let saved = self.vars.clone();
                    for a in &args[..assigns] {
                        if let Some((k, v)) = a.split_once('=') {
                            self.set_var(k, v);
                        }
                    }
                    let code = self.run(&args[assigns..], stdin, io);
                    self.vars = saved;
                    return code;
                }
                for (k, v) in &self.vars {
                    io.out.extend_from_slice(format!("{k}={v}\n").as_bytes());
                }
                for a in args {
                    io.out.extend_from_slice(format!("{a}\n").as_bytes());
                }
                0
            }
            "printenv" => {
                if args.is_empty() {
                    for (k, v) in &self.vars {
                        io.out.extend_from_slice(format!("{k}={v}\n").as_bytes());
                    }
                    return 0;
                }
                let mut code = 0;
                for a in args {
                    match self.vars.iter().rev().find(|(k, _)| k == a) {
                        Some((_, v)) => io.out.extend_from_slice(format!("{v}\n").as_bytes()),
                        None => code = 1,
                    }
                }
                code
            }
            "hostname" => {
                let line = if args.iter().any(|a| a == "-i") {
                    self.pod_ip()
                } else {
                    self.name.clone()
                };
                io.out.extend_from_slice(format!("{line}\n").as_bytes());
                0
            }
            "pwd" => {
                io.out
                    .extend_from_slice(format!("{}\n", self.cwd).as_bytes());
                0
            }
            "whoami" => {
                io.out.extend_from_slice(b"root\n");
                0
            }
            "ps" => {
                let cmd = self.pid1();
                let me = if args.is_empty() {
                    "ps".to_string()
                } else {
                    format!("ps {}", args.join(" "))
                };
                io.out.extend_from_slice(
                    format!(
                        "PID   USER     TIME  COMMAND\n{:>5} {:<8} {:>5} {cmd}\n{:>5} {:<8} {:>5} {me}\n",
                        1, "root", "0:00", 7, "root", "0:00"
                    )
                    .as_bytes(),
                );
                0
            }
            "cat" => {
                if args.is_empty() || args.iter().all(|a| a == "-") {
                    io.out.extend_from_slice(stdin);
                    return 0;
                }
                let mut code = 0;
                for a in args {
                    let path = normalize(&self.cwd, a);
                    match self.files.get(&path) {
                        Some(Entry::File(b)) => io.out.extend_from_slice(b),
                        Some(Entry::Dir(_)) => {
                            io.err
                                .extend_from_slice(b"cat: read error: Is a directory\n");
                            code = 1;
                        }
                        None => {
                            io.err.extend_from_slice(
                                format!("cat: can't open '{a}': No such file or directory\n")
                                    .as_bytes(),
                            );
                            code = 1;
                        }
                    }
                }
                code
            }
            "ls" => self.ls(args, io),
            "grep" => grep(args, stdin, io, self),
            "head" => head(args, stdin, io, self),
            _ => {
                io.err
                    .extend_from_slice(format!("sh: {p}: not found\n").as_bytes());
                127
            }
        }
    }

    /// PID 1: the container's program with its arguments, else its command, else its image.
    fn pid1(&self) -> String {
        if let Some(t) = self.sim.worker_target(self.pod, self.ci) {
            return t.program_name().to_string();
        }
        let c = self
            .sim
            .store
            .pods
            .get(self.pod)
            .and_then(|p| p.template.spec.as_ref())
            .and_then(|s| s.containers.get(self.ci))
            .cloned();
        let Some(c) = c else {
            return String::new();
        };
        let mut words: Vec<String> = c.command.clone().unwrap_or_default();
        words.extend(c.args.clone().unwrap_or_default());
        if words.is_empty() {
            let image = c.image.clone().unwrap_or_default();
            let base = image.rsplit('/').next().unwrap_or(&image);
            words.push(base.split([':', '@']).next().unwrap_or(base).to_string());
        }
        words.join(" ")
    }

    fn ls(&mut self, args: &[String], io: &mut Io) -> i32 {
        let all = args.iter().any(|a| a.starts_with('-') && a.contains('a'));
        let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let paths: Vec<String> = if paths.is_empty() {
            vec![".".to_string()]
        } else {
            paths.into_iter().cloned().collect()
        };
        let mut code = 0;
        let many = paths.len() > 1;
        let mut first = true;
        for a in &paths {
            let path = normalize(&self.cwd, a);
            match self.files.get(&path) {
                Some(Entry::File(_)) => io.out.extend_from_slice(format!("{a}\n").as_bytes()),
                Some(Entry::Dir(names)) => {
                    if many {
                        if !first {
                            io.out.push(b'\n');
                        }
                        io.out.extend_from_slice(format!("{a}:\n").as_bytes());
                    }
                    if all {
                        io.out.extend_from_slice(b".\n..\n");
                    }
                    for n in names {
                        io.out.extend_from_slice(format!("{n}\n").as_bytes());
                    }
                }
                None => {
                    io.err.extend_from_slice(
                        format!("ls: {a}: No such file or directory\n").as_bytes(),
                    );
                    code = 1;
                }
            }
            first = false;
        }
        code
    }

    /// A file's bytes for `grep` and `head`, or the error line.
    fn read_file(&self, tool: &str, name: &str) -> Result<Vec<u8>, String> {
        match self.files.get(&normalize(&self.cwd, name)) {
            Some(Entry::File(b)) => Ok(b.to_vec()),
            Some(Entry::Dir(_)) => Err(format!("{tool}: {name}: Is a directory")),
            None => Err(format!("{tool}: {name}: No such file or directory")),
        }
    }
}

/// `grep [-ivcqnF] PATTERN [FILE...]`: fixed strings, with `^` and `$` anchors.
/// busybox `test` for the common cases: `-z`, `-n`, `-f`, `-d`, `-e`, string `=`/`!=`,
/// integer `-eq`/`-ne`/`-lt`/`-le`/`-gt`/`-ge`, and `!`.
fn test(args: &[String], sh: &Shell<'_>) -> i32 {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let path = |p: &str| sh.files.get(&normalize(&sh.cwd, p));
    let truth = match a.as_slice() {
        [] => false,
        ["!", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            return if test(&rest, sh) == 0 { 1 } else { 0 };
        }
        [s] => !s.is_empty(),
        ["-z", s] => s.is_empty(),
        ["-n", s] => !s.is_empty(),
        ["-f", p] => matches!(path(p), Some(Entry::File(_))),
        ["-d", p] => matches!(path(p), Some(Entry::Dir(_))),
        ["-e", p] => path(p).is_some(),
        [x, "=" | "==", y] => x == y,
        [x, "!=", y] => x != y,
        [x, op, y] => {
            let (Ok(x), Ok(y)) = (x.trim().parse::<i64>(), y.trim().parse::<i64>()) else {
                return 2;
            };
            match *op {
                "-eq" => x == y,
                "-ne" => x != y,
                "-lt" => x < y,
                "-le" => x <= y,
                "-gt" => x > y,
                "-ge" => x >= y,
                _ => return 2,
            }
        }
        _ => return 2,
    };
    if truth { 0 } else { 1 }
}

fn grep(args: &[String], stdin: &[u8], io: &mut Io, sh: &Shell<'_>) -> i32 {
    let (mut ignore, mut invert, mut count, mut quiet, mut number) =
        (false, false, false, false, false);
    let mut rest: Vec<&String> = Vec::new();
    let mut pattern: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-e" {
            pattern = it.next().cloned();
        } else if let Some(f) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
            for c in f.chars() {
                match c {
                    'i' => ignore = true,
                    'v' => invert = true,
                    'c' => count = true,
                    'q' => quiet = true,
                    'n' => number = true,
                    _ => {}
                }
            }
        } else {
            rest.push(a);
        }
    }
    let mut rest = rest.into_iter();
    let Some(pattern) = pattern.or_else(|| rest.next().cloned()) else {
        io.err.extend_from_slice(b"BusyBox v1.36.1 multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n");
        return 2;
    };
    let files: Vec<&String> = rest.collect();
    let (start, pat) = match pattern.strip_prefix('^') {
        Some(p) => (true, p.to_string()),
        None => (false, pattern.clone()),
    };
    let (end, pat) = match pat.strip_suffix('$') {
        Some(p) => (true, p.to_string()),
        None => (false, pat),
    };
    let fold = |s: &str| {
        if ignore {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let pat = fold(&pat);
    let matches = |line: &str| {
        let l = fold(line);
        let hit = match (start, end) {
            (true, true) => l == pat,
            (true, false) => l.starts_with(&pat),
            (false, true) => l.ends_with(&pat),
            (false, false) => l.contains(&pat),
        };
        hit != invert
    };
    let mut inputs: Vec<(Option<&str>, Vec<u8>)> = Vec::new();
    let mut code = 1;
    let mut trouble = false;
    if files.is_empty() {
        inputs.push((None, stdin.to_vec()));
    }
    for f in &files {
        match sh.read_file("grep", f) {
            Ok(b) => inputs.push((Some(f.as_str()), b)),
            Err(e) => {
                io.err.extend_from_slice(format!("{e}\n").as_bytes());
                trouble = true;
            }
        }
    }
    let prefix = files.len() > 1;
    for (name, bytes) in inputs {
        let text = String::from_utf8_lossy(&bytes);
        let mut n = 0;
        for (i, line) in text.lines().enumerate() {
            if !matches(line) {
                continue;
            }
            n += 1;
            code = 0;
            if quiet || count {
                continue;
            }
            let mut shown = String::new();
            if let (true, Some(f)) = (prefix, name) {
                shown.push_str(&format!("{f}:"));
            }
            if number {
                shown.push_str(&format!("{}:", i + 1));
            }
            shown.push_str(line);
            shown.push('\n');
            io.out.extend_from_slice(shown.as_bytes());
        }
        if count && !quiet {
            let shown = match (prefix, name) {
                (true, Some(f)) => format!("{f}:{n}\n"),
                _ => format!("{n}\n"),
            };
            io.out.extend_from_slice(shown.as_bytes());
        }
    }
    if quiet && code == 0 {
        return 0;
    }
    if trouble { 2 } else { code }
}

/// `head [-n N | -N] [FILE...]`.
fn head(args: &[String], stdin: &[u8], io: &mut Io, sh: &Shell<'_>) -> i32 {
    let mut n: usize = 10;
    let mut files: Vec<&String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-n" {
            match it.next().and_then(|v| v.parse().ok()) {
                Some(v) => n = v,
                None => {
                    io.err.extend_from_slice(b"head: invalid number\n");
                    return 1;
                }
            }
        } else if let Some(v) = a.strip_prefix("-n").or_else(|| a.strip_prefix('-'))
            && !v.is_empty()
        {
            match v.parse() {
                Ok(v) => n = v,
                Err(_) => {
                    io.err
                        .extend_from_slice(format!("head: invalid number '{v}'\n").as_bytes());
                    return 1;
                }
            }
        } else {
            files.push(a);
        }
    }
    let mut code = 0;
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    if files.is_empty() {
        inputs.push(stdin.to_vec());
    }
    for f in files {
        match sh.read_file("head", f) {
            Ok(b) => inputs.push(b),
            Err(e) => {
                io.err.extend_from_slice(format!("{e}\n").as_bytes());
                code = 1;
            }
        }
    }
    for bytes in inputs {
        let mut lines = 0;
        for b in bytes {
            if lines == n {
                break;
            }
            io.out.push(b);
            if b == b'\n' {
                lines += 1;
            }
        }
    }
    code
}
