//! Timers, byte streams, VMM requests and the scenario steps that drive
//! them, on a hand-written model shaped like generated code:
//!
//! BAR0 (I/O, 8 bytes, 1-byte accesses):
//! - 0 ARM (wo): bit 7 clear: `start a after v ms` (one-shot); bit 7 set:
//!   `start a every (v & 0x7f) ms`; v == 0: `stop a`.
//! - 1 ARM_B (wo): `start b after v ms`.
//! - 2 TX (wo): `send line v` while `line.space > 0`.
//! - 3 RX (ro): pops the receive FIFO (4 bytes); reading it restarts
//!   nothing.
//! - 4 VMM (wo): 1 = `vmm reset`, 2 = `vmm panic`.
//! - 5 FIRED (ro): fire log: low nibble timer-a count, high nibble b count.
//!
//! Stream `line`: `ready rx.len < 4`, `on input { rx.push(byte); }`.
//! Timer `a` fire block: count, `send line 'A'`; timer `b`: count,
//! `send line 'B'`. Interrupt level: rx not empty. `sticky_boots` survives
//! reset and counts resets.

use std::collections::VecDeque;

use pcidev_runtime::scenario::{
    Cmp, Handler, HandlerIo, Harness, Loc, Probe, Scenario, ScenarioStep, Step, StepValue,
};
use pcidev_runtime::*;

const REGS: &[RegisterLayout] = &[
    reg("ARM", 0),
    reg("ARM_B", 1),
    reg("TX", 2),
    reg("RX", 3),
    reg("VMM", 4),
    reg("FIRED", 5),
];

const fn reg(name: &'static str, offset: u64) -> RegisterLayout {
    RegisterLayout {
        name,
        offset,
        width: 1,
        sizes: AccessSizes(0),
        count: 1,
    }
}

const INFO: DeviceInfo = DeviceInfo {
    name: "clocky",
    vendor_id: 0x1b36,
    device_id: 0x00ff,
    revision: 0,
    class_code: [0xff, 0, 0],
    subsystem_vendor_id: 0,
    subsystem_id: 0,
    interrupt_pin: Some(IntxPin::A),
    bars: &[BarInfo {
        index: 0,
        kind: BarKind::Io,
        size: 8,
        policy: AccessPolicy {
            sizes: AccessSizes::B1,
            aligned: true,
            invalid: InvalidAccess::Ignore,
            unmapped: Unmapped::Zero,
        },
        registers: REGS,
    }],
    msi: None,
    msix: None,
    config_registers: &[],
    vendor_capabilities: &[],
};

const LINE: usize = 0;
const RX_CAPACITY: usize = 4;
const MS: u64 = 1_000_000;

#[derive(Debug, Default)]
struct Clocky {
    rx: VecDeque<u8>,
    fired_a: u8,
    fired_b: u8,
    sticky_boots: u64,
}

