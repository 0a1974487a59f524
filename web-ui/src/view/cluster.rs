//! The cluster panel: nodes with their pods grouped by owner (the Deployment, else the
//! ReplicaSet or the pod itself), in one namespace or all; as HTML, as tiles the stream
//! patches, or as a canvas for a large cluster.

use askama::Template;
use sim_core::Sim;
use sim_core::controller::deployment::util;
use sim_core::kubectl::print::pod_status_cells;
use sim_core::store::PodState;
/// One pod tile.
#[derive(Debug, Clone)]
pub struct PodView {
    /// Namespace.
    pub ns: String,
    /// Name.
    pub name: String,
    /// The random suffix, shown on the tile.
    pub short: String,
    /// kubectl's STATUS.
    pub status: String,
    /// The state class (colour) and its symbol.
    pub class: &'static str,
    /// Symbol for the state (readable without colour).
    pub icon: &'static str,
    /// READY (`1/1`).
    pub ready: String,
    /// RESTARTS.
    pub restarts: String,
    /// Revision number of its ReplicaSet.
    pub revision: i64,
    /// pod-template-hash.
    pub hash: String,
}

/// The pods of one owner on one node: what a student looks for ("my Deployment's pods").
#[derive(Debug, Clone)]
pub struct Group {
    /// Its label, which identifies the group on its node (`data-group`).
    pub key: String,
    /// What the group is called on the page: `deploy/NAME`, `rs/NAME` or `pods without an
    /// owner`, after `namespace/` when every namespace is shown.
    pub label: String,
    /// The same in words, for the tooltip.
    pub title: String,
    /// Its pods, by revision then name.
    pub pods: Vec<PodView>,
}

/// One node box.
#[derive(Debug, Clone)]
pub struct NodeView {
    /// Name.
    pub name: String,
    /// Ready?
    pub ready: bool,
    /// `Ready`, `NotReady`, `Ready,SchedulingDisabled`.
    pub status: String,
    /// CPU requested / allocatable.
    pub cpu: String,
    /// Pods on it, by owner.
    pub groups: Vec<Group>,
}

/// The letter standing for a state class: the stream's tiles and the canvas use it (r ready,
/// n running not ready, c creating, p pending, t terminating, x crashed, u image pull
/// failing, o OOMKilled, d done); app.js maps it back to the class and symbol.
pub fn class_letter(class: &str) -> char {
    match class {
        "ready" => 'r',
        "notready" => 'n',
        "terminating" => 't',
        "crash" => 'x',
        "pull" => 'u',
        "oom" => 'o',
        "done" => 'd',
        "creating" => 'c',
        _ => 'p',
    }
}

/// A pod's state class and symbol from kubectl's STATUS and READY.
pub fn classify(status: &str, ready: &str) -> (&'static str, &'static str) {
    let all_ready = ready
        .split_once('/')
        .is_some_and(|(a, b)| a == b && a != "0");
    match status {
        "Running" if all_ready => ("ready", "●"),
        "Running" => ("notready", "◐"),
        "Terminating" => ("terminating", "↓"),
        "CrashLoopBackOff" | "Error" => ("crash", "✕"),
        "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => ("pull", "⚠"),
        "OOMKilled" => ("oom", "✕"),
        "Completed" => ("done", "✓"),
        "ContainerCreating" | "PodInitializing" => ("creating", "◌"),
        _ => ("pending", "○"),
    }
}

/// kubectl's READY, STATUS and RESTARTS cells of pods, remembered by pod and resourceVersion.
///
/// Building the Pod object that kubectl's printer reads is most of a cluster render's cost,
/// and between two renders most pods did not change: every change to a pod gives it a new
/// resourceVersion. Cells whose RESTARTS mention a time ("2 (34s ago)") are not kept, as they
/// change with the clock alone. One cache belongs to one run: a run rebuilt from its seed (the
/// scrubber) gets a new one.
#[derive(Debug, Default)]
pub struct PodCells(
    pub(super) std::sync::Mutex<std::collections::HashMap<(u64, u64), [String; 3]>>,
);

