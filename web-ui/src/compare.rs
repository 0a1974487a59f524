//! The compare view: the same workload and the same image change under two strategies, side
//! by side on one clock — the slide of Recreate against RollingUpdate, live.

use askama::Template;

use crate::sandbox::{Action, Sandbox, SandboxError, Speed};

/// A strategy block to compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// `type: Recreate`.
    Recreate,
    /// RollingUpdate with the 25%/25% defaults.
    RollingDefault,
    /// RollingUpdate maxSurge 2, maxUnavailable 0 (the course's choice).
    RollingSurge2,
    /// RollingUpdate maxSurge 0, maxUnavailable 2.
    RollingUnavailable2,
}

impl Preset {
    /// All presets, for the form.
    pub const ALL: [Preset; 4] = [
        Preset::Recreate,
        Preset::RollingDefault,
        Preset::RollingSurge2,
        Preset::RollingUnavailable2,
    ];

    /// The query value.
    pub fn key(self) -> &'static str {
        match self {
            Preset::Recreate => "recreate",
            Preset::RollingDefault => "rolling-25",
            Preset::RollingSurge2 => "rolling-2-0",
            Preset::RollingUnavailable2 => "rolling-0-2",
        }
    }

    /// What it is, in words.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Recreate => "Recreate",
            Preset::RollingDefault => "RollingUpdate 25% / 25% (defaults)",
            Preset::RollingSurge2 => "RollingUpdate maxSurge 2, maxUnavailable 0",
            Preset::RollingUnavailable2 => "RollingUpdate maxSurge 0, maxUnavailable 2",
        }
    }

    /// From the query value.
    pub fn parse(s: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.key() == s)
    }

    /// The strategy block (the value of `spec.strategy`) as YAML.
    pub fn strategy_yaml(self) -> &'static str {
        match self {
            Preset::Recreate => "type: Recreate",
            Preset::RollingDefault => "type: RollingUpdate",
            Preset::RollingSurge2 => {
                "type: RollingUpdate\nrollingUpdate: {maxSurge: 2, maxUnavailable: 0}"
            }
            Preset::RollingUnavailable2 => {
                "type: RollingUpdate\nrollingUpdate: {maxSurge: 0, maxUnavailable: 2}"
            }
        }
    }
}

/// The image change both sides get.
pub fn image_for(kind: &str) -> &'static str {
    if kind == "broken" {
        "registry.local/credit-scoring-api:broken"
    } else {
        "registry.local/credit-scoring-api:v2"
    }
}

/// One side: a label and the Deployment's `spec.strategy` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    /// What it is called on the page.
    pub label: String,
    /// The strategy block, as YAML (the value of `spec.strategy`).
    pub strategy: String,
}

impl From<Preset> for Side {
    fn from(p: Preset) -> Side {
        Side {
            label: p.label().into(),
            strategy: p.strategy_yaml().into(),
        }
    }
}

/// Two sandboxes on one clock.
#[derive(Debug)]
pub struct Compare {
    /// Left side.
    pub left: Side,
    /// Right side.
    pub right: Side,
    /// The sandboxes.
    pub sides: [Sandbox; 2],
    /// The image both sides got last, if any.
    pub changed: Option<String>,
    /// When they got it.
    pub changed_at: Option<sim_core::SimTime>,
}

