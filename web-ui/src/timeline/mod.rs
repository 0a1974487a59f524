//! The timeline: a server-rendered SVG per Deployment over virtual time: replicas of each
//! revision, available and unavailable pods, the maxSurge/maxUnavailable bounds as lines,
//! and a marker for every user action. Under each Deployment, the Services that select its
//! pods and carry traffic get a chart on the same time axis: requests and errors per second,
//! p50 and p99 latency, so a rollout's cost shows right under the rollout.
//!
//! The lines are drawn in virtual seconds and values, inside a nested `<svg>` whose `viewBox`
//! is the window: as time passes only the `viewBox` moves, and a new sample appends points to
//! its line. So the stream sends a chart's frame and the new points ([`Grown::diff`]), not
//! every point again, and app.js appends them.

use std::collections::BTreeMap;
use std::fmt::Write;

use sim_core::Sim;
use sim_core::controller::deployment::util;
use sim_core::trace::TraceRecord;
use sim_core::traffic::ServiceSecond;

use crate::sandbox::{Action, Sandbox};
use crate::view::action_label;

mod markers;
use markers::marker_labels;

/// One sample: (time, desired per ReplicaSet (by name), available, unavailable).
type Point = (f64, BTreeMap<String, i32>, i32, i32);

/// Revision colours by `revision % 8` (also `.rev-N` in app.css). Green and red are left to
/// "available" and "unavailable".
pub const PALETTE: [&str; 8] = [
    "#9c755f", "#4e79a7", "#f28e2b", "#b07aa1", "#17a2b8", "#d4a017", "#e377c2", "#6b7fa8",
];

/// Deployments charted on the page.
pub const MAX_CHARTS: usize = 4;

const W: f64 = 860.0;
const H: f64 = 200.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 24.0;

/// Virtual seconds the window's first point may lie before it: the lines start at a multiple
/// of this, so a sliding window re-sends them whole only this often.
const ANCHOR_SECS: f64 = 300.0;
/// Pixels above and below a plot the lines may still use (a line at 0 is not cut in half).
const PAD: f64 = 4.0;

/// A timeline panel as the live stream sends it. Three kinds of content: fixed HTML (axes,
/// grids, bounds, legends: it changes when a scale or the strategy does), growing lines (a
/// new sample appends points), and live values that move with the clock (the window's
/// `viewBox`, the time labels, where marker labels sit, the numbers in a traffic caption),
/// each on an element marked `data-live`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Grown {
    /// The panel's HTML.
    pub html: String,
    /// The HTML without the growing lines' points (sent when the fixed part changed).
    pub frame: String,
    /// The frame without the live values: what is compared.
    fixed: String,
    /// Each growing line's key (its `data-key`) and points, in page order.
    pub lines: Vec<(String, String)>,
    /// Each live value: key (its element's `data-live`), attribute (empty: the text), value.
    pub lives: Vec<(String, &'static str, String)>,
}

impl Write for Grown {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.html.push_str(s);
        self.frame.push_str(s);
        self.fixed.push_str(s);
        Ok(())
    }
}

