//! The whole-register fast path: per BAR, `bar0_read` / `bar0_write`
//! decode an access of one whole register with a `match` on the offsets the
//! compiler knows, and `read_whole` / `write_whole` pick the BAR.
//!
//! A BAR with more than [`CHUNK`] registers on the fast path is served in
//! runs: its `bar0_read` matches offset ranges and calls one method per
//! run (`bar0_read_r254`), each a `match` of at most [`CHUNK`] arms, since
//! rustc checks one big function slower than many small ones (the 3,333-arm
//! methods of a 10,000-register model were 0.5 s of borrow checking each).

use super::chunks::CHUNK;
use super::consts::offset_path;
use super::emit::{Fill, Kind, List};
use super::{Model, lit_hex};
use pcidevc_dsl::ir;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// A BAR with registers on the whole-register fast path.
pub(super) struct WholeBar<'d> {
    /// The methods' names: `bar0_read` / `bar0_write`, or for a run of a
    /// big BAR `bar0_read_r254` (its first register).
    read_name: proc_macro2::Ident,
    write_name: proc_macro2::Ident,
    /// What the methods' docs say they serve: `BAR 0`, or `BAR 0 from R254 to R507`.
    subject: String,
    regs: Vec<&'d ir::Register>,
    /// Per register of `regs`: how a read (a write) of it may change the
    /// interrupt level.
    read_changes: Vec<Change>,
    write_changes: Vec<Change>,
    /// The level a write answers unless its arm says otherwise: noted when
    /// some write's is, else may change when some write may change it, else
    /// unchanged (then no arm returns early, and no `return` leaves the
    /// tail unreachable).
    write_default: Change,
    /// The registers' width when they all have the same.
    width: Option<u8>,
    /// With one width: the offsets of the registers a read (a write) does
    /// nothing to, which share one arm.
    zero: Vec<TokenStream>,
    inert: Vec<TokenStream>,
    /// Does a read (a write) call any register's method?
    ctx_used: bool,
    value_used: bool,
}

/// How a guest access of a register may change the interrupt level, and
/// so what its fast-path arm answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// It cannot ([`ir::LevelInputs::changed_by`]): `Level::Unchanged`.
    No,
    /// Only through its statements, which note a change in the device's
    /// `level_dirty` (a tracked level, [`Model::level_tracked`]):
    /// `self.level_moved()`, so an access that changed nothing the level
    /// reads does not recompute it.
    Noted,
    /// It may: `Level::MayChange`.
    May,
}

/// How a read (`write` false) or write of register `id` may change the
/// interrupt level `level` reads, when the level is `tracked` or not.
pub(super) fn change(
    dev: &ir::Device,
    level: &ir::LevelInputs,
    tracked: bool,
    id: ir::RegId,
    write: bool,
) -> Change {
    let r = dev.register(id);
    if !level.changed_by(id, r, write) {
        Change::No
    } else if tracked && !level.stored_by(id, r, write) {
        Change::Noted
    } else {
        Change::May
    }
}

impl WholeBar<'_> {
    /// `if len == W` on an arm when the registers' widths differ.
    fn guard(&self, r: &ir::Register) -> TokenStream {
        match self.width {
            Some(_) => quote!(),
            None => {
                let w = lit_hex(r.width.into());
                quote!(if len == #w)
            }
        }
    }
}

/// How a BAR with registers on the fast path is served.
pub(super) enum Served<'d> {
    /// By one pair of methods.
    Whole(WholeBar<'d>),
    /// By a pair of methods routing offset ranges to its runs
    /// (`FastPath::runs[runs]`).
    Runs {
        index: u8,
        runs: std::ops::Range<usize>,
    },
}

/// The fast path of every BAR, in BAR order; the runs of big BARs apart
/// (their methods are printed with the register dispatch's runs).
pub(super) struct FastPath<'d> {
    pub bars: Vec<Served<'d>>,
    pub runs: Vec<WholeBar<'d>>,
}

impl<'d> FastPath<'d> {
    /// The BARs served whole, in order: list slots `2k` (reads) and
    /// `2k + 1` (writes) of [`Model::whole_lists`] are the `k`th's.
    fn whole(&self) -> impl Iterator<Item = &WholeBar<'d>> {
        self.bars.iter().filter_map(|b| match b {
            Served::Whole(w) => Some(w),
            Served::Runs { .. } => None,
        })
    }
}

