//! The `pcidevc` binary as users run it: exit statuses, outputs, JSON
//! diagnostics, `check`, `explain`, `completions`, `--check` drift.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pcidevc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pcidevc"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn hello_tic() -> PathBuf {
    repo().join("specs/hello_tic.pcidev")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("pcidevc runs")
}

fn bad_spec(dir: &Path) -> PathBuf {
    let p = dir.join("bad.pcidev");
    std::fs::write(
        &p,
        "device bad {\n    id 0x1234:0x0001;\n    bar 0 mem32 size 64 {\n        register FOO @ 0x0 : u32 rw;\n        register BAR @ 0x2 : u16 ro;\n    }\n}\n",
    )
    .unwrap();
    p
}

#[test]
fn a_valid_spec_writes_its_files_and_exits_0() {
    let out = tempfile::tempdir().unwrap();
    let o = run(pcidevc().arg(hello_tic()).arg("-o").arg(out.path()));
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in [
        "model.rs",
        "summary.txt",
        "driver/hello_tic.rs",
        "driver/Kbuild",
        "driver/Makefile",
        "doc/index.html",
        "doc/hello_tic.md",
        "hello_tic.h",
        "driver_c/hello_tic.c",
        "driver_c/pcidevc_selftest.h",
        "driver_c/Kbuild",
        "driver_c/Makefile",
    ] {
        assert!(out.path().join("hello_tic").join(f).is_file(), "{f}");
    }
    // The warning is printed, and is not an error.
    assert!(String::from_utf8_lossy(&o.stderr).contains("W0001"));
}

#[test]
fn spec_errors_exit_1_with_code_and_location() {
    let dir = tempfile::tempdir().unwrap();
    let spec = bad_spec(dir.path());
    let o = run(pcidevc()
        .arg("check")
        .arg(&spec)
        .arg("--color")
        .arg("never"));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("E0302") && err.contains("bad.pcidev:5:24"),
        "{err}"
    );
    assert!(err.contains("help:"), "a hint: {err}");
}

#[test]
fn json_diagnostics_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let spec = bad_spec(dir.path());
    let o = run(pcidevc()
        .arg("check")
        .arg(&spec)
        .args(["--message-format", "json"]));
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 1);
    let d = &lines[0];
    assert_eq!(d["code"], "E0302");
    assert_eq!(d["severity"], "error");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(5), Some(24))
    );
    assert_eq!(d["related"][0]["line"], 4, "the other register");
    assert!(d["hint"].is_string());
}

#[test]
fn usage_and_io_errors_exit_2() {
    let o = run(pcidevc().arg("/no/such/spec.pcidev"));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
    let o = run(pcidevc().arg("--no-such-flag"));
    assert_eq!(o.status.code(), Some(2));
    let o = run(pcidevc().args(["explain", "E9999"]));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let o = run(pcidevc()
        .current_dir(out.path())
        .arg("check")
        .arg(hello_tic()));
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn deny_warnings_turns_a_warning_into_a_failure() {
    let o = run(pcidevc()
        .arg("check")
        .arg(hello_tic())
        .arg("--deny-warnings"));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn drift_check_prints_a_diff_and_exits_1() {
    let out = tempfile::tempdir().unwrap();
    let compile = |extra: &[&str]| {
        run(pcidevc()
            .arg(hello_tic())
            .arg("-o")
            .arg(out.path())
            .args(extra))
    };
    assert_eq!(compile(&[]).status.code(), Some(0));
    assert_eq!(compile(&["--check"]).status.code(), Some(0), "fresh");
    let summary = out.path().join("hello_tic/summary.txt");
    let text = std::fs::read_to_string(&summary).unwrap();
    std::fs::write(&summary, text.replace("PCI Hello World", "PCI Hello Wrold")).unwrap();
    let o = compile(&["--check"]);
    assert_eq!(o.status.code(), Some(1), "stale");
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(
        diff.contains("-description: PCI Hello Wrold")
            && diff.contains("+description: PCI Hello World"),
        "{diff}"
    );
    assert!(
        std::fs::read_to_string(&summary).unwrap().contains("Wrold"),
        "--check writes nothing"
    );
}

#[test]
fn explain_and_completions() {
    let o = run(pcidevc().args(["explain", "E0302"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("overlapping registers"));
    let o = run(pcidevc().arg("explain"));
    assert!(
        String::from_utf8_lossy(&o.stdout).lines().count() >= 40,
        "every code listed"
    );
    let o = run(pcidevc().args(["completions", "bash"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("pcidevc"));
}
