//! `cargo xtask codegen-bench`: code generation against svd2rust on the same
//! register map, in one run.
//!
//! For each size, the synthetic spec of `pcidevc_dsl::synthetic` (the one
//! the front end's benchmark uses) is written out, compiled with the front
//! end, and its IR written as a CMSIS-SVD file ([`svd_of`]: one peripheral
//! per BAR, every register with its offset, size, access, reset and fields,
//! enumerated values included). Then the release `pcidevc SPEC -o DIR` and
//! the pinned svd2rust (`svd2rust -i FILE.svd --target none`, built into
//! the cache) run alternately, `--runs` times each; the medians of wall
//! time and the peak resident memory (`wait4`'s `ru_maxrss`) are printed
//! with their ratio.
//!
//! What each writes differs: pcidevc writes a device model, a Rust and a C
//! driver, a C header, docs and a summary, formatted (prettyplease);
//! svd2rust one unformatted `lib.rs` of register accessors. The figure is
//! "the whole job of each tool on the same map".
//!
//! `--compile N`: the generated model crate for N registers (against
//! `pcidev-runtime`) and svd2rust's crate for the same map (against
//! `vcell`), each built once to warm its dependencies, then rebuilt after
//! touching its source, alternately: the medians are the crates' own
//! compile time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pcidevc_dsl::ir;

use crate::cache::Cache;
use crate::cargo_install::{Tool, provision};
use crate::ui::{Ui, fmt_duration, fmt_size};
use crate::workspace::{cargo, repo_root, target_dir, tempdir};

/// The svd2rust installed for the comparison.
pub const SVD2RUST: Tool = Tool {
    krate: "svd2rust",
    version: "0.37.1",
    exe: "svd2rust",
    dir: "svd2rust",
    unoptimised: false,
};

/// One process's cost.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub wall: Duration,
    /// Peak resident set, bytes.
    pub peak: u64,
}

/// Runs `cmd` to completion; its wall time and peak memory.
pub fn measured(cmd: &mut Command) -> Result<Cost> {
    let start = Instant::now();
    let child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", crate::exec::display(cmd)))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet waited for (the `Child` handle is
    // dropped without waiting); `status` and `usage` are valid for writes.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if r != pid {
        bail!(
            "waiting for {}: {}",
            crate::exec::display(cmd),
            std::io::Error::last_os_error()
        );
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!(
            "{} failed (wait status {status:#x})",
            crate::exec::display(cmd)
        );
    }
    Ok(Cost {
        wall,
        peak: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
    })
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn svd_access(k: ir::AccessKind) -> (&'static str, Option<&'static str>, Option<&'static str>) {
    use ir::AccessKind::*;
    // (access, modifiedWriteValues, readAction)
    match k {
        Rw => ("read-write", None, None),
        Ro => ("read-only", None, None),
        Wo => ("write-only", None, None),
        W1c => ("read-write", Some("oneToClear"), None),
        W1s => ("read-write", Some("oneToSet"), None),
        Rclr => ("read-only", None, Some("clear")),
    }
}

/// The register map of `d` as a CMSIS-SVD 1.1 document: one peripheral per
/// BAR (`BAR<n>`, base `n << 28`), each BAR register with its fields.
pub fn svd_of(d: &ir::Device) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<device schemaVersion=\"1.1\">\n  <name>{}</name>\n  <version>1.0</version>\n  <description>{}</description>\n  <addressUnitBits>8</addressUnitBits>\n  <width>32</width>\n  <size>32</size>\n  <resetValue>0</resetValue>\n  <resetMask>0xFFFFFFFF</resetMask>\n  <peripherals>",
        d.name.to_uppercase(),
        xml_escape(if d.description.is_empty() {
            &d.name
        } else {
            &d.description
        })
    );
    for bar in &d.bars {
        let _ = writeln!(
            s,
            "    <peripheral>\n      <name>BAR{}</name>\n      <baseAddress>{:#x}</baseAddress>\n      <addressBlock>\n        <offset>0</offset>\n        <size>{:#x}</size>\n        <usage>registers</usage>\n      </addressBlock>\n      <registers>",
            bar.index,
            u64::from(bar.index) << 28,
            bar.size
        );
        for &id in &bar.registers {
            let r = d.register(id);
            let access = r
                .access
                .unwrap_or(if r.fields.iter().all(|f| !f.access.readable()) {
                    ir::AccessKind::Wo
                } else {
                    ir::AccessKind::Rw
                });
            let _ = writeln!(
                s,
                "        <register>\n          <name>{}</name>\n          <addressOffset>{:#x}</addressOffset>\n          <size>{}</size>\n          <access>{}</access>\n          <resetValue>{:#x}</resetValue>",
                r.name,
                r.offset,
                r.bits(),
                svd_access(access).0,
                r.reset
            );
            let fields: Vec<&ir::Field> = r.fields.iter().filter(|f| !f.implicit).collect();
            if !fields.is_empty() {
                s.push_str("          <fields>\n");
                for f in fields {
                    let (acc, modified, read_action) = svd_access(f.access);
                    let _ = writeln!(
                        s,
                        "            <field>\n              <name>{}</name>\n              <bitRange>[{}:{}]</bitRange>\n              <access>{acc}</access>",
                        f.name.to_uppercase(),
                        f.hi,
                        f.lo
                    );
                    if let Some(m) = modified {
                        let _ = writeln!(
                            s,
                            "              <modifiedWriteValues>{m}</modifiedWriteValues>"
                        );
                    }
                    if let Some(a) = read_action {
                        let _ = writeln!(s, "              <readAction>{a}</readAction>");
                    }
                    if !f.variants.is_empty() {
                        s.push_str("              <enumeratedValues>\n");
                        for (name, v) in &f.variants {
                            let _ = writeln!(
                                s,
                                "                <enumeratedValue>\n                  <name>{}</name>\n                  <value>{v}</value>\n                </enumeratedValue>",
                                name.to_uppercase()
                            );
                        }
                        s.push_str("              </enumeratedValues>\n");
                    }
                    s.push_str("            </field>\n");
                }
                s.push_str("          </fields>\n");
            }
            s.push_str("        </register>\n");
        }
        s.push_str("      </registers>\n    </peripheral>\n");
    }
    s.push_str("  </peripherals>\n</device>\n");
    s
}

