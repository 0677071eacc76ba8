//! Incremental analysis of edits that change statements as a whole: a new line, indentation,
//! typing a statement through its invalid states, deleting or pasting lines, and their undo.
//!
//! The statements an edit touches — from the `;` before it to the `;` of the first statement it
//! leaves whole — are read again from their new text inside a wrapper program with the version,
//! function name and opset of the function they belong to, through the same reading as a whole
//! file ([`crate::analysis::read`]), so their syntax errors, statement checks and weight checks are
//! the ones a full analysis gives: the grammar recovers from errors at a statement's `;`, and the
//! region ends at one with nothing after it on its line. The old statements' ops are erased in
//! place ([`mil_ir::Function::retire_op`]) and the new ones appended to the function's arena and
//! spliced into the body's op list; names are resolved against the function's symbols, and the
//! references elsewhere to a name the edit defined or took away are resolved again (the readers
//! of the old results through their use lists, the references no name answered through their
//! diagnostics), with the same "undefined" and "used before it is defined" diagnostics the
//! reading of a whole file gives (their "did you mean" found through the model's index of names,
//! [`mil_grammar::NameIndex`], not by comparing every name of the function). Spans after the region move later, as an in-statement patch's
//! do ([`crate::incremental::DeferredShift`]).
//!
//! The op and type checks run again for the new ops and the readers whose operands changed
//! ([`crate::recheck::recheck_types`]). The ANE analysis plans the whole function at once, so it
//! is left for [`crate::model::Model::settle`], which runs once typing pauses; until then the ANE
//! diagnostics of untouched statements are kept where they were.
//!
//! The re-read gives up (and the caller analyses the whole text) when the edit could change
//! anything it does not follow: statements with nested blocks, a comment, braces, a region not
//! ending with `;` at the end of its line or with no statement after the edit, syntax errors
//! outside the region (the lexer's bracket depth after them may differ), names defined twice, an
//! op name shared with another statement, or a diagnostic this module does not know.

use crate::incremental::{self, DeferredShift, is_known};
use crate::model::Model;
use mil_grammar::NameIndex;
use mil_ir::{Diagnostic, Function, OpId, Operation, Span, Use, Value, ValueDef, ValueId, ValueRef, codes};
use std::collections::HashSet;

/// Codes a region may have that a single statement read alone may not: syntax and lexing
/// problems, which the grammar recovers from inside the region.
const RECOVERED_IN_REGION: &[mil_ir::Code] =
    &[codes::SYNTAX, codes::INVALID_TOKEN, codes::UNTERMINATED_STRING];

/// Codes that mean the text around a region may read differently after it.
const UNSETTLING: &[mil_ir::Code] = &[
    codes::SYNTAX,
    codes::INVALID_TOKEN,
    codes::UNTERMINATED_STRING,
    codes::COMMENT,
    codes::BAD_HEADER,
];

/// What re-reading a region did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reread {
    /// The function's index.
    pub function: usize,
    /// The ops whose op and type checks must run again: the new ops and the readers of names the
    /// edit defined or took away.
    pub recheck: Vec<OpId>,
    /// The new ops.
    pub new: Vec<OpId>,
}

/// The statements of a function's body an edit touches.
struct Region {
    fi: usize,
    /// Positions in the body's op list.
    first: usize,
    /// One past the last.
    end: usize,
    /// The bytes read again, in the text before the edit: after the `;` before the first
    /// statement (or the body's `{`) to after the `;` of the last.
    span: Span,
}

/// Replaces bytes `edit` of the model's text with `new_text` by re-reading the statements it
/// touches; `None` when the edit needs a full analysis (the model is then untouched but for span
/// moves made).
pub fn reread_statements(m: &mut Model, edit: Span, new_text: &str) -> Option<Reread> {
    if m.program.version.is_empty() || !m.diagnostics.iter().all(|d| is_known(d.code)) {
        return None;
    }
    let mut region = locate(m, edit)?;
    // Owed span moves compose when every statement read again has its spans in place.
    if let Some(d) = m.deferred_shift {
        let f = &m.program.functions[region.fi];
        let ops = &f.block(f.body).ops[region.first..region.end];
        if d.function != region.fi || !ops.iter().all(|&o| d.is_reparsed(region.fi, o)) {
            m.finish();
            region = locate(m, edit)?;
        }
    }
    let prepared = prepare(m, &region, edit, new_text)?;
    Some(prepared.apply(m, region, edit, new_text))
}

