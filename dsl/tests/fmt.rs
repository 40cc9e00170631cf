//! `pcidevc fmt` ([`pcidevc_dsl::fmt`]) on every spec and corpus file: it
//! keeps every token and comment, never changes what a spec means (the IR,
//! or the diagnostics of an invalid spec, are the same before and after,
//! spans aside), is idempotent, and refuses exactly the files that do not
//! parse.

use pcidevc_dsl::fmt::{TokKind, format, lex};
use pcidevc_dsl::parse::FsLoader;
use pcidevc_dsl::{Compiled, compile_bytes};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn pcidev_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("corpus directory") {
        let p = e.expect("readable directory").path();
        if p.is_dir() {
            pcidev_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "pcidev") {
            out.push(p);
        }
    }
}

fn all_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for d in ["specs", "dsl/tests/valid", "dsl/tests/invalid"] {
        pcidev_files(&root().join(d), &mut v);
    }
    v.sort();
    v
}

fn tokens(text: &str) -> Vec<(TokKind, &str)> {
    lex(text)
        .into_iter()
        .map(|t| (t.kind, &text[t.start..t.end]))
        .collect()
}

/// What a compilation means: positions (spans, a step's line) and
/// whitespace (in a step's source text) aside.
fn meaning(c: &Compiled) -> String {
    let spans = regex_lite_spans(&format!("{:?}", c.device));
    let spans: String = spans
        .split("line: ")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                part.trim_start_matches(|c: char| c.is_ascii_digit())
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect();
    let diags: Vec<String> = c
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    format!("{spans}\n{}", diags.join("\n"))
}

/// Replace `Span { file: .., start: N, end: M }` with `Span`.
fn regex_lite_spans(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("Span {") {
        out.push_str(&rest[..i]);
        out.push_str("Span");
        let after = &rest[i..];
        let close = after.find('}').expect("span closes");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

fn compile_as(path: &Path, text: &str) -> Compiled {
    compile_bytes(
        &path.display().to_string(),
        Some(path),
        text.as_bytes().to_vec(),
        &mut FsLoader,
    )
}

#[test]
fn formatting_keeps_tokens_comments_and_meaning_and_is_idempotent() {
    let files = all_files();
    let mut formatted_count = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // not UTF-8: the corpus's E0006 file
        };
        let Some(out) = format(&text) else {
            // Refused: the parser must have a syntax-level error for it.
            let c = compile_as(path, &text);
            assert!(
                c.diagnostics
                    .iter()
                    .any(|d| d.span.file.0 == 0 && matches!(d.code, "E0001" | "E0003" | "E0010")),
                "{}: not formatted, yet it has no syntax error",
                path.display()
            );
            continue;
        };
        formatted_count += 1;
        let shown = path.display();
        assert_eq!(tokens(&text), tokens(&out), "{shown}: tokens changed");
        assert_eq!(
            format(&out).as_deref(),
            Some(out.as_str()),
            "{shown}: not idempotent"
        );
        assert!(
            out.ends_with('\n') && !out.ends_with("\n\n") || out.is_empty(),
            "{shown}"
        );
        for line in out.lines() {
            assert_eq!(line, line.trim_end(), "{shown}: trailing blanks");
            let indent = line.len() - line.trim_start().len();
            assert!(
                indent % 4 == 0 || line.trim_start().starts_with('*'),
                "{shown}: indentation of `{line}`"
            );
        }
        assert!(
            meaning(&compile_as(path, &text)) == meaning(&compile_as(path, &out)),
            "{shown}: formatting changed the meaning"
        );
    }
    assert!(
        formatted_count >= 120,
        "only {formatted_count} files formatted"
    );
}