impl PodCells {
    fn cells(
        &self,
        sim: &Sim,
        p: &PodState,
        now: sim_core::api::k8s_openapi::jiff::Timestamp,
    ) -> [String; 3] {
        let key = (p.id, p.resource_version);
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get(&key) {
            return c.clone();
        }
        let (ready, status, restarts) = pod_status_cells(&sim.store.pod_object(p), now);
        let cells = [ready, status, restarts];
        if cells[2] == "0" {
            // Forget pods that are gone or changed, now and then.
            if map.len() > 2 * sim.store.pods.len() + 1024 {
                map.retain(|(id, rv), _| {
                    sim.store
                        .pods
                        .get(*id)
                        .is_some_and(|p| p.resource_version == *rv)
                });
            }
            map.insert(key, cells.clone());
        }
        cells
    }
}

/// The namespace a page shows (`None`: every namespace).
pub type Scope<'a> = Option<&'a str>;

/// A pod's owner as the page names it: its ReplicaSet's Deployment, else its ReplicaSet, else
/// none; as (short label, words).
fn owner_of(sim: &Sim, p: &PodState) -> (String, String) {
    let Some(rs) = p.owner.and_then(|rs| sim.store.replicasets.get(rs)) else {
        return (
            "pods without an owner".into(),
            "pods no controller owns".into(),
        );
    };
    let rs_name = rs.rs.metadata.name.clone().unwrap_or_default();
    match rs.owner.and_then(|d| sim.store.deployments.get(d)) {
        Some((_, d)) => {
            let name = d.metadata.name.clone().unwrap_or_default();
            (format!("deploy/{name}"), format!("Deployment {name}"))
        }
        None => (format!("rs/{rs_name}"), format!("ReplicaSet {rs_name}")),
    }
}

/// The pods of `ids` in `scope`, grouped by owner (groups by namespace and label).
fn groups_of(
    sim: &Sim,
    cache: &PodCells,
    scope: Scope<'_>,
    ids: impl Iterator<Item = u64>,
) -> Vec<Group> {
    let mut groups: std::collections::BTreeMap<(String, String), Group> = Default::default();
    for (pod, (label, words)) in pods_of(sim, cache, scope, ids) {
        let key = (pod.ns.clone(), label);
        groups
            .entry(key.clone())
            .or_insert_with(|| {
                // The label is the key: a group shown with another label is another list.
                let label = match scope {
                    Some(_) => key.1.clone(),
                    None => format!("{}/{}", key.0, key.1),
                };
                Group {
                    key: label.clone(),
                    label,
                    title: format!("{words} in namespace {}", key.0),
                    pods: Vec::new(),
                }
            })
            .pods
            .push(pod);
    }
    groups.into_values().collect()
}

fn pods_of(
    sim: &Sim,
    cache: &PodCells,
    scope: Scope<'_>,
    ids: impl Iterator<Item = u64>,
) -> Vec<(PodView, (String, String))> {
    let now = sim.store.now_timestamp();
    let mut out: Vec<(PodView, (String, String))> = ids
        .filter_map(|id| sim.store.pods.get(id))
        .filter(|p| scope.is_none_or(|ns| *p.namespace == *ns))
        .map(|p| {
            let [ready, status, restarts] = cache.cells(sim, p, now);
            let (class, icon) = classify(&status, &ready);
            let hash = p
                .labels()
                .get(util::POD_TEMPLATE_HASH)
                .cloned()
                .unwrap_or_default();
            let revision = p
                .owner
                .and_then(|rs| sim.store.replicasets.get(rs))
                .map_or(0, |e| util::rs_revision(&e.rs));
            let view = PodView {
                ns: p.namespace.to_string(),
                name: p.name.to_string(),
                short: p.name.rsplit('-').next().unwrap_or(&p.name).to_string(),
                status,
                class,
                icon,
                ready,
                restarts,
                revision,
                hash,
            };
            (view, owner_of(sim, p))
        })
        .collect();
    out.sort_by(|(a, _), (b, _)| (a.revision, &a.name).cmp(&(b.revision, &b.name)));
    out
}

/// The cluster panel.
#[derive(Template)]
#[template(path = "cluster.html")]
pub struct ClusterPanel {
    /// Nodes.
    pub nodes: Vec<NodeView>,
    /// Pods no node took, by owner.
    pub unscheduled: Vec<Group>,
    /// Pods shown.
    pub total: usize,
    /// The namespace shown (`None`: all).
    pub namespace: Option<String>,
    /// Pods in every namespace.
    pub everywhere: usize,
    /// The sandbox's pod limit (`Sim::limits`).
    pub limit: usize,
}

