//! Property test: arbitrary sequences of config and BAR accesses (any offset,
//! any size 0..=9, any value, through the direct API and through vm-device)
//! never panic, keep the INTx line consistent with config space, keep
//! identity registers intact, and never let DMA write outside its target.

mod common;

use common::*;
use pcidev_runtime::vm_device::bus::{MmioAddress, PioAddress};
use pcidev_runtime::vm_device::{MutDeviceMmio, MutDevicePio};
use pcidev_runtime::vm_memory::{Bytes, GuestAddress};
use pcidev_runtime::*;
use proptest::prelude::*;

/// Guest memory: two adjacent regions, a hole, a third region.
const RANGES: [(u64, usize); 3] = [(0x1000, 0x1000), (0x2000, 0x1000), (0x4000, 0x1000)];
const SENTINEL: u8 = 0xc3;

#[derive(Debug, Clone)]
enum Op {
    ConfigRead {
        offset: u64,
        size: usize,
    },
    ConfigWrite {
        offset: u64,
        size: usize,
        value: u64,
    },
    BarRead {
        bar: u8,
        offset: u64,
        size: usize,
    },
    BarWrite {
        bar: u8,
        offset: u64,
        size: usize,
        value: u64,
    },
    Pio {
        base: u16,
        offset: u16,
        size: usize,
        value: u64,
        write: bool,
    },
    Mmio {
        base: u64,
        offset: u64,
        size: usize,
        value: u64,
        write: bool,
    },
    /// Program DMA_ADDR / DMA_LEN with values near guest memory, then trigger.
    Dma {
        addr: u64,
        len: u32,
    },
    Reset,
}

fn bytes(value: u64, size: usize) -> Vec<u8> {
    (0..size).map(|i| (value >> (8 * (i % 8))) as u8).collect()
}

fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..0x120,
        0u64..0x1010,
        (u64::MAX - 16)..=u64::MAX
    ]
}

fn access_op() -> impl Strategy<Value = Op> {
    let size = 0usize..=9;
    prop_oneof![
        (offset(), size.clone()).prop_map(|(offset, size)| Op::ConfigRead { offset, size }),
        (offset(), size.clone(), any::<u64>()).prop_map(|(offset, size, value)| Op::ConfigWrite {
            offset,
            size,
            value
        }),
        // COMMAND writes with the interesting bits.
        (0u64..0x10000).prop_map(|value| Op::ConfigWrite {
            offset: 4,
            size: 2,
            value
        }),
        (prop_oneof![0u8..=6, any::<u8>()], offset(), size.clone())
            .prop_map(|(bar, offset, size)| Op::BarRead { bar, offset, size }),
        (
            prop_oneof![0u8..=6, any::<u8>()],
            offset(),
            size.clone(),
            any::<u64>()
        )
            .prop_map(|(bar, offset, size, value)| Op::BarWrite {
                bar,
                offset,
                size,
                value
            }),
        (
            any::<u16>(),
            any::<u16>(),
            size.clone(),
            any::<u64>(),
            any::<bool>()
        )
            .prop_map(|(base, offset, size, value, write)| Op::Pio {
                base,
                offset,
                size,
                value,
                write
            }),
        (any::<u64>(), offset(), size, any::<u64>(), any::<bool>()).prop_map(
            |(base, offset, size, value, write)| Op::Mmio {
                base,
                offset,
                size,
                value,
                write
            }
        ),
        Just(Op::Reset),
    ]
}

/// Program DMA_ADDR / DMA_LEN near (and across the edges of) guest memory.
fn dma_op() -> impl Strategy<Value = Op> {
    (
        prop_oneof![
            any::<u64>(),
            0xf00u64..0x5100,
            (u64::MAX - 0x400)..=u64::MAX
        ],
        0u32..0x400,
    )
        .prop_map(|(addr, len)| Op::Dma { addr, len })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![8 => access_op(), 3 => dma_op()]
}

fn inside_memory(addr: u64, len: usize) -> bool {
    // The regions are [0x1000, 0x3000) and [0x4000, 0x5000).
    let Some(end) = addr.checked_add(len as u64) else {
        return false;
    };
    len == 0 || (addr >= 0x1000 && end <= 0x3000) || (addr >= 0x4000 && end <= 0x5000)
}

