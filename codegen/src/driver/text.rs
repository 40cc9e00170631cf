//! Text atoms of the generated driver: literals, identifier cases, unique
//! names, and comment text wrapped to the kernel's line width.
//!
//! Nothing here lays out code: code shapes live in the templates
//! (`templates/driver/`) and are chosen so that their width does not depend
//! on the spec for names up to [`SUPPORTED_NAME_LEN`] characters. The one
//! exception is a step's text, a spec string of any length passed as a call
//! argument: [`fits_call_width`] is rustfmt's rule for it.

use std::fmt;

/// rustfmt's `max_width` (the kernel's `.rustfmt.toml` keeps the default).
const MAX_WIDTH: usize = 100;
/// rustfmt's `fn_call_width` under the default width heuristics.
const FN_CALL_WIDTH: usize = 60;
/// Longest register / field / scenario / device name the driver's layout is
/// guaranteed (and tested) to stay rustfmt-clean with; longer names still
/// compile, but rustfmt may re-wrap a line.
pub const SUPPORTED_NAME_LEN: usize = 40;

/// Does a call whose arguments are `args` stay on one line? rustfmt keeps
/// it there while the arguments, joined with `, `, take at most
/// `fn_call_width` columns (the callers' lines are short enough otherwise).
pub fn fits_call_width(args: &[&str]) -> bool {
    let width: usize =
        args.iter().map(|a| a.len()).sum::<usize>() + 2 * args.len().saturating_sub(1);
    width <= FN_CALL_WIDTH
}

/// Prose for a comment, wrapped to the line width where it is placed.
/// Words and `code spans` are never split (a long one may overflow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc(pub String);

impl Doc {
    /// `/// ` lines at `indent`.
    pub fn at(&self, indent: usize) -> Wrapped<'_> {
        Wrapped {
            text: &self.0,
            indent,
            prefix: "///",
        }
    }

    /// `//! ` lines (module docs).
    pub fn inner(&self) -> Wrapped<'_> {
        Wrapped {
            text: &self.0,
            indent: 0,
            prefix: "//!",
        }
    }

    /// `// ` lines at `indent`.
    pub fn comment(&self, indent: usize) -> Wrapped<'_> {
        Wrapped {
            text: &self.0,
            indent,
            prefix: "//",
        }
    }
}

/// A [`Doc`] as comment lines (no newline after the last).
#[derive(Debug, Clone, Copy)]
pub struct Wrapped<'a> {
    text: &'a str,
    indent: usize,
    prefix: &'static str,
}

impl fmt::Display for Wrapped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lead = self.indent + self.prefix.len() + 1;
        let mut width = 0;
        for word in words(self.text) {
            if width == 0 {
                write!(f, "{:1$}{2} {word}", "", self.indent, self.prefix)?;
                width = lead + word.len();
            } else if width + 1 + word.len() > MAX_WIDTH {
                write!(f, "\n{:1$}{2} {word}", "", self.indent, self.prefix)?;
                width = lead + word.len();
            } else {
                write!(f, " {word}")?;
                width += 1 + word.len();
            }
        }
        if width == 0 {
            write!(f, "{:1$}{2}", "", self.indent, self.prefix)?;
        }
        Ok(())
    }
}

/// Whitespace-separated words, except that a `code span` with spaces stays
/// one word.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for word in text.split_whitespace() {
        match out.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => out.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    out
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

/// Sizes up to 4 KiB in decimal, larger ones in hex.
pub fn size_lit(v: u64) -> String {
    if v <= 4096 { v.to_string() } else { hex(v) }
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

/// Hands out names, appending `_2`, `_3`... (or `2`, `3`... to CamelCase
/// ones) to names already taken.
#[derive(Debug, Default)]
pub struct Names(std::collections::BTreeSet<String>);

impl Names {
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    pub fn take(&mut self, want: String) -> String {
        self.take_with(want, "_")
    }

    pub fn take_camel(&mut self, want: String) -> String {
        self.take_with(want, "")
    }

    fn take_with(&mut self, want: String, sep: &str) -> String {
        let mut name = want.clone();
        let mut n = 2;
        while !self.0.insert(name.clone()) {
            name = format!("{want}{sep}{n}");
            n += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_width_is_rustfmts_fn_call_width() {
        assert!(fits_call_width(&["112", &str_lit("expect ID == 0x1337;")]));
        // 3 + 2 + 55 = 60 columns: still one line; one more is not.
        assert!(fits_call_width(&["112", &str_lit(&"x".repeat(53))]));
        assert!(!fits_call_width(&["112", &str_lit(&"x".repeat(54))]));
    }

    #[test]
    fn comments_wrap_at_max_width() {
        let text = Doc("word ".repeat(40));
        let out = text.at(4).to_string();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1);
        assert!(
            lines
                .iter()
                .all(|l| l.len() <= MAX_WIDTH && l.starts_with("    /// "))
        );
        assert_eq!(Doc(String::new()).inner().to_string(), "//!");
        let code = Doc(format!("{} `a = (b != 0)`.", "word ".repeat(17)));
        let out = code.at(8).to_string();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[1], "        /// `a = (b != 0)`.");
        assert_eq!(Doc("a b".into()).comment(8).to_string(), "        // a b");
    }

    #[test]
    fn names_and_literals() {
        assert_eq!(camel("hello_tic"), "HelloTic");
        assert_eq!(camel("edu"), "Edu");
        assert_eq!(camel("nvme2_x"), "Nvme2X");
        let mut n = Names::default();
        assert_eq!(n.take("a".into()), "a");
        assert_eq!(n.take("a".into()), "a_2");
        assert_eq!(n.take_camel("Mode".into()), "Mode");
        assert_eq!(n.take_camel("Mode".into()), "Mode2");
        assert_eq!(mask(u64::MAX), "u64::MAX");
        assert_eq!(mask(0xff), "0xff");
        assert_eq!(str_lit("a \"b\" \\"), "\"a \\\"b\\\" \\\\\"");
        assert_eq!(size_lit(4096), "4096");
        assert_eq!(size_lit(8192), "0x2000");
    }
}
