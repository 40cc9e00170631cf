//! pcidevc's backends: from the checked [`ir::Device`] to files.
//!
//! - [`model`]: the rust-vmm device model (quote + prettyplease);
//! - [`driver`]: the Rust-for-Linux 7.3 driver skeleton (askama);
//! - [`summary`]: a readable summary of the IR (what the compiler understood);
//!
//! Every backend is a pure function of the IR: the same spec gives
//! byte-identical output (no hash-map iteration order, no timestamps, no
//! absolute paths).

pub mod c_driver;
pub mod c_header;
pub mod doc;
pub mod driver;
pub mod model;
pub mod prose;
pub mod summary;

use pcidevc_dsl::ir;
use std::path::PathBuf;

/// Who wrote a generated file, as its header comment names it:
/// `pcidevc 0.1.0 (language 2)`: the compiler's version and the language
/// version the spec was read as. Deterministic (no date, no host).
pub fn generator(dev: &ir::Device) -> String {
    format!(
        "pcidevc {} (language {})",
        env!("CARGO_PKG_VERSION"),
        dev.language
    )
}

/// A support file copied into every output that needs it, with a line
/// naming the [`generator`] after its first (licence) line, as a comment
/// between `open` and `close` (`"//", ""` or `"/*", " */"`).
pub(crate) fn support_file(dev: &ir::Device, text: &str, open: &str, close: &str) -> String {
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    format!(
        "{first}\n{open} Written by {}.{close}\n{rest}",
        generator(dev)
    )
}

/// One generated file, relative to the device's output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    pub contents: String,
}

/// Everything `pcidevc SPEC` writes for one device: `model.rs`,
/// `driver/{<name>.rs, <support modules>.rs, Kbuild, Makefile}` and
/// `summary.txt`.
pub fn generate(dev: &ir::Device) -> Vec<OutputFile> {
    let mut files = vec![model::render(dev)];
    files.extend(driver::render(dev));
    files.push(OutputFile {
        path: PathBuf::from("summary.txt"),
        contents: summary::render(dev),
    });
    files.extend(doc::render(dev));
    files.push(c_header::render(dev));
    files.extend(c_driver::render(dev));
    files
}

/// A rendered text file ending in exactly one newline. Rendering only
/// formats strings, so it cannot fail; if it ever did, the file says so (and
/// does not compile, for code).
pub(crate) fn finish_text(r: askama::Result<String>) -> String {
    match r {
        Ok(mut s) => {
            while s.ends_with("\n\n") {
                s.pop();
            }
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        Err(e) => format!("#error \"pcidevc: rendering failed: {e}\"\n"),
    }
}
