//! Random valid specs, for the generator's own check (`cargo xtask
//! spec-fuzz`, `codegen/tests/spec_fuzz.rs`): "generated Rust is formatted
//! and clippy-clean for every valid spec" tried on specs that combine the
//! language in ways the corpus does not.
//!
//! [`spec`] is a pure function of its seed (a xorshift64, no dependency).
//! It aims at *valid* specs: it keeps track of what each context may name
//! (`value` only in `on write`, `byte` only in `on input`, `index` only in
//! array registers, `access.*` only in register behaviour, no hooks or lets in
//! the interrupt block, no `irq` action with a `level`, ...), places
//! registers, windows and MSI-X structures without overlap, and writes
//! scenarios that only act (writes, reads, time, input) and expect what it
//! can predict: `scratch` registers no action assigns.
//!
//! What it covers: states of every scalar type (resets at 0, 1, the type's
//! maximum), buffers (with string and `strings(..)` initialisers), FIFOs of
//! every element type, `sticky`, hooks, `let`s and `fn`s, timers, streams,
//! every interrupt kind (pin, MSI, MSI-X, `level`, `status`, `mine`, `ack ..
//! when`), I/O, mem32 and mem64 BARs with `access`/`invalid`/`unmapped`,
//! registers of every width and access kind with fields, enumerations,
//! resets, `read`, `on read`, `on write`, register arrays, configuration
//! space registers and a vendor capability, windows, DMA of every source,
//! and every operator of the language, with literals at type boundaries
//! and shifts by small and large amounts.

use std::fmt::Write as _;

/// A xorshift64 stream (never zero).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream from `seed` (any value; 0 is mapped to a fixed state).
    pub fn new(seed: u64) -> Self {
        // splitmix64 once, so that neighbouring seeds start far apart.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_f491_4f6c_dd1d } else { z })
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform-ish in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// True with probability `num/den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next_u64() % den < num
    }
    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    U8,
    U16,
    U32,
    U64,
    Bool,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::U8 => "u8",
            Ty::U16 => "u16",
            Ty::U32 => "u32",
            Ty::U64 => "u64",
            Ty::Bool => "bool",
        }
    }
    fn bits(self) -> u32 {
        match self {
            Ty::U8 => 8,
            Ty::U16 => 16,
            Ty::U32 => 32,
            Ty::U64 => 64,
            Ty::Bool => 1,
        }
    }
    fn bytes(self) -> u64 {
        u64::from(self.bits().div_ceil(8))
    }
    fn max(self) -> u64 {
        if self.bits() == 64 {
            u64::MAX
        } else {
            (1u64 << self.bits()) - 1
        }
    }
}

const INTS: [Ty; 4] = [Ty::U8, Ty::U16, Ty::U32, Ty::U64];
const KINDS: [&str; 6] = ["rw", "ro", "wo", "w1c", "w1s", "rclr"];

#[derive(Debug, Clone)]
struct Field {
    name: String,
    lo: u32,
    hi: u32,
    kind: &'static str,
}

#[derive(Debug, Clone)]
struct Reg {
    name: String,
    /// Array length, when `NAME[N]`.
    array: Option<u32>,
    offset: u64,
    width: Ty,
    /// Register-wide access kind.
    kind: Option<&'static str>,
    fields: Vec<Field>,
    /// A computed `read`.
    read: bool,
    /// In configuration space (else BAR `bar`).
    config: bool,
    bar: u8,
    /// Nothing assigns it and it has no behaviour: scenarios may expect
    /// what they wrote.
    scratch: bool,
}

impl Reg {
    fn storage(&self) -> bool {
        self.kind.is_some() || !self.fields.is_empty()
    }
    /// The names a spec uses for it (elements of an array).
    fn names(&self) -> Vec<String> {
        match self.array {
            Some(n) => (0..n).map(|i| format!("{}_{i}", self.name)).collect(),
            None => vec![self.name.clone()],
        }
    }
    /// The guest can read something other than 0.
    fn readable(&self) -> bool {
        self.read
            || (self.kind.is_some_and(|k| k != "wo"))
            || self.fields.iter().any(|f| f.kind != "wo")
    }
}

/// What an expression may name where it stands.
#[derive(Clone, Copy, Default)]
struct Cx {
    value: bool,
    index: bool,
    byte: bool,
    access: bool,
    /// `level`: no hooks (lets that call hooks too: lets are left out).
    level: bool,
    /// The interrupt block's `mine`/`ack`: constants, registers, `value`.
    handler: bool,
    /// A `fn` body: its parameters (`p0..`) and earlier `fn`s only.
    params: usize,
    in_fn: bool,
    /// `let`s defined before this one (when generating `let` k).
    lets_before: Option<usize>,
    /// `fn`s defined before this one.
    fns_before: Option<usize>,
}

struct Gen {
    r: Rng,
    scalars: Vec<(String, Ty)>,
    bufs: Vec<(String, u64)>,
    fifos: Vec<(String, Ty, u32)>,
    timers: Vec<String>,
    streams: Vec<String>,
    lets: Vec<String>,
    fns: Vec<(String, usize)>,
    hooks: Vec<(String, usize, bool)>,
    regs: Vec<Reg>,
    /// `irq raise/lower/pulse` allowed (an interrupt without `level`).
    irq_actions: bool,
    msi: bool,
    msix_vectors: u32,
    msi_vectors: u32,
    depth: u32,
}

