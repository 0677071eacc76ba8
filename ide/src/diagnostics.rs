//! Diagnostics as LSP sends them: ranges in the negotiated encoding, codes linked to their
//! documentation (a section of docs/diagnostics.md, or the ANE rules table of docs/ane-rules.md),
//! related locations, tags, and severities as configured.

use crate::analysis;
use crate::lsp::config::Config;
use crate::lsp::model::Model;
use crate::lsp::position::{self, Encoding};
use mil_ir::{Code, Severity, codes};
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Uri,
};

/// The anchor of a code's section in docs/diagnostics.md (GitHub's heading slugs).
pub fn anchor(code: Code) -> String {
    let heading = format!("{} — {} ({})", code.id, code.title, code.severity.name());
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The tags a code's diagnostics carry (editors fade unnecessary code and strike deprecated code),
/// as docs/diagnostics.md lists them. Deprecated: the lenient spellings `mil fmt` rewrites whose
/// diagnostic covers exactly the obsolete text (a positional operand, an untyped, flat, scalar or
/// decimal literal); not a missing name, whose diagnostic marks the op kind, which is not obsolete.
/// No check reports unused or redundant code, so no code is tagged unnecessary.
fn tags(code: Code) -> Option<Vec<DiagnosticTag>> {
    const DEPRECATED: &[Code] = &[
        codes::POSITIONAL_ARGUMENT,
        codes::BARE_LITERAL,
        codes::FLAT_TENSOR_LITERAL,
        codes::SCALAR_FOR_TENSOR,
        codes::DECIMAL_FLOAT,
    ];
    DEPRECATED
        .contains(&code)
        .then(|| vec![DiagnosticTag::DEPRECATED])
}

fn lsp_severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Information => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

/// The model's diagnostics for `uri`, as the client should show them: what
/// [`analysis::reported`] keeps (of each code at most what [`analysis::shown`] keeps: a text with a
/// million findings of one kind gets a summary, not a million entries in the editor).
pub fn to_lsp(model: &Model, uri: &Uri, config: &Config, enc: Encoding) -> Vec<Diagnostic> {
    let all: Vec<&mil_ir::Diagnostic> = model.all_diagnostics().collect();
    analysis::reported(&all, config)
        .iter()
        .filter_map(|d| one(model, d, uri, config, enc))
        .collect()
}

/// Where a code is documented.
pub fn documentation(code: Code, config: &Config) -> Option<Uri> {
    let url = if code.id.starts_with("ANE") {
        format!("{}ane-rules.md", config.docs_url)
    } else {
        format!("{}diagnostics.md#{}", config.docs_url, anchor(code))
    };
    url.parse().ok()
}

/// One diagnostic as the client shows it (`None` when its code is turned off).
pub fn one(
    model: &Model,
    d: &mil_ir::Diagnostic,
    uri: &Uri,
    config: &Config,
    enc: Encoding,
) -> Option<Diagnostic> {
    let severity = config.severity(d.code.id, d.severity)?;
    let related = d
        .related
        .iter()
        .map(|r| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), position::range(&model.rope, r.span, enc)),
            message: r.message.clone(),
        })
        .collect::<Vec<_>>();
    let href = documentation(d.code, config);
    Some(Diagnostic {
        range: position::range(&model.rope, d.span, enc),
        severity: Some(lsp_severity(severity)),
        code: Some(NumberOrString::String(d.code.id.to_string())),
        code_description: href.map(|href| CodeDescription { href }),
        source: Some("mil".into()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: tags(d.code),
        data: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_one_code_is_published_as_a_summary() {
        let mut text = String::from("program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1]> x) {\n");
        for i in 0..500 {
            text.push_str(&format!("        tensor<fp16, [1]> r{i} = relu(x = x);\n"));
        }
        text.push_str("    } -> (r0);\n}\n");
        let model = Model::build(1, &text, ropey::Rope::from_str(&text), None, Default::default());
        let unnamed = model
            .all_diagnostics()
            .filter(|d| d.code == codes::MISSING_NAME)
            .count();
        assert_eq!(unnamed, 500);
        let uri: Uri = "file:///m.mil".parse().unwrap();
        let published = to_lsp(&model, &uri, &Config::default(), Encoding::Utf16);
        let of_code: Vec<&Diagnostic> = published
            .iter()
            .filter(|d| d.code == Some(NumberOrString::String("MIL0102".into())))
            .collect();
        assert_eq!(of_code.len(), analysis::SHOWN_PER_CODE + 1);
        let summary = of_code.last().unwrap();
        assert!(
            summary
                .message
                .starts_with("400 more MIL0102 diagnostics not shown"),
            "{}",
            summary.message
        );
        assert_eq!(summary.range.start.line, 3 + 100);
    }

    #[test]
    fn every_code_links_to_a_heading_of_the_catalogue() {
        let docs = include_str!("../../docs/diagnostics.md");
        let slugs: Vec<String> = docs
            .lines()
            .filter_map(|l| l.strip_prefix("### "))
            .map(|h| {
                h.to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                    .map(|c| if c == ' ' { '-' } else { c })
                    .collect()
            })
            .collect();
        for code in mil_ir::codes::ALL {
            assert!(slugs.contains(&anchor(*code)), "no section for {}", code.id);
        }
        assert_eq!(anchor(mil_ir::codes::SYNTAX), "mil0001--syntax-error-error");
    }
}
