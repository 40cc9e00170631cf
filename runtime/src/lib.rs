//! What every generated device model links: PCI configuration space, BAR
//! decoding and access policy, the INTx line and MSI, DMA over vm-memory, a
//! clock with timers, byte-stream queues, VMM requests, and tracing.
//!
//! A generated model is a set of `const` [`DeviceInfo`] items plus one
//! [`Registers`] impl; wrapping it in a [`Model`] gives a complete PCI
//! function that a rust-vmm host plugs in through vm-device's
//! [`MutDevicePio`](vm_device::MutDevicePio) /
//! [`MutDeviceMmio`](vm_device::MutDeviceMmio), or through the object-safe
//! [`PciModel`] (the vfio-user server).
//!
//! [`Model::save_snapshot`] / [`Model::restore_snapshot`] save and restore
//! the whole state (runtime and device) in the versioned format of
//! [`snapshot`], which generated models and the interpreter share.
//!
//! # BAR accesses
//!
//! [`Model::bar_read`] / [`Model::bar_write`] (and the vm-device impls, whose
//! offsets are relative to the BAR base):
//!
//! 1. A BAR the device does not have: `Err(AccessError)`, reads all-ones.
//! 2. COMMAND.IO (I/O BARs) or COMMAND.MEM (memory BARs) clear: reads
//!    all-ones, writes dropped, `Ok`.
//! 3. A length the BAR's [`AccessPolicy`] does not allow (0, 3, 5..=7 and
//!    above 8 never are), `offset + len` beyond the BAR size, or a misaligned
//!    offset when the policy requires alignment: the policy's
//!    [`InvalidAccess`] (`Ignore`: reads 0; `AllOnes`: reads 0xff; `Error`:
//!    `Err`, reads 0xff; writes are always dropped).
//! 4. Otherwise the access is split over the registers it overlaps: each is
//!    read once with [`Registers::read_register`], or written once with the
//!    bytes positioned in the register and a lane mask. Bytes that no
//!    register covers read 0 and ignore writes.
//!
//! # Configuration space
//!
//! [`Model::config_read`] / [`Model::config_write`] serve the standard
//! header, the capability list and device-specific memory from
//! [`ConfigSpace`], and the spec's configuration-space registers
//! ([`DeviceInfo::config_registers`]) from the model, through
//! [`Registers::read_config_register`] / [`Registers::write_config_register`]
//! with the same splitting as BAR accesses (step 4 above); configuration
//! accesses are never invalid.
//!
//! Every access is traced with its outcome. After every BAR access and every
//! config write the interrupt level is recomputed: STATUS.interrupt follows
//! it, and the INTx line the [`InterruptSink`] sees is
//! `level && !COMMAND.INTX_DISABLE && pin present && !MSI enabled`; the sink
//! hears only edges.
//!
//! # Guest memory
//!
//! DMA goes through vm-memory 0.18's [`GuestMemoryMmap<()>`](GuestMem)
//! (in 0.18 the `GuestMemory` trait of older releases is named
//! `GuestMemoryBackend`). A host mapping guest RAM from file descriptors
//! builds it with `MmapRegion::from_file`, `GuestRegionMmap::new` and
//! `GuestMemoryMmap::from_regions`, and installs a new one whenever its
//! memory map changes. Both crates are re-exported so hosts and generated
//! code use the same versions.
//!
//! # Example: the shape of a generated model
//!
//! ```
//! use pcidev_runtime::*;
//!
//! const INFO: DeviceInfo = DeviceInfo {
//!     name: "hello",
//!     vendor_id: 0x1337,
//!     device_id: 0x0001,
//!     revision: 0,
//!     class_code: [0xff, 0x00, 0x00],
//!     subsystem_vendor_id: 0,
//!     subsystem_id: 0,
//!     interrupt_pin: Some(IntxPin::B),
//!     bars: &[BarInfo {
//!         index: 1,
//!         kind: BarKind::Mem32 { prefetchable: false },
//!         size: 64,
//!         policy: AccessPolicy { sizes: AccessSizes::B4, aligned: true, invalid: InvalidAccess::Ignore, unmapped: Unmapped::Zero },
//!         registers: &[
//!             RegisterLayout { name: "IRQ", offset: 0, width: 4, sizes: AccessSizes(0), count: 1 },
//!             RegisterLayout { name: "ID", offset: 4, width: 4, sizes: AccessSizes(0), count: 1 },
//!         ],
//!     }],
//!     msi: None,
//!     msix: None,
//!     config_registers: &[],
//!     vendor_capabilities: &[],
//! };
//!
//! #[derive(Debug)]
//! struct Hello { irq: u32, id: u32 }
//!
//! impl Registers for Hello {
//!     fn info(&self) -> &'static DeviceInfo { &INFO }
//!     fn read_register(&mut self, _ctx: &mut DeviceCtx, _bar: u8, reg: usize) -> u64 {
//!         match reg { 0 => self.irq.into(), 1 => self.id.into(), _ => 0 }
//!     }
//!     fn write_register(&mut self, _ctx: &mut DeviceCtx, _bar: u8, reg: usize, value: u64, _lanes: u8) {
//!         match reg {
//!             0 => self.irq = u32::from(value != 0),
//!             1 => self.id = value as u32, // the policy only lets whole 4-byte writes through
//!             _ => {}
//!         }
//!     }
//!     fn interrupt_level(&self, _ctx: &DeviceCtx) -> bool { self.irq != 0 }
//!     fn reset(&mut self) { *self = Hello { irq: 0, id: 0x1337 }; }
//! }
//!
//! let mut model = Model::new(Hello { irq: 0, id: 0x1337 });
//! model.config_write(0x04, &COMMAND_MEMORY_SPACE.to_le_bytes());
//! let mut id = [0; 4];
//! model.bar_read(1, 4, &mut id).unwrap();
//! assert_eq!(u32::from_le_bytes(id), 0x1337);
//! model.bar_write(1, 0, &1u32.to_le_bytes()).unwrap();
//! assert!(model.interrupt_asserted());
//! model.bar_write(1, 0, &[0]).unwrap(); // 1-byte write: not allowed, ignored
//! assert!(model.interrupt_asserted());
//! ```

