//! Panic freedom: the front end takes any bytes and answers with
//! diagnostics, never a panic, a stack overflow or a runaway.
//!
//! - proptest: mutated versions of every spec of `specs/` and the test
//!   corpora (byte flips, deletions, inserted tokens and brackets,
//!   truncation, duplicated lines), random bytes, and token soup made of the
//!   grammar's keywords and punctuation, at the top level and inside blocks;
//! - prefixes of every shipped and valid spec at a fixed stride (truncated
//!   files);
//! - hostile inputs: a 10 MB line, 100 000 nested brackets, a 1 MB operator
//!   chain, a million `!`, huge numbers, empty input, comments only, BOMs.
//!
//! Every compilation is checked with [`assert_sane`]: spans inside their
//! file, codes from `diag::CODES`, an IR exactly when there is no error.
//!
//! Budget: 300 cases per property; the hostile inputs are a tenth of the
//! sizes above in unoptimised builds (plain `cargo test`: pest parses about
//! 2 MB/s there) and full-size under `cargo test --release`. Set
//! `PROPTEST_RNG_SEED` to replay a run.

use pcidevc_dsl::parse::NoIncludes;
use pcidevc_dsl::{Compiled, compile_bytes, diag};
use proptest::prelude::*;
use proptest::sample::Index;
use std::path::Path;
use std::sync::OnceLock;

/// Divisor of the hostile inputs' sizes in unoptimised builds.
const SCALE: usize = if cfg!(debug_assertions) { 10 } else { 1 };
const MB: usize = 1 << 20;

fn compile(bytes: impl Into<Vec<u8>>) -> Compiled {
    compile_and(bytes, true)
}

/// Compile and check with [`assert_sane`]; `render`: also rendered for people.
fn compile_and(bytes: impl Into<Vec<u8>>, render: bool) -> Compiled {
    let bytes = bytes.into();
    let len = bytes.len();
    let c = compile_bytes("fuzz.pcidev", None, bytes, &mut NoIncludes);
    assert_sane(len, &c, render);
    c
}

/// What holds for every compilation of every input.
fn assert_sane(input_len: usize, c: &Compiled, render: bool) {
    let file_len = |id| c.sources.get(id).map(|f| f.text.len());
    assert!(file_len(pcidevc_dsl::source::FileId(0)).is_some_and(|l| l <= input_len));
    for d in &c.diagnostics {
        assert!(
            diag::explain(d.code).is_some_and(|i| i.code == d.code),
            "unknown code {}",
            d.code
        );
        assert!(d.code.starts_with('E') == d.is_error(), "{}", d.code);
        for span in std::iter::once(d.span).chain(d.related.iter().map(|l| l.span)) {
            let len = file_len(span.file).expect("span in a known file");
            assert!(
                span.start <= span.end && span.end <= len,
                "{} has span {span:?} in a file of {len} bytes",
                d.code
            );
        }
        assert!(!d.message.is_empty());
    }
    assert_eq!(c.device.is_some(), !c.has_errors(), "IR iff no error");
    // A frame shows at most `MAX_FRAME_BYTES` of text, so rendering is
    // bounded on any input, even a 10 MB line.
    if render {
        let rendered = diag::render(&c.diagnostics, &c.sources, false);
        for d in &c.diagnostics {
            assert!(rendered.contains(d.code));
            let _ = d.to_json(&c.sources);
        }
    }
    for d in c.diagnostics.iter().take(200) {
        let _ = d.short(&c.sources);
    }
}

// ------------------------------------------------------------ seeds

fn read_specs(dirs: &[&str]) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in dirs {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("readable directory").path())
            .filter(|p| p.extension().is_some_and(|e| e == "pcidev"))
            .collect();
        paths.sort();
        out.extend(
            paths
                .iter()
                .map(|p| std::fs::read(p).expect("readable spec")),
        );
    }
    out
}

/// The shipped specs and the valid corpus (with its included fragments).
const VALID_DIRS: &[&str] = &["../specs", "tests/valid", "tests/valid/include"];