/// Where the text after `at` has its next `;`, past blanks only.
fn semicolon_after(m: &Model, at: u32) -> Option<u32> {
    let rope = &m.rope;
    let mut i = at as usize;
    while i < rope.len_bytes() {
        match rope.byte(i) {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b';' => return Some(i as u32),
            _ => return None,
        }
    }
    None
}

/// The region of `edit` (see [`Region`]).
fn locate(m: &Model, edit: Span) -> Option<Region> {
    let inside = |outer: Span| outer.start <= edit.start && edit.end <= outer.end;
    let now = |s: Span| m.deferred_shift.map_or(s, |d| d.now(s));
    let fi = (m.map.functions.iter()).position(|s| inside(now(s.whole)))?;
    let f = &m.program.functions[fi];
    let body = now(m.map.functions[fi].blocks.get(f.body.index())?.whole);
    if !(body.start < edit.start && m.rope.get_byte(body.start as usize) == Some(b'{')) {
        return None;
    }
    let ops = &f.block(f.body).ops;
    let whole = |i: usize| incremental::whole_now(m, fi, ops[i]);
    let mut first = ops.partition_point(|&o| incremental::whole_now(m, fi, o).end < edit.start);
    // The statement before keeps its `;` out of the edit (one without its `;` is read again).
    let start = loop {
        if first == 0 {
            break body.start + 1;
        }
        match semicolon_after(m, whole(first - 1).end) {
            Some(semi) if semi < edit.start => break semi + 1,
            _ => first -= 1,
        }
    };
    let starts_before = ops.partition_point(|&o| incremental::whole_now(m, fi, o).start < edit.end);
    let last = if starts_before > first && edit.end <= whole(starts_before - 1).end {
        starts_before - 1
    } else {
        starts_before
    };
    // The last statement is one with its `;` (those without are read again with the next).
    let mut last = last;
    let end = loop {
        if last >= ops.len() {
            return None;
        }
        match semicolon_after(m, whole(last).end) {
            Some(semi) => break semi + 1,
            None => last += 1,
        }
    };
    // Nothing after the region on its line, so that no token of its text reaches past it.
    let mut i = end as usize;
    loop {
        match m.rope.get_byte(i) {
            Some(b' ' | b'\t') => i += 1,
            Some(b'\n' | b'\r') => break,
            _ => return None,
        }
    }
    (start <= edit.start && edit.end < end).then_some(Region {
        fi,
        first,
        end: last + 1,
        span: Span::new(start as usize, end as usize),
    })
}

/// A checked re-read, ready to apply.
struct Prepared {
    /// The wrapper's analysis.
    wrapper: crate::analysis::Analysis,
    /// Added to a wrapper offset to get a document offset.
    to_doc: i64,
}

