#!/usr/bin/env bash
# README's "run the main job": builds kubectl-vault and runs `kubectl vault top` and
# `kubectl vault gravity` on the example bundled in assets/examples/demo (a cluster dump
# and AWS VPC flow logs that reproduce DESIGN's worked example, plus more workloads).
#   bash scripts/demo.sh          # the bundled example
#   bash scripts/demo.sh --live   # also a live test cluster (tests/cluster, scenario small)
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh

echo "== building kubectl-vault" >&2
cargo build -p kubectl-vault --locked >&2
BIN_DIR="$CARGO_TARGET_DIR/debug"
export PATH="$BIN_DIR:$PATH"
# kubectl runs plugins named kubectl-<name> from PATH; without kubectl, call it directly.
if command -v kubectl >/dev/null 2>&1; then VAULT=(kubectl vault); else VAULT=(kubectl-vault); fi

EX=assets/examples/demo
run() {
  echo
  echo "\$ kubectl vault $*"
  "${VAULT[@]}" "$@"
}
run top --from-file "$EX/cluster"
run top --from-file "$EX/cluster" --by namespace
run gravity --from-file "$EX/cluster" --flows "$EX/flows/worked-example.log" --flows "$EX/flows/shop-v5.log.gz"
run gravity --from-file "$EX/cluster/01-worked-example.yaml" --flows "$EX/flows/worked-example.log" -o json

if [ "${1:-}" = "--live" ]; then
  [ -x tests/cluster/up ] || { echo "demo: tests/cluster/up is not in this checkout yet" >&2; exit 1; }
  tests/cluster/build >&2
  KUBECONFIG="$(tests/cluster/up --name demo --scenario small | tail -n 1)"
  export KUBECONFIG
  trap 'tests/cluster/down --name demo >/dev/null 2>&1 || true' EXIT
  run top -A
  run gravity -A
fi
