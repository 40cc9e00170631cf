//! The HTML format: one self-contained page (`doc/index.html`).
//!
//! The page is the template `templates/doc/index.html` with its stylesheet
//! (`style.css`) and search filter (`search.js`) inlined. This file turns the
//! [`Document`] into the template's view: prose as HTML (code marked up,
//! registers linked to their anchors), diagrams as inline SVG, everything
//! else as plain strings that askama escapes.
//!
//! Navigation: a fixed sidebar with the sections, the BARs and the search
//! box; each BAR's register map table is the register index (every row links
//! to the register's section, `#r-NAME`). The filter hides map rows and
//! register sections whose key (name and offset) does not contain the query.

use super::diagram::{self, esc};
use super::model::{Document, RegisterDoc, hex};
use crate::prose::{Inline, Para};
use askama::Template;
use pcidevc_dsl::ir::Device;

const CSS: &str = include_str!("../../templates/doc/style.css");
const SCRIPT: &str = include_str!("../../templates/doc/search.js");

#[derive(Template)]
#[template(path = "doc/index.html")]
struct Page<'a> {
    name: &'a str,
    description: &'a str,
    source: &'a str,
    generator: &'a str,
    css: &'static str,
    script: &'static str,
    defs: String,
    register_count: usize,
    config: &'a [(String, String)],
    sections: Vec<SectionView<'a>>,
    states: &'a [(String, String, String)],
    hooks: &'a [(String, String)],
    spaces: Vec<SpaceView<'a>>,
    scenarios: &'a [super::model::ScenarioDoc],
}

struct SectionView<'a> {
    anchor: &'a str,
    title: &'a str,
    /// Paragraphs as HTML.
    paras: Vec<String>,
}

struct SpaceView<'a> {
    anchor: &'a str,
    title: &'a str,
    what: &'a str,
    policy: &'a [String],
    regs: Vec<RegView<'a>>,
}

struct RegView<'a> {
    name: &'a str,
    anchor: &'a str,
    key: String,
    offset: String,
    bits: u32,
    access: &'a str,
    access_text: String,
    /// Empty without storage.
    reset: String,
    /// Field names for the map table, most significant first.
    field_list: String,
    svg: String,
    fields: Vec<FieldRow<'a>>,
    /// Behaviour sentences as HTML.
    paras: Vec<String>,
    on_read: String,
    on_write: String,
}

struct FieldRow<'a> {
    bits: String,
    name: &'a str,
    access: &'a str,
    reset: String,
    values: String,
}

/// A paragraph as HTML: text escaped, code in `<code>`, registers linked.
pub fn para_html(dev: &Device, p: &Para) -> String {
    let mut s = String::new();
    for i in &p.0 {
        match i {
            Inline::Text(t) => s.push_str(&esc(t)),
            Inline::Code(c) => {
                s.push_str("<code>");
                s.push_str(&esc(c));
                s.push_str("</code>");
            }
            Inline::Reg(r) => {
                let name = &dev.register(*r).name;
                s.push_str(&format!(
                    "<a href=\"#{}\"><code>{}</code></a>",
                    esc(&super::model::anchor(dev.register(*r).item_name())),
                    esc(name)
                ));
            }
        }
    }
    s
}

fn reg_view<'a>(dev: &Device, r: &'a RegisterDoc) -> RegView<'a> {
    let explicit: Vec<&super::model::FieldDoc> = r.fields.iter().filter(|f| !f.implicit).collect();
    let b = &r.behaviour;
    let paras = [&b.read, &b.write]
        .into_iter()
        .chain(&b.effects)
        .chain(&b.notes)
        .map(|p| para_html(dev, p))
        .collect();
    RegView {
        name: &r.name,
        anchor: &r.anchor,
        key: r.search_key(),
        offset: hex(r.offset),
        bits: r.bits,
        access: &r.access.kinds,
        access_text: r.access.text(),
        reset: r.reset.map(hex).unwrap_or_default(),
        field_list: explicit
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        svg: diagram::svg(r),
        fields: explicit
            .iter()
            .map(|f| FieldRow {
                bits: f.bits_text(),
                name: &f.name,
                access: f.access,
                reset: hex(f.reset),
                values: f
                    .variants
                    .iter()
                    .map(|(n, v)| format!("{n} = {v:#x}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        paras,
        on_read: r.on_read.join("\n"),
        on_write: r.on_write.join("\n"),
    }
}

/// The page.
pub fn render(dev: &Device, doc: &Document) -> String {
    let page = Page {
        name: &doc.name,
        description: &doc.description,
        source: &doc.source,
        generator: &doc.generator,
        css: CSS.trim_end(),
        script: SCRIPT.trim_end(),
        defs: diagram::svg_defs(),
        register_count: doc.register_count,
        config: &doc.config,
        sections: doc
            .sections
            .iter()
            .map(|s| SectionView {
                anchor: &s.anchor,
                title: &s.title,
                paras: s.paras.iter().map(|p| para_html(dev, p)).collect(),
            })
            .collect(),
        states: &doc.states,
        hooks: &doc.hooks,
        spaces: doc
            .spaces
            .iter()
            .map(|sp| SpaceView {
                anchor: &sp.anchor,
                title: &sp.title,
                what: &sp.what,
                policy: &sp.policy,
                regs: sp.registers.iter().map(|r| reg_view(dev, r)).collect(),
            })
            .collect(),
        scenarios: &doc.scenarios,
    };
    crate::finish_text(page.render())
}
