//! What the pages show, computed from the cluster: nodes and pods, Deployments with their
//! ReplicaSets and the controller's reasoning, recent events, the clock. Each panel renders
//! to an HTML fragment (askama), used both in the first page and in the live stream.

use askama::Template;
use sim_core::Sim;
use sim_core::controller::deployment::util;
use sim_core::kubectl::print::human_duration;
use sim_core::store::{EventRecord, Kind};

use crate::sandbox::{Action, Sandbox};

/// The fragments of one page, by element id.
pub type Panels = Vec<(&'static str, String)>;

pub use cluster::*;

/// One ReplicaSet row.
#[derive(Debug, Clone)]
pub struct RsRow {
    /// Revision.
    pub revision: i64,
    /// Name.
    pub name: String,
    /// Images of its template.
    pub image: String,
    /// spec.replicas.
    pub desired: i32,
    /// status.replicas.
    pub current: i32,
    /// Ready.
    pub ready: i32,
    /// Available.
    pub available: i32,
    /// The Deployment's current template.
    pub is_new: bool,
}

impl RsRow {
    /// Its images without their registry and path (`registry.local/team/api:v2` is
    /// `api:v2`), so a row fits the panel; the whole names are the cell's tooltip.
    pub fn image_short(&self) -> String {
        self.image
            .split(", ")
            .map(|i| i.rsplit_once('/').map_or(i, |(_, name)| name))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One Deployment.
#[derive(Debug, Clone)]
pub struct DeploymentView {
    /// `namespace/name`.
    pub key: String,
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// Revision.
    pub revision: i64,
    /// Strategy and its bounds, in words.
    pub strategy: String,
    /// The bounds, in words.
    pub bounds: Vec<String>,
    /// `10 desired | 2 updated | 12 total | 10 available | 2 unavailable`.
    pub replicas: String,
    /// (type, status, reason).
    pub conditions: Vec<(String, String, String)>,
    /// ReplicaSets, newest revision first.
    pub rss: Vec<RsRow>,
    /// Controller decisions, newest first.
    pub why: Vec<WhyView>,
    /// How many decisions this Deployment's controllers made in the whole run.
    pub why_total: usize,
    /// Paused?
    pub paused: bool,
}

/// One controller decision as a student reads it: the plain sentence, and the arithmetic one
/// click away.
#[derive(Debug, Clone)]
pub struct WhyView {
    /// Its number in the run (1 = the first decision about this Deployment).
    pub number: usize,
    /// Virtual time of the decision, in milliseconds (the page shows how long ago).
    pub at_ms: u64,
    /// The virtual time as a clock reading (`1m5s`), shown on hover.
    pub at: String,
    /// What was done, in a sentence.
    pub said: String,
    /// The controller's arithmetic.
    pub because: String,
}

/// Decisions listed in a Deployment's panel (the newest); the rest are a scroll away.
pub const WHY_SHOWN: usize = 50;

/// The Deployments panel: one `<article>` per Deployment ([`DeploymentsPanel::parts`]).
pub struct DeploymentsPanel {
    /// Deployments (at most [`MAX_DEPLOYMENTS_SHOWN`]).
    pub deployments: Vec<DeploymentView>,
    /// How many more exist.
    pub more: usize,
}

/// One Deployment's article.
#[derive(Template)]
#[template(path = "deployment.html")]
struct DeploymentArticle<'a> {
    d: &'a DeploymentView,
}

impl DeploymentsPanel {
    /// The panel's HTML.
    pub fn html(&self) -> String {
        self.parts().html()
    }

    /// The panel as keyed parts: one article per Deployment, and the lines around them.
    pub fn parts(&self) -> Parts {
        let mut parts = Vec::new();
        if self.deployments.is_empty() {
            parts.push(Part::new(
                "empty",
                "<p class=\"empty\" data-key=\"empty\">No Deployment yet. Apply one in the YAML box below.</p>".into(),
            ));
        }
        for d in &self.deployments {
            parts.push(Part::new(
                &d.key,
                DeploymentArticle { d }.render().unwrap_or_default(),
            ));
        }
        if self.more > 0 {
            parts.push(Part::new(
                "more",
                format!(
                    "<p class=\"empty\" data-key=\"more\">and {} more Deployments (kubectl get deploy -A lists them all)</p>",
                    self.more
                ),
            ));
        }
        Parts {
            within: "",
            before: String::new(),
            after: String::new(),
            parts,
        }
    }
}

/// Deployments detailed on the page; the rest are counted.
pub const MAX_DEPLOYMENTS_SHOWN: usize = 12;

fn pct_words(v: Option<&k8s::IntOrString>, replicas: i32, resolved: i32, what: &str) -> String {
    match v {
        Some(k8s::IntOrString::String(s)) => format!("{what} {s} of {replicas} → {resolved}"),
        Some(k8s::IntOrString::Int(i)) => format!("{what} {i}"),
        None => format!("{what} 0"),
    }
}

mod k8s {
    pub(super) use sim_core::api::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
}

/// A virtual duration as kubectl prints ages (`42s`, `3m10s`).
pub fn human_ms(ms: u64) -> String {
    t(ms)
}

fn t(ms: u64) -> String {
    human_duration(sim_core::api::k8s_openapi::jiff::SignedDuration::from_millis(ms as i64))
}

impl DeploymentsPanel {
    /// From the cluster.
    pub fn of(sim: &Sim, scope: Scope<'_>) -> DeploymentsPanel {
        let mut deployments = Vec::new();
        let total = sim.store.deployments.len();
        for (ns, name, id) in sim
            .store
            .deployments
            .all_names()
            .filter(|(ns, _, _)| scope.is_none_or(|s| s == *ns))
            .take(MAX_DEPLOYMENTS_SHOWN)
        {
            let Some((_, d)) = sim.store.deployments.get(id) else {
                continue;
            };
            let replicas = util::replicas(d);
            let st = d.status.clone().unwrap_or_default();
            let rolling = util::is_rolling(d);
            let ru = d
                .spec
                .as_ref()
                .and_then(|s| s.strategy.as_ref())
                .and_then(|s| s.rolling_update.as_ref());
            let surge = util::max_surge(d);
            let unavailable = util::max_unavailable(d);
            let (strategy, bounds) = if rolling {
                (
                    format!(
                        "RollingUpdate: {}, {}",
                        pct_words(
                            ru.and_then(|r| r.max_surge.as_ref()),
                            replicas,
                            surge,
                            "maxSurge"
                        ),
                        pct_words(
                            ru.and_then(|r| r.max_unavailable.as_ref()),
                            replicas,
                            unavailable,
                            "maxUnavailable"
                        )
                    ),
                    vec![
                        format!(
                            "at most {} pods in total (replicas {replicas} + maxSurge {surge})",
                            replicas + surge
                        ),
                        format!(
                            "at least {} available (replicas {replicas} − maxUnavailable {unavailable})",
                            replicas - unavailable
                        ),
                    ],
                )
            } else {
                (
                    "Recreate: every old pod stops before any new pod starts".to_string(),
                    vec![
                        "downtime between the last old pod and the first new ready pod".to_string(),
                    ],
                )
            };
            let template = d.spec.as_ref().map(|s| &s.template);
            let mut rss: Vec<RsRow> = sim
                .revisions(id)
                .into_iter()
                .filter_map(|(rev, rid)| {
                    let e = sim.store.replicasets.get(rid)?;
                    let (current, ready, available) = util::rs_status(&e.rs);
                    let image = e
                        .template
                        .spec
                        .iter()
                        .flat_map(|s| s.containers.iter().filter_map(|c| c.image.clone()))
                        .collect::<Vec<_>>()
                        .join(", ");
                    Some(RsRow {
                        revision: rev,
                        name: e.rs.metadata.name.clone().unwrap_or_default(),
                        image,
                        desired: util::rs_replicas(&e.rs),
                        current,
                        ready,
                        available,
                        is_new: template.is_some_and(|t| util::equal_ignore_hash(&e.template, t)),
                    })
                })
                .collect();
            rss.reverse();
            let mine = |x: &&sim_core::store::Decision| {
                x.object.id == id && x.object.kind == Kind::Deployment
            };
            let why_total = sim.store.decisions.iter().filter(mine).count();
            let why: Vec<WhyView> = sim
                .store
                .decisions
                .iter()
                .rev()
                .filter(mine)
                .take(WHY_SHOWN)
                .enumerate()
                .map(|(k, x)| WhyView {
                    number: why_total - k,
                    at_ms: x.time.millis(),
                    at: t(x.time.millis()),
                    said: x.said.clone(),
                    because: x.text.clone(),
                })
                .collect();
            deployments.push(DeploymentView {
                key: format!("{ns}/{name}"),
                name: name.to_string(),
                namespace: ns.to_string(),
                revision: util::revision_of(d.metadata.annotations.as_ref()),
                strategy,
                bounds,
                replicas: format!(
                    "{replicas} desired | {} updated | {} total | {} available | {} unavailable",
                    st.updated_replicas.unwrap_or(0),
                    st.replicas.unwrap_or(0),
                    st.available_replicas.unwrap_or(0),
                    st.unavailable_replicas.unwrap_or(0)
                ),
                conditions: st
                    .conditions
                    .iter()
                    .flatten()
                    .map(|c| {
                        (
                            c.type_.clone(),
                            c.status.clone(),
                            c.reason.clone().unwrap_or_default(),
                        )
                    })
                    .collect(),
                rss,
                why,
                why_total,
                paused: d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false),
            });
        }
        DeploymentsPanel {
            more: total.saturating_sub(deployments.len()),
            deployments,
        }
    }
}

/// One row of the events panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// The event's sequence number (its key on the page).
    pub seq: u64,
    /// When it was last seen, virtual ms (app.js computes the age from it on every tick).
    pub last_ms: u64,
    /// LAST SEEN, as kubectl prints it.
    pub age: String,
    /// `Normal` or `Warning`.
    pub kind: &'static str,
    /// REASON.
    pub reason: &'static str,
    /// OBJECT (`pod/web-1`).
    pub object: String,
    /// MESSAGE.
    pub message: String,
    /// How many times it was seen.
    pub count: u32,
}

