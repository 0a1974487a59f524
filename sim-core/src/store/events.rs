//! Events as the API records them.
//!
//! A component's core/v1 events pass through its recorder's correlator first
//! ([`super::correlator`], client-go's `EventCorrelator`): identical events become one with a
//! count, the tenth distinct message of similar events within ten minutes and every one after
//! it become one `(combined from similar events): ...` event, and a source may write 25 events
//! about an object at once and one more every five minutes. The scheduler records through
//! the events.k8s.io API (client-go `tools/events`), which has no correlator; its repeated
//! events fold into a count as before.
//!
//! Each event expires one hour after its last write (the API server's default `--event-ttl`:
//! etcd stores an Event under a lease that every update renews).

use std::borrow::Cow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use indexmap::{Equivalent, IndexSet};

use super::correlator::{COMBINED_PREFIX, Correlated, Correlators, Mixed, RecorderId, Similar};
use super::intern::{Pool, fnv64};
use super::{Kind, ObjId};
use crate::time::{SimDuration, SimTime};

/// How long events live after their last write.
pub const EVENT_TTL: SimDuration = SimDuration::from_secs(3600);
/// How many of an object's newest events are checked for folding (scheduler events).
const RECENT_PER_OBJECT: usize = 16;
/// Identical scheduler events closer than this are folded into one with a count.
const AGGREGATE_WINDOW: SimDuration = SimDuration::from_secs(600);
/// The component whose events bypass the correlator (it records events.k8s.io Events).
const SCHEDULER: &str = "default-scheduler";

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
    /// Writes before the last write of this event within its instant: a real cluster's
    /// timestamps are microseconds apart, so within one virtual instant the events are in
    /// the order they were last written (a Deployment's scaling event before the
    /// ReplicaSet's `Created pod` it caused, even when that is an older event counted again).
    pub order: u32,
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

    /// When the event was last written as seen at `now`, to the write within the instant:
    /// the order in which a real cluster's timestamps list events. `None` if the event lies
    /// in the future.
    pub fn written_at(&self, now: SimTime) -> Option<(SimTime, u32)> {
        let (_, last) = self.seen_at(now)?;
        Some((last, if last == self.last { self.order } else { 0 }))
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
    /// A group's combined event: [`COMBINED_PREFIX`] and the latest similar event's text.
    Combined(Box<Text>),
}

impl Text {
    fn render(&self, object: &ObjRef) -> Cow<'_, str> {
        match self {
            Text::Plain(m) => Cow::Borrowed(m),
            Text::Assigned(node) => Cow::Owned(assigned(&object.namespace, &object.name, node)),
            Text::Named(prefix, name) => Cow::Owned(format!("{prefix}{name}")),
            Text::Combined(inner) => {
                Cow::Owned(format!("{COMBINED_PREFIX}{}", inner.render(object)))
            }
        }
    }

    /// A 64-bit hash of the text about `object` (the correlator's key for a message).
    fn hash(&self, object: &ObjRef) -> u64 {
        match self {
            Text::Plain(m) => fnv64(&[m.as_bytes()]),
            Text::Named(prefix, name) => fnv64(&[prefix.as_bytes(), name.as_bytes()]),
            Text::Assigned(_) | Text::Combined(_) => fnv64(&[self.render(object).as_bytes()]),
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
            Text::Combined(inner) => message
                .strip_prefix(COMBINED_PREFIX)
                .is_some_and(|rest| inner.reads(object, rest)),
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
    /// The component (and host) that reported it, by its number in [`EventLog::recorders`].
    recorder: RecorderId,
    warning: bool,
}

/// A component that records events, with its host for a kubelet: a client-go
/// `EventRecorder`, with its own correlator.
#[derive(Debug, PartialEq, Eq)]
struct Recorder {
    source: &'static str,
    host: Option<Arc<str>>,
}

/// A [`Recorder`] as looked up, without a copy of the host.
#[derive(Hash)]
struct RecorderKey<'a> {
    source: &'a str,
    host: Option<&'a str>,
}

