//! The typed intermediate representation every backend consumes.
//!
//! Produced by [`crate::check`] only when a spec has no errors, so backends
//! can rely on its invariants without re-checking:
//! - names are valid identifiers in their case (registers UPPER_SNAKE,
//!   everything else lower_snake) and unique in their namespace;
//! - every reference is resolved to an index ([`RegId`], [`StateId`], ...);
//! - BARs are sorted by index, each BAR's registers by offset, registers
//!   never overlap and lie inside their BAR at a width the BAR allows;
//! - a register with storage has at least one field (a register declared
//!   `REG : u32 rw = 1;` gets one implicit field covering all its bits);
//!   fields never overlap and resets fit;
//! - expressions nest at most [`crate::parse::MAX_EXPR_DEPTH`] operators deep;
//! - `let`s and `fn`s are not recursive (directly or through each other), so
//!   [`Expr::Let`] and [`Expr::Fn`] can be emitted as plain functions, and a
//!   `fn` body refers only to its parameters ([`Expr::Param`]), constants and
//!   other `fn`s;
//! - FIFO operations name FIFO states, `.running` / `.remaining` timers,
//!   `.space` streams; `byte` appears only in a stream's `on input`.
//!
//! Runtime semantics (what the model backend implements and the driver
//! assumes) are documented on each type.

pub use pcidev_core::access::{AccessKind, WriteMasks, low_mask};
pub use pcidev_core::bar::{AccessPolicy, AccessSizes, BarKind, InvalidAccess, Unmapped};
pub use pcidev_core::data::Data;
pub use pcidev_core::dma::DmaOutcome;
pub use pcidev_core::irq::{IntxPin, IrqOp};
pub use pcidev_core::ops::{AssignOp, BinOp, UnOp};
pub use pcidev_core::scenario::{Cmp, Loc, Probe, StepValue};
pub use pcidev_core::space::Space;
pub use pcidev_core::time::TimeUnit;
pub use pcidev_core::vmm::VmmRequest;

/// The newest language version this compiler reads (`language N;`). Every
/// older version is a subset of it: a v1 spec is a valid v2 spec.
pub const LANGUAGE_VERSION: u64 = 2;

mod bar;
mod device;
mod expr;
mod interrupt;
mod level;
mod register;
mod scenario;
mod state;
mod stmt;

pub use bar::{Bar, Capability, CapabilityKind, Window};
pub use device::Device;
pub use expr::Expr;
pub use interrupt::{Ack, Interrupt, Msix};
pub use level::LevelInputs;
pub use register::{ArrayElem, Field, Register};
pub use scenario::{Scenario, Step, StepKind};
pub use state::{Function, Hook, Let, MAX_FIFO, State, Stream, Timer, Type};
pub use stmt::{DmaDest, Place, Source, Stmt};

/// A register: an index into [`Device::registers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegId(pub usize);
/// A state: an index into [`Device::states`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub usize);
/// A hook: an index into [`Device::hooks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HookId(pub usize);
/// A timer: an index into [`Device::timers`] (also the runtime's timer
/// number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub usize);
/// A byte stream: an index into [`Device::streams`] (also the runtime's
/// stream number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub usize);
/// A named expression: an index into [`Device::lets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LetId(pub usize);
/// A pure function: an index into [`Device::fns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnId(pub usize);
