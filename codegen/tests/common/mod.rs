//! What the integration tests share: the specs every backend is tried on.

use std::path::{Path, PathBuf};

/// The front end's valid corpus (`dsl/tests/valid/*.pcidev`, which together
/// use every construct of the language) and the shipped `specs/*.pcidev`,
/// sorted.
pub fn specs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut v = Vec::new();
    for dir in ["dsl/tests/valid", "specs"] {
        for e in std::fs::read_dir(root.join(dir)).expect("corpus directory") {
            let p = e.expect("readable directory").path();
            if p.extension().is_some_and(|e| e == "pcidev") {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}
