//! `kubesim scenario validate`: the schema, every CEL expression, and the rules a playable
//! scenario keeps, each problem with its line.

use sim_core::time::parse_duration;

use crate::check::Expr;
use crate::format::{self, ExprLine, Scenario};

/// A problem found in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// An error (the scenario cannot be played) rather than a warning.
    pub error: bool,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{l}:{c}: ")?,
            (Some(l), None) => write!(f, "{l}: ")?,
            _ => {}
        }
        let word = if self.error { "error" } else { "warning" };
        write!(f, "{word}: {}", self.message)
    }
}

impl Diagnostic {
    fn error(line: Option<usize>, message: String) -> Diagnostic {
        Diagnostic {
            line,
            column: None,
            message,
            error: true,
        }
    }
}

/// Parses and checks a scenario; the scenario is returned when it parsed, with every problem
/// found (errors and warnings).
pub fn validate(text: &str) -> (Option<Scenario>, Vec<Diagnostic>) {
    let scenario = match format::parse(text) {
        Ok(s) => s,
        Err((line, message)) => {
            return (
                None,
                every_schema_error(text, Diagnostic::error(line, message)),
            );
        }
    };
    let mut out = Vec::new();
    let located = format::expression_lines(text);
    let cel_lines: Vec<ExprLine> = located.iter().copied().filter(|l| l.is_check).collect();
    let when_lines: Vec<ExprLine> = located.iter().copied().filter(|l| !l.is_check).collect();
    let n_checks: usize = scenario.steps.iter().map(|s| s.checks.len()).sum();
    let n_whens = scenario
        .steps
        .iter()
        .flat_map(|s| &s.events)
        .filter(|e| e.when.is_some())
        .count();
    // Only trust the n-th key for the n-th expression when the counts agree (flow-style YAML
    // can hide keys from the line scan); otherwise look for the expression's text.
    let locate = |lines: &[ExprLine], expected: usize, n: usize, src: &str| -> Option<ExprLine> {
        if lines.len() == expected {
            return lines.get(n).copied();
        }
        let first = src.lines().next()?.trim();
        text.lines()
            .position(|l| l.contains(first))
            .map(|i| ExprLine {
                is_check: true,
                line: i + 1,
                block: false,
            })
    };
    if scenario.steps.is_empty() {
        out.push(Diagnostic::error(
            None,
            "a scenario needs at least one step".into(),
        ));
    }
    if let Err(message) = scenario.setup.cluster.check(&sim_core::Limits::default()) {
        let line = text
            .lines()
            .position(|l| l.contains("nodes:"))
            .map(|i| i + 1);
        out.push(Diagnostic::error(line, format!("setup.{message}")));
    }
    // Every duration has a unit and stays within the script's bounds, as in a run script.
    let mut durations = |steps: &[sim_core::script::StepSpec], line, place: &str| {
        for (i, s) in steps.iter().enumerate() {
            if let Err(e) = sim_core::script::Budget::default().take(s) {
                out.push(Diagnostic::error(line, format!("{place} {}: {e}", i + 1)));
            }
        }
    };
    durations(&scenario.setup.steps, None, "setup step");
    for (si, step) in scenario.steps.iter().enumerate() {
        let line = step_line(text, si);
        let place = format!("step {} ({:?})", si + 1, step.title);
        durations(&step.actions, line, &format!("{place}: action"));
        durations(&step.solution, line, &format!("{place}: solution step"));
        for e in &step.events {
            durations(&e.actions, line, &format!("{place}: event action"));
        }
    }
    unknown_images(&scenario, text, &mut out);
    let mut check_n = 0;
    let mut when_n = 0;
    for (si, step) in scenario.steps.iter().enumerate() {
        let name = format!("step {} ({:?})", si + 1, step.title);
        let step_line = step_line(text, si);
        for e in &step.events {
            match (&e.at, &e.when) {
                (Some(_), Some(_)) | (None, None) => out.push(Diagnostic::error(
                    step_line,
                    format!("{name}: an event has `at` or `when`, exactly one of them"),
                )),
                _ => {}
            }
            if let Some(at) = &e.at
                && let Err(err) = parse_duration(at)
            {
                out.push(Diagnostic::error(
                    step_line,
                    format!("{name}: event at: {err}"),
                ));
            }
            if let Some(w) = &e.when {
                let at = locate(&when_lines, n_whens, when_n, w);
                when_n += 1;
                if let Err(err) = Expr::compile(w) {
                    out.push(Diagnostic {
                        line: at.map(|l| l.file_line(err.line)),
                        column: Some(err.column),
                        message: format!("{name}: when: {}", err.message),
                        error: true,
                    });
                }
            }
        }
        for c in &step.checks {
            let at = locate(&cel_lines, n_checks, check_n, &c.cel);
            check_n += 1;
            if let Err(err) = Expr::compile(&c.cel) {
                out.push(Diagnostic {
                    line: at.map(|l| l.file_line(err.line)),
                    column: Some(err.column),
                    message: format!("{name}: check {:?}: {}", c.name, err.message),
                    error: true,
                });
            }
        }
        match (step.checks.is_empty(), &step.verify) {
            (true, None) => out.push(Diagnostic {
                line: step_line,
                column: None,
                message: format!(
                    "{name} has no checks and no verify script: it is passed as soon as it begins"
                ),
                error: false,
            }),
            (_, Some(v)) if v.trim().is_empty() => out.push(Diagnostic::error(
                step_line,
                format!("{name}: the verify script is empty"),
            )),
            _ => {}
        }
        if step.solution.is_empty() && !step.checks.is_empty() {
            out.push(Diagnostic::error(
                step_line,
                format!("{name} has no reference solution, so its checks cannot be tested"),
            ));
        }
        if step.hints.is_empty() {
            out.push(Diagnostic {
                line: step_line,
                column: None,
                message: format!("{name} has no hints"),
                error: false,
            });
        }
    }
    (Some(scenario), out)
}

