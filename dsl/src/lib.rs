//! The pcidevc language front end.
//!
//! Text goes through three stages, each in its own module:
//! 1. [`parse`]: pest grammar (`grammar.pest`) to an [`ast`] that keeps a
//!    [`source::Span`] on every node, with error recovery and includes;
//! 2. [`check`]: name resolution and every semantic check, producing the
//!    typed [`ir`] that all backends consume (no backend re-reads text);
//! 3. [`diag`]: diagnostics with stable codes, spans, both sites of a
//!    conflict and a hint, rendered in rustc's layouts or its JSON.
//!
//! Entry points: [`compile_file`] for a path, [`compile_str`] for text.
//! Neither panics on any input.

pub mod ast;
pub mod check;
pub mod diag;
pub mod fmt;
pub mod ir;
pub mod parse;
pub mod source;
pub mod synthetic;

use diag::Diagnostic;
use parse::Loader;
use source::SourceMap;
use std::path::Path;

/// Everything one compilation produced: the sources (for rendering
/// diagnostics), the diagnostics (errors and warnings, in source order), the
/// syntax tree as recovered (for tools such as the language server, which
/// need names and spans even when there are errors), and the IR when there
/// was no error.
#[derive(Debug)]
pub struct Compiled {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub ast: ast::SpecAst,
    pub device: Option<ir::Device>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
    /// Paths of every file read (the spec and its includes), for build
    /// systems that track dependencies.
    pub fn files(&self) -> Vec<&Path> {
        self.sources
            .files()
            .iter()
            .filter_map(|f| f.path.as_deref())
            .collect()
    }
}

/// Compile a spec file (includes resolved relative to it).
pub fn compile_file(path: &Path) -> Compiled {
    let mut loader = parse::FsLoader;
    let name = path.display().to_string();
    match loader.load(path) {
        Ok(bytes) => compile_bytes(&name, Some(path), bytes, &mut loader),
        Err(e) => {
            let mut sources = SourceMap::new();
            let file = sources.add(source::SourceFile::new(
                name.clone(),
                Some(path.to_path_buf()),
                String::new(),
            ));
            let d = Diagnostic::error(
                diag::INCLUDE_IO,
                source::Span::new(file, 0, 0),
                format!("cannot read `{name}`: {e}"),
            )
            .hint("check the path")
            .whole_file();
            Compiled {
                sources,
                diagnostics: vec![d],
                ast: ast::SpecAst::default(),
                device: None,
            }
        }
    }
}

/// Compile spec text that has no file (includes are refused).
pub fn compile_str(name: &str, text: &str) -> Compiled {
    compile_bytes(name, None, text.as_bytes().to_vec(), &mut parse::NoIncludes)
}

/// Compile raw bytes with a given include loader. Never panics.
pub fn compile_bytes(
    name: &str,
    path: Option<&Path>,
    bytes: Vec<u8>,
    loader: &mut dyn Loader,
) -> Compiled {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let ast = parse::parse_bytes(
        &mut sources,
        &mut diagnostics,
        loader,
        name,
        path.map(Path::to_path_buf),
        bytes,
    );
    let device = check::check(&ast, &sources, &mut diagnostics);
    // Source order: file, then position; errors before warnings at one spot.
    diagnostics.sort_by(|a, b| {
        (a.span.file, a.span.start, std::cmp::Reverse(a.severity)).cmp(&(
            b.span.file,
            b.span.start,
            std::cmp::Reverse(b.severity),
        ))
    });
    diagnostics.dedup();
    Compiled {
        sources,
        diagnostics,
        ast,
        device,
    }
}