/// One event row; without its age when it is a part sent to a live tab (the tab computes it).
#[derive(Template)]
#[template(path = "event_row.html")]
struct EventRowHtml<'a> {
    r: &'a EventRow,
    with_age: bool,
}

/// Recent events.
pub struct EventsPanel {
    /// Rows, newest first.
    pub rows: Vec<EventRow>,
}

const EVENTS_TABLE: &str = "<table class=\"events\"><thead><tr><th>last seen</th><th>type</th><th>reason</th><th>object</th><th>message</th></tr></thead><tbody>";

impl EventsPanel {
    /// The newest events first.
    pub fn of(sim: &Sim, scope: Scope<'_>) -> EventsPanel {
        let now = sim.now();
        // The 40 last seen (ties in the store's order), found before any row is built: a busy
        // cluster keeps thousands of events.
        let mut seen: Vec<(std::cmp::Reverse<u64>, usize, u32, EventRecord<'_>)> = sim
            .store
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                scope.is_none_or(|s| e.object.namespace.is_empty() || *e.object.namespace == *s)
            })
            .filter_map(|(i, e)| {
                let (count, last) = e.seen_at(now)?;
                Some((std::cmp::Reverse(last.millis()), i, count, e))
            })
            .collect();
        if seen.len() > 40 {
            seen.select_nth_unstable_by_key(39, |x| (x.0, x.1));
            seen.truncate(40);
        }
        seen.sort_unstable_by_key(|x| (x.0, x.1));
        let rows = seen
            .into_iter()
            .map(|(std::cmp::Reverse(last_ms), _, count, e)| {
                let kind = match e.object.kind {
                    Kind::Deployment => "deployment",
                    Kind::ReplicaSet => "replicaset",
                    Kind::Pod => "pod",
                    Kind::Node => "node",
                    Kind::Service => "service",
                    _ => "object",
                };
                EventRow {
                    seq: e.seq,
                    last_ms,
                    age: t(now.millis().saturating_sub(last_ms)),
                    kind: if e.warning { "Warning" } else { "Normal" },
                    reason: e.reason,
                    object: format!("{kind}/{}", e.object.name),
                    message: e.message().into_owned(),
                    count,
                }
            })
            .collect();
        EventsPanel { rows }
    }

    /// The panel's HTML, ages included (the first page, and pages without JavaScript).
    pub fn html(&self) -> String {
        let mut out = String::from(EVENTS_TABLE);
        for r in &self.rows {
            out.push_str(
                &EventRowHtml { r, with_age: true }
                    .render()
                    .unwrap_or_default(),
            );
        }
        out.push_str("</tbody></table>");
        out
    }

    /// The rows as parts, without their ages: a row is sent again only when it changes, not
    /// every second as it ages.
    pub fn parts(&self) -> Parts {
        Parts {
            within: "tbody",
            before: EVENTS_TABLE.into(),
            after: "</tbody></table>".into(),
            parts: self
                .rows
                .iter()
                .map(|r| {
                    Part::new(
                        &r.seq.to_string(),
                        EventRowHtml { r, with_age: false }
                            .render()
                            .unwrap_or_default(),
                    )
                })
                .collect(),
        }
    }
}

