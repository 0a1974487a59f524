//! The timeline: a server-rendered SVG per Deployment over virtual time: replicas of each
//! revision, available and unavailable pods, the maxSurge/maxUnavailable bounds as lines,
//! and a marker for every user action. Under each Deployment, the Services that select its
//! pods and carry traffic get a chart on the same time axis: requests and errors per second,
//! p50 and p99 latency, so a rollout's cost shows right under the rollout.

use std::collections::BTreeMap;
use std::fmt::Write;

use sim_core::Sim;
use sim_core::controller::deployment::util;
use sim_core::trace::TraceRecord;
use sim_core::traffic::ServiceSecond;

use crate::sandbox::{Action, Sandbox};
use crate::view::action_label;

/// One sample: (time, desired per revision, available, unavailable).
type Point = (f64, BTreeMap<i64, i32>, i32, i32);

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
                .filter(|a| !matches!(a.action, Action::Request(_)))
                .map(|a| {
                    let label = a.typed.clone().unwrap_or_else(|| action_label(&a.action));
                    (a.at.as_secs_f64(), label)
                })
                .collect(),
        }
    }
}

/// Every Deployment's chart, each followed by the traffic charts of its Services, as one
/// HTML fragment.
pub fn render(sb: &Sandbox) -> String {
    render_from(&Source::of(sb))
}

/// The traffic charts alone (empty when no Service had traffic in the charted span): for the
/// scenario pages, whose Deployments are already shown as tables.
pub fn traffic_only(src: &Source<'_>) -> String {
    let now = src.sim.now().as_secs_f64();
    let t0 = (now - now.clamp(60.0, 900.0)).max(0.0);
    loaded_services(src, t0)
        .iter()
        .take(MAX_CHARTS)
        .map(|(ns, svc, _)| traffic_chart(src, ns, svc, t0, now))
        .collect()
}

