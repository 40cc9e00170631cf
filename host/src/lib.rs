//! Serves a generated device model to QEMU over vfio-user.
//!
//! A [`DeviceServer`] listens on a Unix socket, accepts one vfio-user client
//! (QEMU's `vfio-user-pci`) and serves any [`PciModel`] to it:
//!
//! - region 7 (PCI configuration space, 256 bytes) goes to
//!   [`PciModel::config_read`] / [`PciModel::config_write`];
//! - regions 0–5 (the BARs declared in [`DeviceInfo::bars`], I/O and memory
//!   alike) go to [`PciModel::bar_read`] / [`PciModel::bar_write`];
//! - `DMA_MAP` file descriptors (QEMU's shared memfd guest RAM) are mmapped
//!   into a vm-memory [`GuestMem`] handed to the model
//!   ([`PciModel::set_guest_memory`], rebuilt on every map and unmap);
//! - `SET_IRQS` eventfds carry the model's INTx line (irq index 0, level
//!   semantics with VFIO's automask/unmask, see [`irq`]) and its MSI vectors
//!   (irq index 1);
//! - `DEVICE_RESET` resets the model.
//!
//! The vfio-user protocol itself is spoken by the rust-vmm `vfio_user`
//! crate's [`vfio_user::Server`]; this crate implements its
//! [`vfio_user::ServerBackend`] ([`ModelBackend`]). Because that server
//! trusts the sizes in every message (a short or unterminated `VERSION`
//! message makes it panic, an unexpected message body desynchronises it),
//! every client message first passes a framing guard ([`guard`]) that reads
//! it whole, checks it against the layout of its command and ends the
//! connection with [`HostError::Malformed`] when it does not fit. Region
//! reads and writes (guest MMIO and config accesses, the hot path) are then
//! answered by the guard's thread itself when no earlier command is still in
//! the crate's server (one `recvmsg` into a reused buffer, [`inbox`], and one
//! write of a reply built in another: no allocation per access);
//! everything else is forwarded to it.
//!
//! [`registry`] lists the models the `pcidev-host` binary can serve by name;
//! [`toy`] is a small test model.
//!
//! [`PciModel`]: pcidev_runtime::PciModel
//! [`PciModel::config_read`]: pcidev_runtime::PciModel::config_read
//! [`PciModel::config_write`]: pcidev_runtime::PciModel::config_write
//! [`PciModel::bar_read`]: pcidev_runtime::PciModel::bar_read
//! [`PciModel::bar_write`]: pcidev_runtime::PciModel::bar_write
//! [`PciModel::set_guest_memory`]: pcidev_runtime::PciModel::set_guest_memory
//! [`DeviceInfo::bars`]: pcidev_runtime::DeviceInfo::bars
//! [`GuestMem`]: pcidev_runtime::GuestMem

mod backend;
mod dma;
mod error;
pub mod events;
pub mod guard;
pub mod inbox;
pub mod irq;
pub mod jail;
pub mod lateness;
pub mod layout;
pub mod registry;
pub mod replay;
mod server;
pub mod snapshot;
pub mod streams;
pub mod toy;
pub mod vmm;
pub mod windows;

pub use backend::{BackendStats, ModelBackend};
pub use error::HostError;
pub use server::{Connection, DeviceServer, Disconnect, SocketCleanup};
