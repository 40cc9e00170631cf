//! Regression tests for front-end bugs found while writing the test corpus
//! (each next to the commit that fixed it). Small inline specs, checked
//! through `Diagnostic::short` so a failure shows the whole picture.

use pcidevc_dsl::compile_str;

/// Every diagnostic of a spec, one `line:col: severity[CODE]: message` each.
fn diags(text: &str) -> Vec<String> {
    let c = compile_str("t.pcidev", text);
    c.diagnostics
        .iter()
        .map(|d| {
            d.short(&c.sources)
                .trim_start_matches("t.pcidev:")
                .to_string()
        })
        .collect()
}

/// A device around `body`, with the id on line 2.
fn device(body: &str) -> String {
    format!("device t {{\n    id 0x1b36:0x0001;\n{body}}}\n")
}

/// pest places its error at the start of the failed item (`revision`), but
/// lists the tokens expected where parsing stopped (the `;` before
/// `class`); the error was reported at the former with a mix of both.
#[test]
fn syntax_errors_are_reported_where_the_token_was_expected() {
    assert_eq!(
        diags(&device("    revision 1\n    class 0xff:0:0;\n")),
        ["4:5: error[E0001]: expected `;`, found `class`"]
    );
    assert_eq!(
        diags(&device(
            "    bar 0 mem32 size 16 {\n        register A @ 0x0 u32 rw;\n    }\n"
        )),
        ["4:26: error[E0001]: expected `:`, found `u32`"]
    );
}

/// Lists said everything twice (`io`, `mem32`, `mem64` or a BAR kind (io,
/// mem32, mem64)) or spelled out what may start an expression.
#[test]
fn expected_lists_say_each_thing_once() {
    assert_eq!(
        diags(&device("    bar 0 mem16 size 16 { }\n")),
        ["3:11: error[E0001]: expected a BAR kind (io, mem32, mem64), found `mem16`"]
    );
    assert_eq!(
        diags(&device(
            "    state s: u32 = 0;\n    bar 0 mem32 size 16 {\n        register A @ 0 : u32 { read s; on write { s = ; } }\n    }\n"
        )),
        ["5:55: error[E0001]: expected an expression, found `;`"]
    );
}

/// An unterminated string read `expected `"`, found `"``; an unterminated
/// comment `expected a valid item, found end of input`.
#[test]
fn unterminated_strings_and_comments_are_named() {
    assert_eq!(
        diags(&device("    description \"no end\n    ;\n")),
        ["3:17: error[E0001]: unterminated string"]
    );
    assert_eq!(
        diags(&device("    revision 1; /* no end\n")),
        ["3:17: error[E0001]: unterminated block comment"]
    );
}

/// A place or expression followed by whitespace spanned the whitespace too
/// (pest skips it looking for an optional `.field` or operator).
#[test]
fn spans_do_not_hold_trailing_whitespace() {
    let c = compile_str(
        "t.pcidev",
        &device(
            "    bar 0 mem32 size 16 { register A @ 0 : u32 rw; }\n    scenario s { write A = A   + 1; }\n",
        ),
    );
    let d = c.errors().next().expect("a non-constant scenario value");
    assert_eq!(c.sources.snippet(d.span), "A");
}

/// An invalid `pin E` or `msi 3` also raised "neither `pin` nor `msi`".
#[test]
fn an_invalid_pin_or_msi_is_not_also_a_missing_one() {
    let bar = "    bar 0 mem32 size 16 { register A @ 0 : u32 rw; }\n";
    assert_eq!(
        diags(&device(&format!(
            "    interrupt {{ pin E; status A; }}\n{bar}"
        ))),
        ["3:21: error[E0504]: `E` is not an interrupt pin"]
    );
    assert_eq!(
        diags(&device(&format!(
            "    interrupt {{ msi 3; status A; }}\n{bar}"
        ))),
        ["3:21: error[E0104]: 3 MSI vectors: must be 1, 2, 4, 8, 16 or 32"]
    );
}

/// A state read only by a construct that was rejected was also reported
/// as never read.
#[test]
fn no_unused_state_warning_after_an_error() {
    assert_eq!(
        diags(&device(
            "    state s: u32 = 0;\n    bar 0 mem32 size 16 {\n        register A @ 0 : u32 { read !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!s; }\n    }\n"
        )),
        ["5:37: error[E0003]: expression nests more than 64 operators deep"]
    );
    // Without errors the warning stays.
    assert_eq!(
        diags(&device("    state s: u32 = 0;\n")),
        ["3:5: warning[W0003]: state `s` is never read"]
    );
}