/// The clock and controls state.
#[derive(Template)]
#[template(path = "clock.html")]
pub struct ClockPanel {
    /// Virtual time.
    pub now: String,
    /// Speed label.
    pub speed: String,
    /// Paused?
    pub paused: bool,
    /// Scrubber position, ms.
    pub now_ms: u64,
    /// Scrubber end, ms.
    pub horizon_ms: u64,
    /// Scrubber start, ms.
    pub start_ms: u64,
    /// Actions so far.
    pub actions: usize,
    /// The machine cannot keep up with the speed: virtual time runs slower than asked.
    pub behind: bool,
}

impl ClockPanel {
    /// From the sandbox.
    pub fn of(sb: &Sandbox) -> ClockPanel {
        ClockPanel {
            now: t(sb.sim.now().millis()),
            speed: sb.speed.label(),
            paused: sb.speed == crate::sandbox::Speed::Paused,
            now_ms: sb.sim.now().millis(),
            horizon_ms: sb.horizon().millis().max(sb.sim.now().millis()),
            start_ms: sb.start.millis(),
            actions: sb.actions.len(),
            behind: sb.behind && sb.speed != crate::sandbox::Speed::Paused,
        }
    }
}

/// A short description of an action, for timeline markers.
pub fn action_label(a: &Action) -> String {
    match a {
        Action::Apply(_) => "kubectl apply".into(),
        Action::Replace(_) => "kubectl replace".into(),
        Action::Create(_) => "kubectl create".into(),
        Action::Kubectl(c) => {
            let words: Vec<&str> = c
                .split_whitespace()
                .filter(|w| !w.starts_with('-'))
                .take(3)
                .collect();
            format!("kubectl {}", words.join(" "))
        }
        Action::NodeDown(n) | Action::NodeUp(n) | Action::RemoveNode(n) => {
            let word = a
                .node_fault()
                .map_or("", |(f, _)| crate::sandbox::fault_word(f));
            format!("node {n} {word}")
        }
        Action::Request(r) => format!("{} {} {}", r.method, r.service, r.path),
        Action::Traffic(t) => format!("traffic {} req/s → {}", t.rps, t.service),
        Action::StopTraffic(s) => format!(
            "traffic stopped {}",
            s.service.as_deref().unwrap_or("(all)")
        ),
        Action::Api(call) => api_label(call),
        Action::Ingress(r) => format!("{} {}{} (ingress)", r.method, r.host, r.path),
        Action::Exec(e) => format!("kubectl exec {} -- {}", e.pod, e.command.join(" ")),
    }
}

