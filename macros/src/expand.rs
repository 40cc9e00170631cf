//! The macro's whole behaviour, on `proc_macro2` tokens so that it can be
//! unit-tested: [`expand`] turns `#[pci_device(...)]` plus the user's item
//! into the item, rebuild-tracking constants, a `Hooks` impl (specs without
//! hooks) and `pub mod <device> { <pcidevc_codegen::model::tokens> }`.
//!
//! Nothing here panics on any input: every problem (bad arguments, an
//! unreadable spec, spec errors, even a panic inside the code generator)
//! becomes a `compile_error!` next to the unchanged item.

use crate::args::{self, Source};
use pcidevc_dsl::diag::{self, Diagnostic};
use pcidevc_dsl::parse::{FsLoader, Loader};
use pcidevc_dsl::{Compiled, ir};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use std::path::{Path, PathBuf};

/// Environment variable that replaces `CARGO_MANIFEST_DIR` as the base of
/// relative `spec` paths. Only for test harnesses such as trybuild, which
/// compile test files inside a generated crate under `target/` (dtolnay's
/// recommended workaround, trybuild issue 202). Changing it does not
/// trigger a rebuild.
pub const MANIFEST_DIR_OVERRIDE: &str = "PCIDEVC_MANIFEST_DIR_OVERRIDE";

/// Name given to inline specs in diagnostics (`<inline>:3:5: ...`).
pub const INLINE_NAME: &str = "<inline>";

/// Expand `#[pci_device(attr)] item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let base = spec_base();
    expand_with_base(attr, item, &base)
}

