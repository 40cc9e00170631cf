//! Determinism of the real `pcidevc` binary.
//!
//! Every spec in `specs/` (and, for more constructs, the front end's valid
//! corpus `dsl/tests/valid/*.pcidev`) is compiled by separate processes, so
//! every `HashMap` gets a different random seed (std has no environment
//! switch for that), from different working directories (spec path
//! relative, absolute, or a bare file name; output directory absolute or
//! relative, in unrelated temporary directories), one spec per process or
//! all in one. Every output file must be byte-identical across runs, and no
//! output may mention where it was built.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

type Tree = BTreeMap<PathBuf, Vec<u8>>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("pcidevc/ is inside the workspace")
        .to_path_buf()
}

/// `DIR/*.pcidev`, sorted, relative to the workspace.
fn specs_in(dir: &str) -> Vec<PathBuf> {
    let ws = workspace();
    let mut specs: Vec<PathBuf> = std::fs::read_dir(ws.join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcidev"))
        .map(|p| {
            p.strip_prefix(&ws)
                .expect("under the workspace")
                .to_path_buf()
        })
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no specs in {dir}");
    specs
}

/// Run `pcidevc -q -o OUT SPECS...` in `cwd`; it must succeed.
fn pcidevc(cwd: &Path, out: &Path, specs: &[PathBuf]) {
    let output = Command::new(env!("CARGO_BIN_EXE_pcidevc"))
        .current_dir(cwd)
        .args(["-q", "--color=never", "-o"])
        .arg(out)
        .args(specs)
        .output()
        .expect("run pcidevc");
    assert!(
        output.status.success(),
        "pcidevc {specs:?} in {} failed: {}\n{}",
        cwd.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every file under `dir`, by path relative to it.
fn tree(dir: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, files: &mut Tree) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_path_buf();
                files.insert(rel, std::fs::read(&path).expect("read output"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn assert_same(a: &Tree, b: &Tree, what: &str) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: different files"
    );
    for (path, bytes) in a {
        assert!(
            *bytes == b[path],
            "{what}: {} differs between runs",
            path.display()
        );
    }
}

/// No output mentions a directory the build ran in.
fn assert_location_free(t: &Tree, places: &[&Path]) {
    for (path, bytes) in t {
        let text = String::from_utf8_lossy(bytes);
        for p in places {
            let p = p.display().to_string();
            assert!(
                !text.contains(&p),
                "{} mentions the build location {p}",
                path.display()
            );
        }
    }
}

/// Each spec alone, three ways, each in its own process:
/// A. from the workspace, spec path relative, output dir absolute;
/// B. from an unrelated directory, spec path absolute, output dir relative;
/// C. from the spec's own directory, bare file name, output dir absolute.
/// Returns run A's tree (one subdirectory per spec index).
fn per_spec_runs(specs: &[PathBuf]) -> Tree {
    let ws = workspace();
    let (a, b, c) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    for (i, spec) in specs.iter().enumerate() {
        let sub = i.to_string();
        pcidevc(&ws, &a.path().join(&sub), std::slice::from_ref(spec));
        pcidevc(b.path(), Path::new(&sub), &[ws.join(spec)]);
        let dir = ws.join(spec.parent().expect("spec in a directory"));
        let name = PathBuf::from(spec.file_name().expect("file name"));
        pcidevc(&dir, &c.path().join(&sub), &[name]);
    }
    let (ta, tb, tc) = (tree(a.path()), tree(b.path()), tree(c.path()));
    assert!(
        (0..specs.len()).all(|i| ta.keys().any(|k| k.starts_with(i.to_string()))),
        "some spec produced nothing: {:?}",
        ta.keys().collect::<Vec<_>>()
    );
    assert_same(
        &ta,
        &tb,
        "relative vs absolute spec path, other working directory",
    );
    assert_same(&ta, &tc, "bare file name from the spec's directory");
    assert_location_free(&ta, &[&ws, a.path(), b.path(), c.path()]);
    ta
}

#[test]
fn shipped_specs_are_byte_identical_across_processes_and_directories() {
    let specs = specs_in("specs");
    let per_spec = per_spec_runs(&specs);

    // All specs in one process give the same files as one per process.
    let ws = workspace();
    let all = tempfile::tempdir().expect("tempdir");
    pcidevc(&ws, all.path(), &specs);
    let together = tree(all.path());
    let mut separate = Tree::new();
    for (path, bytes) in per_spec {
        // Drop the per-spec index directory: `0/hello_tic/model.rs` -> `hello_tic/model.rs`.
        let rel: PathBuf = path.components().skip(1).collect();
        assert!(
            separate.insert(rel.clone(), bytes).is_none(),
            "two specs wrote {}",
            rel.display()
        );
    }
    assert_same(&separate, &together, "one process per spec vs all in one");
    // Every spec produced its own device directory, with a model.
    let devices: std::collections::BTreeSet<PathBuf> = together
        .keys()
        .filter_map(|p| p.components().next())
        .map(|c| PathBuf::from(c.as_os_str()))
        .collect();
    assert_eq!(
        devices.len(),
        specs.len(),
        "one directory per spec: {devices:?}"
    );
    for d in &devices {
        assert!(
            together.contains_key(&d.join("model.rs")),
            "no {}/model.rs",
            d.display()
        );
    }
}

/// The front end's valid corpus uses every construct of the language
/// (includes too), so it reaches code paths hello_tic does not.
#[test]
fn valid_corpus_is_byte_identical_across_processes_and_directories() {
    per_spec_runs(&specs_in("dsl/tests/valid"));
}

/// The shipped specs compiled by many processes in a row: every run's
/// output is identical (each process draws new hash seeds).
#[test]
fn repeated_runs_are_identical() {
    let ws = workspace();
    let specs = specs_in("specs");
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("run0");
    pcidevc(&ws, &first, &specs);
    let reference = tree(&first);
    for i in 1..5 {
        let out = dir.path().join(format!("run{i}"));
        pcidevc(&ws, &out, &specs);
        assert_same(&reference, &tree(&out), &format!("run 0 vs run {i}"));
    }
}
