//! The vfio-user view of a device: its regions and interrupt indices, derived
//! from the model's [`DeviceInfo`], numbered as Linux's vfio-pci numbers
//! them (QEMU's `vfio-user-pci` expects that numbering).
//!
//! | region | what | size |
//! |---|---|---|
//! | 0–5 | BAR *n* | the BAR's size; 0 when absent or the upper half of a 64-bit BAR |
//! | 6 | expansion ROM | 0 (none) |
//! | 7 | configuration space | 256 |
//! | 8 | VGA | 0 (none) |
//!
//! | irq index | what | count |
//! |---|---|---|
//! | 0 | INTx | 1 when the device has an interrupt pin, else 0 |
//! | 1 | MSI | the MSI vector count, 0 without MSI |
//! | 2 | MSI-X | 0 |
//! | 3 | error notification | 0 |
//! | 4 | device request | 0 |

use pcidev_runtime::{CONFIG_SPACE_SIZE, DeviceInfo};
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_MASKABLE,
    VFIO_IRQ_INFO_NORESIZE, VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_WRITE,
    vfio_region_info,
};
use vfio_user::{IrqInfo, ServerRegion};

/// Number of regions a vfio-pci device has.
pub const NUM_REGIONS: u32 = 9;
/// The region index of the expansion ROM.
pub const ROM_REGION: u32 = 6;
/// The region index of the configuration space.
pub const CONFIG_REGION: u32 = 7;
/// Number of interrupt indices a vfio-pci device has.
pub const NUM_IRQS: u32 = 5;
/// The irq index of INTx.
pub const INTX_IRQ: u32 = 0;
/// The irq index of MSI.
pub const MSI_IRQ: u32 = 1;

/// What a region index stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// A BAR of the model (index 0–5).
    Bar(u8),
    /// The configuration space.
    Config,
    /// A region the device does not have (size 0).
    Absent,
}

/// The regions of one device: kind and size of each index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    regions: [(RegionKind, u64); NUM_REGIONS as usize],
    intx: bool,
    msi_vectors: u32,
}

impl Layout {
    /// The layout of `info`. A BAR whose index is above 5, whose size is 0,
    /// or that collides with an earlier BAR (or the upper half of a 64-bit
    /// one) is left out rather than trusted.
    pub fn new(info: &DeviceInfo) -> Self {
        let mut regions = [(RegionKind::Absent, 0); NUM_REGIONS as usize];
        let mut taken = [false; 6];
        for bar in info.bars {
            let index = usize::from(bar.index);
            let slots = usize::from(bar.kind.slots());
            if index + slots > 6 || bar.size == 0 || taken[index..index + slots].contains(&true) {
                continue;
            }
            taken[index..index + slots].fill(true);
            regions[index] = (RegionKind::Bar(bar.index), bar.size);
        }
        regions[CONFIG_REGION as usize] = (RegionKind::Config, CONFIG_SPACE_SIZE);
        Layout {
            regions,
            intx: info.interrupt_pin.is_some(),
            msi_vectors: info.msi.map_or(0, |m| 1 << m.mmc()),
        }
    }

    /// Kind and size of region `index` (`Absent`, 0 past the last region).
    pub fn region(&self, index: u32) -> (RegionKind, u64) {
        self.regions
            .get(index as usize)
            .copied()
            .unwrap_or((RegionKind::Absent, 0))
    }

    /// Whether the device has INTx.
    pub fn has_intx(&self) -> bool {
        self.intx
    }

    /// Number of MSI vectors (0 without MSI).
    pub fn msi_vectors(&self) -> u32 {
        self.msi_vectors
    }

    /// The regions as the `vfio_user` server announces them.
    pub fn server_regions(&self) -> Vec<ServerRegion> {
        (0..NUM_REGIONS)
            .map(|index| {
                let (kind, size) = self.region(index);
                let flags = match kind {
                    RegionKind::Absent => 0,
                    _ => VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
                };
                ServerRegion {
                    region_info: vfio_region_info {
                        argsz: std::mem::size_of::<vfio_region_info>() as u32,
                        flags,
                        index,
                        cap_offset: 0,
                        size,
                        offset: 0,
                    },
                    sparse_areas: Vec::new(),
                    mmap_fd: None,
                }
            })
            .collect()
    }

