//! The models the `pcidev-host` binary can serve, by name.
//!
//! To add a model, add an entry to [`MODELS`] whose `build` returns it in its
//! reset state. Generated models come from the `pcidev-models` crate (the
//! checked-in `generated/` directory), e.g. `pcidev_models::hello_tic::model()`.

use pcidev_runtime::PciModel;

/// One servable model.
#[derive(Debug, Clone, Copy)]
pub struct ModelEntry {
    /// The name given on the command line.
    pub name: &'static str,
    /// One line for `--list`.
    pub description: &'static str,
    /// A fresh instance in its reset state.
    pub build: fn() -> Box<dyn PciModel>,
}

/// Every model this build of the host knows.
pub const MODELS: &[ModelEntry] = &[
    ModelEntry {
        name: "edu",
        description: "QEMU's edu, generated from specs/edu.pcidev (factorial hook in pcidev_models)",
        build: || Box::new(pcidev_models::edu::model(pcidev_models::EduHooks)),
    },
    ModelEntry {
        name: "hello_tic",
        description: "the seed device, generated from specs/hello_tic.pcidev",
        build: || Box::new(pcidev_models::hello_tic::model()),
    },
    ModelEntry {
        name: "pci_testdev",
        description: "QEMU's pci-testdev, generated from specs/pci_testdev.pcidev",
        build: || Box::new(pcidev_models::pci_testdev::model()),
    },
    ModelEntry {
        name: "toy",
        description: "test model: id, scratch, level irq, DMA and MSI triggers (see pcidev_host::toy)",
        build: || Box::new(crate::toy::model()),
    },
];

/// The model registered as `name`.
pub fn find(name: &str) -> Option<&'static ModelEntry> {
    MODELS.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_build() {
        for (i, m) in MODELS.iter().enumerate() {
            assert!(MODELS[..i].iter().all(|o| o.name != m.name), "{}", m.name);
            assert_eq!(find(m.name).map(|e| e.name), Some(m.name));
            let _ = (m.build)().info();
        }
        assert!(find("no-such-model").is_none());
    }
}
