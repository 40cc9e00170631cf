//! `pcidev-host`: serve one device model to one vfio-user client: a model
//! compiled into this build (by name), or any spec file through the IR
//! interpreter (`--spec`, no Rust compiled; the same behaviour as the
//! spec's generated model, see `pcidev-interp`).
//!
//! ```text
//! pcidev-host --socket /tmp/dev.sock [--trace trace.jsonl]
//!             [--stream NAME=BACKEND]... [--qmp /tmp/qmp.sock]
//!             [--snapshot PATH] [--restore PATH] MODEL
//! pcidev-host --socket /tmp/dev.sock [--trace trace.jsonl]
//!             [--stream NAME=BACKEND]... [--qmp /tmp/qmp.sock]
//!             [--snapshot PATH] [--restore PATH] --spec FILE.pcidev
//! pcidev-host --list
//! ```
//!
//! Jail: with `--user NAME|UID` the host opens everything it needs (model,
//! trace, stream backends, socket), accepts its client, removes the socket
//! file and connects QMP as whoever started it, then becomes that user for
//! good; either way it then installs a seccomp filter (unless
//! `--no-seccomp`) before reading the client's first byte. A system call
//! outside the filter's allowlist kills it with SIGSYS. See
//! `pcidev_host::jail`.
//! With `--snapshot PATH`, each SIGUSR1 saves the model's state to PATH
//! (while a client is connected; written to `PATH.tmp` and renamed);
//! `--restore PATH` starts the model from such a snapshot, which must be
//! of the same device and layout (see `pcidev_host::snapshot` and the
//! README's "Snapshots").
//!
//! With `--spec`, hooks this build links Rust for (`registry::LINKED_HOOKS`)
//! run it; every other hook answers 0 and is reported once.
//!
//! The model's timers run on the host's monotonic clock. Each of its
//! streams goes to the backend `--stream` names (`null`, `stdio`,
//! `file:PATH`, `unix:PATH`, `pty[:LINK]`; default `null`, see
//! `pcidev_host::streams`).
//! With `--qmp`, the model's VMM requests (reset, power off, stop, panic)
//! are carried out on QEMU's QMP socket (`-qmp unix:PATH,server=on,wait=off`);
//! without it they are only logged.
//!
//! QEMU attaches with `-device '{"driver":"vfio-user-pci","socket":
//! {"path":"/tmp/dev.sock","type":"unix"}}'` (guest RAM must be shared
//! memfd memory for DMA: `-object memory-backend-memfd,id=mem,size=…,
//! share=on -machine memory-backend=mem`).
//!
//! Exit status: 0 when the client disconnected, 1 when the connection or
//! setup failed (malformed message, I/O error, unknown model, socket in
//! use), 128 + signal number on SIGINT/SIGTERM. The socket file is removed
//! in every case. Log verbosity follows `RUST_LOG` (default `info`).

use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pcidev_host::events::Outside;
use pcidev_host::streams::StreamArg;
use pcidev_host::{DeviceServer, registry, snapshot};
use pcidev_runtime::{JsonLinesTrace, PciModel};
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

