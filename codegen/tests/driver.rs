//! Tests of the Rust-for-Linux driver backend (`pcidevc_codegen::driver`).
//!
//! - every spec in `specs/`, a kitchen-sink spec using every construct the
//!   backend handles, a few feature combinations and a spec with long names
//!   render to a driver (crate root and support modules) that the toolchain's
//!   rustfmt leaves unchanged under the kernel's settings: `--edition 2021`,
//!   plus the kernel tree's own `.rustfmt.toml` when one is provisioned;
//! - the output is deterministic and free of absolute paths, and the support
//!   modules are the verbatim files of `codegen/support/driver/`, included
//!   only when the device needs them;
//! - the DMA data generator of `selftest.rs`, compiled and run on the host,
//!   produces exactly `pcidev_runtime::random_bytes` (and the pattern / word
//!   bytes);
//! - the generated code has the shape the module docs promise (steps, handler,
//!   probe pieces, `unsafe` only with a `SAFETY` comment, no `todo!()`).
//!
//! Building the driver against a kernel tree is `cargo xtask`'s job.

use pcidevc_codegen::{OutputFile, driver};
use pcidevc_dsl::ir;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs")
}

fn compile_path(path: &Path) -> ir::Device {
    let c = pcidevc_dsl::compile_file(path);
    let errors: Vec<String> = c.errors().map(|d| format!("{d:?}")).collect();
    c.device
        .unwrap_or_else(|| panic!("{} does not compile: {errors:#?}", path.display()))
}

fn compile(name: &str, text: &str) -> ir::Device {
    let c = pcidevc_dsl::compile_str(name, text);
    let errors: Vec<String> = c.errors().map(|d| format!("{d:?}")).collect();
    c.device
        .unwrap_or_else(|| panic!("{name} does not compile: {errors:#?}"))
}

fn file<'a>(files: &'a [OutputFile], path: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.path == Path::new(path))
        .unwrap_or_else(|| {
            panic!(
                "no {path} in {:?}",
                files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
        .contents
}

fn driver_source(dev: &ir::Device) -> String {
    let files = driver::render(dev);
    file(&files, &format!("driver/{}.rs", dev.name)).to_string()
}

/// The kernel tree's `.rustfmt.toml`, if a tree is at hand:
/// `PCIDEVC_KERNEL_TREE`, else the source tree `cargo xtask guest`
/// provisioned into the cache (`PCIDEVC_CACHE`, `$XDG_CACHE_HOME/pcidevc` or
/// `~/.cache/pcidevc`). `Err` says why there is none.
fn kernel_rustfmt_toml() -> Result<PathBuf, String> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let tree = if let Some(tree) = var("PCIDEVC_KERNEL_TREE") {
        PathBuf::from(tree)
    } else {
        let cache = if let Some(dir) = var("PCIDEVC_CACHE") {
            PathBuf::from(dir)
        } else if let Some(dir) = var("XDG_CACHE_HOME") {
            PathBuf::from(dir).join("pcidevc")
        } else if let Some(home) = var("HOME") {
            PathBuf::from(home).join(".cache/pcidevc")
        } else {
            return Err("no PCIDEVC_KERNEL_TREE, PCIDEVC_CACHE or HOME".into());
        };
        let selected = cache.join("src/linux-source-7.3.selected");
        let version = std::fs::read_to_string(&selected).map_err(|e| {
            format!(
                "no kernel source tree provisioned ({}: {e}; `cargo xtask guest` provisions one)",
                selected.display()
            )
        })?;
        cache.join(format!("src/linux-source-7.3_{}", version.trim()))
    };
    let toml = tree.join(".rustfmt.toml");
    if toml.is_file() {
        Ok(toml)
    } else {
        Err(format!("{} does not exist", toml.display()))
    }
}

/// The driver's files are exactly what rustfmt makes of them, with the
/// kernel's settings: the crate root is checked and rustfmt follows its
/// `mod` declarations into the support modules. On failure, rustfmt's diff.
fn assert_rustfmt_clean(what: &str, files: &[OutputFile], dev: &ir::Device) {
    let dir =
        std::env::temp_dir().join(format!("pcidevc-driver-fmt-{}-{what}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for f in files {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("temp dir");
        std::fs::write(&path, &f.contents).expect("write");
    }
    let mut cmd = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()));
    cmd.args(["--edition", "2021", "--check"]);
    match kernel_rustfmt_toml() {
        Ok(toml) => {
            cmd.arg("--config-path").arg(toml);
        }
        Err(why) => {
            eprintln!(
                "{what}: checking with `--edition 2021` only, not the kernel's .rustfmt.toml: {why}"
            )
        }
    }
    let out = cmd
        .arg(dir.join(format!("driver/{}.rs", dev.name)))
        .stdin(Stdio::null())
        .output()
        .expect("rustfmt (the toolchain's) must be installed for this test");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{what}: the driver is not rustfmt-clean:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A support module of the driver, by name (`pio`), if it has one.
fn support<'a>(files: &'a [OutputFile], name: &str) -> Option<&'a str> {
    let path = format!("driver/{name}.rs");
    files
        .iter()
        .find(|f| f.path == Path::new(&path))
        .map(|f| f.contents.as_str())
}