fn prepare(m: &Model, region: &Region, edit: Span, new_text: &str) -> Option<Prepared> {
    let f = &m.program.functions[region.fi];
    let old_ops = &f.block(f.body).ops[region.first..region.end];
    if old_ops
        .iter()
        .any(|&o| !f.op(o).blocks.is_empty() || !f.op(o).comments.is_empty())
    {
        return None;
    }
    let old_text = m.slice(region.span);
    let (from, to) = (
        (edit.start - region.span.start) as usize,
        (edit.end - region.span.start) as usize,
    );
    let text = format!("{}{new_text}{}", old_text.get(..from)?, old_text.get(to..)?);
    if old_text.contains("//")
        || text.contains("//")
        || text.contains(['{', '}'])
        || !text.trim_end().ends_with(';')
    {
        return None;
    }
    // Around the region nothing may read differently when its brackets or strings change.
    let within_old = |s: Span| region.span.start <= s.start && s.end <= region.span.end;
    let involved = |d: &Diagnostic| within_old(d.span) || d.related.iter().any(|r| within_old(r.span));
    let unsettled = m.diagnostics.iter().any(|d| {
        (UNSETTLING.contains(&d.code) && !within_old(d.span))
            || ([codes::DUPLICATE_OP_NAME, codes::DUPLICATE_DEFINITION].contains(&d.code) && involved(d))
    });
    if unsettled || ["true", "false"].iter().any(|w| f.symbols.contains_key(*w)) {
        return None;
    }
    let alone = incremental::parse_statements(m, f, &text)?;
    let (wrapper, within) = (alone.analysis, alone.region);
    let [g] = wrapper.program.functions.as_slice() else {
        return None;
    };
    let in_region = |s: Span| within.start <= s.start && s.end <= within.end;
    let readable = g.block(g.body).ops.len() == g.ops.len() && g.ops.iter().all(|o| o.blocks.is_empty());
    let diagnostics_ok = wrapper.diagnostics.iter().all(|d| {
        is_known(d.code)
            && in_region(d.span)
            && d.related.iter().all(|r| in_region(r.span))
            && (!UNSETTLING.contains(&d.code) || RECOVERED_IN_REGION.contains(&d.code))
            && ![codes::DUPLICATE_OP_NAME, codes::DUPLICATE_DEFINITION].contains(&d.code)
    });
    if !readable || !diagnostics_ok {
        return None;
    }
    // New names may not be defined elsewhere in the function, nor op names taken.
    let old_results: HashSet<ValueId> = old_ops
        .iter()
        .flat_map(|&o| f.op(o).results.iter().copied())
        .collect();
    let clash = g.values.iter().any(|v| {
        matches!(v.def, ValueDef::Result(..)) && f.lookup(&v.name).is_some_and(|w| !old_results.contains(&w))
    });
    if clash {
        return None;
    }
    let counts = &m.op_names.get_or_init(|| {
        m.program
            .functions
            .iter()
            .map(incremental::op_name_counts)
            .collect()
    })[region.fi];
    let old_names: Vec<&str> = old_ops.iter().filter_map(|&o| f.op(o).name()).collect();
    let taken = g.ops.iter().filter_map(Operation::name).any(|n| {
        let here = old_names.iter().filter(|&&o| o == n).count();
        counts.get(n).copied().unwrap_or(0) > here
    });
    if taken {
        return None;
    }
    Some(Prepared {
        to_doc: i64::from(region.span.start) - i64::from(within.start),
        wrapper,
    })
}

fn moved(s: Span, by: i64) -> Span {
    Span {
        start: (i64::from(s.start) + by) as u32,
        end: (i64::from(s.end) + by) as u32,
    }
}

/// A reference outside the region whose name the edit defined or took away.
struct Reference {
    at: Use,
    name: mil_ir::Name,
}

