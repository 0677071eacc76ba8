//! ANE surgery as edits of the text: the rewrites of `mil-rewrite` offered as quick fixes on the
//! ANE diagnostics that name them, a fix-all that applies every helpful one, and the minimal
//! text change that turns a document into its rewritten program.
//!
//! A rewrite is offered only when [`helps::Assessment::helps`] says so for the document's
//! configured chip and compute units. The edit replaces the statements a rewrite changed (the
//! op it replaced, the ops it made) by the printed new ones, indented as the first of them was;
//! every other statement keeps its text. The rewrites make only small inline constants
//! (cumsum's triangular matrix and band_part's mask, at most `mil_rewrite::build::MAX_CONSTANT`
//! elements), so no weight file is written.

use crate::code_actions::{CodeAction, CodeActionKind};
use crate::formatting::semicolon_after;
use crate::locate;
use crate::model::Model;
use crate::text_edit::TextEdit;
use mil_ane::placement::{Source, place_function};
use mil_ane::{Device, Target};
use mil_ir::{BlockId, Diagnostic, Function, FunctionSpans, OpId, Program, SourceMap, Span, printer};
use mil_rewrite::helps::{self, Assessment};
use mil_rewrite::{Rewrite, apply};

/// The rewrite an ANE diagnostic's fix names: its message ends with `; fix: ` and the rewrite's id
/// in backticks, then what the fix does (see `mil_ane::diagnostics::diagnostic`).
pub fn named_rewrite(d: &Diagnostic) -> Option<&'static Rewrite> {
    if !d.code.id.starts_with("ANE") {
        return None;
    }
    let (_, fix) = d.message.rsplit_once("; fix: ")?;
    let id = fix.strip_prefix('`')?.split('`').next()?;
    mil_rewrite::by_id(id)
}

