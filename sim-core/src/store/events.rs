//! Events as the API records them: aggregated like client-go's event correlator (same object,
//! reason and message within ten minutes → count + 1) and expired after one hour (the API
//! server's default `--event-ttl`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use super::{Kind, ObjId};
use crate::time::{SimDuration, SimTime};

/// How long events live.
pub const EVENT_TTL: SimDuration = SimDuration::from_secs(3600);
/// How many of an object's newest events are checked for folding.
const RECENT_PER_OBJECT: usize = 16;
/// Identical events closer than this are folded into one with a count.
const AGGREGATE_WINDOW: SimDuration = SimDuration::from_secs(600);

/// The object an event is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjRef {
    /// Its kind.
    pub kind: Kind,
    /// Its id (gives the UID).
    pub id: ObjId,
    /// Its name.
    pub name: Arc<str>,
    /// Its namespace ("" for cluster-scoped objects).
    pub namespace: Arc<str>,
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// Sequence number, unique per run (gives the event's name).
    pub seq: u64,
    /// The object it is about.
    pub object: ObjRef,
    /// `Warning` (true) or `Normal`.
    pub warning: bool,
    /// Machine-readable reason (`ScalingReplicaSet`, `BackOff`, ...).
    pub reason: &'static str,
    /// Human-readable message (interned: the many identical kubelet messages share one copy).
    pub message: Arc<str>,
    /// The component that reported it (`deployment-controller`, `kubelet`, ...).
    pub source: &'static str,
    /// The node, for kubelet events.
    pub host: Option<Arc<str>>,
    /// First occurrence.
    pub first: SimTime,
    /// Last occurrence.
    pub last: SimTime,
    /// Occurrences.
    pub count: u32,
    /// A standing series (a probe failing every period): `count` and `last` follow from
    /// `first`, the period and the end of the streak, computed when read.
    pub series: Option<Box<Series>>,
}

/// A run of identical events at a fixed period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// Period.
    pub period: SimDuration,
    /// The last occurrence, once the streak has ended.
    pub until: Option<SimTime>,
}

impl EventRecord {
    /// (count, last occurrence) as seen at `now`; `None` if the event lies in the future.
    pub fn seen_at(&self, now: SimTime) -> Option<(u32, SimTime)> {
        if self.first > now {
            return None;
        }
        match self.series.as_deref() {
            None => Some((self.count, self.last)),
            Some(s) => {
                let end = s.until.map_or(now, |u| u.min(now));
                if end < self.first {
                    return None;
                }
                let p = s.period.millis().max(1);
                let n = (end.millis() - self.first.millis()) / p;
                Some((n as u32 + 1, SimTime(self.first.millis() + n * p)))
            }
        }
    }
}

/// The event store.
#[derive(Debug, Default)]
pub struct EventLog {
    events: VecDeque<EventRecord>,
    first_seq: u64,
    next_seq: u64,
    /// The newest event per object, reason and message (client-go's event key also holds
    /// the message, so interleaved `Failed` events with two messages each keep a count),
    /// indexed by object: the sequence numbers of the object's live events, newest last.
    latest: BTreeMap<ObjId, Vec<u64>>,
    /// Interned messages.
    messages: BTreeSet<Arc<str>>,
    /// Records since the message pool was last pruned.
    since_prune: usize,
}

/// An event to record.
#[derive(Debug)]
pub struct NewEvent {
    /// Subject.
    pub object: ObjRef,
    /// Warning or Normal.
    pub warning: bool,
    /// Reason.
    pub reason: &'static str,
    /// Message.
    pub message: String,
    /// Reporting component.
    pub source: &'static str,
    /// Node, for kubelet events.
    pub host: Option<Arc<str>>,
}