/// An image the setup runs that kubesim does not have is an error: the student would start
/// from pods stuck in `ImagePullBackOff` (a pull failure to teach belongs in a step).
fn unknown_images(scenario: &Scenario, text: &str, out: &mut Vec<Diagnostic>) {
    use sim_core::runtime::normalize;
    let mut known = sim_core::images::builtin_names();
    known.extend(scenario.setup.images.keys().map(|i| normalize(i)));
    let manifests = scenario
        .setup
        .objects
        .iter()
        .chain(scenario.setup.steps.iter().filter_map(|s| match s {
            sim_core::script::StepSpec::Act(
                sim_core::action::Action::Apply(y)
                | sim_core::action::Action::Create(y)
                | sim_core::action::Action::Replace(y),
            ) => Some(y),
            _ => None,
        }));
    let mut seen = Vec::new();
    for m in manifests {
        // A manifest that does not parse is the run's error, reported when it runs.
        let Ok(objects) = sim_core::api::decode::parse_manifests(m) else {
            continue;
        };
        for o in objects {
            images_in(&o.object.to_value(), &mut seen);
        }
    }
    for image in seen {
        let n = normalize(&image);
        if known.contains(&n) || sim_core::families::resolve(&image).is_some() {
            continue;
        }
        let line = text.lines().position(|l| l.contains(&image)).map(|i| i + 1);
        out.push(Diagnostic::error(
            line,
            format!(
                "setup: image {image:?} is not one kubesim runs, so its pods would start in ImagePullBackOff (`kubesim images` lists the images; declare it under setup.images to give it a behaviour)"
            ),
        ));
    }
}

