#!/usr/bin/env bash
# Runs every test: unit tests, then the integration tests against a real control plane
# (tests/cluster), then the agent's tests on the real kernel. Stops what it started, even
# on failure.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh

cleanup() {
  if [ -n "${CV_CLUSTER_STARTED:-}" ]; then
    tests/cluster/down --name ci >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# Unit tests first: fast, no network.
cargo test --workspace --lib --bins --locked 2>&1

# A real control plane for the integration tests.
if [ -x tests/cluster/up ]; then
  tests/cluster/build
  tests/cluster/down --name ci # a cluster left by an interrupted earlier run
  export CV_CLUSTER_STARTED=1 # set before up: a failed start still leaves state to remove
  KUBECONFIG="$(tests/cluster/up --name ci --scenario small | tail -n 1)"
  export KUBECONFIG
  for t in tests/cluster/tests/*.sh; do
    [ -e "$t" ] && bash "$t" --name ci
  done
fi

cargo test --workspace --tests --locked 2>&1

# The agent's kernel tests (root, network namespaces, cgroups).
if [ -x agent/tests/run-root.sh ]; then
  agent/tests/run-root.sh
fi