impl Hash for Recorder {
    fn hash<H: Hasher>(&self, state: &mut H) {
        RecorderKey {
            source: self.source,
            host: self.host.as_deref(),
        }
        .hash(state);
    }
}

impl Equivalent<Recorder> for RecorderKey<'_> {
    fn equivalent(&self, r: &Recorder) -> bool {
        self.source == r.source && self.host == r.host.as_deref()
    }
}

/// One stored event: 40 bytes; the object and the wording are shared.
#[derive(Clone, Debug)]
struct Slot {
    first: SimTime,
    last: SimTime,
    object: Arc<ObjRef>,
    wording: Arc<Wording>,
    /// Occurrences; 0 once the event has expired.
    count: u32,
    /// Its last write's place within its instant (see [`EventRecord::order`]).
    order: u32,
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
    /// Stored events by sequence number from `first_seq`; an expired one stays as an empty
    /// slot (count 0) until the events before it are gone too.
    events: VecDeque<Slot>,
    first_seq: u64,
    next_seq: u64,
    /// Live (not expired) events.
    live: usize,
    /// Standing series by sequence number (few: failing probes and back-offs).
    series: BTreeMap<u64, Series>,
    /// The events of each object, for folding and describe.
    latest: BTreeMap<ObjId, Subject>,
    /// Every component (and host) that has recorded an event, numbered in order of its first
    /// event (a hash set with a fixed hasher, looked up by content and read by number).
    recorders: IndexSet<Recorder, Mixed>,
    /// Their correlators (the scheduler's events bypass them).
    correlators: Correlators,
    /// Expiry: every event before this sequence number has been looked at once its first
    /// occurrence was an hour old, and is gone or in `held`.
    scan: u64,
    /// Events looked at but still alive (written again since their first occurrence), and
    /// every series.
    held: BTreeSet<u64>,
    /// No event of `held` expires before this instant.
    held_check: SimTime,
    /// The latest instant written at, and how many writes it has had.
    instant: (SimTime, u32),
    /// What an expired slot points at until it reaches the front, so that it holds no
    /// object or wording of its own.
    vacant: Option<(Arc<ObjRef>, Arc<Wording>)>,
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
    /// Records an event at `now` as its component's recorder writes it.
    pub fn record(&mut self, now: SimTime, ev: NewEvent) {
        self.expire(now);
        if ev.source == SCHEDULER {
            if self.fold(now, &ev.object, ev.reason, &ev.message) {
                return;
            }
            let text = Text::Plain(self.intern(ev.message));
            let recorder = self.recorder(ev.source, ev.host);
            self.push_new(now, ev.object, ev.reason, text, recorder, ev.warning);
            return;
        }
        let text = Text::Plain(self.intern(ev.message));
        let recorder = self.recorder(ev.source, ev.host);
        self.correlate(now, ev.object, ev.reason, text, recorder, ev.warning);
    }

    /// The number of a recorder (numbered once, at its first event).
    fn recorder(&mut self, source: &'static str, host: Option<Arc<str>>) -> RecorderId {
        let key = RecorderKey {
            source,
            host: host.as_deref(),
        };
        let i = match self.recorders.get_index_of(&key) {
            Some(i) => i,
            None => self.recorders.insert_full(Recorder { source, host }).0,
        };
        RecorderId::try_from(i).expect("fewer than 2^32 recorders")
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
        let recorder = self.recorder(SCHEDULER, None);
        self.push_new(now, object, "Scheduled", text, recorder, false);
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
        let text = Text::Named(prefix, name);
        let recorder = self.recorder(ev.source, ev.host);
        if ev.source == SCHEDULER {
            if self.fold(now, &ev.object, ev.reason, &text.render(&ev.object)) {
                return;
            }
            self.push_new(now, ev.object, ev.reason, text, recorder, ev.warning);
            return;
        }
        self.correlate(now, ev.object, ev.reason, text, recorder, ev.warning);
    }

