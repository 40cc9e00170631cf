//! What the tests that build generated models in a scratch crate share
//! (`corpus_models.rs`, `spec_fuzz.rs`): where the workspace and this test
//! binary's target directory are, and writes that keep cargo's fingerprints.

use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target directory this test binary was built in
/// (`<target>/<profile>/deps/<binary>`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .expect("test binary lives in <target>/<profile>/deps")
        .to_path_buf()
}

/// Write `contents` unless the file already holds exactly that (keeps
/// cargo's fingerprints, so a warm run rebuilds nothing).
pub fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    std::fs::create_dir_all(path.parent().expect("file in a directory")).expect("create dir");
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
