//! Checks: CEL expressions over the cluster as the API shows it, and over what happened since
//! the current step began.
//!
//! A check sees the objects as `kubectl get -o json` prints them (variables `pods`,
//! `deployments`, ..., and getters such as `deployment(ns, name)`), and the trace of the step
//! (`minAvailable`, `everCondition`, `p99`, ...). The full list, with examples, is in
//! `docs/scenarios.md`; [`FUNCTIONS`] and [`variables`] are what validation accepts.
//!
//! A check that fails explains itself: for each part of a top-level `&&` that is false, and
//! each side of its comparison, the value found.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use cel::extractors::Arguments;
use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Program, ResolveResult, Value};
use serde_json::Value as Json;
use sim_core::Sim;
use sim_core::api::selector::Selector;
use sim_core::trace::{DeploymentTrace, RequestTrace, Tracer};
use sim_core::traffic::ServiceSecond;

/// The variables a check may use: every served resource's plural (the list of its objects,
/// from the resource registry), and `elapsed`.
pub fn variables() -> Vec<&'static str> {
    sim_core::api::resource::RESOURCES
        .iter()
        .map(|r| r.plural)
        .chain(["elapsed"])
        .collect()
}

/// The functions that read the step's history or its traffic rather than the objects now.
pub const HISTORY_FUNCTIONS: &[&str] = &[
    "minAvailable",
    "maxAvailable",
    "maxReplicas",
    "maxUnavailable",
    "everCondition",
    "everRevision",
    "requests",
    "errors",
    "p50",
    "p99",
    "answers",
];

/// The functions kubesim adds to CEL's standard library.
pub const FUNCTIONS: &[&str] = &[
    "deployment",
    "replicaset",
    "pod",
    "service",
    "node",
    "podsOf",
    "readyPods",
    "isReady",
    "readyEndpoints",
    "revision",
    "minAvailable",
    "maxAvailable",
    "maxReplicas",
    "maxUnavailable",
    "everCondition",
    "everRevision",
    "requests",
    "errors",
    "p50",
    "p99",
    "answers",
];

/// Functions of CEL's standard library that are not declared as overloads of the
/// environment (or are macros), which validation must not call unknown.
const STDLIB_EXTRA: &[&str] = &[
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "max",
    "min",
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "type",
    "bytes",
    "dyn",
    "in",
];

/// The CEL environment: the standard library and its macros.
fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(Env::stdlib())).clone()
}

/// Whether `name` is declared by CEL's standard library (which refuses a function of the
/// same name in a context).
fn is_stdlib_overload(env: &Arc<Env>, name: &str) -> bool {
    Context::with_env(env.clone())
        .add_function(name, || 0i64)
        .is_err()
}

/// Why an expression does not compile.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    /// 1-based line inside the expression.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// A compiled check expression.
#[derive(Debug)]
pub struct Expr {
    source: String,
    program: Program,
    /// Top-level `&&` parts with their comparison sides, for explanations.
    parts: Vec<Part>,
}

#[derive(Debug)]
struct Part {
    text: String,
    program: Program,
    sides: Vec<(String, Program)>,
}

