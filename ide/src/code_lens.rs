//! Code lenses above each function: its size and opset, its share of ops on the Neural Engine
//! with the estimated latency, and "Compile" (running `mil.compile`). Lenses come from the
//! providers in [`PROVIDERS`].

use crate::config::Config;
use crate::model::Model;
use crate::placement;
use mil_ir::diagnostic::count;
use mil_ir::{Function, FunctionSpans, Span};

/// A line of text above a function, which may run a command on the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeLens {
    /// The function's name.
    pub span: Span,
    /// What it says.
    pub title: String,
    /// What clicking it does.
    pub command: Option<LensCommand>,
}

/// A command a lens runs on its document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LensCommand {
    /// Compile the document to an .mlpackage.
    Compile,
    /// Write the document's placement report.
    PlacementReport,
}

/// Something that offers lenses for function `usize`.
type Provider = fn(&Model, &Config, usize, &Function, &FunctionSpans) -> Vec<CodeLens>;

/// The providers.
const PROVIDERS: &[Provider] = &[size, placement_share, compile];

/// The lenses of the document.
pub fn code_lenses(m: &Model, config: &Config) -> Vec<CodeLens> {
    m.program
        .functions
        .iter()
        .zip(&m.map.functions)
        .enumerate()
        .flat_map(|(i, (f, spans))| PROVIDERS.iter().flat_map(move |p| p(m, config, i, f, spans)))
        .collect()
}

fn lens(spans: &FunctionSpans, title: String, command: Option<LensCommand>) -> CodeLens {
    CodeLens {
        span: spans.name,
        title,
        command,
    }
}

fn placement_share(
    m: &Model,
    config: &Config,
    fi: usize,
    _: &Function,
    spans: &FunctionSpans,
) -> Vec<CodeLens> {
    let p = placement::of(m, config);
    let Some(f) = p.functions.get(fi) else {
        return Vec::new();
    };
    let target = placement::target(config);
    let (on, all) = f.ane_ops;
    let title = format!(
        "Neural Engine: {on} of {all} ops · estimated {:.2} ms ({}, {})",
        f.latency_ms,
        target.chip.name(),
        target.compute_units.name()
    );
    vec![lens(spans, title, Some(LensCommand::PlacementReport))]
}

fn compile(_: &Model, _: &Config, _: usize, _: &Function, spans: &FunctionSpans) -> Vec<CodeLens> {
    vec![lens(spans, "Compile".into(), Some(LensCommand::Compile))]
}

fn size(_: &Model, _: &Config, _: usize, f: &Function, spans: &FunctionSpans) -> Vec<CodeLens> {
    let consts = f.ops.iter().filter(|o| o.kind == "const").count();
    vec![lens(
        spans,
        format!(
            "{} ({}) · {}",
            count(f.ops.len(), "operation"),
            count(consts, "constant"),
            if f.opset.is_empty() { "no opset" } else { &f.opset }
        ),
        None,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, excerpts, model};
    use expect_test::expect;

    fn lenses(config: &Config) -> String {
        code_lenses(&model(TEXT), config)
            .iter()
            .map(|l| {
                format!(
                    "{}  {} {:?}\n",
                    excerpts(TEXT, &[l.span]).trim_end(),
                    l.title,
                    l.command
                )
            })
            .collect()
    }

    #[test]
    fn each_function_shows_its_size_its_placement_on_the_configured_chip_and_compile() {
        expect![[r#"
            2:9 "main"  3 operations (0 constants) · ios18 None
            2:9 "main"  Neural Engine: 0 of 3 ops · estimated 0.00 ms (m4, cpu_and_ne) Some(PlacementReport)
            2:9 "main"  Compile Some(Compile)
        "#]]
        .assert_eq(&lenses(&Config::default()));
        let m1 = Config {
            chip: Some("m1".into()),
            compute_units: "cpu_only".into(),
            ..Config::default()
        };
        expect![[r#"
            2:9 "main"  3 operations (0 constants) · ios18 None
            2:9 "main"  Neural Engine: 0 of 3 ops · estimated 0.00 ms (m1, cpu_only) Some(PlacementReport)
            2:9 "main"  Compile Some(Compile)
        "#]]
        .assert_eq(&lenses(&m1));
    }
}
