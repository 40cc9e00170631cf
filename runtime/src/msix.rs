//! MSI-X: the capability's state (enable, function mask), the vector table
//! and the pending bit array (PBA), with the semantics of QEMU's
//! `hw/pci/msix.c`.
//!
//! Contract:
//! - The capability sits at config offset [`MSIX_CAP_OFFSET`] (0x50, 12
//!   bytes): id 0x11, next pointer, message control (table size N-1 in bits
//!   10:0, read-only; function mask bit 14 and enable bit 15 writable), the
//!   table offset/BIR dword and the PBA offset/BIR dword (read-only).
//! - The table (16 bytes per vector: address low, address high, data, vector
//!   control) and the PBA (one bit per vector, in 64-bit words) live in a
//!   memory BAR at the offsets the [`MsixInfo`] gives. Accesses there take
//!   precedence over the BAR's registers and policy: 4- and 8-byte naturally
//!   aligned accesses are served (as `msix.c`'s `.valid` has it), any other
//!   size or alignment reads all-ones and writes nothing. Every bit of a
//!   table entry is stored as written (as `msix.c` does); only bit 0 of the
//!   vector control dword means anything (the per-vector mask). The PBA is
//!   read-only.
//! - A vector is masked when MSI-X is disabled, the function mask is set or
//!   its own mask bit is set. Sending a vector while MSI-X is enabled but the
//!   vector is masked sets its pending bit; a change that unmasks a pending
//!   vector (a table write, or a message-control write clearing the function
//!   mask or setting enable) clears the bit and delivers the message.
//!   Sending while MSI-X is disabled does nothing (no pending bit), as
//!   `msix_notify` does.
//! - Reset: enable and function mask cleared, every table entry zero with
//!   its mask bit set, every pending bit clear (`msix_reset`).
//! - Memory is bounded by the vector count (at most 2048: 32 KiB of table,
//!   256 bytes of PBA), allocated once.

use crate::config::MsiMessage;
use crate::info::MsixInfo;

pub use pcidev_core::config::{MSIX_CAP_ID, MSIX_CAP_OFFSET};
/// MSI-X message control: function mask.
pub const MSIX_CONTROL_FUNCTION_MASK: u16 = 1 << 14;
/// MSI-X message control: MSI-X enable.
pub const MSIX_CONTROL_ENABLE: u16 = 1 << 15;
/// Bytes per table entry.
pub const MSIX_ENTRY_SIZE: u64 = 16;
/// Most vectors an MSI-X function can have.
pub const MSIX_MAX_VECTORS: u16 = 2048;

/// What became of a vector the device sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsixSend {
    /// MSI-X is disabled, or the vector is beyond the table: nothing happens.
    Dropped,
    /// The vector is masked: its pending bit is set.
    Pending,
    /// Deliver this message now.
    Deliver(MsiMessage),
}

/// The MSI-X state of one function. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsixState {
    info: MsixInfo,
    enable: bool,
    function_mask: bool,
    /// Four dwords per vector.
    table: Vec<[u32; 4]>,
    /// One bit per vector.
    pba: Vec<u64>,
}

impl MsixState {
    /// The reset state for `info` (its vector count clamped to 1..=2048).
    pub fn new(info: MsixInfo) -> Self {
        let n = usize::from(info.vector_count());
        MsixState {
            info,
            enable: false,
            function_mask: false,
            table: vec![[0, 0, 0, 1]; n],
            pba: vec![0; n.div_ceil(64)],
        }
    }

    /// The static description.
    pub fn info(&self) -> MsixInfo {
        self.info
    }

    /// MSI-X enable (message control bit 15).
    pub fn enabled(&self) -> bool {
        self.enable
    }

    /// Function mask (message control bit 14).
    pub fn function_masked(&self) -> bool {
        self.function_mask
    }

    /// Number of vectors (table entries).
    pub fn vectors(&self) -> u16 {
        self.table.len() as u16
    }

    /// Whether `vector` is masked now (disabled, function mask or its own
    /// mask bit). Vectors beyond the table count as masked.
    pub fn masked(&self, vector: u16) -> bool {
        match self.table.get(usize::from(vector)) {
            Some(e) => !self.enable || self.function_mask || e[3] & 1 != 0,
            None => true,
        }
    }

    /// Whether `vector`'s pending bit is set.
    pub fn pending(&self, vector: u16) -> bool {
        let v = usize::from(vector);
        self.pba.get(v / 64).is_some_and(|w| w >> (v % 64) & 1 != 0)
    }

