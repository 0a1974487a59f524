//! `kubectl exec`: a command run inside a container, by a small built-in shell every container
//! gets (kubesim's images are WebAssembly programs, with no file system or binaries of their
//! own). It is also the process of the shell images (busybox, alpine, ubuntu, debian) and of
//! any public image given a shell `command` ([`process`]). It has what a student types inside
//! a pod and what tutorials' containers run: `sh -c "..."` with `;`, `&&`, `||`, pipes,
//! `$VAR`s, `while`/`until`, `for` and `if` ([`parse`], run by [`machine`], which can stop at a
//! `sleep` and bounds the commands of one slice), `env`, `printenv`, `cat`, `ls`, `echo`,
//! `hostname`, `ps`, `grep`, `head`, `date`, `sleep`, `test` ([`commands`]), `curl`, `wget` and
//! `nslookup` through the sandbox's network ([`net`]), over a read-only view of the files
//! Kubernetes puts in every container and its volumes ([`fs`], [`mounts`]). Anything else is
//! `sh: X: not found`, exit 127, as busybox's `sh` says it; a command run without a shell that
//! does not exist is the container runtime's error.
//!
//! The checks before a command runs are the API server's (`pods/exec`'s `ExecLocation`: the
//! pod, the container, a node) and the kubelet's (`GetExec`: the container must be running),
//! with their texts. The environment is the one the kubelet built for the container
//! (`Sim::container_env`, kept by a program's container since its start).
//!
//! An exec reads the cluster; only its requests change it (the called programs count and log
//! them), so an exec that sent one is recorded as an `exec` action and replays exactly.

mod arith;
mod commands;
pub mod fs;
pub mod machine;
mod net;
mod parse;
pub mod process;

use serde::{Deserialize, Serialize};

use crate::sim::Sim;
use crate::store::ObjId;
use crate::store::pod::{CState, ip_string};
use fs::FileView;
use machine::Frame;
use parse::{Command, Part, Target, Word};

/// One `kubectl exec`, as the API received it and a run records it (`exec:` step).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exec {
    /// Namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// The container (the pod's only one when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The command and its arguments (`["sh", "-c", "curl web"]`).
    pub command: Vec<String>,
    /// What was sent on standard input.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stdin: String,
}

fn default_namespace() -> String {
    "default".into()
}

/// Why a command could not run: the API server's or the kubelet's refusal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    /// No such pod (404).
    #[error("pods \"{0}\" not found")]
    PodNotFound(String),
    /// `-c` names a container the pod does not have (400, `ExecLocation`).
    #[error("container {container} is not valid for pod {pod}")]
    ContainerNotValid {
        /// The container asked for.
        container: String,
        /// The pod.
        pod: String,
    },
    /// No `-c` and several containers (400, `ExecLocation`).
    #[error("a container name must be specified for pod {pod}, choose one of: [{names}]")]
    ContainerNotSpecified {
        /// The pod.
        pod: String,
        /// Its containers, space-separated.
        names: String,
    },
    /// Not scheduled yet (400).
    #[error("pod {0} does not have a host assigned")]
    NoHost(String),
    /// The kubelet finds no running container of that name (its `GetExec`).
    #[error("container not found ({0:?})")]
    ContainerNotRunning(String),
}

impl ExecError {
    /// The HTTP status the API server answers with.
    pub fn code(&self) -> u16 {
        match self {
            ExecError::PodNotFound(_) => 404,
            ExecError::ContainerNotRunning(_) => 500,
            _ => 400,
        }
    }

