//! Formatting: the whole document in canonical layout (what `mil fmt` writes), or only the
//! statements a range touches, each canonicalised on its own. Documents with syntax errors are
//! not formatted: the parse would lose what could not be read.

use crate::incremental;
use crate::model::Model;
use crate::text_edit::TextEdit;
use mil_ir::diagnostic::{Diagnostic, has_errors};
use mil_ir::{ConstData, Elements, OpId, Program, Span, canonical, printer};

/// How far a body's statements are indented; each nesting level adds [`NESTING_STEP`].
const STATEMENT_INDENT: usize = 12;
/// The extra indentation of a nested block's statements.
const NESTING_STEP: usize = 12;

/// What happens to the indentation of a statement rewritten in canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indentation {
    /// Re-indented to the canonical column of its nesting depth (as `mil fmt` does).
    Canonical,
    /// Left as the line has it (a quick fix changes the statement, not the layout).
    Keep,
}

/// The edits formatting the document, or the statements overlapping `range`.
pub fn format(m: &Model, range: Option<Span>) -> Option<Vec<TextEdit>> {
    match range {
        None => format_document(m),
        Some(range) => Some(format_range(m, range)),
    }
}

/// The canonical text of `text`, or the errors that make formatting unsafe (the parse would lose
/// what could not be read). A final newline is kept when the input had one. `mil fmt` writes this.
pub fn format_text(text: &str) -> Result<String, Vec<Diagnostic>> {
    let mut parse = mil_grammar::parse(text);
    if has_errors(&parse.diagnostics) {
        parse
            .diagnostics
            .retain(|d| d.severity == mil_ir::Severity::Error);
        return Err(parse.diagnostics);
    }
    Ok(canonical_text(parse.program, text.ends_with('\n')))
}

/// The canonical text of a program read without errors, with a final newline when the text it was
/// read from ended with one (`final_newline`).
pub fn canonical_text(mut program: Program, final_newline: bool) -> String {
    canonical::canonicalize(&mut program);
    let mut out = printer::print_program(&program);
    if final_newline {
        out.push('\n');
    }
    out
}

fn format_document(m: &Model) -> Option<Vec<TextEdit>> {
    let text = m.rope.to_string();
    // An analysed model's program is the one reading its text gives (a patched model equals a
    // fresh one), so a text read without errors is not read again. With errors it is, to tell
    // whether reading found any (formatting would then lose what could not be read) or only the
    // checks did; so is the text of a model not analysed yet.
    let analysed = m.version != i32::MIN;
    let formatted = if analysed && !has_errors(&m.diagnostics) {
        canonical_text(m.program.clone(), text.ends_with('\n'))
    } else {
        format_text(&text).ok()?
    };
    Some(minimal_edit(&text, &formatted).into_iter().collect())
}

/// One edit turning `old` into `new`: the part between their common prefix and suffix.
pub fn minimal_edit(old: &str, new: &str) -> Option<TextEdit> {
    if old == new {
        return None;
    }
    let mut prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some(TextEdit::new(
        Span::new(prefix, old.len() - suffix),
        &new[prefix..new.len() - suffix],
    ))
}

fn format_range(m: &Model, range: Span) -> Vec<TextEdit> {
    let mut edits = Vec::new();
    for (fi, spans) in m.map.functions.iter().enumerate() {
        for (i, s) in spans.ops.iter().enumerate() {
            if s.whole.end < range.start || s.whole.start > range.end {
                continue;
            }
            if let Some((span, text)) = canonical_statement(m, fi, OpId(i as u32), Indentation::Canonical)
                && m.slice(span) != text
            {
                edits.push(TextEdit::new(span, text));
            }
        }
    }
    edits
}

/// The canonical text of statement `op` of function `fi` and the span it replaces, through its
/// `;`. With [`Indentation::Canonical`] the span starts at the start of its line when only
/// indentation precedes the statement, and the text brings the canonical indentation; with
/// [`Indentation::Keep`] it starts at the statement. `None` for control-flow ops and statements
/// that do not read cleanly on their own.
pub fn canonical_statement(
    m: &Model,
    fi: usize,
    op: OpId,
    indentation: Indentation,
) -> Option<(Span, String)> {
    let f = m.program.functions.get(fi)?;
    let whole = m.map.functions.get(fi)?.ops.get(op.index())?.whole;
    if !f.op(op).blocks.is_empty() {
        return None;
    }
    let mut alone = incremental::parse_alone(m, f, &m.slice(whole))?;
    alone.single_op()?;
    let errors = alone
        .analysis
        .diagnostics
        .iter()
        .any(|d| d.severity == mil_ir::Severity::Error && !incremental::is_name_resolution(d.code));
    if errors {
        return None;
    }
    canonical::canonicalize(&mut alone.analysis.program);
    let g = &mut alone.analysis.program.functions[0];
    if f.op(op).name().is_none() {
        unique_name(f, &mut g.ops[0]);
    }
    let mut depth = 0;
    let mut parent = f.block(f.op(op).parent).parent;
    while let Some(p) = parent {
        depth += 1;
        parent = f.block(f.op(p).parent).parent;
    }
    let indent = STATEMENT_INDENT + NESTING_STEP * depth;
    let mut text = printer::print_operation(g, OpId(0), indent);
    // Through the `;` after the statement.
    let after = m.slice(Span::new(
        whole.end as usize,
        (whole.end as usize + 64).min(m.rope.len_bytes()),
    ));
    let semi = semicolon_after(&after)?;
    let end = whole.end as usize + semi + 1;
    let line_start = m.rope.line_to_byte(m.rope.byte_to_line(whole.start as usize));
    let start = if indentation == Indentation::Canonical
        && m.slice(Span::new(line_start, whole.start as usize))
            .trim()
            .is_empty()
    {
        text.insert_str(0, &" ".repeat(indent));
        line_start
    } else {
        whole.start as usize
    };
    Some((Span::new(start, end), text))
}

