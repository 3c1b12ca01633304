//! The live reader: one kube-runtime watcher + reflector per kind, run until each
//! store has its complete initial (paginated) list, then read out of the stores.
//!
//! Namespace and label scope are applied on the server where Kubernetes can (pods and
//! claims by namespace and labels, workloads by namespace); cluster-scoped kinds are
//! read whole because topology and pricing need every node and class.

use std::fmt::Debug;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::storage::v1 as storage;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{reflector, watcher};
use kube::{Client, Config, Resource};
use serde::de::DeserializeOwned;

use super::{RawObjects, Scope};

/// Objects per page of the initial list (kubectl's default chunk size).
const PAGE_SIZE: u32 = 500;

/// Connection-level failures retried per kind before giving up.
const MAX_TRANSIENT_RETRIES: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("kubeconfig: {0}; check --kubeconfig/$KUBECONFIG and --context")]
    Config(String),
    #[error("cannot build a Kubernetes client: {0}")]
    Client(String),
    #[error("the cluster refused to list {resource} ({code}: {message}); {hint}")]
    Refused {
        resource: String,
        code: u16,
        message: String,
        hint: &'static str,
    },
    #[error(
        "listing {resource} failed: {message}; check that the cluster is reachable (kubectl get {resource})"
    )]
    Failed { resource: String, message: String },
    #[error(
        "listing {resource}{from} timed out after {seconds}s; check that the cluster is reachable or raise --request-timeout"
    )]
    Timeout {
        resource: String,
        seconds: u64,
        /// ` from <server>` once [`LiveError::at`] knows it, else empty.
        from: String,
    },
}

/// Connects with the user's kubeconfig as kubectl would: `--kubeconfig`, else
/// `$KUBECONFIG`, else `~/.kube/config`, else in-cluster; `--context` selects a context.
/// Exec credential plugins work as kube's config supports them.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Connection, LiveError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let config = match kubeconfig {
        Some(path) => {
            // kube's error already names the path.
            let kc = Kubeconfig::read_from(path).map_err(|e| LiveError::Config(e.to_string()))?;
            Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| LiveError::Config(e.to_string()))?
        }
        None => match env_kubeconfig()? {
            Some(kc) => Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| LiveError::Config(e.to_string()))?,
            None if context.is_some() => Config::from_kubeconfig(&options)
                .await
                .map_err(|e| LiveError::Config(e.to_string()))?,
            None => Config::infer()
                .await
                .map_err(|e| LiveError::Config(e.to_string()))?,
        },
    };
    let namespace = config.default_namespace.clone();
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| LiveError::Client(e.to_string()))?;
    Ok(Connection {
        client,
        namespace,
        server,
    })
}

/// A client and what its kubeconfig context said.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    /// The context's default namespace.
    pub namespace: String,
    /// The API server's URL, for errors that say where they could not get.
    pub server: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("namespace", &self.namespace)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl LiveError {
    /// Names the server in errors about reaching it (kube's own message does not).
    pub fn at(self, server: &str) -> Self {
        match self {
            LiveError::Failed { resource, message } => LiveError::Failed {
                resource,
                message: format!("{message} (server {server})"),
            },
            LiveError::Timeout {
                resource, seconds, ..
            } => LiveError::Timeout {
                resource,
                seconds,
                from: format!(" from {server}"),
            },
            other => other,
        }
    }
}

/// The kubeconfig as kubectl finds it: `path` when given, else `$KUBECONFIG` (see
/// [`env_kubeconfig`]), else `~/.kube/config`.
pub fn read_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig, LiveError> {
    let kc = match path {
        Some(p) => Some(Kubeconfig::read_from(p)),
        None => env_kubeconfig()?.map(Ok),
    };
    kc.unwrap_or_else(Kubeconfig::read)
        .map_err(|e| LiveError::Config(e.to_string()))
}

