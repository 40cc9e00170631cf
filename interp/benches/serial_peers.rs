//! The generated 16550 model against rust-vmm's hand-written `vm-superio`
//! `Serial` (and the interpreter of the same spec), one access mix, one run.
//!
//! Peers, each configured as Linux's 8250 driver leaves a UART (8N1, FIFOs
//! on, THR-empty interrupt enabled) and each writing its line to a sink:
//! - `vm_superio`: `vm_superio::Serial` with a no-op trigger, writing to
//!   `std::io::sink()`: what a VMM author would use by hand;
//! - `generated`: `Model<pci_serial::Device>` (`specs/pci_serial.pcidev`
//!   compiled by pcidevc), through `Model::bar_read`/`bar_write` (the BAR's
//!   offsets, as `Serial::read`/`write` take them), its `line` stream
//!   drained every 1024 bytes;
//! - `interpreted`: `Model<Interp>` of the same spec, the same way
//!   (`pcidev-host --spec specs/pci_serial.pcidev`'s model).
//!
//! Groups (per iteration):
//! - `serial_tx`: transmit one byte as the 8250's polled console does: read
//!   LSR, write THR;
//! - `serial_irq_poll`: read IIR (the interrupt handler's first access);
//! - `serial_handler`: the 8250 interrupt handler's pattern for one
//!   transmitted byte: read IIR, read LSR, write THR, read MSR;
//! - `serial_line_control`: read and rewrite LCR and MCR, as the driver's
//!   `set_termios`/`set_mctrl` do (accesses that cannot change the
//!   interrupt level).
//!
//! Run: `cargo bench -p pcidev-interp --bench serial_peers`; medians are in
//! `target/criterion/<group>/<peer>/new/estimates.json`. Report the ratios
//! generated / vm_superio and interpreted / vm_superio.
//!
//! Instructions per iteration, independent of machine load: with
//! `SERIAL_PEERS_LOOP=<group>:<peer>:<iterations>` the binary runs just that
//! many iterations of one mix on one peer, no criterion; under
//! `valgrind --tool=callgrind`, the difference between two iteration counts
//! divided by their difference is the cost of one iteration (setup and
//! spec loading cancel out). See the README's Benchmarks.

use std::hint::black_box;
use std::io::Sink;
use std::path::Path;

use criterion::{BenchmarkGroup, Criterion, criterion_group, measurement::WallTime};
use pcidev_interp::{DefaultHooks, Interp, Spec};
use pcidev_models::pci_serial;
use pcidev_runtime::{COMMAND_IO_SPACE, Model, Registers};
use vm_superio::{Serial, Trigger, serial::NoEvents};

/// UART register offsets (16550).
const THR: u8 = 0;
const IER: u8 = 1;
const IIR_FCR: u8 = 2;
const LCR: u8 = 3;
const MCR: u8 = 4;
const LSR: u8 = 5;
const MSR: u8 = 6;

/// The setup Linux's 8250 driver leaves behind for a console at 8N1.
const SETUP: [(u8, u8); 3] = [(LCR, 0x03), (IIR_FCR, 0x07), (IER, 0x02)];

/// A trigger that does nothing (the VMM's irqfd write, without the syscall).
struct NoTrigger;

impl Trigger for NoTrigger {
    type E = std::convert::Infallible;
    fn trigger(&self) -> Result<(), Self::E> {
        Ok(())
    }
}

/// One UART under test: byte reads and writes at register offsets.
trait Uart {
    fn read(&mut self, offset: u8) -> u8;
    fn write(&mut self, offset: u8, value: u8);
}

impl Uart for Serial<NoTrigger, NoEvents, Sink> {
    fn read(&mut self, offset: u8) -> u8 {
        Serial::read(self, offset)
    }
    fn write(&mut self, offset: u8, value: u8) {
        // Writing to a sink cannot fail.
        let _ = Serial::write(self, offset, value);
    }
}

/// A pcidevc model (generated or interpreted) with its line drained.
struct ModelUart<R: Registers> {
    model: Model<R>,
    sent: usize,
}

impl<R: Registers> ModelUart<R> {
    fn new(mut model: Model<R>) -> Self {
        model.config_write(0x04, &COMMAND_IO_SPACE.to_le_bytes());
        ModelUart { model, sent: 0 }
    }
}