/// [`expand`] with an explicit base directory for relative spec paths.
pub fn expand_with_base(attr: TokenStream, item: TokenStream, base: &Path) -> TokenStream {
    // The user's item always comes back unchanged, so that errors in the
    // spec do not cascade into "cannot find type" errors in their code.
    let target = match target(&item) {
        Ok(t) => t,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#item #e);
        }
    };
    let args = match args::parse(attr) {
        Ok(a) => a,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#item #e);
        }
    };
    let span = args.source.span();
    let compiled = match compile(&args.source, base) {
        Ok(c) => c,
        Err(message) => {
            let e = compile_error(span, &message);
            return quote!(#item #e);
        }
    };
    let tracking = tracking(&compiled, base);
    let reported: Vec<&Diagnostic> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error() || args.deny_warnings)
        .collect();
    let device = match (&compiled.device, reported.is_empty()) {
        (Some(dev), true) => dev,
        _ => {
            let errors = reported
                .iter()
                .map(|d| compile_error(span, &message(d, &compiled)));
            let fallback = if reported.is_empty() {
                // A compilation with no device but no error cannot happen;
                // never expand silently to nothing.
                compile_error(span, "pcidevc: the spec produced no device")
            } else {
                TokenStream::new()
            };
            return quote!(#item #(#tracking)* #(#errors)* #fallback);
        }
    };
    match module(device, &target, span) {
        Ok(module) => quote!(#item #(#tracking)* #module),
        Err(message) => {
            let e = compile_error(span, &message);
            quote!(#item #(#tracking)* #e)
        }
    }
}

/// The type the attribute is on: its name and generics.
struct Target {
    ident: syn::Ident,
    generics: syn::Generics,
}

fn target(item: &TokenStream) -> syn::Result<Target> {
    const WHERE: &str = "#[pci_device] goes on a struct or an enum: the type that implements \
                         the spec's hooks";
    let item: syn::Item = syn::parse2(item.clone())
        .map_err(|e| syn::Error::new(e.span(), format!("{WHERE} ({e})")))?;
    match item {
        syn::Item::Struct(s) => Ok(Target {
            ident: s.ident,
            generics: s.generics,
        }),
        syn::Item::Enum(e) => Ok(Target {
            ident: e.ident,
            generics: e.generics,
        }),
        other => Err(syn::Error::new_spanned(other, WHERE)),
    }
}

/// Base of relative spec paths: the override, else `CARGO_MANIFEST_DIR`,
/// else the current directory.
fn spec_base() -> PathBuf {
    std::env::var_os(MANIFEST_DIR_OVERRIDE)
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

/// Loads files relative to `base` while keeping the paths (and so the names
/// in diagnostics) as the user wrote them: `specs/x.pcidev:3:5`, never an
/// absolute path that differs from machine to machine.
struct BaseLoader<'a> {
    base: &'a Path,
}

impl Loader for BaseLoader<'_> {
    fn resolve(&self, from: Option<&Path>, name: &str) -> PathBuf {
        FsLoader.resolve(from, name)
    }
    fn load(&mut self, path: &Path) -> std::io::Result<Vec<u8>> {
        FsLoader.load(&self.base.join(path))
    }
}

/// Compile the spec; Err is a message for a spec file that cannot be read.
fn compile(source: &Source, base: &Path) -> Result<Compiled, String> {
    match source {
        Source::Inline(text) => Ok(pcidevc_dsl::compile_str(INLINE_NAME, &text.value())),
        Source::File(lit) => {
            let written = lit.value();
            let path = Path::new(&written);
            let mut loader = BaseLoader { base };
            match loader.load(path) {
                Ok(bytes) => Ok(pcidevc_dsl::compile_bytes(
                    &written,
                    Some(path),
                    bytes,
                    &mut loader,
                )),
                Err(e) => Err(format!(
                    "{written}: error[{}]: cannot read spec `{written}`: {e}\n\
                     help: `spec` paths are relative to CARGO_MANIFEST_DIR (the directory of \
                     the crate's Cargo.toml)",
                    diag::INCLUDE_IO
                )),
            }
        }
    }
}

/// `const _: &[u8] = include_bytes!("/abs/path");` for every file the spec
/// read, so that Cargo rebuilds the crate when one changes (a stable
/// stand-in for the unstable `proc_macro::tracked_path`).
fn tracking(compiled: &Compiled, base: &Path) -> Vec<TokenStream> {
    let mut seen: Vec<PathBuf> = Vec::new();
    for file in compiled.files() {
        let mut abs = base.join(file);
        if abs.is_relative()
            && let Ok(cwd) = std::env::current_dir()
        {
            abs = cwd.join(abs);
        }
        if !seen.contains(&abs) {
            seen.push(abs);
        }
    }
    seen.iter()
        .filter_map(|p| p.to_str())
        .map(|p| {
            quote!(
                const _: &[u8] = ::core::include_bytes!(#p);
            )
        })
        .collect()
}

/// One diagnostic as the text of a `compile_error!`: the CLI's one-line
/// form (`file:line:col: error[E....]: message`), then the other sites of
/// the problem, the notes and the hint.
fn message(d: &Diagnostic, compiled: &Compiled) -> String {
    let mut text = d.short(&compiled.sources);
    for related in &d.related {
        text.push_str(&format!(
            "\nnote: {}: {}",
            compiled.sources.location(related.span),
            related.message
        ));
    }
    for note in &d.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    if let Some(hint) = &d.hint {
        text.push_str(&format!("\nhelp: {hint}"));
    }
    text
}

fn compile_error(span: Span, message: &str) -> TokenStream {
    quote_spanned!(span=> ::core::compile_error!{ #message })
}

/// The `Hooks` impl for a spec without hooks (so the user's type can be the
/// device's `H` like for any other spec) and the model module.
fn module(dev: &ir::Device, target: &Target, span: Span) -> Result<TokenStream, String> {
    let name: syn::Ident = syn::parse_str(&dev.name).map_err(|e| {
        format!(
            "pcidevc: device name `{}` is not a Rust identifier: {e}",
            dev.name
        )
    })?;
    let name = syn::Ident::new(&name.to_string(), span);
    // The code generator never panics on checked IR; should it ever, report
    // a bug in the user's build instead of aborting the compiler.
    let tokens = std::panic::catch_unwind(|| pcidevc_codegen::model::tokens(dev)).map_err(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("pcidevc: internal error in the code generator (please report it): {why}")
    })?;
    let hooks_impl = if dev.hooks.is_empty() {
        let ident = &target.ident;
        let (impl_generics, ty_generics, where_clause) = target.generics.split_for_impl();
        quote! {
            impl #impl_generics #name::Hooks for #ident #ty_generics #where_clause {}
        }
    } else {
        TokenStream::new()
    };
    Ok(quote! {
        #hooks_impl
        pub mod #name {
            #tokens
        }
    })
}
