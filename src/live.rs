//! `kubesim scenario check FILE --step N --kubeconfig PATH`: a step's checks, once, against a
//! cluster kubesim does not run (kind, minikube, GKE, or another `kubesim serve`), for
//! graders and CI jobs. The objects are listed through the cluster's API (kube-rs reads the
//! kubeconfig as kubectl does); the checks are `scenarios::live`'s, with the sandbox's
//! sentences. A Killercoda folder's step is checked by its `verify.sh`, run with bash and the
//! given kubeconfig. Nothing is written to the cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

/// Which cluster, as kubectl's flags say it.
pub(crate) struct Target {
    pub kubeconfig: PathBuf,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// The kubeconfig with `context` made current (for scripts, which read `KUBECONFIG`).
pub(crate) fn kubeconfig_for(t: &Target) -> Result<kube::config::Kubeconfig> {
    let mut kc = kube::config::Kubeconfig::read_from(&t.kubeconfig)
        .with_context(|| format!("cannot read the kubeconfig {}", t.kubeconfig.display()))?;
    if let Some(c) = &t.context {
        if !kc.contexts.iter().any(|n| &n.name == c) {
            bail!(
                "the kubeconfig {} has no context {c:?}",
                t.kubeconfig.display()
            );
        }
        kc.current_context = Some(c.clone());
    }
    Ok(kc)
}

pub(crate) async fn client(t: &Target) -> Result<kube::Client> {
    kube::Client::try_from(config(t).await?).context("cannot make a client for the cluster")
}

/// The client configuration the kubeconfig gives (kube-rs retries a 503 by default).
pub(crate) async fn config(t: &Target) -> Result<kube::Config> {
    let kc = kubeconfig_for(t)?;
    let opts = kube::config::KubeConfigOptions {
        context: t.context.clone(),
        ..Default::default()
    };
    kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .context("the kubeconfig does not give a usable cluster")
}

/// Every kind kubesim's checks know, listed from the cluster: cluster-wide, or in the
/// namespaces given when the user may not list cluster-wide. Kinds the cluster does not
/// serve are empty; what could not be read is said.
async fn objects(
    client: &kube::Client,
    namespaces: &[String],
    server: &str,
) -> Result<(BTreeMap<&'static str, Vec<Json>>, Vec<String>)> {
    let mut out = BTreeMap::new();
    let mut notes = Vec::new();
    for r in sim_core::api::resource::RESOURCES {
        let prefix = if r.group.is_empty() {
            format!("/api/{}", r.version)
        } else {
            format!("/apis/{}/{}", r.group, r.version)
        };
        let mut items = Vec::new();
        match list(client, &format!("{prefix}/{}", r.plural)).await {
            Ok(list) => items = list,
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(kube::Error::Api(s)) if s.code == 403 && r.namespaced && !namespaces.is_empty() => {
                for ns in namespaces {
                    match list(client, &format!("{prefix}/namespaces/{ns}/{}", r.plural)).await {
                        Ok(l) => items.extend(l),
                        Err(kube::Error::Api(s)) if s.code == 404 => {}
                        Err(e) => notes.push(format!("{} in {ns} cannot be listed: {e}", r.plural)),
                    }
                }
            }
            Err(kube::Error::Api(s)) => {
                notes.push(format!("{} cannot be listed: {}", r.plural, s.message));
            }
            Err(e) => bail!(crate::play::reach_error(&e, server)),
        }
        // A list's items have no apiVersion and kind; checks and their sentences use them.
        for item in &mut items {
            if let Some(o) = item.as_object_mut() {
                o.insert("apiVersion".into(), r.api_version().into());
                o.insert("kind".into(), r.kind.as_str().into());
            }
        }
        out.insert(r.plural, items);
    }
    Ok((out, notes))
}

async fn list(client: &kube::Client, path: &str) -> Result<Vec<Json>, kube::Error> {
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    let list: Json = client.request(req).await?;
    Ok(list["items"].as_array().cloned().unwrap_or_default())
}

/// A check's mark and name, and when it failed what the student is told, under `indent`.
pub(crate) fn print_result(r: &scenarios::runner::CheckResult, indent: &str) {
    let mark = if r.outcome.passed { "✓" } else { "✗" };
    println!("{indent}{mark} {}", r.name);
    if !r.outcome.passed {
        for line in &r.outcome.said {
            println!("{indent}    {line}");
        }
    }
}

/// The server of the kubeconfig's context `context` (its current one by default).
pub(crate) fn server_of(kc: &kube::config::Kubeconfig, context: Option<&str>) -> String {
    let ctx = context.or(kc.current_context.as_deref());
    let cluster = kc
        .contexts
        .iter()
        .find(|c| Some(c.name.as_str()) == ctx)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone());
    kc.clusters
        .iter()
        .find(|c| Some(&c.name) == cluster.as_ref())
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .unwrap_or_else(|| "(no server in the kubeconfig)".into())
}