    /// The Status reason (`NotFound`, `BadRequest`, `InternalError`).
    pub fn reason(&self) -> &'static str {
        match self {
            ExecError::PodNotFound(_) => "NotFound",
            ExecError::ContainerNotRunning(_) => "InternalError",
            _ => "BadRequest",
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecOutput {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
    /// Exit code.
    pub code: i32,
    /// The runtime could not start the command (it does not exist): the kubelet's
    /// `InternalError` message, sent instead of an exit code.
    pub internal: Option<String>,
    /// Requests sent (each ran a program: the exec changed the cluster).
    pub requests: u32,
}

/// The programs the container has (its `$PATH`); `sh`'s own built-ins are in [`Shell::run`].
const PROGRAMS: &[&str] = &[
    "sh", "ash", "bash", "env", "printenv", "cat", "ls", "echo", "hostname", "ps", "curl", "wget",
    "nslookup", "true", "false", "grep", "head", "pwd", "whoami", "sleep", "date", "test", "[",
];

/// The program a command names, if the container has it (`ls`, `/bin/ls`).
pub fn program(argv0: &str) -> Option<&'static str> {
    let name = [
        "/usr/local/bin/",
        "/usr/bin/",
        "/bin/",
        "/usr/sbin/",
        "/sbin/",
    ]
    .iter()
    .find_map(|d| argv0.strip_prefix(d))
    .unwrap_or(argv0);
    PROGRAMS.iter().copied().find(|p| *p == name)
}

/// Output buffers of one command.
#[derive(Debug, Default)]
struct Io {
    out: Vec<u8>,
    err: Vec<u8>,
}

/// The shell's state while a command runs.
struct Shell<'a> {
    sim: &'a mut Sim,
    pod: ObjId,
    ci: usize,
    ns: String,
    name: String,
    vars: Vec<(String, String)>,
    cwd: String,
    files: FileView,
    status: i32,
    requests: u32,
    exited: Option<i32>,
    /// Where the running script is (`machine.rs`).
    stack: Vec<Frame>,
    /// Standard input for the script's first command.
    stdin: Option<Vec<u8>>,
    /// Commands run so far in this slice, and how many it may run.
    steps: u32,
    budget: u32,
    /// Whether `sleep` stops the script until a timer wakes it (a container's process),
    /// or returns at once (an exec, which runs within one instant).
    can_sleep: bool,
    /// Whether the image has `bash` (Debian-based images do; busybox and Alpine do not).
    has_bash: bool,
}

impl Sim {
    /// The pod and container an exec reaches, or the API server's or kubelet's refusal.
    pub fn exec_target(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
    ) -> Result<(ObjId, usize), ExecError> {
        let id = self
            .store
            .pods
            .lookup(namespace, pod)
            .ok_or_else(|| ExecError::PodNotFound(pod.to_string()))?;
        let p = self
            .store
            .pods
            .get(id)
            .ok_or_else(|| ExecError::PodNotFound(pod.to_string()))?;
        let spec = p.template.spec.as_ref();
        let names: Vec<&str> = spec
            .map(|s| s.containers.iter().map(|c| c.name.as_str()).collect())
            .unwrap_or_default();
        let init: Vec<&str> = spec
            .and_then(|s| s.init_containers.as_ref())
            .map(|cs| cs.iter().map(|c| c.name.as_str()).collect())
            .unwrap_or_default();
        // registry/core/pod/strategy.go `ExecLocation` (via `streamLocation`).
        let name = match container {
            Some(c) if !c.is_empty() => c,
            _ if names.len() == 1 => names[0],
            _ => {
                return Err(ExecError::ContainerNotSpecified {
                    pod: pod.to_string(),
                    names: names.join(" "),
                });
            }
        };
        let ci = names.iter().position(|n| *n == name);
        if ci.is_none() && !init.contains(&name) {
            return Err(ExecError::ContainerNotValid {
                container: name.to_string(),
                pod: pod.to_string(),
            });
        }
        if p.node.is_none() {
            return Err(ExecError::NoHost(pod.to_string()));
        }
        // kubelet.go `GetExec`: only a running container can run a command.
        let running = ci
            .and_then(|ci| p.containers.get(ci))
            .is_some_and(|c| matches!(c.state, CState::Running { .. }));
        match ci {
            Some(ci) if running => Ok((id, ci)),
            _ => Err(ExecError::ContainerNotRunning(name.to_string())),
        }
    }

