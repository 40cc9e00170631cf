//! The guest smoke test behind `cargo xtask guest-test`: boot the
//! provisioned kernel under QEMU TCG with `-device pci-testdev`, load the
//! upstream `samples/rust/rust_driver_pci` module (built unmodified with the
//! kernel), and check its `pci-testdev data-match count: 1` line — once at
//! load, again after a sysfs unbind/bind, and after two rmmod/insmod
//! cycles. That proves the kernel, Rust support, module load/unload, sysfs
//! rebinding and PCI all work before any generated driver is involved.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::initramfs::Builder;
use crate::provision::Guest;
use crate::qemu::{Boot, BootResult, Qemu};

/// The sample module, relative to the kernel build tree.
pub const SAMPLE_MODULE: &str = "samples/rust/rust_driver_pci.ko";

/// The line the sample prints on every successful probe.
pub const DATA_MATCH: &str = "pci-testdev data-match count: 1";

/// The test snippet run by `guest/init` after it loaded the sample.
pub const SCRIPT: &str = r#"
drv=/sys/bus/pci/drivers/rust_driver_pci
wait_dmesg "pci-testdev data-match count: 1" 5
expect_dmesg 1 "pci-testdev data-match count: 1"
[ -d "$drv" ] || fail "driver directory $drv missing"
dev=$(ls "$drv" | grep '^0000:' | head -n 1)
[ -n "$dev" ] || fail "pci-testdev not bound to rust_driver_pci"
echo "$dev" > "$drv/unbind" || fail "sysfs unbind of $dev"
echo "$dev" > "$drv/bind" || fail "sysfs bind of $dev"
expect_dmesg 2 "pci-testdev data-match count: 1"
for i in 1 2; do
	rmmod rust_driver_pci || fail "rmmod rust_driver_pci (cycle $i)"
	insmod /lib/modules/rust_driver_pci.ko || fail "insmod rust_driver_pci (cycle $i)"
done
expect_dmesg 4 "pci-testdev data-match count: 1"
rmmod rust_driver_pci || fail "final rmmod rust_driver_pci"
"#;

/// Builds the smoke-test initramfs at `out`.
pub fn initramfs(guest: &Guest, out: &std::path::Path) -> Result<PathBuf> {
    let ko = guest.tree_module(SAMPLE_MODULE)?;
    Builder::new()
        .module(ko)
        .script(SCRIPT)
        .write_to(out)
        .context("building the smoke-test initramfs")?;
    Ok(out.to_owned())
}

/// Boots the smoke test; the result says whether the guest passed.
pub fn run(
    guest: &Guest,
    qemu: &Qemu,
    initrd: &std::path::Path,
    timeout: Duration,
    echo: bool,
) -> Result<BootResult> {
    let mut boot = Boot::new(&guest.kernel_image, initrd).args(["-device", "pci-testdev"]);
    boot.timeout = timeout;
    boot.echo = echo;
    boot.run(qemu)
}
