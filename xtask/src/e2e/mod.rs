//! End to end: a spec's generated driver, in a real Linux guest, against
//! the spec's generated model served over vfio-user.
//!
//! [`boot`] compiles the spec with the real `pcidevc` binary, builds the
//! driver module against the provisioned kernel tree (zero warnings
//! required), packs an initramfs whose test script takes the spec's device
//! from any guest driver that bound it at boot (`driver_override`, unbind),
//! loads the module, waits for the driver's self-test verdict and reloads it (`reloads` more
//! times), starts `pcidev-host` serving the model on a Unix socket with a
//! JSON-lines trace, and boots QEMU (TCG, shared memfd RAM, a
//! `vfio-user-pci` device on that socket). Every process and the socket are
//! cleaned up on every path: QEMU by [`Boot::run`](crate::qemu::Boot::run)'s guard, the host by
//! [`HostGuard`], the socket by the host itself and by the stage
//! directory.
//!
//! Run as root (as in CI), the harness starts the host with `--user
//! nobody`: it opens its socket, trace and streams as root and serves as
//! `nobody`, under its seccomp filter. A host the filter killed (SIGSYS) is
//! reported as such ([`host_exit_problem`]).
//!
//! The module is split by concern: [`build`] (binaries, specs, driver
//! builds), [`host`] (starting and guarding `pcidev-host`), [`script`]
//! (guest test scripts and verdicts), [`served`] (boots against a served
//! model), [`trace`] (the host's trace checked); this file holds the
//! options and [`boot`] itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::initramfs::Builder;
use crate::provision::Guest;
use crate::qemu::{BootResult, Qemu};
use crate::workspace::tempdir;

pub mod build;
pub mod host;
pub mod script;
pub mod served;
pub mod trace;

pub use build::{
    CDriverCheck, DriverBuild, build_tools, check_c_driver, check_driver, compile, own_module,
    spec_id,
};
pub use host::{HOST_USER, HostGuard, ServeOptions, Served, host_exit_problem, serve, serve_with};
pub use script::{OWN_DRIVER_SETTLE_SECS, guest_script, own_driver_script, verdicts};
pub use served::{
    ServedBoot, ServedRun, driver_on_qemu_device, run_served, upstream_sample_on_model,
};
pub use trace::check_hello_tic_trace;

/// Which of the generated drivers a boot loads: both log the same
/// self-test lines, so the harness reads them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DriverKind {
    /// `driver/`: the Rust-for-Linux driver.
    #[default]
    Rust,
    /// `driver_c/`: the C driver (built with `W=1`).
    C,
}

impl DriverKind {
    /// The driver's directory in a device's output directory.
    pub const fn dir(self) -> &'static str {
        match self {
            DriverKind::Rust => "driver",
            DriverKind::C => "driver_c",
        }
    }

    /// `Rust` / `C`, for step names.
    pub const fn label(self) -> &'static str {
        match self {
            DriverKind::Rust => "Rust",
            DriverKind::C => "C",
        }
    }

    /// Extra make variables of the driver's build: the C driver is built
    /// with the kernel's extra warnings (`W=1`), and must have none.
    pub const fn make_vars(self) -> &'static [&'static str] {
        match self {
            DriverKind::Rust => &[],
            DriverKind::C => &["W=1"],
        }
    }
}

/// Which model `pcidev-host` serves for a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelKind {
    /// The spec itself through the IR interpreter (`pcidev-host --spec`):
    /// any spec, nothing compiled.
    #[default]
    Interpreted,
    /// The model compiled into `pcidev-host` under the device's name (the
    /// specs in `specs/`, from `generated/`).
    Generated,
}

impl ModelKind {
    /// `interpreted` / `generated`, for step names.
    pub const fn label(self) -> &'static str {
        match self {
            ModelKind::Interpreted => "interpreted",
            ModelKind::Generated => "generated",
        }
    }
}

