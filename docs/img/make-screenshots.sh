#!/usr/bin/env bash
# Makes the README's TUI screenshots from real runs: starts `kubectl vault` in tmux on
# the bundled example (and, with --live, on the test control plane), sends keys,
# captures the screen with colours and renders it to PNG (docs/img/ansi2png.py).
#   bash docs/img/make-screenshots.sh [--live]
set -euo pipefail
. "$(dirname "$0")/../../scripts/env.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
VENV="$HOME/.cache/cloudvault/venv-tui"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import PIL' 2>/dev/null || "$VENV/bin/pip" install -q pillow
cargo build -p kubectl-vault --locked >&2
BIN="$CARGO_TARGET_DIR/debug/kubectl-vault"
EX=assets/examples/demo
OUT=docs/img
SOCK="cv-shots-$$"
T() { tmux -L "$SOCK" "$@"; }
trap 'T kill-server 2>/dev/null || true' EXIT

shot() { # NAME KEYS...
  local name=$1; shift
  for k in "$@"; do
    case "$k" in
      Enter|Escape|Tab|Down|Up) T send-keys "$k" ;;
      *) T send-keys -l "$k" ;;
    esac
    sleep 0.3
  done
  sleep 0.5
  T capture-pane -e -p > "$OUT/$name.ansi"
  "$VENV/bin/python" "$OUT/ansi2png.py" "$OUT/$name.ansi" "$OUT/$name.png"
  rm -f "$OUT/$name.ansi"
  echo "$OUT/$name.png"
}

start() { # ARGS...
  T kill-server 2>/dev/null || true
  T new-session -d -x 140 -y 40 "$BIN $* --log-file /tmp/cloudvault-shots.log; sleep 60"
  sleep 2
}

start --from-file "$EX/cluster" --flows "$EX/flows/worked-example.log" --flows "$EX/flows/shop-v5.log.gz"
shot tui-overview
shot tui-gravity ":gravity" Enter
shot tui-details "/pg" Enter Enter
shot tui-volumes Escape Escape ":volumes" Enter

if [ "${1:-}" = "--live" ]; then
  KUBECONFIG="$(tests/cluster/up --name shots --scenario small | tail -n 1)"
  trap 'T kill-server 2>/dev/null || true; tests/cluster/down --name shots >/dev/null 2>&1 || true' EXIT
  start --kubeconfig "$KUBECONFIG" -A
  shot tui-live-gravity ":gravity" Enter
fi
