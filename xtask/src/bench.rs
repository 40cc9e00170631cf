//! End-to-end benchmarks (`cargo xtask bench`): boot-to-self-test time of
//! hello_tic, and the round trip of one guest MMIO read to a vfio-user
//! served model against QEMU's built-in pci-testdev in the same boot.
//! The same read's floor, a bare request/response of the same sizes over
//! a Unix socket to a forked responder ([`crate::floor`]), is measured on
//! the host in the same run; the model/built-in and model/floor ratios are
//! printed.
//! A third part compares guest reads of ivshmem_plain's shared-memory window
//! offered mmap-able with the same reads served over the socket.
//! Figures are medians; no test asserts absolute times.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::e2e::{E2eOptions, build_tools, serve};
use crate::initramfs::Builder;
use crate::provision::Guest;
use crate::qemu::{Boot, Qemu};
use crate::ui::{Ui, fmt_duration};
use crate::workspace::repo_root;
use crate::workspace::{target_dir, tempdir};

/// Medians of `runs` end-to-end hello_tic boots (no reloads).
#[derive(Debug)]
pub struct BootTimes {
    /// Wall time from QEMU start to its exit (the guest powers off right
    /// after the verdict), per run.
    pub wall: Vec<Duration>,
    /// Guest time (kernel clock) of the verdict line, per run.
    pub guest: Vec<Duration>,
}

pub fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

pub fn boot_times(ui: &Ui, guest: &Guest, qemu: &Qemu, runs: usize) -> Result<BootTimes> {
    let opts = E2eOptions {
        spec: repo_root().join("specs/hello_tic.pcidev"),
        driver: crate::e2e::DriverKind::Rust,
        module: None,
        model: crate::e2e::ModelKind::Generated,
        reloads: 0,
        timeout: Duration::from_secs(240),
        echo: false,
        kill_host_after: None,
        artifacts: None,
    };
    let mut t = BootTimes {
        wall: Vec::new(),
        guest: Vec::new(),
    };
    for i in 0..runs {
        let run = ui.step(&format!("hello_tic boot {}/{runs}", i + 1), |_| {
            crate::e2e::boot(guest, qemu, &opts)
        })?;
        run.ensure_passed(1)?;
        t.wall.push(run.boot.elapsed);
        t.guest
            .push(run.boot_to_selftest.context("no verdict time")?);
    }
    Ok(t)
}

/// One `MMIO-BENCH` line of the guest tool.
#[derive(Debug, Clone, PartialEq)]
pub struct MmioFigure {
    pub what: String,
    pub median_ns: u64,
    pub min_ns: u64,
    pub value: String,
}

pub fn parse_mmio(console: &str) -> Vec<MmioFigure> {
    console
        .lines()
        .filter_map(|l| {
            let rest = l.split("MMIO-BENCH ").nth(1)?;
            let mut it = rest.split_whitespace();
            let id = it.next()?;
            let loc = it.next()?;
            let field = |k: &str| {
                rest.split_whitespace()
                    .find_map(|w| w.strip_prefix(k))
                    .map(str::to_owned)
            };
            Some(MmioFigure {
                what: format!("{id} {loc}"),
                median_ns: field("median_ns=")?.parse().ok()?,
                min_ns: field("min_ns=")?.parse().ok()?,
                value: field("value=")?,
            })
        })
        .collect()
}

/// Build the guest tool as a static binary (the initramfs has no libc).
fn build_mmio_bench() -> Result<PathBuf> {
    let dir = target_dir().join("guest-static");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "--locked",
            "-p",
            "mmio-bench",
        ])
        .env("CARGO_TARGET_DIR", &dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .current_dir(repo_root())
        .status()
        .context("building mmio-bench")?;
    if !status.success() {
        bail!("building mmio-bench failed ({status})");
    }
    Ok(dir.join("release/mmio-bench"))
}

