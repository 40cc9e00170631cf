//! `pcidev-host --snapshot` / `--restore` across processes: a first
//! `pcidev-host` serves edu (DMA, MSI, INTx, a hook) to a vfio-user client
//! that runs random config and BAR accesses (the differential test's
//! generator); SIGUSR1 saves the model mid-run; the client leaves and a
//! second `pcidev-host --restore` serves the rest of the same sequence
//! (with the same guest memory, a memfd the client maps in both). Every
//! read, the guest memory DMA wrote and both processes' traces equal those
//! of one in-process model that ran the whole sequence.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pcidev_interp::diff::{Access, AccessGen};
use pcidev_runtime::vm_memory::{Bytes, GuestAddress};
use pcidev_runtime::{GuestMem, JsonLinesTrace, Model, Registers};
use rustix::fs::{MemfdFlags, memfd_create};
use rustix::process::{Pid, Signal, kill_process};
use vfio_user::Client;

mod common;
use common::client::CONFIG;
use common::process::{host, wait_for};

/// Guest RAM: (guest address, length), backed by one memfd in this order.
const RAM: &[(u64, u64)] = &[(0, 0x1_0000), (0x10_0000, 0x1_0000)];
const ACTIONS: usize = 4000;
const CUT: usize = 2000;

/// The accesses a vfio-user client can make: config and BAR reads and
/// writes of 1, 2, 4 or 8 bytes inside the region.
fn servable(info: &pcidev_runtime::DeviceInfo, a: &Access) -> bool {
    let fits = |size: Option<u64>, offset: u64, len: usize| {
        matches!(len, 1 | 2 | 4 | 8)
            && size.is_some_and(|s| offset.checked_add(len as u64).is_some_and(|e| e <= s))
    };
    let bar = |index: u8| info.bars.iter().find(|b| b.index == index).map(|b| b.size);
    match a {
        Access::ConfigWrite { offset, data } => fits(Some(0x100), *offset, data.len()),
        Access::ConfigRead { offset, len } => fits(Some(0x100), *offset, *len),
        Access::BarWrite {
            bar: b,
            offset,
            data,
        } => fits(bar(*b), *offset, data.len()),
        Access::BarRead {
            bar: b,
            offset,
            len,
        } => fits(bar(*b), *offset, *len),
        _ => false,
    }
}

/// edu DMA of 0x80 bytes, guest to device buffer or back (the
/// differential generator rarely programs all four registers in a row).
fn edu_dma(k: u64, to_guest: bool) -> Vec<Access> {
    let w64 = |offset: u64, v: u64| Access::BarWrite {
        bar: 0,
        offset,
        data: v.to_le_bytes().to_vec(),
    };
    let command = pcidev_runtime::COMMAND_MEMORY_SPACE | pcidev_runtime::COMMAND_BUS_MASTER;
    let (src, dst, cmd) = if to_guest {
        (
            0x40000 + (k % 16) * 0x80,
            0x10_0000 + (k % 64) * 0x100,
            1 | 2 | 4,
        )
    } else {
        ((k % 256) * 0x100 + 8, 0x40000 + (k % 16) * 0x80, 1 | 4)
    };
    vec![
        Access::ConfigWrite {
            offset: 4,
            data: command.to_le_bytes().to_vec(),
        },
        w64(0x80, src),
        w64(0x88, dst),
        w64(0x90, 0x80),
        w64(0x98, cmd),
    ]
}

/// The sequence: `ACTIONS` servable accesses from a fixed seed, with an
/// edu DMA every 40.
fn sequence(info: &'static pcidev_runtime::DeviceInfo) -> Vec<Access> {
    let mut g = AccessGen::new(info, 0x0005_eed5);
    let mut out = Vec::new();
    let mut k = 0;
    while out.len() < ACTIONS {
        let a = Access::decode(&g.next_record());
        if servable(info, &a) {
            out.push(a);
        }
        if out.len() % 40 == 39 {
            out.extend(edu_dma(k, k % 2 == 1));
            k += 1;
        }
    }
    out
}

/// Run `a` through the client; the bytes read (empty for writes).
fn over_client(client: &mut Client, a: &Access) -> Vec<u8> {
    match a {
        Access::ConfigWrite { offset, data } => {
            client.region_write(CONFIG, *offset, data).unwrap();
            Vec::new()
        }
        Access::ConfigRead { offset, len } => {
            let mut buf = vec![0; *len];
            client.region_read(CONFIG, *offset, &mut buf).unwrap();
            buf
        }
        Access::BarWrite { bar, offset, data } => {
            client.region_write(u32::from(*bar), *offset, data).unwrap();
            Vec::new()
        }
        Access::BarRead { bar, offset, len } => {
            let mut buf = vec![0; *len];
            client
                .region_read(u32::from(*bar), *offset, &mut buf)
                .unwrap();
            buf
        }
        other => panic!("not servable: {other:?}"),
    }
}

/// Run `a` on the in-process model.
fn in_process<R: Registers>(m: &mut Model<R>, a: &Access) -> Vec<u8> {
    match a {
        Access::ConfigWrite { offset, data } => {
            m.config_write(*offset, data);
            Vec::new()
        }
        Access::ConfigRead { offset, len } => {
            let mut buf = vec![0; *len];
            m.config_read(*offset, &mut buf);
            buf
        }
        Access::BarWrite { bar, offset, data } => {
            let _ = m.bar_write(*bar, *offset, data);
            Vec::new()
        }
        Access::BarRead { bar, offset, len } => {
            let mut buf = vec![0; *len];
            let _ = m.bar_read(*bar, *offset, &mut buf);
            buf
        }
        other => panic!("not servable: {other:?}"),
    }
}

