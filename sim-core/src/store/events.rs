//! Events as the API records them: aggregated like client-go's event correlator (same object,
//! reason and message within ten minutes → count + 1) and expired after one hour (the API
//! server's default `--event-ttl`).

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::intern::Pool;
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

/// One event as read from the log: the words its shared [`Wording`] holds, with its object,
/// times and count.
#[derive(Clone, Copy, Debug)]
pub struct EventRecord<'a> {
    /// Sequence number, unique per run (gives the event's name).
    pub seq: u64,
    /// The object it is about.
    pub object: &'a ObjRef,
    /// `Warning` (true) or `Normal`.
    pub warning: bool,
    /// Machine-readable reason (`ScalingReplicaSet`, `BackOff`, ...).
    pub reason: &'static str,
    /// The component that reported it (`deployment-controller`, `kubelet`, ...).
    pub source: &'static str,
    /// The node, for kubelet events.
    pub host: Option<&'a Arc<str>>,
    /// First occurrence.
    pub first: SimTime,
    /// Last occurrence.
    pub last: SimTime,
    /// Occurrences.
    pub count: u32,
    /// A standing series (a probe failing every period): `count` and `last` follow from
    /// `first`, the period and the end of the streak, computed when read.
    pub series: Option<Series>,
    text: &'a Text,
}

/// A run of identical events at a fixed period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// Period.
    pub period: SimDuration,
    /// The last occurrence, once the streak has ended.
    pub until: Option<SimTime>,
}

impl EventRecord<'_> {
    /// Human-readable message.
    pub fn message(&self) -> Cow<'_, str> {
        self.text.render(self.object)
    }

    /// (count, last occurrence) as seen at `now`; `None` if the event lies in the future.
    pub fn seen_at(&self, now: SimTime) -> Option<(u32, SimTime)> {
        seen_at(self.first, self.last, self.count, self.series.as_ref(), now)
    }
}

fn seen_at(
    first: SimTime,
    last: SimTime,
    count: u32,
    series: Option<&Series>,
    now: SimTime,
) -> Option<(u32, SimTime)> {
    if first > now {
        return None;
    }
    match series {
        None => Some((count, last)),
        Some(s) => {
            let end = s.until.map_or(now, |u| u.min(now));
            if end < first {
                return None;
            }
            let p = s.period.millis().max(1);
            let n = (end.millis() - first.millis()) / p;
            Some((n as u32 + 1, SimTime(first.millis() + n * p)))
        }
    }
}

/// A message as stored: its text, or derived from the event's object when read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Text {
    /// The words themselves (interned: the many identical kubelet messages share one copy).
    Plain(Arc<str>),
    /// The scheduler's `Successfully assigned NAMESPACE/NAME to NODE`: the node is shared by
    /// every pod placed there, the rest is the pod's.
    Assigned(Arc<str>),
    /// A fixed prefix and a name shared with the object it names (the ReplicaSet
    /// controller's `Created pod: NAME`).
    Named(&'static str, Arc<str>),
}

impl Text {
    fn render(&self, object: &ObjRef) -> Cow<'_, str> {
        match self {
            Text::Plain(m) => Cow::Borrowed(m),
            Text::Assigned(node) => Cow::Owned(assigned(&object.namespace, &object.name, node)),
            Text::Named(prefix, name) => Cow::Owned(format!("{prefix}{name}")),
        }
    }

    /// Whether this text, about `object`, reads `message`.
    fn reads(&self, object: &ObjRef, message: &str) -> bool {
        match self {
            Text::Plain(m) => **m == *message,
            Text::Assigned(_) => self.render(object) == message,
            Text::Named(prefix, name) => message
                .strip_prefix(prefix)
                .is_some_and(|rest| *rest == **name),
        }
    }
}

/// The scheduler's message for a pod bound to a node.
pub fn assigned(namespace: &str, name: &str, node: &str) -> String {
    format!("Successfully assigned {namespace}/{name} to {node}")
}

/// What an event says apart from its object: shared by every event with the same words, so a
/// pod's start (Scheduled, Pulling, Pulled, Created, Started) costs its slots, not its texts.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Wording {
    reason: &'static str,
    text: Text,
    source: &'static str,
    host: Option<Arc<str>>,
    warning: bool,
}

/// One stored event: 40 bytes; the object and the wording are shared.
#[derive(Clone, Debug)]
struct Slot {
    first: SimTime,
    last: SimTime,
    object: Arc<ObjRef>,
    wording: Arc<Wording>,
    count: u32,
}

