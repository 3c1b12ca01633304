// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The overhead benchmark's baseline: cgroup_skb programs that do nothing, attached where
// the agent's are. Their ns per run (kernel.bpf_stats_enabled) is what the kernel's
// dispatch and its own run-time accounting cost, which every program pays; the agent's
// figure minus this one is what its work costs. Never shipped (agent/bench only).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/egress")
int empty_egress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/ingress")
int empty_ingress(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
