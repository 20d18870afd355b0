//! The alias table: every header name of every Cost Details layout (azure-protocol.md section 5),
//! matched case-insensitively, to one logical column.

/// A logical Cost Details column, whatever its name in a given layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Col {
    InvoiceSectionName,
    InvoiceSectionId,
    AccountName,
    AccountOwnerId,
    AccountId,
    SubscriptionId,
    SubscriptionName,
    ResourceGroup,
    ResourceLocation,
    ResourceLocationNormalized,
    Location,
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
    PublisherId,
    ChargeType,
    Frequency,
    PricingModel,
    AvailabilityZone,
    BillingAccountId,
    BillingAccountName,
    BillingCurrency,
    BillingPeriodStartDate,
    BillingPeriodEndDate,
    BillingProfileId,
    BillingProfileName,
    IsAzureCreditEligible,
    PartNumber,
    PayGPrice,
    PlanName,
    ServiceFamily,
    CostAllocationRuleName,
    BenefitId,
    BenefitName,
    InvoiceId,
    PreviousInvoiceId,
    ResellerName,
    ResellerMpnId,
    ServicePeriodStartDate,
    ServicePeriodEndDate,
    ProductId,
    PricingCurrency,
    CostInPricingCurrency,
    CostInUsd,
    PaygCostInBillingCurrency,
    PaygCostInUsd,
    ExchangeRatePricingToBilling,
    ExchangeRateDate,
    PartnerName,
    Provider,
}

/// Number of logical columns.
pub const N_COLS: usize = Col::Provider as usize + 1;

/// Aliases per logical column, in order of preference (a file that has two of them uses the first).
/// Sources: EA 2024-08-01 / 2023-12-01-preview / 2021-10-01 / 2021-01-01, the older EA layout of the
/// finops-toolkit files (`Cost`, `Product`, `BillingCurrency`, `InvoiceSection`), MCA 2021-10-01 =
/// 2023-12-01-preview, the older MCA variant of koku's file (`product`, `InstanceName`), and the
/// legacy EA API names of migrate-ea-usage-details-api.md.
pub const ALIASES: &[(Col, &[&str])] = &[
    (
        Col::InvoiceSectionName,
        &["InvoiceSectionName", "InvoiceSection", "DepartmentName"],
    ),
    (Col::InvoiceSectionId, &["InvoiceSectionId", "DepartmentId"]),
    (Col::AccountName, &["AccountName", "EnrollmentAccountName"]),
    (
        Col::AccountOwnerId,
        &["AccountOwnerId", "AccountOwnerEmail"],
    ),
    (Col::AccountId, &["AccountId", "EnrollmentAccountId"]),
    (Col::SubscriptionId, &["SubscriptionId", "SubscriptionGuid"]),
    (Col::SubscriptionName, &["SubscriptionName"]),
    (Col::ResourceGroup, &["ResourceGroup", "ResourceGroupName"]),
    (Col::ResourceLocation, &["ResourceLocation"]),
    (
        Col::ResourceLocationNormalized,
        &["ResourceLocationNormalized"],
    ),
    (Col::Location, &["Location"]),
    (Col::Date, &["Date", "UsageDate", "UsageDateTime"]),
    (Col::ProductName, &["ProductName", "Product"]),
    (Col::MeterCategory, &["MeterCategory"]),
    (
        Col::MeterSubCategory,
        &["MeterSubCategory", "MeterSubcategory"],
    ),
    (Col::MeterId, &["MeterId", "ResourceGuid"]),
    (Col::MeterName, &["MeterName"]),
    (Col::MeterRegion, &["MeterRegion"]),
    (Col::UnitOfMeasure, &["UnitOfMeasure"]),
    (
        Col::Quantity,
        &["Quantity", "ConsumedQuantity", "UsageQuantity"],
    ),
    (Col::EffectivePrice, &["EffectivePrice", "ResourceRate"]),
    (
        Col::CostInBillingCurrency,
        &["CostInBillingCurrency", "Cost", "PreTaxCost"],
    ),
    (Col::CostCenter, &["CostCenter"]),
    (Col::ConsumedService, &["ConsumedService"]),
    (
        Col::ResourceId,
        &["ResourceId", "InstanceId", "InstanceName"],
    ),
    (Col::Tags, &["Tags"]),
    (Col::OfferId, &["OfferId"]),
    (Col::AdditionalInfo, &["AdditionalInfo"]),
    (Col::ServiceInfo1, &["ServiceInfo1"]),
    (Col::ServiceInfo2, &["ServiceInfo2"]),
    (Col::ResourceName, &["ResourceName"]),
    (Col::ReservationId, &["ReservationId"]),
    (Col::ReservationName, &["ReservationName"]),
    // the legacy layout's one rate is the rate charged: PreTaxCost = UsageQuantity x ResourceRate
    (Col::UnitPrice, &["UnitPrice", "ResourceRate"]),
    (Col::ProductOrderId, &["ProductOrderId"]),
    (Col::ProductOrderName, &["ProductOrderName"]),
    (Col::Term, &["Term"]),
    (Col::PublisherType, &["PublisherType"]),
    (Col::PublisherName, &["PublisherName"]),
    (Col::PublisherId, &["PublisherId"]),
    (Col::ChargeType, &["ChargeType"]),
    (Col::Frequency, &["Frequency"]),
    (Col::PricingModel, &["PricingModel"]),
    (Col::AvailabilityZone, &["AvailabilityZone"]),
    (Col::BillingAccountId, &["BillingAccountId"]),
    (Col::BillingAccountName, &["BillingAccountName"]),
    (
        Col::BillingCurrency,
        &["BillingCurrencyCode", "BillingCurrency", "Currency"],
    ),
    (Col::BillingPeriodStartDate, &["BillingPeriodStartDate"]),
    (Col::BillingPeriodEndDate, &["BillingPeriodEndDate"]),
    (Col::BillingProfileId, &["BillingProfileId"]),
    (Col::BillingProfileName, &["BillingProfileName"]),
    (Col::IsAzureCreditEligible, &["IsAzureCreditEligible"]),
    (Col::PartNumber, &["PartNumber"]),
    (Col::PayGPrice, &["PayGPrice"]),
    (Col::PlanName, &["PlanName"]),
    (Col::ServiceFamily, &["ServiceFamily"]),
    (Col::CostAllocationRuleName, &["CostAllocationRuleName"]),
    (Col::BenefitId, &["BenefitId"]),
    (Col::BenefitName, &["BenefitName"]),
    (Col::InvoiceId, &["InvoiceId"]),
    (Col::PreviousInvoiceId, &["PreviousInvoiceId"]),
    (Col::ResellerName, &["ResellerName"]),
    (Col::ResellerMpnId, &["ResellerMpnId"]),
    (Col::ServicePeriodStartDate, &["ServicePeriodStartDate"]),
    (Col::ServicePeriodEndDate, &["ServicePeriodEndDate"]),
    (Col::ProductId, &["ProductId"]),
    (
        Col::PricingCurrency,
        &["PricingCurrency", "PricingCurrencyCode"],
    ),
    (Col::CostInPricingCurrency, &["CostInPricingCurrency"]),
    (Col::CostInUsd, &["CostInUsd"]),
    (
        Col::PaygCostInBillingCurrency,
        &["PaygCostInBillingCurrency"],
    ),
    (Col::PaygCostInUsd, &["PaygCostInUsd"]),
    (
        Col::ExchangeRatePricingToBilling,
        &["ExchangeRatePricingToBilling"],
    ),
    (Col::ExchangeRateDate, &["ExchangeRateDate"]),
    (Col::PartnerName, &["PartnerName"]),
    (Col::Provider, &["Provider"]),
];