    /// Passes an event through its recorder's correlator and writes what comes out: a new
    /// event, or an update of the one it counts or combines into (`recordToSink`).
    fn correlate(
        &mut self,
        now: SimTime,
        object: ObjRef,
        reason: &'static str,
        text: Text,
        recorder: RecorderId,
        warning: bool,
    ) {
        let similar = Similar {
            object: object.id,
            warning,
            reason,
        };
        let message = text.hash(&object);
        let c: Correlated = self.correlators.correlate(recorder, now, similar, message);
        if c.skip {
            return;
        }
        let (text, written) = if c.combined {
            let text = Text::Combined(Box::new(text));
            let written = text.hash(&object);
            (text, written)
        } else {
            (text, message)
        };
        let seq = match c.update.filter(|&seq| self.get(seq).is_some()) {
            Some(seq) => {
                // The patch: count, last timestamp and message (a combined event reads the
                // latest similar message).
                let wording = c.combined.then(|| {
                    self.wording(Wording {
                        reason,
                        text,
                        recorder,
                        warning,
                    })
                });
                let order = self.write_order(now);
                if let Some(e) = self.get_mut(seq) {
                    e.count = c.count;
                    e.last = now;
                    e.order = order;
                    if let Some(w) = wording {
                        e.wording = w;
                    }
                }
                seq
            }
            // New, or its earlier write has expired: created with the count and first
            // timestamp the recorder remembers.
            None => {
                let wording = self.wording(Wording {
                    reason,
                    text,
                    recorder,
                    warning,
                });
                self.push(c.first, now, c.count, object, wording)
            }
        };
        self.correlators
            .written(recorder, similar, &c, written, seq);
    }

    /// Folds a scheduler event into an identical recent one of its object, if there is one.
    fn fold(&mut self, now: SimTime, object: &ObjRef, reason: &str, message: &str) -> bool {
        // Only recent events of the object are candidates; a Deployment's hundreds of
        // scaling events are not all compared.
        let found = self.latest.get(&object.id).and_then(|s| {
            s.seqs
                .iter()
                .rev()
                .take(RECENT_PER_OBJECT)
                .copied()
                .find(|&seq| {
                    self.slot(seq).is_some_and(|e| {
                        self.source(&e.wording) == SCHEDULER
                            && e.wording.reason == reason
                            && e.wording.text.reads(&e.object, message)
                            && !self.series.contains_key(&seq)
                    })
                })
        });
        if let Some(seq) = found
            && self
                .slot(seq)
                .is_some_and(|e| now.since(e.last) <= AGGREGATE_WINDOW)
        {
            let order = self.write_order(now);
            if let Some(existing) = self.get_mut(seq) {
                existing.count += 1;
                existing.last = now;
                existing.order = order;
            }
            return true;
        }
        false
    }

    /// The place of a write at `at` within its instant (writes at other instants than the
    /// latest, such as a series' future first occurrence, come first in theirs).
    fn write_order(&mut self, at: SimTime) -> u32 {
        if at > self.instant.0 {
            self.instant = (at, 0);
        }
        if at == self.instant.0 {
            self.instant.1 += 1;
            self.instant.1
        } else {
            0
        }
    }

    /// Stores a new event first seen at `first`; returns its sequence number.
    fn push_new(
        &mut self,
        first: SimTime,
        object: ObjRef,
        reason: &'static str,
        text: Text,
        recorder: RecorderId,
        warning: bool,
    ) -> u64 {
        let wording = self.wording(Wording {
            reason,
            text,
            recorder,
            warning,
        });
        self.push(first, first, 1, object, wording)
    }

    /// The pooled copy of a wording.
    fn wording(&mut self, wording: Wording) -> Arc<Wording> {
        match self.wordings.get(&wording) {
            Some(w) => w.clone(),
            // A name's own wording (`Created pod: NAME`) is one of a kind, and so is a
            // combined event's latest: pooling them would only grow the pool that every
            // other event looks up.
            None if matches!(wording.text, Text::Named(..) | Text::Combined(_)) => {
                Arc::new(wording)
            }
            None => {
                let w = Arc::new(wording);
                self.wordings.insert(w.clone());
                self.since_prune += 1;
                w
            }
        }
    }

