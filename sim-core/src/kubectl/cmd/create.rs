//! kubectl's generators: `create deployment`, `create namespace`, `create service ...` and
//! `expose`, the objects kubectl builds from flags (as `pkg/cmd/create` and `pkg/cmd/expose`
//! build them), created as `kubectl create` creates (no last-applied annotation), or printed
//! with `--dry-run=client -o yaml`.

use serde_json::{Map, Value, json};

use super::apply::{apply, apply_text};
use crate::apiserver::resource_of;
use crate::kubectl::args::{Args, parse_kind};
use crate::kubectl::{FileSource, Output, unknown_kind};
use crate::sim::Sim;
use crate::store::Kind;

/// `kubectl create ...`: a generator, or `-f FILE` as `apply` reads it.
pub(in crate::kubectl) fn create(
    sim: &mut Sim,
    args: &Args,
    ns: &str,
    files: &dyn FileSource,
) -> Output {
    let what = args.positional.first().map(String::as_str);
    match what {
        Some("deployment" | "deploy") => deployment(sim, args, ns),
        Some("namespace" | "ns") => namespace(sim, args),
        Some("service" | "svc") => service(sim, args, ns),
        Some("configmap" | "cm") => super::create_config::configmap(sim, args, ns, files),
        Some("secret") => super::create_config::secret(sim, args, ns, files),
        Some("job") => super::create_batch::job(sim, args, ns),
        Some("cronjob" | "cj") => super::create_batch::cronjob(sim, args, ns),
        Some("quota" | "resourcequota") => super::create_quota::quota(sim, args, ns),
        Some(other) if !args.has(&["-f", "--filename"]) => Output::err(format!(
            "error: kubesim's kubectl creates from files (-f) or with these generators: deployment, namespace, service, configmap, secret generic, job, cronjob, quota (not {other:?})"
        )),
        _ => apply(sim, args, ns, files, true),
    }
}

/// The name after the generator's word, or kubectl's error.
fn name_of<'a>(args: &'a Args, what: &str) -> Result<&'a str, Output> {
    args.positional
        .get(1)
        .map(String::as_str)
        .ok_or_else(|| Output::err(format!("error: exactly one NAME is required, got 0\nSee 'kubectl create {what} -h' for help and examples")))
}

/// `kubectl create deployment NAME --image=IMAGE... [--replicas=N] [--port=P] [-- COMMAND
/// ARGS...]`: labels `app=NAME`, one container per image named after the image (its last
/// path part, without tag or digest), the port and the command on the first.
fn deployment(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let name = match name_of(args, "deployment") {
        Ok(n) => n,
        Err(o) => return o,
    };
    let images = args.all(&["--image"]);
    if images.is_empty() {
        return Output::err("error: required flag(s) \"image\" not set");
    }
    let replicas = match args.get(&["--replicas", "-r"]).map(str::parse::<i32>) {
        None => 1,
        Some(Ok(n)) if n >= 0 => n,
        Some(_) => return Output::err("error: --replicas must be a non-negative number"),
    };
    let mut names: Vec<String> = Vec::new();
    let mut containers: Vec<Value> = images
        .iter()
        .map(|image| {
            let base = image.rsplit('/').next().unwrap_or(image);
            let base = base
                .split(['@', ':'])
                .next()
                .unwrap_or(base)
                .replace('_', "-");
            // Two containers of one image: kubectl adds a random suffix; kubesim numbers them.
            let mut n = base.clone();
            let mut i = 1;
            while names.contains(&n) {
                i += 1;
                n = format!("{base}-{i}");
            }
            names.push(n.clone());
            json!({"image": image, "name": n, "resources": {}})
        })
        .collect();
    if let Some(port) = args.get(&["--port"]) {
        let Ok(port) = port.parse::<u16>() else {
            return Output::err(format!("error: invalid port {port:?}"));
        };
        containers[0]["ports"] = json!([{"containerPort": port}]);
    }
    if !args.rest.is_empty() {
        containers[0]["command"] = json!(args.rest);
    }
    let labels = json!({"app": name});
    let obj = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"labels": labels, "name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": containers},
            },
        },
        "status": {},
    });
    finish(sim, args, ns, &obj, "created")
}