/// The text of `impl NAME { ... }` (a register's helpers) in `src`.
fn impl_block<'a>(src: &'a str, name: &str) -> &'a str {
    let head = format!("    impl {name} {{\n");
    let start = src
        .find(&head)
        .unwrap_or_else(|| panic!("no helpers for {name}"));
    let end = src[start..].find("\n    }\n").expect("end of impl") + start;
    &src[start..end]
}

/// Every construct the backend handles, in one spec.
const SINK: &str = r#"
device sink {
    description "Every construct the driver backend handles";
    id 0x1af4:0x10f0;
    class 0x00:0x00:0x00;
    state flags: u64 = 0;
    interrupt {
        msi 4;
        level flags != 0;
        status STATUS;
        ack STATUS = (value & 0xff) | ~value + 1;
    }
    dma_buffer 4K;
    bar 0 mem64 prefetchable size 4K {
        register CTRL @ 0x0 : u32 {
            field enable [0] rw = 0;
            field mode [2:1] rw = 0 { off = 0, slow = 1, fast = 2 }
            field speed [4:3] rw { a = 0, b = 1, c = 2, d = 3 }
            field done [8] w1c;
            field go [9] w1s;
        }
        register STATUS @ 0x8 : u64 w1c;
        register ADDR @ 0x10 : u64 rw;
        register DOORBELL @ 0x18 : u32 { on write { flags = value; } }
        register COUNTER @ 0x1c : u16 rclr;
        register WONLY @ 0x20 : u32 wo;
        register EVENTS @ 0x28 : u32 {
            field seen [7:0] w1c;
            field enables [15:8] rw;
        }
    }
    bar 2 io size 32 {
        access 1 2 4;
        invalid ones;
        register PORT @ 0x0 : u8 rw;
        register PORT16 @ 0x2 : u16 rw;
        register PSTAT @ 0x4 : u32 w1c;
    }
    scenario everything "every step kind" {
        read CTRL;
        read STATUS;
        write ADDR = dma.addr + 0x10;
        expect ADDR == dma.addr + 0x10;
        write CTRL = 1;
        expect CTRL == 1 mask 0x1;
        wait CTRL == 1 mask 1;
        wait STATUS == 0;
        write STATUS = 0xffffffffffffffff;
        write bar 0 @ 0x20 : u32 = 5;
        read bar 2 @ 0x1 : u8;
        expect bar 2 @ 0x0 : u8 == 0;
        wait bar 2 @ 0x0 : u8 == 0;
        read bar 0 @ 0x8 : u64;
        invalid read bar 0 @ 0x1 : u16;
        invalid write bar 0 @ 0x2 : u32 = 7;
        fill dma[0 .. 16] = pattern(0xaa);
        expect dma[0 .. 16] == pattern(0xaa);
        fill dma[16 .. 32] = word(0x0102030405060708);
        expect dma[16 .. 32] == word(0x0102030405060708);
        expect dma[32 .. 64] == random(0);
        write DOORBELL = 1;
        expect irq;
        expect no irq;
    }
    scenario second {
        write bar 2 @ 0x4 : u32 = dma.addr;
        write PORT16 = 0x1234;
    }
}
"#;

