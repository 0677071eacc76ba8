//! Op-local re-checks: after an edit changed what one op means, the program-wide checks (op and
//! type checks, ANE rules and placement) run again over a small slice of its function instead of
//! all of it.
//!
//! What the op and type checks find about an op depends on the op, the declared types of its
//! operands, and what the inferencer knows about them before run time (whether each is constant,
//! and the values of constants and of the integer computations folded from them). So the ops to
//! check again are the edited op and the readers of its results, and, transitively, the readers of
//! any re-checked op whose results may now be known or constant differently. They are checked in a
//! slice: those ops, the ops computing what is known about their operands (constants and integer
//! values, traced back), and in place of every other operand a parameter of its declared type —
//! which is exactly what the inferencer makes of a run-time value. What is known about each value
//! is kept per function ([`Facts`]) so the slice knows where to stop.
//!
//! The ANE analysis depends on each op's findings, eligibility and cost, and on the data edges. The
//! slice is placed with the op as it was and as it is: when the edit kept the op's operands and
//! result types and the slice's findings, eligibility and costs are the same, the function's plan
//! and its ANE diagnostics are too, and are kept; otherwise the ANE analysis runs again for the
//! whole program. Anything a slice cannot hold (nested blocks, a long chain of constants) falls back
//! to the program-wide checks.

use crate::incremental::Edited;
use crate::model::Model;
use mil_ane::Target;
use mil_ane::placement::{self, FunctionPlacement, Reason, Source};
use mil_ir::catalogue::{self, Opset};
use mil_ir::infer::{Binding, Inferencer};
use mil_ir::{
    Block, BlockSpans, DTypeKind, Diagnostic, Function, FunctionSpans, Name, OpId, Operand, Operation,
    Program, SourceMap, Span, Use, Value, ValueDef, ValueId, ValueRef,
};
use std::collections::{BTreeSet, HashMap};

/// The most ops a slice may hold before the program-wide checks are cheaper to reason about.
const MAX_SLICE_OPS: usize = 2048;

/// The most times a slice grows by the readers of its ops: each round slices and infers again,
/// so a change that runs down a long chain (a constant computation made to read a run-time value)
/// is checked program-wide rather than op by op. (A name taken away stops at its readers: their
/// results are run-time values to the inferencer, as those of an op reading a parameter.)
const MAX_GROWTH_ROUNDS: usize = 16;

/// What the inferencer knows about one value before run time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fact {
    /// Its value is known when the model is compiled.
    pub constant: bool,
    /// Its elements may be known (a `const`, or an integer or bool result, which folding may compute).
    pub may_be_known: bool,
    /// Its declared type is not what its op gives, so the ops reading it are not checked
    /// (`mil_ir::typecheck::mistyped_results`).
    pub mistyped: bool,
}

impl Fact {
    /// Whether a slice may stand in a parameter for the value: the inferencer knows nothing of it,
    /// and the op checks take its declared type as given.
    fn run_time(self) -> bool {
        !self.constant && !self.may_be_known && !self.mistyped
    }
}

/// The facts of every value of every function, by function index and [`ValueId`].
pub type Facts = Vec<Vec<Fact>>;

/// The facts of every function of `program`.
pub fn facts_of(program: &Program) -> Facts {
    program.functions.iter().map(infer_facts).collect()
}

/// Runs the inferencer over `f` and records what it knows of each op result.
fn infer_facts(f: &Function) -> Vec<Fact> {
    let mut facts = vec![Fact::default(); f.values.len()];
    let mut inferencer = Inferencer::new(f);
    let function_opset = Opset::parse(&f.opset);
    for id in f.walk_ops() {
        let op = f.op(id);
        let opset = op.opset.as_deref().map_or(function_opset, Opset::parse);
        let Some((version, opset)) =
            opset.and_then(|o| catalogue::lookup_in(&op.kind, o).ok().map(|v| (v, o)))
        else {
            inferencer.skip(id);
            continue;
        };
        let inferred = inferencer.infer(id, version, opset, &Binding::new(op, version));
        // As the op checks see it: an op reading a mistyped value is not judged by its results.
        if !operand_values(op).iter().any(|v| facts[v.index()].mistyped) {
            for r in mil_ir::typecheck::mistyped_results(f, id, &inferred) {
                facts[r.index()].mistyped = true;
            }
        }
        let integer = inferred
            .as_ref()
            .ok()
            .and_then(|types| types.first()?.dtype())
            .is_some_and(|d| d.kind() != DTypeKind::Float && d.kind() != DTypeKind::String);
        for (i, &r) in op.results.iter().enumerate() {
            let operand = Operand::Value(ValueRef {
                name: Name::default(),
                id: Some(r),
            });
            facts[r.index()] = Fact {
                constant: inferencer.is_constant(&operand),
                may_be_known: i == 0 && (op.kind == "const" || integer),
                ..facts[r.index()]
            };
        }
    }
    facts
}

