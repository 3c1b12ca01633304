//! cgroup id -> container -> pod, by walking the cgroup v2 tree in kubelet's layouts.
//!
//! A cgroup v2 id is the inode number of its directory. kubelet lays pods out as
//! (cgroupfs driver)  kubepods/[burstable|besteffort/]pod<uid>/<container>
//! (systemd driver)   kubepods.slice/[kubepods-<qos>.slice/]kubepods[-<qos>]-pod<uid with _>.slice/<runtime>-<id>.scope
//! with container runtimes naming the leaf `cri-containerd-<id>`, `crio-<id>`, `docker-<id>`
//! (or the bare id under cgroupfs). Anything outside a kubepods tree is the node's.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// kubelet's QoS classes, as the cgroup path shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Qos {
    Guaranteed,
    Burstable,
    BestEffort,
}

/// Who a cgroup belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A pod's cgroup or one of its containers'.
    Pod {
        uid: String,
        qos: Qos,
        /// Container id; `None` for the pod cgroup itself or a runtime helper (conmon).
        container: Option<String>,
    },
    /// Outside kubepods: system services, host processes.
    Node,
}

/// Reads a path relative to the cgroup v2 mount, e.g.
/// `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice/cri-containerd-abc.scope`.
pub fn parse_owner(rel: &Path) -> Owner {
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .filter(|s| !s.is_empty() && *s != "/")
        .collect();
    let Some(start) = parts.iter().position(|p| is_kubepods(p)) else {
        return Owner::Node;
    };
    let mut qos = Qos::Guaranteed;
    for (i, part) in parts.iter().enumerate().skip(start + 1) {
        if let Some(q) = qos_level(part) {
            qos = q;
            continue;
        }
        if let Some(uid) = pod_uid(part) {
            let container = parts.get(i + 1).and_then(|c| container_id(c));
            return Owner::Pod {
                uid,
                qos,
                container,
            };
        }
        // Neither a QoS level nor a pod: something else lives under kubepods.
        break;
    }
    Owner::Node
}

fn is_kubepods(part: &str) -> bool {
    part == "kubepods" || part == "kubepods.slice"
}

fn qos_level(part: &str) -> Option<Qos> {
    match part {
        "burstable" | "kubepods-burstable.slice" => Some(Qos::Burstable),
        "besteffort" | "kubepods-besteffort.slice" => Some(Qos::BestEffort),
        _ => None,
    }
}

/// `pod<uid>` (cgroupfs) or `kubepods[-qos]-pod<uid_with_underscores>.slice` (systemd).
fn pod_uid(part: &str) -> Option<String> {
    let uid = if let Some(slice) = part.strip_suffix(".slice") {
        let at = slice.find("-pod")?;
        slice[at + 4..].replace('_', "-")
    } else {
        part.strip_prefix("pod")?.to_owned()
    };
    let looks_like_uid = uid.len() >= 8 && uid.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    looks_like_uid.then_some(uid)
}

/// Container id from a leaf: `cri-containerd-<id>.scope`, `crio-<id>.scope`,
/// `docker-<id>.scope`, or a bare id (cgroupfs). Runtime helpers (`crio-conmon-…`) and
/// unknown names are not containers.
fn container_id(part: &str) -> Option<String> {
    let name = part.strip_suffix(".scope").unwrap_or(part);
    if name.starts_with("crio-conmon-") {
        return None;
    }
    let id = ["cri-containerd-", "crio-", "docker-", "containerd-"]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    let hex = id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit());
    hex.then(|| id.to_owned())
}

/// cgroup id -> path relative to the cgroup v2 mount, from one walk of the tree.
#[derive(Debug, Default)]
pub struct CgroupIndex {
    mount: PathBuf,
    paths: HashMap<u64, PathBuf>,
}

impl CgroupIndex {
    pub fn new(mount: PathBuf) -> Self {
        Self {
            mount,
            paths: HashMap::new(),
        }
    }