impl Expr {
    /// Compiles `source`, rejecting unknown functions and variables.
    pub fn compile(source: &str) -> Result<Expr, CompileError> {
        shape(source)?;
        let program = env().compile(source).map_err(|e| {
            let first = e.errors.first();
            // An error at the end of input is on the last line written, not past it.
            let lines = source.trim_end().lines().count().max(1);
            CompileError {
                line: first.map_or(1, |e| (e.pos.0.max(1) as usize).min(lines)),
                column: first.map_or(1, |e| e.pos.1.max(0) as usize + 1),
                message: first.map_or_else(|| e.to_string(), |e| e.msg.clone()),
            }
        })?;
        let refs = program.references();
        let env = env();
        let mut unknown: Vec<&str> = refs
            .functions()
            .into_iter()
            .filter(|f| {
                !(f.starts_with('_')
                    || f.starts_with('@')
                    || f.starts_with('!')
                    || FUNCTIONS.contains(f)
                    || STDLIB_EXTRA.contains(f)
                    || is_stdlib_overload(&env, f))
            })
            .collect();
        unknown.sort();
        if let Some(f) = unknown.first() {
            return Err(CompileError {
                line: 1,
                column: source.find(f).map_or(1, |i| i + 1),
                message: format!(
                    "unknown function {f:?} (kubesim adds: {})",
                    FUNCTIONS.join(", ")
                ),
            });
        }
        let bound = comprehension_vars(source);
        let mut unknown: Vec<&str> = refs
            .variables()
            .into_iter()
            .filter(|v| !variables().contains(v) && !bound.iter().any(|b| b == v))
            .filter(|v| !v.starts_with('@'))
            .collect();
        unknown.sort();
        if let Some(v) = unknown.first() {
            return Err(CompileError {
                line: 1,
                column: source.find(v).map_or(1, |i| i + 1),
                message: format!(
                    "unknown variable {v:?} (checks see: {}; strings need quotes)",
                    variables().join(", ")
                ),
            });
        }
        let parts = split_top(source, &["&&"])
            .into_iter()
            .filter_map(|text| {
                let program = env.compile(&text).ok()?;
                let sides = split_comparison(&text)
                    .into_iter()
                    .filter_map(|s| Some((s.clone(), env.compile(&s).ok()?)))
                    .collect();
                Some(Part {
                    text,
                    program,
                    sides,
                })
            })
            .collect();
        Ok(Expr {
            source: source.to_string(),
            program,
            parts,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression in `world`.
    pub fn evaluate(&self, world: &Arc<World>) -> Outcome {
        let mut ctx = context(world);
        bind_variables(&mut ctx, world, &self.program);
        match self.program.execute(&ctx) {
            Ok(Value::Bool(true)) => Outcome {
                passed: true,
                found: Vec::new(),
                error: None,
                said: Vec::new(),
            },
            Ok(Value::Bool(false)) => {
                let (found, said) = self.explain(&ctx, world);
                Outcome {
                    passed: false,
                    found,
                    error: None,
                    said,
                }
            }
            Ok(other) => Outcome {
                passed: false,
                found: Vec::new(),
                error: Some(format!(
                    "the expression gave {}, not true or false",
                    show(&other)
                )),
                said: vec!["This check is written wrongly (it does not give true or false): tell your instructor.".into()],
            },
            Err(e) => {
                let (found, mut said) = self.explain(&ctx, world);
                if said.is_empty() {
                    said.push(student_sentence(&self.source, &e));
                }
                Outcome {
                    passed: false,
                    found,
                    error: Some(error_text(&e)),
                    said,
                }
            }
        }
    }

    /// The values behind the parts that are not true, and the same in sentences.
    fn explain(
        &self,
        ctx: &Context<'_, '_>,
        world: &Arc<World>,
    ) -> (Vec<(String, String)>, Vec<String>) {
        let _ = world;
        let (mut found, mut said) = (Vec::new(), Vec::new());
        for part in &self.parts {
            let ok = matches!(part.program.execute(ctx), Ok(Value::Bool(true)));
            if ok && self.parts.len() > 1 {
                continue;
            }
            if part.sides.is_empty() {
                let v = part.program.execute(ctx);
                found.push((part.text.clone(), result_text(&v)));
                said.push(match &v {
                    Err(e) => student_sentence(&part.text, e),
                    Ok(_) => format!("`{}` is not true yet.", crate::runner::one_line(&part.text)),
                });
                continue;
            }
            let mut sentence = None;
            for (text, p) in &part.sides {
                if is_literal(text) {
                    continue;
                }
                let v = p.execute(ctx);
                found.push((text.clone(), result_text(&v)));
                if sentence.is_none() {
                    sentence = Some(match &v {
                        Err(e) => student_sentence(text, e),
                        Ok(v) => compared(part, text, v),
                    });
                }
            }
            said.extend(sentence);
        }
        (found, said)
    }
}

/// A false comparison in words: "`deployment('live','api').status.availableReplicas` is 8;
/// this step needs it >= 10."
fn compared(part: &Part, text: &str, v: &Value) -> String {
    let subject = crate::runner::one_line(text);
    let other = part
        .sides
        .iter()
        .map(|(t, _)| t.as_str())
        .find(|t| *t != text);
    let wanted = match (other, part.text.find(text)) {
        (Some(other), Some(at)) => {
            let rest = &part.text[at + text.len()..];
            let op = rest.find(other).map_or("", |i| rest[..i].trim());
            if rest.trim_start().starts_with(op) && !op.is_empty() {
                format!("{op} {}", crate::runner::one_line(other))
            } else {
                format!("to compare with {}", crate::runner::one_line(other))
            }
        }
        _ => "something else".into(),
    };
    let wanted = wanted
        .replacen("== ", "to be ", 1)
        .replacen("!= ", "not to be ", 1);
    format!("`{subject}` is {}; this step needs it {wanted}.", show(v))
}

/// What a failed evaluation means for the student, in a sentence: a missing object by kind,
/// name and namespace, a field not set yet, or the function's own message.
fn student_sentence(expr: &str, e: &ExecutionError) -> String {
    let expr = crate::runner::one_line(expr);
    match e {
        ExecutionError::FunctionError { message, .. } => {
            missing_object(message).unwrap_or_else(|| {
                let mut m = message.clone();
                if let Some(first) = m.get(..1) {
                    m.replace_range(..1, &first.to_uppercase());
                }
                if !m.ends_with('.') {
                    m.push('.');
                }
                m
            })
        }
        ExecutionError::NoSuchKey(k) => {
            format!("`{expr}` has no value yet: the field `{k}` is not set on that object.")
        }
        _ => format!("`{expr}` cannot be worked out yet."),
    }
}

/// `services "redis" not found in namespace "live-coding"` as "There is no Service named
/// `redis` in namespace `live-coding` yet."
fn missing_object(message: &str) -> Option<String> {
    let (what, rest) = message.split_once(' ')?;
    let kind = match what {
        "deployments.apps" => "Deployment",
        "replicasets.apps" => "ReplicaSet",
        "pods" => "Pod",
        "services" => "Service",
        "endpoints" => "Endpoints object (the ready pods of a Service)",
        "nodes" => "node",
        _ => return None,
    };
    let rest = rest.strip_prefix('"')?;
    let (name, rest) = rest.split_once('"')?;
    let rest = rest.trim_start();
    if rest == "not found" {
        return Some(format!("There is no {kind} named `{name}`."));
    }
    let ns = rest
        .strip_prefix("not found in namespace \"")?
        .strip_suffix('"')?;
    Some(format!(
        "There is no {kind} named `{name}` in namespace `{ns}` yet."
    ))
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The expression is true.
    pub passed: bool,
    /// For a failure: each sub-expression and the value found.
    pub found: Vec<(String, String)>,
    /// The expression could not be evaluated (a missing object, no traffic yet...).
    pub error: Option<String>,
    /// For a failure: what is missing or different, in sentences for the student ("There is
    /// no Service named `redis` in namespace `live-coding` yet."), never a raw error.
    pub said: Vec<String>,
}

impl Outcome {
    /// `found: X = 8; Y = 3` or the error, for a report line.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .found
            .iter()
            .map(|(e, v)| format!("{} = {v}", crate::runner::one_line(e)))
            .collect();
        if let Some(e) = &self.error {
            parts.push(e.clone());
        }
        parts.join("; ")
    }
}

/// What checks see: the objects now, and the history of the current step.
#[derive(Debug, Default)]
pub struct World {
    /// Objects by variable name (`pods`, `deployments`, ...), as the API's JSON.
    pub objects: BTreeMap<&'static str, Vec<Json>>,
    /// Virtual seconds now.
    pub now: f64,
    /// The step's start (virtual seconds).
    pub step_start: f64,
    /// Deployment numbers: the state at the step's start, then every change.
    pub deployments: Vec<(f64, Vec<DeploymentTrace>)>,
    /// Traffic seconds that ended since the step began.
    pub services: Vec<ServiceSecond>,
    /// Answers to requests sent since the step began.
    pub answers: Vec<RequestTrace>,
}

impl World {
    /// Captures the cluster and the trace since record `first_record` (the first record at or
    /// after the step began).
    pub fn capture(sim: &Sim, tracer: &Tracer, step_start: f64, first_record: usize) -> World {
        let mut objects = BTreeMap::new();
        for r in sim_core::api::resource::RESOURCES {
            let list = sim_core::kubectl::list(sim, r.kind, None, &Selector::everything());
            objects.insert(r.plural, list.iter().map(|o| o.to_value()).collect());
        }
        let mut deployments = Vec::new();
        let from = first_record.saturating_sub(1).min(tracer.records.len());
        let mut services = Vec::new();
        let mut answers = Vec::new();
        for (i, r) in tracer.records.iter().enumerate().skip(from) {
            deployments.push((r.time.max(step_start), r.deployments.to_vec()));
            if i >= first_record {
                services.extend(r.services.iter().filter(|s| s.time > step_start).cloned());
                answers.extend(r.request.clone());
            }
        }
        World {
            objects,
            now: sim.now().as_secs_f64(),
            step_start,
            deployments,
            services,
            answers,
        }
    }

    fn object(&self, var: &str, ns: &str, name: &str) -> Option<&Json> {
        self.objects.get(var)?.iter().find(|o| {
            o["metadata"]["name"] == name
                && (ns.is_empty() || o["metadata"]["namespace"].as_str().unwrap_or("") == ns)
        })
    }

    /// A Deployment's traced numbers over the step.
    fn deployment_series<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a DeploymentTrace> + 'a {
        self.deployments
            .iter()
            .filter_map(move |(_, ds)| ds.iter().find(|d| d.namespace == ns && d.name == name))
    }

    fn service_seconds<'a>(
        &'a self,
        ns: &'a str,
        svc: &'a str,
        last: Option<f64>,
    ) -> impl Iterator<Item = &'a ServiceSecond> + 'a {
        let since = last.map_or(f64::NEG_INFINITY, |s| self.now - s);
        self.services
            .iter()
            .filter(move |s| s.namespace == ns && s.service == svc && s.time > since)
    }
}

