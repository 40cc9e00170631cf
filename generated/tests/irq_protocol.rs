//! The interrupt handler protocol of the shipped specs, run against their
//! models: the generated `handle_irq` (the same protocol the drivers run)
//! says "not mine" when the device has nothing pending, so a driver on a
//! shared INTx line leaves other devices' interrupts alone.

use pcidev_models::pci_serial;
use pcidev_runtime::scenario::{Harness, Loc};

/// pci_serial's IIR reads 0x01 (bit 0 SET) when nothing is pending: with
/// `status IIR` the handler took that as "mine" and claimed every interrupt
/// on the line; `mine (IIR & 1) == 0` does not.
#[test]
fn pci_serial_handler_claims_only_its_own_interrupts() {
    let mut h = Harness::new(
        pci_serial::Device::new(pci_serial::NoHooks),
        pci_serial::scenarios::DMA_BUFFER,
    );
    let iir = Loc::bar(0, 2, 1);
    let ier = Loc::bar(0, 1, 1);
    assert_eq!(h.read(iir).0, 0x01, "nothing pending after reset");
    assert!(
        !pci_serial::scenarios::handle_irq(&mut h),
        "another device's interrupt"
    );
    // THR empty with ETBEI enabled: a THRI is pending (IIR 0x02) ...
    assert!(h.write(ier, 0x02));
    assert!(
        pci_serial::scenarios::handle_irq(&mut h),
        "the UART's own THRI"
    );
    // ... and the handler's IIR read acknowledged it, as on QEMU.
    assert_eq!(h.read(iir).0, 0x01);
    assert!(!pci_serial::scenarios::handle_irq(&mut h));
}
