//! `cargo xtask`: project automation CLI (guest kernel and QEMU
//! provisioning, test initramfs, guest boots). The work is done by the
//! `xtask` library; this file only parses arguments and prints results.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use xtask::cache::Cache;
use xtask::initramfs::Builder;
use xtask::provision::{self, GuestOptions};
use xtask::qemu::{self, Boot, Qemu, QemuOptions};
use xtask::smoke;
use xtask::ui::{Mode, Ui, fmt_duration, fmt_size};

#[derive(Parser, Debug)]
#[command(name = "cargo xtask", about = "pcidevc project automation")]
struct Cli {
    /// Plain line output even on a terminal (the default when stderr is not
    /// a terminal or CI is set).
    #[arg(long, global = true)]
    plain: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Provision the guest kernel: packages, rust-src, bindgen,
    /// linux-source-7.3, kernel build tree (cached; idempotent).
    Guest(GuestArgs),
    /// Provision a QEMU with the vfio-user-pci client (cached; idempotent).
    Qemu(InstallArgs),
    /// Boot the guest under QEMU TCG with pci-testdev and check the upstream
    /// rust_driver_pci sample (provisions the guest first).
    GuestTest(GuestTestArgs),
    /// Write a test initramfs (busybox, guest/init, modules, a script).
    Initramfs(InitramfsArgs),
    /// End to end: compile SPEC, build its driver, serve its model over
    /// vfio-user and boot a guest that loads the driver; exits with the
    /// driver's self-test verdict.
    Boot(E2eArgs),
    /// Boot the provisioned kernel with a given initramfs and report the
    /// result (a building block; `boot` is the end-to-end run).
    BootInitrd(BootArgs),
    /// Build an out-of-tree module against the provisioned kernel tree
    /// (`make -C <build tree> M=<dir> modules`).
    BuildModule {
        /// Directory with the module's Kbuild/Makefile and sources.
        dir: PathBuf,
    },
    /// Print the cache location and what is in it.
    Cache,
    /// End-to-end benchmarks: hello_tic boot-to-self-test time, and one
    /// guest MMIO read to the vfio-user model vs QEMU's pci-testdev.
    Bench(BenchArgs),
    /// Code generation against svd2rust on the same register map, in one
    /// run: `pcidevc SPEC -o DIR` and `svd2rust` (built into the cache) on
    /// synthetic maps, wall time and peak memory, with the ratio; `--compile
    /// N` also times compiling both crates at N registers.
    CodegenBench(CodegenBenchArgs),
    /// (Internal to codegen-bench) write the synthetic spec and SVD of N
    /// registers into DIR, in a process of its own.
    #[command(hide = true)]
    CodegenBenchInputs {
        /// Directory to write into.
        dir: std::path::PathBuf,
        /// Registers of the synthetic map.
        registers: usize,
    },
    /// Lines of spec, generated model and driver for every spec and for a
    /// synthetic spec of N registers.
    Loc {
        /// Registers of the synthetic spec.
        #[arg(long, default_value_t = 1000)]
        registers: usize,
    },
    /// Generated size (model, Rust and C drivers) and compile time of a
    /// 64 KiB BAR described by one register array, at each element count:
    /// flat, since arrays stay arrays.
    ArrayScale {
        /// Element counts (powers of two up to 65536).
        #[arg(long, value_delimiter = ',', default_values_t = [1024u64, 16384, 65536])]
        counts: Vec<u64>,
    },
    /// Random valid specs through every backend: `COUNT` specs from
    /// `pcidevc_dsl::synthetic::random::spec(SEED..)`, each one the front end
    /// accepts rendered twice (byte-identical), the Rust drivers
    /// rustfmt-checked, the models in one crate under `cargo clippy -D
    /// warnings` and `cargo test` (scenarios). Runs the ignored test
    /// `codegen/tests/spec_fuzz.rs`; its specs and outputs stay in
    /// `<target>/spec-fuzz/`. About 2 minutes for 200 on two cores, warm.
    SpecFuzz {
        /// First seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Specs to generate.
        #[arg(long, default_value_t = 200)]
        count: u64,
    },
    /// The generated model of a synthetic spec of N registers compiles
    /// (`cargo check`; part of `ci`'s host checks at 10,000).
    Scale {
        /// Registers of the synthetic spec.
        #[arg(long, default_value_t = xtask::scale::REGISTERS)]
        registers: usize,
    },
    /// The generated documentation pages in headless Chromium (installed
    /// with apt-get when missing): no console error, no network request,
    /// one diagram per register, the search filter, a screenshot.
    Browser(BrowserArgs),
    /// The editor grammar (editors/tree-sitter-pcidev): install the pinned
    /// tree-sitter CLI into the cache when missing, generate the parser, run
    /// its tests, and parse every spec and corpus file the compiler parses.
    TreeSitter,
    /// The project's test command: provision what is missing, then run
    /// every test (host checks, guest smoke test, drivers, end to end).
    Ci(CiArgs),
    /// Stock kernel drivers against QEMU's built-in devices and the
    /// generated models at the same slot: each device's test, its driver's
    /// log and attributes, and its configuration space and writable masks
    /// compared (edu, pci_testdev, pci_serial, pvpanic_pci, i6300esb).
    Stock(StockArgs),
}

