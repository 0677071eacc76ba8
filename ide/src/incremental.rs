//! Incremental analysis: an edit inside one statement re-parses that statement alone.
//!
//! The statement's new text is parsed inside a one-statement wrapper program with the same
//! version, function name and opset, through the same reading as a whole file
//! ([`crate::analysis::read`]), so its statement-local diagnostics (literals, types, keys,
//! names, constants, weights) are the ones a full analysis would give. The result replaces the
//! operation in place (same [`OpId`], same result [`ValueId`]s); its operands are resolved against
//! the function's symbol table, use lists are updated, every span after the edit is shifted and
//! the diagnostics inside the statement are replaced.
//!
//! The patch gives up (and the caller re-analyses the whole text) whenever the edit could change
//! anything outside the statement: a statement that no longer reads as one operation (syntax
//! errors, `;`, comments, unterminated strings), a control-flow op, changed result names, an
//! undefined operand (whose "did you mean" depends on the whole function), an op name shared with
//! another op, or a diagnostic code this module does not know to be statement-local. The
//! property test in `server/tests` checks patched models against full analyses.

use crate::model::Model;
use mil_ir::{
    Diagnostic, Function, OpId, OpSpans, Operation, SourceMap, Span, Type, Use, ValueDef, ValueId,
    ValueSpans, codes,
};
use rustc_hash::FxHashMap;

/// Diagnostic codes that mean the statement cannot be read on its own.
const UNREADABLE: &[mil_ir::Code] = &[
    codes::SYNTAX,
    codes::INVALID_TOKEN,
    codes::UNTERMINATED_STRING,
    codes::COMMENT,
    codes::BAD_HEADER,
];

/// Codes of name resolution: they depend on the function, so the wrapper's are dropped and the
/// patch works them out against the real symbol table.
const NAME_RESOLUTION: &[mil_ir::Code] = &[
    codes::UNDEFINED_VALUE,
    codes::USE_BEFORE_DEFINITION,
    codes::DUPLICATE_DEFINITION,
    codes::UNKNOWN_OUTPUT,
];

/// Codes whose diagnostics depend only on the statement they are in (besides name resolution,
/// handled here, and duplicate op names, checked here).
const STATEMENT_LOCAL: &[mil_ir::Code] = &[
    codes::BAD_TYPE,
    codes::BAD_LITERAL,
    codes::MISSING_NAME,
    codes::POSITIONAL_ARGUMENT,
    codes::BARE_LITERAL,
    codes::FLAT_TENSOR_LITERAL,
    codes::SCALAR_FOR_TENSOR,
    codes::DECIMAL_FLOAT,
    codes::INEXACT_FLOAT,
    codes::ELEMENT_COUNT,
    codes::LITERAL_DTYPE,
    codes::DUPLICATE_ARGUMENT,
    codes::CONST_TYPE,
    codes::DUPLICATE_ATTRIBUTE,
    codes::BLOB_PATH_ESCAPES,
    codes::BLOB_FILE_MISSING,
    codes::BLOB_BAD_RECORD,
    codes::BLOB_DTYPE,
    codes::BLOB_SIZE,
];

/// What re-parsing one statement did.
#[derive(Clone, Debug, PartialEq)]
pub enum Reparsed {
    /// The statement could not be patched alone; the model is untouched.
    Declined,
    /// Patched; the op means what it meant (only spacing or its `name` changed), so the
    /// program-wide checks find what they found (their spans have been moved).
    SameMeaning,
    /// Patched; the op means something else, so the program-wide checks must run again (for it
    /// and what depends on it: see [`crate::recheck`]).
    NewMeaning(Box<Edited>),
}

/// An op whose meaning an edit changed, with what it was before.
#[derive(Clone, Debug, PartialEq)]
pub struct Edited {
    /// The function's index.
    pub function: usize,
    /// The op.
    pub op: OpId,
    /// The op before the edit.
    pub old: Operation,
    /// The declared types of its results before the edit.
    pub old_types: Vec<Type>,
}

