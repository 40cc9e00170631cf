//! Building what a boot needs: the `pcidevc` and `pcidev-host` binaries
//! ([`build_tools`]), a spec compiled by the real CLI ([`compile`]), a
//! user's own module ([`own_module`]), and the generated drivers checked
//! against the guest tree ([`check_driver`], [`check_c_driver`]: zero
//! warnings, rustfmt, checkpatch).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::DriverKind;
use crate::provision::Guest;
use crate::workspace::{target_dir, tempdir};

/// Build the CLI and the host once (debug profile) and return their paths.
pub fn build_tools() -> Result<(PathBuf, PathBuf)> {
    crate::workspace::cargo(&[
        "build",
        "--quiet",
        "--locked",
        "-p",
        "pcidevc",
        "-p",
        "pcidev-host",
    ])?;
    let dir = target_dir().join("debug");
    Ok((dir.join("pcidevc"), dir.join("pcidev-host")))
}

/// Compile `spec` into `out` with the real CLI; returns the device's output
/// directory (`out/<device>`).
pub fn compile(pcidevc: &Path, spec: &Path, out: &Path) -> Result<PathBuf> {
    let o = Command::new(pcidevc)
        .arg("--quiet")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .output()
        .with_context(|| format!("running {}", pcidevc.display()))?;
    if !o.status.success() {
        bail!(
            "pcidevc failed on {}:\n{}",
            spec.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // One device per spec: the only directory written.
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.pop().context("pcidevc wrote no device directory")
}

/// The PCI vendor and device id `spec` declares (its `id` line).
pub fn spec_id(spec: &Path) -> Result<(u16, u16)> {
    let compiled = pcidevc_dsl::compile_file(spec);
    let dev = compiled
        .device
        .with_context(|| format!("{} does not compile", spec.display()))?;
    Ok((dev.vendor_id, dev.device_id))
}

/// The user's module: a `.ko` as is, or the one module a Kbuild directory
/// builds against the provisioned tree. Returns the `.ko` and the module
/// name as the kernel spells it (`-` becomes `_`).
pub fn own_module(guest: &Guest, path: &Path) -> Result<(PathBuf, String, Vec<String>)> {
    let (ko, warnings) = if path.is_dir() {
        let build = guest
            .build_module_with(path, &[])
            .with_context(|| format!("building {}", path.display()))?;
        let warnings = build.warnings().iter().map(|s| s.to_string()).collect();
        match build.modules.as_slice() {
            [one] => (one.clone(), warnings),
            [] => bail!("{} built no module", path.display()),
            many => bail!(
                "{} built {} modules ({}); pass the one to load as a .ko",
                path.display(),
                many.len(),
                many.iter()
                    .map(|m| m.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    } else if path.extension().is_some_and(|e| e == "ko") {
        (path.to_path_buf(), Vec::new())
    } else {
        bail!(
            "{}: expected a .ko file or a directory with a Kbuild/Makefile",
            path.display()
        );
    };
    let name = ko
        .file_stem()
        .and_then(|s| s.to_str())
        .context("module file name")?
        .replace('-', "_");
    Ok((ko, name, warnings))
}

/// What building one spec's generated driver showed.
#[derive(Debug)]
pub struct DriverBuild {
    pub device: String,
    /// Lines of the crate root (`<device>.rs`, what is specific to the device).
    pub lines: usize,
    /// Lines of every `.rs` file of the driver (crate root and support modules).
    pub total_lines: usize,
    pub build_time: Duration,
    pub clippy_time: Duration,
}

/// Compile `spec`, then build its driver against the guest tree twice
/// (plain and `CLIPPY=1`) with zero warnings, and check it is formatted as
/// the kernel's rustfmt settings say (edition 2021 and the tree's
/// `.rustfmt.toml`; rustfmt follows the crate root's `mod` declarations into
/// the support modules).
pub fn check_driver(guest: &Guest, pcidevc: &Path, spec: &Path) -> Result<DriverBuild> {
    let work = tempdir("pcidevc-driver")?;
    let dev_dir = compile(pcidevc, spec, work.path())?;
    let device = dev_dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("device name")?
        .to_owned();
    let driver = dev_dir.join("driver");
    let source = driver.join(format!("{device}.rs"));
    let count = |path: &Path| -> Result<usize> {
        Ok(std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))?
            .lines()
            .count())
    };
    let lines = count(&source)?;
    let mut total_lines = 0;
    for entry in std::fs::read_dir(&driver)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            total_lines += count(&path)?;
        }
    }
    let mut fmt = Command::new("rustfmt");
    fmt.args(["--edition", "2021", "--check"]);
    let config = guest.source_tree.join(".rustfmt.toml");
    if config.is_file() {
        fmt.arg("--config-path").arg(config);
    }
    let fmt = fmt.arg(&source).output().context("running rustfmt")?;
    if !fmt.status.success() {
        bail!(
            "{device}: the generated driver is not rustfmt-clean:\n{}",
            String::from_utf8_lossy(&fmt.stdout)
        );
    }
    let mut times = Vec::new();
    for vars in [&[][..], &["CLIPPY=1"][..]] {
        let start = Instant::now();
        let build = guest.build_module_with(&driver, vars)?;
        times.push(start.elapsed());
        built_clean(&build, &device, &format!("driver build {}", vars.join(" ")))?;
    }
    Ok(DriverBuild {
        device,
        lines,
        total_lines,
        build_time: times[0],
        clippy_time: times[1],
    })
}

/// Fails unless `build` (`what`, for the message) has no warnings and
/// produced `<device>.ko`.
fn built_clean(build: &crate::provision::ModuleBuild, device: &str, what: &str) -> Result<()> {
    let warnings = build.warnings();
    if !warnings.is_empty() {
        bail!("{device}: {what} has warnings:\n{}", warnings.join("\n"));
    }
    if !build
        .modules
        .iter()
        .any(|m| m.file_stem().is_some_and(|s| s == device))
    {
        bail!("{device}: {device}.ko was not built");
    }
    Ok(())
}

/// What checking one spec's generated C driver showed.
#[derive(Debug)]
pub struct CDriverCheck {
    pub device: String,
    /// Lines of `<device>.c`.
    pub lines: usize,
    pub build_time: Duration,
    /// checkpatch's closing line per file (`total: 0 errors, 0 warnings, 0 checks, ...`).
    pub checkpatch: Vec<String>,
}

/// Compile `spec`, build its C driver against the guest tree with `W=1` and
/// zero warnings, and run the tree's `scripts/checkpatch.pl --no-tree -f
/// --strict` on the driver and the support header: errors and warnings
/// fail; CHECK-level notes are reported in [`CDriverCheck::checkpatch`].
pub fn check_c_driver(guest: &Guest, pcidevc: &Path, spec: &Path) -> Result<CDriverCheck> {
    let work = tempdir("pcidevc-c-driver")?;
    let dev_dir = compile(pcidevc, spec, work.path())?;
    let device = dev_dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("device name")?
        .to_owned();
    let driver = dev_dir.join(DriverKind::C.dir());
    let source = driver.join(format!("{device}.c"));
    let lines = std::fs::read_to_string(&source)
        .with_context(|| format!("reading {}", source.display()))?
        .lines()
        .count();
    let start = Instant::now();
    let build = guest.build_module_with(&driver, DriverKind::C.make_vars())?;
    let build_time = start.elapsed();
    built_clean(&build, &device, "C driver build with W=1")?;
    let checkpatch = guest.source_tree.join("scripts/checkpatch.pl");
    let mut totals = Vec::new();
    for file in [format!("{device}.c"), "pcidevc_selftest.h".to_string()] {
        let out = Command::new("perl")
            .arg(&checkpatch)
            .args(["--no-tree", "-f", "--strict", "--color=never"])
            .arg(&file)
            .current_dir(&driver)
            .output()
            .with_context(|| format!("running {}", checkpatch.display()))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let total = text
            .lines()
            .find(|l| l.starts_with("total:"))
            .map(str::to_owned)
            .with_context(|| format!("checkpatch printed no total for {file}:\n{text}"))?;
        if !total.starts_with("total: 0 errors, 0 warnings") {
            bail!("{device}: checkpatch on {file}:\n{text}");
        }
        totals.push(format!("{file}: {total}"));
    }
    Ok(CDriverCheck {
        device,
        lines,
        build_time,
        checkpatch: totals,
    })
}
