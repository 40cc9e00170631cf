//! hello_tic's generated model, driven through vm-device's IoManager the way
//! a VMM would: every behaviour of DESIGN.md's hello_tic section, config
//! space conformance for its two BARs, and panic freedom under arbitrary
//! access sequences.

use std::sync::{Arc, Mutex};

use pcidev_models::hello_tic;
use pcidev_runtime::vm_device::bus::{MmioAddress, MmioRange, PioAddress, PioRange};
use pcidev_runtime::vm_device::device_manager::{IoManager, MmioManager, PioManager};
use pcidev_runtime::vm_memory::{Bytes, GuestAddress};
use pcidev_runtime::{
    COMMAND_BUS_MASTER, COMMAND_INTX_DISABLE, COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, GuestMem,
    InterruptSink, Model, MsiMessage, TraceBuffer, TraceEvent, random_bytes,
};

const IO_BASE: u16 = 0xc040;
const MMIO_BASE: u64 = 0xfebd_1000;
/// RAM below the VGA window, and a high block (like a PC's).
const LOW_RAM: (u64, usize) = (0, 0xa_0000);
const HIGH_RAM: (u64, usize) = (0x10_0000, 0x40_0000);
const BUFFER: u64 = 0x20_0000;

type HelloTic = Model<hello_tic::Device>;

/// INTx edges as an interrupt controller would see them.
#[derive(Clone, Default)]
struct Line(Arc<Mutex<Vec<bool>>>);

impl InterruptSink for Line {
    fn set_intx(&mut self, asserted: bool) {
        self.0.lock().unwrap().push(asserted);
    }
    fn msi(&mut self, _vector: u8, _message: MsiMessage) {
        panic!("hello_tic has no MSI");
    }
    fn msix(&mut self, _vector: u16, _message: MsiMessage) {
        panic!("hello_tic has no MSI-X");
    }
}

