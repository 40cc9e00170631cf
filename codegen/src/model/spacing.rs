//! Blank lines between items, as a hand-written module has them.
//!
//! prettyplease prints items back to back. This pass over its output adds
//! one blank line after the module docs and between consecutive items of
//! a module, an `impl` or a trait (consecutive `use` lines stay together).
//! It only ever adds blank lines, so the code is unchanged token for token.
//! prettyplease's output is regular enough for a line-based rule: an item
//! starts at its own indentation with a doc comment, an attribute or a
//! keyword, and the previous item ends at the same indentation with `}`,
//! `};`, `];`, `);` or a one-line item's `;`. Statements inside function
//! bodies never start with those keywords in generated code (no nested
//! items), and string literals never span lines (prettyplease escapes
//! newlines).

/// prettyplease's output of `file`, with blank lines between items.
pub fn unparse(file: &syn::File) -> String {
    space_items(&prettyplease::unparse(file))
}

/// `src` with a blank line between items (see the module docs).
pub fn space_items(src: &str) -> String {
    let mut out = String::with_capacity(src.len() + src.len() / 16);
    let mut prev: Option<&str> = None;
    for line in src.lines() {
        if prev.is_some_and(|p| blank_between(p, line)) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        prev = Some(line);
    }
    out
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Does a line begin an item (or its doc comment or attributes)?
fn starts_item(l: &str) -> bool {
    const STARTS: &[&str] = &[
        "///", "#[", "pub ", "pub(", "fn ", "impl ", "impl<", "const ", "static ", "mod ", "use ",
        "struct ", "enum ", "trait ", "type ",
    ];
    STARTS.iter().any(|s| l.starts_with(s))
}

/// Does a line end an item?
fn ends_item(p: &str) -> bool {
    matches!(p, "}" | "};" | "];" | ");")
        || (starts_item(p) && !p.starts_with("///") && !p.starts_with("#[") && {
            p.ends_with(';') || p.ends_with("{}")
        })
}

pub(super) fn blank_between(prev: &str, line: &str) -> bool {
    let (p, l) = (prev.trim_start(), line.trim_start());
    if l.is_empty() || p.is_empty() {
        return false;
    }
    if p.starts_with("//!") {
        return !l.starts_with("//!");
    }
    let both_use = p.starts_with("use ") && l.starts_with("use ");
    indent(prev) == indent(line) && starts_item(l) && ends_item(p) && !both_use
}

#[cfg(test)]
mod tests {
    use super::space_items;

    #[test]
    fn items_get_a_blank_line_and_statements_do_not() {
        let src = "\
//! Docs.
use a::b;
use c::{
    d, e,
};
/// A.
pub const A: u64 = 0;
pub const B: u64 = 1;
pub struct S {
    pub x: u8,
    /// Doc on a field.
    pub y: u8,
}
impl S {
    fn f(&self) -> u8 {
        use std::convert::identity;
        let v = match self.x {
            0 => 1,
            _ => 2,
        };
        identity(v)
    }
    /// G.
    fn g(&self) {}
}
#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn t() {}
    #[test]
    fn u() {}
}
";
        let want = "\
//! Docs.

use a::b;
use c::{
    d, e,
};

/// A.
pub const A: u64 = 0;

pub const B: u64 = 1;

pub struct S {
    pub x: u8,
    /// Doc on a field.
    pub y: u8,
}

impl S {
    fn f(&self) -> u8 {
        use std::convert::identity;
        let v = match self.x {
            0 => 1,
            _ => 2,
        };
        identity(v)
    }

    /// G.
    fn g(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t() {}

    #[test]
    fn u() {}
}
";
        assert_eq!(space_items(src), want);
        // Idempotent: the output has nothing left to separate.
        assert_eq!(space_items(want), want);
    }
}
