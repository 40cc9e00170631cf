//! Differential test: every spec with a generated model (`specs/`, compiled
//! in `generated/`) and every spec of the valid corpus (`dsl/tests/valid`,
//! compiled here by `#[pci_device]`, the same code generator) against the
//! interpreter, under the same random config and BAR accesses (every size
//! 0..=9, aligned or not, in and out of range, unknown BARs, resets; config
//! accesses at and around configuration-space registers too):
//! identical read values and results, INTx edges, MSI messages, traces,
//! device state, config space and DMA bytes in guest memory.
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
    let (mut events, mut bar_done) = (0, 0);
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
    }
    // The sequences reached the device: a run that only ever hit disabled
    // decoding or invalid offsets would compare nothing of interest.
    let has_registers = spec.info().bars.iter().any(|b| !b.registers.is_empty());
    assert!(
        !has_registers || bar_done * 4 >= total,
        "{rel}: only {bar_done} of {total} accesses reached registers"
    );
    eprintln!(
        "{rel}: {total} accesses, {bar_done} reached registers, {events} trace events compared"
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

    #[pci_device(spec = "../dsl/tests/valid/qemu_features.pcidev")]
    #[derive(Debug, Default)]
    pub struct QemuFeatures;

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
