//! The timeline: a server-rendered SVG per Deployment over virtual time: replicas of each
//! revision, available and unavailable pods, the maxSurge/maxUnavailable bounds as lines,
//! and a marker for every user action.

use std::collections::BTreeMap;
use std::fmt::Write;

use sim_core::controller::deployment::util;
use sim_core::trace::TraceRecord;

use crate::sandbox::Sandbox;
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

/// Every Deployment's chart, as one HTML fragment.
pub fn render(sb: &Sandbox) -> String {
    let now = sb.sim.now().as_secs_f64();
    let span = now.clamp(60.0, 900.0);
    let t0 = (now - span).max(0.0);
    let mut out = String::new();
    let total = sb.sim.store.deployments.len();
    for (ns, name, id) in sb.sim.store.deployments.all_names().take(MAX_CHARTS) {
        let Some((_, d)) = sb.sim.store.deployments.get(id) else {
            continue;
        };
        let replicas = util::replicas(d);
        let surge = util::max_surge(d);
        let unavailable = util::max_unavailable(d);
        // Points: (time, per-revision spec, available, unavailable).
        let mut points: Vec<Point> = Vec::new();
        let mut last_before: Option<Point> = None;
        for r in &sb.tracer.records {
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
            continue;
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
            let mut pts = String::new();
            let mut prev: Option<i32> = None;
            for p in &points {
                let v = vals(p);
                if let Some(pv) = prev {
                    let _ = write!(pts, "{:.1},{:.1} ", x(p.0), y(pv as f64));
                }
                let _ = write!(pts, "{:.1},{:.1} ", x(p.0), y(v as f64));
                prev = Some(v);
            }
            if let Some(pv) = prev {
                let _ = write!(pts, "{:.1},{:.1}", x(now), y(pv as f64));
            }
            let _ = write!(svg, r#"<polyline points="{pts}" {style}/>"#);
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
        // Action markers.
        for a in &sb.actions {
            let at = a.at.as_secs_f64();
            if at < t0 || at > now {
                continue;
            }
            let _ = write!(
                svg,
                r#"<line x1="{:.1}" x2="{:.1}" y1="{TOP}" y2="{}" class="marker"/><text x="{:.1}" y="{}" class="marker-label">{}</text>"#,
                x(at),
                x(at),
                H - BOTTOM,
                x(at) + 3.0,
                TOP + 10.0,
                esc(&action_label(&a.action))
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
        out.push_str(&svg);
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
