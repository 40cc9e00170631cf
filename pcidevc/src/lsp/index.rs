//! What each name in a spec refers to: every declaration and every use,
//! built from the recovered syntax tree (so it works while the spec has
//! errors), for go to definition, hover and completion.
//!
//! Resolution follows the checker's rules (`dsl/src/check/names.rs`):
//! registers, states, hooks, timers, streams, `let`s, `fn`s and scenarios
//! share one device-wide namespace (the first declaration wins); fields
//! belong to their register (`REG.field`); a `fn`'s parameters shadow
//! device names in its body; `NAME_3` names element 3 of `register
//! NAME[N]`.

use pcidevc_dsl::ast::*;
use pcidevc_dsl::source::{FileId, Span};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    Device,
    Register,
    Field,
    Variant,
    State,
    Hook,
    Param,
    Timer,
    Stream,
    Let,
    Fn,
    Scenario,
}

impl DefKind {
    pub fn describe(self) -> &'static str {
        match self {
            DefKind::Device => "device",
            DefKind::Register => "register",
            DefKind::Field => "field",
            DefKind::Variant => "enum variant",
            DefKind::State => "state",
            DefKind::Hook => "hook",
            DefKind::Param => "parameter",
            DefKind::Timer => "timer",
            DefKind::Stream => "stream",
            DefKind::Let => "let",
            DefKind::Fn => "fn",
            DefKind::Scenario => "scenario",
        }
    }
}

/// Where a register lives.
#[derive(Debug, Clone)]
pub enum RegHome {
    Bar { index: u64, kind: BarKindAst },
    Config,
    Capability { offset: u64 },
}

/// The syntax a declaration came from, for hover.
#[derive(Debug, Clone)]
pub enum Node {
    None,
    Register(Box<RegisterAst>, RegHome),
    Field(Box<FieldAst>),
    State(Box<StateAst>),
    Hook(Box<HookAst>),
    Fn(Box<FnAst>),
    Param(ScalarType),
    Variant(u64),
}

#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub kind: DefKind,
    /// The name where it is declared.
    pub span: Span,
    /// The whole declaration.
    pub item: Span,
    /// The register of a field, the field of a variant, the fn or hook of a
    /// parameter.
    pub parent: Option<usize>,
    pub node: Node,
}

#[derive(Debug, Default)]
pub struct Index {
    pub defs: Vec<Def>,
    /// Uses of names, with what each refers to.
    refs: Vec<(Span, usize)>,
    /// The device-wide namespace.
    globals: HashMap<String, usize>,
    /// Register arrays: name and element count.
    arrays: HashMap<String, (u64, usize)>,
    /// Items that contain others (devices, BARs, registers, blocks), for
    /// finding the context of a position: kind and span.
    pub scopes: Vec<(Scope, Span)>,
}

/// Kinds of enclosing syntax, for completion's keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Device,
    Interrupt,
    Bar,
    Config,
    Register,
    /// A `fn` (its parameters are in scope).
    Fn(usize),
    /// Action blocks: timers, streams (also `let`s: expressions).
    Actions,
    Scenario,
}

impl Index {
    pub fn build(spec: &SpecAst) -> Index {
        let mut ix = Index::default();
        for d in &spec.devices {
            ix.declare(d);
        }
        for d in &spec.devices {
            ix.resolve_device(d);
        }
        ix
    }

    /// The declaration a name refers to, or is: at byte `offset` of `file`
    /// (a cursor just after a name counts as on it).
    /// Returns the name's span and the declaration.
    pub fn at(&self, file: FileId, offset: usize) -> Option<(Span, usize)> {
        let hit = |s: &Span| s.file == file && s.start <= offset && offset <= s.end;
        self.refs.iter().find(|(s, _)| hit(s)).copied().or_else(|| {
            let d = self.defs.iter().position(|d| hit(&d.span))?;
            Some((self.defs[d].span, d))
        })
    }

    /// A device-wide name (with `NAME_i` for array elements).
    pub fn global(&self, name: &str) -> Option<usize> {
        if let Some(d) = self.globals.get(name) {
            return Some(*d);
        }
        let (base, i) = name.rsplit_once('_')?;
        let i: u64 = i.parse().ok()?;
        let (count, d) = self.arrays.get(base)?;
        (i < *count).then_some(*d)
    }

