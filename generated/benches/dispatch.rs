//! Cost of one MMIO read and write through hello_tic's generated dispatch,
//! against hand-written models measured in the same run.
//!
//! - `generated`: `Model<hello_tic::Device>`, the CLI's output, through
//!   `vm_device::MutDeviceMmio` (what a VMM calls).
//! - `hand_registers`: the same runtime `Model`, but a hand-written `match`
//!   in place of the generated `Registers` impl: isolates the generated code.
//! - `hand_bare`: a hand-written device implementing `MutDeviceMmio` with a
//!   `match` on the offset and nothing else (no config space, no policy
//!   table, no trace, no interrupt recompute): the floor a VMM author would
//!   write by hand, to show what the runtime's generic work costs.
//!
//! Run: `cargo bench -p pcidev-models --bench dispatch`. Report medians and
//! the ratios generated / hand_registers and generated / hand_bare.

use criterion::{Criterion, criterion_group, criterion_main};
use pcidev_models::hello_tic;
use pcidev_runtime::vm_device::MutDeviceMmio;
use pcidev_runtime::vm_device::bus::MmioAddress;
use pcidev_runtime::{
    COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, DeviceCtx, DeviceInfo, Model, Registers,
};
use std::hint::black_box;

const BASE: u64 = 0xfebd_1000;

/// hello_tic's registers written by hand against the runtime.
#[derive(Debug, Default)]
struct HandTic {
    irq_flag: bool,
    dma_addr: u32,
    dma_status: u32,
    id: u32,
}

impl Registers for HandTic {
    fn info(&self) -> &'static DeviceInfo {
        &hello_tic::INFO
    }

    fn read_register(&mut self, _ctx: &mut DeviceCtx, bar: u8, reg: usize) -> u64 {
        match (bar, reg) {
            (0, 0) | (1, 0) => u64::from(self.irq_flag),
            (0, 2) => u64::from(self.dma_addr),
            (0, 3) => u64::from(self.dma_status),
            (1, 1) => u64::from(self.id),
            _ => 0,
        }
    }

    fn write_register(&mut self, ctx: &mut DeviceCtx, bar: u8, reg: usize, value: u64, _lanes: u8) {
        match (bar, reg) {
            (0, 0) => self.irq_flag = value != 0,
            (0, 1) => {
                self.dma_status = ctx
                    .dma_write_random(u64::from(self.dma_addr), 0x1ffff, 0x5eed)
                    .status_code() as u32
            }
            (0, 2) => self.dma_addr = value as u32,
            (1, 1) => self.id = value as u32,
            _ => {}
        }
    }

    fn interrupt_level(&self, _ctx: &DeviceCtx) -> bool {
        self.irq_flag
    }

    fn reset(&mut self) {
        *self = HandTic {
            id: 0x1337,
            dma_addr: 0xa0000,
            ..HandTic::default()
        };
    }
}

/// hello_tic's BAR1 written as a bare vm-device MMIO device.
struct Bare {
    irq_flag: bool,
    id: u32,
}

impl MutDeviceMmio for Bare {
    fn mmio_read(&mut self, _base: MmioAddress, offset: u64, data: &mut [u8]) {
        let v = match (offset, data.len()) {
            (0, 4) => u32::from(self.irq_flag),
            (4, 4) => self.id,
            _ => 0,
        };
        let n = data.len().min(4);
        data[..n].copy_from_slice(&v.to_le_bytes()[..n]);
    }
    fn mmio_write(&mut self, _base: MmioAddress, offset: u64, data: &[u8]) {
        if let (4, Ok(b)) = (offset, <[u8; 4]>::try_from(data)) {
            self.id = u32::from_le_bytes(b);
        }
    }
}

fn enabled<R: Registers>(regs: R) -> Model<R> {
    let mut m = Model::new(regs);
    m.config_write(0x14, &(BASE as u32).to_le_bytes());
    m.config_write(
        0x04,
        &(COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE).to_le_bytes(),
    );
    m
}

fn bench(c: &mut Criterion) {
    let mut generated = enabled(hello_tic::Device::new(hello_tic::NoHooks));
    let mut hand = enabled(HandTic {
        id: 0x1337,
        dma_addr: 0xa0000,
        ..HandTic::default()
    });
    let mut bare = Bare {
        irq_flag: false,
        id: 0x1337,
    };
    let base = MmioAddress(BASE);

    let mut g = c.benchmark_group("mmio_read_id");
    g.bench_function("generated", |b| {
        b.iter(|| {
            let mut d = [0u8; 4];
            generated.mmio_read(base, black_box(4), &mut d);
            black_box(d)
        })
    });
    g.bench_function("hand_registers", |b| {
        b.iter(|| {
            let mut d = [0u8; 4];
            hand.mmio_read(base, black_box(4), &mut d);
            black_box(d)
        })
    });
    g.bench_function("hand_bare", |b| {
        b.iter(|| {
            let mut d = [0u8; 4];
            bare.mmio_read(base, black_box(4), &mut d);
            black_box(d)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("mmio_write_id");
    g.bench_function("generated", |b| {
        b.iter(|| generated.mmio_write(base, black_box(4), &0x4567u32.to_le_bytes()))
    });
    g.bench_function("hand_registers", |b| {
        b.iter(|| hand.mmio_write(base, black_box(4), &0x4567u32.to_le_bytes()))
    });
    g.bench_function("hand_bare", |b| {
        b.iter(|| bare.mmio_write(base, black_box(4), &0x4567u32.to_le_bytes()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
