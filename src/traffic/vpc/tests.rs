use super::*;
use std::io::Write;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
    p
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn default_v2_format_with_duplicates_and_skips() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The same connection logged at both ENIs counts once; REJECT/NODATA/SKIPDATA skip.
    let p = write(
        dir.path(),
        "f.log",
        "2 123456789012 eni-a 10.0.1.5 10.0.2.7 40000 5432 6 10 1000 1700000000 1700000060 ACCEPT OK\n\
         2 123456789012 eni-b 10.0.1.5 10.0.2.7 40000 5432 6 10 1000 1700000010 1700000070 ACCEPT OK\n\
         2 123456789012 eni-a 10.0.1.5 10.0.2.7 40000 5432 6 10 500 1700000060 1700000120 ACCEPT OK\n\
         2 123456789012 eni-a 10.0.1.5 1.2.3.4 40001 443 6 10 700 1700000000 1700000060 REJECT OK\n\
         2 123456789012 eni-c - - - - - - - 1700000000 1700003600 - NODATA\n\
         2 123456789012 eni-c - - - - - - - 1700000000 1700000100 - SKIPDATA\n",
    );
    let set = read_flow_logs(&[p]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.source, FlowSource::VpcFlowLogs);
    assert_eq!(set.flows.len(), 1);
    let f = &set.flows[0];
    // eni-a saw 1500 bytes, eni-b 1000 of the same connection: 1500 once.
    assert_eq!(
        (f.remote, f.bytes_out, f.remote_port),
        (ip("10.0.2.7"), 1500, Some(5432))
    );
    assert_eq!(
        set.window,
        Some(Window {
            start: 1_700_000_000,
            end: 1_700_003_600
        })
    );
    assert!(
        set.notes
            .iter()
            .any(|n| n.contains("1 NODATA") && n.contains("1 REJECT") && n.contains("1 SKIPDATA")),
        "{:?}",
        set.notes
    );
    assert!(set.notes.iter().any(|n| n.starts_with("partial: SKIPDATA")));
}

#[test]
fn custom_v5_header_with_pkt_addresses_direction_and_path() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = "version srcaddr dstaddr pkt-srcaddr pkt-dstaddr bytes start end action log-status flow-direction traffic-path srcport dstport protocol\n\
                5 10.0.1.10 10.0.2.20 10.0.1.99 10.0.2.20 4000 100 200 ACCEPT OK egress - 5000 80 6\n\
                5 10.0.1.10 10.0.2.20 10.0.1.99 10.0.2.20 4000 100 200 ACCEPT OK ingress - 5000 80 6\n\
                5 10.0.1.10 52.1.2.3 10.0.1.99 52.1.2.3 300 100 260 ACCEPT OK egress 8 5001 443 6\n\
                5 10.0.1.10 10.9.0.1 10.0.1.99 10.9.0.1 300 100 260 ACCEPT OK egress 5 5002 443 6\n";
    let p = write(dir.path(), "v5.log", text);
    let set = read_flow_logs(&[p]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.flows.len(), 3);
    // pkt-srcaddr wins; egress and ingress of one connection count once.
    assert_eq!(
        set.flows[0].source,
        FlowEnd::Address {
            ip: ip("10.0.1.99")
        }
    );
    assert_eq!(set.flows[0].bytes_out, 4000);
    assert_eq!(set.flows[1].remote_hint, Some(NetworkClass::Internet));
    assert_eq!(set.flows[2].remote_hint, Some(NetworkClass::CrossRegion));
    assert_eq!(set.window.map(|w| w.hours()), Some(160.0 / 3600.0));
}

#[test]
fn gzip_is_accepted() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = dir.path().join("f.log.gz");
    let file = std::fs::File::create(&p).unwrap_or_else(|e| panic!("{e}"));
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    gz.write_all(b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 1 eni-a 10.0.0.1 10.0.0.2 1 2 6 1 42 0 60 ACCEPT OK\n")
        .unwrap_or_else(|e| panic!("{e}"));
    gz.finish().unwrap_or_else(|e| panic!("{e}"));
    let set = read_flow_logs(&[p]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.flows.first().map(|f| f.bytes_out), Some(42));
}

#[test]
fn bad_lines_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = write(
        dir.path(),
        "bad.log",
        "2 1 eni-a 10.0.0.1 10.0.0.2 1 2 6 1 42 0 60 ACCEPT OK\n2 1 eni-a 10.0.0.1 10.0.0.2 1 2 6 1 lots 0 60 ACCEPT OK\n",
    );
    let e = read_flow_logs(&[p])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("bad.log:2: field bytes is not a byte count"),
        "{e}"
    );
    // Negative counts are refused, not counted as zero; a count past 2^64 on one
    // connection is an error, not a panic or a wrapped sum.
    for (name, bytes, says) in [
        (
            "neg.log",
            "-5",
            "neg.log:1: field bytes is not a byte count",
        ),
        (
            "big.log",
            "18446744073709551615",
            "big.log:2: bytes of one connection add up past 2^64",
        ),
    ] {
        let line = format!("2 1 eni-a 10.0.0.1 10.0.0.2 1 2 6 1 {bytes} 0 60 ACCEPT OK\n");
        let p = write(dir.path(), name, &line.repeat(2));
        let e = read_flow_logs(&[p])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(says), "{e}");
    }
    let p = write(dir.path(), "short.log", "2 1 eni-a 10.0.0.1\n");
    let e = read_flow_logs(&[p])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("short.log:1: expected 14 fields, found 4"),
        "{e}"
    );
    let p = write(dir.path(), "hdr.log", "version srcaddr dstaddr start end\n");
    let e = read_flow_logs(&[p])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("hdr.log:1: the header has no bytes field"),
        "{e}"
    );
    let p = write(
        dir.path(),
        "ip.log",
        "2 1 eni-a 10.0.0.999 10.0.0.2 1 2 6 1 42 0 60 ACCEPT OK\n",
    );
    let e = read_flow_logs(&[p])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("ip.log:1: source address \"10.0.0.999\" is not an IP address"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}