impl Gen {
    fn lit(&mut self) -> String {
        let r = &mut self.r;
        match r.below(14) {
            0 => "0".into(),
            1 => "1".into(),
            2 => "0xff".into(),
            3 => "0xffff".into(),
            4 => "0xffff_ffff".into(),
            5 => "0xffff_ffff_ffff_ffff".into(),
            6 => "0x8000_0000_0000_0000".into(),
            7 => "0x8000_0000".into(),
            8 => "true".into(),
            9 => "false".into(),
            10 => format!("{}", r.below(300)),
            11 => format!("{:#x}", r.next_u64()),
            12 => format!("{:#b}", r.below(64)),
            _ => format!("{}", r.below(8)),
        }
    }

    /// A shift amount: small, at a width boundary, or too large.
    fn shift_amount(&mut self) -> String {
        self.r
            .pick(&[
                "0", "1", "7", "8", "15", "16", "31", "32", "33", "63", "64", "65", "127", "200",
            ])
            .to_string()
    }

    fn leaf(&mut self, cx: Cx) -> String {
        let mut opts: Vec<String> = vec![self.lit(), self.lit()];
        if cx.in_fn {
            for p in 0..cx.params {
                opts.push(format!("p{p}"));
            }
            return self.r.pick(&opts).clone();
        }
        if cx.value {
            opts.push("value".into());
            opts.push("value".into());
        }
        if cx.index {
            opts.push("index".into());
        }
        if cx.byte {
            opts.push("byte".into());
        }
        if cx.access {
            opts.push("access.size".into());
            opts.push("access.mask".into());
        }
        // Registers (with storage and readable in the handler).
        for reg in &self.regs {
            if !reg.storage() || (cx.handler && (reg.config || !reg.readable())) {
                continue;
            }
            let names = reg.names();
            let n = names[self.r.below(names.len())].clone();
            if !reg.fields.is_empty() && self.r.chance(1, 2) {
                let f = &reg.fields[self.r.below(reg.fields.len())];
                opts.push(format!("{n}.{}", f.name));
            } else {
                opts.push(n);
            }
        }
        if cx.handler {
            return self.r.pick(&opts).clone();
        }
        for (s, _) in &self.scalars {
            opts.push(s.clone());
        }
        for (b, len) in &self.bufs {
            let i = self.r.below(*len as usize + 2);
            opts.push(format!("{b}[{i}]"));
        }
        for (q, _, _) in &self.fifos {
            let p = self.r.pick(&["len", "front", "full", "empty"]);
            opts.push(format!("{q}.{p}"));
        }
        for t in &self.timers {
            let p = self.r.pick(&["running", "remaining"]);
            opts.push(format!("{t}.{p}"));
        }
        for s in &self.streams {
            opts.push(format!("{s}.space"));
        }
        if !cx.level {
            let n = cx.lets_before.unwrap_or(self.lets.len());
            for l in &self.lets[..n] {
                opts.push(l.clone());
            }
        }
        self.r.pick(&opts).clone()
    }

    fn call(&mut self, cx: Cx) -> Option<String> {
        let mut callees: Vec<(String, usize)> = Vec::new();
        if !cx.handler && !cx.level {
            let n = cx.fns_before.unwrap_or(self.fns.len());
            callees.extend(self.fns[..n].iter().cloned());
            if !cx.in_fn && cx.lets_before.is_none() {
                for (h, n, ret) in &self.hooks {
                    if *ret {
                        callees.push((h.clone(), *n));
                    }
                }
            }
        }
        if callees.is_empty() {
            return None;
        }
        let (name, n) = self.r.pick(&callees).clone();
        let args: Vec<String> = (0..n).map(|_| self.expr(cx)).collect();
        Some(format!("{name}({})", args.join(", ")))
    }

    fn expr(&mut self, cx: Cx) -> String {
        self.depth += 1;
        let e = if self.depth > 4 || self.r.chance(1, 3) {
            self.leaf(cx)
        } else {
            match self.r.below(12) {
                0..=4 => {
                    let op = *self.r.pick(&[
                        "||", "&&", "==", "!=", "<", "<=", ">", ">=", "|", "^", "&", "<<", ">>",
                        "+", "-", "*", "/", "%",
                    ]);
                    let a = self.expr(cx);
                    let b = if op == "<<" || op == ">>" {
                        if self.r.chance(3, 4) {
                            self.shift_amount()
                        } else {
                            self.expr(cx)
                        }
                    } else {
                        self.expr(cx)
                    };
                    if self.r.chance(1, 2) {
                        format!("({a} {op} {b})")
                    } else {
                        format!("{a} {op} {b}")
                    }
                }
                5 | 6 => {
                    let op = *self.r.pick(&["!", "-", "~"]);
                    let a = self.expr(cx);
                    format!("{op}({a})")
                }
                7 => {
                    let op = *self.r.pick(&["!", "-", "~"]);
                    let a = self.leaf(cx);
                    format!("{op}{a}")
                }
                8 => {
                    let c = self.expr(cx);
                    let a = self.expr(cx);
                    let b = self.expr(cx);
                    if self.r.chance(1, 3) {
                        let c2 = self.expr(cx);
                        let d = self.expr(cx);
                        format!("(if {c} {{ {a} }} else if {c2} {{ {d} }} else {{ {b} }})")
                    } else {
                        format!("(if {c} {{ {a} }} else {{ {b} }})")
                    }
                }
                9 => self.call(cx).unwrap_or_else(|| self.leaf(cx)),
                10 => {
                    // A chain without parentheses: precedence must hold.
                    let a = self.leaf(cx);
                    let b = self.leaf(cx);
                    let c = self.leaf(cx);
                    let o1 = *self.r.pick(&["+", "*", "<<", "&", "|", "^", "-", "%"]);
                    let o2 = *self.r.pick(&["+", "*", ">>", "&", "|", "==", "<", "&&"]);
                    format!("{a} {o1} {b} {o2} {c}")
                }
                _ => format!("({})", self.expr(cx)),
            }
        };
        self.depth -= 1;
        e
    }

