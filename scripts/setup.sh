#!/usr/bin/env bash
# Installs what the project needs on a fresh machine (Debian packages); idempotent.
set -euo pipefail
. "$(dirname "$0")/env.sh"
pkgs=(clang llvm libbpf-dev iproute2 iperf3 tmux jq conntrack iptables)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