/// Feature combinations: (name, spec).
fn matrix() -> Vec<(&'static str, String)> {
    let minimal = r#"
device minimal {
    id 0x8086:0x1234;
    class 0xff:0x00:0x00;
    bar 0 mem32 size 16 { register ID @ 0x0 : u32 ro = 1; }
}"#;
    let no_bars = r#"
device no_bars {
    description "Nothing to map";
    id 0x8086:0x1235;
    class 0xff:0x00:0x00;
}"#;
    let msi_only = r#"
device msi_only {
    id 0x1234:0x0002;
    class 0xff:0x00:0x00;
    state st: u32 = 0;
    interrupt { msi 1; level st != 0; status ST; }
    bar 0 mem32 size 4K {
        register ST @ 0x0 : u32 { read st; on write { st = value; } }
    }
    scenario s { write ST = 1; expect irq; }
}"#;
    let intx_io = r#"
device intx_io {
    id 0x1234:0x0003;
    class 0xff:0x00:0x00;
    state st: u8 = 0;
    interrupt { pin D; level st != 0; status ST; ack ST = value ^ 0xff; }
    bar 1 io size 8 {
        access 1;
        register ST @ 0x0 : u8 { read st; on write { st = value; } }
        register R @ 0x1 : u8 rw;
    }
    scenario s { write ST = 1; expect irq; expect no irq; expect R == 0; }
}"#;
    let fill_only = r#"
device fill_only {
    id 0x1234:0x0004;
    class 0xff:0x00:0x00;
    dma_buffer 64;
    bar 0 mem32 size 16 { register R @ 0x0 : u32 rw; }
    scenario s { fill dma[0 .. 8] = random(7); write R = dma.addr; }
}"#;
    // MSI-X and MSI both: probe asks for either, and the vector lines stay rustfmt-clean.
    let msix_msi = r#"
device msix_msi {
    id 0x1234:0x0005;
    class 0xff:0x00:0x00;
    state st: u32 = 0;
    interrupt {
        pin A;
        level st != 0;
        status ST;
        msi 4;
        msix 4 table bar 1 @ 0x0 pba bar 1 @ 0x800;
    }
    bar 0 mem32 size 256 {
        register ST @ 0x4 : u32 { read st; on write { st = value; } }
        register DOORBELL @ 0x0 : u32 wo { on write { msi value & 0x3; } }
    }
    bar 1 mem32 size 4K {}
    scenario s { write DOORBELL = 1; expect msi 1; repeat 2 { write DOORBELL = 0; expect msi 0; } }
}"#;
    vec![
        ("minimal", minimal.to_string()),
        ("no_bars", no_bars.to_string()),
        ("msi_only", msi_only.to_string()),
        ("intx_io", intx_io.to_string()),
        ("fill_only", fill_only.to_string()),
        ("sink", SINK.to_string()),
        ("msix_msi", msix_msi.to_string()),
    ]
}

/// A spec whose names are as long as the layout supports.
fn long_names() -> String {
    let n = driver::SUPPORTED_NAME_LEN;
    let reg = |c: char| c.to_string().repeat(n);
    let dev = format!("d{}", "x".repeat(n - 1));
    let sc = format!("s{}", "y".repeat(n - 1));
    let text = "z".repeat(80);
    format!(
        r#"
device {dev} {{
    description "{text}";
    id 0x1234:0xabcd;
    class 0xff:0x00:0x00;
    state st: u64 = 0;
    interrupt {{ pin A; msi 1; level st != 0; status {a}; ack {b} = ((value + 1) * 3) | ~value; }}
    dma_buffer 1M;
    bar 0 mem64 size 64K {{
        register {a} @ 0x0 : u64 {{ read st; on write {{ st = value; }} }}
        register {b} @ 0x8 : u64 rw;
        register {c} @ 0x10 : u32 {{
            field {f1} [3:0] rw;
            field {f2} [7:4] w1c;
            field {f3} [9:8] rw {{ first_value_name = 0, second_value_name = 1 }}
        }}
    }}
    bar 2 io size 256 {{
        register {d} @ 0xfc : u32 w1s;
    }}
    scenario {sc} "{text}" {{
        write {b} = dma.addr + 0xffffffffff;
        expect {b} == dma.addr + 0xffffffffff mask 0xfffffffffffffff0;
        wait {a} == 0xffffffffffffffff mask 0xfffffffffffffff0;
        wait {c} == 0xffffffff mask 0xfffffff0;
        write {c} = 0xffffffff;
        read {d};
        expect {d} == 0xffffffff;
        fill dma[0xf0000 .. 0x100000] = word(0xffffffffffffffff);
        expect dma[0xf0000 .. 0x100000] == word(0xffffffffffffffff);
        expect irq;
    }}
}}"#,
        a = reg('A'),
        b = reg('B'),
        c = reg('C'),
        d = reg('D'),
        f1 = "f".repeat(n),
        f2 = "g".repeat(n),
        f3 = "h".repeat(n),
    )
}

#[test]
fn every_spec_renders_a_rustfmt_clean_driver() {
    let mut seen = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(specs_dir())
        .expect("specs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcidev"))
        .collect();
    entries.sort();
    for path in entries {
        let dev = compile_path(&path);
        let name = path.file_stem().expect("stem").to_string_lossy();
        assert_rustfmt_clean(&name, &driver::render(&dev), &dev);
        seen += 1;
    }
    assert!(seen >= 1, "no spec found in {}", specs_dir().display());
}

#[test]
fn feature_combinations_render_rustfmt_clean_drivers() {
    for (name, text) in matrix() {
        let dev = compile(name, &text);
        assert_rustfmt_clean(name, &driver::render(&dev), &dev);
    }
}

#[test]
fn long_names_stay_rustfmt_clean() {
    let dev = compile("long", &long_names());
    assert_rustfmt_clean("long", &driver::render(&dev), &dev);
}