/// A client of the host at `sock` with the guest RAM memfd mapped.
fn connect(sock: &Path, ram: &File) -> Client {
    let mut client = Client::new(sock).unwrap();
    let mut at = 0;
    for &(iova, len) in RAM {
        client.dma_map(at, iova, len, ram.as_raw_fd()).unwrap();
        at += len;
    }
    client
}

fn trace_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The traces are equal; else the first difference, with context.
fn same_trace(what: &str, got: &[String], want: &[String]) {
    if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        panic!(
            "{what}: trace differs at line {i} of {} (reference {}):\n{:?}\nvs\n{:?}\n(before: {:?})",
            got.len(),
            want.len(),
            got.get(i),
            want.get(i),
            &want[i.saturating_sub(3)..i.min(want.len())]
        );
    }
}

#[test]
fn a_snapshot_taken_by_one_process_continues_in_another() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, snap) = (dir.path().join("edu.sock"), dir.path().join("edu.snapshot"));
    let (trace1, trace2) = (dir.path().join("t1.jsonl"), dir.path().join("t2.jsonl"));
    let (ref1, ref2) = (dir.path().join("r1.jsonl"), dir.path().join("r2.jsonl"));
    let total: u64 = RAM.iter().map(|r| r.1).sum();
    let mut ram = File::from(memfd_create("guest-ram", MemfdFlags::CLOEXEC).unwrap());
    ram.set_len(total).unwrap();
    // Distinct bytes everywhere, so that DMA moving them shows.
    let initial = pcidev_runtime::random_bytes(7, total as usize);
    std::io::Write::write_all(&mut ram, &initial).unwrap();

    // The reference: one model, the whole sequence, the same memory layout.
    let mut reference = pcidev_models::edu::model(pcidev_models::EduHooks);
    let ranges: Vec<_> = RAM
        .iter()
        .map(|&(a, l)| (GuestAddress(a), l as usize))
        .collect();
    let mem = Arc::new(GuestMem::from_ranges(&ranges).unwrap());
    let mut at = 0;
    for &(a, l) in RAM {
        mem.write_slice(&initial[at..at + l as usize], GuestAddress(a))
            .unwrap();
        at += l as usize;
    }
    reference.set_guest_memory(Some(mem.clone()));
    reference.set_trace(Some(Box::new(JsonLinesTrace::new(
        File::create(&ref1).unwrap(),
    ))));
    let seq = sequence(reference.info());

    // Process 1: the first part, then SIGUSR1.
    let mut child = host()
        .arg("--socket")
        .arg(&sock)
        .arg("--trace")
        .arg(&trace1)
        .arg("--snapshot")
        .arg(&snap)
        .arg("edu")
        .spawn()
        .unwrap();
    wait_for(&sock, &mut child, Duration::from_secs(20));
    let mut client = connect(&sock, &ram);
    for (i, a) in seq[..CUT].iter().enumerate() {
        let got = over_client(&mut client, a);
        let want = in_process(&mut reference, a);
        assert_eq!(got, want, "access #{i} {a:?}, first process");
    }
    let pid = Pid::from_raw(child.id() as i32).unwrap();
    kill_process(pid, Signal::USR1).unwrap();
    wait_for(&snap, &mut child, Duration::from_secs(20));
    drop(client);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("snapshot of edu"), "{log}");
    reference.set_trace(Some(Box::new(JsonLinesTrace::new(
        File::create(&ref2).unwrap(),
    ))));

    // Process 2: restored, the rest.
    let mut child = host()
        .arg("--socket")
        .arg(&sock)
        .arg("--trace")
        .arg(&trace2)
        .arg("--restore")
        .arg(&snap)
        .arg("edu")
        .spawn()
        .unwrap();
    wait_for(&sock, &mut child, Duration::from_secs(20));
    let mut client = connect(&sock, &ram);
    let mut first_difference = None;
    for (i, a) in seq.iter().enumerate().skip(CUT) {
        let got = over_client(&mut client, a);
        let want = in_process(&mut reference, a);
        if got != want && first_difference.is_none() {
            first_difference = Some(format!("access #{i} {a:?}: {got:?} vs {want:?}"));
        }
    }
    drop(client);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    reference.set_trace(None);

    // The DMA bytes.
    let mut got = vec![0; total as usize];
    ram.seek(SeekFrom::Start(0)).unwrap();
    ram.read_exact(&mut got).unwrap();
    let mut want = Vec::new();
    for &(a, l) in RAM {
        let mut buf = vec![0; l as usize];
        mem.read_slice(&mut buf, GuestAddress(a)).unwrap();
        want.extend(buf);
    }
    assert!(got == want, "guest memory differs");
    let (t1, t2) = (trace_lines(&trace1), trace_lines(&trace2));
    let dma: Vec<&String> = t1
        .iter()
        .chain(&t2)
        .filter(|l| l.contains("\"Dma\""))
        .collect();
    assert!(
        got != initial,
        "no DMA wrote guest memory: {} DMA events, e.g. {:?}",
        dma.len(),
        dma.iter().take(5).collect::<Vec<_>>()
    );
    // The traces, part by part.
    same_trace("first process", &t1, &trace_lines(&ref1));
    same_trace("restored process", &t2, &trace_lines(&ref2));
    assert_eq!(first_difference, None, "reads after restore");
    assert!(
        t2.iter().any(|l| l.contains("\"Dma\"")),
        "no DMA after restore"
    );
    // A snapshot of another model is refused with the reason, before
    // anything is served.
    let out = host()
        .arg("--socket")
        .arg(&sock)
        .arg("--restore")
        .arg(&snap)
        .arg("pci_testdev")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("snapshot is of device `edu`, this model is `pci_testdev`"),
        "{log}"
    );
    assert!(!sock.exists());
}
