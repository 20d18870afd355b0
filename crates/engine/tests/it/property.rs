//! Placeholder for the property test (next).
