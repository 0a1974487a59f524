//! kubectl: the commands a `kubectl` step (and later the web console) accepts, executed
//! against a [`Sim`], with kubectl's output and error texts. Text in, text out; files are read
//! through a [`FileSource`] the caller provides, so there is no IO here.

mod create;
mod label;
pub mod print;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::Object;
use crate::api::decode::{parse_manifests, parse_manifests_each};
use crate::apiserver::{UndoOrApiError, kind_prefix, resource_of};
use crate::controller::deployment::util;
use crate::controller::gc::Propagation;
use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::{EventRecord, Kind};
use crate::time::SimTime;
use print::GetOptions;

/// Reads the files named by `-f`.
pub trait FileSource {
    /// The text of `path`, or a message why not.
    fn read(&self, path: &str) -> Result<String, String>;
}

/// No files at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl FileSource for NoFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        Err(format!("the path {path:?} does not exist"))
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit code (0 = success).
    pub code: i32,
}

impl Output {
    fn ok(s: impl Into<String>) -> Output {
        Output {
            stdout: s.into(),
            stderr: String::new(),
            code: 0,
        }
    }
    fn err(s: impl Into<String>) -> Output {
        let mut e: String = s.into();
        if !e.ends_with('\n') {
            e.push('\n');
        }
        Output {
            stdout: String::new(),
            stderr: e,
            code: 1,
        }
    }
    fn push(&mut self, other: Output) {
        self.stdout.push_str(&other.stdout);
        self.stderr.push_str(&other.stderr);
        self.code = self.code.max(other.code);
    }
}

/// Splits a command line like a shell: spaces separate words, quotes group them.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for ch in line.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

struct Args {
    positional: Vec<String>,
    flags: Vec<(String, Option<String>)>,
    /// The words after `--` (a container's command).
    rest: Vec<String>,
}

const VALUE_FLAGS: [&str; 27] = [
    "--tcp",
    "--node-port",
    "--target-port",
    "--type",
    "--name",
    "--protocol",
    "--clusterip",
    "--image",
    "--labels",
    "--port",
    "--restart",
    "--env",
    "--grace-period",
    "-n",
    "--namespace",
    "-f",
    "--filename",
    "-o",
    "--output",
    "-l",
    "--selector",
    "-c",
    "--container",
    "--replicas",
    "--to-revision",
    "--revision",
    "--tail",
];

impl Args {
    fn parse(words: &[String]) -> Args {
        let mut positional = Vec::new();
        let mut flags = Vec::new();
        let mut rest = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            if w == "--" {
                rest = words[i + 1..].to_vec();
                break;
            }
            if let Some((k, v)) = w.split_once('=').filter(|_| w.starts_with('-')) {
                flags.push((k.to_string(), Some(v.to_string())));
            } else if w.starts_with('-') && w.len() > 1 {
                if VALUE_FLAGS.contains(&w.as_str()) && i + 1 < words.len() {
                    flags.push((w.clone(), Some(words[i + 1].clone())));
                    i += 1;
                } else {
                    flags.push((w.clone(), None));
                }
            } else {
                positional.push(w.clone());
            }
            i += 1;
        }
        Args {
            positional,
            flags,
            rest,
        }
    }
    fn get(&self, names: &[&str]) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(k, _)| names.contains(&k.as_str()))
            .and_then(|(_, v)| v.as_deref())
    }
    fn all(&self, names: &[&str]) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
    fn has(&self, names: &[&str]) -> bool {
        self.flags.iter().any(|(k, _)| names.contains(&k.as_str()))
    }
}

/// A resource name as kubectl accepts it (`po`, `pods`, `deploy`, `deployment.apps`, ...).
pub fn parse_kind(word: &str) -> Option<Kind> {
    Some(match word.to_ascii_lowercase().as_str() {
        "po" | "pod" | "pods" => Kind::Pod,
        "deploy" | "deployment" | "deployments" | "deployment.apps" | "deployments.apps" => {
            Kind::Deployment
        }
        "rs" | "replicaset" | "replicasets" | "replicaset.apps" | "replicasets.apps" => {
            Kind::ReplicaSet
        }
        "svc" | "service" | "services" => Kind::Service,
        "ep" | "endpoints" => Kind::Endpoints,
        "no" | "node" | "nodes" => Kind::Node,
        "ns" | "namespace" | "namespaces" => Kind::Namespace,
        "ev" | "event" | "events" => Kind::Event,
        _ => return None,
    })
}

fn unknown_kind(word: &str) -> Output {
    Output::err(format!(
        "error: the server doesn't have a resource type \"{word}\""
    ))
}

fn server_error(e: &ApiError) -> String {
    match e {
        ApiError::Invalid(i) => i.to_string(),
        e => format!("Error from server ({}): {e}", e.reason()),
    }
}

/// Whether a command (split into words, with or without `kubectl`) only reads the cluster:
/// `get`, `describe`, `logs`, `rollout status|history`.
pub fn is_read_only(words: &[String]) -> bool {
    let mut it = words.iter().map(String::as_str).filter(|w| *w != "kubectl");
    match it.next() {
        Some("get" | "describe" | "logs") => true,
        Some("rollout") => !words
            .iter()
            .any(|w| matches!(w.as_str(), "undo" | "pause" | "resume" | "restart")),
        _ => false,
    }
}

/// Runs one kubectl command line (with or without the leading `kubectl`).
pub fn run(sim: &mut Sim, line: &str, files: &dyn FileSource) -> Output {
    run_with(sim, line, files, &mut SimClock)
}

/// How time passes while a command waits (`delete` until the objects are gone, `drain` until
/// its pods are evicted): the cluster just runs, or, in a scenario, its timed and conditional
/// events fire on the way, as they would while the student's real kubectl waits.
pub trait Clock {
    /// Runs `sim` until `until`, or until `done` holds; whether it held.
    fn run_until(
        &mut self,
        sim: &mut Sim,
        until: SimTime,
        done: &mut dyn FnMut(&Sim) -> bool,
    ) -> bool;
}

/// The cluster's own clock.
pub struct SimClock;

impl Clock for SimClock {
    fn run_until(
        &mut self,
        sim: &mut Sim,
        until: SimTime,
        done: &mut dyn FnMut(&Sim) -> bool,
    ) -> bool {
        sim.run_until(until, done)
    }
}

