//! A compiled worker module and one invocation of it.

use sim_core::program::{Exit, Invocation, Network, Outcome, Process, Program};
use wasmtime::{Instance, InstancePre, Linker, Module, Store, Trap};

use crate::engine::{Compiler, MAX_MEMORY_BYTES, engine};
use crate::process::WorkerProcess;
use crate::wasi::{Host, Limits, ProcExit, link, with_network};

/// Why a module cannot be used as a worker.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// The bytes are not a valid WebAssembly module.
    #[error("not a valid WebAssembly module: {0}")]
    Invalid(String),
    /// It lacks what the kubesim worker ABI needs.
    #[error("not a kubesim worker: {0}")]
    Abi(String),
}

/// A module compiled once, instantiated afresh for every invocation (`InstancePre`: imports
/// resolved once; the pooling allocator makes an instance a few microseconds), or, for a module
/// that exports `kubesim_handle`, kept as one instance per container for its requests
/// ([`crate::process`]).
pub struct WorkerModule {
    name: String,
    pub(crate) pre: InstancePre<Host>,
    calls_out: bool,
    reactor: bool,
}

impl std::fmt::Debug for WorkerModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerModule")
            .field("name", &self.name)
            .field("reactor", &self.reactor)
            .finish()
    }
}

impl WorkerModule {
    /// Compiles `bytes` (binary or text format) with Cranelift and checks the ABI's exports.
    pub fn new(name: &str, bytes: &[u8]) -> Result<WorkerModule, ModuleError> {
        WorkerModule::compile(name, bytes, Compiler::Cranelift)
    }

    /// Compiles `bytes` with `compiler` and checks the ABI's exports.
    pub fn compile(
        name: &str,
        bytes: &[u8],
        compiler: Compiler,
    ) -> Result<WorkerModule, ModuleError> {
        let engine = engine(compiler);
        let module =
            Module::new(engine, bytes).map_err(|e| ModuleError::Invalid(first_line(&e)))?;
        let mut has_start = false;
        let mut has_memory = false;
        let mut reactor = false;
        for e in module.exports() {
            match (e.name(), e.ty()) {
                ("_start", wasmtime::ExternType::Func(f))
                    if f.params().len() == 0 && f.results().len() == 0 =>
                {
                    has_start = true
                }
                (HANDLE_EXPORT, wasmtime::ExternType::Func(f)) => {
                    if f.params().len() != 0 || f.results().len() != 0 {
                        return Err(ModuleError::Abi(format!(
                            "its `{HANDLE_EXPORT}` is not `() -> ()`"
                        )));
                    }
                    reactor = true;
                }
                ("memory", wasmtime::ExternType::Memory(_)) => has_memory = true,
                _ => {}
            }
        }
        if !has_start {
            return Err(ModuleError::Abi(
                "it exports no `_start() -> ()` (a WASI preview 1 command)".into(),
            ));
        }
        if !has_memory {
            return Err(ModuleError::Abi("it exports no `memory`".into()));
        }
        let mut linker = Linker::new(engine);
        link(&mut linker).map_err(|e| ModuleError::Abi(first_line(&e)))?;
        linker
            .define_unknown_imports_as_traps(&module)
            .map_err(|e| ModuleError::Abi(first_line(&e)))?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| ModuleError::Abi(first_line(&e)))?;
        let calls_out = module.imports().any(|i| i.module() == "kubesim");
        Ok(WorkerModule {
            name: name.to_string(),
            pre,
            calls_out,
            reactor,
        })
    }

    /// Whether requests may be served by one instance per container: the module exports
    /// `kubesim_handle` and calls no Service (a process checks its first answer against a
    /// fresh invocation's, and a call out would be made twice).
    pub fn keeps_instances(&self) -> bool {
        self.reactor && !self.calls_out
    }

    /// Runs the module once, CGI-style: a fresh instance, `_start`.
    pub fn run(&self, inv: &Invocation<'_>, net: Box<dyn Network>) -> (Outcome, Box<dyn Network>) {
        run_command(&self.pre, inv, net)
    }
}

/// The export a module serves requests from on a kept instance (docs/worker-abi.md).
pub(crate) const HANDLE_EXPORT: &str = "kubesim_handle";

/// What an invocation's guest sees.
pub(crate) fn host(inv: &Invocation<'_>) -> Host {
    Host {
        args: inv.args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        env: inv
            .env
            .iter()
            .map(|(k, v)| format!("{k}={v}").into_bytes())
            .collect(),
        stdin: inv.stdin.to_vec(),
        stdin_pos: 0,
        fs: crate::wasi::Files::new(inv.files.clone()),
        stdout: Vec::new(),
        stderr: Vec::new(),
        clock_ns: inv.clock_unix_ns,
        rng: inv.seed,
        limits: Limits {
            memory: memory_limit(inv),
            hit: false,
        },
    }
}

/// The invocation's linear-memory cap.
pub(crate) fn memory_limit(inv: &Invocation<'_>) -> u64 {
    inv.memory_limit
        .unwrap_or(MAX_MEMORY_BYTES)
        .min(MAX_MEMORY_BYTES)
}

