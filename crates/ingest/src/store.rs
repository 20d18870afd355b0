//! Parquet period files, replaced atomically.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use arrow::array::{Array, Decimal128Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;

use crate::decimal::{STORE_SCALE, SumBuilder};
use crate::error::{IngestError, Result};
use crate::reconcile::FocusTotals;
use crate::schema::{F, focus_schema};

/// Rows per Parquet row group: bounds the writer's memory (it buffers one row group).
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Largest dictionary per column chunk before a column falls back to plain encoding. Resource IDs,
/// tags and AdditionalInfo repeat every day of the month but differ from resource to resource: at
/// 1M rows a month a row group holds about 35,000 resources, whose values fit in 8 MB, so those
/// columns stay dictionary-encoded (a quarter of the bytes to compress and store).
pub const DICTIONARY_PAGE_BYTES: usize = 8 << 20;

/// What [`write_period_parquet`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WriteSummary {
    pub path: PathBuf,
    pub rows: u64,
    pub bytes: u64,
    /// Exact sums of the FOCUS cost columns of the rows written.
    pub focus: FocusTotals,
    /// Rows with a non-empty `InvoiceId` (MCA marks invoiced rows; the sync's closing signal).
    #[serde(default)]
    pub invoiced_rows: u64,
    /// The `BillingCurrency` of every row, when they all share one (what the costs are shown in).
    #[serde(default)]
    pub billing_currency: Option<String>,
}

/// What the rows written say beyond their sums: invoicing and currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFacts {
    /// Rows with a non-empty `InvoiceId`.
    pub invoiced_rows: u64,
    /// Every distinct non-empty `BillingCurrency`.
    pub currencies: std::collections::BTreeSet<String>,
}

impl RowFacts {
    fn add(&mut self, batch: &RecordBatch) {
        let strings = |f: F| {
            batch
                .column(f as usize)
                .as_any()
                .downcast_ref::<StringArray>()
                .into_iter()
                .flat_map(|a| a.iter().flatten().filter(|v| !v.is_empty()))
        };
        self.invoiced_rows += strings(F::InvoiceId).count() as u64;
        let mut last: Option<&str> = None;
        for c in strings(F::BillingCurrency) {
            if last != Some(c) && !self.currencies.contains(c) {
                self.currencies.insert(c.to_string());
            }
            last = Some(c);
        }
    }

    /// The one currency of the rows, if they have exactly one.
    pub fn billing_currency(&self) -> Option<String> {
        (self.currencies.len() == 1)
            .then(|| self.currencies.first().cloned())
            .flatten()
    }
}

/// Snappy, 128K-row row groups, statistics (and page index) on the timestamp and boolean columns
/// only. Statistics on string and decimal columns are off: parquet 59 keeps each byte-array min/max
/// (strings, and decimals, which are fixed-length byte arrays) as a slice of the buffer it came
/// from, so every row group would pin a batch's column data until the file is closed and memory
/// would grow with the file (measured: +13 MB/s, 500 MB peak at 10M rows, flat without).
fn writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_dictionary_page_size_limit(DICTIONARY_PAGE_BYTES)
        .set_created_by(
            concat!("billing-engine be-ingest ", env!("CARGO_PKG_VERSION")).to_string(),
        );
    for f in focus_schema().fields() {
        if matches!(f.data_type(), DataType::Utf8 | DataType::Decimal128(_, _)) {
            b = b.set_column_statistics_enabled(
                ColumnPath::from(f.name().as_str()),
                EnabledStatistics::None,
            );
        }
    }
    b.build()
}

/// Exact sums of the cost columns of the rows written so far.
#[derive(Default)]
struct Sums {
    rows: u64,
    cost: [SumBuilder; 4],
    facts: RowFacts,
}

const SUMMED: [F; 4] = [
    F::BilledCost,
    F::EffectiveCost,
    F::ListCost,
    F::ContractedCost,
];

impl Sums {
    fn add(&mut self, batch: &RecordBatch) {
        self.rows += batch.num_rows() as u64;
        self.facts.add(batch);
        for (f, sum) in SUMMED.iter().zip(self.cost.iter_mut()) {
            if let Some(a) = batch
                .column(*f as usize)
                .as_any()
                .downcast_ref::<Decimal128Array>()
            {
                for v in a.iter().flatten() {
                    sum.add_scaled(v, STORE_SCALE);
                }
            }
        }
    }

