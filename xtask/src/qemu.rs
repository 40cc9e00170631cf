//! QEMU: finding or provisioning one, and booting the guest under TCG.
//!
//! **Which QEMU.** [`system`] is the machine's `qemu-system-x86_64`
//! (bookworm's 7.2 boots the guest with `pci-testdev`/`edu` fine).
//! [`provision`] returns a QEMU whose `-device help` lists the
//! `vfio-user-pci` client: the machine's own if it has one, otherwise
//! Debian trixie-backports' `qemu-system-x86` installed into a
//! debootstrapped trixie root under the cache
//! (`qemu/trixie-backports-<key>/root`), built in a temporary directory and
//! renamed into place once QEMU answers inside it.
//!
//! **Reaching files from the chroot.** The provisioned QEMU runs as
//! `chroot ROOT /usr/bin/qemu-system-x86_64` (root required), so it sees
//! only paths inside ROOT. Files are not bind-mounted (nothing to unmount
//! after a crash): [`Qemu::stage_dir`] makes a directory `ROOT/tmp/pcidevc-…`
//! that both sides can reach; [`StageDir::add`] hard-links (or copies) the
//! kernel and initramfs into it, and [`StageDir::path`] gives the host-side
//! and QEMU-side paths of a name there, e.g. a vfio-user socket the host
//! server binds at the host path and QEMU opens at the QEMU path. The
//! directory is removed when the `StageDir` drops. With the machine's QEMU
//! both paths are the same and the directory is in the system temp dir.
//!
//! **Booting.** [`Boot::run`] starts QEMU with TCG, q35, serial console on
//! stdio, `-no-reboot`, streams the console to stderr as it arrives,
//! enforces a timeout, and kills QEMU on every path (a drop guard covers
//! errors and panics). The guest's `PCIDEVC-RESULT:` line is parsed into
//! [`Outcome`].

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub use crate::initramfs::Outcome;

use crate::apt;
use crate::cache::{self, Cache, Key};
use crate::exec::{capture, run_logged};
use crate::ui::{Step, Ui};

/// The QEMU device that connects to a vfio-user server.
pub const VFIO_USER_DEVICE: &str = "vfio-user-pci";

/// Suite QEMU is installed from in the provisioned root.
pub const QEMU_SUITE: &str = "trixie";
/// Backports suite the QEMU package comes from.
pub const QEMU_BACKPORTS: &str = "trixie-backports";

/// Bumped when the QEMU root recipe changes.
pub const RECIPE: &str = "qemu-root-recipe-1";

/// A QEMU to run: a command prefix and, for a chroot, its root.
#[derive(Debug, Clone)]
pub struct Qemu {
    /// Program and leading arguments, e.g. `["chroot", ROOT,
    /// "/usr/bin/qemu-system-x86_64"]` or `["qemu-system-x86_64"]`.
    pub prefix: Vec<OsString>,
    /// The chroot QEMU runs in, if any.
    pub root: Option<PathBuf>,
    /// First line of `--version`.
    pub version: String,
    /// Whether `-device help` lists `vfio-user-pci`.
    pub has_vfio_user: bool,
}

impl Qemu {
    /// A command running this QEMU (add arguments).
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.prefix[0]);
        c.args(&self.prefix[1..]);
        c
    }

    /// `11.1.3` out of `QEMU emulator version 11.1.3 (Debian …)`.
    pub fn short_version(&self) -> &str {
        self.version
            .split_once("version ")
            .and_then(|(_, v)| v.split_whitespace().next())
            .unwrap_or(&self.version)
    }

    /// Probes a QEMU given by its command prefix.
    pub fn probe(prefix: Vec<OsString>, root: Option<PathBuf>) -> Result<Qemu> {
        let mut q = Qemu {
            prefix,
            root,
            version: String::new(),
            has_vfio_user: false,
        };
        let version = capture(q.command().arg("--version"))?;
        q.version = version.lines().next().unwrap_or_default().to_owned();
        let devices = capture(q.command().args(["-device", "help"]))?;
        q.has_vfio_user = devices.contains(&format!("\"{VFIO_USER_DEVICE}\""));
        Ok(q)
    }

    /// A fresh directory reachable both from the host and from QEMU (see
    /// the module docs); removed on drop.
    pub fn stage_dir(&self) -> Result<StageDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "pcidevc-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let (host, inside) = match &self.root {
            Some(root) => (root.join("tmp").join(&name), Path::new("/tmp").join(&name)),
            None => {
                let p = std::env::temp_dir().join(&name);
                (p.clone(), p)
            }
        };
        std::fs::create_dir_all(&host).with_context(|| format!("creating {}", host.display()))?;
        Ok(StageDir { host, inside })
    }
}

