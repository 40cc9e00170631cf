//! Type-0 PCI configuration space (256 bytes) with BAR sizing, COMMAND/STATUS
//! semantics, the interrupt line/pin registers and an MSI capability at 0x40.
//!
//! The space is not stored as a byte image: each dword is computed from the
//! device description plus the few writable fields, so read-only bits cannot
//! drift and reset is trivially complete. Accesses of any offset and length
//! are handled byte by byte: bytes beyond offset 0xff read 0xff and ignore
//! writes; inside the header, unimplemented registers read 0 and ignore
//! writes.
//!
//! Layout (all other offsets read 0):
//!
//! | offset | register | writable |
//! |---|---|---|
//! | 0x00 | vendor id, device id | no |
//! | 0x04 | COMMAND | bits 0 (I/O), 1 (memory), 2 (bus master), 8 (SERR#), 10 (INTx disable) |
//! | 0x06 | STATUS | no; bit 3 = interrupt level, bit 4 = capability list |
//! | 0x08 | revision, class code | no |
//! | 0x0e | header type (0) | no |
//! | 0x10..0x28 | BAR0..BAR5 | address bits (sizing: all-ones reads back `~(size-1)` plus flags) |
//! | 0x2c | subsystem vendor id, subsystem id | no |
//! | 0x30 | expansion ROM (absent: 0) | no |
//! | 0x34 | capabilities pointer (0x40 with MSI, else 0x50 with MSI-X) | no |
//! | 0x3c | interrupt line | yes |
//! | 0x3d | interrupt pin (1..4, 0 = none) | no |
//! | 0x40 | MSI: id 0x05, next (0x50 with MSI-X, else 0), message control | enable bit, MME (clamped to MMC) |
//! | 0x44 | MSI message address (low, dword aligned) | bits 31:2 |
//! | 0x48 | MSI message address (high) | yes |
//! | 0x4c | MSI message data (16 bits) | bits 15:0 |
//! | 0x50 | MSI-X: id 0x11, next 0, message control (see `msix.rs`) | function mask, enable |
//! | 0x54 | MSI-X table offset / BIR | no |
//! | 0x58 | MSI-X PBA offset / BIR | no |
//! | 0x0c | cache line size | yes |
//! | 0x40..0xff not in a capability | device-specific: plain memory, as QEMU's PCI core has it | yes |

use crate::info::{BarInfo, BarKind, DeviceInfo};
use crate::msix::{MSIX_CAP_OFFSET, MsixState};

/// Size of the type-0 configuration space.
pub const CONFIG_SPACE_SIZE: u64 = 256;
/// COMMAND: respond to I/O space accesses.
pub const COMMAND_IO_SPACE: u16 = 1 << 0;
/// COMMAND: respond to memory space accesses.
pub const COMMAND_MEMORY_SPACE: u16 = 1 << 1;
/// COMMAND: the device may master the bus (DMA).
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
/// COMMAND: INTx emulation disabled.
pub const COMMAND_INTX_DISABLE: u16 = 1 << 10;
/// COMMAND: SERR# reporting enabled.
pub const COMMAND_SERR: u16 = 1 << 8;
/// The COMMAND bits software can change (QEMU's PCI core, `pci_init_wmask`:
/// I/O, memory, bus master, SERR#, INTx disable).
pub const COMMAND_WRITABLE: u16 = COMMAND_IO_SPACE
    | COMMAND_MEMORY_SPACE
    | COMMAND_BUS_MASTER
    | COMMAND_SERR
    | COMMAND_INTX_DISABLE;