impl Line {
    fn edges(&self) -> Vec<bool> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Vm {
    io: IoManager,
    dev: Arc<Mutex<HelloTic>>,
    mem: Arc<GuestMem>,
    line: Line,
    trace: TraceBuffer,
}

fn cfg_write32(m: &mut HelloTic, off: u64, v: u32) {
    m.config_write(off, &v.to_le_bytes());
}

fn cfg_read32(m: &mut HelloTic, off: u64) -> u32 {
    let mut b = [0; 4];
    m.config_read(off, &mut b);
    u32::from_le_bytes(b)
}

/// Enumerate like firmware (program BARs, enable decoding and bus
/// mastering), then plug the BARs into the bus.
fn vm() -> Vm {
    let mut m = hello_tic::model();
    let mem = Arc::new(
        GuestMem::from_ranges(&[
            (GuestAddress(LOW_RAM.0), LOW_RAM.1),
            (GuestAddress(HIGH_RAM.0), HIGH_RAM.1),
        ])
        .unwrap(),
    );
    m.set_guest_memory(Some(mem.clone()));
    let line = Line::default();
    m.set_interrupt_sink(Box::new(line.clone()));
    let trace = TraceBuffer::new();
    m.set_trace(trace.sink());
    cfg_write32(&mut m, 0x10, u32::from(IO_BASE));
    cfg_write32(&mut m, 0x14, MMIO_BASE as u32);
    let cmd = COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE | COMMAND_BUS_MASTER;
    m.config_write(0x04, &cmd.to_le_bytes());
    let dev = Arc::new(Mutex::new(m));
    let mut io = IoManager::new();
    io.register_pio(PioRange::new(PioAddress(IO_BASE), 16).unwrap(), dev.clone())
        .unwrap();
    io.register_mmio(
        MmioRange::new(MmioAddress(MMIO_BASE), 64).unwrap(),
        dev.clone(),
    )
    .unwrap();
    Vm {
        io,
        dev,
        mem,
        line,
        trace,
    }
}

impl Vm {
    fn inl(&self, off: u16) -> u32 {
        let mut b = [0; 4];
        self.io.pio_read(PioAddress(IO_BASE + off), &mut b).unwrap();
        u32::from_le_bytes(b)
    }
    fn outl(&self, v: u32, off: u16) {
        self.io
            .pio_write(PioAddress(IO_BASE + off), &v.to_le_bytes())
            .unwrap();
    }
    fn outb(&self, v: u8, off: u16) {
        self.io.pio_write(PioAddress(IO_BASE + off), &[v]).unwrap();
    }
    fn readl(&self, off: u64) -> u32 {
        let mut b = [0; 4];
        self.io
            .mmio_read(MmioAddress(MMIO_BASE + off), &mut b)
            .unwrap();
        u32::from_le_bytes(b)
    }
    fn writel(&self, v: u32, off: u64) {
        self.io
            .mmio_write(MmioAddress(MMIO_BASE + off), &v.to_le_bytes())
            .unwrap();
    }
    fn asserted(&self) -> bool {
        self.dev.lock().unwrap().interrupt_asserted()
    }
    fn dma_events(&self) -> Vec<TraceEvent> {
        self.trace
            .events()
            .into_iter()
            .filter(|e| matches!(e, TraceEvent::Dma { .. }))
            .collect()
    }
}

#[test]
fn id_resets_to_0x1337_and_reads_back_writes() {
    let vm = vm();
    assert_eq!(vm.readl(4), 0x1337);
    vm.writel(0x4567, 4);
    assert_eq!(vm.readl(4), 0x4567);
    {
        // Reset also clears COMMAND: the BAR stops decoding until re-enabled.
        let mut d = vm.dev.lock().unwrap();
        d.reset();
        let mut b = [0; 4];
        assert!(d.bar_read(1, 4, &mut b).is_ok());
        assert_eq!(b, [0xff; 4], "memory decoding is off after reset");
        let cmd = COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE;
        d.config_write(0x04, &cmd.to_le_bytes());
    }
    assert_eq!(vm.readl(4), 0x1337, "reset restores the id");
}

#[test]
fn irq_flag_is_readable_at_bar0_and_bar1_and_drives_intx() {
    let vm = vm();
    assert_eq!((vm.inl(0), vm.readl(0)), (0, 0));
    vm.outl(5, 0); // any non-zero value
    assert_eq!((vm.inl(0), vm.readl(0)), (1, 1));
    assert!(vm.asserted());
    assert_eq!(vm.line.edges(), vec![true]);
    vm.outl(7, 0); // still set: no new edge
    assert_eq!(vm.line.edges(), Vec::<bool>::new());
    // The seed driver's handler: inl(io+0) is non-zero, so outl(0, io+0).
    assert_ne!(vm.inl(0), 0);
    vm.outl(0, 0);
    assert!(!vm.asserted());
    assert_eq!(vm.line.edges(), vec![false]);
    assert_eq!((vm.inl(0), vm.readl(0)), (0, 0));
}

#[test]
fn bar1_irq_status_is_read_only() {
    let vm = vm();
    vm.writel(1, 0);
    assert_eq!(vm.readl(0), 0);
    assert!(!vm.asserted());
}

#[test]
fn intx_disable_masks_the_line_but_not_the_status_bit() {
    let vm = vm();
    {
        let mut d = vm.dev.lock().unwrap();
        let cmd = COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE | COMMAND_INTX_DISABLE;
        d.config_write(0x04, &cmd.to_le_bytes());
    }
    vm.outl(1, 0);
    assert!(!vm.asserted());
    let status = cfg_read32(&mut vm.dev.lock().unwrap(), 0x04) >> 16;
    assert_ne!(status & 0x8, 0, "STATUS.interrupt shows the pending level");
    // Re-enabling INTx delivers the pending level.
    vm.dev.lock().unwrap().config_write(
        0x04,
        &(COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE).to_le_bytes(),
    );
    assert!(vm.asserted());
}

#[test]
fn the_seed_drivers_outb_is_dropped_by_the_access_policy() {
    let vm = vm();
    vm.outb(1, 0); // driver_pci.c: outb(1, io+0) on a 32-bit-only register
    assert_eq!(vm.inl(0), 0);
    assert!(!vm.asserted());
    let last = vm
        .trace
        .events()
        .into_iter()
        .rev()
        .find(|e| matches!(e, TraceEvent::BarWrite { size: 1, .. }));
    assert!(
        matches!(
            last,
            Some(TraceEvent::BarWrite {
                outcome: pcidev_runtime::AccessOutcome::Invalid { .. },
                ..
            })
        ),
        "traced as invalid: {last:?}"
    );
    // 2-byte and misaligned accesses are invalid too; reads of them give 0 (`ignore`).
    let mut b = [0xaa; 2];
    vm.io.pio_read(PioAddress(IO_BASE), &mut b).unwrap();
    assert_eq!(b, [0, 0]);
    let mut b = [0xaa; 4];
    vm.io.mmio_read(MmioAddress(MMIO_BASE + 2), &mut b).unwrap();
    assert_eq!(b, [0; 4]);
}

#[test]
fn unused_offsets_read_zero_and_ignore_writes() {
    let vm = vm();
    for off in (0x10..0x40).step_by(4) {
        vm.writel(0xffff_ffff, off);
        assert_eq!(vm.readl(off), 0, "BAR1 + {off:#x}");
    }
    // BAR1+8..: nothing there. BAR0 has registers at every offset: DMA_STATUS is read-only.
    vm.outl(0xffff_ffff, 12);
    assert_eq!(vm.inl(12), 0);
    assert_eq!(vm.readl(4), 0x1337, "the id did not change");
}

#[test]
fn dma_to_the_seeds_fixed_address_is_refused_and_reported() {
    let vm = vm();
    let before = {
        let mut b = vec![0u8; LOW_RAM.1];
        vm.mem.read_slice(&mut b, GuestAddress(0)).unwrap();
        b
    };
    assert_eq!(vm.inl(8), 0xa0000, "DMA_ADDR resets to the seed's 0xa0000");
    vm.outl(1, 4); // outl(1, io+4)
    assert_eq!(vm.inl(12), 4, "DMA_STATUS: not guest RAM");
    let mut after = vec![0u8; LOW_RAM.1];
    vm.mem.read_slice(&mut after, GuestAddress(0)).unwrap();
    assert!(before == after, "nothing written anywhere");
    assert_eq!(
        vm.dma_events(),
        vec![TraceEvent::Dma {
            direction: pcidev_runtime::DmaDirection::ToGuest,
            address: 0xa0000,
            len: 0x1ffff,
            outcome: pcidev_runtime::DmaOutcome::OutOfRange,
            fnv1a: None,
        }]
    );
}

#[test]
fn dma_writes_0x1ffff_random_bytes_to_ram_and_nothing_else() {
    let vm = vm();
    vm.mem
        .write_slice(&vec![0xee; 0x30000], GuestAddress(BUFFER - 0x8000))
        .unwrap();
    vm.outl(BUFFER as u32, 8);
    vm.outl(1, 4);
    assert_eq!(vm.inl(12), 1, "DMA_STATUS: done");
    let mut got = vec![0u8; 0x1ffff];
    vm.mem.read_slice(&mut got, GuestAddress(BUFFER)).unwrap();
    assert!(
        got == random_bytes(0x5eed, 0x1ffff),
        "the spec's random(0x5eed) stream"
    );
    assert_eq!(
        vm.dma_events(),
        vec![TraceEvent::Dma {
            direction: pcidev_runtime::DmaDirection::ToGuest,
            address: BUFFER,
            len: 0x1ffff,
            outcome: pcidev_runtime::DmaOutcome::Done,
            fnv1a: Some(pcidev_runtime::fnv1a64(&got)),
        }],
        "the trace tells which bytes went where"
    );
    let mut edge = [0u8; 1];
    vm.mem
        .read_slice(&mut edge, GuestAddress(BUFFER + 0x1ffff))
        .unwrap();
    assert_eq!(edge, [0xee], "the byte after the transfer is untouched");
    vm.mem
        .read_slice(&mut edge, GuestAddress(BUFFER - 1))
        .unwrap();
    assert_eq!(edge, [0xee], "the byte before the transfer is untouched");
}

#[test]
fn dma_straddling_the_end_of_ram_writes_nothing() {
    let vm = vm();
    let end = HIGH_RAM.0 + HIGH_RAM.1 as u64;
    let start = end - 0x100;
    vm.mem
        .write_slice(&[0xee; 0x100], GuestAddress(start))
        .unwrap();
    vm.outl(start as u32, 8);
    vm.outl(1, 4);
    assert_eq!(vm.inl(12), 4);
    let mut tail = [0u8; 0x100];
    vm.mem.read_slice(&mut tail, GuestAddress(start)).unwrap();
    assert_eq!(tail, [0xee; 0x100]);
}

#[test]
fn dma_needs_bus_mastering() {
    let vm = vm();
    vm.dev.lock().unwrap().config_write(
        0x04,
        &(COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE).to_le_bytes(),
    );
    vm.outl(BUFFER as u32, 8);
    vm.outl(1, 4);
    assert_eq!(vm.inl(12), 2, "DMA_STATUS: bus mastering off");
}

// ------------------------------------------------------------ config space

#[test]
fn config_space_identity() {
    let mut m = hello_tic::model();
    assert_eq!(cfg_read32(&mut m, 0x00), 0x0001_1337, "device:vendor");
    assert_eq!(
        cfg_read32(&mut m, 0x08),
        0xff00_0000,
        "class ff:00:00, revision 0"
    );
    assert_eq!(cfg_read32(&mut m, 0x0c) >> 16 & 0xff, 0, "header type 0");
    assert_eq!(
        cfg_read32(&mut m, 0x2c),
        0x1100_1af4,
        "subsystem 1af4:1100, QEMU's default"
    );
    assert_eq!(cfg_read32(&mut m, 0x30), 0, "no expansion ROM");
    assert_eq!(cfg_read32(&mut m, 0x3c) >> 8 & 0xff, 2, "interrupt pin B");
    assert_eq!(cfg_read32(&mut m, 0x34) & 0xff, 0, "no capabilities");
    assert_eq!(
        cfg_read32(&mut m, 0x04) >> 16 & 0x10,
        0,
        "STATUS.capabilities clear"
    );
    cfg_write32(&mut m, 0x00, 0xdead_beef);
    assert_eq!(cfg_read32(&mut m, 0x00), 0x0001_1337, "ids are read-only");
    cfg_write32(&mut m, 0x3c, 0xffff_ff0b);
    assert_eq!(
        cfg_read32(&mut m, 0x3c) & 0xffff,
        0x020b,
        "line writable, pin read-only"
    );
}

#[test]
fn bar_sizing_matches_the_spec() {
    let mut m = hello_tic::model();
    cfg_write32(&mut m, 0x10, 0xffff_ffff);
    cfg_write32(&mut m, 0x14, 0xffff_ffff);
    assert_eq!(cfg_read32(&mut m, 0x10), 0xffff_fff1, "BAR0: 16-byte I/O");
    assert_eq!(
        cfg_read32(&mut m, 0x14),
        0xffff_ffc0,
        "BAR1: 64-byte mem32, not prefetchable"
    );
    for bar in 2..6 {
        cfg_write32(&mut m, 0x10 + 4 * bar, 0xffff_ffff);
        assert_eq!(
            cfg_read32(&mut m, 0x10 + 4 * bar),
            0,
            "BAR{bar} unimplemented"
        );
    }
}

// ------------------------------------------------------------ hostile guests

mod hostile {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Access {
        Config {
            write: bool,
            offset: u64,
            size: usize,
            value: u64,
        },
        Bar {
            write: bool,
            bar: u8,
            offset: u64,
            size: usize,
            value: u64,
        },
        Pio {
            write: bool,
            offset: u16,
            size: usize,
            value: u64,
        },
        Mmio {
            write: bool,
            offset: u64,
            size: usize,
            value: u64,
        },
        Reset,
    }

