//! The offline reader: files or directories of `kubectl get -o yaml|json` output. A
//! file may hold a `List`, typed lists (`PodList`), single objects, or several YAML
//! documents. Kinds CloudVault does not read but Kubernetes knows (Services, PDBs,
//! snapshots, …) and custom resources are skipped; an unknown built-in kind is an error.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::RawObjects;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: cannot read: {source}; check the path given to --from-file")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: not valid YAML/JSON ({message}); fix the file or re-run kubectl get -o yaml"
    )]
    Syntax {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}:{line}: {what}: {message}; re-export it with kubectl get -o yaml")]
    Object {
        path: String,
        line: usize,
        what: String,
        message: String,
    },
    #[error(
        "{path}:{line}: unknown kind {kind:?} (apiVersion {api_version:?}); CloudVault reads Nodes, Pods, PVCs, PVs, StorageClasses, VolumeAttributesClasses and workloads; remove it or fix the kind"
    )]
    UnknownKind {
        path: String,
        line: usize,
        kind: String,
        api_version: String,
    },
    #[error("{path}: no Kubernetes objects found; pass files from kubectl get -o yaml|json")]
    Empty { path: String },
    #[error(
        "{path}: directory holds no .yaml, .yml or .json file; pass files from kubectl get -o yaml|json"
    )]
    NoFiles { path: String },
}

/// Kinds Kubernetes knows that carry nothing CloudVault prices or places.
const IGNORED_KINDS: &[&str] = &[
    "Namespace",
    "Service",
    "Endpoints",
    "EndpointSlice",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "PodDisruptionBudget",
    "Ingress",
    "IngressClass",
    "NetworkPolicy",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "HorizontalPodAutoscaler",
    "VolumeSnapshot",
    "VolumeSnapshotClass",
    "VolumeSnapshotContent",
    "VolumeGroupSnapshot",
    "VolumeGroupSnapshotClass",
    "VolumeGroupSnapshotContent",
    "CSIDriver",
    "CSINode",
    "CSIStorageCapacity",
    "VolumeAttachment",
    "Event",
    "LimitRange",
    "ResourceQuota",
    "PriorityClass",
    "CustomResourceDefinition",
    "Lease",
    "ReplicationController",
    "ControllerRevision",
    "PodTemplate",
    "RuntimeClass",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ComponentStatus",
];

/// Reads every path (file, or directory walked in name order) into one set of objects.
pub fn read_paths(paths: &[PathBuf]) -> Result<RawObjects, FileError> {
    let mut all = RawObjects::default();
    for path in paths {
        let files = collect_files(path)?;
        if files.is_empty() {
            return Err(FileError::NoFiles {
                path: path.display().to_string(),
            });
        }
        for f in files {
            all.extend(read_file(&f)?);
        }
    }
    if all.nodes.is_empty()
        && all.pods.is_empty()
        && all.claims.is_empty()
        && all.volumes.is_empty()
    {
        // Valid objects, but none of the kinds that are priced: say so rather than $0.
        all.notes.push(
            "the input holds no nodes, pods, claims or volumes: nothing to price or place"
                .to_owned(),
        );
    }
    Ok(all)
}

fn collect_files(path: &Path) -> Result<Vec<PathBuf>, FileError> {
    let read_err = |source| FileError::Read {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut files = Vec::new();
    for e in entries {
        if e.is_dir() {
            files.extend(collect_files(&e)?);
        } else if matches!(
            e.extension().and_then(|x| x.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(e);
        }
    }
    Ok(files)
}

/// Reads one file.
pub fn read_file(path: &Path) -> Result<RawObjects, FileError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: display.clone(),
        source,
    })?;
    let mut out = RawObjects::default();
    // An empty List (kubectl's output for a kind with no objects) is valid; a file
    // with no document at all is not.
    let docs = documents(&text, &display)?;
    let found = docs.len();
    for (line, doc) in docs {
        add_document(&mut out, doc, &display, line)?;
    }
    if found == 0 {
        return Err(FileError::Empty { path: display });
    }
    Ok(out)
}

/// Splits a file into parsed documents, each with the line it starts on.
pub(crate) fn documents(text: &str, path: &str) -> Result<Vec<(usize, Value)>, FileError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // JSON is the common big dump; serde_json is much faster than a YAML parser.
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            let first = text.len() - trimmed.len();
            let line = text[..first].matches('\n').count() + 1;
            return Ok(vec![(line, v)]);
        }
    }
    let mut docs = Vec::new();
    let mut start_line = 1usize;
    let mut chunk = String::new();
    for (i, l) in text.lines().enumerate() {
        let is_marker =
            l.starts_with("---") && l[3..].chars().next().is_none_or(char::is_whitespace);
        if is_marker || l == "..." {
            push_doc(&mut docs, &chunk, start_line, path)?;
            chunk.clear();
            start_line = i + 1;
            if is_marker {
                chunk.push_str(&l[3..]);
            }
            chunk.push('\n');
        } else {
            chunk.push_str(l);
            chunk.push('\n');
        }
    }
    push_doc(&mut docs, &chunk, start_line, path)?;
    Ok(docs)
}

