//! Diagnostics as an editor shows them: of each code at most what [`analysis::shown`] keeps, with
//! the severities the settings give, each code linked to its documentation (a section of
//! docs/diagnostics.md, or the ANE rules table of docs/ane-rules.md), lenient spellings marked
//! deprecated.

use crate::analysis;
use crate::config::Config;
use crate::model::Model;
use mil_ir::{Code, Diagnostic, codes};

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

/// Whether a code's diagnostics mark deprecated text (editors strike it through), as
/// docs/diagnostics.md lists them: the lenient spellings `mil fmt` rewrites whose diagnostic covers
/// exactly the obsolete text (a positional operand, an untyped, flat, scalar or decimal literal);
/// not a missing name, whose diagnostic marks the op kind, which is not obsolete. No check reports
/// unused or redundant code, so no code marks unnecessary text.
pub fn is_deprecated(code: Code) -> bool {
    const DEPRECATED: &[Code] = &[
        codes::POSITIONAL_ARGUMENT,
        codes::BARE_LITERAL,
        codes::FLAT_TENSOR_LITERAL,
        codes::SCALAR_FOR_TENSOR,
        codes::DECIMAL_FLOAT,
    ];
    DEPRECATED.contains(&code)
}

/// The model's diagnostics as the editor shows them: what [`analysis::reported`] keeps (of each
/// code at most what [`analysis::shown`] keeps: a text with a million findings of one kind gets a
/// summary, not a million entries in the editor), with the configured severities. `mil check`
/// prints the same for the same text and settings.
pub fn diagnostics(model: &Model, config: &Config) -> Vec<Diagnostic> {
    let all: Vec<&Diagnostic> = model.all_diagnostics().collect();
    analysis::reported(&all, config)
}

/// Where a code is documented (a URL under the configured docs folder).
pub fn documentation(code: Code, config: &Config) -> String {
    if code.id.starts_with("ANE") {
        format!("{}ane-rules.md", config.docs_url)
    } else {
        format!("{}diagnostics.md#{}", config.docs_url, anchor(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::model;
    use expect_test::expect;

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
        let published = diagnostics(&model, &Config::default());
        let of_code: Vec<&Diagnostic> = published
            .iter()
            .filter(|d| d.code == codes::MISSING_NAME)
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
        let line = text[..summary.span.start as usize].matches('\n').count();
        assert_eq!(line, 3 + 100);
    }

    #[test]
    fn severities_follow_the_settings_and_codes_link_to_their_docs() {
        use crate::config::Settings;
        use crate::tests::{TEXT, excerpts};
        let text = TEXT
            .replace("mul(x = a, y = x)", "mul(a, y = q)")
            .replace("[name = string(\"c\")]", "");
        let mut config = Config {
            docs_url: "https://docs/".into(),
            ..Config::default()
        };
        let settings = Settings::from_toml("[severity]\nMIL0102 = \"hint\"\nANE201 = \"off\"\n").unwrap();
        assert!(config.apply(&settings).is_empty());
        let shown: String = diagnostics(&model(&text), &config)
            .iter()
            .map(|d| {
                format!(
                    "{} {} {:?} deprecated={} {}\n  {}\n",
                    excerpts(&text, &[d.span]).trim_end(),
                    d.code.id,
                    d.severity,
                    is_deprecated(d.code),
                    d.message,
                    documentation(d.code, &config)
                )
            })
            .collect();
        expect![[r#"
            2:42 "x" ANE109 Information deprecated=false this input is small for the ANE: its last axis is 4 long (probes want ≥ 32) and its buffer is 8 bytes (probes want ≥ 16 KB) (hardware probe); advice: pad the last axis
              https://docs/ane-rules.md
            3:37 "relu" ANE104 Information deprecated=false its last axis is 8 bytes, not a multiple of 64: the ANE pads every row (2 more ops like it in this function) (hardware probe); advice: pad the last axis to a multiple of 32 fp16 elements
              https://docs/ane-rules.md
            4:41 "a" MIL0103 Warning deprecated=true argument without its key; Core ML's files write `key = value`
              https://docs/diagnostics.md#mil0103--positional-argument-warning
            4:48 "q" MIL0201 Error deprecated=false `q` is not defined; did you mean `a`?
              https://docs/diagnostics.md#mil0201--undefined-value-error
            5:37 "add" MIL0102 Hint deprecated=false operation without `[name = ...]`; Core ML's files name every operation (mil fmt adds one)
              https://docs/diagnostics.md#mil0102--operation-without-a-name-warning
            6:14 "c" ANE109 Information deprecated=false this output is small for the ANE: its last axis is 4 long (probes want ≥ 32) and its buffer is 8 bytes (probes want ≥ 16 KB) (hardware probe); advice: pad the last axis
              https://docs/ane-rules.md
        "#]]
        .assert_eq(&shown);
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
