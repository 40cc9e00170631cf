//! The reference spec through the macro: the model answers like the CLI's,
//! and its scenarios pass with the user's hooks type.

use pcidev_runtime::{COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, Model};
use pcidevc_macros::pci_device;

#[pci_device(spec = "../specs/hello_tic.pcidev")]
#[derive(Debug, Default)]
struct Tic;

fn main() {
    let mut m = Model::new(hello_tic::Device::new(Tic));
    let cmd = COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE;
    m.config_write(0x04, &cmd.to_le_bytes());
    let mut id = [0; 4];
    m.bar_read(1, 4, &mut id).unwrap();
    assert_eq!(u32::from_le_bytes(id), 0x1337);
    hello_tic::scenarios::run_all(|| Tic).unwrap();
    // The spec has no hooks: `model()` takes none.
    let _plain = hello_tic::model();
}
