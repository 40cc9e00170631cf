//! Test initramfs images: busybox, the checked-in `guest/init`, kernel
//! modules and a shell snippet, written as a gzip-compressed cpio (`newc`)
//! archive from Rust, so no root or external cpio is needed (device nodes
//! such as `/dev/console` are archive entries, not files).
//!
//! Layout inside the image:
//!
//! ```text
//! /init                      guest/init
//! /bin/busybox               the host's busybox-static
//! /dev/console               char 5:1 (the kernel opens it before /init)
//! /lib/modules/<name>.ko     every module added
//! /etc/pcidevc/modules       names of the modules init loads, in order
//! /etc/pcidevc/test.sh       the harness's snippet
//! ```
//!
//! The archive is deterministic: fixed timestamps and owners, entries in
//! insertion order.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;

/// The guest's PID 1 script.
pub const INIT: &str = include_str!("../../guest/init");

/// Where Debian's busybox-static installs busybox.
pub const DEFAULT_BUSYBOX: &str = "/bin/busybox";

/// Result line prefix printed by `guest/init`.
pub const RESULT_MARKER: &str = "PCIDEVC-RESULT:";

/// Builds a test initramfs.
#[derive(Debug, Clone)]
pub struct Builder {
    busybox: PathBuf,
    modules: Vec<(PathBuf, bool)>,
    script: String,
    files: Vec<(String, Vec<u8>, u32)>,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// An image with busybox and init, no modules, and an empty script
    /// (which passes).
    pub fn new() -> Builder {
        Builder {
            busybox: PathBuf::from(DEFAULT_BUSYBOX),
            modules: Vec::new(),
            script: String::new(),
            files: Vec::new(),
        }
    }

    /// Uses another static busybox binary.
    pub fn busybox(mut self, path: impl Into<PathBuf>) -> Builder {
        self.busybox = path.into();
        self
    }

    /// Adds a module that init loads (in the order added) before the script.
    pub fn module(mut self, ko: impl Into<PathBuf>) -> Builder {
        self.modules.push((ko.into(), true));
        self
    }

    /// Adds a module file to `/lib/modules/` without loading it (the script
    /// can `insmod /lib/modules/<name>.ko` itself, e.g. for load cycles).
    pub fn module_file(mut self, ko: impl Into<PathBuf>) -> Builder {
        self.modules.push((ko.into(), false));
        self
    }

    /// Sets the shell snippet init runs after loading the modules (`sh`,
    /// `set -e`; helpers `fail`, `dmesg_count`, `expect_dmesg`,
    /// `wait_dmesg` — see `guest/init`).
    pub fn script(mut self, sh: impl Into<String>) -> Builder {
        self.script = sh.into();
        self
    }

    /// Adds an arbitrary file at absolute path `dest` with `mode` (e.g.
    /// `0o644`); parent directories are created.
    pub fn file(mut self, dest: &str, contents: impl Into<Vec<u8>>, mode: u32) -> Builder {
        self.files.push((dest.to_owned(), contents.into(), mode));
        self
    }

    /// The uncompressed cpio archive.
    pub fn cpio(&self) -> Result<Vec<u8>> {
        let busybox = std::fs::read(&self.busybox).with_context(|| {
            format!(
                "reading {} (install busybox-static)",
                self.busybox.display()
            )
        })?;
        let mut w = CpioWriter::default();
        for d in [
            "dev", "proc", "sys", "tmp", "bin", "sbin", "usr", "etc", "lib",
        ] {
            w.dir(d, 0o755);
        }
        w.char_dev("dev/console", 0o600, 5, 1);
        w.file("init", INIT.as_bytes(), 0o755);
        w.file("bin/busybox", &busybox, 0o755);
        w.dir("etc/pcidevc", 0o755);
        w.dir("lib/modules", 0o755);
        let mut load = String::new();
        let mut names = Vec::new();
        for (ko, autoload) in &self.modules {
            let name = ko
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| n.ends_with(".ko"))
                .with_context(|| format!("{} is not a .ko file", ko.display()))?
                .to_owned();
            if names.contains(&name) {
                bail!("two modules named {name} in one initramfs");
            }
            let bytes =
                std::fs::read(ko).with_context(|| format!("reading module {}", ko.display()))?;
            w.file(&format!("lib/modules/{name}"), &bytes, 0o644);
            if *autoload {
                load.push_str(&name);
                load.push('\n');
            }
            names.push(name);
        }
        w.file("etc/pcidevc/modules", load.as_bytes(), 0o644);
        w.file("etc/pcidevc/test.sh", self.script.as_bytes(), 0o644);
        for (dest, contents, mode) in &self.files {
            let rel = dest.trim_start_matches('/');
            let mut parent = String::new();
            for part in rel
                .split('/')
                .collect::<Vec<_>>()
                .split_last()
                .map_or(&[][..], |(_, p)| p)
            {
                if !parent.is_empty() {
                    parent.push('/');
                }
                parent.push_str(part);
                w.dir(&parent, 0o755);
            }
            w.file(rel, contents, *mode);
        }
        Ok(w.finish())
    }

    /// The gzip-compressed archive.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let cpio = self.cpio()?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&cpio)?;
        Ok(gz.finish()?)
    }

    /// Writes the gzip-compressed archive to `out` (via a temporary file).
    pub fn write_to(&self, out: &Path) -> Result<()> {
        let bytes = self.to_bytes()?;
        let tmp = crate::cache::tmp_sibling(out);
        std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
        Ok(())
    }
}

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFCHR: u32 = 0o020000;