impl Prepared {
    fn apply(mut self, m: &mut Model, region: Region, edit: Span, new_text: &str) -> Reread {
        let fi = region.fi;
        let delta = new_text.len() as i64 - i64::from(edit.end - edit.start);
        let old_span = region.span;
        let within_old = |s: Span| old_span.start <= s.start && s.end <= old_span.end;
        let f = &mut m.program.functions[fi];
        let spans = &mut m.map.functions[fi];
        let old_ops: Vec<OpId> = f.block(f.body).ops[region.first..region.end].to_vec();
        let old_set: HashSet<OpId> = old_ops.iter().copied().collect();
        let g = &mut self.wrapper.program.functions[0];
        let gspans = &mut self.wrapper.source_map.functions[0];

        // References elsewhere to a name the edit takes away or defines: the readers of the old
        // results, and the references no name answered whose name the new statements define.
        let mut references: Vec<Reference> = Vec::new();
        for &o in &old_ops {
            for &v in &f.op(o).results {
                for &u in &f.value(v).uses {
                    if matches!(u, Use::Operand { op, .. } if old_set.contains(&op)) {
                        continue;
                    }
                    references.push(Reference {
                        at: u,
                        name: f.value(v).name.clone(),
                    });
                }
            }
        }
        let new_names: HashSet<&str> = (g.values.iter())
            .filter(|v| matches!(v.def, ValueDef::Result(..)))
            .map(|v| v.name.as_str())
            .collect();
        let old_names: HashSet<&str> = (old_ops.iter())
            .flat_map(|&o| f.op(o).results.iter().map(|&v| f.value(v).name.as_str()))
            .collect();
        // Every "did you mean" is chosen among the function's names.
        let names_changed = old_names != new_names;
        let shift = m.deferred_shift;
        for d in &m.diagnostics {
            if !(d.code == codes::UNDEFINED_VALUE || d.code == codes::UNKNOWN_OUTPUT) || within_old(d.span) {
                continue;
            }
            let name = m
                .rope
                .byte_slice(d.span.start as usize..d.span.end as usize)
                .to_string();
            if new_names.contains(name.as_str())
                && let Some(at) = reference_at(f, spans, shift, fi, d.span)
            {
                references.push(Reference {
                    at,
                    name: name.into(),
                });
            }
        }
        // The text.
        let start = m.rope.byte_to_char(edit.start as usize);
        let end = m.rope.byte_to_char(edit.end as usize);
        m.rope.remove(start..end);
        m.rope.insert(start, new_text);
        for r in &references {
            if let Some(v) = reference_mut(f, r.at).and_then(|x| x.id.take()) {
                let uses = &mut f.values[v.index()].uses;
                uses.retain(|&u| u != r.at);
            }
        }

        // The old statements go.
        let mut op_names = m.op_names.get_mut().map(|c| &mut c[fi]);
        let mut name_index = m.name_index.get_mut().map(|c| &mut c[fi]);
        for &o in old_ops.iter().rev() {
            if let (Some(counts), Some(name)) = (op_names.as_deref_mut(), f.op(o).name()) {
                match counts.get_mut(name) {
                    Some(n) if *n > 1 => *n -= 1,
                    _ => {
                        counts.remove(name);
                    }
                }
            }
            for v in f.op(o).results.clone() {
                let name = f.value(v).name.clone();
                if f.symbols.get(&name) == Some(&v) {
                    f.symbols.remove(&name);
                }
                f.values[v.index()].uses.clear();
                spans.values[v.index()] = Default::default();
            }
            f.retire_op(o);
            spans.ops[o.index()] = Default::default();
        }

        // The new statements come, their values first so that every name is known.
        let first_new = f.ops.len() as u32;
        let to_doc = self.to_doc;
        let body = f.body;
        let mut new_ops = Vec::with_capacity(g.ops.len());
        let g_order = g.block(g.body).ops.clone();
        let mut value_of: Vec<Option<ValueId>> = vec![None; g.values.len()];
        for (k, &go) in g_order.iter().enumerate() {
            let id = OpId(first_new + k as u32);
            for (i, &w) in g.op(go).results.iter().enumerate() {
                let v = f.push_value(Value {
                    name: g.value(w).name.clone(),
                    ty: g.value(w).ty.clone(),
                    def: ValueDef::Result(id, i as u32),
                    uses: Vec::new(),
                });
                let ws = gspans.values[w.index()];
                spans.values.push(mil_ir::ValueSpans {
                    name: moved(ws.name, to_doc),
                    ty: moved(ws.ty, to_doc),
                });
                f.symbols.insert(g.value(w).name.clone(), v);
                if let Some(index) = name_index.as_deref_mut() {
                    index.insert(&g.value(w).name);
                }
                value_of[w.index()] = Some(v);
            }
        }
        for (k, &go) in g_order.iter().enumerate() {
            let id = OpId(first_new + k as u32);
            let mut op = std::mem::replace(
                &mut g.ops[go.index()],
                Operation::new(
                    Default::default(),
                    Vec::new(),
                    Vec::new(),
                    Default::default(),
                    g.body,
                ),
            );
            op.parent = body;
            for r in op.results.iter_mut() {
                *r = value_of[r.index()].expect("every result was added");
            }
            for (slot, r) in op.operands_mut() {
                r.id = f.symbols.get(&r.name).copied();
                if let Some(v) = r.id {
                    f.values[v.index()].uses.push(slot.of(id));
                }
            }
            if let Some(counts) = op_names.as_deref_mut()
                && let Some(name) = op.name()
            {
                *counts.entry(name.into()).or_insert(0) += 1;
            }
            f.push_op(op);
            let mut s = std::mem::take(&mut gspans.ops[go.index()]);
            move_op_spans(&mut s, to_doc);
            spans.ops.push(s);
            new_ops.push(id);
        }
        f.blocks[body.index()]
            .ops
            .splice(region.first..region.end, new_ops.iter().copied())
            .for_each(drop);

        // The references elsewhere find their names again.
        for r in &references {
            let id = f.symbols.get(&r.name).copied();
            if let Some(x) = reference_mut(f, r.at) {
                x.id = id;
            }
            if let Some(v) = id {
                f.values[v.index()].uses.push(r.at);
            }
        }

        // Span moves: owed for what follows the region, in place for the new statements.
        let shift = DeferredShift {
            function: fi,
            op: shift.map_or(OpId(u32::MAX), |d| d.op),
            fresh_ops: shift.map_or(first_new, |d| d.fresh_ops.min(first_new)),
            header: shift.is_some_and(|d| d.header),
            threshold: shift.map_or(old_span.end, |d| d.threshold),
            delta: shift.map_or(0, |d| d.delta) + delta,
        };
        if let Some(d) = m.deferred_shift {
            // Statements read anew before this edit and after it move now.
            let after = |o: OpId| !new_ops.contains(&o) && d.is_reparsed(fi, o);
            incremental::move_in_place_after(m, fi, old_span.end, delta, after);
        }
        m.deferred_shift = Some(shift);

        // Diagnostics: the region's are read anew, the name resolution of the references found
        // again, the others move.
        let ref_spans: Vec<Span> = (references.iter())
            .filter_map(|r| reference_span(&m.map.functions[fi], shift, fi, r.at))
            .collect();
        drop_and_move_diagnostics(m, old_span, delta);
        m.names();
        let names = &m.name_index.get().expect("just built")[fi];
        let f = &m.program.functions[fi];
        let spans = &m.map.functions[fi];
        m.diagnostics
            .retain(|d| !(incremental::is_name_resolution(d.code) && ref_spans.contains(&d.span)));
        let mut fresh: Vec<Diagnostic> = std::mem::take(&mut self.wrapper.diagnostics)
            .into_iter()
            .filter(|d| !incremental::is_name_resolution(d.code))
            .map(|mut d| {
                d.span = moved(d.span, to_doc);
                d.related.iter_mut().for_each(|r| r.span = moved(r.span, to_doc));
                d
            })
            .collect();
        let mut resolved: Vec<(Use, Span)> = Vec::new();
        for &o in &new_ops_of(f, first_new) {
            for (slot, _) in f.op(o).operands() {
                let u = slot.of(o);
                if let Some(s) = reference_span(spans, shift, fi, u) {
                    resolved.push((u, s));
                }
            }
        }
        for r in &references {
            if let Some(s) = reference_span(spans, shift, fi, r.at) {
                resolved.push((r.at, s));
            }
        }
        for (u, at) in resolved {
            fresh.extend(name_resolution(f, names, spans, shift, fi, u, at));
        }
        fresh.sort_by_key(|d| (d.span.start, d.span.end));
        for d in fresh {
            insert_sorted(&mut m.diagnostics, d);
        }

        if names_changed {
            for d in &mut m.diagnostics {
                if d.code == codes::UNDEFINED_VALUE || d.code == codes::UNKNOWN_OUTPUT {
                    let name = m
                        .rope
                        .byte_slice(d.span.start as usize..d.span.end as usize)
                        .to_string();
                    d.message = undefined_message(d.code, &name, &names.suggestion(f, &name));
                }
            }
        }
        if let Some(facts) = m.facts.as_mut().and_then(|all| all.get_mut(fi)) {
            facts.resize(f.values.len(), Default::default());
        }
        let new = new_ops_of(f, first_new);
        let mut recheck = new.clone();
        recheck.extend(references.iter().filter_map(|r| match r.at {
            Use::Operand { op, .. } => Some(op),
            Use::Output { .. } => None,
        }));
        recheck.sort_unstable();
        recheck.dedup();
        Reread {
            function: fi,
            recheck,
            new,
        }
    }
}

