//! ConfigMaps and Secrets in containers, as the kubelet reads them: `envFrom` and
//! `env[].valueFrom.configMapKeyRef|secretKeyRef` when a container is created (kubelet
//! `makeEnvironmentVariables`), and the failure that keeps a container waiting in
//! `CreateContainerConfigError` until its next pod sync finds what it needs.
//!
//! The kubelet's ConfigMap and Secret managers answer a missing object with the NotFound of
//! the resources `configmap` and `secret` (`configmap "x" not found`); a missing key is
//! `couldn't find key K in ConfigMap ns/x`. An optional reference that is missing is skipped.
//! Since Kubernetes 1.34 (RelaxedEnvironmentVariableValidation) the kubelet takes every key of
//! an `envFrom` source as it is, with its prefix; it no longer skips "invalid" names.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Container, EnvVarSource, Secret};

use crate::sim::{Sim, Step};
use crate::store::ObjId;
use crate::store::pod::{CState, WaitReason};
use crate::time::SimDuration;

/// How long the kubelet's pod worker waits before syncing a pod whose sync failed
/// (`backOffPeriod` in kubelet.go; the worker adds up to half again as jitter, left out here).
pub const SYNC_BACKOFF: SimDuration = SimDuration(10_000);

/// The objects one container start reads, looked up once each (`configMaps`, `secrets`).
pub(crate) struct Refs<'a> {
    sim: &'a Sim,
    ns: &'a str,
    config_maps: BTreeMap<String, &'a ConfigMap>,
    secrets: BTreeMap<String, &'a Secret>,
}

impl<'a> Refs<'a> {
    pub(crate) fn new(sim: &'a Sim, ns: &'a str) -> Refs<'a> {
        Refs {
            sim,
            ns,
            config_maps: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    /// The ConfigMap `name`, or the kubelet's NotFound.
    fn config_map(&mut self, name: &str) -> Result<&'a ConfigMap, String> {
        if let Some(cm) = self.config_maps.get(name) {
            return Ok(cm);
        }
        let store = &self.sim.store;
        let cm = store
            .configmaps
            .lookup(self.ns, name)
            .and_then(|id| store.configmaps.get(id))
            .map(|(_, cm)| cm)
            .ok_or_else(|| format!("configmap {name:?} not found"))?;
        self.config_maps.insert(name.to_string(), cm);
        Ok(cm)
    }

