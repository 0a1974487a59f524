//! `kubectl set image`.

use crate::error::ApiError;
use crate::kubectl::args::{Args, target};
use crate::kubectl::{Output, server_error};
use crate::sim::Sim;
use crate::store::Kind;

pub(in crate::kubectl) fn set_image(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    if args.positional.first().map(String::as_str) != Some("image") {
        return Output::err("error: kubesim supports `kubectl set image` only");
    }
    let rest = Args {
        positional: args.positional[1..].to_vec(),
        flags: Vec::new(),
        rest: Vec::new(),
    };
    let (kind, name) = match target(&rest) {
        Ok(t) => t,
        Err(o) => return o,
    };
    if kind != Kind::Deployment {
        return Output::err("error: kubesim sets images on deployments only");
    }
    let pairs: Vec<(String, String)> = rest
        .positional
        .iter()
        .skip(if rest.positional[0].contains('/') {
            1
        } else {
            2
        })
        .filter_map(|w| w.split_once('='))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    if pairs.is_empty() {
        return Output::err("error: at least one image update is required");
    }
    let (dry, suffix) = match super::patch::dry_run_words(args) {
        Ok(d) => d,
        Err(o) => return o,
    };
    match sim.set_image(ns, &name, &pairs, dry) {
        Ok(true) => Output::ok(format!("deployment.apps/{name} image updated{suffix}\n")),
        Ok(false) => Output::ok(String::new()),
        Err(ApiError::BadRequest(m)) => Output::err(format!("error: {m}")),
        Err(e) => Output::err(server_error(&e)),
    }
}