/// The API's JSON as a CEL value (integers stay integers).
pub fn to_cel(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(a) => Value::List(Arc::new(a.iter().map(to_cel).collect())),
        Json::Object(o) => {
            let map: HashMap<Key, Value> = o
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

fn context(world: &Arc<World>) -> Context<'static, 'static> {
    let mut ctx = Context::with_env(env());
    let add = |ctx: &mut Context<'static, 'static>, name: &str, f: Getter| {
        let w = world.clone();
        ctx.add_function(name, move |ns: Arc<String>, name: Arc<String>| {
            f(&w, &ns, &name)
        })
        .expect("kubesim's functions are not CEL overloads");
    };
    type Getter = fn(&World, &str, &str) -> ResolveResult;
    macro_rules! getter {
        ($fname:literal, $var:literal, $what:literal) => {
            add(&mut ctx, $fname, |w, ns, name| {
                w.object($var, ns, name).map(to_cel).ok_or_else(|| {
                    ExecutionError::function_error(
                        $fname,
                        format!("{} {name:?} not found in namespace {ns:?}", $what),
                    )
                })
            });
        };
    }
    getter!("deployment", "deployments", "deployments.apps");
    getter!("replicaset", "replicasets", "replicasets.apps");
    getter!("pod", "pods", "pods");
    getter!("service", "services", "services");
    let w = world.clone();
    ctx.add_function("node", move |name: Arc<String>| {
        w.object("nodes", "", &name).map(to_cel).ok_or_else(|| {
            ExecutionError::function_error("node", format!("nodes {name:?} not found"))
        })
    })
    .expect("not an overload");
    let w = world.clone();
    ctx.add_function("podsOf", move |ns: Arc<String>, sel: Arc<String>| {
        pods_of(&w, &ns, &sel)
            .map(|ps| Value::List(Arc::new(ps.iter().map(|p| to_cel(p)).collect())))
    })
    .expect("not an overload");
    let w = world.clone();
    ctx.add_function("readyPods", move |ns: Arc<String>, sel: Arc<String>| {
        pods_of(&w, &ns, &sel).map(|ps| ps.iter().filter(|p| pod_ready(p)).count() as i64)
    })
    .expect("not an overload");
    ctx.add_function("isReady", |pod: Value| -> ResolveResult {
        let j = pod
            .json()
            .map_err(|e| ExecutionError::function_error("isReady", e.to_string()))?;
        Ok(Value::Bool(pod_ready(&j)))
    })
    .expect("not an overload");
    let w = world.clone();
    ctx.add_function(
        "readyEndpoints",
        move |ns: Arc<String>, name: Arc<String>| {
            let Some(ep) = w.object("endpoints", &ns, &name) else {
                return Err(ExecutionError::function_error(
                    "readyEndpoints",
                    format!("endpoints {name:?} not found in namespace {ns:?}"),
                ));
            };
            let n: usize = ep["subsets"]
                .as_array()
                .map(|ss| {
                    ss.iter()
                        .map(|s| s["addresses"].as_array().map_or(0, Vec::len))
                        .sum()
                })
                .unwrap_or(0);
            Ok(Value::Int(n as i64))
        },
    )
    .expect("not an overload");
    add(&mut ctx, "revision", |w, ns, name| {
        let d = w.object("deployments", ns, name).ok_or_else(|| {
            ExecutionError::function_error(
                "revision",
                format!("deployments.apps {name:?} not found in namespace {ns:?}"),
            )
        })?;
        let rev = d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0);
        Ok(Value::Int(rev))
    });
    macro_rules! series {
        ($fname:literal, $fold:ident, $field:ident) => {
            add(&mut ctx, $fname, |w, ns, name| {
                w.deployment_series(ns, name)
                    .map(|d| d.$field as i64)
                    .$fold()
                    .map(Value::Int)
                    .ok_or_else(|| no_deployment($fname, ns, name))
            });
        };
    }
    series!("minAvailable", min, available_replicas);
    series!("maxAvailable", max, available_replicas);
    series!("maxReplicas", max, replicas);
    series!("maxUnavailable", max, unavailable_replicas);
    let w = world.clone();
    ctx.add_function(
        "everCondition",
        move |ns: Arc<String>, name: Arc<String>, ty: Arc<String>, reason: Arc<String>| {
            let mut seen = false;
            let mut any = false;
            for d in w.deployment_series(&ns, &name) {
                any = true;
                seen |= d
                    .conditions
                    .iter()
                    .any(|c| c.type_ == *ty && (c.reason == *reason || c.status == *reason));
            }
            if !any {
                return Err(no_deployment("everCondition", &ns, &name));
            }
            Ok(Value::Bool(seen))
        },
    )
    .expect("not an overload");
    let w = world.clone();
    ctx.add_function(
        "everRevision",
        move |ns: Arc<String>, name: Arc<String>, rev: i64| {
            Ok::<_, ExecutionError>(Value::Bool(
                w.deployment_series(&ns, &name).any(|d| d.revision == rev),
            ))
        },
    )
    .expect("not an overload");
    let traffic = |ctx: &mut Context<'static, 'static>, name: &'static str, f: TrafficFn| {
        let w = world.clone();
        ctx.add_function(name, move |Arguments(args): Arguments| {
            let (ns, svc, last) = traffic_args(name, &args)?;
            f(&w, &ns, &svc, last)
        })
        .expect("not an overload");
    };
    type TrafficFn = fn(&World, &str, &str, Option<f64>) -> ResolveResult;
    traffic(&mut ctx, "requests", |w, ns, svc, last| {
        Ok(Value::Int(
            w.service_seconds(ns, svc, last)
                .map(|s| s.requests as i64)
                .sum(),
        ))
    });
    traffic(&mut ctx, "errors", |w, ns, svc, last| {
        Ok(Value::Int(
            w.service_seconds(ns, svc, last)
                .map(|s| s.errors as i64)
                .sum(),
        ))
    });
    traffic(&mut ctx, "p50", |w, ns, svc, last| {
        worst(
            w.service_seconds(ns, svc, last).filter_map(|s| s.p50_ms),
            "p50",
            svc,
        )
    });
    traffic(&mut ctx, "p99", |w, ns, svc, last| {
        worst(
            w.service_seconds(ns, svc, last).filter_map(|s| s.p99_ms),
            "p99",
            svc,
        )
    });
    let w = world.clone();
    ctx.add_function("answers", move || {
        let list: Vec<Value> = w
            .answers
            .iter()
            .map(|a| {
                let mut j = serde_json::to_value(a).unwrap_or(Json::Null);
                if let Ok(body) = serde_json::from_str::<Json>(&a.body) {
                    j["json"] = body;
                }
                to_cel(&j)
            })
            .collect();
        Value::List(Arc::new(list))
    })
    .expect("not an overload");
    ctx
}

