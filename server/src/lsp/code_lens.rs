//! Code lenses above each function. Today: its size and opset. ANE placement adds its share of
//! ops on the Neural Engine and the estimated latency, and compile adds a "Compile" lens running
//! `mil.compile`, as providers in [`PROVIDERS`].

use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use mil_ir::{Function, FunctionSpans};
use tower_lsp_server::ls_types::{CodeLens, Command};

/// Something that offers lenses for a function.
type Provider = fn(&Model, &Ctx, &Function, &FunctionSpans) -> Vec<CodeLens>;

/// The providers.
const PROVIDERS: &[Provider] = &[size];

/// The lenses of the document.
pub fn code_lenses(m: &Model, cx: &Ctx) -> Vec<CodeLens> {
    m.program
        .functions
        .iter()
        .zip(&m.map.functions)
        .flat_map(|(f, spans)| PROVIDERS.iter().flat_map(move |p| p(m, cx, f, spans)))
        .collect()
}

fn size(m: &Model, cx: &Ctx, f: &Function, spans: &FunctionSpans) -> Vec<CodeLens> {
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
