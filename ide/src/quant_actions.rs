//! Quantisation as code actions: on a const (or an op reading one) that coremltools would
//! quantise, `refactor.rewrite` actions that quantise that weight (int8 per channel, int4 per
//! channel, a 16-entry k-means table); and whole-file source actions (`source.quantize`) for each
//! mode of `mil quantize`.
//!
//! Titles say what their figures are. A weight's action gives the sizes and the weight's SNR
//! (dequantised weight against the original); a whole-file action the sizes. Both add the
//! model's worst output PSNR against the float program, run by the interpreter on one set of
//! random inputs (seed 0, as `mil quantize` reports it), when the program is small enough to
//! quantise and run twice per action at a light bulb ([`MEASURED_UP_TO`]); otherwise the title
//! says it was not measured (a whole-file action then has no sizes either: `mil quantize`
//! reports them).
//!
//! An action carries a [`QuantizeCommand`] rather than edits: the quantised weights must be
//! written beside the document when the edit is applied, so the server runs [`quantize`] then —
//! it picks a new weight folder, writes the weights there, and asks the client to apply the edits.

use crate::ane_fixes;
use crate::code_actions::{CodeAction, CodeActionKind};
use crate::locate;
use crate::model::Model;
use crate::text_edit::TextEdit;
use mil_eval::Interpreter;
use mil_ir::weights::{MemoryWeights, Weights};
use mil_ir::{OpId, Operand, Program, Span, ValueDef};
use mil_proto::blob::BlobWriter;
use mil_proto::weights::{WeightFiles, write_memory_weights};
use mil_quant::linear::{IntType, Mode as LinearMode};
use mil_quant::psnr::Model as Psnr;
use mil_quant::{Config, Granularity, PaletteConfig, Quantized};

/// Weights of more elements get no k-means action at the cursor (its title would cost a
/// clustering at every light bulb); the whole-file actions still palettise them.
const LIGHT_BULB_TABLES_UP_TO: u64 = 1 << 20;

/// Programs whose values (every op result of every function, consts included, counted in
/// elements) number at most this many get their figures measured for the action titles.
const MEASURED_UP_TO: u64 = 1 << 20;

/// What to quantise to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// fp16 compute precision.
    Fp16,
    /// int8 weights, symmetric, per channel.
    W8,
    /// int4 weights, symmetric, per channel (iOS18).
    W4,
    /// A 16-entry k-means table per weight.
    Lut4,
    /// A 64-entry k-means table per weight.
    Lut6,
    /// A 256-entry k-means table per weight.
    Lut8,
}

impl Mode {
    /// Every mode, in the order the source actions list them.
    pub const ALL: [Mode; 6] = [Mode::Fp16, Mode::W8, Mode::W4, Mode::Lut4, Mode::Lut6, Mode::Lut8];

    /// The modes offered on one weight.
    const ON_A_WEIGHT: [Mode; 3] = [Mode::W8, Mode::W4, Mode::Lut4];

    /// The mode as `mil quantize --mode` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Fp16 => "fp16",
            Mode::W8 => "w8",
            Mode::W4 => "w4",
            Mode::Lut4 => "lut4",
            Mode::Lut6 => "lut6",
            Mode::Lut8 => "lut8",
        }
    }

    /// Whether the mode makes look-up tables.
    fn is_lut(self) -> bool {
        matches!(self, Mode::Lut4 | Mode::Lut6 | Mode::Lut8)
    }

    /// The mode spelled `name`.
    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// What it makes of a weight.
    fn phrase(self) -> &'static str {
        match self {
            Mode::Fp16 => "fp16 compute precision",
            Mode::W8 => "int8 per channel",
            Mode::W4 => "int4 per channel",
            Mode::Lut4 => "a 16-entry k-means table (4-bit)",
            Mode::Lut6 => "a 64-entry k-means table (6-bit)",
            Mode::Lut8 => "a 256-entry k-means table (8-bit)",
        }
    }

    /// Applies the mode to `program` (to the const named `only`, when given).
    fn apply(
        self,
        program: &mut Program,
        weights: &mut dyn Weights,
        memory: &mut MemoryWeights,
        only: Option<&str>,
    ) -> Result<Vec<Quantized>, String> {
        let keep = |name: &str| only.is_none_or(|o| o == name);
        let linear = |int| Config {
            int,
            mode: LinearMode::Symmetric,
            granularity: Granularity::PerChannel,
            ..Config::default()
        };
        let lut = |bits| PaletteConfig {
            bits,
            group: None,
            threshold: Config::default().threshold,
        };
        let done = match self {
            Mode::Fp16 => mil_quant::fp16::compute_in_fp16(program, weights, memory).map(|s| s.consts),
            Mode::W8 => {
                mil_quant::quantize_weights_where(program, weights, memory, &linear(IntType::Int8), &keep)
            }
            Mode::W4 => {
                mil_quant::quantize_weights_where(program, weights, memory, &linear(IntType::Int4), &keep)
            }
            Mode::Lut4 => mil_quant::palettize_weights_where(program, weights, memory, &lut(4), &keep),
            Mode::Lut6 => mil_quant::palettize_weights_where(program, weights, memory, &lut(6), &keep),
            Mode::Lut8 => mil_quant::palettize_weights_where(program, weights, memory, &lut(8), &keep),
        };
        done.map_err(|e| e.to_string())
    }
}

