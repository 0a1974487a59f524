//! The recorders' event correlators: what a component's `EventRecorder` does to an event
//! before it reaches the API (spam filter, aggregation of similar events, de-duplication of
//! identical ones).
//! Port of client-go `tools/record/events_cache.go` (`EventCorrelator`, `EventAggregator`,
//! `eventLogger`, `EventSourceObjectSpamFilter`), with its tests (`events_cache_test.go`).
//!
//! Every component that records core/v1 Events has its own broadcaster and correlator: the
//! deployment and ReplicaSet controllers, each node's kubelet (its host is part of every key),
//! the node lifecycle controller and so on. The caller numbers its recorders (a
//! [`RecorderId`] stands for the source and host that every Go key starts with) and keeps
//! one [`Correlators`] for all of them.
//!
//! The keys are small: the object's id stands for its kind, namespace, name, UID and API
//! version, and a message is a 64-bit FNV-1a hash of its text. kubesim's events carry no
//! `fieldPath`, so the Go event key's field path is always empty.
//!
//! The clock is the event's virtual timestamp (client-go reads the recorder's clock when the
//! event passes through, which is the same instant).
//!
//! # Storage: one record per (recorder, object), and lazy LRUs
//!
//! client-go keeps three LRU caches of 4,096 keys per recorder: the spam filter's (one key
//! per object), the aggregator's (one per object, type and reason) and the logger's (one per
//! object, type, reason and message, or the group's combined event). A kubelet's keys about
//! one pod are about ten. Here every key of one recorder about one object lives in one
//! [`Record`], found by one hash lookup of (recorder, object): the spam bucket, the groups
//! and the observations, each stamped with when its key was last used. The caches are still
//! three LRUs of [`LRU_ENTRIES`] keys each, key for key as in client-go: a recorder counts
//! the keys of each cache, and a hit or an add gives the key the recorder's next stamp
//! (one counter for its three caches: only the order within a cache matters). Nothing else
//! is kept while a cache has room. When one first holds more than its capacity, its keys are
//! put in a queue by stamp (the records of the recorder are gathered once and sorted by
//! their unique stamps, so the hash map's order does not matter), and from then on every
//! use of a key of that cache appends (object, stamp) to it; the least recently used key is
//! the first entry of the queue whose stamp is still its key's (the others were used again
//! later, or dropped). This evicts exactly the key that client-go's list evicts, so the
//! outcome is the same whether or not a cache overflows (a test plays random events through
//! this and a copy of the port's first version, a `BTreeMap` per cache and one for its
//! order, with small capacities, and compares every result).

use indexmap::IndexMap;
use std::collections::VecDeque;
use std::hash::{BuildHasherDefault, Hasher};

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

// A group holds its first message inline and the others behind a pointer; a new group has
// one message and is not combined.
const _: () = assert!(AGGREGATE_MAX_EVENTS >= 2);

/// A recorder (a component, and for a kubelet its host), numbered by the caller.
pub(crate) type RecorderId = u32;

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

/// The outcome of [`Correlators::correlate`] (`EventCorrelateResult`).
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
    /// The reason's number (for [`Correlators::written`]).
    reason: Reason,
}

/// A reason's number among those the correlators have seen.
type Reason = u16;

/// No event written yet under a logger key.
const NO_SEQ: u64 = u64::MAX;

/// The three caches of a recorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cache {
    /// The spam filter's: one key per object.
    Spam = 0,
    /// The aggregator's: one key per object, type and reason.
    Aggregate = 1,
    /// The logger's: one key per object, type, reason and message (or combined event).
    Logger = 2,
}

/// Every recorder's correlator.
#[derive(Debug)]
pub(crate) struct Correlators {
    burst: u32,
    /// Keys in each cache (`maxLruCacheEntries`; smaller in tests).
    capacity: usize,
    /// The LRU bookkeeping of each recorder, by its id.
    recorders: Vec<Lrus>,
    /// Everything a recorder's caches hold about an object.
    records: IndexMap<(RecorderId, ObjId), Record, Mixed>,
    /// Reasons by their text (a few dozen).
    reasons: IndexMap<&'static str, Reason, Mixed>,
}

impl Default for Correlators {
    fn default() -> Self {
        Correlators::with_burst(SPAM_BURST)
    }
}

/// One recorder's three LRUs.
#[derive(Debug, Default)]
struct Lrus {
    /// The last stamp given to a key of this recorder (the first is 1).
    stamp: u64,
    caches: [Lru; 3],
}

