//! Test-only helpers for integration tests: a real Kubernetes control plane from
//! `tests/cluster` (etcd, kube-apiserver, scheduler, controller-manager, KWOK and the test
//! CSI controller), never a mock.
//!
//! [`test_cluster`] uses `$KUBECONFIG` when it is set (CI starts one cluster for all test
//! binaries), else starts a cluster with the `small` scenario, shared by the tests of this
//! process and stopped when the last [`TestCluster`] of it is dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Errors of the test kit; each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// `tests/cluster/up` could not be run or failed.
    #[error(
        "tests/cluster/up --name {name} failed ({status}); logs: {logs}; last output:\n{output}"
    )]
    Start {
        /// Cluster name passed to `up`.
        name: String,
        /// Exit status, or why it could not run.
        status: String,
        /// Where the component logs are.
        logs: String,
        /// The tail of its stderr.
        output: String,
    },
    /// The kubeconfig could not be read or used.
    #[error("kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The kubeconfig path.
        path: PathBuf,
        /// What kube reported.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// A client could not be built from a valid kubeconfig.
    #[error("kube client for {path}: {source}")]
    Client {
        /// The kubeconfig path.
        path: PathBuf,
        /// What kube reported.
        #[source]
        source: kube::Error,
    },
}

/// A running test cluster; use [`TestCluster::client`] or `kubeconfig` (e.g. for kubectl).
#[derive(Debug, Clone)]
pub struct TestCluster {
    /// Path of the cluster's admin kubeconfig.
    pub kubeconfig: PathBuf,
    // Held only to keep a cluster this process started alive; its Drop stops it.
    _owned: Option<Arc<Started>>,
}

/// A cluster started by this process; stopped with `tests/cluster/down` when dropped.
#[derive(Debug)]
struct Started {
    name: String,
    kubeconfig: PathBuf,
}

impl Drop for Started {
    fn drop(&mut self) {
        let status = Command::new(cluster_dir().join("down"))
            .args(["--name", &self.name])
            .stdout(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            tracing::warn!(name = %self.name, ?status, "tests/cluster/down failed; stop it by hand");
        }
    }
}

// The cluster shared by the tests of this process while any of them holds it.
static SHARED: Mutex<Weak<Started>> = Mutex::new(Weak::new());

/// The repository's `tests/cluster` directory.
pub fn cluster_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cluster")
}

/// Gets a cluster for an integration test: `$KUBECONFIG` when set, else one started with
/// `tests/cluster/up --name <unique> --scenario small` (which builds the harness if needed).
pub fn test_cluster() -> Result<TestCluster, TestkitError> {
    if let Some(path) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
        return Ok(TestCluster {
            kubeconfig: PathBuf::from(path),
            _owned: None,
        });
    }
    // Hold the lock while starting so parallel tests share one cluster, not start several.
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(started) = shared.upgrade() {
        return Ok(TestCluster {
            kubeconfig: started.kubeconfig.clone(),
            _owned: Some(started),
        });
    }
    let started = Arc::new(start(&format!("cvtest-{}", std::process::id()))?);
    *shared = Arc::downgrade(&started);
    Ok(TestCluster {
        kubeconfig: started.kubeconfig.clone(),
        _owned: Some(started),
    })
}

fn start(name: &str) -> Result<Started, TestkitError> {
    let fail = |status: String, output: &[u8]| {
        let text = String::from_utf8_lossy(output);
        let lines: Vec<&str> = text.lines().collect();
        TestkitError::Start {
            name: name.to_owned(),
            status,
            logs: format!("/tmp/cloudvault-clusters/{name}/logs (unless CV_CLUSTERS_ROOT is set)"),
            output: lines[lines.len().saturating_sub(40)..].join("\n"),
        }
    };
    let out = Command::new(cluster_dir().join("up"))
        .args(["--name", name, "--scenario", "small"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(format!("could not run: {e}"), &[]))?;
    if !out.status.success() {
        return Err(fail(out.status.to_string(), &out.stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(last) = stdout.lines().last().filter(|l| !l.trim().is_empty()) else {
        return Err(fail("printed no kubeconfig path".into(), &out.stderr));
    };
    Ok(Started {
        name: name.to_owned(),
        kubeconfig: PathBuf::from(last.trim()),
    })
}

impl TestCluster {
    /// A client with the cluster's admin credential.
    pub async fn client(&self) -> Result<kube::Client, TestkitError> {
        let path = self.kubeconfig.clone();
        let kubeconfig =
            Kubeconfig::read_from(&path).map_err(|source| TestkitError::Kubeconfig {
                path: path.clone(),
                source,
            })?;
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|source| TestkitError::Kubeconfig {
                    path: path.clone(),
                    source,
                })?;
        kube::Client::try_from(config).map_err(|source| TestkitError::Client { path, source })
    }
}
