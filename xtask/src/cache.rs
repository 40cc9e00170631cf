//! The provisioning cache: location, lock, keys and completion stamps.
//!
//! Everything provisioned lives under one directory, `~/.cache/pcidevc/`
//! (`$XDG_CACHE_HOME/pcidevc` when set; `PCIDEVC_CACHE` overrides both):
//!
//! ```text
//! lock                                 flock held while provisioning
//! logs/<step>.log                      output of the last run of each step
//! apt/                                 private apt state (sources.list, lists, archives)
//! downloads/linux-source-7.3_<v>.deb   the source package
//! src/linux-source-7.3_<v>/            extracted source tree (+ .pcidevc-stamp)
//! tools/bindgen-<v>/bin/bindgen        pinned bindgen-cli
//! kernel/<kver>-<key>/build/           O= build tree (bzImage, modules, M= base)
//! kernel/<kver>-<key>/stamp            key text, written last
//! qemu/trixie-backports-<key>/root/    debootstrapped root with QEMU (+ stamp)
//! ```
//!
//! Each artifact directory is named after a hash of its *key* — a short text
//! listing everything that built it (versions, fragment hash, recipe
//! version) — and holds a `stamp` file containing that text, written last.
//! An artifact counts only when its stamp matches its key, so an interrupted
//! build is never taken for a good one, and a changed key selects a new
//! directory. Concurrent runs serialise on [`Cache::lock`].

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::ui::Ui;

/// Name of the completion stamp inside an artifact directory.
pub const STAMP: &str = "stamp";

/// The cache root.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache at `PCIDEVC_CACHE`, else `$XDG_CACHE_HOME/pcidevc`, else
    /// `$HOME/.cache/pcidevc`.
    pub fn from_env() -> Result<Cache> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let root = if let Some(dir) = var("PCIDEVC_CACHE") {
            PathBuf::from(dir)
        } else if let Some(dir) = var("XDG_CACHE_HOME") {
            PathBuf::from(dir).join("pcidevc")
        } else if let Some(home) = var("HOME") {
            PathBuf::from(home).join(".cache").join("pcidevc")
        } else {
            bail!("cannot locate the cache: set PCIDEVC_CACHE or HOME");
        };
        Cache::at(root)
    }

    /// A cache rooted at `root` (created if missing; made absolute).
    pub fn at(root: impl Into<PathBuf>) -> Result<Cache> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .with_context(|| format!("creating cache directory {}", root.display()))?;
        let root = std::fs::canonicalize(&root)
            .with_context(|| format!("resolving cache directory {}", root.display()))?;
        Ok(Cache { root })
    }

    /// The cache root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/rel`.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// Log file for a step: `root/logs/<name>.log`.
    pub fn log(&self, name: &str) -> PathBuf {
        self.root.join("logs").join(format!("{name}.log"))
    }

    /// A fresh (truncated) log file for a step.
    pub fn fresh_log(&self, name: &str) -> Result<PathBuf> {
        let log = self.log(name);
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        File::create(&log).with_context(|| format!("creating log {}", log.display()))?;
        Ok(log)
    }

    /// Takes the cache's exclusive lock, waiting (and saying so) while
    /// another run holds it. Released when the guard drops.
    pub fn lock(&self, ui: &Ui) -> Result<CacheLock> {
        let path = self.root.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                ui.info(format!(
                    "waiting for another pcidevc provisioning run to release {}",
                    path.display()
                ));
                file.lock()
                    .with_context(|| format!("locking {}", path.display()))?;
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
        }
        Ok(CacheLock { _file: file })
    }
}

/// Proof that the cache lock is held; unlocks on drop.
#[derive(Debug)]
pub struct CacheLock {
    _file: File,
}

/// A cache key: ordered `name=value` lines describing what built an
/// artifact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Key {
    text: String,
}

impl Key {
    /// An empty key.
    pub fn new() -> Key {
        Key::default()
    }

