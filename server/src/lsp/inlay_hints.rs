//! Inlay hints: the input name before each positional argument (`x =`), from the op catalogue.
//!
//! Hints come from the providers in [`PROVIDERS`]; ANE placement adds the device per op there
//! (behind the `inlayHints.device` setting).

use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use crate::lsp::signature_help::opset_of;
use mil_ir::Span;
use mil_ir::catalogue;
use tower_lsp_server::ls_types::{InlayHint, InlayHintKind, InlayHintLabel};

/// Something that offers hints for the statements in a range.
type Provider = fn(&Model, &Ctx, Span) -> Vec<InlayHint>;

/// The providers.
const PROVIDERS: &[Provider] = &[parameter_names];

/// The hints inside `range`.
pub fn inlay_hints(m: &Model, cx: &Ctx, range: Span) -> Vec<InlayHint> {
    PROVIDERS.iter().flat_map(|p| p(m, cx, range)).collect()
}

fn parameter_names(m: &Model, cx: &Ctx, range: Span) -> Vec<InlayHint> {
    if !cx.config.inlay_parameter_names {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (f, spans) in m.program.functions.iter().zip(&m.map.functions) {
        for (op, s) in f.ops.iter().zip(&spans.ops) {
            if s.whole.end < range.start
                || s.whole.start > range.end
                || op.args.iter().all(|a| a.key.is_some())
            {
                continue;
            }
            let Ok(version) = catalogue::lookup(&op.kind, opset_of(f, op)) else {
                continue;
            };
            for (i, (a, sa)) in op.args.iter().zip(&s.args).enumerate() {
                let Some(input) = version.inputs.get(i).filter(|_| a.key.is_none()) else {
                    continue;
                };
                out.push(InlayHint {
                    position: cx.range(m, sa.whole).start,
                    label: InlayHintLabel::String(format!("{} =", input.name)),
                    kind: Some(InlayHintKind::PARAMETER),
                    text_edits: None,
                    tooltip: None,
                    padding_left: None,
                    padding_right: Some(true),
                    data: None,
                });
            }
        }
    }
    out
}
