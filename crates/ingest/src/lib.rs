//! # be-ingest: Azure Cost Details to FOCUS 1.2 Parquet, exactly
//!
//! Turns the ActualCost and AmortizedCost CSV files of one billing period (EA or MCA, every layout
//! of `azure-protocol.md` section 5) into one FOCUS 1.2 Parquet file, replaced atomically, with an
//! exact reconciliation of the cost columns against the source files. This crate owns the FOCUS
//! schema ([`schema`]). It knows Arrow and Parquet, never DataFusion.
//!
//! ## The one call a sync job makes
//!
//! ```no_run
//! # fn f() -> be_ingest::Result<()> {
//! use be_ingest::{ConvertOptions, Source, ingest_period};
//! let report = ingest_period(
//!     vec![Source::path("amortized.csv")?],          // every blob of the AmortizedCost report
//!     vec![Source::path("actual.csv")?],             // every blob of the ActualCost report
//!     std::path::Path::new("data/conn-1/2025-06.parquet"),
//!     ConvertOptions::default(),
//! )?;
//! println!("{} rows, {} bytes: {}", report.write.rows, report.write.bytes, report.reconciliation.summary());
//! # Ok(()) }
//! ```
//!
//! A period whose totals do not reconcile is never stored: the error carries the
//! [`Reconciliation`] (both differences) and the previous file stays.
//!
//! On error (a malformed file names the file, line and column: [`IngestError::position`]) the
//! previous Parquet file of the period is untouched. [`IngestError::code`] is stable.
//!
//! ## Pieces
//!
//! - [`CostReader`]: streaming CSV reader; header matched by name, case-insensitively, through the
//!   alias table ([`columns::ALIASES`]); byte-order mark tolerated; dates `MM/DD/YYYY`,
//!   `YYYY-MM-DD`, ISO 8601 with time; decimals exact ([`Dec`]: up to 38 digits and 36 places,
//!   exponent notation).
//! - [`scan`]: sources cut into 1 MB chunks of whole records (strict RFC 4180: a line break is
//!   between records exactly when an even number of quotes precede it) and scanned in place, 64
//!   bytes at a time as bit masks; no allocation per field.
//! - [`FocusConverter`]: an iterator of FOCUS [`arrow::array::RecordBatch`]es of bounded size, in
//!   file order; chunks are parsed and mapped on one thread per core ([`ConvertOptions::threads`]).
//!   Microsoft's merge rule: every AmortizedCost row, plus the ActualCost rows with ChargeType
//!   `Purchase`/`Refund` and PricingModel `Reservation`/`SavingsPlan`. Lookups from Microsoft's
//!   open data (embedded, see `data/ATTRIBUTION.md`). Azure extras go to `x_` columns.
//! - [`write_period_parquet`]: temp file in the same directory, fsync, rename (atomic replace);
//!   columns encoded on one thread per core. The same input and chunk size give the same bytes,
//!   whatever the thread timing.
//! - [`reconcile()`]: exact sums ([`ExactSum`]) of source and FOCUS cost columns, row counts.
//!
//! ## Refused, or kept with a warning
//!
//! Refused with file, line and column ([`IngestError::code`]): a header without `ChargeType`
//! (`ingest_missing_column`; only the legacy EA usage-details layout, whose rows are all usage,
//! has none) or without a currency column; a currency that is not ISO 4217, or empty
//! (`ingest_bad_currency`); an empty charge type; the legacy layout without its `Currency`
//! (`ingest_unsupported_layout`). Kept with a warning ([`Warnings`], [`PeriodReport::warnings`]):
//! a value that does not parse in an optional column that only feeds an `x_` column
//! (`ExchangeRateDate`, `ServicePeriodStartDate`/`EndDate`, `CostInUsd`, `PaygCostInUsd`,
//! `IsAzureCreditEligible`) is stored as null; an unknown charge type maps to `Adjustment`.
//!
//! ## Numbers
//!
//! Money, prices and quantities are Arrow `Decimal128(38, 24)`: 24 places hold the finest values in
//! real files exactly, 14 integral digits hold any row. A source value with more than 24 significant
//! places is rounded half-even when stored and counted in [`SourceTotals::rounded_values`]; the
//! reconciliation then shows the difference rather than hiding it. Sums never round.
//!
//! ## Where this mapping departs from convert.md (section 5.7), and why
//!
//! 1. `BilledCost` is 0 for unused commitment rows (`UnusedReservation`/`UnusedSavingsPlan`), not
//!    only for commitment `Usage`: the purchase is billed once, from the ActualCost file. With the
//!    literal rule, `SUM(BilledCost)` would exceed the invoice by the unused amount; the FOCUS
//!    spec's own examples (`zero_percent_utilization_*`) bill 0 on the unused row.
//! 2. `CommitmentDiscountStatus` is set only on `ChargeCategory = Usage` rows (FOCUS requires null
//!    otherwise); convert.md's rule would mark commitment purchases `Used`.
//! 3. `PricingCategory` is `Standard` for the commitment purchase/refund rows themselves (as in the
//!    FOCUS spec's purchase examples); `Committed` for usage covered by a commitment.
//! 4. Quantities: in real files `Cost = Quantity x EffectivePrice` with `Quantity` counted in
//!    `UnitOfMeasure` blocks (a `10K` row with Quantity 0.0004 is 4 operations). So
//!    `PricingQuantity = Quantity`, `PricingUnit` names the block (`10000 Units`, or `Hours` for a
//!    block of 1), `ListUnitPrice = PayGPrice`, `ContractedUnitPrice = UnitPrice`,
//!    `ListCost = PayGPrice x Quantity` (validate.md; convert.md has "not available" for EA, but
//!    FOCUS requires a value), `ContractedCost = UnitPrice x Quantity`, and
//!    `ConsumedQuantity = Quantity x x_PricingBlockSize` in `ConsumedUnit` (the distinct unit).
//!    convert.md's `Quantity / x_PricingBlockSize` would make `ListUnitPrice x PricingQuantity`
//!    differ from `ListCost` by the block size. MCA prices are multiplied by
//!    `exchangeRatePricingToBilling` (validate.md).
//! 5. `ChargeFrequency` has no `Other` in FOCUS 1.2: an empty or unknown Frequency becomes
//!    `Usage-Based` for usage rows and `One-Time` otherwise.
//! 6. Older layouts without `benefitId`: the reservation's ID is built from `ProductOrderId` and
//!    `ReservationId`.