/// What an action asks the server to do when it is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantizeCommand {
    /// The mode.
    pub mode: Mode,
    /// The const to quantise; `None`: the whole document.
    pub weight: Option<String>,
}

/// The result of [`quantize`]: the edits of the text and the weight file they refer to.
pub struct Quantization {
    /// The edits.
    pub edits: Vec<TextEdit>,
    /// The bytes of the new weight file; `None` when the edits refer to none.
    pub weight_file: Option<Vec<u8>>,
    /// What was quantised.
    pub done: Vec<Quantized>,
}

/// Quantises the document as `command` says, its new weights going to a weight file that the
/// text will name `weight_path` (`@model_path/...`).
pub fn quantize(m: &Model, command: &QuantizeCommand, weight_path: &str) -> Result<Quantization, String> {
    let dir = (m.model_dir.as_deref()).ok_or("the document is not on disk: save it first")?;
    if m.all_diagnostics().any(|d| d.severity == mil_ir::Severity::Error) {
        return Err("the program has errors: fix them first".into());
    }
    let mut program = m.program.clone();
    let mut memory = MemoryWeights::default();
    let done = command.mode.apply(
        &mut program,
        &mut WeightFiles::new(dir),
        &mut memory,
        command.weight.as_deref(),
    )?;
    if done.is_empty() && command.mode != Mode::Fp16 {
        return Err("no weight is large enough to quantise".into());
    }
    let mut blobs = BlobWriter::new(std::io::Cursor::new(Vec::new())).map_err(|e| e.to_string())?;
    write_memory_weights(&mut program, &memory, 0, weight_path, &mut blobs)
        .map_err(|(_, message)| message)?;
    let count = blobs.count();
    let bytes = blobs.finish().map_err(|e| e.to_string())?.into_inner();
    let edits = ane_fixes::edits(&m.rope.to_string(), &m.program, &m.map, &program)
        .ok_or("the quantised program cannot be lined up with the text")?;
    Ok(Quantization {
        edits,
        weight_file: (count > 0).then_some(bytes),
        done,
    })
}

