//! The attribute's arguments: `spec = "path"` or `inline = "text"`, and the
//! optional `deny_warnings` flag.

use proc_macro2::{Span, TokenStream};
use syn::LitStr;
use syn::parse::Parser;

/// Where the spec comes from.
#[derive(Debug)]
pub(crate) enum Source {
    /// `spec = "path"`: a file, relative to `CARGO_MANIFEST_DIR`.
    File(LitStr),
    /// `inline = r#"device x { ... }"#`: the spec text itself.
    Inline(LitStr),
}

impl Source {
    /// The literal, for spans of diagnostics.
    pub(crate) fn span(&self) -> Span {
        match self {
            Source::File(l) | Source::Inline(l) => l.span(),
        }
    }
}

/// Parsed `#[pci_device(...)]` arguments.
#[derive(Debug)]
pub(crate) struct Args {
    pub(crate) source: Source,
    /// Report the spec's warnings as errors (like `pcidevc --deny-warnings`).
    pub(crate) deny_warnings: bool,
}

const USAGE: &str = "expected `#[pci_device(spec = \"path/to/device.pcidev\")]` \
     (relative to CARGO_MANIFEST_DIR) or `#[pci_device(inline = r#\"device name { ... }\"#)]`, \
     optionally followed by `, deny_warnings`";

/// Parse the attribute's tokens.
pub(crate) fn parse(attr: TokenStream) -> syn::Result<Args> {
    let mut source: Option<Source> = None;
    let mut deny_warnings = false;
    let parser = syn::meta::parser(|meta| {
        let key = if meta.path.is_ident("spec") {
            "spec"
        } else if meta.path.is_ident("inline") {
            "inline"
        } else if meta.path.is_ident("deny_warnings") {
            if deny_warnings {
                return Err(meta.error("`deny_warnings` given twice"));
            }
            deny_warnings = true;
            return Ok(());
        } else {
            return Err(meta.error(format!("unknown argument; {USAGE}")));
        };
        if source.is_some() {
            return Err(meta.error("give exactly one of `spec = \"...\"` and `inline = \"...\"`"));
        }
        let lit: LitStr = meta.value()?.parse()?;
        source = Some(if key == "spec" {
            Source::File(lit)
        } else {
            Source::Inline(lit)
        });
        Ok(())
    });
    parser.parse2(attr)?;
    match source {
        Some(source) => Ok(Args {
            source,
            deny_warnings,
        }),
        None => Err(syn::Error::new(Span::call_site(), USAGE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn spec_and_inline_forms() {
        let a = parse(quote!(spec = "specs/x.pcidev")).unwrap();
        assert!(matches!(a.source, Source::File(ref l) if l.value() == "specs/x.pcidev"));
        assert!(!a.deny_warnings);
        let a = parse(quote!(inline = r#"device x { }"#, deny_warnings)).unwrap();
        assert!(matches!(a.source, Source::Inline(ref l) if l.value() == "device x { }"));
        assert!(a.deny_warnings);
    }

    #[test]
    fn bad_arguments_are_errors() {
        for bad in [
            quote!(),
            quote!(deny_warnings),
            quote!(spec = "a", inline = "b"),
            quote!(spec = "a", spec = "b"),
            quote!(spec = 3),
            quote!(path = "a"),
            quote!(spec),
            quote!(spec = "a", deny_warnings, deny_warnings),
            quote!("a"),
        ] {
            assert!(parse(bad.clone()).is_err(), "accepted {bad}");
        }
    }
}