fn worst(values: impl Iterator<Item = f64>, what: &str, svc: &str) -> ResolveResult {
    values.reduce(f64::max).map(Value::Float).ok_or_else(|| {
        ExecutionError::function_error(
            what,
            format!("no request to service {svc:?} has succeeded since this step began"),
        )
    })
}

fn traffic_args(
    name: &str,
    args: &[Value],
) -> Result<(String, String, Option<f64>), ExecutionError> {
    let s = |v: &Value| match v {
        Value::String(s) => Ok(s.to_string()),
        other => Err(ExecutionError::function_error(
            name,
            format!("expected a string, got {}", show(other)),
        )),
    };
    match args {
        [ns, svc] => Ok((s(ns)?, s(svc)?, None)),
        [ns, svc, Value::Int(n)] => Ok((s(ns)?, s(svc)?, Some(*n as f64))),
        [ns, svc, Value::Float(n)] => Ok((s(ns)?, s(svc)?, Some(*n))),
        _ => Err(ExecutionError::function_error(
            name,
            format!(
                "takes (namespace, service) or (namespace, service, lastSeconds), got {} arguments",
                args.len()
            ),
        )),
    }
}

fn no_deployment(f: &str, ns: &str, name: &str) -> ExecutionError {
    ExecutionError::function_error(
        f,
        format!("deployments.apps {name:?} in namespace {ns:?} did not exist during this step"),
    )
}

