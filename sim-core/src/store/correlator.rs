//! A recorder's event correlator: what a component's `EventRecorder` does to an event before
//! it reaches the API (spam filter, aggregation of similar events, de-duplication of identical
//! ones).
//! Port of client-go `tools/record/events_cache.go` (`EventCorrelator`, `EventAggregator`,
//! `eventLogger`, `EventSourceObjectSpamFilter`), with its tests (`events_cache_test.go`).
//!
//! Every component that records core/v1 Events has its own broadcaster and correlator: the
//! deployment and ReplicaSet controllers, each node's kubelet (its host is part of every key),
//! the node lifecycle controller and so on. The caller keeps one [`Correlator`] per recorder,
//! so the source and host that every Go key starts with are implicit here.
//!
//! The keys are small: the object's id stands for its kind, namespace, name, UID and API
//! version, and a message is a 64-bit FNV-1a hash of its text. kubesim's events carry no
//! `fieldPath`, so the Go event key's field path is always empty.
//!
//! The clock is the event's virtual timestamp (client-go reads the recorder's clock when the
//! event passes through, which is the same instant).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::ObjId;
use crate::time::{SimDuration, SimTime};

/// Entries in each of a correlator's caches (`maxLruCacheEntries`).
pub(crate) const LRU_ENTRIES: usize = 4096;
/// Distinct messages of similar events after which they are combined
/// (`defaultAggregateMaxEvents`).
pub(crate) const AGGREGATE_MAX_EVENTS: usize = 10;
/// Similar events further apart than this start a new group
/// (`defaultAggregateIntervalInSeconds`).
pub(crate) const AGGREGATE_INTERVAL: SimDuration = SimDuration::from_secs(600);
/// Events a source may record about one object at once (`defaultSpamBurst`).
pub(crate) const SPAM_BURST: u32 = 25;
/// One more event is allowed per this long (`defaultSpamQPS` = 1/300).
const SPAM_REFILL: SimDuration = SimDuration::from_secs(300);
/// The message of a combined event starts with this (`EventAggregatorByReasonMessageFunc`).
pub(crate) const COMBINED_PREFIX: &str = "(combined from similar events): ";

/// Similar events: the same object, type and reason from one recorder
/// (`EventAggregatorByReasonFunc`'s aggregate key; source, host, reporting controller and
/// instance are the recorder's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Similar {
    /// The object.
    pub(crate) object: ObjId,
    /// `Warning` (true) or `Normal`.
    pub(crate) warning: bool,
    /// The reason.
    pub(crate) reason: &'static str,
}

/// What tells one event of a group from another in the logger's cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Words {
    /// An event's own message (hashed): `getEventKey`.
    Message(u64),
    /// The group's combined event: the aggregate key.
    Combined,
}

/// The outcome of [`Correlator::correlate`] (`EventCorrelateResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Correlated {
    /// Dropped by the spam filter: nothing is written.
    pub(crate) skip: bool,
    /// The event is the group's combined event (its message gets [`COMBINED_PREFIX`]).
    pub(crate) combined: bool,
    /// The count to write.
    pub(crate) count: u32,
    /// The first timestamp to write.
    pub(crate) first: SimTime,
    /// The stored event to update, if one was written before (by sequence number); when it is
    /// gone (expired), the event is created anew with this count and first timestamp, as
    /// `recordEvent` does when its patch finds nothing.
    pub(crate) update: Option<u64>,
}

/// One recorder's three caches.
#[derive(Debug)]
pub(crate) struct Correlator {
    burst: u32,
    spam: Lru<ObjId, Bucket>,
    aggregate: Lru<Similar, Group>,
    logger: Lru<(Similar, Words), Observation>,
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator::with_burst(SPAM_BURST)
    }
}

impl Correlator {
    /// A correlator whose spam filter allows `burst` events at once.
    pub(crate) fn with_burst(burst: u32) -> Correlator {
        Correlator {
            burst,
            spam: Lru::default(),
            aggregate: Lru::default(),
            logger: Lru::default(),
        }
    }

