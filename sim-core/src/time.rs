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

/// The longest duration any script, scenario or form may write (a year): far beyond what a
/// lesson needs, and far from where milliseconds would saturate.
pub const MAX_DURATION: SimDuration = SimDuration(365 * 86_400_000);

/// Why a duration string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number followed by a unit.
    #[error(
        "invalid duration {0:?}: expected a number with a unit, such as 90s, 10m, 1h30m or 500ms"
    )]
    Invalid(String),
    /// A bare number: seconds or minutes? Go's `time.ParseDuration` refuses it too.
    #[error("invalid duration {0:?}: a number needs a unit ({0}s, {0}m, {0}h or {0}ms)")]
    NoUnit(String),
    /// Longer than [`MAX_DURATION`].
    #[error("duration {0:?} is too long: at most 365d")]
    TooLong(String),
}

/// Parses `90s`, `10m`, `1h30m`, `1.5s`, `500ms`, `2d` as Go's `time.ParseDuration` does (plus
/// `d`): a number needs a unit, except `0`. At most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let s = text.trim();
    if s == "0" {
        return Ok(SimDuration(0));
    }
    if s.parse::<f64>().is_ok() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(DurationError::NoUnit(s.to_string()));
    }
    let ms = parse_units(s).ok_or_else(|| DurationError::Invalid(text.to_string()))?;
    checked_millis(ms, text)
}

/// The total of `1h30m`-style text in milliseconds, or `None` when it is not such text.
fn parse_units(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0.0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => return None,
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// Milliseconds as a [`SimDuration`], refused beyond [`MAX_DURATION`] (this is where
/// `99999999999999999999h` would otherwise saturate).
fn checked_millis(ms: f64, text: &str) -> Result<SimDuration, DurationError> {
    if !ms.is_finite() || ms > MAX_DURATION.0 as f64 {
        return Err(DurationError::TooLong(text.trim().to_string()));
    }
    Ok(SimDuration(ms.round() as u64))
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
            ("0", 0),
            ("2m5s", 125_000),
            ("2d", 172_800_000),
            ("365d", MAX_DURATION.0),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_duration(text), Ok(SimDuration(ms)), "{text}");
        }
        for bad in ["", "ten", "5x", "-3", "m5", "-3s"] {
            assert!(
                matches!(parse_duration(bad), Err(DurationError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_bare_number_needs_a_unit() {
        assert_eq!(parse_duration("5"), Err(DurationError::NoUnit("5".into())));
        assert_eq!(
            parse_duration("5").unwrap_err().to_string(),
            "invalid duration \"5\": a number needs a unit (5s, 5m, 5h or 5ms)"
        );
        assert_eq!(
            parse_duration("1.5"),
            Err(DurationError::NoUnit("1.5".into()))
        );
    }

    #[test]
    fn huge_durations_are_refused_not_saturated() {
        for big in [
            "99999999999999999999h",
            "366d",
            "8761h",
            "9999999999999999999999ms",
        ] {
            assert!(
                matches!(parse_duration(big), Err(DurationError::TooLong(_))),
                "{big}: {:?}",
                parse_duration(big)
            );
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
