//! Cost Details CSV text cut into chunks of whole records, and records cut into fields in place
//! (RFC 4180, strictly: a field that contains a quote, a comma or a line break is quoted whole,
//! with its quotes doubled).
//!
//! Because quotes only open and close quoted fields (or come doubled inside them), a line break is
//! between two records exactly when an even number of quotes precede it in the file. The reader
//! cuts a file into chunks at such line breaks ([`last_record_end`]); each chunk then parses on its
//! own, on any thread. A file that breaks the rule (a quote inside an unquoted field, text after a
//! closing quote) is reported as malformed at the field where it does.

use std::io::Read;

use crate::error::{IngestError, Position, Result};

/// Bytes read from a source at a time: a chunk holds about 900 rows as wide as real ones. Larger
/// chunks gained no speed and cost memory (glibc keeps the freed multi-megabyte buffers of each
/// thread: 180 MB peak at 1 MB, 590 MB at 4 MB, measured at 1M rows).
pub const CHUNK_BYTES: usize = 1 << 20;

/// How many bytes `c` are in `b` (vectorizes: byte lanes summed in blocks of 128).
fn count_byte(b: &[u8], c: u8) -> usize {
    let mut n = 0;
    for block in b.chunks(128) {
        let mut s: u8 = 0;
        for &x in block {
            s += u8::from(x == c);
        }
        n += usize::from(s);
    }
    n
}

/// The end (just after its line break) of the last whole record in `buf`, which starts at a record
/// boundary; `None` when `buf` holds no line break outside quotes.
pub fn last_record_end(buf: &[u8]) -> Option<usize> {
    let mut end = memchr::memrchr(b'\n', buf)?;
    let mut quotes = count_byte(&buf[..end], b'"');
    while quotes % 2 == 1 {
        let prev = memchr::memrchr(b'\n', &buf[..end])?;
        quotes -= count_byte(&buf[prev..end], b'"');
        end = prev;
    }
    Some(end + 1)
}

/// A source read in chunks of whole records.
pub struct Chunker<R> {
    input: R,
    /// Bytes read past the last cut (the beginning of the next record).
    carry: Vec<u8>,
    eof: bool,
    block: usize,
}

impl<R: Read> Chunker<R> {
    /// Read `block` bytes at a time ([`CHUNK_BYTES`] in production; tests vary it).
    pub fn new(input: R, block: usize) -> Self {
        Chunker {
            input,
            carry: Vec::new(),
            eof: false,
            block: block.max(1),
        }
    }

    /// Fill `buf` with the next whole records; `false` when the source is done. The last chunk of
    /// a file may end without a line break.
    pub fn next_chunk(&mut self, buf: &mut ChunkBuf, file: &str) -> Result<bool> {
        buf.len = 0;
        buf.grow(self.carry.len());
        buf.data[..self.carry.len()].copy_from_slice(&self.carry);
        buf.len = self.carry.len();
        self.carry.clear();
        loop {
            if self.eof {
                return Ok(buf.len > 0);
            }
            self.read_block(buf, file)?;
            if !self.eof
                && let Some(end) = last_record_end(buf.bytes())
            {
                self.carry.extend_from_slice(&buf.data[end..buf.len]);
                buf.len = end;
                return Ok(true);
            }
        }
    }