    /// The interrupt indices as the `vfio_user` server announces them
    /// (position in the vector = irq index).
    pub fn irq_infos(&self) -> Vec<IrqInfo> {
        (0..NUM_IRQS)
            .map(|index| {
                let (flags, count) = match index {
                    INTX_IRQ if self.intx => (
                        VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED,
                        1,
                    ),
                    MSI_IRQ if self.msi_vectors > 0 => (
                        VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE,
                        self.msi_vectors,
                    ),
                    _ => (0, 0),
                };
                IrqInfo {
                    index,
                    flags,
                    count,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcidev_runtime::{AccessPolicy, BarInfo, BarKind, IntxPin, MsiInfo};

    const fn bar(index: u8, kind: BarKind, size: u64) -> BarInfo {
        BarInfo {
            index,
            kind,
            size,
            policy: AccessPolicy::PERMISSIVE,
            registers: &[],
        }
    }

    const BARS: &[BarInfo] = &[
        bar(0, BarKind::Io, 16),
        bar(
            1,
            BarKind::Mem64 {
                prefetchable: false,
            },
            0x4000,
        ),
        // Collides with the upper half of BAR1: ignored.
        bar(
            2,
            BarKind::Mem32 {
                prefetchable: false,
            },
            0x1000,
        ),
        // Out of range: ignored.
        bar(
            6,
            BarKind::Mem32 {
                prefetchable: false,
            },
            0x1000,
        ),
        bar(5, BarKind::Mem64 { prefetchable: true }, 0x1000),
    ];

    const INFO: DeviceInfo = DeviceInfo {
        name: "layout",
        vendor_id: 0x1337,
        device_id: 1,
        revision: 0,
        class_code: [0xff, 0, 0],
        subsystem_vendor_id: 0,
        subsystem_id: 0,
        interrupt_pin: Some(IntxPin::B),
        bars: BARS,
        msi: Some(MsiInfo { vectors: 3 }),
        config_registers: &[],
        vendor_capabilities: &[],
    };

    #[test]
    fn regions_follow_vfio_pci_numbering() {
        let layout = Layout::new(&INFO);
        assert_eq!(layout.region(0), (RegionKind::Bar(0), 16));
        assert_eq!(layout.region(1), (RegionKind::Bar(1), 0x4000));
        assert_eq!(layout.region(2), (RegionKind::Absent, 0));
        assert_eq!(layout.region(5), (RegionKind::Absent, 0));
        assert_eq!(layout.region(ROM_REGION), (RegionKind::Absent, 0));
        assert_eq!(layout.region(CONFIG_REGION), (RegionKind::Config, 256));
        assert_eq!(layout.region(8), (RegionKind::Absent, 0));
        assert_eq!(layout.region(u32::MAX), (RegionKind::Absent, 0));
        let regions = layout.server_regions();
        assert_eq!(regions.len(), 9);
        assert_eq!(regions[1].region_info.index, 1);
        assert_eq!(regions[2].region_info.flags, 0);
        assert_eq!(
            regions[7].region_info.flags,
            VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE
        );
    }

    #[test]
    fn irqs_follow_pin_and_msi() {
        let layout = Layout::new(&INFO);
        let irqs = layout.irq_infos();
        assert_eq!(irqs.len(), 5);
        assert_eq!(irqs[0].count, 1);
        assert_ne!(irqs[0].flags & VFIO_IRQ_INFO_AUTOMASKED, 0);
        // 3 vectors round down to the 2 the MMC field can express.
        assert_eq!(irqs[1].count, 2);
        assert!(irqs[2..].iter().all(|i| i.count == 0));

        let bare = Layout::new(&DeviceInfo {
            interrupt_pin: None,
            msi: None,
            config_registers: &[],
            vendor_capabilities: &[],
            ..INFO
        });
        assert!(bare.irq_infos().iter().all(|i| i.count == 0));
    }
}
