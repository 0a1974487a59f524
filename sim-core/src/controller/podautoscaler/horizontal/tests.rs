//! Cases of `horizontal_test.go`: `TestScalingWithRules` (the policies' rate limits),
//! `TestNormalizeDesiredReplicasWithBehavior` and `TestStabilizeRecommendationWithBehaviors`
//! (the windows), `TestNormalizeDesiredReplicas` (no `behavior`), and `storeScaleEvent`.

use k8s_openapi::api::autoscaling::v2::{HPAScalingPolicy, HPAScalingRules};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::*;

const NOW: SimTime = SimTime(3_600_000);

/// `generateScalingRules(pods, podsPeriod, percent, percentPeriod, stabilizationWindow)`.
fn rules(
    pods: i32,
    pods_period: i32,
    percent: i32,
    percent_period: i32,
    window: i32,
) -> HPAScalingRules {
    let mut policies = Vec::new();
    if pods != 0 {
        policies.push(HPAScalingPolicy {
            type_: "Pods".into(),
            value: pods,
            period_seconds: pods_period,
        });
    }
    if percent != 0 {
        policies.push(HPAScalingPolicy {
            type_: "Percent".into(),
            value: percent,
            period_seconds: percent_period,
        });
    }
    HPAScalingRules {
        stabilization_window_seconds: Some(window),
        select_policy: Some("Max".into()),
        policies: Some(policies),
        tolerance: None,
    }
}

/// Scale events of `changes`, each `age_s` seconds ago.
fn events(changes: &[(i32, u64)]) -> Vec<ScaleEvent> {
    changes
        .iter()
        .map(|&(change, age_s)| ScaleEvent {
            change,
            time: SimTime(NOW.millis() - age_s * 1000),
            outdated: false,
        })
        .collect()
}

fn now_t() -> Time {
    Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
}

struct RuleCase {
    name: &'static str,
    min: i32,
    max: i32,
    up: HPAScalingRules,
    down: HPAScalingRules,
    up_events: Vec<ScaleEvent>,
    down_events: Vec<ScaleEvent>,
    current: i32,
    desired: i32,
    expect: i32,
    condition: &'static str,
}

fn run_rules(c: RuleCase) {
    let mut memory = HpaMemory {
        scale_up_events: c.up_events,
        scale_down_events: c.down_events,
        ..Default::default()
    };
    let mut conditions = Vec::new();
    let (got, _) = normalize_with_behaviors(
        &mut memory,
        &mut conditions,
        &now_t(),
        NOW,
        &c.up,
        &c.down,
        c.current,
        c.desired,
        c.min,
        c.max,
    );
    assert_eq!(got, c.expect, "{}", c.name);
    let limited = conditions
        .iter()
        .find(|x| x.type_ == "ScalingLimited")
        .and_then(|x| x.reason.clone());
    assert_eq!(limited.as_deref(), Some(c.condition), "{}", c.name);
}

