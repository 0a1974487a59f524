//! The scenario file: a `kubesim run` script's cluster and steps, grown into an exercise.
//! Documented, with a complete example, in `docs/scenarios.md`.

use std::collections::BTreeMap;

use serde::Deserialize;
use sim_core::runtime::ImageBehavior;
use sim_core::script::{ClusterSpec, StepSpec};

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Title, shown in the list.
    pub title: String,
    /// One or two sentences: what the student does and learns.
    #[serde(default)]
    pub summary: String,
    /// `beginner`, `intermediate` or `advanced`.
    #[serde(default)]
    pub level: Level,
    /// Estimated minutes.
    #[serde(default)]
    pub minutes: Option<u32>,
    /// Learning goals, one line each.
    #[serde(default)]
    pub goals: Vec<String>,
    /// Markdown shown above the first step (a Killercoda scenario's intro).
    #[serde(default)]
    pub intro: String,
    /// Markdown shown once every step is passed.
    #[serde(default)]
    pub finish: String,
    /// The cluster before the first step.
    #[serde(default)]
    pub setup: Setup,
    /// The exercise, in order.
    pub steps: Vec<Step>,
    /// How the scenario plays on a real cluster (`kubesim scenario play`): images to use
    /// instead of kubesim's built-in ones, more namespaces it may write in.
    #[serde(default)]
    pub real_cluster: Option<RealClusterSetup>,
}

/// `realCluster:` at the top of a scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RealClusterSetup {
    /// Images to use instead (`registry.local/credit-scoring-api:v1` → your registry's
    /// build), in the setup's objects and the steps' manifests.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Namespaces the scenario may write in besides `setup.namespace`.
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// `realCluster:` in a step.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RealClusterStep {
    /// Script steps to run instead of the step's `actions` on a real cluster.
    #[serde(default)]
    pub actions: Option<Vec<StepSpec>>,
    /// Why the step cannot be played on a real cluster: it is shown, not checked.
    #[serde(default)]
    pub skip: Option<String>,
}

/// How hard a scenario is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Level {
    #[default]
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    /// The word as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Beginner => "beginner",
            Level::Intermediate => "intermediate",
            Level::Advanced => "advanced",
        }
    }
}

/// `setup:` the cluster the student finds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Setup {
    /// Seed of the run's random generator (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Cluster shape, as in a script.
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// Declared image behaviour, as in a script (added to the built-in images).
    #[serde(default)]
    pub images: BTreeMap<String, ImageBehavior>,
    /// A namespace to create first.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Manifests applied before the first step (one string may hold several documents).
    #[serde(default)]
    pub objects: Vec<String>,
    /// Script steps run after the objects (e.g. `waitFor` so the student starts from a
    /// settled cluster).
    #[serde(default)]
    pub steps: Vec<StepSpec>,
    /// A shell script `kubesim serve` runs once the setup is done, with the real `kubectl`
    /// pointed at the scenario's cluster (a Killercoda intro's `background.sh`). Headless
    /// runs (`scenario test`) do not run it.
    #[serde(default)]
    pub background: Option<String>,
    /// A shell script run after `background`, whose output the student sees as if typed in
    /// their terminal (a Killercoda intro's `foreground.sh`).
    #[serde(default)]
    pub foreground: Option<String>,
    /// Files the scripts find on the scenario's machine before any of them runs (a
    /// Killercoda folder's `details.assets`): each at an absolute path of the scenario's
    /// private file system.
    #[serde(default)]
    pub assets: Vec<Asset>,
}

/// One file of `setup.assets`.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Asset {
    /// Where the file is, an absolute path (`/root/assets/pod.yaml`).
    pub path: String,
    /// Its content.
    pub content: String,
    /// Whether it is executable (Killercoda's `"chmod": "+x"`).
    #[serde(default)]
    pub executable: bool,
}

/// One step of the exercise.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    /// A short title.
    pub title: String,
    /// Instructions in Markdown.
    pub text: String,
    /// Script steps run when the step begins (the scenario acts, the student watches).
    #[serde(default)]
    pub actions: Vec<StepSpec>,
    /// Things that happen during the step: at a time, or once a condition holds.
    #[serde(default)]
    pub events: Vec<Event>,
    /// What the student must achieve; all must hold to finish the step.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// Hints, revealed one at a time.
    #[serde(default)]
    pub hints: Vec<String>,
    /// The reference solution: script steps (kubectl, apply, advance, waitFor, request...).
    #[serde(default)]
    pub solution: Vec<StepSpec>,
    /// A shell script that must exit 0 for the step to pass, run by `kubesim serve` when
    /// the student presses Check, with the real `kubectl` pointed at the scenario's cluster
    /// (a Killercoda step's `verify.sh`).
    #[serde(default)]
    pub verify: Option<String>,
    /// A shell script `kubesim serve` runs when the step begins, like `verify` (a Killercoda
    /// step's `background.sh`).
    #[serde(default)]
    pub background: Option<String>,
    /// A shell script run when the step begins, after `background`, whose output the
    /// student sees as if typed in their terminal (a Killercoda step's `foreground.sh`).
    #[serde(default)]
    pub foreground: Option<String>,
    /// How the step plays on a real cluster (`kubesim scenario play`).
    #[serde(default)]
    pub real_cluster: Option<RealClusterStep>,
}