/// The model `pcidev-host` serves: a registered name or a spec file.
#[derive(Debug, Clone, Copy)]
pub enum HostModel<'a> {
    /// `pcidev-host NAME`.
    Registered(&'a str),
    /// `pcidev-host --spec FILE`.
    Spec(&'a Path),
}

/// What to boot.
#[derive(Debug, Clone)]
pub struct E2eOptions {
    pub spec: PathBuf,
    /// The generated driver to load (unless `module` is given).
    pub driver: DriverKind,
    /// The user's own driver instead of the generated one: a `.ko` built
    /// for the provisioned kernel, or a Kbuild directory built here.
    pub module: Option<PathBuf>,
    /// Which model serves the device.
    pub model: ModelKind,
    /// Unload and load the module this many more times after the first probe.
    pub reloads: usize,
    pub timeout: Duration,
    /// Echo the guest console to stderr.
    pub echo: bool,
    /// Kill the host this long after QEMU starts (the "host dies" test).
    pub kill_host_after: Option<Duration>,
    /// Keep the console, the host's log and trace, and the generated files
    /// in this directory.
    pub artifacts: Option<PathBuf>,
}

impl E2eOptions {
    /// `spec` served interpreted, its generated Rust driver loaded once.
    pub fn interpreted(spec: PathBuf) -> E2eOptions {
        E2eOptions {
            spec,
            driver: DriverKind::Rust,
            module: None,
            model: ModelKind::Interpreted,
            reloads: 0,
            timeout: Duration::from_secs(240),
            echo: false,
            kill_host_after: None,
            artifacts: None,
        }
    }
}

/// What one end-to-end boot produced.
#[derive(Debug)]
pub struct E2eRun {
    pub device: String,
    pub boot: BootResult,
    /// Every `selftest: P/N passed` verdict the guest printed, in order.
    pub verdicts: Vec<(u32, u32)>,
    /// The host's trace, one JSON value per event.
    pub trace: Vec<serde_json::Value>,
    /// How the host ended.
    pub host_exit: Option<std::process::ExitStatus>,
    pub host_log: String,
    /// Wall time from QEMU start to the first verdict line, when seen.
    pub boot_to_selftest: Option<Duration>,
    pub module_build_warnings: Vec<String>,
}

impl E2eRun {
    /// The guest printed a verdict for every load and every one passed all
    /// steps, the test script passed, and the kernel logged no oops.
    pub fn ensure_passed(&self, loads: usize) -> Result<()> {
        self.boot.ensure_passed()?;
        if self.verdicts.len() != loads {
            bail!(
                "expected {loads} self-test verdicts, the guest printed {}: {:?}",
                self.verdicts.len(),
                self.verdicts
            );
        }
        if let Some((p, n)) = self.verdicts.iter().find(|(p, n)| p != n || *n == 0) {
            bail!("self-test: {p}/{n} passed");
        }
        Ok(())
    }
}

/// One end-to-end boot of `opts.spec`.
pub fn boot(guest: &Guest, qemu: &Qemu, opts: &E2eOptions) -> Result<E2eRun> {
    if !qemu.has_vfio_user {
        bail!("this QEMU ({}) has no vfio-user-pci client", qemu.version);
    }
    let (pcidevc, host_bin) = build_tools()?;
    let work = tempdir("pcidevc-e2e")?;
    let dev_dir = compile(&pcidevc, &opts.spec, work.path())?;
    let device = dev_dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("device name")?
        .to_owned();
    let (ko, script, module_build_warnings) = match &opts.module {
        Some(path) => {
            let (ko, name, warnings) = own_module(guest, path)?;
            (
                ko,
                own_driver_script(&name, OWN_DRIVER_SETTLE_SECS),
                warnings,
            )
        }
        None => {
            let driver_dir = dev_dir.join(opts.driver.dir());
            let build = guest
                .build_module_with(&driver_dir, opts.driver.make_vars())
                .with_context(|| format!("building {}", driver_dir.display()))?;
            let warnings: Vec<String> = build.warnings().iter().map(|s| s.to_string()).collect();
            if !warnings.is_empty() {
                bail!(
                    "the generated driver built with warnings:\n{}",
                    warnings.join("\n")
                );
            }
            let ko = build
                .modules
                .iter()
                .find(|m| m.file_stem().is_some_and(|s| s == device.as_str()))
                .context("module not built")?
                .clone();
            let (vendor, device_id) = spec_id(&opts.spec)?;
            (
                ko,
                guest_script(&device, vendor, device_id, opts.reloads),
                warnings,
            )
        }
    };
    let initrd = work.path().join("initramfs.cpio.gz");
    // The generated driver's script loads the module itself, after
    // claiming the device from any driver that bound it at boot; init loads
    // a user's own module.
    let builder = match &opts.module {
        Some(_) => Builder::new().module(&ko),
        None => Builder::new().module_file(&ko),
    };
    builder.script(script).write_to(&initrd)?;

    let spec_abs = std::path::absolute(&opts.spec)?;
    let model = match opts.model {
        ModelKind::Interpreted => HostModel::Spec(&spec_abs),
        ModelKind::Generated => HostModel::Registered(&device),
    };
    let served = run_served(
        guest,
        qemu,
        &ServedBoot {
            host_bin: &host_bin,
            model,
            initrd: &initrd,
            work: work.path(),
            timeout: opts.timeout,
            echo: opts.echo,
            kill_host_after: opts.kill_host_after,
            extra_args: &[],
        },
    )?;
    if let Some(dir) = &opts.artifacts {
        keep_artifacts(dir, work.path(), &served.boot.console)?;
    }
    let verdicts = verdicts(&served.boot.console);
    let boot_to_selftest = script::first_verdict_time(&served.boot.console, served.boot.elapsed);
    Ok(E2eRun {
        device,
        boot: served.boot,
        verdicts,
        trace: served.trace,
        host_exit: served.host_exit,
        host_log: served.host_log,
        boot_to_selftest,
        module_build_warnings,
    })
}

/// Copy what a run produced into `dir` (replacing an earlier run's files).
fn keep_artifacts(dir: &Path, work: &Path, console: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("console.log"), console)?;
    for name in ["trace.jsonl", "host.log"] {
        let from = work.join(name);
        if from.exists() {
            std::fs::copy(&from, dir.join(name))?;
        }
    }
    Ok(())
}
