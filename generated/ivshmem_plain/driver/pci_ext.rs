// SPDX-License-Identifier: GPL-2.0
// Written by pcidevc 0.1.0 (language 2).
//
// Support file of pcidevc's generated drivers, copied verbatim into every driver. Do not edit: it
// is rewritten whenever the driver is generated.

//! What Linux 7.3's `kernel::pci` lacks for a generated driver: a device id for any vendor, and
//! mapping a memory BAR only after checking that it is one.

use kernel::{
    bindings,
    device::Bound,
    io::Io,
    pci,
    prelude::*, //
};

/// `PCI_DEVICE(vendor, device)` for any vendor id: 7.3's `pci::Vendor` only names some vendors
/// and keeps its raw constructor private, so the id is built as the C `struct pci_device_id`.
pub(crate) const fn pci_device_id(vendor: u16, device: u16) -> pci::DeviceId {
    let raw = bindings::pci_device_id {
        vendor: vendor as u32,
        device: device as u32,
        subvendor: !0,
        subdevice: !0,
        ..pin_init::zeroed()
    };
    // SAFETY: `pci::DeviceId` implements the unsafe trait `RawDeviceId` with
    // `RawType = bindings::pci_device_id`, whose contract is that the two are layout-compatible;
    // `pci::DeviceId` is a `#[repr(transparent)]` wrapper that adds no invariant (the kernel casts
    // any `*const pci_device_id` to `&pci::DeviceId` in its probe callback).
    unsafe { core::mem::transmute::<bindings::pci_device_id, pci::DeviceId>(raw) }
}

/// Maps memory BAR `index`, after checking that the device's BAR really is memory: a `pci::Bar`
/// on an I/O BAR would use port numbers as memory addresses.
#[allow(dead_code, reason = "a device without memory BARs maps none")]
pub(crate) fn map_memory_bar<'a, const SIZE: usize>(
    pdev: &'a pci::Device<Bound>,
    index: u8,
    name: &'static CStr,
) -> Result<pci::Bar<'a, SIZE>> {
    let config = pdev.config_space();
    let bar = config.try_read32(0x10 + 4 * usize::from(index))?;
    if bar & 1 != 0 {
        dev_err!(pdev, "BAR {} is I/O space, the spec says memory\n", index);
        return Err(ENODEV);
    }
    pdev.iomap_region_sized::<SIZE>(u32::from(index), name)
}
