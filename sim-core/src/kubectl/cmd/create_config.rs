//! `kubectl create configmap` and `kubectl create secret generic`: the object built from
//! `--from-literal`, `--from-file` and `--from-env-file` as kubectl's `create_configmap.go`,
//! `create_secret.go` and `util/env_file.go` build it (literals, then files, then env files;
//! each key checked with `IsConfigMapKey`, a repeated key refused), then created or printed
//! as the other generators are. Files come through the caller's [`FileSource`]; their text is
//! always valid UTF-8 there, so every file lands in `data` (kubectl puts other bytes in a
//! ConfigMap's `binaryData`).

use serde_json::{Map, Value, json};

use super::create::finish;
use crate::api::k8s_openapi::ByteString;
use crate::api::validation::{is_config_map_key, is_env_var_name};
use crate::apiserver::call::{ApiCall, Verb, WriteOptions};
use crate::error::ApiError;
use crate::kubectl::args::Args;
use crate::kubectl::{FileSource, Output};
use crate::sim::Sim;

/// Which object the sources fill: the key checks' messages differ.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    ConfigMap,
    Secret,
}

/// The keys and values gathered so far, in kubectl's order of checks.
struct Data<'a> {
    target: Target,
    name: &'a str,
    entries: Map<String, Value>,
}

impl Data<'_> {
    /// `addKeyFromLiteralToConfigMap` / `addKeyFromLiteralToSecret`.
    fn add(&mut self, key: &str, value: &str) -> Result<(), String> {
        let errs = is_config_map_key(key);
        match self.target {
            Target::ConfigMap => {
                if !errs.is_empty() {
                    return Err(format!(
                        "{key:?} is not a valid key name for a ConfigMap: {}",
                        errs.join(",")
                    ));
                }
                if self.entries.contains_key(key) {
                    return Err(format!(
                        "cannot add key {key:?}, another key by that name already exists in Data for ConfigMap {:?}",
                        self.name
                    ));
                }
                self.entries.insert(key.into(), json!(value));
            }
            Target::Secret => {
                if !errs.is_empty() {
                    return Err(format!(
                        "{key:?} is not valid key name for a Secret {}",
                        errs.join(";")
                    ));
                }
                if self.entries.contains_key(key) {
                    return Err(format!(
                        "cannot add key {key}, another key by that name already exists"
                    ));
                }
                let bytes = ByteString(value.as_bytes().to_vec());
                self.entries.insert(
                    key.into(),
                    serde_json::to_value(bytes).unwrap_or(Value::Null),
                );
            }
        }
        Ok(())
    }
}

/// `kubectl create configmap NAME [--from-literal=K=V] [--from-file=[K=]PATH]
/// [--from-env-file=PATH]`.
pub(in crate::kubectl) fn configmap(
    sim: &mut Sim,
    args: &Args,
    ns: &str,
    files: &dyn FileSource,
) -> Output {
    let Some(name) = args.positional.get(1) else {
        return no_name("configmap");
    };
    let entries = match gather(Target::ConfigMap, name, args, files) {
        Ok(e) => e,
        Err(o) => return o,
    };
    let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    if !entries.is_empty() {
        obj["data"] = Value::Object(entries);
    }
    create(sim, args, ns, obj, "configmaps", "configmap:")
}

/// `kubectl create secret generic NAME [--type=T] [--from-literal=K=V]
/// [--from-file=[K=]PATH] [--from-env-file=PATH]`.
pub(in crate::kubectl) fn secret(
    sim: &mut Sim,
    args: &Args,
    ns: &str,
    files: &dyn FileSource,
) -> Output {
    match args.positional.get(1).map(String::as_str) {
        Some("generic") => {}
        Some(other @ ("tls" | "docker-registry")) => {
            return Output::err(format!(
                "error: kubesim's kubectl creates secrets with `create secret generic` (not {other:?}); write a manifest with its type for the others"
            ));
        }
        _ => {
            return Output::err(
                "error: Create a secret with specified type: kubesim's kubectl knows `kubectl create secret generic NAME`",
            );
        }
    }
    let Some(name) = args.positional.get(2) else {
        return no_name("secret generic");
    };
    let entries = match gather(Target::Secret, name, args, files) {
        Ok(e) => e,
        Err(o) => return o,
    };
    let mut obj = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}});
    if !entries.is_empty() {
        obj["data"] = Value::Object(entries);
    }
    if let Some(t) = args.get(&["--type"]).filter(|t| !t.is_empty()) {
        obj["type"] = json!(t);
    }
    create(sim, args, ns, obj, "secrets", "secret")
}

