//! AWS VPC Flow Logs files (`--flows FILE`, gzip accepted) -> [`FlowSet`].
//!
//! - Format: the default v2 fields, or any custom format given by a header line of
//!   field names (as S3 delivery writes it), including v5's `flow-direction`,
//!   `pkt-srcaddr`, `pkt-dstaddr` and `traffic-path`.
//! - `pkt-srcaddr`/`pkt-dstaddr` win over `srcaddr`/`dstaddr` when present (they are
//!   the pod's address behind an ENI).
//! - Traffic inside the VPC is logged at both ENIs: per connection (5-tuple), the
//!   bytes of each observer (interface, else direction) are summed and the largest
//!   observer counts, so each byte counts once.
//! - REJECT, NODATA and SKIPDATA records carry no billable bytes and are skipped (and
//!   counted in the notes); their start/end still belong to the observed window.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::{Flow, FlowEnd, FlowSet, FlowSource, NetworkClass, Window};

const DEFAULT_V2: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

#[derive(Debug, thiserror::Error)]
pub enum VpcError {
    #[error("{path}: cannot read flow log: {source}; check the path given to --flows")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: {message}; VPC flow log lines must follow the default v2 format or the file's header line"
    )]
    Line {
        path: String,
        line: usize,
        message: String,
    },
    #[error(
        "{path}:{line}: the header has no {field} field; CloudVault needs srcaddr, dstaddr, bytes, start and end"
    )]
    Header {
        path: String,
        line: usize,
        field: &'static str,
    },
}

/// Reads flow log files into one flow set.
pub fn read_flow_logs(paths: &[PathBuf]) -> Result<FlowSet, VpcError> {
    let mut acc = Accumulator::default();
    for p in paths {
        read_one(p, &mut acc)?;
    }
    Ok(acc.finish())
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ConnKey {
    src: IpAddr,
    dst: IpAddr,
    sport: Option<u16>,
    dport: Option<u16>,
    proto: Option<u8>,
}

#[derive(Debug, Default)]
struct Conn {
    /// Bytes per observer (interface id, else flow direction).
    by_observer: BTreeMap<String, u64>,
    window: Option<Window>,
    hint: Option<NetworkClass>,
}

#[derive(Debug, Default)]
struct Accumulator {
    conns: HashMap<ConnKey, Conn>,
    order: Vec<ConnKey>,
    window: Option<Window>,
    skipped: BTreeMap<&'static str, usize>,
    records: usize,
}

fn widen(w: &mut Option<Window>, other: Window) {
    *w = Some(w.map_or(other, |w| w.union(other)));
}

impl Accumulator {
    fn finish(self) -> FlowSet {
        let mut notes = Vec::new();
        if !self.skipped.is_empty() {
            let parts: Vec<String> = self
                .skipped
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            notes.push(format!(
                "flow logs: skipped {} of {} records with no billable bytes ({})",
                self.skipped.values().sum::<usize>(),
                self.records,
                parts.join(", ")
            ));
        }
        if self.skipped.contains_key("SKIPDATA") {
            notes.push(
                "partial: SKIPDATA records mean the flow logs missed some traffic in their window"
                    .into(),
            );
        }
        let mut conns = self.conns;
        let flows = self
            .order
            .into_iter()
            .filter_map(|k| {
                let c = conns.remove(&k)?;
                let bytes = c.by_observer.values().copied().max().unwrap_or(0);
                Some(Flow {
                    source: FlowEnd::Address { ip: k.src },
                    source_ip: Some(k.src),
                    source_port: k.sport,
                    remote: k.dst,
                    remote_port: k.dport,
                    remote_hint: c.hint,
                    bytes_out: bytes,
                    bytes_in: 0,
                    window: c.window?,
                })
            })
            .collect();
        FlowSet {
            source: FlowSource::VpcFlowLogs,
            flows,
            window: self.window,
            notes,
        }
    }
}

fn read_one(path: &Path, acc: &mut Accumulator) -> Result<(), VpcError> {
    let display = path.display().to_string();
    let read_err = |source| VpcError::Read {
        path: display.clone(),
        source,
    };
    let raw = std::fs::read(path).map_err(read_err)?;
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_string(&mut s)
            .map_err(read_err)?;
        s
    } else {
        String::from_utf8(raw)
            .map_err(|e| read_err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?
    };
    let mut fields: Vec<String> = DEFAULT_V2.iter().map(|s| (*s).to_owned()).collect();
    let mut idx = FieldIndex::new(&fields, &display, 0)?;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.is_empty() || tokens[0].starts_with('#') {
            continue;
        }
        if tokens
            .iter()
            .any(|t| matches!(*t, "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr"))
        {
            fields = tokens.iter().map(|s| (*s).to_owned()).collect();
            idx = FieldIndex::new(&fields, &display, lineno)?;
            continue;
        }
        let err = |message: String| VpcError::Line {
            path: display.clone(),
            line: lineno,
            message,
        };
        if tokens.len() != fields.len() {
            return Err(err(format!(
                "expected {} fields, found {}",
                fields.len(),
                tokens.len()
            )));
        }
        acc.records += 1;
        let get = |i: Option<usize>| i.map(|i| tokens[i]).filter(|v| *v != "-");
        let number = |name: &str, i: Option<usize>| -> Result<Option<i64>, VpcError> {
            get(i)
                .map(|v| {
                    v.parse::<i64>()
                        .map_err(|_| err(format!("field {name} is not a number ({v:?})")))
                })
                .transpose()
        };
        let (start, end) = (number("start", idx.start)?, number("end", idx.end)?);
        if let (Some(s), Some(e)) = (start, end) {
            widen(
                &mut acc.window,
                Window {
                    start: s.min(e),
                    end: s.max(e),
                },
            );
        }
        let status = get(idx.log_status).unwrap_or("OK");
        if status == "NODATA" || status == "SKIPDATA" {
            *acc.skipped
                .entry(if status == "NODATA" {
                    "NODATA"
                } else {
                    "SKIPDATA"
                })
                .or_default() += 1;
            continue;
        }
        if get(idx.action) == Some("REJECT") {
            *acc.skipped.entry("REJECT").or_default() += 1;
            continue;
        }
        let addr =
            |name: &str, pkt: Option<usize>, plain: Option<usize>| -> Result<IpAddr, VpcError> {
                let v = get(pkt)
                    .or(get(plain))
                    .ok_or_else(|| err(format!("no {name} address")))?;
                v.parse()
                    .map_err(|_| err(format!("{name} address {v:?} is not an IP address")))
            };
        let src = addr("source", idx.pkt_src, idx.src)?;
        let dst = addr("destination", idx.pkt_dst, idx.dst)?;
        let bytes = get(idx.bytes).ok_or_else(|| err("no bytes".into()))?;
        let bytes: u64 = bytes
            .parse()
            .map_err(|_| err(format!("field bytes is not a byte count ({bytes:?})")))?;
        let port = |name: &str, i| -> Result<Option<u16>, VpcError> {
            number(name, i)?
                .map(|p| u16::try_from(p).map_err(|_| err(format!("{name} {p} is not a port"))))
                .transpose()
        };
        let key = ConnKey {
            src,
            dst,
            sport: port("srcport", idx.sport)?,
            dport: port("dstport", idx.dport)?,
            proto: number("protocol", idx.proto)?.and_then(|p| u8::try_from(p).ok()),
        };
        let observer = get(idx.interface)
            .or(get(idx.direction))
            .unwrap_or("-")
            .to_owned();
        let hint = get(idx.traffic_path).and_then(traffic_path_class);
        let window = match (start, end) {
            (Some(s), Some(e)) => Window {
                start: s.min(e),
                end: s.max(e),
            },
            _ => return Err(err("no start/end time".into())),
        };
        let conn = match acc.conns.get_mut(&key) {
            Some(c) => c,
            None => {
                acc.order.push(key.clone());
                acc.conns.entry(key).or_default()
            }
        };
        let seen = conn.by_observer.entry(observer).or_default();
        *seen = seen.checked_add(bytes).ok_or_else(|| {
            err("bytes of one connection add up past 2^64; the record's byte count is not plausible".into())
        })?;
        widen(&mut conn.window, window);
        conn.hint = conn.hint.or(hint);
    }
    Ok(())
}

