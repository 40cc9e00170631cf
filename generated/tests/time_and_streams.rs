//! The language-v2 models (pvpanic_pci, pci_serial, i6300esb) driven from
//! the host side, beyond their spec scenarios (which run as `#[test]`s in
//! each generated module): the VMM requests pvpanic makes and does not
//! make, the UART against a byte-stream peer with a virtual clock, and the
//! watchdog's two stages on the trace. No VM.

use pcidev_models::{i6300esb, pci_serial, pvpanic_pci};
use pcidev_runtime::scenario::{Harness, Scenario};
use pcidev_runtime::{
    COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, Model, Registers, TraceBuffer, TraceEvent, VmmRequest,
};

fn enable<R: Registers>(m: &mut Model<R>) {
    let cmd = COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE;
    m.config_write(0x04, &cmd.to_le_bytes());
}

fn cfg16(m: &mut Model<impl Registers>, off: u64) -> u16 {
    let mut b = [0; 2];
    m.config_read(off, &mut b);
    u16::from_le_bytes(b)
}

// ------------------------------------------------------------------ pvpanic

#[test]
fn pvpanic_identity_is_qemus() {
    let mut m = pvpanic_pci::model();
    assert_eq!(cfg16(&mut m, 0x00), 0x1b36);
    assert_eq!(cfg16(&mut m, 0x02), 0x0011);
    let mut class = [0; 4];
    m.config_read(0x08, &mut class);
    assert_eq!(class, [0x01, 0x00, 0x80, 0x08], "revision 1, class 0880");
}

#[test]
fn pvpanic_reports_exactly_the_events_qemu_acts_on() {
    let mut m = pvpanic_pci::model();
    enable(&mut m);
    // Every byte value: the lowest supported bit wins, others report nothing.
    for v in 0..=255u8 {
        m.bar_write(0, 0, &[v]).unwrap();
        let want = if v & 1 != 0 {
            vec![VmmRequest::Panic]
        } else if v & 2 != 0 {
            vec![VmmRequest::CrashLoaded]
        } else if v & 4 != 0 {
            vec![VmmRequest::PowerOff]
        } else {
            vec![]
        };
        assert_eq!(m.take_vmm_requests(), want, "write {v:#04x}");
    }
    // A 2-byte write is two events, low byte first (QEMU splits it).
    m.bar_write(0, 0, &[0x04, 0x01]).unwrap();
    assert_eq!(
        m.take_vmm_requests(),
        vec![VmmRequest::PowerOff, VmmRequest::Panic]
    );
    // Reads never request anything.
    let mut b = [0; 4];
    m.bar_read(0, 0, &mut b).unwrap();
    assert_eq!(b, [0x07, 0x07, 0, 0]);
    assert!(m.take_vmm_requests().is_empty());
}

#[test]
fn pvpanic_requests_are_traced() {
    let mut m = pvpanic_pci::model();
    enable(&mut m);
    let trace = TraceBuffer::new();
    m.set_trace(trace.sink());
    m.bar_write(0, 1, &[1]).unwrap();
    assert!(trace.events().contains(&TraceEvent::Vmm {
        request: VmmRequest::Panic,
        queued: true
    }));
}

// ------------------------------------------------------------------ pci_serial

const RBR: u64 = 0;
const IER: u64 = 1;
const FCR: u64 = 2;
const LCR: u64 = 3;
const MCR: u64 = 4;
const LSR: u64 = 5;

fn w(m: &mut Model<pci_serial::Device>, off: u64, v: u8) {
    m.bar_write(0, off, &[v]).unwrap();
}

fn r(m: &mut Model<pci_serial::Device>, off: u64) -> u8 {
    let mut b = [0];
    m.bar_read(0, off, &mut b).unwrap();
    b[0]
}

fn serial() -> Model<pci_serial::Device> {
    let mut m = pci_serial::model();
    enable(&mut m);
    m
}