/// The same steps inside a top-level `repeat`, a loop four columns deeper.
#[test]
fn long_names_in_a_loop_stay_rustfmt_clean() {
    let text = long_names();
    let open = text.find("    scenario ").expect("scenario");
    let body = open + text[open..].find("{\n").expect("scenario body") + 2;
    let close = text.rfind("    }\n}").expect("end of scenario");
    let looped = format!(
        "{}repeat 2 {{\n{}}}\n{}",
        &text[..body],
        &text[body..close],
        &text[close..]
    );
    let dev = compile("long_loop", &looped);
    let src = driver_source(&dev);
    assert!(src.contains("        for _ in 0..2 {\n"), "no loop:\n{src}");
    assert_rustfmt_clean("long_loop", &driver::render(&dev), &dev);
}

#[test]
fn output_is_deterministic_relative_and_complete() {
    let path = specs_dir().join("hello_tic.pcidev");
    let dev = compile_path(&path);
    let a = driver::render(&dev);
    let b = driver::render(&compile_path(&path));
    assert_eq!(a, b, "same IR, same files");
    let paths: Vec<&Path> = a.iter().map(|f| f.path.as_path()).collect();
    assert_eq!(
        paths,
        [
            Path::new("driver/hello_tic.rs"),
            Path::new("driver/pci_ext.rs"),
            Path::new("driver/pio.rs"),
            Path::new("driver/selftest.rs"),
            Path::new("driver/Kbuild"),
            Path::new("driver/Makefile")
        ]
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .display()
        .to_string();
    for f in &a {
        assert!(f.path.is_relative());
        assert!(
            !f.contents.contains(&root),
            "{} holds an absolute path",
            f.path.display()
        );
        assert!(f.contents.ends_with('\n') && !f.contents.ends_with("\n\n"));
    }
    let generator = format!("pcidevc {} (language 2)", env!("CARGO_PKG_VERSION"));
    for f in ["driver/hello_tic.rs", "driver/Kbuild", "driver/Makefile"] {
        assert!(
            file(&a, f).contains(&format!("Generated by {generator} from hello_tic.pcidev.")),
            "{f} has no header"
        );
    }
    // The support modules are the files of codegen/support/driver/, verbatim
    // but for one line after the licence naming the compiler.
    let support_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("support/driver");
    for name in ["pci_ext", "pio", "selftest"] {
        let want =
            std::fs::read_to_string(support_dir.join(format!("{name}.rs"))).expect("support");
        let want = want.replacen(
            "GPL-2.0\n",
            &format!("GPL-2.0\n// Written by {generator}.\n"),
            1,
        );
        assert_eq!(support(&a, name), Some(want.as_str()), "{name}.rs");
        assert!(want.starts_with("// SPDX-License-Identifier: GPL-2.0\n"));
    }
    assert!(file(&a, "driver/Kbuild").contains("\nobj-m += hello_tic.o\n"));
    let mk = file(&a, "driver/Makefile");
    assert!(mk.contains("KDIR ?= /lib/modules/$(shell uname -r)/build"));
    assert!(
        mk.contains("\tmake -C $(KDIR) M=$(CURDIR) $@")
            || mk.contains("\t$(MAKE) -C $(KDIR) M=$(CURDIR) $@")
    );
    assert!(mk.contains("all: modules") && mk.contains("modules clean:"));
}

#[test]
fn hello_tic_driver_has_the_promised_shape() {
    let dev = compile_path(&specs_dir().join("hello_tic.pcidev"));
    let files = driver::render(&dev);
    let src = driver_source(&dev);
    let has = |s: &str| assert!(src.contains(s), "missing:\n{s}");
    // `t.step(LINE, "TEXT");` of the first step with this text.
    let step = |text: &str| {
        let line = dev
            .scenarios
            .iter()
            .flat_map(|s| &s.steps)
            .find(|s| s.text == text)
            .unwrap_or_else(|| panic!("no step `{text}` in hello_tic"))
            .line;
        format!("        t.step({line}, {text:?});\n")
    };
    // Identity, module, parameter.
    has("[(pci_device_id(0x1337, 0x0001), ())]");
    has("    type: HelloTicDriver,\n    name: \"hello_tic\",\n");
    has("    description: \"PCI Hello World\",\n    license: \"GPL v2\",\n");
    has("        selftest: bool {\n            default: true,");
    // BARs: the I/O one through the port-I/O backend, sizes from the spec.
    has("mod pci_ext;\nmod pio;\nmod selftest;\n");
    assert!(support(&files, "pio").is_some_and(|pio| pio.contains("pub(crate) struct PortIo")));
    has(
        "const BAR0_SIZE: usize = 16;\n/// BAR 0: port I/O, through [`PortIo`].\ntype Bar0<'a> = PortIo<'a, BAR0_SIZE>;",
    );
    has(
        "const BAR1_SIZE: usize = 64;\n/// BAR 1: memory-mapped I/O.\ntype Bar1<'a> = pci::Bar<'a, BAR1_SIZE>;",
    );
    has("        pub(super) DMA_ADDR(u32) @ 0x8 {\n            31:0 value;\n        }");
    has(
        "                bar0: PortIo::new(pdev, &enable, 0, NAME)?,\n                bar1: map_memory_bar(pdev, 1, NAME)?,",
    );
    // Access helpers: no write for the read-only DMA_STATUS, triggers for action registers.
    let dma_status = impl_block(&src, "DMA_STATUS");
    assert!(dma_status.contains("        pub(super) fn read(io: &Bar0<'_>) -> Self {"));
    assert!(!dma_status.contains("fn write"), "{dma_status}");
    let dma_start = impl_block(&src, "DMA_START");
    assert!(dma_start.contains("        pub(super) fn trigger(self, io: &Bar0<'_>) {"));
    assert!(!dma_start.contains("fn read"), "reads 0: no read helper");
    assert!(impl_block(&src, "ID").contains("        pub(super) fn write(self, io: &Bar1<'_>) {"));
    // Probe: DMA, bus mastering, INTx only (no MSI declared).
    has("            pdev.set_master();");
    has("unsafe { pdev.dma_set_mask_and_coherent(DmaMask::new::<32>())? };");
    has("Coherent::<u8>::zeroed_slice(pdev.as_ref(), DMA_BUFFER_LEN, GFP_KERNEL)?;");
    has("const DMA_BUFFER_LEN: usize = 0x20000;");
    has("            let types = pci::IrqTypes::default().with(pci::IrqType::Intx);");
    // Handler: status IRQ (read once into r0), 0 is not ours, ack IRQ = 0.
    has("        let r0 = io0.read(bar0::IRQ);\n        let r0 = u64::from(r0.into_raw());\n");
    has("        if r0 == 0x0 {\n            return IrqReturn::None;\n        }");
    has(
        "        let ack = bar0::IRQ::from_raw(0x0);\n        io0.write_reg(ack);\n        self.count.fetch_add(1, Relaxed);",
    );
    // Steps, as the module docs map them.
    let step_has = |text: &str, code: &str| has(&format!("{}{code}", step(text)));
    step_has(
        "expect ID == 0x1337;",
        "        t.check_reg(Ok(io1.read(bar1::ID)), 0x1337, u64::MAX);",
    );
    step_has(
        "write ID = 0x4567;",
        "        io1.write_reg(bar1::ID::from_raw(0x4567));\n        t.pass();",
    );
    step_has(
        "invalid write bar 0 @ 0x0 : u8 = 1;",
        "        t.done(io0.try_write8(0x1, 0x0));",
    );
    step_has(
        "expect no irq;",
        "        t.expect_no_irq(|| self.irq_count());",
    );
    step_has("expect irq;", "        t.expect_irq(|| self.irq_count());");
    step_has(
        "write DMA_ADDR = dma.addr;",
        "        if let Some(raw) = t.fits(self.dma_plus(0x0)) {\n            let v = bar0::DMA_ADDR::from_raw(raw);",
    );
    has(
        "        let data = DmaContents::Random(0x5eed);\n        t.expect_dma(&self.dma, 0x0, 0x1ffff, data);",
    );
    // The log lines and the verdict the harness parses.
    has("        self.scenario_dma_to_buffer(&mut t);\n        t.verdict();\n");
    let selftest = support(&files, "selftest").expect("selftest.rs");
    for line in [
        "\"selftest: {}: step {} (line {}): {}: ok\\n\"",
        "\"selftest: {}: step {} (line {}): {}: FAIL: {}\\n\"",
        "pr_info!(\"selftest: {}/{} passed\\n\", self.passed, self.total);",
    ] {
        assert!(selftest.contains(line), "selftest.rs lacks {line}");
    }
    // Teardown order: irq, vectors, bars, enable, dma.
    let order: Vec<usize> = [
        "    irq: irq::Registration",
        "    vectors: ",
        "    bars: Bars",
        "    _enable: ",
        "    dma: Coherent",
    ]
    .iter()
    .map(|f| src.find(f).unwrap_or_else(|| panic!("no field {f}")))
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "field order {order:?}"
    );
}

