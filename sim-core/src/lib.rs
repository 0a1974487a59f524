//! kubesim's simulated Kubernetes control plane: pure, synchronous and deterministic.
//!
//! Start at [`api`] for the objects a manifest can hold.

pub mod api;
pub mod kubectl;
