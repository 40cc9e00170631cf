//! Type-0 PCI configuration space (256 bytes) with BAR sizing, COMMAND/STATUS
//! semantics, the interrupt line/pin registers, a capability list (MSI and
//! the spec's vendor-specific capabilities) and the spec's configuration-
//! space registers.
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
//! | 0x0c | cache line size | yes |
//! | 0x0e | header type (0) | no |
//! | 0x10..0x28 | BAR0..BAR5 | address bits (sizing: all-ones reads back `~(size-1)` plus flags) |
//! | 0x2c | subsystem vendor id, subsystem id | no |
//! | 0x30 | expansion ROM (absent: 0) | no |
//! | 0x34 | capabilities pointer: the lowest capability's offset (0 without one) | no |
//! | 0x3c | interrupt line | yes |
//! | 0x3d | interrupt pin (1..4, 0 = none) | no |
//! | 0x40..0x100 | the device-specific area, below | |
//!
//! # The capability list
//!
//! The runtime places capabilities as [`pcidev_core::config`] says: MSI at
//! 0x40 (14 bytes) when the device has MSI, MSI-X at 0x50 (12 bytes) when it
//! has MSI-X ([`DeviceInfo::msix`]; its state, table and PBA are in
//! `msix.rs`), and each [`VendorCapInfo`] where the spec put it.
//! They are chained in offset order from the capabilities pointer; the last
//! one's next pointer is 0. A capability's bytes are read-only unless a rule
//! below makes them writable (QEMU's `pci_add_capability` clears their
//! write mask too):
//!
//! | offset | register | writable |
//! |---|---|---|
//! | MSI + 0x0 | id 0x05, next, message control | enable bit, MME (clamped to MMC) |
//! | MSI + 0x4 | message address (low, dword aligned) | bits 31:2 |
//! | MSI + 0x8 | message address (high) | yes |
//! | MSI + 0xc | message data (16 bits) | bits 15:0 |
//! | MSI-X + 0x0 | id 0x11, next, message control (table size N-1) | function mask, enable |
//! | MSI-X + 0x4 | table offset / BIR | no |
//! | MSI-X + 0x8 | PBA offset / BIR | no |
//! | vendor + 0 | id 0x09, next, length | no |
//! | vendor + 3.. | the spec's registers; other bytes read 0 | by the register |
//!
//! A malformed description never breaks the list: a vendor capability that
//! is misaligned, shorter than its header, beyond 0xff or overlapping an
//! earlier one is left out.
//!
//! # Device-specific registers
//!
//! [`DeviceInfo::config_registers`] are served by the model (through
//! [`crate::Registers::read_config_register`]) with the semantics of BAR
//! registers: [`crate::Model::config_read`] / `config_write` split an access
//! over the registers it overlaps, each read once or written once with a
//! lane mask. A register that narrows its access sizes does not see an
//! access of another size, or a misaligned one: those bytes then behave as
//! the ones around them
//! (QEMU's device `config_read`/`config_write` hooks fall back to
//! `pci_default_*_config` the same way). A register outside 0x40..0x100,
//! wider than 4 bytes, overlapping an earlier one, MSI or a capability
//! header is left out (the compiler rejects such specs).
//!
//! Bytes of 0x40..0x100 that neither a capability nor a register claims are
//! plain memory, writable, as QEMU's PCI core has them (`pci_init_wmask`).

mod bars;
mod capabilities;

use bars::{Slot, flag_bits, high_mask, low_mask};
pub use capabilities::{CapKind, PlacedCapability};
use capabilities::{place_capabilities, place_registers};

use crate::info::{BarInfo, BarKind, DeviceInfo};
use crate::msix::MsixState;
pub use pcidev_core::config::{CONFIG_SPACE_SIZE, DEVICE_SPECIFIC, MSI_CAP_ID, MSI_CAP_OFFSET};
use pcidev_core::config::{MSIX_CAP_OFFSET, VENDOR_CAP_ID};

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
/// STATUS: the device's interrupt level (independent of INTx disable).
pub const STATUS_INTERRUPT: u16 = 1 << 3;
/// STATUS: a capability list is present at the pointer in 0x34.
pub const STATUS_CAPABILITIES: u16 = 1 << 4;
/// MSI message control: MSI enable.
pub const MSI_CONTROL_ENABLE: u16 = 1 << 0;
/// MSI message control: 64-bit address capable.
pub const MSI_CONTROL_64BIT: u16 = 1 << 7;

