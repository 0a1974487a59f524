//! Killercoda scenario folders as kubesim scenarios, so an instructor's existing exercises run
//! offline: `index.json` gives the title, the steps and their files; each step's Markdown
//! becomes the step's text, its `verify.sh` the step's `verify` script and its
//! `background.sh` the step's `background` script (both run by `kubesim serve` with the real
//! `kubectl` pointed at the scenario's cluster). The intro and finish texts become the
//! scenario's `intro` and `finish`; the intro's `background.sh` runs after the setup.
//!
//! What is supported, and what is not, is listed in `docs/scenarios.md`. Files are read
//! through a closure, so this stays free of IO.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

/// A converted folder: the kubesim scenario's YAML, and what did not carry over.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The scenario, as a kubesim scenario file.
    pub yaml: String,
    /// What of the folder is not used (a foreground script, an unknown backend...).
    pub warnings: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Index {
    title: String,
    description: String,
    difficulty: String,
    time: String,
    details: Details,
    backend: Backend,
    /// Every other key: each gets a note.
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Details {
    intro: Page,
    steps: Vec<Page>,
    finish: Page,
    /// Files copied to the machine before anything runs, by host (`host01`, Katacoda's
    /// `client`).
    assets: BTreeMap<String, Vec<AssetSpec>>,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Page {
    title: String,
    text: String,
    verify: String,
    background: String,
    foreground: String,
    /// Katacoda's name for the background script.
    #[serde(rename = "courseData")]
    course_data: String,
    /// Katacoda's name for the foreground script.
    code: String,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssetSpec {
    /// A file under the folder's `assets/`, or a pattern (`*`, `*.yaml`).
    file: String,
    /// The folder it is copied to.
    target: String,
    /// `+x`, or an octal mode.
    chmod: String,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Backend {
    imageid: String,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

/// A note for each key of `rest` (at `at`, e.g. `details.intro`), which kubesim does not use.
fn unused(at: &str, rest: &BTreeMap<String, serde_json::Value>, notes: &mut Vec<String>) {
    for (k, v) in rest {
        let why = match k.as_str() {
            "interface" => {
                "kubesim's page has one layout: the text beside the cluster, console and editor"
            }
            "credits" => "kubesim does not show credits",
            "environment" => "kubesim's page has one layout and no dashboards",
            _ => "kubesim does not use it",
        };
        let shown = match v {
            serde_json::Value::String(s) => format!(" ({s:?})"),
            _ => String::new(),
        };
        let path = if at.is_empty() {
            k.clone()
        } else {
            format!("{at}.{k}")
        };
        notes.push(format!("index.json's `{path}`{shown} is not used: {why}"));
    }
}

/// Two optional scripts joined (Killercoda's `background` and Katacoda's `courseData`).
fn joined(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
        (a, b) => a.or(b),
    }
}

/// Converts the folder whose files `read` returns (paths relative to the folder, as
/// `index.json` names them); `list` lists the files under a sub-folder (for the assets'
/// patterns).
pub fn import(
    read: &dyn Fn(&str) -> Result<String, String>,
    list: &dyn Fn(&str) -> Result<Vec<String>, String>,
) -> Result<Imported, String> {
    let index_text = read("index.json")?;
    let index: Index = serde_json::from_str(&index_text)
        .map_err(|e| format!("index.json:{}:{}: {e}", e.line(), e.column()))?;
    if index.title.trim().is_empty() {
        return Err("index.json: the scenario has no title".into());
    }
    if index.details.steps.is_empty() {
        return Err("index.json: details.steps is empty".into());
    }
    let mut warnings = Vec::new();
    unused("", &index.rest, &mut warnings);
    unused("details", &index.details.rest, &mut warnings);
    unused("backend", &index.backend.rest, &mut warnings);
    unused("details.intro", &index.details.intro.rest, &mut warnings);
    unused("details.finish", &index.details.finish.rest, &mut warnings);
    // A file index.json names must exist: a missing one is the instructor's mistake.
    let file = |path: &str, what: &str| -> Result<Option<String>, String> {
        if path.trim().is_empty() {
            return Ok(None);
        }
        read(path)
            .map(Some)
            .map_err(|e| format!("index.json names {what} {path:?}, which cannot be read: {e}"))
    };

    let mut doc = Mapping::new();
    let put = |m: &mut Mapping, k: &str, v: Value| {
        m.insert(Value::String(k.into()), v);
    };
    put(&mut doc, "title", Value::String(index.title.trim().into()));
    put(
        &mut doc,
        "summary",
        Value::String(index.description.trim().into()),
    );
    if let Some(level) = level(&index.difficulty) {
        put(&mut doc, "level", Value::String(level.into()));
    }
    if let Some(m) = minutes(&index.time) {
        put(&mut doc, "minutes", Value::Number(m.into()));
    }
    let intro = &index.details.intro;
    if let Some(t) = file(&intro.text, "the intro text")? {
        put(&mut doc, "intro", Value::String(text(&t)));
    }
    if let Some(t) = file(&index.details.finish.text, "the finish text")? {
        put(&mut doc, "finish", Value::String(text(&t)));
    }
    for (k, what) in [
        (&intro.verify, "verify script"),
        (&index.details.finish.background, "background script"),
        (&index.details.finish.foreground, "foreground script"),
    ] {
        if !k.is_empty() {
            warnings.push(format!(
                "the {what} {k:?} outside the steps is not run: kubesim runs the intro's scripts and each step's"
            ));
        }
    }

    let mut setup = Mapping::new();
    put(&mut setup, "seed", Value::Number(1.into()));
    let (nodes, note) = nodes(&index.backend.imageid);
    if let Some(n) = note {
        warnings.push(n);
    }
    let mut cluster = Mapping::new();
    put(&mut cluster, "nodes", nodes);
    put(&mut setup, "cluster", Value::Mapping(cluster));
    let background = joined(
        file(&intro.background, "the intro's background script")?,
        file(&intro.course_data, "the intro's courseData script")?,
    );
    if let Some(b) = background {
        put(&mut setup, "background", Value::String(b));
    }
    let foreground = joined(
        file(&intro.foreground, "the intro's foreground script")?,
        file(&intro.code, "the intro's code script")?,
    );
    if let Some(f) = foreground {
        put(&mut setup, "foreground", Value::String(f));
    }
    let assets = assets(&index.details.assets, read, list, &mut warnings)?;
    if !assets.is_empty() {
        put(&mut setup, "assets", Value::Sequence(assets));
    }
    put(&mut doc, "setup", Value::Mapping(setup));

    let mut steps = Vec::new();
    for (i, p) in index.details.steps.iter().enumerate() {
        let n = i + 1;
        unused(&format!("details.steps[{i}]"), &p.rest, &mut warnings);
        let mut step = Mapping::new();
        let title = if p.title.trim().is_empty() {
            format!("Step {n}")
        } else {
            p.title.trim().to_string()
        };
        put(&mut step, "title", Value::String(title));
        let body = file(&p.text, &format!("step {n}'s text"))?.unwrap_or_default();
        put(&mut step, "text", Value::String(text(&body)));
        if let Some(v) = file(&p.verify, &format!("step {n}'s verify script"))? {
            put(&mut step, "verify", Value::String(v));
        }
        let background = joined(
            file(&p.background, &format!("step {n}'s background script"))?,
            file(&p.course_data, &format!("step {n}'s courseData script"))?,
        );
        if let Some(b) = background {
            put(&mut step, "background", Value::String(b));
        }
        let foreground = joined(
            file(&p.foreground, &format!("step {n}'s foreground script"))?,
            file(&p.code, &format!("step {n}'s code script"))?,
        );
        if let Some(f) = foreground {
            put(&mut step, "foreground", Value::String(f));
        }
        steps.push(Value::Mapping(step));
    }
    put(&mut doc, "steps", Value::Sequence(steps));
    let body = serde_yaml::to_string(&Value::Mapping(doc)).map_err(|e| e.to_string())?;
    let mut yaml = String::from(
        "# Imported from a Killercoda scenario folder by kubesim (kubesim scenario import).\n",
    );
    for w in &warnings {
        yaml.push_str(&format!("# note: {w}\n"));
    }
    yaml.push_str(&body);
    Ok(Imported { yaml, warnings })
}

/// The most bytes of assets a scenario carries.
const MAX_ASSETS: usize = 4 << 20;

/// `details.assets` as the scenario's `setup.assets`: each pattern matched against the files
/// under the folder's `assets/`, each match put in its target folder.
fn assets(
    specs: &BTreeMap<String, Vec<AssetSpec>>,
    read: &dyn Fn(&str) -> Result<String, String>,
    list: &dyn Fn(&str) -> Result<Vec<String>, String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Value>, String> {
    let mut out: BTreeMap<String, (String, bool)> = BTreeMap::new();
    if specs.len() > 1 {
        warnings.push(format!(
            "details.assets names {} hosts ({}): kubesim's scenario has one machine, which gets them all",
            specs.len(),
            specs.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut listed: Option<Vec<String>> = None;
    let mut total = 0;
    for (host, list_of) in specs {
        for (i, a) in list_of.iter().enumerate() {
            unused(&format!("details.assets.{host}[{i}]"), &a.rest, warnings);
            let target = a.target.trim();
            let target = match target.strip_prefix('~') {
                Some(rest) => format!("/root{rest}"),
                None => target.to_string(),
            };
            if !target.starts_with('/') || target.split('/').any(|c| c == "..") {
                warnings.push(format!(
                    "the asset {:?}'s target {:?} is not an absolute path: it is not copied",
                    a.file, a.target
                ));
                continue;
            }
            let files = match &listed {
                Some(l) => l,
                None => listed.insert(list("assets").map_err(|e| {
                    format!(
                        "index.json names assets, but the folder's assets/ cannot be listed: {e}"
                    )
                })?),
            };
            let matched: Vec<&String> = files.iter().filter(|f| matches(&a.file, f)).collect();
            if matched.is_empty() {
                return Err(format!(
                    "index.json names the asset {:?}, but no file under assets/ matches it",
                    a.file
                ));
            }
            let executable = match a.chmod.trim() {
                "" => false,
                m if m.contains('x') => true,
                m => u32::from_str_radix(m, 8).is_ok_and(|mode| mode & 0o111 != 0),
            };
            // What the pattern's folder part leaves of a match (`dir/*` copies `dir/a` as `a`).
            let base = a.file.rfind('/').map_or(0, |i| i + 1);
            for f in matched {
                let content = read(&format!("assets/{f}"))
                    .map_err(|e| format!("the asset assets/{f} cannot be read: {e}"))?;
                total += content.len();
                if total > MAX_ASSETS {
                    return Err(format!(
                        "the assets are larger than {} MiB together",
                        MAX_ASSETS >> 20
                    ));
                }
                let rel = if base <= f.len() { &f[base..] } else { f };
                let path = format!("{}/{rel}", target.trim_end_matches('/'));
                out.insert(path, (content, executable));
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(path, (content, executable))| {
            let mut m = Mapping::new();
            m.insert("path".into(), Value::String(path));
            m.insert("content".into(), Value::String(content));
            if executable {
                m.insert("executable".into(), Value::Bool(true));
            }
            Value::Mapping(m)
        })
        .collect())
}

/// Whether `path` (relative to `assets/`) matches an asset's `file`: `*` matches within one
/// path segment; a pattern that is just `*` matches every file, sub-folders included.
fn matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim().trim_start_matches("./");
    if pattern == "*" {
        return true;
    }
    // Each `*` may try every split: a handful keeps that cheap.
    if pattern.matches('*').count() > 8 {
        return false;
    }
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| glob(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
        }
    }
    glob(pattern.as_bytes(), path.as_bytes())
}

/// `difficulty` as a kubesim level (Killercoda writes `beginner`, `intermediate`,
/// `advanced`, sometimes capitalised; `easy`/`medium`/`hard` are taken too).
fn level(difficulty: &str) -> Option<&'static str> {
    match difficulty.trim().to_ascii_lowercase().as_str() {
        "beginner" | "easy" => Some("beginner"),
        "intermediate" | "medium" => Some("intermediate"),
        "advanced" | "hard" | "expert" => Some("advanced"),
        _ => None,
    }
}

/// `time` (`"15 minutes"`, `"10min"`, `"1 hour"`) in minutes.
fn minutes(time: &str) -> Option<u32> {
    let t = time.trim().to_ascii_lowercase();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let n: u32 = digits.parse().ok()?;
    let unit = t[digits.len()..].trim();
    if unit.starts_with('h') {
        Some(n * 60)
    } else {
        Some(n)
    }
}

/// The nodes of a Killercoda backend: its Kubernetes images have a `controlplane` node and,
/// for two nodes, `node01`.
fn nodes(imageid: &str) -> (Value, Option<String>) {
    let node = |name: &str, control_plane: bool| {
        let mut m = Mapping::new();
        m.insert("name".into(), name.into());
        if control_plane {
            let mut labels = Mapping::new();
            labels.insert("node-role.kubernetes.io/control-plane".into(), "".into());
            m.insert("labels".into(), Value::Mapping(labels));
        }
        Value::Mapping(m)
    };
    let one = vec![node("controlplane", true)];
    let two = vec![node("controlplane", true), node("node01", false)];
    match imageid {
        "kubernetes-kubeadm-1node" | "kubernetes-k3s-1node" => (Value::Sequence(one), None),
        "kubernetes-kubeadm-2nodes" | "kubernetes-k3s-2nodes" => (Value::Sequence(two), None),
        other => (
            Value::Sequence(two),
            Some(format!(
                "backend {other:?} is not a Kubernetes backend kubesim knows: the cluster has the two nodes of kubernetes-kubeadm-2nodes"
            )),
        ),
    }
}

/// A step's Markdown with Killercoda's annotations made plain: `{{exec}}`, `{{execute}}`,
/// `{{exec interrupt}}` and `{{copy}}` after code are dropped (kubesim's code blocks have a
/// copy button), and `{{TRAFFIC_HOST1_PORT}}` becomes `http://127.0.0.1:PORT`, where
/// `kubesim serve` opens NodePorts. HTML comments (`<!-- INTERACTIVE exec START -->`) are
/// dropped: kubesim shows raw HTML as text.
pub fn text(md: &str) -> String {
    let md = without_comments(md);
    let mut out = String::with_capacity(md.len());
    let mut rest = md.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = after[..end].trim();
        let word = inner.split_whitespace().next().unwrap_or("");
        if let Some(port) = inner
            .strip_prefix("TRAFFIC_HOST")
            .and_then(|r| r.split_once('_'))
            .map(|(_, port)| port)
            .filter(|p| p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty())
        {
            out.push_str(&format!("http://127.0.0.1:{port}"));
        } else if !matches!(word, "exec" | "execute" | "copy") {
            // Not one of Killercoda's: kept as written.
            out.push_str(&rest[start..start + 2 + end + 2]);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// `md` without `<!-- ... -->` comments (a comment alone on its line takes its line too).
fn without_comments(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut rest = md;
    while let Some(start) = rest.find("<!--") {
        let Some(len) = rest[start..].find("-->") else {
            break;
        };
        let before = &rest[..start];
        let mut after = &rest[start + len + 3..];
        if before.is_empty() || before.ends_with('\n') {
            after = after.strip_prefix('\n').unwrap_or(after);
        }
        out.push_str(before);
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> impl Fn(&str) -> Result<String, String> + use<> {
        let map: BTreeMap<String, String> = files
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |p: &str| {
            map.get(p)
                .cloned()
                .ok_or_else(|| "no such file".to_string())
        }
    }

    fn no_list(_: &str) -> Result<Vec<String>, String> {
        Err("no such folder".into())
    }

    const INDEX: &str = r#"{
      "title": "Scale a Deployment",
      "description": "Create and scale",
      "difficulty": "Beginner",
      "time": "10 minutes",
      "details": {
        "intro": {"text": "intro.md", "background": "setup.sh", "foreground": "wait.sh"},
        "steps": [
          {"title": "Create", "text": "step1/text.md", "verify": "step1/verify.sh"},
          {"title": "Scale", "text": "step2/text.md", "verify": "step2/verify.sh",
           "background": "step2/background.sh"}
        ],
        "finish": {"text": "finish.md"}
      },
      "backend": {"imageid": "kubernetes-kubeadm-2nodes"},
      "interface": {"layout": "ide"}
    }"#;

    #[test]
    fn a_folder_becomes_a_valid_scenario_with_its_scripts() {
        let read = folder(&[
            ("index.json", INDEX),
            ("intro.md", "Welcome"),
            ("setup.sh", "kubectl create namespace work\n"),
            ("wait.sh", "echo waiting\n"),
            ("finish.md", "Done!"),
            (
                "step1/text.md",
                "Run:\n\n```plain\nkubectl create deployment web --image=nginx\n```{{exec}}\n\nOpen {{TRAFFIC_HOST1_30080}}.",
            ),
            ("step1/verify.sh", "kubectl get deploy web\n"),
            (
                "step2/text.md",
                "Scale it: `kubectl scale deploy web --replicas=3`{{copy}}",
            ),
            (
                "step2/verify.sh",
                "test \"$(kubectl get deploy web -o jsonpath='{.spec.replicas}')\" = 3\n",
            ),
            ("step2/background.sh", "echo hi\n"),
        ]);
        let imported = import(&read, &no_list).unwrap();
        let (scenario, diags) = crate::validate::validate(&imported.yaml);
        let s = scenario.expect("valid");
        assert!(
            diags.iter().all(|d| !d.error),
            "{diags:?}\n{}",
            imported.yaml
        );
        assert_eq!(s.title, "Scale a Deployment");
        assert_eq!(s.level.as_str(), "beginner");
        assert_eq!(s.minutes, Some(10));
        assert_eq!(s.intro, "Welcome");
        assert_eq!(s.finish, "Done!");
        assert_eq!(
            s.setup.background.as_deref(),
            Some("kubectl create namespace work\n")
        );
        assert_eq!(s.steps.len(), 2);
        assert_eq!(
            s.steps[0].verify.as_deref(),
            Some("kubectl get deploy web\n")
        );
        assert!(
            s.steps[0]
                .text
                .contains("```\n\nOpen http://127.0.0.1:30080.")
        );
        assert!(!s.steps[1].text.contains("{{"), "{}", s.steps[1].text);
        assert_eq!(s.steps[1].background.as_deref(), Some("echo hi\n"));
        assert_eq!(
            imported.warnings,
            vec!["index.json's `interface` is not used: kubesim's page has one layout: the text beside the cluster, console and editor".to_string()]
        );
        assert_eq!(s.setup.foreground.as_deref(), Some("echo waiting\n"));
    }

    #[test]
    fn missing_files_and_bad_json_are_clear_errors() {
        let e = import(&folder(&[("index.json", "{\"title\": ")]), &no_list).unwrap_err();
        assert!(e.starts_with("index.json:1:"), "{e}");
        let e = import(&folder(&[("index.json", INDEX)]), &no_list).unwrap_err();
        assert!(e.contains("\"intro.md\", which cannot be read"), "{e}");
        let e = import(&folder(&[]), &no_list).unwrap_err();
        assert_eq!(e, "no such file");
    }

    /// A Katacoda-era folder: the setup is `courseData` (background) and `code`
    /// (foreground), the assets are copied where the scripts expect them, and every key
    /// kubesim does not use is a note.
    #[test]
    fn course_data_code_and_assets_become_the_setup() {
        let index = r#"{
          "title": "Namespaces",
          "pathwayTitle": "CKAD",
          "details": {
            "intro": {"text": "intro.md", "courseData": "env-init.sh", "code": "show.sh", "credits": "someone"},
            "steps": [{"title": "One", "text": "s1.md", "verify": "v1.sh", "code": "s1-fg.sh", "courseData": "s1-bg.sh"}],
            "assets": {"host01": [
              {"file": "*.yaml", "target": "/root/assets"},
              {"file": "bin/wait", "target": "~/bin", "chmod": "+x"}
            ]}
          },
          "backend": {"imageid": "kubernetes-kubeadm-1node"}
        }"#;
        let read = folder(&[
            ("index.json", index),
            ("intro.md", "Hi"),
            ("env-init.sh", "kubectl create ns ios\n"),
            ("show.sh", "echo ready\n"),
            ("s1.md", "Do it"),
            ("v1.sh", "true\n"),
            ("s1-fg.sh", "echo step\n"),
            ("s1-bg.sh", "echo bg\n"),
            ("assets/pod.yaml", "kind: Pod\n"),
            ("assets/svc.yaml", "kind: Service\n"),
            ("assets/notes.txt", "not matched\n"),
            ("assets/bin/wait", "#!/bin/sh\nsleep 1\n"),
        ]);
        let list = |dir: &str| -> Result<Vec<String>, String> {
            assert_eq!(dir, "assets");
            Ok(vec![
                "bin/wait".into(),
                "notes.txt".into(),
                "pod.yaml".into(),
                "svc.yaml".into(),
            ])
        };
        let imported = import(&read, &list).unwrap();
        let (scenario, diags) = crate::validate::validate(&imported.yaml);
        assert!(
            diags.iter().all(|d| !d.error),
            "{diags:?}\n{}",
            imported.yaml
        );
        let s = scenario.expect("valid");
        assert_eq!(
            s.setup.background.as_deref(),
            Some("kubectl create ns ios\n")
        );
        assert_eq!(s.setup.foreground.as_deref(), Some("echo ready\n"));
        assert_eq!(s.steps[0].foreground.as_deref(), Some("echo step\n"));
        assert_eq!(s.steps[0].background.as_deref(), Some("echo bg\n"));
        let assets: Vec<(&str, bool)> = s
            .setup
            .assets
            .iter()
            .map(|a| (a.path.as_str(), a.executable))
            .collect();
        assert_eq!(
            assets,
            [
                ("/root/assets/pod.yaml", false),
                ("/root/assets/svc.yaml", false),
                ("/root/bin/wait", true),
            ]
        );
        assert_eq!(s.setup.assets[0].content, "kind: Pod\n");
        assert_eq!(
            imported.warnings,
            [
                "index.json's `pathwayTitle` (\"CKAD\") is not used: kubesim does not use it",
                "index.json's `details.intro.credits` (\"someone\") is not used: kubesim does not show credits",
            ]
        );
        // The notes are in the file, for an instructor reading it.
        assert!(
            imported
                .yaml
                .contains("# note: index.json's `pathwayTitle`")
        );
    }

    #[test]
    fn asset_patterns() {
        assert!(matches("*", "a/b.yaml"));
        assert!(matches("*.yaml", "pod.yaml"));
        assert!(!matches("*.yaml", "dir/pod.yaml"));
        assert!(matches("dir/*", "dir/pod.yaml"));
        assert!(matches("./pod.yaml", "pod.yaml"));
        assert!(!matches("pod.yml", "pod.yaml"));
    }

    #[test]
    fn an_asset_pattern_matching_nothing_is_an_error() {
        let index = r#"{"title": "T", "details": {"steps": [{"text": "s.md"}],
            "assets": {"host01": [{"file": "missing.yaml", "target": "/root"}]}}}"#;
        let read = folder(&[("index.json", index), ("s.md", "x")]);
        let e = import(&read, &|_: &str| Ok(vec!["other.yaml".to_string()])).unwrap_err();
        assert!(e.contains("no file under assets/ matches"), "{e}");
    }

    #[test]
    fn html_comments_go() {
        assert_eq!(
            text(
                "a\n<!-- INTERACTIVE exec START -->\n```bash\nls\n```\n<!-- x -->\nb <!-- c --> d"
            ),
            "a\n```bash\nls\n```\nb  d"
        );
    }

    #[test]
    fn unknown_annotations_stay() {
        assert_eq!(text("a {{exec interrupt}} b {{other}}"), "a  b {{other}}");
        assert_eq!(text("unclosed {{exec"), "unclosed {{exec");
    }
}