    /// Stores an event; returns its sequence number.
    fn push(
        &mut self,
        first: SimTime,
        last: SimTime,
        count: u32,
        object: ObjRef,
        wording: Arc<Wording>,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let order = self.write_order(last);
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
        self.events.push_back(Slot {
            first,
            last,
            object,
            wording,
            count: count.max(1),
            order,
        });
        self.live += 1;
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

    /// Forgets what the recorders that wrote the object's live events remember about it, once
    /// the object is gone for good (its id is never used again, so only memory is saved).
    ///
    /// The recorders are those of its live events (each forgets the object once; a recorder
    /// with no correlator, or whose keys about it are gone already, has nothing to forget).
    pub(crate) fn forget(&mut self, id: ObjId) {
        let Some(s) = self.latest.get(&id) else {
            return;
        };
        for &seq in &s.seqs {
            let Some(i) = seq.checked_sub(self.first_seq) else {
                continue;
            };
            if let Some(e) = self.events.get(i as usize).filter(|e| e.count > 0) {
                self.correlators.forget(e.wording.recorder, id);
            }
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
        let recorder = self.recorder(ev.source, ev.host);
        let seq = self.push_new(first, ev.object, ev.reason, text, recorder, ev.warning);
        self.series.insert(seq, Series { period, until });
        self.hold(seq);
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
        self.hold(seq);
    }

    /// Keeps `seq` among the events whose expiry is checked one by one.
    fn hold(&mut self, seq: u64) {
        let at = self.expires_after(seq);
        self.held.insert(seq);
        self.held_check = self.held_check.min(at);
    }

    /// The instant after which the event `seq` is gone: an hour after its last write; for a
    /// series, an hour after its last occurrence once it has ended (never while it goes on);
    /// at once for a series that never happened.
    fn expires_after(&self, seq: u64) -> SimTime {
        let Some(e) = self.slot(seq) else {
            return SimTime(0);
        };
        if e.first == SimTime(u64::MAX) {
            return SimTime(0);
        }
        match self.series.get(&seq) {
            None => e.last + EVENT_TTL,
            Some(s) => match s.until {
                None => SimTime(u64::MAX),
                Some(u) => seen_at(e.first, e.last, e.count, Some(s), u)
                    .map_or(SimTime(0), |(_, last)| last + EVENT_TTL),
            },
        }
    }

    /// The live slot of `seq`.
    fn slot(&self, seq: u64) -> Option<&Slot> {
        let i = seq.checked_sub(self.first_seq)?;
        self.events.get(i as usize).filter(|e| e.count > 0)
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut Slot> {
        let i = seq.checked_sub(self.first_seq)?;
        self.events.get_mut(i as usize).filter(|e| e.count > 0)
    }

    /// Drops the events last written more than [`EVENT_TTL`] before `now`, each on its own
    /// (an event still being counted does not hold back the ones after it), as the API
    /// server's event TTL does as time passes (called on every record and every instant the
    /// clock reaches, so a quiet cluster forgets its old events too).
    ///
    /// Events are written in order of their first occurrence, so the scan stops at the first
    /// whose first occurrence is less than an hour old: every later one was written after it
    /// and lives at least as long. An event passed by the scan that was written again since
    /// (and every series) is held and checked on its own.
    pub(crate) fn expire(&mut self, now: SimTime) {
        while self.scan < self.next_seq {
            let seq = self.scan;
            if let Some(e) = self.slot(seq)
                && !self.series.contains_key(&seq)
            {
                if now.since(e.first) <= EVENT_TTL {
                    break;
                }
                if now.since(e.last) > EVENT_TTL {
                    self.remove(seq);
                } else {
                    self.hold(seq);
                }
            }
            self.scan += 1;
        }
        if now > self.held_check {
            let mut next = SimTime(u64::MAX);
            let mut gone = Vec::new();
            for &seq in &self.held {
                let at = self.expires_after(seq);
                if now > at {
                    gone.push(seq);
                } else {
                    next = next.min(at);
                }
            }
            for seq in gone {
                self.remove(seq);
            }
            self.held_check = next;
        }
        while self.events.front().is_some_and(|e| e.count == 0) {
            self.events.pop_front();
            self.first_seq += 1;
        }
    }

    /// Removes a live event (its slot stays empty until it reaches the front).
    fn remove(&mut self, seq: u64) {
        self.held.remove(&seq);
        self.series.remove(&seq);
        let (object, wording) = self
            .vacant
            .get_or_insert_with(|| {
                let object = ObjRef {
                    kind: Kind::Event,
                    id: ObjId::MAX,
                    name: "".into(),
                    namespace: "".into(),
                };
                let wording = Wording {
                    reason: "",
                    text: Text::Plain("".into()),
                    // No recorder: an empty slot is never read.
                    recorder: RecorderId::MAX,
                    warning: false,
                };
                (Arc::new(object), Arc::new(wording))
            })
            .clone();
        let Some(e) = self.get_mut(seq) else {
            return;
        };
        e.count = 0;
        let id = e.object.id;
        e.object = object;
        e.wording = wording;
        self.live -= 1;
        if let Some(s) = self.latest.get_mut(&id) {
            s.seqs.retain(|s| *s != seq);
            if s.seqs.is_empty() {
                self.latest.remove(&id);
            }
        }
    }

    /// The component that reported an event.
    fn source(&self, wording: &Wording) -> &'static str {
        self.recorders
            .get_index(wording.recorder as usize)
            .map_or("", |r| r.source)
    }

    fn read<'a>(&'a self, seq: u64, e: &'a Slot) -> EventRecord<'a> {
        let recorder = self.recorders.get_index(e.wording.recorder as usize);
        EventRecord {
            seq,
            object: &e.object,
            warning: e.wording.warning,
            reason: e.wording.reason,
            source: recorder.map_or("", |r| r.source),
            host: recorder.and_then(|r| r.host.as_ref()),
            first: e.first,
            last: e.last,
            count: e.count,
            order: e.order,
            series: self.series.get(&seq).copied(),
            text: &e.wording.text,
        }
    }

    /// Every live event, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = EventRecord<'_>> {
        (self.first_seq..)
            .zip(self.events.iter())
            .filter(|(_, e)| e.count > 0)
            .map(|(seq, e)| self.read(seq, e))
    }

    /// One live event by its sequence number.
    pub fn get(&self, seq: u64) -> Option<EventRecord<'_>> {
        self.slot(seq).map(|e| self.read(seq, e))
    }

