//! The model plugged into vm-device's IoManager as PIO and MMIO device.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use pcidev_runtime::vm_device::bus::{MmioAddress, MmioRange, PioAddress, PioRange};
use pcidev_runtime::vm_device::device_manager::{IoManager, MmioManager, PioManager};
use pcidev_runtime::*;

const IO_BASE: u16 = 0xc000;
const MMIO_BASE: u64 = 0xfebf_0000;
const MMIO64_BASE: u64 = 0x8_0000_0000;

fn plugged() -> (IoManager, Arc<Mutex<Model<Toy>>>, Irqs) {
    let (mut model, irqs, _) = toy();
    // Firmware-style enumeration: program the BARs, then enable decoding.
    cfg_write32(&mut model, 0x10, u32::from(IO_BASE));
    cfg_write32(&mut model, 0x14, MMIO_BASE as u32);
    cfg_write32(&mut model, 0x18, MMIO64_BASE as u32);
    cfg_write32(&mut model, 0x1c, (MMIO64_BASE >> 32) as u32);
    enable_all(&mut model);
    let model = Arc::new(Mutex::new(model));
    let mut io = IoManager::new();
    io.register_pio(
        PioRange::new(PioAddress(IO_BASE), 32).unwrap(),
        model.clone(),
    )
    .unwrap();
    io.register_mmio(
        MmioRange::new(MmioAddress(MMIO_BASE), 4096).unwrap(),
        model.clone(),
    )
    .unwrap();
    io.register_mmio(
        MmioRange::new(MmioAddress(MMIO64_BASE), 0x1000).unwrap(),
        model.clone(),
    )
    .unwrap();
    (io, model, irqs)
}

#[test]
fn pio_and_mmio_dispatch_to_the_right_bar() {
    let (io, model, irqs) = plugged();
    io.pio_write(PioAddress(IO_BASE), &0x1234_5678u32.to_le_bytes())
        .unwrap();
    io.mmio_write(MmioAddress(MMIO_BASE + 4), &0x9abc_def0u32.to_le_bytes())
        .unwrap();
    io.mmio_write(
        MmioAddress(MMIO64_BASE),
        &0x1122_3344_5566_7788u64.to_le_bytes(),
    )
    .unwrap();
    {
        let m = model.lock().unwrap();
        assert_eq!(m.regs.ctrl, 0x1234_5678);
        assert_eq!(m.regs.rw32, 0x9abc_def0);
        assert_eq!(m.regs.wide, 0x1122_3344_5566_7788);
    }
    let mut b = [0; 4];
    io.pio_read(PioAddress(IO_BASE), &mut b).unwrap();
    assert_eq!(u32::from_le_bytes(b), 0x1234_5678);
    io.mmio_read(MmioAddress(MMIO_BASE + 4), &mut b).unwrap();
    assert_eq!(u32::from_le_bytes(b), 0x9abc_def0);

    // Interrupt raised and acknowledged through the bus, like the hello_tic handler.
    io.mmio_write(MmioAddress(MMIO_BASE + 0x1c), &1u32.to_le_bytes())
        .unwrap();
    assert!(model.lock().unwrap().interrupt_asserted());
    io.pio_read(PioAddress(IO_BASE + 4), &mut b).unwrap();
    assert_eq!(u32::from_le_bytes(b), 1);
    io.pio_write(PioAddress(IO_BASE + 4), &1u32.to_le_bytes())
        .unwrap();
    assert_eq!(irqs.take(), vec![Irq::Intx(true), Irq::Intx(false)]);

    // A 1-byte outb to a 4-byte-only register is dropped (the hello_tic seed bug).
    io.pio_write(PioAddress(IO_BASE), &[1]).unwrap();
    assert_eq!(model.lock().unwrap().regs.ctrl, 0x1234_5678);
}

#[test]
fn bus_rejects_accesses_outside_registered_ranges() {
    let (io, _, _) = plugged();
    let mut b = [0; 4];
    assert!(io.pio_read(PioAddress(IO_BASE + 30), &mut b).is_err());
    assert!(io.mmio_read(MmioAddress(MMIO_BASE + 4096), &mut b).is_err());
}

#[test]
fn unprogrammed_single_bar_falls_back() {
    // BARs never programmed: the only I/O BAR still serves its range.
    let (mut model, _, _) = toy();
    enable_all(&mut model);
    let model = Arc::new(Mutex::new(model));
    let mut io = IoManager::new();
    io.register_pio(
        PioRange::new(PioAddress(0x1000), 32).unwrap(),
        model.clone(),
    )
    .unwrap();
    io.pio_write(PioAddress(0x1000), &7u32.to_le_bytes())
        .unwrap();
    assert_eq!(model.lock().unwrap().regs.ctrl, 7);

    // Two memory BARs, neither at the base: no BAR matches; all-ones, no panic.
    io.register_mmio(
        MmioRange::new(MmioAddress(0xe000_0000), 16).unwrap(),
        model.clone(),
    )
    .unwrap();
    let mut b = [0; 4];
    io.mmio_read(MmioAddress(0xe000_0000), &mut b).unwrap();
    assert_eq!(b, [0xff; 4]);
    assert_eq!(
        model.lock().unwrap().bar_for_base(false, 0xe000_0000),
        NO_BAR
    );
}