/// Replaces bytes `edit` of the model's text with `new_text` by re-parsing the one statement the
/// edit lies in.
pub fn reparse_statement(m: &mut Model, edit: Span, new_text: &str) -> Reparsed {
    if !m.diagnostics.iter().all(|d| is_known(d.code)) {
        return Reparsed::Declined;
    }
    // Typing on in a statement whose spans are in place (the last patch re-parsed or re-read it)
    // composes with the pending span moves.
    let pending = m.deferred_shift.and_then(|d| {
        let op = top_level_statement_at(m, d.function, edit)?;
        d.is_reparsed(d.function, op).then_some((d.function, op))
    });
    if pending.is_none() {
        // An edit between statements is left to the re-read, which composes with the moves.
        if !inside_a_statement_now(m, edit) {
            return Reparsed::Declined;
        }
        m.finish();
    }
    let located = pending.or_else(|| statement_at(m, edit));
    let Some((fi, op)) = located else {
        return Reparsed::Declined;
    };
    let Some(patch) = prepare(m, fi, op, edit, new_text) else {
        return Reparsed::Declined;
    };
    match patch.apply(m) {
        None => Reparsed::SameMeaning,
        Some(edited) => Reparsed::NewMeaning(Box::new(edited)),
    }
}

/// How many ops of one function carry each `name` attribute.
pub type OpNames = FxHashMap<Box<str>, usize>;

/// How many ops of `f` have each `name` attribute.
pub(crate) fn op_name_counts(f: &Function) -> OpNames {
    let mut counts = OpNames::default();
    counts.reserve(f.ops.len());
    for name in f.ops.iter().filter_map(Operation::name) {
        match counts.get_mut(name) {
            Some(count) => *count += 1,
            None => {
                counts.insert(name.into(), 1);
            }
        }
    }
    counts
}

/// Whether `code` is a name-resolution code (which a statement parsed alone always has).
pub fn is_name_resolution(code: mil_ir::Code) -> bool {
    NAME_RESOLUTION.contains(&code)
}

pub(crate) fn is_known(code: mil_ir::Code) -> bool {
    [UNREADABLE, NAME_RESOLUTION, STATEMENT_LOCAL]
        .iter()
        .any(|set| set.contains(&code))
        || code == codes::DUPLICATE_OP_NAME
}

/// Where op `op` of function `fi` is in the text now, with the span moves a patch still owes.
pub fn whole_now(m: &Model, fi: usize, op: OpId) -> Span {
    let whole = m.map.functions[fi].ops[op.index()].whole;
    match m.deferred_shift {
        Some(d) if !d.is_reparsed(fi, op) => d.now(whole),
        _ => whole,
    }
}

/// The simple operation of function `fi`'s body whose statement contains `edit`, by where the
/// statements are now (with the span moves a patch still owes).
pub fn top_level_statement_at(m: &Model, fi: usize, edit: Span) -> Option<OpId> {
    let f = m.program.functions.get(fi)?;
    let ops = &f.block(f.body).ops;
    let i = ops.partition_point(|&o| whole_now(m, fi, o).start <= edit.start);
    let op = *ops.get(i.checked_sub(1)?)?;
    let whole = whole_now(m, fi, op);
    (whole.start <= edit.start && edit.end <= whole.end && f.op(op).blocks.is_empty()).then_some(op)
}

/// Whether `edit` lies inside a statement of a function's body, where the text is now (with the
/// span moves a patch still owes): where [`statement_at`] may find one once they are made.
fn inside_a_statement_now(m: &Model, edit: Span) -> bool {
    let now = |s: Span| m.deferred_shift.map_or(s, |d| d.now(s));
    let inside = |outer: Span| outer.start <= edit.start && edit.end <= outer.end;
    let Some(fi) = m.map.functions.iter().position(|s| inside(now(s.whole))) else {
        return false;
    };
    let f = &m.program.functions[fi];
    let ops = &f.block(f.body).ops;
    let i = ops.partition_point(|&o| whole_now(m, fi, o).start <= edit.start);
    i.checked_sub(1).is_some_and(|i| inside(whole_now(m, fi, ops[i])))
}

/// The function and the innermost simple operation whose statement contains `edit`.
fn statement_at(m: &Model, edit: Span) -> Option<(usize, OpId)> {
    let inside = |outer: Span| outer.start <= edit.start && edit.end <= outer.end;
    let fi = m.map.functions.iter().position(|s| inside(s.whole))?;
    let (f, spans) = (m.program.functions.get(fi)?, &m.map.functions[fi]);
    let whole = |o: OpId| spans.ops.get(o.index()).map_or(Span::default(), |s| s.whole);
    let mut block = f.body;
    loop {
        let ops = &f.blocks.get(block.index())?.ops;
        let i = ops.partition_point(|&o| whole(o).start <= edit.start);
        let op = *ops.get(i.checked_sub(1)?)?;
        if !inside(whole(op)) {
            return None;
        }
        let nested = &f.op(op).blocks;
        if nested.is_empty() {
            return Some((fi, op));
        }
        block = *nested
            .iter()
            .find(|b| spans.blocks.get(b.index()).is_some_and(|s| inside(s.whole)))?;
    }
}

