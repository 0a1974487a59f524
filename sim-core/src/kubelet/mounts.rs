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
//! [`files`] is the pure read of a container's view: every file under each of its
//! `volumeMounts` (with `subPath`), for the worker ABI's read-only file system and a shell.
//! File modes (`defaultMode`, `items[].mode`) are not modelled.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{KeyToPath, PodSpec, Volume};

use crate::sim::{Sim, Timer};
use crate::store::ObjId;
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

/// The pod's volumes that come from a ConfigMap or a Secret.
fn config_volumes(spec: Option<&PodSpec>) -> Vec<&Volume> {
    spec.and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter(|v| v.config_map.is_some() || v.secret.is_some())
        .collect()
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

/// The files volume `v` holds now, or why it cannot be set up.
fn project(sim: &Sim, ns: &str, v: &Volume) -> Result<BTreeMap<String, Vec<u8>>, String> {
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
        let ns = p.namespace.clone();
        let mut mounted = BTreeMap::new();
        let mut failed = Vec::new();
        for v in config_volumes(p.template.spec.as_ref()) {
            match project(self, &ns, v) {
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
        let ns = p.namespace.clone();
        let fresh: Vec<(String, BTreeMap<String, Vec<u8>>)> =
            config_volumes(p.template.spec.as_ref())
                .into_iter()
                .filter_map(|v| project(self, &ns, v).ok().map(|f| (v.name.clone(), f)))
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

/// Every file container `ci` of `pod` sees under its `volumeMounts` of ConfigMap and Secret
/// volumes, by absolute path (`/etc/config/color` → `blue`), as the kubelet last synced them;
/// empty for no such pod or container, or before the volumes are mounted. A `subPath` mount
/// shows that one file (or directory) of the volume at `mountPath`.
pub fn files(sim: &Sim, pod: ObjId, ci: usize) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Some(p) = sim.store.pods.get(pod) else {
        return out;
    };
    let Some(c) = p.template.spec.as_ref().and_then(|s| s.containers.get(ci)) else {
        return out;
    };
    let Some(mounted) = sim.volumes.get(&pod).and_then(|e| e.mounted.as_ref()) else {
        return out;
    };
    for m in c.volume_mounts.iter().flatten() {
        let Some(vol) = mounted.get(&m.name) else {
            continue;
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
            vec!["/etc/app.color", "/etc/config/color", "/etc/creds/db/pw"]
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
}
