//! ConfigMap and Secret volumes: what the kubelet writes into a pod's volumes (the
//! `configmap` and `secret` volume plugins' payload: every key, or `items` key → path), when
//! it mounts them (before any container of the pod starts: a missing object that is not
//! `optional` keeps the pod in ContainerCreating with `FailedMount` events, retried with the
//! volume manager's back-off), and how they follow updates.
//!
//! **Update delay.** The kubelet re-projects a pod's ConfigMap and Secret volumes at each
//! periodic sync of the pod (`syncFrequency`, 1 minute by default); its ConfigMap and Secret
//! managers watch the API (`configMapAndSecretChangeDetectionStrategy: Watch`), so their cache
//! adds no delay. kubesim syncs each pod's volumes every [`SYNC_PERIOD`] from the moment they
//! were mounted, without the real sync's jitter: an update is in the files 0–60 s after it was
//! written. The environment, read once when a container starts, does not change.
//!
//! Projected volumes (`projected.go`) gather ConfigMap, Secret, downward API and service
//! account token sources into one volume, mounted and synced like the others. The
//! `ServiceAccount` admission's own volume (`kube-api-access-…`, `api/admission.rs`) is not
//! held per pod: its files (the token, the `kube-root-ca.crt` bundle that the root CA
//! publisher keeps in every namespace, the namespace) are derived when read, so a pod that
//! has no other volume costs no mount state and no sync timer.
//!
//! [`files`] is the pure read of a container's view: every file under each of its
//! `volumeMounts` (with `subPath`), for the worker ABI's read-only file system and a shell.
//! File modes (`defaultMode`, `items[].mode`) are not modelled.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{KeyToPath, PodSpec, Volume, VolumeMount};

use crate::api::admission::{
    ROOT_CA_CONFIGMAP, TOKEN_VOLUME_PREFIX, has_token_mount, token_mount, token_volume_mount,
};
use crate::sim::{Sim, Timer};
use crate::store::{ObjId, PodState};
use crate::time::SimDuration;

/// How often the kubelet syncs a running pod and so re-projects its volumes (`syncFrequency`).
pub const SYNC_PERIOD: SimDuration = SimDuration(60_000);
/// First retry of a failed mount (`nestedpendingoperations`' initial back-off).
const MOUNT_BACKOFF_INITIAL_MS: u64 = 500;
/// Longest wait between mount retries (2 min 2 s).
const MOUNT_BACKOFF_MAX_MS: u64 = 122_000;

/// The files of one volume: path inside the volume → contents.
pub type VolumeFiles = Arc<BTreeMap<String, Vec<u8>>>;

/// A pod's ConfigMap and Secret volumes as the kubelet holds them.
#[derive(Clone, Debug, Default)]
pub struct PodVolumes {
    /// Volume name → its files; `None` until every volume could be mounted.
    mounted: Option<BTreeMap<String, VolumeFiles>>,
    /// Failed mount attempts in a row.
    failures: u32,
    /// The environment each container that reads a ConfigMap or Secret started with.
    pub(crate) env: BTreeMap<usize, Arc<[(String, String)]>>,
}

/// Whether `v` is the `ServiceAccount` admission's token volume, whose files are derived.
fn is_token_volume(v: &Volume) -> bool {
    v.projected.is_some() && v.name.starts_with(TOKEN_VOLUME_PREFIX)
}

/// The pod's volumes that come from a ConfigMap, a Secret or several sources (projected).
fn config_volumes(spec: Option<&PodSpec>) -> Vec<&Volume> {
    spec.and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter(|v| {
            v.config_map.is_some()
                || v.secret.is_some()
                || (v.projected.is_some() && !is_token_volume(v))
        })
        .collect()
}