/// A checked replacement of one statement, ready to apply.
struct Patch {
    fi: usize,
    op: OpId,
    /// The statement's span before the edit.
    old: Span,
    edit: Span,
    delta: i64,
    new_text: String,
    /// The wrapper's analysis.
    wrapper: crate::analysis::Analysis,
    /// Added to a wrapper offset to get a document offset.
    to_doc: i64,
}

fn prepare(m: &Model, fi: usize, op: OpId, edit: Span, new_text: &str) -> Option<Patch> {
    let f = &m.program.functions[fi];
    let old = m.map.functions[fi].ops[op.index()].whole;
    let old_text = m.slice(old);
    let (rel_start, rel_end) = ((edit.start - old.start) as usize, (edit.end - old.start) as usize);
    let stmt = format!(
        "{}{new_text}{}",
        old_text.get(..rel_start)?,
        old_text.get(rel_end..)?
    );
    if old_text.contains("//") || stmt.contains("//") {
        return None;
    }
    let alone = parse_alone(m, f, &stmt)?;
    alone.single_op()?;
    let wrapper = alone.analysis;
    let prefix_len = alone.region.start as usize;
    let g = &wrapper.program.functions[0];
    let new_op = &g.ops[0];
    let old_op = f.op(op);
    let names =
        |g: &Function, ids: &[ValueId]| ids.iter().map(|&v| g.value(v).name.clone()).collect::<Vec<_>>();
    if names(g, &new_op.results) != names(f, &old_op.results) {
        return None;
    }
    if new_op.name() != old_op.name() {
        let counts = &m
            .op_names
            .get_or_init(|| m.program.functions.iter().map(op_name_counts).collect())[fi];
        let count = |n: Option<&str>| n.and_then(|n| counts.get(n)).copied().unwrap_or(0);
        if count(old_op.name()) > 1 || count(new_op.name()) > 0 {
            return None;
        }
    }
    let in_old = |s: Span| old.start <= s.start && s.end <= old.end;
    let involved = m.diagnostics.iter().any(|d| {
        d.code == codes::DUPLICATE_OP_NAME && (in_old(d.span) || d.related.iter().any(|r| in_old(r.span)))
    });
    if involved || ["true", "false"].iter().any(|w| f.symbols.contains_key(*w)) {
        return None;
    }
    if operand_names(new_op).any(|name| f.lookup(name).is_none()) {
        return None;
    }
    Some(Patch {
        fi,
        op,
        old,
        edit,
        delta: new_text.len() as i64 - i64::from(edit.end - edit.start),
        new_text: new_text.to_string(),
        wrapper,
        to_doc: i64::from(old.start) - prefix_len as i64,
    })
}

/// A statement parsed on its own, inside a wrapper program with the version, function name and
/// opset of the function it belongs to.
pub struct Alone {
    /// The wrapper's analysis.
    pub analysis: crate::analysis::Analysis,
    /// Where the statement is in the wrapper's text.
    pub region: Span,
}

/// Parses statement text `stmt` of function `f` on its own; `None` when the program's version or
/// the function's header could not be read.
pub fn parse_alone(m: &Model, f: &Function, stmt: &str) -> Option<Alone> {
    let mut alone = parse_statements(m, f, &format!("{stmt};"))?;
    alone.region.end -= 1;
    Some(alone)
}

/// Parses `statements`, the text of statements of function `f` ending with a `;`, on their own,
/// inside a wrapper program as [`parse_alone`] does.
pub fn parse_statements(m: &Model, f: &Function, statements: &str) -> Option<Alone> {
    if m.program.version.is_empty() || f.name.is_empty() || f.opset.is_empty() {
        return None;
    }
    let prefix = format!(
        "program({}) {{ func {}<{}>() {{ ",
        m.program.version, f.name, f.opset
    );
    let text = format!("{prefix}{statements} }} -> (); }}");
    Some(Alone {
        analysis: crate::analysis::read_fragment(&text, m.model_dir.as_deref()),
        region: Span::new(prefix.len(), prefix.len() + statements.len()),
    })
}

