//! Differential test: every spec with a generated model (`specs/`, compiled
//! in `generated/`) and every spec of the valid corpus (`dsl/tests/valid`,
//! compiled here by `#[pci_device]`, the same code generator) against the
//! interpreter, under the same random config and BAR accesses (every size
//! 0..=9, aligned or not, in and out of range, unknown BARs, resets; config
//! accesses at and around configuration-space registers too) interleaved,
//! for specs with timers or streams, with virtual time passing (to, just
//! before and just after the next deadline, or by a duration) and stream
//! input: identical read values and results, timer firings, INTx edges, MSI
//! messages, traces, bytes sent, VMM requests, timer and stream state,
//! device state and probes, config space and DMA bytes in guest memory.
//!
//! Accesses per spec: `PCIDEV_DIFF_ACCESSES` if set, else 1 000 000 in an
//! optimised build and 100 000 in a debug build (`cargo test` in CI). The
//! full million per spec:
//! `cargo test --release -p pcidev-interp --test differential`.

use std::path::{Path, PathBuf};

use pcidev_interp::diff::{Pair, Side};
use pcidev_interp::{DefaultHooks, FnHooks, Hooks, Interp, Spec};
use pcidev_runtime::{Model, Registers};

/// Accesses per spec (see the module docs).
fn accesses() -> u64 {
    if let Some(n) = std::env::var("PCIDEV_DIFF_ACCESSES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if cfg!(debug_assertions) {
        100_000
    } else {
        1_000_000
    }
}

/// Independent sequences per spec (each from a fresh pair of models).
const SEEDS: u64 = 8;
/// State, config space and memory are compared this often (and at the end).
const CHECK_EVERY: u64 = 256;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn interp_state(i: &Interp) -> String {
    format!("{:?} {:?}", i.state(), i.storage())
}