/// Every spec and fragment of the repository's corpora, invalid ones too.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut dirs = VALID_DIRS.to_vec();
        dirs.extend(["tests/invalid", "tests/invalid/include"]);
        let out = read_specs(&dirs);
        assert!(out.len() > 100);
        out
    })
}

/// The grammar's keywords and punctuation, and a few troublemakers.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "device", "include", "description", "id", "revision", "class", "subsystem", "interrupt",
    "pin", "msi", "level", "status", "ack", "state", "hook", "dma_buffer", "bar", "io", "mem32",
    "mem64", "prefetchable", "size", "access", "unaligned", "invalid", "ignore", "ones", "error",
    "register", "field", "read", "write", "on", "if", "else", "irq", "raise", "lower", "pulse",
    "dma", "addr", "len", "from", "into", "random", "pattern", "word", "scenario", "expect",
    "wait", "mask", "fill", "no", "value", "true", "false", "dma.addr", "u8", "u16", "u32", "u64",
    "bool", "rw", "ro", "wo", "w1c", "w1s", "rclr", "A", "B", "REG", "x", "s", "t", "{", "}", "(",
    ")", "[", "]", ";", ":", ",", "@", "=", "==", "!=", "..", ".", "->", "+", "-", "*", "/", "%",
    "<<", ">>", "<", ">", "<=", ">=", "&", "&&", "|", "||", "^", "~", "!", "|=", "&=", "^=", "+=",
    "-=", "\"", "\"text\"", "\"\\q\"", "\\", "/*", "*/", "//", "\n", "\r\n", "\t", "0", "1", "7",
    "0x", "0b", "0x1f", "0b101", "1_000", "4K", "1M", "1G", "_", "K", "M", "G",
    "18446744073709551615", "18446744073709551616", "0xffff_ffff_ffff_ffff_f", "99999999999G",
    "\u{feff}", "é", "\u{0}", "\u{7f}",
    // language v2
    "timer", "start", "after", "every", "stop", "ns", "us", "ms", "s", "stream", "ready", "input",
    "output", "send", "byte", "vmm", "reset", "poweroff", "panic", "fifo", "sticky", "push",
    "pop", "clear", "running", "remaining", "space", "let", "fn", "repeat", "advance", "rx",
    "rx.len", "t.running", "line.space", "fifo[u8; 16]", "4096", "4097",
    // language v2, part 2
    "config", "capability", "vendor", "msix", "table", "pba", "window", "mine", "when",
    "access.size", "access.mask", "0x40", "0x50", "0x60", "0xff", "0x100", "2048", "2049",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Delete(Index, usize),
    Insert(Index, &'static str),
    Truncate(Index),
    DuplicateLine(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<Index>(), 1..=255u8).prop_map(|(i, x)| Mutation::Flip(i, x)),
        1 => (any::<Index>(), 1..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        3 => (any::<Index>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Mutation::Insert(i, t)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        let at = |i: &Index| if len == 0 { 0 } else { i.index(len + 1) };
        match m {
            Mutation::Flip(i, x) if len > 0 => bytes[i.index(len)] ^= x,
            Mutation::Flip(..) => {}
            Mutation::Delete(i, n) => {
                let s = at(i);
                bytes.drain(s..(s + n).min(len));
            }
            Mutation::Insert(i, t) => {
                let s = at(i);
                bytes.splice(s..s, t.bytes());
            }
            Mutation::Truncate(i) => bytes.truncate(at(i)),
            Mutation::DuplicateLine(i) => {
                let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
                if !lines.is_empty() {
                    let k = i.index(lines.len());
                    let mut out = Vec::with_capacity(len * 2);
                    for (j, l) in lines.iter().enumerate() {
                        out.extend_from_slice(l);
                        if j == k {
                            out.extend_from_slice(l);
                        }
                    }
                    bytes = out;
                }
            }
        }
    }
    bytes
}

/// Where token soup is put: the top level, or inside a block of each kind.
const CONTEXTS: &[(&str, &str)] = &[
    ("", ""),
    ("device t { id 0x1b36:1; ", " }"),
    ("device t { id 0x1b36:1; interrupt { ", " } }"),
    ("device t { id 0x1b36:1; bar 0 mem32 size 4K { ", " } }"),
    ("device t { id 0x1b36:1; config { ", " } }"),
    (
        "device t { id 0x1b36:1; config { capability vendor @ 0x40 size 16 { ",
        " } } }",
    ),
    (
        "device t { id 0x1b36:1; state s: u32 = 0; bar 0 mem64 size 4K { register A @ 0 : u32 { ",
        " } } }",
    ),
    (
        "device t { id 0x1b36:1; state s: u32 = 0; bar 0 mem32 size 4K { register A @ 0 : u32 { on write { ",
        " } } } }",
    ),
    (
        "device t { id 0x1b36:1; dma_buffer 4K; interrupt { pin A; status A; } bar 0 mem32 size 4K { register A @ 0 : u32 rw; } scenario s { ",
        " } }",
    ),
    // Language v2: a timer's block, a stream, a scenario with v2 names.
    (
        "device t { id 0x1b36:1; state rx: fifo[u8; 4]; stream line; timer tick { ",
        " } }",
    ),
    (
        "device t { id 0x1b36:1; state rx: fifo[u8; 4]; timer tick { } stream line { ",
        " } }",
    ),
    (
        "device t { id 0x1b36:1; state rx: fifo[u8; 4]; timer tick { } stream line; let l = rx.len; fn f(a: u8) -> u8 = a; bar 0 mem32 size 4K { register A @ 0 : u32 rw; } scenario s { ",
        " } }",
    ),
    // Language v2, part 2: MSI-X and a handler protocol, a window, the
    // current access inside a register's actions.
    (
        "device t { id 0x1b36:1; state shm: [u8; 4K]; interrupt { msix 4 table bar 1 @ 0 pba bar 1 @ 0x800; ",
        " } bar 0 mem32 size 4K { register A @ 0 : u32 rw; } bar 1 mem32 size 4K { } }",
    ),
    (
        "device t { id 0x1b36:1; state shm: [u8; 4K]; bar 0 mem32 size 8K { register A @ 0 : u32 rw; window shm @ 0x1000; ",
        " } }",
    ),
    (
        "device t { id 0x1b36:1; state s: u32 = 0; bar 0 mem32 size 4K { register A @ 0 : u32 { on write { s = access.mask; ",
        " } } } }",
    ),
];

/// 300 cases per property; `PROPTEST_CASES=N` for a longer hunt.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    ProptestConfig {
        cases: cases.unwrap_or(300),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_specs(
        seed in prop::sample::select(seeds()),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        compile(apply(seed, &mutations));
    }

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        compile(bytes);
    }

    #[test]
    fn token_soup(
        context in prop::sample::select(CONTEXTS),
        tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..300),
        glue in prop::collection::vec(prop::sample::select(&[" ", "", "\n", " /* c */ "][..]), 300),
    ) {
        let mut text = String::from(context.0);
        for (t, g) in tokens.iter().zip(&glue) {
            text.push_str(t);
            text.push_str(g);
        }
        text.push_str(context.1);
        compile(text);
    }
}

