//! Storage and transfer prices (DESIGN §3, Storage cost).
//!
//! A volume's price key comes from its StorageClass's provisioner and parameters
//! (`type`, `skuName`, `replication-type`, …), with in-tree provisioners mapped to their
//! CSI twins, and a VolumeAttributesClass's parameters (iops, throughput, type) taking
//! precedence. A key with no price is priced by the default and flagged.

pub mod table;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{
    AttributesClass, GIB, MIB, Money, PersistentVolume, StorageClass, VolumeSource, parse_quantity,
};
pub use table::{PriceBook, PriceTable, PricingError, StoragePrice, TransferPrice, key_provider};

/// What a volume is priced as.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceKey {
    pub key: String,
    /// Provisioned IOPS when the volume type bills them.
    pub iops: Option<f64>,
    /// Provisioned throughput in MiB/s when the volume type bills it.
    pub throughput_mi_bps: Option<f64>,
}

/// In-tree provisioners and their CSI twins.
pub fn csi_twin(provisioner: &str) -> &str {
    match provisioner {
        "kubernetes.io/aws-ebs" => "ebs.csi.aws.com",
        "kubernetes.io/gce-pd" => "pd.csi.storage.gke.io",
        "kubernetes.io/azure-disk" => "disk.csi.azure.com",
        "kubernetes.io/azure-file" => "file.csi.azure.com",
        "kubernetes.io/cinder" => "cinder.csi.openstack.org",
        "kubernetes.io/vsphere-volume" => "csi.vsphere.vmware.com",
        other => other,
    }
}

/// The driver behind a PV when there is no class to ask.
fn driver_of_source(source: &VolumeSource) -> Option<(&str, bool)> {
    Some(match source {
        VolumeSource::Csi { driver, .. } => (driver.as_str(), false),
        VolumeSource::AwsEbs { .. } => ("ebs.csi.aws.com", true),
        VolumeSource::GcePd { .. } => ("pd.csi.storage.gke.io", true),
        VolumeSource::AzureDisk { .. } => ("disk.csi.azure.com", true),
        VolumeSource::AzureFile => ("file.csi.azure.com", true),
        _ => return None,
    })
}

fn param<'a>(params: &'a BTreeMap<String, String>, names: &[&str]) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn number(params: &BTreeMap<String, String>, names: &[&str]) -> Option<f64> {
    param(params, names).and_then(|v| parse_quantity(v).ok())
}

