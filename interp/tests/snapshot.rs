//! Snapshot and restore, for every spec in `specs/`, generated and
//! interpreted: a random sequence of guest accesses, time passing and
//! stream input (the differential test's generator) runs on a generated
//! model and the interpreter in lockstep; once the device is in an
//! interesting state (timers running, a FIFO neither empty nor full,
//! MSI-X enabled with a vector masked and pending, as the spec has
//! them) both are
//! snapshotted. The two snapshots must be the same bytes (one format).
//! The snapshot is restored into a fresh generated model and a fresh
//! interpreter (with the guest RAM the VM would keep), and the rest of the
//! sequence runs on original and restored side by side: identical reads,
//! results, interrupts, traces, stream output, VMM requests, timers, state,
//! config space and DMA bytes, and at the end identical snapshots.
//!
//! Also: snapshots of one layout refused by another (a changed spec) with
//! the difference named, and hostile bytes refused without panicking.
//!
//! Actions per spec: `PCIDEV_SNAPSHOT_ACTIONS` if set, else 4 seeds of
//! 6000 (about half before the snapshot).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pcidev_interp::diff::{Access, AccessGen, Pair, Side};
use pcidev_interp::{DefaultHooks, FnHooks, Hooks, Spec};
use pcidev_runtime::{Model, Registers, SnapshotError, StateKind, StateValue};

const SEEDS: u32 = 4;
/// The snapshot is taken at the first step from here on where the
/// device's state is interesting...
const EARLIEST: u64 = 1000;
/// ... and must have been by here.
const LATEST: u64 = 5000;
const CHECK_EVERY: u64 = 128;

