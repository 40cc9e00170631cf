use pcidevc_macros::pci_device;

#[pci_device(spec = "tests/ui/specs/syntax_error.pcidev")]
struct Dev;

fn main() {}
