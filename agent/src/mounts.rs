//! What is mounted where, from /proc/self/mountinfo: the cgroup v2 mount and whether the
//! pin directory is on a bpffs.

use std::path::{Path, PathBuf};

/// One mount: where and of which filesystem type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub point: PathBuf,
    pub fstype: String,
}

/// Parses mountinfo text (see proc(5)); malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let point = fields.get(4)?;
            let sep = fields.iter().position(|f| *f == "-")?;
            let fstype = fields.get(sep + 1)?;
            Some(Mount {
                point: PathBuf::from(unescape(point)),
                fstype: (*fstype).to_owned(),
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

pub fn read() -> std::io::Result<Vec<Mount>> {
    Ok(parse_mountinfo(&std::fs::read_to_string(
        "/proc/self/mountinfo",
    )?))
}

/// The first cgroup2 mount, if any.
pub fn cgroup2(mounts: &[Mount]) -> Option<&Path> {
    mounts
        .iter()
        .find(|m| m.fstype == "cgroup2")
        .map(|m| m.point.as_path())
}

/// The mount `path` lives on (the longest mount point that is a prefix of it; the last
/// one wins when a point is mounted over).
pub fn mount_of<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .filter(|m| path.starts_with(&m.point))
        .fold(None, |best: Option<&Mount>, m| match best {
            Some(b) if b.point.components().count() > m.point.components().count() => Some(b),
            _ => Some(m),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
22 1 0:21 / / rw - ext4 /dev/root rw
30 22 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw
31 30 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
32 30 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
40 22 0:40 / /sys/fs/bpf rw - bpf bpf rw
41 22 0:41 / /mnt/a\\040b rw - tmpfs none rw
";

    #[test]
    fn finds_cgroup2_and_bpffs() {
        let m = parse_mountinfo(INFO);
        assert_eq!(cgroup2(&m), Some(Path::new("/sys/fs/cgroup/unified")));
        let bpf = mount_of(&m, Path::new("/sys/fs/bpf/cloudvault"));
        assert_eq!(bpf.map(|m| m.fstype.as_str()), Some("bpf"));
        let tmp = mount_of(&m, Path::new("/sys/fs/cgroup/memory/x"));
        assert_eq!(tmp.map(|m| m.fstype.as_str()), Some("cgroup"));
        assert_eq!(
            mount_of(&m, Path::new("/mnt/a b/c")).map(|m| m.fstype.as_str()),
            Some("tmpfs")
        );
        assert_eq!(
            mount_of(&m, Path::new("/home")).map(|m| m.fstype.as_str()),
            Some("ext4")
        );
    }

    #[test]
    fn no_cgroup2_is_none() {
        let m = parse_mountinfo("31 30 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n");
        assert_eq!(cgroup2(&m), None);
    }
}
