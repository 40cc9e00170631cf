//! Bit-field diagrams of a register: SVG for HTML, ASCII for Markdown.
//!
//! Both draw the register's bits most significant first, one box per field
//! (a register's storage without declared fields is one field), reserved
//! bits (in no field) as their own boxes, and a register without storage
//! as one box saying so. Above each box: its bit numbers; inside: the field
//! name, or a key letter explained under the diagram when the box is too
//! narrow; below: access kind and reset value, when they fit.
//!
//! The SVG is small on purpose (a 10,000-register page has 10,000 of them):
//! styling is by CSS class (`rw`, `ro`, ... on the box), bit ticks are one
//! shared `<path>` per register width referenced with `<use>` (see
//! [`svg_defs`]), and numbers are rounded to whole pixels.

use super::model::{FieldDoc, RegisterDoc};
use std::fmt::Write;

/// Width of the drawing area; every register width divides it.
const W: u32 = 640;
/// Left margin.
const X0: u32 = 10;
/// Box top and height.
const BOX_Y: u32 = 14;
const BOX_H: u32 = 24;
/// Approximate advance of a character at the diagram's font size, in px.
const CHAR_W: u32 = 7;

/// One box of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Most significant bit of the box.
    pub hi: u32,
    /// Least significant bit of the box (`<= hi`).
    pub lo: u32,
    /// Field name (empty for reserved bits).
    pub label: String,
    /// CSS class / kind: an access keyword, `rsv` or `ns`.
    pub class: &'static str,
    /// Text under the box (`rw=0x1`).
    pub below: String,
}

/// The boxes of `reg`, most significant first.
pub fn segments(reg: &RegisterDoc) -> Vec<Segment> {
    let top = reg.bits - 1;
    if reg.reset.is_none() {
        return vec![Segment {
            hi: top,
            lo: 0,
            label: "no storage".into(),
            class: "ns",
            below: reg.access.kinds.clone(),
        }];
    }
    let mut out = Vec::new();
    let mut next = top as i64; // highest bit not yet drawn
    let reserved = |hi: i64, lo: i64| Segment {
        hi: hi as u32,
        lo: lo as u32,
        label: String::new(),
        class: "rsv",
        below: String::new(),
    };
    for f in &reg.fields {
        if (f.hi as i64) < next {
            out.push(reserved(next, f.hi as i64 + 1));
        }
        out.push(field_segment(f));
        next = f.lo as i64 - 1;
    }
    if next >= 0 {
        out.push(reserved(next, 0));
    }
    out
}

fn field_segment(f: &FieldDoc) -> Segment {
    Segment {
        hi: f.hi,
        lo: f.lo,
        label: f.name.clone(),
        class: f.access,
        below: format!("{}={:#x}", f.access, f.reset),
    }
}

/// Keys for boxes too narrow for their label: `a`..`z`, `A`..`Z`, `0`..`9`
/// (a register has at most 64 one-bit fields and as many gaps between them).
fn key(i: usize) -> char {
    const KEYS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    KEYS.get(i % KEYS.len()).map_or('?', |b| *b as char)
}

/// The legend entry of a keyed box: `a irq_on_fact rw=0x0`.
fn legend(k: char, seg: &Segment) -> String {
    format!("{k} {} {}", seg.label, seg.below)
}

/// Escapes text for SVG/HTML content.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The shared tick marks, one `<path>` per register width: include once per
/// page (hidden), before the first diagram.
pub fn svg_defs() -> String {
    let mut s =
        String::from("<svg class=\"defs\" width=\"0\" height=\"0\" aria-hidden=\"true\"><defs>");
    for bits in [8u32, 16, 32, 64] {
        let bw = W / bits;
        let mut d = String::new();
        for i in 1..bits {
            let _ = write!(d, "M{} {}v4", X0 + i * bw, BOX_Y + BOX_H - 4);
        }
        let _ = write!(s, "<path id=\"t{bits}\" class=\"tk\" d=\"{d}\"/>");
    }
    s.push_str("</defs></svg>");
    s
}

