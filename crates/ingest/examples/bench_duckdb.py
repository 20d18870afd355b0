"""The DuckDB side of be-ingest's benchmark: the same merge and FOCUS mapping, in SQL.

usage: python bench_duckdb.py AMORTIZED.csv ACTUAL.csv OUT.parquet DATA_DIR
DuckDB cannot multiply two DECIMAL(38,24) (the result would need scale 48), so products are
computed at DECIMAL(38,12) x DECIMAL(38,12) and cast back.
Prints one JSON line: seconds, CPU seconds (user + system), rows, peak RSS (ru_maxrss).
"""
import json
import os
import resource
import sys
import time

import duckdb

amortized, actual, out, data = sys.argv[1:5]
q = lambda p: "'" + p.replace("'", "''") + "'"
CSV = "header=true, all_varchar=true, delim=',', quote='\"', escape='\"'"
D = "DECIMAL(38,24)"

t0 = time.time()
con = duckdb.connect()
con.execute(f"""
CREATE TEMP TABLE units AS SELECT UnitOfMeasure, any_value(PricingBlockSize) AS block, any_value(DistinctUnits) AS units
  FROM read_csv({q(data + '/PricingUnits.csv')}, {CSV}) GROUP BY UnitOfMeasure;
CREATE TEMP TABLE regions AS SELECT lower(OriginalValue) AS k, any_value(RegionId) AS RegionId, any_value(RegionName) AS RegionName
  FROM read_csv({q(data + '/Regions.csv')}, {CSV}) GROUP BY 1;
CREATE TEMP TABLE rtypes AS SELECT lower(ResourceType) AS k, any_value(SingularDisplayName) AS name
  FROM read_csv({q(data + '/ResourceTypes.csv')}, {CSV}) GROUP BY 1;
CREATE TEMP TABLE services AS SELECT lower(ConsumedService) AS cs, lower(ResourceType) AS rt, any_value(ServiceName) AS ServiceName,
  any_value(ServiceCategory) AS ServiceCategory, any_value(ServiceSubcategory) AS ServiceSubcategory,
  any_value(PublisherName) AS PublisherName, any_value(ServiceModel) AS ServiceModel
  FROM read_csv({q(data + '/Services.csv')}, {CSV}) GROUP BY 1, 2;
""")

