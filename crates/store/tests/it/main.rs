//! The shared store story: every test here runs once against SQLite and once against PostgreSQL
//! (the server at 127.0.0.1:5432, or BILLING_ENGINE_TEST_PG_URL), each in a database of its own.

mod access;
mod harness;
mod invoices;
mod jobs;
mod rating;
mod story;
