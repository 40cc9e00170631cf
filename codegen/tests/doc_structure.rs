//! The HTML page and the Markdown file describe the same registers as the
//! IR: for every spec and the valid corpus, both are parsed back (register
//! map rows, register sections with their BAR, offset and width, field
//! tables with bits and access kinds, one diagram per register) and
//! compared with the IR — not with a snapshot.

use pcidevc_dsl::ir::Device;
use std::path::Path;

mod common;
use common::specs;

/// One register as a document shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reg {
    /// The BAR, or `None` for configuration space.
    bar: Option<u8>,
    name: String,
    offset: u64,
    bits: u32,
    /// (name, hi, lo, access) of the declared fields, most significant first.
    fields: Vec<(String, u32, u32, String)>,
}

fn from_ir(dev: &Device) -> Vec<Reg> {
    let mut out = Vec::new();
    let spaces = dev
        .bars
        .iter()
        .map(|b| (Some(b.index), &b.registers))
        .chain(std::iter::once((None, &dev.config_registers)));
    for (bar, registers) in spaces {
        for &r in registers {
            let reg = dev.register(r);
            // An array is documented once, as `NAME[0..N]`.
            if reg.is_array_tail() {
                continue;
            }
            let mut fields: Vec<(String, u32, u32, String)> = reg
                .fields
                .iter()
                .filter(|f| !f.implicit)
                .map(|f| (f.name.clone(), f.hi, f.lo, f.access.keyword().to_string()))
                .collect();
            fields.sort_by_key(|f| std::cmp::Reverse(f.2));
            out.push(Reg {
                bar,
                name: match &reg.array {
                    Some(a) => format!("{}[0..{}]", a.array, a.count),
                    None => reg.name.clone(),
                },
                offset: reg.offset,
                bits: reg.bits(),
                fields,
            });
        }
    }
    out
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// `BAR 1 + 0x4 · u32 · ...` -> (Some(1), 4, 32); `Configuration space +
/// 0x60 · u16 · ...` -> (None, 0x60, 16).
fn place(line: &str) -> (Option<u8>, u64, u32) {
    let line = line.trim();
    let (bar, rest) = match line.strip_prefix("Configuration space + ") {
        Some(rest) => (None, rest),
        None => {
            let rest = line.strip_prefix("BAR ").expect("BAR n + offset line");
            let (bar, rest) = rest.split_once(" + ").expect("+");
            (Some(bar.parse().expect("bar")), rest)
        }
    };
    let mut parts = rest.split(" · ");
    let offset = hex(parts.next().expect("offset"));
    let bits = parts
        .next()
        .and_then(|w| w.trim().strip_prefix('u'))
        .expect("width")
        .parse()
        .expect("bits");
    (bar, offset, bits)
}

/// `[7:4]` -> (7, 4), `[3]` -> (3, 3).
fn bits(s: &str) -> (u32, u32) {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    match inner.split_once(':') {
        Some((h, l)) => (h.parse().expect("hi"), l.parse().expect("lo")),
        None => {
            let b = inner.parse().expect("bit");
            (b, b)
        }
    }
}

/// Text between `open` and the next `close` after `from`.
fn between<'a>(s: &'a str, from: usize, open: &str, close: &str) -> Option<(&'a str, usize)> {
    let a = s[from..].find(open)? + from + open.len();
    let b = s[a..].find(close)? + a;
    Some((&s[a..b], b + close.len()))
}

fn html_cells(row: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut at = 0;
    while let Some((c, next)) = between(row, at, "<td>", "</td>") {
        // Strip tags (links, code) to the text.
        let mut text = String::new();
        let mut in_tag = false;
        for ch in c.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        cells.push(text);
        at = next;
    }
    cells
}

fn parse_html(html: &str) -> (Vec<Reg>, Vec<(u64, String)>, usize) {
    let mut regs = Vec::new();
    let mut at = 0;
    while let Some(start) = html[at..].find("<section class=\"reg\"").map(|i| i + at) {
        let end = html[start..].find("</section>").expect("section end") + start;
        let sec = &html[start..end];
        // The heading's text (`NAME`, or `NAME[0..N]` for an array, whose
        // anchor is `r-NAME`).
        let (_, after) = between(sec, 0, "<h3><a href=\"#r-", "\">").expect("heading");
        let (name, _) = between(sec, after, "", "</a>").expect("heading text");
        let (small, _) = between(sec, 0, "<small>", "</small>").expect("place");
        let (bar, offset, bits_) = place(small);
        let mut fields = Vec::new();
        if let Some(t) = sec.find("<table class=\"fl\">") {
            let table = &sec[t..sec[t..].find("</table>").expect("table end") + t];
            for row in table.split("<tr>").skip(2) {
                let c = html_cells(row);
                let (hi, lo) = bits(&c[0]);
                fields.push((c[1].clone(), hi, lo, c[2].clone()));
            }
        }
        regs.push(Reg {
            bar,
            name: name.to_string(),
            offset,
            bits: bits_,
            fields,
        });
        at = end;
    }
    let mut map = Vec::new();
    for row in html.split("<tr data-k=").skip(1) {
        let row = &row[..row.find("</tr>").expect("row end")];
        let c = html_cells(row);
        map.push((hex(&c[0]), c[1].clone()));
    }
    let diagrams = html.matches("<svg class=\"bf\"").count();
    (regs, map, diagrams)
}

