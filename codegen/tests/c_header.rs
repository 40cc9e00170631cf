//! The C header, compiled and run: for every spec in `specs/` and the front
//! end's valid corpus, generate `<device>.h` and a C program that checks
//! every offset, width, mask, shift, reset value, named value, BAR size and
//! id against the IR (the expected values are written into the program by
//! this test, from the IR and the header's documented naming convention,
//! not from the header generator's own tables). The program is built as C
//! (`gcc -std=c11`) and as C++ (`g++ -std=c++17`), both with
//! `-Wall -Wextra -Werror -pedantic`, and run.
//!
//! Skipped, with the reason printed, only when gcc or g++ is missing.

use pcidevc_dsl::ir::{Device, low_mask};
use std::fmt::Write;
use std::process::Command;

mod common;
use common::specs;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// (name, expected value) of every fact the header must define, named by
/// the convention in `c_header`'s module docs.
fn expectations(dev: &Device) -> Vec<(String, u64)> {
    let p = dev.name.to_ascii_uppercase();
    let [b, s, i] = dev.class_code;
    let mut v = vec![
        (format!("{p}_VENDOR_ID"), u64::from(dev.vendor_id)),
        (format!("{p}_DEVICE_ID"), u64::from(dev.device_id)),
        (format!("{p}_REVISION"), u64::from(dev.revision)),
        (
            format!("{p}_CLASS"),
            (u64::from(b) << 16) | (u64::from(s) << 8) | u64::from(i),
        ),
        (
            format!("{p}_SUBSYSTEM_VENDOR_ID"),
            u64::from(dev.subsystem_vendor_id),
        ),
        (format!("{p}_SUBSYSTEM_ID"), u64::from(dev.subsystem_id)),
        (
            format!("{p}_INTX_PIN"),
            dev.interrupt
                .pin
                .map_or(0, |pin| u64::from(pin.register_value())),
        ),
        (
            format!("{p}_MSI_VECTORS"),
            dev.interrupt.msi_vectors.map_or(0, u64::from),
        ),
    ];
    if let Some(n) = dev.dma_buffer {
        v.push((format!("{p}_DMA_BUFFER_SIZE"), n));
        v.push((format!("{p}_DMA_MASK_BITS"), u64::from(dev.dma_mask_bits)));
    }
    for bar in &dev.bars {
        let bp = format!("{p}_BAR{}", bar.index);
        v.push((format!("{bp}_SIZE"), bar.size));
        v.push((format!("{bp}_ACCESS_SIZES"), u64::from(bar.policy.sizes.0)));
        for &r in &bar.registers {
            let reg = dev.register(r);
            // An array is one macro `NAME(i)`: every element's offset is
            // checked through it, the rest once, at element 0.
            let rp = format!("{bp}_{}", reg.item_name());
            match &reg.array {
                Some(a) => {
                    v.push((format!("{rp}({})", a.index), reg.offset));
                    if a.index > 0 {
                        continue;
                    }
                    v.push((format!("{rp}_COUNT"), a.count));
                }
                None => v.push((rp.clone(), reg.offset)),
            }
            v.push((format!("{rp}_WIDTH"), u64::from(reg.width)));
            if reg.has_storage() {
                v.push((format!("{rp}_RESET"), reg.reset));
            }
            for f in reg.fields.iter().filter(|f| !f.implicit) {
                let fp = format!("{rp}_{}", f.name.to_ascii_uppercase());
                v.push((format!("{fp}_SHIFT"), u64::from(f.lo)));
                v.push((format!("{fp}_MASK"), low_mask(f.hi - f.lo + 1) << f.lo));
                v.push((format!("{fp}_RESET"), f.reset));
                for (n, val) in &f.variants {
                    v.push((format!("{fp}_{}", n.to_ascii_uppercase()), *val));
                }
            }
        }
        for w in &bar.windows {
            let wp = format!(
                "{bp}_{}_WINDOW",
                dev.state(w.state).name.to_ascii_uppercase()
            );
            v.push((wp.clone(), w.offset));
            v.push((format!("{wp}_SIZE"), w.len));
        }
    }
    v
}

/// A program (valid C11 and C++17) that checks every expectation.
fn program(header: &str, checks: &[(String, u64)]) -> String {
    let mut s = format!(
        "#include \"{header}\"\n#include \"{header}\" /* twice: include guard */\n\
         #include <stdio.h>\n\n\
         static int failures;\n\n\
         static void check(const char *name, unsigned long long got, unsigned long long want)\n\
         {{\n\tif (got != want) {{\n\t\tprintf(\"%s = %#llx, expected %#llx\\n\", name, got, want);\n\
         \t\tfailures++;\n\t}}\n}}\n\n\
         int main(void)\n{{\n"
    );
    for (name, value) in checks {
        let _ = writeln!(s, "\tcheck(\"{name}\", {name}, {value:#x}ULL);");
    }
    let _ = writeln!(
        s,
        "\tprintf(\"{} checks, %d failed\\n\", failures);\n\treturn failures != 0;\n}}",
        checks.len()
    );
    s
}

#[test]
fn every_header_compiles_as_c_and_cpp_and_matches_the_ir() {
    let (gcc, gxx) = (have("gcc"), have("g++"));
    if !gcc || !gxx {
        println!(
            "skipped: gcc {} and g++ {} (both are needed to compile the headers)",
            if gcc { "found" } else { "missing" },
            if gxx { "found" } else { "missing" }
        );
        return;
    }
    let work = std::env::temp_dir().join(format!("pcidevc-c-header-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("temp dir");
    let mut total = 0;
    for spec in specs() {
        let c = pcidevc_dsl::compile_file(&spec);
        let dev = c
            .device
            .unwrap_or_else(|| panic!("{} does not compile", spec.display()));
        let header = pcidevc_codegen::c_header::render(&dev);
        let hname = header.path.display().to_string();
        assert!(
            !header.contents.contains("__"),
            "{}: no name needed disambiguation, so none has a double underscore",
            spec.display()
        );
        std::fs::write(work.join(&hname), &header.contents).expect("write header");
        let checks = expectations(&dev);
        total += checks.len();
        let src = work.join(format!("{}_test.c", dev.name));
        std::fs::write(&src, program(&hname, &checks)).expect("write program");
        for (compiler, std, exe) in [
            ("gcc", "-std=c11", format!("{}_c", dev.name)),
            ("g++", "-std=c++17", format!("{}_cpp", dev.name)),
        ] {
            let exe = work.join(exe);
            let mut cmd = Command::new(compiler);
            if compiler == "g++" {
                cmd.args(["-x", "c++"]);
            }
            let out = cmd
                .args([std, "-Wall", "-Wextra", "-Werror", "-pedantic", "-o"])
                .arg(&exe)
                .arg(&src)
                .output()
                .expect("run the compiler");
            assert!(
                out.status.success(),
                "{compiler} {std} on {}'s header failed:\n{}\n{}",
                dev.name,
                String::from_utf8_lossy(&out.stderr),
                header.contents
            );
            let run = Command::new(&exe).output().expect("run the test program");
            let stdout = String::from_utf8_lossy(&run.stdout);
            assert!(run.status.success(), "{} ({compiler}): {stdout}", dev.name);
            assert!(
                stdout.contains(&format!("{} checks, 0 failed", checks.len())),
                "{stdout}"
            );
        }
    }
    println!("{total} header values checked as C and C++");
    let _ = std::fs::remove_dir_all(&work);
}