/// [`run`], with waits going through `clock`.
pub fn run_with(
    sim: &mut Sim,
    line: &str,
    files: &dyn FileSource,
    clock: &mut dyn Clock,
) -> Output {
    let words = match split_words(line) {
        Ok(w) => w,
        Err(e) => return Output::err(format!("error: {e}")),
    };
    let words: Vec<String> = if words.first().map(String::as_str) == Some("kubectl") {
        words[1..].to_vec()
    } else {
        words
    };
    let Some(verb) = words.first().cloned() else {
        return Output::err("error: no command given");
    };
    let args = Args::parse(&words[1..]);
    let ns = args
        .get(&["-n", "--namespace"])
        .unwrap_or("default")
        .to_string();
    match verb.as_str() {
        "apply" => apply(sim, &args, &ns, files, false),
        "create" => create::create(sim, &args, &ns, files),
        "expose" => create::expose(sim, &args, &ns),
        "label" => label::label(sim, &args, &ns, false),
        "annotate" => label::label(sim, &args, &ns, true),
        "replace" => match read_files(&args, files) {
            Ok(texts) => {
                let mut out = Output::default();
                for (path, text) in texts {
                    out.push(replace_text(sim, &text, &path, &ns));
                }
                out
            }
            Err(o) => o,
        },
        "delete" => delete(sim, &args, &ns, files, clock),
        "get" => get(sim, &args, &ns),
        "describe" => describe(sim, &args, &ns),
        "scale" => scale(sim, &args, &ns),
        "set" => set_image(sim, &args, &ns),
        "rollout" => rollout(sim, &args, &ns),
        "logs" => logs(sim, &args, &ns),
        "cordon" | "uncordon" => cordon(sim, &args, verb == "cordon"),
        "drain" => drain(sim, &args, clock),
        "run" => run_pod(sim, &args, &ns),
        other => Output::err(format!(
            "error: unknown command \"{other}\" for \"kubectl\"\nkubesim supports: apply, create, expose, label, annotate, replace, delete, get, describe, scale, set image, rollout, logs, cordon, uncordon, drain, run"
        )),
    }
}

/// `kubectl run NAME --image=IMAGE [--labels=k=v,...] [--port=N] [--restart=Always|OnFailure|Never]
/// [--env=K=V]... [--dry-run=client -o yaml]`: the Pod kubectl's generator builds (label
/// `run=NAME` unless `--labels` is given), created as `kubectl create` would.
fn run_pod(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(name) = args.positional.first() else {
        return Output::err("error: NAME is required for run");
    };
    let Some(image) = args.get(&["--image"]) else {
        return Output::err("error: required flag(s) \"image\" not set");
    };
    let restart = args.get(&["--restart"]).unwrap_or("Always");
    if !matches!(restart, "Always" | "OnFailure" | "Never") {
        return Output::err(format!("error: invalid restart policy: {restart}"));
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    match args.get(&["--labels", "-l"]) {
        Some(l) => {
            for pair in l.split(',').filter(|p| !p.is_empty()) {
                let Some((k, v)) = pair.split_once('=') else {
                    return Output::err(format!("error: invalid label spec: {pair}"));
                };
                labels.push((k.to_string(), v.to_string()));
            }
        }
        None => labels.push(("run".into(), name.clone())),
    }
    let mut container = serde_json::json!({"image": image, "name": name, "resources": {}});
    let envs: Vec<serde_json::Value> = args
        .all(&["--env"])
        .into_iter()
        .map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e, ""));
            serde_json::json!({"name": k, "value": v})
        })
        .collect();
    if !envs.is_empty() {
        container["env"] = serde_json::Value::Array(envs);
    }
    if let Some(port) = args.get(&["--port"]) {
        let Ok(port) = port.parse::<u16>() else {
            return Output::err(format!("error: invalid port {port:?}"));
        };
        container["ports"] = serde_json::json!([{"containerPort": port}]);
    }
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": labels, "name": name},
        "spec": {"containers": [container], "dnsPolicy": "ClusterFirst", "restartPolicy": restart},
        "status": {},
    });
    let yaml = match serde_yaml::to_string(&pod) {
        Ok(y) => y,
        Err(e) => return Output::err(format!("error: {e}")),
    };
    if args.get(&["--dry-run"]).is_some_and(|d| d != "none") {
        return match args.get(&["-o", "--output"]) {
            Some("yaml") => Output::ok(yaml),
            _ => Output::ok(format!("pod/{name} created (dry run)\n")),
        };
    }
    apply_text(sim, &yaml, "run", ns, true)
}

/// Applies manifest text as `kubectl apply -f` does, one line per object.
pub fn apply_text(
    sim: &mut Sim,
    text: &str,
    source: &str,
    default_ns: &str,
    create_only: bool,
) -> Output {
    let manifests = match parse_manifests_each(text) {
        Ok(m) => m,
        Err(e) => return Output::err(format!("error: error parsing {source}: {e}")),
    };
    let mut out = Output::default();
    for m in manifests {
        // The API server refuses an object with unknown fields (fieldValidation=Strict) as
        // a BadRequest; kubectl reports it and goes on with the other documents.
        let m = match m {
            Ok(m) => m,
            Err(e) => {
                out.push(Output::err(format!(
                    "Error from server (BadRequest): error when creating {source:?}: {e}"
                )));
                continue;
            }
        };
        let kind = m.object.kind();
        let name = m.object.name().to_string();
        let verb = "creating";
        let result = if create_only {
            let mut obj = m.object;
            if obj.is_namespaced() && obj.namespace().is_none_or(str::is_empty) {
                obj.metadata_mut().namespace = Some(default_ns.into());
            }
            sim.create(obj).map(|_| crate::Applied::Created)
        } else {
            sim.apply_object(m.object, default_ns)
        };
        match result {
            Ok(a) => out.push(Output::ok(format!(
                "{}/{name} {}\n",
                kind_prefix(kind),
                a.as_str()
            ))),
            Err(ApiError::Invalid(i)) => out.push(Output::err(i.to_string())),
            Err(e) => out.push(Output::err(format!(
                "Error from server ({}): error when {verb} {source:?}: {e}",
                e.reason()
            ))),
        }
    }
    out
}

/// `kubectl replace -f`: each object of `text` replaces the live one of its name (spec,
/// labels and annotations; the API server keeps uid, owners and status). The object must exist.
pub fn replace_text(sim: &mut Sim, text: &str, source: &str, default_ns: &str) -> Output {
    let manifests = match parse_manifests_each(text) {
        Ok(m) => m,
        Err(e) => return Output::err(format!("error: error parsing {source}: {e}")),
    };
    let mut out = Output::default();
    for m in manifests {
        let mut obj = match m {
            Ok(m) => m.object,
            Err(e) => {
                out.push(Output::err(format!(
                    "Error from server (BadRequest): error when replacing {source:?}: {e}"
                )));
                continue;
            }
        };
        if obj.is_namespaced() && obj.namespace().is_none() {
            obj.metadata_mut().namespace = Some(default_ns.into());
        }
        let kind = obj.kind();
        let name = obj.name().to_string();
        match sim.update(obj) {
            Ok(_) => out.push(Output::ok(format!(
                "{}/{name} replaced\n",
                kind_prefix(kind)
            ))),
            Err(ApiError::Invalid(i)) => out.push(Output::err(i.to_string())),
            Err(e) => out.push(Output::err(format!(
                "Error from server ({}): error when replacing {source:?}: {e}",
                e.reason()
            ))),
        }
    }
    out
}

