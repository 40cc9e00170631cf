//! End to end: a spec's generated driver, in a real Linux guest, against
//! the spec's generated model served over vfio-user.
//!
//! [`boot`] compiles the spec with the real `pcidevc` binary, builds the
//! driver module against the provisioned kernel tree (zero warnings
//! required), packs an initramfs whose test script loads the module, waits
//! for the driver's self-test verdict and reloads it (`reloads` more
//! times), starts `pcidev-host` serving the model on a Unix socket with a
//! JSON-lines trace, and boots QEMU (TCG, shared memfd RAM, a
//! `vfio-user-pci` device on that socket). Every process and the socket are
//! cleaned up on every path: QEMU by [`Boot::run`]'s guard, the host by
//! [`HostGuard`], the socket by the host itself and by the stage
//! directory.
//!
//! Run as root (as in CI), the harness starts the host with `--user
//! nobody`: it opens its socket, trace and streams as root and serves as
//! `nobody`, under its seccomp filter. A host the filter killed (SIGSYS) is
//! reported as such ([`host_exit_problem`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::initramfs::Builder;
use crate::provision::Guest;
use crate::qemu::{Boot, BootResult, Qemu};
use crate::workspace::{target_dir, tempdir};

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

/// Kills and reaps the host process on drop.
#[derive(Debug)]
pub struct HostGuard(Option<Child>);

impl HostGuard {
    /// How the host ended, if it has (without waiting).
    pub fn try_status(&mut self) -> Option<std::process::ExitStatus> {
        self.0.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }
}

/// The user the harness serves as when it runs as root: the host drops
/// root for it once its files are open (`pcidev-host --user`).
pub const HOST_USER: &str = "nobody";

/// The failure a host's end means by itself, if any: killed by its
/// seccomp filter (SIGSYS), i.e. it made a system call outside
/// `pcidev_host::jail::ALLOWED`. The message quotes the end of its log.
pub fn host_exit_problem(status: Option<std::process::ExitStatus>, log: &str) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    if status?.signal()? != libc::SIGSYS {
        return None;
    }
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    Some(format!(
        "pcidev-host was killed by its seccomp filter (SIGSYS): it made a system call \
         outside its allowlist (pcidev_host::jail::ALLOWED; `strace -f` it, or serve with \
         --no-seccomp to debug); its log ends:\n{tail}"
    ))
}

impl Drop for HostGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

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

/// The guest test script: the driver was loaded by init; wait for its
/// verdict, reload it `reloads` times, and fail on any oops or warning.
pub fn guest_script(module: &str, reloads: usize) -> String {
    format!(
        r#"
m={module}
wait_dmesg "selftest: " 20
wait_dmesg " passed" 20
for i in $(seq 1 {reloads}); do
	rmmod $m || fail "rmmod $m (reload $i)"
	insmod /lib/modules/$m.ko || fail "insmod $m (reload $i)"
	n=$((i + 1))
	t=200
	while [ "$(dmesg | grep -c 'selftest: .* passed')" -lt "$n" ]; do
		t=$((t - 1)); [ "$t" -gt 0 ] || fail "no verdict after reload $i"
		usleep 100000
	done
done
rmmod $m || fail "final rmmod $m"
bad=$(dmesg | grep -o 'selftest: [0-9]*/[0-9]* passed' | awk '{{ split($2, a, "/"); if (a[1] != a[2]) n++ }} END {{ print n + 0 }}')
[ "$bad" = 0 ] || fail "$bad self-test run(s) did not pass every step"
if dmesg | grep -E -q 'Oops|BUG:|WARNING:|Call Trace|leak'; then
	dmesg | grep -E 'Oops|BUG:|WARNING:|Call Trace|leak'
	fail "the kernel logged an oops, bug or warning"
fi
"#
    )
}

