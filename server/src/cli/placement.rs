//! `mil placement FILE [--compute-units ..] [--chip ..] [--format table|json|html]`: where each op
//! runs (Neural Engine, GPU or CPU), its estimate and why.

use crate::cli::settings::SettingsArgs;
use crate::cli::{ExitCode, read_source};
use mil_ane::Device;
use mil_ane::placement::FunctionPlacement;
use mil_ir::diagnostic::count;
use std::io::Write;
use std::path::PathBuf;

/// Output formats of `mil placement`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per op, then the totals.
    Table,
    /// One JSON document.
    Json,
    /// A self-contained HTML page with a picture of the program.
    Html,
}

/// The arguments of `mil placement`.
#[derive(clap::Args)]
pub struct Args {
    /// The chip, the compute units and the settings file (docs/configuration.md).
    #[command(flatten)]
    settings: SettingsArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// The MIL file (`-` for standard input).
    file: PathBuf,
}

/// Places every op of the file and prints the result; exit 1 when the file has syntax errors (the
/// placement of what could be read is still printed), 2 when it cannot be read or written.
pub fn run(args: &Args) -> ExitCode {
    let config = match args.settings.config_for(&args.file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mil: {e}");
            return ExitCode::Usage;
        }
    };
    let Some(source) = read_source(&args.file) else {
        return ExitCode::Usage;
    };
    let target = config.target();
    let name = args.file.display().to_string();
    let (text, syntax_errors) =
        mil_ide::placement::plan_text(&source.text, &config, |placed| match args.format {
            Format::Table => table(placed),
            Format::Json => mil_ane::json::render(&name, target, placed),
            Format::Html => mil_ane::html::page(&name, target, placed),
        });
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        eprintln!("mil: cannot write the placement: {e}");
        return ExitCode::Usage;
    }
    if syntax_errors {
        eprintln!("mil: {name} has syntax errors (see `mil check`); the placement covers what could be read");
        return ExitCode::Errors;
    }
    ExitCode::Clean
}

/// One line per op (var, op, device, ANE-eligible, estimate, reason; Core ML's device when the
/// file carries analytics), then the totals.
fn table(functions: &[FunctionPlacement]) -> String {
    let mut out = String::new();
    for p in functions {
        let analytics = p.ops.iter().any(|o| o.coreml.is_some());
        let var_w = p.ops.iter().map(|o| o.var.len()).max().unwrap_or(3).clamp(3, 40);
        let op_w = p.ops.iter().map(|o| o.kind.len()).max().unwrap_or(2).clamp(2, 28);
        out += &if p.name.is_empty() {
            "func (header unreadable)\n".to_string()
        } else {
            format!("func {}<{}>\n", p.name, p.opset)
        };
        out += &format!(
            "{:var_w$}  {:op_w$}  device  ANE  {:>10}  {}reason\n",
            "var",
            "op",
            "est. ms",
            if analytics { "Core ML  " } else { "" }
        );
        for o in &p.ops {
            let coreml = match (&o.coreml, analytics) {
                (Some(c), _) => format!("{:7}  ", c.device().map_or("-", Device::name)),
                (None, true) => format!("{:7}  ", "-"),
                (None, false) => String::new(),
            };
            out += &format!(
                "{:var_w$}  {:op_w$}  {:6}  {:3}  {:>10.4}  {coreml}{}\n",
                o.var,
                o.kind,
                o.device.name(),
                if o.ane_eligible { "yes" } else { "no" },
                o.estimated_ms(),
                o.reason.text(o.device, o.segment)
            );
        }
        out += &format!(
            "{}: {:.1}% on the ANE ({:.1}% of FLOPs), {}, estimated latency {:.4} ms\n",
            count(p.planned().count(), "op"),
            100.0 * p.ane_op_share(),
            100.0 * p.ane_flop_share(),
            count(p.segments.len(), "segment"),
            p.latency_ms
        );
    }
    out
}
