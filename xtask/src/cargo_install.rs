//! Command-line tools built from crates.io sources into the cache with
//! `cargo install --locked --root`, pinned to one version and reused while
//! `TOOL --version` names it (tree-sitter-cli for the editor grammar,
//! svd2rust for `cargo xtask codegen-bench`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::cache::Cache;
use crate::exec::{capture, run_logged};
use crate::ui::Ui;

/// A pinned tool: crate `krate` at `version`, whose binary is `exe`,
/// installed under the cache directory `dir`.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub krate: &'static str,
    pub version: &'static str,
    pub exe: &'static str,
    pub dir: &'static str,
    /// Build without optimisation (`opt-level = 0`, no debug info), for a
    /// tool whose runs here take well under a second: tree-sitter-cli
    /// builds in about 70 s so instead of over 7 minutes of a cold CI
    /// run. False for a tool whose speed is measured (svd2rust).
    pub unoptimised: bool,
}

/// Ensures `tool` is in the cache; returns the path of its binary.
pub fn provision(ui: &Ui, cache: &Cache, tool: &Tool) -> Result<PathBuf> {
    let root = cache.path(tool.dir);
    let exe = root.join("bin").join(tool.exe);
    ui.step(&format!("{} {}", tool.krate, tool.version), |step| {
        if let Ok(v) = capture(Command::new(&exe).arg("--version"))
            && v.contains(tool.version)
        {
            step.cached(v.trim());
            return Ok(());
        }
        // A temporary root moved in place: a partial install is never used.
        let _lock = cache.lock(ui)?;
        let tmp = crate::cache::tmp_sibling(&root);
        crate::cache::remove_tree(&tmp)?;
        let log = cache.fresh_log(tool.krate)?;
        let mut cmd = Command::new("cargo");
        cmd.current_dir(cache.path(""))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .args(["install", "--locked", "--root"])
            .arg(&tmp)
            .args([tool.krate, "--version", tool.version]);
        if tool.unoptimised {
            cmd.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
                .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
        }
        run_logged(step, &mut cmd, &log).with_context(|| format!("building {}", tool.krate))?;
        crate::cache::remove_tree(&root)?;
        std::fs::rename(&tmp, &root)
            .with_context(|| format!("moving {} to {}", tmp.display(), root.display()))?;
        Ok(())
    })?;
    Ok(exe)
}