/// [`render`] from any source.
pub fn render_from(sb: &Source<'_>) -> String {
    let now = sb.sim.now().as_secs_f64();
    let span = now.clamp(60.0, 900.0);
    let t0 = (now - span).max(0.0);
    let mut out = String::new();
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
        let deployment_chart = deployment_chart(sb, ns, name, d, t0, now);
        if deployment_chart.is_empty() {
            continue;
        }
        out.push_str(&deployment_chart);
        for (sns, svc, _) in mine.iter().take(MAX_CHARTS) {
            out.push_str(&traffic_chart(sb, sns, svc, t0, now));
        }
    }
    // Services whose pods no charted Deployment owns.
    for (sns, svc, _) in loaded.iter().take(MAX_CHARTS) {
        out.push_str(&traffic_chart(sb, sns, svc, t0, now));
    }
    if total > MAX_CHARTS {
        let _ = write!(
            out,
            r#"<p class="empty">Charts for the first {MAX_CHARTS} of {total} Deployments.</p>"#
        );
    }
    if out.is_empty() {
        out.push_str(
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

/// One Deployment's chart of pods over time (empty when it has no trace yet).
fn deployment_chart(
    sb: &Source<'_>,
    ns: &str,
    name: &str,
    d: &sim_core::api::k8s_openapi::api::apps::v1::Deployment,
    t0: f64,
    now: f64,
) -> String {
    {
        let replicas = util::replicas(d);
        let surge = util::max_surge(d);
        let unavailable = util::max_unavailable(d);
        // Points: (time, per-revision spec, available, unavailable).
        let mut points: Vec<Point> = Vec::new();
        let mut last_before: Option<Point> = None;
        for r in sb.records {
            let Some(dt) = deployment_in(r, ns, name) else {
                continue;
            };
            let revs: BTreeMap<i64, i32> = dt
                .replica_sets
                .iter()
                .map(|rs| (rs.revision, rs.replicas))
                .collect();
            let p = (r.time, revs, dt.available_replicas, dt.unavailable_replicas);
            if r.time < t0 {
                last_before = Some(p);
            } else {
                points.push(p);
            }
        }
        if let Some(mut p) = last_before {
            p.0 = t0;
            points.insert(0, p);
        }
        if points.is_empty() {
            return String::new();
        }
        let ymax = points
            .iter()
            .map(|(_, revs, a, u)| revs.values().sum::<i32>().max(*a).max(*u))
            .max()
            .unwrap_or(0)
            .max(replicas + surge)
            .max(1) as f64
            + 1.0;
        let x = |t: f64| LEFT + (t - t0) / (now - t0).max(1e-9) * (W - LEFT - RIGHT);
        let y = |v: f64| TOP + (1.0 - v / ymax) * (H - TOP - BOTTOM);
        let mut svg = String::new();
        let _ = write!(
            svg,
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
                svg,
                r##"<line x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" class="grid"/><text x="{}" y="{:.1}" class="axis">{v}</text>"##,
                W - RIGHT,
                y(v as f64),
                y(v as f64),
                LEFT - 6.0,
                y(v as f64) + 4.0
            );
            v += step;
        }
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="{}" class="axis start">{}</text><text x="{}" y="{}" class="axis">{}</text>"#,
            H - 6.0,
            clock(t0),
            W - RIGHT,
            H - 6.0,
            clock(now)
        );
        // Bounds.
        let mut bound = |v: i32, class: &str, label: &str| {
            let _ = write!(
                svg,
                r#"<line x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" class="{class}"/><text x="{}" y="{:.1}" class="bound-label">{}</text>"#,
                W - RIGHT,
                y(v as f64),
                y(v as f64),
                LEFT + 4.0,
                y(v as f64) - 3.0,
                esc(label)
            );
        };
        let rolling = util::is_rolling(d);
        if rolling && unavailable == 0 {
            bound(
                replicas,
                "bound replicas",
                &format!("replicas = replicas − maxUnavailable = {replicas}"),
            );
        } else {
            bound(replicas, "bound replicas", &format!("replicas {replicas}"));
        }
        if surge > 0 {
            bound(
                replicas + surge,
                "bound surge",
                &format!("replicas + maxSurge = {}", replicas + surge),
            );
        }
        if rolling && unavailable > 0 {
            bound(
                replicas - unavailable,
                "bound minavail",
                &format!("replicas − maxUnavailable = {}", replicas - unavailable),
            );
        }
        // Series as step lines.
        let revisions: Vec<i64> = {
            let mut r: Vec<i64> = points.iter().flat_map(|p| p.1.keys().copied()).collect();
            r.sort();
            r.dedup();
            r
        };
        let mut poly = |vals: &dyn Fn(&Point) -> i32, style: String| {
            let mut pts = Vec::new();
            let mut prev: Option<i32> = None;
            for p in &points {
                let v = vals(p);
                if let Some(pv) = prev {
                    pts.push((x(p.0), y(pv as f64)));
                }
                pts.push((x(p.0), y(v as f64)));
                prev = Some(v);
            }
            if let Some(pv) = prev {
                pts.push((x(now), y(pv as f64)));
            }
            let _ = write!(svg, r#"<polyline points="{}" {style}/>"#, polyline(&pts));
        };
        for rev in &revisions {
            let color = PALETTE[(*rev as usize) % PALETTE.len()];
            poly(
                &|p| p.1.get(rev).copied().unwrap_or(0),
                format!(r#"class="series rev" stroke="{color}""#),
            );
        }
        poly(&|p| p.2, r#"class="series available""#.into());
        poly(&|p| p.3, r#"class="series unavailable""#.into());
        // Action markers; a label that would run into the previous one goes a line lower
        // (labels are about 5.5 px per character at 10 px).
        let mut label_ends: Vec<f64> = Vec::new();
        for (at, label) in &sb.marks {
            let at = *at;
            if at < t0 || at > now {
                continue;
            }
            let lx = x(at) + 3.0;
            let row = label_ends
                .iter()
                .position(|end| *end < lx)
                .unwrap_or(label_ends.len());
            let end = lx + 5.5 * label.chars().count() as f64;
            match label_ends.get_mut(row) {
                Some(e) => *e = end,
                None => label_ends.push(end),
            }
            let _ = write!(
                svg,
                r#"<line x1="{:.1}" x2="{:.1}" y1="{TOP}" y2="{}" class="marker"/><text x="{lx:.1}" y="{}" class="marker-label">{}</text>"#,
                x(at),
                x(at),
                H - BOTTOM,
                TOP + 10.0 + 11.0 * (row % 6) as f64,
                esc(label)
            );
        }
        svg.push_str("</svg><div class=\"legend\">");
        for rev in &revisions {
            let color = PALETTE[(*rev as usize) % PALETTE.len()];
            let _ = write!(
                svg,
                r#"<span><i style="background:{color}"></i>revision {rev} (desired)</span>"#
            );
        }
        svg.push_str(r#"<span><i class="available"></i>available</span><span><i class="unavailable"></i>unavailable</span><span><i class="bound-key"></i>bounds</span><span><i class="marker-key"></i>your actions</span></div></figure>"#);
        svg
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
    t: f64,
    rps: f64,
    eps: f64,
    p50: Option<f64>,
    p99: Option<f64>,
}

/// The seconds of one Service within the window, merged into at most [`BUCKETS`] buckets:
/// rates are averaged, p50 is averaged over the successful requests and p99 is the worst
/// second (a spike stays visible however far the chart is zoomed out).
fn buckets(seconds: &[&ServiceSecond], t0: f64, now: f64) -> Vec<Bucket> {
    let width = ((now - t0) / BUCKETS as f64).max(1.0);
    let mut out: Vec<(Bucket, f64, f64, u32)> = Vec::new();
    for r in seconds {
        // A record at `time` covers the second before it: bucket k ends at t0 + k·width.
        let k = ((r.time - t0) / width).ceil().max(1.0);
        let t = t0 + k * width;
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
            b.t = b.t.min(now);
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
fn traffic_chart(sb: &Source<'_>, ns: &str, name: &str, t0: f64, now: f64) -> String {
    let seconds: Vec<&ServiceSecond> = sb
        .sim
        .traffic
        .seconds
        .iter()
        .filter(|r| r.namespace == ns && r.service == name && r.time > t0 && r.time <= now)
        .collect();
    let Some(last) = seconds.last() else {
        return String::new();
    };
    let bs = buckets(&seconds, t0, now);
    let x = |t: f64| LEFT + (t - t0) / (now - t0).max(1e-9) * (W - LEFT - RIGHT);
    let rate_max = nice_max(bs.iter().map(|b| b.rps).fold(1.0, f64::max));
    let ms_max = nice_max(bs.iter().filter_map(|b| b.p99).fold(10.0, f64::max));
    let top1 = TOP + 10.0;
    let top2 = top1 + BAND + 34.0;
    let y1 = |v: f64| top1 + (1.0 - v / rate_max) * BAND;
    let y2 = |v: f64| top2 + (1.0 - v / ms_max) * BAND;
    let latency = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.0} ms"));
    let mut svg = String::new();
    let sampling = sampling_words(sb, &seconds);
    let _ = write!(
        svg,
        r#"<figure class="timeline traffic"><figcaption>service {} / {}: traffic over virtual time · now {} req/s, {} errors/s, p50 {}, p99 {} · <span class="sampling" title="Speed changes only how many requests really run in WebAssembly (all of them at 1× or when stepping, a sample per pod and second when faster), never the numbers: latency comes from the queue model and the fuel each request burns, not from the wall clock.">{}</span></figcaption><svg viewBox="0 0 {W} {TH}" role="img" aria-label="traffic of service {}">"#,
        esc(ns),
        esc(name),
        last.requests,
        last.errors,
        latency(last.p50_ms),
        latency(last.p99_ms),
        esc(&sampling),
        esc(name),
    );
    // Grids: three lines per band, labelled.
    for (top, max) in [(top1, rate_max), (top2, ms_max)] {
        for i in 0..=2 {
            let v = max * f64::from(i) / 2.0;
            let yy = top + (1.0 - v / max) * BAND;
            let _ = write!(
                svg,
                r#"<line x1="{LEFT}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" class="grid"/><text x="{}" y="{:.1}" class="axis">{}</text>"#,
                W - RIGHT,
                LEFT - 6.0,
                yy + 4.0,
                short(v),
            );
        }
    }
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="{}" class="axis start">{}</text><text x="{}" y="{}" class="axis">{}</text>"#,
        TH - 6.0,
        clock(t0),
        W - RIGHT,
        TH - 6.0,
        clock(now)
    );
    // A line per series; a latency line breaks where no request succeeded.
    let mut line = |class: &str, pts: Vec<Option<(f64, f64)>>| {
        let mut run = Vec::new();
        for p in pts.into_iter().chain([None]) {
            match p {
                Some(pt) => run.push(pt),
                None if !run.is_empty() => {
                    let _ = write!(
                        svg,
                        r#"<polyline points="{}" class="series {class}"/>"#,
                        polyline(&run)
                    );
                    run.clear();
                }
                None => {}
            }
        }
    };
    line(
        "requests",
        bs.iter().map(|b| Some((x(b.t), y1(b.rps)))).collect(),
    );
    line(
        "errors",
        bs.iter().map(|b| Some((x(b.t), y1(b.eps)))).collect(),
    );
    line(
        "p50",
        bs.iter().map(|b| b.p50.map(|v| (x(b.t), y2(v)))).collect(),
    );
    line(
        "p99",
        bs.iter().map(|b| b.p99.map(|v| (x(b.t), y2(v)))).collect(),
    );
    // Where every request failed, the latency band says so, over the bucket's width.
    let bucket_secs = ((now - t0) / BUCKETS as f64).max(1.0);
    for b in bs.iter().filter(|b| b.rps > 0.0 && b.p50.is_none()) {
        let from = x((b.t - bucket_secs).max(t0));
        let _ = write!(
            svg,
            r#"<rect x="{from:.1}" y="{top2}" width="{:.1}" height="{BAND}" class="outage"/>"#,
            x(b.t) - from
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{LEFT}" y="{:.1}" class="band-label">requests and errors per second</text><text x="{LEFT}" y="{:.1}" class="band-label">latency of successful requests (ms)</text>"#,
        top1 - 6.0,
        top2 - 6.0
    );
    for (at, _) in &sb.marks {
        let at = *at;
        if at < t0 || at > now {
            continue;
        }
        let _ = write!(
            svg,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{top1}" y2="{}" class="marker"/>"#,
            x(at),
            x(at),
            top2 + BAND
        );
    }
    svg.push_str(r#"</svg><div class="legend"><span><i class="requests"></i>requests/s</span><span><i class="errors"></i>errors/s</span><span><i class="p50"></i>p50 latency</span><span><i class="p99"></i>p99 latency</span><span><i class="outage-key"></i>every request failed</span><span><i class="marker-key"></i>your actions</span></div></figure>"#);
    svg
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
mod polyline_tests {
    use super::polyline;

    #[test]
    fn points_that_draw_nothing_are_dropped() {
        // A step line: flat, a step up, flat again, with repeats.
        let pts = [
            (10.0, 50.0),
            (11.0, 50.0),
            (11.0, 50.0),
            (12.0, 50.0),
            (12.0, 40.0),
            (13.0, 40.0),
            (14.0, 40.04),
        ];
        assert_eq!(polyline(&pts), "10.0,50.0 12.0,50.0 12.0,40.0 14.0,40.0");
        // A vertical overshoot is kept: dropping it would change the drawing.
        assert_eq!(
            polyline(&[(5.0, 10.0), (5.0, 8.0), (5.0, 12.0)]),
            "5.0,10.0 5.0,8.0 5.0,12.0"
        );
        assert_eq!(polyline(&[]), "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let b = buckets(&refs, 0.0, 900.0);
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

/// A polyline's `points`, to 0.1 px, without the points that draw nothing: repeats, and the
/// middle of three on one horizontal or vertical line (a steady series over ten minutes is
/// two points, not nine hundred). What is drawn is the same, pixel for pixel; the stream
/// sends the chart whole on every update, so this is most of its size.
fn polyline(points: &[(f64, f64)]) -> String {
    let rounded: Vec<(i64, i64)> = points
        .iter()
        .map(|(x, y)| ((x * 10.0).round() as i64, (y * 10.0).round() as i64))
        .collect();
    let mut kept: Vec<(i64, i64)> = Vec::with_capacity(rounded.len());
    for p in rounded {
        if kept.last() == Some(&p) {
            continue;
        }
        let between = |a: i64, b: i64, c: i64| a.min(c) <= b && b <= a.max(c);
        if let [.., a, b] = kept.as_slice()
            && ((a.1 == b.1 && b.1 == p.1 && between(a.0, b.0, p.0))
                || (a.0 == b.0 && b.0 == p.0 && between(a.1, b.1, p.1)))
        {
            // b lies on the straight line from a to p: replace it by p.
            kept.pop();
        }
        kept.push(p);
    }
    let mut out = String::with_capacity(kept.len() * 12);
    for (i, (x, y)) in kept.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{:.1},{:.1}", *x as f64 / 10.0, *y as f64 / 10.0);
    }
    out
}
