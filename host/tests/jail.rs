//! The `pcidev-host` binary in its jail (`pcidev_host::jail`): the seccomp
//! filter is on by default, so everything here runs under it. A forbidden
//! system call kills the host with SIGSYS; the traffic a VMM sends (DMA
//! maps of memfds, INTx and MSI eventfds, resets, unmaps, mmap-able windows)
//! and hostile client byte streams are served without tripping it; `--user`
//! drops root for good.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use pcidev_host::toy::{TOY_ID, reg};
use pcidev_runtime::{COMMAND_BUS_MASTER, COMMAND_MEMORY_SPACE, MSI_CAP_OFFSET, random_bytes};
use proptest::prelude::*;
use rustix::fs::{MemfdFlags, memfd_create};
use vfio_bindings::bindings::vfio::{
    VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_EVENTFD,
    VFIO_IRQ_SET_DATA_NONE,
};
use vfio_user::Client;

mod common;
use common::client::{CONFIG, new_eventfd, read32, signals, write32};
use common::process::{host, wait_for};

/// A host serving on a fresh socket, waited for until it listens.
struct Host {
    _dir: tempfile::TempDir,
    sock: PathBuf,
    child: Child,
}

impl Host {
    fn start(args: &[&str]) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("dev.sock");
        let mut child = host()
            .arg("--socket")
            .arg(&sock)
            .args(args)
            .spawn()
            .unwrap();
        wait_for(&sock, &mut child, Duration::from_secs(10));
        Host {
            _dir: dir,
            sock,
            child,
        }
    }

    /// Wait (at most 20 s) for the host to exit: its status and log.
    fn finish(mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("pcidev-host did not exit");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = self.child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!self.sock.exists(), "socket left behind");
        (out.status, log)
    }
}

#[test]
fn a_forbidden_system_call_kills_the_host_with_sigsys() {
    let host = Host::start(&["--debug-forbidden-syscall", "toy"]);
    // The filter goes on once a client is accepted.
    let _client = UnixStream::connect(&host.sock).unwrap();
    let (status, log) = host.finish();
    assert_eq!(status.signal(), Some(libc::SIGSYS), "{status:?}\n{log}");
    assert!(log.contains("seccomp filter installed"), "{log}");
    assert!(log.contains("making a forbidden system call"), "{log}");

    // Without the filter the same call returns, and the host says so.
    let host = Host::start(&["--no-seccomp", "--debug-forbidden-syscall", "toy"]);
    let _client = UnixStream::connect(&host.sock).unwrap();
    let (status, log) = host.finish();
    assert_eq!(status.code(), Some(1), "{status:?}\n{log}");
    assert!(log.contains("no seccomp filter stopped it"), "{log}");
}

#[test]
fn a_vmm_s_traffic_is_served_under_the_filter() {
    const IOVA: u64 = 0x10_0000;
    let host = Host::start(&["toy"]);
    let mut client = Client::new(&host.sock).unwrap();
    client
        .region_write(CONFIG, 4, &COMMAND_MEMORY_SPACE.to_le_bytes())
        .unwrap();
    assert_eq!(read32(&mut client, 0, reg::ID), TOY_ID);

    // DMA into a mapped memfd.
    let memfd = File::from(memfd_create("guest-ram", MemfdFlags::CLOEXEC).unwrap());
    memfd.set_len(0x4000).unwrap();
    client
        .dma_map(0x1000, IOVA, 0x2000, memfd.as_raw_fd())
        .unwrap();
    client
        .region_write(
            CONFIG,
            4,
            &(COMMAND_MEMORY_SPACE | COMMAND_BUS_MASTER).to_le_bytes(),
        )
        .unwrap();
    write32(&mut client, 0, reg::DMA_ADDR_LO, (IOVA + 0x80) as u32);
    write32(&mut client, 0, reg::DMA_ADDR_HI, 0);
    write32(&mut client, 0, reg::DMA_LEN, 0x100);
    write32(&mut client, 0, reg::DMA_GO, 42);
    assert_eq!(read32(&mut client, 0, reg::DMA_STATUS), 1);
    let mut landed = vec![0; 0x100];
    use std::os::unix::fs::FileExt;
    memfd.read_exact_at(&mut landed, 0x1080).unwrap();
    assert_eq!(landed, random_bytes(42, 0x100));

    // INTx and MSI over eventfds.
    let intx = new_eventfd();
    let trigger = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
    client
        .set_irqs(0, trigger, 0, 1, &[intx.as_raw_fd()])
        .unwrap();
    write32(&mut client, 0, reg::IRQ, 1);
    assert_eq!(signals(&intx), 1);
    write32(&mut client, 0, reg::IRQ, 0);
    client
        .set_irqs(
            0,
            VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE,
            0,
            1,
            &[],
        )
        .unwrap();
    let cap = u64::from(MSI_CAP_OFFSET);
    write32(&mut client, CONFIG, cap + 4, 0xfee0_0000);
    write32(&mut client, CONFIG, cap + 8, 0);
    client
        .region_write(CONFIG, cap + 0xc, &0x4041u16.to_le_bytes())
        .unwrap();
    client
        .region_write(
            CONFIG,
            cap + 2,
            &pcidev_runtime::MSI_CONTROL_ENABLE.to_le_bytes(),
        )
        .unwrap();
    let msi = new_eventfd();
    client
        .set_irqs(1, trigger, 0, 1, &[msi.as_raw_fd()])
        .unwrap();
    write32(&mut client, 0, reg::MSI_GO, 0);
    assert_eq!(signals(&msi), 1);

    // Reset, unmap, disconnect.
    client.reset().unwrap();
    client.dma_unmap(IOVA, 0x2000).unwrap();
    drop(client);
    let (status, log) = host.finish();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("seccomp filter installed"), "{log}");
}