/// `refactor.rewrite` actions quantising the weight at `range`: the const there, or each const an
/// op there reads.
pub fn weight_actions(m: &Model, range: Span) -> Vec<CodeAction> {
    let Some((fi, op)) = locate::statement_at(m, range.start) else {
        return Vec::new();
    };
    let Some(dir) = m.model_dir.as_deref() else {
        return Vec::new();
    };
    let f = &m.program.functions[fi];
    let o = f.op(op);
    let const_ops: Vec<OpId> = if o.kind == "const" {
        vec![op]
    } else {
        (o.args.iter())
            .filter_map(|a| match &a.value {
                Operand::Value(r) => match f.value(r.id?).def {
                    ValueDef::Result(c, 0) if f.op(c).kind == "const" => Some(c),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    };
    let consts = const_ops.into_iter().filter_map(|c| {
        let name = f.op(c).name()?.to_string();
        let elements = f.value(*f.op(c).results.first()?).ty.element_count()?;
        Some((name, elements))
    });
    let mut actions = Vec::new();
    for (name, elements) in consts {
        for mode in Mode::ON_A_WEIGHT {
            if mode.is_lut() && elements > LIGHT_BULB_TABLES_UP_TO {
                continue;
            }
            let mut program = m.program.clone();
            let mut memory = MemoryWeights::default();
            let Ok(done) = mode.apply(&mut program, &mut WeightFiles::new(dir), &mut memory, Some(&name))
            else {
                continue;
            };
            let Some(q) = done.first() else {
                continue;
            };
            actions.push(CodeAction {
                title: format!(
                    "Quantize weight `{name}` to {} — {} → {}, weight SNR {:.0} dB, {}",
                    mode.phrase(),
                    size(q.bytes_before),
                    size(q.bytes_after),
                    q.error.snr_db,
                    output_psnr(m, dir, &program, &memory)
                ),
                kind: CodeActionKind::RefactorRewrite,
                fixes: None,
                edits: Vec::new(),
                preferred: false,
                command: Some(QuantizeCommand {
                    mode,
                    weight: Some(name.clone()),
                }),
            });
        }
    }
    actions
}

/// One `source.quantize` action per mode, for the whole document: the edits are computed when it
/// is chosen, the figures of the title now (a mode with nothing to quantise gets no action).
pub fn file_actions(m: &Model, _: Span) -> Vec<CodeAction> {
    let Some(dir) = m.model_dir.as_deref() else {
        return Vec::new();
    };
    if m.program.functions.is_empty() {
        return Vec::new();
    }
    let measured = is_small(&m.program);
    let mut actions = Vec::new();
    for mode in Mode::ALL {
        let figures = if measured {
            let mut program = m.program.clone();
            let mut memory = MemoryWeights::default();
            let Ok(done) = mode.apply(&mut program, &mut WeightFiles::new(dir), &mut memory, None) else {
                continue;
            };
            if done.is_empty() && mode != Mode::Fp16 {
                continue;
            }
            let before: u64 = done.iter().map(|q| q.bytes_before).sum();
            let after: u64 = done.iter().map(|q| q.bytes_after).sum();
            format!(
                " — {} → {}, {}",
                size(before),
                size(after),
                output_psnr(m, dir, &program, &memory)
            )
        } else {
            NOT_MEASURED.into()
        };
        actions.push(CodeAction {
            title: format!(
                "Quantize the file to {}{figures} (mil quantize --mode {})",
                mode.phrase(),
                mode.name()
            ),
            kind: CodeActionKind::SourceQuantize,
            fixes: None,
            edits: Vec::new(),
            preferred: false,
            command: Some(QuantizeCommand { mode, weight: None }),
        });
    }
    actions
}

/// What a title says of a program too large to measure at a light bulb.
const NOT_MEASURED: &str = " — output PSNR not measured (program too large to run here)";

/// Whether `program` is small enough to quantise and run for a title ([`MEASURED_UP_TO`]).
fn is_small(program: &Program) -> bool {
    let elements = program.functions.iter().try_fold(0u64, |sum, f| {
        f.walk_ops()
            .into_iter()
            .flat_map(|op| f.op(op).results.iter())
            .try_fold(sum, |sum, &r| sum.checked_add(f.value(r).ty.element_count()?))
    });
    elements.is_some_and(|n| n <= MEASURED_UP_TO)
}

/// The worst output PSNR of `quantized` (its new weights in `memory`) against the document, as a
/// title says it: measured by the interpreter on random inputs (seed 0) when the program is small
/// enough ([`is_small`]).
fn output_psnr(m: &Model, dir: &std::path::Path, quantized: &Program, memory: &MemoryWeights) -> String {
    if !is_small(&m.program) {
        return NOT_MEASURED.trim_start_matches(" — ").into();
    }
    let reference = Psnr {
        program: &m.program,
        model_dir: Some(dir),
        memory: None,
    };
    let test = Psnr {
        program: quantized,
        model_dir: Some(dir),
        memory: Some(memory),
    };
    let measured = Interpreter::new(&m.program, Some(dir))
        .function(None)
        .map_err(|e| e.to_string())
        .and_then(|f| mil_eval::inputs::random(f, 0))
        .and_then(|inputs| mil_quant::psnr::output_psnr(&reference, &test, None, &[inputs]));
    match measured {
        Ok(outputs) => match outputs.iter().map(|o| o.psnr).reduce(f64::min) {
            Some(worst) => format!("output PSNR {worst:.0} dB on random inputs"),
            None => "no float output to measure".into(),
        },
        Err(_) => "output PSNR not measured (the interpreter cannot run the program)".into(),
    }
}

/// A byte count as people read it (B, KB, MB).
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code_actions::code_actions;
    use crate::tests::apply;
    use expect_test::expect;
    use ropey::Rope;

    /// A folder with `weights/weight.bin` holding a 64×48 fp32 weight (3072 values, above
    /// coremltools' threshold), and a program whose linear layer reads it; a second layer reads a
    /// 4×4 inline weight (below the threshold).
    fn program(dir: &std::path::Path) -> String {
        let values: Vec<u8> = (0..64 * 48)
            .flat_map(|i| ((i % 97) as f32 / 97.0 - 0.5).to_le_bytes())
            .collect();
        std::fs::create_dir(dir.join("weights")).unwrap();
        let file = std::fs::File::create(dir.join("weights/weight.bin")).unwrap();
        let mut blobs = BlobWriter::new(file).unwrap();
        let offset = blobs.append_bytes(mil_ir::DType::Fp32, 64 * 48, &values).unwrap();
        blobs.finish().unwrap();
        let small: Vec<String> = (0..16).map(|i| format!("{i}.0")).collect();
        format!(
            "program(1.3)\n{{\n    func main<ios18>(tensor<fp32, [1, 48]> x, tensor<fp32, [1, 4]> s) {{\n            \
             tensor<fp32, [64, 48]> w = const()[name = string(\"w\"), val = tensor<fp32, [64, 48]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64({offset})))];\n            \
             tensor<fp32, [4, 4]> v = const()[name = string(\"v\"), val = tensor<fp32, [4, 4]>([{}])];\n            \
             tensor<fp32, [1, 64]> y = linear(weight = w, x = x)[name = string(\"y\")];\n            \
             tensor<fp32, [1, 4]> z = linear(weight = v, x = s)[name = string(\"z\")];\n        }} -> (y, z);\n}}\n",
            small.join(", ")
        )
    }

    fn model_in(dir: &std::path::Path, text: &str) -> Model {
        Model::build(1, text, Rope::from_str(text), Some(dir), Default::default())
    }

    #[test]
    fn a_large_weight_gets_an_action_per_mode_with_sizes_and_error() {
        let dir = tempfile::tempdir().unwrap();
        let text = program(dir.path());
        let m = model_in(dir.path(), &text);
        let at = |needle: &str| {
            let o = text.find(needle).unwrap();
            let actions = code_actions(&m, Span::new(o, o), |k| k == CodeActionKind::RefactorRewrite);
            actions
                .iter()
                .map(|a| format!("{}\n", a.title))
                .collect::<String>()
        };
        expect![[r#"
            Quantize weight `w` to int8 per channel — 12.0 KB → 3.2 KB, weight SNR 49 dB, output PSNR 60 dB on random inputs
            Quantize weight `w` to int4 per channel — 12.0 KB → 1.8 KB, weight SNR 24 dB, output PSNR 36 dB on random inputs
            Quantize weight `w` to a 16-entry k-means table (4-bit) — 12.0 KB → 1.6 KB, weight SNR 24 dB, output PSNR 40 dB on random inputs
        "#]]
        .assert_eq(&at("tensor<fp32, [64, 48]> w"));
        // On the op reading it, the same; the small weight gets none.
        assert_eq!(at("tensor<fp32, [1, 64]> y"), at("tensor<fp32, [64, 48]> w"));
        assert_eq!(at("tensor<fp32, [1, 4]> z"), "");
        // Whole-file actions are asked for as source actions.
        let o = text.find("linear").unwrap();
        let files = code_actions(&m, Span::new(o, o), |k| k == CodeActionKind::SourceQuantize);
        expect![[r#"
            Quantize the file to fp16 compute precision — 12.1 KB → 6.0 KB, output PSNR 71 dB on random inputs (mil quantize --mode fp16)
            Quantize the file to int8 per channel — 12.0 KB → 3.2 KB, output PSNR 60 dB on random inputs (mil quantize --mode w8)
            Quantize the file to int4 per channel — 12.0 KB → 1.8 KB, output PSNR 36 dB on random inputs (mil quantize --mode w4)
            Quantize the file to a 16-entry k-means table (4-bit) — 12.0 KB → 1.6 KB, output PSNR 40 dB on random inputs (mil quantize --mode lut4)
            Quantize the file to a 64-entry k-means table (6-bit) — 12.0 KB → 2.5 KB, output PSNR 45 dB on random inputs (mil quantize --mode lut6)
            Quantize the file to a 256-entry k-means table (8-bit) — 12.0 KB → 4.0 KB, output PSNR 113 dB on random inputs (mil quantize --mode lut8)
        "#]]
        .assert_eq(&files.iter().map(|a| format!("{}\n", a.title)).collect::<String>());
        assert!(
            files
                .iter()
                .all(|a| a.command.as_ref().is_some_and(|c| c.weight.is_none()))
        );
    }

    #[test]
    fn a_program_too_large_to_run_at_a_light_bulb_gets_titles_without_figures() {
        let dir = tempfile::tempdir().unwrap();
        // 2²⁰ + 1024 elements of results: over the budget (the weight file is never read).
        let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [1, 1024]> x) {\n            \
             tensor<fp32, [1025, 1024]> w = const()[name = string(\"w\"), val = tensor<fp32, [1025, 1024]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(64)))];\n            \
             tensor<fp32, [1, 1025]> y = linear(weight = w, x = x)[name = string(\"y\")];\n        } -> (y);\n}\n";
        let m = model_in(dir.path(), text);
        let files = code_actions(&m, Span::new(0, 0), |k| k == CodeActionKind::SourceQuantize);
        expect![[r#"
            Quantize the file to fp16 compute precision — output PSNR not measured (program too large to run here) (mil quantize --mode fp16)
            Quantize the file to int8 per channel — output PSNR not measured (program too large to run here) (mil quantize --mode w8)
            Quantize the file to int4 per channel — output PSNR not measured (program too large to run here) (mil quantize --mode w4)
            Quantize the file to a 16-entry k-means table (4-bit) — output PSNR not measured (program too large to run here) (mil quantize --mode lut4)
            Quantize the file to a 64-entry k-means table (6-bit) — output PSNR not measured (program too large to run here) (mil quantize --mode lut6)
            Quantize the file to a 256-entry k-means table (8-bit) — output PSNR not measured (program too large to run here) (mil quantize --mode lut8)
        "#]]
        .assert_eq(&files.iter().map(|a| format!("{}\n", a.title)).collect::<String>());
    }

    #[test]
    fn the_edit_replaces_the_const_and_names_the_new_weight_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = program(dir.path());
        let m = model_in(dir.path(), &text);
        let command = QuantizeCommand {
            mode: Mode::W8,
            weight: Some("w".into()),
        };
        let q = quantize(&m, &command, "@model_path/model.w8.weights/weight.bin").unwrap();
        let new_text = apply(&text, &q.edits);
        let w = new_text
            .lines()
            .find(|l| l.contains("w_quantized ="))
            .unwrap()
            .trim();
        expect![[r#"tensor<fp32, [64, 48]> w_quantized = constexpr_blockwise_shift_scale(data = tensor<int8, [64, 48]>(BLOBFILE(path = string("@model_path/model.w8.weights/weight.bin"), offset = uint64(64))), scale = tensor<fp32, [64, 1]>(BLOBFILE(path = string("@model_path/model.w8.weights/weight.bin"), offset = uint64(3200))))[name = string("w_quantized")];"#]]
        .assert_eq(w);
        assert!(new_text.contains("linear(weight = w_quantized, x = x)"));
        assert!(new_text.contains("tensor<fp32, [4, 4]> v = const()"));
        // The weight file holds the int8 data and the scales; with it in place the text checks.
        let bytes = q.weight_file.unwrap();
        std::fs::create_dir(dir.path().join("model.w8.weights")).unwrap();
        std::fs::write(dir.path().join("model.w8.weights/weight.bin"), &bytes).unwrap();
        let checked = model_in(dir.path(), &new_text);
        let errors: Vec<_> = checked
            .all_diagnostics()
            .filter(|d| d.severity == mil_ir::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        // Whole-file fp16: every op in fp16, casts at the edges, the output names kept.
        let fp16 = quantize(
            &m,
            &QuantizeCommand {
                mode: Mode::Fp16,
                weight: None,
            },
            "@model_path/m.fp16.weights/weight.bin",
        )
        .unwrap();
        let new_text = apply(&text, &fp16.edits);
        assert!(
            new_text.contains("y_cast_fp16 = linear(weight = w_to_fp16, x = x_to_fp16)"),
            "{new_text}"
        );
        assert!(new_text.contains("tensor<fp32, [1, 64]> y = cast("), "{new_text}");
    }
}
