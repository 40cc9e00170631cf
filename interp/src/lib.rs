//! pcidev-interp: serve any `.pcidev` spec as a device model without
//! compiling Rust.
//!
//! [`Spec::load`] compiles a spec with the same front end as `pcidevc`
//! (`pcidevc-dsl`) and prepares its IR once; [`Interp`] is one device of
//! it, implementing the runtime's [`Registers`](pcidev_runtime::Registers)
//! with **exactly** the semantics of the model the `pcidevc` backend
//! generates for the same spec: register layout and access policies (the
//! same `DeviceInfo`), access kinds, computed reads, `on read`/`on write`
//! actions, DMA, INTx (latched or a derived `level`) and MSI, hooks (traced
//! on every call), windows (buffers shown in BARs, as `pcidev_runtime::Bytes`,
//! reset in place) and `access.size` / `access.mask`, reset, and the trace;
//! and language v2's timers, byte streams, FIFO and `sticky` states, `let`,
//! `fn` and VMM requests, through the runtime's clock, stream queues and
//! request queue exactly as generated code calls them; and snapshots, with
//! the generated model's layout and bytes. Wrapped in the runtime's
//! [`Model`](pcidev_runtime::Model) it is a complete PCI function; the
//! differential test (`tests/differential.rs`) drives generated and
//! interpreted models with the same random accesses, time advances and
//! stream input and requires identical results, state, output, VMM
//! requests and traces.
//!
//! ```
//! use pcidev_interp::{DefaultHooks, Spec};
//!
//! let spec = Spec::load_str("scratch.pcidev", r#"
//!     device scratch {
//!         id 0x1234:0x0001;
//!         bar 0 mem32 size 16 {
//!             register DATA @ 0x0 : u32 rw = 7;
//!         }
//!     }
//! "#).unwrap();
//! let mut model = spec.model(Box::new(DefaultHooks::quiet()));
//! model.config_write(0x04, &pcidev_runtime::COMMAND_MEMORY_SPACE.to_le_bytes());
//! let mut v = [0; 4];
//! model.bar_read(0, 0, &mut v).unwrap();
//! assert_eq!(u32::from_le_bytes(v), 7);
//! ```
//!
//! Hooks: an [`Interp`] calls a [`Hooks`] object; [`DefaultHooks`] answers
//! every hook with 0 and reports each once on stderr.
//!
//! Adding an IR construct: the evaluator's `match`es (`eval.rs`) name every
//! variant of `ir::Expr`, `ir::Stmt`, `ir::Place`, ... without wildcards,
//! so a new variant fails to compile until it is interpreted here.

mod device;
pub mod diff;
mod eval;
mod hooks;
mod spec;

pub use device::{Interp, StateView, StorageView};
pub use hooks::{DefaultHooks, FnHooks, Hooks};
pub use spec::{LoadError, Spec};