    /// `EventCorrelate`: aggregates the event with similar ones, counts it against the
    /// identical one last written, then filters spam. The order is client-go's: the filter
    /// runs last, so a dropped event still counts (the next one written carries the count of
    /// every occurrence) and still refreshes its group.
    pub(crate) fn correlate(&mut self, now: SimTime, similar: Similar, message: u64) -> Correlated {
        let combined = self.aggregate_event(now, similar, message);
        let key = (
            similar,
            if combined {
                Words::Combined
            } else {
                Words::Message(message)
            },
        );
        // eventObserve: a cache hit is a patch of the event last written under this key.
        let seen = match self.logger.get(&key) {
            Some(o) => Observation {
                count: o.count.saturating_add(1),
                first: o.first,
                seq: o.seq,
            },
            None => Observation {
                count: 1,
                first: now,
                seq: None,
            },
        };
        self.logger.add(key, seen);
        let skip = self.spam_filter(now, similar.object);
        Correlated {
            skip,
            combined,
            count: seen.count,
            first: seen.first,
            update: seen.seq,
        }
    }

    /// `UpdateState` after the event of `c` was written as `seq` with the message whose hash
    /// is `written`: the logger remembers the server's copy under the written event's own key
    /// (for a combined event, its combined message, a key no later event computes; the
    /// aggregate key keeps pointing at it, as the name client-go's cache holds does).
    pub(crate) fn written(&mut self, similar: Similar, c: &Correlated, written: u64, seq: u64) {
        if c.combined
            && let Some(o) = self.logger.peek_mut(&(similar, Words::Combined))
        {
            o.seq = Some(seq);
        }
        self.logger.add(
            (similar, Words::Message(written)),
            Observation {
                count: c.count,
                first: c.first,
                seq: Some(seq),
            },
        );
    }

    /// Forgets everything about an object that is gone for good. Its id is never used again,
    /// so no later event reads these entries; dropping them only saves memory (and moves the
    /// other keys' eviction from a full cache, which a kubelet's 4,096 keys hardly reach).
    pub(crate) fn forget(&mut self, object: ObjId) {
        self.spam.remove(&object);
        let lowest = Similar {
            object,
            warning: false,
            reason: "",
        };
        let groups: Vec<Similar> = self
            .aggregate
            .entries
            .range(lowest..)
            .take_while(|(k, _)| k.object == object)
            .map(|(k, _)| *k)
            .collect();
        for k in groups {
            self.aggregate.remove(&k);
        }
        let seen: Vec<(Similar, Words)> = self
            .logger
            .entries
            .range((lowest, Words::Message(0))..)
            .take_while(|(k, _)| k.0.object == object)
            .map(|(k, _)| *k)
            .collect();
        for k in seen {
            self.logger.remove(&k);
        }
    }

    /// `EventAggregator.EventAggregate`: whether the event is to be combined with its similar
    /// ones (the tenth distinct message within ten minutes of the group's last event, and
    /// every new message after it).
    fn aggregate_event(&mut self, now: SimTime, similar: Similar, message: u64) -> bool {
        let mut messages = match self.aggregate.get(&similar) {
            Some(g) if now.since(g.last) <= AGGREGATE_INTERVAL => std::mem::take(&mut g.messages),
            _ => Vec::new(),
        };
        if !messages.contains(&message) {
            messages.push(message);
        }
        let combined = messages.len() >= AGGREGATE_MAX_EVENTS;
        if combined {
            // `localKeys.PopAny()` keeps the set below the maximum by dropping any one key (Go
            // map order: random). kubesim drops the one just added, so the first nine
            // messages keep their own events for as long as the group lives.
            messages.pop();
        }
        self.aggregate.add(
            similar,
            Group {
                messages,
                last: now,
            },
        );
        combined
    }

    /// `EventSourceObjectSpamFilter.Filter`: whether the object's token bucket (per recorder)
    /// is empty.
    fn spam_filter(&mut self, now: SimTime, object: ObjId) -> bool {
        let full = Bucket::full(self.burst, now);
        let mut bucket = self.spam.get(&object).map_or(full, |b| *b);
        let accepted = bucket.try_accept(now, self.burst);
        self.spam.add(object, bucket);
        !accepted
    }
}

/// A group of similar events (`aggregateRecord`).
#[derive(Debug)]
struct Group {
    /// Hashes of the distinct messages seen (`localKeys`), fewer than
    /// [`AGGREGATE_MAX_EVENTS`].
    messages: Vec<u64>,
    /// The group's last event.
    last: SimTime,
}

/// The last write under a logger key (`eventLog`).
#[derive(Clone, Copy, Debug)]
struct Observation {
    count: u32,
    first: SimTime,
    /// The stored event (client-go keeps its name); `None` until one was written.
    seq: Option<u64>,
}

