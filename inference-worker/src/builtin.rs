//! The course's worker modules, embedded in the binary (built from `inference-worker/guests`
//! by `build-guests.sh`, committed so a machine without a wasm toolchain still builds), plus
//! modules an instructor brings. Each is compiled once per process, on first use.
//!
//! Which compiler: Cranelift's code for a built-in module is kept in wasmtime's on-disk cache,
//! so from the second start on a machine it loads in a few milliseconds. The very first start
//! would wait ~100–250 ms for Cranelift (the default demo's first page waits on the credit
//! model), so a module without cached Cranelift code is compiled with Winch instead, in a few
//! milliseconds, and used for the rest of the process; Cranelift compiles it into the cache in
//! the background for the next start. Both charge the same fuel and compute the same results
//! (see [`Compiler`]), so which one ran never shows in a run.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sim_core::program::{Invocation, Network, Outcome, Program, Programs};

use crate::engine::{Compiler, cache_root, engine};
use crate::module::WorkerModule;

/// How long the background Cranelift compilation waits, so that it does not compete with the
/// first page for the CPU.
const WARM_DELAY: Duration = Duration::from_secs(1);

/// The built-in modules: name and WebAssembly bytes.
pub const BUILTIN_MODULES: &[(&str, &[u8])] = &[
    (
        "credit-scoring-api",
        include_bytes!("../modules/credit-scoring-api.wasm"),
    ),
    (
        "text-generator",
        include_bytes!("../modules/text-generator.wasm"),
    ),
    (
        "clothes-gateway",
        include_bytes!("../modules/clothes-gateway.wasm"),
    ),
    (
        "clothes-model",
        include_bytes!("../modules/clothes-model.wasm"),
    ),
    (
        "credit-scoring-api-services",
        include_bytes!("../modules/credit-scoring-api-services.wasm"),
    ),
    ("redis", include_bytes!("../modules/redis.wasm")),
    ("postgres", include_bytes!("../modules/postgres.wasm")),
];

/// The modules containers can run, by name.
#[derive(Debug, Default)]
pub struct Builtin {
    /// Modules added on top of the built-in ones (same name: replaces it).
    extra: BTreeMap<String, Arc<dyn Program>>,
    /// The compiler for the built-in modules; `None`: Cranelift when cached, else Winch.
    compiler: Option<Compiler>,
    /// Every request on a fresh instance, even for modules that could keep one per container
    /// (tests and benchmarks compare both).
    fresh_only: bool,
}

impl Builtin {
    /// The built-in modules only.
    pub fn new() -> Builtin {
        Builtin::default()
    }

    /// Compiles the built-in modules with `compiler` (benchmarks and tests), instead of
    /// Cranelift when its code is cached and Winch otherwise.
    pub fn with_compiler(mut self, compiler: Compiler) -> Builtin {
        self.compiler = Some(compiler);
        self
    }

    /// Runs every request on a fresh instance (`_start`), never on one kept for its
    /// container (`kubesim_handle`): the same answers, fuel and traces, only slower.
    pub fn fresh_only(mut self) -> Builtin {
        self.fresh_only = true;
        self
    }

    /// Adds (or replaces) a module from its bytes. A module that cannot run is still added:
    /// a container running it fails to start, and `kubectl describe` says why.
    pub fn with_module(mut self, name: &str, bytes: &[u8]) -> Builtin {
        let program: Arc<dyn Program> = match WorkerModule::new(name, bytes) {
            Ok(m) => Arc::new(m),
            Err(e) => Arc::new(Unusable {
                name: name.to_string(),
                why: e.to_string(),
            }),
        };
        self.extra.insert(name.to_string(), program);
        self
    }

    /// The names of every module.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = BUILTIN_MODULES.iter().map(|(n, _)| n.to_string()).collect();
        v.extend(self.extra.keys().cloned());
        v.sort();
        v.dedup();
        v
    }
}

impl Programs for Builtin {
    fn has(&self, module: &str) -> bool {
        self.extra.contains_key(module) || BUILTIN_MODULES.iter().any(|(n, _)| *n == module)
    }

