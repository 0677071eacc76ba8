//! One analysis of a MIL text, shared by every command: parse, verify, check weight references
//! against the files beside the text, then the checks that look across statements (op and type
//! checks, ANE placement for the configured chip and compute units).
//!
//! The language server keeps the two halves apart: what [`read`] finds is kept up to date
//! statement by statement, and [`program_checks`] runs again over the patched program.

use crate::config::Config;
use mil_ane::Target;
use mil_ir::{Diagnostic, Program, Severity, SourceMap};
use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A text's program with diagnostics about it.
pub struct Analysis {
    /// The program read from the text.
    pub program: Program,
    /// Where its parts are in the text.
    pub source_map: SourceMap,
    /// The diagnostics, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `text` and runs the checks that look at one statement at a time (plus unique op names);
/// `model_dir` is the folder BLOBFILE paths resolve against (`@model_path`), when the text has a
/// location on disk.
pub fn read(text: &str, model_dir: Option<&Path>) -> Analysis {
    read_parsed(mil_grammar::parse(text), model_dir)
}

/// [`read`] for a few statements of a larger program read on their own, whose names the caller
/// resolves itself: an undefined name's diagnostic suggests no name ([`mil_grammar::parse_fragment`]).
pub(crate) fn read_fragment(text: &str, model_dir: Option<&Path>) -> Analysis {
    read_parsed(mil_grammar::parse_fragment(text), model_dir)
}

/// The checks of [`read`] after parsing.
fn read_parsed(parse: mil_grammar::Parse, model_dir: Option<&Path>) -> Analysis {
    let mut diagnostics = parse.diagnostics;
    diagnostics.extend(mil_ir::verify::verify(&parse.program, &parse.source_map));
    if let Some(dir) = model_dir {
        diagnostics.extend(mil_proto::blob_check::check_blobs(
            &parse.program,
            &parse.source_map,
            dir,
        ));
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    Analysis {
        program: parse.program,
        source_map: parse.source_map,
        diagnostics,
    }
}

/// Programs with at least this many ops have their op checks and ANE analysis run side by side.
const CHECK_IN_PARALLEL_FROM: usize = 4096;

/// The checks whose findings depend on more than one statement: op and type checks, ANE placement
/// on `target`. They only read the program, so a large one is checked on two threads.
pub fn program_checks(program: &Program, map: &SourceMap, target: Target) -> Vec<Diagnostic> {
    let ops: usize = program.functions.iter().map(|f| f.ops.len()).sum();
    let ane = || mil_ane::diagnostics::for_target(program, map, target);
    let op_checks = || mil_ir::typecheck::check(program, map);
    let (mut diagnostics, found) = if ops < CHECK_IN_PARALLEL_FROM {
        (ane(), op_checks())
    } else {
        std::thread::scope(|scope| {
            let found = scope.spawn(op_checks);
            let ane = ane();
            match found.join() {
                Ok(found) => (ane, found),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    };
    diagnostics.extend(found);
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    diagnostics
}

/// Analyses `text` as MIL for the settings `config`: [`read`], then [`program_checks`]. Its errors
/// are what stops running or rewriting the program; what only a package cannot hold (a runtime
/// buffer type in Core ML's analytics files, say) is left to [`analyse`].
pub fn analyse_text(text: &str, model_dir: Option<&Path>, config: &Config) -> Analysis {
    let mut a = read(text, model_dir);
    a.diagnostics
        .extend(program_checks(&a.program, &a.source_map, config.target()));
    a.diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    a
}

/// Analyses `text` completely for the settings `config`: [`analyse_text`], then (when nothing so
/// far is an error) what a package cannot hold ([`mil_proto::compile::package_problems`]): what
/// this reports as errors is exactly what stops [`compile`].
pub fn analyse(text: &str, model_dir: Option<&Path>, config: &Config) -> Analysis {
    let mut a = analyse_text(text, model_dir, config);
    if !mil_ir::diagnostic::has_errors(&a.diagnostics) {
        let found = mil_proto::compile::package_problems(&a.program, &a.source_map);
        a.diagnostics.extend(found);
    }
    a.diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    a
}

/// Every diagnostic about `text`, sorted by position (see [`analyse`]).
pub fn diagnostics(text: &str, model_dir: Option<&Path>, config: &Config) -> Vec<Diagnostic> {
    analyse(text, model_dir, config).diagnostics
}

/// The diagnostics a report or an editor shows out of `diagnostics` (sorted): what [`shown`]
/// keeps, with the severities `config` sets, without the codes it turns off. `mil check` prints
/// these and the language server publishes them, so both show the same set.
pub fn reported<D: Borrow<Diagnostic>>(diagnostics: &[D], config: &Config) -> Vec<Diagnostic> {
    shown(diagnostics, SHOWN_PER_CODE)
        .into_iter()
        .filter_map(|mut d| {
            d.severity = config.severity(d.code.id, d.severity)?;
            Some(d)
        })
        .collect()
}

/// How many diagnostics of one code a report shows for one file before it sums up the rest (see
/// [`shown`]): enough to see every kind of mistake, few enough that a text with a million findings
/// is reported in the time it takes to read it.
pub const SHOWN_PER_CODE: usize = 100;

/// The diagnostics a report shows out of `diagnostics` (in their order): of each code, the first
/// `per_code`, then up to `per_code` more whose message differs from every one shown (so a finding
/// of its own kind is not lost behind a flood of the same code), and in place of the rest one
/// diagnostic saying how many were left out, placed at the first of them and as severe as the most
/// severe of them (so errors are never summed up into a warning); a single one left out is shown
/// as it is. The command line's reports go through this, and it is there for the language server's
/// published diagnostics, so that a million repeated warnings cost a summary, not a million
/// rendered snippets.
pub fn shown<D: Borrow<Diagnostic>>(diagnostics: &[D], per_code: usize) -> Vec<Diagnostic> {
    /// The diagnostics of one code left out: how many, the first, the most severe.
    struct Hidden {
        count: usize,
        first: usize,
        worst: Severity,
    }
    let mut kept_of_code: HashMap<&str, usize> = HashMap::new();
    let mut kept_messages: HashSet<(&str, &str)> = HashSet::new();
    let mut hidden: HashMap<&str, Hidden> = HashMap::new();
    let mut keep = vec![false; diagnostics.len()];
    for (i, d) in diagnostics.iter().map(Borrow::borrow).enumerate() {
        let kept = kept_of_code.entry(d.code.id).or_default();
        let key = (d.code.id, d.message.as_str());
        if *kept < per_code || (*kept < 2 * per_code && !kept_messages.contains(&key)) {
            *kept += 1;
            kept_messages.insert(key);
            keep[i] = true;
        } else {
            let h = hidden.entry(d.code.id).or_insert(Hidden {
                count: 0,
                first: i,
                worst: d.severity,
            });
            h.count += 1;
            h.worst = h.worst.min(d.severity);
        }
    }
    let mut out = Vec::new();
    for (i, d) in diagnostics.iter().map(Borrow::borrow).enumerate() {
        if keep[i] {
            out.push(d.clone());
            continue;
        }
        match &hidden[d.code.id] {
            h if h.first != i => {}
            h if h.count == 1 => out.push(d.clone()),
            h => out.push(Diagnostic {
                severity: h.worst,
                message: format!(
                    "{} more {} diagnostics not shown; the first of them: {}",
                    h.count, d.code.id, d.message
                ),
                related: Vec::new(),
                ..d.clone()
            }),
        }
    }
    out
}

/// Checks `text` as [`analyse`] does and, when it has no error, compiles it to the package
/// `target`; returns the warnings, or on failure the error diagnostics (sorted) or the packaging
/// error. Shared by `mil compile` and the language server's `mil.compile`.
pub fn compile(
    text: &str,
    model_dir: &Path,
    target: &Path,
    config: &Config,
) -> Result<Vec<Diagnostic>, mil_proto::compile::CompileError> {
    use mil_proto::compile::CompileError;
    let a = analyse(text, Some(model_dir), config);
    let mut found = if mil_ir::diagnostic::has_errors(&a.diagnostics) {
        a.diagnostics
    } else {
        match mil_proto::compile::compile(&a.program, &a.source_map, model_dir, target) {
            Ok(_) => return Ok(a.diagnostics),
            Err(CompileError::Program(found)) => found,
            Err(e) => return Err(e),
        }
    };
    found.retain(|d| d.severity == Severity::Error);
    found.sort_by_key(|d| (d.span.start, d.span.end));
    Err(CompileError::Program(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mil_ir::{Span, codes};

    fn at(code: mil_ir::Code, i: usize, message: &str) -> Diagnostic {
        Diagnostic::new(code, Span::new(i, i + 1), message)
    }

    /// What `shown` keeps, as (code, start, severity, message).
    fn summary(all: &[Diagnostic], per_code: usize) -> Vec<(&'static str, u32, Severity, String)> {
        shown(all, per_code)
            .into_iter()
            .map(|d| (d.code.id, d.span.start, d.severity, d.message))
            .collect()
    }

    #[test]
    fn shown_keeps_the_first_of_each_code_and_sums_up_the_rest() {
        // Five identical comments (warnings) interleaved with three identical syntax errors, the
        // first left out demoted to a warning so that the summary has to find the error behind it.
        let mut all: Vec<Diagnostic> = (0..5).map(|i| at(codes::COMMENT, 2 * i, "c")).collect();
        all.extend((0..3).map(|i| at(codes::SYNTAX, 2 * i + 1, "s")));
        all.sort_by_key(|d| d.span.start);
        all[3].severity = Severity::Warning;
        let w = Severity::Warning;
        assert_eq!(
            summary(&all, 1),
            [
                ("MIL0101", 0, w, "c".to_string()),
                ("MIL0001", 1, Severity::Error, "s".to_string()),
                (
                    "MIL0101",
                    2,
                    w,
                    "4 more MIL0101 diagnostics not shown; the first of them: c".into()
                ),
                (
                    "MIL0001",
                    3,
                    Severity::Error,
                    "2 more MIL0001 diagnostics not shown; the first of them: s".into()
                ),
            ]
        );
        // A single one left out is shown as it is.
        assert_eq!(shown(&all[..4], 1), all[..4]);
    }

    #[test]
    fn shown_keeps_a_new_message_behind_a_flood_of_its_code() {
        let mut all: Vec<Diagnostic> = (0..10).map(|i| at(codes::SYNTAX, i, "flood")).collect();
        all.push(at(codes::SYNTAX, 10, "the cause"));
        all.push(at(codes::SYNTAX, 11, "flood"));
        let e = Severity::Error;
        assert_eq!(
            summary(&all, 2),
            [
                ("MIL0001", 0, e, "flood".to_string()),
                ("MIL0001", 1, e, "flood".to_string()),
                (
                    "MIL0001",
                    2,
                    e,
                    "9 more MIL0001 diagnostics not shown; the first of them: flood".into()
                ),
                ("MIL0001", 10, e, "the cause".to_string()),
            ]
        );
    }
}