/// Two BARs with one index mixed their registers: `B` (in the second BAR)
/// "overlapped" `A` (in the first).
#[test]
fn a_duplicate_bar_index_is_reported_once() {
    assert_eq!(
        diags(&device(
            "    bar 0 mem32 size 16 { register A @ 0 : u32 rw; }\n    bar 0 io size 16 { register B @ 0 : u32 rw; }\n"
        )),
        ["4:9: error[E0202]: BAR index 0 is already taken"]
    );
}

/// A number too large for 64 bits reads as 0, which then made a BAR size
/// "not a power of two" and its registers "outside BAR 0 (0 bytes)".
#[test]
fn a_bad_number_has_no_follow_on_errors() {
    assert_eq!(
        diags(&device(
            "    bar 0 mem64 size 0xffff_ffff_ffffG {\n        register A @ 0x0 : u32 rw;\n    }\n"
        )),
        ["3:22: error[E0002]: invalid number `0xffff_ffff_ffffG`: does not fit in 64 bits"]
    );
}

/// A DMA to a constant non-RAM address was reported on the device's first
/// register, whatever register did the DMA.
#[test]
fn non_ram_dma_warning_points_at_the_dma_register() {
    assert_eq!(
        diags(&device(
            "    bar 0 mem32 size 16 {\n        register STATUS @ 0x0 : u32 ro;\n        register GO @ 0x4 : u32 { on write { dma write addr 0xa0000 len 4 from pattern(0) status STATUS; } }\n    }\n"
        )),
        [
            "5:9: warning[W0001]: at reset this DMA targets 0xa0000, the legacy VGA window (0xa0000-0xbffff)"
        ]
    );
}

/// The message lacked an article ("cannot name state") and the hint read
/// "try `match_`-free alternatives such as `match_reg` or `my_match`".
#[test]
fn reserved_word_names_are_explained() {
    let c = compile_str(
        "t.pcidev",
        &device(
            "    state match: u32 = 0;\n    bar 0 mem32 size 16 { register A @ 0 : u32 { read match; } }\n",
        ),
    );
    let d = c.errors().next().expect("a reserved word");
    assert_eq!(d.message, "state name `match` is a reserved word");
    assert_eq!(
        d.hint.as_deref(),
        Some("keywords of the language and of Rust cannot be names; try `my_match`")
    );
}

/// `dma.addr * 2` was told "scenario values are constants", with a hint
/// about device state that has nothing to do with it.
#[test]
fn a_scaled_dma_addr_is_explained() {
    assert_eq!(
        diags(&device(
            "    dma_buffer 4K;\n    bar 0 mem32 size 16 { register A @ 0 : u64 rw; }\n    scenario s { write A = dma.addr * 2; expect A == -dma.addr; }\n"
        )),
        [
            "5:28: error[E0701]: `dma.addr` may only be offset by a constant",
            "5:54: error[E0701]: `dma.addr` may only be offset by a constant",
        ]
    );
}

/// Every stray `;` or `}` at top level was its own malformed item, re-parsed
/// and reported: a megabyte of them gave a million diagnostics (and the
/// 64 MB a spec may have, memory exhaustion).
#[test]
fn garbage_gives_a_bounded_number_of_errors() {
    let c = compile_str("t.pcidev", &";".repeat(100_000));
    assert_eq!(c.diagnostics.len(), 101);
    assert!(
        c.diagnostics[..100]
            .iter()
            .all(|d| d.message.starts_with("expected"))
    );
    assert_eq!(
        c.diagnostics[100].message,
        "more than 100 malformed items; the rest are not reported"
    );
    // Below the limit every malformed item is still explained.
    let d = diags(&device(&"    revision x;\n".repeat(20)));
    assert_eq!(d.len(), 20, "{d:#?}");
}

/// Each scenario step asked for its line with `location`, which counts the
/// characters from the start of the line: quadratic on a long line (a
/// 10 MB one-line spec took minutes). Now a binary search, and columns of
/// ASCII files are a byte distance.
#[test]
fn long_lines_are_not_quadratic() {
    let text = format!(
        "device t {{ description \"{}\"; id 0x1b36:1; bar 0 mem32 size 16 {{ register A @ 0 : u32 rw; }} scenario s {{ {} }} }}",
        "é".repeat(1 << 19),
        "read A; ".repeat(100_000)
    );
    let start = thread_cpu_time();
    let c = compile_str("t.pcidev", &text);
    let steps = c.device.map(|d| d.scenarios[0].steps.len());
    assert_eq!(steps, Some(100_000));
    // Unoptimised: about 5 s of CPU linear, 20 s quadratic. CPU time of
    // this thread, not wall time, so a loaded machine (CI running tests in
    // parallel on 2 cores) does not fail it.
    let spent = thread_cpu_time().saturating_sub(start);
    assert!(
        spent < std::time::Duration::from_secs(12),
        "{spent:?} of CPU"
    );
    // Columns still count characters, and ASCII columns are byte distances.
    let c = compile_str("t.pcidev", "é é x");
    let f = &c.sources.files()[0];
    assert_eq!(f.line_col(5), (1, 4));
    let c = compile_str("t.pcidev", "ab\ncd x");
    assert_eq!(c.sources.files()[0].line_col(6), (2, 4));
}

