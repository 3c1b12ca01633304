# Shared by tests/cluster/{build,up,down,restart-apiserver}; sourced, not run.
# shellcheck shell=bash
CLUSTER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$CLUSTER_DIR/../../scripts/env.sh"
. "$CLUSTER_DIR/versions.env"
BIN_DIR="$CLUSTER_DIR/bin"
CVCLUSTER="$BIN_DIR/cvcluster"
KWOK="$BIN_DIR/kwok"
# Every cluster keeps its state (etcd data, PKI, kubeconfig, logs, pids) in one directory.
CLUSTERS_ROOT="${CV_CLUSTERS_ROOT:-${TMPDIR:-/tmp}/cloudvault-clusters}"

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
log() { echo "$(basename "$0"): $*" >&2; }

# parse_args "$@": sets NAME (default "cloudvault") and SCENARIO; rejects unknown flags.
parse_args() {
  NAME=cloudvault
  SCENARIO=small
  while [ $# -gt 0 ]; do
    case "$1" in
      --name) [ $# -ge 2 ] || die "--name needs a value"; NAME="$2"; shift 2 ;;
      --name=*) NAME="${1#--name=}"; shift ;;
      --scenario) [ $# -ge 2 ] || die "--scenario needs a value"; SCENARIO="$2"; shift 2 ;;
      --scenario=*) SCENARIO="${1#--scenario=}"; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument '$1'; see --help" ;;
    esac
  done
  [[ "$NAME" =~ ^[a-z0-9][a-z0-9-]{0,40}$ ]] ||
    die "cluster name '$NAME' must be lowercase letters, digits and '-' (at most 41)"
  STATE="$CLUSTERS_ROOT/$NAME"
}

kc() { "$CVCLUSTER" kubectl --kubeconfig "$STATE/kubeconfig" "$@"; }

is_running() { # is_running COMPONENT
  local pid
  [ -f "$STATE/pids/$1" ] && pid="$(cat "$STATE/pids/$1")" && kill -0 "$pid" 2>/dev/null
}

# launch COMPONENT: runs the command line saved in $STATE/cmd/COMPONENT in its own session,
# appending to $STATE/logs/COMPONENT.log, and records its pid.
launch() {
  local c="$1"
  mapfile -t argv < "$STATE/cmd/$c"
  setsid "${argv[@]}" >> "$STATE/logs/$c.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pids/$c"
}

# save_cmd COMPONENT ARGV...: one argument per line, so restart-apiserver can rerun it.
save_cmd() {
  local c="$1"; shift
  printf '%s\n' "$@" > "$STATE/cmd/$c"
}

stop_component() { # stop_component COMPONENT: TERM, then KILL after 10 s
  local c="$1" pid i
  [ -f "$STATE/pids/$c" ] || return 0
  pid="$(cat "$STATE/pids/$c")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/pids/$c"
}

# Start order; stopped in reverse.
COMPONENTS=(etcd apiserver controller-manager scheduler kwok csi)
