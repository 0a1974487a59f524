//! The server's shared state: the sandbox behind its mutex, the console every tab shares, the
//! compare view, the panels rendered once per change, the NodePorts, the scenario runs.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use crate::conn::{self, ConnLimits};
use crate::guard::Guard;
use crate::sandbox::Sandbox;
use crate::{compare, node_ports, scenario_ui, view};

/// What the console and the YAML box last showed (shared by every tab).
#[derive(Debug, Default, Clone)]
pub(crate) struct Console {
    pub(crate) cmd: String,
    /// Every command and output of this run (the scrollback), oldest first.
    pub(crate) out: String,
    pub(crate) yaml: String,
    pub(crate) apply_out: String,
    /// The page's current namespace: the cluster view, the console's default and the
    /// kubeconfig's context all use it (`None`: all namespaces, the console then `default`).
    pub(crate) namespace: Option<String>,
}

/// How much of the console's scrollback the page keeps (older entries are dropped whole).
const SCROLLBACK_BYTES: usize = 64 * 1024;

impl Console {
    /// Adds one entry (a command line and its output) to the scrollback, dropping the oldest
    /// entries beyond [`SCROLLBACK_BYTES`].
    pub(crate) fn push(&mut self, entry: String) {
        push_scrollback(&mut self.out, &entry);
    }

    /// The namespace a command without `-n` runs in, as kubectl's context gives it.
    pub(crate) fn context_namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }
}

/// Adds one entry (a command line and its output) to the scrollback `out`, dropping the
/// oldest entries beyond [`SCROLLBACK_BYTES`] (the sandbox's console and each scenario run's).
pub(crate) fn push_scrollback(out: &mut String, entry: &str) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(entry);
    if out.len() > SCROLLBACK_BYTES {
        let cut = out.len() - SCROLLBACK_BYTES;
        // The first entry that starts after the cut (entries start with `$ ` or `# `).
        let start = out[cut..]
            .match_indices('\n')
            .map(|(i, _)| cut + i + 1)
            .find(|&i| out[i..].starts_with("$ ") || out[i..].starts_with("# "))
            .unwrap_or(out.len());
        out.drain(..start);
    }
}

/// The namespace a student starts in: the one the demo's traffic goes to, else the first
/// Deployment's outside `kube-system`, else `default`.
pub(crate) fn starting_namespace(sb: &Sandbox) -> String {
    if let Some(f) = sb.sim.traffic.flows.first() {
        return f.namespace.to_string();
    }
    sb.sim
        .store
        .deployments
        .all_names()
        .find(|(ns, _, _)| *ns != "kube-system")
        .map_or_else(|| "default".to_string(), |(ns, _, _)| ns.to_string())
}

/// Panels rendered for one change number.
pub(crate) type Rendered = (u64, Arc<view::Live>);

/// Shared server state.
#[derive(Clone)]
pub struct AppState {
    pub(crate) sandbox: Arc<Mutex<Sandbox>>,
    pub(crate) console: Arc<Mutex<Console>>,
    pub(crate) changed: watch::Sender<u64>,
    pub(crate) title: Arc<str>,
    pub(crate) compare: Arc<Mutex<Option<compare::Compare>>>,
    /// Set when the server is stopping: streams end so that shutdown does not wait for tabs.
    pub(crate) shutdown: watch::Sender<bool>,
    /// The panels of the last change (main page, compare page, main page with the whole run's
    /// timeline), rendered once and shared by every tab.
    pub(crate) rendered: Arc<Mutex<[Rendered; 3]>>,
    /// The address NodePorts listen on (when they do) and what each nodePort is doing.
    pub(crate) node_ports: Arc<Mutex<NodePortStatus>>,
    /// What the ingress listener is doing ([`crate::ingress`]).
    pub(crate) ingress: Arc<Mutex<crate::ingress::ListenerState>>,
    /// The scenario pages (`/scenarios`): the catalog and the runs started.
    pub scenarios: scenario_ui::Scenarios,
    /// The Host allow-list and the token ([`crate::guard`]).
    pub(crate) guard: Arc<Guard>,
    /// Connection limits ([`crate::conn`]).
    pub(crate) conn: Arc<ConnLimits>,
    /// The streams each client holds.
    pub(crate) streams: Arc<conn::Streams>,
    /// The sandbox's action log on disk, when kept ([`crate::journal`]).
    pub(crate) journal: Option<Arc<Mutex<crate::journal::Journal>>>,
    /// This server's form token, new at every start: every form of its pages carries it
    /// ([`crate::guard`]).
    pub(crate) form_token: Arc<str>,
    /// The consoles' running watches ([`crate::routes::console::Watches`]).
    pub(crate) watches: Arc<crate::routes::console::Watches>,
}

/// Where NodePorts listen, and each one's state.
pub(crate) type NodePortStatus = (Option<std::net::IpAddr>, Vec<node_ports::NodePort>);

