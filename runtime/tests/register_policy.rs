//! Register-level access sizes and the unmapped-read policy (edu's rules:
//! 4-byte accesses below 0x80, 4 or 8 above; unmapped offsets read ~0).

use pcidev_runtime::*;

const REGS: &[RegisterLayout] = &[
    RegisterLayout {
        name: "ID",
        offset: 0,
        width: 4,
        sizes: AccessSizes::B4,
        count: 1,
    },
    RegisterLayout {
        name: "WIDE",
        offset: 0x80,
        width: 8,
        sizes: AccessSizes::B4.with(AccessSizes::B8),
        count: 1,
    },
];

const INFO: DeviceInfo = DeviceInfo {
    name: "edu_like",
    vendor_id: 0x1234,
    device_id: 0x11e8,
    revision: 0x10,
    class_code: [0, 0xff, 0],
    subsystem_vendor_id: 0,
    subsystem_id: 0,
    interrupt_pin: None,
    bars: &[BarInfo {
        index: 0,
        kind: BarKind::Mem32 {
            prefetchable: false,
        },
        size: 0x100,
        policy: AccessPolicy {
            sizes: AccessSizes::ALL,
            aligned: true,
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

#[derive(Debug, Default)]
struct EduLike {
    wide: u64,
}

impl Registers for EduLike {
    fn info(&self) -> &'static DeviceInfo {
        &INFO
    }
    fn read_register(&mut self, _ctx: &mut DeviceCtx, _bar: u8, reg: usize) -> u64 {
        if reg == 0 { 0x0100_00ed } else { self.wide }
    }
    fn write_register(
        &mut self,
        _ctx: &mut DeviceCtx,
        _bar: u8,
        reg: usize,
        value: u64,
        lanes: u8,
    ) {
        if reg == 1 {
            let mask = ops::lanes_mask(lanes);
            self.wide = (self.wide & !mask) | (value & mask);
        }
    }
    fn interrupt_level(&self, _ctx: &DeviceCtx) -> bool {
        false
    }
    fn reset(&mut self) {
        self.wide = 0;
    }
}

fn model() -> Model<EduLike> {
    let mut m = Model::new(EduLike::default());
    m.config_write(0x04, &COMMAND_MEMORY_SPACE.to_le_bytes());
    m
}

fn read(m: &mut Model<EduLike>, offset: u64, len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    m.bar_read(0, offset, &mut b).unwrap();
    b
}

#[test]
fn a_register_narrows_its_bars_sizes() {
    let mut m = model();
    assert_eq!(read(&mut m, 0, 4), 0x0100_00edu32.to_le_bytes());
    assert_eq!(
        read(&mut m, 0, 2),
        [0xff; 2],
        "2-byte read of a 4-only register: invalid, all-ones"
    );
    assert_eq!(
        read(&mut m, 0, 8),
        [0xff; 8],
        "8-byte read overlapping it: invalid"
    );
    m.bar_write(0, 0x80, &0x1122_3344_5566_7788u64.to_le_bytes())
        .unwrap();
    assert_eq!(
        read(&mut m, 0x80, 8),
        0x1122_3344_5566_7788u64.to_le_bytes()
    );
    assert_eq!(read(&mut m, 0x80, 4), 0x5566_7788u32.to_le_bytes());
    m.bar_write(0, 0x80, &[0u8]).unwrap();
    assert_eq!(
        m.regs.wide, 0x1122_3344_5566_7788,
        "a 1-byte write is dropped"
    );
}

#[test]
fn unmapped_bytes_read_all_ones_when_the_policy_says_so() {
    let mut m = model();
    assert_eq!(read(&mut m, 0x10, 4), [0xff; 4]);
    assert_eq!(read(&mut m, 0x40, 1), [0xff]);
}