/// `kubectl create namespace NAME`.
fn namespace(sim: &mut Sim, args: &Args) -> Output {
    let name = match name_of(args, "namespace") {
        Ok(n) => n,
        Err(o) => return o,
    };
    let obj = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name},
        "spec": {},
        "status": {},
    });
    finish(sim, args, "", &obj, "created")
}

/// `kubectl create service clusterip|nodeport|loadbalancer NAME --tcp=PORT[:TARGET],...
/// [--node-port=N] [--clusterip=None]`: labels and selector `app=NAME`, ports named
/// `PORT-TARGET`.
fn service(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let (ty, name) = match (
        args.positional.get(1).map(String::as_str),
        args.positional.get(2),
    ) {
        (Some("clusterip"), Some(n)) => ("ClusterIP", n),
        (Some("nodeport"), Some(n)) => ("NodePort", n),
        (Some("loadbalancer"), Some(n)) => ("LoadBalancer", n),
        (Some(t @ ("clusterip" | "nodeport" | "loadbalancer")), None) => {
            return Output::err(format!(
                "error: exactly one NAME is required, got 0\nSee 'kubectl create service {t} -h' for help and examples"
            ));
        }
        _ => {
            return Output::err(
                "error: kubesim creates services of type clusterip, nodeport or loadbalancer: kubectl create service TYPE NAME --tcp=PORT:TARGET",
            );
        }
    };
    let tcp = args.all(&["--tcp"]).join(",");
    let headless = args.get(&["--clusterip"]) == Some("None");
    if tcp.is_empty() && !headless {
        return Output::err("error: at least one tcp port specifier must be provided");
    }
    let node_port = match args.get(&["--node-port"]).map(str::parse::<i32>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Output::err("error: --node-port must be a number"),
    };
    let mut ports = Vec::new();
    for spec in tcp.split(',').filter(|s| !s.is_empty()) {
        let (port, target) = spec.split_once(':').unwrap_or((spec, spec));
        let Ok(port) = port.parse::<u16>() else {
            return Output::err(format!("error: invalid port {port:?} in {spec:?}"));
        };
        let target = target
            .parse::<u16>()
            .map_or_else(|_| json!(target), |t| json!(t));
        let mut p = json!({
            "name": spec.replace(':', "-"),
            "port": port,
            "protocol": "TCP",
            "targetPort": target,
        });
        if let (Some(n), "NodePort" | "LoadBalancer") = (node_port, ty) {
            p["nodePort"] = json!(n);
        }
        ports.push(p);
    }
    let labels = json!({"app": name});
    let mut spec = json!({"ports": ports, "selector": labels, "type": ty});
    if headless {
        spec["clusterIP"] = json!("None");
    }
    let obj = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"labels": labels, "name": name},
        "spec": spec,
        "status": {"loadBalancer": {}},
    });
    finish(sim, args, ns, &obj, "created")
}