    fn program(&self, module: &str) -> Option<Arc<dyn Program>> {
        let program = match self.extra.get(module) {
            Some(p) => p.clone(),
            None => compiled(module, self.compiler)?,
        };
        if self.fresh_only {
            return Some(Arc::new(FreshOnly(program)));
        }
        Some(program)
    }
}

/// A program whose requests all run on fresh instances ([`Builtin::fresh_only`]).
#[derive(Debug)]
struct FreshOnly(Arc<dyn Program>);

impl Program for FreshOnly {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn calls_out(&self) -> bool {
        self.0.calls_out()
    }

    fn invoke(&self, inv: &Invocation<'_>, net: Box<dyn Network>) -> (Outcome, Box<dyn Network>) {
        self.0.invoke(inv, net)
    }
}

/// A built-in module, compiled once per process (per compiler asked for).
fn compiled(name: &str, compiler: Option<Compiler>) -> Option<Arc<dyn Program>> {
    type Compiled = BTreeMap<(String, Option<Compiler>), Arc<dyn Program>>;
    static CACHE: OnceLock<Mutex<Compiled>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    let key = (name.to_string(), compiler);
    if let Some(p) = cache.get(&key) {
        return Some(p.clone());
    }
    let &(name, bytes) = BUILTIN_MODULES.iter().find(|(n, _)| *n == name)?;
    let compiled = match compiler {
        Some(c) => WorkerModule::compile(name, bytes, c),
        // Should Winch ever fail on a module, Cranelift compiles it.
        None => WorkerModule::compile(name, bytes, first_compiler(name, bytes))
            .or_else(|_| WorkerModule::compile(name, bytes, Compiler::Cranelift)),
    };
    let program: Arc<dyn Program> = match compiled {
        Ok(m) => Arc::new(m),
        Err(e) => Arc::new(Unusable {
            name: name.to_string(),
            why: e.to_string(),
        }),
    };
    cache.insert(key, program.clone());
    Some(program)
}

/// Cranelift if its code for this module is in the cache (or there is no cache to fill);
/// otherwise Winch, with Cranelift compiling the module into the cache in the background.
fn first_compiler(name: &'static str, bytes: &'static [u8]) -> Compiler {
    let Some(marker) = cached_marker(name, bytes).filter(|_| cfg!(target_arch = "x86_64")) else {
        return Compiler::Cranelift;
    };
    if marker.exists() {
        return Compiler::Cranelift;
    }
    let warm = move || {
        std::thread::sleep(WARM_DELAY);
        if WorkerModule::compile(name, bytes, Compiler::Cranelift).is_ok()
            && let Some(dir) = marker.parent()
            && std::fs::create_dir_all(dir).is_ok()
        {
            // A marker that cannot be written only means Winch again at the next start.
            let _ = std::fs::write(&marker, b"");
        }
    };
    let spawned = std::thread::Builder::new()
        .name(format!("kubesim-compile-{name}"))
        .spawn(warm);
    match spawned {
        Ok(_) => Compiler::Winch,
        Err(_) => Compiler::Cranelift,
    }
}

/// The file that says Cranelift's code for this module is in wasmtime's cache: named by the
/// module's bytes and everything wasmtime keys compiled code by (its version and the engine's
/// settings), so a new module, wasmtime or setting means Winch once more. `None`: no cache.
fn cached_marker(name: &str, bytes: &[u8]) -> Option<PathBuf> {
    let dir = cache_root()?;
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    engine(Compiler::Cranelift)
        .precompile_compatibility_hash()
        .hash(&mut h);
    Some(
        dir.join("cranelift-ready")
            .join(format!("{name}-{:016x}", h.finish())),
    )
}

/// A module that cannot run; every invocation says why.
#[derive(Debug)]
struct Unusable {
    name: String,
    why: String,
}

impl Program for Unusable {
    fn name(&self) -> &str {
        &self.name
    }

    fn invoke(&self, _: &Invocation<'_>, net: Box<dyn Network>) -> (Outcome, Box<dyn Network>) {
        (Outcome::invalid(self.why.clone()), net)
    }
}
