//! End-to-end checks of the provisioning library against the real cache.
//! They provision (or reuse) the guest kernel and boot QEMU, so they are
//! ignored by default: `cargo test -p xtask -- --ignored`.

use std::time::Duration;

use xtask::initramfs::Builder;
use xtask::provision::{self, GuestOptions};
use xtask::qemu::{self, Boot};
use xtask::ui::{Mode, Ui};

const MODULE: &str = r#"// SPDX-License-Identifier: GPL-2.0
//! Out-of-tree module used by xtask's tests.

use kernel::prelude::*;

module! {
    type: Hello,
    name: "pcidevc_hello",
    authors: ["pcidevc"],
    description: "xtask out-of-tree module test",
    license: "GPL v2",
}

struct Hello;

impl kernel::Module for Hello {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("pcidevc_hello loaded\n");
        Ok(Hello)
    }
}

impl Drop for Hello {
    fn drop(&mut self) {
        pr_info!("pcidevc_hello unloaded\n");
    }
}
"#;

#[test]
#[ignore = "provisions the guest kernel and boots QEMU"]
fn out_of_tree_rust_module_builds_loads_and_unloads() {
    let ui = Ui::with_mode(Mode::Plain);
    let guest = provision::guest(&ui, &GuestOptions::from_env().unwrap()).unwrap();

    let dir = std::env::temp_dir().join(format!("xtask-oot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pcidevc_hello.rs"), MODULE).unwrap();
    std::fs::write(dir.join("Kbuild"), "obj-m += pcidevc_hello.o\n").unwrap();
    let build = guest.build_module(&dir).unwrap();
    assert_eq!(build.modules.len(), 1, "{:?}", build.modules);
    assert!(build.warnings().is_empty(), "warnings:\n{}", build.output);

    let initrd = dir.join("initramfs.cpio.gz");
    Builder::new()
        .module(&build.modules[0])
        .script(
            "expect_dmesg 1 'pcidevc_hello loaded'\n\
             rmmod pcidevc_hello\n\
             expect_dmesg 1 'pcidevc_hello unloaded'\n",
        )
        .write_to(&initrd)
        .unwrap();
    let q = match qemu::system().unwrap() {
        Some(q) => q,
        None => qemu::provision(&ui, &qemu::QemuOptions::from_env().unwrap()).unwrap(),
    };
    let mut boot = Boot::new(&guest.kernel_image, &initrd);
    boot.timeout = Duration::from_secs(120);
    let r = boot.run(&q).unwrap();
    r.ensure_passed().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
#[ignore = "provisions the vfio-user QEMU and boots it"]
fn vfio_user_qemu_boots_the_guest_with_shared_memory() {
    let ui = Ui::with_mode(Mode::Plain);
    let guest = provision::guest(&ui, &GuestOptions::from_env().unwrap()).unwrap();
    let q = qemu::provision(&ui, &qemu::QemuOptions::from_env().unwrap()).unwrap();
    assert!(q.has_vfio_user);
    let dir = std::env::temp_dir().join(format!("xtask-vfio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let initrd = dir.join("initramfs.cpio.gz");
    xtask::smoke::initramfs(&guest, &initrd).unwrap();
    let mut boot = Boot::new(&guest.kernel_image, &initrd).args(["-device", "pci-testdev"]);
    boot.shared_memory = true;
    boot.echo = false;
    let r = boot.run(&q).unwrap();
    r.ensure_passed().unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