/// Sends the object as kubectl's generators do (a POST with `fieldManager=kubectl-create`,
/// `dryRun=All` for `--dry-run=server`), or prints it for `--dry-run=client`; a refusal reads
/// `error: failed to create WHAT <Status message>` (`configmap:` has kubectl's colon).
fn create(sim: &mut Sim, args: &Args, ns: &str, obj: Value, plural: &str, what: &str) -> Output {
    let dry = args.get(&["--dry-run"]).unwrap_or("none");
    if dry == "client" {
        return finish(sim, args, ns, &obj, "created");
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    let call = ApiCall {
        verb: Verb::Create,
        resource: plural.into(),
        group: String::new(),
        namespace: Some(ns.to_string()),
        name: None,
        subresource: None,
        patch_type: None,
        body: obj,
        options: WriteOptions {
            dry_run: dry == "server",
            field_manager: Some("kubectl-create".into()),
            ..WriteOptions::default()
        },
    };
    match sim.api(&call) {
        Ok(created) => {
            let kind = created["kind"].as_str().unwrap_or("");
            let suffix = if dry == "server" {
                " (server dry run)"
            } else {
                ""
            };
            match args.get(&["-o", "--output"]) {
                Some("name") | None => Output::ok(format!(
                    "{}/{name} created{suffix}\n",
                    crate::apiserver::kind_prefix(kind)
                )),
                Some(_) => finish(sim, args, ns, &created, "created"),
            }
        }
        Err(e) => {
            let message = match &e {
                ApiError::Invalid(i) => i.status_message(),
                other => other.to_string(),
            };
            Output::err(format!("error: failed to create {what} {message}"))
        }
    }
}

fn no_name(what: &str) -> Output {
    Output::err(format!(
        "error: exactly one NAME is required, got 0\nSee 'kubectl create {what} -h' for help and examples"
    ))
}

/// The data of the object: literals, then files, then env files, as kubectl adds them.
fn gather(
    target: Target,
    name: &str,
    args: &Args,
    files: &dyn FileSource,
) -> Result<Map<String, Value>, Output> {
    let literals = args.all(&["--from-literal"]);
    let file_sources = args.all(&["--from-file"]);
    let env_files = args.all(&["--from-env-file"]);
    if !env_files.is_empty() && (!file_sources.is_empty() || !literals.is_empty()) {
        return Err(Output::err(
            "error: from-env-file cannot be combined with from-file or from-literal",
        ));
    }
    let mut data = Data {
        target,
        name,
        entries: Map::new(),
    };
    let fail = |e: String| Output::err(format!("error: {e}"));
    for lit in literals {
        let (k, v) = parse_literal(lit).map_err(fail)?;
        data.add(k, v).map_err(fail)?;
    }
    for src in file_sources {
        let (key, path) = parse_file_source(src).map_err(fail)?;
        let text = files
            .read(path)
            .map_err(|e| fail(format!("error reading {path}: {e}")))?;
        data.add(&key, &text).map_err(fail)?;
    }
    for path in env_files {
        let text = files
            .read(path)
            .map_err(|e| fail(format!("error reading {path}: {e}")))?;
        for (k, v) in parse_env_file(&text).map_err(fail)? {
            data.add(&k, &v).map_err(fail)?;
        }
    }
    Ok(data.entries)
}

/// `ParseLiteralSource`: `KEY=VALUE`, split at the first `=`, quotes trimmed from the value.
fn parse_literal(source: &str) -> Result<(&str, &str), String> {
    match source.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k, v.trim_matches(['"', '\'']))),
        _ => Err(format!(
            "invalid literal source {source}, expected key=value"
        )),
    }
}

/// `ParseFileSource`: `[KEY=]PATH`, the key defaulting to the file's name.
fn parse_file_source(source: &str) -> Result<(String, &str), String> {
    match source.split_once('=') {
        None => Ok((
            source.rsplit('/').next().unwrap_or(source).to_string(),
            source,
        )),
        Some(("", path)) => Err(format!("key name for file path {path} missing")),
        Some((key, "")) => Err(format!("file path for key name {key} missing")),
        Some((key, path)) => Ok((key.to_string(), path)),
    }
}

