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
//!
//! `io-to-fp16` takes a function's interface, not an op: its quick fix is offered on the finding
//! on an input or output (ANE010), changes every fp32 input and output of that function, says so
//! in its title, and is applied by the fix-all action and `mil fix` only when named.

use crate::code_actions::{CodeAction, CodeActionKind};
use crate::formatting::semicolon_after;
use crate::locate;
use crate::model::Model;
use crate::text_edit::TextEdit;
use mil_ane::placement::{Source, place_function};
use mil_ane::{Device, Target};
use mil_ir::{
    BlockId, Diagnostic, Function, FunctionSpans, OpId, Program, RewriteId, SourceMap, Span, printer,
};
use mil_rewrite::helps::{self, Assessment};
use mil_rewrite::{Rewrite, apply, io_fp16};

/// The id of the rewrite an ANE diagnostic's fix names: its message ends with `; fix: ` and the
/// rewrite's id in backticks, then what the fix does (see `mil_ane::diagnostics::diagnostic`).
pub fn named_id(d: &Diagnostic) -> Option<RewriteId> {
    if !d.code.id.starts_with("ANE") {
        return None;
    }
    let (_, fix) = d.message.rsplit_once("; fix: ")?;
    RewriteId::parse(fix.strip_prefix('`')?.split('`').next()?)
}

/// The rewrite of an op an ANE diagnostic's fix names (see [`named_id`]).
pub fn named_rewrite(d: &Diagnostic) -> Option<&'static Rewrite> {
    mil_rewrite::by_id(named_id(d)?.name())
}

/// One quick fix per ANE diagnostic overlapping `range` whose rewrite helps, and one per function
/// whose interface a diagnostic there offers to change (`io-to-fp16`).
pub fn quick_fixes(m: &Model, range: Span) -> Vec<CodeAction> {
    let in_range: Vec<&Diagnostic> = m
        .program_diagnostics
        .iter()
        .filter(|d| d.span.start <= range.end && d.span.end >= range.start)
        .collect();
    let mut actions = op_fixes(m, &in_range);
    actions.extend(interface_fixes(m, &in_range));
    actions
}

/// The quick fixes of `io-to-fp16`: one per function a diagnostic naming it is in, not preferred
/// (it changes what callers pass and get back), titled with the inputs and outputs it changes.
fn interface_fixes(m: &Model, diagnostics: &[&Diagnostic]) -> Vec<CodeAction> {
    let mut offered: Vec<usize> = Vec::new();
    let text = m.rope.to_string();
    diagnostics
        .iter()
        .filter(|d| named_id(d) == Some(io_fp16::ID))
        .filter_map(|&d| {
            let fi = m
                .map
                .functions
                .iter()
                .position(|s| s.whole.contains(d.span.start))?;
            if offered.contains(&fi) {
                return None;
            }
            let (rewritten, title) = io_fp16::assess(&m.program, &m.map.functions[fi], fi, m.target).ok()?;
            let edits = edits(&text, &m.program, &m.map, &rewritten)?;
            offered.push(fi);
            Some(CodeAction {
                title,
                kind: CodeActionKind::QuickFix,
                fixes: Some(d.clone()),
                edits,
                preferred: false,
                command: None,
            })
        })
        .collect()
}

