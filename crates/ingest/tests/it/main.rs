//! be-ingest integration tests: one binary, one module per story.

mod chunking;
mod common;
mod focus;
mod foreign;
mod golden;
mod layouts;
mod malformed;
mod reconcile;
mod store;
mod validate;