/// `kubectl expose deployment|replicaset|pod|service NAME [--port=P] [--target-port=T]
/// [--type=T] [--name=N] [--protocol=TCP]`: a Service selecting what the object selects (a
/// pod: its labels), with the object's labels, on the given port or the container's.
pub(in crate::kubectl) fn expose(sim: &mut Sim, args: &Args, ns: &str) -> Output {
    let (kind_word, name) = match args.positional.first().and_then(|w| w.split_once('/')) {
        Some((k, n)) => (k.to_string(), n.to_string()),
        None => match (args.positional.first(), args.positional.get(1)) {
            (Some(k), Some(n)) => (k.clone(), n.clone()),
            _ => {
                return Output::err(
                    "error: You must provide the resource to expose: kubectl expose (-f FILENAME | TYPE NAME) [--port=port]",
                );
            }
        },
    };
    let Some(kind) = parse_kind(&kind_word) else {
        return unknown_kind(&kind_word);
    };
    if !matches!(
        kind,
        Kind::Deployment | Kind::ReplicaSet | Kind::Pod | Kind::Service
    ) {
        return Output::err(format!("error: cannot expose a {}", kind.as_str()));
    }
    let Some(obj) = sim.get_object(kind, ns, &name) else {
        let resource = resource_of(kind);
        return Output::err(format!(
            "Error from server (NotFound): {resource} \"{name}\" not found"
        ));
    };
    let v = obj.to_value();
    let selector = match kind {
        Kind::Pod => v.pointer("/metadata/labels").cloned(),
        Kind::Service => v.pointer("/spec/selector").cloned(),
        _ => {
            if v.pointer("/spec/selector/matchExpressions")
                .and_then(Value::as_array)
                .is_some_and(|e| !e.is_empty())
            {
                return Output::err(
                    "error: couldn't convert expressions - \"matchExpressions\" to map-based selector format",
                );
            }
            v.pointer("/spec/selector/matchLabels").cloned()
        }
    };
    let Some(selector) = selector.filter(|s| s.as_object().is_some_and(|m| !m.is_empty())) else {
        return Output::err(format!(
            "error: couldn't retrieve selectors via --selector flag or introspection: the {} has no labels to select",
            kind.as_str().to_ascii_lowercase()
        ));
    };
    let protocol = args.get(&["--protocol"]).unwrap_or("TCP");
    let target = args.get(&["--target-port"]);
    let target_value = |port: u16| match target {
        Some(t) => t.parse::<u16>().map_or_else(|_| json!(t), |t| json!(t)),
        None => json!(port),
    };
    let ports: Vec<Value> = match args.get(&["--port"]) {
        Some(p) => {
            let Ok(port) = p.parse::<u16>() else {
                return Output::err(format!("error: invalid port {p:?}"));
            };
            vec![json!({"port": port, "protocol": protocol, "targetPort": target_value(port)})]
        }
        None => {
            // The ports the object declares: its containers', or a Service's.
            let found: Vec<u16> = match kind {
                Kind::Service => v
                    .pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .filter_map(|p| p["port"].as_u64())
                            .collect::<Vec<u64>>()
                    })
                    .unwrap_or_default(),
                _ => {
                    let containers = if kind == Kind::Pod {
                        v.pointer("/spec/containers")
                    } else {
                        v.pointer("/spec/template/spec/containers")
                    };
                    containers
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
                        .filter_map(|p| p["containerPort"].as_u64())
                        .collect()
                }
            }
            .into_iter()
            .filter_map(|p| u16::try_from(p).ok())
            .collect();
            match found.as_slice() {
                [] => {
                    return Output::err(
                        "error: couldn't find port via --port flag or introspection",
                    );
                }
                [one] => {
                    vec![json!({"port": one, "protocol": protocol, "targetPort": target_value(*one)})]
                }
                many => many
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        json!({"name": format!("port-{}", i + 1), "port": p, "protocol": protocol, "targetPort": target_value(*p)})
                    })
                    .collect(),
            }
        }
    };
    let svc_name = args.get(&["--name"]).unwrap_or(&name).to_string();
    let mut spec = json!({"ports": ports, "selector": selector});
    if let Some(t) = args.get(&["--type"]) {
        let ty = match t.to_ascii_lowercase().as_str() {
            "clusterip" => "ClusterIP",
            "nodeport" => "NodePort",
            "loadbalancer" => "LoadBalancer",
            _ => {
                return Output::err(format!(
                    "error: Unsupported value: \"{t}\": supported values: \"ClusterIP\", \"NodePort\", \"LoadBalancer\""
                ));
            }
        };
        spec["type"] = json!(ty);
    }
    let mut meta = Map::new();
    if let Some(l) = v.pointer("/metadata/labels").filter(|l| !l.is_null()) {
        meta.insert("labels".into(), l.clone());
    }
    meta.insert("name".into(), json!(svc_name));
    let svc = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": spec,
        "status": {"loadBalancer": {}},
    });
    finish(sim, args, ns, &svc, "exposed")
}