impl Registers for Clocky {
    fn info(&self) -> &'static DeviceInfo {
        &INFO
    }

    fn timers(&self) -> &'static [&'static str] {
        &["a", "b"]
    }

    fn streams(&self) -> &'static [&'static str] {
        &["line"]
    }

    fn read_register(&mut self, _ctx: &mut DeviceCtx, _bar: u8, reg: usize) -> u64 {
        match reg {
            3 => self.rx.pop_front().map_or(0, u64::from),
            5 => u64::from(self.fired_a & 0xf | (self.fired_b & 0xf) << 4),
            _ => 0,
        }
    }

    fn write_register(&mut self, ctx: &mut DeviceCtx, _bar: u8, reg: usize, v: u64, _l: u8) {
        match reg {
            0 if v == 0 => ctx.stop_timer(0),
            0 if v & 0x80 != 0 => ctx.start_timer(0, (v & 0x7f) * MS, true),
            0 => ctx.start_timer(0, v * MS, false),
            1 => ctx.start_timer(1, v * MS, false),
            2 if ctx.stream_space(LINE) > 0 => ctx.send(LINE, v as u8),
            4 if v == 1 => ctx.vmm_request(VmmRequest::Reset),
            4 if v == 2 => ctx.vmm_request(VmmRequest::Panic),
            _ => {}
        }
    }

    fn interrupt_level(&self, _ctx: &DeviceCtx) -> bool {
        !self.rx.is_empty()
    }

    fn reset(&mut self) {
        *self = Clocky {
            sticky_boots: self.sticky_boots + 1,
            ..Clocky::default()
        };
    }

    fn timer_expired(&mut self, ctx: &mut DeviceCtx, timer: usize) {
        if timer == 0 {
            self.fired_a = self.fired_a.wrapping_add(1);
            ctx.send(LINE, b'A');
        } else {
            self.fired_b = self.fired_b.wrapping_add(1);
            ctx.send(LINE, b'B');
        }
    }

    fn stream_ready(&self, _ctx: &DeviceCtx, _stream: usize) -> bool {
        self.rx.len() < RX_CAPACITY
    }

    fn stream_input(&mut self, _ctx: &mut DeviceCtx, _stream: usize, byte: u8) {
        if self.rx.len() < RX_CAPACITY {
            self.rx.push_back(byte);
        }
    }

    fn probe(&self, probe: Probe) -> Option<u64> {
        match probe {
            Probe::State(0) => Some(self.sticky_boots),
            Probe::FifoLen(0) => Some(self.rx.len() as u64),
            Probe::FifoFront(0) => Some(self.rx.front().copied().map_or(0, u64::from)),
            _ => None,
        }
    }
}

fn model() -> (Model<Clocky>, TraceBuffer) {
    let mut m = Model::new(Clocky::default());
    m.config_write(0x04, &COMMAND_IO_SPACE.to_le_bytes());
    let trace = TraceBuffer::new();
    m.set_trace(trace.sink());
    (m, trace)
}

fn write(m: &mut Model<Clocky>, offset: u64, v: u8) {
    m.bar_write(0, offset, &[v]).unwrap();
}

fn read(m: &mut Model<Clocky>, offset: u64) -> u8 {
    let mut b = [0];
    m.bar_read(0, offset, &mut b).unwrap();
    b[0]
}

#[test]
fn one_shot_fires_at_its_deadline_not_before() {
    let (mut m, trace) = model();
    write(&mut m, 0, 3);
    assert!(m.timer_running(0));
    assert_eq!(m.ctx().timer_remaining(0), 3 * MS);
    assert_eq!(m.advance(3 * MS - 1), 0);
    assert_eq!(read(&mut m, 5), 0);
    assert_eq!(m.advance(1), 1);
    assert_eq!(read(&mut m, 5), 1);
    assert!(!m.timer_running(0));
    assert_eq!(m.advance(100 * MS), 0);
    assert_eq!(m.take_output(LINE), b"A");
    let fired: Vec<_> = trace
        .events()
        .into_iter()
        .filter_map(|e| match e {
            TraceEvent::TimerFired { timer, name, now } => Some((timer, name, now)),
            _ => None,
        })
        .collect();
    assert_eq!(fired, vec![(0, "a".to_string(), 3 * MS)]);
}

#[test]
fn ties_fire_in_declaration_order_and_earlier_deadlines_first() {
    let (mut m, _) = model();
    write(&mut m, 1, 2); // b at 2 ms
    write(&mut m, 0, 2); // a at 2 ms
    m.advance(MS);
    write(&mut m, 1, 3); // b re-armed: 4 ms
    m.advance(10 * MS);
    assert_eq!(m.take_output(LINE), b"AB");
    write(&mut m, 0, 5); // a at 16 ms
    write(&mut m, 1, 2); // b at 13 ms
    m.advance(10 * MS);
    assert_eq!(m.take_output(LINE), b"BA");
}

#[test]
fn periodic_fires_once_per_period_in_virtual_time() {
    let (mut m, _) = model();
    write(&mut m, 0, 0x80 | 1); // every 1 ms
    assert_eq!(m.advance(10 * MS), 10);
    assert_eq!(m.take_output(LINE), b"AAAAAAAAAA");
    assert_eq!(m.next_deadline(), Some(11 * MS));
    write(&mut m, 0, 0); // stop
    assert_eq!(m.advance(10 * MS), 0);
    assert_eq!(m.next_deadline(), None);
}