#[test]
fn scaling_with_rules() {
    let up = || rules(0, 0, 100, 15, 0);
    let down = || rules(0, 0, 100, 15, 0);
    let cases = vec![
        RuleCase {
            name: "Zero change",
            min: 1,
            max: 1000,
            up: up(),
            down: down(),
            up_events: vec![],
            down_events: vec![],
            current: 10,
            desired: 10,
            expect: 10,
            condition: "DesiredWithinRange",
        },
        RuleCase {
            name: "Scale up and limited by max replicas",
            min: 1,
            max: 100,
            up: rules(0, 0, 1000, 15, 0),
            down: down(),
            up_events: vec![],
            down_events: vec![],
            current: 10,
            desired: 1000,
            expect: 100,
            condition: "TooManyReplicas",
        },
        RuleCase {
            name: "Scale up with percent policy and limited by percent",
            min: 1,
            max: 1000,
            up: up(),
            down: down(),
            up_events: vec![],
            down_events: vec![],
            current: 10,
            desired: 1000,
            expect: 20,
            condition: "ScaleUpLimit",
        },
        RuleCase {
            name: "Scale up with pods policy and limited by pods",
            min: 1,
            max: 1000,
            up: rules(5, 15, 0, 0, 0),
            down: down(),
            up_events: vec![],
            down_events: vec![],
            current: 10,
            desired: 1000,
            expect: 15,
            condition: "ScaleUpLimit",
        },
        RuleCase {
            name: "Scale up: the larger of the pods and percent policies (select Max)",
            min: 1,
            max: 1000,
            up: rules(4, 15, 100, 15, 0),
            down: down(),
            up_events: vec![],
            down_events: vec![],
            current: 2,
            desired: 10,
            expect: 6,
            condition: "ScaleUpLimit",
        },
        RuleCase {
            name: "Scale up with pods policy, limited by earlier events in the period",
            min: 1,
            max: 1000,
            up: rules(5, 60, 0, 0, 0),
            down: down(),
            up_events: events(&[(2, 10), (2, 30), (1, 90)]),
            down_events: vec![],
            current: 14,
            desired: 1000,
            // period start = 14 − 4 added in the last 60 s = 10; 10 + 5 = 15
            expect: 15,
            condition: "ScaleUpLimit",
        },
        RuleCase {
            name: "Scale up when the period's budget is spent: stay",
            min: 1,
            max: 1000,
            up: rules(5, 60, 0, 0, 0),
            down: down(),
            up_events: events(&[(5, 10)]),
            down_events: vec![],
            current: 15,
            desired: 1000,
            expect: 15,
            condition: "ScaleUpLimit",
        },
        RuleCase {
            name: "Scale down with percent policy and limited by percent",
            min: 1,
            max: 1000,
            up: up(),
            down: rules(0, 0, 50, 15, 0),
            up_events: vec![],
            down_events: vec![],
            current: 100,
            desired: 1,
            expect: 50,
            condition: "ScaleDownLimit",
        },
        RuleCase {
            name: "Scale down with pods policy and limited by pods",
            min: 1,
            max: 1000,
            up: up(),
            down: rules(5, 15, 0, 0, 0),
            up_events: vec![],
            down_events: vec![],
            current: 100,
            desired: 2,
            expect: 95,
            condition: "ScaleDownLimit",
        },
        RuleCase {
            name: "Scale down limited by min replicas",
            min: 5,
            max: 1000,
            up: up(),
            down: down(),
            up_events: vec![],
            down_events: vec![],
            current: 10,
            desired: 2,
            expect: 5,
            condition: "TooFewReplicas",
        },
        RuleCase {
            name: "Scale down disabled",
            min: 1,
            max: 1000,
            up: up(),
            down: HPAScalingRules {
                select_policy: Some("Disabled".into()),
                ..rules(0, 0, 100, 15, 0)
            },
            up_events: vec![],
            down_events: vec![],
            current: 10,
            desired: 2,
            expect: 10,
            condition: "ScaleDownLimit",
        },
    ];
    for c in cases {
        run_rules(c);
    }
}

#[test]
fn stabilization_windows_hold_recommendations() {
    let up = rules(0, 0, 1000, 15, 0);
    let down = rules(0, 0, 100, 15, 300);
    let mut memory = HpaMemory {
        recommendations: vec![
            (SimTime(NOW.millis() - 60_000), 8),
            (SimTime(NOW.millis() - 120_000), 6),
            // Outside the window: ignored, and its slot reused.
            (SimTime(NOW.millis() - 400_000), 20),
        ],
        ..Default::default()
    };
    let mut conditions = Vec::new();
    let (got, why) = normalize_with_behaviors(
        &mut memory,
        &mut conditions,
        &now_t(),
        NOW,
        &up,
        &down,
        10,
        3,
        1,
        100,
    );
    // The highest recommendation of the last 300 s.
    assert_eq!(got, 8, "{why}");
    let able = conditions
        .iter()
        .find(|c| c.type_ == "AbleToScale")
        .unwrap();
    assert_eq!(able.reason.as_deref(), Some("ScaleDownStabilized"));
    assert_eq!(memory.recommendations.len(), 3);
    assert!(memory.recommendations.contains(&(NOW, 3)));

    // A scale-up window keeps the lowest recent recommendation.
    let up = rules(0, 0, 1000, 15, 120);
    let mut memory = HpaMemory {
        recommendations: vec![(SimTime(NOW.millis() - 60_000), 12)],
        ..Default::default()
    };
    let (got, _) = normalize_with_behaviors(
        &mut memory,
        &mut conditions,
        &now_t(),
        NOW,
        &up,
        &down,
        10,
        20,
        1,
        100,
    );
    assert_eq!(got, 12);
    let able = conditions
        .iter()
        .find(|c| c.type_ == "AbleToScale")
        .unwrap();
    assert_eq!(able.reason.as_deref(), Some("ScaleUpStabilized"));
}