/// A directory shared between the host and QEMU; see [`Qemu::stage_dir`].
#[derive(Debug)]
pub struct StageDir {
    host: PathBuf,
    inside: PathBuf,
}

impl StageDir {
    /// `(host path, path as QEMU sees it)` of `name` in this directory.
    pub fn path(&self, name: &str) -> (PathBuf, PathBuf) {
        (self.host.join(name), self.inside.join(name))
    }

    /// The directory as the host sees it.
    pub fn host_dir(&self) -> &Path {
        &self.host
    }

    /// Hard-links (or copies, across filesystems) `file` into the directory
    /// as `name`; returns the path QEMU must use.
    pub fn add(&self, file: &Path, name: &str) -> Result<PathBuf> {
        let (host, inside) = self.path(name);
        let _ = std::fs::remove_file(&host);
        if std::fs::hard_link(file, &host).is_err() {
            std::fs::copy(file, &host)
                .with_context(|| format!("copying {} to {}", file.display(), host.display()))?;
        }
        Ok(inside)
    }
}

impl Drop for StageDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.host);
    }
}

/// The machine's `qemu-system-x86_64`, if installed.
pub fn system() -> Result<Option<Qemu>> {
    let found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| d.join("qemu-system-x86_64").is_file())
    });
    if !found {
        return Ok(None);
    }
    Qemu::probe(vec!["qemu-system-x86_64".into()], None).map(Some)
}

/// Options for [`provision`].
#[derive(Debug, Clone)]
pub struct QemuOptions {
    /// The cache to provision into.
    pub cache: Cache,
    /// Install missing host packages (debootstrap) with apt-get.
    pub install_packages: bool,
}

impl QemuOptions {
    /// Cache from the environment; install missing packages.
    pub fn from_env() -> Result<QemuOptions> {
        Ok(QemuOptions {
            cache: Cache::from_env()?,
            install_packages: true,
        })
    }
}

/// A QEMU with the `vfio-user-pci` client: the machine's if it has it,
/// else the cached trixie-backports root, provisioned when missing.
pub fn provision(ui: &Ui, opts: &QemuOptions) -> Result<Qemu> {
    if let Some(q) = system()?
        && q.has_vfio_user
    {
        ui.step("QEMU with vfio-user-pci", |step| {
            step.cached(format!("machine's {}", q.version));
            Ok(())
        })?;
        return Ok(q);
    }
    let cache = &opts.cache;
    let lock = cache.lock(ui)?;
    let key = Key::new()
        .with("recipe", RECIPE)
        .with("suite", QEMU_SUITE)
        .with("backports", QEMU_BACKPORTS)
        .with("package", "qemu-system-x86")
        .with("variant", "minbase");
    let dir = cache.path(format!("qemu/{QEMU_BACKPORTS}-{}", key.short_hash()));
    let root = dir.join("root");
    if cache::is_complete(&dir, &key) {
        let q = ui.step("QEMU with vfio-user-pci", |step| {
            let q = chroot_qemu(&root)?;
            step.cached(format!("{} in {}", q.version, root.display()));
            Ok(q)
        })?;
        if q.has_vfio_user {
            return Ok(q);
        }
        bail!(
            "cached QEMU in {} has no {VFIO_USER_DEVICE}; delete {} to rebuild",
            root.display(),
            dir.display()
        );
    }
    ui.step("Debian packages for the QEMU root", |step| {
        let log = cache.fresh_log("apt-install-qemu")?;
        apt::ensure_packages(step, apt::QEMU_ROOT_PACKAGES, opts.install_packages, &log)
    })?;
    if !apt::is_root() {
        bail!("provisioning the QEMU root needs root (debootstrap and chroot)");
    }
    let mirror = apt::host_mirror()?;
    let tmp = cache::tmp_sibling(&dir);
    let tmp_root = tmp.join("root");
    ui.step(&format!("debootstrap {QEMU_SUITE} (minbase)"), |step| {
        cache::remove_tree(&tmp)?;
        std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let log = cache.fresh_log("debootstrap")?;
        step.println(format!(
            "mirror {} (from the machine's apt sources)",
            mirror.uri
        ));
        run_logged(
            step,
            Command::new("debootstrap")
                .arg("--variant=minbase")
                .arg(QEMU_SUITE)
                .arg(&tmp_root)
                .arg(&mirror.uri),
            &log,
        )
        .context("debootstrap of the QEMU root")
    })?;
    ui.step(
        &format!("apt-get install -t {QEMU_BACKPORTS} qemu-system-x86"),
        |step| install_qemu(step, cache, &tmp_root, &mirror),
    )?;
    let q = chroot_qemu(&tmp_root)?;
    if !q.has_vfio_user {
        bail!(
            "{} installed in {} has no {VFIO_USER_DEVICE}",
            q.version,
            tmp_root.display()
        );
    }
    cache::write_stamp(&tmp, &key)?;
    cache::remove_tree(&dir)?;
    std::fs::rename(&tmp, &dir)
        .with_context(|| format!("moving {} to {}", tmp.display(), dir.display()))?;
    drop(lock);
    chroot_qemu(&root)
}

