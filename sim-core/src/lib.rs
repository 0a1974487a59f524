//! kubesim's simulated Kubernetes control plane: pure, synchronous and deterministic.
//!
//! Start at [`Sim`]: `Sim::new(SimConfig)` builds a cluster, [`Sim::apply_object`] and the
//! kubectl-shaped methods change it, [`Sim::step`] and [`Sim::advance`] move virtual time.
//! [`script`] runs a `kubesim run` script and [`trace`] records what a user would watch.
//! There is no IO, no wall clock and no thread here; every random choice comes from one
//! seeded generator, so the same script and seed give the same run, byte for byte.

pub mod action;
pub mod api;
pub mod apiserver;
pub mod controller;
pub mod error;
pub mod families;
pub mod images;
pub mod ingress;
pub mod kubectl;
pub mod kubelet;
pub mod metrics;
pub mod network;
pub mod program;
pub mod rng;
pub mod runtime;
pub mod script;
pub mod servers;
pub mod shell;
pub mod sim;
pub mod store;
pub mod time;
pub mod trace;
pub mod traffic;
pub mod workloads;

pub use apiserver::Applied;
pub use error::ApiError;
pub use sim::{Limits, NodeConfig, ProbeMode, Sim, SimConfig};
pub use time::{SimDuration, SimTime};
