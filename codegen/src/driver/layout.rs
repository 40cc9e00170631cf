//! Text layout for the generated driver: the few rustfmt decisions the
//! generator has to take itself, plus doc-comment wrapping, literals and
//! identifier cases.
//!
//! The driver must come out already formatted by the kernel's rustfmt
//! settings (`edition = "2021"`, otherwise defaults: `max_width` 100,
//! `fn_call_width` 60, `chain_width` 60). Most of the file is fixed text whose
//! layout was checked once; only statements whose width depends on spec names
//! go through these helpers, which reproduce rustfmt's first fallback for each
//! shape. Names up to [`SUPPORTED_NAME_LEN`] characters are covered by the
//! codegen tests; longer ones still compile, but rustfmt may re-wrap a line.

/// rustfmt's `max_width`.
pub const MAX_WIDTH: usize = 100;
/// rustfmt's `fn_call_width` (and `chain_width`) under default heuristics.
pub const CALL_WIDTH: usize = 60;
/// Longest register / scenario / device name the layout is tested with.
pub const SUPPORTED_NAME_LEN: usize = 40;

fn pad(indent: usize) -> String {
    " ".repeat(indent)
}

/// A statement `callee(args...);` (or an expression ending in `end`):
/// one line when the arguments fit `fn_call_width` and the line fits
/// `max_width`, else one argument per line with a trailing comma.
pub fn call(indent: usize, callee: &str, args: &[String], end: &str) -> String {
    let joined = args.join(", ");
    let one = format!("{}{callee}({joined}){end}", pad(indent));
    if joined.len() <= CALL_WIDTH && one.len() <= MAX_WIDTH {
        return one;
    }
    let mut s = format!("{}{callee}(\n", pad(indent));
    for a in args {
        s.push_str(&format!("{}{a},\n", pad(indent + 4)));
    }
    s.push_str(&format!("{}){end}", pad(indent)));
    s
}

/// `let pat = rhs;`: one line when it fits, else rhs on the next line.
pub fn let_stmt(indent: usize, pat: &str, rhs: &str) -> String {
    let one = format!("{}let {pat} = {rhs};", pad(indent));
    if one.len() <= MAX_WIDTH {
        return one;
    }
    format!("{}let {pat} =\n{}{rhs};", pad(indent), pad(indent + 4))
}

/// `let v = PATH::from_raw(lit);`, with rustfmt's two fallbacks: the right
/// side on its own line, then the argument on its own line.
pub fn let_from_raw(indent: usize, var: &str, path: &str, arg: &str) -> String {
    let rhs = format!("{path}::from_raw({arg})");
    let one = format!("{}let {var} = {rhs};", pad(indent));
    if one.len() <= MAX_WIDTH {
        return one;
    }
    let two = format!("{}{rhs};", pad(indent + 4));
    if two.len() <= MAX_WIDTH {
        return format!("{}let {var} =\n{two}", pad(indent));
    }
    format!(
        "{}let {var} = {path}::from_raw(\n{}{arg},\n{});",
        pad(indent),
        pad(indent + 4),
        pad(indent)
    )
}

/// A tail expression `root.method(arg)` whose root is a short field access
/// (`self.bar1`): broken before `.method` when the chain is wider than
/// `chain_width`.
pub fn chain_tail(indent: usize, root: &str, method: &str, arg: &str) -> String {
    let chain = format!("{root}.{method}({arg})");
    if chain.len() <= CALL_WIDTH && indent + chain.len() <= MAX_WIDTH {
        return format!("{}{chain}", pad(indent));
    }
    format!("{}{root}\n{}.{method}({arg})", pad(indent), pad(indent + 4))
}

/// A method signature `fn name(params) -> ret {` at `indent`, with rustfmt's
/// vertical parameter layout when the one-line form is too wide.
pub fn fn_sig(indent: usize, name: &str, params: &[&str], ret: Option<&str>) -> String {
    let ret_text = ret.map(|r| format!(" -> {r}")).unwrap_or_default();
    let one = format!(
        "{}fn {name}({}){ret_text} {{",
        pad(indent),
        params.join(", ")
    );
    if one.len() <= MAX_WIDTH {
        return one;
    }
    let mut s = format!("{}fn {name}(\n", pad(indent));
    for p in params {
        s.push_str(&format!("{}{p},\n", pad(indent + 4)));
    }
    s.push_str(&format!("{}){ret_text} {{", pad(indent)));
    s
}

/// `impl TRAIT for TYPE {` at `indent`; rustfmt puts `for TYPE` and the
/// brace on lines of their own when the header is too wide.
pub fn impl_header(indent: usize, tr: &str, ty: &str) -> String {
    let one = format!("{}impl {tr} for {ty} {{", pad(indent));
    if one.len() <= MAX_WIDTH {
        return one;
    }
    format!(
        "{}impl {tr}\n{}for {ty}\n{}{{",
        pad(indent),
        pad(indent + 4),
        pad(indent)
    )
}

