//! The overhead benchmark's baseline (agent/bench/overhead.sh): attaches the empty
//! cgroup_skb programs of `bench/empty.bpf.c` to a cgroup v2 directory, prints `ready`,
//! and keeps them attached until stdin closes or it is killed. Not shipped.
//!
//!   attach_empty CGROUP_DIR

use std::fs::File;
use std::io::Read;

use anyhow::{Context, Result};
use aya::programs::{CgroupAttachMode, CgroupSkb, CgroupSkbAttachType};

static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/empty.bpf.o"));

fn main() -> Result<()> {
    let dir = std::env::args()
        .nth(1)
        .context("usage: attach_empty CGROUP_DIR")?;
    let mut ebpf = aya::Ebpf::load(OBJECT).context("loading bench/empty.bpf.c")?;
    let cgroup = File::open(&dir).with_context(|| format!("opening cgroup {dir}"))?;
    let mut links = Vec::new();
    for (name, attach) in [
        ("empty_egress", CgroupSkbAttachType::Egress),
        ("empty_ingress", CgroupSkbAttachType::Ingress),
    ] {
        let prog: &mut CgroupSkb = ebpf
            .program_mut(name)
            .with_context(|| format!("no program {name}"))?
            .try_into()?;
        prog.load()?;
        links.push(prog.attach(&cgroup, attach, CgroupAttachMode::Single)?);
    }
    println!("ready");
    // Detached when the process exits (the links are not pinned).
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    Ok(())
}
