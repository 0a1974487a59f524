//! The commands that keep printing as the cluster changes: `kubectl get -w` (`--watch`,
//! `--watch-only`) and `kubectl rollout status` (without `--watch=false`).
//!
//! A [`Watch`] is started from a command line and then polled after each change of the
//! cluster; each poll returns what kubectl would have printed since the last one. As in
//! kubectl's `get.go` (`watch`), the table header is printed once, with the current objects
//! (unless `--watch-only`), and then one row per event, each flushed by itself, so a row is
//! aligned on its own cells and not on the header's. A deleted object's last row is printed
//! again. `rollout status` (`rollout_status.go`) prints the status at every change of the
//! Deployment until the rollout completes, exceeds its progress deadline or `--timeout` runs
//! out. The caller owns the loop, so nothing here waits or holds the cluster.

use std::collections::BTreeMap;

use crate::api::Object;
use crate::api::selector::Selector;
use crate::kubectl::args::{Args, parse_kind, split_words};
use crate::kubectl::list::list;
use crate::kubectl::print::GetOptions;
use crate::kubectl::render;
use crate::kubectl::{Output, server_error, unknown_kind};
use crate::sim::Sim;
use crate::store::Kind;
use crate::time::{SimDuration, SimTime};

/// A running `get -w` or `rollout status`.
#[derive(Debug, Clone)]
pub struct Watch {
    what: Watched,
    /// When `--timeout` runs out (rollout status).
    deadline: Option<SimTime>,
}

#[derive(Debug, Clone)]
enum Watched {
    Get {
        kind: Kind,
        /// The namespace (None: all namespaces, or a cluster-scoped kind).
        scope: Option<String>,
        names: Vec<String>,
        selector: Selector,
        opts: GetOptions,
        /// `-o name`.
        names_only: bool,
        /// `--watch-only`: no initial list.
        watch_only: bool,
        /// What was printed: (namespace, name) -> (fingerprint, object); `None` before the
        /// first poll.
        sent: Option<BTreeMap<(String, String), (String, Object)>>,
        /// The header was printed.
        header: bool,
        /// The store's resourceVersion at the last poll: nothing changed while it is the
        /// same, so the kind need not be listed again (events, which it does not count,
        /// are always listed).
        seen: Option<u64>,
    },
    Rollout {
        ns: String,
        name: String,
        /// The Deployment's fingerprint at the last status printed.
        last: Option<String>,
    },
}

/// What one poll printed, and whether the command ended (with its exit code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Polled {
    /// What it printed since the last poll.
    pub out: Output,
    /// `Some(code)`: the command ended.
    pub done: Option<i32>,
}

/// Whether `line` (with or without `kubectl`) keeps printing as the cluster changes: `get`
/// with `-w`/`--watch`/`--watch-only`, or `rollout status` without `--watch=false`.
pub fn is_watch(line: &str) -> bool {
    let Ok(words) = split_words(line) else {
        return false;
    };
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .skip_while(|w| *w == "kubectl")
        .collect();
    match words.first() {
        Some(&"get") => words.iter().any(|w| {
            matches!(*w, "-w" | "--watch" | "--watch-only")
                || (w.starts_with("--watch=") || w.starts_with("--watch-only="))
                    && !w.ends_with("=false")
        }),
        Some(&"rollout") => words.get(1) == Some(&"status") && !words.contains(&"--watch=false"),
        _ => false,
    }
}

/// The flag is on: `-w`, `--watch`, `--watch=true`.
fn on(args: &Args, names: &[&str]) -> bool {
    args.flags
        .iter()
        .any(|(k, v)| names.contains(&k.as_str()) && v.as_deref() != Some("false"))
}

