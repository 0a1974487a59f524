//! The horizontal pod autoscaler controller: one file per Go file of
//! `pkg/controller/podautoscaler` (`horizontal.go`: the sync, conditions, events, the
//! stabilization windows and `behavior`'s rate limits; `replica_calculator.go`: the replica
//! count from the pods' usage).
//!
//! Every HPA syncs every [`SYNC_PERIOD_MS`] of virtual time, the first time one period after it
//! is created (the controller's queue adds each HPA with its resync delay); the usage comes
//! from `crate::metrics` (metrics-server's 15 s windows over the traffic model's busy time).

pub mod horizontal;
pub mod replica_calculator;

use crate::time::SimTime;

/// `--horizontal-pod-autoscaler-sync-period`.
pub const SYNC_PERIOD_MS: u64 = 15_000;
/// `--horizontal-pod-autoscaler-downscale-stabilization`.
pub const DOWNSCALE_STABILIZATION_MS: u64 = 300_000;

/// What the controller remembers of one HPA between syncs (`recommendations`,
/// `scaleUpEvents`, `scaleDownEvents`), which Kubernetes keeps in memory too.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct HpaMemory {
    /// Unstabilized recommendations with their time.
    pub recommendations: Vec<(SimTime, i32)>,
    /// Scale-ups: time, replicas added (stale ones marked `outdated`).
    pub scale_up_events: Vec<ScaleEvent>,
    /// Scale-downs: time, replicas removed.
    pub scale_down_events: Vec<ScaleEvent>,
}

/// `timestampedScaleEvent`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleEvent {
    /// How many replicas the rescale changed.
    pub change: i32,
    /// When.
    pub time: SimTime,
    /// Older than the longest policy period: reusable.
    pub outdated: bool,
}
