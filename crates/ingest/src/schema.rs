//! The FOCUS 1.2 schema this crate writes (it owns it): the FOCUS columns of Microsoft's FOCUS 1.2
//! export, in its order, then Azure extras as `x_` columns (Microsoft's names where it has one).
//!
//! Types: strings are `Utf8`; money, prices and quantities are `Decimal128(38, 24)`
//! ([`crate::decimal::STORE_SCALE`]); dates are `Timestamp(Microsecond, "UTC")`; flags are `Boolean`.
//! Every column is nullable at the Arrow level; FOCUS's "must not be null" rules are the mapping's job.

use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::decimal::{STORE_PRECISION, STORE_SCALE};

/// Arrow type family of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Dec,
    Ts,
    Bool,
}

macro_rules! focus_columns {
    ($( $id:ident : $kind:ident ),* $(,)?) => {
        /// Output columns, in file order.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum F { $($id),* }
        /// (name, kind) of every output column, in file order.
        pub const COLUMNS: &[(&str, Kind)] = &[ $( (stringify!($id), Kind::$kind) ),* ];
    };
}

focus_columns! {
    AvailabilityZone: Str,
    BilledCost: Dec,
    BillingAccountId: Str,
    BillingAccountName: Str,
    BillingAccountType: Str,
    BillingCurrency: Str,
    BillingPeriodEnd: Ts,
    BillingPeriodStart: Ts,
    CapacityReservationId: Str,
    CapacityReservationStatus: Str,
    ChargeCategory: Str,
    ChargeClass: Str,
    ChargeDescription: Str,
    ChargeFrequency: Str,
    ChargePeriodEnd: Ts,
    ChargePeriodStart: Ts,
    CommitmentDiscountCategory: Str,
    CommitmentDiscountId: Str,
    CommitmentDiscountName: Str,
    CommitmentDiscountQuantity: Dec,
    CommitmentDiscountStatus: Str,
    CommitmentDiscountType: Str,
    CommitmentDiscountUnit: Str,
    ConsumedQuantity: Dec,
    ConsumedUnit: Str,
    ContractedCost: Dec,
    ContractedUnitPrice: Dec,
    EffectiveCost: Dec,
    InvoiceId: Str,
    InvoiceIssuerName: Str,
    ListCost: Dec,
    ListUnitPrice: Dec,
    PricingCategory: Str,
    PricingCurrency: Str,
    PricingQuantity: Dec,
    PricingUnit: Str,
    ProviderName: Str,
    PublisherName: Str,
    RegionId: Str,
    RegionName: Str,
    ResourceId: Str,
    ResourceName: Str,
    ResourceType: Str,
    ServiceCategory: Str,
    ServiceName: Str,
    ServiceSubcategory: Str,
    SkuId: Str,
    SkuMeter: Str,
    SkuPriceDetails: Str,
    SkuPriceId: Str,
    SubAccountId: Str,
    SubAccountName: Str,
    SubAccountType: Str,
    Tags: Str,
    x_AccountId: Str,
    x_AccountName: Str,
    x_AccountOwnerId: Str,
    x_BilledCostInUsd: Dec,
    x_BillingAccountId: Str,
    x_BillingAccountName: Str,
    x_BillingExchangeRate: Dec,
    x_BillingExchangeRateDate: Ts,
    x_BillingProfileId: Str,
    x_BillingProfileName: Str,
    x_CostAllocationRuleName: Str,
    x_CostCenter: Str,
    x_EffectiveCostInUsd: Dec,
    x_EffectiveUnitPrice: Dec,
    x_InvoiceSectionId: Str,
    x_InvoiceSectionName: Str,
    x_ListCostInUsd: Dec,
    x_PreviousInvoiceId: Str,
    x_PricingBlockSize: Dec,
    x_PricingUnitDescription: Str,
    x_PublisherCategory: Str,
    x_PublisherId: Str,
    x_ResellerId: Str,
    x_ResellerName: Str,
    x_ResourceGroupName: Str,
    x_ResourceType: Str,
    x_ServiceModel: Str,
    x_ServicePeriodEnd: Ts,
    x_ServicePeriodStart: Ts,
    x_SkuDetails: Str,
    x_SkuIsCreditEligible: Bool,
    x_SkuMeterCategory: Str,
    x_SkuMeterId: Str,
    x_SkuMeterSubcategory: Str,
    x_SkuOfferId: Str,
    x_SkuOrderId: Str,
    x_SkuOrderName: Str,
    x_SkuPartNumber: Str,
    x_SkuPlanName: Str,
    x_SkuRegion: Str,
    x_SkuServiceFamily: Str,
    x_SkuTerm: Str,
    x_SourceChargeType: Str,
    x_SourcePricingModel: Str,
    x_SourceDataset: Str,
}

/// Number of output columns.
pub const N_FOCUS: usize = COLUMNS.len();

/// The Arrow type of a kind.
pub fn data_type(k: Kind) -> DataType {
    match k {
        Kind::Str => DataType::Utf8,
        Kind::Dec => DataType::Decimal128(STORE_PRECISION, STORE_SCALE as i8),
        Kind::Ts => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Kind::Bool => DataType::Boolean,
    }
}

/// The row's identity in its period file: its 0-based position, in the file's (deterministic)
/// order. Appended by [`crate::write_period_parquet`], where the order is final, so a rated line
/// can always be traced back to the row it came from.
pub const SOURCE_ROW_ID: &str = "x_SourceRowId";

fn schema_metadata() -> std::collections::HashMap<String, String> {
    let mut md = std::collections::HashMap::new();
    md.insert("focus_version".to_string(), "1.2".to_string());
    md.insert(
        "generator".to_string(),
        concat!("billing-engine be-ingest ", env!("CARGO_PKG_VERSION")).to_string(),
    );
    md
}

/// The schema of the batches the mapping produces: every column of [`COLUMNS`], in order.
pub fn mapped_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        let fields: Vec<Field> = COLUMNS
            .iter()
            .map(|(n, k)| Field::new(*n, data_type(*k), true))
            .collect();
        Arc::new(Schema::new_with_metadata(fields, schema_metadata()))
    })
    .clone()
}

/// The FOCUS 1.2 Arrow schema of every Parquet period file this crate writes: the mapped columns,
/// then [`SOURCE_ROW_ID`] (`Int64`, never null).
pub fn focus_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        let mut fields: Vec<Field> = mapped_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(SOURCE_ROW_ID, DataType::Int64, false));
        Arc::new(Schema::new_with_metadata(fields, schema_metadata()))
    })
    .clone()
}

/// The columns that carry cost (summed by reconciliation).
pub const COST_COLUMNS: &[F] = &[
    F::BilledCost,
    F::EffectiveCost,
    F::ListCost,
    F::ContractedCost,
];

impl F {
    pub fn name(self) -> &'static str {
        COLUMNS[self as usize].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_and_names_agree() {
        assert_eq!(F::BilledCost.name(), "BilledCost");
        assert_eq!(F::x_SourceDataset.name(), "x_SourceDataset");
        assert_eq!(mapped_schema().fields().len(), N_FOCUS);
        assert_eq!(focus_schema().fields().len(), N_FOCUS + 1);
        assert_eq!(focus_schema().field(N_FOCUS).name(), SOURCE_ROW_ID);
        let mut names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), N_FOCUS, "column names are unique");
    }
}