/// A slice of a function: some of its ops, with parameters for the run-time values they read.
struct Slice {
    function: Function,
    spans: FunctionSpans,
    /// By the slice's [`OpId`]: the op of the real function.
    real_ops: Vec<OpId>,
    /// By the slice's [`ValueId`]: the value of the real function.
    real_values: Vec<ValueId>,
}

/// The op of `f` as the slice should see it: `old` in place of the edited one, when given.
fn op_as<'a>(f: &'a Function, id: OpId, old: Option<&'a Edited>) -> &'a Operation {
    match old {
        Some(e) if e.op == id => &e.old,
        _ => f.op(id),
    }
}

/// The values an op reads.
fn operand_values(op: &Operation) -> Vec<ValueId> {
    op.operands().filter_map(|(_, r)| r.id).collect()
}

/// The slice of function `fi` of `m` for `ops` (see the module documentation), with the edited op
/// as it was when `old` is given; `None` when the ops or what they read are not simple ops of the
/// body, or the slice would be too large.
fn slice(m: &Model, fi: usize, ops: &BTreeSet<OpId>, facts: &[Fact], old: Option<&Edited>) -> Option<Slice> {
    let f = &m.program.functions[fi];
    // Program order: where the statements are (ops read anew from the text come last in the arena).
    let at = |o: OpId| crate::incremental::whole_now(m, fi, o).start;
    let before = |a: OpId, b: OpId| at(a) < at(b);
    let mut included = ops.clone();
    let mut todo: Vec<OpId> = ops.iter().copied().collect();
    while let Some(id) = todo.pop() {
        let op = op_as(f, id, old);
        if op.parent != f.body || !op.blocks.is_empty() {
            return None;
        }
        for v in operand_values(op) {
            match f.value(v).def {
                ValueDef::Param(_) => {}
                ValueDef::BlockParam(..) => return None,
                // A value read before its definition is a run-time value to the inferencer.
                ValueDef::Result(p, _) => {
                    if before(p, id) && !facts[v.index()].run_time() && included.insert(p) {
                        todo.push(p);
                    }
                }
            }
        }
        if included.len() > MAX_SLICE_OPS {
            return None;
        }
    }

    let shift = m.deferred_shift;
    let spans = &m.map.functions[fi];
    let mut g = Function {
        name: f.name.clone(),
        opset: f.opset.clone(),
        attributes: f.attributes.clone(),
        ..Function::default()
    };
    let mut g_spans = FunctionSpans {
        whole: spans.whole,
        name: spans.name,
        opset: spans.opset,
        attributes: spans.attributes.clone(),
        ..FunctionSpans::default()
    };
    let body = g.push_block(Block::default());
    g.body = body;
    g_spans.blocks.push(BlockSpans::default());
    // Slice values by real value: results of slice ops, and parameters for what else they read.
    let mut value_of: HashMap<ValueId, ValueId> = HashMap::new();
    let mut param_of: HashMap<ValueId, ValueId> = HashMap::new();
    let mut real_values = Vec::new();
    // Whether op `id` reads value `v` from an op of the slice (defined before it).
    let from_slice = |v: ValueId, id: OpId| matches!(f.value(v).def, ValueDef::Result(p, _) if before(p, id) && included.contains(&p));
    let mut in_order: Vec<OpId> = included.iter().copied().collect();
    in_order.sort_by_key(|&o| at(o));
    // Adds value `v` of the real function to the slice, defined by `def`.
    let add_value = |g: &mut Function,
                     g_spans: &mut FunctionSpans,
                     real_values: &mut Vec<ValueId>,
                     v: ValueId,
                     def: ValueDef| {
        let in_place = shift.is_some_and(|s| s.value_in_place(fi, f.value(v).def));
        let ty = match (old, f.value(v).def) {
            (Some(e), ValueDef::Result(p, i)) if e.op == p => e.old_types[i as usize].clone(),
            _ => f.value(v).ty.clone(),
        };
        let id = g.push_value(Value {
            name: f.value(v).name.clone(),
            ty,
            def,
            uses: Vec::new(),
        });
        let s = spans.values[v.index()];
        g_spans
            .values
            .push(shift.map_or(s, |d| d.value_spans(fi, in_place, s)));
        g.symbols.insert(f.value(v).name.clone(), id);
        real_values.push(v);
        id
    };
    // The run-time values the slice reads become its parameters.
    for &id in &in_order {
        for v in operand_values(op_as(f, id, old)) {
            if !from_slice(v, id) && !param_of.contains_key(&v) {
                let def = ValueDef::Param(g.params.len() as u32);
                let w = add_value(&mut g, &mut g_spans, &mut real_values, v, def);
                param_of.insert(v, w);
                g.params.push(w);
            }
        }
    }
    let mut real_ops = Vec::with_capacity(included.len());
    for &id in &in_order {
        let mut op = op_as(f, id, old).clone();
        let new_id = OpId(g.ops.len() as u32);
        op.parent = body;
        for (i, r) in op.results.iter_mut().enumerate() {
            let def = ValueDef::Result(new_id, i as u32);
            let w = add_value(&mut g, &mut g_spans, &mut real_values, *r, def);
            value_of.insert(*r, w);
            *r = w;
        }
        for (_, r) in op.operands_mut() {
            r.id = r.id.and_then(|v| match from_slice(v, id) {
                true => value_of.get(&v).copied(),
                false => param_of.get(&v).copied(),
            })
        }
        let s = &spans.ops[id.index()];
        g_spans
            .ops
            .push(shift.map_or_else(|| s.clone(), |d| d.op_spans(fi, id, s)));
        g.push_op(op);
        g.blocks[body.index()].ops.push(new_id);
        real_ops.push(id);
    }
    // The function's outputs the slice computes stay outputs (the ANE rules look at them).
    for out in &f.block(f.body).outputs {
        if let Some(&w) = out.id.and_then(|v| value_of.get(&v)) {
            g.blocks[body.index()].outputs.push(ValueRef {
                name: out.name.clone(),
                id: Some(w),
            });
        }
    }
    g.recompute_uses();
    Some(Slice {
        function: g,
        spans: g_spans,
        real_ops,
        real_values,
    })
}

