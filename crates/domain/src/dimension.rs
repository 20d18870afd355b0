//! The FOCUS 1.2 column set, and [`Dimension`]: what a filter, an allocation condition or a pivot
//! can name.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// The value type of a FOCUS column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FocusType {
    Text,
    Decimal,
    Timestamp,
    /// A JSON object as text (`Tags`, `SkuPriceDetails`).
    Json,
}

/// Every column of FOCUS 1.2 (the specification's column set, in alphabetical order), with its type.
pub const FOCUS_COLUMNS: &[(&str, FocusType)] = &[
    ("AvailabilityZone", FocusType::Text),
    ("BilledCost", FocusType::Decimal),
    ("BillingAccountId", FocusType::Text),
    ("BillingAccountName", FocusType::Text),
    ("BillingAccountType", FocusType::Text),
    ("BillingCurrency", FocusType::Text),
    ("BillingPeriodEnd", FocusType::Timestamp),
    ("BillingPeriodStart", FocusType::Timestamp),
    ("CapacityReservationId", FocusType::Text),
    ("CapacityReservationStatus", FocusType::Text),
    ("ChargeCategory", FocusType::Text),
    ("ChargeClass", FocusType::Text),
    ("ChargeDescription", FocusType::Text),
    ("ChargeFrequency", FocusType::Text),
    ("ChargePeriodEnd", FocusType::Timestamp),
    ("ChargePeriodStart", FocusType::Timestamp),
    ("CommitmentDiscountCategory", FocusType::Text),
    ("CommitmentDiscountId", FocusType::Text),
    ("CommitmentDiscountName", FocusType::Text),
    ("CommitmentDiscountQuantity", FocusType::Decimal),
    ("CommitmentDiscountStatus", FocusType::Text),
    ("CommitmentDiscountType", FocusType::Text),
    ("CommitmentDiscountUnit", FocusType::Text),
    ("ConsumedQuantity", FocusType::Decimal),
    ("ConsumedUnit", FocusType::Text),
    ("ContractedCost", FocusType::Decimal),
    ("ContractedUnitPrice", FocusType::Decimal),
    ("EffectiveCost", FocusType::Decimal),
    ("InvoiceId", FocusType::Text),
    ("InvoiceIssuerName", FocusType::Text),
    ("ListCost", FocusType::Decimal),
    ("ListUnitPrice", FocusType::Decimal),
    ("PricingCategory", FocusType::Text),
    ("PricingCurrency", FocusType::Text),
    ("PricingCurrencyContractedUnitPrice", FocusType::Decimal),
    ("PricingCurrencyEffectiveCost", FocusType::Decimal),
    ("PricingCurrencyListUnitPrice", FocusType::Decimal),
    ("PricingQuantity", FocusType::Decimal),
    ("PricingUnit", FocusType::Text),
    ("ProviderName", FocusType::Text),
    ("PublisherName", FocusType::Text),
    ("RegionId", FocusType::Text),
    ("RegionName", FocusType::Text),
    ("ResourceId", FocusType::Text),
    ("ResourceName", FocusType::Text),
    ("ResourceType", FocusType::Text),
    ("ServiceCategory", FocusType::Text),
    ("ServiceName", FocusType::Text),
    ("ServiceSubcategory", FocusType::Text),
    ("SkuId", FocusType::Text),
    ("SkuMeter", FocusType::Text),
    ("SkuPriceDetails", FocusType::Json),
    ("SkuPriceId", FocusType::Text),
    ("SubAccountId", FocusType::Text),
    ("SubAccountName", FocusType::Text),
    ("SubAccountType", FocusType::Text),
    ("Tags", FocusType::Json),
];

/// The FOCUS column of this name (exact spelling), if there is one.
pub fn focus_column(name: &str) -> Option<(&'static str, FocusType)> {
    FOCUS_COLUMNS.iter().find(|(n, _)| *n == name).copied()
}

/// The FOCUS column whose name matches case-insensitively (for reading files and forgiving input).
pub fn focus_column_ci(name: &str) -> Option<(&'static str, FocusType)> {
    FOCUS_COLUMNS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .copied()
}

/// The name of the family dimension (a row's family in its billing period).
pub const FAMILY_DIMENSION: &str = "BillingFamilyName";
/// The name of the plan dimension (the plan that rated a row).
pub const PLAN_DIMENSION: &str = "Plan";

/// What a condition or a pivot can name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Dimension {
    /// A FOCUS text column (`ServiceName`, `SubAccountId`, ...).
    Focus(String),
    /// A provider extension column (`x_ResourceGroupName`); null where a source lacks it.
    Extension(String),
    /// `BillingFamilyName`: the row's family in the period.
    Family,
    /// `Plan`: the plan that rated the row (rated data only).
    Plan,
    /// An allocation assignment's key (`CostCenter`), as earlier assignments set it.
    Allocation(String),
    /// The value of a tag, by key (`team`).
    Tag(String),
}

