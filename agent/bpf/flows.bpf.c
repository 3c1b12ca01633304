// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vault-agent kernel side: counts the L3 bytes and packets every socket of a cgroup sends
// and receives, keyed by the socket's cgroup v2 id and the remote address.
//
// Attached as cgroup_skb egress and ingress at the cgroup that holds kubelet's pods (or
// the cgroup root), so one pair of programs sees every pod. It never drops a packet.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10

// 32 bytes; user space reads it as [u8; 32] (see agent/src/kernel.rs).
struct flow_key {
	__u64 cgroup_id;
	__u8 addr[16]; // IPv4 in the first 4 bytes, rest zero
	__u32 family;  // AF_INET or AF_INET6
	__u32 pad;
};

struct flow_val {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 rx_packets;
};

// Size is set by the loader (--map-size); LRU so a full map evicts idle flows instead of
// dropping new ones. Pinned so counts survive agent restarts and upgrades.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

// Health counters, per CPU (no contention): see STAT_* below and agent/src/kernel.rs.
#define STAT_INSERTS 0
#define STAT_INSERT_FAILED 1
#define STAT_NO_ADDR 2
#define STAT_MAX 4
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

// meta[0]: when the maps were first created (unix ns), written once by user space, so
// "cumulative since the first start" survives agent restarts.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} meta SEC(".maps");

// cgroup id -> its path (length byte + bytes), written by user space only: a restarted
// agent still attributes counters of containers that exited while it was down.
struct cgroup_path {
	__u8 b[256];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct cgroup_path);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgroups SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		*v += 1;
}

// Bytes and packets this skb is on the wire. A GSO skb leaves as gso_segs packets, each
// with its own IP and L4 header, and clouds bill those bytes, so add the repeated headers
// the way NIC drivers count TSO bytes.
static __always_inline void wire_size(struct __sk_buff *skb, __u32 l3_hdr, __u8 proto,
				      __u64 *bytes, __u64 *packets)
{
	__u32 segs = skb->gso_segs;
	*bytes = skb->len;
	*packets = 1;
	if (segs <= 1)
		return;
	__u32 l4_hdr = 0;
	if (proto == IPPROTO_TCP) {
		__u8 doff;
		if (bpf_skb_load_bytes(skb, l3_hdr + 12, &doff, 1) == 0)
			l4_hdr = (doff >> 4) * 4;
	} else if (proto == IPPROTO_UDP) {
		l4_hdr = 8;
	}
	*bytes += (__u64)(segs - 1) * (l3_hdr + l4_hdr);
	*packets = segs;
}

static __always_inline int account(struct __sk_buff *skb, int egress)
{
	struct flow_key key = {};
	__u32 l3_hdr;
	__u8 proto;

	key.cgroup_id = bpf_skb_cgroup_id(skb);
	// One load of the fixed IP header per packet (helper calls dominate the cost).
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 h[20];
		if (bpf_skb_load_bytes(skb, 0, h, sizeof(h))) {
			bump(STAT_NO_ADDR);
			return 1;
		}
		l3_hdr = (h[0] & 0x0f) * 4;
		proto = h[9];
		__builtin_memcpy(key.addr, egress ? &h[16] : &h[12], 4);
		key.family = AF_INET;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u8 h[40];
		if (bpf_skb_load_bytes(skb, 0, h, sizeof(h))) {
			bump(STAT_NO_ADDR);
			return 1;
		}
		proto = h[6];
		__builtin_memcpy(key.addr, egress ? &h[24] : &h[8], 16);
		l3_hdr = 40;
		key.family = AF_INET6;
	} else {
		return 1;
	}

	__u64 bytes, packets;
	wire_size(skb, l3_hdr, proto, &bytes, &packets);

	struct flow_val *v = bpf_map_lookup_elem(&flows, &key);
	if (!v) {
		struct flow_val zero = {};
		// NOEXIST: another CPU may have inserted it meanwhile; then add to theirs.
		if (bpf_map_update_elem(&flows, &key, &zero, BPF_NOEXIST) == 0)
			bump(STAT_INSERTS);
		v = bpf_map_lookup_elem(&flows, &key);
		if (!v) {
			bump(STAT_INSERT_FAILED);
			return 1;
		}
	}
	if (egress) {
		__sync_fetch_and_add(&v->tx_bytes, bytes);
		__sync_fetch_and_add(&v->tx_packets, packets);
	} else {
		__sync_fetch_and_add(&v->rx_bytes, bytes);
		__sync_fetch_and_add(&v->rx_packets, packets);
	}
	return 1;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	return account(skb, 1);
}

SEC("cgroup_skb/ingress")
int count_ingress(struct __sk_buff *skb)
{
	return account(skb, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
