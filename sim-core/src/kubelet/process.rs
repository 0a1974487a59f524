//! Containers whose process is a shell (`shell::process`): which containers have one, their
//! start, the timers that wake a sleeping script, and their exit, which the kubelet reports
//! as any container's (`Completed` for 0, `Error` otherwise; `StartError` when the runtime
//! finds no such executable), then the restart policy decides.

use crate::families::Kind;
use crate::runtime::ImageBehavior;
use crate::shell::machine::Stop;
use crate::shell::process::{Process, expand_references};
use crate::sim::{Sim, Step};
use crate::store::ObjId;
use crate::time::SimDuration;

/// How long a CPU-bound script runs before it goes on (`shell::machine::PROCESS_STEPS`).
const BUSY_SLICE: SimDuration = SimDuration::from_secs(1);

impl Sim {
    /// The command a container runs through the shell, if it runs one: a shell image's
    /// command and args (`sh` when it has none), or, for another public image, a `command`
    /// (or args that replace its `CMD`) whose program the shell has.
    pub(crate) fn process_argv(
        &self,
        pod: ObjId,
        ci: usize,
        b: &ImageBehavior,
    ) -> Option<Vec<String>> {
        let family = b.family?;
        let c = self.container(pod, ci)?;
        let command = c.command.as_ref().filter(|v| !v.is_empty());
        let args = c.args.as_ref().filter(|v| !v.is_empty());
        let argv: Vec<String> = match (command, args) {
            (Some(cmd), args) => cmd
                .iter()
                .chain(args.into_iter().flatten())
                .cloned()
                .collect(),
            (None, Some(args)) => args.clone(),
            // busybox's and alpine's `CMD` is `sh`, ubuntu's and debian's `bash`.
            (None, None) if family.kind == Kind::Shell => vec![
                if family.name == "ubuntu" || family.name == "debian" {
                    "bash"
                } else {
                    "sh"
                }
                .to_string(),
            ],
            (None, None) => return None,
        };
        let shell_runs_it = argv
            .first()
            .is_some_and(|a| crate::shell::program(a).is_some());
        (family.kind == Kind::Shell || shell_runs_it).then_some(argv)
    }

    /// Starts a container's shell process.
    pub(crate) fn start_process(&mut self, pod: ObjId, ci: usize, argv: Vec<String>) {
        let env = crate::kubelet::config::env(self, pod, ci).unwrap_or_default();
        let argv: Vec<String> = argv.iter().map(|a| expand_references(a, &env)).collect();
        match Process::launch(&argv, self.image_has_bash(pod, ci)) {
            Ok(process) => self.run_process(pod, ci, process, true),
            Err(why) => {
                let msg = format!(
                    "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: {why}: unknown"
                );
                self.kubelet_event(pod, true, "Failed", format!("Error: {msg}"));
                self.set_process_exit(pod, ci, 128, "StartError");
            }
        }
    }

    /// A timer woke a sleeping process.
    pub(crate) fn process_wake(&mut self, pod: ObjId, ci: usize) {
        let process = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
            .and_then(|c| c.process.take());
        if let Some(process) = process {
            self.run_process(pod, ci, *process, false);
        }
    }

    fn run_process(&mut self, pod: ObjId, ci: usize, process: Process, fresh: bool) {
        let (process, slice) = self.process_slice(pod, ci, process, fresh);
        for stream in [&slice.out, &slice.err] {
            for line in String::from_utf8_lossy(stream).lines() {
                self.container_log(pod, ci, line);
            }
        }
        let now = self.store.now;
        match (slice.stop, slice.exit) {
            (Stop::Done, code) => {
                let code = code.unwrap_or(0);
                let reason = if code == 0 { "Completed" } else { "Error" };
                self.set_process_exit(pod, ci, code, reason);
                return;
            }
            (Stop::Sleep(Some(ms)), _) => {
                self.container_timer(pod, ci, now + SimDuration(ms), Step::Wake);
            }
            // `sleep infinity`: nothing wakes it; only a kill ends it.
            (Stop::Sleep(None), _) => {}
            (Stop::Busy, _) => self.container_timer(pod, ci, now + BUSY_SLICE, Step::Wake),
        }
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.process = Some(Box::new(process));
        }
    }

    /// The process ended: the container exits at this instant.
    fn set_process_exit(&mut self, pod: ObjId, ci: usize, code: i32, reason: &'static str) {
        if let Some(c) = self
            .store
            .pods
            .get_mut(pod)
            .and_then(|p| p.containers.get_mut(ci))
        {
            c.process = None;
            c.process_exit = Some((code, reason));
        }
        let now = self.store.now;
        self.container_timer(pod, ci, now, Step::Exit);
    }

    /// How the container's process ended, if it did.
    pub(crate) fn process_exit(&self, pod: ObjId, ci: usize) -> Option<(i32, &'static str)> {
        self.store.pods.get(pod)?.containers.get(ci)?.process_exit
    }
}

#[cfg(test)]
mod tests;
