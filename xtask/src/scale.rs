//! Scale: the generated model of a 10,000-register spec compiles with stock
//! rustc and its default stack.
//!
//! [`model_compiles`] writes the synthetic spec of [`pcidevc_dsl::synthetic::spec`]
//! (three BARs, register kinds mixed like real specs), compiles it with the
//! debug `pcidevc`, and runs `cargo check` on a scratch crate holding the
//! model with `pcidev-runtime` as a path dependency (sharing the
//! workspace's target directory, so only the model itself is checked;
//! without incremental compilation, which a one-off check of a fresh crate
//! does not use and whose cost grows faster than the model). A
//! derive that nests once per field (`PartialEq` on the 10,000-field
//! `Storage` did) overflows rustc's stack and fails this check.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::ui::Ui;
use crate::workspace::{repo_root, target_dir, tempdir};

/// Registers of the synthetic spec `cargo xtask ci` compiles.
pub const REGISTERS: usize = 10_000;

/// Generate the model of a synthetic spec of `registers` registers and
/// `cargo check` it; reports the generated size and the check's time.
pub fn model_compiles(ui: &Ui, registers: usize) -> Result<()> {
    let (pcidevc, _) = crate::e2e::build_tools()?;
    let work = tempdir("pcidevc-scale")?;
    let spec = work.path().join(format!("syn{registers}.pcidev"));
    std::fs::write(&spec, pcidevc_dsl::synthetic::spec(registers))?;
    let out = work.path().join("out");
    std::fs::create_dir_all(&out)?;
    let dir = crate::e2e::compile(&pcidevc, &spec, &out)?;
    let model = std::fs::read_to_string(dir.join("model.rs"))
        .with_context(|| format!("reading {}", dir.join("model.rs").display()))?;
    let krate = work.path().join("krate");
    write_crate(&krate, &model)?;
    let started = Instant::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The workspace's lock file pins the versions the workspace builds
    // with; `--offline` keeps the check from resolving anything anew.
    std::fs::copy(repo_root().join("Cargo.lock"), krate.join("Cargo.lock"))?;
    let status = Command::new(cargo)
        .args(["check", "--quiet", "--offline", "--lib"])
        .env("CARGO_TARGET_DIR", target_dir())
        // A one-off check of a fresh crate gains nothing from incremental
        // compilation, whose bookkeeping grows faster than the crate: at
        // 10,000 registers 159 s / 2.4 GB with it, 28 s / 1.8 GB without.
        .env("CARGO_INCREMENTAL", "0")
        .current_dir(&krate)
        .status()
        .context("running cargo check on the scale crate")?;
    if !status.success() {
        bail!("the generated model of a {registers}-register spec does not compile ({status})");
    }
    ui.info(format!(
        "{registers}-register model: {} lines, {:.1} MB, `cargo check` {:.1} s",
        model.lines().count(),
        model.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// A library crate `pcidev-scale` whose root is `model` (outside the
/// workspace: its own `[workspace]`).
fn write_crate(dir: &Path, model: &str) -> Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    let runtime = repo_root().join("runtime");
    let manifest = format!(
        "[package]\nname = \"pcidev-scale\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\npcidev-runtime = {{ path = {:?} }}\n\n[workspace]\n",
        runtime.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::write(dir.join("src/lib.rs"), model)?;
    Ok(())
}