    fn set_pending(&mut self, vector: u16, on: bool) {
        let v = usize::from(vector);
        if let Some(w) = self.pba.get_mut(v / 64) {
            if on {
                *w |= 1 << (v % 64);
            } else {
                *w &= !(1 << (v % 64));
            }
        }
    }

    /// `send` for a VMM that emulates the table and masking itself (see
    /// [`Model::set_msix_masking_by_vmm`](crate::Model::set_msix_masking_by_vmm)):
    /// every vector in the table is delivered while MSI-X is enabled, with
    /// the message of the model's own (unused) table entry.
    pub fn send_unmasked(&mut self, vector: u16) -> MsixSend {
        if !self.enable {
            return MsixSend::Dropped;
        }
        self.message(vector)
            .map_or(MsixSend::Dropped, MsixSend::Deliver)
    }

    /// The message the guest programmed for `vector`.
    pub fn message(&self, vector: u16) -> Option<MsiMessage> {
        let e = self.table.get(usize::from(vector))?;
        Some(MsiMessage {
            address: u64::from(e[0]) | u64::from(e[1]) << 32,
            data: e[2],
        })
    }

    /// The device sends `vector` (`msix_notify`).
    pub fn send(&mut self, vector: u16) -> MsixSend {
        if !self.enable || usize::from(vector) >= self.table.len() {
            return MsixSend::Dropped;
        }
        if self.masked(vector) {
            self.set_pending(vector, true);
            return MsixSend::Pending;
        }
        self.message(vector)
            .map_or(MsixSend::Dropped, MsixSend::Deliver)
    }

    /// Message control as the guest reads it.
    pub fn control(&self) -> u16 {
        (self.vectors() - 1) & 0x7ff
            | if self.function_mask {
                MSIX_CONTROL_FUNCTION_MASK
            } else {
                0
            }
            | if self.enable { MSIX_CONTROL_ENABLE } else { 0 }
    }

    /// The capability's three dwords (index 0..3 from the capability
    /// start); `next` is the next capability pointer.
    pub fn cap_dword(&self, index: u64, next: u8) -> u32 {
        match index {
            0 => u32::from(MSIX_CAP_ID) | u32::from(next) << 8 | u32::from(self.control()) << 16,
            1 => self.info.table_offset & !7 | u32::from(self.info.table_bar & 7),
            2 => self.info.pba_offset & !7 | u32::from(self.info.pba_bar & 7),
            _ => 0,
        }
    }

    /// A write of the `mask`ed bits of `value` to capability dword `index`.
    /// Returns the vectors (and messages) that became deliverable: pending
    /// vectors unmasked by clearing the function mask or enabling MSI-X.
    pub fn cap_write(&mut self, index: u64, value: u32, mask: u32) -> Vec<(u16, MsiMessage)> {
        if index != 0 {
            return Vec::new();
        }
        let writable = u32::from(MSIX_CONTROL_FUNCTION_MASK | MSIX_CONTROL_ENABLE) << 16;
        let m = mask & writable;
        let old = u32::from(self.control()) << 16;
        let new = (old & !m) | (value & m);
        let was_masked: Vec<bool> = (0..self.vectors()).map(|v| self.masked(v)).collect();
        self.enable = new & u32::from(MSIX_CONTROL_ENABLE) << 16 != 0;
        self.function_mask = new & u32::from(MSIX_CONTROL_FUNCTION_MASK) << 16 != 0;
        let mut out = Vec::new();
        for (v, was) in was_masked.into_iter().enumerate() {
            if let Some(m) = self.unmask_update(v as u16, was) {
                out.push(m);
            }
        }
        out
    }

    /// `msix_handle_mask_update`: if `vector` went from masked to unmasked
    /// with its pending bit set, clear it and return the message to send.
    fn unmask_update(&mut self, vector: u16, was_masked: bool) -> Option<(u16, MsiMessage)> {
        if was_masked && !self.masked(vector) && self.pending(vector) {
            self.set_pending(vector, false);
            return self.message(vector).map(|m| (vector, m));
        }
        None
    }

    /// Bytes of the table in its BAR.
    pub fn table_len(&self) -> u64 {
        self.table.len() as u64 * MSIX_ENTRY_SIZE
    }

