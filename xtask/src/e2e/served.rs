//! Boots against a served model ([`run_served`]: serve, boot, collect the
//! host's trace and log, check it left no socket), and the two boots built
//! on it or beside it: the upstream kernel sample on the pci-testdev model
//! ([`upstream_sample_on_model`]) and a generated driver on QEMU's own
//! built-in device ([`driver_on_qemu_device`]).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{
    DriverKind, HostModel, ModelKind, build_tools, compile, guest_script, host_exit_problem, serve,
    spec_id, verdicts,
};
use crate::initramfs::Builder;
use crate::provision::Guest;
use crate::qemu::{Boot, BootResult, Qemu};
use crate::workspace::tempdir;

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
    let (vendor, device_id) = spec_id(spec)?;
    Builder::new()
        .module_file(ko)
        .script(guest_script(&device, vendor, device_id, 1))
        .write_to(&initrd)?;
    let mut b = Boot::new(&guest.kernel_image, &initrd).args(["-device", qemu_device]);
    b.timeout = Duration::from_secs(240);
    b.echo = echo;
    let boot = b.run(qemu)?;
    let verdicts = verdicts(&boot.console);
    Ok((boot, verdicts))
}
