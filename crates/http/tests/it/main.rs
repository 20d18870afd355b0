//! End-to-end tests of the HTTP edge: the real router on a real port, a fresh SQLite database
//! per test, driven over HTTP like a client or a browser would.

mod api;
mod audit;
mod connect;
mod console;
mod console_analysis;
mod console_invoicing;
mod console_once;
mod console_pricing;
mod contract;
mod harness;
mod roles;
mod security;
mod stub_engine;
