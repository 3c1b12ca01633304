//! Price tables (`assets/pricing/*.yaml`, embedded) and `--pricing FILE` overrides.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::topology::Provider;
use crate::traffic::DestinationClass;

/// Free baseline and price of provisioned IOPS.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IopsPrice {
    pub free: f64,
    pub per_iops_month: f64,
}

/// One tier of tiered IOPS pricing (io2); the last tier has no upper bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IopsTier {
    pub up_to: Option<f64>,
    pub per_iops_month: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThroughputPrice {
    pub free_mi_bps: f64,
    pub per_mi_bps_month: f64,
}

/// A size tier (Azure P/E/S): a disk is billed as the smallest tier that holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SizeTier {
    pub name: String,
    pub max_gi_b: f64,
    pub per_month: f64,
}

/// The price of one storage offering.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoragePrice {
    #[serde(default)]
    pub per_gi_b_month: Option<f64>,
    #[serde(default)]
    pub iops: Option<IopsPrice>,
    #[serde(default)]
    pub iops_tiers: Option<Vec<IopsTier>>,
    #[serde(default)]
    pub throughput: Option<ThroughputPrice>,
    #[serde(default)]
    pub size_tiers: Option<Vec<SizeTier>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferPrice {
    #[serde(default)]
    pub egress_per_gi_b: f64,
    #[serde(default)]
    pub ingress_per_gi_b: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferTable {
    pub same_zone: Option<TransferPrice>,
    pub cross_zone: Option<TransferPrice>,
    pub cross_region: Option<TransferPrice>,
    pub internet: Option<TransferPrice>,
}

impl TransferTable {
    pub fn get(&self, class: DestinationClass) -> Option<TransferPrice> {
        match class {
            DestinationClass::SameNode => Some(TransferPrice::default()),
            DestinationClass::SameZone => self.same_zone,
            DestinationClass::CrossZone => self.cross_zone,
            DestinationClass::CrossRegion => self.cross_region,
            DestinationClass::Internet => self.internet,
            DestinationClass::Unknown => None,
        }
    }

    fn merge(&mut self, o: &TransferTable) {
        self.same_zone = o.same_zone.or(self.same_zone);
        self.cross_zone = o.cross_zone.or(self.cross_zone);
        self.cross_region = o.cross_region.or(self.cross_region);
        self.internet = o.internet.or(self.internet);
    }
}

/// One provider's table as stored in `assets/pricing/<provider>.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceTable {
    pub provider: Option<Provider>,
    /// The region the base prices are for.
    pub region: Option<String>,
    #[serde(default)]
    pub units: BTreeMap<String, String>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub storage: BTreeMap<String, StoragePrice>,
    pub snapshot_per_gi_b_month: Option<f64>,
    /// Per-GiB-month storage prices of regions that differ from the base region.
    #[serde(default)]
    pub regions: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default)]
    pub transfer: TransferTable,
    /// Price of a class with no known price (flagged wherever it is used).
    pub default: Option<StoragePrice>,
    /// Overrides only: a price for a StorageClass by its name.
    #[serde(default)]
    pub classes: BTreeMap<String, StoragePrice>,
}

#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("{origin}: cannot read price file: {source}; check the path given to --pricing")]
    Read {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: not a price table ({message}); see assets/pricing/aws.yaml for the format")]
    Syntax { origin: String, message: String },
    #[error("{origin}: {field} is {value}; prices and quantities must be finite and not negative")]
    Value {
        origin: String,
        field: String,
        value: f64,
    },
}

impl PriceTable {
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, PricingError> {
        let table: Self = serde_saphyr::from_str(text).map_err(|e| PricingError::Syntax {
            origin: origin.to_owned(),
            message: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        })?;
        table
            .check()
            .map_err(|(field, value)| PricingError::Value {
                origin: origin.to_owned(),
                field,
                value,
            })?;
        Ok(table)
    }

    /// Every number, by its path in the file: a negative or NaN price would turn into a
    /// negative or NaN bill downstream.
    fn check(&self) -> Result<(), (String, f64)> {
        fn num(path: String, v: f64) -> Result<(), (String, f64)> {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err((path, v))
            }
        }
        fn storage(path: &str, p: &StoragePrice) -> Result<(), (String, f64)> {
            if let Some(v) = p.per_gi_b_month {
                num(format!("{path}.perGiBMonth"), v)?;
            }
            if let Some(i) = &p.iops {
                num(format!("{path}.iops.free"), i.free)?;
                num(format!("{path}.iops.perIopsMonth"), i.per_iops_month)?;
            }
            for (k, t) in p.iops_tiers.iter().flatten().enumerate() {
                if let Some(u) = t.up_to {
                    num(format!("{path}.iopsTiers[{k}].upTo"), u)?;
                }
                num(
                    format!("{path}.iopsTiers[{k}].perIopsMonth"),
                    t.per_iops_month,
                )?;
            }
            if let Some(t) = &p.throughput {
                num(format!("{path}.throughput.freeMiBps"), t.free_mi_bps)?;
                num(
                    format!("{path}.throughput.perMiBpsMonth"),
                    t.per_mi_bps_month,
                )?;
            }
            for (k, t) in p.size_tiers.iter().flatten().enumerate() {
                num(format!("{path}.sizeTiers[{k}].maxGiB"), t.max_gi_b)?;
                num(format!("{path}.sizeTiers[{k}].perMonth"), t.per_month)?;
            }
            Ok(())
        }
        for (name, p) in &self.storage {
            storage(&format!("storage.{name}"), p)?;
        }
        for (name, p) in &self.classes {
            storage(&format!("classes.{name}"), p)?;
        }
        if let Some(p) = &self.default {
            storage("default", p)?;
        }
        if let Some(v) = self.snapshot_per_gi_b_month {
            num("snapshotPerGiBMonth".into(), v)?;
        }
        for (region, prices) in &self.regions {
            for (key, v) in prices {
                num(format!("regions.{region}.{key}"), *v)?;
            }
        }
        let t = &self.transfer;
        for (class, p) in [
            ("sameZone", t.same_zone),
            ("crossZone", t.cross_zone),
            ("crossRegion", t.cross_region),
            ("internet", t.internet),
        ] {
            if let Some(p) = p {
                num(format!("transfer.{class}.egressPerGiB"), p.egress_per_gi_b)?;
                num(
                    format!("transfer.{class}.ingressPerGiB"),
                    p.ingress_per_gi_b,
                )?;
            }
        }
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Self, PricingError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PricingError::Read {
            origin: origin.clone(),
            source,
        })?;
        Self::from_yaml(&text, &origin)
    }
}

