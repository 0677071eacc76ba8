//! Inlay hints: the input name before each positional argument (`x =`), from the op catalogue,
//! and the device each op runs on after its statement (`inlayHints.device`), from the ANE
//! placement. Hints come from the providers in [`PROVIDERS`].

use crate::config::Config;
use crate::model::Model;
use crate::placement;
use crate::signature_help::opset_of;
use mil_ir::Span;
use mil_ir::catalogue;

/// A hint shown inside the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlayHint {
    /// Where it is shown: before the byte at this offset.
    pub offset: u32,
    /// Its text.
    pub label: String,
    /// What it says.
    pub kind: InlayHintKind,
    /// More about it.
    pub tooltip: Option<String>,
}

/// What an inlay hint says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InlayHintKind {
    /// The input a positional argument binds (`x =`), before it.
    Parameter,
    /// The device an op runs on, after its statement.
    Device,
}

/// Something that offers hints for the statements in a range.
type Provider = fn(&Model, &Config, Span) -> Vec<InlayHint>;

/// The providers.
const PROVIDERS: &[Provider] = &[parameter_names, devices];

/// The hints inside `range`.
pub fn inlay_hints(m: &Model, config: &Config, range: Span) -> Vec<InlayHint> {
    PROVIDERS.iter().flat_map(|p| p(m, config, range)).collect()
}

fn parameter_names(m: &Model, config: &Config, range: Span) -> Vec<InlayHint> {
    if !config.inlay_parameter_names {
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
                    offset: sa.whole.start,
                    label: format!("{} =", input.name),
                    kind: InlayHintKind::Parameter,
                    tooltip: None,
                });
            }
        }
    }
    out
}

fn devices(m: &Model, config: &Config, range: Span) -> Vec<InlayHint> {
    if !config.inlay_device {
        return Vec::new();
    }
    let p = placement::of(m, config);
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
                offset: s.whole.end,
                label: placement::device_label(place.device),
                kind: InlayHintKind::Device,
                tooltip: Some(place.reason.clone()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, model};
    use expect_test::expect;

    fn hints(text: &str, config: &Config) -> String {
        inlay_hints(&model(text), config, Span::new(0, text.len()))
            .iter()
            .map(|h| {
                let line = text[..h.offset as usize].matches('\n').count();
                // The argument a parameter hint stands before, the statement end a device follows.
                let near = match h.kind {
                    InlayHintKind::Parameter => text[h.offset as usize..].split([',', ')']).next(),
                    InlayHintKind::Device => text[..h.offset as usize].rsplit(' ').next(),
                };
                format!(
                    "{line}: {:?} {:?} at {:?} ({})\n",
                    h.kind,
                    h.label,
                    near.unwrap_or(""),
                    h.tooltip.as_deref().unwrap_or("-")
                )
            })
            .collect()
    }

    #[test]
    fn positional_arguments_get_their_names_and_ops_their_device() {
        let positional = TEXT.replace("mul(x = a, y = x)", "mul(a, x)");
        expect![[r#"
            4: Parameter "x =" at "a" (-)
            4: Parameter "y =" at "x" (-)
            3: Device "CPU" at "string(\"a\")]" (moved to cpu (segment 1): ANE-eligible, but the best plan with it on the ANE costs 0.2500 ms more (launch and switch charges outweigh its saving))
            4: Device "CPU" at "string(\"b\")]" (moved to cpu (segment 1): ANE-eligible, but the best plan with it on the ANE costs 0.2500 ms more (launch and switch charges outweigh its saving))
            5: Device "CPU" at "string(\"c\")]" (moved to cpu (segment 1): ANE-eligible, but the best plan with it on the ANE costs 0.2500 ms more (launch and switch charges outweigh its saving))
        "#]]
        .assert_eq(&hints(&positional, &Config::default()));
        let config = Config {
            chip: Some("a14".into()),
            inlay_parameter_names: false,
            ..Config::default()
        };
        expect![[r#"
            3: Device "CPU" at "string(\"a\")]" (moved to cpu (segment 1): ANE-eligible, but the best plan with it on the ANE costs 0.2500 ms more (launch and switch charges outweigh its saving))
            4: Device "CPU" at "string(\"b\")]" (moved to cpu (segment 1): ANE-eligible, but the best plan with it on the ANE costs 0.2500 ms more (launch and switch charges outweigh its saving))
            5: Device "CPU" at "string(\"c\")]" (moved to cpu (segment 1): ANE-eligible, but the best plan with it on the ANE costs 0.2500 ms more (launch and switch charges outweigh its saving))
        "#]]
        .assert_eq(&hints(&positional, &config));
        let none = Config {
            inlay_device: false,
            ..config
        };
        assert_eq!(hints(&positional, &none), "");
    }
}
