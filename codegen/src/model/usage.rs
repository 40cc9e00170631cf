//! What the device's code uses: hooks, `let`s and `fn`s reached from its
//! expressions and actions (only those get a method: no dead code).

use pcidevc_dsl::ir::{self, Device};

/// Hooks some action, computed read or used `let` calls, in declaration
/// order.
pub(super) fn called_hooks(d: &Device) -> Vec<ir::HookId> {
    let mut used = std::collections::BTreeSet::new();
    let mut in_expr = |e: &ir::Expr| {
        e.walk(&mut |x| {
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
        e.walk(&mut |x| {
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
        e.walk(&mut |x| {
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
