//! The engine against the worked example of `../shared/data/engine/` and a row-by-row reference.

mod common;
mod example;
mod pivot;
mod property;
