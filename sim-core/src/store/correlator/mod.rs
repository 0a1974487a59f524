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
mod tests;