    /// Places an action may assign.
    fn places(&mut self, cx: Cx) -> Vec<String> {
        let mut v: Vec<String> = self.scalars.iter().map(|(s, _)| s.clone()).collect();
        for (b, len) in self.bufs.clone() {
            let i = if self.r.chance(1, 2) {
                format!("{}", self.r.below(len as usize + 1))
            } else {
                self.expr(cx)
            };
            v.push(format!("{b}[{i}]"));
        }
        for reg in &self.regs {
            if !reg.storage() || reg.scratch {
                continue;
            }
            let names = reg.names();
            let n = names[self.r.below(names.len())].clone();
            if !reg.fields.is_empty() && self.r.chance(1, 2) {
                let f = &reg.fields[self.r.below(reg.fields.len())];
                v.push(format!("{n}.{}", f.name));
            } else {
                v.push(n);
            }
        }
        v
    }

    fn stmt(&mut self, cx: Cx, ind: usize, out: &mut String, depth: u32) {
        let pad = " ".repeat(ind);
        let choice = self.r.below(20);
        match choice {
            0..=7 => {
                let places = self.places(cx);
                if places.is_empty() {
                    return;
                }
                let p = self.r.pick(&places).clone();
                let op = *self.r.pick(&["=", "=", "|=", "&=", "^=", "+=", "-="]);
                let e = self.expr(cx);
                let _ = writeln!(out, "{pad}{p} {op} {e};");
            }
            8 | 9 if depth < 3 => {
                let c = self.expr(cx);
                let _ = writeln!(out, "{pad}if {c} {{");
                self.stmts(cx, ind + 4, out, depth + 1, 3);
                match self.r.below(3) {
                    0 => {
                        let _ = writeln!(out, "{pad}}}");
                    }
                    1 => {
                        let _ = writeln!(out, "{pad}}} else {{");
                        self.stmts(cx, ind + 4, out, depth + 1, 2);
                        let _ = writeln!(out, "{pad}}}");
                    }
                    _ => {
                        let c2 = self.expr(cx);
                        let _ = writeln!(out, "{pad}}} else if {c2} {{");
                        self.stmts(cx, ind + 4, out, depth + 1, 2);
                        let _ = writeln!(out, "{pad}}} else {{");
                        self.stmts(cx, ind + 4, out, depth + 1, 1);
                        let _ = writeln!(out, "{pad}}}");
                    }
                }
            }
            10 if self.irq_actions => {
                let op = self.r.pick(&["raise", "lower", "pulse"]);
                let _ = writeln!(out, "{pad}irq {op};");
            }
            11 if self.msi => {
                let e = if self.r.chance(1, 2) {
                    format!(
                        "{}",
                        self.r
                            .below(self.msi_vectors.max(self.msix_vectors) as usize)
                    )
                } else {
                    self.expr(cx)
                };
                let _ = writeln!(out, "{pad}msi {e};");
            }
            12 => self.dma(cx, &pad, out),
            13 if !self.timers.is_empty() => {
                let t = self.r.pick(&self.timers).clone();
                if self.r.chance(1, 3) {
                    let _ = writeln!(out, "{pad}stop {t};");
                } else {
                    let how = self.r.pick(&["after", "every"]);
                    let e = if self.r.chance(1, 2) {
                        format!("{}", 1 + self.r.below(1000))
                    } else {
                        self.expr(cx)
                    };
                    let unit = self.r.pick(&["ns", "us", "ms", "s"]);
                    let _ = writeln!(out, "{pad}start {t} {how} {e} {unit};");
                }
            }
            14 if !self.streams.is_empty() => {
                let s = self.r.pick(&self.streams).clone();
                let e = self.expr(cx);
                let _ = writeln!(out, "{pad}send {s} {e};");
            }
            15 if !self.fifos.is_empty() => {
                let q = self.r.pick(&self.fifos).0.clone();
                match self.r.below(4) {
                    0 => {
                        let _ = writeln!(out, "{pad}{q}.pop();");
                    }
                    1 => {
                        let _ = writeln!(out, "{pad}{q}.clear();");
                    }
                    _ => {
                        let e = self.expr(cx);
                        let _ = writeln!(out, "{pad}{q}.push({e});");
                    }
                }
            }
            16 if !self.hooks.is_empty() => {
                let (h, n, _) = self.r.pick(&self.hooks).clone();
                let args: Vec<String> = (0..n).map(|_| self.expr(cx)).collect();
                let _ = writeln!(out, "{pad}{h}({});", args.join(", "));
            }
            17 if self.r.chance(1, 4) => {
                let k = self
                    .r
                    .pick(&["reset", "poweroff", "stop", "panic", "crashloaded"]);
                let _ = writeln!(out, "{pad}vmm {k};");
            }
            _ => {
                let places = self.places(cx);
                if !places.is_empty() {
                    let p = self.r.pick(&places).clone();
                    let e = self.expr(cx);
                    let _ = writeln!(out, "{pad}{p} = {e};");
                }
            }
        }
    }