    /// The device-wide names, in declaration order.
    pub fn globals(&self) -> impl Iterator<Item = &Def> {
        let mut ids: Vec<usize> = self.globals.values().copied().collect();
        ids.sort_unstable();
        ids.into_iter().map(|i| &self.defs[i])
    }

    pub fn children(&self, parent: usize) -> impl Iterator<Item = &Def> {
        self.defs.iter().filter(move |d| d.parent == Some(parent))
    }

    fn child(&self, parent: usize, name: &str) -> Option<usize> {
        self.defs
            .iter()
            .position(|d| d.parent == Some(parent) && d.name == name)
    }

    fn def(
        &mut self,
        id: &Ident,
        kind: DefKind,
        item: Span,
        parent: Option<usize>,
        node: Node,
    ) -> usize {
        self.defs.push(Def {
            name: id.name.clone(),
            kind,
            span: id.span,
            item,
            parent,
            node,
        });
        self.defs.len() - 1
    }

    fn global_def(&mut self, id: &Ident, kind: DefKind, item: Span, node: Node) -> usize {
        let d = self.def(id, kind, item, None, node);
        self.globals.entry(id.name.clone()).or_insert(d);
        d
    }

    // ------------------------------------------------------------ declarations

    fn declare(&mut self, d: &DeviceAst) {
        self.def(&d.name, DefKind::Device, d.span, None, Node::None);
        self.scopes.push((Scope::Device, d.span));
        for item in &d.items {
            match item {
                DeviceItem::State(s) => {
                    self.global_def(
                        &s.name,
                        DefKind::State,
                        s.span,
                        Node::State(Box::new(s.clone())),
                    );
                }
                DeviceItem::Hook(h) => {
                    let id = self.global_def(
                        &h.name,
                        DefKind::Hook,
                        h.span,
                        Node::Hook(Box::new(h.clone())),
                    );
                    for (p, ty) in &h.params {
                        self.def(p, DefKind::Param, p.span, Some(id), Node::Param(*ty));
                    }
                }
                DeviceItem::Bar(b) => {
                    self.scopes.push((Scope::Bar, b.span));
                    let home = RegHome::Bar {
                        index: b.index.value,
                        kind: b.kind,
                    };
                    for r in &b.registers {
                        self.declare_register(r, &home);
                    }
                }
                DeviceItem::Config(c) => {
                    self.scopes.push((Scope::Config, c.span));
                    for r in &c.registers {
                        self.declare_register(r, &RegHome::Config);
                    }
                    for cap in &c.capabilities {
                        let home = RegHome::Capability {
                            offset: cap.offset.value,
                        };
                        for r in &cap.registers {
                            self.declare_register(r, &home);
                        }
                    }
                }
                DeviceItem::Timer(t) => {
                    self.global_def(&t.name, DefKind::Timer, t.span, Node::None);
                    self.scopes.push((Scope::Actions, t.span));
                }
                DeviceItem::Stream(s) => {
                    self.global_def(&s.name, DefKind::Stream, s.span, Node::None);
                    self.scopes.push((Scope::Actions, s.span));
                }
                DeviceItem::Let(l) => {
                    self.global_def(&l.name, DefKind::Let, l.span, Node::None);
                    self.scopes.push((Scope::Actions, l.span));
                }
                DeviceItem::Fn(f) => {
                    let id = self.global_def(
                        &f.name,
                        DefKind::Fn,
                        f.span,
                        Node::Fn(Box::new(f.clone())),
                    );
                    for (p, ty) in &f.params {
                        self.def(p, DefKind::Param, p.span, Some(id), Node::Param(*ty));
                    }
                    self.scopes.push((Scope::Fn(id), f.span));
                }
                DeviceItem::Scenario(s) => {
                    self.global_def(&s.name, DefKind::Scenario, s.span, Node::None);
                    self.scopes.push((Scope::Scenario, s.span));
                }
                DeviceItem::Interrupt(i) => self.scopes.push((Scope::Interrupt, i.span)),
                DeviceItem::Description(_)
                | DeviceItem::Id { .. }
                | DeviceItem::Revision(_)
                | DeviceItem::Class { .. }
                | DeviceItem::Subsystem { .. }
                | DeviceItem::DmaBuffer(_) => {}
            }
        }
    }