/// One pod tile as the live stream sends it (app.js builds the same button as
/// `pod_tile.html`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    /// Index of its list (`ul.pods`, one per owner on a node) in page order, the
    /// unscheduled box's last.
    pub node: usize,
    /// The state class as a letter ([`class_letter`]).
    pub letter: char,
    /// kubectl's STATUS (READY is in the letter: `r` or `n`).
    pub status: String,
    /// Revision of its ReplicaSet.
    pub revision: i64,
    /// RESTARTS.
    pub restarts: String,
}

/// One node box as the live stream sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeBox {
    /// Its `aria-label`, which identifies it.
    pub label: String,
    /// Its class attribute.
    pub class: String,
    /// The status in its header.
    pub status: String,
    /// The CPU line in its header (empty for the unscheduled box).
    pub cpu: String,
}

/// The cluster panel as data: once a tab has the panel's HTML, the stream sends only the tiles
/// that changed ([`Tiles::diff`]) and app.js patches them in place, so a busy cluster of a
/// thousand pods costs a few KiB of JSON per update instead of the whole panel's HTML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tiles {
    /// The boxes, in page order.
    pub nodes: Vec<NodeBox>,
    /// The lists of tiles, in page order: each one's node box and `data-group`.
    pub lists: Vec<(usize, String)>,
    /// Every pod by (namespace, name).
    pub pods: std::collections::BTreeMap<(String, String), Tile>,
    /// The count line under the boxes.
    pub count: String,
}

impl Tiles {
    /// What to send a tab that has `old`: the boxes whose header changed, the tiles that are
    /// new or changed, the pods that are gone, and the count, as
    /// `{"nodes": [[i, class, status, cpu]], "set": [[ns, name, node, letter, status,
    /// revision, restarts]], "del": [[ns, name]], "count": "…"}`.
    /// `None` when the boxes themselves differ (a node came or went): then the tab gets the
    /// panel's HTML.
    pub fn diff(&self, old: &Tiles) -> Option<serde_json::Value> {
        use serde_json::json;
        if self.nodes.len() != old.nodes.len()
            || self.lists != old.lists
            || self
                .nodes
                .iter()
                .zip(&old.nodes)
                .any(|(a, b)| a.label != b.label)
        {
            return None;
        }
        let nodes: Vec<serde_json::Value> = self
            .nodes
            .iter()
            .zip(&old.nodes)
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, (a, _))| json!([i, a.class, a.status, a.cpu]))
            .collect();
        let set: Vec<serde_json::Value> = self
            .pods
            .iter()
            .filter(|(k, t)| old.pods.get(*k) != Some(*t))
            .map(|((ns, name), t)| {
                json!([
                    ns,
                    name,
                    t.node,
                    t.letter.to_string(),
                    t.status,
                    t.revision,
                    t.restarts
                ])
            })
            .collect();
        let del: Vec<serde_json::Value> = old
            .pods
            .keys()
            .filter(|k| !self.pods.contains_key(*k))
            .map(|(ns, name)| json!([ns, name]))
            .collect();
        Some(json!({"nodes": nodes, "set": set, "del": del, "count": self.count}))
    }
}

impl ClusterPanel {
    /// The same panel as data, for the live stream.
    pub fn tiles(&self) -> Tiles {
        let mut nodes: Vec<NodeBox> = self
            .nodes
            .iter()
            .map(|n| NodeBox {
                label: format!("node {}", n.name),
                class: if n.ready { "node" } else { "node node-down" }.into(),
                status: n.status.clone(),
                cpu: n.cpu.clone(),
            })
            .collect();
        if !self.unscheduled.is_empty() {
            nodes.push(NodeBox {
                label: "unscheduled pods".into(),
                class: "node unscheduled".into(),
                status: "no node fits".into(),
                cpu: String::new(),
            });
        }
        let boxes = self
            .nodes
            .iter()
            .map(|n| &n.groups)
            .chain([&self.unscheduled]);
        let lists: Vec<(usize, &Group)> = boxes
            .enumerate()
            .flat_map(|(i, groups)| groups.iter().map(move |g| (i, g)))
            .collect();
        let pods = lists
            .iter()
            .enumerate()
            .flat_map(|(i, (_, g))| g.pods.iter().map(move |p| (i, p)))
            .map(|(node, p)| {
                (
                    (p.ns.clone(), p.name.clone()),
                    Tile {
                        node,
                        letter: class_letter(p.class),
                        status: p.status.clone(),
                        revision: p.revision,
                        restarts: p.restarts.clone(),
                    },
                )
            })
            .collect();
        Tiles {
            nodes,
            lists: lists.iter().map(|(i, g)| (*i, g.key.clone())).collect(),
            pods,
            count: self.count(),
        }
    }