/// The live events of one object.
#[derive(Debug)]
struct Subject {
    /// The object, shared by its events.
    object: Arc<ObjRef>,
    /// The sequence numbers of its live events, newest last (client-go's event key also holds
    /// the message, so interleaved `Failed` events with two messages each keep a count).
    seqs: Vec<u64>,
}

/// The event store.
#[derive(Debug, Default)]
pub struct EventLog {
    events: VecDeque<Slot>,
    first_seq: u64,
    next_seq: u64,
    /// Standing series by sequence number (few: failing probes and back-offs).
    series: BTreeMap<u64, Series>,
    /// The events of each object, for folding.
    latest: BTreeMap<ObjId, Subject>,
    /// Interned messages.
    messages: Pool<str>,
    /// Interned wordings.
    wordings: Pool<Wording>,
    /// Records since the pools were last pruned.
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
        if self.fold(now, &ev.object, ev.reason, &ev.message) {
            return;
        }
        let text = Text::Plain(self.intern(ev.message));
        self.push(
            now, ev.object, ev.reason, text, ev.source, ev.host, ev.warning,
        );
    }

    /// Records the scheduler's `Scheduled` event for a pod bound to `node` at `now`; its
    /// message is derived when read.
    pub fn record_assigned(&mut self, now: SimTime, object: ObjRef, node: Arc<str>) {
        self.expire(now);
        let message = assigned(&object.namespace, &object.name, &node);
        if self.fold(now, &object, "Scheduled", &message) {
            return;
        }
        let text = Text::Assigned(node);
        self.push(
            now,
            object,
            "Scheduled",
            text,
            "default-scheduler",
            None,
            false,
        );
    }

    /// Records an event whose message is `prefix` followed by `name` (shared with the object
    /// it names, so the many `Created pod: NAME` of a ReplicaSet keep no copy of their own).
    pub fn record_named(
        &mut self,
        now: SimTime,
        ev: NewEvent,
        prefix: &'static str,
        name: Arc<str>,
    ) {
        self.expire(now);
        let message = format!("{prefix}{name}");
        if self.fold(now, &ev.object, ev.reason, &message) {
            return;
        }
        let text = Text::Named(prefix, name);
        self.push(
            now, ev.object, ev.reason, text, ev.source, ev.host, ev.warning,
        );
    }

    /// Folds an event into an identical recent one of its object, if there is one.
    fn fold(&mut self, now: SimTime, object: &ObjRef, reason: &str, message: &str) -> bool {
        let first_seq = self.first_seq;
        // Like client-go's correlator, only recent events of the object are candidates (its
        // cache is an LRU); a Deployment's hundreds of scaling events are not all compared.
        let found = self.latest.get(&object.id).and_then(|s| {
            s.seqs
                .iter()
                .rev()
                .take(RECENT_PER_OBJECT)
                .copied()
                .find(|&seq| {
                    self.events
                        .get((seq - first_seq) as usize)
                        .is_some_and(|e| {
                            e.wording.reason == reason
                                && e.wording.text.reads(&e.object, message)
                                && !self.series.contains_key(&seq)
                        })
                })
        });
        if let Some(seq) = found
            && let Some(existing) = self.get_mut(seq)
            && now.since(existing.last) <= AGGREGATE_WINDOW
        {
            existing.count += 1;
            existing.last = now;
            return true;
        }
        false
    }

    /// Stores a new event at `first`; returns its sequence number.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        first: SimTime,
        object: ObjRef,
        reason: &'static str,
        text: Text,
        source: &'static str,
        host: Option<Arc<str>>,
        warning: bool,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        // An object's events share its reference (the same object always reads the same).
        let object = match self.latest.entry(object.id) {
            Entry::Vacant(v) => {
                let object = Arc::new(object);
                v.insert(Subject {
                    object: object.clone(),
                    seqs: vec![seq],
                });
                object
            }
            Entry::Occupied(mut o) => {
                let subject = o.get_mut();
                subject.seqs.push(seq);
                if *subject.object == object {
                    subject.object.clone()
                } else {
                    Arc::new(object)
                }
            }
        };
        let wording = Wording {
            reason,
            text,
            source,
            host,
            warning,
        };
        let wording = match self.wordings.get(&wording) {
            Some(w) => w.clone(),
            // A name's own wording (`Created pod: NAME`) is one of a kind: pooling it would
            // only grow the pool that every other event looks up.
            None if matches!(wording.text, Text::Named(..)) => Arc::new(wording),
            None => {
                let w = Arc::new(wording);
                self.wordings.insert(w.clone());
                self.since_prune += 1;
                w
            }
        };
        self.events.push_back(Slot {
            first,
            last: first,
            object,
            wording,
            count: 1,
        });
        self.prune();
        seq
    }

    fn intern(&mut self, message: String) -> Arc<str> {
        if let Some(m) = self.messages.get(message.as_str()) {
            return m.clone();
        }
        let m: Arc<str> = message.into();
        self.messages.insert(m.clone());
        self.since_prune += 1;
        m
    }

    /// Forgets wordings and messages no stored event uses any more.
    fn prune(&mut self) {
        let pooled = self.messages.len() + self.wordings.len();
        if self.since_prune > 4096 && self.since_prune > pooled {
            self.wordings.retain_used();
            self.messages.retain_used();
            self.since_prune = 0;
        }
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
        let text = Text::Plain(self.intern(ev.message));
        let seq = self.push(
            first, ev.object, ev.reason, text, ev.source, ev.host, ev.warning,
        );
        self.series.insert(seq, Series { period, until });
        seq
    }

    /// Ends a series at its last occurrence at or before `at` (removing it if none happened).
    pub fn end_series(&mut self, seq: u64, at: SimTime) {
        let Some(s) = self.series.get_mut(&seq) else {
            return;
        };
        let Some(i) = seq.checked_sub(self.first_seq) else {
            return;
        };
        let Some(e) = self.events.get_mut(i as usize) else {
            return;
        };
        let end = s.until.map_or(at, |u| u.min(at));
        s.until = Some(end);
        if end < e.first {
            // Nothing happened yet: keep it invisible forever.
            s.until = Some(SimTime(0));
            e.first = SimTime(u64::MAX);
            e.last = e.first;
        }
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut Slot> {
        let i = seq.checked_sub(self.first_seq)?;
        self.events.get_mut(i as usize)
    }

    /// Drops the events whose last occurrence is more than [`EVENT_TTL`] before `now`, as
    /// the API server's event TTL does as time passes (called on every record and every
    /// instant the clock reaches, so a quiet cluster forgets its old events too).
    pub(crate) fn expire(&mut self, now: SimTime) {
        while let Some(front) = self.events.front() {
            let seq = self.first_seq;
            // A series ended before its first occurrence never happened: drop it.
            let never = front.first == SimTime(u64::MAX);
            let last = match self.series.get(&seq) {
                None => front.last,
                Some(s) if s.until.is_some() => {
                    seen_at(front.first, front.last, front.count, Some(s), now)
                        .map_or(SimTime(u64::MAX), |(_, l)| l)
                }
                Some(_) => SimTime(u64::MAX),
            };
            if !never && (last == SimTime(u64::MAX) || now.since(last) <= EVENT_TTL) {
                break;
            }
            let id = front.object.id;
            if let Some(s) = self.latest.get_mut(&id) {
                s.seqs.retain(|s| *s != seq);
                if s.seqs.is_empty() {
                    self.latest.remove(&id);
                }
            }
            self.series.remove(&seq);
            self.events.pop_front();
            self.first_seq += 1;
        }
    }

    fn read<'a>(&'a self, seq: u64, e: &'a Slot) -> EventRecord<'a> {
        EventRecord {
            seq,
            object: &e.object,
            warning: e.wording.warning,
            reason: e.wording.reason,
            source: e.wording.source,
            host: e.wording.host.as_ref(),
            first: e.first,
            last: e.last,
            count: e.count,
            series: self.series.get(&seq).copied(),
            text: &e.wording.text,
        }
    }

    /// Every live event, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = EventRecord<'_>> {
        (self.first_seq..)
            .zip(self.events.iter())
            .map(|(seq, e)| self.read(seq, e))
    }

    /// One live event by its sequence number.
    pub fn get(&self, seq: u64) -> Option<EventRecord<'_>> {
        let i = seq.checked_sub(self.first_seq)?;
        self.events.get(i as usize).map(|e| self.read(seq, e))
    }

    /// Events about one object, oldest first.
    pub fn for_object(&self, id: ObjId) -> Vec<EventRecord<'_>> {
        self.latest.get(&id).map_or_else(Vec::new, |s| {
            s.seqs.iter().filter_map(|&seq| self.get(seq)).collect()
        })
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
        let counts: Vec<_> = log
            .iter()
            .map(|e| (e.message().into_owned(), e.count))
            .collect();
        assert_eq!(
            counts,
            [
                ("Failed to pull image".to_string(), 2),
                ("Error: ErrImagePull".to_string(), 2)
            ]
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