    /// Whether the container's image has `bash` (`families::has_bash`).
    pub(crate) fn image_has_bash(&self, pod: ObjId, ci: usize) -> bool {
        self.store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref())
            .and_then(|s| s.containers.get(ci))
            .and_then(|c| c.image.as_deref())
            .is_some_and(crate::families::has_bash)
    }

    /// The environment an exec'd process gets: the container's, as the kubelet built it
    /// when the container started, with the runtime's `PATH` and `HOME` when it has none.
    fn exec_env(&self, pod: ObjId, ci: usize) -> Vec<(String, String)> {
        // The environment the container started with: a ConfigMap changed since does not reach it.
        let mut env = crate::kubelet::config::env(self, pod, ci).unwrap_or_default();
        if !env.iter().any(|(k, _)| k == "PATH") {
            env.insert(
                0,
                (
                    "PATH".into(),
                    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                ),
            );
        }
        if !env.iter().any(|(k, _)| k == "HOME") {
            env.push(("HOME".into(), "/root".into()));
        }
        env
    }

    /// Runs `exec`'s command in its container.
    pub fn exec(&mut self, exec: &Exec) -> Result<ExecOutput, ExecError> {
        let (pod, ci) = self.exec_target(&exec.namespace, &exec.pod, exec.container.as_deref())?;
        let vars = self.exec_env(pod, ci);
        let files = self.file_view(pod, ci);
        let cwd = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref())
            .and_then(|s| s.containers.get(ci))
            .and_then(|c| c.working_dir.clone())
            .filter(|d| d.starts_with('/'))
            .unwrap_or_else(|| "/".into());
        let (ns, name) = self
            .store
            .pods
            .get(pod)
            .map(|p| (p.namespace.to_string(), p.name.to_string()))
            .unwrap_or_default();
        let mut sh = Shell {
            sim: self,
            pod,
            ci,
            ns,
            name,
            vars,
            cwd,
            files,
            status: 0,
            requests: 0,
            exited: None,
            stack: Vec::new(),
            stdin: None,
            steps: 0,
            budget: machine::EXEC_STEPS,
            can_sleep: false,
            has_bash: false,
        };
        sh.has_bash = sh.sim.image_has_bash(pod, ci);
        let mut io = Io::default();
        let mut out = ExecOutput::default();
        match exec.command.first().map(String::as_str) {
            None => {
                out.internal = Some(sh.runtime_error("", "exec: no command"));
            }
            Some(argv0) => match program(argv0).filter(|p| *p != "bash" || sh.has_bash) {
                Some(_) => out.code = sh.run(&exec.command, exec.stdin.as_bytes(), &mut io),
                None => {
                    out.internal = Some(sh.runtime_error(
                        argv0,
                        &format!("exec: {argv0:?}: executable file not found in $PATH"),
                    ));
                }
            },
        }
        out.requests = sh.requests;
        out.stdout = io.out;
        out.stderr = io.err;
        if out.internal.is_some() {
            out.code = 1;
        }
        Ok(out)
    }
}

/// Appends an unquoted expansion's value, split into fields on whitespace.
fn split_into(v: &str, fields: &mut Vec<String>, cur: &mut String, have: &mut bool) {
    let mut pieces = v.split([' ', '\t', '\n']).peekable();
    if v.starts_with([' ', '\t', '\n']) && *have {
        fields.push(std::mem::take(cur));
        *have = false;
    }
    while let Some(p) = pieces.next() {
        if p.is_empty() {
            continue;
        }
        cur.push_str(p);
        *have = true;
        if pieces.peek().is_some() {
            fields.push(std::mem::take(cur));
            *have = false;
        }
    }
    if v.ends_with([' ', '\t', '\n']) && *have {
        fields.push(std::mem::take(cur));
        *have = false;
    }
}

