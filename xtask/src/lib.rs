//! pcidevc project automation, as a library the CLI (`cargo xtask`), the
//! end-to-end harness and tests share.
//!
//! - [`provision::guest`]: Debian build packages, rust-src, pinned bindgen,
//!   Debian's `linux-source-7.3`, and a Rust-enabled guest kernel built from
//!   `tinyconfig` + `guest/kernel.config`, all cached under
//!   `~/.cache/pcidevc` ([`cache`]). The returned [`provision::Guest`]
//!   builds out-of-tree modules against the cached tree
//!   ([`provision::Guest::build_module`]).
//! - [`qemu::provision`]: a QEMU with the `vfio-user-pci` client (the
//!   machine's, or trixie-backports' in a cached chroot); [`qemu::system`]:
//!   the machine's QEMU; [`qemu::Boot`]: one TCG boot with a timeout,
//!   console capture and result parsing.
//! - [`initramfs::Builder`]: busybox + `guest/init` + modules + a test
//!   snippet, as a gzip'd cpio written from Rust.
//! - [`smoke`]: the `guest-test` check (upstream `rust_driver_pci` sample
//!   against QEMU's `pci-testdev`).
//!
//! - [`browser`]: the generated documentation pages in headless Chromium
//!   over the DevTools protocol.
//! - [`tree_sitter`]: the editor grammar checked with the tree-sitter CLI.
//! - [`ci`]: `cargo xtask ci`, the one test command.
//!
//! Progress is shown through [`ui::Ui`]; pass `Ui::with_mode(Mode::Quiet)`
//! from tests.

pub mod apt;
pub mod array_scale;
pub mod bench;
pub mod browser;
pub mod cache;
pub mod cargo_install;
pub mod ci;
pub mod codegen_bench;
pub mod confspace;
pub mod e2e;
pub mod exec;
pub mod floor;
pub mod initramfs;
pub mod provision;
pub mod qemu;
pub mod qmp;
pub mod scale;
pub mod smoke;
pub mod stock;
pub mod toolchain;
pub mod tree_sitter;
pub mod ui;
pub mod workspace;
