//! The process's one wasmtime engine.

use std::sync::OnceLock;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

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