/// Doc-comment lines (`/// ...` at `indent`) holding `text`, wrapped at
/// `max_width`. Words and `code spans` are never split (a long one may
/// overflow).
pub fn doc(indent: usize, prefix: &str, text: &str) -> Vec<String> {
    let lead = format!("{}{prefix} ", pad(indent));
    let mut lines = Vec::new();
    let mut line = lead.clone();
    for word in doc_tokens(text) {
        if line.len() > lead.len() && line.len() + 1 + word.len() > MAX_WIDTH {
            lines.push(line);
            line = lead.clone();
        }
        if line.len() > lead.len() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if line.len() > lead.len() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Whitespace-separated words, except that a `code span` with spaces stays
/// one token.
fn doc_tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for word in text.split_whitespace() {
        if open {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(word);
            }
        } else {
            out.push(word.to_string());
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    out
}

/// Doc lines joined by newlines (no newline at the end).
pub fn doc_block(indent: usize, prefix: &str, text: &str) -> String {
    doc(indent, prefix, text).join("\n")
}

/// A hex literal (`0x0`, `0x1337`).
pub fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// A mask argument: `u64::MAX` for all ones, else hex.
pub fn mask(v: u64) -> String {
    if v == u64::MAX {
        "u64::MAX".into()
    } else {
        hex(v)
    }
}

/// A Rust string literal for `s` (escapes quotes, backslashes and controls).
pub fn str_lit(s: &str) -> String {
    format!("{s:?}")
}

/// `lower_snake` to `CamelCase` (`hello_tic` -> `HelloTic`).
pub fn camel(s: &str) -> String {
    s.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}

/// The Rust type of an unsigned integer of `bytes` bytes.
pub fn uint(bytes: u8) -> &'static str {
    match bytes {
        1 => "u8",
        2 => "u16",
        8 => "u64",
        _ => "u32",
    }
}

/// Hands out names, appending `_2`, `_3`... to ones already taken.
#[derive(Debug, Default)]
pub struct Names(std::collections::BTreeSet<String>);

impl Names {
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Like [`Self::take`] for a CamelCase name: appends `2`, `3`...
    pub fn take_camel(&mut self, want: String) -> String {
        let mut name = want.clone();
        let mut n = 2;
        while !self.0.insert(name.clone()) {
            name = format!("{want}{n}");
            n += 1;
        }
        name
    }

    pub fn take(&mut self, want: String) -> String {
        let mut name = want.clone();
        let mut n = 2;
        while !self.0.insert(name.clone()) {
            name = format!("{want}_{n}");
            n += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_is_one_line_when_short_and_vertical_when_long() {
        let args = ["112".to_string(), str_lit("expect ID == 0x1337;")];
        assert_eq!(
            call(8, "t.step", &args, ";"),
            "        t.step(112, \"expect ID == 0x1337;\");"
        );
        let long = ["112".to_string(), str_lit(&"x".repeat(60))];
        let v = call(8, "t.step", &long, ";");
        assert!(v.starts_with("        t.step(\n            112,\n"), "{v}");
        assert!(v.ends_with(",\n        );"), "{v}");
    }

    #[test]
    fn let_from_raw_has_three_shapes() {
        assert_eq!(
            let_from_raw(8, "v", "bar1::ID", "0x1"),
            "        let v = bar1::ID::from_raw(0x1);"
        );
        let p = format!("bar1::{}", "D".repeat(55));
        assert!(let_from_raw(8, "v", &p, "0x1234_5678").contains("=\n            bar1::"));
        let p = format!("bar1::{}", "E".repeat(70));
        assert!(
            let_from_raw(8, "v", &p, "0x1").ends_with("::from_raw(\n            0x1,\n        );")
        );
    }

    #[test]
    fn docs_wrap_at_max_width() {
        let text = "word ".repeat(40);
        let lines = doc(4, "///", &text);
        assert!(lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|l| l.len() <= MAX_WIDTH && l.starts_with("    /// "))
        );
        assert_eq!(doc(0, "//!", ""), vec!["//!".to_string()]);
        let code = format!("{} `a = (b != 0)`.", "word ".repeat(17));
        let lines = doc(8, "///", &code);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[1], "        /// `a = (b != 0)`.");
    }

    #[test]
    fn names_and_cases() {
        assert_eq!(camel("hello_tic"), "HelloTic");
        assert_eq!(camel("edu"), "Edu");
        assert_eq!(camel("nvme2_x"), "Nvme2X");
        let mut n = Names::default();
        assert_eq!(n.take("a".into()), "a");
        assert_eq!(n.take("a".into()), "a_2");
        assert_eq!(mask(u64::MAX), "u64::MAX");
        assert_eq!(mask(0xff), "0xff");
        assert_eq!(str_lit("a \"b\" \\"), "\"a \\\"b\\\" \\\\\"");
    }
}
