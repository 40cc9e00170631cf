//! The editor grammar (`editors/tree-sitter-pcidev/`) checked with the
//! tree-sitter CLI.
//!
//! [`provision`] installs the pinned `tree-sitter-cli` from source with
//! `cargo install --root ~/.cache/pcidevc/tree-sitter` (its npm package
//! downloads a prebuilt binary at install time, which cannot work here) and
//! reuses it while its version matches. [`check`] copies the grammar into
//! the target directory (so the generated parser never lands in the
//! repository), runs `tree-sitter generate` (which evaluates `grammar.js`
//! with node) and `tree-sitter test` (the corpus in `test/corpus/` and the
//! highlight assertions in `test/highlight/`), then parses every spec and
//! corpus file the compiler's own grammar parses and fails on any ERROR or
//! MISSING node.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cache::Cache;
use crate::exec::capture;
use crate::ui::Ui;
use crate::workspace::{repo_root, target_dir};

/// The tree-sitter-cli version installed.
pub const TREE_SITTER_VERSION: &str = "0.27.1";

/// Ensures the pinned tree-sitter CLI is in the cache; returns its path.
pub fn provision(ui: &Ui, cache: &Cache) -> Result<PathBuf> {
    crate::cargo_install::provision(
        ui,
        cache,
        &crate::cargo_install::Tool {
            krate: "tree-sitter-cli",
            version: TREE_SITTER_VERSION,
            exe: "tree-sitter",
            dir: "tree-sitter",
            unoptimised: true,
        },
    )
}

/// Every `.pcidev` file under `dir`, recursively.
fn pcidev_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let p = e?.path();
        if p.is_dir() {
            pcidev_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "pcidev") {
            out.push(p);
        }
    }
    Ok(())
}

/// The specs and corpus files (valid and invalid, includes too) that the
/// compiler's grammar parses: a spec or an included fragment without a
/// syntax error. Returns (parsed, skipped).
pub fn parsable_files() -> Result<(Vec<PathBuf>, usize)> {
    let root = repo_root();
    let mut all = Vec::new();
    for d in ["specs", "dsl/tests/valid", "dsl/tests/invalid"] {
        pcidev_files(&root.join(d), &mut all)?;
    }
    all.sort();
    let total = all.len();
    let parsed: Vec<PathBuf> = all
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .ok()
                .and_then(|t| pcidevc_dsl::fmt::format(&t))
                .is_some()
        })
        .collect();
    let skipped = total - parsed.len();
    Ok((parsed, skipped))
}

fn ts(exe: &Path, dir: &Path) -> Command {
    let mut c = Command::new(exe);
    // Compiled parsers go beside the copy, not to ~/.cache/tree-sitter.
    c.current_dir(dir)
        .env("TREE_SITTER_LIBDIR", dir.join("lib"));
    c
}

/// Generate the parser, run its tests, parse every file the compiler parses.
pub fn check(ui: &Ui, exe: &Path) -> Result<()> {
    let src = repo_root().join("editors/tree-sitter-pcidev");
    let dir = target_dir().join("tree-sitter-pcidev");
    crate::cache::remove_tree(&dir)?;
    copy_tree(&src, &dir)?;
    std::fs::create_dir_all(dir.join("lib"))?;
    ui.step("tree-sitter generate", |_| {
        capture(ts(exe, &dir).arg("generate")).map(drop)
    })?;
    ui.step("tree-sitter test (corpus, highlights)", |_| {
        capture(ts(exe, &dir).arg("test")).map(drop)
    })?;
    let (files, skipped) = parsable_files()?;
    ui.step(
        &format!(
            "tree-sitter parse: {} files without ERROR/MISSING ({skipped} with syntax errors skipped)",
            files.len()
        ),
        |_| {
            // One run over a list of paths; `--quiet` prints a line (with
            // the ERROR or MISSING node) for each file that fails.
            let list = dir.join("paths.txt");
            let paths: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            std::fs::write(&list, paths.join("\n") + "\n")?;
            let out = ts(exe, &dir)
                .args(["parse", "--quiet", "--stat", "--paths"])
                .arg(&list)
                .output()
                .context("running tree-sitter parse")?;
            let text = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() || text.contains("ERROR") || text.contains("MISSING") {
                bail!("files the compiler parses do not parse cleanly:\n{}", text.trim_end());
            }
            Ok(())
        },
    )
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)
                .with_context(|| format!("copying {}", e.path().display()))?;
        }
    }
    Ok(())
}