/// The ops appended from `first` on that are live.
fn new_ops_of(f: &Function, first: u32) -> Vec<OpId> {
    (first..f.ops.len() as u32)
        .map(OpId)
        .filter(|&o| !f.op(o).is_erased())
        .collect()
}

/// Moves every span of one op's spans by `by`.
fn move_op_spans(o: &mut mil_ir::OpSpans, by: i64) {
    incremental::each_op_span(o, |s| *s = moved(*s, by));
}

/// The reference at use `u`.
fn reference_mut(f: &mut Function, u: Use) -> Option<&mut ValueRef> {
    match u {
        Use::Operand { op, arg, item } => f.ops[op.index()]
            .args
            .get_mut(arg as usize)?
            .value
            .value_at_mut(item),
        Use::Output { block, index } => f.blocks[block.index()].outputs.get_mut(index as usize),
    }
}

/// The reference at use `u`, read only.
fn reference(f: &Function, u: Use) -> Option<&ValueRef> {
    match u {
        Use::Operand { op, arg, item } => {
            let operand = &f.op(op).args.get(arg as usize)?.value;
            operand.values().find(|(i, _)| *i == item).map(|(_, r)| r)
        }
        Use::Output { block, index } => f.block(block).outputs.get(index as usize),
    }
}

/// Where the reference at use `u` is written now.
fn reference_span(spans: &mil_ir::FunctionSpans, shift: DeferredShift, fi: usize, u: Use) -> Option<Span> {
    match u {
        Use::Operand { op, arg, item } => {
            let s = spans.ops.get(op.index())?.args.get(arg as usize)?;
            let at = match item {
                Some(i) => *s.items.get(i as usize)?,
                None => s.value,
            };
            Some(if shift.is_reparsed(fi, op) {
                at
            } else {
                shift.now(at)
            })
        }
        Use::Output { block, index } => {
            let at = *spans.blocks.get(block.index())?.outputs.get(index as usize)?;
            Some(shift.now(at))
        }
    }
}

