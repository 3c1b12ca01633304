#!/usr/bin/env bash
# Acceptance of restart-apiserver: existing objects are intact afterwards and a
# `kubectl get -w` client reconnects and sees new events.
# Usage: restart-apiserver.sh [--name NAME]   (a running cluster; default name cloudvault)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
usage() { echo "usage: tests/cluster/tests/restart-apiserver.sh [--name NAME]"; }
parse_args "$@"
fail() { echo "restart-apiserver.sh: FAIL: $*" >&2; exit 1; }
ns=watch-check-$$
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; kc delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

kc create namespace "$ns" >/dev/null
kc create configmap before -n "$ns" --from-literal=k=v >/dev/null
snapshot() {
  # Every object the restart must keep, by name, uid and phase (status heartbeats may change
  # versions). Only the scenario's namespaces: other tests may be creating or deleting theirs.
  kc get nodes,pv,storageclasses,volumeattributesclasses,namespaces,pvc,pods,statefulsets,deployments,configmaps,volumesnapshots \
    -A -o json | jq -r --arg ns "$ns" '
      ["", "default", "kube-system", "kube-public", "kube-node-lease", "shop", "analytics", $ns] as $keep
      | .items[]
      | (if .kind == "Namespace" then .metadata.name
         elif .kind == "PersistentVolume" then (.spec.claimRef.namespace // "")
         else (.metadata.namespace // "") end) as $owner
      | select($keep | index($owner))
      | "\(.kind)/\(.metadata.namespace // "")/\(.metadata.name) \(.metadata.uid) \(.status.phase // "")"'
}
snapshot | sort > "$work/before"
[ "$(wc -l < "$work/before")" -gt 20 ] || fail "too few objects to compare: $(wc -l < "$work/before")"

# A watch that is open across the restart.
kc get configmaps -n "$ns" -w -o name > "$work/watch1" 2> "$work/watch1.err" &
watch1=$!
sleep 2
"$CLUSTER_DIR/restart-apiserver" --name "$NAME"

# Objects are intact: the same names, uids and phases.
snapshot | sort > "$work/after"
diff -u "$work/before" "$work/after" > "$work/diff" || {
  head -n 40 "$work/diff" >&2; fail "objects changed across the restart"; }
echo "restart-apiserver.sh: $(wc -l < "$work/after") objects intact across the restart" >&2

# kubectl get -w does not retry by itself: the server closing the stream ends it (exit 0).
for _ in $(seq 50); do kill -0 "$watch1" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$watch1" 2>/dev/null; then
  echo "restart-apiserver.sh: the first kubectl get -w survived the restart" >&2
else
  echo "restart-apiserver.sh: the first kubectl get -w ended when the apiserver stopped (as upstream kubectl does)" >&2
fi
# A client that reconnects, as a watch loop does, sees the events after the restart.
kc get configmaps -n "$ns" -w -o name > "$work/watch2" 2> "$work/watch2.err" &
sleep 2
kc create configmap after-restart -n "$ns" --from-literal=k=v >/dev/null
for _ in $(seq 100); do
  grep -q 'configmap/after-restart' "$work/watch2" && break
  sleep 0.2
done
grep -q 'configmap/after-restart' "$work/watch2" || {
  cat "$work/watch2" "$work/watch2.err" >&2; fail "the reconnected watch did not see configmap/after-restart"; }
grep -q 'configmap/before' "$work/watch2" || fail "the reconnected watch did not list configmap/before"
echo "restart-apiserver.sh: PASS (reconnected kubectl get -w saw the new configmap)" >&2