/// hello_tic (vfio-user) and pci-testdev (QEMU built-in) in one boot; the
/// guest times reads of hello_tic's ID (BAR1+4) and pci-testdev's BAR0+0.
pub fn mmio(ui: &Ui, guest: &Guest, qemu: &Qemu, reads: u32) -> Result<(MmioFigure, MmioFigure)> {
    let tool = ui.step("mmio-bench (static)", |_| build_mmio_bench())?;
    let (_, host_bin) = build_tools()?;
    let work = tempdir("pcidevc-bench")?;
    let script = format!(
        "/bin/mmio-bench 1337:0001 1 0x4 {reads} || fail 'mmio-bench on hello_tic'\n\
         /bin/mmio-bench 1b36:0005 0 0x0 {reads} || fail 'mmio-bench on pci-testdev'\n"
    );
    let initrd = work.path().join("bench.cpio.gz");
    let bin = std::fs::read(&tool).with_context(|| format!("reading {}", tool.display()))?;
    Builder::new()
        .file("bin/mmio-bench", bin, 0o755)
        .script(script)
        .write_to(&initrd)?;
    let served = serve(
        qemu,
        &host_bin,
        crate::e2e::HostModel::Registered("hello_tic"),
        work.path(),
        false,
    )?;
    let mut b = Boot::new(&guest.kernel_image, &initrd).args(
        served
            .qemu_args
            .iter()
            .map(String::as_str)
            .chain(["-device", "pci-testdev"]),
    );
    b.shared_memory = true;
    b.timeout = Duration::from_secs(600);
    b.echo = false;
    let result = ui.step("boot: MMIO reads, vfio-user vs built-in", |_| b.run(qemu))?;
    drop(served);
    result.ensure_passed()?;
    let figures = parse_mmio(&result.console);
    let [model, testdev] = figures.as_slice() else {
        bail!(
            "expected two MMIO-BENCH lines, got {figures:?}\n{}",
            result.console
        );
    };
    if model.value != "0x1337" {
        bail!(
            "hello_tic's ID read {} through vfio-user, expected 0x1337",
            model.value
        );
    }
    Ok((model.clone(), testdev.clone()))
}

/// Guest reads through ivshmem_plain's shared-memory window (BAR 2) when
/// `pcidev-host` offers it mmap-able and when it serves it over the socket
/// (`--no-window-mmap`), and of a BAR 0 register (always over the socket):
/// one boot each. Returns (window mapped, window over the socket, register).
pub fn window(
    ui: &Ui,
    guest: &Guest,
    qemu: &Qemu,
    reads: u32,
) -> Result<(MmioFigure, MmioFigure, MmioFigure)> {
    let tool = ui.step("mmio-bench (static)", |_| build_mmio_bench())?;
    let (_, host_bin) = build_tools()?;
    let bin = std::fs::read(&tool).with_context(|| format!("reading {}", tool.display()))?;
    let mut figures = Vec::new();
    for mapped in [true, false] {
        let work = tempdir("pcidevc-bench-window")?;
        // The window first: the guest writes nothing, so it reads zeros.
        let script = format!(
            "/bin/mmio-bench 1af4:1110 2 0x0 {reads} || fail 'mmio-bench on the window'\n\
             /bin/mmio-bench 1af4:1110 0 0x8 {reads} || fail 'mmio-bench on IVPOSITION'\n"
        );
        let initrd = work.path().join("bench.cpio.gz");
        Builder::new()
            .file("bin/mmio-bench", bin.clone(), 0o755)
            .script(script)
            .write_to(&initrd)?;
        let opts = crate::e2e::ServeOptions {
            addr: None,
            host_args: if mapped {
                Vec::new()
            } else {
                vec!["--no-window-mmap".into()]
            },
        };
        let served = crate::e2e::serve_with(
            qemu,
            &host_bin,
            crate::e2e::HostModel::Registered("ivshmem_plain"),
            work.path(),
            false,
            &opts,
        )?;
        let mut b = Boot::new(&guest.kernel_image, &initrd)
            .args(served.qemu_args.iter().map(String::as_str));
        b.shared_memory = true;
        b.timeout = Duration::from_secs(600);
        b.echo = false;
        let what = if mapped {
            "mmap-able"
        } else {
            "over the socket"
        };
        let result = ui.step(&format!("boot: ivshmem_plain window {what}"), |_| {
            b.run(qemu)
        })?;
        drop(served);
        result.ensure_passed()?;
        let lines = parse_mmio(&result.console);
        let [win, reg] = lines.as_slice() else {
            bail!(
                "expected two MMIO-BENCH lines, got {lines:?}\n{}",
                result.console
            );
        };
        if win.value != "0x0" || reg.value != "0x0" {
            bail!(
                "ivshmem_plain read {} (window) and {} (IVPOSITION), expected 0",
                win.value,
                reg.value
            );
        }
        figures.push((win.clone(), reg.clone()));
    }
    let [(mapped, reg), (socket, _)] = figures.as_slice() else {
        bail!("two boots, two figures each");
    };
    Ok((mapped.clone(), socket.clone(), reg.clone()))
}

