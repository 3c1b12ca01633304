//! The kernel side as user space sees it: checks that the node can run it, loads the
//! embedded programs, attaches them (or atomically swaps them into the links a previous
//! agent pinned), and reads the pinned counters.

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use aya::maps::{Array, HashMap, MapData, PerCpuArray};
use aya::programs::links::FdLink;
use aya::programs::{CgroupAttachMode, CgroupSkb, CgroupSkbAttachType};
use aya::{Ebpf, EbpfLoader};

use crate::mounts;
use crate::sys;

/// The clang-built object (agent/bpf/flows.bpf.c, compiled by build.rs).
static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/flows.bpf.o"));

const AF_INET: u32 = 2;
const AF_INET6: u32 = 10;
// Indices of the `stats` per-CPU array (STAT_* in flows.bpf.c).
const STAT_INSERTS: u32 = 0;
const STAT_INSERT_FAILED: u32 = 1;
const STAT_NO_ADDR: u32 = 2;

const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_BPF: u32 = 39;

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error(
        "this kernel has no BTF ({0} is missing): the agent needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distributions since 5.4); use such a node image"
    )]
    NoBtf(PathBuf),
    #[error(
        "no cgroup v2 hierarchy is mounted (only cgroup v1): the agent attaches to cgroup v2; boot the node with systemd.unified_cgroup_hierarchy=1 or mount one with `mount -t cgroup2 none /sys/fs/cgroup`"
    )]
    CgroupV1Only,
    #[error(
        "--cgroup-root {path}: not a cgroup v2 directory (it is on a {fstype} filesystem); point it at the cgroup2 mount or a directory under it"
    )]
    NotCgroup2 { path: PathBuf, fstype: String },
    #[error(
        "--cgroup-root {path}: cannot open ({source}); check the path exists and is mounted into the agent"
    )]
    OpenCgroup {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "missing capability {missing}: the agent needs CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN); run it as root or add them to securityContext.capabilities"
    )]
    MissingCapability { missing: &'static str },
    #[error(
        "--pin-dir {path}: not on a bpffs (it is on {fstype}); mount one with `mount -t bpf bpf /sys/fs/bpf` (and mount /sys/fs/bpf into the agent pod)"
    )]
    NotBpffs { path: PathBuf, fstype: String },
    #[error("--pin-dir {path}: cannot create ({source}); is /sys/fs/bpf mounted read-write?")]
    PinDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read /proc/self/{what} ({source})")]
    Proc {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "loading the BPF object failed: {0}; if pins in --pin-dir come from an incompatible agent version, remove that directory"
    )]
    Load(#[source] aya::EbpfError),
    #[error("BPF object has no {0}; the build is broken")]
    Missing(&'static str),
    #[error("{what}: {source}")]
    Program {
        what: String,
        #[source]
        source: aya::programs::ProgramError,
    },
    #[error("{what}: {source}")]
    Pin {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading map {name}: {source}")]
    Map {
        name: &'static str,
        #[source]
        source: aya::maps::MapError,
    },
}

/// Where and how to load.
#[derive(Debug, Clone)]
pub struct Options {
    pub cgroup_root: PathBuf,
    pub pin_dir: PathBuf,
    pub map_size: u32,
    pub btf_path: PathBuf,
}

/// Key of one counter: a socket's cgroup and the far end's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub cgroup_id: u64,
    pub remote: IpAddr,
}

/// L3 bytes and packets each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub rx_packets: u64,
}

/// The kernel programs' own counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// New map entries created.
    pub inserts: u64,
    /// Packets not counted because their entry could not be created.
    pub insert_failed: u64,
    /// Packets whose addresses could not be read.
    pub no_addr: u64,
}