/// The bundled tables.
pub const BUNDLED: [(&str, &str); 4] = [
    (
        "assets/pricing/aws.yaml",
        include_str!("../../assets/pricing/aws.yaml"),
    ),
    (
        "assets/pricing/gcp.yaml",
        include_str!("../../assets/pricing/gcp.yaml"),
    ),
    (
        "assets/pricing/azure.yaml",
        include_str!("../../assets/pricing/azure.yaml"),
    ),
    (
        "assets/pricing/default.yaml",
        include_str!("../../assets/pricing/default.yaml"),
    ),
];

/// All price tables in force: the bundled ones with the user's overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceBook {
    pub tables: BTreeMap<Provider, PriceTable>,
    pub default: StoragePrice,
    /// Prices for StorageClasses by name (from overrides).
    pub classes: BTreeMap<String, StoragePrice>,
    /// `--pricing` files that were applied, for the report.
    pub overrides: Vec<String>,
}

impl PriceBook {
    /// The bundled tables. They are part of the binary and checked by a test, so a
    /// parse failure here is a build defect, reported like any other error.
    pub fn bundled() -> Result<Self, PricingError> {
        let mut book = PriceBook {
            tables: BTreeMap::new(),
            default: StoragePrice::default(),
            classes: BTreeMap::new(),
            overrides: Vec::new(),
        };
        for (origin, text) in BUNDLED {
            let t = PriceTable::from_yaml(text, origin)?;
            if let Some(d) = &t.default {
                book.default = d.clone();
            }
            if let Some(p) = t.provider {
                book.tables.insert(p, t);
            }
        }
        Ok(book)
    }

    /// Applies an override file: storage keys, region prices and transfer prices of
    /// its `provider` (or of every table when it names none), the default, and
    /// per-StorageClass prices.
    pub fn apply(&mut self, o: PriceTable, origin: &str) {
        let targets: Vec<Provider> = match o.provider {
            Some(p) => vec![p],
            None => self.tables.keys().copied().collect(),
        };
        for p in targets {
            let t = self.tables.entry(p).or_insert_with(|| PriceTable {
                provider: Some(p),
                ..PriceTable::default()
            });
            // A storage key names one provider's offering; only its own table takes it.
            for (k, v) in &o.storage {
                if o.provider.is_some() || key_provider(k) == Some(p) {
                    t.storage.insert(k.clone(), v.clone());
                }
            }
            for (r, prices) in &o.regions {
                t.regions
                    .entry(r.clone())
                    .or_default()
                    .extend(prices.clone());
            }
            t.transfer.merge(&o.transfer);
            if o.snapshot_per_gi_b_month.is_some() {
                t.snapshot_per_gi_b_month = o.snapshot_per_gi_b_month;
            }
        }
        if let Some(d) = o.default {
            self.default = d;
        }
        self.classes.extend(o.classes);
        self.overrides.push(origin.to_owned());
    }

    /// The storage price of a key in a region (region prices replace the base
    /// per-GiB-month price).
    /// Says so when `region` is neither the provider table's base region nor one it lists:
    /// its storage is then priced at the base region's list prices.
    pub fn region_note(&self, provider: Provider, region: &str) -> Option<String> {
        let table = self.tables.get(&provider)?;
        let base = table.region.as_deref()?;
        if region == base || table.regions.contains_key(region) {
            return None;
        }
        let known: Vec<&str> = std::iter::once(base)
            .chain(table.regions.keys().map(String::as_str))
            .collect();
        Some(format!(
            "region {region} is not in the {} price table (it has {}): storage is priced at {base} list prices; pass --pricing with that region's prices",
            provider.as_str(),
            known.join(", ")
        ))
    }

    pub fn storage(&self, key: &str, region: Option<&str>) -> Option<StoragePrice> {
        let table = self.tables.get(&key_provider(key)?)?;
        let mut price = table.storage.get(key)?.clone();
        if let Some(p) = region
            .and_then(|r| table.regions.get(r))
            .and_then(|r| r.get(key))
        {
            price.per_gi_b_month = Some(*p);
        }
        Some(price)
    }
}

/// The provider a price key belongs to, from its prefix.
pub fn key_provider(key: &str) -> Option<Provider> {
    if key.starts_with("ebs-") || key.starts_with("efs-") {
        Some(Provider::Aws)
    } else if key.starts_with("gce-") {
        Some(Provider::Gcp)
    } else if key.starts_with("azure-") {
        Some(Provider::Azure)
    } else {
        None
    }
}