    fn dma(&mut self, cx: Cx, pad: &str, out: &mut String) {
        // Addresses: a register or state or constant; lengths kept small.
        let addr = if self.r.chance(1, 2) {
            format!("{:#x}", 0x10_0000 + self.r.below(0x1000))
        } else {
            self.expr(cx)
        };
        let len = if self.r.chance(2, 3) {
            format!("{}", 1 + self.r.below(64))
        } else {
            format!("({}) & 0xff", self.expr(cx))
        };
        let status = if self.r.chance(1, 2) && !self.scalars.is_empty() {
            let s = self.r.pick(&self.scalars).0.clone();
            format!(" status {s}")
        } else {
            String::new()
        };
        if self.r.chance(1, 2) {
            let src = match self.r.below(4) {
                0 => format!("random({})", self.expr(cx)),
                1 => format!("pattern({})", self.expr(cx)),
                2 => format!("word({})", self.expr(cx)),
                _ => match self.bufs.first().cloned() {
                    Some((b, len)) => format!("{b}[{}]", self.r.below(len as usize)),
                    None => format!("pattern({})", self.lit()),
                },
            };
            let _ = writeln!(
                out,
                "{pad}dma write addr {addr} len {len} from {src}{status};"
            );
        } else {
            let dst = match (self.bufs.first().cloned(), self.scalars.first().cloned()) {
                (Some((b, blen)), _) if self.r.chance(1, 2) => {
                    format!("{b}[{}]", self.r.below(blen as usize))
                }
                (_, Some((s, ty))) => {
                    let n = ty.bytes();
                    let _ = writeln!(out, "{pad}dma read addr {addr} len {n} into {s}{status};");
                    return;
                }
                (Some((b, blen)), None) => format!("{b}[{}]", self.r.below(blen as usize)),
                (None, None) => return,
            };
            let _ = writeln!(
                out,
                "{pad}dma read addr {addr} len {len} into {dst}{status};"
            );
        }
    }

    fn stmts(&mut self, cx: Cx, ind: usize, out: &mut String, depth: u32, max: usize) {
        let n = 1 + self.r.below(max);
        for _ in 0..n {
            self.stmt(cx, ind, out, depth);
        }
    }
}

fn int_reset(r: &mut Rng, ty: Ty) -> String {
    match r.below(5) {
        0 => "0".into(),
        1 => "1".into(),
        2 => format!("{:#x}", ty.max()),
        3 => format!("{:#x}", r.next_u64() & ty.max()),
        _ => format!("{:#x}", 1u64 << (ty.bits() - 1)),
    }
}