fn read_files(args: &Args, files: &dyn FileSource) -> Result<Vec<(String, String)>, Output> {
    let paths = args.all(&["-f", "--filename"]);
    if paths.is_empty() {
        return Err(Output::err("error: must specify one of -f and -k"));
    }
    paths
        .into_iter()
        .map(|p| {
            files
                .read(p)
                .map(|t| (p.to_string(), t))
                .map_err(|e| Output::err(format!("error: {e}")))
        })
        .collect()
}

fn apply(
    sim: &mut Sim,
    args: &Args,
    ns: &str,
    files: &dyn FileSource,
    create_only: bool,
) -> Output {
    let texts = match read_files(args, files) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let mut out = Output::default();
    for (path, text) in texts {
        out.push(apply_text(sim, &text, &path, ns, create_only));
    }
    out
}

fn target(args: &Args) -> Result<(Kind, String), Output> {
    let p = &args.positional;
    let (kind_word, name) = match p.first().and_then(|w| w.split_once('/')) {
        Some((k, n)) => (k.to_string(), n.to_string()),
        None => match (p.first(), p.get(1)) {
            (Some(k), Some(n)) => (k.clone(), n.clone()),
            (Some(k), None) => {
                return Err(Output::err(format!(
                    "error: you must specify the name of the resource (kind {k})"
                )));
            }
            _ => {
                return Err(Output::err(
                    "error: you must specify the type of resource and its name",
                ));
            }
        },
    };
    let kind = parse_kind(&kind_word).ok_or_else(|| unknown_kind(&kind_word))?;
    Ok((kind, name))
}

fn delete(
    sim: &mut Sim,
    args: &Args,
    ns: &str,
    files: &dyn FileSource,
    clock: &mut dyn Clock,
) -> Output {
    let propagation = match args.get(&["--cascade"]) {
        Some("orphan") | Some("false") => Propagation::Orphan,
        Some("foreground") => Propagation::Foreground,
        _ => Propagation::Background,
    };
    let mut targets: Vec<(Kind, String, String, Option<String>)> = Vec::new();
    if args.has(&["-f", "--filename"]) {
        let texts = match read_files(args, files) {
            Ok(t) => t,
            Err(o) => return o,
        };
        for (path, text) in texts {
            match parse_manifests(&text) {
                Ok(ms) => {
                    for m in ms {
                        let Some(kind) = parse_kind(m.object.kind()) else {
                            continue;
                        };
                        let obj_ns = m.object.namespace().unwrap_or(ns).to_string();
                        targets.push((
                            kind,
                            obj_ns,
                            m.object.name().to_string(),
                            Some(path.clone()),
                        ));
                    }
                }
                Err(e) => return Output::err(format!("error: error parsing {path}: {e}")),
            }
        }
    } else {
        let p = &args.positional;
        if p.iter().any(|w| w.contains('/')) {
            for w in p {
                let Some((k, n)) = w.split_once('/') else {
                    return Output::err(
                        "error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form",
                    );
                };
                let Some(kind) = parse_kind(k) else {
                    return unknown_kind(k);
                };
                targets.push((kind, ns.to_string(), n.to_string(), None));
            }
        } else {
            let Some(kw) = p.first() else {
                return Output::err(
                    "error: You must provide one or more resources by argument or filename.",
                );
            };
            let Some(kind) = parse_kind(kw) else {
                return unknown_kind(kw);
            };
            if p.len() < 2 {
                return Output::err("error: resource(s) were provided, but no name was specified");
            }
            for n in &p[1..] {
                targets.push((kind, ns.to_string(), n.clone(), None));
            }
        }
    }
    let mut out = Output::default();
    // delete_flags.go: --now is grace 1; --force alone is grace 0; grace 0 without --force
    // becomes 1.
    let force = args.has(&["--force"]) && args.get(&["--force"]) != Some("false");
    let mut grace = match args.get(&["--grace-period"]).map(str::parse::<i64>) {
        Some(Ok(g)) => Some(g).filter(|g| *g >= 0),
        Some(Err(_)) => return Output::err("error: invalid argument for \"--grace-period\" flag"),
        None => None,
    };
    if args.has(&["--now"]) {
        grace = Some(1);
    }
    if force && grace.is_none() {
        grace = Some(0);
    }
    if grace == Some(0) && !force {
        grace = Some(1);
    }
    if force {
        out.stderr.push_str("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n");
    }
    let wait = args.get(&["--wait"]) != Some("false");
    let mut waiting: Vec<(Kind, String, String)> = Vec::new();
    for (kind, obj_ns, name, path) in targets {
        let cluster_scoped = matches!(kind, Kind::Namespace | Kind::Node);
        let ns_for = if cluster_scoped { "" } else { obj_ns.as_str() };
        match sim.delete_with_grace(kind, ns_for, &name, propagation, grace) {
            Ok(()) => {
                let what = kind_prefix(kind.as_str());
                let suffix = if cluster_scoped {
                    String::new()
                } else {
                    format!(" from {obj_ns} namespace")
                };
                let verb = if grace == Some(0) {
                    "force deleted"
                } else {
                    "deleted"
                };
                out.push(Output::ok(format!("{what} {name:?} {verb}{suffix}\n")));
                waiting.push((kind, ns_for.to_string(), name));
            }
            Err(e) => {
                let msg = match path {
                    Some(p) => format!(
                        "Error from server ({}): error when deleting {p:?}: {e}",
                        e.reason()
                    ),
                    None => server_error(&e),
                };
                out.push(Output::err(msg));
            }
        }
    }
    // kubectl waits until the objects are gone (--wait defaults to true); the cluster's time
    // moves meanwhile.
    if wait && !waiting.is_empty() {
        let until =
            sim.now() + crate::time::SimDuration::from_secs(grace.unwrap_or(30).max(0) as u64 + 60);
        let until = until.min(sim.now() + crate::time::SimDuration::from_secs(3600));
        clock.run_until(sim, until, &mut |s| {
            waiting
                .iter()
                .all(|(k, n, name)| s.get_object(*k, n, name).is_none())
        });
    }
    out
}

fn opts(args: &Args, with_kind: bool, all_ns: bool) -> GetOptions {
    let o = args.get(&["-o", "--output"]).unwrap_or("");
    GetOptions {
        wide: o == "wide",
        with_kind,
        with_namespace: all_ns,
        no_headers: args.has(&["--no-headers"]),
        show_labels: args.has(&["--show-labels"]),
        cells: false,
    }
}