    fn declare_register(&mut self, r: &RegisterAst, home: &RegHome) {
        let id = self.global_def(
            &r.name,
            DefKind::Register,
            r.span,
            Node::Register(Box::new(r.clone()), home.clone()),
        );
        if let Some(n) = r.count {
            self.arrays
                .entry(r.name.name.clone())
                .or_insert((n.value, id));
        }
        self.scopes.push((Scope::Register, r.span));
        for f in &r.fields {
            let fid = self.def(
                &f.name,
                DefKind::Field,
                f.span,
                Some(id),
                Node::Field(Box::new(f.clone())),
            );
            for (v, n) in &f.variants {
                self.def(
                    v,
                    DefKind::Variant,
                    v.span.to(n.span),
                    Some(fid),
                    Node::Variant(n.value),
                );
            }
        }
    }

    // ------------------------------------------------------------ uses

    fn resolve_device(&mut self, d: &DeviceAst) {
        for item in &d.items {
            match item {
                DeviceItem::Bar(b) => {
                    for w in &b.windows {
                        self.use_global(&w.state);
                    }
                    for r in &b.registers {
                        self.resolve_register(r);
                    }
                }
                DeviceItem::Config(c) => {
                    let caps = c.capabilities.iter().flat_map(|c| &c.registers);
                    for r in c.registers.iter().chain(caps) {
                        self.resolve_register(r);
                    }
                }
                DeviceItem::Interrupt(i) => {
                    for (item, _) in &i.items {
                        match item {
                            InterruptItem::Level(e) | InterruptItem::Mine(e) => self.expr(e, None),
                            InterruptItem::Status(r) => {
                                self.use_global(r);
                            }
                            InterruptItem::Ack {
                                register,
                                value,
                                when,
                            } => {
                                self.use_global(register);
                                self.expr(value, None);
                                if let Some(w) = when {
                                    self.expr(w, None);
                                }
                            }
                            InterruptItem::Pin(_)
                            | InterruptItem::Msi(_)
                            | InterruptItem::Msix { .. } => {}
                        }
                    }
                }
                DeviceItem::Timer(t) => self.stmts(&t.on_fire, None),
                DeviceItem::Stream(s) => {
                    for (e, _) in &s.ready {
                        self.expr(e, None);
                    }
                    for (b, _) in &s.on_input {
                        self.stmts(b, None);
                    }
                }
                DeviceItem::Let(l) => self.expr(&l.value, None),
                DeviceItem::Fn(f) => {
                    let id = self.globals.get(&f.name.name).copied();
                    // A second `fn` of the same name: its own parameters.
                    let id = id
                        .filter(|i| self.defs[*i].span == f.name.span)
                        .or_else(|| {
                            self.defs
                                .iter()
                                .position(|d| d.kind == DefKind::Fn && d.span == f.name.span)
                        });
                    self.expr(&f.body, id);
                }
                DeviceItem::Scenario(s) => self.steps(&s.steps),
                DeviceItem::State(_)
                | DeviceItem::Hook(_)
                | DeviceItem::Description(_)
                | DeviceItem::Id { .. }
                | DeviceItem::Revision(_)
                | DeviceItem::Class { .. }
                | DeviceItem::Subsystem { .. }
                | DeviceItem::DmaBuffer(_) => {}
            }
        }
    }

    fn resolve_register(&mut self, r: &RegisterAst) {
        for (e, _) in &r.read {
            self.expr(e, None);
        }
        for (b, _) in r.on_read.iter().chain(&r.on_write) {
            self.stmts(b, None);
        }
    }

    fn use_global(&mut self, id: &Ident) -> Option<usize> {
        let d = self.global(&id.name)?;
        self.refs.push((id.span, d));
        Some(d)
    }