impl Alone {
    /// The statement's function, when the text read as exactly one operation without nested
    /// blocks and every diagnostic is a known statement-local one inside it.
    pub fn single_op(&self) -> Option<&Function> {
        let region = self.region;
        let within = |s: Span| region.start <= s.start && s.end <= region.end;
        let [g] = self.analysis.program.functions.as_slice() else {
            return None;
        };
        let readable = g.ops.len() == 1 && g.ops[0].blocks.is_empty() && g.block(g.body).ops.len() == 1;
        let diagnostics_ok = self.analysis.diagnostics.iter().all(|d| {
            is_known(d.code)
                && !UNREADABLE.contains(&d.code)
                && within(d.span)
                && d.code != codes::DUPLICATE_OP_NAME
        });
        (readable && diagnostics_ok).then_some(g)
    }
}

/// The names an operation's operands refer to.
fn operand_names(op: &mil_ir::Operation) -> impl Iterator<Item = &str> {
    op.operands().map(|(_, r)| r.name.as_str())
}

/// `offset` after the edit: unchanged before its end, moved by `delta` from there on.
fn shift(offset: u32, edit_end: u32, delta: i64) -> u32 {
    if offset >= edit_end {
        (i64::from(offset) + delta) as u32
    } else {
        offset
    }
}

fn shift_span(s: &mut Span, edit_end: u32, delta: i64) {
    s.start = shift(s.start, edit_end, delta);
    s.end = shift(s.end, edit_end, delta);
}

/// Span moves applied patches still owe the source map: every span from `threshold` (the end of
/// the re-parsed statement, or of the re-read statements, before the edit) on moves by `delta`,
/// except those of the ops whose spans are already in place — the re-parsed op, and the ops read
/// anew from the text (ids from `fresh_ops` on) — and their results. Edits typed one after another
/// in statements whose spans are in place add up to one move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeferredShift {
    pub(crate) function: usize,
    pub(crate) op: OpId,
    pub(crate) fresh_ops: u32,
    /// The function's header (parameters, name, opset, attributes) was read anew: its spans are
    /// in place.
    pub(crate) header: bool,
    pub(crate) threshold: u32,
    pub(crate) delta: i64,
}

impl DeferredShift {
    /// Moves the spans of `m`'s source map.
    pub fn apply(self, program: &mil_ir::Program, map: &mut SourceMap) {
        let f = &program.functions[self.function];
        let spans = &mut map.functions[self.function];
        let in_place: Vec<OpId> = std::iter::once(self.op)
            .filter(|o| o.index() < f.ops.len())
            .chain((self.fresh_ops..f.ops.len() as u32).map(OpId))
            .collect();
        let keep_ops: Vec<OpSpans> = in_place
            .iter()
            .map(|o| std::mem::take(&mut spans.ops[o.index()]))
            .collect();
        let results: Vec<ValueId> = in_place
            .iter()
            .flat_map(|&o| f.op(o).results.iter().copied())
            .collect();
        let results: Vec<ValueId> = match self.header {
            true => results.into_iter().chain(f.params.iter().copied()).collect(),
            false => results,
        };
        let keep_values: Vec<_> = results.iter().map(|v| spans.values[v.index()]).collect();
        let keep_header = (spans.name, spans.opset, spans.attributes.clone());
        shift_map(map, self.threshold, self.delta);
        let spans = &mut map.functions[self.function];
        if self.header {
            (spans.name, spans.opset, spans.attributes) = keep_header;
        }
        for (o, s) in in_place.into_iter().zip(keep_ops) {
            spans.ops[o.index()] = s;
        }
        for (v, s) in results.into_iter().zip(keep_values) {
            spans.values[v.index()] = s;
        }
    }

    /// Where span `s`, of a part whose spans are not in place, is once the moves are made.
    pub fn now(&self, mut s: Span) -> Span {
        shift_span(&mut s, self.threshold, self.delta);
        s
    }

    /// By how many bytes the spans after the re-parsed statement move.
    pub fn delta(&self) -> i64 {
        self.delta
    }

    /// Whether the value of function `function` that `def` defines has its spans in place.
    pub fn value_in_place(&self, function: usize, def: ValueDef) -> bool {
        match def {
            ValueDef::Result(p, _) => self.is_reparsed(function, p),
            ValueDef::Param(_) => function == self.function && self.header,
            ValueDef::BlockParam(..) => false,
        }
    }

