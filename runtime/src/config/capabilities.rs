//! Where the capability list and the device-specific registers sit in
//! configuration space: MSI, MSI-X and vendor capabilities placed and
//! chained in offset order, and the owner of each device-specific byte.
//! The placement rules are the module docs of [`super`].

use super::AREA;
use crate::info::{DeviceInfo, RegisterLayout};
use pcidev_core::config::{
    CONFIG_SPACE_SIZE, DEVICE_SPECIFIC, MSI_CAP_LEN, MSI_CAP_OFFSET, MSIX_CAP_LEN, MSIX_CAP_OFFSET,
    VENDOR_CAP_HEADER,
};

/// What a placed capability is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapKind {
    /// MSI (id 0x05), served from the MSI registers of [`ConfigSpace`](super::ConfigSpace).
    Msi,
    /// MSI-X (id 0x11), served from the [`MsixState`](crate::msix::MsixState) of [`ConfigSpace`](super::ConfigSpace).
    Msix,
    /// Vendor-specific (id 0x09): header from the runtime, the rest the
    /// device's registers.
    Vendor,
}

/// One capability in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacedCapability {
    /// What it is.
    pub kind: CapKind,
    /// Offset in configuration space.
    pub offset: u8,
    /// Bytes it occupies.
    pub len: u8,
    /// Offset of the next capability in the list, 0 for the last.
    pub next: u8,
}

impl PlacedCapability {
    pub(super) fn contains(&self, off: u64) -> bool {
        (u64::from(self.offset)..u64::from(self.offset) + u64::from(self.len)).contains(&off)
    }
    /// The bytes the runtime owns: a vendor capability's header, all of MSI.
    pub(super) fn header_contains(&self, off: u64) -> bool {
        let len = match self.kind {
            CapKind::Msi | CapKind::Msix => self.len,
            CapKind::Vendor => VENDOR_CAP_HEADER,
        };
        (u64::from(self.offset)..u64::from(self.offset) + u64::from(len)).contains(&off)
    }
}

/// The capability list of `info`, in offset order and chained.
pub(super) fn place_capabilities(info: &DeviceInfo) -> Vec<PlacedCapability> {
    let mut caps: Vec<PlacedCapability> = Vec::new();
    if info.msi.is_some() {
        caps.push(PlacedCapability {
            kind: CapKind::Msi,
            offset: MSI_CAP_OFFSET,
            len: MSI_CAP_LEN,
            next: 0,
        });
    }
    if info.msix.is_some() {
        caps.push(PlacedCapability {
            kind: CapKind::Msix,
            offset: MSIX_CAP_OFFSET,
            len: MSIX_CAP_LEN,
            next: 0,
        });
    }
    for v in info.vendor_capabilities {
        let end = u64::from(v.offset) + u64::from(v.len);
        let fits = u64::from(v.offset) >= DEVICE_SPECIFIC
            && v.offset % 4 == 0
            && v.len >= VENDOR_CAP_HEADER
            && end <= CONFIG_SPACE_SIZE;
        let free = caps.iter().all(|c| {
            end <= u64::from(c.offset)
                || u64::from(c.offset) + u64::from(c.len) <= u64::from(v.offset)
        });
        if fits && free {
            caps.push(PlacedCapability {
                kind: CapKind::Vendor,
                offset: v.offset,
                len: v.len,
                next: 0,
            });
        }
    }
    caps.sort_by_key(|c| c.offset);
    for i in 1..caps.len() {
        caps[i - 1].next = caps[i].offset;
    }
    caps
}

/// For each byte of the device-specific area, 1 + the index of the
/// configuration register that owns it (0: none).
pub(super) fn place_registers(regs: &[RegisterLayout], caps: &[PlacedCapability]) -> [u8; AREA] {
    let mut owner = [0u8; AREA];
    for (i, r) in regs.iter().enumerate().take(AREA) {
        let end = r.offset.saturating_add(u64::from(r.width));
        let ok = (1..=4).contains(&r.width)
            && r.offset >= DEVICE_SPECIFIC
            && end <= CONFIG_SPACE_SIZE
            && (r.offset..end).all(|off| {
                owner[(off - DEVICE_SPECIFIC) as usize] == 0
                    && !caps.iter().any(|c| c.header_contains(off))
            });
        if ok {
            for off in r.offset..end {
                // i < AREA (take above), so i + 1 fits in a u8.
                owner[(off - DEVICE_SPECIFIC) as usize] = i as u8 + 1;
            }
        }
    }
    owner
}