impl Compare {
    /// Both sides from the demo with their strategies, paused and rolled out.
    pub fn new(left: Side, right: Side) -> Result<Compare, SandboxError> {
        let make = |side: &Side| -> Result<Sandbox, SandboxError> {
            // The block goes where the demo's strategy is, indented under `strategy:`.
            let block: Vec<String> = side
                .strategy
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| format!("          {l}"))
                .collect();
            let text = crate::DEMO.replace(
                "          type: RollingUpdate\n          rollingUpdate: {maxSurge: 2, maxUnavailable: 0}",
                &block.join("\n"),
            );
            let mut sb = Sandbox::new(&text, None)?;
            sb.speed = Speed::Paused;
            Ok(sb)
        };
        let mut sides = [make(&left)?, make(&right)?];
        // One clock: both start at the later setup end, plus ten seconds of the demo's steady
        // traffic so the charts show what normal looks like before the change.
        let t = sides[0].sim.now().max(sides[1].sim.now()) + sim_core::SimDuration::from_secs(10);
        for s in &mut sides {
            s.run_to(t);
            s.sim.traffic.real_requests = Sandbox::real_requests_for(s.speed);
        }
        Ok(Compare {
            left,
            right,
            sides,
            changed: None,
            changed_at: None,
        })
    }

    /// Changes the image on both sides at the same moment.
    pub fn change_image(&mut self, kind: &str) {
        let image = image_for(kind);
        for s in &mut self.sides {
            let images = [("api".to_string(), image.to_string())];
            if let Ok(Some(call)) =
                s.sim
                    .set_image_call("live-coding", "credit-scoring-api", &images)
            {
                s.act(Action::Api(Box::new(call)));
            }
            if s.speed == Speed::Paused {
                s.speed = Speed::Times(1.0);
                s.sim.traffic.real_requests = true;
            }
        }
        self.changed = Some(image.to_string());
        self.changed_at = Some(self.sides[0].sim.now());
    }

    /// `kubectl rollout undo` on both sides at the same moment, as the console runs it.
    pub fn undo(&mut self) {
        for s in &mut self.sides {
            s.act(Action::Kubectl(
                "rollout undo deployment/credit-scoring-api -n live-coding".into(),
            ));
            if s.speed == Speed::Paused {
                s.speed = Speed::Times(1.0);
                s.sim.traffic.real_requests = true;
            }
        }
    }

    /// The current moment as one standalone SVG image, 1920 wide, for slides: the summary in
    /// words on top, then each side's charts under its strategy, drawn by the timeline and
    /// styled by the page's own timeline rules.
    pub fn export_svg(&self) -> String {
        use std::fmt::Write;
        const WIDTH: f64 = 1920.0;
        const COLUMN: f64 = 940.0;
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let summary = self.summary();
        let clock = crate::view::ClockPanel::of(&self.sides[0]).now;
        let mut said = vec![format!(
            "{} vs {} · {clock}",
            self.left.label, self.right.label
        )];
        if summary.image.is_empty() {
            said.push("No change yet: both sides run the same workload on one clock.".into());
        } else {
            said.push(format!(
                "Both sides got {} at {}.",
                summary.image, summary.at
            ));
            for s in &summary.sides {
                let failed = if s.errors == 0 {
                    "no failed requests".to_string()
                } else {
                    format!("{} failed requests", s.errors)
                };
                said.push(format!(
                    "{}: {}; {} of {} updated, {} available; {failed} out of {} since the change.",
                    s.label, s.state, s.updated, s.desired, s.available, s.requests
                ));
            }
        }
        let mut body = String::new();
        let mut y = 40.0;
        for (i, line) in said.iter().enumerate() {
            let size = if i == 0 { 30 } else { 24 };
            let _ = write!(
                body,
                r#"<text x="24" y="{y}" font-size="{size}"{}>{}</text>"#,
                if i == 0 { r#" font-weight="bold""# } else { "" },
                esc(line)
            );
            y += f64::from(size) + 12.0;
        }
        let top = y + 10.0;
        let mut bottom = top;
        for (i, (s, side)) in self.sides.iter().zip([&self.left, &self.right]).enumerate() {
            let x = 20.0 + i as f64 * (COLUMN + 20.0);
            let mut y = top;
            let _ = write!(
                body,
                r#"<text x="{x}" y="{}" font-size="26" font-weight="bold">{}</text>"#,
                y + 24.0,
                esc(&side.label)
            );
            y += 40.0;
            for (svg, w, h) in top_svgs(&crate::timeline::grown(s).html) {
                let height = COLUMN * h / w;
                let placed = svg.replacen(
                    "<svg ",
                    &format!(r#"<svg x="{x}" y="{y}" width="{COLUMN}" height="{height:.1}" "#),
                    1,
                );
                body.push_str(&placed);
                y += height + 12.0;
            }
            bottom = bottom.max(y);
        }
        let style: String = TIMELINE_CSS
            .lines()
            .filter(|l| {
                l.starts_with(".timeline ")
                    || l.starts_with("  --")
                    || l.starts_with(":root")
                    || l == &"}"
            })
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{h:.0}" viewBox="0 0 {WIDTH} {h:.0}"><style>text {{ font-family: "DejaVu Sans", system-ui, sans-serif; fill: #1d2430; }}
{style}</style><rect width="100%" height="100%" fill="#fff"/><g class="timeline">{body}</g></svg>"##,
            h = bottom + 20.0
        )
    }

    /// How each side is doing since the image change, for the line under the two sides.
    pub fn summary(&self) -> Summary {
        let (Some(image), Some(at)) = (self.changed.clone(), self.changed_at) else {
            return Summary::default();
        };
        let sides = self
            .sides
            .iter()
            .zip([&self.left, &self.right])
            .map(|(s, side)| side_progress(s, at, &side.label))
            .collect();
        Summary {
            image,
            at: crate::view::human_ms(at.millis()),
            sides,
        }
    }

    /// Sets the speed of both sides (at 1× or slower every simulated request runs in wasm).
    pub fn set_speed(&mut self, speed: Speed) {
        for s in &mut self.sides {
            s.speed = speed;
            s.sim.traffic.real_requests = Sandbox::real_requests_for(speed);
        }
    }

    /// Pauses both sides and moves them to the next moment anything happens on either.
    pub fn step_event(&mut self) {
        self.set_speed(Speed::Paused);
        // Paused (stepping): every request runs in wasm, as set_speed chose.
        let next = self
            .sides
            .iter()
            .filter_map(|s| s.sim.next_event_time())
            .min();
        if let Some(t) = next {
            for s in &mut self.sides {
                s.run_to(t);
            }
        }
    }

    /// Moves both sides to the same virtual moment.
    pub fn tick(&mut self, wall: std::time::Duration, budget: std::time::Duration) {
        let speed = self.sides[0].speed;
        let dt = match speed {
            Speed::Paused => return,
            Speed::Times(x) => sim_core::SimDuration::from_secs_f64(wall.as_secs_f64() * x),
            Speed::Max => sim_core::SimDuration::from_secs(5),
        };
        // One clock: both sides go toward the same moment, each within half the budget;
        // a side that falls behind is where the next moment starts from.
        let t = self.sides[0].sim.now().min(self.sides[1].sim.now()) + dt;
        let half = budget / 2;
        for s in &mut self.sides {
            s.behind = !s.run_to_within(t, half);
        }
    }

    /// The panels of the compare page.
    pub fn panels(&self) -> crate::view::Panels {
        self.live().panels
    }

    /// The panels of the compare page, with the clusters' tiles.
    pub fn live(&self) -> crate::view::Live {
        let mut live = crate::view::Live::default();
        let ids = [
            ("left-cluster", "left-deploy", "left-timeline"),
            ("right-cluster", "right-deploy", "right-timeline"),
        ];
        for (s, (c, d, t)) in self.sides.iter().zip(ids) {
            live.push_cluster(c, &s.sim, &s.cells, None);
            live.push_deployments(d, &s.sim, None);
            live.push_timeline(t, crate::timeline::grown(s));
        }
        let out = &mut live.panels;
        let clock = crate::view::ClockPanel::of(&self.sides[0]);
        out.push((
            "compare-clock",
            format!(
                "<span class=\"time\">{}</span> <span class=\"speed {}\">{}</span>",
                clock.now,
                if clock.paused { "paused" } else { "" },
                clock.speed
            ),
        ));
        out.push((
            "compare-summary",
            self.summary().render().unwrap_or_default(),
        ));
        live
    }
}