#[test]
fn unsafe_only_with_safety_comments_and_no_unimplemented_paths() {
    let mut devices: Vec<(String, ir::Device)> = matrix()
        .into_iter()
        .map(|(n, t)| (n.to_string(), compile(n, &t)))
        .collect();
    for spec in ["hello_tic", "edu", "pci_testdev"] {
        let dev = compile_path(&specs_dir().join(format!("{spec}.pcidev")));
        devices.push((spec.to_string(), dev));
    }
    for (name, dev) in &devices {
        let files = driver::render(dev);
        for f in files
            .iter()
            .filter(|f| f.path.extension().is_some_and(|e| e == "rs"))
        {
            let src = &f.contents;
            let at = format!("{name}: {}", f.path.display());
            for bad in [
                "todo!",
                "unimplemented!",
                "unreachable!",
                ".unwrap()",
                ".expect(",
            ] {
                assert!(!src.contains(bad), "{at}: contains {bad}");
            }
            let lines: Vec<&str> = src.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                if l.contains("unsafe {") || l.trim_start().starts_with("unsafe impl") {
                    // clippy's rule: a `// SAFETY:` comment block right above
                    // (above the `let` the block is the initializer of).
                    let mut j = i;
                    if j > 0 && lines[j - 1].trim_start().starts_with("let ") {
                        j -= 1;
                    }
                    let mut found = false;
                    while j > 0 {
                        j -= 1;
                        let t = lines[j].trim_start();
                        if t.starts_with("// SAFETY:") {
                            found = true;
                            break;
                        }
                        if !t.starts_with("//") {
                            break;
                        }
                    }
                    assert!(found, "{at}: line {}: unsafe without SAFETY: {l}", i + 1);
                }
            }
        }
        let src = driver_source(dev);
        assert!(
            src.contains("pcidevc: extension point"),
            "{name}: no extension point"
        );
        // Support modules: declared iff written, and only when needed.
        let io_bar = dev.bars.iter().any(|b| b.kind == ir::BarKind::Io);
        let steps = dev.scenarios.iter().any(|s| !s.steps.is_empty());
        for (module, needed) in [("pci_ext", true), ("pio", io_bar), ("selftest", steps)] {
            let declared = src.contains(&format!("\nmod {module};\n"));
            assert_eq!(declared, needed, "{name}: `mod {module};`");
            assert_eq!(
                support(&files, module).is_some(),
                needed,
                "{name}: {module}.rs"
            );
        }
    }
}