impl AppState {
    /// State around a sandbox.
    pub fn new(sandbox: Sandbox, title: &str) -> AppState {
        let (changed, _) = watch::channel(0);
        let (shutdown, _) = watch::channel(false);
        let scenarios = scenario_ui::Scenarios::course();
        let form_token = scenarios.form_token.clone();
        AppState {
            console: Arc::new(Mutex::new(Console {
                yaml: DEFAULT_YAML.into(),
                namespace: Some(starting_namespace(&sandbox)),
                ..Console::default()
            })),
            sandbox: Arc::new(Mutex::new(sandbox)),
            changed,
            title: title.into(),
            compare: Arc::new(Mutex::new(None)),
            shutdown,
            rendered: Arc::new(Mutex::new([
                (u64::MAX, Arc::default()),
                (u64::MAX, Arc::default()),
                (u64::MAX, Arc::default()),
            ])),
            node_ports: Arc::new(Mutex::new((None, Vec::new()))),
            ingress: Arc::default(),
            scenarios,
            guard: Arc::default(),
            conn: Arc::default(),
            streams: Arc::default(),
            journal: None,
            form_token,
            watches: Arc::default(),
        }
    }

    /// The same state keeping the sandbox's actions in `journal`.
    pub(crate) fn with_journal(mut self, journal: crate::journal::Journal) -> AppState {
        self.journal = Some(Arc::new(Mutex::new(journal)));
        self
    }

    /// The same state with other connection limits (tests use small ones).
    pub fn with_conn_limits(mut self, limits: ConnLimits) -> AppState {
        self.conn = Arc::new(limits);
        self
    }

    /// The same state with `guard`'s extra Host names and token (`serve --allow-host`,
    /// `--token`); the scenarios' scripts get the token too.
    pub fn with_guard(mut self, guard: Guard) -> AppState {
        if let Some(t) = &guard.token {
            let _ = self.scenarios.token.set(t.clone());
        }
        self.guard = Arc::new(guard);
        self
    }

    pub(crate) fn sb(&self) -> MutexGuard<'_, Sandbox> {
        self.sandbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn console(&self) -> MutexGuard<'_, Console> {
        self.console.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn cmp(&self) -> MutexGuard<'_, Option<compare::Compare>> {
        self.compare.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The panels for change number `version` (main or compare page), rendered at most once.
    pub(crate) fn panels(
        &self,
        version: u64,
        compare_view: bool,
        window: crate::timeline::Window,
    ) -> Arc<view::Live> {
        let whole = window == crate::timeline::Window::Whole;
        let slot = if compare_view {
            1
        } else {
            2 * usize::from(whole)
        };
        let mut cache = self.rendered.lock().unwrap_or_else(|e| e.into_inner());
        if cache[slot].0 == version {
            return cache[slot].1.clone();
        }
        let live = if compare_view {
            self.cmp()
                .as_ref()
                .map(compare::Compare::live)
                .unwrap_or_default()
        } else {
            let ns = self.console().namespace.clone();
            let mut live = view::live_in(&self.sb(), ns.as_deref(), window);
            live.panels.push(("nodeports", self.node_ports_html()));
            live.panels.push((
                "namespaces",
                view::namespace_picker(&self.sb().sim, ns.as_deref(), &self.form_token),
            ));
            live
        };
        cache[slot] = (version, Arc::new(live));
        cache[slot].1.clone()
    }

    pub(crate) fn node_ports_html(&self) -> String {
        let status = self.node_ports.lock().unwrap_or_else(|e| e.into_inner());
        let ingress = self.ingress.lock().unwrap_or_else(|e| e.into_inner());
        node_ports::panel(status.0, &status.1) + &crate::ingress::panel(&ingress)
    }

    pub(crate) fn notify(&self) {
        self.changed.send_modify(|v| *v += 1);
    }
}

const DEFAULT_YAML: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: credit-scoring-api
  namespace: live-coding
  labels: {phase: live-coding, app: rest-api}
spec:
  replicas: 10
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 2, maxUnavailable: 0}
  selector:
    matchLabels: {phase: live-coding, app: rest-api}
  template:
    metadata:
      labels: {phase: live-coding, app: rest-api}
    spec:
      containers:
        - name: api
          image: registry.local/credit-scoring-api:v2
          ports: [{containerPort: 8080}]
          readinessProbe:
            periodSeconds: 5
            httpGet: {port: 8080, path: /}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrollback_keeps_every_entry_then_drops_the_oldest_whole() {
        let mut c = Console::default();
        c.push("$ kubectl get pods\nNAME\n".into());
        c.push("# stop traffic\nstopped".into());
        c.push("$ kubectl get deploy\nweb\n".into());
        assert_eq!(
            c.out,
            "$ kubectl get pods\nNAME\n# stop traffic\nstopped\n$ kubectl get deploy\nweb\n"
        );
        for i in 0..5000 {
            c.push(format!("$ kubectl get pod p{i}\n{}\n", "x".repeat(40)));
        }
        assert!(c.out.len() <= SCROLLBACK_BYTES, "{}", c.out.len());
        assert!(
            c.out.starts_with("$ kubectl get pod p"),
            "an entry is never cut"
        );
        assert!(
            c.out.ends_with("p4999\n".to_string().as_str()) || c.out.contains("get pod p4999\n")
        );
    }
}
