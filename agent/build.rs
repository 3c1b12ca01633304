//! Compiles the kernel programs in `bpf/*.bpf.c` with clang into BPF objects that
//! `src/kernel.rs` embeds. Needs Debian's clang and libbpf-dev (scripts/setup.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".to_owned());
    // Debian puts asm/ under the multiarch directory, which -target bpf does not search.
    let multiarch = Command::new("gcc")
        .arg("-print-multiarch")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{}-linux-gnu", std::env::consts::ARCH));
    // The agent's programs, and the empty pair the overhead benchmark measures as its
    // baseline (agent/bench/empty.bpf.c, loaded by examples/attach_empty.rs only).
    for (src, obj) in [
        ("bpf/flows.bpf.c", "flows.bpf.o"),
        ("bench/empty.bpf.c", "empty.bpf.o"),
    ] {
        compile(&clang, &multiarch, Path::new(src), &out.join(obj));
    }
}

fn compile(clang: &str, multiarch: &str, src: &Path, obj: &Path) {
    println!("cargo:rerun-if-changed={}", src.display());
    let status = Command::new(clang)
        .args(["-g", "-O2", "-target", "bpf", "-Wall", "-Werror"])
        .arg(format!("-I/usr/include/{multiarch}"))
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(obj)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("{clang} failed on {} ({s})", src.display())),
        Err(e) => fail(&format!(
            "cannot run {clang} ({e}); install clang and libbpf-dev (scripts/setup.sh)"
        )),
    }
}

fn fail(msg: &str) -> ! {
    println!("cargo:warning={msg}");
    eprintln!("error: {msg}");
    std::process::exit(1);
}