/// The quick fixes of the rewrites of one op.
fn op_fixes(m: &Model, diagnostics: &[&Diagnostic]) -> Vec<CodeAction> {
    let named: Vec<(&Diagnostic, &'static Rewrite)> = diagnostics
        .iter()
        .filter_map(|&d| Some((d, named_rewrite(d)?)))
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
        title: fixed.title(&m.program, m.target),
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
    /// How many of the ops rewritten ran on the CPU and whose replacements run on the ANE.
    pub cpu_to_ane: usize,
    /// The edits of the text.
    pub edits: Vec<TextEdit>,
}

impl FixedText {
    /// What the rewrites change, as the per-rewrite titles say it: "Apply 3 ANE rewrites — 2 ops
    /// CPU → ANE, est. 1.2 → 0.31 ms" (the estimate summed over the functions of `original`).
    pub fn title(&self, original: &Program, target: Target) -> String {
        let total = |p: &Program| plans(p, target).iter().map(|p| p.ms).sum::<f64>();
        let n = self.applied.len();
        let moved = match self.cpu_to_ane {
            0 => String::new(),
            1 => "1 op CPU → ANE, ".to_string(),
            k => format!("{k} ops CPU → ANE, "),
        };
        format!(
            "Apply {n} ANE rewrite{} — {moved}est. {} → {} ms",
            if n == 1 { "" } else { "s" },
            helps::ms(total(original)),
            helps::ms(total(&self.program)),
        )
    }
}

/// Every helpful rewrite (of `only`, when given) of `text`, read into `program` and `map`, as
/// [`fix_program`] finds them, with the edits that make them; `None` when none helps (or the edit
/// cannot be lined up with the text).
pub fn fix_text(
    text: &str,
    program: &Program,
    map: &SourceMap,
    target: Target,
    only: Option<&[RewriteId]>,
) -> Option<FixedText> {
    let fixed = fix_program(program, map, target, only);
    if fixed.applied.is_empty() {
        return None;
    }
    let edits = edits(text, program, map, &fixed.program)?;
    Some(FixedText {
        program: fixed.program,
        applied: fixed.applied,
        cpu_to_ane: fixed.cpu_to_ane,
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

/// What [`fix_file`] made of a file: the fix, if a rewrite helps, and why a rewrite asked for by
/// name does not apply where it cannot be tried op by op ("io-to-fp16 does not apply to `main`: …").
pub struct FixOutcome {
    /// The rewritten file, `None` when no rewrite helps.
    pub fixed: Option<FixedFile>,
    /// One sentence per function a named whole-function rewrite does not apply to.
    pub not_applied: Vec<String>,
}

/// Every helpful rewrite (of `only`, when given) of the file `text` (its weights under
/// `model_dir`) on the chip and compute units of `config`, as `mil fix` applies them: the
/// diagnostics when the program has errors (what only a package cannot hold, Core ML's runtime
/// buffers in its analytics files, does not stop it).
pub fn fix_file(
    text: &str,
    model_dir: Option<&std::path::Path>,
    config: &crate::config::Config,
    only: Option<&[RewriteId]>,
) -> Result<FixOutcome, Vec<Diagnostic>> {
    let analysed = crate::analysis::analyse_text(text, model_dir, config);
    if mil_ir::diagnostic::has_errors(&analysed.diagnostics) {
        return Err(analysed.diagnostics);
    }
    let mut not_applied = Vec::new();
    if only.is_some_and(|ids| ids.contains(&io_fp16::ID)) {
        for f in &analysed.program.functions {
            if let Err(why) = io_fp16::check(f) {
                not_applied.push(format!("{} does not apply to `{}`: {why}", io_fp16::ID, f.name));
            }
        }
    }
    let target = config.target();
    let fixed =
        fix_text(text, &analysed.program, &analysed.source_map, target, only).map(|fixed| FixedFile {
            before: plans(&analysed.program, target),
            after: plans(&fixed.program, target),
            text: crate::text_edit::apply(text, &fixed.edits),
            applied: fixed.applied,
        });
    Ok(FixOutcome { fixed, not_applied })
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
    /// How many of the ops rewritten ran on the CPU and whose replacements run on the ANE.
    pub cpu_to_ane: usize,
}

/// Applies, op by op in program order, every rewrite (of `only`, when given; else every rewrite
/// but the opt-in ones, `mil_rewrite::OPT_IN`) that takes the op and helps on `target` in the
/// program rewritten so far; then, when `only` names it, `io-to-fp16` to each function it takes.
pub fn fix_program(program: &Program, map: &SourceMap, target: Target, only: Option<&[RewriteId]>) -> Fixed {
    let mut fixed = program.clone();
    let mut applied = Vec::new();
    let mut cpu_to_ane = 0;
    for (fi, f) in program.functions.iter().enumerate() {
        let Some(spans) = map.functions.get(fi) else {
            continue;
        };
        let mut spans = spans.clone();
        for op in (0..f.ops.len() as u32).map(OpId) {
            let candidates = mil_rewrite::applicable(&fixed.functions[fi], op).filter(|r| match only {
                Some(only) => only.contains(&r.id),
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
            let Some((
                rewrite,
                Assessment {
                    title, before, after, ..
                },
            )) = helpful
            else {
                continue;
            };
            if apply(rewrite, &mut fixed.functions[fi], &mut spans, op).is_ok() {
                applied.push(title);
                cpu_to_ane += usize::from(before == Device::Cpu && after == [Device::Ane]);
            }
        }
        if only.is_some_and(|only| only.contains(&io_fp16::ID))
            && let Ok((rewritten, title)) = io_fp16::assess(&fixed, &spans, fi, target)
        {
            fixed = rewritten;
            applied.push(title);
        }
    }
    Fixed {
        program: fixed,
        applied,
        cpu_to_ane,
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
        edits.extend(param_edits(f, g, spans)?);
        for b in 0..f.blocks.len() {
            edits.extend(block_edits(text, f, g, spans, BlockId(b as u32))?);
        }
    }
    Some(edits)
}

/// The edits of the parameters whose declared type changed (`io-to-fp16`): the type rewritten.
fn param_edits(f: &Function, g: &Function, spans: &FunctionSpans) -> Option<Vec<TextEdit>> {
    (f.params.iter().zip(&g.params))
        .filter(|&(&p, &q)| f.value(p).ty != g.value(q).ty)
        .map(|(&p, &q)| {
            let ty = spans.values.get(p.index())?.ty;
            Some(TextEdit::new(ty, g.value(q).ty.to_string()))
        })
        .collect()
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
    // An op is the same when its statement would print the same: its fields, and its results'
    // names and types (a result renamed to keep a function output's name changes only those).
    let results = |h: &Function, id: OpId| -> Vec<(String, String)> {
        (h.op(id).results.iter())
            .map(|&r| (h.value(r).name.to_string(), h.value(r).ty.to_string()))
            .collect()
    };
    let same = |id: OpId| {
        (f.op(id) == g.op(id) && results(f, id) == results(g, id))
            || printer::print_operation(f, id, 0) == printer::print_operation(g, id, 0)
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
            Apply 2 ANE rewrites — 2 ops CPU → ANE, est. 1.091 → 0.374 ms [FixAllAne]
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

    /// coremltools' fp16 model with fp32 inputs and outputs: casts at the edges, in `opset` (the
    /// statement before the output cast changes only its result's name).
    fn fp32_interface(opset: &str) -> String {
        format!(
            "program(1.3)\n{{\n    func main<{opset}>(tensor<fp32, [1, 64]> x) {{\n        tensor<fp16, [1, 64]> h = cast(dtype = string(\"fp16\"), x = x)[name = string(\"h\")];\n        tensor<fp16, [1, 64]> a = abs(x = h)[name = string(\"a\")];\n        tensor<fp16, [1, 64]> r = relu(x = a)[name = string(\"r\")];\n        tensor<fp32, [1, 64]> out = cast(dtype = string(\"fp32\"), x = r)[name = string(\"out\")];\n    }} -> (out);\n}}\n"
        )
    }

    #[test]
    fn fp32_inputs_and_outputs_get_an_interface_change_on_their_finding_only() {
        // On the input's and the output's findings (ANE010) one action for the function, which
        // says it changes the interface, is not preferred, and is never part of the fix-all.
        let text = fp32_interface("ios16");
        let m = model(&text);
        let on = |name: &str| {
            let at = text.find(name).unwrap();
            let actions = code_actions(&m, Span::new(at, at + name.len()), |_| true);
            actions
                .into_iter()
                .map(|a| (a.title, a.kind, a.preferred))
                .collect::<Vec<_>>()
        };
        let title =
            "Change input x and output out to fp16 (interface change) — est. 0.0000194 → 0.00000677 ms";
        assert_eq!(on("x) {"), [(title.to_string(), CodeActionKind::QuickFix, false)]);
        assert_eq!(on("out);"), on("x) {"));
        assert_eq!(on("relu"), []);
        let at = text.find("x) {").unwrap();
        let action = &code_actions(&m, Span::new(at, at + 1), |_| true)[0];
        let fixed = apply(&text, &action.edits);
        let after = crate::analysis::analyse(&fixed, None, &Default::default());
        assert!(
            !after
                .diagnostics
                .iter()
                .any(|d| d.severity == mil_ir::Severity::Error || d.code.id == "ANE010"),
            "{:?}\n{fixed}",
            after.diagnostics
        );
        expect![[r#"
            Change input x and output out to fp16 (interface change) — est. 0.0000194 → 0.00000677 ms [QuickFix]
            - tensor<fp32, [1, 64]>
            + tensor<fp16, [1, 64]>
            - tensor<fp16, [1, 64]> h = cast(dtype = string("fp16"), x = x)[name = string("h")];
            -         tensor<fp16, [1, 64]> a = abs(x = h)[name = string("a")];
            -         tensor<fp16, [1, 64]> r = relu(x = a)[name = string("r")];
            -         tensor<fp32, [1, 64]> out = cast(dtype = string("fp32"), x = r)[name = string("out")];
            + tensor<fp16, [1, 64]> a = abs(x = x)[name = string("a")];
            +         tensor<fp16, [1, 64]> out = relu(x = a)[name = string("r")];
        "#]].assert_eq(&listed(&text));
        // Before iOS16 Core ML takes no fp16 input: nothing is offered.
        assert_eq!(listed(&fp32_interface("ios15")), "");
    }

    /// Uniform values in [lo, hi) from a xorshift generator seeded with `seed`.
    /// `text` with `edits` applied, and its analysis, which must find no error.
    fn applied_without_errors(text: &str, edits: &[TextEdit]) -> (String, crate::analysis::Analysis) {
        let fixed = apply(text, edits);
        let after = crate::analysis::analyse(&fixed, None, &Default::default());
        let errors: Vec<_> = (after.diagnostics.iter())
            .filter(|d| d.severity == mil_ir::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{fixed}");
        (fixed, after)
    }

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
        let (_, after) = applied_without_errors(&text, &fix_all.edits);
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

    #[test]
    fn the_quick_fix_on_one_op_of_a_chain_along_an_axis_above_65536_splits_the_whole_chain() {
        // conv 3×3 → relu, twice, on 1×16×1×70,000 fp16: every op is refused (ANE014), and the
        // quick fix on any of them splits the four (proven equal in rewrite/tests/split_axis.rs).
        let t = "tensor<fp16, [1, 16, 1, 70000]>";
        let conv = |name: &str, x: &str| {
            format!(
                "        {t} {name} = conv(dilations = [1, 1], groups = 1, pad_type = string(\"same\"), strides = [1, 1], weight = k, x = {x})[name = string(\"{name}\")];\n"
            )
        };
        let text = format!(
            "program(1.3)\n{{\n    func main<ios18>({t} x, tensor<fp16, [16, 16, 3, 3]> k) {{\n{}        {t} r = relu(x = a)[name = string(\"r\")];\n{}        {t} out = relu(x = b)[name = string(\"out\")];\n    }} -> (out);\n}}\n",
            conv("a", "x"),
            conv("b", "r"),
        );
        let m = model(&text);
        let at = text.find("relu(x = a)").unwrap();
        let fixes = quick_fixes(&m, Span::new(at, at + 4));
        let titles: Vec<&str> = fixes.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Split the ops along an axis above 65,536 into pieces of at most 65,536 — CPU → CPU+ANE, est. 0.945 → 0.81 ms"
            ]
        );
        let (fixed, after) = applied_without_errors(&text, &fixes[0].edits);
        let f = &after.program.functions[0];
        let kinds: Vec<&str> = f.walk_ops().iter().map(|&o| f.op(o).kind.as_str()).collect();
        let count = |k: &str| kinds.iter().filter(|&&x| x == k).count();
        assert_eq!(
            (
                count("slice_by_size"),
                count("conv"),
                count("relu"),
                count("concat")
            ),
            (2, 4, 4, 1)
        );
        assert!(fixed.contains("out = concat("), "{fixed}");
    }
}