/// How the program-wide diagnostics were brought up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recheck {
    /// Op by op; the ANE analysis and placement were kept.
    Local,
    /// Op and type checks op by op; the ANE analysis ran again over the program.
    LocalTypesFullAne,
    /// Op and type checks op by op; the ANE analysis is left for [`Model::settle`] (after
    /// statements were added or taken away).
    LocalTypesAneLater,
    /// Over the whole program.
    Full,
}

/// The ops reading value `v`.
fn readers(f: &Function, v: ValueId) -> impl Iterator<Item = OpId> + '_ {
    f.value(v).uses.iter().filter_map(|u| match u {
        Use::Operand { op, .. } => Some(*op),
        Use::Output { .. } => None,
    })
}

/// Brings `m.program_diagnostics` up to date after `edited` changed an op's meaning (the model is
/// otherwise patched; span moves may still be owed). Returns how.
pub fn recheck(m: &mut Model, edited: &Edited, ane_targets: &[Target]) -> Recheck {
    if m.facts.is_none() {
        m.facts = Some(facts_of(&m.program));
    }
    let facts = m.facts.take().unwrap_or_default();
    let done = local(m, edited, ane_targets, &facts);
    m.facts = Some(facts);
    match done {
        Some((how, updates)) => {
            let facts = &mut m.facts.as_mut().expect("just put back")[edited.function];
            for (v, fact) in updates {
                facts[v.index()] = fact;
            }
            how
        }
        None => {
            m.finish();
            m.program_diagnostics = crate::analysis::program_checks(&m.program, &m.map, m.target);
            m.facts = None;
            Recheck::Full
        }
    }
}

