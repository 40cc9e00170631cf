//! The valid corpus: `tests/valid/*.pcidev` (helpers they include live in
//! `tests/valid/include/`) and the shipped `specs/*.pcidev` compile without
//! error and without unexpected warnings; the IR is spot-checked; and,
//! together, the valid specs use every construct of the language: every
//! variant of every IR enum is matched exhaustively below, so a new construct
//! does not compile here until the corpus uses it.

use pcidevc_dsl::ir::{
    self, AccessKind, AssignOp, BarKind, BinOp, DmaDest, Expr, InvalidAccess, IrqOp, Place, Source,
    StepKind, Stmt, Type, UnOp,
};
use pcidevc_dsl::{Compiled, compile_file, diag};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn specs_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcidev"))
        .collect();
    v.sort();
    v
}

fn valid_specs() -> Vec<PathBuf> {
    specs_in(&root().join("tests/valid"))
}

fn shipped_specs() -> Vec<PathBuf> {
    specs_in(&root().join("../specs"))
}

/// Warnings a shipped spec is known to produce, on purpose.
fn allowed_warnings(path: &Path) -> &'static [&'static str] {
    match path.file_name().and_then(|n| n.to_str()) {
        // The seed's DMA to the VGA window is kept, and warned about.
        Some("hello_tic.pcidev") => &[diag::NON_RAM_DMA],
        _ => &[],
    }
}

/// Compile a spec that must be valid; panics with every diagnostic if not.
fn compile_ok(path: &Path) -> (Compiled, ir::Device) {
    let c = compile_file(path);
    let shorts: Vec<String> = c.diagnostics.iter().map(|d| d.short(&c.sources)).collect();
    let unexpected: Vec<&String> = c
        .diagnostics
        .iter()
        .zip(&shorts)
        .filter(|(d, _)| d.is_error() || !allowed_warnings(path).contains(&d.code))
        .map(|(_, s)| s)
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} should compile cleanly:\n{}",
        path.display(),
        shorts.join("\n")
    );
    let dev = c
        .device
        .clone()
        .unwrap_or_else(|| panic!("{}: no IR", path.display()));
    (c, dev)
}

fn spec(name: &str) -> ir::Device {
    compile_ok(&root().join("tests/valid").join(name)).1
}

fn reg<'d>(dev: &'d ir::Device, name: &str) -> &'d ir::Register {
    dev.registers
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no register {name}"))
}

fn field<'r>(r: &'r ir::Register, name: &str) -> &'r ir::Field {
    r.fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{} has no field {name}", r.name))
}

#[test]
fn every_valid_and_shipped_spec_compiles_cleanly() {
    let all: Vec<PathBuf> = valid_specs().into_iter().chain(shipped_specs()).collect();
    assert!(all.len() >= 7, "{all:?}");
    for p in &all {
        let (c, dev) = compile_ok(p);
        for w in c.warnings() {
            assert!(allowed_warnings(p).contains(&w.code));
        }
        // IR invariants the backends rely on.
        let mut indexes: Vec<u8> = dev.bars.iter().map(|b| b.index).collect();
        assert!(indexes.is_sorted(), "{}: BARs sorted", p.display());
        indexes.dedup();
        assert_eq!(indexes.len(), dev.bars.len());
        for bar in &dev.bars {
            let mut end = 0;
            for &r in &bar.registers {
                let r = dev.register(r);
                assert_eq!(r.bar(), Some(bar.index));
                assert!(r.offset >= end, "{}: {} overlaps", p.display(), r.name);
                end = r.offset + r.width as u64;
                assert!(end <= bar.size);
                assert!(bar.policy.sizes.contains(usize::from(r.width)));
                let mut seen = 0u64;
                for f in &r.fields {
                    assert_eq!(seen & f.mask(), 0, "{}.{} overlaps", r.name, f.name);
                    seen |= f.mask();
                    assert!(f.hi < r.bits());
                    assert_eq!(f.reset & !ir::low_mask(f.bits()), 0);
                }
            }
        }
    }
}

#[test]
fn shipped_hello_tic_keeps_its_warning() {
    let path = root().join("../specs/hello_tic.pcidev");
    let (c, dev) = compile_ok(&path);
    let w: Vec<&str> = c.warnings().map(|d| d.code).collect();
    assert_eq!(w, [diag::NON_RAM_DMA]);
    assert_eq!(reg(&dev, "DMA_ADDR").reset, 0xa0000);
    assert_eq!((dev.vendor_id, dev.device_id), (0x1337, 0x0001));
}

