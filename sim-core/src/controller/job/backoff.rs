//! The pod failure back-off of `pkg/controller/job/backoff_utils.go`: the Job waits before
//! replacing failed pods, 10 s after one failure since the last success, doubling per further
//! failure, at most 6 minutes, counted from the last failure.

use crate::time::{SimDuration, SimTime};

/// `DefaultJobPodFailureBackOff`.
pub const DEFAULT_BACKOFF: SimDuration = SimDuration::from_secs(10);
/// `MaxJobPodFailureBackOff`.
pub const MAX_BACKOFF: SimDuration = SimDuration::from_secs(360);

/// `backoffRecord`: failures since the last success and when the last of them finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackoffRecord {
    /// `failuresAfterLastSuccess`.
    pub failures_after_last_success: u32,
    /// `lastFailureTime`.
    pub last_failure: Option<SimTime>,
}

impl BackoffRecord {
    /// `newBackoffRecord`: the record after pods newly finished (each with its finish time).
    pub fn updated(self, mut succeeded: Vec<SimTime>, mut failed: Vec<SimTime>) -> BackoffRecord {
        succeeded.sort_unstable();
        failed.sort_unstable();
        let Some(&last_success) = succeeded.last() else {
            let Some(&last_failure) = failed.last() else {
                return self;
            };
            return BackoffRecord {
                failures_after_last_success: self.failures_after_last_success + failed.len() as u32,
                last_failure: Some(last_failure),
            };
        };
        let mut out = BackoffRecord::default();
        for &t in failed.iter().rev() {
            if t <= last_success {
                break;
            }
            out.last_failure.get_or_insert(t);
            out.failures_after_last_success += 1;
        }
        out
    }

    /// `getRemainingTime`: how long pod creation must still wait at `now`.
    pub fn remaining(&self, now: SimTime) -> SimDuration {
        let (n, Some(last)) = (self.failures_after_last_success, self.last_failure) else {
            return SimDuration(0);
        };
        if n == 0 {
            return SimDuration(0);
        }
        let mut backoff = DEFAULT_BACKOFF.millis();
        for _ in 1..n {
            backoff = backoff.saturating_mul(2);
            if backoff >= MAX_BACKOFF.millis() {
                backoff = MAX_BACKOFF.millis();
                break;
            }
        }
        let elapsed = now.millis().saturating_sub(last.millis());
        SimDuration(backoff.saturating_sub(elapsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> SimTime {
        SimTime(secs * 1000)
    }

    #[test]
    fn new_backoff_record_follows_backoff_utils() {
        // TestNewBackoffRecord.
        let empty = BackoffRecord::default();
        assert_eq!(empty.updated(vec![], vec![]), empty);
        // Failures only: counted, the last one's time kept.
        let r = empty.updated(vec![], vec![s(5), s(3)]);
        assert_eq!(
            r,
            BackoffRecord {
                failures_after_last_success: 2,
                last_failure: Some(s(5))
            }
        );
        let r = r.updated(vec![], vec![s(8)]);
        assert_eq!(r.failures_after_last_success, 3);
        // A success resets, keeping only failures after it.
        let r = r.updated(vec![s(10)], vec![s(9), s(11), s(12)]);
        assert_eq!(
            r,
            BackoffRecord {
                failures_after_last_success: 2,
                last_failure: Some(s(12))
            }
        );
        let r = r.updated(vec![s(20)], vec![]);
        assert_eq!(r, BackoffRecord::default());
    }

    #[test]
    fn remaining_time_doubles_to_six_minutes() {
        // TestGetRemainingBackoffTime.
        let rec = |n, last| BackoffRecord {
            failures_after_last_success: n,
            last_failure: Some(last),
        };
        assert_eq!(rec(0, s(0)).remaining(s(0)), SimDuration(0));
        assert_eq!(rec(1, s(0)).remaining(s(0)), SimDuration::from_secs(10));
        assert_eq!(rec(1, s(0)).remaining(s(4)), SimDuration::from_secs(6));
        assert_eq!(rec(2, s(0)).remaining(s(0)), SimDuration::from_secs(20));
        assert_eq!(rec(3, s(0)).remaining(s(0)), SimDuration::from_secs(40));
        assert_eq!(rec(6, s(0)).remaining(s(0)), SimDuration::from_secs(320));
        assert_eq!(rec(7, s(0)).remaining(s(0)), SimDuration::from_secs(360));
        assert_eq!(rec(50, s(0)).remaining(s(100)), SimDuration::from_secs(260));
        assert_eq!(rec(2, s(0)).remaining(s(30)), SimDuration(0));
    }
}