/// One CGI-style invocation: a new store and instance, `_start`.
pub(crate) fn run_command(
    pre: &InstancePre<Host>,
    inv: &Invocation<'_>,
    net: Box<dyn Network>,
) -> (Outcome, Box<dyn Network>) {
    let ((out, _), net) = with_network(net, || run_command_sized(pre, inv));
    (out, net)
}

/// [`run_command`] (inside [`with_network`]), and the bytes of linear memory it ended with.
pub(crate) fn run_command_sized(pre: &InstancePre<Host>, inv: &Invocation<'_>) -> (Outcome, u64) {
    let mut store = Store::new(pre.module().engine(), host(inv));
    store.limiter(|h| &mut h.limits);
    let budget = inv.fuel.max(1);
    let (exit, instance) = match store.set_fuel(budget) {
        Ok(()) => call_start(pre, &mut store),
        Err(e) => (Exit::Trap(first_line(&e)), None),
    };
    let left = store.get_fuel().unwrap_or(0);
    let memory = instance
        .and_then(|i| i.get_memory(&mut store, "memory"))
        .map_or(0, |m| m.data_size(&store) as u64);
    (finish(store.into_data(), exit, budget - left), memory)
}

/// The outcome of a finished call: an allocation the limit refused, then an abort, is the
/// kernel's OOM killer.
pub(crate) fn finish(host: Host, exit: Exit, fuel: u64) -> Outcome {
    let exit = match exit {
        Exit::Trap(_) | Exit::Code(_) if host.limits.hit => Exit::OutOfMemory,
        other => other,
    };
    Outcome {
        exit,
        stdout: host.stdout,
        stderr: host.stderr,
        fuel,
    }
}

fn call_start(pre: &InstancePre<Host>, store: &mut Store<Host>) -> (Exit, Option<Instance>) {
    let instance = match pre.instantiate(&mut *store) {
        Ok(i) => i,
        Err(e) => {
            // A minimum memory above the limit fails here.
            if store.data().limits.hit || first_line(&e).contains("memory") {
                return (Exit::OutOfMemory, None);
            }
            return (Exit::Trap(first_line(&e)), None);
        }
    };
    let start = match instance.get_typed_func::<(), ()>(&mut *store, "_start") {
        Ok(f) => f,
        Err(e) => return (Exit::Invalid(first_line(&e)), Some(instance)),
    };
    (exit_of(start.call(&mut *store, ())), Some(instance))
}

/// How a call into the guest ended.
pub(crate) fn exit_of(result: wasmtime::Result<()>) -> Exit {
    match result {
        Ok(()) => Exit::Code(0),
        Err(e) => {
            if let Some(ProcExit(code)) = e.downcast_ref::<ProcExit>() {
                Exit::Code(*code)
            } else if let Some(Trap::OutOfFuel) = e.downcast_ref::<Trap>() {
                Exit::OutOfFuel
            } else if let Some(t) = e.downcast_ref::<Trap>() {
                Exit::Trap(format!("wasm trap: {t}"))
            } else {
                Exit::Trap(first_line(&e))
            }
        }
    }
}

impl Program for WorkerModule {
    fn name(&self) -> &str {
        &self.name
    }

    fn calls_out(&self) -> bool {
        self.calls_out
    }

    fn invoke(&self, inv: &Invocation<'_>, net: Box<dyn Network>) -> (Outcome, Box<dyn Network>) {
        self.run(inv, net)
    }

    fn process(&self) -> Option<Box<dyn Process>> {
        if !self.keeps_instances() {
            return None;
        }
        Some(Box::new(WorkerProcess::new(self.pre.clone())))
    }
}

