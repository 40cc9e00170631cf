//! Helpers shared by the host's integration tests: each test file takes
//! `mod common;` and uses the part it needs, so a helper unused by one test
//! binary is not dead code.
//!
//! - [`process`]: the `pcidev-host` binary as a child process;
//! - [`client`]: vfio-user client shorthands (32-bit accesses, COMMAND,
//!   interrupt eventfds);
//! - [`served`]: a model served in-process on a fresh socket (also used by
//!   the `round_trip` bench);
//! - [`hostile`]: random hostile vfio-user message streams.

#![allow(dead_code)]

pub mod client;
pub mod hostile;
pub mod process;
pub mod served;