/// Columns a file must have: without a charge type every row would have to be guessed a kind of
/// charge, without a currency its costs could not be billed.
pub const REQUIRED: &[Col] = &[
    Col::Date,
    Col::CostInBillingCurrency,
    Col::ChargeType,
    Col::BillingCurrency,
];

/// Header names found only in the legacy EA usage-details layout (the EA portal's and the first
/// Cost Management exports' "usage details": `UsageDateTime`, `PreTaxCost`, `SubscriptionGuid`,
/// `InstanceId`, `ResourceRate`, `UsageQuantity`, `Currency`).
const LEGACY_MARKERS: &[&str] = &["UsageDateTime", "PreTaxCost", "UsageQuantity"];

/// The legacy layout's name, as error messages say it.
pub const LEGACY_EA_USAGE: &str = "the legacy EA usage-details layout (UsageDateTime, PreTaxCost)";

/// The family of Cost Details layouts a header belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// The Cost Details layouts of azure-protocol.md section 5 (EA and MCA, every version).
    CostDetails,
    /// The legacy EA usage details: usage rows only, so a file of it has no `ChargeType`; every
    /// row is usage charged at `ResourceRate`.
    LegacyEaUsage,
}

/// Why a header is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// A required column is missing.
    Missing(Col),
    /// A layout recognized, but not convertible without guessing.
    Unsupported {
        layout: &'static str,
        reason: &'static str,
    },
}

/// Columns whose presence marks an MCA file (EA files have none of them).
pub const MCA_MARKERS: &[Col] = &[
    Col::InvoiceId,
    Col::PricingCurrency,
    Col::CostInPricingCurrency,
    Col::CostInUsd,
    Col::ExchangeRatePricingToBilling,
    Col::ServicePeriodStartDate,
    Col::PublisherId,
];

/// EA or MCA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Agreement {
    #[serde(rename = "EA")]
    Ea,
    #[serde(rename = "MCA")]
    Mca,
}

impl Agreement {
    pub fn as_str(self) -> &'static str {
        match self {
            Agreement::Ea => "EA",
            Agreement::Mca => "MCA",
        }
    }
}