impl EventLog {
    /// Records an event at `now`, folding it into an identical recent one.
    pub fn record(&mut self, now: SimTime, ev: NewEvent) {
        self.expire(now);
        let first_seq = self.first_seq;
        // Like client-go's correlator, only recent events of the object are candidates (its
        // cache is an LRU); a Deployment's hundreds of scaling events are not all compared.
        let found = self.latest.get(&ev.object.id).and_then(|seqs| {
            seqs.iter()
                .rev()
                .take(RECENT_PER_OBJECT)
                .copied()
                .find(|&seq| {
                    self.events
                        .get((seq - first_seq) as usize)
                        .is_some_and(|e| {
                            e.reason == ev.reason && *e.message == *ev.message && e.series.is_none()
                        })
                })
        });
        if let Some(seq) = found
            && let Some(existing) = self.get_mut(seq)
            && now.since(existing.last) <= AGGREGATE_WINDOW
        {
            existing.count += 1;
            existing.last = now;
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.latest.entry(ev.object.id).or_default().push(seq);
        let message = self.intern(ev.message);
        self.events.push_back(EventRecord {
            seq,
            object: ev.object,
            warning: ev.warning,
            reason: ev.reason,
            message,
            source: ev.source,
            host: ev.host,
            first: now,
            last: now,
            count: 1,
            series: None,
        });
    }

    fn intern(&mut self, message: String) -> Arc<str> {
        if let Some(m) = self.messages.get(message.as_str()) {
            return m.clone();
        }
        let m: Arc<str> = message.into();
        self.messages.insert(m.clone());
        self.since_prune += 1;
        if self.since_prune > 4096 && self.since_prune > self.messages.len() {
            // Forget messages no stored event uses any more.
            self.messages.retain(|m| Arc::strong_count(m) > 1);
            self.since_prune = 0;
        }
        m
    }

    /// Records a standing series starting at `first` (possibly later than now); returns its
    /// sequence number so the streak can be ended.
    pub fn record_series(
        &mut self,
        first: SimTime,
        period: SimDuration,
        until: Option<SimTime>,
        ev: NewEvent,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let message = self.intern(ev.message);
        self.events.push_back(EventRecord {
            seq,
            object: ev.object,
            warning: ev.warning,
            reason: ev.reason,
            message,
            source: ev.source,
            host: ev.host,
            first,
            last: first,
            count: 1,
            series: Some(Box::new(Series { period, until })),
        });
        seq
    }

    /// Ends a series at its last occurrence at or before `at` (removing it if none happened).
    pub fn end_series(&mut self, seq: u64, at: SimTime) {
        let Some(e) = self.get_mut(seq) else { return };
        let Some(s) = e.series.as_mut() else { return };
        let end = s.until.map_or(at, |u| u.min(at));
        s.until = Some(end);
        if end < e.first {
            // Nothing happened yet: keep it invisible forever.
            s.until = Some(SimTime(0));
            e.first = SimTime(u64::MAX);
        }
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut EventRecord> {
        let i = seq.checked_sub(self.first_seq)?;
        self.events.get_mut(i as usize)
    }

    fn expire(&mut self, now: SimTime) {
        while let Some(front) = self.events.front() {
            // A series ended before its first occurrence never happened: drop it.
            let never = front.first == SimTime(u64::MAX);
            let last = match front.series.as_deref() {
                None => front.last,
                Some(s) if s.until.is_some() => {
                    front.seen_at(now).map_or(SimTime(u64::MAX), |(_, l)| l)
                }
                Some(_) => SimTime(u64::MAX),
            };
            if !never && (last == SimTime(u64::MAX) || now.since(last) <= EVENT_TTL) {
                break;
            }
            let (id, seq) = (front.object.id, front.seq);
            if let Some(seqs) = self.latest.get_mut(&id) {
                seqs.retain(|s| *s != seq);
                if seqs.is_empty() {
                    self.latest.remove(&id);
                }
            }
            self.events.pop_front();
            self.first_seq += 1;
        }
    }

    /// Every live event, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &EventRecord> {
        self.events.iter()
    }

    /// Events about one object, oldest first.
    pub fn for_object(&self, id: ObjId) -> Vec<&EventRecord> {
        self.events.iter().filter(|e| e.object.id == id).collect()
    }

    /// Number of stored events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(reason: &'static str, msg: &str) -> NewEvent {
        NewEvent {
            object: ObjRef {
                kind: Kind::Pod,
                id: 7,
                name: "p".into(),
                namespace: "default".into(),
            },
            warning: true,
            reason,
            message: msg.into(),
            source: "kubelet",
            host: None,
        }
    }

    #[test]
    fn identical_events_fold_into_a_count() {
        let mut log = EventLog::default();
        log.record(
            SimTime(0),
            ev("BackOff", "Back-off restarting failed container"),
        );
        log.record(
            SimTime(10_000),
            ev("BackOff", "Back-off restarting failed container"),
        );
        log.record(SimTime(20_000), ev("Unhealthy", "Readiness probe failed"));
        let all: Vec<_> = log.iter().collect();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].count, all[0].first, all[0].last),
            (2, SimTime(0), SimTime(10_000))
        );
    }

    #[test]
    fn interleaved_messages_under_one_reason_each_keep_their_count() {
        // An image pull failing twice records Failed/"Failed to pull..." and
        // Failed/"Error: ErrImagePull" in turn; each folds into its own line.
        let mut log = EventLog::default();
        for t in [0, 10_000] {
            log.record(SimTime(t), ev("Failed", "Failed to pull image"));
            log.record(SimTime(t + 1), ev("Failed", "Error: ErrImagePull"));
        }
        let counts: Vec<_> = log.iter().map(|e| (&*e.message, e.count)).collect();
        assert_eq!(
            counts,
            [("Failed to pull image", 2), ("Error: ErrImagePull", 2)]
        );
    }

    #[test]
    fn events_expire_after_an_hour() {
        let mut log = EventLog::default();
        log.record(SimTime(0), ev("Started", "Started container api"));
        log.record(SimTime(3_601_000), ev("Killing", "Stopping container api"));
        assert_eq!(
            log.iter().map(|e| e.reason).collect::<Vec<_>>(),
            ["Killing"]
        );
    }

    #[test]
    fn a_series_that_never_happened_does_not_block_expiry() {
        let mut log = EventLog::default();
        let seq = log.record_series(
            SimTime(10_000),
            SimDuration::from_secs(5),
            None,
            ev("Unhealthy", "Readiness probe failed"),
        );
        log.end_series(seq, SimTime(1_000));
        log.record(SimTime(2_000), ev("Started", "Started container api"));
        log.record(SimTime(3_700_000), ev("Killing", "Stopping container api"));
        assert_eq!(
            log.iter().map(|e| e.reason).collect::<Vec<_>>(),
            ["Killing"]
        );
    }
}
