//! `pcidevc fmt [--check] FILES...`: rewrite specs in the canonical layout
//! of [`pcidevc_dsl::fmt`], or (`--check`) only say which are not in it.
//!
//! A file that does not parse is never touched: its syntax diagnostics are
//! printed and the exit status is 1. With `--check` a file that is not
//! formatted gets a unified diff on stdout and a remark on stderr, and the
//! exit status is 1; nothing is written.

use pcidevc_dsl::diag::{Remark, Severity};
use pcidevc_dsl::parse::{self, FsLoader};
use pcidevc_dsl::source::SourceMap;
use std::path::{Path, PathBuf};

/// What one file needs.
pub enum Outcome {
    /// Already in the canonical layout.
    Formatted,
    /// Rewritten (or, with `--check`, would be), with the diff.
    Changed(String),
    /// Syntax errors: the diagnostics (with their sources) instead.
    Unparsable(SourceMap, Vec<pcidevc_dsl::diag::Diagnostic>),
    /// The file could not be read or written.
    Io(String),
}

/// Format one file (write it back unless `check`).
pub fn file(path: &Path, check: bool) -> Outcome {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Outcome::Io(format!("cannot read `{}`: {e}", path.display())),
    };
    let formatted = std::str::from_utf8(&bytes)
        .ok()
        .and_then(pcidevc_dsl::fmt::format);
    let Some(formatted) = formatted else {
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        let name = path.display().to_string();
        parse::parse_bytes(
            &mut sources,
            &mut diags,
            &mut FsLoader,
            &name,
            Some(path.to_path_buf()),
            bytes,
        );
        // The file's own problems (not those of files it includes).
        diags.retain(|d| d.span.file.0 == 0 && d.is_error());
        return Outcome::Unparsable(sources, diags);
    };
    let old = String::from_utf8_lossy(&bytes);
    if old == formatted {
        return Outcome::Formatted;
    }
    let shown = path.display().to_string();
    let diff = similar::TextDiff::from_lines(old.as_ref(), &formatted)
        .unified_diff()
        .context_radius(3)
        .header(&shown, &format!("{shown} (formatted)"))
        .to_string();
    if !check && let Err(e) = std::fs::write(path, &formatted) {
        return Outcome::Io(format!("cannot write `{}`: {e}", path.display()));
    }
    Outcome::Changed(diff)
}

/// A remark for `--check` listing the files that are not formatted.
pub fn check_remark(unformatted: &[PathBuf]) -> Remark {
    let mut r = Remark::new(
        Severity::Error,
        format!("{} file(s) not in the canonical layout", unformatted.len()),
    )
    .help("run `pcidevc fmt FILES...` to format them");
    for p in unformatted {
        r = r.note(format!("not formatted: {} (diff on stdout)", p.display()));
    }
    r
}