/// The API Event for a stored event, as seen at now.
pub fn k8s_event(sim: &Sim, e: &EventRecord) -> Option<Event> {
    let now = sim.now();
    let (count, last) = e.seen_at(now)?;
    let t = |s| sim.store.time(s);
    Some(Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}.{:x}",
                e.object.name,
                0x1800_0000_0000_0000u64 + e.seq * 0x1_0000_0000 + e.first.millis()
            )),
            namespace: Some(if e.object.namespace.is_empty() {
                "default".into()
            } else {
                e.object.namespace.to_string()
            }),
            uid: Some(sim.store.uid(u64::MAX / 2 + e.seq)),
            creation_timestamp: Some(t(e.first)),
            ..Default::default()
        },
        involved_object: ObjectReference {
            kind: Some(e.object.kind.as_str().into()),
            name: Some(e.object.name.to_string()),
            namespace: (!e.object.namespace.is_empty()).then(|| e.object.namespace.to_string()),
            uid: Some(sim.store.uid(e.object.id)),
            api_version: Some(e.object.kind.api_version().into()),
            ..Default::default()
        },
        reason: Some(e.reason.into()),
        message: Some(e.message.to_string()),
        type_: Some(if e.warning { "Warning" } else { "Normal" }.into()),
        count: Some(count as i32),
        first_timestamp: Some(t(e.first)),
        last_timestamp: Some(t(last)),
        source: Some(EventSource {
            component: Some(e.source.into()),
            host: e.host.as_ref().map(|h| h.to_string()),
        }),
        reporting_component: Some(e.source.into()),
        reporting_instance: Some(
            e.host
                .as_ref()
                .map_or_else(|| e.source.to_string(), |h| h.to_string()),
        ),
        ..Default::default()
    })
}

/// Events about object `id`, oldest first by last occurrence.
pub fn events_for(sim: &Sim, id: u64) -> Vec<Event> {
    let mut evs: Vec<Event> = sim
        .store
        .events
        .for_object(id)
        .into_iter()
        .filter_map(|e| k8s_event(sim, e))
        .collect();
    evs.sort_by(|a, b| a.last_timestamp.cmp(&b.last_timestamp));
    evs
}

/// The objects of `kind` in `ns` (every namespace when `None`) whose labels match
/// `selector`, in the order `kubectl get` prints them.
pub fn list(
    sim: &Sim,
    kind: Kind,
    ns: Option<&str>,
    selector: &crate::api::selector::Selector,
) -> Vec<Object> {
    let mut out = Vec::new();
    let in_ns = |o_ns: &str| ns.is_none_or(|n| n == o_ns);
    match kind {
        Kind::Pod => {
            for (o_ns, _, id) in sim.store.pods.all_names() {
                if let Some(p) = sim.store.pods.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(p.labels())
                {
                    out.push(Object::Pod(sim.store.pod_object(p)));
                }
            }
        }
        Kind::Deployment => {
            for (o_ns, _, id) in sim.store.deployments.all_names() {
                if let Some((_, d)) = sim.store.deployments.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(d.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::Deployment(d.clone()));
                }
            }
        }
        Kind::ReplicaSet => {
            for (o_ns, _, id) in sim.store.replicasets.all_names() {
                if let Some(e) = sim.store.replicasets.get(id).filter(|_| in_ns(o_ns))
                    && selector
                        .matches(e.rs.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::ReplicaSet(e.rs.clone()));
                }
            }
        }
        Kind::Service => {
            for (o_ns, _, id) in sim.store.services.all_names() {
                if let Some((_, s)) = sim.store.services.get(id).filter(|_| in_ns(o_ns))
                    && selector.matches(s.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::Service(s.clone()));
                }
            }
        }
        Kind::Endpoints => {
            for (o_ns, _, id) in sim.store.endpoints.all_names() {
                if let Some((_, e)) = sim.store.endpoints.get(id).filter(|_| in_ns(o_ns)) {
                    out.push(Object::Endpoints(e.clone()));
                }
            }
        }
        Kind::Node => {
            for (_, _, id) in sim.store.nodes.all_names() {
                if let Some(n) = sim.node_object(id)
                    && selector.matches(n.metadata.labels.as_ref().unwrap_or(&Default::default()))
                {
                    out.push(Object::Node(n));
                }
            }
        }
        Kind::Namespace => {
            for (_, _, id) in sim.store.namespaces.all_names() {
                if let Some(n) = sim.store.namespaces.get(id) {
                    out.push(Object::Namespace(n.clone()));
                }
            }
        }
        Kind::Event => {
            let mut evs: Vec<Event> = sim
                .store
                .events
                .iter()
                .filter(|e| {
                    ns.is_none_or(|n| {
                        *e.object.namespace == *n
                            || (e.object.namespace.is_empty() && n == "default")
                    })
                })
                .filter_map(|e| k8s_event(sim, e))
                .collect();
            evs.sort_by(|a, b| a.last_timestamp.cmp(&b.last_timestamp));
            out.extend(evs.into_iter().map(Object::Event));
        }
    }
    out
}

/// `kubectl get`'s table of `objs` (all of kind `kind`); with `o.cells`, the server-side
/// Table's columns and cells as JSON.
pub fn render(
    kind: Kind,
    objs: &[Object],
    o: &GetOptions,
    now: k8s_openapi::jiff::Timestamp,
) -> String {
    macro_rules! pick {
        ($variant:ident, $f:path) => {{
            let v: Vec<_> = objs
                .iter()
                .filter_map(|x| {
                    if let Object::$variant(y) = x {
                        Some(y.clone())
                    } else {
                        None
                    }
                })
                .collect();
            $f(&v, o, now)
        }};
    }
    match kind {
        Kind::Pod => pick!(Pod, print::get_pods),
        Kind::Deployment => pick!(Deployment, print::get_deployments),
        Kind::ReplicaSet => pick!(ReplicaSet, print::get_replicasets),
        Kind::Service => pick!(Service, print::get_services),
        Kind::Endpoints => pick!(Endpoints, print::get_endpoints),
        Kind::Node => pick!(Node, print::get_nodes),
        Kind::Namespace => pick!(Namespace, print::get_namespaces),
        Kind::Event => pick!(Event, print::get_events),
    }
}

