//! The `pcidevc` binary as users run it: exit statuses, outputs, the three
//! diagnostic formats (rustc's human layout, short, rustc's JSON), `check`,
//! `explain`, `completions`, `--check` drift and stray files.

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

/// `pcidevc hello_tic.pcidev -o OUT EXTRA...`, without colors.
fn compile_hello_tic(out: &Path, extra: &[&str]) -> Output {
    run(pcidevc()
        .arg(hello_tic())
        .arg("-o")
        .arg(out)
        .args(["--color", "never"])
        .args(extra))
}

/// Make hello_tic's generated summary under `out` stale.
fn misspell_summary(out: &Path) -> PathBuf {
    let summary = out.join("hello_tic/summary.txt");
    let text = std::fs::read_to_string(&summary).unwrap();
    std::fs::write(&summary, text.replace("PCI Hello World", "PCI Hello Wrold")).unwrap();
    summary
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
        "driver/pci_ext.rs",
        "driver/pio.rs",
        "driver/selftest.rs",
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

/// What rustc prints for this kind of error: header with code, one
/// location, the secondary site `---` with its label, the primary `^^^`,
/// the help; then cargo's closing line.
const BAD_HUMAN: &str = "\
error[E0302]: register `BAR` overlaps register `FOO`
 --> bad.pcidev:5:24
  |
4 |         register FOO @ 0x0 : u32 rw;
  |                        --- `FOO` is 0x0..0x4
5 |         register BAR @ 0x2 : u16 ro;
  |                        ^^^ 0x2..0x4
  |
  = help: to show one value at two offsets, read a `state` from two registers

";

#[test]
fn human_diagnostics_use_rustc_layout() {
    let dir = tempfile::tempdir().unwrap();
    bad_spec(dir.path());
    let o =
        run(pcidevc()
            .current_dir(dir.path())
            .args(["check", "bad.pcidev", "--color", "never"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!("{BAD_HUMAN}error: could not compile `bad.pcidev` due to 1 previous error\n")
    );
}

#[test]
fn short_format_is_one_line_per_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    bad_spec(dir.path());
    let o = run(pcidevc().current_dir(dir.path()).args([
        "check",
        "bad.pcidev",
        "--message-format",
        "short",
        "--color",
        "never",
    ]));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "bad.pcidev:5:24: error[E0302]: register `BAR` overlaps register `FOO`\n\
         error: could not compile `bad.pcidev` due to 1 previous error\n"
    );
}

#[test]
fn colors_follow_color_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let spec = bad_spec(dir.path());
    let ansi = |args: &[&str], no_color: bool| {
        let mut cmd = pcidevc();
        cmd.arg("check").arg(&spec).args(args);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        run(&mut cmd).stderr.contains(&0x1b)
    };
    assert!(ansi(&["--color", "always"], false));
    assert!(ansi(&["--color", "always"], true), "always beats NO_COLOR");
    assert!(!ansi(&["--color", "never"], false));
    // auto: stderr is a pipe here, so no colors either way.
    assert!(!ansi(&[], false));
    assert!(!ansi(
        &["--message-format", "short", "--color", "never"],
        false
    ));
}

/// stdout of a JSON run: every line one JSON object.
fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn json_diagnostics_have_rustc_shape() {
    let dir = tempfile::tempdir().unwrap();
    let spec = bad_spec(dir.path());
    let source = std::fs::read_to_string(&spec).unwrap();
    let o = run(pcidevc().current_dir(dir.path()).args([
        "check",
        "bad.pcidev",
        "--message-format",
        "json",
    ]));
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&o.stdout);
    assert_eq!(lines.len(), 1);
    let d = &lines[0];
    assert_eq!(d["$message_type"], "diagnostic");
    assert_eq!(d["message"], "register `BAR` overlaps register `FOO`");
    assert_eq!(d["level"], "error");
    assert_eq!(d["code"]["code"], "E0302");
    assert!(
        d["code"]["explanation"]
            .as_str()
            .is_some_and(|e| e.starts_with("Two registers of one BAR share bytes"))
    );
    assert_eq!(d["rendered"], BAD_HUMAN, "rendered = the human form");
    let spans = d["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    let text_of = |s: &serde_json::Value| {
        &source
            [s["byte_start"].as_u64().unwrap() as usize..s["byte_end"].as_u64().unwrap() as usize]
    };
    let (primary, other) = (&spans[0], &spans[1]);
    assert_eq!(primary["is_primary"], true);
    assert_eq!(primary["file_name"], "bad.pcidev");
    assert_eq!(text_of(primary), "0x2", "byte offsets into the file");
    assert_eq!(
        [
            &primary["line_start"],
            &primary["line_end"],
            &primary["column_start"],
            &primary["column_end"]
        ],
        [5, 5, 24, 27]
    );
    assert_eq!(primary["label"], "0x2..0x4");
    assert_eq!(
        primary["text"],
        serde_json::json!([{"text": "        register BAR @ 0x2 : u16 ro;", "highlight_start": 24, "highlight_end": 27}])
    );
    for field in [
        "suggested_replacement",
        "suggestion_applicability",
        "expansion",
    ] {
        assert!(primary[field].is_null(), "{field}");
    }
    assert_eq!(other["is_primary"], false);
    assert_eq!(text_of(other), "0x0");
    assert_eq!(other["line_start"], 4);
    assert_eq!(other["label"], "`FOO` is 0x0..0x4");
    assert_eq!(
        d["children"],
        serde_json::json!([{
            "message": "to show one value at two offsets, read a `state` from two registers",
            "code": null, "level": "help", "spans": [], "children": [], "rendered": null
        }])
    );
    // What Rust tools that read rustc's JSON use parses it as well.
    let parsed: cargo_metadata::diagnostic::Diagnostic =
        serde_json::from_value(d.clone()).expect("cargo_metadata reads it");
    assert_eq!(parsed.code.map(|c| c.code).as_deref(), Some("E0302"));
    assert_eq!(parsed.rendered.as_deref(), Some(BAD_HUMAN));
    // The closing line is for people: stderr.
    assert!(String::from_utf8_lossy(&o.stderr).contains("could not compile"));
}