    fn totals(&self) -> (FocusTotals, RowFacts) {
        let [billed_cost, effective_cost, list_cost, contracted_cost] =
            self.cost.each_ref().map(SumBuilder::finish);
        let totals = FocusTotals {
            rows: self.rows,
            billed_cost,
            effective_cost,
            list_cost,
            contracted_cost,
        };
        (totals, self.facts.clone())
    }
}

/// Write a period's FOCUS batches to `final_path`, replacing any previous file atomically: the
/// batches go to a temporary file in the same directory, which is flushed to disk (fsync) and then
/// renamed over `final_path` (and the directory is fsynced). A reader opening `final_path` sees the
/// old file or the new one, never a mix; on any error the temporary file is removed and the old
/// file is untouched.
///
/// The batches are produced on a second thread while this one encodes Parquet (two-stage pipeline
/// with a bounded queue of two batches), so memory stays bounded by the batch and row-group sizes.
pub fn write_period_parquet<I>(batches: I, final_path: &Path) -> Result<WriteSummary>
where
    I: IntoIterator<Item = Result<RecordBatch>>,
    I::IntoIter: Send,
{
    write_staged(batches, final_path)?.commit()
}

/// A complete, fsynced period file beside its final path, not yet in place: [`Staged::commit`]
/// renames it over the final path; dropping it removes it (the previous file stays).
#[derive(Debug)]
pub struct Staged {
    tmp: Option<PathBuf>,
    final_path: PathBuf,
    /// Exact sums of the FOCUS cost columns of the rows written.
    pub focus: FocusTotals,
    /// Invoicing and currency of the rows written.
    pub facts: RowFacts,
}

impl Staged {
    /// Replace the final path with the staged file atomically.
    pub fn commit(mut self) -> Result<WriteSummary> {
        let tmp = self
            .tmp
            .take()
            .ok_or_else(|| IngestError::Internal("committed twice".into()))?;
        let bytes = commit(&tmp, &self.final_path)?;
        Ok(WriteSummary {
            path: self.final_path.clone(),
            rows: self.focus.rows,
            bytes,
            focus: self.focus.clone(),
            invoiced_rows: self.facts.invoiced_rows,
            billing_currency: self.facts.billing_currency(),
        })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Write a period's FOCUS batches to a temporary file beside `final_path` (fsynced), leaving
/// `final_path` untouched until [`Staged::commit`]: the caller can check the totals first.
pub fn write_staged<I>(batches: I, final_path: &Path) -> Result<Staged>
where
    I: IntoIterator<Item = Result<RecordBatch>>,
    I::IntoIter: Send,
{
    let tmp = temp_path(final_path)?;
    let (focus, facts) = write_to(batches, &tmp).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(Staged {
        tmp: Some(tmp),
        final_path: final_path.to_path_buf(),
        focus,
        facts,
    })
}

/// A fresh temporary path beside `final_path` (`.NAME.PID.NANOS.tmp`, which
/// [`remove_stale_temp_files`] recognizes); its folder is created.
pub fn temp_path(final_path: &Path) -> Result<PathBuf> {
    let dir = match final_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    private_dir_all(&dir).map_err(|source| IngestError::Write {
        path: dir.clone(),
        source,
    })?;
    let file_name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "period.parquet".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Ok(dir.join(format!(".{file_name}.{}.{nanos}.tmp", std::process::id())))
}

/// Replace `final_path` with the complete, fsynced `tmp` by a rename, and make the rename durable;
/// returns the file's size. On failure `tmp` is removed and `final_path` is untouched.
pub fn commit(tmp: &Path, final_path: &Path) -> Result<u64> {
    let finish = || -> std::io::Result<u64> {
        let bytes = std::fs::metadata(tmp)?.len();
        std::fs::rename(tmp, final_path)?;
        if let Some(dir) = final_path.parent()
            && let Ok(d) = File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
        {
            let _ = d.sync_all();
        }
        Ok(bytes)
    };
    finish().map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        IngestError::Write {
            path: final_path.to_path_buf(),
            source: e,
        }
    })
}