/// Where the device-specific part of the space begins.
pub const DEVICE_SPECIFIC: u64 = 0x40;
/// STATUS: the device's interrupt level (independent of INTx disable).
pub const STATUS_INTERRUPT: u16 = 1 << 3;
/// STATUS: a capability list is present at the pointer in 0x34.
pub const STATUS_CAPABILITIES: u16 = 1 << 4;
/// Offset of the MSI capability (when the device declares MSI).
pub const MSI_CAP_OFFSET: u8 = 0x40;
/// MSI capability id.
pub const MSI_CAP_ID: u8 = 0x05;
/// MSI message control: MSI enable.
pub const MSI_CONTROL_ENABLE: u16 = 1 << 0;
/// MSI message control: 64-bit address capable.
pub const MSI_CONTROL_64BIT: u16 = 1 << 7;

/// An MSI message: a dword write of `data` to `address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct MsiMessage {
    /// Message address (64-bit).
    pub address: u64,
    /// Message data (the 16-bit data register, with the vector in its low bits).
    pub data: u32,
}

/// What occupies one of the six BAR slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Unused,
    /// An I/O or 32-bit BAR, or the lower dword of a 64-bit BAR.
    Low(&'static BarInfo),
    /// The upper dword of the 64-bit BAR in the previous slot.
    High(&'static BarInfo),
}

/// Size of the address window a BAR decodes: the declared size rounded up to
/// a power of two and to the PCI minimum (4 bytes for I/O, 16 for memory).
fn decode_size(bar: &BarInfo) -> u64 {
    let min = if bar.kind.is_io() { 4 } else { 16 };
    bar.size
        .max(min)
        .checked_next_power_of_two()
        .unwrap_or(1 << 63)
}

/// Address bits of a whole (up to 64-bit) BAR that software can set.
fn address_mask(bar: &BarInfo) -> u64 {
    !(decode_size(bar) - 1)
}

/// The read-only flag bits in the low dword of a BAR.
fn flag_bits(kind: BarKind) -> u32 {
    match kind {
        BarKind::Io => 0x1,
        BarKind::Mem32 { prefetchable } => u32::from(prefetchable) << 3,
        BarKind::Mem64 { prefetchable } => 0x4 | u32::from(prefetchable) << 3,
    }
}

/// Writable mask of the low dword of a BAR (flag bits excluded).
fn low_mask(bar: &BarInfo) -> u32 {
    let flags = if bar.kind.is_io() { 0x3 } else { 0xf };
    // Truncation keeps the low dword of the 64-bit mask.
    (address_mask(bar) as u32) & !flags
}

/// Writable mask of the upper dword of a 64-bit BAR.
fn high_mask(bar: &BarInfo) -> u32 {
    (address_mask(bar) >> 32) as u32
}

/// The configuration space of one function. See the module docs for layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSpace {
    info: &'static DeviceInfo,
    slots: [Slot; 6],
    command: u16,
    interrupt_status: bool,
    /// Raw BAR dwords, already masked to their writable bits.
    bars: [u32; 6],
    interrupt_line: u8,
    msi_enable: bool,
    /// Multiple Message Enable (log2 of enabled vectors), <= MMC.
    msi_mme: u8,
    msi_address: u64,
    msi_data: u16,
    /// MSI-X capability state, table and PBA (when the device declares MSI-X).
    pub(crate) msix: Option<MsixState>,
    /// MSI-X messages a config write made deliverable (pending vectors
    /// unmasked), drained by the device context after the write. Bounded:
    /// each entry cleared a pending bit.
    pub(crate) msix_unmasked: Vec<(u16, MsiMessage)>,
    /// The cache line size register (0x0c).
    cache_line: u8,
    /// Bytes 0x40..0xff that no capability claims: QEMU's PCI core leaves
    /// them writable as plain memory (`pci_init_wmask`), so a model does too.
    scratch: [u8; (CONFIG_SPACE_SIZE - DEVICE_SPECIFIC) as usize],
}

