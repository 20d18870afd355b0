//! CSV column layouts of the Cost Details files (azure-protocol.md section 5).

use serde::{Deserialize, Serialize};

/// One logical column; layouts map header names to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    InvoiceSectionName,
    AccountName,
    AccountOwnerId,
    SubscriptionId,
    SubscriptionName,
    ResourceGroup,
    ResourceLocation,
    Date,
    ProductName,
    MeterCategory,
    MeterSubCategory,
    MeterId,
    MeterName,
    MeterRegion,
    UnitOfMeasure,
    Quantity,
    EffectivePrice,
    CostInBillingCurrency,
    CostCenter,
    ConsumedService,
    ResourceId,
    Tags,
    OfferId,
    AdditionalInfo,
    ServiceInfo1,
    ServiceInfo2,
    ResourceName,
    ReservationId,
    ReservationName,
    UnitPrice,
    ProductOrderId,
    ProductOrderName,
    Term,
    PublisherType,
    PublisherName,
    ChargeType,
    Frequency,
    PricingModel,
    AvailabilityZone,
    BillingAccountId,
    BillingAccountName,
    BillingCurrencyCode,
    BillingPeriodStartDate,
    BillingPeriodEndDate,
    BillingProfileId,
    BillingProfileName,
    InvoiceSectionId,
    IsAzureCreditEligible,
    PartNumber,
    PayGPrice,
    PlanName,
    ServiceFamily,
    CostAllocationRuleName,
    BenefitId,
    BenefitName,
    AccountId,
    ResourceLocationNormalized,
    // MCA only
    InvoiceId,
    PreviousInvoiceId,
    ResellerName,
    ResellerMpnId,
    ServicePeriodEndDate,
    ServicePeriodStartDate,
    ProductId,
    PublisherId,
    Location,
    PricingCurrency,
    CostInPricingCurrency,
    CostInUsd,
    PaygCostInBillingCurrency,
    PaygCostInUsd,
    ExchangeRatePricingToBilling,
    ExchangeRateDate,
    Provider,
}

use Col::*;

/// EA `2024-08-01` (57 columns); its first 55 are `2023-12-01-preview`, its first 53 `2021-01-01`.
const EA_2024_08_01: &[(&str, Col)] = &[
    ("InvoiceSectionName", InvoiceSectionName),
    ("AccountName", AccountName),
    ("AccountOwnerId", AccountOwnerId),
    ("SubscriptionId", SubscriptionId),
    ("SubscriptionName", SubscriptionName),
    ("ResourceGroup", ResourceGroup),
    ("ResourceLocation", ResourceLocation),
    ("Date", Date),
    ("ProductName", ProductName),
    ("MeterCategory", MeterCategory),
    ("MeterSubCategory", MeterSubCategory),
    ("MeterId", MeterId),
    ("MeterName", MeterName),
    ("MeterRegion", MeterRegion),
    ("UnitOfMeasure", UnitOfMeasure),
    ("Quantity", Quantity),
    ("EffectivePrice", EffectivePrice),
    ("CostInBillingCurrency", CostInBillingCurrency),
    ("CostCenter", CostCenter),
    ("ConsumedService", ConsumedService),
    ("ResourceId", ResourceId),
    ("Tags", Tags),
    ("OfferId", OfferId),
    ("AdditionalInfo", AdditionalInfo),
    ("ServiceInfo1", ServiceInfo1),
    ("ServiceInfo2", ServiceInfo2),
    ("ResourceName", ResourceName),
    ("ReservationId", ReservationId),
    ("ReservationName", ReservationName),
    ("UnitPrice", UnitPrice),
    ("ProductOrderId", ProductOrderId),
    ("ProductOrderName", ProductOrderName),
    ("Term", Term),
    ("PublisherType", PublisherType),
    ("PublisherName", PublisherName),
    ("ChargeType", ChargeType),
    ("Frequency", Frequency),
    ("PricingModel", PricingModel),
    ("AvailabilityZone", AvailabilityZone),
    ("BillingAccountId", BillingAccountId),
    ("BillingAccountName", BillingAccountName),
    ("BillingCurrencyCode", BillingCurrencyCode),
    ("BillingPeriodStartDate", BillingPeriodStartDate),
    ("BillingPeriodEndDate", BillingPeriodEndDate),
    ("BillingProfileId", BillingProfileId),
    ("BillingProfileName", BillingProfileName),
    ("InvoiceSectionId", InvoiceSectionId),
    ("IsAzureCreditEligible", IsAzureCreditEligible),
    ("PartNumber", PartNumber),
    ("PayGPrice", PayGPrice),
    ("PlanName", PlanName),
    ("ServiceFamily", ServiceFamily),
    ("CostAllocationRuleName", CostAllocationRuleName),
    ("benefitId", BenefitId),
    ("benefitName", BenefitName),
    ("AccountId", AccountId),
    ("ResourceLocationNormalized", ResourceLocationNormalized),
];

