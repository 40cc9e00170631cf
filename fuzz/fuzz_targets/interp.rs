//! The interpreter against every generated model (hello_tic, edu,
//! pci_testdev, pvpanic_pci, pci_serial, i6300esb) under arbitrary guest
//! accesses interleaved with virtual time passing and stream input: after
//! every action the read bytes, results, timer firings, INTx line,
//! interrupt messages, traces, bytes sent, VMM requests and timer/stream
//! state must be identical, and at the end the device state, probes,
//! config space and guest memory. `interp/tests/differential.rs` runs a
//! bounded version in `cargo test`.
//!
//! Input layout: byte 0 picks the model; then 16-byte records as
//! `pcidev_interp::diff::Access::decode` reads them (config/BAR accesses,
//! resets, `advance`, stream input).

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pcidev_interp::diff::{Pair, Side};
use pcidev_interp::{DefaultHooks, FnHooks, Hooks, Interp, Spec};
use pcidev_models::{edu, hello_tic, i6300esb, pci_serial, pci_testdev, pvpanic_pci};
use pcidev_runtime::{Model, Registers};

const NAMES: [&str; 6] = ["hello_tic", "edu", "pci_testdev", "pvpanic_pci", "pci_serial", "i6300esb"];

/// Each spec is loaded (and its description leaked) once per process.
fn spec(i: usize) -> &'static Spec {
    static SPECS: OnceLock<Vec<&'static Spec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        NAMES
            .iter()
            .map(|n| {
                let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../specs/{n}.pcidev"));
                Spec::load(&path).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    })[i]
}

fn interp_state(i: &Interp) -> String {
    format!("{:?} {:?}", i.state(), i.storage())
}

fn run<R: Registers>(generated: Model<R>, state: fn(&R) -> String, i: usize, hooks: Box<dyn Hooks>, rest: &[u8]) {
    let result = Pair::new(Side::new(generated, state), Side::new(spec(i).model(hooks), interp_state)).run_bytes(rest);
    if let Err(m) = result {
        panic!("{}: generated vs interpreted: {m}", NAMES[i]);
    }
}

fn quiet() -> Box<dyn Hooks> {
    Box::new(DefaultHooks::quiet())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let i = usize::from(pick) % NAMES.len();
    match i {
        0 => run(hello_tic::model(), |d| format!("{:?} {:?}", d.state, d.storage), i, quiet(), rest),
        1 => run(
            edu::model(pcidev_models::EduHooks),
            |d| format!("{:?} {:?}", d.state, d.storage),
            i,
            Box::new(FnHooks(|_: &str, args: &[u64]| {
                use edu::Hooks as _;
                u64::from(pcidev_models::EduHooks.factorial(args[0] as u32))
            })),
            rest,
        ),
        2 => run(pci_testdev::model(), |d| format!("{:?} {:?}", d.state, d.storage), i, quiet(), rest),
        3 => run(pvpanic_pci::model(), |d| format!("{:?} {:?}", d.state, d.storage), i, quiet(), rest),
        4 => run(pci_serial::model(), |d| format!("{:?} {:?}", d.state, d.storage), i, quiet(), rest),
        _ => run(i6300esb::model(), |d| format!("{:?} {:?}", d.state, d.storage), i, quiet(), rest),
    }
});
