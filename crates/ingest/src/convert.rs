//! Actual + amortized Cost Details of one billing period to FOCUS 1.2 record batches
//! (azure-protocol.md 5.7, with the deviations listed in the crate documentation).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, mpsc};

use arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};

use crate::columns::{Agreement, Col, ColumnMap};
use crate::date::{MICROS_PER_DAY, day_start, month_bounds, parse_timestamp_micros};
use crate::decimal::{Dec, ExactSum, STORE_PRECISION, STORE_SCALE, SumBuilder, rescale};
use crate::error::{IngestError, Result};
use crate::json::AdditionalInfo;
use crate::lookup::{Lookups, Service, arm_resource_type_into};
use crate::reader::{Record, check_utf8, check_width, read_header, scan_error};
use crate::scan::{CHUNK_BYTES, ChunkBuf, Chunker, Fields, ScanError, Scanner};
use crate::schema::{COLUMNS, F, Kind, mapped_schema};
use crate::warning::Warnings;

/// Which Cost Details dataset a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Dataset {
    ActualCost,
    AmortizedCost,
}

impl Dataset {
    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::ActualCost => "ActualCost",
            Dataset::AmortizedCost => "AmortizedCost",
        }
    }
}

/// One source file: a name for errors (blob name or path) and its bytes.
pub struct Source {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
}

impl Source {
    pub fn new(name: impl Into<String>, reader: impl Read + Send + 'static) -> Source {
        Source {
            name: name.into(),
            reader: Box::new(reader),
        }
    }

    /// A file on disk (opened lazily, when the converter reaches it).
    pub fn path(path: impl AsRef<std::path::Path>) -> Result<Source> {
        let p = path.as_ref();
        let f = std::fs::File::open(p).map_err(|e| IngestError::Read {
            file: p.display().to_string(),
            source: e,
        })?;
        Ok(Source::new(
            p.display().to_string(),
            std::io::BufReader::with_capacity(1 << 20, f),
        ))
    }
}

/// Options of a conversion. The output never depends on `batch_rows`, `threads` or
/// `chunk_bytes`, only its speed and memory do.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Most rows per record batch (memory is proportional to this, never to the file size).
    pub batch_rows: usize,
    /// The agreement type, when the caller knows it; otherwise detected from the first header.
    pub agreement: Option<Agreement>,
    /// Threads parsing and mapping chunks; 0: one per core.
    pub threads: usize,
    /// Bytes read at a time; each chunk of whole records is parsed and mapped on one thread.
    pub chunk_bytes: usize,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            batch_rows: 16 * 1024,
            agreement: None,
            threads: 0,
            chunk_bytes: CHUNK_BYTES,
        }
    }
}

/// Exact totals of the source files of one period, gathered while converting.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceTotals {
    /// Rows in the ActualCost files.
    pub actual_rows: u64,
    /// Sum of the cost column (`CostInBillingCurrency` / `Cost`) over every ActualCost row.
    pub actual_cost: ExactSum,
    /// ActualCost rows kept by the merge rule (commitment purchases and refunds).
    pub actual_rows_kept: u64,
    /// Rows in the AmortizedCost files (all kept).
    pub amortized_rows: u64,
    /// Sum of the cost column over every AmortizedCost row.
    pub amortized_cost: ExactSum,
    /// Source values (any decimal column) with more than 24 decimal places, rounded when stored.
    pub rounded_values: u64,
}

#[derive(Debug)]
enum Builder {
    Str(StringBuilder),
    Dec(Decimal128Builder),
    Ts(TimestampMicrosecondBuilder),
    Bool(BooleanBuilder),
}

/// Column builders of one batch.
struct Builders {
    cols: Vec<Builder>,
    rows: usize,
}