/// Bytes of the device-specific area.
const AREA: usize = (CONFIG_SPACE_SIZE - DEVICE_SPECIFIC) as usize;

/// An MSI message: a dword write of `data` to `address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct MsiMessage {
    /// Message address (64-bit).
    pub address: u64,
    /// Message data (the 16-bit data register, with the vector in its low bits).
    pub data: u32,
}

/// The configuration space of one function. See the module docs for layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSpace {
    info: &'static DeviceInfo,
    slots: [Slot; 6],
    /// Bit `i` set: slot `i` holds an I/O BAR (its lower slot), resp. a
    /// memory BAR: what [`Self::bar_decodes`] tests with COMMAND.
    io_bars: u8,
    mem_bars: u8,
    command: u16,
    /// Bit `i` set: BAR `i` decodes under `command` (kept by
    /// [`Self::set_command`]; what [`Self::bar_decodes`] reads).
    decoding: u8,
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
    /// The capability list, in offset order.
    caps: Vec<PlacedCapability>,
    /// Which configuration register owns each device-specific byte (see
    /// `place_registers`).
    owner: [u8; AREA],
    /// Bytes 0x40..0xff that no capability claims: QEMU's PCI core leaves
    /// them writable as plain memory (`pci_init_wmask`), so a model does too.
    scratch: [u8; AREA],
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
        let (mut io_bars, mut mem_bars) = (0u8, 0u8);
        for (i, slot) in slots.iter().enumerate() {
            match slot {
                Slot::Low(bar) if bar.kind.is_io() => io_bars |= 1 << i,
                Slot::Low(_) => mem_bars |= 1 << i,
                _ => {}
            }
        }
        let caps = place_capabilities(info);
        let owner = place_registers(info.config_registers, &caps);
        ConfigSpace {
            info,
            slots,
            io_bars,
            mem_bars,
            command: 0,
            decoding: 0,
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
            caps,
            owner,
            scratch: [0; AREA],
        }
    }

    /// Back to the reset state: COMMAND, BAR addresses, interrupt line,
    /// MSI registers and device-specific memory cleared. The interrupt
    /// status bit is left to the owner, which recomputes it from the device.
    pub fn reset(&mut self) {
        let status = self.interrupt_status;
        *self = ConfigSpace::new(self.info);
        self.interrupt_status = status;
    }

    /// The device description this space was built from.
    pub fn info(&self) -> &'static DeviceInfo {
        self.info
    }

    /// The capability list, in offset order (chained in that order from
    /// the capabilities pointer).
    pub fn capabilities(&self) -> &[PlacedCapability] {
        &self.caps
    }

    /// The configuration registers an access of `len` bytes at `offset`
    /// reaches, in offset order: (index into
    /// [`DeviceInfo::config_registers`], first byte, one past the last byte)
    /// of the overlap. Registers that narrow their sizes are reached only by
    /// naturally aligned accesses of those sizes.
    pub fn register_overlaps(&self, offset: u64, len: usize) -> Vec<(usize, u64, u64)> {
        let mut out: Vec<(usize, u64, u64)> = Vec::new();
        let end = offset.saturating_add(len as u64).min(CONFIG_SPACE_SIZE);
        for off in offset.max(DEVICE_SPECIFIC)..end {
            let Some(reg) = self.claimed(off, offset, len) else {
                continue;
            };
            match out.last_mut() {
                Some((r, _, hi)) if *r == reg && *hi == off => *hi = off + 1,
                _ => out.push((reg, off, off + 1)),
            }
        }
        out
    }

    /// The register owning byte `off` if an access of `len` bytes at
    /// `offset` reaches it: always, unless the register narrows its sizes;
    /// then only accesses of those sizes, naturally aligned.
    fn claimed(&self, off: u64, offset: u64, len: usize) -> Option<usize> {
        let at = usize::try_from(off.checked_sub(DEVICE_SPECIFIC)?).ok()?;
        let reg = usize::from(*self.owner.get(at)?).checked_sub(1)?;
        let sizes = self.info.config_registers.get(reg)?.sizes;
        let reaches = sizes.0 == 0 || (sizes.contains(len) && offset.is_multiple_of(len as u64));
        reaches.then_some(reg)
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
        if !self.caps.is_empty() {
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

    /// Does BAR `index` exist and decode now (COMMAND.IO for an I/O BAR,
    /// COMMAND.MEM for a memory BAR)? What [`Self::bar_info`] and the two
    /// enables say, in a few instructions: it runs on every BAR access,
    /// so the answer is kept per BAR whenever COMMAND changes.
    #[inline]
    pub fn bar_decodes(&self, index: u8) -> bool {
        index < 8 && self.decoding & (1 << index) != 0
    }

    /// COMMAND is `command` now; which BARs decode follows.
    fn set_command(&mut self, command: u16) {
        self.command = command;
        let mut decoding = 0;
        if self.io_enabled() {
            decoding |= self.io_bars;
        }
        if self.mem_enabled() {
            decoding |= self.mem_bars;
        }
        self.decoding = decoding;
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
    /// 256-byte space read 0xff. Bytes of configuration registers read as
    /// the memory behind them: [`crate::Model::config_read`] overlays the
    /// registers' values.
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

    /// Write `data` at `offset`, byte-enabled per dword. Read-only bits,
    /// bytes outside the space and bytes a configuration register takes
    /// from this access (the model writes those) are ignored.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        // Accumulate the bytes of one dword, then apply them with a lane mask,
        // so multi-byte fields (e.g. a BAR) see one coherent update.
        let len = data.len();
        let mut pending: Option<(u64, u32, u32)> = None; // (dword index, value, bit mask)
        for (i, &byte) in data.iter().enumerate() {
            let off = match offset.checked_add(i as u64) {
                Some(off) if off < CONFIG_SPACE_SIZE => off,
                // Offsets only grow (or overflow), so nothing further is in range.
                _ => break,
            };
            if self.claimed(off, offset, len).is_some() {
                continue;
            }
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

    /// The capability holding byte `off`, if any.
    fn cap_at(&self, off: u64) -> Option<&PlacedCapability> {
        self.caps.iter().find(|c| c.contains(off))
    }

    /// Dword `index` of the MSI capability (0..=3), `next` its next pointer.
    fn msi_dword(&self, index: u64, next: u8) -> u32 {
        match index {
            0 => u32::from(MSI_CAP_ID) | u32::from(next) << 8 | u32::from(self.msi_control()) << 16,
            1 => self.msi_address as u32,
            2 => (self.msi_address >> 32) as u32,
            3 => u32::from(self.msi_data),
            _ => 0,
        }
    }

    /// Byte `off` (0x40..0x100) of the device-specific area, without the
    /// model's registers.
    fn device_byte(&self, off: u64) -> u8 {
        let Some(cap) = self.cap_at(off) else {
            return self.scratch[(off - DEVICE_SPECIFIC) as usize];
        };
        let rel = off - u64::from(cap.offset);
        match cap.kind {
            CapKind::Msi => (self.msi_dword(rel / 4, cap.next) >> ((rel % 4) * 8)) as u8,
            CapKind::Msix => self.msix.as_ref().map_or(0, |m| {
                (m.cap_dword(rel / 4, cap.next) >> ((rel % 4) * 8)) as u8
            }),
            CapKind::Vendor => match rel {
                0 => VENDOR_CAP_ID,
                1 => cap.next,
                2 => cap.len,
                _ => 0,
            },
        }
    }

    /// The dword at `index * 4` (index < 64).
    fn read_dword(&self, index: u64) -> u32 {
        let info = self.info;
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
            13 => self.caps.first().map_or(0, |c| u32::from(c.offset)),
            15 => {
                let pin = info.interrupt_pin.map_or(0, |p| p.register_value());
                u32::from(self.interrupt_line) | u32::from(pin) << 8
            }
            16..=63 => {
                let base = index * 4;
                u32::from_le_bytes([
                    self.device_byte(base),
                    self.device_byte(base + 1),
                    self.device_byte(base + 2),
                    self.device_byte(base + 3),
                ])
            }
            _ => 0,
        }
    }

    /// Apply the bits of `value` selected by `mask` to the dword at `index * 4`.
    fn write_dword(&mut self, index: u64, value: u32, mask: u32) {
        let merge =
            |old: u32, writable: u32| (old & !(mask & writable)) | (value & mask & writable);
        match index {
            1 => {
                self.set_command(
                    merge(u32::from(self.command), u32::from(COMMAND_WRITABLE)) as u16,
                );
            }
            3 => self.cache_line = merge(u32::from(self.cache_line), 0xff) as u8,
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
            16..=63 => {
                // Sort the dword's bytes by who owns them.
                let mut msi_mask = 0u32;
                let mut msix_mask = 0u32;
                let mut scratch_mask = 0u32;
                for lane in 0..4u64 {
                    let off = index * 4 + lane;
                    let lane_mask = 0xffu32 << (lane * 8);
                    match self.cap_at(off).map(|c| c.kind) {
                        Some(CapKind::Msi) => msi_mask |= lane_mask,
                        Some(CapKind::Msix) => msix_mask |= lane_mask,
                        // Capability headers and bytes without a register.
                        Some(CapKind::Vendor) => {}
                        None => scratch_mask |= lane_mask,
                    }
                }
                if mask & msi_mask != 0 {
                    let rel = index - u64::from(MSI_CAP_OFFSET) / 4;
                    self.write_msi(rel, value, mask & msi_mask);
                }
                if mask & msix_mask != 0
                    && let Some(msix) = self.msix.as_mut()
                {
                    let rel = index - u64::from(MSIX_CAP_OFFSET) / 4;
                    let unmasked = msix.cap_write(rel, value, mask & msix_mask);
                    self.msix_unmasked.extend(unmasked);
                }
                if mask & scratch_mask != 0 {
                    let old = u32::from_le_bytes(self.scratch_bytes(index));
                    let m = mask & scratch_mask;
                    let new = (old & !m) | (value & m);
                    let at = (index * 4 - DEVICE_SPECIFIC) as usize;
                    self.scratch[at..at + 4].copy_from_slice(&new.to_le_bytes());
                }
            }
            _ => {}
        }
    }

    /// The four scratch bytes of dword `index` (16..64).
    fn scratch_bytes(&self, index: u64) -> [u8; 4] {
        let at = (index * 4 - DEVICE_SPECIFIC) as usize;
        [
            self.scratch[at],
            self.scratch[at + 1],
            self.scratch[at + 2],
            self.scratch[at + 3],
        ]
    }

    /// A write to dword `index` (0..=3) of the MSI capability.
    fn write_msi(&mut self, index: u64, value: u32, mask: u32) {
        let merge =
            |old: u32, writable: u32| (old & !(mask & writable)) | (value & mask & writable);
        match index {
            0 => {
                // Message control sits in the upper half of the dword.
                let control = merge(u32::from(self.msi_control()) << 16, 0x0071 << 16) >> 16;
                self.msi_enable = control & u32::from(MSI_CONTROL_ENABLE) != 0;
                let mmc = self.info.msi.map_or(0, |m| m.mmc());
                self.msi_mme = (((control >> 4) & 0x7) as u8).min(mmc);
            }
            1 => {
                let low = merge(self.msi_address as u32, 0xffff_fffc);
                self.msi_address = (self.msi_address & !0xffff_ffff) | u64::from(low);
            }
            2 => {
                let high = merge((self.msi_address >> 32) as u32, 0xffff_ffff);
                self.msi_address = (self.msi_address & 0xffff_ffff) | u64::from(high) << 32;
            }
            3 => self.msi_data = merge(u32::from(self.msi_data), 0xffff) as u16,
            _ => {}
        }
    }
}

/// Configuration space in a snapshot: the guest-writable registers, the
/// interrupt status bit, MSI and MSI-X state, and the plain-memory bytes
/// of the device-specific area (0x40..0x100). What follows from the
/// device description (header, capability list) is not saved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigState {
    command: u16,
    interrupt_status: bool,
    /// The six BAR dwords as programmed (writable bits only).
    bars: [u32; 6],
    interrupt_line: u8,
    cache_line: u8,
    msi_enable: bool,
    msi_mme: u8,
    msi_address: u64,
    msi_data: u16,
    msix: Option<crate::msix::MsixSaved>,
    scratch: crate::snapshot::Hex,
}

impl ConfigSpace {
    pub(crate) fn save(&self) -> ConfigState {
        ConfigState {
            command: self.command,
            interrupt_status: self.interrupt_status,
            bars: self.bars,
            interrupt_line: self.interrupt_line,
            cache_line: self.cache_line,
            msi_enable: self.msi_enable,
            msi_mme: self.msi_mme,
            msi_address: self.msi_address,
            msi_data: self.msi_data,
            msix: self.msix.as_ref().map(MsixState::save),
            scratch: crate::snapshot::Hex(self.scratch.to_vec()),
        }
    }

    /// Could the guest have put this space into `saved`? Every register
    /// within its writable bits, MSI and MSI-X only where the device has
    /// them, the MSI-X table its size.
    pub(crate) fn check(&self, saved: &ConfigState) -> Result<(), String> {
        if saved.command & !COMMAND_WRITABLE != 0 {
            return Err(format!(
                "COMMAND {:#06x} sets read-only bits",
                saved.command
            ));
        }
        for (i, (&v, slot)) in saved.bars.iter().zip(&self.slots).enumerate() {
            let writable = match slot {
                Slot::Unused => 0,
                Slot::Low(bar) => low_mask(bar),
                Slot::High(bar) => high_mask(bar),
            };
            if v & !writable != 0 {
                return Err(format!("BAR{i} {v:#010x} sets read-only bits"));
            }
        }
        let mmc = self.info.msi.map(|m| m.mmc());
        if self.info.msi.is_none() && (saved.msi_enable || saved.msi_mme != 0) {
            return Err("MSI state for a device without MSI".to_owned());
        }
        if saved.msi_mme > mmc.unwrap_or(0) || saved.msi_address & 3 != 0 {
            return Err("MSI registers beyond their writable bits".to_owned());
        }
        if saved.scratch.0.len() != AREA {
            return Err(format!(
                "device-specific area of {} bytes, not {AREA}",
                saved.scratch.0.len()
            ));
        }
        match (&self.msix, &saved.msix) {
            (None, None) => Ok(()),
            (Some(mine), Some(theirs)) => mine.check(theirs),
            (None, Some(_)) => Err("MSI-X state for a device without MSI-X".to_owned()),
            (Some(_), None) => Err("no MSI-X state for a device with MSI-X".to_owned()),
        }
    }

    /// The state of a checked `saved`.
    pub(crate) fn restore(&mut self, saved: &ConfigState) {
        self.set_command(saved.command);
        self.interrupt_status = saved.interrupt_status;
        self.bars = saved.bars;
        self.interrupt_line = saved.interrupt_line;
        self.cache_line = saved.cache_line;
        self.msi_enable = saved.msi_enable;
        self.msi_mme = saved.msi_mme;
        self.msi_address = saved.msi_address;
        self.msi_data = saved.msi_data;
        if let (Some(mine), Some(theirs)) = (self.msix.as_mut(), &saved.msix) {
            mine.restore(theirs);
        }
        self.msix_unmasked.clear();
        let n = saved.scratch.0.len().min(AREA);
        self.scratch[..n].copy_from_slice(&saved.scratch.0[..n]);
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
        config_registers: &[],
        vendor_capabilities: &[],
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
