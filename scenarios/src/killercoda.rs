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
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Details {
    intro: Page,
    steps: Vec<Page>,
    finish: Page,
    assets: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Page {
    title: String,
    text: String,
    verify: String,
    background: String,
    foreground: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Backend {
    imageid: String,
}

/// Converts the folder whose files `read` returns (paths relative to the folder, as
/// `index.json` names them).
pub fn import(read: &dyn Fn(&str) -> Result<String, String>) -> Result<Imported, String> {
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
    if let Some(t) = file(&index.details.intro.text, "the intro text")? {
        put(&mut doc, "intro", Value::String(text(&t)));
    }
    if let Some(t) = file(&index.details.finish.text, "the finish text")? {
        put(&mut doc, "finish", Value::String(text(&t)));
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
    if let Some(b) = file(
        &index.details.intro.background,
        "the intro's background script",
    )? {
        put(&mut setup, "background", Value::String(b));
    }
    put(&mut doc, "setup", Value::Mapping(setup));
    if !index.details.intro.foreground.is_empty() {
        warnings.push(format!(
            "the intro's foreground script {:?} is not run: kubesim has no terminal to run it in",
            index.details.intro.foreground
        ));
    }
    if !index.details.assets.is_empty() {
        warnings.push(
            "details.assets are not copied anywhere: `kubectl apply -f FILE` reads files from the scenario's folder instead".into(),
        );
    }

    let mut steps = Vec::new();
    for (i, p) in index.details.steps.iter().enumerate() {
        let n = i + 1;
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
        if let Some(b) = file(&p.background, &format!("step {n}'s background script"))? {
            put(&mut step, "background", Value::String(b));
        }
        if !p.foreground.is_empty() {
            warnings.push(format!(
                "step {n}'s foreground script {:?} is not run: kubesim has no terminal to run it in",
                p.foreground
            ));
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

    fn folder(files: &[(&str, &str)]) -> impl Fn(&str) -> Result<String, String> {
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
        let imported = import(&read).unwrap();
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
            vec!["the intro's foreground script \"wait.sh\" is not run: kubesim has no terminal to run it in".to_string()]
        );
    }

    #[test]
    fn missing_files_and_bad_json_are_clear_errors() {
        let e = import(&folder(&[("index.json", "{\"title\": ")])).unwrap_err();
        assert!(e.starts_with("index.json:1:"), "{e}");
        let e = import(&folder(&[("index.json", INDEX)])).unwrap_err();
        assert!(e.contains("\"intro.md\", which cannot be read"), "{e}");
        let e = import(&folder(&[])).unwrap_err();
        assert_eq!(e, "no such file");
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
