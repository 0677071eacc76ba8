//! Folding ranges: functions, nested blocks, statements over several lines, and runs of comments.

use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use mil_ir::Span;
use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind};

/// Every foldable region of the document.
pub fn folding_ranges(m: &Model, _cx: &Ctx) -> Vec<FoldingRange> {
    let line = |offset: u32| m.rope.byte_to_line((offset as usize).min(m.rope.len_bytes())) as u32;
    let mut out = Vec::new();
    let fold = |out: &mut Vec<FoldingRange>, span: Span, kind: Option<FoldingRangeKind>| {
        let (start, end) = (line(span.start), line(span.end));
        if end > start {
            out.push(FoldingRange {
                start_line: start,
                end_line: end,
                kind,
                ..FoldingRange::default()
            });
        }
    };
    for spans in &m.map.functions {
        fold(&mut out, spans.whole, Some(FoldingRangeKind::Region));
        for b in spans.blocks.iter().skip(1) {
            fold(&mut out, b.whole, Some(FoldingRangeKind::Region));
        }
        for o in &spans.ops {
            fold(&mut out, o.whole, None);
        }
    }
    // Runs of `//` lines.
    let mut run: Option<(u32, u32)> = None;
    for (i, l) in m.rope.lines().enumerate() {
        let mut chars = l.chars().skip_while(|c| c.is_whitespace());
        let is_comment = chars.next() == Some('/') && chars.next() == Some('/');
        let i = i as u32;
        run = match (is_comment, run) {
            (true, Some((s, _))) => Some((s, i)),
            (true, None) => Some((i, i)),
            (false, Some((s, e))) => {
                if e > s {
                    out.push(FoldingRange {
                        start_line: s,
                        end_line: e,
                        kind: Some(FoldingRangeKind::Comment),
                        ..FoldingRange::default()
                    });
                }
                None
            }
            (false, None) => None,
        };
    }
    out
}