/// Checks what the node must provide, in the order a person would fix them.
pub fn preflight(opts: &Options) -> Result<(), KernelError> {
    if !opts.btf_path.exists() {
        return Err(KernelError::NoBtf(opts.btf_path.clone()));
    }
    let mounts = mounts::read().map_err(|source| KernelError::Proc {
        what: "mountinfo",
        source,
    })?;
    if mounts::cgroup2(&mounts).is_none() {
        return Err(KernelError::CgroupV1Only);
    }
    match mounts::mount_of(&mounts, &opts.cgroup_root) {
        Some(m) if m.fstype == "cgroup2" => {}
        other => {
            return Err(KernelError::NotCgroup2 {
                path: opts.cgroup_root.clone(),
                fstype: other.map_or_else(|| "unknown".to_owned(), |m| m.fstype.clone()),
            });
        }
    }
    let status =
        std::fs::read_to_string("/proc/self/status").map_err(|source| KernelError::Proc {
            what: "status",
            source,
        })?;
    if let Some(missing) = missing_capability(&status) {
        return Err(KernelError::MissingCapability { missing });
    }
    // Check the filesystem before creating anything: a pin directory made on the wrong
    // filesystem would only confuse the next attempt.
    match mounts::mount_of(&mounts, &opts.pin_dir) {
        Some(m) if m.fstype == "bpf" => {}
        other => {
            return Err(KernelError::NotBpffs {
                path: opts.pin_dir.clone(),
                fstype: other.map_or_else(|| "no known mount".to_owned(), |m| m.fstype.clone()),
            });
        }
    }
    std::fs::create_dir_all(&opts.pin_dir).map_err(|source| KernelError::PinDir {
        path: opts.pin_dir.clone(),
        source,
    })
}

/// Which needed capability the effective set (CapEff in /proc/self/status) lacks.
pub fn missing_capability(status: &str) -> Option<&'static str> {
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    let has = |cap: u32| eff & (1u64 << cap) != 0;
    if has(CAP_SYS_ADMIN) {
        return None;
    }
    if !has(CAP_BPF) {
        return Some("CAP_BPF");
    }
    if !has(CAP_NET_ADMIN) {
        return Some("CAP_NET_ADMIN");
    }
    None
}

/// The loaded programs and their maps. Dropping it leaves the pinned links attached and
/// the pinned maps counting: the kernel keeps working while no agent runs.
#[derive(Debug)]
pub struct Probe {
    ebpf: Ebpf,
    /// How the programs got attached: "attached" (first start) or "replaced" (the pinned
    /// links now run this agent's programs).
    pub attach_mode: &'static str,
    pub map_size: u32,
    /// When the counters were first created (unix seconds).
    pub first_start: u64,
}

const PROGRAMS: [(&str, CgroupSkbAttachType, &str); 2] = [
    ("count_egress", CgroupSkbAttachType::Egress, "link_egress"),
    (
        "count_ingress",
        CgroupSkbAttachType::Ingress,
        "link_ingress",
    ),
];

impl Probe {
    pub fn load(opts: &Options) -> Result<Self, KernelError> {
        preflight(opts)?;
        let mut ebpf = EbpfLoader::new()
            .default_map_pin_directory(&opts.pin_dir)
            .map_max_entries("flows", opts.map_size)
            .load(OBJECT)
            .map_err(KernelError::Load)?;
        let cgroup = File::open(&opts.cgroup_root).map_err(|source| KernelError::OpenCgroup {
            path: opts.cgroup_root.clone(),
            source,
        })?;
        let mut replaced = 0;
        for (name, attach_type, pin) in PROGRAMS {
            let prog: &mut CgroupSkb = ebpf
                .program_mut(name)
                .ok_or(KernelError::Missing(name))?
                .try_into()
                .map_err(|source| KernelError::Program {
                    what: format!("program {name}"),
                    source,
                })?;
            prog.load().map_err(|source| KernelError::Program {
                what: format!("verifying program {name}"),
                source,
            })?;
            let pin_path = opts.pin_dir.join(pin);
            if pin_path.exists() {
                // Upgrade or restart: point the existing link at the new program in one
                // step, so counting neither stops nor doubles.
                let link = sys::obj_get(&pin_path).map_err(|source| KernelError::Pin {
                    what: format!("opening pinned link {}", pin_path.display()),
                    source,
                })?;
                let fd = prog.fd().map_err(|source| KernelError::Program {
                    what: format!("program {name}"),
                    source,
                })?;
                sys::link_update(link.as_fd(), fd.as_fd()).map_err(|source| KernelError::Pin {
                    what: format!("replacing the program of link {}", pin_path.display()),
                    source,
                })?;
                replaced += 1;
            } else {
                // A bpf_link (kernel >= 5.7) takes no flags and always lets other
                // programs (a CNI, a security tool) attach to the same cgroup too.
                let id = prog
                    .attach(&cgroup, attach_type, CgroupAttachMode::Single)
                    .map_err(|source| KernelError::Program {
                        what: format!("attaching {name} to {}", opts.cgroup_root.display()),
                        source,
                    })?;
                let link = prog.take_link(id).map_err(|source| KernelError::Program {
                    what: format!("link of {name}"),
                    source,
                })?;
                let link = FdLink::try_from(link).map_err(|e| KernelError::Pin {
                    what: format!("link of {name}"),
                    source: std::io::Error::other(e.to_string()),
                })?;
                link.pin(&pin_path).map_err(|e| KernelError::Pin {
                    what: format!("pinning {}", pin_path.display()),
                    source: std::io::Error::other(e.to_string()),
                })?;
            }
        }
        let first_start = first_start(&mut ebpf)?;
        Ok(Self {
            ebpf,
            attach_mode: if replaced == PROGRAMS.len() {
                "replaced"
            } else {
                "attached"
            },
            map_size: opts.map_size,
            first_start,
        })
    }