#[derive(Args, Debug)]
struct StockArgs {
    /// Devices to run (default: all).
    devices: Vec<String>,
    /// Only QEMU's built-in devices (no model side).
    #[arg(long)]
    qemu_only: bool,
    /// Kernel image (default: the provisioned guest kernel, which has the
    /// stock drivers built in).
    #[arg(long)]
    kernel: Option<PathBuf>,
    /// Which QEMU to boot with (the model side needs vfio-user-pci).
    #[arg(long, value_enum, default_value = "vfio-user")]
    qemu: QemuChoice,
    /// Echo the guest console.
    #[arg(long)]
    echo: bool,
    /// Also print each probed configuration space byte by byte.
    #[arg(long)]
    tables: bool,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Boots to time.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// MMIO reads per batch (10 batches).
    #[arg(long, default_value_t = 2000)]
    reads: u32,
}

#[derive(Args, Debug)]
struct CodegenBenchArgs {
    /// Register counts of the synthetic maps (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    sizes: Vec<usize>,
    /// Runs of each tool per size (alternating); medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also compile the generated model crate and svd2rust's crate for this
    /// many registers (dependencies warm) and compare.
    #[arg(long)]
    compile: Option<usize>,
}

#[derive(Args, Debug)]
struct BrowserArgs {
    /// Also synthetic specs of these many registers (comma-separated), to
    /// measure page size and load time.
    #[arg(long, value_delimiter = ',')]
    registers: Vec<usize>,
    /// Where the screenshots go (default: target/doc-screenshots).
    #[arg(long, value_name = "DIR")]
    screenshots: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct CiArgs {
    /// Only the host-side checks (fmt, clippy, tests, drift): no VM.
    #[arg(long, conflicts_with = "vm_only")]
    host_only: bool,
    /// Only what needs a VM (guest smoke test, drivers, end to end).
    #[arg(long)]
    vm_only: bool,
}

#[derive(Args, Debug)]
struct InstallArgs {
    /// Do not apt-get install missing Debian packages; fail instead.
    #[arg(long)]
    no_install: bool,
}

#[derive(Args, Debug)]
struct GuestArgs {
    #[command(flatten)]
    install: InstallArgs,
    /// Parallel make jobs (default: available cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Ask the archive for a newer linux-source-7.3 even if one is cached.
    #[arg(long)]
    refresh_source: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum QemuChoice {
    /// The machine's QEMU if installed, else the provisioned one.
    Auto,
    /// The machine's qemu-system-x86_64.
    System,
    /// A QEMU with vfio-user-pci (provisioned if needed).
    VfioUser,
}

#[derive(Args, Debug)]
struct GuestTestArgs {
    #[command(flatten)]
    guest: GuestArgs,
    /// Which QEMU to boot with.
    #[arg(long, value_enum, default_value = "auto")]
    qemu: QemuChoice,
    /// Kill the guest after this many seconds.
    #[arg(long, default_value_t = 180)]
    timeout: u64,
    /// Do not echo the guest console.
    #[arg(long)]
    quiet_console: bool,
}

#[derive(Args, Debug)]
struct InitramfsArgs {
    /// Output file (gzip'd cpio).
    #[arg(long, short)]
    output: PathBuf,
    /// Module to include and load at boot (repeatable, loaded in order).
    #[arg(long = "module", short)]
    modules: Vec<PathBuf>,
    /// Module to include without loading it (repeatable).
    #[arg(long = "module-file")]
    module_files: Vec<PathBuf>,
    /// Shell snippet run after loading (see guest/init for helpers).
    #[arg(long, short)]
    script: Option<PathBuf>,
    /// busybox binary to use.
    #[arg(long, default_value = xtask::initramfs::DEFAULT_BUSYBOX)]
    busybox: PathBuf,
}

#[derive(Args, Debug)]
struct E2eArgs {
    /// The spec to boot: any spec file (served interpreted by default).
    spec: PathBuf,
    /// Which generated driver to load: `rust` (driver/) or `c` (driver_c/).
    #[arg(long, value_enum, default_value = "rust")]
    driver: DriverChoice,
    /// Load your own driver instead: a `.ko` built for the provisioned
    /// kernel, or a directory with a Kbuild/Makefile (Rust or C) built
    /// against it. Pass: it binds to the device, any `selftest: P/N
    /// passed` line it prints has P = N, it unloads, no oops or warning.
    #[arg(long, value_name = "KO_OR_DIR", conflicts_with = "driver")]
    module: Option<PathBuf>,
    /// Which model serves the device: the spec through the interpreter
    /// (any spec), or the model compiled into pcidev-host (specs/ only).
    #[arg(long, value_enum, default_value = "interpreted")]
    model: ModelChoice,
    /// Unload and reload the driver this many more times in the same boot.
    #[arg(long, default_value_t = 3)]
    reloads: usize,
    /// Kill everything after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Do not echo the guest console.
    #[arg(long)]
    quiet_console: bool,
    /// Keep console.log, host.log and trace.jsonl in this directory.
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// Kill the host this many seconds after QEMU starts (to see how a
    /// crashed device server is reported).
    #[arg(long, value_name = "SECS")]
    kill_host_after: Option<f64>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum ModelChoice {
    /// `pcidev-host --spec SPEC`: the IR interpreter, nothing compiled.
    Interpreted,
    /// `pcidev-host NAME`: the generated model compiled into the host.
    Generated,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum DriverChoice {
    /// The Rust-for-Linux driver (driver/).
    Rust,
    /// The C driver (driver_c/), built with W=1.
    C,
}

impl From<DriverChoice> for xtask::e2e::DriverKind {
    fn from(c: DriverChoice) -> Self {
        match c {
            DriverChoice::Rust => xtask::e2e::DriverKind::Rust,
            DriverChoice::C => xtask::e2e::DriverKind::C,
        }
    }
}

#[derive(Args, Debug)]
struct BootArgs {
    /// Initramfs to boot.
    #[arg(long)]
    initrd: PathBuf,
    /// Kernel image (default: the provisioned guest kernel).
    #[arg(long)]
    kernel: Option<PathBuf>,
    /// Which QEMU to boot with.
    #[arg(long, value_enum, default_value = "auto")]
    qemu: QemuChoice,
    /// Extra kernel command line.
    #[arg(long, default_value = "")]
    append: String,
    /// Back guest RAM with a shared memfd (for vfio-user servers).
    #[arg(long)]
    shared_memory: bool,
    /// Kill the guest after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Extra QEMU arguments (after `--`).
    #[arg(last = true)]
    qemu_args: Vec<OsString>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = if cli.plain {
        Ui::with_mode(Mode::Plain)
    } else {
        Ui::auto()
    };
    match run(&ui, cli.cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(ui: &Ui, cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Guest(args) => {
            let guest = provision::guest(ui, &guest_options(&args)?)?;
            report_guest(ui, &guest);
            Ok(())
        }
        Cmd::Qemu(args) => {
            let q = qemu::provision(ui, &qemu_options(&args)?)?;
            ui.info(format!(
                "\nQEMU: {}\n  command: {}",
                q.version,
                show_prefix(&q)
            ));
            if let Some(root) = &q.root {
                ui.info(format!(
                    "  chroot: {} (share files through ROOT/tmp; see xtask::qemu docs)",
                    root.display()
                ));
            }
            ui.info(format!("\ntimings:\n{}", ui.summary()));
            Ok(())
        }
        Cmd::GuestTest(args) => guest_test(ui, args),
        Cmd::Ci(args) => ci(ui, args),
        Cmd::TreeSitter => xtask::ci::tree_sitter(ui),
        Cmd::Stock(args) => stock(ui, &args),
        Cmd::Browser(args) => {
            let chromium = xtask::browser::provision(ui, &Cache::from_env()?, true)?;
            let shots = args
                .screenshots
                .unwrap_or_else(|| xtask::workspace::target_dir().join("doc-screenshots"));
            xtask::browser::check_all(ui, &chromium, &args.registers, &shots)?;
            ui.info(format!("screenshots in {}", shots.display()));
            Ok(())
        }
        Cmd::Scale { registers } => xtask::scale::model_compiles(ui, registers),
        Cmd::SpecFuzz { seed, count } => spec_fuzz(seed, count),
        Cmd::Loc { registers } => {
            println!(
                "{:<16} {:>8} {:>8} {:>8}",
                "spec", "spec", "model", "driver"
            );
            for (name, spec, model, driver) in xtask::bench::lines_of_code(registers)? {
                println!("{name:<16} {spec:>8} {model:>8} {driver:>8}");
            }
            Ok(())
        }
        Cmd::ArrayScale { counts } => {
            println!(
                "{:>8} {:>5} {:>9} {:>10} {:>7} {:>10} {:>7} {:>10} {:>7} {:>9}",
                "elements",
                "bytes",
                "pcidevc",
                "model B",
                "lines",
                "driver B",
                "lines",
                "C B",
                "lines",
                "check"
            );
            for f in xtask::array_scale::run(&counts)? {
                println!(
                    "{:>8} {:>5} {:>8.2}s {:>10} {:>7} {:>10} {:>7} {:>10} {:>7} {:>8.2}s",
                    f.count,
                    f.width,
                    f.compile.as_secs_f64(),
                    f.model.0,
                    f.model.1,
                    f.driver.0,
                    f.driver.1,
                    f.c.0,
                    f.c.1,
                    f.check.as_secs_f64()
                );
            }
            Ok(())
        }
        Cmd::CodegenBench(args) => {
            xtask::codegen_bench::run(ui, &args.sizes, args.runs, args.compile)
        }
        Cmd::CodegenBenchInputs { dir, registers } => {
            xtask::codegen_bench::write_inputs(&dir, registers).map(|_| ())
        }
        Cmd::Bench(args) => {
            let guest = provision::guest(ui, &GuestOptions::from_env()?)?;
            let q = qemu::provision(ui, &QemuOptions::from_env()?)?;
            xtask::bench::run(ui, &guest, &q, args.runs, args.reads)
        }
        Cmd::Initramfs(args) => {
            let mut b = Builder::new().busybox(args.busybox);
            for m in args.modules {
                b = b.module(m);
            }
            for m in args.module_files {
                b = b.module_file(m);
            }
            if let Some(s) = args.script {
                let text = std::fs::read_to_string(&s)
                    .with_context(|| format!("reading script {}", s.display()))?;
                b = b.script(text);
            }
            b.write_to(&args.output)?;
            ui.info(format!(
                "wrote {} ({})",
                args.output.display(),
                fmt_size(provision::file_size(&args.output))
            ));
            Ok(())
        }
        Cmd::Boot(args) => e2e_boot(ui, &args).map(|_| ()),
        Cmd::BootInitrd(args) => {
            let kernel = match args.kernel {
                Some(k) => k,
                None => {
                    let opts = GuestOptions::from_env()?;
                    provision::guest(ui, &opts)?.kernel_image
                }
            };
            let q = pick_qemu(ui, args.qemu, &InstallArgs { no_install: false })?;
            let mut boot = Boot::new(kernel, args.initrd).args(args.qemu_args);
            boot.append = args.append;
            boot.shared_memory = args.shared_memory;
            boot.timeout = Duration::from_secs(args.timeout);
            let r = boot.run(&q)?;
            ui.info(format!(
                "\nboot finished in {} (outcome: {:?})",
                fmt_duration(r.elapsed),
                r.outcome
            ));
            r.ensure_passed()
        }
        Cmd::BuildModule { dir } => {
            let guest = provision::guest(ui, &GuestOptions::from_env()?)?;
            let build = ui.step(&format!("make M={}", dir.display()), |_| {
                guest.build_module(&dir)
            })?;
            for w in build.warnings() {
                ui.info(format!("warning: {w}"));
            }
            for m in &build.modules {
                ui.info(format!(
                    "{} ({})",
                    m.display(),
                    fmt_size(provision::file_size(m))
                ));
            }
            Ok(())
        }
        Cmd::Cache => {
            let cache = Cache::from_env()?;
            println!("{}", cache.root().display());
            for sub in ["apt", "downloads", "src", "tools", "kernel", "qemu", "logs"] {
                let mut entries: Vec<_> = std::fs::read_dir(cache.path(sub))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path())
                    .collect();
                entries.sort();
                for p in entries {
                    println!(
                        "  {:>9}  {sub}/{}",
                        fmt_size(tree_size(&p)),
                        p.file_name().unwrap_or_default().to_string_lossy()
                    );
                }
            }
            Ok(())
        }
    }
}

/// Bytes used by a file or directory tree (symlinks not followed).
fn tree_size(p: &std::path::Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(p) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| tree_size(&e.path()))
            .sum()
    } else {
        meta.len()
    }
}

fn guest_options(args: &GuestArgs) -> Result<GuestOptions> {
    let mut opts = GuestOptions::from_env()?;
    opts.install_packages = !args.install.no_install;
    opts.refresh_source = args.refresh_source;
    if let Some(j) = args.jobs {
        if j == 0 {
            bail!("--jobs must be at least 1");
        }
        opts.jobs = j;
    }
    Ok(opts)
}

fn qemu_options(args: &InstallArgs) -> Result<QemuOptions> {
    let mut opts = QemuOptions::from_env()?;
    opts.install_packages = !args.no_install;
    Ok(opts)
}

fn pick_qemu(ui: &Ui, choice: QemuChoice, install: &InstallArgs) -> Result<Qemu> {
    let system = || -> Result<Option<Qemu>> {
        let q = qemu::system()?;
        if let Some(q) = &q {
            ui.info(format!("using the machine's QEMU: {}", q.version));
        }
        Ok(q)
    };
    match choice {
        QemuChoice::System => {
            system()?.context("qemu-system-x86_64 not found: apt-get install qemu-system-x86")
        }
        QemuChoice::Auto => match system()? {
            Some(q) => Ok(q),
            None => qemu::provision(ui, &qemu_options(install)?),
        },
        QemuChoice::VfioUser => qemu::provision(ui, &qemu_options(install)?),
    }
}

fn show_prefix(q: &Qemu) -> String {
    q.prefix
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn report_guest(ui: &Ui, guest: &provision::Guest) {
    let mut s = format!(
        "\nguest kernel {} (linux-source-7.3 {}; {})\n  image:      {} ({})\n  build tree: {}\n",
        guest.kernel_version,
        guest.source_version,
        guest.toolchain.rustc_short(),
        guest.kernel_image.display(),
        fmt_size(provision::file_size(&guest.kernel_image)),
        guest.build_tree.display(),
    );
    for (p, size) in provision::module_sizes(&guest.build_tree.join("samples/rust")) {
        s.push_str(&format!(
            "  module:     {} ({})\n",
            p.display(),
            fmt_size(size)
        ));
    }
    s.push_str(&format!("\ntimings:\n{}", ui.summary()));
    ui.info(s);
}

fn ci(ui: &Ui, args: CiArgs) -> Result<()> {
    if !args.vm_only {
        xtask::ci::host_checks(ui)?;
        xtask::ci::tree_sitter(ui)?;
        xtask::ci::browser(ui)?;
    }
    if !args.host_only {
        guest_test(
            ui,
            GuestTestArgs {
                guest: GuestArgs {
                    install: InstallArgs { no_install: false },
                    jobs: None,
                    refresh_source: false,
                },
                qemu: QemuChoice::Auto,
                timeout: 180,
                quiet_console: true,
            },
        )?;
        let guest = provision::guest(ui, &GuestOptions::from_env()?)?;
        xtask::ci::drivers(ui, &guest)?;
        let q = qemu::provision(ui, &QemuOptions::from_env()?)?;
        xtask::ci::end_to_end(ui, &guest, &q)?;
        xtask::ci::cross_validation(ui, &guest, &q)?;
        xtask::ci::msix(ui, &guest, &q)?;
        xtask::ci::windows(ui, &guest, &q)?;
        xtask::ci::interpreted(ui, &guest, &q)?;
        xtask::ci::big_drivers(ui, &guest, &q)?;
        xtask::ci::stock_drivers(ui, &guest, &q)?;
    }
    ui.info(format!("\nci passed\n\ntimings:\n{}", ui.summary()));
    Ok(())
}

fn stock(ui: &Ui, args: &StockArgs) -> Result<()> {
    let kernel = match &args.kernel {
        Some(k) => k.clone(),
        None => provision::guest(ui, &GuestOptions::from_env()?)?.kernel_image,
    };
    let q = pick_qemu(ui, args.qemu, &InstallArgs { no_install: false })?;
    ui.info(format!("QEMU: {}", q.version));
    let devices: Vec<&'static xtask::stock::StockDevice> = if args.devices.is_empty() {
        xtask::stock::DEVICES.iter().collect()
    } else {
        args.devices
            .iter()
            .map(|n| {
                xtask::stock::device(n).with_context(|| {
                    let known: Vec<_> = xtask::stock::DEVICES.iter().map(|d| d.name).collect();
                    format!("unknown device {n:?} (known: {})", known.join(", "))
                })
            })
            .collect::<Result<_>>()?
    };
    let mut results = Vec::new();
    for dev in devices {
        let c = ui.plain_step(
            &format!("{}: stock driver, QEMU's device and the model", dev.name),
            |_| xtask::stock::compare(&kernel, &q, dev, !args.qemu_only, args.echo),
        )?;
        if args.tables {
            for (side, r) in [("QEMU", &c.qemu), ("model", &c.model)] {
                if let Ok(run) = r
                    && let Some(p) = &run.probe
                {
                    ui.info(format!(
                        "{} on {side}:\n{}",
                        dev.name,
                        xtask::confspace::table(p)
                    ));
                }
            }
        }
        results.push(c);
    }
    ui.info(format!("\n{}", xtask::stock::report(&results)));
    let failed: Vec<&str> = results
        .iter()
        .filter(|c| {
            c.side_verdict(xtask::stock::Side::Qemu).is_err()
                || matches!(c.side_verdict(xtask::stock::Side::Model), Err(e) if !e.starts_with(xtask::stock::NOT_RUN))
                || !c.unexplained().is_empty()
        })
        .map(|c| c.device.name)
        .collect();
    if !failed.is_empty() {
        bail!("stock-driver conformance failed for {}", failed.join(", "));
    }
    Ok(())
}

fn e2e_boot(ui: &Ui, args: &E2eArgs) -> Result<xtask::e2e::E2eRun> {
    let guest = provision::guest(ui, &GuestOptions::from_env()?)?;
    let q = qemu::provision(ui, &QemuOptions::from_env()?)?;
    let opts = xtask::e2e::E2eOptions {
        spec: args.spec.clone(),
        driver: args.driver.into(),
        module: args.module.clone(),
        model: match args.model {
            ModelChoice::Interpreted => xtask::e2e::ModelKind::Interpreted,
            ModelChoice::Generated => xtask::e2e::ModelKind::Generated,
        },
        reloads: args.reloads,
        timeout: Duration::from_secs(args.timeout),
        echo: !args.quiet_console,
        kill_host_after: args.kill_host_after.map(Duration::from_secs_f64),
        artifacts: args.artifacts.clone(),
    };
    let driver = match &opts.module {
        Some(m) => format!("your module {}", m.display()),
        None => format!("generated {} driver", opts.driver.label()),
    };
    let run = ui.plain_step(
        &format!(
            "end to end ({driver}, {} model): {}",
            opts.model.label(),
            args.spec.display()
        ),
        |_| xtask::e2e::boot(&guest, &q, &opts),
    )?;
    ui.info(format!(
        "\n{}: self-test verdicts {:?}; boot to first verdict {}; host {}; {} trace events",
        run.device,
        run.verdicts,
        run.boot_to_selftest
            .map_or_else(|| "?".into(), fmt_duration),
        run.host_exit
            .map_or_else(|| "killed".into(), |s| s.to_string()),
        run.trace.len()
    ));
    if args.kill_host_after.is_some() {
        ui.info(format!(
            "host killed: QEMU {} after {} (timed out: {}), guest outcome {:?}\nQEMU said:\n{}",
            run.boot
                .exit
                .map_or_else(|| "was killed".into(), |s| format!("exited ({s})")),
            fmt_duration(run.boot.elapsed),
            run.boot.timed_out,
            run.boot.outcome,
            run.boot.qemu_stderr.trim()
        ));
        return Ok(run);
    }
    if opts.module.is_some() {
        run.boot.ensure_passed()?;
        if let Some((p, n)) = run.verdicts.iter().find(|(p, n)| p != n) {
            bail!("your driver's self-test: {p}/{n} passed");
        }
        ui.info(format!(
            "PASS: your module bound to the {} device, ran, unloaded; no oops or warning",
            run.device
        ));
        return Ok(run);
    }
    run.ensure_passed(1 + args.reloads)?;
    Ok(run)
}

fn guest_test(ui: &Ui, args: GuestTestArgs) -> Result<()> {
    let guest = provision::guest(ui, &guest_options(&args.guest)?)?;
    let q = pick_qemu(ui, args.qemu, &args.guest.install)?;
    let initrd = std::env::temp_dir().join(format!("smoke-{}.cpio.gz", std::process::id()));
    ui.step("smoke-test initramfs", |_| {
        smoke::initramfs(&guest, &initrd)
    })?;
    let boot_step = format!("boot under TCG (QEMU {})", q.short_version());
    let boot = |step: &xtask::ui::Step| {
        step.println(format!("kernel {}", guest.kernel_image.display()));
        smoke::run(
            &guest,
            &q,
            &initrd,
            Duration::from_secs(args.timeout),
            !args.quiet_console,
        )
    };
    // The console is echoed to the terminal: no spinner over it.
    let result = if args.quiet_console {
        ui.step(&boot_step, boot)
    } else {
        ui.plain_step(&boot_step, boot)
    };
    let _ = std::fs::remove_file(&initrd);
    let result = result?;
    ui.info(format!(
        "\nboot: {} wall, guest uptime {}, outcome {:?}",
        fmt_duration(result.elapsed),
        result
            .guest_uptime()
            .map_or_else(|| "?".to_owned(), |t| format!("{t:.2}s")),
        result.outcome
    ));
    result.ensure_passed()?;
    ui.info(format!(
        "guest-test passed: `{}` seen after load, rebind and reload\n\ntimings:\n{}",
        smoke::DATA_MATCH,
        ui.summary()
    ));
    Ok(())
}

/// `cargo xtask spec-fuzz`: the ignored test, with its seed and count.
fn spec_fuzz(seed: u64, count: u64) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "test",
            "--quiet",
            "-p",
            "pcidevc-codegen",
            "--test",
            "spec_fuzz",
            "--",
            "--ignored",
            "--nocapture",
        ])
        .env("SPEC_FUZZ_SEED", seed.to_string())
        .env("SPEC_FUZZ_COUNT", count.to_string())
        .current_dir(xtask::workspace::repo_root())
        .status()
        .context("running cargo test")?;
    if !status.success() {
        bail!(
            "spec-fuzz: seeds {seed}..{} found generator bugs (above)",
            seed + count
        );
    }
    Ok(())
}