#[test]
fn kitchen_sink_identity_states_hooks_interrupt() {
    let dev = spec("kitchen_sink.pcidev");
    assert_eq!(dev.name, "kitchen_sink");
    assert_eq!(
        dev.description,
        "Every construct, at least once: \"quoted\", tab\tand \\ escapes"
    );
    assert_eq!((dev.vendor_id, dev.device_id), (0x1b36, 0x1100));
    assert_eq!(dev.revision, 3);
    assert_eq!(dev.class_code, [0x05, 0x80, 0x00]);
    assert_eq!((dev.subsystem_vendor_id, dev.subsystem_id), (0x1af4, 1));
    let states: Vec<(&str, Type, u64)> = dev
        .states
        .iter()
        .map(|s| (s.name.as_str(), s.ty, s.reset))
        .collect();
    assert_eq!(
        states,
        [
            ("flags", Type::Uint(8), 0b1010),
            ("count", Type::Uint(16), 0x10),
            ("total", Type::Uint(32), 1000),
            ("wide", Type::Uint(64), 0xffff_ffff_0000_0000),
            ("ready", Type::Bool, 1),
            ("idle", Type::Bool, 0),
            ("buf", Type::Buffer(4096), 0),
        ]
    );
    let hooks: Vec<(&str, usize, Option<Type>)> = dev
        .hooks
        .iter()
        .map(|h| (h.name.as_str(), h.params.len(), h.ret))
        .collect();
    assert_eq!(
        hooks,
        [
            ("notify", 0, None),
            ("checksum", 2, Some(Type::Uint(32))),
            ("poll", 1, Some(Type::Bool)),
        ]
    );
    assert_eq!(
        dev.hooks[1].params[1],
        ("length".to_string(), Type::Uint(16))
    );
    let irq = &dev.interrupt;
    assert_eq!(irq.pin, Some(ir::IntxPin::A));
    assert_eq!(irq.msi_vectors, Some(2));
    assert!(irq.level.is_none());
    assert_eq!(
        irq.status.map(|r| dev.register(r).name.as_str()),
        Some("IRQ_STATUS")
    );
    // `ack IRQ_STATUS = value;`: `value` is the status register.
    assert!(matches!(
        &irq.acks[..],
        [ir::Ack { register, value: Expr::Register(v), when: None }]
            if dev.register(*register).name == "IRQ_STATUS" && v == register
    ));
    // A lone `status` means "mine while it is non-zero".
    assert!(matches!(
        &irq.mine,
        Some(Expr::Binary(ir::BinOp::Ne, a, b))
            if matches!(**a, Expr::Register(r) if Some(r) == irq.status)
                && matches!(**b, Expr::Const(0))
    ));
    assert_eq!(dev.dma_buffer, Some(1 << 20));
    assert_eq!(dev.dma_mask_bits, 64);
    assert!(dev.does_dma());
}

#[test]
fn kitchen_sink_bars_and_policies() {
    let dev = spec("kitchen_sink.pcidev");
    let bars: Vec<(u8, &str, bool, u64, u8, bool, InvalidAccess)> = dev
        .bars
        .iter()
        .map(|b| {
            (
                b.index,
                b.kind.keyword(),
                b.kind.is_prefetchable(),
                b.size,
                b.policy.sizes.0,
                b.policy.aligned,
                b.policy.invalid,
            )
        })
        .collect();
    assert_eq!(
        bars,
        [
            (
                0,
                "mem32",
                false,
                4096,
                0b0111,
                false,
                InvalidAccess::AllOnes
            ),
            (
                1,
                "mem32",
                true,
                64 << 10,
                0b1111,
                true,
                InvalidAccess::Ignore
            ),
            (
                2,
                "mem64",
                true,
                1 << 20,
                0b1100,
                true,
                InvalidAccess::Error
            ),
            (4, "io", false, 32, 0b0111, true, InvalidAccess::Ignore),
        ]
    );
    assert_eq!(dev.bar(2).map(|b| b.policy.sizes.list()), Some(vec![4, 8]));
    let bar0: Vec<(&str, u64, u8)> = dev.bars[0]
        .registers
        .iter()
        .map(|&r| {
            let r = dev.register(r);
            (r.name.as_str(), r.offset, r.width)
        })
        .collect();
    assert_eq!(bar0.len(), 14);
    assert_eq!(bar0[0], ("CTRL", 0, 4));
    assert_eq!(bar0[3], ("VERSION", 0xc, 2));
    assert_eq!(bar0[4], ("DOORBELL", 0x10, 1));
    assert_eq!(bar0[13], ("BUF_BYTE", 0x34, 1));
}

