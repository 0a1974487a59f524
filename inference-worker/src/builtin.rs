//! The course's worker modules, embedded in the binary (built from `inference-worker/guests`
//! by `build-guests.sh`, committed so a machine without a wasm toolchain still builds), plus
//! modules an instructor brings. Each is compiled once per process, on first use.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use sim_core::program::{Invocation, Network, Outcome, Program, Programs};

use crate::module::WorkerModule;

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
];

/// The modules containers can run, by name.
#[derive(Debug, Default)]
pub struct Builtin {
    /// Modules added on top of the built-in ones (same name: replaces it).
    extra: BTreeMap<String, Arc<dyn Program>>,
}

impl Builtin {
    /// The built-in modules only.
    pub fn new() -> Builtin {
        Builtin::default()
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
        if let Some(p) = self.extra.get(module) {
            return Some(p.clone());
        }
        compiled(module)
    }
}

/// A built-in module, compiled once per process.
fn compiled(name: &str) -> Option<Arc<dyn Program>> {
    static CACHE: OnceLock<Mutex<BTreeMap<String, Arc<dyn Program>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = cache.get(name) {
        return Some(p.clone());
    }
    let (_, bytes) = BUILTIN_MODULES.iter().find(|(n, _)| *n == name)?;
    let program: Arc<dyn Program> = match WorkerModule::new(name, bytes) {
        Ok(m) => Arc::new(m),
        Err(e) => Arc::new(Unusable {
            name: name.to_string(),
            why: e.to_string(),
        }),
    };
    cache.insert(name.to_string(), program.clone());
    Some(program)
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
