//! Every device model generated from `specs/`, compiled as one crate.
//!
//! `generated/<device>/` holds what `pcidevc specs/<device>.pcidev` writes
//! (checked in, and verified fresh by `pcidevc --check` in CI); this crate
//! compiles each `model.rs` so that the models are built, linted and tested
//! (each spec's scenarios run as `#[test]`s inside its module), and offers a
//! registry by name for hosts such as `pcidev-host`.

// Generated files are formatted by pcidevc (prettyplease), not rustfmt:
// `--check` compares them byte for byte with what pcidevc writes.
#[rustfmt::skip]
#[path = "../hello_tic/model.rs"]
pub mod hello_tic;

#[rustfmt::skip]
#[path = "../edu/model.rs"]
pub mod edu;

#[rustfmt::skip]
#[path = "../pci_testdev/model.rs"]
pub mod pci_testdev;

#[rustfmt::skip]
#[path = "../pvpanic_pci/model.rs"]
pub mod pvpanic_pci;

#[rustfmt::skip]
#[path = "../pci_serial/model.rs"]
pub mod pci_serial;

#[rustfmt::skip]
#[path = "../i6300esb/model.rs"]
pub mod i6300esb;

#[rustfmt::skip]
#[path = "../ivshmem_doorbell/model.rs"]
pub mod ivshmem_doorbell;

#[rustfmt::skip]
#[path = "../ivshmem_plain/model.rs"]
pub mod ivshmem_plain;

/// Rust behind edu's `hook factorial`: what QEMU's edu thread computes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EduHooks;

impl edu::Hooks for EduHooks {
    /// n! on u32, wrapping like QEMU's loop. From 34! on the product has
    /// 2^32 as a factor and is 0, so large n costs nothing (QEMU's thread
    /// would spin for seconds; a guest must not stall the host that way).
    fn factorial(&mut self, n: u32) -> u32 {
        if n >= 34 {
            return 0;
        }
        (1..=n).fold(1u32, |acc, k| acc.wrapping_mul(k))
    }
}

use pcidev_runtime::PciModel;

pub mod fuzz;

/// Names of the models [`by_name`] knows, in a stable order.
pub const NAMES: &[&str] = &[
    "edu",
    "hello_tic",
    "i6300esb",
    "ivshmem_doorbell",
    "ivshmem_plain",
    "pci_serial",
    "pci_testdev",
    "pvpanic_pci",
];

/// A fresh model (reset state) by device name.
pub fn by_name(name: &str) -> Option<Box<dyn PciModel>> {
    match name {
        "edu" => Some(Box::new(edu::model(EduHooks))),
        "hello_tic" => Some(Box::new(hello_tic::model())),
        "i6300esb" => Some(Box::new(i6300esb::model())),
        "ivshmem_doorbell" => Some(Box::new(ivshmem_doorbell::model())),
        "ivshmem_plain" => Some(Box::new(ivshmem_plain::model())),
        "pci_serial" => Some(Box::new(pci_serial::model())),
        "pci_testdev" => Some(Box::new(pci_testdev::model())),
        "pvpanic_pci" => Some(Box::new(pvpanic_pci::model())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factorial_matches_a_plain_wrapping_loop() {
        use edu::Hooks as _;
        let slow = |n: u32| (1..=n).fold(1u32, |a, k| a.wrapping_mul(k));
        for n in [0, 1, 5, 10, 12, 13, 20, 33, 34, 35, 100, 1000] {
            assert_eq!(EduHooks.factorial(n), slow(n), "{n}!");
        }
        assert_eq!(EduHooks.factorial(u32::MAX), 0);
    }

    #[test]
    fn the_scenarios_of_models_with_hooks_pass() {
        if let Err(e) = edu::scenarios::run_all(|| EduHooks) {
            panic!("{e}");
        }
    }

    #[test]
    fn every_name_builds_its_model() {
        for name in NAMES {
            let m = by_name(name).expect("registered");
            assert_eq!(&m.info().name, name);
        }
        assert!(by_name("nope").is_none());
    }
}
