//! How hosts reach a [`Model`]: vm-device's `MutDevicePio` /
//! `MutDeviceMmio` (the BAR found from the bus range's base) and the
//! object-safe [`PciModel`] for hosts that serve any model.

use std::sync::Arc;

use vm_device::bus::{MmioAddress, MmioAddressOffset, PioAddress, PioAddressOffset};
use vm_device::{MutDeviceMmio, MutDevicePio};

use super::{AccessError, Model, Registers};
use crate::GuestMem;
use crate::ctx::InterruptSink;
use crate::info::DeviceInfo;
use crate::snapshot::SnapshotError;
use crate::trace::TraceSink;
use crate::window::WindowInfo;
use pcidev_core::VmmRequest;

/// I/O BAR accesses; `offset` is relative to the range base, and the BAR is
/// found with [`Model::bar_for_base`]. Errors are dropped (port I/O cannot
/// report them); reads are then all-ones.
impl<R: Registers> MutDevicePio for Model<R> {
    fn pio_read(&mut self, base: PioAddress, offset: PioAddressOffset, data: &mut [u8]) {
        let bar = self.bar_for_base(true, u64::from(base.0));
        let _ = self.bar_read(bar, u64::from(offset), data);
    }

    fn pio_write(&mut self, base: PioAddress, offset: PioAddressOffset, data: &[u8]) {
        let bar = self.bar_for_base(true, u64::from(base.0));
        let _ = self.bar_write(bar, u64::from(offset), data);
    }
}

/// Memory BAR accesses; as for [`MutDevicePio`].
impl<R: Registers> MutDeviceMmio for Model<R> {
    fn mmio_read(&mut self, base: MmioAddress, offset: MmioAddressOffset, data: &mut [u8]) {
        let bar = self.bar_for_base(false, base.0);
        let _ = self.bar_read(bar, offset, data);
    }

    fn mmio_write(&mut self, base: MmioAddress, offset: MmioAddressOffset, data: &[u8]) {
        let bar = self.bar_for_base(false, base.0);
        let _ = self.bar_write(bar, offset, data);
    }
}

/// Object-safe view of any [`Model`], for hosts that serve "any model"
/// (e.g. the vfio-user server). Each method forwards to the `Model` method of
/// the same name.
pub trait PciModel: Send {
    /// The static description of the device.
    fn info(&self) -> &'static DeviceInfo;
    /// See [`Model::config_read`].
    fn config_read(&mut self, offset: u64, data: &mut [u8]);
    /// See [`Model::config_write`].
    fn config_write(&mut self, offset: u64, data: &[u8]);
    /// See [`Model::bar_read`].
    fn bar_read(&mut self, bar: u8, offset: u64, data: &mut [u8]) -> Result<(), AccessError>;
    /// See [`Model::bar_write`].
    fn bar_write(&mut self, bar: u8, offset: u64, data: &[u8]) -> Result<(), AccessError>;
    /// See [`Model::reset`].
    fn reset(&mut self);
    /// See [`Model::set_interrupt_sink`].
    fn set_interrupt_sink(&mut self, sink: Box<dyn InterruptSink>);
    /// See [`Model::set_msix_masking_by_vmm`].
    fn set_msix_masking_by_vmm(&mut self, on: bool);
    /// See [`Model::set_guest_memory`].
    fn set_guest_memory(&mut self, mem: Option<Arc<GuestMem>>);
    /// See [`Model::set_trace`].
    fn set_trace(&mut self, sink: Option<Box<dyn TraceSink>>);
    /// See [`Model::interrupt_asserted`].
    fn interrupt_asserted(&self) -> bool;
    /// See [`Model::refresh_interrupt`].
    fn refresh_interrupt(&mut self);
    /// See [`Model::set_now`].
    fn set_now(&mut self, now: u64);
    /// See [`Model::next_deadline`].
    fn next_deadline(&self) -> Option<u64>;
    /// See [`Model::fire_due`].
    fn fire_due(&mut self, now: u64) -> usize;
    /// See [`Model::stream_ready`].
    fn stream_ready(&self, stream: usize) -> bool;
    /// See [`Model::stream_input`].
    fn stream_input(&mut self, stream: usize, byte: u8) -> bool;
    /// See [`Model::streams`].
    fn streams(&self) -> &'static [&'static str];
    /// See [`Model::take_output`].
    fn take_output(&mut self, stream: usize) -> Vec<u8>;
    /// See [`Model::take_vmm_requests`].
    fn take_vmm_requests(&mut self) -> Vec<VmmRequest>;
    /// See [`Model::windows`].
    fn windows(&self) -> &'static [WindowInfo] {
        &[]
    }
    /// See [`Model::save_snapshot`].
    fn save_snapshot(&self) -> Result<Vec<u8>, SnapshotError>;
    /// See [`Model::restore_snapshot`].
    fn restore_snapshot(&mut self, bytes: &[u8]) -> Result<(), SnapshotError>;
    /// See [`Model::now`].
    fn now(&self) -> u64;
    /// See [`Model::share_window`].
    fn share_window(
        &mut self,
        window: usize,
        file: std::fs::File,
        offset: u64,
    ) -> std::io::Result<(std::fs::File, u64)> {
        let _ = (window, file, offset);
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no windows",
        ))
    }
}

