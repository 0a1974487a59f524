//! One file per kubectl command (or family of commands); `kubectl::run_with` dispatches.

pub(super) mod apply;
pub(super) mod autoscale;
pub(super) mod create;
pub(super) mod create_batch;
pub(super) mod create_config;
pub(super) mod create_quota;
pub(super) mod delete;
pub(crate) mod describe;
pub(super) mod diff;
pub(super) mod exec;
pub(super) mod get;
pub(super) mod label;
pub(super) mod logs;
pub(super) mod node;
pub(super) mod patch;
pub(super) mod rollout;
pub(super) mod run;
pub(super) mod scale;
pub(super) mod set;
pub(super) mod taint;
pub(super) mod top;
