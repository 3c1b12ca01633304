#!/usr/bin/env bash
# Overhead of vault-agent on this machine (root). A benchmark program, not a test: it
# prints figures for docs/benchmarks.md, each against a baseline measured in this run.
#  1. ns per program run (kernel.bpf_stats_enabled=1: run_time_ns / run_cnt), egress and
#     ingress, against empty programs attached at the same cgroup (the baseline: what
#     the kernel's dispatch and its run-time accounting cost any program);
#  2. iperf3 throughput between two network namespaces, without and with the agent
#     attached (alternating runs, median of each);
#  3. the agent's RSS and CPU with 1k, 10k and 100k distinct remote addresses.
# Usage: agent/bench/overhead.sh [seconds per iperf3 run, default 5] [pairs, default 5] [--no-rss]
set -euo pipefail
. "$(dirname "$0")/../../scripts/env.sh"
cd "$REPO_ROOT"
SECS="${1:-5}"
PAIRS="${2:-5}"
RSS="${3:-}"
cargo build --release -p vault-agent --bin vault-agent --example attach_empty --locked >&2
AGENT="$CARGO_TARGET_DIR/release/vault-agent"
EMPTY="$CARGO_TARGET_DIR/release/examples/attach_empty"
grep -qs ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
CG2="$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)"
ROOT="$CG2/cvb-bench"
POD="$ROOT/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555/0123456789abcdef0123456789abcdef"
PINS=/sys/fs/bpf/cvb-bench
STATS_BEFORE="$(cat /proc/sys/kernel/bpf_stats_enabled)"
AGENT_PID=""
SRV_PID=""
EMPTY_PID=""

cleanup() {
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null || true
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
  [ -n "$EMPTY_PID" ] && kill "$EMPTY_PID" 2>/dev/null || true
  "$AGENT" --unpin --pin-dir "$PINS" 2>/dev/null || true
  for ns in cvb-a cvb-b; do ip netns del "$ns" 2>/dev/null || true; done
  if [ -d "$ROOT" ]; then
    find "$ROOT" -depth -type d | while read -r d; do xargs -r kill -9 < "$d/cgroup.procs" 2>/dev/null || true; done
    sleep 0.2
    find "$ROOT" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  fi
  sysctl -qw kernel.bpf_stats_enabled="$STATS_BEFORE" || true
}
trap cleanup EXIT INT TERM
cleanup

mkdir -p "$POD"
ip netns add cvb-a; ip netns add cvb-b
ip link add cvba netns cvb-a type veth peer name cvbb netns cvb-b
ip -n cvb-a addr add 10.250.0.1/24 dev cvba; ip -n cvb-a link set cvba up; ip -n cvb-a link set lo up
ip -n cvb-b addr add 10.250.0.2/24 dev cvbb; ip -n cvb-b link set cvbb up; ip -n cvb-b link set lo up
# Distinct remotes for the RSS/CPU figures go out through B, which drops them.
ip -n cvb-a route add 10.64.0.0/10 via 10.250.0.2
ip netns exec cvb-b iperf3 -s -p 5299 >/dev/null 2>&1 &
SRV_PID=$!
sleep 0.5