    /// Every counter in the map (cumulative since the map was created).
    pub fn read_flows(&self) -> Result<Vec<(FlowKey, Counters)>, KernelError> {
        let map = self
            .ebpf
            .map("flows")
            .ok_or(KernelError::Missing("map flows"))?;
        let flows: HashMap<&MapData, [u8; 32], [u64; 4]> =
            HashMap::try_from(map).map_err(|source| KernelError::Map {
                name: "flows",
                source,
            })?;
        let mut out = Vec::new();
        // An entry the LRU evicts while we iterate is skipped, not an error.
        for (key, value) in flows.iter().flatten() {
            if let Some(key) = decode_key(&key) {
                let [tx_bytes, rx_bytes, tx_packets, rx_packets] = value;
                out.push((
                    key,
                    Counters {
                        tx_bytes,
                        rx_bytes,
                        tx_packets,
                        rx_packets,
                    },
                ));
            }
        }
        Ok(out)
    }

    pub fn stats(&self) -> Result<KernelStats, KernelError> {
        let map = self
            .ebpf
            .map("stats")
            .ok_or(KernelError::Missing("map stats"))?;
        let stats: PerCpuArray<&MapData, u64> =
            PerCpuArray::try_from(map).map_err(|source| KernelError::Map {
                name: "stats",
                source,
            })?;
        let sum = |i: u32| -> Result<u64, KernelError> {
            let v = stats.get(&i, 0).map_err(|source| KernelError::Map {
                name: "stats",
                source,
            })?;
            Ok(v.iter().copied().fold(0u64, u64::wrapping_add))
        };
        Ok(KernelStats {
            inserts: sum(STAT_INSERTS)?,
            insert_failed: sum(STAT_INSERT_FAILED)?,
            no_addr: sum(STAT_NO_ADDR)?,
        })
    }
}

impl Probe {
    /// The cgroup path a previous agent recorded for `id`.
    pub fn recall(&self, id: u64) -> Option<String> {
        let map = self.ebpf.map("cgroups")?;
        let paths: HashMap<&MapData, u64, [u8; 256]> = HashMap::try_from(map).ok()?;
        let raw = paths.get(&id, 0).ok()?;
        let len = usize::from(raw[0]);
        String::from_utf8(raw[1..=len].to_vec()).ok()
    }

    /// Records `id`'s path in the pinned map, for agents started after this one.
    pub fn remember(&mut self, id: u64, path: &str) -> Result<(), KernelError> {
        let map = self
            .ebpf
            .map_mut("cgroups")
            .ok_or(KernelError::Missing("map cgroups"))?;
        let mut paths: HashMap<&mut MapData, u64, [u8; 256]> =
            HashMap::try_from(map).map_err(|source| KernelError::Map {
                name: "cgroups",
                source,
            })?;
        paths
            .insert(id, encode_path(path), 0)
            .map_err(|source| KernelError::Map {
                name: "cgroups",
                source,
            })
    }
}

/// Length byte + at most 255 bytes of the path; a longer path keeps its tail from the
/// kubepods segment on, which is all attribution reads.
fn encode_path(path: &str) -> [u8; 256] {
    let mut tail = path;
    if tail.len() > 255 {
        tail = path.find("kubepods").map_or(tail, |i| &path[i..]);
    }
    while tail.len() > 255 {
        let mut cut = tail.len() - 255;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail = &tail[cut..];
    }
    let mut out = [0u8; 256];
    out[0] = u8::try_from(tail.len()).unwrap_or(255);
    out[1..=tail.len()].copy_from_slice(tail.as_bytes());
    out
}