/// The use written at `at` (a span of the current text) in function `fi`: an operand of the
/// statement there, or a name the body returns.
fn reference_at(
    f: &Function,
    spans: &mil_ir::FunctionSpans,
    shift: Option<DeferredShift>,
    fi: usize,
    at: Span,
) -> Option<Use> {
    let now = |o: OpId, s: Span| match shift {
        Some(d) if !d.is_reparsed(fi, o) => d.now(s),
        _ => s,
    };
    let ops = &f.block(f.body).ops;
    let i = ops.partition_point(|&o| now(o, spans.ops[o.index()].whole).start <= at.start);
    if let Some(&o) = i.checked_sub(1).and_then(|i| ops.get(i)) {
        for (slot, _) in f.op(o).operands() {
            let u = slot.of(o);
            let Use::Operand { arg, item, .. } = u else {
                continue;
            };
            let s = &spans.ops[o.index()].args[arg as usize];
            let written = item.map_or(Some(s.value), |i| s.items.get(i as usize).copied());
            if written.map(|w| now(o, w)) == Some(at) {
                return Some(u);
            }
        }
    }
    let body = f.body;
    let outputs = &spans.blocks.get(body.index())?.outputs;
    let index = outputs
        .iter()
        .position(|&s| shift.map_or(s, |d| d.now(s)) == at)?;
    Some(Use::Output {
        block: body,
        index: index as u32,
    })
}