impl<R: Registers> PciModel for Model<R> {
    fn info(&self) -> &'static DeviceInfo {
        self.regs.info()
    }
    fn config_read(&mut self, offset: u64, data: &mut [u8]) {
        Model::config_read(self, offset, data)
    }
    fn config_write(&mut self, offset: u64, data: &[u8]) {
        Model::config_write(self, offset, data)
    }
    fn bar_read(&mut self, bar: u8, offset: u64, data: &mut [u8]) -> Result<(), AccessError> {
        Model::bar_read(self, bar, offset, data)
    }
    fn bar_write(&mut self, bar: u8, offset: u64, data: &[u8]) -> Result<(), AccessError> {
        Model::bar_write(self, bar, offset, data)
    }
    fn reset(&mut self) {
        Model::reset(self)
    }
    fn set_interrupt_sink(&mut self, sink: Box<dyn InterruptSink>) {
        Model::set_interrupt_sink(self, sink)
    }
    fn set_msix_masking_by_vmm(&mut self, on: bool) {
        Model::set_msix_masking_by_vmm(self, on)
    }
    fn set_guest_memory(&mut self, mem: Option<Arc<GuestMem>>) {
        Model::set_guest_memory(self, mem)
    }
    fn set_trace(&mut self, sink: Option<Box<dyn TraceSink>>) {
        Model::set_trace(self, sink)
    }
    fn interrupt_asserted(&self) -> bool {
        Model::interrupt_asserted(self)
    }
    fn refresh_interrupt(&mut self) {
        Model::refresh_interrupt(self)
    }
    fn set_now(&mut self, now: u64) {
        Model::set_now(self, now)
    }
    fn next_deadline(&self) -> Option<u64> {
        Model::next_deadline(self)
    }
    fn fire_due(&mut self, now: u64) -> usize {
        Model::fire_due(self, now)
    }
    fn stream_ready(&self, stream: usize) -> bool {
        Model::stream_ready(self, stream)
    }
    fn stream_input(&mut self, stream: usize, byte: u8) -> bool {
        Model::stream_input(self, stream, byte)
    }
    fn streams(&self) -> &'static [&'static str] {
        Model::streams(self)
    }
    fn take_output(&mut self, stream: usize) -> Vec<u8> {
        Model::take_output(self, stream)
    }
    fn take_vmm_requests(&mut self) -> Vec<VmmRequest> {
        Model::take_vmm_requests(self)
    }
    fn windows(&self) -> &'static [WindowInfo] {
        Model::windows(self)
    }
    fn save_snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        Model::save_snapshot(self)
    }
    fn restore_snapshot(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        Model::restore_snapshot(self, bytes)
    }
    fn now(&self) -> u64 {
        Model::now(self)
    }
    fn share_window(
        &mut self,
        window: usize,
        file: std::fs::File,
        offset: u64,
    ) -> std::io::Result<(std::fs::File, u64)> {
        Model::share_window(self, window, file, offset)
    }
}
