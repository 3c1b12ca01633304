#!/usr/bin/env bash
# Benchmark program for `kubectl vault top` (prints figures; not a timed test).
# On the `scale` scenario of tests/cluster (10k bound PVCs) it runs, alternately and
# RUNS times each, `kubectl vault top -A` and `kubectl get nodes,pods,pvc,pv,sc -A -o json`,
# and prints median wall time and peak RSS of both with their ratios; then it times the
# SIG + cost + gravity analyses on a dump of the same cluster.
#   bash scripts/bench-top.sh                # starts (and stops) a scale cluster
#   KUBECONFIG=... bash scripts/bench-top.sh # uses a running cluster
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
RUNS="${RUNS:-5}"
command -v kubectl >/dev/null || { echo "bench-top: kubectl is not on PATH; it is the baseline" >&2; exit 1; }

cargo build --release --locked -p kubectl-vault --bin kubectl-vault --example bench_analyses >&2
VAULT="$CARGO_TARGET_DIR/release/kubectl-vault"
ANALYSES="$CARGO_TARGET_DIR/release/examples/bench_analyses"

if [ -z "${KUBECONFIG:-}" ]; then
  KUBECONFIG="$(tests/cluster/up --name bench --scenario scale | tail -n 1)"
  export KUBECONFIG
  trap 'tests/cluster/down --name bench >/dev/null 2>&1 || true' EXIT
fi

# measure CMD...: prints "<wall seconds> <peak RSS KiB>" of CMD and all it waits for.
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(f"{time.monotonic() - t:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "objects: $(kubectl get pvc -A --no-headers | wc -l) PVCs, $(kubectl get pods -A --no-headers | wc -l) pods, $(kubectl get nodes --no-headers | wc -l) nodes"
: >/tmp/bench-kubectl.txt; : >/tmp/bench-vault.txt
for _ in $(seq "$RUNS"); do
  measure kubectl get nodes,pods,pvc,pv,sc -A -o json >>/tmp/bench-kubectl.txt
  measure "$VAULT" top -A -o json --request-timeout 600 >>/tmp/bench-vault.txt
done
kw=$(cut -d' ' -f1 /tmp/bench-kubectl.txt | median); km=$(cut -d' ' -f2 /tmp/bench-kubectl.txt | sort -n | tail -1)
vw=$(cut -d' ' -f1 /tmp/bench-vault.txt | median); vm=$(cut -d' ' -f2 /tmp/bench-vault.txt | sort -n | tail -1)
echo "kubectl get nodes,pods,pvc,pv,sc -A -o json: median wall ${kw}s, peak RSS ${km} KiB ($RUNS runs)"
echo "kubectl vault top -A -o json:                median wall ${vw}s, peak RSS ${vm} KiB ($RUNS runs)"
awk -v a="$vw" -v b="$kw" 'BEGIN {printf "wall ratio vault/kubectl: %.2f (goal <= 1.25)\n", a / b}'
awk -v a="$vm" -v b="$km" 'BEGIN {printf "peak RSS ratio vault/kubectl: %.2f (goal <= 1.00)\n", a / b}'

DUMP="$(mktemp -d)"
kubectl get nodes,pods,pvc,pv,sc,rs,deploy,sts,ds,jobs,cronjobs -A -o json >"$DUMP/cluster.json"
"$ANALYSES" "$DUMP/cluster.json"
rm -rf "$DUMP"
