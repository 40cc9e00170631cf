//! The `pcidev-host` binary: serving a registered model, the trace file, the
//! socket file's removal on disconnect and on SIGTERM, and refusals.

use std::path::Path;
use std::time::{Duration, Instant};

use pcidev_host::toy::{TOY_ID, reg};
use rustix::process::{Pid, Signal, kill_process};
use vfio_user::Client;

mod common;
use common::process::{host, wait_for};

#[test]
fn serves_toy_and_writes_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("toy.sock");
    let trace = dir.path().join("trace.jsonl");
    let mut child = host()
        .arg("--socket")
        .arg(&sock)
        .arg("--trace")
        .arg(&trace)
        .arg("toy")
        .spawn()
        .unwrap();
    wait_for(&sock, &mut child, Duration::from_secs(10));
    let mut client = Client::new(&sock).unwrap();
    client.region_write(7, 4, &2u16.to_le_bytes()).unwrap();
    let mut id = [0; 4];
    client.region_read(0, reg::ID, &mut id).unwrap();
    assert_eq!(u32::from_le_bytes(id), TOY_ID);
    drop(client);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(!sock.exists());
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(
        trace
            .lines()
            .any(|l| l.contains("\"BarRead\"") && l.contains(&TOY_ID.to_string())),
        "{trace}"
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("client disconnected"), "{log}");
}

#[test]
fn sigterm_removes_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("toy.sock");
    let mut child = host()
        .arg("--socket")
        .arg(&sock)
        .arg("toy")
        .spawn()
        .unwrap();
    wait_for(&sock, &mut child, Duration::from_secs(10));
    let pid = Pid::from_child(&child);
    kill_process(pid, Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15));
    assert!(!sock.exists());
}

#[test]
fn malformed_client_fails_the_run_and_removes_the_socket() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("toy.sock");
    let mut child = host()
        .arg("--socket")
        .arg(&sock)
        .arg("toy")
        .spawn()
        .unwrap();
    wait_for(&sock, &mut child, Duration::from_secs(10));
    let mut stream = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    stream.write_all(&[0u8; 16]).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!sock.exists());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("malformed message"), "{log}");
}

#[test]
fn refuses_unknown_models_and_occupied_paths() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("x.sock");
    let out = host()
        .arg("--socket")
        .arg(&sock)
        .arg("no-such-model")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "known: edu, hello_tic, i6300esb, ivshmem_doorbell, ivshmem_plain, pci_serial, pci_testdev, pvpanic_pci, toy"
    ));
    assert!(!sock.exists());

    std::fs::write(&sock, b"keep").unwrap();
    let out = host()
        .arg("--socket")
        .arg(&sock)
        .arg("toy")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&sock).unwrap(), b"keep");
}

#[test]
fn lists_models() {
    let out = host().arg("--list").output().unwrap();
    assert!(out.status.success());
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let names: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "edu",
            "hello_tic",
            "i6300esb",
            "ivshmem_doorbell",
            "ivshmem_plain",
            "pci_serial",
            "pci_testdev",
            "pvpanic_pci",
            "toy"
        ],
        "{listed}"
    );
}

/// A spec that lives only in a temporary directory, served through the
/// interpreter: no Rust compiled, no repository file involved.
const TEMP_SPEC: &str = r#"
device scratchpad {
    id 0x1234:0xbeef;
    bar 0 mem32 size 64 {
        register ID @ 0x0 : u32 ro = 0xc0ffee;
        register DATA @ 0x4 : u32 rw = 0;
        register TWICE @ 0x8 : u32 { read DATA * 2; }
    }
}
"#;