/// What a write through the API changed, in the words of the kubectl command that sends such
/// a write (`scale web --replicas=4`, `set image web api=…:v2`, `rollout undo web`), else
/// its verb and object. A label only: nothing is run from it.
fn api_label(call: &sim_core::apiserver::call::ApiCall) -> String {
    use serde_json::Value;
    let name = call.name.as_deref().unwrap_or("");
    let b = &call.body;
    if call.subresource.as_deref() == Some("scale")
        && let Some(n) = b.pointer("/spec/replicas")
    {
        return format!("kubectl scale {name} --replicas={n}");
    }
    if let Some(ops) = b.as_array()
        && ops.iter().any(|op| op["path"] == "/spec/template")
    {
        return format!("kubectl rollout undo {name}");
    }
    let images: Vec<String> = b
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| Some(format!("{}={}", c["name"].as_str()?, c["image"].as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    if !images.is_empty() {
        return format!("kubectl set image {name} {}", images.join(" "));
    }
    if let Some(Value::Bool(p)) = b.pointer("/spec/paused") {
        let verb = if *p { "pause" } else { "resume" };
        return format!("kubectl rollout {verb} {name}");
    }
    if b.pointer("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt")
        .is_some()
    {
        return format!("kubectl rollout restart {name}");
    }
    if let Some(n) = b.pointer("/spec/replicas")
        && call.verb == sim_core::apiserver::call::Verb::Patch
    {
        return format!("kubectl scale {name} --replicas={n}");
    }
    let verb = match call.verb {
        sim_core::apiserver::call::Verb::Create => "create",
        sim_core::apiserver::call::Verb::Update => "replace",
        sim_core::apiserver::call::Verb::Patch => "patch",
        sim_core::apiserver::call::Verb::Delete => "delete",
    };
    format!("kubectl {verb} {}", call.target())
}

/// One keyed element of a panel drawn as [`Parts`]: its HTML is one element whose `data-key`
/// is `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Its `data-key`.
    pub key: String,
    /// Its HTML.
    pub html: String,
}

impl Part {
    /// A part.
    pub fn new(key: &str, html: String) -> Part {
        Part {
            key: key.to_string(),
            html,
        }
    }
}

/// A panel whose body is a list of keyed elements (the Deployments, the event rows): once a
/// tab has the panel, the stream sends the keys in order and only the elements that are new or
/// changed ([`Parts::diff`]); app.js keeps the others where they are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parts {
    /// Selector, inside the panel, of the element whose children are the parts (empty: the
    /// panel itself).
    pub within: &'static str,
    /// HTML before the parts.
    pub before: String,
    /// HTML after the parts.
    pub after: String,
    /// The parts, in page order.
    pub parts: Vec<Part>,
}

