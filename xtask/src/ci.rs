//! `cargo xtask ci`: the project's one test command (what `.ci/run` calls).
//!
//! It provisions what is missing (Debian packages, rust-src, bindgen, the
//! guest kernel, QEMU with vfio-user) into the cache, then runs every test:
//! formatting, clippy, the workspace's tests, generated-code drift, the
//! guest smoke test, the generated drivers' kernel builds and the end-to-end
//! boots. Steps run in order and the first failure stops the run; the
//! summary lists each step's time.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::ui::Ui;

/// The repository root (xtask lives in `<root>/xtask`).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The specs the project checks, sorted.
pub fn specs() -> Result<Vec<PathBuf>> {
    let dir = repo_root().join("specs");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcidev"))
        .collect();
    specs.sort();
    Ok(specs)
}

/// `cargo ARGS` in the repository root with inherited output; fails with
/// the command line when it fails.
pub fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(args).current_dir(repo_root());
    let status = cmd
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The host-side checks: no VM involved.
pub fn host_checks(ui: &Ui) -> Result<()> {
    ui.plain_step("cargo fmt --check", |_| cargo(&["fmt", "--all", "--check"]))?;
    ui.plain_step("clippy -D warnings", |_| {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    ui.plain_step("cargo test --workspace", |_| {
        cargo(&["test", "--workspace", "--locked"])
    })?;
    ui.plain_step("generated/ is fresh (pcidevc --check)", |_| {
        let specs = specs()?;
        let mut args = vec![
            "run", "--quiet", "--locked", "-p", "pcidevc", "--", "--check", "--quiet",
        ];
        let spec_args: Vec<String> = specs.iter().map(|s| s.display().to_string()).collect();
        args.extend(spec_args.iter().map(String::as_str));
        cargo(&args)
            .context("generated/ is stale: run `cargo run -p pcidevc -- specs/*.pcidev` and commit")
    })?;
    Ok(())
}
