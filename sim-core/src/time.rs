//! Virtual time: instants and durations in milliseconds since the simulation started,
//! and the discrete-event queue ordered by (time, insertion order).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

/// A virtual instant, in milliseconds since the simulation started.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time, in milliseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every simulation.
    pub const ZERO: SimTime = SimTime(0);

    /// Seconds since the start, as a number (the trace's `time`).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// Whole milliseconds since the start.
    pub fn millis(self) -> u64 {
        self.0
    }

    /// The time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of whole seconds.
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * 1000)
    }

    /// A duration of fractional seconds, rounded to the millisecond; negative counts as zero.
    pub fn from_secs_f64(s: f64) -> SimDuration {
        if s.is_finite() && s > 0.0 {
            SimDuration((s * 1000.0).round() as u64)
        } else {
            SimDuration(0)
        }
    }

    /// Whole milliseconds.
    pub fn millis(self) -> u64 {
        self.0
    }

    /// Seconds, as a number.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl std::ops::Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl fmt::Display for SimDuration {
    /// Go's `time.Duration` style, as kubectl messages print it: `10s`, `1m30s`, `1.5s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        // Go's Duration.String uses a smaller unit below one second: `500ms`.
        if ms < 1000 {
            return write!(f, "{ms}ms");
        }
        let h = ms / 3_600_000;
        let m = (ms / 60_000) % 60;
        let s = (ms / 1000) % 60;
        let frac = ms % 1000;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if h > 0 || m > 0 {
            write!(f, "{m}m")?;
        }
        if frac == 0 {
            write!(f, "{s}s")
        } else {
            let frac = format!("{frac:03}");
            write!(f, "{s}.{}s", frac.trim_end_matches('0'))
        }
    }
}

/// Why a duration string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {0:?}: expected a number with a unit, such as 90s, 10m, 1h30m or 500ms")]
pub struct DurationError(pub String);

/// Parses `90s`, `10m`, `1h30m`, `1.5s`, `500ms` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let err = || DurationError(text.to_string());
    let s = text.trim();
    if s.is_empty() {
        return Err(err());
    }
    if let Ok(n) = s.parse::<f64>() {
        return if n >= 0.0 {
            Ok(SimDuration::from_secs_f64(n))
        } else {
            Err(err())
        };
    }
    let mut total = 0.0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        if num_len == 0 {
            return Err(err());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(err()),
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    Ok(SimDuration::from_secs_f64(total))
}

/// A queue of timed items; items due at the same instant come out in the order they went in.
#[derive(Debug)]
pub struct EventQueue<T> {
    heap: BinaryHeap<Reverse<(SimTime, u64, Slot<T>)>>,
    seq: u64,
}

/// Wrapper so that the payload never takes part in the ordering.
#[derive(Debug)]
struct Slot<T>(T);

impl<T> PartialEq for Slot<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for Slot<T> {}
impl<T> PartialOrd for Slot<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Slot<T> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<T> EventQueue<T> {
    /// Schedules `item` at `at`.
    pub fn push(&mut self, at: SimTime, item: T) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, Slot(item))));
    }

    /// The time of the earliest item.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Removes the earliest item if it is due at or before `now`.
    pub fn pop_due(&mut self, now: SimTime) -> Option<(SimTime, T)> {
        if self.peek_time()? <= now {
            self.heap.pop().map(|Reverse((t, _, Slot(item)))| (t, item))
        } else {
            None
        }
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_kubectl_flags() {
        let cases = [
            ("90s", 90_000),
            ("10m", 600_000),
            ("1h30m", 5_400_000),
            ("1.5s", 1_500),
            ("500ms", 500),
            ("30", 30_000),
            ("2m5s", 125_000),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_duration(text), Ok(SimDuration(ms)), "{text}");
        }
        for bad in ["", "ten", "5x", "-3", "m5"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(SimDuration::from_secs(10).to_string(), "10s");
        assert_eq!(SimDuration::from_secs(90).to_string(), "1m30s");
        assert_eq!(SimDuration::from_secs(3600).to_string(), "1h0m0s");
        assert_eq!(SimDuration(1500).to_string(), "1.5s");
        // time.Duration.String below a second: `500ms`, not `0.5s`.
        assert_eq!(SimDuration(500).to_string(), "500ms");
        assert_eq!(SimDuration(1).to_string(), "1ms");
    }

    #[test]
    fn ties_come_out_in_insertion_order() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), "b");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "c");
        let out: Vec<_> = std::iter::from_fn(|| q.pop_due(SimTime(10)))
            .map(|(_, x)| x)
            .collect();
        assert_eq!(out, ["a", "b", "c"]);
        assert!(q.is_empty());
    }
}