/// Serve a device model to QEMU's vfio-user-pci.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Unix socket to listen on (replaced if it is a stale socket).
    #[arg(long, required_unless_present = "list")]
    socket: Option<PathBuf>,
    /// Write the model's trace here, one JSON object per line.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Stop the trace (on a line boundary) before it exceeds this many
    /// bytes, so a guest cannot fill the disk; later events are dropped.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    trace_limit: u64,
    /// Connect the model's stream NAME to BACKEND: null, stdio, file:PATH
    /// (output appended), unix:PATH (a listening socket), pty or pty:LINK
    /// (a new raw pseudo-terminal, its path logged; LINK a symlink to it);
    /// repeatable.
    #[arg(long = "stream", value_name = "NAME=BACKEND")]
    streams: Vec<StreamArg>,
    /// QEMU's QMP socket, to carry out the model's VMM requests.
    #[arg(long, value_name = "PATH")]
    qmp: Option<PathBuf>,
    /// Serve every window over the socket instead of offering the
    /// qualifying ones as mmap-able memory (every access traced; slower).
    #[arg(long)]
    no_window_mmap: bool,
    /// Serve as this user (a name or a numeric uid) once the socket, trace
    /// and stream backends are open and the client is accepted: no
    /// supplementary groups, the user's group, no way back.
    #[arg(long, value_name = "NAME|UID")]
    user: Option<pcidev_host::jail::User>,
    /// Serve without the seccomp filter (for debugging: a system call
    /// outside its allowlist would otherwise kill the host with SIGSYS).
    #[arg(long)]
    no_seccomp: bool,
    /// Test hook: make a system call the filter forbids once it is
    /// installed (the host must die by SIGSYS).
    #[arg(long, hide = true)]
    debug_forbidden_syscall: bool,
    /// On each SIGUSR1 (while a client is connected), save the model's
    /// state to PATH (a JSON snapshot; replaced atomically).
    #[arg(long, value_name = "PATH")]
    snapshot: Option<PathBuf>,
    /// Start the model from the snapshot at PATH (taken with --snapshot
    /// from the same device and spec version; refused otherwise).
    #[arg(long, value_name = "PATH")]
    restore: Option<PathBuf>,
    /// List the models this build can serve, then exit.
    #[arg(long)]
    list: bool,
    /// Serve this spec file through the interpreter instead of a
    /// compiled-in model.
    #[arg(long, value_name = "FILE", conflicts_with = "model")]
    spec: Option<PathBuf>,
    /// The model to serve (see --list).
    #[arg(required_unless_present_any = ["list", "spec"])]
    model: Option<String>,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = Args::parse();
    if args.list {
        for m in registry::MODELS {
            println!("{:<16} {}", m.name, m.description);
        }
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// The model to serve and its name: a registered one, or the spec file
/// through the interpreter.
fn build_model(args: &Args) -> Result<(Box<dyn PciModel>, String), String> {
    if let Some(path) = &args.spec {
        let spec = pcidev_interp::Spec::load(path)
            .map_err(|e| format!("{} does not compile:\n{e}", path.display()))?;
        let (hooks, lines) = registry::spec_hooks(&spec.device);
        for line in lines {
            log::info!("{}: {line}", spec.name());
        }
        let name = format!("{} (interpreted from {})", spec.name(), path.display());
        return Ok((Box::new(spec.model(Box::new(hooks))), name));
    }
    let Some(name) = &args.model else {
        return Err("a model or --spec is required".into());
    };
    let entry = registry::find(name).ok_or_else(|| {
        let known: Vec<_> = registry::MODELS.iter().map(|m| m.name).collect();
        format!("unknown model {name:?} (known: {})", known.join(", "))
    })?;
    Ok(((entry.build)(), entry.name.to_owned()))
}

/// Drop privileges (`--user`) and install the seccomp filter (unless
/// `--no-seccomp`); see `pcidev_host::jail`.
fn jail(args: &Args) -> Result<(), String> {
    use pcidev_host::jail;
    if let Some(user) = &args.user {
        jail::drop_privileges(user)?;
        log::info!("serving as uid {} gid {}", user.uid, user.gid);
    }
    if args.no_seccomp {
        log::warn!("--no-seccomp: serving without the seccomp filter");
    } else {
        let n = jail::install_seccomp(args.snapshot.is_some())?;
        log::info!("seccomp filter installed: {n} system calls allowed");
    }
    if args.debug_forbidden_syscall {
        log::warn!("--debug-forbidden-syscall: making a forbidden system call");
        jail::forbidden_syscall();
        return Err("the forbidden system call returned: no seccomp filter stopped it".into());
    }
    Ok(())
}

fn run(args: &Args) -> Result<(), String> {
    let Some(socket) = &args.socket else {
        return Err("a socket is required".into());
    };
    let (mut model, name) = build_model(args)?;
    if let Some(path) = &args.restore {
        snapshot::restore_from_file(model.as_mut(), path)?;
        log::info!(
            "{name}: restored from {} (clock at {} ns)",
            path.display(),
            model.now()
        );
    }
    let mut outside = Outside::open(model.streams(), &args.streams, args.qmp.clone())?;
    if let Some(path) = &args.snapshot {
        let trigger = snapshot::SnapshotOnSignal::register(SIGUSR1, path.clone())
            .map_err(|e| format!("--snapshot: SIGUSR1 handler: {e}"))?;
        outside = outside.with_snapshot(trigger);
    }
    if let Some(path) = &args.trace {
        let file = File::create(path).map_err(|e| format!("trace {}: {e}", path.display()))?;
        model.set_trace(Some(Box::new(JsonLinesTrace::with_limit(
            file,
            args.trace_limit,
        ))));
    }

    // Signals are caught before the socket exists, so there is no moment in
    // which SIGINT/SIGTERM could leave it behind.
    let mut signals =
        Signals::new([SIGINT, SIGTERM]).map_err(|e| format!("signal handlers: {e}"))?;
    let server = DeviceServer::bind(socket)
        .map_err(|e| e.to_string())?
        .map_windows(!args.no_window_mmap);
    let cleanup = server.cleanup();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            cleanup.remove();
            log::info!("signal {signal}: socket removed, exiting");
            std::process::exit(128 + signal);
        }
    });

    log::info!(
        "{}: waiting for a vfio-user client on {}",
        name,
        socket.display()
    );
    let connection = server.accept().map_err(|e| e.to_string())?;
    let mut outside = outside;
    // As whoever started the host: QEMU's QMP socket is QEMU's (its owner
    // only, typically), and it exists by the time QEMU connects to us.
    outside.open_qmp();
    jail(args)?;
    let done = connection
        .serve_with(model.as_mut(), Some(outside))
        .map_err(|e| e.to_string())?;
    let s = done.stats;
    log::info!(
        "client disconnected: {} config and {} BAR accesses ({} rejected by the model), \
         {} DMA maps, {} unmaps, {} resets, {} INTx and {} MSI signals",
        s.config_accesses,
        s.bar_accesses,
        s.access_errors,
        s.dma_maps,
        s.dma_unmaps,
        s.resets,
        s.irq.intx_signals,
        s.irq.msi_signals
    );
    Ok(())
}