fn get(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(first) = args.positional.first() else {
        return Output::err(
            "You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.",
        );
    };
    let all_ns = args.has(&["-A", "--all-namespaces"]);
    let selector = match args
        .get(&["-l", "--selector"])
        .map(crate::api::selector::Selector::parse)
    {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Output::err(format!("error: {e}")),
        None => crate::api::selector::Selector::everything(),
    };
    let output = args.get(&["-o", "--output"]).unwrap_or("");
    let (kinds_word, names): (String, Vec<String>) = match first.split_once('/') {
        Some((k, n)) => (k.to_string(), vec![n.to_string()]),
        None => (first.clone(), args.positional[1..].to_vec()),
    };
    let mut kinds = Vec::new();
    for w in kinds_word.split(',') {
        match parse_kind(w) {
            Some(k) => kinds.push(k),
            None => return unknown_kind(w),
        }
    }
    let multi = kinds.len() > 1;
    let now = sim.store.now_timestamp();
    let mut blocks = Vec::new();
    let mut out = Output::default();
    let mut found_any = false;
    for kind in kinds {
        let scope = if matches!(kind, Kind::Node | Kind::Namespace) || all_ns {
            None
        } else {
            Some(ns)
        };
        let mut objs = list(sim, kind, scope, &selector);
        if !names.is_empty() {
            let mut picked = Vec::new();
            for n in &names {
                match objs.iter().find(|o| o.name() == n) {
                    Some(o) => picked.push(o.clone()),
                    None => out.push(Output::err(format!(
                        "Error from server (NotFound): {} {n:?} not found",
                        resource_of(kind)
                    ))),
                }
            }
            objs = picked;
        }
        if objs.is_empty() {
            continue;
        }
        found_any = true;
        match output {
            "yaml" | "json" => {
                let items: Vec<serde_json::Value> = objs.iter().map(Object::to_value).collect();
                let value = if items.len() == 1 && !names.is_empty() {
                    items.into_iter().next().unwrap_or_default()
                } else {
                    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
                };
                blocks.push(if output == "yaml" {
                    print::to_yaml(&value)
                } else {
                    print::to_json(&value)
                });
            }
            "name" => blocks.push(
                objs.iter()
                    .map(|o| format!("{}/{}\n", kind_prefix(o.kind()), o.name()))
                    .collect(),
            ),
            "" | "wide" => blocks.push(render(kind, &objs, &opts(args, multi, all_ns), now)),
            other => {
                return Output::err(format!(
                    "error: unable to match a printer suitable for the output format {other:?}, allowed formats are: json,name,wide,yaml"
                ));
            }
        }
    }
    if !found_any && out.code == 0 {
        let msg = if all_ns {
            "No resources found\n".to_string()
        } else {
            format!("No resources found in {ns} namespace.\n")
        };
        out.stderr.push_str(&msg);
        return out;
    }
    // get.go separates resource groups with a blank line only in the human-readable
    // path; `-o name` goes through printGeneric, one name per line.
    out.stdout = if output == "name" {
        blocks.concat()
    } else {
        print::join_get_blocks(&blocks)
    };
    out
}

fn describe(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    // `kubectl describe pods` (a type alone) describes every object of that type in the
    // namespace; `describe pods NAME` with no exact match describes those NAME prefixes.
    if let [kw] = args.positional.as_slice()
        && !kw.contains('/')
    {
        let Some(kind) = parse_kind(kw) else {
            return unknown_kind(kw);
        };
        let names = names_of(sim, kind, ns);
        if names.is_empty() {
            return Output::err(format!("No resources found in {ns} namespace."));
        }
        return describe_each(sim, args, ns, kw, &names);
    }
    if let [kw, prefix] = args.positional.as_slice()
        && let Some(kind) = parse_kind(kw)
    {
        let names = names_of(sim, kind, ns);
        if !names.contains(prefix) {
            let matching: Vec<String> = names
                .into_iter()
                .filter(|n| n.starts_with(prefix.as_str()))
                .collect();
            if !matching.is_empty() {
                return describe_each(sim, args, ns, kw, &matching);
            }
        }
    }
    describe_one(sim, args, ns)
}

/// Names of every object of `kind` in `ns`, sorted.
fn names_of(sim: &Sim, kind: Kind, ns: &str) -> Vec<String> {
    let mut v: Vec<String> = match kind {
        Kind::Deployment => sim
            .store
            .deployments
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::ReplicaSet => sim
            .store
            .replicasets
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::Pod => sim
            .store
            .pods
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::Service => sim
            .store
            .services
            .names_in(ns)
            .map(|(n, _)| n.to_string())
            .collect(),
        Kind::Node => sim
            .store
            .nodes
            .all_names()
            .map(|(_, n, _)| n.to_string())
            .collect(),
        _ => Vec::new(),
    };
    v.sort();
    v
}

/// Describes each named object, separated as kubectl separates them.
fn describe_each(sim: &mut Sim, args: &Args, ns: &str, kw: &str, names: &[String]) -> Output {
    let mut out = Output::default();
    for (i, name) in names.iter().enumerate() {
        let one = Args {
            positional: vec![kw.to_string(), name.clone()],
            flags: args.flags.clone(),
            rest: Vec::new(),
        };
        let o = describe_one(sim, &one, ns);
        if i > 0 {
            out.stdout.push_str("\n\n");
        }
        out.push(o);
    }
    out
}

fn describe_one(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let (kind, name) = match target(args) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let now = sim.store.now_timestamp();
    let nf = || {
        Output::err(format!(
            "Error from server (NotFound): {} {name:?} not found",
            resource_of(kind)
        ))
    };
    match kind {
        Kind::Deployment => {
            let Some(id) = sim.store.deployments.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, d)) = sim.store.deployments.get(id) else {
                return nf();
            };
            let cx_rs = sim.revisions(id);
            let template = d.spec.as_ref().map(|s| s.template.clone());
            let mut new_rs = None;
            let mut old = Vec::new();
            let mut by_age: Vec<_> = cx_rs.iter().map(|(_, id)| *id).collect();
            sim.sort_by_creation(&mut by_age);
            for rid in by_age {
                let Some(e) = sim.store.replicasets.get(rid) else {
                    continue;
                };
                if new_rs.is_none()
                    && template
                        .as_ref()
                        .is_some_and(|t| util::equal_ignore_hash(&e.template, t))
                {
                    new_rs = Some(e.rs.clone());
                } else {
                    old.push(e.rs.clone());
                }
            }
            Output::ok(print::describe_deployment(
                d,
                &old,
                new_rs.as_ref(),
                &events_for(sim, id),
                now,
            ))
        }
        Kind::Pod => {
            let Some(id) = sim.store.pods.lookup(ns, &name) else {
                return nf();
            };
            let Some(p) = sim.store.pods.get(id) else {
                return nf();
            };
            Output::ok(print::describe_pod(
                &sim.store.pod_object(p),
                &events_for(sim, id),
                now,
            ))
        }
        Kind::ReplicaSet => {
            let Some(id) = sim.store.replicasets.lookup(ns, &name) else {
                return nf();
            };
            let Some(e) = sim.store.replicasets.get(id) else {
                return nf();
            };
            let pods: Vec<_> = sim
                .store
                .owners
                .dependents(id)
                .into_iter()
                .filter_map(|p| sim.store.pods.get(p))
                .map(|p| sim.store.pod_object(p))
                .collect();
            Output::ok(print::describe_replicaset(
                &e.rs,
                &pods,
                &events_for(sim, id),
                now,
            ))
        }
        Kind::Service => {
            let Some(id) = sim.store.services.lookup(ns, &name) else {
                return nf();
            };
            let Some((_, s)) = sim.store.services.get(id) else {
                return nf();
            };
            let ep = sim
                .store
                .endpoints
                .lookup(ns, &name)
                .and_then(|e| sim.store.endpoints.get(e))
                .map(|(_, e)| e.clone());
            Output::ok(print::describe_service_at(
                s,
                ep.as_ref(),
                &events_for(sim, id),
                now,
            ))
        }
        Kind::Node => {
            let Some(id) = sim.store.nodes.lookup("", &name) else {
                return nf();
            };
            let Some(n) = sim.node_object(id) else {
                return nf();
            };
            let pods: Vec<_> = sim
                .store
                .nodes
                .get(id)
                .map(|n| {
                    n.pods
                        .iter()
                        .filter_map(|p| sim.store.pods.get(*p))
                        .map(|p| sim.store.pod_object(p))
                        .collect()
                })
                .unwrap_or_default();
            Output::ok(print::describe_node(&n, &pods, &events_for(sim, id), now))
        }
        _ => Output::err(format!(
            "error: kubesim cannot describe {} yet",
            resource_of(kind)
        )),
    }
}