/// `$KUBECONFIG` as kubectl reads it: a list of files merged in order, where a file that
/// does not exist is skipped (kube's own reader fails on it). `None` when the variable is
/// unset or names no existing file, so the usual defaults apply.
fn env_kubeconfig() -> Result<Option<Kubeconfig>, LiveError> {
    let Some(list) = std::env::var_os("KUBECONFIG") else {
        return Ok(None);
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in std::env::split_paths(&list).filter(|p| p.is_file()) {
        let kc = Kubeconfig::read_from(&path).map_err(|e| LiveError::Config(e.to_string()))?;
        merged = Some(match merged {
            Some(m) => m.merge(kc).map_err(|e| LiveError::Config(e.to_string()))?,
            None => kc,
        });
    }
    Ok(merged)
}

/// Lists every kind CloudVault reads. Kinds that only enrich the report (attribute
/// classes, workload controllers) may be refused; that is noted as partial data.
pub async fn read_live(
    client: &Client,
    scope: &Scope,
    timeout: Duration,
) -> Result<RawObjects, LiveError> {
    let ns = scope.namespace.as_deref();
    let labels = (!scope.selector.is_empty()).then(|| scope.selector.as_str());
    let mut notes = Vec::new();
    // Boxed: each reflector future is large, and twelve of them on one stack overflow
    // small (test/worker) thread stacks in debug builds.
    let (nodes, pods, claims, volumes, classes) = futures::try_join!(
        Box::pin(list::<core::Node>(Api::all(client.clone()), None, timeout)),
        Box::pin(pods_with_peers(
            client,
            ns,
            labels,
            scope.read_peers,
            timeout
        )),
        // Every claim of the namespace: `-l` also keeps the claims its pods mount, which
        // need not carry the labels (RawObjects::into_snapshot decides).
        Box::pin(list::<core::PersistentVolumeClaim>(
            scoped(client, ns),
            None,
            timeout
        )),
        Box::pin(list::<core::PersistentVolume>(
            Api::all(client.clone()),
            None,
            timeout
        )),
        Box::pin(list::<storage::StorageClass>(
            Api::all(client.clone()),
            None,
            timeout
        )),
    )?;
    let (vacs, rs, deploys, sts, ds, jobs, cjs) = futures::join!(
        Box::pin(list::<storage::VolumeAttributesClass>(
            Api::all(client.clone()),
            None,
            timeout
        )),
        Box::pin(list::<apps::ReplicaSet>(scoped(client, ns), None, timeout)),
        Box::pin(list::<apps::Deployment>(scoped(client, ns), None, timeout)),
        Box::pin(list::<apps::StatefulSet>(scoped(client, ns), None, timeout)),
        Box::pin(list::<apps::DaemonSet>(scoped(client, ns), None, timeout)),
        Box::pin(list::<batch::Job>(scoped(client, ns), None, timeout)),
        Box::pin(list::<batch::CronJob>(scoped(client, ns), None, timeout)),
    );
    let (pods, pods_note) = pods;
    notes.extend(pods_note);
    Ok(RawObjects {
        nodes,
        pods,
        claims,
        volumes,
        classes,
        attributes_classes: optional(vacs, &mut notes)?,
        replica_sets: optional(rs, &mut notes)?,
        deployments: optional(deploys, &mut notes)?,
        stateful_sets: optional(sts, &mut notes)?,
        daemon_sets: optional(ds, &mut notes)?,
        jobs: optional(jobs, &mut notes)?,
        cron_jobs: optional(cjs, &mut notes)?,
        notes,
    })
}

/// Pods of every namespace, so that traffic to pods outside a `-n`/`-l` scope still
/// resolves to a pod and its zone (the snapshot keeps them as peers). Someone allowed to
/// list pods in one namespace only gets those, and a note that says what that costs.
async fn pods_with_peers(
    client: &Client,
    ns: Option<&str>,
    labels: Option<&str>,
    read_peers: bool,
    timeout: Duration,
) -> Result<(Vec<core::Pod>, Option<String>), LiveError> {
    if !read_peers {
        let pods = list::<core::Pod>(scoped(client, ns), labels, timeout).await?;
        return Ok((pods, None));
    }
    let all = list::<core::Pod>(Api::all(client.clone()), None, timeout).await;
    match all {
        Err(LiveError::Refused { code: 403, .. }) if ns.is_some() || labels.is_some() => {
            let pods = list::<core::Pod>(scoped(client, ns), labels, timeout).await?;
            let note = "partial: not allowed to list pods in all namespaces (403); traffic to pods outside the scope is classed by address only, so gravity may miss it";
            Ok((pods, Some(note.to_owned())))
        }
        other => other.map(|pods| (pods, None)),
    }
}

fn scoped<K>(client: &Client, ns: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as Resource>::DynamicType: Default,
{
    match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A refused optional kind (403/404) is partial data, noted; anything else is an error.
fn optional<K>(r: Result<Vec<K>, LiveError>, notes: &mut Vec<String>) -> Result<Vec<K>, LiveError> {
    match r {
        Err(LiveError::Refused { resource, code, .. }) if code == 403 || code == 404 => {
            notes.push(format!(
                "partial: could not list {resource} ({code}); workloads or attribute classes that depend on them are shown as pods/unknown"
            ));
            Ok(Vec::new())
        }
        other => other,
    }
}

fn plural<K: Resource<DynamicType = ()>>() -> String {
    K::plural(&()).into_owned()
}

/// Runs a reflector until its store holds the complete initial list.
async fn list<K>(api: Api<K>, labels: Option<&str>, timeout: Duration) -> Result<Vec<K>, LiveError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let resource = plural::<K>();
    let mut config = watcher::Config::default().page_size(PAGE_SIZE);
    if let Some(l) = labels {
        config = config.labels(l);
    }
    let (store, writer) = reflector::store::<K>();
    let stream = reflector::reflector(writer, watcher::watcher(api, config));
    let drive = async {
        let mut stream = std::pin::pin!(stream);
        let mut transient = 0u32;
        while let Some(event) = stream.next().await {
            match event {
                Ok(watcher::Event::InitDone) => return Ok(()),
                Ok(_) => {}
                Err(e) => match classify(&resource, e) {
                    // A dropped connection on a busy API server: the watcher lists
                    // again on the next poll; a refusal (401/403/404) is final.
                    LiveError::Failed { .. } if transient < MAX_TRANSIENT_RETRIES => {
                        transient += 1;
                        // Info, not warn: the final error says it once; -v shows the retries.
                        tracing::info!(resource, transient, "transient list error; retrying");
                        tokio::time::sleep(Duration::from_millis(500 * u64::from(transient))).await;
                    }
                    err => return Err(err),
                },
            }
        }
        Err(LiveError::Failed {
            resource: resource.clone(),
            message: "the watch ended before the initial list completed".into(),
        })
    };
    match tokio::time::timeout(timeout, drive).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(LiveError::Timeout {
                resource,
                seconds: timeout.as_secs(),
                from: String::new(),
            });
        }
    }
    Ok(store.state().into_iter().map(|o| (*o).clone()).collect())
}

fn classify(resource: &str, e: watcher::Error) -> LiveError {
    let api_status = match &e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.as_ref()),
        watcher::Error::WatchError(s) => Some(s.as_ref()),
        _ => None,
    };
    match api_status {
        Some(s) => LiveError::Refused {
            resource: resource.to_owned(),
            code: s.code,
            message: s.message.clone(),
            hint: match s.code {
                401 => {
                    "your credentials were not accepted; log in again or check --kubeconfig/--context"
                }
                403 => {
                    "your user may not list them; ask for read access (kubectl auth can-i list ...)"
                }
                404 => "this cluster does not serve that API; check the cluster version",
                _ => "check the cluster's health",
            },
        },
        None => LiveError::Failed {
            resource: resource.to_owned(),
            message: one_line(&e.to_string()),
        },
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