/// Parse every `selftest: P/N passed` line of a console log (the drivers
/// add `, S skipped` when they skipped steps only a host can run; skipped
/// steps are counted in neither P nor N).
pub fn verdicts(console: &str) -> Vec<(u32, u32)> {
    console
        .lines()
        .filter_map(|l| verdict(l).map(|(p, n, _)| (p, n)))
        .collect()
}

/// `(passed, run, skipped)` of one verdict line.
fn verdict(line: &str) -> Option<(u32, u32, u32)> {
    let rest = &line[line.find("selftest: ")? + "selftest: ".len()..];
    let (rest, skipped) = match rest.trim_end().strip_suffix(" skipped") {
        Some(r) => {
            let (r, s) = r.rsplit_once(", ")?;
            (r, s.trim().parse().ok()?)
        }
        None => (rest, 0),
    };
    let rest = rest.trim_end().strip_suffix(" passed")?.trim();
    let (p, n) = rest
        .rsplit_once(' ')
        .map_or(rest, |(_, t)| t)
        .split_once('/')?;
    Some((p.trim().parse().ok()?, n.trim().parse().ok()?, skipped))
}

fn wait_for_socket(path: &Path, host: &mut Child, within: Duration) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < within {
        if path.exists() {
            return Ok(());
        }
        if let Some(status) = host.try_wait()? {
            bail!("pcidev-host exited before listening ({status})");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!(
        "pcidev-host did not create {} within {within:?}",
        path.display()
    )
}

/// The guest test script for a user's own driver: the module must bind
/// to a PCI device within 10 s; after `settle` seconds any self-test
/// verdict it printed must pass; it must unload; the kernel must log no
/// oops or warning.
pub fn own_driver_script(module: &str, settle: u32) -> String {
    format!(
        r#"
m={module}
t=100
bound=""
while :; do
	for d in /sys/bus/pci/devices/*; do
		mod=$(readlink "$d/driver/module" 2>/dev/null || true)
		if [ "${{mod##*/}}" = "$m" ]; then bound="${{d##*/}}"; fi
	done
	[ -n "$bound" ] && break
	t=$((t - 1))
	[ "$t" -gt 0 ] || fail "module $m bound to no PCI device within 10 s (does its id table match the spec's id?)"
	usleep 100000
done
echo "pcidevc: module $m bound to $bound"
sleep {settle}
if dmesg | grep -q 'selftest: '; then wait_dmesg " passed" 20; fi
rmmod $m || fail "rmmod $m"
bad=$(dmesg | grep -o 'selftest: [0-9]*/[0-9]* passed' | awk '{{ split($2, a, "/"); if (a[1] != a[2]) n++ }} END {{ print n + 0 }}')
[ "$bad" = 0 ] || fail "$bad self-test run(s) did not pass every step"
if dmesg | grep -E -q 'Oops|BUG:|WARNING:|Call Trace|leak'; then
	dmesg | grep -E 'Oops|BUG:|WARNING:|Call Trace|leak'
	fail "the kernel logged an oops, bug or warning"
fi
echo "pcidevc: module $m unloaded cleanly"
"#
    )
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

/// Seconds a user's driver runs before the harness unloads it.
pub const OWN_DRIVER_SETTLE_SECS: u32 = 2;

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
            (ko, guest_script(&device, opts.reloads), warnings)
        }
    };
    let initrd = work.path().join("initramfs.cpio.gz");
    Builder::new()
        .module(&ko)
        .script(script)
        .write_to(&initrd)?;

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
    let boot_to_selftest = first_verdict_time(&served.boot.console, served.boot.elapsed);
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

/// A boot of some initramfs against a model served by `pcidev-host`.
#[derive(Debug)]
pub struct ServedBoot<'a> {
    pub host_bin: &'a Path,
    /// The model to serve.
    pub model: HostModel<'a>,
    pub initrd: &'a Path,
    /// Where the host's trace and log go.
    pub work: &'a Path,
    pub timeout: Duration,
    pub echo: bool,
    /// SIGKILL the host this long after QEMU starts.
    pub kill_host_after: Option<Duration>,
    /// More QEMU arguments (e.g. built-in devices beside the served one).
    pub extra_args: &'a [&'a str],
}

