//! The invalid corpus: every `tests/invalid/*.pcidev` is a small spec with
//! one intended problem (or a deliberate few), and states in header lines
//! exactly the diagnostics it must produce:
//!
//! ```text
//! // expect: CODE [FILE:]LINE:COL MESSAGE-SUBSTRING
//! ```
//!
//! `FILE` (relative to `tests/invalid/`) is only given for a diagnostic in an
//! included file. A spec must produce these diagnostics and no other, error or
//! warning. Files are compiled with `compile_file` so that includes work;
//! helpers that are only included live in `tests/invalid/include/`.

use pcidevc_dsl::diag::{self, Diagnostic};
use pcidevc_dsl::source::{FileId, SourceMap};
use pcidevc_dsl::{Compiled, compile_file, compile_str};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn invalid_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid")
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(invalid_dir())
        .expect("tests/invalid exists")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcidev"))
        .collect();
    files.sort();
    files
}

#[derive(Debug)]
struct Expect {
    code: String,
    /// Relative to tests/invalid; `None`: the spec itself.
    file: Option<String>,
    line: usize,
    col: usize,
    message: String,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = self
            .file
            .as_deref()
            .map(|f| format!("{f}:"))
            .unwrap_or_default();
        write!(
            f,
            "{} {file}{}:{} {}",
            self.code, self.line, self.col, self.message
        )
    }
}

fn parse_expect(line: &str) -> Result<Expect, String> {
    let bad = || format!("malformed expectation `{line}`");
    let mut parts = line.splitn(3, ' ');
    let code = parts.next().ok_or_else(bad)?.to_string();
    let loc = parts.next().ok_or_else(bad)?;
    let message = parts.next().ok_or_else(bad)?.trim().to_string();
    let mut fields: Vec<&str> = loc.rsplitn(3, ':').collect();
    fields.reverse();
    let (file, line_no, col) = match fields.as_slice() {
        [file, l, c] => (Some(file.to_string()), l, c),
        [l, c] => (None, l, c),
        _ => return Err(bad()),
    };
    if diag::explain(&code).is_none() || message.is_empty() {
        return Err(bad());
    }
    Ok(Expect {
        code,
        file,
        line: line_no.parse().map_err(|_| bad())?,
        col: col.parse().map_err(|_| bad())?,
        message,
    })
}

fn expectations(path: &Path) -> Result<Vec<Expect>, String> {
    // Lossy: the non-UTF-8 specs keep their header in the valid prefix.
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("// expect:"))
        .map(|l| parse_expect(l.trim()))
        .collect()
}

/// Codes of conflicts: the diagnostic must show both sites.
const CONFLICTS: &[&str] = &[
    diag::DUPLICATE_ITEM,
    diag::BAR_DUPLICATE,
    diag::REG_OVERLAP,
    diag::FIELD_OVERLAP,
    diag::DUPLICATE_NAME,
];

/// Everything every diagnostic must satisfy, whatever the input.
fn check_well_formed(d: &Diagnostic, sources: &SourceMap) -> Result<(), String> {
    let in_file = |span: pcidevc_dsl::source::Span| {
        sources
            .get(span.file)
            .is_some_and(|f| span.start <= span.end && span.end <= f.text.len())
    };
    if diag::explain(d.code).is_none() {
        return Err(format!("unknown code {}", d.code));
    }
    if !in_file(d.span) {
        return Err(format!("span {:?} outside its file", d.span));
    }
    if let Some(l) = d.related.iter().find(|l| !in_file(l.span)) {
        return Err(format!("related span {:?} outside its file", l.span));
    }
    if d.message.is_empty() || d.label.is_empty() {
        return Err("empty message or label".into());
    }
    if CONFLICTS.contains(&d.code) && d.related.is_empty() {
        return Err(format!(
            "{} is a conflict but shows only one site",
            d.short(sources)
        ));
    }
    Ok(())
}

fn matches(e: &Expect, d: &Diagnostic, c: &Compiled) -> bool {
    let loc = c.sources.location(d.span);
    let file_ok = match &e.file {
        None => d.span.file == FileId(0),
        Some(f) => loc.file.ends_with(&format!("/{f}")) || loc.file == *f,
    };
    d.code == e.code
        && file_ok
        && loc.line == e.line
        && loc.column == e.col
        && d.message.contains(&e.message)
}

/// Compare one spec's diagnostics with its expectations; `Err` says how
/// they differ.
fn check_spec(path: &Path) -> Result<Compiled, String> {
    let expected = expectations(path)?;
    if expected.is_empty() {
        return Err("no `// expect:` line".into());
    }
    let c = compile_file(path);
    let mut problems = Vec::new();
    for d in &c.diagnostics {
        if let Err(why) = check_well_formed(d, &c.sources) {
            problems.push(why);
        }
    }
    let mut unmatched: Vec<&Diagnostic> = c.diagnostics.iter().collect();
    for e in &expected {
        match unmatched.iter().position(|d| matches(e, d, &c)) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => problems.push(format!("missing: {e}")),
        }
    }
    for d in unmatched {
        problems.push(format!("unexpected: {}", d.short(&c.sources)));
    }
    if c.has_errors() == c.device.is_some() {
        problems.push("an IR must be produced exactly when there is no error".into());
    }
    // Every way of showing the diagnostics works.
    let rendered = diag::render(&c.diagnostics, &c.sources, false);
    for d in &c.diagnostics {
        if !rendered.contains(d.code) {
            problems.push(format!("{} missing from the rendered report", d.code));
        }
        let json = d.to_json(&c.sources);
        let primary = &json["spans"][0];
        if json["code"]["code"] != d.code
            || primary["is_primary"] != true
            || primary["line_start"].as_u64().is_none_or(|l| l == 0)
        {
            problems.push(format!("bad JSON for {}: {json}", d.code));
        }
    }
    if problems.is_empty() {
        Ok(c)
    } else {
        Err(problems.join("\n    "))
    }
}