impl ConfigSpace {
    /// A configuration space in its reset state for `info`. BARs with an
    /// index above 5, 64-bit BARs in slot 5 and BARs whose slots are already
    /// taken are left out (their slots read 0).
    pub fn new(info: &'static DeviceInfo) -> Self {
        let mut slots = [Slot::Unused; 6];
        for bar in info.bars {
            let i = usize::from(bar.index);
            let n = usize::from(bar.kind.slots());
            if i + n > 6 || slots[i..i + n].iter().any(|s| *s != Slot::Unused) {
                continue;
            }
            slots[i] = Slot::Low(bar);
            if n == 2 {
                slots[i + 1] = Slot::High(bar);
            }
        }
        ConfigSpace {
            info,
            slots,
            command: 0,
            interrupt_status: false,
            bars: [0; 6],
            interrupt_line: 0,
            msi_enable: false,
            msi_mme: 0,
            msi_address: 0,
            msi_data: 0,
            msix: info.msix.map(MsixState::new),
            msix_unmasked: Vec::new(),
            cache_line: 0,
            scratch: [0; (CONFIG_SPACE_SIZE - DEVICE_SPECIFIC) as usize],
        }
    }

    /// Back to the reset state: COMMAND, BAR addresses, interrupt line and
    /// MSI registers cleared. The interrupt status bit is left to the owner,
    /// which recomputes it from the device.
    pub fn reset(&mut self) {
        let status = self.interrupt_status;
        *self = ConfigSpace::new(self.info);
        self.interrupt_status = status;
    }

