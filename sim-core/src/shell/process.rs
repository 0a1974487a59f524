//! A container's own process when its image is a shell image (busybox, alpine, ubuntu,
//! debian) or its `command` is one the shell runs: the command and args run through the
//! built-in shell with the container's environment and files, as PID 1. What it prints is the
//! container's log; it stops at each `sleep` (the kubelet wakes it with a timer, so
//! `sleep 3600` costs nothing per virtual second); its exit ends the container.
//!
//! Bounded work: one slice runs at most [`PROCESS_STEPS`] commands. A loop that runs more
//! without sleeping is CPU-bound: it goes on one virtual second later, so it prints at most
//! that many commands' output per virtual second and never holds the sandbox.

use super::machine::{Frame, PROCESS_STEPS, Stop};
use super::parse::{Command, Join, Node, Part, Word};
use super::{Io, Shell, program};
use crate::sim::Sim;
use crate::store::ObjId;

/// A shell process between two slices: where its script is and its shell's state.
#[derive(Clone, Debug)]
pub struct Process {
    /// The command, until the first slice turns it into the script it runs.
    argv: Vec<String>,
    stack: Vec<Frame>,
    vars: Vec<(String, String)>,
    cwd: String,
    status: i32,
}

/// What one slice of a process did.
#[derive(Debug)]
pub struct Slice {
    /// Standard output.
    pub out: Vec<u8>,
    /// Standard error.
    pub err: Vec<u8>,
    /// Why it stopped.
    pub stop: Stop,
    /// The exit code, when it ended.
    pub exit: Option<i32>,
}

/// Kubernetes' expansion of `$(VAR)` in `command` and `args` from the container's
/// environment (`$$` escapes a `$`; an undefined variable is left as written).
pub fn expand_references(arg: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = arg;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
        {
            let name = &inner[..end];
            match env.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

impl Process {
    /// A process for `argv`, or why the runtime cannot start it.
    pub fn launch(argv: &[String], has_bash: bool) -> Result<Process, String> {
        let Some(argv0) = argv.first() else {
            return Err("no command specified".into());
        };
        if program(argv0).is_none_or(|p| p == "bash" && !has_bash) {
            return Err(format!(
                "exec: {argv0:?}: executable file not found in $PATH"
            ));
        }
        Ok(Process {
            argv: argv.to_vec(),
            stack: Vec::new(),
            vars: Vec::new(),
            cwd: "/".into(),
            status: 0,
        })
    }
}

impl Shell<'_> {
    /// The script PID 1 runs: `sh -c SCRIPT`'s script, `sh FILE`'s file, `sh` alone (no
    /// input: nothing), or the command itself with its words as they are (no shell splits
    /// them). A script that does not parse is `sh`'s error and exit 2.
    fn first_frame(&mut self, argv: &[String], io: &mut Io) -> Option<Frame> {
        let is_shell = argv
            .first()
            .and_then(|a| program(a))
            .is_some_and(|p| matches!(p, "sh" | "ash" | "bash"));
        if is_shell {
            let mut it = argv[1..].iter();
            let mut src = String::new();
            while let Some(a) = it.next() {
                if a == "-c" {
                    match it.next() {
                        Some(s) => src = s.clone(),
                        None => {
                            io.err.extend_from_slice(b"sh: -c requires an argument\n");
                            self.exited = Some(2);
                            return None;
                        }
                    }
                    break;
                }
                if !a.starts_with('-') {
                    let path = super::fs::normalize(&self.cwd, a);
                    match self.files.get(&path) {
                        Some(super::fs::Entry::File(b)) => {
                            src = String::from_utf8_lossy(b).into_owned();
                        }
                        _ => {
                            io.err.extend_from_slice(
                                format!("sh: can't open '{a}': No such file or directory\n")
                                    .as_bytes(),
                            );
                            self.exited = Some(2);
                            return None;
                        }
                    }
                    break;
                }
            }
            return match super::parse::parse(&src) {
                Ok(script) => Some(Frame::list(script)),
                Err(e) => {
                    io.err.extend_from_slice(format!("{e}\n").as_bytes());
                    self.exited = Some(2);
                    None
                }
            };
        }
        let words = argv
            .iter()
            .map(|a| Word {
                parts: vec![Part::Lit(a.clone())],
                quoted: true,
            })
            .collect();
        let node = Node::Pipeline(vec![Command {
            words,
            redirects: Vec::new(),
        }]);
        Some(Frame::list(vec![(Join::Then, node)]))
    }
}

impl Sim {
    /// Runs one slice of a container's process: from its start (`fresh`) or from where it
    /// slept.
    pub(crate) fn process_slice(
        &mut self,
        pod: ObjId,
        ci: usize,
        mut process: Process,
        fresh: bool,
    ) -> (Process, Slice) {
        let files = self.file_view(pod, ci);
        let (ns, name) = self
            .store
            .pods
            .get(pod)
            .map(|p| (p.namespace.to_string(), p.name.to_string()))
            .unwrap_or_default();
        if fresh {
            process.vars = self.exec_env(pod, ci);
            process.cwd = self
                .store
                .pods
                .get(pod)
                .and_then(|p| p.template.spec.as_ref())
                .and_then(|s| s.containers.get(ci))
                .and_then(|c| c.working_dir.clone())
                .filter(|d| d.starts_with('/'))
                .unwrap_or_else(|| "/".into());
        }
        let mut sh = Shell {
            sim: self,
            pod,
            ci,
            ns,
            name,
            vars: std::mem::take(&mut process.vars),
            cwd: std::mem::take(&mut process.cwd),
            files,
            status: process.status,
            requests: 0,
            exited: None,
            stack: std::mem::take(&mut process.stack),
            stdin: None,
            steps: 0,
            budget: PROCESS_STEPS,
            can_sleep: true,
            has_bash: false,
        };
        sh.has_bash = sh.sim.image_has_bash(pod, ci);
        let mut io = Io::default();
        if fresh && let Some(frame) = sh.first_frame(&process.argv, &mut io) {
            sh.stack.push(frame);
        }
        let stop = sh.machine(&mut io);
        let exit = match stop {
            Stop::Done => Some(sh.exited.unwrap_or(sh.status)),
            _ => None,
        };
        let process = Process {
            argv: std::mem::take(&mut process.argv),
            stack: std::mem::take(&mut sh.stack),
            vars: std::mem::take(&mut sh.vars),
            cwd: std::mem::take(&mut sh.cwd),
            status: sh.status,
        };
        (
            process,
            Slice {
                out: io.out,
                err: io.err,
                stop,
                exit,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_references_expand_from_the_environment() {
        let env = vec![("NAME".to_string(), "web".to_string())];
        assert_eq!(expand_references("hi $(NAME)!", &env), "hi web!");
        assert_eq!(
            expand_references("$(MISSING) $$(NAME) $HOME", &env),
            "$(MISSING) $(NAME) $HOME"
        );
    }

    #[test]
    fn a_command_the_image_lacks_cannot_start() {
        let e = Process::launch(&["python".to_string(), "app.py".to_string()], true).unwrap_err();
        assert_eq!(e, "exec: \"python\": executable file not found in $PATH");
        assert!(Process::launch(&["sh".to_string()], false).is_ok());
        assert!(Process::launch(&["bash".to_string()], false).is_err());
        assert!(Process::launch(&["bash".to_string()], true).is_ok());
    }
}