/// Reads meta[0], writing now if this is the first start.
fn first_start(ebpf: &mut Ebpf) -> Result<u64, KernelError> {
    let map = ebpf
        .map_mut("meta")
        .ok_or(KernelError::Missing("map meta"))?;
    let mut meta: Array<&mut MapData, u64> =
        Array::try_from(map).map_err(|source| KernelError::Map {
            name: "meta",
            source,
        })?;
    let stored = meta.get(&0, 0).map_err(|source| KernelError::Map {
        name: "meta",
        source,
    })?;
    if stored != 0 {
        return Ok(stored);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    meta.set(0, now, 0).map_err(|source| KernelError::Map {
        name: "meta",
        source,
    })?;
    Ok(now)
}

/// `struct flow_key` of flows.bpf.c: u64 cgroup id, 16 address bytes, u32 family, pad.
pub fn decode_key(raw: &[u8; 32]) -> Option<FlowKey> {
    let mut id = [0u8; 8];
    id.copy_from_slice(&raw[0..8]);
    let mut addr = [0u8; 16];
    addr.copy_from_slice(&raw[8..24]);
    let mut family = [0u8; 4];
    family.copy_from_slice(&raw[24..28]);
    let remote = match u32::from_ne_bytes(family) {
        AF_INET => IpAddr::V4(Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3])),
        AF_INET6 => IpAddr::V6(Ipv6Addr::from(addr)),
        _ => return None,
    };
    Some(FlowKey {
        cgroup_id: u64::from_ne_bytes(id),
        remote,
    })
}

/// Removes the pins (links and maps): the programs detach and the counters are freed.
/// For `vault-agent --uninstall` and the tests' cleanup.
pub fn unpin_all(pin_dir: &Path) -> std::io::Result<()> {
    if pin_dir.exists() {
        std::fs::remove_dir_all(pin_dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_both_families() {
        let mut raw = [0u8; 32];
        raw[0..8].copy_from_slice(&42u64.to_ne_bytes());
        raw[8..12].copy_from_slice(&[10, 1, 2, 3]);
        raw[24..28].copy_from_slice(&AF_INET.to_ne_bytes());
        assert_eq!(
            decode_key(&raw),
            Some(FlowKey {
                cgroup_id: 42,
                remote: "10.1.2.3".parse().unwrap_or_else(|e| panic!("{e}"))
            })
        );
        let v6: Ipv6Addr = "fd00::7".parse().unwrap_or_else(|e| panic!("{e}"));
        raw[8..24].copy_from_slice(&v6.octets());
        raw[24..28].copy_from_slice(&AF_INET6.to_ne_bytes());
        assert_eq!(decode_key(&raw).map(|k| k.remote), Some(IpAddr::V6(v6)));
        raw[24..28].copy_from_slice(&7u32.to_ne_bytes());
        assert_eq!(decode_key(&raw), None);
    }

    #[test]
    fn long_paths_keep_the_kubepods_tail() {
        let short = encode_path("kubepods/pod1/abc");
        assert_eq!(short[0], 17);
        assert_eq!(&short[1..18], b"kubepods/pod1/abc");
        let long = format!("{}/kubepods/pod1/abc", "x".repeat(300));
        let enc = encode_path(&long);
        assert_eq!(&enc[1..=usize::from(enc[0])], b"kubepods/pod1/abc");
        let huge = "y".repeat(400);
        assert_eq!(encode_path(&huge)[0], 255);
    }

    #[test]
    fn capabilities_from_status() {
        let caps = |v: u64| format!("Name:\tx\nCapEff:\t{v:016x}\n");
        assert_eq!(missing_capability(&caps(1 << CAP_SYS_ADMIN)), None);
        assert_eq!(
            missing_capability(&caps((1 << CAP_BPF) | (1 << CAP_NET_ADMIN))),
            None
        );
        assert_eq!(
            missing_capability(&caps(1 << CAP_NET_ADMIN)),
            Some("CAP_BPF")
        );
        assert_eq!(
            missing_capability(&caps(1 << CAP_BPF)),
            Some("CAP_NET_ADMIN")
        );
        assert_eq!(missing_capability(&caps(0)), Some("CAP_BPF"));
    }
}
