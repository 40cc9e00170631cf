//! The Rust-for-Linux toolchain: rustc with `rust-src`, a pinned
//! `bindgen-cli`, libclang, and the C compiler.
//!
//! The kernel build and every later `make M=dir modules` must see exactly the
//! same tools, so [`Toolchain`] records them and produces the environment
//! (`PATH` with bindgen first, `LIBCLANG_PATH`) every `make` runs with.
//! Tool commands run with the cache root as working directory, where no
//! `rust-toolchain` file can select another toolchain, matching the kernel
//! build tree's `make` invocations.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cache::{Cache, CacheLock};
use crate::exec::{capture, run_logged};
use crate::ui::Ui;

/// The bindgen-cli version installed (0.73.x is what Linux 7.3 was tested
/// with here).
pub const BINDGEN_VERSION: &str = "0.73.2";

/// Where Debian's libclang-19-dev puts libclang.
pub const LIBCLANG_DIR: &str = "/usr/lib/llvm-19/lib";

/// The tools the guest kernel is built with.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// `rustc -vV` output (first line is `rustc X.Y.Z (...)`).
    pub rustc_version: String,
    /// Directory holding the `bindgen` executable.
    pub bindgen_dir: PathBuf,
    /// `bindgen --version` output.
    pub bindgen_version: String,
    /// Directory holding libclang.
    pub libclang_dir: PathBuf,
    /// First line of `gcc --version`.
    pub cc_version: String,
    /// Working directory the tools are queried from.
    pub workdir: PathBuf,
}

impl Toolchain {
    /// Environment for `make` in the kernel tree: `PATH` with bindgen first,
    /// and `LIBCLANG_PATH`.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let mut path = OsString::from(self.bindgen_dir.as_os_str());
        if let Some(old) = std::env::var_os("PATH") {
            path.push(":");
            path.push(old);
        }
        vec![
            ("PATH".into(), path),
            ("LIBCLANG_PATH".into(), self.libclang_dir.clone().into()),
        ]
    }

    /// The `rustc X.Y.Z (hash date)` line.
    pub fn rustc_short(&self) -> &str {
        self.rustc_version.lines().next().unwrap_or("")
    }
}

/// A command for a tool run from the cache root, without cargo's per-build
/// variables that would redirect nested cargo invocations.
fn tool(program: &str, workdir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(workdir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

/// Ensures rust-src and the pinned bindgen are present; returns the
/// toolchain description. Steps are reported through `ui`.
pub fn ensure(ui: &Ui, cache: &Cache, _lock: &CacheLock) -> Result<Toolchain> {
    let workdir = cache.root().to_owned();

    let rustc_version = capture(tool("rustc", &workdir).arg("-vV"))
        .context("rustc not found: install Rust with rustup")?;

    ui.step("rust-src component", |step| {
        let sysroot = capture(tool("rustc", &workdir).args(["--print", "sysroot"]))?;
        let lib = Path::new(sysroot.trim()).join("lib/rustlib/src/rust/library/core");
        if lib.is_dir() {
            step.cached("rust-src present");
            return Ok(());
        }
        let log = cache.fresh_log("rust-src")?;
        run_logged(
            step,
            tool("rustup", &workdir).args(["component", "add", "rust-src"]),
            &log,
        )
        .context("adding the rust-src component (the kernel builds `core` from it)")?;
        if !lib.is_dir() {
            bail!("rustup added rust-src but {} is missing", lib.display());
        }
        Ok(())
    })?;

    let root = cache.path(format!("tools/bindgen-{BINDGEN_VERSION}"));
    let bindgen_dir = root.join("bin");
    let bindgen_version = ui.step(&format!("bindgen-cli {BINDGEN_VERSION}"), |step| {
        let exe = bindgen_dir.join("bindgen");
        if let Ok(v) = capture(Command::new(&exe).arg("--version"))
            && v.contains(BINDGEN_VERSION)
        {
            step.cached(v.trim());
            return Ok(v.trim().to_owned());
        }
        // Install into a temporary root, then move it in place, so a partial
        // install is never picked up.
        let tmp = crate::cache::tmp_sibling(&root);
        crate::cache::remove_tree(&tmp)?;
        let log = cache.fresh_log("bindgen")?;
        run_logged(
            step,
            tool("cargo", &workdir)
                .args(["install", "--locked", "--root"])
                .arg(&tmp)
                .args(["bindgen-cli", "--version", BINDGEN_VERSION]),
            &log,
        )
        .context("building bindgen-cli")?;
        crate::cache::remove_tree(&root)?;
        std::fs::rename(&tmp, &root)
            .with_context(|| format!("moving {} to {}", tmp.display(), root.display()))?;
        let v = capture(Command::new(&exe).arg("--version"))?;
        Ok(v.trim().to_owned())
    })?;

    let libclang_dir = PathBuf::from(LIBCLANG_DIR);
    let has_libclang = std::fs::read_dir(&libclang_dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("libclang"));
    if !has_libclang {
        bail!("libclang not found in {LIBCLANG_DIR}: install libclang-19-dev (bindgen needs it)");
    }
    let cc_version = capture(tool("gcc", &workdir).arg("--version"))
        .context("gcc not found: install build-essential")?
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();

    Ok(Toolchain {
        rustc_version,
        bindgen_dir,
        bindgen_version,
        libclang_dir,
        cc_version,
        workdir,
    })
}
