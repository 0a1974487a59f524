//! A scenario on a cluster kubesim does not run (kind, minikube, GKE): what of it can run
//! there and what is skipped and why ([`plan`]), which namespaces it may write in, the objects
//! it applies (images swapped for the scenario's `realCluster.images`), and the step's history
//! as the CLI's watches feed it ([`History`]). No IO: `kubesim scenario play` lists, watches,
//! applies and waits at the edge.
//!
//! The safety rules live here, so they are tested without a cluster: a write goes only to a
//! namespace the scenario declares (`setup.namespace` and `realCluster.namespaces`, else
//! `default`); a cluster-scoped object only when it is one of those namespaces; a kubectl line
//! only with a declared `-n` (added when missing) and never a deleting verb: play never
//! deletes anything.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;
use sim_core::action::Action;
use sim_core::api::resource::{RESOURCES, Resource};
use sim_core::script::StepSpec;
use sim_core::trace::DeploymentTrace;
use sim_core::traffic::ServiceSecond;

use crate::check::World;
use crate::format::{Check, Scenario, Step};

/// The check functions that read traffic kubesim sends; a real cluster gets none from it.
pub const TRAFFIC_FUNCTIONS: &[&str] = &["requests", "errors", "p50", "p99", "answers"];

/// Why a scenario cannot be played on a real cluster as written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RealError {
    /// An object or command names a namespace the scenario does not declare.
    #[error(
        "{what} is in namespace {namespace:?}, which the scenario does not declare (it may write only in {declared}); add it to `realCluster.namespaces` if that is intended"
    )]
    UndeclaredNamespace {
        /// The object or command.
        what: String,
        /// Its namespace.
        namespace: String,
        /// The declared ones, listed.
        declared: String,
    },
    /// A cluster-scoped object other than a declared namespace.
    #[error(
        "{what} is cluster-scoped: play writes only inside the scenario's namespaces ({declared})"
    )]
    ClusterScoped {
        /// The object.
        what: String,
        /// The declared namespaces, listed.
        declared: String,
    },
    /// A manifest kubesim cannot read.
    #[error("{what}: {message}")]
    Manifest {
        /// Where (the setup's object N, step N's action M).
        what: String,
        /// Why.
        message: String,
    },
}

/// What one script step of the scenario does on a real cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum RealAction {
    /// Server-side apply of these objects (field manager `kubesim`).
    Apply(Vec<Write>),
    /// The user's `kubectl` with these arguments (no shell), the namespace made explicit.
    Kubectl(Vec<String>),
    /// Wait on the wall clock: a virtual-time step (`advance`) of this many seconds.
    Wait(f64),
    /// Wait until a Deployment has rolled out, at most this many seconds.
    Rollout {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// The upper bound, in seconds.
        timeout: f64,
    },
    /// Print a line.
    Echo(String),
    /// Load on a Service, sent through the API server's service proxy
    /// (`/api/v1/namespaces/NS/services/NAME/proxy/PATH`), so the traffic checks have
    /// something to read there too.
    Traffic(sim_core::action::Traffic),
    /// Stop the load on a Service, or on every Service of a namespace.
    StopTraffic {
        /// Its namespace.
        namespace: String,
        /// The Service (all of the namespace's when absent).
        service: Option<String>,
    },
    /// Not run on a real cluster, with what and why.
    Skip {
        /// The step as written, in short.
        what: String,
        /// Why it cannot run.
        why: String,
    },
}

/// One object to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// Its resource.
    pub resource: &'static Resource,
    /// Its namespace (None when cluster-scoped).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// The object, as JSON, with its namespace set and images swapped.
    pub body: Json,
}

impl Write {
    /// `deployment.apps/web -n shop`, as kubectl names what it applied.
    pub fn describe(&self) -> String {
        let kind = self.resource.singular;
        let group = if self.resource.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.resource.group)
        };
        match &self.namespace {
            Some(ns) => format!("{kind}{group}/{} -n {ns}", self.name),
            None => format!("{kind}{group}/{}", self.name),
        }
    }
}

/// What a step does on a real cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPlan {
    /// Why the step is not played (its `realCluster.skip`).
    pub skip: Option<String>,
    /// Its actions, in order.
    pub actions: Vec<RealAction>,
    /// Its timed events: (seconds after the step began, what it says, its actions).
    pub at: Vec<(f64, Option<String>, Vec<RealAction>)>,
    /// Its conditional events: (CEL condition, what it says, its actions).
    pub when: Vec<(String, Option<String>, Vec<RealAction>)>,
    /// For each check: whether it is played (`None`) or why not.
    pub checks: Vec<Option<String>>,
}