impl<R: Registers> Uart for ModelUart<R> {
    fn read(&mut self, offset: u8) -> u8 {
        let mut d = [0u8];
        // Every offset of the 8-byte BAR is valid at size 1.
        let _ = self.model.bar_read(0, u64::from(offset), &mut d);
        d[0]
    }
    fn write(&mut self, offset: u8, value: u8) {
        let _ = self.model.bar_write(0, u64::from(offset), &[value]);
        if offset == THR {
            self.sent += 1;
            if self.sent == 1024 {
                // The host's stream backend drains the line; here a sink.
                black_box(self.model.take_output(0));
                self.sent = 0;
            }
        }
    }
}

fn configured<U: Uart>(mut u: U) -> U {
    for (offset, value) in SETUP {
        u.write(offset, value);
    }
    u
}

fn run<U: Uart>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, u: &mut U, mix: fn(&mut U)) {
    g.bench_function(name, |b| b.iter(|| mix(u)));
}

fn tx<U: Uart>(u: &mut U) {
    black_box(u.read(LSR));
    u.write(THR, black_box(b'x'));
}

fn irq_poll<U: Uart>(u: &mut U) {
    black_box(u.read(IIR_FCR));
}

/// Line settings, as the 8250 driver's `set_termios`/`set_mctrl` touch
/// them between transfers: registers none of whose accesses can change the
/// interrupt level (the generated model skips recomputing it there).
fn line_control<U: Uart>(u: &mut U) {
    let lcr = u.read(LCR);
    u.write(LCR, black_box(lcr));
    let mcr = u.read(MCR);
    u.write(MCR, black_box(mcr));
}

fn handler<U: Uart>(u: &mut U) {
    black_box(u.read(IIR_FCR));
    black_box(u.read(LSR));
    u.write(THR, black_box(b'x'));
    black_box(u.read(MSR));
}

type Superio = Serial<NoTrigger, NoEvents, Sink>;

/// The three peers, configured.
fn peers() -> (Superio, ModelUart<pci_serial::Device>, ModelUart<Interp>) {
    let superio = configured(Serial::new(NoTrigger, std::io::sink()));
    let generated = configured(ModelUart::new(pci_serial::model()));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/pci_serial.pcidev");
    let spec = Spec::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let interpreted = configured(ModelUart::new(spec.model(Box::new(DefaultHooks::quiet()))));
    (superio, generated, interpreted)
}

/// `SERIAL_PEERS_LOOP=<group>:<peer>:<iterations>` (see the module docs).
fn run_loop(what: &str) {
    let parts: Vec<&str> = what.split(':').collect();
    let [group, peer, n] = parts[..] else {
        panic!("SERIAL_PEERS_LOOP=<group>:<peer>:<iterations>, not {what:?}");
    };
    let n: u64 = n.parse().unwrap_or_else(|e| panic!("{n:?}: {e}"));
    fn go<U: Uart>(u: &mut U, group: &str, n: u64) {
        let mix: fn(&mut U) = match group {
            "serial_tx" => tx,
            "serial_irq_poll" => irq_poll,
            "serial_handler" => handler,
            "serial_line_control" => line_control,
            _ => panic!("unknown group {group:?}"),
        };
        for _ in 0..n {
            mix(black_box(&mut *u));
        }
    }
    let (mut superio, mut generated, mut interpreted) = peers();
    match peer {
        "vm_superio" => go(&mut superio, group, n),
        "generated" => go(&mut generated, group, n),
        "interpreted" => go(&mut interpreted, group, n),
        _ => panic!("unknown peer {peer:?}"),
    }
}

fn bench(c: &mut Criterion) {
    let (mut superio, mut generated, mut interpreted) = peers();
    macro_rules! group {
        ($name:literal, $mix:ident) => {{
            let mut g = c.benchmark_group($name);
            run(&mut g, "vm_superio", &mut superio, $mix);
            run(&mut g, "generated", &mut generated, $mix);
            run(&mut g, "interpreted", &mut interpreted, $mix);
            g.finish();
        }};
    }
    group!("serial_tx", tx);
    group!("serial_irq_poll", irq_poll);
    group!("serial_handler", handler);
    group!("serial_line_control", line_control);
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(what) = std::env::var("SERIAL_PEERS_LOOP") {
        run_loop(&what);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
