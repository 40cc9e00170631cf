//! pcidevc's backends: from the checked [`ir::Device`] to files.
//!
//! - [`model`]: the rust-vmm device model (quote + prettyplease);
//! - [`driver`]: the Rust-for-Linux 7.3 driver skeleton (askama);
//! - [`summary`]: a readable summary of the IR (what the compiler understood);
//!
//! Every backend is a pure function of the IR: the same spec gives
//! byte-identical output (no hash-map iteration order, no timestamps, no
//! absolute paths).

#![warn(missing_docs)]

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
    /// Where to write it, relative to the device's output directory
    /// (`model.rs`, `doc/<device>.md`, ...).
    pub path: PathBuf,
    /// The whole file's text (deterministic for a given spec).
    pub contents: String,
}

impl OutputFile {
    /// The generator's own failure this file stands for, if it is one: a
    /// model that would not have been valid Rust is written as a
    /// `compile_error!` naming the parse error (so a `#[pci_device]` build
    /// fails at the attribute); the CLI reports it instead of writing it.
    pub fn internal_error(&self) -> Option<&str> {
        let prefix = format!("compile_error!(\"{}: ", model::INVALID_RUST);
        let rest = self.contents.strip_prefix(&prefix)?;
        Some(rest.strip_suffix("\");\n").unwrap_or(rest))
    }
}

/// Everything `pcidevc SPEC` writes for one device: `model.rs`,
/// `driver/{<name>.rs, <support modules>.rs, Kbuild, Makefile}` and
/// `summary.txt`.
pub fn generate(dev: &ir::Device) -> Vec<OutputFile> {
    let mut files = Vec::new();
    generate_each(dev, |f| {
        files.push(f);
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    files
}

/// [`generate`]'s files one at a time, in the same order, each handed to
/// `each` as soon as it is produced (so a caller writing them holds one
/// file at a time, not all). Stops at `each`'s first error.
pub fn generate_each<E>(
    dev: &ir::Device,
    mut each: impl FnMut(OutputFile) -> Result<(), E>,
) -> Result<(), E> {
    each(model::render(dev))?;
    for f in driver::render(dev) {
        each(f)?;
    }
    each(OutputFile {
        path: PathBuf::from("summary.txt"),
        contents: summary::render(dev),
    })?;
    doc::render_each(dev, &mut each)?;
    // The header's macros, computed once: the C driver names them.
    let (groups, names) = c_header::groups(dev);
    each(c_header::render_groups(dev, &groups))?;
    drop(groups);
    for f in c_driver::render_names(dev, &names) {
        each(f)?;
    }
    Ok(())
}

/// A scenario's steps with every `repeat` unrolled (the `Repeat` markers
/// themselves dropped), for backends that emit straight-line code. The
/// checker bounds the unrolled length (`MAX_EXPANDED_STEPS`); a malformed
/// repeat (a body longer than what follows) takes what there is.
pub(crate) fn unrolled_steps(steps: &[ir::Step]) -> Vec<&ir::Step> {
    fn walk<'a>(steps: &'a [ir::Step], out: &mut Vec<&'a ir::Step>) {
        let mut i = 0;
        while let Some(st) = steps.get(i) {
            if let ir::StepKind::Repeat { count, len } = st.kind {
                let end = (i + 1 + len as usize).min(steps.len());
                let body = &steps[i + 1..end];
                for _ in 0..count {
                    walk(body, out);
                }
                i = end;
            } else {
                out.push(st);
                i += 1;
            }
        }
    }
    let mut out = Vec::new();
    walk(steps, &mut out);
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use pcidev_core::scenario::{Loc, Step};

    fn st(line: usize, kind: ir::StepKind) -> ir::Step {
        ir::Step {
            kind,
            text: String::new(),
            line,
            span: Default::default(),
        }
    }

    #[test]
    fn repeats_unroll_in_order_and_nest() {
        let r = |line| st(line, Step::Read(Loc::bar(0, 0, 1)));
        // a; repeat 2 { b; repeat 3 { c } }; d
        let steps = vec![
            r(1),
            st(2, Step::Repeat { count: 2, len: 3 }),
            r(3),
            st(4, Step::Repeat { count: 3, len: 1 }),
            r(5),
            r(6),
        ];
        let lines: Vec<usize> = unrolled_steps(&steps).iter().map(|s| s.line).collect();
        assert_eq!(lines, [1, 3, 5, 5, 5, 3, 5, 5, 5, 6]);
        // A repeat whose body runs past the end takes what there is.
        let bad = vec![st(1, Step::Repeat { count: 2, len: 9 }), r(2)];
        let lines: Vec<usize> = unrolled_steps(&bad).iter().map(|s| s.line).collect();
        assert_eq!(lines, [2, 2]);
    }

    #[test]
    fn a_model_that_is_not_rust_is_an_internal_error() {
        let file = |contents: &str| OutputFile {
            path: PathBuf::from("model.rs"),
            contents: contents.into(),
        };
        let broken = format!(
            "compile_error!(\"{}: unexpected token, expected `;`\");\n",
            model::INVALID_RUST
        );
        assert_eq!(
            file(&broken).internal_error(),
            Some("unexpected token, expected `;`")
        );
        assert_eq!(file("//! Device model\n").internal_error(), None);
        // What every valid spec gets: a model that is not one.
        let dev = pcidevc_dsl::compile_str("t.pcidev", "device t { id 0x1234:0x5678; }")
            .device
            .expect("valid");
        assert!(generate(&dev).iter().all(|f| f.internal_error().is_none()));
    }
}
