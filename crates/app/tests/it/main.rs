//! The use cases against the Azure simulator, with the job runner driven by hand: two servers
//! on one database, concurrency, retries, deletion during a sync, and the runner's log spans.

mod closing;
mod harness;
mod invoicing;
mod jobs;
mod sync;