fn pods_of<'a>(w: &'a World, ns: &str, sel: &str) -> Result<Vec<&'a Json>, ExecutionError> {
    let selector = Selector::parse(sel)
        .map_err(|e| ExecutionError::function_error("podsOf", format!("selector {sel:?}: {e}")))?;
    Ok(w.objects
        .get("pods")
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["namespace"] == ns)
        .filter(|p| {
            let labels: BTreeMap<String, String> = p["metadata"]["labels"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default();
            selector.matches(&labels)
        })
        .collect())
}

/// A pod counts as ready when its Ready condition is True and it is not being deleted.
fn pod_ready(p: &Json) -> bool {
    p["metadata"]["deletionTimestamp"].is_null()
        && p["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn bind_variables(ctx: &mut Context<'static, 'static>, world: &World, program: &Program) {
    let refs = program.references();
    for (var, list) in &world.objects {
        if refs.has_variable(var) {
            ctx.add_variable_from_value(
                *var,
                Value::List(Arc::new(list.iter().map(to_cel).collect())),
            );
        }
    }
    ctx.add_variable_from_value("elapsed", Value::Float(world.now - world.step_start));
}

fn error_text(e: &ExecutionError) -> String {
    match e {
        ExecutionError::FunctionError { message, .. } => message.clone(),
        ExecutionError::NoSuchKey(k) => format!("no field {k:?} (not set on that object)"),
        other => other.to_string(),
    }
}

fn result_text(r: &ResolveResult) -> String {
    match r {
        Ok(v) => show(v),
        Err(e) => format!("(error: {})", error_text(e)),
    }
}

/// A value in a report: JSON-like and short.
pub fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("{s:?}"),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => format!("{f}"),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => other
            .json()
            .map(|j| j.to_string())
            .unwrap_or_else(|_| format!("{other:?}")),
    };
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(157).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn is_literal(text: &str) -> bool {
    let t = text.trim();
    t.parse::<f64>().is_ok()
        || t == "true"
        || t == "false"
        || t == "null"
        || ((t.starts_with('\'') || t.starts_with('"'))
            && t.len() >= 2
            && !t[1..t.len() - 1].contains(['\'', '"']))
}