#[test]
fn kitchen_sink_registers_and_fields() {
    let dev = spec("kitchen_sink.pcidev");
    let ctrl = reg(&dev, "CTRL");
    assert_eq!(ctrl.access, None);
    let fields: Vec<(&str, u64, AccessKind, u64)> = ctrl
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.mask(), f.access, f.reset))
        .collect();
    assert_eq!(
        fields,
        [
            ("enable", 0x1, AccessKind::Rw, 0),
            ("mode", 0x6, AccessKind::Rw, 1),
            ("busy", 0x10, AccessKind::Ro, 0),
            ("go", 0x100, AccessKind::Wo, 0),
            ("errors", 0xf000, AccessKind::W1c, 0xf),
            ("set_bits", 0xf_0000, AccessKind::W1s, 0),
            ("events", 0xf0_0000, AccessKind::Rclr, 0b0101),
        ]
    );
    assert_eq!(
        field(ctrl, "mode").variants,
        [
            ("off".to_string(), 0),
            ("slow".to_string(), 1),
            ("fast".to_string(), 2),
            ("turbo".to_string(), 3)
        ]
    );
    assert_eq!(ctrl.reset, 0x0050_f002);
    assert_eq!(ctrl.write_mask(), 0x0f_f107);
    assert!(ctrl.readable() && ctrl.writable());

    // Register-level access kinds give one implicit field over all bits.
    for (name, access, reset, width) in [
        ("IRQ_STATUS", AccessKind::W1c, 0, 4),
        ("SCRATCH", AccessKind::Rw, 0xdead_beef, 4),
        ("VERSION", AccessKind::Ro, 0x0102, 2),
        ("DOORBELL", AccessKind::Wo, 0, 1),
        ("SET", AccessKind::W1s, 0, 4),
        ("EVENTS", AccessKind::Rclr, 0x8000_0001, 4),
        ("BIG", AccessKind::Rw, 1 << 30, 8),
        ("DMA_LEN", AccessKind::Rw, 64, 4),
        ("PORT16", AccessKind::Rw, 0x8000, 2),
    ] {
        let r = reg(&dev, name);
        assert_eq!(
            (r.access, r.reset, r.width),
            (Some(access), reset, width),
            "{name}"
        );
        assert_eq!(r.fields.len(), 1, "{name}");
        assert!(r.fields[0].implicit && r.fields[0].mask() == ir::low_mask(r.bits()));
    }
    assert!(!reg(&dev, "DOORBELL").readable());
    assert_eq!(reg(&dev, "VERSION").write_mask(), 0);
    // No access kind: no storage, a computed read.
    let counter = reg(&dev, "COUNTER");
    assert!(!counter.has_storage());
    assert!(matches!(counter.read, Some(Expr::State(_))));
    assert!(matches!(
        counter.on_read.as_slice(),
        [Stmt::Assign {
            op: AssignOp::Add,
            place: Place::State(_),
            value: Expr::Const(1)
        }]
    ));
    assert_eq!(reg(&dev, "BIG").bar(), Some(1));
    assert_eq!(reg(&dev, "PORT_IDLE").bar(), Some(4));
}

#[test]
fn kitchen_sink_expressions_follow_rust_precedence() {
    let dev = spec("kitchen_sink.pcidev");
    // (wide >> 32) + total * 3 / 2 % 7 - (...) + -1  ==  ((a + b) - c) + (-1)
    let Some(Expr::Binary(BinOp::Add, lhs, rhs)) = &reg(&dev, "MATH").read else {
        panic!("MATH reads a sum");
    };
    assert!(matches!(**rhs, Expr::Unary(UnOp::Neg, ref one) if matches!(**one, Expr::Const(1))));
    let Expr::Binary(BinOp::Sub, sum, _) = &**lhs else {
        panic!("then a difference")
    };
    // total * 3 / 2 % 7 groups left to right.
    let Expr::Binary(BinOp::Add, _, product) = &**sum else {
        panic!("a sum")
    };
    assert!(matches!(**product, Expr::Binary(BinOp::Rem, ref d, _)
        if matches!(**d, Expr::Binary(BinOp::Div, ref m, _) if matches!(**m, Expr::Binary(BinOp::Mul, ..)))));
    // (..) && total > 5 != (..) == !ready  ==  (..) && (((total > 5) != (..)) == !ready)
    let Some(Expr::Binary(BinOp::And, _, rhs)) = &reg(&dev, "LOGIC").read else {
        panic!("LOGIC reads a conjunction");
    };
    let Expr::Binary(BinOp::Eq, ne, not) = &**rhs else {
        panic!("then an equality")
    };
    assert!(matches!(**not, Expr::Unary(UnOp::Not, _)));
    assert!(
        matches!(**ne, Expr::Binary(BinOp::Ne, ref gt, _) if matches!(**gt, Expr::Binary(BinOp::Gt, ..)))
    );
}

#[test]
fn kitchen_sink_actions() {
    let dev = spec("kitchen_sink.pcidev");
    // if / else if / else with the three irq operations.
    let [
        Stmt::If {
            then, otherwise, ..
        },
    ] = reg(&dev, "CTRL").on_write.as_slice()
    else {
        panic!("CTRL: one if")
    };
    assert!(matches!(
        then.as_slice(),
        [
            Stmt::Assign {
                op: AssignOp::Or,
                place: Place::Register(_),
                ..
            },
            Stmt::Irq(IrqOp::Raise)
        ]
    ));
    let [
        Stmt::If {
            then, otherwise, ..
        },
    ] = otherwise.as_slice()
    else {
        panic!("else if")
    };
    assert!(matches!(then.as_slice(), [Stmt::Irq(IrqOp::Pulse)]));
    assert!(matches!(
        otherwise.as_slice(),
        [
            Stmt::Irq(IrqOp::Lower),
            Stmt::Assign {
                place: Place::Field(_, 2),
                op: AssignOp::Set,
                ..
            }
        ]
    ));
    let ops: Vec<AssignOp> = reg(&dev, "TOTAL")
        .on_write
        .iter()
        .map(|s| match s {
            Stmt::Assign { op, .. } => *op,
            other => panic!("{other:?}"),
        })
        .collect();
    use AssignOp::*;
    assert_eq!(ops, [Add, Sub, Xor, And, Or]);
    assert!(matches!(
        reg(&dev, "DOORBELL").on_write.as_slice(),
        [Stmt::Msi(Expr::Binary(BinOp::BitAnd, ..)), Stmt::Call { args, .. }] if args.is_empty()
    ));
    assert!(matches!(
        reg(&dev, "BUF_BYTE").on_write.as_slice(),
        [Stmt::Assign { place: Place::BufferByte(_, i), op: Set, value: Expr::Value }]
            if matches!(**i, Expr::Const(0x10))
    ));
    assert!(matches!(reg(&dev, "CHECK").read, Some(Expr::Call(_, ref args)) if args.len() == 2));
}

