//! A big spec's model has no big function: rustc checks a function in time
//! that grows faster than its size, so a model whose code is one function
//! over every register (or state) does not compile at 100,000 registers.
//! The synthetic spec of 3,000 registers (1,000 per BAR, 750 states, 2,250
//! stored registers), and the corpus's big spec, are generated here and
//! every function of their models measured in lines: each is at most a
//! run's worth, where one function over every register would be thousands.
//! (That the runs behave is the differential and snapshot tests' job:
//! `interp/tests`, on `dsl/tests/valid/big_spec.pcidev`.)

use pcidevc_codegen::model::render_source;

/// The longest a function of a big model may be: a run of 256 registers
/// whose arms take up to four lines (a write returning its own level).
const MAX_FN_LINES: usize = 4 * 256 + 40;

/// Each function of the formatted `model` with its length in lines.
fn functions(model: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = model.lines().collect();
    let mut open: Vec<(String, String, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let mut head = body;
        for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const "] {
            head = head.strip_prefix(prefix).unwrap_or(head);
        }
        if let Some(rest) = head.strip_prefix("fn ")
            && !line.trim_end().ends_with(';')
        {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            open.push((indent.to_string(), name, i));
        }
        if let Some((ind, _, _)) = open.last()
            && *line == format!("{ind}}}")
        {
            let (_, name, start) = open.pop().unwrap();
            out.push((name, i - start + 1));
        }
    }
    assert!(open.is_empty(), "unclosed functions: {open:?}");
    out
}

fn check(name: &str, text: &str) {
    let c = pcidevc_dsl::compile_str(name, text);
    let dev = c.device.unwrap_or_else(|| panic!("{name} compiles"));
    let model = render_source(&dev);
    let fns = functions(&model);
    assert!(fns.len() > 1000, "{name}: {} functions found", fns.len());
    let (longest, lines) = fns.iter().max_by_key(|f| f.1).cloned().unwrap();
    assert!(
        lines <= MAX_FN_LINES,
        "{name}: `{longest}` is {lines} lines (at most {MAX_FN_LINES})"
    );
    // The model is in runs and parts, and its registers all served.
    for piece in [
        "fn bar0_read_",
        "fn read_register_b0_",
        "fn save_storage_1",
        "StoragePart1",
        "StatePart1",
        "fn probe_states_1",
    ] {
        assert!(model.contains(piece), "{name}: no `{piece}`");
    }
}

#[test]
fn the_synthetic_3000_register_model_has_no_big_function() {
    check("synthetic.pcidev", &pcidevc_dsl::synthetic::spec(3000));
}

#[test]
fn the_corpus_big_spec_has_no_big_function() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dsl/tests/valid/big_spec.pcidev");
    check("big_spec.pcidev", &std::fs::read_to_string(path).unwrap());
}

/// The measure itself: a flat model's dispatch is found as long.
#[test]
fn a_long_function_is_measured() {
    let mut text = String::from("fn short() {\n    a();\n}\n\nimpl X {\n    fn long(&self) {\n");
    text.extend((0..2000).map(|i| format!("        f{i}();\n")));
    text.push_str("    }\n}\n");
    let fns = functions(&text);
    assert_eq!(
        fns,
        vec![("short".to_string(), 3), ("long".to_string(), 2002)]
    );
}