/// Run the benchmarks and print the figures.
pub fn run(ui: &Ui, guest: &Guest, qemu: &Qemu, runs: usize, reads: u32) -> Result<()> {
    let t = boot_times(ui, guest, qemu, runs)?;
    let (model, testdev) = mmio(ui, guest, qemu, reads)?;
    let floor = ui.step("floor: bare socket round trip", |_| {
        crate::floor::measure(reads)
    })?;
    let (mapped, socket, reg) = window(ui, guest, qemu, reads)?;
    ui.info(format!(
        "\nhello_tic boot to self-test verdict, {runs} runs: median {} wall (QEMU start to exit), {} guest time\n  wall runs: {}",
        fmt_duration(median(&t.wall)),
        fmt_duration(median(&t.guest)),
        t.wall.iter().map(|d| fmt_duration(*d)).collect::<Vec<_>>().join(", "),
    ));
    ui.info(round_trip_report(&model, &testdev, &floor, reads));
    ui.info(format!(
        "one guest read of ivshmem_plain's 1 MiB window (BAR 2 + 0):\n  offered mmap-able    : {} ns\n  served over the socket: {} ns\n  ratio: {:.1}\n  (a BAR 0 register, always over the socket: {} ns)",
        mapped.median_ns,
        socket.median_ns,
        socket.median_ns as f64 / mapped.median_ns.max(1) as f64,
        reg.median_ns
    ));
    Ok(())
}

/// The round-trip lines of `cargo xtask bench`: the guest read through
/// `pcidev-host`, on QEMU's built-in device, and the floor, with the
/// ratios model/built-in and model/floor.
pub fn round_trip_report(
    model: &MmioFigure,
    testdev: &MmioFigure,
    floor: &crate::floor::Floor,
    reads: u32,
) -> String {
    let ratio = |a: u64, b: u64| a as f64 / b.max(1) as f64;
    format!(
        "one guest MMIO read (median of 10 batches of {reads}; min in brackets):\n  \
         vfio-user model  {}: {} ns ({})\n  \
         built-in device  {}: {} ns ({})\n  \
         floor (host: {}-byte request, {}-byte reply over a Unix socket to a forked responder): {} ns ({})\n  \
         ratios: model/built-in {:.1}, model/floor {:.1}",
        model.what,
        model.median_ns,
        model.min_ns,
        testdev.what,
        testdev.median_ns,
        testdev.min_ns,
        crate::floor::REQUEST,
        crate::floor::REPLY,
        floor.median_ns,
        floor.min_ns,
        ratio(model.median_ns, testdev.median_ns),
        ratio(model.median_ns, floor.median_ns),
    )
}

/// Lines of generated model and driver for every spec and for a synthetic
/// spec of `n` registers.
pub fn lines_of_code(n: usize) -> Result<Vec<(String, usize, usize, usize)>> {
    let (pcidevc, _) = build_tools()?;
    let work = tempdir("pcidevc-loc")?;
    let synthetic = work.path().join(format!("synthetic_{n}.pcidev"));
    std::fs::write(&synthetic, pcidevc_dsl::synthetic::spec(n))?;
    let mut specs = crate::workspace::specs()?;
    specs.push(synthetic);
    let mut out = Vec::new();
    for spec in specs {
        let dir = crate::e2e::compile(&pcidevc, &spec, work.path())?;
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let lines = |p: PathBuf| {
            std::fs::read_to_string(&p)
                .map(|t| t.lines().count())
                .with_context(|| format!("reading {}", p.display()))
        };
        let spec_lines = lines(spec.clone())?;
        out.push((
            name.clone(),
            spec_lines,
            lines(dir.join("model.rs"))?,
            lines(dir.join(format!("driver/{name}.rs")))?,
        ));
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmio_lines_are_parsed() {
        let console = "[ 1.0] x\nMMIO-BENCH 1337:0001 bar1+0x4 reads=100 median_ns=25000 min_ns=24000 value=0x1337\n\
                       MMIO-BENCH 1b36:0005 bar0+0x0 reads=100 median_ns=900 min_ns=850 value=0x0\n";
        let f = parse_mmio(console);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].what, "1337:0001 bar1+0x4");
        assert_eq!((f[0].median_ns, f[0].min_ns), (25000, 24000));
        assert_eq!(f[1].value, "0x0");
        let floor = crate::floor::Floor {
            round_trips: 100,
            median_ns: 5000,
            min_ns: 4000,
        };
        let report = round_trip_report(&f[0], &f[1], &floor, 100);
        assert!(
            report.contains("32-byte request, 36-byte reply"),
            "{report}"
        );
        assert!(
            report.contains("ratios: model/built-in 27.8, model/floor 5.0"),
            "{report}"
        );
        assert_eq!(
            median(&[
                Duration::from_secs(3),
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]),
            Duration::from_secs(2)
        );
    }
}
