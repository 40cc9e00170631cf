//! What the model backend does for cheaper accesses, seen in the source it
//! generates:
//! - a register read computes a `let` it uses more than once a single
//!   time, but only when every use comes before anything in its `on read`
//!   block could change what the `let` reads;
//! - the `Registers` impl says `ACCESS_CONTEXT = false` exactly when no
//!   expression reads `access.size`/`access.mask` and no hook exists.

use pcidevc_codegen::model;

fn source(body: &str) -> String {
    let text = format!(
        "device t {{
            id 0x1b36:0x0001;
            state a: u8 = 0;
            state b: u8 = 0;
            let ka = a & 1 != 0;
            let kb = b + 1;
            bar 0 io size 8 {{
                access 1;
                {body}
            }}
        }}"
    );
    let c = pcidevc_dsl::compile_str("t.pcidev", &text);
    let dev = c.device.unwrap_or_else(|| {
        let d: Vec<String> = c.diagnostics.iter().map(|d| d.short(&c.sources)).collect();
        panic!("{}", d.join("\n"))
    });
    model::render_source(&dev)
}

/// The text of generated method `name`, up to the next method.
fn method<'a>(src: &'a str, name: &str) -> &'a str {
    let start = src
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name} in:\n{src}"));
    let rest = &src[start..];
    let end = rest[1..].find("\n    fn ").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn a_let_whose_uses_come_before_any_change_is_computed_once() {
    // `ka` reads `a`; the block changes only `b`.
    let src = source(
        "register R0 @ 0x0 : u8 {
            read if ka { 1 } else { 2 };
            on read { if ka { b = 3; } }
        }",
    );
    let read = method(&src, "read_r0");
    assert_eq!(read.matches("self.let_ka(ctx)").count(), 1, "{read}");
    assert!(read.contains("let let_ka = self.let_ka(ctx);"), "{read}");
}

#[test]
fn a_let_read_after_a_change_of_what_it_reads_is_computed_again() {
    // `kb` reads `b`, which the block changes before its second use.
    let src = source(
        "register R1 @ 0x1 : u8 {
            read kb;
            on read { b = 5; if kb == 6 { a = 1; } }
        }",
    );
    let read = method(&src, "read_r1");
    assert_eq!(read.matches("self.let_kb(ctx)").count(), 2, "{read}");
    assert!(!read.contains("let let_kb"), "{read}");
    // A change in one branch only is a change on some path.
    let src = source(
        "register R2 @ 0x2 : u8 {
            read kb;
            on read { if a != 0 { b = 5; } if kb == 6 { a = 1; } }
        }",
    );
    let read = method(&src, "read_r2");
    assert_eq!(read.matches("self.let_kb(ctx)").count(), 2, "{read}");
}

#[test]
fn the_access_context_is_skipped_only_when_nothing_reads_it() {
    let plain = source("register R0 @ 0x0 : u8 { read a; }");
    assert!(
        plain.contains("const ACCESS_CONTEXT: bool = false;"),
        "{plain}"
    );
    let sized = source("register R0 @ 0x0 : u8 { read a + access.size; }");
    assert!(!sized.contains("ACCESS_CONTEXT"), "{sized}");
    let through_let =
        source("register R0 @ 0x0 : u8 { read ka; on read { if access.mask == 0xff { b = 1; } } }");
    assert!(!through_let.contains("ACCESS_CONTEXT"), "{through_let}");
}