in_pod() { bash -c "echo \$\$ > $POD/cgroup.procs && exec ip netns exec cvb-a $*"; }
gbps() { in_pod iperf3 -c 10.250.0.2 -p 5299 -t "$SECS" -J | jq '.end.sum_received.bits_per_second / 1e9'; }
start_agent() {
  "$AGENT" --standalone --cgroup-root "$ROOT" --pin-dir "$PINS" --listen 127.0.0.1:19480 \
    --map-size 262144 --interval "$1" 2>/dev/null &
  AGENT_PID=$!
  for _ in $(seq 1 100); do curl -sf 127.0.0.1:19480/readyz >/dev/null && return; sleep 0.1; done
  echo "agent did not start" >&2; exit 1
}
stop_agent() { kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=""; "$AGENT" --unpin --pin-dir "$PINS" 2>/dev/null; }
# run_time_ns / run_cnt of each BPF program a process holds, in fd order (both loaders
# load egress first): "egress_ns ingress_ns runs".
prog_ns() {
  for fd in $(ls /proc/"$1"/fdinfo | sort -n); do
    grep -q '^prog_type:' /proc/"$1"/fdinfo/"$fd" 2>/dev/null || continue
    awk '/^run_time_ns:/ {t=$2} /^run_cnt:/ {c=$2} END {printf "%.1f %d\n", (c > 0 ? t/c : 0), c}' /proc/"$1"/fdinfo/"$fd"
  done | awk '{ns[NR]=$1; n+=$2} END {printf "%s %s %d\n", ns[1], ns[2], n}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "## throughput and ns/run ($PAIRS alternating pairs of ${SECS}s iperf3 runs)"
sysctl -qw kernel.bpf_stats_enabled=1
: > /tmp/cvb-off; : > /tmp/cvb-on; : > /tmp/cvb-ns; : > /tmp/cvb-empty
for i in $(seq 1 "$PAIRS"); do
  gbps >> /tmp/cvb-off
  start_agent 10s
  gbps >> /tmp/cvb-on
  prog_ns "$AGENT_PID" >> /tmp/cvb-ns
  stop_agent
  # The baseline: the same traffic through empty programs at the same cgroup.
  coproc EMPTYP { exec "$EMPTY" "$ROOT"; }
  EMPTY_PID=$EMPTYP_PID
  read -r line <&"${EMPTYP[0]}"
  [ "$line" = ready ] || { echo "attach_empty did not start" >&2; exit 1; }
  gbps >/dev/null
  prog_ns "$EMPTY_PID" >> /tmp/cvb-empty
  kill "$EMPTY_PID"; wait "$EMPTY_PID" 2>/dev/null || true; EMPTY_PID=""
done
OFF="$(median < /tmp/cvb-off)"; ON="$(median < /tmp/cvb-on)"
echo "throughput without agent (median Gbit/s): $OFF   runs: $(tr '\n' ' ' < /tmp/cvb-off)"
echo "throughput with agent    (median Gbit/s): $ON   runs: $(tr '\n' ' ' < /tmp/cvb-on)"
echo "ratio with/without: $(echo "$ON $OFF" | awk '{printf "%.3f", $1/$2}')"
for side in egress:1 ingress:2; do
  col="${side#*:}"
  agent="$(awk -v c="$col" '{print $c}' /tmp/cvb-ns | median)"
  empty="$(awk -v c="$col" '{print $c}' /tmp/cvb-empty | median)"
  echo "ns per ${side%:*} run: agent $agent (runs: $(awk -v c="$col" '{printf "%s ", $c}' /tmp/cvb-ns)), empty program $empty (runs: $(awk -v c="$col" '{printf "%s ", $c}' /tmp/cvb-empty)), agent minus empty $(echo "$agent $empty" | awk '{printf "%.1f", $1-$2}')"
done
echo "program runs counted: agent $(awk '{s+=$3} END {print s}' /tmp/cvb-ns), empty $(awk '{s+=$3} END {print s}' /tmp/cvb-empty)"
sysctl -qw kernel.bpf_stats_enabled="$STATS_BEFORE"

[ "$RSS" = --no-rss ] && exit 0
echo
echo "## agent RSS and CPU by distinct remote addresses (drain every 10s, measured over 30s)"
for n in 1000 10000 100000; do
  start_agent 10s
  base_rss="$(awk '/^VmRSS:/ {print $2}' /proc/"$AGENT_PID"/status)"
  # One UDP datagram to each of n addresses in 10.64.0.0/10, from the pod.
  in_pod python3 -c "'
import socket, ipaddress
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
base = int(ipaddress.IPv4Address(\"10.64.0.0\"))
for i in range($n):
    s.sendto(b\"x\", (str(ipaddress.IPv4Address(base + 1 + i)), 9))
'"
  sleep 11  # one drain sees them all
  read -r u0 s0 < <(awk '{print $14, $15}' /proc/"$AGENT_PID"/stat)
  sleep 30
  read -r u1 s1 < <(awk '{print $14, $15}' /proc/"$AGENT_PID"/stat)
  tck="$(getconf CLK_TCK)"
  rss="$(awk '/^VmRSS:/ {print $2}' /proc/"$AGENT_PID"/status)"
  entries="$(curl -s 127.0.0.1:19480/metrics | awk '/^cloudvault_agent_map_entries / {print $2}')"
  drain="$(curl -s 127.0.0.1:19480/metrics | awk '/^cloudvault_agent_drain_seconds / {print $2}')"
  memlock="$(for fd in /proc/"$AGENT_PID"/fdinfo/*; do awk '/^map_type:/ {m=1} /^memlock:/ && m {print $2}' "$fd" 2>/dev/null; done | awk '{s+=$1} END {print s}')"
  cpu="$(echo "$u0 $s0 $u1 $s1 $tck" | awk '{printf "%.2f", (($3+$4)-($1+$2))/$5/30*100}')"
  echo "remotes $n: map entries $entries, RSS ${rss} KiB (at start ${base_rss} KiB), CPU ${cpu}% of one core, last drain ${drain}s, kernel map memory $((memlock / 1024)) KiB"
  stop_agent
done