/// Create `dir` and its missing parents readable by this user only (0700 on Unix, whatever the
/// umask).
pub fn private_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Options creating a new file readable by this user only (0600 on Unix, whatever the umask).
pub fn private_new_file() -> std::fs::OpenOptions {
    let mut o = File::options();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o
}

fn write_to<I>(batches: I, tmp: &Path) -> Result<(FocusTotals, RowFacts)>
where
    I: IntoIterator<Item = Result<RecordBatch>>,
    I::IntoIter: Send,
{
    let file = private_new_file()
        .open(tmp)
        .map_err(|e| IngestError::Write {
            path: tmp.to_path_buf(),
            source: e,
        })?;
    let iter = batches.into_iter();
    let pq = |e| IngestError::Parquet {
        context: format!("writing {}", tmp.display()),
        source: e,
    };
    std::thread::scope(|scope| -> Result<(FocusTotals, RowFacts)> {
        let (tx, rx) = mpsc::sync_channel::<Result<RecordBatch>>(2);
        let producer = scope.spawn(move || {
            for b in iter {
                let stop = b.is_err();
                if tx.send(b).is_err() || stop {
                    break;
                }
            }
        });
        let writer =
            ArrowWriter::try_new(file, focus_schema(), Some(writer_properties())).map_err(pq)?;
        let (file_writer, factory) = writer.into_serialized_writer().map_err(pq)?;
        let encoders = (0..encoder_threads())
            .map(|_| Encoder::spawn(scope))
            .collect();
        let mut out = ParallelWriter {
            file_writer,
            factory,
            encoders,
            pieces: Pieces::default(),
            sums: Sums::default(),
            group_rows: 0,
            groups: 0,
        };
        let written = out.write_all(rx.iter());
        drop(rx); // unblocks the producer if we stopped early
        let closed = out.close();
        producer
            .join()
            .map_err(|_| IngestError::Internal("the batch producer panicked".into()))?;
        let (file, totals) = written.and(closed).map_err(|e| e.into_ingest(tmp))?;
        file.sync_all().map_err(|e| IngestError::Write {
            path: tmp.to_path_buf(),
            source: e,
        })?;
        Ok(totals)
    })
}

/// Columns encoded on each core, in parallel.
fn encoder_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8)
}

/// An error of the parallel writer: from the batches or from Parquet.
enum WriteError {
    Ingest(Box<IngestError>),
    Parquet(parquet::errors::ParquetError),
}

impl WriteError {
    fn into_ingest(self, tmp: &Path) -> IngestError {
        match self {
            WriteError::Ingest(e) => *e,
            WriteError::Parquet(e) => IngestError::Parquet {
                context: format!("writing {}", tmp.display()),
                source: e,
            },
        }
    }
}

impl From<parquet::errors::ParquetError> for WriteError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        WriteError::Parquet(e)
    }
}

/// Batches cut at row group boundaries (slices, no copy). The Parquet writer cuts pages where the
/// batches it is given start, so the file's bytes depend on the batches: the converter's batches
/// depend only on the input and the chunk size, never on the thread timing.
#[derive(Default)]
struct Pieces {
    queue: std::collections::VecDeque<RecordBatch>,
}

impl Pieces {
    fn push(&mut self, b: RecordBatch) {
        if b.num_rows() > 0 {
            self.queue.push_back(b);
        }
    }

    /// The next piece, of at most `max` rows.
    fn take(&mut self, max: usize) -> Option<RecordBatch> {
        let front = self.queue.pop_front()?;
        let n = front.num_rows();
        if n <= max {
            return Some(front);
        }
        self.queue.push_front(front.slice(max, n - max));
        Some(front.slice(0, max))
    }
}

/// What an encoder thread is asked to do.
enum Job {
    /// The writers of a new row group for this encoder's columns (by column index).
    Writers(Vec<(usize, ArrowColumnWriter)>),
    Piece(std::sync::Arc<RecordBatch>),
    /// Close the row group's writers and send the encoded column chunks back.
    Close(mpsc::SyncSender<Result<Vec<(usize, ArrowColumnChunk)>, parquet::errors::ParquetError>>),
}

/// A thread that encodes some of the columns of every piece.
struct Encoder<'scope> {
    jobs: mpsc::SyncSender<Job>,
    handle: std::thread::ScopedJoinHandle<'scope, ()>,
}