/// The median wall time and the median peak of `v` (each on its own).
fn median(v: Vec<Cost>) -> Cost {
    let walls: Vec<Duration> = v.iter().map(|c| c.wall).collect();
    let mut peaks: Vec<u64> = v.iter().map(|c| c.peak).collect();
    peaks.sort_unstable();
    Cost {
        wall: crate::bench::median(&walls),
        peak: peaks[peaks.len() / 2],
    }
}

/// Runs `a` and `b` alternately `runs` times; their medians.
fn alternate(
    runs: usize,
    mut a: impl FnMut() -> Result<Cost>,
    mut b: impl FnMut() -> Result<Cost>,
) -> Result<(Cost, Cost)> {
    let (mut ca, mut cb) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        ca.push(a()?);
        cb.push(b()?);
    }
    Ok((median(ca), median(cb)))
}

/// The spec and SVD of the synthetic map of `n` registers, written into
/// `dir` by a child process (`xtask codegen-bench-inputs`).
///
/// Not in this process: compiling a 100k-register spec and writing its SVD
/// takes hundreds of MiB, and Linux records a process's high-water RSS in
/// the `ru_maxrss` of every child it spawns afterwards (exec keeps the
/// larger of the old image's and the new one's), so every later figure
/// would show this process's peak instead of the tool's.
fn inputs(dir: &Path, n: usize) -> Result<(PathBuf, PathBuf)> {
    let exe = std::env::current_exe().context("finding the xtask executable")?;
    crate::exec::capture(
        Command::new(exe)
            .arg("codegen-bench-inputs")
            .arg(dir)
            .arg(n.to_string()),
    )?;
    Ok(input_paths(dir, n))
}

fn input_paths(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("synthetic_{n}.pcidev")),
        dir.join(format!("synthetic_{n}.svd")),
    )
}

/// Writes the spec and SVD of the synthetic map of `n` registers into
/// `dir` (run by [`inputs`] in a process of its own).
pub fn write_inputs(dir: &Path, n: usize) -> Result<(PathBuf, PathBuf)> {
    let text = pcidevc_dsl::synthetic::spec(n);
    let compiled = pcidevc_dsl::compile_str("synthetic.pcidev", &text);
    let Some(device) = compiled
        .device
        .filter(|_| !compiled.diagnostics.iter().any(|d| d.is_error()))
    else {
        bail!("the synthetic spec of {n} registers does not compile");
    };
    let (spec, svd) = input_paths(dir, n);
    std::fs::write(&spec, text)?;
    std::fs::write(&svd, svd_of(&device))?;
    Ok((spec, svd))
}

/// `cargo xtask codegen-bench`.
pub fn run(ui: &Ui, sizes: &[usize], runs: usize, compile: Option<usize>) -> Result<()> {
    let svd2rust = provision(ui, &Cache::from_env()?, &SVD2RUST)?;
    cargo(&["build", "--release", "-q", "-p", "pcidevc"])?;
    let pcidevc = target_dir().join("release").join("pcidevc");
    let tmp = tempdir("codegen-bench")?;
    let mut lines = vec![format!(
        "{:>9}  {:>10} {:>9}  {:>10} {:>9}  {:>12}",
        "registers", "pcidevc", "peak", "svd2rust", "peak", "time ratio"
    )];
    for &n in sizes {
        let (spec, svd) = inputs(tmp.path(), n)?;
        let out_p = tmp.path().join(format!("pcidevc_{n}"));
        let out_s = tmp.path().join(format!("svd2rust_{n}"));
        std::fs::create_dir_all(&out_s)?;
        let (p, s) = ui.step(&format!("{n} registers, {runs} runs each"), |_| {
            alternate(
                runs,
                || measured(Command::new(&pcidevc).arg(&spec).arg("-o").arg(&out_p)),
                || {
                    measured(
                        Command::new(&svd2rust)
                            // Not one "missing description" warning per register.
                            .env("RUST_LOG", "error")
                            .arg("-i")
                            .arg(&svd)
                            .args(["--target", "none", "-o"])
                            .arg(&out_s),
                    )
                },
            )
        })?;
        lines.push(format!(
            "{n:>9}  {:>10} {:>9}  {:>10} {:>9}  {:>11.2}x",
            fmt_duration(p.wall),
            fmt_size(p.peak),
            fmt_duration(s.wall),
            fmt_size(s.peak),
            p.wall.as_secs_f64() / s.wall.as_secs_f64()
        ));
    }
    println!(
        "pcidevc SPEC -o DIR against svd2rust -i SVD --target none (medians; ratio = pcidevc / svd2rust):"
    );
    for l in &lines {
        println!("{l}");
    }
    if let Some(n) = compile {
        compile_times(ui, tmp.path(), &pcidevc, &svd2rust, n, runs)?;
    }
    Ok(())
}

