//! Code actions: quick fixes that rewrite a statement written in a lenient form (MIL0102–MIL0107)
//! into the compiler's form, and a fix-all that formats the document.
//!
//! Actions come from the providers in [`PROVIDERS`]; the ANE rewrites' are in [`crate::ane_fixes`],
//! the quantisations' in [`crate::quant_actions`].

use crate::ane_fixes;
use crate::formatting::{self, Indentation};
use crate::locate;
use crate::model::Model;
use crate::quant_actions::{self, QuantizeCommand};
use crate::text_edit::TextEdit;
use mil_ir::{Diagnostic, Span, codes};

/// An edit of the document offered by name.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeAction {
    /// What it does.
    pub title: String,
    /// What kind of action it is.
    pub kind: CodeActionKind,
    /// The diagnostic it fixes.
    pub fixes: Option<Diagnostic>,
    /// The edits.
    pub edits: Vec<TextEdit>,
    /// Whether it is the fix to apply by default.
    pub preferred: bool,
    /// What the server does when it is chosen, instead of edits ([`crate::quant_actions`]).
    pub command: Option<QuantizeCommand>,
}

/// What kind of action a [`CodeAction`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeActionKind {
    /// A fix of one diagnostic.
    QuickFix,
    /// A fix of every diagnostic of some kinds in the document.
    FixAll,
    /// Every helpful ANE rewrite of the document (`source.fixAll.ane`).
    FixAllAne,
    /// A rewrite of the program at the cursor (`refactor.rewrite`).
    RefactorRewrite,
    /// A quantisation of the whole document (`source.quantize`).
    SourceQuantize,
}

/// Something that offers code actions for a range.
type Provider = fn(&Model, Span) -> Vec<CodeAction>;

/// The providers with the kind of action each offers, in the order their actions are listed.
const PROVIDERS: &[(CodeActionKind, Provider)] = &[
    (CodeActionKind::QuickFix, lenient_form_fixes),
    (CodeActionKind::QuickFix, ane_fixes::quick_fixes),
    (CodeActionKind::FixAll, fix_all),
    (CodeActionKind::FixAllAne, ane_fixes::fix_all),
    (CodeActionKind::RefactorRewrite, quant_actions::weight_actions),
    (CodeActionKind::SourceQuantize, quant_actions::file_actions),
];

/// The lenient-form codes and what their fix does.
const FIXES: &[(mil_ir::Code, &str)] = &[
    (codes::MISSING_NAME, "Name the operation"),
    (codes::POSITIONAL_ARGUMENT, "Write the argument keys"),
    (codes::BARE_LITERAL, "Write the literal's type"),
    (codes::FLAT_TENSOR_LITERAL, "Nest the tensor literal by its shape"),
    (codes::SCALAR_FOR_TENSOR, "Write the constant out in full"),
    (codes::DECIMAL_FLOAT, "Write the floats as hex floats"),
];

/// The actions for `range` of the kinds `wanted` accepts. A provider whose kind is not wanted is
/// not run, so an editor asking for quick fixes at every cursor move does not pay for a whole
/// document's ANE rewrites.
pub fn code_actions(m: &Model, range: Span, wanted: impl Fn(CodeActionKind) -> bool) -> Vec<CodeAction> {
    PROVIDERS
        .iter()
        .filter(|(kind, _)| wanted(*kind))
        .flat_map(|(_, p)| p(m, range))
        .collect()
}

/// One quick fix per lenient-form diagnostic overlapping `range`: the statement in canonical form.
fn lenient_form_fixes(m: &Model, range: Span) -> Vec<CodeAction> {
    let first = m.diagnostics.partition_point(|d| d.span.end < range.start);
    m.diagnostics[first..]
        .iter()
        .take_while(|d| d.span.start <= range.end)
        .filter(|d| d.span.end >= range.start)
        .filter_map(|d| {
            let title = FIXES.iter().find(|(c, _)| *c == d.code)?.1;
            let (fi, op) = locate::statement_at(m, d.span.start)?;
            let (span, text) = formatting::canonical_statement(m, fi, op, Indentation::Keep)?;
            Some(CodeAction {
                title: format!("{title} ({})", d.code.id),
                kind: CodeActionKind::QuickFix,
                fixes: Some(d.clone()),
                edits: vec![TextEdit::new(span, text)],
                preferred: true,
                command: None,
            })
        })
        .collect()
}

/// Formats the whole document when it has any lenient form.
fn fix_all(m: &Model, _: Span) -> Vec<CodeAction> {
    if !m
        .diagnostics
        .iter()
        .any(|d| FIXES.iter().any(|(c, _)| *c == d.code))
    {
        return Vec::new();
    }
    let Some(edits) = formatting::format(m, None) else {
        return Vec::new();
    };
    vec![CodeAction {
        title: "Rewrite every lenient form in compiler form (mil fmt)".into(),
        kind: CodeActionKind::FixAll,
        fixes: None,
        edits,
        preferred: false,
        command: None,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{apply, model};
    use expect_test::expect;

    #[test]
    fn lenient_forms_get_a_quick_fix_each_and_the_document_a_fix_all() {
        let text = "program(1.3)
{
    func main<ios18>(tensor<fp16, [2]> x) {
        tensor<fp16, [2]> a = relu(x)[name = string(\"a\")];
        tensor<fp16, [2]> b = mul(x = a, y = 0.5);
    } -> (b);
}
";
        let m = model(text);
        let listed: String = code_actions(&m, Span::new(0, text.len()), |_| true)
            .iter()
            .map(|a| {
                let fixes = a.fixes.as_ref().map_or("-", |d| d.code.id);
                let result = apply(text, &a.edits);
                let changed: Vec<&str> = result.lines().filter(|l| !text.contains(*l)).collect();
                format!(
                    "{} [{:?}, fixes {fixes}, preferred {}]\n{}\n",
                    a.title,
                    a.kind,
                    a.preferred,
                    changed.join("\n")
                )
            })
            .collect();
        expect![[r#"
            Write the argument keys (MIL0103) [QuickFix, fixes MIL0103, preferred true]
                    tensor<fp16, [2]> a = relu(x = x)[name = string("a")];
            Name the operation (MIL0102) [QuickFix, fixes MIL0102, preferred true]
                    tensor<fp16, [2]> b = mul(x = a, y = fp32(0x1p-1))[name = string("b")];
            Write the literal's type (MIL0104) [QuickFix, fixes MIL0104, preferred true]
                    tensor<fp16, [2]> b = mul(x = a, y = fp32(0x1p-1))[name = string("b")];
            Write the floats as hex floats (MIL0107) [QuickFix, fixes MIL0107, preferred true]
                    tensor<fp16, [2]> b = mul(x = a, y = fp32(0x1p-1))[name = string("b")];
            Rewrite every lenient form in compiler form (mil fmt) [FixAll, fixes -, preferred false]
                        tensor<fp16, [2]> a = relu(x = x)[name = string("a")];
                        tensor<fp16, [2]> b = mul(x = a, y = fp32(0x1p-1))[name = string("b")];
                    } -> (b);
        "#]]
        .assert_eq(&listed);
    }
}
