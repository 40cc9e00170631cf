//! Unit tests of the expansion: the macro emits exactly the CLI's model
//! (compared with `pcidevc_codegen::model::tokens` and with the checked-in
//! `generated/hello_tic/model.rs`), tracks its files, reports errors as
//! `compile_error!`s and never panics.

use crate::expand::{expand, expand_with_base};
use proc_macro2::TokenStream;
use quote::quote;
use std::path::{Path, PathBuf};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace() -> PathBuf {
    manifest_dir().join("..")
}

fn hello_tic() -> pcidevc_dsl::ir::Device {
    let c = pcidevc_dsl::compile_file(&workspace().join("specs/hello_tic.pcidev"));
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    c.device.expect("device")
}

fn item() -> TokenStream {
    quote! {
        #[derive(Debug, Default)]
        pub struct MyDev;
    }
}

/// Expand with `spec` relative to this crate's directory.
fn expand_here(attr: TokenStream) -> syn::File {
    let out = expand_with_base(attr, item(), &manifest_dir());
    syn::parse2(out).expect("the expansion parses as items")
}

fn module<'a>(file: &'a syn::File, name: &str) -> Option<&'a syn::ItemMod> {
    file.items.iter().find_map(|i| match i {
        syn::Item::Mod(m) if m.ident == name => Some(m),
        _ => None,
    })
}

/// The module's contents, pretty-printed as a file of their own.
fn module_source(m: &syn::ItemMod) -> String {
    let (_, items) = m.content.clone().expect("inline module");
    let inner: Vec<syn::Attribute> = m
        .attrs
        .iter()
        .filter(|a| matches!(a.style, syn::AttrStyle::Inner(_)))
        .cloned()
        .collect();
    pcidevc_codegen::model::unparse(&syn::File {
        shebang: None,
        frontmatter: None,
        attrs: inner,
        items,
    })
}

/// Every `compile_error!` message in an expansion.
fn compile_errors(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Macro(m) if m.mac.path.segments.last()?.ident == "compile_error" => {
                let lit: syn::LitStr = syn::parse2(m.mac.tokens.clone()).ok()?;
                Some(lit.value())
            }
            _ => None,
        })
        .collect()
}

fn tracked_paths(file: &syn::File) -> Vec<String> {
    file.items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Const(c) if c.ident == "_" => {
                let syn::Expr::Macro(m) = &*c.expr else {
                    return None;
                };
                let lit: syn::LitStr = syn::parse2(m.mac.tokens.clone()).ok()?;
                Some(lit.value())
            }
            _ => None,
        })
        .collect()
}

/// Pretty-print Rust source through syn + prettyplease, so that files
/// compare as code whatever formatter last touched them.
fn normalize(source: &str) -> String {
    prettyplease::unparse(&syn::parse_file(source).expect("valid Rust"))
}

/// The first line where two texts differ, for short failure messages.
fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for n in 1.. {
        match (la.next(), lb.next()) {
            (None, None) => break,
            (x, y) if x == y => continue,
            (x, y) => return format!("line {n}: {x:?} vs {y:?}"),
        }
    }
    String::from("no difference")
}

/// The code generator's output for hello_tic is the checked-in CLI model,
/// as code. (Byte-for-byte freshness, formatting included, is what
/// `pcidevc specs/*.pcidev --check` verifies in CI.)
#[test]
fn codegen_matches_the_checked_in_cli_output() {
    let cli = std::fs::read_to_string(workspace().join("generated/hello_tic/model.rs"))
        .expect("generated/hello_tic/model.rs");
    let ours = pcidevc_codegen::model::render_source(&hello_tic());
    let (ours, cli) = (normalize(&ours), normalize(&cli));
    assert!(
        ours == cli,
        "generated/hello_tic/model.rs is stale (run `cargo run -p pcidevc -- \
         specs/hello_tic.pcidev`): {}",
        first_difference(&ours, &cli)
    );
}

