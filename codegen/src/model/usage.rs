//! What the device's code uses: hooks, `let`s and `fn`s reached from its
//! expressions and actions (only those get a method: no dead code).

use pcidevc_dsl::ir::{self, Device};

/// Hooks some action, computed read or used `let` calls, in declaration
/// order.
pub(super) fn called_hooks(d: &Device) -> Vec<ir::HookId> {
    let mut used = std::collections::BTreeSet::new();
    let mut in_expr = |e: &ir::Expr| {
        e.walk_live(&mut |x| {
            if let ir::Expr::Call(h, _) = x {
                used.insert(*h);
            }
        })
    };
    for e in root_exprs(d) {
        in_expr(e);
    }
    for l in used_lets(d) {
        in_expr(&d.let_(l).value);
    }
    for block in d.action_blocks() {
        ir::Stmt::walk_all(block, &mut |s| {
            if let ir::Stmt::Call { hook, .. } = s {
                used.insert(*hook);
            }
        });
    }
    used.into_iter().collect()
}

/// Every expression of the device outside `let`/`fn` bodies (reads,
/// actions, `ready`s, the interrupt level).
pub(super) fn root_exprs(d: &Device) -> Vec<&ir::Expr> {
    let mut out: Vec<&ir::Expr> = Vec::new();
    for r in &d.registers {
        out.extend(r.read.iter());
    }
    for s in &d.streams {
        out.extend(s.ready.iter());
    }
    out.extend(d.interrupt.level.iter());
    fn walk<'a>(stmts: &'a [ir::Stmt], out: &mut Vec<&'a ir::Expr>) {
        for s in stmts {
            out.extend(stmt_exprs(s));
            if let ir::Stmt::If {
                then, otherwise, ..
            } = s
            {
                walk(then, out);
                walk(otherwise, out);
            }
        }
    }
    for block in d.action_blocks() {
        walk(block, &mut out);
    }
    out
}

/// The expressions directly in one statement (not in nested statements).
pub(super) fn stmt_exprs(s: &ir::Stmt) -> Vec<&ir::Expr> {
    match s {
        ir::Stmt::If { cond, .. } => vec![cond],
        ir::Stmt::Msi(e) | ir::Stmt::FifoPush(_, e) | ir::Stmt::Send(_, e) => vec![e],
        ir::Stmt::TimerStart { duration, .. } => vec![duration],
        ir::Stmt::Assign { place, value, .. } => {
            let mut v = vec![value];
            if let ir::Place::BufferByte(_, i) = place {
                v.push(i);
            }
            v
        }
        ir::Stmt::Call { args, .. } => args.iter().collect(),
        ir::Stmt::DmaWrite {
            addr, len, source, ..
        } => {
            let mut v = vec![addr, len];
            match source {
                ir::Source::Random(e) | ir::Source::Pattern(e) | ir::Source::Word(e) => v.push(e),
                ir::Source::Buffer { offset, .. } => v.push(offset),
            }
            v
        }
        ir::Stmt::DmaRead {
            addr, len, into, ..
        } => {
            let mut v = vec![addr, len];
            if let ir::DmaDest::Buffer { offset, .. } = into {
                v.push(offset);
            }
            v
        }
        ir::Stmt::Irq(_)
        | ir::Stmt::TimerStop(_)
        | ir::Stmt::FifoPop(_)
        | ir::Stmt::FifoClear(_)
        | ir::Stmt::Vmm(_) => vec![],
    }
}

/// `let`s some expression uses (directly or through other lets), in
/// declaration order: only those get a method (no dead code).
pub(super) fn used_lets(d: &Device) -> Vec<ir::LetId> {
    let mut used = std::collections::BTreeSet::new();
    let mut todo: Vec<ir::LetId> = Vec::new();
    let note = |e: &ir::Expr, todo: &mut Vec<ir::LetId>| {
        e.walk_live(&mut |x| {
            if let ir::Expr::Let(l) = x {
                todo.push(*l);
            }
        })
    };
    for e in root_exprs(d) {
        note(e, &mut todo);
    }
    while let Some(l) = todo.pop() {
        if used.insert(l) {
            note(&d.let_(l).value, &mut todo);
        }
    }
    used.into_iter().collect()
}