impl Model<'_> {
    /// The fast path of every BAR with registers on it: a BAR of at most
    /// [`CHUNK`] such registers whole, a bigger one in runs of even size.
    pub(super) fn fast_path(&self) -> FastPath<'_> {
        let d = self.dev;
        let mut out = FastPath {
            bars: Vec::new(),
            runs: Vec::new(),
        };
        for bar in &d.bars {
            let ids: Vec<ir::RegId> = d.fast_path_registers(bar).collect();
            if ids.len() <= CHUNK {
                out.bars
                    .extend(self.whole_bar(bar.index, &ids, false).map(Served::Whole));
                continue;
            }
            let size = super::chunks::even_run(ids.len());
            let first = out.runs.len();
            out.runs.extend(
                ids.chunks(size)
                    .filter_map(|run| self.whole_bar(bar.index, run, true)),
            );
            out.bars.push(Served::Runs {
                index: bar.index,
                runs: first..out.runs.len(),
            });
        }
        out
    }

    /// The fast path of registers `ids` of BAR `index` (all of them, or a
    /// run when `run`); `None` without registers.
    fn whole_bar(&self, index: u8, ids: &[ir::RegId], run: bool) -> Option<WholeBar<'_>> {
        let d = self.dev;
        let regs: Vec<&ir::Register> = ids.iter().map(|r| d.register(*r)).collect();
        let changes = |write| -> Vec<Change> {
            ids.iter()
                .map(|id| change(d, &self.level, self.level_tracked, *id, write))
                .collect()
        };
        let first = regs.first()?.width;
        // One width for all: test `len` once, as a hand-written model
        // whose registers are all bytes would.
        let width = regs.iter().all(|r| r.width == first).then_some(first);
        let offsets = |keep: fn(&ir::Register) -> bool| -> Vec<TokenStream> {
            match width {
                Some(_) => regs
                    .iter()
                    .filter(|r| keep(r))
                    .map(|r| offset_path(r))
                    .collect(),
                None => Vec::new(),
            }
        };
        let zero = offsets(|r| !Self::read_matters(r));
        let inert = offsets(|r| !Self::write_matters(r));
        let write_changes = changes(true);
        let some_write = |want: Change| {
            regs.iter()
                .zip(&write_changes)
                .any(|(r, c)| *c == want && Self::write_matters(r))
        };
        let write_default = if some_write(Change::Noted) {
            Change::Noted
        } else if some_write(Change::May) {
            Change::May
        } else {
            Change::No
        };
        let (read_name, write_name, subject) = if run {
            let (a, b) = (regs.first()?, regs.last()?);
            let stem = a.item_name().to_ascii_lowercase();
            (
                format_ident!("bar{index}_read_{stem}"),
                format_ident!("bar{index}_write_{stem}"),
                format!(
                    "BAR {index} from `{}` to `{}`",
                    a.item_name(),
                    b.item_name()
                ),
            )
        } else {
            (
                format_ident!("bar{index}_read"),
                format_ident!("bar{index}_write"),
                format!("BAR {index}"),
            )
        };
        Some(WholeBar {
            read_name,
            write_name,
            subject,
            read_changes: changes(false),
            write_changes,
            write_default,
            ctx_used: regs.iter().any(|r| Self::read_matters(r)),
            value_used: regs.iter().any(|r| Self::write_matters(r)),
            regs,
            width,
            zero,
            inert,
        })
    }

    /// The arms of each BAR served whole, as lists: two per BAR (reads,
    /// writes), in [`FastPath::whole`]'s order.
    pub(super) fn whole_lists<'s>(fast: &std::rc::Rc<FastPath<'s>>) -> Vec<List<'s>> {
        let both: [fn(&WholeBar<'s>, std::ops::Range<usize>) -> TokenStream; 2] =
            [WholeBar::read_arms, WholeBar::write_arms];
        let mut lists = Vec::new();
        for (k, wb) in fast.whole().enumerate() {
            for arms in both {
                let f = fast.clone();
                lists.push(List {
                    len: wb.regs.len(),
                    kind: Kind::Arm,
                    weight: 1,
                    elems: Box::new(move |range| {
                        f.whole()
                            .nth(k)
                            .map_or_else(TokenStream::new, |wb| arms(wb, range))
                    }),
                });
            }
        }
        lists
    }

    /// `bar0_read` / `bar0_write` per BAR: a whole-register access decoded
    /// by a `match` on the register offsets (`bar0::CTRL => ...`), or for a
    /// BAR served in runs on offset ranges calling the runs' methods;
    /// `None` for any other access, which the runtime splits over
    /// `read_register` / `write_register`. The arms of BARs served whole
    /// are [`Self::whole_lists`]' slots, filled by `fill`.
    pub(super) fn whole_methods(fast: &FastPath, fill: Fill) -> TokenStream {
        let mut out = TokenStream::new();
        let mut k = 0;
        for served in &fast.bars {
            match served {
                Served::Whole(wb) => {
                    out.extend(whole_pair(wb, fill(2 * k), fill(2 * k + 1), true));
                    k += 1;
                }
                Served::Runs { index, runs } => {
                    out.extend(router_pair(*index, &fast.runs[runs.clone()]));
                }
            }
        }
        out
    }

    /// The methods of run `i` of a big BAR.
    pub(super) fn run_methods(fast: &FastPath, i: usize) -> TokenStream {
        let wb = &fast.runs[i];
        let all = 0..wb.regs.len();
        whole_pair(wb, wb.read_arms(all.clone()), wb.write_arms(all), false)
    }

    /// `read_whole` / `write_whole`: the BAR's `bar0_read` / `bar0_write`.
    pub(super) fn whole_trait_methods(&self) -> TokenStream {
        let d = self.dev;
        let bars: Vec<u8> = d
            .bars
            .iter()
            .filter(|b| d.fast_path_registers(b).next().is_some())
            .map(|b| b.index)
            .collect();
        if bars.is_empty() {
            return quote!();
        }
        let reads = bars.iter().map(|b| {
            let m = format_ident!("bar{}_read", b);
            let b = lit_hex((*b).into());
            quote!(#b => self.#m(ctx, offset, len),)
        });
        let writes = bars.iter().map(|b| {
            let m = format_ident!("bar{}_write", b);
            let b = lit_hex((*b).into());
            quote!(#b => self.#m(ctx, offset, len, value),)
        });
        // Inlined into the runtime's fast path (`Model::bar_read`): a
        // small match whose call would cost as much as its work.
        quote! {
            #[inline]
            fn read_whole(&mut self, ctx: &mut DeviceCtx, bar: u8, offset: u64, len: usize) -> Option<(u64, Level)> {
                match bar {
                    #(#reads)*
                    _ => None,
                }
            }

            #[inline]
            fn write_whole(&mut self, ctx: &mut DeviceCtx, bar: u8, offset: u64, len: usize, value: u64) -> Option<Level> {
                match bar {
                    #(#writes)*
                    _ => None,
                }
            }
        }
    }
}

/// `Level::MayChange` or `Level::Unchanged`: may the access change the
/// interrupt level?
fn level_path(change: Change) -> TokenStream {
    match change {
        Change::No => quote!(Level::Unchanged),
        Change::Noted => quote!(self.level_moved()),
        Change::May => quote!(Level::MayChange),
    }
}

impl WholeBar<'_> {
    /// The read `match`'s arms of registers `range`.
    fn read_arms(&self, range: std::ops::Range<usize>) -> TokenStream {
        self.regs[range.clone()]
            .iter()
            .zip(&self.read_changes[range])
            .map(|(r, changes)| {
                let o = offset_path(r);
                let g = self.guard(r);
                let level = level_path(*changes);
                if Model::read_matters(r) {
                    let m = Model::reg_ident(r, "read");
                    quote!(#o #g => (self.#m(ctx), #level),)
                } else if self.width.is_some() {
                    quote!()
                } else {
                    quote!(#o #g => (0, #level),)
                }
            })
            .collect()
    }

    /// The write `match`'s arms of registers `range`.
    fn write_arms(&self, range: std::ops::Range<usize>) -> TokenStream {
        self.regs[range.clone()]
            .iter()
            .zip(&self.write_changes[range])
            .map(|(r, changes)| {
                let o = offset_path(r);
                let g = self.guard(r);
                if Model::write_matters(r) {
                    let m = Model::reg_ident(r, "write");
                    let mask = if r.width >= 8 {
                        quote!(u64::MAX)
                    } else {
                        lit_hex(ir::low_mask(r.bits()))
                    };
                    let write = quote!(self.#m(ctx, value, #mask));
                    // Writes of the default level fall through
                    // to the common tail.
                    if *changes == self.write_default {
                        quote!(#o #g => #write,)
                    } else {
                        let level = level_path(*changes);
                        quote!(#o #g => {
                            #write;
                            return Some(#level);
                        })
                    }
                } else if self.width.is_some() {
                    quote!()
                } else if self.write_default != Change::No {
                    quote!(#o #g => return Some(Level::Unchanged),)
                } else {
                    quote!(#o #g => {})
                }
            })
            .collect()
    }
}

/// The read and write methods of `wb` with their arms (`#[inline]` for a
/// BAR served whole: the runtime's fast path calls it).
fn whole_pair(
    wb: &WholeBar,
    arms: TokenStream,
    write_arms: TokenStream,
    inline: bool,
) -> TokenStream {
    let mut out = TokenStream::new();
    let inline = inline.then(|| quote!(#[inline]));
    let width = wb.width;
    let len_check = |fail: TokenStream| match width {
        Some(w) => {
            let w = lit_hex(w.into());
            quote!(if len != #w { return #fail; })
        }
        None => quote!(),
    };
    let (read_name, write_name) = (&wb.read_name, &wb.write_name);
    // Reads: a register whose read returns 0 and does nothing has
    // no method; such registers share one arm.
    let zero = &wb.zero;
    let zero = (!zero.is_empty()).then(|| quote!(#(#zero)|* => (0, Level::Unchanged),));
    let ctx_used = wb.ctx_used;
    let ctx = if ctx_used { quote!(ctx) } else { quote!(_ctx) };
    let check = len_check(quote!(None));
    let read_doc = format!(
        " A guest read of one whole register of {}: `len` bytes at `offset`.",
        wb.subject
    );
    out.extend(quote! {
                #[doc = #read_doc]
                #[doc = " `None` for any other access (the runtime splits it over the registers)."]
                #[doc = " With the value: whether the read may change the interrupt level."]
                #inline
                fn #read_name(&mut self, #ctx: &mut DeviceCtx, offset: u64, len: usize) -> Option<(u64, Level)> {
                    #check
                    let read = match offset {
                        #arms
                        #zero
                        _ => return None,
                    };
                    Some(read)
                }
            });
    // Writes: registers a write does nothing to share one arm.
    let inert = &wb.inert;
    let value_used = wb.value_used;
    let no_arms = width.is_some() && !value_used;
    let write_doc = format!(
        " A guest write of one whole register of {}: `value` is the `len` bytes at",
        wb.subject
    );
    let check = len_check(quote!(None));
    let body = if no_arms {
        // Writes do nothing to any of them.
        match width {
            Some(_) => {
                quote!(#check matches!(offset, #(#inert)|*).then_some(Level::Unchanged))
            }
            None => quote!(None),
        }
    } else {
        let arms = write_arms;
        let inert = (!inert.is_empty()).then(|| {
            if wb.write_default != Change::No {
                quote!(#(#inert)|* => return Some(Level::Unchanged),)
            } else {
                quote!(#(#inert)|* => {})
            }
        });
        let tail = level_path(wb.write_default);
        quote! {
            #check
            match offset {
                #arms
                #inert
                _ => return None,
            }
            Some(#tail)
        }
    };
    let (ctx, value) = if value_used {
        (quote!(ctx), quote!(value))
    } else {
        (quote!(_ctx), quote!(_value))
    };
    out.extend(quote! {
                #[doc = #write_doc]
                #[doc = " `offset`. `None` for any other access (the runtime splits it over the registers);"]
                #[doc = " else whether the write may change the interrupt level."]
                #inline
                fn #write_name(&mut self, #ctx: &mut DeviceCtx, offset: u64, len: usize, #value: u64) -> Option<Level> {
                    #body
                }
            });
    out
}

/// `bar0_read` / `bar0_write` of a BAR served in `runs`: a `match` on each
/// run's offsets calling its methods.
fn router_pair(index: u8, runs: &[WholeBar]) -> TokenStream {
    let arms = |write: bool| {
        runs.iter().map(move |wb| {
            let (lo, hi) = match (wb.regs.first(), wb.regs.last()) {
                (Some(a), Some(b)) => (offset_path(a), offset_path(b)),
                _ => return quote!(),
            };
            if write {
                let m = &wb.write_name;
                quote!(#lo..=#hi => self.#m(ctx, offset, len, value),)
            } else {
                let m = &wb.read_name;
                quote!(#lo..=#hi => self.#m(ctx, offset, len),)
            }
        })
    };
    let (reads, writes) = (arms(false), arms(true));
    let read_name = format_ident!("bar{index}_read");
    let write_name = format_ident!("bar{index}_write");
    let read_doc = format!(
        " A guest read of one whole register of BAR {index}: `len` bytes at `offset`, served by"
    );
    let write_doc = format!(
        " A guest write of one whole register of BAR {index}: `value` is the `len` bytes at"
    );
    quote! {
        #[doc = #read_doc]
        #[doc = " the method of the run of registers holding `offset` (`None` elsewhere)."]
        #[inline]
        fn #read_name(&mut self, ctx: &mut DeviceCtx, offset: u64, len: usize) -> Option<(u64, Level)> {
            match offset {
                #(#reads)*
                _ => None,
            }
        }

        #[doc = #write_doc]
        #[doc = " `offset`, served by the method of the run of registers holding it (`None` elsewhere)."]
        #[inline]
        fn #write_name(&mut self, ctx: &mut DeviceCtx, offset: u64, len: usize, value: u64) -> Option<Level> {
            match offset {
                #(#writes)*
                _ => None,
            }
        }
    }
}
