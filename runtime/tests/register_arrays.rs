//! Register arrays in the layout: one entry `RegisterLayout::array(N)` for
//! N elements; the runtime finds the entry by binary search, computes the
//! element from the offset and hands it to the model as
//! `ctx.array_index()`, one call per element an access reaches.

use pcidev_runtime::*;

/// 64 KiB of u16 elements after a plain register, then a plain one.
const REGS: &[RegisterLayout] = &[
    RegisterLayout::new("HEAD", 0x0, 4),
    RegisterLayout::new("DATA", 0x10, 2).array(0x7ff0),
    RegisterLayout::new("TAIL", 0xfff0, 4),
];

const INFO: DeviceInfo = DeviceInfo {
    name: "arrays",
    vendor_id: 0x1234,
    device_id: 0xa770,
    revision: 0,
    class_code: [0, 0xff, 0],
    subsystem_vendor_id: 0,
    subsystem_id: 0,
    interrupt_pin: None,
    bars: &[BarInfo {
        index: 0,
        kind: BarKind::Mem32 {
            prefetchable: false,
        },
        size: 0x10000,
        policy: AccessPolicy {
            sizes: AccessSizes::ALL,
            aligned: false,
            invalid: InvalidAccess::AllOnes,
            unmapped: Unmapped::Ones,
        },
        registers: REGS,
    }],
    msi: None,
    msix: None,
    config_registers: &[],
    vendor_capabilities: &[],
};

/// Records every register call as (entry, element, value, lanes); an
/// element reads as its own number.
#[derive(Debug, Default)]
struct Recorder {
    calls: Vec<(usize, u64, u64, u8)>,
}

impl Registers for Recorder {
    fn info(&self) -> &'static DeviceInfo {
        &INFO
    }
    fn read_register(&mut self, ctx: &mut DeviceCtx, _bar: u8, reg: usize) -> u64 {
        let e = ctx.array_index();
        self.calls.push((reg, e, 0, 0));
        if reg == 1 { e } else { 0xaaaa_aaaa }
    }
    fn write_register(&mut self, ctx: &mut DeviceCtx, _bar: u8, reg: usize, value: u64, lanes: u8) {
        self.calls.push((reg, ctx.array_index(), value, lanes));
    }
    fn interrupt_level(&self, _ctx: &DeviceCtx) -> bool {
        false
    }
    fn reset(&mut self) {}
}

fn model() -> Model<Recorder> {
    let mut m = Model::new(Recorder::default());
    m.config_write(0x04, &COMMAND_MEMORY_SPACE.to_le_bytes());
    m
}

fn read(m: &mut Model<Recorder>, offset: u64, len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    m.bar_read(0, offset, &mut b).unwrap();
    b
}

#[test]
fn an_access_reaches_the_element_at_its_offset() {
    let mut m = model();
    // Element 0x1234 sits at 0x10 + 2 * 0x1234.
    assert_eq!(read(&mut m, 0x10 + 2 * 0x1234, 2), 0x1234u16.to_le_bytes());
    // The last element, just below TAIL.
    assert_eq!(read(&mut m, 0xffee, 2), 0x7fefu16.to_le_bytes());
    // Outside an array the index is 0.
    m.bar_read(0, 0xfff0, &mut [0u8; 4]).unwrap();
    let calls = &m.regs.calls;
    assert_eq!(calls[0], (1, 0x1234, 0, 0));
    assert_eq!(calls[1], (1, 0x7fef, 0, 0));
    assert_eq!(calls[2], (2, 0, 0, 0));
}

#[test]
fn an_access_over_several_elements_calls_each_with_its_bytes() {
    let mut m = model();
    // 8 bytes from 0x13: the high byte of element 1, elements 2 to 4
    // whole, the low byte of element 5, in element order.
    m.bar_write(0, 0x13, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    let calls = m.regs.calls.clone();
    assert_eq!(
        calls,
        [
            (1, 1, 0x0100, 0b10),
            (1, 2, 0x0302, 0b11),
            (1, 3, 0x0504, 0b11),
            (1, 4, 0x0706, 0b11),
            (1, 5, 0x08, 0b01),
        ]
    );
    // A read over the gap before the array and element 0.
    let got = read(&mut m, 0xe, 4);
    assert_eq!(got, [0xff, 0xff, 0, 0]);
}