#[test]
fn invalid_corpus_gives_exactly_the_expected_diagnostics() {
    let files = corpus();
    assert!(files.len() >= 40, "only {} invalid specs", files.len());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|p| {
            check_spec(p).err().map(|why| {
                format!(
                    "{}:\n    {why}",
                    p.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} invalid specs differ from their expectations:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn invalid_corpus_covers_every_code() {
    let mut covered = BTreeSet::new();
    for p in corpus() {
        for e in expectations(&p).unwrap_or_default() {
            covered.insert(e.code);
        }
    }
    let missing: Vec<&str> = diag::CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !covered.contains(*c))
        .collect();
    assert!(missing.is_empty(), "no invalid spec triggers {missing:?}");
}

/// Syntax errors in two different items and semantic errors elsewhere: one
/// run reports them all (recovery does not stop at the first).
#[test]
fn all_errors_of_a_file_are_reported_in_one_run() {
    let c =
        check_spec(&invalid_dir().join("multi_errors.pcidev")).unwrap_or_else(|e| panic!("{e}"));
    let lines = |code: &str| -> BTreeSet<usize> {
        c.errors()
            .filter(|d| d.code == code)
            .map(|d| c.sources.location(d.span).line)
            .collect()
    };
    assert_eq!(
        lines(diag::SYNTAX).len(),
        2,
        "two syntax errors, in two items"
    );
    let semantic: BTreeSet<&str> = c
        .errors()
        .map(|d| d.code)
        .filter(|code| *code != diag::SYNTAX)
        .collect();
    assert!(semantic.len() >= 3, "semantic errors: {semantic:?}");
}

#[test]
fn hints_point_the_way() {
    let hint = |file: &str, code: &str| -> String {
        let c = compile_file(&invalid_dir().join(file));
        c.diagnostics
            .iter()
            .find(|d| d.code == code)
            .and_then(|d| d.hint.clone())
            .unwrap_or_else(|| panic!("{file}: no {code} with a hint"))
    };
    assert!(hint("e0402_unknown_name.pcidev", "E0402").contains("did you mean `counter`?"));
    assert!(hint("e0203_size_not_pow2.pcidev", "E0203").contains("4096 (0x1000)"));
    assert!(hint("e0309_reversed_bits.pcidev", "E0309").contains("[3:0]"));
    assert!(hint("e0106_reserved_word.pcidev", "E0106").contains("`my_match`"));
    assert!(hint("e0001_missing_semicolon.pcidev", "E0001").contains("`;`"));
}

#[test]
fn conflicts_show_the_other_site_where_it_is() {
    let c = compile_file(&invalid_dir().join("e0302_overlap.pcidev"));
    let d = c.errors().next().expect("an overlap");
    let other = c.sources.location(d.related[0].span);
    assert_eq!((other.line, other.column), (7, 22), "`A` is declared there");
}

/// A span ends where its construct ends, not after the whitespace pest
/// skipped looking for an optional continuation (`A ` in `A + 1`).
#[test]
fn spans_end_at_their_construct() {
    let c = compile_str(
        "t.pcidev",
        "device t { id 0x1b36:1; bar 0 mem32 size 16 { register A @ 0 : u32 rw; }\n\
         scenario s { write A = A   + 1; } }",
    );
    let d = c.errors().next().expect("a non-constant value");
    assert_eq!(d.code, diag::BAD_STEP);
    assert_eq!(c.sources.snippet(d.span), "A");
}

#[test]
fn an_unreadable_spec_is_reported_not_panicked() {
    let c = compile_file(&invalid_dir().join("include/no_such_spec.pcidev"));
    let d = c.errors().next().expect("an error");
    assert_eq!(d.code, diag::INCLUDE_IO);
    assert_eq!(c.sources.location(d.span).line, 1);
    assert!(c.device.is_none());
}

/// Includes nest at most 16 deep: a chain of 18 files stops with E0003 at
/// the include that goes one level too far.
#[test]
fn include_depth_is_bounded() {
    let dir = std::env::temp_dir().join(format!("pcidevc-dsl-depth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for i in 1..18 {
        std::fs::write(
            dir.join(format!("d{i}.pcidev")),
            format!("include \"d{}.pcidev\";\n", i + 1),
        )
        .expect("write");
    }
    std::fs::write(dir.join("d18.pcidev"), "revision 1;\n").expect("write");
    std::fs::write(
        dir.join("top.pcidev"),
        "device t {\n    id 0x1b36:0x0001;\n    include \"d1.pcidev\";\n}\n",
    )
    .expect("write");
    let c = compile_file(&dir.join("top.pcidev"));
    let _ = std::fs::remove_dir_all(&dir);
    let shorts: Vec<String> = c.diagnostics.iter().map(|d| d.short(&c.sources)).collect();
    assert_eq!(shorts.len(), 1, "{shorts:#?}");
    let d = &c.diagnostics[0];
    assert_eq!(d.code, diag::TOO_DEEP, "{shorts:#?}");
    assert!(
        d.message.contains("includes nest more than 16"),
        "{shorts:#?}"
    );
    // The top file and 15 includes are open: the 16th include is refused.
    assert!(
        c.sources.location(d.span).file.ends_with("d15.pcidev"),
        "{shorts:#?}"
    );
}