    /// Whether op `op` of function `function` is the re-parsed one or one read anew, whose spans
    /// are in place.
    pub fn is_reparsed(&self, function: usize, op: OpId) -> bool {
        function == self.function && (op == self.op || op.0 >= self.fresh_ops)
    }

    /// The spans of op `op` of function `function` once the moves are made.
    pub fn op_spans(&self, function: usize, op: OpId, s: &OpSpans) -> OpSpans {
        let mut s = s.clone();
        if !self.is_reparsed(function, op) && s.whole.end >= self.threshold {
            move_op_spans_after(&mut s, self.threshold, self.delta);
        }
        s
    }

    /// The spans of a value of function `function` once the moves are made (`in_place`: whether
    /// they are in place, [`DeferredShift::value_in_place`]).
    pub fn value_spans(&self, function: usize, in_place: bool, s: ValueSpans) -> ValueSpans {
        let mut s = s;
        if !(function == self.function && in_place) {
            shift_span(&mut s.name, self.threshold, self.delta);
            shift_span(&mut s.ty, self.threshold, self.delta);
        }
        s
    }
}

/// Calls `f` on every span of one op's spans.
pub(crate) fn each_op_span(o: &mut OpSpans, mut f: impl FnMut(&mut Span)) {
    f(&mut o.whole);
    f(&mut o.kind);
    o.opset.iter_mut().for_each(&mut f);
    o.attribute_block.iter_mut().for_each(&mut f);
    for a in &mut o.args {
        f(&mut a.whole);
        f(&mut a.value);
        a.key.iter_mut().for_each(&mut f);
        a.items.iter_mut().for_each(&mut f);
    }
    for a in &mut o.attributes {
        for s in [&mut a.whole, &mut a.key, &mut a.value, &mut a.ty] {
            f(s);
        }
    }
}

/// Moves the spans of the ops of function `fi` that `in_place` picks (ops whose spans the owed
/// moves leave alone) and that start from `from` on, with their results', by `delta`: an edit
/// before them that composes with the owed moves moves them itself.
pub(crate) fn move_in_place_after(
    m: &mut Model,
    fi: usize,
    from: u32,
    delta: i64,
    in_place: impl Fn(OpId) -> bool,
) {
    let Some(d) = m.deferred_shift else { return };
    let f = &m.program.functions[fi];
    let spans = &mut m.map.functions[fi];
    let candidates = std::iter::once(d.op)
        .filter(|o| o.index() < f.ops.len())
        .chain((d.fresh_ops..f.ops.len() as u32).map(OpId));
    for o in candidates {
        if !in_place(o) || f.op(o).is_erased() || spans.ops[o.index()].whole.start < from {
            continue;
        }
        move_op_spans(&mut spans.ops[o.index()], delta);
        for &v in &f.op(o).results {
            let s = &mut spans.values[v.index()];
            s.name = moved(s.name, delta);
            s.ty = moved(s.ty, delta);
        }
    }
}

/// Moves every span of one op's spans that lies after `edit_end` by `delta`.
fn move_op_spans_after(o: &mut OpSpans, edit_end: u32, delta: i64) {
    each_op_span(o, |s| shift_span(s, edit_end, delta));
}

/// Moves every span of `map` that lies after the edit.
fn shift_map(map: &mut SourceMap, edit_end: u32, delta: i64) {
    let mv = |s: &mut Span| shift_span(s, edit_end, delta);
    mv(&mut map.program);
    mv(&mut map.version);
    let attrs = |a: &mut mil_ir::AttrSpans| {
        for s in [&mut a.whole, &mut a.key, &mut a.value, &mut a.ty] {
            shift_span(s, edit_end, delta);
        }
    };
    map.attributes.iter_mut().for_each(attrs);
    for f in &mut map.functions {
        if f.whole.end < edit_end {
            continue;
        }
        for s in [&mut f.whole, &mut f.name, &mut f.opset] {
            mv(s);
        }
        f.attributes.iter_mut().for_each(attrs);
        for v in &mut f.values {
            mv(&mut v.name);
            mv(&mut v.ty);
        }
        for b in &mut f.blocks {
            mv(&mut b.whole);
            b.outputs.iter_mut().for_each(mv);
        }
        for o in &mut f.ops {
            if o.whole.end < edit_end {
                continue;
            }
            move_op_spans_after(o, edit_end, delta);
        }
    }
}