impl Dimension {
    pub const FIELD: &'static str = "dimension";

    /// Parse a dimension name: a FOCUS text column, `BillingFamilyName`, an `x_` column, or one of
    /// `allocation_keys`. Tags are given separately ([`Dimension::tag`]).
    pub fn parse(raw: &str, allocation_keys: &[&str]) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name == FAMILY_DIMENSION {
            return Ok(Self::Family);
        }
        if name == PLAN_DIMENSION {
            return Ok(Self::Plan);
        }
        if let Some(key) = name.strip_prefix("tag:") {
            return Self::tag(key);
        }
        if let Some((col, ty)) = focus_column(name) {
            return match ty {
                FocusType::Text => Ok(Self::Focus(col.to_string())),
                FocusType::Json if col == "Tags" => Err(FieldError::new(
                    Self::FIELD,
                    "dimension_tags",
                    "Filter on a tag by its key ({\"tag\": \"team\"}), not on the Tags column.",
                )),
                _ => Err(FieldError::new(
                    Self::FIELD,
                    "dimension_not_text",
                    format!("{col} is not a text column; conditions compare text dimensions."),
                )),
            };
        }
        if let Some(key) = allocation_keys.iter().find(|k| **k == name) {
            return Ok(Self::Allocation((*key).to_string()));
        }
        if name.starts_with("x_")
            && name.len() > 2
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Ok(Self::Extension(name.to_string()));
        }
        let hint = focus_column_ci(name)
            .map(|(c, _)| format!(" Did you mean {c}?"))
            .unwrap_or_default();
        Err(FieldError::new(
            Self::FIELD,
            "dimension_unknown",
            format!(
                "{name:?} is not a dimension: use a FOCUS column (ServiceName, SubAccountId, ...), BillingFamilyName, an x_ column, an allocation key defined before this point, or a tag.{hint}"
            ),
        ))
    }

    /// A tag dimension; the key is trimmed and must not be empty.
    pub fn tag(raw: &str) -> Result<Self, FieldError> {
        let key = raw.trim();
        if key.is_empty() || key.chars().any(char::is_control) {
            return Err(FieldError::new(
                "tag",
                "tag_key_invalid",
                "A tag key is a non-empty name such as team or cost-center.",
            ));
        }
        Ok(Self::Tag(key.to_string()))
    }

    /// The name shown to people: the column, `BillingFamilyName`, the key, or `tag:KEY`.
    pub fn label(&self) -> String {
        match self {
            Self::Focus(c) | Self::Extension(c) | Self::Allocation(c) => c.clone(),
            Self::Family => FAMILY_DIMENSION.to_string(),
            Self::Plan => PLAN_DIMENSION.to_string(),
            Self::Tag(k) => format!("tag:{k}"),
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses() {
        assert_eq!(
            Dimension::parse("ServiceName", &[]),
            Ok(Dimension::Focus("ServiceName".into()))
        );
        assert_eq!(
            Dimension::parse("BillingFamilyName", &[]),
            Ok(Dimension::Family)
        );
        assert_eq!(
            Dimension::parse("CostCenter", &["CostCenter"]),
            Ok(Dimension::Allocation("CostCenter".into()))
        );
        assert_eq!(
            Dimension::parse("x_ResourceGroupName", &[]),
            Ok(Dimension::Extension("x_ResourceGroupName".into()))
        );
        assert_eq!(Dimension::tag(" team "), Ok(Dimension::Tag("team".into())));
        assert_eq!(
            Dimension::parse("tag:team", &[]),
            Ok(Dimension::Tag("team".into()))
        );
        assert_eq!(Dimension::parse("Plan", &[]), Ok(Dimension::Plan));
    }

    #[test]
    fn unknown_and_unsuitable_names_are_explained() {
        let e = Dimension::parse("servicename", &[]).expect_err("case");
        assert_eq!(e.code, "dimension_unknown");
        assert!(
            e.message.contains("Did you mean ServiceName?"),
            "{}",
            e.message
        );
        assert_eq!(
            Dimension::parse("BilledCost", &[]).expect_err("money").code,
            "dimension_not_text"
        );
        assert_eq!(
            Dimension::parse("Tags", &[]).expect_err("tags").code,
            "dimension_tags"
        );
        assert_eq!(
            Dimension::parse("CostCenter", &[])
                .expect_err("not defined yet")
                .code,
            "dimension_unknown"
        );
    }

    #[test]
    fn the_column_set_is_sorted_and_unique() {
        let names: Vec<&str> = FOCUS_COLUMNS.iter().map(|c| c.0).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