/// Truncated files: prefixes of every shipped and valid spec, at a stride
/// that gives about 60 cuts per file (and every cut of the first 16 bytes).
#[test]
fn every_truncation_of_the_valid_specs() {
    let mut runs = 0;
    for seed in read_specs(VALID_DIRS) {
        let stride = (seed.len() / 60).max(1);
        let cuts = (0..seed.len().min(16)).chain((16..=seed.len()).step_by(stride));
        for cut in cuts {
            // (Rendering is covered by the properties above.)
            compile_and(&seed[..cut], false);
            runs += 1;
        }
    }
    assert!(runs > 800, "{runs}");
}

// ------------------------------------------------------------ hostile inputs

fn codes(c: &Compiled) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn a_10_mb_line() {
    let n = 10 * MB / SCALE;
    // One string token.
    let c = compile(format!(
        "device t {{ id 0x1b36:1; description \"{}\"; }}",
        "a".repeat(n)
    ));
    assert!(codes(&c).is_empty(), "{:?}", codes(&c));
    assert_eq!(c.device.map(|d| d.description.len()), Some(n));
    // One malformed item: one error, at its start.
    let c = compile(format!(
        "device t {{ id 0x1b36:1; {} }}",
        "x ".repeat(n / 2)
    ));
    assert_eq!(codes(&c), [diag::SYNTAX]);
    assert_eq!(c.sources.location(c.diagnostics[0].span).column, 25);
}