/// A timed or conditional event of a step.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Event {
    /// Virtual time after the step began (`30s`, `2m`).
    #[serde(default)]
    pub at: Option<String>,
    /// A CEL condition, looked at after every action and every virtual second.
    #[serde(default)]
    pub when: Option<String>,
    /// A line shown to the student when it happens.
    #[serde(default)]
    pub say: Option<String>,
    /// What happens: script steps.
    #[serde(rename = "do")]
    pub actions: Vec<StepSpec>,
}

/// A check: a CEL expression that must be true.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Check {
    /// What the student achieves, in a few words ("ten pods are ready").
    pub name: String,
    /// The CEL expression.
    pub cel: String,
    /// What is expected, for the student, shown when the check fails.
    #[serde(default)]
    pub explain: Option<String>,
}

/// Parses a scenario's YAML.
pub fn parse(text: &str) -> Result<Scenario, (Option<usize>, String)> {
    serde_yaml::from_str::<Scenario>(text)
        .map_err(|e| (e.location().map(|l| l.line()), e.to_string()))
}

/// The 1-based line of each `cel:` and `when:` key, in the order they appear; serde reads the
/// file in the same order, so the n-th check or condition found is on the n-th such line.
pub fn expression_lines(text: &str) -> Vec<ExprLine> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let t = t.strip_prefix("- ").map(str::trim_start).unwrap_or(t);
        for key in ["cel:", "when:"] {
            if let Some(rest) = t.strip_prefix(key) {
                let rest = rest.trim();
                out.push(ExprLine {
                    is_check: key == "cel:",
                    line: i + 1,
                    block: rest.starts_with('|') || rest.starts_with('>') || rest.is_empty(),
                });
            }
        }
    }
    out
}

/// Where one expression is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExprLine {
    /// `cel:` (a check) rather than `when:` (an event).
    pub is_check: bool,
    /// The key's line.
    pub line: usize,
    /// The expression starts on the next line (a block scalar).
    pub block: bool,
}

impl ExprLine {
    /// The file line of line `n` (1-based) of the expression.
    pub fn file_line(self, n: usize) -> usize {
        if self.block {
            self.line + n
        } else {
            self.line + n.saturating_sub(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "title: T\nsteps:\n  - title: one\n    text: do it\n    checks:\n      - name: n\n        cel: 'true'\n    solution:\n      - kubectl: get pods\n";

    #[test]
    fn a_minimal_scenario_parses() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.title, "T");
        assert_eq!(s.level, Level::Beginner);
        assert_eq!(s.steps[0].checks[0].cel, "true");
        assert!(matches!(
            s.steps[0].solution[0],
            StepSpec::Act(sim_core::action::Action::Kubectl(_))
        ));
    }

    #[test]
    fn unknown_keys_are_errors_with_a_line() {
        let bad = MINIMAL.replace("    text: do it\n", "    text: do it\n    hint: no\n");
        let (line, msg) = parse(&bad).unwrap_err();
        assert_eq!(line, Some(5), "{msg}");
        assert!(msg.contains("unknown field `hint`"), "{msg}");
    }

    #[test]
    fn events_have_do_and_at_or_when() {
        let text = MINIMAL.replace(
            "    checks:\n",
            "    events:\n      - at: 30s\n        say: boom\n        do:\n          - nodeDown: node-1\n      - when: 'elapsed > 3.0'\n        do: [{echo: hi}]\n    checks:\n",
        );
        let s = parse(&text).unwrap();
        assert_eq!(s.steps[0].events[0].at.as_deref(), Some("30s"));
        assert_eq!(s.steps[0].events[1].when.as_deref(), Some("elapsed > 3.0"));
        let lines = expression_lines(&text);
        assert_eq!(lines.len(), 2);
        assert!(!lines[0].is_check && lines[1].is_check);
    }

    #[test]
    fn expression_lines_count_block_scalars_from_the_next_line() {
        let text = "checks:\n  - name: a\n    cel: x == 1\n  - name: b\n    cel: |\n      x == 1 &&\n      y\n";
        let lines = expression_lines(text);
        assert_eq!(lines[0].file_line(1), 3);
        assert_eq!(lines[1].file_line(2), 7);
    }
}