//!
//! ## The official FOCUS validator
//!
//! `tests/it/validate.rs` runs `../shared/tools/focus-validate` (focus-validator 2.2.1) on the
//! output of the shared EA samples and on generated MCA data. Zero failures is not reachable with
//! that validator: it checks InvoiceId's two nullability rules ("null when not invoiced", "not null
//! when invoiced") unconditionally, so every non-empty file fails one of them (EA: no invoice IDs;
//! invoiced MCA months: all set), and a file without the column fails seven rules. It also checks
//! "EffectiveCost is 0 for a purchase that covers future charges" on every Purchase, including a
//! marketplace refund. The tests allow exactly these rules and fail on any other.

pub mod columns;
pub mod convert;
pub mod date;
pub mod decimal;
pub mod error;
pub mod focus;
pub mod json;
pub mod lookup;
pub mod reader;
pub mod reconcile;
pub mod scan;
pub mod schema;
pub mod store;
pub mod warning;

pub use columns::{Agreement, Col, ColumnMap, HeaderError, Layout};
pub use convert::{ConvertOptions, Dataset, FocusConverter, Source, SourceTotals};
pub use decimal::{Dec, ExactSum, SumBuilder};
pub use error::{IngestError, Position, Result};
pub use focus::{FocusFormat, FocusImport, ImportedPeriod, import_focus};
pub use reader::{CostReader, Record};
pub use reconcile::{FocusTotals, Reconciliation, reconcile};
pub use schema::{F, SOURCE_ROW_ID, focus_schema, mapped_schema};
pub use store::{
    Staged, WriteSummary, read_focus_totals, remove_stale_temp_files, write_period_parquet,
    write_staged,
};
pub use warning::{Warning, Warnings};

/// What [`ingest_period`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeriodReport {
    pub agreement: Option<Agreement>,
    pub write: WriteSummary,
    pub reconciliation: Reconciliation,
    /// Values stored as null because they did not parse, in optional columns that only feed
    /// `x_` extensions: how many, and the first few with file, line and column.
    pub warnings: Warnings,
}

/// Convert one period's AmortizedCost and ActualCost files to FOCUS, reconcile, and only then store
/// them atomically at `final_path`. The reconciliation compares the source totals with the totals
/// of the batches written (the same values [`read_focus_totals`] reads back from the file). A period
/// that does not reconcile is refused ([`IngestError::NotReconciled`], with the differences) and
/// the previous file at `final_path` stays as it was.
pub fn ingest_period(
    amortized: Vec<Source>,
    actual: Vec<Source>,
    final_path: &std::path::Path,
    opts: ConvertOptions,
) -> Result<PeriodReport> {
    let span = tracing::info_span!("ingest_period", path = %final_path.display());
    let _g = span.enter();
    let mut conv = FocusConverter::new(amortized, actual, opts);
    let staged = write_staged(&mut conv, final_path)?;
    let reconciliation = reconcile(&conv.source_totals(), &staged.focus);
    if !reconciliation.reconciled {
        tracing::warn!(rows = staged.focus.rows, "{}", reconciliation.summary());
        // Dropping the staged file keeps the previous period in place.
        return Err(IngestError::NotReconciled(Box::new(reconciliation)));
    }
    let write = staged.commit()?;
    tracing::info!(
        rows = write.rows,
        bytes = write.bytes,
        "{}",
        reconciliation.summary()
    );
    let warnings = conv.warnings().clone();
    if !warnings.is_empty() {
        tracing::warn!(count = warnings.count, "{}", warnings.summary());
    }
    Ok(PeriodReport {
        agreement: conv.agreement(),
        write,
        reconciliation,
        warnings,
    })
}