#[test]
fn mmap_able_windows_timers_and_streams_are_served_under_the_filter() {
    // ivshmem_plain: its BAR is a memfd made once the client is accepted,
    // after the filter is on.
    let host = Host::start(&["ivshmem_plain"]);
    let mut client = Client::new(&host.sock).unwrap();
    client
        .region_write(CONFIG, 4, &COMMAND_MEMORY_SPACE.to_le_bytes())
        .unwrap();
    write32(&mut client, 2, 0x40, 0x1234_5678);
    assert_eq!(read32(&mut client, 2, 0x40), 0x1234_5678);
    drop(client);
    let (status, log) = host.finish();
    assert!(status.success(), "{status:?}\n{log}");

    // pci_serial, interpreted: a stream on a Unix socket and the event
    // thread's timerfd and poll.
    let dir = tempfile::tempdir().unwrap();
    let peer_path = dir.path().join("serial.sock");
    let listener = std::os::unix::net::UnixListener::bind(&peer_path).unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/pci_serial.pcidev");
    let stream_arg = format!("line=unix:{}", peer_path.display());
    let host = Host::start(&["--stream", &stream_arg, "--spec", spec.to_str().unwrap()]);
    let (mut peer, _) = listener.accept().unwrap();
    let client = Client::new(&host.sock);
    let mut client = client.unwrap();
    client.region_write(CONFIG, 4, &1u16.to_le_bytes()).unwrap();
    // THR: one byte out to the peer.
    client.region_write(0, 0, b"J").unwrap();
    let mut got = [0u8; 1];
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"J");
    peer.write_all(b"x").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    drop(client);
    let (status, log) = host.finish();
    assert!(status.success(), "{status:?}\n{log}");
}

#[test]
fn user_drops_root_for_good_or_is_refused() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        let host = Host::start(&["--user", "nobody", "toy"]);
        let mut client = Client::new(&host.sock).unwrap();
        client
            .region_write(CONFIG, 4, &COMMAND_MEMORY_SPACE.to_le_bytes())
            .unwrap();
        assert_eq!(read32(&mut client, 0, reg::ID), TOY_ID);
        let status = std::fs::read_to_string(format!("/proc/{}/status", host.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_default()
                .split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
        };
        assert_eq!(field("Uid:"), ["65534"; 4], "{status}");
        assert_eq!(field("Gid:"), ["65534"; 4], "{status}");
        assert_eq!(field("Groups:"), Vec::<&str>::new(), "{status}");
        assert_eq!(field("Seccomp:"), ["2"], "{status}");
        assert_eq!(field("NoNewPrivs:"), ["1"], "{status}");
        drop(client);
        let (status, log) = host.finish();
        assert!(status.success(), "{status:?}\n{log}");
        assert!(log.contains("serving as uid 65534"), "{log}");
    } else {
        // Unprivileged: switching to another user is refused, clearly.
        let host = Host::start(&["--user", "root", "toy"]);
        let _client = UnixStream::connect(&host.sock).unwrap();
        let (status, log) = host.finish();
        assert_eq!(status.code(), Some(1), "{log}");
        assert!(log.contains("setgroups"), "{log}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_pcidev-host"))
        .args([
            "--socket",
            "/nonexistent/x",
            "--user",
            "no-such-user-pcidev",
            "toy",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no such user"),
        "{out:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Hostile byte streams end the connection, never in SIGSYS.
    #[test]
    fn hostile_streams_never_trip_the_filter(
        messages in proptest::collection::vec(common::hostile::message(), 1..12)
    ) {
        let host = Host::start(&["toy"]);
        let mut stream = UnixStream::connect(&host.sock).unwrap();
        let mut reader = stream.try_clone().unwrap();
        let drain = std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        for msg in &messages {
            if stream.write_all(msg).is_err() {
                break;
            }
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let (status, log) = host.finish();
        drain.join().unwrap();
        prop_assert_eq!(status.signal(), None, "{}", log);
        prop_assert!(status.code() == Some(0) || status.code() == Some(1), "{}", log);
    }
}
