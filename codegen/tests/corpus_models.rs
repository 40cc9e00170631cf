//! The generated model of every valid spec (the front end's valid corpus,
//! `dsl/tests/valid/*.pcidev`, and the shipped `specs/*.pcidev`) compiles,
//! is clippy-clean, and passes its own scenarios.
//!
//! All models go into ONE scratch crate (one module per spec, named after
//! the spec file) under this test's target directory
//! (`<target>/corpus-models/`, with its own target directory inside so the
//! nested cargo never waits for the outer one's lock). Then, once each:
//! - `cargo clippy --all-targets --offline -- -D warnings` (the workspace's
//!   lints as well): a lint in generated code is a generator bug;
//! - `cargo test --offline`: every spec without hooks gets its scenarios as
//!   `#[test]`s (`scenarios::tests`), so each valid-corpus scenario runs
//!   against its generated model here (specs with hooks need the user's
//!   Rust; the shipped ones are run by `generated/`).
//!
//! Offline: the scratch crate uses the workspace's `Cargo.lock` and only
//! crates the workspace already depends on (`pcidev-runtime` by path).
//! Needs clippy installed, as CI's `cargo clippy` step does. Cold, this
//! builds the runtime's dependencies twice (check and test profiles), about
//! a minute; warm, a few seconds.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/scratch.rs"]
mod scratch;
use scratch::{target_dir, workspace_root, write_if_changed};

mod common;
use common::specs;

/// Build the scratch crate; returns its directory.
fn scratch_crate() -> PathBuf {
    let dir = target_dir().join("corpus-models");
    let root = workspace_root().canonicalize().expect("workspace root");
    let runtime = root.join("runtime");
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            r#"# Written by codegen/tests/corpus_models.rs: every valid spec's model.
[package]
name = "corpus-models"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
pcidev-runtime = {{ path = {runtime:?} }}

[lints.rust]
unsafe_op_in_unsafe_fn = "deny"
missing_debug_implementations = "warn"

[lints.clippy]
dbg_macro = "warn"

[workspace]
"#
        ),
    );
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).expect("workspace Cargo.lock");
    write_if_changed(&dir.join("Cargo.lock"), &lock);
    let mut lib = String::from("//! Every valid spec's generated model, one module per spec.\n\n");
    for path in specs() {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 spec name")
            .to_string();
        let c = pcidevc_dsl::compile_file(&path);
        let dev = c
            .device
            .unwrap_or_else(|| panic!("{} does not compile", path.display()));
        let source = pcidevc_codegen::model::render_source(&dev);
        write_if_changed(&dir.join("src").join(format!("{stem}.rs")), &source);
        lib.push_str(&format!("pub mod {stem};\n"));
    }
    write_if_changed(&dir.join("src/lib.rs"), &lib);
    dir
}

fn cargo(dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        // The outer build's flags are not the scratch crate's business.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("running cargo {args:?}: {e}"));
    assert!(
        out.status.success(),
        "`cargo {}` failed on the generated models in {}:\n{}\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_valid_model_is_clippy_clean_and_passes_its_scenarios() {
    let dir = scratch_crate();
    cargo(
        &dir,
        &[
            "clippy",
            "--offline",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
    );
    cargo(&dir, &["test", "--offline", "--quiet"]);
}