    fn access() -> impl Strategy<Value = Access> {
        let offset = prop_oneof![0u64..0x48, any::<u64>()];
        let value = prop_oneof![
            Just(0u64),
            Just(1),
            Just(u64::MAX),
            any::<u64>(),
            (0u64..0x50_0000)
        ];
        prop_oneof![
            (any::<bool>(), offset.clone(), 0usize..=9, value.clone()).prop_map(
                |(write, offset, size, value)| Access::Config {
                    write,
                    offset,
                    size,
                    value
                }
            ),
            (
                any::<bool>(),
                0u8..8,
                offset.clone(),
                0usize..=9,
                value.clone()
            )
                .prop_map(|(write, bar, offset, size, value)| Access::Bar {
                    write,
                    bar,
                    offset,
                    size,
                    value
                }),
            (any::<bool>(), 0u16..16, 0usize..=9, value.clone()).prop_map(
                |(write, offset, size, value)| Access::Pio {
                    write,
                    offset,
                    size,
                    value
                }
            ),
            (any::<bool>(), 0u64..64, 0usize..=9, value).prop_map(
                |(write, offset, size, value)| Access::Mmio {
                    write,
                    offset,
                    size,
                    value
                }
            ),
            Just(Access::Reset),
        ]
    }

    fn bytes(value: u64, size: usize) -> Vec<u8> {
        let le = value.to_le_bytes();
        (0..size).map(|i| le[i % 8]).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any offset, size 0..=9, any value, any order: no panic, and every
        /// byte of guest memory the device changed lies inside a DMA the
        /// trace reports as done.
        #[test]
        fn arbitrary_accesses_never_panic_or_stray(seq in proptest::collection::vec(access(), 1..64)) {
            let vm = vm();
            let snapshot = |mem: &GuestMem| {
                let mut low = vec![0u8; LOW_RAM.1];
                mem.read_slice(&mut low, GuestAddress(LOW_RAM.0)).unwrap();
                let mut high = vec![0u8; HIGH_RAM.1];
                mem.read_slice(&mut high, GuestAddress(HIGH_RAM.0)).unwrap();
                (low, high)
            };
            vm.mem.write_slice(&vec![0x5a; HIGH_RAM.1], GuestAddress(HIGH_RAM.0)).unwrap();
            let before = snapshot(&vm.mem);
            for a in &seq {
                match a {
                    Access::Config { write, offset, size, value } => {
                        let mut d = vm.dev.lock().unwrap();
                        if *write { d.config_write(*offset, &bytes(*value, *size)) } else { d.config_read(*offset, &mut vec![0; *size]) }
                    }
                    Access::Bar { write, bar, offset, size, value } => {
                        let mut d = vm.dev.lock().unwrap();
                        let _ = if *write { d.bar_write(*bar, *offset, &bytes(*value, *size)) } else { d.bar_read(*bar, *offset, &mut vec![0; *size]) };
                    }
                    Access::Pio { write, offset, size, value } => {
                        let addr = PioAddress(IO_BASE + offset);
                        let _ = if *write { vm.io.pio_write(addr, &bytes(*value, *size)) } else { vm.io.pio_read(addr, &mut vec![0; *size]) };
                    }
                    Access::Mmio { write, offset, size, value } => {
                        let addr = MmioAddress(MMIO_BASE + offset);
                        let _ = if *write { vm.io.mmio_write(addr, &bytes(*value, *size)) } else { vm.io.mmio_read(addr, &mut vec![0; *size]) };
                    }
                    Access::Reset => vm.dev.lock().unwrap().reset(),
                }
            }
            let after = snapshot(&vm.mem);
            let done: Vec<(u64, u64)> = vm.dma_events().into_iter().filter_map(|e| match e {
                TraceEvent::Dma { address, len, outcome: pcidev_runtime::DmaOutcome::Done, .. } => Some((address, address + len as u64)),
                _ => None,
            }).collect();
            for (base, (b, a)) in [(LOW_RAM.0, (&before.0, &after.0)), (HIGH_RAM.0, (&before.1, &after.1))] {
                if b == a {
                    continue;
                }
                for (i, (x, y)) in b.iter().zip(a.iter()).enumerate() {
                    if x != y {
                        let addr = base + i as u64;
                        prop_assert!(done.iter().any(|(s, e)| (*s..*e).contains(&addr)), "byte {addr:#x} changed outside any DMA");
                    }
                }
            }
        }
    }
}
