//! The static description of a device, emitted by generated code as `const`s.
//!
//! Everything here is plain data, constructible in `const` context, so a
//! generated model is a handful of `const` items plus one `Registers` impl.
//! The runtime never trusts this data blindly: a malformed description (a BAR
//! index above 5, an unsorted register layout, a register wider than 8 bytes)
//! makes the affected part inert, it never causes a panic.

pub use pcidev_core::bar::{AccessPolicy, AccessSizes, BarKind, InvalidAccess, Unmapped};
pub use pcidev_core::irq::IntxPin;

/// Identity, BARs, interrupt and MSI of one PCI function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device name (for traces and diagnostics).
    pub name: &'static str,
    /// PCI vendor id (config 0x00).
    pub vendor_id: u16,
    /// PCI device id (config 0x02).
    pub device_id: u16,
    /// Revision id (config 0x08).
    pub revision: u8,
    /// `[base class, subclass, prog-if]` (config 0x0b, 0x0a, 0x09).
    pub class_code: [u8; 3],
    /// Subsystem vendor id (config 0x2c).
    pub subsystem_vendor_id: u16,
    /// Subsystem id (config 0x2e).
    pub subsystem_id: u16,
    /// The legacy interrupt pin, `None` when the device has no INTx.
    pub interrupt_pin: Option<IntxPin>,
    /// The BARs, sorted by index.
    pub bars: &'static [BarInfo],
    /// MSI capability, if any (placed at config offset 0x40).
    pub msi: Option<MsiInfo>,
    /// MSI-X capability, if any (placed at config offset 0x50; its table
    /// and PBA live in memory BARs).
    pub msix: Option<MsixInfo>,
    /// Registers in configuration space: absolute offsets in 0x40..0x100,
    /// sorted, non-overlapping, at most 4 bytes wide (those that are not
    /// are left out by the runtime). Served through
    /// [`Registers::read_config_register`](crate::Registers::read_config_register).
    pub config_registers: &'static [RegisterLayout],
    /// Vendor-specific capabilities (id 0x09) the spec places, sorted by
    /// offset.
    pub vendor_capabilities: &'static [VendorCapInfo],
}

impl DeviceInfo {
    /// The BAR declared with `index`, if any.
    pub fn bar(&self, index: u8) -> Option<&'static BarInfo> {
        self.bars.iter().find(|b| b.index == index)
    }
}

/// The MSI capability of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiInfo {
    /// Number of vectors the device requests: a power of two, 1..=32.
    /// Other values are rounded down to a power of two and clamped to 1..=32.
    pub vectors: u8,
}

impl MsiInfo {
    /// log2 of the vector count as encoded in the Multiple Message Capable
    /// field (0..=5).
    pub const fn mmc(&self) -> u8 {
        let v = if self.vectors == 0 { 1 } else { self.vectors };
        let log = 7 - v.leading_zeros() as u8;
        if log > 5 { 5 } else { log }
    }
}

/// The MSI-X capability of a device: vector count and where its table and
/// pending bit array (PBA) sit. The runtime serves both in their BARs (see
/// `msix.rs`); offsets are used with their low 3 bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsixInfo {
    /// Number of vectors, 1..=2048 (other values are clamped).
    pub vectors: u16,
    /// BAR index (BIR) of the table.
    pub table_bar: u8,
    /// Byte offset of the table in its BAR (8-byte aligned).
    pub table_offset: u32,
    /// BAR index (BIR) of the PBA.
    pub pba_bar: u8,
    /// Byte offset of the PBA in its BAR (8-byte aligned).
    pub pba_offset: u32,
}

impl MsixInfo {
    /// The vector count clamped to 1..=2048.
    pub const fn vector_count(&self) -> u16 {
        match self.vectors {
            0 => 1,
            v if v > 2048 => 2048,
            v => v,
        }
    }
}

/// A vendor-specific capability (id 0x09): the runtime writes its header
/// (id, next pointer, length byte) and links it into the capability list;
/// the rest of its bytes are the device's registers (bytes without one read
/// 0 and ignore writes, as a QEMU capability does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorCapInfo {
    /// Absolute configuration-space offset (dword aligned, >= 0x40).
    pub offset: u8,
    /// Bytes, header included (the length byte).
    pub len: u8,
}

/// One base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarInfo {
    /// BAR index 0..=5. A 64-bit BAR occupies `index` and `index + 1`.
    pub index: u8,
    /// I/O, 32-bit or 64-bit memory.
    pub kind: BarKind,
    /// Size in bytes, a power of two. Accesses at or beyond `size` are
    /// invalid. (For BAR sizing the window is at least 4 bytes for I/O and
    /// 16 bytes for memory, as PCI requires.)
    pub size: u64,
    /// Which accesses are valid and what an invalid one does.
    pub policy: AccessPolicy,
    /// The registers of this BAR, sorted by offset, non-overlapping.
    pub registers: &'static [RegisterLayout],
}

/// One register inside a BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegisterLayout {
    /// Register name.
    pub name: &'static str,
    /// Byte offset inside the BAR.
    pub offset: u64,
    /// Width in bytes: 1, 2, 4 or 8.
    pub width: u8,
    /// Access lengths this register accepts on top of its BAR's policy
    /// (an access overlapping it with another length is invalid);
    /// `AccessSizes(0)` means "whatever the BAR allows".
    pub sizes: AccessSizes,
    /// Elements of a register array (`register NAME[N]`): `count` registers
    /// of `width` bytes, back to back from `offset`, one entry for all (so
    /// the layout does not grow with the array). 0 and 1: one register.
    pub count: u32,
}

impl RegisterLayout {
    /// A register accepting whatever its BAR allows (generated code's
    /// compact form: one line per register).
    pub const fn new(name: &'static str, offset: u64, width: u8) -> Self {
        RegisterLayout {
            name,
            offset,
            width,
            sizes: AccessSizes(0),
            count: 1,
        }
    }

    /// The same register as an array of `count` elements (`NAME[count]`).
    pub const fn array(self, count: u32) -> Self {
        RegisterLayout { count, ..self }
    }

    /// Elements: `count`, at least 1.
    pub const fn elements(&self) -> u64 {
        if self.count == 0 {
            1
        } else {
            self.count as u64
        }
    }

    /// The same register, narrowed to `sizes`.
    pub const fn with_sizes(self, sizes: AccessSizes) -> Self {
        RegisterLayout { sizes, ..self }
    }

    /// Width in bytes, clamped to 1..=8 so a malformed layout cannot make
    /// the runtime shift out of range.
    pub const fn clamped_width(&self) -> u64 {
        match self.width {
            0 => 1,
            w if w > 8 => 8,
            w => w as u64,
        }
    }

    /// One past the last byte of the register, or of the array's last
    /// element (saturating).
    pub const fn end(&self) -> u64 {
        self.offset
            .saturating_add(self.clamped_width().saturating_mul(self.elements()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msi_mmc() {
        let mmc = |vectors| MsiInfo { vectors }.mmc();
        assert_eq!(mmc(1), 0);
        assert_eq!(mmc(2), 1);
        assert_eq!(mmc(4), 2);
        assert_eq!(mmc(32), 5);
        assert_eq!(mmc(0), 0);
        assert_eq!(mmc(3), 1);
        assert_eq!(mmc(255), 5);
    }
}