#[test]
fn kitchen_sink_scenarios() {
    let dev = spec("kitchen_sink.pcidev");
    let names: Vec<&str> = dev.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["registers", "interrupts", "dma_both_ways"]);
    assert_eq!(dev.scenarios[0].description, "register semantics");
    assert_eq!(dev.scenarios[1].description, "");
    let regs = &dev.scenarios[0].steps;
    assert_eq!(regs.len(), 12);
    assert_eq!(regs[0].text, "expect CTRL == 0x0050_f002;");
    assert_eq!(regs[0].line, 148);
    let value = ir::StepValue::new;
    assert!(
        matches!(regs[0].kind, StepKind::Expect { value: v, mask: u64::MAX, loc, .. } if v == value(0x0050_f002) && dev.register_at(&loc).is_some())
    );
    assert!(matches!(regs[1].kind, StepKind::Read(_)));
    assert!(
        matches!(regs[4].kind, StepKind::Wait { value: v, mask: 0xff, .. } if v == value(0x78))
    );
    // A raw location on a register's offset and width names the register.
    let StepKind::Write(loc, v) = regs[5].kind else {
        panic!("write")
    };
    assert_eq!(
        (loc.space, loc.offset, loc.width, v),
        (ir::Space::Bar(0), 0, 4, value(0xf000))
    );
    assert_eq!(
        dev.register_at(&loc).map(|r| dev.register(r).name.as_str()),
        Some("CTRL")
    );
    let StepKind::Read(loc) = regs[7].kind else {
        panic!("read")
    };
    assert_eq!((loc.offset, loc.width, dev.register_at(&loc)), (9, 1, None));
    assert!(
        matches!(regs[9].kind, StepKind::InvalidRead { expect: 0xff, loc } if loc.space == ir::Space::Bar(2))
    );
    assert!(
        matches!(regs[10].kind, StepKind::InvalidWrite(loc, v) if loc.width == 2 && v == value(1))
    );
    assert!(matches!(regs[11].kind, StepKind::ExpectIrq(false)));
    assert!(matches!(
        dev.scenarios[1].steps[1].kind,
        StepKind::ExpectIrq(true)
    ));

    let dma = &dev.scenarios[2].steps;
    assert!(matches!(
        dma[0].kind,
        StepKind::Fill {
            start: 0,
            end: 64,
            data: ir::Data::Pattern(0x11)
        }
    ));
    let dma_addr = ir::StepValue::dma_addr;
    assert!(matches!(dma[1].kind, StepKind::Write(_, v) if v == dma_addr(0)));
    assert!(matches!(
        dma[5].kind,
        StepKind::ExpectDma {
            start: 0,
            end: 64,
            data: ir::Data::Random(0x5eed)
        }
    ));
    assert!(matches!(dma[6].kind, StepKind::Write(_, v) if v == dma_addr(0x100)));
    assert!(matches!(
        dma[8].kind,
        StepKind::ExpectDma {
            start: 0x100,
            end: 0x108,
            data: ir::Data::Word(0xffff_ffff_0000_0000)
        }
    ));
}

#[test]
fn level_irq_derives_its_line() {
    let dev = spec("level_irq.pcidev");
    let irq = &dev.interrupt;
    assert_eq!(irq.pin, Some(ir::IntxPin::D));
    assert_eq!(irq.pin.map(ir::IntxPin::register_value), Some(4));
    assert_eq!(irq.msi_vectors, Some(32));
    let Some(Expr::Binary(BinOp::And, a, b)) = &irq.level else {
        panic!("level: a conjunction")
    };
    assert!(matches!(**a, Expr::Binary(BinOp::Ne, ..)));
    assert!(matches!(**b, Expr::Binary(BinOp::Eq, ref f, _) if matches!(**f, Expr::Field(_, 0))));
    assert_eq!(reg(&dev, "MASK").reset, 1);
    assert_eq!(
        dev.bars[0].kind,
        BarKind::Mem64 {
            prefetchable: false
        }
    );
    assert_eq!(dev.bars[0].size, 16 << 10);
    assert_eq!(dev.scenarios[0].steps.len(), 11);
    assert!(!dev.does_dma());
}

#[test]
fn includes_resolve_relative_to_their_file() {
    let (c, dev) = compile_ok(&root().join("tests/valid/includes.pcidev"));
    let files: Vec<String> = c
        .files()
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        files,
        [
            "includes.pcidev",
            "identity.pcidev",
            "states.pcidev",
            "bar_regs.pcidev"
        ]
    );
    assert_eq!(dev.description, "Built from includes");
    assert_eq!((dev.device_id, dev.revision), (0x1102, 2));
    assert_eq!(dev.states[0].reset, 7);
    let names: Vec<&str> = dev.bars[0]
        .registers
        .iter()
        .map(|&r| dev.register(r).name.as_str())
        .collect();
    assert_eq!(names, ["CTRL", "LIMIT", "STATUS"]);
    assert_eq!(dev.bars[0].policy.sizes.0, 0b0100);

    let (c, dev) = compile_ok(&root().join("tests/valid/top_include.pcidev"));
    assert_eq!(c.files().len(), 2);
    assert_eq!(dev.name, "from_include");
    assert!(dev.source_name.ends_with("whole_device.pcidev"));
}

