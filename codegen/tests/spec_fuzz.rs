//! Random valid specs through every backend (`cargo xtask spec-fuzz`):
//! the promise "generated Rust is formatted and clippy-clean for every
//! valid spec" tried beyond the fixed corpus.
//!
//! `pcidevc_dsl::synthetic::random::spec(seed)` writes a spec per seed
//! (`SPEC_FUZZ_SEED`, default 1, and the `SPEC_FUZZ_COUNT` - default 200 -
//! seeds after it). Each one the front end accepts is compiled by every
//! backend twice (the outputs must be byte-identical), its model goes into
//! one scratch crate (one module per spec, as `corpus_models.rs` does) under
//! `<target>/spec-fuzz/`, and then, once each: `rustfmt --check` on the
//! models, `cargo clippy --all-targets -- -D warnings`, and `cargo test`
//! (every spec without hooks runs its scenarios). The specs themselves are
//! written to `<target>/spec-fuzz/specs/` for minimising a failure by hand
//! (and `pcidevc` / `cargo xtask build-module` on one).
//!
//! `#[ignore]`d: about two minutes at the default count on two cores, warm
//! (see `cargo xtask spec-fuzz`); not part of `cargo test`.
//! `SPEC_FUZZ_FRONT_ONLY=1` stops after the front end and the backends
//! (no rustfmt, clippy or scenario run): which seeds are valid, and why the
//! others were refused. `SPEC_FUZZ_ALL_LINTS=1` forces on the lints the
//! models allow because they judge the spec's own logic
//! (`pcidevc_codegen::model::SPEC_LOGIC_LINTS`), to find the generator's
//! own occurrences among them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/scratch.rs"]
mod scratch;
use scratch::{target_dir, workspace_root, write_if_changed};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run(dir: &Path, program: &std::ffi::OsStr, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .map_err(|e| format!("running {program:?} {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let shown = if args.len() > 8 {
            format!("{} ...", args[..8].join(" "))
        } else {
            args.join(" ")
        };
        Err(format!(
            "`{} {shown}` failed in {}:\n{}\n{}",
            program.to_string_lossy(),
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The provisioned kernel tree's `.rustfmt.toml` (as `tests/driver.rs`
/// finds it), if there is one.
fn kernel_rustfmt_toml() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let tree = if let Some(tree) = var("PCIDEVC_KERNEL_TREE") {
        PathBuf::from(tree)
    } else {
        let cache = if let Some(dir) = var("PCIDEVC_CACHE") {
            PathBuf::from(dir)
        } else if let Some(dir) = var("XDG_CACHE_HOME") {
            PathBuf::from(dir).join("pcidevc")
        } else {
            PathBuf::from(var("HOME")?).join(".cache/pcidevc")
        };
        let version = std::fs::read_to_string(cache.join("src/linux-source-7.3.selected")).ok()?;
        cache.join(format!("src/linux-source-7.3_{}", version.trim()))
    };
    let toml = tree.join(".rustfmt.toml");
    toml.is_file().then_some(toml)
}

/// A long compiler report shortened: each distinct diagnostic with its
/// count and first location, most frequent first, then the report's first
/// lines.
fn summarise(report: &str) -> String {
    let mut seen: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let lines: Vec<&str> = report.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let is_diag = (l.starts_with("error") || l.starts_with("warning"))
            && !l.starts_with("error: could not compile")
            && !l.starts_with("warning: build failed");
        if is_diag {
            let at = lines
                .get(i + 1)
                .map(|n| n.trim().trim_start_matches("--> ").to_string())
                .unwrap_or_default();
            let e = seen.entry(l.to_string()).or_insert((0, at));
            e.0 += 1;
        }
    }
    let mut v: Vec<_> = seen.into_iter().collect();
    v.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let mut out = String::new();
    for (msg, (n, at)) in &v {
        out.push_str(&format!("{n:>6} x {msg}  (first: {at})\n"));
    }
    let head: Vec<&str> = lines.iter().take(120).copied().collect();
    format!("{out}--- first lines:\n{}", head.join("\n"))
}

#[test]
#[ignore = "minutes: run with `cargo xtask spec-fuzz`"]
fn random_specs_generate_formatted_clippy_clean_deterministic_code() {
    let seed = env_u64("SPEC_FUZZ_SEED", 1);
    let count = env_u64("SPEC_FUZZ_COUNT", 200);
    let dir = target_dir().join("spec-fuzz");
    let _ = std::fs::remove_dir_all(dir.join("src"));
    let _ = std::fs::remove_dir_all(dir.join("specs"));
    let root = workspace_root().canonicalize().expect("workspace root");
    let runtime = root.join("runtime");
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            r#"# Written by codegen/tests/spec_fuzz.rs: random specs' models.
[package]
name = "spec-fuzz-models"
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

    let mut rejected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut valid = 0u64;
    let mut lib = String::from("//! Random specs' generated models, one module per spec.\n\n");
    let mut drivers = Vec::new();
    let _ = std::fs::remove_dir_all(dir.join("out"));
    for s in seed..seed + count {
        let text = pcidevc_dsl::synthetic::random::spec(s);
        let name = format!("fuzz_{s}");
        write_if_changed(&dir.join("specs").join(format!("{name}.pcidev")), &text);
        assert_eq!(
            text,
            pcidevc_dsl::synthetic::random::spec(s),
            "seed {s}: generator not deterministic"
        );
        let c = pcidevc_dsl::compile_str(&format!("{name}.pcidev"), &text);
        let Some(dev) = c.device else {
            let first = c.errors().next().expect("no device means an error");
            let e = rejected
                .entry(format!("{} {}", first.code, first.message))
                .or_insert((0, s));
            e.0 += 1;
            continue;
        };
        valid += 1;
        // Every backend, twice: byte-identical.
        let once = std::panic::catch_unwind(|| pcidevc_codegen::generate(&dev));
        let Ok(once) = once else {
            failures.push(format!("seed {s}: a backend panicked"));
            continue;
        };
        let again = pcidevc_dsl::compile_str(&format!("{name}.pcidev"), &text)
            .device
            .expect("compiles again");
        if once != pcidevc_codegen::generate(&again) {
            failures.push(format!("seed {s}: output differs between two runs"));
        }
        for f in &once {
            if f.contents.contains("rendering failed") {
                failures.push(format!("seed {s}: {} failed to render", f.path.display()));
            }
        }
        // Every output under out/<name>/ (for `cargo xtask build-module`).
        for f in &once {
            write_if_changed(&dir.join("out").join(&name).join(&f.path), &f.contents);
        }
        drivers.push(
            dir.join("out")
                .join(&name)
                .join(format!("driver/{name}.rs")),
        );
        let model = once
            .iter()
            .find(|f| f.path == Path::new("model.rs"))
            .expect("a model.rs");
        write_if_changed(&dir.join("src").join(format!("{name}.rs")), &model.contents);
        lib.push_str(&format!("pub mod {name};\n"));
    }
    write_if_changed(&dir.join("src/lib.rs"), &lib);
    eprintln!(
        "spec-fuzz: seeds {seed}..{}: {count} generated, {valid} valid",
        seed + count
    );
    for (why, (n, first)) in &rejected {
        eprintln!("  rejected {n} (first seed {first}): {why}");
    }
    if std::env::var_os("SPEC_FUZZ_FRONT_ONLY").is_some() {
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        return;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The Rust drivers: rustfmt-clean under the kernel's settings.
    let mut fmt_args = vec!["--check".to_string(), "--edition".into(), "2021".into()];
    if let Some(toml) = kernel_rustfmt_toml() {
        fmt_args.push("--config-path".into());
        fmt_args.push(toml.display().to_string());
    }
    fmt_args.extend(drivers.iter().map(|p| p.display().to_string()));
    let fmt_args: Vec<&str> = fmt_args.iter().map(String::as_str).collect();
    if let Err(e) = run(&dir, "rustfmt".as_ref(), &fmt_args) {
        let diffs: Vec<&str> = e.lines().filter(|l| l.starts_with("Diff in")).collect();
        failures.push(format!(
            "rustfmt: {} hunk(s) in the Rust drivers differ, first:\n{}",
            diffs.len(),
            e.lines()
                .skip_while(|l| !l.starts_with("Diff in"))
                .take(30)
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    let mut clippy: Vec<String> = [
        "clippy",
        "--offline",
        "--all-targets",
        "--quiet",
        "-j2",
        "--",
        "-D",
        "warnings",
    ]
    .map(String::from)
    .into();
    // The models allow the lints that judge a spec's own arithmetic and
    // logic; forced back on, they show where the generator's rendering
    // (not the spec) trips them.
    if std::env::var_os("SPEC_FUZZ_ALL_LINTS").is_some() {
        for lint in pcidevc_codegen::model::SPEC_LOGIC_LINTS {
            clippy.extend(["--force-warn".to_string(), lint.to_string()]);
        }
    }
    let clippy: Vec<&str> = clippy.iter().map(String::as_str).collect();
    if let Err(e) = run(&dir, &cargo, &clippy) {
        failures.push(summarise(&e));
    }
    if let Err(e) = run(&dir, &cargo, &["test", "--offline", "--quiet", "-j2"]) {
        let failed: Vec<&str> = e
            .lines()
            .filter(|l| l.contains("FAILED") || l.contains("panicked") || l.starts_with("error"))
            .take(60)
            .collect();
        failures.push(format!("cargo test (scenarios):\n{}", failed.join("\n")));
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