    /// Bytes of the PBA in its BAR.
    pub fn pba_len(&self) -> u64 {
        self.pba.len() as u64 * 8
    }

    /// Which MSI-X structure (if any) an access of `len` bytes at `offset`
    /// of BAR `bar` touches, with the offset inside it.
    pub fn locate(&self, bar: u8, offset: u64, len: usize) -> Option<(MsixArea, u64)> {
        let end = offset.checked_add(len as u64)?;
        let hit = |area_bar: u8, start: u32, size: u64| {
            let start = u64::from(start & !7);
            (area_bar == bar && offset < start + size && end > start)
                .then(|| offset.wrapping_sub(start))
        };
        if let Some(o) = hit(
            self.info.table_bar,
            self.info.table_offset,
            self.table_len(),
        ) {
            return Some((MsixArea::Table, o));
        }
        hit(self.info.pba_bar, self.info.pba_offset, self.pba_len()).map(|o| (MsixArea::Pba, o))
    }

    /// Read `data` at `offset` of `area` (from [`Self::locate`]). False
    /// (and all-ones) for an access of a size or alignment MSI-X does not
    /// allow, or one reaching outside the structure.
    pub fn read(&self, area: MsixArea, offset: u64, data: &mut [u8]) -> bool {
        if !self.valid(area, offset, data.len()) {
            data.fill(0xff);
            return false;
        }
        for (i, b) in data.iter_mut().enumerate() {
            let at = offset + i as u64;
            *b = match area {
                MsixArea::Table => {
                    let e = &self.table[(at / MSIX_ENTRY_SIZE) as usize];
                    let dw = e[((at % MSIX_ENTRY_SIZE) / 4) as usize];
                    (dw >> ((at % 4) * 8)) as u8
                }
                MsixArea::Pba => (self.pba[(at / 8) as usize] >> ((at % 8) * 8)) as u8,
            };
        }
        true
    }

    /// Write `data` at `offset` of `area`. PBA writes are ignored. Returns
    /// whether the access was valid, and the message to deliver when the
    /// write unmasked a pending vector.
    pub fn write(
        &mut self,
        area: MsixArea,
        offset: u64,
        data: &[u8],
    ) -> (bool, Vec<(u16, MsiMessage)>) {
        if !self.valid(area, offset, data.len()) {
            return (false, Vec::new());
        }
        if area == MsixArea::Pba {
            return (true, Vec::new());
        }
        let vector = (offset / MSIX_ENTRY_SIZE) as u16;
        let was_masked = self.masked(vector);
        for (i, &b) in data.iter().enumerate() {
            let at = offset + i as u64;
            let e = &mut self.table[(at / MSIX_ENTRY_SIZE) as usize];
            let dw = &mut e[((at % MSIX_ENTRY_SIZE) / 4) as usize];
            let shift = (at % 4) * 8;
            *dw = (*dw & !(0xff << shift)) | u32::from(b) << shift;
        }
        // An aligned 4- or 8-byte access stays inside one entry.
        (
            true,
            self.unmask_update(vector, was_masked).into_iter().collect(),
        )
    }

    fn valid(&self, area: MsixArea, offset: u64, len: usize) -> bool {
        let size = match area {
            MsixArea::Table => self.table_len(),
            MsixArea::Pba => self.pba_len(),
        };
        matches!(len, 4 | 8)
            && offset.is_multiple_of(len as u64)
            && offset.checked_add(len as u64).is_some_and(|e| e <= size)
    }
}

/// MSI-X state in a snapshot: the control bits, the table (four dwords
/// per vector) and the pending bits (one u64 per 64 vectors).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MsixSaved {
    enable: bool,
    function_mask: bool,
    table: Vec<[u32; 4]>,
    pba: Vec<u64>,
}

impl MsixState {
    pub(crate) fn save(&self) -> MsixSaved {
        MsixSaved {
            enable: self.enable,
            function_mask: self.function_mask,
            table: self.table.clone(),
            pba: self.pba.clone(),
        }
    }

    /// Does `saved` fit this function: as many entries and PBA words, no
    /// pending bit beyond the last vector?
    pub(crate) fn check(&self, saved: &MsixSaved) -> Result<(), String> {
        let n = self.table.len();
        if saved.table.len() != n || saved.pba.len() != self.pba.len() {
            return Err(format!(
                "MSI-X table of {} entries and {} PBA words, the device has {n} and {}",
                saved.table.len(),
                saved.pba.len(),
                self.pba.len()
            ));
        }
        let spare = n % 64;
        if spare != 0 && saved.pba.last().is_some_and(|w| w >> spare != 0) {
            return Err("MSI-X pending bit beyond the last vector".to_owned());
        }
        Ok(())
    }

