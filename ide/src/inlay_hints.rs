//! Inlay hints: the input name before each positional argument (`x =`), from the op catalogue,
//! and the device each op runs on after its statement (`inlayHints.device`), from the ANE
//! placement. Hints come from the providers in [`PROVIDERS`].

use crate::lsp::model::Model;
use crate::lsp::placement;
use crate::lsp::server::Ctx;
use crate::lsp::signature_help::opset_of;
use mil_ir::Span;
use mil_ir::catalogue;
use tower_lsp_server::ls_types::{InlayHint, InlayHintKind, InlayHintLabel, InlayHintTooltip};

/// Something that offers hints for the statements in a range.
type Provider = fn(&Model, &Ctx, Span) -> Vec<InlayHint>;

/// The providers.
const PROVIDERS: &[Provider] = &[parameter_names, devices];

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

fn devices(m: &Model, cx: &Ctx, range: Span) -> Vec<InlayHint> {
    if !cx.config.inlay_device {
        return Vec::new();
    }
    let p = placement::of(m, cx.config);
    let mut out = Vec::new();
    for (fi, spans) in m.map.functions.iter().enumerate() {
        for (i, s) in spans.ops.iter().enumerate() {
            if s.whole.end < range.start || s.whole.start > range.end {
                continue;
            }
            let Some(place) = p.functions.get(fi).and_then(|f| f.op(mil_ir::OpId(i as u32))) else {
                continue;
            };
            if !place.planned {
                continue;
            }
            out.push(InlayHint {
                position: cx.range(m, s.whole).end,
                label: InlayHintLabel::String(placement::device_label(place.device)),
                kind: None,
                text_edits: None,
                tooltip: Some(InlayHintTooltip::String(place.reason.clone())),
                padding_left: Some(true),
                padding_right: None,
                data: None,
            });
        }
    }
    out
}