#[test]
fn a_host_that_fell_behind_gets_one_firing_not_a_burst() {
    let (mut m, _) = model();
    write(&mut m, 0, 0x80 | 1);
    assert_eq!(m.fire_due(MS / 2), 0);
    assert_eq!(m.fire_due(7 * MS + MS / 2), 1);
    assert_eq!(m.next_deadline(), Some(8 * MS));
    assert_eq!(m.fire_due(8 * MS), 1);
    assert_eq!(m.take_output(LINE), b"AA");
}

#[test]
fn a_huge_advance_is_bounded_work() {
    let (mut m, _) = model();
    m.set_trace(None);
    write(&mut m, 0, 0x80); // every 100 us (clamped)
    // 2^62 ns would be 4.6e13 firings one by one.
    let fired = m.advance(1 << 62);
    assert_eq!(fired, MAX_ADVANCE_FIRINGS + 1);
    assert_eq!(m.now(), 1 << 62);
    assert!(m.next_deadline().unwrap() > m.now());
}

#[test]
fn tiny_durations_are_clamped_to_the_minimum() {
    let (mut m, _) = model();
    // A 0 ms periodic request is clamped to MIN_TIMER_NS.
    write(&mut m, 0, 0x80);
    assert_eq!(
        m.next_deadline(),
        Some(pcidev_runtime::core_types::time::MIN_TIMER_NS)
    );
    assert_eq!(m.advance(MS), 10);
}

#[test]
fn reset_stops_timers_and_keeps_sticky_state() {
    let (mut m, _) = model();
    write(&mut m, 0, 0x81);
    write(&mut m, 1, 5);
    m.reset();
    assert!(!m.timer_running(0) && !m.timer_running(1));
    assert_eq!(m.next_deadline(), None);
    assert_eq!(m.probe(Probe::State(0)), Some(1));
    m.config_write(0x04, &COMMAND_IO_SPACE.to_le_bytes());
    assert_eq!(m.advance(100 * MS), 0);
}

#[test]
fn input_honours_ready_and_raises_the_line() {
    let (mut m, trace) = model();
    assert!(m.stream_ready(LINE));
    for b in b"wxyz" {
        assert!(m.stream_input(LINE, *b));
    }
    assert!(m.interrupt_asserted());
    assert!(!m.stream_ready(LINE));
    assert!(!m.stream_input(LINE, b'!'), "a full FIFO refuses input");
    assert_eq!(read(&mut m, 3), b'w');
    assert!(m.stream_input(LINE, b'!'));
    assert!(
        !m.stream_ready(7) && !m.stream_input(7, 0),
        "no such stream"
    );
    let ins = trace
        .events()
        .iter()
        .filter(|e| matches!(e, TraceEvent::StreamIn { .. }))
        .count();
    assert_eq!(ins, 5);
}

#[test]
fn output_is_bounded_and_overflow_is_traced() {
    let (mut m, trace) = model();
    // Fill the queue from the device side directly (a guest doing it
    // through TX would take 64 Ki accesses; same path).
    for _ in 0..QUEUE_BYTES {
        m.ctx_mut().send(LINE, b'x');
    }
    assert_eq!(m.ctx().stream_space(LINE), 0);
    trace.clear();
    m.ctx_mut().send(LINE, b'y');
    write(&mut m, 2, b'z'); // the spec waits on space: nothing sent
    assert_eq!(
        trace
            .events()
            .iter()
            .filter(|e| matches!(e, TraceEvent::StreamOut { queued: false, .. }))
            .count(),
        1
    );
    let out = m.take_output(LINE);
    assert_eq!(out.len(), QUEUE_BYTES);
    assert!(out.iter().all(|&b| b == b'x'));
    write(&mut m, 2, b'z');
    assert_eq!(m.take_output(LINE), b"z");
}

