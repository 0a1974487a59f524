//! One container's requests served by one instance: the worker ABI's reactor export
//! `kubesim_handle` (docs/worker-abi.md).
//!
//! A module that exports `kubesim_handle() -> ()` is still a WASI command: the container's start
//! invocation runs `_start` on a fresh instance as before. Its requests, instead of `_start` on
//! a fresh instance each, call `kubesim_handle` on an instance kept for the container run, with
//! the request's environment, stdin, clock, seed and files behind the same imports. That skips
//! what a CGI invocation pays every time and a server pays once: a new instance, the runtime's
//! start, and resetting the memory afterwards.
//!
//! **Fuel.** A request's fuel becomes its simulated service time, so it must not depend on how
//! the request ran. A kept instance burns less: it skips `_start`'s runtime setup and exit.
//! That difference, the *prelude*, is measured once per instance, on the container run's first
//! request, which runs both ways: the fresh invocation gives the answer, and the kept instance
//! must give the same exit, stdout and stderr, with prelude = fresh fuel − kept fuel.
//! Every later request is charged its kept fuel plus the prelude. `tests/workers.rs` checks
//! that this equals the fresh invocation's fuel, request by request, for every built-in model
//! under both compilers and in any order; so simulated service times are those of the CGI
//! path.
//!
//! **Failures** are the fresh invocation's: a kept call that does not exit 0 (a trap, running
//! out of fuel or memory, `proc_exit`) is dropped with its instance (its memory may be anything
//! now) and the request is run again as a fresh invocation, whose outcome is the answer; the
//! next request makes a new instance. The kept call's fuel budget is the request's less the
//! prelude, so it runs out exactly where the fresh one would. A module calling a Service is
//! never kept: a run twice would call twice.
//!
//! **Isolation.** An instance belongs to one container run (`sim_core::program::ProcessSlot`):
//! never shared between pods, dropped when the container restarts. The guests are pure
//! functions of the request (checked by the same tests, interleaving requests), so what an
//! instance keeps between requests never shows.

use std::sync::atomic::{AtomicUsize, Ordering};

use sim_core::program::{Exit, Invocation, Network, Outcome, Process};
use wasmtime::{InstancePre, Store, TypedFunc};

use crate::engine::PROCESS_INSTANCES;
use crate::module::{
    HANDLE_EXPORT, exit_of, finish, host, memory_limit, run_command, run_command_sized,
};
use crate::wasi::{Host, with_network};

/// Kept instances alive in the process, all engines together.
static KEPT: AtomicUsize = AtomicUsize::new(0);

/// A claim on one of the [`PROCESS_INSTANCES`] kept instances; given back on drop.
#[derive(Debug)]
struct Permit;

impl Permit {
    /// A permit, or `None` when as many instances are kept as the pool has room for (the
    /// container's requests then run as fresh invocations, as before).
    fn take() -> Option<Permit> {
        KEPT.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < PROCESS_INSTANCES as usize).then_some(n + 1)
        })
        .ok()
        .map(|_| Permit)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        KEPT.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A container run's requests of one module.
pub(crate) struct WorkerProcess {
    pre: InstancePre<Host>,
    state: State,
}

/// Where a process is in its life.
enum State {
    /// No instance: the next request runs fresh, and on a new instance to measure its prelude.
    Idle,
    /// An instance serving requests.
    Kept(Box<Kept>),
    /// The kept instance answered differently from a fresh invocation: every request runs
    /// fresh from now on.
    Fresh,
}

/// A kept instance.
struct Kept {
    store: Store<Host>,
    handle: TypedFunc<(), ()>,
    /// Fuel a fresh invocation burns beyond the kept call (module docs).
    prelude: u64,
    /// The memory cap the instance was made with.
    memory_limit: u64,
    /// Bytes of memory a fresh invocation has beyond the kept instance's for the same request
    /// (the runtime's start allocates before the guest's arena opens, `common/arena.rs`): the
    /// kept instance's cap is lower by as much, so it runs out of memory where a fresh one would.
    memory_offset: u64,
    memory: wasmtime::Memory,
    _permit: Permit,
}

impl WorkerProcess {
    pub(crate) fn new(pre: InstancePre<Host>) -> WorkerProcess {
        WorkerProcess {
            pre,
            state: State::Idle,
        }
    }