#[test]
fn serial_identity_is_qemus() {
    let mut m = serial();
    assert_eq!(cfg16(&mut m, 0x00), 0x1b36);
    assert_eq!(cfg16(&mut m, 0x02), 0x0002);
    let mut pin = [0];
    m.config_read(0x3d, &mut pin);
    assert_eq!(pin, [1], "INTA");
    // Reset values: LSR THRE|TEMT, MSR DCD|DSR|CTS, MCR OUT2, IIR none.
    assert_eq!(r(&mut m, LSR), 0x60);
    assert_eq!(r(&mut m, 6), 0xb0);
    assert_eq!(r(&mut m, MCR), 0x08);
    assert_eq!(r(&mut m, FCR), 0x01);
}

#[test]
fn serial_echo_through_a_peer_with_fifos() {
    // A peer that delivers what it has while the UART is ready, and a
    // guest loop that echoes every byte it reads back out.
    let mut m = serial();
    w(&mut m, FCR, 0x07);
    let message: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut pending = message.as_slice();
    let mut echoed = Vec::new();
    let mut guard = 0;
    while (!pending.is_empty() || r(&mut m, LSR) & 1 != 0) && guard < 10_000 {
        guard += 1;
        while let Some((&b, rest)) = pending.split_first() {
            if !m.stream_input(0, b) {
                break;
            }
            pending = rest;
        }
        while r(&mut m, LSR) & 1 != 0 {
            let b = r(&mut m, RBR);
            w(&mut m, RBR, b);
        }
        echoed.extend(m.take_output(0));
    }
    assert_eq!(echoed, message);
    assert_eq!(r(&mut m, LSR) & 0x02, 0, "no overrun: the peer waited");
}

#[test]
fn serial_without_fifos_holds_one_byte() {
    let mut m = serial();
    assert!(m.stream_ready(0));
    assert!(m.stream_input(0, b'a'));
    assert!(!m.stream_ready(0), "RBR full: the peer must wait");
    assert!(!m.stream_input(0, b'b'));
    assert_eq!(r(&mut m, RBR), b'a');
    assert!(m.stream_ready(0));
}

#[test]
fn serial_character_timeout_follows_the_divider() {
    let mut m = serial();
    // 115200 baud, 8N1: one character is 86.8 us; the timeout is 4 of them.
    w(&mut m, LCR, 0x83);
    w(&mut m, RBR, 1);
    w(&mut m, IER, 0);
    w(&mut m, LCR, 0x03);
    w(&mut m, FCR, 0xc1);
    w(&mut m, IER, 0x01);
    assert!(m.stream_input(0, b'x'));
    assert_eq!(m.next_deadline(), Some(4 * 86_800));
    m.advance(4 * 86_800 - 1);
    assert!(!m.interrupt_asserted());
    m.advance(1);
    assert!(m.interrupt_asserted());
    assert_eq!(r(&mut m, FCR), 0xcc);
    assert_eq!(r(&mut m, RBR), b'x');
    assert!(!m.interrupt_asserted());
}

#[test]
fn serial_transmitter_waits_for_queue_space() {
    let mut m = serial();
    w(&mut m, FCR, 0x01);
    // Fill the output queue without draining it.
    for i in 0..pcidev_runtime::QUEUE_BYTES {
        w(&mut m, RBR, i as u8);
    }
    assert_eq!(r(&mut m, LSR), 0x60);
    // The queue is full: the next bytes wait in the transmit FIFO.
    w(&mut m, RBR, 0xaa);
    w(&mut m, RBR, 0xbb);
    assert_eq!(r(&mut m, LSR) & 0x60, 0, "THR not empty while bytes wait");
    let first = m.take_output(0);
    assert_eq!(first.len(), pcidev_runtime::QUEUE_BYTES);
    // One retry per character time sends them, in order.
    m.advance(10_000_000);
    assert_eq!(m.take_output(0), [0xaa, 0xbb]);
    assert_eq!(r(&mut m, LSR), 0x60);
}

#[test]
fn serial_reset_keeps_fcr_like_qemu() {
    let mut m = serial();
    w(&mut m, FCR, 0xc1);
    assert!(m.stream_input(0, b'q'));
    m.reset();
    enable(&mut m);
    // FIFOs emptied and IIR's FIFO bits cleared, but FCR (and so the FIFO
    // mode) kept, as QEMU's serial_reset does.
    assert_eq!(r(&mut m, FCR), 0x01);
    assert_eq!(r(&mut m, LSR), 0x60);
    assert!(m.stream_input(0, b'r'));
    assert!(m.stream_input(0, b's'), "still in FIFO mode");
    assert_eq!(m.next_deadline(), Some(4 * 1_041_660));
}