#[test]
fn vmm_requests_are_queued_traced_and_bounded() {
    let (mut m, trace) = model();
    write(&mut m, 4, 2);
    write(&mut m, 4, 1);
    assert_eq!(
        m.take_vmm_requests(),
        vec![VmmRequest::Panic, VmmRequest::Reset]
    );
    assert!(m.take_vmm_requests().is_empty());
    for _ in 0..MAX_VMM_PENDING + 10 {
        write(&mut m, 4, 1);
    }
    assert_eq!(m.take_vmm_requests().len(), MAX_VMM_PENDING);
    let dropped = trace
        .events()
        .iter()
        .filter(|e| matches!(e, TraceEvent::Vmm { queued: false, .. }))
        .count();
    assert_eq!(dropped, 10);
}

// ------------------------------------------------------------- scenarios

const fn at(offset: u64) -> Loc {
    Loc::bar(0, offset, 1)
}

const fn st(step: Step) -> ScenarioStep {
    ScenarioStep::new(1, "step", step)
}

const NO_HANDLER: Handler = Handler { handle: None };

fn run(steps: &'static [ScenarioStep]) -> Result<(), String> {
    Harness::new(Clocky::default(), 64)
        .run(&Scenario { name: "t", steps }, &NO_HANDLER)
        .map_err(|e| e.message)
}

const fn expect_fired(v: u64, cmp: Cmp) -> Step {
    Step::Expect {
        loc: at(5),
        value: StepValue::new(v),
        mask: 0xff,
        cmp,
    }
}

#[test]
fn scenario_steps_drive_time_streams_and_vmm() {
    static STEPS: &[ScenarioStep] = &[
        st(Step::Write(at(0), StepValue::new(0x82))), // a every 2 ms
        st(Step::Advance(9 * MS)),
        st(expect_fired(4, Cmp::Eq)),
        st(Step::ExpectOutput {
            stream: 0,
            bytes: b"AAAA",
        }),
        st(Step::Write(at(0), StepValue::new(0))),
        // Six bytes in; the FIFO takes four and holds the rest back.
        st(Step::Input {
            stream: 0,
            bytes: b"hello!",
        }),
        st(Step::ExpectState {
            probe: Probe::FifoLen(0),
            cmp: Cmp::Eq,
            value: 4,
            mask: u64::MAX,
        }),
        st(Step::ExpectIrq(true)),
        // Draining delivers the rest after each read.
        st(Step::Repeat { count: 6, len: 1 }),
        st(Step::Read(at(3))),
        st(Step::ExpectState {
            probe: Probe::FifoLen(0),
            cmp: Cmp::Eq,
            value: 0,
            mask: u64::MAX,
        }),
        st(Step::ExpectIrq(false)),
        st(Step::Write(at(2), StepValue::new(b'o' as u64))),
        st(Step::Write(at(2), StepValue::new(b'k' as u64))),
        st(Step::ExpectOutput {
            stream: 0,
            bytes: b"ok",
        }),
        st(Step::Write(at(4), StepValue::new(2))),
        st(Step::ExpectVmm(VmmRequest::Panic)),
        st(Step::Write(at(1), StepValue::new(1))),
        st(Step::ExpectState {
            probe: Probe::TimerRunning(1),
            cmp: Cmp::Ne,
            value: 0,
            mask: u64::MAX,
        }),
        st(Step::ExpectState {
            probe: Probe::TimerRemaining(1),
            cmp: Cmp::Eq,
            value: MS,
            mask: u64::MAX,
        }),
        st(Step::Advance(MS)),
        st(Step::ExpectOutput {
            stream: 0,
            bytes: b"B",
        }),
    ];
    run(STEPS).unwrap();
}

#[test]
fn input_is_delivered_in_order_across_steps() {
    static STEPS: &[ScenarioStep] = &[
        st(Step::Input {
            stream: 0,
            bytes: b"abcdef",
        }),
        st(Step::Expect {
            loc: at(3),
            value: StepValue::new(b'a' as u64),
            mask: 0xff,
            cmp: Cmp::Eq,
        }),
        st(Step::Read(at(3))),
        st(Step::Read(at(3))),
        st(Step::Read(at(3))),
        st(Step::Expect {
            loc: at(3),
            value: StepValue::new(b'e' as u64),
            mask: 0xff,
            cmp: Cmp::Eq,
        }),
        st(Step::ExpectState {
            probe: Probe::FifoFront(0),
            cmp: Cmp::Eq,
            value: b'f' as u64,
            mask: 0xff,
        }),
    ];
    run(STEPS).unwrap();
}