    /// Events about one object, oldest first.
    pub fn for_object(&self, id: ObjId) -> Vec<EventRecord<'_>> {
        self.latest.get(&id).map_or_else(Vec::new, |s| {
            s.seqs.iter().filter_map(|&seq| self.get(seq)).collect()
        })
    }

    /// Number of stored events.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.live == 0
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

    #[test]
    fn an_event_still_counting_does_not_hold_back_the_expiry_of_later_ones() {
        // Issue 15: A is written again every ten minutes for two hours; B, written once
        // just after A's first occurrence, goes an hour after its only write.
        let mut log = EventLog::default();
        log.record(SimTime(0), ev("Unhealthy", "Liveness probe failed"));
        log.record(SimTime(1_000), ev("Killing", "Stopping container api"));
        let mut t = 0;
        while t < 7_200_000 {
            t += 600_000;
            log.record(SimTime(t), ev("Unhealthy", "Liveness probe failed"));
            log.expire(SimTime(t));
            if t > 3_601_000 {
                let reasons: Vec<_> = log.iter().map(|e| (e.reason, e.count)).collect();
                assert_eq!(reasons, [("Unhealthy", (t / 600_000 + 1) as u32)], "at {t}");
            }
        }
        assert_eq!(log.len(), 1);
        log.expire(SimTime(7_200_000 + 3_600_000));
        assert_eq!(
            log.len(),
            1,
            "an hour after its last write it is still there"
        );
        log.expire(SimTime(7_200_000 + 3_600_001));
        assert!(log.is_empty());
        assert_eq!(log.iter().count(), 0);
    }

    #[test]
    fn the_tenth_similar_message_and_those_after_it_are_combined() {
        let mut log = EventLog::default();
        for i in 0..14 {
            log.record(
                SimTime(i * 10_000),
                ev("ScalingReplicaSet", &format!("to {i}")),
            );
        }
        let all: Vec<_> = log
            .iter()
            .map(|e| (e.message().into_owned(), e.count, e.first, e.last))
            .collect();
        assert_eq!(all.len(), 10);
        assert_eq!(all[8].0, "to 8");
        assert_eq!(
            all[9],
            (
                "(combined from similar events): to 13".to_string(),
                5,
                SimTime(90_000),
                SimTime(130_000)
            )
        );
    }

    #[test]
    fn a_source_writes_25_events_about_an_object_then_one_per_five_minutes() {
        let mut log = EventLog::default();
        for i in 0..30 {
            log.record(
                SimTime(i),
                ev(REASONS[i as usize % 5], &format!("m{}", i % 7)),
            );
        }
        let written: u32 = log.iter().map(|e| e.count).sum();
        assert_eq!(written, 25);
        // Another kubelet (host) or another object has its own bucket.
        let mut other = ev("Pulled", "m");
        other.host = Some("node-2".into());
        log.record(SimTime(30), other);
        assert_eq!(log.len() as u32, log.iter().count() as u32);
        assert_eq!(log.iter().map(|e| e.count).sum::<u32>(), 26);
        log.record(SimTime(300_030), ev("Pulled", "late"));
        assert!(log.iter().any(|e| *e.message() == *"late"));
    }

    const REASONS: [&str; 5] = ["Pulling", "Pulled", "Created", "Started", "Killing"];

    #[test]
    fn a_count_goes_on_when_its_expired_event_is_written_again() {
        // recordEvent: the patch finds nothing (expired), so the event is created again with
        // the recorder's count and first timestamp.
        let mut log = EventLog::default();
        log.record(SimTime(0), ev("BackOff", "Back-off pulling image"));
        log.record(SimTime(1_000), ev("BackOff", "Back-off pulling image"));
        log.record(SimTime(5_000_000), ev("BackOff", "Back-off pulling image"));
        let all: Vec<_> = log.iter().map(|e| (e.count, e.first, e.last)).collect();
        assert_eq!(all, [(3, SimTime(0), SimTime(5_000_000))]);
    }

    #[test]
    fn scheduler_events_bypass_the_correlator() {
        let mut log = EventLog::default();
        for i in 0..30 {
            let mut e = ev("FailedScheduling", &format!("0/{i} nodes are available"));
            e.source = "default-scheduler";
            log.record(SimTime(i), e);
        }
        assert_eq!(log.len(), 30);
    }

    #[test]
    fn within_an_instant_events_are_in_the_order_of_their_last_write() {
        // At 60 s the Deployment is scaled (a new event), then the ReplicaSet's older
        // event is counted again: listed by last write, the cause comes first.
        let mut log = EventLog::default();
        log.record(SimTime(0), ev("SuccessfulCreate", "Created pod: a"));
        log.record(SimTime(60_000), ev("ScalingReplicaSet", "Scaled up"));
        log.record(SimTime(60_000), ev("SuccessfulCreate", "Created pod: a"));
        let mut by_write: Vec<_> = log
            .iter()
            .map(|e| (e.written_at(SimTime(60_000)), e.reason))
            .collect();
        by_write.sort();
        let reasons: Vec<_> = by_write.iter().map(|x| x.1).collect();
        assert_eq!(reasons, ["ScalingReplicaSet", "SuccessfulCreate"]);
    }
}
