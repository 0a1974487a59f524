//! `kubectl apply -f` and `kubectl replace -f`, and reading the files `-f` names.

use crate::api::decode::parse_manifests_each;
use crate::apiserver::kind_prefix;
use crate::error::ApiError;
use crate::kubectl::args::Args;
use crate::kubectl::{FileSource, Output};
use crate::sim::Sim;

/// Applies manifest text as `kubectl apply -f` does, one line per object.
pub fn apply_text(
    sim: &mut Sim,
    text: &str,
    source: &str,
    default_ns: &str,
    create_only: bool,
) -> Output {
    apply_text_with(sim, text, source, default_ns, create_only, None)
}

/// The words kubectl adds after what it did for `--dry-run=client|server`.
fn dry_suffix(dry: Option<&str>) -> &'static str {
    match dry {
        None => "",
        Some("server") => " (server dry run)",
        Some(_) => " (dry run)",
    }
}

/// [`apply_text`] with `--dry-run` (`client` or `server`: both send `dryRun=All` here, so
/// nothing is written and the server's validation answers).
pub(crate) fn apply_text_with(
    sim: &mut Sim,
    text: &str,
    source: &str,
    default_ns: &str,
    create_only: bool,
    dry: Option<&str>,
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
            sim.create_object_with(obj, dry.is_some())
                .map(|_| crate::Applied::Created)
        } else {
            sim.apply_object_with(m.object, default_ns, dry.is_some())
        };
        match result {
            Ok(a) => out.push(Output::ok(format!(
                "{}/{name} {}{}\n",
                kind_prefix(kind),
                a.as_str(),
                dry_suffix(dry)
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
    replace_text_with(sim, text, source, default_ns, None)
}

/// [`replace_text`] with `--dry-run`.
pub(crate) fn replace_text_with(
    sim: &mut Sim,
    text: &str,
    source: &str,
    default_ns: &str,
    dry: Option<&str>,
) -> Output {
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
        match sim.replace_object_with(obj, dry.is_some()) {
            Ok(()) => out.push(Output::ok(format!(
                "{}/{name} replaced{}\n",
                kind_prefix(kind),
                dry_suffix(dry)
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

pub(in crate::kubectl) fn read_files(
    args: &Args,
    files: &dyn FileSource,
) -> Result<Vec<(String, String)>, Output> {
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

pub(in crate::kubectl) fn apply(
    sim: &mut Sim,
    args: &Args,
    ns: &str,
    files: &dyn FileSource,
    create_only: bool,
) -> Output {
    let dry = match super::patch::dry_run(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let texts = match read_files(args, files) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let mut out = Output::default();
    for (path, text) in texts {
        out.push(apply_text_with(sim, &text, &path, ns, create_only, dry));
    }
    out
}
