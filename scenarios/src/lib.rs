//! Course scenarios for kubesim: exercises in steps, checked by CEL expressions over the live
//! cluster and its history.
//!
//! Start at [`format::Scenario`] (the file), [`check::Expr`] (a check), [`runner::Session`]
//! (a scenario being played: setup, steps, events, checks) and [`runner::test`], which plays
//! every step's reference solution and asserts that each check fails before it and passes
//! after. `kubesim scenario validate|test|list` call [`validate`], [`runner::test`] and
//! [`list`].

pub mod check;
pub mod folder;
pub mod format;
pub mod killercoda;
pub mod live;
pub mod real;
pub mod runner;
pub mod validate;

pub use runner::{ScenarioError, Session, TestReport, list, test};
pub use validate::{Diagnostic, validate};
