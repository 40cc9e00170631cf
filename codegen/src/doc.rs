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
    let mut files = Vec::new();
    render_each(dev, |f| {
        files.push(f);
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    files
}

/// [`render`]'s files one at a time, each handed to `each` before the next
/// is rendered (a large device's page is a hundred megabytes).
pub fn render_each<E>(
    dev: &Device,
    mut each: impl FnMut(OutputFile) -> Result<(), E>,
) -> Result<(), E> {
    let doc = model::build(dev);
    each(OutputFile {
        path: PathBuf::from("doc/index.html"),
        contents: html::render(dev, &doc),
    })?;
    each(OutputFile {
        path: PathBuf::from(format!("doc/{}.md", dev.name)),
        contents: markdown::render(dev, &doc),
    })
}