#[test]
fn interrupt_and_bus_master_follow_the_spec() {
    let src = |n: &str| {
        let (_, t) = matrix()
            .into_iter()
            .find(|(m, _)| *m == n)
            .expect("matrix entry");
        driver_source(&compile(n, &t))
    };
    let msi = src("msi_only");
    assert!(msi.contains("let types = pci::IrqTypes::default().with(pci::IrqType::Msi);"));
    assert!(
        msi.contains("pdev.set_master();"),
        "MSI needs bus mastering"
    );
    assert!(msi.contains("// The spec declares no `ack`"));
    let intx = src("intx_io");
    assert!(intx.contains("let types = pci::IrqTypes::default().with(pci::IrqType::Intx);"));
    assert!(!intx.contains("set_master"));
    assert!(intx.contains("let ack: u64 = r0 ^ 0xff;"));
    assert!(intx.contains("let ack = bar1::ST::from_raw(ack as u8);"));
    assert!(intx.contains("let enable = PciEnable::new(pdev)?;"));
    let sink = src("sink");
    assert!(sink.contains(
        "            let types = pci::IrqTypes::default()\n                .with(pci::IrqType::Msi)\n                .with(pci::IrqType::Intx);"
    ) || sink.contains("with(pci::IrqType::Msi);"));
    assert!(sink.contains("let Ok(r0) = io0.try_read(bar0::STATUS) else {"));
    assert!(sink.contains("let _ = io0.try_write_reg(ack);"));
    let minimal = src("minimal");
    assert!(!minimal.contains("irq::Registration") && !minimal.contains("set_master"));
    assert!(minimal.contains("pdev.enable_device_mem()?;"));
    assert!(minimal.contains("pr_info!(\"selftest: 0/0 passed\\n\");"));
    let none = src("no_bars");
    assert!(!none.contains("struct Bars"));
}

#[test]
fn access_helpers_follow_access_kinds() {
    let sink = driver_source(&compile("sink", SINK));
    let has = |s: &str| assert!(sink.contains(s), "missing:\n{s}");
    // Field enums: total (every value named) converts infallibly.
    has("            2:1 mode ?=> Mode;");
    has("            4:3 speed => Speed;");
    has("    impl TryFrom<Bounded<u32, 2>> for Mode {");
    has("    impl From<Bounded<u32, 2>> for Speed {");
    // w1c / w1s fields, the rw ones kept by a read-modify-write.
    let ctrl = impl_block(&sink, "CTRL");
    for line in [
        "        pub(super) fn clear_done(io: &Bar0<'_>) {",
        "        pub(super) fn set_go(io: &Bar0<'_>) {",
        "            let keep = Self::read(io).into_raw() & 0x1f;",
        "            let value = Self::from_raw(keep | 0x100);",
    ] {
        assert!(ctrl.contains(line), "CTRL lacks\n{line}\nin\n{ctrl}");
    }
    // Whole-register w1c on a 64-bit memory register: run-time checked.
    let status = impl_block(&sink, "STATUS");
    assert!(status.contains("        pub(super) fn clear(io: &Bar0<'_>) -> Result {"));
    assert!(status.contains("        pub(super) fn read(io: &Bar0<'_>) -> Result<Self> {"));
    assert!(status.contains("            io.try_read(STATUS)"));
    assert!(!status.contains("fn write("), "w1c only: no plain write");
    // Write-only: write, no read; read-clear: read, no write; trigger for actions.
    let wonly = impl_block(&sink, "WONLY");
    assert!(wonly.contains("        pub(super) fn write(self, io: &Bar0<'_>) {"));
    assert!(!wonly.contains("fn read("));
    let counter = impl_block(&sink, "COUNTER");
    assert!(counter.contains("        pub(super) fn read(io: &Bar0<'_>) -> Self {"));
    assert!(!counter.contains("fn write("));
    let doorbell = impl_block(&sink, "DOORBELL");
    assert!(doorbell.contains("        pub(super) fn trigger(self, io: &Bar0<'_>) {"));
    // Misaligned raw accesses are reported, not issued.
    has("t.skip(\"Linux I/O accessors cannot issue misaligned accesses\");");
}