#[test]
fn language_version_is_stated_or_the_newest() {
    assert_eq!(spec("language_v1.pcidev").language, 1);
    assert_eq!(spec("minimal.pcidev").language, ir::LANGUAGE_VERSION);
    assert_eq!(ir::LANGUAGE_VERSION, 2);
}

#[test]
fn msix_only_device_needs_no_status() {
    let dev = spec("msix.pcidev");
    let m = dev.interrupt.msix.expect("msix");
    assert_eq!(
        (
            m.vectors,
            m.table_bar,
            m.table_offset,
            m.pba_bar,
            m.pba_offset
        ),
        (70, 2, 0, 0, 0x800)
    );
    assert_eq!((m.table_len(), m.pba_len()), (70 * 16, 16));
    assert!(dev.interrupt.pin.is_none() && dev.interrupt.status.is_none());
    assert_eq!(dev.interrupt.max_vectors(), 70);
    assert_eq!(
        dev.scenarios[0].steps[1].kind,
        pcidevc_dsl::ir::StepKind::ExpectMsi(69)
    );
}

#[test]
fn minimal_and_msi_only_devices() {
    let dev = spec("minimal.pcidev");
    assert!(dev.bars.is_empty() && dev.registers.is_empty() && dev.scenarios.is_empty());
    assert_eq!(dev.class_code, [0xff, 0, 0]);
    assert!(!dev.interrupt.any());

    let dev = spec("msi_only.pcidev");
    assert_eq!(
        (dev.interrupt.pin, dev.interrupt.msi_vectors),
        (None, Some(1))
    );
    assert_eq!((dev.bars[0].kind, dev.bars[0].size), (BarKind::Io, 8));
    assert!(matches!(
        reg(&dev, "KICK").on_write.as_slice(),
        [
            Stmt::Assign {
                place: Place::Register(_),
                ..
            },
            Stmt::Msi(Expr::Const(0))
        ]
    ));
}

// ------------------------------------------------------------ construct coverage

/// Names of every construct the valid corpus uses.
#[derive(Default)]
struct Seen(BTreeSet<String>);

impl Seen {
    fn add(&mut self, what: &str, variant: impl std::fmt::Debug) {
        self.0.insert(format!("{what}:{variant:?}"));
    }

    fn expr(&mut self, e: &Expr) {
        e.walk(&mut |x| {
            let kind = match x {
                Expr::Const(_) => "Const",
                Expr::State(_) => "State",
                Expr::Register(_) => "Register",
                Expr::Field(..) => "Field",
                Expr::BufferByte(..) => "BufferByte",
                Expr::Value => "Value",
                Expr::Call(..) => "Call",
                Expr::Unary(op, _) => {
                    self.0.insert(format!("unop:{op:?}"));
                    "Unary"
                }
                Expr::Binary(op, ..) => {
                    self.0.insert(format!("binop:{op:?}"));
                    "Binary"
                }
                Expr::Cond(..) => "Cond",
                Expr::TimerRunning(_) => "TimerRunning",
                Expr::TimerRemaining(_) => "TimerRemaining",
                Expr::FifoLen(_) => "FifoLen",
                Expr::FifoFront(_) => "FifoFront",
                Expr::FifoFull(_) => "FifoFull",
                Expr::FifoEmpty(_) => "FifoEmpty",
                Expr::StreamSpace(_) => "StreamSpace",
                Expr::Byte => "Byte",
                Expr::Let(_) => "Let",
                Expr::Fn(..) => "Fn",
                Expr::Param(_) => "Param",
                Expr::AccessSize => "AccessSize",
                Expr::AccessMask => "AccessMask",
                Expr::Index => "Index",
            };
            self.0.insert(format!("expr:{kind}"));
        });
    }

