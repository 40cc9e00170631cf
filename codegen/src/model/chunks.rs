//! The register dispatch (`read_register` / `write_register`) of a BAR with
//! many registers, split into methods of at most [`CHUNK`] arms.
//!
//! rustc's type and borrow checking of one function grow faster than the
//! function: at 10,000 registers the two trait methods, one `match` of
//! 10,000 arms each, took 12.5 s of the model's 32.6 s `cargo check`. So a
//! BAR with more than [`CHUNK`] registers to dispatch gets methods of its
//! own, each a `match reg` over a run of its registers, and the trait
//! method's arm for that run a range pattern calling it. A BAR with fewer
//! keeps one arm per register in the trait method, so specs of usual size
//! read as before.

use super::emit::{Kind, List, Piece};
use super::fast_path::FastPath;
use super::{Model, arrays, lit_dec};
use pcidevc_dsl::ir::{self, RegId};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use std::ops::Range;
use std::rc::Rc;

/// Most arms in one generated dispatch method.
pub(super) const CHUNK: usize = 256;

/// Items `k * CHUNK..` of `len` items cut into runs of [`CHUNK`]: run `k`.
pub(super) fn run_range(k: usize, len: usize) -> Range<usize> {
    k * CHUNK..((k + 1) * CHUNK).min(len)
}

/// Items per run when `n` items are cut into runs of even size, at most
/// [`CHUNK`] each (at least `CHUNK / 2` when `n > CHUNK`, so no run method
/// is a one-arm `match`).
pub(super) fn even_run(n: usize) -> usize {
    n.div_ceil(n.div_ceil(CHUNK).max(1))
}

/// One register the dispatch serves: BAR index, index in the BAR's layout,
/// register.
pub(super) type Entry = (u8, usize, RegId);

/// Which trait method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dir {
    Read,
    Write,
}

/// An arm of the trait method's `match (bar, reg)`: one register, or a run
/// of one BAR's registers (a range of the entries) served by a method.
#[derive(Clone, Debug)]
pub(super) enum Unit {
    One(usize),
    Run(Range<usize>),
}

/// The registers `dir`'s dispatch serves (those whose read or write does
/// anything), in BAR and layout order, and the arms they make.
pub(super) struct Dispatch {
    pub dir: Dir,
    pub entries: Vec<Entry>,
    pub units: Vec<Unit>,
}

impl Dispatch {
    pub fn of(d: &ir::Device, dir: Dir) -> Self {
        let entries: Vec<Entry> = d
            .bars
            .iter()
            .flat_map(|bar| {
                d.layout_registers(bar)
                    .enumerate()
                    .map(move |(i, r)| (bar.index, i, r))
            })
            .filter(|(_, _, r)| {
                let reg = d.register(*r);
                match dir {
                    Dir::Read => Model::read_matters(reg),
                    Dir::Write => Model::write_matters(reg),
                }
            })
            .collect();
        let units = units(&entries);
        Dispatch {
            dir,
            entries,
            units,
        }
    }

    /// The runs served by methods of their own.
    fn runs(&self) -> impl Iterator<Item = &Range<usize>> {
        self.units.iter().filter_map(|u| match u {
            Unit::Run(r) => Some(r),
            Unit::One(_) => None,
        })
    }

    /// The method serving the run starting at entry `first`.
    fn method(&self, first: usize) -> Ident {
        let (bar, index, _) = self.entries[first];
        let what = match self.dir {
            Dir::Read => "read",
            Dir::Write => "write",
        };
        format_ident!("{what}_register_b{bar}_{index}")
    }