/// The whole scenario on a real cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The namespaces it may write in.
    pub namespaces: Vec<String>,
    /// Notes on the setup (the cluster's shape, declared image behaviours, images kubesim
    /// alone runs).
    pub notes: Vec<String>,
    /// The setup: the namespace, the objects, then the setup's steps.
    pub setup: Vec<RealAction>,
    /// Each step.
    pub steps: Vec<StepPlan>,
}

impl Plan {
    /// Every write the plan makes, in order (for `--dry-run` and the `--yes` question).
    pub fn writes(&self) -> impl Iterator<Item = &RealAction> {
        let steps = self.steps.iter().flat_map(|s| {
            s.actions
                .iter()
                .chain(s.at.iter().flat_map(|e| &e.2))
                .chain(s.when.iter().flat_map(|e| &e.2))
        });
        self.setup
            .iter()
            .chain(steps)
            .filter(|a| matches!(a, RealAction::Apply(_) | RealAction::Kubectl(_)))
    }

    /// What would not run as in the sandbox, one line each (`scenario validate --target
    /// real`).
    pub fn skipped(&self) -> Vec<String> {
        let mut out: Vec<String> = self.notes.iter().map(|n| format!("setup: {n}")).collect();
        fn skips(out: &mut Vec<String>, at: &str, actions: &[RealAction]) {
            for a in actions {
                if let RealAction::Skip { what, why } = a {
                    out.push(format!("{at}: {what} is skipped: {why}"));
                }
            }
        }
        skips(&mut out, "setup", &self.setup);
        for (i, s) in self.steps.iter().enumerate() {
            let at = format!("step {}", i + 1);
            if let Some(why) = &s.skip {
                out.push(format!("{at} is skipped: {why}"));
                continue;
            }
            skips(&mut out, &at, &s.actions);
            for e in &s.at {
                skips(&mut out, &at, &e.2);
            }
            for e in &s.when {
                skips(&mut out, &at, &e.2);
            }
            for (c, why) in s.checks.iter().enumerate() {
                if let Some(why) = why {
                    out.push(format!("{at}: check {} is not checked: {why}", c + 1));
                }
            }
        }
        out
    }
}

/// The scenario moved into namespace `to` (`scenario play -n NS`: a shared cluster where a
/// student owns one namespace): its namespace (`setup.namespace`, else `default`) becomes
/// `to` in the setup's objects, every manifest and kubectl line of its steps, events and
/// solutions, `waitFor`, the checks' and conditions' quoted namespace literals, and the
/// step texts' `-n NAMESPACE` and `` `NAMESPACE` ``.
pub fn in_namespace(scenario: &Scenario, to: &str) -> Scenario {
    let from = scenario
        .setup
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let mut s = scenario.clone();
    if from == to {
        return s;
    }
    let manifest = |text: &str| -> String {
        let mut docs = Vec::new();
        for doc in serde_yaml::Deserializer::from_str(text) {
            let Ok(v) = <serde_yaml::Value as serde::Deserialize>::deserialize(doc) else {
                return text.to_string();
            };
            let Ok(mut j) = serde_json::to_value(&v) else {
                return text.to_string();
            };
            if j["metadata"]["namespace"].as_str() == Some(from.as_str()) {
                j["metadata"]["namespace"] = Json::String(to.into());
            }
            if !j.is_null() {
                docs.push(j.to_string());
            }
        }
        docs.join("\n---\n")
    };
    let kubectl = |line: &str| -> String {
        let Ok(words) = sim_core::kubectl::split_words(line) else {
            return line.to_string();
        };
        let mut out = Vec::new();
        let mut after_n = false;
        for w in words {
            let w = if after_n && w == from {
                to.to_string()
            } else if w == format!("--namespace={from}") {
                format!("--namespace={to}")
            } else if w == format!("-n={from}") {
                format!("-n={to}")
            } else {
                w
            };
            after_n = w == "-n" || w == "--namespace";
            out.push(if w.contains(char::is_whitespace) || w.is_empty() {
                format!("'{w}'")
            } else {
                w
            });
        }
        out.join(" ")
    };
    let spec = |sp: &mut StepSpec| match sp {
        StepSpec::Act(Action::Apply(t) | Action::Create(t) | Action::Replace(t)) => {
            *t = manifest(t)
        }
        StepSpec::Act(Action::Kubectl(l)) => *l = kubectl(l),
        StepSpec::WaitFor(w) if w.namespace.as_deref().unwrap_or("default") == from => {
            w.namespace = Some(to.into());
        }
        StepSpec::Act(Action::Traffic(t)) if t.namespace == from => t.namespace = to.into(),
        StepSpec::Act(Action::StopTraffic(t)) if t.namespace == from => t.namespace = to.into(),
        _ => {}
    };
    let cel = |c: &str| {
        c.replace(&format!("'{from}'"), &format!("'{to}'"))
            .replace(&format!("\"{from}\""), &format!("\"{to}\""))
    };
    s.setup.namespace = Some(to.into());
    s.setup.objects = s.setup.objects.iter().map(|o| manifest(o)).collect();
    s.setup.steps.iter_mut().for_each(spec);
    for st in &mut s.steps {
        st.text = st
            .text
            .replace(&format!("-n {from}"), &format!("-n {to}"))
            .replace(&format!("`{from}`"), &format!("`{to}`"));
        st.actions.iter_mut().for_each(spec);
        st.solution.iter_mut().for_each(spec);
        for e in &mut st.events {
            e.actions.iter_mut().for_each(spec);
            e.when = e.when.as_deref().map(cel);
        }
        for c in &mut st.checks {
            c.cel = cel(&c.cel);
        }
        if let Some(r) = &mut st.real_cluster
            && let Some(acts) = &mut r.actions
        {
            acts.iter_mut().for_each(spec);
        }
    }
    s
}

