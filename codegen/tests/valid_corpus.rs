//! Smoke test of every backend on the front end's valid corpus
//! (`dsl/tests/valid/*.pcidev`, which together use every construct of the
//! language) and on the shipped `specs/*.pcidev`: each renders without
//! panicking, and the model is valid Rust.

use pcidevc_codegen::{generate, model, summary};

mod common;
use common::specs;

#[test]
fn every_valid_spec_renders() {
    let specs = specs();
    assert!(specs.len() >= 7, "{specs:?}");
    for path in &specs {
        let c = pcidevc_dsl::compile_file(path);
        let dev = c.device.unwrap_or_else(|| {
            let diags: Vec<String> = c.diagnostics.iter().map(|d| d.short(&c.sources)).collect();
            panic!("{} does not compile:\n{}", path.display(), diags.join("\n"))
        });
        let summary = summary::render(&dev);
        assert!(summary.contains(&dev.name), "{}: summary", path.display());
        for file in generate(&dev) {
            assert!(
                !file.contents.is_empty(),
                "{}: {} is empty",
                path.display(),
                file.path.display()
            );
        }
        let source = model::render_source(&dev);
        assert!(
            !source.starts_with("compile_error!"),
            "{}: the model is not valid Rust: {source}",
            path.display()
        );
        syn::parse_file(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Rendering is a pure function of the IR.
        assert_eq!(source, model::render_source(&dev), "{}", path.display());
    }
}