impl<'scope> Encoder<'scope> {
    fn spawn<'env>(scope: &'scope std::thread::Scope<'scope, 'env>) -> Encoder<'scope> {
        let (jobs, rx) = mpsc::sync_channel::<Job>(8);
        let handle = scope.spawn(move || encode(rx));
        Encoder { jobs, handle }
    }
}

fn encode(rx: mpsc::Receiver<Job>) {
    let schema = focus_schema();
    let mut writers: Vec<(usize, ArrowColumnWriter)> = Vec::new();
    let mut failed = None;
    for job in rx {
        match job {
            Job::Writers(w) => {
                writers = w;
                failed = None;
            }
            Job::Piece(batch) if failed.is_none() => {
                for (i, w) in writers.iter_mut() {
                    let written = compute_leaves(schema.field(*i), batch.column(*i))
                        .and_then(|leaves| leaves.iter().try_for_each(|l| w.write(l)));
                    if let Err(e) = written {
                        failed = Some(e);
                        break;
                    }
                }
            }
            Job::Piece(_) => {}
            Job::Close(reply) => {
                let chunks = match failed.take() {
                    Some(e) => Err(e),
                    None => writers
                        .drain(..)
                        .map(|(i, w)| w.close().map(|c| (i, c)))
                        .collect(),
                };
                let _ = reply.send(chunks);
            }
        }
    }
}

/// The file, its row groups, and the encoder threads.
struct ParallelWriter<'scope> {
    file_writer: SerializedFileWriter<File>,
    factory: ArrowRowGroupWriterFactory,
    encoders: Vec<Encoder<'scope>>,
    pieces: Pieces,
    sums: Sums,
    /// Rows in the current row group, and row groups closed.
    group_rows: usize,
    groups: usize,
}

impl ParallelWriter<'_> {
    fn write_all(
        &mut self,
        batches: impl Iterator<Item = Result<RecordBatch>>,
    ) -> Result<(), WriteError> {
        self.start_group()?;
        for b in batches {
            self.pieces
                .push(b.map_err(|e| WriteError::Ingest(Box::new(e)))?);
            self.send_pieces()?;
        }
        if self.group_rows > 0 {
            self.close_group()?;
        }
        Ok(())
    }

    /// Give every encoder the writers of its columns for the next row group.
    fn start_group(&mut self) -> Result<(), WriteError> {
        let mut parts: Vec<Vec<(usize, ArrowColumnWriter)>> =
            self.encoders.iter().map(|_| Vec::new()).collect();
        for (i, w) in self
            .factory
            .create_column_writers(self.groups)?
            .into_iter()
            .enumerate()
        {
            parts[column_encoder(i, self.encoders.len())].push((i, w));
        }
        for (e, part) in self.encoders.iter().zip(parts) {
            e.jobs.send(Job::Writers(part)).map_err(|_| stopped())?;
        }
        Ok(())
    }

    fn send_pieces(&mut self) -> Result<(), WriteError> {
        while let Some(piece) = self.pieces.take(ROW_GROUP_ROWS - self.group_rows) {
            let piece = std::sync::Arc::new(
                with_row_ids(piece, self.sums.rows).map_err(|e| WriteError::Ingest(Box::new(e)))?,
            );
            self.sums.add(&piece);
            self.group_rows += piece.num_rows();
            for e in &self.encoders {
                e.jobs
                    .send(Job::Piece(piece.clone()))
                    .map_err(|_| stopped())?;
            }
            if self.group_rows == ROW_GROUP_ROWS {
                self.close_group()?;
                self.start_group()?;
            }
        }
        Ok(())
    }

    /// Collect the encoded columns of the row group and append them to the file, in column order.
    fn close_group(&mut self) -> Result<(), WriteError> {
        let mut chunks = Vec::new();
        for e in &self.encoders {
            let (tx, rx) = mpsc::sync_channel(1);
            e.jobs.send(Job::Close(tx)).map_err(|_| stopped())?;
            chunks.extend(rx.recv().map_err(|_| stopped())??);
        }
        chunks.sort_by_key(|(i, _)| *i);
        let mut group = self.file_writer.next_row_group()?;
        for (_, c) in chunks {
            c.append_to_row_group(&mut group)?;
        }
        group.close()?;
        self.group_rows = 0;
        self.groups += 1;
        Ok(())
    }

    /// Stop the encoders and finish the file.
    fn close(self) -> Result<(File, (FocusTotals, RowFacts)), WriteError> {
        let ParallelWriter {
            file_writer,
            encoders,
            sums,
            ..
        } = self;
        for e in encoders {
            drop(e.jobs);
            e.handle.join().map_err(|_| stopped())?;
        }
        Ok((file_writer.into_inner()?, sums.totals()))
    }
}