    fn place(&mut self, p: &Place) {
        let kind = match p {
            Place::State(_) => "State",
            Place::Register(_) => "Register",
            Place::Field(..) => "Field",
            Place::BufferByte(_, i) => {
                self.expr(i);
                "BufferByte"
            }
        };
        self.add("place", kind);
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            let kind = match s {
                Stmt::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    self.expr(cond);
                    self.stmts(then);
                    self.stmts(otherwise);
                    if matches!(otherwise.as_slice(), [Stmt::If { .. }]) {
                        self.add("stmt", "ElseIf");
                    } else if !otherwise.is_empty() {
                        self.add("stmt", "Else");
                    }
                    "If"
                }
                Stmt::Irq(op) => {
                    self.add("irq", op);
                    "Irq"
                }
                Stmt::Msi(e) => {
                    self.expr(e);
                    "Msi"
                }
                Stmt::DmaWrite {
                    addr,
                    len,
                    source,
                    status,
                } => {
                    self.expr(addr);
                    self.expr(len);
                    let src = match source {
                        Source::Random(e) | Source::Pattern(e) | Source::Word(e) => {
                            self.expr(e);
                            match source {
                                Source::Random(_) => "Random",
                                Source::Pattern(_) => "Pattern",
                                _ => "Word",
                            }
                        }
                        Source::Buffer { offset, .. } => {
                            self.expr(offset);
                            "Buffer"
                        }
                    };
                    self.add("source", src);
                    if let Some(p) = status {
                        self.place(p);
                        self.add("stmt", "DmaStatus");
                    }
                    "DmaWrite"
                }
                Stmt::DmaRead {
                    addr,
                    len,
                    into,
                    status,
                } => {
                    self.expr(addr);
                    self.expr(len);
                    let dest = match into {
                        DmaDest::Buffer { offset, .. } => {
                            self.expr(offset);
                            "Buffer"
                        }
                        DmaDest::Scalar(p) => {
                            self.place(p);
                            "Scalar"
                        }
                    };
                    self.add("dest", dest);
                    if let Some(p) = status {
                        self.place(p);
                    }
                    "DmaRead"
                }
                Stmt::Assign { place, op, value } => {
                    self.place(place);
                    self.expr(value);
                    self.add("assign", op);
                    "Assign"
                }
                Stmt::Call { args, .. } => {
                    args.iter().for_each(|a| self.expr(a));
                    "Call"
                }
                Stmt::TimerStart {
                    duration,
                    unit,
                    periodic,
                    ..
                } => {
                    self.expr(duration);
                    self.add("unit", unit);
                    self.add("periodic", periodic);
                    "TimerStart"
                }
                Stmt::TimerStop(_) => "TimerStop",
                Stmt::FifoPush(_, e) => {
                    self.expr(e);
                    "FifoPush"
                }
                Stmt::FifoPop(_) => "FifoPop",
                Stmt::FifoClear(_) => "FifoClear",
                Stmt::Send(_, e) => {
                    self.expr(e);
                    "Send"
                }
                Stmt::Vmm(r) => {
                    self.add("vmm", r);
                    "Vmm"
                }
            };
            self.add("stmt", kind);
        }
    }

    fn device(&mut self, dev: &ir::Device) {
        for s in &dev.states {
            let ty = match s.ty {
                Type::Uint(bits) => format!("u{bits}"),
                Type::Bool => "bool".into(),
                Type::Buffer(_) => "buffer".into(),
                Type::Fifo { elem_bits, .. } => format!("fifo_u{elem_bits}"),
            };
            self.0.insert(format!("state:{ty}"));
            self.add("sticky", s.sticky);
            if matches!(s.ty, Type::Buffer(_)) {
                self.add("buffer_init", !s.init.is_empty());
            }
        }
        for t in &dev.timers {
            self.stmts(&t.on_fire);
            self.add("timer", "fire");
        }
        for st in &dev.streams {
            if let Some(e) = &st.ready {
                self.expr(e);
            }
            self.add("stream_ready", st.ready.is_some());
            self.add("stream_input", !st.on_input.is_empty());
            self.stmts(&st.on_input);
        }
        for l in &dev.lets {
            self.expr(&l.value);
            self.add("let", "let");
        }
        for f in &dev.fns {
            self.expr(&f.body);
            self.add("fn_params", f.params.len().min(2));
        }
        for h in &dev.hooks {
            self.add("hook_returns", h.ret.is_some());
            self.add("hook_params", !h.params.is_empty());
        }
        self.add("language", dev.language);
        let irq = &dev.interrupt;
        self.add("pin", irq.pin.is_some());
        self.add("msi", irq.msi_vectors.is_some());
        self.add("msix", irq.msix.is_some());
        self.add("level", irq.level.is_some());
        self.add("ack", !irq.acks.is_empty());
        self.add("status", irq.status.is_some());
        self.add("mine", irq.mine.is_some());
        // `mine` written out, not the one `status` implies.
        let implied = irq.status.map(|s| {
            ir::Expr::Binary(
                ir::BinOp::Ne,
                Box::new(ir::Expr::Register(s)),
                Box::new(ir::Expr::Const(0)),
            )
        });
        self.add(
            "mine_written",
            irq.mine.is_some() && format!("{:?}", irq.mine) != format!("{:?}", implied),
        );
        self.add("acks_several", irq.acks.len() > 1);
        if let Some(l) = &irq.level {
            self.expr(l);
        }
        if let Some(m) = &irq.mine {
            self.expr(m);
        }
        for a in &irq.acks {
            self.add("ack_when", a.when.is_some());
            self.expr(&a.value);
            if let Some(w) = &a.when {
                self.expr(w);
            }
        }
        self.add("dma_buffer", dev.dma_buffer.is_some());
        for b in &dev.bars {
            self.add("bar", (b.kind.keyword(), b.kind.is_prefetchable()));
            self.add("invalid", b.policy.invalid);
            self.add("aligned", b.policy.aligned);
            self.add("unmapped_ones", b.policy.unmapped == ir::Unmapped::Ones);
            for w in &b.windows {
                self.add("window_writable", w.writable);
            }
        }
        for r in &dev.registers {
            match r.access {
                Some(a) => self.add("register_access", a),
                None => self.add("register_access", "none"),
            }
            for f in r.fields.iter().filter(|f| !f.implicit) {
                self.add("field_access", f.access);
                self.add("enum", !f.variants.is_empty());
            }
            if let Some(e) = &r.read {
                self.expr(e);
                self.add("register", "read");
            }
            self.add("register_sizes", r.sizes.is_some());
            self.stmts(&r.on_read);
            self.stmts(&r.on_write);
        }
        for sc in &dev.scenarios {
            for st in &sc.steps {
                let kind = match &st.kind {
                    StepKind::Read(_) => "Read",
                    StepKind::Write(_, v) => {
                        self.add("dma.addr", v.plus_dma_addr);
                        "Write"
                    }
                    StepKind::Expect { mask, cmp, .. } => {
                        self.add("expect_mask", *mask != u64::MAX);
                        self.add("cmp", cmp);
                        "Expect"
                    }
                    StepKind::Wait { mask, .. } => {
                        self.add("wait_mask", *mask != u64::MAX);
                        "Wait"
                    }
                    StepKind::InvalidWrite(..) => "InvalidWrite",
                    StepKind::InvalidRead { .. } => "InvalidRead",
                    StepKind::ExpectIrq(true) => "ExpectIrq",
                    StepKind::ExpectIrq(false) => "ExpectNoIrq",
                    StepKind::ExpectDma { data, .. } | StepKind::Fill { data, .. } => {
                        let d = match data {
                            ir::Data::Random(_) => "Random",
                            ir::Data::Pattern(_) => "Pattern",
                            ir::Data::Word(_) => "Word",
                        };
                        self.add("data", d);
                        if matches!(st.kind, StepKind::Fill { .. }) {
                            "Fill"
                        } else {
                            "ExpectDma"
                        }
                    }
                    StepKind::ExpectMsi(_) => "ExpectMsi",
                    StepKind::Repeat { .. } => "Repeat",
                    StepKind::ExpectState { probe, cmp, .. } => {
                        let p = format!("{probe:?}");
                        self.add("probe", p.split('(').next().unwrap_or(""));
                        self.add("cmp", cmp);
                        "ExpectState"
                    }
                    StepKind::Advance(_) => "Advance",
                    StepKind::Input { .. } => "Input",
                    StepKind::ExpectOutput { .. } => "ExpectOutput",
                    StepKind::ExpectVmm(_) => "ExpectVmm",
                };
                self.add("step", kind);
                let loc = match &st.kind {
                    StepKind::Read(l)
                    | StepKind::Write(l, _)
                    | StepKind::InvalidWrite(l, _)
                    | StepKind::Expect { loc: l, .. }
                    | StepKind::Wait { loc: l, .. }
                    | StepKind::InvalidRead { loc: l, .. } => Some(l),
                    _ => None,
                };
                if let Some(l) = loc {
                    self.add("location_is_register", dev.register_at(l).is_some());
                }
            }
        }
    }
}

