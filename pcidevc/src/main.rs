//! `pcidevc`: compile `.pcidev` device descriptions.
//!
//! `pcidevc SPEC...` writes, per device, the generated files under
//! `generated/<device>/` (or `-o DIR`); `--check` compares instead of
//! writing; `pcidevc check` only validates; `pcidevc explain CODE` documents
//! a diagnostic; `pcidevc completions SHELL` prints shell completions;
//! `pcidevc lsp` is a language server on stdio (module [`lsp`]). Each
//! subcommand takes only the flags that mean something to it.
//!
//! Diagnostics go to stderr in rustc's layout (`--message-format human`) or
//! one line each (`short`), or to stdout as rustc's JSON (`json`: stdout then
//! holds JSON lines only; diffs and summaries go to stderr). Exit status:
//! 0 success (warnings allowed), 1 errors in a spec or drift found by
//! `--check`, 2 usage or I/O errors, 3 an internal error (a generated model
//! that is not valid Rust).

mod fmt;
mod lsp;
mod output;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use pcidevc_dsl::diag::{self, CodeInfo, Diagnostic, Remark, Severity};
use pcidevc_dsl::source::SourceMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  pcidevc specs/hello_tic.pcidev            write generated/hello_tic/
  pcidevc specs/*.pcidev -o out/            write out/<device>/ for each spec
  pcidevc specs/*.pcidev --check            exit 1 (with a diff) if generated/ is stale
  pcidevc check specs/*.pcidev              validate only
  pcidevc explain E0302                     what a diagnostic code means

Exit status: 0 success (warnings allowed), 1 spec errors or drift, 2 usage or I/O errors,
3 an internal error (a bug in pcidevc).
`pcidevc help COMMAND` documents a subcommand; the language reference is in README.md.";

const CHECK_AFTER_HELP: &str = "\
Examples:
  pcidevc check specs/hello_tic.pcidev
  pcidevc check specs/*.pcidev --deny-warnings
  pcidevc check specs/*.pcidev --message-format json | jq -r .rendered
  pcidevc check specs/*.pcidev --message-format short

Exit status: 0 valid (warnings allowed), 1 errors (or warnings with --deny-warnings),
2 usage or I/O errors (e.g. an unreadable spec).";

const FMT_AFTER_HELP: &str = "\
Examples:
  pcidevc fmt specs/*.pcidev            format in place
  pcidevc fmt --check specs/*.pcidev    CI: diff on stdout, exit 1 if any file is not formatted

Only whitespace changes: tokens and comments stay as written. Exit status:
0 formatted (or already), 1 a file does not parse or (--check) is not
formatted, 2 I/O errors.";

const EXPLAIN_AFTER_HELP: &str = "\
Examples:
  pcidevc explain E0302      what `overlapping registers` means and how to fix it
  pcidevc explain            every code with its title

Codes are E0xxx (errors) and W0xxx (warnings); they are stable.";

const LSP_AFTER_HELP: &str = "\
Editors start it themselves; point yours at `pcidevc lsp` for *.pcidev files:
  Neovim:  vim.lsp.start({ name = 'pcidevc', cmd = { 'pcidevc', 'lsp' } })   (in a FileType autocmd)
  Helix:   [language-server.pcidevc] command = \"pcidevc\", args = [\"lsp\"]   (languages.toml)

It speaks the Language Server Protocol (JSON-RPC with Content-Length headers)
on stdin/stdout: diagnostics as you type (the same as `pcidevc check`), go to
definition, hover (a register's layout and behaviour, a state's type and
reset), completion of names and keywords, outline, formatting. Logs go to
stderr.
README.md's \"Editor support\" has complete editor configurations.

Exit status: 0 after the client's `shutdown` and `exit`, 1 otherwise.";

const COMPLETIONS_AFTER_HELP: &str = "\
Examples:
  pcidevc completions bash > ~/.local/share/bash-completion/completions/pcidevc
  pcidevc completions zsh > ~/.zfunc/_pcidevc          (with ~/.zfunc in $fpath)
  pcidevc completions fish > ~/.config/fish/completions/pcidevc.fish

The scripts complete subcommands, flags, spec paths and, after `explain`, the codes.";

#[derive(Parser, Debug)]
#[command(
    name = "pcidevc",
    version,
    about = "Compile .pcidev device descriptions into a rust-vmm device model and a Rust-for-Linux driver",
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    /// Spec files to compile, one device each (`.pcidev`).
    #[arg(required = true, value_name = "SPEC", value_hint = ValueHint::FilePath)]
    specs: Vec<PathBuf>,

    /// Output directory: each device is written to DIR/<device name>/.
    #[arg(short, long, value_name = "DIR", default_value = "generated", value_hint = ValueHint::DirPath)]
    output: PathBuf,

    /// Write nothing: compare what would be written with DIR/<device>/,
    /// print a unified diff for each stale or missing file, name the files
    /// there that pcidevc does not generate, and exit 1 if anything differs.
    #[arg(long)]
    check: bool,

    /// Do not print each file written (diagnostics are still printed).
    #[arg(short, long)]
    quiet: bool,

    #[command(flatten)]
    report: ReportArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

/// What compiling and checking share: how diagnostics are shown.
#[derive(Args, Debug, Clone)]
struct ReportArgs {
    /// How diagnostics are printed.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,

    /// When to color diagnostics: auto colors when stderr is a terminal and
    /// NO_COLOR is not set.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = Color::Auto)]
    color: Color,

    /// Treat warnings as errors: they are reported as errors and fail the
    /// run (exit 1).
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate specs without writing anything.
    #[command(after_help = CHECK_AFTER_HELP)]
    Check {
        /// Spec files to validate, one device each (`.pcidev`).
        #[arg(required = true, value_name = "SPEC", value_hint = ValueHint::FilePath)]
        specs: Vec<PathBuf>,

        #[command(flatten)]
        report: ReportArgs,
    },
    /// Rewrite specs in the canonical layout (4-space indent, one item per
    /// line, comments kept); files with syntax errors are left alone.
    #[command(after_help = FMT_AFTER_HELP)]
    Fmt {
        /// Change nothing: show a diff for each file that is not formatted
        /// and exit with status 1.
        #[arg(long)]
        check: bool,
        /// Spec files (or included files) to format.
        #[arg(required = true, value_name = "FILE", value_hint = ValueHint::FilePath)]
        files: Vec<PathBuf>,

        #[command(flatten)]
        report: ReportArgs,
    },
    /// Explain a diagnostic code, or list every code.
    #[command(after_help = EXPLAIN_AFTER_HELP)]
    Explain {
        /// The code to explain, e.g. E0302 (any case); omit it to list every
        /// code with its title.
        #[arg(value_name = "CODE", value_parser = CodeParser, hide_possible_values = true)]
        code: Option<&'static CodeInfo>,
    },
    /// Run the language server on stdin/stdout (editors start it).
    #[command(after_help = LSP_AFTER_HELP)]
    Lsp,
    /// Print a shell completion script to stdout.
    #[command(after_help = COMPLETIONS_AFTER_HELP)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum MessageFormat {
    /// Like rustc: the code, the message, the source lines marked, notes and
    /// help (stderr).
    Human,
    /// One line per diagnostic: `file:line:col: error[CODE]: message` (stderr).
    Short,
    /// JSON as rustc writes it, one object per line on stdout (nothing else
    /// goes to stdout).
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Color {
    Auto,
    Always,
    Never,
}

/// `explain`'s argument: a code of the catalogue. Its possible values (with
/// each code's title) are what shell completions offer.
#[derive(Clone, Debug)]
struct CodeParser;

impl TypedValueParser for CodeParser {
    type Value = &'static CodeInfo;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let code = value.to_string_lossy();
        diag::explain(&code).ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("unknown code `{code}`; `pcidevc explain` lists them\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            diag::CODES
                .iter()
                .map(|c| PossibleValue::new(c.code).help(c.title)),
        ))
    }
}

/// Exit statuses.
const EXIT_SPEC: u8 = 1;
const EXIT_USAGE: u8 = 2;
/// A bug in pcidevc itself: it generated a model that is not valid Rust.
const EXIT_INTERNAL: u8 = 3;

/// Why one device's outputs were not written or checked.
enum Failure {
    /// Reading or writing the output directory.
    Io(std::io::Error),
    /// The generator's own bug ([`pcidevc_codegen::OutputFile::internal_error`]).
    Internal(String),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match &cli.command {
        Some(Command::Check { specs, report }) => run(specs, None, &Reporter::new(report)),
        Some(Command::Fmt {
            check,
            files,
            report,
        }) => fmt_files(files, *check, &Reporter::new(report)),
        Some(Command::Explain { code }) => explain(*code),
        Some(Command::Completions { shell }) => completions(*shell),
        Some(Command::Lsp) => lsp::run(),
        None => {
            let target = Target {
                dir: &cli.output,
                check: cli.check,
                quiet: cli.quiet,
            };
            run(&cli.specs, Some(target), &Reporter::new(&cli.report))
        }
    }
}

fn fmt_files(files: &[PathBuf], check: bool, reporter: &Reporter) -> ExitCode {
    let mut worst = 0u8;
    let mut unformatted = Vec::new();
    for path in files {
        match fmt::file(path, check) {
            fmt::Outcome::Formatted => {}
            fmt::Outcome::Changed(diff) => {
                if check {
                    reporter.diff(&diff);
                    unformatted.push(path.clone());
                    worst = worst.max(EXIT_SPEC);
                }
            }
            fmt::Outcome::Unparsable(sources, diags) => {
                reporter.diagnostics(&diags, &sources);
                worst = worst.max(EXIT_SPEC);
            }
            fmt::Outcome::Io(e) => {
                reporter.remark(&Remark::new(Severity::Error, e));
                worst = worst.max(EXIT_USAGE);
            }
        }
    }
    if !unformatted.is_empty() {
        reporter.remark(&fmt::check_remark(&unformatted));
    }
    ExitCode::from(worst)
}

fn explain(code: Option<&CodeInfo>) -> ExitCode {
    match code {
        None => {
            for c in diag::CODES {
                println!("{}  {}", c.code, c.title);
            }
        }
        Some(c) => println!("{}: {}\n\n{}", c.code, c.title, c.explanation),
    }
    ExitCode::SUCCESS
}

/// clap_complete's bash and zsh scripts offer the codes after `explain`
/// (from [`CodeParser::possible_values`]); its fish script completes no
/// positional values, so the codes are added to it here.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "pcidevc", &mut out);
    if shell == clap_complete::Shell::Fish {
        for c in diag::CODES {
            let _ = writeln!(
                out,
                "complete -c pcidevc -n \"__fish_pcidevc_using_subcommand explain\" -f -a {} -d '{}'",
                c.code,
                c.title.replace('\\', "\\\\").replace('\'', "\\'")
            );
        }
    }
    ExitCode::SUCCESS
}

/// Where and how generated files go.
#[derive(Clone, Copy)]
struct Target<'a> {
    dir: &'a Path,
    /// Compare instead of writing.
    check: bool,
    quiet: bool,
}

/// Compile every spec; write (or check) outputs when `target` is given.
fn run(specs: &[PathBuf], target: Option<Target>, reporter: &Reporter) -> ExitCode {
    let mut worst = 0u8;
    for spec in specs {
        let compiled = pcidevc_dsl::compile_file(spec);
        let diagnostics = reporter.diagnostics(&compiled.diagnostics, &compiled.sources);
        if diagnostics
            .iter()
            .any(|d| d.whole_file && d.code == diag::INCLUDE_IO)
        {
            worst = worst.max(EXIT_USAGE);
            continue;
        }
        if diagnostics.iter().any(Diagnostic::is_error) {
            worst = worst.max(EXIT_SPEC);
            continue;
        }
        let (Some(dev), Some(target)) = (compiled.device, target) else {
            continue;
        };
        // The syntax tree and the sources are not needed past the
        // diagnostics: free them before generating (a large spec's
        // tree is hundreds of megabytes).
        drop((compiled.ast, compiled.sources, diagnostics));
        let dev = &dev;
        let dir = target.dir.join(&dev.name);
        let internal = |f: &pcidevc_codegen::OutputFile| match f.internal_error() {
            Some(e) => Err(Failure::Internal(e.to_string())),
            None => Ok(()),
        };
        let result = if target.check {
            let files = pcidevc_codegen::generate(dev);
            files.iter().try_for_each(internal).and_then(|()| {
                output::check(&dir, &files)
                    .map(|drift| {
                        if !drift.is_empty() {
                            reporter.drift(&dir, spec, target.dir, &drift);
                            worst = worst.max(EXIT_SPEC);
                        }
                    })
                    .map_err(Failure::Io)
            })
        } else {
            // Each file written as soon as it is generated, then dropped;
            // the model comes first, so a broken one writes nothing.
            pcidevc_codegen::generate_each(dev, |f| {
                internal(&f)?;
                output::write(&dir, std::slice::from_ref(&f), target.quiet).map_err(Failure::Io)
            })
        };
        match result {
            Ok(()) => {}
            Err(Failure::Io(e)) => {
                reporter.remark(&Remark::new(
                    Severity::Error,
                    format!("cannot write `{}`: {e}", dir.display()),
                ));
                worst = worst.max(EXIT_USAGE);
            }
            Err(Failure::Internal(e)) => {
                reporter.remark(
                    &Remark::new(
                        Severity::Error,
                        format!(
                            "internal error: the model generated from `{}` is not valid Rust: {e}",
                            spec.display()
                        ),
                    )
                    .note(format!(
                        "a bug in pcidevc, not in the spec; nothing was written to `{}`",
                        dir.display()
                    ))
                    .help("please report it with the spec"),
                );
                worst = worst.max(EXIT_INTERNAL);
            }
        }
    }
    ExitCode::from(worst)
}

/// Prints diagnostics, remarks and diffs in the chosen format.
struct Reporter {
    format: MessageFormat,
    /// Colors on stderr.
    color: bool,
    deny_warnings: bool,
}

impl Reporter {
    fn new(args: &ReportArgs) -> Self {
        let color = match args.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Reporter {
            format: args.message_format,
            color,
            deny_warnings: args.deny_warnings,
        }
    }

    /// Print one spec's diagnostics and cargo's closing line; returns them
    /// as reported (with `--deny-warnings`, warnings become errors).
    fn diagnostics(&self, diagnostics: &[Diagnostic], sources: &SourceMap) -> Vec<Diagnostic> {
        let diagnostics: Vec<Diagnostic> = diagnostics
            .iter()
            .map(|d| {
                if self.deny_warnings && !d.is_error() {
                    let mut denied = d
                        .clone()
                        .note("`--deny-warnings` turns this warning into an error");
                    denied.severity = Severity::Error;
                    denied
                } else {
                    d.clone()
                }
            })
            .collect();
        let mut text = String::new();
        for d in &diagnostics {
            match self.format {
                MessageFormat::Human => text.push_str(&d.rendered(sources, self.color)),
                MessageFormat::Short => {
                    text.push_str(&d.short_styled(sources, self.color));
                    text.push('\n');
                }
                MessageFormat::Json => json_line(&d.to_json(sources)),
            }
        }
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.len() - errors;
        let file = sources.files().first().map_or("?", |f| f.name.as_str());
        if let Some(summary) = diag::summary(file, errors, warnings) {
            text.push_str(&summary.rendered(self.color));
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        diagnostics
    }

    /// A message about no source text: a JSON line in JSON mode, else text
    /// on stderr.
    fn remark(&self, remark: &Remark) {
        match self.format {
            MessageFormat::Json => json_line(&remark.to_json()),
            MessageFormat::Human | MessageFormat::Short => {
                eprint!("{}", remark.rendered(self.color));
            }
        }
    }

    /// A diff: on stdout, or on stderr when stdout is reserved for JSON.
    fn diff(&self, diff: &str) {
        match self.format {
            MessageFormat::Json => eprint!("{diff}"),
            MessageFormat::Human | MessageFormat::Short => print!("{diff}"),
        }
    }

    /// `--check` found differences in `dir`: the diffs (stdout, or stderr
    /// when stdout is reserved for JSON), then one remark naming the files.
    fn drift(&self, dir: &Path, spec: &Path, out: &Path, drift: &output::Drift) {
        let diffs: String = drift.changed.iter().map(|c| c.diff.as_str()).collect();
        let diffs_on = match self.format {
            MessageFormat::Json => {
                eprint!("{diffs}");
                "stderr"
            }
            MessageFormat::Human | MessageFormat::Short => {
                print!("{diffs}");
                "stdout"
            }
        };
        let mut remark = Remark::new(
            Severity::Error,
            format!("`{}` is out of date", dir.display()),
        );
        for c in &drift.changed {
            let what = if c.missing { "missing" } else { "differs" };
            remark = remark.note(format!("{what}: {} (diff on {diffs_on})", c.path.display()));
        }
        for s in &drift.stray {
            remark = remark.note(format!(
                "stray: {} (pcidevc does not generate it)",
                s.display()
            ));
        }
        let mut help = Vec::new();
        if !drift.changed.is_empty() {
            help.push(format!(
                "regenerate with `pcidevc {} -o {}`",
                spec.display(),
                out.display()
            ));
        }
        if !drift.stray.is_empty() {
            let mut delete = "delete the stray files".to_string();
            // A kernel build leaves its products beside a driver's sources;
            // its own `clean` removes them (with the KDIR it was built with).
            let built: Vec<String> = ["driver", "driver_c"]
                .into_iter()
                .filter(|d| drift.stray.iter().any(|s| s.starts_with(d)))
                .map(|d| {
                    format!(
                        "`make -C {} KDIR=<kernel build tree> clean`",
                        dir.join(d).display()
                    )
                })
                .collect();
            if !built.is_empty() {
                delete.push_str(&format!(
                    " ({} removes the build products of a driver built there)",
                    built.join(" and ")
                ));
            }
            help.push(delete);
        }
        self.remark(&remark.help(help.join("; ")));
    }
}

/// One JSON object on its own line of stdout.
fn json_line(value: &serde_json::Value) {
    let _ = writeln!(std::io::stdout().lock(), "{value}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// `--help` teaches: every subcommand says what it does and gives
    /// examples, every argument says what it is for.
    #[test]
    fn every_command_and_argument_is_described() {
        fn walk(cmd: &clap::Command, path: &str) {
            assert!(cmd.get_about().is_some(), "{path}: no description");
            assert!(cmd.get_after_help().is_some(), "{path}: no examples");
            for arg in cmd.get_arguments() {
                assert!(
                    arg.get_help().is_some(),
                    "{path}: `{}` has no description",
                    arg.get_id()
                );
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&Cli::command(), "pcidevc");
    }
}
