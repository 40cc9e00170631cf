//! The documentation backend: `doc/index.html` and `doc/<device>.md`.
//!
//! Both are renderings of one [`model::Document`] built from the IR: the
//! identity and configuration-space summary, the interrupt and DMA in
//! prose, state and hooks, each BAR's register map (a table, then per
//! register a bit-field diagram, its fields and named values, and its
//! behaviour in sentences and actions), and the scenarios. Prose comes from
//! [`crate::prose`], the renderer `summary.txt` uses too.
//!
//! - [`model`]: the document model;
//! - [`diagram`]: bit-field diagrams (SVG, ASCII);
//! - [`html`]: the self-contained page (inline CSS, SVG and a small search
//!   script; nothing is fetched);
//! - [`markdown`]: the same content as Markdown.
//!
//! Output is a pure function of the IR.

pub mod diagram;
pub mod html;
pub mod markdown;
pub mod model;

use crate::OutputFile;
use pcidevc_dsl::ir::Device;
use std::path::PathBuf;

/// `doc/index.html` and `doc/<device>.md`.
pub fn render(dev: &Device) -> Vec<OutputFile> {
    let doc = model::build(dev);
    vec![
        OutputFile {
            path: PathBuf::from("doc/index.html"),
            contents: html::render(dev, &doc),
        },
        OutputFile {
            path: PathBuf::from(format!("doc/{}.md", dev.name)),
            contents: markdown::render(dev, &doc),
        },
    ]
}
