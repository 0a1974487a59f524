//! The process's one wasmtime engine.

use std::sync::OnceLock;

use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
};

/// The largest linear memory a guest may have: memory limits above this are capped here.
pub(crate) const MAX_MEMORY_BYTES: u64 = 1 << 30;

/// Bytes of a pooled memory kept resident between instances.
const KEEP_RESIDENT: usize = 8 << 20;

/// Instances alive at once: an invocation plus the Services it calls, nested.
const POOL_INSTANCES: u32 = 32;

/// The engine: fuel metering (deterministic "CPU time"), and a pooling allocator so an
/// instance costs a few microseconds.
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let pooled = Engine::new(&config(true));
        // A machine that cannot reserve the pool's address space still runs the guests,
        // with the on-demand allocator.
        pooled.unwrap_or_else(|_| Engine::new(&config(false)).expect("wasmtime engine"))
    })
}

fn config(pooling: bool) -> Config {
    let mut c = Config::new();
    c.consume_fuel(true);
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
/// engine's settings, so the code run is the code compiled: runs stay deterministic.
/// `$KUBESIM_CACHE_DIR` (empty: no cache), else `$XDG_CACHE_HOME/kubesim/wasmtime`, else
/// `$HOME/.cache/kubesim/wasmtime`. A folder that cannot be used means no cache.
fn cache() -> Option<Cache> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let dir = match std::env::var_os("KUBESIM_CACHE_DIR") {
        Some(v) if v.is_empty() => return None,
        Some(v) => std::path::PathBuf::from(v),
        None => env("XDG_CACHE_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| env("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?
            .join("kubesim")
            .join("wasmtime"),
    };
    let mut cfg = CacheConfig::new();
    cfg.with_directory(dir);
    Cache::new(cfg).ok()
}
