//! Values a conversion could not use but did not need: an optional column that only feeds an
//! `x_` extension (an `exchangeRateDate` of `3/1/21`, a `costInUsd` of `n/a`) is stored as null and
//! counted here, so one odd value never fails a period and is never dropped silently. An unknown
//! `ChargeType` (mapped to the `Adjustment` category) is counted here too.

use crate::error::Position;

/// Examples kept per conversion (the first ones in file order); the count has them all.
pub const MAX_EXAMPLES: usize = 5;

/// One value that was stored as null.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    pub file: String,
    pub line: u64,
    /// 1-based field number.
    pub column: Option<u64>,
    /// The header's name of that column.
    pub column_name: Option<String>,
    /// The value as written (at most 80 characters).
    pub value: String,
    /// Why it was not used, and what was stored instead.
    pub reason: String,
}

impl Warning {
    pub(crate) fn new(at: Position, value: &str, reason: &str) -> Warning {
        Warning {
            file: at.file,
            line: at.line,
            column: at.column,
            column_name: at.column_name,
            value: value.chars().take(80).collect(),
            reason: reason.to_string(),
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
            if let Some(n) = &self.column_name {
                write!(f, " ({n})")?;
            }
        }
        write!(f, ": {}: {:?}", self.reason, self.value)
    }
}

/// The warnings of a conversion: how many, and the first [`MAX_EXAMPLES`] in file order (the
/// same whatever the chunk size or thread timing).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warnings {
    pub count: u64,
    pub examples: Vec<Warning>,
}

impl Warnings {
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Count one; keep it as an example while there is room (`make` runs only then: a file full
    /// of odd values allocates nothing past the examples).
    pub(crate) fn push(&mut self, make: impl FnOnce() -> Warning) {
        self.count += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(make());
        }
    }

    /// Append the warnings of the next chunk, whose lines count from 1 at the chunk's first line,
    /// which is line `first_line` of its file.
    pub(crate) fn append_chunk(&mut self, chunk: Warnings, first_line: u64) {
        self.count += chunk.count;
        for mut w in chunk.examples {
            if self.examples.len() >= MAX_EXAMPLES {
                break;
            }
            w.line += first_line - 1;
            self.examples.push(w);
        }
    }

    /// One line for people: `3 values could not be used as written (first: ...)`.
    pub fn summary(&self) -> String {
        match self.examples.first() {
            None => String::new(),
            Some(first) if self.count == 1 => {
                format!("1 value could not be used as written: {first}")
            }
            Some(first) => format!(
                "{} values could not be used as written (first: {first})",
                self.count
            ),
        }
    }
}