#[test]
fn without_behavior_the_old_limits_apply() {
    // TestNormalizeDesiredReplicas: scale-up at most max(2 × current, 4), and the highest
    // recommendation of the last five minutes on the way down.
    let mut memory = HpaMemory::default();
    let mut conditions = Vec::new();
    let (got, _) =
        normalize_desired_replicas(&mut memory, &mut conditions, &now_t(), NOW, 1, 10, 1, 100);
    assert_eq!(got, 4);
    let limited = conditions
        .iter()
        .find(|c| c.type_ == "ScalingLimited")
        .unwrap();
    assert_eq!(
        (limited.status.as_str(), limited.reason.as_deref()),
        ("True", Some("ScaleUpLimit"))
    );
    let (got, _) = normalize_desired_replicas(
        &mut memory,
        &mut conditions,
        &now_t(),
        SimTime(NOW.millis() + 15_000),
        10,
        2,
        1,
        100,
    );
    assert_eq!(got, 10, "the recommendation of 15 s ago still holds");
    let (got, _) = normalize_desired_replicas(
        &mut memory,
        &mut conditions,
        &now_t(),
        SimTime(NOW.millis() + 301_000),
        10,
        2,
        1,
        100,
    );
    assert_eq!(got, 2, "the 10 of 301 s ago has left the window");
    let mut fresh = HpaMemory::default();
    let (got, _) =
        normalize_desired_replicas(&mut fresh, &mut conditions, &now_t(), NOW, 3, 0, 1, 100);
    assert_eq!(got, 1);
    let limited = conditions
        .iter()
        .find(|c| c.type_ == "ScalingLimited")
        .unwrap();
    assert_eq!(limited.reason.as_deref(), Some("TooFewReplicas"));
}

#[test]
fn scale_events_reuse_outdated_slots() {
    let mut memory = HpaMemory {
        scale_up_events: events(&[(3, 100), (2, 5)]),
        ..Default::default()
    };
    store_scale_event(&mut memory, NOW, 60, 4, 7);
    assert_eq!(memory.scale_up_events.len(), 2);
    assert_eq!(memory.scale_up_events[0].change, 3);
    assert_eq!(memory.scale_up_events[0].time, NOW);
    store_scale_event(&mut memory, NOW, 60, 7, 5);
    assert_eq!(memory.scale_down_events.len(), 1);
    assert_eq!(memory.scale_down_events[0].change, 2);
}

#[test]
fn conditions_move_their_transition_time_only_when_the_status_changes() {
    let t1 = Time("2026-01-05T09:00:00Z".parse().unwrap());
    let t2 = Time("2026-01-05T09:00:15Z".parse().unwrap());
    let mut c = Vec::new();
    set_condition(&mut c, "AbleToScale", true, "A", "a".into(), &t1);
    set_condition(&mut c, "AbleToScale", true, "B", "b".into(), &t2);
    assert_eq!(c[0].last_transition_time, Some(t1.clone()));
    assert_eq!(c[0].reason.as_deref(), Some("B"));
    set_condition(&mut c, "AbleToScale", false, "C", "c".into(), &t2);
    assert_eq!(c[0].last_transition_time, Some(t2));
    assert_eq!(milli_quantity(425), Quantity("425m".into()));
    assert_eq!(milli_quantity(2000), Quantity("2".into()));
}