/// The plan of `scenario` on a real cluster, or why it may not run there.
pub fn plan(scenario: &Scenario) -> Result<Plan, RealError> {
    let real = scenario.real_cluster.clone().unwrap_or_default();
    let mut namespaces: Vec<String> = scenario
        .setup
        .namespace
        .iter()
        .chain(real.namespaces.iter())
        .cloned()
        .collect();
    if namespaces.is_empty() {
        namespaces.push("default".into());
    }
    namespaces.dedup();
    let cx = Context {
        namespaces: &namespaces,
        default_ns: namespaces[0].clone(),
        images: &real.images,
        sends_traffic: sends_traffic(scenario),
    };
    let mut notes = Vec::new();
    let nodes = match &scenario.setup.cluster.nodes {
        Some(sim_core::script::NodesSpec::Count(n)) => *n as usize,
        Some(sim_core::script::NodesSpec::List(l)) => l.len(),
        None => 0,
    };
    if nodes > 0 {
        notes.push(format!(
            "the sandbox's {nodes} node(s) are not created: the cluster has its own nodes"
        ));
    }
    if !scenario.setup.images.is_empty() {
        notes.push(
            "the declared image behaviours (`setup.images`) exist only in the sandbox".into(),
        );
    }
    if scenario.setup.background.is_some() || scenario.setup.foreground.is_some() {
        notes.push(
            "the setup's background/foreground scripts run only in the sandbox (on your cluster they could change anything)"
                .into(),
        );
    }
    let mut setup = Vec::new();
    if let Some(ns) = &scenario.setup.namespace {
        setup.push(RealAction::Apply(vec![namespace_write(ns)]));
    }
    for (i, text) in scenario.setup.objects.iter().enumerate() {
        setup.push(RealAction::Apply(
            cx.objects(text, &format!("setup object {}", i + 1))?,
        ));
    }
    for spec in &scenario.setup.steps {
        setup.push(cx.action(spec, "setup")?);
    }
    let mut images = BTreeSet::new();
    collect_images(&setup, &mut images);
    let mut steps = Vec::new();
    for (i, s) in scenario.steps.iter().enumerate() {
        let p = cx.step(s, i + 1)?;
        collect_images(&p.actions, &mut images);
        steps.push(p);
    }
    let builtin = sim_core::images::builtin_names();
    for image in images {
        if builtin.contains(&image) && sim_core::families::resolve(&image).is_none() {
            notes.push(format!(
                "image {image} runs only in kubesim (a built-in program): map it to your own build in `realCluster.images`"
            ));
        }
    }
    Ok(Plan {
        namespaces,
        notes,
        setup,
        steps,
    })
}