/// How deep a check may nest brackets, and how many operators (member selections included)
/// it may hold. The `cel` crate parses and evaluates by recursion, a few hundred KiB of stack
/// per nesting level in a debug build: `1 + 1 + …` with 100 operators, or 16 nested brackets,
/// overflowed a 2 MiB thread (a server's worker) and aborted the whole process. These bounds
/// are well inside what a 2 MiB thread holds (the tests compile and evaluate the largest
/// shapes on one), and far above any real check (the course's largest has 18 operators and
/// nests 2 deep); a longer condition is clearer as several checks.
pub const MAX_NESTING: usize = 8;
/// See [`MAX_NESTING`].
pub const MAX_OPERATORS: usize = 48;

/// Refuses an expression larger than [`MAX_NESTING`] and [`MAX_OPERATORS`] allow, before the
/// parser sees it.
fn shape(source: &str) -> Result<(), CompileError> {
    let (mut depth, mut deepest, mut operators) = (0usize, (0usize, 0usize), 0usize);
    let mut quote: Option<char> = None;
    let mut chars = source.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == '\\' {
                chars.next();
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                if depth > deepest.0 {
                    deepest = (depth, i);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '+' | '-' | '*' | '/' | '%' | '<' | '>' | '!' | '?' | '.' | '=' | '&' | '|' => {
                // Two-character operators count once.
                if let Some(&(_, next)) = chars.peek()
                    && matches!(
                        (c, next),
                        ('=' | '!' | '<' | '>', '=') | ('&', '&') | ('|', '|')
                    )
                {
                    chars.next();
                }
                // A number's decimal point is not an operator.
                let after_digit = source[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_ascii_digit());
                if !(c == '.' && after_digit) {
                    operators += 1;
                }
            }
            _ => {}
        }
    }
    let at = |offset: usize| {
        let before = &source[..offset];
        (
            before.matches('\n').count() + 1,
            before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
        )
    };
    if deepest.0 > MAX_NESTING {
        let (line, column) = at(deepest.1);
        return Err(CompileError {
            line,
            column,
            message: format!(
                "this check nests {} brackets deep; a check may nest at most {MAX_NESTING}",
                deepest.0
            ),
        });
    }
    if operators > MAX_OPERATORS {
        return Err(CompileError {
            line: 1,
            column: 1,
            message: format!(
                "this check has {operators} operators and member selections; a check may have at most {MAX_OPERATORS}: split it into several checks"
            ),
        });
    }
    Ok(())
}