/// The register's diagram as an inline `<svg class="bf">`. Boxes too
/// narrow for their name show a key letter, explained under the diagram.
pub fn svg(reg: &RegisterDoc) -> String {
    let bits = reg.bits;
    let bw = W / bits;
    let segs = segments(reg);
    let mut body = String::new();
    let mut legends = Vec::new();
    for seg in &segs {
        let x = X0 + (bits - 1 - seg.hi) * bw;
        let w = (seg.hi - seg.lo + 1) * bw;
        let mid = x + w / 2;
        let room = (w.saturating_sub(4) / CHAR_W) as usize;
        let _ = write!(
            body,
            // y and height come from the stylesheet (BOX_Y, BOX_H).
            "<rect class=\"{}\" x=\"{x}\" width=\"{w}\"/>",
            seg.class
        );
        let fits = seg.label.chars().count() <= room;
        if !seg.label.is_empty() && fits {
            let _ = write!(
                body,
                "<text x=\"{mid}\" y=\"30\">{}</text>",
                esc(&seg.label)
            );
        } else if !seg.label.is_empty() {
            let k = key(legends.len());
            legends.push(legend(k, seg));
            let _ = write!(
                body,
                "<text x=\"{mid}\" y=\"30\"><title>{}</title>{k}</text>",
                esc(&seg.label)
            );
        }
        // Bit numbers: one centred for a one-bit box, else both ends (when
        // they fit side by side).
        if seg.hi == seg.lo {
            let _ = write!(
                body,
                "<text class=\"n\" x=\"{mid}\" y=\"10\">{}</text>",
                seg.lo
            );
        } else if w >= 4 * CHAR_W + 4 {
            let _ = write!(
                body,
                "<text class=\"n s\" x=\"{}\" y=\"10\">{}</text><text class=\"n e\" x=\"{}\" y=\"10\">{}</text>",
                x + 2,
                seg.hi,
                x + w - 2,
                seg.lo
            );
        } else {
            let _ = write!(
                body,
                "<text class=\"n\" x=\"{mid}\" y=\"10\">{}:{}</text>",
                seg.hi, seg.lo
            );
        }
        if fits && !seg.below.is_empty() && seg.below.chars().count() <= room {
            let _ = write!(
                body,
                "<text class=\"k\" x=\"{mid}\" y=\"52\">{}</text>",
                esc(&seg.below)
            );
        }
    }
    // Legend lines under the boxes, as many keys per line as fit.
    let mut lines: Vec<String> = Vec::new();
    for l in legends {
        match lines.last_mut() {
            Some(last) if (last.len() + 3 + l.len()) as u32 * 6 < W => {
                last.push_str(" · ");
                last.push_str(&l);
            }
            _ => lines.push(l),
        }
    }
    let height = 56 + 14 * lines.len() as u32;
    let mut s = format!(
        "<svg class=\"bf\" viewBox=\"0 0 660 {height}\" role=\"img\" aria-label=\"{} bit fields\">",
        esc(&reg.name)
    );
    s.push_str(&body);
    // The bit ticks go over the boxes.
    let _ = write!(s, "<use href=\"#t{bits}\"/>");
    for (i, l) in lines.iter().enumerate() {
        let _ = write!(
            s,
            "<text class=\"k s\" x=\"{X0}\" y=\"{}\">{}</text>",
            66 + 14 * i as u32,
            esc(l)
        );
    }
    s.push_str("</svg>");
    s
}

