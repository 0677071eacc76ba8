//! Rendering diagnostics for people (codespan-reporting) and for tools (JSON, LSP-style positions).

use codespan_reporting::diagnostic::{Diagnostic as Report, Label, Severity as ReportSeverity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor::WriteColor};
use mil_ir::{ColumnUnit, Diagnostic, LineIndex, Severity};
use serde_json::{Value, json};

/// Writes `diagnostics` about `text` (named `name`) as rich terminal output.
pub fn human(
    out: &mut dyn WriteColor,
    name: &str,
    text: &str,
    diagnostics: &[Diagnostic],
) -> std::io::Result<()> {
    let file = SimpleFile::new(name, text);
    let config = term::Config::default();
    for d in diagnostics {
        let severity = match d.severity {
            Severity::Error => ReportSeverity::Error,
            Severity::Warning => ReportSeverity::Warning,
            Severity::Information => ReportSeverity::Note,
            Severity::Hint => ReportSeverity::Help,
        };
        let mut labels = vec![Label::primary((), clamp(text, d.span.range()))];
        labels.extend(
            d.related
                .iter()
                .map(|r| Label::secondary((), clamp(text, r.span.range())).with_message(r.message.clone())),
        );
        let report = Report::new(severity)
            .with_code(d.code.id)
            .with_message(d.message.clone())
            .with_labels(labels);
        term::emit(out, &config, &file, &report).map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// The diagnostics as JSON objects with LSP-style (0-based, UTF-16) ranges and byte offsets.
pub fn json(name: &str, text: &str, diagnostics: &[Diagnostic]) -> Vec<Value> {
    let index = LineIndex::new(text);
    let pos = |offset: u32| {
        let p = index.position(text, offset, ColumnUnit::Utf16);
        json!({ "line": p.line, "character": p.character })
    };
    diagnostics
        .iter()
        .map(|d| {
            json!({
                "file": name,
                "range": { "start": pos(d.span.start), "end": pos(d.span.end) },
                "bytes": [d.span.start, d.span.end],
                "severity": d.severity.name(),
                "code": d.code.id,
                "message": d.message,
            })
        })
        .collect()
}

/// A byte range cut to the text and to character boundaries, as codespan requires.
fn clamp(text: &str, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let fix = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    fix(r.start)..fix(r.end)
}