/// Run `ops`, checking the invariants; returns how many DMA writes ended
/// `Done` and how many `OutOfRange`.
fn run(ops: &[Op]) -> Result<(usize, usize), TestCaseError> {
    let (mut m, _, _) = toy();
    let mem = guest_memory(&RANGES);
    let mut shadow: Vec<(u64, Vec<u8>)> = RANGES
        .iter()
        .map(|&(a, l)| (a, vec![SENTINEL; l]))
        .collect();
    for (addr, buf) in &shadow {
        mem.write_slice(buf, GuestAddress(*addr)).unwrap();
    }
    m.set_guest_memory(Some(mem.clone()));
    enable_all(&mut m);
    let mut dma_seen = 0;
    let (mut done, mut out_of_range) = (0, 0);

    for op in ops {
        match op.clone() {
            Op::ConfigRead { offset, size } => m.config_read(offset, &mut vec![0; size]),
            Op::ConfigWrite {
                offset,
                size,
                value,
            } => m.config_write(offset, &bytes(value, size)),
            Op::BarRead { bar, offset, size } => {
                let mut buf = vec![0x77; size];
                let r = m.bar_read(bar, offset, &mut buf);
                prop_assert!(
                    r.is_ok() || buf.iter().all(|&b| b == 0xff),
                    "errors read all-ones"
                );
            }
            Op::BarWrite {
                bar,
                offset,
                size,
                value,
            } => {
                let _ = m.bar_write(bar, offset, &bytes(value, size));
            }
            Op::Pio {
                base,
                offset,
                size,
                value,
                write,
            } => {
                if write {
                    m.pio_write(PioAddress(base), offset, &bytes(value, size));
                } else {
                    m.pio_read(PioAddress(base), offset, &mut vec![0; size]);
                }
            }
            Op::Mmio {
                base,
                offset,
                size,
                value,
                write,
            } => {
                if write {
                    m.mmio_write(MmioAddress(base), offset, &bytes(value, size));
                } else {
                    m.mmio_read(MmioAddress(base), offset, &mut vec![0; size]);
                }
            }
            Op::Dma { addr, len } => {
                let _ = m.bar_write(1, 0x8, &addr.to_le_bytes());
                let _ = m.bar_write(1, 0x10, &len.to_le_bytes());
                let _ = m.bar_write(0, 0x8, &[0; 4]);
            }
            Op::Reset => {
                m.reset();
                // The toy's reset clears its DMA log; everything before was replayed.
                dma_seen = 0;
            }
        }

        // The line follows the config space.
        let c = m.config();
        let expected_line = c.interrupt_status()
            && !c.intx_disabled()
            && !c.msi_enabled()
            && m.regs.info().interrupt_pin.is_some();
        prop_assert_eq!(m.interrupt_asserted(), expected_line);
        prop_assert_eq!(
            c.interrupt_status(),
            m.regs.status != 0 || m.ctx().latched_irq()
        );
        prop_assert_eq!(cfg_read32(&mut m, 0), 0x5678_1234);
        prop_assert_eq!(cfg_read(&mut m, 0x3d, 1), 2);

        // Replay new DMA attempts onto the shadow.
        for (addr, data, outcome) in &m.regs.dma_log[dma_seen..] {
            if *outcome == DmaOutcome::Done {
                done += 1;
                prop_assert!(
                    inside_memory(*addr, data.len()),
                    "Done outside memory: {addr:#x}+{}",
                    data.len()
                );
                for (i, &b) in data.iter().enumerate() {
                    let a = addr + i as u64;
                    let (base, buf) = shadow
                        .iter_mut()
                        .find(|(s, b)| a >= *s && a < *s + b.len() as u64)
                        .unwrap();
                    buf[(a - *base) as usize] = b;
                }
            } else if *outcome == DmaOutcome::OutOfRange {
                out_of_range += 1;
                prop_assert!(!inside_memory(*addr, data.len()));
            }
        }
        dma_seen = m.regs.dma_log.len();
    }

    for (addr, expected) in &shadow {
        let mut actual = vec![0; expected.len()];
        mem.read_slice(&mut actual, GuestAddress(*addr)).unwrap();
        prop_assert!(
            actual == *expected,
            "guest memory differs from the DMA replay in region {addr:#x}"
        );
    }
    Ok((done, out_of_range))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_access_sequences(ops in prop::collection::vec(op(), 1..64)) {
        run(&ops)?;
    }
}

#[test]
fn dma_ops_land_inside_and_outside_memory() {
    let ops = [
        // Spans the two adjacent regions.
        Op::Dma {
            addr: 0x1ff0,
            len: 0x20,
        },
        // Runs into the hole.
        Op::Dma {
            addr: 0x2ff0,
            len: 0x20,
        },
        Op::Dma {
            addr: 0x4800,
            len: 0x100,
        },
    ];
    assert_eq!(run(&ops).unwrap(), (2, 1));
}

/// Guard against a vacuous property: over the generator's distribution, DMA
/// writes do happen and do get refused.
#[test]
fn generator_reaches_both_dma_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = prop::collection::vec(op(), 1..64);
    let (mut done, mut refused) = (0, 0);
    for _ in 0..64 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let (d, r) = run(&ops).unwrap();
        done += d;
        refused += r;
    }
    assert!(
        done > 0 && refused > 0,
        "done {done}, out of range {refused}"
    );
}