/// EA `2021-10-01` (55 columns, its own order).
const EA_2021_10_01: &[(&str, Col)] = &[
    ("CostInBillingCurrency", CostInBillingCurrency),
    ("AccountName", AccountName),
    ("AccountOwnerId", AccountOwnerId),
    ("ProductName", ProductName),
    ("ConsumedService", ConsumedService),
    ("InvoiceSectionName", InvoiceSectionName),
    ("SubscriptionId", SubscriptionId),
    ("SubscriptionName", SubscriptionName),
    ("Date", Date),
    ("MeterId", MeterId),
    ("MeterCategory", MeterCategory),
    ("MeterSubCategory", MeterSubCategory),
    ("MeterRegion", MeterRegion),
    ("MeterName", MeterName),
    ("Quantity", Quantity),
    ("ResourceLocation", ResourceLocation),
    ("ResourceId", ResourceId),
    ("ServiceInfo1", ServiceInfo1),
    ("ServiceInfo2", ServiceInfo2),
    ("AdditionalInfo", AdditionalInfo),
    ("Tags", Tags),
    ("CostCenter", CostCenter),
    ("UnitOfMeasure", UnitOfMeasure),
    ("ResourceGroup", ResourceGroup),
    ("PartNumber", PartNumber),
    ("OfferId", OfferId),
    ("ChargeType", ChargeType),
    ("EffectivePrice", EffectivePrice),
    ("UnitPrice", UnitPrice),
    ("ReservationId", ReservationId),
    ("ReservationName", ReservationName),
    ("ResourceName", ResourceName),
    ("ProductOrderId", ProductOrderId),
    ("ProductOrderName", ProductOrderName),
    ("PlanName", PlanName),
    ("PublisherName", PublisherName),
    ("PublisherType", PublisherType),
    ("Term", Term),
    ("BillingAccountId", BillingAccountId),
    ("BillingAccountName", BillingAccountName),
    ("BillingProfileName", BillingProfileName),
    ("BillingProfileId", BillingProfileId),
    ("BillingCurrencyCode", BillingCurrencyCode),
    ("ServiceFamily", ServiceFamily),
    ("Frequency", Frequency),
    ("IsAzureCreditEligible", IsAzureCreditEligible),
    ("PayGPrice", PayGPrice),
    ("PricingModel", PricingModel),
    ("BillingPeriodStartDate", BillingPeriodStartDate),
    ("BillingPeriodEndDate", BillingPeriodEndDate),
    ("AvailabilityZone", AvailabilityZone),
    ("InvoiceSectionId", InvoiceSectionId),
    ("CostAllocationRuleName", CostAllocationRuleName),
    ("benefitId", BenefitId),
    ("benefitName", BenefitName),
];