#[test]
fn macro_module_is_the_cli_model() {
    let dev = hello_tic();
    let file = expand_here(quote!(spec = "../specs/hello_tic.pcidev"));
    assert!(compile_errors(&file).is_empty());
    let m = module(&file, "hello_tic").expect("pub mod hello_tic");
    assert!(matches!(m.vis, syn::Visibility::Public(_)));
    // Token for token: the module body is `model::tokens(dev)`.
    let (_, items) = m.content.clone().unwrap();
    let inner = m
        .attrs
        .iter()
        .filter(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let body = quote!(#(#inner)* #(#items)*);
    let expected: syn::File = syn::parse2(pcidevc_codegen::model::tokens(&dev)).unwrap();
    assert_eq!(body.to_string(), quote!(#expected).to_string());
    // And pretty-printed, what the CLI writes, byte for byte.
    let ours = module_source(m);
    let cli = pcidevc_codegen::model::render_source(&dev);
    assert!(ours == cli, "{}", first_difference(&ours, &cli));
}

#[test]
fn item_comes_back_unchanged_first() {
    let file = expand_here(quote!(spec = "../specs/hello_tic.pcidev"));
    let first = &file.items[0];
    let expected: syn::Item = syn::parse2(item()).unwrap();
    assert_eq!(quote!(#first).to_string(), quote!(#expected).to_string());
}

#[test]
fn spec_files_are_tracked_by_absolute_path() {
    let file = expand_here(quote!(spec = "../specs/hello_tic.pcidev"));
    let paths = tracked_paths(&file);
    assert_eq!(paths.len(), 1, "{paths:?}");
    let p = Path::new(&paths[0]);
    assert!(p.is_absolute());
    assert_eq!(
        std::fs::canonicalize(p).unwrap(),
        std::fs::canonicalize(workspace().join("specs/hello_tic.pcidev")).unwrap()
    );
}

#[test]
fn includes_are_tracked_and_named_as_written() {
    let dir = std::env::temp_dir().join(format!("pcidevc-macros-inc-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("specs/parts")).unwrap();
    std::fs::write(
        dir.join("specs/dev.pcidev"),
        "device inc { id 0x1234:0x0001; bar 0 mem32 size 16 { include \"parts/regs.pcidev\"; } }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("specs/parts/regs.pcidev"),
        "register A @ 0x0 : u32 rw = 0;\nregister B @ 0x0 : u32 rw = 0;\n",
    )
    .unwrap();
    let out = expand_with_base(quote!(spec = "specs/dev.pcidev"), item(), &dir);
    let file: syn::File = syn::parse2(out).unwrap();
    let mut tracked = tracked_paths(&file);
    tracked.sort();
    assert_eq!(
        tracked,
        [
            dir.join("specs/dev.pcidev").display().to_string(),
            dir.join("specs/parts/regs.pcidev").display().to_string(),
        ]
    );
    // The overlap (B on top of A) is reported in the included file, by
    // the path relative to the crate, with the other site and the hint.
    let errors = compile_errors(&file);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("specs/parts/regs.pcidev:2:14: error[E0302]"),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("\nnote: specs/parts/regs.pcidev:1:14: "),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("\nhelp: "), "{}", errors[0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hooks_impl_only_for_specs_without_hooks() {
    let file = expand_here(quote!(spec = "../specs/hello_tic.pcidev"));
    let impls: Vec<String> = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Impl(im) => {
                let (path, _) = im.trait_.as_ref()?;
                let ty = &im.self_ty;
                Some(format!("{} for {}", quote!(#path), quote!(#ty)))
            }
            _ => None,
        })
        .collect();
    assert_eq!(impls, ["hello_tic :: Hooks for MyDev"]);

    let with_hook = quote!(
        inline = r#"device h { id 0x1234:0x0001; hook f(x: u32) -> u32;
        bar 0 mem32 size 16 { register A @ 0x0 : u32 { read f(1); } } }"#
    );
    let file = expand_here(with_hook);
    assert!(
        compile_errors(&file).is_empty(),
        "{:?}",
        compile_errors(&file)
    );
    assert!(module(&file, "h").is_some());
    assert!(!file.items.iter().any(|i| matches!(i, syn::Item::Impl(_))));
}

#[test]
fn generic_targets_get_generic_hooks_impls() {
    let out = expand_with_base(
        quote!(spec = "../specs/hello_tic.pcidev"),
        quote!(
            struct G<T: Send + 'static>(T);
        ),
        &manifest_dir(),
    );
    let file: syn::File = syn::parse2(out).unwrap();
    let im = file
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Impl(im) => Some(im),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        quote!(#im).to_string(),
        quote!(
            impl<T: Send + 'static> hello_tic::Hooks for G<T> {}
        )
        .to_string()
    );
}

#[test]
fn every_spec_error_is_one_compile_error() {
    let file = expand_here(quote!(
        inline = r#"device bad {
    id 0x1234:0x0001;
    bar 0 mem32 size 16 {
        register A @ 0x0 : u32 rw = 0;
        register B @ 0x0 : u32 { read NOPE; }
        register C @ 0x20 : u32 rw = 0;
    }
}"#
    ));
    let errors = compile_errors(&file);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors.iter().all(|e| e.starts_with("<inline>:")));
    assert!(errors.iter().any(|e| e.contains("error[E0302]")));
    assert!(errors.iter().any(|e| e.contains("error[E0402]")));
    assert!(errors.iter().any(|e| e.contains("error[E0301]")));
    assert!(module(&file, "bad").is_none());
    // The item is still there, so the user's code does not cascade.
    assert!(matches!(file.items[0], syn::Item::Struct(_)));
}

#[test]
fn warnings_are_ignored_unless_denied() {
    // hello_tic's DMA_ADDR resets to the VGA window: warning W0001.
    let file = expand_here(quote!(spec = "../specs/hello_tic.pcidev"));
    assert!(compile_errors(&file).is_empty());
    let file = expand_here(quote!(spec = "../specs/hello_tic.pcidev", deny_warnings));
    let errors = compile_errors(&file);
    assert!(!errors.is_empty());
    assert!(errors.iter().all(|e| e.contains("warning[W")), "{errors:?}");
    assert!(module(&file, "hello_tic").is_none());
    // Still tracked, so fixing the spec rebuilds.
    assert_eq!(tracked_paths(&file).len(), 1);
}

#[test]
fn missing_spec_file() {
    let file = expand_here(quote!(spec = "specs/nope.pcidev"));
    let errors = compile_errors(&file);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .starts_with("specs/nope.pcidev: error[E0004]: cannot read spec `specs/nope.pcidev`"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("CARGO_MANIFEST_DIR"));
    assert!(tracked_paths(&file).is_empty());
}

#[test]
fn wrong_items_and_arguments_are_errors() {
    for (attr, item) in [
        (
            quote!(spec = "../specs/hello_tic.pcidev"),
            quote!(
                fn f() {}
            ),
        ),
        (quote!(spec = "../specs/hello_tic.pcidev"), quote!(struct)),
        (quote!(path = "x"), item()),
        (quote!(), item()),
    ] {
        let out = expand_with_base(attr.clone(), item.clone(), &manifest_dir());
        let text = out.to_string();
        assert!(text.contains("compile_error"), "{attr} / {item}: {text}");
        assert!(text.starts_with(&item.to_string()), "{text}");
    }
}

/// Deterministic mutations of hello_tic (truncations, byte edits, deleted
/// lines, garbage): the expansion never panics and always yields either the
/// model or at least one `compile_error!`.
#[test]
fn never_panics_on_mutated_specs() {
    let text = std::fs::read_to_string(workspace().join("specs/hello_tic.pcidev")).unwrap();
    let bytes = text.as_bytes();
    let mut seed = 0x2545_f491u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as usize
    };
    let junk = b"{}();:@=\"\\#0x_ \n\t\xff device bar register";
    for _ in 0..300 {
        let mut m = bytes.to_vec();
        match next() % 4 {
            0 => m.truncate(next() % m.len()),
            1 => {
                for _ in 0..1 + next() % 4 {
                    let i = next() % m.len();
                    m[i] = junk[next() % junk.len()];
                }
            }
            2 => {
                let a = next() % m.len();
                let b = (a + next() % 200).min(m.len());
                m.drain(a..b);
            }
            _ => {
                let i = next() % m.len();
                let j = next() % junk.len();
                m.splice(i..i, junk[j..].iter().copied());
            }
        }
        let s = String::from_utf8_lossy(&m).into_owned();
        let lit = proc_macro2::Literal::string(&s);
        let out = expand(quote!(inline = #lit), item());
        let file: syn::File = syn::parse2(out).expect("expansion parses");
        assert!(
            file.items.iter().any(|i| matches!(i, syn::Item::Mod(_)))
                || !compile_errors(&file).is_empty(),
            "silent expansion for:\n{s}"
        );
    }
}
