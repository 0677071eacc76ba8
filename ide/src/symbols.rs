//! Document symbols: each function, with its statements (and those of nested blocks) inside.

use crate::lsp::model::Model;
use crate::lsp::position::LineCursor;
use crate::lsp::server::Ctx;
use mil_ir::{BlockId, Function, FunctionSpans};
use tower_lsp_server::ls_types::{DocumentSymbol, DocumentSymbolResponse, SymbolKind};

/// The outline of the document.
pub fn document_symbols(m: &Model, cx: &Ctx) -> DocumentSymbolResponse {
    // Statements come in order, so their positions are found line by line.
    let mut cursor = LineCursor::new(&m.rope, cx.enc);
    let symbols = m
        .program
        .functions
        .iter()
        .zip(&m.map.functions)
        .map(|(f, spans)| {
            #[allow(deprecated)]
            DocumentSymbol {
                name: if f.name.is_empty() {
                    "(function)".into()
                } else {
                    f.name.clone()
                },
                detail: Some(f.opset.clone()),
                kind: SymbolKind::FUNCTION,
                tags: None,
                deprecated: None,
                range: cursor.range(spans.whole),
                selection_range: cursor.range(spans.name),
                children: Some(block_symbols(&mut cursor, f, spans, f.body)),
            }
        })
        .collect();
    DocumentSymbolResponse::Nested(symbols)
}

fn block_symbols(
    cursor: &mut LineCursor,
    f: &Function,
    spans: &FunctionSpans,
    block: BlockId,
) -> Vec<DocumentSymbol> {
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
            let children: Vec<DocumentSymbol> = o
                .blocks
                .iter()
                .flat_map(|&b| block_symbols(cursor, f, spans, b))
                .collect();
            #[allow(deprecated)]
            Some(DocumentSymbol {
                name: if names.is_empty() {
                    o.kind.to_string()
                } else {
                    names.join(", ")
                },
                detail: Some(match o.name() {
                    Some(n) => format!("{} \"{n}\"", o.kind),
                    None => o.kind.to_string(),
                }),
                kind: if o.kind == "const" {
                    SymbolKind::CONSTANT
                } else {
                    SymbolKind::OPERATOR
                },
                tags: None,
                deprecated: None,
                range: cursor.range(s.whole),
                selection_range: cursor.range(selection),
                children: (!children.is_empty()).then_some(children),
            })
        })
        .collect()
}