impl Lrus {
    fn next(&mut self) -> u64 {
        self.stamp += 1;
        self.stamp
    }
}

/// One cache's count of keys, and once it has overflowed, its keys in the order of use.
#[derive(Debug, Default)]
struct Lru {
    len: usize,
    /// (object, stamp) of each use of a key since the queue was made, oldest first; an entry
    /// whose key has a later stamp, or is gone, is stale.
    queue: Option<VecDeque<(ObjId, u64)>>,
}

impl Lru {
    /// Notes a use of a key about `object` (its new stamp).
    fn touch(&mut self, object: ObjId, stamp: u64) {
        if let Some(q) = &mut self.queue {
            q.push_back((object, stamp));
        }
    }
}

/// What one recorder's caches hold about one object.
#[derive(Debug, Default)]
struct Record {
    /// The spam filter's bucket (valid when `spam_stamp` is not 0).
    spam: Bucket,
    /// The stamp of the spam key; 0 when the cache has none for the object.
    spam_stamp: u64,
    /// The aggregator's keys: one per type and reason.
    groups: Vec<Group>,
    /// The logger's keys.
    seen: Vec<Seen>,
}

impl Record {
    fn is_empty(&self) -> bool {
        self.spam_stamp == 0 && self.groups.is_empty() && self.seen.is_empty()
    }

    /// Whether the key of `cache` last used at `stamp` is still held.
    fn holds(&self, cache: Cache, stamp: u64) -> bool {
        match cache {
            Cache::Spam => self.spam_stamp == stamp,
            Cache::Aggregate => self.groups.iter().any(|g| g.stamp == stamp),
            Cache::Logger => self.seen.iter().any(|o| o.stamp == stamp),
        }
    }

    /// Drops the key of `cache` last used at `stamp`; whether there was one.
    fn evict(&mut self, cache: Cache, stamp: u64) -> bool {
        match cache {
            Cache::Spam if self.spam_stamp == stamp => {
                self.spam_stamp = 0;
                true
            }
            Cache::Spam => false,
            Cache::Aggregate => match self.groups.iter().position(|g| g.stamp == stamp) {
                Some(i) => {
                    self.groups.swap_remove(i);
                    true
                }
                None => false,
            },
            Cache::Logger => match self.seen.iter().position(|o| o.stamp == stamp) {
                Some(i) => {
                    self.seen.swap_remove(i);
                    true
                }
                None => false,
            },
        }
    }

    /// The stamps of the keys of `cache`.
    fn stamps(&self, cache: Cache) -> impl Iterator<Item = u64> + '_ {
        let spam = (cache == Cache::Spam && self.spam_stamp != 0).then_some(self.spam_stamp);
        let groups = self
            .groups
            .iter()
            .filter(move |_| cache == Cache::Aggregate);
        let seen = self.seen.iter().filter(move |_| cache == Cache::Logger);
        spam.into_iter()
            .chain(groups.map(|g| g.stamp))
            .chain(seen.map(|o| o.stamp))
    }
}

/// A group of similar events (`aggregateRecord`), the aggregator's key (type, reason) with
/// its value.
#[derive(Debug)]
struct Group {
    /// The group's last event.
    last: SimTime,
    /// When the key was last used.
    stamp: u64,
    /// The first of the distinct messages seen (`localKeys`), hashed.
    first: u64,
    /// The others, fewer than [`AGGREGATE_MAX_EVENTS`] with the first. Boxed: most groups
    /// never see a second message, and the box keeps the group 16 bytes smaller than an
    /// inline `Vec` (a group per pod and reason in every kubelet's correlator).
    #[allow(clippy::box_collection)]
    more: Option<Box<Vec<u64>>>,
    reason: Reason,
    warning: bool,
}

impl Group {
    fn new(reason: Reason, warning: bool, message: u64, now: SimTime, stamp: u64) -> Group {
        Group {
            last: now,
            stamp,
            first: message,
            more: None,
            reason,
            warning,
        }
    }

    /// Adds a message to the group's set; whether the event is combined (the set reached
    /// [`AGGREGATE_MAX_EVENTS`]). `localKeys.PopAny()` keeps the set below the maximum by
    /// dropping any one key (Go map order: random); kubesim drops the one just added, so the
    /// first nine messages keep their own events for as long as the group lives.
    fn add(&mut self, message: u64) -> bool {
        if self.first == message || self.more.as_ref().is_some_and(|m| m.contains(&message)) {
            return false;
        }
        if self.len() + 1 >= AGGREGATE_MAX_EVENTS {
            return true;
        }
        self.more.get_or_insert_default().push(message);
        false
    }

