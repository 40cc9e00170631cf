//! Hooks: the behaviour a spec leaves to Rust code, as the interpreter
//! calls it.
//!
//! Generated models call a typed `Hooks` trait; the interpreter calls the
//! object-safe [`Hooks`] here with the arguments already converted to the
//! hook's parameter types (a `bool` parameter gets 0 or 1, a `u8` one the
//! low 8 bits) and converts the answer to the return type the same way, so
//! an implementation that mirrors a generated `Hooks` impl gives the same
//! results. Every call is traced (`TraceEvent::Hook`) exactly as generated
//! code traces it.
//!
//! [`DefaultHooks`] is what `pcidev-host --spec` uses for hooks it has no
//! Rust for: **every hook answers 0 (`false` for a `bool` return) and does
//! nothing else**, and the first call of each hook is reported once on
//! stderr (`hook NAME has no Rust implementation here: answered 0`).

use pcidevc_dsl::ir::Hook;

/// Rust behind a spec's hooks, for the interpreter.
pub trait Hooks: Send + 'static {
    /// Run `hook` (the spec's declaration, index `id` in declaration order)
    /// with `args` converted to its parameter types. The result is
    /// converted to the hook's return type (ignored when it has none).
    fn call(&mut self, id: usize, hook: &Hook, args: &[u64]) -> u64;
}

/// Hooks answered by the documented default: 0, reported once per hook.
#[derive(Debug, Default, Clone)]
pub struct DefaultHooks {
    reported: Vec<usize>,
    quiet: bool,
}

impl DefaultHooks {
    /// Defaults that report each hook's first call on stderr.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defaults that report nothing (tests, benchmarks).
    pub fn quiet() -> Self {
        DefaultHooks {
            reported: Vec::new(),
            quiet: true,
        }
    }
}

impl Hooks for DefaultHooks {
    fn call(&mut self, id: usize, hook: &Hook, _args: &[u64]) -> u64 {
        if !self.reported.contains(&id) {
            self.reported.push(id);
            if !self.quiet {
                eprintln!(
                    "pcidev-interp: hook `{}` has no Rust implementation here: answered 0 \
                     (reported once; see the README's \"Hooks\" for serving real Rust hooks)",
                    hook.name
                );
            }
        }
        0
    }
}

/// Hooks from a closure (`|name, args| -> u64`), e.g. to reuse a generated
/// model's `Hooks` impl with the interpreter.
pub struct FnHooks<F>(pub F);

impl<F> std::fmt::Debug for FnHooks<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnHooks")
    }
}

impl<F: FnMut(&str, &[u64]) -> u64 + Send + 'static> Hooks for FnHooks<F> {
    fn call(&mut self, _id: usize, hook: &Hook, args: &[u64]) -> u64 {
        (self.0)(&hook.name, args)
    }
}