    /// The line under the boxes: how many pods, where.
    pub fn count(&self) -> String {
        let limit = thousands(self.limit);
        match &self.namespace {
            None => format!("{} pods in all namespaces (at most {limit})", self.total),
            Some(ns) => format!(
                "{} pods in namespace {ns} ({} in all namespaces, at most {limit})",
                self.total, self.everywhere
            ),
        }
    }

    /// From the cluster: the pods of `scope`.
    pub fn of(sim: &Sim, cache: &PodCells, scope: Scope<'_>) -> ClusterPanel {
        let nodes = sim
            .store
            .nodes
            .iter()
            .map(|(id, n)| {
                let cordoned = n
                    .node
                    .spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false);
                let status = match (n.ready, cordoned) {
                    (true, false) => "Ready",
                    (true, true) => "Ready,SchedulingDisabled",
                    (false, false) => "NotReady",
                    (false, true) => "NotReady,SchedulingDisabled",
                };
                let _ = id;
                NodeView {
                    name: n.name.to_string(),
                    ready: n.ready,
                    status: status.into(),
                    cpu: format!("{}m / {}m CPU requested", n.used_cpu, n.alloc_cpu),
                    groups: groups_of(sim, cache, scope, n.pods.iter().copied()),
                }
            })
            .collect();
        let unscheduled = groups_of(
            sim,
            cache,
            scope,
            sim.store
                .pods
                .iter()
                .filter(|(_, p)| p.node.is_none())
                .map(|(id, _)| id),
        );
        let total = match scope {
            None => sim.store.pods.len(),
            Some(ns) => sim
                .store
                .pods
                .iter()
                .filter(|(_, p)| *p.namespace == *ns)
                .count(),
        };
        ClusterPanel {
            nodes,
            unscheduled,
            total,
            namespace: scope.map(str::to_string),
            everywhere: sim.store.pods.len(),
            limit: sim.limits.pods,
        }
    }
}

/// `150000` as `150,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Above this many pods the cluster is drawn on a canvas (DOM tiles stay fluid up to about
/// 2,000).
pub const CANVAS_ABOVE: usize = 2000;

/// The state letter of a pod for the canvas, from its state directly (no API object built):
/// r ready, n running not ready, c creating, p pending, t terminating, x crashed, u image
/// pull failing, o OOMKilled, d done.
fn quick_class(p: &sim_core::store::PodState) -> char {
    use sim_core::store::pod::{CState, Phase, WaitReason};
    if p.deletion.is_some() {
        return 't';
    }
    if p.node.is_none() {
        return 'p';
    }
    match p.phase {
        Phase::Succeeded => return 'd',
        Phase::Failed => return 'x',
        _ => {}
    }
    for c in &p.containers {
        match &c.state {
            CState::Waiting {
                reason: WaitReason::CrashLoopBackOff,
                ..
            } => return 'x',
            CState::Waiting {
                reason: WaitReason::ErrImagePull | WaitReason::ImagePullBackOff,
                ..
            } => return 'u',
            CState::Terminated(t) if t.reason == "OOMKilled" => return 'o',
            CState::Terminated(_) => return 'x',
            _ => {}
        }
    }
    if p.ready {
        'r'
    } else if p.containers.iter().all(|c| c.has_started()) {
        'n'
    } else {
        'c'
    }
}