/// The op-local re-check; `None` when it cannot be done locally (nothing was changed then).
/// Returns how, and the new facts of the re-checked values.
fn local(
    m: &mut Model,
    edited: &Edited,
    ane_targets: &[Target],
    facts: &Facts,
) -> Option<(Recheck, Vec<(ValueId, Fact)>)> {
    let fi = edited.function;
    let f = &m.program.functions[fi];
    let facts = facts.get(fi)?;
    let types_changed = f
        .op(edited.op)
        .results
        .iter()
        .zip(&edited.old_types)
        .any(|(v, t)| f.value(*v).ty != *t);
    let results = &f.op(edited.op).results;
    let seeds: BTreeSet<OpId> = std::iter::once(edited.op)
        .chain(results.iter().flat_map(|&r| readers(f, r)))
        .collect();
    let checked = check_types(m, fi, seeds, facts, |p| p == edited.op && types_changed)?;
    let Checked {
        ops,
        program,
        real_values,
        new_facts,
        wholes,
        fresh,
    } = checked;
    let within = |s: Span| wholes.iter().any(|w| w.start <= s.start && s.end <= w.end);

    // The ANE analysis: kept when the slice places the same with the op as it was and as it is.
    let old_f = &m.program.functions[fi];
    let same_edges = operand_values(&edited.old) == operand_values(old_f.op(edited.op));
    let ane_same = !types_changed
        && same_edges
        && slice(m, fi, &ops, facts, Some(edited)).is_some_and(|old| {
            ane_targets.iter().all(|&t| {
                same_ane(
                    &placement::place_function(&old.function, t, Source::Ours),
                    &placement::place_function(&program.functions[0], t, Source::Ours),
                )
            })
        });

    let is_ane = |d: &Diagnostic| d.code.id.starts_with("ANE");
    let (mut ane, mut types): (Vec<Diagnostic>, Vec<Diagnostic>) = std::mem::take(&mut m.program_diagnostics)
        .into_iter()
        .partition(is_ane);
    types.retain(|d| !within(d.span));
    types.extend(fresh);
    types.sort_by_key(|d| (d.span.start, d.span.end));
    if !ane_same {
        m.finish();
        ane = mil_ane::diagnostics::check(&m.program, &m.map);
    }
    ane.extend(types);
    ane.sort_by_key(|d| (d.span.start, d.span.end));
    m.program_diagnostics = ane;
    let how = if ane_same {
        Recheck::Local
    } else {
        Recheck::LocalTypesFullAne
    };
    Some((how, real_values.into_iter().zip(new_facts).collect()))
}

/// The op and type checks of a slice: the ops checked, the slice as a program, what the slice's
/// values stand for and what is now known of them, where the checked statements are, and what the
/// checks found there.
struct Checked {
    ops: BTreeSet<OpId>,
    program: Program,
    real_values: Vec<ValueId>,
    new_facts: Vec<Fact>,
    wholes: Vec<Span>,
    fresh: Vec<Diagnostic>,
}