/// The page's stylesheet, whose timeline rules style the exported image.
const TIMELINE_CSS: &str = include_str!("../assets/app.css");

/// The outermost `<svg>` elements of `html` (the charts of a timeline), each with its
/// `viewBox` width and height.
fn top_svgs(html: &str) -> Vec<(&str, f64, f64)> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut at) = (0usize, 0usize, 0usize);
    loop {
        let next = [html[at..].find("<svg"), html[at..].find("</svg>")];
        let Some(i) = next.into_iter().flatten().min() else {
            break;
        };
        let i = at + i;
        if html[i..].starts_with("</svg>") {
            depth = depth.saturating_sub(1);
            at = i + "</svg>".len();
            if depth == 0 {
                let svg = &html[start..at];
                let view = svg
                    .split_once(r#"viewBox=""#)
                    .and_then(|(_, v)| v.split_once('"'))
                    .map(|(v, _)| {
                        v.split(' ')
                            .filter_map(|n| n.parse::<f64>().ok())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                if let [_, _, w, h] = view[..] {
                    out.push((svg, w, h));
                }
            }
        } else {
            if depth == 0 {
                start = i;
            }
            depth += 1;
            at = i + "<svg".len();
        }
    }
    out
}

/// One side's progress since the image change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The side's label.
    pub label: String,
    /// `rolling out`, `rolled out in 42s`, or why it is stuck.
    pub state: String,
    /// Whether the rollout is complete.
    pub done: bool,
    /// Pods of the new template.
    pub updated: i32,
    /// Desired replicas.
    pub desired: i32,
    /// Available pods.
    pub available: i32,
    /// Requests sent since the change.
    pub requests: u64,
    /// Requests failed since the change.
    pub errors: u64,
}

fn side_progress(s: &Sandbox, at: sim_core::SimTime, label: &str) -> Progress {
    use sim_core::controller::deployment::util;
    let store = &s.sim.store;
    let d = store
        .deployments
        .all_names()
        .next()
        .and_then(|(_, _, id)| store.deployments.get(id))
        .map(|(_, d)| d);
    let status = d.and_then(|d| d.status.clone()).unwrap_or_default();
    let desired = d.map_or(0, util::replicas);
    let progressing = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing");
    let reason = progressing.and_then(|c| c.reason.as_deref()).unwrap_or("");
    let changed_unix = store.time(at).0.as_second();
    // The condition's last update is when the new ReplicaSet became available (whole seconds).
    let done_after = progressing
        .filter(|_| reason == util::reason::NEW_RS_AVAILABLE)
        .and_then(|c| c.last_update_time.as_ref())
        .map(|t| t.0.as_second() - changed_unix)
        .filter(|secs| *secs >= 0);
    let state = match done_after {
        Some(secs) => format!(
            "rolled out in {}",
            crate::view::human_ms(u64::try_from(secs).unwrap_or(0) * 1000)
        ),
        None if reason == util::reason::TIMED_OUT => {
            "stuck: progress deadline exceeded".to_string()
        }
        None => "rolling out".to_string(),
    };
    let from = at.as_secs_f64();
    let (requests, errors) = s
        .sim
        .traffic
        .seconds
        .iter()
        .filter(|r| r.time > from)
        .fold((0, 0), |(n, e), r| (n + r.requests, e + r.errors));
    Progress {
        label: label.to_string(),
        state,
        done: done_after.is_some(),
        updated: status.updated_replicas.unwrap_or(0),
        desired,
        available: status.available_replicas.unwrap_or(0),
        requests,
        errors,
    }
}

/// The line under the two sides, live: the image both got and how each is doing.
#[derive(Template, Debug, Default)]
#[template(path = "compare_summary.html")]
pub struct Summary {
    /// The image, empty before any change.
    pub image: String,
    /// When it changed.
    pub at: String,
    /// Left, then right.
    pub sides: Vec<Progress>,
}

/// The compare page.
#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage {
    /// The server's form token, in every form (`crate::guard`).
    pub form_token: String,
    /// Left label.
    pub left: String,
    /// Right label.
    pub right: String,
    /// Left strategy block.
    pub left_yaml: String,
    /// Right strategy block.
    pub right_yaml: String,
    /// Preset choices (key, label, left selected, right selected).
    pub choices: Vec<(&'static str, &'static str, bool, bool)>,
    /// Panels by id.
    pub panels: std::collections::BTreeMap<&'static str, String>,
    /// The line under the two sides.
    pub summary: String,
    /// Presenter mode: large type, the summary on top, keyboard control.
    pub present: bool,
}

