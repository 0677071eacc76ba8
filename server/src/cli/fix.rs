//! `mil fix FILE.mil [-o OUT.mil] [--rewrite ID]... [--chip C] [--compute-units U] [--dry-run]`:
//! apply every ANE rewrite that helps on the configured chip and compute units (or only the named
//! ones), as the editor's `source.fixAll.ane` action does ([`mil_ide::ane_fixes::fix_file`]).
//! `mil fix --list` prints every rewrite's id and what it does.
//!
//! A program with errors gets its diagnostics and nothing is written. Otherwise the rewrites are
//! listed with a before/after table of the planner's prediction (ops on the ANE, segments,
//! estimated ms), and the result is written whole through a temporary file (in place without
//! `-o`), or with `--dry-run` shown as a unified diff and not written.

use crate::cli::settings::SettingsArgs;
use crate::cli::{ExitCode, read_file_for, refuse, write_atomically};
use crate::report::ColorWhen;
use mil_ide::ane_fixes::{Plan, fix_file};
use mil_ide::rewrite::helps::ms;
use mil_ide::rewrite::io_fp16;
use mil_ir::RewriteId;
use std::path::PathBuf;

/// The arguments of `mil fix`.
#[derive(clap::Args)]
pub struct Args {
    /// The MIL file to write (default: the input, in place).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Apply only this rewrite (repeatable; `--list` names them all; spell-out-defaults and
    /// io-to-fp16 are applied only when named).
    #[arg(long = "rewrite", value_name = "ID", value_parser = parse_rewrite)]
    rewrites: Vec<RewriteId>,
    /// Print the changes as a unified diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The chip, the compute units and the settings file the rewrites are judged for.
    #[command(flatten)]
    settings: SettingsArgs,
    /// Print every rewrite (its id and what it does) and exit.
    #[arg(long, exclusive = true)]
    list: bool,
    /// The MIL file.
    #[arg(required_unless_present = "list")]
    file: Option<PathBuf>,
}

fn parse_rewrite(id: &str) -> Result<RewriteId, String> {
    RewriteId::parse(id).ok_or_else(|| {
        let ids: Vec<&str> = RewriteId::ALL.iter().map(|r| r.name()).collect();
        format!("unknown rewrite `{id}` ({})", ids.join(", "))
    })
}

/// Fixes the file; exit 0 when it was fixed (or nothing helped), 1 when the program has errors,
/// 2 when a file cannot be read or written.
pub fn run(args: &Args, color: ColorWhen) -> ExitCode {
    let Some(path) = &args.file else {
        print_rewrites();
        return ExitCode::Clean;
    };
    let Some((config, text, model_dir)) = read_file_for("fix", path, &args.settings) else {
        return ExitCode::Usage;
    };
    let name = path.display().to_string();
    let only = (!args.rewrites.is_empty()).then_some(&args.rewrites[..]);
    let outcome = match fix_file(&text, Some(&model_dir), &config, only) {
        Ok(outcome) => outcome,
        Err(diagnostics) => return refuse("fixing", &name, &text, &diagnostics, color),
    };
    for why in &outcome.not_applied {
        println!("{name}: {why}");
    }
    let Some(fixed) = outcome.fixed else {
        println!("{name}: no rewrite helps on {}", target_name(&config));
        return ExitCode::Clean;
    };
    for title in &fixed.applied {
        println!("{title}");
    }
    print_table(&fixed.before, &fixed.after);
    let result = fixed.text;
    let out = args.output.as_ref().unwrap_or(path);
    if args.dry_run {
        let diff = similar::TextDiff::from_lines(&text, &result);
        let (old, new) = (name.as_str(), out.display().to_string());
        print!("{}", diff.unified_diff().header(old, &new));
        return ExitCode::Clean;
    }
    match write_atomically(out, result.as_bytes()) {
        Ok(()) => {
            println!("wrote {}", out.display());
            ExitCode::Clean
        }
        Err(e) => {
            eprintln!("mil: cannot write {}: {e}", out.display());
            ExitCode::Usage
        }
    }
}

/// One line per rewrite: its id and what it does ("Rewrite sinh/cosh with exp"), and whether it is
/// applied only when named.
fn print_rewrites() {
    for r in mil_ide::rewrite::ALL {
        let title = r.title.replace("{kind}", &r.kinds.join("/"));
        let named = if mil_ide::rewrite::is_opt_in(r) {
            " (only when named)"
        } else {
            ""
        };
        println!("{:<24} {title}{named}", r.id.0);
    }
    println!("{:<24} {} (only when named)", io_fp16::ID.name(), io_fp16::TITLE);
}

/// `m4, cpu_and_ne`.
fn target_name(config: &mil_ide::config::Config) -> String {
    let t = config.target();
    format!("{}, {}", t.chip.name(), t.compute_units.name())
}

/// One line per function: ops on the ANE, segments and estimated ms, before → after.
fn print_table(before: &[Plan], after: &[Plan]) {
    println!(
        "{:<16} {:>16} {:>10} {:>18}",
        "function", "ops on the ANE", "segments", "estimated ms"
    );
    for (b, a) in before.iter().zip(after) {
        println!(
            "{:<16} {:>16} {:>10} {:>18}",
            b.function,
            format!("{}/{} → {}/{}", b.on_ane, b.planned, a.on_ane, a.planned),
            format!("{} → {}", b.segments, a.segments),
            format!("{} → {}", ms(b.ms), ms(a.ms)),
        );
    }
}