/// The name-resolution diagnostic of the reference at use `u`, written at `at`, as reading the
/// whole text gives it: undefined (with the suggestion `names` finds), or used before its
/// definition.
fn name_resolution(
    f: &Function,
    names: &NameIndex,
    spans: &mil_ir::FunctionSpans,
    shift: DeferredShift,
    fi: usize,
    u: Use,
    at: Span,
) -> Option<Diagnostic> {
    let r = reference(f, u)?;
    let Some(v) = r.id else {
        let code = match u {
            Use::Operand { .. } => codes::UNDEFINED_VALUE,
            Use::Output { .. } => codes::UNKNOWN_OUTPUT,
        };
        let hint = names.suggestion(f, &r.name);
        return Some(Diagnostic::new(code, at, undefined_message(code, &r.name, &hint)));
    };
    let Use::Operand { op: reader, .. } = u else {
        return None;
    };
    let whole = |o: OpId| {
        let s = spans.ops[o.index()].whole;
        if shift.is_reparsed(fi, o) { s } else { shift.now(s) }
    };
    let ValueDef::Result(def_op, _) = f.value(v).def else {
        return None;
    };
    if whole(def_op).end <= whole(reader).start && def_op != reader {
        return None;
    }
    let def = spans.values[v.index()].name;
    let def = if shift.is_reparsed(fi, def_op) {
        def
    } else {
        shift.now(def)
    };
    Some(
        Diagnostic::new(
            codes::USE_BEFORE_DEFINITION,
            at,
            format!("`{}` is used before it is defined", r.name),
        )
        .with_related(def, "defined here"),
    )
}

/// Replaces bytes `edit` of a function's header (its parameters, name, opset and attributes, from
/// after `func` to before the body's `{`) with `new_text` by reading the header anew; `None` when
/// the edit needs a full analysis. The function must keep its name, opset, attributes and
/// parameter names; a parameter's type may change, and the ops reading it are checked again.
pub fn reread_header(m: &mut Model, edit: Span, new_text: &str) -> Option<Reread> {
    if m.program.version.is_empty() || !m.diagnostics.iter().all(|d| is_known(d.code)) {
        return None;
    }
    // Owed moves compose with those of an earlier header edit alone.
    if m.deferred_shift
        .is_some_and(|d| !(d.header && d.op == OpId(u32::MAX) && d.fresh_ops == u32::MAX))
    {
        m.finish();
    }
    let shift = m.deferred_shift;
    let now = |s: Span| shift.map_or(s, |d| d.now(s));
    let header_of = |fi: usize| {
        let f = &m.program.functions[fi];
        let spans = &m.map.functions[fi];
        let body = now(spans.blocks.get(f.body.index())?.whole);
        Some(Span::new(spans.whole.start as usize, body.start as usize))
    };
    let fi = (0..m.program.functions.len())
        .find(|&fi| header_of(fi).is_some_and(|h| h.start + 4 < edit.start && edit.end <= h.end))?;
    if shift.is_some_and(|d| d.function != fi) {
        return None;
    }
    let header = header_of(fi)?;
    if m.rope.get_byte(header.end as usize) != Some(b'{') {
        return None;
    }
    let f = &m.program.functions[fi];
    let old_text = m.slice(header);
    let (from, to) = (
        (edit.start - header.start) as usize,
        (edit.end - header.start) as usize,
    );
    let text = format!("{}{new_text}{}", old_text.get(..from)?, old_text.get(to..)?);
    if old_text.contains("//") || text.contains("//") || text.contains(['{', '}', ';']) {
        return None;
    }
    let within_old = |s: Span| header.start <= s.start && s.end <= header.end;
    let blocked = m.diagnostics.iter().any(|d| {
        d.code == codes::DUPLICATE_DEFINITION || (UNSETTLING.contains(&d.code) && within_old(d.span))
    }) || (m.program_diagnostics.iter())
        .any(|d| !d.code.id.starts_with("ANE") && within_old(d.span));
    if blocked {
        return None;
    }
    let prefix = format!("program({}) {{ ", m.program.version);
    let wrapper = format!("{prefix}{text}{{ }} -> (); }}");
    let mut read = crate::analysis::read(&wrapper, m.model_dir.as_deref());
    let in_region = |s: Span| prefix.len() as u32 <= s.start && s.end as usize <= prefix.len() + text.len();
    let [g] = read.program.functions.as_slice() else {
        return None;
    };
    let same_outline = g.name == f.name
        && g.opset == f.opset
        && g.attributes == f.attributes
        && g.params.len() == f.params.len()
        && (g.params.iter().zip(&f.params)).all(|(&a, &b)| g.value(a).name == f.value(b).name);
    let diagnostics_ok = read.diagnostics.iter().all(|d| {
        is_known(d.code)
            && in_region(d.span)
            && !UNSETTLING.contains(&d.code)
            && d.code != codes::DUPLICATE_DEFINITION
    });
    if !same_outline || !diagnostics_ok {
        return None;
    }

    // The text, the parameters' types and the header's spans.
    let delta = new_text.len() as i64 - i64::from(edit.end - edit.start);
    let to_doc = i64::from(header.start) - prefix.len() as i64;
    let start = m.rope.byte_to_char(edit.start as usize);
    let end = m.rope.byte_to_char(edit.end as usize);
    m.rope.remove(start..end);
    m.rope.insert(start, new_text);
    let f = &mut m.program.functions[fi];
    let spans = &mut m.map.functions[fi];
    let gspans = &read.source_map.functions[0];
    let mut retyped = Vec::new();
    for (&p, &q) in f.params.clone().iter().zip(&g.params) {
        if f.value(p).ty != g.value(q).ty {
            f.values[p.index()].ty = g.value(q).ty.clone();
            retyped.push(p);
        }
        let s = gspans.values[q.index()];
        spans.values[p.index()] = mil_ir::ValueSpans {
            name: moved(s.name, to_doc),
            ty: moved(s.ty, to_doc),
        };
    }
    spans.name = moved(gspans.name, to_doc);
    spans.opset = moved(gspans.opset, to_doc);
    spans.attributes = gspans.attributes.clone();
    for a in &mut spans.attributes {
        for s in [&mut a.whole, &mut a.key, &mut a.value, &mut a.ty] {
            *s = moved(*s, to_doc);
        }
    }
    let body_unmoved = spans.blocks[f.body.index()].whole.start;
    m.deferred_shift = Some(DeferredShift {
        function: fi,
        op: OpId(u32::MAX),
        fresh_ops: u32::MAX,
        header: true,
        threshold: shift.map_or(body_unmoved, |d| d.threshold),
        delta: shift.map_or(0, |d| d.delta) + delta,
    });

    // Diagnostics: the header's are read anew, the others move.
    drop_and_move_diagnostics(m, header, delta);
    for mut d in std::mem::take(&mut read.diagnostics) {
        d.span = moved(d.span, to_doc);
        d.related.iter_mut().for_each(|r| r.span = moved(r.span, to_doc));
        insert_sorted(&mut m.diagnostics, d);
    }
    let f = &m.program.functions[fi];
    let mut recheck: Vec<OpId> = (retyped.iter())
        .flat_map(|&p| f.value(p).uses.iter())
        .filter_map(|u| match *u {
            Use::Operand { op, .. } => Some(op),
            Use::Output { .. } => None,
        })
        .collect();
    recheck.sort_unstable();
    recheck.dedup();
    Some(Reread {
        function: fi,
        recheck,
        new: Vec::new(),
    })
}