/// Where the `;` that ends a statement is in the text `after` it: past whitespace only.
pub(crate) fn semicolon_after(after: &str) -> Option<usize> {
    after
        .find(|c: char| !c.is_whitespace())
        .filter(|&i| after[i..].starts_with(';'))
}

/// Makes the name the canonicaliser gave an unnamed op unique in the real function.
fn unique_name(f: &mil_ir::Function, op: &mut mil_ir::Operation) {
    let Some(attr) = op.attributes.iter_mut().find(|a| a.key == "name") else {
        return;
    };
    let Some(base) = attr.value.as_str().map(str::to_owned) else {
        return;
    };
    let taken = |n: &str| f.ops.iter().any(|o| o.name() == Some(n));
    if !taken(&base) {
        return;
    }
    let name = (1..)
        .map(|n| format!("{base}_{n}"))
        .find(|n| !taken(n))
        .unwrap_or(base);
    attr.value.data = ConstData::Tensor(Elements::Str(vec![name]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::Edit;
    use crate::tests::{apply, model};
    use expect_test::expect;
    use ropey::Rope;

    /// Statements in lenient forms (a positional argument, an unnamed op, a tab), no error.
    const LENIENT: &str = "program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4]> x) {
    tensor<fp16, [1, 4]> a = relu(x)[name = string(\"a\")];
\ttensor<fp16, [1, 4]> b = mul(x = a, y = x);
    } -> (b);
}
";

    /// The document's text after its whole-document formatting, `None` when it is not formatted.
    fn formatted(m: &Model) -> Option<String> {
        format(m, None).map(|edits| apply(&m.rope.to_string(), &edits))
    }

    #[test]
    fn a_range_formats_the_statements_it_touches() {
        let m = model(LENIENT);
        let at = LENIENT.find("relu").unwrap();
        let edits = format(&m, Some(Span::new(at, at))).unwrap();
        expect![[r#"
            program(1.3)
            {
                func main<ios18>(tensor<fp16, [1, 4]> x) {
                        tensor<fp16, [1, 4]> a = relu(x = x)[name = string("a")];
            	tensor<fp16, [1, 4]> b = mul(x = a, y = x);
                } -> (b);
            }
        "#]]
        .assert_eq(&apply(LENIENT, &edits));
        expect![[r#"
            program(1.3)
            {
                func main<ios18>(tensor<fp16, [1, 4]> x) {
                        tensor<fp16, [1, 4]> a = relu(x = x)[name = string("a")];
                        tensor<fp16, [1, 4]> b = mul(x = a, y = x)[name = string("b")];
                    } -> (b);
            }
        "#]]
        .assert_eq(&formatted(&m).unwrap());
    }

    #[test]
    fn the_document_is_formatted_as_mil_fmt_formats_its_text() {
        let mut m = model(LENIENT);
        assert!(!has_errors(&m.diagnostics), "{:?}", m.diagnostics);
        assert_eq!(formatted(&m), format_text(LENIENT).ok());
        // A patched model formats as its new text does.
        let at = LENIENT.find("string(\"a\")").unwrap() + 9;
        let new_text = format!("{}b{}", &LENIENT[..at], &LENIENT[at..]);
        let edit = Edit::Replace {
            span: Span::new(at, at),
            text: "b".into(),
        };
        assert!(m.patch(&[edit], 2, &Rope::from_str(&new_text)));
        m.finish();
        let expected = format_text(&new_text).unwrap();
        assert!(expected.contains("string(\"ab\")"), "{expected}");
        assert_eq!(formatted(&m), Some(expected));
    }

    #[test]
    fn texts_with_syntax_errors_and_models_not_analysed_are_not_formatted() {
        let broken = LENIENT.replace("relu(x)", "relu(x");
        assert_eq!(formatted(&model(&broken)), None);
        assert_eq!(formatted(&Model::empty(None, Default::default())), None);
    }
}
