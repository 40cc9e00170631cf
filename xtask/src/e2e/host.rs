//! The served side of a boot: `pcidev-host` started on a socket in QEMU's
//! stage directory ([`serve`], [`serve_with`]), the QEMU arguments that
//! attach it, the guard that kills and reaps it ([`HostGuard`]), and how a
//! host's end is judged ([`host_exit_problem`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::HostModel;
use crate::qemu::Qemu;

/// Kills and reaps the host process on drop.
#[derive(Debug)]
pub struct HostGuard(pub(super) Option<Child>);

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
}