/// Starts the watch `line` asks for, or says why kubectl would refuse it (its texts).
/// `ns` is the namespace when the line names none.
pub fn start(sim: &Sim, line: &str) -> Result<Watch, Output> {
    let words = split_words(line).map_err(|e| Output::err(format!("error: {e}")))?;
    let words: Vec<String> = words.into_iter().skip_while(|w| w == "kubectl").collect();
    let Some(verb) = words.first() else {
        return Err(Output::err("error: no command given"));
    };
    let args = Args::parse(&words[1..]);
    let ns = args
        .get(&["-n", "--namespace"])
        .unwrap_or("default")
        .to_string();
    let deadline = match args.get(&["--timeout"]) {
        None | Some("0" | "0s") => None,
        Some(t) => match crate::time::parse_duration(t) {
            Ok(d) => Some(sim.now() + d),
            Err(_) => {
                return Err(Output::err(format!(
                    "error: invalid argument {t:?} for \"--timeout\" flag: time: invalid duration {t:?}"
                )));
            }
        },
    };
    match verb.as_str() {
        "rollout" => {
            let rest: Vec<&String> = args.positional.iter().skip(1).collect();
            let (kind_word, name) = match (rest.first(), rest.get(1)) {
                (Some(w), _) if w.contains('/') => {
                    let (k, n) = w.split_once('/').unwrap_or_default();
                    (k.to_string(), n.to_string())
                }
                (Some(k), Some(n)) => ((*k).clone(), (*n).clone()),
                _ => {
                    return Err(Output::err("error: required resource not specified"));
                }
            };
            match parse_kind(&kind_word) {
                Some(Kind::Deployment) => {}
                Some(_) => {
                    return Err(Output::err("error: kubesim rolls out deployments only"));
                }
                None => return Err(unknown_kind(&kind_word)),
            }
            if let Err(e) = sim.deployment_id(&ns, &name) {
                return Err(Output::err(server_error(&e)));
            }
            Ok(Watch {
                what: Watched::Rollout {
                    ns,
                    name,
                    last: None,
                },
                deadline,
            })
        }
        "get" => {
            let Some(first) = args.positional.first() else {
                return Err(Output::err(
                    "You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.",
                ));
            };
            let (kind_word, names): (String, Vec<String>) = match first.split_once('/') {
                Some((k, n)) => (k.to_string(), vec![n.to_string()]),
                None => (first.clone(), args.positional[1..].to_vec()),
            };
            if kind_word.contains(',') || names.len() > 1 {
                // get.go: "watch is only supported on individual resources and resource
                // collections".
                return Err(Output::err(
                    "error: watch is only supported on individual resources and resource collections, but 2 resources were found",
                ));
            }
            let Some(kind) = parse_kind(&kind_word) else {
                return Err(unknown_kind(&kind_word));
            };
            let selector = match args.get(&["-l", "--selector"]).map(Selector::parse) {
                Some(Ok(s)) => s,
                Some(Err(e)) => return Err(Output::err(format!("error: {e}"))),
                None => Selector::everything(),
            };
            let all_ns = args.has(&["-A", "--all-namespaces"]);
            let namespaced = crate::api::resource::of(kind).namespaced;
            let output = args.get(&["-o", "--output"]).unwrap_or("");
            if !matches!(output, "" | "wide" | "name") {
                return Err(Output::err(format!(
                    "error: kubesim's console watches tables and names, not -o {output}"
                )));
            }
            Ok(Watch {
                what: Watched::Get {
                    kind,
                    scope: (namespaced && !all_ns).then_some(ns),
                    names,
                    selector,
                    opts: GetOptions {
                        wide: output == "wide",
                        with_kind: false,
                        with_namespace: all_ns && namespaced,
                        no_headers: args.has(&["--no-headers"]),
                        show_labels: args.has(&["--show-labels"]),
                        cells: false,
                    },
                    names_only: output == "name",
                    watch_only: on(&args, &["--watch-only"]),
                    sent: None,
                    header: false,
                    seen: None,
                },
                deadline,
            })
        }
        other => Err(Output::err(format!(
            "error: kubectl {other} does not watch"
        ))),
    }
}

/// What tells one state of an object from the next: its resourceVersion, else its JSON.
fn fingerprint(o: &Object) -> String {
    match o.metadata().resource_version.as_deref() {
        Some(rv) if !rv.is_empty() => rv.to_string(),
        _ => o.to_value().to_string(),
    }
}