#[test]
fn failing_time_and_stream_steps_say_why() {
    static EARLY: &[ScenarioStep] = &[
        st(Step::Write(at(0), StepValue::new(5))),
        st(Step::Advance(4 * MS)),
        st(expect_fired(1, Cmp::Eq)),
    ];
    assert!(run(EARLY).unwrap_err().contains("read 0x0, expected 0x1"));

    static OUTPUT: &[ScenarioStep] = &[
        st(Step::Write(at(2), StepValue::new(b'x' as u64))),
        st(Step::ExpectOutput {
            stream: 0,
            bytes: b"y",
        }),
    ];
    assert_eq!(
        run(OUTPUT).unwrap_err(),
        r#"stream `line` sent "x", expected "y""#
    );

    // Output already expected is not seen again.
    static TWICE: &[ScenarioStep] = &[
        st(Step::Write(at(2), StepValue::new(b'x' as u64))),
        st(Step::ExpectOutput {
            stream: 0,
            bytes: b"x",
        }),
        st(Step::ExpectOutput {
            stream: 0,
            bytes: b"x",
        }),
    ];
    assert!(run(TWICE).unwrap_err().contains(r#"sent "", expected "x""#));

    static VMM: &[ScenarioStep] = &[
        st(Step::Write(at(4), StepValue::new(1))),
        st(Step::ExpectVmm(VmmRequest::Panic)),
    ];
    assert_eq!(
        run(VMM).unwrap_err(),
        r#"no `vmm panic` was requested (pending: ["reset"])"#
    );

    static STATE: &[ScenarioStep] = &[st(Step::ExpectState {
        probe: Probe::FifoLen(0),
        cmp: Cmp::Ne,
        value: 0,
        mask: u64::MAX,
    })];
    assert!(run(STATE).unwrap_err().contains("expected != 0x0"));

    static NO_STATE: &[ScenarioStep] = &[st(Step::ExpectState {
        probe: Probe::State(9),
        cmp: Cmp::Eq,
        value: 0,
        mask: u64::MAX,
    })];
    assert!(run(NO_STATE).unwrap_err().contains("no state"));

    static NE: &[ScenarioStep] = &[st(expect_fired(0, Cmp::Ne))];
    assert!(run(NE).unwrap_err().contains("anything but 0x0"));
}

/// `expect irq` runs the generated handler protocol ([`Handler::handle`]):
/// a handler that says "not mine" while the line is asserted fails the
/// step, and the handler's reads have their side effects on the model.
#[test]
fn expect_irq_runs_the_handler_protocol() {
    static ASSERTED: &[ScenarioStep] = &[
        st(Step::Input {
            stream: 0,
            bytes: b"x",
        }),
        st(Step::ExpectIrq(true)),
    ];
    fn not_mine(_io: &mut dyn HandlerIo) -> bool {
        false
    }
    let err = Harness::new(Clocky::default(), 64)
        .run(
            &Scenario {
                name: "t",
                steps: ASSERTED,
            },
            &Handler {
                handle: Some(not_mine),
            },
        )
        .expect_err("a handler that disowns an asserted line fails `expect irq`");
    assert!(err.message.contains("not the device's"), "{}", err.message);

    // Reading the receive register pops the byte: the line drops.
    fn pops(io: &mut dyn HandlerIo) -> bool {
        io.read(at(3));
        true
    }
    static THEN_LOW: &[ScenarioStep] = &[
        st(Step::Input {
            stream: 0,
            bytes: b"x",
        }),
        st(Step::ExpectIrq(true)),
        st(Step::ExpectIrq(false)),
    ];
    Harness::new(Clocky::default(), 64)
        .run(
            &Scenario {
                name: "t",
                steps: THEN_LOW,
            },
            &Handler { handle: Some(pops) },
        )
        .unwrap_or_else(|e| panic!("{e}"));
}