    /// The Secret `name`, or the kubelet's NotFound.
    fn secret(&mut self, name: &str) -> Result<&'a Secret, String> {
        if let Some(s) = self.secrets.get(name) {
            return Ok(s);
        }
        let store = &self.sim.store;
        let s = store
            .secrets
            .lookup(self.ns, name)
            .and_then(|id| store.secrets.get(id))
            .map(|(_, s)| s)
            .ok_or_else(|| format!("secret {name:?} not found"))?;
        self.secrets.insert(name.to_string(), s);
        Ok(s)
    }

    /// `envFrom`, in order: every key of each ConfigMap or Secret (sorted; Go walks a map),
    /// with the source's prefix, each replacing an earlier variable of its name.
    pub(crate) fn env_from(
        &mut self,
        c: &Container,
        env: &mut Vec<(String, String)>,
    ) -> Result<(), String> {
        let set = |env: &mut Vec<(String, String)>, k: String, v: String| {
            env.retain(|(n, _)| *n != k);
            env.push((k, v));
        };
        for from in c.env_from.iter().flatten() {
            let prefix = from.prefix.as_deref().unwrap_or("");
            if let Some(r) = &from.config_map_ref {
                match self.config_map(&r.name) {
                    Ok(cm) => {
                        for (k, v) in cm.data.iter().flatten() {
                            set(env, format!("{prefix}{k}"), v.clone());
                        }
                    }
                    Err(_) if r.optional == Some(true) => {}
                    Err(e) => return Err(e),
                }
            } else if let Some(r) = &from.secret_ref {
                match self.secret(&r.name) {
                    Ok(s) => {
                        for (k, v) in s.data.iter().flatten() {
                            let v = String::from_utf8_lossy(&v.0).into_owned();
                            set(env, format!("{prefix}{k}"), v);
                        }
                    }
                    Err(_) if r.optional == Some(true) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// The value of `configMapKeyRef` or `secretKeyRef`: `Ok(None)` when an optional one is
    /// missing (the variable is left out).
    pub(crate) fn value_from(&mut self, from: &EnvVarSource) -> Result<Option<String>, String> {
        if let Some(r) = &from.config_map_key_ref {
            let optional = r.optional == Some(true);
            let cm = match self.config_map(&r.name) {
                Ok(cm) => cm,
                Err(_) if optional => return Ok(None),
                Err(e) => return Err(e),
            };
            return match cm.data.as_ref().and_then(|d| d.get(&r.key)) {
                Some(v) => Ok(Some(v.clone())),
                None if optional => Ok(None),
                None => Err(format!(
                    "couldn't find key {} in ConfigMap {}/{}",
                    r.key, self.ns, r.name
                )),
            };
        }
        if let Some(r) = &from.secret_key_ref {
            let optional = r.optional == Some(true);
            let s = match self.secret(&r.name) {
                Ok(s) => s,
                Err(_) if optional => return Ok(None),
                Err(e) => return Err(e),
            };
            return match s.data.as_ref().and_then(|d| d.get(&r.key)) {
                Some(v) => Ok(Some(String::from_utf8_lossy(&v.0).into_owned())),
                None if optional => Ok(None),
                None => Err(format!(
                    "couldn't find key {} in Secret {}/{}",
                    r.key, self.ns, r.name
                )),
            };
        }
        Ok(None)
    }
}

impl Sim {
    /// `startContainer` failed in `generateContainerConfig`: the container waits in
    /// `CreateContainerConfigError` with the error as its message, the event `Failed` says
    /// `Error: <why>`, and the pod worker syncs again after its back-off.
    pub(crate) fn container_config_failed(&mut self, pod: ObjId, ci: usize, why: String) {
        let now = self.store.now;
        let Some(p) = self.store.pods.get_mut(pod) else {
            return;
        };
        let Some(c) = p.containers.get_mut(ci) else {
            return;
        };
        if let CState::Terminated(t) = &c.state {
            c.last = Some(t.clone());
        }
        c.state = CState::Waiting {
            reason: WaitReason::CreateContainerConfigError,
            message: Some(why.clone().into_boxed_str()),
        };
        c.ready = false;
        c.started = false;
        p.recompute_phase();
        self.kubelet_event(pod, true, "Failed", format!("Error: {why}"));
        self.update_pod_ready(pod);
        self.write_pod(pod);
        self.container_timer(pod, ci, now + SYNC_BACKOFF, Step::Start);
    }

    /// Keeps the environment a container that reads ConfigMaps or Secrets started with, for
    /// [`env`] (a worker program's run keeps its own).
    pub(crate) fn remember_env(&mut self, pod: ObjId, ci: usize) {
        let reads_config = self
            .store
            .pods
            .get(pod)
            .and_then(|p| p.template.spec.as_ref()?.containers.get(ci))
            .is_some_and(|c| {
                c.env_from.as_ref().is_some_and(|f| !f.is_empty())
                    || c.env.iter().flatten().any(|e| {
                        e.value_from.as_ref().is_some_and(|f| {
                            f.config_map_key_ref.is_some() || f.secret_key_ref.is_some()
                        })
                    })
            });
        if !reads_config {
            return;
        }
        let env: Arc<[(String, String)]> = self.container_env(pod, ci).into();
        self.volumes.entry(pod).or_default().env.insert(ci, env);
    }

    /// Why container `ci` of `pod` cannot be created now (`generateContainerConfig`'s error),
    /// if it cannot.
    pub(crate) fn container_config_error(&self, pod: ObjId, ci: usize) -> Option<String> {
        // Only a ConfigMap or Secret reference can fail; most containers have none, and
        // building their environment to find no error would cost every start.
        let c = self.container(pod, ci)?;
        let refers = c.env_from.as_ref().is_some_and(|f| !f.is_empty())
            || c.env.iter().flatten().any(|e| {
                e.value.is_none()
                    && e.value_from.as_ref().is_some_and(|f| {
                        f.config_map_key_ref.is_some() || f.secret_key_ref.is_some()
                    })
            });
        if !refers {
            return None;
        }
        self.make_environment_variables(pod, ci).err()
    }
}

/// The environment container `ci` of `pod` runs with: the one it started with (the kubelet
/// computes it at each start, so a later change to a ConfigMap does not reach it), else (a
/// container that reads no ConfigMap or Secret) what the kubelet would compute now; `None`
/// for no such pod or container, or one that cannot start (CreateContainerConfigError).
pub fn env(sim: &Sim, pod: ObjId, ci: usize) -> Option<Vec<(String, String)>> {
    let p = sim.store.pods.get(pod)?;
    let c = p.containers.get(ci)?;
    if let Some(w) = &c.worker {
        return Some(w.env.to_vec());
    }
    if let Some(e) = sim.volumes.get(&pod).and_then(|v| v.env.get(&ci)) {
        return Some(e.to_vec());
    }
    sim.make_environment_variables(pod, ci).ok()
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
    envFrom:
    - configMapRef: {name: settings}
      prefix: CFG_
    - secretRef: {name: maybe, optional: true}
    env:
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: settings, key: color}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: db, key: password}}
    - name: OPTIONAL
      valueFrom: {configMapKeyRef: {name: settings, key: nope, optional: true}}
    - name: CFG_color
      value: overridden
";

    fn sh(sim: &mut Sim, cmd: &str) -> String {
        let o = run(sim, cmd, &NoFiles);
        format!("{}{}", o.stdout, o.stderr)
    }

    fn apply(sim: &mut Sim, yaml: &str) {
        let o = crate::kubectl::apply_text(sim, yaml, "STDIN", "default", false);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }

    fn status(sim: &mut Sim) -> String {
        sh(sim, "get pod app --no-headers")
            .split_whitespace()
            .nth(2)
            .unwrap_or("")
            .to_string()
    }

    fn pod_id(sim: &Sim) -> u64 {
        sim.store.pods.lookup("default", "app").expect("the pod")
    }

    #[test]
    fn a_missing_config_map_waits_in_create_container_config_error_until_it_exists() {
        let mut sim = Sim::new(SimConfig::default());
        apply(&mut sim, POD);
        sim.advance(SimDuration::from_secs(30));
        assert_eq!(status(&mut sim), "CreateContainerConfigError");
        let describe = sh(&mut sim, "describe pod app");
        assert!(
            describe.contains("Reason:       CreateContainerConfigError"),
            "{describe}"
        );
        assert!(
            describe.contains("Error: configmap \"settings\" not found"),
            "{describe}"
        );
        // Retried on every pod sync: the events count up.
        let failed = describe
            .lines()
            .find(|l| l.contains("Error: configmap"))
            .unwrap_or("");
        assert!(failed.contains("Warning  Failed"), "{describe}");
        assert!(failed.contains("(x3 over"), "{describe}");

        sh(
            &mut sim,
            "create configmap settings --from-literal=color=blue --from-literal=size=3",
        );
        sim.advance(SimDuration::from_secs(11));
        // The Secret is still missing: the message moves on to it.
        assert_eq!(status(&mut sim), "CreateContainerConfigError");
        let id = pod_id(&sim);
        assert_eq!(
            sim.container_config_error(id, 0).as_deref(),
            Some("secret \"db\" not found")
        );
        sh(
            &mut sim,
            "create secret generic db --from-literal=password=s3cr3t",
        );
        sim.advance(SimDuration::from_secs(11));
        assert_eq!(status(&mut sim), "Running");
        let env = super::env(&sim, id, 0).expect("env");
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("COLOR"), Some("blue"));
        assert_eq!(get("PASSWORD"), Some("s3cr3t"));
        assert_eq!(get("CFG_size"), Some("3"));
        assert_eq!(get("CFG_color"), Some("overridden"));
        assert_eq!(get("OPTIONAL"), None);
    }

    #[test]
    fn a_missing_key_names_the_config_map() {
        let mut sim = Sim::new(SimConfig::default());
        sh(&mut sim, "create configmap settings --from-literal=size=3");
        sh(
            &mut sim,
            "create secret generic db --from-literal=password=x",
        );
        apply(&mut sim, POD);
        sim.advance(SimDuration::from_secs(5));
        let id = pod_id(&sim);
        assert_eq!(
            sim.container_config_error(id, 0).as_deref(),
            Some("couldn't find key color in ConfigMap default/settings")
        );
        sh(&mut sim, "create configmap settings2 --from-literal=x=y");
        sh(&mut sim, "delete configmap settings");
        sh(
            &mut sim,
            "create configmap settings --from-literal=color=red",
        );
        sh(&mut sim, "delete secret db");
        sh(&mut sim, "create secret generic db --from-literal=user=x");
        assert_eq!(
            sim.container_config_error(id, 0).as_deref(),
            Some("couldn't find key password in Secret default/db")
        );
    }
}
