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
    tests/cluster/down --name "$CV_CI_CLUSTER" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# Unit tests first: fast, no network.
cargo test --workspace --lib --bins --locked 2>&1

# A real control plane for the integration tests.
if [ -x tests/cluster/up ]; then
  tests/cluster/build
  # One cluster name per checkout: other clones on this machine may be testing at once.
  CV_CI_CLUSTER="ci-$(printf %s "$REPO_ROOT" | cksum | cut -d' ' -f1)"
  tests/cluster/down --name "$CV_CI_CLUSTER" # a cluster left by an interrupted earlier run
  export CV_CLUSTER_STARTED=1 # set before up: a failed start still leaves state to remove
  KUBECONFIG="$(tests/cluster/up --name "$CV_CI_CLUSTER" --scenario small | tail -n 1)"
  export KUBECONFIG
  for t in tests/cluster/tests/*.sh; do
    [ -e "$t" ] && bash "$t" --name "$CV_CI_CLUSTER"
  done
fi

cargo test --workspace --tests --locked 2>&1

# The agent's kernel tests (root, network namespaces, cgroups).
if [ -x agent/tests/run-root.sh ]; then
  agent/tests/run-root.sh
fi
