//! Interpreted vs generated dispatch per guest access, in the same run.
//!
//! - `generated`: `Model<hello_tic::Device>` (the CLI's output, compiled);
//! - `interpreted`: `Model<Interp>` of `specs/hello_tic.pcidev`;
//!
//! both through `vm_device::MutDeviceMmio`, as a VMM calls them. Groups:
//! a 4-byte read of BAR1's `ID` (a plain stored register), a 4-byte write
//! of it, and edu's `FACT` write + read (an action calling a hook and a
//! status update) for a register with behaviour; for language v2,
//! pci_serial (I/O BAR, through `vm_device::MutDevicePio`) in loopback with
//! FIFOs on: a THR write + RBR read (FIFO pushes and pops, a timer started
//! and stopped, `let`s, the derived interrupt level after each access), and
//! an LSR read.
//!
//! Before the groups it prints start-up figures: the median of 20 loads of
//! `specs/pci_serial.pcidev` (`Spec::load`: parse, check, prepare) plus
//! building its model, against building the generated model.
//!
//! Run: `cargo bench -p pcidev-interp --bench interp_dispatch`; medians are
//! in `target/criterion/<group>/<function>/new/estimates.json`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use pcidev_interp::{DefaultHooks, FnHooks, Spec};
use pcidev_models::{edu, hello_tic, pci_serial};
use pcidev_runtime::vm_device::bus::{MmioAddress, PioAddress};
use pcidev_runtime::vm_device::{MutDeviceMmio, MutDevicePio};
use pcidev_runtime::{COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, Model, Registers};

const BASE: u64 = 0xfebd_1000;
const EDU_BASE: u64 = 0xfe00_0000;
const SERIAL_BASE: u16 = 0xc000;

fn enable<R: Registers>(mut m: Model<R>, bar_reg: u64, base: u64) -> Model<R> {
    m.config_write(bar_reg, &(base as u32).to_le_bytes());
    m.config_write(
        0x04,
        &(COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE).to_le_bytes(),
    );
    m
}

fn spec(name: &str) -> &'static Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../specs/{name}.pcidev"));
    Spec::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Start-up: loading and preparing the spec and building a model, against
/// building the generated model. Each load leaks its description (by
/// design, see `Spec`), so 20 runs, not criterion's thousands.
fn startup() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/pci_serial.pcidev");
    let interp: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            let spec = Spec::load(&path).unwrap_or_else(|e| panic!("{e}"));
            black_box(spec.model(Box::new(DefaultHooks::quiet())));
            t.elapsed()
        })
        .collect();
    let generated: Vec<Duration> = (0..20)
        .map(|_| {
            let t = Instant::now();
            black_box(pci_serial::model());
            t.elapsed()
        })
        .collect();
    eprintln!(
        "start-up pci_serial: interpreted (Spec::load + model) median {:?}, generated (model) median {:?}",
        median(interp),
        median(generated)
    );
}

/// pci_serial in loopback with FIFOs on: IO decoding, FCR = FIFO enable,
/// MCR = loopback.
fn serial<R: Registers>(mut m: Model<R>) -> Model<R> {
    m.config_write(0x10, &(u32::from(SERIAL_BASE) | 1).to_le_bytes());
    m.config_write(0x04, &COMMAND_IO_SPACE.to_le_bytes());
    let base = PioAddress(SERIAL_BASE);
    m.pio_write(base, 2, &[0x01]);
    m.pio_write(base, 4, &[0x10]);
    m
}

fn bench(c: &mut Criterion) {
    startup();
    let tic = spec("hello_tic");
    let mut generated = enable(hello_tic::model(), 0x14, BASE);
    let mut interpreted = enable(tic.model(Box::new(DefaultHooks::quiet())), 0x14, BASE);
    let base = MmioAddress(BASE);

    let mut g = c.benchmark_group("interp_mmio_read_id");
    g.bench_function("generated", |b| {
        b.iter(|| {
            let mut d = [0u8; 4];
            generated.mmio_read(base, black_box(4), &mut d);
            black_box(d)
        })
    });
    g.bench_function("interpreted", |b| {
        b.iter(|| {
            let mut d = [0u8; 4];
            interpreted.mmio_read(base, black_box(4), &mut d);
            black_box(d)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("interp_mmio_write_id");
    g.bench_function("generated", |b| {
        b.iter(|| generated.mmio_write(base, black_box(4), &0x4567u32.to_le_bytes()))
    });
    g.bench_function("interpreted", |b| {
        b.iter(|| interpreted.mmio_write(base, black_box(4), &0x4567u32.to_le_bytes()))
    });
    g.finish();

    // edu: BAR0 at config 0x10; FACT at 0x08 (write runs the factorial hook).
    let edu_spec = spec("edu");
    let mut gen_edu = enable(edu::model(pcidev_models::EduHooks), 0x10, EDU_BASE);
    let mut int_edu = enable(
        edu_spec.model(Box::new(FnHooks(|_: &str, args: &[u64]| {
            use edu::Hooks as _;
            u64::from(pcidev_models::EduHooks.factorial(args[0] as u32))
        }))),
        0x10,
        EDU_BASE,
    );
    let eb = MmioAddress(EDU_BASE);
    let mut g = c.benchmark_group("interp_edu_fact_write_read");
    g.bench_function("generated", |b| {
        b.iter(|| {
            gen_edu.mmio_write(eb, black_box(8), &10u32.to_le_bytes());
            let mut d = [0u8; 4];
            gen_edu.mmio_read(eb, black_box(8), &mut d);
            black_box(d)
        })
    });
    g.bench_function("interpreted", |b| {
        b.iter(|| {
            int_edu.mmio_write(eb, black_box(8), &10u32.to_le_bytes());
            let mut d = [0u8; 4];
            int_edu.mmio_read(eb, black_box(8), &mut d);
            black_box(d)
        })
    });
    g.finish();

    let serial_spec = spec("pci_serial");
    let mut gen_serial = serial(pci_serial::model());
    let mut int_serial = serial(serial_spec.model(Box::new(DefaultHooks::quiet())));
    let sb = PioAddress(SERIAL_BASE);
    let mut g = c.benchmark_group("interp_serial_loopback_thr_rbr");
    g.bench_function("generated", |b| {
        b.iter(|| {
            gen_serial.pio_write(sb, black_box(0), b"A");
            let mut d = [0u8; 1];
            gen_serial.pio_read(sb, black_box(0), &mut d);
            black_box(d)
        })
    });
    g.bench_function("interpreted", |b| {
        b.iter(|| {
            int_serial.pio_write(sb, black_box(0), b"A");
            let mut d = [0u8; 1];
            int_serial.pio_read(sb, black_box(0), &mut d);
            black_box(d)
        })
    });
    g.finish();
    // The loop really went through the FIFOs: the byte came back.
    let mut d = [0u8; 1];
    gen_serial.pio_write(sb, 0, b"Q");
    gen_serial.pio_read(sb, 0, &mut d);
    assert_eq!(&d, b"Q");
    int_serial.pio_write(sb, 0, b"Q");
    int_serial.pio_read(sb, 0, &mut d);
    assert_eq!(&d, b"Q");

    let mut g = c.benchmark_group("interp_serial_lsr_read");
    g.bench_function("generated", |b| {
        b.iter(|| {
            let mut d = [0u8; 1];
            gen_serial.pio_read(sb, black_box(5), &mut d);
            black_box(d)
        })
    });
    g.bench_function("interpreted", |b| {
        b.iter(|| {
            let mut d = [0u8; 1];
            int_serial.pio_read(sb, black_box(5), &mut d);
            black_box(d)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
