//! Tests of the `billing-engine` binary as a user runs it: real processes, real ports, SQLite and
//! PostgreSQL, a real headless Chromium for the console.

mod architecture;
mod browser;
mod browser_invoices;
mod commands;
mod contract;
mod files;
mod invoices;
mod process;
mod rating;
mod sync;