/// Every container image in an object (a pod spec at any depth: Pod, Deployment, Job...).
fn images_in(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for key in ["containers", "initContainers"] {
                for c in map
                    .get(key)
                    .and_then(|c| c.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(i) = c["image"].as_str()
                        && !out.iter().any(|o| o == i)
                    {
                        out.push(i.to_string());
                    }
                }
            }
            for (k, child) in map {
                if k != "containers" && k != "initContainers" {
                    images_in(child, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| images_in(i, out)),
        _ => {}
    }
}

/// The line of the `index`-th item of the top-level `steps:` list.
/// The file's first schema error, and those of every other step: serde stops at the first
/// error of a file, so each step is read again alone, from its own lines.
fn every_schema_error(text: &str, first: Diagnostic) -> Vec<Diagnostic> {
    let mut out = vec![first];
    for (i, (start, block)) in step_blocks(text).into_iter().enumerate() {
        let Err(e) = serde_yaml::from_str::<format::Step>(&block) else {
            continue;
        };
        let line = e.location().map(|l| start + l.line() - 1);
        if out.iter().any(|d| d.line == line) {
            continue;
        }
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        out.push(Diagnostic::error(line, format!("steps[{i}]: {message}")));
    }
    out.sort_by_key(|d| d.line);
    out
}

/// Each item of the top-level `steps:` list as its own YAML document: (its first line,
/// 1-based; its text dedented).
fn step_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks: Vec<(usize, String)> = Vec::new();
    let mut in_steps = false;
    let mut indent = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("steps:") {
            in_steps = true;
            continue;
        }
        if !in_steps {
            continue;
        }
        let t = line.trim_start();
        let ind = line.len() - t.len();
        if !t.is_empty() && !t.starts_with('#') && ind == 0 && !t.starts_with('-') {
            break;
        }
        if t.starts_with("- ") && indent.is_none_or(|x| x == ind) {
            indent = Some(ind);
            blocks.push((i + 1, format!("{}\n", &t[2..])));
            continue;
        }
        if let (Some(k), Some((_, b))) = (indent, blocks.last_mut()) {
            b.push_str(line.get(k + 2..).unwrap_or("").trim_end_matches('\r'));
            b.push('\n');
        }
    }
    blocks
}

/// The first line (1-based) of step `index` (0-based) of the top-level `steps:` list.
fn step_line(text: &str, index: usize) -> Option<usize> {
    step_blocks(text).get(index).map(|b| b.0)
}

#[cfg(test)]
mod every_error_tests {
    use super::*;

    #[test]
    fn every_steps_schema_error_is_reported_with_its_line() {
        let text = "title: T\nsteps:\n  - title: a\n    text: b\n    bogus: 1\n  - title: c\n    text: d\n  - title: e\n    tex: f\n    checks:\n      - name: n\n        cell: x\n";
        let (scenario, diags) = validate(text);
        assert!(scenario.is_none());
        let got: Vec<(Option<usize>, bool)> = diags
            .iter()
            .map(|d| (d.line, d.message.contains("unknown field")))
            .collect();
        assert_eq!(got, [(Some(5), true), (Some(9), true)], "{diags:?}");
        assert!(
            diags[1]
                .message
                .starts_with("steps[2]: unknown field `tex`"),
            "{diags:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
title: T
steps:
  - title: one
    text: do it
    checks:
      - name: ten
        cel: deployment('a', 'b').spec.replicas == 10
    hints: [scale it]
    solution:
      - kubectl: scale deployment/b -n a --replicas=10
  - title: two
    text: again
    checks:
      - name: three
        cel: |
          revision('a', 'b') == 3 &&
          minAvailable('a', 'b') >= 10 &&
    hints: [undo]
    solution:
      - kubectl: rollout undo deployment/b -n a
";

    #[test]
    fn a_bad_expression_is_reported_at_its_file_line() {
        let (s, d) = validate(GOOD);
        assert!(s.is_some());
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].line, Some(17), "{}", d[0]);
        assert!(
            d[0].message.contains("step 2 (\"two\"): check \"three\""),
            "{}",
            d[0]
        );
    }