/// One quick fix per ANE diagnostic overlapping `range` whose rewrite helps.
pub fn quick_fixes(m: &Model, range: Span) -> Vec<CodeAction> {
    let named: Vec<(&Diagnostic, &'static Rewrite)> = m
        .program_diagnostics
        .iter()
        .filter(|d| d.span.start <= range.end && d.span.end >= range.start)
        .filter_map(|d| Some((d, named_rewrite(d)?)))
        .collect();
    if named.is_empty() {
        return Vec::new();
    }
    let text = m.rope.to_string();
    let mut offered: Vec<(usize, OpId)> = Vec::new();
    named
        .into_iter()
        .filter_map(|(d, rewrite)| {
            let (fi, op) = locate::statement_at(m, d.span.start)?;
            if offered.contains(&(fi, op)) {
                return None;
            }
            let spans = &m.map.functions[fi];
            let a = helps::assess(&m.program, spans, fi, op, rewrite, m.target).ok()?;
            if !a.helps() {
                return None;
            }
            let edits = edits(&text, &m.program, &m.map, &a.rewritten)?;
            offered.push((fi, op));
            Some(CodeAction {
                title: a.title,
                kind: CodeActionKind::QuickFix,
                fixes: Some(d.clone()),
                edits,
                preferred: true,
                command: None,
            })
        })
        .collect()
}

/// Every helpful rewrite of the document in one action, when there is one.
pub fn fix_all(m: &Model, _: Span) -> Vec<CodeAction> {
    if !m.program_diagnostics.iter().any(|d| named_rewrite(d).is_some()) {
        return Vec::new();
    }
    let Some(fixed) = fix_text(&m.rope.to_string(), &m.program, &m.map, m.target, None) else {
        return Vec::new();
    };
    vec![CodeAction {
        title: format!(
            "Rewrite {} op(s) the Neural Engine refuses (mil fix)",
            fixed.applied.len()
        ),
        kind: CodeActionKind::FixAllAne,
        fixes: None,
        edits: fixed.edits,
        preferred: false,
        command: None,
    }]
}

/// What [`fix_text`] did to a text.
pub struct FixedText {
    /// The rewritten program.
    pub program: Program,
    /// The title of each rewrite applied, in the order applied.
    pub applied: Vec<String>,
    /// The edits of the text.
    pub edits: Vec<TextEdit>,
}

/// Every helpful rewrite (of `only`, when given) of `text`, read into `program` and `map`, as
/// [`fix_program`] finds them, with the edits that make them; `None` when none helps (or the edit
/// cannot be lined up with the text).
pub fn fix_text(
    text: &str,
    program: &Program,
    map: &SourceMap,
    target: Target,
    only: Option<&[&'static Rewrite]>,
) -> Option<FixedText> {
    let fixed = fix_program(program, map, target, only);
    if fixed.applied.is_empty() {
        return None;
    }
    let edits = edits(text, program, map, &fixed.program)?;
    Some(FixedText {
        program: fixed.program,
        applied: fixed.applied,
        edits,
    })
}

/// What [`fix_file`] made of a file.
pub struct FixedFile {
    /// The title of each rewrite applied, in the order applied.
    pub applied: Vec<String>,
    /// The planner's prediction for each function before the rewrites.
    pub before: Vec<Plan>,
    /// And after them.
    pub after: Vec<Plan>,
    /// The rewritten text.
    pub text: String,
}

/// Every helpful rewrite (of `only`, when given) of the file `text` (its weights under
/// `model_dir`) on the chip and compute units of `config`, as `mil fix` applies them: the
/// diagnostics when the program has errors (what only a package cannot hold, Core ML's runtime
/// buffers in its analytics files, does not stop it), `None` when no rewrite helps.
pub fn fix_file(
    text: &str,
    model_dir: Option<&std::path::Path>,
    config: &crate::config::Config,
    only: Option<&[&'static Rewrite]>,
) -> Result<Option<FixedFile>, Vec<Diagnostic>> {
    let analysed = crate::analysis::analyse_text(text, model_dir, config);
    if mil_ir::diagnostic::has_errors(&analysed.diagnostics) {
        return Err(analysed.diagnostics);
    }
    let target = config.target();
    let Some(fixed) = fix_text(text, &analysed.program, &analysed.source_map, target, only) else {
        return Ok(None);
    };
    Ok(Some(FixedFile {
        before: plans(&analysed.program, target),
        after: plans(&fixed.program, target),
        text: crate::text_edit::apply(text, &fixed.edits),
        applied: fixed.applied,
    }))
}

/// What the planner predicts for one function.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The function's name.
    pub function: String,
    /// Planned ops on the Neural Engine.
    pub on_ane: usize,
    /// Planned ops (not constants).
    pub planned: usize,
    /// Segments (runs of ops on one device).
    pub segments: usize,
    /// Estimated latency in ms.
    pub ms: f64,
}

/// The planner's prediction for every function of `program` on `target`.
pub fn plans(program: &Program, target: Target) -> Vec<Plan> {
    program
        .functions
        .iter()
        .map(|f| {
            let p = place_function(f, target, Source::Ours);
            Plan {
                function: f.name.clone(),
                on_ane: p.planned().filter(|o| o.device == Device::Ane).count(),
                planned: p.planned().count(),
                segments: p.segments.len(),
                ms: p.latency_ms,
            }
        })
        .collect()
}

/// A program with every helpful rewrite applied, and what each did.
pub struct Fixed {
    /// The rewritten program.
    pub program: Program,
    /// The title of each rewrite applied, in the order applied ("Rewrite tan as sin/cos — …").
    pub applied: Vec<String>,
}

/// Applies, op by op in program order, every rewrite (of `only`, when given; else every rewrite
/// but the opt-in ones, `mil_rewrite::OPT_IN`) that takes the op and helps on `target` in the
/// program rewritten so far.
pub fn fix_program(
    program: &Program,
    map: &SourceMap,
    target: Target,
    only: Option<&[&'static Rewrite]>,
) -> Fixed {
    let mut fixed = program.clone();
    let mut applied = Vec::new();
    for (fi, f) in program.functions.iter().enumerate() {
        let Some(spans) = map.functions.get(fi) else {
            continue;
        };
        let mut spans = spans.clone();
        for op in (0..f.ops.len() as u32).map(OpId) {
            let candidates = mil_rewrite::applicable(&fixed.functions[fi], op).filter(|r| match only {
                Some(only) => only.iter().any(|o| o.id == r.id),
                None => !mil_rewrite::is_opt_in(r),
            });
            let mut helpful = None;
            for rewrite in candidates.collect::<Vec<_>>() {
                match helps::assess(&fixed, &spans, fi, op, rewrite, target) {
                    Ok(a) if a.helps() => {
                        helpful = Some((rewrite, a));
                        break;
                    }
                    _ => {}
                }
            }
            let Some((rewrite, Assessment { title, .. })) = helpful else {
                continue;
            };
            if apply(rewrite, &mut fixed.functions[fi], &mut spans, op).is_ok() {
                applied.push(title);
            }
        }
    }
    Fixed {
        program: fixed,
        applied,
    }
}

/// The edits that turn `text` (read into `program` and `map`) into the text of `rewritten`, a
/// copy of `program` in which ops were erased, added, or changed in place: one edit per run of
/// changed statements. `None` when the two cannot be lined up (ops reordered) or a statement's
/// end is not where the map says.
pub fn edits(text: &str, program: &Program, map: &SourceMap, rewritten: &Program) -> Option<Vec<TextEdit>> {
    let mut edits = Vec::new();
    for (fi, (f, g)) in program.functions.iter().zip(&rewritten.functions).enumerate() {
        let spans = map.functions.get(fi)?;
        for b in 0..f.blocks.len() {
            edits.extend(block_edits(text, f, g, spans, BlockId(b as u32))?);
        }
    }
    Some(edits)
}

/// The edits of one block: runs of original statements replaced by the rewritten ones.
fn block_edits(
    text: &str,
    f: &Function,
    g: &Function,
    spans: &FunctionSpans,
    b: BlockId,
) -> Option<Vec<TextEdit>> {
    let (old, new) = (&f.block(b).ops, &g.block(b).ops);
    let original = |id: OpId| id.index() < f.ops.len();
    let same = |id: OpId| {
        f.op(id) == g.op(id) || printer::print_operation(f, id, 0) == printer::print_operation(g, id, 0)
    };
    let matches = |i: usize, j: usize| i < old.len() && j < new.len() && old[i] == new[j] && same(old[i]);
    let mut edits = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        while matches(i, j) {
            (i, j) = (i + 1, j + 1);
        }
        if i == old.len() && j == new.len() {
            return Some(edits);
        }
        let (i0, j0) = (i, j);
        loop {
            if j < new.len() && !original(new[j]) {
                j += 1;
            } else if i < old.len() && g.op(old[i]).is_erased() {
                i += 1;
            } else if i < old.len() && j < new.len() && old[i] == new[j] && !same(old[i]) {
                (i, j) = (i + 1, j + 1);
            } else {
                break;
            }
        }
        if (i, j) == (i0, j0) {
            return None;
        }
        // A run that only adds statements takes the one before it (or after it) along.
        let (from, to) = match (i0 == i, i0 > 0) {
            (false, _) => ((i0, j0), (i, j)),
            (true, true) => ((i0 - 1, j0 - 1), (i, j)),
            (true, false) if i < old.len() => ((i0, j0), (i + 1, j + 1)),
            (true, false) => return None,
        };
        edits.push(replace(text, g, spans, &old[from.0..to.0], &new[from.1..to.1])?);
        (i, j) = to;
    }
}

/// Replaces the statements `old` (of the original text) by `new` (of `g`) printed with the first
/// one's indentation.
fn replace(text: &str, g: &Function, spans: &FunctionSpans, old: &[OpId], new: &[OpId]) -> Option<TextEdit> {
    let start = spans.ops.get(old.first()?.index())?.whole.start as usize;
    let last_end = spans.ops.get(old.last()?.index())?.whole.end as usize;
    let end = last_end + semicolon_after(text.get(last_end..)?)? + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indentation: String = text[line_start..start]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let printed: Vec<String> = new
        .iter()
        .map(|&id| printer::print_operation(g, id, indentation.len()))
        .collect();
    let separator = format!("\n{indentation}");
    Some(TextEdit::new(Span::new(start, end), printed.join(&separator)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code_actions::code_actions;
    use crate::tests::{apply, model};
    use expect_test::expect;

    /// `x → conv 3×3 → tan → conv 3×3 → cumsum (last axis) → conv 3×3 → out`, fp16, `c` channels
    /// of `s`×`s` (the weight `w` an input).
    fn program(c: usize, s: usize) -> String {
        let t = format!("tensor<fp16, [1, {c}, {s}, {s}]>");
        let conv = |name: &str, x: &str| {
            format!(
                "        {t} {name} = conv(x = {x}, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"same\"), dilations = tensor<int32, [2]>([1, 1]), groups = int32(1))[name = string(\"{name}\")];\n"
            )
        };
        format!(
            "program(1.3)\n{{\n    func main<ios18>({t} x, tensor<fp16, [{c}, {c}, 3, 3]> w) {{\n{}        {t} b = tan(x = a)[name = string(\"b\")];\n{}        {t} d = cumsum(x = c, axis = int32(3))[name = string(\"d\")];\n{}    }} -> (out);\n}}\n",
            conv("a", "x"),
            conv("c", "b"),
            conv("out", "d"),
        )
    }

    /// Each action's title and kind, then each edit: the statements it replaces (`-`) and the
    /// text it writes (`+`), lines cut at [`SHOWN`] characters.
    fn listed(text: &str) -> String {
        let m = model(text);
        let cut = |prefix: &str, t: &str| -> String {
            t.lines()
                .map(|l| format!("{prefix}{}\n", l.chars().take(SHOWN).collect::<String>()))
                .collect()
        };
        code_actions(&m, Span::new(0, text.len()), |_| true)
            .iter()
            .map(|a| {
                let edits: String = a
                    .edits
                    .iter()
                    .map(|e| cut("- ", &text[e.span.range()]) + &cut("+ ", &e.text))
                    .collect();
                format!("{} [{:?}]\n{edits}", a.title, a.kind)
            })
            .collect()
    }

    /// Lines longer than this are cut in the snapshots (the triangular constants are long).
    const SHOWN: usize = 150;

    #[test]
    fn tan_and_cumsum_between_large_convs_get_a_quick_fix_each_and_a_fix_all() {
        let shown = listed(&program(64, 64));
        expect![[r#"
            Rewrite tan as sin/cos — CPU → ANE, est. 1.091 → 0.751 ms [QuickFix]
            - tensor<fp16, [1, 64, 64, 64]> b = tan(x = a)[name = string("b")];
            -         tensor<fp16, [1, 64, 64, 64]> c = conv(x = b, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string("same"), dilations = tensor<
            + tensor<fp16, [1, 64, 64, 64]> b_sin = sin(x = a)[name = string("b_sin")];
            +         tensor<fp16, [1, 64, 64, 64]> b_cos = cos(x = a)[name = string("b_cos")];
            +         tensor<fp16, [1, 64, 64, 64]> b_tan = real_div(x = b_sin, y = b_cos)[name = string("b_tan")];
            +         tensor<fp16, [1, 64, 64, 64]> c = conv(x = b_tan, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string("same"), dilations = ten
            Rewrite cumsum as a matmul with a triangular matrix — CPU → ANE, est. 1.091 → 0.713 ms [QuickFix]
            - tensor<fp16, [1, 64, 64, 64]> d = cumsum(x = c, axis = int32(3))[name = string("d")];
            -         tensor<fp16, [1, 64, 64, 64]> out = conv(x = d, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string("same"), dilations = tenso
            + tensor<fp16, [64, 64]> d_triangle = const()[name = string("d_triangle"), val = tensor<fp16, [64, 64]>([[0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0
            +         tensor<fp16, [1, 64, 64, 64]> d_matmul = matmul(transpose_x = bool(false), transpose_y = bool(false), x = c, y = d_triangle)[name = string("d_
            +         tensor<fp16, [1, 64, 64, 64]> out = conv(x = d_matmul, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string("same"), dilations 
            Rewrite 2 op(s) the Neural Engine refuses (mil fix) [FixAllAne]
            - tensor<fp16, [1, 64, 64, 64]> b = tan(x = a)[name = string("b")];
            -         tensor<fp16, [1, 64, 64, 64]> c = conv(x = b, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string("same"), dilations = tensor<
            -         tensor<fp16, [1, 64, 64, 64]> d = cumsum(x = c, axis = int32(3))[name = string("d")];
            -         tensor<fp16, [1, 64, 64, 64]> out = conv(x = d, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string("same"), dilations = tenso
            + tensor<fp16, [1, 64, 64, 64]> b_sin = sin(x = a)[name = string("b_sin")];
            +         tensor<fp16, [1, 64, 64, 64]> b_cos = cos(x = a)[name = string("b_cos")];
            +         tensor<fp16, [1, 64, 64, 64]> b_tan = real_div(x = b_sin, y = b_cos)[name = string("b_tan")];
            +         tensor<fp16, [1, 64, 64, 64]> c = conv(x = b_tan, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string("same"), dilations = ten
            +         tensor<fp16, [64, 64]> d_triangle = const()[name = string("d_triangle"), val = tensor<fp16, [64, 64]>([[0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0
            +         tensor<fp16, [1, 64, 64, 64]> d_matmul = matmul(transpose_x = bool(false), transpose_y = bool(false), x = c, y = d_triangle)[name = string("d_
            +         tensor<fp16, [1, 64, 64, 64]> out = conv(x = d_matmul, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string("same"), dilations 
        "#]].assert_eq(&shown);
    }

    #[test]
    fn nothing_is_offered_where_no_rewrite_helps() {
        // At 16 channels of 32×32 the planner keeps the new ops off the ANE and nothing gets faster.
        expect![[r#""#]].assert_eq(&listed(&program(16, 32)));
    }

    #[test]
    fn spelling_out_a_default_is_a_quick_fix_only() {
        // An opt-in rewrite: offered on its finding (ANE115) though the estimate does not improve, and
        // left out of the fix-all action, which then has nothing to do.
        let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 64]> x) {\n        tensor<fp16, [1, 64]> out = log(x = x)[name = string(\"out\")];\n    } -> (out);\n}\n";
        expect![[r#"
            Spell out log's default for the private ANE compiler — CPU → CPU, est. 0.00000421 → 0.00000427 ms [QuickFix]
            - tensor<fp16, [1, 64]> out = log(x = x)[name = string("out")];
            + tensor<fp16, [1, 64]> out = log(epsilon = fp32(0x1p-149), x = x)[name = string("out")];
        "#]]
        .assert_eq(&listed(text));
    }

    /// Uniform values in [lo, hi) from a xorshift generator seeded with `seed`.
    fn uniform(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                lo + (hi - lo) * ((state >> 40) as f32 / (1u64 << 24) as f32)
            })
            .collect()
    }

    #[test]
    fn the_fix_all_edit_gives_a_program_that_checks_and_computes_the_same() {
        use mil_eval::Tensor;
        use mil_ir::DType;
        // The smallest size found at which both rewrites help (tan moves onto the ANE).
        let (c, s) = (16, 128);
        let text = program(c, s);
        let m = model(&text);
        let all = code_actions(&m, Span::new(0, text.len()), |_| true);
        let fix_all = all.iter().find(|a| a.kind == CodeActionKind::FixAllAne).unwrap();
        let fixed = apply(&text, &fix_all.edits);
        let after = crate::analysis::analyse(&fixed, None, &Default::default());
        let errors: Vec<_> = after
            .diagnostics
            .iter()
            .filter(|d| d.severity == mil_ir::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{fixed}");
        let kinds: Vec<&str> = after.program.functions[0]
            .ops
            .iter()
            .map(|o| o.kind.as_str())
            .collect();
        assert!(!kinds.contains(&"tan") && !kinds.contains(&"cumsum"), "{kinds:?}");
        let before = crate::analysis::read(&text, None).program;
        for seed in 1..=3 {
            let inputs = vec![
                (
                    "x".to_string(),
                    Tensor::from_f32(DType::Fp16, vec![1, c, s, s], uniform(seed, c * s * s, -1.0, 1.0)),
                ),
                (
                    "w".to_string(),
                    Tensor::from_f32(
                        DType::Fp16,
                        vec![c, c, 3, 3],
                        uniform(seed + 100, c * c * 9, -0.02, 0.02),
                    ),
                ),
            ];
            let agreement = mil_rewrite::proof::compare(&before, &after.program, &inputs, 1.0).unwrap();
            assert!(
                agreement.iter().all(|a| a.psnr_db >= 60.0),
                "seed {seed}: {agreement:?}"
            );
        }
    }

    #[test]
    fn the_edit_rewrites_only_the_changed_statements_and_reads_back_as_the_rewritten_program() {
        // A lenient form and a comment outside the rewrites, two rewrites in a row, the second
        // of the function's output (which keeps its name): the changed statements, and only those,
        // are written anew, and the text reads back as the rewritten program.
        let text = "program(1.3)
{
    func main<ios18>(tensor<fp32, [2, 3]> x, tensor<fp32, [2, 3]> y) {
      // kept as written
      tensor<fp32, [2, 3]> a = relu(x);
      tensor<fp32, [2, 3]> m = mod(x = a, y = y)[name = string(\"m\")];
      tensor<fp32, [2, 3]> out = tan(x = m)[name = string(\"out\")];
    } -> (out);
}
";
        let a = crate::analysis::read(text, None);
        let mut rewritten = a.program.clone();
        let mut spans = a.source_map.functions[0].clone();
        for kind in ["mod", "tan"] {
            let f = &rewritten.functions[0];
            let op = (0..f.ops.len() as u32)
                .map(OpId)
                .find(|&o| f.op(o).kind == kind)
                .unwrap();
            let r = mil_rewrite::applicable(f, op).next().unwrap();
            mil_rewrite::apply(r, &mut rewritten.functions[0], &mut spans, op).unwrap();
        }
        let e = edits(text, &a.program, &a.source_map, &rewritten).unwrap();
        let after = crate::tests::apply(text, &e);
        let reread = crate::analysis::read(&after, None).program;
        assert_eq!(
            printer::print_program(&reread),
            printer::print_program(&rewritten)
        );
        expect![[r#"
            program(1.3)
            {
                func main<ios18>(tensor<fp32, [2, 3]> x, tensor<fp32, [2, 3]> y) {
                  // kept as written
                  tensor<fp32, [2, 3]> a = relu(x);
                  tensor<fp32, [2, 3]> m_quotient = floor_div(x = a, y = y)[name = string("m_quotient")];
                  tensor<fp32, [2, 3]> m_multiple = mul(x = m_quotient, y = y)[name = string("m_multiple")];
                  tensor<fp32, [2, 3]> m_mod = sub(x = a, y = m_multiple)[name = string("m_mod")];
                  tensor<fp32, [2, 3]> out_sin = sin(x = m_mod)[name = string("out_sin")];
                  tensor<fp32, [2, 3]> out_cos = cos(x = m_mod)[name = string("out_cos")];
                  tensor<fp32, [2, 3]> out = real_div(x = out_sin, y = out_cos)[name = string("out_tan")];
                } -> (out);
            }
        "#]]
        .assert_eq(&after);
    }
}