    /// `base` or `base.member`: a parameter of `scope`, or a device name
    /// (and then a register's field).
    fn use_place(&mut self, base: &Ident, member: Option<&Ident>, scope: Option<usize>) {
        if let Some(p) = scope.and_then(|f| self.child(f, &base.name)) {
            self.refs.push((base.span, p));
            return;
        }
        let Some(d) = self.use_global(base) else {
            return;
        };
        if let (Some(m), DefKind::Register) = (member, self.defs[d].kind)
            && let Some(f) = self.child(d, &m.name)
        {
            self.refs.push((m.span, f));
        }
    }

    fn place(&mut self, p: &Place, scope: Option<usize>) {
        self.use_place(&p.base, p.field.as_ref(), scope);
        if let Some(i) = &p.index {
            self.expr(i, scope);
        }
    }

    /// Expressions nest at most `MAX_EXPR_DEPTH` levels (the parser
    /// refuses deeper ones), so recursion is bounded.
    fn expr(&mut self, e: &Expr, scope: Option<usize>) {
        match &e.kind {
            ExprKind::Place(p) => self.place(p, scope),
            ExprKind::Call { hook, args } => {
                self.use_global(hook);
                for a in args {
                    self.expr(a, scope);
                }
            }
            ExprKind::Unary(_, a) => self.expr(a, scope),
            ExprKind::Binary(_, a, b) => {
                self.expr(a, scope);
                self.expr(b, scope);
            }
            ExprKind::Cond(c, a, b) => {
                self.expr(c, scope);
                self.expr(a, scope);
                self.expr(b, scope);
            }
            ExprKind::Num(_)
            | ExprKind::Bool(_)
            | ExprKind::Value
            | ExprKind::DmaAddr
            | ExprKind::Index
            | ExprKind::Byte
            | ExprKind::AccessSize
            | ExprKind::AccessMask => {}
        }
    }

    fn source(&mut self, s: &pcidevc_dsl::ast::Source, scope: Option<usize>) {
        match &s.kind {
            SourceKind::Random(e) | SourceKind::Pattern(e) | SourceKind::Word(e) => {
                self.expr(e, scope)
            }
            SourceKind::Place(p) => self.place(p, scope),
        }
    }