    /// The device description this space was built from.
    pub fn info(&self) -> &'static DeviceInfo {
        self.info
    }

    /// The BAR description for BAR `index` if it is present and usable
    /// (for a 64-bit BAR, only its lower index answers).
    pub fn bar_info(&self, index: u8) -> Option<&'static BarInfo> {
        match self.slots.get(usize::from(index))? {
            Slot::Low(bar) => Some(bar),
            _ => None,
        }
    }

    /// The address software programmed into BAR `index` (both dwords for a
    /// 64-bit BAR), or `None` if there is no such BAR.
    pub fn bar_address(&self, index: u8) -> Option<u64> {
        let i = usize::from(index);
        let bar = self.bar_info(index)?;
        let low = u64::from(self.bars[i] & low_mask(bar));
        Some(match bar.kind {
            BarKind::Mem64 { .. } => low | u64::from(self.bars[i + 1] & high_mask(bar)) << 32,
            _ => low,
        })
    }

    /// The COMMAND register.
    pub fn command(&self) -> u16 {
        self.command
    }

    /// The STATUS register.
    pub fn status(&self) -> u16 {
        let mut status = 0;
        if self.interrupt_status {
            status |= STATUS_INTERRUPT;
        }
        if self.info.msi.is_some() || self.msix.is_some() {
            status |= STATUS_CAPABILITIES;
        }
        status
    }

    /// COMMAND.IO: I/O BARs decode.
    pub fn io_enabled(&self) -> bool {
        self.command & COMMAND_IO_SPACE != 0
    }

    /// COMMAND.MEM: memory BARs decode.
    pub fn mem_enabled(&self) -> bool {
        self.command & COMMAND_MEMORY_SPACE != 0
    }

    /// COMMAND.BUS_MASTER: DMA allowed.
    pub fn bus_master_enabled(&self) -> bool {
        self.command & COMMAND_BUS_MASTER != 0
    }

    /// COMMAND.INTX_DISABLE.
    pub fn intx_disabled(&self) -> bool {
        self.command & COMMAND_INTX_DISABLE != 0
    }

    /// STATUS.interrupt-status, the device's current interrupt level.
    pub fn interrupt_status(&self) -> bool {
        self.interrupt_status
    }

    /// Set by the owner after recomputing the device's interrupt level.
    pub(crate) fn set_interrupt_status(&mut self, level: bool) {
        self.interrupt_status = level;
    }

    /// The interrupt line register (0x3c), as written by software.
    pub fn interrupt_line(&self) -> u8 {
        self.interrupt_line
    }

    /// Whether the guest enabled MSI (the device must then not use INTx).
    pub fn msi_enabled(&self) -> bool {
        self.info.msi.is_some() && self.msi_enable
    }

    /// Whether the guest enabled MSI-X (the device then uses neither INTx
    /// nor MSI).
    pub fn msix_enabled(&self) -> bool {
        self.msix.as_ref().is_some_and(MsixState::enabled)
    }

    /// The MSI-X state (capability, table, PBA), when the device has MSI-X.
    pub fn msix(&self) -> Option<&MsixState> {
        self.msix.as_ref()
    }

    /// Number of vectors the guest allocated (Multiple Message Enable), or 0
    /// when MSI is disabled.
    pub fn msi_enabled_vectors(&self) -> u8 {
        if self.msi_enabled() {
            1 << self.msi_mme
        } else {
            0
        }
    }

    /// The message for `vector`, if MSI is enabled and the vector is among
    /// the enabled ones. The vector replaces the low MME bits of the data
    /// register, as the PCI spec lets a multi-message function do (software
    /// must leave those bits 0, so this equals `data | vector`).
    pub fn msi_message(&self, vector: u8) -> Option<MsiMessage> {
        let n = self.msi_enabled_vectors();
        if vector >= n {
            return None;
        }
        let low = u32::from(n) - 1;
        Some(MsiMessage {
            address: self.msi_address,
            data: (u32::from(self.msi_data) & !low) | u32::from(vector),
        })
    }

    /// Read `data.len()` bytes at `offset`. Never fails: bytes outside the
    /// 256-byte space read 0xff.
    pub fn read(&self, offset: u64, data: &mut [u8]) {
        let mut cached: Option<(u64, u32)> = None;
        for (i, byte) in data.iter_mut().enumerate() {
            let off = match offset.checked_add(i as u64) {
                Some(off) if off < CONFIG_SPACE_SIZE => off,
                _ => {
                    *byte = 0xff;
                    continue;
                }
            };
            let dword_index = off / 4;
            let dword = match cached {
                Some((idx, v)) if idx == dword_index => v,
                _ => {
                    let v = self.read_dword(dword_index);
                    cached = Some((dword_index, v));
                    v
                }
            };
            *byte = (dword >> ((off % 4) * 8)) as u8;
        }
    }

    /// Write `data` at `offset`, byte-enabled per dword. Read-only bits and
    /// bytes outside the space are ignored.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        // Accumulate the bytes of one dword, then apply them with a lane mask,
        // so multi-byte fields (e.g. a BAR) see one coherent update.
        let mut pending: Option<(u64, u32, u32)> = None; // (dword index, value, bit mask)
        for (i, &byte) in data.iter().enumerate() {
            let off = match offset.checked_add(i as u64) {
                Some(off) if off < CONFIG_SPACE_SIZE => off,
                // Offsets only grow (or overflow), so nothing further is in range.
                _ => break,
            };
            let idx = off / 4;
            let shift = (off % 4) * 8;
            match &mut pending {
                Some((p_idx, value, mask)) if *p_idx == idx => {
                    *value |= u32::from(byte) << shift;
                    *mask |= 0xff << shift;
                }
                _ => {
                    if let Some((p_idx, value, mask)) = pending {
                        self.write_dword(p_idx, value, mask);
                    }
                    pending = Some((idx, u32::from(byte) << shift, 0xff << shift));
                }
            }
        }
        if let Some((idx, value, mask)) = pending {
            self.write_dword(idx, value, mask);
        }
    }

    fn msi_control(&self) -> u16 {
        let Some(msi) = self.info.msi else { return 0 };
        u16::from(self.msi_enable)
            | u16::from(msi.mmc()) << 1
            | u16::from(self.msi_mme) << 4
            | MSI_CONTROL_64BIT
    }

    /// The dword at `index * 4` (index < 64).
    fn read_dword(&self, index: u64) -> u32 {
        let info = self.info;
        let has_msi = info.msi.is_some();
        match index {
            0 => u32::from(info.vendor_id) | u32::from(info.device_id) << 16,
            1 => u32::from(self.command) | u32::from(self.status()) << 16,
            2 => {
                let [base, sub, prog_if] = info.class_code;
                u32::from_le_bytes([info.revision, prog_if, sub, base])
            }
            // Cache line size, latency timer 0, header type 0 (single
            // function), BIST 0.
            3 => u32::from(self.cache_line),
            4..=9 => {
                let i = (index - 4) as usize;
                match self.slots[i] {
                    Slot::Unused => 0,
                    Slot::Low(bar) => (self.bars[i] & low_mask(bar)) | flag_bits(bar.kind),
                    Slot::High(bar) => self.bars[i] & high_mask(bar),
                }
            }
            11 => u32::from(info.subsystem_vendor_id) | u32::from(info.subsystem_id) << 16,
            13 if has_msi => u32::from(MSI_CAP_OFFSET),
            13 if self.msix.is_some() => u32::from(MSIX_CAP_OFFSET),
            15 => {
                let pin = info.interrupt_pin.map_or(0, |p| p.register_value());
                u32::from(self.interrupt_line) | u32::from(pin) << 8
            }
            16 if has_msi => {
                let next = if self.msix.is_some() {
                    MSIX_CAP_OFFSET
                } else {
                    0
                };
                u32::from(MSI_CAP_ID) | u32::from(next) << 8 | u32::from(self.msi_control()) << 16
            }
            17 if has_msi => self.msi_address as u32,
            18 if has_msi => (self.msi_address >> 32) as u32,
            19 if has_msi => u32::from(self.msi_data) | self.scratch_dword(index) & 0xffff_0000,
            20..=22 if let Some(msix) = &self.msix => msix.cap_dword(index - 20, 0),
            16..=63 => self.scratch_dword(index),
            _ => 0,
        }
    }

    /// The scratch bytes of dword `index` (16..64), little-endian.
    fn scratch_dword(&self, index: u64) -> u32 {
        let at = (index * 4 - DEVICE_SPECIFIC) as usize;
        u32::from_le_bytes([
            self.scratch[at],
            self.scratch[at + 1],
            self.scratch[at + 2],
            self.scratch[at + 3],
        ])
    }

    /// Merges the `mask`ed bits of `value` into the scratch dword `index`.
    fn write_scratch(&mut self, index: u64, value: u32, mask: u32) {
        let old = self.scratch_dword(index);
        let new = (old & !mask) | (value & mask);
        let at = (index * 4 - DEVICE_SPECIFIC) as usize;
        self.scratch[at..at + 4].copy_from_slice(&new.to_le_bytes());
    }

    /// Apply the bits of `value` selected by `mask` to the dword at `index * 4`.
    fn write_dword(&mut self, index: u64, value: u32, mask: u32) {
        let merge =
            |old: u32, writable: u32| (old & !(mask & writable)) | (value & mask & writable);
        let has_msi = self.info.msi.is_some();
        match index {
            1 => {
                self.command = merge(u32::from(self.command), u32::from(COMMAND_WRITABLE)) as u16;
            }
            4..=9 => {
                let i = (index - 4) as usize;
                let writable = match self.slots[i] {
                    Slot::Unused => 0,
                    Slot::Low(bar) => low_mask(bar),
                    Slot::High(bar) => high_mask(bar),
                };
                self.bars[i] = merge(self.bars[i], writable);
            }
            15 => self.interrupt_line = merge(u32::from(self.interrupt_line), 0xff) as u8,
            16 if has_msi => {
                // Message control sits in the upper half of the dword.
                let control = merge(u32::from(self.msi_control()) << 16, 0x0071 << 16) >> 16;
                self.msi_enable = control & u32::from(MSI_CONTROL_ENABLE) != 0;
                let mmc = self.info.msi.map_or(0, |m| m.mmc());
                self.msi_mme = (((control >> 4) & 0x7) as u8).min(mmc);
            }
            17 if has_msi => {
                let low = merge(self.msi_address as u32, 0xffff_fffc);
                self.msi_address = (self.msi_address & !0xffff_ffff) | u64::from(low);
            }
            18 if has_msi => {
                let high = merge((self.msi_address >> 32) as u32, 0xffff_ffff);
                self.msi_address = (self.msi_address & 0xffff_ffff) | u64::from(high) << 32;
            }
            19 if has_msi => {
                self.msi_data = merge(u32::from(self.msi_data), 0xffff) as u16;
                // The two bytes after the 64-bit MSI capability are free.
                self.write_scratch(index, value, mask & 0xffff_0000);
            }
            20..=22 if let Some(msix) = &mut self.msix => {
                let out = msix.cap_write(index - 20, value, mask);
                self.msix_unmasked.extend(out);
            }
            3 => self.cache_line = merge(u32::from(self.cache_line), 0xff) as u8,
            16..=63 => self.write_scratch(index, value, mask),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::{AccessPolicy, IntxPin, MsiInfo};

    const fn bar(index: u8, kind: BarKind, size: u64) -> BarInfo {
        BarInfo {
            index,
            kind,
            size,
            policy: AccessPolicy::PERMISSIVE,
            registers: &[],
        }
    }

    static BROKEN: DeviceInfo = DeviceInfo {
        name: "broken",
        vendor_id: 1,
        device_id: 2,
        revision: 0,
        class_code: [0, 0, 0],
        subsystem_vendor_id: 0,
        subsystem_id: 0,
        interrupt_pin: Some(IntxPin::A),
        bars: &[
            bar(0, BarKind::Io, 0),  // size 0: treated as 4
            bar(0, BarKind::Io, 16), // duplicate slot: ignored
            bar(
                1,
                BarKind::Mem32 {
                    prefetchable: false,
                },
                3,
            ), // not a power of two
            bar(
                2,
                BarKind::Mem32 {
                    prefetchable: false,
                },
                1 << 40,
            ), // > 4 GiB in 32 bits
            bar(
                5,
                BarKind::Mem64 {
                    prefetchable: false,
                },
                4096,
            ), // no room for the high half
            bar(9, BarKind::Io, 4),  // no such slot
        ],
        msi: Some(MsiInfo { vectors: 0 }),
        msix: None,
    };

    fn read32(c: &ConfigSpace, off: u64) -> u32 {
        let mut b = [0; 4];
        c.read(off, &mut b);
        u32::from_le_bytes(b)
    }

    #[test]
    fn malformed_description_is_inert() {
        let mut c = ConfigSpace::new(&BROKEN);
        for off in (0x10..0x28).step_by(4) {
            c.write(off, &[0xff; 4]);
        }
        assert_eq!(read32(&c, 0x10), 0xffff_fffd);
        assert_eq!(read32(&c, 0x14), 0xffff_fff0);
        assert_eq!(read32(&c, 0x18), 0);
        assert_eq!(read32(&c, 0x24), 0);
        assert!(c.bar_info(5).is_none());
        assert!(c.bar_info(9).is_none());
        assert_eq!(c.bar_address(1), Some(0xffff_fff0));
    }

    #[test]
    fn unaligned_and_out_of_range_bytes() {
        let mut c = ConfigSpace::new(&BROKEN);
        let mut b = [0; 6];
        c.read(0xfd, &mut b);
        assert_eq!(&b[3..], &[0xff; 3]);
        c.read(u64::MAX - 1, &mut b);
        assert_eq!(b, [0xff; 6]);
        // COMMAND written through an unaligned 3-byte access starting at 0x03.
        c.write(0x03, &[0xaa, 0x07, 0x04]);
        assert_eq!(c.command(), 0x0407);
        c.write(u64::MAX, &[0xff; 9]);
        c.write(0, &[]);
    }
}
