//! Code lenses above each function: its size and opset, its share of ops on the Neural Engine
//! with the estimated latency, and "Compile" (running `mil.compile`). Lenses come from the
//! providers in [`PROVIDERS`].

use crate::lsp::commands;
use crate::lsp::model::Model;
use crate::lsp::placement;
use crate::lsp::server::Ctx;
use mil_ir::{Function, FunctionSpans};
use tower_lsp_server::ls_types::{CodeLens, Command};

/// Something that offers lenses for function `usize`.
type Provider = fn(&Model, &Ctx, usize, &Function, &FunctionSpans) -> Vec<CodeLens>;

/// The providers.
const PROVIDERS: &[Provider] = &[size, placement_share, compile];

/// The lenses of the document.
pub fn code_lenses(m: &Model, cx: &Ctx) -> Vec<CodeLens> {
    m.program
        .functions
        .iter()
        .zip(&m.map.functions)
        .enumerate()
        .flat_map(|(i, (f, spans))| PROVIDERS.iter().flat_map(move |p| p(m, cx, i, f, spans)))
        .collect()
}

fn lens(
    m: &Model,
    cx: &Ctx,
    spans: &FunctionSpans,
    title: String,
    command: &str,
    arguments: Option<Vec<serde_json::Value>>,
) -> CodeLens {
    CodeLens {
        range: cx.range(m, spans.name),
        command: Some(Command {
            title,
            command: command.to_string(),
            arguments,
        }),
        data: None,
    }
}

fn placement_share(m: &Model, cx: &Ctx, fi: usize, _: &Function, spans: &FunctionSpans) -> Vec<CodeLens> {
    let p = placement::of(m, cx.config);
    let Some(f) = p.functions.get(fi) else {
        return Vec::new();
    };
    let target = placement::target(cx.config);
    let (on, all) = f.ane_ops;
    let title = format!(
        "Neural Engine: {on} of {all} ops · estimated {:.2} ms ({}, {})",
        f.latency_ms,
        target.chip.name(),
        target.compute_units.name()
    );
    let args = Some(vec![serde_json::json!(cx.uri.as_str())]);
    vec![lens(m, cx, spans, title, commands::PLACEMENT_REPORT, args)]
}

fn compile(m: &Model, cx: &Ctx, _: usize, _: &Function, spans: &FunctionSpans) -> Vec<CodeLens> {
    let args = Some(vec![serde_json::json!(cx.uri.as_str())]);
    vec![lens(m, cx, spans, "Compile".into(), commands::COMPILE, args)]
}

fn size(m: &Model, cx: &Ctx, _: usize, f: &Function, spans: &FunctionSpans) -> Vec<CodeLens> {
    let consts = f.ops.iter().filter(|o| o.kind == "const").count();
    vec![CodeLens {
        range: cx.range(m, spans.name),
        command: Some(Command {
            title: format!(
                "{} operations ({consts} constants) · {}",
                f.ops.len(),
                if f.opset.is_empty() { "no opset" } else { &f.opset }
            ),
            command: String::new(),
            arguments: None,
        }),
        data: None,
    }]
}