impl Watch {
    /// What kubectl printed since the last poll, with the cluster as it is now.
    pub fn poll(&mut self, sim: &Sim) -> Polled {
        let timed_out = self.deadline.is_some_and(|d| sim.now() >= d);
        let mut polled = match &mut self.what {
            Watched::Rollout { ns, name, last } => {
                let Some(d) = sim.get_object(Kind::Deployment, ns, name) else {
                    return Polled {
                        out: Output::err(format!(
                            "Error from server (NotFound): deployments.apps {name:?} not found"
                        )),
                        done: Some(1),
                    };
                };
                let now = fingerprint(&d);
                if last.as_ref() == Some(&now) {
                    Polled::default()
                } else {
                    *last = Some(now);
                    let (line, code) = crate::kubectl::rollout_status(sim, ns, name);
                    Polled {
                        out: if code == Some(1) {
                            Output::err(line)
                        } else {
                            Output::ok(format!("{line}\n"))
                        },
                        done: code,
                    }
                }
            }
            Watched::Get {
                kind,
                scope,
                names,
                selector,
                opts,
                names_only,
                watch_only,
                sent,
                header,
                seen,
            } => {
                let kind = *kind;
                let rv = sim.store.resource_version();
                if *seen == Some(rv) && kind != Kind::Event {
                    return Polled::default();
                }
                *seen = Some(rv);
                let now: BTreeMap<(String, String), (String, Object)> =
                    list(sim, kind, scope.as_deref(), selector)
                        .into_iter()
                        .filter(|o| names.is_empty() || names.iter().any(|n| n == o.name()))
                        .map(|o| {
                            let key = (
                                o.namespace().unwrap_or("").to_string(),
                                o.name().to_string(),
                            );
                            (key, (fingerprint(&o), o))
                        })
                        .collect();
                let first = sent.is_none();
                let before = sent.take().unwrap_or_default();
                let mut out = Output::default();
                if first && !names.is_empty() && now.is_empty() {
                    let res = crate::apiserver::resource_of(kind);
                    out = Output::err(format!(
                        "Error from server (NotFound): {res} {:?} not found",
                        names[0]
                    ));
                    *sent = Some(now);
                    return Polled { out, done: Some(1) };
                }
                let wall = sim.store.now_timestamp();
                let mut print = |objs: &[Object], out: &mut Output| {
                    if objs.is_empty() {
                        return;
                    }
                    if *names_only {
                        for o in objs {
                            out.stdout.push_str(&format!(
                                "{}/{}\n",
                                crate::api::resource::of(kind).kind_prefix(),
                                o.name()
                            ));
                        }
                        return;
                    }
                    let o = GetOptions {
                        no_headers: opts.no_headers || *header,
                        ..opts.clone()
                    };
                    *header = true;
                    out.stdout.push_str(&render(kind, objs, &o, wall));
                };
                if first {
                    if !*watch_only {
                        let objs: Vec<Object> = now.values().map(|(_, o)| o.clone()).collect();
                        print(&objs, &mut out);
                    }
                } else {
                    // One event per object that changed, each row flushed alone.
                    for (key, (fp, o)) in &now {
                        if before.get(key).is_none_or(|(old, _)| old != fp) {
                            print(std::slice::from_ref(o), &mut out);
                        }
                    }
                    for (key, (_, o)) in &before {
                        if !now.contains_key(key) {
                            print(std::slice::from_ref(o), &mut out);
                        }
                    }
                }
                *sent = Some(now);
                Polled { out, done: None }
            }
        };
        if polled.done.is_none() && timed_out {
            polled
                .out
                .stderr
                .push_str("error: timed out waiting for the condition\n");
            polled.done = Some(1);
        }
        polled
    }

    /// The virtual time at which the watch ends by itself (`--timeout`), if any.
    pub fn deadline(&self) -> Option<SimTime> {
        self.deadline
    }
}