/// `AddFromEnvFile`: `KEY=VALUE` lines; blank lines and `#` comments skipped, leading
/// whitespace trimmed, a key checked with `IsEnvVarName`; a line without `=` takes the
/// value from kubectl's environment, which a simulated kubectl does not have (empty).
fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let line = line.trim_end_matches('\r').trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let errs = is_env_var_name(key);
        if !errs.is_empty() {
            return Err(format!(
                "{key:?} is not a valid key name: {}",
                errs.join(";")
            ));
        }
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{FileSource, run};
    use crate::sim::{Sim, SimConfig};
    use crate::time::SimDuration;

    struct Files;
    impl FileSource for Files {
        fn read(&self, path: &str) -> Result<String, String> {
            match path {
                "conf/app.properties" => Ok("color=blue\nsize=3\n".into()),
                "app.env" => Ok("\u{feff}A=1\n# comment\n\n  B=two=2\nEMPTY\n".into()),
                "bad.env" => Ok("1X=2\n".into()),
                _ => Err("no such file or directory".into()),
            }
        }
    }

    fn sim() -> Sim {
        let mut s = Sim::new(SimConfig::default());
        s.advance(SimDuration::from_secs(1));
        s
    }

    fn out(s: &mut Sim, cmd: &str) -> (i32, String) {
        let o = run(s, cmd, &Files);
        (o.code, format!("{}{}", o.stdout, o.stderr))
    }

    #[test]
    fn create_configmap_builds_what_kubectl_builds() {
        let mut s = sim();
        // As the real kubectl 1.37.1 prints it (`--dry-run=client -o yaml`).
        assert_eq!(
            out(
                &mut s,
                "create configmap x --from-literal=b=2 --from-literal=a=1 --from-file=conf/app.properties --from-file=k=conf/app.properties --dry-run=client -o yaml"
            )
            .1,
            "apiVersion: v1\ndata:\n  a: \"1\"\n  app.properties: |\n    color=blue\n    size=3\n  b: \"2\"\n  k: |\n    color=blue\n    size=3\nkind: ConfigMap\nmetadata:\n  name: x\n"
        );
        assert_eq!(
            out(
                &mut s,
                "create configmap app --from-env-file=app.env -n default"
            ),
            (0, "configmap/app created\n".into())
        );
        let cm = s
            .get_object(crate::store::Kind::ConfigMap, "default", "app")
            .expect("created");
        assert_eq!(
            cm.to_value()["data"],
            serde_json::json!({"A": "1", "B": "two=2", "EMPTY": ""})
        );
    }

    #[test]
    fn create_secret_generic_encodes_and_types() {
        let mut s = sim();
        assert_eq!(
            out(
                &mut s,
                "create secret generic db --from-literal=password='s3cr3t' --from-literal=user=admin -n default"
            ),
            (0, "secret/db created\n".into())
        );
        let v = s
            .get_object(crate::store::Kind::Secret, "default", "db")
            .expect("created")
            .to_value();
        assert_eq!(
            v["data"],
            serde_json::json!({"password": "czNjcjN0", "user": "YWRtaW4="})
        );
        assert_eq!(v["type"], "Opaque");
        // The API server's own check of the type's keys.
        assert_eq!(
            out(
                &mut s,
                "create secret generic t --type=kubernetes.io/tls --from-literal=tls.crt=x -n default"
            ),
            (
                1,
                "error: failed to create secret Secret \"t\" is invalid: data[tls.key]: Required value\n".into()
            )
        );
        assert_eq!(out(&mut s, "create configmap x -n default").0, 0);
        assert_eq!(
            out(&mut s, "create configmap x -n default"),
            (
                1,
                "error: failed to create configmap: configmaps \"x\" already exists\n".into()
            )
        );
    }

    #[test]
    fn bad_sources_fail_as_kubectl_says() {
        let mut s = sim();
        let cases = [
            (
                "create configmap y --from-literal=a=1 --from-literal=a=2",
                "error: cannot add key \"a\", another key by that name already exists in Data for ConfigMap \"y\"\n",
            ),
            (
                "create configmap y --from-literal=novalue",
                "error: invalid literal source novalue, expected key=value\n",
            ),
            (
                "create configmap y --from-literal==1",
                "error: invalid literal source =1, expected key=value\n",
            ),
            (
                "create secret generic s --from-literal=a=1 --from-literal=a=2",
                "error: cannot add key a, another key by that name already exists\n",
            ),
            (
                "create secret generic s --from-file==f.txt",
                "error: key name for file path f.txt missing\n",
            ),
            (
                "create secret generic s --from-file=k=",
                "error: file path for key name k missing\n",
            ),
            (
                "create configmap y --from-env-file=app.env --from-literal=a=1",
                "error: from-env-file cannot be combined with from-file or from-literal\n",
            ),
            (
                "create secret generic s --from-env-file=bad.env",
                "error: \"1X\" is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')\n",
            ),
            (
                "create configmap",
                "error: exactly one NAME is required, got 0\nSee 'kubectl create configmap -h' for help and examples\n",
            ),
            (
                "create secret generic",
                "error: exactly one NAME is required, got 0\nSee 'kubectl create secret generic -h' for help and examples\n",
            ),
        ];
        for (cmd, want) in cases {
            assert_eq!(out(&mut s, cmd), (1, want.to_string()), "{cmd}");
        }
    }
}