    /// How many distinct messages the group has seen.
    fn len(&self) -> usize {
        1 + self.more.as_ref().map_or(0, |m| m.len())
    }
}

/// A logger key (type, reason, and message or the group's combined event) with the last
/// write under it (`eventLog`).
#[derive(Debug)]
struct Seen {
    first: SimTime,
    /// The stored event (client-go keeps its name); [`NO_SEQ`] until one was written.
    seq: u64,
    /// When the key was last used.
    stamp: u64,
    /// The message's hash (0 for the combined event).
    message: u64,
    count: u32,
    reason: Reason,
    warning: bool,
    /// The group's combined event (the aggregate key), not an event's own message
    /// (`getEventKey`).
    combined: bool,
}

impl Seen {
    fn is(&self, reason: Reason, warning: bool, combined: bool, message: u64) -> bool {
        self.message == message
            && self.reason == reason
            && self.warning == warning
            && self.combined == combined
    }
}

impl Correlators {
    /// Correlators whose spam filters allow `burst` events at once.
    pub(crate) fn with_burst(burst: u32) -> Correlators {
        Correlators {
            burst,
            capacity: LRU_ENTRIES,
            recorders: Vec::new(),
            records: IndexMap::default(),
            reasons: IndexMap::default(),
        }
    }

    /// The number of a reason.
    fn reason(&mut self, reason: &'static str) -> Reason {
        let next = self.reasons.len();
        *self
            .reasons
            .entry(reason)
            .or_insert_with(|| Reason::try_from(next).expect("fewer than 65,536 distinct reasons"))
    }

    /// `EventCorrelate` for `recorder`: aggregates the event with similar ones, counts it
    /// against the identical one last written, then filters spam. The order is client-go's:
    /// the filter runs last, so a dropped event still counts (the next one written carries
    /// the count of every occurrence) and still refreshes its group.
    ///
    /// Each cache is looked up and then added to, as client-go does (`Get`, then `Add` of
    /// the same key: one use); a cache that then holds more than its capacity drops its least
    /// recently used key. The three caches are independent, so their drops are made at the
    /// end.
    pub(crate) fn correlate(
        &mut self,
        recorder: RecorderId,
        now: SimTime,
        similar: Similar,
        message: u64,
    ) -> Correlated {
        let reason = self.reason(similar.reason);
        let r = recorder as usize;
        if self.recorders.len() <= r {
            self.recorders.resize_with(r + 1, Lrus::default);
        }
        let lrus = &mut self.recorders[r];
        let object = similar.object;
        let warning = similar.warning;
        let record = self.records.entry((recorder, object)).or_default();

        // EventAggregator.EventAggregate: the tenth distinct message within ten minutes of
        // the group's last event, and every new message after it, is combined.
        let stamp = lrus.next();
        let combined = match record
            .groups
            .iter_mut()
            .find(|g| g.reason == reason && g.warning == warning)
        {
            Some(g) => {
                let combined = if now.since(g.last) <= AGGREGATE_INTERVAL {
                    g.add(message)
                } else {
                    g.first = message;
                    g.more = None;
                    false
                };
                g.last = now;
                g.stamp = stamp;
                combined
            }
            None => {
                record
                    .groups
                    .push(Group::new(reason, warning, message, now, stamp));
                lrus.caches[Cache::Aggregate as usize].len += 1;
                false
            }
        };
        lrus.caches[Cache::Aggregate as usize].touch(object, stamp);

        // eventObserve: a cache hit is a patch of the event last written under this key.
        let key = if combined { 0 } else { message };
        let stamp = lrus.next();
        let (count, first, seq) = match record
            .seen
            .iter_mut()
            .find(|o| o.is(reason, warning, combined, key))
        {
            Some(o) => {
                o.count = o.count.saturating_add(1);
                o.stamp = stamp;
                (o.count, o.first, o.seq)
            }
            None => {
                record.seen.push(Seen {
                    first: now,
                    seq: NO_SEQ,
                    stamp,
                    message: key,
                    count: 1,
                    reason,
                    warning,
                    combined,
                });
                lrus.caches[Cache::Logger as usize].len += 1;
                (1, now, NO_SEQ)
            }
        };
        lrus.caches[Cache::Logger as usize].touch(object, stamp);

        // EventSourceObjectSpamFilter.Filter: whether the object's token bucket (per
        // recorder) is empty.
        let stamp = lrus.next();
        if record.spam_stamp == 0 {
            record.spam = Bucket::full(self.burst, now);
            lrus.caches[Cache::Spam as usize].len += 1;
        }
        let accepted = record.spam.try_accept(now, self.burst);
        record.spam_stamp = stamp;
        lrus.caches[Cache::Spam as usize].touch(object, stamp);

        for cache in [Cache::Aggregate, Cache::Logger, Cache::Spam] {
            self.tidy(recorder, cache);
        }
        Correlated {
            skip: !accepted,
            combined,
            count,
            first,
            update: (seq != NO_SEQ).then_some(seq),
            reason,
        }
    }

