//! Configuration-space conformance: what the guest reads in a function's
//! 256-byte configuration space and which bits it can change, compared
//! between QEMU's built-in device and the generated model.
//!
//! The guest side is `guest/cfgprobe.c` (built static here, run in the
//! guest as root on `/sys/bus/pci/devices/<bdf>/config`) plus a dump taken
//! by the test script before any driver is unbound
//! (`PCIDEVC-CFGDUMP <256 hex bytes>`). For every byte the probe reports
//! its value, what it reads after writing 0xff and after writing 0x00
//! (restoring it after each), so two devices agree on a byte exactly when
//! they agree on its value, its writable bits, and its write-1-to-clear
//! bits: the rules QEMU's PCI core applies with its `wmask` and `w1cmask`
//! (hw/pci/pci.c, `pci_default_write_config`).
//!
//! A difference is allowed only where the spec states it, in a comment
//! line of the form
//!
//! ```text
//! // - config 0x0c: QEMU's PCI core lets software write the cache line size
//! // - config 0x40..0x4f: ...
//! ```
//!
//! ([`stated_differences`]); every other difference fails the comparison.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Size of the configuration space compared.
pub const SIZE: usize = 256;

/// The probe's source, checked in beside the guest's init.
pub const PROBE_SOURCE: &str = "guest/cfgprobe.c";

/// Builds the static guest probe into `out_dir`; returns the binary.
pub fn build_probe(out_dir: &Path) -> Result<PathBuf> {
    let src = crate::workspace::repo_root().join(PROBE_SOURCE);
    let out = out_dir.join("cfgprobe");
    let o = Command::new("cc")
        .args(["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .context("running cc to build the guest's cfgprobe")?;
    if !o.status.success() {
        bail!(
            "building {} failed:\n{}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    Ok(out)
}

/// One byte as the probe saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbedByte {
    /// Value before the probe wrote anything (driver unbound).
    pub initial: u8,
    /// Read back after writing 0xff (`None`: not written, see the probe's
    /// skip list).
    pub ones: Option<u8>,
    /// Read back after writing 0x00.
    pub zeros: Option<u8>,
}

/// What one guest reported about one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The 256 bytes as the firmware and the driver left them.
    pub dump: Vec<u8>,
    /// Per offset, what writing did.
    pub bytes: Vec<ProbedByte>,
    /// Offsets that did not read back their initial value once restored.
    pub not_restored: Vec<(u8, u8)>,
}

fn hex_u8(s: &str) -> Result<u8> {
    u8::from_str_radix(s, 16).with_context(|| format!("not a hex byte: {s:?}"))
}

impl Probe {
    /// Parses the `PCIDEVC-CFGDUMP` line and the probe's lines out of a
    /// console transcript (kernel messages may be interleaved).
    pub fn parse(console: &str) -> Result<Probe> {
        let mut dump = None;
        let mut bytes = vec![None; SIZE];
        let mut not_restored = Vec::new();
        for line in console.lines() {
            if let Some(rest) = line.split_once("PCIDEVC-CFGDUMP").map(|(_, r)| r) {
                let v = rest
                    .split_whitespace()
                    .map(hex_u8)
                    .collect::<Result<Vec<u8>>>()?;
                if v.len() != SIZE {
                    bail!("config dump has {} bytes, not {SIZE}", v.len());
                }
                dump = Some(v);
            } else if let Some(rest) = line.split_once("PCIDEVC-CFG-NOT-RESTORED").map(|(_, r)| r) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                if let [off, val] = f[..] {
                    not_restored.push((hex_u8(off)?, hex_u8(val)?));
                }
            } else if let Some(rest) = line.split_once("PCIDEVC-CFG ").map(|(_, r)| r) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                let [off, initial, ones, zeros] = f[..] else {
                    bail!("malformed probe line {line:?}");
                };
                let opt = |s: &str| -> Result<Option<u8>> {
                    if s == "-" {
                        Ok(None)
                    } else {
                        hex_u8(s).map(Some)
                    }
                };
                bytes[usize::from(hex_u8(off)?)] = Some(ProbedByte {
                    initial: hex_u8(initial)?,
                    ones: opt(ones)?,
                    zeros: opt(zeros)?,
                });
            }
        }
        let dump = dump.context("the guest printed no PCIDEVC-CFGDUMP line")?;
        let missing = bytes.iter().filter(|b| b.is_none()).count();
        if missing > 0 {
            bail!("the probe reported {} of {SIZE} bytes", SIZE - missing);
        }
        Ok(Probe {
            dump,
            bytes: bytes.into_iter().flatten().collect(),
            not_restored,
        })
    }

    /// Bits software can set (read 1 after writing ones, 0 before).
    pub fn settable(&self, off: usize) -> Option<u8> {
        let b = self.bytes[off];
        Some(b.ones? & !b.initial)
    }
}