#[test]
fn serves_a_spec_file_through_the_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("scratchpad.pcidev");
    std::fs::write(&spec, TEMP_SPEC).unwrap();
    let sock = dir.path().join("spec.sock");
    let trace = dir.path().join("trace.jsonl");
    let mut child = host()
        .arg("--socket")
        .arg(&sock)
        .arg("--trace")
        .arg(&trace)
        .arg("--spec")
        .arg(&spec)
        .spawn()
        .unwrap();
    wait_for(&sock, &mut child, Duration::from_secs(10));
    let mut client = Client::new(&sock).unwrap();
    let mut ids = [0; 4];
    client.region_read(7, 0, &mut ids).unwrap();
    assert_eq!(u32::from_le_bytes(ids), 0xbeef_1234);
    client.region_write(7, 4, &2u16.to_le_bytes()).unwrap();
    let mut v = [0; 4];
    client.region_read(0, 0, &mut v).unwrap();
    assert_eq!(u32::from_le_bytes(v), 0xc0ffee);
    client.region_write(0, 4, &21u32.to_le_bytes()).unwrap();
    client.region_read(0, 8, &mut v).unwrap();
    assert_eq!(u32::from_le_bytes(v), 42);
    drop(client);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(!sock.exists());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("scratchpad (interpreted from"), "{log}");
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(
        trace
            .lines()
            .any(|l| l.contains("\"BarRead\"") && l.contains("\"value\":42")),
        "{trace}"
    );
}

#[test]
fn refuses_a_spec_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.pcidev");
    std::fs::write(
        &spec,
        "device bad { id 0x1234:0x0001; bar 0 mem32 size 3 { } }",
    )
    .unwrap();
    let sock = dir.path().join("x.sock");
    let out = host()
        .arg("--socket")
        .arg(&sock)
        .arg("--spec")
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("does not compile") && log.contains("E0"),
        "{log}"
    );
    assert!(!sock.exists());
}

/// `--spec specs/pci_serial.pcidev` with `--stream`: the interpreter serves
/// a language v2 spec. Bytes written to THR reach the Unix socket behind
/// the `line` stream; bytes from the socket land in the receive FIFO, and
/// the character timeout (a timer of the spec, on the host's clock) raises
/// IIR's timeout interrupt below the trigger level, as QEMU's 16550 does.
#[test]
fn serves_pci_serial_through_the_interpreter_with_a_stream() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("serial.sock");
    let line = dir.path().join("line.sock");
    let listener = UnixListener::bind(&line).unwrap();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/pci_serial.pcidev");
    let mut child = host()
        .arg("--socket")
        .arg(&sock)
        .arg("--stream")
        .arg(format!("line=unix:{}", line.display()))
        .arg("--spec")
        .arg(&spec)
        .spawn()
        .unwrap();
    wait_for(&sock, &mut child, Duration::from_secs(10));
    // The host connected to the line before listening.
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    let mut peer = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) => {
                assert!(start.elapsed() < Duration::from_secs(10), "no connection");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut client = Client::new(&sock).unwrap();
    let read8 = |client: &mut Client, off: u64| {
        let mut b = [0u8; 1];
        client.region_read(0, off, &mut b).unwrap();
        b[0]
    };
    // COMMAND.IO; FCR = FIFO on, trigger level 14; IER = receive interrupts.
    client.region_write(7, 4, &1u16.to_le_bytes()).unwrap();
    client.region_write(0, 2, &[0xc1]).unwrap();
    client.region_write(0, 1, &[0x01]).unwrap();
    // IIR: FIFOs enabled, no interrupt.
    assert_eq!(read8(&mut client, 2), 0xc1);

    // Transmit: THR to the socket.
    client.region_write(0, 0, b"A").unwrap();
    let mut got = [0u8; 1];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"A");

    // Receive two bytes: below the trigger level, so only the character
    // timeout (4 character times, ~4.2 ms at 9600 baud) interrupts.
    peer.write_all(b"zy").unwrap();
    let start = Instant::now();
    while read8(&mut client, 2) != 0xcc {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no character timeout: IIR {:#x}, LSR {:#x}",
            read8(&mut client, 2),
            read8(&mut client, 5)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(read8(&mut client, 5) & 0x01, 0x01, "LSR.DR");
    assert_eq!(read8(&mut client, 0), b'z');
    assert_eq!(read8(&mut client, 0), b'y');
    assert_eq!(read8(&mut client, 5) & 0x01, 0, "the FIFO is empty");
    assert_eq!(read8(&mut client, 2), 0xc1, "reading cleared the timeout");
    drop(client);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("pci_serial (interpreted from"), "{log}");
}
