//! The models the `pcidev-host` binary can serve, by name.
//!
//! To add a model, add an entry to [`MODELS`] whose `build` returns it in its
//! reset state. Generated models come from the `pcidev-models` crate (the
//! checked-in `generated/` directory), e.g. `pcidev_models::hello_tic::model()`.
//!
//! [`spec_hooks`] gives an interpreted spec (`pcidev-host --spec`) the Rust
//! hooks this build links, by device and hook name (today: edu's
//! `factorial`, from `pcidev_models::EduHooks`); every other hook takes the
//! interpreter's documented default (answers 0, reported once).

use pcidev_interp::{DefaultHooks, Hooks};
use pcidev_runtime::PciModel;
use pcidevc_dsl::ir::Hook;

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
        name: "i6300esb",
        description: "QEMU's i6300esb watchdog, generated from specs/i6300esb.pcidev (config-space ESB_CONFIG/ESB_LOCK, two-stage timer, VMM reset)",
        build: || Box::new(pcidev_models::i6300esb::model()),
    },
    ModelEntry {
        name: "ivshmem_doorbell",
        description: "QEMU's ivshmem-doorbell registers and MSI-X, generated from specs/ivshmem_doorbell.pcidev",
        build: || Box::new(pcidev_models::ivshmem_doorbell::model()),
    },
    ModelEntry {
        name: "ivshmem_plain",
        description: "QEMU's ivshmem-plain, generated from specs/ivshmem_plain.pcidev (1 MiB shared-memory window, mmap-able)",
        build: || Box::new(pcidev_models::ivshmem_plain::model()),
    },
    ModelEntry {
        name: "pci_serial",
        description: "QEMU's pci-serial 16550A, generated from specs/pci_serial.pcidev (stream `line`, char timeout)",
        build: || Box::new(pcidev_models::pci_serial::model()),
    },
    ModelEntry {
        name: "pci_testdev",
        description: "QEMU's pci-testdev, generated from specs/pci_testdev.pcidev",
        build: || Box::new(pcidev_models::pci_testdev::model()),
    },
    ModelEntry {
        name: "pvpanic_pci",
        description: "QEMU's pvpanic-pci, generated from specs/pvpanic_pci.pcidev (VMM panic/poweroff)",
        build: || Box::new(pcidev_models::pvpanic_pci::model()),
    },
    ModelEntry {
        name: "toy",
        description: "test model: id, scratch, level irq, DMA and MSI triggers (see pcidev_host::toy)",
        build: || Box::new(crate::toy::model()),
    },
];

/// The Rust behind one hook: arguments in, answer out (see
/// `pcidev_interp::Hooks` for the conversions).
pub type HookFn = fn(&[u64]) -> u64;

/// A Rust hook this build links for interpreted specs: device name, hook
/// name, and the function (arguments already converted to the hook's
/// parameter types, see `pcidev_interp::Hooks`).
#[derive(Debug, Clone, Copy)]
pub struct LinkedHook {
    /// Device name (`device NAME { .. }`).
    pub device: &'static str,
    /// Hook name (`hook NAME(..)`).
    pub hook: &'static str,
    /// The Rust behind it.
    pub call: HookFn,
}

/// Every Rust hook linked into this build.
pub const LINKED_HOOKS: &[LinkedHook] = &[LinkedHook {
    device: "edu",
    hook: "factorial",
    call: |args| {
        use pcidev_models::edu::Hooks as _;
        let n = args.first().copied().unwrap_or(0);
        u64::from(pcidev_models::EduHooks.factorial(n as u32))
    },
}];

/// Hooks of an interpreted spec: linked Rust where [`LINKED_HOOKS`] has it
/// (matched by device and hook name), the interpreter's default elsewhere.
#[derive(Debug)]
pub struct SpecHooks {
    linked: Vec<Option<HookFn>>,
    fallback: DefaultHooks,
}

impl Hooks for SpecHooks {
    fn call(&mut self, id: usize, hook: &Hook, args: &[u64]) -> u64 {
        match self.linked.get(id).copied().flatten() {
            Some(f) => f(args),
            None => self.fallback.call(id, hook, args),
        }
    }
}

/// The hooks for `spec`, and one line per hook saying where it comes from.
pub fn spec_hooks(spec: &pcidevc_dsl::ir::Device) -> (SpecHooks, Vec<String>) {
    let mut lines = Vec::new();
    let linked = spec
        .hooks
        .iter()
        .map(|h| {
            let found = LINKED_HOOKS
                .iter()
                .find(|l| l.device == spec.name && l.hook == h.name);
            lines.push(match found {
                Some(_) => format!("hook `{}`: Rust linked into pcidev-host", h.name),
                None => format!(
                    "hook `{}`: no Rust implementation: answers 0 (see the README's Hooks)",
                    h.name
                ),
            });
            found.map(|l| l.call)
        })
        .collect();
    (
        SpecHooks {
            linked,
            fallback: DefaultHooks::new(),
        },
        lines,
    )
}

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

    #[test]
    fn edu_spec_gets_the_linked_factorial_and_others_the_default() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/edu.pcidev");
        let spec = pcidev_interp::Spec::load(std::path::Path::new(path)).unwrap();
        let (mut hooks, lines) = spec_hooks(&spec.device);
        assert_eq!(lines, ["hook `factorial`: Rust linked into pcidev-host"]);
        let fact = &spec.device.hooks[0];
        assert_eq!(hooks.call(0, fact, &[5]), 120);
        let other = pcidev_interp::Spec::load_str(
            "x.pcidev",
            "device other { id 0x1234:0x5678; hook factorial(n: u32) -> u32; \
             bar 0 mem32 size 16 { register R @ 0 : u32 { read factorial(5); } } }",
        )
        .unwrap();
        let (mut hooks, lines) = spec_hooks(&other.device);
        assert!(lines[0].contains("answers 0"), "{lines:?}");
        assert_eq!(hooks.call(0, &other.device.hooks[0], &[5]), 0);
    }
}