    /// The first request: its answer is the fresh invocation's; a new instance then serves it
    /// too, and is kept if it answers the same.
    fn first(
        &mut self,
        inv: &Invocation<'_>,
        net: Box<dyn Network>,
    ) -> (Outcome, Box<dyn Network>) {
        let ((fresh, fresh_memory), net) = with_network(net, || run_command_sized(&self.pre, inv));
        if fresh.exit != Exit::Code(0) {
            return (fresh, net);
        }
        let Some(permit) = Permit::take() else {
            return (fresh, net);
        };
        let Some(mut kept) = self.instantiate(inv, permit) else {
            self.state = State::Fresh;
            return (fresh, net);
        };
        let (out, net) = with_network(net, || kept.call(inv, inv.fuel.max(1)));
        let kept_memory = kept.memory_size();
        let same = out.exit == fresh.exit
            && out.stdout == fresh.stdout
            && out.stderr == fresh.stderr
            && out.fuel <= fresh.fuel
            && kept_memory <= fresh_memory;
        self.state = if same {
            kept.prelude = fresh.fuel - out.fuel;
            kept.memory_offset = fresh_memory - kept_memory;
            State::Kept(kept)
        } else {
            State::Fresh
        };
        (fresh, net)
    }

    /// A new instance for `inv`'s container, without running `_start` (the ABI: the export
    /// sets up what it needs).
    fn instantiate(&self, inv: &Invocation<'_>, permit: Permit) -> Option<Box<Kept>> {
        let mut store = Store::new(self.pre.module().engine(), host(inv));
        store.limiter(|h| &mut h.limits);
        // Instantiation runs no guest code, but an engine with fuel needs some to call in.
        store.set_fuel(0).ok()?;
        let instance = self.pre.instantiate(&mut store).ok()?;
        let handle = instance
            .get_typed_func::<(), ()>(&mut store, HANDLE_EXPORT)
            .ok()?;
        let memory = instance.get_memory(&mut store, "memory")?;
        Some(Box::new(Kept {
            store,
            handle,
            prelude: 0,
            memory_limit: memory_limit(inv),
            memory_offset: 0,
            memory,
            _permit: permit,
        }))
    }
}

impl Kept {
    /// Bytes of linear memory the instance has now.
    fn memory_size(&self) -> u64 {
        self.memory.data_size(&self.store) as u64
    }

    /// One request on the kept instance with `budget` fuel; the outcome's fuel is what the call
    /// burned (without the prelude).
    fn call(&mut self, inv: &Invocation<'_>, budget: u64) -> Outcome {
        let mut data = host(inv);
        data.limits.memory = data.limits.memory.saturating_sub(self.memory_offset);
        *self.store.data_mut() = data;
        let exit = match self.store.set_fuel(budget) {
            Ok(()) => exit_of(self.handle.call(&mut self.store, ())),
            Err(e) => Exit::Trap(crate::module::first_line(&e)),
        };
        let left = self.store.get_fuel().unwrap_or(0);
        // The host keeps nothing of the request between calls.
        let data = std::mem::take(self.store.data_mut());
        finish(data, exit, budget - left)
    }
}