/// The scenario in `text`, or the first reason it does not validate.
pub(crate) fn validated(file: &Path, text: &str) -> Result<scenarios::format::Scenario> {
    let (scenario, diags) = scenarios::validate::validate(text);
    let Some(scenario) = scenario else {
        let first = diags
            .iter()
            .find(|d| d.error)
            .map(|d| d.message.clone())
            .unwrap_or_default();
        bail!("{} does not validate: {first}", file.display());
    };
    Ok(scenario)
}

/// Checks step `step` of the scenario `text` (from `file`) against the target; prints each
/// check and exits 0 when all pass.
pub(crate) fn check(file: &Path, text: &str, step: usize, t: &Target) -> Result<ExitCode> {
    let scenario = validated(file, text)?;
    let Some(s) = step.checked_sub(1).and_then(|i| scenario.steps.get(i)) else {
        bail!(
            "{} has {} steps; there is no step {step}",
            file.display(),
            scenario.steps.len()
        );
    };
    if s.checks.is_empty() && s.verify.is_none() {
        bail!(
            "step {step} of {} has neither checks nor a verify script: there is nothing to check",
            file.display()
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut passed = true;
    println!("step {step}: {}", s.title);
    if !s.checks.is_empty() {
        let namespaces: Vec<String> = t
            .namespace
            .iter()
            .chain(scenario.setup.namespace.iter())
            .cloned()
            .collect();
        let server = server_of(&kubeconfig_for(t)?, t.context.as_deref());
        let (objects, notes) = rt.block_on(async {
            let c = client(t).await?;
            objects(&c, &namespaces, &server).await
        })?;
        for n in notes {
            eprintln!("note: {n}");
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let results =
            scenarios::live::check_step(&scenario, step, scenarios::live::world(objects, now))?;
        for (r, history) in results {
            passed &= r.outcome.passed;
            print_result(&r, "");
            if !r.outcome.passed
                && let Some(e) = &r.explain
            {
                println!("    {e}");
            }
            if history {
                println!("    note: {}", scenarios::live::HISTORY_NOTE);
            }
        }
    }
    if let Some(script) = &s.verify {
        let (ok, text) = run_verify(script, file, t)?;
        println!("{} verify script", if ok { "✓" } else { "✗" });
        for line in text.lines() {
            println!("    {line}");
        }
        passed &= ok;
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs a verify script with bash and the target's kubeconfig (its context made current),
/// in the scenario's folder: whether it passed, and what it printed.
pub(crate) fn run_verify(script: &str, file: &Path, t: &Target) -> Result<(bool, String)> {
    let kc = kubeconfig_for(t)?;
    let dir = std::env::temp_dir().join(format!("kubesim-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    let config = dir.join("kubeconfig");
    let yaml = serde_json::to_string(&kc).context("the kubeconfig cannot be written")?;
    std::fs::write(&config, yaml).with_context(|| format!("cannot write {}", config.display()))?;
    let cwd = if file.is_dir() {
        file.to_path_buf()
    } else {
        file.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env("KUBECONFIG", &config);
    let out = cmd.output().context("bash could not be started")?;
    let _ = std::fs::remove_dir_all(&dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}