/// The older EA layout of finops-toolkit's real test files (`Cost`, `Product`, `BillingCurrency`,
/// `InvoiceSection`), 55 columns.
const EA_LEGACY: &[(&str, Col)] = &[
    ("BillingAccountId", BillingAccountId),
    ("BillingAccountName", BillingAccountName),
    ("BillingPeriodStartDate", BillingPeriodStartDate),
    ("BillingPeriodEndDate", BillingPeriodEndDate),
    ("BillingProfileId", BillingProfileId),
    ("BillingProfileName", BillingProfileName),
    ("AccountOwnerId", AccountOwnerId),
    ("AccountName", AccountName),
    ("SubscriptionId", SubscriptionId),
    ("SubscriptionName", SubscriptionName),
    ("Date", Date),
    ("Product", ProductName),
    ("PartNumber", PartNumber),
    ("MeterId", MeterId),
    ("ServiceFamily", ServiceFamily),
    ("MeterCategory", MeterCategory),
    ("MeterSubCategory", MeterSubCategory),
    ("MeterRegion", MeterRegion),
    ("MeterName", MeterName),
    ("Quantity", Quantity),
    ("EffectivePrice", EffectivePrice),
    ("Cost", CostInBillingCurrency),
    ("UnitPrice", UnitPrice),
    ("BillingCurrency", BillingCurrencyCode),
    ("ResourceLocation", ResourceLocation),
    ("AvailabilityZone", AvailabilityZone),
    ("ConsumedService", ConsumedService),
    ("ResourceId", ResourceId),
    ("ResourceName", ResourceName),
    ("ServiceInfo1", ServiceInfo1),
    ("ServiceInfo2", ServiceInfo2),
    ("AdditionalInfo", AdditionalInfo),
    ("Tags", Tags),
    ("InvoiceSectionId", InvoiceSectionId),
    ("InvoiceSection", InvoiceSectionName),
    ("CostCenter", CostCenter),
    ("UnitOfMeasure", UnitOfMeasure),
    ("ResourceGroup", ResourceGroup),
    ("ReservationId", ReservationId),
    ("ReservationName", ReservationName),
    ("ProductOrderId", ProductOrderId),
    ("ProductOrderName", ProductOrderName),
    ("OfferId", OfferId),
    ("IsAzureCreditEligible", IsAzureCreditEligible),
    ("Term", Term),
    ("PublisherName", PublisherName),
    ("PlanName", PlanName),
    ("ChargeType", ChargeType),
    ("Frequency", Frequency),
    ("PublisherType", PublisherType),
    ("PayGPrice", PayGPrice),
    ("PricingModel", PricingModel),
    ("CostAllocationRuleName", CostAllocationRuleName),
    ("benefitId", BenefitId),
    ("benefitName", BenefitName),
];

/// MCA `2021-10-01` = `2023-12-01-preview` (65 columns, camelCase).
const MCA_2023_12_01_PREVIEW: &[(&str, Col)] = &[
    ("invoiceId", InvoiceId),
    ("previousInvoiceId", PreviousInvoiceId),
    ("billingAccountId", BillingAccountId),
    ("billingAccountName", BillingAccountName),
    ("billingProfileId", BillingProfileId),
    ("billingProfileName", BillingProfileName),
    ("invoiceSectionId", InvoiceSectionId),
    ("invoiceSectionName", InvoiceSectionName),
    ("resellerName", ResellerName),
    ("resellerMpnId", ResellerMpnId),
    ("costCenter", CostCenter),
    ("billingPeriodEndDate", BillingPeriodEndDate),
    ("billingPeriodStartDate", BillingPeriodStartDate),
    ("servicePeriodEndDate", ServicePeriodEndDate),
    ("servicePeriodStartDate", ServicePeriodStartDate),
    ("date", Date),
    ("serviceFamily", ServiceFamily),
    ("productOrderId", ProductOrderId),
    ("productOrderName", ProductOrderName),
    ("consumedService", ConsumedService),
    ("meterId", MeterId),
    ("meterName", MeterName),
    ("meterCategory", MeterCategory),
    ("meterSubCategory", MeterSubCategory),
    ("meterRegion", MeterRegion),
    ("ProductId", ProductId),
    ("ProductName", ProductName),
    ("SubscriptionId", SubscriptionId),
    ("subscriptionName", SubscriptionName),
    ("publisherType", PublisherType),
    ("publisherId", PublisherId),
    ("publisherName", PublisherName),
    ("resourceGroupName", ResourceGroup),
    ("ResourceId", ResourceId),
    ("resourceLocation", ResourceLocation),
    ("location", Location),
    ("effectivePrice", EffectivePrice),
    ("quantity", Quantity),
    ("unitOfMeasure", UnitOfMeasure),
    ("chargeType", ChargeType),
    ("billingCurrency", BillingCurrencyCode),
    ("pricingCurrency", PricingCurrency),
    ("costInBillingCurrency", CostInBillingCurrency),
    ("costInPricingCurrency", CostInPricingCurrency),
    ("costInUsd", CostInUsd),
    ("paygCostInBillingCurrency", PaygCostInBillingCurrency),
    ("paygCostInUsd", PaygCostInUsd),
    ("exchangeRatePricingToBilling", ExchangeRatePricingToBilling),
    ("exchangeRateDate", ExchangeRateDate),
    ("isAzureCreditEligible", IsAzureCreditEligible),
    ("serviceInfo1", ServiceInfo1),
    ("serviceInfo2", ServiceInfo2),
    ("additionalInfo", AdditionalInfo),
    ("tags", Tags),
    ("PayGPrice", PayGPrice),
    ("frequency", Frequency),
    ("term", Term),
    ("reservationId", ReservationId),
    ("reservationName", ReservationName),
    ("pricingModel", PricingModel),
    ("unitPrice", UnitPrice),
    ("costAllocationRuleName", CostAllocationRuleName),
    ("benefitId", BenefitId),
    ("benefitName", BenefitName),
    ("provider", Provider),
];