fn actions() -> u64 {
    std::env::var("PCIDEV_SNAPSHOT_ACTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6000)
        .max(LATEST + 1000)
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The device state as a snapshot saves it: comparable between generated
/// and interpreted models and between original and restored ones (a
/// FIFO's ring position is not state).
fn snap_state<R: Registers>(r: &R) -> String {
    let (states, storage) = r.save_state();
    // Buffers by checksum: formatting ivshmem_plain's 1 MiB every check
    // would dominate the test.
    let short = |v: StateValue| match v {
        StateValue::Bytes(b) => format!("bytes {:016x}", pcidev_runtime::fnv1a64(&b.0)),
        other => format!("{other:?}"),
    };
    let all: Vec<String> = states.into_iter().chain(storage).map(short).collect();
    all.join(", ")
}

/// What makes a snapshot point interesting, as far as the device has it.
#[derive(Debug, Default, Clone, Copy)]
struct Interesting {
    timer_running: bool,
    fifo_partly_full: bool,
    msix_vector_masked: bool,
    msix_pending: bool,
}

fn interesting<R: Registers>(m: &Model<R>) -> Interesting {
    let timer_running = (0..m.timers().len()).any(|i| m.timer_running(i));
    let layout = m.regs.snapshot_layout().expect("declares its state");
    let (states, _) = m.regs.save_state();
    let fifo_partly_full = layout.states.iter().zip(&states).any(|(d, v)| {
        matches!((d.kind, v), (StateKind::Fifo { capacity, .. }, StateValue::Fifo(items))
            if !items.is_empty() && items.len() < capacity as usize)
    });
    let msix = m.config().msix().filter(|x| x.enabled());
    let msix_vector_masked = msix.is_some_and(|x| (0..x.vectors()).any(|v| x.masked(v)));
    let msix_pending = msix.is_some_and(|x| (0..x.vectors()).any(|v| x.pending(v)));
    Interesting {
        timer_running,
        fifo_partly_full,
        msix_vector_masked,
        msix_pending,
    }
}

/// Does `now` have everything the device can have?
fn wanted<R: Registers>(m: &Model<R>, now: Interesting) -> bool {
    let layout = m.regs.snapshot_layout().expect("declares its state");
    let has_fifo = layout
        .states
        .iter()
        .any(|d| matches!(d.kind, StateKind::Fifo { .. }));
    (m.timers().is_empty() || now.timer_running)
        && (!has_fifo || now.fifo_partly_full)
        && (m.info().msix.is_none() || (now.msix_vector_masked && now.msix_pending))
}

/// Figures of one spec.
#[derive(Debug, Default)]
struct Figures {
    size: usize,
    save: Duration,
    restore: Duration,
    after: u64,
    events: u64,
    msix_pending_at_snapshot: bool,
}

fn run_spec<R: Registers>(
    rel: &str,
    generated: impl Fn() -> Model<R>,
    hooks: impl Fn() -> Box<dyn Hooks>,
) {
    let spec = Spec::load(&repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let total = actions();
    let mut fig = Figures::default();
    for seed in 0..SEEDS {
        let seed = 0x5a5a_0000 + seed;
        let mut pair = Pair::new(
            Side::new(generated(), snap_state::<R>),
            Side::new(spec.model(hooks()), snap_state::<pcidev_interp::Interp>),
        );
        let info = pair.a.model.info();
        let (timers, streams) = (pair.a.model.timers().len(), pair.a.model.streams().len());
        let mut g = AccessGen::new(info, seed).with_time(timers, streams);
        let mut next = || Access::decode(&g.next_record());
        // Lockstep to an interesting point.
        let mut step = 0;
        let at = loop {
            let access = next();
            pair.step(&access)
                .unwrap_or_else(|m| panic!("{rel} (seed {seed:#x}) before the snapshot: {m}"));
            step += 1;
            let now = interesting(&pair.a.model);
            if step >= EARLIEST && wanted(&pair.a.model, now) {
                break now;
            }
            assert!(
                step < LATEST,
                "{rel} (seed {seed:#x}): no snapshot point by step {LATEST}: {now:?}"
            );
        };
        pair.check_state()
            .unwrap_or_else(|m| panic!("{rel} (seed {seed:#x}) at the snapshot: {m}"));
        fig.msix_pending_at_snapshot |= at.msix_pending;
        let t = Instant::now();
        let snapshot = pair.a.model.save_snapshot().expect("generated model saves");
        fig.save = fig.save.max(t.elapsed());
        fig.size = fig.size.max(snapshot.len());
        let interp_snapshot = pair.b.model.save_snapshot().expect("interpreter saves");
        assert!(
            snapshot == interp_snapshot,
            "{rel} (seed {seed:#x}): generated and interpreted snapshots differ:\n{}\n{}",
            String::from_utf8_lossy(&snapshot),
            String::from_utf8_lossy(&interp_snapshot)
        );
        let memory = pair.a.memory();
        // Restored: a generated model, and the interpreter from the
        // generated model's snapshot.
        let mut restored_gen = Side::new(generated(), snap_state::<R>);
        let t = Instant::now();
        restored_gen
            .restore(&snapshot, &memory)
            .unwrap_or_else(|e| panic!("{rel}: generated restore: {e}"));
        fig.restore = fig.restore.max(t.elapsed());
        let mut restored_interp =
            Side::new(spec.model(hooks()), snap_state::<pcidev_interp::Interp>);
        restored_interp
            .restore(&snapshot, &memory)
            .unwrap_or_else(|e| panic!("{rel}: interpreter restore: {e}"));
        let Pair {
            a: original_gen,
            b: original_interp,
            ..
        } = pair;
        let mut gen_pair = Pair::new(original_gen, restored_gen);
        let mut interp_pair = Pair::new(original_interp, restored_interp);
        for pair in [&mut gen_pair.check_state(), &mut interp_pair.check_state()] {
            if let Err(m) = pair {
                panic!("{rel} (seed {seed:#x}) right after restore: {m}");
            }
        }
        for i in step..total {
            let access = next();
            gen_pair
                .step(&access)
                .and_then(|()| interp_pair.step(&access))
                .unwrap_or_else(|m| {
                    panic!("{rel} (seed {seed:#x}) after restore, original vs restored: {m}")
                });
            if (i + 1) % CHECK_EVERY == 0 {
                gen_pair
                    .check_state()
                    .and_then(|()| interp_pair.check_state())
                    .unwrap_or_else(|m| panic!("{rel} (seed {seed:#x}): {m}"));
            }
        }
        gen_pair
            .check_state()
            .and_then(|()| interp_pair.check_state())
            .unwrap_or_else(|m| panic!("{rel} (seed {seed:#x}) at the end: {m}"));
        for p in [
            (
                &gen_pair.a.model.save_snapshot(),
                &gen_pair.b.model.save_snapshot(),
            ),
            (
                &interp_pair.a.model.save_snapshot(),
                &interp_pair.b.model.save_snapshot(),
            ),
        ] {
            assert_eq!(p.0, p.1, "{rel} (seed {seed:#x}): final snapshots differ");
        }
        fig.after += gen_pair.steps;
        fig.events += gen_pair.events;
    }
    assert!(
        spec.info().msix.is_none() || fig.msix_pending_at_snapshot,
        "{rel}: no snapshot had an MSI-X vector pending"
    );
    eprintln!(
        "{rel}: snapshot {} bytes, save {:?}, restore {:?} (slowest of {SEEDS}); \
         {} actions and {} trace events compared after restore",
        fig.size, fig.save, fig.restore, fig.after, fig.events
    );
}

fn quiet() -> Box<dyn Hooks> {
    Box::new(DefaultHooks::quiet())
}

#[test]
fn hello_tic() {
    run_spec(
        "specs/hello_tic.pcidev",
        pcidev_models::hello_tic::model,
        quiet,
    );
}

#[test]
fn pci_testdev() {
    run_spec(
        "specs/pci_testdev.pcidev",
        pcidev_models::pci_testdev::model,
        quiet,
    );
}

#[test]
fn ivshmem_doorbell() {
    run_spec(
        "specs/ivshmem_doorbell.pcidev",
        pcidev_models::ivshmem_doorbell::model,
        quiet,
    );
}

#[test]
fn ivshmem_plain() {
    run_spec(
        "specs/ivshmem_plain.pcidev",
        pcidev_models::ivshmem_plain::model,
        quiet,
    );
}

#[test]
fn edu() {
    run_spec(
        "specs/edu.pcidev",
        || pcidev_models::edu::model(pcidev_models::EduHooks),
        || {
            Box::new(FnHooks(|_: &str, args: &[u64]| {
                use pcidev_models::edu::Hooks as _;
                u64::from(pcidev_models::EduHooks.factorial(args[0] as u32))
            }))
        },
    );
}

#[test]
fn pci_serial() {
    run_spec(
        "specs/pci_serial.pcidev",
        pcidev_models::pci_serial::model,
        quiet,
    );
}

#[test]
fn pvpanic_pci() {
    run_spec(
        "specs/pvpanic_pci.pcidev",
        pcidev_models::pvpanic_pci::model,
        quiet,
    );
}

#[test]
fn i6300esb() {
    run_spec(
        "specs/i6300esb.pcidev",
        pcidev_models::i6300esb::model,
        quiet,
    );
}

/// Every spec in `specs/` has a test above.
#[test]
fn every_spec_is_covered() {
    let this = std::fs::read_to_string(repo("interp/tests/snapshot.rs")).unwrap();
    for entry in std::fs::read_dir(repo("specs")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".pcidev") {
            assert!(
                this.contains(&format!("\"specs/{name}\"")),
                "{name} has no snapshot test"
            );
        }
    }
}

/// A snapshot of one version of a spec is refused by another whose state
/// differs, naming the difference; the model is left untouched.
#[test]
fn another_layout_is_refused_by_name() {
    let text = std::fs::read_to_string(repo("specs/pci_serial.pcidev")).unwrap();
    let changed = text.replacen("state scr: u8 = 0;", "state scr: u16 = 0;", 1);
    assert_ne!(text, changed, "the edit changes the spec");
    let spec = Spec::load_str("changed.pcidev", &changed).unwrap();
    let snapshot = pcidev_models::pci_serial::model().save_snapshot().unwrap();
    let mut m = spec.model(quiet());
    let before = m.save_snapshot().unwrap();
    let e = m.restore_snapshot(&snapshot).unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, SnapshotError::Layout { .. })
            && text.contains("`state scr: u8`")
            && text.contains("`state scr: u16`"),
        "{text}"
    );
    assert_eq!(
        m.save_snapshot().unwrap(),
        before,
        "a refused snapshot changed the model"
    );
    // Another device entirely.
    let e = pcidev_models::edu::model(pcidev_models::EduHooks)
        .restore_snapshot(&snapshot)
        .unwrap_err();
    assert!(e.to_string().contains("`pci_serial`"), "{e}");
    // Another format version.
    let newer =
        String::from_utf8(snapshot.clone())
            .unwrap()
            .replacen("\"version\":1", "\"version\":2", 1);
    let e = pcidev_models::pci_serial::model()
        .restore_snapshot(newer.as_bytes())
        .unwrap_err();
    assert_eq!(e, SnapshotError::Version { found: 2 }, "{e}");
}

/// Register arrays with storage (the corpus spec `arrays.pcidev`): the
/// generated model saves and restores an array's elements by a loop and
/// declares them one by one, as the interpreter does.
mod arrays_corpus {
    use pcidevc_macros::pci_device;

    #[pci_device(spec = "../dsl/tests/valid/arrays.pcidev")]
    #[derive(Debug, Default)]
    pub struct Arrays;

    #[pci_device(spec = "../dsl/tests/valid/big_spec.pcidev")]
    #[derive(Debug, Default)]
    pub struct BigSpec;
}

/// A big spec: states and storage saved and restored in runs, in parts.
#[test]
fn big_spec_corpus() {
    use arrays_corpus::*;
    run_spec(
        "dsl/tests/valid/big_spec.pcidev",
        || Model::new(big_spec::Device::new(BigSpec)),
        quiet,
    );
}

#[test]
fn register_arrays_corpus() {
    use arrays_corpus::*;
    run_spec(
        "dsl/tests/valid/arrays.pcidev",
        || Model::new(arrays::Device::new(Arrays)),
        quiet,
    );
}
