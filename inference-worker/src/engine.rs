//! The process's wasmtime engines: one per compiler, created on first use.

use std::sync::OnceLock;

use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
    Strategy,
};

/// The largest linear memory a guest may have: memory limits above this are capped here.
pub(crate) const MAX_MEMORY_BYTES: u64 = 1 << 30;

/// Bytes of a pooled memory kept resident between instances.
const KEEP_RESIDENT: usize = 8 << 20;

/// Fresh instances alive at once: an invocation plus the Services it calls, nested.
const FRESH_INSTANCES: u32 = 32;

/// Instances kept for containers' requests (`process.rs`), process-wide; more containers than
/// this run their requests as fresh invocations.
pub(crate) const PROCESS_INSTANCES: u32 = 96;

/// The pool's instances: the kept ones never take a fresh invocation's place.
const POOL_INSTANCES: u32 = FRESH_INSTANCES + PROCESS_INSTANCES;

/// Which of wasmtime's compilers turns a module into machine code.
///
/// Both run a module with the same WebAssembly semantics and charge the same fuel for it (fuel
/// is counted per WebAssembly operator, not per machine instruction), so a run's simulated
/// service times, responses and traces do not depend on the compiler: the tests compare every
/// built-in model, and whole course runs, under both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Compiler {
    /// Cranelift, the optimising compiler: ~100 ms per model on a laptop, the fastest code.
    Cranelift,
    /// Winch, wasmtime's baseline compiler: a few milliseconds per model, code up to about
    /// twice as slow. Used for a first start on x86-64 only (elsewhere it is experimental).
    Winch,
}

/// The engine for `compiler`: fuel metering (deterministic "CPU time"), and a pooling allocator
/// so an instance costs a few microseconds.
pub(crate) fn engine(compiler: Compiler) -> &'static Engine {
    static CRANELIFT: OnceLock<Engine> = OnceLock::new();
    static WINCH: OnceLock<Engine> = OnceLock::new();
    let new = |compiler| {
        let pooled = Engine::new(&config(compiler, true));
        // A machine that cannot reserve the pool's address space still runs the guests,
        // with the on-demand allocator.
        pooled.or_else(|_| Engine::new(&config(compiler, false)))
    };
    match compiler {
        Compiler::Cranelift => {
            CRANELIFT.get_or_init(|| new(Compiler::Cranelift).expect("wasmtime engine"))
        }
        Compiler::Winch => WINCH.get_or_init(|| {
            new(Compiler::Winch).unwrap_or_else(|_| engine(Compiler::Cranelift).clone())
        }),
    }
}

fn config(compiler: Compiler, pooling: bool) -> Config {
    let mut c = Config::new();
    c.consume_fuel(true);
    c.strategy(match compiler {
        Compiler::Cranelift => Strategy::Cranelift,
        Compiler::Winch => Strategy::Winch,
    });
    c.cache(cache());
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_core_instances(POOL_INSTANCES)
            .total_memories(POOL_INSTANCES)
            .total_tables(POOL_INSTANCES)
            .max_memory_size(MAX_MEMORY_BYTES as usize)
            // Reset the first few MiB of a finished instance's memory by zeroing them rather
            // than giving them back to the kernel: the next instance would fault every page
            // in again (a request touches its stack, data and heap: ~20 pages).
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .table_keep_resident(KEEP_RESIDENT);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    c
}

/// wasmtime's compilation cache, so a module compiled once is loaded from disk by the next
/// process (the demo's first page waits on the credit model: it compiles in ~100 ms on a
/// laptop and loads in a few). Its files are keyed by the module, wasmtime's version and this
/// engine's settings, so the code run is the code compiled: runs stay deterministic. In
/// [`cache_root`]`/wasmtime`; a folder that cannot be used means no cache.
fn cache() -> Option<Cache> {
    let mut cfg = CacheConfig::new();
    cfg.with_directory(cache_root()?.join("wasmtime"));
    Cache::new(cfg).ok()
}

/// kubesim's cache folder, if it can be used: wasmtime's compilation cache in `wasmtime/`
/// (wasmtime's cleanup removes any file of its own folder it does not know, so kubesim's own
/// files live beside it). `$KUBESIM_CACHE_DIR` (empty: no cache), else
/// `$XDG_CACHE_HOME/kubesim`, else `$HOME/.cache/kubesim`; it must be absolute and writable.
pub(crate) fn cache_root() -> Option<&'static std::path::Path> {
    static ROOT: OnceLock<Option<std::path::PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let root = match std::env::var_os("KUBESIM_CACHE_DIR") {
            Some(v) if v.is_empty() => return None,
            Some(v) => std::path::PathBuf::from(v),
            None => env("XDG_CACHE_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| env("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?
                .join("kubesim"),
        };
        let probe = root.join(".writable");
        let usable = root.is_absolute()
            && std::fs::create_dir_all(&root).is_ok()
            && std::fs::write(&probe, b"").is_ok();
        usable.then_some(root)
    })
    .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first start relies on Winch; on x86-64 it must really be there, not the fallback.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn winch_compiles_here() {
        Engine::new(&config(Compiler::Winch, false)).expect("a Winch engine");
        let winch = engine(Compiler::Winch);
        let cranelift = engine(Compiler::Cranelift);
        assert!(!Engine::same(winch, cranelift));
    }
}