/// Resolves the price key of a volume; `Err` carries why no key is known.
pub fn price_key(
    class: Option<&StorageClass>,
    pv: Option<&PersistentVolume>,
    vac: Option<&AttributesClass>,
    capacity_bytes: u64,
) -> Result<PriceKey, String> {
    let (driver, in_tree) = match (class, pv) {
        (Some(c), _) => (
            csi_twin(&c.provisioner),
            c.provisioner.starts_with("kubernetes.io/"),
        ),
        (None, Some(pv)) => {
            let (driver, in_tree) = driver_of_source(&pv.source).ok_or_else(|| {
                "no StorageClass and a volume source with no list price".to_owned()
            })?;
            // Without its class a disk's type is not known; file storage has one price.
            if driver != "efs.csi.aws.com" {
                let class = pv.storage_class.as_deref().map_or_else(
                    || "no StorageClass".to_owned(),
                    |c| format!("StorageClass {c:?} is not in the input"),
                );
                return Err(format!("{driver} volume whose type is unknown ({class})"));
            }
            (driver, in_tree)
        }
        (None, None) => return Err("no StorageClass and no volume".into()),
    };
    let mut params = class.map(|c| c.parameters.clone()).unwrap_or_default();
    if let Some(v) = vac {
        // The attributes class in effect is what the disk is provisioned as now.
        params.extend(v.parameters.clone());
    }
    if let Some(VolumeSource::Csi { handle, .. }) = pv.map(|v| &v.source)
        && handle.starts_with("local-ebs://")
    {
        return Err(
            "node-local EBS handle (local-ebs://): billed with the instance, not as a volume"
                .into(),
        );
    }
    let gib = capacity_bytes as f64 / GIB;
    let key = |k: String, iops: Option<f64>, tput: Option<f64>| PriceKey {
        key: k,
        iops,
        throughput_mi_bps: tput,
    };
    match driver {
        "ebs.csi.aws.com" => {
            let default_type = if in_tree { "gp2" } else { "gp3" };
            let t = param(&params, &["type"])
                .unwrap_or(default_type)
                .to_ascii_lowercase();
            let max = match t.as_str() {
                "gp3" => 16_000.0,
                "io1" => 64_000.0,
                "io2" => 256_000.0,
                _ => f64::MAX,
            };
            let iops = number(&params, &["iops"])
                .or_else(|| number(&params, &["iopsPerGB"]).map(|per| (per * gib).min(max)));
            let tput = number(&params, &["throughput"]);
            Ok(key(format!("ebs-{t}"), iops, tput))
        }
        "efs.csi.aws.com" => Ok(key("efs-standard".into(), None, None)),
        "pd.csi.storage.gke.io" => {
            let t = param(&params, &["type"])
                .unwrap_or("pd-standard")
                .to_ascii_lowercase();
            let regional = param(&params, &["replication-type"])
                .is_some_and(|r| r.eq_ignore_ascii_case("regional-pd"));
            let iops = number(&params, &["provisioned-iops-on-create", "iops"]);
            // Hyperdisk throughput is written as a quantity (`150Mi`) or a number of MiB/s.
            let tput = param(&params, &["provisioned-throughput-on-create", "throughput"])
                .and_then(|v| {
                    let q = parse_quantity(v).ok()?;
                    Some(if v.chars().any(|c| c.is_ascii_alphabetic()) {
                        q / MIB
                    } else {
                        q
                    })
                });
            let suffix = if regional { "-regional" } else { "" };
            Ok(key(format!("gce-{t}{suffix}"), iops, tput))
        }
        "filestore.csi.storage.gke.io" => {
            let tier = param(&params, &["tier"])
                .unwrap_or("standard")
                .to_ascii_lowercase();
            let k = match tier.as_str() {
                "standard" | "basic_hdd" => "gce-filestore-basic-hdd",
                "premium" | "basic_ssd" => "gce-filestore-basic-ssd",
                other => return Err(format!("Filestore tier {other:?} has no list price here")),
            };
            Ok(key(k.into(), None, None))
        }
        "disk.csi.azure.com" => {
            let sku = param(
                &params,
                &["skuName", "storageAccountType", "storageaccounttype"],
            )
            .unwrap_or("StandardSSD_LRS")
            .to_ascii_lowercase()
            .replace('_', "-");
            let iops = number(&params, &["DiskIOPSReadWrite"]);
            let tput = number(&params, &["DiskMBpsReadWrite"]);
            Ok(key(format!("azure-{sku}"), iops, tput))
        }
        "file.csi.azure.com" => {
            let sku = param(&params, &["skuName", "storageAccountType"])
                .unwrap_or("Standard_LRS")
                .to_ascii_lowercase();
            let tier = if sku.starts_with("premium") {
                "premium"
            } else {
                "standard"
            };
            Ok(key(format!("azure-files-{tier}-lrs"), None, None))
        }
        other => Err(format!("provisioner {other:?} has no list price")),
    }
}

/// A monthly storage charge and how it was arrived at.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageCharge {
    pub monthly: Money,
    pub capacity: Money,
    pub iops: Money,
    pub throughput: Money,
    /// The size tier billed (Azure), when the price has tiers.
    pub tier: Option<String>,
}

/// Monthly cost of `capacity_bytes` at `price`, with IOPS/throughput above the free
/// baseline. A key without a per-GiB price or tiers costs nothing for capacity here;
/// callers only reach that with override files that say so.
pub fn storage_charge(price: &StoragePrice, capacity_bytes: u64, key: &PriceKey) -> StorageCharge {
    let gib = capacity_bytes as f64 / GIB;
    let mut tier = None;
    let capacity = if let Some(tiers) = price.size_tiers.as_ref().filter(|t| !t.is_empty()) {
        // Azure bills the smallest tier that holds the disk; beyond the largest, the
        // largest (Azure caps disk size there anyway).
        let t = tiers
            .iter()
            .find(|t| gib <= t.max_gi_b + 1e-9)
            .or(tiers.last());
        tier = t.map(|t| t.name.clone());
        Money(t.map_or(0.0, |t| t.per_month))
    } else {
        Money(price.per_gi_b_month.unwrap_or(0.0) * gib)
    };
    let iops_cost = match (key.iops, &price.iops, &price.iops_tiers) {
        (Some(n), Some(p), _) => Money((n - p.free).max(0.0) * p.per_iops_month),
        (Some(n), None, Some(tiers)) => {
            let mut left = n;
            let mut floor = 0.0;
            let mut total = 0.0;
            for t in tiers {
                let top = t.up_to.unwrap_or(f64::MAX);
                let here = (left).min(top - floor).max(0.0);
                total += here * t.per_iops_month;
                left -= here;
                floor = top;
                if left <= 0.0 {
                    break;
                }
            }
            Money(total)
        }
        _ => Money::ZERO,
    };
    let tput_cost = match (key.throughput_mi_bps, &price.throughput) {
        (Some(t), Some(p)) => Money((t - p.free_mi_bps).max(0.0) * p.per_mi_bps_month),
        _ => Money::ZERO,
    };
    StorageCharge {
        monthly: capacity + iops_cost + tput_cost,
        capacity,
        iops: iops_cost,
        throughput: tput_cost,
        tier,
    }
}

#[cfg(test)]
mod tests;