/// `fn`s some expression (or a used `let`, or a used `fn`) calls.
pub(super) fn used_fns(d: &Device) -> Vec<ir::FnId> {
    let mut used = std::collections::BTreeSet::new();
    let mut todo: Vec<ir::FnId> = Vec::new();
    let note = |e: &ir::Expr, todo: &mut Vec<ir::FnId>| {
        e.walk_live(&mut |x| {
            if let ir::Expr::Fn(f, _) = x {
                todo.push(*f);
            }
        })
    };
    for e in root_exprs(d) {
        note(e, &mut todo);
    }
    for l in used_lets(d) {
        note(&d.let_(l).value, &mut todo);
    }
    while let Some(f) = todo.pop() {
        if used.insert(f) {
            note(&d.function(f).body, &mut todo);
        }
    }
    used.into_iter().collect()
}

/// Does any expression read the guest access under way (`access.size`,
/// `access.mask`), or may Rust code (a hook) ask for it? When not, the
/// generated `Registers` impl says `ACCESS_CONTEXT = false` and the
/// runtime's fast path skips setting it.
pub(super) fn uses_access_context(d: &Device) -> bool {
    let mut uses = !d.hooks.is_empty();
    let mut check = |e: &ir::Expr| {
        e.walk(&mut |x| {
            if matches!(x, ir::Expr::AccessSize | ir::Expr::AccessMask) {
                uses = true;
            }
        })
    };
    for e in root_exprs(d) {
        check(e);
    }
    for l in &d.lets {
        check(&l.value);
    }
    for f in &d.fns {
        check(&f.body);
    }
    uses
}

/// What an expression may read and an action may change: the resources
/// a `let` depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Res {
    State(usize),
    Register(usize),
    Timer(usize),
    Stream(usize),
}

/// The resources `e` reads, through the `let`s and `fn`s it uses; `None`
/// when it calls a hook (which may read anything, and may have effects).
fn reads(d: &Device, e: &ir::Expr) -> Option<std::collections::BTreeSet<Res>> {
    let mut out = std::collections::BTreeSet::new();
    let mut seen_lets = std::collections::BTreeSet::new();
    let mut seen_fns = std::collections::BTreeSet::new();
    let mut todo = vec![e];
    let mut hook = false;
    while let Some(e) = todo.pop() {
        e.walk(&mut |x| match x {
            ir::Expr::State(s)
            | ir::Expr::BufferByte(s, _)
            | ir::Expr::FifoLen(s)
            | ir::Expr::FifoFront(s)
            | ir::Expr::FifoFull(s)
            | ir::Expr::FifoEmpty(s) => {
                out.insert(Res::State(s.0));
            }
            ir::Expr::Register(r) | ir::Expr::Field(r, _) => {
                out.insert(Res::Register(r.0));
            }
            ir::Expr::TimerRunning(t) | ir::Expr::TimerRemaining(t) => {
                out.insert(Res::Timer(t.0));
            }
            ir::Expr::StreamSpace(s) => {
                out.insert(Res::Stream(s.0));
            }
            ir::Expr::Call(..) => hook = true,
            ir::Expr::Let(l) if seen_lets.insert(*l) => todo.push(&d.let_(*l).value),
            ir::Expr::Fn(f, _) if seen_fns.insert(*f) => todo.push(&d.function(*f).body),
            _ => {}
        });
    }
    (!hook).then_some(out)
}