sql = f"""
COPY (
WITH src AS (
  SELECT *, 'AmortizedCost' AS ds FROM read_csv({q(amortized)}, {CSV})
  UNION ALL BY NAME
  SELECT *, 'ActualCost' AS ds FROM read_csv({q(actual)}, {CSV})
   WHERE ChargeType IN ('Purchase', 'Refund') AND PricingModel IN ('Reservation', 'SavingsPlan')
),
s AS (
  SELECT *,
    CAST(CostInBillingCurrency AS {D}) AS cost,
    CAST(Quantity AS {D}) AS qty,
    CAST(UnitPrice AS {D}) AS uprice,
    CASE WHEN CAST(PayGPrice AS {D}) = 0 AND CAST(UnitPrice AS {D}) <> 0 THEN CAST(UnitPrice AS {D}) ELSE CAST(PayGPrice AS {D}) END AS lprice,
    PricingModel IN ('Reservation', 'SavingsPlan') AS commit,
    strptime(Date, '%m/%d/%Y') AS d,
    array_to_string(list_filter(string_split(regexp_extract(lower(ResourceId), '.*/providers/(.*)', 1), '/'), lambda x, i: i = 1 OR i % 2 = 0), '/') AS armtype,
    TRY_CAST(json_extract_string(AdditionalInfo, '$.VMCapacityReservationId') AS VARCHAR) AS capres
  FROM src
)
SELECT
  NULLIF(AvailabilityZone, '') AS AvailabilityZone,
  CASE WHEN commit AND ChargeType IN ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') THEN 0::{D} ELSE cost END AS BilledCost,
  BillingAccountId, BillingAccountName, 'Billing Account' AS BillingAccountType, BillingCurrencyCode AS BillingCurrency,
  strptime(BillingPeriodEndDate, '%m/%d/%Y') + INTERVAL 1 DAY AS BillingPeriodEnd,
  strptime(BillingPeriodStartDate, '%m/%d/%Y') AS BillingPeriodStart,
  capres AS CapacityReservationId,
  CASE WHEN capres IS NULL THEN NULL WHEN armtype = 'microsoft.compute/capacityreservationgroups/capacityreservations' THEN 'Unused' ELSE 'Used' END AS CapacityReservationStatus,
  CASE WHEN ChargeType IN ('Usage', 'Purchase', 'Credit', 'Tax') THEN ChargeType WHEN ChargeType IN ('UnusedReservation', 'UnusedSavingsPlan') THEN 'Usage'
       WHEN ChargeType = 'Refund' THEN 'Purchase' ELSE 'Adjustment' END AS ChargeCategory,
  CASE WHEN ChargeType = 'Refund' THEN 'Correction' END AS ChargeClass,
  ProductName AS ChargeDescription,
  CASE Frequency WHEN 'OneTime' THEN 'One-Time' WHEN 'Recurring' THEN 'Recurring' WHEN 'UsageBased' THEN 'Usage-Based' ELSE 'One-Time' END AS ChargeFrequency,
  d + INTERVAL 1 DAY AS ChargePeriodEnd,
  d AS ChargePeriodStart,
  CASE WHEN lower(benefitId) LIKE '%/microsoft.capacity/%' THEN 'Usage' WHEN lower(benefitId) LIKE '%/microsoft.billingbenefits/%' THEN 'Spend' END AS CommitmentDiscountCategory,
  NULLIF(benefitId, '') AS CommitmentDiscountId,
  NULLIF(benefitName, '') AS CommitmentDiscountName,
  CASE WHEN benefitId <> '' AND ChargeType IN ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') THEN qty END AS CommitmentDiscountQuantity,
  CASE WHEN benefitId = '' OR ChargeType NOT IN ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') THEN NULL
       WHEN ChargeType LIKE 'Unused%' THEN 'Unused' WHEN commit THEN 'Used' END AS CommitmentDiscountStatus,
  CASE WHEN lower(benefitId) LIKE '%/microsoft.capacity/%' THEN 'Reservation' WHEN lower(benefitId) LIKE '%/microsoft.billingbenefits/%' THEN 'Savings Plan' END AS CommitmentDiscountType,
  CASE WHEN benefitId <> '' THEN units.units END AS CommitmentDiscountUnit,
  CASE WHEN ChargeType = 'Usage' THEN qty * CAST(units.block AS DECIMAL(18,0)) END AS ConsumedQuantity,
  CASE WHEN ChargeType = 'Usage' THEN units.units END AS ConsumedUnit,
  CASE WHEN commit AND ChargeType IN ('Purchase', 'Refund') THEN cost ELSE CAST(CAST(uprice AS DECIMAL(38,12)) * CAST(qty AS DECIMAL(38,12)) AS {D}) END AS ContractedCost,
  uprice AS ContractedUnitPrice,
  CASE WHEN commit AND ChargeType IN ('Purchase', 'Refund') THEN 0::{D} ELSE cost END AS EffectiveCost,
  NULL::VARCHAR AS InvoiceId,
  'Microsoft' AS InvoiceIssuerName,
  CASE WHEN commit AND ChargeType IN ('Purchase', 'Refund') THEN cost ELSE CAST(CAST(lprice AS DECIMAL(38,12)) * CAST(qty AS DECIMAL(38,12)) AS {D}) END AS ListCost,
  lprice AS ListUnitPrice,
  CASE PricingModel WHEN 'OnDemand' THEN 'Standard' WHEN 'Spot' THEN 'Dynamic' WHEN 'Reservation' THEN 'Committed' WHEN 'SavingsPlan' THEN 'Committed' END AS PricingCategory,
  BillingCurrencyCode AS PricingCurrency,
  qty AS PricingQuantity,
  CASE WHEN units.block = '1' THEN units.units ELSE concat(units.block, ' ', units.units) END AS PricingUnit,
  'Microsoft' AS ProviderName,
  coalesce(NULLIF(s.PublisherName, ''), services.PublisherName, 'Microsoft') AS PublisherName,
  coalesce(regions.RegionId, NULLIF(replace(lower(ResourceLocation), ' ', ''), '')) AS RegionId,
  coalesce(regions.RegionName, NULLIF(ResourceLocation, '')) AS RegionName,
  NULLIF(ResourceId, '') AS ResourceId,
  NULLIF(ResourceName, '') AS ResourceName,
  rtypes.name AS ResourceType,
  coalesce(services.ServiceCategory, 'Other') AS ServiceCategory,
  coalesce(services.ServiceName, MeterCategory) AS ServiceName,
  coalesce(services.ServiceSubcategory, 'Other (Other)') AS ServiceSubcategory,
  NULL::VARCHAR AS SkuId,
  MeterName AS SkuMeter,
  CASE WHEN AdditionalInfo LIKE '{{%' THEN regexp_replace(AdditionalInfo, '"([^"]+)":', '"x_\\1":', 'g') END AS SkuPriceDetails,
  NULL::VARCHAR AS SkuPriceId,
  SubscriptionId AS SubAccountId, SubscriptionName AS SubAccountName, 'Subscription' AS SubAccountType,
  CASE WHEN Tags = '' THEN NULL WHEN Tags LIKE '{{%' THEN Tags ELSE concat('{{', Tags, '}}') END AS Tags,
  NULLIF(AccountId, '') AS x_AccountId, AccountName AS x_AccountName, AccountOwnerId AS x_AccountOwnerId,
  BillingAccountId AS x_BillingAccountId, BillingAccountName AS x_BillingAccountName,
  BillingProfileId AS x_BillingProfileId, BillingProfileName AS x_BillingProfileName,
  NULLIF(CostAllocationRuleName, '') AS x_CostAllocationRuleName, CostCenter AS x_CostCenter,
  CAST(EffectivePrice AS {D}) AS x_EffectiveUnitPrice,
  InvoiceSectionId AS x_InvoiceSectionId, InvoiceSectionName AS x_InvoiceSectionName,
  CAST(units.block AS {D}) AS x_PricingBlockSize, s.UnitOfMeasure AS x_PricingUnitDescription,
  PublisherType AS x_PublisherCategory, NULLIF(ResourceGroup, '') AS x_ResourceGroupName, NULLIF(armtype, '') AS x_ResourceType,
  services.ServiceModel AS x_ServiceModel,
  NULLIF(AdditionalInfo, '') AS x_SkuDetails,
  CAST(IsAzureCreditEligible AS BOOLEAN) AS x_SkuIsCreditEligible,
  MeterCategory AS x_SkuMeterCategory, MeterId AS x_SkuMeterId, MeterSubCategory AS x_SkuMeterSubcategory, OfferId AS x_SkuOfferId,
  NULLIF(ProductOrderId, '') AS x_SkuOrderId, NULLIF(ProductOrderName, '') AS x_SkuOrderName, PartNumber AS x_SkuPartNumber,
  NULLIF(PlanName, '') AS x_SkuPlanName, MeterRegion AS x_SkuRegion, ServiceFamily AS x_SkuServiceFamily, NULLIF(Term, '') AS x_SkuTerm,
  ChargeType AS x_SourceChargeType, PricingModel AS x_SourcePricingModel, ds AS x_SourceDataset
FROM s
LEFT JOIN units ON units.UnitOfMeasure = s.UnitOfMeasure
LEFT JOIN regions ON regions.k = lower(s.ResourceLocation)
LEFT JOIN rtypes ON rtypes.k = s.armtype
LEFT JOIN services ON services.cs = lower(s.ConsumedService) AND services.rt = s.armtype
) TO {q(out)} (FORMAT parquet, COMPRESSION snappy)
"""
con.execute(sql)
secs = time.time() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
peak = usage.ru_maxrss
cpu = usage.ru_utime + usage.ru_stime
billed, effective = con.execute(f"SELECT sum(BilledCost), sum(EffectiveCost) FROM read_parquet({q(out)})").fetchone()
rows = con.execute(f"SELECT count(*) FROM read_parquet({q(out)})").fetchone()[0]
src = con.execute(f"SELECT (SELECT count(*) FROM read_csv({q(amortized)}, {CSV})) + (SELECT count(*) FROM read_csv({q(actual)}, {CSV}))").fetchone()[0]
print(json.dumps({"engine": "duckdb", "version": duckdb.__version__, "seconds": round(secs, 3), "cpu_seconds": round(cpu, 2), "source_rows": src, "focus_rows": rows,
                  "bytes": os.path.getsize(out), "peak_rss_kb": peak,
                  "billed": str(billed.normalize()), "effective": str(effective.normalize())}, separators=(",", ":")))
