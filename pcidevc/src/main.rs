//! `pcidevc`: compile `.pcidev` device descriptions.
//!
//! `pcidevc SPEC...` writes, per device, the generated files under
//! `generated/<device>/` (or `-o DIR`); `pcidevc check` only validates;
//! `pcidevc explain CODE` documents a diagnostic; `pcidevc completions SHELL`
//! prints shell completions. Exit status: 0 success (warnings allowed),
//! 1 errors in a spec or drift found by `--check`, 2 usage or I/O errors.

mod output;

use clap::{Parser, Subcommand, ValueEnum};
use pcidevc_dsl::diag::{self, Diagnostic};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  pcidevc specs/hello_tic.pcidev            write generated/hello_tic/
  pcidevc specs/*.pcidev -o out/            write out/<device>/ for each spec
  pcidevc check specs/hello_tic.pcidev      validate only
  pcidevc specs/*.pcidev --check            exit 1 (and show a diff) if generated/ is stale
  pcidevc explain E0302                     what a diagnostic code means

Exit status: 0 success (warnings allowed), 1 spec errors or drift, 2 usage or I/O errors.
The language reference is in README.md.";

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
    /// Spec files to compile (one device each).
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<PathBuf>,

    /// Output directory; each device gets DIR/<device name>/.
    #[arg(short, long, value_name = "DIR", default_value = "generated")]
    output: PathBuf,

    /// Write nothing: compare what would be written with what is on disk,
    /// print a unified diff and exit 1 if they differ.
    #[arg(long)]
    check: bool,

    #[command(flatten)]
    common: Common,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Args, Debug, Clone)]
struct Common {
    /// How diagnostics are printed: for people, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human, global = true)]
    message_format: MessageFormat,

    /// When to use colors in diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,

    /// Treat warnings as errors (exit 1 when there is any).
    #[arg(long, global = true)]
    deny_warnings: bool,

    /// Print only diagnostics, not what was written.
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate specs without writing anything.
    Check {
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
    },
    /// Explain a diagnostic code (e.g. E0302), or list all codes.
    Explain {
        /// The code; omit to list every code.
        code: Option<String>,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum MessageFormat {
    Human,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Exit statuses.
const EXIT_SPEC: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match &cli.command {
        Some(Command::Check { specs }) => run(specs, None, false, &cli.common),
        Some(Command::Explain { code }) => explain(code.as_deref()),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "pcidevc", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        None => run(&cli.specs, Some(&cli.output), cli.check, &cli.common),
    }
}

fn explain(code: Option<&str>) -> ExitCode {
    match code {
        None => {
            for c in diag::CODES {
                println!("{}  {}", c.code, c.title);
            }
            ExitCode::SUCCESS
        }
        Some(code) => match diag::explain(code) {
            Some(c) => {
                println!("{}: {}\n\n{}", c.code, c.title, c.explanation);
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("error: unknown code `{code}`; `pcidevc explain` lists them");
                ExitCode::from(EXIT_USAGE)
            }
        },
    }
}

/// Compile every spec; write (or check) outputs when `output` is given.
fn run(specs: &[PathBuf], output: Option<&Path>, check: bool, common: &Common) -> ExitCode {
    let color = match common.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut worst = 0u8;
    for spec in specs {
        let compiled = pcidevc_dsl::compile_file(spec);
        report(&compiled, common, color);
        let unreadable = compiled
            .diagnostics
            .iter()
            .any(|d| d.code == diag::INCLUDE_IO && compiled.device.is_none() && d.span.file.0 == 0);
        let failed =
            compiled.has_errors() || (common.deny_warnings && compiled.warnings().next().is_some());
        if unreadable {
            worst = worst.max(EXIT_USAGE);
            continue;
        }
        if failed {
            worst = worst.max(EXIT_SPEC);
            continue;
        }
        let (Some(dev), Some(out)) = (&compiled.device, output) else {
            continue;
        };
        let files = pcidevc_codegen::generate(dev);
        let dir = out.join(&dev.name);
        let result = if check {
            output::check(&dir, &files).map(|drift| {
                if drift {
                    worst = worst.max(EXIT_SPEC);
                }
            })
        } else {
            output::write(&dir, &files, common.quiet)
        };
        if let Err(e) = result {
            eprintln!("error: {}: {e}", dir.display());
            worst = worst.max(EXIT_USAGE);
        }
    }
    ExitCode::from(worst)
}

fn report(compiled: &pcidevc_dsl::Compiled, common: &Common, color: bool) {
    let diags: &[Diagnostic] = &compiled.diagnostics;
    match common.message_format {
        MessageFormat::Json => {
            let mut out = std::io::stdout().lock();
            for d in diags {
                let _ = writeln!(out, "{}", d.to_json(&compiled.sources));
            }
        }
        MessageFormat::Human => {
            if diags.is_empty() {
                return;
            }
            let text = diag::render(diags, &compiled.sources, color);
            let errors = compiled.errors().count();
            let warnings = compiled.warnings().count();
            let mut err = anstream::AutoStream::new(
                std::io::stderr(),
                if color {
                    anstream::ColorChoice::Always
                } else {
                    anstream::ColorChoice::Never
                },
            );
            let _ = write!(err, "{text}");
            let file = compiled
                .sources
                .files()
                .first()
                .map(|f| f.name.as_str())
                .unwrap_or("?");
            let _ = writeln!(err, "{file}: {errors} error(s), {warnings} warning(s)");
        }
    }
}