/// Which encoder thread encodes column `i`: the string columns (most of the work) dealt in turn,
/// then the others.
fn column_encoder(i: usize, encoders: usize) -> usize {
    i % encoders.max(1)
}

fn stopped() -> WriteError {
    WriteError::Ingest(Box::new(IngestError::Internal(
        "a Parquet encoder thread stopped unexpectedly".into(),
    )))
}

/// Append [`crate::SOURCE_ROW_ID`]: the positions `first..first + rows` of the batch's rows in
/// the file.
fn with_row_ids(batch: RecordBatch, first: u64) -> Result<RecordBatch> {
    let schema = focus_schema();
    let first = first as i64;
    let ids = Int64Array::from_iter_values(first..first + batch.num_rows() as i64);
    let mut columns = batch.columns().to_vec();
    columns.push(std::sync::Arc::new(ids));
    RecordBatch::try_new(schema, columns).map_err(|e| IngestError::Arrow {
        context: "numbering the rows".into(),
        source: e,
    })
}

/// Whether a file name is one of [`write_period_parquet`]'s temporary files (`.NAME.PID.NANOS.tmp`).
pub fn is_temp_file_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp") && name.contains(".parquet.")
}

/// Remove the temporary files a killed writer left in `dir` (call it at start, before any sync
/// runs: a running writer's temporary file would be removed too). Returns how many were removed.
/// The period files themselves are never touched.
pub fn remove_stale_temp_files(dir: &Path) -> Result<usize> {
    let mut n = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(IngestError::Write {
                path: dir.to_path_buf(),
                source: e,
            });
        }
    };
    for entry in entries.flatten() {
        if is_temp_file_name(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path()).map_err(|e| IngestError::Write {
                path: entry.path(),
                source: e,
            })?;
            n += 1;
        }
    }
    Ok(n)
}

/// Read the FOCUS cost totals back from a stored period file (only the cost columns are read).
pub fn read_focus_totals(path: &Path) -> Result<FocusTotals> {
    let pq = |e| IngestError::Parquet {
        context: format!("reading {}", path.display()),
        source: e,
    };
    let file = File::open(path).map_err(|e| IngestError::Read {
        file: path.display().to_string(),
        source: e,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let schema = builder.schema().clone();
    let mut idx = Vec::new();
    for f in [
        F::BilledCost,
        F::EffectiveCost,
        F::ListCost,
        F::ContractedCost,
    ] {
        let i = schema
            .index_of(f.name())
            .map_err(|_| IngestError::NotAFocusFile {
                path: path.to_path_buf(),
                reason: format!("no {} column", f.name()),
            })?;
        idx.push(i);
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), idx);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(pq)?;
    let mut t = FocusTotals::default();
    for b in reader {
        let b = b.map_err(|e| IngestError::Arrow {
            context: format!("reading {}", path.display()),
            source: e,
        })?;
        t.rows += b.num_rows() as u64;
        for (f, sum) in [
            (F::BilledCost, &mut t.billed_cost),
            (F::EffectiveCost, &mut t.effective_cost),
            (F::ListCost, &mut t.list_cost),
            (F::ContractedCost, &mut t.contracted_cost),
        ] {
            let a = b
                .column_by_name(f.name())
                .and_then(|c| c.as_any().downcast_ref::<Decimal128Array>())
                .ok_or_else(|| IngestError::NotAFocusFile {
                    path: path.to_path_buf(),
                    reason: format!("{} is not a Decimal128 column", f.name()),
                })?;
            if a.scale() != crate::decimal::STORE_SCALE as i8 {
                return Err(IngestError::NotAFocusFile {
                    path: path.to_path_buf(),
                    reason: format!("cost scale {} instead of 24", a.scale()),
                });
            }
            for v in a.iter().flatten() {
                sum.add_store(v);
            }
        }
    }
    Ok(t)
}
