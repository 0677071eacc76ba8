//! Rendering diagnostics for people (codespan-reporting) and for tools (JSON, LSP-style positions).

use codespan_reporting::diagnostic::{Diagnostic as Report, Label, Severity as ReportSeverity};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
use codespan_reporting::term::termcolor::{ColorChoice, WriteColor};
use mil_ir::{ColumnUnit, Diagnostic, LineIndex, Severity, Span};
use serde_json::{Value, json};
use std::io::IsTerminal;

/// When reports are coloured: the `--color` flag of every subcommand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// Only when the stream is a terminal and `NO_COLOR` is not set (<https://no-color.org>).
    #[default]
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

/// The stream a report is written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl ColorWhen {
    /// The colour choice for a report written to `stream`: escape codes go only to a terminal
    /// unless colour was asked for.
    pub fn choice(self, stream: Stream) -> ColorChoice {
        let terminal = match stream {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        };
        match self {
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
            // On a terminal, termcolor's own `Auto` looks at `TERM` (no colour on a dumb terminal)
            // and `NO_COLOR`.
            ColorWhen::Auto if terminal => ColorChoice::Auto,
            ColorWhen::Auto => ColorChoice::Never,
        }
    }
}

/// Lines longer than this many bytes are not quoted in a report: the position is given instead
/// (a 100 MB literal on one line would otherwise be written out once per diagnostic on it).
pub const LONGEST_QUOTED_LINE: usize = 1000;

/// Writes `diagnostics` about `text` (named `name`) as rich terminal output.
pub fn human(
    out: &mut dyn WriteColor,
    name: &str,
    text: &str,
    diagnostics: &[Diagnostic],
) -> std::io::Result<()> {
    let file = SimpleFile::new(name, text);
    let config = term::Config::default();
    let index = LineIndex::new(text);
    let quotable = |span: Span| {
        [span.start, span.end.max(span.start)]
            .iter()
            .all(|&at| index.line_bounds(at, text.len()).len() <= LONGEST_QUOTED_LINE)
    };
    // A label on a quotable line, or else a note that says where.
    let label = |span: Span, message: &str, primary: bool, notes: &mut Vec<String>| {
        if !quotable(span) {
            let at = index.position(text, span.start, ColumnUnit::Utf8);
            let what = if message.is_empty() {
                String::new()
            } else {
                format!("{message}: ")
            };
            notes.push(format!(
                "{what}at {name}:{}:{} (the line is too long to quote)",
                at.line + 1,
                at.character + 1
            ));
            return None;
        }
        let range = clamp(text, span.range());
        let label = if primary {
            Label::primary((), range)
        } else {
            Label::secondary((), range)
        };
        Some(label.with_message(message))
    };
    for d in diagnostics {
        let severity = match d.severity {
            Severity::Error => ReportSeverity::Error,
            Severity::Warning => ReportSeverity::Warning,
            Severity::Information => ReportSeverity::Note,
            Severity::Hint => ReportSeverity::Help,
        };
        let mut notes = Vec::new();
        let mut labels: Vec<_> = label(d.span, "", true, &mut notes).into_iter().collect();
        labels.extend(
            d.related
                .iter()
                .filter_map(|r| label(r.span, &r.message, false, &mut notes)),
        );
        let report = Report::new(severity)
            .with_code(d.code.id)
            .with_message(d.message.clone())
            .with_labels(labels)
            .with_notes(notes);
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

#[cfg(test)]
mod tests {
    use super::*;
    use codespan_reporting::term::termcolor::NoColor;
    use mil_ir::codes;

    fn render(text: &str, diagnostics: &[Diagnostic]) -> String {
        let mut out = NoColor::new(Vec::new());
        human(&mut out, "m.mil", text, diagnostics).unwrap();
        String::from_utf8(out.into_inner()).unwrap()
    }

    #[test]
    fn long_lines_are_located_not_quoted() {
        let long = format!("a = [{}]\nb", "1, ".repeat(2000));
        let at = long.find('[').unwrap();
        let on_long = Diagnostic::new(codes::ELEMENT_COUNT, Span::new(at, at + 3), "too many")
            .with_related(Span::new(long.len() - 1, long.len()), "the next line");
        let report = render(&long, &[on_long]);
        assert!(report.len() < 600, "{report}");
        assert!(report.contains("error[MIL0205]: too many"), "{report}");
        assert!(
            report.contains("at m.mil:1:5 (the line is too long to quote)"),
            "{report}"
        );
        assert!(report.contains("the next line"), "{report}");
        // A short line is quoted as usual.
        let short = render(
            "a = b\n",
            &[Diagnostic::new(codes::SYNTAX, Span::new(4, 5), "here")],
        );
        assert!(short.contains("a = b"), "{short}");
    }
}