/// Markdown table cells of a `| a | b |` line (escaped pipes kept inside).
fn md_cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = vec![String::new()];
    let mut prev = ' ';
    for ch in inner.chars() {
        if ch == '|' && prev != '\\' {
            cells.push(String::new());
        } else if let Some(c) = cells.last_mut() {
            c.push(ch);
        }
        prev = ch;
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

fn unmd(s: &str) -> String {
    s.replace('\\', "").trim_matches('`').to_string()
}

fn parse_md(md: &str) -> (Vec<Reg>, Vec<(u64, String)>) {
    let lines: Vec<&str> = md.lines().collect();
    let mut regs = Vec::new();
    let mut map = Vec::new();
    let mut i = 0;
    let mut in_map = false;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with("| offset | register |") {
            in_map = true;
            i += 2;
            continue;
        }
        if in_map {
            if l.starts_with('|') {
                let c = md_cells(l);
                // [NAME](#r-NAME), or [NAME[0..N]](#r-NAME) for an array
                let name = c[1]
                    .strip_prefix('[')
                    .and_then(|t| t.rsplit_once("](#"))
                    .map(|(text, _)| text)
                    .expect("link text");
                map.push((hex(&c[0]), unmd(name)));
                i += 1;
                continue;
            }
            in_map = false;
        }
        if let Some(name) = l.strip_prefix("### ")
            && lines
                .get(i - 1)
                .is_some_and(|p| p.starts_with("<a id=\"r-"))
        {
            let (bar, offset, bits_) = place(lines[i + 2]);
            let mut fields = Vec::new();
            let mut j = i + 3;
            while j < lines.len()
                && !lines[j].starts_with("### ")
                && !lines[j].starts_with("<a id=")
            {
                if lines[j].starts_with("| bits | field |") {
                    j += 2;
                    while j < lines.len() && lines[j].starts_with('|') {
                        let c = md_cells(lines[j]);
                        let (hi, lo) = bits(&c[0]);
                        fields.push((unmd(&c[1]), hi, lo, c[2].clone()));
                        j += 1;
                    }
                    break;
                }
                j += 1;
            }
            regs.push(Reg {
                bar,
                name: unmd(name),
                offset,
                bits: bits_,
                fields,
            });
        }
        i += 1;
    }
    (regs, map)
}

#[test]
fn html_and_markdown_show_the_irs_registers() {
    let mut checked = 0;
    for spec in specs() {
        let c = pcidevc_dsl::compile_file(&spec);
        let dev = c
            .device
            .unwrap_or_else(|| panic!("{} does not compile", spec.display()));
        let files = pcidevc_codegen::doc::render(&dev);
        let html = &files[0].contents;
        let md = &files[1].contents;
        let want = from_ir(&dev);
        let want_map: Vec<(u64, String)> =
            want.iter().map(|r| (r.offset, r.name.clone())).collect();

        let (h_regs, h_map, diagrams) = parse_html(html);
        assert_eq!(h_regs, want, "{}: HTML register sections", spec.display());
        assert_eq!(h_map, want_map, "{}: HTML register maps", spec.display());
        assert_eq!(diagrams, want.len(), "{}: one diagram each", spec.display());

        let (m_regs, m_map) = parse_md(md);
        assert_eq!(
            m_regs,
            want,
            "{}: Markdown register sections",
            spec.display()
        );
        assert_eq!(
            m_map,
            want_map,
            "{}: Markdown register maps",
            spec.display()
        );
        // Every register's diagram is in the Markdown too (a text block
        // right after its place line).
        assert_eq!(
            md.matches("```text\n").count()
                - dev
                    .registers
                    .iter()
                    .filter(|r| !r.is_array_tail())
                    .filter(|r| !r.on_read.is_empty() || !r.on_write.is_empty())
                    .count(),
            want.len(),
            "{}: one ASCII diagram per register",
            spec.display()
        );
        checked += want.len();
    }
    assert!(checked > 100, "{checked} registers checked");
}

#[test]
fn the_parsers_notice_a_missing_register() {
    let c = pcidevc_dsl::compile_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/hello_tic.pcidev"),
    );
    let dev = c.device.expect("hello_tic compiles");
    let files = pcidevc_codegen::doc::render(&dev);
    let html = files[0]
        .contents
        .replacen("<section class=\"reg\"", "<div class=\"gone\"", 1);
    let (regs, _, _) = parse_html(&html);
    assert_ne!(regs, from_ir(&dev));
    let md = files[1].contents.replacen("### IRQ\n", "### IRQ_X\n", 1);
    let (regs, _) = parse_md(&md);
    assert_ne!(regs, from_ir(&dev));
}
