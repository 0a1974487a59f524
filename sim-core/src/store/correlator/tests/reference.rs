//! The port's first version, kept to check `Correlators` (`../mod.rs`): three caches per
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

    pub(super) fn correlate(&mut self, now: SimTime, similar: Similar, message: u64) -> Correlated {
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

    pub(super) fn written(&mut self, similar: Similar, c: &Correlated, written: u64, seq: u64) {
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
            Some(g) if now.since(g.last) <= AGGREGATE_INTERVAL => std::mem::take(&mut g.messages),
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