/// Where each logical column sits in one file's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    idx: [Option<usize>; N_COLS],
    /// The header names, for error messages.
    names: Vec<String>,
    agreement: Agreement,
    layout: Layout,
}

impl ColumnMap {
    /// Match a header (BOM already removed) through the alias table. Refused: a missing required
    /// column (a legacy EA usage-details file needs no `ChargeType`: all its rows are usage), and
    /// a legacy file without its `Currency`.
    pub fn from_header<'a>(
        header: impl IntoIterator<Item = &'a str>,
    ) -> Result<ColumnMap, HeaderError> {
        let names: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
        let mut idx = [None; N_COLS];
        let mut rank = [usize::MAX; N_COLS];
        for (i, name) in names.iter().enumerate() {
            for (col, aliases) in ALIASES {
                if let Some(r) = aliases.iter().position(|a| a.eq_ignore_ascii_case(name))
                    && r < rank[*col as usize]
                {
                    rank[*col as usize] = r;
                    idx[*col as usize] = Some(i);
                }
            }
        }
        let legacy = idx[Col::ChargeType as usize].is_none()
            && names
                .iter()
                .any(|n| LEGACY_MARKERS.iter().any(|m| m.eq_ignore_ascii_case(n)));
        let layout = if legacy {
            Layout::LegacyEaUsage
        } else {
            Layout::CostDetails
        };
        if legacy && idx[Col::BillingCurrency as usize].is_none() {
            return Err(HeaderError::Unsupported {
                layout: LEGACY_EA_USAGE,
                reason: "this export has no Currency column, and its costs cannot be billed without their currency; export the period again with the Currency column (or as current Cost Details)",
            });
        }
        let optional = |c: &Col| layout == Layout::LegacyEaUsage && *c == Col::ChargeType;
        if let Some(missing) = REQUIRED
            .iter()
            .find(|c| idx[**c as usize].is_none() && !optional(c))
        {
            return Err(HeaderError::Missing(*missing));
        }
        let agreement = if MCA_MARKERS.iter().any(|c| idx[*c as usize].is_some()) {
            Agreement::Mca
        } else {
            Agreement::Ea
        };
        Ok(ColumnMap {
            idx,
            names,
            agreement,
            layout,
        })
    }

    /// Index of a logical column in the record.
    #[inline]
    pub fn get(&self, c: Col) -> Option<usize> {
        self.idx[c as usize]
    }

    pub fn has(&self, c: Col) -> bool {
        self.idx[c as usize].is_some()
    }

    /// The header's name for field `i` (0-based).
    pub fn name(&self, i: usize) -> Option<&str> {
        self.names.get(i).map(String::as_str)
    }

    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// EA or MCA, detected from the header.
    pub fn agreement(&self) -> Agreement {
        self.agreement
    }

    /// The layout family, detected from the header.
    pub fn layout(&self) -> Layout {
        self.layout
    }
}

/// The aliases of a column, for error messages.
pub fn aliases_of(c: Col) -> &'static [&'static str] {
    ALIASES
        .iter()
        .find(|(k, _)| *k == c)
        .map(|(_, a)| *a)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_logical_column_has_aliases_once() {
        assert_eq!(ALIASES.len(), N_COLS);
        for (i, (c, a)) in ALIASES.iter().enumerate() {
            assert_eq!(*c as usize, i, "ALIASES is in enum order");
            assert!(!a.is_empty());
        }
    }

    #[test]
    fn matches_case_insensitively_and_prefers_the_first_alias() {
        let m = ColumnMap::from_header([
            "costInBillingCurrency",
            "DATE",
            "Cost",
            "product",
            "chargeType",
            "billingCurrency",
        ])
        .expect("required present");
        assert_eq!(m.get(Col::CostInBillingCurrency), Some(0));
        assert_eq!(m.get(Col::Date), Some(1));
        assert_eq!(m.get(Col::ProductName), Some(3));
        assert_eq!(m.agreement(), Agreement::Ea);
        assert_eq!(
            ColumnMap::from_header(["Date", "Quantity"]),
            Err(HeaderError::Missing(Col::CostInBillingCurrency))
        );
    }

    #[test]
    fn a_file_without_charge_type_or_currency_is_refused_unless_legacy() {
        assert_eq!(
            ColumnMap::from_header(["Date", "Cost", "BillingCurrency"]),
            Err(HeaderError::Missing(Col::ChargeType))
        );
        assert_eq!(
            ColumnMap::from_header(["Date", "Cost", "ChargeType"]),
            Err(HeaderError::Missing(Col::BillingCurrency))
        );
        let legacy = ColumnMap::from_header(["UsageDateTime", "PreTaxCost", "Currency"])
            .expect("legacy with currency");
        assert_eq!(legacy.layout(), Layout::LegacyEaUsage);
        assert!(matches!(
            ColumnMap::from_header(["UsageDateTime", "UsageQuantity", "PreTaxCost"]),
            Err(HeaderError::Unsupported { layout, .. }) if layout == LEGACY_EA_USAGE
        ));
    }
}