/// The crates' own compile time (dependencies warm), alternately.
fn compile_times(
    ui: &Ui,
    dir: &Path,
    pcidevc: &Path,
    svd2rust: &Path,
    n: usize,
    runs: usize,
) -> Result<()> {
    let (spec, svd) = inputs(dir, n)?;
    let model_crate = dir.join(format!("model_crate_{n}"));
    let svd_crate = dir.join(format!("svd_crate_{n}"));
    for c in [&model_crate, &svd_crate] {
        std::fs::create_dir_all(c.join("src"))?;
    }
    let gen_dir = dir.join(format!("compile_pcidevc_{n}"));
    measured(Command::new(pcidevc).arg(&spec).arg("-o").arg(&gen_dir))?;
    std::fs::copy(
        gen_dir.join(format!("synthetic_{n}")).join("model.rs"),
        model_crate.join("src/lib.rs"),
    )
    .context("copying the generated model")?;
    std::fs::write(
        model_crate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"model-{n}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\npcidev-runtime = {{ path = {:?} }}\n\n[workspace]\n",
            repo_root().join("runtime")
        ),
    )?;
    measured(
        Command::new(svd2rust)
            .env("RUST_LOG", "error")
            .arg("-i")
            .arg(&svd)
            .args(["--target", "none", "-o"])
            .arg(svd_crate.join("src")),
    )?;
    std::fs::write(
        svd_crate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"svd-{n}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nvcell = \"0.1.3\"\ncritical-section = {{ version = \"1.0\", optional = true }}\n\n[workspace]\n"
        ),
    )?;
    let target = dir.join("compile-target");
    let build = |krate: &Path| -> Result<Cost> {
        // Touch the source: only the crate itself is rebuilt.
        let lib = krate.join("src/lib.rs");
        let text = std::fs::read(&lib)?;
        std::fs::write(&lib, text)?;
        measured(
            Command::new("cargo")
                .current_dir(krate)
                .env("CARGO_TARGET_DIR", &target)
                .args(["build", "-q"]),
        )
    };
    ui.step("warming both crates' dependencies", |_| {
        build(&model_crate)?;
        build(&svd_crate)
    })?;
    let (m, s) = ui.step(&format!("compiling both crates, {runs} runs each"), |_| {
        alternate(runs, || build(&model_crate), || build(&svd_crate))
    })?;
    let lines_of = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    println!(
        "compile time at {n} registers (cargo build, debug, dependencies warm; medians): generated model {} ({} lines, peak {}), svd2rust's crate {} ({} lines, peak {}): {:.2}x",
        fmt_duration(m.wall),
        lines_of(&model_crate.join("src/lib.rs")),
        fmt_size(m.peak),
        fmt_duration(s.wall),
        lines_of(&svd_crate.join("src/lib.rs")),
        fmt_size(s.peak),
        m.wall.as_secs_f64() / s.wall.as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svd_lists_every_bar_register_with_its_fields() {
        let compiled = pcidevc_dsl::compile_str("s.pcidev", &pcidevc_dsl::synthetic::spec(12));
        let device = compiled.device.expect("the synthetic spec compiles");
        let svd = svd_of(&device);
        assert_eq!(svd.matches("<register>").count(), 12);
        assert_eq!(svd.matches("</register>").count(), 12);
        assert_eq!(svd.matches("<peripheral>").count(), device.bars.len());
        // R0: four fields, `mode` with its three named values, `ev` w1c.
        assert!(svd.contains("<name>MODE</name>\n              <bitRange>[3:1]</bitRange>"));
        assert_eq!(svd.matches("<enumeratedValue>").count(), 3 * 3);
        assert!(svd.contains("<modifiedWriteValues>oneToClear</modifiedWriteValues>"));
        // R1: a u64 with its reset.
        assert!(svd.contains("<name>R1</name>\n          <addressOffset>0x8</addressOffset>\n          <size>64</size>\n          <access>read-write</access>\n          <resetValue>0x1</resetValue>"));
    }
}
