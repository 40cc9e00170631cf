//! Printing the model piece by piece, so that memory stays flat in the
//! number of registers.
//!
//! Formatting the whole module at once holds its token stream, its syntax
//! tree and prettyplease's buffers for every register together (gigabytes
//! at 100,000 registers). Instead the module is a sequence of [`Piece`]s
//! (top-level items), each formatted on its own; a piece's big lists
//! (register methods, match arms, array elements, struct fields) are
//! [`List`]s whose elements are built and formatted a batch at a time.
//!
//! The text is the one formatting the whole module gives, byte for byte:
//! prettyplease lays out an element of a list that is broken over lines
//! (every element on its own line, as in a long list) from its indentation
//! and what follows it on its line only. So a batch is formatted inside
//! the piece itself (built again with only that batch in the list, every
//! other big list replaced by a one-line marker), between a long first
//! element that forces the list onto separate lines and, but for the last
//! batch, a last element that gives the batch's last element the `,` that
//! follows it in the whole list; the lines in between are the batch's.
//! Blank lines between items follow [`super::spacing`]'s rule, line by
//! line as the text is produced.

use super::spacing::blank_between;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use std::cell::Cell;
use std::ops::Range;

/// Lists shorter than this are formatted whole with their piece: they are
/// small, and a list this long is surely broken over lines (each element
/// takes at least `x, `), which batching relies on.
const SPLICE_MIN: usize = 64;

thread_local! {
    /// Elements per batch (tests make it small to splice everywhere).
    static BATCH: Cell<usize> = const { Cell::new(256) };
}

/// What a list's elements are, for the marker standing for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Comma-separated expressions (array or `vec!` elements), each
    /// element's tokens ending in `,`.
    Expr,
    /// Comma-separated expressions without a trailing comma (`vec!`
    /// elements: prettyplease prints a macro's commas as written).
    Separated,
    /// Comma-separated fields of a struct expression, each ending in `,`.
    FieldValue,
    /// Named fields of a struct definition.
    Field,
    /// Arms of a `match`.
    Arm,
    /// Statements of a block.
    Stmt,
    /// Items of an `impl`.
    ImplItem,
    /// Items of a module.
    ModItem,
}

/// A list of `len` elements inside a piece, built a range at a time.
pub(super) struct List<'a> {
    pub len: usize,
    pub kind: Kind,
    /// Ordinary elements (an arm, a field) one element is worth: a batch
    /// holds that many times fewer (a run method of 256 arms is 256).
    pub weight: usize,
    /// The tokens of elements `range`, in order.
    pub elems: Box<dyn Fn(Range<usize>) -> TokenStream + 'a>,
}

/// The filler of a piece's list slots: slot index to tokens.
pub(super) type Fill<'f> = &'f dyn Fn(usize) -> TokenStream;

/// Top-level items of the module whose big lists are [`List`]s: `build`
/// makes the items' tokens with slot `i` filled by `fill(i)`.
pub(super) struct Piece<'a> {
    pub lists: Vec<List<'a>>,
    #[allow(clippy::type_complexity)]
    pub build: Box<dyn Fn(Fill) -> TokenStream + 'a>,
}

impl<'a> Piece<'a> {
    /// A piece without big lists.
    pub fn plain(tokens: TokenStream) -> Self {
        Piece {
            lists: Vec::new(),
            build: Box::new(move |_| tokens.clone()),
        }
    }

    /// The piece's tokens, every list whole.
    pub fn tokens(&self) -> TokenStream {
        (self.build)(&|s| {
            let l = &self.lists[s];
            (l.elems)(0..l.len)
        })
    }
}