/// What a served boot left behind.
#[derive(Debug)]
pub struct ServedRun {
    pub boot: BootResult,
    pub trace: Vec<serde_json::Value>,
    pub host_exit: Option<std::process::ExitStatus>,
    pub host_log: String,
}

/// Serve the model, boot, wait for the host to finish (it exits when QEMU
/// disconnects), collect its trace and log, and make sure no socket is left.
pub fn run_served(guest: &Guest, qemu: &Qemu, sb: &ServedBoot<'_>) -> Result<ServedRun> {
    let served = serve(qemu, sb.host_bin, sb.model, sb.work, true)?;
    let mut guard = served.guard;
    let (sock_host, trace_path, host_log_path) = (served.socket, served.trace, served.log);
    let _stage = served.stage;
    let mut b = Boot::new(&guest.kernel_image, sb.initrd)
        .args(served.qemu_args)
        .args(sb.extra_args);
    b.shared_memory = true;
    b.timeout = sb.timeout;
    b.echo = sb.echo;

    let killer = sb.kill_host_after.map(|after| {
        let pid = guard.0.as_ref().map(|c| c.id());
        std::thread::spawn(move || {
            std::thread::sleep(after);
            if let Some(pid) = pid {
                // SIGKILL: the host gets no chance to say goodbye.
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
            }
        })
    });
    let boot = b.run(qemu)?;
    if let Some(k) = killer {
        let _ = k.join();
    }
    // The host exits when QEMU disconnects; give it a moment, then kill it.
    let mut host_exit = None;
    if let Some(c) = guard.0.as_mut() {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(s) = c.try_wait()? {
                host_exit = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    if host_exit.is_some() {
        guard.0 = None;
    }
    drop(guard);
    let host_log = std::fs::read_to_string(&host_log_path).unwrap_or_default();
    if let Some(problem) = host_exit_problem(host_exit, &host_log) {
        bail!("{problem}");
    }
    let trace = std::fs::read_to_string(&trace_path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // A host that exits by itself removes its socket; one we SIGKILLed
    // cannot, so the harness does.
    if sock_host.exists() {
        let _ = std::fs::remove_file(&sock_host);
        if sb.kill_host_after.is_none() {
            bail!("the host left its socket {} behind", sock_host.display());
        }
    }
    Ok(ServedRun {
        boot,
        trace,
        host_exit,
        host_log,
    })
}

/// The upstream kernel sample `samples/rust/rust_driver_pci.rs`, built
/// unmodified with the guest kernel, against the pci-testdev model (the
/// generated one, or `specs/pci_testdev.pcidev` interpreted) over
/// vfio-user: it must print `pci-testdev data-match count: 1`.
pub fn upstream_sample_on_model(
    guest: &Guest,
    qemu: &Qemu,
    model: ModelKind,
    echo: bool,
) -> Result<ServedRun> {
    let spec = crate::workspace::repo_root().join("specs/pci_testdev.pcidev");
    let (_, host_bin) = build_tools()?;
    let work = tempdir("pcidevc-sample")?;
    let ko = guest.tree_module(crate::smoke::SAMPLE_MODULE)?;
    let initrd = work.path().join("sample.cpio.gz");
    Builder::new()
        .module(ko)
        .script(crate::smoke::SCRIPT)
        .write_to(&initrd)?;
    let run = run_served(
        guest,
        qemu,
        &ServedBoot {
            host_bin: &host_bin,
            model: match model {
                ModelKind::Generated => HostModel::Registered("pci_testdev"),
                ModelKind::Interpreted => HostModel::Spec(&spec),
            },
            initrd: &initrd,
            work: work.path(),
            timeout: Duration::from_secs(240),
            echo,
            kill_host_after: None,
            extra_args: &[],
        },
    )?;
    run.boot.ensure_passed()?;
    if !run.boot.console.contains(crate::smoke::DATA_MATCH) {
        bail!("the sample did not print `{}`", crate::smoke::DATA_MATCH);
    }
    Ok(run)
}

/// A spec's generated driver against QEMU's own built-in device (`-device
/// NAME`, no vfio-user): the reverse of the usual direction.
pub fn driver_on_qemu_device(
    guest: &Guest,
    qemu: &Qemu,
    spec: &Path,
    driver: DriverKind,
    qemu_device: &str,
    echo: bool,
) -> Result<(BootResult, Vec<(u32, u32)>)> {
    let (pcidevc, _) = build_tools()?;
    let work = tempdir("pcidevc-reverse")?;
    let dev_dir = compile(&pcidevc, spec, work.path())?;
    let device = dev_dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("device name")?
        .to_owned();
    let build = guest.build_module_with(&dev_dir.join(driver.dir()), driver.make_vars())?;
    let ko = build
        .modules
        .iter()
        .find(|m| m.file_stem().is_some_and(|s| s == device.as_str()))
        .context("module not built")?;
    let initrd = work.path().join("reverse.cpio.gz");
    Builder::new()
        .module(ko)
        .script(guest_script(&device, 1))
        .write_to(&initrd)?;
    let mut b = Boot::new(&guest.kernel_image, &initrd).args(["-device", qemu_device]);
    b.timeout = Duration::from_secs(240);
    b.echo = echo;
    let boot = b.run(qemu)?;
    let verdicts = verdicts(&boot.console);
    Ok((boot, verdicts))
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
        let warnings = build.warnings();
        if !warnings.is_empty() {
            bail!(
                "{device}: driver build {} has warnings:\n{}",
                vars.join(" "),
                warnings.join("\n")
            );
        }
        if !build
            .modules
            .iter()
            .any(|m| m.file_stem().is_some_and(|s| s == device.as_str()))
        {
            bail!("{device}: {device}.ko was not built");
        }
    }
    Ok(DriverBuild {
        device,
        lines,
        total_lines,
        build_time: times[0],
        clippy_time: times[1],
    })
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
    let warnings = build.warnings();
    if !warnings.is_empty() {
        bail!(
            "{device}: C driver build with W=1 has warnings:\n{}",
            warnings.join("\n")
        );
    }
    if !build
        .modules
        .iter()
        .any(|m| m.file_stem().is_some_and(|s| s == device.as_str()))
    {
        bail!("{device}: {device}.ko was not built");
    }
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

/// A model being served: the host process, its socket and files, and the
/// QEMU arguments that attach the device (keep `stage` alive while QEMU
/// runs: it is the directory both sides reach).
#[derive(Debug)]
pub struct Served {
    pub guard: HostGuard,
    pub stage: crate::qemu::StageDir,
    pub socket: PathBuf,
    pub trace: PathBuf,
    pub log: PathBuf,
    pub qemu_args: Vec<String>,
}

/// Start `pcidev-host` serving `model` on a socket in a QEMU stage
/// directory, tracing into `work/trace.jsonl` (when `trace`) and logging to
/// `work/host.log`; waits until it listens.
pub fn serve(
    qemu: &Qemu,
    host_bin: &Path,
    model: HostModel<'_>,
    work: &Path,
    trace: bool,
) -> Result<Served> {
    serve_with(qemu, host_bin, model, work, trace, &ServeOptions::default())
}

/// Where and how [`serve_with`] attaches the served device.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// The PCI slot (`"4"` for 00:04.0); QEMU's choice when `None`.
    pub addr: Option<String>,
    /// More `pcidev-host` arguments (before the model name).
    pub host_args: Vec<std::ffi::OsString>,
}

/// [`serve`] at a given slot and with more host arguments.
pub fn serve_with(
    qemu: &Qemu,
    host_bin: &Path,
    model: HostModel<'_>,
    work: &Path,
    trace: bool,
    opts: &ServeOptions,
) -> Result<Served> {
    // The socket lives where both the host and (chrooted) QEMU see it.
    let stage = qemu.stage_dir()?;
    let (socket, sock_qemu) = stage.path("device.sock");
    let trace_path = work.join("trace.jsonl");
    let log_path = work.join("host.log");
    let log = std::fs::File::create(&log_path)?;
    let mut cmd = Command::new(host_bin);
    cmd.arg("--socket").arg(&socket);
    if trace {
        cmd.arg("--trace").arg(&trace_path);
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 && !opts.host_args.iter().any(|a| a == "--user") {
        cmd.args(["--user", HOST_USER]);
    }
    cmd.args(&opts.host_args);
    match model {
        HostModel::Registered(name) => cmd.arg(name),
        HostModel::Spec(path) => cmd.arg("--spec").arg(path),
    };
    let mut host = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", host_bin.display()))?;
    wait_for_socket(&socket, &mut host, Duration::from_secs(10))?;
    let addr = opts
        .addr
        .as_ref()
        .map(|a| format!(r#","addr":"{a}""#))
        .unwrap_or_default();
    let device_arg = format!(
        r#"{{"driver":"vfio-user-pci","socket":{{"path":"{}","type":"unix"}}{addr}}}"#,
        sock_qemu.display()
    );
    // A VGA device makes the guest a common PC: its legacy window
    // 0xa0000-0xbffff is VGA memory, not RAM (without one, QEMU maps RAM
    // there and hands it to the vfio-user server for DMA).
    let qemu_args = vec!["-device".into(), "VGA".into(), "-device".into(), device_arg];
    Ok(Served {
        guard: HostGuard(Some(host)),
        stage,
        socket,
        trace: trace_path,
        log: log_path,
        qemu_args,
    })
}

/// hello_tic, checked from the host's side: every load of the driver must
/// show in the model's trace as the seed's interrupt raised and lowered,
/// the 8-bit `outb` rejected, the seed's DMA to 0xa0000 refused, and the
/// DMA into the driver's buffer done with exactly `random(0x5eed)`'s bytes.
pub fn check_hello_tic_trace(trace: &[serde_json::Value], loads: usize) -> Result<()> {
    let count =
        |pred: &dyn Fn(&serde_json::Value) -> bool| trace.iter().filter(|e| pred(e)).count();
    let intx = |asserted: bool| move |e: &serde_json::Value| e["Intx"]["asserted"] == asserted;
    let (up, down) = (count(&intx(true)), count(&intx(false)));
    if up < loads || down < up {
        bail!(
            "expected INTx asserted and deasserted at least {loads} times, trace has {up} up / {down} down"
        );
    }
    let rejected_outb = count(&|e| {
        let w = &e["BarWrite"];
        w["bar"] == 0 && w["offset"] == 0 && w["size"] == 1 && w["outcome"].get("Invalid").is_some()
    });
    if rejected_outb != loads {
        bail!("expected {loads} rejected 1-byte writes to BAR0+0, trace has {rejected_outb}");
    }
    let dma = |e: &serde_json::Value| e.get("Dma").cloned();
    let dmas: Vec<serde_json::Value> = trace.iter().filter_map(dma).collect();
    let refused = dmas
        .iter()
        .filter(|d| d["address"] == 0xa0000 && d["len"] == 0x1ffff && d["outcome"] == "OutOfRange")
        .count();
    let want = pcidev_runtime::fnv1a64(&pcidev_runtime::random_bytes(0x5eed, 0x1ffff));
    let done = dmas
        .iter()
        .filter(|d| {
            d["address"] != 0xa0000
                && d["len"] == 0x1ffff
                && d["outcome"] == "Done"
                && d["fnv1a"] == want
        })
        .count();
    if refused != loads || done != loads || dmas.len() != 2 * loads {
        bail!(
            "expected per load one refused DMA to 0xa0000 and one done with random(0x5eed)'s bytes; trace DMAs: {dmas:?}"
        );
    }
    Ok(())
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

/// Guest time of the first verdict (the kernel's `[ seconds]` stamp), capped
/// by the wall time of the whole boot.
fn first_verdict_time(console: &str, wall: Duration) -> Option<Duration> {
    let line = console.lines().find(|l| verdict(l).is_some())?;
    let stamp = line
        .trim_start()
        .strip_prefix('[')?
        .split(']')
        .next()?
        .trim()
        .parse::<f64>()
        .ok()?;
    Some(Duration::from_secs_f64(stamp).min(wall))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_killed_by_its_seccomp_filter_is_reported_as_such() {
        // A real process dying of SIGSYS, as the host does when its filter
        // catches a forbidden call (host/tests/jail.rs shows the host does).
        let sigsys = Command::new("sh")
            .args(["-c", "kill -SYS $$"])
            .status()
            .unwrap();
        let log = "INFO seccomp filter installed: 60 system calls allowed\nWARN last words";
        let problem = host_exit_problem(Some(sigsys), log).unwrap();
        assert!(problem.contains("seccomp filter (SIGSYS)"), "{problem}");
        assert!(problem.contains("last words"), "{problem}");
        // Any other end is not the filter's doing.
        let killed = Command::new("sh")
            .args(["-c", "kill -KILL $$"])
            .status()
            .unwrap();
        assert_eq!(host_exit_problem(Some(killed), log), None);
        let ok = Command::new("true").status().unwrap();
        assert_eq!(host_exit_problem(Some(ok), log), None);
        assert_eq!(host_exit_problem(None, log), None);
    }

    #[test]
    fn hello_tic_trace_check_accepts_a_good_trace_and_rejects_a_bad_one() {
        let hash = pcidev_runtime::fnv1a64(&pcidev_runtime::random_bytes(0x5eed, 0x1ffff));
        let good: Vec<serde_json::Value> = [
            r#"{"BarWrite":{"bar":0,"offset":0,"size":1,"value":1,"outcome":{"Invalid":{"reason":"Size","action":"Ignore"}}}}"#,
            r#"{"Intx":{"asserted":true}}"#,
            r#"{"Intx":{"asserted":false}}"#,
            r#"{"Dma":{"direction":"ToGuest","address":655360,"len":131071,"outcome":"OutOfRange","fnv1a":null}}"#,
        ]
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .chain(std::iter::once(serde_json::json!({"Dma": {"direction": "ToGuest", "address": 0x8a0000, "len": 0x1ffff, "outcome": "Done", "fnv1a": hash}})))
        .collect();
        check_hello_tic_trace(&good, 1).unwrap();
        let mut bad = good.clone();
        bad[4]["Dma"]["fnv1a"] = serde_json::json!(hash ^ 1);
        assert!(check_hello_tic_trace(&bad, 1).is_err(), "wrong bytes");
        assert!(check_hello_tic_trace(&good[..4], 1).is_err(), "missing DMA");
        assert!(check_hello_tic_trace(&good, 2).is_err(), "one load short");
    }

    #[test]
    fn verdict_lines_are_parsed() {
        let console = "[    1.234567] hello_tic 0000:00:03.0: hello_tic: selftest: 15/15 passed\n\
                       noise selftest: nothing\n\
                       [    2.000000] x: selftest: 3/4 passed\n\
                       [    3.000000] v2: selftest: 7/7 passed, 5 skipped\n\
                       v2: selftest: a: step 1 (line 3): input line \"x\": skipped: host only\n";
        assert_eq!(verdicts(console), vec![(15, 15), (3, 4), (7, 7)]);
        assert_eq!(
            verdict("v2: selftest: 7/7 passed, 5 skipped"),
            Some((7, 7, 5))
        );
        assert_eq!(
            first_verdict_time(console, Duration::from_secs(9)),
            Some(Duration::from_secs_f64(1.234567))
        );
    }
}