/// The cluster panel of a large cluster: per node, one letter and one revision digit per pod,
/// drawn on a canvas by app.js.
#[derive(Template)]
#[template(path = "cluster_canvas.html")]
pub struct ClusterCanvas {
    /// `name:status:letters` per node, `|`-separated.
    pub data: String,
    /// Pods per state letter.
    pub counts: Vec<(char, &'static str, usize)>,
    /// Pods per revision.
    pub revisions: Vec<(i64, usize)>,
    /// Pods in total.
    pub total: usize,
    /// Nodes.
    pub nodes: usize,
}

impl ClusterCanvas {
    /// From the cluster.
    pub fn of(sim: &Sim) -> ClusterCanvas {
        let mut data = String::new();
        let mut counts: std::collections::BTreeMap<char, usize> = Default::default();
        let mut revs: std::collections::BTreeMap<i64, usize> = Default::default();
        let rev_of = |p: &sim_core::store::PodState| {
            p.owner
                .and_then(|rs| sim.store.replicasets.get(rs))
                .map_or(0, |e| util::rs_revision(&e.rs))
        };
        let mut line =
            |name: &str,
             ready: bool,
             pods: &mut dyn Iterator<Item = &sim_core::store::PodState>| {
                if !data.is_empty() {
                    data.push('|');
                }
                data.push_str(name);
                data.push(':');
                data.push(if ready { 'R' } else { 'N' });
                data.push(':');
                for p in pods {
                    let c = quick_class(p);
                    let r = rev_of(p);
                    *counts.entry(c).or_default() += 1;
                    *revs.entry(r).or_default() += 1;
                    data.push(c);
                    data.push(char::from_digit((r % 8) as u32, 10).unwrap_or('0'));
                }
            };
        for (_, n) in sim.store.nodes.iter() {
            line(
                &n.name,
                n.ready,
                &mut n.pods.iter().filter_map(|id| sim.store.pods.get(*id)),
            );
        }
        let unscheduled: Vec<&sim_core::store::PodState> = sim
            .store
            .pods
            .iter()
            .filter(|(_, p)| p.node.is_none())
            .map(|(_, p)| p)
            .collect();
        if !unscheduled.is_empty() {
            line("not scheduled", false, &mut unscheduled.into_iter());
        }
        let label = |c: char| match c {
            'r' => "Running, ready",
            'n' => "Running, not ready",
            'c' => "ContainerCreating",
            'p' => "Pending",
            't' => "Terminating",
            'x' => "CrashLoopBackOff / Error",
            'u' => "ImagePullBackOff",
            'o' => "OOMKilled",
            _ => "Completed",
        };
        ClusterCanvas {
            data,
            counts: counts.into_iter().map(|(c, n)| (c, label(c), n)).collect(),
            revisions: revs.into_iter().collect(),
            total: sim.store.pods.len(),
            nodes: sim.store.nodes.len(),
        }
    }
}

/// The cluster panel's HTML, and its tiles as data unless it is a canvas.
pub fn cluster(sim: &Sim, cache: &PodCells, scope: Scope<'_>) -> (String, Option<Tiles>) {
    if sim.store.pods.len() > CANVAS_ABOVE {
        (ClusterCanvas::of(sim).render().unwrap_or_default(), None)
    } else {
        let panel = ClusterPanel::of(sim, cache, scope);
        (panel.render().unwrap_or_default(), Some(panel.tiles()))
    }
}

/// The namespace picker above the cluster (the page's current namespace).
#[derive(Template)]
#[template(path = "namespaces.html")]
struct NamespacePicker<'a> {
    /// The server's form token (`crate::guard`).
    form_token: &'a str,
    /// Where the picker posts (`/namespace`, `/scenarios/ID/namespace`).
    action: &'a str,
    all: bool,
    names: Vec<(String, bool)>,
}

/// The namespace picker's HTML: every namespace, `scope` selected (`None`: all namespaces).
pub fn namespace_picker(sim: &Sim, scope: Scope<'_>, form_token: &str) -> String {
    namespace_picker_at(sim, scope, form_token, "/namespace")
}

/// [`namespace_picker`] posting to `action` (a scenario page's own).
pub fn namespace_picker_at(sim: &Sim, scope: Scope<'_>, form_token: &str, action: &str) -> String {
    let mut names: std::collections::BTreeSet<String> = sim
        .store
        .namespaces
        .all_names()
        .map(|(_, n, _)| n.to_string())
        .collect();
    // A namespace typed into the console that does not exist (yet) is still the current one.
    names.extend(scope.map(str::to_string));
    NamespacePicker {
        form_token,
        action,
        all: scope.is_none(),
        names: names
            .into_iter()
            .map(|n| {
                let on = scope == Some(n.as_str());
                (n, on)
            })
            .collect(),
    }
    .render()
    .unwrap_or_default()
}