    /// Adds one `name=value` entry (newlines in the value are flattened).
    pub fn with(mut self, name: &str, value: impl AsRef<str>) -> Key {
        let value = value.as_ref().trim().replace('\n', " | ");
        self.text.push_str(&format!("{name}={value}\n"));
        self
    }

    /// The key's text, as stored in stamps.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// First 12 hex digits of the SHA-256 of the key text.
    pub fn short_hash(&self) -> String {
        sha256_hex(self.text.as_bytes())[..12].to_owned()
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// True when `dir/stamp` exists and holds exactly `key`.
pub fn is_complete(dir: &Path, key: &Key) -> bool {
    std::fs::read_to_string(dir.join(STAMP)).is_ok_and(|s| s == key.text())
}

/// Writes `dir/stamp` atomically (temp file + rename). Call it last.
pub fn write_stamp(dir: &Path, key: &Key) -> Result<()> {
    let tmp = dir.join(format!("{STAMP}.tmp"));
    std::fs::write(&tmp, key.text()).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dir.join(STAMP))
        .with_context(|| format!("writing stamp in {}", dir.display()))?;
    Ok(())
}

/// Removes `dir/stamp` (before rebuilding in place).
pub fn clear_stamp(dir: &Path) -> Result<()> {
    match std::fs::remove_file(dir.join(STAMP)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing stamp in {}", dir.display())),
    }
}

/// `path` with `.tmp` appended to its file name (`a/b-7.3.4` →
/// `a/b-7.3.4.tmp`): where an artifact is assembled before being renamed.
pub fn tmp_sibling(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_owned()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Mount points at or below `dir` (from /proc/self/mountinfo), deepest
/// first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found
}

/// Deletes a directory tree that may be a chroot left behind by an
/// interrupted run: anything mounted inside it is unmounted first, and the
/// deletion is refused if a mount remains.
pub fn remove_tree(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for m in mounts_under(dir) {
        let _ = std::process::Command::new("umount")
            .arg("--lazy")
            .arg(&m)
            .status();
    }
    let left = mounts_under(dir);
    if !left.is_empty() {
        bail!(
            "refusing to delete {}: still mounted inside: {:?}",
            dir.display(),
            left
        );
    }
    std::fs::remove_dir_all(dir).with_context(|| format!("deleting {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-cache-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn key_text_and_hash_are_stable() {
        let k = Key::new()
            .with("kernel", "7.3.4")
            .with("rustc", "1.95.0\nLLVM 22");
        assert_eq!(k.text(), "kernel=7.3.4\nrustc=1.95.0 | LLVM 22\n");
        assert_eq!(k.short_hash().len(), 12);
        assert_ne!(
            k.short_hash(),
            Key::new().with("kernel", "7.3.5").short_hash()
        );
    }

    #[test]
    fn tmp_sibling_appends_to_dotted_names() {
        assert_eq!(
            tmp_sibling(Path::new("/c/tools/bindgen-0.73.2")),
            PathBuf::from("/c/tools/bindgen-0.73.2.tmp")
        );
    }

    #[test]
    fn stamp_must_match_key() {
        let d = temp_dir("stamp");
        let k = Key::new().with("a", "1");
        assert!(!is_complete(&d, &k));
        write_stamp(&d, &k).unwrap();
        assert!(is_complete(&d, &k));
        assert!(!is_complete(&d, &Key::new().with("a", "2")));
        clear_stamp(&d).unwrap();
        assert!(!is_complete(&d, &k));
        remove_tree(&d).unwrap();
    }

    #[test]
    fn lock_excludes_a_second_holder() {
        let d = temp_dir("lock");
        let cache = Cache::at(&d).unwrap();
        let ui = Ui::with_mode(crate::ui::Mode::Quiet);
        let guard = cache.lock(&ui).unwrap();
        let other = File::options().write(true).open(d.join("lock")).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop(guard);
        assert!(other.try_lock().is_ok());
        remove_tree(&d).unwrap();
    }
}