fn push_doc(
    docs: &mut Vec<(usize, Value)>,
    chunk: &str,
    start_line: usize,
    path: &str,
) -> Result<(), FileError> {
    if chunk.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    }) {
        return Ok(());
    }
    let options = serde_saphyr::options! { budget: None };
    match serde_saphyr::from_str_with_options::<Value>(chunk, options) {
        Ok(Value::Null) => Ok(()),
        Ok(v) => {
            docs.push((start_line, v));
            Ok(())
        }
        Err(e) => {
            let line = e.location().map_or(0, |l| l.line() as usize);
            Err(FileError::Syntax {
                path: path.to_owned(),
                line: start_line + line.saturating_sub(1),
                message: first_line(&e.to_string()),
            })
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

/// Adds one document (an object or a list of them); returns how many objects it held.
fn add_document(
    out: &mut RawObjects,
    doc: Value,
    path: &str,
    line: usize,
) -> Result<usize, FileError> {
    if let Value::Array(items) = doc {
        let mut n = 0;
        for item in items {
            n += add_document(out, item, path, line)?;
        }
        return Ok(n);
    }
    let obj_err = |what: &str, message: &str| FileError::Object {
        path: path.to_owned(),
        line,
        what: what.to_owned(),
        message: message.to_owned(),
    };
    let Value::Object(map) = &doc else {
        return Err(obj_err("document", "is not an object"));
    };
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if kind.is_empty() {
        return Err(obj_err("object", "missing field `kind`"));
    }
    if kind == "List" || (kind.ends_with("List") && map.contains_key("items")) {
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        let items = match map.get("items") {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(_) => return Err(obj_err(&kind, "`items` is not a list")),
        };
        let mut n = 0;
        for mut item in items {
            // Typed lists (PodList) may leave kind/apiVersion off their items.
            if let (Some(k), Value::Object(m)) = (item_kind, &mut item) {
                m.entry("kind")
                    .or_insert_with(|| Value::String(k.to_owned()));
                m.entry("apiVersion")
                    .or_insert_with(|| Value::String(api_version.clone()));
            }
            n += add_document(out, item, path, line)?;
        }
        return Ok(n);
    }
    add_object(out, doc, &kind, &api_version, path, line)
}

fn add_object(
    out: &mut RawObjects,
    mut doc: Value,
    kind: &str,
    api_version: &str,
    path: &str,
    line: usize,
) -> Result<usize, FileError> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let ns = doc
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(|n| format!("{n}/"))
        .unwrap_or_default();
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<no name>")
        .to_owned();
    let what = format!("{kind} {ns}{name}");
    if name == "<no name>" {
        return Err(FileError::Object {
            path: path.to_owned(),
            line,
            what,
            message: "missing field `metadata.name`".into(),
        });
    }
    // Older served versions of the kinds we read have the fields we read; parse them
    // as the version k8s-openapi knows.
    let target = match (group, kind) {
        ("", "Node" | "Pod" | "PersistentVolumeClaim" | "PersistentVolume") => "v1",
        ("storage.k8s.io", "StorageClass" | "VolumeAttributesClass") => "storage.k8s.io/v1",
        ("apps" | "extensions", "ReplicaSet" | "Deployment" | "StatefulSet" | "DaemonSet") => {
            "apps/v1"
        }
        ("batch", "Job" | "CronJob") => "batch/v1",
        _ => {
            let builtin = !group.contains('.') || group.ends_with(".k8s.io");
            if IGNORED_KINDS.contains(&kind) || !builtin {
                tracing::debug!(
                    path,
                    line,
                    kind,
                    "skipping an object CloudVault does not read"
                );
                return Ok(1);
            }
            return Err(FileError::UnknownKind {
                path: path.to_owned(),
                line,
                kind: kind.to_owned(),
                api_version: api_version.to_owned(),
            });
        }
    };
    if let Value::Object(m) = &mut doc {
        m.insert("apiVersion".into(), Value::String(target.into()));
    }
    let err = |e: serde_json::Error| FileError::Object {
        path: path.to_owned(),
        line,
        what: what.clone(),
        message: e.to_string(),
    };
    match kind {
        "Node" => out.nodes.push(serde_json::from_value(doc).map_err(err)?),
        "Pod" => out.pods.push(serde_json::from_value(doc).map_err(err)?),
        "PersistentVolumeClaim" => out.claims.push(serde_json::from_value(doc).map_err(err)?),
        "PersistentVolume" => out.volumes.push(serde_json::from_value(doc).map_err(err)?),
        "StorageClass" => out.classes.push(serde_json::from_value(doc).map_err(err)?),
        "VolumeAttributesClass" => out
            .attributes_classes
            .push(serde_json::from_value(doc).map_err(err)?),
        "ReplicaSet" => out
            .replica_sets
            .push(serde_json::from_value(doc).map_err(err)?),
        "Deployment" => out
            .deployments
            .push(serde_json::from_value(doc).map_err(err)?),
        "StatefulSet" => out
            .stateful_sets
            .push(serde_json::from_value(doc).map_err(err)?),
        "DaemonSet" => out
            .daemon_sets
            .push(serde_json::from_value(doc).map_err(err)?),
        "Job" => out.jobs.push(serde_json::from_value(doc).map_err(err)?),
        "CronJob" => out
            .cron_jobs
            .push(serde_json::from_value(doc).map_err(err)?),
        _ => {}
    }
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
        p
    }

    #[test]
    fn lists_multi_docs_singles_and_json() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        write(
            dir.path(),
            "a.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Node\n  metadata:\n    name: n1\n---\n# comment only\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gp3}\nprovisioner: ebs.csi.aws.com\n",
        );
        write(
            dir.path(),
            "b.json",
            r#"{"apiVersion":"v1","kind":"PersistentVolumeClaimList","items":[{"metadata":{"name":"c","namespace":"x"},"spec":{}}]}"#,
        );
        write(
            dir.path(),
            "c.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
        );
        write(dir.path(), "ignored.txt", "not read");
        write(
            dir.path(),
            "d.json",
            r#"{"apiVersion":"v1","kind":"List","items":[]}"#,
        );
        let raw = read_paths(&[dir.path().to_path_buf()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(raw.nodes.len(), 1);
        assert_eq!(raw.classes.len(), 1);
        assert_eq!(raw.claims.len(), 1);
    }

    #[test]
    fn bad_input_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = write(
            dir.path(),
            "bad.yaml",
            "apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Podd\nmetadata: {name: b}\n",
        );
        let e = read_paths(&[p])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("bad.yaml:4: unknown kind \"Podd\""), "{e}");
        let p = write(
            dir.path(),
            "syntax.yaml",
            "apiVersion: v1\nkind: Node\nmetadata: {name: a\n",
        );
        let e = read_paths(&[p])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with(&format!("{}/syntax.yaml:", dir.path().display())),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        let p = write(
            dir.path(),
            "missing.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\nspec: {}\n",
        );
        let e = read_paths(&[p])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("missing.yaml:1: Pod x/<no name>: missing field `metadata.name`"),
            "{e}"
        );
        let p = write(
            dir.path(),
            "typed.yaml",
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: v}\nspec: {capacity: 12}\n",
        );
        let e = read_paths(&[p])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("typed.yaml:1: PersistentVolume v: invalid type"),
            "{e}"
        );
        let e = read_paths(&[dir.path().join("nope.yaml")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("nope.yaml: cannot read"), "{e}");
        let p = write(dir.path(), "empty.yaml", "# nothing\n");
        let e = read_paths(&[p])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("no Kubernetes objects"), "{e}");
    }

    /// `-l` selects pods, and with them the claims they mount, whatever the claims' own
    /// labels; pods outside it stay as peers.
    #[test]
    fn selector_keeps_the_claims_of_selected_pods() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = write(
            dir.path(),
            "cache.yaml",
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: cache-local, namespace: shop}\nspec: {}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: other, namespace: shop}\nspec: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: cache-0, namespace: shop, labels: {app: cache}}\nspec:\n  containers: [{name: c, image: x}]\n  volumes: [{name: d, persistentVolumeClaim: {claimName: cache-local}}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: web-0, namespace: shop, labels: {app: web}}\nspec: {containers: [{name: c, image: x}]}\n",
        );
        let scope = crate::collect::Scope {
            namespace: None,
            selector: crate::model::LabelSelector::parse("app=cache")
                .unwrap_or_else(|e| panic!("{e}")),
            read_peers: true,
        };
        let s = read_paths(&[p])
            .unwrap_or_else(|e| panic!("{e}"))
            .into_snapshot(&scope);
        let names = |v: Vec<&str>| v.join(",");
        assert_eq!(
            names(s.claims.iter().map(|c| c.name.as_str()).collect()),
            "cache-local"
        );
        assert_eq!(
            names(s.pods.iter().map(|p| p.name.as_str()).collect()),
            "cache-0"
        );
        assert_eq!(
            names(s.peers.iter().map(|p| p.name.as_str()).collect()),
            "web-0"
        );
    }

    /// A directory with nothing to read is an error; objects of no priced kind are a
    /// note, never a silent $0.
    #[test]
    fn nothing_to_read_is_said() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap_or_else(|e| panic!("{e}"));
        write(&empty, "notes.txt", "not a manifest\n");
        let e = read_paths(&[empty])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("empty: directory holds no .yaml, .yml or .json file"),
            "{e}"
        );
        let p = write(
            dir.path(),
            "ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
        );
        let raw = read_paths(&[p]).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            raw.notes
                .iter()
                .any(|n| n.contains("no nodes, pods, claims or volumes"))
        );
    }
}