/// The marker standing for slot `s`'s list, or a pad (`name`), as one
/// element of kind `kind`. Comma-separated kinds get a name longer than a
/// line, which forces the list onto separate lines.
fn marker(kind: Kind, name: &str) -> TokenStream {
    let long = format!("{name}_{}", "x".repeat(100));
    match kind {
        Kind::Expr | Kind::FieldValue => {
            let i = Ident::new(&long, Span::call_site());
            quote!(#i,)
        }
        Kind::Separated => {
            let i = Ident::new(&long, Span::call_site());
            quote!(#i)
        }
        Kind::Field => {
            let i = Ident::new(name, Span::call_site());
            quote!(pub #i: u8,)
        }
        Kind::Arm => {
            let i = Ident::new(name, Span::call_site());
            quote!(#i => {})
        }
        Kind::Stmt => {
            let i = Ident::new(name, Span::call_site());
            quote!(#i;)
        }
        Kind::ImplItem => {
            let i = Ident::new(name, Span::call_site());
            quote!(fn #i() {})
        }
        Kind::ModItem => {
            let i = Ident::new(name, Span::call_site());
            quote!(const #i: u8 = 0;)
        }
    }
}

fn slot_name(s: usize) -> String {
    format!("__pcidevc_splice_{s}_")
}

const PAD_START: &str = "__pcidevc_pad_start_";
const PAD_END: &str = "__pcidevc_pad_end_";

/// The module's text, with blank lines between items added as lines come.
pub(super) struct Out {
    text: String,
    /// Where the last line written starts in `text`.
    prev: Option<usize>,
}

impl Out {
    pub fn new() -> Self {
        Out {
            text: String::new(),
            prev: None,
        }
    }

    fn line(&mut self, line: &str) {
        if let Some(p) = self.prev {
            let prev = self.text[p..].trim_end_matches('\n');
            if blank_between(prev, line) {
                self.text.push('\n');
            }
        }
        self.prev = Some(self.text.len());
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn lines(&mut self, text: &str) {
        for l in text.lines() {
            self.line(l);
        }
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// `tokens` (items, and inner attributes first) formatted by prettyplease.
fn format(tokens: TokenStream) -> Result<String, syn::Error> {
    let file: syn::File = syn::parse2(tokens)?;
    Ok(prettyplease::unparse(&file))
}

/// Print `piece` into `out` (see the module docs).
pub(super) fn emit(piece: &Piece, out: &mut Out) -> Result<(), syn::Error> {
    let batch = BATCH.with(Cell::get).max(1);
    let per_batch = |l: &List| (batch / l.weight.max(1)).max(1);
    let splices = |l: &List| l.len.saturating_mul(l.weight.max(1)) >= SPLICE_MIN;
    if !piece
        .lists
        .iter()
        .any(|l| splices(l) && l.len > per_batch(l))
    {
        out.lines(&format(piece.tokens())?);
        return Ok(());
    }
    // The piece is printed in batches; then every list long enough to
    // splice is spliced, even one that fits in a single batch: left whole,
    // it would be built, parsed and printed again with every batch of the
    // other lists.
    let big: Vec<bool> = piece.lists.iter().map(splices).collect();
    let whole = |s: usize| {
        let l = &piece.lists[s];
        (l.elems)(0..l.len)
    };
    let skeleton_fill = |s: usize| {
        if big[s] {
            marker(piece.lists[s].kind, &slot_name(s))
        } else {
            whole(s)
        }
    };
    let skeleton = format((piece.build)(&skeleton_fill))?;
    let lines: Vec<&str> = skeleton.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        let Some(s) = (0..big.len()).find(|&s| big[s] && line.contains(&slot_name(s))) else {
            out.line(line);
            continue;
        };
        let list = &piece.lists[s];
        let batch = per_batch(list);
        // Lines after the list's elements: the skeleton's after the marker.
        let after = lines.len() - at - 1;
        let mut start = 0;
        while start < list.len {
            let end = (start + batch).min(list.len);
            let last = end == list.len;
            let fill = |x: usize| {
                if x == s {
                    let comma = (list.kind == Kind::Separated).then(|| quote!(,));
                    let mut t = marker(list.kind, PAD_START);
                    t.extend(comma.clone());
                    t.extend((list.elems)(start..end));
                    if !last {
                        t.extend(comma);
                        t.extend(marker(list.kind, PAD_END));
                    }
                    t
                } else {
                    skeleton_fill(x)
                }
            };
            let text = format((piece.build)(&fill))?;
            let got: Vec<&str> = text.lines().collect();
            let first = got
                .iter()
                .position(|l| l.contains(PAD_START))
                .map_or(0, |p| p + 1);
            let mut stop = got.len().saturating_sub(after).max(first);
            if let Some(p) = got[first..stop].iter().position(|l| l.contains(PAD_END)) {
                stop = first + p;
            }
            for l in &got[first..stop] {
                out.line(l);
            }
            start = end;
        }
    }
    Ok(())
}

/// Run `f` with batches of `n` elements (tests: splice every list).
#[cfg(test)]
pub(super) fn with_batch<T>(n: usize, f: impl FnOnce() -> T) -> T {
    let old = BATCH.with(|b| b.replace(n));
    let r = f();
    BATCH.with(|b| b.set(old));
    r
}

#[cfg(test)]
mod tests {
    use super::with_batch;
    use crate::model::{render_source, render_whole};

    /// Every spec and a synthetic one print the same piece by piece, with
    /// batches of a few elements (every list of 64 or more spliced), as
    /// formatted whole.
    #[test]
    fn batched_text_is_the_whole_text() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        let mut sources: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pcidev"))
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        sources.sort();
        assert!(sources.len() >= 5, "the specs are found");
        sources.push(("synthetic.pcidev".into(), pcidevc_dsl::synthetic::spec(300)));
        for (name, text) in &sources {
            let compiled = pcidevc_dsl::compile_str(name, text);
            let dev = compiled.device.expect("the spec compiles");
            let whole = render_whole(&dev);
            for batch in [1, 7, 256] {
                let batched = with_batch(batch, || render_source(&dev));
                assert!(
                    batched == whole,
                    "{name}, batches of {batch}: {}",
                    first_difference(&batched, &whole)
                );
            }
        }
    }

    fn first_difference(a: &str, b: &str) -> String {
        let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        let i = (0..la.len().max(lb.len()))
            .find(|&i| la.get(i) != lb.get(i))
            .unwrap_or(0);
        format!(
            "line {}: batched {:?}, whole {:?}",
            i + 1,
            la.get(i),
            lb.get(i)
        )
    }
}
