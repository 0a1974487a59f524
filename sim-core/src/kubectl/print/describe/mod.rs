//! `kubectl describe` for Deployments, ReplicaSets, Pods, Services and Nodes.
//!
//! Port of `staging/src/k8s.io/kubectl/pkg/describe/describe.go`: describeDeployment,
//! describeReplicaSet, describePod, describeService, DescribePodTemplate, describeContainers,
//! DescribeProbe, DescribeEvents and the multi-line label, annotation and toleration helpers.
//! The text goes through the describe tabwriter (minwidth 0, padding 2), flushed before the
//! events table as `DescribeEvents` does.
//!
//! One file per kind, as kubectl's describe tests are; `template.rs` is the pod template all of
//! them print, `events.rs` the events table, and this file the writer and the multi-line
//! label, annotation and toleration helpers they share.

mod deployment;
mod events;
mod hpa;
mod ingress;
mod job;
mod node;
mod pod;
mod replicaset;
mod service;
mod template;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Toleration;

use super::table::DESCRIBE;
use super::util::s;

pub use deployment::describe_deployment;
pub(crate) use events::describe_events;
pub use hpa::describe_hpa;
pub use ingress::{BackendLookup, describe_ingress, describe_ingress_class};
pub use job::{describe_cronjob, describe_job};
pub use node::describe_node;
pub use pod::describe_pod;
pub use replicaset::describe_replicaset;
pub use service::{describe_service, describe_service_at};
pub(crate) use template::describe_pod_template;

/// Annotations describe never shows.
const SKIP_ANNOTATIONS: &[&str] = &["kubectl.kubernetes.io/last-applied-configuration"];

/// Longest `key: value` annotation printed on one line.
const MAX_ANNOTATION_LEN: usize = 140;

/// kubectl's `PrefixWriter` over a tabwriter: two spaces per level, tab-separated cells.
pub(crate) struct PrefixWriter {
    done: String,
    buf: String,
}

impl PrefixWriter {
    pub(crate) fn new() -> Self {
        PrefixWriter {
            done: String::new(),
            buf: String::new(),
        }
    }

    /// `Write(level, ...)`: the text indented by `level` times two spaces.
    pub(crate) fn write(&mut self, level: usize, text: &str) {
        for _ in 0..level {
            self.buf.push_str("  ");
        }
        self.buf.push_str(text);
    }

    /// `WriteLine(...)`: the text and a newline.
    fn write_line(&mut self, text: &str) {
        self.buf.push_str(text);
        self.buf.push('\n');
    }

    /// `Flush()`: aligns what was written so far on its own.
    fn flush(&mut self) {
        self.done.push_str(&DESCRIBE.format(&self.buf));
        self.buf.clear();
    }

    /// The aligned text, without running it through the tabwriter (`printTemplate` in
    /// history.go writes to a plain buffer).
    pub(crate) fn into_raw(self) -> String {
        self.done + &self.buf
    }

    /// The aligned text.
    pub(crate) fn finish(mut self) -> String {
        self.flush();
        self.done
    }
}

/// `printLabelsMultiline`: the first `k=v` after the title, the rest on continuation lines.
pub(crate) fn print_labels_multiline(
    w: &mut PrefixWriter,
    title: &str,
    labels: Option<&BTreeMap<String, String>>,
) {
    w.write(0, &format!("{title}:\t"));
    let Some(labels) = labels.filter(|l| !l.is_empty()) else {
        w.write_line("<none>");
        return;
    };
    for (i, (k, v)) in labels.iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        w.write(0, &format!("{k}={v}\n"));
    }
}

/// `printAnnotationsMultiline`: sorted, long or multi-line values on their own indented lines,
/// the last-applied-configuration annotation hidden.
pub(crate) fn print_annotations_multiline(
    w: &mut PrefixWriter,
    title: &str,
    annotations: Option<&BTreeMap<String, String>>,
) {
    w.write(0, &format!("{title}:\t"));
    let keys: Vec<(&String, &String)> = annotations
        .into_iter()
        .flatten()
        .filter(|(k, _)| !SKIP_ANNOTATIONS.contains(&k.as_str()))
        .collect();
    if keys.is_empty() {
        w.write_line("<none>");
        return;
    }
    for (i, (k, v)) in keys.into_iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        let value = v.strip_suffix('\n').unwrap_or(v);
        if value.len() + k.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.write(0, &format!("{k}:\n"));
            for line in value.split('\n') {
                w.write(
                    0,
                    &format!("\t  {}\n", shorten(line, MAX_ANNOTATION_LEN - 2)),
                );
            }
        } else {
            w.write(0, &format!("{k}: {value}\n"));
        }
    }
}

/// Go's `shorten`: cut at `max` bytes and add `...`.
fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// `printTolerationsMultiline`: `key=value:Effect op=Exists for 300s`, sorted by key.
fn print_tolerations_multiline(w: &mut PrefixWriter, title: &str, tolerations: &[Toleration]) {
    w.write(0, &format!("{title}:\t"));
    if tolerations.is_empty() {
        w.write_line("<none>");
        return;
    }
    let mut sorted: Vec<&Toleration> = tolerations.iter().collect();
    sorted.sort_by(|a, b| s(&a.key).cmp(s(&b.key)));
    for (i, t) in sorted.into_iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        let mut line = s(&t.key).to_string();
        if let Some(v) = t.value.as_deref().filter(|v| !v.is_empty()) {
            line.push_str(&format!("={v}"));
        }
        if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
            line.push_str(&format!(":{e}"));
        }
        if t.operator.as_deref() == Some("Exists") && s(&t.value).is_empty() {
            if !s(&t.key).is_empty() || !s(&t.effect).is_empty() {
                line.push_str(" op=Exists");
            } else {
                line.push_str("op=Exists");
            }
        }
        if let Some(secs) = t.toleration_seconds {
            line.push_str(&format!(" for {secs}s"));
        }
        w.write(0, &format!("{line}\n"));
    }
}

#[cfg(test)]
mod tests {
    //! The snapshot check the describers' tests share; layouts follow describe_test.go.

    pub(super) fn check(actual: String, expected: &str) {
        assert_eq!(
            actual, expected,
            "\n--- actual ---\n{actual}\n--- expected ---\n{expected}"
        );
    }
}