/// The register's diagram as ASCII art (for Markdown), 64 columns of bits
/// plus borders: bit numbers, the boxes, the field names, access and reset.
pub fn ascii(reg: &RegisterDoc) -> Vec<String> {
    let bits = reg.bits as usize;
    let c = 64 / bits; // columns per bit
    let width = 64 + 1;
    let mut numbers = vec![' '; width];
    let mut names = vec![' '; width];
    let mut below = vec![' '; width];
    let mut border = vec!['-'; width];
    let place = |line: &mut Vec<char>, at: usize, text: &str| {
        let chars: Vec<char> = text.chars().collect();
        if at + chars.len() > line.len() || line[at..at + chars.len()].iter().any(|c| *c != ' ') {
            return;
        }
        line[at..at + chars.len()].copy_from_slice(&chars);
    };
    let mut legends = Vec::new();
    for seg in segments(reg) {
        let start = (bits - 1 - seg.hi as usize) * c;
        let end = (bits - seg.lo as usize) * c; // column of the right border
        border[start] = '+';
        border[end] = '+';
        names[start] = '|';
        names[end] = '|';
        let inner = end - start - 1;
        let centre = |t: &str| start + 1 + (inner - t.chars().count().min(inner)) / 2;
        if seg.label.chars().count() <= inner {
            place(&mut names, centre(&seg.label), &seg.label);
            if seg.below.chars().count() <= inner {
                place(&mut below, centre(&seg.below), &seg.below);
            }
        } else if !seg.label.is_empty() {
            let k = key(legends.len()).to_string();
            legends.push(legend(key(legends.len()), &seg));
            place(&mut names, centre(&k), &k);
        }
        let hi = seg.hi.to_string();
        let lo = seg.lo.to_string();
        if seg.hi == seg.lo {
            if hi.len() <= inner {
                place(&mut numbers, centre(&hi), &hi);
            }
        } else if hi.len() + lo.len() < inner {
            place(&mut numbers, start + 1, &hi);
            place(&mut numbers, end - lo.len(), &lo);
        } else {
            let both = format!("{hi}:{lo}");
            if both.len() <= inner {
                place(&mut numbers, centre(&both), &both);
            }
        }
    }
    let mut out: Vec<String> = [numbers, border.clone(), names, border, below]
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    out.extend(legends);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::model;

    fn doc(text: &str) -> model::Document {
        let c = pcidevc_dsl::compile_str("t.pcidev", text);
        model::build(&c.device.expect("valid spec"))
    }

    #[test]
    fn fields_gaps_and_storage_less_registers_become_boxes() {
        let d = doc("device t { id 0x1234:0x5678; state s: u32 = 0;
            bar 0 mem32 size 64 {
              register C @ 0 : u32 { field en [0] rw = 1; field mode [7:4] w1c; }
              register V @ 4 : u8 rw = 0x12;
              register K @ 8 : u32 { read s; }
            } }");
        let regs = &d.spaces[0].registers;
        let kinds: Vec<(u32, u32, &str)> = segments(&regs[0])
            .iter()
            .map(|s| (s.hi, s.lo, s.class))
            .collect();
        assert_eq!(
            kinds,
            [(31, 8, "rsv"), (7, 4, "w1c"), (3, 1, "rsv"), (0, 0, "rw")]
        );
        assert_eq!(segments(&regs[1])[0].label, "value");
        assert_eq!(segments(&regs[1])[0].below, "rw=0x12");
        assert_eq!(segments(&regs[2])[0].class, "ns");
        let svg = svg(&regs[0]);
        assert_eq!(svg.matches("<rect").count(), 4);
        assert!(svg.contains("<use href=\"#t32\"/>"));
        let art = ascii(&regs[1]);
        assert_eq!(
            art[0].trim(),
            "7                                                             0"
        );
        assert!(art[2].starts_with('|') && art[2].contains("value"));
        assert_eq!(art[4].trim(), "rw=0x12");
        let art = ascii(&regs[0]);
        assert!(art[2].contains("mode"), "{art:?}");
        assert_eq!(art[5], "a en rw=0x1", "{art:?}");
        assert!(svg.contains(">en</text>"), "{svg}");
        let narrow = svg_of_named(&regs[0], "enable");
        assert!(
            narrow.contains("<title>enable</title>a</text>")
                && narrow.contains(">a enable rw=0x1<"),
            "{narrow}"
        );
    }

    /// `reg` with its one-bit field renamed.
    fn svg_of_named(reg: &model::RegisterDoc, name: &str) -> String {
        let mut r = reg.clone();
        for f in &mut r.fields {
            if f.hi == f.lo {
                f.name = name.into();
            }
        }
        svg(&r)
    }

    #[test]
    fn keys_and_escapes() {
        assert_eq!((key(0), key(25), key(26), key(61)), ('a', 'z', 'A', '9'));
        assert_eq!(esc("a<b&\"c"), "a&lt;b&amp;&quot;c");
    }
}
