#!/usr/bin/env bash
# The agent's tests on the real kernel: as root, with network namespaces as zones and
# kubelet-style cgroups. Mounts bpffs if absent and removes every cgroup, namespace and
# pin the tests made (all named cvt-*), also after a failure or an interrupt.
set -euo pipefail
. "$(dirname "$0")/../../scripts/env.sh"
cd "$REPO_ROOT"

if [ "$(id -u)" != 0 ]; then
  echo "agent/tests/run-root.sh: needs root (BPF, cgroups, network namespaces)" >&2
  exit 1
fi
if ! grep -qs ' /sys/fs/bpf bpf ' /proc/mounts; then
  mount -t bpf bpf /sys/fs/bpf
fi

cleanup() {
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cvt-' || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  cg2="$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)"
  if [ -n "$cg2" ]; then
    for root in "$cg2"/cvt-*; do
      [ -d "$root" ] || continue
      find "$root" -depth -type d | while read -r d; do
        xargs -r kill -9 < "$d/cgroup.procs" 2>/dev/null || true
      done
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        find "$root" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        [ -d "$root" ] || break
        sleep 0.2
      done
    done
  fi
  rm -rf /sys/fs/bpf/cvt-* 2>/dev/null || true
  # The Kubernetes-mode test's agent pod address.
  ip -o addr show dev lo label lo:cvt | awk '{print $4}' | xargs -r -I@ ip addr del @ dev lo
}
trap cleanup EXIT INT TERM
cleanup

cargo test -p vault-agent --test kernel --locked -- --ignored --test-threads=1 --nocapture 2>&1

# With the test control plane (scripts/test.sh exports its KUBECONFIG): the manifest
# against the real API server, and the agent in Kubernetes mode.
if [ -n "${KUBECONFIG:-}" ]; then
  if [ -n "${CVT_KUBECTL:-}" ]; then
    :
  elif [ -x tests/cluster/bin/cvcluster ]; then
    CVT_KUBECTL="$REPO_ROOT/tests/cluster/bin/cvcluster kubectl"
  else
    CVT_KUBECTL=kubectl
  fi
  export CVT_KUBECTL
  $CVT_KUBECTL create namespace cloudvault-system --dry-run=client -o yaml | $CVT_KUBECTL apply -f - >/dev/null
  cargo build -p kubectl-vault --locked 2>&1
  CVT_PLUGIN="$CARGO_TARGET_DIR/debug/kubectl-vault"
  export CVT_PLUGIN
  # The manifest the plugin embeds (assets/deploy/agent.yaml), as a user would apply it.
  echo "agent manifest: kubectl vault manifest | kubectl apply --dry-run=server"
  "$CVT_PLUGIN" manifest | $CVT_KUBECTL apply --dry-run=server -f -
  cargo test -p vault-agent --test kube --locked -- --ignored --test-threads=1 --nocapture 2>&1
  $CVT_KUBECTL delete namespace cloudvault-system --wait=false >/dev/null
else
  echo "agent: no KUBECONFIG, Kubernetes-mode test and manifest dry-run skipped (scripts/test.sh runs them with the test control plane)"
fi