/// A watch polled after every instant until it ends or `limit` passes, as a script would see
/// it: the whole transcript (tests, and callers that cannot stream).
pub fn run_for(sim: &mut Sim, line: &str, limit: SimDuration) -> Output {
    let mut w = match start(sim, line) {
        Ok(w) => w,
        Err(o) => return o,
    };
    let until = sim.now() + limit;
    let mut out = Output::default();
    let mut done = None;
    sim.run_until(until, |s| {
        let p = w.poll(s);
        out.push(p.out);
        done = p.done;
        done.is_some()
    });
    if let Some(code) = done {
        out.code = code;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubectl::{NoFiles, run};
    use crate::sim::SimConfig;

    fn sim_with_web(replicas: u32) -> Sim {
        let mut sim = Sim::new(SimConfig::default());
        let o = run(
            &mut sim,
            &format!("create deployment web --image=nginx:1.27 --replicas={replicas}"),
            &NoFiles,
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        sim.run_until(sim.now() + SimDuration::from_secs(60), |_| false);
        sim
    }

    fn lines(s: &str) -> Vec<&str> {
        s.lines().collect()
    }

    #[test]
    fn get_watch_prints_the_header_once_then_a_row_per_change() {
        let mut sim = sim_with_web(2);
        assert!(is_watch("get pods -w") && is_watch("kubectl get deploy --watch"));
        assert!(!is_watch("get pods") && !is_watch("get pods --watch=false"));
        let mut w = start(&sim, "get pods -w").unwrap();
        let first = w.poll(&sim);
        assert_eq!(first.done, None);
        let first = lines(&first.out.stdout);
        assert_eq!(first.len(), 3, "{first:?}");
        assert!(first[0].starts_with("NAME "), "{first:?}");
        assert!(first[1].contains("1/1     Running"), "{first:?}");
        assert_eq!(
            w.poll(&sim),
            Polled::default(),
            "nothing changed, nothing printed"
        );

        run(&mut sim, "scale deploy web --replicas=3", &NoFiles);
        let mut rows = Vec::new();
        sim.run_until(sim.now() + SimDuration::from_secs(30), |s| {
            rows.push(w.poll(s).out.stdout);
            false
        });
        let rows: Vec<&str> = rows.iter().flat_map(|r| r.lines()).collect();
        assert!(!rows.iter().any(|r| r.starts_with("NAME")), "{rows:?}");
        // The new pod goes through its states, one row per change, each aligned alone.
        assert!(
            rows.iter()
                .any(|r| r.contains("0/1   ContainerCreating   0")),
            "{rows:?}"
        );
        assert!(rows.last().unwrap().contains("1/1   Running"), "{rows:?}");

        // A deleted pod's last row again.
        run(&mut sim, "delete deploy web --wait=false", &NoFiles);
        let mut gone = String::new();
        sim.run_until(sim.now() + SimDuration::from_secs(60), |s| {
            gone.push_str(&w.poll(s).out.stdout);
            false
        });
        assert!(gone.contains("Terminating"), "{gone}");
        assert!(run(&mut sim, "get pods", &NoFiles).stdout.is_empty());
    }

    #[test]
    fn watch_only_and_refusals_as_kubectl() {
        let sim = sim_with_web(1);
        let mut w = start(&sim, "get deploy --watch-only").unwrap();
        assert_eq!(w.poll(&sim).out.stdout, "");
        let o = start(&sim, "get pods,deploy -w").unwrap_err();
        assert!(
            o.stderr.starts_with("error: watch is only supported"),
            "{o:?}"
        );
        let o = start(&sim, "get frobs -w").unwrap_err();
        assert!(o.stderr.contains("doesn't have a resource type \"frobs\""));
        let mut w = start(&sim, "get pod nope -w").unwrap();
        let p = w.poll(&sim);
        assert_eq!(
            (p.out.stderr.as_str(), p.done),
            (
                "Error from server (NotFound): pods \"nope\" not found\n",
                Some(1)
            )
        );
    }

    #[test]
    fn rollout_status_streams_kubectls_texts_until_rolled_out() {
        let mut sim = sim_with_web(4);
        let o = run(&mut sim, "set image deploy/web nginx=nginx:1.28", &NoFiles);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(is_watch("rollout status deploy/web"));
        assert!(!is_watch("rollout status deploy/web --watch=false"));
        let out = run_for(
            &mut sim,
            "rollout status deployment/web",
            SimDuration::from_secs(600),
        );
        let l = lines(&out.stdout);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            l.contains(&"Waiting for deployment \"web\" rollout to finish: 2 out of 4 new replicas have been updated..."),
            "{l:?}"
        );
        assert!(
            l.iter()
                .any(|x| x.ends_with("old replicas are pending termination...")),
            "{l:?}"
        );
        assert_eq!(
            l.last(),
            Some(&"deployment \"web\" successfully rolled out")
        );
        // Done already: one line, and the end.
        let again = run_for(
            &mut sim,
            "rollout status deploy/web",
            SimDuration::from_secs(60),
        );
        assert_eq!(again.stdout, "deployment \"web\" successfully rolled out\n");
        let missing = start(&sim, "rollout status deploy/nope").unwrap_err();
        assert!(missing.stderr.contains("\"nope\" not found"), "{missing:?}");
    }

    #[test]
    fn rollout_status_ends_at_the_progress_deadline_or_the_timeout() {
        let stuck = || {
            let mut sim = sim_with_web(2);
            let o = run(
                &mut sim,
                r#"patch deploy web -p '{"spec":{"progressDeadlineSeconds":30}}'"#,
                &NoFiles,
            );
            assert_eq!(o.code, 0, "{}", o.stderr);
            run(
                &mut sim,
                "set image deploy/web nginx=nginx:no-such-tag",
                &NoFiles,
            );
            sim
        };
        let short = run_for(
            &mut stuck(),
            "rollout status deploy/web --timeout=5s",
            SimDuration::from_secs(600),
        );
        assert_eq!(
            (short.code, short.stderr.as_str()),
            (1, "error: timed out waiting for the condition\n")
        );
        let mut sim = stuck();
        let out = run_for(
            &mut sim,
            "rollout status deploy/web",
            SimDuration::from_secs(600),
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert_eq!(
            out.stderr,
            "error: deployment \"web\" exceeded its progress deadline\n"
        );
        assert!(
            out.stdout
                .starts_with("Waiting for deployment \"web\" rollout to finish")
        );
    }
}
