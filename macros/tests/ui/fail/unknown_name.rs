use pcidevc_macros::pci_device;

#[pci_device(spec = "tests/ui/specs/unknown_name.pcidev")]
struct Dev;

fn main() {}