impl Builders {
    /// Builders for `cap` rows; `bytes_per_row` (per column) sizes the string buffers so they do not
    /// grow while a batch fills.
    fn new(cap: usize, bytes_per_row: &[usize]) -> Builders {
        let cols = COLUMNS
            .iter()
            .enumerate()
            .map(|(i, (_, k))| match k {
                Kind::Str => Builder::Str(StringBuilder::with_capacity(
                    cap,
                    cap * bytes_per_row.get(i).copied().unwrap_or(16),
                )),
                Kind::Dec => Builder::Dec(Decimal128Builder::with_capacity(cap)),
                Kind::Ts => Builder::Ts(TimestampMicrosecondBuilder::with_capacity(cap)),
                Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(cap)),
            })
            .collect();
        Builders { cols, rows: 0 }
    }

    #[inline]
    fn s(&mut self, f: F, v: &str) {
        if let Builder::Str(b) = &mut self.cols[f as usize] {
            if v.is_empty() {
                b.append_null()
            } else {
                b.append_value(v)
            }
        }
    }

    /// `prefix`, `v` and `suffix` as one value, written straight into the column.
    #[inline]
    fn s_wrapped(&mut self, f: F, prefix: &str, v: &str, suffix: &str) {
        if let Builder::Str(b) = &mut self.cols[f as usize] {
            use std::fmt::Write as _;
            let _ = b.write_str(prefix);
            let _ = b.write_str(v);
            let _ = b.write_str(suffix);
            b.append_value("");
        }
    }

    /// Bytes per row of each string column so far (for the next batch's capacity).
    fn bytes_per_row(&self) -> Vec<usize> {
        self.cols
            .iter()
            .map(|b| match b {
                Builder::Str(b) if self.rows > 0 => b.values_slice().len() / self.rows + 1,
                _ => 16,
            })
            .collect()
    }

    #[inline]
    fn so(&mut self, f: F, v: Option<&str>) {
        self.s(f, v.unwrap_or(""));
    }

    #[inline]
    fn d(&mut self, f: F, v: Option<i128>) {
        if let Builder::Dec(b) = &mut self.cols[f as usize] {
            b.append_option(v)
        }
    }

    #[inline]
    fn t(&mut self, f: F, v: Option<i64>) {
        if let Builder::Ts(b) = &mut self.cols[f as usize] {
            b.append_option(v)
        }
    }

    #[inline]
    fn b(&mut self, f: F, v: Option<bool>) {
        if let Builder::Bool(b) = &mut self.cols[f as usize] {
            b.append_option(v)
        }
    }

    fn finish(&mut self) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|b| -> ArrayRef {
                match b {
                    Builder::Str(b) => Arc::new(b.finish()),
                    Builder::Dec(b) => Arc::new(
                        b.finish()
                            .with_precision_and_scale(STORE_PRECISION, STORE_SCALE as i8)
                            .unwrap_or_else(|_| unreachable!("38, 24 is a valid decimal type")),
                    ),
                    Builder::Ts(b) => Arc::new(b.finish().with_timezone("UTC")),
                    Builder::Bool(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(mapped_schema(), arrays).map_err(|e| IngestError::Arrow {
            context: "assembling a FOCUS batch".into(),
            source: e,
        })
    }
}

/// Cached facts about a unit of measure.
struct UnitInfo {
    block: Dec,
    distinct: Option<String>,
    /// FOCUS PricingUnit: the distinct unit, prefixed by the block size when it is not 1.
    pricing_unit: Option<String>,
}

/// Cached facts about a (ConsumedService, resource type) pair.
struct ServiceInfo {
    service: Option<Service>,
    type_name: Option<String>,
}

/// A small cache of the last parsed value of a date column (dates repeat in long runs).
#[derive(Default)]
struct DateCache {
    text: String,
    value: Option<i64>,
}

/// The last currency code checked (codes repeat in long runs: one check per change, no
/// allocation per row).
#[derive(Default)]
struct CurrencyCache {
    text: String,
    code: &'static str,
}

impl CurrencyCache {
    /// The ISO 4217 code of column `c`; empty only when it may be (`required` false). An unknown
    /// code is refused: it would reach BillingCurrency or PricingCurrency as written.
    fn get(&mut self, rec: &Record<'_>, c: Col, required: bool) -> Result<&'static str> {
        let s = rec.str(c);
        if s == self.text && !s.is_empty() {
            return Ok(self.code);
        }
        let bad = |reason| IngestError::BadCurrency {
            at: rec.position(c),
            value: s.chars().take(80).collect(),
            reason,
        };
        if s.trim().is_empty() {
            return if required {
                Err(bad(
                    "the currency is empty; every row needs its ISO 4217 currency code",
                ))
            } else {
                Ok("")
            };
        }
        let code = be_domain::Currency::parse(s)
            .map_err(|_| {
                bad("not an ISO 4217 currency code (three letters such as USD, EUR or JPY)")
            })?
            .code();
        self.text.clear();
        self.text.push_str(s);
        self.code = code;
        Ok(code)
    }
}

/// Row-level mapping state: lookups and caches (bounded by the number of distinct values of
/// low-cardinality columns: units, locations, services).
struct Mapper {
    lookups: &'static Lookups,
    units: HashMap<String, Arc<UnitInfo>>,
    regions: HashMap<String, Option<Arc<(String, String)>>>,
    services: HashMap<String, HashMap<String, Arc<ServiceInfo>>>,
    date: DateCache,
    bp_start: DateCache,
    bp_end: DateCache,
    info: AdditionalInfo,
    arm_type: String,
    rounded: u64,
    billing_currency: CurrencyCache,
    pricing_currency: CurrencyCache,
    /// Values of optional `x_` columns stored as null, in the chunk being mapped (lines counted
    /// from the chunk's first line).
    warnings: Warnings,
}

/// Normalize ChargeType / PricingModel values for comparison: lower case, no spaces.
fn norm(s: &str) -> NormKind {
    let mut buf = [0u8; 24];
    let mut n = 0;
    for c in s.bytes() {
        if c == b' ' || c == b'-' || c == b'_' {
            continue;
        }
        if n == buf.len() {
            return NormKind::Other;
        }
        buf[n] = c.to_ascii_lowercase();
        n += 1;
    }
    match &buf[..n] {
        b"usage" => NormKind::Usage,
        b"purchase" => NormKind::Purchase,
        b"refund" => NormKind::Refund,
        b"unusedreservation" => NormKind::UnusedReservation,
        b"unusedsavingsplan" => NormKind::UnusedSavingsPlan,
        b"credit" => NormKind::Credit,
        b"tax" => NormKind::Tax,
        b"reservation" => NormKind::Reservation,
        b"savingsplan" => NormKind::SavingsPlan,
        b"ondemand" => NormKind::OnDemand,
        b"spot" => NormKind::Spot,
        b"onetime" => NormKind::OneTime,
        b"recurring" => NormKind::Recurring,
        b"usagebased" => NormKind::UsageBased,
        b"adjustment" | b"roundingadjustment" => NormKind::Adjustment,
        b"" => NormKind::Empty,
        _ => NormKind::Other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NormKind {
    Usage,
    Purchase,
    Refund,
    UnusedReservation,
    UnusedSavingsPlan,
    Credit,
    Tax,
    Reservation,
    SavingsPlan,
    OnDemand,
    Spot,
    OneTime,
    Recurring,
    UsageBased,
    Adjustment,
    Empty,
    Other,
}

/// Whether an ActualCost row is kept by Microsoft's merge rule: commitment purchases and refunds.
fn kept_from_actual(charge_type: &str, pricing_model: &str) -> bool {
    matches!(norm(charge_type), NormKind::Purchase | NormKind::Refund)
        && matches!(
            norm(pricing_model),
            NormKind::Reservation | NormKind::SavingsPlan
        )
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len()
        && hay
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn mul(a: Dec, b: Dec) -> Option<i128> {
    match a.mantissa.checked_mul(b.mantissa) {
        Some(m) if a.scale + b.scale <= 38 => {
            rescale(m, a.scale + b.scale, STORE_SCALE).ok().map(|x| x.0)
        }
        _ => {
            let p = a.to_decimal()?.checked_mul(b.to_decimal()?)?;
            Dec::parse(&p.to_string())
                .ok()?
                .to_store()
                .ok()
                .map(|x| x.0)
        }
    }
}

fn div(a: Dec, b: Dec) -> Option<i128> {
    if b.is_zero() {
        return None;
    }
    if b == (Dec {
        mantissa: 1,
        scale: 0,
    }) {
        return a.to_store().ok().map(|x| x.0);
    }
    let q = a.to_decimal()?.checked_div(b.to_decimal()?)?;
    Dec::parse(&q.to_string())
        .ok()?
        .to_store()
        .ok()
        .map(|x| x.0)
}

impl DateCache {
    fn get(&mut self, rec: &Record<'_>, c: Col) -> Result<Option<i64>> {
        let s = rec.str(c);
        if s != self.text {
            self.value = if s.trim().is_empty() {
                None
            } else {
                Some(parse_timestamp_micros(s).ok_or_else(|| {
                    rec.error(
                        c,
                        "not a date in a known format (MM/DD/YYYY, YYYY-MM-DD, ISO 8601)",
                    )
                })?)
            };
            self.text.clear();
            self.text.push_str(s);
        }
        Ok(self.value)
    }
}

impl Mapper {
    fn new() -> Mapper {
        Mapper {
            lookups: Lookups::get(),
            units: HashMap::new(),
            regions: HashMap::new(),
            services: HashMap::new(),
            date: DateCache::default(),
            bp_start: DateCache::default(),
            bp_end: DateCache::default(),
            info: AdditionalInfo::default(),
            arm_type: String::new(),
            rounded: 0,
            billing_currency: CurrencyCache::default(),
            pricing_currency: CurrencyCache::default(),
            warnings: Warnings::default(),
        }
    }

    fn unit(&mut self, uom: &str) -> Arc<UnitInfo> {
        if let Some(u) = self.units.get(uom) {
            return u.clone();
        }
        let info = match self.lookups.pricing_unit(uom) {
            Some(p) => {
                let one = p.block_size
                    == Dec {
                        mantissa: 1,
                        scale: 0,
                    };
                UnitInfo {
                    block: p.block_size,
                    distinct: Some(p.distinct_units.clone()),
                    pricing_unit: Some(if one {
                        p.distinct_units.clone()
                    } else {
                        format!("{} {}", p.block_size, p.distinct_units)
                    }),
                }
            }
            None => UnitInfo {
                block: Dec {
                    mantissa: 1,
                    scale: 0,
                },
                distinct: Some(uom.trim().to_string()).filter(|s| !s.is_empty()),
                pricing_unit: Some(uom.trim().to_string()).filter(|s| !s.is_empty()),
            },
        };
        let a = Arc::new(info);
        self.units.insert(uom.to_string(), a.clone());
        a
    }

    fn region(&mut self, loc: &str) -> Option<Arc<(String, String)>> {
        if let Some(r) = self.regions.get(loc) {
            return r.clone();
        }
        let r = if loc.trim().is_empty() {
            None
        } else {
            match self.lookups.region(loc.trim()) {
                Some(r) => Some(Arc::new((r.id.clone(), r.name.clone()))),
                None => Some(Arc::new((
                    loc.to_ascii_lowercase().replace(' ', ""),
                    loc.trim().to_string(),
                ))),
            }
        };
        self.regions.insert(loc.to_string(), r.clone());
        r
    }

    fn service(&mut self, consumed: &str, arm_type: &str) -> Arc<ServiceInfo> {
        if let Some(s) = self.services.get(consumed).and_then(|m| m.get(arm_type)) {
            return s.clone();
        }
        let info = Arc::new(ServiceInfo {
            service: self.lookups.service(consumed, arm_type).cloned(),
            type_name: self
                .lookups
                .resource_type_name(arm_type)
                .map(str::to_string),
        });
        self.services
            .entry(consumed.to_string())
            .or_default()
            .insert(arm_type.to_string(), info.clone());
        info
    }

    fn store(&mut self, rec: &Record<'_>, c: Col, d: Option<Dec>) -> Result<Option<i128>> {
        match d {
            None => Ok(None),
            Some(d) => {
                let (v, rounded) = d.to_store().map_err(|e| rec.error(c, e.message()))?;
                if rounded {
                    self.rounded += 1;
                }
                Ok(Some(v))
            }
        }
    }

    /// A decimal of an optional column that only feeds an `x_` extension (null with a warning
    /// when it does not parse).
    fn optional_x_decimal(&mut self, rec: &Record<'_>, c: Col) -> Option<i128> {
        let (v, rounded) = rec.optional_stored_decimal(c, &mut self.warnings);
        if rounded {
            self.rounded += 1;
        }
        v
    }

    /// The row's kind of charge. A file of the legacy usage-details layout has no ChargeType
    /// column (its rows are all usage; other files without one are refused at the header). An
    /// empty value is refused; an unknown one is an adjustment, with a warning.
    fn charge_type(&mut self, rec: &Record<'_>) -> Result<NormKind> {
        if !rec.has(Col::ChargeType) {
            return Ok(NormKind::Usage);
        }
        match norm(rec.str(Col::ChargeType)) {
            NormKind::Empty => Err(rec.error(
                Col::ChargeType,
                "the charge type is empty; without it the row's kind of charge is unknown",
            )),
            k @ (NormKind::Usage
            | NormKind::Purchase
            | NormKind::Refund
            | NormKind::UnusedReservation
            | NormKind::UnusedSavingsPlan
            | NormKind::Credit
            | NormKind::Tax
            | NormKind::Adjustment) => Ok(k),
            _ => {
                rec.warn(
                    Col::ChargeType,
                    &mut self.warnings,
                    "not a known charge type; mapped to ChargeCategory Adjustment",
                );
                Ok(NormKind::Other)
            }
        }
    }

    /// Append one source row as one FOCUS row.
    fn map_row(
        &mut self,
        rec: &Record<'_>,
        ds: Dataset,
        agreement: Agreement,
        cost: Dec,
        b: &mut Builders,
    ) -> Result<()> {
        let mca = agreement == Agreement::Mca;
        let ct_raw = rec.str(Col::ChargeType);
        let pm_raw = rec.str(Col::PricingModel);
        let ct = self.charge_type(rec)?;
        let pm = norm(pm_raw);
        let commitment = matches!(pm, NormKind::Reservation | NormKind::SavingsPlan);

        // Costs (5.7; BilledCost is also 0 for unused commitment rows, see the crate docs).
        let cost_v = self.store(rec, Col::CostInBillingCurrency, Some(cost))?;
        let billed_zero = commitment
            && matches!(
                ct,
                NormKind::Usage | NormKind::UnusedReservation | NormKind::UnusedSavingsPlan
            );
        let effective_zero = commitment && matches!(ct, NormKind::Purchase | NormKind::Refund);
        let billed = if billed_zero { Some(0) } else { cost_v };
        let effective = if effective_zero { Some(0) } else { cost_v };
        b.d(F::BilledCost, billed);
        b.d(F::EffectiveCost, effective);

        // Billing account
        let (ba_id, ba_name) = if mca {
            (
                rec.str(Col::BillingProfileId),
                rec.str(Col::BillingProfileName),
            )
        } else {
            (
                rec.str(Col::BillingAccountId),
                rec.str(Col::BillingAccountName),
            )
        };
        b.s(F::BillingAccountId, ba_id);
        b.s(F::BillingAccountName, ba_name);
        b.s(
            F::BillingAccountType,
            if mca {
                "Billing Profile"
            } else {
                "Billing Account"
            },
        );
        let currency = self.billing_currency.get(rec, Col::BillingCurrency, true)?;
        b.s(F::BillingCurrency, currency);

        // Periods
        let date = self
            .date
            .get(rec, Col::Date)?
            .ok_or_else(|| rec.error(Col::Date, "the date is empty"))?;
        let charge_start = date;
        b.t(F::ChargePeriodStart, Some(charge_start));
        b.t(
            F::ChargePeriodEnd,
            Some(day_start(charge_start) + MICROS_PER_DAY),
        );
        let month = month_bounds(date);
        let bp_start = match self.bp_start.get(rec, Col::BillingPeriodStartDate)? {
            Some(v) => Some(v),
            None => match rec.timestamp(Col::ServicePeriodStartDate)? {
                Some(v) => month_bounds(v).map(|m| m.0),
                None => month.map(|m| m.0),
            },
        };
        let bp_end = match self.bp_end.get(rec, Col::BillingPeriodEndDate)? {
            Some(v) => Some(day_start(v) + MICROS_PER_DAY),
            None => bp_start.and_then(month_bounds).map(|m| m.1),
        };
        b.t(F::BillingPeriodStart, bp_start);
        b.t(F::BillingPeriodEnd, bp_end);

        // AdditionalInfo-derived values
        let info = rec.str(Col::AdditionalInfo).trim();
        let mut ai = std::mem::take(&mut self.info);
        ai.read(info);
        let cap_res_id = ai.capacity_reservation.take();
        let ri_ratio = ai.ri_ratio;

        // Resource and service
        let resource_id = rec.str(Col::ResourceId);
        let mut arm_type = std::mem::take(&mut self.arm_type);
        arm_resource_type_into(resource_id, &mut arm_type);
        b.s(
            F::CapacityReservationId,
            cap_res_id.as_deref().unwrap_or(""),
        );
        b.s(
            F::CapacityReservationStatus,
            match &cap_res_id {
                None => "",
                Some(_)
                    if arm_type
                        == "microsoft.compute/capacityreservationgroups/capacityreservations" =>
                {
                    "Unused"
                }
                Some(_) => "Used",
            },
        );

        // Charge
        let charge_category = match ct {
            NormKind::Usage => "Usage",
            NormKind::Purchase => "Purchase",
            NormKind::Credit => "Credit",
            NormKind::Tax => "Tax",
            NormKind::UnusedReservation | NormKind::UnusedSavingsPlan => "Usage",
            NormKind::Refund => "Purchase",
            _ => "Adjustment", // Adjustment, RoundingAdjustment, or unknown (with a warning)
        };
        b.s(F::ChargeCategory, charge_category);
        b.s(
            F::ChargeClass,
            if ct == NormKind::Refund {
                "Correction"
            } else {
                ""
            },
        );
        b.s(F::ChargeDescription, rec.str(Col::ProductName));
        b.s(
            F::ChargeFrequency,
            match norm(rec.str(Col::Frequency)) {
                NormKind::OneTime => "One-Time",
                NormKind::Recurring => "Recurring",
                NormKind::UsageBased => "Usage-Based",
                _ if charge_category == "Usage" => "Usage-Based",
                _ => "One-Time",
            },
        );

        // Commitment discounts
        let synthesized;
        let mut benefit_id = rec.str(Col::BenefitId);
        if benefit_id.is_empty()
            && pm == NormKind::Reservation
            && !rec.str(Col::ReservationId).is_empty()
            && !rec.str(Col::ProductOrderId).is_empty()
        {
            // older layouts have no benefitId: build the reservation's ID from its order and ID
            synthesized = format!(
                "/providers/Microsoft.Capacity/reservationOrders/{}/reservations/{}",
                rec.str(Col::ProductOrderId),
                rec.str(Col::ReservationId)
            );
            benefit_id = &synthesized;
        }
        let (cd_category, cd_type) = if contains_ci(benefit_id, "/microsoft.capacity/") {
            ("Usage", "Reservation")
        } else if contains_ci(benefit_id, "/microsoft.billingbenefits/") {
            ("Spend", "Savings Plan")
        } else {
            ("", "")
        };
        let benefit_name = match rec.str(Col::BenefitName) {
            "" if !benefit_id.is_empty() => rec.str(Col::ReservationName),
            n => n,
        };
        let has_cd = !benefit_id.is_empty();
        b.s(F::CommitmentDiscountCategory, cd_category);
        b.s(F::CommitmentDiscountId, benefit_id);
        b.s(
            F::CommitmentDiscountName,
            if has_cd { benefit_name } else { "" },
        );
        let cd_status = if !has_cd || charge_category != "Usage" {
            ""
        } else if matches!(
            ct,
            NormKind::UnusedReservation | NormKind::UnusedSavingsPlan
        ) {
            "Unused"
        } else if commitment {
            "Used"
        } else {
            ""
        };
        b.s(F::CommitmentDiscountStatus, cd_status);
        b.s(F::CommitmentDiscountType, cd_type);

        // Quantities and prices (Quantity is in UnitOfMeasure blocks: Cost = Quantity x EffectivePrice)
        let uom = rec.str(Col::UnitOfMeasure);
        let unit = self.unit(uom);
        let quantity = rec.decimal(Col::Quantity)?;
        let fx = if mca {
            rec.decimal(Col::ExchangeRatePricingToBilling)?
                .filter(|d| !d.is_zero())
        } else {
            None
        };
        let to_billing = |d: Option<Dec>| -> Option<i128> {
            let d = d?;
            match fx {
                Some(r) => mul(d, r),
                None => d.to_store().ok().map(|x| x.0),
            }
        };
        let pricing_quantity = self.store(rec, Col::Quantity, quantity)?;
        b.d(F::PricingQuantity, pricing_quantity);
        b.s(F::PricingUnit, unit.pricing_unit.as_deref().unwrap_or(""));
        let consumed = if ct == NormKind::Usage {
            quantity.and_then(|q| mul(q, unit.block))
        } else {
            None
        };
        b.d(F::ConsumedQuantity, consumed);
        b.s(
            F::ConsumedUnit,
            if consumed.is_some() {
                unit.distinct.as_deref().unwrap_or("")
            } else {
                ""
            },
        );
        let unit_price = rec.decimal(Col::UnitPrice)?;
        // Azure writes PayGPrice 0 on commitment rows; the list price is then the unit price, so
        // that ListCost = ListUnitPrice x PricingQuantity still holds.
        let payg_price = match rec.decimal(Col::PayGPrice)? {
            Some(p) if p.is_zero() && unit_price.is_some_and(|u| !u.is_zero()) => unit_price,
            p => p,
        };
        let effective_price = rec.decimal(Col::EffectivePrice)?;
        b.d(F::ContractedUnitPrice, to_billing(unit_price));
        b.d(F::ListUnitPrice, to_billing(payg_price));
        b.d(F::x_EffectiveUnitPrice, to_billing(effective_price));
        let contracted_cost = match (unit_price, quantity) {
            (Some(p), Some(q)) => mul(p, q).and_then(|v| match fx {
                Some(r) => mul(
                    Dec {
                        mantissa: v,
                        scale: STORE_SCALE,
                    },
                    r,
                ),
                None => Some(v),
            }),
            _ => None,
        };
        // A commitment's purchase/refund row carries its price in the cost only.
        let contracted_cost = if effective_zero {
            cost_v
        } else {
            contracted_cost.or(cost_v)
        };
        b.d(F::ContractedCost, contracted_cost);
        let list_cost = if mca {
            match rec.decimal(Col::PaygCostInBillingCurrency)? {
                Some(v) => self.store(rec, Col::PaygCostInBillingCurrency, Some(v))?,
                None => contracted_cost,
            }
        } else {
            match (payg_price, quantity) {
                (Some(p), Some(q)) => mul(p, q),
                _ => contracted_cost,
            }
        };
        let list_cost = if effective_zero { cost_v } else { list_cost };
        b.d(F::ListCost, list_cost);
        b.d(
            F::x_PricingBlockSize,
            unit.block.to_store().ok().map(|x| x.0),
        );
        b.s(F::x_PricingUnitDescription, uom);

        let pricing_currency = if mca {
            self.pricing_currency
                .get(rec, Col::PricingCurrency, false)?
        } else {
            currency
        };
        b.s(F::PricingCurrency, pricing_currency);
        b.s(
            F::PricingCategory,
            match pm {
                NormKind::OnDemand => "Standard",
                NormKind::Spot => "Dynamic",
                NormKind::Reservation | NormKind::SavingsPlan if !effective_zero => "Committed",
                NormKind::Reservation | NormKind::SavingsPlan => "Standard",
                _ => "",
            },
        );
        // CommitmentDiscountQuantity / Unit (FOCUS 1.1+)
        let (cdq, cdu): (Option<i128>, String) =
            if !has_cd || !matches!(charge_category, "Usage" | "Purchase") {
                (None, String::new())
            } else if cd_category == "Spend" {
                let amount = if charge_category == "Purchase" {
                    cost
                } else if effective_zero {
                    Dec::ZERO
                } else {
                    cost
                };
                let q = match fx {
                    Some(r) => div(amount, r),
                    None => amount.to_store().ok().map(|x| x.0),
                };
                (q, pricing_currency.to_string())
            } else if cd_category == "Usage" {
                let q = match (quantity, ri_ratio) {
                    (Some(q), Some(r)) => mul(q, r),
                    (Some(q), None) => q.to_store().ok().map(|x| x.0),
                    _ => None,
                };
                let u = unit.pricing_unit.clone().unwrap_or_default();
                (
                    q,
                    if ri_ratio.is_some() && !u.is_empty() {
                        format!("Normalized {u}")
                    } else {
                        u
                    },
                )
            } else {
                (None, String::new())
            };
        b.d(
            F::CommitmentDiscountQuantity,
            if cdu.is_empty() { None } else { cdq },
        );
        b.s(
            F::CommitmentDiscountUnit,
            if cdq.is_some() { &cdu } else { "" },
        );

        // Invoice
        b.s(F::InvoiceId, rec.str(Col::InvoiceId));
        b.s(
            F::InvoiceIssuerName,
            match rec.str(Col::PartnerName) {
                "" => "Microsoft",
                p => p,
            },
        );
        b.s(F::ProviderName, "Microsoft");

        // Service lookups
        let consumed_service = rec.str(Col::ConsumedService);
        let svc = self.service(consumed_service, &arm_type);
        let publisher = rec.str(Col::PublisherName);
        let publisher = if publisher.is_empty() {
            svc.service
                .as_ref()
                .map(|s| s.publisher_name.as_str())
                .filter(|s| !s.is_empty())
                .unwrap_or("Microsoft")
        } else {
            publisher
        };
        b.s(F::PublisherName, publisher);
        match &svc.service {
            Some(s) => {
                b.s(F::ServiceCategory, &s.service_category);
                b.s(F::ServiceName, &s.service_name);
                b.s(F::ServiceSubcategory, &s.service_subcategory);
                b.s(F::x_ServiceModel, &s.service_model);
            }
            None => {
                let name = match rec.str(Col::MeterCategory) {
                    "" if consumed_service.is_empty() => "Other",
                    "" => consumed_service,
                    n => n,
                };
                let (category, subcategory) = self
                    .lookups
                    .category_of_service_name(name)
                    .unwrap_or(("Other", "Other (Other)"));
                b.s(F::ServiceCategory, category);
                b.s(F::ServiceName, name);
                b.s(F::ServiceSubcategory, subcategory);
                b.s(F::x_ServiceModel, "");
            }
        }

        // Region
        let loc = rec.str(Col::ResourceLocation);
        match self.region(loc).as_deref() {
            Some((id, name)) => {
                b.s(F::RegionId, id);
                b.s(F::RegionName, name);
            }
            None => {
                b.s(F::RegionId, "");
                b.s(F::RegionName, "");
            }
        }

        // Resource
        b.s(F::ResourceId, resource_id);
        // MCA files have no ResourceName: the last segment of a well-formed ID (type/name pairs).
        let name = if rec.has(Col::ResourceName) {
            rec.str(Col::ResourceName)
        } else if !arm_type.is_empty() && !resource_id.ends_with('/') {
            resource_id.rsplit('/').next().unwrap_or("")
        } else {
            ""
        };
        b.s(
            F::ResourceName,
            if resource_id.is_empty() { "" } else { name },
        );
        b.so(
            F::ResourceType,
            if resource_id.is_empty() {
                None
            } else {
                svc.type_name.as_deref()
            },
        );
        b.s(
            F::x_ResourceType,
            if resource_id.is_empty() {
                ""
            } else {
                &arm_type
            },
        );
        b.s(F::AvailabilityZone, rec.str(Col::AvailabilityZone));

        // SKU
        b.s(F::SkuId, if mca { rec.str(Col::ProductId) } else { "" });
        b.s(F::SkuMeter, rec.str(Col::MeterName));
        b.so(
            F::SkuPriceDetails,
            ai.is_object.then_some(ai.details.as_str()),
        );
        b.s(F::SkuPriceId, "");
        b.s(F::x_SkuDetails, info);

        // Sub account
        b.s(F::SubAccountId, rec.str(Col::SubscriptionId));
        b.s(F::SubAccountName, rec.str(Col::SubscriptionName));
        b.s(
            F::SubAccountType,
            if rec.str(Col::SubscriptionId).is_empty() {
                ""
            } else {
                "Subscription"
            },
        );

        // Tags: EA writes them without braces
        let tags = rec.str(Col::Tags).trim();
        if tags.is_empty() {
            b.s(F::Tags, "");
        } else if tags.starts_with('{') {
            b.s(F::Tags, tags);
        } else {
            b.s_wrapped(F::Tags, "{", tags, "}");
        }

        // Azure extras
        b.s(F::x_AccountId, rec.str(Col::AccountId));
        b.s(F::x_AccountName, rec.str(Col::AccountName));
        b.s(F::x_AccountOwnerId, rec.str(Col::AccountOwnerId));
        let usd = self.optional_x_decimal(rec, Col::CostInUsd);
        b.d(
            F::x_BilledCostInUsd,
            if billed_zero { usd.map(|_| 0) } else { usd },
        );
        b.d(
            F::x_EffectiveCostInUsd,
            if effective_zero { usd.map(|_| 0) } else { usd },
        );
        let payg_usd = self.optional_x_decimal(rec, Col::PaygCostInUsd);
        b.d(F::x_ListCostInUsd, payg_usd);
        b.s(F::x_BillingAccountId, rec.str(Col::BillingAccountId));
        b.s(F::x_BillingAccountName, rec.str(Col::BillingAccountName));
        b.d(
            F::x_BillingExchangeRate,
            fx.and_then(|r| r.to_store().ok()).map(|x| x.0),
        );
        b.t(
            F::x_BillingExchangeRateDate,
            rec.optional_timestamp(Col::ExchangeRateDate, &mut self.warnings),
        );
        b.s(F::x_BillingProfileId, rec.str(Col::BillingProfileId));
        b.s(F::x_BillingProfileName, rec.str(Col::BillingProfileName));
        b.s(
            F::x_CostAllocationRuleName,
            rec.str(Col::CostAllocationRuleName),
        );
        b.s(F::x_CostCenter, rec.str(Col::CostCenter));
        b.s(F::x_InvoiceSectionId, rec.str(Col::InvoiceSectionId));
        b.s(F::x_InvoiceSectionName, rec.str(Col::InvoiceSectionName));
        b.s(F::x_PreviousInvoiceId, rec.str(Col::PreviousInvoiceId));
        b.s(F::x_PublisherCategory, rec.str(Col::PublisherType));
        b.s(F::x_PublisherId, rec.str(Col::PublisherId));
        b.s(F::x_ResellerId, rec.str(Col::ResellerMpnId));
        b.s(F::x_ResellerName, rec.str(Col::ResellerName));
        b.s(F::x_ResourceGroupName, rec.str(Col::ResourceGroup));
        b.t(
            F::x_ServicePeriodStart,
            rec.optional_timestamp(Col::ServicePeriodStartDate, &mut self.warnings),
        );
        b.t(
            F::x_ServicePeriodEnd,
            rec.optional_timestamp(Col::ServicePeriodEndDate, &mut self.warnings)
                .map(|v| day_start(v) + MICROS_PER_DAY),
        );
        b.b(
            F::x_SkuIsCreditEligible,
            match rec.str(Col::IsAzureCreditEligible).trim() {
                "" => None,
                s if s.eq_ignore_ascii_case("true") => Some(true),
                s if s.eq_ignore_ascii_case("false") => Some(false),
                _ => {
                    rec.warn(
                        Col::IsAzureCreditEligible,
                        &mut self.warnings,
                        "neither True nor False; stored as null",
                    );
                    None
                }
            },
        );
        b.s(F::x_SkuMeterCategory, rec.str(Col::MeterCategory));
        b.s(F::x_SkuMeterId, rec.str(Col::MeterId));
        b.s(F::x_SkuMeterSubcategory, rec.str(Col::MeterSubCategory));
        b.s(F::x_SkuOfferId, rec.str(Col::OfferId));
        b.s(F::x_SkuOrderId, rec.str(Col::ProductOrderId));
        b.s(F::x_SkuOrderName, rec.str(Col::ProductOrderName));
        b.s(F::x_SkuPartNumber, rec.str(Col::PartNumber));
        b.s(F::x_SkuPlanName, rec.str(Col::PlanName));
        b.s(F::x_SkuRegion, rec.str(Col::MeterRegion));
        b.s(F::x_SkuServiceFamily, rec.str(Col::ServiceFamily));
        b.s(F::x_SkuTerm, rec.str(Col::Term));
        b.s(F::x_SourceChargeType, ct_raw);
        b.s(F::x_SourcePricingModel, pm_raw);
        b.s(F::x_SourceDataset, ds.as_str());
        b.rows += 1;
        self.info = ai;
        self.arm_type = arm_type;
        Ok(())
    }
}

/// Converts the ActualCost and AmortizedCost files of one billing period into FOCUS 1.2 batches,
/// following Microsoft's procedure: every AmortizedCost row, plus the ActualCost rows that are
/// commitment purchases or refunds. An iterator of batches of at most `batch_rows` rows, in file
/// order (the amortized files, then the actual ones).
///
/// The files are read in chunks of whole records ([`crate::scan`]); `threads` workers parse and
/// map chunks in parallel while this iterator hands their batches out in file order, so the
/// batches are the same whatever the thread timing. At most [`CHUNKS_AHEAD`] chunks are in flight:
/// memory is bounded by the chunk size, never by the file size. After the last batch,
/// [`Self::source_totals`] holds the exact sums of the source cost column.
pub struct FocusConverter {
    shared: Arc<Shared>,
    opts: ConvertOptions,
    workers: Vec<std::thread::JoinHandle<()>>,
    rx: Option<mpsc::Receiver<(u64, Slot)>>,
    pending: BTreeMap<u64, Slot>,
    next: u64,
    ready: VecDeque<RecordBatch>,
    totals: SourceTotals,
    warnings: Warnings,
    /// Line of the next chunk of the current source (errors name absolute lines).
    line: u64,
    done: bool,
}

/// Chunks read ahead of the one the iterator waits for, per worker thread.
pub const CHUNKS_AHEAD: u64 = 3;

/// A source being read: its name for errors, its dataset and its columns.
struct SourceInfo {
    name: String,
    dataset: Dataset,
    map: ColumnMap,
}

/// The current source of the reading state.
struct Current {
    info: Arc<SourceInfo>,
    chunker: Chunker<Box<dyn Read + Send>>,
    /// The records read with the header, and the line they start on.
    first: Option<(Vec<u8>, u64)>,
    /// The line of the source's first chunk, until it is handed out.
    first_line: Option<u64>,
}

/// What the workers share: the sources, read one chunk at a time under the lock.
struct Reading {
    queue: VecDeque<(Dataset, Source)>,
    current: Option<Current>,
    agreement: Option<(Agreement, String)>,
    fixed_agreement: bool,
    next_seq: u64,
    consumed: u64,
    /// The end or a failure was handed out: no more chunks.
    finished: bool,
    stop: bool,
}

struct Shared {
    state: Mutex<Reading>,
    turn: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Reading> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a worker hands over for one sequence number.
enum Slot {
    /// A mapped chunk (errors with lines counted from the chunk's first line). `first_line`: the
    /// chunk starts a source, on that line.
    Chunk {
        out: Result<ChunkOut>,
        first_line: Option<u64>,
    },
    /// Reading failed (errors with absolute lines).
    Failed(IngestError),
    End,
}

struct ChunkOut {
    batches: Vec<RecordBatch>,
    totals: SourceTotals,
    lines: u64,
    /// Lines counted from the chunk's first line.
    warnings: Warnings,
}

enum Task {
    Chunk {
        seq: u64,
        info: Arc<SourceInfo>,
        agreement: Agreement,
        first_line: Option<u64>,
    },
    Failed(u64, IngestError),
    End(u64),
    Exit,
}

impl Reading {
    /// The next chunk into `buf`, or the end, or a failure; each takes the next sequence number.
    fn take(&mut self, buf: &mut ChunkBuf, block: usize) -> Task {
        if self.finished || self.stop {
            return Task::Exit;
        }
        let seq = self.next_seq;
        let fail = |st: &mut Reading, e| {
            st.finished = true;
            st.next_seq += 1;
            Task::Failed(seq, e)
        };
        loop {
            if self.current.is_none() {
                let Some((dataset, src)) = self.queue.pop_front() else {
                    self.finished = true;
                    self.next_seq += 1;
                    return Task::End(seq);
                };
                let mut chunker = Chunker::new(src.reader, block);
                let (map, rest, line) = match read_header(&src.name, &mut chunker) {
                    Ok(h) => h,
                    Err(e) => return fail(self, e),
                };
                let kind = map.agreement();
                match &self.agreement {
                    None => self.agreement = Some((kind, src.name.clone())),
                    Some((a, first)) if !self.fixed_agreement && *a != kind => {
                        let e = IngestError::MixedAgreements {
                            first: first.clone(),
                            first_kind: a.as_str(),
                            second: src.name.clone(),
                            second_kind: kind.as_str(),
                        };
                        return fail(self, e);
                    }
                    _ => {}
                }
                let info = Arc::new(SourceInfo {
                    name: src.name,
                    dataset,
                    map,
                });
                self.current = Some(Current {
                    info,
                    chunker,
                    first: Some((rest, line)),
                    first_line: Some(line),
                });
            }
            let agreement = self
                .agreement
                .as_ref()
                .map(|a| a.0)
                .unwrap_or(Agreement::Ea);
            let Some(cur) = self.current.as_mut() else {
                continue;
            };
            let got = match cur.first.take() {
                Some((rest, _)) if !rest.is_empty() => {
                    *buf = ChunkBuf::from_vec(rest);
                    Ok(true)
                }
                _ => cur.chunker.next_chunk(buf, &cur.info.name),
            };
            match got {
                Ok(true) => {
                    self.next_seq += 1;
                    return Task::Chunk {
                        seq,
                        info: cur.info.clone(),
                        agreement,
                        first_line: cur.first_line.take(),
                    };
                }
                Ok(false) => self.current = None,
                Err(e) => return fail(self, e),
            }
        }
    }
}

/// A worker: take chunks in turn, parse and map them, hand them over by sequence number.
fn work(shared: Arc<Shared>, tx: mpsc::Sender<(u64, Slot)>, opts: ConvertOptions, ahead: u64) {
    let mut buf = ChunkBuf::default();
    let mut m = Mapper::new();
    let mut fields = Fields::default();
    let mut hints = vec![16usize; COLUMNS.len()];
    loop {
        let task = {
            let mut st = shared.lock();
            while !st.stop && !st.finished && st.next_seq >= st.consumed + ahead {
                st = shared.turn.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            st.take(&mut buf, opts.chunk_bytes)
        };
        let (seq, slot) = match task {
            Task::Exit => return,
            Task::End(seq) => (seq, Slot::End),
            Task::Failed(seq, e) => (seq, Slot::Failed(e)),
            Task::Chunk {
                seq,
                info,
                agreement,
                first_line,
            } => {
                let mut chunk = ChunkMapper {
                    m: &mut m,
                    fields: &mut fields,
                    hints: &mut hints,
                    batch_rows: opts.batch_rows,
                };
                (
                    seq,
                    Slot::Chunk {
                        out: chunk.map(buf.bytes(), &info, agreement),
                        first_line,
                    },
                )
            }
        };
        if tx.send((seq, slot)).is_err() {
            return;
        }
    }
}

/// One worker's state for mapping a chunk.
struct ChunkMapper<'w> {
    m: &'w mut Mapper,
    fields: &'w mut Fields,
    /// Bytes per row of each string column in the worker's last batch.
    hints: &'w mut Vec<usize>,
    batch_rows: usize,
}

impl ChunkMapper<'_> {
    /// Parse and map one chunk of whole records (lines counted from 1 in the chunk).
    fn map(&mut self, bytes: &[u8], info: &SourceInfo, agreement: Agreement) -> Result<ChunkOut> {
        let text = check_utf8(bytes, &info.name, 1, Some(&info.map))?;
        let rounded_before = self.m.rounded;
        self.m.warnings = Warnings::default();
        let amortized = info.dataset == Dataset::AmortizedCost;
        let cap = if amortized {
            self.batch_rows.min(bytes.len() / 1024 + 16)
        } else {
            64
        };
        let mut b = Builders::new(cap, self.hints);
        let (mut batches, mut rows, mut kept, mut sum) =
            (Vec::new(), 0u64, 0u64, SumBuilder::default());
        let lines = if amortized {
            let mut sc = Scanner::on_text(text, 0, 1);
            while let Some(line) = sc
                .next_record(self.fields)
                .map_err(|e| scan_error(e, &info.name, 1, Some(&info.map)))?
            {
                let cost = self.keep_row(text, info, agreement, line, &mut b)?;
                rows += 1;
                kept += 1;
                sum.add(cost);
                if b.rows >= self.batch_rows {
                    *self.hints = b.bytes_per_row();
                    batches.push(b.finish()?);
                }
            }
            sc.lines()
        } else {
            self.sum_actual(
                text,
                info,
                agreement,
                &mut b,
                (&mut rows, &mut kept, &mut sum),
            )?
        };
        if b.rows > 0 {
            if b.rows >= 256 {
                *self.hints = b.bytes_per_row();
            }
            batches.push(b.finish()?);
        }
        let mut totals = SourceTotals {
            rounded_values: self.m.rounded - rounded_before,
            ..SourceTotals::default()
        };
        if amortized {
            (totals.amortized_rows, totals.amortized_cost) = (rows, sum.finish());
        } else {
            (
                totals.actual_rows,
                totals.actual_cost,
                totals.actual_rows_kept,
            ) = (rows, sum.finish(), kept);
        }
        Ok(ChunkOut {
            batches,
            totals,
            lines,
            warnings: std::mem::take(&mut self.m.warnings),
        })
    }

    /// Check and map the record just scanned into `self.fields`; its cost.
    fn keep_row(
        &mut self,
        text: &str,
        info: &SourceInfo,
        agreement: Agreement,
        line: u64,
        b: &mut Builders,
    ) -> Result<Dec> {
        check_width(self.fields, &info.map, &info.name, line)?;
        // doubled quotes are replaced only in the rows that are kept
        self.fields.unescape(text).map_err(|(field, reason)| {
            scan_error(
                ScanError {
                    line,
                    field: Some(field),
                    reason,
                },
                &info.name,
                1,
                Some(&info.map),
            )
        })?;
        let rec = Record::new(text, self.fields, &info.map, &info.name, line);
        let cost = rec
            .decimal(Col::CostInBillingCurrency)?
            .unwrap_or(Dec::ZERO);
        self.m.map_row(&rec, info.dataset, agreement, cost, b)?;
        Ok(cost)
    }

    /// An ActualCost chunk: every row's cost is summed, only commitment purchases and refunds are
    /// kept. The other rows are skimmed (three fields read, the rest counted); a kept row, or one
    /// that looks wrong, is scanned whole so it is checked and reported as any other. Returns the
    /// chunk's line count.
    fn sum_actual(
        &mut self,
        text: &str,
        info: &SourceInfo,
        agreement: Agreement,
        b: &mut Builders,
        (rows, kept, sum): (&mut u64, &mut u64, &mut SumBuilder),
    ) -> Result<u64> {
        let cols = [
            Col::CostInBillingCurrency,
            Col::ChargeType,
            Col::PricingModel,
        ];
        let mut want: Vec<(usize, usize)> = cols
            .iter()
            .enumerate()
            .filter_map(|(k, c)| info.map.get(*c).map(|i| (i, k)))
            .collect();
        want.sort_unstable();
        let idx: Vec<usize> = want.iter().map(|w| w.0).collect();
        let mut got = vec![(0, 0); idx.len()];
        let mut sc = Scanner::on_text(text, 0, 1);
        while let Some(r) = sc.skim(&idx, &mut got) {
            let field = |k: usize| {
                want.iter()
                    .position(|w| w.1 == k)
                    .and_then(|p| text.get(got[p].0..got[p].1))
                    .unwrap_or("")
            };
            let cost = match (r.fields == info.map.width(), field(0)) {
                (true, "") => Some(Dec::ZERO),
                (true, c) => Dec::parse(c).ok(),
                (false, _) => None,
            };
            *rows += 1;
            match cost {
                Some(cost) if !kept_from_actual(field(1), field(2)) => sum.add(cost),
                _ => {
                    // kept, or to be reported: the whole record, checked
                    let mut whole = Scanner::on_text(text, r.start, r.line);
                    let line = whole
                        .next_record(self.fields)
                        .map_err(|e| scan_error(e, &info.name, 1, Some(&info.map)))?
                        .unwrap_or(r.line);
                    check_width(self.fields, &info.map, &info.name, line)?;
                    let cost = Record::new(text, self.fields, &info.map, &info.name, line)
                        .decimal(Col::CostInBillingCurrency)?
                        .unwrap_or(Dec::ZERO);
                    sum.add(cost);
                    let rec = Record::new(text, self.fields, &info.map, &info.name, line);
                    if kept_from_actual(rec.str(Col::ChargeType), rec.str(Col::PricingModel)) {
                        *kept += 1;
                        self.keep_row(text, info, agreement, line, b)?;
                    }
                }
            }
        }
        Ok(sc.lines())
    }
}

impl SourceTotals {
    fn add(&mut self, o: &SourceTotals) {
        self.actual_rows += o.actual_rows;
        self.actual_cost.add(&o.actual_cost);
        self.actual_rows_kept += o.actual_rows_kept;
        self.amortized_rows += o.amortized_rows;
        self.amortized_cost.add(&o.amortized_cost);
        self.rounded_values += o.rounded_values;
    }
}

impl FocusConverter {
    /// A converter over the period's files (each report may come as several blobs).
    pub fn new(
        amortized: Vec<Source>,
        actual: Vec<Source>,
        opts: ConvertOptions,
    ) -> FocusConverter {
        let mut queue = VecDeque::new();
        queue.extend(amortized.into_iter().map(|s| (Dataset::AmortizedCost, s)));
        queue.extend(actual.into_iter().map(|s| (Dataset::ActualCost, s)));
        let reading = Reading {
            queue,
            current: None,
            agreement: opts.agreement.map(|a| (a, "the connection".to_string())),
            fixed_agreement: opts.agreement.is_some(),
            next_seq: 0,
            consumed: 0,
            finished: false,
            stop: false,
        };
        FocusConverter {
            shared: Arc::new(Shared {
                state: Mutex::new(reading),
                turn: Condvar::new(),
            }),
            opts: ConvertOptions {
                batch_rows: opts.batch_rows.max(1),
                chunk_bytes: opts.chunk_bytes.max(1),
                ..opts
            },
            workers: Vec::new(),
            rx: None,
            pending: BTreeMap::new(),
            next: 0,
            ready: VecDeque::new(),
            totals: SourceTotals::default(),
            warnings: Warnings::default(),
            line: 1,
            done: false,
        }
    }

    /// Exact totals of the source files read so far (complete once the iterator is exhausted).
    pub fn source_totals(&self) -> SourceTotals {
        self.totals.clone()
    }

    /// Values of optional `x_` columns stored as null (and unknown charge types mapped to
    /// adjustments) so far, with the first few in file order; complete once the iterator is
    /// exhausted.
    pub fn warnings(&self) -> &Warnings {
        &self.warnings
    }

    /// The agreement type (from options or the first header).
    pub fn agreement(&self) -> Option<Agreement> {
        self.shared.lock().agreement.as_ref().map(|a| a.0)
    }

    fn start(&mut self) {
        if self.rx.is_some() {
            return;
        }
        let threads = match self.opts.threads {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            n => n,
        };
        let (tx, rx) = mpsc::channel();
        for i in 0..threads {
            let (shared, tx, opts) = (self.shared.clone(), tx.clone(), self.opts.clone());
            let ahead = CHUNKS_AHEAD * threads as u64;
            let spawned = std::thread::Builder::new()
                .name(format!("be-ingest-map-{i}"))
                .spawn(move || work(shared, tx, opts, ahead));
            if let Ok(h) = spawned {
                self.workers.push(h);
            }
        }
        self.rx = Some(rx);
    }

    /// Stop the workers; nothing more is handed out.
    fn stop(&mut self) {
        self.done = true;
        self.ready.clear();
        self.shared.lock().stop = true;
        self.shared.turn.notify_all();
    }

    /// Take the slot the iterator waits for, if it arrived; `None` when it has not.
    fn next_slot(&mut self) -> Result<Option<Slot>> {
        if let Some(slot) = self.pending.remove(&self.next) {
            self.next += 1;
            self.shared.lock().consumed = self.next;
            self.shared.turn.notify_all();
            return Ok(Some(slot));
        }
        let got = self.rx.as_ref().map(|rx| rx.recv());
        match got {
            Some(Ok((seq, slot))) => {
                self.pending.insert(seq, slot);
                Ok(None)
            }
            _ => Err(IngestError::Internal(
                "a conversion thread stopped unexpectedly".into(),
            )),
        }
    }

    fn fill(&mut self) -> Result<()> {
        while self.ready.is_empty() && !self.done {
            let Some(slot) = self.next_slot()? else {
                continue;
            };
            match slot {
                Slot::End => self.done = true,
                Slot::Failed(e) => return Err(e),
                Slot::Chunk { out, first_line } => {
                    if let Some(l) = first_line {
                        self.line = l;
                    }
                    let out = out.map_err(|e| e.on_line_after(self.line - 1))?;
                    self.totals.add(&out.totals);
                    self.warnings.append_chunk(out.warnings, self.line);
                    self.line += out.lines;
                    self.ready.extend(out.batches);
                }
            }
        }
        Ok(())
    }
}

impl Iterator for FocusConverter {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ready.is_empty() && !self.done {
            self.start();
            if let Err(e) = self.fill() {
                self.stop();
                return Some(Err(e));
            }
        }
        self.ready.pop_front().map(Ok)
    }
}

impl Drop for FocusConverter {
    fn drop(&mut self) {
        self.stop();
        self.rx = None;
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_rule_keeps_commitment_purchases_and_refunds_only() {
        assert!(kept_from_actual("Purchase", "Reservation"));
        assert!(kept_from_actual("Refund", "SavingsPlan"));
        assert!(kept_from_actual("purchase", "Savings Plan"));
        assert!(!kept_from_actual("Usage", "Reservation"));
        assert!(!kept_from_actual("Purchase", "OnDemand"));
        assert!(!kept_from_actual("UnusedReservation", "Reservation"));
    }
}
