//! Test-only helpers for integration tests.
