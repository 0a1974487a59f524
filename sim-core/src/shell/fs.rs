//! The container's file system as the shell sees it: read-only, and only the files Kubernetes
//! itself puts into every container (`/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`,
//! which the kubelet writes and mounts), plus what the container's volumes mount
//! ([`crate::kubelet::mounts::files`]: the service account's `token`, `ca.crt` and `namespace`
//! too, unless the pod opts out of the token). The image's own files are not modelled:
//! the top-level directories exist and are empty.

use std::collections::{BTreeMap, BTreeSet};

use crate::sim::Sim;
use crate::store::ObjId;
use crate::store::pod::ip_string;

/// The cluster DNS Service's ClusterIP (kubeadm's `10.96.0.10`), in `resolv.conf` and
/// `nslookup`'s answers.
pub const CLUSTER_DNS: &str = "10.96.0.10";

/// The cluster's domain.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The directories of an image's root file system.
const ROOT_DIRS: &[&str] = &[
    "/bin", "/dev", "/etc", "/home", "/proc", "/root", "/sys", "/tmp", "/usr", "/var",
];

/// A read-only view of files and the directories that hold them.
#[derive(Debug, Default)]
pub(super) struct FileView {
    files: BTreeMap<String, Vec<u8>>,
    dirs: BTreeSet<String>,
}

/// What is at a path.
pub(super) enum Entry<'a> {
    File(&'a [u8]),
    Dir(Vec<String>),
}

impl FileView {
    fn add(&mut self, path: &str, content: Vec<u8>) {
        let path = normalize("/", path);
        let mut dir = parent(&path);
        while dir != "/" {
            self.dirs.insert(dir.clone());
            dir = parent(&dir);
        }
        self.files.insert(path, content);
    }

    /// The file or directory at `path` (already absolute and normalized).
    pub(super) fn get(&self, path: &str) -> Option<Entry<'_>> {
        if let Some(f) = self.files.get(path) {
            return Some(Entry::File(f));
        }
        if path != "/" && !self.dirs.contains(path) {
            return None;
        }
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let mut names: BTreeSet<String> = BTreeSet::new();
        for p in self.files.keys().chain(self.dirs.iter()) {
            if let Some(rest) = p.strip_prefix(&prefix)
                && let Some(first) = rest.split('/').next()
                && !first.is_empty()
            {
                names.insert(first.to_string());
            }
        }
        Some(Entry::Dir(names.into_iter().collect()))
    }

    /// Whether `path` is a directory.
    pub(super) fn is_dir(&self, path: &str) -> bool {
        matches!(self.get(path), Some(Entry::Dir(_)))
    }
}

/// The directory holding `path` (`/` for `/x`).
fn parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".to_string(),
        Some((d, _)) => d.to_string(),
    }
}

/// `path` made absolute from `cwd`, with `.`, `..` and repeated slashes resolved.
pub(super) fn normalize(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

impl Sim {
    /// The files container `ci` of `pod` sees.
    pub(super) fn file_view(&self, pod: ObjId, ci: usize) -> FileView {
        let mut view = FileView::default();
        for d in ROOT_DIRS {
            view.dirs.insert((*d).to_string());
        }
        let Some(p) = self.store.pods.get(pod) else {
            return view;
        };
        let (name, ns) = (p.name.to_string(), p.namespace.to_string());
        view.add("/etc/hostname", format!("{name}\n").into_bytes());
        // kubelet_pods.go `managedHostsFileContent`.
        view.add(
            "/etc/hosts",
            format!(
                "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n{}\t{name}\n",
                ip_string(p.ip)
            )
            .into_bytes(),
        );
        // dns.go `ClusterFirst`: the namespace's search path, the cluster DNS, ndots 5.
        view.add(
            "/etc/resolv.conf",
            format!(
                "search {ns}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}\nnameserver {CLUSTER_DNS}\noptions ndots:5\n"
            )
            .into_bytes(),
        );
        for (path, content) in crate::kubelet::mounts::files(self, pod, ci) {
            view.add(&path, content);
        }
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_against_the_working_directory() {
        assert_eq!(normalize("/", "etc/hosts"), "/etc/hosts");
        assert_eq!(normalize("/etc", "../var/./run/"), "/var/run");
        assert_eq!(normalize("/", ".."), "/");
        assert_eq!(normalize("/x", "/etc//hostname"), "/etc/hostname");
    }

    #[test]
    fn directories_list_what_they_hold() {
        let mut v = FileView::default();
        v.dirs.insert("/etc".into());
        v.add("/etc/hosts", b"h".to_vec());
        v.add("/var/run/secrets/x", b"s".to_vec());
        let Some(Entry::Dir(names)) = v.get("/var") else {
            panic!("no /var")
        };
        assert_eq!(names, ["run"]);
        let Some(Entry::Dir(names)) = v.get("/") else {
            panic!("no /")
        };
        assert_eq!(names, ["etc", "var"]);
        assert!(matches!(v.get("/etc/hosts"), Some(Entry::File(b"h"))));
        assert!(v.get("/nope").is_none());
    }
}