impl ComparePage {
    /// A panel's HTML.
    pub fn p(&self, id: &str) -> String {
        self.panels.get(id).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only samples run in wasm: the numbers are the same (`sandbox::tests` checks), and a
    /// debug build stays quick.
    fn sampled(c: &mut Compare) {
        for s in &mut c.sides {
            s.sim.traffic.real_requests = false;
        }
    }

    #[test]
    fn recreate_has_downtime_and_surge_two_does_not() {
        let mut c = Compare::new(Preset::Recreate.into(), Preset::RollingSurge2.into()).unwrap();
        c.change_image("good");
        sampled(&mut c);
        let mut min_available = [i32::MAX, i32::MAX];
        for _ in 0..600 {
            c.tick(
                std::time::Duration::from_millis(100),
                std::time::Duration::MAX,
            );
            for (i, s) in c.sides.iter().enumerate() {
                let d = &sim_core::trace::snapshot(&s.sim)[0];
                min_available[i] = min_available[i].min(d.available_replicas);
            }
        }
        assert_eq!(min_available, [0, 10]);
        assert_eq!(c.sides[0].sim.now(), c.sides[1].sim.now(), "one clock");
    }

    #[test]
    fn the_summary_line_follows_both_rollouts() {
        let mut c = Compare::new(Preset::Recreate.into(), Preset::RollingSurge2.into()).unwrap();
        let line = |c: &Compare| {
            c.live()
                .panels
                .into_iter()
                .find(|(id, _)| *id == "compare-summary")
                .map(|(_, html)| html)
                .expect("a live panel, so the stream updates it")
        };
        assert!(line(&c).contains("No change yet"), "{}", line(&c));
        c.change_image("good");
        sampled(&mut c);
        c.tick(std::time::Duration::from_secs(1), std::time::Duration::MAX);
        let early = line(&c);
        assert!(
            early.contains("Both sides got registry.local/credit-scoring-api:v2 at"),
            "{early}"
        );
        assert_eq!(early.matches(": rolling out;").count(), 2, "{early}");
        for _ in 0..600 {
            c.tick(
                std::time::Duration::from_millis(100),
                std::time::Duration::MAX,
            );
        }
        let [recreate, surge] =
            [0, 1].map(|i| side_progress(&c.sides[i], c.changed_at.unwrap(), ""));
        assert!(recreate.done && surge.done, "{recreate:?} {surge:?}");
        assert!(
            recreate.errors > 0 && surge.errors == 0,
            "{recreate:?} {surge:?}"
        );
        assert_eq!(
            (surge.updated, surge.desired, surge.available),
            (10, 10, 10)
        );
        let late = line(&c);
        assert_eq!(late.matches(": rolled out in ").count(), 2, "{late}");
        assert!(
            late.contains("no failed requests")
                && late.contains(&format!("{} failed requests", recreate.errors)),
            "{late}"
        );
        assert_ne!(early, late, "the line moves with the runs");
    }

    /// The exported image is one SVG document: the summary in words at the top, then both
    /// sides' charts, each placed in its column.
    #[test]
    fn the_current_moment_exports_as_one_svg_image() {
        let mut c = Compare::new(Preset::Recreate.into(), Preset::RollingSurge2.into()).unwrap();
        c.change_image("good");
        sampled(&mut c);
        for _ in 0..100 {
            c.tick(
                std::time::Duration::from_millis(100),
                std::time::Duration::MAX,
            );
        }
        let svg = c.export_svg();
        assert!(
            svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#),
            "{svg}"
        );
        let summary = svg
            .find("Both sides got registry.local/credit-scoring-api:v2")
            .expect("the summary");
        let charts = svg.find("pods over virtual time").unwrap_or(usize::MAX);
        let first_chart = svg
            .find(r#"<svg x="20" y="#)
            .expect("the left side's chart");
        assert!(summary < first_chart, "the summary comes first");
        assert!(svg.contains(r#"<svg x="980" y="#), "the right side's chart");
        assert!(svg.contains("Recreate: rolling out") || svg.contains("Recreate: rolled out"));
        assert!(
            svg.contains(".timeline .available"),
            "styled by the page's rules"
        );
        assert!(charts == usize::MAX, "no HTML captions inside the image");
        // Every tag opened is closed: as many `<svg` as `</svg>`.
        assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
    }

    #[test]
    fn undo_rolls_both_sides_back_together() {
        let mut c = Compare::new(Preset::Recreate.into(), Preset::RollingSurge2.into()).unwrap();
        c.change_image("broken");
        sampled(&mut c);
        c.tick(std::time::Duration::from_secs(5), std::time::Duration::MAX);
        c.undo();
        for s in &c.sides {
            let d = &sim_core::trace::snapshot(&s.sim)[0];
            assert_eq!(d.revision, 3, "the undo is revision 3");
            assert!(
                s.actions.last().is_some_and(
                    |a| matches!(&a.action, Action::Kubectl(l) if l.starts_with("rollout undo"))
                ),
                "recorded as the console's command"
            );
        }
    }

    #[test]
    fn next_event_moves_both_sides_together() {
        let mut c = Compare::new(Preset::Recreate.into(), Preset::RollingSurge2.into()).unwrap();
        c.change_image("good");
        let before = c.sides[0].sim.now();
        c.step_event();
        assert!(c.sides[0].sim.now() > before);
        assert_eq!(c.sides[0].sim.now(), c.sides[1].sim.now());
        assert_eq!(c.sides[0].speed, Speed::Paused);
    }

    #[test]
    fn any_strategy_block_can_be_compared_and_a_bad_one_is_refused() {
        let custom = Side {
            label: "custom".into(),
            strategy: "type: RollingUpdate\nrollingUpdate: {maxSurge: 50%, maxUnavailable: 50%}"
                .into(),
        };
        let c = Compare::new(custom, Preset::Recreate.into()).unwrap();
        let d = &sim_core::trace::snapshot(&c.sides[0].sim)[0];
        assert_eq!(d.available_replicas, 10);
        let bad = Side {
            label: "bad".into(),
            strategy: "type: RollingUpdate\nrollingUpdate: {maxSurge: 0, maxUnavailable: 0}".into(),
        };
        let err = Compare::new(bad, Preset::Recreate.into())
            .unwrap_err()
            .to_string();
        assert!(err.contains("may not be 0 when `maxSurge` is 0"), "{err}");
    }

    /// Errors and the worst p99 over a rollout of the good image, per side, with the worse of
    /// the steady p99 before and after it (v2's model is heavier than v1's).
    fn rollout_cost(left: Preset, right: Preset) -> [(u64, f64, f64); 2] {
        let mut c = Compare::new(left.into(), right.into()).unwrap();
        c.set_speed(Speed::Times(1.0));
        sampled(&mut c);
        for _ in 0..20 {
            c.tick(
                std::time::Duration::from_millis(250),
                std::time::Duration::MAX,
            );
        }
        let before: Vec<f64> = c
            .sides
            .iter()
            .map(|s| s.sim.traffic.seconds.last().unwrap().p99_ms.unwrap())
            .collect();
        let from = c.sides[0].sim.now().as_secs_f64();
        c.change_image("good");
        sampled(&mut c);
        for _ in 0..1200 {
            c.tick(
                std::time::Duration::from_millis(100),
                std::time::Duration::MAX,
            );
        }
        let mut out = [(0u64, 0.0f64, 0.0f64); 2];
        for (i, s) in c.sides.iter().enumerate() {
            let during = s.sim.traffic.seconds.iter().filter(|r| r.time > from);
            for r in during {
                out[i].0 += r.errors;
                out[i].1 = out[i].1.max(r.p99_ms.unwrap_or(0.0));
            }
            let after = s.sim.traffic.seconds.last().unwrap().p99_ms.unwrap();
            out[i].2 = before[i].max(after);
        }
        out
    }

    #[test]
    fn a_rollouts_cost_shows_in_the_demos_traffic() {
        // Recreate: every pod goes before the new ones start, so requests fail.
        let [
            (recreate_errors, ..),
            (surge_errors, surge_p99, surge_before),
        ] = rollout_cost(Preset::Recreate, Preset::RollingSurge2);
        assert!(recreate_errors > 1000, "Recreate: {recreate_errors} errors");
        // maxUnavailable 0: no errors and latency flat.
        assert_eq!(surge_errors, 0);
        assert!(
            surge_p99 < surge_before * 1.05,
            "{surge_p99} vs {surge_before}"
        );
        // maxUnavailable 2: no errors, but 8 pods carry the load of 10: p99 climbs.
        let [(unavailable_errors, unavailable_p99, unavailable_before), _] =
            rollout_cost(Preset::RollingUnavailable2, Preset::RollingSurge2);
        assert_eq!(unavailable_errors, 0);
        assert!(
            unavailable_p99 > unavailable_before * 1.4,
            "{unavailable_p99} vs {unavailable_before}"
        );
    }
}