/// A token bucket (`flowcontrol.NewTokenBucketPassiveRateLimiterWithClock`, that is
/// `golang.org/x/time/rate.Limiter`) counted in milliseconds of refill: one token is
/// [`SPAM_REFILL`] worth, so the arithmetic is exact.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Milliseconds of refill banked, at most `burst` tokens' worth.
    banked: u64,
    /// When `banked` was last updated.
    last: SimTime,
}

impl Bucket {
    fn full(burst: u32, now: SimTime) -> Bucket {
        Bucket {
            banked: u64::from(burst) * SPAM_REFILL.millis(),
            last: now,
        }
    }

    /// `TryAccept`: takes a token if there is one. A refusal leaves the bucket as it was
    /// (`reserveN` only updates the limiter when it grants).
    fn try_accept(&mut self, now: SimTime, burst: u32) -> bool {
        let cap = u64::from(burst) * SPAM_REFILL.millis();
        let banked = (self.banked + now.since(self.last).millis()).min(cap);
        if banked < SPAM_REFILL.millis() {
            return false;
        }
        self.banked = banked - SPAM_REFILL.millis();
        self.last = now;
        true
    }
}

/// A least-recently-used cache of [`LRU_ENTRIES`] keys (`github.com/golang/groupcache/lru`:
/// a hit and an add both make the key the most recent; an add beyond the capacity drops the
/// least recent key).
#[derive(Debug)]
struct Lru<K, V> {
    entries: BTreeMap<K, (V, u64)>,
    /// Keys by the stamp of their last use.
    order: BTreeMap<u64, K>,
    stamp: u64,
}

impl<K, V> Default for Lru<K, V> {
    fn default() -> Self {
        Lru {
            entries: BTreeMap::new(),
            order: BTreeMap::new(),
            stamp: 0,
        }
    }
}

impl<K: Ord + Copy, V> Lru<K, V> {
    /// `Get`: the value, made the most recent.
    fn get(&mut self, key: &K) -> Option<&mut V> {
        let (value, stamp) = self.entries.get_mut(key)?;
        self.order.remove(stamp);
        self.stamp += 1;
        *stamp = self.stamp;
        self.order.insert(self.stamp, *key);
        Some(value)
    }

    /// The value, its recency untouched.
    fn peek_mut(&mut self, key: &K) -> Option<&mut V> {
        self.entries.get_mut(key).map(|(v, _)| v)
    }

    /// `Remove`.
    fn remove(&mut self, key: &K) {
        if let Some((_, stamp)) = self.entries.remove(key) {
            self.order.remove(&stamp);
        }
    }

