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
    let different_reason = c.correlate(0, SimTime(1_000), similar("duplicate"), hash("me again"));
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

mod reference;