fn install_qemu(step: &Step, cache: &Cache, root: &Path, mirror: &apt::Mirror) -> Result<()> {
    let list = root.join("etc/apt/sources.list.d/backports.list");
    std::fs::write(&list, format!("deb {} {QEMU_BACKPORTS} main\n", mirror.uri))
        .with_context(|| format!("writing {}", list.display()))?;
    let log = cache.fresh_log("qemu-install")?;
    let chroot_apt = |args: &[&str]| {
        let mut c = Command::new("chroot");
        c.arg(root)
            .arg("apt-get")
            .args(["-q", "-y"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        c
    };
    run_logged(step, &mut chroot_apt(&["update"]), &log)?;
    run_logged(
        step,
        &mut chroot_apt(&[
            "install",
            "--no-install-recommends",
            "-t",
            QEMU_BACKPORTS,
            "qemu-system-x86",
        ]),
        &log,
    )
    .context("installing qemu-system-x86 in the QEMU root")?;
    run_logged(step, &mut chroot_apt(&["clean"]), &log)?;
    Ok(())
}

fn chroot_qemu(root: &Path) -> Result<Qemu> {
    Qemu::probe(
        vec![
            "chroot".into(),
            root.as_os_str().to_owned(),
            "/usr/bin/qemu-system-x86_64".into(),
        ],
        Some(root.to_owned()),
    )
    .with_context(|| {
        format!(
            "running QEMU in the chroot {} (chroot needs root)",
            root.display()
        )
    })
}

/// One TCG boot of a kernel and initramfs.
#[derive(Debug, Clone)]
pub struct Boot {
    /// Kernel image (bzImage), host path.
    pub kernel: PathBuf,
    /// Initramfs, host path.
    pub initrd: PathBuf,
    /// Extra kernel command line, appended to `console=ttyS0 panic=-1 …`.
    pub append: String,
    /// Extra QEMU arguments (devices, objects); paths in them must be QEMU
    /// paths (see [`Qemu::stage_dir`]).
    pub extra_args: Vec<OsString>,
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// Back guest RAM with a shared memfd (`memory-backend-memfd,share=on`),
    /// which vfio-user servers need to map guest memory for DMA.
    pub shared_memory: bool,
    /// Kill QEMU after this long.
    pub timeout: Duration,
    /// Stream the console to stderr while the guest runs.
    pub echo: bool,
    /// Pass `-no-reboot` (a guest reboot or reset request ends QEMU). Off
    /// for tests that must see the guest boot a second time.
    pub no_reboot: bool,
    /// End the boot (QEMU is killed) once the console holds this text this
    /// many times, e.g. a second boot's first line.
    pub stop_when: Option<(String, usize)>,
}

impl Boot {
    /// A boot with 256 MiB, no extra devices, a 120 s timeout, console
    /// echoed.
    pub fn new(kernel: impl Into<PathBuf>, initrd: impl Into<PathBuf>) -> Boot {
        Boot {
            kernel: kernel.into(),
            initrd: initrd.into(),
            append: String::new(),
            extra_args: Vec::new(),
            memory_mib: 256,
            shared_memory: false,
            timeout: Duration::from_secs(120),
            echo: true,
            no_reboot: true,
            stop_when: None,
        }
    }

    /// Adds QEMU arguments.
    pub fn args<I, S>(mut self, args: I) -> Boot
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.extra_args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// The full QEMU command for kernel/initrd at the given QEMU paths.
    pub fn command(&self, qemu: &Qemu, kernel: &Path, initrd: &Path) -> Command {
        let mut c = qemu.command();
        let machine = if self.shared_memory {
            "q35,memory-backend=mem"
        } else {
            "q35"
        };
        c.args([
            "-machine", machine, "-accel", "tcg", "-cpu", "max", "-smp", "1",
        ]);
        if self.shared_memory {
            c.args([
                "-object",
                &format!(
                    "memory-backend-memfd,id=mem,size={}M,share=on",
                    self.memory_mib
                ),
            ]);
        }
        c.args(["-m", &format!("{}M", self.memory_mib)]);
        c.args([
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-serial",
            "stdio",
            "-monitor",
            "none",
        ]);
        if self.no_reboot {
            c.arg("-no-reboot");
        }
        c.arg("-kernel").arg(kernel).arg("-initrd").arg(initrd);
        let mut append = String::from("console=ttyS0 panic=-1 loglevel=7 rdinit=/init");
        if !self.append.is_empty() {
            append.push(' ');
            append.push_str(&self.append);
        }
        c.arg("-append").arg(append);
        c.args(&self.extra_args);
        c
    }

    /// Boots and waits for QEMU to exit or the timeout; QEMU is killed on
    /// every path. Errors only when QEMU cannot be started; guest failures
    /// are reported in the [`BootResult`].
    pub fn run(&self, qemu: &Qemu) -> Result<BootResult> {
        let stage = qemu.stage_dir()?;
        let kernel = stage.add(&self.kernel, "bzImage")?;
        let initrd = stage.add(&self.initrd, "initramfs.cpio.gz")?;
        let mut cmd = self.command(qemu, &kernel, &initrd);
        let shown = crate::exec::display(&cmd);
        let started = Instant::now();
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches
        // no memory of the parent; it makes the kernel kill QEMU if this
        // thread dies without running the drop guard (e.g. SIGINT, SIGKILL).
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start QEMU: `{shown}`"))?;
        let mut guard = KillOnDrop(Some(child));
        let Some(child) = guard.0.as_mut() else {
            bail!("QEMU child vanished");
        };

        let console = Arc::new(Mutex::new(Vec::<u8>::new()));
        let result_seen = Arc::new(AtomicBool::new(false));
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let echo = self.echo;
        let out_thread = stdout.map(|s| {
            let console = Arc::clone(&console);
            let seen = Arc::clone(&result_seen);
            std::thread::spawn(move || pump(s, &console, echo, Some(&seen)))
        });
        let qemu_err = Arc::new(Mutex::new(Vec::<u8>::new()));
        let err_thread = stderr.map(|s| {
            let buf = Arc::clone(&qemu_err);
            std::thread::spawn(move || pump(s, &buf, echo, None))
        });

        // After the result line, give the guest this long to power off.
        const GRACE: Duration = Duration::from_secs(10);
        let mut timed_out = false;
        let mut result_at: Option<Instant> = None;
        let status = loop {
            if let Some(st) = child.try_wait().context("waiting for QEMU")? {
                break Some(st);
            }
            if result_seen.load(Ordering::Relaxed) {
                let at = *result_at.get_or_insert_with(Instant::now);
                if at.elapsed() > GRACE {
                    break None;
                }
            }
            if let Some((text, times)) = &self.stop_when
                && console
                    .lock()
                    .map(|v| count_occurrences(&v, text.as_bytes()) >= *times)
                    .unwrap_or(false)
            {
                break None;
            }
            if started.elapsed() > self.timeout {
                timed_out = true;
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = started.elapsed();
        drop(guard); // kills QEMU if still running and reaps it
        // The pipes close when QEMU is gone; a grandchild that inherited them
        // must not keep us waiting, so stop waiting for the readers after a
        // moment (they only append to the buffers).
        let readers: Vec<_> = [out_thread, err_thread].into_iter().flatten().collect();
        let deadline = Instant::now() + Duration::from_secs(2);
        while readers.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        for t in readers {
            if t.is_finished() {
                let _ = t.join();
            }
        }
        let text = |b: &Arc<Mutex<Vec<u8>>>| {
            b.lock()
                .map(|v| String::from_utf8_lossy(&v).replace('\r', ""))
                .unwrap_or_default()
        };
        let console = text(&console);
        let outcome = Outcome::parse(&console);
        Ok(BootResult {
            outcome,
            console,
            qemu_stderr: text(&qemu_err),
            exit: status,
            timed_out,
            elapsed,
            command: shown,
        })
    }
}

/// How many times `needle` occurs in `hay` (non-overlapping).
pub fn count_occurrences(hay: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    let (mut n, mut i) = (0, 0);
    while i + needle.len() <= hay.len() {
        if &hay[i..i + needle.len()] == needle {
            n += 1;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    n
}

fn pump(mut src: impl Read, sink: &Mutex<Vec<u8>>, echo: bool, result_seen: Option<&AtomicBool>) {
    let mut buf = [0u8; 4096];
    loop {
        match src.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if echo {
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(&buf[..n]);
                    let _ = err.flush();
                }
                if let Ok(mut v) = sink.lock() {
                    v.extend_from_slice(&buf[..n]);
                    if let Some(flag) = result_seen {
                        let tail = &v[v.len().saturating_sub(n + 64)..];
                        if String::from_utf8_lossy(tail).contains(crate::initramfs::RESULT_MARKER) {
                            flag.store(true, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
    }
}

/// Kills and reaps the child when dropped (success, error, panic).
struct KillOnDrop(Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// What a boot produced.
#[derive(Debug, Clone)]
pub struct BootResult {
    /// The guest's reported outcome.
    pub outcome: Outcome,
    /// Everything the guest printed on its serial console (`\r` removed).
    pub console: String,
    /// QEMU's own stderr.
    pub qemu_stderr: String,
    /// QEMU's exit status, `None` when it had to be killed.
    pub exit: Option<ExitStatus>,
    /// Whether the timeout expired.
    pub timed_out: bool,
    /// Wall-clock time from start to exit or kill.
    pub elapsed: Duration,
    /// The QEMU command line.
    pub command: String,
}

impl BootResult {
    /// `Ok` when the guest passed; otherwise an error with the outcome, the
    /// last console lines and QEMU's stderr.
    pub fn ensure_passed(&self) -> Result<()> {
        if self.outcome.passed() {
            return Ok(());
        }
        let why = match (&self.outcome, self.timed_out) {
            (Outcome::Fail(r), _) => format!("guest reported failure: {r}"),
            (_, true) => format!("timed out after {:.1}s", self.elapsed.as_secs_f64()),
            _ => format!(
                "guest ended without a result line (QEMU exit: {:?})",
                self.exit
            ),
        };
        let lines: Vec<&str> = self.console.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        bail!(
            "{why}\n--- console (last 40 lines) ---\n{tail}\n--- QEMU stderr ---\n{}\n--- command ---\n{}",
            self.qemu_stderr.trim_end(),
            self.command
        )
    }

    /// Guest time at the last printk timestamp (`[   1.234567]`), if any.
    pub fn guest_uptime(&self) -> Option<f64> {
        self.console
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                let inner = l.strip_prefix('[')?.split_once(']')?.0;
                inner.trim().parse::<f64>().ok()
            })
            .next_back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_command_has_tcg_console_and_no_reboot() {
        let q = Qemu {
            prefix: vec!["qemu-system-x86_64".into()],
            root: None,
            version: String::new(),
            has_vfio_user: false,
        };
        let mut b = Boot::new("/k", "/i");
        b.append = "foo=1".into();
        b.shared_memory = true;
        let b = b.args(["-device", "pci-testdev"]);
        let c = crate::exec::display(&b.command(&q, Path::new("/k"), Path::new("/i")));
        for want in [
            "-accel tcg",
            "-no-reboot",
            "-serial stdio",
            "q35,memory-backend=mem",
            "memory-backend-memfd,id=mem,size=256M,share=on",
            "'console=ttyS0 panic=-1 loglevel=7 rdinit=/init foo=1'",
            "-device pci-testdev",
        ] {
            assert!(c.contains(want), "{want} not in {c}");
        }
    }

    #[test]
    fn stage_dir_maps_paths_into_the_chroot() {
        let root = std::env::temp_dir().join(format!("xtask-stage-{}", std::process::id()));
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let q = Qemu {
            prefix: vec!["true".into()],
            root: Some(root.clone()),
            version: String::new(),
            has_vfio_user: true,
        };
        let src = root.join("file");
        std::fs::write(&src, b"k").unwrap();
        let host_dir;
        {
            let stage = q.stage_dir().unwrap();
            host_dir = stage.host_dir().to_owned();
            let inside = stage.add(&src, "bzImage").unwrap();
            assert!(inside.to_string_lossy().starts_with("/tmp/pcidevc-"));
            let (h, i) = stage.path("x.sock");
            assert_eq!(h, root.join(i.strip_prefix("/").unwrap()));
            assert_eq!(
                std::fs::read(root.join(inside.strip_prefix("/").unwrap())).unwrap(),
                b"k"
            );
        }
        assert!(!host_dir.exists(), "stage dir removed on drop");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn reboots_can_be_allowed() {
        let q = Qemu {
            prefix: vec!["qemu-system-x86_64".into()],
            root: None,
            version: String::new(),
            has_vfio_user: false,
        };
        let mut b = Boot::new("/k", "/i");
        let with = crate::exec::display(&b.command(&q, Path::new("/k"), Path::new("/i")));
        assert!(with.contains("-no-reboot"), "{with}");
        b.no_reboot = false;
        let without = crate::exec::display(&b.command(&q, Path::new("/k"), Path::new("/i")));
        assert!(!without.contains("-no-reboot"), "{without}");
        assert_eq!(count_occurrences(b"a boot, a boot", b"boot"), 2);
        assert_eq!(count_occurrences(b"aaa", b"aa"), 1);
        assert_eq!(count_occurrences(b"x", b""), 0);
    }

    #[test]
    fn stop_when_ends_the_boot_at_the_nth_occurrence() {
        let q = Qemu {
            prefix: vec![
                "sh".into(),
                "-c".into(),
                "echo 'Linux version 1'; echo 'Linux version 2'; sleep 30".into(),
            ],
            root: None,
            version: String::new(),
            has_vfio_user: false,
        };
        let dir = std::env::temp_dir().join(format!("xtask-boot3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("k"), b"").unwrap();
        std::fs::write(dir.join("i"), b"").unwrap();
        let mut b = Boot::new(dir.join("k"), dir.join("i"));
        b.echo = false;
        b.stop_when = Some(("Linux version".into(), 2));
        let r = b.run(&q).unwrap();
        assert!(!r.timed_out);
        assert!(r.elapsed < Duration::from_secs(10), "{:?}", r.elapsed);
        assert_eq!(count_occurrences(r.console.as_bytes(), b"Linux version"), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn timeout_kills_the_process() {
        // A stand-in "QEMU" that ignores its arguments and sleeps.
        let q = Qemu {
            prefix: vec!["sh".into(), "-c".into(), "echo booting; sleep 30".into()],
            root: None,
            version: String::new(),
            has_vfio_user: false,
        };
        let dir = std::env::temp_dir().join(format!("xtask-boot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("k"), b"").unwrap();
        std::fs::write(dir.join("i"), b"").unwrap();
        let mut b = Boot::new(dir.join("k"), dir.join("i"));
        b.timeout = Duration::from_millis(500);
        b.echo = false;
        let r = b.run(&q).unwrap();
        assert!(r.timed_out);
        assert!(r.elapsed < Duration::from_secs(5));
        assert_eq!(r.outcome, Outcome::NoResult);
        assert!(r.console.contains("booting"));
        assert!(r.ensure_passed().is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn result_line_ends_the_wait() {
        let q = Qemu {
            prefix: vec![
                "sh".into(),
                "-c".into(),
                "echo 'PCIDEVC-RESULT: pass'; exit 0".into(),
            ],
            root: None,
            version: String::new(),
            has_vfio_user: false,
        };
        let dir = std::env::temp_dir().join(format!("xtask-boot2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("k"), b"").unwrap();
        std::fs::write(dir.join("i"), b"").unwrap();
        let mut b = Boot::new(dir.join("k"), dir.join("i"));
        b.echo = false;
        let r = b.run(&q).unwrap();
        assert_eq!(r.outcome, Outcome::Pass);
        assert!(!r.timed_out);
        r.ensure_passed().unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
