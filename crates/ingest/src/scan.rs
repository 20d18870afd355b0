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

use memchr::{memchr, memchr3};

use crate::error::{IngestError, Position, Result};

/// Bytes read from a source at a time: large reads keep the parsers busy, and a chunk of this size
/// holds about 1,800 rows as wide as real ones.
pub const CHUNK_BYTES: usize = 2 << 20;

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
        Chunker { input, carry: Vec::new(), eof: false, block: block.max(1) }
    }

    /// Fill `buf` (cleared first) with the next whole records; `false` when the source is done.
    /// The last chunk of a file may end without a line break.
    pub fn next_chunk(&mut self, buf: &mut Vec<u8>, file: &str) -> Result<bool> {
        buf.clear();
        buf.append(&mut self.carry);
        loop {
            if self.eof {
                return Ok(!buf.is_empty());
            }
            self.read_block(buf, file)?;
            if !self.eof
                && let Some(end) = last_record_end(buf)
            {
                self.carry.extend_from_slice(&buf[end..]);
                buf.truncate(end);
                return Ok(true);
            }
        }
    }

    fn read_block(&mut self, buf: &mut Vec<u8>, file: &str) -> Result<()> {
        let start = buf.len();
        buf.resize(start + self.block, 0);
        let mut filled = start;
        while filled < buf.len() {
            match self.input.read(&mut buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(IngestError::Read { file: file.to_string(), source: e }),
            }
        }
        buf.truncate(filled);
        Ok(())
    }
}

/// Where a field's text is: in the chunk, or (quoted with doubled quotes) unescaped in
/// [`Fields::unescaped`].
const IN_SCRATCH: u32 = 1 << 31;

/// The fields of one record: spans into the chunk, or into a scratch buffer for the few fields
/// that had doubled quotes. Reused from record to record: no allocation per field.
#[derive(Default)]
pub struct Fields {
    spans: Vec<(u32, u32)>,
    unescaped: String,
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
        if s & IN_SCRATCH != 0 { self.unescaped.get((s & !IN_SCRATCH) as usize..e as usize) } else { text.get(s as usize..e as usize) }
    }

    fn clear(&mut self) {
        self.spans.clear();
        self.unescaped.clear();
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

/// Records of one chunk, one at a time.
pub struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Line of the next record, 1 for the chunk's first line.
    line: u64,
}