    /// The trait method's arms for `units[range]`.
    pub fn arms(&self, d: &ir::Device, range: Range<usize>) -> TokenStream {
        self.units[range]
            .iter()
            .map(|u| match u {
                Unit::One(e) => {
                    let (b, i, r) = self.entries[*e];
                    let (b, i) = (lit_dec(b.into()), lit_dec(i as u64));
                    let call = call(d, self.dir, r);
                    quote!((#b, #i) => #call,)
                }
                Unit::Run(run) => {
                    let (b, lo, _) = self.entries[run.start];
                    let hi = self.entries[run.end - 1].1;
                    let (b, lo, hi) = (lit_dec(b.into()), lit_dec(lo as u64), lit_dec(hi as u64));
                    let m = self.method(run.start);
                    match self.dir {
                        Dir::Read => quote!((#b, #lo..=#hi) => self.#m(ctx, reg),),
                        Dir::Write => quote!((#b, #lo..=#hi) => self.#m(ctx, reg, value, mask),),
                    }
                }
            })
            .collect()
    }

    /// The method serving `run`.
    fn run_method(&self, d: &ir::Device, run: &Range<usize>) -> TokenStream {
        let arms = self.entries[run.clone()].iter().map(|(_, i, r)| {
            let i = lit_dec(*i as u64);
            let call = call(d, self.dir, *r);
            quote!(#i => #call,)
        });
        let (bar, lo, _) = self.entries[run.start];
        let hi = self.entries[run.end - 1].1;
        let m = self.method(run.start);
        match self.dir {
            Dir::Read => {
                let doc = format!(" `read_register` of BAR {bar}'s registers {lo}..={hi}.");
                quote! {
                    #[doc = #doc]
                    fn #m(&mut self, ctx: &mut DeviceCtx, reg: usize) -> u64 {
                        match reg { #(#arms)* _ => 0, }
                    }
                }
            }
            Dir::Write => {
                let doc = format!(" `write_register` of BAR {bar}'s registers {lo}..={hi}.");
                quote! {
                    #[doc = #doc]
                    fn #m(&mut self, ctx: &mut DeviceCtx, reg: usize, value: u64, mask: u64) {
                        match reg { #(#arms)* _ => {} }
                    }
                }
            }
        }
    }
}

/// The call of `r`'s read or write method from the dispatch.
pub(super) fn call(d: &ir::Device, dir: Dir, r: RegId) -> TokenStream {
    let reg = d.register(r);
    match dir {
        Dir::Read => arrays::dispatch_call(reg, &Model::reg_ident(reg, "read"), &[]),
        Dir::Write => arrays::dispatch_call(
            reg,
            &Model::reg_ident(reg, "write"),
            &[quote!(value), quote!(mask)],
        ),
    }
}

/// `entries` (in BAR order) as arms: a BAR with at most [`CHUNK`] entries
/// one arm per entry, a bigger one runs of [`even_run`] size.
fn units(entries: &[Entry]) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let bar = entries[start].0;
        let end = start + entries[start..].iter().take_while(|e| e.0 == bar).count();
        let n = end - start;
        if n <= CHUNK {
            out.extend((start..end).map(Unit::One));
        } else {
            let size = even_run(n);
            let mut s = start;
            while s < end {
                let e = (s + size).min(end);
                out.push(Unit::Run(s..e));
                s = e;
            }
        }
        start = end;
    }
    out
}

impl Model<'_> {
    /// The methods of the runs of a big spec, in an `impl` of their own:
    /// the fast path's, both dispatches' (`both`: reads, writes), the
    /// snapshot's saves and restores ([`super::snapshot::Runs`]), then the
    /// state probes'; none for a spec without a BAR of more than [`CHUNK`]
    /// registers or as many states or stored registers.
    pub(super) fn dispatch_runs<'m>(
        &'m self,
        fast: Rc<FastPath<'m>>,
        both: Rc<[Dispatch; 2]>,
    ) -> Option<Piece<'m>> {
        let d = self.dev;
        let runs: Vec<(usize, Range<usize>)> = both
            .iter()
            .enumerate()
            .flat_map(|(k, x)| x.runs().map(move |r| (k, r.clone())))
            .collect();
        let snapshot = super::snapshot::Runs::of(d);
        let probes = super::dispatch::probe_runs(d).unwrap_or_default();
        let (fast_runs, dispatch_runs) = (fast.runs.len(), runs.len());
        let snapshot_runs = snapshot.len();
        let len = fast_runs + dispatch_runs + snapshot_runs + probes.len();
        if len == 0 {
            return None;
        }
        let methods = List {
            len,
            kind: Kind::ImplItem,
            // A run method holds up to CHUNK arms or statements.
            weight: CHUNK,
            elems: Box::new(move |range| {
                range
                    .map(|i| {
                        if i < fast_runs {
                            Self::run_methods(&fast, i)
                        } else if i < fast_runs + dispatch_runs {
                            let (k, run) = &runs[i - fast_runs];
                            both[*k].run_method(d, run)
                        } else if i < fast_runs + dispatch_runs + snapshot_runs {
                            snapshot.methods(i - fast_runs - dispatch_runs)
                        } else {
                            let k = probes[i - fast_runs - dispatch_runs - snapshot_runs];
                            super::dispatch::probe_run_method(d, k)
                        }
                    })
                    .collect()
            }),
        };
        Some(Piece {
            lists: vec![methods],
            build: Box::new(move |fill| {
                let methods = fill(0);
                let doc = format!(
                    " Methods of at most {CHUNK} registers or states each, which the fast path, the"
                );
                quote! {
                    #[doc = #doc]
                    #[doc = " register dispatch, the snapshot and the state probes of this big spec call"]
                    #[doc = " (one function over every register compiles slowly)."]
                    impl<H: Hooks> Device<H> {
                        #methods
                    }
                }
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(per_bar: &[(u8, usize)]) -> Vec<Entry> {
        per_bar
            .iter()
            .flat_map(|&(b, n)| (0..n).map(move |i| (b, i, RegId(i))))
            .collect()
    }

    #[test]
    fn small_bars_keep_one_arm_per_register() {
        let u = units(&entries(&[(0, 3), (2, CHUNK)]));
        assert_eq!(u.len(), 3 + CHUNK);
        assert!(u.iter().all(|u| matches!(u, Unit::One(_))));
    }

    #[test]
    fn big_bars_split_into_even_runs_covering_every_entry() {
        for n in [CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1, 10_000] {
            let e = entries(&[(0, 2), (4, n)]);
            let u = units(&e);
            let mut next = 0;
            for unit in &u {
                match unit {
                    Unit::One(i) => {
                        assert_eq!(*i, next);
                        assert_eq!(e[*i].0, 0);
                        next += 1;
                    }
                    Unit::Run(r) => {
                        assert_eq!(r.start, next);
                        assert!(r.len() <= CHUNK && r.len() >= CHUNK / 2, "{n}: {r:?}");
                        assert!(e[r.clone()].iter().all(|x| x.0 == 4));
                        next = r.end;
                    }
                }
            }
            assert_eq!(next, e.len());
        }
    }
}