impl Process for WorkerProcess {
    fn invoke(
        &mut self,
        inv: &Invocation<'_>,
        net: Box<dyn Network>,
    ) -> (Outcome, Box<dyn Network>) {
        let kept = match &mut self.state {
            State::Idle => return self.first(inv, net),
            State::Fresh => return run_command(&self.pre, inv, net),
            State::Kept(k) => k,
        };
        let budget = inv.fuel.max(1);
        // A request whose budget the prelude alone would burn, or a new memory limit: fresh.
        if budget <= kept.prelude || kept.memory_limit != memory_limit(inv) {
            self.state = State::Idle;
            return run_command(&self.pre, inv, net);
        }
        let prelude = kept.prelude;
        let (mut out, net) = with_network(net, || kept.call(inv, budget - prelude));
        if out.exit != Exit::Code(0) {
            self.state = State::Idle;
            return run_command(&self.pre, inv, net);
        }
        out.fuel += prelude;
        (out, net)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Compiler;
    use crate::module::WorkerModule;
    use sim_core::program::{NoNetwork, Program};

    /// A request of the built-in `module`, as the kubelet sends one.
    fn request(path: &str, body: &str, served: u64) -> Vec<(String, String)> {
        [
            ("HOSTNAME", "m-7c9f8d-abcde".to_string()),
            ("KUBESIM_UPTIME_SECONDS", format!("{}.000", 10 + served)),
            ("KUBESIM_REQUESTS_SERVED", served.to_string()),
            ("REQUEST_METHOD", "POST".to_string()),
            ("PATH_INFO", path.to_string()),
            ("CONTENT_TYPE", "application/json".to_string()),
            ("CONTENT_LENGTH", body.len().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn check(module: &str, compiler: Compiler, requests: &[(&str, String)]) -> WorkerProcess {
        let bytes = crate::BUILTIN_MODULES
            .iter()
            .find(|(n, _)| *n == module)
            .map(|(_, b)| *b)
            .expect("a built-in module");
        let m = WorkerModule::compile(module, bytes, compiler).expect("module");
        assert!(m.keeps_instances(), "{module}");
        let mut p = WorkerProcess::new(m.pre.clone());
        let args = [module.to_string()];
        for (i, (path, body)) in requests.iter().enumerate() {
            let env = request(path, body, i as u64);
            let inv = Invocation {
                args: &args,
                env: &env,
                stdin: body.as_bytes(),
                memory_limit: Some(256 << 20),
                fuel: 1_000_000_000,
                clock_unix_ns: i as u64 * 1_000_000_007,
                seed: i as u64,
                files: &std::collections::BTreeMap::new(),
            };
            let fresh = m.invoke(&inv, Box::new(NoNetwork)).0;
            let kept = p.invoke(&inv, Box::new(NoNetwork)).0;
            assert_eq!(kept, fresh, "{module} request {i}: {body}");
        }
        p
    }

    #[test]
    fn kept_instances_answer_and_burn_fuel_as_fresh_ones() {
        let mut credit = Vec::new();
        for i in 0..30 {
            credit.push((
                "/predict",
                format!(
                    r#"{{"age":{},"income":{},"loan_amount":12000,"loan_term_months":36,"credit_history_years":{},"existing_debt":3000}}"#,
                    20 + i,
                    1000 * i * i,
                    i % 7
                ),
            ));
            if i % 5 == 0 {
                credit.push(("/predict", "{".to_string()));
                credit.push(("/healthz", String::new()));
            }
        }
        let digit = "[0,0,8,16,15,8,0,0,0,1,16,16,16,2,0,0,0,2,16,16,10,0,0,0,0,2,16,16,12,0,0,0,0,6,16,16,13,0,0,0,0,1,16,16,11,0,0,0,0,0,16,16,10,0,0,0,0,0,7,15,15,0,0,0]";
        let clothes = vec![
            (
                "/v1/models/clothes-model:predict",
                format!(r#"{{"instances":[{digit}]}}"#),
            ),
            ("/v1/models/clothes-model", String::new()),
            (
                "/v1/models/clothes-model:predict",
                format!(r#"{{"instances":[{digit},{digit}]}}"#),
            ),
            ("/v1/models/clothes-model:predict", "[]".to_string()),
            (
                "/v1/models/clothes-model:predict",
                format!(r#"{{"instances":[{digit}]}}"#),
            ),
        ];
        let text = vec![
            (
                "/generate",
                r#"{"prompt":"Kubernetes","seed":1,"max_tokens":40}"#.to_string(),
            ),
            (
                "/generate",
                r#"{"prompt":"","seed":2,"max_tokens":3}"#.to_string(),
            ),
            ("/generate", "{".to_string()),
            (
                "/generate",
                r#"{"prompt":"Kubernetes","seed":1,"max_tokens":40}"#.to_string(),
            ),
        ];
        for compiler in [Compiler::Cranelift, Compiler::Winch] {
            for (module, requests) in [
                ("credit-scoring-api", &credit),
                ("clothes-model", &clothes),
                ("text-generator", &text),
            ] {
                let p = check(module, compiler, requests);
                // The requests did run on the kept instance (not fresh after a mismatch).
                assert!(matches!(p.state, State::Kept(_)), "{module} {compiler:?}");
            }
        }
    }

    /// A kept call that fails is thrown away with its instance; the fresh run's outcome counts,
    /// and out of fuel happens at the very budget a fresh invocation runs out at.
    #[test]
    fn a_failing_kept_call_gives_the_fresh_outcome() {
        let body = r#"{"prompt":"Kubernetes","seed":1,"max_tokens":40}"#.to_string();
        let m = check(
            "text-generator",
            Compiler::Cranelift,
            &[("/generate", body.clone())],
        );
        let mut p = m;
        let args = ["text-generator".to_string()];
        let env = request("/generate", &body, 1);
        let full = Invocation {
            args: &args,
            env: &env,
            stdin: body.as_bytes(),
            memory_limit: Some(256 << 20),
            fuel: 1_000_000_000,
            clock_unix_ns: 0,
            seed: 1,
            files: &std::collections::BTreeMap::new(),
        };
        let need = p.invoke(&full, Box::new(NoNetwork)).0.fuel;
        for fuel in [need - 1, need] {
            let inv = Invocation { fuel, ..full };
            let fresh = run_command(&p.pre, &inv, Box::new(NoNetwork)).0;
            let kept = p.invoke(&inv, Box::new(NoNetwork)).0;
            assert_eq!(kept, fresh, "budget {fuel}");
        }
        assert_eq!(
            run_command(
                &p.pre,
                &Invocation {
                    fuel: need - 1,
                    ..full
                },
                Box::new(NoNetwork)
            )
            .0
            .exit,
            Exit::OutOfFuel
        );
    }
}
