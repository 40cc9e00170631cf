//! Trace contents, the JSON-lines trace format, and the deterministic data
//! sources' known answers.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use pcidev_runtime::*;

#[test]
fn trace_records_every_kind_of_event() {
    let (mut m, _, trace) = toy();
    m.set_guest_memory(Some(guest_memory(&[(0, 0x1000)])));
    trace.clear();
    enable_all(&mut m);
    let mut b = [0; 2];
    m.config_read(0x00, &mut b);
    bar_write32(&mut m, 1, 0x1c, 1);
    bar_write32(&mut m, 1, 0x10, 4);
    bar_write32(&mut m, 0, 0x8, 0);
    bar_write32(&mut m, 1, 0x24, 8);
    bar_write32(&mut m, 1, 0x18, 0);
    assert_eq!(bar_read32(&mut m, 0, 0x4), 1);
    let _ = m.bar_read(0, 0x4, &mut b);
    m.reset();

    use TraceEvent::*;
    let ignored = AccessOutcome::Invalid {
        reason: InvalidReason::Size,
        action: InvalidAccess::Ignore,
    };
    let expected = vec![
        ConfigWrite {
            offset: 4,
            size: 2,
            value: 7,
        },
        ConfigRead {
            offset: 0,
            size: 2,
            value: 0x1234,
        },
        BarWrite {
            bar: 1,
            offset: 0x1c,
            size: 4,
            value: 1,
            outcome: AccessOutcome::Done,
        },
        Intx { asserted: true },
        BarWrite {
            bar: 1,
            offset: 0x10,
            size: 4,
            value: 4,
            outcome: AccessOutcome::Done,
        },
        Dma {
            direction: DmaDirection::ToGuest,
            address: 0,
            len: 4,
            outcome: DmaOutcome::Done,
            // The toy's seed register resets to 0.
            fnv1a: Some(fnv1a64(&random_bytes(0, 4))),
        },
        BarWrite {
            bar: 0,
            offset: 0x8,
            size: 4,
            value: 0,
            outcome: AccessOutcome::Done,
        },
        Hook {
            name: "poke".into(),
        },
        BarWrite {
            bar: 1,
            offset: 0x24,
            size: 4,
            value: 8,
            outcome: AccessOutcome::Done,
        },
        Msi {
            vector: 0,
            address: 0,
            data: 0,
            delivered: false,
        },
        BarWrite {
            bar: 1,
            offset: 0x18,
            size: 4,
            value: 0,
            outcome: AccessOutcome::Done,
        },
        BarRead {
            bar: 0,
            offset: 0x4,
            size: 4,
            value: 1,
            outcome: AccessOutcome::Done,
        },
        BarRead {
            bar: 0,
            offset: 0x4,
            size: 2,
            value: 0,
            outcome: ignored,
        },
        Reset,
        Intx { asserted: false },
    ];
    assert_eq!(trace.events(), expected);
}

/// A `Write` whose bytes stay readable after the trace took ownership.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn json_lines_trace() {
    let out = Shared::default();
    let mut m = Model::new(Toy::default());
    let buffer = TraceBuffer::new();
    m.set_trace(Some(Box::new(JsonLinesTrace::new(out.clone()))));
    enable_all(&mut m);
    bar_write32(&mut m, 1, 0x1c, 1);
    let _ = m.bar_read(2, 0, &mut [0; 2]);
    m.set_trace(buffer.sink());
    m.reset();

    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(text.ends_with('\n'));
    assert_eq!(
        lines,
        vec![
            r#"{"ConfigWrite":{"offset":4,"size":2,"value":7}}"#,
            r#"{"BarWrite":{"bar":1,"offset":28,"size":4,"value":1,"outcome":"Done"}}"#,
            r#"{"Intx":{"asserted":true}}"#,
            r#"{"BarRead":{"bar":2,"offset":0,"size":2,"value":65535,"outcome":{"Invalid":{"reason":"Size","action":"Error"}}}}"#,
        ]
    );
    // Every line parses back to an event.
    for line in lines {
        let event: TraceEvent = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&event).unwrap(), line);
    }
    assert_eq!(
        buffer.events(),
        vec![TraceEvent::Reset, TraceEvent::Intx { asserted: false }]
    );
}

#[test]
fn trace_buffer_take_and_clear() {
    let mut t = TraceBuffer::new();
    t.record(&TraceEvent::Reset);
    assert_eq!(t.take(), vec![TraceEvent::Reset]);
    assert!(t.events().is_empty());
    t.record(&TraceEvent::Reset);
    t.clear();
    assert!(t.events().is_empty());
}

#[test]
fn random_bytes_known_answers() {
    assert_eq!(
        random_bytes(1, 12),
        vec![
            0x21, 0x20, 0x04, 0x00, 0x01, 0x06, 0x08, 0x04, 0xc5, 0xa8, 0xcc, 0x9d
        ]
    );
    assert_eq!(
        Xorshift32::new(1).take(3).collect::<Vec<_>>(),
        vec![0x0004_2021, 0x0408_0601, 0x9dcc_a8c5]
    );
    // Seed 0 is replaced by 0x9E3779B9.
    assert_eq!(
        Xorshift32::new(0).take(3).collect::<Vec<_>>(),
        vec![0x510c_4619, 0xe02e_553e, 0x7bb9_8f3a]
    );
    assert_eq!(random_bytes(0, 64), random_bytes(ZERO_SEED_REPLACEMENT, 64));
    assert_eq!(
        Xorshift32::new(0xdead_beef).take(2).collect::<Vec<_>>(),
        vec![0x477d_20b7, 0x8e1d_9142]
    );
    // Truncation: a partial final word contributes its low bytes.
    assert_eq!(
        random_bytes(0x1234, 10),
        vec![0xf7, 0xf1, 0x94, 0x4a, 0xe2, 0x0f, 0xe5, 0x41, 0x2e, 0xc2]
    );
    let long = random_bytes(42, 1001);
    assert_eq!(long.len(), 1001);
    assert_eq!(&random_bytes(42, 7)[..], &long[..7]);
    assert!(random_bytes(5, 0).is_empty());
    let mut rng = Xorshift32::new(42);
    let mut buf = [0u8; 6];
    rng.fill_bytes(&mut buf);
    assert_eq!(&buf[..], &long[..6]);
}

#[test]
fn pattern_bytes_repeats() {
    assert_eq!(pattern_bytes(0xa5, 3), vec![0xa5; 3]);
    assert!(pattern_bytes(1, 0).is_empty());
}