    /// The state of a checked `saved`.
    pub(crate) fn restore(&mut self, saved: &MsixSaved) {
        self.enable = saved.enable;
        self.function_mask = saved.function_mask;
        self.table.clone_from(&saved.table);
        self.pba.clone_from(&saved.pba);
    }
}

/// One of the two MSI-X structures in a BAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsixArea {
    /// The vector table.
    Table,
    /// The pending bit array.
    Pba,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(vectors: u16) -> MsixInfo {
        MsixInfo {
            vectors,
            table_bar: 1,
            table_offset: 0,
            pba_bar: 1,
            pba_offset: 0x800,
        }
    }

    fn program(s: &mut MsixState, v: u16, masked: bool) {
        let o = u64::from(v) * 16;
        s.write(MsixArea::Table, o, &0xfee0_0000u32.to_le_bytes());
        s.write(MsixArea::Table, o + 4, &0u32.to_le_bytes());
        s.write(MsixArea::Table, o + 8, &(0x40 + u32::from(v)).to_le_bytes());
        s.write(MsixArea::Table, o + 12, &u32::from(masked).to_le_bytes());
    }

    #[test]
    fn reset_masks_every_vector() {
        let s = MsixState::new(info(3));
        assert_eq!(s.control(), 2);
        let mut b = [0; 4];
        assert!(s.read(MsixArea::Table, 2 * 16 + 12, &mut b));
        assert_eq!(u32::from_le_bytes(b), 1);
        assert_eq!(s.pba_len(), 8);
        assert_eq!(s.cap_dword(2, 0), 0x801);
    }

    #[test]
    fn masked_vector_pends_until_unmasked() {
        let mut s = MsixState::new(info(2));
        assert_eq!(s.send(0), MsixSend::Dropped, "disabled: no pending bit");
        assert!(!s.pending(0));
        assert!(
            s.cap_write(0, u32::from(MSIX_CONTROL_ENABLE) << 16, 0xffff_0000)
                .is_empty()
        );
        program(&mut s, 0, false);
        program(&mut s, 1, true);
        assert!(matches!(s.send(0), MsixSend::Deliver(m) if m.data == 0x40));
        assert_eq!(s.send(1), MsixSend::Pending);
        let mut b = [0; 8];
        assert!(s.read(MsixArea::Pba, 0, &mut b));
        assert_eq!(u64::from_le_bytes(b), 2);
        assert!(s.write(MsixArea::Pba, 0, &[0; 8]).0, "a valid PBA write...");
        assert!(s.pending(1), "...changes nothing: the PBA is read-only");
        let (ok, out) = s.write(MsixArea::Table, 16 + 12, &0u32.to_le_bytes());
        assert!(ok);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, 1);
        assert!(!s.pending(1));
    }

    #[test]
    fn function_mask_holds_all_vectors() {
        let mut s = MsixState::new(info(2));
        let en = u32::from(MSIX_CONTROL_ENABLE | MSIX_CONTROL_FUNCTION_MASK) << 16;
        s.cap_write(0, en, 0xffff_0000);
        program(&mut s, 0, false);
        program(&mut s, 1, false);
        assert_eq!(s.send(0), MsixSend::Pending);
        assert_eq!(s.send(1), MsixSend::Pending);
        let out = s.cap_write(0, u32::from(MSIX_CONTROL_ENABLE) << 16, 0xffff_0000);
        assert_eq!(out.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [0, 1]);
        assert!(!s.pending(0) && !s.pending(1));
    }

    #[test]
    fn invalid_sizes_read_all_ones() {
        let mut s = MsixState::new(info(1));
        let mut b = [0; 2];
        assert!(!s.read(MsixArea::Table, 0, &mut b));
        assert_eq!(b, [0xff; 2]);
        assert!(!s.write(MsixArea::Table, 2, &[1, 2, 3, 4]).0);
        let mut q = [0; 8];
        assert!(!s.read(MsixArea::Table, 4, &mut q), "misaligned qword");
        assert!(s.read(MsixArea::Table, 8, &mut q));
        assert_eq!(q, [0, 0, 0, 0, 1, 0, 0, 0]);
    }
}
