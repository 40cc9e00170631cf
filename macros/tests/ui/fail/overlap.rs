use pcidevc_macros::pci_device;

#[pci_device(spec = "tests/ui/specs/overlap.pcidev")]
struct Dev;

fn main() {}