#![warn(missing_docs)]

pub mod bus;
mod clock;
mod config;
mod ctx;
mod fifo;
mod info;
mod model;
mod msix;
pub mod ops;
pub mod scenario;
pub mod snapshot;
mod stream;
mod trace;
mod window;

pub use vm_device;
pub use vm_memory;

pub use bus::{BusError, MappedBar, program_bars, register_bars};
pub use clock::Timers;
pub use config::{
    COMMAND_BUS_MASTER, COMMAND_INTX_DISABLE, COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE,
    COMMAND_WRITABLE, CONFIG_SPACE_SIZE, CapKind, ConfigSpace, DEVICE_SPECIFIC, MSI_CAP_ID,
    MSI_CAP_OFFSET, MSI_CONTROL_64BIT, MSI_CONTROL_ENABLE, MsiMessage, PlacedCapability,
    STATUS_CAPABILITIES, STATUS_INTERRUPT,
};
pub use ctx::{DeviceCtx, InterruptSink, MAX_DMA_LEN, MAX_VMM_PENDING};
pub use fifo::{DynFifo, Fifo};
pub use info::{
    AccessPolicy, AccessSizes, BarInfo, BarKind, DeviceInfo, IntxPin, InvalidAccess, MsiInfo,
    MsixInfo, RegisterLayout, Unmapped, VendorCapInfo,
};
pub use model::{AccessError, Level, MAX_ADVANCE_FIRINGS, Model, NO_BAR, PciModel, Registers};
pub use msix::{
    MSIX_CAP_ID, MSIX_CAP_OFFSET, MSIX_CONTROL_ENABLE, MSIX_CONTROL_FUNCTION_MASK, MSIX_ENTRY_SIZE,
    MSIX_MAX_VECTORS, MsixArea, MsixSend, MsixState,
};
pub use pcidev_core::data::{Data, Xorshift32, ZERO_SEED_REPLACEMENT};
pub use pcidev_core::{self as core_types, Space, VmmRequest};
pub use snapshot::{SnapshotError, StateDecl, StateKind, StateLayout, StateValue};
pub use stream::{MAX_INPUT_CHUNK, Outputs, QUEUE_BYTES};
pub use window::{Bytes, WindowInfo};

/// `len` bytes of the xorshift32 stream from `seed` (see
/// [`pcidev_core::data`] for the algorithm).
pub fn random_bytes(seed: u32, len: usize) -> Vec<u8> {
    Data::Random(seed).bytes(len)
}

/// `len` copies of `byte`.
pub fn pattern_bytes(byte: u8, len: usize) -> Vec<u8> {
    Data::Pattern(byte).bytes(len)
}
pub use trace::{
    AccessOutcome, DMA_STATUS_BAD_BUFFER_RANGE, DmaDirection, DmaOutcome, InvalidReason,
    JsonLinesTrace, TraceBuffer, TraceEvent, TraceSink, fnv1a64,
};

/// The guest memory type DMA uses: vm-memory 0.18's mmap-backed collection
/// of regions without a dirty bitmap.
pub type GuestMem = vm_memory::GuestMemoryMmap<()>;