// ------------------------------------------------------------------ i6300esb

#[test]
fn watchdog_fires_twice_then_resets_the_machine() {
    let mut m = i6300esb::model();
    enable(&mut m);
    let trace = TraceBuffer::new();
    m.set_trace(trace.sink());
    let reload = |m: &mut Model<i6300esb::Device>, v: u16| {
        m.bar_write(0, 0xc, &v.to_le_bytes()).unwrap();
    };
    reload(&mut m, 0x80);
    reload(&mut m, 0x86);
    m.bar_write(0, 0, &3u32.to_le_bytes()).unwrap();
    m.config_write(0x68, &[0x02]);
    let stage1 = 3 * (1 << 15) * 30;
    let stage2 = 0xfffff_u64 * (1 << 15) * 30;
    assert_eq!(m.next_deadline(), Some(stage1));
    assert_eq!(m.advance(stage1 + stage2), 2);
    assert_eq!(m.take_vmm_requests(), vec![VmmRequest::Reset]);
    let fired: Vec<u64> = trace
        .events()
        .iter()
        .filter_map(|e| match e {
            TraceEvent::TimerFired { now, name, .. } if name == "wdt" => Some(*now),
            _ => None,
        })
        .collect();
    assert_eq!(fired, vec![stage1, stage1 + stage2]);
    // The watchdog reset itself: disabled, nothing more fires.
    assert_eq!(m.next_deadline(), None);
    let mut flag = [0; 2];
    m.bar_read(0, 0xc, &mut flag).unwrap();
    assert_eq!(u16::from_le_bytes(flag), 0x1200);
}

#[test]
fn watchdog_device_reset_stops_it_and_keeps_the_reboot_flag() {
    let mut m = i6300esb::model();
    enable(&mut m);
    m.config_write(0x68, &[0x02]);
    assert!(m.next_deadline().is_some());
    m.reset();
    enable(&mut m);
    assert_eq!(m.next_deadline(), None, "reset stops the timer");
    // After a watchdog reset the flag survives a device reset.
    m.bar_write(0, 0xc, &0x80u16.to_le_bytes()).unwrap();
    m.bar_write(0, 0xc, &0x86u16.to_le_bytes()).unwrap();
    m.bar_write(0, 0, &1u32.to_le_bytes()).unwrap();
    m.bar_write(0, 0xc, &0x80u16.to_le_bytes()).unwrap();
    m.bar_write(0, 0xc, &0x86u16.to_le_bytes()).unwrap();
    m.bar_write(0, 4, &1u32.to_le_bytes()).unwrap();
    m.config_write(0x68, &[0x02]);
    m.advance(2 * 983_040);
    assert_eq!(m.take_vmm_requests(), vec![VmmRequest::Reset]);
    m.reset();
    enable(&mut m);
    let mut flag = [0; 2];
    m.bar_read(0, 0xc, &mut flag).unwrap();
    assert_eq!(u16::from_le_bytes(flag), 0x1200);
}

// ------------------------------------------------------------------ every scenario

fn run_all<R: Registers>(
    make: fn() -> R,
    all: &[&Scenario],
    handler: &pcidev_runtime::scenario::Handler,
    dma: u64,
) -> usize {
    for s in all {
        if let Err(e) = Harness::new(make(), dma).run(s, handler) {
            panic!("{e}");
        }
    }
    all.len()
}

#[test]
fn every_v2_scenario_passes() {
    use pcidev_models::{i6300esb as w, pci_serial as s, pvpanic_pci as p};
    let n = run_all(
        || p::Device::new(p::NoHooks),
        p::scenarios::ALL,
        &p::scenarios::HANDLER,
        p::scenarios::DMA_BUFFER,
    ) + run_all(
        || s::Device::new(s::NoHooks),
        s::scenarios::ALL,
        &s::scenarios::HANDLER,
        s::scenarios::DMA_BUFFER,
    ) + run_all(
        || w::Device::new(w::NoHooks),
        w::scenarios::ALL,
        &w::scenarios::HANDLER,
        w::scenarios::DMA_BUFFER,
    );
    assert_eq!(n, 2 + 6 + 4);
}

