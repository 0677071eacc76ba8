//! Rename of SSA values: the definition and every use. A new name that is not an identifier, is a
//! keyword, or is already defined in the function is refused, as is renaming a value of a function
//! that failed to resolve a name (the edit could capture it).

use crate::lsp::locate::{self, Hit};
use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use std::collections::HashMap;
use tower_lsp_server::ls_types::{PrepareRenameResponse, TextEdit, WorkspaceEdit};

/// The range and current name of the value at `offset`, if it can be renamed.
pub fn prepare(m: &Model, cx: &Ctx, offset: u32) -> Option<PrepareRenameResponse> {
    let found = locate::at(m, offset)?;
    let Some(Hit::Value { span, .. }) = found.hit else {
        return None;
    };
    Some(PrepareRenameResponse::RangeWithPlaceholder {
        range: cx.range(m, span),
        placeholder: m.slice(span),
    })
}

/// The edit renaming the value at `offset` to `new_name`, or why it cannot be done.
pub fn rename(m: &Model, cx: &Ctx, offset: u32, new_name: &str) -> Result<Option<WorkspaceEdit>, String> {
    let Some(found) = locate::at(m, offset) else {
        return Ok(None);
    };
    let Some(Hit::Value { id, .. }) = found.hit else {
        return Err("only values (SSA names) can be renamed".into());
    };
    let f = &m.program.functions[found.function];
    if !is_identifier(new_name) {
        return Err(format!("`{new_name}` is not a MIL name"));
    }
    if matches!(new_name, "program" | "func" | "BLOBFILE" | "true" | "false") {
        return Err(format!("`{new_name}` is a keyword"));
    }
    if f.value(id).name == new_name {
        return Ok(None);
    }
    if f.lookup(new_name).is_some() || f.values.iter().any(|v| v.name == new_name) {
        return Err(format!("`{new_name}` is already defined in `{}`", f.name));
    }
    let unresolved = f
        .ops
        .iter()
        .flat_map(|o| &o.args)
        .any(|a| refers_to(&a.value, new_name))
        || f.blocks
            .iter()
            .flat_map(|b| &b.outputs)
            .any(|r| r.name == new_name);
    if unresolved {
        return Err(format!(
            "`{new_name}` is used (undefined) in `{}`: renaming would capture it",
            f.name
        ));
    }
    let edits = locate::occurrences(f, &m.map.functions[found.function], id)
        .into_iter()
        .map(|s| TextEdit::new(cx.range(m, s), new_name.to_string()))
        .collect();
    Ok(Some(WorkspaceEdit {
        changes: Some(HashMap::from([(cx.uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }))
}

fn refers_to(o: &mil_ir::Operand, name: &str) -> bool {
    match o {
        mil_ir::Operand::Value(r) => r.name == name,
        mil_ir::Operand::Tuple(items) => items.iter().any(|i| refers_to(i, name)),
        mil_ir::Operand::Const(_) => false,
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