#[test]
fn the_valid_corpus_uses_every_construct() {
    let mut seen = Seen::default();
    for p in valid_specs() {
        seen.device(&compile_ok(&p).1);
    }
    let mut want: Vec<String> = Vec::new();
    let mut all = |what: &str, names: &[&str]| {
        want.extend(names.iter().map(|n| format!("{what}:{n}")));
    };
    all("state", &["u8", "u16", "u32", "u64", "bool", "buffer"]);
    all("language", &["1", "2"]);
    all("hook_returns", &["true", "false"]);
    all("hook_params", &["true", "false"]);
    all("pin", &["true", "false"]);
    all("msi", &["true", "false"]);
    all("msix", &["true", "false"]);
    all("level", &["true", "false"]);
    all("ack", &["true", "false"]);
    all("status", &["true", "false"]);
    all("mine", &["true", "false"]);
    all("mine_written", &["true"]);
    all("acks_several", &["true"]);
    all("ack_when", &["true", "false"]);
    all("dma_buffer", &["true", "false"]);
    all(
        "bar",
        &[
            "(\"io\", false)",
            "(\"mem32\", false)",
            "(\"mem32\", true)",
            "(\"mem64\", false)",
            "(\"mem64\", true)",
        ],
    );
    all("invalid", &["Ignore", "AllOnes", "Error"]);
    all("aligned", &["true", "false"]);
    let kinds = ["Rw", "Ro", "Wo", "W1c", "W1s", "Rclr"];
    all("register_access", &kinds);
    all("register_access", &["\"none\""]);
    all("field_access", &kinds);
    all("enum", &["true", "false"]);
    all("register", &["\"read\""]);
    all(
        "stmt",
        &[
            "\"If\"",
            "\"ElseIf\"",
            "\"Else\"",
            "\"Irq\"",
            "\"Msi\"",
            "\"DmaWrite\"",
            "\"DmaRead\"",
            "\"DmaStatus\"",
            "\"Assign\"",
            "\"Call\"",
        ],
    );
    all("irq", &["Raise", "Lower", "Pulse"]);
    all("assign", &["Set", "Or", "And", "Xor", "Add", "Sub"]);
    all(
        "source",
        &["\"Random\"", "\"Pattern\"", "\"Word\"", "\"Buffer\""],
    );
    all("dest", &["\"Buffer\"", "\"Scalar\""]);
    all(
        "place",
        &["\"State\"", "\"Register\"", "\"Field\"", "\"BufferByte\""],
    );
    all(
        "expr",
        &[
            "Const",
            "State",
            "Register",
            "Field",
            "BufferByte",
            "Value",
            "Call",
            "Unary",
            "Binary",
            "Cond",
            "AccessSize",
            "AccessMask",
        ],
    );
    all("window_writable", &["true", "false"]);
    all("buffer_init", &["true", "false"]);
    all("unmapped_ones", &["true", "false"]);
    all("register_sizes", &["true", "false"]);
    all("unop", &["Not", "Neg", "BitNot"]);
    all(
        "binop",
        &[
            "Or", "And", "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "BitOr", "BitXor", "BitAnd", "Shl",
            "Shr", "Add", "Sub", "Mul", "Div", "Rem",
        ],
    );
    all(
        "step",
        &[
            "\"Read\"",
            "\"Write\"",
            "\"Expect\"",
            "\"Wait\"",
            "\"InvalidWrite\"",
            "\"InvalidRead\"",
            "\"ExpectIrq\"",
            "\"ExpectNoIrq\"",
            "\"ExpectDma\"",
            "\"Fill\"",
        ],
    );
    all("data", &["\"Random\"", "\"Pattern\"", "\"Word\""]);
    // Language v2.
    all("state", &["fifo_u8", "fifo_u16", "fifo_u32", "fifo_u64"]);
    all("sticky", &["true", "false"]);
    all("timer", &["\"fire\""]);
    all("stream_ready", &["true", "false"]);
    all("stream_input", &["true", "false"]);
    all("let", &["\"let\""]);
    all("fn_params", &["1", "2"]);
    all("unit", &["Ns", "Us", "Ms", "S"]);
    all("periodic", &["true", "false"]);
    all(
        "vmm",
        &["Reset", "PowerOff", "Stop", "Panic", "CrashLoaded"],
    );
    all(
        "stmt",
        &[
            "\"TimerStart\"",
            "\"TimerStop\"",
            "\"FifoPush\"",
            "\"FifoPop\"",
            "\"FifoClear\"",
            "\"Send\"",
            "\"Vmm\"",
        ],
    );
    all(
        "expr",
        &[
            "TimerRunning",
            "TimerRemaining",
            "FifoLen",
            "FifoFront",
            "FifoFull",
            "FifoEmpty",
            "StreamSpace",
            "Byte",
            "Let",
            "Fn",
            "Param",
        ],
    );
    all(
        "step",
        &[
            "\"Repeat\"",
            "\"ExpectState\"",
            "\"Advance\"",
            "\"Input\"",
            "\"ExpectOutput\"",
            "\"ExpectVmm\"",
        ],
    );
    all("cmp", &["Eq", "Ne"]);
    all(
        "probe",
        &[
            "\"State\"",
            "\"FifoLen\"",
            "\"FifoFront\"",
            "\"TimerRunning\"",
            "\"TimerRemaining\"",
        ],
    );
    all("dma.addr", &["true", "false"]);
    all("expect_mask", &["true", "false"]);
    all("wait_mask", &["true"]);
    all("location_is_register", &["true", "false"]);
    let missing: Vec<&String> = want.iter().filter(|w| !seen.0.contains(*w)).collect();
    assert!(
        missing.is_empty(),
        "the valid corpus never uses {missing:?}"
    );

    // What the IR does not show: lexical forms and include sites.
    let text: String = valid_specs()
        .iter()
        .chain(specs_in(&root().join("tests/valid/include")).iter())
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect();
    for form in [
        "0b",
        "1_000",
        "4K",
        "1M",
        "1G",
        "unaligned",
        "prefetchable",
        "else if",
        "/*",
        "\\\"",
        "\\t",
        "\\\\",
        ",)",
        ", }",
    ] {
        assert!(
            text.contains(form),
            "the valid corpus never writes `{form}`"
        );
    }
}

