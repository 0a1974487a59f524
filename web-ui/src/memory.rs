//! Memory given back after a burst. glibc's malloc keeps what freed objects used in its
//! arenas for the next allocation, so once a million-replica Deployment's pods are deleted
//! the server would stay at its peak size. When a cluster's pods and events (the events of
//! deleted pods go an hour later) have fallen to half of their high point, by at least
//! [`MIN_DROP`], the driver asks glibc to return its free pages (`malloc_trim`), as
//! long-running servers on glibc do.

/// The smallest fall in pods and events worth a trim (a trim walks and locks every arena).
pub(crate) const MIN_DROP: usize = 5_000;

/// When to give memory back, from one cluster's count of pods and events over time.
#[derive(Debug, Default)]
pub(crate) struct Trim {
    /// The most pods and events since the last trim.
    high: usize,
}

impl Trim {
    /// Sees `objects` now; true when the memory freed since should be given back now.
    pub(crate) fn observe(&mut self, objects: usize) -> bool {
        self.high = self.high.max(objects);
        if self.high - objects >= MIN_DROP && objects <= self.high / 2 {
            self.high = objects;
            return true;
        }
        false
    }
}

/// Asks the allocator to return the memory it holds free to the system; whether any came
/// back. glibc only: other allocators return large blocks themselves.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn release_freed_memory() -> bool {
    // SAFETY: malloc_trim takes no pointers and has no preconditions; glibc locks each arena
    // while it walks it, so it is safe to call while other threads allocate.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Elsewhere there is nothing to ask.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_freed_memory() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_that_is_deleted_is_trimmed_as_it_halves_and_a_small_one_never() {
        let mut t = Trim::default();
        for pods in [10, 500, 20_000, 90_000] {
            assert!(!t.observe(pods), "growing is never a trim");
        }
        assert!(!t.observe(60_000), "a third gone: not yet");
        assert!(t.observe(45_000), "half gone");
        assert!(!t.observe(40_000), "counted from the last trim");
        assert!(t.observe(20_000));
        assert!(t.observe(10_000));
        assert!(!t.observe(6_000), "under MIN_DROP since the last trim");
        assert!(t.observe(0));
        let mut small = Trim::default();
        assert!(!small.observe(4_000));
        assert!(
            !small.observe(0),
            "a class's worth of pods is not worth a trim"
        );
    }
}
