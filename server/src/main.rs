//! `mil`: check, format, compile, decompile and serve MIL files.

use mil_ide::analysis;
mod cli;
mod lsp;
mod report;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Parsing allocates many small strings and vectors, which mimalloc serves faster than the system
/// allocator; the parse benchmark measures with it too. It is built without transparent huge
/// pages (`server/Cargo.toml`), so that the interpreter's freed buffers leave the resident set.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tools for Core ML's MIL text.
#[derive(Parser)]
#[command(name = "mil", version, about)]
struct Args {
    /// Colour the reports: auto (only on a terminal, and not when NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN",
        hide_possible_values = true
    )]
    color: report::ColorWhen,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report syntax, type and weight problems of MIL files.
    Check {
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: cli::check::Format,
        #[command(flatten)]
        settings: cli::settings::SettingsArgs,
        /// Files to check (`-` for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Rewrite MIL files in the canonical layout (in place; `-` reads stdin and writes stdout).
    Fmt {
        /// Only report files that are not formatted (exit 1 if any).
        #[arg(long)]
        check: bool,
        /// Files to format.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Compile a MIL file into a Core ML package (.mlpackage).
    Compile(cli::compile::Args),
    /// Turn a Core ML package (or model.mlmodel) back into MIL text and a weights folder.
    Decompile(cli::decompile::Args),
    /// Quantise the weights of a MIL file as coremltools' linear_quantize_weights does.
    Quantize(cli::quantize::Args),
    /// Apply the rewrites that move ops the Neural Engine refuses onto it, where they help.
    Fix(cli::fix::Args),
    /// Predict where each op runs (Neural Engine, GPU, CPU), what it costs, and why.
    Placement(cli::placement::Args),
    /// Run a function with the reference interpreter on .npy inputs and report its outputs.
    Run(cli::run::Args),
    /// Serve the language server protocol on standard input and output.
    Lsp,
}

fn main() {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() {
                cli::ExitCode::Usage as i32
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let color = args.color;
    let code = match args.command {
        Command::Check {
            format,
            settings,
            files,
        } => cli::check::run(&files, format, &settings, color),
        Command::Fmt { check, files } => cli::fmt::run(&files, check, color),
        Command::Compile(args) => cli::compile::run(&args, color),
        Command::Decompile(args) => cli::decompile::run(&args),
        Command::Placement(args) => cli::placement::run(&args),
        Command::Run(args) => cli::run::run(&args, color),
        Command::Quantize(args) => cli::quantize::run(&args, color),
        Command::Fix(args) => cli::fix::run(&args, color),
        Command::Lsp => std::process::exit(lsp::run()),
    };
    std::process::exit(code as i32);
}
