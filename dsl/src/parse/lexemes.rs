//! Lexemes: names, integer literals and strings, and the nesting guard
//! that runs before pest.

use super::*;

impl ParseSession<'_> {
    pub(super) fn ident(cx: Cx, p: Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: Self::span(cx, &p),
        }
    }

    /// Numbers that do not parse are reported and read as 0 so that the
    /// rest of the item is still checked.
    pub(super) fn number(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Num {
        let span = Self::span(cx, &p);
        match parse_number(p.as_str()) {
            Ok(value) => Num { value, span },
            Err(why) => {
                self.diags.push(
                    Diagnostic::error(
                        diag::BAD_NUMBER,
                        span,
                        format!("invalid number `{}`: {why}", p.as_str()),
                    )
                    .label(why)
                    .hint("numbers are u64: at most 0xffff_ffff_ffff_ffff"),
                );
                Num { value: 0, span }
            }
        }
    }

    pub(super) fn string(&mut self, cx: Cx, p: Pair<'_, Rule>) -> Option<Str> {
        let span = Self::span(cx, &p);
        let raw = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
        let mut out = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                other => {
                    let shown = other.map(|c| c.to_string()).unwrap_or_default();
                    self.diags.push(
                        Diagnostic::error(
                            diag::BAD_STRING,
                            span,
                            format!("unknown escape `\\{shown}` in string"),
                        )
                        .label("in this string")
                        .hint("use \\\\, \\\", \\n or \\t"),
                    );
                    return None;
                }
            }
        }
        Some(Str { value: out, span })
    }
}

/// Parse an integer literal: decimal, 0x, 0b; `_` separators; K/M/G suffix.
pub fn parse_number(text: &str) -> Result<u64, String> {
    let (body, mult) = match text.as_bytes().last() {
        Some(b'K') => (&text[..text.len() - 1], 1u64 << 10),
        Some(b'M') => (&text[..text.len() - 1], 1u64 << 20),
        Some(b'G') => (&text[..text.len() - 1], 1u64 << 30),
        _ => (text, 1),
    };
    let (digits, radix) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (h, 16)
        } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (b, 2)
        } else {
            (body, 10)
        };
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() {
        return Err("no digits".into());
    }
    let v =
        u64::from_str_radix(&clean, radix).map_err(|_| "does not fit in 64 bits".to_string())?;
    v.checked_mul(mult)
        .ok_or_else(|| "does not fit in 64 bits".to_string())
}

/// Nesting guard: the offset of the first bracket nested deeper than
/// [`MAX_NESTING`], ignoring strings and comments. Iterative, O(n).
pub fn check_nesting(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}