/// Moves every span of one op's spans by `by`.
fn move_op_spans(o: &mut mil_ir::OpSpans, by: i64) {
    each_op_span(o, |s| *s = moved(*s, by));
}

fn moved(s: Span, by: i64) -> Span {
    Span {
        start: (i64::from(s.start) + by) as u32,
        end: (i64::from(s.end) + by) as u32,
    }
}

/// The order [`Function::recompute_uses`] lists uses in: by op (arena order is program order),
/// a block's outputs right after the operands of the op owning it, the body's outputs last.
fn use_order(f: &Function, u: &Use) -> (u32, u32, u32, u32) {
    match *u {
        Use::Operand { op, arg, item } => (op.0, 0, arg, item.map_or(0, |i| i + 1)),
        Use::Output { block, index } => match f.block(block).parent {
            Some(op) => (op.0, 1, block.0, index),
            None => (u32::MAX, 1, block.0, index),
        },
    }
}

/// Whether two versions of an op mean the same: equal but for their `name` attribute.
fn same_meaning(a: &Operation, b: &Operation) -> bool {
    let meaningful = |o: &Operation| {
        o.attributes
            .iter()
            .filter(|x| x.key != "name")
            .cloned()
            .collect::<Vec<_>>()
    };
    a.kind == b.kind
        && a.opset == b.opset
        && a.args == b.args
        && a.blocks == b.blocks
        && meaningful(a) == meaningful(b)
}