/// Splits `s` at each top-level occurrence of one of `ops` (outside brackets and strings).
fn split_top(s: &str, ops: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if let Some(q) = quote {
            if c == '\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        if depth == 0
            && let Some(op) = ops.iter().find(|op| s[i..].starts_with(**op))
        {
            out.push(s[start..i].trim().to_string());
            i += op.len();
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(s[start..].trim().to_string());
    out.retain(|p| !p.is_empty());
    out
}

/// The two sides of a top-level comparison, or nothing.
fn split_comparison(s: &str) -> Vec<String> {
    for op in ["==", "!=", "<=", ">=", " in "] {
        let sides = split_top(s, &[op]);
        if sides.len() == 2 {
            return sides;
        }
    }
    // `<` and `>` alone, once the two-character operators are ruled out.
    let sides = split_top(s, &["<", ">"]);
    if sides.len() == 2 { sides } else { Vec::new() }
}

/// Names bound by macros (`pods.all(p, ...)` binds `p`), which are not free variables.
fn comprehension_vars(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for m in ["all(", "exists(", "exists_one(", "map(", "filter("] {
        let mut rest = source;
        while let Some(i) = rest.find(m) {
            rest = &rest[i + m.len()..];
            let var: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !var.is_empty() {
                out.push(var);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