/// Run the comparison for one spec; `generated` builds a fresh generated
/// model, `hooks` the interpreter's hooks.
fn compare<R: Registers>(
    rel: &str,
    generated: impl Fn() -> Model<R>,
    gen_state: fn(&R) -> String,
    hooks: impl Fn() -> Box<dyn Hooks>,
) {
    let spec = Spec::load(&repo(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let total = accesses();
    let per_seed = total.div_ceil(SEEDS);
    let (mut events, mut bar_done, mut outside, mut msix) = (0, 0, 0, (0u64, 0u64));
    let (mut fired, mut inputs, mut sent, mut vmm) = (0, 0, 0, 0);
    for seed in 0..SEEDS {
        let gen_model = generated();
        assert_eq!(
            gen_model.info(),
            spec.info(),
            "{rel}: the interpreter's DeviceInfo differs from the generated INFO"
        );
        let mut pair = Pair::new(
            Side::new(gen_model, gen_state),
            Side::new(spec.model(hooks()), interp_state),
        );
        pair.check_state()
            .unwrap_or_else(|m| panic!("{rel}: reset state: {m}"));
        let seed = 0x5eed_0000 + seed as u32;
        if let Err(m) = pair.run_random(seed, per_seed, CHECK_EVERY) {
            panic!("{rel} (seed {seed:#x}): generated vs interpreted: {m}");
        }
        events += pair.events;
        bar_done += pair.bar_done;
        outside += pair.outside;
        fired += pair.fired;
        inputs += pair.inputs;
        sent += pair.sent;
        vmm += pair.vmm;
        msix.0 += pair.msix.0;
        msix.1 += pair.msix.1;
    }
    // The sequences reached the device: a run that only ever hit disabled
    // decoding or invalid offsets would compare nothing of interest.
    let has_registers = spec.info().bars.iter().any(|b| !b.registers.is_empty());
    let guest = (per_seed * SEEDS).saturating_sub(outside);
    assert!(
        !has_registers || bar_done * 4 >= guest,
        "{rel}: only {bar_done} of {guest} guest accesses reached registers"
    );
    // With MSI-X, vectors were both delivered and held pending.
    assert!(
        spec.info().msix.is_none() || (msix.0 > 0 && msix.1 > 0),
        "{rel}: MSI-X delivered {} and left pending {} vectors",
        msix.0,
        msix.1
    );
    eprintln!(
        "{rel}: {total} actions, {guest} guest accesses, {bar_done} reached registers, {events} trace events compared; \
         {fired} timer firings, {inputs} input bytes, {sent} bytes sent, {vmm} VMM requests, MSI-X {msix:?}"
    );
    // Specs with timers and streams had them exercised.
    let (timers, streams) = (spec.device.timers.len(), spec.device.streams.len());
    assert!(
        timers == 0 || fired > 0,
        "{rel}: no timer fired in {total} actions"
    );
    assert!(
        streams == 0 || inputs > 0,
        "{rel}: no stream input was taken in {total} actions"
    );
}

macro_rules! gen_state {
    ($m:path) => {{
        use $m as m;
        fn f<H: m::Hooks>(d: &m::Device<H>) -> String {
            format!("{:?} {:?}", d.state, d.storage)
        }
        f
    }};
}

/// The comparison can fail: a spec differing from the generated model in
/// one reset value is caught.
#[test]
fn a_different_model_is_caught() {
    let text = std::fs::read_to_string(repo("specs/pci_testdev.pcidev")).unwrap();
    let spec = Spec::load_str(
        "changed.pcidev",
        &text.replacen("count: u32 = 0;", "count: u32 = 1;", 1),
    )
    .unwrap();
    assert_ne!(
        text,
        text.replacen("count: u32 = 0;", "count: u32 = 1;", 1),
        "the edit changes the spec"
    );
    let mut pair = Pair::new(
        Side::new(
            pcidev_models::pci_testdev::model(),
            gen_state!(pcidev_models::pci_testdev),
        ),
        Side::new(spec.model(quiet()), interp_state),
    );
    let found = pair
        .check_state()
        .and_then(|()| pair.run_random(1, 100_000, CHECK_EVERY));
    assert!(found.is_err(), "a changed reset value went unnoticed");
}

/// Language v2 semantics are compared too: each one-construct change of a
/// v2 spec (stickiness, a timer's duration, a periodic timer, a VMM
/// request, a FIFO push, a byte sent) is caught against the unchanged
/// generated model.
#[test]
fn a_different_v2_model_is_caught() {
    fn caught<R: Registers>(
        rel: &str,
        from: &str,
        to: &str,
        generated: impl Fn() -> Model<R>,
        state: fn(&R) -> String,
    ) {
        let text = std::fs::read_to_string(repo(rel)).unwrap();
        let changed = text.replace(from, to);
        assert_ne!(text, changed, "{rel}: `{from}` is in the spec");
        let spec = Spec::load_str("changed.pcidev", &changed).unwrap();
        let found = (0..4).any(|seed| {
            let mut pair = Pair::new(
                Side::new(generated(), state),
                Side::new(spec.model(quiet()), interp_state),
            );
            pair.check_state()
                .and_then(|()| pair.run_random(seed, 20_000, CHECK_EVERY))
                .is_err()
        });
        assert!(found, "{rel}: `{from}` -> `{to}` went unnoticed");
    }
    let serial = pcidev_models::pci_serial::model;
    let serial_state = gen_state!(pcidev_models::pci_serial);
    let cases = [
        ("state fcr: u8 = 0 sticky;", "state fcr: u8 = 0;"),
        ("after 4 * char_ns ns", "after 5 * char_ns ns"),
        ("rx.push(byte);", "rx.push(byte + 1);"),
        ("send line thr;", "send line thr ^ 1;"),
    ];
    for (from, to) in cases {
        caught("specs/pci_serial.pcidev", from, to, serial, serial_state);
    }
    let wdt = pcidev_models::i6300esb::model;
    let wdt_state = gen_state!(pcidev_models::i6300esb);
    caught(
        "specs/i6300esb.pcidev",
        "vmm reset;",
        "vmm poweroff;",
        wdt,
        wdt_state,
    );
    let v2 = || Model::new(corpus::v2_uart::Device::new(corpus::V2TimeStreams));
    let v2_state = gen_state!(corpus::v2_uart);
    caught(
        "dsl/tests/valid/v2_time_streams.pcidev",
        "start tick every 10 ms;",
        "start tick after 10 ms;",
        v2,
        v2_state,
    );
}

/// A periodic timer left running for a very long virtual time: both sides
/// fire exactly `MAX_ADVANCE_FIRINGS` times one by one, then once more at
/// the end of the jump, and end in the same state and clock.
#[test]
fn long_advances_are_bounded_alike() {
    use pcidev_runtime::{COMMAND_IO_SPACE, MAX_ADVANCE_FIRINGS};
    let rel = "dsl/tests/valid/v2_time_streams.pcidev";
    let spec = Spec::load(&repo(rel)).unwrap();
    let mut generated = Model::new(corpus::v2_uart::Device::new(corpus::V2TimeStreams));
    let mut interpreted = spec.model(quiet());
    // COMMAND.IO, then CTRL (BAR0 + 3) = 1: `start tick every 10 ms`.
    generated.config_write(0x04, &COMMAND_IO_SPACE.to_le_bytes());
    interpreted.config_write(0x04, &COMMAND_IO_SPACE.to_le_bytes());
    generated.bar_write(0, 3, &[1]).unwrap();
    interpreted.bar_write(0, 3, &[1]).unwrap();
    // 2^21 periods of 10 ms.
    let ns = (2u64 << 20) * 10_000_000;
    let (fa, fb) = (generated.advance(ns), interpreted.advance(ns));
    assert_eq!(fa, MAX_ADVANCE_FIRINGS + 1);
    assert_eq!(fa, fb);
    assert_eq!(generated.now(), interpreted.now());
    assert_eq!(generated.next_deadline(), interpreted.next_deadline());
    assert_eq!(
        generated.take_vmm_requests(),
        interpreted.take_vmm_requests()
    );
    let gen_state = gen_state!(corpus::v2_uart);
    assert_eq!(gen_state(&generated.regs), interp_state(&interpreted.regs));
}

/// A difference only a configuration-space read shows (a computed read,
/// no state involved) is caught too: config accesses reach the registers.
#[test]
fn a_different_config_register_is_caught() {
    let text = std::fs::read_to_string(repo("dsl/tests/valid/config_space.pcidev")).unwrap();
    let changed = text.replacen("{ read writes; }", "{ read writes + 1; }", 1);
    assert_ne!(text, changed, "the edit changes the spec");
    let spec = Spec::load_str("changed.pcidev", &changed).unwrap();
    let mut pair = Pair::new(
        Side::new(
            Model::new(corpus::config_space::Device::new(corpus::ConfigSpace)),
            gen_state!(corpus::config_space),
        ),
        Side::new(spec.model(quiet()), interp_state),
    );
    let found = pair
        .check_state()
        .and_then(|()| pair.run_random(1, 100_000, CHECK_EVERY));
    let m = found.expect_err("a changed config register read went unnoticed");
    assert!(
        matches!(
            m.access,
            Some(pcidev_interp::diff::Access::ConfigRead { .. })
        ),
        "{m:?}"
    );
}

fn quiet() -> Box<dyn Hooks> {
    Box::new(DefaultHooks::quiet())
}

// ------------------------------------------------------------------ specs/

#[test]
fn hello_tic() {
    compare(
        "specs/hello_tic.pcidev",
        pcidev_models::hello_tic::model,
        gen_state!(pcidev_models::hello_tic),
        quiet,
    );
}

#[test]
fn pci_testdev() {
    compare(
        "specs/pci_testdev.pcidev",
        pcidev_models::pci_testdev::model,
        gen_state!(pcidev_models::pci_testdev),
        quiet,
    );
}

/// ivshmem_doorbell: MSI-X (4 vectors in BAR1) rung by the doorbell.
#[test]
fn ivshmem_doorbell() {
    compare(
        "specs/ivshmem_doorbell.pcidev",
        pcidev_models::ivshmem_doorbell::model,
        gen_state!(pcidev_models::ivshmem_doorbell),
        quiet,
    );
}

/// edu with its real factorial hook on both sides (the generated model's
/// `EduHooks`, called by the interpreter through `FnHooks`).
#[test]
fn edu() {
    compare(
        "specs/edu.pcidev",
        || pcidev_models::edu::model(pcidev_models::EduHooks),
        gen_state!(pcidev_models::edu),
        || {
            Box::new(FnHooks(|name: &str, args: &[u64]| {
                use pcidev_models::edu::Hooks as _;
                assert_eq!(name, "factorial");
                u64::from(pcidev_models::EduHooks.factorial(args[0] as u32))
            }))
        },
    );
}

/// pci_serial (language v2: timers, a stream, FIFOs, sticky state, `let`,
/// `fn`).
#[test]
fn pci_serial() {
    compare(
        "specs/pci_serial.pcidev",
        pcidev_models::pci_serial::model,
        gen_state!(pcidev_models::pci_serial),
        quiet,
    );
}

/// pvpanic_pci (language v2: `fn`, VMM requests).
#[test]
fn pvpanic_pci() {
    compare(
        "specs/pvpanic_pci.pcidev",
        pcidev_models::pvpanic_pci::model,
        gen_state!(pcidev_models::pvpanic_pci),
        quiet,
    );
}

/// i6300esb (language v2: a timer, sticky state, `fn`, `vmm reset`).
#[test]
fn i6300esb() {
    compare(
        "specs/i6300esb.pcidev",
        pcidev_models::i6300esb::model,
        gen_state!(pcidev_models::i6300esb),
        quiet,
    );
}

// ------------------------------------------------------------------ valid corpus

mod corpus {
    use pcidevc_macros::pci_device;

    #[pci_device(spec = "../dsl/tests/valid/config_space.pcidev")]
    #[derive(Debug, Default)]
    pub struct ConfigSpace;

    #[pci_device(spec = "../dsl/tests/valid/minimal.pcidev")]
    #[derive(Debug, Default)]
    pub struct Minimal;

    #[pci_device(spec = "../dsl/tests/valid/includes.pcidev")]
    #[derive(Debug, Default)]
    pub struct Includes;

    #[pci_device(spec = "../dsl/tests/valid/top_include.pcidev")]
    #[derive(Debug, Default)]
    pub struct TopInclude;

    #[pci_device(spec = "../dsl/tests/valid/level_irq.pcidev")]
    #[derive(Debug, Default)]
    pub struct LevelIrq;

    #[pci_device(spec = "../dsl/tests/valid/msi_only.pcidev")]
    #[derive(Debug, Default)]
    pub struct MsiOnly;

    #[pci_device(spec = "../dsl/tests/valid/msix.pcidev")]
    #[derive(Debug, Default)]
    pub struct Msix;

    #[pci_device(spec = "../dsl/tests/valid/arrays.pcidev")]
    #[derive(Debug, Default)]
    pub struct Arrays;

    #[pci_device(spec = "../dsl/tests/valid/qemu_features.pcidev")]
    #[derive(Debug, Default)]
    pub struct QemuFeatures;

    #[pci_device(spec = "../dsl/tests/valid/big_spec.pcidev")]
    #[derive(Debug, Default)]
    pub struct BigSpec;

    /// Hooks with answers that exercise conversions: the interpreter's
    /// side returns the same numbers untruncated (see `kitchen_hooks`).
    #[pci_device(spec = "../dsl/tests/valid/kitchen_sink.pcidev")]
    #[derive(Debug, Default)]
    pub struct Kitchen;

    impl kitchen_sink::Hooks for Kitchen {
        fn notify(&mut self) {}
        fn checksum(&mut self, start: u32, length: u16) -> u32 {
            start.wrapping_mul(31) ^ u32::from(length) << 3
        }
        fn poll(&mut self, flag: bool) -> bool {
            !flag
        }
    }

    #[pci_device(spec = "../dsl/tests/valid/windows.pcidev")]
    #[derive(Debug, Default)]
    pub struct Windows;

    #[pci_device(spec = "../dsl/tests/valid/language_v1.pcidev")]
    #[derive(Debug, Default)]
    pub struct LanguageV1;

    #[pci_device(spec = "../dsl/tests/valid/v2_time_streams.pcidev")]
    #[derive(Debug, Default)]
    pub struct V2TimeStreams;

    #[pci_device(spec = "../dsl/tests/valid/readme_v2.pcidev")]
    #[derive(Debug, Default)]
    pub struct ReadmeV2;

    /// Hooks with state (`pick` alternates), so both sides must call them
    /// exactly as often and in the same order.
    #[pci_device(spec = "../dsl/tests/valid/v2_hooks.pcidev")]
    #[derive(Debug, Default)]
    pub struct V2Hooks {
        picks: u32,
    }

    impl v2_hooks::Hooks for V2Hooks {
        fn jitter(&mut self, n: u8) -> u32 {
            u32::from(n).wrapping_mul(0x9e37_79b9) >> 20
        }
        fn seen(&mut self, _b: u8, _odd: bool) {}
        fn pick(&mut self) -> bool {
            self.picks += 1;
            !self.picks.is_multiple_of(3)
        }
    }

    #[pci_device(spec = "../dsl/tests/valid/readme_reference.pcidev")]
    #[derive(Debug, Default)]
    pub struct Readme;

    impl readme_reference::Hooks for Readme {
        fn factorial(&mut self, n: u32) -> u32 {
            (1..=n.min(40)).fold(1u32, |a, k| a.wrapping_mul(k))
        }
        fn scramble(&mut self, _x: u32) {}
    }
}

/// The interpreter's side of `corpus::Kitchen`: wider answers than the
/// return types, which the interpreter must truncate as Rust's types do.
fn kitchen_hooks() -> Box<dyn Hooks> {
    Box::new(FnHooks(|name: &str, args: &[u64]| match name {
        "checksum" => {
            assert!(args[0] <= u64::from(u32::MAX) && args[1] <= u64::from(u16::MAX));
            (args[0].wrapping_mul(31) ^ args[1] << 3) | 0xdead_0000_0000_0000
        }
        "poll" => {
            assert!(args[0] <= 1, "a bool argument is 0 or 1");
            2 * (1 - args[0])
        }
        _ => 0x1234,
    }))
}

/// The interpreter's side of `corpus::V2Hooks`: answers wider than the
/// return types (which the interpreter truncates), arguments checked
/// against the parameter types.
fn v2_hooks() -> Box<dyn Hooks> {
    let mut picks = 0u32;
    Box::new(FnHooks(move |name: &str, args: &[u64]| match name {
        "jitter" => {
            assert!(args[0] <= 0xff, "a u8 argument");
            (u64::from((args[0] as u32).wrapping_mul(0x9e37_79b9) >> 20)) | 0xabcd_0000_0000_0000
        }
        "seen" => {
            assert!(args[0] <= 0xff && args[1] <= 1);
            0x55
        }
        "pick" => {
            picks += 1;
            // A bool answer is `!= 0`.
            if picks.is_multiple_of(3) { 0 } else { 0x107 }
        }
        _ => panic!("unknown hook {name}"),
    }))
}

fn readme_hooks() -> Box<dyn Hooks> {
    Box::new(FnHooks(|name: &str, args: &[u64]| match name {
        "factorial" => (1..=args[0].min(40)).fold(1u64, |a, k| a.wrapping_mul(k)),
        _ => 7,
    }))
}

/// Configuration-space registers and a vendor capability: config accesses
/// at, around and across the registers, of every size.
#[test]
fn corpus_config_space() {
    use corpus::*;
    compare(
        "dsl/tests/valid/config_space.pcidev",
        || Model::new(config_space::Device::new(ConfigSpace)),
        gen_state!(corpus::config_space),
        quiet,
    );
}

#[test]
fn corpus_minimal() {
    use corpus::*;
    compare(
        "dsl/tests/valid/minimal.pcidev",
        || Model::new(minimal::Device::new(Minimal)),
        gen_state!(corpus::minimal),
        quiet,
    );
}

#[test]
fn corpus_includes() {
    use corpus::*;
    compare(
        "dsl/tests/valid/includes.pcidev",
        || Model::new(includes::Device::new(Includes)),
        gen_state!(corpus::includes),
        quiet,
    );
}

#[test]
fn corpus_top_include() {
    use corpus::*;
    compare(
        "dsl/tests/valid/top_include.pcidev",
        || Model::new(corpus::from_include::Device::new(TopInclude)),
        gen_state!(corpus::from_include),
        quiet,
    );
}

#[test]
fn corpus_level_irq() {
    use corpus::*;
    compare(
        "dsl/tests/valid/level_irq.pcidev",
        || Model::new(level_irq::Device::new(LevelIrq)),
        gen_state!(corpus::level_irq),
        quiet,
    );
}

#[test]
fn corpus_msi_only() {
    use corpus::*;
    compare(
        "dsl/tests/valid/msi_only.pcidev",
        || Model::new(msi_only::Device::new(MsiOnly)),
        gen_state!(corpus::msi_only),
        quiet,
    );
}

/// MSI-X: table and PBA accesses, enable and function mask, vectors sent
/// by a register write, on both sides.
#[test]
fn corpus_msix() {
    use corpus::*;
    compare(
        "dsl/tests/valid/msix.pcidev",
        || Model::new(msix_corpus::Device::new(Msix)),
        gen_state!(corpus::msix_corpus),
        quiet,
    );
}

#[test]
fn corpus_qemu_features() {
    use corpus::*;
    compare(
        "dsl/tests/valid/qemu_features.pcidev",
        || Model::new(qemu_features::Device::new(QemuFeatures)),
        gen_state!(corpus::qemu_features),
        quiet,
    );
}

/// Register arrays: per-element storage and fields, `index` in reads and
/// actions, accesses spanning elements.
#[test]
fn corpus_arrays() {
    use corpus::*;
    compare(
        "dsl/tests/valid/arrays.pcidev",
        || Model::new(arrays::Device::new(Arrays)),
        gen_state!(corpus::arrays),
        quiet,
    );
}

/// A spec big enough for the generated model's runs and parts (the fast
/// path and the register dispatch in methods per run of registers, `State`
/// and `Storage` in parts with a flat `Debug`, a sticky state kept by reset
/// across parts).
#[test]
fn corpus_big_spec() {
    use corpus::*;
    compare(
        "dsl/tests/valid/big_spec.pcidev",
        || Model::new(big_spec::Device::new(BigSpec)),
        gen_state!(corpus::big_spec),
        quiet,
    );
}

/// Windows (read-only and read-write, two views of one buffer, DMA to and
/// from a windowed buffer) and `access.size` / `access.mask`.
#[test]
fn corpus_windows() {
    use corpus::*;
    compare(
        "dsl/tests/valid/windows.pcidev",
        || Model::new(windows::Device::new(Windows)),
        gen_state!(corpus::windows),
        quiet,
    );
}

#[test]
fn corpus_kitchen_sink() {
    use corpus::*;
    compare(
        "dsl/tests/valid/kitchen_sink.pcidev",
        || kitchen_sink::model(Kitchen),
        gen_state!(corpus::kitchen_sink),
        kitchen_hooks,
    );
}

#[test]
fn corpus_readme_reference() {
    use corpus::*;
    compare(
        "dsl/tests/valid/readme_reference.pcidev",
        || readme_reference::model(Readme),
        gen_state!(corpus::readme_reference),
        readme_hooks,
    );
}

#[test]
fn corpus_language_v1() {
    use corpus::*;
    compare(
        "dsl/tests/valid/language_v1.pcidev",
        || Model::new(language_v1::Device::new(LanguageV1)),
        gen_state!(corpus::language_v1),
        quiet,
    );
}

#[test]
fn corpus_v2_time_streams() {
    use corpus::*;
    compare(
        "dsl/tests/valid/v2_time_streams.pcidev",
        || Model::new(v2_uart::Device::new(V2TimeStreams)),
        gen_state!(corpus::v2_uart),
        quiet,
    );
}

#[test]
fn corpus_readme_v2() {
    use corpus::*;
    compare(
        "dsl/tests/valid/readme_v2.pcidev",
        || Model::new(readme_v2::Device::new(ReadmeV2)),
        gen_state!(corpus::readme_v2),
        quiet,
    );
}

#[test]
fn corpus_v2_hooks() {
    compare(
        "dsl/tests/valid/v2_hooks.pcidev",
        || corpus::v2_hooks::model(corpus::V2Hooks::default()),
        gen_state!(corpus::v2_hooks),
        v2_hooks,
    );
}