    /// Append up to `block` bytes to `buf`.
    fn read_block(&mut self, buf: &mut ChunkBuf, file: &str) -> Result<()> {
        let end = buf.len + self.block;
        buf.grow(end);
        while buf.len < end {
            match self.input.read(&mut buf.data[buf.len..end]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => buf.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(IngestError::Read {
                        file: file.to_string(),
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A chunk's bytes in a buffer that stays allocated and initialized from chunk to chunk (reading
/// into it never zeroes it again).
#[derive(Default)]
pub struct ChunkBuf {
    data: Vec<u8>,
    len: usize,
}

impl ChunkBuf {
    pub fn from_vec(data: Vec<u8>) -> Self {
        let len = data.len();
        ChunkBuf { data, len }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }

    pub fn into_vec(mut self) -> Vec<u8> {
        self.data.truncate(self.len);
        self.data
    }

    /// At least `n` bytes of room in all.
    fn grow(&mut self, n: usize) {
        if self.data.len() < n {
            self.data.resize(n, 0);
        }
    }
}

/// Where a field's text is: in the chunk, or (quoted with doubled quotes) unescaped in
/// [`Fields::unescaped`].
const IN_SCRATCH: u32 = 1 << 31;
/// A quoted field whose doubled quotes are not unescaped yet (its span is the text between the
/// outer quotes).
const ESCAPED: u32 = 1 << 30;

/// The fields of one record: spans into the chunk, or into a scratch buffer for the few fields
/// that had doubled quotes. Reused from record to record: no allocation per field.
#[derive(Default)]
pub struct Fields {
    spans: Vec<(u32, u32)>,
    unescaped: String,
    /// Some field still has doubled quotes (see [`Fields::unescape`]).
    pending: bool,
}

impl Fields {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Field `i` of the record, `text` being the chunk the record was scanned from.
    #[inline]
    pub fn get<'a>(&'a self, text: &'a str, i: usize) -> Option<&'a str> {
        let (s, e) = *self.spans.get(i)?;
        if s & IN_SCRATCH != 0 {
            self.unescaped.get((s & !IN_SCRATCH) as usize..e as usize)
        } else {
            text.get((s & !ESCAPED) as usize..e as usize)
        }
    }

    fn clear(&mut self) {
        self.spans.clear();
        self.unescaped.clear();
        self.pending = false;
    }

    /// Replace doubled quotes in the fields that have them (before reading those fields: the
    /// scanner leaves it to the records that are used). The error is the field where a quote is
    /// not doubled.
    pub fn unescape(&mut self, text: &str) -> Result<(), (usize, &'static str)> {
        if !self.pending {
            return Ok(());
        }
        self.pending = false;
        let b = text.as_bytes();
        for (i, span) in self.spans.iter_mut().enumerate() {
            let (s, e) = *span;
            if s & ESCAPED == 0 {
                continue;
            }
            let (s, e) = ((s & !ESCAPED) as usize, e as usize);
            let from = self.unescaped.len();
            let mut at = s;
            let mut quotes = memchr::memchr_iter(b'"', &b[s..e]);
            while let Some(q) = quotes.next() {
                let q = s + q;
                if b.get(q + 1) != Some(&b'"') || q + 1 >= e {
                    return Err((
                        i,
                        "text after the closing quote of a field (RFC 4180 quotes fields whole)",
                    ));
                }
                self.unescaped.push_str(text.get(at..=q).unwrap_or(""));
                quotes.next();
                at = q + 2;
            }
            self.unescaped.push_str(text.get(at..e).unwrap_or(""));
            *span = (from as u32 | IN_SCRATCH, self.unescaped.len() as u32);
        }
        Ok(())
    }
}

/// What went wrong in a chunk, with the line counted from the chunk's first line (1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub line: u64,
    /// 0-based field index.
    pub field: Option<usize>,
    pub reason: &'static str,
}

/// The quotes, commas and line breaks of 64 bytes, as bit masks (bit i: byte i).
fn masks(block: &[u8; 64]) -> (u64, u64, u64) {
    use wide::u8x16;
    let (qv, cv, nv) = (u8x16::splat(b'"'), u8x16::splat(b','), u8x16::splat(b'\n'));
    let (mut q, mut c, mut n) = (0u64, 0u64, 0u64);
    for (k, lane) in block.chunks_exact(16).enumerate() {
        let v = u8x16::new(<[u8; 16]>::try_from(lane).unwrap_or([0; 16]));
        let shift = 16 * k;
        q |= u64::from(v.cmp_eq(qv).move_mask() as u16) << shift;
        c |= u64::from(v.cmp_eq(cv).move_mask() as u16) << shift;
        n |= u64::from(v.cmp_eq(nv).move_mask() as u16) << shift;
    }
    (q, c, n)
}

/// Bit i set when an odd number of quotes are at or before bit i.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Bits `from..to` (0 <= from <= to <= 64).
fn bits(from: u32, to: u32) -> u64 {
    let high = if to >= 64 { u64::MAX } else { (1u64 << to) - 1 };
    let low = if from >= 64 {
        u64::MAX
    } else {
        (1u64 << from) - 1
    };
    high & !low
}

/// A record seen by [`Scanner::skim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skim {
    /// Its first line, counted from the chunk's first line (1).
    pub line: u64,
    /// Where it starts in the chunk.
    pub start: usize,
    pub fields: usize,
}

/// The text between the quotes of a quoted field, else the field.
fn unquote(b: &[u8], s: usize, e: usize) -> (usize, usize) {
    if e >= s + 2 && b[s] == b'"' && b[e - 1] == b'"' {
        (s + 1, e - 1)
    } else {
        (s, e)
    }
}

/// Records of one chunk, one at a time. The chunk is read 64 bytes at a time as bit masks of its
/// quotes, commas and line breaks; the commas and line breaks outside quotes end the fields, so
/// the text of a field is never looked at byte by byte.
pub struct Scanner<'a> {
    bytes: &'a [u8],
    /// The same bytes as text, once checked.
    text: Option<&'a str>,
    /// Where the next record starts.
    pos: usize,
    /// Line of the next record, 1 for the chunk's first line.
    line: u64,
    /// The current 64-byte block: its offset, its separators not consumed yet, its quotes and
    /// line breaks.
    block: usize,
    seps: u64,
    quotes: u64,
    newlines: u64,
    /// Inside quotes at the start of the next block: all ones, else zero.
    carry: u64,
    /// The block bit after the last separator, and the quotes since that separator in earlier blocks.
    after_sep: u32,
    quotes_before: u32,
}

impl<'a> Scanner<'a> {
    /// A scanner over bytes not known to be UTF-8 (to locate errors).
    pub fn new(bytes: &'a [u8]) -> Self {
        let mut sc = Scanner {
            bytes,
            text: None,
            pos: 0,
            line: 1,
            block: 0,
            seps: 0,
            quotes: 0,
            newlines: 0,
            carry: 0,
            after_sep: 0,
            quotes_before: 0,
        };
        sc.load(0);
        sc
    }

    /// A scanner over a checked chunk, from `pos` (a record start), on chunk line `line`.
    pub fn on_text(text: &'a str, pos: usize, line: u64) -> Self {
        let mut sc = Scanner::new(text.as_bytes());
        sc.text = Some(text);
        sc.line = line;
        sc.seek(pos);
        sc
    }

    fn seek(&mut self, pos: usize) {
        self.pos = pos;
        self.block = pos / 64 * 64;
        self.carry = 0;
        self.after_sep = (pos - self.block) as u32;
        self.load(self.after_sep);
    }

    /// Line breaks passed so far (after the last record: the chunk's line count).
    pub fn lines(&self) -> u64 {
        self.line - 1
    }

    /// Where the scanner is in the chunk.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Read the masks of the block at `self.block`, ignoring its bytes before bit `from` (the
    /// scan starts at a record boundary there).
    fn load(&mut self, from: u32) {
        let b = self.bytes;
        let (q, c, n) = match b.get(self.block..self.block + 64) {
            Some(full) => masks(<&[u8; 64]>::try_from(full).unwrap_or(&[0; 64])),
            None => {
                let mut pad = [0u8; 64];
                let rest = b.get(self.block..).unwrap_or(&[]);
                pad[..rest.len()].copy_from_slice(rest);
                masks(&pad)
            }
        };
        let keep = bits(from, 64);
        let (q, c, n) = (q & keep, c & keep, n & keep);
        let inside = prefix_xor(q) ^ self.carry;
        self.carry = ((inside as i64) >> 63) as u64;
        self.seps = (c | n) & !inside;
        self.quotes = q;
        self.newlines = n;
    }

    /// The next comma or line break outside quotes, and the quotes since the previous one; `None`
    /// at the end of the chunk (then the quotes up to the end).
    #[inline]
    fn next_sep(&mut self) -> (Option<usize>, u32) {
        loop {
            if self.seps != 0 {
                let i = self.seps.trailing_zeros();
                self.seps &= self.seps - 1;
                // bits after_sep..i (after_sep <= i < 64 here)
                let between = ((1u64 << i) - 1) & (u64::MAX << self.after_sep);
                let mut quotes = self.quotes_before;
                if self.quotes & between != 0 {
                    quotes += (self.quotes & between).count_ones();
                }
                // line breaks inside quoted fields
                if self.newlines & between != 0 {
                    self.line += u64::from((self.newlines & between).count_ones());
                }
                self.after_sep = i + 1;
                self.quotes_before = 0;
                return (Some(self.block + i as usize), quotes);
            }
            if !self.next_block() {
                return (None, std::mem::take(&mut self.quotes_before));
            }
        }
    }

    /// Move past a block whose separators are all consumed, counting its quotes and line breaks
    /// after the last separator; `false` at the end of the chunk.
    #[inline]
    fn next_block(&mut self) -> bool {
        if self.after_sep < 64 {
            let rest = u64::MAX << self.after_sep;
            if self.quotes & rest != 0 {
                self.quotes_before += (self.quotes & rest).count_ones();
            }
            if self.newlines & rest != 0 {
                self.line += u64::from((self.newlines & rest).count_ones());
            }
        }
        self.block += 64;
        self.after_sep = 0;
        if self.block >= self.bytes.len() {
            (self.quotes, self.newlines, self.seps) = (0, 0, 0);
            self.block = self.bytes.len().div_ceil(64) * 64;
            return false;
        }
        self.load(0);
        true
    }

    /// The next record, for rows that are only summed: its first line, where it starts, how many
    /// fields it has, and the text of fields `want` (ascending field indices; the quotes around a
    /// quoted field removed) in `got`, without recording the other fields: whole runs of commas
    /// are counted at once. The record is not checked for stray quotes: scan it again with
    /// [`Scanner::on_text`] from `start` when it is kept. `None` at the end of the chunk.
    pub fn skim(&mut self, want: &[usize], got: &mut [(usize, usize)]) -> Option<Skim> {
        let b = self.bytes;
        loop {
            if self.pos >= b.len() {
                return None;
            }
            let (line, record_start) = (self.line, self.pos);
            let (mut field, mut start, mut w) = (0usize, self.pos, 0usize);
            for g in got.iter_mut() {
                *g = (0, 0);
            }
            let (stop, newline) = loop {
                // Skip the commas of this block that come before the next wanted field.
                let target = want.get(w).copied().unwrap_or(usize::MAX);
                let nl = self.seps & self.newlines;
                let commas = if nl != 0 {
                    self.seps & ((nl & nl.wrapping_neg()) - 1)
                } else {
                    self.seps
                };
                if commas != 0 {
                    let n = commas.count_ones() as usize;
                    if field + n <= target {
                        let last = 63 - commas.leading_zeros();
                        let region = (u64::MAX >> (63 - last)) & (u64::MAX << self.after_sep);
                        if self.newlines & region != 0 {
                            self.line += u64::from((self.newlines & region).count_ones());
                        }
                        self.seps &= !commas;
                        self.after_sep = last + 1;
                        self.quotes_before = 0;
                        field += n;
                        start = self.block + last as usize + 1;
                        if nl == 0 {
                            if !self.next_block() {
                                // the record runs to the end of the chunk
                                break (b.len(), false);
                            }
                            continue;
                        }
                    }
                }
                let (sep, _) = self.next_sep();
                let end = sep.unwrap_or(b.len());
                let newline = sep.is_some_and(|e| b[e] == b'\n');
                if field == target {
                    got[w] = unquote(
                        b,
                        start,
                        if newline && end > start && b[end - 1] == b'\r' {
                            end - 1
                        } else {
                            end
                        },
                    );
                    w += 1;
                }
                if sep.is_some() && !newline {
                    field += 1;
                    start = end + 1;
                    continue;
                }
                break (end, newline);
            };
            if field == want.get(w).copied().unwrap_or(usize::MAX) && start <= stop {
                let stop = if stop > start && b[stop - 1] == b'\r' {
                    stop - 1
                } else {
                    stop
                };
                got[w] = unquote(b, start, stop);
            }
            self.pos = if newline { stop + 1 } else { b.len() };
            if newline {
                self.line += 1;
            }
            let empty = field == 0
                && (stop == record_start || (stop == record_start + 1 && b[record_start] == b'\r'));
            if !empty {
                return Some(Skim {
                    line,
                    start: record_start,
                    fields: field + 1,
                });
            }
        }
    }

    /// Scan the next record into `f`; returns its first line, or `None` at the end of the chunk.
    /// Empty lines are skipped. Doubled quotes are left for [`Fields::unescape`].
    pub fn next_record(&mut self, f: &mut Fields) -> Result<Option<u64>, ScanError> {
        let b = self.bytes;
        loop {
            f.clear();
            if self.pos >= b.len() {
                return Ok(None);
            }
            let first_line = self.line;
            let record_start = self.pos;
            let mut start = self.pos;
            let (empty, newline) = loop {
                let field = f.spans.len();
                let err = |reason| ScanError {
                    line: first_line,
                    field: Some(field),
                    reason,
                };
                let (sep, quotes) = self.next_sep();
                let end = sep.unwrap_or(b.len());
                let newline = sep.is_some_and(|e| b[e] == b'\n');
                // a line ends with \n or \r\n
                let stop = if (newline || sep.is_none()) && end > start && b[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                if quotes == 0 {
                    f.spans.push((start as u32, stop as u32));
                } else if b[start] != b'"' {
                    return Err(err(
                        "a quote inside a field that does not start with one (RFC 4180 quotes fields whole)",
                    ));
                } else if quotes % 2 == 1 {
                    return Err(err("a quoted field is not closed"));
                } else if stop - start < 2 || b[stop - 1] != b'"' {
                    return Err(err(
                        "text after the closing quote of a field (RFC 4180 quotes fields whole)",
                    ));
                } else if quotes == 2 {
                    f.spans.push((start as u32 + 1, stop as u32 - 1));
                } else {
                    f.spans
                        .push(((start as u32 + 1) | ESCAPED, stop as u32 - 1));
                    f.pending = true;
                }
                if sep.is_some() && !newline {
                    start = end + 1;
                    continue;
                }
                self.pos = if newline { end + 1 } else { b.len() };
                break (field == 0 && quotes == 0 && stop == record_start, newline);
            };
            if newline {
                self.line += 1;
            }
            if !empty {
                return Ok(Some(first_line));
            }
        }
    }
}

/// Where in a chunk the first invalid UTF-8 is: its line (from 1) and field.
pub fn utf8_error_position(bytes: &[u8], bad_at: usize) -> (u64, Option<usize>) {
    let mut sc = Scanner::new(bytes);
    let mut f = Fields::default();
    loop {
        let start = sc.offset();
        match sc.next_record(&mut f) {
            Ok(Some(line)) if sc.offset() > bad_at => {
                let mut field = 0;
                let mut quoted = false;
                for &c in &bytes[start..bad_at] {
                    match c {
                        b'"' => quoted = !quoted,
                        b',' if !quoted => field += 1,
                        _ => {}
                    }
                }
                return (line, Some(field));
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return (sc.line, None),
        }
    }
}

/// A malformed-CSV error at a chunk-relative position.
pub fn malformed(
    file: &str,
    line: u64,
    column: Option<usize>,
    column_name: Option<&str>,
    reason: impl Into<String>,
) -> IngestError {
    IngestError::MalformedCsv {
        at: Position {
            file: file.to_string(),
            line,
            column: column.map(|c| c as u64 + 1),
            column_name: column_name.map(str::to_string),
        },
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Result<Vec<Vec<String>>, ScanError> {
        let mut sc = Scanner::on_text(text, 0, 1);
        let mut f = Fields::default();
        let mut out = Vec::new();
        while let Some(line) = sc.next_record(&mut f)? {
            f.unescape(text).map_err(|(field, reason)| ScanError {
                line,
                field: Some(field),
                reason,
            })?;
            out.push(
                (0..f.len())
                    .map(|i| f.get(text, i).unwrap_or("?").to_string())
                    .collect(),
            );
        }
        Ok(out)
    }

    #[test]
    fn fields_quotes_and_line_ends() {
        let got =
            records("a,b,c\n\"x,1\",\"say \"\"hi\"\"\",\r\n\n\"multi\nline\",,z").expect("parses");
        assert_eq!(
            got,
            vec![
                vec!["a", "b", "c"],
                vec!["x,1", "say \"hi\"", ""],
                vec!["multi\nline", "", "z"]
            ]
        );
        assert_eq!(records("a,b\r\n").expect("crlf"), vec![vec!["a", "b"]]);
        assert_eq!(records("\"\"\"\"\n").expect("one quote"), vec![vec!["\""]]);
    }

    #[test]
    fn strict_quotes_are_errors_with_their_field() {
        assert_eq!(
            records("a,b\"c,d\n").map_err(|e| (e.line, e.field)),
            Err((1, Some(1)))
        );
        assert_eq!(
            records("x\n\"a\"b,c\n").map_err(|e| (e.line, e.field)),
            Err((2, Some(0)))
        );
        assert_eq!(
            records("x\ny,\"open\n").map_err(|e| (e.line, e.field)),
            Err((2, Some(1)))
        );
    }

    /// The first line of each record, and the chunk's line count.
    fn lines_of(text: &str) -> (Vec<u64>, u64) {
        let mut sc = Scanner::on_text(text, 0, 1);
        let mut f = Fields::default();
        let lines: Vec<u64> = std::iter::from_fn(|| sc.next_record(&mut f).expect("ok")).collect();
        (lines, sc.lines())
    }

    #[test]
    fn line_numbers_count_quoted_line_breaks() {
        assert_eq!(lines_of("h\n\"a\nb\"\nc\n"), (vec![1, 2, 4], 4));
        // a quoted field across 64-byte blocks
        let long = "x".repeat(70);
        assert_eq!(
            lines_of(&format!("h\n\"{long}\n{long}\n{long}\"\nnext\n")),
            (vec![1, 2, 5], 5)
        );
    }

    #[test]
    fn cuts_only_between_records() {
        let text = b"a,\"1\n2\"\nb,\"3\n";
        assert_eq!(last_record_end(text), Some(8));
        assert_eq!(last_record_end(b"no line break"), None);
        assert_eq!(last_record_end(b"\"open\nstill open"), None);
        let long: Vec<u8> = (0..1000).flat_map(|_| b"\"\"".iter().copied()).collect();
        assert_eq!(count_byte(&long, b'"'), 2000);
    }

    /// Records as the `csv` crate reads them (the reference).
    fn reference(text: &str) -> Vec<Vec<String>> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        r.records()
            .map(|x| {
                x.expect("reference parses")
                    .iter()
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn same_records_as_the_csv_crate_across_64_byte_blocks() {
        let mut g = RandomCsv(7);
        for round in 0..300 {
            let text = g.text(round % 3 == 0, false);
            assert_eq!(
                records(&text).expect("parses"),
                reference(&text),
                "round {round}: {text:?}"
            );
        }
    }

    /// Random CSV text with quoted fields, doubled quotes, commas and line breaks inside quotes,
    /// long fields (across 64-byte blocks when `long`), CRLF, and (with `ragged`) records of
    /// different widths and empty lines.
    struct RandomCsv(u64);

    impl RandomCsv {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }

        fn text(&mut self, long: bool, ragged: bool) -> String {
            const PIECES: [&str; 9] = [
                "a",
                "bc",
                "\"",
                ",",
                "\n",
                "é",
                "xyz0123456789",
                "{\"k\": \"v\"}",
                " ",
            ];
            let mut text = String::new();
            for _ in 0..1 + self.below(6) {
                let width = if ragged { 3 + self.below(6) } else { 4 };
                for f in 0..width {
                    if f > 0 {
                        text.push(',');
                    }
                    let len = self.below(if long { 90 } else { 12 });
                    let value: String = (0..len)
                        .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
                        .collect();
                    if value.contains(['"', ',', '\n']) || self.below(4) == 0 {
                        text.push('"');
                        text.push_str(&value.replace('"', "\"\""));
                        text.push('"');
                    } else {
                        text.push_str(&value);
                    }
                }
                text.push_str(if self.below(3) == 0 { "\r\n" } else { "\n" });
                if ragged && self.below(6) == 0 {
                    text.push('\n');
                }
            }
            text
        }
    }

    #[test]
    fn skimming_finds_the_same_fields_lines_and_counts_as_scanning() {
        let mut g = RandomCsv(11);
        for round in 0..300 {
            let text = g.text(round % 2 == 0, true);
            let want = [0usize, 2, 3];
            let mut full = Scanner::on_text(&text, 0, 1);
            let mut fast = Scanner::on_text(&text, 0, 1);
            let mut f = Fields::default();
            let mut got = [(0usize, 0usize); 3];
            while let Some(line) = full.next_record(&mut f).expect("parses") {
                let skim = fast.skim(&want, &mut got).expect("a record");
                assert_eq!(
                    (skim.line, skim.fields),
                    (line, f.len()),
                    "round {round}: {text:?}"
                );
                for (k, i) in want.iter().enumerate() {
                    if f.spans.get(*i).is_some_and(|(s, _)| s & ESCAPED == 0) {
                        assert_eq!(
                            text.get(got[k].0..got[k].1),
                            f.get(&text, *i),
                            "round {round} field {i}: {text:?}"
                        );
                    }
                }
                assert_eq!(fast.offset(), full.offset());
            }
            assert!(fast.skim(&want, &mut got).is_none());
            assert_eq!(fast.lines(), full.lines(), "round {round}");
        }
    }

    #[test]
    fn any_block_size_gives_the_same_records() {
        let text = "h1,h2\n\"a\nb\",1\nc,\"d,\"\"e\"\"\"\n,\n\"x\",y";
        for block in 1..text.len() + 2 {
            let mut ch = Chunker::new(text.as_bytes(), block);
            let (mut all, mut buf) = (Vec::new(), ChunkBuf::default());
            while ch.next_chunk(&mut buf, "t").expect("read") {
                all.extend(
                    records(std::str::from_utf8(buf.bytes()).expect("utf8")).expect("parses"),
                );
            }
            assert_eq!(all, records(text).expect("whole"), "block {block}");
        }
    }
}
