use pcidevc_macros::pci_device;

#[pci_device(file = "x.pcidev")]
struct A;

#[pci_device(spec = "x.pcidev", inline = "device x {}")]
struct B;

#[pci_device]
struct C;

#[pci_device(spec = "../specs/hello_tic.pcidev")]
fn not_a_type() {}

fn main() {}
