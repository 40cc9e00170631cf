//! Helpers shared by the host's integration tests.

pub mod hostile;
