//! The interpreter against the generated models (hello_tic, edu,
//! pci_testdev) under arbitrary guest accesses: after every access the
//! read bytes, results, INTx line, interrupt messages and traces must be
//! identical, and at the end the device state, config space and guest
//! memory. `interp/tests/differential.rs` runs a bounded version in
//! `cargo test`.
//!
//! Input layout: byte 0 picks the model; then 16-byte access records as in
//! the `models` target (see `pcidev_interp::diff::Access::decode`).

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pcidev_interp::diff::{Pair, Side};
use pcidev_interp::{FnHooks, Interp, Spec};
use pcidev_models::{edu, hello_tic, pci_testdev};

/// Each spec is loaded (and its description leaked) once per process.
fn spec(name: &str) -> &'static Spec {
    static SPECS: OnceLock<Vec<&'static Spec>> = OnceLock::new();
    let specs = SPECS.get_or_init(|| {
        ["hello_tic", "edu", "pci_testdev"]
            .iter()
            .map(|n| {
                let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../specs/{n}.pcidev"));
                Spec::load(&path).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    });
    let i = ["hello_tic", "edu", "pci_testdev"].iter().position(|n| *n == name).unwrap();
    specs[i]
}

fn interp_state(i: &Interp) -> String {
    format!("{:?} {:?}", i.state(), i.storage())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let result = match pick % 3 {
        0 => Pair::new(
            Side::new(hello_tic::model(), |d| format!("{:?} {:?}", d.state, d.storage)),
            Side::new(spec("hello_tic").model(Box::new(pcidev_interp::DefaultHooks::quiet())), interp_state),
        )
        .run_bytes(rest),
        1 => Pair::new(
            Side::new(edu::model(pcidev_models::EduHooks), |d| format!("{:?} {:?}", d.state, d.storage)),
            Side::new(
                spec("edu").model(Box::new(FnHooks(|_: &str, args: &[u64]| {
                    use edu::Hooks as _;
                    u64::from(pcidev_models::EduHooks.factorial(args[0] as u32))
                }))),
                interp_state,
            ),
        )
        .run_bytes(rest),
        _ => Pair::new(
            Side::new(pci_testdev::model(), |d| format!("{:?} {:?}", d.state, d.storage)),
            Side::new(spec("pci_testdev").model(Box::new(pcidev_interp::DefaultHooks::quiet())), interp_state),
        )
        .run_bytes(rest),
    };
    if let Err(m) = result {
        panic!("generated vs interpreted: {m}");
    }
});