/// The standard name of the register holding byte `off`.
pub fn register_name(off: usize) -> String {
    let name = match off {
        0x00..=0x01 => "VENDOR_ID",
        0x02..=0x03 => "DEVICE_ID",
        0x04..=0x05 => "COMMAND",
        0x06..=0x07 => "STATUS",
        0x08 => "REVISION_ID",
        0x09..=0x0b => "CLASS",
        0x0c => "CACHE_LINE_SIZE",
        0x0d => "LATENCY_TIMER",
        0x0e => "HEADER_TYPE",
        0x0f => "BIST",
        0x10..=0x27 => return format!("BAR{}", (off - 0x10) / 4),
        0x28..=0x2b => "CARDBUS_CIS",
        0x2c..=0x2d => "SUBSYSTEM_VENDOR_ID",
        0x2e..=0x2f => "SUBSYSTEM_ID",
        0x30..=0x33 => "ROM_ADDRESS",
        0x34 => "CAPABILITY_LIST",
        0x3c => "INTERRUPT_LINE",
        0x3d => "INTERRUPT_PIN",
        0x3e => "MIN_GNT",
        0x3f => "MAX_LAT",
        _ => return format!("device-specific {off:#04x}"),
    };
    name.to_owned()
}

/// Where two probes disagree on one byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub offset: usize,
    /// `(dump, probed)` on QEMU's device.
    pub qemu: (u8, ProbedByte),
    /// `(dump, probed)` on the model.
    pub model: (u8, ProbedByte),
    /// The spec's reason, when it states this difference.
    pub stated: Option<String>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |(d, b): (u8, ProbedByte)| {
            let o = |v: Option<u8>| v.map_or("--".to_owned(), |v| format!("{v:02x}"));
            format!(
                "{d:02x} (probe {:02x}, ff->{}, 00->{})",
                b.initial,
                o(b.ones),
                o(b.zeros)
            )
        };
        write!(
            f,
            "{:#04x} {:<22} QEMU {}  model {}",
            self.offset,
            register_name(self.offset),
            show(self.qemu),
            show(self.model)
        )?;
        if let Some(r) = &self.stated {
            write!(f, "  [stated: {r}]")?;
        }
        Ok(())
    }
}

/// Every byte where `qemu` and `model` differ, with the spec's reasons.
pub fn compare(
    qemu: &Probe,
    model: &Probe,
    stated: &[(RangeInclusive<usize>, String)],
) -> Vec<Difference> {
    (0..SIZE)
        .filter(|&i| qemu.dump[i] != model.dump[i] || qemu.bytes[i] != model.bytes[i])
        .map(|i| Difference {
            offset: i,
            qemu: (qemu.dump[i], qemu.bytes[i]),
            model: (model.dump[i], model.bytes[i]),
            stated: stated
                .iter()
                .find(|(r, _)| r.contains(&i))
                .map(|(_, why)| why.clone()),
        })
        .collect()
}

/// The configuration-space differences a spec states (see the module docs):
/// `- config 0xAA: reason` or `- config 0xAA..0xBB: reason` in a `//`
/// comment. Reasons continue on following comment lines until the next
/// `- ` item or a blank comment line.
pub fn stated_differences(spec: &str) -> Result<Vec<(RangeInclusive<usize>, String)>> {
    let mut out: Vec<(RangeInclusive<usize>, String)> = Vec::new();
    let mut open = false;
    for line in spec.lines() {
        let Some(text) = line.trim_start().strip_prefix("//") else {
            open = false;
            continue;
        };
        let text = text.trim();
        if let Some(item) = text.strip_prefix("- config ") {
            let (range, reason) = item
                .split_once(':')
                .with_context(|| format!("`{line}`: expected `- config 0xNN: reason`"))?;
            let parse = |s: &str| -> Result<usize> {
                let s = s.trim();
                let h = s
                    .strip_prefix("0x")
                    .with_context(|| format!("`{line}`: offsets are written 0xNN"))?;
                let v = usize::from_str_radix(h, 16)
                    .with_context(|| format!("`{line}`: bad offset {s}"))?;
                if v >= SIZE {
                    bail!("`{line}`: offset {s} is beyond the configuration space");
                }
                Ok(v)
            };
            let r = match range.split_once("..") {
                Some((a, b)) => parse(a)?..=parse(b)?,
                None => {
                    let a = parse(range)?;
                    a..=a
                }
            };
            if reason.trim().is_empty() {
                bail!("`{line}`: a stated difference needs its reason");
            }
            out.push((r, reason.trim().to_owned()));
            open = true;
        } else if open && !text.is_empty() && !text.starts_with("- ") {
            if let Some((_, why)) = out.last_mut() {
                why.push(' ');
                why.push_str(text);
            }
        } else {
            open = false;
        }
    }
    Ok(out)
}