/// The resources one statement (not its nested statements) changes;
/// `None` when it may change anything (hooks, DMA).
fn writes(s: &ir::Stmt) -> Option<Vec<Res>> {
    let place = |p: &ir::Place| match p {
        ir::Place::State(s) | ir::Place::BufferByte(s, _) => Res::State(s.0),
        ir::Place::Register(r) | ir::Place::Field(r, _) => Res::Register(r.0),
    };
    Some(match s {
        ir::Stmt::Assign { place: p, .. } => vec![place(p)],
        ir::Stmt::FifoPush(s, _) | ir::Stmt::FifoPop(s) | ir::Stmt::FifoClear(s) => {
            vec![Res::State(s.0)]
        }
        ir::Stmt::TimerStart { timer, .. } | ir::Stmt::TimerStop(timer) => {
            vec![Res::Timer(timer.0)]
        }
        ir::Stmt::Send(s, _) => vec![Res::Stream(s.0)],
        ir::Stmt::If { .. } | ir::Stmt::Irq(_) | ir::Stmt::Msi(_) | ir::Stmt::Vmm(_) => vec![],
        ir::Stmt::Call { .. } | ir::Stmt::DmaWrite { .. } | ir::Stmt::DmaRead { .. } => {
            return None;
        }
    })
}

/// The `let`s a read of `r` may compute once, at its start, and reuse:
/// used at least twice by its value and `on read` block, free of hooks,
/// and read only where nothing it depends on can have changed yet (the
/// value is computed first; then each use in the block comes before,
/// on every path, any action that changes what the `let` reads). The
/// value is the same at every use, so computing it once changes nothing
/// but the work (a `let` is total and has no effects).
pub(super) fn read_once_lets(d: &Device, r: &ir::Register) -> Vec<ir::LetId> {
    let mut count = std::collections::BTreeMap::<ir::LetId, usize>::new();
    let mut tally = |e: &ir::Expr| {
        e.walk_live(&mut |x| {
            if let ir::Expr::Let(l) = x {
                *count.entry(*l).or_default() += 1;
            }
        })
    };
    tally_all(r, &mut tally);
    // Read-to-clear fields change the register's own storage between the
    // value and the block: a `let` reading any register is then stale.
    let clears = r.fields.iter().any(|f| f.access == ir::AccessKind::Rclr);
    count
        .into_iter()
        .filter(|&(_, n)| n >= 2)
        .map(|(l, _)| l)
        .filter(|&l| {
            let Some(deps) = reads(d, &ir::Expr::Let(l)) else {
                return false;
            };
            let dirty = clears && deps.iter().any(|x| matches!(x, Res::Register(_)));
            let mut clean = true;
            stale_after(&r.on_read, l, &deps, dirty, &mut clean);
            clean
        })
        .collect()
}

/// Every expression of `r`'s value and `on read` block, to `f`.
fn tally_all(r: &ir::Register, f: &mut dyn FnMut(&ir::Expr)) {
    if let Some(e) = &r.read {
        f(e);
    }
    ir::Stmt::walk_all(&r.on_read, &mut |s| {
        for e in s.exprs() {
            f(e);
        }
    });
}

/// Run through `stmts` in order from a state where `let` `l`'s value is
/// stale (`dirty`) or not; clear `clean` if `l` is read while stale.
/// Returns whether it may be stale after them.
fn stale_after(
    stmts: &[ir::Stmt],
    l: ir::LetId,
    deps: &std::collections::BTreeSet<Res>,
    mut dirty: bool,
    clean: &mut bool,
) -> bool {
    for s in stmts {
        if dirty {
            for e in s.exprs() {
                e.walk(&mut |x| {
                    if matches!(x, ir::Expr::Let(y) if *y == l) {
                        *clean = false;
                    }
                });
            }
        }
        dirty = match s {
            ir::Stmt::If {
                then, otherwise, ..
            } => {
                let a = stale_after(then, l, deps, dirty, clean);
                let b = stale_after(otherwise, l, deps, dirty, clean);
                a || b
            }
            _ => dirty || writes(s).is_none_or(|w| w.iter().any(|x| deps.contains(x))),
        };
    }
    dirty
}