/// Which file layout a billing account's reports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Layout {
    /// EA dataVersion 2024-08-01 (57 columns): the default for EA.
    #[default]
    #[serde(rename = "ea-2024-08-01")]
    Ea2024_08_01,
    /// EA 2023-12-01-preview (55 columns).
    #[serde(rename = "ea-2023-12-01-preview")]
    Ea2023_12_01Preview,
    /// EA 2021-01-01 (53 columns).
    #[serde(rename = "ea-2021-01-01")]
    Ea2021_01_01,
    /// EA 2021-10-01 (55 columns, different order).
    #[serde(rename = "ea-2021-10-01")]
    Ea2021_10_01,
    /// The older EA names (`Cost`, `Product`, `BillingCurrency`, `InvoiceSection`).
    #[serde(rename = "ea-legacy")]
    EaLegacy,
    /// MCA 2021-10-01 = 2023-12-01-preview (65 camelCase columns): the default for MCA.
    #[serde(rename = "mca-2023-12-01-preview")]
    Mca2023_12_01Preview,
}

impl Layout {
    pub(crate) fn columns(self) -> &'static [(&'static str, Col)] {
        match self {
            Layout::Ea2024_08_01 => EA_2024_08_01,
            Layout::Ea2023_12_01Preview => &EA_2024_08_01[..55],
            Layout::Ea2021_01_01 => &EA_2024_08_01[..53],
            Layout::Ea2021_10_01 => EA_2021_10_01,
            Layout::EaLegacy => EA_LEGACY,
            Layout::Mca2023_12_01Preview => MCA_2023_12_01_PREVIEW,
        }
    }

    /// Header names in order.
    pub fn header(self) -> Vec<&'static str> {
        self.columns().iter().map(|(n, _)| *n).collect()
    }

    pub fn is_mca(self) -> bool {
        matches!(self, Layout::Mca2023_12_01Preview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_header(file: &str) -> Vec<String> {
        let path = format!(
            "{}/../../../shared/data/azure-cost-details/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).expect("shared data present");
        let first = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches('\u{feff}')
            .to_string();
        first.split(',').map(str::to_string).collect()
    }

    #[test]
    fn column_counts_match_the_protocol_doc() {
        assert_eq!(Layout::Ea2024_08_01.columns().len(), 57);
        assert_eq!(Layout::Ea2023_12_01Preview.columns().len(), 55);
        assert_eq!(Layout::Ea2021_01_01.columns().len(), 53);
        assert_eq!(Layout::Ea2021_10_01.columns().len(), 55);
        assert_eq!(Layout::EaLegacy.columns().len(), 55);
        assert_eq!(Layout::Mca2023_12_01Preview.columns().len(), 65);
    }

    #[test]
    fn legacy_and_mca_headers_equal_real_files() {
        assert_eq!(
            Layout::EaLegacy.header(),
            real_header("finops-toolkit__EA_ActualCost_Small.csv")
        );
        assert_eq!(
            Layout::Mca2023_12_01Preview.header(),
            real_header("opencost__values__test_azure_billing_MCA.csv")
        );
    }
}