/// Runs the op and type checks of function `fi` for `seeds` and, transitively, for the readers of
/// any checked op whose results may now be known or constant differently, or whose result types
/// `retyped` says changed; `None` when the slice cannot hold them.
fn check_types(
    m: &Model,
    fi: usize,
    mut ops: BTreeSet<OpId>,
    facts: &[Fact],
    retyped: impl Fn(OpId) -> bool,
) -> Option<Checked> {
    let f = &m.program.functions[fi];
    // Grow the set while a re-checked op's results may reach their readers differently.
    let mut rounds = 0;
    let (new, new_facts) = loop {
        let s = slice(m, fi, &ops, facts, None)?;
        let new_facts = infer_facts(&s.function);
        let mut grow = Vec::new();
        for (w, &v) in s.real_values.iter().enumerate() {
            let ValueDef::Result(p, _) = f.value(v).def else {
                continue;
            };
            let (was, is) = (facts[v.index()], new_facts[w]);
            let changed = was != is || was.may_be_known || is.may_be_known || retyped(p);
            if ops.contains(&p) && changed {
                grow.extend(readers(f, v).filter(|o| !ops.contains(o)));
            }
        }
        if grow.is_empty() {
            break (s, new_facts);
        }
        ops.extend(grow);
        rounds += 1;
        if ops.len() > MAX_SLICE_OPS || rounds > MAX_GROWTH_ROUNDS {
            return None;
        }
    };
    let program = Program {
        version: m.program.version.clone(),
        functions: vec![new.function],
        ..Program::default()
    };
    let map = SourceMap {
        functions: vec![new.spans],
        ..SourceMap::default()
    };
    let wholes: Vec<Span> = new
        .real_ops
        .iter()
        .zip(&map.functions[0].ops)
        .filter(|(o, _)| ops.contains(o))
        .map(|(_, s)| s.whole)
        .collect();
    let within = |s: Span| wholes.iter().any(|w| w.start <= s.start && s.end <= w.end);
    let fresh: Vec<Diagnostic> = mil_ir::typecheck::check(&program, &map)
        .into_iter()
        .filter(|d| within(d.span))
        .collect();
    Some(Checked {
        ops,
        program,
        real_values: new.real_values,
        new_facts,
        wholes,
        fresh,
    })
}

/// Brings the op and type checks of `m.program_diagnostics` up to date after statements of
/// function `fi` were read anew: `seeds` are the new ops and the readers whose operands changed
/// (their diagnostics were taken away with the statements); `new` are the new ops, whose results'
/// types are new. The ANE analysis is left for [`Model::settle`]. Returns how.
pub fn recheck_types(m: &mut Model, fi: usize, seeds: &[OpId], new: &[OpId]) -> Recheck {
    if m.facts.is_none() {
        m.facts = Some(facts_of(&m.program));
    }
    let facts = m.facts.take().unwrap_or_default();
    let seeds: BTreeSet<OpId> = seeds.iter().copied().collect();
    let checked = facts
        .get(fi)
        .and_then(|f| check_types(m, fi, seeds, f, |p| new.contains(&p)));
    m.facts = Some(facts);
    let is_ane = |d: &Diagnostic| d.code.id.starts_with("ANE");
    match checked {
        Some(c) => {
            let within = |s: Span| c.wholes.iter().any(|w| w.start <= s.start && s.end <= w.end);
            m.program_diagnostics.retain(|d| is_ane(d) || !within(d.span));
            m.program_diagnostics.extend(c.fresh);
            m.program_diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
            let facts = &mut m.facts.as_mut().expect("just put back")[fi];
            for (v, fact) in c.real_values.into_iter().zip(c.new_facts) {
                facts[v.index()] = fact;
            }
            Recheck::LocalTypesAneLater
        }
        None => {
            m.finish();
            let mut found = mil_ir::typecheck::check(&m.program, &m.map);
            m.program_diagnostics.retain(is_ane);
            m.program_diagnostics.append(&mut found);
            m.program_diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
            m.facts = None;
            Recheck::Full
        }
    }
}

/// Whether two placements of the same slice agree on everything the plan of the whole function
/// reads: the rules' findings, and each op's eligibility, reason for ineligibility and cost.
fn same_ane(a: &FunctionPlacement, b: &FunctionPlacement) -> bool {
    let ruled = |r: &Reason| match r {
        Reason::Ineligible { code, message } => Some((*code, message.clone())),
        _ => None,
    };
    a.findings == b.findings
        && a.ops.len() == b.ops.len()
        && a.ops.iter().zip(&b.ops).all(|(x, y)| {
            x.kind == y.kind
                && x.ane_eligible == y.ane_eligible
                && x.cost == y.cost
                && x.estimates_ms == y.estimates_ms
                && ruled(&x.reason) == ruled(&y.reason)
                && matches!(x.reason, Reason::Constant | Reason::Boundary)
                    == matches!(y.reason, Reason::Constant | Reason::Boundary)
        })
}
