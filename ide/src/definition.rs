//! Go to definition: from a use of a value to the name in its definition.

use crate::lsp::locate::{self, Hit};
use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use tower_lsp_server::ls_types::{GotoDefinitionResponse, Location};

/// Where the value at `offset` is defined.
pub fn definition(m: &Model, cx: &Ctx, offset: u32) -> Option<GotoDefinitionResponse> {
    let found = locate::at(m, offset)?;
    let Some(Hit::Value { id, .. }) = found.hit else {
        return None;
    };
    let def = m.map.functions[found.function].values.get(id.index())?.name;
    Some(GotoDefinitionResponse::Scalar(Location::new(
        cx.uri.clone(),
        cx.range(m, def),
    )))
}