/// The `DmaContents` / `DmaBytes` code of the driver's `selftest.rs`,
/// compiled and run on the host, against the runtime's generators.
#[test]
fn generated_dma_data_matches_the_runtime() {
    let files = driver::render(&compile("sink", SINK));
    let src = support(&files, "selftest").expect("selftest.rs");
    let start = src.find("/// Scenario data for").expect("DmaContents");
    let end_marker = "        Some(byte)\n    }\n}\n";
    let end = src[start..].find(end_marker).expect("end of DmaBytes") + start + end_marker.len();
    let generated = &src[start..end];
    let cases: [(&str, Vec<u8>); 5] = [
        (
            "DmaContents::Random(0x5eed)",
            pcidev_runtime::random_bytes(0x5eed, 1031),
        ),
        (
            "DmaContents::Random(0)",
            pcidev_runtime::random_bytes(0, 1031),
        ),
        (
            "DmaContents::Random(1)",
            pcidev_runtime::random_bytes(1, 1031),
        ),
        (
            "DmaContents::Pattern(0xaa)",
            pcidev_runtime::pattern_bytes(0xaa, 1031),
        ),
        (
            "DmaContents::Word(0x0102030405060708)",
            (0..1031)
                .map(|i| 0x0102030405060708u64.to_le_bytes()[i % 8])
                .collect(),
        ),
    ];
    let mut program = format!("#![allow(dead_code)]\n{generated}\nfn main() {{\n");
    for (expr, _) in &cases {
        program.push_str(&format!(
            "    let v: Vec<String> = DmaBytes::new({expr}).take(1031).map(|b| b.to_string()).collect();\n    println!(\"{{}}\", v.join(\" \"));\n"
        ));
    }
    program.push_str("}\n");
    let dir = std::env::temp_dir().join(format!("pcidevc-driver-dma-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let main = dir.join("main.rs");
    std::fs::write(&main, program).expect("write program");
    let exe = dir.join("dma");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args(["--edition", "2021", "-O", "-o"])
        .arg(&exe)
        .arg(&main)
        .output()
        .expect("rustc runs");
    assert!(
        out.status.success(),
        "rustc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().expect("program runs");
    let text = String::from_utf8(run.stdout).expect("utf-8");
    let _ = std::fs::remove_dir_all(&dir);
    for ((expr, want), line) in cases.iter().zip(text.lines()) {
        let got: Vec<u8> = line.split(' ').map(|b| b.parse().expect("byte")).collect();
        assert_eq!(&got, want, "{expr}");
    }
    assert_eq!(text.lines().count(), cases.len());
}

/// Register names of a driver: those with a `register!` type (`NAME(uN)`
/// entries) and those declared as offsets (`const NAME: usize`).
fn typed_and_offsets(src: &str) -> (Vec<String>, Vec<String>) {
    let mut typed = Vec::new();
    let mut offsets = Vec::new();
    for line in src.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("pub(super) ")
            && let Some((name, _)) = rest.split_once("(u")
            && rest.contains(" @ ")
        {
            typed.push(name.to_string());
        }
        if let Some(rest) = line.strip_prefix("pub(crate) const ")
            && let Some((name, _)) = rest.split_once(": usize")
        {
            offsets.push(name.to_string());
        }
    }
    (typed, offsets)
}

/// The `barK::NAME` registers the driver's code outside the BAR modules
/// names (steps, handler).
fn named_in_code(src: &str) -> std::collections::BTreeSet<String> {
    let code = &src[src.find("/// The device's mapped BARs.").expect("Bars")..];
    let mut named = std::collections::BTreeSet::new();
    for (i, _) in code.match_indices("::") {
        let before = &code[..i];
        let bar = before.rsplit(|c: char| !c.is_ascii_alphanumeric()).next();
        if !bar.is_some_and(|b| b.starts_with("bar") && b[3..].parse::<u8>().is_ok()) {
            continue;
        }
        let after = &code[i + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if after[..end] != *"offsets" {
            named.insert(after[..end].to_string());
        }
    }
    named
}

#[test]
fn a_big_bar_types_only_the_registers_the_driver_names() {
    // 1,200 registers over three BARs (400 each, more than 256); the scenario
    // names every 40th, the handler R0.
    let text = pcidevc_dsl::synthetic::spec(1200);
    let dev = compile("synthetic.pcidev", &text);
    let files = driver::render(&dev);
    let src = file(&files, "driver/synthetic_1200.rs");
    let (typed, offsets) = typed_and_offsets(src);
    let named = named_in_code(src);
    let mut all: Vec<&String> = typed.iter().chain(&offsets).collect();
    all.sort_by_key(|n| n[1..].parse::<usize>().unwrap_or(usize::MAX));
    let want: Vec<String> = (0..1200).map(|i| format!("R{i}")).collect();
    assert_eq!(
        all.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        want,
        "every register declared once"
    );
    let typed_set: std::collections::BTreeSet<String> = typed.iter().cloned().collect();
    assert_eq!(typed_set, named, "typed = the registers the code names");
    assert!(typed.len() < 100 && offsets.len() > 1100, "{}", typed.len());
    assert!(
        src.contains("pub(crate) const R4: usize = 0x20;"),
        "offsets"
    );
    let flat = src.replace("\n        /// ", " ");
    assert!(
        flat.contains("Fields: `ev` 16 (w1c), `lvl` 15:8 (ro), `mode` 3:1 (rw), `en` 0 (rw)."),
        "an offset's doc lists its fields"
    );
    assert_rustfmt_clean("big_bar", &files, &dev);

    // Without the scenario only R0 (the handler's status) is named: BARs 2
    // and 4 have no typed register, so no `register!` block and no
    // `use super::*` there.
    let head = text.split("    scenario smoke").next().expect("text");
    let dev = compile("untyped.pcidev", &format!("{head}}}\n"));
    let files = driver::render(&dev);
    let src = file(&files, "driver/synthetic_1200.rs");
    let (typed, offsets) = typed_and_offsets(src);
    assert_eq!(typed, ["R0"]);
    assert_eq!(offsets.len(), 1199);
    assert_eq!(src.matches("register! {").count(), 1, "BAR 0's only");
    assert_eq!(src.matches("use super::*;").count(), 1, "BAR 0's only");
    // Nothing reads BARs 2 and 4 but the author's code: their fields say so
    // (else rustc warns that they are never read).
    let allow = "    #[allow(dead_code, reason = \"kept mapped for the driver author's code\")]\n";
    for (bar, unread) in [(0, false), (2, true), (4, true)] {
        let field = format!("{allow}    bar{bar}: Bar{bar}<'a>,");
        assert_eq!(src.contains(&field), unread, "BAR {bar}");
    }
    assert_rustfmt_clean("big_bar_untyped", &files, &dev);
}

#[test]
fn bars_up_to_256_registers_are_fully_typed() {
    // 768 registers: 256 per BAR.
    let dev = compile("s.pcidev", &pcidevc_dsl::synthetic::spec(768));
    let src = driver_source(&dev);
    let (typed, offsets) = typed_and_offsets(&src);
    assert_eq!((typed.len(), offsets.len()), (768, 0));
    assert!(!src.contains("mod offsets"));
    // One more, and BAR 0 (257 registers) is big.
    let dev = compile("s.pcidev", &pcidevc_dsl::synthetic::spec(771));
    let (typed, offsets) = typed_and_offsets(&driver_source(&dev));
    assert_eq!(typed.len() + offsets.len(), 771);
    assert!(offsets.len() > 700, "{}", offsets.len());
}

#[test]
fn a_long_scenario_is_rendered_in_parts() {
    // 4,000 registers: the scenario has 300 steps (three on every 40th).
    let dev = compile("s.pcidev", &pcidevc_dsl::synthetic::spec(4000));
    let files = driver::render(&dev);
    let src = file(&files, "driver/synthetic_4000.rs");
    let body = impl_fn(src, "scenario_smoke");
    assert!(
        body.contains(
            "self.scenario_smoke_part1(t);\n        self.scenario_smoke_part2(t);\n    }"
        ),
        "{body}"
    );
    let part1 = impl_fn(src, "scenario_smoke_part1");
    let part2 = impl_fn(src, "scenario_smoke_part2");
    assert_eq!(part1.matches("t.step(").count(), 256);
    assert_eq!(part2.matches("t.step(").count(), 300 - 256);
    assert!(part2.contains("let io4 = &self.bars.bar4;") && !part2.contains("let io0"));
    assert_rustfmt_clean("long_scenario", &files, &dev);
}

/// The text of `fn NAME(` up to its closing brace at method indentation.
fn impl_fn<'a>(src: &'a str, name: &str) -> &'a str {
    let head = format!("    fn {name}(");
    let start = src.find(&head).unwrap_or_else(|| panic!("no fn {name}"));
    let end = src[start..].find("\n    }\n").expect("end of fn") + start;
    &src[start..end + 6]
}
