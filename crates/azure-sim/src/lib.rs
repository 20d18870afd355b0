//! The Azure simulator.
pub mod clock;
pub mod error;
pub mod generator;
pub(crate) mod jwt;
pub(crate) mod rng;
