use pcidevc_macros::pci_device;

// This spec's DMA targets the VGA window (warning W0001): ignored by
// default, an error with `deny_warnings`.
#[pci_device(spec = "tests/ui/specs/vga_dma.pcidev")]
struct Allowed;

#[pci_device(spec = "tests/ui/specs/vga_dma.pcidev", deny_warnings)]
struct Denied;

fn main() {}