impl Shell<'_> {
    /// containerd's error for a command it cannot start, as the kubelet wraps it: the exec's
    /// id is a hash of the pod, the container and the command.
    fn runtime_error(&self, argv0: &str, why: &str) -> String {
        let id = crate::rng::mix64(&[
            self.pod,
            self.ci as u64,
            self.sim.store.now.millis(),
            argv0.len() as u64,
        ]);
        let id = format!("{id:016x}").repeat(4);
        format!(
            "error executing command in container: failed to exec in container: failed to start exec {id:?}: OCI runtime exec failed: exec failed: unable to start container process: {why}: unknown"
        )
    }

    fn var(&self, name: &str) -> Option<String> {
        match name {
            "?" => Some(self.status.to_string()),
            "$" => Some("1".into()),
            "#" => Some("0".into()),
            "0" => Some("sh".into()),
            _ => self
                .vars
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
        }
    }

    fn set_var(&mut self, name: &str, value: &str) {
        self.vars.retain(|(k, _)| k != name);
        self.vars.push((name.to_string(), value.to_string()));
    }

    /// A word's fields: quoted parts stay whole, unquoted expansions split on whitespace.
    /// A command substitution runs its commands in a shell of its own.
    fn expand(&mut self, w: &Word) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut have = w.quoted;
        for part in &w.parts {
            match part {
                Part::Lit(s) => {
                    cur.push_str(s);
                    have = true;
                }
                Part::QuotedVar(n) => {
                    cur.push_str(&self.var(n).unwrap_or_default());
                    have = true;
                }
                Part::Arith(e) => {
                    let v = arith::eval(e, &|n| self.var(n)).unwrap_or(0);
                    cur.push_str(&v.to_string());
                    have = true;
                }
                Part::Subst(src, quoted) => {
                    let v = self.substitute(src);
                    if *quoted {
                        cur.push_str(&v);
                        have = true;
                    } else {
                        split_into(&v, &mut fields, &mut cur, &mut have);
                    }
                }
                Part::Var(n) => {
                    let v = self.var(n).unwrap_or_default();
                    split_into(&v, &mut fields, &mut cur, &mut have);
                }
            }
        }
        if have {
            fields.push(cur);
        }
        fields
    }

    /// `$(...)`: the commands' standard output without its trailing newlines.
    fn substitute(&mut self, src: &str) -> String {
        let mut io = Io::default();
        let vars = self.vars.clone();
        let cwd = self.cwd.clone();
        self.script(src, b"", &mut io);
        // A subshell: its assignments and `cd` do not reach the caller.
        self.vars = vars;
        self.cwd = cwd;
        let mut out = String::from_utf8_lossy(&io.out).into_owned();
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }

    /// Runs a program with `argv` (argv[0] one of [`PROGRAMS`]) and returns its exit code.
    fn run(&mut self, argv: &[String], stdin: &[u8], io: &mut Io) -> i32 {
        let Some(argv0) = argv.first() else { return 0 };
        let args = &argv[1..];
        match program(argv0).filter(|p| *p != "bash" || self.has_bash) {
            Some("sh" | "ash" | "bash") => self.sh(args, stdin, io),
            Some("curl") => self.curl(args, io),
            Some("wget") => self.wget(args, io),
            Some("nslookup") => self.nslookup(args, io),
            Some(p) => self.command(p, args, stdin, io),
            None => {
                io.err
                    .extend_from_slice(format!("sh: {argv0}: not found\n").as_bytes());
                127
            }
        }
    }

    /// `sh -c SCRIPT`, or `sh` reading its script from standard input.
    fn sh(&mut self, args: &[String], stdin: &[u8], io: &mut Io) -> i32 {
        let mut script: Option<String> = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "-c" {
                match it.next() {
                    Some(s) => script = Some(s.clone()),
                    None => {
                        io.err.extend_from_slice(b"sh: -c requires an argument\n");
                        return 2;
                    }
                }
                break;
            }
            if !a.starts_with('-') {
                // `sh FILE`: a script from the container's files (a ConfigMap's).
                let path = fs::normalize(&self.cwd, a);
                if let Some(fs::Entry::File(b)) = self.files.get(&path) {
                    script = Some(String::from_utf8_lossy(b).into_owned());
                    break;
                }
                io.err.extend_from_slice(
                    format!("sh: can't open '{a}': No such file or directory\n").as_bytes(),
                );
                return 2;
            }
        }
        let (script, input) = match script {
            Some(s) => (s, stdin),
            None => (String::from_utf8_lossy(stdin).into_owned(), &b""[..]),
        };
        self.script(&script, input, io)
    }

    /// Runs a script (`sh -c`'s argument, or one line of an interactive shell) to its end,
    /// in a shell of its own: its `exit` ends it, not the shell that ran it.
    fn script(&mut self, src: &str, stdin: &[u8], io: &mut Io) -> i32 {
        let script = match parse::parse(src) {
            Ok(s) => s,
            Err(e) => {
                io.err.extend_from_slice(format!("{e}\n").as_bytes());
                self.status = 2;
                return 2;
            }
        };
        let outer = std::mem::take(&mut self.stack);
        let outer_stdin = self.stdin.replace(stdin.to_vec());
        let outer_exit = self.exited.take();
        let can_sleep = std::mem::replace(&mut self.can_sleep, false);
        self.stack.push(Frame::list(script));
        self.machine(io);
        let code = self.exited.unwrap_or(self.status);
        self.stack = outer;
        self.stdin = outer_stdin;
        self.exited = outer_exit;
        self.can_sleep = can_sleep;
        self.status = code;
        code
    }

    fn pipeline(&mut self, cmds: &[Command], stdin: &[u8], io: &mut Io) -> i32 {
        let mut input = stdin.to_vec();
        let mut code = 0;
        for (i, cmd) in cmds.iter().enumerate() {
            let last = i + 1 == cmds.len();
            let mut piped = Io::default();
            code = self.simple(cmd, &input, &mut piped);
            // What the command wrote goes on: to the next one, or to the shell's output.
            input = std::mem::take(&mut piped.out);
            io.err.extend_from_slice(&piped.err);
            if last {
                io.out.extend_from_slice(&input);
            }
            if self.exited.is_some() {
                break;
            }
        }
        code
    }

    /// One command with its redirections.
    fn simple(&mut self, cmd: &Command, stdin: &[u8], io: &mut Io) -> i32 {
        #[derive(Clone, Copy, PartialEq)]
        enum To {
            Out,
            Err,
            Null,
        }
        let mut fds = [To::Out, To::Out, To::Err];
        for r in &cmd.redirects {
            let to = match &r.to {
                Target::Fd(n) => fds[*n as usize],
                Target::File(w, _) => {
                    let path = self.expand(w).join(" ");
                    if path == "/dev/null" {
                        To::Null
                    } else {
                        io.err.extend_from_slice(
                            format!("sh: can't create {path}: Read-only file system\n").as_bytes(),
                        );
                        return 1;
                    }
                }
            };
            fds[r.fd as usize] = to;
        }
        let mut argv: Vec<String> = Vec::new();
        for w in &cmd.words {
            argv.extend(self.expand(w));
        }
        let mut own = Io::default();
        let code = self.builtin(&argv, stdin, &mut own);
        for (bytes, to) in [(own.out, fds[1]), (own.err, fds[2])] {
            match to {
                To::Out => io.out.extend_from_slice(&bytes),
                To::Err => io.err.extend_from_slice(&bytes),
                To::Null => {}
            }
        }
        code
    }

    /// The shell's own commands (`exit`, `cd`, `export`, assignments), else a program.
    fn builtin(&mut self, argv: &[String], stdin: &[u8], io: &mut Io) -> i32 {
        let Some(first) = argv.first() else { return 0 };
        fn assignment(w: &str) -> Option<(&str, &str)> {
            w.split_once('=').filter(|(k, _)| {
                k.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        }
        let assigns = argv.iter().take_while(|w| assignment(w).is_some()).count();
        if assigns == argv.len() {
            for w in argv {
                if let Some((k, v)) = assignment(w) {
                    self.set_var(k, v);
                }
            }
            return 0;
        }
        match first.as_str() {
            "exit" => {
                let code = match argv.get(1) {
                    None => self.status,
                    Some(n) => match n.parse::<i64>() {
                        Ok(n) => (n & 0xff) as i32,
                        Err(_) => {
                            io.err.extend_from_slice(
                                format!("sh: exit: Illegal number: {n}\n").as_bytes(),
                            );
                            2
                        }
                    },
                };
                self.exited = Some(code);
                code
            }
            "export" => {
                for w in &argv[1..] {
                    if let Some((k, v)) = assignment(w) {
                        self.set_var(k, v);
                    }
                }
                0
            }
            "cd" => {
                let to = argv.get(1).map_or("/root", String::as_str);
                let path = fs::normalize(&self.cwd, to);
                if self.files.is_dir(&path) {
                    self.cwd = path;
                    0
                } else {
                    io.err.extend_from_slice(
                        format!("sh: cd: can't cd to {to}: No such file or directory\n").as_bytes(),
                    );
                    2
                }
            }
            ":" => 0,
            // `exec CMD`: the command replaces the shell, so its exit is the shell's.
            "exec" if argv.len() > 1 => {
                let code = self.run(&argv[1..], stdin, io);
                self.exited = Some(code);
                code
            }
            _ if assigns > 0 => {
                // `X=1 cmd`: the variables for that command only.
                let saved = self.vars.clone();
                for w in &argv[..assigns] {
                    if let Some((k, v)) = assignment(w) {
                        self.set_var(k, v);
                    }
                }
                let code = self.run(&argv[assigns..], stdin, io);
                self.vars = saved;
                code
            }
            _ => self.run(argv, stdin, io),
        }
    }

    /// The pod's IP, for `ps` and `hostname -i`.
    fn pod_ip(&self) -> String {
        self.sim
            .store
            .pods
            .get(self.pod)
            .map_or_else(String::new, |p| ip_string(p.ip))
    }
}

#[cfg(test)]
mod tests;
