//! Writing generated files, and `--check` (drift detection).
//!
//! Files are written only when their contents change (build systems keep
//! their mtimes), through a temporary file and a rename so that an
//! interrupted run never leaves a half-written file. [`check`] writes
//! nothing: it compares what would be written with a device's directory and
//! also finds the files there that pcidevc does not generate (stray files).

use pcidevc_codegen::OutputFile;
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

pub fn write(dir: &Path, files: &[OutputFile], quiet: bool) -> io::Result<()> {
    for f in files {
        let path = dir.join(&f.path);
        if std::fs::read(&path).is_ok_and(|old| old == f.contents.as_bytes()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension(format!(
            "{}.pcidevc-tmp",
            path.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        std::fs::write(&tmp, &f.contents)?;
        std::fs::rename(&tmp, &path)?;
        if !quiet {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// How a device's directory differs from what pcidevc would write there.
#[derive(Debug, Default)]
pub struct Drift {
    /// Files whose contents differ, or that are missing, with a unified
    /// diff from the disk to the regenerated contents.
    pub changed: Vec<Change>,
    /// Files under the directory that pcidevc does not generate, relative
    /// to it, sorted.
    pub stray: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct Change {
    /// Relative to the device's directory.
    pub path: PathBuf,
    pub missing: bool,
    pub diff: String,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.stray.is_empty()
    }
}

/// Compare `files` with `dir` (which need not exist). I/O errors other than
/// a missing file or directory are returned.
pub fn check(dir: &Path, files: &[OutputFile]) -> io::Result<Drift> {
    let mut drift = Drift::default();
    for f in files {
        let path = dir.join(&f.path);
        let (old, missing) = match std::fs::read_to_string(&path) {
            Ok(s) => (s, false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (String::new(), true),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        };
        if missing || old != f.contents {
            let shown = path.display().to_string();
            let diff = similar::TextDiff::from_lines(&old, &f.contents)
                .unified_diff()
                .context_radius(3)
                .header(&shown, &format!("{shown} (regenerated)"))
                .to_string();
            drift.changed.push(Change {
                path: f.path.clone(),
                missing,
                diff,
            });
        }
    }
    let generated: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    let mut on_disk = Vec::new();
    list_files(dir, Path::new(""), &mut on_disk)?;
    drift.stray = on_disk
        .into_iter()
        .filter(|p| !generated.contains(p.as_path()))
        .collect();
    drift.stray.sort();
    Ok(drift)
}

/// Every file (anything that is not a directory) under `root/rel`, as a
/// path relative to `root`; nothing when `root` does not exist.
fn list_files(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let dir = root.join(rel);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
    };
    for entry in entries {
        let entry = entry?;
        let path = rel.join(entry.file_name());
        // `file_type` does not follow symlinks: a link to a directory is a
        // stray entry, not a tree to walk (no cycles).
        if entry.file_type()?.is_dir() {
            list_files(root, &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