pub(crate) fn first_line(e: &wasmtime::Error) -> String {
    let text = format!("{e:#}");
    text.lines().next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::program::NoNetwork;

    fn run(wat: &str, limit: Option<u64>, fuel: u64) -> Outcome {
        let m = WorkerModule::new("t", wat.as_bytes()).expect("module");
        let env = [("GREETING".to_string(), "hello".to_string())];
        let args = ["t".to_string()];
        let inv = Invocation {
            args: &args,
            env: &env,
            stdin: b"ping",
            memory_limit: limit,
            fuel,
            clock_unix_ns: 0,
            seed: 1,
            files: &std::collections::BTreeMap::new(),
        };
        m.run(&inv, Box::new(NoNetwork)).0
    }

    /// Echoes stdin to stdout, then exits with 3.
    const ECHO: &str = r#"(module
      (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 100))
        (i32.store (i32.const 4) (i32.const 16))
        (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (i32.store (i32.const 4) (i32.load (i32.const 8)))
        (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
        (call $exit (i32.const 3))))"#;

    #[test]
    fn a_command_reads_stdin_writes_stdout_and_exits() {
        let o = run(ECHO, None, 1_000_000);
        assert_eq!(o.exit, Exit::Code(3));
        assert_eq!(o.stdout, b"ping");
        assert!(o.fuel > 0);
        // Fuel is deterministic.
        assert_eq!(run(ECHO, None, 1_000_000).fuel, o.fuel);
    }

    /// Opens `etc/config/color` under the preopened `/` (fd 3), copies it to stdout and
    /// exits with path_open's errno for `etc/config/missing`, then for creating `new`.
    const CAT: &str = r#"(module
      (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $dirname (param i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_filestat_get" (func $stat (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 200) "etc/config/color")
      (data (i32.const 220) "etc/config/missing")
      (data (i32.const 240) "new")
      (func (export "_start")
        (if (call $prestat (i32.const 3) (i32.const 0)) (then (call $exit (i32.const 90))))
        (if (i32.ne (i32.load (i32.const 4)) (i32.const 1)) (then (call $exit (i32.const 91))))
        (drop (call $dirname (i32.const 3) (i32.const 8) (i32.const 1)))
        (if (i32.ne (i32.load8_u (i32.const 8)) (i32.const 47)) (then (call $exit (i32.const 92))))
        (if (call $open (i32.const 3) (i32.const 0) (i32.const 200) (i32.const 16) (i32.const 0)
                        (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 12))
          (then (call $exit (i32.const 93))))
        ;; size from fd_filestat_get (offset 32 of the 64-byte filestat at 400)
        (drop (call $stat (i32.load (i32.const 12)) (i32.const 400)))
        (if (i32.ne (i32.load (i32.const 432)) (i32.const 4)) (then (call $exit (i32.const 94))))
        (i32.store (i32.const 16) (i32.const 300))
        (i32.store (i32.const 20) (i32.const 64))
        (drop (call $read (i32.load (i32.const 12)) (i32.const 16) (i32.const 1) (i32.const 24)))
        (drop (call $close (i32.load (i32.const 12))))
        (i32.store (i32.const 20) (i32.load (i32.const 24)))
        (drop (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 28)))
        (call $exit
          (i32.add
            (i32.mul (i32.const 100)
              (call $open (i32.const 3) (i32.const 0) (i32.const 220) (i32.const 18) (i32.const 0)
                          (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 12)))
            (call $open (i32.const 3) (i32.const 0) (i32.const 240) (i32.const 3) (i32.const 1)
                        (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 12))))))"#;

    #[test]
    fn a_guest_reads_its_mounted_files_through_the_preopened_root() {
        let m = WorkerModule::new("cat", CAT.as_bytes()).expect("module");
        let files: std::collections::BTreeMap<String, Vec<u8>> =
            [("/etc/config/color".to_string(), b"blue".to_vec())].into();
        let args = ["cat".to_string()];
        let inv = Invocation {
            args: &args,
            env: &[],
            stdin: b"",
            memory_limit: None,
            fuel: 10_000_000,
            clock_unix_ns: 0,
            seed: 1,
            files: &files,
        };
        let o = m.run(&inv, Box::new(NoNetwork)).0;
        assert_eq!(o.stdout, b"blue");
        // ENOENT (44) for a missing file, EROFS (69) for a create.
        assert_eq!(o.exit, Exit::Code(44 * 100 + 69));
    }

    #[test]
    fn an_endless_loop_runs_out_of_fuel() {
        let o = run(
            r#"(module (memory (export "memory") 1)
                 (func (export "_start") (loop $l (br $l))))"#,
            None,
            50_000,
        );
        assert_eq!(o.exit, Exit::OutOfFuel);
        assert_eq!(o.fuel, 50_000);
    }

    #[test]
    fn growing_past_the_limit_is_out_of_memory() {
        // Grows by 64 KiB pages until refused, then traps as an allocator would abort.
        let o = run(
            r#"(module (memory (export "memory") 1)
                 (func (export "_start")
                   (loop $l
                     (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
                   unreachable))"#,
            Some(4 << 20),
            10_000_000,
        );
        assert_eq!(o.exit, Exit::OutOfMemory);
        // A minimum memory above the limit cannot even start.
        let o = run(
            r#"(module (memory (export "memory") 200) (func (export "_start")))"#,
            Some(1 << 20),
            1_000,
        );
        assert_eq!(o.exit, Exit::OutOfMemory);
    }

    #[test]
    fn bad_modules_are_clear_errors() {
        let e = WorkerModule::new("x", b"\0asm garbage").unwrap_err();
        assert!(
            e.to_string().starts_with("not a valid WebAssembly module"),
            "{e}"
        );
        let e = WorkerModule::new("x", b"(module (memory (export \"memory\") 1))").unwrap_err();
        assert!(e.to_string().contains("_start"), "{e}");
        // An import kubesim does not give links as a trap, and fails only when called.
        let o = run(
            r#"(module (import "env" "nope" (func $n)) (memory (export "memory") 1)
                 (func (export "_start") (call $n)))"#,
            None,
            1_000,
        );
        assert!(matches!(o.exit, Exit::Trap(_)), "{:?}", o.exit);
        let o = run(
            r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#,
            None,
            1_000,
        );
        assert!(
            matches!(&o.exit, Exit::Trap(t) if t.contains("unreachable")),
            "{:?}",
            o.exit
        );
    }
}