/// Drops the diagnostics within bytes `old` of the text before an edit of them, and moves those
/// after them by `delta`, the change in length.
fn drop_and_move_diagnostics(m: &mut Model, old: Span, delta: i64) {
    let within_old = |s: Span| old.start <= s.start && s.end <= old.end;
    let relocate = |s: &mut Span| {
        for x in [&mut s.start, &mut s.end] {
            if *x >= old.end {
                *x = (i64::from(*x) + delta) as u32;
            }
        }
    };
    for all in [
        &mut m.diagnostics,
        &mut m.program_diagnostics,
        &mut m.package_diagnostics,
    ] {
        all.retain(|d| !within_old(d.span));
        for d in all {
            relocate(&mut d.span);
            d.related.iter_mut().for_each(|r| relocate(&mut r.span));
        }
    }
}

/// Inserts `d` into `all`, sorted by position, after those at the same position.
fn insert_sorted(all: &mut Vec<Diagnostic>, d: Diagnostic) {
    let key = (d.span.start, d.span.end);
    let at = all.partition_point(|x| (x.span.start, x.span.end) <= key);
    all.insert(at, d);
}

/// The message of an undefined operand or output `name`, with its "did you mean" `hint`, as the
/// reading of a whole text words it.
fn undefined_message(code: mil_ir::Code, name: &str, hint: &str) -> String {
    match code == codes::UNKNOWN_OUTPUT {
        true => format!("cannot return `{name}`: it is not defined{hint}"),
        false => format!("`{name}` is not defined{hint}"),
    }
}