fn scale(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let (kind, name) = match target(args) {
        Ok(t) => t,
        Err(o) => return o,
    };
    // scale.go marks --replicas required (cobra: `required flag(s) "replicas" not set`); the
    // COUNT message is Validate's answer to a negative count. A value that is not a number
    // fails in flag parsing.
    let Some(raw) = args.get(&["--replicas"]) else {
        return Output::err("error: required flag(s) \"replicas\" not set");
    };
    let Ok(n) = raw.parse::<i32>() else {
        return Output::err(format!(
            "error: invalid argument {raw:?} for \"--replicas\" flag: strconv.ParseInt: parsing {raw:?}: invalid syntax"
        ));
    };
    if n < 0 {
        return Output::err(
            "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0",
        );
    }
    let r = match kind {
        Kind::Deployment => sim.scale_deployment(ns, &name, n),
        Kind::ReplicaSet => sim.scale_replica_set(ns, &name, n),
        _ => return Output::err(format!("error: cannot scale {}", resource_of(kind))),
    };
    match r {
        Ok(()) => Output::ok(format!("{}/{name} scaled\n", kind_prefix(kind_name(kind)))),
        Err(e) => Output::err(server_error(&e)),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    kind.as_str()
}

fn set_image(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    if args.positional.first().map(String::as_str) != Some("image") {
        return Output::err("error: kubesim supports `kubectl set image` only");
    }
    let rest = Args {
        positional: args.positional[1..].to_vec(),
        flags: Vec::new(),
        rest: Vec::new(),
    };
    let (kind, name) = match target(&rest) {
        Ok(t) => t,
        Err(o) => return o,
    };
    if kind != Kind::Deployment {
        return Output::err("error: kubesim sets images on deployments only");
    }
    let pairs: Vec<(String, String)> = rest
        .positional
        .iter()
        .skip(if rest.positional[0].contains('/') {
            1
        } else {
            2
        })
        .filter_map(|w| w.split_once('='))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    if pairs.is_empty() {
        return Output::err("error: at least one image update is required");
    }
    match sim.set_image(ns, &name, &pairs) {
        Ok(true) => Output::ok(format!("deployment.apps/{name} image updated\n")),
        Ok(false) => Output::ok(String::new()),
        Err(ApiError::BadRequest(m)) => Output::err(format!("error: {m}")),
        Err(e) => Output::err(server_error(&e)),
    }
}

/// What `kubectl rollout status` would print now, and whether it would stop: `Some(0)` done,
/// `Some(1)` failed, `None` still waiting.
pub fn rollout_status(sim: &Sim, ns: &str, name: &str) -> (String, Option<i32>) {
    let Some((_, d)) = sim
        .store
        .deployments
        .lookup(ns, name)
        .and_then(|id| sim.store.deployments.get(id))
    else {
        return (
            format!("Error from server (NotFound): deployments.apps {name:?} not found"),
            Some(1),
        );
    };
    let st = d.status.clone().unwrap_or_default();
    if d.metadata.generation.unwrap_or(0) > st.observed_generation.unwrap_or(0) {
        return (
            "Waiting for deployment spec update to be observed...".into(),
            None,
        );
    }
    if util::get_condition(&st, "Progressing").and_then(|c| c.reason.as_deref())
        == Some(util::reason::TIMED_OUT)
    {
        return (
            format!("error: deployment {name:?} exceeded its progress deadline"),
            Some(1),
        );
    }
    let replicas = util::replicas(d);
    let updated = st.updated_replicas.unwrap_or(0);
    let total = st.replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < replicas {
        return (
            format!(
                "Waiting for deployment {name:?} rollout to finish: {updated} out of {replicas} new replicas have been updated..."
            ),
            None,
        );
    }
    if total > updated {
        return (
            format!(
                "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...",
                total - updated
            ),
            None,
        );
    }
    if available < updated {
        return (
            format!(
                "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."
            ),
            None,
        );
    }
    (
        format!("deployment {name:?} successfully rolled out"),
        Some(0),
    )
}

fn rollout(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(sub) = args.positional.first().cloned() else {
        return Output::err(
            "error: rollout needs a subcommand: status, history, undo, pause, resume, restart",
        );
    };
    let rest = Args {
        positional: args.positional[1..].to_vec(),
        flags: Vec::new(),
        rest: Vec::new(),
    };
    let (kind, name) = match target(&rest) {
        Ok(t) => t,
        Err(o) => return o,
    };
    if kind != Kind::Deployment {
        return Output::err(format!(
            "error: kubesim rolls out deployments only, not {}",
            resource_of(kind)
        ));
    }
    let Ok(id) = sim.deployment_id(ns, &name) else {
        return Output::err(format!(
            "Error from server (NotFound): deployments.apps {name:?} not found"
        ));
    };
    match sub.as_str() {
        "status" => {
            let (line, code) = rollout_status(sim, ns, &name);
            match code {
                Some(1) => Output::err(line),
                _ => Output::ok(format!("{line}\n")),
            }
        }
        "history" => {
            let rss: Vec<_> = sim
                .revisions(id)
                .into_iter()
                .filter_map(|(_, r)| sim.store.replicasets.get(r))
                .map(|e| e.rs.clone())
                .collect();
            let label = format!("deployment.apps/{name}");
            match args.get(&["--revision"]).map(|v| v.parse::<i64>()) {
                None => Output::ok(print::rollout_history(&label, &rss)),
                Some(Ok(n)) => match print::replicaset_for_revision(&rss, n) {
                    Some(rs) => Output::ok(print::rollout_history_revision(&label, rs, n)),
                    None => Output::err("error: unable to find the specified revision"),
                },
                Some(Err(_)) => Output::err("error: invalid argument for \"--revision\" flag"),
            }
        }
        "undo" => {
            let to = match args.get(&["--to-revision"]).map(|v| v.parse::<i64>()) {
                None => 0,
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    return Output::err("error: invalid argument for \"--to-revision\" flag");
                }
            };
            match sim.rollout_undo(ns, &name, to) {
                Ok(msg) => Output::ok(format!("{msg}\n")),
                Err(UndoOrApiError::Undo(e)) => Output::err(format!("error: {e}")),
                Err(UndoOrApiError::Api(e)) => Output::err(server_error(&e)),
            }
        }
        "pause" | "resume" => {
            let pause = sub == "pause";
            match sim.set_paused(ns, &name, pause) {
                Ok(true) => Output::ok(format!(
                    "deployment.apps/{name} {}\n",
                    if pause { "paused" } else { "resumed" }
                )),
                // objectpauser.go / objectresumer.go refuse before patching.
                Ok(false) => Output::err(format!(
                    "error: deployments.apps {name:?} {}",
                    if pause {
                        "is already paused"
                    } else {
                        "is not paused"
                    }
                )),
                Err(e) => Output::err(server_error(&e)),
            }
        }
        "restart" => match sim.rollout_restart(ns, &name) {
            Ok(()) => Output::ok(format!("deployment.apps/{name} restarted\n")),
            Err(ApiError::BadRequest(m)) => Output::err(format!("error: {m}")),
            Err(e) => Output::err(server_error(&e)),
        },
        other => Output::err(format!(
            "error: unknown command \"{other}\" for \"kubectl rollout\""
        )),
    }
}