/// Prints the object for `--dry-run=client [-o yaml|json]`, else creates it and says `word`
/// (`created`, `exposed`) as kubectl does.
pub(super) fn finish(sim: &mut Sim, args: &Args, ns: &str, obj: &Value, word: &str) -> Output {
    let kind = obj["kind"].as_str().unwrap_or("");
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    let prefix = crate::apiserver::kind_prefix(kind);
    if args.get(&["--dry-run"]).is_some_and(|d| d != "none") {
        return match args.get(&["-o", "--output"]) {
            Some("yaml") => Output::ok(crate::kubectl::print::to_yaml(obj)),
            Some("json") => Output::ok(format!(
                "{}\n",
                serde_json::to_string_pretty(obj).unwrap_or_default()
            )),
            _ => Output::ok(format!("{prefix}/{name} {word} (dry run)\n")),
        };
    }
    let mut out = apply_text(sim, &obj.to_string(), "STDIN", ns, true);
    if out.code == 0 && word != "created" {
        out.stdout = out.stdout.replace(" created\n", &format!(" {word}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{NoFiles, run};
    use crate::sim::{Sim, SimConfig};
    use crate::time::SimDuration;

    fn sim() -> Sim {
        let mut s = Sim::new(SimConfig::default());
        s.advance(SimDuration::from_secs(1));
        s
    }

    fn ok(s: &mut Sim, cmd: &str) -> String {
        let o = run(s, cmd, &NoFiles);
        assert_eq!(o.code, 0, "{cmd}: {}", o.stderr);
        o.stdout
    }

    #[test]
    fn create_deployment_builds_what_kubectl_builds() {
        let mut s = sim();
        let y = ok(
            &mut s,
            "create deployment web --image=registry.local/team/nginx:1.27 --replicas=3 --port=80 --dry-run=client -o yaml -- nginx -g daemon",
        );
        assert_eq!(
            y,
            "apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: web
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  strategy: {}
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - command:
        - nginx
        - -g
        - daemon
        image: registry.local/team/nginx:1.27
        name: nginx
        ports:
        - containerPort: 80
        resources: {}
status: {}
"
        );
        assert_eq!(
            ok(&mut s, "create deployment web --image=nginx"),
            "deployment.apps/web created\n"
        );
        let dep = s
            .get_object(crate::store::Kind::Deployment, "default", "web")
            .unwrap();
        let v = dep.to_value();
        assert_eq!(v["spec"]["replicas"], 1);
        assert!(
            v["metadata"]["annotations"]
                .get("kubectl.kubernetes.io/last-applied-configuration")
                .is_none()
        );
        let o = run(&mut s, "create deployment web --image=nginx", &NoFiles);
        assert!(o.stderr.contains("(AlreadyExists)"), "{}", o.stderr);
        let o = run(&mut s, "create deployment other", &NoFiles);
        assert_eq!(o.stderr.trim(), "error: required flag(s) \"image\" not set");
    }

    #[test]
    fn namespace_service_and_expose() {
        let mut s = sim();
        assert_eq!(
            ok(&mut s, "create namespace shop"),
            "namespace/shop created\n"
        );
        ok(
            &mut s,
            "create deployment web --image=nginx --port=8080 -n shop",
        );
        assert_eq!(
            ok(
                &mut s,
                "expose deployment web --port=80 --type=NodePort -n shop"
            ),
            "service/web exposed\n"
        );
        let svc = s
            .get_object(crate::store::Kind::Service, "shop", "web")
            .unwrap()
            .to_value();
        assert_eq!(svc["spec"]["selector"]["app"], "web");
        assert_eq!(svc["spec"]["type"], "NodePort");
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 80);
        // Without --port, the container's port.
        ok(&mut s, "expose deploy/web --name=web-internal -n shop");
        let svc = s
            .get_object(crate::store::Kind::Service, "shop", "web-internal")
            .unwrap()
            .to_value();
        assert_eq!(svc["spec"]["ports"][0]["port"], 8080);
        assert_eq!(
            ok(&mut s, "create service clusterip api --tcp=80:8000 -n shop"),
            "service/api created\n"
        );
        let svc = s
            .get_object(crate::store::Kind::Service, "shop", "api")
            .unwrap()
            .to_value();
        assert_eq!(svc["spec"]["ports"][0]["name"], "80-8000");
        assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8000);
        let o = run(&mut s, "expose deployment nope -n shop", &NoFiles);
        assert!(
            o.stderr.contains("deployments.apps \"nope\" not found"),
            "{}",
            o.stderr
        );
        let o = run(&mut s, "create service clusterip", &NoFiles);
        assert!(o.stderr.contains("exactly one NAME"), "{}", o.stderr);
    }
}
