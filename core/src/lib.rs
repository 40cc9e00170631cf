//! The vocabulary pcidevc's compiler and its runtime share.
//!
//! Everything a spec means that both sides must agree on has its one
//! definition here: the access kinds and what a guest write does to each
//! ([`access`]), BAR kinds and access policies ([`bar`]), the
//! configuration-space layout and capability placement ([`config`]), interrupt pins
//! ([`irq`]), the operators and their total semantics ([`ops`]), DMA outcomes
//! and the status codes a spec stores ([`dma`]), deterministic DMA data
//! ([`data`]), scenario steps ([`scenario`]), time limits ([`time`]), byte
//! stream limits ([`stream`]) and requests a device makes of its VMM
//! ([`vmm`]).
//!
//! The compiler (`pcidevc-dsl`) checks specs with these rules and puts these
//! types in its IR; the runtime (`pcidev-runtime`) executes them; the code
//! generators emit calls into them. The crate has no dependencies (serde
//! derives behind the `serde` feature) and every type is plain data,
//! constructible in `const` context, so generated models can hold it in
//! `const` tables.

#![warn(missing_docs)]

pub mod access;
pub mod bar;
pub mod config;
pub mod data;
pub mod dma;
pub mod irq;
pub mod ops;
pub mod scenario;
pub mod space;
pub mod stream;
pub mod time;
pub mod vmm;

pub use access::AccessKind;
pub use bar::{AccessPolicy, AccessSizes, BarKind, InvalidAccess, Unmapped};
pub use data::{Data, Xorshift32};
pub use dma::DmaOutcome;
pub use irq::{IntxPin, IrqOp};
pub use ops::{AssignOp, BinOp, UnOp};
pub use space::Space;
pub use vmm::VmmRequest;