    /// `UpdateState` after the event of `c` was written as `seq` with the message whose hash
    /// is `written`: the logger remembers the server's copy under the written event's own key
    /// (for a combined event, its combined message, a key no later event computes; the
    /// aggregate key keeps pointing at it, as the name client-go's cache holds does).
    pub(crate) fn written(
        &mut self,
        recorder: RecorderId,
        similar: Similar,
        c: &Correlated,
        written: u64,
        seq: u64,
    ) {
        let Some(lrus) = self.recorders.get_mut(recorder as usize) else {
            return;
        };
        let (reason, warning, object) = (c.reason, similar.warning, similar.object);
        let record = self.records.entry((recorder, object)).or_default();
        if c.combined
            && let Some(o) = record
                .seen
                .iter_mut()
                .find(|o| o.is(reason, warning, true, 0))
        {
            // Peeked: its recency is untouched.
            o.seq = seq;
        }
        let stamp = lrus.next();
        match record
            .seen
            .iter_mut()
            .find(|o| o.is(reason, warning, false, written))
        {
            Some(o) => {
                o.count = c.count;
                o.first = c.first;
                o.seq = seq;
                o.stamp = stamp;
            }
            None => {
                record.seen.push(Seen {
                    first: c.first,
                    seq,
                    stamp,
                    message: written,
                    count: c.count,
                    reason,
                    warning,
                    combined: false,
                });
                lrus.caches[Cache::Logger as usize].len += 1;
            }
        }
        lrus.caches[Cache::Logger as usize].touch(object, stamp);
        self.tidy(recorder, Cache::Logger);
    }

    /// Forgets everything `recorder` remembers about an object that is gone for good. Its id
    /// is never used again, so no later event reads these keys; dropping them only saves
    /// memory (and moves the other keys' eviction from a full cache, which a kubelet's 4,096
    /// keys hardly reach).
    pub(crate) fn forget(&mut self, recorder: RecorderId, object: ObjId) {
        let Some(record) = self.records.swap_remove(&(recorder, object)) else {
            return;
        };
        let caches = &mut self.recorders[recorder as usize].caches;
        caches[Cache::Spam as usize].len -= usize::from(record.spam_stamp != 0);
        caches[Cache::Aggregate as usize].len -= record.groups.len();
        caches[Cache::Logger as usize].len -= record.seen.len();
    }

    /// Drops the least recently used key of a cache that holds more than its capacity
    /// (`Add` of a new key to a full cache), and keeps the cache's queue short.
    fn tidy(&mut self, recorder: RecorderId, cache: Cache) {
        let Correlators {
            capacity,
            recorders,
            records,
            ..
        } = self;
        let lru = &mut recorders[recorder as usize].caches[cache as usize];
        if lru.len > *capacity {
            let queue = lru.queue.get_or_insert_with(|| {
                // The first overflow: every key of the cache, least recently used first (the
                // stamps are unique, so the order of the records does not matter).
                let mut keys: Vec<(u64, ObjId)> = records
                    .iter()
                    .filter(|((r, _), _)| *r == recorder)
                    .flat_map(|((_, object), record)| {
                        record.stamps(cache).map(move |stamp| (stamp, *object))
                    })
                    .collect();
                keys.sort_unstable();
                keys.into_iter()
                    .map(|(stamp, object)| (object, stamp))
                    .collect()
            });
            while lru.len > *capacity {
                let Some((object, stamp)) = queue.pop_front() else {
                    break;
                };
                if let Some(record) = records.get_mut(&(recorder, object))
                    && record.evict(cache, stamp)
                {
                    lru.len -= 1;
                    if record.is_empty() {
                        records.swap_remove(&(recorder, object));
                    }
                }
            }
        }
        // Stale entries (keys used again since, or dropped) go once they outnumber the keys,
        // so the queue is at most about twice the cache.
        if let Some(queue) = &mut lru.queue
            && queue.len() > 2 * lru.len + 64
        {
            queue.retain(|&(object, stamp)| {
                records
                    .get(&(recorder, object))
                    .is_some_and(|record| record.holds(cache, stamp))
            });
        }
    }
}