/// A random spec for `seed`: valid by construction (the few it gets wrong
/// are counted by its users), deterministic.
pub fn spec(seed: u64) -> String {
    let mut g = Gen {
        r: Rng::new(seed),
        scalars: Vec::new(),
        bufs: Vec::new(),
        fifos: Vec::new(),
        timers: Vec::new(),
        streams: Vec::new(),
        lets: Vec::new(),
        fns: Vec::new(),
        hooks: Vec::new(),
        regs: Vec::new(),
        irq_actions: false,
        msi: false,
        msix_vectors: 0,
        msi_vectors: 0,
        depth: 0,
    };
    let mut s = String::new();
    if g.r.chance(1, 3) {
        s.push_str("language 2;\n\n");
    }
    let _ = writeln!(s, "device fuzz_{seed} {{");
    let _ = writeln!(s, "    id 0x1b36:{:#06x};", 1 + g.r.below(0xfffe));
    if g.r.chance(1, 2) {
        let _ = writeln!(s, "    revision {};", g.r.below(256));
        let _ = writeln!(s, "    class 0xff:0x00:0x00;");
    }

    // ---- states
    let mut items = String::new();
    for k in 0..g.r.below(6) + 1 {
        let ty = if g.r.chance(1, 5) {
            Ty::Bool
        } else {
            *g.r.pick(&INTS)
        };
        let name = format!("s{k}");
        let init = match (ty, g.r.below(3)) {
            (_, 0) => String::new(),
            (Ty::Bool, _) => format!(" = {}", g.r.pick(&["true", "false"])),
            (t, _) => format!(" = {}", int_reset(&mut g.r, t)),
        };
        let sticky = if g.r.chance(1, 6) { " sticky" } else { "" };
        let _ = writeln!(items, "    state {name}: {}{init}{sticky};", ty.name());
        g.scalars.push((name, ty));
    }
    for k in 0..g.r.below(3) {
        let len = *g.r.pick(&[1u64, 4, 16, 64, 256, 4096]);
        let name = format!("b{k}");
        let init = match g.r.below(4) {
            0 if len >= 3 => " = \"hi\\n\"".to_string(),
            1 if len >= 16 => " = strings(8, \"ab\", \"cd\")".to_string(),
            _ => String::new(),
        };
        let sticky = if g.r.chance(1, 6) { " sticky" } else { "" };
        let _ = writeln!(items, "    state {name}: [u8; {len}]{init}{sticky};");
        g.bufs.push((name, len));
    }
    for k in 0..g.r.below(3) {
        let ty = *g.r.pick(&INTS);
        let cap = *g.r.pick(&[1u32, 2, 16, 4096]);
        let name = format!("q{k}");
        let sticky = if g.r.chance(1, 6) { " sticky" } else { "" };
        let _ = writeln!(
            items,
            "    state {name}: fifo[{}; {cap}]{sticky};",
            ty.name()
        );
        g.fifos.push((name, ty, cap));
    }
    let with_hooks = g.r.chance(1, 5);
    if with_hooks {
        for k in 0..1 + g.r.below(3) {
            let n = g.r.below(3);
            let ret = g.r.chance(1, 2);
            let params: Vec<String> = (0..n)
                .map(|i| format!("a{i}: {}", g.r.pick(&["u8", "u16", "u32", "u64", "bool"])))
                .collect();
            let r = if ret {
                format!(" -> {}", g.r.pick(&["u8", "u16", "u32", "u64", "bool"]))
            } else {
                String::new()
            };
            let _ = writeln!(items, "    hook h{k}({}){r};", params.join(", "));
            g.hooks.push((format!("h{k}"), n, ret));
        }
    }
    for k in 0..g.r.below(3) {
        g.timers.push(format!("t{k}"));
    }
    for k in 0..g.r.below(3) {
        g.streams.push(format!("st{k}"));
    }

    // ---- interrupt
    let mut pin = false;
    let mut level = false;
    match g.r.below(6) {
        0 => {}
        1 => {
            pin = true;
            g.irq_actions = true;
        }
        2 => {
            pin = true;
            level = true;
        }
        3 => {
            g.msi = true;
            g.irq_actions = true;
            g.msi_vectors = *g.r.pick(&[1, 2, 4, 8, 16, 32]);
        }
        4 => {
            g.msi = true;
            g.irq_actions = true;
            pin = g.r.chance(1, 2);
            g.msix_vectors = *g.r.pick(&[1, 3, 64, 70]);
        }
        _ => {
            pin = true;
            g.msi = true;
            g.msi_vectors = 1;
            level = true;
        }
    }

    // ---- BARs and registers (layout first: expressions may name any)
    struct Bar {
        index: u8,
        kind: &'static str,
        size: u64,
        access: Vec<u64>,
        policy: String,
        windows: Vec<(String, u64, &'static str)>,
    }
    let mut bars: Vec<Bar> = Vec::new();
    let mut next_index = 0u8;
    let nbars = 1 + g.r.below(3);
    let mut reg_no = 0;
    for _ in 0..nbars {
        if next_index > 5 {
            break;
        }
        let kind = *g.r.pick(&["io", "mem32", "mem64"]);
        if kind == "mem64" && next_index > 4 {
            break;
        }
        let index = next_index;
        next_index += if kind == "mem64" { 2 } else { 1 };
        let (size, mut access): (u64, Vec<u64>) = if kind == "io" {
            (*g.r.pick(&[64u64, 128, 256]), vec![1, 2, 4])
        } else {
            (*g.r.pick(&[256u64, 4096, 64 * 1024]), vec![1, 2, 4, 8])
        };
        let mut policy = String::new();
        if g.r.chance(1, 3) {
            // Keep every width allowed; sometimes fewer sizes.
            if kind != "io" && g.r.chance(1, 2) {
                access = vec![4, 8];
            }
            let unaligned = g.r.chance(1, 3);
            let list: Vec<String> = access.iter().map(|a| a.to_string()).collect();
            let _ = writeln!(
                policy,
                "        access {}{};",
                list.join(" "),
                if unaligned { " unaligned" } else { "" }
            );
        }
        if g.r.chance(1, 3) {
            let _ = writeln!(
                policy,
                "        invalid {};",
                g.r.pick(&["ignore", "ones", "error"])
            );
        }
        if g.r.chance(1, 3) {
            let _ = writeln!(policy, "        unmapped {};", g.r.pick(&["zero", "ones"]));
        }
        // Registers, packed from 0 with gaps, naturally aligned.
        let mut off = 0u64;
        let limit = size.min(0x100);
        for _ in 0..1 + g.r.below(7) {
            let widths: Vec<Ty> = INTS
                .iter()
                .copied()
                .filter(|t| access.contains(&t.bytes()))
                .collect();
            let width = *g.r.pick(&widths);
            let array = if g.r.chance(1, 6) {
                Some(1 + g.r.below(4) as u32)
            } else {
                None
            };
            let count = u64::from(array.unwrap_or(1));
            off = off.next_multiple_of(width.bytes()) + width.bytes() * g.r.below(2) as u64;
            if off + width.bytes() * count > limit {
                break;
            }
            let mut reg = Reg {
                name: format!("R{reg_no}"),
                array,
                offset: off,
                width,
                kind: None,
                fields: Vec::new(),
                read: false,
                config: false,
                bar: index,
                scratch: false,
            };
            reg_no += 1;
            off += width.bytes() * count;
            shape(&mut g.r, &mut reg);
            g.regs.push(reg);
        }
        bars.push(Bar {
            index,
            kind,
            size,
            access,
            policy,
            windows: Vec::new(),
        });
    }
    // A scratch register for scenarios, in the first BAR (if room).
    {
        let b = &bars[0];
        let end = g
            .regs
            .iter()
            .filter(|r| !r.config && r.bar == b.index)
            .map(|r| r.offset + r.width.bytes() * u64::from(r.array.unwrap_or(1)))
            .max()
            .unwrap_or(0)
            .next_multiple_of(4);
        if end + 4 <= b.size.min(0x100) && b.access.contains(&4) {
            g.regs.push(Reg {
                name: "SCRATCH".into(),
                array: None,
                offset: end,
                width: Ty::U32,
                kind: Some("rw"),
                fields: Vec::new(),
                read: false,
                config: false,
                bar: b.index,
                scratch: true,
            });
        }
    }
    // Windows: buffers in memory BARs above 0x100 (registers stay below).
    for (bname, blen) in g.bufs.clone() {
        if !g.r.chance(1, 2) {
            continue;
        }
        if let Some(b) = bars
            .iter_mut()
            .find(|b| b.kind != "io" && b.size >= 0x100 + blen)
        {
            let used: u64 = b
                .windows
                .iter()
                .map(|w| w.1 + 0x1000)
                .max()
                .unwrap_or(0x100);
            let at = used.next_multiple_of(8);
            if at + blen <= b.size {
                let acc = *g.r.pick(&["", " ro", " rw"]);
                b.windows.push((bname, at, acc));
            }
        }
    }
    // Configuration space: registers from 0x60, a vendor capability at 0xc0.
    let mut config_regs = 0;
    if g.r.chance(1, 3) {
        let mut off = 0x60u64;
        for _ in 0..1 + g.r.below(4) {
            let width = *g.r.pick(&[Ty::U8, Ty::U16, Ty::U32]);
            off = off.next_multiple_of(width.bytes());
            if off + width.bytes() > 0xc0 {
                break;
            }
            let mut reg = Reg {
                name: format!("C{config_regs}"),
                array: None,
                offset: off,
                width,
                kind: None,
                fields: Vec::new(),
                read: false,
                config: true,
                bar: 0,
                scratch: false,
            };
            config_regs += 1;
            off += width.bytes();
            shape(&mut g.r, &mut reg);
            g.regs.push(reg);
        }
    }
    let capability = g.r.chance(1, 4);
    if capability {
        let mut reg = Reg {
            name: "CAPREG".into(),
            array: None,
            offset: 0xc4,
            width: Ty::U32,
            kind: None,
            fields: Vec::new(),
            read: false,
            config: true,
            bar: 0,
            scratch: false,
        };
        shape(&mut g.r, &mut reg);
        g.regs.push(reg);
    }
    // MSI-X structures: in a memory BAR of at least 4K, above the windows.
    let mut msix_line = String::new();
    if g.msix_vectors > 0 {
        let mem: Vec<u8> = bars
            .iter()
            .filter(|b| b.kind != "io" && b.size >= 4096 && b.windows.is_empty())
            .map(|b| b.index)
            .collect();
        if let Some(&bi) = mem.first() {
            // Table at 0x400 (70 * 16 = 0x460 bytes), PBA at 0xc00.
            let _ = writeln!(
                msix_line,
                "        msix {} table bar {bi} @ 0x400 pba bar {bi} @ 0xc00;",
                g.msix_vectors
            );
        } else {
            g.msix_vectors = 0;
            g.msi = false;
            g.irq_actions = false;
            if !pin {
                pin = true;
                g.irq_actions = true;
            }
        }
    }
    if !pin && g.msi_vectors == 0 && g.msix_vectors == 0 {
        g.irq_actions = false;
        g.msi = false;
    }

    // ---- lets and fns (fns first: lets may call them)
    let nfns = g.r.below(3);
    let mut fn_text = String::new();
    for k in 0..nfns {
        let n = g.r.below(3);
        let params: Vec<String> = (0..n)
            .map(|i| format!("p{i}: {}", g.r.pick(&["u8", "u16", "u32", "u64", "bool"])))
            .collect();
        let ret = g.r.pick(&["u8", "u16", "u32", "u64", "bool"]);
        let cx = Cx {
            in_fn: true,
            params: n,
            fns_before: Some(k),
            ..Cx::default()
        };
        let body = g.expr(cx);
        let _ = writeln!(
            fn_text,
            "    fn f{k}({}) -> {ret} = {body};",
            params.join(", ")
        );
        g.fns.push((format!("f{k}"), n));
    }
    let nlets = g.r.below(3);
    let mut let_text = String::new();
    for k in 0..nlets {
        let cx = Cx {
            lets_before: Some(k),
            ..Cx::default()
        };
        let body = g.expr(cx);
        let _ = writeln!(let_text, "    let l{k} = {body};");
        g.lets.push(format!("l{k}"));
    }

    // ---- the interrupt block
    let mut irq = String::new();
    let status_reg = g
        .regs
        .iter()
        .filter(|r| !r.config && r.array.is_none() && r.readable() && !r.scratch)
        .map(|r| r.name.clone())
        .next();
    if pin || g.msi_vectors > 0 || g.msix_vectors > 0 {
        irq.push_str("    interrupt {\n");
        if pin {
            let _ = writeln!(irq, "        pin {};", g.r.pick(&["A", "B", "C", "D"]));
        }
        if g.msi_vectors > 0 {
            let _ = writeln!(irq, "        msi {};", g.msi_vectors);
        }
        irq.push_str(&msix_line);
        if level {
            let cx = Cx {
                level: true,
                ..Cx::default()
            };
            let e = g.expr(cx);
            let _ = writeln!(irq, "        level {e};");
        }
        let hcx = Cx {
            handler: true,
            ..Cx::default()
        };
        let mut has_test = false;
        if let Some(st) = &status_reg
            && g.r.chance(3, 4)
        {
            let _ = writeln!(irq, "        status {st};");
            has_test = true;
            if g.r.chance(1, 2) {
                let e = g.expr(Cx { value: true, ..hcx });
                let _ = writeln!(irq, "        mine {e};");
            }
            // acks: writable BAR registers.
            let ackable: Vec<String> = g
                .regs
                .iter()
                .filter(|r| !r.config && r.array.is_none() && !r.scratch && r.kind != Some("ro"))
                .map(|r| r.name.clone())
                .collect();
            for _ in 0..g.r.below(3) {
                if ackable.is_empty() {
                    break;
                }
                let a = g.r.pick(&ackable).clone();
                let v = g.expr(Cx { value: true, ..hcx });
                let when = if g.r.chance(1, 2) {
                    format!(" when {}", g.expr(Cx { value: true, ..hcx }))
                } else {
                    String::new()
                };
                let _ = writeln!(irq, "        ack {a} = {v}{when};");
            }
        }
        if pin && !has_test {
            let e = g.expr(hcx);
            let _ = writeln!(irq, "        mine {e};");
        }
        irq.push_str("    }\n");
    }

    // ---- emit
    s.push_str(&items);
    let dma_buffer = g.r.chance(1, 2);
    if dma_buffer {
        s.push_str("    dma_buffer 4K;\n");
    }
    s.push_str(&irq);
    s.push_str(&fn_text);
    s.push_str(&let_text);
    for t in g.timers.clone() {
        let mut body = String::new();
        g.stmts(Cx::default(), 8, &mut body, 1, 3);
        let _ = write!(s, "    timer {t} {{\n{body}    }}\n");
    }
    for st in g.streams.clone() {
        if g.r.chance(1, 3) {
            let _ = writeln!(s, "    stream {st};");
            continue;
        }
        let _ = writeln!(s, "    stream {st} {{");
        if g.r.chance(1, 2) {
            // No hooks (nor lets, which may call them) in `ready`.
            let e = g.expr(Cx {
                level: true,
                ..Cx::default()
            });
            let _ = writeln!(s, "        ready {e};");
        }
        let mut body = String::new();
        g.stmts(
            Cx {
                byte: true,
                ..Cx::default()
            },
            12,
            &mut body,
            1,
            3,
        );
        let _ = write!(s, "        on input {{\n{body}        }}\n    }}\n");
    }
    for b in &bars {
        let _ = writeln!(s, "    bar {} {} size {} {{", b.index, b.kind, b.size);
        s.push_str(&b.policy);
        for reg in g
            .regs
            .clone()
            .iter()
            .filter(|r| !r.config && r.bar == b.index)
        {
            render_reg(&mut g, reg, 8, &mut s);
        }
        for (w, at, acc) in &b.windows {
            let _ = writeln!(s, "        window {w} @ {at:#x}{acc};");
        }
        s.push_str("    }\n");
    }
    if config_regs > 0 || capability {
        s.push_str("    config {\n");
        for reg in g
            .regs
            .clone()
            .iter()
            .filter(|r| r.config && r.name != "CAPREG")
        {
            render_reg(&mut g, reg, 8, &mut s);
        }
        if capability {
            s.push_str("        capability vendor @ 0xc0 size 16 {\n");
            let reg = g.regs.iter().find(|r| r.name == "CAPREG").cloned();
            if let Some(reg) = reg {
                render_reg(&mut g, &reg, 12, &mut s);
            }
            s.push_str("        }\n");
        }
        s.push_str("    }\n");
    }

    // ---- scenarios: act, and expect only what is predictable.
    for k in 0..g.r.below(3) {
        let _ = writeln!(s, "    scenario sc{k} {{");
        let mut steps = String::new();
        scenario_steps(&mut g, &mut steps, 8, dma_buffer, 0);
        s.push_str(&steps);
        s.push_str("    }\n");
    }
    s.push_str("}\n");
    s
}

fn scenario_steps(g: &mut Gen, out: &mut String, ind: usize, dma_buffer: bool, depth: u32) {
    let pad = " ".repeat(ind);
    let writable: Vec<(String, Ty)> = g
        .regs
        .iter()
        .filter(|r| r.kind != Some("ro") && !r.config)
        .flat_map(|r| r.names().into_iter().map(move |n| (n, r.width)))
        .collect();
    let readable: Vec<String> = g
        .regs
        .iter()
        .filter(|r| r.readable())
        .flat_map(|r| r.names())
        .collect();
    for _ in 0..1 + g.r.below(8) {
        match g.r.below(10) {
            0..=2 if !writable.is_empty() => {
                let (n, ty) = g.r.pick(&writable).clone();
                let v = if g.r.chance(1, 2) {
                    format!("{:#x}", g.r.next_u64() & ty.max())
                } else {
                    format!("{:#x}", ty.max())
                };
                let _ = writeln!(out, "{pad}write {n} = {v};");
            }
            3 if !readable.is_empty() => {
                let n = g.r.pick(&readable).clone();
                let _ = writeln!(out, "{pad}read {n};");
            }
            4 => {
                if let Some(r) = g.regs.iter().find(|r| r.scratch) {
                    let v = g.r.next_u64() & 0xffff_ffff;
                    let _ = writeln!(out, "{pad}write {} = {v:#x};", r.name);
                    let _ = writeln!(out, "{pad}expect {} == {v:#x};", r.name);
                    let _ = writeln!(out, "{pad}expect {} != {:#x};", r.name, v ^ 1);
                    let _ = writeln!(out, "{pad}wait {} == {:#x} mask 0xff;", r.name, v & 0xff);
                }
            }
            5 => {
                let n = 1 + g.r.below(100);
                let unit = g.r.pick(&["ns", "us", "ms"]);
                let _ = writeln!(out, "{pad}advance {n} {unit};");
            }
            6 if !g.streams.is_empty() => {
                let st = g.r.pick(&g.streams).clone();
                if g.r.chance(1, 2) {
                    let _ = writeln!(out, "{pad}input {st} \"ok\";");
                } else {
                    let _ = writeln!(out, "{pad}input {st} [0x00, 0xff];");
                }
            }
            7 if dma_buffer => {
                let a = g.r.below(64) * 16;
                let src = g.r.pick(&["pattern(0xa5)", "random(7)", "word(0x1122)"]);
                let len = if src.starts_with("word") { 8 } else { 16 };
                let _ = writeln!(out, "{pad}fill dma[{a:#x} .. {:#x}] = {src};", a + len);
                let _ = writeln!(out, "{pad}expect dma[{a:#x} .. {:#x}] == {src};", a + len);
            }
            8 if depth == 0 => {
                let _ = writeln!(out, "{pad}repeat {} {{", 1 + g.r.below(3));
                scenario_steps(g, out, ind + 4, dma_buffer, depth + 1);
                let _ = writeln!(out, "{pad}}}");
            }
            _ => {
                if let Some((q, _, _)) = g.fifos.first().cloned() {
                    let _ = writeln!(out, "{pad}expect {q}.len == 0 mask 0;");
                } else if let Some(t) = g.timers.first().cloned() {
                    let _ = writeln!(out, "{pad}expect {t}.running == 0 mask 0;");
                }
            }
        }
    }
}

/// Access kind, fields, reset and whether it computes its read.
fn shape(r: &mut Rng, reg: &mut Reg) {
    match r.below(5) {
        // register-wide kind
        0 | 1 => reg.kind = Some(*r.pick(&KINDS)),
        // fields
        2 | 3 => {
            let bits = reg.width.bits();
            let ro_reg = r.chance(1, 6);
            if ro_reg {
                reg.kind = Some("ro");
            }
            let mut lo = 0;
            let mut k = 0;
            while lo < bits && k < 5 {
                lo += r.below(3) as u32;
                if lo >= bits {
                    break;
                }
                let cap = if r.chance(1, 4) { 64 } else { 8 };
                let w = 1 + r.below(((bits - lo) as usize).min(cap)) as u32;
                let hi = lo + w - 1;
                let kind = if ro_reg { "ro" } else { *r.pick(&KINDS) };
                reg.fields.push(Field {
                    name: format!("f{k}"),
                    lo,
                    hi,
                    kind,
                });
                k += 1;
                lo = hi + 1;
            }
        }
        // computed read, maybe no storage at all
        _ => {
            reg.read = true;
            if r.chance(1, 3) {
                reg.kind = Some(*r.pick(&["rw", "w1c", "wo"]));
            }
        }
    }
}

fn render_reg(g: &mut Gen, reg: &Reg, ind: usize, out: &mut String) {
    let pad = " ".repeat(ind);
    let arr = reg.array.map(|n| format!("[{n}]")).unwrap_or_default();
    let kind = reg.kind.map(|k| format!(" {k}")).unwrap_or_default();
    // A register-wide reset only with a kind and no fields.
    let reset = if reg.kind.is_some() && reg.fields.is_empty() && g.r.chance(1, 2) {
        format!(" = {}", int_reset(&mut g.r, reg.width))
    } else {
        String::new()
    };
    let head = format!(
        "{pad}register {}{arr} @ {:#x} : {}{kind}{reset}",
        reg.name,
        reg.offset,
        reg.width.name()
    );
    let cx = Cx {
        index: reg.array.is_some(),
        access: true,
        ..Cx::default()
    };
    let mut body = String::new();
    let inner = " ".repeat(ind + 4);
    for f in &reg.fields {
        let bits = if f.lo == f.hi {
            format!("[{}]", f.lo)
        } else {
            format!("[{}:{}]", f.hi, f.lo)
        };
        let w = f.hi - f.lo + 1;
        let fmax = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
        let reset = match g.r.below(3) {
            0 => format!(" = {fmax:#x}"),
            1 => format!(" = {:#x}", g.r.next_u64() & fmax),
            _ => String::new(),
        };
        if w <= 4 && g.r.chance(1, 4) {
            let n = (fmax + 1).min(3);
            let vars: Vec<String> = (0..n).map(|v| format!("v{v} = {v}")).collect();
            let _ = writeln!(
                body,
                "{inner}field {} {bits} {}{reset} {{ {} }}",
                f.name,
                f.kind,
                vars.join(", ")
            );
        } else {
            let _ = writeln!(body, "{inner}field {} {bits} {}{reset};", f.name, f.kind);
        }
    }
    if reg.scratch {
        let _ = writeln!(out, "{head};");
        return;
    }
    if reg.read {
        let e = g.expr(cx);
        let _ = writeln!(body, "{inner}read {e};");
    }
    if g.r.chance(1, 3) {
        let mut b = String::new();
        g.stmts(cx, ind + 8, &mut b, 1, 3);
        let _ = write!(body, "{inner}on read {{\n{b}{inner}}}\n");
    }
    if g.r.chance(1, 2) {
        let mut b = String::new();
        g.stmts(Cx { value: true, ..cx }, ind + 8, &mut b, 1, 4);
        let _ = write!(body, "{inner}on write {{\n{b}{inner}}}\n");
    }
    if body.is_empty() {
        let _ = writeln!(out, "{head};");
    } else {
        let _ = write!(out, "{head} {{\n{body}{pad}}}\n");
    }
}
