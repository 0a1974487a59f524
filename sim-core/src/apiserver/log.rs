//! The `pods/log` subresource: a container's lines, as the kubelet serves them through the
//! API server (`GET /api/v1/namespaces/NS/pods/NAME/log`).

use crate::error::ApiError;
use crate::sim::Sim;
use crate::store::pod::CState;

/// A log request's options (`PodLogOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// `container` (may be left out when the pod has one container).
    pub container: Option<String>,
    /// `previous`: the last terminated instance's lines.
    pub previous: bool,
    /// `tailLines`: only the last lines.
    pub tail_lines: Option<usize>,
}

impl Sim {
    /// A container's log as text, or the API server's error (404 for a missing pod, 400 for a
    /// container that is not there, has not started, or has no previous instance).
    pub fn pod_log(&self, namespace: &str, name: &str, o: &LogOptions) -> Result<String, ApiError> {
        let p = self
            .store
            .pods
            .lookup(namespace, name)
            .and_then(|id| self.store.pods.get(id))
            .ok_or_else(|| ApiError::not_found("pods", name))?;
        let names: Vec<&str> = p
            .template
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.as_str()))
            .collect();
        let ci = match &o.container {
            Some(c) => names.iter().position(|n| n == c).ok_or_else(|| {
                ApiError::BadRequest(format!("container {c} is not valid for pod {name}"))
            })?,
            None if names.len() == 1 => 0,
            None => {
                return Err(ApiError::BadRequest(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    names.join(" ")
                )));
            }
        };
        let c = p
            .containers
            .get(ci)
            .ok_or_else(|| ApiError::not_found("pods", name))?;
        if !c.has_started() {
            let waiting = match &c.state {
                CState::Waiting { reason, .. } if reason.as_str() != "ContainerCreating" => {
                    "trying and failing to pull image"
                }
                _ => "ContainerCreating",
            };
            return Err(ApiError::BadRequest(format!(
                "container {:?} in pod {name:?} is waiting to start: {waiting}",
                names[ci]
            )));
        }
        if o.previous && c.last.is_none() {
            return Err(ApiError::BadRequest(format!(
                "previous terminated container {:?} in pod {name:?} not found",
                names[ci]
            )));
        }
        let lines = if o.previous {
            &c.previous_logs
        } else {
            &c.logs
        };
        let skip = o.tail_lines.map_or(0, |t| lines.len().saturating_sub(t));
        Ok(lines
            .iter()
            .skip(skip)
            .map(|(_, l)| format!("{l}\n"))
            .collect())
    }
}
