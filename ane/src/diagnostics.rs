//! Findings as diagnostics with source locations, for `mil check` and the language server.

use crate::placement::{self, FunctionPlacement, Reason, Source};
use crate::rules::{self, Finding, Site};
use crate::target::Target;
use mil_ir::{Diagnostic, FunctionSpans, Program, SourceMap, Span};

/// The ANE diagnostics of `mil check`: [`for_target`] with the default target (M4, `cpuAndNeuralEngine`).
pub fn check(program: &Program, source_map: &SourceMap) -> Vec<Diagnostic> {
    for_target(program, source_map, Target::default())
}

/// Every ANE diagnostic of `program`: the rules' findings, and for each ANE-eligible op the planner
/// keeps off the Neural Engine, why (ANE201).
pub fn for_target(program: &Program, source_map: &SourceMap, target: Target) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (i, f) in program.functions.iter().enumerate() {
        let Some(spans) = source_map.functions.get(i) else {
            continue;
        };
        let placed = placement::place_function(f, target, Source::Ours);
        out.extend(placed.findings.iter().map(|fi| diagnostic(fi, f, spans)));
        out.extend(moved(&placed, spans));
    }
    out
}

/// One ANE201 per segment with eligible ops kept off the Neural Engine, at its first such op.
fn moved(placed: &FunctionPlacement, spans: &FunctionSpans) -> Vec<Diagnostic> {
    let mut count = vec![0usize; placed.segments.len()];
    let mut first = vec![None; placed.segments.len()];
    for o in &placed.ops {
        if let (Reason::Moved { .. }, Some(s)) = (&o.reason, o.segment) {
            count[s] += 1;
            first[s].get_or_insert(o);
        }
    }
    first
        .iter()
        .zip(count)
        .filter_map(|(o, n)| {
            let o = (*o)?;
            let more = match n {
                1 => String::new(),
                2 => "; 1 more ANE-eligible op of this segment shares its fate".to_string(),
                n => format!("; {} more ANE-eligible ops of this segment share its fate", n - 1),
            };
            let text = format!(
                "{}{more} ({})",
                o.reason.text(o.device, o.segment),
                rules::MOVED_OFF_ANE.evidence.citation()
            );
            Some(Diagnostic::new(
                rules::MOVED_OFF_ANE.code,
                op_span(spans, o.op.index()),
                text,
            ))
        })
        .collect()
}

/// One finding as a diagnostic; the fix (`; fix: `…) or advice (`; advice: `…), when there is one,
/// ends the message.
pub fn diagnostic(fi: &Finding, f: &mil_ir::Function, spans: &FunctionSpans) -> Diagnostic {
    let span = match fi.site {
        Site::Op(op) => op_span(spans, op.index()),
        Site::Param(i) => f
            .params
            .get(i as usize)
            .and_then(|v| spans.values.get(v.index()))
            .map_or(spans.name, |s| s.name),
        Site::Output(i) => spans
            .block(f.body)
            .and_then(|b| b.outputs.get(i as usize).copied())
            .unwrap_or(spans.name),
    };
    let message = match fi.fix {
        Some(fix) => format!("{}; {}: {fix}", fi.message, fix.label()),
        None => fi.message.clone(),
    };
    Diagnostic::new(fi.rule.code, span, message)
}

/// The op's kind (where a reader's eye goes), or the whole statement; for an op made by a
/// rewrite, the statement it came from.
fn op_span(spans: &FunctionSpans, op: usize) -> Span {
    let rewritten = || spans.statement(mil_ir::OpId(op as u32)).unwrap_or(spans.name);
    spans.ops.get(op).map_or_else(rewritten, |s| {
        if s.kind == Span::default() {
            s.whole
        } else {
            s.kind
        }
    })
}