// ------------------------------------------------------------------ hostile guests

mod hostile {
    use super::*;
    use proptest::prelude::*;

    /// What a guest (accesses), the outside world (input bytes) and time
    /// can do to a model.
    #[derive(Debug, Clone)]
    enum Op {
        Write {
            bar: u8,
            offset: u64,
            size: usize,
            value: u64,
        },
        Read {
            bar: u8,
            offset: u64,
            size: usize,
        },
        /// A configuration-space write (any offset, 0 to 8 bytes).
        ConfigWrite {
            offset: u64,
            size: usize,
            value: u64,
        },
        ConfigRead {
            offset: u64,
            size: usize,
        },
        Input(u8),
        Advance(u64),
        Reset,
    }

    fn op() -> impl Strategy<Value = Op> {
        let size = prop_oneof![Just(1usize), Just(2), Just(4), 0usize..9];
        let offset = prop_oneof![0u64..16, any::<u64>()];
        let value = prop_oneof![Just(0x80u64), Just(0x86), Just(0x100), any::<u64>()];
        prop_oneof![
            6 => (0u8..3, offset.clone(), size.clone(), value)
                .prop_map(|(bar, offset, size, value)| Op::Write { bar, offset, size, value }),
            3 => (0u8..3, offset, size).prop_map(|(bar, offset, size)| Op::Read { bar, offset, size }),
            3 => (prop_oneof![0x40u64..0x100, any::<u64>()], 0usize..9, any::<u64>())
                .prop_map(|(offset, size, value)| Op::ConfigWrite { offset, size, value }),
            2 => (prop_oneof![0x40u64..0x100, any::<u64>()], 0usize..9)
                .prop_map(|(offset, size)| Op::ConfigRead { offset, size }),
            2 => any::<u8>().prop_map(Op::Input),
            2 => prop_oneof![0u64..2_000_000, Just(10_000_000_000)].prop_map(Op::Advance),
            1 => Just(Op::Reset),
        ]
    }

    /// Run `ops`; the model must never panic, keep its queues bounded and
    /// its clock monotonic.
    fn drive<R: Registers>(mut m: Model<R>, ops: &[Op]) {
        enable(&mut m);
        let mut last = m.now();
        for op in ops {
            match *op {
                Op::Write {
                    bar,
                    offset,
                    size,
                    value,
                } => {
                    let _ = m.bar_write(bar, offset, &value.to_le_bytes()[..size.min(8)]);
                }
                Op::Read { bar, offset, size } => {
                    let mut b = [0u8; 8];
                    let _ = m.bar_read(bar, offset, &mut b[..size.min(8)]);
                }
                Op::ConfigWrite {
                    offset,
                    size,
                    value,
                } => m.config_write(offset, &value.to_le_bytes()[..size.min(8)]),
                Op::ConfigRead { offset, size } => {
                    let mut b = [0u8; 8];
                    m.config_read(offset, &mut b[..size.min(8)]);
                }
                Op::Input(b) => {
                    let _ = m.stream_input(0, b);
                }
                Op::Advance(ns) => {
                    m.advance(ns);
                }
                Op::Reset => {
                    m.reset();
                    enable(&mut m);
                }
            }
            assert!(m.now() >= last);
            last = m.now();
            assert!(m.take_output(0).len() <= pcidev_runtime::QUEUE_BYTES);
            assert!(m.take_vmm_requests().len() <= pcidev_runtime::MAX_VMM_PENDING);
            if let Some(d) = m.next_deadline() {
                assert!(d > m.now() || d == u64::MAX, "a due timer was left unfired");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn serial_survives_anything(ops in proptest::collection::vec(op(), 0..200)) {
            drive(pci_serial::model(), &ops);
        }

        #[test]
        fn watchdog_survives_anything(ops in proptest::collection::vec(op(), 0..200)) {
            drive(i6300esb::model(), &ops);
        }

        #[test]
        fn pvpanic_survives_anything(ops in proptest::collection::vec(op(), 0..200)) {
            drive(pvpanic_pci::model(), &ops);
        }
    }
}