impl<'a> Scanner<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Scanner { bytes, pos: 0, line: 1 }
    }

    /// Continue at `pos`, on chunk line `line`.
    pub fn resume(bytes: &'a [u8], pos: usize, line: u64) -> Self {
        Scanner { bytes, pos, line }
    }

    /// Line breaks passed so far (after the last record: the chunk's line count).
    pub fn lines(&self) -> u64 {
        self.line - 1
    }

    /// Where the scanner is in the chunk.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Scan the next record into `f`; returns its first line, or `None` at the end of the chunk.
    /// Empty lines are skipped.
    pub fn next_record(&mut self, f: &mut Fields) -> Result<Option<u64>, ScanError> {
        let b = self.bytes;
        loop {
            match (b.get(self.pos), b.get(self.pos + 1)) {
                (None, _) => return Ok(None),
                (Some(b'\n'), _) => self.pos += 1,
                (Some(b'\r'), Some(b'\n')) => self.pos += 2,
                _ => break,
            }
            self.line += 1;
        }
        f.clear();
        let first_line = self.line;
        let mut p = self.pos;
        loop {
            let field = f.spans.len();
            let err = |reason| ScanError { line: first_line, field: Some(field), reason };
            if b.get(p) == Some(&b'"') {
                p = self.quoted(p + 1, f).ok_or_else(|| err("a quoted field is not closed"))?;
                match (b.get(p), b.get(p + 1)) {
                    (None, _) => return Ok(self.end(b.len(), first_line)),
                    (Some(b','), _) => p += 1,
                    (Some(b'\n'), _) => return Ok(self.end(p + 1, first_line)),
                    (Some(b'\r'), Some(b'\n')) => return Ok(self.end(p + 2, first_line)),
                    _ => return Err(err("text after the closing quote of a field (RFC 4180 quotes fields whole)")),
                }
            } else {
                match memchr3(b',', b'\n', b'"', &b[p..]) {
                    None => {
                        let e = if b.last() == Some(&b'\r') { b.len() - 1 } else { b.len() }.max(p);
                        f.spans.push((p as u32, e as u32));
                        return Ok(self.end(b.len(), first_line));
                    }
                    Some(i) => {
                        let at = p + i;
                        match b[at] {
                            b',' => {
                                f.spans.push((p as u32, at as u32));
                                p = at + 1;
                            }
                            b'\n' => {
                                let e = if at > p && b[at - 1] == b'\r' { at - 1 } else { at };
                                f.spans.push((p as u32, e as u32));
                                return Ok(self.end(at + 1, first_line));
                            }
                            _ => return Err(err("a quote inside a field that does not start with one (RFC 4180 quotes fields whole)")),
                        }
                    }
                }
            }
        }
    }

    fn end(&mut self, next: usize, first_line: u64) -> Option<u64> {
        self.pos = next;
        self.line += 1;
        Some(first_line)
    }

    /// A quoted field whose text starts at `s`: record it, return the position after its closing
    /// quote (`None` if it is not closed).
    fn quoted(&mut self, s: usize, f: &mut Fields) -> Option<usize> {
        let b = self.bytes;
        let mut q = s;
        let mut doubled = false;
        let end = loop {
            let at = q + memchr(b'"', &b[q..])?;
            if b.get(at + 1) == Some(&b'"') {
                doubled = true;
                q = at + 2;
            } else {
                break at;
            }
        };
        let text = &b[s..end];
        if memchr(b'\n', text).is_some() {
            self.line += count_byte(text, b'\n') as u64;
        }
        if doubled {
            let from = f.unescaped.len();
            // quotes and commas are ASCII: the pieces between them are whole UTF-8 sequences
            for (i, piece) in text.split(|c| *c == b'"').enumerate() {
                if i % 2 == 0 {
                    f.unescaped.push_str(std::str::from_utf8(piece).unwrap_or(""));
                } else {
                    f.unescaped.push('"');
                }
            }
            f.spans.push((from as u32 | IN_SCRATCH, f.unescaped.len() as u32));
        } else {
            f.spans.push((s as u32, end as u32));
        }
        Some(end + 1)
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
pub fn malformed(file: &str, line: u64, column: Option<usize>, column_name: Option<&str>, reason: impl Into<String>) -> IngestError {
    IngestError::MalformedCsv {
        at: Position { file: file.to_string(), line, column: column.map(|c| c as u64 + 1), column_name: column_name.map(str::to_string) },
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Result<Vec<Vec<String>>, ScanError> {
        let mut sc = Scanner::new(text.as_bytes());
        let mut f = Fields::default();
        let mut out = Vec::new();
        while sc.next_record(&mut f)?.is_some() {
            out.push((0..f.len()).map(|i| f.get(text, i).unwrap_or("?").to_string()).collect());
        }
        Ok(out)
    }

    #[test]
    fn fields_quotes_and_line_ends() {
        let got = records("a,b,c\n\"x,1\",\"say \"\"hi\"\"\",\r\n\n\"multi\nline\",,z").expect("parses");
        assert_eq!(got, vec![vec!["a", "b", "c"], vec!["x,1", "say \"hi\"", ""], vec!["multi\nline", "", "z"]]);
        assert_eq!(records("a,b\r\n").expect("crlf"), vec![vec!["a", "b"]]);
        assert_eq!(records("\"\"\"\"\n").expect("one quote"), vec![vec!["\""]]);
    }

    #[test]
    fn strict_quotes_are_errors_with_their_field() {
        assert_eq!(records("a,b\"c,d\n").map_err(|e| (e.line, e.field)), Err((1, Some(1))));
        assert_eq!(records("x\n\"a\"b,c\n").map_err(|e| (e.line, e.field)), Err((2, Some(0))));
        assert_eq!(records("x\ny,\"open\n").map_err(|e| (e.line, e.field)), Err((2, Some(1))));
    }

    #[test]
    fn line_numbers_count_quoted_line_breaks() {
        let text = "h\n\"a\nb\"\nc\n";
        let mut sc = Scanner::new(text.as_bytes());
        let mut f = Fields::default();
        let lines: Vec<u64> = std::iter::from_fn(|| sc.next_record(&mut f).expect("ok")).collect();
        assert_eq!(lines, vec![1, 2, 4]);
        assert_eq!(sc.lines(), 4);
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

    #[test]
    fn any_block_size_gives_the_same_records() {
        let text = "h1,h2\n\"a\nb\",1\nc,\"d,\"\"e\"\"\"\n,\n\"x\",y";
        for block in 1..text.len() + 2 {
            let mut ch = Chunker::new(text.as_bytes(), block);
            let (mut all, mut buf) = (Vec::new(), Vec::new());
            while ch.next_chunk(&mut buf, "t").expect("read") {
                all.extend(records(std::str::from_utf8(&buf).expect("utf8")).expect("parses"));
            }
            assert_eq!(all, records(text).expect("whole"), "block {block}");
        }
    }
}