#[test]
fn garbage_is_reported_a_bounded_number_of_times() {
    let c = compile(";".repeat(MB / SCALE));
    assert_eq!(c.diagnostics.len(), 101);
    let c = compile("}{".repeat(MB / SCALE / 2));
    assert!(c.diagnostics.len() <= 101);
}

#[test]
fn deep_nesting() {
    for (open, close) in [("(", ")"), ("{", "}"), ("[", "]")] {
        let c = compile(format!("{}{}", open.repeat(100_000), close.repeat(100_000)));
        assert_eq!(codes(&c), [diag::TOO_DEEP]);
        assert_eq!(c.diagnostics[0].span.start, 64, "the 65th bracket");
    }
    // Nested inside an otherwise valid device, in an expression.
    let c = compile(format!(
        "device t {{ id 0x1b36:1; state s: u32 = 0; bar 0 mem32 size 16 {{ register A @ 0 : u32 {{ read {}s{}; }} }} }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    ));
    assert_eq!(codes(&c), [diag::TOO_DEEP]);
    // 60 levels are fine.
    let c = compile(format!(
        "device t {{ id 0x1b36:1; state s: u32 = 0; bar 0 mem32 size 16 {{ register A @ 0 : u32 {{ read {}s{}; }} }} }}",
        "(".repeat(60),
        ")".repeat(60)
    ));
    assert!(codes(&c).is_empty(), "{:?}", codes(&c));
    // Unbalanced closers never underflow.
    compile(")".repeat(100_000));
}

/// Language v2 at scale: deep `repeat` nesting with huge counts, long
/// chains and cycles of `let`s and `fn`s: bounded diagnostics, no stack
/// overflow, no runaway.
#[test]
fn v2_hostile_shapes() {
    let dev = |body: &str| {
        format!(
            "device t {{ id 0x1b36:1; bar 0 mem32 size 16 {{ register A @ 0 : u32 rw; }} {body} }}"
        )
    };
    // 60 nested repeats of 100000: E0704 once, no overflow in the count.
    let c = compile(dev(&format!(
        "scenario s {{ {} read A; {} }}",
        "repeat 100000 { ".repeat(60),
        "} ".repeat(60)
    )));
    assert_eq!(codes(&c), [diag::SCENARIO_TOO_LONG]);
    // A chain of 20000 lets, the last referring to the first: one cycle, one error.
    let n = 20_000 / SCALE;
    let mut lets: String = (0..n)
        .map(|i| format!("let l{i} = l{} + 1; ", i + 1))
        .collect();
    lets.push_str(&format!("let l{n} = l0; "));
    let c = compile(dev(&lets));
    assert_eq!(codes(&c), [diag::RECURSION]);
    // The same chain without the cycle is valid (and not quadratic).
    let mut lets: String = (0..n)
        .map(|i| format!("let l{i} = l{} + 1; ", i + 1))
        .collect();
    lets.push_str(&format!("let l{n} = 0; "));
    let c = compile(dev(&lets));
    assert!(codes(&c).is_empty(), "{:?}", codes(&c));
    // 10000 self-recursive fns: one error each (each its own cycle), capped work.
    let fns: String = (0..10_000 / SCALE)
        .map(|i| format!("fn f{i}(a: u8) -> u8 = f{i}(a); "))
        .collect();
    let c = compile(dev(&fns));
    assert!(codes(&c).iter().all(|c| *c == diag::RECURSION));
}

/// A register whose `read` is `expr`, in an otherwise valid device.
fn reading(expr: &str) -> String {
    format!(
        "device t {{ id 0x1b36:1; state x: u32 = 0; bar 0 mem32 size 16 {{ register A @ 0 : u32 {{ read {expr}; }} }} }}"
    )
}

#[test]
fn long_operator_chains() {
    let c = compile(reading(&format!("{}1", "1+".repeat(MB / SCALE / 2))));
    assert_eq!(codes(&c), [diag::TOO_DEEP]);
    let c = compile(reading(&format!("{}x", "!".repeat(MB / SCALE))));
    assert_eq!(codes(&c), [diag::TOO_DEEP]);
    let c = compile(reading(&format!("{}x", "-~".repeat(MB / SCALE / 2))));
    assert_eq!(codes(&c), [diag::TOO_DEEP]);
    // 64 operators are fine.
    let c = compile(reading(&format!("{}x", "1+".repeat(64))));
    assert!(codes(&c).is_empty(), "{:?}", codes(&c));
}

#[test]
fn huge_numbers() {
    for n in [
        "9".repeat(100_000),
        format!("0x{}", "f".repeat(100_000)),
        format!("0b{}", "1".repeat(100_000)),
        format!("{}G", "1".repeat(1000)),
        "18446744073709551616".to_string(),
        "0xffff_ffff_ffff_ffffK".to_string(),
        "17179869184G".to_string(),
    ] {
        let c = compile(format!("device t {{ id 0x1b36:1; revision {n}; }}"));
        assert_eq!(codes(&c), [diag::BAD_NUMBER], "{}", &n[..n.len().min(30)]);
    }
    let c = compile("device t { id 0x1b36:1; dma_buffer 16777215G; }");
    assert_eq!(codes(&c), [diag::OUT_OF_RANGE]);
    // The largest u64 is a number.
    let c = compile("device t { id 0x1b36:1; state s: u64 = 0xffff_ffff_ffff_ffff; }");
    assert_eq!(codes(&c), [diag::UNUSED_STATE]);
}

#[test]
fn empty_comments_only_and_boms() {
    for text in [
        "",
        "   \n\t\r\n",
        "// only a comment",
        "/* a */ // b\n/* c */",
        "\u{feff}",
    ] {
        let c = compile(text);
        assert_eq!(codes(&c), [diag::NO_DEVICE], "{text:?}");
        assert_eq!(c.diagnostics[0].span.start, 0);
    }
    // A BOM (or several, anywhere whitespace goes) changes nothing.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let hello = std::fs::read_to_string(root.join("../specs/hello_tic.pcidev")).expect("spec");
    let plain = compile(hello.clone());
    let bom = compile(format!("\u{feff}{hello}"));
    let spaced = compile(hello.replace("    ", "\u{feff}   "));
    let crlf = compile(hello.replace('\n', "\r\n"));
    for other in [&bom, &spaced, &crlf] {
        assert!(other.device.is_some());
        assert_eq!(codes(other), codes(&plain));
        let at = |c: &Compiled| c.sources.location(c.diagnostics[0].span).line;
        assert_eq!(at(other), at(&plain));
    }
}

#[test]
fn odd_but_valid_text() {
    // NUL and DEL in comments and strings, non-ASCII everywhere text goes.
    let c = compile(
        "// \u{0}\u{7f} é 日本\ndevice t { description \"\u{0} é 日本 \u{1F600}\"; id 0x1b36:1; }",
    );
    assert!(codes(&c).is_empty(), "{:?}", codes(&c));
    // ... but not in names: one syntax error, not a panic.
    let c = compile("device té { id 0x1b36:1; }");
    assert!(codes(&c).contains(&diag::SYNTAX));
    // Includes are refused without a file system, with a clear error.
    let c = compile("device t { id 0x1b36:1; include \"x.pcidev\"; }");
    assert_eq!(codes(&c), [diag::INCLUDE_IO]);
    assert!(c.diagnostics[0].message.contains("no file system location"));
}