/// base64url without padding, as a JWT's segments are written.
fn base64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The pod's service account token: shaped like the API server's bound token (a JWT with
/// its claims), but its signature is a fixed text; the same for the same pod every time.
fn token(sim: &Sim, p: &PodState) -> Vec<u8> {
    let sa = p
        .template
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.as_deref())
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    let header = serde_json::json!({"alg": "RS256", "kid": "kubesim"});
    let claims = serde_json::json!({
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "iss": "https://kubernetes.default.svc.cluster.local",
        "kubernetes.io": {
            "namespace": &*p.namespace,
            "pod": {"name": &*p.name, "uid": sim.store.uid(p.id)},
            "serviceaccount": {"name": sa},
        },
        "sub": format!("system:serviceaccount:{}:{sa}", p.namespace),
    });
    format!(
        "{}.{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes()),
        base64url(b"kubesim fake signature: not signed by any key")
    )
    .into_bytes()
}

/// A downward API field of the pod (`metadata.name`, `namespace`, `uid`, `labels`,
/// `annotations`, as `fieldpath.ExtractFieldPathAsString` formats them); empty otherwise.
fn pod_field(sim: &Sim, p: &PodState, path: &str) -> String {
    let meta = p.template.metadata.as_ref();
    let map = |m: Option<&BTreeMap<String, String>>| {
        m.into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match path {
        "metadata.name" => p.name.to_string(),
        "metadata.namespace" => p.namespace.to_string(),
        "metadata.uid" => sim.store.uid(p.id),
        "metadata.labels" => map(meta.and_then(|m| m.labels.as_ref())),
        "metadata.annotations" => map(meta.and_then(|m| m.annotations.as_ref())),
        _ => String::new(),
    }
}

/// The files of the admission's token volume: `token`, `ca.crt` (the namespace's
/// `kube-root-ca.crt`) and `namespace`.
fn token_files(sim: &Sim, p: &PodState) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    out.insert("token".to_string(), token(sim, p));
    if let Some(ca) = sim
        .store
        .configmaps
        .lookup(&p.namespace, ROOT_CA_CONFIGMAP)
        .and_then(|id| sim.store.configmaps.get(id))
        .and_then(|(_, cm)| cm.data.as_ref()?.get("ca.crt").cloned())
    {
        out.insert("ca.crt".to_string(), ca.into_bytes());
    }
    out.insert("namespace".to_string(), p.namespace.as_bytes().to_vec());
    out
}

/// `items` (key → path) or every key, as the plugins' `MakePayload` lays them out.
fn payload(
    entries: &BTreeMap<String, Vec<u8>>,
    items: Option<&Vec<KeyToPath>>,
    optional: bool,
    missing: &str,
) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let Some(items) = items.filter(|i| !i.is_empty()) else {
        return Ok(entries.clone());
    };
    let mut out = BTreeMap::new();
    for item in items {
        match entries.get(&item.key) {
            Some(v) => {
                out.insert(item.path.clone(), v.clone());
            }
            None if optional => {}
            None => return Err(format!("{missing}{}", item.key)),
        }
    }
    Ok(out)
}