/// Minimal writer for the cpio `newc` format the kernel unpacks.
#[derive(Debug, Default)]
pub struct CpioWriter {
    out: Vec<u8>,
    ino: u32,
    dirs: Vec<String>,
}

impl CpioWriter {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8], rdev: (u32, u32), nlink: u32) {
        self.ino += 1;
        let namesize = name.len() + 1;
        let fields = [
            self.ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime
            data.len() as u32,
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            namesize as u32,
            0, // check
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }

    /// Adds a directory (once; repeated calls are ignored).
    pub fn dir(&mut self, name: &str, perm: u32) {
        if self.dirs.iter().any(|d| d == name) {
            return;
        }
        self.dirs.push(name.to_owned());
        self.entry(name, S_IFDIR | perm, &[], (0, 0), 2);
    }

    /// Adds a regular file.
    pub fn file(&mut self, name: &str, data: &[u8], perm: u32) {
        self.entry(name, S_IFREG | perm, data, (0, 0), 1);
    }

    /// Adds a character device node.
    pub fn char_dev(&mut self, name: &str, perm: u32, major: u32, minor: u32) {
        self.entry(name, S_IFCHR | perm, &[], (major, minor), 1);
    }

    /// Appends the trailer and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.ino = 0;
        self.entry("TRAILER!!!", 0, &[], (0, 0), 1);
        self.out
    }
}

/// The outcome a guest reported through its result line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `PCIDEVC-RESULT: pass`.
    Pass,
    /// `PCIDEVC-RESULT: fail <reason>`.
    Fail(String),
    /// No result line (the guest crashed, hung or was killed).
    NoResult,
}

impl Outcome {
    /// Parses the last result line in a console transcript.
    pub fn parse(console: &str) -> Outcome {
        let Some(line) = console
            .lines()
            .filter_map(|l| l.split_once(RESULT_MARKER).map(|(_, rest)| rest.trim()))
            .next_back()
        else {
            return Outcome::NoResult;
        };
        if line == "pass" {
            Outcome::Pass
        } else if let Some(reason) = line.strip_prefix("fail") {
            Outcome::Fail(reason.trim().to_owned())
        } else {
            Outcome::Fail(format!("unparseable result line: {line}"))
        }
    }

    /// True for [`Outcome::Pass`].
    pub fn passed(&self) -> bool {
        *self == Outcome::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_is_parsed_from_the_last_result_line() {
        assert_eq!(
            Outcome::parse("boot\nPCIDEVC-RESULT: pass\r\n"),
            Outcome::Pass
        );
        assert_eq!(
            Outcome::parse("[ 1.0] x PCIDEVC-RESULT: fail insmod a.ko failed\n"),
            Outcome::Fail("insmod a.ko failed".into())
        );
        assert_eq!(Outcome::parse("Kernel panic\n"), Outcome::NoResult);
    }

    #[test]
    fn cpio_entries_are_aligned_and_terminated() {
        let mut w = CpioWriter::default();
        w.dir("etc", 0o755);
        w.file("etc/x", b"hello", 0o644);
        w.char_dev("dev/console", 0o600, 5, 1);
        let out = w.finish();
        assert_eq!(out.len() % 4, 0);
        assert!(out.starts_with(b"070701"));
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("etc/x\0"));
        assert!(text.contains("hello"));
        assert!(text.contains("TRAILER!!!\0"));
    }

    /// Lists the archive with the system's cpio when it is installed.
    #[test]
    fn system_cpio_can_list_the_archive() {
        if !Path::new("/usr/bin/cpio").exists() || !Path::new(DEFAULT_BUSYBOX).exists() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("xtask-initramfs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ko = dir.join("demo.ko");
        std::fs::write(&ko, b"\x7fELF not really").unwrap();
        let archive = Builder::new()
            .module(&ko)
            .script("echo hi\n")
            .file("/etc/extra/data.txt", "x", 0o644)
            .cpio()
            .unwrap();
        let mut child = std::process::Command::new("cpio")
            .args(["-t", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&archive).unwrap();
        let out = child.wait_with_output().unwrap();
        let list = String::from_utf8_lossy(&out.stdout);
        for want in [
            "init",
            "bin/busybox",
            "dev/console",
            "lib/modules/demo.ko",
            "etc/pcidevc/modules",
            "etc/pcidevc/test.sh",
            "etc/extra/data.txt",
        ] {
            assert!(
                list.lines().any(|l| l == want),
                "{want} missing in:\n{list}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