/// The pod `kubectl logs TYPE/NAME` reads: the owner's selector lists the pods, sorted as
/// `podutils.ByLogging` (assigned, Running < Unknown < Pending, ready, ready longer, more
/// restarts, older), ties in name order. Returns the pod and how many matched.
fn pod_for_logs(sim: &Sim, ns: &str, kind: Kind, name: &str) -> Option<(u64, usize)> {
    use crate::api::selector::label_selector_matches;
    use crate::store::pod::Phase;
    let selector = match kind {
        Kind::Deployment => sim
            .store
            .deployments
            .lookup(ns, name)
            .and_then(|id| sim.store.deployments.get(id))
            .and_then(|(_, d)| d.spec.as_ref().map(|s| s.selector.clone()))?,
        _ => sim
            .store
            .replicasets
            .lookup(ns, name)
            .and_then(|id| sim.store.replicasets.get(id))
            .and_then(|e| e.rs.spec.as_ref().map(|s| s.selector.clone()))?,
    };
    let mut pods: Vec<&crate::store::PodState> = sim
        .store
        .pods
        .all_names()
        .filter(|(o_ns, _, _)| *o_ns == ns)
        .filter_map(|(_, _, id)| sim.store.pods.get(id))
        .filter(|p| label_selector_matches(&selector, p.labels()))
        .collect();
    let phase_rank = |p: Phase| match p {
        Phase::Unknown => 1,
        Phase::Pending => 2,
        _ => 0,
    };
    pods.sort_by(|a, b| {
        a.node
            .is_none()
            .cmp(&b.node.is_none())
            .then(phase_rank(a.phase).cmp(&phase_rank(b.phase)))
            .then(b.ready.cmp(&a.ready))
            .then(if a.ready && b.ready {
                a.ready_changed.cmp(&b.ready_changed)
            } else {
                std::cmp::Ordering::Equal
            })
            .then(b.max_restarts().cmp(&a.max_restarts()))
            .then(a.created.cmp(&b.created))
    });
    pods.first().map(|p| (p.id, pods.len()))
}

fn logs(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let Some(first) = args.positional.first() else {
        return Output::err("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.");
    };
    let mut out = Output::default();
    let pod_id = match first.split_once('/') {
        Some((k, n)) => match parse_kind(k) {
            Some(Kind::Pod) => sim.store.pods.lookup(ns, n),
            Some(kind @ (Kind::Deployment | Kind::ReplicaSet)) => {
                let exists = match kind {
                    Kind::Deployment => sim.store.deployments.lookup(ns, n).is_some(),
                    _ => sim.store.replicasets.lookup(ns, n).is_some(),
                };
                if !exists {
                    return Output::err(format!(
                        "Error from server (NotFound): {} {n:?} not found",
                        resource_of(kind)
                    ));
                }
                // logsforobject.go: GetFirstPod, then `Found N pods, using pod/x` on stderr.
                match pod_for_logs(sim, ns, kind, n) {
                    Some((id, count)) => {
                        if count > 1 {
                            let name = sim.store.pods.get(id).map(|p| p.name.clone());
                            out.stderr.push_str(&format!(
                                "Found {count} pods, using pod/{}\n",
                                name.unwrap_or_default()
                            ));
                        }
                        Some(id)
                    }
                    None => {
                        return Output::err(format!(
                            "error: timed out waiting for the condition on {}/{n}",
                            resource_of(kind)
                        ));
                    }
                }
            }
            _ => return unknown_kind(k),
        },
        None => sim.store.pods.lookup(ns, first),
    };
    let Some(id) = pod_id else {
        return Output::err(format!(
            "Error from server (NotFound): pods {:?} not found",
            first.rsplit('/').next().unwrap_or(first)
        ));
    };
    let Some(p) = sim.store.pods.get(id) else {
        return Output::err("error: pod vanished");
    };
    let names: Vec<String> = p
        .template
        .spec
        .iter()
        .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
        .collect();
    let all_names = names.join(", ");
    // logsforobject.go: the `kubectl.kubernetes.io/default-container` annotation, else the
    // first container (saying so on stderr when there are others); a container that does not
    // exist is refused client-side.
    let requested = match args.get(&["-c", "--container"]) {
        Some(c) => Some(c.to_string()),
        None => {
            let annotated = p
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.annotations.as_ref())
                .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
                .filter(|d| !d.is_empty())
                .cloned();
            match annotated {
                Some(d) if names.contains(&d) => Some(d),
                Some(d) => {
                    out.stderr.push_str(&format!(
                        "Default container name {d:?} not found in pod {}\n",
                        p.name
                    ));
                    None
                }
                None => None,
            }
        }
    };
    let requested = requested.unwrap_or_else(|| {
        if names.len() > 1 {
            out.stderr.push_str(&format!(
                "Defaulted container {:?} out of: {all_names}\n",
                names[0]
            ));
        }
        names.first().cloned().unwrap_or_default()
    });
    let Some(ci) = names.iter().position(|n| *n == requested) else {
        out.push(Output::err(format!(
            "error: container {requested} is not valid for pod {} out of: {all_names}",
            p.name
        )));
        return out;
    };
    let c = &p.containers[ci];
    let previous = args.has(&["-p", "--previous"]);
    if !c.has_started() {
        let reason = match &c.state {
            crate::store::pod::CState::Waiting { reason, .. } => reason.as_str(),
            _ => "ContainerCreating",
        };
        out.push(Output::err(format!(
            "Error from server (BadRequest): container {:?} in pod {:?} is waiting to start: {}",
            names[ci],
            p.name,
            if reason == "ContainerCreating" {
                "ContainerCreating".to_string()
            } else {
                "trying and failing to pull image".to_string()
            }
        )));
        return out;
    }
    if previous && c.last.is_none() {
        out.push(Output::err(format!(
            "Error from server (BadRequest): previous terminated container {:?} in pod {:?} not found",
            names[ci], p.name
        )));
        return out;
    }
    let lines = if previous { &c.previous_logs } else { &c.logs };
    let tail = args.get(&["--tail"]).and_then(|v| v.parse::<usize>().ok());
    let skip = tail.map_or(0, |t| lines.len().saturating_sub(t));
    out.push(Output::ok(
        lines
            .iter()
            .skip(skip)
            .map(|(_, l)| format!("{l}\n"))
            .collect::<String>(),
    ));
    out
}