impl Grown {
    /// Writes a line that grows as samples come: `<polyline data-key="KEY" data-grow
    /// points="POINTS" ATTRS/>`, without its points in the frame.
    fn line(&mut self, key: &str, points: &str, attrs: &str) {
        let key = esc(key);
        let _ = write!(
            self.html,
            r#"<polyline data-key="{key}" data-grow="" points="{points}" {attrs}/>"#
        );
        let tag = format!(r#"<polyline data-key="{key}" data-grow="" {attrs}/>"#);
        self.frame.push_str(&tag);
        self.fixed.push_str(&tag);
        self.lines.push((key, points.to_string()));
    }

    /// Inside an opening tag: marks the element live as `key` with `attr="value"`.
    fn live_attr(&mut self, key: &str, attr: &'static str, value: String) {
        let key = esc(key);
        let _ = write!(self.fixed, r#" data-live="{key}""#);
        let _ = write!(self.html, r#" data-live="{key}" {attr}="{}""#, esc(&value));
        let _ = write!(self.frame, r#" data-live="{key}" {attr}="{}""#, esc(&value));
        self.lives.push((key, attr, value));
    }

    /// Writes `<TAG ATTRS data-live="key">text</TAG>`: an element whose text is live.
    fn live_text(&mut self, tag: &str, attrs: &str, key: &str, text: String) {
        let key = esc(key);
        let _ = write!(self.fixed, r#"<{tag} {attrs} data-live="{key}"></{tag}>"#);
        let element = format!(r#"<{tag} {attrs} data-live="{key}">{}</{tag}>"#, esc(&text));
        self.html.push_str(&element);
        self.frame.push_str(&element);
        self.lives.push((key, "", text));
    }

    /// What brings a tab that shows `old` to `self`: nothing; the live values that changed,
    /// or the frame if its fixed part changed, and the points added to each line; or the whole
    /// panel (a line is new, gone, or redrawn).
    pub fn diff(&self, old: &Grown) -> crate::view::Delta {
        use crate::view::Delta;
        if self.lines.len() != old.lines.len() {
            return Delta::Html;
        }
        let mut append = serde_json::Map::new();
        for ((key, now), (was_key, was)) in self.lines.iter().zip(&old.lines) {
            let Some(rest) = now.strip_prefix(was.as_str()) else {
                return Delta::Html;
            };
            if key != was_key || !(was.is_empty() || rest.is_empty() || rest.starts_with(' ')) {
                return Delta::Html;
            }
            if !rest.is_empty() {
                append.insert(key.clone(), rest.into());
            }
        }
        let mut d = serde_json::Map::new();
        if self.fixed != old.fixed {
            d.insert("frame".into(), self.frame.clone().into());
        } else {
            // The same fixed part has the same live keys, in the same order.
            let live: serde_json::Map<String, serde_json::Value> = self
                .lives
                .iter()
                .zip(&old.lives)
                .filter(|(now, was)| now != was)
                .map(|((key, attr, value), _)| (key.clone(), serde_json::json!([attr, value])))
                .collect();
            if !live.is_empty() {
                d.insert("live".into(), live.into());
            }
        }
        if d.is_empty() && append.is_empty() {
            return Delta::Nothing;
        }
        d.insert("append".into(), append.into());
        Delta::Data(d.into())
    }
}

/// A number in a line's points: seconds to the millisecond, values to a tenth, no trailing
/// zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Where a chart's lines start: the window's start, or before it at a multiple of
/// [`ANCHOR_SECS`] once the window slides (so the lines' first points stay put).
fn anchor(t0: f64) -> f64 {
    (t0 / ANCHOR_SECS).floor() * ANCHOR_SECS
}

/// Opens a plot, live as `key`: a nested `<svg>` over the pixels `LEFT, top, width, height`
/// whose coordinates are virtual seconds `t0..now` across and `-max..0` down (values are
/// drawn negated, so up is more), with [`PAD`] pixels to spare above and below. Only its
/// `viewBox` moves with the clock. Lines inside keep their stroke width (`vector-effect` in
/// app.css).
#[allow(clippy::too_many_arguments)]
fn open_plot(out: &mut Grown, key: &str, top: f64, height: f64, t0: f64, now: f64, max: f64) {
    let pad = PAD * max / height;
    let _ = write!(
        out,
        r#"<svg class="plot" x="{LEFT}" y="{}" width="{}" height="{}" preserveAspectRatio="none""#,
        top - PAD,
        W - LEFT - RIGHT,
        height + 2.0 * PAD,
    );
    let view = format!(
        "{} {} {} {}",
        num(t0),
        num(-max - pad),
        num((now - t0).max(1e-3)),
        num(max + 2.0 * pad)
    );
    out.live_attr(key, "viewBox", view);
    let _ = out.write_str(">");
}

/// The time axis's two labels, live: the window's start and now.
fn time_labels(out: &mut Grown, key: &str, bottom: f64, t0: f64, now: f64) {
    out.live_text(
        "text",
        &format!(r#"x="{LEFT}" y="{bottom}" class="axis start""#),
        &format!("{key}/from"),
        clock(t0),
    );
    out.live_text(
        "text",
        &format!(r#"x="{}" y="{bottom}" class="axis""#, W - RIGHT),
        &format!("{key}/now"),
        clock(now),
    );
}

/// The right end of a line's last stretch: beyond any `now` while the lines keep their
/// anchor (a following window is at most [`MAX_SPAN`] and its start moves past the next
/// anchor in [`ANCHOR_SECS`]; the whole run's ends past the next hour), so the stretch changes
/// only when the line does, or once an hour; the plot cuts it at now.
fn far_end(from: f64, now: f64) -> f64 {
    (from + ANCHOR_SECS + MAX_SPAN).max((now / 3600.0).ceil() * 3600.0 + 3600.0)
}

/// The longest window that follows the action, in virtual seconds.
const MAX_SPAN: f64 = 900.0;
/// The shortest window, so the first minute is not stretched across the chart.
const MIN_SPAN: f64 = 60.0;
/// How much of the time before the latest activity a following window keeps in view.
const LEAD_SECS: f64 = 20.0;

/// Which stretch of the run a timeline shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    /// From a little before the latest activity (a rollout, an undo, a scale, any action) to
    /// now: at least a minute, at most 15 minutes.
    #[default]
    Follow,
    /// From the start of the run to now.
    Whole,
}

impl Window {
    /// From the page's `timeline` query value (`whole`; anything else follows).
    pub fn parse(v: Option<&str>) -> Window {
        if v == Some("whole") {
            Window::Whole
        } else {
            Window::Follow
        }
    }
}

/// The window's start at `now`, given the latest activity (if any). A following window starts
/// [`LEAD_SECS`] before the activity, so a rollout fills the chart instead of being a sliver at
/// its right edge; it spans at least [`MIN_SPAN`] (sliding with now until the activity is
/// that old) and at most [`MAX_SPAN`] (an activity older than that has slid out).
///
/// Worked example: `set image` at 600 s. At 610 s the window is 550..610 (a minute, the
/// marker five sixths across); from 640 s on it starts at 580, the marker 20 s from the left;
/// at 1480 s it is 580..1480; after that it slides, 15 minutes long.
fn window_start(window: Window, now: f64, activity: Option<f64>) -> f64 {
    match window {
        Window::Whole => 0.0,
        Window::Follow => {
            let slide = now - MIN_SPAN;
            let start = activity.map_or(slide, |a| slide.min(a - LEAD_SECS));
            start.max(now - MAX_SPAN).max(0.0)
        }
    }
}

/// When something last happened that a student would look for: the user's latest action,
/// or the latest new revision of a Deployment or autoscaler's scale in the trace (what a
/// scenario's events or an HPA do).
fn latest_activity(sb: &Source<'_>) -> Option<f64> {
    let marked = sb
        .marks
        .iter()
        .map(|(at, _)| *at)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))));
    let mut last: BTreeMap<(&str, &str), (i64, Option<i32>)> = BTreeMap::new();
    let mut traced: Option<f64> = None;
    for r in sb.records {
        for d in r.deployments.iter() {
            let now = (
                d.revision,
                d.autoscaler.as_ref().map(|a| a.desired_replicas),
            );
            if let Some(was) = last.insert((&d.namespace, &d.name), now)
                && was != now
            {
                traced = Some(r.time);
            }
        }
    }
    match (marked, traced) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What the charts are drawn from: a cluster, its trace, and the user's actions as markers.
#[derive(Debug)]
pub struct Source<'a> {
    /// The cluster now.
    pub sim: &'a Sim,
    /// Its trace since the start.
    pub records: &'a [TraceRecord],
    /// The user's actions: (virtual seconds, label: what they typed when a client said, else
    /// the action in words). Single requests are left out.
    pub marks: Vec<(f64, String)>,
}

impl<'a> Source<'a> {
    /// A sandbox: its cluster, trace and action log.
    pub fn of(sb: &'a Sandbox) -> Source<'a> {
        Source {
            sim: &sb.sim,
            records: &sb.tracer.records,
            marks: sb
                .actions
                .iter()
                .filter(|a| !matches!(a.action, Action::Request(_) | Action::Ingress(_)))
                .map(|a| {
                    // A console line whole: the marker says what it changed.
                    let label = a.typed.clone().unwrap_or_else(|| match &a.action {
                        Action::Kubectl(line) => format!("kubectl {line}"),
                        other => action_label(other),
                    });
                    (a.at.as_secs_f64(), label)
                })
                .collect(),
        }
    }
}

/// Every Deployment's chart, each followed by the traffic charts of its Services, as one
/// HTML fragment.
pub fn render(sb: &Sandbox) -> String {
    grown(sb).html
}

/// [`render`], with the frame and lines the live stream sends.
pub fn grown(sb: &Sandbox) -> Grown {
    grown_in(sb, Window::Follow)
}

/// [`grown`] over `window`.
pub fn grown_in(sb: &Sandbox, window: Window) -> Grown {
    render_from(&Source::of(sb), window)
}

/// The traffic charts alone (empty when no Service had traffic in the charted span): for the
/// scenario pages, whose Deployments are already shown as tables.
pub fn traffic_only(src: &Source<'_>) -> Grown {
    let now = src.sim.now().as_secs_f64();
    let t0 = window_start(Window::Follow, now, latest_activity(src));
    let mut out = Grown::default();
    for (ns, svc, _) in loaded_services(src, t0).iter().take(MAX_CHARTS) {
        traffic_chart(&mut out, src, ns, svc, t0, now);
    }
    out
}

/// [`render`] from any source, over `window`.
pub fn render_from(sb: &Source<'_>, window: Window) -> Grown {
    let now = sb.sim.now().as_secs_f64();
    let t0 = window_start(window, now, latest_activity(sb));
    let mut out = Grown::default();
    let total = sb.sim.store.deployments.len();
    let mut loaded = loaded_services(sb, t0);
    for (ns, name, id) in sb.sim.store.deployments.all_names().take(MAX_CHARTS) {
        let Some((_, d)) = sb.sim.store.deployments.get(id) else {
            continue;
        };
        let labels = d
            .spec
            .as_ref()
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let (mine, rest): (Vec<_>, Vec<_>) = loaded.into_iter().partition(|(sns, _, sel)| {
            sns == ns && !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
        });
        loaded = rest;
        if !deployment_chart(&mut out, sb, ns, name, d, t0, now) {
            continue;
        }
        for (sns, svc, _) in mine.iter().take(MAX_CHARTS) {
            traffic_chart(&mut out, sb, sns, svc, t0, now);
        }
    }
    // Services whose pods no charted Deployment owns.
    for (sns, svc, _) in loaded.iter().take(MAX_CHARTS) {
        traffic_chart(&mut out, sb, sns, svc, t0, now);
    }
    if total > MAX_CHARTS {
        let _ = write!(
            out,
            r#"<p class="empty">Charts for the first {MAX_CHARTS} of {total} Deployments.</p>"#
        );
    }
    if out.html.is_empty() {
        let _ = out.write_str(
            r#"<p class="empty">No Deployment yet: apply one to see its rollout over time.</p>"#,
        );
    }
    out
}

/// Services with traffic records since `t0`, with their selectors, by namespace and name.
fn loaded_services(sb: &Source<'_>, t0: f64) -> Vec<(String, String, BTreeMap<String, String>)> {
    let mut names: Vec<(String, String)> = sb
        .sim
        .traffic
        .seconds
        .iter()
        .rev()
        .take_while(|r| r.time > t0)
        .map(|r| (r.namespace.clone(), r.service.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|(ns, name)| {
            let selector = sb
                .sim
                .store
                .services
                .lookup(&ns, &name)
                .and_then(|id| sb.sim.store.services.get(id))
                .and_then(|(_, s)| s.spec.as_ref()?.selector.clone())
                .unwrap_or_default();
            (ns, name, selector)
        })
        .collect()
}

/// One Deployment's chart of pods over time; `false`, with nothing written, when it has no
/// trace yet.
fn deployment_chart(
    out: &mut Grown,
    sb: &Source<'_>,
    ns: &str,
    name: &str,
    d: &sim_core::api::k8s_openapi::api::apps::v1::Deployment,
    t0: f64,
    now: f64,
) -> bool {
    let replicas = util::replicas(d);
    let surge = util::max_surge(d);
    let unavailable = util::max_unavailable(d);
    // Samples since the lines' anchor: (time, per-revision spec, available, unavailable); the
    // last one before it moved onto it.
    let from = anchor(t0);
    let mut points: Vec<Point> = Vec::new();
    let mut last_before: Option<Point> = None;
    // The HPA's desired replicas (in the `.2` slot) and its utilization/target, when one
    // sizes this Deployment.
    let mut hpa_points: Vec<Point> = Vec::new();
    let mut hpa_before: Option<Point> = None;
    let mut hpa_now: Option<&sim_core::trace::AutoscalerTrace> = None;
    // Each ReplicaSet's revisions in the order it had them: a rollback renumbers the
    // ReplicaSet it re-uses (revision 2 becomes 4), and its line goes on under the new number.
    let mut revisions: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for r in sb.records {
        let Some(dt) = deployment_in(r, ns, name) else {
            continue;
        };
        if let Some(a) = &dt.autoscaler {
            let p = (r.time, BTreeMap::new(), a.desired_replicas, 0);
            if r.time < from {
                hpa_before = Some(p);
            } else {
                hpa_points.push(p);
            }
            hpa_now = Some(a);
        }
        for rs in &dt.replica_sets {
            let seen = revisions.entry(&rs.name).or_default();
            if seen.last() != Some(&rs.revision) {
                seen.push(rs.revision);
            }
        }
        let revs: BTreeMap<String, i32> = dt
            .replica_sets
            .iter()
            .map(|rs| (rs.name.clone(), rs.replicas))
            .collect();
        let p = (r.time, revs, dt.available_replicas, dt.unavailable_replicas);
        if r.time < from {
            last_before = Some(p);
        } else {
            points.push(p);
        }
    }
    if let Some(mut p) = last_before {
        p.0 = from;
        points.insert(0, p);
    }
    if let Some(mut p) = hpa_before {
        p.0 = from;
        hpa_points.insert(0, p);
    }
    if points.is_empty() {
        return false;
    }
    // The scale fits what the window shows: the samples in it and the one held at its start.
    let held = points.iter().rposition(|p| p.0 <= t0).unwrap_or(0);
    let ymax = points[held..]
        .iter()
        .map(|(_, revs, a, u)| revs.values().sum::<i32>().max(*a).max(*u))
        .chain(hpa_points.iter().map(|p| p.2))
        .max()
        .unwrap_or(0)
        .max(replicas + surge)
        .max(1) as f64
        + 1.0;
    let y = |v: f64| TOP + (1.0 - v / ymax) * (H - TOP - BOTTOM);
    let _ = write!(
        out,
        r#"<figure class="timeline"><figcaption>{} / {}: pods over virtual time</figcaption><svg viewBox="0 0 {W} {H}" role="img" aria-label="timeline of {}">"#,
        esc(ns),
        esc(name),
        esc(name)
    );
    // Grid and axis labels.
    let step = if ymax > 40.0 {
        10
    } else if ymax > 15.0 {
        5
    } else {
        2
    };
    let mut v = 0;
    while (v as f64) < ymax {
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" class="grid"/><text x="{}" y="{:.1}" class="axis">{v}</text>"##,
            W - RIGHT,
            y(v as f64),
            y(v as f64),
            LEFT - 6.0,
            y(v as f64) + 4.0
        );
        v += step;
    }
    let chart = format!("deploy/{ns}/{name}");
    time_labels(out, &chart, H - 6.0, t0, now);
    // Bounds, in words; the arithmetic on hover.
    let mut bound = |v: i32, class: &str, label: &str, how: &str| {
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" class="{class}"/><text x="{}" y="{:.1}" class="bound-label"><title>{}</title>{}</text>"#,
            W - RIGHT,
            y(v as f64),
            y(v as f64),
            LEFT + 4.0,
            y(v as f64) - 3.0,
            esc(how),
            esc(label)
        );
    };
    for (v, class, label, how) in bounds(util::is_rolling(d), replicas, surge, unavailable) {
        bound(v, class, &label, &how);
    }
    // Series as step lines, in virtual seconds and pods: one per ReplicaSet in the window, in
    // the order of their first revision, coloured by their revision now (as their pods' tiles).
    let lines = rs_lines(&points, &revisions);
    open_plot(
        out,
        &format!("{chart}/plot"),
        TOP,
        H - TOP - BOTTOM,
        t0,
        now,
        ymax,
    );
    let key = |series: &str| format!("{chart}/{series}");
    let end = far_end(from, now);
    for line in &lines {
        let color = PALETTE[(line.revision() as usize) % PALETTE.len()];
        // Before its ReplicaSet existed a line is not drawn; after it is gone, it is at 0.
        let first = points.iter().position(|p| p.1.contains_key(&line.name));
        step_line(
            out,
            &key(&format!("rs-{}", line.name)),
            &points[first.unwrap_or(points.len())..],
            |p| p.1.get(&line.name).copied().unwrap_or(0),
            &format!(r#"class="series rev" stroke="{color}""#),
            end,
        );
    }
    step_line(
        out,
        &key("available"),
        &points,
        |p| p.2,
        r#"class="series available""#,
        end,
    );
    step_line(
        out,
        &key("unavailable"),
        &points,
        |p| p.3,
        r#"class="series unavailable""#,
        end,
    );
    if !hpa_points.is_empty() {
        step_line(
            out,
            &key("hpa-desired"),
            &hpa_points,
            |p| p.2,
            r#"class="series hpa""#,
            end,
        );
    }
    // Action markers: a line at the action's time in the plot, and its label beside it,
    // where the window puts it; a label that would run into the previous one goes a line
    // lower (labels are about 5.5 px per character at 10 px).
    let marks: Vec<&(f64, String)> = sb
        .marks
        .iter()
        .filter(|(at, _)| *at >= from && *at <= now)
        .collect();
    for (at, full) in &marks {
        let _ = write!(
            out,
            r#"<line x1="{0}" x2="{0}" y1="{1}" y2="0" class="marker"><title>{2}</title></line>"#,
            num(*at),
            num(-ymax),
            esc(full)
        );
    }
    let _ = out.write_str("</svg>");
    marker_labels(out, &chart, &marks, t0, now);
    let _ = out.write_str("</svg><div class=\"legend\">");
    for line in &lines {
        let color = PALETTE[(line.revision() as usize) % PALETTE.len()];
        let _ = write!(
            out,
            r#"<span title="ReplicaSet {}"><i style="background:{color}"></i>{} (desired)</span>"#,
            esc(&line.name),
            esc(&line.label())
        );
    }
    let _ = out.write_str(r#"<span><i class="available"></i>available</span><span><i class="unavailable"></i>unavailable</span><span class="bounds-key"><i class="bound-key"></i>bounds</span><span class="actions-key"><i class="marker-key"></i>your actions</span>"#);
    if let Some(a) = hpa_now {
        let pct = |v: Option<i32>| v.map_or_else(|| "<unknown>".to_string(), |v| format!("{v}%"));
        let _ = write!(
            out,
            r#"<span><i class="hpa"></i>HPA {} desired replicas (CPU {} of target {})</span>"#,
            esc(&a.name),
            esc(&pct(a.current_utilization)),
            esc(&pct(a.target_utilization))
        );
    }
    let _ = out.write_str("</div></figure>");
    true
}

/// A Deployment's bounds as lines: (value, class, what it means in words, the arithmetic).
fn bounds(
    rolling: bool,
    replicas: i32,
    surge: i32,
    unavailable: i32,
) -> Vec<(i32, &'static str, String, String)> {
    let mut out = Vec::new();
    if rolling && unavailable == 0 {
        out.push((
            replicas,
            "bound replicas",
            format!("{replicas} desired, at least {replicas} available"),
            format!("replicas {replicas} − maxUnavailable 0 = {replicas}"),
        ));
    } else {
        out.push((
            replicas,
            "bound replicas",
            format!("{replicas} desired"),
            format!("spec.replicas = {replicas}"),
        ));
    }
    if surge > 0 {
        out.push((
            replicas + surge,
            "bound surge",
            format!("at most {} pods", replicas + surge),
            format!(
                "replicas {replicas} + maxSurge {surge} = {}",
                replicas + surge
            ),
        ));
    }
    if rolling && unavailable > 0 {
        out.push((
            replicas - unavailable,
            "bound minavail",
            format!("at least {} available", replicas - unavailable),
            format!(
                "replicas {replicas} − maxUnavailable {unavailable} = {}",
                replicas - unavailable
            ),
        ));
    }
    out
}

/// One ReplicaSet's line: its name and the revisions it had, in order (a rollback to
/// revision 2 re-uses that ReplicaSet as revision 4: `[2, 4]`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RsLine {
    name: String,
    revisions: Vec<i64>,
}

impl RsLine {
    /// Its revision now.
    fn revision(&self) -> i64 {
        self.revisions.last().copied().unwrap_or(0)
    }

    /// `revision 1`, or `revision 2 → 4` for a ReplicaSet a rollback re-used.
    fn label(&self) -> String {
        let revs: Vec<String> = self.revisions.iter().map(i64::to_string).collect();
        format!("revision {}", revs.join(" → "))
    }
}

/// The ReplicaSets the samples show, one line each, in the order of their first revision.
fn rs_lines(points: &[Point], revisions: &BTreeMap<&str, Vec<i64>>) -> Vec<RsLine> {
    let mut names: Vec<&String> = points.iter().flat_map(|p| p.1.keys()).collect();
    names.sort();
    names.dedup();
    let mut lines: Vec<RsLine> = names
        .into_iter()
        .map(|name| RsLine {
            name: name.clone(),
            revisions: revisions.get(name.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    lines.sort_by_key(|l| (l.revisions.first().copied().unwrap_or(0), l.name.clone()));
    lines
}

/// A step line through `points` (a value held until it changes): a growing line with a
/// point where each value starts and ends, so a new sample only ever appends, and in the
/// frame its last stretch, from the last change on to `end`.
fn step_line(
    out: &mut Grown,
    key: &str,
    points: &[Point],
    value: impl Fn(&Point) -> i32,
    attrs: &str,
    end: f64,
) {
    let mut pts = String::new();
    let mut last: Option<(f64, i32)> = None;
    let push = |pts: &mut String, t: f64, v: i32| {
        if !pts.is_empty() {
            pts.push(' ');
        }
        let _ = write!(pts, "{},{}", num(t), -v);
    };
    for p in points {
        let v = value(p);
        match last {
            None => push(&mut pts, p.0, v),
            Some((_, held)) if held != v => {
                push(&mut pts, p.0, held);
                push(&mut pts, p.0, v);
            }
            Some(_) => continue,
        }
        last = Some((p.0, v));
    }
    out.line(key, &pts, attrs);
    if let Some((t, v)) = last {
        let _ = write!(
            out,
            r#"<polyline points="{},{} {},{}" {attrs}/>"#,
            num(t),
            -v,
            num(end),
            -v
        );
    }
}

/// Height of a traffic chart: two bands (rate above, latency below).
const TH: f64 = 228.0;
/// Height of one band.
const BAND: f64 = 72.0;
/// Buckets across the width (each a few pixels): keeps the SVG small at any window.
const BUCKETS: usize = 300;

/// One bucket of seconds: requests/s, errors/s, p50 and p99 (ms) when any request succeeded.
#[derive(Clone, Copy, Default)]
struct Bucket {
    /// Its end: it covers the `width` seconds before.
    t: f64,
    rps: f64,
    eps: f64,
    p50: Option<f64>,
    p99: Option<f64>,
}

/// The seconds of one Service merged into buckets of `width` seconds, aligned to the start
/// of the run (so a bucket, once complete, never changes): rates are averaged, p50 is
/// averaged over the successful requests and p99 is the worst second (a spike stays visible
/// however far the chart is zoomed out).
fn buckets(seconds: &[&ServiceSecond], width: f64) -> Vec<Bucket> {
    let mut out: Vec<(Bucket, f64, f64, u32)> = Vec::new();
    for r in seconds {
        // A record at `time` covers the second before it: bucket k ends at k·width.
        let t = (r.time / width).ceil().max(1.0) * width;
        let ok = (r.requests - r.errors) as f64;
        if out.last().is_none_or(|(b, ..)| b.t != t) {
            out.push((
                Bucket {
                    t,
                    ..Bucket::default()
                },
                0.0,
                0.0,
                0,
            ));
        }
        let Some((b, p50_sum, ok_sum, n)) = out.last_mut() else {
            continue;
        };
        *n += 1;
        b.rps += r.requests as f64;
        b.eps += r.errors as f64;
        if let (Some(p50), Some(p99)) = (r.p50_ms, r.p99_ms) {
            *p50_sum += p50 * ok;
            *ok_sum += ok;
            b.p99 = Some(b.p99.map_or(p99, |v: f64| v.max(p99)));
        }
    }
    out.into_iter()
        .map(|(mut b, p50_sum, ok_sum, n)| {
            b.rps /= f64::from(n);
            b.eps /= f64::from(n);
            b.p50 = (ok_sum > 0.0).then(|| p50_sum / ok_sum);
            b
        })
        .collect()
}

/// What the sampling label says: every request runs in wasm, or 1 in N of them.
fn sampling_words(sb: &Source<'_>, seconds: &[&ServiceSecond]) -> String {
    let requests: u64 = seconds.iter().map(|r| r.requests).sum();
    let sampled: u64 = seconds.iter().map(|r| r.sampled).sum();
    if sb.sim.traffic.real_requests || requests <= sampled {
        "every request runs in WebAssembly".into()
    } else {
        let n = (requests as f64 / sampled.max(1) as f64).round() as u64;
        format!("sampled 1 in {n}")
    }
}

/// A Service's traffic over the window: requests/s and errors/s above, p50/p99 latency below,
/// on the same time axis as the Deployment charts.
fn traffic_chart(out: &mut Grown, sb: &Source<'_>, ns: &str, name: &str, t0: f64, now: f64) {
    let from = anchor(t0);
    let seconds: Vec<&ServiceSecond> = sb
        .sim
        .traffic
        .seconds
        .iter()
        .filter(|r| r.namespace == ns && r.service == name && r.time > from && r.time <= now)
        .collect();
    let Some(last) = seconds.last() else {
        return;
    };
    if last.time <= t0 {
        return;
    }
    // A few pixels per bucket at any window: 1 s up to 5 minutes, then 2 s, then 3 s.
    let width = ((now - t0) / BUCKETS as f64).ceil().max(1.0);
    let bs = buckets(&seconds, width);
    // The last bucket is still filling while its end is ahead of the last second.
    let complete = bs.iter().take_while(|b| b.t <= last.time).count();
    // Scales and the sampling label from what the window shows.
    let shown = || bs.iter().filter(|b| b.t > t0);
    let rate_max = nice_max(shown().map(|b| b.rps).fold(1.0, f64::max));
    let ms_max = nice_max(shown().filter_map(|b| b.p99).fold(10.0, f64::max));
    let in_window: Vec<&ServiceSecond> = seconds.iter().copied().filter(|r| r.time > t0).collect();
    let top1 = TOP + 10.0;
    let top2 = top1 + BAND + 34.0;
    let latency = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.0} ms"));
    let sampling = sampling_words(sb, &in_window);
    let chart = format!("svc/{ns}/{name}");
    let _ = write!(
        out,
        r#"<figure class="timeline traffic"><figcaption><span class="what">service {} / {}: traffic over virtual time · </span>"#,
        esc(ns),
        esc(name),
    );
    out.live_text(
        "span",
        r#"class="now""#,
        &format!("{chart}/caption"),
        format!(
            "now {} req/s, {} errors/s, p50 {}, p99 {}",
            last.requests,
            last.errors,
            latency(last.p50_ms),
            latency(last.p99_ms)
        ),
    );
    let _ = write!(
        out,
        r#"<span class="sampling"> · <span title="Speed changes only how many requests really run in WebAssembly (all of them at 1× or when stepping, a sample per pod and second when faster), never the numbers: latency comes from the queue model and the fuel each request burns, not from the wall clock.">{}</span></span></figcaption><svg viewBox="0 0 {W} {TH}" role="img" aria-label="traffic of service {}">"#,
        esc(&sampling),
        esc(name),
    );
    // Grids: three lines per band, labelled.
    for (top, max) in [(top1, rate_max), (top2, ms_max)] {
        for i in 0..=2 {
            let v = max * f64::from(i) / 2.0;
            let yy = top + (1.0 - v / max) * BAND;
            let _ = write!(
                out,
                r#"<line x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" class="grid"/><text x="{}" y="{:.1}" class="axis">{}</text>"#,
                W - RIGHT,
                LEFT - 6.0,
                yy + 4.0,
                short(v),
            );
        }
    }
    time_labels(out, &chart, TH - 6.0, t0, now);
    // A line per series over the complete buckets, growing; a latency line breaks where no
    // request succeeded. The bucket still filling is a live stretch from the line's end.
    let line = |out: &mut Grown, class: &str, value: &dyn Fn(&Bucket) -> Option<f64>| {
        let attrs = format!(r#"class="series {class}""#);
        let mut run = String::new();
        let mut runs = 0;
        let mut end: Option<(f64, f64)> = None;
        for b in &bs[..complete] {
            match value(b) {
                Some(v) => {
                    if !run.is_empty() {
                        run.push(' ');
                    }
                    let _ = write!(run, "{},{}", num(b.t), num(-v));
                    end = Some((b.t, v));
                }
                None if !run.is_empty() => {
                    out.line(&format!("{chart}/{class}/{runs}"), &run, &attrs);
                    run.clear();
                    runs += 1;
                    end = None;
                }
                None => {}
            }
        }
        if !run.is_empty() {
            out.line(&format!("{chart}/{class}/{runs}"), &run, &attrs);
        }
        let filling = match (bs.get(complete).and_then(value), end) {
            (Some(v), Some((t, was))) => {
                format!("{},{} {},{}", num(t), num(-was), num(now), num(-v))
            }
            (Some(v), None) => format!("{},{} {},{}", num(now - width), num(-v), num(now), num(-v)),
            (None, _) => String::new(),
        };
        let _ = out.write_str("<polyline");
        out.live_attr(&format!("{chart}/{class}/filling"), "points", filling);
        let _ = write!(out, " {attrs}/>");
    };
    let marker_lines = |out: &mut Grown, max: f64| {
        for (at, _) in sb.marks.iter().filter(|(at, _)| *at >= from && *at <= now) {
            let _ = write!(
                out,
                r#"<line x1="{0}" x2="{0}" y1="{1}" y2="0" class="marker"/>"#,
                num(*at),
                num(-max)
            );
        }
    };
    open_plot(out, &format!("{chart}/rate"), top1, BAND, t0, now, rate_max);
    line(out, "requests", &|b| Some(b.rps));
    line(out, "errors", &|b| Some(b.eps));
    marker_lines(out, rate_max);
    let _ = out.write_str("</svg>");
    open_plot(
        out,
        &format!("{chart}/latency"),
        top2,
        BAND,
        t0,
        now,
        ms_max,
    );
    line(out, "p50", &|b| b.p50);
    line(out, "p99", &|b| b.p99);
    // Where every request failed, the latency band says so, over the buckets' width.
    let mut outage: Option<(f64, f64)> = None;
    let failed = bs.iter().map(|b| (b.t, b.rps > 0.0 && b.p50.is_none()));
    for (t, failed) in failed.chain([(f64::INFINITY, false)]) {
        match (failed, outage) {
            (true, None) => outage = Some((t - width, t.min(now))),
            (true, Some((start, _))) => outage = Some((start, t.min(now))),
            (false, Some((start, end))) => {
                let _ = write!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" class="outage"/>"#,
                    num(start),
                    num(-ms_max),
                    num(end - start),
                    num(ms_max)
                );
                outage = None;
            }
            (false, None) => {}
        }
    }
    marker_lines(out, ms_max);
    let _ = out.write_str("</svg>");
    let _ = write!(
        out,
        r#"<text x="{LEFT}" y="{:.1}" class="band-label">requests and errors per second</text><text x="{LEFT}" y="{:.1}" class="band-label">latency of successful requests (ms)</text>"#,
        top1 - 6.0,
        top2 - 6.0
    );
    let _ = out.write_str(r#"</svg><div class="legend"><span><i class="requests"></i>requests/s</span><span><i class="errors"></i>errors/s</span><span><i class="p50"></i>p50 latency</span><span><i class="p99"></i>p99 latency</span><span><i class="outage-key"></i>every request failed</span><span class="actions-key"><i class="marker-key"></i>your actions</span></div></figure>"#);
}

/// A round upper bound for an axis: 1, 2 or 5 times a power of ten, at least `v`.
fn nice_max(v: f64) -> f64 {
    let p = 10f64.powf(v.max(1e-9).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

/// An axis number: `500`, `1.5k`, `2.5`.
fn short(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn deployment_in<'a>(
    r: &'a TraceRecord,
    ns: &str,
    name: &str,
) -> Option<&'a sim_core::trace::DeploymentTrace> {
    r.deployments
        .iter()
        .find(|d| d.namespace == ns && d.name == name)
}

fn clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::markers::{MAX_LABEL, marker_words};
    use super::*;
    use crate::sandbox::Action;
    use sim_core::SimDuration;

    #[test]
    fn the_traffic_chart_says_how_many_requests_really_ran() {
        let mut sb = Sandbox::new(crate::DEMO, None).unwrap();
        sb.sim.traffic.real_requests = false;
        let t = sb.sim.now() + SimDuration::from_secs(20);
        sb.run_to(t);
        let html = render(&sb);
        // 800 requests/s over 10 pods, one sample per pod and second.
        assert!(html.contains(">sampled 1 in 80<"), "{html}");
        assert!(html.contains("now 800 req/s, 0 errors/s"), "{html}");
        for series in ["requests", "errors", "p50", "p99"] {
            assert!(
                html.contains(&format!(r#"class="series {series}""#)),
                "{series}"
            );
        }
        sb.sim.traffic.real_requests = true;
        assert!(render(&sb).contains(">every request runs in WebAssembly<"));
    }

    #[test]
    fn an_autoscaled_deployment_shows_its_hpa_desired_replicas() {
        let mut sb = Sandbox::new(crate::DEMO, None).unwrap();
        let before = render(&sb);
        assert!(!before.contains(r#"class="series hpa""#));
        let out = sim_core::kubectl::run(
            &mut sb.sim,
            "autoscale deployment credit-scoring-api -n live-coding --max=12",
            &sim_core::kubectl::NoFiles,
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        let t = sb.sim.now() + SimDuration::from_secs(40);
        sb.run_to(t);
        let html = render(&sb);
        assert!(html.contains(r#"class="series hpa""#), "{html}");
        // The demo's pods request no CPU: the HPA has no utilization to show.
        assert!(
            html.contains(
                "HPA credit-scoring-api desired replicas (CPU &lt;unknown&gt; of target 80%)"
            ),
            "{html}"
        );
    }

    /// Twenty minutes of the demo, a rollout in it, a render every virtual second: the lines
    /// only grow (appending to what a tab has gives the fresh render's lines) and are sent whole
    /// only when a line appears, the buckets widen, or the sliding window passes an anchor.
    #[test]
    fn the_lines_grow_by_appending_and_are_resent_rarely() {
        use crate::view::Delta;
        let mut sb = Sandbox::new(crate::DEMO, None).unwrap();
        let mut tab = grown(&sb);
        let (mut appended, mut whole, mut framed) = (0, 0, 0);
        for second in 1..=1200 {
            if second == 100 {
                sb.act(Action::Kubectl(
                    "set image deployment/credit-scoring-api credit-scoring-api=credit-scoring-api:v2 -n live-coding"
                        .into(),
                ));
            }
            let t = sb.sim.now() + SimDuration::from_secs(1);
            sb.run_to(t);
            let now = grown(&sb);
            match now.diff(&tab) {
                Delta::Html => whole += 1,
                Delta::Nothing => {}
                Delta::Data(d) => {
                    for (key, points) in d["append"].as_object().unwrap() {
                        let line = tab.lines.iter_mut().find(|(k, _)| k == key).unwrap();
                        line.1.push_str(points.as_str().unwrap());
                        appended += 1;
                    }
                    assert_eq!(tab.lines, now.lines, "appending gives the new lines");
                    if let Some(frame) = d.get("frame") {
                        assert_eq!(frame.as_str(), Some(now.frame.as_str()));
                        framed += 1;
                    }
                    for (key, change) in d
                        .get("live")
                        .and_then(|l| l.as_object())
                        .into_iter()
                        .flatten()
                    {
                        let live = tab.lives.iter_mut().find(|(k, ..)| k == key).unwrap();
                        assert_eq!(change[0].as_str(), Some(live.1));
                        live.2 = change[1].as_str().unwrap().to_string();
                    }
                    if d.get("frame").is_none() {
                        assert_eq!(tab.lives, now.lives, "the live values are the new ones");
                    }
                }
            }
            tab = now;
        }
        assert!(appended > 1000, "{appended} appends");
        // The traffic chart's first requests, revision 2's line, the buckets widening twice,
        // and the window's anchor moving once past 15 minutes; a few more for lines that
        // start after a gap.
        assert!((4..=12).contains(&whole), "{whole} whole sends");
        // The frame (axes, grids, bounds, markers) goes again only when it changed: the
        // rollout's marker, scales growing, an outage's band.
        assert!(framed < 60, "{framed} frames");
    }

    fn kubectl(sb: &mut Sandbox, line: &str) {
        let out = sb.act(Action::Kubectl(format!("{line} -n live-coding")));
        assert_eq!(out.code, 0, "{line}: {}", out.stderr);
    }

    fn run_for(sb: &mut Sandbox, secs: u64) {
        let t = sb.sim.now() + SimDuration::from_secs(secs);
        sb.run_to(t);
    }

    /// The plot's window (start, end) in virtual seconds, from its live `viewBox`.
    fn window_of(g: &Grown) -> (f64, f64) {
        let (_, _, view) = g
            .lives
            .iter()
            .find(|(k, a, _)| k == "deploy/live-coding/credit-scoring-api/plot" && *a == "viewBox")
            .expect("the Deployment's plot");
        let v: Vec<f64> = view.split(' ').map(|n| n.parse().unwrap()).collect();
        (v[0], v[0] + v[2])
    }

    #[test]
    fn a_following_window_starts_just_before_the_latest_activity() {
        // (now, latest activity, start): a minute sliding with now until the activity is 40 s
        // old, then 20 s before it; at most 15 minutes.
        for (now, activity, start) in [
            (30.0, None, 0.0),
            (600.0, None, 540.0),
            (610.0, Some(600.0), 550.0),
            (700.0, Some(600.0), 580.0),
            (1480.0, Some(600.0), 580.0),
            (2000.0, Some(600.0), 1100.0),
        ] {
            assert_eq!(
                window_start(Window::Follow, now, activity),
                start,
                "now {now}, activity {activity:?}"
            );
        }
        assert_eq!(window_start(Window::Whole, 2000.0, Some(600.0)), 0.0);
    }

    /// Twenty minutes into the demo, a rollout: the chart starts just before it (not at 0, where
    /// the rollout would be a sliver at the right edge), and keeps it in view as time goes on.
    #[test]
    fn the_timeline_follows_the_latest_rollout() {
        let mut sb = Sandbox::new(crate::DEMO, None).unwrap();
        sb.sim.traffic.real_requests = false;
        run_for(&mut sb, 1200);
        kubectl(
            &mut sb,
            "set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2",
        );
        let at = sb.sim.now().as_secs_f64();
        for secs in [5, 60, 300] {
            run_for(&mut sb, secs);
            let (t0, end) = window_of(&grown(&sb));
            // Right after it, the minute before it is in view; once it has run a while, it
            // fills the chart: the action sits in its left half.
            let inside = if secs < 40 {
                at < end
            } else {
                at - t0 <= (end - t0) * 0.5
            };
            assert!(
                t0 <= at - LEAD_SECS + 1e-9 && inside,
                "the rollout at {at} is well inside {t0}..{end}"
            );
            assert!(end - t0 <= MAX_SPAN, "{t0}..{end}");
        }
        let (t0, end) = window_of(&grown_in(&sb, Window::Whole));
        assert_eq!((t0, end), (0.0, sb.sim.now().as_secs_f64()));
    }

    #[test]
    fn a_marker_says_what_changed() {
        for (full, said) in [
            (
                "kubectl set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:v2 -n live-coding",
                "set image api=…:v2",
            ),
            (
                "kubectl rollout undo deployment/credit-scoring-api --to-revision=1 -n live-coding",
                "rollout undo --to-revision=1",
            ),
            (
                "kubectl scale deployment credit-scoring-api --replicas=12 --namespace=live-coding",
                "scale --replicas=12",
            ),
            ("kubectl apply -f app.yaml", "apply -f app.yaml"),
            (
                "kubectl set image web api=registry.local/api:v3",
                "set image api=…:v3",
            ),
            ("kubectl rollout undo web", "rollout undo"),
            (
                "traffic 800 req/s → live-coding/credit-scoring-api",
                "traffic 800 req/s → live-coding/credit-scoring-api",
            ),
        ] {
            assert_eq!(marker_words(full), said, "{full}");
        }
    }

    /// An action at the right edge: its label sits before its line, inside the chart, and the
    /// whole command is its tooltip.
    #[test]
    fn marker_labels_stay_inside_the_chart_with_the_command_as_tooltip() {
        let mut sb = Sandbox::new(crate::DEMO, None).unwrap();
        sb.sim.traffic.real_requests = false;
        run_for(&mut sb, 300);
        let line = "set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:a-very-long-tag-that-goes-on-and-on";
        kubectl(&mut sb, line);
        run_for(&mut sb, 1);
        let html = render(&sb);
        let label = html
            .split(r#"<text class="marker-label"#)
            .skip(1)
            .find(|t| t.contains("a-very-long-tag"))
            .expect("a label for the set image");
        assert!(label.starts_with(" before"), "{label}");
        assert!(
            label.contains(&format!("<title>kubectl {line} -n live-coding</title>")),
            "{label}"
        );
        let shown = &label[label.find("</title>").unwrap() + 8..label.find("</text>").unwrap()];
        assert!(
            shown.starts_with("set image api=…:") && shown.ends_with('…'),
            "{shown}"
        );
        assert!(shown.chars().count() <= MAX_LABEL, "{shown}");
        // Every label, by its place and estimated width, lies inside the chart.
        let g = grown(&sb);
        for (key, _, place) in g.lives.iter().filter(|(k, ..)| k.contains("/mark-")) {
            if place.contains("scale(0)") {
                continue;
            }
            let x: f64 = place["translate(".len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!((LEFT..=W - RIGHT).contains(&x), "{key} at {x}");
        }
    }

    /// A rollback re-uses revision 2's ReplicaSet as revision 4: one line whose label changes,
    /// which keeps growing by appended points (not a new line that jumps from 0).
    #[test]
    fn a_rollback_keeps_the_replicasets_line_under_its_new_revision() {
        use crate::view::Delta;
        let mut sb = Sandbox::new(crate::DEMO, None).unwrap();
        sb.sim.traffic.real_requests = false;
        for image in ["v2", "v3"] {
            kubectl(
                &mut sb,
                &format!(
                    "set image deployment/credit-scoring-api api=registry.local/credit-scoring-api:{image}"
                ),
            );
            run_for(&mut sb, 60);
        }
        let before = grown(&sb);
        kubectl(
            &mut sb,
            "rollout undo deployment/credit-scoring-api --to-revision=2",
        );
        run_for(&mut sb, 60);
        let after = grown(&sb);
        let rs_lines = |g: &Grown| -> Vec<String> {
            g.lines
                .iter()
                .filter(|(k, _)| k.contains("/rs-"))
                .map(|(k, _)| k.clone())
                .collect()
        };
        assert_eq!(rs_lines(&before).len(), 3, "{:?}", rs_lines(&before));
        assert_eq!(rs_lines(&before), rs_lines(&after), "the same lines");
        assert!(
            matches!(after.diff(&before), Delta::Data(_)),
            "the lines grow by appending"
        );
        assert!(
            after.html.contains("revision 2 → 4 (desired)"),
            "{}",
            after.html
        );
        assert!(!after.html.contains("revision 4 (desired)"));
        // Revision 3's line starts where its ReplicaSet did, not at 0 from the window's start.
        let (_, first3) = after
            .lines
            .iter()
            .filter(|(k, _)| k.contains("/rs-"))
            .nth(2)
            .unwrap();
        let (_, first1) = after
            .lines
            .iter()
            .find(|(k, _)| k.contains("/rs-"))
            .unwrap();
        let start = |pts: &str| -> f64 { pts.split(',').next().unwrap().parse().unwrap() };
        assert!(start(first3) > start(first1), "{first3}");
    }

    #[test]
    fn bounds_are_said_in_words_with_the_arithmetic_on_hover() {
        let words = |b: Vec<(i32, &str, String, String)>| -> Vec<(i32, String)> {
            b.into_iter().map(|(v, _, w, _)| (v, w)).collect()
        };
        assert_eq!(
            words(bounds(true, 10, 2, 0)),
            [
                (10, "10 desired, at least 10 available".to_string()),
                (12, "at most 12 pods".to_string())
            ]
        );
        assert_eq!(
            words(bounds(true, 10, 0, 2)),
            [
                (10, "10 desired".to_string()),
                (8, "at least 8 available".to_string())
            ]
        );
        assert_eq!(
            words(bounds(false, 10, 0, 0)),
            [(10, "10 desired".to_string())]
        );
        let sb = Sandbox::new(crate::DEMO, None).unwrap();
        let html = render(&sb);
        assert!(
            html.contains("<title>replicas 10 + maxSurge 2 = 12</title>at most 12 pods</text>"),
            "{html}"
        );
        assert!(!html.contains("replicas = replicas"));
    }

    #[test]
    fn buckets_average_rates_and_keep_the_worst_p99() {
        let second = |time: f64, requests: u64, errors: u64, p50: Option<f64>, p99: Option<f64>| {
            ServiceSecond {
                time,
                namespace: "ns".into(),
                service: "s".into(),
                requests,
                errors,
                p50_ms: p50,
                p99_ms: p99,
                endpoints: 1,
                sampled: 1,
            }
        };
        // 900 s in 300 buckets: 3 s each.
        let rows = [
            second(1.0, 100, 0, Some(10.0), Some(50.0)),
            second(2.0, 100, 50, Some(20.0), Some(90.0)),
            second(3.0, 100, 100, None, None),
            second(4.0, 40, 0, Some(5.0), Some(6.0)),
        ];
        let refs: Vec<&ServiceSecond> = rows.iter().collect();
        let b = buckets(&refs, 3.0);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].t, b[0].rps, b[0].eps), (3.0, 100.0, 50.0));
        // p50 weighted by successful requests: (10·100 + 20·50) / 150.
        assert!((b[0].p50.unwrap() - 2000.0 / 150.0).abs() < 1e-9);
        assert_eq!(b[0].p99, Some(90.0));
        assert_eq!((b[1].t, b[1].rps, b[1].p99), (6.0, 40.0, Some(6.0)));
        assert_eq!(nice_max(430.0), 500.0);
        assert_eq!(nice_max(91.0), 100.0);
        assert_eq!(nice_max(1.0), 1.0);
    }
}