/// `traffic-path` codes (v5) for traffic leaving the VPC.
fn traffic_path_class(code: &str) -> Option<NetworkClass> {
    match code {
        // Same VPC, virtual private gateway, intra-region peering, gateway endpoint.
        "1" | "3" | "4" | "7" => Some(NetworkClass::Private),
        "5" => Some(NetworkClass::CrossRegion),
        "2" | "8" => Some(NetworkClass::Internet),
        _ => None,
    }
}

#[derive(Debug)]
struct FieldIndex {
    src: Option<usize>,
    dst: Option<usize>,
    pkt_src: Option<usize>,
    pkt_dst: Option<usize>,
    sport: Option<usize>,
    dport: Option<usize>,
    proto: Option<usize>,
    bytes: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    action: Option<usize>,
    log_status: Option<usize>,
    interface: Option<usize>,
    direction: Option<usize>,
    traffic_path: Option<usize>,
}

impl FieldIndex {
    fn new(fields: &[String], path: &str, line: usize) -> Result<Self, VpcError> {
        // Headers may spell fields with dashes or underscores (Athena/CloudWatch).
        let at = |name: &str| {
            fields.iter().position(|f| {
                f.replace('_', "-") == name || f.replace('_', "-") == format!("${{{name}}}")
            })
        };
        let idx = FieldIndex {
            src: at("srcaddr"),
            dst: at("dstaddr"),
            pkt_src: at("pkt-srcaddr"),
            pkt_dst: at("pkt-dstaddr"),
            sport: at("srcport"),
            dport: at("dstport"),
            proto: at("protocol"),
            bytes: at("bytes"),
            start: at("start"),
            end: at("end"),
            action: at("action"),
            log_status: at("log-status"),
            interface: at("interface-id"),
            direction: at("flow-direction"),
            traffic_path: at("traffic-path"),
        };
        let missing = |field| {
            Err(VpcError::Header {
                path: path.to_owned(),
                line,
                field,
            })
        };
        if idx.src.is_none() && idx.pkt_src.is_none() {
            return missing("srcaddr");
        }
        if idx.dst.is_none() && idx.pkt_dst.is_none() {
            return missing("dstaddr");
        }
        if idx.bytes.is_none() {
            return missing("bytes");
        }
        if idx.start.is_none() {
            return missing("start");
        }
        if idx.end.is_none() {
            return missing("end");
        }
        Ok(idx)
    }
}

#[cfg(test)]
mod tests;