#[test]
fn an_unreadable_spec_has_path_and_os_error_and_no_code_frame() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(pcidevc().current_dir(dir.path()).args([
        "check",
        "missing.pcidev",
        "--color",
        "never",
    ]));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err,
        "error[E0004]: cannot read `missing.pcidev`: No such file or directory (os error 2)\n \
         |\n \
         = help: check the path\n\n\
         error: could not compile `missing.pcidev` due to 1 previous error\n"
    );
    let o = run(pcidevc().current_dir(dir.path()).args([
        "check",
        "missing.pcidev",
        "--message-format",
        "json",
    ]));
    let d = &json_lines(&o.stdout)[0];
    assert_eq!(d["code"]["code"], "E0004");
    assert_eq!(d["spans"], serde_json::json!([]), "no site to point at");
    // A directory is unreadable too, with its own OS error.
    let o = run(pcidevc()
        .current_dir(dir.path())
        .args(["check", ".", "--color", "never"]));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error[E0004]: cannot read `.`: "), "{err}");
    assert!(!err.contains("-->"), "{err}");
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
    let compile = |extra: &[&str]| compile_hello_tic(out.path(), extra);
    assert_eq!(compile(&[]).status.code(), Some(0));
    assert_eq!(compile(&["--check"]).status.code(), Some(0), "fresh");
    let summary = misspell_summary(out.path());
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
fn drift_check_with_json_keeps_stdout_json() {
    let out = tempfile::tempdir().unwrap();
    let compile = |extra: &[&str]| compile_hello_tic(out.path(), extra);
    assert_eq!(compile(&[]).status.code(), Some(0));
    misspell_summary(out.path());
    let o = compile(&["--check", "--message-format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&o.stdout);
    // hello_tic's warning, then the drift.
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["code"]["code"], "W0001");
    let drift = &lines[1];
    assert_eq!(drift["$message_type"], "diagnostic");
    assert_eq!(drift["level"], "error");
    assert!(drift["code"].is_null() && drift["spans"] == serde_json::json!([]));
    assert!(
        drift["message"]
            .as_str()
            .unwrap()
            .ends_with("hello_tic` is out of date"),
        "{drift}"
    );
    assert_eq!(
        drift["children"][0]["message"],
        "differs: summary.txt (diff on stderr)"
    );
    let _: cargo_metadata::diagnostic::Diagnostic =
        serde_json::from_value(drift.clone()).expect("cargo_metadata reads it");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("+description: PCI Hello World"),
        "the diff: {err}"
    );
}

