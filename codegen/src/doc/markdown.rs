//! The Markdown format: `doc/<device>.md`, the same document as the HTML
//! page (template `templates/doc/device.md`).
//!
//! Diagrams are ASCII art in `text` code blocks rather than the SVG files
//! a Markdown file could reference: one file stays self-contained (renders
//! the same on a forge, in an editor or in a terminal, and its drift diff in
//! review shows which bits moved), where one SVG file per register would be
//! 10,000 files for a 10,000-register device.
//!
//! Escaping: text in paragraphs escapes Markdown's punctuation; table cells
//! additionally escape `|` (also inside code spans, as GFM requires); code
//! spans use a fence of backticks longer than any run inside them.

use super::diagram;
use super::model::{Document, RegisterDoc, hex};
use crate::prose::{Inline, Para};
use askama::Template;
use pcidevc_dsl::ir::Device;

#[derive(Template)]
#[template(path = "doc/device.md", escape = "none")]
struct Md {
    name: String,
    description: String,
    source: String,
    generator: String,
    config: Vec<(String, String)>,
    sections: Vec<SectionView>,
    states: Vec<(String, String, String)>,
    hooks: Vec<String>,
    spaces: Vec<SpaceView>,
    scenarios: Vec<ScenarioView>,
}

struct SectionView {
    title: String,
    slug: String,
    paras: Vec<String>,
}

struct SpaceView {
    /// `BAR 0 — I/O, 16 bytes` (heading text)
    heading: String,
    slug: String,
    title: String,
    policy: String,
    regs: Vec<RegView>,
}

struct RegView {
    name: String,
    anchor: String,
    offset: String,
    bits: u32,
    access: String,
    access_text: String,
    reset: String,
    field_list: String,
    diagram: String,
    fields: Vec<FieldRow>,
    paras: Vec<String>,
    actions: String,
}

struct FieldRow {
    bits: String,
    name: String,
    access: &'static str,
    reset: String,
    values: String,
}

struct ScenarioView {
    title: String,
    steps: Vec<(usize, usize, String)>,
}

/// Escapes Markdown punctuation in running text.
fn text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
        ) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// A code span holding `s` exactly.
fn code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// For a table cell: pipes escaped (GFM splits cells before parsing code).
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// A paragraph as Markdown.
pub fn para_md(dev: &Device, p: &Para) -> String {
    p.0.iter()
        .map(|i| match i {
            Inline::Text(t) => text(t),
            Inline::Code(c) => code(c),
            Inline::Reg(r) => {
                let name = &dev.register(*r).name;
                format!(
                    "[{}](#{})",
                    code(name),
                    super::model::anchor(dev.register(*r).item_name())
                )
            }
        })
        .collect()
}

/// GitHub's heading slug for the simple headings used here.
fn slug(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

fn reg_view(dev: &Device, r: &RegisterDoc) -> RegView {
    let explicit: Vec<&super::model::FieldDoc> = r.fields.iter().filter(|f| !f.implicit).collect();
    let b = &r.behaviour;
    let mut actions = Vec::new();
    for (what, lines) in [("on read", &r.on_read), ("on write", &r.on_write)] {
        if !lines.is_empty() {
            actions.push(format!("{what}:"));
            actions.extend(lines.iter().map(|l| format!("  {l}")));
        }
    }
    RegView {
        name: r.name.clone(),
        anchor: r.anchor.clone(),
        offset: hex(r.offset),
        bits: r.bits,
        access: cell(&r.access.kinds),
        access_text: r.access.text(),
        reset: r.reset.map(hex).unwrap_or_default(),
        field_list: explicit
            .iter()
            .map(|f| text(&f.name))
            .collect::<Vec<_>>()
            .join(", "),
        diagram: diagram::ascii(r).join("\n"),
        fields: explicit
            .iter()
            .map(|f| FieldRow {
                bits: f.bits_text(),
                name: f.name.clone(),
                access: f.access,
                reset: hex(f.reset),
                values: f
                    .variants
                    .iter()
                    .map(|(n, v)| format!("{} = {v:#x}", text(n)))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        paras: [&b.read, &b.write]
            .into_iter()
            .chain(&b.effects)
            .chain(&b.notes)
            .map(|p| para_md(dev, p))
            .collect(),
        actions: actions.join("\n"),
    }
}

/// The Markdown file `doc/<device>.md` for a device's [`Document`].
pub fn render(dev: &Device, doc: &Document) -> String {
    let md = Md {
        name: text(&doc.name),
        description: text(&doc.description),
        source: doc.source.clone(),
        generator: doc.generator.clone(),
        config: doc
            .config
            .iter()
            .map(|(k, v)| (cell(&text(k)), cell(&text(v))))
            .collect(),
        sections: doc
            .sections
            .iter()
            .map(|s| SectionView {
                title: s.title.clone(),
                slug: slug(&s.title),
                paras: s.paras.iter().map(|p| para_md(dev, p)).collect(),
            })
            .collect(),
        states: doc
            .states
            .iter()
            .map(|(n, t, v)| (n.clone(), cell(t), cell(&text(v))))
            .collect(),
        hooks: doc.hooks.iter().map(|(_, sig)| sig.clone()).collect(),
        spaces: doc
            .spaces
            .iter()
            .map(|sp| SpaceView {
                heading: sp.title.clone(),
                slug: slug(&sp.title),
                title: sp.title.clone(),
                policy: format!("{}. {}", text(&sp.what), text(&sp.policy.join(" "))),
                regs: sp.registers.iter().map(|r| reg_view(dev, r)).collect(),
            })
            .collect(),
        scenarios: doc
            .scenarios
            .iter()
            .map(|s| ScenarioView {
                title: if s.description.is_empty() {
                    text(&s.name)
                } else {
                    format!("{} — {}", text(&s.name), text(&s.description))
                },
                steps: s
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, (line, t))| (i + 1, *line, cell(&code(t))))
                    .collect(),
            })
            .collect(),
    };
    crate::finish_text(md.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(text("a*b_c|d"), "a\\*b\\_c\\|d");
        assert_eq!(code("x | y"), "`x | y`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(cell(&code("x | y")), "`x \\| y`");
        assert_eq!(slug("BAR 0"), "bar-0");
        assert_eq!(
            slug("Identity and configuration"),
            "identity-and-configuration"
        );
    }
}
