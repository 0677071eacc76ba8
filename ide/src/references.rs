//! Find references: every use of the value at the cursor, and its definition when asked.

use crate::lsp::locate::{self, Hit};
use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use tower_lsp_server::ls_types::Location;

/// The uses (and definition, with `include_declaration`) of the value at `offset`, in text order.
pub fn references(m: &Model, cx: &Ctx, offset: u32, include_declaration: bool) -> Option<Vec<Location>> {
    let found = locate::at(m, offset)?;
    let Some(Hit::Value { id, .. }) = found.hit else {
        return None;
    };
    let f = &m.program.functions[found.function];
    let mut spans = locate::occurrences(f, &m.map.functions[found.function], id);
    if !include_declaration {
        spans.remove(0);
    }
    spans.sort_by_key(|s| s.start);
    Some(
        spans
            .into_iter()
            .map(|s| Location::new(cx.uri.clone(), cx.range(m, s)))
            .collect(),
    )
}