    /// Walks the whole tree again. Directories that vanish mid-walk (a container exiting)
    /// are skipped; ids seen before keep their path, so traffic of a container that has
    /// exited is still attributed.
    pub fn rescan(&mut self) -> usize {
        let mut stack = vec![self.mount.clone()];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            let Ok(meta) = std::fs::metadata(&dir) else {
                continue;
            };
            seen += 1;
            let rel = dir
                .strip_prefix(&self.mount)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            self.paths.insert(meta.ino(), rel);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(entry.path());
                }
            }
        }
        seen
    }

    pub fn path(&self, id: u64) -> Option<&Path> {
        self.paths.get(&id).map(PathBuf::as_path)
    }

    /// UIDs of the pods that have a cgroup (either driver's spelling).
    pub fn pod_uids(&self) -> std::collections::HashSet<String> {
        self.paths
            .values()
            .filter_map(|p| match parse_owner(p) {
                Owner::Pod { uid, .. } => Some(uid),
                Owner::Node => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "0f8c2c4e-1f6b-4c1e-9a57-5d2b1c3e4f50";
    const CID: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904a1b2c3d4e5f60718293a4b5c";

    fn pod(qos: Qos, container: Option<&str>) -> Owner {
        Owner::Pod {
            uid: UID.to_owned(),
            qos,
            container: container.map(str::to_owned),
        }
    }

    fn owner(p: &str) -> Owner {
        parse_owner(Path::new(p))
    }

    #[test]
    fn cgroupfs_driver_all_qos() {
        assert_eq!(
            owner(&format!("kubepods/pod{UID}/{CID}")),
            pod(Qos::Guaranteed, Some(CID))
        );
        assert_eq!(
            owner(&format!("kubepods/burstable/pod{UID}/{CID}")),
            pod(Qos::Burstable, Some(CID))
        );
        assert_eq!(
            owner(&format!("kubepods/besteffort/pod{UID}/crio-{CID}")),
            pod(Qos::BestEffort, Some(CID))
        );
        assert_eq!(
            owner(&format!("kubepods/besteffort/pod{UID}")),
            pod(Qos::BestEffort, None)
        );
    }

    #[test]
    fn systemd_driver_all_qos_and_runtimes() {
        let u = UID.replace('-', "_");
        assert_eq!(
            owner(&format!(
                "kubepods.slice/kubepods-pod{u}.slice/cri-containerd-{CID}.scope"
            )),
            pod(Qos::Guaranteed, Some(CID))
        );
        assert_eq!(
            owner(&format!(
                "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{u}.slice/crio-{CID}.scope"
            )),
            pod(Qos::Burstable, Some(CID))
        );
        assert_eq!(
            owner(&format!(
                "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{u}.slice/docker-{CID}.scope"
            )),
            pod(Qos::BestEffort, Some(CID))
        );
        assert_eq!(
            owner(&format!(
                "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{u}.slice/crio-conmon-{CID}.scope"
            )),
            pod(Qos::Burstable, None)
        );
    }

    #[test]
    fn nested_kubelet_root_and_node_cgroups() {
        // kubelet --cgroup-root puts kubepods deeper; still found.
        assert_eq!(
            owner(&format!("k8s.slice/kubepods/burstable/pod{UID}/{CID}")),
            pod(Qos::Burstable, Some(CID))
        );
        assert_eq!(owner("system.slice/containerd.service"), Owner::Node);
        assert_eq!(owner(""), Owner::Node);
        assert_eq!(owner("kubepods.slice"), Owner::Node);
        assert_eq!(owner("kubepods/burstable"), Owner::Node);
        assert_eq!(owner("user.slice/podman-123.scope"), Owner::Node);
    }

    #[test]
    fn index_walks_a_real_tree() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let leaf = dir
            .path()
            .join(format!("kubepods/burstable/pod{UID}/{CID}"));
        std::fs::create_dir_all(&leaf).unwrap_or_else(|e| panic!("{e}"));
        let mut idx = CgroupIndex::new(dir.path().to_path_buf());
        assert_eq!(idx.rescan(), 5);
        let ino = std::fs::metadata(&leaf)
            .map(|m| m.ino())
            .unwrap_or_default();
        assert_eq!(
            idx.path(ino).map(parse_owner),
            Some(pod(Qos::Burstable, Some(CID)))
        );
        assert!(idx.pod_uids().contains(UID));
        assert_eq!(idx.pod_uids().len(), 1);
    }
}
