//! `mmio-bench VENDOR:DEVICE BAR OFFSET COUNT`: in the guest, find the PCI
//! function with that id in sysfs, map its memory BAR through
//! `/sys/bus/pci/devices/*/resourceN`, and time COUNT 32-bit reads at
//! OFFSET in 10 batches. Prints one parseable line:
//!
//! ```text
//! MMIO-BENCH 1337:0001 bar1+0x4 reads=1000 median_ns=23456 min_ns=21000 value=0x1337
//! ```
//!
//! Built statically by `cargo xtask bench-mmio` and run by the guest's init;
//! it measures the round trip of one guest MMIO read to whatever serves the
//! BAR (QEMU itself, or a vfio-user server).

use std::fs::{self, OpenOptions};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::Instant;

fn find_device(vendor: u16, device: u16) -> Option<std::path::PathBuf> {
    let mut found: Vec<_> = fs::read_dir("/sys/bus/pci/devices")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let read = |f: &str| {
                fs::read_to_string(p.join(f))
                    .ok()
                    .and_then(|s| u16::from_str_radix(s.trim().trim_start_matches("0x"), 16).ok())
            };
            read("vendor") == Some(vendor) && read("device") == Some(device)
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let [id, bar, offset, count] = args else {
        return Err("usage: mmio-bench VENDOR:DEVICE BAR OFFSET COUNT".into());
    };
    let (v, d) = id.split_once(':').ok_or("id is VENDOR:DEVICE in hex")?;
    let vendor = u16::from_str_radix(v, 16).map_err(|e| e.to_string())?;
    let device = u16::from_str_radix(d, 16).map_err(|e| e.to_string())?;
    let bar: u8 = bar.parse().map_err(|_| "BAR is 0..5")?;
    let offset = parse_u64(offset).ok_or("bad OFFSET")? as usize;
    let count = parse_u64(count).ok_or("bad COUNT")?.max(1) as usize;
    let dev = find_device(vendor, device).ok_or(format!("no PCI device {id}"))?;
    // Make sure memory decoding is on (no driver is bound).
    let _ = fs::write(dev.join("enable"), "1");
    let res = dev.join(format!("resource{bar}"));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&res)
        .map_err(|e| format!("{}: {e}", res.display()))?;
    let len = file.metadata().map_err(|e| e.to_string())?.len() as usize;
    if offset + 4 > len {
        return Err(format!("offset {offset:#x} is outside the {len}-byte BAR"));
    }
    // SAFETY: mapping a sysfs PCI resource file shared, read/write, with
    // its own length; the mapping is only read through volatile loads
    // inside its bounds and unmapped before returning.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(format!(
            "mmap {}: {}",
            res.display(),
            std::io::Error::last_os_error()
        ));
    }
    let reg = base.cast::<u8>().wrapping_add(offset).cast::<u32>();
    let mut batches = Vec::new();
    let mut value = 0;
    for _ in 0..10 {
        let start = Instant::now();
        for _ in 0..count {
            // SAFETY: `reg` lies inside the live mapping (checked above) and
            // is 4-byte aligned when OFFSET is (BAR mappings are page aligned).
            value = unsafe { std::ptr::read_volatile(reg) };
        }
        batches.push(start.elapsed().as_nanos() / count as u128);
    }
    // SAFETY: unmapping exactly what was mapped above.
    unsafe { libc::munmap(base, len) };
    batches.sort_unstable();
    Ok(format!(
        "MMIO-BENCH {id} bar{bar}+{offset:#x} reads={count} median_ns={} min_ns={} value={value:#x}",
        batches[batches.len() / 2],
        batches[0]
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mmio-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