    /// `Add`: stores the value as the most recent, dropping the least recent key if full.
    fn add(&mut self, key: K, value: V) {
        self.stamp += 1;
        match self.entries.entry(key) {
            Entry::Occupied(mut o) => {
                self.order.remove(&o.get().1);
                *o.get_mut() = (value, self.stamp);
            }
            Entry::Vacant(v) => {
                v.insert((value, self.stamp));
            }
        }
        self.order.insert(self.stamp, key);
        if self.entries.len() > LRU_ENTRIES
            && let Some((_, oldest)) = self.order.pop_first()
        {
            self.entries.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Ported from client-go `tools/record/events_cache_test.go`: `TestEventCorrelator`'s
    //! table, `TestEventSpamFilter`'s default-key case, and the properties
    //! `TestEventAggregatorByReasonFunc` checks of the keys.

    use super::*;
    use crate::store::intern::fnv64;

    /// The test's `makeObjectReference(..., "my-pod", "my-ns")`.
    const POD: ObjId = 7;

    fn similar(reason: &'static str) -> Similar {
        Similar {
            object: POD,
            warning: false,
            reason,
        }
    }

    fn hash(message: &str) -> u64 {
        fnv64(&[message.as_bytes()])
    }

    /// An event as the table writes it: reason and message about POD.
    #[derive(Clone, Copy)]
    struct Ev {
        reason: &'static str,
        message: &'static str,
    }

    const FIRST: Ev = Ev {
        reason: "first",
        message: "i am first",
    };
    const DUPLICATE: Ev = Ev {
        reason: "duplicate",
        message: "me again",
    };
    const UNIQUE: Ev = Ev {
        reason: "unique",
        message: "snowflake",
    };
    const SIMILAR: Ev = Ev {
        reason: "similar",
        message: "similar message",
    };

    /// What the table expects of the new event: skipped, or written with this count, as the
    /// combined event or not.
    #[derive(Debug, PartialEq, Eq)]
    enum Want {
        Skip,
        Event { count: u32, combined: bool },
    }

    /// The previous events of a case: (similar key, message).
    type Previous = Vec<(Similar, String)>;

    fn make_events(n: usize, e: Ev) -> Previous {
        (0..n)
            .map(|_| (similar(e.reason), e.message.to_string()))
            .collect()
    }

    /// `makeSimilarEvents`: the template's message prefixed by `PREFIX-i-`.
    fn make_similar_events(n: usize, e: Ev) -> Previous {
        (0..n)
            .map(|i| {
                (
                    similar(e.reason),
                    format!("{}-{i}-{}", e.message, e.message),
                )
            })
            .collect()
    }

    /// `makeUniqueEvents`: message-i about pod-i in ns-i (the Go events' reasons differ too,
    /// which the different objects already make different keys).
    fn make_unique_events(n: usize) -> Previous {
        (0..n)
            .map(|i| {
                (
                    Similar {
                        object: 100 + i as ObjId,
                        warning: false,
                        reason: "reason",
                    },
                    format!("message-{i}"),
                )
            })
            .collect()
    }

    /// Plays the previous events and then `new` through one correlator, `interval_secs`
    /// apart as the Go test's `SimpleIntervalClock` spaces them (it advances on every `Now()`:
    /// the test's own, the aggregator's and the rate limiter's, so three intervals an event),
    /// writing every event not skipped (`UpdateState`); returns what became of `new`.
    fn check(previous: Previous, new: Ev, interval_secs: u64) -> Want {
        let mut c = Correlator::default();
        let step = SimDuration::from_secs(3 * interval_secs);
        let mut now = SimTime(1_000_000);
        let mut seq = 0;
        let mut play = |c: &mut Correlator, now: SimTime, s: Similar, message: &str| {
            let r = c.correlate(now, s, hash(message));
            if !r.skip {
                let written = if r.combined {
                    hash(&format!("{COMBINED_PREFIX}{message}"))
                } else {
                    hash(message)
                };
                seq += 1;
                c.written(s, &r, written, r.update.unwrap_or(seq));
            }
            r
        };
        for (s, message) in &previous {
            play(&mut c, now, *s, message);
            now = now + step;
        }
        let r = play(&mut c, now, similar(new.reason), new.message);
        if r.skip {
            Want::Skip
        } else {
            Want::Event {
                count: r.count,
                combined: r.combined,
            }
        }
    }

    fn event(count: u32) -> Want {
        Want::Event {
            count,
            combined: false,
        }
    }

    fn aggregate(count: u32) -> Want {
        Want::Event {
            count,
            combined: true,
        }
    }

    #[test]
    fn create_a_single_event() {
        assert_eq!(check(vec![], FIRST, 5), event(1));
    }

    #[test]
    fn the_same_event_should_just_count() {
        assert_eq!(check(make_events(1, DUPLICATE), DUPLICATE, 5), event(2));
    }

    #[test]
    fn the_same_event_should_just_count_even_if_more_than_aggregate() {
        // A larger interval induces aggregation but not spam.
        assert_eq!(
            check(make_events(AGGREGATE_MAX_EVENTS, DUPLICATE), DUPLICATE, 30),
            event(AGGREGATE_MAX_EVENTS as u32 + 1)
        );
    }

    #[test]
    fn the_same_event_is_spam_if_happens_too_frequently() {
        assert_eq!(
            check(
                make_events(SPAM_BURST as usize + 1, DUPLICATE),
                DUPLICATE,
                1
            ),
            Want::Skip
        );
    }

    #[test]
    fn create_many_unique_events() {
        assert_eq!(check(make_unique_events(30), UNIQUE, 5), event(1));
    }

    #[test]
    fn similar_events_should_aggregate_event() {
        assert_eq!(
            check(
                make_similar_events(AGGREGATE_MAX_EVENTS - 1, SIMILAR),
                SIMILAR,
                5
            ),
            aggregate(1)
        );
    }

    #[test]
    fn similar_events_many_times_should_count_the_aggregate() {
        assert_eq!(
            check(
                make_similar_events(AGGREGATE_MAX_EVENTS, SIMILAR),
                SIMILAR,
                5
            ),
            aggregate(2)
        );
    }

    // "events-from-different-containers-do-not-aggregate" compares two events that differ
    // only in `involvedObject.fieldPath`; kubesim's events have none, so it has no case here.

    #[test]
    fn similar_events_whose_interval_is_greater_than_aggregate_interval_do_not_aggregate() {
        assert_eq!(
            check(
                make_similar_events(AGGREGATE_MAX_EVENTS - 1, SIMILAR),
                SIMILAR,
                AGGREGATE_INTERVAL.millis() / 1000
            ),
            event(1)
        );
    }

    #[test]
    fn spam_filter_keys_on_source_and_object_not_reason() {
        // TestEventSpamFilter, "event should be reported as spam if object reference is the
        // same for default spam filter": burst 1, one second apart.
        let mut c = Correlator::with_burst(1);
        let original = c.correlate(SimTime(0), similar("original"), hash("i am first"));
        assert!(!original.skip);
        c.written(similar("original"), &original, hash("i am first"), 1);
        let different_reason = c.correlate(SimTime(1_000), similar("duplicate"), hash("me again"));
        assert!(different_reason.skip);
    }

    #[test]
    fn aggregate_keys_vary_only_by_message() {
        // TestEventAggregatorByReasonFunc: same object and reason with two messages are one
        // group (the second does not start a new count); another reason is another group.
        let mut c = Correlator::default();
        for (i, m) in ["it was fun", "it was awful"].iter().enumerate() {
            let r = c.correlate(SimTime(i as u64), similar("end-of-world"), hash(m));
            assert_eq!(r.count, 1);
        }
        let group = c
            .aggregate
            .peek_mut(&similar("end-of-world"))
            .map(|g| g.messages.len());
        assert_eq!(group, Some(2));
        assert!(c.aggregate.peek_mut(&similar("nevermind")).is_none());
    }

    #[test]
    fn the_combined_message_has_the_prefix() {
        // TestEventAggregatorByReasonMessageFunc.
        assert_eq!(COMBINED_PREFIX, "(combined from similar events): ");
    }

    #[test]
    fn a_dropped_event_still_counts_in_the_next_one_written() {
        // The filter runs after the logger: 26 identical events at once write 25 (counts 1 to
        // 25); the 26th is dropped, and the one that passes five minutes later has count 27.
        let mut c = Correlator::default();
        let s = similar("BackOff");
        let mut counts = Vec::new();
        for i in 0..26 {
            let r = c.correlate(SimTime(i), s, hash("m"));
            if !r.skip {
                c.written(s, &r, hash("m"), 1);
                counts.push(r.count);
            }
        }
        assert_eq!(counts, (1..=25).collect::<Vec<_>>());
        let later = c.correlate(SimTime(25 + 300_000), s, hash("m"));
        assert_eq!(
            (later.skip, later.count, later.update),
            (false, 27, Some(1))
        );
    }

    #[test]
    fn the_bucket_refills_one_event_per_five_minutes() {
        let mut b = Bucket::full(2, SimTime(0));
        assert!(b.try_accept(SimTime(0), 2));
        assert!(b.try_accept(SimTime(0), 2));
        assert!(!b.try_accept(SimTime(299_999), 2));
        assert!(b.try_accept(SimTime(300_000), 2));
        assert!(!b.try_accept(SimTime(300_000), 2));
        // Ten minutes idle bank two tokens, not more than the burst.
        assert!(b.try_accept(SimTime(1_500_000), 2));
        assert!(b.try_accept(SimTime(1_500_000), 2));
        assert!(!b.try_accept(SimTime(1_500_000), 2));
    }

    #[test]
    fn the_lru_drops_the_least_recently_used_key() {
        let mut lru: Lru<u64, u64> = Lru::default();
        for k in 0..LRU_ENTRIES as u64 {
            lru.add(k, k);
        }
        assert!(lru.get(&0).is_some()); // 0 is now the most recent; 1 the least.
        lru.add(LRU_ENTRIES as u64, 0);
        assert!(lru.get(&1).is_none());
        assert!(lru.get(&0).is_some());
        assert_eq!(lru.entries.len(), LRU_ENTRIES);
    }

    #[test]
    fn forgetting_an_object_drops_only_its_entries() {
        let mut c = Correlator::default();
        let other = Similar {
            object: POD + 1,
            ..similar("Started")
        };
        for s in [similar("Started"), similar("Pulled"), other] {
            let r = c.correlate(SimTime(0), s, hash("m"));
            c.written(s, &r, hash("m"), 1);
        }
        c.forget(POD);
        assert_eq!(c.logger.entries.len(), 1);
        assert_eq!(c.aggregate.entries.len(), 1);
        assert_eq!(c.spam.entries.len(), 1);
        assert_eq!(c.logger.order.len(), 1);
        assert_eq!(c.correlate(SimTime(1), other, hash("m")).count, 2);
    }
}