    fn stmts(&mut self, stmts: &[Stmt], scope: Option<usize>) {
        for s in stmts {
            match &s.kind {
                StmtKind::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    self.expr(cond, scope);
                    self.stmts(then, scope);
                    self.stmts(otherwise, scope);
                }
                StmtKind::Irq(_) => {}
                StmtKind::Msi(e) => self.expr(e, scope),
                StmtKind::DmaWrite {
                    addr,
                    len,
                    source,
                    status,
                } => {
                    self.expr(addr, scope);
                    self.expr(len, scope);
                    self.source(source, scope);
                    if let Some(p) = status {
                        self.place(p, scope);
                    }
                }
                StmtKind::DmaRead {
                    addr,
                    len,
                    into,
                    status,
                } => {
                    self.expr(addr, scope);
                    self.expr(len, scope);
                    self.place(into, scope);
                    if let Some(p) = status {
                        self.place(p, scope);
                    }
                }
                StmtKind::Assign { place, value, .. } => {
                    self.place(place, scope);
                    self.expr(value, scope);
                }
                StmtKind::Call { hook, args } => {
                    self.use_global(hook);
                    for a in args {
                        self.expr(a, scope);
                    }
                }
                StmtKind::Start {
                    timer, duration, ..
                } => {
                    self.use_global(timer);
                    self.expr(duration, scope);
                }
                StmtKind::Stop(t) => {
                    self.use_global(t);
                }
                StmtKind::Send { stream, value } => {
                    self.use_global(stream);
                    self.expr(value, scope);
                }
                StmtKind::Vmm(_) => {}
                StmtKind::Method { target, arg, .. } => {
                    self.use_global(target);
                    if let Some(a) = arg {
                        self.expr(a, scope);
                    }
                }
            }
        }
    }

    fn location(&mut self, l: &Location) {
        if let Location::Register(r) = l {
            self.use_global(r);
        }
    }

    fn probe(&mut self, l: &ProbeLocation) {
        match l {
            ProbeLocation::Location(l) => self.location(l),
            ProbeLocation::Named { name, property } => {
                self.use_place(name, property.as_ref(), None)
            }
        }
    }

    fn bytes(&mut self, b: &ByteData) {
        if let ByteData::List(es, _) = b {
            for e in es {
                self.expr(e, None);
            }
        }
    }

    fn steps(&mut self, steps: &[Step]) {
        for s in steps {
            match &s.kind {
                StepKind::Expect {
                    location,
                    value,
                    mask,
                    ..
                }
                | StepKind::Wait {
                    location,
                    value,
                    mask,
                } => {
                    self.probe(location);
                    self.expr(value, None);
                    if let Some(m) = mask {
                        self.expr(m, None);
                    }
                }
                StepKind::Write { location, value }
                | StepKind::InvalidWrite { location, value } => {
                    self.location(location);
                    self.expr(value, None);
                }
                StepKind::Read { location } | StepKind::InvalidRead { location } => {
                    self.location(location)
                }
                StepKind::ExpectDma { start, end, source }
                | StepKind::Fill { start, end, source } => {
                    self.expr(start, None);
                    self.expr(end, None);
                    self.source(source, None);
                }
                StepKind::Repeat { count, body } => {
                    self.expr(count, None);
                    self.steps(body);
                }
                StepKind::Advance { amount, .. } => self.expr(amount, None),
                StepKind::Input { stream, data } | StepKind::ExpectOutput { stream, data } => {
                    self.use_global(stream);
                    self.bytes(data);
                }
                StepKind::ExpectIrq { .. }
                | StepKind::ExpectMsi { .. }
                | StepKind::ExpectVmm(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(text: &str) -> (Index, String) {
        let c = pcidevc_dsl::compile_str("t.pcidev", text);
        (Index::build(&c.ast), text.to_string())
    }

    fn def_at(ix: &Index, text: &str, needle: &str, nth: usize) -> Option<(DefKind, String)> {
        let at = text.match_indices(needle).nth(nth)?.0;
        let (_, d) = ix.at(FileId(0), at)?;
        Some((ix.defs[d].kind, ix.defs[d].name.clone()))
    }

    #[test]
    fn uses_resolve_to_their_declarations() {
        let (ix, t) = index(
            "device d { id 0x1:0x2; state flag: bool = false;\n\
             hook log(x: u32);\n\
             fn twice(x: u32) -> u32 = x * 2;\n\
             bar 0 mem32 size 4K {\n\
               register CTRL @ 0x0 : u32 { field go [0] rw; on write { if CTRL.go { flag = true; log(twice(1)); } } }\n\
               register Q[4] @ 0x10 : u32 ro;\n\
             }\n\
             scenario s { write CTRL = 1; expect Q_3 == 0; } }",
        );
        assert_eq!(
            def_at(&ix, &t, "CTRL", 1),
            Some((DefKind::Register, "CTRL".into()))
        );
        assert_eq!(
            def_at(&ix, &t, "go {", 0),
            Some((DefKind::Field, "go".into()))
        );
        assert_eq!(
            def_at(&ix, &t, "flag", 1),
            Some((DefKind::State, "flag".into()))
        );
        assert_eq!(
            def_at(&ix, &t, "log(", 1),
            Some((DefKind::Hook, "log".into()))
        );
        assert_eq!(
            def_at(&ix, &t, "twice(1", 0),
            Some((DefKind::Fn, "twice".into()))
        );
        // `x` in twice's body is its parameter, not the hook's.
        let x = t.find("x * 2").unwrap();
        let (_, p) = ix.at(FileId(0), x).unwrap();
        assert_eq!(ix.defs[p].kind, DefKind::Param);
        assert_eq!(ix.defs[ix.defs[p].parent.unwrap()].name, "twice");
        assert_eq!(
            def_at(&ix, &t, "Q_3", 0),
            Some((DefKind::Register, "Q".into()))
        );
        assert_eq!(
            def_at(&ix, &t, "CTRL = 1", 0),
            Some((DefKind::Register, "CTRL".into()))
        );
        assert!(ix.global("Q_4").is_none(), "past the array's end");
    }
}
