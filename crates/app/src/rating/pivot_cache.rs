//! Recent pivot results (the analysis and the dashboard), keyed by the whole query, which names
//! the run folders it reads. A run folder (`rated/{org}/{period}/{run}`) is one rating run's
//! identity and is written once: a new rating of a period is a new folder, so a query over it is
//! a new key and misses, while the results over the old run are never served again and age out.
//! The key holding the run and not the period is what makes the cache right across processes too
//! (a worker rates, a server answers: both read the current run from the store).
//!
//! Bounded: at most [`MAX_ENTRIES`] results and [`MAX_ROWS`] grouped rows in all, least recently
//! used first out; a result larger than a quarter of that is not kept.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::port::{GroupedRow, PivotInput};
use crate::{App, Result};

pub(crate) const MAX_ENTRIES: usize = 64;
pub(crate) const MAX_ROWS: usize = 100_000;

#[derive(Default)]
pub(crate) struct PivotCache {
    /// Most recently used first.
    entries: Mutex<VecDeque<(PivotInput, Vec<GroupedRow>)>>,
}

impl PivotCache {
    fn get(&self, q: &PivotInput) -> Option<Vec<GroupedRow>> {
        let mut entries = self.entries.lock().ok()?;
        let at = entries.iter().position(|(k, _)| k == q)?;
        let hit = entries.remove(at)?;
        let rows = hit.1.clone();
        entries.push_front(hit);
        Some(rows)
    }

    fn put(&self, q: PivotInput, rows: &[GroupedRow]) {
        if rows.len() > MAX_ROWS / 4 {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        entries.retain(|(k, _)| *k != q);
        entries.push_front((q, rows.to_vec()));
        let mut held: usize = entries.iter().map(|(_, r)| r.len()).sum();
        while entries.len() > MAX_ENTRIES || held > MAX_ROWS {
            match entries.pop_back() {
                Some((_, r)) => held -= r.len(),
                None => break,
            }
        }
    }
}

impl App {
    /// The engine's pivot, answered from the cache when the same query read the same runs.
    pub(crate) async fn cached_pivot(&self, q: PivotInput) -> Result<Vec<GroupedRow>> {
        if let Some(hit) = self.pivot_cache.get(&q) {
            return Ok(hit);
        }
        let rows = self.engine()?.pivot(q.clone()).await?;
        self.pivot_cache.put(q, &rows);
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(run: &str) -> PivotInput {
        PivotInput {
            runs: vec![run.into()],
            group_by: vec![],
            filter: be_domain::pricing::Filter::default(),
            sums: vec!["BilledCost".into()],
            by_period: false,
        }
    }

    fn rows(n: usize) -> Vec<GroupedRow> {
        (0..n)
            .map(|i| GroupedRow {
                keys: vec![Some(i.to_string())],
                currency: None,
                rows: 1,
                sums: Default::default(),
            })
            .collect()
    }

    #[test]
    fn the_cache_is_bounded_in_entries_and_rows_least_recently_used_out() {
        let c = PivotCache::default();
        for i in 0..MAX_ENTRIES + 5 {
            c.put(query(&format!("rated/o/2026-10/{i}")), &rows(1));
        }
        assert!(c.get(&query("rated/o/2026-10/0")).is_none());
        assert!(c.get(&query("rated/o/2026-10/5")).is_some());
        assert_eq!(c.entries.lock().expect("lock").len(), MAX_ENTRIES);
        // Rows: 5 results of a fifth of the budget each keep 4 (the least recently used goes).
        let c = PivotCache::default();
        for i in 0..5 {
            c.put(query(&format!("r/{i}")), &rows(MAX_ROWS / 4));
        }
        assert!(c.get(&query("r/0")).is_none());
        assert!(c.get(&query("r/4")).is_some());
        // A result larger than a quarter of the budget is not kept.
        c.put(query("big"), &rows(MAX_ROWS / 4 + 1));
        assert!(c.get(&query("big")).is_none());
    }
}
