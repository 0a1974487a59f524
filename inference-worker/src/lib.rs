//! kubesim's WebAssembly host. A container image's program is a WebAssembly module that
//! speaks the kubesim worker ABI (`docs/worker-abi.md`: a WASI preview 1 command run CGI-style,
//! one fresh instance per invocation, or, for a module exporting `kubesim_handle`, one instance
//! kept per container for its requests); this crate runs those modules in wasmtime for
//! `sim-core`, which only knows the [`sim_core::program::Program`] trait.
//!
//! - `engine.rs`: the wasmtime engines (Cranelift, and Winch for a first start), fuel on,
//!   pooling allocator, the on-disk compilation cache.
//! - `wasi.rs`: the dozen WASI preview 1 functions the ABI gives a guest, over in-memory stdin,
//!   stdout and stderr, the virtual clock and a seeded random source; and the `kubesim`
//!   import for outbound HTTP.
//! - `module.rs`: [`WorkerModule`], a compiled module ready to instantiate, and one invocation.
//! - `process.rs`: a container's requests served by one kept instance, for a module that
//!   exports `kubesim_handle` (same answers and fuel as fresh invocations, faster).
//! - `builtin.rs`: the course's modules, embedded in the binary, compiled on first use
//!   (Winch when Cranelift's code is not cached yet).
//!
//! Determinism: a guest sees only what the invocation gives it, fuel is counted in
//! instructions, and the wall clock never reaches the guest or the result.

mod builtin;
mod engine;
mod module;
mod process;
mod wasi;

pub use builtin::{BUILTIN_MODULES, Builtin};
pub use engine::Compiler;
pub use module::{ModuleError, WorkerModule};