/// A token bucket (`flowcontrol.NewTokenBucketPassiveRateLimiterWithClock`, that is
/// `golang.org/x/time/rate.Limiter`) counted in milliseconds of refill: one token is
/// [`SPAM_REFILL`] worth, so the arithmetic is exact.
#[derive(Clone, Copy, Debug, Default)]
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

/// The hasher of the correlators' maps and the caller's recorder set: a multiply-and-rotate
/// mix of 64-bit words (FxHash's), no random key, so a run is the same everywhere. No map
/// hashed with it is iterated for output.
pub(crate) type Mixed = BuildHasherDefault<Mix>;

/// See [`Mixed`].
#[derive(Debug, Default)]
pub(crate) struct Mix(u64);

impl Mix {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    fn add(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
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
        let mut c = Correlators::default();
        let step = SimDuration::from_secs(3 * interval_secs);
        let mut now = SimTime(1_000_000);
        let mut seq = 0;
        let mut play = |c: &mut Correlators, now: SimTime, s: Similar, message: &str| {
            let r = c.correlate(0, now, s, hash(message));
            if !r.skip {
                let written = if r.combined {
                    hash(&format!("{COMBINED_PREFIX}{message}"))
                } else {
                    hash(message)
                };
                seq += 1;
                c.written(0, s, &r, written, r.update.unwrap_or(seq));
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
        let mut c = Correlators::with_burst(1);
        let original = c.correlate(0, SimTime(0), similar("original"), hash("i am first"));
        assert!(!original.skip);
        c.written(0, similar("original"), &original, hash("i am first"), 1);
        let different_reason =
            c.correlate(0, SimTime(1_000), similar("duplicate"), hash("me again"));
        assert!(different_reason.skip);
    }

    #[test]
    fn aggregate_keys_vary_only_by_message() {
        // TestEventAggregatorByReasonFunc: same object and reason with two messages are one
        // group (the second does not start a new count); another reason is another group.
        let mut c = Correlators::default();
        for (i, m) in ["it was fun", "it was awful"].iter().enumerate() {
            let r = c.correlate(0, SimTime(i as u64), similar("end-of-world"), hash(m));
            assert_eq!(r.count, 1);
        }
        let end_of_world = c.reason("end-of-world");
        let nevermind = c.reason("nevermind");
        let groups = &c.records[&(0, POD)].groups;
        let group = groups.iter().find(|g| g.reason == end_of_world);
        assert_eq!(group.map(Group::len), Some(2));
        assert!(groups.iter().all(|g| g.reason != nevermind));
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
        let mut c = Correlators::default();
        let s = similar("BackOff");
        let mut counts = Vec::new();
        for i in 0..26 {
            let r = c.correlate(0, SimTime(i), s, hash("m"));
            if !r.skip {
                c.written(0, s, &r, hash("m"), 1);
                counts.push(r.count);
            }
        }
        assert_eq!(counts, (1..=25).collect::<Vec<_>>());
        let later = c.correlate(0, SimTime(25 + 300_000), s, hash("m"));
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

    /// Keys in one cache of recorder 0.
    fn len(c: &Correlators, cache: Cache) -> usize {
        c.recorders[0].caches[cache as usize].len
    }

    #[test]
    fn the_lru_drops_the_least_recently_used_key() {
        // One event about each of 4,096 objects fills the three caches; object 0 used again
        // is the most recent, so the next object's keys push out object 1's.
        let mut c = Correlators::default();
        let about = |object: ObjId| Similar {
            object,
            ..similar("Started")
        };
        for object in 0..LRU_ENTRIES as ObjId {
            c.correlate(0, SimTime(0), about(object), hash("m"));
        }
        assert_eq!(c.correlate(0, SimTime(1), about(0), hash("m")).count, 2);
        c.correlate(0, SimTime(2), about(LRU_ENTRIES as ObjId), hash("m"));
        for cache in [Cache::Spam, Cache::Aggregate, Cache::Logger] {
            assert_eq!(len(&c, cache), LRU_ENTRIES);
        }
        assert!(!c.records.contains_key(&(0, 1)));
        assert_eq!(c.records.len(), LRU_ENTRIES);
        assert_eq!(c.correlate(0, SimTime(3), about(0), hash("m")).count, 3);
        assert_eq!(c.correlate(0, SimTime(4), about(1), hash("m")).count, 1);
    }

    #[test]
    fn forgetting_an_object_drops_only_its_entries() {
        let mut c = Correlators::default();
        let other = Similar {
            object: POD + 1,
            ..similar("Started")
        };
        for s in [similar("Started"), similar("Pulled"), other] {
            let r = c.correlate(0, SimTime(0), s, hash("m"));
            c.written(0, s, &r, hash("m"), 1);
        }
        // Another recorder's keys about the object stay.
        let r = c.correlate(1, SimTime(0), similar("Killing"), hash("m"));
        c.written(1, similar("Killing"), &r, hash("m"), 2);
        c.forget(0, POD);
        assert_eq!(len(&c, Cache::Logger), 1);
        assert_eq!(len(&c, Cache::Aggregate), 1);
        assert_eq!(len(&c, Cache::Spam), 1);
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.correlate(0, SimTime(1), other, hash("m")).count, 2);
        assert_eq!(
            c.correlate(1, SimTime(1), similar("Killing"), hash("m"))
                .count,
            2
        );
    }

    /// A small deterministic generator for the comparison below.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Plays one random stream through [`Correlators`] and, one [`reference::Correlator`]
    /// per recorder, the port's first version (a `BTreeMap` per cache and one for its
    /// order), with caches of `capacity` keys, writing what is not skipped as `EventLog`
    /// does, and forgetting objects now and then; every result and every cache's size must
    /// be the same.
    fn compare(seed: u64, capacity: usize, steps: usize, objects: u64) {
        const REASONS: [&str; 4] = ["Pulling", "Created", "BackOff", "SuccessfulCreate"];
        let mut rng = Rng(seed);
        let mut new = Correlators::with_burst(5);
        new.capacity = capacity;
        let mut old: Vec<reference::Correlator> = (0..3)
            .map(|_| reference::Correlator::new(5, capacity))
            .collect();
        let mut now = SimTime(0);
        let mut seq = 0;
        for step in 0..steps {
            let recorder = rng.below(3) as RecorderId;
            let object = rng.below(objects);
            if rng.below(40) == 0 {
                new.forget(recorder, object);
                old[recorder as usize].forget(object);
                continue;
            }
            now = now
                + SimDuration(match rng.below(10) {
                    0 => 700_000,
                    1..=3 => rng.below(400_000),
                    _ => 0,
                });
            let s = Similar {
                object,
                warning: rng.below(4) == 0,
                reason: REASONS[rng.below(4) as usize],
            };
            // Few messages, so that groups combine and keys recur.
            let message = rng.below(14);
            let a = new.correlate(recorder, now, s, message);
            let b = old[recorder as usize].correlate(now, s, message);
            let fields = |c: &Correlated| (c.skip, c.combined, c.count, c.first, c.update);
            assert_eq!(fields(&a), fields(&b), "step {step}");
            if !a.skip {
                // A combined event's message is new now and then, and sometimes one a
                // later event has as its own.
                let written = if a.combined {
                    100 + rng.below(20)
                } else {
                    message
                };
                seq += 1;
                // The event to update is sometimes gone (expired).
                let at = a.update.filter(|_| rng.below(8) != 0).unwrap_or(seq);
                new.written(recorder, s, &a, written, at);
                old[recorder as usize].written(s, &b, written, at);
            }
            for (r, o) in old.iter().enumerate() {
                let caches = new.recorders.get(r).map(|l| &l.caches);
                let lens = caches.map_or([0; 3], |c| [c[0].len, c[1].len, c[2].len]);
                assert_eq!(lens, o.lens(), "step {step}, recorder {r}");
            }
        }
    }

    #[test]
    fn the_lazy_lrus_evict_what_the_first_version_evicted() {
        for (seed, capacity, objects) in [
            (1, 1, 5),
            (2, 2, 5),
            (3, 3, 8),
            (4, 8, 6),
            (5, 16, 30),
            (6, 64, 40),
            (7, 200, 300),
            (8, LRU_ENTRIES, 3000),
        ] {
            compare(
                u64::wrapping_mul(seed, 0x9e37_79b9_7f4a_7c15),
                capacity,
                40_000,
                objects,
            );
        }
    }

    mod reference {
        //! The port's first version, kept to check the one above: three caches per
        //! recorder, each a `BTreeMap` of keys and one of their order.

        use std::collections::BTreeMap;
        use std::collections::btree_map::Entry;

        use super::super::{
            AGGREGATE_INTERVAL, AGGREGATE_MAX_EVENTS, Bucket, Correlated, ObjId, SimTime, Similar,
        };

        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        enum Words {
            Message(u64),
            Combined,
        }

        pub(super) struct Correlator {
            burst: u32,
            spam: Lru<ObjId, Bucket>,
            aggregate: Lru<Similar, Group>,
            logger: Lru<(Similar, Words), Observation>,
        }

        impl Correlator {
            pub(super) fn new(burst: u32, capacity: usize) -> Correlator {
                Correlator {
                    burst,
                    spam: Lru::new(capacity),
                    aggregate: Lru::new(capacity),
                    logger: Lru::new(capacity),
                }
            }

            /// Keys in the spam, aggregate and logger caches.
            pub(super) fn lens(&self) -> [usize; 3] {
                [
                    self.spam.entries.len(),
                    self.aggregate.entries.len(),
                    self.logger.entries.len(),
                ]
            }

            pub(super) fn correlate(
                &mut self,
                now: SimTime,
                similar: Similar,
                message: u64,
            ) -> Correlated {
                let combined = self.aggregate_event(now, similar, message);
                let key = (
                    similar,
                    if combined {
                        Words::Combined
                    } else {
                        Words::Message(message)
                    },
                );
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
                    reason: 0,
                }
            }

            pub(super) fn written(
                &mut self,
                similar: Similar,
                c: &Correlated,
                written: u64,
                seq: u64,
            ) {
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

            pub(super) fn forget(&mut self, object: ObjId) {
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

            fn aggregate_event(&mut self, now: SimTime, similar: Similar, message: u64) -> bool {
                let mut messages = match self.aggregate.get(&similar) {
                    Some(g) if now.since(g.last) <= AGGREGATE_INTERVAL => {
                        std::mem::take(&mut g.messages)
                    }
                    _ => Vec::new(),
                };
                if !messages.contains(&message) {
                    messages.push(message);
                }
                let combined = messages.len() >= AGGREGATE_MAX_EVENTS;
                if combined {
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

            fn spam_filter(&mut self, now: SimTime, object: ObjId) -> bool {
                let full = Bucket::full(self.burst, now);
                let mut bucket = self.spam.get(&object).map_or(full, |b| *b);
                let accepted = bucket.try_accept(now, self.burst);
                self.spam.add(object, bucket);
                !accepted
            }
        }

        struct Group {
            messages: Vec<u64>,
            last: SimTime,
        }

        #[derive(Clone, Copy)]
        struct Observation {
            count: u32,
            first: SimTime,
            seq: Option<u64>,
        }

        struct Lru<K, V> {
            capacity: usize,
            entries: BTreeMap<K, (V, u64)>,
            order: BTreeMap<u64, K>,
            stamp: u64,
        }

        impl<K: Ord + Copy, V> Lru<K, V> {
            fn new(capacity: usize) -> Self {
                Lru {
                    capacity,
                    entries: BTreeMap::new(),
                    order: BTreeMap::new(),
                    stamp: 0,
                }
            }

            fn get(&mut self, key: &K) -> Option<&mut V> {
                let (value, stamp) = self.entries.get_mut(key)?;
                self.order.remove(stamp);
                self.stamp += 1;
                *stamp = self.stamp;
                self.order.insert(self.stamp, *key);
                Some(value)
            }

            fn peek_mut(&mut self, key: &K) -> Option<&mut V> {
                self.entries.get_mut(key).map(|(v, _)| v)
            }

            fn remove(&mut self, key: &K) {
                if let Some((_, stamp)) = self.entries.remove(key) {
                    self.order.remove(&stamp);
                }
            }

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
                if self.entries.len() > self.capacity
                    && let Some((_, oldest)) = self.order.pop_first()
                {
                    self.entries.remove(&oldest);
                }
            }
        }
    }
}
