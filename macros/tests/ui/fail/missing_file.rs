use pcidevc_macros::pci_device;

#[pci_device(spec = "tests/ui/specs/does_not_exist.pcidev")]
struct Dev;

fn main() {}