#[test]
fn drift_check_reports_stray_and_missing_files() {
    let out = tempfile::tempdir().unwrap();
    let compile = |extra: &[&str]| compile_hello_tic(out.path(), extra);
    assert_eq!(compile(&[]).status.code(), Some(0));
    let dev = out.path().join("hello_tic");
    std::fs::write(dev.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir(dev.join("old")).unwrap();
    std::fs::write(dev.join("old/model.rs"), "").unwrap();
    std::fs::remove_file(dev.join("driver/Kbuild")).unwrap();
    let o = compile(&["--check"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    for note in [
        "= note: missing: driver/Kbuild (diff on stdout)",
        "= note: stray: notes.txt (pcidevc does not generate it)",
        "= note: stray: old/model.rs (pcidevc does not generate it)",
    ] {
        assert!(err.contains(note), "{note}: {err}");
    }
    assert!(err.contains("delete the stray files"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("+obj-m += hello_tic.o"));
    // Regenerating restores the missing file; the stray ones stay reported
    // (pcidevc never deletes a file it did not write).
    assert_eq!(compile(&["-q"]).status.code(), Some(0));
    let o = compile(&["--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("missing:"));
    std::fs::remove_file(dev.join("notes.txt")).unwrap();
    std::fs::remove_dir_all(dev.join("old")).unwrap();
    assert_eq!(compile(&["--check"]).status.code(), Some(0), "clean again");
    // A kernel build's products beside each driver: the hint names the
    // clean of each directory that has some, with the KDIR it needs.
    std::fs::write(dev.join("driver/hello_tic.ko"), "").unwrap();
    std::fs::write(dev.join("driver_c/.hello_tic.o.cmd"), "").unwrap();
    let err = String::from_utf8_lossy(&compile(&["--check"]).stderr).into_owned();
    for d in ["driver", "driver_c"] {
        let clean = format!(
            "`make -C {} KDIR=<kernel build tree> clean`",
            dev.join(d).display()
        );
        assert!(err.contains(&clean), "{clean}: {err}");
    }
}

#[test]
fn explain_and_completions() {
    let o = run(pcidevc().args(["explain", "E0302"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("overlapping registers"));
    let o = run(pcidevc().args(["explain", "e0302"]));
    assert_eq!(o.status.code(), Some(0), "any case");
    let o = run(pcidevc().arg("explain"));
    assert!(
        String::from_utf8_lossy(&o.stdout).lines().count() >= 40,
        "every code listed"
    );
    let o = run(pcidevc().args(["explain", "E9999"]));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown code `E9999`"));
    let o = run(pcidevc().args(["completions", "bash"]));
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("pcidevc"));
}

#[test]
fn completions_offer_the_codes_after_explain() {
    let script =
        |shell| String::from_utf8(run(pcidevc().args(["completions", shell])).stdout).unwrap();
    let bash = script("bash");
    let explain_opts = bash
        .split("pcidevc__subcmd__explain)")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.trim_start().starts_with("opts=")))
        .expect("explain's bash completions");
    assert!(
        explain_opts.contains("E0302") && explain_opts.contains("W0003"),
        "{explain_opts}"
    );
    let zsh = script("zsh");
    assert!(zsh.contains(r#"E0302\:"overlapping registers""#));
    let fish = script("fish");
    assert!(fish.contains(
        "complete -c pcidevc -n \"__fish_pcidevc_using_subcommand explain\" -f -a E0302 -d 'overlapping registers'"
    ));
    assert!(
        fish.contains("function __fish_pcidevc_using_subcommand"),
        "the helper the code lines use"
    );
}

#[test]
fn subcommands_take_only_their_flags() {
    let help = |args: &[&str]| String::from_utf8(run(pcidevc().args(args)).stdout).unwrap();
    for sub in ["explain", "completions"] {
        let h = help(&[sub, "--help"]);
        for flag in ["--message-format", "--color", "--deny-warnings", "--quiet"] {
            assert!(!h.contains(flag), "`{sub} --help` lists {flag}");
        }
        assert!(h.contains("Examples:"), "{h}");
    }
    let check = help(&["check", "--help"]);
    assert!(check.contains("Spec files to validate") && check.contains("Examples:"));
    assert!(!check.contains("--quiet"), "check writes nothing");
    let o = run(pcidevc().args(["completions", "bash", "--color", "never"]));
    assert_eq!(o.status.code(), Some(2), "not a flag of completions");
}

/// `pcidevc fmt`: `--check` shows a diff and exits 1 without writing;
/// without it the file is rewritten and a second `--check` passes; a file
/// that does not parse gets its diagnostics, exit 1, and is left alone.
#[test]
fn fmt_check_diffs_formats_and_refuses_unparsable_files() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("messy.pcidev");
    let messy = "device messy {  id 0x1b36:0x0001;   // the id\nstate x:u32=0;}\n";
    std::fs::write(&spec, messy).unwrap();

    let out = run(pcidevc().arg("fmt").arg("--check").arg(&spec));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("+    state x: u32 = 0;"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not formatted"));
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), messy);

    let out = run(pcidevc().arg("fmt").arg(&spec));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&spec).unwrap(),
        "device messy {\n    id 0x1b36:0x0001; // the id\n    state x: u32 = 0;\n}\n"
    );
    let out = run(pcidevc().arg("fmt").arg("--check").arg(&spec));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());

    let broken = dir.path().join("broken.pcidev");
    let text = "device broken {\n    id 0x1b36:0x0001\n}\n";
    std::fs::write(&broken, text).unwrap();
    let out = run(pcidevc().arg("fmt").arg(&broken));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error[E0001]"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), text);
}