/// Register arrays expand, buffers start with their initial bytes,
/// registers narrow their BAR's sizes, `unmapped` reaches the policy.
#[test]
fn qemu_feature_spec_spot_checks() {
    let dev = spec("qemu_features.pcidev");
    let names: Vec<(&str, u64)> = dev
        .registers
        .iter()
        .filter(|r| r.name.starts_with("NAME_"))
        .map(|r| (r.name.as_str(), r.offset))
        .collect();
    assert_eq!(names.len(), 16);
    assert_eq!(names[0], ("NAME_0", 0x10));
    assert_eq!(names[15], ("NAME_15", 0x1f));
    let st = |n: &str| dev.states.iter().find(|s| s.name == n).unwrap();
    assert_eq!(st("greeting").init, b"hi\n");
    let mut want = b"zero".to_vec();
    want.resize(16, 0);
    want.extend(b"one");
    want.resize(32, 0);
    want.extend(b"two");
    assert_eq!(st("names").init, want);
    assert_eq!(reg(&dev, "NARROW").sizes, Some(ir::AccessSizes(4)));
    assert_eq!(reg(&dev, "WIDE").sizes, Some(ir::AccessSizes(4 | 8)));
    assert_eq!(reg(&dev, "SELECT").sizes, None);
    assert_eq!(dev.bars[0].policy.unmapped, ir::Unmapped::Ones);
    assert_eq!(dev.bars[1].policy.unmapped, ir::Unmapped::Zero);
    assert!(!dev.access_valid(0, 0x20, 2), "NARROW rejects 2 bytes");
    assert!(dev.access_valid(0, 0x20, 4));
    assert!(
        !dev.access_valid(0, 0x1c, 8),
        "an 8-byte access overlapping NARROW"
    );
}