/// The files volume `v` of pod `p` holds now, or why it cannot be set up.
fn project(sim: &Sim, p: &PodState, v: &Volume) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let ns: &str = &p.namespace;
    if let Some(src) = &v.projected {
        // `projected.go` `collectData`: each source's files in one volume.
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for source in src.sources.iter().flatten() {
            let one = if let Some(c) = &source.config_map {
                project(
                    sim,
                    p,
                    &Volume {
                        config_map: Some(k8s_openapi::api::core::v1::ConfigMapVolumeSource {
                            name: c.name.clone(),
                            items: c.items.clone(),
                            optional: c.optional,
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                )
            } else if let Some(sec) = &source.secret {
                project(
                    sim,
                    p,
                    &Volume {
                        secret: Some(k8s_openapi::api::core::v1::SecretVolumeSource {
                            secret_name: Some(sec.name.clone()),
                            items: sec.items.clone(),
                            optional: sec.optional,
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                )
            } else if let Some(d) = &source.downward_api {
                Ok(d.items
                    .iter()
                    .flatten()
                    .map(|item| {
                        let value = item
                            .field_ref
                            .as_ref()
                            .map(|f| pod_field(sim, p, &f.field_path))
                            .unwrap_or_default();
                        (item.path.clone(), value.into_bytes())
                    })
                    .collect())
            } else if let Some(t) = &source.service_account_token {
                Ok(BTreeMap::from([(t.path.clone(), token(sim, p))]))
            } else {
                Ok(BTreeMap::new())
            };
            match one {
                Ok(files) => out.extend(files),
                Err(e) => errors.push(e),
            }
        }
        return if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors.join(", "))
        };
    }
    if let Some(src) = &v.config_map {
        let name = src.name.as_str();
        let optional = src.optional == Some(true);
        let cm = sim
            .store
            .configmaps
            .lookup(ns, name)
            .and_then(|id| sim.store.configmaps.get(id));
        let Some((_, cm)) = cm else {
            return if optional {
                Ok(BTreeMap::new())
            } else {
                Err(format!("configmap {name:?} not found"))
            };
        };
        let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (k, val) in cm.data.iter().flatten() {
            entries.insert(k.clone(), val.clone().into_bytes());
        }
        for (k, val) in cm.binary_data.iter().flatten() {
            entries.insert(k.clone(), val.0.clone());
        }
        return payload(
            &entries,
            src.items.as_ref(),
            optional,
            "configmap references non-existent config key: ",
        );
    }
    if let Some(src) = &v.secret {
        let name = src.secret_name.as_deref().unwrap_or("");
        let optional = src.optional == Some(true);
        let s = sim
            .store
            .secrets
            .lookup(ns, name)
            .and_then(|id| sim.store.secrets.get(id));
        let Some((_, s)) = s else {
            return if optional {
                Ok(BTreeMap::new())
            } else {
                Err(format!("secret {name:?} not found"))
            };
        };
        let entries: BTreeMap<String, Vec<u8>> = s
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        return payload(
            &entries,
            src.items.as_ref(),
            optional,
            "references non-existent secret key: ",
        );
    }
    Ok(BTreeMap::new())
}

impl Sim {
    /// Mounts the pod's ConfigMap and Secret volumes when the kubelet admits it; whether its
    /// containers may start now (else a retry mounts them and starts the containers).
    pub(crate) fn mount_volumes(&mut self, pod: ObjId) -> bool {
        let Some(p) = self.store.pods.get(pod) else {
            return true;
        };
        if config_volumes(p.template.spec.as_ref()).is_empty() {
            return true;
        }
        self.volumes.insert(pod, PodVolumes::default());
        self.try_mount(pod)
    }

    /// One mount attempt: every volume set up, the periodic sync planned; or a `FailedMount`
    /// event per volume that failed and a retry after the back-off.
    fn try_mount(&mut self, pod: ObjId) -> bool {
        let Some(p) = self.store.pods.get(pod) else {
            return false;
        };
        let mut mounted = BTreeMap::new();
        let mut failed = Vec::new();
        for v in config_volumes(p.template.spec.as_ref()) {
            match project(self, p, v) {
                Ok(files) => {
                    mounted.insert(v.name.clone(), Arc::new(files));
                }
                Err(why) => failed.push((v.name.clone(), why)),
            }
        }
        let now = self.store.now;
        if failed.is_empty() {
            if let Some(e) = self.volumes.get_mut(&pod) {
                e.mounted = Some(mounted);
                e.failures = 0;
            }
            self.at(now + SYNC_PERIOD, Timer::VolumeSync { pod });
            return true;
        }
        for (name, why) in failed {
            self.kubelet_event(
                pod,
                true,
                "FailedMount",
                format!("MountVolume.SetUp failed for volume {name:?} : {why}"),
            );
        }
        let failures = self.volumes.get_mut(&pod).map_or(1, |e| {
            e.failures += 1;
            e.failures
        });
        let wait = (MOUNT_BACKOFF_INITIAL_MS << (failures - 1).min(10)).min(MOUNT_BACKOFF_MAX_MS);
        self.at(now + SimDuration(wait), Timer::VolumeSync { pod });
        false
    }

    /// The kubelet's sync of a pod's volumes: retry a failed mount (and start the containers
    /// once it succeeds), or re-project mounted volumes so the files follow their ConfigMaps
    /// and Secrets. A volume whose object is gone keeps its last files.
    pub(crate) fn volume_sync(&mut self, pod: ObjId) {
        let live = self
            .store
            .pods
            .get(pod)
            .is_some_and(|p| p.deletion.is_none() && p.node.is_some());
        if !live || !self.volumes.contains_key(&pod) {
            self.volumes.remove(&pod);
            return;
        }
        let mounted = self.volumes.get(&pod).is_some_and(|e| e.mounted.is_some());
        if !mounted {
            let node = self.store.pods.get(pod).and_then(|p| p.node);
            if !self.node_kubelet_up(node) {
                self.at(self.store.now + SYNC_PERIOD, Timer::VolumeSync { pod });
                return;
            }
            if self.try_mount(pod) {
                let n = self.store.pods.get(pod).map_or(0, |p| p.containers.len());
                for ci in 0..n {
                    self.begin_pull(pod, ci);
                }
            }
            return;
        }
        let Some(p) = self.store.pods.get(pod) else {
            return;
        };
        let fresh: Vec<(String, BTreeMap<String, Vec<u8>>)> =
            config_volumes(p.template.spec.as_ref())
                .into_iter()
                .filter_map(|v| project(self, p, v).ok().map(|f| (v.name.clone(), f)))
                .collect();
        if let Some(m) = self.volumes.get_mut(&pod).and_then(|e| e.mounted.as_mut()) {
            for (name, files) in fresh {
                if m.get(&name).is_none_or(|old| **old != files) {
                    m.insert(name, Arc::new(files));
                }
            }
        }
        self.at(self.store.now + SYNC_PERIOD, Timer::VolumeSync { pod });
    }
}

/// Every file container `ci` of `pod` sees under its `volumeMounts` of ConfigMap, Secret and
/// projected volumes, by absolute path (`/etc/config/color` → `blue`), as the kubelet last
/// synced them (none before they are mounted), and of the service account token volume
/// (`/var/run/secrets/kubernetes.io/serviceaccount/namespace`); empty for no such pod or
/// container. A `subPath` mount shows that one file (or directory) of the volume at
/// `mountPath`.
pub fn files(sim: &Sim, pod: ObjId, ci: usize) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Some(p) = sim.store.pods.get(pod) else {
        return out;
    };
    let Some(spec) = p.template.spec.as_ref() else {
        return out;
    };
    let Some(c) = spec.containers.get(ci) else {
        return out;
    };
    let mounted = sim.volumes.get(&pod).and_then(|e| e.mounted.as_ref());
    // The admission's token volume: in the spec of a pod written through the API, added when
    // `Store::pod_object` builds a pod a controller made from its template.
    let plan = token_mount(spec, &p.name);
    let token_volume = plan.as_ref().map(|t| t.volume.clone()).or_else(|| {
        spec.volumes
            .iter()
            .flatten()
            .find(|v| is_token_volume(v))
            .map(|v| v.name.clone())
    });
    let mut mounts: Vec<VolumeMount> = c.volume_mounts.clone().unwrap_or_default();
    if let Some(t) = &plan
        && !has_token_mount(c)
    {
        mounts.push(token_volume_mount(&t.volume));
    }
    let mut token: Option<Arc<BTreeMap<String, Vec<u8>>>> = None;
    for m in &mounts {
        let vol = if token_volume.as_deref() == Some(m.name.as_str()) {
            token
                .get_or_insert_with(|| Arc::new(token_files(sim, p)))
                .clone()
        } else {
            match mounted.and_then(|v| v.get(&m.name)) {
                Some(v) => v.clone(),
                None => continue,
            }
        };
        let root = m.mount_path.trim_end_matches('/');
        let sub = m.sub_path.as_deref().unwrap_or("").trim_matches('/');
        for (path, bytes) in vol.iter() {
            let rel = if sub.is_empty() {
                Some(path.as_str())
            } else if path == sub {
                Some("")
            } else {
                path.strip_prefix(sub).and_then(|r| r.strip_prefix('/'))
            };
            let Some(rel) = rel else { continue };
            let full = if rel.is_empty() {
                root.to_string()
            } else {
                format!("{root}/{rel}")
            };
            out.insert(full, bytes.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::kubectl::{NoFiles, run};
    use crate::sim::{Sim, SimConfig};
    use crate::time::SimDuration;

    const POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default}
spec:
  containers:
  - name: app
    image: nginx:1.27
    env:
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: settings, key: color}}
    volumeMounts:
    - {name: config, mountPath: /etc/config}
    - {name: creds, mountPath: /etc/creds/, readOnly: true}
    - {name: config, mountPath: /etc/app.color, subPath: color}
  volumes:
  - name: config
    configMap: {name: settings}
  - name: creds
    secret:
      secretName: db
      items: [{key: password, path: db/pw}]
      defaultMode: 0400
";

    fn sh(sim: &mut Sim, cmd: &str) -> String {
        let o = run(sim, cmd, &NoFiles);
        assert_eq!(o.code, 0, "{cmd}: {}", o.stderr);
        o.stdout
    }

    fn status(sim: &mut Sim) -> String {
        sh(sim, "get pod app --no-headers")
            .split_whitespace()
            .nth(2)
            .unwrap_or("")
            .to_string()
    }

    fn text(files: &std::collections::BTreeMap<String, Vec<u8>>, path: &str) -> String {
        String::from_utf8_lossy(files.get(path).map_or(&[][..], |v| v)).into_owned()
    }

    #[test]
    fn volumes_mount_before_the_containers_start_and_follow_updates_unlike_env() {
        let mut sim = Sim::new(SimConfig::default());
        let o = crate::kubectl::apply_text(&mut sim, POD, "STDIN", "default", false);
        assert_eq!(o.code, 0, "{}", o.stderr);
        sim.advance(SimDuration::from_secs(20));
        assert_eq!(status(&mut sim), "ContainerCreating");
        let describe = sh(&mut sim, "describe pod app");
        assert!(
            describe.contains(
                "MountVolume.SetUp failed for volume \"config\" : configmap \"settings\" not found"
            ),
            "{describe}"
        );
        assert!(
            describe.contains(
                "MountVolume.SetUp failed for volume \"creds\" : secret \"db\" not found"
            ),
            "{describe}"
        );
        sh(
            &mut sim,
            "create configmap settings --from-literal=color=blue",
        );
        sh(
            &mut sim,
            "create secret generic db --from-literal=password=s3cr3t",
        );
        // The next retry (back-off 16 s after five failures) mounts them; then the pull.
        sim.advance(SimDuration::from_secs(30));
        assert_eq!(status(&mut sim), "Running");
        let id = sim.store.pods.lookup("default", "app").expect("pod");
        let files = super::files(&sim, id, 0);
        assert_eq!(
            files.keys().cloned().collect::<Vec<_>>(),
            vec![
                "/etc/app.color",
                "/etc/config/color",
                "/etc/creds/db/pw",
                "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
                "/var/run/secrets/kubernetes.io/serviceaccount/token",
            ]
        );
        assert_eq!(text(&files, "/etc/config/color"), "blue");
        assert_eq!(text(&files, "/etc/creds/db/pw"), "s3cr3t");

        // An update reaches the files at the next sync (within a minute), not the env.
        let o = crate::kubectl::apply_text(
            &mut sim,
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {color: green}}",
            "STDIN",
            "default",
            false,
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(
            text(&super::files(&sim, id, 0), "/etc/config/color"),
            "blue"
        );
        sim.advance(SimDuration::from_secs(61));
        assert_eq!(
            text(&super::files(&sim, id, 0), "/etc/config/color"),
            "green"
        );
        let env = crate::kubelet::config::env(&sim, id, 0).expect("env");
        assert!(
            env.contains(&("COLOR".to_string(), "blue".to_string())),
            "{env:?}"
        );

        // What `kubectl exec` shows: the file as synced, the variable as it was at the start.
        let out = sh(
            &mut sim,
            "exec app -- sh -c 'cat /etc/config/color; echo; printenv COLOR; ls /etc/creds/db; cat /etc/app.color'",
        );
        assert_eq!(out, "green\nblue\npw\ngreen");
        let o = run(
            &mut sim,
            "exec app -- sh -c 'echo x > /etc/config/color'",
            &NoFiles,
        );
        assert!(o.stderr.contains("Read-only file system"), "{}", o.stderr);
    }

    #[test]
    fn a_missing_item_key_fails_the_mount_with_the_plugins_message() {
        let mut sim = Sim::new(SimConfig::default());
        sh(
            &mut sim,
            "create configmap settings --from-literal=color=blue",
        );
        sh(&mut sim, "create secret generic db --from-literal=user=x");
        let o = crate::kubectl::apply_text(&mut sim, POD, "STDIN", "default", false);
        assert_eq!(o.code, 0, "{}", o.stderr);
        sim.advance(SimDuration::from_secs(5));
        let describe = sh(&mut sim, "describe pod app");
        assert!(
            describe.contains(
                "MountVolume.SetUp failed for volume \"creds\" : references non-existent secret key: password"
            ),
            "{describe}"
        );
    }

    const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        volumeMounts:
        - {name: info, mountPath: /etc/info}
      volumes:
      - name: info
        projected:
          sources:
          - downwardAPI:
              items: [{path: name, fieldRef: {fieldPath: metadata.name}}]
          - configMap: {name: settings}
";

    #[test]
    fn controller_pods_mount_the_token_and_projected_volumes() {
        let mut sim = Sim::new(SimConfig::default());
        sh(
            &mut sim,
            "create configmap settings --from-literal=color=blue",
        );
        let o = crate::kubectl::apply_text(&mut sim, DEPLOY, "STDIN", "default", false);
        assert_eq!(o.code, 0, "{}", o.stderr);
        sim.advance(SimDuration::from_secs(30));
        let pods: Vec<String> = sh(&mut sim, "get pods -o name")
            .lines()
            .map(|l| l.trim_start_matches("pod/").to_string())
            .collect();
        assert_eq!(pods.len(), 2);
        let mut volumes = Vec::new();
        for pod in &pods {
            let describe = sh(&mut sim, &format!("describe pod {pod}"));
            assert!(describe.contains("Status:           Running"), "{describe}");
            assert!(!describe.contains("FailedMount"), "{describe}");
            let id = sim.store.pods.lookup("default", pod).expect("pod");
            let files = super::files(&sim, id, 0);
            assert_eq!(text(&files, "/etc/info/name"), *pod);
            assert_eq!(text(&files, "/etc/info/color"), "blue");
            let sa = "/var/run/secrets/kubernetes.io/serviceaccount";
            assert_eq!(text(&files, &format!("{sa}/namespace")), "default");
            assert!(
                text(&files, &format!("{sa}/ca.crt")).starts_with("-----BEGIN CERTIFICATE-----\n")
            );
            let token = text(&files, &format!("{sa}/token"));
            assert_eq!(token.split('.').count(), 3, "{token}");
            assert_eq!(
                token,
                text(&super::files(&sim, id, 0), &format!("{sa}/token"))
            );
            let out = sh(
                &mut sim,
                &format!("exec {pod} -- cat {sa}/namespace /etc/info/name"),
            );
            assert_eq!(out, format!("default{pod}"));
            let vol = describe
                .lines()
                .find(|l| l.trim_start().starts_with("kube-api-access-"))
                .map(|l| l.trim().trim_end_matches(':').to_string())
                .expect("token volume");
            assert!(
                describe.contains(&format!("{sa} from {vol} (ro)")),
                "{describe}"
            );
            volumes.push(vol);
        }
        assert_ne!(volumes[0], volumes[1], "each pod its own volume name");
    }
}