/// What a tab that has a panel's earlier state needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    /// Nothing it would see changed.
    Nothing,
    /// These changes, as JSON for app.js.
    Data(serde_json::Value),
    /// The whole panel's HTML.
    Html,
}

impl Parts {
    /// The panel's HTML.
    pub fn html(&self) -> String {
        let mut out = self.before.clone();
        for p in &self.parts {
            out.push_str(&p.html);
        }
        out.push_str(&self.after);
        out
    }

    /// What to send a tab that has `old`: `{"within": …, "order": [key…], "set": {key: html}}`
    /// with the parts that are new or changed, nothing when none moved or changed, the
    /// whole panel when what surrounds the parts changed.
    pub fn diff(&self, old: &Parts) -> Delta {
        if self.within != old.within || self.before != old.before || self.after != old.after {
            return Delta::Html;
        }
        let had: std::collections::HashMap<&str, &str> = old
            .parts
            .iter()
            .map(|p| (p.key.as_str(), p.html.as_str()))
            .collect();
        let set: serde_json::Map<String, serde_json::Value> = self
            .parts
            .iter()
            .filter(|p| had.get(p.key.as_str()) != Some(&p.html.as_str()))
            .map(|p| (p.key.clone(), p.html.clone().into()))
            .collect();
        let same_order = self.parts.len() == old.parts.len()
            && self
                .parts
                .iter()
                .zip(&old.parts)
                .all(|(a, b)| a.key == b.key);
        if set.is_empty() && same_order {
            return Delta::Nothing;
        }
        let order: Vec<&str> = self.parts.iter().map(|p| p.key.as_str()).collect();
        Delta::Data(serde_json::json!({"within": self.within, "order": order, "set": set}))
    }
}

