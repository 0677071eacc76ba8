//! Document symbols: each function, with its statements (and those of nested blocks) inside.

use crate::model::Model;
use mil_ir::{BlockId, Function, FunctionSpans, Span};

/// One entry of the outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// The function's name, or the names a statement defines (its op kind when it defines none).
    pub name: String,
    /// The function's opset, or the statement's op kind and `name` attribute.
    pub detail: String,
    /// What it is.
    pub kind: SymbolKind,
    /// The whole function or statement.
    pub span: Span,
    /// The name to select.
    pub selection: Span,
    /// The statements inside (of a function, or of an op's nested blocks).
    pub children: Vec<Symbol>,
}

/// What a symbol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A function.
    Function,
    /// A `const` statement.
    Constant,
    /// Any other statement.
    Operator,
}

/// The outline of the document.
pub fn document_symbols(m: &Model) -> Vec<Symbol> {
    m.program
        .functions
        .iter()
        .zip(&m.map.functions)
        .map(|(f, spans)| Symbol {
            name: if f.name.is_empty() {
                "(function)".into()
            } else {
                f.name.clone()
            },
            detail: f.opset.clone(),
            kind: SymbolKind::Function,
            span: spans.whole,
            selection: spans.name,
            children: block_symbols(f, spans, f.body),
        })
        .collect()
}

fn block_symbols(f: &Function, spans: &FunctionSpans, block: BlockId) -> Vec<Symbol> {
    f.block(block)
        .ops
        .iter()
        .filter_map(|&op| {
            let o = f.op(op);
            let s = spans.ops.get(op.index())?;
            let names: Vec<&str> = o.results.iter().map(|&v| f.value(v).name.as_str()).collect();
            let selection = o
                .results
                .first()
                .and_then(|v| spans.values.get(v.index()))
                .map_or(s.kind, |v| v.name);
            Some(Symbol {
                name: if names.is_empty() {
                    o.kind.to_string()
                } else {
                    names.join(", ")
                },
                detail: match o.name() {
                    Some(n) => format!("{} \"{n}\"", o.kind),
                    None => o.kind.to_string(),
                },
                kind: if o.kind == "const" {
                    SymbolKind::Constant
                } else {
                    SymbolKind::Operator
                },
                span: s.whole,
                selection,
                children: o
                    .blocks
                    .iter()
                    .flat_map(|&b| block_symbols(f, spans, b))
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, model};
    use expect_test::expect;

    fn outline(text: &str, symbols: &[Symbol], depth: usize, out: &mut String) {
        for s in symbols {
            out.push_str(&format!(
                "{:depth$}{} [{}] {:?} {:?}\n",
                "",
                s.name,
                s.detail,
                s.kind,
                &text[s.selection.range()],
                depth = depth * 2
            ));
            outline(text, &s.children, depth + 1, out);
        }
    }

    #[test]
    fn functions_hold_their_statements() {
        let mut out = String::new();
        outline(TEXT, &document_symbols(&model(TEXT)), 0, &mut out);
        expect![[r#"
            main [ios18] Function "main"
              a [relu "a"] Operator "a"
              b [mul "b"] Operator "b"
              c [add "c"] Operator "c"
        "#]]
        .assert_eq(&out);
    }
}