/// "at most 64 levels of operators" (E0003) rejected 64: the operand below
/// them was counted as a level.
#[test]
fn expressions_take_64_operators() {
    let reading = |expr: String| {
        device(&format!(
            "    state x: u32 = 0;\n    bar 0 mem32 size 16 {{ register A @ 0 : u32 {{ read {expr}; }} }}\n"
        ))
    };
    for ok in [
        format!("{}x", "1+".repeat(64)),
        format!("{}x", "!".repeat(64)),
        format!("{}(~x)", "-".repeat(63)),
    ] {
        assert_eq!(diags(&reading(ok)), [] as [&str; 0]);
    }
    for too_deep in [
        format!("{}x", "1+".repeat(65)),
        format!("{}x", "!".repeat(65)),
    ] {
        assert_eq!(
            diags(&reading(too_deep)),
            ["4:55: error[E0003]: expression nests more than 64 operators deep"]
        );
    }
}

/// Language v2 made only `byte` and the declaring words (`fifo`, `sticky`,
/// `stream`, `timer`, `vmm`) reserved: the words that only begin a
/// statement or step stay usable as names, so v1 specs using them still
/// compile, and each means the statement only where one can start.
#[test]
fn v2_statement_words_remain_names() {
    let c = compile_str(
        "t.pcidev",
        "device t { id 0x1b36:1; state start: u8 = 0; state stop: u8 = 0; state ready: u8 = 0; \
         state input: u8 = 0; state send: u8 = 0; state repeat: u8 = 0; state advance: u8 = 0; \
         state after: u8 = 0; state every: u8 = 0; state output: u8 = 0; \
         bar 0 mem32 size 16 { register A @ 0 : u32 { \
         read start + stop + ready + input + send + repeat + advance + after + every + output; \
         on write { start = 1; stop = value; send += 1; } } } \
         scenario s { expect start == 0; write A = 1; expect start == 1; } }",
    );
    let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code).collect();
    assert!(codes.is_empty(), "{codes:?}");
    for word in ["byte", "fifo", "sticky", "stream", "timer", "vmm"] {
        let c = compile_str(
            "t.pcidev",
            &format!("device t {{ id 0x1b36:1; hook h({word}: u8); }}"),
        );
        let codes: Vec<&str> = c.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [pcidevc_dsl::diag::BAD_NAME], "{word}");
    }
}

/// CPU time this thread has used (Linux: the first field of
/// `/proc/thread-self/schedstat`, in nanoseconds).
fn thread_cpu_time() -> std::time::Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("reading /proc/thread-self/schedstat");
    let ns: u64 = text
        .split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .expect("schedstat's first field");
    std::time::Duration::from_nanos(ns)
}

/// E0302's hint told the author of a banked register (two registers at one
/// offset, chosen by a mode bit) to move one elsewhere, away from what
/// works: one register whose `read`/`on write` choose the bank by state.
#[test]
fn overlap_hint_for_banked_registers_shows_the_working_pattern() {
    let hint = |body: &str| {
        let c = compile_str("t.pcidev", &device(body));
        let d = c
            .diagnostics
            .iter()
            .find(|d| d.code == pcidevc_dsl::diag::REG_OVERLAP)
            .expect("E0302");
        d.hint.clone().unwrap_or_default()
    };
    let banked = hint(
        "    bar 0 io size 8 {\n        register RBR @ 0x0 : u8 ro;\n        register DLL @ 0x0 : u8 rw;\n    }\n",
    );
    assert!(
        banked.contains("one register") && banked.contains("read if dlab"),
        "{banked}"
    );
    let partial = hint(
        "    bar 0 io size 8 {\n        register A @ 0x0 : u32 rw;\n        register B @ 0x2 : u16 rw;\n    }\n",
    );
    assert!(
        partial.contains("read a `state` from two registers"),
        "{partial}"
    );
}

/// An array's fields and behaviour are checked once, on its head: an error
/// in them was reported once per element (65536 times for the largest
/// array), each naming its element.
#[test]
fn an_array_error_is_reported_once_not_per_element() {
    let spec = device(
        "    class 0x00:0xff:0x00;\n    bar 0 mem32 size 4K {\n        register R[3] @ 0x0 : u8 = 5 {\n            on write { nosuch = value; }\n        }\n    }\n",
    );
    let d = diags(&spec);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(
        d[0].contains("error[E0312]: register `R_0` has a reset value but no storage"),
        "{d:#?}"
    );
    assert!(
        d[1].contains("error[E0402]: unknown name `nosuch`"),
        "{d:#?}"
    );
}
