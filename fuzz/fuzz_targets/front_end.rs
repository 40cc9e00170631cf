//! The front end on arbitrary bytes: never a panic, and every diagnostic
//! well-formed (the same checks as `dsl/tests/no_panic.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pcidevc_dsl::parse::NoIncludes;
use pcidevc_dsl::{compile_bytes, diag};

fuzz_target!(|data: &[u8]| {
    let c = compile_bytes("fuzz.pcidev", None, data.to_vec(), &mut NoIncludes);
    let file_len = |id| c.sources.get(id).map(|f| f.text.len());
    assert!(file_len(pcidevc_dsl::source::FileId(0)).is_some_and(|l| l <= data.len()));
    for d in &c.diagnostics {
        assert!(diag::explain(d.code).is_some(), "unknown code {}", d.code);
        for span in std::iter::once(d.span).chain(d.related.iter().map(|l| l.span)) {
            let len = file_len(span.file).expect("span in a known file");
            assert!(span.start <= span.end && span.end <= len, "{} at {span:?}", d.code);
        }
        let _ = d.short(&c.sources);
    }
    assert_eq!(c.device.is_some(), !c.has_errors(), "IR iff no error");
    if data.len() <= 4096 {
        let _ = diag::render(&c.diagnostics, &c.sources, false);
    }
});
