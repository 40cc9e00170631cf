//! Writing generated files, and `--check` (drift detection).
//!
//! Files are written only when their contents change (build systems keep
//! their mtimes), through a temporary file and a rename so that an
//! interrupted run never leaves a half-written file.

use pcidevc_codegen::OutputFile;
use std::io;
use std::path::Path;

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

/// Print a unified diff for every file that differs from what is on disk;
/// Ok(true) when anything differs.
pub fn check(dir: &Path, files: &[OutputFile]) -> io::Result<bool> {
    let mut drift = false;
    for f in files {
        let path = dir.join(&f.path);
        let old = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        if old != f.contents {
            drift = true;
            let shown = path.display().to_string();
            let diff = similar::TextDiff::from_lines(&old, &f.contents);
            print!(
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&shown, &format!("{shown} (regenerated)"))
            );
        }
    }
    if drift {
        eprintln!(
            "{}: generated files are out of date; run `pcidevc` on the spec to regenerate them",
            dir.display()
        );
    }
    Ok(drift)
}
