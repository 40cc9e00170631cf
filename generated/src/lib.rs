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

use pcidev_runtime::PciModel;

/// Names of the models [`by_name`] knows, in a stable order.
pub const NAMES: &[&str] = &["hello_tic"];

/// A fresh model (reset state) by device name.
pub fn by_name(name: &str) -> Option<Box<dyn PciModel>> {
    match name {
        "hello_tic" => Some(Box::new(hello_tic::model())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_builds_its_model() {
        for name in NAMES {
            let m = by_name(name).expect("registered");
            assert_eq!(&m.info().name, name);
        }
        assert!(by_name("nope").is_none());
    }
}