fn cordon(sim: &mut Sim, args: &Args, on: bool) -> Output {
    let Some(name) = args.positional.first() else {
        return Output::err("error: USAGE: cordon NODE");
    };
    let Some(Object::Node(mut n)) = sim.get_object(Kind::Node, "", name) else {
        return Output::err(format!(
            "Error from server (NotFound): nodes {name:?} not found"
        ));
    };
    let current = n
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    if current == on {
        return Output::ok(format!(
            "node/{name} already {}\n",
            if on { "cordoned" } else { "uncordoned" }
        ));
    }
    n.spec.get_or_insert_with(Default::default).unschedulable = on.then_some(true);
    match sim.update(Object::Node(n)) {
        Ok(_) => Output::ok(format!(
            "node/{name} {}\n",
            if on { "cordoned" } else { "uncordoned" }
        )),
        Err(e) => Output::err(server_error(&e)),
    }
}

fn drain(sim: &mut Sim, args: &Args, clock: &mut dyn Clock) -> Output {
    let mut out = cordon(sim, args, true);
    if out.code != 0 {
        return out;
    }
    let Some(name) = args.positional.first().cloned() else {
        return out;
    };
    let Some(id) = sim.store.nodes.lookup("", &name) else {
        return out;
    };
    let force = args.has(&["--force"]) && args.get(&["--force"]) != Some("false");
    // GetPodsForDeletion lists the node's pods in namespace/name order. Finished pods go
    // without a check; a pod with no controller stops the drain unless --force
    // (filters.go unreplicatedFilter).
    let mut pods: Vec<(String, String, u64, bool)> = sim
        .store
        .nodes
        .get(id)
        .map(|n| n.pods.iter().copied().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| sim.store.pods.get(p))
        .map(|p| {
            let finished = matches!(
                p.phase,
                crate::store::pod::Phase::Succeeded | crate::store::pod::Phase::Failed
            );
            (
                p.namespace.to_string(),
                p.name.to_string(),
                p.id,
                p.owner.is_none() && !finished,
            )
        })
        .collect();
    pods.sort();
    let unmanaged: Vec<String> = pods
        .iter()
        .filter(|p| p.3)
        .map(|p| format!("{}/{}", p.0, p.1))
        .collect();
    if !unmanaged.is_empty() {
        if !force {
            let err = format!(
                "cannot delete cannot delete Pods that declare no controller (use --force to override): {}",
                unmanaged.join(", ")
            );
            // drain.go RunDrain: the node's error, the pending nodes, then the aggregate error.
            out.push(Output::err(format!(
                "error: unable to drain node {name:?} due to error: {err}, continuing command...\nThere are pending nodes to be drained:\n {name}\nerror: {err}"
            )));
            return out;
        }
        out.stderr.push_str(&format!(
            "Warning: deleting Pods that declare no controller: {}\n",
            unmanaged.join(", ")
        ));
    }
    let grace = args
        .get(&["--grace-period"])
        .and_then(|g| g.parse::<i64>().ok())
        .filter(|g| *g >= 0);
    // evictPods: one eviction per pod, all at once; each waits (polling every second) until
    // its pod is gone and then prints `pod/x evicted`. Virtual time moves meanwhile.
    let mut pending: Vec<(u64, String)> = pods
        .iter()
        .map(|(ns, pod, id, _)| {
            out.stdout.push_str(&format!("evicting pod {ns}/{pod}\n"));
            (*id, pod.clone())
        })
        .collect();
    for (id, _) in &pending {
        sim.delete_pod(*id, grace);
    }
    sim.settle();
    let deadline = sim.now() + crate::time::SimDuration::from_secs(3600);
    let mut evicted = Vec::new();
    while !pending.is_empty() && sim.now() < deadline {
        pending.retain(|(id, pod)| {
            if sim.store.pods.get(*id).is_some() {
                return true;
            }
            evicted.push(pod.clone());
            false
        });
        if pending.is_empty() {
            break;
        }
        // The next poll, one second later.
        let next = sim.now() + crate::time::SimDuration::from_secs(1);
        clock.run_until(sim, next, &mut |_| false);
    }
    for pod in evicted {
        out.stdout.push_str(&format!("pod/{pod} evicted\n"));
    }
    if !pending.is_empty() {
        out.push(Output::err(format!(
            "error: unable to drain node {name:?} due to error: error when waiting for pod {:?} terminating: global timeout reached: 1h0m0s, continuing command...\nThere are pending nodes to be drained:\n {name}",
            pending[0].1
        )));
        return out;
    }
    out.stdout.push_str(&format!("node/{name} drained\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_words("get pods -n 'live coding'").unwrap(),
            ["get", "pods", "-n", "live coding"]
        );
        assert_eq!(split_words(r#"a "" b"#).unwrap(), ["a", "", "b"]);
        assert!(split_words("get 'oops").is_err());
    }
}