/// Panels as the live stream uses them: the HTML of each, the tiles of the cluster panels
/// drawn as tiles, and the parts of the panels drawn as parts, by panel id.
#[derive(Debug, Default)]
pub struct Live {
    /// Every panel's HTML.
    pub panels: Panels,
    /// The tiles of each cluster panel drawn as tiles.
    pub tiles: Vec<(&'static str, std::sync::Arc<Tiles>)>,
    /// The parts of each panel drawn as parts.
    pub parts: Vec<(&'static str, std::sync::Arc<Parts>)>,
    /// The frame and growing lines of each timeline panel.
    pub grown: Vec<(&'static str, std::sync::Arc<crate::timeline::Grown>)>,
}

impl Live {
    /// The tiles of panel `id`, if it is drawn as tiles.
    pub fn tiles_of(&self, id: &str) -> Option<&std::sync::Arc<Tiles>> {
        self.tiles.iter().find(|(i, _)| *i == id).map(|(_, t)| t)
    }

    /// The parts of panel `id`, if it is drawn as parts.
    pub fn parts_of(&self, id: &str) -> Option<&std::sync::Arc<Parts>> {
        self.parts.iter().find(|(i, _)| *i == id).map(|(_, p)| p)
    }

    /// The frame and lines of panel `id`, if it is a timeline.
    pub fn grown_of(&self, id: &str) -> Option<&std::sync::Arc<crate::timeline::Grown>> {
        self.grown.iter().find(|(i, _)| *i == id).map(|(_, g)| g)
    }

    /// Adds the timeline panel `id`.
    pub fn push_timeline(&mut self, id: &'static str, timeline: crate::timeline::Grown) {
        self.panels.push((id, timeline.html.clone()));
        self.grown.push((id, std::sync::Arc::new(timeline)));
    }

    /// Adds the Deployments panel `id` of `sim`.
    pub fn push_deployments(&mut self, id: &'static str, sim: &Sim, scope: Scope<'_>) {
        let parts = DeploymentsPanel::of(sim, scope).parts();
        self.panels.push((id, parts.html()));
        self.parts.push((id, std::sync::Arc::new(parts)));
    }

    /// Adds the events panel `id` of `sim`.
    pub fn push_events(&mut self, id: &'static str, sim: &Sim, scope: Scope<'_>) {
        let panel = EventsPanel::of(sim, scope);
        self.panels.push((id, panel.html()));
        self.parts.push((id, std::sync::Arc::new(panel.parts())));
    }

    /// Adds the cluster panel `id` of `sim` (tiles, or a canvas).
    pub fn push_cluster(
        &mut self,
        id: &'static str,
        sim: &Sim,
        cache: &PodCells,
        scope: Scope<'_>,
    ) {
        let (html, tiles) = cluster(sim, cache, scope);
        self.panels.push((id, html));
        self.tiles
            .extend(tiles.map(|t| (id, std::sync::Arc::new(t))));
    }
}

/// Every live panel of the main page, showing namespace `scope`.
pub fn panels(sb: &Sandbox, scope: Scope<'_>) -> Panels {
    live(sb, scope).panels
}

/// Every live panel of the main page, with the cluster's tiles and the parts of the others;
/// the cluster, Deployments and events of namespace `scope`.
pub fn live(sb: &Sandbox, scope: Scope<'_>) -> Live {
    live_in(sb, scope, crate::timeline::Window::Follow)
}

/// [`live`], the timeline over `window`.
pub fn live_in(sb: &Sandbox, scope: Scope<'_>, window: crate::timeline::Window) -> Live {
    let mut live = Live::default();
    live.panels
        .push(("clock", ClockPanel::of(sb).render().unwrap_or_default()));
    live.push_cluster("cluster", &sb.sim, &sb.cells, scope);
    live.push_deployments("deployments", &sb.sim, scope);
    live.push_timeline("timeline", crate::timeline::grown_in(sb, window));
    live.push_events("events", &sb.sim, scope);
    live
}

mod cluster;
#[cfg(test)]
mod tests;