impl Patch {
    /// Applies the patch; returns the op as it was when it no longer means what it meant.
    fn apply(mut self, m: &mut Model) -> Option<Edited> {
        let (fi, op) = (self.fi, self.op);
        // The text.
        let start = m.rope.byte_to_char(self.edit.start as usize);
        let end = m.rope.byte_to_char(self.edit.end as usize);
        m.rope.remove(start..end);
        m.rope.insert(start, &self.new_text);

        // Spans after the edit move; the statement's own come from the wrapper.
        let old_result_spans: Vec<Span> = {
            let f = &m.program.functions[fi];
            let spans = &m.map.functions[fi];
            f.op(op)
                .results
                .iter()
                .map(|v| spans.values[v.index()].name)
                .collect()
        };
        // The spans after the statement move later ([`Model::finish`]): the diagnostics are
        // ready before that.
        if m.deferred_shift.is_some() {
            // Statements read anew after this one move with it now.
            move_in_place_after(m, fi, self.old.end, self.delta, |o| o != op);
        }
        let shift = match m.deferred_shift {
            Some(d) => DeferredShift {
                delta: d.delta + self.delta,
                ..d
            },
            None => DeferredShift {
                function: fi,
                op,
                fresh_ops: u32::MAX,
                header: false,
                threshold: self.old.end,
                delta: self.delta,
            },
        };
        m.deferred_shift = Some(shift);
        let g = &mut self.wrapper.program.functions[0];
        let gspans = &mut self.wrapper.source_map.functions[0];
        let mut op_spans = std::mem::take(&mut gspans.ops[0]);
        move_op_spans(&mut op_spans, self.to_doc);
        let spans = &mut m.map.functions[fi];
        spans.ops[op.index()] = op_spans;
        let f = &mut m.program.functions[fi];
        let results = f.op(op).results.clone();
        let mut old_types = Vec::with_capacity(results.len());
        for (i, &v) in results.iter().enumerate() {
            let w = g.op(OpId(0)).results[i];
            let ws = gspans.values[w.index()];
            spans.values[v.index()].name = moved(ws.name, self.to_doc);
            spans.values[v.index()].ty = moved(ws.ty, self.to_doc);
            old_types.push(std::mem::replace(
                &mut f.values[v.index()].ty,
                g.value(w).ty.clone(),
            ));
        }
        let same_types = results
            .iter()
            .zip(&old_types)
            .all(|(v, t)| f.values[v.index()].ty == *t);
        let new_result_spans: Vec<Span> = results.iter().map(|v| spans.values[v.index()].name).collect();

        // The operation, with operands resolved in the real function.
        let mut new_op = g.ops.pop().expect("the wrapper has one operation");
        let old_op = f.op(op);
        new_op.parent = old_op.parent;
        new_op.comments = old_op.comments.clone();
        new_op.results = old_op.results.clone();
        let mut touched: Vec<ValueId> = old_op.operands().filter_map(|(_, r)| r.id).collect();
        let mut late = Vec::new();
        let use_at = spans.ops[op.index()].whole.start;
        for (arg, a) in new_op.args.iter_mut().enumerate() {
            let arg_spans = &spans.ops[op.index()].args[arg];
            let mut resolve = |r: &mut mil_ir::ValueRef, at: Span| {
                let id = f.symbols.get(&r.name).copied();
                r.id = id;
                if let Some(id) = id {
                    // Spans after the statement have not moved yet.
                    let in_place = shift.value_in_place(fi, f.values[id.index()].def);
                    let def = shift.value_spans(fi, in_place, spans.values[id.index()]).name;
                    let now = |p: OpId| match shift.is_reparsed(fi, p) {
                        true => spans.ops[p.index()].whole,
                        false => shift.now(spans.ops[p.index()].whole),
                    };
                    let visible = match f.values[id.index()].def {
                        ValueDef::Param(_) => true,
                        ValueDef::BlockParam(..) => def.start < use_at,
                        ValueDef::Result(p, _) => p != op && now(p).end <= use_at,
                    };
                    if !visible {
                        late.push((r.name.clone(), at, def));
                    }
                }
            };
            for (item, r) in a.value.values_mut() {
                resolve(r, item.map_or(arg_spans.value, |j| arg_spans.items[j as usize]));
            }
        }
        // The op is replaced whole but for its arguments, which go in through the IR's editor so
        // that the use lists follow them.
        let args = std::mem::replace(&mut new_op.args, f.op(op).args.clone());
        let old_op = std::mem::replace(&mut f.ops[op.index()], new_op);
        f.edit()
            .edit_args(op, |a| *a = args)
            .expect("the op is live and its operands were resolved through the symbols");
        touched.extend(f.op(op).operands().filter_map(|(_, r)| r.id));
        let same = same_types && same_meaning(&old_op, f.op(op));
        if old_op.name() != f.op(op).name()
            && let Some(counts) = m.op_names.get_mut().map(|c| &mut c[fi])
        {
            if let Some(old) = old_op.name() {
                counts.remove(old);
            }
            if let Some(new) = f.op(op).name() {
                counts.insert(new.into(), 1);
            }
        }
        // Use lists stay in program order, as a fresh analysis lists them.
        touched.sort_unstable();
        touched.dedup();
        for v in touched {
            let mut uses = std::mem::take(&mut f.values[v.index()].uses);
            uses.sort_by_key(|u| use_order(f, u));
            f.values[v.index()].uses = uses;
        }

        // Diagnostics: the statement's are replaced, the others move.
        let old = self.old;
        let owned = |d: &Diagnostic| {
            old.start <= d.span.start
                && d.span.end <= old.end
                && d.code != codes::DUPLICATE_DEFINITION
                && d.code != codes::COMMENT
        };
        let (edit_end, delta) = (self.edit.end, self.delta);
        let relocate = |s: &mut Span| match old_result_spans.iter().position(|r| r == s) {
            Some(i) => *s = new_result_spans[i],
            None => shift_span(s, edit_end, delta),
        };
        m.diagnostics.retain(|d| !owned(d));
        for d in (m.diagnostics.iter_mut())
            .chain(&mut m.program_diagnostics)
            .chain(&mut m.package_diagnostics)
        {
            relocate(&mut d.span);
            d.related.iter_mut().for_each(|r| relocate(&mut r.span));
        }
        let to_doc = self.to_doc;
        let mut fresh: Vec<Diagnostic> = std::mem::take(&mut self.wrapper.diagnostics)
            .into_iter()
            .filter(|d| !NAME_RESOLUTION.contains(&d.code))
            .map(|mut d| {
                d.span = moved(d.span, to_doc);
                d.related.iter_mut().for_each(|r| r.span = moved(r.span, to_doc));
                d
            })
            .collect();
        fresh.extend(late.into_iter().map(|(name, at, def)| {
            Diagnostic::new(
                codes::USE_BEFORE_DEFINITION,
                at,
                format!("`{name}` is used before it is defined"),
            )
            .with_related(def, "defined here")
        }));
        fresh.sort_by_key(|d| (d.span.start, d.span.end));
        for d in fresh {
            let key = (d.span.start, d.span.end);
            let at = m
                .diagnostics
                .partition_point(|x| (x.span.start, x.span.end) <= key);
            m.diagnostics.insert(at, d);
        }
        (!same).then_some(Edited {
            function: fi,
            op,
            old: old_op,
            old_types,
        })
    }
}