    #[test]
    fn unknown_functions_and_missing_parts_are_errors() {
        let text = GOOD
            .replace("deployment('a', 'b')", "deploy('a', 'b')")
            .replace("    hints: [scale it]\n    solution:\n      - kubectl: scale deployment/b -n a --replicas=10\n", "");
        let (_, d) = validate(&text);
        let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        assert!(lines[0].starts_with("7:1: error: step 1"), "{lines:?}");
        assert!(
            lines[0].contains("unknown function \"deploy\""),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("3: error: step 1 (\"one\") has no reference solution")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("3: warning: step 1 (\"one\") has no hints")),
            "{lines:?}"
        );
    }

    #[test]
    fn zero_nodes_and_bare_durations_are_errors() {
        let text = format!("setup:\n  cluster: {{nodes: 0}}\n{GOOD}").replace(
            "      - kubectl: scale deployment/b -n a --replicas=10\n",
            "      - kubectl: scale deployment/b -n a --replicas=10\n      - advance: 30\n",
        );
        let (_, d) = validate(&text);
        let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("setup.cluster.nodes: a cluster needs at least one node")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains(
                "solution step 2: advance: invalid duration \"30\": a number needs a unit"
            )),
            "{lines:?}"
        );
    }

    #[test]
    fn an_image_kubesim_lacks_in_the_setup_is_an_error_with_its_line() {
        let setup = "setup:\n  images:\n    mine/api:1: {}\n  objects:\n    - |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: b, namespace: a}\n      spec:\n        selector: {matchLabels: {app: b}}\n        template:\n          metadata: {labels: {app: b}}\n          spec:\n            initContainers: [{name: i, image: busybox}]\n            containers:\n              - {name: c, image: europe-central2-docker.pkg.dev/p/r/api:single}\n              - {name: d, image: mine/api:1}\n              - {name: e, image: docker.io/library/nginx:1.27}\n";
        let (s, d) = validate(&GOOD.replacen("steps:\n", &format!("{setup}steps:\n"), 1));
        assert!(s.is_some());
        let images: Vec<&Diagnostic> = d.iter().filter(|d| d.message.contains("image")).collect();
        assert_eq!(images.len(), 1, "{d:?}");
        assert_eq!(images[0].line, Some(17));
        assert!(images[0].error);
        assert!(images[0].message.starts_with(
            "setup: image \"europe-central2-docker.pkg.dev/p/r/api:single\" is not one kubesim runs"
        ));
        assert!(images[0].message.contains("`kubesim images`"));
    }

    #[test]
    fn public_images_of_any_published_tag_pass_and_a_typo_does_not() {
        let setup = "setup:\n  objects:\n    - |\n      apiVersion: v1\n      kind: Pod\n      metadata: {name: p, namespace: a}\n      spec:\n        containers:\n          - {name: a, image: nginx:1.21-alpine}\n          - {name: b, image: public.ecr.aws/docker/library/busybox:1.36}\n          - {name: c, image: httpd:2.4}\n          - {name: d, image: 'mysql:8.0'}\n          - {name: e, image: nginx:1.2O}\n";
        let (s, d) = validate(&GOOD.replacen("steps:\n", &format!("{setup}steps:\n"), 1));
        assert!(s.is_some());
        let images: Vec<&Diagnostic> = d.iter().filter(|d| d.message.contains("image")).collect();
        assert_eq!(images.len(), 1, "{d:?}");
        assert!(
            images[0]
                .message
                .starts_with("setup: image \"nginx:1.2O\" is not one"),
            "{}",
            images[0].message
        );
    }

    #[test]
    fn schema_errors_have_lines() {
        let (s, d) = validate(&GOOD.replace("    text: again\n", "    txt: again\n"));
        assert!(s.is_none());
        assert_eq!(d[0].line, Some(12), "{}", d[0]);
    }

    #[test]
    fn events_need_at_or_when() {
        let text = GOOD.replace(
            "    text: do it\n",
            "    text: do it\n    events:\n      - do: [{nodeDown: node-1}]\n      - at: soon\n        do: [{nodeDown: node-1}]\n      - when: deployment('a' ===\n        do: [{nodeUp: node-1}]\n",
        );
        let (_, d) = validate(&text);
        let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        assert!(lines[0].contains("exactly one of them"), "{lines:?}");
        assert!(lines[1].contains("event at:"), "{lines:?}");
        assert!(
            lines[2].starts_with("9:19: error: step 1 (\"one\"): when:"),
            "{lines:?}"
        );
    }
}
