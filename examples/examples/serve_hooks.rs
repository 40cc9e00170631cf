//! Serve a spec with real Rust hooks to QEMU: the README's "Hooks" path
//! (`#[pci_device]` + the host library), with `specs/hello_hook.pcidev`.
//! `pcidev-host --spec` answers hooks without linked Rust with 0; this is
//! the few lines that give them Rust instead.
//!
//! Run: `cargo run -p pcidevc-examples --example serve_hooks -- /tmp/hook.sock`
//! and attach QEMU's `vfio-user-pci` to that socket.

use pcidev_host::DeviceServer;
use pcidevc_macros::pci_device;

#[pci_device(spec = "specs/hello_hook.pcidev")]
struct MyHooks;

impl hello_hook::Hooks for MyHooks {
    fn scramble(&mut self, x: u32) -> u32 {
        x.swap_bytes()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let socket = std::env::args()
        .nth(1)
        .unwrap_or("/tmp/hello_hook.sock".into());
    let mut model = hello_hook::model(MyHooks);
    DeviceServer::bind(socket)?.serve(&mut model)?;
    Ok(())
}
