//! Windows cost no generated code per byte: a model's source is the same
//! size (up to the digits of the length) whether its window is 64 KiB or
//! 256 MiB, and never holds the buffer as a literal.

use pcidevc_codegen::model;

fn spec(len: &str, bar: &str) -> String {
    format!(
        "device w {{
            id 0x1b36:0x0001;
            state shm: [u8; {len}];
            bar 2 mem64 prefetchable size {bar} {{
                access 1 2 4 8 unaligned;
                window shm @ 0x0;
            }}
        }}"
    )
}

fn model_source(len: &str, bar: &str) -> String {
    let c = pcidevc_dsl::compile_str("w.pcidev", &spec(len, bar));
    let dev = c.device.unwrap_or_else(|| {
        let d: Vec<String> = c.diagnostics.iter().map(|d| d.short(&c.sources)).collect();
        panic!("{}", d.join("\n"))
    });
    model::render_source(&dev)
}

#[test]
fn model_size_does_not_depend_on_the_window_size() {
    let small = model_source("64K", "64K");
    let large = model_source("16M", "16M");
    assert!(
        small.len().abs_diff(large.len()) < 64,
        "64 KiB window: {} bytes of model, 16 MiB: {}",
        small.len(),
        large.len()
    );
    assert!(small.len() < 16 * 1024, "{} bytes", small.len());
    for src in [&small, &large] {
        assert!(
            src.contains("Bytes::new("),
            "the buffer is allocated at run time"
        );
        assert!(
            !src.contains("[0u8;") && !src.contains("[0; 0x"),
            "no array literal"
        );
    }
}