fn collect_images(actions: &[RealAction], out: &mut BTreeSet<String>) {
    fn walk(v: &Json, out: &mut BTreeSet<String>) {
        match v {
            Json::Object(o) => {
                for (k, v) in o {
                    match (k.as_str(), v) {
                        ("image", Json::String(s)) => {
                            out.insert(s.clone());
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Json::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    for a in actions {
        if let RealAction::Apply(ws) = a {
            ws.iter().for_each(|w| walk(&w.body, out));
        }
    }
}

fn namespace_write(ns: &str) -> Write {
    Write {
        resource: sim_core::api::resource::of(sim_core::store::Kind::Namespace),
        namespace: None,
        name: ns.to_string(),
        body: serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    }
}

struct Context<'a> {
    namespaces: &'a [String],
    default_ns: String,
    images: &'a BTreeMap<String, String>,
    /// Whether the scenario sends traffic anywhere (then the traffic checks have some).
    sends_traffic: bool,
}

impl Context<'_> {
    fn declared(&self) -> String {
        self.namespaces.join(", ")
    }

    /// `what`'s namespace, when the scenario declares it.
    fn declared_ns(&self, ns: &str, what: &str) -> Result<(), RealError> {
        if self.namespaces.iter().any(|n| n == ns) {
            return Ok(());
        }
        Err(RealError::UndeclaredNamespace {
            what: what.into(),
            namespace: ns.into(),
            declared: self.declared(),
        })
    }

    fn step(&self, s: &Step, n: usize) -> Result<StepPlan, RealError> {
        let real = s.real_cluster.clone().unwrap_or_default();
        let at_step = format!("step {n}");
        let actions = match &real.actions {
            Some(instead) => instead,
            None => &s.actions,
        };
        let mut actions = actions
            .iter()
            .map(|a| self.action(a, &at_step))
            .collect::<Result<Vec<_>, _>>()?;
        if s.background.is_some() || s.foreground.is_some() {
            actions.insert(
                0,
                RealAction::Skip {
                    what: "the step's background/foreground script".into(),
                    why: "scripts run only in the sandbox (on your cluster they could change anything); the verify script runs".into(),
                },
            );
        }
        let mut at = Vec::new();
        let mut when = Vec::new();
        for e in &s.events {
            let acts = e
                .actions
                .iter()
                .map(|a| self.action(a, &at_step))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(t) = &e.at {
                let secs = sim_core::time::parse_duration(t)
                    .map(|d| d.as_secs_f64())
                    .map_err(|e| RealError::Manifest {
                        what: format!("{at_step}: event at {t}"),
                        message: e.to_string(),
                    })?;
                at.push((secs, e.say.clone(), acts));
            } else if let Some(c) = &e.when {
                when.push((c.clone(), e.say.clone(), acts));
            }
        }
        let checks = s
            .checks
            .iter()
            .map(|c| unplayable(c, self.sends_traffic))
            .collect();
        Ok(StepPlan {
            skip: real.skip.clone(),
            actions,
            at,
            when,
            checks,
        })
    }

    fn action(&self, spec: &StepSpec, at: &str) -> Result<RealAction, RealError> {
        let skip = |what: &str, why: &str| RealAction::Skip {
            what: what.into(),
            why: why.into(),
        };
        Ok(match spec {
            StepSpec::Act(Action::Apply(t) | Action::Create(t) | Action::Replace(t)) => {
                RealAction::Apply(self.objects(t, &format!("{at}: a manifest"))?)
            }
            StepSpec::Act(Action::Kubectl(line)) => self.kubectl(line, at)?,
            StepSpec::Act(Action::NodeDown(n) | Action::NodeUp(n) | Action::RemoveNode(n)) => skip(
                &format!("a fault on node {n}"),
                "kubesim does not stop a real cluster's nodes",
            ),
            StepSpec::Act(Action::Traffic(t)) => {
                self.declared_ns(&t.namespace, &format!("traffic to {}", t.service))?;
                RealAction::Traffic(t.clone())
            }
            StepSpec::Act(Action::StopTraffic(t)) => RealAction::StopTraffic {
                namespace: t.namespace.clone(),
                service: t.service.clone(),
            },
            StepSpec::Act(Action::Request(_) | Action::Ingress(_)) => {
                skip("a request", "kubesim sends requests to its own pods only")
            }
            StepSpec::Act(Action::Exec(_)) => {
                skip("an exec", "it runs kubesim's shell in a sandbox pod")
            }
            StepSpec::Act(Action::Api(_)) => skip(
                "an API call",
                "written for the sandbox's API; use `realCluster.actions` with a manifest instead",
            ),
            StepSpec::Advance(d) => {
                let secs = sim_core::time::parse_duration(d)
                    .map(|d| d.as_secs_f64())
                    .map_err(|e| RealError::Manifest {
                        what: format!("{at}: advance {d}"),
                        message: e.to_string(),
                    })?;
                RealAction::Wait(secs)
            }
            StepSpec::WaitFor(w) => {
                let name = w
                    .rollout
                    .strip_prefix("deployment/")
                    .or_else(|| w.rollout.strip_prefix("deployments/"))
                    .or_else(|| w.rollout.strip_prefix("deploy/"))
                    .unwrap_or(&w.rollout)
                    .to_string();
                let namespace = w
                    .namespace
                    .clone()
                    .unwrap_or_else(|| self.default_ns.clone());
                let timeout = w
                    .timeout
                    .as_deref()
                    .map(sim_core::time::parse_duration)
                    .transpose()
                    .map_err(|e| RealError::Manifest {
                        what: format!("{at}: waitFor"),
                        message: e.to_string(),
                    })?
                    .map_or(600.0, |d| d.as_secs_f64());
                RealAction::Rollout {
                    namespace,
                    name,
                    timeout,
                }
            }
            StepSpec::Echo(s) => RealAction::Echo(s.clone()),
            StepSpec::Explain(_) => skip(
                "explain",
                "the controller's reasoning is recorded by kubesim's own controllers",
            ),
        })
    }

    /// A kubectl line: the namespace explicit and declared, no deleting verb.
    fn kubectl(&self, line: &str, at: &str) -> Result<RealAction, RealError> {
        let mut words = sim_core::kubectl::split_words(line).map_err(|e| RealError::Manifest {
            what: format!("{at}: kubectl {line}"),
            message: e,
        })?;
        if words.first().map(String::as_str) == Some("kubectl") {
            words.remove(0);
        }
        let what = format!("kubectl {line}");
        if matches!(
            words.first().map(String::as_str),
            Some("delete" | "drain" | "cordon" | "uncordon" | "taint")
        ) || words.iter().any(|w| w == "--prune")
        {
            return Ok(RealAction::Skip {
                what,
                why: "play never deletes or changes nodes on a real cluster".into(),
            });
        }
        if words
            .iter()
            .any(|w| w == "-A" || w == "--all-namespaces" || w.starts_with("--all-namespaces="))
        {
            return Err(RealError::UndeclaredNamespace {
                what,
                namespace: "(all namespaces)".into(),
                declared: self.declared(),
            });
        }
        let mut ns = None;
        for (i, w) in words.iter().enumerate() {
            if w == "-n" || w == "--namespace" {
                ns = words.get(i + 1).cloned();
            } else if let Some(v) = w
                .strip_prefix("--namespace=")
                .or_else(|| w.strip_prefix("-n="))
            {
                ns = Some(v.to_string());
            }
        }
        match ns {
            Some(ns) if !self.namespaces.contains(&ns) => Err(RealError::UndeclaredNamespace {
                what,
                namespace: ns,
                declared: self.declared(),
            }),
            Some(_) => Ok(RealAction::Kubectl(words)),
            None => {
                words.push(format!("--namespace={}", self.default_ns));
                Ok(RealAction::Kubectl(words))
            }
        }
    }

    /// The documents of a manifest as writes, each in a declared namespace.
    fn objects(&self, text: &str, what: &str) -> Result<Vec<Write>, RealError> {
        let mut out = Vec::new();
        for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
            let bad = |message: String| RealError::Manifest {
                what: format!("{what}, document {}", i + 1),
                message,
            };
            let value = <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
                .map_err(|e| bad(e.to_string()))?;
            if value.is_null() {
                continue;
            }
            let mut body: Json = serde_json::to_value(&value).map_err(|e| bad(e.to_string()))?;
            let api_version = body["apiVersion"].as_str().unwrap_or("").to_string();
            let kind = body["kind"].as_str().unwrap_or("").to_string();
            let resource = RESOURCES
                .iter()
                .find(|r| r.api_version() == api_version && r.kind.as_str() == kind)
                .ok_or_else(|| bad(format!("no kind {kind:?} in {api_version:?}")))?;
            let name = body["metadata"]["name"]
                .as_str()
                .ok_or_else(|| bad("the object has no metadata.name".into()))?
                .to_string();
            let label = format!("{} {name}", kind);
            let namespace = if resource.namespaced {
                let ns = body["metadata"]["namespace"]
                    .as_str()
                    .map_or_else(|| self.default_ns.clone(), str::to_string);
                if !self.namespaces.contains(&ns) {
                    return Err(RealError::UndeclaredNamespace {
                        what: label,
                        namespace: ns,
                        declared: self.declared(),
                    });
                }
                body["metadata"]["namespace"] = Json::String(ns.clone());
                Some(ns)
            } else if kind == "Namespace" && self.namespaces.contains(&name) {
                None
            } else {
                return Err(RealError::ClusterScoped {
                    what: label,
                    declared: self.declared(),
                });
            };
            swap_images(&mut body, self.images);
            out.push(Write {
                resource,
                namespace,
                name,
                body,
            });
        }
        Ok(out)
    }
}

/// Replaces every `image:` the map names.
fn swap_images(v: &mut Json, images: &BTreeMap<String, String>) {
    match v {
        Json::Object(o) => {
            for (k, v) in o.iter_mut() {
                match v {
                    Json::String(s) if k == "image" => {
                        if let Some(to) = images.get(s.as_str()) {
                            *s = to.clone();
                        }
                    }
                    _ => swap_images(v, images),
                }
            }
        }
        Json::Array(a) => a.iter_mut().for_each(|v| swap_images(v, images)),
        _ => {}
    }
}

/// Why a check cannot be played on a real cluster: it reads the answers to single requests
/// (kubesim's own), or traffic when the scenario sends none.
fn unplayable(c: &Check, sends_traffic: bool) -> Option<String> {
    let reads = |f: &str| c.cel.contains(&format!("{f}("));
    if reads("answers") {
        return Some(
            "it reads the answers to single requests (`answers`), which kubesim sends only in its own sandbox".into(),
        );
    }
    if sends_traffic {
        return None;
    }
    TRAFFIC_FUNCTIONS
        .iter()
        .find(|f| reads(f))
        .map(|f| format!("it reads traffic (`{f}`), and the scenario sends none on a real cluster"))
}

/// Whether the scenario sends traffic (its setup, a step, an event, or a step's
/// `realCluster.actions`).
fn sends_traffic(scenario: &Scenario) -> bool {
    let any = |specs: &[StepSpec]| {
        specs
            .iter()
            .any(|s| matches!(s, StepSpec::Act(Action::Traffic(_))))
    };
    any(&scenario.setup.steps)
        || scenario.steps.iter().any(|st| {
            any(&st.actions)
                || st.events.iter().any(|e| any(&e.actions))
                || st
                    .real_cluster
                    .as_ref()
                    .and_then(|r| r.actions.as_deref())
                    .is_some_and(any)
        })
}

/// The resources (plurals) a step's checks and conditions read: watched while the step
/// runs.
pub fn kinds_read<'a>(exprs: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for e in exprs {
        for r in RESOURCES {
            if mentions(e, r.plural) {
                out.insert(r.plural);
            }
        }
        let calls = |f: &str| e.contains(&format!("{f}("));
        if ["deployment", "revision"]
            .iter()
            .chain(crate::check::HISTORY_FUNCTIONS)
            .any(|f| calls(f))
        {
            out.extend(["deployments", "replicasets"]);
        }
        if ["replicaset"].iter().any(|f| calls(f)) {
            out.insert("replicasets");
        }
        if ["pod", "podsOf", "readyPods"].iter().any(|f| calls(f)) {
            out.insert("pods");
        }
        if calls("service") {
            out.insert("services");
        }
        if calls("node") {
            out.insert("nodes");
        }
        if calls("readyEndpoints") {
            out.insert("endpoints");
        }
    }
    out
}

/// Whether `word` appears in `expr` as a whole identifier.
fn mentions(expr: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    expr.match_indices(word).any(|(i, _)| {
        let before = expr[..i].chars().next_back();
        let after = expr[i + word.len()..].chars().next();
        !before.is_some_and(|c| ident(c) || c == '.') && !after.is_some_and(ident)
    })
}

/// A step's history on a real cluster, as watches report changes: the Deployments' numbers at
/// the step's start and at every change since, in scenario seconds.
#[derive(Debug, Default)]
pub struct History {
    step_start: f64,
    samples: Vec<(f64, Vec<DeploymentTrace>)>,
}

impl History {
    /// A step that began at `start` (scenario seconds) with the cluster as `objects`.
    pub fn new(start: f64, objects: &BTreeMap<&'static str, Vec<Json>>) -> History {
        let mut h = History {
            step_start: start,
            samples: Vec::new(),
        };
        h.observe(start, objects);
        h
    }

    /// The cluster changed at `now`: a sample, when the Deployments' numbers moved.
    pub fn observe(&mut self, now: f64, objects: &BTreeMap<&'static str, Vec<Json>>) {
        let sample = crate::live::deployment_sample(objects);
        if self.samples.last().map(|(_, s)| s) != Some(&sample) {
            self.samples.push((now, sample));
        }
    }

    /// What the step's checks see at `now`, with the traffic seconds measured so far (those
    /// of this step count).
    pub fn world(
        &self,
        objects: BTreeMap<&'static str, Vec<Json>>,
        now: f64,
        traffic: &[ServiceSecond],
    ) -> World {
        World {
            objects,
            now,
            step_start: self.step_start,
            deployments: self.samples.clone(),
            services: traffic
                .iter()
                .filter(|s| s.time > self.step_start)
                .cloned()
                .collect(),
            answers: Vec::new(),
        }
    }
}

/// Whether a Deployment (as the API serves it) has rolled out, as `kubectl rollout status`
/// decides: the controller saw the latest spec, every replica is updated and available, and no
/// old one is left.
pub fn rolled_out(d: &Json) -> bool {
    let int = |v: &Json| v.as_i64().unwrap_or(0);
    let st = &d["status"];
    let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
    int(&st["observedGeneration"]) >= int(&d["metadata"]["generation"])
        && int(&st["updatedReplicas"]) >= want
        && int(&st["replicas"]) <= int(&st["updatedReplicas"])
        && int(&st["availableReplicas"]) >= int(&st["updatedReplicas"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(text: &str) -> Scenario {
        crate::validate::validate(text).0.expect("valid")
    }

    const SHOP: &str = "title: T\nsetup:\n  cluster: {nodes: 3}\n  namespace: shop\n  objects:\n    - |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: web}\n      spec:\n        replicas: 2\n        selector: {matchLabels: {app: web}}\n        template:\n          metadata: {labels: {app: web}}\n          spec: {containers: [{name: web, image: 'registry.local/credit-scoring-api:v1'}]}\n  steps:\n    - waitFor: {rollout: deployment/web, namespace: shop, timeout: 2m}\nsteps:\n  - title: One\n    text: Do it\n    actions:\n      - traffic: {service: web, namespace: shop, rps: 5}\n    events:\n      - at: 10s\n        do:\n          - kubectl: scale deployment/web --replicas=1\n    checks:\n      - name: scaled\n        cel: deployment('shop', 'web').spec.replicas == 3\n      - name: no errors\n        cel: errors('shop', 'web') == 0\n    solution:\n      - kubectl: scale deployment/web --replicas=3 -n shop\n";

    #[test]
    fn the_setup_is_applied_in_its_namespace_and_the_sandbox_only_parts_are_said() {
        let p = plan(&scenario(SHOP)).unwrap();
        assert_eq!(p.namespaces, ["shop"]);
        let RealAction::Apply(ns) = &p.setup[0] else {
            panic!("{:?}", p.setup[0])
        };
        assert_eq!(ns[0].describe(), "namespace/shop");
        let RealAction::Apply(objs) = &p.setup[1] else {
            panic!("{:?}", p.setup[1])
        };
        // The namespace is made explicit: the object lands where the scenario declares.
        assert_eq!(objs[0].describe(), "deployment.apps/web -n shop");
        assert_eq!(objs[0].body["metadata"]["namespace"], "shop");
        assert_eq!(
            p.setup[2],
            RealAction::Rollout {
                namespace: "shop".into(),
                name: "web".into(),
                timeout: 120.0
            }
        );
        // The event's kubectl line gets the scenario's namespace.
        assert_eq!(
            p.steps[0].at[0].2,
            [RealAction::Kubectl(vec![
                "scale".into(),
                "deployment/web".into(),
                "--replicas=1".into(),
                "--namespace=shop".into()
            ])]
        );
        let skipped = p.skipped().join("\n");
        assert!(skipped.contains("3 node(s)"), "{skipped}");
        assert!(
            skipped.contains("registry.local/credit-scoring-api:v1 runs only in kubesim"),
            "{skipped}"
        );
        // The traffic goes through the API server's service proxy, so its check is played.
        assert!(matches!(&p.steps[0].actions[0], RealAction::Traffic(t) if t.rps == 5.0));
        assert_eq!(p.steps[0].checks, [None, None]);
        let quiet = plan(&scenario(&SHOP.replace(
            "    actions:\n      - traffic: {service: web, namespace: shop, rps: 5}\n",
            "",
        )))
        .unwrap();
        assert!(
            quiet.skipped().join("\n").contains(
                "step 1: check 2 is not checked: it reads traffic (`errors`), and the scenario sends none"
            ),
            "{:?}",
            quiet.skipped()
        );
        assert_eq!(p.writes().count(), 3);
    }

    #[test]
    fn an_undeclared_namespace_is_refused_before_anything_runs() {
        let text = SHOP.replace(
            "metadata: {name: web}",
            "metadata: {name: web, namespace: prod}",
        );
        let err = plan(&scenario(&text)).unwrap_err();
        assert!(
            matches!(&err, RealError::UndeclaredNamespace { namespace, .. } if namespace == "prod"),
            "{err}"
        );
        assert!(err.to_string().contains("realCluster.namespaces"), "{err}");
        // Declared, it is allowed.
        let ok = text.replace(
            "title: T\n",
            "title: T\nrealCluster:\n  namespaces: [prod]\n",
        );
        assert!(plan(&scenario(&ok)).is_ok());
        // A kubectl line into another namespace, or all of them, is refused too.
        let line = SHOP.replace("--replicas=1\n", "--replicas=1 -n kube-system\n");
        assert!(matches!(
            plan(&scenario(&line)),
            Err(RealError::UndeclaredNamespace { .. })
        ));
    }

    #[test]
    fn cluster_scoped_objects_and_deletes_are_not_written() {
        let text = SHOP.replace(
            "  steps:\n    - waitFor",
            "    - |\n      apiVersion: v1\n      kind: Node\n      metadata: {name: n9}\n  steps:\n    - waitFor",
        );
        assert!(matches!(
            plan(&scenario(&text)),
            Err(RealError::ClusterScoped { .. })
        ));
        let text = SHOP.replace("scale deployment/web --replicas=1", "delete deployment web");
        let p = plan(&scenario(&text)).unwrap();
        assert!(
            matches!(&p.steps[0].at[0].2[0], RealAction::Skip { why, .. } if why.contains("never deletes"))
        );
    }

    #[test]
    fn images_are_swapped_and_a_step_may_declare_its_real_actions() {
        let text = SHOP
            .replace(
                "title: T\n",
                "title: T\nrealCluster:\n  images: {'registry.local/credit-scoring-api:v1': 'ghcr.io/me/api:v1'}\n",
            )
            .replace(
                "    checks:\n",
                "    realCluster:\n      actions:\n        - echo: send some traffic with hey\n    checks:\n",
            );
        let p = plan(&scenario(&text)).unwrap();
        let RealAction::Apply(objs) = &p.setup[1] else {
            panic!()
        };
        assert_eq!(
            objs[0].body["spec"]["template"]["spec"]["containers"][0]["image"],
            "ghcr.io/me/api:v1"
        );
        assert!(!p.skipped().join("\n").contains("runs only in kubesim"));
        assert_eq!(
            p.steps[0].actions,
            [RealAction::Echo("send some traffic with hey".into())]
        );
    }

    #[test]
    fn the_kinds_a_check_reads_are_watched() {
        let k = kinds_read([
            "minAvailable('a', 'b') > 1",
            "pods.exists(p, p.metadata.name == 'x') && size(podsOf('a', 'x=y')) > 0",
            "events.exists(e, e.reason == 'Killing')",
        ]);
        assert_eq!(
            k.into_iter().collect::<Vec<_>>(),
            ["deployments", "events", "pods", "replicasets"]
        );
        // A field that happens to be named like a kind is not one.
        assert!(
            kinds_read(["deployment('a','b').status.replicas == 1"])
                .iter()
                .all(|k| *k != "pods")
        );
    }

    #[test]
    fn history_feeds_the_checks_that_read_it() {
        let d = |avail: i64| {
            serde_json::json!({"metadata": {"name": "web", "namespace": "shop", "uid": "u",
                "annotations": {"deployment.kubernetes.io/revision": "2"}},
                "spec": {"replicas": 3}, "status": {"replicas": 3, "availableReplicas": avail}})
        };
        let objs = |avail| BTreeMap::from([("deployments", vec![d(avail)])]);
        let mut h = History::new(0.0, &objs(3));
        h.observe(5.0, &objs(1));
        h.observe(9.0, &objs(3));
        let sc = scenario(
            "title: T\nsteps:\n  - title: One\n    text: t\n    checks:\n      - name: dipped\n        cel: minAvailable('shop', 'web') == 1 && deployment('shop', 'web').status.availableReplicas == 3\n",
        );
        let world = h.world(objs(3), 10.0, &[]);
        let r = crate::live::check_step(&sc, 1, world).unwrap();
        assert!(r[0].0.outcome.passed, "{:?}", r[0].0.outcome);
    }

    #[test]
    fn a_scenario_moves_into_the_students_namespace() {
        let sc = in_namespace(&scenario(SHOP), "student-7");
        let p = plan(&sc).unwrap();
        assert_eq!(p.namespaces, ["student-7"]);
        let RealAction::Apply(objs) = &p.setup[1] else {
            panic!()
        };
        assert_eq!(objs[0].describe(), "deployment.apps/web -n student-7");
        assert_eq!(
            sc.steps[0].checks[0].cel,
            "deployment('student-7', 'web').spec.replicas == 3"
        );
        assert!(
            matches!(&sc.steps[0].solution[..], [StepSpec::Act(Action::Kubectl(l))] if l == "scale deployment/web --replicas=3 -n student-7"),
            "{:?}",
            sc.steps[0].solution
        );
        assert!(
            matches!(&p.setup[2], RealAction::Rollout { namespace, .. } if namespace == "student-7")
        );
    }

    #[test]
    fn rolled_out_is_kubectls_rule() {
        let d = |generation: i64, obs: i64, updated: i64, replicas: i64, available: i64| {
            serde_json::json!({"metadata": {"generation": generation}, "spec": {"replicas": 3},
                "status": {"observedGeneration": obs, "updatedReplicas": updated,
                           "replicas": replicas, "availableReplicas": available}})
        };
        assert!(rolled_out(&d(2, 2, 3, 3, 3)));
        assert!(
            !rolled_out(&d(2, 1, 3, 3, 3)),
            "the controller has not seen the spec"
        );
        assert!(!rolled_out(&d(2, 2, 2, 3, 3)), "one not updated");
        assert!(!rolled_out(&d(2, 2, 3, 5, 3)), "old replicas left");
        assert!(!rolled_out(&d(2, 2, 3, 3, 2)), "one not available");
    }
}