#[test]
fn canonical_layout() {
    let text = "// head\nlanguage 2;\n\n\ndevice t {   id 0x1b36:0x0001;  /* inline */ state x:u32=0; // trailing\n\
        hook f ( a : u32 ) -> u32 ;\n bar 0 mem32 size 4K { register A [2] @ 0x0 : u32 rw {\n\
        field f [ 3 : 0 ] rw { a = 1 , b = 2 } ; on write { if value==1 { x = - x ; } else if ! x { x = f( value , 1 ) ; } else { } }\n\
        read if x > 0 { names [ index ] } else { ~ 0 } ; } }\n\
        scenario s { write A = 1 ;\n\n\n   // own line\n expect dma [ 0 .. 4 ] == random( 1 ) ;\n } }\n";
    let want = "// head\nlanguage 2;\n\ndevice t {\n    id 0x1b36:0x0001; /* inline */\n    state x: u32 = 0; // trailing\n\
        \x20   hook f(a: u32) -> u32;\n    bar 0 mem32 size 4K {\n        register A[2] @ 0x0 : u32 rw {\n\
        \x20           field f [3:0] rw { a = 1, b = 2 };\n            on write {\n\
        \x20               if value == 1 {\n                    x = -x;\n                } else if !x {\n\
        \x20                   x = f(value, 1);\n                } else {}\n            }\n\
        \x20           read if x > 0 { names[index] } else { ~0 };\n        }\n    }\n\
        \x20   scenario s {\n        write A = 1;\n\n        // own line\n        expect dma[0 .. 4] == random(1);\n    }\n}\n";
    let got = format(text).expect("parses");
    assert_eq!(got, want, "\n{got}");
    assert_eq!(format(&got).as_deref(), Some(want));
}

#[test]
fn comments_inside_an_item_stay_and_indent_as_continuations() {
    let text = "device t {\n    id 0x1b36:0x0001;\n    hook f(a: u32,\n        // why two\n        b: u32);\n}\n";
    let got = format(text).expect("parses");
    assert_eq!(got, text);
}

#[test]
fn a_file_that_does_not_parse_is_refused() {
    assert_eq!(format("device t { id 0x1b36:0x0001 }"), None);
    assert_eq!(format("device t { /* unclosed"), None);
    assert_eq!(format(&"(".repeat(100)), None);
}

#[test]
fn included_fragments_are_formatted_too() {
    let device_items = "state x:u32;\nhook f();\n";
    assert_eq!(
        format(device_items).as_deref(),
        Some("state x: u32;\nhook f();\n")
    );
    let bar_items = "register A @ 0 : u32 rw;register B @ 4 : u32 rw { field f [0] rw; }";
    assert_eq!(
        format(bar_items).as_deref(),
        Some("register A @ 0 : u32 rw;\nregister B @ 4 : u32 rw {\n    field f [0] rw;\n}\n")
    );
}

#[test]
fn interrupt_protocol_items_are_laid_out() {
    let text = "device t { id 0x1b36:0x0001; interrupt { pin A ;mine ( IIR & 1 )==0 ;\n\
        ack CLR = 1   when IIR==6; ack LAST=IIR.id ; } }\n";
    let want = "device t {\n    id 0x1b36:0x0001;\n    interrupt {\n        pin A;\n\
        \x20       mine (IIR & 1) == 0;\n        ack CLR = 1 when IIR == 6;\n        ack LAST = IIR.id;\n    }\n}\n";
    let got = format(text).expect("parses");
    assert_eq!(got, want, "\n{got}");
    assert_eq!(format(&got).as_deref(), Some(want));
}

/// Language v2's items are laid out like v1's: a stream holds its items on
/// lines of their own, timers and `on input` hold blocks, `fn` and method
/// calls glue their parentheses, `fifo` its bracket (a stream used to be
/// joined onto one line).
#[test]
fn language_v2_items_get_the_canonical_layout() {
    let messy = "language 2;\ndevice t { id 0x1b36:0x1; state rx: fifo [u8; 4] sticky;\n\
        timer tick { start tick after 5 ms; rx.pop (); }\nfn f (a: u8) -> u8 = a + 1;\n\
        stream line { ready rx.len < 4; on input { rx.push(byte); send line byte; } }\n\
        bar 0 mem32 size 4K { register A @ 0x0 : u32 rw; }\n\
        scenario s { repeat 2 { write A = 1; } advance 1 ms; input line \"ab\"; expect rx.len != 0; } }\n";
    let want = "language 2;
device t {
    id 0x1b36:0x1;
    state rx: fifo[u8; 4] sticky;
    timer tick {
        start tick after 5 ms;
        rx.pop();
    }
    fn f(a: u8) -> u8 = a + 1;
    stream line {
        ready rx.len < 4;
        on input {
            rx.push(byte);
            send line byte;
        }
    }
    bar 0 mem32 size 4K {
        register A @ 0x0 : u32 rw;
    }
    scenario s {
        repeat 2 {
            write A = 1;
        }
        advance 1 ms;
        input line \"ab\";
        expect rx.len != 0;
    }
}
";
    let got = format(messy).expect("formats");
    assert_eq!(got, want);
    assert_eq!(format(&got).as_deref(), Some(want), "idempotent");
}