/// A byte-by-byte table of one probe (for reports and artifacts).
pub fn table(p: &Probe) -> String {
    let mut by_reg: BTreeMap<usize, String> = BTreeMap::new();
    for (i, b) in p.bytes.iter().enumerate() {
        let o = |v: Option<u8>| v.map_or("--".to_owned(), |v| format!("{v:02x}"));
        by_reg.insert(
            i,
            format!(
                "{i:#04x} {:<22} {:02x} ff->{} 00->{}",
                register_name(i),
                p.dump[i],
                o(b.ones),
                o(b.zeros)
            ),
        );
    }
    by_reg.into_values().collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console(dump: &[u8; SIZE], tweak: impl Fn(usize) -> (u8, u8)) -> String {
        let mut s = String::from("[    1.0] noise\nPCIDEVC-CFGDUMP");
        for b in dump {
            s.push_str(&format!(" {b:02x}"));
        }
        s.push('\n');
        for (i, b) in dump.iter().enumerate() {
            let (ones, zeros) = tweak(i);
            s.push_str(&format!(
                "PCIDEVC-CFG {i:02x} {b:02x} {ones:02x} {zeros:02x}\n"
            ));
        }
        s
    }

    #[test]
    fn probes_are_parsed_and_compared_byte_by_byte() {
        let mut dump = [0u8; SIZE];
        dump[0] = 0x34;
        dump[0x3c] = 0x0b;
        // QEMU: interrupt line fully writable, cache line size too.
        let q = Probe::parse(&console(&dump, |i| match i {
            0x3c | 0x0c => (0xff, 0x00),
            _ => (dump[i], dump[i]),
        }))
        .unwrap();
        // The model: the cache line size reads 0 whatever is written.
        let m = Probe::parse(&console(&dump, |i| match i {
            0x3c => (0xff, 0x00),
            _ => (dump[i], dump[i]),
        }))
        .unwrap();
        assert_eq!(q.settable(0x0c), Some(0xff));
        assert_eq!(m.settable(0x0c), Some(0));
        let stated = vec![(0x0c..=0x0c, "why".to_owned())];
        let d = compare(&q, &m, &stated);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].offset, 0x0c);
        assert_eq!(d[0].stated.as_deref(), Some("why"));
        assert!(d[0].to_string().contains("CACHE_LINE_SIZE"), "{}", d[0]);
        assert!(compare(&q, &m, &[]).iter().all(|d| d.stated.is_none()));
        assert!(compare(&q, &q, &[]).is_empty());
    }

    #[test]
    fn incomplete_or_malformed_probes_are_errors() {
        let dump = [0u8; SIZE];
        let full = console(&dump, |_| (0, 0));
        let cut: String = full.lines().take(100).collect::<Vec<_>>().join("\n");
        assert!(Probe::parse(&cut).is_err());
        assert!(Probe::parse(&full.replace("PCIDEVC-CFGDUMP", "x")).is_err());
        assert!(
            Probe::parse(&full.replace("PCIDEVC-CFG 05 00 00 00", "PCIDEVC-CFG 05 zz")).is_err()
        );
        let skipped = full.replace("PCIDEVC-CFG 68 00 00 00", "PCIDEVC-CFG 68 00 - -");
        let p = Probe::parse(&skipped).unwrap();
        assert_eq!(p.bytes[0x68].ones, None);
        assert_eq!(p.settable(0x68), None);
    }

    #[test]
    fn stated_differences_are_read_from_spec_comments() {
        let spec = "// Differences:\n\
                    // - config 0x0c: QEMU lets software write\n\
                    //   the cache line size\n\
                    // - config 0x40..0x43: MSI\n\
                    //\n\
                    // unrelated prose\n\
                    device x {}\n";
        let s = stated_differences(spec).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].0, 0x0c..=0x0c);
        assert_eq!(s[0].1, "QEMU lets software write the cache line size");
        assert_eq!(s[1].0, 0x40..=0x43);
        assert!(stated_differences("// - config 12: x\n").is_err());
        assert!(stated_differences("// - config 0x100: x\n").is_err());
        assert!(stated_differences("// - config 0x10:\n").is_err());
    }

    #[test]
    fn every_byte_has_a_register_name() {
        assert_eq!(register_name(0x04), "COMMAND");
        assert_eq!(register_name(0x17), "BAR1");
        assert_eq!(register_name(0x68), "device-specific 0x68");
    }
}
